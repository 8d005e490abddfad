//! Transactions through the Kafka listener, byte by byte: a transactional batch holds back
//! read_committed readers (Fetch stops at the last stable offset, Brook's own consumer too)
//! until its marker; an aborted transaction is listed in read_committed Fetch responses and
//! never read by Brook; the state survives clean and unclean restarts; a batch outside an
//! ongoing transaction is refused; a second InitProducerId fences the first producer.

use super::kafka_support::*;
use brook::kafka_wire::KafkaConfig;
use brook::transport::{StartFrom, TopicPartition, Transport};
use bytes::Bytes;
use kafka_protocol::messages::add_partitions_to_txn_request::AddPartitionsToTxnTopic;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::{
    AddPartitionsToTxnRequest, ApiKey, EndTxnRequest, FetchRequest, InitProducerIdRequest,
    ProducerId, RequestKind, ResponseKind, TopicName, TransactionalId,
};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::Compression;
use std::net::TcpStream;
use std::time::Duration;

fn tid(name: &'static str) -> TransactionalId {
    TransactionalId(StrBytes::from_static_str(name))
}

/// InitProducerId for `name`: (error, producer id, epoch).
fn init(stream: &mut TcpStream, name: &'static str) -> (i16, i64, i16) {
    let body = InitProducerIdRequest::default()
        .with_transactional_id(Some(tid(name)))
        .with_transaction_timeout_ms(60_000)
        .with_producer_id(ProducerId(-1))
        .with_producer_epoch(-1);
    let ResponseKind::InitProducerId(r) = call(
        stream,
        ApiKey::InitProducerId,
        3,
        RequestKind::InitProducerId(body),
    ) else {
        panic!("not InitProducerId");
    };
    (r.error_code, r.producer_id.0, r.producer_epoch)
}

fn add_partition(
    stream: &mut TcpStream,
    name: &'static str,
    (id, epoch): (i64, i16),
    p: i32,
) -> i16 {
    let topic = AddPartitionsToTxnTopic::default()
        .with_name(TopicName(StrBytes::from_static_str("t")))
        .with_partitions(vec![p]);
    let body = AddPartitionsToTxnRequest::default()
        .with_v3_and_below_transactional_id(tid(name))
        .with_v3_and_below_producer_id(ProducerId(id))
        .with_v3_and_below_producer_epoch(epoch)
        .with_v3_and_below_topics(vec![topic]);
    let ResponseKind::AddPartitionsToTxn(r) = call(
        stream,
        ApiKey::AddPartitionsToTxn,
        3,
        RequestKind::AddPartitionsToTxn(body),
    ) else {
        panic!("not AddPartitionsToTxn");
    };
    r.results_by_topic_v3_and_below[0].results_by_partition[0].partition_error_code
}

fn end(stream: &mut TcpStream, name: &'static str, (id, epoch): (i64, i16), commit: bool) -> i16 {
    let body = EndTxnRequest::default()
        .with_transactional_id(tid(name))
        .with_producer_id(ProducerId(id))
        .with_producer_epoch(epoch)
        .with_committed(commit);
    let ResponseKind::EndTxn(r) = call(stream, ApiKey::EndTxn, 3, RequestKind::EndTxn(body)) else {
        panic!("not EndTxn");
    };
    r.error_code
}

/// A read_committed Fetch of partition 0 from offset 0: (last stable offset, bytes, the
/// first offsets of the aborted transactions listed).
fn fetch_committed(stream: &mut TcpStream) -> (i64, usize, Vec<i64>) {
    let p = FetchPartition::default()
        .with_partition(0)
        .with_fetch_offset(0)
        .with_partition_max_bytes(1 << 20);
    let topic = FetchTopic::default()
        .with_topic(TopicName(StrBytes::from_static_str("t")))
        .with_partitions(vec![p]);
    let body = FetchRequest::default()
        .with_isolation_level(1)
        .with_max_bytes(1 << 20)
        .with_topics(vec![topic]);
    let ResponseKind::Fetch(r) = call(stream, ApiKey::Fetch, 12, RequestKind::Fetch(body)) else {
        panic!("not Fetch");
    };
    let p = &r.responses[0].partitions[0];
    let aborted = p
        .aborted_transactions
        .iter()
        .flatten()
        .map(|a| a.first_offset)
        .collect();
    (
        p.last_stable_offset,
        p.records.as_ref().map_or(0, Bytes::len),
        aborted,
    )
}

