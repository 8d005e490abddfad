//! The embedded log through the `Transport` interface: appends and reads across segment rolls,
//! partitioning, groups, long polling, retention, and transactions.

use crate::support::*;
use brook::transport::*;
use std::time::{Duration, Instant};

#[test]
fn appends_and_fetches_across_segment_rolls_and_restarts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = open(dir.path());
    log.create_topic(
        "t",
        &TopicConfig {
            segment_bytes: 4096,
            ..TopicConfig::with_partitions(1)
        },
    )
    .expect("create");
    let mut p = log.producer().expect("producer");
    let mut expected = Vec::new();
    for round in 0..50 {
        for i in 0..(round % 7 + 1) {
            let v = format!("r{round}-{i}-{}", "x".repeat(round * 3));
            p.send(
                "t",
                Some(0),
                ProducerRecord::new(None::<Vec<u8>>, Some(v.clone())),
            )
            .expect("send");
            expected.push(v);
        }
        p.flush().expect("flush");
    }
    let described = log.describe_topic("t").expect("describe");
    assert!(
        described.partitions[0].segments.is_some_and(|s| s > 3),
        "{described:?}"
    );
    assert_eq!(values(&read_all(&log, "t", 0)), expected);
    log.close().expect("close");
    let log = open(dir.path());
    let records = read_all(&log, "t", 0);
    assert_eq!(values(&records), expected);
    assert!(
        records
            .iter()
            .enumerate()
            .all(|(i, r)| r.offset == i as i64),
        "offsets are dense"
    );
    let mut c = log.consumer(None).expect("consumer");
    for start in [0i64, 1, 57, 100, expected.len() as i64 - 1] {
        c.assign(&[(TopicPartition::new("t", 0), StartFrom::Offset(start))])
            .expect("assign");
        let got = c.poll(1, Duration::ZERO).expect("poll");
        assert_eq!(got[0].records[0].offset, start);
        assert_eq!(
            values(&got[0].records),
            vec![expected[start as usize].clone()]
        );
    }
}

#[test]
fn keys_land_where_kafkas_partitioner_puts_them_and_null_keys_spread() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = open(dir.path());
    log.create_topic("t", &TopicConfig::with_partitions(4))
        .expect("create");
    let mut p = log.producer().expect("producer");
    for i in 0..40 {
        let key = format!("key-{i}");
        assert_eq!(
            p.send("t", None, ProducerRecord::new(Some(key.clone()), Some("v")))
                .expect("send"),
            partition_for_key(key.as_bytes(), 4)
        );
    }
    for _ in 0..40 {
        p.send("t", None, ProducerRecord::new(None::<Vec<u8>>, Some("v")))
            .expect("send");
    }
    p.flush().expect("flush");
    for partition in 0..4 {
        let records = read_all(&log, "t", partition);
        let keyed: Vec<_> = records.iter().filter_map(|r| r.key.as_ref()).collect();
        assert!(keyed.iter().all(|k| partition_for_key(k, 4) == partition));
        assert_eq!(
            records.iter().filter(|r| r.key.is_none()).count(),
            10,
            "round-robin share of partition {partition}"
        );
    }
}

#[test]
fn group_offsets_survive_restart_and_consumers_resume_from_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = open(dir.path());
    log.create_topic("t", &TopicConfig::with_partitions(2))
        .expect("create");
    let mut p = log.producer().expect("producer");
    for i in 0..10 {
        p.send(
            "t",
            Some(i % 2),
            ProducerRecord::new(None::<Vec<u8>>, Some(format!("{i}"))),
        )
        .expect("send");
    }
    p.flush().expect("flush");
    let mut c = log.consumer(Some("g")).expect("consumer");
    let tps = [TopicPartition::new("t", 0), TopicPartition::new("t", 1)];
    c.assign(
        &tps.iter()
            .map(|tp| {
                (
                    tp.clone(),
                    StartFrom::Committed {
                        fallback: AutoOffsetReset::Earliest,
                    },
                )
            })
            .collect::<Vec<_>>(),
    )
    .expect("assign");
    let first = c.poll(3, Duration::ZERO).expect("poll");
    assert_eq!(first.iter().map(|b| b.records.len()).sum::<usize>(), 3);
    c.commit().expect("commit");
    let positions: Vec<i64> = tps.iter().map(|tp| c.position(tp).expect("pos")).collect();
    drop(c);
    log.close().expect("close");

    let log = open(dir.path());
    let committed = log.committed_offsets("g", "t").expect("committed");
    assert_eq!(committed, vec![(0, positions[0]), (1, positions[1])]);
    let mut c = log.consumer(Some("g")).expect("consumer");
    c.assign(
        &tps.iter()
            .map(|tp| {
                (
                    tp.clone(),
                    StartFrom::Committed {
                        fallback: AutoOffsetReset::Latest,
                    },
                )
            })
            .collect::<Vec<_>>(),
    )
    .expect("assign");
    let rest: usize = c
        .poll(100, Duration::ZERO)
        .expect("poll")
        .iter()
        .map(|b| b.records.len())
        .sum();
    assert_eq!(rest, 7, "resumes after the 3 committed records");
}

