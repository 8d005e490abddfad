//! Transactions: a commit appends records to several partitions and commits group offsets
//! atomically, and nothing of an open transaction is visible to consumers.
//!
//! Records of an open transaction stay in the producer's memory. Commit, holding the locks of
//! every partition involved: (1) encode the batches at each partition's end offset; (2) append
//! them with the group offsets as one CRC-checked frame to `txn/redo.log` and fsync it — the
//! commit point; (3) append the batches and fsync the partitions; (4) apply the group offsets in
//! memory; (5) once the redo log passes 8 MiB, checkpoint: write the groups' offset files and
//! empty the redo log (`redo.rs`). After a crash, every complete frame is redone on open, in
//! order: each batch is appended unless the partition already holds it, and its offsets are
//! applied; then a checkpoint. A torn frame means that commit never happened and is dropped.
//! Producers with the same transactional id fence older instances.

use super::config::now_ms;
use super::embedded::LogInner;
use super::partition::Partition;
use super::redo::{FrameHeader, FrameOffsets, FramePart, TxnLog};
use crate::log::batch::check_batch;
use crate::transport::{
    AppendOutcome, GroupMetadata, ProducerRecord, Result, TopicPartition, TransactionalProducer,
    TransportError, choose_partition,
};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

/// Completes the transactions whose frames reached the redo log before a crash (or a failed
/// apply), in commit order, then checkpoints.
pub(super) fn recover(inner: &LogInner) -> Result<()> {
    let mut txn = inner.txn.lock().map_err(|_| poisoned())?;
    let frames = txn.read_frames()?;
    if frames.is_empty() {
        return txn.clear();
    }
    tracing::info!(
        frames = frames.len(),
        "redoing committed transactions from the redo log"
    );
    for (header, body) in &frames {
        redo_frame(inner, &txn.path, header, body)?;
    }
    let mut groups = inner.groups()?;
    groups.persist_dirty()?;
    txn.clear()
}

/// Appends each batch of a committed frame unless its partition already holds it, then applies
/// its offsets in memory.
fn redo_frame(inner: &LogInner, path: &Path, header: &FrameHeader, body: &[u8]) -> Result<()> {
    let mut at = 0;
    for part in &header.parts {
        let topic = inner.topic(&part.topic)?;
        let mut partition = topic.partition(part.partition)?;
        for len in &part.batch_lens {
            let batch = body
                .get(at..at + len)
                .ok_or_else(|| corrupt_frame(path, "batch beyond frame"))?
                .to_vec();
            at += len;
            let h = check_batch(&batch).map_err(|e| corrupt_frame(path, &e.to_string()))?;
            let end = partition.end_offset();
            if end == h.base_offset {
                partition.append_encoded(&[batch], now_ms())?;
            } else if end < h.next_offset() {
                return Err(corrupt_frame(
                    path,
                    &format!(
                        "{}-{} ends at {end}, inside a committed batch {}..{}",
                        part.topic,
                        part.partition,
                        h.base_offset,
                        h.next_offset()
                    ),
                ));
            }
        }
        partition.flush()?;
    }
    let mut groups = inner.groups()?;
    for group in &header.offsets {
        groups.apply(&group.group, &group.offsets)?;
    }
    Ok(())
}

fn corrupt_frame(path: &Path, reason: &str) -> TransportError {
    TransportError::Corrupt {
        path: path.to_path_buf(),
        position: 0,
        reason: reason.to_string(),
    }
}

fn poisoned() -> TransportError {
    TransportError::Failed {
        what: "transaction log".into(),
        reason: "a thread panicked while holding its lock".into(),
    }
}

pub struct EmbeddedTxnProducer {
    inner: Arc<LogInner>,
    id: String,
    epoch: u64,
    open: bool,
    records: BTreeMap<TopicPartition, Vec<ProducerRecord>>,
    offsets: Vec<FrameOffsets>,
    round_robin: HashMap<String, u32>,
    /// Partition counts of the topics sent to in the open transaction (looked up once each).
    counts: HashMap<String, u32>,
    /// The partition of the last `send` (the likely one of the next) and its topic's count.
    last: Option<(TopicPartition, u32)>,
}

impl EmbeddedTxnProducer {
    pub(super) fn new(inner: Arc<LogInner>, id: &str) -> Result<Self> {
        if id.is_empty() {
            return Err(TransportError::InvalidArgument(
                "a transactional id must not be empty".into(),
            ));
        }
        let epoch = inner.txn.lock().map_err(|_| poisoned())?.bump_epoch(id);
        Ok(EmbeddedTxnProducer {
            inner,
            id: id.to_string(),
            epoch,
            open: false,
            records: BTreeMap::new(),
            offsets: Vec::new(),
            round_robin: HashMap::new(),
            counts: HashMap::new(),
            last: None,
        })
    }

    fn require_open(&self) -> Result<()> {
        if self.open {
            Ok(())
        } else {
            Err(TransportError::Transaction(
                "no transaction is open: call begin_transaction first".into(),
            ))
        }
    }

    fn check_epoch(&self, txn: &TxnLog) -> Result<()> {
        if txn.epochs.get(&self.id) == Some(&self.epoch) {
            Ok(())
        } else {
            Err(TransportError::Fenced(self.id.clone()))
        }
    }

    fn reset(&mut self) {
        self.open = false;
        self.records.clear();
        self.offsets.clear();
        self.counts.clear();
        self.last = None;
    }

