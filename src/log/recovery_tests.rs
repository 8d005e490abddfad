//! Unit tests of damage handling at the partition level: reads that stop at a damaged batch,
//! and opens that notice records missing from a segment (refused when it was fsynced, warned
//! about when a crash may explain it).

use super::config::FlushPolicy;
use super::partition::{Partition, PartitionEnv};
use crate::transport::{ProducerRecord, TopicConfig, TransportError};
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

const ENV: PartitionEnv = PartitionEnv {
    flush: FlushPolicy::Never,
    index_interval_bytes: 128,
};

fn open(dir: &Path, config: &TopicConfig, clean: bool) -> crate::transport::Result<Partition> {
    Partition::open(dir, Arc::from("t"), 0, config, ENV, clean, 0)
}

/// A closed partition of three 10-record batches; returns the byte where each batch ends.
fn three_batches(dir: &Path, config: &TopicConfig) -> Vec<u64> {
    let mut p = Partition::create(dir, Arc::from("t"), 0, config, ENV, 0).expect("create");
    let mut ends = Vec::new();
    for b in 0..3 {
        let records: Vec<ProducerRecord> = (0..10)
            .map(|i| {
                ProducerRecord::new(Some(format!("k{b}-{i}")), Some(format!("v{b}-{i}")))
                    .with_timestamp(b * 100)
            })
            .collect();
        p.append(&records, 0).expect("append");
        ends.push(p.size_bytes());
    }
    p.close().expect("close");
    ends
}

fn segment_path(dir: &Path) -> std::path::PathBuf {
    dir.join("00000000000000000000.log")
}

fn offsets(records: &[crate::transport::Record]) -> Vec<i64> {
    records.iter().map(|r| r.offset).collect()
}

#[test]
fn a_read_returns_the_records_before_a_damaged_batch_then_reports_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = TopicConfig::with_partitions(1);
    let ends = three_batches(dir.path(), &config);
    let path = segment_path(dir.path());
    let mut bytes = std::fs::read(&path).expect("read");
    let middle = (ends[0] + ends[1]) / 2;
    bytes[middle as usize] ^= 0x10;
    std::fs::write(&path, bytes).expect("write");

    let p = open(dir.path(), &config, true).expect("a flip mid-file is not checked at open");
    let fetched = p
        .read(0, usize::MAX)
        .expect("the records before the damage");
    assert_eq!(offsets(&fetched.records), (0..10).collect::<Vec<i64>>());
    assert_eq!(fetched.next_offset, 10);
    match p.read(10, usize::MAX) {
        Err(TransportError::CorruptBatch {
            topic,
            partition,
            offset,
            path: at,
            position,
            reason,
        }) => {
            assert_eq!((topic.as_str(), partition, offset), ("t", 0, 10));
            assert_eq!((at, position), (path.clone(), ends[0]));
            assert!(reason.contains("CRC"), "{reason}");
        }
        other => panic!("expected CorruptBatch, got {other:?}"),
    }
    let after = p
        .read(20, usize::MAX)
        .expect("past the damage (by the index)");
    assert_eq!(offsets(&after.records), (20..30).collect::<Vec<i64>>());
    assert!(
        matches!(
            p.offset_for_timestamp(100),
            Err(TransportError::CorruptBatch { offset: 10, .. })
        ),
        "a timestamp lookup through the damage reports it"
    );
    assert_eq!(p.offset_for_timestamp(200).expect("after the damage"), 20);
}

