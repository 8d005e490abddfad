//! Unit tests of the stream-table and table-table join operators: a [`JoinSpec`] built by hand
//! over one input layout for both sides, the operator driven by an [`OpHarness`] with
//! pretty-printed change batches, its output compared as text with insta.
//!
//! Both inputs are `| op | K:STRING | V:BIGINT | ROWTIME:BIGINT | ROWPARTITION:INTEGER |
//! ROWOFFSET:BIGINT |`, keyed by `K`, each contributing `V`; the output is
//! `| K | L_V | R_V | ROWTIME | ROWPARTITION | ROWOFFSET |`.

mod stream_table;
mod table_table;
mod temporal;

use super::JoinSpec;
use crate::common::change::ChangeBatch;
use crate::common::change_pretty::to_pretty;
use crate::exec::query_state::{QueryState, StateLocation};
use crate::exec::testing::OpHarness;
use crate::plan::logical::JoinKind;
use arrow::datatypes::{DataType, Field, Schema};
use std::sync::Arc;

/// The header of every input batch; rows follow it as `| + | a | 1 | 10 | 0 | 1 |`.
const INPUT: &str =
    "| op | K:STRING | V:BIGINT | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT |";

/// An input batch of `rows` (lines in the layout of [`INPUT`]).
fn rows(rows: &str) -> String {
    format!("{INPUT}\n{rows}")
}

/// The join of `kind` in context `Join` over the layout of [`INPUT`] on both sides.
fn spec(kind: JoinKind) -> JoinSpec {
    let schema = Schema::new(vec![
        Field::new("K", DataType::Utf8, true),
        Field::new("L_V", DataType::Int64, true),
        Field::new("R_V", DataType::Int64, true),
        Field::new("ROWTIME", DataType::Int64, true),
        Field::new("ROWPARTITION", DataType::Int32, true),
        Field::new("ROWOFFSET", DataType::Int64, true),
    ]);
    JoinSpec {
        kind,
        left_keys: vec![0],
        right_keys: vec![0],
        left_columns: vec![1],
        right_columns: vec![1],
        context: "Join".to_string(),
        schema: Arc::new(schema),
    }
}

/// A query state in a temporary directory, without changelogs.
fn temporary_state() -> QueryState {
    let location = StateLocation::Temporary {
        changelog_prefix: None,
    };
    QueryState::open(&location).expect("state")
}

/// Every batch the harness emitted since the last call, as one table (`(no rows)` when none);
/// panics if the operator produced anything else (processing-log entries, say).
fn emitted_rows(h: &mut OpHarness) -> String {
    let batches = h.take_emitted();
    assert_eq!(h.output(), "(no output)\n", "nothing but emitted rows");
    let Some(first) = batches.first() else {
        return "(no rows)\n".to_string();
    };
    let all = ChangeBatch::concat(&first.schema(), &batches).expect("batches concatenate");
    to_pretty(&all)
}

/// A key that joins a great many rows cannot exhaust memory: rows stop being added once the
/// step's budget is passed (the driver then runs the step again with fewer records).
#[test]
fn joined_rows_stop_at_the_step_budget() {
    use super::{JoinOutput, Joined};
    use crate::common::Value;
    use crate::common::change::Op;
    use crate::common::limits::{StepBudget, step_exceeded};
    let spec = spec(JoinKind::Inner);
    let budget = StepBudget::open(10_000);
    let mut out = JoinOutput::new(&spec);
    let key = [Value::String("k".into())];
    for _ in 0..10_000 {
        let joined = Joined {
            key: &key,
            left: Some(&[Value::Bigint(1)]),
            right: Some(&[Value::Bigint(2)]),
            ts: 0,
            position: (0, 0),
        };
        out.push(Op::Insert, joined);
    }
    assert!(step_exceeded(), "the budget was passed");
    let rows = out.finish().expect("batch").num_rows();
    assert!(rows > 0 && rows < 200, "{rows} rows kept");
    drop(budget);
    assert!(!step_exceeded(), "no step open");
}
