//! Buffered reading of batches from a segment file: one read per megabyte, not per batch; and
//! reading records from them up to the first damaged batch.

use super::batch::{self, BatchError, BatchHeader, HEADER_LEN, MAX_BATCH_LEN};
use super::damage::Damage;
use super::producer_state::ProducerStates;
use crate::transport::{IoContext, Record, Result};
use bytes::Bytes;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

/// Records read from a segment or partition, and the offset to read next.
#[derive(Debug, Default)]
pub struct Fetched {
    pub records: Vec<Record>,
    pub next_offset: i64,
    /// The damaged batch reading stopped at (`next_offset` is then its first offset).
    pub damage: Option<Damage>,
}

/// What a reader may see of a partition's transactions: records before the last stable
/// offset, none of aborted transactions, no transaction markers (Kafka's read_committed).
#[derive(Clone, Copy)]
pub struct ReadView<'a> {
    pub stable_offset: i64,
    pub states: &'a ProducerStates,
}

impl ReadView<'_> {
    /// Whether the batch's records are not to be read (a marker, or an aborted transaction's).
    pub fn hides(&self, header: &BatchHeader) -> bool {
        header.is_control() || self.states.is_aborted(header)
    }
}

/// Where a read starts: a batch boundary and the first offset of that batch.
#[derive(Clone, Copy, Debug)]
pub struct ReadStart {
    pub position: u64,
    pub offset: i64,
}

/// Reads batches through a buffer so that scanning does one read per megabyte, not per batch.
pub struct ChunkReader<'a> {
    file: &'a File,
    path: &'a Path,
    size: u64,
    buf: Bytes,
    buf_start: u64,
}

impl<'a> ChunkReader<'a> {
    const CHUNK: usize = 1 << 20;

