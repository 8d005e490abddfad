//! What a push query hands its client: its projected rows as they come, each marked when it
//! is a table's deletion (a tombstone). A deletion shows the row's key (the columns that read
//! only the source's key columns or window bounds) and NULL for every other column, as
//! ksqlDB's push queries show them.

use crate::common::Value;
use crate::exec::query::RowSubscriber;
use crate::plan::QueryPlan;
use crate::plan::schema::{WINDOWEND, WINDOWSTART};
use arrow::record_batch::RecordBatch;
use std::sync::{Arc, Mutex};

/// One row of a push query.
#[derive(Clone, Debug, PartialEq)]
pub struct PushRow {
    pub values: Vec<Value>,
    /// The row's key was deleted (the values other than the key's are NULL).
    pub tombstone: bool,
}

/// Rows a push query produced and its client has not taken yet.
pub type PushRows = Arc<Mutex<Vec<PushRow>>>;

/// The query's subscriber: appends each output row to `rows` until `limit` rows were
/// appended, then asks the query to stop.
pub(super) fn subscriber(plan: &QueryPlan, limit: Option<u64>, rows: PushRows) -> RowSubscriber {
    let width = plan.columns.len();
    let key_only = key_only_columns(plan);
    let mut appended: u64 = 0;
    Box::new(move |batch: &RecordBatch, deleted: &[bool]| {
        let Ok(mut out) = rows.lock() else {
            return false;
        };
        for r in 0..batch.num_rows() {
            if limit.is_some_and(|l| appended >= l) {
                return false;
            }
            let tombstone = deleted.get(r).copied().unwrap_or(false);
            let values = (0..width)
                .map(|c| match tombstone && !key_only[c] {
                    true => Value::Null,
                    false => Value::from_array(batch.column(c).as_ref(), r),
                })
                .collect();
            out.push(PushRow { values, tombstone });
            appended += 1;
        }
        limit.is_none_or(|l| appended < l)
    })
}

/// For each output column, whether it reads only the source's key columns and window
/// bounds (and reads at least one), so that a deletion still has its value.
fn key_only_columns(plan: &QueryPlan) -> Vec<bool> {
    let keys: Vec<&str> = plan
        .source
        .schema
        .key_columns()
        .map(|c| c.name.as_str())
        .collect();
    let fields = plan.input_schema.fields();
    plan.columns
        .iter()
        .map(|c| {
            let read = c.compiled.expr.column_indices();
            !read.is_empty()
                && read.iter().all(|i| {
                    fields.get(*i).is_some_and(|f| {
                        let name = f.name().as_str();
                        keys.contains(&name) || name == WINDOWSTART || name == WINDOWEND
                    })
                })
        })
        .collect()
}
