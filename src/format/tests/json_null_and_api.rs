//! The JSON format's null documents (a record whose value is `null` is a null row, as ksqlDB
//! reads it) and rows given to the REST API (numbers must fit INT and BIGINT columns exactly,
//! where a record's are truncated like Jackson's).

use super::{col, field, spec, unwrapped};
use crate::common::{SqlType, Value};
use crate::format::{FormatError, FormatKind, Part, deserialize, deserialize_api_row, is_null_row};

#[test]
fn a_wrapped_null_document_is_a_null_row() {
    let json = spec(FormatKind::Json);
    let columns = [col("V", SqlType::Int), col("W", SqlType::String)];
    for doc in ["null", " null\n", "\u{feff}null", "null trailing"] {
        assert!(
            is_null_row(&json, Part::Value, &columns, doc.as_bytes()),
            "{doc:?}"
        );
        let read = deserialize(&json, Part::Value, &columns, Some(doc.as_bytes()));
        assert!(matches!(read, Ok(None)), "{doc:?}: {read:?}");
    }
    for doc in [r#"{"V":null}"#, "nul", r#""null""#, "", "{}"] {
        assert!(
            !is_null_row(&json, Part::Value, &columns, doc.as_bytes()),
            "{doc:?}"
        );
    }
    let single = [col("V", SqlType::Int)];
    assert!(
        !is_null_row(&unwrapped(FormatKind::Json), Part::Value, &single, b"null"),
        "an unwrapped null is a row with a NULL column"
    );
    let text = [col("V", SqlType::String)];
    assert!(!is_null_row(
        &spec(FormatKind::Kafka),
        Part::Value,
        &text,
        b"null"
    ));
    assert!(!is_null_row(
        &spec(FormatKind::Delimited),
        Part::Value,
        &text,
        b"null"
    ));
}

fn api(columns: &[crate::format::ColumnSpec], row: &str) -> Result<Vec<Value>, String> {
    match deserialize_api_row(columns, row.as_bytes()) {
        Ok(Some(values)) => Ok(values),
        Ok(None) => Err("null row".into()),
        Err(FormatError::Deserialize(message)) => Err(message),
        Err(other) => Err(other.to_string()),
    }
}

#[test]
fn an_api_row_refuses_numbers_its_integer_columns_cannot_hold() {
    let columns = [col("V", SqlType::Int), col("W", SqlType::Bigint)];
    assert_eq!(
        api(&columns, r#"{"v": 2147483647, "w": 9223372036854775807}"#),
        Ok(vec![Value::Int(i32::MAX), Value::Bigint(i64::MAX)])
    );
    let refused = [
        (
            r#"{"V": 2147483648}"#,
            "Can't coerce a field of type class java.lang.Long (2147483648) into type INTEGER, path: $.V",
        ),
        (
            r#"{"V": 1e2}"#,
            "Can't coerce a field of type class java.lang.Double (100.0) into type INTEGER, path: $.V",
        ),
        (
            r#"{"W": 9223372036854775808}"#,
            "Can't coerce a field of type class java.math.BigInteger (9223372036854775808) into type BIGINT, path: $.W",
        ),
        (
            r#"{"W": 1.0}"#,
            "Can't coerce a field of type class java.lang.Double (1.0) into type BIGINT, path: $.W",
        ),
    ];
    for (row, message) in refused {
        assert_eq!(api(&columns, row), Err(message.to_string()), "{row}");
    }
    let nested = [col(
        "S",
        SqlType::Struct(vec![field("A", SqlType::array(SqlType::Int))]),
    )];
    assert_eq!(
        api(&nested, r#"{"S": {"A": [1, 4294967296]}}"#),
        Err("Can't coerce a field of type class java.lang.Long (4294967296) into type INTEGER, path: $.S.A[1]".to_string())
    );
    // A record's value is still read as ksqlDB reads it: truncated to the low 32 bits.
    let record = deserialize(
        &spec(FormatKind::Json),
        Part::Value,
        &columns,
        Some(br#"{"V": 4294967297}"#),
    );
    assert!(
        matches!(record, Ok(Some(ref v)) if v[0] == Value::Int(1)),
        "{record:?}"
    );
}

#[test]
fn an_api_row_keeps_every_digit_of_a_decimal() {
    let columns = [col("D", SqlType::decimal(20, 20))];
    assert_eq!(
        api(&columns, r#"{"D": 0.12345678901234567891}"#),
        Ok(vec![Value::Decimal(12_345_678_901_234_567_891, 20)])
    );
}
