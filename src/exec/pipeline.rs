//! The stateless part of a query: filter, then project (and re-key). Expressions run
//! vectorised; when one fails for a batch (or a part of it failed and became NULL), it is
//! re-run row by row so that only the failing rows are affected: a failing filter drops the
//! row, a failing projection writes NULL, and both are reported to the processing log.
//! What evaluation keeps is charged to the query step's budget (`common::limits`); once the
//! step is past it, nothing more is evaluated row by row, as the step will be run again.

use super::processing_log::{ProcessingError, ProcessingLog};
use crate::common::limits;
use crate::plan::expr::take_nested_failures;
use crate::plan::schema::{ROWTIME, WINDOWEND, WINDOWSTART};
use crate::plan::{Compiled, QueryPlan};
use arrow::array::{Array, ArrayRef, BooleanArray, new_null_array};
use arrow::compute::{concat, filter_record_batch};
use arrow::datatypes::{Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use std::sync::Arc;

/// Output batches hold the query's columns in SELECT order, then the window bounds when the
/// source's keys are windowed (WINDOWSTART, WINDOWEND), then ROWTIME.
pub struct StatelessPipeline {
    filter: Option<Compiled>,
    columns: Vec<Compiled>,
    /// Which columns are EXPLODE table functions.
    explode: Vec<bool>,
    output: SchemaRef,
    /// Input columns passed through after the query's columns: window bounds, ROWTIME.
    carried: Vec<usize>,
    /// WHERE when it reads only key and pseudo-columns, so it can judge a deletion (a row
    /// with NULL values); `None` when there is none or it reads values.
    deletion_filter: Option<Compiled>,
    query_id: String,
}

impl StatelessPipeline {
    /// A stateless query's filter and projection over its source batches; for an
    /// aggregation, the projection of the aggregation's output (HAVING is applied by
    /// `exec::aggregate`).
    pub fn new(plan: &QueryPlan, query_id: &str) -> StatelessPipeline {
        match &plan.aggregation {
            None => Self::over(plan, plan.filter.clone(), &plan.input_schema, query_id),
            Some(a) => Self::over(plan, None, &a.intermediate_schema, query_id),
        }
    }

    fn over(
        plan: &QueryPlan,
        filter: Option<Compiled>,
        input: &SchemaRef,
        query_id: &str,
    ) -> StatelessPipeline {
        let mut fields: Vec<Field> = plan
            .columns
            .iter()
            .map(|c| Field::new(&c.name, c.output_type().arrow_type(), true))
            .collect();
        let mut carried = Vec::new();
        let window = [WINDOWSTART, WINDOWEND];
        let names = if plan.output_window().is_some() {
            &window[..]
        } else {
            &[]
        };
        for name in names.iter().chain(&[ROWTIME]) {
            if let Ok(i) = input.index_of(name) {
                fields.push(input.field(i).clone());
                carried.push(i);
            }
        }
        let source = &plan.source.schema.columns;
        let reads_key_only = |f: &Compiled| {
            f.expr.column_indices().iter().all(|i| {
                source
                    .get(*i)
                    .is_none_or(|c| c.role == crate::plan::schema::ColumnRole::Key)
            })
        };
        StatelessPipeline {
            deletion_filter: filter.clone().filter(reads_key_only),
            filter,
            columns: plan.columns.iter().map(|c| c.compiled.clone()).collect(),
            explode: plan.columns.iter().map(|c| c.explode).collect(),
            output: Arc::new(Schema::new(fields)),
            carried,
            query_id: query_id.to_string(),
        }
    }

    pub fn output_schema(&self) -> SchemaRef {
        self.output.clone()
    }

    pub fn process(
        &self,
        input: &RecordBatch,
        topic: &str,
        partition: u32,
        log: &mut dyn ProcessingLog,
    ) -> Option<RecordBatch> {
        self.filter_and_project(self.filter.as_ref(), input, topic, partition, log)
    }

    /// A table's deletions (rows of a key with NULL values), projected: those WHERE rejects
    /// are dropped when WHERE reads only the key; otherwise all pass (their values are unknown).
    pub fn project_deletions(
        &self,
        input: &RecordBatch,
        topic: &str,
        partition: u32,
        log: &mut dyn ProcessingLog,
    ) -> Option<RecordBatch> {
        let filter = self.deletion_filter.as_ref();
        self.filter_and_project(filter, input, topic, partition, log)
    }

    /// The rows `filter` keeps (all without one), projected.
    fn filter_and_project(
        &self,
        filter: Option<&Compiled>,
        input: &RecordBatch,
        topic: &str,
        partition: u32,
        log: &mut dyn ProcessingLog,
    ) -> Option<RecordBatch> {
        let offsets = offsets_of(input);
        let mut report = reporter(log, &self.query_id, topic, partition, &offsets);
        let batch = match filter {
            Some(f) => {
                let mask = self.evaluate(f, input, &mut report, true);
                let mask = mask.as_any().downcast_ref::<BooleanArray>()?.clone();
                filter_record_batch(input, &mask).ok()?
            }
            None => input.clone(),
        };
        self.project(&batch, &mut report)
    }

    /// A table's changes: every row is projected, and those that fail WHERE are marked as
    /// deletions of their key (as Kafka Streams' table filter forwards them).
    pub fn process_changes(
        &self,
        input: &RecordBatch,
        topic: &str,
        partition: u32,
        log: &mut dyn ProcessingLog,
    ) -> Option<(RecordBatch, Vec<bool>)> {
        let offsets = offsets_of(input);
        let mut report = reporter(log, &self.query_id, topic, partition, &offsets);
        let deleted = match &self.filter {
            Some(f) => passing(f, input, &mut report)?.iter().map(|p| !p).collect(),
            None => vec![false; input.num_rows()],
        };
        Some((self.project(input, &mut report)?, deleted))
    }

    /// The query's columns (and carried window bounds and ROWTIME) of each row.
    fn project(
        &self,
        batch: &RecordBatch,
        report: &mut dyn FnMut(usize, String),
    ) -> Option<RecordBatch> {
        if batch.num_rows() == 0 {
            return None;
        }
        let (batch, exploded) = if self.explode.contains(&true) {
            self.explode_rows(batch, report)?
        } else {
            (batch.clone(), Vec::new())
        };
        let mut exploded = exploded.into_iter();
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(self.columns.len() + 1);
        for (c, is_explode) in self.columns.iter().zip(&self.explode) {
            arrays.push(if *is_explode {
                exploded.next()?
            } else {
                self.evaluate(c, &batch, report, false)
            });
        }
        arrays.extend(self.carried.iter().map(|i| batch.column(*i).clone()));
        RecordBatch::try_new(self.output.clone(), arrays).ok()
    }

    /// Table functions: each input row repeats once per array element (the longest array of
    /// several EXPLODEs wins; shorter ones give NULL); rows whose arrays are empty or NULL vanish.
    fn explode_rows(
        &self,
        batch: &RecordBatch,
        report: &mut dyn FnMut(usize, String),
    ) -> Option<(RecordBatch, Vec<ArrayRef>)> {
        let arrays: Vec<(ArrayRef, arrow::datatypes::DataType)> = self
            .columns
            .iter()
            .zip(&self.explode)
            .filter(|(_, e)| **e)
            .map(|(c, _)| {
                (
                    self.evaluate(c, batch, &mut *report, false),
                    c.expr.ty.arrow_type(),
                )
            })
            .collect();
        let lists: Vec<&arrow::array::ListArray> = arrays
            .iter()
            .filter_map(|(a, _)| a.as_any().downcast_ref::<arrow::array::ListArray>())
            .collect();
        if lists.len() != arrays.len() {
            return None;
        }
        let mut take_rows: Vec<u32> = Vec::new();
        let mut element_indices: Vec<Vec<Option<u32>>> = vec![Vec::new(); lists.len()];
        for row in 0..batch.num_rows() {
            let lens: Vec<usize> = lists
                .iter()
                .map(|l| {
                    if l.is_null(row) {
                        0
                    } else {
                        l.value_length(row) as usize
                    }
                })
                .collect();
            let mut n = lens.iter().copied().max().unwrap_or(0);
            if let Err(message) = expansion_within_limits(batch, row, n) {
                report(row, message);
                n = 0;
            }
            for i in 0..n {
                take_rows.push(row as u32);
                for (k, l) in lists.iter().enumerate() {
                    element_indices[k]
                        .push((i < lens[k]).then(|| l.value_offsets()[row] as u32 + i as u32));
                }
            }
        }
        let rows = arrow::array::UInt32Array::from(take_rows);
        let columns = batch
            .columns()
            .iter()
            .map(|c| arrow::compute::take(c, &rows, None))
            .collect::<Result<Vec<_>, _>>()
            .ok()?;
        let expanded = RecordBatch::try_new(batch.schema(), columns).ok()?;
        let elements = lists
            .iter()
            .zip(element_indices)
            .map(|(l, idx)| {
                arrow::compute::take(l.values(), &arrow::array::UInt32Array::from(idx), None)
            })
            .collect::<Result<Vec<_>, _>>()
            .ok()?;
        Some((expanded, elements))
    }

    fn evaluate(
        &self,
        c: &Compiled,
        batch: &RecordBatch,
        report: &mut dyn FnMut(usize, String),
        is_filter: bool,
    ) -> ArrayRef {
        evaluate(c, batch, report, is_filter)
    }
}

/// Which rows a filter holds for (TRUE; FALSE, NULL and failures are out).
pub(super) fn passing(
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

/// Reports a row's failure (by its index in the batch whose offsets are given).
pub(super) fn reporter<'a>(
    log: &'a mut dyn ProcessingLog,
    query_id: &'a str,
    topic: &'a str,
    partition: u32,
    offsets: &'a [i64],
) -> impl FnMut(usize, String) + 'a {
    move |row, message| {
        log.report(ProcessingError::bad(
            query_id,
            topic,
            partition,
            offsets.get(row).copied().unwrap_or(-1),
            message,
        ))
    }
}

/// Evaluates vectorised, or row by row when that fails or a part of it failed (failures:
/// FALSE or NULL, each reported with its row; a part that failed and became NULL is reported
/// too, see `plan::expr::take_nested_failures`).
pub(super) fn evaluate(
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

fn offsets_of(batch: &RecordBatch) -> Vec<i64> {
    int64_column(batch, batch.num_columns().saturating_sub(1))
}

/// A BIGINT column's values (empty if it is not one).
pub(super) fn int64_column(batch: &RecordBatch, index: usize) -> Vec<i64> {
    batch
        .columns()
        .get(index)
        .and_then(|c| c.as_any().downcast_ref::<arrow::array::Int64Array>())
        .map(|a| a.values().to_vec())
        .unwrap_or_default()
}
