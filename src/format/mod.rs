//! Bytes ↔ values for each ksqlDB serialization format: JSON, DELIMITED, KAFKA (primitive
//! keys and values), NONE. Keys and values are serialised exactly as ksqlDB does, so topics
//! written by other producers (and ksqlDB itself) work. See `docs/formats.md`.
//!
//! `deserialize`/`serialize` handle one record as `Value`s; `RowReader`/`RowWriter` are the
//! column-wise equivalents used by queries (cells in, Arrow arrays out), with fast paths for
//! JSON and KAFKA that give the same results.
//!
//! May import: `common`.

mod csv;
mod delimited;
mod java;
mod java_hash_map;
mod json;
mod json_emit;
mod json_fast;
mod json_node;
mod json_parse;
mod json_read;
mod json_scan;
mod kafka;
mod reader;
mod short_double;
mod windowed;
mod writer;

use crate::common::{SqlType, Value};
pub use java_hash_map::{DEFAULT_CAPACITY as JAVA_HASH_MAP_CAPACITY, hash_map_order};
pub use reader::RowReader;
pub use windowed::{WindowBounds, WindowInfo, WindowKind};
pub use writer::RowWriter;

/// The serialization formats Brook reads and writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FormatKind {
    Json,
    Delimited,
    Kafka,
    /// No data (key format of streams without key columns).
    None,
}

impl FormatKind {
    /// Parses a format name as written in `KEY_FORMAT`/`VALUE_FORMAT`/`FORMAT` (case-insensitive).
    pub fn parse(name: &str) -> Result<FormatKind, FormatError> {
        match name.to_ascii_uppercase().as_str() {
            "JSON" => Ok(FormatKind::Json),
            "DELIMITED" => Ok(FormatKind::Delimited),
            "KAFKA" => Ok(FormatKind::Kafka),
            "NONE" => Ok(FormatKind::None),
            other => Err(FormatError::Unsupported(format!("Unknown format: {other}"))),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            FormatKind::Json => "JSON",
            FormatKind::Delimited => "DELIMITED",
            FormatKind::Kafka => "KAFKA",
            FormatKind::None => "NONE",
        }
    }
}

/// A format with its options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormatSpec {
    pub kind: FormatKind,
    /// DELIMITED only: the field delimiter (`VALUE_DELIMITER`/`KEY_DELIMITER`), default ','.
    pub delimiter: char,
    /// Values only: `WRAP_SINGLE_VALUE`. `None` means the format's default (wrapped for JSON).
    pub wrap_single_value: Option<bool>,
}

impl FormatSpec {
    pub fn new(kind: FormatKind) -> FormatSpec {
        FormatSpec {
            kind,
            delimiter: ',',
            wrap_single_value: None,
        }
    }
}

/// A column as a format sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnSpec {
    pub name: String,
    pub sql_type: SqlType,
}

/// Whether the bytes are a record's key or its value (the rules differ).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    Key,
    Value,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// The format cannot represent these columns (checked when a source is created).
    #[error("{0}")]
    Unsupported(String),
    /// Bytes that do not decode into the columns.
    #[error("{0}")]
    Deserialize(String),
    /// Values that cannot be written in this format.
    #[error("{0}")]
    Serialize(String),
}

/// Checks that `columns` can be stored as `part` in this format, with ksqlDB's error messages
/// (e.g. the KAFKA format takes a single column of a supported type).
pub fn validate(spec: &FormatSpec, part: Part, columns: &[ColumnSpec]) -> Result<(), FormatError> {
    if part == Part::Key && spec.kind != FormatKind::None {
        check_no_map_in_key(columns)?;
    }
    match spec.kind {
        FormatKind::Json => json::validate(spec, part, columns),
        FormatKind::Delimited => delimited::validate(spec, part, columns),
        FormatKind::Kafka => kafka::validate(spec, part, columns),
        FormatKind::None => none_validate(part, columns),
    }
}

/// Decodes one key or value into one value per column (in column order). `None` bytes (a null
/// key, or a tombstone value) give `Ok(None)`, and so does a wrapped JSON document that is
/// `null`. Errors carry ksqlDB's detail message (e.g. `Can't convert type. …, path: $.V`); the
/// caller adds the topic, as ksqlDB's `Failed to deserialize value from topic: t. ` does.
pub fn deserialize(
    spec: &FormatSpec,
    part: Part,
    columns: &[ColumnSpec],
    bytes: Option<&[u8]>,
) -> Result<Option<Vec<Value>>, FormatError> {
    let Some(bytes) = bytes else { return Ok(None) };
    match spec.kind {
        FormatKind::Json => json::deserialize(spec, part, columns, bytes),
        FormatKind::Delimited => delimited::deserialize(spec, part, columns, bytes).map(Some),
        FormatKind::Kafka => kafka::deserialize(spec, part, columns, bytes).map(Some),
        FormatKind::None => Ok(Some(Vec::new())),
    }
}

