//! Kafka RecordBatch v2, the unit stored in segment files.
//!
//! ```text
//! baseOffset i64 | batchLength i32 | partitionLeaderEpoch i32 | magic i8 (=2) | crc u32 |
//! attributes i16 | lastOffsetDelta i32 | baseTimestamp i64 | maxTimestamp i64 |
//! producerId i64 | producerEpoch i16 | baseSequence i32 | recordCount i32 | records...
//! record: length varint | attributes i8 | timestampDelta varlong | offsetDelta varint |
//!         keyLength varint | key | valueLength varint | value | headerCount varint | headers...
//! ```
//! `batchLength` counts the bytes after itself; the CRC-32C covers `attributes` to the end.
//! Lengths of -1 encode null keys, values and header values. Brook writes uncompressed batches;
//! batches Kafka clients produce may be compressed (attributes bits 0-2, `codec.rs`): the
//! records section is then compressed as a whole and is decompressed to be read.

use super::varint::{Cursor, put_varint, put_varlong, varint_len, varlong_len};
use crate::transport::{Header, Record};
use bytes::Bytes;

/// Bytes before `batchLength`'s payload: baseOffset + batchLength.
pub const LOG_OVERHEAD: usize = 12;
/// Size of the fixed batch header up to the first record.
pub const HEADER_LEN: usize = 61;
const MAGIC: i8 = 2;
const CRC_OFFSET: usize = 17;
const ATTRIBUTES_OFFSET: usize = 21;
/// Largest batch accepted when reading (guards against garbage lengths).
pub const MAX_BATCH_LEN: usize = 64 << 20;

/// Why bytes are not a valid batch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    #[error("truncated batch: need {needed} bytes, have {available}")]
    Truncated { needed: usize, available: usize },
    #[error("invalid batch length {0}")]
    BadLength(i64),
    #[error("unsupported magic byte {0}")]
    BadMagic(i8),
    #[error("CRC mismatch: stored {stored:#010x}, computed {computed:#010x}")]
    BadCrc { stored: u32, computed: u32 },
    #[error("unknown compression codec {0}")]
    UnknownCodec(i16),
    #[error("malformed record: {0}")]
    BadRecord(String),
}

/// The fixed fields of a batch header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchHeader {
    pub base_offset: i64,
    /// Bytes after the length field.
    pub batch_length: usize,
    pub attributes: i16,
    pub last_offset_delta: i32,
    pub base_timestamp: i64,
    pub max_timestamp: i64,
    /// -1 for batches of producers that are not idempotent.
    pub producer_id: i64,
    pub producer_epoch: i16,
    /// -1 without a producer id.
    pub base_sequence: i32,
    pub record_count: i32,
}

impl BatchHeader {
    /// Total bytes the batch occupies on disk.
    pub fn total_len(&self) -> usize {
        LOG_OVERHEAD + self.batch_length
    }

    pub fn last_offset(&self) -> i64 {
        self.base_offset + i64::from(self.last_offset_delta)
    }

    pub fn next_offset(&self) -> i64 {
        self.last_offset() + 1
    }

    /// The sequence of the batch's last record (sequences wrap from `i32::MAX` to 0).
    pub fn last_sequence(&self) -> i32 {
        let last = i64::from(self.base_sequence) + i64::from(self.last_offset_delta);
        if last > i64::from(i32::MAX) {
            (last - i64::from(i32::MAX) - 1) as i32
        } else {
            last as i32
        }
    }

    /// A transaction's commit or abort marker (attributes bit 5).
    pub fn is_control(&self) -> bool {
        self.attributes & 0x20 != 0
    }

    /// Written inside a Kafka transaction (attributes bit 4).
    pub fn is_transactional(&self) -> bool {
        self.attributes & 0x10 != 0
    }

    /// The compression codec (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd).
    pub fn codec(&self) -> i16 {
        self.attributes & 0x7
    }

