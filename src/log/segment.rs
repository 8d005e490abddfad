//! A segment: one file of consecutive record batches starting at `base_offset`, plus its
//! offset and time indexes (`{base:020}.log`, `.index`, `.timeindex`).
//!
//! Opening a segment either trusts its length (it was closed cleanly or fsynced when rolled) or
//! recovers it: every batch is checked, and a torn or garbage tail is cut at the last valid batch.
//! A bad batch followed by a valid one is corruption, not a torn tail, and fails the open. An
//! offset index whose last entry points past the valid data proves records were lost: a trusted
//! (fsynced) segment then fails the open, a recovered one says loudly what was dropped.
//! Reads (see `reader.rs`) return the records before a damaged batch and report the damage.

use super::batch::{self, BatchError, BatchHeader, HEADER_LEN};
use super::damage::{Damage, Indexed};
use super::index::{IndexFile, OffsetEntry, TimeEntry};
use super::reader::{ChunkReader, Fetched, ReadStart, ReadView};
use crate::transport::{IoContext, Result, TransportError};
use bytes::Bytes;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// How much to trust a segment file when opening it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenMode {
    /// Its bytes were fsynced (rolled or cleanly closed): indexes are reused when consistent.
    Trusted,
    /// It may end in a torn write: scan it all, cut a torn tail, rebuild the indexes.
    Recover,
}

/// Settings a segment needs from its partition.
#[derive(Clone, Copy, Debug)]
pub struct SegmentOptions {
    pub index_interval_bytes: u64,
    /// Offsets must be exactly consecutive between batches (false for compacted topics).
    pub dense: bool,
}

/// Paths of a segment's three files.
pub fn segment_paths(dir: &Path, base: i64) -> [PathBuf; 3] {
    let stem = format!("{base:020}");
    ["log", "index", "timeindex"].map(|ext| dir.join(format!("{stem}.{ext}")))
}

/// Where appending left off: what the indexes and `segment.ms` need besides the file.
#[derive(Clone, Copy, Debug)]
struct Tail {
    next_offset: i64,
    max_timestamp: i64,
    bytes_since_index: u64,
}

/// What a scan of batches found.
struct Scan {
    end: u64,
    tail: Tail,
    offsets: Vec<OffsetEntry>,
    times: Vec<TimeEntry>,
    failure: Option<(u64, BatchError)>,
}

/// The segment's log file: checking, recovering and reading its batches.
struct SegmentFile {
    base_offset: i64,
    path: PathBuf,
    file: File,
    size: u64,
    options: SegmentOptions,
}

pub struct Segment {
    pub base_offset: i64,
    log: SegmentFile,
    tail: Tail,
    offset_index: IndexFile<OffsetEntry>,
    time_index: IndexFile<TimeEntry>,
    /// Wall-clock ms when this segment was created or opened (for `segment.ms` rolls).
    pub opened_at_ms: i64,
}

impl Segment {
    pub fn create(dir: &Path, base: i64, options: SegmentOptions, now_ms: i64) -> Result<Self> {
        let [log_path, index_path, time_path] = segment_paths(dir, base);
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .create_new(true)
            .open(&log_path)
            .at(&log_path)?;
        Ok(Segment {
            base_offset: base,
            log: SegmentFile {
                base_offset: base,
                path: log_path,
                file,
                size: 0,
                options,
            },
            tail: Tail {
                next_offset: base,
                max_timestamp: i64::MIN,
                bytes_since_index: 0,
            },
            offset_index: IndexFile::create(&index_path, vec![])?,
            time_index: IndexFile::create(&time_path, vec![])?,
            opened_at_ms: now_ms,
        })
    }

