//! The JSON format, writing: Connect's compact JSON with Jackson's number text; round trips.

use super::{col, field, read, spec, string, unwrapped, write};
use crate::common::{SqlType, Value};
use crate::format::{ColumnSpec, FormatKind, FormatSpec, Part, serialize};

fn json() -> FormatSpec {
    spec(FormatKind::Json)
}

fn one(name: &str, ty: SqlType) -> Vec<ColumnSpec> {
    vec![col(name, ty)]
}

#[test]
fn multi_column_keys_are_objects() {
    // multi-col-keys.json / delimited.json "multi-column key with different kv delimiters".
    let columns = [col("K1", SqlType::String), col("K2", SqlType::String)];
    let row = read(
        &json(),
        Part::Key,
        &columns,
        br#"{"k1":"foo,bar","K2":"baz"}"#,
    );
    assert_eq!(row, [string("foo,bar"), string("baz")]);
    let values = [string("foo,bar"), string("baz")];
    assert_eq!(
        write(&json(), Part::Key, &columns, &values),
        r#"{"K1":"foo,bar","K2":"baz"}"#
    );
}

#[test]
fn writes_compact_json_in_column_order() {
    // ksqlDB KsqlJsonSerializerTest.shouldSerializeStructCorrectly.
    let columns = [
        col("ORDERTIME", SqlType::Bigint),
        col("ORDERID", SqlType::Bigint),
        col("ITEMID", SqlType::String),
        col("ORDERUNITS", SqlType::Double),
        col("ARRAYCOL", SqlType::array(SqlType::Double)),
        col("MAPCOL", SqlType::map(SqlType::String, SqlType::Double)),
        col("DECIMALCOL", SqlType::decimal(20, 5)),
        col("TIMECOL", SqlType::Time),
        col("DATECOL", SqlType::Date),
        col("TIMESTAMPCOL", SqlType::Timestamp),
        col("BYTESCOL", SqlType::Bytes),
    ];
    let values = [
        Value::Bigint(1_511_897_796_092),
        Value::Bigint(1),
        string("item_1"),
        Value::Double(10.0),
        Value::Array(vec![Value::Double(100.0)]),
        Value::Map(vec![(string("key1"), Value::Double(100.0))]),
        Value::Decimal(112_345, 5),
        Value::Time(1000),
        Value::Date(10),
        Value::Timestamp(1000),
        Value::Bytes(vec![0x7B]),
    ];
    assert_eq!(
        write(&json(), Part::Value, &columns, &values),
        r#"{"ORDERTIME":1511897796092,"ORDERID":1,"ITEMID":"item_1","ORDERUNITS":10.0,"ARRAYCOL":[100.0],"MAPCOL":{"key1":100.0},"DECIMALCOL":1.12345,"TIMECOL":1000,"DATECOL":10,"TIMESTAMPCOL":1000,"BYTESCOL":"ew=="}"#
    );
}

