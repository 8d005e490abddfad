//! Which columns each format accepts, with ksqlDB's error messages (QTT `expectedException`).

use super::{col, field, spec, unwrapped};
use crate::common::SqlType;
use crate::format::{ColumnSpec, FormatError, FormatKind, FormatSpec, Part, validate};

fn error(spec: &FormatSpec, part: Part, columns: &[ColumnSpec]) -> String {
    match validate(spec, part, columns) {
        Err(FormatError::Unsupported(message)) => message,
        other => panic!("expected {columns:?} to be rejected, got {other:?}"),
    }
}

fn wrapped(kind: FormatKind) -> FormatSpec {
    FormatSpec {
        wrap_single_value: Some(true),
        ..FormatSpec::new(kind)
    }
}

#[test]
fn kafka_takes_one_column_of_a_primitive_type() {
    let kafka = spec(FormatKind::Kafka);
    for ty in [
        SqlType::Int,
        SqlType::Bigint,
        SqlType::Double,
        SqlType::String,
        SqlType::Bytes,
    ] {
        assert_eq!(
            validate(&kafka, Part::Value, &[col("V", ty.clone())]),
            Ok(())
        );
        assert_eq!(validate(&kafka, Part::Key, &[col("K", ty)]), Ok(()));
    }
    assert_eq!(validate(&kafka, Part::Key, &[]), Ok(()));
    // kafka.json "ARRAY - C* - value", "STRUCT - C* - value"; key-schemas.json.
    let cases = [
        (SqlType::array(SqlType::Int), "ARRAY"),
        (
            SqlType::Struct(vec![field("F1", SqlType::Double)]),
            "STRUCT",
        ),
        (SqlType::Boolean, "BOOLEAN"),
        (SqlType::decimal(2, 1), "DECIMAL"),
        (SqlType::Timestamp, "TIMESTAMP"),
    ];
    for (ty, name) in cases {
        assert_eq!(
            error(&kafka, Part::Value, &[col("V", ty)]),
            format!("The 'KAFKA' format does not support type '{name}'")
        );
    }
    assert_eq!(
        error(
            &kafka,
            Part::Value,
            &[col("FOO", SqlType::map(SqlType::Int, SqlType::Double))]
        ),
        "The 'KAFKA' format does not support type 'MAP'"
    );
    // elements.json "validate multiple value elements in C* FAILS - KAFKA".
    let two = [col("V0", SqlType::Int), col("V1", SqlType::String)];
    assert_eq!(
        error(&kafka, Part::Value, &two),
        "The 'KAFKA' format only supports a single field. Got: [`V0` INTEGER, `V1` STRING]"
    );
    // key-schemas.json: key columns are listed with KEY.
    let keys = [col("ID", SqlType::Int), col("AGE", SqlType::Int)];
    assert_eq!(
        error(&kafka, Part::Key, &keys),
        "The 'KAFKA' format only supports a single field. Got: [`ID` INTEGER KEY, `AGE` INTEGER KEY]"
    );
}

#[test]
fn wrap_single_value_rules() {
    let one = [col("FOO", SqlType::Int)];
    let two = [col("F0", SqlType::String), col("F1", SqlType::String)];
    // kafka.json "Wrapped single values"; delimited.json "... WRAP_SINGLE_VALUE true".
    assert_eq!(
        error(&wrapped(FormatKind::Kafka), Part::Value, &one),
        "Format 'KAFKA' does not support 'WRAP_SINGLE_VALUE' set to 'true'."
    );
    assert_eq!(
        error(&wrapped(FormatKind::Delimited), Part::Value, &one),
        "Format 'DELIMITED' does not support 'WRAP_SINGLE_VALUE' set to 'true'."
    );
    for kind in [FormatKind::Kafka, FormatKind::Delimited, FormatKind::Json] {
        assert_eq!(validate(&unwrapped(kind), Part::Value, &one), Ok(()));
    }
    assert_eq!(
        validate(&wrapped(FormatKind::Json), Part::Value, &one),
        Ok(())
    );
    // serdes.json "C* should throw for multi-field schema if WRAP_SINGLE_VALUE=true" / "=false".
    for s in [
        wrapped(FormatKind::Json),
        unwrapped(FormatKind::Json),
        unwrapped(FormatKind::Delimited),
    ] {
        assert_eq!(
            error(&s, Part::Value, &two),
            "'WRAP_SINGLE_VALUE' is only valid for single-field value schemas"
        );
    }
    assert_eq!(validate(&spec(FormatKind::Json), Part::Value, &two), Ok(()));
}

