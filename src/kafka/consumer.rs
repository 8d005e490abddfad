//! A consumer through rdkafka: partitions assigned (no group membership), read_committed,
//! positions as librdkafka reports them (the next offset to read, past transaction markers), and
//! commits of those positions to the group.
//!
//! May import what `kafka` does.

use super::{TIMEOUT, backend};
use crate::transport::{
    AutoOffsetReset, Consumer, GroupMetadata, Header, PartitionRecords, Record, Result, StartFrom,
    TopicPartition, TransportError,
};
use bytes::Bytes;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer as _};
use rdkafka::message::{Headers, Message};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct KafkaConsumer {
    config: ClientConfig,
    group: Option<String>,
    consumer: Option<BaseConsumer>,
    positions: BTreeMap<TopicPartition, i64>,
}

impl KafkaConsumer {
    pub fn new(mut config: ClientConfig, group: Option<&str>) -> Result<KafkaConsumer> {
        config
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("isolation.level", "read_committed")
            // A seek (a step rolled back) waits out the fetch in flight: keep it short.
            .set("fetch.wait.max.ms", "100");
        // librdkafka wants a group even to assign partitions; without one, a private group
        // that is never committed to.
        let private = format!("brook-{}-{}", std::process::id(), fastrand::u32(..));
        config.set("group.id", group.unwrap_or(&private));
        Ok(KafkaConsumer {
            config,
            group: group.map(str::to_string),
            consumer: None,
            positions: BTreeMap::new(),
        })
    }

    fn client(&self) -> Result<&BaseConsumer> {
        self.consumer
            .as_ref()
            .ok_or_else(|| TransportError::InvalidArgument("the consumer has no assignment".into()))
    }

    /// Where `start` puts a partition's position.
    fn start_offset(consumer: &BaseConsumer, tp: &TopicPartition, start: StartFrom) -> Result<i64> {
        let partition = tp.partition as i32;
        let (low, high) = consumer
            .fetch_watermarks(&tp.topic, partition, TIMEOUT)
            .map_err(|e| backend("reading offsets", e))?;
        Ok(match start {
            StartFrom::Earliest => low,
            StartFrom::Latest => high,
            StartFrom::Offset(o) => o,
            StartFrom::Committed { fallback } => {
                let mut list = TopicPartitionList::new();
                list.add_partition(&tp.topic, partition);
                let committed = consumer
                    .committed_offsets(list, TIMEOUT)
                    .map_err(|e| backend("reading committed offsets", e))?;
                match committed
                    .find_partition(&tp.topic, partition)
                    .map(|e| e.offset())
                {
                    Some(Offset::Offset(o)) => o,
                    _ if fallback == AutoOffsetReset::Earliest => low,
                    _ => high,
                }
            }
        })
    }
}

impl KafkaConsumer {
    /// Takes each partition's position from librdkafka: the next offset to read, past the
    /// transaction markers it has skipped (not the last record's offset + 1). Right after an
    /// assignment or a seek it has none, and the one set then stands.
    fn refresh_positions(&mut self) -> Result<()> {
        let Some(consumer) = &self.consumer else {
            return Ok(());
        };
        let list = consumer
            .position()
            .map_err(|e| backend("reading positions", e))?;
        for e in list.elements() {
            if let Offset::Offset(offset) = e.offset() {
                let tp = TopicPartition::new(e.topic(), e.partition() as u32);
                self.positions.insert(tp, offset);
            }
        }
        Ok(())
    }
}

fn record_of(m: &rdkafka::message::BorrowedMessage<'_>) -> Record {
    let headers = m
        .headers()
        .map(|hs| {
            hs.iter()
                .map(|h| Header {
                    key: h.key.to_string(),
                    value: h.value.map(Bytes::copy_from_slice),
                })
                .collect()
        })
        .unwrap_or_default();
    Record {
        offset: m.offset(),
        timestamp: m.timestamp().to_millis().unwrap_or(-1),
        key: m.key().map(Bytes::copy_from_slice),
        value: m.payload().map(Bytes::copy_from_slice),
        headers,
    }
}

