//! Record sets as Kafka clients produce and fetch them (for the Kafka listener, `kafka_wire`):
//! a producer's batch checked by Kafka's rules and appended as sent (a compressed one stays
//! compressed), and stored batches read back as bytes, never decoded.

use super::batch::{self, BatchHeader, LOG_OVERHEAD};
use super::config::now_ms;
use super::embedded::EmbeddedLog;
use super::partition::Partition;
use super::producer_state::{AbortedTxn, SequenceCheck, SequenceError};
use crate::transport::{AppendOutcome, CleanupPolicy, Result, TransportError};
use bytes::Bytes;

/// Why a produced record set was refused; nothing of it was appended.
#[derive(Debug, thiserror::Error)]
pub enum RecordSetError {
    /// The client's fault, Kafka's `CORRUPT_MESSAGE`: lengths or CRC do not hold.
    #[error("corrupt record batch: {0}")]
    Corrupt(String),
    /// The client's fault, Kafka's `INVALID_RECORD`: a well-formed batch Kafka's rules refuse.
    #[error("invalid record batch: {0}")]
    Invalid(String),
    /// The client's fault, Kafka's `MESSAGE_TOO_LARGE`.
    #[error("a record batch of {size} bytes is larger than the {max} bytes accepted")]
    TooLarge { size: usize, max: usize },
    /// The client's fault: an idempotent producer's sequence or epoch does not follow on.
    #[error(transparent)]
    Sequence(#[from] SequenceError),
    /// The topic, the partition or the log refused it (unknown topic, failed partition, ...).
    #[error(transparent)]
    Log(#[from] TransportError),
}

/// A partition's bounds as Kafka reports them: the first offset kept, the end (the high
/// watermark: every appended record is committed on a single node) and the last stable offset
/// (the first offset of the earliest open transaction, else the end).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartitionOffsets {
    pub log_start: i64,
    pub high_watermark: i64,
    pub last_stable: i64,
}

/// Stored batches, the partition's bounds when they were read, and (read_committed) the
/// aborted transactions with records among them.
#[derive(Debug, Clone)]
pub struct StoredBatches {
    pub bytes: Bytes,
    pub offsets: PartitionOffsets,
    pub aborted: Vec<AbortedTxn>,
}

impl EmbeddedLog {
    /// Appends a producer's record set (Produce v3+: exactly one RecordBatch v2) to a partition,
    /// as sent but for `baseOffset` (set to the partition's end) and `partitionLeaderEpoch` (0),
    /// which are outside the CRC. `max_batch_bytes` is Kafka's `max.message.bytes`.
    pub fn append_record_set(
        &self,
        topic: &str,
        partition: u32,
        record_set: &[u8],
        max_batch_bytes: usize,
    ) -> std::result::Result<AppendOutcome, RecordSetError> {
        if record_set.len() > max_batch_bytes {
            return Err(RecordSetError::TooLarge {
                size: record_set.len(),
                max: max_batch_bytes,
            });
        }
        let topic_handle = self.inner.topic(topic)?;
        let mut guard = topic_handle.partition(partition)?;
        let (batch, header) = check_produced(record_set.to_vec(), &guard)?;
        if header.producer_id >= 0
            && let SequenceCheck::Duplicate(base_offset) = guard.producers.check(&header)?
        {
            // A retry of a batch already appended: its offsets, nothing appended.
            return Ok(AppendOutcome {
                partition,
                base_offset,
                last_offset: base_offset + i64::from(header.last_offset_delta),
            });
        }
        let outcome = guard.append_own(&[batch], now_ms())?;
        drop(guard);
        self.inner.signal.notify();
        Ok(outcome)
    }

