//! The JSON format, as ksqlDB reads it (`KsqlJsonDeserializer`) and writes it (Connect's
//! `JsonConverter` without schemas, decimals as numbers).
//!
//! A row is an object with one field per column (wrapped), except a single key column, and a
//! single value column with `WRAP_SINGLE_VALUE=false`, which are the bare value (unwrapped).
//! Output is compact, fields in column order; DOUBLE is written like Java's `Double.toString`,
//! DECIMAL as a number with the column's full scale, BYTES as base64.

use super::java::{self, BigDec};
use super::json_node::{self, JsonNode};
use super::json_parse;
use super::json_read::{self, CoerceError, Integers};
use super::{ColumnSpec, FormatError, FormatSpec, Part};
use crate::common::{SqlType, StructField, Value};
use base64::Engine as _;
use std::fmt::Write as _;

pub(super) fn validate(
    spec: &FormatSpec,
    part: Part,
    columns: &[ColumnSpec],
) -> Result<(), FormatError> {
    super::check_wrapping(spec, part, columns)?;
    if columns.iter().any(|c| has_non_string_map_key(&c.sql_type)) {
        return Err(FormatError::Unsupported(
            "JSON only supports MAP types with STRING keys".to_string(),
        ));
    }
    Ok(())
}

fn has_non_string_map_key(ty: &SqlType) -> bool {
    match ty {
        SqlType::Map(k, v) => **k != SqlType::String || has_non_string_map_key(v),
        SqlType::Array(e) => has_non_string_map_key(e),
        SqlType::Struct(fields) => fields.iter().any(|f| has_non_string_map_key(&f.sql_type)),
        _ => false,
    }
}

/// Whether the bytes are the bare value of the only column rather than an object.
pub(super) fn unwrapped(spec: &FormatSpec, part: Part, columns: &[ColumnSpec]) -> bool {
    columns.len() == 1
        && match part {
            Part::Key => true,
            Part::Value => spec.wrap_single_value == Some(false),
        }
}

/// A wrapped document that is JSON `null` is a null row (`Ok(None)`).
pub(super) fn deserialize(
    spec: &FormatSpec,
    part: Part,
    columns: &[ColumnSpec],
    bytes: &[u8],
) -> Result<Option<Vec<Value>>, FormatError> {
    read(spec, part, columns, bytes, Integers::Truncate)
}

/// A row given to the REST API (an object of column values): as [`deserialize`] reads a
/// record's value, except that a number must fit its INT or BIGINT column exactly.
pub(super) fn deserialize_api_row(
    columns: &[ColumnSpec],
    bytes: &[u8],
) -> Result<Option<Vec<Value>>, FormatError> {
    let spec = FormatSpec::new(super::FormatKind::Json);
    read(&spec, Part::Value, columns, bytes, Integers::Exact)
}

/// Whether a record's bytes are a null row: a wrapped document that is JSON `null`.
pub(super) fn is_null_row(
    spec: &FormatSpec,
    part: Part,
    columns: &[ColumnSpec],
    bytes: &[u8],
) -> bool {
    let keyless = part == Part::Key && columns.is_empty();
    let wrapped = !(unwrapped(spec, part, columns) || keyless);
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    // Any other first character is not `null`: no need to parse the document.
    let starts_null = bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'n');
    wrapped && starts_null && json_parse::parse(bytes) == Ok(JsonNode::Null)
}

fn read(
    spec: &FormatSpec,
    part: Part,
    columns: &[ColumnSpec],
    bytes: &[u8],
    ints: Integers,
) -> Result<Option<Vec<Value>>, FormatError> {
    if part == Part::Key && columns.is_empty() {
        return Ok(Some(Vec::new()));
    }
    let node = json_parse::parse(bytes).map_err(FormatError::Deserialize)?;
    let failed = |e: CoerceError| FormatError::Deserialize(e.describe());
    if unwrapped(spec, part, columns) {
        let value = json_read::coerce(&node, &columns[0].sql_type, ints).map_err(failed)?;
        return Ok(Some(vec![value]));
    }
    let row_fields: Vec<StructField> = columns
        .iter()
        .map(|c| StructField {
            name: c.name.clone(),
            sql_type: c.sql_type.clone(),
        })
        .collect();
    match &node {
        JsonNode::Null => Ok(None),
        JsonNode::Object(fields) => json_read::coerce_fields(fields, &row_fields, ints)
            .map(Some)
            .map_err(failed),
        other => Err(failed(json_read::invalid(
            other,
            &SqlType::Struct(row_fields),
        ))),
    }
}

