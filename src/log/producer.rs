//! The embedded producer: queues records per partition and appends them as batches on `flush`
//! (or when the queue grows large), choosing partitions as Kafka's default partitioner does.

use super::config::now_ms;
use super::embedded::LogInner;
use crate::transport::{
    AppendOutcome, Producer, ProducerRecord, Result, TopicPartition, choose_partition,
};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Records queued before `send` appends on its own.
const MAX_QUEUED_RECORDS: usize = 16_384;

pub struct EmbeddedProducer {
    inner: Arc<LogInner>,
    queued: BTreeMap<TopicPartition, Vec<ProducerRecord>>,
    queued_count: usize,
    round_robin: HashMap<String, u32>,
    done: Vec<(TopicPartition, AppendOutcome)>,
}

impl EmbeddedProducer {
    pub(super) fn new(inner: Arc<LogInner>) -> Self {
        EmbeddedProducer {
            inner,
            queued: BTreeMap::new(),
            queued_count: 0,
            round_robin: HashMap::new(),
            done: Vec::new(),
        }
    }

    fn append_queued(&mut self) -> Result<()> {
        let queued = std::mem::take(&mut self.queued);
        self.queued_count = 0;
        let now = now_ms();
        for (tp, records) in queued {
            let topic = self.inner.topic(&tp.topic)?;
            let outcome = topic.partition(tp.partition)?.append(&records, now)?;
            self.done.push((tp, outcome));
            self.inner.signal.notify();
        }
        Ok(())
    }
}

impl Producer for EmbeddedProducer {
    fn send(&mut self, topic: &str, partition: Option<u32>, record: ProducerRecord) -> Result<u32> {
        let count = self.inner.topic(topic)?.partition_count();
        let p = choose_partition(
            &mut self.round_robin,
            topic,
            count,
            partition,
            record.key.as_deref(),
        )?;
        self.queued
            .entry(TopicPartition::new(topic, p))
            .or_default()
            .push(record);
        self.queued_count += 1;
        if self.queued_count >= MAX_QUEUED_RECORDS {
            self.append_queued()?;
        }
        Ok(p)
    }

    fn flush(&mut self) -> Result<Vec<(TopicPartition, AppendOutcome)>> {
        self.append_queued()?;
        Ok(std::mem::take(&mut self.done))
    }
}