#[test]
fn writes_values_the_way_jackson_does() {
    let w = |ty: SqlType, v: Value| write(&json(), Part::Key, &one("K", ty), &[v]);
    // json.json "DECIMAL - key": DECIMAL(6,4) keeps its scale.
    assert_eq!(
        w(SqlType::decimal(6, 4), Value::Decimal(123_650, 4)),
        "12.3650"
    );
    assert_eq!(w(SqlType::decimal(6, 4), Value::Decimal(10, 0)), "10.0000");
    assert_eq!(w(SqlType::decimal(10, 8), Value::Decimal(1, 8)), "1E-8");
    assert_eq!(w(SqlType::Double, Value::Double(654.321)), "654.321");
    assert_eq!(w(SqlType::Double, Value::Double(1e10)), "1.0E10");
    assert_eq!(w(SqlType::Double, Value::Double(f64::NAN)), r#""NaN""#);
    assert_eq!(
        w(SqlType::Bigint, Value::Bigint(998_877_665_544_332_211)),
        "998877665544332211"
    );
    assert_eq!(
        w(SqlType::String, string("q\"\\\u{1f}\t/é")),
        r#""q\"\\\u001F\t/é""#
    );
    assert_eq!(w(SqlType::Boolean, Value::Boolean(true)), "true");
    // json.json "STRUCT - key": field names come from the type, in its order.
    let ty = SqlType::Struct(vec![field("F", SqlType::Double), field("G", SqlType::Int)]);
    let v = Value::Struct(vec![
        ("G".into(), Value::Null),
        ("F".into(), Value::Double(45.67)),
    ]);
    assert_eq!(w(ty, v), r#"{"F":45.67,"G":null}"#);
    assert!(serialize(&json(), Part::Key, &one("K", SqlType::Int), &[string("x")]).is_err());
    let decimal_too_precise = [Value::Decimal(123, 3)];
    assert!(
        serialize(
            &json(),
            Part::Key,
            &one("K", SqlType::decimal(3, 1)),
            &decimal_too_precise
        )
        .is_err()
    );
}

#[test]
fn unwrapped_null_is_a_kafka_null() {
    // json.json "serialize anonymous primitive - value": {"FOO":null} is written as null.
    let columns = one("FOO", SqlType::Boolean);
    let s = unwrapped(FormatKind::Json);
    assert_eq!(
        serialize(&s, Part::Value, &columns, &[Value::Null]),
        Ok(None)
    );
    assert_eq!(
        serialize(&json(), Part::Key, &columns, &[Value::Null]),
        Ok(None)
    );
    assert_eq!(
        write(&s, Part::Value, &columns, &[Value::Boolean(true)]),
        "true"
    );
    // "serialize nested primitive - value": wrapped, the null is written.
    assert_eq!(
        write(&json(), Part::Value, &columns, &[Value::Null]),
        r#"{"FOO":null}"#
    );
    // "serialize anonymous struct - value".
    let columns = one("FOO", SqlType::Struct(vec![field("F0", SqlType::Int)]));
    let v = Value::Struct(vec![("F0".into(), Value::Null)]);
    assert_eq!(write(&s, Part::Value, &columns, &[v]), r#"{"F0":null}"#);
}

#[test]
fn every_type_round_trips() {
    let columns = [
        col("B", SqlType::Boolean),
        col("I", SqlType::Int),
        col("L", SqlType::Bigint),
        col("D", SqlType::Double),
        col("DEC", SqlType::decimal(10, 3)),
        col("S", SqlType::String),
        col("BY", SqlType::Bytes),
        col("TS", SqlType::Timestamp),
        col("DT", SqlType::Date),
        col("T", SqlType::Time),
        col(
            "A",
            SqlType::array(SqlType::map(SqlType::String, SqlType::Int)),
        ),
        col(
            "ST",
            SqlType::Struct(vec![
                field("X", SqlType::String),
                field("y", SqlType::Double),
            ]),
        ),
        col("N", SqlType::Int),
    ];
    let values = vec![
        Value::Boolean(false),
        Value::Int(i32::MIN),
        Value::Bigint(i64::MAX),
        Value::Double(-1.25e-12),
        Value::Decimal(-1_234_567, 3),
        string("ü \"x\" \n"),
        Value::Bytes(vec![0, 255, 7]),
        Value::Timestamp(-5),
        Value::Date(19_000),
        Value::Time(86_399_999),
        Value::Array(vec![
            Value::Map(vec![(string("k"), Value::Int(1))]),
            Value::Null,
        ]),
        Value::Struct(vec![
            ("X".into(), string("x")),
            ("y".into(), Value::Double(0.5)),
        ]),
        Value::Null,
    ];
    let bytes = write(&json(), Part::Value, &columns, &values);
    assert_eq!(
        read(&json(), Part::Value, &columns, bytes.as_bytes()),
        values
    );
}
