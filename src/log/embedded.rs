//! `EmbeddedLog`: the embedded log engine behind the `Transport` trait.
//!
//! Layout of the data directory:
//! ```text
//! LOCK                 held (flock) while a process has the log open
//! clean-shutdown       present only after a clean close (with each segment's size, see
//!                      `shutdown.rs`); absent means recover on open
//! topics/<name>/       topic.json and one directory per partition (segments + indexes)
//! groups/              committed consumer-group offsets
//! txn/                 the transaction redo log
//! ```

use super::config::{FlushPolicy, LogConfig, now_ms};
use super::consumer::EmbeddedConsumer;
use super::groups::GroupStore;
use super::partition::PartitionEnv;
use super::producer::EmbeddedProducer;
use super::redo::TxnLog;
use super::shutdown::{Checkpoint, LastShutdown};
use super::signal::AppendSignal;
use super::topic::Topic;
use super::txn::{self, EmbeddedTxnProducer};
use crate::transport::{
    Consumer, IoContext, OffsetSpec, PartitionInfo, Producer, Result, TopicConfig,
    TopicDescription, TopicPartition, TransactionalProducer, Transport, TransportError,
};
use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

/// A handle on an open embedded log; clones share it. Close it with [`EmbeddedLog::close`]
/// (dropping the last handle closes it too).
#[derive(Clone)]
pub struct EmbeddedLog {
    pub(super) inner: Arc<LogInner>,
}

pub(super) struct LogInner {
    pub root: PathBuf,
    pub config: LogConfig,
    pub env: PartitionEnv,
    topics: RwLock<BTreeMap<String, Arc<Topic>>>,
    groups: Mutex<GroupStore>,
    pub txn: Mutex<TxnLog>,
    pub signal: AppendSignal,
    closed: AtomicBool,
    lock: Mutex<Option<File>>,
    maintenance: Mutex<Option<std::thread::JoinHandle<()>>>,
}

/// What one maintenance pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct MaintenanceReport {
    pub segments_deleted: usize,
    pub segments_compacted: usize,
}

impl EmbeddedLog {
    /// Opens (creating if needed) the log in `root`, recovering after an unclean shutdown.
    pub fn open(root: impl AsRef<Path>, config: LogConfig) -> Result<EmbeddedLog> {
        let root = root.as_ref().to_path_buf();
        let topics_dir = root.join("topics");
        std::fs::create_dir_all(&topics_dir).at(&topics_dir)?;
        let lock = lock_data_dir(&root)?;
        let shutdown = LastShutdown::read(&root)?;
        if !shutdown.is_clean() {
            tracing::info!(dir = %root.display(), "no clean-shutdown marker: recovering segment tails");
        }
        shutdown.check(&topics_dir)?;
        let env = PartitionEnv {
            flush: config.flush,
            index_interval_bytes: config.index_interval_bytes,
        };
        let topics = open_topics(&topics_dir, env, &shutdown)?;
        let inner = Arc::new(LogInner {
            groups: Mutex::new(GroupStore::open(&root.join("groups"))?),
            txn: Mutex::new(TxnLog::open(&root.join("txn"))?),
            root,
            config,
            env,
            topics: RwLock::new(topics),
            signal: AppendSignal::default(),
            closed: AtomicBool::new(false),
            lock: Mutex::new(Some(lock)),
            maintenance: Mutex::new(None),
        });
        txn::recover(&inner)?;
        LastShutdown::remove(&inner.root)?;
        super::maintenance::start(&inner);
        Ok(EmbeddedLog { inner })
    }

    /// Flushes everything, marks the shutdown clean, and releases the data directory.
    pub fn close(&self) -> Result<()> {
        self.inner.close()
    }

    pub fn data_dir(&self) -> &Path {
        &self.inner.root
    }

    /// fsyncs every partition with unflushed appends.
    pub fn flush(&self) -> Result<()> {
        self.inner.check_open()?;
        self.inner.for_each_partition(|p| p.flush())
    }

    /// Runs retention and compaction now (the background thread does this periodically).
    pub fn run_maintenance(&self, now_ms: i64) -> Result<MaintenanceReport> {
        self.inner.check_open()?;
        self.inner.run_maintenance(now_ms)
    }

    /// Reads every record of a topic, checking every batch's CRC. Each partition is read up to
    /// its end or its first damaged batch (`TransportError::CorruptBatch`, in `damage`).
    pub fn verify_topic(&self, name: &str) -> Result<Verified> {
        let topic = self.inner.topic(name)?;
        let mut verified = Verified::default();
        topic.for_each_partition(|p| {
            let mut offset = p.start_offset();
            while offset < p.end_offset() {
                let fetched = match p.read(offset, 4 << 20) {
                    Ok(fetched) => fetched,
                    Err(e @ TransportError::CorruptBatch { .. }) => {
                        verified.damage.push(e);
                        break;
                    }
                    Err(e) => return Err(e),
                };
                offset = fetched.next_offset;
                verified.records += fetched.records.len() as u64;
            }
            Ok(())
        })?;
        Ok(verified)
    }
}