    /// Parses the header fields without checking the CRC; needs `HEADER_LEN` bytes.
    pub fn parse(buf: &[u8]) -> Result<BatchHeader, BatchError> {
        if buf.len() < HEADER_LEN {
            return Err(BatchError::Truncated {
                needed: HEADER_LEN,
                available: buf.len(),
            });
        }
        let batch_length = i32::from_be_bytes(arr(buf, 8));
        if batch_length < (HEADER_LEN - LOG_OVERHEAD) as i32
            || batch_length as usize > MAX_BATCH_LEN
        {
            return Err(BatchError::BadLength(i64::from(batch_length)));
        }
        // Kafka leaves the leader epoch outside the CRC; Brook always writes 0, so any other value
        // is a flipped bit.
        let leader_epoch = i32::from_be_bytes(arr(buf, 12));
        if leader_epoch != 0 {
            return Err(BatchError::BadRecord(format!(
                "partitionLeaderEpoch {leader_epoch} != 0"
            )));
        }
        let magic = buf[16] as i8;
        if magic != MAGIC {
            return Err(BatchError::BadMagic(magic));
        }
        let last_offset_delta = i32::from_be_bytes(arr(buf, 23));
        let record_count = i32::from_be_bytes(arr(buf, 57));
        if last_offset_delta < 0 || record_count < 0 {
            return Err(BatchError::BadRecord(format!(
                "negative lastOffsetDelta {last_offset_delta} or record count {record_count}"
            )));
        }
        Ok(BatchHeader {
            base_offset: i64::from_be_bytes(arr(buf, 0)),
            batch_length: batch_length as usize,
            attributes: i16::from_be_bytes(arr(buf, 21)),
            last_offset_delta,
            base_timestamp: i64::from_be_bytes(arr(buf, 27)),
            max_timestamp: i64::from_be_bytes(arr(buf, 35)),
            producer_id: i64::from_be_bytes(arr(buf, 43)),
            producer_epoch: i16::from_be_bytes(arr(buf, 51)),
            base_sequence: i32::from_be_bytes(arr(buf, 53)),
            record_count,
        })
    }
}

fn arr<const N: usize>(buf: &[u8], at: usize) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(&buf[at..at + N]);
    out
}

/// Parses and fully validates (length, magic, CRC) the batch at the start of `buf`.
pub fn check_batch(buf: &[u8]) -> Result<BatchHeader, BatchError> {
    let header = BatchHeader::parse(buf)?;
    let total = header.total_len();
    if buf.len() < total {
        return Err(BatchError::Truncated {
            needed: total,
            available: buf.len(),
        });
    }
    let stored = u32::from_be_bytes(arr(buf, CRC_OFFSET));
    let computed = crc32c::crc32c(&buf[ATTRIBUTES_OFFSET..total]);
    if stored != computed {
        return Err(BatchError::BadCrc { stored, computed });
    }
    if header.codec() > super::codec::MAX_CODEC {
        return Err(BatchError::UnknownCodec(header.codec()));
    }
    Ok(header)
}

/// Decodes the records of a batch already validated by `check_batch`. `batch` holds exactly the
/// batch; keys and values share its memory.
pub fn decode_records(batch: &Bytes, header: &BatchHeader) -> Result<Vec<Record>, BatchError> {
    let mut records = Vec::new();
    decode_records_into(batch, header, i64::MIN, &mut records)?;
    Ok(records)
}

