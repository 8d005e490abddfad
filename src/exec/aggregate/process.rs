//! The aggregation's walk over a batch: for each input row, its table contribution undone
//! (over a table), then its group (and windows) updated, with what went wrong reported; late
//! rows reported after the batch's other errors.

use super::{Aggregator, RowUpdate, Rows, check};
use crate::common::Value;
use crate::common::change::{ChangeBatch, Op};
use crate::exec::eval::evaluate;
use crate::exec::operator::{Ctx, OperatorError, offsets_of};
use crate::exec::processing_log::ErrorKind;
use crate::plan::schema::ROWTIME;
use arrow::array::{Array, ArrayRef, Int64Array};

/// What the walk reads of a batch, computed once.
struct Input<'a> {
    batch: &'a ChangeBatch,
    /// Per aggregate call, its arguments' values.
    args: Vec<Vec<ArrayRef>>,
    times: Option<&'a Int64Array>,
    offsets: Vec<i64>,
}

impl Aggregator {
    /// Aggregates a batch of input rows: the changes to the groups, one new aggregate per input
    /// row and window, each after the group's old one if it had one (with session windows,
    /// first a deletion for each session merged away). Rows that cannot be aggregated go to
    /// the processing log; a state store failure fails the batch.
    pub fn process(
        &mut self,
        batch: &ChangeBatch,
        ctx: &mut Ctx<'_>,
    ) -> Result<Option<ChangeBatch>, OperatorError> {
        let mut report = |row: usize, message: String| {
            ctx.report_unless_deleted(batch, row, message);
        };
        let args = self
            .plan
            .calls
            .iter()
            .map(|c| {
                let args = c.args.iter();
                args.map(|a| evaluate(a, batch.data(), &mut report, false))
                    .collect()
            })
            .collect();
        let input = Input {
            batch,
            args,
            times: batch.int64(ROWTIME),
            offsets: offsets_of(batch),
        };
        let mut rows = self.rows();
        // Late records, reported after the batch's other errors.
        let mut late = Vec::new();
        for row in 0..batch.num_rows() {
            self.aggregate_row(&input, row, &mut rows, ctx)?;
            late.extend(
                std::mem::take(&mut rows.notes)
                    .into_iter()
                    .map(|n| (row, n)),
            );
        }
        for (row, message) in late {
            let offset = input.offsets.get(row).copied().unwrap_or(-1);
            ctx.report_at(offset, ErrorKind::Late, message);
        }
        self.finish_batch()?;
        self.batch(rows)
    }

    /// One input row: over a table, its earlier contribution undone; then, for an upsert, its
    /// group updated and (over a table) its contribution remembered.
    #[inline]
    fn aggregate_row(
        &mut self,
        input: &Input<'_>,
        row: usize,
        rows: &mut Rows,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), OperatorError> {
        self.retracted_old = None;
        let (batch, data) = (input.batch, input.batch.data());
        let op = batch.op(row);
        let time = input
            .times
            .filter(|t| row < t.len())
            .map_or(0, |t| t.value(row));
        let upsert = op.is_upsert();
        let key: Vec<Value> = match upsert {
            false => Vec::new(),
            true => self
                .group_columns
                .iter()
                .map(|i| Value::from_array(data.column(*i), row))
                .collect(),
        };
        if let Some(source_keys) = &self.table_keys {
            let source_key: Vec<Value> = source_keys
                .iter()
                .map(|i| Value::from_array(data.column(*i), row))
                .collect();
            // A row that stays in its group updates it once (no intermediate retraction).
            let stays = upsert.then_some(key.as_slice());
            let retracted = self.retract(&source_key, stays, time, rows);
            check(retracted, |m| ctx.report(batch, row, m))?;
        }
        if !upsert {
            if self.table_keys.is_none() && op == Op::Delete {
                let why = "an aggregation over a stream skips records without values";
                ctx.report(batch, row, crate::exec::ops::null_value_dropped(why));
            }
            return Ok(());
        }
        if let Some(i) = key.iter().position(Value::is_null) {
            let message = format!(
                "Group-by column with index {i} resolved to null. The source row will be excluded from the table."
            );
            ctx.report(batch, row, message);
            return Ok(());
        }
        let row_args: Vec<Vec<Value>> = input
            .args
            .iter()
            .map(|call| call.iter().map(|a| Value::from_array(a, row)).collect())
            .collect();
        let update = RowUpdate {
            key: &key,
            args: &row_args,
            time,
            offset: input.offsets.get(row).copied().unwrap_or(0),
        };
        let updated = check(self.update(&update, rows), |m| ctx.report(batch, row, m))?;
        if updated.is_some() {
            let remembered = self.remember(data, row, &key, &row_args);
            check(remembered, |m| ctx.report(batch, row, m))?;
        }
        Ok(())
    }

    pub(super) fn rows(&self) -> Rows {
        Rows {
            columns: vec![Vec::new(); self.types.len()],
            ops: Vec::new(),
            notes: Vec::new(),
        }
    }
}
