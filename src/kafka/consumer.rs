//! A consumer through rdkafka: partitions assigned, or the group's members' share of
//! subscribed topics (`membership`); read_committed. What librdkafka fetched is kept per
//! partition (`buffer`), handed out in turns across partitions, and moved back among without
//! fetching again; positions are the next offset to read, past the transaction markers
//! librdkafka skipped; commits send those positions to the group.
//!
//! May import what `kafka` does.

use super::buffer::PartitionBuffer;
use super::membership::GroupContext;
use super::{TIMEOUT, backend};
use crate::transport::{
    AutoOffsetReset, Consumer, GroupMetadata, Header, PartitionRecords, Rebalance, Record, Result,
    StartFrom, TopicPartition, TransportError,
};
use bytes::Bytes;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer as _};
use rdkafka::message::{Headers, Message};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

type Client = BaseConsumer<GroupContext>;

/// Records fetched ahead of what was handed out, over all partitions, past which a poll
/// fetches no more (librdkafka keeps fetching into its own bounded queue meanwhile).
const MAX_BUFFERED: usize = 100_000;

pub struct KafkaConsumer {
    config: ClientConfig,
    group: Option<String>,
    consumer: Option<Client>,
    /// The fetched records and position of each partition the consumer reads (its
    /// assignment).
    partitions: BTreeMap<TopicPartition, PartitionBuffer>,
    /// The partition handed out first by the next poll, so none starves.
    rotation: usize,
    /// A subscribed consumer's rebalances and starts, noted by its callbacks.
    context: GroupContext,
    /// Rebalances taken from the callbacks, not yet taken by the caller.
    rebalances: Vec<Rebalance>,
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
            partitions: BTreeMap::new(),
            rotation: 0,
            context: GroupContext::new(),
            rebalances: Vec::new(),
        })
    }

    fn client(&self) -> Result<&Client> {
        self.consumer
            .as_ref()
            .ok_or_else(|| TransportError::InvalidArgument("the consumer has no assignment".into()))
    }

    /// Where `start` puts a partition's position.
    fn start_offset(consumer: &Client, tp: &TopicPartition, start: StartFrom) -> Result<i64> {
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
    /// Takes what the rebalance callbacks noted: the assignment changes (to hand on), the
    /// starts of new partitions; returns the partitions revoked.
    fn take_noted(&mut self) -> Result<Vec<TopicPartition>> {
        let noted = {
            let mut noted = self.context.noted.lock().map_err(|_| {
                TransportError::Backend("the consumer's rebalance notes are poisoned".into())
            })?;
            std::mem::take(&mut *noted)
        };
        if let Some(error) = noted.error {
            return Err(TransportError::Backend(error));
        }
        let mut revoked = Vec::new();
        for rebalance in &noted.rebalances {
            if let Rebalance::Revoked(tps) = rebalance {
                for tp in tps {
                    self.partitions.remove(tp);
                    revoked.push(tp.clone());
                }
            }
        }
        for (tp, start) in noted.starts {
            self.partitions
                .insert(tp, PartitionBuffer::starting_at(start));
        }
        self.rebalances.extend(noted.rebalances);
        Ok(revoked)
    }

    /// Moves what librdkafka has fetched into the partitions' buffers, waiting up to
    /// `timeout` when none has a record to hand out.
    fn fetch(&mut self, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            let buffered: usize = self.partitions.values().map(|b| b.available()).sum();
            let wait = match buffered {
                0 => deadline.saturating_duration_since(Instant::now()),
                _ => Duration::ZERO,
            };
            if buffered >= MAX_BUFFERED {
                return Ok(());
            }
            let polled = self.client()?.poll(wait);
            let fetched = match polled {
                None => None,
                Some(Err(e)) => return Err(backend("consuming", e)),
                Some(Ok(message)) => {
                    let tp = TopicPartition::new(message.topic(), message.partition() as u32);
                    Some((tp, record_of(&message)))
                }
            };
            self.take_noted()?;
            match fetched {
                // A partition revoked while this poll ran: its records are not ours.
                Some((tp, record)) => {
                    if let Some(buffer) = self.partitions.get_mut(&tp) {
                        buffer.push(record);
                    }
                }
                None if buffered > 0 || wait.is_zero() => return Ok(()),
                None => {}
            }
        }
    }

    /// Tells each buffer librdkafka's position: past the records it handed out and the
    /// transaction markers it skipped after them (right after an assignment or a seek it has
    /// none).
    fn refresh_positions(&mut self) -> Result<()> {
        let Some(consumer) = &self.consumer else {
            return Ok(());
        };
        let list = consumer
            .position()
            .map_err(|e| backend("reading positions", e))?;
        for e in list.elements() {
            let tp = TopicPartition::new(e.topic(), e.partition() as u32);
            if let (Offset::Offset(offset), Some(buffer)) =
                (e.offset(), self.partitions.get_mut(&tp))
            {
                buffer.fetched_to(offset);
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
        let consumer: Client = self
            .config
            .create_with_context(self.context.clone())
            .map_err(|e| backend("consumer", e))?;
        let mut list = TopicPartitionList::new();
        self.partitions.clear();
        for (tp, start) in partitions {
            let offset = Self::start_offset(&consumer, tp, *start)?;
            list.add_partition_offset(&tp.topic, tp.partition as i32, Offset::Offset(offset))
                .map_err(|e| backend("assigning", e))?;
            self.partitions
                .insert(tp.clone(), PartitionBuffer::starting_at(offset));
        }
        consumer
            .assign(&list)
            .map_err(|e| backend("assigning", e))?;
        self.consumer = Some(consumer);
        Ok(())
    }

    fn poll(&mut self, max_records: usize, timeout: Duration) -> Result<Vec<PartitionRecords>> {
        self.fetch(timeout)?;
        self.refresh_positions()?;
        let count = self.partitions.len();
        let mut budget = max_records.max(1);
        let mut out = Vec::new();
        let keys: Vec<TopicPartition> = self.partitions.keys().cloned().collect();
        for i in 0..count {
            if budget == 0 {
                break;
            }
            let tp = &keys[(self.rotation + i) % count];
            let Some(buffer) = self.partitions.get_mut(tp) else {
                continue;
            };
            let records = buffer.take(budget);
            buffer.trim();
            if records.is_empty() {
                continue;
            }
            budget -= records.len();
            out.push((tp.clone(), records));
        }
        self.rotation = if count == 0 {
            0
        } else {
            (self.rotation + 1) % count
        };
        Ok(out
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
        self.partitions.get(tp).map(PartitionBuffer::position)
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

    /// Among the records fetched, moves back or forth without fetching again; elsewhere,
    /// seeks and starts over.
    fn seek(&mut self, tp: &TopicPartition, offset: i64) -> Result<()> {
        if self
            .partitions
            .get_mut(tp)
            .is_some_and(|b| b.rewind(offset))
        {
            return Ok(());
        }
        self.client()?
            .seek(
                &tp.topic,
                tp.partition as i32,
                Offset::Offset(offset),
                TIMEOUT,
            )
            .map_err(|e| backend("seeking", e))?;
        self.partitions
            .insert(tp.clone(), PartitionBuffer::starting_at(offset));
        Ok(())
    }

    fn commit(&mut self) -> Result<()> {
        let mut list = TopicPartitionList::new();
        for (tp, buffer) in &self.partitions {
            let offset = Offset::Offset(buffer.position());
            list.add_partition_offset(&tp.topic, tp.partition as i32, offset)
                .map_err(|e| backend("committing", e))?;
        }
        self.client()?
            .commit(&list, CommitMode::Sync)
            .map_err(|e| backend("committing offsets", e))
    }

    fn subscribe(&mut self, topics: &[String], fallback: AutoOffsetReset) -> Result<()> {
        if self.group.is_none() {
            return Err(TransportError::InvalidArgument(
                "subscribing needs a consumer group".into(),
            ));
        }
        self.context.fallback = fallback;
        let mut config = self.config.clone();
        config.set("partition.assignment.strategy", "range");
        let consumer: Client = config
            .create_with_context(self.context.clone())
            .map_err(|e| backend("consumer", e))?;
        let names: Vec<&str> = topics.iter().map(String::as_str).collect();
        consumer
            .subscribe(&names)
            .map_err(|e| backend(&format!("subscribing to {}", names.join(", ")), e))?;
        self.partitions.clear();
        self.consumer = Some(consumer);
        Ok(())
    }

    fn assignment(&self) -> Vec<TopicPartition> {
        self.partitions.keys().cloned().collect()
    }

    fn take_rebalances(&mut self) -> Vec<Rebalance> {
        std::mem::take(&mut self.rebalances)
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
fn cached_high_watermark(consumer: &Client, topic: &str, partition: i32) -> Option<i64> {
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