#[test]
fn delimited_takes_primitives_only() {
    let delimited = spec(FormatKind::Delimited);
    let primitives = [
        SqlType::Boolean,
        SqlType::Int,
        SqlType::Bigint,
        SqlType::Double,
        SqlType::String,
        SqlType::decimal(4, 2),
        SqlType::Timestamp,
        SqlType::Date,
        SqlType::Time,
        SqlType::Bytes,
    ];
    let columns: Vec<ColumnSpec> = primitives
        .iter()
        .enumerate()
        .map(|(i, t)| col(&format!("C{i}"), t.clone()))
        .collect();
    assert_eq!(validate(&delimited, Part::Value, &columns), Ok(()));
    // delimited.json "ARRAY - C* - value", "MAP - C* - value".
    assert_eq!(
        error(
            &delimited,
            Part::Value,
            &[col("FOO", SqlType::array(SqlType::Int))]
        ),
        "The 'DELIMITED' format does not support type 'ARRAY'"
    );
    assert_eq!(
        error(
            &delimited,
            Part::Value,
            &[col("FOO", SqlType::map(SqlType::Int, SqlType::Double))]
        ),
        "The 'DELIMITED' format does not support type 'MAP'"
    );
    // delimited.json "STRUCT - key": keys name the column.
    assert_eq!(
        error(
            &delimited,
            Part::Key,
            &[col("K", SqlType::Struct(vec![field("F", SqlType::Double)]))]
        ),
        "The 'DELIMITED' format does not support type 'STRUCT', column: `K`"
    );
}

#[test]
fn json_maps_need_string_keys() {
    let json = spec(FormatKind::Json);
    // json.json "map with non-string keys - C*".
    assert_eq!(
        error(
            &json,
            Part::Value,
            &[col("FOO", SqlType::map(SqlType::Int, SqlType::Double))]
        ),
        "JSON only supports MAP types with STRING keys"
    );
    let nested = SqlType::array(SqlType::map(
        SqlType::String,
        SqlType::map(SqlType::Bigint, SqlType::Int),
    ));
    assert_eq!(
        error(&json, Part::Value, &[col("FOO", nested)]),
        "JSON only supports MAP types with STRING keys"
    );
    let fine = SqlType::Struct(vec![field(
        "M",
        SqlType::map(SqlType::String, SqlType::Int),
    )]);
    assert_eq!(validate(&json, Part::Value, &[col("FOO", fine)]), Ok(()));
}

#[test]
fn maps_are_rejected_in_keys_for_every_format() {
    // json.json "MAP - key - C*", "nested MAP type - key - C*"; kafka.json "MAP - C* - key".
    let cases = [
        (
            SqlType::map(SqlType::Int, SqlType::Double),
            "MAP<INTEGER, DOUBLE>",
        ),
        (
            SqlType::array(SqlType::map(SqlType::Int, SqlType::Double)),
            "ARRAY<MAP<INTEGER, DOUBLE>>",
        ),
        (
            SqlType::Struct(vec![field(
                "F",
                SqlType::map(SqlType::String, SqlType::String),
            )]),
            "STRUCT<`F` MAP<STRING, STRING>>",
        ),
    ];
    for kind in [FormatKind::Json, FormatKind::Delimited, FormatKind::Kafka] {
        for (ty, shown) in &cases {
            assert_eq!(
                error(&spec(kind.clone()), Part::Key, &[col("K", ty.clone())]),
                format!(
                    "Map keys, including types that contain maps, are not supported as they may \
                     lead to unexpected behavior due to inconsistent serialization. Key column \
                     name: `K`. Column type: {shown}. See \
                     https://github.com/confluentinc/ksql/issues/6621 for more."
                )
            );
        }
    }
}

#[test]
fn none_takes_no_columns() {
    let none = spec(FormatKind::None);
    assert_eq!(validate(&none, Part::Key, &[]), Ok(()));
    assert_eq!(
        error(&none, Part::Key, &[col("K", SqlType::String)]),
        "The 'NONE' format can only be used when no columns are defined. Got: [`K` STRING KEY]"
    );
}
