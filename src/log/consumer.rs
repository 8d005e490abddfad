//! The embedded consumer: reads assigned partitions from tracked positions, long-polls when
//! there is nothing new, and commits positions to its group.

use super::embedded::LogInner;
use super::topic::Topic;
use crate::transport::{
    AutoOffsetReset, Consumer, PartitionRecords, Result, StartFrom, TopicPartition, TransportError,
};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Assigned {
    tp: TopicPartition,
    name: Arc<str>,
    topic: Arc<Topic>,
    position: i64,
}

pub struct EmbeddedConsumer {
    inner: Arc<LogInner>,
    group: Option<String>,
    assigned: Vec<Assigned>,
    /// Partition to read first on the next poll, so none starves.
    rotation: usize,
}

impl EmbeddedConsumer {
    pub(super) fn new(inner: Arc<LogInner>, group: Option<&str>) -> Self {
        EmbeddedConsumer {
            inner,
            group: group.map(str::to_string),
            assigned: Vec::new(),
            rotation: 0,
        }
    }

    fn resolve(&self, tp: &TopicPartition, topic: &Topic, start: StartFrom) -> Result<i64> {
        let partition = topic.partition(tp.partition)?;
        let reset = |r: AutoOffsetReset| match r {
            AutoOffsetReset::Earliest => partition.start_offset(),
            AutoOffsetReset::Latest => partition.end_offset(),
        };
        Ok(match start {
            StartFrom::Earliest => partition.start_offset(),
            StartFrom::Latest => partition.end_offset(),
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

    /// One pass over the assigned partitions without waiting.
    fn fetch_once(&mut self, max_records: usize) -> Result<Vec<PartitionRecords>> {
        let mut out = Vec::new();
        let mut budget = max_records;
        let n = self.assigned.len();
        for i in 0..n {
            if budget == 0 {
                break;
            }
            let idx = (self.rotation + i) % n;
            if let Some(batch) = self.fetch_partition(idx, budget)? {
                budget -= batch.records.len();
                out.push(batch);
            }
        }
        self.rotation = if n == 0 { 0 } else { (self.rotation + 1) % n };
        Ok(out)
    }

    fn fetch_partition(&mut self, idx: usize, budget: usize) -> Result<Option<PartitionRecords>> {
        let max_bytes = self.inner.config.max_fetch_bytes;
        let a = &mut self.assigned[idx];
        let partition = a.topic.partition(a.tp.partition)?;
        if a.position < partition.start_offset() {
            tracing::warn!(
                "{}: offset {} was removed by retention; continuing at {}",
                a.tp,
                a.position,
                partition.start_offset()
            );
            a.position = partition.start_offset();
        }
        let end = partition.end_offset();
        if a.position > end {
            let (topic, start) = (a.tp.topic.clone(), partition.start_offset());
            return Err(TransportError::OffsetOutOfRange {
                topic,
                partition: a.tp.partition,
                offset: a.position,
                start,
                end,
            });
        }
        if a.position == end {
            return Ok(None);
        }
        let fetched = partition.read(a.position, max_bytes)?;
        let mut records = fetched.records;
        a.position = match records.len() > budget {
            true => {
                records.truncate(budget);
                records.last().map_or(a.position, |r| r.offset + 1)
            }
            false => fetched.next_offset,
        };
        if records.is_empty() {
            return Ok(None);
        }
        Ok(Some(PartitionRecords {
            topic: a.name.clone(),
            partition: a.tp.partition,
            records,
            high_watermark: partition.end_offset(),
        }))
    }
}

impl Consumer for EmbeddedConsumer {
    fn assign(&mut self, partitions: &[(TopicPartition, StartFrom)]) -> Result<()> {
        let mut assigned = Vec::with_capacity(partitions.len());
        for (tp, start) in partitions {
            let topic = self.inner.topic(&tp.topic)?;
            let position = self.resolve(tp, &topic, *start)?;
            assigned.push(Assigned {
                tp: tp.clone(),
                name: topic.name.clone(),
                topic,
                position,
            });
        }
        self.assigned = assigned;
        self.rotation = 0;
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

    fn seek(&mut self, tp: &TopicPartition, offset: i64) -> Result<()> {
        let a = self
            .assigned
            .iter_mut()
            .find(|a| &a.tp == tp)
            .ok_or_else(|| {
                TransportError::InvalidArgument(format!("{tp} is not assigned to this consumer"))
            })?;
        a.position = offset;
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
        self.inner.groups()?.commit(group, &offsets)
    }
}
