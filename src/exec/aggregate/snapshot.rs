//! Reading an aggregation's groups as of its last commit, for pull queries: a read-only handle
//! on the groups' store that decodes each committed group into a row of the aggregation's
//! intermediate layout (keys, aggregate results, window bounds, ROWTIME), exactly as the
//! aggregation emits it. Uncommitted writes (the store's cache) are never seen.

use super::Spec;
use super::{Aggregator, GroupState, stores::Groups};
use crate::common::{SqlType, Value, codec, values_to_array};
use crate::state::{StateError, Store, keys};
use arrow::array::ArrayRef;
use arrow::record_batch::RecordBatch;

/// The by-key layout's tag in window and session stores (see `state::window`).
const BY_KEY: u8 = 0x01;
const BY_TIME: u8 = 0x02;

/// A group's key values and window bounds.
type GroupKey = (Vec<Value>, Option<(i64, i64)>);

#[derive(Clone, Copy)]
enum Layout {
    Plain,
    /// Tumbling or hopping windows of this size.
    Windows(i64),
    Sessions,
}

/// A read-only view of an aggregation's committed groups (cheap to clone, `Send`).
#[derive(Clone)]
pub struct GroupsSnapshot {
    store: Store,
    layout: Layout,
    plan: Spec,
    types: Vec<SqlType>,
}

impl Aggregator {
    /// A view of this aggregation's groups that reads only committed state.
    pub fn snapshot(&self) -> GroupsSnapshot {
        let layout = match (&self.stores.groups, &self.plan.window) {
            (Groups::Windows(_), Some(w)) => Layout::Windows(w.size_ms),
            (Groups::Windows(_), None) => Layout::Windows(0),
            (Groups::Sessions(_), _) => Layout::Sessions,
            (Groups::Plain(_), _) => Layout::Plain,
        };
        GroupsSnapshot {
            store: self.stores.groups.store().clone(),
            layout,
            plan: self.plan.clone(),
            types: self.types.clone(),
        }
    }
}

impl GroupsSnapshot {
    /// Every committed group as one intermediate batch, in store order (none when empty).
    pub fn read(&self) -> Result<Option<RecordBatch>, StateError> {
        let entries = match self.layout {
            Layout::Plain => self.store.scan_committed(&[], None)?,
            _ => self.store.scan_committed(&[BY_KEY], Some(&[BY_TIME][..]))?,
        };
        self.batch(&entries)
    }

    /// The committed groups (every window of them, when windowed) of these group keys, each
    /// the values of the GROUP BY expressions in order.
    pub fn read_keys(&self, groups: &[Vec<Value>]) -> Result<Option<RecordBatch>, StateError> {
        let mut entries = Vec::new();
        for group in groups {
            let key = codec::encode_values(group);
            match self.layout {
                Layout::Plain => {
                    if let Some(value) = self.store.get_committed(&key)? {
                        entries.push((key, value));
                    }
                }
                _ => {
                    let mut prefix = vec![BY_KEY];
                    prefix.extend(keys::key_prefix(&key));
                    let end = keys::prefix_end(&prefix);
                    entries.extend(self.store.scan_committed(&prefix, end.as_deref())?);
                }
            }
        }
        self.batch(&entries)
    }

    /// Stored groups as one intermediate batch (none when there are none).
    fn batch(&self, entries: &[(Vec<u8>, Vec<u8>)]) -> Result<Option<RecordBatch>, StateError> {
        if entries.is_empty() {
            return Ok(None);
        }
        let mut columns: Vec<Vec<Value>> = vec![Vec::new(); self.types.len()];
        for (key, value) in entries {
            let (group, window) = self.decode_key(key)?;
            let state: GroupState = codec::decode(value).map_err(|e| self.malformed(e))?;
            for (column, value) in columns.iter_mut().zip(self.row(group, &state, window)) {
                column.push(value);
            }
        }
        let arrays: Vec<ArrayRef> = columns
            .iter()
            .zip(&self.types)
            .map(|(values, t)| values_to_array(values, t))
            .collect();
        RecordBatch::try_new(self.plan.schema.clone(), arrays)
            .map(Some)
            .map_err(|e| self.malformed(e))
    }

    /// A stored key's group key values and window bounds.
    fn decode_key(&self, key: &[u8]) -> Result<GroupKey, StateError> {
        let malformed = |e: keys::KeyError| self.malformed(e);
        let (group, window) = match self.layout {
            Layout::Plain => (key.to_vec(), None),
            Layout::Windows(size) => {
                let tail = key.get(1..).unwrap_or_default();
                let (group, start) = keys::decode_window_key(tail).map_err(malformed)?;
                (group, Some((start, start.saturating_add(size))))
            }
            Layout::Sessions => {
                let tail = key.get(1..).unwrap_or_default();
                let (group, start, end) = keys::decode_session_key(tail).map_err(malformed)?;
                (group, Some((start, end)))
            }
        };
        let values: Vec<Value> = codec::decode(&group).map_err(|e| self.malformed(e))?;
        Ok((values, window))
    }

    /// The group's intermediate row: keys, results, window bounds, timestamp.
    fn row(
        &self,
        key: Vec<Value>,
        state: &GroupState,
        window: Option<(i64, i64)>,
    ) -> impl Iterator<Item = Value> {
        let results: Vec<Value> = self
            .plan
            .calls
            .iter()
            .zip(&state.accumulators)
            .map(|(c, acc)| c.udaf.udaf.result(acc))
            .collect();
        let bounds = window
            .map(|(s, e)| [Value::Bigint(s), Value::Bigint(e)])
            .into_iter()
            .flatten();
        key.into_iter()
            .chain(results)
            .chain(bounds)
            .chain([Value::Bigint(state.timestamp)])
    }

    fn malformed(&self, e: impl std::fmt::Display) -> StateError {
        StateError::Malformed {
            path: self.store.path().to_path_buf(),
            what: "aggregation group",
            reason: e.to_string(),
        }
    }
}
