//! Idempotent producers' state per partition, as Kafka's `ProducerStateManager` keeps it: for
//! each producer id, its epoch and its last five batches' sequence ranges and offsets. A batch
//! repeating one of those is a retry already appended (answered with its first offset, not
//! appended again); a gap in the sequence or an older epoch is refused.
//!
//! The state is rebuilt from the batch headers (producer id, epoch and base sequence are in
//! every batch), lazily at the first produce that needs it: from `producer-state.json`, written
//! when a segment is rolled and when the log closes, then from the batches after it. Producers
//! that appended nothing for `EXPIRE_MS` are forgotten, as Kafka's `producer.id.expiration.ms`
//! does; unlike Kafka, by the time of the appends, not by the records' timestamps (records with
//! old timestamps, such as a replay, keep their producer's state).

use super::batch::BatchHeader;
use crate::transport::{IoContext, Result, TransportError};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};

/// Batches remembered per producer (Kafka's five in-flight requests).
const REMEMBERED: usize = 5;
/// A producer silent for this long is forgotten (Kafka's `producer.id.expiration.ms`).
const EXPIRE_MS: i64 = 24 * 3600 * 1000;
const FILE: &str = "producer-state.json";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchMeta {
    pub first_seq: i32,
    pub last_seq: i32,
    pub base_offset: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct ProducerEntry {
    epoch: i16,
    batches: VecDeque<BatchMeta>,
    last_timestamp: i64,
    /// The first offset of the producer's open transaction in this partition.
    #[serde(default)]
    open_txn: Option<i64>,
}

/// An aborted transaction in a partition: its producer's records from `first_offset` up to the
/// abort marker at `last_offset` are not to be read (Kafka's `.txnindex` entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AbortedTxn {
    pub producer_id: i64,
    pub first_offset: i64,
    pub last_offset: i64,
}

/// What to do with a producer's batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SequenceCheck {
    Append,
    /// A retry of the batch appended at this offset.
    Duplicate(i64),
}

/// Why a producer's batch is refused (Kafka's error names).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SequenceError {
    #[error("producer {producer_id}: epoch {epoch} is older than its current epoch {current}")]
    InvalidProducerEpoch {
        producer_id: i64,
        epoch: i16,
        current: i16,
    },
    #[error("producer {producer_id}: sequence {got} out of order, expected {expected}")]
    OutOfOrderSequence {
        producer_id: i64,
        got: i32,
        expected: String,
    },
}

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProducerStates {
    producers: BTreeMap<i64, ProducerEntry>,
    /// Every batch before this offset is reflected.
    pub next_offset: i64,
    /// Aborted transactions, by first offset, until retention removes their records.
    #[serde(default)]
    aborted: Vec<AbortedTxn>,
}

/// The sequence after `seq` (sequences wrap from `i32::MAX` to 0).
fn next_seq(seq: i32) -> i32 {
    if seq == i32::MAX { 0 } else { seq + 1 }
}

impl ProducerStates {
    /// Checks a batch of `header` (with a producer id) against the producer's state.
    pub fn check(&self, header: &BatchHeader) -> std::result::Result<SequenceCheck, SequenceError> {
        let Some(entry) = self.producers.get(&header.producer_id) else {
            // A producer unknown here (new, or forgotten): any sequence starts it, as in Kafka.
            return Ok(SequenceCheck::Append);
        };
        let first = header.base_sequence;
        if header.producer_epoch < entry.epoch {
            return Err(SequenceError::InvalidProducerEpoch {
                producer_id: header.producer_id,
                epoch: header.producer_epoch,
                current: entry.epoch,
            });
        }
        if header.producer_epoch > entry.epoch {
            return if first == 0 {
                Ok(SequenceCheck::Append)
            } else {
                Err(SequenceError::OutOfOrderSequence {
                    producer_id: header.producer_id,
                    got: first,
                    expected: "0 (a new epoch)".into(),
                })
            };
        }
        let last = header.last_sequence();
        if let Some(b) = entry
            .batches
            .iter()
            .find(|b| b.first_seq == first && b.last_seq == last)
        {
            return Ok(SequenceCheck::Duplicate(b.base_offset));
        }
        let expected = entry.batches.back().map_or(first, |b| next_seq(b.last_seq));
        if first == expected {
            Ok(SequenceCheck::Append)
        } else {
            Err(SequenceError::OutOfOrderSequence {
                producer_id: header.producer_id,
                got: first,
                expected: expected.to_string(),
            })
        }
    }

