//! The embedded consumer: reads assigned partitions from tracked positions, long-polls when
//! there is nothing new, and commits positions to its group. It reads committed data only
//! (Kafka's read_committed): up to the last stable offset, no aborted transaction's records.

use super::embedded::LogInner;
use super::topic::Topic;
use crate::transport::{
    AutoOffsetReset, Consumer, GroupMetadata, PartitionRecords, Rebalance, Record, Result,
    StartFrom, TopicPartition, TransportError,
};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Assigned {
    tp: TopicPartition,
    name: Arc<str>,
    topic: Arc<Topic>,
    position: i64,
    /// Records already read (CRC-checked and decoded) but not yet returned because a poll's
    /// budget ended inside a stored batch; valid only while `position` is still `pending_at`.
    pending: Vec<Record>,
    pending_at: i64,
    /// Where reading continues once `pending` is returned.
    pending_next: i64,
}

impl Assigned {
    fn new(tp: TopicPartition, name: Arc<str>, topic: Arc<Topic>, position: i64) -> Self {
        Assigned {
            tp,
            name,
            topic,
            position,
            pending: Vec::new(),
            pending_at: position,
            pending_next: position,
        }
    }

    /// Moves up to `budget` records to `out`; keeps the rest for the next poll.
    fn take(&mut self, mut records: Vec<Record>, next: i64, budget: usize, out: &mut Vec<Record>) {
        if records.len() > budget {
            let rest = records.split_off(budget);
            self.position = records.last().map_or(self.position, |r| r.offset + 1);
            self.pending = rest;
            self.pending_at = self.position;
            self.pending_next = next;
        } else {
            self.position = next;
        }
        if out.is_empty() {
            *out = records;
        } else {
            out.extend(records);
        }
    }
}

pub struct EmbeddedConsumer {
    inner: Arc<LogInner>,
    group: Option<String>,
    assigned: Vec<Assigned>,
    /// Partition to read first on the next poll, so none starves.
    rotation: usize,
    /// An error met after other partitions had returned records: those records were returned
    /// (their positions moved past them), and the next poll reports it.
    deferred: Option<TransportError>,
    /// Assignments made by `subscribe`, not yet taken.
    rebalances: Vec<Rebalance>,
}

impl EmbeddedConsumer {
    pub(super) fn new(inner: Arc<LogInner>, group: Option<&str>) -> Self {
        EmbeddedConsumer {
            inner,
            group: group.map(str::to_string),
            assigned: Vec::new(),
            rotation: 0,
            deferred: None,
            rebalances: Vec::new(),
        }
    }

    fn resolve(&self, tp: &TopicPartition, topic: &Topic, start: StartFrom) -> Result<i64> {
        let partition = topic.partition(tp.partition)?;
        let reset = |r: AutoOffsetReset| match r {
            AutoOffsetReset::Earliest => partition.start_offset(),
            AutoOffsetReset::Latest => partition.last_stable_offset(),
        };
        Ok(match start {
            StartFrom::Earliest => partition.start_offset(),
            StartFrom::Latest => partition.last_stable_offset(),
            StartFrom::Offset(o) => o,
            StartFrom::Committed { fallback } => {
                let group = self.group.as_deref().ok_or_else(|| {
                    TransportError::InvalidArgument(
                        "starting from committed offsets needs a consumer group".into(),
                    )
                })?;
                let committed = self.inner.groups()?.committed(group, &tp.topic);
                committed
                    .iter()
                    .find(|(p, _)| *p == tp.partition)
                    .map_or_else(|| reset(fallback), |(_, o)| *o)
            }
        })
    }

    /// One pass over the assigned partitions without waiting. An error after some records were
    /// read is kept for the next poll, so that those records are not lost with it.
    fn fetch_once(&mut self, max_records: usize) -> Result<Vec<PartitionRecords>> {
        if let Some(error) = self.deferred.take() {
            return Err(error);
        }
        let mut out = Vec::new();
        let mut budget = max_records;
        let n = self.assigned.len();
        for i in 0..n {
            if budget == 0 {
                break;
            }
            let idx = (self.rotation + i) % n;
            match self.fetch_partition(idx, budget) {
                Ok(Some(batch)) => {
                    budget -= batch.records.len();
                    out.push(batch);
                }
                Ok(None) => {}
                Err(error) if out.is_empty() => return Err(error),
                Err(error) => {
                    self.deferred = Some(error);
                    break;
                }
            }
        }
        self.rotation = if n == 0 { 0 } else { (self.rotation + 1) % n };
        Ok(out)
    }

