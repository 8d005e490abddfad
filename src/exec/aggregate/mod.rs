//! The aggregation operator: groups each input row by its grouping columns (computed by the
//! re-key before it) and its windows, updates each group's accumulators in the state store,
//! and emits the group's new aggregate for every input row (EMIT CHANGES with caching off, as
//! ksqlDB's tests run): `+` for a new group, a `U-`/`U+` pair (old and new aggregate) for an
//! updated one, `-` for a session merged away. Its output batches have the intermediate layout
//! of `plan::aggregate`. Over a table, a `-` input row (a deletion, or a row that stopped
//! passing WHERE) undoes the row's earlier contribution (`table.rs`).
//!
//! As in Kafka Streams, an update's timestamp is the largest of the row's and the group's
//! previous one. Rows with a NULL grouping value, and rows too late for a window (its end plus
//! the grace period is at or before the stream time), are reported and skipped.

mod final_emit;
mod op;
mod process;
mod session;
mod snapshot;
mod stores;
mod table;
#[cfg(test)]
mod tests;
mod windows;

use super::operator::OperatorError;
use super::query_state::{QueryState, QueryStateError, TaskSlot};
use crate::common::change::{ChangeBatch, Op};
use crate::common::codec;
use crate::common::{SqlType, Value, values_to_array};
use crate::format::WindowKind;
use crate::plan::aggregate::{AggregateCall, WindowPlan};
use crate::plan::logical::{AggregateNode, Emit};
use crate::state::StateError;
use arrow::array::ArrayRef;
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use stores::{Groups, Stores};
use windows::windows_for;

pub use snapshot::GroupsSnapshot;
pub use stores::GROUPS as GROUPS_STORE;

/// ksqlDB's default grace period for windows without GRACE PERIOD (Kafka Streams' 24 hours).
const DEFAULT_GRACE_MS: i64 = 24 * 60 * 60 * 1000;

pub struct Aggregator {
    plan: Spec,
    /// Result types, in output order: keys, aggregates, window bounds, ROWTIME.
    types: Vec<SqlType>,
    /// Input positions of the grouping columns.
    group_columns: Vec<usize>,
    stores: Stores,
    /// Aggregating a table: the positions of its key columns in the input batch (each source
    /// row's contribution is remembered by its key, to remove when the row changes).
    table_keys: Option<Vec<usize>>,
    /// The largest timestamp of the rows that reached the aggregation in its task (Kafka
    /// Streams' `observedStreamTime`), for window lateness, closing and expiry; a copy of the
    /// stream-time store.
    stream_time: i64,
    /// Windows and sessions older than this were removed already.
    expired_before: i64,
    /// A table row that stays in its group: the group's row before the row was retracted,
    /// which the update that follows emits as its old row.
    retracted_old: Option<GroupState>,
    /// EMIT FINAL: where its emissions stand.
    final_state: Option<final_emit::FinalState>,
}

/// What the aggregation computes.
#[derive(Clone)]
struct Spec {
    calls: Vec<AggregateCall>,
    window: Option<WindowPlan>,
    emit_final: bool,
    /// The intermediate layout of its output.
    schema: SchemaRef,
}

/// Why a row could not be aggregated: its data (reported to the processing log, the row
/// skipped), or the state store (the step fails and is retried from its last commit).
pub enum RowError {
    Data(String),
    State(StateError),
}

impl From<String> for RowError {
    fn from(message: String) -> Self {
        RowError::Data(message)
    }
}

impl From<StateError> for RowError {
    fn from(e: StateError) -> Self {
        RowError::State(e)
    }
}

/// A group's state: its accumulators and the timestamp of its last update.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct GroupState {
    accumulators: Vec<Value>,
    timestamp: i64,
}

/// The rows of one output batch, column by column, and their ops; and notes about the
/// current input row for the processing log.
struct Rows {
    columns: Vec<Vec<Value>>,
    ops: Vec<Op>,
    /// Late records and windows lost to retention, for the processing log.
    notes: Vec<String>,
}

impl Rows {
    /// Appends a row: `U-` for a group's old aggregate, `U+` for its new one (an insert when
    /// no `U-` row is right before it), `-` for a session merged away.
    fn push(&mut self, values: impl Iterator<Item = Value>, op: Op) {
        for (column, value) in self.columns.iter_mut().zip(values) {
            column.push(value);
        }
        let op = match op {
            Op::UpdateAfter if self.ops.last() != Some(&Op::UpdateBefore) => Op::Insert,
            op => op,
        };
        self.ops.push(op);
    }
}

