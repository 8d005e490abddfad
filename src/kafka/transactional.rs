//! A transactional producer through rdkafka (Kafka's exactly-once, KIP-98 and KIP-447):
//! `init_transactions` when created, which fences every earlier producer with the same
//! transactional id; records and group offsets committed together or not at all; what a commit
//! appended known from the delivery reports (a commit marker takes an offset after them).
//!
//! May import what `kafka` does.

use super::producer::Sender;
use super::{TIMEOUT, backend};
use crate::transport::{
    AppendOutcome, GroupMetadata, ProducerRecord, Result, TopicPartition, TransactionalProducer,
    TransportError,
};
use rdkafka::consumer::{BaseConsumer, Consumer as _, ConsumerGroupMetadata};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::Producer as _;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use std::collections::HashMap;
use std::sync::Arc;

pub struct KafkaTransactionalProducer {
    id: String,
    sender: Sender,
    config: ClientConfig,
    /// Metadata of groups named without a member (`GroupMetadata::named`), made once each.
    named_groups: HashMap<String, Arc<ConsumerGroupMetadata>>,
}

impl KafkaTransactionalProducer {
    /// Creates the producer and registers its transactional id, fencing older instances.
    pub fn new(mut config: ClientConfig, id: &str) -> Result<KafkaTransactionalProducer> {
        config
            .set("transactional.id", id)
            .set("enable.idempotence", "true")
            .set("linger.ms", "5");
        // A server killed mid-transaction leaves it open, hiding what follows it from
        // read_committed consumers until the coordinator aborts it: Kafka Streams' 10 s under
        // exactly-once, not librdkafka's 60 s (a setting of the user's stands).
        if config.get("transaction.timeout.ms").is_none() {
            config.set("transaction.timeout.ms", "10000");
        }
        let sender = Sender::new(&config)?;
        sender
            .producer
            .init_transactions(TIMEOUT)
            .map_err(|e| transaction_error(id, "registering the transactional id", e))?;
        Ok(KafkaTransactionalProducer {
            id: id.to_string(),
            sender,
            config,
            named_groups: HashMap::new(),
        })
    }

    /// The rdkafka metadata of `group`: the member's, or for a bare name one without member.
    fn native_group(&mut self, group: &GroupMetadata) -> Result<Arc<ConsumerGroupMetadata>> {
        if let Some(native) = &group.native
            && let Ok(native) = native.clone().downcast::<ConsumerGroupMetadata>()
        {
            return Ok(native);
        }
        if let Some(native) = self.named_groups.get(&group.group) {
            return Ok(native.clone());
        }
        let mut config = self.config.clone();
        config.remove("transactional.id");
        let consumer: BaseConsumer = config
            .set("group.id", &group.group)
            .create()
            .map_err(|e| backend("creating a consumer for group metadata", e))?;
        let native = consumer.group_metadata().ok_or_else(|| {
            TransportError::Backend(format!("no metadata for consumer group {}", group.group))
        })?;
        let native = Arc::new(native);
        self.named_groups
            .insert(group.group.clone(), native.clone());
        Ok(native)
    }
}

/// A transaction error: fencing said as such, anything else with what was being done.
fn transaction_error(id: &str, what: &str, e: KafkaError) -> TransportError {
    let fenced = matches!(
        e.rdkafka_error_code(),
        Some(
            RDKafkaErrorCode::ProducerFenced
                | RDKafkaErrorCode::InvalidProducerEpoch
                | RDKafkaErrorCode::Fenced
        )
    );
    if fenced {
        TransportError::Fenced(id.to_string())
    } else {
        TransportError::Transaction(format!("producer '{id}', {what}: {e}"))
    }
}

impl TransactionalProducer for KafkaTransactionalProducer {
    fn begin_transaction(&mut self) -> Result<()> {
        self.sender.take_reports()?;
        self.sender
            .producer
            .begin_transaction()
            .map_err(|e| transaction_error(&self.id, "beginning a transaction", e))
    }

    fn send(&mut self, topic: &str, partition: Option<u32>, record: ProducerRecord) -> Result<u32> {
        self.sender.send(topic, partition, &record)
    }

    fn send_offsets_to_transaction(
        &mut self,
        group: &GroupMetadata,
        offsets: &[(TopicPartition, i64)],
    ) -> Result<()> {
        let native = self.native_group(group)?;
        let mut list = TopicPartitionList::new();
        for (tp, offset) in offsets {
            list.add_partition_offset(&tp.topic, tp.partition as i32, Offset::Offset(*offset))
                .map_err(|e| backend("listing offsets", e))?;
        }
        self.sender
            .producer
            .send_offsets_to_transaction(&list, &native, TIMEOUT)
            .map_err(|e| transaction_error(&self.id, "adding offsets to the transaction", e))
    }

    fn commit_transaction(&mut self) -> Result<Vec<(TopicPartition, AppendOutcome)>> {
        // Acknowledged first, so that the commit's own flush finds nothing to wait for.
        self.sender.flush(TIMEOUT)?;
        self.sender
            .producer
            .commit_transaction(TIMEOUT)
            .map_err(|e| transaction_error(&self.id, "committing", e))?;
        self.sender.take_outcomes()
    }

    fn abort_transaction(&mut self) -> Result<()> {
        // librdkafka aborts only once the delivery reports of what was sent are served, which
        // a base producer does when polled (flush polls); a failure shows in the abort.
        let _ = self.sender.flush(TIMEOUT);
        let aborted = self
            .sender
            .producer
            .abort_transaction(TIMEOUT)
            .map_err(|e| transaction_error(&self.id, "aborting", e));
        self.sender.take_reports()?;
        aborted
    }
}