/// The values Brook's own consumer reads from partition 0.
fn brook_reads(fixture: &Fixture) -> Vec<String> {
    let mut consumer = fixture.log.consumer(None).expect("consumer");
    consumer
        .assign(&[(TopicPartition::new("t", 0), StartFrom::Earliest)])
        .expect("assign");
    let mut values = Vec::new();
    loop {
        let polled = consumer.poll(100, Duration::from_millis(50)).expect("poll");
        if polled.is_empty() {
            return values;
        }
        for r in polled.into_iter().flat_map(|p| p.records) {
            values
                .push(String::from_utf8_lossy(r.value.as_deref().unwrap_or_default()).into_owned());
        }
    }
}

fn txn_batch(values: &[&str], (id, epoch): (i64, i16), first_seq: i32) -> Bytes {
    producer_batch(values, Compression::None, (id, epoch, first_seq), true)
}

#[test]
fn read_committed_readers_wait_for_markers_and_never_see_aborted_records() {
    let mut fixture = Fixture::new(KafkaConfig::default());
    let mut s = fixture.connect();
    let (code, id, epoch) = init(&mut s, "tx");
    assert_eq!(code, 0);
    let producer = (id, epoch);
    // Outside a transaction's partitions, a transactional batch is refused.
    assert_eq!(
        produced(&mut s, 0, txn_batch(&["early"], producer, 0)).0,
        48
    );
    assert_eq!(add_partition(&mut s, "tx", producer, 0), 0);
    assert_eq!(
        produced(&mut s, 0, txn_batch(&["a1", "a2"], producer, 0)),
        (0, 0)
    );
    assert_eq!(
        produced(&mut s, 0, batch(&["plain"], Compression::None)),
        (0, 2)
    );
    let (lso, bytes, _) = fetch_committed(&mut s);
    assert_eq!(
        (lso, bytes),
        (0, 0),
        "nothing readable behind the open transaction"
    );
    assert!(brook_reads(&fixture).is_empty());
    assert_eq!(end(&mut s, "tx", producer, false), 0);
    assert_eq!(end(&mut s, "tx", producer, false), 0, "a retried EndTxn");
    let (lso, bytes, aborted) = fetch_committed(&mut s);
    assert_eq!(
        (lso, aborted),
        (4, vec![0]),
        "the abort marker took offset 3"
    );
    assert!(bytes > 0);
    assert_eq!(brook_reads(&fixture), vec!["plain"]);
    // A committed transaction is read, with the restarts in between.
    assert_eq!(add_partition(&mut s, "tx", producer, 0), 0);
    assert_eq!(produced(&mut s, 0, txn_batch(&["c1"], producer, 2)), (0, 4));
    for clean in [true, false] {
        fixture.reopen(clean);
        let mut s = fixture.connect();
        assert_eq!(
            fetch_committed(&mut s).0,
            4,
            "still open after a restart (clean {clean})"
        );
        assert_eq!(brook_reads(&fixture), vec!["plain"]);
    }
    let mut s = fixture.connect();
    assert_eq!(end(&mut s, "tx", producer, true), 0);
    assert_eq!(brook_reads(&fixture), vec!["plain", "c1"]);
    let (lso, _, aborted) = fetch_committed(&mut s);
    assert_eq!((lso, aborted), (6, vec![0]));
    fixture.reopen(false);
    assert_eq!(
        brook_reads(&fixture),
        vec!["plain", "c1"],
        "aborted records stay hidden"
    );
}

#[test]
fn a_second_init_fences_the_first_producer_and_aborts_its_transaction() {
    let fixture = Fixture::new(KafkaConfig::default());
    let mut s = fixture.connect();
    let (_, id, epoch) = init(&mut s, "app");
    assert_eq!(add_partition(&mut s, "app", (id, epoch), 0), 0);
    assert_eq!(
        produced(&mut s, 0, txn_batch(&["zombie"], (id, epoch), 0)),
        (0, 0)
    );
    let (code, id2, epoch2) = init(&mut s, "app");
    assert_eq!((code, id2, epoch2), (0, id, epoch + 1));
    assert_eq!(end(&mut s, "app", (id, epoch), true), 90, "PRODUCER_FENCED");
    assert_eq!(add_partition(&mut s, "app", (id, epoch), 0), 90);
    assert_eq!(
        produced(&mut s, 0, txn_batch(&["late"], (id, epoch), 1)).0,
        47
    );
    assert!(
        brook_reads(&fixture).is_empty(),
        "the zombie's transaction was aborted"
    );
    assert_eq!(fetch_committed(&mut s).2, vec![0]);
}
