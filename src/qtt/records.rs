//! Converting test records between the logical JSON of case files and topic bytes, using the
//! formats of the source registered on each topic.

use crate::common::{SqlType, Value};
use crate::format::{self, ColumnSpec, FormatKind, FormatSpec, Part, WindowBounds, WindowInfo};
use crate::plan::SourceDef;
use crate::plan::schema::ColumnRole;
use base64::Engine as _;
use serde_json::Value as Json;

/// The format and columns of one side (key or value) of a topic.
pub struct Side {
    pub format: FormatSpec,
    pub columns: Vec<ColumnSpec>,
    /// Keys only: the window of windowed keys.
    pub window: Option<WindowInfo>,
}

pub fn sides(source: &SourceDef) -> (Side, Side) {
    let cols = |role: ColumnRole| {
        source
            .schema
            .columns
            .iter()
            .filter(|c| c.role == role)
            .map(|c| ColumnSpec {
                name: c.name.clone(),
                sql_type: c.sql_type.clone(),
            })
            .collect()
    };
    (
        Side {
            format: source.key_format.clone(),
            columns: cols(ColumnRole::Key),
            window: source.window,
        },
        Side {
            format: source.value_format.clone(),
            columns: cols(ColumnRole::Value),
            window: None,
        },
    )
}

/// Logical JSON → bytes for an input record.
pub fn to_bytes(json: &Json, side: Option<&Side>, part: Part) -> Result<Option<Vec<u8>>, String> {
    if json.is_null() {
        return Ok(None);
    }
    let Some(side) = side else {
        return Ok(Some(match json {
            Json::String(s) => s.as_bytes().to_vec(),
            other => other.to_string().into_bytes(),
        }));
    };
    match side.format.kind {
        FormatKind::Json => Ok(Some(json.to_string().into_bytes())),
        FormatKind::Delimited => Ok(Some(match json {
            Json::String(s) => s.as_bytes().to_vec(),
            other => other.to_string().into_bytes(),
        })),
        FormatKind::None => Ok(None),
        FormatKind::Kafka => {
            let Some(column) = side.columns.first() else {
                return Ok(None);
            };
            let value = json_to_value(json, &column.sql_type)?;
            format::serialize(&side.format, part, &side.columns, &[value])
                .map_err(|e| e.to_string())
        }
    }
}

/// A case record's `window` (`{"start": ms, "end": ms, "type": ...}`) appended to its key.
pub fn append_window(key: &mut Vec<u8>, window: &Json, side: &Side) -> Result<(), String> {
    let Some(info) = side.window else {
        return Ok(());
    };
    let bound = |name: &str| {
        window
            .get(name)
            .and_then(Json::as_i64)
            .ok_or_else(|| format!("window without a numeric {name}: {window}"))
    };
    let bounds = WindowBounds {
        start: bound("start")?,
        end: bound("end")?,
    };
    info.append(bounds, key);
    Ok(())
}

/// A windowed key's window as case files write it; the inner key's bytes.
pub fn split_window<'a>(key: &'a [u8], side: &Side) -> (&'a [u8], Option<Json>) {
    let Some(info) = side.window else {
        return (key, None);
    };
    match info.split(key) {
        Ok((inner, w)) => {
            let kind = match info.kind {
                format::WindowKind::Session => "session",
                _ => "time",
            };
            let json = serde_json::json!({"start": w.start, "end": w.end, "type": kind});
            (inner, Some(json))
        }
        Err(_) => (key, None),
    }
}

fn json_to_value(json: &Json, t: &SqlType) -> Result<Value, String> {
    Ok(match (t, json) {
        (_, Json::Null) => Value::Null,
        (SqlType::Int, Json::Number(n)) => Value::Int(n.as_i64().ok_or("not an integer")? as i32),
        (SqlType::Bigint, Json::Number(n)) => Value::Bigint(n.as_i64().ok_or("not an integer")?),
        (SqlType::Double, Json::Number(n)) => Value::Double(n.as_f64().ok_or("not a number")?),
        (SqlType::String, Json::String(s)) => Value::String(s.clone()),
        (SqlType::String, other) => Value::String(other.to_string()),
        (SqlType::Bytes, Json::String(s)) => Value::Bytes(
            base64::engine::general_purpose::STANDARD
                .decode(s)
                .map_err(|e| e.to_string())?,
        ),
        (SqlType::Int, Json::String(s)) => {
            Value::Int(s.parse().map_err(|_| format!("not an INT: {s}"))?)
        }
        (SqlType::Bigint, Json::String(s)) => {
            Value::Bigint(s.parse().map_err(|_| format!("not a BIGINT: {s}"))?)
        }
        (SqlType::Double, Json::String(s)) => {
            Value::Double(s.parse().map_err(|_| format!("not a DOUBLE: {s}"))?)
        }
        (t, other) => return Err(format!("cannot write {other} as {t}")),
    })
}

/// Topic bytes → logical JSON for comparing an output record.
pub fn to_json(bytes: Option<&[u8]>, side: Option<&Side>, part: Part) -> Json {
    let Some(bytes) = bytes else {
        return Json::Null;
    };
    let text = || Json::String(String::from_utf8_lossy(bytes).into_owned());
    let Some(side) = side else {
        return serde_json::from_slice(bytes).unwrap_or_else(|_| text());
    };
    match side.format.kind {
        FormatKind::Json => serde_json::from_slice(bytes).unwrap_or_else(|_| text()),
        FormatKind::Delimited => text(),
        FormatKind::None => Json::Null,
        FormatKind::Kafka => {
            match format::deserialize(&side.format, part, &side.columns, Some(bytes)) {
                Ok(Some(values)) => values.first().map(value_to_json).unwrap_or(Json::Null),
                _ => text(),
            }
        }
    }
}

pub use crate::engine::value_json::value_to_json;