/// An unwrapped NULL is written as a Kafka null (`Ok(None)`).
pub(super) fn serialize(
    spec: &FormatSpec,
    part: Part,
    columns: &[ColumnSpec],
    values: &[Value],
) -> Result<Option<Vec<u8>>, FormatError> {
    if part == Part::Key && columns.is_empty() {
        return Ok(None);
    }
    super::check_value_count(columns, values)?;
    let mut out = String::new();
    if unwrapped(spec, part, columns) {
        if values[0].is_null() {
            return Ok(None);
        }
        write_value(&mut out, &values[0], &columns[0].sql_type)?;
    } else {
        out.push('{');
        for (i, (column, value)) in columns.iter().zip(values).enumerate() {
            if i > 0 {
                out.push(',');
            }
            json_node::write_string(&mut out, &column.name);
            out.push(':');
            write_value(&mut out, value, &column.sql_type)?;
        }
        out.push('}');
    }
    Ok(Some(out.into_bytes()))
}

pub(super) fn write_value(
    out: &mut String,
    value: &Value,
    ty: &SqlType,
) -> Result<(), FormatError> {
    match (ty, value) {
        (_, Value::Null) => out.push_str("null"),
        (SqlType::Boolean, Value::Boolean(b)) => out.push_str(if *b { "true" } else { "false" }),
        (SqlType::Int, Value::Int(v)) => push_display(out, v),
        (SqlType::Bigint, Value::Bigint(v)) => push_display(out, v),
        (SqlType::Bigint, Value::Int(v)) => push_display(out, v),
        (SqlType::Timestamp, Value::Timestamp(v)) => push_display(out, v),
        (SqlType::Date, Value::Date(v)) => push_display(out, v),
        (SqlType::Time, Value::Time(v)) => push_display(out, v),
        (SqlType::Double, Value::Double(d)) if d.is_finite() => {
            out.push_str(&java::double_to_string(*d));
        }
        // Jackson quotes the non-numeric doubles.
        (SqlType::Double, Value::Double(d)) => {
            json_node::write_string(out, &java::double_to_string(*d))
        }
        (SqlType::String, Value::String(s)) => json_node::write_string(out, s),
        (SqlType::Decimal { precision, scale }, Value::Decimal(unscaled, from)) => {
            let fitted = BigDec::from_unscaled(*unscaled, *from)
                .ensure_fit(*precision, *scale)
                .map_err(FormatError::Serialize)?;
            out.push_str(&BigDec::from_unscaled(fitted, *scale).to_java_string());
        }
        (SqlType::Bytes, Value::Bytes(b)) => {
            json_node::write_string(out, &base64::engine::general_purpose::STANDARD.encode(b));
        }
        (SqlType::Array(element), Value::Array(items)) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item, element)?;
            }
            out.push(']');
        }
        (SqlType::Map(_, value_type), Value::Map(entries)) => {
            out.push('{');
            for (i, (key, item)) in entries.iter().enumerate() {
                let Value::String(key) = key else {
                    return Err(super::type_mismatch(key, &SqlType::String));
                };
                if i > 0 {
                    out.push(',');
                }
                json_node::write_string(out, key);
                out.push(':');
                write_value(out, item, value_type)?;
            }
            out.push('}');
        }
        (SqlType::Struct(fields), Value::Struct(values)) => {
            out.push('{');
            for (i, field) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_node::write_string(out, &field.name);
                out.push(':');
                write_value(out, struct_field(values, fields, i), &field.sql_type)?;
            }
            out.push('}');
        }
        (ty, value) => return Err(super::type_mismatch(value, ty)),
    }
    Ok(())
}

fn push_display(out: &mut String, v: &dyn std::fmt::Display) {
    let _ = write!(out, "{v}");
}

/// Field `i` of a struct value: by name, else by position when the value's names differ.
pub(super) fn struct_field<'a>(
    values: &'a [(String, Value)],
    fields: &[StructField],
    i: usize,
) -> &'a Value {
    let by_name = values
        .iter()
        .find(|(n, _)| *n == fields[i].name)
        .map(|(_, v)| v);
    let by_position = || (values.len() == fields.len()).then(|| &values[i].1);
    by_name.or_else(by_position).unwrap_or(&Value::Null)
}
