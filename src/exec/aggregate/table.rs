//! Aggregation over a table: each source row's contribution (its group and arguments) is
//! remembered by the row's key, and undone when the row changes, stops passing WHERE, or is
//! deleted.

use super::{Aggregator, GroupState, RowError, Rows};
use crate::common::change::Op;
use crate::common::{Value, codec};
use arrow::record_batch::RecordBatch;

/// A table row's contribution to the aggregation: its group and its aggregate arguments.
#[derive(serde::Serialize, serde::Deserialize)]
struct Contribution {
    group: Vec<Value>,
    args: Vec<Vec<Value>>,
}

impl Aggregator {
    /// Records a table row's contribution under its key.
    pub(super) fn remember(
        &mut self,
        batch: &RecordBatch,
        row: usize,
        group: &[Value],
        args: &[Vec<Value>],
    ) -> Result<(), RowError> {
        let (Some(source_keys), Some(contributions)) =
            (&self.table_keys, &mut self.stores.contributions)
        else {
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
        contributions.put(
            &codec::encode_values(&source_key),
            &codec::encode(&contribution),
        );
        Ok(())
    }

    /// Removes a table row's earlier contribution from its group, emitting the group unless
    /// the row's new version belongs to the same group (`stays_in`), which then updates it.
    pub(super) fn retract(
        &mut self,
        source_key: &[Value],
        stays_in: Option<&[Value]>,
        time: i64,
        rows: &mut Rows,
    ) -> Result<(), RowError> {
        let Some(contributions) = &mut self.stores.contributions else {
            return Ok(());
        };
        let key = codec::encode_values(source_key);
        let Some(bytes) = contributions.get(&key)? else {
            return Ok(());
        };
        contributions.delete(&key);
        let c: Contribution = codec::decode(&bytes).map_err(|e| e.to_string())?;
        let state_key = codec::encode_values(&c.group);
        let Some(old) = self.group(&state_key, None)? else {
            return Ok(());
        };
        let mut accumulators = Vec::with_capacity(old.accumulators.len());
        for ((call, acc), args) in self.plan.calls.iter().zip(&old.accumulators).zip(&c.args) {
            accumulators.push(call.udaf.udaf.undo(acc.clone(), args)?);
        }
        let state = GroupState {
            accumulators,
            timestamp: old.timestamp.max(time),
        };
        if stays_in != Some(c.group.as_slice()) {
            self.emit(&c.group, &old, None, old.timestamp, Op::UpdateBefore, rows);
            self.emit(
                &c.group,
                &state,
                None,
                state.timestamp,
                Op::UpdateAfter,
                rows,
            );
        } else {
            // The row's new version updates the group once: its old row is the one before
            // this retraction (Kafka Streams' KTableAggregate forwards the aggregate as it was
            // before the subtractor ran).
            self.retracted_old = Some(old);
        }
        self.put_group(&state_key, None, &state)?;
        Ok(())
    }
}
