//! Zig-zag LEB128 varints as Kafka's record format uses them, and a reading cursor.

use super::batch::BatchError;
use bytes::Bytes;

pub fn put_varint(out: &mut Vec<u8>, v: i32) {
    put_unsigned(out, ((v << 1) ^ (v >> 31)) as u32 as u64);
}

pub fn put_varlong(out: &mut Vec<u8>, v: i64) {
    put_unsigned(out, ((v << 1) ^ (v >> 63)) as u64);
}

/// Bytes `put_varint(v)` writes.
pub fn varint_len(v: i32) -> usize {
    unsigned_len(((v << 1) ^ (v >> 31)) as u32 as u64)
}

/// Bytes `put_varlong(v)` writes.
pub fn varlong_len(v: i64) -> usize {
    unsigned_len(((v << 1) ^ (v >> 63)) as u64)
}

fn unsigned_len(v: u64) -> usize {
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

fn put_unsigned(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads fields from a batch held in `Bytes`, failing cleanly on truncation.
pub struct Cursor<'a> {
    buf: &'a Bytes,
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(buf: &'a Bytes, pos: usize) -> Self {
        Cursor { buf, pos }
    }

    pub fn pos(&self) -> usize {
        self.pos
    }

    pub fn byte(&mut self) -> Result<u8, BatchError> {
        let b = *self
            .buf
            .get(self.pos)
            .ok_or_else(|| truncated(self.pos + 1, self.buf.len()))?;
        self.pos += 1;
        Ok(b)
    }

    fn unsigned(&mut self, max_bytes: usize) -> Result<u64, BatchError> {
        if let Some(&b) = self.buf.get(self.pos)
            && b < 0x80
        {
            self.pos += 1;
            return Ok(u64::from(b));
        }
        let mut value = 0u64;
        for i in 0..max_bytes {
            let b = self.byte()?;
            value |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(BatchError::BadRecord("varint is too long".to_string()))
    }

    pub fn varint(&mut self) -> Result<i32, BatchError> {
        let u = self.unsigned(5)? as u32;
        Ok(((u >> 1) as i32) ^ -((u & 1) as i32))
    }

    pub fn varlong(&mut self) -> Result<i64, BatchError> {
        let u = self.unsigned(10)?;
        Ok(((u >> 1) as i64) ^ -((u & 1) as i64))
    }

    /// A length-prefixed byte string; length -1 is null.
    pub fn nullable_bytes(&mut self) -> Result<Option<Bytes>, BatchError> {
        let len = self.varint()?;
        if len < 0 {
            return Ok(None);
        }
        let end = self.pos + len as usize;
        if end > self.buf.len() {
            return Err(truncated(end, self.buf.len()));
        }
        let out = self.buf.slice(self.pos..end);
        self.pos = end;
        Ok(Some(out))
    }
}

fn truncated(needed: usize, available: usize) -> BatchError {
    BatchError::Truncated { needed, available }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_at_the_edges() {
        let ints = [0, 1, -1, 63, -64, 64, i32::MAX, i32::MIN];
        let longs = [0, -1, 1 << 40, i64::MAX, i64::MIN];
        let mut out = Vec::new();
        ints.iter().for_each(|v| put_varint(&mut out, *v));
        longs.iter().for_each(|v| put_varlong(&mut out, *v));
        let buf = Bytes::from(out);
        let mut cur = Cursor::new(&buf, 0);
        for v in ints {
            assert_eq!(cur.varint().expect("int"), v);
        }
        for v in longs {
            assert_eq!(cur.varlong().expect("long"), v);
        }
        assert!(cur.byte().is_err());
        for v in ints {
            let mut one = Vec::new();
            put_varint(&mut one, v);
            assert_eq!(varint_len(v), one.len(), "{v}");
        }
        for v in longs.into_iter().chain([63, 64, -65, 1 << 56, -(1 << 62)]) {
            let mut one = Vec::new();
            put_varlong(&mut one, v);
            assert_eq!(varlong_len(v), one.len(), "{v}");
        }
    }

    #[test]
    fn kafka_encodings_of_small_values() {
        // Kafka's ByteUtils: zig-zag 1 -> 0x02, -1 -> 0x01, 300 -> 0xd8 0x04.
        let mut out = Vec::new();
        put_varint(&mut out, 1);
        put_varint(&mut out, -1);
        put_varint(&mut out, 300);
        assert_eq!(out, vec![0x02, 0x01, 0xd8, 0x04]);
    }
}
