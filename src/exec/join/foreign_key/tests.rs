//! Tests of the foreign-key join: `FkSubscribeOp` alone (the subscription rows of each kind of
//! left change), then both operators in a row, the subscription batches `FkSubscribeOp` emits
//! fed to input 0 of `ForeignKeyJoinOp`, with pretty batches and insta. Three QTT cases are
//! replayed by hand (`fk-join.json`: the inner and left "left value-column expression" cases;
//! `fk-n-way-join.json`: the FK join of "Should allow fk join at start of n-way join").
//!
//! Left input: `| L_ID | NAME | FOREIGN_KEY | ROWTIME | ROWPARTITION | ROWOFFSET |`, keyed by
//! `L_ID`, contributing `NAME`, foreign key `FOREIGN_KEY`; right input: `| R_ID | F1 | ROWTIME
//! | ROWPARTITION | ROWOFFSET |`, keyed by `R_ID`, contributing both. Output:
//! `| L_ID | NAME | R_ID | F1 | ROWTIME | ROWPARTITION | ROWOFFSET |`. Left changes come from
//! partition 0 and right ones from partition 1, so each output row shows which side's change
//! produced it; ROWOFFSET numbers the steps.

use super::{FkSpec, FkSubscribeOp, ForeignKeyJoinOp, Instruction};
use crate::common::Value;
use crate::common::change::ChangeBatch;
use crate::common::change_pretty::to_pretty;
use crate::exec::join::JoinSpec;
use crate::exec::operator::{Operator, StoreDecl};
use crate::exec::query_state::{QueryState, StateLocation, TaskSlot};
use crate::exec::testing::OpHarness;
use crate::plan::logical::JoinKind;
use arrow::datatypes::{DataType, Field, Schema};
use std::sync::Arc;

const LEFT: &str = "| op | L_ID:BIGINT | NAME:STRING | FOREIGN_KEY:BIGINT | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT |";
const RIGHT: &str =
    "| op | R_ID:BIGINT | F1:STRING | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT |";

fn field(name: &str, ty: DataType) -> Field {
    Field::new(name, ty, true)
}

/// The FK join of `kind` in context `Join` over the layouts of the module docs.
fn spec(kind: JoinKind) -> FkSpec {
    let left = Schema::new(vec![
        field("L_ID", DataType::Int64),
        field("NAME", DataType::Utf8),
        field("FOREIGN_KEY", DataType::Int64),
        field("ROWTIME", DataType::Int64),
        field("ROWPARTITION", DataType::Int32),
        field("ROWOFFSET", DataType::Int64),
    ]);
    let output = Schema::new(vec![
        field("L_ID", DataType::Int64),
        field("NAME", DataType::Utf8),
        field("R_ID", DataType::Int64),
        field("F1", DataType::Utf8),
        field("ROWTIME", DataType::Int64),
        field("ROWPARTITION", DataType::Int32),
        field("ROWOFFSET", DataType::Int64),
    ]);
    FkSpec {
        join: JoinSpec {
            kind,
            left_keys: vec![0],
            right_keys: vec![0],
            left_columns: vec![1],
            right_columns: vec![0, 1],
            context: "Join".to_string(),
            schema: Arc::new(output),
        },
        fk_columns: vec![2],
        left_schema: Arc::new(left),
    }
}

fn temporary_state() -> QueryState {
    let location = StateLocation::Temporary {
        changelog_prefix: None,
    };
    QueryState::open(&location).expect("state")
}

/// Batches as one table (`(no rows)` when there are none).
fn pretty(batches: &[ChangeBatch]) -> String {
    let Some(first) = batches.first() else {
        return "(no rows)\n".to_string();
    };
    let all = ChangeBatch::concat(&first.schema(), batches).expect("batches concatenate");
    to_pretty(&all)
}

/// `FkSubscribeOp` then `ForeignKeyJoinOp`, over one state.
struct Pipeline {
    subscribe: OpHarness,
    join: OpHarness,
}

impl Pipeline {
    fn over(kind: JoinKind, state: &mut QueryState) -> Pipeline {
        let slot = TaskSlot::SINGLE;
        let subscribe = FkSubscribeOp::new(spec(kind), state, slot).expect("subscribe");
        let join = ForeignKeyJoinOp::new(spec(kind), state, slot).expect("join");
        Pipeline {
            subscribe: OpHarness::new(subscribe),
            join: OpHarness::new(join),
        }
    }

