//! Buffered reading of batches from a segment file: one read per megabyte, not per batch; and
//! reading records from them up to the first damaged batch.

use super::batch::{self, BatchError, BatchHeader, HEADER_LEN, MAX_BATCH_LEN};
use super::damage::Damage;
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
            let header = match self.records_at(position, offset, &mut fetched.records)? {
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
        if header.last_offset() >= offset {
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
    /// of them but at least one, unparsed beyond their headers. `Ok(None)` when the file has
    /// no batch at or after `offset`; `Err(damage)` inside when the first such batch is damaged
    /// (a damaged batch after others ends the bytes before it).
    pub fn stored_batches(
        &mut self,
        start: ReadStart,
        offset: i64,
        max_bytes: usize,
    ) -> Result<std::result::Result<Option<Bytes>, Damage>> {
        let mut position = start.position;
        let first = loop {
            if position >= self.size {
                return Ok(Ok(None));
            }
            match self.header_at(position)? {
                Ok(h) if h.next_offset() <= offset => position += h.total_len() as u64,
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
                        && end + h.total_len() as u64 <= self.size =>
                {
                    end += h.total_len() as u64
                }
                _ => break,
            }
        }
        Ok(Ok(self.get(begin, (end - begin) as usize)?))
    }

    /// The headers of the batches from `start` to the end of the file (or its first batch
    /// whose header does not parse), for rebuilding producer state.
    pub fn headers_from(&mut self, start: ReadStart) -> Result<Vec<BatchHeader>> {
        let mut headers = Vec::new();
        let mut position = start.position;
        while position < self.size {
            match self.header_at(position)? {
                Ok(h) => {
                    position += h.total_len() as u64;
                    headers.push(h);
                }
                Err(_) => break,
            }
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