#[test]
fn a_waiting_poll_wakes_up_when_data_arrives() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = open(dir.path());
    log.create_topic("t", &TopicConfig::with_partitions(1))
        .expect("create");
    let mut c = log.consumer(None).expect("consumer");
    c.assign(&[(TopicPartition::new("t", 0), StartFrom::Latest)])
        .expect("assign");
    let writer = {
        let log = log.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            let mut p = log.producer().expect("producer");
            p.send(
                "t",
                None,
                ProducerRecord::new(None::<Vec<u8>>, Some("hello")),
            )
            .expect("send");
            p.flush().expect("flush");
        })
    };
    let timeout = Duration::from_secs(120);
    let started = Instant::now();
    let got = c.poll(10, timeout).expect("poll");
    assert!(
        started.elapsed() < timeout,
        "poll waited for its whole timeout instead of being woken"
    );
    assert_eq!(values(&got[0].records), vec!["hello".to_string()]);
    writer.join().expect("writer");
    assert!(
        c.poll(10, Duration::from_millis(20))
            .expect("poll")
            .is_empty()
    );
}

#[test]
fn retention_deletes_old_segments_by_size_and_by_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = open(dir.path());
    let by_size = TopicConfig {
        segment_bytes: 2048,
        retention_ms: None,
        retention_bytes: Some(6000),
        ..TopicConfig::with_partitions(1)
    };
    let by_time = TopicConfig {
        segment_bytes: 2048,
        retention_ms: Some(60_000),
        ..TopicConfig::with_partitions(1)
    };
    log.create_topic("size", &by_size).expect("create");
    log.create_topic("time", &by_time).expect("create");
    append_each(&log, "size", &numbered(200));
    append_each(&log, "time", &numbered(200));
    let before = log.describe_topic("size").expect("describe").partitions[0].clone();
    let report = log
        .run_maintenance(brook::log::now_ms())
        .expect("maintenance");
    let size = log.describe_topic("size").expect("describe").partitions[0].clone();
    assert!(report.segments_deleted > 0);
    // Kafka's rule: drop the oldest segment while the rest alone still reaches the limit.
    let bytes = size.size_bytes.expect("the embedded log says its size");
    assert!((6000..6000 + 2048).contains(&bytes), "{size:?}");
    assert_eq!(size.end_offset, before.end_offset);
    assert!(size.start_offset > 0);
    let kept = read_all(&log, "size", 0);
    assert_eq!(kept.first().map(|r| r.offset), Some(size.start_offset));
    assert_eq!(
        values(&kept),
        numbered(200)[size.start_offset as usize..].to_vec()
    );
    // Records are stamped at t=1000 ms: everything but the active segment is past 60 s.
    let time = log.describe_topic("time").expect("describe").partitions[0].clone();
    assert_eq!(time.segments, Some(1));
    assert_eq!(
        read_all(&log, "time", 0).len() as i64,
        time.end_offset - time.start_offset
    );
    log.close().expect("close");
    let log = open(dir.path());
    assert_eq!(
        log.describe_topic("size").expect("describe").partitions[0],
        size
    );
}

#[test]
fn bad_requests_get_clear_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = open(dir.path());
    log.create_topic("t", &TopicConfig::with_partitions(2))
        .expect("create");
    assert!(matches!(
        log.create_topic("t", &TopicConfig::default()),
        Err(TransportError::TopicExists(_))
    ));
    assert!(matches!(
        log.create_topic("bad/name", &TopicConfig::default()),
        Err(TransportError::InvalidTopicName { .. })
    ));
    assert!(matches!(
        log.describe_topic("nope"),
        Err(TransportError::UnknownTopic(_))
    ));
    let mut p = log.producer().expect("producer");
    assert!(matches!(
        p.send("t", Some(2), ProducerRecord::default()),
        Err(TransportError::UnknownPartition { .. })
    ));
    let mut c = log.consumer(None).expect("consumer");
    c.assign(&[(TopicPartition::new("t", 0), StartFrom::Offset(5))])
        .expect("assign");
    assert!(matches!(
        c.poll(1, Duration::ZERO),
        Err(TransportError::OffsetOutOfRange { .. })
    ));
    assert!(matches!(
        brook::log::EmbeddedLog::open(dir.path(), config(brook::log::FlushPolicy::Never)),
        Err(TransportError::Locked { .. })
    ));
    log.delete_topic("t").expect("delete");
    assert!(log.list_topics().expect("list").is_empty());
    assert!(matches!(
        c.poll(1, Duration::ZERO),
        Err(TransportError::UnknownTopic(_))
    ));
}

