//! A segment: one file of consecutive record batches starting at `base_offset`, plus its
//! offset and time indexes (`{base:020}.log`, `.index`, `.timeindex`).
//!
//! Opening a segment either trusts its length (it was closed cleanly or fsynced when rolled) or
//! recovers it: every batch is checked, and a torn or garbage tail is cut at the last valid batch.
//! A bad batch followed by a valid one is corruption, not a torn tail, and fails the open.

use super::batch::{self, BatchError, BatchHeader, HEADER_LEN, MAX_BATCH_LEN};
use super::index::{IndexFile, OffsetEntry, TimeEntry};
use crate::transport::{IoContext, Record, Result, TransportError};
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

pub struct Segment {
    pub base_offset: i64,
    log_path: PathBuf,
    file: File,
    size: u64,
    next_offset: i64,
    max_timestamp: i64,
    offset_index: IndexFile<OffsetEntry>,
    time_index: IndexFile<TimeEntry>,
    bytes_since_index: u64,
    options: SegmentOptions,
    /// Wall-clock ms when this segment was created or opened (for `segment.ms` rolls).
    pub opened_at_ms: i64,
}

/// Paths of a segment's three files.
pub fn segment_paths(dir: &Path, base: i64) -> [PathBuf; 3] {
    let stem = format!("{base:020}");
    ["log", "index", "timeindex"].map(|ext| dir.join(format!("{stem}.{ext}")))
}

/// Records read from a segment or partition, and the offset to read next.
#[derive(Debug, Default)]
pub struct Fetched {
    pub records: Vec<Record>,
    pub next_offset: i64,
}

