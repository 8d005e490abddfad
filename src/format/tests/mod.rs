//! Tests of the formats against ksqlDB's behaviour. Expected bytes come from the QTT files in
//! `query-validation-tests` (cited by file and case name) or from ksqlDB's serde sources.

mod csv;
mod delimited;
mod java;
mod json_fast;
mod json_null_and_api;
mod json_read;
mod json_write;
mod kafka;
mod validate;
mod writer;

use super::{ColumnSpec, FormatError, FormatKind, FormatSpec, Part};
use crate::common::{SqlType, StructField, Value};

fn col(name: &str, sql_type: SqlType) -> ColumnSpec {
    ColumnSpec {
        name: name.to_string(),
        sql_type,
    }
}

fn field(name: &str, sql_type: SqlType) -> StructField {
    StructField {
        name: name.to_string(),
        sql_type,
    }
}

fn spec(kind: FormatKind) -> FormatSpec {
    FormatSpec::new(kind)
}

fn unwrapped(kind: FormatKind) -> FormatSpec {
    FormatSpec {
        wrap_single_value: Some(false),
        ..FormatSpec::new(kind)
    }
}

fn string(s: &str) -> Value {
    Value::String(s.to_string())
}

/// Deserializes text bytes, expecting success and a non-null row.
fn read(spec: &FormatSpec, part: Part, columns: &[ColumnSpec], bytes: &[u8]) -> Vec<Value> {
    match super::deserialize(spec, part, columns, Some(bytes)) {
        Ok(Some(row)) => row,
        other => panic!("reading {:?}: {other:?}", String::from_utf8_lossy(bytes)),
    }
}

/// Deserializes, expecting an error; returns its message.
fn read_err(spec: &FormatSpec, part: Part, columns: &[ColumnSpec], bytes: &[u8]) -> String {
    match super::deserialize(spec, part, columns, Some(bytes)) {
        Err(FormatError::Deserialize(message)) => message,
        other => panic!("expected an error reading {bytes:?}, got {other:?}"),
    }
}

/// Serializes, expecting success and non-null bytes, returned as text.
fn write(spec: &FormatSpec, part: Part, columns: &[ColumnSpec], values: &[Value]) -> String {
    match super::serialize(spec, part, columns, values) {
        Ok(Some(bytes)) => String::from_utf8(bytes).expect("UTF-8 output"),
        other => panic!("writing {values:?}: {other:?}"),
    }
}

#[test]
fn null_bytes_are_a_null_row_in_every_format() {
    let columns = [col("V", SqlType::Int)];
    for kind in [
        FormatKind::Json,
        FormatKind::Delimited,
        FormatKind::Kafka,
        FormatKind::None,
    ] {
        for part in [Part::Key, Part::Value] {
            assert_eq!(
                super::deserialize(&spec(kind.clone()), part, &columns, None),
                Ok(None)
            );
        }
    }
}

#[test]
fn none_format_ignores_bytes_and_writes_null() {
    // none.json: key data "should be ignored" gives a null output key.
    let none = spec(FormatKind::None);
    assert_eq!(
        super::deserialize(&none, Part::Key, &[], Some(b"data that should be ignored")),
        Ok(Some(vec![]))
    );
    assert_eq!(super::serialize(&none, Part::Key, &[], &[]), Ok(None));
}

#[test]
fn keyless_key_serde_is_void_for_every_format() {
    // elements.json "stream without key column": any key is ignored, the output key is null.
    for kind in [FormatKind::Json, FormatKind::Delimited, FormatKind::Kafka] {
        let s = spec(kind);
        assert_eq!(
            super::deserialize(&s, Part::Key, &[], Some(b"should be ignored")),
            Ok(Some(vec![]))
        );
        assert_eq!(super::serialize(&s, Part::Key, &[], &[]), Ok(None));
    }
}

#[test]
fn value_count_must_match_columns() {
    let columns = [col("A", SqlType::Int), col("B", SqlType::Int)];
    for kind in [FormatKind::Json, FormatKind::Delimited] {
        let err = super::serialize(&spec(kind), Part::Value, &columns, &[Value::Int(1)]);
        assert_eq!(
            err,
            Err(FormatError::Serialize(
                "Column count mismatch on serialization. expected: 2, got: 1".to_string()
            ))
        );
    }
}
