//! Plain data exchanged with a log: records, topic settings, positions.

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// A topic name and a partition number.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TopicPartition {
    pub topic: String,
    pub partition: u32,
}

impl TopicPartition {
    pub fn new(topic: impl Into<String>, partition: u32) -> Self {
        TopicPartition {
            topic: topic.into(),
            partition,
        }
    }
}

impl fmt::Display for TopicPartition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.topic, self.partition)
    }
}

/// A record header: a string key and optional bytes, as in Kafka.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub key: String,
    pub value: Option<Bytes>,
}

/// A record to append. `value: None` is a tombstone; `timestamp: None` means "now".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProducerRecord {
    pub key: Option<Bytes>,
    pub value: Option<Bytes>,
    pub timestamp: Option<i64>,
    pub headers: Vec<Header>,
}

impl ProducerRecord {
    /// A record with the given key and value, timestamped at append time.
    pub fn new(key: Option<impl Into<Bytes>>, value: Option<impl Into<Bytes>>) -> Self {
        ProducerRecord {
            key: key.map(Into::into),
            value: value.map(Into::into),
            timestamp: None,
            headers: Vec::new(),
        }
    }

    pub fn with_timestamp(mut self, timestamp_ms: i64) -> Self {
        self.timestamp = Some(timestamp_ms);
        self
    }
}

/// A record read back from a partition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub offset: i64,
    /// Milliseconds since the Unix epoch.
    pub timestamp: i64,
    pub key: Option<Bytes>,
    pub value: Option<Bytes>,
    pub headers: Vec<Header>,
}

/// Records fetched from one partition, in offset order.
#[derive(Clone, Debug)]
pub struct PartitionRecords {
    pub topic: Arc<str>,
    pub partition: u32,
    pub records: Vec<Record>,
    /// Offset the next append to this partition will get (Kafka's high watermark).
    pub high_watermark: i64,
}

/// Where an append landed: the offsets of the first and last record appended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppendOutcome {
    pub partition: u32,
    pub base_offset: i64,
    pub last_offset: i64,
}

/// What a topic does with old data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum CleanupPolicy {
    /// Delete whole segments past retention (time or size).
    #[default]
    Delete,
    /// Keep the latest record per key (table topics).
    Compact,
}

/// Settings of one topic; absent limits mean "unlimited".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TopicConfig {
    pub partitions: u32,
    pub cleanup_policy: CleanupPolicy,
    /// Delete segments whose newest record is older than this (`retention.ms`).
    pub retention_ms: Option<i64>,
    /// Delete the oldest segments while the partition is larger than this (`retention.bytes`).
    pub retention_bytes: Option<u64>,
    /// Roll to a new segment file past this size (`segment.bytes`).
    pub segment_bytes: u64,
    /// Roll to a new segment file after this long (`segment.ms`).
    pub segment_ms: Option<i64>,
    /// How long compaction keeps tombstones (`delete.retention.ms`).
    pub delete_retention_ms: i64,
}

impl Default for TopicConfig {
    fn default() -> Self {
        TopicConfig {
            partitions: 1,
            cleanup_policy: CleanupPolicy::Delete,
            retention_ms: Some(7 * 24 * 3600 * 1000),
            retention_bytes: None,
            segment_bytes: 1 << 30,
            segment_ms: Some(7 * 24 * 3600 * 1000),
            delete_retention_ms: 24 * 3600 * 1000,
        }
    }
}

impl TopicConfig {
    /// Defaults with the given partition count.
    pub fn with_partitions(partitions: u32) -> Self {
        TopicConfig {
            partitions,
            ..TopicConfig::default()
        }
    }

    /// A compacted topic: no time retention, latest value per key kept.
    pub fn compacted(partitions: u32) -> Self {
        TopicConfig {
            partitions,
            cleanup_policy: CleanupPolicy::Compact,
            retention_ms: None,
            ..TopicConfig::default()
        }
    }
}

/// Per-partition facts for `describe`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PartitionInfo {
    pub partition: u32,
    /// First offset still stored.
    pub start_offset: i64,
    /// Offset the next append gets.
    pub end_offset: i64,
    /// Bytes and segment files on disk; `None` where the backend does not say (Kafka).
    pub size_bytes: Option<u64>,
    pub segments: Option<usize>,
}

/// What `describe_topic` answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TopicDescription {
    pub name: String,
    pub config: TopicConfig,
    pub partitions: Vec<PartitionInfo>,
}

/// A position to look up with `list_offset`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OffsetSpec {
    Earliest,
    Latest,
    /// The first offset whose timestamp is at or after this time (or the end offset).
    Timestamp(i64),
}

/// Where a consumer starts reading a partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartFrom {
    Earliest,
    Latest,
    Offset(i64),
    /// The group's committed offset, or `fallback` when the group has none.
    Committed {
        fallback: AutoOffsetReset,
    },
}

/// What to do when there is no committed offset (Kafka's `auto.offset.reset`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AutoOffsetReset {
    Earliest,
    Latest,
}

/// A consumer group as a transaction's offset commit names it: the group's name, and what the
/// backend knows of the member's place in it (on Kafka, the generation and member id that let
/// the coordinator refuse a member that was replaced; opaque here).
#[derive(Clone)]
pub struct GroupMetadata {
    pub group: String,
    pub native: Option<Arc<dyn std::any::Any + Send + Sync>>,
}

impl GroupMetadata {
    /// A group known only by name (no membership: nothing to fence with).
    pub fn named(group: impl Into<String>) -> GroupMetadata {
        GroupMetadata {
            group: group.into(),
            native: None,
        }
    }
}

impl fmt::Debug for GroupMetadata {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GroupMetadata({})", self.group)
    }
}

/// A change of a subscribed consumer's partitions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rebalance {
    /// These partitions are the consumer's now, each from its committed offset.
    Assigned(Vec<TopicPartition>),
    /// These partitions are no longer the consumer's: another member may take them.
    Revoked(Vec<TopicPartition>),
}
