//! Reading JSON into SQL values with ksqlDB's lenient coercions (`KsqlJsonDeserializer`):
//! numbers and strings into numeric types (truncating like Jackson), anything into STRING,
//! decimals fitted to the column, case-insensitive matching of upper-case field names, and
//! errors that carry the JSON path of the offending value (`…, path: $.A[1]`).

use super::java::{self, BigDec};
use super::json_node::{JsonNode, JsonNumber};
use crate::common::{SqlType, StructField, Value};
use base64::Engine as _;

/// A coercion failure: ksqlDB's message and the path to the value, built as the error unwinds.
#[derive(Debug)]
pub(super) struct CoerceError {
    message: String,
    path: String,
}

impl CoerceError {
    fn new(message: impl Into<String>) -> CoerceError {
        CoerceError {
            message: message.into(),
            path: String::new(),
        }
    }

    fn within(mut self, part: &str) -> CoerceError {
        self.path.insert_str(0, part);
        self
    }

    /// `<message>, path: $<path>`.
    pub(super) fn describe(&self) -> String {
        format!("{}, path: ${}", self.message, self.path)
    }
}

type Coerced = Result<Value, CoerceError>;

/// How a JSON number becomes an INT, a BIGINT or a temporal value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Integers {
    /// Truncated to its low bits, like Jackson's `intValue()`/`asLong()`: how ksqlDB's
    /// `KsqlJsonDeserializer` reads records.
    Truncate,
    /// Only an integer that fits; anything else is an error, as ksqlDB's REST API coerces an
    /// inserted row (`ApiSqlValueCoercer`: a `Long` never goes into an INT).
    Exact,
}

/// Coerces `node` to `ty`; JSON `null` (at any depth) is SQL NULL.
pub(super) fn coerce(node: &JsonNode, ty: &SqlType, ints: Integers) -> Coerced {
    match node {
        JsonNode::Null => Ok(Value::Null),
        _ => coerce_non_null(node, ty, ints),
    }
}

/// The fields of a STRUCT (or of a wrapped row) read from a JSON object.
pub(super) fn coerce_fields(
    fields: &[(String, JsonNode)],
    columns: &[StructField],
    ints: Integers,
) -> Result<Vec<Value>, CoerceError> {
    columns
        .iter()
        .map(|column| {
            let exact = fields
                .iter()
                .find(|(k, _)| *k == column.name)
                .map(|(_, v)| v);
            // Otherwise the last field whose upper-cased name is the column's (ksqlDB reads
            // fields into a HashMap of upper-cased names, so later keys win). Compared char by
            // char: no map or string is built per record.
            let node = exact.or_else(|| {
                fields
                    .iter()
                    .rev()
                    .find(|(k, _)| {
                        k.chars()
                            .flat_map(char::to_uppercase)
                            .eq(column.name.chars())
                    })
                    .map(|(_, v)| v)
            });
            match node {
                None => Ok(Value::Null),
                Some(node) => coerce(node, &column.sql_type, ints)
                    .map_err(|e| e.within(&format!(".{}", column.name))),
            }
        })
        .collect()
}

