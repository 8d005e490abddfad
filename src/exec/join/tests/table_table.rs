//! The table-table join: every cell of ADR 0006 §3.3's table for INNER, LEFT, RIGHT and FULL
//! (Kafka's `KTableKTable{Inner,Left,Right,Outer}Join`), several keys in one batch, NULL keys
//! and a restart.

use super::{emitted_rows, rows, spec, temporary_state};
use crate::exec::join::TableTableJoinOp;
use crate::exec::operator::{Operator, StoreDecl};
use crate::exec::query_state::{QueryState, StateLocation, TaskSlot};
use crate::exec::testing::OpHarness;
use crate::plan::logical::JoinKind;

const LEFT: usize = 0;
const RIGHT: usize = 1;

/// One change per step, its ROWOFFSET the step's number (left changes from partition 0,
/// right ones from partition 1); a comment names the cell of the ADR's table it is.
const SCRIPT: &[(usize, &str)] = &[
    // left new, right absent
    (LEFT, "| + | a | 1 | 10 | 0 | 1 |"),
    // right new, left present
    (RIGHT, "| + | a | 10 | 20 | 1 | 2 |"),
    // left update, right present (ROWTIME the right row's 20)
    (LEFT, "| + | a | 2 | 15 | 0 | 3 |"),
    // right deletion of a row, left present
    (RIGHT, "| - | a | null | 30 | 1 | 4 |"),
    // left deletion of a row, right absent
    (LEFT, "| - | a | null | 40 | 0 | 5 |"),
    // left deletion without a row, right absent
    (LEFT, "| - | a | null | 41 | 0 | 6 |"),
    // right new, left absent
    (RIGHT, "| + | b | 20 | 50 | 1 | 7 |"),
    // left deletion without a row, right present
    (LEFT, "| - | b | null | 55 | 0 | 8 |"),
    // left new, right present (ROWTIME the right row's 50)
    (LEFT, "| + | b | 3 | 45 | 0 | 9 |"),
    // left deletion of a row, right present
    (LEFT, "| - | b | null | 60 | 0 | 10 |"),
    // right deletion of a row, left absent
    (RIGHT, "| - | b | null | 65 | 1 | 11 |"),
    // right deletion without a row, left absent
    (RIGHT, "| - | b | null | 66 | 1 | 12 |"),
    // left new, right absent; then right deletion without a row, left present
    (LEFT, "| + | d | 4 | 80 | 0 | 13 |"),
    (RIGHT, "| - | d | null | 85 | 1 | 14 |"),
];

/// The operator of a `kind` join over a temporary state (returned too: it must outlive it).
fn join(kind: JoinKind) -> (OpHarness, QueryState) {
    let mut state = temporary_state();
    let op = TableTableJoinOp::new(spec(kind), &mut state, TaskSlot::SINGLE).expect("join");
    (OpHarness::new(op), state)
}

/// What a `kind` join emits for [`SCRIPT`], each step a batch of its own.
fn script_output(kind: JoinKind) -> String {
    let (mut h, _state) = join(kind);
    for (input, change) in SCRIPT {
        h.process(*input, &rows(change));
    }
    emitted_rows(&mut h)
}