/// Like [`decode_records`], appending to `records` only those with offsets >= `from` (all
/// records are still parsed and checked). On error, `records` may hold some of the batch's.
pub fn decode_records_into(
    batch: &Bytes,
    header: &BatchHeader,
    from: i64,
    records: &mut Vec<Record>,
) -> Result<(), BatchError> {
    records.reserve((header.record_count as usize).min(1 << 16));
    let plain;
    let mut cur = if header.codec() == 0 {
        Cursor::new(batch, HEADER_LEN)
    } else {
        let end = header.total_len().min(batch.len());
        plain = super::codec::decompress(header.codec(), &batch[HEADER_LEN..end], MAX_BATCH_LEN)?;
        Cursor::new(&plain, 0)
    };
    for _ in 0..header.record_count {
        let len = cur.varint()?;
        if len < 0 {
            return Err(BatchError::BadRecord(format!(
                "negative record length {len}"
            )));
        }
        let end = cur.pos() + len as usize;
        let _attributes = cur.byte()?;
        let timestamp = header.base_timestamp.wrapping_add(cur.varlong()?);
        let offset = header.base_offset + i64::from(cur.varint()?);
        let key = cur.nullable_bytes()?;
        let value = cur.nullable_bytes()?;
        let header_count = cur.varint()?;
        let mut headers = Vec::with_capacity(header_count.max(0) as usize);
        for _ in 0..header_count {
            let key = cur
                .nullable_bytes()?
                .ok_or_else(|| BatchError::BadRecord("header with a null key".to_string()))?;
            let key = String::from_utf8_lossy(&key).into_owned();
            headers.push(Header {
                key,
                value: cur.nullable_bytes()?,
            });
        }
        if cur.pos() != end {
            return Err(BatchError::BadRecord(format!(
                "record length {len} does not match its fields"
            )));
        }
        if offset >= from {
            records.push(Record {
                offset,
                timestamp,
                key,
                value,
                headers,
            });
        }
    }
    Ok(())
}

/// One record to put in a batch, with its absolute offset.
#[derive(Debug, Clone, Copy)]
pub struct RecordRef<'a> {
    pub offset: i64,
    pub timestamp: i64,
    pub key: Option<&'a [u8]>,
    pub value: Option<&'a [u8]>,
    pub headers: &'a [Header],
}