    /// Records a batch appended at `now_ms` (its header carries the offset it was given);
    /// `marker` is what a control batch does (`markers::commits`).
    pub fn record(&mut self, header: &BatchHeader, now_ms: i64, marker: Option<bool>) {
        self.next_offset = self.next_offset.max(header.next_offset());
        if header.producer_id < 0 {
            return;
        }
        let entry = self
            .producers
            .entry(header.producer_id)
            .or_insert_with(|| ProducerEntry {
                epoch: header.producer_epoch,
                batches: VecDeque::new(),
                last_timestamp: now_ms,
                open_txn: None,
            });
        if header.producer_epoch != entry.epoch {
            entry.epoch = header.producer_epoch;
            entry.batches.clear();
        }
        if header.base_sequence >= 0 {
            entry.batches.push_back(BatchMeta {
                first_seq: header.base_sequence,
                last_seq: header.last_sequence(),
                base_offset: header.base_offset,
            });
            if entry.batches.len() > REMEMBERED {
                entry.batches.pop_front();
            }
        }
        entry.last_timestamp = entry.last_timestamp.max(now_ms);
        if header.is_control() {
            if let Some(first_offset) = entry.open_txn.take()
                && marker == Some(false)
            {
                self.aborted.push(AbortedTxn {
                    producer_id: header.producer_id,
                    first_offset,
                    last_offset: header.base_offset,
                });
            }
        } else if header.is_transactional() && entry.open_txn.is_none() {
            entry.open_txn = Some(header.base_offset);
        }
    }

    /// The first offset of the earliest open transaction: the last stable offset.
    pub fn first_open_offset(&self) -> Option<i64> {
        self.producers.values().filter_map(|e| e.open_txn).min()
    }

    /// Producers with a transaction open here, and its first offset.
    pub fn open_transactions(&self) -> Vec<(i64, i64)> {
        self.producers
            .iter()
            .filter_map(|(id, e)| e.open_txn.map(|first| (*id, first)))
            .collect()
    }

    /// Whether the batch of `header` belongs to an aborted transaction.
    pub fn is_aborted(&self, header: &BatchHeader) -> bool {
        header.is_transactional()
            && self.aborted.iter().any(|a| {
                a.producer_id == header.producer_id
                    && a.first_offset <= header.base_offset
                    && header.base_offset <= a.last_offset
            })
    }

    /// Aborted transactions with records between `from` and `to` (inclusive).
    pub fn aborted_between(&self, from: i64, to: i64) -> Vec<AbortedTxn> {
        self.aborted
            .iter()
            .filter(|a| a.last_offset >= from && a.first_offset <= to)
            .copied()
            .collect()
    }

    /// Forgets aborted transactions whose records retention removed.
    pub fn prune(&mut self, log_start: i64) {
        self.aborted.retain(|a| a.last_offset >= log_start);
    }

    /// Forgets producers silent since `now_ms - EXPIRE_MS` (not those with an open transaction).
    pub fn expire(&mut self, now_ms: i64) {
        self.producers.retain(|_, e| {
            e.open_txn.is_some() || e.last_timestamp >= now_ms.saturating_sub(EXPIRE_MS)
        });
    }

