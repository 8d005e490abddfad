//! A stateful query's state: its RocksDB directory (`crate::state`), a changelog topic per
//! store, and the protocol of docs/state.md that keeps the two consistent with the query's
//! output and input offsets:
//!
//! 1. a step's state writes stay in the stores' caches; before the step's transaction commits,
//!    [`QueryState::send_changes`] adds each store's pending writes to its changelog topic in
//!    that transaction (one record per changed key: the cache already merged repeated writes);
//! 2. once the transaction has committed, [`QueryState::committed`] flushes the caches to
//!    RocksDB with a checkpoint of the changelog end offsets; if it aborted, [`QueryState::discard`]
//!    drops them;
//! 3. on start, [`QueryState::restore`] replays each changelog from the checkpoint (from the
//!    start when the directory is new, was deleted, or was unreadable) into the stores.

use crate::state::{ChangelogLayout, Checkpoint, StateDir, StateError, Store};
use crate::transport::{
    AppendOutcome, CleanupPolicy, OffsetSpec, ProducerRecord, StartFrom, TopicConfig,
    TopicPartition, TransactionalProducer, Transport, TransportError,
};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Why a query's state could not be opened, restored or written.
#[derive(Debug, thiserror::Error)]
pub enum QueryStateError {
    #[error(transparent)]
    State(#[from] StateError),
    #[error("restoring state from changelog topic '{topic}': {source}")]
    Restore {
        topic: String,
        source: TransportError,
    },
    #[error("creating a temporary state directory: {0}")]
    Temporary(std::io::Error),
}

/// Where a query keeps its state.
#[derive(Clone, Debug)]
pub enum StateLocation {
    /// A directory that outlives the process (`<data dir>/state/<query id>`), whose stores are
    /// restored from their changelogs named `<prefix>-<store>-changelog`.
    Durable {
        path: PathBuf,
        changelog_prefix: String,
    },
    /// A temporary directory, removed with the query, whose stores still write changelogs
    /// named `<prefix>-<store>-changelog` (a persistent query that a restart rebuilds).
    Temporary { changelog_prefix: Option<String> },
}

/// One store and the changelog topic that backs it (none for transient queries).
struct Backed {
    store: Store,
    changelog: Option<String>,
    layout: ChangelogLayout,
}

pub struct QueryState {
    dir: StateDir,
    stores: Vec<Backed>,
    changelog_prefix: Option<String>,
    checkpoint: Checkpoint,
    /// Keeps a temporary directory alive as long as the state; removed on drop.
    _temporary: Option<tempfile::TempDir>,
}

impl QueryState {
    /// Opens the state at `location`. A durable directory that is corrupt or from another
    /// format is deleted (its changelogs rebuild it) and the reason logged.
    pub fn open(location: &StateLocation) -> Result<QueryState, QueryStateError> {
        match location {
            StateLocation::Durable {
                path,
                changelog_prefix,
            } => Ok(QueryState::new(
                open_or_rebuild(path)?,
                Some(changelog_prefix.clone()),
                None,
            )),
            StateLocation::Temporary { changelog_prefix } => {
                let temp = tempfile::Builder::new()
                    .prefix("brook-state-")
                    .tempdir()
                    .map_err(QueryStateError::Temporary)?;
                let dir = StateDir::open(temp.path())?;
                Ok(QueryState::new(dir, changelog_prefix.clone(), Some(temp)))
            }
        }
    }

    fn new(dir: StateDir, prefix: Option<String>, temp: Option<tempfile::TempDir>) -> QueryState {
        QueryState {
            dir,
            stores: Vec::new(),
            changelog_prefix: prefix,
            checkpoint: Checkpoint::new(),
            _temporary: temp,
        }
    }

    /// The store `name`, backed by the changelog `<prefix>-<name>-changelog` if the state has
    /// changelogs. Call for every store before [`QueryState::restore`].
    pub fn store(&mut self, name: &str) -> Result<Store, QueryStateError> {
        self.store_with_layout(name, ChangelogLayout::PLAIN)
    }

    /// [`QueryState::store`] for a store whose changelog holds only some of its entries
    /// (a window or session store's by-key entries; a restore derives the rest).
    pub fn store_with_layout(
        &mut self,
        name: &str,
        layout: ChangelogLayout,
    ) -> Result<Store, QueryStateError> {
        let store = self.dir.store(name)?;
        let changelog = self
            .changelog_prefix
            .as_ref()
            .map(|prefix| changelog_topic(prefix, name));
        self.stores.push(Backed {
            store: store.clone(),
            changelog,
            layout,
        });
        Ok(store)
    }

    /// Creates missing changelog topics and replays each from the checkpointed offset (from
    /// its start without one) into its store, then flushes with the new checkpoint.
    pub fn restore(&mut self, transport: &dyn Transport) -> Result<(), QueryStateError> {
        let checkpoint = self.dir.checkpoint()?.unwrap_or_default();
        let mut restored = Checkpoint::new();
        for backed in &mut self.stores {
            let Some(topic) = &backed.changelog else {
                continue;
            };
            let wrap = |source| QueryStateError::Restore {
                topic: topic.clone(),
                source,
            };
            ensure_changelog(transport, topic).map_err(wrap)?;
            let from = checkpoint.get(topic, 0);
            let end = replay(transport, topic, from, &mut backed.store, backed.layout);
            let end = end.map_err(wrap)?;
            restored.set(topic.clone(), 0, end);
        }
        self.dir.flush(&restored)?;
        self.checkpoint = restored;
        Ok(())
    }

