//! The DELIMITED format: one CSV record per key or value (`KsqlDelimitedSerializer` and
//! `KsqlDelimitedDeserializer`), fields in column order, primitives only.
//!
//! An empty field is NULL for every type; numbers are parsed as Java's `parseInt`/`parseLong`/
//! `parseDouble` do, BOOLEAN is true only for `true` (any case), DECIMAL is fitted to the
//! column, TIMESTAMP/DATE/TIME are epoch numbers and BYTES is base64.

use super::java::{self, BigDec};
use super::json_read::time_of_day;
use super::{ColumnSpec, FormatError, FormatSpec, Part, csv};
use crate::common::{SqlType, Value};
use base64::Engine as _;

pub(super) fn validate(
    spec: &FormatSpec,
    part: Part,
    columns: &[ColumnSpec],
) -> Result<(), FormatError> {
    if part == Part::Value && spec.wrap_single_value == Some(true) {
        return Err(FormatError::Unsupported(
            "Format 'DELIMITED' does not support 'WRAP_SINGLE_VALUE' set to 'true'.".to_string(),
        ));
    }
    super::check_wrapping(spec, part, columns)?;
    for column in columns {
        let name = match column.sql_type {
            SqlType::Array(_) => "ARRAY",
            SqlType::Map(_, _) => "MAP",
            SqlType::Struct(_) => "STRUCT",
            _ => continue,
        };
        let mut message = format!("The 'DELIMITED' format does not support type '{name}'");
        if part == Part::Key {
            message.push_str(&format!(", column: `{}`", column.name));
        }
        return Err(FormatError::Unsupported(message));
    }
    Ok(())
}

/// Only the first record of the bytes is used.
pub(super) fn deserialize(
    spec: &FormatSpec,
    part: Part,
    columns: &[ColumnSpec],
    bytes: &[u8],
) -> Result<Vec<Value>, FormatError> {
    if part == Part::Key && columns.is_empty() {
        return Ok(Vec::new());
    }
    let failed = FormatError::Deserialize;
    let text = String::from_utf8_lossy(bytes);
    let records = csv::parse_records(&text, spec.delimiter).map_err(failed)?;
    let Some(record) = records.into_iter().next() else {
        return Err(failed("No fields in record".to_string()));
    };
    if record.len() != columns.len() {
        return Err(failed(format!(
            "Column count mismatch on deserialization. expected: {}, got: {}",
            columns.len(),
            record.len()
        )));
    }
    columns
        .iter()
        .zip(&record)
        .map(|(column, field)| match field.as_str() {
            "" => Ok(Value::Null),
            text => parse_field(text, &column.sql_type).map_err(failed),
        })
        .collect()
}

fn parse_field(text: &str, ty: &SqlType) -> Result<Value, String> {
    Ok(match ty {
        SqlType::Boolean => Value::Boolean(text.eq_ignore_ascii_case("true")),
        SqlType::Int => Value::Int(java::parse_int(text)?),
        SqlType::Bigint => Value::Bigint(java::parse_long(text)?),
        SqlType::Double => Value::Double(java::parse_double(text)?),
        SqlType::String => Value::String(text.to_string()),
        SqlType::Decimal { precision, scale } => {
            Value::Decimal(BigDec::parse(text)?.ensure_fit(*precision, *scale)?, *scale)
        }
        SqlType::Timestamp => Value::Timestamp(java::parse_long(text)?),
        SqlType::Date => Value::Date(java::parse_int(text)?),
        SqlType::Time => time_of_day(java::parse_long(text)?)?,
        SqlType::Bytes => Value::Bytes(decode_base64(text)?),
        SqlType::Array(_) | SqlType::Map(_, _) | SqlType::Struct(_) => {
            return Err(format!(
                "The 'DELIMITED' format does not support type '{ty}'"
            ));
        }
    })
}

/// `java.util.Base64.getDecoder()`: standard alphabet, padding optional.
fn decode_base64(text: &str) -> Result<Vec<u8>, String> {
    let config = base64::engine::GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent);
    base64::engine::GeneralPurpose::new(&base64::alphabet::STANDARD, config)
        .decode(text)
        .map_err(|_| format!("Value is not a valid Base64 encoded string: {text}"))
}

/// A single NULL key column is a null key (`Ok(None)`); a single NULL value column is an empty
/// record (zero bytes), as in ksqlDB.
pub(super) fn serialize(
    spec: &FormatSpec,
    part: Part,
    columns: &[ColumnSpec],
    values: &[Value],
) -> Result<Option<Vec<u8>>, FormatError> {
    if part == Part::Key && (columns.is_empty() || values.iter().all(Value::is_null)) {
        return Ok(None);
    }
    super::check_value_count(columns, values)?;
    let fields = columns
        .iter()
        .zip(values)
        .map(|(column, value)| field_text(value, &column.sql_type))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(
        csv::print_record(&fields, spec.delimiter).into_bytes(),
    ))
}

fn field_text(value: &Value, ty: &SqlType) -> Result<Option<String>, FormatError> {
    Ok(Some(match (ty, value) {
        (_, Value::Null) => return Ok(None),
        (SqlType::Boolean, Value::Boolean(b)) => b.to_string(),
        (SqlType::Int, Value::Int(v)) => v.to_string(),
        (SqlType::Bigint, Value::Bigint(v)) => v.to_string(),
        (SqlType::Bigint, Value::Int(v)) => v.to_string(),
        (SqlType::Double, Value::Double(d)) => java::double_to_string(*d),
        (SqlType::String, Value::String(s)) => s.clone(),
        (SqlType::Decimal { precision, scale }, Value::Decimal(unscaled, from)) => {
            let fitted = BigDec::from_unscaled(*unscaled, *from)
                .ensure_fit(*precision, *scale)
                .map_err(FormatError::Serialize)?;
            BigDec::from_unscaled(fitted, *scale).to_plain_string()
        }
        (SqlType::Timestamp, Value::Timestamp(v)) => v.to_string(),
        (SqlType::Date, Value::Date(v)) => v.to_string(),
        (SqlType::Time, Value::Time(v)) => v.to_string(),
        (SqlType::Bytes, Value::Bytes(b)) => base64::engine::general_purpose::STANDARD.encode(b),
        (ty, value) => return Err(super::type_mismatch(value, ty)),
    }))
}
