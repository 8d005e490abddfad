//! The stateless part of a query: filter, then project (and re-key). Expressions run
//! vectorised; when one fails for a batch, it is re-run row by row so that only the failing
//! rows are affected: a failing filter drops the row, a failing projection writes NULL, and
//! both are reported to the processing log.

use super::processing_log::{ProcessingError, ProcessingLog};
use crate::plan::{Compiled, QueryPlan};
use arrow::array::{Array, ArrayRef, BooleanArray, new_null_array};
use arrow::compute::{concat, filter_record_batch};
use arrow::datatypes::{Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use std::sync::Arc;

/// Output batches hold the query's columns in SELECT order, then ROWTIME.
pub struct StatelessPipeline {
    filter: Option<Compiled>,
    columns: Vec<Compiled>,
    output: SchemaRef,
    rowtime_index: usize,
    query_id: String,
}

impl StatelessPipeline {
    pub fn new(plan: &QueryPlan, query_id: &str) -> StatelessPipeline {
        let mut fields: Vec<Field> = plan.columns.iter().map(|c| Field::new(&c.name, c.compiled.expr.ty.arrow_type(), true)).collect();
        fields.push(Field::new(crate::plan::schema::ROWTIME, arrow::datatypes::DataType::Int64, false));
        let rowtime_index = plan.input_schema.index_of(crate::plan::schema::ROWTIME).unwrap_or(0);
        StatelessPipeline { filter: plan.filter.clone(), columns: plan.columns.iter().map(|c| c.compiled.clone()).collect(), output: Arc::new(Schema::new(fields)), rowtime_index, query_id: query_id.to_string() }
    }

    pub fn output_schema(&self) -> SchemaRef {
        self.output.clone()
    }

    pub fn process(&self, input: &RecordBatch, topic: &str, partition: u32, log: &mut dyn ProcessingLog) -> Option<RecordBatch> {
        let offsets = offsets_of(input);
        let mut report = |row: usize, message: String| log.report(ProcessingError { query_id: self.query_id.clone(), topic: topic.to_string(), partition, offset: offsets.get(row).copied().unwrap_or(-1), message });
        let batch = match &self.filter {
            Some(f) => {
                let mask = self.evaluate(f, input, &mut report, true);
                let mask = mask.as_any().downcast_ref::<BooleanArray>()?.clone();
                filter_record_batch(input, &mask).ok()?
            }
            None => input.clone(),
        };
        if batch.num_rows() == 0 {
            return None;
        }
        let mut arrays: Vec<ArrayRef> = self.columns.iter().map(|c| self.evaluate(c, &batch, &mut report, false)).collect();
        arrays.push(batch.column(self.rowtime_index).clone());
        RecordBatch::try_new(self.output.clone(), arrays).ok()
    }

    /// Evaluates vectorised, or row by row when that fails (failures: FALSE or NULL).
    fn evaluate(&self, c: &Compiled, batch: &RecordBatch, report: &mut dyn FnMut(usize, String), is_filter: bool) -> ArrayRef {
        let rows = batch.num_rows();
        let whole = c.physical.evaluate(batch).and_then(|v| v.into_array(rows));
        if let Ok(array) = whole {
            return array;
        }
        let dt = c.expr.ty.arrow_type();
        let parts: Vec<ArrayRef> = (0..rows)
            .map(|i| match c.physical.evaluate(&batch.slice(i, 1)).and_then(|v| v.into_array(1)) {
                Ok(a) => a,
                Err(e) => {
                    report(i, format!("Error computing expression {}: {e}", c.expr));
                    if is_filter { Arc::new(BooleanArray::from(vec![false])) } else { new_null_array(&dt, 1) }
                }
            })
            .collect();
        let refs: Vec<&dyn Array> = parts.iter().map(|a| a.as_ref()).collect();
        concat(&refs).unwrap_or_else(|_| new_null_array(&dt, rows))
    }
}

fn offsets_of(batch: &RecordBatch) -> Vec<i64> {
    batch
        .column(batch.num_columns() - 1)
        .as_any()
        .downcast_ref::<arrow::array::Int64Array>()
        .map(|a| a.values().to_vec())
        .unwrap_or_default()
}
