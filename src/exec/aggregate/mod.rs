//! The aggregation operator: filters a source batch (WHERE), groups each row by its GROUP BY
//! values (and its windows), updates each group's accumulators in the state store, and emits
//! the group's new aggregate for every input row (EMIT CHANGES with caching off, as ksqlDB's
//! tests run). Its output batches have the intermediate layout of `plan::aggregate`.
//!
//! As in Kafka Streams, an update's timestamp is the largest of the row's and the group's
//! previous one. Rows with a NULL grouping value, and rows too late for a window (its end plus
//! the grace period is at or before the stream time), are reported and skipped.

mod session;
mod table;
mod windows;

use super::pipeline::{evaluate, int64_column};
use super::processing_log::{ProcessingError, ProcessingLog};
use super::state_store::{MemoryStore, StateStore};
use crate::common::codec;
use crate::common::{SqlType, Value, values_to_array};
use crate::format::WindowKind;
use crate::plan::aggregate::AggregatePlan;
use crate::plan::schema::{ROWOFFSET, ROWTIME};
use crate::plan::{Compiled, QueryPlan};
use arrow::array::{Array, ArrayRef, BooleanArray};
use arrow::compute::filter_record_batch;
use arrow::record_batch::RecordBatch;
use windows::windows_for;

/// ksqlDB's default grace period for windows without GRACE PERIOD (Kafka Streams' 24 hours).
const DEFAULT_GRACE_MS: i64 = 24 * 60 * 60 * 1000;

pub struct Aggregator {
    filter: Option<Compiled>,
    plan: AggregatePlan,
    /// Result types, in output order: keys, aggregates, window bounds, ROWTIME.
    types: Vec<SqlType>,
    rowtime_index: usize,
    offset_index: usize,
    store: Box<dyn StateStore>,
    /// Aggregating a table: the positions of its key columns in the input batch, and each
    /// source row's current contribution (by its key), to remove when the row changes.
    table: Option<(Vec<usize>, Box<dyn StateStore>)>,
    /// The largest timestamp seen (Kafka Streams' stream time), for window lateness.
    stream_time: i64,
    query_id: String,
}

/// A group's state: its accumulators and the timestamp of its last update.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct GroupState {
    accumulators: Vec<Value>,
    timestamp: i64,
}

/// What an output row of the aggregation is, as a change to the output table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowRole {
    /// A group's new aggregate.
    New,
    /// The group's previous aggregate, right before its `New` row (HAVING decides whether
    /// the change deletes a row that was visible).
    Old,
    /// A session merged into a larger one: its row is deleted.
    Deleted,
}

/// The rows of one output batch, column by column, and their roles.
struct Rows {
    columns: Vec<Vec<Value>>,
    roles: Vec<RowRole>,
}

impl Rows {
    fn push(&mut self, values: impl Iterator<Item = Value>, role: RowRole) {
        for (column, value) in self.columns.iter_mut().zip(values) {
            column.push(value);
        }
        self.roles.push(role);
    }
}

impl Aggregator {
    pub fn new(plan: &QueryPlan, aggregation: &AggregatePlan, query_id: &str) -> Aggregator {
        let schema = &aggregation.intermediate_schema;
        let types = schema
            .fields()
            .iter()
            .map(|f| SqlType::from_arrow(f.data_type()).unwrap_or(SqlType::String))
            .collect();
        Aggregator {
            filter: plan.filter.clone(),
            plan: aggregation.clone(),
            types,
            rowtime_index: plan.input_schema.index_of(ROWTIME).unwrap_or(0),
            offset_index: plan.input_schema.index_of(ROWOFFSET).unwrap_or(0),
            store: Box::new(MemoryStore::default()),
            table: plan.source.is_table().then(|| {
                let keys = plan.source.schema.key_columns().count();
                let store: Box<dyn StateStore> = Box::new(MemoryStore::default());
                ((0..keys).collect(), store)
            }),
            stream_time: i64::MIN,
            query_id: query_id.to_string(),
        }
    }

