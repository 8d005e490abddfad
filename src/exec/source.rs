//! A query's source: the records of one polled partition decoded into a change batch. A record
//! with a value is an insert; a record without one (no bytes, or a JSON `null`) is a deletion
//! of its key, decoded as its key with NULL value columns, unless the query drops such records
//! at the source (`plan::logical::SourceNode::drops_null_values`), which reports each. Records
//! that cannot be decoded are reported and skipped (`exec::decode`).

use super::decode::Decoder;
use super::processing_log::{ProcessingError, ProcessingLog};
use crate::common::change::{ChangeBatch, Op};
use crate::plan::logical::SourceNode;
use crate::transport::Record;
use arrow::datatypes::SchemaRef;

pub struct SourceReader {
    decoder: Decoder,
    drops_null_values: Option<&'static str>,
    query_id: String,
}

impl SourceReader {
    /// `fatal_timestamp_errors`: a record without a valid event time stops the query.
    pub fn new(node: &SourceNode, query_id: &str, fatal_timestamp_errors: bool) -> SourceReader {
        SourceReader {
            decoder: Decoder::new(&node.source, query_id)
                .with_fatal_timestamp_errors(fatal_timestamp_errors),
            drops_null_values: node.drops_null_values,
            query_id: query_id.to_string(),
        }
    }

    pub fn schema(&self) -> SchemaRef {
        self.decoder.schema()
    }

    /// The records of one partition as changes, in offset order (`None` when none decode).
    /// `Err` (the query must stop) for a record without a valid event time when such errors
    /// are fatal.
    pub fn read(
        &self,
        topic: &str,
        partition: u32,
        records: &[Record],
        log: &mut dyn ProcessingLog,
    ) -> Result<Option<ChangeBatch>, String> {
        let null_values: Vec<bool> = records
            .iter()
            .map(|r| self.decoder.has_null_value(r))
            .collect();
        if !null_values.contains(&true) {
            let batch = self.decoder.decode(topic, partition, records, log)?;
            return Ok(batch.map(ChangeBatch::inserts));
        }
        let mut parts = Vec::new();
        for (range, null_value) in runs(&null_values) {
            let run = &records[range];
            let part = match (null_value, self.drops_null_values) {
                (false, _) => self
                    .decoder
                    .decode(topic, partition, run, log)?
                    .map(ChangeBatch::inserts),
                (true, None) => {
                    let deleted = self.decoder.decode_tombstones(topic, partition, run, log)?;
                    match deleted {
                        Some(rows) => {
                            let ops = vec![Op::Delete; rows.num_rows()];
                            Some(ChangeBatch::new(rows, ops).map_err(|e| e.to_string())?)
                        }
                        None => None,
                    }
                }
                (true, Some(why)) => {
                    self.report_dropped(why, topic, partition, run, log);
                    None
                }
            };
            parts.extend(part);
        }
        if parts.is_empty() {
            return Ok(None);
        }
        ChangeBatch::concat(&self.schema(), &parts)
            .map(Some)
            .map_err(|e| e.to_string())
    }

    fn report_dropped(
        &self,
        why: &str,
        topic: &str,
        partition: u32,
        records: &[Record],
        log: &mut dyn ProcessingLog,
    ) {
        for r in records {
            let message = super::ops::null_value_dropped(why);
            let error = ProcessingError::bad(&self.query_id, topic, partition, r.offset, message);
            log.report(error);
        }
    }
}

/// Index ranges of the runs of records with values and of records without (given whether
/// each record's value is null), in order.
fn runs(null_values: &[bool]) -> Vec<(std::ops::Range<usize>, bool)> {
    let mut out: Vec<(std::ops::Range<usize>, bool)> = Vec::new();
    for (i, null_value) in null_values.iter().enumerate() {
        match out.last_mut() {
            Some((range, last)) if *last == *null_value => range.end = i + 1,
            _ => out.push((i..i + 1, *null_value)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::runs;

    #[test]
    fn records_with_and_without_values_make_runs() {
        assert_eq!(
            runs(&[false, false, true, true, false]),
            vec![(0..2, false), (2..4, true), (4..5, false)]
        );
        assert!(runs(&[]).is_empty());
    }
}
