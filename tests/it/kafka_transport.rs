//! `transport::Transport` over Kafka (rdkafka, `brook::kafka`) keeps the contract the engine
//! relies on. Each check runs on the embedded log and on Kafka, with Brook's own Kafka listener
//! as the cluster (the test broker does not hide aborted records, see its notes).

use crate::kafka_support::Fixture;
use brook::kafka::KafkaTransport;
use brook::kafka_wire::KafkaConfig;
use brook::transport::*;
use std::time::{Duration, Instant};

fn record(value: &str) -> ProducerRecord {
    ProducerRecord::new(None::<Vec<u8>>, Some(value.to_string()))
}

/// Every value of partition `tp` a read_committed consumer sees, and its position after them.
fn read_to_end(transport: &dyn Transport, tp: &TopicPartition) -> (Vec<String>, i64) {
    let end = transport.list_offset(tp, OffsetSpec::Latest).expect("end");
    let mut consumer = transport.consumer(None).expect("consumer");
    consumer
        .assign(&[(tp.clone(), StartFrom::Earliest)])
        .expect("assign");
    let mut values = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while consumer.position(tp).is_none_or(|p| p < end) {
        assert!(
            Instant::now() < deadline,
            "position stuck at {:?} before {end}",
            consumer.position(tp)
        );
        for part in consumer
            .poll(100, Duration::from_millis(200))
            .expect("poll")
        {
            for r in part.records {
                values.push(
                    String::from_utf8_lossy(r.value.as_deref().unwrap_or_default()).into_owned(),
                );
            }
        }
    }
    (values, consumer.position(tp).expect("position"))
}

/// Commits records and offsets together, aborts both together, reads past the markers to the
/// end, and fences an older producer with the same transactional id.
fn transactions_keep_their_contract(transport: &dyn Transport) {
    for topic in ["in", "out"] {
        transport
            .create_topic(topic, &TopicConfig::with_partitions(2))
            .expect("create");
    }
    let tp = TopicPartition::new("out", 0);
    let group = GroupMetadata::named("g");
    let input = TopicPartition::new("in", 0);
    let mut txp = transport.transactional_producer("app-1").expect("producer");

    txp.begin_transaction().expect("begin");
    txp.send("out", Some(0), record("a")).expect("send");
    txp.send("out", Some(0), record("b")).expect("send");
    txp.send_offsets_to_transaction(&group, &[(input.clone(), 42)])
        .expect("offsets");
    let outcomes = txp.commit_transaction().expect("commit");
    assert_eq!(outcomes.len(), 1, "{outcomes:?}");
    let (appended_tp, outcome) = &outcomes[0];
    assert_eq!(
        (appended_tp, outcome.last_offset - outcome.base_offset),
        (&tp, 1)
    );
    assert_eq!(
        transport.committed_offsets("g", "in").expect("committed"),
        vec![(0, 42)]
    );

    txp.begin_transaction().expect("begin");
    txp.send("out", Some(0), record("never")).expect("send");
    txp.send_offsets_to_transaction(&group, &[(input.clone(), 99)])
        .expect("offsets");
    txp.abort_transaction().expect("abort");
    assert_eq!(
        transport.committed_offsets("g", "in").expect("committed"),
        vec![(0, 42)]
    );

    txp.begin_transaction().expect("begin");
    txp.send("out", Some(0), record("c")).expect("send");
    txp.commit_transaction().expect("commit");

    let (values, position) = read_to_end(transport, &tp);
    assert_eq!(values, ["a", "b", "c"]);
    let end = transport.list_offset(&tp, OffsetSpec::Latest).expect("end");
    assert_eq!(position, end, "the position passes the markers to the end");

    let mut newer = transport.transactional_producer("app-1").expect("newer");
    let zombie = txp
        .begin_transaction()
        .and_then(|()| txp.send("out", Some(0), record("zombie")).map(drop))
        .and_then(|()| txp.commit_transaction().map(drop));
    assert!(
        matches!(zombie, Err(TransportError::Fenced(_))),
        "{zombie:?}"
    );
    newer.begin_transaction().expect("begin");
    newer.send("out", Some(0), record("d")).expect("send");
    newer.commit_transaction().expect("commit");
    assert_eq!(read_to_end(transport, &tp).0, ["a", "b", "c", "d"]);
}