/// Whether bytes that are not null still decode to a null row ([`deserialize`] gives
/// `Ok(None)`): a wrapped JSON document that is `null`. Such a record is a tombstone.
pub fn is_null_row(spec: &FormatSpec, part: Part, columns: &[ColumnSpec], bytes: &[u8]) -> bool {
    spec.kind == FormatKind::Json && json::is_null_row(spec, part, columns, bytes)
}

/// Decodes a row given to the REST API as a JSON object of column values (names matched as
/// in a JSON record): like a JSON record's value, except that a number must fit its INT or
/// BIGINT column exactly (ksqlDB's `ApiSqlValueCoercer`), where a record's is truncated.
pub fn deserialize_api_row(
    columns: &[ColumnSpec],
    bytes: &[u8],
) -> Result<Option<Vec<Value>>, FormatError> {
    json::deserialize_api_row(columns, bytes)
}

/// Encodes one value per column. `Ok(None)` means a null key or value is written (e.g. NONE,
/// or an unwrapped single null).
pub fn serialize(
    spec: &FormatSpec,
    part: Part,
    columns: &[ColumnSpec],
    values: &[Value],
) -> Result<Option<Vec<u8>>, FormatError> {
    match spec.kind {
        FormatKind::Json => json::serialize(spec, part, columns, values),
        FormatKind::Delimited => delimited::serialize(spec, part, columns, values),
        FormatKind::Kafka => kafka::serialize(spec, part, columns, values),
        FormatKind::None => Ok(None),
    }
}

fn none_validate(part: Part, columns: &[ColumnSpec]) -> Result<(), FormatError> {
    match (part, columns.is_empty()) {
        (_, true) => Ok(()),
        (Part::Key, false) => {
            let listed: Vec<String> = columns
                .iter()
                .map(|c| format!("`{}` {} KEY", c.name, c.sql_type))
                .collect();
            Err(FormatError::Unsupported(format!(
                "The 'NONE' format can only be used when no columns are defined. Got: [{}]",
                listed.join(", ")
            )))
        }
        (Part::Value, false) => Err(FormatError::Unsupported(
            "The 'NONE' format can only be used when no columns are defined.".to_string(),
        )),
    }
}

/// ksqlDB rejects maps anywhere in a key column, whatever the format (`GenericKeySerDe`).
fn check_no_map_in_key(columns: &[ColumnSpec]) -> Result<(), FormatError> {
    fn has_map(ty: &SqlType) -> bool {
        match ty {
            SqlType::Map(_, _) => true,
            SqlType::Array(e) => has_map(e),
            SqlType::Struct(fields) => fields.iter().any(|f| has_map(&f.sql_type)),
            _ => false,
        }
    }
    match columns.iter().find(|c| has_map(&c.sql_type)) {
        None => Ok(()),
        Some(c) => Err(FormatError::Unsupported(format!(
            "Map keys, including types that contain maps, are not supported as they may lead to \
             unexpected behavior due to inconsistent serialization. Key column name: `{}`. Column \
             type: {}. See https://github.com/confluentinc/ksql/issues/6621 for more.",
            c.name, c.sql_type
        ))),
    }
}

/// `WRAP_SINGLE_VALUE`, when set explicitly, needs a single value column. (A default taken from
/// `ksql.persistence.wrap.single.values` should only be put in the spec for single columns.)
fn check_wrapping(
    spec: &FormatSpec,
    part: Part,
    columns: &[ColumnSpec],
) -> Result<(), FormatError> {
    if part == Part::Value && spec.wrap_single_value.is_some() && columns.len() != 1 {
        return Err(FormatError::Unsupported(
            "'WRAP_SINGLE_VALUE' is only valid for single-field value schemas".to_string(),
        ));
    }
    Ok(())
}

/// The row to write must have one value per column.
fn check_value_count(columns: &[ColumnSpec], values: &[Value]) -> Result<(), FormatError> {
    if columns.len() == values.len() {
        return Ok(());
    }
    Err(FormatError::Serialize(format!(
        "Column count mismatch on serialization. expected: {}, got: {}",
        columns.len(),
        values.len()
    )))
}

/// A value whose kind does not match its column's type.
fn type_mismatch(value: &Value, ty: &SqlType) -> FormatError {
    FormatError::Serialize(format!("Cannot serialize value {value:?} as type {ty}"))
}

#[cfg(test)]
mod tests;
