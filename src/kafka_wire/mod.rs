//! The embedded log served over Kafka's wire protocol (ADR 0007, issue 16): Kafka clients
//! produce to and fetch from the topics SQL statements create and read, on `--kafka-listen`.
//!
//! `frame.rs` reads and writes size-prefixed frames with a size limit; `request.rs` decodes
//! requests and encodes responses with the `kafka-protocol` crate; `listener.rs` accepts
//! connections (limited in number and idle time) and answers each connection's requests in
//! order; `dispatch.rs` routes a request to its API's handler and answers ApiVersions with the
//! APIs served (`SERVED`; nothing else is advertised); `metadata.rs`, `produce.rs` and
//! `fetch.rs` are the handlers, `configs.rs` DescribeConfigs and DescribeCluster, `groups/` the group coordinator and offsets, `txn/` the transaction coordinator; `codes.rs` maps the log's errors to Kafka's error codes.
//!
//! May import: `log`, `transport`, `common`; never `exec`, `engine`, `plan` or `http`.

mod codes;
mod configs;
mod dispatch;
mod fetch;
pub mod frame;
mod groups;
mod listener;
mod metadata;
mod produce;
mod producer_ids;
pub mod request;
mod transactions;
mod txn;

pub use dispatch::SERVED;
pub use frame::{FrameError, MAX_REQUEST_BYTES, read_frame, write_frame};
pub use listener::{KafkaServer, address_file, start};
pub use request::{Request, WireError, decode_request, encode_response};

use crate::log::EmbeddedLog;
use std::net::SocketAddr;
use std::time::Duration;

/// How the listener serves.
#[derive(Clone, Debug)]
pub struct KafkaConfig {
    pub listen: SocketAddr,
    /// The `host:port` Metadata names for this broker; `None` names the address each client
    /// connected to (right for loopback and single-address hosts).
    pub advertised: Option<(String, u16)>,
    /// Connections open at once; more wait in the listen backlog.
    pub max_connections: usize,
    /// A connection with no request for this long is closed (Kafka's `connections.max.idle.ms`).
    pub idle: Duration,
    /// The largest request (Kafka's `socket.request.max.bytes`).
    pub max_request_bytes: usize,
    /// Bytes of requests held at once over all connections (being read or answered; Kafka's
    /// `queued.max.request.bytes`): past it, connections wait to read their next request.
    pub max_in_flight_bytes: usize,
    /// The largest record batch a producer may send (Kafka's `message.max.bytes`).
    pub max_batch_bytes: usize,
    /// Whether Metadata creates a topic a client asks for (Kafka's `auto.create.topics.enable`).
    pub auto_create_topics: bool,
    /// Partitions of a topic created by Metadata or by CreateTopics without a count.
    pub default_partitions: u32,
}

impl Default for KafkaConfig {
    fn default() -> Self {
        KafkaConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 9092)),
            advertised: None,
            max_connections: 4096,
            idle: Duration::from_secs(600),
            max_request_bytes: MAX_REQUEST_BYTES,
            max_in_flight_bytes: 2 * MAX_REQUEST_BYTES,
            max_batch_bytes: 1_048_588,
            auto_create_topics: false,
            default_partitions: 1,
        }
    }
}

/// What every handler shares: the log, the settings and the group coordinator.
pub(crate) struct Broker {
    pub log: EmbeddedLog,
    pub config: KafkaConfig,
    pub cluster_id: String,
    pub groups: groups::Coordinator,
    pub producer_ids: producer_ids::ProducerIds,
    /// Permits for `max_in_flight_bytes`, one per byte of the requests held.
    pub in_flight: tokio::sync::Semaphore,
    pub transactions: txn::Transactions,
}

impl Broker {
    /// The host and port clients are told to connect to.
    pub fn advertised(&self, connection: &dispatch::Connection) -> (String, i32) {
        match &self.config.advertised {
            Some((host, port)) => (host.clone(), i32::from(*port)),
            None => (
                connection.local.ip().to_string(),
                i32::from(connection.local.port()),
            ),
        }
    }

    /// Groups with committed offsets in the log.
    pub fn log_groups(&self) -> Vec<String> {
        use crate::transport::Transport;
        self.log.list_groups().unwrap_or_default()
    }
}

/// Whether `topic` is one of Brook's own (its command log `_brook_commands`, ...): clients may
/// read it but not write to or delete it, as Kafka treats its internal topics.
pub(crate) fn is_internal(topic: &str) -> bool {
    topic.starts_with("_brook") || topic.starts_with("__")
}

/// This node's id: the one broker of its cluster, leader of every partition.
pub(crate) const NODE_ID: i32 = 1;
