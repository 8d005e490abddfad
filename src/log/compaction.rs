//! Log compaction of compacted topics (`cleanup.policy=compact`), as Kafka does it.
//!
//! Owns `Partition::compact`: in the rolled segments (never the active one) only the latest record
//! of each key survives, and a surviving tombstone goes too once `delete.retention.ms` has passed
//! since its segment was last modified. Offsets never change: a cleaned batch keeps its base
//! offset and offset range, so compacted segments have gaps, and a segment left empty is deleted.
//!
//! Crash safety: a segment is rewritten to `{base:020}.log.cleaned`, fsynced, and renamed over
//! the original (its derived indexes are deleted first and rebuilt on open); a crash before the
//! rename leaves the original intact and the leftover is removed when the partition is opened.
//! Segments are cleaned oldest first, so a tombstone is only dropped once the older records of its
//! key are durably gone.

use super::batch::{self, BatchError, BatchHeader, HEADER_LEN, RecordRef};
use super::partition::{Partition, remove_segment_files, segment_options, sync_dir};
use super::reader::ReadView;
use super::segment::{OpenMode, Segment, SegmentOptions, segment_paths};
use crate::transport::{CleanupPolicy, IoContext, Record, Result, TransportError};
use bytes::Bytes;
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

/// What one `compact` call did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CompactionStats {
    /// Segments replaced by a copy without the removed records.
    pub segments_rewritten: usize,
    /// Segments deleted because none of their records survived.
    pub segments_removed: usize,
    pub records_removed: usize,
    /// Size of the whole partition before and after.
    pub bytes_before: u64,
    pub bytes_after: u64,
}

impl Partition {
    /// Compacts the rolled segments of a compacted topic; other topics are left alone.
    pub fn compact(&mut self, now_ms: i64) -> Result<CompactionStats> {
        if self.config.cleanup_policy != CleanupPolicy::Compact {
            return Ok(CompactionStats::default());
        }
        let mut stats = CompactionStats {
            bytes_before: self.size_bytes(),
            ..CompactionStats::default()
        };
        // Never past the last stable offset: an open transaction may still be aborted.
        let stable = self.last_stable_offset();
        let cleanable = self.segments[..self.segments.len() - 1]
            .iter()
            .take_while(|s| s.next_offset() <= stable)
            .count();
        let rolled = &self.segments[..cleanable];
        let states = self.producers.clone();
        let view = ReadView {
            stable_offset: stable,
            states: &states,
        };
        let horizon = now_ms.saturating_sub(self.config.delete_retention_ms);
        let mtimes = rolled
            .iter()
            .map(|s| modified(s.log_path()))
            .collect::<Result<Vec<_>>>()?;
        let expired: Vec<bool> = mtimes.iter().map(|&t| millis(t) < horizon).collect();
        let scan = KeyScan::of(rolled, &view)?;
        let options = segment_options(&self.config, self.env);
        let mut at = 0; // index in `self.segments` of rolled segment `i`
        for (i, kept) in scan.survivors(&expired).into_iter().enumerate() {
            let records = scan.records[i];
            stats.records_removed += records - kept;
            if kept == records {
                at += 1;
            } else if kept == 0 {
                let segment = self.segments.remove(at);
                remove_segment_files(self.dir(), segment.base_offset)?;
                stats.segments_removed += 1;
            } else {
                let keep = |r: &Record| scan.keeps(r, &expired);
                self.segments[at] = rewrite(
                    self.dir(),
                    &self.segments[at],
                    options,
                    (keep, &view),
                    mtimes[i],
                    now_ms,
                    &format!("{}-{}", self.topic, self.id),
                )?;
                stats.segments_rewritten += 1;
                at += 1;
            }
        }
        stats.bytes_after = self.size_bytes();
        if stats.records_removed > 0 {
            tracing::info!(topic = %self.topic, partition = self.id, ?stats, "compacted");
        }
        Ok(stats)
    }
}

