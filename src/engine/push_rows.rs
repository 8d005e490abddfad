//! What a push query hands its client: its projected rows as they come, each marked when it
//! is a table's deletion (a tombstone). A deletion has the row's key (the columns computed
//! from the source's key columns and window bounds) and NULL for every other column, as
//! ksqlDB's push queries show them; the query's projection makes them so.

use crate::common::Value;
use crate::common::change::{ChangeBatch, Op};
use crate::exec::RowSubscriber;
use crate::plan::QueryPlan;
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
    let mut appended: u64 = 0;
    Box::new(move |batch: &ChangeBatch| {
        let Ok(mut out) = rows.lock() else {
            return false;
        };
        let data = batch.data();
        for r in 0..batch.num_rows() {
            if limit.is_some_and(|l| appended >= l) {
                return false;
            }
            let values = (0..width)
                .map(|c| Value::from_array(data.column(c).as_ref(), r))
                .collect();
            let tombstone = batch.op(r) == Op::Delete;
            out.push(PushRow { values, tombstone });
            appended += 1;
        }
        limit.is_none_or(|l| appended < l)
    })
}
