//! The stream-table join: stream rows look up the table's current row by key and emit at
//! once; table changes only change what later stream rows find.

use super::{rows, spec, temporary_state};
use crate::common::change_pretty::to_pretty;
use crate::exec::join::StreamTableJoinOp;
use crate::exec::operator::StoreDecl;
use crate::exec::query_state::{QueryState, StateLocation, TaskSlot};
use crate::exec::testing::OpHarness;
use crate::plan::logical::JoinKind;

const STREAM: usize = 0;
const TABLE: usize = 1;

/// The operator of a `kind` join over a temporary state (returned too: it must outlive it).
fn join(kind: JoinKind) -> (OpHarness, QueryState) {
    let mut state = temporary_state();
    let op = StreamTableJoinOp::new(spec(kind), &mut state, TaskSlot::SINGLE).expect("join");
    (OpHarness::new(op), state)
}

/// Keys `a` and `b` in the table, then a stream batch of keys `a`, `c` (not in the table),
/// `b`, `a`, from partition 3.
fn table_then_stream(h: &mut OpHarness) -> String {
    h.process(
        TABLE,
        &rows(
            "| + | a | 1 | 10 | 1 | 1 |
             | + | b | 2 | 11 | 1 | 2 |",
        ),
    );
    assert_eq!(h.output(), "(no output)\n", "table changes emit nothing");
    h.process(
        STREAM,
        &rows(
            "| + | a | 100 | 20 | 3 | 7  |
             | + | c | 300 | 21 | 3 | 8  |
             | + | b | 200 | 22 | 3 | 9  |
             | + | a | 101 | 23 | 3 | 10 |",
        ),
    );
    let emitted = h.take_emitted();
    assert_eq!(emitted.len(), 1, "one output batch per input batch");
    assert_eq!(h.output(), "(no output)\n", "nothing else");
    to_pretty(&emitted[0])
}

