//! The table-function operator (EXPLODE, CUBE_EXPLODE): each input row repeats once per
//! element of its longest array (shorter arrays give NULL), the elements appended as columns;
//! a row whose arrays are all empty or NULL vanishes. A deletion (a stream record without a
//! value) passes once, its elements NULL. How many rows one record may become is bounded
//! (`common::limits`): past the bound the record is reported and makes no rows.

use crate::common::change::{ChangeBatch, Op};
use crate::common::limits;
use crate::exec::eval::evaluate;
use crate::exec::operator::{Ctx, Operator, OperatorError};
use crate::plan::Compiled;
use crate::plan::logical::TableFunctionNode;
use arrow::array::{Array, ArrayRef, ListArray, UInt32Array};
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

pub struct TableFunctionOp {
    functions: Vec<Compiled>,
    schema: SchemaRef,
}

impl TableFunctionOp {
    pub fn new(node: &TableFunctionNode) -> TableFunctionOp {
        TableFunctionOp {
            functions: node.functions.clone(),
            schema: node.schema.clone(),
        }
    }

    /// The arrays of each row (one list array per function).
    fn lists(
        &self,
        batch: &ChangeBatch,
        ctx: &mut Ctx<'_>,
    ) -> Result<Vec<ListArray>, OperatorError> {
        let mut report = |row: usize, message: String| {
            ctx.report_unless_deleted(batch, row, message);
        };
        self.functions
            .iter()
            .map(|f| {
                let array = evaluate(f, batch.data(), &mut report, false);
                array
                    .as_any()
                    .downcast_ref::<ListArray>()
                    .cloned()
                    .ok_or_else(|| OperatorError::Internal(format!("{} is not an array", f.expr)))
            })
            .collect()
    }
}

impl Operator for TableFunctionOp {
    fn describe(&self) -> String {
        text(&self.functions)
    }

    fn process(
        &mut self,
        _input: usize,
        batch: ChangeBatch,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), OperatorError> {
        let lists = self.lists(&batch, ctx)?;
        let mut take_rows: Vec<u32> = Vec::new();
        let mut elements: Vec<Vec<Option<u32>>> = vec![Vec::new(); lists.len()];
        for row in 0..batch.num_rows() {
            if batch.op(row) == Op::Delete {
                take_rows.push(row as u32);
                elements.iter_mut().for_each(|e| e.push(None));
                continue;
            }
            let lens: Vec<usize> = lists.iter().map(|l| length(l, row)).collect();
            let mut n = lens.iter().copied().max().unwrap_or(0);
            if let Err(message) = expansion_within_limits(batch.data(), row, n) {
                ctx.report(&batch, row, message);
                n = 0;
            }
            for i in 0..n {
                take_rows.push(row as u32);
                for (k, l) in lists.iter().enumerate() {
                    let at = l.value_offsets()[row] as u32 + i as u32;
                    elements[k].push((i < lens[k]).then_some(at));
                }
            }
        }
        let expanded = batch.take(&UInt32Array::from(take_rows))?;
        let mut columns: Vec<ArrayRef> = expanded.data().columns().to_vec();
        for (l, idx) in lists.iter().zip(elements) {
            columns.push(arrow::compute::take(
                l.values(),
                &UInt32Array::from(idx),
                None,
            )?);
        }
        let data = RecordBatch::try_new(self.schema.clone(), columns)?;
        ctx.emit(expanded.with_data(data)?);
        Ok(())
    }
}

/// `TableFunction EXPLODE(TAGS)`.
fn text(functions: &[Compiled]) -> String {
    let f: Vec<String> = functions.iter().map(|f| f.expr.to_string()).collect();
    format!("TableFunction EXPLODE({})", f.join(", "))
}

/// The length of a row's array (0 for NULL).
fn length(list: &ListArray, row: usize) -> usize {
    match list.is_null(row) {
        true => 0,
        false => list.value_length(row) as usize,
    }
}

/// Whether one input row may become `n` rows: at most [`limits::MAX_TABLE_FUNCTION_ROWS`],
/// and copies of the row's columns within [`limits::MAX_ROW_WORK_BYTES`] (and within what is
/// left of the step's budget, which they are charged to).
fn expansion_within_limits(batch: &RecordBatch, row: usize, n: usize) -> Result<(), String> {
    if n > limits::MAX_TABLE_FUNCTION_ROWS {
        return Err(format!(
            "A table function would make {n} rows of one record, more than the limit of {}",
            limits::MAX_TABLE_FUNCTION_ROWS
        ));
    }
    if n <= 1 {
        return Ok(());
    }
    let row_bytes: usize = batch
        .columns()
        .iter()
        .map(|c| {
            c.slice(row, 1)
                .to_data()
                .get_slice_memory_size()
                .unwrap_or(0)
        })
        .sum();
    let copies = row_bytes.saturating_mul(n);
    if copies > limits::MAX_ROW_WORK_BYTES {
        return Err(format!(
            "A table function would make {n} copies of a record of {row_bytes} bytes, more than the limit of {} MiB",
            limits::MAX_ROW_WORK_BYTES >> 20
        ));
    }
    limits::charge_step(copies)
}