fn coerce_non_null(node: &JsonNode, ty: &SqlType, ints: Integers) -> Coerced {
    match ty {
        SqlType::Boolean => match node {
            JsonNode::Bool(b) => Ok(Value::Boolean(*b)),
            _ => Err(invalid(node, ty)),
        },
        SqlType::Int => integral(node, ty, ints, INT).map(Value::Int),
        SqlType::Bigint => integral(node, ty, ints, LONG).map(Value::Bigint),
        SqlType::Timestamp => integral(node, ty, ints, LONG).map(Value::Timestamp),
        SqlType::Date => {
            // Epoch days are read as a long and narrowed, as `java.sql.Date` does.
            integral(node, ty, ints, LONG).map(|d| Value::Date(d as i32))
        }
        SqlType::Time => {
            integral(node, ty, ints, LONG).and_then(|ms| time_of_day(ms).map_err(CoerceError::new))
        }
        SqlType::Double => match node {
            JsonNode::Number(n) => Ok(Value::Double(n.double())),
            JsonNode::Text(s) => java::parse_double(s)
                .map(Value::Double)
                .map_err(|_| cannot_coerce_string(ty)),
            _ => Err(invalid(node, ty)),
        },
        SqlType::String => Ok(Value::String(as_string(node))),
        SqlType::Decimal { precision, scale } => {
            let decimal = match node {
                JsonNode::Number(n) => n.decimal(),
                JsonNode::Text(s) => BigDec::parse(s).map_err(CoerceError::new)?,
                _ => return Err(invalid(node, ty)),
            };
            decimal
                .ensure_fit(*precision, *scale)
                .map(|unscaled| Value::Decimal(unscaled, *scale))
                .map_err(CoerceError::new)
        }
        SqlType::Bytes => match node {
            JsonNode::Text(s) => decode_base64(s).map(Value::Bytes).map_err(CoerceError::new),
            _ => Err(invalid(node, ty)),
        },
        SqlType::Array(element) => match node {
            JsonNode::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    coerce(item, element, ints).map_err(|e| e.within(&format!("[{i}]")))
                })
                .collect::<Result<_, _>>()
                .map(Value::Array),
            _ => Err(invalid(node, ty)),
        },
        SqlType::Map(_, value_type) => match node {
            JsonNode::Object(fields) => {
                let mut entries = fields
                    .iter()
                    .map(|(k, v)| {
                        let value = coerce(v, value_type, ints);
                        Ok((
                            k.clone(),
                            value.map_err(|e| e.within(&format!(".{k}.value")))?,
                        ))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                // ksqlDB holds the map in a HashMap: its entries come out in that order.
                let size = entries.len();
                super::java_hash_map::hash_map_order(&mut entries, size);
                let entries = entries.into_iter().map(|(k, v)| (Value::String(k), v));
                Ok(Value::Map(entries.collect()))
            }
            _ => Err(invalid(node, ty)),
        },
        SqlType::Struct(columns) => match node {
            JsonNode::Object(fields) => {
                let values = coerce_fields(fields, columns, ints)?;
                let names = columns.iter().map(|c| c.name.clone());
                Ok(Value::Struct(names.zip(values).collect()))
            }
            _ => Err(invalid(node, ty)),
        },
    }
}

/// How an integral type reads a JSON number (truncated, or exactly) and a string.
struct Integral<T> {
    truncated: fn(&JsonNumber) -> T,
    exact: fn(&JsonNumber) -> Option<T>,
    from_text: fn(&str) -> Result<T, String>,
}

const INT: Integral<i32> = Integral {
    truncated: JsonNumber::int,
    exact: JsonNumber::exact_int,
    from_text: java::parse_int,
};

const LONG: Integral<i64> = Integral {
    truncated: JsonNumber::long,
    exact: JsonNumber::exact_long,
    from_text: java::parse_long,
};

/// INT, BIGINT and the temporal types: a number (truncated, or exact) or a string of digits.
fn integral<T>(
    node: &JsonNode,
    ty: &SqlType,
    ints: Integers,
    how: Integral<T>,
) -> Result<T, CoerceError> {
    match (node, ints) {
        (JsonNode::Number(n), Integers::Truncate) => Ok((how.truncated)(n)),
        (JsonNode::Number(n), Integers::Exact) => (how.exact)(n).ok_or_else(|| {
            let (class, text) = n.java_object();
            CoerceError::new(format!(
                "Can't coerce a field of type class {class} ({text}) into type {ty}"
            ))
        }),
        (JsonNode::Text(s), _) => (how.from_text)(s).map_err(|_| cannot_coerce_string(ty)),
        _ => Err(invalid(node, ty)),
    }
}