    /// Sends every store's pending writes to its changelog, inside the producer's open
    /// transaction.
    pub fn send_changes(
        &self,
        producer: &mut dyn TransactionalProducer,
    ) -> Result<(), TransportError> {
        for backed in &self.stores {
            let Some(topic) = &backed.changelog else {
                continue;
            };
            for (key, value) in backed.store.pending() {
                if (backed.layout.logged)(&key) {
                    producer.send(topic, Some(0), ProducerRecord::new(Some(key), value))?;
                }
            }
        }
        Ok(())
    }

    /// The step's transaction committed (`outcomes` are its appends): the stores' pending
    /// writes become durable with a checkpoint just past the changelog records it appended.
    pub fn committed(
        &mut self,
        outcomes: &[(TopicPartition, AppendOutcome)],
    ) -> Result<(), StateError> {
        for (tp, outcome) in outcomes {
            let is_changelog = self
                .stores
                .iter()
                .any(|b| b.changelog.as_deref() == Some(tp.topic.as_str()));
            if is_changelog {
                self.checkpoint
                    .set(tp.topic.clone(), tp.partition, outcome.last_offset + 1);
            }
        }
        self.dir.flush(&self.checkpoint)
    }

    /// The step's transaction did not commit: its state writes are dropped.
    pub fn discard(&mut self) {
        self.dir.discard();
    }

    /// How many uncommitted writes the stores hold.
    pub fn dirty_len(&self) -> usize {
        self.dir.dirty_len()
    }

    /// The changelog topics of this state.
    pub fn changelog_topics(&self) -> Vec<String> {
        self.stores
            .iter()
            .filter_map(|b| b.changelog.clone())
            .collect()
    }
}

/// The changelog topic of store `store` of the query whose changelogs start with `prefix`.
pub fn changelog_topic(prefix: &str, store: &str) -> String {
    format!("{prefix}-{store}-changelog")
}

/// Opens a durable state directory; one that cannot be used as it is gets deleted and
/// created anew (to be rebuilt from the changelogs).
fn open_or_rebuild(path: &Path) -> Result<StateDir, StateError> {
    match StateDir::open(path) {
        Err(e) if e.is_rebuildable() => {
            tracing::warn!("{e}; rebuilding it from the changelogs");
            StateDir::delete(path)?;
            StateDir::open(path)
        }
        other => other,
    }
}

/// Creates a changelog topic (one partition, compacted) unless it exists.
fn ensure_changelog(transport: &dyn Transport, topic: &str) -> Result<(), TransportError> {
    if transport.list_topics()?.iter().any(|t| t == topic) {
        return Ok(());
    }
    let mut config = TopicConfig::with_partitions(1);
    config.cleanup_policy = CleanupPolicy::Compact;
    match transport.create_topic(topic, &config) {
        Err(TransportError::TopicExists(_)) => Ok(()),
        other => other,
    }
}

/// Replays `topic` from `from` (its start when `None`, or when `from` lies outside the
/// topic, which means the directory belongs to an older changelog) to its end into `store`,
/// with the index entries `layout` derives; returns the end offset.
fn replay(
    transport: &dyn Transport,
    topic: &str,
    from: Option<i64>,
    store: &mut Store,
    layout: ChangelogLayout,
) -> Result<i64, TransportError> {
    let tp = TopicPartition::new(topic, 0);
    let start = transport.list_offset(&tp, OffsetSpec::Earliest)?;
    let end = transport.list_offset(&tp, OffsetSpec::Latest)?;
    let from = match from {
        Some(offset) if (start..=end).contains(&offset) => StartFrom::Offset(offset),
        Some(offset) => {
            tracing::warn!(
                "state checkpoint offset {offset} of {topic} is outside [{start}, {end}]; replaying it all"
            );
            clear(store)?;
            StartFrom::Earliest
        }
        None => StartFrom::Earliest,
    };
    let mut consumer = transport.consumer(None)?;
    consumer.assign(&[(tp.clone(), from)])?;
    let mut idle = 0;
    while consumer.position(&tp).is_some_and(|p| p < end) && idle < 50 {
        let polled = consumer.poll(10_000, Duration::from_millis(100))?;
        idle = if polled.is_empty() { idle + 1 } else { 0 };
        for record in polled.iter().flat_map(|p| &p.records) {
            let key = record.key.as_deref().unwrap_or_default();
            let index = (layout.index_of)(key);
            match &record.value {
                Some(value) => {
                    store.put(key, value);
                    if let Some(index) = index {
                        store.put(&index, &[]);
                    }
                }
                None => {
                    store.delete(key);
                    if let Some(index) = index {
                        store.delete(&index);
                    }
                }
            }
        }
    }
    Ok(end)
}

/// Deletes every entry of `store` (in its cache; the next flush makes it durable).
fn clear(store: &mut Store) -> Result<(), TransportError> {
    let entries = store
        .scan(&[], None)
        .map_err(|e| TransportError::InvalidArgument(e.to_string()))?;
    for (key, _) in entries {
        store.delete(&key);
    }
    Ok(())
}
