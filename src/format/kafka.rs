//! The KAFKA format: a single column in Kafka's own primitive serialization (`IntegerSerializer`,
//! `LongSerializer`, `DoubleSerializer`, `StringSerializer`, `ByteBufferSerializer`): INT is 4
//! bytes and BIGINT 8 bytes big-endian, DOUBLE the 8 big-endian bytes of its IEEE-754 bits,
//! STRING UTF-8 and BYTES raw. No columns means the key or value is ignored (a void serde).

use super::{ColumnSpec, FormatError, FormatSpec, Part};
use crate::common::{SqlType, Value};

pub(super) fn validate(
    spec: &FormatSpec,
    part: Part,
    columns: &[ColumnSpec],
) -> Result<(), FormatError> {
    if part == Part::Value && spec.wrap_single_value == Some(true) {
        return Err(FormatError::Unsupported(
            "Format 'KAFKA' does not support 'WRAP_SINGLE_VALUE' set to 'true'.".to_string(),
        ));
    }
    if columns.len() > 1 {
        let suffix = if part == Part::Key { " KEY" } else { "" };
        let listed: Vec<String> = columns
            .iter()
            .map(|c| format!("`{}` {}{suffix}", c.name, c.sql_type))
            .collect();
        return Err(FormatError::Unsupported(format!(
            "The 'KAFKA' format only supports a single field. Got: [{}]",
            listed.join(", ")
        )));
    }
    match columns.first().map(|c| &c.sql_type) {
        None | Some(SqlType::Int | SqlType::Bigint | SqlType::Double | SqlType::String) => Ok(()),
        Some(SqlType::Bytes) => Ok(()),
        Some(other) => Err(FormatError::Unsupported(format!(
            "The 'KAFKA' format does not support type '{}'",
            base_type_name(other)
        ))),
    }
}

/// ksqlDB's `SqlBaseType` name.
fn base_type_name(ty: &SqlType) -> &'static str {
    match ty {
        SqlType::Boolean => "BOOLEAN",
        SqlType::Int => "INTEGER",
        SqlType::Bigint => "BIGINT",
        SqlType::Double => "DOUBLE",
        SqlType::Decimal { .. } => "DECIMAL",
        SqlType::String => "STRING",
        SqlType::Bytes => "BYTES",
        SqlType::Timestamp => "TIMESTAMP",
        SqlType::Date => "DATE",
        SqlType::Time => "TIME",
        SqlType::Array(_) => "ARRAY",
        SqlType::Map(_, _) => "MAP",
        SqlType::Struct(_) => "STRUCT",
    }
}

pub(super) fn deserialize(
    _spec: &FormatSpec,
    _part: Part,
    columns: &[ColumnSpec],
    bytes: &[u8],
) -> Result<Vec<Value>, FormatError> {
    let Some(column) = single(columns)? else {
        return Ok(Vec::new());
    };
    let size_error = |deserializer: &str, size: usize| {
        FormatError::Deserialize(format!(
            "Size of data received by {deserializer} is not {size}"
        ))
    };
    let value = match &column.sql_type {
        SqlType::Int => Value::Int(i32::from_be_bytes(
            bytes
                .try_into()
                .map_err(|_| size_error("IntegerDeserializer", 4))?,
        )),
        SqlType::Bigint => Value::Bigint(i64::from_be_bytes(
            bytes
                .try_into()
                .map_err(|_| size_error("LongDeserializer", 8))?,
        )),
        // Kafka's DoubleDeserializer really does call itself just "Deserializer".
        SqlType::Double => Value::Double(f64::from_be_bytes(
            bytes
                .try_into()
                .map_err(|_| size_error("Deserializer", 8))?,
        )),
        SqlType::String => Value::String(String::from_utf8_lossy(bytes).into_owned()),
        SqlType::Bytes => Value::Bytes(bytes.to_vec()),
        other => return Err(unsupported(other, FormatError::Deserialize)),
    };
    Ok(vec![value])
}

/// A NULL column is written as a Kafka null (`Ok(None)`).
pub(super) fn serialize(
    _spec: &FormatSpec,
    _part: Part,
    columns: &[ColumnSpec],
    values: &[Value],
) -> Result<Option<Vec<u8>>, FormatError> {
    let Some(column) = single(columns)? else {
        return Ok(None);
    };
    super::check_value_count(columns, values)?;
    let bytes = match (&column.sql_type, &values[0]) {
        (_, Value::Null) => return Ok(None),
        (SqlType::Int, Value::Int(v)) => v.to_be_bytes().to_vec(),
        (SqlType::Bigint, Value::Bigint(v)) => v.to_be_bytes().to_vec(),
        (SqlType::Bigint, Value::Int(v)) => i64::from(*v).to_be_bytes().to_vec(),
        (SqlType::Double, Value::Double(v)) => v.to_be_bytes().to_vec(),
        (SqlType::String, Value::String(s)) => s.as_bytes().to_vec(),
        (SqlType::Bytes, Value::Bytes(b)) => b.clone(),
        (ty @ (SqlType::Int | SqlType::Bigint | SqlType::Double), value)
        | (ty @ (SqlType::String | SqlType::Bytes), value) => {
            return Err(super::type_mismatch(value, ty));
        }
        (other, _) => return Err(unsupported(other, FormatError::Serialize)),
    };
    Ok(Some(bytes))
}

/// The only column, `None` for no columns, an error for several.
fn single(columns: &[ColumnSpec]) -> Result<Option<&ColumnSpec>, FormatError> {
    match columns {
        [] => Ok(None),
        [column] => Ok(Some(column)),
        _ => Err(FormatError::Unsupported(
            "The 'KAFKA' format only supports a single field.".to_string(),
        )),
    }
}

fn unsupported(ty: &SqlType, kind: fn(String) -> FormatError) -> FormatError {
    kind(format!(
        "The 'KAFKA' format does not support type '{}'",
        base_type_name(ty)
    ))
}