    /// The snapshot in a partition directory, if one was written.
    pub fn load(dir: &Path) -> Result<Option<ProducerStates>> {
        let path = dir.join(FILE);
        let text = match std::fs::read(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(TransportError::io(&path, e)),
        };
        match serde_json::from_slice(&text) {
            Ok(states) => Ok(Some(states)),
            Err(e) => {
                // Only idempotence's memory of recent batches is lost: rebuilt from the segment.
                tracing::warn!(path = %path.display(), "ignoring a damaged producer-state snapshot: {e}");
                Ok(None)
            }
        }
    }

    /// Writes the snapshot (atomically: a temporary file renamed over it).
    pub fn save(&self, dir: &Path) -> Result<()> {
        let path = dir.join(FILE);
        let temp: PathBuf = dir.join(format!("{FILE}.tmp"));
        let text = serde_json::to_vec(self).map_err(|e| TransportError::Failed {
            what: path.display().to_string(),
            reason: e.to_string(),
        })?;
        std::fs::write(&temp, text).at(&temp)?;
        std::fs::rename(&temp, &path).at(&path)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(producer_id: i64, epoch: i16, first_seq: i32, count: i32, base: i64) -> BatchHeader {
        BatchHeader {
            base_offset: base,
            batch_length: 100,
            attributes: 0,
            last_offset_delta: count - 1,
            base_timestamp: 0,
            max_timestamp: 0,
            producer_id,
            producer_epoch: epoch,
            base_sequence: first_seq,
            record_count: count,
        }
    }

    #[test]
    fn retries_are_duplicates_gaps_and_old_epochs_are_refused() {
        let mut states = ProducerStates::default();
        let first = header(7, 0, 0, 3, 0);
        assert_eq!(states.check(&first), Ok(SequenceCheck::Append));
        states.record(&first, 0, None);
        assert_eq!(
            states.check(&header(7, 0, 0, 3, 99)),
            Ok(SequenceCheck::Duplicate(0))
        );
        let second = header(7, 0, 3, 2, 3);
        assert_eq!(states.check(&second), Ok(SequenceCheck::Append));
        states.record(&second, 0, None);
        assert!(matches!(
            states.check(&header(7, 0, 9, 1, 5)),
            Err(SequenceError::OutOfOrderSequence { got: 9, .. })
        ));
        let bumped = header(7, 1, 0, 1, 5);
        assert_eq!(states.check(&bumped), Ok(SequenceCheck::Append));
        states.record(&bumped, 0, None);
        assert!(matches!(
            states.check(&header(7, 0, 5, 1, 6)),
            Err(SequenceError::InvalidProducerEpoch {
                epoch: 0,
                current: 1,
                ..
            })
        ));
        assert!(matches!(
            states.check(&header(7, 2, 4, 1, 6)),
            Err(SequenceError::OutOfOrderSequence { .. })
        ));
        // Only the last five batches are remembered.
        for (seq, base) in (1..).zip(6..12) {
            let h = header(7, 1, seq, 1, base);
            assert_eq!(states.check(&h), Ok(SequenceCheck::Append));
            states.record(&h, 0, None);
        }
        assert!(matches!(
            states.check(&header(7, 1, 1, 1, 20)),
            Err(SequenceError::OutOfOrderSequence { .. })
        ));
        assert_eq!(
            states.check(&header(7, 1, 6, 1, 20)),
            Ok(SequenceCheck::Duplicate(11))
        );
    }

    #[test]
    fn sequences_wrap_and_snapshots_round_trip() {
        let mut states = ProducerStates::default();
        states.record(&header(1, 0, i32::MAX - 1, 2, 0), 0, None);
        assert_eq!(
            states.check(&header(1, 0, 0, 1, 2)),
            Ok(SequenceCheck::Append)
        );
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(ProducerStates::load(dir.path()).expect("load"), None);
        states.save(dir.path()).expect("save");
        assert_eq!(
            ProducerStates::load(dir.path()).expect("load"),
            Some(states.clone())
        );
        states.expire(EXPIRE_MS + 1);
        assert_eq!(
            states.check(&header(1, 0, 77, 1, 2)),
            Ok(SequenceCheck::Append),
            "forgotten"
        );
    }
}