impl Aggregator {
    /// Task `slot`'s aggregation of `node`, keeping its groups in stores of `state` (restore
    /// the state and call [`Aggregator::reload`] before processing).
    pub fn new(
        node: &AggregateNode,
        state: &mut QueryState,
        slot: TaskSlot,
    ) -> Result<Aggregator, QueryStateError> {
        let types = node
            .schema
            .fields()
            .iter()
            .map(|f| SqlType::from_arrow(f.data_type()).unwrap_or(SqlType::String))
            .collect();
        let reads_table = node.table_keys.is_some();
        Ok(Aggregator {
            plan: Spec {
                calls: node.calls.clone(),
                window: node.window.clone(),
                emit_final: node.emit == Emit::Final,
                schema: node.schema.clone(),
            },
            types,
            group_columns: node.group_columns.clone(),
            stores: Stores::open(state, slot, node.window.as_ref(), reads_table)?,
            table_keys: node.table_keys.clone(),
            stream_time: i64::MIN,
            expired_before: i64::MIN,
            final_state: None,
            retracted_old: None,
        })
    }

    /// Reads what the aggregation keeps in memory back from its stores: after a restore, and
    /// after a step's writes were discarded.
    pub fn reload(&mut self) -> Result<(), StateError> {
        self.stream_time = self.stores.stream_time()?;
        self.expired_before = i64::MIN;
        self.final_state = match self.plan.emit_final && self.plan.window.is_some() {
            true => Some(self.stores.final_state()?),
            false => None,
        };
        Ok(())
    }

    /// Applies one row to each of its windows (or its group), appending the results.
    fn update(&mut self, row: &RowUpdate<'_>, rows: &mut Rows) -> Result<(), RowError> {
        self.stream_time = self.stream_time.max(row.time);
        let stream_time = self.stream_time;
        let grace = self
            .plan
            .window
            .as_ref()
            .map_or(DEFAULT_GRACE_MS, |w| w.grace_ms.unwrap_or(DEFAULT_GRACE_MS));
        let windows = match &self.plan.window {
            Some(w) if w.kind == WindowKind::Session => {
                self.update_session(row, w.size_ms, grace, stream_time, rows)?;
                return self.emit_closed(stream_time, rows);
            }
            Some(w) => windows_for(w, row.time),
            None => vec![None],
        };
        // A window that closed is skipped; the row still counts in its other (hopping) windows.
        let mut late = Vec::new();
        for window in &windows {
            if let Some((_, end)) = *window
                && end.saturating_add(grace) <= stream_time
            {
                late.push(end.to_string());
                continue;
            }
            self.update_group(row, *window, rows)?;
        }
        if !late.is_empty() {
            let dropped = match late.len() == windows.len() {
                true => "was dropped",
                false => "was added to its other windows only",
            };
            rows.notes.push(format!(
                "Record is late for its window ending at {} (stream time {stream_time}, grace {grace} ms) and {dropped}",
                late.join(", ")
            ));
        }
        self.emit_closed(stream_time, rows)
    }

    fn update_group(
        &mut self,
        row: &RowUpdate<'_>,
        window: Option<(i64, i64)>,
        rows: &mut Rows,
    ) -> Result<(), RowError> {
        let state_key = codec::encode_values(row.key);
        let mut old = self.group(&state_key, window)?;
        if let Some((start, _)) = window
            && !self.final_visible(start)
        {
            old = None;
        }
        let state = match &old {
            Some(old) => self.add(old.clone(), row)?,
            None => self.add(self.initial(row.time), row)?,
        };
        match (&old, self.final_state.is_some()) {
            (_, true) => self.final_written(window.map_or(0, |w| w.0)),
            (Some(old), false) => {
                let shown = self.retracted_old.take();
                let shown = shown.as_ref().unwrap_or(old);
                self.emit(
                    row.key,
                    shown,
                    window,
                    shown.timestamp,
                    Op::UpdateBefore,
                    rows,
                );
                self.emit(
                    row.key,
                    &state,
                    window,
                    state.timestamp,
                    Op::UpdateAfter,
                    rows,
                );
            }
            (None, false) => {
                self.emit(
                    row.key,
                    &state,
                    window,
                    state.timestamp,
                    Op::UpdateAfter,
                    rows,
                );
            }
        }
        self.put_group(&state_key, window, &state)?;
        Ok(())
    }