/// The newest record of a key in the rolled segments.
#[derive(Clone, Copy, Debug)]
struct Latest {
    offset: i64,
    tombstone: bool,
    /// Index of its segment among the rolled ones.
    segment: usize,
}

impl Latest {
    fn survives(&self, expired: &[bool]) -> bool {
        !(self.tombstone && expired[self.segment])
    }
}

/// What a pass over the rolled segments learned.
struct KeyScan {
    latest: HashMap<Vec<u8>, Latest>,
    /// Per rolled segment: its record count, and how many of them have no key (always kept).
    records: Vec<usize>,
    keyless: Vec<usize>,
}

impl KeyScan {
    fn of(rolled: &[Segment], view: &ReadView<'_>) -> Result<KeyScan> {
        let mut scan = KeyScan {
            latest: HashMap::new(),
            records: vec![0; rolled.len()],
            keyless: vec![0; rolled.len()],
        };
        for (i, segment) in rolled.iter().enumerate() {
            for_each_batch(segment, |_, header, records| {
                if !view.hides(header) {
                    records.iter().for_each(|r| scan.note(i, r));
                }
                Ok(())
            })?;
        }
        Ok(scan)
    }

    fn note(&mut self, segment: usize, record: &Record) {
        self.records[segment] += 1;
        let Some(key) = &record.key else {
            self.keyless[segment] += 1;
            return;
        };
        let latest = Latest {
            offset: record.offset,
            tombstone: record.value.is_none(),
            segment,
        };
        match self.latest.get_mut(key.as_ref()) {
            Some(slot) => *slot = latest,
            None => {
                self.latest.insert(key.to_vec(), latest);
            }
        }
    }

    /// How many records of each rolled segment survive.
    fn survivors(&self, expired: &[bool]) -> Vec<usize> {
        let mut kept = self.keyless.clone();
        for latest in self.latest.values().filter(|l| l.survives(expired)) {
            kept[latest.segment] += 1;
        }
        kept
    }

    /// Whether `record` survives: it has no key (should not happen in a compacted topic) or it is
    /// the latest of its key and not an expired tombstone.
    fn keeps(&self, record: &Record, expired: &[bool]) -> bool {
        let Some(key) = &record.key else { return true };
        self.latest
            .get(key.as_ref())
            .is_some_and(|l| l.offset == record.offset && l.survives(expired))
    }
}