    pub fn new(file: &'a File, path: &'a Path, size: u64) -> Self {
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
    pub fn batch_bytes_at(&mut self, position: u64) -> Result<Option<Bytes>> {
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

impl ChunkReader<'_> {
    /// Reads batches from `start`, returning records at or after `offset`, about `max_bytes`
    /// worth (at least one batch), up to the first damaged batch (in `damage`, with the records
    /// before it). `next_offset` is `end_offset` once the file is read to its end.
    pub fn read_records(
        &mut self,
        start: ReadStart,
        offset: i64,
        max_bytes: usize,
        end_offset: i64,
        view: ReadView<'_>,
    ) -> Result<Fetched> {
        let mut fetched = Fetched {
            records: Vec::new(),
            next_offset: end_offset,
            damage: None,
        };
        let mut position = start.position;
        // Every offset before `reached` is in a batch already read.
        let mut reached = start.offset;
        let mut consumed = 0usize;
        while position < self.size && (fetched.records.is_empty() || consumed < max_bytes) {
            if let Ok(h) = self.header_at(position)?
                && h.base_offset >= view.stable_offset
            {
                // The first batch of an open transaction: nothing from here is readable yet.
                fetched.next_offset = reached.max(offset);
                return Ok(fetched);
            }
            let header = match self.records_at(position, offset, &mut fetched.records, view)? {
                Ok(header) => header,
                Err(error) => {
                    let first_unread = reached.max(offset);
                    fetched.next_offset = first_unread;
                    fetched.damage = Some(Damage {
                        offset: first_unread,
                        path: self.path.to_path_buf(),
                        position,
                        reason: error.to_string(),
                    });
                    return Ok(fetched);
                }
            };
            if header.last_offset() >= offset {
                consumed += header.total_len();
                fetched.next_offset = header.next_offset();
            }
            reached = header.next_offset();
            position += header.total_len() as u64;
        }
        if position >= self.size {
            fetched.next_offset = end_offset;
        }
        Ok(fetched)
    }

    /// Checks the batch at `position` and appends its records at or after `offset` to `out`;
    /// on a bad batch `out` is left as it was. The outer error is I/O, the inner one damage.
    fn records_at(
        &mut self,
        position: u64,
        offset: i64,
        out: &mut Vec<Record>,
        view: ReadView<'_>,
    ) -> Result<Result<BatchHeader, BatchError>> {
        let Some(bytes) = self.batch_bytes_at(position)? else {
            return Ok(Err(BatchError::Truncated {
                needed: HEADER_LEN,
                available: (self.size - position) as usize,
            }));
        };
        let header = match batch::check_batch(&bytes) {
            Ok(h) => h,
            Err(e) => return Ok(Err(e)),
        };
        if header.last_offset() >= offset && !view.hides(&header) {
            let before = out.len();
            if let Err(e) = batch::decode_records_into(&bytes, &header, offset, out) {
                out.truncate(before);
                return Ok(Err(e));
            }
        }
        Ok(Ok(header))
    }
}

/// Whole stored batches, as bytes: what Kafka's Fetch returns.
impl ChunkReader<'_> {
    /// The batches from the one holding `offset` (or the first after it) on, about `max_bytes`
    /// of them but at least one, none starting at or after `limit`, unparsed beyond their
    /// headers. `Ok(None)` when the file has no such batch; `Err(damage)` inside when the
    /// first one is damaged (a damaged batch after others ends the bytes before it).
    pub fn stored_batches(
        &mut self,
        start: ReadStart,
        offset: i64,
        max_bytes: usize,
        limit: i64,
    ) -> Result<std::result::Result<Option<Bytes>, Damage>> {
        let mut position = start.position;
        let first = loop {
            if position >= self.size {
                return Ok(Ok(None));
            }
            match self.header_at(position)? {
                Ok(h) if h.next_offset() <= offset => position += h.total_len() as u64,
                Ok(h) if h.base_offset >= limit => return Ok(Ok(None)),
                Ok(h) => break h,
                Err(reason) => return Ok(Err(self.damage(position, offset, reason))),
            }
        };
        let begin = position;
        let mut end = position + first.total_len() as u64;
        if end > self.size {
            let reason = format!("a batch of {} bytes is cut short", first.total_len());
            return Ok(Err(self.damage(begin, offset, reason)));
        }
        while end < self.size {
            match self.header_at(end)? {
                Ok(h)
                    if (end - begin) as usize + h.total_len() <= max_bytes
                        && end + h.total_len() as u64 <= self.size
                        && h.base_offset < limit =>
                {
                    end += h.total_len() as u64
                }
                _ => break,
            }
        }
        Ok(Ok(self.get(begin, (end - begin) as usize)?))
    }

    /// The headers of the batches from `start` to the end of the file (or its first batch
    /// whose header does not parse), with what each marker does, for rebuilding producer state.
    pub fn headers_from(&mut self, start: ReadStart) -> Result<Vec<(BatchHeader, Option<bool>)>> {
        let mut headers = Vec::new();
        let mut position = start.position;
        while position < self.size {
            let Ok(h) = self.header_at(position)? else {
                break;
            };
            let marker = match h.is_control() {
                true => self
                    .batch_bytes_at(position)?
                    .and_then(|bytes| super::markers::commits(&bytes, &h)),
                false => None,
            };
            position += h.total_len() as u64;
            headers.push((h, marker));
        }
        Ok(headers)
    }

    fn header_at(&mut self, position: u64) -> Result<std::result::Result<BatchHeader, String>> {
        Ok(match self.get(position, HEADER_LEN)? {
            Some(head) => BatchHeader::parse(&head).map_err(|e| e.to_string()),
            None => Err(format!(
                "{} bytes at the end of the file are not a whole batch header",
                self.size - position
            )),
        })
    }

    fn damage(&self, position: u64, offset: i64, reason: String) -> Damage {
        Damage {
            offset,
            path: self.path.to_path_buf(),
            position,
            reason,
        }
    }
}
