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
//!    start when the directory is new, was deleted, or was unreadable) into the stores, up to
//!    the end offset measured before it starts; a restore that cannot reach it fails.
//!
//! A query runs as tasks (`exec::driver`), each with its own stores: task *p* of *n* keeps
//! store `<name>` as `<name>@<p>` (task 0 as `<name>`, which is also the layout of state
//! written before tasks existed) and writes partition *p* of the store's changelog, which has
//! *n* partitions.

use crate::state::{ChangelogLayout, Checkpoint, StateDir, StateError, Store};
use crate::transport::{
    AppendOutcome, ProducerRecord, TopicPartition, TransactionalProducer, Transport, TransportError,
};
use std::path::{Path, PathBuf};

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
    #[error(
        "restoring state from {partition}: stopped at offset {position}, before its end {end} (nothing could be read for {seconds} s)"
    )]
    RestoreStalled {
        partition: TopicPartition,
        position: i64,
        end: i64,
        seconds: u64,
    },
    #[error(
        "changelog topic '{topic}' has {count} partitions, fewer than the query's {tasks} tasks"
    )]
    TooFewChangelogPartitions {
        topic: String,
        count: u32,
        tasks: u32,
    },
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
    /// The task's changelog partition, and how many the changelog has.
    slot: TaskSlot,
    layout: ChangelogLayout,
    /// Replayed from its changelog since it was opened.
    restored: bool,
    /// The task (stage, partition) that owns it, when tasks come and go (`own_since`).
    owner: Option<(usize, u32)>,
}

/// Which task of how many a store belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TaskSlot {
    pub partition: u32,
    pub partitions: u32,
}

impl TaskSlot {
    /// The only task of a query (or stage) that runs as one.
    pub const SINGLE: TaskSlot = TaskSlot {
        partition: 0,
        partitions: 1,
    };

    /// The name of store `name` of this task in the state directory.
    pub fn store_name(&self, name: &str) -> String {
        match self.partition {
            0 => name.to_string(),
            p => format!("{name}@{p}"),
        }
    }
}

impl StateLocation {
    /// The prefix of the state's changelog topics, if it has changelogs.
    pub fn changelog_prefix(&self) -> Option<&str> {
        match self {
            StateLocation::Durable {
                changelog_prefix, ..
            } => Some(changelog_prefix),
            StateLocation::Temporary { changelog_prefix } => changelog_prefix.as_deref(),
        }
    }
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

    /// The store `name` of the query's only task, backed by the changelog
    /// `<prefix>-<name>-changelog` if the state has changelogs. Call for every store before
    /// [`QueryState::restore`].
    pub fn store(&mut self, name: &str) -> Result<Store, QueryStateError> {
        self.task_store(name, TaskSlot::SINGLE, ChangelogLayout::PLAIN)
    }

    /// Task `slot`'s store `name`, whose changelog holds the entries `layout` says (a window
    /// or session store logs only its by-key entries; a restore derives the rest).
    pub fn task_store(
        &mut self,
        name: &str,
        slot: TaskSlot,
        layout: ChangelogLayout,
    ) -> Result<Store, QueryStateError> {
        let store = self.dir.store(&slot.store_name(name))?;
        let changelog = self
            .changelog_prefix
            .as_ref()
            .map(|prefix| changelog_topic(prefix, name));
        self.stores.push(Backed {
            store: store.clone(),
            changelog,
            slot,
            layout,
            restored: false,
            owner: None,
        });
        Ok(store)
    }

    /// How many stores are open (mark where a task's begin, for [`QueryState::own_since`]).
    pub fn store_count(&self) -> usize {
        self.stores.len()
    }

    /// The stores opened since `mark` belong to task `owner` (stage, partition), which
    /// [`QueryState::release_task`] closes.
    pub fn own_since(&mut self, mark: usize, owner: (usize, u32)) {
        for backed in self.stores.iter_mut().skip(mark) {
            backed.owner = Some(owner);
        }
    }

    /// Closes the stores of task `owner` (its partition moved to another server): they no
    /// longer log changes here. What they hold stays on disk with its checkpoint, so the task
    /// coming back replays only what was written since.
    pub fn release_task(&mut self, owner: (usize, u32)) {
        self.stores.retain(|b| b.owner != Some(owner));
    }

    /// Creates missing changelog topics and replays each store not restored yet from the
    /// checkpointed offset (from its start without one), then flushes with the new checkpoint.
    pub fn restore(&mut self, transport: &dyn Transport) -> Result<(), QueryStateError> {
        let checkpoint = self.dir.checkpoint()?.unwrap_or_default();
        // What the directory holds of every task (of those not running here too).
        let mut restored = checkpoint.clone();
        for backed in self.stores.iter_mut().filter(|b| !b.restored) {
            let Some(topic) = &backed.changelog else {
                backed.restored = true;
                continue;
            };
            super::restore::ensure_changelog(transport, topic, backed.slot.partitions)?;
            let tp = TopicPartition::new(topic, backed.slot.partition);
            let from = checkpoint.get(topic, tp.partition);
            let end =
                super::restore::replay(transport, &tp, from, &mut backed.store, backed.layout)?;
            restored.set(topic.clone(), tp.partition, end);
            backed.restored = true;
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
            let partition = Some(backed.slot.partition);
            for (key, value) in backed.store.pending() {
                if (backed.layout.logged)(&key) {
                    producer.send(topic, partition, ProducerRecord::new(Some(key), value))?;
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

    /// The changelog topics of this state (each once).
    pub fn changelog_topics(&self) -> Vec<String> {
        let mut topics: Vec<String> = Vec::new();
        for topic in self.stores.iter().filter_map(|b| b.changelog.clone()) {
            if !topics.contains(&topic) {
                topics.push(topic);
            }
        }
        topics
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
