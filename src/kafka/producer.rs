//! A producer through rdkafka: partitions chosen as Kafka's Java client and Brook's embedded
//! producer choose them (murmur2 of the key, round-robin without one), delivery reports
//! gathered into the appended offsets `flush` returns.
//!
//! May import what `kafka` does.

use super::{KafkaTransport, TIMEOUT, backend};
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

/// Delivery reports: (topic, partition, offset), or what failed.
type Delivered = Arc<Mutex<Vec<std::result::Result<(String, u32, i64), String>>>>;

struct Deliveries(Delivered);

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

pub struct KafkaProducer {
    producer: BaseProducer<Deliveries>,
    delivered: Delivered,
    counts: HashMap<String, u32>,
    round_robin: HashMap<String, u32>,
}

impl KafkaProducer {
    pub fn new(mut config: ClientConfig, transport: &KafkaTransport) -> Result<KafkaProducer> {
        let delivered = Delivered::default();
        let producer = config
            .set("enable.idempotence", "true")
            .set("linger.ms", "5")
            .create_with_context(Deliveries(delivered.clone()))
            .map_err(|e| backend("producer", e))?;
        let counts = transport.admin.topics()?.into_iter().collect();
        Ok(KafkaProducer {
            producer,
            delivered,
            counts,
            round_robin: HashMap::new(),
        })
    }
}

impl Producer for KafkaProducer {
    fn send(&mut self, topic: &str, partition: Option<u32>, record: ProducerRecord) -> Result<u32> {
        let count = *self
            .counts
            .get(topic)
            .ok_or_else(|| TransportError::UnknownTopic(topic.to_string()))?;
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

    fn flush(&mut self) -> Result<Vec<(TopicPartition, AppendOutcome)>> {
        self.producer
            .flush(TIMEOUT)
            .map_err(|e| backend("flushing the producer", e))?;
        let reports = std::mem::take(&mut *self.delivered.lock().map_err(|_| {
            TransportError::Backend("the producer's delivery reports are poisoned".into())
        })?);
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
}

impl Drop for KafkaProducer {
    fn drop(&mut self) {
        let _ = self.producer.flush(TIMEOUT);
    }
}
