//! Errors every transport backend reports, with enough context to say what and where.

use std::path::PathBuf;

/// Result alias for transport operations.
pub type Result<T, E = TransportError> = std::result::Result<T, E>;

/// What went wrong talking to a log (embedded or Kafka).
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("topic '{0}' does not exist")]
    UnknownTopic(String),
    #[error("topic '{0}' already exists")]
    TopicExists(String),
    #[error("invalid topic name '{name}': {reason}")]
    InvalidTopicName { name: String, reason: String },
    #[error("topic '{topic}' has no partition {partition} (it has {count})")]
    UnknownPartition {
        topic: String,
        partition: u32,
        count: u32,
    },
    #[error(
        "offset {offset} is out of range for {topic}-{partition} (valid offsets are {start}..{end})"
    )]
    OffsetOutOfRange {
        topic: String,
        partition: u32,
        offset: i64,
        start: i64,
        end: i64,
    },
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    #[error("record rejected by {topic}-{partition}: {reason}")]
    InvalidRecord {
        topic: String,
        partition: u32,
        reason: String,
    },
    #[error("corrupt log data in {path} at byte {position}: {reason}")]
    Corrupt {
        path: PathBuf,
        position: u64,
        reason: String,
    },
    /// A read reached a damaged batch: every record before `offset` was delivered, none from it.
    #[error(
        "damaged record batch in {topic}-{partition}: offsets from {offset} cannot be read ({path} at byte {position}: {reason})"
    )]
    CorruptBatch {
        topic: String,
        partition: u32,
        offset: i64,
        path: PathBuf,
        position: u64,
        reason: String,
    },
    #[error("I/O error on {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("log {what} failed earlier and refuses further writes: {reason}")]
    Failed { what: String, reason: String },
    #[error("producer '{0}' was fenced by a newer instance with the same transactional id")]
    Fenced(String),
    #[error("transaction error: {0}")]
    Transaction(String),
    #[error("data directory {path} is in use by another Brook process")]
    Locked { path: PathBuf },
    #[error(
        "reading {partition}: stopped at offset {position}, before its end {end} (nothing could be read for {seconds} s)"
    )]
    Stalled {
        partition: String,
        position: i64,
        end: i64,
        seconds: u64,
    },
    #[error("{0}")]
    Backend(String),
}

impl TransportError {
    /// Wraps an I/O error with the path it happened on.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        TransportError::Io {
            path: path.into(),
            source,
        }
    }

    /// True when the caller, not the system, is at fault (bad name, bad offset...).
    pub fn is_user_error(&self) -> bool {
        matches!(
            self,
            TransportError::UnknownTopic(_)
                | TransportError::TopicExists(_)
                | TransportError::InvalidTopicName { .. }
                | TransportError::UnknownPartition { .. }
                | TransportError::OffsetOutOfRange { .. }
                | TransportError::InvalidArgument(_)
                | TransportError::InvalidRecord { .. }
        )
    }
}

/// Adds a path to `std::io::Result`s.
pub trait IoContext<T> {
    fn at(self, path: impl Into<PathBuf>) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn at(self, path: impl Into<PathBuf>) -> Result<T> {
        self.map_err(|e| TransportError::io(path, e))
    }
}
