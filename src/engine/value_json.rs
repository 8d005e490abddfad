//! Values as ksqlDB's REST API writes them in rows: numbers as numbers (DOUBLE in Java's
//! text form), DECIMAL as a JSON number of its exact digits, BYTES in base64, DATE and TIME
//! as their day or millisecond counts, maps and structs as objects.

use crate::common::Value;
use crate::plan::expr::{base64, java_double};
use serde_json::Value as Json;

pub fn value_to_json(v: &Value) -> Json {
    match v {
        Value::Null => Json::Null,
        Value::Boolean(b) => Json::Bool(*b),
        Value::Int(x) => Json::from(*x),
        Value::Bigint(x) | Value::Timestamp(x) => Json::from(*x),
        Value::Double(d) => serde_json::from_str(&java_double(*d)).unwrap_or(Json::Null),
        Value::Decimal(..) => {
            serde_json::from_str(&crate::plan::expr::to_text(v)).unwrap_or(Json::Null)
        }
        Value::String(s) => Json::String(s.clone()),
        Value::Bytes(b) => Json::String(base64(b)),
        Value::Date(d) | Value::Time(d) => Json::from(*d),
        Value::Array(items) => Json::Array(items.iter().map(value_to_json).collect()),
        Value::Map(entries) => Json::Object(
            entries
                .iter()
                .map(|(k, v)| (crate::plan::expr::to_text(k), value_to_json(v)))
                .collect(),
        ),
        Value::Struct(fields) => Json::Object(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), value_to_json(v)))
                .collect(),
        ),
    }
}