    /// Opens a segment of partition `owner` (`topic-partition`, for messages).
    pub fn open(
        dir: &Path,
        base: i64,
        options: SegmentOptions,
        mode: OpenMode,
        owner: &str,
        now_ms: i64,
    ) -> Result<Self> {
        let [log_path, index_path, time_path] = segment_paths(dir, base);
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .open(&log_path)
            .at(&log_path)?;
        let size = file.metadata().at(&log_path)?.len();
        let mut log = SegmentFile {
            base_offset: base,
            path: log_path,
            file,
            size,
            options,
        };
        let offsets = IndexFile::<OffsetEntry>::load(&index_path)?;
        let indexed = offsets.as_ref().and_then(IndexFile::last).map(|e| Indexed {
            next_offset: base + i64::from(e.relative),
            position: u64::from(e.position),
        });
        let start = Tail {
            next_offset: base,
            max_timestamp: i64::MIN,
            bytes_since_index: 0,
        };
        if mode == OpenMode::Trusted {
            // Checked before the indexes are rebuilt: they are the evidence.
            if let Some(indexed) = indexed.filter(|i| i.position > log.size) {
                let scan = log.scan(0, start)?;
                if let Some(loss) = indexed.loss(&log.path, scan.end, scan.tail.next_offset) {
                    return Err(loss.into_error(owner));
                }
            }
            if let Some((tail, offset_index, time_index)) =
                log.reuse_indexes(offsets, &time_path, owner)?
            {
                return Ok(Segment {
                    base_offset: base,
                    log,
                    tail,
                    offset_index,
                    time_index,
                    opened_at_ms: now_ms,
                });
            }
        }
        let scan = log.scan(0, start)?;
        if let Some((position, error)) = &scan.failure {
            log.handle_bad_batch(mode, owner, *position, scan.tail.next_offset, error)?;
        }
        if let Some(loss) = indexed.and_then(|i| i.loss(&log.path, log.size, scan.tail.next_offset))
        {
            loss.warn(owner);
        }
        Ok(Segment {
            base_offset: base,
            log,
            tail: scan.tail,
            offset_index: IndexFile::create(&index_path, scan.offsets)?,
            time_index: IndexFile::create(&time_path, scan.times)?,
            opened_at_ms: now_ms,
        })
    }

    fn relative(&self, offset: i64) -> u32 {
        (offset - self.base_offset) as u32
    }

    /// Appends one encoded batch (already checked by the caller to start at `next_offset`).
    pub fn append(&mut self, bytes: &[u8], header: &BatchHeader) -> Result<()> {
        let position = self.log.size;
        if position > 0 && self.tail.bytes_since_index >= self.log.options.index_interval_bytes {
            let relative = self.relative(header.base_offset);
            self.offset_index.push(OffsetEntry {
                relative,
                position: position as u32,
            })?;
            self.time_index.push(TimeEntry {
                max_timestamp: self.tail.max_timestamp,
                relative: relative - 1,
            })?;
            self.tail.bytes_since_index = 0;
        }
        self.log.file.write_all(bytes).at(&self.log.path)?;
        self.log.size += bytes.len() as u64;
        self.tail.bytes_since_index += bytes.len() as u64;
        self.tail.next_offset = header.next_offset();
        self.tail.max_timestamp = self.tail.max_timestamp.max(header.max_timestamp);
        Ok(())
    }

    /// Reads records with offsets >= `offset`, about `max_bytes` worth (at least one batch).
    /// `next_offset` says where to continue: past the last batch read, even when compaction left
    /// no record at its end. Reading stops at a damaged batch, returning the records before it
    /// and the damage.
    pub fn read(&self, offset: i64, max_bytes: usize, view: ReadView<'_>) -> Result<Fetched> {
        let start = self.read_start(offset);
        let log = &self.log;
        let mut reader = ChunkReader::new(&log.file, &log.path, log.size);
        reader.read_records(start, offset, max_bytes, self.tail.next_offset, view)
    }

    /// Stored batches from the one holding `offset` on, about `max_bytes` (at least one), as
    /// bytes (`ChunkReader::stored_batches`).
    pub fn stored_batches(
        &self,
        offset: i64,
        max_bytes: usize,
        limit: i64,
    ) -> Result<std::result::Result<Option<Bytes>, Damage>> {
        let start = self.read_start(offset);
        let log = &self.log;
        ChunkReader::new(&log.file, &log.path, log.size)
            .stored_batches(start, offset, max_bytes, limit)
    }

    /// Headers of the batches holding offsets at or after `offset`, with what each marker does.
    pub fn headers_from(&self, offset: i64) -> Result<Vec<(BatchHeader, Option<bool>)>> {
        let start = self.read_start(offset);
        let log = &self.log;
        let headers = ChunkReader::new(&log.file, &log.path, log.size).headers_from(start)?;
        Ok(headers
            .into_iter()
            .filter(|(h, _)| h.next_offset() > offset)
            .collect())
    }

