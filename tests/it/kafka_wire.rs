//! The Kafka listener on an in-process log, spoken to byte by byte: produced batches come back
//! from Fetch as stored (compressed ones too) and Brook's own consumer reads their records;
//! bad input (garbage, oversized and truncated frames, unknown APIs and versions, wrong CRCs,
//! batches Kafka's rules refuse, decompression bombs) gets Kafka's error code or a closed
//! connection, never a crash or a changed log; idle and surplus connections are limited.

use super::kafka_support::*;
use brook::kafka_wire::{self, KafkaConfig};
use brook::transport::{StartFrom, TopicConfig, TopicPartition, Transport};
use bytes::Bytes;
use kafka_protocol::messages::{
    ApiKey, ApiVersionsRequest, RequestKind, ResponseHeader, ResponseKind,
};
use kafka_protocol::protocol::Decodable;
use kafka_protocol::records::{Compression, RecordBatchDecoder};
use std::io::{Read, Write};
use std::time::{Duration, Instant};

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
    fixture
        .log
        .create_topic("_brook_commands", &TopicConfig::with_partitions(1))
        .expect("topic");
    let command_log = produce_to("_brook_commands", 0, good.clone(), 1);
    let ResponseKind::Produce(response) = call(&mut stream, ApiKey::Produce, 9, command_log) else {
        panic!("not a produce response");
    };
    let code = response.responses[0].partition_responses[0].error_code;
    assert_eq!(code, 17, "Brook's command log is not written by clients");
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

/// Requests held over all connections stay within `max_in_flight_bytes`: a second request waits
/// while a first one, half sent, holds most of the budget, and is answered once it is done.
#[test]
fn requests_in_flight_over_all_connections_are_bounded() {
    let fixture = Fixture::new(KafkaConfig {
        max_in_flight_bytes: 1_000,
        ..KafkaConfig::default()
    });
    // ApiVersions requests padded to a size (Kafka ignores bytes after a request's fields).
    let padded = |size: usize| {
        let body = RequestKind::ApiVersions(ApiVersionsRequest::default());
        let mut bytes = request(ApiKey::ApiVersions, 3, &body);
        bytes.resize(size + 4, 0);
        bytes[0..4].copy_from_slice(&(size as i32).to_be_bytes());
        bytes
    };
    let big = padded(800);
    let mut first = fixture.connect();
    first.write_all(&big[..400]).expect("half of the first");
    std::thread::sleep(Duration::from_millis(200));
    let mut second = fixture.connect();
    second
        .set_read_timeout(Some(Duration::from_millis(500)))
        .expect("timeout");
    second.write_all(&padded(300)).expect("the second");
    let mut byte = [0u8; 1];
    assert!(
        second.read(&mut byte).is_err(),
        "the second request was read past the in-flight budget"
    );
    first.write_all(&big[400..]).expect("the rest of the first");
    assert!(read_response(&mut first).is_some(), "the first is answered");
    second
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    assert!(read_response(&mut second).is_some(), "then the second");
}
