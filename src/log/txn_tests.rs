//! Transaction tests: commits interrupted after their redo frame, torn frames.

use super::*;
use crate::log::{EmbeddedLog, FlushPolicy, LogConfig};
use crate::transport::{StartFrom, TopicConfig, Transport};
use std::sync::Mutex;

/// Transactional id whose commit "crashes" after applying this many partitions.
static CRASH: Mutex<Option<(String, usize)>> = Mutex::new(None);

pub(super) fn maybe_crash(id: &str, applied: usize) -> Result<()> {
    let crash = CRASH.lock().map(|c| c.clone()).unwrap_or(None);
    match crash {
        Some((crash_id, at)) if crash_id == id && at == applied => {
            Err(TransportError::Transaction("simulated crash".into()))
        }
        _ => Ok(()),
    }
}

fn open(dir: &Path) -> EmbeddedLog {
    EmbeddedLog::open(
        dir,
        LogConfig {
            flush: FlushPolicy::Never,
            ..LogConfig::default()
        },
    )
    .expect("open")
}

fn values(log: &EmbeddedLog, topic: &str) -> Vec<String> {
    let mut c = log.consumer(None).expect("consumer");
    c.assign(&[(TopicPartition::new(topic, 0), StartFrom::Earliest)])
        .expect("assign");
    let polled = c.poll(100, std::time::Duration::ZERO).expect("poll");
    polled
        .iter()
        .flat_map(|b| &b.records)
        .map(|r| String::from_utf8_lossy(r.value.as_deref().unwrap_or_default()).into_owned())
        .collect()
}

/// A commit that dies after its redo frame, having applied `applied` of its two partitions,
/// is completed exactly once when the log is reopened (twice, to check idempotence).
fn crash_and_recover(applied: usize) {
    let dir = tempfile::tempdir().expect("tempdir");
    let id = format!("crash-after-{applied}");
    let log = open(dir.path());
    for t in ["a", "b"] {
        log.create_topic(t, &TopicConfig::with_partitions(1))
            .expect("create");
    }
    let mut p = log.transactional_producer(&id).expect("producer");
    p.begin_transaction().expect("begin");
    p.send(
        "a",
        Some(0),
        ProducerRecord::new(None::<Vec<u8>>, Some("a1")),
    )
    .expect("send");
    p.send(
        "b",
        Some(0),
        ProducerRecord::new(None::<Vec<u8>>, Some("b1")),
    )
    .expect("send");
    p.send_offsets_to_transaction(
        &GroupMetadata::named("g"),
        &[(TopicPartition::new("in", 0), 7)],
    )
    .expect("offsets");
    *CRASH.lock().expect("lock") = Some((id.clone(), applied));
    assert!(
        p.commit_transaction().is_err(),
        "the simulated crash must interrupt the commit"
    );
    *CRASH.lock().expect("lock") = None;
    assert!(
        log.committed_offsets("g", "in")
            .expect("offsets")
            .is_empty()
    );
    log.close().expect("close");
    for _ in 0..2 {
        let log = open(dir.path());
        assert_eq!(
            values(&log, "a"),
            vec!["a1"],
            "after crashing with {applied} applied"
        );
        assert_eq!(
            values(&log, "b"),
            vec!["b1"],
            "after crashing with {applied} applied"
        );
        assert_eq!(
            log.committed_offsets("g", "in").expect("offsets"),
            vec![(0, 7)]
        );
        log.close().expect("close");
    }
}

#[test]
fn a_commit_interrupted_after_its_redo_frame_completes_on_reopen() {
    crash_and_recover(0);
    crash_and_recover(1);
}

#[test]
fn a_torn_redo_frame_is_not_applied() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = open(dir.path());
    log.create_topic("a", &TopicConfig::with_partitions(1))
        .expect("create");
    let mut p = log.transactional_producer("torn").expect("producer");
    p.begin_transaction().expect("begin");
    p.send(
        "a",
        Some(0),
        ProducerRecord::new(None::<Vec<u8>>, Some("x")),
    )
    .expect("send");
    *CRASH.lock().expect("lock") = Some(("torn".into(), 0));
    assert!(p.commit_transaction().is_err());
    *CRASH.lock().expect("lock") = None;
    log.close().expect("close");
    let redo = dir.path().join("txn").join("redo.log");
    let len = std::fs::metadata(&redo).expect("redo").len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&redo)
        .expect("open")
        .set_len(len - 3)
        .expect("tear");
    let log = open(dir.path());
    assert!(
        values(&log, "a").is_empty(),
        "a torn frame was never committed"
    );
    assert_eq!(std::fs::metadata(&redo).expect("redo").len(), 0);
}