    /// The indexed batch boundary at or before `offset`.
    fn read_start(&self, offset: i64) -> ReadStart {
        let from = if offset <= self.base_offset {
            OffsetEntry {
                relative: 0,
                position: 0,
            }
        } else {
            self.offset_index
                .floor(self.relative(offset.min(self.tail.next_offset)))
        };
        ReadStart {
            position: u64::from(from.position),
            offset: self.base_offset + i64::from(from.relative),
        }
    }

    /// Where to start looking for the first record with a timestamp >= `timestamp`; `None` when
    /// this segment has none.
    pub fn timestamp_scan_start(&self, timestamp: i64) -> Option<i64> {
        if self.tail.max_timestamp < timestamp {
            return None;
        }
        Some(
            self.time_index
                .last_before(timestamp)
                .map_or(self.base_offset, |e| {
                    self.base_offset + i64::from(e.relative) + 1
                }),
        )
    }

    /// Writes buffered index entries; with `sync`, fsyncs the log (and indexes).
    pub fn flush(&mut self, sync: bool) -> Result<()> {
        if sync {
            self.log.file.sync_data().at(&self.log.path)?;
        }
        self.offset_index.flush(sync)?;
        self.time_index.flush(sync)
    }

    /// fsyncs the log file only, handing buffered index entries to the OS. Enough for an
    /// acknowledged append: after a crash the active segment's indexes are rebuilt from the log
    /// anyway (`OpenMode::Recover`); a rolled or closed segment gets [`Segment::flush`].
    pub fn sync_log(&mut self) -> Result<()> {
        self.log.file.sync_data().at(&self.log.path)?;
        self.offset_index.flush(false)?;
        self.time_index.flush(false)
    }

    pub fn size(&self) -> u64 {
        self.log.size
    }
    pub fn next_offset(&self) -> i64 {
        self.tail.next_offset
    }
    pub fn max_timestamp(&self) -> i64 {
        self.tail.max_timestamp
    }
    pub fn is_empty(&self) -> bool {
        self.log.size == 0
    }
    pub fn log_path(&self) -> &Path {
        &self.log.path
    }
}

impl SegmentFile {
    /// The index files, if they agree with the log (only the tail after their last entry is
    /// scanned); `None` when they must be rebuilt.
    #[allow(clippy::type_complexity)]
    fn reuse_indexes(
        &self,
        offsets: Option<IndexFile<OffsetEntry>>,
        time_path: &Path,
        owner: &str,
    ) -> Result<Option<(Tail, IndexFile<OffsetEntry>, IndexFile<TimeEntry>)>> {
        let (Some(offsets), Some(times)) = (offsets, IndexFile::<TimeEntry>::load(time_path)?)
        else {
            return Ok(None);
        };
        if offsets.entries().len() != times.entries().len() {
            return Ok(None);
        }
        let (position, start) = match (offsets.last(), times.last()) {
            (Some(o), Some(t)) => {
                let at = self.header_at(u64::from(o.position))?;
                let offset = self.base_offset + i64::from(o.relative);
                if at.map(|h| h.base_offset) != Some(offset) || t.relative + 1 != o.relative {
                    return Ok(None);
                }
                (
                    u64::from(o.position),
                    Tail {
                        next_offset: offset,
                        max_timestamp: t.max_timestamp,
                        bytes_since_index: 0,
                    },
                )
            }
            _ => (
                0,
                Tail {
                    next_offset: self.base_offset,
                    max_timestamp: i64::MIN,
                    bytes_since_index: 0,
                },
            ),
        };
        let scan = self.scan(position, start)?;
        if let Some((position, error)) = scan.failure {
            return Err(self.damaged(owner, position, scan.tail.next_offset, &error));
        }
        // Entries past the last indexed one mean the index files are behind the log.
        Ok(scan
            .offsets
            .is_empty()
            .then_some((scan.tail, offsets, times)))
    }

    /// Decides whether a bad batch is a torn tail (cut it) or corruption (fail).
    fn handle_bad_batch(
        &mut self,
        mode: OpenMode,
        owner: &str,
        position: u64,
        next_offset: i64,
        error: &BatchError,
    ) -> Result<()> {
        if mode == OpenMode::Trusted {
            return Err(self.damaged(owner, position, next_offset, error));
        }
        if let Some(later) = self.find_valid_batch_after(position, next_offset)? {
            let reason = format!("{error}, yet a valid batch follows at byte {later}");
            return Err(self.damaged(owner, position, next_offset, &reason));
        }
        let cut = self.size - position;
        tracing::warn!(
            path = %self.path.display(),
            "{owner}: recovered torn tail: cut {cut} bytes at byte {position} ({error}); log continues at offset {next_offset}"
        );
        self.file.set_len(position).at(&self.path)?;
        self.file.sync_all().at(&self.path)?;
        self.size = position;
        Ok(())
    }