    fn fetch_partition(&mut self, idx: usize, budget: usize) -> Result<Option<PartitionRecords>> {
        let max_bytes = self.inner.config.max_fetch_bytes;
        let a = &mut self.assigned[idx];
        let topic = a.topic.clone();
        let partition = topic.partition(a.tp.partition)?;
        if a.position < partition.start_offset() {
            tracing::warn!(
                "{}: offset {} was removed by retention; continuing at {}",
                a.tp,
                a.position,
                partition.start_offset()
            );
            a.position = partition.start_offset();
        }
        if a.position > partition.end_offset() {
            let (topic, start) = (a.tp.topic.clone(), partition.start_offset());
            return Err(TransportError::OffsetOutOfRange {
                topic,
                partition: a.tp.partition,
                offset: a.position,
                start,
                end: partition.end_offset(),
            });
        }
        // Read committed: nothing at or after the first open transaction.
        let end = partition.last_stable_offset();
        if a.position >= end {
            return Ok(None);
        }
        let mut records = Vec::new();
        if !a.pending.is_empty() && a.pending_at == a.position {
            let pending = std::mem::take(&mut a.pending);
            a.take(pending, a.pending_next, budget, &mut records);
        } else {
            a.pending = Vec::new();
        }
        let budget = budget - records.len();
        if budget > 0 && a.pending.is_empty() && a.position < end {
            let fetched = partition.read(a.position, max_bytes)?;
            a.take(fetched.records, fetched.next_offset, budget, &mut records);
        }
        if records.is_empty() {
            return Ok(None);
        }
        Ok(Some(PartitionRecords {
            topic: a.name.clone(),
            partition: a.tp.partition,
            records,
            high_watermark: partition.last_stable_offset(),
        }))
    }
}

impl Consumer for EmbeddedConsumer {
    fn assign(&mut self, partitions: &[(TopicPartition, StartFrom)]) -> Result<()> {
        let mut assigned = Vec::with_capacity(partitions.len());
        for (tp, start) in partitions {
            let topic = self.inner.topic(&tp.topic)?;
            let position = self.resolve(tp, &topic, *start)?;
            assigned.push(Assigned::new(
                tp.clone(),
                topic.name.clone(),
                topic,
                position,
            ));
        }
        self.assigned = assigned;
        self.rotation = 0;
        self.deferred = None;
        Ok(())
    }

    fn poll(&mut self, max_records: usize, timeout: Duration) -> Result<Vec<PartitionRecords>> {
        let deadline = Instant::now() + timeout;
        loop {
            self.inner.check_open()?;
            let seen = self.inner.signal.current();
            let out = self.fetch_once(max_records.max(1))?;
            if !out.is_empty() || Instant::now() >= deadline {
                return Ok(out);
            }
            self.inner.signal.wait_past(seen, deadline);
        }
    }

    fn position(&self, tp: &TopicPartition) -> Option<i64> {
        self.assigned
            .iter()
            .find(|a| &a.tp == tp)
            .map(|a| a.position)
    }

    fn end_offset(&self, tp: &TopicPartition) -> Option<i64> {
        let a = self.assigned.iter().find(|a| &a.tp == tp)?;
        Some(a.topic.partition(tp.partition).ok()?.last_stable_offset())
    }

    fn seek(&mut self, tp: &TopicPartition, offset: i64) -> Result<()> {
        let a = self
            .assigned
            .iter_mut()
            .find(|a| &a.tp == tp)
            .ok_or_else(|| {
                TransportError::InvalidArgument(format!("{tp} is not assigned to this consumer"))
            })?;
        a.position = offset;
        a.pending = Vec::new();
        self.deferred = None;
        Ok(())
    }

    fn commit(&mut self) -> Result<()> {
        let group = self.group.as_deref().ok_or_else(|| {
            TransportError::InvalidArgument("commit needs a consumer group".into())
        })?;
        let offsets: Vec<(TopicPartition, i64)> = self
            .assigned
            .iter()
            .map(|a| (a.tp.clone(), a.position))
            .collect();
        self.inner.commit_group_offsets(group, &offsets)
    }

    fn group_metadata(&self) -> Option<GroupMetadata> {
        self.group.as_deref().map(GroupMetadata::named)
    }