    /// A batch of left changes (lines in the layout of [`LEFT`]); its subscription rows go on
    /// to the join.
    fn left(&mut self, rows: &str) -> &mut Self {
        self.subscribe.process(0, &format!("{LEFT}\n{rows}"));
        let emitted = self.subscribe.take_emitted();
        assert!(emitted.len() <= 1, "one subscription batch per left batch");
        for batch in emitted {
            self.join.process_batch(0, batch);
        }
        self
    }

    /// A batch of right changes (lines in the layout of [`RIGHT`]).
    fn right(&mut self, rows: &str) -> &mut Self {
        self.join.process(1, &format!("{RIGHT}\n{rows}"));
        self
    }

    /// The joined rows since the last call, as one table, then both operators' other output
    /// (processing-log entries) under their names.
    fn output(&mut self) -> String {
        let batches = self.join.take_emitted();
        let mut text = pretty(&batches);
        for (name, h) in [("subscribe", &mut self.subscribe), ("join", &mut self.join)] {
            let rest = h.output();
            if rest != "(no output)\n" {
                text.push_str(&format!("\n{name}: {rest}"));
            }
        }
        text
    }
}

fn pipeline(kind: JoinKind) -> (Pipeline, QueryState) {
    let mut state = temporary_state();
    let p = Pipeline::over(kind, &mut state);
    (p, state)
}

/// The output rows as QTT records: `key value @ROWTIME`, the value `null` for a `-`.
fn records(p: &mut Pipeline) -> Vec<String> {
    let batches = p.join.take_emitted();
    assert_eq!(p.subscribe.output(), "(no output)\n");
    assert_eq!(p.join.output(), "(no output)\n");
    let mut out = Vec::new();
    for batch in &batches {
        let data = batch.data();
        let cell = |c: usize, row: usize| match Value::from_array(data.column(c).as_ref(), row) {
            Value::Null => "null".to_string(),
            Value::Bigint(v) => v.to_string(),
            Value::String(s) => format!("\"{s}\""),
            other => format!("{other:?}"),
        };
        for row in 0..batch.num_rows() {
            let value = match batch.op(row).is_upsert() {
                true => format!(
                    "{{\"R_ID\": {}, \"NAME\": {}, \"F1\": {}}}",
                    cell(2, row),
                    cell(1, row),
                    cell(3, row)
                ),
                false => "null".to_string(),
            };
            out.push(format!("{} {value} {}", cell(0, row), cell(4, row)));
        }
    }
    out
}

/// Each kind of left change, one per step, and what FkSubscribeOp sends for it.
const CHANGES: &[&str] = &[
    // 1: a new row
    "| + | 1 | a | 10 | 1 | 0 | 1 |",
    // 2: an update, same FK
    "| + | 1 | b | 10 | 2 | 0 | 2 |",
    // 3: an update, FK changed
    "| + | 1 | c | 20 | 3 | 0 | 3 |",
    // 4: an update, FK now NULL
    "| + | 1 | d | null | 4 | 0 | 4 |",
    // 5: an update from a NULL FK
    "| + | 1 | e | 20 | 5 | 0 | 5 |",
    // 6: a deletion
    "| - | 1 | null | null | 6 | 0 | 6 |",
    // 7: a deletion of a key without a row
    "| - | 1 | null | null | 7 | 0 | 7 |",
    // 8: a new row without FK
    "| + | 2 | f | null | 8 | 0 | 8 |",
    // 9: the deletion of a row without FK
    "| - | 2 | null | null | 9 | 0 | 9 |",
    // 10: a U-/U+ pair of a new row (the U- is ignored)
    "| U- | 3 | x | 99 | 10 | 0 | 10 |
     | U+ | 3 | g  | 30 | 10 | 0 | 10 |",
];

/// What FkSubscribeOp of `kind` emits for [`CHANGES`], each step a batch of its own.
fn subscriptions_of_changes(kind: JoinKind) -> String {
    let mut state = temporary_state();
    let op = FkSubscribeOp::new(spec(kind), &mut state, TaskSlot::SINGLE).expect("subscribe");
    let mut h = OpHarness::new(op);
    let mut batches = Vec::new();
    for change in CHANGES {
        h.process(0, &format!("{LEFT}\n{change}"));
        batches.extend(h.take_emitted());
    }
    let log = h.output();
    format!("{}{}", pretty(&batches), log.replace("(no output)\n", ""))
}