/// INNER: a joined row when both sides have one; a deletion on either side while the other
/// has a row is a `-` (step 8: even though `b` never joined; step 14 likewise); nothing while
/// the other side has no row.
#[test]
fn inner_emits_joined_rows_and_a_deletion_whenever_the_other_side_has_a_row() {
    insta::assert_snapshot!(script_output(JoinKind::Inner), @r"
    | op | K:STRING | L_V:BIGINT | R_V:BIGINT | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT |
    | +  | a        | 1          | 10         | 20             | 1                    | 2                |
    | +  | a        | 2          | 10         | 20             | 0                    | 3                |
    | -  | a        | 2          | 10         | 30             | 1                    | 4                |
    | -  | b        | null       | 20         | 55             | 0                    | 8                |
    | +  | b        | 3          | 20         | 50             | 0                    | 9                |
    | -  | b        | 3          | 20         | 60             | 0                    | 10               |
    | -  | d        | 4          | null       | 85             | 1                    | 14               |
    ");
}

/// LEFT: a left row alone joins NULLs (1, 13); its deletion is a `-` if it existed (5, not 6),
/// or while a right row exists (8, 10); a right change joins the left row with the new
/// right row or NULLs (2, 4, 14), and nothing without a left row (7, 11, 12).
#[test]
fn left_keeps_left_rows_and_right_changes_rejoin_them() {
    insta::assert_snapshot!(script_output(JoinKind::Left), @r"
    | op | K:STRING | L_V:BIGINT | R_V:BIGINT | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT |
    | +  | a        | 1          | null       | 10             | 0                    | 1                |
    | +  | a        | 1          | 10         | 20             | 1                    | 2                |
    | +  | a        | 2          | 10         | 20             | 0                    | 3                |
    | +  | a        | 2          | null       | 30             | 1                    | 4                |
    | -  | a        | 2          | null       | 40             | 0                    | 5                |
    | -  | b        | null       | 20         | 55             | 0                    | 8                |
    | +  | b        | 3          | 20         | 50             | 0                    | 9                |
    | -  | b        | 3          | 20         | 60             | 0                    | 10               |
    | +  | d        | 4          | null       | 80             | 0                    | 13               |
    | +  | d        | 4          | null       | 85             | 1                    | 14               |
    ");
}

/// RIGHT, LEFT's mirror: a right row alone joins NULLs (7); its deletion is a `-` if it
/// existed (11, not 12) or while a left row exists (4, 14); a left change joins the right
/// row with the new left row or NULLs (8, 10), and nothing without a right row (1, 5, 6, 13).
#[test]
fn right_keeps_right_rows_and_left_changes_rejoin_them() {
    insta::assert_snapshot!(script_output(JoinKind::Right), @r"
    | op | K:STRING | L_V:BIGINT | R_V:BIGINT | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT |
    | +  | a        | 1          | 10         | 20             | 1                    | 2                |
    | +  | a        | 2          | 10         | 20             | 0                    | 3                |
    | -  | a        | 2          | 10         | 30             | 1                    | 4                |
    | +  | b        | null       | 20         | 50             | 1                    | 7                |
    | +  | b        | null       | 20         | 55             | 0                    | 8                |
    | +  | b        | 3          | 20         | 50             | 0                    | 9                |
    | +  | b        | null       | 20         | 60             | 0                    | 10               |
    | -  | b        | null       | 20         | 65             | 1                    | 11               |
    | -  | d        | 4          | null       | 85             | 1                    | 14               |
    ");
}

/// FULL: a row alone joins NULLs (1, 7, 13); a deletion while the other side has a row
/// leaves that row with NULLs (4, 8, 10, 14); a deletion without the other side is a `-` if
/// the row existed (5, 11), else nothing (6, 12).
#[test]
fn full_keeps_both_sides_rows() {
    insta::assert_snapshot!(script_output(JoinKind::Outer), @r"
    | op | K:STRING | L_V:BIGINT | R_V:BIGINT | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT |
    | +  | a        | 1          | null       | 10             | 0                    | 1                |
    | +  | a        | 1          | 10         | 20             | 1                    | 2                |
    | +  | a        | 2          | 10         | 20             | 0                    | 3                |
    | +  | a        | 2          | null       | 30             | 1                    | 4                |
    | -  | a        | 2          | null       | 40             | 0                    | 5                |
    | +  | b        | null       | 20         | 50             | 1                    | 7                |
    | +  | b        | null       | 20         | 55             | 0                    | 8                |
    | +  | b        | 3          | 20         | 50             | 0                    | 9                |
    | +  | b        | null       | 20         | 60             | 0                    | 10               |
    | -  | b        | null       | 20         | 65             | 1                    | 11               |
    | +  | d        | 4          | null       | 80             | 0                    | 13               |
    | +  | d        | 4          | null       | 85             | 1                    | 14               |
    ");
}

/// A batch's changes apply in order, each seeing the ones before it; `U-` emits nothing and
/// `U+` is an upsert; one output batch per input batch.
#[test]
fn a_batch_of_several_keys_applies_its_changes_in_order() {
    let (mut h, _state) = join(JoinKind::Left);
    h.process(
        LEFT,
        &rows(
            "| +  | x | 1 | 1 | 0 | 1 |
             | +  | y | 2 | 2 | 0 | 2 |
             | U- | x | 1 | 1 | 0 | 3 |
             | U+ | x | 3 | 3 | 0 | 3 |",
        ),
    );
    insta::assert_snapshot!(h.output(), @r"
    | op | K:STRING | L_V:BIGINT | R_V:BIGINT | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT |
    | +  | x        | 1          | null       | 1              | 0                    | 1                |
    | +  | y        | 2          | null       | 2              | 0                    | 2                |
    | +  | x        | 3          | null       | 3              | 0                    | 3                |
    ");
    h.process(
        RIGHT,
        &rows(
            "| + | y | 20   | 5 | 1 | 1 |
             | + | x | 10   | 4 | 1 | 2 |
             | - | y | null | 6 | 1 | 3 |",
        ),
    );
    insta::assert_snapshot!(h.output(), @r"
    | op | K:STRING | L_V:BIGINT | R_V:BIGINT | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT |
    | +  | y        | 2          | 20         | 5              | 1                    | 1                |
    | +  | x        | 3          | 10         | 4              | 1                    | 2                |
    | +  | y        | 2          | null       | 6              | 1                    | 3                |
    ");
}

/// A change with a NULL key joins nothing, on either side: it is skipped and reported, and
/// a FULL join (which emits rows alone) emits nothing for it.
#[test]
fn null_keyed_changes_are_skipped_and_reported() {
    let (mut h, _state) = join(JoinKind::Outer);
    h.process(LEFT, &rows("| + | null | 1 | 10 | 0 | 3 |"));
    h.process(RIGHT, &rows("| + | null | 2 | 11 | 1 | 4 |"));
    insta::assert_snapshot!(h.output(), @r"
    processing log:
    bad offset=3: A table row with a NULL key is skipped: it cannot be joined
    bad offset=4: A table row with a NULL key is skipped: it cannot be joined
    ");
}

/// Both sides' rows outlive the operator: after a commit and a reopened state, a right
/// row joins the left row of before, and deleting that left row is a `-` (it existed).
#[test]
fn a_restarted_operator_joins_the_rows_of_the_one_before() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let location = StateLocation::Durable {
        path: dir.path().join("state"),
        changelog_prefix: "q".to_string(),
    };
    let new_join = |state: &mut QueryState| {
        let op = TableTableJoinOp::new(spec(JoinKind::Outer), state, TaskSlot::SINGLE);
        OpHarness::new(op.expect("join"))
    };
    let mut state = QueryState::open(&location).expect("state");
    new_join(&mut state).process(LEFT, &rows("| + | a | 1 | 10 | 0 | 1 |"));
    state.committed(&[]).expect("the state flushes");
    drop(state);

    let mut state = QueryState::open(&location).expect("state reopens");
    let mut h = new_join(&mut state);
    h.process(RIGHT, &rows("| + | a | 10 | 20 | 1 | 1 |"));
    h.process(RIGHT, &rows("| - | a | null | 30 | 1 | 2 |"));
    h.process(LEFT, &rows("| - | a | null | 40 | 0 | 2 |"));
    insta::assert_snapshot!(emitted_rows(&mut h), @r"
    | op | K:STRING | L_V:BIGINT | R_V:BIGINT | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT |
    | +  | a        | 1          | 10         | 20             | 1                    | 1                |
    | +  | a        | 1          | null       | 30             | 1                    | 2                |
    | -  | a        | 1          | null       | 40             | 0                    | 2                |
    ");
}

/// EXPLAIN's stores are the ones the operator opens: both sides' rows in the join's context.
#[test]
fn the_operator_declares_the_stores_it_opens() {
    let location = StateLocation::Temporary {
        changelog_prefix: Some("q".to_string()),
    };
    let mut state = QueryState::open(&location).expect("state");
    let spec = spec(JoinKind::Inner);
    let op = TableTableJoinOp::new(spec.clone(), &mut state, TaskSlot::SINGLE).expect("join");
    let declared = vec![
        StoreDecl::new("Join-Left-Rows", "key-value"),
        StoreDecl::new("Join-Right-Rows", "key-value"),
    ];
    assert_eq!(TableTableJoinOp::store_decls(&spec), declared);
    assert_eq!(op.stores(), declared);
    assert_eq!(
        state.changelog_topics(),
        ["q-Join-Left-Rows-changelog", "q-Join-Right-Rows-changelog"]
    );
    assert!(TableTableJoinOp::describe_for(&spec).contains("table-table INNER"));
}
