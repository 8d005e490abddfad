//! The DELIMITED format.

use super::{col, read, read_err, spec, string, write};
use crate::common::{SqlType, Value};
use crate::format::{FormatKind, FormatSpec, Part, deserialize, serialize};

fn delimited() -> FormatSpec {
    spec(FormatKind::Delimited)
}

fn read_one(ty: SqlType, text: &str) -> Value {
    read(&delimited(), Part::Value, &[col("V", ty)], text.as_bytes()).remove(0)
}

fn read_one_err(ty: SqlType, text: &str) -> String {
    read_err(&delimited(), Part::Value, &[col("V", ty)], text.as_bytes())
}

fn write_one(ty: SqlType, value: Value) -> String {
    write(&delimited(), Part::Value, &[col("V", ty)], &[value])
}

#[test]
fn reads_fields_in_column_order() {
    // delimited.json "select delimited value_format".
    let columns = [
        col("ID", SqlType::Bigint),
        col("NAME", SqlType::String),
        col("VALUE", SqlType::Int),
    ];
    let row = read(&delimited(), Part::Value, &columns, b"0,zero,0");
    assert_eq!(row, [Value::Bigint(0), string("zero"), Value::Int(0)]);
    assert_eq!(write(&delimited(), Part::Value, &columns, &row), "0,zero,0");
    // "...with $ separated values using custom delimiter character".
    let dollar = FormatSpec {
        delimiter: '$',
        ..delimited()
    };
    assert_eq!(write(&dollar, Part::Value, &columns, &row), "0$zero$0");
    let tab = FormatSpec {
        delimiter: '\t',
        ..delimited()
    };
    assert_eq!(
        read(&tab, Part::Value, &columns, b"100\t100\t500"),
        [Value::Bigint(100), string("100"), Value::Int(500)]
    );
}

#[test]
fn empty_fields_are_null_for_every_type() {
    let columns = [
        col("A", SqlType::String),
        col("B", SqlType::Int),
        col("C", SqlType::String),
    ];
    let row = read(&delimited(), Part::Value, &columns, b",\"\",");
    assert_eq!(row, [Value::Null, Value::Null, Value::Null]);
    assert_eq!(write(&delimited(), Part::Value, &columns, &row), ",,");
}

#[test]
fn column_count_must_match() {
    let columns = [col("A", SqlType::Int), col("B", SqlType::Int)];
    assert_eq!(
        read_err(&delimited(), Part::Value, &columns, b"1,2,3"),
        "Column count mismatch on deserialization. expected: 2, got: 3"
    );
    assert_eq!(
        read_err(&delimited(), Part::Value, &columns, b"1"),
        "Column count mismatch on deserialization. expected: 2, got: 1"
    );
    assert_eq!(
        read_err(&delimited(), Part::Value, &columns, b""),
        "No fields in record"
    );
    assert_eq!(
        read_err(&delimited(), Part::Value, &columns, b"\r\n"),
        "No fields in record"
    );
    // Only the first record counts.
    assert_eq!(
        read(&delimited(), Part::Value, &columns, b"1,2\n3"),
        [Value::Int(1), Value::Int(2)]
    );
}

#[test]
fn parses_primitives_like_java() {
    // delimited.json "BOOLEAN - key": quotes are removed first; anything but "true" is false.
    assert_eq!(read_one(SqlType::Boolean, "\"true\""), Value::Boolean(true));
    assert_eq!(read_one(SqlType::Boolean, "TRUE"), Value::Boolean(true));
    assert_eq!(read_one(SqlType::Boolean, "yes"), Value::Boolean(false));
    // "INT - key": "\"22\"" is 22.
    assert_eq!(read_one(SqlType::Int, "\"22\""), Value::Int(22));
    assert_eq!(read_one(SqlType::Int, "-7"), Value::Int(-7));
    assert_eq!(
        read_one_err(SqlType::Int, "1.5"),
        "For input string: \"1.5\""
    );
    assert_eq!(read_one_err(SqlType::Int, " 1"), "For input string: \" 1\"");
    assert_eq!(
        read_one(SqlType::Bigint, "10000000000"),
        Value::Bigint(10_000_000_000)
    );
    assert_eq!(read_one(SqlType::Double, "10.1"), Value::Double(10.1));
    assert_eq!(read_one(SqlType::Double, " 1e2 "), Value::Double(100.0));
    assert!(matches!(read_one(SqlType::Double, "NaN"), Value::Double(d) if d.is_nan()));
    assert_eq!(read_one(SqlType::String, "\"You\""), string("You"));
    assert_eq!(
        read_one(SqlType::String, " \t with white space \t"),
        string(" \t with white space \t")
    );
    assert_eq!(read_one(SqlType::Timestamp, "1500"), Value::Timestamp(1500));
    // date.json "DELIMITED in/out".
    assert_eq!(read_one(SqlType::Date, "-10"), Value::Date(-10));
    assert_eq!(read_one(SqlType::Time, "500"), Value::Time(500));
    assert_eq!(
        read_one_err(SqlType::Time, "86400001"),
        "Time values must use number of milliseconds greater than 0 and less than 86400000."
    );
    // bytes.json "DELIMITED in/out".
    assert_eq!(
        read_one(SqlType::Bytes, "dmFyaWF0aW9ucw=="),
        Value::Bytes(b"variations".to_vec())
    );
    assert_eq!(read_one(SqlType::Bytes, "IQ"), Value::Bytes(b"!".to_vec()));
    assert_eq!(
        read_one_err(SqlType::Bytes, "!!"),
        "Value is not a valid Base64 encoded string: !!"
    );
}

