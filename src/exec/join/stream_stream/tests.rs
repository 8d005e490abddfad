//! Tests of `StreamStreamJoinOp` through the operator harness. Both inputs have the layout
//! `| K:BIGINT | V:STRING | ROWTIME | ROWPARTITION | ROWOFFSET |` (ROWPARTITION 0 on the left,
//! 1 on the right, so each output row shows which arrival produced it); the join is on `K` and
//! each side contributes `K` and `V`. The expected rows are the QTT vectors of
//! `joins.json` (named per test) or worked out by hand from ADR 0006 §3.1; the snapshots show
//! the batches as emitted (one per triggering input batch).

use super::StreamStreamJoinOp;
use crate::common::Value;
use crate::common::change::ChangeBatch;
use crate::exec::join::{JoinSpec, Side};
use crate::exec::query_state::{QueryState, StateLocation, TaskSlot};
use crate::exec::testing::OpHarness;
use crate::plan::logical::JoinKind;
use arrow::datatypes::{DataType, Field, Schema};
use std::sync::Arc;

const SECOND: i64 = 1000;
const MINUTE: i64 = 60 * SECOND;

fn spec(kind: JoinKind) -> JoinSpec {
    let field = |name: &str, ty: DataType| Field::new(name, ty, true);
    let schema = Schema::new(vec![
        field("KSQL_JOIN_KEY_0", DataType::Int64),
        field("L_K", DataType::Int64),
        field("L_V", DataType::Utf8),
        field("R_K", DataType::Int64),
        field("R_V", DataType::Utf8),
        field("ROWTIME", DataType::Int64),
        field("ROWPARTITION", DataType::Int32),
        field("ROWOFFSET", DataType::Int64),
    ]);
    JoinSpec {
        kind,
        left_keys: vec![0],
        right_keys: vec![0],
        left_columns: vec![0, 1],
        right_columns: vec![0, 1],
        context: "Join".to_string(),
        schema: Arc::new(schema),
    }
}

/// One arriving row: its side, key (`None`: NULL), value and ROWTIME.
type Arrival<'a> = (Side, Option<i64>, &'a str, i64);

/// An output row: key, left V, right V, ROWTIME.
type Out = (Option<i64>, Option<String>, Option<String>, i64);

struct Join {
    harness: OpHarness,
    state: QueryState,
    /// The ROWOFFSET of the next arrival.
    offset: i64,
}

impl Join {
    fn new(kind: JoinKind, window: (i64, i64, Option<i64>)) -> Join {
        let location = StateLocation::Temporary {
            changelog_prefix: None,
        };
        let mut state = QueryState::open(&location).expect("state");
        let harness = Join::operator(kind, window, &mut state);
        Join {
            harness,
            state,
            offset: 0,
        }
    }

    fn operator(
        kind: JoinKind,
        window: (i64, i64, Option<i64>),
        state: &mut QueryState,
    ) -> OpHarness {
        let op =
            StreamStreamJoinOp::new(spec(kind), window, state, TaskSlot::SINGLE).expect("operator");
        let mut harness = OpHarness::new(op);
        harness.open();
        harness
    }

