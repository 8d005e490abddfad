//! Where an aggregation keeps its state, in the query's RocksDB stores: its groups (a
//! key-value store, or a window or session store when windowed), a table source's row
//! contributions, and the task's stream time (with EMIT FINAL's state). Each store has a
//! changelog (see `exec::query_state`).

use super::final_emit::FinalState;
use crate::common::codec;
use crate::exec::operator::StoreDecl;
use crate::exec::query_state::{QueryState, QueryStateError, TaskSlot};
use crate::format::WindowKind;
use crate::plan::aggregate::WindowPlan;
use crate::state::{ChangelogLayout, Result, SessionStore, Store, WindowStore};

/// Store names (they name the changelog topics too).
pub const GROUPS: &str = "Aggregate-Materialize";
pub const CONTRIBUTIONS: &str = "Aggregate-Contributions";
pub const STREAM_TIME: &str = "Aggregate-StreamTime";
/// The key of EMIT FINAL's state in the stream-time store (whose other keys are 4 bytes).
const FINAL_KEY: &[u8] = b"emit-final";

/// The stores [`Stores::open`] opens for an aggregation with windows of `window` (none:
/// unwindowed), as its operator declares them: the groups, a table source's contributions,
/// the stream times.
pub fn declared(window: Option<WindowKind>, reads_table: bool) -> Vec<StoreDecl> {
    let layout = match window {
        None => "key-value",
        Some(WindowKind::Session) => "session",
        Some(_) => "window",
    };
    let mut stores = vec![StoreDecl::new(GROUPS, layout)];
    if reads_table {
        stores.push(StoreDecl::new(CONTRIBUTIONS, "key-value"));
    }
    stores.push(StoreDecl::new(STREAM_TIME, "key-value"));
    stores
}

/// The groups' store, in the layout of the aggregation's window type.
pub enum Groups {
    Plain(Store),
    Windows(WindowStore),
    Sessions(SessionStore),
}

impl Groups {
    /// The store under the layout.
    pub fn store(&self) -> &Store {
        match self {
            Groups::Plain(s) => s,
            Groups::Windows(w) => w.store(),
            Groups::Sessions(s) => s.store(),
        }
    }
}

pub struct Stores {
    pub groups: Groups,
    /// Aggregating a table: each source row's current contribution, by the row's key.
    pub contributions: Option<Store>,
    /// The task's stream time (the largest timestamp that reached the aggregation), and EMIT
    /// FINAL's position.
    stream_time: Store,
}

impl Stores {
    /// The aggregation's stores in `state` (created on first use).
    pub fn open(
        state: &mut QueryState,
        slot: TaskSlot,
        window: Option<&WindowPlan>,
        reads_table: bool,
    ) -> std::result::Result<Stores, QueryStateError> {
        let plain = ChangelogLayout::PLAIN;
        let groups = match window.map(|w| w.kind) {
            None => Groups::Plain(state.task_store(GROUPS, slot, plain)?),
            Some(WindowKind::Session) => {
                let store = state.task_store(GROUPS, slot, SessionStore::CHANGELOG)?;
                Groups::Sessions(SessionStore::new(store))
            }
            Some(_) => {
                let store = state.task_store(GROUPS, slot, WindowStore::CHANGELOG)?;
                Groups::Windows(WindowStore::new(store))
            }
        };
        let contributions = match reads_table {
            true => Some(state.task_store(CONTRIBUTIONS, slot, plain)?),
            false => None,
        };
        let stream_time = state.task_store(STREAM_TIME, slot, plain)?;
        Ok(Stores {
            groups,
            contributions,
            stream_time,
        })
    }

    /// The task's stream time (`i64::MIN` before any row): the largest stored. (State written
    /// before tasks existed holds one per source partition, under the partition's 4-byte
    /// number; the task's is stored under partition 0's.)
    pub fn stream_time(&self) -> Result<i64> {
        let mut latest = i64::MIN;
        for (key, value) in self.stream_time.scan(&[], None)? {
            if key.as_slice() == FINAL_KEY {
                continue;
            }
            let time: [u8; 8] = value.as_slice().try_into().map_err(|_| {
                self.malformed("stream time", format!("{} bytes, not 8", value.len()))
            })?;
            latest = latest.max(i64::from_be_bytes(time));
        }
        Ok(latest)
    }

    /// Where EMIT FINAL stands (its default before the first row).
    pub fn final_state(&self) -> Result<FinalState> {
        match self.stream_time.get(FINAL_KEY)? {
            Some(bytes) => codec::decode(&bytes)
                .map_err(|e| self.malformed("EMIT FINAL position", e.to_string())),
            None => Ok(FinalState::default()),
        }
    }

    fn malformed(&self, what: &'static str, reason: String) -> crate::state::StateError {
        crate::state::StateError::Malformed {
            path: self.stream_time.path().to_path_buf(),
            what,
            reason,
        }
    }

    pub fn set_final_state(&mut self, state: &FinalState) {
        self.stream_time.put(FINAL_KEY, &codec::encode(state));
    }

    /// Records the task's stream time.
    pub fn set_stream_time(&mut self, time: i64) {
        self.stream_time
            .put(&0u32.to_be_bytes(), &time.to_be_bytes());
    }
}