impl Consumer for KafkaConsumer {
    fn assign(&mut self, partitions: &[(TopicPartition, StartFrom)]) -> Result<()> {
        let consumer: BaseConsumer = self.config.create().map_err(|e| backend("consumer", e))?;
        let mut list = TopicPartitionList::new();
        self.positions.clear();
        for (tp, start) in partitions {
            let offset = Self::start_offset(&consumer, tp, *start)?;
            list.add_partition_offset(&tp.topic, tp.partition as i32, Offset::Offset(offset))
                .map_err(|e| backend("assigning", e))?;
            self.positions.insert(tp.clone(), offset);
        }
        consumer
            .assign(&list)
            .map_err(|e| backend("assigning", e))?;
        self.consumer = Some(consumer);
        Ok(())
    }

    fn poll(&mut self, max_records: usize, timeout: Duration) -> Result<Vec<PartitionRecords>> {
        let deadline = Instant::now() + timeout;
        let mut by_partition: BTreeMap<TopicPartition, Vec<Record>> = BTreeMap::new();
        let mut taken = 0;
        let consumer = self.consumer.as_ref().ok_or_else(|| {
            TransportError::InvalidArgument("the consumer has no assignment".into())
        })?;
        while taken < max_records {
            let left = deadline.saturating_duration_since(Instant::now());
            let Some(polled) = consumer.poll(left) else {
                break;
            };
            let message = polled.map_err(|e| backend("consuming", e))?;
            let tp = TopicPartition::new(message.topic(), message.partition() as u32);
            by_partition
                .entry(tp)
                .or_default()
                .push(record_of(&message));
            taken += 1;
            if left.is_zero() {
                break;
            }
        }
        self.refresh_positions()?;
        Ok(by_partition
            .into_iter()
            .map(|(tp, records)| {
                let high_watermark = self.end_offset(&tp).unwrap_or(-1);
                PartitionRecords {
                    topic: Arc::from(tp.topic.as_str()),
                    partition: tp.partition,
                    records,
                    high_watermark,
                }
            })
            .collect())
    }

    fn position(&self, tp: &TopicPartition) -> Option<i64> {
        self.positions.get(tp).copied()
    }

    /// The high watermark of the last fetch (no request), or asked of the broker before one.
    fn end_offset(&self, tp: &TopicPartition) -> Option<i64> {
        let consumer = self.consumer.as_ref()?;
        let partition = tp.partition as i32;
        match cached_high_watermark(consumer, &tp.topic, partition) {
            Some(high) => Some(high),
            None => {
                let (_, high) = consumer
                    .fetch_watermarks(&tp.topic, partition, TIMEOUT)
                    .ok()?;
                Some(high)
            }
        }
    }

    fn seek(&mut self, tp: &TopicPartition, offset: i64) -> Result<()> {
        self.client()?
            .seek(
                &tp.topic,
                tp.partition as i32,
                Offset::Offset(offset),
                TIMEOUT,
            )
            .map_err(|e| backend("seeking", e))?;
        self.positions.insert(tp.clone(), offset);
        Ok(())
    }

    fn commit(&mut self) -> Result<()> {
        let mut list = TopicPartitionList::new();
        for (tp, offset) in &self.positions {
            list.add_partition_offset(&tp.topic, tp.partition as i32, Offset::Offset(*offset))
                .map_err(|e| backend("committing", e))?;
        }
        self.client()?
            .commit(&list, CommitMode::Sync)
            .map_err(|e| backend("committing offsets", e))
    }

    fn group_metadata(&self) -> Option<GroupMetadata> {
        let group = self.group.clone()?;
        let native = self.consumer.as_ref().and_then(|c| c.group_metadata());
        Some(GroupMetadata {
            group,
            native: native.map(|n| Arc::new(n) as Arc<dyn std::any::Any + Send + Sync>),
        })
    }
}

/// The high watermark librdkafka kept from its last fetch of the partition (no request; rust
/// rdkafka does not wrap this call). `None` before a fetch.
fn cached_high_watermark(consumer: &BaseConsumer, topic: &str, partition: i32) -> Option<i64> {
    let topic = std::ffi::CString::new(topic).ok()?;
    let (mut low, mut high) = (-1i64, -1i64);
    // SAFETY: the client handle is alive for the borrow of `consumer`; the topic is a
    // NUL-terminated string that outlives the call; `low` and `high` are valid for writes.
    let err = unsafe {
        rdkafka::bindings::rd_kafka_get_watermark_offsets(
            consumer.client().native_ptr(),
            topic.as_ptr(),
            partition,
            &mut low,
            &mut high,
        )
    };
    (err == rdkafka::bindings::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR && high >= 0)
        .then_some(high)
}
