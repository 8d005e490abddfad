//! Producers through rdkafka: partitions chosen as Kafka's Java client and Brook's embedded
//! producer choose them (murmur2 of the key, round-robin without one), delivery reports
//! gathered into the appended offsets `flush` (or a transaction's commit) returns. `Sender` is
//! what the plain and the transactional producer share.
//!
//! May import what `kafka` does.

use super::{TIMEOUT, backend};
use crate::transport::{
    AppendOutcome, Producer, ProducerRecord, Result, TopicPartition, TransportError,
    choose_partition,
};
use rdkafka::ClientConfig;
use rdkafka::ClientContext;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{DeliveryResult, Header, Message, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer as _, ProducerContext};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

/// A delivery report: (topic, partition, offset), or what failed.
type Report = std::result::Result<(String, u32, i64), String>;
type Delivered = Arc<Mutex<Vec<Report>>>;

pub(super) struct Deliveries(Delivered);

impl ClientContext for Deliveries {}

impl ProducerContext for Deliveries {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        let report = match result {
            Ok(m) => Ok((m.topic().to_string(), m.partition() as u32, m.offset())),
            Err((e, m)) => Err(format!("{}-{}: {e}", m.topic(), m.partition())),
        };
        if let Ok(mut delivered) = self.0.lock() {
            delivered.push(report);
        }
    }
}

/// An rdkafka producer with Kafka's partitioning and its delivery reports.
pub(super) struct Sender {
    pub(super) producer: BaseProducer<Deliveries>,
    delivered: Delivered,
    /// Partition counts of the topics sent to so far.
    counts: HashMap<String, u32>,
    round_robin: HashMap<String, u32>,
}

impl Sender {
    pub(super) fn new(config: &ClientConfig) -> Result<Sender> {
        let delivered = Delivered::default();
        let producer = config
            .create_with_context(Deliveries(delivered.clone()))
            .map_err(|e| backend("creating a producer", e))?;
        Ok(Sender {
            producer,
            delivered,
            counts: HashMap::new(),
            round_robin: HashMap::new(),
        })
    }

    /// The partition count of `topic`, asked of the cluster the first time.
    fn partition_count(&mut self, topic: &str) -> Result<u32> {
        if let Some(count) = self.counts.get(topic) {
            return Ok(*count);
        }
        let metadata = self
            .producer
            .client()
            .fetch_metadata(Some(topic), TIMEOUT)
            .map_err(|e| backend(&format!("reading the metadata of topic {topic}"), e))?;
        let count = metadata
            .topics()
            .iter()
            .find(|t| t.name() == topic && t.error().is_none())
            .map(|t| t.partitions().len() as u32)
            .filter(|n| *n > 0)
            .ok_or_else(|| TransportError::UnknownTopic(topic.to_string()))?;
        self.counts.insert(topic.to_string(), count);
        Ok(count)
    }

    /// Queues a record; returns its partition.
    pub(super) fn send(
        &mut self,
        topic: &str,
        partition: Option<u32>,
        record: &ProducerRecord,
    ) -> Result<u32> {
        let count = self.partition_count(topic)?;
        let key = record.key.as_deref();
        let p = choose_partition(&mut self.round_robin, topic, count, partition, key)?;
        let mut headers = OwnedHeaders::new();
        for h in &record.headers {
            headers = headers.insert(Header {
                key: &h.key,
                value: h.value.as_deref(),
            });
        }
        loop {
            let mut base: BaseRecord<'_, [u8], [u8]> = BaseRecord::to(topic)
                .partition(p as i32)
                .headers(headers.clone());
            if let Some(key) = record.key.as_deref() {
                base = base.key(key);
            }
            if let Some(value) = record.value.as_deref() {
                base = base.payload(value);
            }
            if let Some(ts) = record.timestamp {
                base = base.timestamp(ts);
            }
            match self.producer.send(base) {
                Ok(()) => return Ok(p),
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                    self.producer.poll(std::time::Duration::from_millis(100));
                }
                Err((e, _)) => return Err(backend(&format!("producing to {topic}"), e)),
            }
        }
    }

    /// The delivery reports since the last call, as the offsets appended per partition; an
    /// error if a record was not delivered.
    pub(super) fn take_outcomes(&mut self) -> Result<Vec<(TopicPartition, AppendOutcome)>> {
        let reports = self.take_reports()?;
        let mut ranges: BTreeMap<(String, u32), (i64, i64)> = BTreeMap::new();
        for report in reports {
            let (topic, partition, offset) = report
                .map_err(|e| TransportError::Backend(format!("a record was not delivered: {e}")))?;
            let range = ranges.entry((topic, partition)).or_insert((offset, offset));
            range.0 = range.0.min(offset);
            range.1 = range.1.max(offset);
        }
        Ok(ranges
            .into_iter()
            .map(|((topic, partition), (base, last))| {
                let outcome = AppendOutcome {
                    partition,
                    base_offset: base,
                    last_offset: last,
                };
                (TopicPartition::new(&topic, partition), outcome)
            })
            .collect())
    }

    /// Waits until every record queued is acknowledged (or failed), serving delivery reports
    /// as they come. (rust-rdkafka's `flush` serves them in 100 ms slices, so it returned up to
    /// 100 ms after the last acknowledgement: a step's commit took 100 ms on any broker.)
    pub(super) fn flush(&self, timeout: std::time::Duration) -> Result<()> {
        let deadline = std::time::Instant::now() + timeout;
        while self.producer.in_flight_count() > 0 {
            if std::time::Instant::now() > deadline {
                return Err(TransportError::Backend(format!(
                    "{} record(s) not acknowledged within {} s",
                    self.producer.in_flight_count(),
                    timeout.as_secs()
                )));
            }
            self.producer.poll(std::time::Duration::from_millis(1));
        }
        Ok(())
    }

    /// Forgets the delivery reports so far (an aborted transaction's).
    pub(super) fn take_reports(&mut self) -> Result<Vec<Report>> {
        Ok(std::mem::take(&mut *self.delivered.lock().map_err(
            |_| TransportError::Backend("the producer's delivery reports are poisoned".into()),
        )?))
    }
}

/// A plain (idempotent) producer.
pub struct KafkaProducer {
    sender: Sender,
}

impl KafkaProducer {
    pub fn new(mut config: ClientConfig) -> Result<KafkaProducer> {
        config
            .set("enable.idempotence", "true")
            .set("linger.ms", "5");
        Ok(KafkaProducer {
            sender: Sender::new(&config)?,
        })
    }
}

impl Producer for KafkaProducer {
    fn send(&mut self, topic: &str, partition: Option<u32>, record: ProducerRecord) -> Result<u32> {
        self.sender.send(topic, partition, &record)
    }

    fn flush(&mut self) -> Result<Vec<(TopicPartition, AppendOutcome)>> {
        self.sender.flush(TIMEOUT)?;
        self.sender.take_outcomes()
    }
}

impl Drop for KafkaProducer {
    fn drop(&mut self) {
        let _ = self.sender.producer.flush(TIMEOUT);
    }
}
