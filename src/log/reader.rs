//! Buffered reading of batches from a segment file: one read per megabyte, not per batch.

use super::batch::{BatchHeader, HEADER_LEN, MAX_BATCH_LEN};
use crate::transport::{IoContext, Result};
use bytes::Bytes;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

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
