//! The Kafka listener on an in-process log, and a byte-level client for it: requests encoded
//! with `kafka-protocol` as a client would, batches built with its record encoder. Used by
//! `kafka_wire.rs` and `kafka_txn.rs`.

use brook::kafka_wire::{self, KafkaConfig, KafkaServer};
use brook::log::{EmbeddedLog, LogConfig};
use brook::transport::{OffsetSpec, TopicConfig, TopicPartition, Transport};
use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{
    ApiKey, FetchRequest, ProduceRequest, RequestHeader, RequestKind, ResponseHeader, ResponseKind,
    TopicName,
};
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};
use kafka_protocol::records::{
    Compression, Record, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

pub struct Fixture {
    pub log: EmbeddedLog,
    server: Option<KafkaServer>,
    config: KafkaConfig,
    dir: tempfile::TempDir,
}

impl Fixture {
    pub fn new(config: KafkaConfig) -> Fixture {
        Fixture::with_log(config, LogConfig::default())
    }

    /// A cluster for engines to run on: appends acknowledged without waiting for an fsync
    /// (as a Kafka broker acknowledges once replicated, not synced), so a step's transaction
    /// commits in milliseconds, not at the next 100 ms flush.
    pub fn cluster() -> Fixture {
        let log = LogConfig {
            flush: brook::log::FlushPolicy::Never,
            ..LogConfig::default()
        };
        Fixture::with_log(KafkaConfig::default(), log)
    }

    fn with_log(config: KafkaConfig, log_config: LogConfig) -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = EmbeddedLog::open(dir.path(), log_config).expect("log");
        log.create_topic("t", &TopicConfig::with_partitions(2))
            .expect("topic");
        let config = KafkaConfig {
            listen: "127.0.0.1:0".parse().expect("addr"),
            ..config
        };
        let server = kafka_wire::start(log.clone(), config.clone()).expect("listener");
        Fixture {
            log,
            server: Some(server),
            config,
            dir,
        }
    }

    /// Stops the listener, closes the log cleanly or not, and opens both again.
    pub fn reopen(&mut self, clean: bool) {
        if let Some(server) = self.server.take() {
            server.stop();
        }
        self.log.close().expect("close");
        if !clean {
            // As after a crash: no clean-shutdown marker, no producer-state snapshot.
            super::support::forget_clean_shutdown(self.dir.path());
            for p in 0..2 {
                let dir = super::support::partition_dir(self.dir.path(), "t", p);
                std::fs::remove_file(dir.join("producer-state.json")).expect("snapshot written");
            }
        }
        self.log = EmbeddedLog::open(self.dir.path(), LogConfig::default()).expect("reopen");
        self.start();
    }

    pub fn start(&mut self) {
        let server = kafka_wire::start(self.log.clone(), self.config.clone()).expect("listener");
        self.server = Some(server);
    }

    pub fn connect(&self) -> TcpStream {
        let addr = self.server.as_ref().expect("server").local_addr;
        let stream = TcpStream::connect(addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        stream
    }

    /// The listener's address, as Kafka clients' `bootstrap.servers`.
    pub fn bootstrap(&self) -> String {
        self.server.as_ref().expect("server").local_addr.to_string()
    }

    pub fn end_offset(&self, partition: u32) -> i64 {
        self.log
            .list_offset(&TopicPartition::new("t", partition), OffsetSpec::Latest)
            .expect("offset")
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.stop();
        }
    }
}

pub fn request(api: ApiKey, version: i16, body: &RequestKind) -> Vec<u8> {
    let header = RequestHeader::default()
        .with_request_api_key(api as i16)
        .with_request_api_version(version)
        .with_correlation_id(7)
        .with_client_id(Some(StrBytes::from_static_str("test")));
    let mut out = BytesMut::new();
    header
        .encode(&mut out, api.request_header_version(version))
        .expect("header");
    body.encode(&mut out, version).expect("body");
    framed(&out)
}

pub fn framed(body: &[u8]) -> Vec<u8> {
    let mut out = (body.len() as i32).to_be_bytes().to_vec();
    out.extend_from_slice(body);
    out
}

/// The next response frame, or `None` when the server closed the connection.
pub fn read_response(stream: &mut TcpStream) -> Option<Bytes> {
    let mut size = [0u8; 4];
    stream.read_exact(&mut size).ok()?;
    let mut body = vec![0u8; i32::from_be_bytes(size) as usize];
    stream.read_exact(&mut body).ok()?;
    Some(Bytes::from(body))
}

pub fn call(stream: &mut TcpStream, api: ApiKey, version: i16, body: RequestKind) -> ResponseKind {
    stream
        .write_all(&request(api, version, &body))
        .expect("send");
    let mut bytes = read_response(stream).expect("a response");
    let header =
        ResponseHeader::decode(&mut bytes, api.response_header_version(version)).expect("header");
    assert_eq!(header.correlation_id, 7);
    ResponseKind::decode(api, &mut bytes, version).expect("response")
}

pub fn closed(stream: &mut TcpStream) -> bool {
    let mut byte = [0u8; 1];
    matches!(stream.read(&mut byte), Ok(0) | Err(_))
}