/// INNER (instructions 0 DeleteKeyNoPropagate, 1 DeleteKeyAndPropagate, 2
/// PropagateNullIfNoFkValAvailable, 3 PropagateOnlyIfFkValAvailable): a new row or an
/// unchanged FK asks for a joined row only (1, 2, 5: from a NULL FK is new; 10); a changed FK
/// unsubscribes the old one silently and asks the new one for a result or a retraction (3);
/// a NULL FK is reported and retracts the old FK's result (4), or only reported (8); a
/// deletion retracts at its FK (6), and nothing without a row or FK (7, 9).
#[test]
fn inner_subscriptions_follow_kafkas_default_join_instructions() {
    insta::assert_snapshot!(subscriptions_of_changes(JoinKind::Inner), @r"
    | op | FK_0:BIGINT | L_ID:BIGINT | INSTRUCTION:INTEGER | L.NAME:STRING | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT |
    | +  | 10          | 1           | 3                   | a             | 1              | 0                    | 1                |
    | +  | 10          | 1           | 3                   | b             | 2              | 0                    | 2                |
    | +  | 10          | 1           | 0                   | c             | 3              | 0                    | 3                |
    | +  | 20          | 1           | 2                   | c             | 3              | 0                    | 3                |
    | +  | 20          | 1           | 1                   | d             | 4              | 0                    | 4                |
    | +  | 20          | 1           | 3                   | e             | 5              | 0                    | 5                |
    | -  | 20          | 1           | 1                   | null          | 6              | 0                    | 6                |
    | +  | 30          | 3           | 3                   | g             | 10             | 0                    | 10               |
    processing log:
    bad offset=4: A table row with a NULL foreign key is skipped: an inner join cannot join it
    bad offset=8: A table row with a NULL foreign key is skipped: an inner join cannot join it
    ");
}

/// LEFT: every change of an existing or new row asks for a result (2), at its FK or with a
/// NULL FK (4, 6, 8, 9), after unsubscribing a different old FK silently (0: 3, 4, 6); a
/// deletion's row is `-`; only deleting a key without a row sends nothing (7).
#[test]
fn left_subscriptions_follow_kafkas_left_join_instructions() {
    insta::assert_snapshot!(subscriptions_of_changes(JoinKind::Left), @r"
    | op | FK_0:BIGINT | L_ID:BIGINT | INSTRUCTION:INTEGER | L.NAME:STRING | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT |
    | +  | 10          | 1           | 2                   | a             | 1              | 0                    | 1                |
    | +  | 10          | 1           | 2                   | b             | 2              | 0                    | 2                |
    | +  | 10          | 1           | 0                   | c             | 3              | 0                    | 3                |
    | +  | 20          | 1           | 2                   | c             | 3              | 0                    | 3                |
    | +  | 20          | 1           | 0                   | d             | 4              | 0                    | 4                |
    | +  | null        | 1           | 2                   | d             | 4              | 0                    | 4                |
    | +  | 20          | 1           | 2                   | e             | 5              | 0                    | 5                |
    | -  | 20          | 1           | 0                   | null          | 6              | 0                    | 6                |
    | -  | null        | 1           | 2                   | null          | 6              | 0                    | 6                |
    | +  | null        | 2           | 2                   | f             | 8              | 0                    | 8                |
    | -  | null        | 2           | 2                   | null          | 9              | 0                    | 9                |
    | +  | 30          | 3           | 2                   | g             | 10             | 0                    | 10               |
    ");
}

/// The instruction codes are Kafka's `SubscriptionWrapper.Instruction` bytes, and read back.
#[test]
fn instruction_codes_round_trip() {
    for code in 0..4 {
        let instruction = Instruction::from_code(code).expect("a code");
        assert_eq!(instruction.code(), code);
    }
    assert_eq!(Instruction::from_code(4), None);
    assert_eq!(
        Instruction::from_code(1),
        Some(Instruction::DeleteKeyAndPropagate)
    );
}

/// The subscription schema and the exchange positions: FK columns first.
#[test]
fn subscription_batches_have_the_fk_then_the_left_key_instruction_and_row() {
    let spec = spec(JoinKind::Inner);
    let schema = FkSubscribeOp::subscription_schema(&spec);
    let fields: Vec<String> = (schema.fields().iter())
        .map(|f| format!("{}:{}", f.name(), f.data_type()))
        .collect();
    assert_eq!(
        fields,
        [
            "FK_0:Int64",
            "L_ID:Int64",
            "INSTRUCTION:Int32",
            "L.NAME:Utf8",
            "ROWTIME:Int64",
            "ROWPARTITION:Int32",
            "ROWOFFSET:Int64"
        ]
    );
    assert_eq!(FkSubscribeOp::fk_positions(&spec), [0]);
}

/// The input of fk-join.json, "Should support inner join with left value-column expression",
/// through an INNER pipeline.
fn qtt_inner_join_case() -> (Pipeline, QueryState) {
    let (mut p, state) = pipeline(JoinKind::Inner);
    p.right("| + | 0 | blah | 0 | 1 | 1 |")
        .left("| + | 1 | zero | 0 | 10000 | 0 | 2 |")
        .left("| + | 0 | foo | 100 | 13000 | 0 | 3 |")
        .right("| + | 0 | a | 15000 | 1 | 4 |")
        .left("| + | 10 | bar | 0 | 16000 | 0 | 5 |")
        .right("| - | 0 | null | 17000 | 1 | 6 |")
        .left("| - | 1 | null | null | 18000 | 0 | 7 |");
    (p, state)
}

/// fk-join.json, "Should support inner join with left value-column expression": both
/// tombstones at 17000 (the right row's deletion), and the second one for key 1 at 18000 (its
/// deletion, although it no longer joined).
#[test]
fn qtt_inner_join_with_left_value_column_expression() {
    let (mut p, _state) = qtt_inner_join_case();
    let expected = [
        "1 {\"R_ID\": 0, \"NAME\": \"zero\", \"F1\": \"blah\"} 10000",
        "1 {\"R_ID\": 0, \"NAME\": \"zero\", \"F1\": \"a\"} 15000",
        "10 {\"R_ID\": 0, \"NAME\": \"bar\", \"F1\": \"a\"} 16000",
        "1 null 17000",
        "10 null 17000",
        "1 null 18000",
    ];
    assert_eq!(records(&mut p), expected);
}

/// The same case as batches: what each `-` carries besides its key.
#[test]
fn qtt_inner_join_rows_as_emitted() {
    let (mut p, _state) = qtt_inner_join_case();
    insta::assert_snapshot!(p.output(), @r"
    | op | L_ID:BIGINT | NAME:STRING | R_ID:BIGINT | F1:STRING | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT |
    | +  | 1           | zero        | 0           | blah      | 10000          | 0                    | 2                |
    | +  | 1           | zero        | 0           | a         | 15000          | 1                    | 4                |
    | +  | 10          | bar         | 0           | a         | 16000          | 0                    | 5                |
    | -  | 1           | zero        | 0           | a         | 17000          | 1                    | 6                |
    | -  | 10          | bar         | 0           | a         | 17000          | 1                    | 6                |
    | -  | 1           | zero        | null        | null      | 18000          | 0                    | 7                |
    ");
}

/// fk-join.json, "Should support left join with left value-column expression": a left row
/// without a right row joins NULLs (0, 13000), the right row's deletion leaves both left rows
/// with NULLs (17000), and each left deletion is a tombstone.
#[test]
fn qtt_left_join_with_left_value_column_expression() {
    let (mut p, _state) = pipeline(JoinKind::Left);
    p.left("| + | 1 | zero | 0 | 0 | 0 | 1 |")
        .right("| + | 0 | blah | 10000 | 1 | 2 |")
        .left("| + | 1 | zero | 0 | 11000 | 0 | 3 |")
        .left("| + | 0 | foo | 100 | 13000 | 0 | 4 |")
        .right("| + | 0 | a | 15000 | 1 | 5 |")
        .left("| + | 10 | bar | 0 | 16000 | 0 | 6 |")
        .right("| - | 0 | null | 17000 | 1 | 7 |")
        .left("| - | 1 | null | null | 18000 | 0 | 8 |")
        .left("| - | 0 | null | null | 19000 | 0 | 9 |");
    let expected = [
        "1 {\"R_ID\": null, \"NAME\": \"zero\", \"F1\": null} 0",
        "1 {\"R_ID\": 0, \"NAME\": \"zero\", \"F1\": \"blah\"} 10000",
        "1 {\"R_ID\": 0, \"NAME\": \"zero\", \"F1\": \"blah\"} 11000",
        "0 {\"R_ID\": null, \"NAME\": \"foo\", \"F1\": null} 13000",
        "1 {\"R_ID\": 0, \"NAME\": \"zero\", \"F1\": \"a\"} 15000",
        "10 {\"R_ID\": 0, \"NAME\": \"bar\", \"F1\": \"a\"} 16000",
        "1 {\"R_ID\": null, \"NAME\": \"zero\", \"F1\": null} 17000",
        "10 {\"R_ID\": null, \"NAME\": \"bar\", \"F1\": null} 17000",
        "1 null 18000",
        "0 null 19000",
    ];
    assert_eq!(records(&mut p), expected);
}

/// fk-n-way-join.json, "Should allow fk join at start of n-way join", its FK join (the middle
/// table on the right): moving key 1 from FK 0 to FK 8 is one joined row, no tombstone first.
#[test]
fn qtt_fk_change_at_the_start_of_an_n_way_join_is_one_upsert() {
    let (mut p, _state) = pipeline(JoinKind::Inner);
    p.right("| + | 0 | unused | 0 | 1 | 1 |")
        .left("| + | 1 | x | 0 | 10000 | 0 | 2 |")
        .right("| + | 8 | unused | 13000 | 1 | 3 |")
        .left("| + | 1 | x | 8 | 16000 | 0 | 4 |")
        .left("| - | 1 | null | null | 18000 | 0 | 5 |");
    insta::assert_snapshot!(p.output(), @r"
    | op | L_ID:BIGINT | NAME:STRING | R_ID:BIGINT | F1:STRING | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT |
    | +  | 1           | x           | 0           | unused    | 10000          | 0                    | 2                |
    | +  | 1           | x           | 8           | unused    | 16000          | 0                    | 4                |
    | -  | 1           | x           | 8           | unused    | 18000          | 0                    | 5                |
    ");
}

/// A FK change: to a FK with a right row, one upsert; to one without, INNER retracts the key's
/// row and LEFT keeps it with NULLs; the old FK's right changes no longer reach the key, the
/// new one's do (the subscription stands even when it answered with a retraction).
fn fk_changes(kind: JoinKind) -> String {
    let (mut p, _state) = pipeline(kind);
    p.right(
        "| + | 7 | x | 1 | 1 | 1 |
         | + | 8 | y | 2 | 1 | 2 |",
    )
    .left("| + | 1 | a | 7 | 10 | 0 | 3 |")
    .left("| + | 1 | a | 8 | 11 | 0 | 4 |")
    .left("| + | 1 | a | 9 | 12 | 0 | 5 |")
    .right("| + | 7 | x2 | 20 | 1 | 6 |")
    .right("| + | 8 | y2 | 21 | 1 | 7 |")
    .right("| + | 9 | z | 22 | 1 | 8 |");
    p.output()
}

#[test]
fn inner_fk_change_upserts_or_retracts_and_moves_the_subscription() {
    insta::assert_snapshot!(fk_changes(JoinKind::Inner), @r"
    | op | L_ID:BIGINT | NAME:STRING | R_ID:BIGINT | F1:STRING | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT |
    | +  | 1           | a           | 7           | x         | 10             | 0                    | 3                |
    | +  | 1           | a           | 8           | y         | 11             | 0                    | 4                |
    | -  | 1           | a           | null        | null      | 12             | 0                    | 5                |
    | +  | 1           | a           | 9           | z         | 22             | 1                    | 8                |
    ");
}

#[test]
fn left_fk_change_to_a_fk_without_a_row_keeps_the_left_row_with_nulls() {
    insta::assert_snapshot!(fk_changes(JoinKind::Left), @r"
    | op | L_ID:BIGINT | NAME:STRING | R_ID:BIGINT | F1:STRING | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT |
    | +  | 1           | a           | 7           | x         | 10             | 0                    | 3                |
    | +  | 1           | a           | 8           | y         | 11             | 0                    | 4                |
    | +  | 1           | a           | null        | null      | 12             | 0                    | 5                |
    | +  | 1           | a           | 9           | z         | 22             | 1                    | 8                |
    ");
}

/// A right change reaches every left row subscribed to its key, in key order, and none
/// other; a deletion retracts them (INNER) or leaves them with NULLs (LEFT), also when the
/// key has no row any more (Kafka's `Change(null, null)`); a `U-` does nothing.
fn right_fan_out(kind: JoinKind) -> String {
    let (mut p, _state) = pipeline(kind);
    p.left(
        "| + | 3 | c | 7 | 1 | 0 | 1 |
         | + | 1 | a | 7 | 2 | 0 | 2 |
         | + | 2 | b | 7 | 3 | 0 | 3 |
         | + | 4 | d | 8 | 4 | 0 | 4 |",
    );
    let before = p.output();
    p.right(
        "| +  | 7 | x | 10 | 1 | 5 |
         | +  | 8 | y | 11 | 1 | 6 |
         | U- | 7 | x | 12 | 1 | 7 |
         | U+ | 7 | z | 12 | 1 | 7 |",
    )
    .right("| - | 7 | null | 20 | 1 | 8 |")
    .right("| - | 7 | null | 21 | 1 | 9 |");
    format!("before any right row:\n{before}\n{}", p.output())
}

#[test]
fn inner_right_changes_fan_out_to_every_subscriber() {
    insta::assert_snapshot!(right_fan_out(JoinKind::Inner), @r"
    before any right row:
    (no rows)

    | op | L_ID:BIGINT | NAME:STRING | R_ID:BIGINT | F1:STRING | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT |
    | +  | 1           | a           | 7           | x         | 10             | 1                    | 5                |
    | +  | 2           | b           | 7           | x         | 10             | 1                    | 5                |
    | +  | 3           | c           | 7           | x         | 10             | 1                    | 5                |
    | +  | 4           | d           | 8           | y         | 11             | 1                    | 6                |
    | +  | 1           | a           | 7           | z         | 12             | 1                    | 7                |
    | +  | 2           | b           | 7           | z         | 12             | 1                    | 7                |
    | +  | 3           | c           | 7           | z         | 12             | 1                    | 7                |
    | -  | 1           | a           | 7           | z         | 20             | 1                    | 8                |
    | -  | 2           | b           | 7           | z         | 20             | 1                    | 8                |
    | -  | 3           | c           | 7           | z         | 20             | 1                    | 8                |
    | -  | 1           | a           | null        | null      | 21             | 1                    | 9                |
    | -  | 2           | b           | null        | null      | 21             | 1                    | 9                |
    | -  | 3           | c           | null        | null      | 21             | 1                    | 9                |
    ");
}

#[test]
fn left_right_deletions_leave_every_subscriber_with_nulls() {
    insta::assert_snapshot!(right_fan_out(JoinKind::Left), @r"
    before any right row:
    | op | L_ID:BIGINT | NAME:STRING | R_ID:BIGINT | F1:STRING | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT |
    | +  | 3           | c           | null        | null      | 1              | 0                    | 1                |
    | +  | 1           | a           | null        | null      | 2              | 0                    | 2                |
    | +  | 2           | b           | null        | null      | 3              | 0                    | 3                |
    | +  | 4           | d           | null        | null      | 4              | 0                    | 4                |

    | op | L_ID:BIGINT | NAME:STRING | R_ID:BIGINT | F1:STRING | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT |
    | +  | 1           | a           | 7           | x         | 10             | 1                    | 5                |
    | +  | 2           | b           | 7           | x         | 10             | 1                    | 5                |
    | +  | 3           | c           | 7           | x         | 10             | 1                    | 5                |
    | +  | 4           | d           | 8           | y         | 11             | 1                    | 6                |
    | +  | 1           | a           | 7           | z         | 12             | 1                    | 7                |
    | +  | 2           | b           | 7           | z         | 12             | 1                    | 7                |
    | +  | 3           | c           | 7           | z         | 12             | 1                    | 7                |
    | +  | 1           | a           | null        | null      | 20             | 1                    | 8                |
    | +  | 2           | b           | null        | null      | 20             | 1                    | 8                |
    | +  | 3           | c           | null        | null      | 20             | 1                    | 8                |
    | +  | 1           | a           | null        | null      | 21             | 1                    | 9                |
    | +  | 2           | b           | null        | null      | 21             | 1                    | 9                |
    | +  | 3           | c           | null        | null      | 21             | 1                    | 9                |
    ");
}

/// ROWTIME: a left change's result is `max(left, right)`; a right change's results carry the
/// right change's own ROWTIME even when the left row is later (Kafka's
/// `ForeignTableJoinProcessorSupplier` forwards the right record's timestamp).
#[test]
fn left_results_take_the_later_rowtime_right_results_their_own() {
    let (mut p, _state) = pipeline(JoinKind::Inner);
    p.right("| + | 7 | x | 200 | 1 | 1 |")
        .left("| + | 1 | a | 7 | 100 | 0 | 2 |")
        .left("| + | 1 | b | 7 | 300 | 0 | 3 |")
        .right("| + | 7 | y | 150 | 1 | 4 |");
    insta::assert_snapshot!(p.output(), @r"
    | op | L_ID:BIGINT | NAME:STRING | R_ID:BIGINT | F1:STRING | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT |
    | +  | 1           | a           | 7           | x         | 200            | 0                    | 2                |
    | +  | 1           | b           | 7           | x         | 300            | 0                    | 3                |
    | +  | 1           | b           | 7           | y         | 150            | 1                    | 4                |
    ");
}

/// NULL foreign keys: INNER reports every upsert without FK and retracts the key's joined row
/// when it had a FK; LEFT emits the left row with NULLs. Either way the old FK's right changes
/// no longer reach the key, and a FK set again joins.
fn null_fks(kind: JoinKind) -> String {
    let (mut p, _state) = pipeline(kind);
    p.right("| + | 7 | x | 1 | 1 | 1 |")
        .left("| + | 1 | a | 7 | 2 | 0 | 2 |")
        .left("| + | 1 | b | null | 3 | 0 | 3 |")
        .right("| + | 7 | y | 4 | 1 | 4 |")
        .left("| + | 1 | c | 7 | 5 | 0 | 5 |")
        .left("| + | 2 | d | null | 6 | 0 | 6 |")
        .left("| - | 2 | null | null | 7 | 0 | 7 |");
    p.output()
}

#[test]
fn inner_null_fks_are_reported_and_retract_the_old_result() {
    insta::assert_snapshot!(null_fks(JoinKind::Inner), @r"
    | op | L_ID:BIGINT | NAME:STRING | R_ID:BIGINT | F1:STRING | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT |
    | +  | 1           | a           | 7           | x         | 2              | 0                    | 2                |
    | -  | 1           | a           | 7           | x         | 3              | 0                    | 3                |
    | +  | 1           | c           | 7           | y         | 5              | 0                    | 5                |

    subscribe: processing log:
    bad offset=3: A table row with a NULL foreign key is skipped: an inner join cannot join it
    bad offset=6: A table row with a NULL foreign key is skipped: an inner join cannot join it
    ");
}

#[test]
fn left_null_fks_join_nulls() {
    insta::assert_snapshot!(null_fks(JoinKind::Left), @r"
    | op | L_ID:BIGINT | NAME:STRING | R_ID:BIGINT | F1:STRING | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT |
    | +  | 1           | a           | 7           | x         | 2              | 0                    | 2                |
    | +  | 1           | b           | null        | null      | 3              | 0                    | 3                |
    | +  | 1           | c           | 7           | y         | 5              | 0                    | 5                |
    | +  | 2           | d           | null        | null      | 6              | 0                    | 6                |
    | -  | 2           | null        | null        | null      | 7              | 0                    | 7                |
    ");
}

/// NULL left and right keys are skipped and reported by the operator that reads them.
#[test]
fn null_keys_are_skipped_and_reported() {
    let (mut p, _state) = pipeline(JoinKind::Left);
    p.left("| + | null | a | 7 | 1 | 0 | 1 |")
        .right("| + | null | x | 2 | 1 | 2 |");
    insta::assert_snapshot!(p.output(), @r"
    (no rows)

    subscribe: processing log:
    bad offset=1: A table row with a NULL key is skipped: it cannot be joined

    join: processing log:
    bad offset=2: A table row with a NULL key is skipped: it cannot be joined
    ");
}

/// Both operators' state outlives them: after a commit and a reopened state, a FK change
/// unsubscribes the FK of before (from `Left-Fks`), right changes reach the subscriptions of
/// before, and deleting a left row of before retracts it.
#[test]
fn reopened_operators_continue_from_their_stores() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let location = StateLocation::Durable {
        path: dir.path().join("state"),
        changelog_prefix: "q".to_string(),
    };
    let mut state = QueryState::open(&location).expect("state");
    let mut p = Pipeline::over(JoinKind::Inner, &mut state);
    p.right("| + | 7 | x | 1 | 1 | 1 |").left(
        "| + | 1 | a | 7 | 2 | 0 | 2 |
             | + | 2 | b | 7 | 3 | 0 | 3 |",
    );
    let before = p.output();
    drop(p);
    state.committed(&[]).expect("the state flushes");
    drop(state);

    let mut state = QueryState::open(&location).expect("state reopens");
    let mut p = Pipeline::over(JoinKind::Inner, &mut state);
    p.left("| + | 1 | a | 8 | 10 | 0 | 4 |")
        .right("| + | 7 | y | 11 | 1 | 5 |")
        .right("| + | 8 | z | 12 | 1 | 6 |")
        .left("| - | 2 | null | null | 13 | 0 | 7 |")
        .right("| + | 7 | w | 14 | 1 | 8 |");
    insta::assert_snapshot!(format!("{before}\nreopened:\n{}", p.output()), @r"
    | op | L_ID:BIGINT | NAME:STRING | R_ID:BIGINT | F1:STRING | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT |
    | +  | 1           | a           | 7           | x         | 2              | 0                    | 2                |
    | +  | 2           | b           | 7           | x         | 3              | 0                    | 3                |

    reopened:
    | op | L_ID:BIGINT | NAME:STRING | R_ID:BIGINT | F1:STRING | ROWTIME:BIGINT | ROWPARTITION:INTEGER | ROWOFFSET:BIGINT |
    | -  | 1           | a           | null        | null      | 10             | 0                    | 4                |
    | +  | 2           | b           | 7           | y         | 11             | 1                    | 5                |
    | +  | 1           | a           | 8           | z         | 12             | 1                    | 6                |
    | -  | 2           | b           | 7           | y         | 13             | 0                    | 7                |
    ");
}

/// EXPLAIN's stores are the ones the operators open, in the join's context.
#[test]
fn the_operators_declare_the_stores_they_open() {
    let location = StateLocation::Temporary {
        changelog_prefix: Some("q".to_string()),
    };
    let mut state = QueryState::open(&location).expect("state");
    let spec = spec(JoinKind::Left);
    let slot = TaskSlot::SINGLE;
    let subscribe = FkSubscribeOp::new(spec.clone(), &mut state, slot).expect("subscribe");
    let join = ForeignKeyJoinOp::new(spec.clone(), &mut state, slot).expect("join");
    let subscribe_stores = vec![StoreDecl::new("Join-Left-Fks", "key-value")];
    let join_stores = vec![
        StoreDecl::new("Join-Right-Rows", "key-value"),
        StoreDecl::new("Join-Subscriptions", "key-value"),
    ];
    assert_eq!(FkSubscribeOp::store_decls(&spec), subscribe_stores);
    assert_eq!(subscribe.stores(), subscribe_stores);
    assert_eq!(ForeignKeyJoinOp::store_decls(&spec), join_stores);
    assert_eq!(join.stores(), join_stores);
    assert_eq!(
        state.changelog_topics(),
        [
            "q-Join-Left-Fks-changelog",
            "q-Join-Right-Rows-changelog",
            "q-Join-Subscriptions-changelog"
        ]
    );
    assert!(FkSubscribeOp::describe_for(&spec).contains("foreign-key LEFT"));
    assert!(ForeignKeyJoinOp::describe_for(&spec).contains("foreign-key LEFT"));
}

/// A spec the operators cannot run is refused by `check`, and by the operators as an error.
#[test]
fn specs_the_operators_cannot_run_are_refused() {
    let mut right = spec(JoinKind::Right);
    assert_eq!(
        right.check(),
        Err("a foreign-key join is INNER or LEFT, not RIGHT".to_string())
    );
    right.join.kind = JoinKind::Inner;
    assert_eq!(right.check(), Ok(()));
    let mut two = right.clone();
    two.fk_columns = vec![2, 2];
    assert!(
        two.check()
            .is_err_and(|e| e.contains("one foreign-key column per right key"))
    );
    let mut outside = right.clone();
    outside.fk_columns = vec![6];
    assert!(
        outside
            .check()
            .is_err_and(|e| e.contains("outside its 6 input columns"))
    );
    let mut narrow = right.clone();
    narrow.join.right_columns = vec![1];
    assert!(
        narrow
            .check()
            .is_err_and(|e| e.contains("not the 6 its inputs give"))
    );

    let mut state = temporary_state();
    let mut op = ForeignKeyJoinOp::new(narrow, &mut state, TaskSlot::SINGLE).expect("join");
    let mut log = crate::exec::processing_log::MemoryProcessingLog::default();
    let mut outputs = crate::exec::operator::Outputs::default();
    let origin = crate::exec::operator::Origin::default();
    let mut ctx = crate::exec::operator::Ctx::new("q", &origin, &mut log, &mut outputs);
    let batch =
        crate::common::change_pretty::from_pretty(&format!("{RIGHT}\n| + | 7 | x | 1 | 1 | 1 |"))
            .expect("batch");
    let err = op.process(1, batch, &mut ctx).expect_err("refused");
    assert!(
        err.to_string().contains("not the 6 its inputs give"),
        "{err}"
    );
}
