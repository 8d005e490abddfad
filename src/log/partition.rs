//! A partition: an ordered list of segments, the last one active (appended to).
//!
//! Owns appends (encoding batches, rolling segments, applying the flush policy), reads across
//! segments, retention, and recovery when opened. A failed write or fsync marks the partition
//! failed: it then refuses writes instead of retrying over a state it cannot trust.

use super::batch::{self, BatchHeader, RecordRef};
use super::config::FlushPolicy;
use super::damage::check_adjacent;
use super::producer_state::ProducerStates;
use super::reader::{Fetched, ReadView};
use super::segment::{OpenMode, Segment, SegmentOptions, segment_paths};
use crate::transport::{
    AppendOutcome, CleanupPolicy, IoContext, ProducerRecord, Result, TopicConfig, TransportError,
};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Upper bound of one encoded batch; larger appends are split.
const TARGET_BATCH_BYTES: usize = 1 << 20;

/// Engine-wide settings a partition follows.
#[derive(Clone, Copy, Debug)]
pub struct PartitionEnv {
    pub flush: FlushPolicy,
    pub index_interval_bytes: u64,
}

pub struct Partition {
    pub topic: Arc<str>,
    pub id: u32,
    dir: PathBuf,
    pub(super) config: TopicConfig,
    pub(super) env: PartitionEnv,
    pub(super) segments: Vec<Segment>,
    failed: Option<String>,
    dirty: bool,
    /// Set by a clean close: the sizes recorded in the shutdown checkpoint must stay true.
    closed: bool,
    /// Idempotent producers' recent batches (`producer_state.rs`), kept up to date by every
    /// append and snapshotted at each roll and at close.
    pub(super) producers: ProducerStates,
}

impl Partition {
    pub fn create(
        dir: &Path,
        topic: Arc<str>,
        id: u32,
        config: &TopicConfig,
        env: PartitionEnv,
        now_ms: i64,
    ) -> Result<Self> {
        std::fs::create_dir_all(dir).at(dir)?;
        let options = segment_options(config, env);
        let first = Segment::create(dir, 0, options, now_ms)?;
        sync_dir(dir)?;
        Ok(Partition {
            topic,
            id,
            dir: dir.to_path_buf(),
            config: config.clone(),
            env,
            segments: vec![first],
            failed: None,
            dirty: false,
            closed: false,
            producers: ProducerStates::default(),
        })
    }

