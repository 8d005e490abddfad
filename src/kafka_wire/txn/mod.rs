//! The transaction coordinator (Kafka's, for clients' transactions): InitProducerId with a
//! transactional id (fencing the previous producer by bumping the epoch, ending its
//! transaction first), AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit, EndTxn (markers
//! written to every partition of the transaction, then the offsets committed), transactions
//! aborted when they outlive their timeout, and recovery at start. Transactional produce goes
//! through `append` so that a batch is appended only to a partition of the producer's ongoing
//! transaction, never after its marker (the table's lock is held across check and append).
//!
//! May import what `kafka_wire` does.

mod state;

use super::producer_ids::ProducerIds;
use crate::log::{EmbeddedLog, RecordSetError};
use crate::transport::{AppendOutcome, TopicPartition, Transport, TransportError};
use kafka_protocol::ResponseError;
use state::{TxnEntry, TxnState, TxnTable};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, MutexGuard};

/// Kafka's `transaction.max.timeout.ms`.
const MAX_TIMEOUT_MS: i64 = 15 * 60 * 1000;

pub struct Transactions {
    table: Mutex<TxnTable>,
}

/// A request's producer, as it names itself.
#[derive(Clone, Copy)]
pub struct Producer {
    pub id: i64,
    pub epoch: i16,
}

fn code(error: ResponseError) -> i16 {
    error.code()
}

impl Transactions {
    pub fn open(kafka_dir: &std::path::Path) -> std::io::Result<Transactions> {
        Ok(Transactions {
            table: Mutex::new(TxnTable::open(kafka_dir)?),
        })
    }

    fn table(&self) -> MutexGuard<'_, TxnTable> {
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// InitProducerId with a transactional id: its producer id and the next epoch.
    pub fn init(
        &self,
        log: &EmbeddedLog,
        ids: &ProducerIds,
        transactional_id: &str,
        timeout_ms: i32,
        asked: Producer,
    ) -> Result<Producer, i16> {
        let timeout_ms = i64::from(timeout_ms);
        if !(1..=MAX_TIMEOUT_MS).contains(&timeout_ms) {
            return Err(code(ResponseError::InvalidTransactionTimeout));
        }
        let mut table = self.table();
        let Some(entry) = table.entries.get(transactional_id).cloned() else {
            let id = ids.allocate().map_err(storage)?;
            let entry = new_entry(id, 0, timeout_ms);
            table.entries.insert(transactional_id.to_string(), entry);
            table.save().map_err(storage)?;
            return Ok(Producer { id, epoch: 0 });
        };
        if asked.id >= 0 && (asked.id, asked.epoch) != (entry.producer_id, entry.epoch) {
            return Err(code(ResponseError::ProducerFenced));
        }
        let mut entry = entry;
        // The previous producer's transaction ends first: prepared ones complete, an ongoing
        // one is aborted under the new epoch, which fences the old producer's late writes.
        let (id, epoch) = match entry.epoch.checked_add(1).filter(|e| *e < i16::MAX) {
            Some(epoch) => (entry.producer_id, epoch),
            None => (ids.allocate().map_err(storage)?, 0),
        };
        let current = entry.epoch;
        match entry.state {
            TxnState::PrepareCommit => complete(log, &mut entry, true, current)?,
            TxnState::PrepareAbort => complete(log, &mut entry, false, current)?,
            TxnState::Ongoing => complete(log, &mut entry, false, epoch)?,
            _ => {}
        }
        let entry = TxnEntry {
            producer_id: id,
            epoch,
            ..new_entry(id, epoch, timeout_ms)
        };
        table.entries.insert(transactional_id.to_string(), entry);
        table.save().map_err(storage)?;
        Ok(Producer { id, epoch })
    }

    /// AddPartitionsToTxn: one code per partition, in order.
    pub fn add_partitions(
        &self,
        log: &EmbeddedLog,
        transactional_id: &str,
        producer: Producer,
        partitions: &[(String, i32)],
    ) -> Vec<i16> {
        let mut table = self.table();
        let entry = match usable(&mut table, transactional_id, producer) {
            Ok(entry) => entry,
            Err(c) => return vec![c; partitions.len()],
        };
        let unknown: Vec<bool> = partitions
            .iter()
            .map(|(topic, p)| {
                u32::try_from(*p)
                    .ok()
                    .and_then(|p| log.partition_count(topic).ok().map(|n| p < n))
                    != Some(true)
            })
            .collect();
        if unknown.contains(&true) {
            return unknown
                .iter()
                .map(|&u| match u {
                    true => code(ResponseError::UnknownTopicOrPartition),
                    false => code(ResponseError::OperationNotAttempted),
                })
                .collect();
        }
        begin(entry);
        for (topic, p) in partitions {
            entry.partitions.insert((topic.clone(), *p as u32));
        }
        match table.save() {
            Ok(()) => vec![0; partitions.len()],
            Err(e) => vec![storage(e); partitions.len()],
        }
    }

