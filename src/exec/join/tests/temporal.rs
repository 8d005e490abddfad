//! The temporal stream-table join: each stream row joins the table version valid at its
//! ROWTIME, whatever order the rows arrive in; history beyond the retention is forgotten.

use super::{emitted_rows, rows, spec, temporary_state};
use crate::exec::join::TemporalJoinOp;
use crate::exec::query_state::{QueryState, TaskSlot};
use crate::exec::testing::OpHarness;
use crate::plan::logical::JoinKind;

const STREAM: usize = 0;
const TABLE: usize = 1;

/// The operator of a `kind` join keeping `history_ms` (its state returned too: it must
/// outlive it).
fn join(kind: JoinKind, history_ms: i64) -> (OpHarness, QueryState) {
    let mut state = temporary_state();
    let op =
        TemporalJoinOp::new(spec(kind), history_ms, &mut state, TaskSlot::SINGLE).expect("join");
    (OpHarness::new(op), state)
}

/// Table versions of `a`: 1 at 10, 2 at 20, deleted at 30, 4 at 40 (sent out of order).
fn versions(h: &mut OpHarness) {
    h.process(
        TABLE,
        &rows(
            "| + | a | 2    | 20 | 1 | 2 |
             | + | a | 4    | 40 | 1 | 4 |
             | + | a | 1    | 10 | 1 | 1 |
             | - | a | null | 30 | 1 | 3 |",
        ),
    );
    assert_eq!(emitted_rows(h), "(no rows)\n", "table changes emit nothing");
}

/// Stream rows at 5, 10, 15, 25, 35, 45 (out of order) each join the version valid at their
/// time: none before 10, 1 from 10, 2 from 20, none after the deletion at 30, 4 from 40.
#[test]
fn stream_rows_join_the_version_valid_at_their_rowtime() {
    let (mut h, _state) = join(JoinKind::Left, 1_000);
    versions(&mut h);
    h.process(
        STREAM,
        &rows(
            "| + | a | 100 | 35 | 0 | 7  |
             | + | a | 101 | 10 | 0 | 8  |
             | + | a | 102 | 45 | 0 | 9  |
             | + | a | 103 | 5  | 0 | 10 |
             | + | a | 104 | 25 | 0 | 11 |
             | + | a | 105 | 15 | 0 | 12 |",
        ),
    );
    insta::assert_snapshot!(emitted_rows(&mut h), @r"
    | op | K:STRING | L_V:BIGINT | R_V:BIGINT | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT |
    | +  | a        | 100        | null       | 35             | 0                    | 7                |
    | +  | a        | 101        | 1          | 10             | 0                    | 8                |
    | +  | a        | 102        | 4          | 45             | 0                    | 9                |
    | +  | a        | 103        | null       | 5              | 0                    | 10               |
    | +  | a        | 104        | 2          | 25             | 0                    | 11               |
    | +  | a        | 105        | 1          | 15             | 0                    | 12               |
    ");
}

/// INNER drops the rows no version is valid for; a key the table never had joins nothing.
#[test]
fn inner_emits_only_rows_with_a_valid_version() {
    let (mut h, _state) = join(JoinKind::Inner, 1_000);
    versions(&mut h);
    h.process(
        STREAM,
        &rows(
            "| + | a | 100 | 35 | 0 | 7 |
             | + | a | 101 | 12 | 0 | 8 |
             | + | b | 102 | 50 | 0 | 9 |",
        ),
    );
    insta::assert_snapshot!(emitted_rows(&mut h), @r"
    | op | K:STRING | L_V:BIGINT | R_V:BIGINT | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT |
    | +  | a        | 101        | 1          | 12             | 0                    | 8                |
    ");
}

/// A change at a version's time replaces it; the answer does not depend on whether the
/// stream row came before or after the table change it should see.
#[test]
fn arrival_order_does_not_change_the_answer() {
    let stream = "| + | a | 100 | 25 | 0 | 7 |";
    let (mut early, _s1) = join(JoinKind::Left, 1_000);
    versions(&mut early);
    early.process(STREAM, &rows(stream));
    let (mut late, _s2) = join(JoinKind::Left, 1_000);
    late.process(TABLE, &rows("| + | a | 9 | 20 | 1 | 2 |"));
    late.take_emitted();
    versions(&mut late);
    late.process(STREAM, &rows(stream));
    let (early, late) = (emitted_rows(&mut early), emitted_rows(&mut late));
    let joined = early.lines().nth(1).and_then(|l| l.split('|').nth(4));
    assert_eq!(joined.map(str::trim), Some("2"), "version 2 at 20: {early}");
    assert_eq!(early, late, "the later change at 20 replaced the first");
}

/// With 15 ms of history, once the table reaches 40 only the version valid at 25 (2, from 20)
/// and newer are kept: a stream row at 12 no longer finds version 1 and is reported.
#[test]
fn history_beyond_the_retention_is_forgotten_and_reported() {
    let (mut h, _state) = join(JoinKind::Left, 15);
    versions(&mut h);
    h.process(
        STREAM,
        &rows(
            "| + | a | 100 | 12 | 0 | 7 |
             | + | a | 101 | 22 | 0 | 8 |",
        ),
    );
    let emitted = h.take_emitted();
    let output = h.output();
    assert!(
        output.contains("older than the temporal join's table history"),
        "reported: {output}"
    );
    let all = crate::common::change::ChangeBatch::concat(&emitted[0].schema(), &emitted)
        .expect("batches");
    insta::assert_snapshot!(crate::common::change_pretty::to_pretty(&all), @r"
    | op | K:STRING | L_V:BIGINT | R_V:BIGINT | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT |
    | +  | a        | 100        | null       | 12             | 0                    | 7                |
    | +  | a        | 101        | 2          | 22             | 0                    | 8                |
    ");
}