    /// Opens the segments found in `dir`. After an unclean shutdown the last segment is
    /// recovered (torn tail cut); older ones were fsynced when rolled and are trusted.
    pub fn open(
        dir: &Path,
        topic: Arc<str>,
        id: u32,
        config: &TopicConfig,
        env: PartitionEnv,
        clean: bool,
        now_ms: i64,
    ) -> Result<Self> {
        let bases = list_segment_bases(dir)?;
        let options = segment_options(config, env);
        let owner = format!("{topic}-{id}");
        let mut segments = Vec::with_capacity(bases.len().max(1));
        for (i, base) in bases.iter().enumerate() {
            let mode = if i + 1 == bases.len() && !clean {
                OpenMode::Recover
            } else {
                OpenMode::Trusted
            };
            let segment = Segment::open(dir, *base, options, mode, &owner, now_ms)?;
            if let Some(prev) = segments.last() {
                check_adjacent(&owner, prev, &segment, options.dense)?;
            }
            segments.push(segment);
        }
        if segments.is_empty() {
            segments.push(Segment::create(dir, 0, options, now_ms)?);
            sync_dir(dir)?;
        }
        let producers = rebuild_producers(dir, &segments, now_ms)?;
        Ok(Partition {
            topic,
            id,
            dir: dir.to_path_buf(),
            config: config.clone(),
            env,
            segments,
            failed: None,
            dirty: false,
            closed: false,
            producers,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn active(&self) -> &Segment {
        &self.segments[self.segments.len() - 1]
    }

    fn active_mut(&mut self) -> &mut Segment {
        let last = self.segments.len() - 1;
        &mut self.segments[last]
    }

    pub fn start_offset(&self) -> i64 {
        self.segments[0].base_offset
    }

    pub fn end_offset(&self) -> i64 {
        self.active().next_offset()
    }

    pub fn size_bytes(&self) -> u64 {
        self.segments.iter().map(Segment::size).sum()
    }

    pub fn segment_count(&self) -> usize {
        self.segments.len()
    }

    /// Encodes `records` as batches starting at the current end offset.
    pub fn encode(&self, records: &[ProducerRecord], now_ms: i64) -> Result<Vec<Vec<u8>>> {
        if records.is_empty() {
            return Err(TransportError::InvalidArgument(
                "an append needs at least one record".into(),
            ));
        }
        if self.config.cleanup_policy == CleanupPolicy::Compact
            && records.iter().any(|r| r.key.is_none())
        {
            return Err(self.invalid("a compacted topic needs a key on every record"));
        }
        let mut batches = Vec::new();
        let mut offset = self.end_offset();
        for chunk in chunk_by_size(records) {
            let refs: Vec<RecordRef<'_>> = chunk
                .iter()
                .enumerate()
                .map(|(i, r)| RecordRef {
                    offset: offset + i as i64,
                    timestamp: r.timestamp.unwrap_or(now_ms),
                    key: r.key.as_deref(),
                    value: r.value.as_deref(),
                    headers: &r.headers,
                })
                .collect();
            let mut out = Vec::with_capacity(chunk.iter().map(record_size).sum::<usize>() + 128);
            batch::encode_batch(&mut out, offset, (chunk.len() - 1) as i32, &refs);
            offset += chunk.len() as i64;
            batches.push(out);
        }
        Ok(batches)
    }

    /// Appends records and applies the flush policy; the returned offsets are acknowledged.
    pub fn append(&mut self, records: &[ProducerRecord], now_ms: i64) -> Result<AppendOutcome> {
        self.check_writable()?;
        let base_offset = self.end_offset();
        for encoded in self.encode(records, now_ms)? {
            let header = own_header(&encoded).map_err(|e| self.invalid(&e.to_string()))?;
            self.write_batch(&encoded, &header, now_ms)?;
        }
        self.after_append()?;
        Ok(AppendOutcome {
            partition: self.id,
            base_offset,
            last_offset: self.end_offset() - 1,
        })
    }

    /// Appends already-encoded batches that must start exactly at the end offset (the redo of
    /// transactions after a crash): each is fully checked, its CRC included.
    pub fn append_encoded(&mut self, batches: &[Vec<u8>], now_ms: i64) -> Result<AppendOutcome> {
        self.append_checked(batches, now_ms, batch::check_batch)
    }

    /// Like [`Partition::append_encoded`], for batches already checked (made by
    /// [`Partition::encode`] for a transaction's commit, or checked by `wire.rs`): their CRCs
    /// are not computed again.
    pub fn append_own(&mut self, batches: &[Vec<u8>], now_ms: i64) -> Result<AppendOutcome> {
        self.append_checked(batches, now_ms, own_header)
    }

    fn append_checked(
        &mut self,
        batches: &[Vec<u8>],
        now_ms: i64,
        check: fn(&[u8]) -> std::result::Result<BatchHeader, batch::BatchError>,
    ) -> Result<AppendOutcome> {
        self.check_writable()?;
        let base_offset = self.end_offset();
        for encoded in batches {
            let header = check(encoded).map_err(|e| self.invalid(&e.to_string()))?;
            if header.base_offset != self.end_offset() {
                return Err(self.invalid(&format!(
                    "batch starts at {} but the log ends at {}",
                    header.base_offset,
                    self.end_offset()
                )));
            }
            self.write_batch(encoded, &header, now_ms)?;
        }
        self.after_append()?;
        Ok(AppendOutcome {
            partition: self.id,
            base_offset,
            last_offset: self.end_offset() - 1,
        })
    }

    /// Writes one batch already checked by `check_batch` (its parsed `header`).
    fn write_batch(&mut self, encoded: &[u8], header: &BatchHeader, now_ms: i64) -> Result<()> {
        if self.should_roll(encoded.len(), now_ms) {
            self.roll(now_ms)?;
        }
        let result = self.active_mut().append(encoded, header);
        self.dirty = true;
        result.map_err(|e| self.fail(e))?;
        let marker = match header.is_control() {
            true => super::markers::commits(&bytes::Bytes::copy_from_slice(encoded), header),
            false => None,
        };
        self.producers.record(header, now_ms, marker);
        Ok(())
    }

    fn after_append(&mut self) -> Result<()> {
        if self.env.flush == FlushPolicy::EveryAppend {
            self.flush()?;
        }
        Ok(())
    }

    fn should_roll(&self, incoming: usize, now_ms: i64) -> bool {
        let active = self.active();
        if active.is_empty() {
            return false;
        }
        let full = active.size() + incoming as u64 > self.config.segment_bytes;
        let old = self
            .config
            .segment_ms
            .is_some_and(|ms| now_ms - active.opened_at_ms >= ms);
        full || old
    }

    /// Closes the active segment (fsynced) and starts a new one at the end offset.
    pub fn roll(&mut self, now_ms: i64) -> Result<()> {
        self.check_writable()?;
        if self.active().is_empty() {
            return Ok(());
        }
        let base = self.end_offset();
        let options = segment_options(&self.config, self.env);
        let result = self
            .active_mut()
            .flush(true)
            .and_then(|_| Segment::create(&self.dir, base, options, now_ms))
            .and_then(|s| sync_dir(&self.dir).map(|_| s));
        match result {
            Ok(segment) => {
                self.segments.push(segment);
                self.save_producers(now_ms);
                Ok(())
            }
            Err(e) => Err(self.fail(e)),
        }
    }

    /// fsyncs unflushed appends. An fsync failure is fatal for this partition.
    pub fn flush(&mut self) -> Result<()> {
        self.check_writable()?;
        if !self.dirty {
            return Ok(());
        }
        let result = self.active_mut().sync_log();
        result.map_err(|e| self.fail(e))?;
        self.dirty = false;
        Ok(())
    }

    pub fn is_dirty(&self) -> bool {
        self.dirty
    }

    /// Whether a write or fsync failed: the partition's files may not hold what it acknowledged.
    pub fn is_failed(&self) -> bool {
        self.failed.is_some()
    }

    /// Reads records at or after `offset`, about `max_bytes` worth, crossing segments (and gaps
    /// left by compaction) until it finds some or reaches the end. Reads are read_committed:
    /// only records before the last stable offset, none of aborted transactions, no markers.
    pub fn read(&self, offset: i64, max_bytes: usize) -> Result<Fetched> {
        self.check_readable(offset)?;
        let requested = offset;
        let stable = self.last_stable_offset();
        let mut offset = offset;
        let first = self
            .segments
            .partition_point(|s| s.base_offset <= offset)
            .saturating_sub(1);
        for segment in &self.segments[first..] {
            if offset >= stable {
                break;
            }
            if segment.next_offset() <= offset {
                continue;
            }
            let fetched = self.read_segment(segment, offset, max_bytes)?;
            if !fetched.records.is_empty() {
                return Ok(fetched);
            }
            offset = offset.max(fetched.next_offset);
        }
        Ok(Fetched {
            records: Vec::new(),
            next_offset: self.end_offset().min(stable).max(requested),
            damage: None,
        })
    }

    /// The first offset of the earliest open transaction, else the end offset: what
    /// read_committed readers may read up to (Kafka's last stable offset).
    pub fn last_stable_offset(&self) -> i64 {
        let end = self.end_offset();
        self.producers
            .first_open_offset()
            .map_or(end, |o| o.min(end))
    }

    /// What readers see of this partition's transactions.
    pub fn view(&self) -> ReadView<'_> {
        ReadView {
            stable_offset: self.last_stable_offset(),
            states: &self.producers,
        }
    }

    /// An `OffsetOutOfRange` error unless `offset` is between the start and the end offsets.
    pub fn check_readable(&self, offset: i64) -> Result<()> {
        let (start, end) = (self.start_offset(), self.end_offset());
        if offset < start || offset > end {
            return Err(TransportError::OffsetOutOfRange {
                topic: self.topic.to_string(),
                partition: self.id,
                offset,
                start,
                end,
            });
        }
        Ok(())
    }

    /// Reads one segment; a damaged batch with no record before it is a `CorruptBatch` error
    /// (with records before it, the next read reports it).
    fn read_segment(&self, segment: &Segment, offset: i64, max_bytes: usize) -> Result<Fetched> {
        let mut fetched = segment.read(offset, max_bytes, self.view())?;
        if fetched.records.is_empty()
            && let Some(damage) = fetched.damage.take()
        {
            return Err(damage.into_error(&self.topic, self.id));
        }
        Ok(fetched)
    }

    /// The first offset with a timestamp at or after `timestamp`, else the end offset.
    pub fn offset_for_timestamp(&self, timestamp: i64) -> Result<i64> {
        Ok(self
            .first_at_or_after(timestamp)?
            .map_or(self.end_offset(), |(offset, _)| offset))
    }

    /// The offset and timestamp of the first record with a timestamp at or after `timestamp`.
    pub fn first_at_or_after(&self, timestamp: i64) -> Result<Option<(i64, i64)>> {
        for segment in &self.segments {
            let Some(mut from) = segment.timestamp_scan_start(timestamp) else {
                continue;
            };
            while from < segment.next_offset() {
                let fetched = self.read_segment(segment, from, 1 << 20)?;
                if let Some(r) = fetched.records.iter().find(|r| r.timestamp >= timestamp) {
                    return Ok(Some((r.offset, r.timestamp)));
                }
                from = fetched.next_offset;
            }
        }
        Ok(None)
    }

    /// The largest record timestamp of the partition (`i64::MIN` when it is empty).
    pub fn max_timestamp(&self) -> i64 {
        self.segments
            .iter()
            .map(Segment::max_timestamp)
            .max()
            .unwrap_or(i64::MIN)
    }

    /// Deletes whole old segments past `retention.ms` (by their newest record timestamp) or
    /// while the partition exceeds `retention.bytes`. The active segment always stays.
    pub fn enforce_retention(&mut self, now_ms: i64) -> Result<usize> {
        if self.config.cleanup_policy != CleanupPolicy::Delete {
            return Ok(0);
        }
        let mut removed = 0;
        while self.segments.len() > 1 {
            let oldest = &self.segments[0];
            let expired = self
                .config
                .retention_ms
                .is_some_and(|ms| oldest.max_timestamp() < now_ms.saturating_sub(ms));
            let oversized = self
                .config
                .retention_bytes
                .is_some_and(|limit| self.size_bytes() - oldest.size() >= limit);
            if !(expired || oversized) {
                break;
            }
            self.delete_oldest_segment()?;
            removed += 1;
        }
        if removed > 0 {
            self.producers.prune(self.start_offset());
        }
        Ok(removed)
    }

    pub(super) fn delete_oldest_segment(&mut self) -> Result<()> {
        let segment = self.segments.remove(0);
        tracing::info!(topic = %self.topic, partition = self.id, "deleting segment {} (offsets {}..{})", segment.base_offset, segment.base_offset, segment.next_offset());
        remove_segment_files(&self.dir, segment.base_offset)
    }

    /// Writes and fsyncs everything (clean shutdown); appends are refused from then on, so
    /// that the files keep the sizes the shutdown checkpoint records.
    pub fn close(&mut self) -> Result<()> {
        if self.failed.is_some() || self.closed {
            return Ok(());
        }
        let result = self.active_mut().flush(true);
        result.map_err(|e| self.fail(e))?;
        self.save_producers(super::config::now_ms());
        self.closed = true;
        Ok(())
    }

    /// Snapshots producer state; a failure only costs a longer rebuild at the next open.
    fn save_producers(&mut self, now_ms: i64) {
        self.producers.expire(now_ms);
        if let Err(e) = self.producers.save(&self.dir) {
            tracing::warn!(topic = %self.topic, partition = self.id, "producer state not saved: {e}");
        }
    }

    fn check_writable(&self) -> Result<()> {
        if self.closed {
            return Err(TransportError::Failed {
                what: format!("{}-{}", self.topic, self.id),
                reason: "the log is closed".into(),
            });
        }
        match &self.failed {
            None => Ok(()),
            Some(reason) => Err(TransportError::Failed {
                what: format!("{}-{}", self.topic, self.id),
                reason: reason.clone(),
            }),
        }
    }

    fn fail(&mut self, error: TransportError) -> TransportError {
        tracing::error!(topic = %self.topic, partition = self.id, "partition failed, refusing further writes: {error}");
        self.failed = Some(error.to_string());
        error
    }

    fn invalid(&self, reason: &str) -> TransportError {
        TransportError::InvalidRecord {
            topic: self.topic.to_string(),
            partition: self.id,
            reason: reason.to_string(),
        }
    }
}

pub(super) fn segment_options(config: &TopicConfig, env: PartitionEnv) -> SegmentOptions {
    SegmentOptions {
        index_interval_bytes: env.index_interval_bytes,
        dense: config.cleanup_policy == CleanupPolicy::Delete,
    }
}

fn record_size(r: &ProducerRecord) -> usize {
    r.key.as_ref().map_or(0, |k| k.len())
        + r.value.as_ref().map_or(0, |v| v.len())
        + r.headers
            .iter()
            .map(|h| h.key.len() + h.value.as_ref().map_or(0, |v| v.len()))
            .sum::<usize>()
        + 24
}

/// The header of a batch `encode` made: parsed and its length checked, the CRC (computed while
/// encoding) trusted.
fn own_header(encoded: &[u8]) -> std::result::Result<BatchHeader, batch::BatchError> {
    let header = BatchHeader::parse(encoded)?;
    if header.total_len() != encoded.len() {
        return Err(batch::BatchError::BadLength(encoded.len() as i64));
    }
    Ok(header)
}

fn chunk_by_size(records: &[ProducerRecord]) -> Vec<&[ProducerRecord]> {
    let mut chunks = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, r) in records.iter().enumerate() {
        let size = record_size(r);
        if i > start && bytes + size > TARGET_BATCH_BYTES {
            chunks.push(&records[start..i]);
            start = i;
            bytes = 0;
        }
        bytes += size;
    }
    chunks.push(&records[start..]);
    chunks
}

/// Base offsets of the segments in `dir`, sorted; removes leftovers of interrupted operations.
/// Producer state at open: the snapshot, then the batches after it (in the last segment at
/// most; older segments were snapshotted when they rolled).
fn rebuild_producers(dir: &Path, segments: &[Segment], now_ms: i64) -> Result<ProducerStates> {
    let Some(last) = segments.last() else {
        return Ok(ProducerStates::default());
    };
    let mut states = ProducerStates::load(dir)?.unwrap_or_default();
    let from = states.next_offset.max(last.base_offset);
    // Appended at an unknown time: kept as if appended now.
    for (header, marker) in last.headers_from(from)? {
        states.record(&header, now_ms, marker);
    }
    states.expire(now_ms);
    Ok(states)
}

fn list_segment_bases(dir: &Path) -> Result<Vec<i64>> {
    let mut bases = Vec::new();
    let mut index_files = Vec::new();
    for entry in std::fs::read_dir(dir).at(dir)? {
        let path = entry.at(dir)?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        if name.ends_with(".cleaned") || name.ends_with(".deleted") || name.ends_with(".tmp") {
            std::fs::remove_file(&path).at(&path)?;
        } else if let Some(stem) = name.strip_suffix(".log") {
            bases.push(stem.parse::<i64>().map_err(|_| TransportError::Corrupt {
                path: path.clone(),
                position: 0,
                reason: "segment file name is not an offset".into(),
            })?);
        } else if name.ends_with(".index") || name.ends_with(".timeindex") {
            index_files.push(path);
        }
    }
    bases.sort_unstable();
    for path in index_files {
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        if !stem
            .parse::<i64>()
            .is_ok_and(|b| bases.binary_search(&b).is_ok())
        {
            std::fs::remove_file(&path).at(&path)?;
        }
    }
    Ok(bases)
}

pub(super) fn remove_segment_files(dir: &Path, base: i64) -> Result<()> {
    for path in segment_paths(dir, base) {
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(TransportError::io(path, e)),
        }
    }
    sync_dir(dir)
}

