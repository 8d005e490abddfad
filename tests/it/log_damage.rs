//! Damage the log must report (issue 13, section 4): a segment truncated to 0 bytes, and a bit
//! flipped mid-file after a clean shutdown. Through the log API and through `brook` as a user
//! runs it.

use crate::cli::{brook, ok};
use crate::support::*;
use brook::transport::{StartFrom, TopicConfig, TopicPartition, Transport, TransportError};
use std::path::Path;
use std::time::Duration;

/// `numbered(1020)` in four batches of 255, cleanly closed.
fn log_of_1020_records(dir: &Path) {
    let log = open(dir);
    log.create_topic("t", &TopicConfig::with_partitions(1))
        .expect("create");
    let mut p = log.producer().expect("producer");
    for chunk in numbered(1020).chunks(255) {
        for v in chunk {
            p.send(
                "t",
                Some(0),
                brook::transport::ProducerRecord::new(None::<Vec<u8>>, Some(v.clone())),
            )
            .expect("send");
        }
        p.flush().expect("flush");
    }
    log.close().expect("close");
}

fn truncate(path: &Path, len: u64) {
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .expect("open")
        .set_len(len)
        .expect("truncate");
}

fn flip_bit(path: &Path, byte: u64) {
    let mut bytes = std::fs::read(path).expect("read");
    bytes[byte as usize] ^= 0x10;
    std::fs::write(path, bytes).expect("write");
}

#[test]
fn a_segment_truncated_to_zero_after_a_clean_shutdown_refuses_the_open_saying_what_is_gone() {
    let dir = tempfile::tempdir().expect("tempdir");
    log_of_1020_records(dir.path());
    let segment = &segment_files(dir.path(), "t", 0)[0];
    truncate(segment, 0);
    match brook::log::EmbeddedLog::open(dir.path(), config(brook::log::FlushPolicy::Never)) {
        Err(TransportError::Corrupt { path, reason, .. }) => {
            assert_eq!(&path, segment);
            assert!(
                reason.contains("t-0: ")
                    && reason.contains("has 0 bytes but held offsets 0..1019 (1020 records)"),
                "{reason}"
            );
        }
        Err(other) => panic!("expected Corrupt, got {other}"),
        Ok(log) => panic!(
            "opened with end offset {:?}: 1,020 acknowledged records vanished silently",
            log.describe_topic("t").map(|d| d.partitions[0].end_offset)
        ),
    }
    // The way out docs/log.md gives: recover as after a crash, accepting the loss.
    forget_clean_shutdown(dir.path());
    let log = open(dir.path());
    assert_eq!(
        log.describe_topic("t").expect("describe").partitions[0].end_offset,
        0
    );
}

/// A cleanly closed topic of three 100-record batches with a bit flipped in the second one;
/// returns the byte where the first batch ends.
fn log_with_a_flip_in_the_second_batch(dir: &Path) -> u64 {
    let log = open(dir);
    log.create_topic("t", &TopicConfig::with_partitions(1))
        .expect("create");
    let mut p = log.producer().expect("producer");
    let mut ends = Vec::new();
    for chunk in numbered(300).chunks(100) {
        for v in chunk {
            p.send(
                "t",
                Some(0),
                brook::transport::ProducerRecord::new(None::<Vec<u8>>, Some(v.clone())),
            )
            .expect("send");
        }
        p.flush().expect("flush");
        let size = log.describe_topic("t").expect("describe").partitions[0].size_bytes;
        ends.push(size.expect("the embedded log says its size"));
    }
    log.close().expect("close");
    flip_bit(&segment_files(dir, "t", 0)[0], (ends[0] + ends[1]) / 2);
    ends[0]
}

#[test]
fn after_a_bit_flip_reads_deliver_every_record_before_the_damaged_batch_then_report_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let damaged_at = log_with_a_flip_in_the_second_batch(dir.path());
    let log = open(dir.path());
    let tp = TopicPartition::new("t", 0);
    let mut c = log.consumer(None).expect("consumer");
    c.assign(&[(tp.clone(), StartFrom::Earliest)])
        .expect("assign");
    let mut delivered = Vec::new();
    let error = loop {
        match c.poll(1000, Duration::ZERO) {
            Ok(batches) => {
                assert!(!batches.is_empty(), "no progress and no error");
                delivered.extend(batches.into_iter().flat_map(|b| b.records));
            }
            Err(e) => break e,
        }
    };
    assert_eq!(values(&delivered), numbered(100));
    match error {
        TransportError::CorruptBatch {
            topic,
            partition,
            offset,
            path,
            position,
            ..
        } => {
            assert_eq!((topic.as_str(), partition, offset), ("t", 0, 100));
            assert_eq!(
                (path, position),
                (segment_files(dir.path(), "t", 0)[0].clone(), damaged_at)
            );
        }
        other => panic!("expected CorruptBatch, got {other}"),
    }
    assert_eq!(c.position(&tp), Some(100), "stays at the damage");

    let verified = log.verify_topic("t").expect("verify");
    assert_eq!(verified.records, 100);
    assert!(
        matches!(
            verified.damage.as_slice(),
            [TransportError::CorruptBatch { offset: 100, .. }]
        ),
        "{:?}",
        verified.damage
    );
}