    /// A bad batch found while opening, which fails the open.
    fn damaged(
        &self,
        owner: &str,
        position: u64,
        next_offset: i64,
        error: &dyn std::fmt::Display,
    ) -> TransportError {
        TransportError::Corrupt {
            path: self.path.clone(),
            position,
            reason: format!("{owner}: offsets from {next_offset} cannot be read: {error}"),
        }
    }

    /// Checks every batch from byte `from`, collecting index entries as appends would.
    fn scan(&self, from: u64, start: Tail) -> Result<Scan> {
        let mut scan = Scan {
            end: from,
            tail: start,
            offsets: Vec::new(),
            times: Vec::new(),
            failure: None,
        };
        let mut reader = ChunkReader::new(&self.file, &self.path, self.size);
        while scan.end < self.size {
            let position = scan.end;
            let checked = match reader.batch_bytes_at(position)? {
                Some(bytes) => batch::check_batch(&bytes)
                    .and_then(|h| self.check_continuity(h, scan.tail.next_offset)),
                None => Err(BatchError::Truncated {
                    needed: HEADER_LEN,
                    available: (self.size - position) as usize,
                }),
            };
            let header = match checked {
                Ok(h) => h,
                Err(e) => {
                    scan.failure = Some((position, e));
                    break;
                }
            };
            if position > 0 && scan.tail.bytes_since_index >= self.options.index_interval_bytes {
                let relative = (header.base_offset - self.base_offset) as u32;
                scan.offsets.push(OffsetEntry {
                    relative,
                    position: position as u32,
                });
                scan.times.push(TimeEntry {
                    max_timestamp: scan.tail.max_timestamp,
                    relative: relative - 1,
                });
                scan.tail.bytes_since_index = 0;
            }
            scan.tail.bytes_since_index += header.total_len() as u64;
            scan.tail.next_offset = header.next_offset();
            scan.tail.max_timestamp = scan.tail.max_timestamp.max(header.max_timestamp);
            scan.end = position + header.total_len() as u64;
        }
        Ok(scan)
    }

    fn check_continuity(
        &self,
        header: BatchHeader,
        expected: i64,
    ) -> Result<BatchHeader, BatchError> {
        let ok = if self.options.dense {
            header.base_offset == expected
        } else {
            header.base_offset >= expected
        };
        if ok {
            Ok(header)
        } else {
            Err(BatchError::BadRecord(format!(
                "batch base offset {} where {} was expected",
                header.base_offset, expected
            )))
        }
    }

    /// Looks for any valid batch starting after `position` (byte by byte), which would mean the
    /// bad bytes at `position` are not a torn tail.
    fn find_valid_batch_after(&self, position: u64, min_base: i64) -> Result<Option<u64>> {
        const CHUNK: u64 = 4 << 20;
        let mut start = position + 1;
        while start + HEADER_LEN as u64 <= self.size {
            let len = CHUNK.min(self.size - start) as usize;
            let mut buf = vec![0u8; len];
            self.file.read_exact_at(&mut buf, start).at(&self.path)?;
            for p in 0..len.saturating_sub(HEADER_LEN - 1) {
                let Ok(h) = BatchHeader::parse(&buf[p..]) else {
                    continue;
                };
                let at = start + p as u64;
                if h.base_offset < min_base || at + h.total_len() as u64 > self.size {
                    continue;
                }
                let mut whole = vec![0u8; h.total_len()];
                self.file.read_exact_at(&mut whole, at).at(&self.path)?;
                if batch::check_batch(&whole).is_ok() {
                    return Ok(Some(at));
                }
            }
            start += (len - (HEADER_LEN - 1)) as u64;
        }
        Ok(None)
    }

    fn header_at(&self, position: u64) -> Result<Option<BatchHeader>> {
        if position + HEADER_LEN as u64 > self.size {
            return Ok(None);
        }
        let mut buf = [0u8; HEADER_LEN];
        self.file.read_exact_at(&mut buf, position).at(&self.path)?;
        Ok(BatchHeader::parse(&buf).ok())
    }
}