    /// AddOffsetsToTxn: the group's offsets will be committed with the transaction.
    pub fn add_offsets(&self, transactional_id: &str, producer: Producer, group: &str) -> i16 {
        let mut table = self.table();
        let entry = match usable(&mut table, transactional_id, producer) {
            Ok(entry) => entry,
            Err(c) => return c,
        };
        begin(entry);
        entry.offsets.entry(group.to_string()).or_default();
        table.save().err().map_or(0, storage)
    }

    /// TxnOffsetCommit: offsets held until the transaction commits (dropped if it aborts).
    pub fn commit_offsets(
        &self,
        transactional_id: &str,
        producer: Producer,
        group: &str,
        offsets: &[(String, i32, i64)],
    ) -> Vec<i16> {
        let mut table = self.table();
        let entry = match usable(&mut table, transactional_id, producer) {
            Ok(entry) if entry.state == TxnState::Ongoing => entry,
            Ok(_) => return vec![code(ResponseError::InvalidTxnState); offsets.len()],
            Err(c) => return vec![c; offsets.len()],
        };
        let pending = entry.offsets.entry(group.to_string()).or_default();
        offsets
            .iter()
            .map(|(topic, p, offset)| {
                let Ok(p) = u32::try_from(*p) else {
                    return code(ResponseError::UnknownTopicOrPartition);
                };
                pending.retain(|(t, q, _)| !(t == topic && *q == p));
                pending.push((topic.clone(), p, *offset));
                0
            })
            .collect()
    }

    /// EndTxn: markers to every partition of the transaction, then (commit) its offsets.
    pub fn end(
        &self,
        log: &EmbeddedLog,
        transactional_id: &str,
        producer: Producer,
        commit: bool,
    ) -> i16 {
        let mut table = self.table();
        let entry = match table.entries.get(transactional_id) {
            None => return code(ResponseError::InvalidProducerIdMapping),
            Some(e) => e,
        };
        if let Err(c) = check_producer(entry, producer) {
            return c;
        }
        match (entry.state, commit) {
            (TxnState::Ongoing, _) => {}
            // A retry of the EndTxn that completed the transaction.
            (TxnState::CompleteCommit, true) | (TxnState::CompleteAbort, false) => return 0,
            _ => return code(ResponseError::InvalidTxnState),
        }
        let mut entry = entry.clone();
        entry.state = match commit {
            true => TxnState::PrepareCommit,
            false => TxnState::PrepareAbort,
        };
        table
            .entries
            .insert(transactional_id.to_string(), entry.clone());
        if let Err(e) = table.save() {
            return storage(e);
        }
        let epoch = entry.epoch;
        let result = complete(log, &mut entry, commit, epoch);
        table.entries.insert(transactional_id.to_string(), entry);
        match result.and_then(|()| table.save().map_err(storage)) {
            Ok(()) => 0,
            Err(c) => c,
        }
    }

    /// Appends a transactional producer's batch, if it belongs to its ongoing transaction.
    pub fn append(
        &self,
        log: &EmbeddedLog,
        tp: &TopicPartition,
        producer: Producer,
        records: &[u8],
        max_batch_bytes: usize,
    ) -> Result<AppendOutcome, AppendRefused> {
        let table = self.table();
        let Some((_, entry)) = table.by_producer(producer.id) else {
            return Err(AppendRefused::Code(code(
                ResponseError::InvalidProducerIdMapping,
            )));
        };
        if producer.epoch < entry.epoch {
            return Err(AppendRefused::Code(code(
                ResponseError::InvalidProducerEpoch,
            )));
        }
        let added = entry.partitions.contains(&(tp.topic.clone(), tp.partition));
        if entry.state != TxnState::Ongoing || producer.epoch != entry.epoch || !added {
            return Err(AppendRefused::Code(code(ResponseError::InvalidTxnState)));
        }
        log.append_record_set(&tp.topic, tp.partition, records, max_batch_bytes)
            .map_err(AppendRefused::Log)
    }

    /// Aborts ongoing transactions older than their timeout, bumping the epoch (the late
    /// producer is fenced). Returns the transactional ids aborted.
    pub fn abort_expired(&self, log: &EmbeddedLog, now_ms: i64) -> Vec<String> {
        let mut table = self.table();
        let expired: Vec<String> = table
            .entries
            .iter()
            .filter(|(_, e)| e.state == TxnState::Ongoing && now_ms - e.started_ms > e.timeout_ms)
            .map(|(id, _)| id.clone())
            .collect();
        for id in &expired {
            let Some(mut entry) = table.entries.get(id).cloned() else {
                continue;
            };
            let epoch = entry.epoch.saturating_add(1);
            if let Err(c) = complete(log, &mut entry, false, epoch) {
                tracing::error!(transactional_id = %id, "aborting a timed-out transaction failed (error {c}); retrying");
                continue;
            }
            entry.epoch = epoch;
            tracing::info!(transactional_id = %id, "aborted a transaction open past its timeout of {} ms", entry.timeout_ms);
            table.entries.insert(id.clone(), entry);
        }
        if !expired.is_empty()
            && let Err(e) = table.save()
        {
            tracing::error!("saving the transaction table: {e}");
        }
        expired
    }

