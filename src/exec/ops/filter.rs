//! The filter operator (WHERE, HAVING): keeps the rows its predicate holds for, with the rule
//! for each kind of change that `plan::logical::FilterRule` names. A predicate that fails on
//! a row is reported and taken as FALSE; failures on deletions are not reported (a deletion's
//! value columns are NULL, or the row was already reported when it was written).

use super::null_value_dropped;
use crate::common::change::{ChangeBatch, Op};
use crate::exec::eval::passing;
use crate::exec::operator::{Ctx, Operator, OperatorError};
use crate::plan::Compiled;
use crate::plan::logical::{FilterNode, FilterRule};
use arrow::array::UInt32Array;

pub struct FilterOp {
    predicate: Compiled,
    rule: FilterRule,
    clause: &'static str,
    /// The predicate reads only key columns and window bounds (it can judge a deletion).
    reads_keys_only: bool,
}

impl FilterOp {
    pub fn new(node: &FilterNode) -> FilterOp {
        FilterOp {
            predicate: node.predicate.clone(),
            rule: node.rule,
            clause: node.clause,
            reads_keys_only: node.reads_keys_only,
        }
    }

    /// Per row: whether the predicate holds (failures reported, except on deletions).
    fn passes(&self, batch: &ChangeBatch, ctx: &mut Ctx<'_>) -> Result<Vec<bool>, OperatorError> {
        let mut report = |row: usize, message: String| {
            ctx.report_unless_deleted(batch, row, message);
        };
        passing(&self.predicate, batch.data(), &mut report).ok_or_else(|| {
            OperatorError::Internal(format!("{} is not a boolean predicate", self.clause))
        })
    }

    /// The output rows (input positions) and their ops.
    fn select(&self, batch: &ChangeBatch, passes: &[bool], ctx: &mut Ctx<'_>) -> Vec<(u32, Op)> {
        let mut out = Vec::with_capacity(batch.num_rows());
        let mut row = 0;
        while row < batch.num_rows() {
            let (op, pass) = (batch.op(row), passes[row]);
            let at = row as u32;
            match (self.rule, op) {
                (FilterRule::Stream, Op::Delete) => {
                    let why = "a WHERE clause is false for a stream row without values";
                    ctx.report(batch, row, null_value_dropped(why));
                }
                (FilterRule::Table, Op::Delete) => out.push((at, Op::Delete)),
                (FilterRule::Table, op) if !pass && op != Op::UpdateBefore => {
                    out.push((at, Op::Delete))
                }
                // (A deletion the predicate rejects falls through to the drop below.)
                (FilterRule::TableView, Op::Delete) if pass || !self.reads_keys_only => {
                    out.push((at, Op::Delete))
                }
                (FilterRule::Updates, Op::UpdateBefore)
                    if batch.num_rows() > row + 1 && batch.op(row + 1) == Op::UpdateAfter =>
                {
                    let new = at + 1;
                    match (pass, passes[row + 1]) {
                        (true, true) => {
                            out.extend([(at, Op::UpdateBefore), (new, Op::UpdateAfter)])
                        }
                        (false, true) => out.push((new, Op::Insert)),
                        (true, false) => out.push((new, Op::Delete)),
                        (false, false) => {}
                    }
                    row += 1;
                }
                (FilterRule::Updates, Op::UpdateBefore) => {}
                (_, op) if pass => out.push((at, op)),
                _ => {}
            }
            row += 1;
        }
        out
    }
}

impl Operator for FilterOp {
    fn describe(&self) -> String {
        text(self.clause, &self.predicate, self.rule)
    }

    fn process(
        &mut self,
        _input: usize,
        batch: ChangeBatch,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), OperatorError> {
        let passes = self.passes(&batch, ctx)?;
        if batch.is_insert_only() && self.rule != FilterRule::Table {
            // The common case, a stream's records: the rows that pass, as they are (only a
            // table's filter turns failing inserts into deletions).
            let keep = arrow::array::BooleanArray::from(passes);
            ctx.emit(batch.filter(&keep)?);
            return Ok(());
        }
        let selected = self.select(&batch, &passes, ctx);
        let rows: UInt32Array = selected.iter().map(|(r, _)| *r).collect();
        let kept = batch.take(&rows)?;
        let ops = selected.into_iter().map(|(_, op)| op).collect();
        ctx.emit(ChangeBatch::new(kept.into_data(), ops)?);
        Ok(())
    }
}

/// `Filter WHERE (A > 1) (Stream)`.
fn text(clause: &str, predicate: &Compiled, rule: FilterRule) -> String {
    format!("Filter {clause} {} ({rule:?})", predicate.expr)
}
