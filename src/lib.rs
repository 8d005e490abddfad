//! Brook: a streaming SQL engine with ksqlDB's language and HTTP API and Kafka Streams' processing
//! model, in one binary.
//!
//! Layers, bottom up (see `docs/architecture.md`):
//! - [`transport`]: the log interface (topics, partitions, offsets, groups, transactions);
//! - [`log`]: the embedded log engine, Brook's default backend;
//! - [`kafka`]: Kafka through rdkafka (so far what the CLI needs against a running server);
//! - [`kafka_wire`]: the embedded log served over Kafka's protocol;
//! - [`common`]: SQL types and values;
//! - [`sql`]: parsing the dialect;
//! - [`state`]: RocksDB state stores for stateful queries.

pub mod common;
pub mod engine;
pub mod exec;
pub mod format;
pub mod http;
pub mod kafka;
pub mod kafka_wire;
pub mod log;
pub mod plan;
pub mod qtt;
pub mod repl;
pub mod sql;
pub mod state;
pub mod transport;
