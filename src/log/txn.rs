//! Transactions: a commit appends records to several partitions and commits group offsets
//! atomically, and nothing of an open transaction is visible to consumers.
//!
//! Records of an open transaction stay in the producer's memory. Commit, holding the locks of
//! every partition involved: (1) encode the batches at each partition's end offset; (2) write
//! them with the group offsets as one CRC-checked frame to `txn/redo.log` and fsync it — the
//! commit point; (3) append the batches and fsync the partitions; (4) write the group offsets;
//! (5) empty the redo log. After a crash, a complete frame is redone on open: each batch is
//! appended unless the partition already holds it. A torn frame means the commit never
//! happened and is dropped. Producers with the same transactional id fence older instances.

use super::config::now_ms;
use super::embedded::LogInner;
use super::producer::choose_partition;
use crate::log::batch::check_batch;
use crate::transport::{
    AppendOutcome, IoContext, ProducerRecord, Result, TopicPartition, TransactionalProducer,
    TransportError,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

const MAGIC: &[u8; 4] = b"BTX1";
const FRAME_HEAD: usize = 16;

/// The redo log file and the current epoch of each transactional id.
pub struct TxnLog {
    path: PathBuf,
    file: File,
    epochs: HashMap<String, u64>,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
struct FramePart {
    topic: String,
    partition: u32,
    batch_lens: Vec<usize>,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
struct FrameOffsets {
    group: String,
    offsets: Vec<(TopicPartition, i64)>,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
struct FrameHeader {
    transactional_id: String,
    parts: Vec<FramePart>,
    offsets: Vec<FrameOffsets>,
}

impl TxnLog {
    pub fn open(dir: &Path) -> Result<TxnLog> {
        std::fs::create_dir_all(dir).at(dir)?;
        let path = dir.join("redo.log");
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .at(&path)?;
        Ok(TxnLog {
            path,
            file,
            epochs: HashMap::new(),
        })
    }

    /// Registers a new producer instance for `id`, fencing older ones; returns its epoch.
    fn bump_epoch(&mut self, id: &str) -> u64 {
        let epoch = self.epochs.entry(id.to_string()).or_insert(0);
        *epoch += 1;
        *epoch
    }

    fn write_frame(&mut self, header: &FrameHeader, body: &[u8]) -> Result<()> {
        let head =
            serde_json::to_vec(header).map_err(|e| TransportError::Transaction(e.to_string()))?;
        let mut crc = crc32c::crc32c(&head);
        crc = crc32c::crc32c_append(crc, body);
        let mut frame = Vec::with_capacity(FRAME_HEAD + head.len() + body.len());
        frame.extend_from_slice(MAGIC);
        frame.extend_from_slice(&(head.len() as u32).to_be_bytes());
        frame.extend_from_slice(&(body.len() as u32).to_be_bytes());
        frame.extend_from_slice(&crc.to_be_bytes());
        frame.extend_from_slice(&head);
        frame.extend_from_slice(body);
        self.file.set_len(0).at(&self.path)?;
        self.file.rewind().at(&self.path)?;
        self.file.write_all(&frame).at(&self.path)?;
        self.file.sync_data().at(&self.path)
    }

    /// The complete frame in the redo log, if any (a torn or corrupt one counts as none).
    fn read_frame(&mut self) -> Result<Option<(FrameHeader, Vec<u8>)>> {
        let mut bytes = Vec::new();
        self.file.rewind().at(&self.path)?;
        self.file.read_to_end(&mut bytes).at(&self.path)?;
        if bytes.len() < FRAME_HEAD || &bytes[..4] != MAGIC {
            return Ok(None);
        }
        let be = |at: usize| {
            u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]) as usize
        };
        let (head_len, body_len, crc) = (be(4), be(8), be(12) as u32);
        if bytes.len() < FRAME_HEAD + head_len + body_len {
            return Ok(None);
        }
        let payload = &bytes[FRAME_HEAD..FRAME_HEAD + head_len + body_len];
        if crc32c::crc32c(payload) != crc {
            return Ok(None);
        }
        let header: FrameHeader =
            serde_json::from_slice(&payload[..head_len]).map_err(|e| TransportError::Corrupt {
                path: self.path.clone(),
                position: FRAME_HEAD as u64,
                reason: e.to_string(),
            })?;
        Ok(Some((header, payload[head_len..].to_vec())))
    }

    fn clear(&mut self) -> Result<()> {
        self.file.set_len(0).at(&self.path)?;
        self.file.sync_data().at(&self.path)
    }
}

/// Completes a transaction whose frame reached the redo log before a crash.
pub(super) fn recover(inner: &LogInner) -> Result<()> {
    let mut txn = inner.txn.lock().map_err(|_| poisoned())?;
    let Some((header, body)) = txn.read_frame()? else {
        return txn.clear();
    };
    tracing::info!(id = %header.transactional_id, "redoing a committed transaction after a crash");
    let mut at = 0;
    for part in &header.parts {
        let topic = inner.topic(&part.topic)?;
        let mut partition = topic.partition(part.partition)?;
        for len in &part.batch_lens {
            let batch = body
                .get(at..at + len)
                .ok_or_else(|| corrupt_frame(&txn.path, "batch beyond frame"))?
                .to_vec();
            at += len;
            let h = check_batch(&batch).map_err(|e| corrupt_frame(&txn.path, &e.to_string()))?;
            let end = partition.end_offset();
            if end == h.base_offset {
                partition.append_encoded(&[batch], now_ms())?;
            } else if end < h.next_offset() {
                return Err(corrupt_frame(
                    &txn.path,
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
    for group in &header.offsets {
        inner.groups()?.commit(&group.group, &group.offsets)?;
    }
    txn.clear()
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
        let mut body = Vec::new();
        for ((tp, records), guard) in self.records.iter().zip(&guards) {
            let batches = guard.encode(records, now)?;
            parts.push(FramePart {
                topic: tp.topic.clone(),
                partition: tp.partition,
                batch_lens: batches.iter().map(Vec::len).collect(),
            });
            batches.iter().for_each(|b| body.extend_from_slice(b));
            encoded.push(batches);
        }
        let header = FrameHeader {
            transactional_id: self.id.clone(),
            parts,
            offsets: self.offsets.clone(),
        };
        txn.write_frame(&header, &body)?;
        let mut outcomes = Vec::new();
        for ((tp, guard), batches) in self.records.keys().zip(guards.iter_mut()).zip(&encoded) {
            #[cfg(test)]
            tests::maybe_crash(&self.id, outcomes.len())?;
            let outcome = guard
                .append_encoded(batches, now)
                .map_err(applying_failed)?;
            guard.flush().map_err(applying_failed)?;
            outcomes.push((tp.clone(), outcome));
        }
        drop(guards);
        for group in &self.offsets {
            self.inner
                .groups()?
                .commit(&group.group, &group.offsets)
                .map_err(applying_failed)?;
        }
        txn.clear()?;
        Ok(outcomes)
    }
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
        let p = choose_partition(
            &self.inner,
            &mut self.round_robin,
            topic,
            partition,
            record.key.as_deref(),
        )?;
        self.records
            .entry(TopicPartition::new(topic, p))
            .or_default()
            .push(record);
        Ok(p)
    }

    fn send_offsets_to_transaction(
        &mut self,
        group: &str,
        offsets: &[(TopicPartition, i64)],
    ) -> Result<()> {
        self.require_open()?;
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
mod tests {
    use super::*;
    use crate::log::{EmbeddedLog, FlushPolicy, LogConfig};
    use crate::transport::{StartFrom, TopicConfig, Transport};
    use std::sync::Mutex;

    /// Transactional id whose commit "crashes" after applying this many partitions.
    static CRASH: Mutex<Option<(String, usize)>> = Mutex::new(None);

    pub(super) fn maybe_crash(id: &str, applied: usize) -> Result<()> {
        let crash = CRASH.lock().map(|c| c.clone()).unwrap_or(None);
        match crash {
            Some((crash_id, at)) if crash_id == id && at == applied => {
                Err(TransportError::Transaction("simulated crash".into()))
            }
            _ => Ok(()),
        }
    }

    fn open(dir: &Path) -> EmbeddedLog {
        EmbeddedLog::open(
            dir,
            LogConfig {
                flush: FlushPolicy::Never,
                ..LogConfig::default()
            },
        )
        .expect("open")
    }

    fn values(log: &EmbeddedLog, topic: &str) -> Vec<String> {
        let mut c = log.consumer(None).expect("consumer");
        c.assign(&[(TopicPartition::new(topic, 0), StartFrom::Earliest)])
            .expect("assign");
        let polled = c.poll(100, std::time::Duration::ZERO).expect("poll");
        polled
            .iter()
            .flat_map(|b| &b.records)
            .map(|r| String::from_utf8_lossy(r.value.as_deref().unwrap_or_default()).into_owned())
            .collect()
    }

    /// A commit that dies after its redo frame, having applied `applied` of its two partitions,
    /// is completed exactly once when the log is reopened (twice, to check idempotence).
    fn crash_and_recover(applied: usize) {
        let dir = tempfile::tempdir().expect("tempdir");
        let id = format!("crash-after-{applied}");
        let log = open(dir.path());
        for t in ["a", "b"] {
            log.create_topic(t, &TopicConfig::with_partitions(1))
                .expect("create");
        }
        let mut p = log.transactional_producer(&id).expect("producer");
        p.begin_transaction().expect("begin");
        p.send(
            "a",
            Some(0),
            ProducerRecord::new(None::<Vec<u8>>, Some("a1")),
        )
        .expect("send");
        p.send(
            "b",
            Some(0),
            ProducerRecord::new(None::<Vec<u8>>, Some("b1")),
        )
        .expect("send");
        p.send_offsets_to_transaction("g", &[(TopicPartition::new("in", 0), 7)])
            .expect("offsets");
        *CRASH.lock().expect("lock") = Some((id.clone(), applied));
        assert!(
            p.commit_transaction().is_err(),
            "the simulated crash must interrupt the commit"
        );
        *CRASH.lock().expect("lock") = None;
        assert!(
            log.committed_offsets("g", "in")
                .expect("offsets")
                .is_empty()
        );
        log.close().expect("close");
        for _ in 0..2 {
            let log = open(dir.path());
            assert_eq!(
                values(&log, "a"),
                vec!["a1"],
                "after crashing with {applied} applied"
            );
            assert_eq!(
                values(&log, "b"),
                vec!["b1"],
                "after crashing with {applied} applied"
            );
            assert_eq!(
                log.committed_offsets("g", "in").expect("offsets"),
                vec![(0, 7)]
            );
            log.close().expect("close");
        }
    }

    #[test]
    fn a_commit_interrupted_after_its_redo_frame_completes_on_reopen() {
        crash_and_recover(0);
        crash_and_recover(1);
    }

    #[test]
    fn a_torn_redo_frame_is_not_applied() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = open(dir.path());
        log.create_topic("a", &TopicConfig::with_partitions(1))
            .expect("create");
        let mut p = log.transactional_producer("torn").expect("producer");
        p.begin_transaction().expect("begin");
        p.send(
            "a",
            Some(0),
            ProducerRecord::new(None::<Vec<u8>>, Some("x")),
        )
        .expect("send");
        *CRASH.lock().expect("lock") = Some(("torn".into(), 0));
        assert!(p.commit_transaction().is_err());
        *CRASH.lock().expect("lock") = None;
        log.close().expect("close");
        let redo = dir.path().join("txn").join("redo.log");
        let len = std::fs::metadata(&redo).expect("redo").len();
        std::fs::OpenOptions::new()
            .write(true)
            .open(&redo)
            .expect("open")
            .set_len(len - 3)
            .expect("tear");
        let log = open(dir.path());
        assert!(
            values(&log, "a").is_empty(),
            "a torn frame was never committed"
        );
        assert_eq!(std::fs::metadata(&redo).expect("redo").len(), 0);
    }
}