    /// Feeds each arrival as a batch of its own, in order.
    fn feed(&mut self, arrivals: &[Arrival<'_>]) -> &mut Join {
        for &(side, key, value, ts) in arrivals {
            self.feed_batch(side, &[(key, value, ts)]);
        }
        self
    }

    /// Feeds rows of one side as one batch.
    fn feed_batch(&mut self, side: Side, rows: &[(Option<i64>, &str, i64)]) -> &mut Join {
        let (input, partition) = match side {
            Side::Left => (0, 0),
            Side::Right => (1, 1),
        };
        let mut text = String::from(
            "| K:BIGINT | V:STRING | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT |\n",
        );
        for (key, value, ts) in rows {
            let key = key.map_or("null".to_string(), |k| k.to_string());
            text.push_str(&format!(
                "| {key} | {value} | {ts} | {partition} | {} |\n",
                self.offset
            ));
            self.offset += 1;
        }
        self.harness.process(input, &text);
        self
    }

    /// The rows emitted since the last call, and everything produced as the harness prints it.
    fn drain(&mut self) -> (Vec<Out>, String) {
        let batches = self.harness.take_emitted();
        let rows = batches.iter().flat_map(out_rows).collect();
        let texts: Vec<String> = batches
            .iter()
            .map(crate::common::change_pretty::to_pretty)
            .collect();
        let mut text = texts.join("\n");
        let rest = self.harness.output();
        if rest != "(no output)\n" {
            text.push_str(&format!("\n{rest}"));
        }
        (rows, text)
    }
}

fn out_rows(batch: &ChangeBatch) -> Vec<Out> {
    let column = |name: &str, row: usize| {
        let array = batch
            .column(name)
            .unwrap_or_else(|| panic!("no column {name}"));
        Value::from_array(array.as_ref(), row)
    };
    let int = |v: Value| match v {
        Value::Bigint(i) => Some(i),
        _ => None,
    };
    let text = |v: Value| match v {
        Value::String(s) => Some(s.to_string()),
        _ => None,
    };
    (0..batch.num_rows())
        .map(|row| {
            let ts = int(column("ROWTIME", row)).expect("ROWTIME");
            (
                int(column("KSQL_JOIN_KEY_0", row)),
                text(column("L_V", row)),
                text(column("R_V", row)),
                ts,
            )
        })
        .collect()
}

/// An expected row: `None` values for a side without a row.
fn out(key: i64, left: Option<&str>, right: Option<&str>, ts: i64) -> Out {
    (
        Some(key),
        left.map(str::to_string),
        right.map(str::to_string),
        ts,
    )
}

use Side::{Left as L, Right as R};

/// `joins/stream stream {inner,left,right} join`: WITHIN 11 seconds, no GRACE.
const QTT_BASIC: [Arrival<'static>; 8] = [
    (L, Some(0), "zero", 0),
    (R, Some(0), "blah", 10_000),
    (L, Some(10), "100", 11_000),
    (L, Some(0), "foo", 13_000),
    (R, Some(0), "a", 15_000),
    (R, Some(100), "newblah", 16_000),
    (L, Some(90), "ninety", 17_000),
    (L, Some(0), "bar", 30_000),
];

#[test]
fn qtt_inner_join_emits_matches_with_the_later_rowtime() {
    let mut join = Join::new(JoinKind::Inner, (11 * SECOND, 11 * SECOND, None));
    let (rows, text) = join.feed(&QTT_BASIC).drain();
    let expected = vec![
        out(0, Some("zero"), Some("blah"), 10_000),
        out(0, Some("foo"), Some("blah"), 13_000),
        out(0, Some("foo"), Some("a"), 15_000),
    ];
    assert_eq!(rows, expected);
    insta::assert_snapshot!(text);
}

#[test]
fn qtt_legacy_left_join_emits_unmatched_left_rows_at_once() {
    let mut join = Join::new(JoinKind::Left, (11 * SECOND, 11 * SECOND, None));
    let (rows, text) = join.feed(&QTT_BASIC).drain();
    let expected = vec![
        out(0, Some("zero"), None, 0),
        out(0, Some("zero"), Some("blah"), 10_000),
        out(10, Some("100"), None, 11_000),
        out(0, Some("foo"), Some("blah"), 13_000),
        out(0, Some("foo"), Some("a"), 15_000),
        out(90, Some("ninety"), None, 17_000),
        out(0, Some("bar"), None, 30_000),
    ];
    assert_eq!(rows, expected);
    insta::assert_snapshot!(text);
}

#[test]
fn qtt_legacy_right_join_emits_unmatched_right_rows_at_once() {
    let mut join = Join::new(JoinKind::Right, (11 * SECOND, 11 * SECOND, None));
    let (rows, _) = join.feed(&QTT_BASIC).drain();
    let expected = vec![
        out(0, Some("zero"), Some("blah"), 10_000),
        out(0, Some("foo"), Some("blah"), 13_000),
        out(0, Some("foo"), Some("a"), 15_000),
        out(100, None, Some("newblah"), 16_000),
    ];
    assert_eq!(rows, expected);
}

#[test]
fn qtt_legacy_full_join_emits_both_sides_unmatched_rows_at_once() {
    // `joins/stream stream outer join`: the last three arrivals differ from QTT_BASIC.
    let mut arrivals = QTT_BASIC[..5].to_vec();
    arrivals.extend([
        (L, Some(0), "bar", 30_000),
        (L, Some(90), "ninety", 17_000),
        (R, Some(100), "newblah", 20_000),
    ]);
    let mut join = Join::new(JoinKind::Outer, (11 * SECOND, 11 * SECOND, None));
    let (rows, text) = join.feed(&arrivals).drain();
    let expected = vec![
        out(0, Some("zero"), None, 0),
        out(0, Some("zero"), Some("blah"), 10_000),
        out(10, Some("100"), None, 11_000),
        out(0, Some("foo"), Some("blah"), 13_000),
        out(0, Some("foo"), Some("a"), 15_000),
        out(0, Some("bar"), None, 30_000),
        out(90, Some("ninety"), None, 17_000),
        out(100, None, Some("newblah"), 20_000),
    ];
    assert_eq!(rows, expected);
    insta::assert_snapshot!(text);
}

/// WITHIN 1 minute GRACE PERIOD 1 minute.
const GRACE_WINDOW: (i64, i64, Option<i64>) = (MINUTE, MINUTE, Some(MINUTE));

#[test]
fn qtt_left_join_with_grace_drops_late_rows_from_the_buffer_and_emits_them_at_once() {
    // `joins/stream stream left join with out of order and custom grace period`: C@90000
    // arrives after B@330000, is not buffered (90000 < 330000 - 180000), joins nothing and its
    // window closed long ago, so it comes out alone at once; c then finds no C.
    let mut join = Join::new(JoinKind::Left, GRACE_WINDOW);
    let arrivals = [
        (L, Some(0), "A", 0),
        (R, Some(0), "a", 60_000),
        (L, Some(1), "B", 330_000),
        (L, Some(2), "C", 90_000),
        (R, Some(2), "c", 90_000),
        (L, Some(3), "D", 60_000),
        (R, Some(3), "d", 60_000),
    ];
    let (rows, text) = join.feed(&arrivals).drain();
    let expected = vec![
        out(0, Some("A"), Some("a"), 60_000),
        out(2, Some("C"), None, 90_000),
        out(3, Some("D"), None, 60_000),
    ];
    assert_eq!(rows, expected, "B waits: no later row closes its window");
    insta::assert_snapshot!(text);
}

#[test]
fn qtt_right_join_with_grace() {
    // `joins/stream stream right join with out of order and custom grace period`.
    let mut join = Join::new(JoinKind::Right, GRACE_WINDOW);
    let arrivals = [
        (L, Some(0), "A", 0),
        (R, Some(0), "a", 60_000),
        (L, Some(1), "B", 330_000),
        (L, Some(2), "C", 90_000),
        (R, Some(2), "c", 90_000),
        (R, Some(3), "d", 60_000),
        (L, Some(3), "D", 90_000),
    ];
    let (rows, _) = join.feed(&arrivals).drain();
    let expected = vec![
        out(0, Some("A"), Some("a"), 60_000),
        out(2, None, Some("c"), 90_000),
        out(3, None, Some("d"), 60_000),
        out(3, Some("D"), Some("d"), 90_000),
    ];
    assert_eq!(rows, expected);
}

#[test]
fn qtt_full_join_with_grace_emits_late_rows_of_both_sides_in_arrival_order() {
    // `joins/stream stream full outer join with out of order and custom grace period`.
    let mut join = Join::new(JoinKind::Outer, GRACE_WINDOW);
    let arrivals = [
        (L, Some(0), "A", 0),
        (R, Some(0), "a", 60_000),
        (R, Some(1), "b", 330_000),
        (R, Some(2), "c", 90_000),
        (L, Some(2), "C", 90_000),
        (R, Some(3), "d", 60_000),
        (L, Some(3), "D", 60_000),
    ];
    let (rows, _) = join.feed(&arrivals).drain();
    let expected = vec![
        out(0, Some("A"), Some("a"), 60_000),
        out(2, None, Some("c"), 90_000),
        out(2, Some("C"), None, 90_000),
        out(3, None, Some("d"), 60_000),
        out(3, Some("D"), None, 60_000),
    ];
    assert_eq!(rows, expected);
}

#[test]
fn matches_come_in_ts_then_arrival_order_duplicates_included() {
    let mut join = Join::new(JoinKind::Inner, (10, 10, None));
    join.feed_batch(
        R,
        &[(Some(1), "r5", 5), (Some(1), "r3", 3), (Some(1), "r5", 5)],
    );
    join.feed_batch(R, &[(Some(2), "other key", 4)]);
    join.feed_batch(L, &[(Some(1), "l4", 4), (Some(1), "l4", 4)]);
    let (rows, text) = join.drain();
    let l4 = |right: &str, ts| out(1, Some("l4"), Some(right), ts);
    let once = [l4("r3", 4), l4("r5", 5), l4("r5", 5)];
    let expected: Vec<Out> = once.iter().chain(once.iter()).cloned().collect();
    assert_eq!(
        rows, expected,
        "each duplicate left row joins each duplicate right row"
    );
    insta::assert_snapshot!(text);
}

#[test]
fn within_before_and_after_bound_each_side_as_kafka_orients_them() {
    // WITHIN (10, 2): a left row at 100 joins right rows in [90, 102]; a right row at t
    // joins left rows in [t - 2, t + 10].
    let rights = [
        (Some(1), "89", 89),
        (Some(1), "90", 90),
        (Some(1), "102", 102),
        (Some(1), "103", 103),
    ];
    let mut join = Join::new(JoinKind::Inner, (10, 2, Some(100)));
    join.feed_batch(R, &rights)
        .feed_batch(L, &[(Some(1), "l100", 100)]);
    join.feed(&[(R, Some(1), "r98", 98), (R, Some(1), "r108", 108)]);
    let (rows, _) = join.drain();
    let expected = vec![
        out(1, Some("l100"), Some("90"), 100),
        out(1, Some("l100"), Some("102"), 102),
        out(1, Some("l100"), Some("r98"), 100),
    ];
    assert_eq!(rows, expected, "r108 would need a left row in [106, 118]");

    // A RIGHT join is ksqlDB's `right.leftJoin(left)` with the same windows: a right row at t
    // joins left rows in [t - 10, t + 2].
    let mut join = Join::new(JoinKind::Right, (10, 2, None));
    let lefts = [
        (Some(1), "89", 89),
        (Some(1), "90", 90),
        (Some(1), "102", 102),
        (Some(1), "103", 103),
    ];
    join.feed_batch(L, &lefts)
        .feed_batch(R, &[(Some(1), "r100", 100)]);
    let (rows, _) = join.drain();
    let expected = vec![
        out(1, Some("90"), Some("r100"), 100),
        out(1, Some("102"), Some("r100"), 102),
    ];
    assert_eq!(rows, expected);
}

#[test]
fn grace_defers_unmatched_rows_until_a_later_row_closes_their_window() {
    // WITHIN 10 GRACE 5: a left row at t is emitted alone by the first row that moves the
    // join's time past t + 10 + 5, before what that row itself produces.
    let mut join = Join::new(JoinKind::Left, (10, 10, Some(5)));
    join.feed(&[(L, Some(1), "A", 0), (L, Some(4), "C", 12)]);
    assert_eq!(join.drain().0, vec![], "A and C wait");
    join.feed(&[(R, Some(4), "c", 16)]);
    let (rows, text) = join.drain();
    let expected = vec![out(1, Some("A"), None, 0), out(4, Some("C"), Some("c"), 16)];
    assert_eq!(rows, expected, "A's window closed at 15; C is matched");
    insta::assert_snapshot!(text);
    join.feed(&[
        (R, Some(3), "b", 12),
        (L, Some(3), "B", 13),
        (L, Some(5), "E", 20),
    ]);
    assert_eq!(join.drain().0, vec![out(3, Some("B"), Some("b"), 13)]);
    join.feed(&[(R, Some(9), "z", 35)]);
    assert_eq!(join.drain().0, vec![], "E closes after 35");
    join.feed(&[(R, Some(9), "z", 36)]);
    assert_eq!(
        join.drain().0,
        vec![out(5, Some("E"), None, 20)],
        "C never comes out alone"
    );
}

#[test]
fn null_keys_join_nothing_preserved_rows_come_out_alone_others_are_reported() {
    let mut join = Join::new(JoinKind::Left, (10, 10, Some(5)));
    join.feed(&[(R, None, "r", 1), (L, None, "l", 2), (R, Some(1), "x", 2)]);
    let (rows, text) = join.drain();
    assert_eq!(rows, vec![(None, Some("l".to_string()), None, 2)]);
    insta::assert_snapshot!(text);

    let mut join = Join::new(JoinKind::Inner, (10, 10, None));
    join.feed(&[(L, None, "l", 2)]);
    let (rows, text) = join.drain();
    assert_eq!(rows, vec![]);
    assert!(text.contains("left row with a NULL join key"), "{text}");
}

/// Arrivals of a GRACE left join (WITHIN 10 GRACE 5): A@0 waits; then z@100 closes its
/// window, and D@50 is emitted at once because the join's time is 100 (its window closed).
const BEFORE_RESTART: [Arrival<'static>; 2] = [(L, Some(1), "A", 0), (R, Some(2), "y", 5)];
const AFTER_RESTART: [Arrival<'static>; 2] = [(R, Some(9), "z", 100), (L, Some(7), "D", 50)];

#[test]
fn a_reopened_operator_emits_the_deferred_rows_an_uninterrupted_one_would() {
    let window = (10, 10, Some(5));
    let mut uninterrupted = Join::new(JoinKind::Left, window);
    uninterrupted.feed(&BEFORE_RESTART).feed(&AFTER_RESTART);
    let (expected, _) = uninterrupted.drain();
    assert_eq!(
        expected,
        vec![out(1, Some("A"), None, 0), out(7, Some("D"), None, 50)]
    );

    let mut join = Join::new(JoinKind::Left, window);
    join.feed(&BEFORE_RESTART);
    join.state.committed(&[]).expect("commit");
    join.harness = Join::operator(JoinKind::Left, window, &mut join.state);
    join.feed(&AFTER_RESTART);
    assert_eq!(join.drain().0, expected);
}

#[test]
fn a_rolled_back_step_reloads_the_times_it_had_moved() {
    let window = (10, 10, Some(5));
    let mut join = Join::new(JoinKind::Left, window);
    join.feed(&BEFORE_RESTART);
    join.state.committed(&[]).expect("commit");
    join.feed(&AFTER_RESTART[..1]);
    assert_eq!(join.drain().0, vec![out(1, Some("A"), None, 0)]);
    join.state.discard();
    join.harness.open();
    // The join's time is 5 again: D@50 moves it to 50, which closes A's window (not D's).
    join.feed(&AFTER_RESTART[1..]);
    assert_eq!(join.drain().0, vec![out(1, Some("A"), None, 0)]);
    join.feed(&AFTER_RESTART[..1]);
    assert_eq!(join.drain().0, vec![out(7, Some("D"), None, 50)]);
}

#[test]
fn stream_time_only_expires_rows_no_probe_can_see() {
    // WITHIN 10 GRACE 0: each buffer keeps 20 ms behind its own observed time.
    let mut join = Join::new(JoinKind::Inner, (10, 10, Some(0)));
    join.feed(&[
        (R, Some(1), "old", 0),
        (R, Some(2), "new", 30),
        (L, Some(1), "l", 5),
    ]);
    let entries = |join: &mut Join, name: &str| {
        let store = join.state.store(name).expect("store");
        store.prefix(b"").expect("scan").len()
    };
    assert_eq!(
        entries(&mut join, "Join-Right-Buffer"),
        4,
        "two rows, two layouts each"
    );
    assert_eq!(
        join.drain().0,
        vec![],
        "r@0 is older than 30 - 20 + 1: invisible"
    );
    join.harness.stream_time(1_000);
    assert_eq!(entries(&mut join, "Join-Right-Buffer"), 2);
    assert_eq!(
        entries(&mut join, "Join-Left-Buffer"),
        2,
        "the left buffer's time is 5"
    );
    assert_eq!(join.drain().1, "", "no output");
}

#[test]
fn stores_and_description_follow_the_join_kind_and_grace() {
    let names = |kind, grace| {
        let decls = StreamStreamJoinOp::store_decls(&spec(kind), grace);
        decls
            .into_iter()
            .map(|d| d.name)
            .collect::<Vec<_>>()
            .join(", ")
    };
    assert_eq!(
        names(JoinKind::Inner, Some(5)),
        "Join-Left-Buffer, Join-Right-Buffer, Join-Time"
    );
    assert_eq!(
        names(JoinKind::Left, None),
        "Join-Left-Buffer, Join-Right-Buffer, Join-Time"
    );
    assert_eq!(
        names(JoinKind::Right, Some(0)),
        "Join-Left-Buffer, Join-Right-Buffer, Join-Unmatched, Join-Time"
    );
    let join = Join::new(JoinKind::Outer, (1, 2, Some(3)));
    let mut harness = join.harness;
    assert_eq!(
        harness.operator().describe(),
        "Join FULL stream-stream WITHIN (before 1 ms, after 2 ms) GRACE 3 ms"
    );
    assert_eq!(harness.operator().stores().len(), 4);
}