/// What a scan of batches found.
struct Scan {
    end: u64,
    next_offset: i64,
    max_timestamp: i64,
    offsets: Vec<OffsetEntry>,
    times: Vec<TimeEntry>,
    bytes_since_index: u64,
    failure: Option<(u64, BatchError)>,
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
            file,
            size: 0,
            next_offset: base,
            max_timestamp: i64::MIN,
            offset_index: IndexFile::create(&index_path, vec![])?,
            time_index: IndexFile::create(&time_path, vec![])?,
            bytes_since_index: 0,
            options,
            opened_at_ms: now_ms,
            log_path,
        })
    }

    pub fn open(
        dir: &Path,
        base: i64,
        options: SegmentOptions,
        mode: OpenMode,
        now_ms: i64,
    ) -> Result<Self> {
        let [log_path, index_path, time_path] = segment_paths(dir, base);
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .open(&log_path)
            .at(&log_path)?;
        let size = file.metadata().at(&log_path)?.len();
        let mut seg = Segment {
            base_offset: base,
            file,
            size,
            next_offset: base,
            max_timestamp: i64::MIN,
            offset_index: IndexFile::create(&index_path.with_extension("index.tmp"), vec![])?,
            time_index: IndexFile::create(&time_path.with_extension("timeindex.tmp"), vec![])?,
            bytes_since_index: 0,
            options,
            opened_at_ms: now_ms,
            log_path,
        };
        std::fs::remove_file(index_path.with_extension("index.tmp")).at(&index_path)?;
        std::fs::remove_file(time_path.with_extension("timeindex.tmp")).at(&time_path)?;
        if mode == OpenMode::Trusted && seg.reuse_indexes(&index_path, &time_path)? {
            return Ok(seg);
        }
        let scan = seg.scan(0, base, i64::MIN, vec![], vec![])?;
        if let Some((position, error)) = &scan.failure {
            seg.handle_bad_batch(mode, *position, scan.next_offset, error)?;
        }
        seg.apply_scan(&scan);
        seg.offset_index = IndexFile::create(&index_path, scan.offsets)?;
        seg.time_index = IndexFile::create(&time_path, scan.times)?;
        Ok(seg)
    }

    /// Uses the index files if they agree with the log; scans only the tail after their last
    /// entry. Returns false when they must be rebuilt.
    fn reuse_indexes(&mut self, index_path: &Path, time_path: &Path) -> Result<bool> {
        let (Some(offsets), Some(times)) = (
            IndexFile::<OffsetEntry>::load(index_path)?,
            IndexFile::<TimeEntry>::load(time_path)?,
        ) else {
            return Ok(false);
        };
        if offsets.entries().len() != times.entries().len() {
            return Ok(false);
        }
        let (start_pos, start_offset, start_ts) = match (offsets.last(), times.last()) {
            (Some(o), Some(t)) => {
                let at = self.header_at(u64::from(o.position))?;
                if at.map(|h| h.base_offset) != Some(self.base_offset + i64::from(o.relative))
                    || t.relative + 1 != o.relative
                {
                    return Ok(false);
                }
                (
                    u64::from(o.position),
                    self.base_offset + i64::from(o.relative),
                    t.max_timestamp,
                )
            }
            _ => (0, self.base_offset, i64::MIN),
        };
        let tail = self.scan(start_pos, start_offset, start_ts, vec![], vec![])?;
        if let Some((position, error)) = tail.failure {
            return Err(self.corrupt(position, &error));
        }
        if !tail.offsets.is_empty() {
            return Ok(false);
        }
        self.apply_scan(&tail);
        self.bytes_since_index = tail.bytes_since_index;
        self.offset_index = offsets;
        self.time_index = times;
        Ok(true)
    }

    fn apply_scan(&mut self, scan: &Scan) {
        self.size = scan.end;
        self.next_offset = scan.next_offset;
        self.max_timestamp = scan.max_timestamp;
        self.bytes_since_index = scan.bytes_since_index;
    }

    /// Decides whether a bad batch is a torn tail (cut it) or corruption (fail).
    fn handle_bad_batch(
        &mut self,
        mode: OpenMode,
        position: u64,
        next_offset: i64,
        error: &BatchError,
    ) -> Result<()> {
        if mode == OpenMode::Trusted {
            return Err(self.corrupt(position, error));
        }
        if let Some(later) = self.find_valid_batch_after(position, next_offset)? {
            let reason = format!("{error}, yet a valid batch follows at byte {later}");
            return Err(TransportError::Corrupt {
                path: self.log_path.clone(),
                position,
                reason,
            });
        }
        let cut = self.size - position;
        tracing::warn!(
            path = %self.log_path.display(),
            "recovered torn tail: cut {cut} bytes at byte {position} ({error}); log continues at offset {next_offset}"
        );
        self.file.set_len(position).at(&self.log_path)?;
        self.file.sync_all().at(&self.log_path)?;
        self.size = position;
        Ok(())
    }

    fn corrupt(&self, position: u64, error: &BatchError) -> TransportError {
        TransportError::Corrupt {
            path: self.log_path.clone(),
            position,
            reason: error.to_string(),
        }
    }

    /// Checks every batch from `from`, collecting index entries as appends would.
    fn scan(
        &self,
        from: u64,
        next_offset: i64,
        max_ts: i64,
        offsets: Vec<OffsetEntry>,
        times: Vec<TimeEntry>,
    ) -> Result<Scan> {
        let mut scan = Scan {
            end: from,
            next_offset,
            max_timestamp: max_ts,
            offsets,
            times,
            bytes_since_index: 0,
            failure: None,
        };
        let mut reader = ChunkReader::new(&self.file, &self.log_path, self.size);
        while scan.end < self.size {
            let position = scan.end;
            let checked = match reader.batch_bytes_at(position)? {
                Some(bytes) => batch::check_batch(&bytes),
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
            if let Err(e) = self.check_continuity(&header, scan.next_offset) {
                scan.failure = Some((position, e));
                break;
            }
            if position > 0 && scan.bytes_since_index >= self.options.index_interval_bytes {
                scan.offsets.push(OffsetEntry {
                    relative: self.relative(header.base_offset),
                    position: position as u32,
                });
                scan.times.push(TimeEntry {
                    max_timestamp: scan.max_timestamp,
                    relative: self.relative(header.base_offset) - 1,
                });
                scan.bytes_since_index = 0;
            }
            scan.bytes_since_index += header.total_len() as u64;
            scan.next_offset = header.next_offset();
            scan.max_timestamp = scan.max_timestamp.max(header.max_timestamp);
            scan.end = position + header.total_len() as u64;
        }
        Ok(scan)
    }

    fn check_continuity(&self, header: &BatchHeader, expected: i64) -> Result<(), BatchError> {
        let ok = if self.options.dense {
            header.base_offset == expected
        } else {
            header.base_offset >= expected
        };
        if ok {
            Ok(())
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
            self.file
                .read_exact_at(&mut buf, start)
                .at(&self.log_path)?;
            for p in 0..len.saturating_sub(HEADER_LEN - 1) {
                let Ok(h) = BatchHeader::parse(&buf[p..]) else {
                    continue;
                };
                let at = start + p as u64;
                if h.base_offset < min_base || at + h.total_len() as u64 > self.size {
                    continue;
                }
                let mut whole = vec![0u8; h.total_len()];
                self.file.read_exact_at(&mut whole, at).at(&self.log_path)?;
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
        self.file
            .read_exact_at(&mut buf, position)
            .at(&self.log_path)?;
        Ok(BatchHeader::parse(&buf).ok())
    }

    fn relative(&self, offset: i64) -> u32 {
        (offset - self.base_offset) as u32
    }

    /// Appends one encoded batch (already checked by the caller to start at `next_offset`).
    pub fn append(&mut self, bytes: &[u8], header: &BatchHeader) -> Result<()> {
        let position = self.size;
        if position > 0 && self.bytes_since_index >= self.options.index_interval_bytes {
            let relative = self.relative(header.base_offset);
            self.offset_index.push(OffsetEntry {
                relative,
                position: position as u32,
            })?;
            self.time_index.push(TimeEntry {
                max_timestamp: self.max_timestamp,
                relative: relative - 1,
            })?;
            self.bytes_since_index = 0;
        }
        self.file.write_all(bytes).at(&self.log_path)?;
        self.size += bytes.len() as u64;
        self.bytes_since_index += bytes.len() as u64;
        self.next_offset = header.next_offset();
        self.max_timestamp = self.max_timestamp.max(header.max_timestamp);
        Ok(())
    }

    /// Reads records with offsets >= `offset`, about `max_bytes` worth (at least one batch).
    /// `next_offset` says where to continue: past the last batch read, even when compaction left
    /// no record at its end.
    pub fn read(&self, offset: i64, max_bytes: usize) -> Result<Fetched> {
        let start = if offset <= self.base_offset {
            0
        } else {
            u64::from(
                self.offset_index
                    .floor(self.relative(offset.min(self.next_offset)))
                    .position,
            )
        };
        let mut reader = ChunkReader::new(&self.file, &self.log_path, self.size);
        let mut fetched = Fetched {
            records: Vec::new(),
            next_offset: self.next_offset,
        };
        let mut position = start;
        let mut consumed = 0usize;
        while position < self.size && (fetched.records.is_empty() || consumed < max_bytes) {
            let Some(bytes) = reader.batch_bytes_at(position)? else {
                return Err(self.corrupt(
                    position,
                    &BatchError::Truncated {
                        needed: HEADER_LEN,
                        available: 0,
                    },
                ));
            };
            let header = batch::check_batch(&bytes).map_err(|e| self.corrupt(position, &e))?;
            let decoded = (header.last_offset() >= offset)
                .then(|| batch::decode_records(&bytes, &header))
                .transpose()
                .map_err(|e| self.corrupt(position, &e))?;
            position += header.total_len() as u64;
            if let Some(decoded) = decoded {
                consumed += header.total_len();
                fetched
                    .records
                    .extend(decoded.into_iter().filter(|r| r.offset >= offset));
                fetched.next_offset = header.next_offset();
            }
        }
        if position >= self.size {
            fetched.next_offset = self.next_offset;
        }
        Ok(fetched)
    }

    /// The first offset whose record timestamp is >= `timestamp`, if this segment has one.
    pub fn offset_for_timestamp(&self, timestamp: i64) -> Result<Option<i64>> {
        if self.max_timestamp < timestamp {
            return Ok(None);
        }
        let mut from = self
            .time_index
            .last_before(timestamp)
            .map_or(self.base_offset, |e| {
                self.base_offset + i64::from(e.relative) + 1
            });
        while from < self.next_offset {
            let fetched = self.read(from, 1 << 20)?;
            if let Some(r) = fetched.records.iter().find(|r| r.timestamp >= timestamp) {
                return Ok(Some(r.offset));
            }
            from = fetched.next_offset;
        }
        Ok(None)
    }

    /// Writes buffered index entries; with `sync`, fsyncs the log (and indexes).
    pub fn flush(&mut self, sync: bool) -> Result<()> {
        if sync {
            self.file.sync_data().at(&self.log_path)?;
        }
        self.offset_index.flush(sync)?;
        self.time_index.flush(sync)
    }

    pub fn size(&self) -> u64 {
        self.size
    }
    pub fn next_offset(&self) -> i64 {
        self.next_offset
    }
    pub fn max_timestamp(&self) -> i64 {
        self.max_timestamp
    }
    pub fn is_empty(&self) -> bool {
        self.size == 0
    }
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }
}

/// Reads batches through a buffer so that scanning does one read per megabyte, not per batch.
struct ChunkReader<'a> {
    file: &'a File,
    path: &'a Path,
    size: u64,
    buf: Bytes,
    buf_start: u64,
}