/// What [`EmbeddedLog::verify_topic`] found.
#[derive(Debug, Default)]
pub struct Verified {
    /// Records read, each in a batch whose checks passed.
    pub records: u64,
    /// Per damaged partition, the batch reading stopped at (`TransportError::CorruptBatch`).
    pub damage: Vec<TransportError>,
}

impl LogInner {
    pub fn check_open(&self) -> Result<()> {
        if self.closed.load(Ordering::Acquire) {
            return Err(TransportError::Failed {
                what: self.root.display().to_string(),
                reason: "the log is closed".into(),
            });
        }
        Ok(())
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    pub fn topic(&self, name: &str) -> Result<Arc<Topic>> {
        self.check_open()?;
        let topics = self.topics.read().map_err(|_| poisoned("topic map"))?;
        topics
            .get(name)
            .cloned()
            .ok_or_else(|| TransportError::UnknownTopic(name.to_string()))
    }

    pub fn groups(&self) -> Result<MutexGuard<'_, GroupStore>> {
        self.groups.lock().map_err(|_| poisoned("group offsets"))
    }

    /// Commits offsets outside a transaction, then writes the group's file.
    pub fn commit_group_offsets(
        &self,
        group: &str,
        offsets: &[(TopicPartition, i64)],
    ) -> Result<()> {
        self.change_groups(|groups| groups.commit(group, offsets))
    }

    /// Changes group offsets outside a transaction: checkpoints the redo log first, so that no
    /// older transaction frame can override (or bring back) the change on recovery.
    pub fn change_groups<T>(&self, change: impl FnOnce(&mut GroupStore) -> Result<T>) -> Result<T> {
        let mut txn = self.txn.lock().map_err(|_| poisoned("transaction log"))?;
        let mut groups = self.groups()?;
        txn.checkpoint(&mut groups)?;
        change(&mut groups)
    }

    fn all_topics(&self) -> Result<Vec<Arc<Topic>>> {
        Ok(self
            .topics
            .read()
            .map_err(|_| poisoned("topic map"))?
            .values()
            .cloned()
            .collect())
    }

    pub fn for_each_partition(
        &self,
        mut f: impl FnMut(&mut super::partition::Partition) -> Result<()>,
    ) -> Result<()> {
        for topic in self.all_topics()? {
            topic.for_each_partition(&mut f)?;
        }
        Ok(())
    }

    pub fn run_maintenance(&self, now_ms: i64) -> Result<MaintenanceReport> {
        let mut report = MaintenanceReport::default();
        self.for_each_partition(|p| {
            report.segments_deleted += p.enforce_retention(now_ms)?;
            let stats = p.compact(now_ms)?;
            report.segments_compacted += stats.segments_rewritten + stats.segments_removed;
            Ok(())
        })?;
        Ok(report)
    }

    pub fn flush_if_interval(&self) -> Result<()> {
        if matches!(self.config.flush, FlushPolicy::Interval(_)) {
            self.for_each_partition(|p| if p.is_dirty() { p.flush() } else { Ok(()) })?;
        }
        Ok(())
    }

    pub fn set_maintenance_thread(&self, handle: std::thread::JoinHandle<()>) {
        if let Ok(mut slot) = self.maintenance.lock() {
            *slot = Some(handle);
        }
    }

    fn close(&self) -> Result<()> {
        if self.closed.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        self.signal.notify();
        let handle = self.maintenance.lock().ok().and_then(|mut h| h.take());
        if let Some(handle) = handle {
            handle.thread().unpark();
            if handle.thread().id() != std::thread::current().id() {
                let _ = handle.join();
            }
        }
        let mut checkpoint = Checkpoint::new();
        self.for_each_partition(|p| {
            p.close()?;
            checkpoint.record(p);
            Ok(())
        })?;
        {
            let mut txn = self.txn.lock().map_err(|_| poisoned("transaction log"))?;
            // A frame that could not be applied stays for the next open to redo.
            if txn.check_usable().is_ok() {
                txn.checkpoint(&mut *self.groups()?)?;
            }
        }
        checkpoint.write(&self.root)?;
        if let Ok(mut lock) = self.lock.lock() {
            lock.take();
        }
        Ok(())
    }
}

impl Drop for LogInner {
    fn drop(&mut self) {
        if let Err(e) = self.close() {
            tracing::error!("closing the log at {} failed: {e}", self.root.display());
        }
    }
}

fn poisoned(what: &str) -> TransportError {
    TransportError::Failed {
        what: what.to_string(),
        reason: "a thread panicked while holding its lock".into(),
    }
}

fn lock_data_dir(root: &Path) -> Result<File> {
    let path = root.join("LOCK");
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .at(&path)?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(TransportError::Locked {
            path: root.to_path_buf(),
        }),
        Err(std::fs::TryLockError::Error(e)) => Err(TransportError::io(path, e)),
    }
}