    /// A group's state (of a time window when windowed).
    fn group(
        &self,
        key: &[u8],
        window: Option<(i64, i64)>,
    ) -> Result<Option<GroupState>, RowError> {
        let bytes = match (&self.stores.groups, window) {
            (Groups::Windows(w), Some((start, _))) => w.get(key, start)?,
            (groups, _) => groups.store().get(key)?,
        };
        decode_group(bytes.as_deref())
    }

    fn put_group(
        &mut self,
        key: &[u8],
        window: Option<(i64, i64)>,
        state: &GroupState,
    ) -> Result<(), StateError> {
        let bytes = codec::encode(state);
        match (&mut self.stores.groups, window) {
            (Groups::Windows(w), Some((start, _))) => w.put(key, start, &bytes),
            (Groups::Plain(s), _) => {
                s.put(key, &bytes);
                Ok(())
            }
            // Sessions are written by `update_session`.
            _ => Ok(()),
        }
    }

    fn initial(&self, time: i64) -> GroupState {
        GroupState {
            accumulators: self.plan.calls.iter().map(|c| c.udaf.udaf.init()).collect(),
            timestamp: time,
        }
    }

    /// Adds a row to a group's accumulators (all or nothing).
    fn add(&self, state: GroupState, row: &RowUpdate<'_>) -> Result<GroupState, String> {
        let mut accumulators = Vec::with_capacity(state.accumulators.len());
        for ((call, acc), args) in self.plan.calls.iter().zip(state.accumulators).zip(row.args) {
            accumulators.push(call.udaf.udaf.add(acc, args, row.offset)?);
        }
        Ok(GroupState {
            accumulators,
            timestamp: state.timestamp.max(row.time),
        })
    }

    fn merge(&self, a: GroupState, b: &GroupState) -> GroupState {
        let accumulators = self
            .plan
            .calls
            .iter()
            .zip(a.accumulators)
            .zip(&b.accumulators)
            .map(|((c, x), y)| c.udaf.udaf.merge(x, y.clone()))
            .collect();
        GroupState {
            accumulators,
            timestamp: a.timestamp.max(b.timestamp),
        }
    }

    /// Appends a group's current row: key, results, window bounds, timestamp.
    fn emit(
        &self,
        key: &[Value],
        state: &GroupState,
        window: Option<(i64, i64)>,
        timestamp: i64,
        op: Op,
        rows: &mut Rows,
    ) {
        let results = self
            .plan
            .calls
            .iter()
            .zip(&state.accumulators)
            .map(|(c, acc)| c.udaf.udaf.result(acc));
        let bounds = window
            .map(|(s, e)| [Value::Bigint(s), Value::Bigint(e)])
            .into_iter()
            .flatten();
        let values = key
            .iter()
            .cloned()
            .chain(results)
            .chain(bounds)
            .chain([Value::Bigint(timestamp)]);
        rows.push(values, op);
    }

    fn batch(&self, rows: Rows) -> Result<Option<ChangeBatch>, OperatorError> {
        if rows.ops.is_empty() {
            return Ok(None);
        }
        let arrays: Vec<ArrayRef> = rows
            .columns
            .iter()
            .zip(&self.types)
            .map(|(values, t)| values_to_array(values, t))
            .collect();
        let batch = RecordBatch::try_new(self.plan.schema.clone(), arrays)?;
        Ok(Some(ChangeBatch::new(batch, rows.ops)?))
    }
}

/// One input row as the aggregation sees it.
struct RowUpdate<'a> {
    key: &'a [Value],
    args: &'a [Vec<Value>],
    time: i64,
    offset: i64,
}

/// A stored group state (none when the bytes are absent).
fn decode_group(bytes: Option<&[u8]>) -> Result<Option<GroupState>, RowError> {
    match bytes {
        Some(bytes) => Ok(Some(
            codec::decode::<GroupState>(bytes).map_err(|e| e.to_string())?,
        )),
        None => Ok(None),
    }
}

/// A row's outcome: reported with `report` if the row's data was at fault (`Ok(None)`), an
/// error if the state store failed.
#[inline]
fn check<T>(
    result: Result<T, RowError>,
    report: impl FnOnce(String),
) -> Result<Option<T>, StateError> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(RowError::Data(message)) => {
            report(message);
            Ok(None)
        }
        Err(RowError::State(e)) => Err(e),
    }
}
