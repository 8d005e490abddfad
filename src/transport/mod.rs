//! The log interface both backends implement: the embedded log (`crate::log`) and Kafka
//! (`crate::kafka`, through rdkafka).
//!
//! It speaks Kafka's model: topics of numbered partitions, `i64` offsets, millisecond
//! timestamps, nullable keys and values (a null value is a tombstone), headers, consumer-group
//! offset commits, and transactions that make output appends and offset commits atomic
//! (what exactly-once processing needs).
//!
//! Offsets are not dense: on Kafka a transaction's commit or abort marker takes an offset that
//! no consumer sees. So a position is always "the next offset to read", as the backend says it
//! (`Consumer::position`), never the last record's offset + 1; and what a commit appended is
//! known only from the records' acknowledgements.
//!
//! May import: nothing else in the crate (this is the bottom layer with `common`).

mod error;
mod partitioner;
mod read;
mod types;

pub use error::{IoContext, Result, TransportError};
pub use partitioner::{choose_partition, murmur2, partition_for_key};
pub use read::{read_to_end, read_until};
pub use types::*;

use std::time::Duration;

/// Topic administration, offset lookups, group offsets, and factories for producers and consumers.
pub trait Transport: Send + Sync {
    fn create_topic(&self, name: &str, config: &TopicConfig) -> Result<()>;
    fn delete_topic(&self, name: &str) -> Result<()>;
    /// Topic names in sorted order.
    fn list_topics(&self) -> Result<Vec<String>>;
    fn describe_topic(&self, name: &str) -> Result<TopicDescription>;
    fn partition_count(&self, topic: &str) -> Result<u32>;

    /// Resolves an offset of one partition (earliest, latest, or by timestamp).
    fn list_offset(&self, tp: &TopicPartition, spec: OffsetSpec) -> Result<i64>;

    /// Durably records `offset` (the next offset to read) for each partition under `group`.
    fn commit_offsets(&self, group: &str, offsets: &[(TopicPartition, i64)]) -> Result<()>;
    /// The committed offset of `group` for each partition of `topic` that has one.
    fn committed_offsets(&self, group: &str, topic: &str) -> Result<Vec<(u32, i64)>>;
    /// The groups that have committed offsets, in sorted order (Kafka's ListGroups).
    fn list_groups(&self) -> Result<Vec<String>>;
    /// Forgets every offset `group` committed (Kafka's DeleteGroups); no error if it has none.
    fn delete_group(&self, group: &str) -> Result<()>;
    /// The client ids of `group`'s members now (Kafka's DescribeGroups); none on the embedded
    /// log, whose groups have no members apart from this process's consumers.
    fn group_members(&self, group: &str) -> Result<Vec<String>>;

    /// A producer; records are acknowledged when `flush` returns.
    fn producer(&self) -> Result<Box<dyn Producer>>;
    /// A transactional producer. Creating one fences any earlier one with the same id.
    fn transactional_producer(
        &self,
        transactional_id: &str,
    ) -> Result<Box<dyn TransactionalProducer>>;
    /// A consumer, optionally in a group (needed for `StartFrom::Committed` and `commit`).
    fn consumer(&self, group: Option<&str>) -> Result<Box<dyn Consumer>>;
}

/// Appends records. `send` picks the partition (explicit, or by key as Kafka's default partitioner
/// does); nothing is acknowledged until `flush` returns `Ok`.
pub trait Producer: Send {
    /// Queues a record; returns the partition it will be appended to.
    fn send(&mut self, topic: &str, partition: Option<u32>, record: ProducerRecord) -> Result<u32>;
    /// Appends everything queued and waits until it is stored per the durability policy.
    fn flush(&mut self) -> Result<Vec<(TopicPartition, AppendOutcome)>>;
}

/// Appends records and commits consumer offsets atomically: after `commit_transaction` returns,
/// all of the transaction's records and offsets are stored; if it does not (crash, abort), none
/// are visible to consumers.
pub trait TransactionalProducer: Send {
    fn begin_transaction(&mut self) -> Result<()>;
    fn send(&mut self, topic: &str, partition: Option<u32>, record: ProducerRecord) -> Result<u32>;
    /// Adds group offset commits to the open transaction, as the group member `group` names
    /// (on Kafka its generation fences a member that lost its partitions: KIP-447).
    fn send_offsets_to_transaction(
        &mut self,
        group: &GroupMetadata,
        offsets: &[(TopicPartition, i64)],
    ) -> Result<()>;
    fn commit_transaction(&mut self) -> Result<Vec<(TopicPartition, AppendOutcome)>>;
    fn abort_transaction(&mut self) -> Result<()>;
}

/// Reads assigned partitions from chosen positions.
pub trait Consumer: Send {
    /// Replaces the assignment; each partition starts where its `StartFrom` says.
    fn assign(&mut self, partitions: &[(TopicPartition, StartFrom)]) -> Result<()>;
    /// Returns the next records of the assigned partitions, waiting up to `timeout` for data
    /// when none is ready. An empty result means the timeout passed with nothing new.
    fn poll(&mut self, max_records: usize, timeout: Duration) -> Result<Vec<PartitionRecords>>;
    /// The next offset this consumer will read from `tp`.
    fn position(&self, tp: &TopicPartition) -> Option<i64>;
    /// The offset the next append to assigned partition `tp` will get (its high watermark):
    /// `tp` has records this consumer has not read while its position is below it.
    fn end_offset(&self, tp: &TopicPartition) -> Option<i64>;
    fn seek(&mut self, tp: &TopicPartition, offset: i64) -> Result<()>;
    /// Commits the current positions of all assigned partitions to the consumer's group.
    fn commit(&mut self) -> Result<()>;
    /// The consumer's group and its membership, for `send_offsets_to_transaction` (`None`
    /// without a group).
    fn group_metadata(&self) -> Option<GroupMetadata>;
    /// Joins the consumer's group for `topics` (Kafka's subscribe) instead of an assignment:
    /// the group's members split the topics' partitions (range assignment: topics with as
    /// many partitions have partition *p* at one member) and move them when members come and
    /// go. A partition starts at the group's committed offset; one without is pinned where
    /// `fallback` says (committed there at once). On the embedded log the consumer is the
    /// group's only member and gets every partition.
    fn subscribe(&mut self, topics: &[String], fallback: AutoOffsetReset) -> Result<()>;
    /// The partitions the consumer reads now.
    fn assignment(&self) -> Vec<TopicPartition>;
    /// How the assignment changed since the last call, in order: a subscribed consumer's
    /// rebalances, which happen during `poll` (records polled before a partition was revoked
    /// are not returned).
    fn take_rebalances(&mut self) -> Vec<Rebalance>;
}
