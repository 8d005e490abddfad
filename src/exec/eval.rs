//! Evaluating a compiled expression over a batch, vectorised, or row by row when that fails
//! or a part of it failed (see `plan::expr::take_nested_failures`), so that only the failing
//! rows are affected: each failure is reported with its row, and the row's value is NULL (FALSE
//! for a filter). Once the step is past its budget (`common::limits`), nothing more is
//! evaluated row by row: the step will be run again with fewer records.

use crate::common::limits;
use crate::plan::Compiled;
use crate::plan::expr::take_nested_failures;
use arrow::array::{Array, ArrayRef, BooleanArray, new_null_array};
use arrow::compute::concat;
use arrow::record_batch::RecordBatch;
use std::sync::Arc;

/// Which rows a filter holds for (TRUE; FALSE, NULL and failures are out).
pub fn passing(
    filter: &Compiled,
    batch: &RecordBatch,
    report: &mut dyn FnMut(usize, String),
) -> Option<Vec<bool>> {
    let mask = evaluate(filter, batch, report, true);
    let mask = mask.as_any().downcast_ref::<BooleanArray>()?;
    Some(
        (0..mask.len())
            .map(|i| mask.is_valid(i) && mask.value(i))
            .collect(),
    )
}

/// Evaluates vectorised, or row by row when that fails or a part of it failed (failures:
/// FALSE or NULL, each reported with its row; a part that failed and became NULL is reported
/// too, see `plan::expr::take_nested_failures`).
pub fn evaluate(
    c: &Compiled,
    batch: &RecordBatch,
    report: &mut dyn FnMut(usize, String),
    is_filter: bool,
) -> ArrayRef {
    let rows = batch.num_rows();
    // What evaluating something else on this thread left behind is not this batch's.
    take_nested_failures();
    let whole = c.physical.evaluate(batch).and_then(|v| v.into_array(rows));
    if let Ok(array) = whole
        && take_nested_failures().is_empty()
    {
        return array;
    }
    let dt = c.expr.ty.arrow_type();
    if limits::step_exceeded() {
        // The step will be rolled back and run again with fewer records: no row is at fault.
        take_nested_failures();
        return new_null_array(&dt, rows);
    }
    let parts: Vec<ArrayRef> = (0..rows)
        .map(|i| {
            let one = c
                .physical
                .evaluate(&batch.slice(i, 1))
                .and_then(|v| v.into_array(1));
            for message in take_nested_failures() {
                report(i, message);
            }
            match one {
                Ok(a) => a,
                Err(e) => {
                    report(i, format!("Error computing expression {}: {e}", c.expr));
                    if is_filter {
                        Arc::new(BooleanArray::from(vec![false]))
                    } else {
                        new_null_array(&dt, 1)
                    }
                }
            }
        })
        .collect();
    let refs: Vec<&dyn Array> = parts.iter().map(|a| a.as_ref()).collect();
    concat(&refs).unwrap_or_else(|_| new_null_array(&dt, rows))
}
