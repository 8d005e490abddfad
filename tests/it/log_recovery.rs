//! Recovery of the embedded log from torn tails, garbage, bit flips and lost indexes.

use crate::support::*;
use brook::transport::{OffsetSpec, TopicConfig, TopicPartition, Transport, TransportError};
use std::io::Write;

fn small_segments() -> TopicConfig {
    TopicConfig {
        segment_bytes: 2048,
        retention_ms: None,
        ..TopicConfig::with_partitions(1)
    }
}

/// Builds a closed log with `n` single-record batches; returns the last segment's size before
/// and after the last batch.
fn log_with_batches(dir: &std::path::Path, n: usize) -> (u64, u64) {
    let log = open(dir);
    log.create_topic("t", &TopicConfig::with_partitions(1))
        .expect("create");
    let vals = numbered(n);
    append_each(&log, "t", &vals[..n - 1]);
    let before = log.describe_topic("t").expect("describe").partitions[0]
        .size_bytes
        .expect("size");
    append_each(&log, "t", &vals[n - 1..]);
    let after = log.describe_topic("t").expect("describe").partitions[0]
        .size_bytes
        .expect("size");
    log.close().expect("close");
    (before, after)
}

#[test]
fn torn_tail_is_cut_at_every_byte_position_of_the_last_batch() {
    let base = tempfile::tempdir().expect("tempdir");
    let pristine = base.path().join("pristine");
    let (before, after) = log_with_batches(&pristine, 5);
    assert!(after > before);
    for cut in before..after {
        let dir = base.path().join(format!("cut-{cut}"));
        copy_dir(&pristine, &dir);
        forget_clean_shutdown(&dir);
        let segment = &segment_files(&dir, "t", 0)[0];
        std::fs::OpenOptions::new()
            .write(true)
            .open(segment)
            .expect("open")
            .set_len(cut)
            .expect("truncate");
        let log = open(&dir);
        assert_eq!(
            values(&read_all(&log, "t", 0)),
            numbered(4),
            "cut at byte {cut}"
        );
        append_each(&log, "t", &["after".to_string()]);
        let records = read_all(&log, "t", 0);
        assert_eq!(
            records.last().map(|r| r.offset),
            Some(4),
            "cut at byte {cut}: next offset"
        );
        log.close().expect("close");
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }
}

#[test]
fn garbage_after_the_last_batch_is_cut() {
    for garbage in [
        vec![0u8; 300],
        (0..=255u8).cycle().take(5000).collect::<Vec<_>>(),
        vec![0xff; 7],
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        log_with_batches(dir.path(), 6);
        forget_clean_shutdown(dir.path());
        let segment = &segment_files(dir.path(), "t", 0)[0];
        std::fs::OpenOptions::new()
            .append(true)
            .open(segment)
            .expect("open")
            .write_all(&garbage)
            .expect("write");
        let log = open(dir.path());
        assert_eq!(values(&read_all(&log, "t", 0)), numbered(6));
        append_each(&log, "t", &["next".to_string()]);
        assert_eq!(read_all(&log, "t", 0).len(), 7);
    }
}

#[test]
fn corruption_before_the_tail_fails_the_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    log_with_batches(dir.path(), 6);
    forget_clean_shutdown(dir.path());
    let segment = &segment_files(dir.path(), "t", 0)[0];
    flip_bit(segment, 70);
    match brook::log::EmbeddedLog::open(dir.path(), config(brook::log::FlushPolicy::Never)) {
        Err(TransportError::Corrupt { position, .. }) => assert_eq!(position, 0),
        Err(other) => panic!("expected corruption, got {other}"),
        Ok(_) => panic!("a flipped bit followed by valid batches must not be cut as a torn tail"),
    }
}

fn flip_bit(path: &std::path::Path, byte: usize) {
    let mut bytes = std::fs::read(path).expect("read");
    bytes[byte] ^= 0x10;
    std::fs::write(path, bytes).expect("write");
}

