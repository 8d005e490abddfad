//! The column-wise writer (`RowWriter`, straight from Arrow arrays) must write the same bytes
//! as `serialize`, and fail with the same messages.

use super::*;
use crate::common::{ArrayView, values_to_array};
use crate::format::RowWriter;

/// Writes every row of `rows` (one value per column) both ways and compares.
fn assert_same_bytes(spec: &FormatSpec, part: Part, columns: &[ColumnSpec], rows: &[Vec<Value>]) {
    let arrays: Vec<_> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let column: Vec<Value> = rows.iter().map(|r| r[i].clone()).collect();
            values_to_array(&column, &c.sql_type)
        })
        .collect();
    let views: Vec<ArrayView<'_>> = arrays.iter().map(|a| ArrayView::new(a.as_ref())).collect();
    let writer = RowWriter::new(spec, part, columns);
    for (row, values) in rows.iter().enumerate() {
        let mut out = b"prefix".to_vec();
        let written = writer
            .write(&views, row, &mut out)
            .map(|some| some.then(|| out[6..].to_vec()));
        let expected = super::super::serialize(spec, part, columns, values);
        assert_eq!(
            written, expected,
            "{values:?} as {columns:?}, {spec:?} {part:?}"
        );
    }
}

fn doubles() -> Vec<f64> {
    vec![
        0.0,
        -0.0,
        1.0,
        -1.5,
        12.5,
        0.001,
        0.0001,
        1e7,
        9999999.0,
        1e21,
        1.0e-7,
        123456789.125,
        f64::MAX,
        f64::MIN_POSITIVE,
        5e-324,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        0.1 + 0.2,
    ]
}

fn strings() -> Vec<&'static str> {
    vec![
        "",
        "plain",
        "quote\"back\\slash",
        "\u{8}\t\u{c}\n\r",
        "\u{1}\u{1f}\u{7f}",
        "é😀",
        "/",
    ]
}

#[test]
fn json_objects_are_written_as_serialize_writes_them() {
    let columns = [
        col("S", SqlType::String),
        col("I", SqlType::Int),
        col("L", SqlType::Bigint),
        col("D", SqlType::Double),
        col("B", SqlType::Boolean),
        col("TS", SqlType::Timestamp),
        col("DT", SqlType::Date),
        col("T", SqlType::Time),
        col("DEC", SqlType::decimal(6, 3)),
        col("BY", SqlType::Bytes),
        col("A", SqlType::array(SqlType::Double)),
        col("M", SqlType::map(SqlType::String, SqlType::Int)),
        col(
            "lower \"q\"",
            SqlType::Struct(vec![field("X", SqlType::String)]),
        ),
    ];
    let rows: Vec<Vec<Value>> = doubles()
        .into_iter()
        .zip(strings().into_iter().cycle())
        .enumerate()
        .map(|(i, (d, s))| {
            let n = i as i32 - 5;
            vec![
                string(s),
                Value::Int(n * 1_000_003),
                Value::Bigint(i64::from(n) << 40),
                Value::Double(d),
                Value::Boolean(i % 2 == 0),
                Value::Timestamp(i64::from(n) * 86_400_000),
                Value::Date(n),
                Value::Time(i as i32 * 1000),
                Value::Decimal(i128::from(n) * 1234, 3),
                Value::Bytes(s.as_bytes().to_vec()),
                Value::Array(vec![Value::Double(d), Value::Null]),
                Value::Map(vec![(string(s), Value::Int(n))]),
                Value::Struct(vec![("X".into(), string(s))]),
            ]
        })
        .collect();
    assert_same_bytes(&spec(FormatKind::Json), Part::Value, &columns, &rows);
    let nulls = vec![vec![Value::Null; columns.len()]];
    assert_same_bytes(&spec(FormatKind::Json), Part::Value, &columns, &nulls);
    assert_same_bytes(&spec(FormatKind::Json), Part::Value, &[], &[vec![]]);
}

#[test]
fn single_columns_are_written_as_serialize_writes_them() {
    let cases: Vec<(SqlType, Vec<Value>)> = vec![
        (
            SqlType::String,
            strings()
                .into_iter()
                .map(string)
                .chain([Value::Null])
                .collect(),
        ),
        (
            SqlType::Int,
            vec![Value::Int(-3), Value::Int(i32::MAX), Value::Null],
        ),
        (SqlType::Bigint, vec![Value::Bigint(i64::MIN), Value::Null]),
        (
            SqlType::Double,
            doubles().into_iter().map(Value::Double).collect(),
        ),
        (
            SqlType::Bytes,
            vec![Value::Bytes(vec![0, 255]), Value::Null],
        ),
        (
            SqlType::decimal(4, 2),
            vec![Value::Decimal(-1234, 2), Value::Null],
        ),
    ];
    for (sql_type, values) in cases {
        let columns = [col("V", sql_type)];
        let rows: Vec<Vec<Value>> = values.into_iter().map(|v| vec![v]).collect();
        for (kind, part) in [
            (spec(FormatKind::Json), Part::Key),
            (spec(FormatKind::Json), Part::Value),
            (unwrapped(FormatKind::Json), Part::Value),
            (spec(FormatKind::Kafka), Part::Key),
            (spec(FormatKind::Kafka), Part::Value),
            (spec(FormatKind::Delimited), Part::Key),
            (spec(FormatKind::None), Part::Key),
        ] {
            assert_same_bytes(&kind, part, &columns, &rows);
        }
    }
}

#[test]
fn decimals_that_do_not_fit_fail_as_serialize_fails() {
    // The array holds more digits than the column's precision allows.
    let columns = [col("D", SqlType::decimal(3, 1))];
    let rows = vec![vec![Value::Decimal(123_456, 1)]];
    assert_same_bytes(&spec(FormatKind::Json), Part::Value, &columns, &rows);
}