/// fsyncs a directory so that file creations, renames and deletions in it are durable.
pub fn sync_dir(dir: &Path) -> Result<()> {
    std::fs::File::open(dir).and_then(|d| d.sync_all()).at(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(flush: FlushPolicy) -> PartitionEnv {
        PartitionEnv {
            flush,
            index_interval_bytes: 128,
        }
    }

    fn record(value: &str) -> ProducerRecord {
        ProducerRecord::new(Some("k"), Some(value.to_string()))
    }

    #[test]
    fn rolls_by_age_and_by_size_keeping_offsets_dense() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = TopicConfig {
            segment_bytes: 1024,
            segment_ms: Some(50),
            ..TopicConfig::default()
        };
        let mut p = Partition::create(
            dir.path(),
            Arc::from("t"),
            0,
            &config,
            env(FlushPolicy::Never),
            0,
        )
        .expect("create");
        p.append(&[record("a")], 0).expect("append");
        p.append(&[record("b")], 10).expect("append");
        assert_eq!(p.segment_count(), 1, "young and small: no roll");
        p.append(&[record("c")], 60).expect("append");
        assert_eq!(p.segment_count(), 2, "older than segment_ms: rolled");
        let big = "x".repeat(600);
        p.append(&[record(&big)], 61).expect("append");
        p.append(&[record(&big)], 62).expect("append");
        assert_eq!(p.segment_count(), 3, "past segment_bytes: rolled");
        let bases: Vec<i64> = p.segments.iter().map(|s| s.base_offset).collect();
        assert_eq!(bases, vec![0, 2, 4]);
        let fetched = p.read(0, usize::MAX).expect("read");
        assert_eq!(fetched.records.len(), 2, "one read stays within a segment");
        assert_eq!(fetched.next_offset, 2);
        assert_eq!(p.read(2, usize::MAX).expect("read").records[0].offset, 2);
    }

    #[test]
    fn large_appends_are_split_into_bounded_batches() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = TopicConfig::default();
        let mut p = Partition::create(
            dir.path(),
            Arc::from("t"),
            0,
            &config,
            env(FlushPolicy::EveryAppend),
            0,
        )
        .expect("create");
        let value = "v".repeat(1000);
        let records: Vec<ProducerRecord> = (0..3000).map(|_| record(&value)).collect();
        let outcome = p.append(&records, 0).expect("append");
        assert_eq!((outcome.base_offset, outcome.last_offset), (0, 2999));
        assert_eq!(
            p.encode(&records, 0).expect("encode").len(),
            3,
            "3 MB in 1 MiB batches"
        );
        assert!(!p.is_dirty(), "EveryAppend fsyncs before acknowledging");
    }

    #[test]
    fn compacted_partitions_refuse_records_without_keys() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut p = Partition::create(
            dir.path(),
            Arc::from("t"),
            0,
            &TopicConfig::compacted(1),
            env(FlushPolicy::Never),
            0,
        )
        .expect("create");
        let keyless = ProducerRecord::new(None::<Vec<u8>>, Some("v"));
        assert!(matches!(
            p.append(&[keyless], 0),
            Err(TransportError::InvalidRecord { .. })
        ));
        assert_eq!(p.end_offset(), 0);
    }
}
