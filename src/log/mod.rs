//! The embedded log engine: Brook's default backend, a real storage engine in the data directory.
//!
//! Topics of partitions; a partition is a list of segment files holding Kafka RecordBatch v2
//! batches (length-prefixed, CRC-32C checked) with sparse offset and time indexes rebuilt when
//! missing. Recovery cuts torn tails and says what it dropped, and refuses to open a log whose
//! fsynced records are gone; reads deliver the records before a damaged batch; retention deletes
//! old segments; compaction keeps the latest record per key; consumer-group offsets are durable;
//! transactions make appends and offset commits atomic; record sets are appended and read as Kafka
//! clients send and fetch them (`wire.rs`, for the Kafka listener). See `docs/log.md` for the on-disk format and durability guarantees.
//!
//! May import: `transport` only.

mod batch;
mod codec;
mod compaction;
mod config;
mod consumer;
mod damage;
mod embedded;
mod groups;
mod index;
mod maintenance;
mod markers;
mod partition;
mod producer;
mod producer_state;
mod reader;
#[cfg(test)]
mod recovery_tests;
mod redo;
#[cfg(test)]
mod redo_tests;
mod segment;
mod shutdown;
mod signal;
mod topic;
mod txn;
mod varint;
mod wire;

pub use config::{FlushPolicy, LogConfig, now_ms};
pub use embedded::{EmbeddedLog, MaintenanceReport, Verified};
pub use producer_state::SequenceError;
pub use wire::{PartitionOffsets, RecordSetError, StoredBatches, batch_producer};
