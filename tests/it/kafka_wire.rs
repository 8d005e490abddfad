//! The Kafka listener on an in-process log, spoken to byte by byte: produced batches come back
//! from Fetch as stored (compressed ones too) and Brook's own consumer reads their records;
//! bad input (garbage, oversized and truncated frames, unknown APIs and versions, wrong CRCs,
//! batches Kafka's rules refuse, decompression bombs) gets Kafka's error code or a closed
//! connection, never a crash or a changed log; idle and surplus connections are limited.

use brook::kafka_wire::{self, KafkaConfig, KafkaServer};
use brook::log::{EmbeddedLog, LogConfig};
use brook::transport::{OffsetSpec, StartFrom, TopicConfig, TopicPartition, Transport};
use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{
    ApiKey, ApiVersionsRequest, FetchRequest, ProduceRequest, RequestHeader, RequestKind,
    ResponseHeader, ResponseKind, TopicName,
};
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};
use kafka_protocol::records::{
    Compression, Record, RecordBatchDecoder, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

struct Fixture {
    log: EmbeddedLog,
    server: Option<KafkaServer>,
    config: KafkaConfig,
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new(config: KafkaConfig) -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = EmbeddedLog::open(dir.path(), LogConfig::default()).expect("log");
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
    fn reopen(&mut self, clean: bool) {
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

    fn start(&mut self) {
        let server = kafka_wire::start(self.log.clone(), self.config.clone()).expect("listener");
        self.server = Some(server);
    }

    fn connect(&self) -> TcpStream {
        let addr = self.server.as_ref().expect("server").local_addr;
        let stream = TcpStream::connect(addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        stream
    }

    fn end_offset(&self, partition: u32) -> i64 {
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

fn request(api: ApiKey, version: i16, body: &RequestKind) -> Vec<u8> {
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

fn framed(body: &[u8]) -> Vec<u8> {
    let mut out = (body.len() as i32).to_be_bytes().to_vec();
    out.extend_from_slice(body);
    out
}

/// The next response frame, or `None` when the server closed the connection.
fn read_response(stream: &mut TcpStream) -> Option<Bytes> {
    let mut size = [0u8; 4];
    stream.read_exact(&mut size).ok()?;
    let mut body = vec![0u8; i32::from_be_bytes(size) as usize];
    stream.read_exact(&mut body).ok()?;
    Some(Bytes::from(body))
}

fn call(stream: &mut TcpStream, api: ApiKey, version: i16, body: RequestKind) -> ResponseKind {
    stream
        .write_all(&request(api, version, &body))
        .expect("send");
    let mut bytes = read_response(stream).expect("a response");
    let header =
        ResponseHeader::decode(&mut bytes, api.response_header_version(version)).expect("header");
    assert_eq!(header.correlation_id, 7);
    ResponseKind::decode(api, &mut bytes, version).expect("response")
}

fn closed(stream: &mut TcpStream) -> bool {
    let mut byte = [0u8; 1];
    matches!(stream.read(&mut byte), Ok(0) | Err(_))
}

fn batch(values: &[&str], compression: Compression) -> Bytes {
    idempotent_batch(values, compression, (-1, -1, 0))
}

/// A batch of producer `id` at `epoch`, its first record at sequence `first_seq`.
fn idempotent_batch(
    values: &[&str],
    compression: Compression,
    (id, epoch, first_seq): (i64, i16, i32),
) -> Bytes {
    let records: Vec<Record> = values
        .iter()
        .enumerate()
        .map(|(i, v)| Record {
            transactional: false,
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

fn produce(partition: i32, records: Bytes, acks: i16) -> RequestKind {
    let data = PartitionProduceData::default()
        .with_index(partition)
        .with_records(Some(records));
    let topic = TopicProduceData::default()
        .with_name(TopicName(StrBytes::from_static_str("t")))
        .with_partition_data(vec![data]);
    RequestKind::Produce(
        ProduceRequest::default()
            .with_acks(acks)
            .with_timeout_ms(10_000)
            .with_topic_data(vec![topic]),
    )
}

/// The error code and base offset of a one-partition produce.
fn produced(stream: &mut TcpStream, partition: i32, records: Bytes) -> (i16, i64) {
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

fn fetch(partition: i32, offset: i64, max_wait_ms: i32) -> RequestKind {
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

fn fetched(stream: &mut TcpStream, partition: i32, offset: i64) -> (i16, i64, Bytes) {
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

#[test]
fn produced_batches_are_fetched_as_stored_and_read_by_brooks_consumer() {
    let fixture = Fixture::new(KafkaConfig::default());
    let mut stream = fixture.connect();
    let codecs = [
        Compression::None,
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ];
    let mut sent = Vec::new();
    for (i, codec) in codecs.into_iter().enumerate() {
        let records = batch(&["a", "b", "c"], codec);
        assert_eq!(produced(&mut stream, 0, records.clone()), (0, 3 * i as i64));
        sent.push(records);
    }
    let (code, high_watermark, bytes) = fetched(&mut stream, 0, 4);
    assert_eq!((code, high_watermark), (0, 15));
    // From the batch holding offset 4 on, each byte for byte as sent but for the offset and
    // leader epoch (outside the CRC).
    let mut expected = Vec::new();
    for (i, records) in sent.iter().enumerate().skip(1) {
        let mut b = records.to_vec();
        b[0..8].copy_from_slice(&(3 * i as i64).to_be_bytes());
        b[12..16].copy_from_slice(&0i32.to_be_bytes());
        expected.extend_from_slice(&b);
    }
    assert_eq!(bytes.to_vec(), expected);
    let mut decoded = bytes.clone();
    let sets = RecordBatchDecoder::decode_all(&mut decoded).expect("clients decode it");
    assert_eq!(sets.len(), 4);
    let mut consumer = fixture.log.consumer(None).expect("consumer");
    consumer
        .assign(&[(TopicPartition::new("t", 0), StartFrom::Earliest)])
        .expect("assign");
    let mut values = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while values.len() < 15 && Instant::now() < deadline {
        for part in consumer
            .poll(100, Duration::from_millis(100))
            .expect("poll")
        {
            for r in part.records {
                let value = String::from_utf8_lossy(r.value.as_deref().unwrap_or_default());
                values.push((r.offset, value.into_owned()));
            }
        }
    }
    let expected: Vec<(i64, String)> = (0..15)
        .map(|o| (o, ["a", "b", "c"][o as usize % 3].to_string()))
        .collect();
    assert_eq!(values, expected);
}

#[test]
fn batches_kafka_refuses_get_its_error_codes_and_leave_the_log_unchanged() {
    let fixture = Fixture::new(KafkaConfig {
        max_batch_bytes: 10_000,
        ..KafkaConfig::default()
    });
    let mut stream = fixture.connect();
    let good = batch(&["x"], Compression::None);
    let mut bad_crc = good.to_vec();
    let last = bad_crc.len() - 1;
    bad_crc[last] ^= 0xff;
    let mut two = good.to_vec();
    two.extend_from_slice(&good);
    let mut control = good.to_vec();
    control[22] |= 0x20;
    let crc = crc32c::crc32c(&control[21..]);
    control[17..21].copy_from_slice(&crc.to_be_bytes());
    let mut nonzero_base = good.to_vec();
    nonzero_base[7] = 5;
    let big = batch(&[&"v".repeat(20_000)], Compression::None);
    let cases: [(&str, Vec<u8>, i16); 6] = [
        ("wrong CRC", bad_crc, 2),
        ("two batches", two, 87),
        ("control batch", control, 87),
        ("base offset 5", nonzero_base, 87),
        ("too large", big.to_vec(), 10),
        ("truncated", good[..good.len() - 4].to_vec(), 2),
    ];
    for (what, records, code) in cases {
        let (got, _) = produced(&mut stream, 0, Bytes::from(records));
        assert_eq!(got, code, "{what}");
    }
    assert_eq!(fixture.end_offset(0), 0, "nothing appended");
    let (got, _) = produced(&mut stream, 5, good.clone());
    assert_eq!(got, 3, "unknown partition");
    assert_eq!(
        produced(&mut stream, 0, good.clone()),
        (0, 0),
        "still served"
    );
    let (code, _, _) = fetched(&mut stream, 0, 99);
    assert_eq!(code, 1, "offset out of range");
}

/// Idempotent producers: a retried batch is answered with its first offset and not appended
/// again, also after a clean restart and after a crash (state rebuilt from the segment); a gap
/// in the sequence and an old epoch are refused.
#[test]
fn idempotent_retries_are_appended_once_across_restarts() {
    let mut fixture = Fixture::new(KafkaConfig::default());
    let mut stream = fixture.connect();
    let first = idempotent_batch(&["a", "b", "c"], Compression::None, (7, 0, 0));
    assert_eq!(produced(&mut stream, 0, first.clone()), (0, 0));
    assert_eq!(produced(&mut stream, 0, first.clone()), (0, 0), "retry");
    let second = idempotent_batch(&["d"], Compression::Lz4, (7, 0, 3));
    assert_eq!(produced(&mut stream, 0, second.clone()), (0, 3));
    assert_eq!(fixture.end_offset(0), 4);
    for clean in [true, false] {
        fixture.reopen(clean);
        let mut stream = fixture.connect();
        assert_eq!(
            produced(&mut stream, 0, second.clone()),
            (0, 3),
            "clean {clean}"
        );
        assert_eq!(fixture.end_offset(0), 4, "clean {clean}");
    }
    let mut stream = fixture.connect();
    let gap = idempotent_batch(&["x"], Compression::None, (7, 0, 9));
    assert_eq!(produced(&mut stream, 0, gap).0, 45, "out of order sequence");
    let bumped = idempotent_batch(&["e"], Compression::None, (7, 1, 0));
    assert_eq!(produced(&mut stream, 0, bumped), (0, 4));
    let stale = idempotent_batch(&["y"], Compression::None, (7, 0, 4));
    assert_eq!(
        produced(&mut stream, 0, stale).0,
        47,
        "invalid producer epoch"
    );
    assert_eq!(fixture.end_offset(0), 5);
}

/// A small batch that decompresses past the 64 MiB a batch may hold is refused, not allocated.
#[test]
fn a_decompression_bomb_is_refused() {
    let fixture = Fixture::new(KafkaConfig::default());
    let mut stream = fixture.connect();
    let bomb = batch(&[&"0".repeat(70 << 20)], Compression::Gzip);
    assert!(bomb.len() < 1 << 20, "{} bytes compressed", bomb.len());
    assert_eq!(produced(&mut stream, 0, bomb).0, 87);
    assert_eq!(fixture.end_offset(0), 0);
}

#[test]
fn garbage_unknown_apis_and_bad_frames_close_the_connection_and_nothing_else() {
    let fixture = Fixture::new(KafkaConfig {
        max_request_bytes: 1 << 20,
        ..KafkaConfig::default()
    });
    let api_versions = RequestKind::ApiVersions(ApiVersionsRequest::default());
    let mut unknown_api = request(ApiKey::ApiVersions, 0, &api_versions);
    unknown_api[4..6].copy_from_slice(&999i16.to_be_bytes());
    let mut unserved = request(ApiKey::Produce, 2, &api_versions);
    unserved[6..8].copy_from_slice(&13i16.to_be_bytes());
    let hostile: Vec<(&str, Vec<u8>)> = vec![
        ("garbage", b"GET / HTTP/1.1\r\n\r\n".to_vec()),
        ("size past the limit", framed(&vec![0u8; (1 << 20) + 1])),
        ("negative size", (-5i32).to_be_bytes().to_vec()),
        ("unknown API", unknown_api),
        ("unserved version", unserved),
        ("body cut short", {
            let mut r = request(ApiKey::Fetch, 12, &fetch(0, 0, 0));
            r.truncate(r.len() - 5);
            let body = r[4..].to_vec();
            framed(&body)
        }),
    ];
    for (what, bytes) in hostile {
        let mut stream = fixture.connect();
        let _ = stream.write_all(&bytes);
        assert!(closed(&mut stream), "{what}: connection left open");
    }
    // A frame cut short by the client closing, then the server still answers.
    let mut stream = fixture.connect();
    stream.write_all(&framed(&[1, 2, 3])[..5]).expect("send");
    drop(stream);
    let mut stream = fixture.connect();
    let ResponseKind::ApiVersions(v) = call(&mut stream, ApiKey::ApiVersions, 3, api_versions)
    else {
        panic!("not ApiVersions");
    };
    assert_eq!(v.error_code, 0);
    assert!(v.api_keys.iter().any(|k| k.api_key == ApiKey::Fetch as i16));
}

/// KIP-511: ApiVersions in a version not served is answered in v0 with UNSUPPORTED_VERSION
/// and the versions served; the connection stays usable.
#[test]
fn api_versions_in_a_newer_version_gets_the_served_ones() {
    let fixture = Fixture::new(KafkaConfig::default());
    let mut stream = fixture.connect();
    let body = RequestKind::ApiVersions(ApiVersionsRequest::default());
    let mut bytes = request(ApiKey::ApiVersions, 3, &body);
    bytes[6..8].copy_from_slice(&99i16.to_be_bytes());
    stream.write_all(&bytes).expect("send");
    let mut response = read_response(&mut stream).expect("answered");
    let header = ResponseHeader::decode(&mut response, 0).expect("header");
    assert_eq!(header.correlation_id, 7);
    let ResponseKind::ApiVersions(v) =
        ResponseKind::decode(ApiKey::ApiVersions, &mut response, 0).expect("v0 body")
    else {
        panic!("not ApiVersions");
    };
    assert_eq!(v.error_code, 35);
    let served: Vec<i16> = v.api_keys.iter().map(|k| k.api_key).collect();
    let expected: Vec<i16> = kafka_wire::SERVED
        .iter()
        .map(|(k, _, _)| *k as i16)
        .collect();
    assert_eq!(served, expected);
    let body = RequestKind::ApiVersions(ApiVersionsRequest::default());
    assert!(matches!(
        call(&mut stream, ApiKey::ApiVersions, 0, body),
        ResponseKind::ApiVersions(_)
    ));
}

#[test]
fn a_failed_acks_0_produce_closes_the_connection_and_a_good_one_is_silent() {
    let fixture = Fixture::new(KafkaConfig::default());
    let mut stream = fixture.connect();
    let good = batch(&["x"], Compression::None);
    stream
        .write_all(&request(ApiKey::Produce, 9, &produce(0, good, 0)))
        .expect("send");
    // The next request's answer is the first thing to come back.
    let body = RequestKind::ApiVersions(ApiVersionsRequest::default());
    assert!(matches!(
        call(&mut stream, ApiKey::ApiVersions, 3, body),
        ResponseKind::ApiVersions(_)
    ));
    assert_eq!(fixture.end_offset(0), 1);
    let mut bad = batch(&["y"], Compression::None).to_vec();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    stream
        .write_all(&request(
            ApiKey::Produce,
            9,
            &produce(0, Bytes::from(bad), 0),
        ))
        .expect("send");
    assert!(closed(&mut stream));
    assert_eq!(fixture.end_offset(0), 1);
}

#[test]
fn a_long_poll_wakes_on_an_append_and_idle_connections_are_closed() {
    let fixture = Fixture::new(KafkaConfig {
        idle: Duration::from_secs(1),
        ..KafkaConfig::default()
    });
    let mut waiting = fixture.connect();
    waiting
        .write_all(&request(ApiKey::Fetch, 12, &fetch(1, 0, 20_000)))
        .expect("send");
    std::thread::sleep(Duration::from_millis(300));
    let mut producer = fixture.connect();
    assert_eq!(
        produced(&mut producer, 1, batch(&["woke"], Compression::None)),
        (0, 0)
    );
    let started = Instant::now();
    let mut bytes = read_response(&mut waiting).expect("the long poll answers");
    ResponseHeader::decode(&mut bytes, ApiKey::Fetch.response_header_version(12)).expect("header");
    let ResponseKind::Fetch(response) =
        ResponseKind::decode(ApiKey::Fetch, &mut bytes, 12).expect("fetch")
    else {
        panic!("not a fetch response");
    };
    let records = response.responses[0].partitions[0].records.clone();
    assert!(records.is_some_and(|r| !r.is_empty()), "the append's batch");
    // Well before the 20 s wait ran out (a loose bound: the wake-up is what is checked).
    assert!(started.elapsed() < Duration::from_secs(15));
    // A connection that sends nothing is closed after the idle limit.
    let mut idle = fixture.connect();
    let started = Instant::now();
    assert!(closed(&mut idle));
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[test]
fn connections_past_the_limit_wait_until_one_closes() {
    let fixture = Fixture::new(KafkaConfig {
        max_connections: 2,
        ..KafkaConfig::default()
    });
    let first = fixture.connect();
    let mut second = fixture.connect();
    let body = || RequestKind::ApiVersions(ApiVersionsRequest::default());
    assert!(matches!(
        call(&mut second, ApiKey::ApiVersions, 3, body()),
        ResponseKind::ApiVersions(_)
    ));
    let mut third = fixture.connect();
    third
        .set_read_timeout(Some(Duration::from_millis(500)))
        .expect("timeout");
    third
        .write_all(&request(ApiKey::ApiVersions, 3, &body()))
        .expect("send");
    let mut byte = [0u8; 1];
    assert!(
        third.read(&mut byte).is_err(),
        "a third connection was served past the limit of two"
    );
    drop(first);
    third
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    assert!(
        read_response(&mut third).is_some(),
        "served once one closed"
    );
}