/// ksqlDB's `SerdeUtils.returnTimeOrThrow`: milliseconds within one day.
pub(super) fn time_of_day(ms: i64) -> Result<Value, String> {
    if (0..=86_400_000).contains(&ms) {
        Ok(Value::Time(ms as i32))
    } else {
        Err(
            "Time values must use number of milliseconds greater than 0 and less than 86400000."
                .to_string(),
        )
    }
}

/// Standard base64, padding required, as Jackson's `binaryValue()` reads it.
fn decode_base64(text: &str) -> Result<Vec<u8>, String> {
    let config = base64::engine::GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true);
    base64::engine::GeneralPurpose::new(&base64::alphabet::STANDARD, config)
        .decode(text)
        .map_err(|_| format!("Value is not a valid Base64 encoded string: {text}"))
}

/// ksqlDB's STRING coercion: text as is, numbers and booleans as their JSON text, objects as
/// compact JSON, arrays as `[a, b]` of their elements coerced to strings (`null` for NULL).
fn as_string(node: &JsonNode) -> String {
    let mut out = String::new();
    push_as_string(&mut out, node);
    out
}

fn push_as_string(out: &mut String, node: &JsonNode) {
    match node {
        JsonNode::Text(s) => out.push_str(s),
        JsonNode::Number(n) => out.push_str(&n.text()),
        JsonNode::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        // Only reached inside arrays: `Objects.toString(null)`.
        JsonNode::Null => out.push_str("null"),
        JsonNode::Missing => {}
        JsonNode::Object(_) => node.write(out),
        JsonNode::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                push_as_string(out, item);
            }
            out.push(']');
        }
    }
}

pub(super) fn invalid(node: &JsonNode, ty: &SqlType) -> CoerceError {
    CoerceError::new(format!(
        "Can't convert type. sourceType: {}, requiredType: {}",
        node.node_type(),
        required_type_name(ty)
    ))
}

fn cannot_coerce_string(ty: &SqlType) -> CoerceError {
    CoerceError::new(format!(
        "Can't coerce string to type. targetType: {}",
        required_type_name(ty)
    ))
}

/// The type as ksqlDB names it in coercion errors: the SQL base type for primitives, Connect's
/// SQL rendering (`VARCHAR`, `INT`, unquoted struct fields) for the other types.
pub(super) fn required_type_name(ty: &SqlType) -> String {
    match ty {
        SqlType::Boolean => "BOOLEAN".into(),
        SqlType::Int => "INTEGER".into(),
        SqlType::Bigint => "BIGINT".into(),
        SqlType::Double => "DOUBLE".into(),
        SqlType::String => "STRING".into(),
        SqlType::Timestamp => "TIMESTAMP".into(),
        SqlType::Date => "DATE".into(),
        SqlType::Time => "TIME".into(),
        other => connect_type_name(other),
    }
}

fn connect_type_name(ty: &SqlType) -> String {
    match ty {
        SqlType::Boolean => "BOOLEAN".into(),
        SqlType::Int => "INT".into(),
        SqlType::Bigint => "BIGINT".into(),
        SqlType::Double => "DOUBLE".into(),
        SqlType::String => "VARCHAR".into(),
        SqlType::Bytes => "BYTES".into(),
        SqlType::Timestamp => "TIMESTAMP".into(),
        SqlType::Date => "DATE".into(),
        SqlType::Time => "TIME".into(),
        SqlType::Decimal { precision, scale } => format!("DECIMAL({precision}, {scale})"),
        SqlType::Array(e) => format!("ARRAY<{}>", connect_type_name(e)),
        SqlType::Map(k, v) => format!("MAP<{}, {}>", connect_type_name(k), connect_type_name(v)),
        SqlType::Struct(fields) if fields.is_empty() => "STRUCT< >".into(),
        SqlType::Struct(fields) => {
            let fields: Vec<String> = fields
                .iter()
                .map(|f| format!("{} {}", f.name, connect_type_name(&f.sql_type)))
                .collect();
            format!("STRUCT<{}>", fields.join(", "))
        }
    }
}