/// Replaces `segment` by a copy holding only the records `keep` accepts and returns it reopened.
fn rewrite(
    dir: &Path,
    segment: &Segment,
    options: SegmentOptions,
    keep: (impl Fn(&Record) -> bool, &ReadView<'_>),
    mtime: SystemTime,
    now_ms: i64,
    owner: &str,
) -> Result<Segment> {
    let base = segment.base_offset;
    let [log, index, time_index] = segment_paths(dir, base);
    let cleaned = log.with_extension("log.cleaned");
    write_survivors(segment, &cleaned, keep, mtime)?;
    remove_if_present(&index)?;
    remove_if_present(&time_index)?;
    std::fs::rename(&cleaned, &log).at(&log)?;
    sync_dir(dir)?;
    Segment::open(dir, base, options, OpenMode::Trusted, owner, now_ms)
}

/// Writes the kept records of `segment` to `to`, batch by batch, fsynced and with the original
/// modification time (which dates its tombstones). Markers and aborted transactions' batches
/// (those `view` hides) are dropped: no reader sees them.
fn write_survivors(
    segment: &Segment,
    to: &Path,
    (keep, view): (impl Fn(&Record) -> bool, &ReadView<'_>),
    mtime: SystemTime,
) -> Result<()> {
    let file = File::create(to).at(to)?;
    let mut out = BufWriter::new(&file);
    let mut encoded = Vec::new();
    for_each_batch(segment, |bytes, header, records| {
        if view.hides(header) {
            return Ok(());
        }
        let kept: Vec<&Record> = records.iter().filter(|r| keep(r)).collect();
        if kept.len() == records.len() {
            return out.write_all(bytes).at(to);
        }
        if kept.is_empty() {
            return Ok(());
        }
        encoded.clear();
        encode_survivors(&mut encoded, header, &kept);
        out.write_all(&encoded).at(to)
    })?;
    out.flush().at(to)?;
    drop(out);
    file.set_modified(mtime).at(to)?;
    file.sync_all().at(to)
}

/// Encodes the kept records of a batch as one batch with the original base offset and range.
fn encode_survivors(out: &mut Vec<u8>, header: &BatchHeader, kept: &[&Record]) {
    let refs: Vec<RecordRef<'_>> = kept
        .iter()
        .map(|r| RecordRef {
            offset: r.offset,
            timestamp: r.timestamp,
            key: r.key.as_deref(),
            value: r.value.as_deref(),
            headers: &r.headers,
        })
        .collect();
    batch::encode_batch(out, header.base_offset, header.last_offset_delta, &refs);
}

/// Calls `f` with each batch of `segment` in file order: its bytes, header and records.
fn for_each_batch(
    segment: &Segment,
    mut f: impl FnMut(&[u8], &BatchHeader, Vec<Record>) -> Result<()>,
) -> Result<()> {
    let path = segment.log_path();
    let mut reader = BufReader::with_capacity(1 << 20, File::open(path).at(path)?);
    let mut position = 0;
    while position < segment.size() {
        let (bytes, header) = read_batch(&mut reader, path, position)?;
        let records =
            batch::decode_records(&bytes, &header).map_err(|e| corrupt(path, position, &e))?;
        f(&bytes, &header, records)?;
        position += header.total_len() as u64;
    }
    Ok(())
}

/// Reads and checks the batch starting at the reader's position (`position` in the file).
fn read_batch(reader: &mut impl Read, path: &Path, position: u64) -> Result<(Bytes, BatchHeader)> {
    let mut buf = vec![0u8; HEADER_LEN];
    reader.read_exact(&mut buf).at(path)?;
    let len = BatchHeader::parse(&buf)
        .map_err(|e| corrupt(path, position, &e))?
        .total_len();
    buf.resize(len, 0);
    reader.read_exact(&mut buf[HEADER_LEN..]).at(path)?;
    let header = batch::check_batch(&buf).map_err(|e| corrupt(path, position, &e))?;
    Ok((Bytes::from(buf), header))
}

fn corrupt(path: &Path, position: u64, error: &BatchError) -> TransportError {
    TransportError::Corrupt {
        path: path.to_path_buf(),
        position,
        reason: error.to_string(),
    }
}

fn remove_if_present(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(TransportError::io(path, e)),
        _ => Ok(()),
    }
}

fn modified(path: &Path) -> Result<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).at(path)
}