    /// Aggregates a batch of source rows: the updated groups, one `New` row per input row and
    /// window, each after the group's `Old` row if it had one (with session windows, first a
    /// `Deleted` row for each session merged away).
    pub fn process(
        &mut self,
        input: &RecordBatch,
        topic: &str,
        partition: u32,
        log: &mut dyn ProcessingLog,
    ) -> Option<(RecordBatch, Vec<RowRole>)> {
        // A table's rows that fail WHERE are removed from the aggregation (they may have
        // passed before); a stream's are dropped.
        let mut passes = vec![true; input.num_rows()];
        let batch = match &self.filter {
            Some(f) => {
                let offsets = int64_column(input, self.offset_index);
                let mut report = reporter(log, &self.query_id, topic, partition, &offsets);
                let mask = evaluate(f, input, &mut report, true);
                let mask = mask.as_any().downcast_ref::<BooleanArray>()?.clone();
                if self.table.is_some() {
                    passes = (0..mask.len())
                        .map(|i| mask.is_valid(i) && mask.value(i))
                        .collect();
                    input.clone()
                } else {
                    filter_record_batch(input, &mask).ok()?
                }
            }
            None => input.clone(),
        };
        let offsets = int64_column(&batch, self.offset_index);
        let query_id = self.query_id.clone();
        let mut report = reporter(log, &query_id, topic, partition, &offsets);
        let keys: Vec<ArrayRef> = self
            .plan
            .group_by
            .iter()
            .map(|g| evaluate(g, &batch, &mut report, false))
            .collect();
        let args: Vec<Vec<ArrayRef>> = self
            .plan
            .calls
            .iter()
            .map(|c| {
                c.args
                    .iter()
                    .map(|a| evaluate(a, &batch, &mut report, false))
                    .collect()
            })
            .collect();
        let times = int64_column(&batch, self.rowtime_index);
        let mut rows = Rows {
            columns: vec![Vec::new(); self.types.len()],
            roles: Vec::new(),
        };
        for row in 0..batch.num_rows() {
            let key: Vec<Value> = keys.iter().map(|k| Value::from_array(k, row)).collect();
            let time = times.get(row).copied().unwrap_or(0);
            if let Some((source_keys, _)) = &self.table {
                let source_key: Vec<Value> = source_keys
                    .iter()
                    .map(|i| Value::from_array(batch.column(*i), row))
                    .collect();
                // A row that stays in its group updates it once (no intermediate retraction).
                let passed = passes.get(row).copied().unwrap_or(false);
                let stays = passed.then_some(key.as_slice());
                if let Err(message) = self.retract(&source_key, stays, time, &mut rows) {
                    report(row, message);
                }
                if !passed {
                    continue;
                }
            }
            if let Some(i) = key.iter().position(Value::is_null) {
                report(
                    row,
                    format!(
                        "Group-by column with index {i} resolved to null. The source row will be excluded from the table."
                    ),
                );
                continue;
            }
            let row_args: Vec<Vec<Value>> = args
                .iter()
                .map(|call| call.iter().map(|a| Value::from_array(a, row)).collect())
                .collect();
            let offset = offsets.get(row).copied().unwrap_or(0);
            let update = RowUpdate {
                key: &key,
                args: &row_args,
                time,
                offset,
            };
            if let Err(message) = self.update(&update, &mut rows) {
                report(row, message);
                continue;
            }
            if let Err(message) = self.remember(&batch, row, &key, &row_args) {
                report(row, message);
            }
        }
        self.batch(rows)
    }

    /// Applies one row to each of its windows (or its group), appending the results.
    fn update(&mut self, row: &RowUpdate<'_>, rows: &mut Rows) -> Result<(), String> {
        self.stream_time = self.stream_time.max(row.time);
        let grace = self
            .plan
            .window
            .as_ref()
            .map_or(DEFAULT_GRACE_MS, |w| w.grace_ms.unwrap_or(DEFAULT_GRACE_MS));
        let windows = match &self.plan.window {
            Some(w) if w.kind == WindowKind::Session => {
                return self.update_session(row, w.size_ms, grace, rows);
            }
            Some(w) => windows_for(w, row.time),
            None => vec![None],
        };
        for window in windows {
            if let Some((_, end)) = window
                && end.saturating_add(grace) <= self.stream_time
            {
                return Err(format!(
                    "Record is late for its window ending at {end} (stream time {}, grace {grace} ms) and was dropped",
                    self.stream_time
                ));
            }
            self.update_group(row, window, rows)?;
        }
        Ok(())
    }

    fn update_group(
        &mut self,
        row: &RowUpdate<'_>,
        window: Option<(i64, i64)>,
        rows: &mut Rows,
    ) -> Result<(), String> {
        let mut state_key = codec::encode_values(row.key);
        if let Some((start, _)) = window {
            state_key.extend_from_slice(&start.to_be_bytes());
        }
        let old = match self.store.get(&state_key)? {
            Some(bytes) => Some(codec::decode::<GroupState>(&bytes).map_err(|e| e.to_string())?),
            None => None,
        };
        let state = match &old {
            Some(old) => self.add(old.clone(), row)?,
            None => self.add(self.initial(row.time), row)?,
        };
        if let Some(old) = &old {
            self.emit(row.key, old, window, old.timestamp, RowRole::Old, rows);
        }
        self.emit(row.key, &state, window, state.timestamp, RowRole::New, rows);
        self.store.put(&state_key, &codec::encode(&state))
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
        role: RowRole,
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
        rows.push(values, role);
    }

    fn batch(&self, rows: Rows) -> Option<(RecordBatch, Vec<RowRole>)> {
        if rows.roles.is_empty() {
            return None;
        }
        let arrays: Vec<ArrayRef> = rows
            .columns
            .iter()
            .zip(&self.types)
            .map(|(values, t)| values_to_array(values, t))
            .collect();
        let batch = RecordBatch::try_new(self.plan.intermediate_schema.clone(), arrays).ok()?;
        Some((batch, rows.roles))
    }
}

/// One input row as the aggregation sees it.
struct RowUpdate<'a> {
    key: &'a [Value],
    args: &'a [Vec<Value>],
    time: i64,
    offset: i64,
}

/// Reports a row's failure (by its index in the batch whose offsets are given).
fn reporter<'a>(
    log: &'a mut dyn ProcessingLog,
    query_id: &'a str,
    topic: &'a str,
    partition: u32,
    offsets: &'a [i64],
) -> impl FnMut(usize, String) + 'a {
    move |row, message| {
        log.report(ProcessingError {
            query_id: query_id.to_string(),
            topic: topic.to_string(),
            partition,
            offset: offsets.get(row).copied().unwrap_or(-1),
            message,
        })
    }
}
