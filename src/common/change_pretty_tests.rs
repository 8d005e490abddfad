//! Tests of the change batch text form: round trips, what `to_pretty` prints for batches built
//! in Arrow, and the errors `from_pretty` gives.

use super::*;
use arrow::array::{Array, ArrayRef, Float64Array, StringArray, UInt8Array};

/// A table written indented in the test source: its lines trimmed, blank ones left out.
fn table(indented: &str) -> String {
    let lines = indented.lines().map(str::trim).filter(|l| !l.is_empty());
    lines.map(|l| format!("{l}\n")).collect()
}

#[test]
fn every_readable_type_round_trips() {
    let table = table(
        r#"
        | op | K:STRING | V:BIGINT | I:INTEGER | D:DOUBLE | B:BOOLEAN | M:DECIMAL(6, 2) | A:ARRAY<STRING> | N:ARRAY<ARRAY<INTEGER>> | T:TIMESTAMP |
        | +  | a        | 1        | -7        | 1.5      | true      | 12.30           | ["x", null]     | [[1, 2], []]            | 1000        |
        | -  | ""       | null     | null      | 1e20     | false     | -0.05           | []              | null                    | null        |
        | U- | "a|b"    | -3       | 0         | NaN      | null      | null            | ["with, comma"] | [null, [3]]             | 0           |
        | U+ | "null"   | 9        | 2         | -0.0     | true      | 0.00            | null            | [[null]]                | -5          |
        "#,
    );
    let batch = from_pretty(&table).expect("parses");
    assert_eq!(
        batch.ops(),
        [Op::Insert, Op::Delete, Op::UpdateBefore, Op::UpdateAfter]
    );
    let keys = batch.column("K").expect("K");
    let keys = keys.as_any().downcast_ref::<StringArray>().expect("utf8");
    assert_eq!(
        (keys.value(0), keys.value(1), keys.value(2), keys.value(3)),
        ("a", "", "a|b", "null")
    );
    let v = batch.int64("V").expect("V");
    assert!(v.is_null(1));
    assert_eq!((v.value(0), v.value(2)), (1, -3));
    assert_eq!(batch.int32("I").expect("I").value(0), -7);
    let m = batch.column("M").expect("M");
    assert_eq!(m.data_type(), &DataType::Decimal128(6, 2));
    assert_eq!(Value::from_array(m.as_ref(), 0), Value::Decimal(1230, 2));
    assert_eq!(
        Value::from_array(batch.column("A").expect("A").as_ref(), 0),
        Value::Array(vec![Value::String("x".into()), Value::Null])
    );
    assert_eq!(to_pretty(&batch), table);
}

