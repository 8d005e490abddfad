//! Per persistent query measurements for `/metrics`: records consumed and written since it
//! started in this process, its lag (records in its source partitions beyond its committed
//! offsets), its bad and late records (processing-log errors), whether it runs, and the size
//! of its state directory.

use super::Engine;
use crate::exec::ErrorKind;
use crate::transport::{OffsetSpec, TopicPartition};
use std::sync::atomic::Ordering;

/// One query's measurements.
#[derive(Clone, Debug, PartialEq)]
pub struct QueryMetrics {
    pub id: String,
    pub records_in: u64,
    pub records_out: u64,
    /// Records of the source not yet consumed and committed (`None`: unknown).
    pub lag: Option<i64>,
    /// Records that went to the processing log as undecodable or failing expressions.
    pub bad_records: u64,
    /// Records that arrived after their window closed.
    pub late_records: u64,
    pub running: bool,
    /// Bytes of its state directory (0 for a query without state).
    pub state_bytes: u64,
}

impl Engine {
    /// Every persistent query's measurements, by id.
    pub fn query_metrics(&self) -> Vec<QueryMetrics> {
        self.catalog
            .queries
            .values()
            .map(|q| {
                let counters = self.counters.get(&q.id);
                let count =
                    |f: fn(&crate::exec::QueryCounters) -> u64| counters.map_or(0, |c| f(c));
                QueryMetrics {
                    id: q.id.clone(),
                    records_in: count(|c| c.records_in.load(Ordering::Relaxed)),
                    records_out: count(|c| c.records_out.load(Ordering::Relaxed)),
                    lag: self.lag(&q.id, &q.sources),
                    bad_records: self.processing_error_count(&q.id, ErrorKind::Bad),
                    late_records: self.processing_error_count(&q.id, ErrorKind::Late),
                    running: self.query_failure(&q.id).is_none(),
                    state_bytes: self
                        .state_root
                        .as_ref()
                        .map_or(0, |root| dir_size(&root.join(&q.id))),
                }
            })
            .collect()
    }

    /// End offsets minus the query's committed offsets, over its sources' partitions.
    fn lag(&self, id: &str, sources: &[String]) -> Option<i64> {
        let group = self.names.query_group(id);
        let mut lag = 0;
        for name in sources {
            let topic = &self.catalog.sources.get(name)?.topic;
            let committed = self.transport.committed_offsets(&group, topic).ok()?;
            for p in 0..self.transport.partition_count(topic).ok()? {
                let end = self
                    .transport
                    .list_offset(&TopicPartition::new(topic, p), OffsetSpec::Latest)
                    .ok()?;
                let done = committed
                    .iter()
                    .find(|(q, _)| *q == p)
                    .map_or(0, |(_, o)| *o);
                lag += (end - done).max(0);
            }
        }
        Some(lag)
    }
}

/// Bytes of the files under `path` (0 when it does not exist).
fn dir_size(path: &std::path::Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_size(&e.path()),
            _ => e.metadata().map_or(0, |m| m.len()),
        })
        .sum()
}