#[test]
fn a_consumer_returns_the_other_partitions_records_before_reporting_one_damaged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = open(dir.path());
    log.create_topic("t", &TopicConfig::with_partitions(2))
        .expect("create");
    let mut p = log.producer().expect("producer");
    for partition in [0, 1] {
        // Three batches, so that a clean open (which checks the bytes after the last index
        // entry) does not see the flip in the first one.
        for chunk in numbered(30).chunks(10) {
            for v in chunk {
                p.send(
                    "t",
                    Some(partition),
                    brook::transport::ProducerRecord::new(None::<Vec<u8>>, Some(v.clone())),
                )
                .expect("send");
            }
            p.flush().expect("flush");
        }
    }
    log.close().expect("close");
    flip_bit(&segment_files(dir.path(), "t", 1)[0], 100);
    let log = open(dir.path());
    let mut c = log.consumer(None).expect("consumer");
    let tps = [TopicPartition::new("t", 0), TopicPartition::new("t", 1)];
    c.assign(&tps.clone().map(|tp| (tp, StartFrom::Earliest)))
        .expect("assign");
    let first = c
        .poll(1000, Duration::ZERO)
        .expect("partition 0's records first");
    let records: Vec<_> = first.iter().flat_map(|b| &b.records).collect();
    assert_eq!(records.len(), 30, "{first:?}");
    assert_eq!(c.position(&tps[0]), Some(30));
    assert!(
        matches!(
            c.poll(1000, Duration::ZERO),
            Err(TransportError::CorruptBatch {
                partition: 1,
                offset: 0,
                ..
            })
        ),
        "then the damage of partition 1"
    );
}

#[test]
fn brook_consume_and_verify_show_the_records_before_a_bit_flip_and_where_it_is() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    // Three batches of about 11 KB: the flip in the second is before the last index entry, in
    // what a clean open does not scan.
    produce_batches(d, 3, 1000, |i| i.to_string());
    let segment = &segment_files(d, "t", 0)[0];
    let size = std::fs::metadata(segment).expect("size").len();
    flip_bit(segment, size / 2);

    let consumed = brook(d, &["consume", "t", "--from-beginning"], "");
    let stdout = String::from_utf8_lossy(&consumed.stdout);
    let stderr = String::from_utf8_lossy(&consumed.stderr);
    assert!(!consumed.status.success(), "damage is a failure: {stderr}");
    let printed: Vec<&str> = stdout.lines().collect();
    assert_eq!(printed.first(), Some(&"0"), "{stderr}");
    assert_eq!(printed.len(), 1000, "the whole first batch: {stderr}");
    assert!(
        stderr.contains("damaged record batch in t-0: offsets from 1000 cannot be read"),
        "{stderr}"
    );

    let verify = brook(d, &["topic", "verify", "t"], "");
    let stdout = String::from_utf8_lossy(&verify.stdout);
    assert!(!verify.status.success());
    assert!(
        stdout.contains("t: 1000 records read; damaged partitions:")
            && stdout.contains("offsets from 1000 cannot be read"),
        "{stdout}"
    );
}

#[test]
fn brook_refuses_a_log_whose_segment_was_truncated_and_warns_once_the_loss_is_accepted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    produce_batches(d, 4, 255, |i| {
        format!("{{\"n\":{i},\"pad\":\"xxxxxxxxxxxxxxxxxxxxxxxx\"}}")
    });
    truncate(&segment_files(d, "t", 0)[0], 0);
    let refused = brook(d, &["topic", "describe", "t"], "");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(
        stderr.contains("t-0: ")
            && stderr.contains("has 0 bytes but held offsets 0..1019 (1020 records)"),
        "{stderr}"
    );
    forget_clean_shutdown(d);
    let accepted = brook(d, &["topic", "describe", "t"], "");
    let stderr = String::from_utf8_lossy(&accepted.stderr);
    assert!(accepted.status.success(), "{stderr}");
    assert!(
        stderr.contains("RECORDS LOST in recovery: t-0: ")
            && stderr.contains("lost at least offsets 0.."),
        "{stderr}"
    );
}

/// Creates topic `t` and appends `batches` batches of `per_batch` lines (`line` of the record
/// number) with `brook produce`.
fn produce_batches(d: &Path, batches: usize, per_batch: usize, line: impl Fn(usize) -> String) {
    ok(d, &["topic", "create", "t"], "");
    for batch in 0..batches {
        let lines: String = (batch * per_batch..(batch + 1) * per_batch)
            .map(|i| format!("{}\n", line(i)))
            .collect();
        ok(d, &["produce", "t"], &lines);
    }
}