    /// Stored batches of a partition from the one holding `offset` on, about `max_bytes` of them
    /// (at least one whole batch when there is one), read from the segment as bytes; with
    /// `committed`, only batches before the last stable offset, and the aborted transactions
    /// among them (Kafka's read_committed Fetch).
    pub fn read_batches(
        &self,
        topic: &str,
        partition: u32,
        offset: i64,
        max_bytes: usize,
        committed: bool,
    ) -> Result<StoredBatches> {
        let topic_handle = self.inner.topic(topic)?;
        let guard = topic_handle.partition(partition)?;
        let offsets = offsets_of(&guard);
        let limit = match committed {
            true => offsets.last_stable,
            false => offsets.high_watermark,
        };
        let bytes = guard.stored_batches(offset, max_bytes, limit)?;
        let aborted = match committed && !bytes.is_empty() {
            true => guard.producers.aborted_between(offset, limit - 1),
            false => Vec::new(),
        };
        Ok(StoredBatches {
            bytes,
            offsets,
            aborted,
        })
    }

    /// Ends `producer_id`'s transaction in a partition with a commit or abort marker (written
    /// even when no transaction is open there, as Kafka does); returns the marker's offset.
    pub fn write_marker(
        &self,
        topic: &str,
        partition: u32,
        producer_id: i64,
        producer_epoch: i16,
        commit: bool,
    ) -> Result<i64> {
        let topic_handle = self.inner.topic(topic)?;
        let mut guard = topic_handle.partition(partition)?;
        let now = now_ms();
        let marker =
            super::markers::encode(guard.end_offset(), producer_id, producer_epoch, commit, now);
        let outcome = guard.append_own(&[marker], now)?;
        drop(guard);
        self.inner.signal.notify();
        Ok(outcome.base_offset)
    }

    /// Every partition's open transactions: (topic, partition, producer id, first offset).
    pub fn open_transactions(&self) -> Result<Vec<(String, u32, i64, i64)>> {
        let mut open = Vec::new();
        self.inner.for_each_partition(|p| {
            for (producer_id, first) in p.producers.open_transactions() {
                open.push((p.topic.to_string(), p.id, producer_id, first));
            }
            Ok(())
        })?;
        Ok(open)
    }

    pub fn partition_offsets(&self, topic: &str, partition: u32) -> Result<PartitionOffsets> {
        let topic_handle = self.inner.topic(topic)?;
        let guard = topic_handle.partition(partition)?;
        Ok(offsets_of(&guard))
    }

    /// A receiver that changes after every append to any partition (long polls wait on it).
    pub fn appends(&self) -> tokio::sync::watch::Receiver<u64> {
        self.inner.signal.subscribe()
    }
}

/// The producer of a produced record set as its first batch header names it: (producer id,
/// epoch, whether it is transactional); `None` when the bytes are too short to say.
pub fn batch_producer(record_set: &[u8]) -> Option<(i64, i16, bool)> {
    // Producers send leader epoch -1, which stored batches never have.
    let mut head = record_set.get(..batch::HEADER_LEN)?.to_vec();
    head[12..16].copy_from_slice(&0i32.to_be_bytes());
    let header = BatchHeader::parse(&head).ok()?;
    Some((
        header.producer_id,
        header.producer_epoch,
        header.is_transactional(),
    ))
}

fn offsets_of(partition: &Partition) -> PartitionOffsets {
    PartitionOffsets {
        log_start: partition.start_offset(),
        high_watermark: partition.end_offset(),
        last_stable: partition.last_stable_offset(),
    }
}

/// Checks a produced batch by Kafka's rules (`LogValidator`, `ProduceRequest`) and places it at
/// the partition's end.
fn check_produced(
    mut batch: Vec<u8>,
    partition: &Partition,
) -> std::result::Result<(Vec<u8>, BatchHeader), RecordSetError> {
    let corrupt = |reason: String| RecordSetError::Corrupt(reason);
    let invalid = |reason: String| RecordSetError::Invalid(reason);
    let declared = batch
        .get(8..12)
        .map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]) as i64 + LOG_OVERHEAD as i64);
    match declared {
        None => return Err(corrupt(format!("{} bytes are not a batch", batch.len()))),
        Some(len) if len < batch.len() as i64 => {
            return Err(invalid(
                "a produce request holds exactly one record batch per partition".into(),
            ));
        }
        Some(_) => {}
    }
    if batch.len() >= 16 {
        if i64::from_be_bytes(batch[0..8].try_into().unwrap_or_default()) != 0 {
            return Err(invalid("a produced batch must have base offset 0".into()));
        }
        batch[0..8].copy_from_slice(&partition.end_offset().to_be_bytes());
        batch[12..16].copy_from_slice(&0i32.to_be_bytes());
    }
    let header = batch::check_batch(&batch).map_err(|e| corrupt(e.to_string()))?;
    let batch = Bytes::from(batch);
    check_records(&batch, &header, partition).map_err(invalid)?;
    Ok((Vec::from(batch), header))
}