/// INNER: each stream row whose key the table has joins its row, with the stream row's
/// key, ROWTIME, ROWPARTITION and ROWOFFSET, in stream order; `c` joins nothing.
#[test]
fn inner_stream_rows_join_the_tables_row_of_their_key_in_order() {
    let (mut h, _state) = join(JoinKind::Inner);
    insta::assert_snapshot!(table_then_stream(&mut h), @r"
    | op | K:STRING | L_V:BIGINT | R_V:BIGINT | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT |
    | +  | a        | 100        | 1          | 20             | 3                    | 7                |
    | +  | b        | 200        | 2          | 22             | 3                    | 9                |
    | +  | a        | 101        | 1          | 23             | 3                    | 10               |
    ");
}

/// LEFT: as INNER, and `c`, which the table lacks, with NULLs for the table's columns.
#[test]
fn left_stream_rows_without_a_table_row_join_nulls() {
    let (mut h, _state) = join(JoinKind::Left);
    insta::assert_snapshot!(table_then_stream(&mut h), @r"
    | op | K:STRING | L_V:BIGINT | R_V:BIGINT | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT |
    | +  | a        | 100        | 1          | 20             | 3                    | 7                |
    | +  | c        | 300        | null       | 21             | 3                    | 8                |
    | +  | b        | 200        | 2          | 22             | 3                    | 9                |
    | +  | a        | 101        | 1          | 23             | 3                    | 10               |
    ");
}

/// `U+` replaces a key's row, `-` removes it, an older update still applies (as Kafka's
/// table source), and a `U-` alone changes nothing.
#[test]
fn table_updates_and_deletions_change_what_later_stream_rows_find() {
    let (mut h, _state) = join(JoinKind::Left);
    h.process(
        TABLE,
        &rows(
            "| +  | a | 1    | 10 | 1 | 1 |
             | +  | b | 2    | 11 | 1 | 2 |
             | U- | a | 1    | 10 | 1 | 3 |
             | U+ | a | 5    | 12 | 1 | 3 |
             | -  | b | null | 13 | 1 | 4 |
             | +  | c | 7    | 30 | 1 | 5 |
             | +  | c | 8    | 14 | 1 | 6 |",
        ),
    );
    h.process(
        STREAM,
        &rows(
            "| + | a | 100 | 20 | 0 | 1 |
             | + | b | 200 | 21 | 0 | 2 |
             | + | c | 300 | 22 | 0 | 3 |",
        ),
    );
    insta::assert_snapshot!(h.output(), @r"
    | op | K:STRING | L_V:BIGINT | R_V:BIGINT | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT |
    | +  | a        | 100        | 5          | 20             | 0                    | 1                |
    | +  | b        | 200        | null       | 21             | 0                    | 2                |
    | +  | c        | 300        | 8          | 22             | 0                    | 3                |
    ");
    h.process(TABLE, &rows("| U- | a | 5 | 12 | 1 | 7 |"));
    h.process(STREAM, &rows("| + | a | 400 | 40 | 0 | 4 |"));
    insta::assert_snapshot!(h.output(), @r"
    | op | K:STRING | L_V:BIGINT | R_V:BIGINT | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT |
    | +  | a        | 400        | 5          | 40             | 0                    | 4                |
    ");
}

/// A table row with a NULL key is skipped and reported; an INNER join drops a stream row with
/// a NULL key and reports it (`a` then finds no table row and joins nothing).
#[test]
fn inner_drops_null_keys_with_a_processing_log_entry() {
    let (mut h, _state) = join(JoinKind::Inner);
    h.process(TABLE, &rows("| + | null | 9 | 5 | 1 | 4 |"));
    h.process(
        STREAM,
        &rows(
            "| + | null | 100 | 20 | 0 | 7 |
             | + | a    | 101 | 21 | 0 | 8 |",
        ),
    );
    insta::assert_snapshot!(h.output(), @r"
    processing log:
    bad offset=4: A table row with a NULL key is skipped: it cannot be joined
    bad offset=7: A stream row with a NULL join key is dropped: an inner join cannot join it
    ");
}

/// A LEFT join emits a stream row with a NULL key with NULLs for the table (the NULL-keyed
/// table row is not its match), without a processing-log entry.
#[test]
fn left_emits_null_keyed_stream_rows_with_nulls() {
    let (mut h, _state) = join(JoinKind::Left);
    h.process(TABLE, &rows("| + | null | 9 | 5 | 1 | 4 |"));
    assert_eq!(
        h.output(),
        "processing log:\nbad offset=4: A table row with a NULL key is skipped: it cannot be joined\n"
    );
    h.process(
        STREAM,
        &rows(
            "| + | null | 100 | 20 | 0 | 7 |
             | + | a    | 101 | 21 | 0 | 8 |",
        ),
    );
    insta::assert_snapshot!(h.output(), @r"
    | op | K:STRING | L_V:BIGINT | R_V:BIGINT | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT |
    | +  | null     | 100        | null       | 20             | 0                    | 7                |
    | +  | a        | 101        | null       | 21             | 0                    | 8                |
    ");
}

/// The table's rows outlive the operator: a new one over the same state sees the rows not
/// yet committed, and one over the state reopened after a commit sees the committed ones.
#[test]
fn a_new_operator_finds_the_table_rows_of_the_one_before() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let location = StateLocation::Durable {
        path: dir.path().join("state"),
        changelog_prefix: "q".to_string(),
    };
    let stream_row = rows("| + | a | 100 | 20 | 0 | 1 |");
    let mut state = QueryState::open(&location).expect("state");
    let new_join = |state: &mut QueryState| {
        let op = StreamTableJoinOp::new(spec(JoinKind::Inner), state, TaskSlot::SINGLE);
        OpHarness::new(op.expect("join"))
    };
    new_join(&mut state).process(TABLE, &rows("| + | a | 1 | 10 | 1 | 1 |"));
    let uncommitted = new_join(&mut state).process(STREAM, &stream_row).output();
    state.committed(&[]).expect("the state flushes");
    drop(state);

    let mut state = QueryState::open(&location).expect("state reopens");
    let restarted = new_join(&mut state).process(STREAM, &stream_row).output();
    let expected = "\
| op | K:STRING | L_V:BIGINT | R_V:BIGINT | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT |
| +  | a        | 100        | 1          | 20             | 0                    | 1                |
";
    assert_eq!(uncommitted, expected, "over the same state");
    assert_eq!(restarted, expected, "over the reopened state");
}

/// EXPLAIN's stores are the ones the operator opens: the table's rows in the join's context.
#[test]
fn the_operator_declares_the_store_it_opens() {
    let location = StateLocation::Temporary {
        changelog_prefix: Some("q".to_string()),
    };
    let mut state = QueryState::open(&location).expect("state");
    let spec = spec(JoinKind::Left);
    let op = StreamTableJoinOp::new(spec.clone(), &mut state, TaskSlot::SINGLE).expect("join");
    let declared = vec![StoreDecl::new("Join-Right-Rows", "key-value")];
    assert_eq!(StreamTableJoinOp::store_decls(&spec), declared);
    assert_eq!(crate::exec::operator::Operator::stores(&op), declared);
    assert_eq!(state.changelog_topics(), ["q-Join-Right-Rows-changelog"]);
    assert!(StreamTableJoinOp::describe_for(&spec).contains("stream-table LEFT"));
}