/// Milliseconds since the Unix epoch (0 for earlier times).
fn millis(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::config::{FlushPolicy, now_ms};
    use crate::log::partition::PartitionEnv;
    use crate::transport::{ProducerRecord, TopicConfig};
    use proptest::prelude::*;
    use std::collections::{BTreeSet, HashMap};
    use std::os::unix::fs::MetadataExt;
    use std::sync::Arc;

    const HOUR_MS: i64 = 3_600_000;
    const ENV: PartitionEnv = PartitionEnv {
        flush: FlushPolicy::Never,
        index_interval_bytes: 64,
    };

    fn config() -> TopicConfig {
        TopicConfig {
            segment_bytes: 300,
            delete_retention_ms: HOUR_MS,
            ..TopicConfig::compacted(1)
        }
    }

    fn create(dir: &Path) -> Partition {
        Partition::create(dir, Arc::from("t"), 0, &config(), ENV, now_ms()).expect("create")
    }

    fn reopen(mut p: Partition, clean: bool) -> Partition {
        if clean {
            p.close().expect("close");
        }
        let dir = p.dir().to_path_buf();
        drop(p);
        Partition::open(&dir, Arc::from("t"), 0, &config(), ENV, clean, now_ms()).expect("open")
    }

    fn record(key: &str, value: Option<&str>, timestamp: i64) -> ProducerRecord {
        ProducerRecord::new(Some(key.to_string()), value.map(str::to_string))
            .with_timestamp(timestamp)
    }

    fn append(p: &mut Partition, records: &[(&str, Option<&str>)]) {
        let end = p.end_offset();
        let batch: Vec<ProducerRecord> = records
            .iter()
            .zip(end..)
            .map(|((k, v), offset)| record(k, *v, 1000 - offset))
            .collect();
        p.append(&batch, now_ms()).expect("append");
    }

    /// Every record from the start offset on, reading in small steps.
    fn read_all(p: &Partition) -> Vec<Record> {
        let mut out: Vec<Record> = Vec::new();
        let mut offset = p.start_offset();
        while offset < p.end_offset() {
            let fetched = p.read(offset, 100).expect("read");
            assert!(
                fetched.next_offset > offset,
                "read made no progress at {offset}"
            );
            offset = fetched.next_offset;
            out.extend(fetched.records);
        }
        out
    }

    fn triples(p: &Partition) -> Vec<(i64, String, Option<String>)> {
        let text = |b: &Bytes| String::from_utf8_lossy(b).into_owned();
        read_all(p)
            .iter()
            .map(|r| {
                (
                    r.offset,
                    r.key.as_ref().map(text).unwrap_or_default(),
                    r.value.as_ref().map(text),
                )
            })
            .collect()
    }

    fn expected(rows: &[(i64, &str, Option<&str>)]) -> Vec<(i64, String, Option<String>)> {
        rows.iter()
            .map(|(o, k, v)| (*o, k.to_string(), v.map(str::to_string)))
            .collect()
    }

    /// (base offset, last offset) of each batch of a segment.
    fn batch_ranges(segment: &Segment) -> Vec<(i64, i64)> {
        let mut ranges = Vec::new();
        for_each_batch(segment, |_, h, _| {
            ranges.push((h.base_offset, h.last_offset()));
            Ok(())
        })
        .expect("batches");
        ranges
    }

    fn counts(stats: CompactionStats) -> (usize, usize, usize) {
        (
            stats.segments_removed,
            stats.segments_rewritten,
            stats.records_removed,
        )
    }

    #[test]
    fn keeps_the_latest_record_per_key_at_its_original_offset() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut p = create(dir.path());
        append(
            &mut p,
            &[("a", Some("1")), ("b", Some("1")), ("a", Some("2"))],
        ); // 0..=2
        p.roll(now_ms()).expect("roll");
        append(&mut p, &[("b", None), ("a", Some("3")), ("c", Some("1"))]); // 3..=5
        append(&mut p, &[("d", Some("1"))]); // 6
        append(&mut p, &[("c", Some("2"))]); // 7
        p.roll(now_ms()).expect("roll");
        append(&mut p, &[("a", Some("4"))]); // 8, in the active segment
        assert_eq!(p.segment_count(), 3);
        let mtime = modified(p.segments[1].log_path()).expect("mtime");

        let stats = p.compact(now_ms()).expect("compact");
        assert_eq!(counts(stats), (1, 1, 4));
        assert!(stats.bytes_after < stats.bytes_before);
        let rows = [
            (3, "b", None),
            (4, "a", Some("3")),
            (6, "d", Some("1")),
            (7, "c", Some("2")),
            (8, "a", Some("4")),
        ];
        assert_eq!(triples(&p), expected(&rows));
        assert_eq!(
            (p.start_offset(), p.end_offset(), p.segment_count()),
            (3, 9, 2)
        );
        assert_eq!(
            batch_ranges(&p.segments[0]),
            [(3, 5), (6, 6), (7, 7)],
            "batches keep their range"
        );
        assert_eq!(
            modified(p.segments[0].log_path()).expect("mtime"),
            mtime,
            "rewrite keeps the mtime"
        );
        assert_eq!(
            read_all(&p)[1].timestamp,
            1000 - 4,
            "timestamps survive re-encoding"
        );

        let stats = p.compact(now_ms() + 2 * HOUR_MS).expect("compact");
        assert_eq!(counts(stats), (0, 1, 1), "the expired tombstone goes");
        let rows = [
            (4, "a", Some("3")),
            (6, "d", Some("1")),
            (7, "c", Some("2")),
            (8, "a", Some("4")),
        ];
        assert_eq!(triples(&p), expected(&rows));
        assert_eq!(
            batch_ranges(&p.segments[0]),
            [(3, 5), (6, 6), (7, 7)],
            "a lone survivor inside its batch"
        );
        assert_eq!(read_all(&p)[0].timestamp, 1000 - 4);

        let inode = |p: &Partition| {
            std::fs::metadata(p.segments[0].log_path())
                .map(|m| m.ino())
                .expect("stat")
        };
        let before = inode(&p);
        let stats = p.compact(now_ms() + 2 * HOUR_MS).expect("compact");
        assert_eq!(counts(stats), (0, 0, 0));
        assert_eq!(inode(&p), before, "nothing to remove, nothing rewritten");

        for clean in [true, false] {
            p = reopen(p, clean);
            assert_eq!(
                triples(&p),
                expected(&rows),
                "after reopening (clean: {clean})"
            );
            assert_eq!((p.start_offset(), p.end_offset()), (3, 9));
        }
        append(&mut p, &[("e", Some("1"))]);
        assert_eq!(
            triples(&p).last(),
            Some(&(9, "e".to_string(), Some("1".to_string())))
        );
    }

    #[test]
    fn leaves_delete_topics_alone() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = TopicConfig {
            segment_bytes: 300,
            ..TopicConfig::default()
        };
        let mut p = Partition::create(dir.path(), Arc::from("t"), 0, &config, ENV, now_ms())
            .expect("create");
        append(&mut p, &[("a", Some("1")), ("a", Some("2"))]);
        p.roll(now_ms()).expect("roll");
        assert_eq!(
            p.compact(now_ms()).expect("compact"),
            CompactionStats::default()
        );
        assert_eq!(read_all(&p).len(), 2);
    }

    #[derive(Debug, Clone)]
    enum Op {
        /// One batch of (key, value) records; `None` is a tombstone.
        Append(Vec<(u8, Option<Vec<u8>>)>),
        Roll,
        Compact {
            tombstones_expired: bool,
        },
        Reopen {
            clean: bool,
        },
    }

    fn op() -> impl Strategy<Value = Op> {
        let value = proptest::option::weighted(0.75, proptest::collection::vec(any::<u8>(), 0..24));
        prop_oneof![
            6 => proptest::collection::vec((0u8..6, value), 1..4).prop_map(Op::Append),
            1 => Just(Op::Roll),
            2 => any::<bool>().prop_map(|tombstones_expired| Op::Compact { tombstones_expired }),
            1 => any::<bool>().prop_map(|clean| Op::Reopen { clean }),
        ]
    }

    /// Everything ever appended (index = offset), which of it must still be visible, and whether a
    /// compaction may have dropped tombstones.
    #[derive(Default)]
    struct Model {
        appended: Vec<(u8, Option<Vec<u8>>, i64)>,
        visible: BTreeSet<i64>,
        /// (first, last) offsets of each appended batch.
        batches: BTreeSet<(i64, i64)>,
        tombstones_expired: bool,
    }

    impl Model {
        /// What compaction must leave: below the active segment, the latest record of each key,
        /// minus tombstones if they expired.
        fn compact(&mut self, active_base: i64, tombstones_expired: bool) {
            let latest: HashMap<u8, i64> = self
                .visible
                .range(..active_base)
                .map(|&o| (self.appended[o as usize].0, o))
                .collect();
            let appended = &self.appended;
            self.visible.retain(|&o| {
                let (key, value, _) = &appended[o as usize];
                o >= active_base || latest[key] == o && !(tombstones_expired && value.is_none())
            });
            self.tombstones_expired |= tombstones_expired;
        }

        fn latest(&self) -> HashMap<u8, i64> {
            self.appended
                .iter()
                .enumerate()
                .map(|(o, r)| (r.0, o as i64))
                .collect()
        }
    }

    fn check(p: &Partition, model: &Model) {
        let records = read_all(p);
        assert_eq!(p.end_offset(), model.appended.len() as i64);
        assert!(
            records.windows(2).all(|w| w[0].offset < w[1].offset),
            "offsets increase"
        );
        let mut last_read: HashMap<u8, i64> = HashMap::new();
        for r in &records {
            let (key, value, timestamp) = &model.appended[r.offset as usize];
            assert_eq!(r.key.as_deref(), Some(&[*key][..]), "key at {}", r.offset);
            assert_eq!(
                r.value.as_deref(),
                value.as_deref(),
                "value at {}",
                r.offset
            );
            assert_eq!(r.timestamp, *timestamp, "timestamp at {}", r.offset);
            last_read.insert(*key, r.offset);
        }
        let read: BTreeSet<i64> = records.iter().map(|r| r.offset).collect();
        let active_base = p.active().base_offset;
        assert!(
            (active_base..p.end_offset()).all(|o| read.contains(&o)),
            "active segment untouched"
        );
        for (key, offset) in model.latest() {
            let tombstone = model.appended[offset as usize].1.is_none();
            if read.contains(&offset) {
                assert_eq!(
                    last_read.get(&key),
                    Some(&offset),
                    "newest visible record of key {key}"
                );
            } else {
                assert!(
                    tombstone && model.tombstones_expired,
                    "latest record of key {key} (offset {offset}) lost"
                );
            }
        }
        assert_eq!(
            read, model.visible,
            "exactly the records compaction must keep"
        );
        for range in p.segments.iter().flat_map(batch_ranges) {
            assert!(
                model.batches.contains(&range),
                "batch {range:?} lost its original range"
            );
        }
    }

    fn run(ops: Vec<Op>) {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut p = create(dir.path());
        let mut model = Model::default();
        for op in ops {
            match op {
                Op::Append(batch) => {
                    let first = model.appended.len() as i64;
                    model
                        .batches
                        .insert((first, first + batch.len() as i64 - 1));
                    let mut records = Vec::new();
                    for (key, value) in batch {
                        let offset = model.appended.len() as i64;
                        let timestamp = 5000 + (offset * 37) % 101; // not monotonic
                        records.push(ProducerRecord {
                            key: Some(Bytes::from(vec![key])),
                            value: value.clone().map(Bytes::from),
                            timestamp: Some(timestamp),
                            headers: vec![],
                        });
                        model.appended.push((key, value, timestamp));
                        model.visible.insert(offset);
                    }
                    p.append(&records, now_ms()).expect("append");
                }
                Op::Roll => p.roll(now_ms()).expect("roll"),
                Op::Compact { tombstones_expired } => {
                    let now = if tombstones_expired {
                        now_ms() + 2 * HOUR_MS
                    } else {
                        now_ms()
                    };
                    let (active_base, segments) = (p.active().base_offset, p.segment_count());
                    p.compact(now).expect("compact");
                    assert_eq!(
                        p.active().base_offset,
                        active_base,
                        "the active segment stays"
                    );
                    assert!(p.segment_count() <= segments);
                    model.compact(active_base, tombstones_expired);
                }
                Op::Reopen { clean } => p = reopen(p, clean),
            }
            check(&p, &model);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn compaction_matches_the_model(ops in proptest::collection::vec(op(), 1..60)) {
            run(ops);
        }
    }
}