#[test]
fn a_flipped_bit_in_an_old_segment_is_detected_on_read_and_verify() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = open(dir.path());
    log.create_topic("t", &small_segments()).expect("create");
    append_each(&log, "t", &numbered(60));
    log.close().expect("close");
    let segments = segment_files(dir.path(), "t", 0);
    assert!(segments.len() >= 3, "expected rolls, got {segments:?}");
    flip_bit(&segments[0], 100);
    for crashed in [false, true] {
        if crashed {
            forget_clean_shutdown(dir.path());
        }
        let log = open(dir.path());
        let verified = log.verify_topic("t").expect("verify");
        assert!(
            matches!(
                verified.damage.as_slice(),
                [TransportError::CorruptBatch { partition: 0, .. }]
            ),
            "verify (crashed: {crashed}): {verified:?}"
        );
        let mut c = log.consumer(None).expect("consumer");
        c.assign(&[(
            TopicPartition::new("t", 0),
            brook::transport::StartFrom::Earliest,
        )])
        .expect("assign");
        let mut delivered = 0;
        let error = loop {
            match c.poll(10, std::time::Duration::ZERO) {
                Ok(batches) if !batches.is_empty() => {
                    delivered += batches.iter().map(|b| b.records.len() as u64).sum::<u64>();
                }
                other => break other,
            }
        };
        assert!(
            matches!(error, Err(TransportError::CorruptBatch { .. })),
            "fetch (crashed: {crashed}): {error:?}"
        );
        assert_eq!(delivered, verified.records, "the records before the damage");
        log.close().expect("close");
    }
}

#[test]
fn deleted_or_damaged_indexes_are_rebuilt() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = open(dir.path());
    log.create_topic("t", &small_segments()).expect("create");
    let mut p = log.producer().expect("producer");
    for i in 0..200i64 {
        p.send(
            "t",
            Some(0),
            brook::transport::ProducerRecord::new(Some(format!("k{i}")), Some(format!("v{i}")))
                .with_timestamp(i * 10),
        )
        .expect("send");
        p.flush().expect("flush");
    }
    log.close().expect("close");
    let pdir = partition_dir(dir.path(), "t", 0);
    let indexes: Vec<_> = std::fs::read_dir(&pdir)
        .expect("dir")
        .map(|e| e.expect("e").path())
        .filter(|p| {
            p.extension()
                .is_some_and(|e| e == "index" || e == "timeindex")
        })
        .collect();
    assert!(indexes.len() >= 4);
    for (i, path) in indexes.iter().enumerate() {
        if i % 2 == 0 {
            std::fs::remove_file(path).expect("rm")
        } else {
            std::fs::write(path, b"garbage!!").expect("write")
        }
    }
    let log = open(dir.path());
    let records = read_all(&log, "t", 0);
    assert_eq!(records.len(), 200);
    let tp = TopicPartition::new("t", 0);
    for (ts, expected) in [(0, 0), (5, 1), (990, 99), (1991, 200)] {
        assert_eq!(
            log.list_offset(&tp, OffsetSpec::Timestamp(ts))
                .expect("lookup"),
            expected,
            "timestamp {ts}"
        );
    }
    let mut c = log.consumer(None).expect("consumer");
    c.assign(&[(tp, brook::transport::StartFrom::Offset(137))])
        .expect("assign");
    let got = c.poll(1, std::time::Duration::ZERO).expect("poll");
    assert_eq!(got[0].records[0].offset, 137);
    assert_eq!(got[0].records[0].value.as_deref(), Some(&b"v137"[..]));
    log.close().expect("close");
    for path in &indexes {
        let len = std::fs::metadata(path).expect("rebuilt index exists").len();
        assert!(
            len % 4 == 0 && len != 9,
            "{} was not rebuilt",
            path.display()
        );
    }
}
