//! Crashes between transactional steps: the group offsets of recent commits live only in the
//! redo log's frames until a checkpoint, so a crash at any point must still resume exactly.
//!
//! A "crash" is a copy of the data directory taken while the log is open (what a killed process
//! leaves: everything written, no clean-shutdown marker), opened as a log of its own.

use crate::log::{EmbeddedLog, FlushPolicy, LogConfig};
use crate::transport::{
    GroupMetadata, ProducerRecord, StartFrom, TopicConfig, TopicPartition, Transport,
};
use std::path::Path;
use std::time::Duration;

fn open(dir: &Path) -> EmbeddedLog {
    let config = LogConfig {
        flush: FlushPolicy::Never,
        ..LogConfig::default()
    };
    EmbeddedLog::open(dir, config).expect("open")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else if entry.file_name() != "LOCK" {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

fn values(log: &EmbeddedLog, topic: &str) -> Vec<String> {
    let mut c = log.consumer(None).expect("consumer");
    c.assign(&[(TopicPartition::new(topic, 0), StartFrom::Earliest)])
        .expect("assign");
    let polled = c.poll(1000, Duration::ZERO).expect("poll");
    polled
        .iter()
        .flat_map(|b| &b.records)
        .map(|r| String::from_utf8_lossy(r.value.as_deref().unwrap_or_default()).into_owned())
        .collect()
}

fn step(log: &EmbeddedLog, p: &mut dyn crate::transport::TransactionalProducer, n: i64) {
    p.begin_transaction().expect("begin");
    let record = ProducerRecord::new(None::<Vec<u8>>, Some(format!("s{n}")));
    p.send("out", Some(0), record).expect("send");
    p.send_offsets_to_transaction(
        &GroupMetadata::named("g"),
        &[(TopicPartition::new("in", 0), n * 10)],
    )
    .expect("offsets");
    p.commit_transaction().expect("commit");
    assert_eq!(
        log.committed_offsets("g", "in").expect("offsets"),
        vec![(0, n * 10)]
    );
}

#[test]
fn a_crash_between_transactional_steps_resumes_exactly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let crashes = tempfile::tempdir().expect("tempdir");
    let log = open(dir.path());
    for t in ["in", "out"] {
        log.create_topic(t, &TopicConfig::with_partitions(1))
            .expect("create");
    }
    let mut p = log.transactional_producer("q").expect("producer");
    // (crash copy, expected output, expected committed offset of g)
    let mut expected = Vec::new();
    let mut outputs = Vec::new();
    for n in 1..=6 {
        step(&log, &mut *p, n);
        outputs.push(format!("s{n}"));
        if n == 4 {
            // Rewinding outside a transaction: no older frame may win over it on recovery.
            log.commit_offsets("g", &[(TopicPartition::new("in", 0), 5)])
                .expect("commit");
        }
        let offset = if n == 4 { 5 } else { n * 10 };
        let copy = crashes.path().join(format!("after-{n}"));
        copy_dir(dir.path(), &copy);
        expected.push((copy, outputs.clone(), offset));
    }
    let redo = crashes.path().join("after-3").join("txn").join("redo.log");
    assert!(
        std::fs::metadata(&redo).expect("redo").len() > 0,
        "offsets of recent commits are in the redo log, not yet checkpointed"
    );
    for (copy, outputs, offset) in expected {
        for _ in 0..2 {
            let log = open(&copy);
            assert_eq!(values(&log, "out"), outputs, "{}", copy.display());
            assert_eq!(
                log.committed_offsets("g", "in").expect("offsets"),
                vec![(0, offset)],
                "{}",
                copy.display()
            );
            log.close().expect("close");
        }
    }
    log.close().expect("close");
    let log = open(dir.path());
    assert_eq!(
        log.committed_offsets("g", "in").expect("offsets"),
        vec![(0, 60)]
    );
    let redo = dir.path().join("txn").join("redo.log");
    assert_eq!(std::fs::metadata(&redo).expect("redo").len(), 0);
}

#[test]
fn deleting_a_topic_named_by_an_unchecked_frame_keeps_the_log_openable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = open(dir.path());
    for t in ["in", "out"] {
        log.create_topic(t, &TopicConfig::with_partitions(1))
            .expect("create");
    }
    let mut p = log.transactional_producer("q").expect("producer");
    step(&log, &mut *p, 1);
    log.delete_topic("out").expect("delete");
    log.delete_topic("in").expect("delete");
    let copy = tempfile::tempdir().expect("tempdir");
    copy_dir(dir.path(), copy.path());
    let crashed = open(copy.path());
    assert!(
        crashed
            .committed_offsets("g", "in")
            .expect("offsets")
            .is_empty()
    );
    assert!(crashed.list_topics().expect("list").is_empty());
}