#[test]
fn transactions_keep_their_contract_on_the_embedded_log() {
    let fixture = Fixture::new(KafkaConfig::default());
    transactions_keep_their_contract(&fixture.log);
}

#[test]
fn transactions_keep_their_contract_on_kafka() {
    let fixture = Fixture::new(KafkaConfig::default());
    let kafka = KafkaTransport::connect(&fixture.bootstrap()).expect("connect");
    transactions_keep_their_contract(&kafka);
}

/// Polls `consumer` until its assignment has `n` partitions (rebalances happen in polls).
fn poll_until_assigned(consumer: &mut dyn Consumer, n: usize) -> Vec<Rebalance> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = Vec::new();
    while consumer.assignment().len() != n {
        assert!(
            Instant::now() < deadline,
            "assignment {:?}, rebalances {seen:?}",
            consumer.assignment()
        );
        consumer
            .poll(100, Duration::from_millis(100))
            .expect("poll");
        seen.extend(consumer.take_rebalances());
    }
    seen.extend(consumer.take_rebalances());
    seen
}

#[test]
fn group_members_split_the_partitions_and_one_takes_over_when_the_other_leaves() {
    let fixture = Fixture::new(KafkaConfig::default());
    let kafka = KafkaTransport::connect(&fixture.bootstrap()).expect("connect");
    kafka
        .create_topic("four", &TopicConfig::with_partitions(4))
        .expect("create");
    let topics = ["four".to_string()];
    let mut a = kafka.consumer(Some("members")).expect("consumer");
    a.subscribe(&topics, AutoOffsetReset::Earliest)
        .expect("subscribe");
    poll_until_assigned(a.as_mut(), 4);
    let mut b = kafka.consumer(Some("members")).expect("consumer");
    b.subscribe(&topics, AutoOffsetReset::Earliest)
        .expect("subscribe");
    // Both poll while the group rebalances to two members.
    let deadline = Instant::now() + Duration::from_secs(60);
    while a.assignment().len() + b.assignment().len() != 4
        || b.assignment().is_empty()
        || a.assignment().len() != 2
    {
        assert!(
            Instant::now() < deadline,
            "a {:?}, b {:?}",
            a.assignment(),
            b.assignment()
        );
        a.poll(100, Duration::from_millis(50)).expect("poll");
        b.poll(100, Duration::from_millis(50)).expect("poll");
    }
    let mut all = a.assignment();
    all.extend(b.assignment());
    all.sort();
    assert_eq!(
        all,
        (0..4)
            .map(|p| TopicPartition::new("four", p))
            .collect::<Vec<_>>()
    );
    let a_changes = a.take_rebalances();
    assert!(
        a_changes.iter().any(|r| matches!(r, Rebalance::Revoked(_))),
        "{a_changes:?}"
    );
    drop(b);
    poll_until_assigned(a.as_mut(), 4);
}

#[test]
fn an_unreachable_cluster_is_an_error_that_names_its_address() {
    let port = crate::server::free_port();
    let bootstrap = format!("127.0.0.1:{port}");
    let started = Instant::now();
    let error = match KafkaTransport::connect(&bootstrap) {
        Ok(_) => panic!("nothing listens on {bootstrap}"),
        Err(e) => e.to_string(),
    };
    assert!(error.contains(&bootstrap), "{error}");
    assert!(error.contains("answered within"), "{error}");
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "the retries are bounded"
    );
}

/// Writing to or reading a topic that does not exist (auto-creation is off) names it.
fn a_missing_topic_is_named(transport: &dyn Transport) {
    let mut producer = transport.producer().expect("producer");
    let sent = producer.send("nowhere", None, record("x"));
    assert!(
        matches!(&sent, Err(TransportError::UnknownTopic(t)) if t == "nowhere"),
        "{sent:?}"
    );
    let counted = transport.partition_count("nowhere");
    assert!(
        matches!(&counted, Err(TransportError::UnknownTopic(t)) if t == "nowhere"),
        "{counted:?}"
    );
}

#[test]
fn a_missing_topic_is_named_on_the_embedded_log_and_on_kafka() {
    let fixture = Fixture::new(KafkaConfig::default());
    a_missing_topic_is_named(&fixture.log);
    let kafka = KafkaTransport::connect(&fixture.bootstrap()).expect("connect");
    a_missing_topic_is_named(&kafka);
}
