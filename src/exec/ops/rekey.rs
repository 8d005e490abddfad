//! The re-key operator (PARTITION BY, GROUP BY): computes each row's new key and appends it
//! as columns, which the projection writes as the output key or the aggregation groups by. An
//! expression that fails on a row is reported and gives NULL. A deletion (a row of its key
//! only) gets a new key only from expressions that read nothing but its key; the others are
//! NULL, there being no value to compute them from.

use crate::common::change::ChangeBatch;
use crate::exec::eval::evaluate;
use crate::exec::operator::{Ctx, Operator, OperatorError};
use crate::plan::Compiled;
use crate::plan::logical::{RekeyNode, RekeyReason};
use arrow::array::ArrayRef;
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

pub struct RekeyOp {
    keys: Vec<Compiled>,
    keys_on_deletions: Vec<bool>,
    reason: RekeyReason,
    schema: SchemaRef,
}

impl RekeyOp {
    pub fn new(node: &RekeyNode) -> RekeyOp {
        RekeyOp {
            keys: node.keys.clone(),
            keys_on_deletions: node.keys_on_deletions.clone(),
            reason: node.reason,
            schema: node.schema.clone(),
        }
    }
}

impl Operator for RekeyOp {
    fn describe(&self) -> String {
        text(&self.keys, self.reason)
    }

    fn process(
        &mut self,
        _input: usize,
        batch: ChangeBatch,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), OperatorError> {
        if self.keys.is_empty() {
            ctx.emit(batch);
            return Ok(());
        }
        let mut columns: Vec<ArrayRef> = batch.data().columns().to_vec();
        for (key, on_deletions) in self.keys.iter().zip(&self.keys_on_deletions) {
            let mut report = |row: usize, message: String| {
                ctx.report_unless_deleted(&batch, row, message);
            };
            let array = evaluate(key, batch.data(), &mut report, false);
            columns.push(match on_deletions {
                true => array,
                false => batch.null_on_deletes(array)?,
            });
        }
        let data = RecordBatch::try_new(self.schema.clone(), columns)?;
        ctx.emit(batch.with_data(data)?);
        Ok(())
    }
}

/// `Rekey PARTITION BY A`.
fn text(keys: &[Compiled], reason: RekeyReason) -> String {
    let keys: Vec<String> = keys.iter().map(|k| k.expr.to_string()).collect();
    let by = match reason {
        RekeyReason::PartitionBy => "PARTITION BY",
        RekeyReason::GroupBy => "GROUP BY",
        RekeyReason::Join => "JOIN",
    };
    format!("Rekey {by} {}", keys.join(", "))
}