/// Kafka's rules for a client's batch: not a control batch, offsets 0..n, a sequence with a
/// producer id, and keys on a compacted topic. (Whether a transactional batch belongs to an
/// ongoing transaction is the listener's transaction coordinator's to check.)
fn check_records(
    batch: &Bytes,
    header: &BatchHeader,
    partition: &Partition,
) -> std::result::Result<(), String> {
    if header.is_control() {
        return Err("clients may not write control records".into());
    }
    if header.producer_id >= 0 && header.base_sequence < 0 {
        return Err(format!(
            "producer {} sent base sequence {}",
            header.producer_id, header.base_sequence
        ));
    }
    if header.record_count == 0
        || i64::from(header.last_offset_delta) + 1 != i64::from(header.record_count)
    {
        return Err(format!(
            "the batch says {} records but its offsets span {}",
            header.record_count,
            i64::from(header.last_offset_delta) + 1
        ));
    }
    let records = batch::decode_records(batch, header).map_err(|e| e.to_string())?;
    for (i, record) in records.iter().enumerate() {
        if record.offset != header.base_offset + i as i64 {
            return Err(format!(
                "record {i} has offset delta {}, not {i}",
                record.offset - header.base_offset
            ));
        }
        if record.key.is_none() && partition.config.cleanup_policy == CleanupPolicy::Compact {
            return Err(format!(
                "the compacted topic {}-{} cannot accept a record without a key",
                partition.topic, partition.id
            ));
        }
    }
    Ok(())
}

impl Partition {
    /// Stored batches from the one holding `offset` on, none starting at or after `limit`
    /// (`EmbeddedLog::read_batches`); empty at the end. A damaged first batch is a
    /// `CorruptBatch` error.
    pub fn stored_batches(&self, offset: i64, max_bytes: usize, limit: i64) -> Result<Bytes> {
        self.check_readable(offset)?;
        let first = self
            .segments
            .partition_point(|s| s.base_offset <= offset)
            .saturating_sub(1);
        for segment in &self.segments[first..] {
            if offset >= limit || segment.base_offset >= limit {
                break;
            }
            if segment.next_offset() <= offset {
                continue;
            }
            match segment.stored_batches(offset, max_bytes, limit)? {
                Ok(Some(bytes)) => return Ok(bytes),
                Ok(None) => continue,
                Err(damage) => return Err(damage.into_error(&self.topic, self.id)),
            }
        }
        Ok(Bytes::new())
    }
}

/// What ListOffsets asks for a timestamp.
impl EmbeddedLog {
    /// The offset and timestamp of the first record with a timestamp at or after `timestamp`.
    pub fn first_at_or_after(
        &self,
        topic: &str,
        partition: u32,
        timestamp: i64,
    ) -> Result<Option<(i64, i64)>> {
        let topic_handle = self.inner.topic(topic)?;
        let guard = topic_handle.partition(partition)?;
        guard.first_at_or_after(timestamp)
    }

    /// The offset and timestamp of the first record with the partition's largest timestamp.
    pub fn max_timestamp_record(&self, topic: &str, partition: u32) -> Result<Option<(i64, i64)>> {
        let topic_handle = self.inner.topic(topic)?;
        let guard = topic_handle.partition(partition)?;
        match guard.max_timestamp() {
            i64::MIN => Ok(None),
            max => guard.first_at_or_after(max),
        }
    }
}