#[test]
fn transactions_commit_records_and_offsets_together_or_not_at_all() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = open(dir.path());
    log.create_topic("in", &TopicConfig::with_partitions(1))
        .expect("create");
    log.create_topic("out", &TopicConfig::with_partitions(2))
        .expect("create");
    let mut reader = log.consumer(None).expect("consumer");
    reader
        .assign(&[
            (TopicPartition::new("out", 0), StartFrom::Earliest),
            (TopicPartition::new("out", 1), StartFrom::Earliest),
        ])
        .expect("assign");
    let mut txp = log.transactional_producer("app-1").expect("txn producer");
    txp.begin_transaction().expect("begin");
    txp.send(
        "out",
        Some(0),
        ProducerRecord::new(None::<Vec<u8>>, Some("a")),
    )
    .expect("send");
    txp.send(
        "out",
        Some(1),
        ProducerRecord::new(None::<Vec<u8>>, Some("b")),
    )
    .expect("send");
    txp.send_offsets_to_transaction(
        &GroupMetadata::named("g"),
        &[(TopicPartition::new("in", 0), 42)],
    )
    .expect("offsets");
    assert!(
        reader.poll(10, Duration::ZERO).expect("poll").is_empty(),
        "open transaction is invisible"
    );
    assert!(
        log.committed_offsets("g", "in")
            .expect("committed")
            .is_empty()
    );
    txp.commit_transaction().expect("commit");
    assert_eq!(
        reader
            .poll(10, Duration::ZERO)
            .expect("poll")
            .iter()
            .map(|b| b.records.len())
            .sum::<usize>(),
        2
    );
    assert_eq!(
        log.committed_offsets("g", "in").expect("committed"),
        vec![(0, 42)]
    );

    txp.begin_transaction().expect("begin");
    txp.send(
        "out",
        Some(0),
        ProducerRecord::new(None::<Vec<u8>>, Some("never")),
    )
    .expect("send");
    txp.send_offsets_to_transaction(
        &GroupMetadata::named("g"),
        &[(TopicPartition::new("in", 0), 99)],
    )
    .expect("offsets");
    txp.abort_transaction().expect("abort");
    assert!(reader.poll(10, Duration::ZERO).expect("poll").is_empty());
    assert_eq!(
        log.committed_offsets("g", "in").expect("committed"),
        vec![(0, 42)]
    );

    let mut newer = log.transactional_producer("app-1").expect("newer instance");
    assert!(matches!(
        txp.begin_transaction(),
        Err(TransportError::Fenced(_))
    ));
    newer.begin_transaction().expect("begin");
    newer
        .send(
            "out",
            Some(1),
            ProducerRecord::new(None::<Vec<u8>>, Some("c")),
        )
        .expect("send");
    newer.commit_transaction().expect("commit");
    assert_eq!(
        values(&read_all(&log, "out", 1)),
        vec!["b".to_string(), "c".to_string()]
    );
}

#[test]
fn compacted_topics_keep_the_latest_value_per_key_and_consumers_cross_the_gaps() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = open(dir.path());
    log.create_topic(
        "users",
        &TopicConfig {
            segment_bytes: 1024,
            ..TopicConfig::compacted(1)
        },
    )
    .expect("create");
    let mut p = log.producer().expect("producer");
    for round in 0..30 {
        for user in 0..5 {
            let value = (round < 29 || user != 3).then(|| format!("u{user}-r{round}"));
            p.send(
                "users",
                Some(0),
                ProducerRecord {
                    key: Some(format!("u{user}").into()),
                    value: value.map(Into::into),
                    timestamp: None,
                    headers: vec![],
                },
            )
            .expect("send");
        }
        p.flush().expect("flush");
    }
    let end = log.describe_topic("users").expect("describe").partitions[0].end_offset;
    let report = log.run_maintenance(brook::log::now_ms()).expect("compact");
    assert!(report.segments_compacted > 0);
    let records = read_all(&log, "users", 0);
    assert!(
        records.len() < 40,
        "compaction removed little: {} records left",
        records.len()
    );
    let mut latest = std::collections::BTreeMap::new();
    for r in &records {
        latest.insert(r.key.clone().expect("key"), r.value.clone());
    }
    for user in 0..5 {
        let expected = (user != 3).then(|| bytes::Bytes::from(format!("u{user}-r29")));
        assert_eq!(
            latest[&bytes::Bytes::from(format!("u{user}"))],
            expected,
            "user {user}"
        );
    }
    assert_eq!(
        log.describe_topic("users").expect("describe").partitions[0].end_offset,
        end
    );
}
