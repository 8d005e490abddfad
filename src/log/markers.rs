//! Transaction markers, as Kafka writes them: a control batch (attributes: transactional and
//! control) of the transaction's producer id and epoch holding one record whose key is
//! `version i16 = 0, type i16` (0 abort, 1 commit) and whose value is `version i16 = 0,
//! coordinator epoch i32`. Markers end a producer's open transaction in a partition.

use super::batch::{self, BatchHeader, RecordRef};
use bytes::Bytes;

const ATTRIBUTES: i16 = 0x10 | 0x20;
const ABORT: i16 = 0;
const COMMIT: i16 = 1;

/// A marker batch at `base_offset`.
pub fn encode(
    base_offset: i64,
    producer_id: i64,
    producer_epoch: i16,
    commit: bool,
    timestamp: i64,
) -> Vec<u8> {
    let kind = if commit { COMMIT } else { ABORT };
    let mut key = 0i16.to_be_bytes().to_vec();
    key.extend_from_slice(&kind.to_be_bytes());
    let mut value = 0i16.to_be_bytes().to_vec();
    value.extend_from_slice(&0i32.to_be_bytes());
    let record = RecordRef {
        offset: base_offset,
        timestamp,
        key: Some(&key),
        value: Some(&value),
        headers: &[],
    };
    let mut out = Vec::with_capacity(96);
    batch::encode_batch(&mut out, base_offset, 0, &[record]);
    out[21..23].copy_from_slice(&ATTRIBUTES.to_be_bytes());
    out[43..51].copy_from_slice(&producer_id.to_be_bytes());
    out[51..53].copy_from_slice(&producer_epoch.to_be_bytes());
    let crc = crc32c::crc32c(&out[21..]);
    out[17..21].copy_from_slice(&crc.to_be_bytes());
    out
}

/// Whether the control batch `bytes` (of `header`) commits (`Some(true)`) or aborts
/// (`Some(false)`); `None` for other batches and control records of other kinds.
pub fn commits(bytes: &Bytes, header: &BatchHeader) -> Option<bool> {
    if !header.is_control() {
        return None;
    }
    let records = batch::decode_records(bytes, header).ok()?;
    let key = records.first()?.key.as_ref()?;
    match i16::from_be_bytes([*key.get(2)?, *key.get(3)?]) {
        COMMIT => Some(true),
        ABORT => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_are_control_batches_kafka_can_read() {
        for commit in [true, false] {
            let bytes = Bytes::from(encode(42, 7, 3, commit, 1_000));
            let header = batch::check_batch(&bytes).expect("a valid batch");
            assert!(header.is_control() && header.is_transactional());
            assert_eq!(
                (
                    header.base_offset,
                    header.producer_id,
                    header.producer_epoch
                ),
                (42, 7, 3)
            );
            assert_eq!(commits(&bytes, &header), Some(commit));
            let mut decoded = bytes.clone();
            let sets = kafka_protocol::records::RecordBatchDecoder::decode_all(&mut decoded)
                .expect("kafka-protocol decodes it");
            let record = &sets[0].records[0];
            assert!(record.control && record.transactional);
            assert_eq!((record.producer_id, record.producer_epoch), (7, 3));
        }
    }
}