    /// The embedded log's group has this one member: it gets every partition.
    fn subscribe(&mut self, topics: &[String], fallback: AutoOffsetReset) -> Result<()> {
        let mut partitions = Vec::new();
        for name in topics {
            let topic = self.inner.topic(name)?;
            let count = topic.partition_count();
            partitions.extend((0..count).map(|p| TopicPartition::new(name, p)));
        }
        let start = StartFrom::Committed { fallback };
        let assignment: Vec<(TopicPartition, StartFrom)> =
            partitions.iter().map(|tp| (tp.clone(), start)).collect();
        self.assign(&assignment)?;
        self.commit()?;
        self.rebalances.push(Rebalance::Assigned(partitions));
        Ok(())
    }

    fn assignment(&self) -> Vec<TopicPartition> {
        self.assigned.iter().map(|a| a.tp.clone()).collect()
    }

    fn take_rebalances(&mut self) -> Vec<Rebalance> {
        std::mem::take(&mut self.rebalances)
    }
}

#[cfg(test)]
mod tests {
    use crate::log::{EmbeddedLog, FlushPolicy, LogConfig};
    use crate::transport::{ProducerRecord, StartFrom, TopicConfig, TopicPartition, Transport};
    use std::time::Duration;

    fn log_with(dir: &std::path::Path, batches: &[usize]) -> EmbeddedLog {
        let config = LogConfig {
            flush: FlushPolicy::Never,
            ..LogConfig::default()
        };
        let log = EmbeddedLog::open(dir, config).expect("open");
        log.create_topic("t", &TopicConfig::with_partitions(1))
            .expect("create");
        let mut p = log.producer().expect("producer");
        let mut n = 0;
        for size in batches {
            for _ in 0..*size {
                let record = ProducerRecord::new(None::<Vec<u8>>, Some(format!("v{n}")));
                p.send("t", Some(0), record).expect("send");
                n += 1;
            }
            p.flush().expect("flush");
        }
        log
    }

    /// Offsets returned by polls of at most `max` records until nothing is left.
    fn drain(c: &mut dyn crate::transport::Consumer, max: usize) -> Vec<i64> {
        let mut seen = Vec::new();
        loop {
            let polled = c.poll(max, Duration::ZERO).expect("poll");
            let got: Vec<i64> = polled
                .iter()
                .flat_map(|p| &p.records)
                .map(|r| r.offset)
                .collect();
            assert!(got.len() <= max, "a poll returned {} > {max}", got.len());
            if got.is_empty() {
                return seen;
            }
            seen.extend(got);
        }
    }

    #[test]
    fn small_polls_across_big_batches_return_every_record_once_in_order() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = log_with(dir.path(), &[1000, 3, 500]);
        let tp = TopicPartition::new("t", 0);
        for max in [1, 7, 999, 1000, 1001, 1400, 5000] {
            let mut c = log.consumer(None).expect("consumer");
            c.assign(&[(tp.clone(), StartFrom::Earliest)])
                .expect("assign");
            assert_eq!(
                drain(&mut *c, max),
                (0..1503).collect::<Vec<i64>>(),
                "max {max}"
            );
            assert_eq!(c.position(&tp), Some(1503));
        }
    }

    #[test]
    fn a_seek_inside_a_partly_returned_batch_drops_what_was_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = log_with(dir.path(), &[100]);
        let tp = TopicPartition::new("t", 0);
        let mut c = log.consumer(None).expect("consumer");
        c.assign(&[(tp.clone(), StartFrom::Earliest)])
            .expect("assign");
        assert_eq!(drain_once(&mut *c, 10), (0..10).collect::<Vec<i64>>());
        c.seek(&tp, 5).expect("seek");
        assert_eq!(drain_once(&mut *c, 3), vec![5, 6, 7]);
        c.seek(&tp, 50).expect("seek");
        assert_eq!(drain(&mut *c, 30), (50..100).collect::<Vec<i64>>());
        c.seek(&tp, 8).expect("seek");
        assert_eq!(drain(&mut *c, 40), (8..100).collect::<Vec<i64>>());
    }

    fn drain_once(c: &mut dyn crate::transport::Consumer, max: usize) -> Vec<i64> {
        let polled = c.poll(max, Duration::ZERO).expect("poll");
        polled
            .iter()
            .flat_map(|p| &p.records)
            .map(|r| r.offset)
            .collect()
    }
}