impl<'a> ChunkReader<'a> {
    const CHUNK: usize = 1 << 20;

    fn new(file: &'a File, path: &'a Path, size: u64) -> Self {
        ChunkReader {
            file,
            path,
            size,
            buf: Bytes::new(),
            buf_start: 0,
        }
    }

    /// The bytes `[position, position + len)`, or `None` if the file ends first.
    fn get(&mut self, position: u64, len: usize) -> Result<Option<Bytes>> {
        if position + len as u64 > self.size {
            return Ok(None);
        }
        let in_buf = position >= self.buf_start
            && position + len as u64 <= self.buf_start + self.buf.len() as u64;
        if !in_buf {
            let want = len.max(Self::CHUNK).min((self.size - position) as usize);
            let mut v = vec![0u8; want];
            self.file.read_exact_at(&mut v, position).at(self.path)?;
            self.buf = Bytes::from(v);
            self.buf_start = position;
        }
        let from = (position - self.buf_start) as usize;
        Ok(Some(self.buf.slice(from..from + len)))
    }

    /// The whole batch at `position` as its header declares it, unchecked; `None` if cut short.
    fn batch_bytes_at(&mut self, position: u64) -> Result<Option<Bytes>> {
        let Some(head) = self.get(position, HEADER_LEN)? else {
            return Ok(None);
        };
        let len = match BatchHeader::parse(&head) {
            Ok(h) => h.total_len(),
            Err(_) => return Ok(Some(head)),
        };
        self.get(position, len.min(MAX_BATCH_LEN))
    }
}