#[test]
fn a_trusted_segment_shorter_than_its_index_fails_the_open_and_keeps_the_evidence() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = TopicConfig::with_partitions(1);
    let ends = three_batches(dir.path(), &config);
    let index = dir.path().join("00000000000000000000.index");
    let index_before = std::fs::read(&index).expect("index");
    assert!(!index_before.is_empty(), "the test needs index entries");
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(segment_path(dir.path()))
        .expect("open");
    file.set_len(ends[0]).expect("truncate at a batch boundary");

    match open(dir.path(), &config, true) {
        Err(TransportError::Corrupt {
            path,
            position,
            reason,
        }) => {
            assert_eq!((path, position), (segment_path(dir.path()), ends[0]));
            assert!(
                reason.contains("t-0: ")
                    && reason.contains("lost at least offsets 10..19 (10 records)"),
                "{reason}"
            );
        }
        Err(other) => panic!("expected Corrupt, got {other}"),
        Ok(p) => panic!(
            "opened with {} records: fsynced records vanished silently",
            p.end_offset()
        ),
    }
    assert_eq!(
        std::fs::read(&index).expect("index"),
        index_before,
        "a refused open must not rebuild the index it refused on"
    );
}

/// Log lines written while `f` runs on this thread.
fn captured_logs(f: impl FnOnce()) -> String {
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);
    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if let Ok(mut v) = self.0.lock() {
                v.extend_from_slice(buf);
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let sink = Sink::default();
    let writer = sink.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::with_default(subscriber, f);
    let bytes = sink.0.lock().map(|v| v.clone()).unwrap_or_default();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[test]
fn a_crashed_segment_shorter_than_its_index_is_recovered_and_says_what_was_lost() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = TopicConfig::with_partitions(1);
    three_batches(dir.path(), &config);
    std::fs::OpenOptions::new()
        .write(true)
        .open(segment_path(dir.path()))
        .expect("open")
        .set_len(0)
        .expect("truncate");
    let mut opened = None;
    let logs = captured_logs(|| opened = Some(open(dir.path(), &config, false)));
    let p = opened
        .expect("ran")
        .expect("a crash may lose a tail: recovered");
    assert_eq!(p.end_offset(), 0);
    assert!(
        logs.contains("RECORDS LOST in recovery: t-0: ")
            && logs.contains("00000000000000000000.log lost at least offsets 0..19 (20 records)"),
        "{logs}"
    );
}

#[test]
fn an_empty_rolled_segment_or_a_gap_between_segments_fails_the_open() {
    for config in [TopicConfig::with_partitions(1), TopicConfig::compacted(1)] {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut p =
            Partition::create(dir.path(), Arc::from("t"), 0, &config, ENV, 0).expect("create");
        let records: Vec<ProducerRecord> = (0..5)
            .map(|i| ProducerRecord::new(Some(format!("k{i}")), Some("v")))
            .collect();
        p.append(&records, 0).expect("append");
        p.roll(0).expect("roll");
        p.append(&records, 0).expect("append");
        p.close().expect("close");
        drop(p);
        let first = segment_path(dir.path());
        std::fs::OpenOptions::new()
            .write(true)
            .open(&first)
            .expect("open")
            .set_len(0)
            .expect("truncate");
        std::fs::remove_file(dir.path().join("00000000000000000000.index")).expect("rm");
        match open(dir.path(), &config, true) {
            Err(TransportError::Corrupt { path, reason, .. }) => {
                assert_eq!(path, first, "{reason}");
                assert!(
                    reason.contains("t-0: ")
                        && reason.contains("starts at offset 5")
                        && reason.contains("damage"),
                    "{reason}"
                );
            }
            Err(other) => panic!("expected Corrupt, got {other}"),
            Ok(_) => panic!("an emptied rolled segment was accepted ({config:?})"),
        }
    }
}

#[test]
fn a_closed_partition_refuses_appends_so_its_checkpointed_size_stays_true() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = TopicConfig::with_partitions(1);
    let mut p = Partition::create(dir.path(), Arc::from("t"), 0, &config, ENV, 0).expect("create");
    p.append(&[ProducerRecord::new(Some("k"), Some("v"))], 0)
        .expect("append");
    p.close().expect("close");
    let size = p.size_bytes();
    assert!(
        matches!(
            p.append(&[ProducerRecord::new(Some("k"), Some("late"))], 0),
            Err(TransportError::Failed { .. })
        ),
        "an append racing a clean close"
    );
    let on_disk = std::fs::metadata(segment_path(dir.path()))
        .expect("stat")
        .len();
    assert_eq!((p.size_bytes(), on_disk), (size, size));
}