fn open_topics(
    dir: &Path,
    env: PartitionEnv,
    shutdown: &LastShutdown,
) -> Result<BTreeMap<String, Arc<Topic>>> {
    let mut topics = BTreeMap::new();
    let now = now_ms();
    for entry in std::fs::read_dir(dir).at(dir)? {
        let path = entry.at(dir)?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        if name.ends_with(".creating") || name.ends_with(".deleted") {
            std::fs::remove_dir_all(&path).at(&path)?;
            continue;
        }
        let topic = Topic::open(&path, env, shutdown, now)?;
        topics.insert(name, Arc::new(topic));
    }
    Ok(topics)
}

impl Transport for EmbeddedLog {
    fn create_topic(&self, name: &str, config: &TopicConfig) -> Result<()> {
        self.inner.check_open()?;
        let mut topics = self
            .inner
            .topics
            .write()
            .map_err(|_| poisoned("topic map"))?;
        if topics.contains_key(name) {
            return Err(TransportError::TopicExists(name.to_string()));
        }
        let topic = Topic::create(
            &self.inner.root.join("topics"),
            name,
            config,
            self.inner.env,
            now_ms(),
        )?;
        topics.insert(name.to_string(), Arc::new(topic));
        Ok(())
    }

    fn delete_topic(&self, name: &str) -> Result<()> {
        self.inner.check_open()?;
        // No redo frame may name the topic once it is gone (its offsets are forgotten below).
        let mut txn = self
            .inner
            .txn
            .lock()
            .map_err(|_| poisoned("transaction log"))?;
        txn.checkpoint(&mut *self.inner.groups()?)?;
        let mut topics = self
            .inner
            .topics
            .write()
            .map_err(|_| poisoned("topic map"))?;
        let topic = topics
            .remove(name)
            .ok_or_else(|| TransportError::UnknownTopic(name.to_string()))?;
        topic.delete(&self.inner.root.join("topics"))?;
        let forgotten = self.inner.groups()?.forget_topic(name);
        drop(txn);
        forgotten
    }

    fn list_topics(&self) -> Result<Vec<String>> {
        self.inner.check_open()?;
        Ok(self
            .inner
            .topics
            .read()
            .map_err(|_| poisoned("topic map"))?
            .keys()
            .cloned()
            .collect())
    }

    fn describe_topic(&self, name: &str) -> Result<TopicDescription> {
        let topic = self.inner.topic(name)?;
        let mut partitions = Vec::new();
        topic.for_each_partition(|p| {
            partitions.push(PartitionInfo {
                partition: p.id,
                start_offset: p.start_offset(),
                end_offset: p.end_offset(),
                size_bytes: Some(p.size_bytes()),
                segments: Some(p.segment_count()),
            });
            Ok(())
        })?;
        Ok(TopicDescription {
            name: name.to_string(),
            config: topic.config.clone(),
            partitions,
        })
    }

    fn partition_count(&self, topic: &str) -> Result<u32> {
        Ok(self.inner.topic(topic)?.partition_count())
    }

    fn list_offset(&self, tp: &TopicPartition, spec: OffsetSpec) -> Result<i64> {
        let topic = self.inner.topic(&tp.topic)?;
        let partition = topic.partition(tp.partition)?;
        match spec {
            OffsetSpec::Earliest => Ok(partition.start_offset()),
            OffsetSpec::Latest => Ok(partition.end_offset()),
            OffsetSpec::Timestamp(ts) => partition.offset_for_timestamp(ts),
        }
    }

    fn commit_offsets(&self, group: &str, offsets: &[(TopicPartition, i64)]) -> Result<()> {
        for (tp, _) in offsets {
            drop(self.inner.topic(&tp.topic)?.partition(tp.partition)?);
        }
        self.inner.commit_group_offsets(group, offsets)
    }

    fn committed_offsets(&self, group: &str, topic: &str) -> Result<Vec<(u32, i64)>> {
        self.inner.check_open()?;
        Ok(self.inner.groups()?.committed(group, topic))
    }

    fn list_groups(&self) -> Result<Vec<String>> {
        self.inner.check_open()?;
        Ok(self.inner.groups()?.list())
    }

    fn group_members(&self, _group: &str) -> Result<Vec<String>> {
        self.inner.check_open()?;
        Ok(Vec::new())
    }

    fn delete_group(&self, group: &str) -> Result<()> {
        self.inner.check_open()?;
        self.inner.change_groups(|groups| groups.delete(group))
    }

    fn producer(&self) -> Result<Box<dyn Producer>> {
        self.inner.check_open()?;
        Ok(Box::new(EmbeddedProducer::new(self.inner.clone())))
    }

    fn transactional_producer(
        &self,
        transactional_id: &str,
    ) -> Result<Box<dyn TransactionalProducer>> {
        self.inner.check_open()?;
        Ok(Box::new(EmbeddedTxnProducer::new(
            self.inner.clone(),
            transactional_id,
        )?))
    }

    fn consumer(&self, group: Option<&str>) -> Result<Box<dyn Consumer>> {
        self.inner.check_open()?;
        Ok(Box::new(EmbeddedConsumer::new(self.inner.clone(), group)))
    }
}