/// Encodes records (offsets ascending, none below `base_offset`) as one batch appended to
/// `out`. `last_offset_delta` may exceed the last record's delta: compaction keeps a batch's
/// original offset range after removing records from it.
pub fn encode_batch(
    out: &mut Vec<u8>,
    base_offset: i64,
    last_offset_delta: i32,
    records: &[RecordRef<'_>],
) {
    let start = out.len();
    let base_timestamp = records.first().map_or(0, |r| r.timestamp);
    let max_timestamp = records
        .iter()
        .map(|r| r.timestamp)
        .max()
        .unwrap_or(base_timestamp);
    out.extend_from_slice(&base_offset.to_be_bytes());
    out.extend_from_slice(&0i32.to_be_bytes()); // batchLength, patched below
    out.extend_from_slice(&0i32.to_be_bytes()); // partitionLeaderEpoch
    out.push(MAGIC as u8);
    out.extend_from_slice(&0u32.to_be_bytes()); // crc, patched below
    out.extend_from_slice(&0i16.to_be_bytes()); // attributes: no compression, CreateTime
    out.extend_from_slice(&last_offset_delta.to_be_bytes());
    out.extend_from_slice(&base_timestamp.to_be_bytes());
    out.extend_from_slice(&max_timestamp.to_be_bytes());
    out.extend_from_slice(&(-1i64).to_be_bytes()); // producerId
    out.extend_from_slice(&(-1i16).to_be_bytes()); // producerEpoch
    out.extend_from_slice(&(-1i32).to_be_bytes()); // baseSequence
    out.extend_from_slice(&(records.len() as i32).to_be_bytes());
    for r in records {
        let len = record_body_len(r, base_offset, base_timestamp);
        put_varint(out, len as i32);
        let at = out.len();
        encode_record_body(out, r, base_offset, base_timestamp);
        debug_assert_eq!(out.len() - at, len, "record length computed wrongly");
    }
    let batch_length = (out.len() - start - LOG_OVERHEAD) as i32;
    out[start + 8..start + 12].copy_from_slice(&batch_length.to_be_bytes());
    let crc = crc32c::crc32c(&out[start + ATTRIBUTES_OFFSET..]);
    out[start + CRC_OFFSET..start + CRC_OFFSET + 4].copy_from_slice(&crc.to_be_bytes());
}

/// Bytes `encode_record_body` writes for `r`.
fn record_body_len(r: &RecordRef<'_>, base_offset: i64, base_ts: i64) -> usize {
    let nullable = |b: Option<&[u8]>| b.map_or(1, |b| varint_len(b.len() as i32) + b.len());
    1 + varlong_len(r.timestamp.wrapping_sub(base_ts))
        + varint_len((r.offset - base_offset) as i32)
        + nullable(r.key)
        + nullable(r.value)
        + varint_len(r.headers.len() as i32)
        + r.headers
            .iter()
            .map(|h| nullable(Some(h.key.as_bytes())) + nullable(h.value.as_deref()))
            .sum::<usize>()
}

fn encode_record_body(out: &mut Vec<u8>, r: &RecordRef<'_>, base_offset: i64, base_ts: i64) {
    out.push(0); // attributes
    put_varlong(out, r.timestamp.wrapping_sub(base_ts));
    put_varint(out, (r.offset - base_offset) as i32);
    put_nullable(out, r.key);
    put_nullable(out, r.value);
    put_varint(out, r.headers.len() as i32);
    for h in r.headers {
        put_nullable(out, Some(h.key.as_bytes()));
        put_nullable(out, h.value.as_deref());
    }
}

fn put_nullable(out: &mut Vec<u8>, bytes: Option<&[u8]>) {
    match bytes {
        None => put_varint(out, -1),
        Some(b) => {
            put_varint(out, b.len() as i32);
            out.extend_from_slice(b);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        let headers = vec![Header {
            key: "h".into(),
            value: Some(Bytes::from_static(b"v")),
        }];
        let recs = [
            RecordRef {
                offset: 10,
                timestamp: 1000,
                key: Some(b"k1"),
                value: Some(b"v1"),
                headers: &headers,
            },
            RecordRef {
                offset: 11,
                timestamp: 990,
                key: None,
                value: None,
                headers: &[],
            },
            RecordRef {
                offset: 13,
                timestamp: 1500,
                key: Some(b""),
                value: Some(b"x"),
                headers: &[],
            },
        ];
        let mut out = Vec::new();
        encode_batch(&mut out, 10, 5, &recs);
        out
    }

    #[test]
    fn round_trips_records_offsets_and_header_fields() {
        let buf = sample();
        let header = check_batch(&buf).expect("valid batch");
        assert_eq!(header.total_len(), buf.len());
        assert_eq!(
            (
                header.base_offset,
                header.last_offset(),
                header.record_count
            ),
            (10, 15, 3)
        );
        assert_eq!((header.base_timestamp, header.max_timestamp), (1000, 1500));
        let records = decode_records(&Bytes::from(buf), &header).expect("decodes");
        let offsets: Vec<i64> = records.iter().map(|r| r.offset).collect();
        assert_eq!(offsets, vec![10, 11, 13]);
        assert_eq!(records[0].key.as_deref(), Some(&b"k1"[..]));
        assert_eq!(records[0].headers[0].value.as_deref(), Some(&b"v"[..]));
        assert_eq!(records[1].timestamp, 990);
        assert_eq!(
            (records[1].key.clone(), records[1].value.clone()),
            (None, None)
        );
        assert_eq!(records[2].key.as_deref(), Some(&b""[..]));
    }

    #[test]
    fn every_single_bit_flip_is_detected() {
        let buf = sample();
        for byte in 0..buf.len() {
            for bit in 0..8 {
                let mut bad = buf.clone();
                bad[byte] ^= 1 << bit;
                let ok = check_batch(&bad)
                    .map(|h| h.base_offset == 10 && h.total_len() == buf.len())
                    .unwrap_or(false);
                assert!(!ok, "flip of bit {bit} in byte {byte} went unnoticed");
            }
        }
    }

    #[test]
    fn every_truncation_is_reported() {
        let buf = sample();
        for cut in 0..buf.len() {
            assert!(
                check_batch(&buf[..cut]).is_err(),
                "prefix of {cut} bytes accepted"
            );
        }
    }
}