    /// At start: completes prepared transactions, and aborts transactions the partitions hold
    /// open that no ongoing transaction here accounts for.
    pub fn recover(&self, log: &EmbeddedLog) -> Result<(), TransportError> {
        let mut table = self.table();
        let ids: Vec<String> = table.entries.keys().cloned().collect();
        for id in ids {
            let Some(mut entry) = table.entries.get(&id).cloned() else {
                continue;
            };
            let commit = match entry.state {
                TxnState::PrepareCommit => true,
                TxnState::PrepareAbort => false,
                _ => continue,
            };
            let epoch = entry.epoch;
            complete(log, &mut entry, commit, epoch).map_err(|c| {
                TransportError::Transaction(format!("completing transaction {id} (error {c})"))
            })?;
            table.entries.insert(id, entry);
        }
        for (topic, partition, producer_id, first) in log.open_transactions()? {
            let known = table.by_producer(producer_id).is_some_and(|(_, e)| {
                e.state == TxnState::Ongoing && e.partitions.contains(&(topic.clone(), partition))
            });
            if !known {
                tracing::warn!(
                    topic,
                    partition,
                    producer_id,
                    first,
                    "aborting a transaction no coordinator state accounts for"
                );
                let epoch = table.by_producer(producer_id).map_or(0, |(_, e)| e.epoch);
                log.write_marker(&topic, partition, producer_id, epoch, false)?;
            }
        }
        table
            .save()
            .map_err(|e| TransportError::Transaction(format!("saving the transaction table: {e}")))
    }
}

/// Why a transactional batch was not appended.
pub enum AppendRefused {
    Code(i16),
    Log(RecordSetError),
}

fn new_entry(producer_id: i64, epoch: i16, timeout_ms: i64) -> TxnEntry {
    TxnEntry {
        producer_id,
        epoch,
        timeout_ms,
        state: TxnState::Empty,
        partitions: BTreeSet::new(),
        offsets: BTreeMap::new(),
        started_ms: 0,
    }
}

fn storage(e: std::io::Error) -> i16 {
    tracing::error!("the transaction table: {e}");
    code(ResponseError::KafkaStorageError)
}

/// The producer must be the transactional id's current one.
fn check_producer(entry: &TxnEntry, producer: Producer) -> Result<(), i16> {
    if producer.id != entry.producer_id {
        return Err(code(ResponseError::InvalidProducerIdMapping));
    }
    if producer.epoch < entry.epoch {
        return Err(code(ResponseError::ProducerFenced));
    }
    if producer.epoch > entry.epoch {
        return Err(code(ResponseError::InvalidProducerEpoch));
    }
    Ok(())
}

/// The entry of a producer that may add to its transaction now.
fn usable<'a>(
    table: &'a mut TxnTable,
    transactional_id: &str,
    producer: Producer,
) -> Result<&'a mut TxnEntry, i16> {
    let entry = table
        .entries
        .get_mut(transactional_id)
        .ok_or(code(ResponseError::InvalidProducerIdMapping))?;
    check_producer(entry, producer)?;
    match entry.state {
        TxnState::PrepareCommit | TxnState::PrepareAbort => {
            Err(code(ResponseError::ConcurrentTransactions))
        }
        _ => Ok(entry),
    }
}

/// Makes the transaction ongoing (a new one starts empty, its clock running).
fn begin(entry: &mut TxnEntry) {
    if entry.state != TxnState::Ongoing {
        entry.state = TxnState::Ongoing;
        entry.partitions.clear();
        entry.offsets.clear();
        entry.started_ms = crate::log::now_ms();
    }
}

/// Writes the markers (under `epoch`) and, for a commit, the offsets; the entry completes.
fn complete(log: &EmbeddedLog, entry: &mut TxnEntry, commit: bool, epoch: i16) -> Result<(), i16> {
    for (topic, partition) in &entry.partitions {
        match log.write_marker(topic, *partition, entry.producer_id, epoch, commit) {
            Ok(_) | Err(TransportError::UnknownTopic(_)) => {}
            Err(e) => {
                tracing::error!(topic, partition, "writing a transaction marker: {e}");
                return Err(super::codes::for_transport(&e));
            }
        }
    }
    if commit {
        for (group, offsets) in &entry.offsets {
            let offsets: Vec<(TopicPartition, i64)> = offsets
                .iter()
                .map(|(t, p, o)| (TopicPartition::new(t.as_str(), *p), *o))
                .collect();
            if offsets.is_empty() {
                continue;
            }
            if let Err(e) = log.commit_offsets(group, &offsets) {
                tracing::error!(group, "committing a transaction's offsets: {e}");
                return Err(super::codes::for_transport(&e));
            }
        }
    }
    entry.state = match commit {
        true => TxnState::CompleteCommit,
        false => TxnState::CompleteAbort,
    };
    entry.partitions.clear();
    entry.offsets.clear();
    Ok(())
}