pub fn batch(values: &[&str], compression: Compression) -> Bytes {
    idempotent_batch(values, compression, (-1, -1, 0))
}

/// A batch of producer `id` at `epoch`, its first record at sequence `first_seq`.
pub fn idempotent_batch(
    values: &[&str],
    compression: Compression,
    (id, epoch, first_seq): (i64, i16, i32),
) -> Bytes {
    producer_batch(values, compression, (id, epoch, first_seq), false)
}

/// A batch of producer `id` at `epoch` from sequence `first_seq`, inside a transaction or not.
pub fn producer_batch(
    values: &[&str],
    compression: Compression,
    (id, epoch, first_seq): (i64, i16, i32),
    transactional: bool,
) -> Bytes {
    let records: Vec<Record> = values
        .iter()
        .enumerate()
        .map(|(i, v)| Record {
            transactional,
            control: false,
            delete_horizon: false,
            partition_leader_epoch: -1,
            producer_id: id,
            producer_epoch: epoch,
            timestamp_type: TimestampType::Creation,
            offset: i as i64,
            // The encoder starts a new batch where sequence and offset stop moving together.
            sequence: first_seq + i as i32,
            timestamp: 1_000 + i as i64,
            key: Some(Bytes::from(format!("k{i}"))),
            value: Some(Bytes::from(v.to_string())),
            headers: Default::default(),
        })
        .collect();
    let mut out = BytesMut::new();
    let options = RecordEncodeOptions {
        version: 2,
        compression,
    };
    RecordBatchEncoder::encode(&mut out, &records, &options).expect("batch");
    out.freeze()
}

pub fn produce(partition: i32, records: Bytes, acks: i16) -> RequestKind {
    produce_to("t", partition, records, acks)
}

pub fn produce_to(topic: &'static str, partition: i32, records: Bytes, acks: i16) -> RequestKind {
    let data = PartitionProduceData::default()
        .with_index(partition)
        .with_records(Some(records));
    let topic = TopicProduceData::default()
        .with_name(TopicName(StrBytes::from_static_str(topic)))
        .with_partition_data(vec![data]);
    RequestKind::Produce(
        ProduceRequest::default()
            .with_acks(acks)
            .with_timeout_ms(10_000)
            .with_topic_data(vec![topic]),
    )
}

/// The error code and base offset of a one-partition produce.
pub fn produced(stream: &mut TcpStream, partition: i32, records: Bytes) -> (i16, i64) {
    let ResponseKind::Produce(response) =
        call(stream, ApiKey::Produce, 9, produce(partition, records, 1))
    else {
        panic!("not a produce response");
    };
    let p = &response.responses[0].partition_responses[0];
    if p.error_code != 0 {
        eprintln!("produce error {}: {:?}", p.error_code, p.error_message);
    }
    (p.error_code, p.base_offset)
}

pub fn fetch(partition: i32, offset: i64, max_wait_ms: i32) -> RequestKind {
    let p = FetchPartition::default()
        .with_partition(partition)
        .with_fetch_offset(offset)
        .with_partition_max_bytes(1 << 20);
    let topic = FetchTopic::default()
        .with_topic(TopicName(StrBytes::from_static_str("t")))
        .with_partitions(vec![p]);
    RequestKind::Fetch(
        FetchRequest::default()
            .with_max_wait_ms(max_wait_ms)
            .with_min_bytes(1)
            .with_max_bytes(1 << 20)
            .with_topics(vec![topic]),
    )
}

pub fn fetched(stream: &mut TcpStream, partition: i32, offset: i64) -> (i16, i64, Bytes) {
    let ResponseKind::Fetch(response) =
        call(stream, ApiKey::Fetch, 12, fetch(partition, offset, 0))
    else {
        panic!("not a fetch response");
    };
    let p = &response.responses[0].partitions[0];
    (
        p.error_code,
        p.high_watermark,
        p.records.clone().unwrap_or_default(),
    )
}

/// The test broker (`../shared/tools/kafka-broker`: Tansu, in-memory storage) on a port of its
/// own, stopped when dropped. A Kafka cluster that is not Brook, for the tests that run on
/// both; its known faults (aborted records shown to read_committed consumers) keep tests that
/// abort transactions on Brook's own listener.
pub struct TestBroker {
    port: u16,
}

impl TestBroker {
    pub fn start() -> TestBroker {
        // One start at a time: the script installs the broker on first use.
        static STARTING: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _one = STARTING.lock().unwrap_or_else(|p| p.into_inner());
        let port = crate::server::free_port();
        let output = std::process::Command::new(broker_script())
            .args(["start", &port.to_string()])
            .output()
            .expect("run ../shared/tools/kafka-broker");
        assert!(
            output.status.success(),
            "the test broker did not start: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        TestBroker { port }
    }

    pub fn bootstrap(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for TestBroker {
    fn drop(&mut self) {
        let _ = std::process::Command::new(broker_script())
            .args(["stop", &self.port.to_string()])
            .output();
    }
}

/// `../shared/tools/kafka-broker`, which must exist (as `../shared/qtt` must).
fn broker_script() -> std::path::PathBuf {
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/tools/kafka-broker");
    assert!(
        script.exists(),
        "{} is missing: the tests that run on a Kafka broker need it",
        script.display()
    );
    script
}