#[test]
fn decimals_are_fitted_and_written_plain() {
    // delimited.json "read written decimals".
    let ty = SqlType::decimal(33, 16);
    let cases = [
        (
            "12345678987654321.2345678987654321",
            "12345678987654321.2345678987654321",
        ),
        (".12", "0.1200000000000000"),
        ("-12345.12", "\"-12345.1200000000000000\""),
        ("\"-12345.12\"", "\"-12345.1200000000000000\""),
        ("0", "0.0000000000000000"),
    ];
    for (input, output) in cases {
        let value = read_one(ty.clone(), input);
        assert_eq!(write_one(ty.clone(), value), output, "{input}");
    }
    // decimal.json "DELIMITED should not trim trailing zeros".
    let value = read_one(SqlType::decimal(6, 4), "10.0000");
    assert_eq!(value, Value::Decimal(100_000, 4));
    assert_eq!(write_one(SqlType::decimal(6, 4), value), "10.0000");
    assert_eq!(
        read_one_err(SqlType::decimal(4, 1), "1.12"),
        "Cannot fit decimal '1.12' into DECIMAL(4, 1) without rounding. (Requires 3,2)"
    );
    assert_eq!(
        write_one(SqlType::decimal(12, 10), Value::Decimal(1, 10)),
        "0.0000000001"
    );
}

#[test]
fn writes_primitives_like_java() {
    assert_eq!(write_one(SqlType::Double, Value::Double(1.0)), "1.0");
    assert_eq!(write_one(SqlType::Double, Value::Double(1e10)), "1.0E10");
    assert_eq!(write_one(SqlType::Double, Value::Double(f64::NAN)), "NaN");
    assert_eq!(write_one(SqlType::Double, Value::Double(-1.5)), "\"-1.5\"");
    assert_eq!(write_one(SqlType::Boolean, Value::Boolean(true)), "true");
    // date.json "DELIMITED in/out": -10 as the only field is quoted.
    assert_eq!(write_one(SqlType::Date, Value::Date(-10)), "\"-10\"");
    assert_eq!(
        write_one(SqlType::Bytes, Value::Bytes(b"!".to_vec())),
        "IQ=="
    );
    assert_eq!(
        write_one(SqlType::Timestamp, Value::Timestamp(1000)),
        "1000"
    );
    assert_eq!(write_one(SqlType::Time, Value::Time(500)), "500");
    assert!(
        serialize(
            &delimited(),
            Part::Value,
            &[col("V", SqlType::Int)],
            &[string("x")]
        )
        .is_err()
    );
}

#[test]
fn null_keys_and_values() {
    let columns = [col("K", SqlType::String)];
    // delimited.json "STRING - key": a null key stays null.
    assert_eq!(
        serialize(&delimited(), Part::Key, &columns, &[Value::Null]),
        Ok(None)
    );
    assert_eq!(
        write(&delimited(), Part::Key, &columns, &[string("Hey")]),
        "Hey"
    );
    // A single NULL value column is an empty record, which does not read back.
    assert_eq!(
        serialize(&delimited(), Part::Value, &columns, &[Value::Null]),
        Ok(Some(vec![]))
    );
    assert!(deserialize(&delimited(), Part::Value, &columns, Some(b"")).is_err());
}

#[test]
fn multi_column_keys_use_their_own_delimiter() {
    // delimited.json "multi-column key with different kv delimiters".
    let key_spec = FormatSpec {
        delimiter: ';',
        ..delimited()
    };
    let columns = [col("K1", SqlType::String), col("K2", SqlType::String)];
    assert_eq!(
        read(&key_spec, Part::Key, &columns, b"foo,bar;baz"),
        [string("foo,bar"), string("baz")]
    );
    let value_spec = FormatSpec {
        delimiter: '-',
        ..delimited()
    };
    let values = [col("V", SqlType::Int), col("V2", SqlType::Int)];
    let row = read(&value_spec, Part::Value, &values, b"0-1");
    assert_eq!(write(&value_spec, Part::Value, &values, &row), "0-1");
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
        col("N", SqlType::Int),
    ];
    let values = vec![
        Value::Boolean(false),
        Value::Int(i32::MIN),
        Value::Bigint(i64::MAX),
        Value::Double(-1.25e-12),
        Value::Decimal(-1_234_567, 3),
        string("ü, \"x\"\n"),
        Value::Bytes(vec![0, 255, 7]),
        Value::Timestamp(-5),
        Value::Date(19_000),
        Value::Time(86_399_999),
        Value::Null,
    ];
    let text = write(&delimited(), Part::Value, &columns, &values);
    assert_eq!(
        read(&delimited(), Part::Value, &columns, text.as_bytes()),
        values
    );
}