#[test]
fn to_pretty_prints_a_batch_built_in_arrow() {
    let schema = Arc::new(Schema::new(vec![
        Field::new("S", DataType::Utf8, true),
        Field::new("D", DataType::Float64, true),
        Field::new("U", DataType::UInt8, true),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(vec![
            Some(" pad"),
            None,
            Some("say \"hi\""),
        ])),
        Arc::new(Float64Array::from(vec![Some(1.0), Some(0.25), None])),
        Arc::new(UInt8Array::from(vec![7, 8, 9])),
    ];
    let data = RecordBatch::try_new(schema, columns).expect("batch");
    let ops = vec![Op::Insert, Op::Delete, Op::UpdateAfter];
    let batch = ChangeBatch::new(data, ops).expect("ops");
    let expected = table(
        r#"
        | op | S:STRING     | D:DOUBLE | U:UInt8 |
        | +  | " pad"       | 1.0      | 7       |
        | -  | null         | 0.25     | 8       |
        | U+ | "say \"hi\"" | null     | 9       |
        "#,
    );
    assert_eq!(to_pretty(&batch), expected);
}

#[test]
fn the_op_column_is_optional_and_spacing_is_free() {
    let batch = from_pretty(
        "
        |K:string|ROWTIME:bigint|
          | a |10|

        |b    | 20 |
        ",
    )
    .expect("parses");
    assert!(batch.is_insert_only());
    assert_eq!(batch.int64("ROWTIME").expect("ROWTIME").values(), &[10, 20]);
    let expected = table(
        "
        | op | K:STRING | ROWTIME:BIGINT |
        | +  | a        | 10             |
        | +  | b        | 20             |
        ",
    );
    assert_eq!(to_pretty(&batch), expected);
}

#[test]
fn a_header_alone_is_an_empty_batch_and_a_batch_may_have_no_columns() {
    let empty = from_pretty("| op | V:BIGINT |").expect("parses");
    assert!(empty.is_empty());
    assert_eq!(empty.schema().field(0).data_type(), &DataType::Int64);
    assert_eq!(to_pretty(&empty), "| op | V:BIGINT |\n");
    let ops_only = from_pretty("| op |\n| - |\n| + |").expect("parses");
    assert_eq!(ops_only.ops(), [Op::Delete, Op::Insert]);
    assert_eq!(to_pretty(&ops_only), "| op |\n| -  |\n| +  |\n");
}

#[test]
fn errors_name_the_line_and_column() {
    let cases = [
        ("", "no header line"),
        (
            "| V:BIGINT |\n| x |",
            "line 2, column V: `x` is not a valid BIGINT",
        ),
        ("| op | V:BIGINT |\n| * | 1 |", "line 2: unknown op `*`"),
        (
            "| op | V:BIGINT |\n| + | 1 | 2 |",
            "line 2: 3 cells under a header of 2",
        ),
        ("\n| V:BLOB |", "line 2: column V: unsupported type `BLOB`"),
        ("| V |", "line 1: column `V` is not NAME:TYPE"),
        (
            "| V:DECIMAL(2, 3) |",
            "line 1: column V: bad type `DECIMAL(2, 3)`",
        ),
        (
            "| V:DECIMAL(3, 1) |\n| 123.4 |",
            "line 2, column V: `123.4` is not a valid DECIMAL(3, 1)",
        ),
        ("| V:STRING |\n| \"open |", "line 2: a string is not closed"),
        ("| V:STRING |\n  a |", "line 2: a line starts with `|`"),
        ("| V:STRING |\n| a | b", "line 2: a line ends with `|`"),
        (
            "| V:BIGINT |\n| 1 2 |",
            "line 2, column V: `1 2` is not a valid BIGINT",
        ),
        ("| V:BIGINT |\n|  |", "line 2, column V: no BIGINT value"),
        (
            "| V:STRING |\n| \"a\" b |",
            "line 2, column V: unexpected `b` after the value",
        ),
        (
            "| A:ARRAY<INT> |\n| [1; 2] |",
            "column A: `1; 2` is not a valid INTEGER",
        ),
        (
            "| A:ARRAY<INT> |\n| [1 |",
            "column A: an ARRAY's items are separated by `,`",
        ),
        (
            "| A:ARRAY<INT> |\n| 1 |",
            "line 2, column A: `1` is not an ARRAY",
        ),
        (
            "| B:BOOLEAN |\n| yes |",
            "line 2, column B: `yes` is not a valid BOOLEAN",
        ),
    ];
    for (input, expected) in cases {
        let error = from_pretty(input).expect_err(input);
        assert!(
            error.contains(expected),
            "{input:?}: {error:?} does not say {expected:?}"
        );
    }
}

#[test]
fn bare_strings_are_those_that_read_back_as_themselves() {
    for s in ["a", "a b", "[1]", "1", "é", "a,b", "x]"] {
        assert!(is_bare(s), "{s:?}");
    }
    for s in ["", "null", " a", "a ", "a|b", "a\"b", "a\\b", "a\nb"] {
        assert!(!is_bare(s), "{s:?}");
        let table = format!("| S:STRING |\n| {} |", cell_text(&Value::String(s.into())));
        let batch = from_pretty(&table).expect(s);
        let column = batch.column("S").expect("S");
        assert_eq!(
            Value::from_array(column.as_ref(), 0),
            Value::String(s.into())
        );
    }
}
