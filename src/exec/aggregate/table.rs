//! Aggregation over a table: each source row's contribution (its group and arguments) is
//! remembered by the row's key, and undone when the row changes, stops passing WHERE, or is
//! deleted.

use super::{Aggregator, GroupState, RowRole, Rows};
use crate::common::{Value, codec};
use crate::exec::processing_log::{ProcessingError, ProcessingLog};
use arrow::record_batch::RecordBatch;

/// A table row's contribution to the aggregation: its group and its aggregate arguments.
#[derive(serde::Serialize, serde::Deserialize)]
struct Contribution {
    group: Vec<Value>,
    args: Vec<Vec<Value>>,
}

impl Aggregator {
    /// Whether the source is a table (changes and deletions retract earlier rows).
    pub fn reads_table(&self) -> bool {
        self.table.is_some()
    }

    /// A table row deleted (a tombstone for its key): its contribution is removed.
    pub fn retract_row(
        &mut self,
        source_key: &[Value],
        time: i64,
        log: &mut dyn ProcessingLog,
    ) -> Option<(RecordBatch, Vec<RowRole>)> {
        let mut rows = Rows {
            columns: vec![Vec::new(); self.types.len()],
            roles: Vec::new(),
        };
        if let Err(message) = self.retract(source_key, None, time, &mut rows) {
            log.report(ProcessingError {
                query_id: self.query_id.clone(),
                topic: String::new(),
                partition: 0,
                offset: -1,
                message,
            });
        }
        self.batch(rows)
    }

    /// Records a table row's contribution under its key.
    pub(super) fn remember(
        &mut self,
        batch: &RecordBatch,
        row: usize,
        group: &[Value],
        args: &[Vec<Value>],
    ) -> Result<(), String> {
        let Some((source_keys, rows)) = &mut self.table else {
            return Ok(());
        };
        let source_key: Vec<Value> = source_keys
            .iter()
            .map(|i| Value::from_array(batch.column(*i), row))
            .collect();
        let contribution = Contribution {
            group: group.to_vec(),
            args: args.to_vec(),
        };
        rows.put(
            &codec::encode_values(&source_key),
            &codec::encode(&contribution),
        )
    }

    /// Removes a table row's earlier contribution from its group, emitting the group unless
    /// the row's new version belongs to the same group (`stays_in`), which then updates it.
    pub(super) fn retract(
        &mut self,
        source_key: &[Value],
        stays_in: Option<&[Value]>,
        time: i64,
        rows: &mut Rows,
    ) -> Result<(), String> {
        let Some((_, contributions)) = &mut self.table else {
            return Ok(());
        };
        let key = codec::encode_values(source_key);
        let Some(bytes) = contributions.get(&key)? else {
            return Ok(());
        };
        contributions.delete(&key)?;
        let c: Contribution = codec::decode(&bytes).map_err(|e| e.to_string())?;
        let state_key = codec::encode_values(&c.group);
        let Some(bytes) = self.store.get(&state_key)? else {
            return Ok(());
        };
        let old: GroupState = codec::decode(&bytes).map_err(|e| e.to_string())?;
        let mut accumulators = Vec::with_capacity(old.accumulators.len());
        for ((call, acc), args) in self.plan.calls.iter().zip(&old.accumulators).zip(&c.args) {
            accumulators.push(call.udaf.udaf.undo(acc.clone(), args)?);
        }
        let state = GroupState {
            accumulators,
            timestamp: old.timestamp.max(time),
        };
        if stays_in != Some(c.group.as_slice()) {
            self.emit(&c.group, &old, None, old.timestamp, RowRole::Old, rows);
            self.emit(&c.group, &state, None, state.timestamp, RowRole::New, rows);
        }
        self.store.put(&state_key, &codec::encode(&state))
    }
}
