//! The embedded log engine: Brook's default backend, a real storage engine in the data directory.
//!
//! Topics of partitions; a partition is a list of segment files holding Kafka RecordBatch v2
//! batches (length-prefixed, CRC-32C checked) with sparse offset and time indexes rebuilt when
//! missing. Recovery cuts torn tails; retention deletes old segments; compaction keeps the latest
//! record per key; consumer-group offsets are durable; transactions make appends and offset
//! commits atomic. See `docs/log.md` for the on-disk format and durability guarantees.
//!
//! May import: `transport` only.

mod batch;
mod compaction;
mod config;
mod consumer;
mod embedded;
mod groups;
mod index;
mod maintenance;
mod partition;
mod producer;
mod reader;
mod redo;
#[cfg(test)]
mod redo_tests;
mod segment;
mod signal;
mod topic;
mod txn;
mod varint;

pub use config::{FlushPolicy, LogConfig, now_ms};
pub use embedded::{EmbeddedLog, MaintenanceReport};