    fn commit_locked(&mut self, txn: &mut TxnLog) -> Result<Vec<(TopicPartition, AppendOutcome)>> {
        let now = now_ms();
        let topics = self
            .records
            .keys()
            .map(|tp| self.inner.topic(&tp.topic))
            .collect::<Result<Vec<_>>>()?;
        let mut guards = Vec::with_capacity(topics.len());
        for (topic, tp) in topics.iter().zip(self.records.keys()) {
            guards.push(topic.partition(tp.partition)?);
        }
        let mut parts = Vec::new();
        let mut encoded = Vec::new();
        for ((tp, records), guard) in self.records.iter().zip(&guards) {
            let batches = guard.encode(records, now)?;
            parts.push(FramePart {
                topic: tp.topic.clone(),
                partition: tp.partition,
                batch_lens: batches.iter().map(Vec::len).collect(),
            });
            encoded.push(batches);
        }
        let body: Vec<&[u8]> = encoded.iter().flatten().map(Vec::as_slice).collect();
        let header = FrameHeader {
            transactional_id: self.id.clone(),
            parts,
            offsets: self.offsets.clone(),
        };
        txn.write_frame(&header, &body)?;
        let mut outcomes = Vec::new();
        for ((tp, guard), batches) in self.records.keys().zip(guards.iter_mut()).zip(&encoded) {
            let applied = apply_batches(&self.id, outcomes.len(), guard, batches, now);
            match applied {
                Ok(outcome) => outcomes.push((tp.clone(), outcome)),
                Err(e) => {
                    txn.mark_apply_failed();
                    return Err(applying_failed(e));
                }
            }
        }
        drop(guards);
        let mut groups = self.inner.groups()?;
        for group in &self.offsets {
            groups.apply(&group.group, &group.offsets)?;
        }
        if txn.checkpoint_due() {
            txn.checkpoint(&mut groups).map_err(|e| {
                TransportError::Transaction(format!(
                    "the transaction is committed, but checkpointing the redo log failed ({e})"
                ))
            })?;
        }
        Ok(outcomes)
    }
}

/// Step 3 of a commit: append a partition's batches and fsync them.
fn apply_batches(
    id: &str,
    applied: usize,
    guard: &mut Partition,
    batches: &[Vec<u8>],
    now: i64,
) -> Result<AppendOutcome> {
    #[cfg(test)]
    tests::maybe_crash(id, applied)?;
    let _ = (id, applied);
    let outcome = guard.append_own(batches, now)?;
    guard.flush()?;
    Ok(outcome)
}

fn applying_failed(e: TransportError) -> TransportError {
    TransportError::Transaction(format!(
        "the transaction is committed in the redo log but applying it failed ({e}); it completes when the log is reopened"
    ))
}

impl TransactionalProducer for EmbeddedTxnProducer {
    fn begin_transaction(&mut self) -> Result<()> {
        if self.open {
            return Err(TransportError::Transaction(
                "a transaction is already open".into(),
            ));
        }
        self.check_epoch(&*self.inner.txn.lock().map_err(|_| poisoned())?)?;
        self.open = true;
        Ok(())
    }

    fn send(&mut self, topic: &str, partition: Option<u32>, record: ProducerRecord) -> Result<u32> {
        self.require_open()?;
        let cached = match &self.last {
            Some((last, count)) if last.topic == topic => Some(*count),
            _ => self.counts.get(topic).copied(),
        };
        let count = match cached {
            Some(count) => count,
            None => {
                let count = self.inner.topic(topic)?.partition_count();
                self.counts.insert(topic.to_string(), count);
                count
            }
        };
        let p = choose_partition(
            &mut self.round_robin,
            topic,
            count,
            partition,
            record.key.as_deref(),
        )?;
        let queue = match &self.last {
            Some((last, _)) if last.partition == p && last.topic == topic => {
                self.records.get_mut(last)
            }
            _ => None,
        };
        match queue {
            Some(queue) => queue.push(record),
            None => {
                let tp = TopicPartition::new(topic, p);
                self.records.entry(tp.clone()).or_default().push(record);
                self.last = Some((tp, count));
            }
        }
        Ok(p)
    }

    fn send_offsets_to_transaction(
        &mut self,
        group: &GroupMetadata,
        offsets: &[(TopicPartition, i64)],
    ) -> Result<()> {
        self.require_open()?;
        let group = group.group.as_str();
        if group.is_empty() {
            return Err(TransportError::InvalidArgument(
                "a consumer group needs a non-empty name".into(),
            ));
        }
        self.offsets.push(FrameOffsets {
            group: group.to_string(),
            offsets: offsets.to_vec(),
        });
        Ok(())
    }

    fn commit_transaction(&mut self) -> Result<Vec<(TopicPartition, AppendOutcome)>> {
        self.require_open()?;
        let inner = self.inner.clone();
        let mut txn = inner.txn.lock().map_err(|_| poisoned())?;
        self.check_epoch(&txn)?;
        txn.check_usable()?;
        let result = self.commit_locked(&mut txn);
        drop(txn);
        self.reset();
        if result.is_ok() {
            self.inner.signal.notify();
        }
        result
    }

    fn abort_transaction(&mut self) -> Result<()> {
        self.require_open()?;
        self.reset();
        Ok(())
    }
}

#[cfg(test)]
#[path = "txn_tests.rs"]
mod tests;
