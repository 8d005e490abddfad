//! Kafka's record-batch compression codecs (attributes bits 0-2: 1 gzip, 2 snappy, 3 lz4,
//! 4 zstd), decompressed with a bound on the output so that a small batch cannot make the
//! server allocate gigabytes (a "decompression bomb" is a damaged batch, not an allocation).
//! Batches are stored as producers sent them; only readers that need records decompress.
//!
//! Snappy comes in two framings: raw snappy (librdkafka) and the xerial stream that Kafka's Java
//! client writes (a 16-byte magic header, then length-prefixed raw blocks); both are read.

use super::batch::BatchError;
use bytes::Bytes;
use std::io::Read;

/// The codec numbers Kafka defines; anything above is refused.
pub const MAX_CODEC: i16 = 4;

/// The header of xerial's snappy stream: magic, version 1, compatible version 1.
const XERIAL_MAGIC: &[u8] = b"\x82SNAPPY\x00";
const XERIAL_HEADER_LEN: usize = 16;

/// The decompressed bytes of a batch's records section, at most `limit` of them.
pub fn decompress(codec: i16, data: &[u8], limit: usize) -> Result<Bytes, BatchError> {
    let out = match codec {
        1 => read_bounded(flate2::read::MultiGzDecoder::new(data), limit, "gzip")?,
        2 => snappy(data, limit)?,
        3 => {
            let decoder = lz4::Decoder::new(data).map_err(|e| bad("lz4", e))?;
            read_bounded(decoder, limit, "lz4")?
        }
        4 => {
            let decoder = zstd::stream::read::Decoder::new(data).map_err(|e| bad("zstd", e))?;
            read_bounded(decoder, limit, "zstd")?
        }
        other => return Err(BatchError::UnknownCodec(other)),
    };
    Ok(Bytes::from(out))
}

fn read_bounded(reader: impl Read, limit: usize, codec: &str) -> Result<Vec<u8>, BatchError> {
    let mut out = Vec::new();
    reader
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| bad(codec, e))?;
    if out.len() > limit {
        return Err(too_large(codec, limit));
    }
    Ok(out)
}

fn snappy(data: &[u8], limit: usize) -> Result<Vec<u8>, BatchError> {
    if !data.starts_with(XERIAL_MAGIC) {
        let mut out = Vec::new();
        raw_snappy_into(data, limit, &mut out)?;
        return Ok(out);
    }
    let mut rest = data.get(XERIAL_HEADER_LEN..).ok_or_else(|| {
        BatchError::BadRecord("snappy: the xerial stream header is cut short".into())
    })?;
    let mut out = Vec::new();
    while !rest.is_empty() {
        let (len, after) = rest
            .split_first_chunk::<4>()
            .ok_or_else(|| BatchError::BadRecord("snappy: a block length is cut short".into()))?;
        let len = u32::from_be_bytes(*len) as usize;
        let block = after.get(..len).ok_or_else(|| {
            BatchError::BadRecord(format!("snappy: a block of {len} bytes is cut short"))
        })?;
        raw_snappy_into(block, limit - out.len(), &mut out)?;
        rest = &after[len..];
    }
    Ok(out)
}

/// Appends one raw snappy block to `out`, refusing one that would decompress past `limit`.
fn raw_snappy_into(block: &[u8], limit: usize, out: &mut Vec<u8>) -> Result<(), BatchError> {
    let len = snap::raw::decompress_len(block).map_err(|e| bad("snappy", e))?;
    if len > limit {
        return Err(too_large("snappy", limit));
    }
    let start = out.len();
    out.resize(start + len, 0);
    snap::raw::Decoder::new()
        .decompress(block, &mut out[start..])
        .map_err(|e| bad("snappy", e))?;
    Ok(())
}

fn bad(codec: &str, e: impl std::fmt::Display) -> BatchError {
    BatchError::BadRecord(format!("{codec}: {e}"))
}

fn too_large(codec: &str, limit: usize) -> BatchError {
    BatchError::BadRecord(format!(
        "{codec}: the records decompress to more than {limit} bytes"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).expect("gzip");
        e.finish().expect("gzip")
    }

    fn lz4(data: &[u8]) -> Vec<u8> {
        let mut e = lz4::EncoderBuilder::new().build(Vec::new()).expect("lz4");
        e.write_all(data).expect("lz4");
        let (out, result) = e.finish();
        result.expect("lz4");
        out
    }

    fn xerial(blocks: &[&[u8]]) -> Vec<u8> {
        let mut out = b"\x82SNAPPY\x00\x00\x00\x00\x01\x00\x00\x00\x01".to_vec();
        for block in blocks {
            let compressed = snap::raw::Encoder::new()
                .compress_vec(block)
                .expect("snappy");
            out.extend_from_slice(&(compressed.len() as u32).to_be_bytes());
            out.extend_from_slice(&compressed);
        }
        out
    }

    #[test]
    fn every_codec_round_trips() {
        let data = b"records records records records".repeat(100);
        let raw_snappy = snap::raw::Encoder::new()
            .compress_vec(&data)
            .expect("snappy");
        let half = data.len() / 2;
        let cases: Vec<(i16, Vec<u8>)> = vec![
            (1, gzip(&data)),
            (2, raw_snappy),
            (2, xerial(&[&data[..half], &data[half..]])),
            (3, lz4(&data)),
            (4, zstd::encode_all(&data[..], 3).expect("zstd")),
        ];
        for (codec, compressed) in cases {
            let out = decompress(codec, &compressed, 1 << 20).expect("decompresses");
            assert_eq!(out, data, "codec {codec}");
        }
    }

    #[test]
    fn output_past_the_limit_and_garbage_are_refused() {
        let data = vec![0u8; 1 << 20];
        let raw_snappy = snap::raw::Encoder::new()
            .compress_vec(&data)
            .expect("snappy");
        let cases: Vec<(i16, Vec<u8>)> = vec![
            (1, gzip(&data)),
            (2, raw_snappy),
            (2, xerial(&[&data])),
            (3, lz4(&data)),
            (4, zstd::encode_all(&data[..], 3).expect("zstd")),
        ];
        for (codec, compressed) in cases {
            let err = decompress(codec, &compressed, 1000).expect_err("too large");
            assert!(
                err.to_string().contains("more than 1000 bytes"),
                "{codec}: {err}"
            );
            let err = decompress(codec, b"\x82SNAPPY\x00garbage-garbage", 1000);
            assert!(err.is_err(), "codec {codec} read garbage");
        }
        let err = decompress(5, b"", 10).expect_err("codec 5");
        assert_eq!(err, BatchError::UnknownCodec(5));
    }
}
