//! Decoding records into Arrow batches: key and value bytes through their formats, header
//! columns, ROWTIME (the record timestamp or the source's TIMESTAMP column), ROWPARTITION and
//! ROWOFFSET, and the window bounds of windowed keys. A record that fails to decode is
//! reported and skipped.
//!
//! Column-wise: each record is read into reused cells (strings borrowed from its bytes), which
//! are appended to one Arrow builder per column once the whole record has decoded.

use super::processing_log::{ProcessingError, ProcessingLog};
use crate::common::{Cell, ColumnBuilder, SqlType, Value};
use crate::format::{ColumnSpec, Part, RowReader, WindowBounds, WindowInfo};
use crate::plan::SourceDef;
use crate::plan::schema::ColumnRole;
use crate::transport::Record;
use arrow::array::ArrayRef;
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

pub struct Decoder {
    topic: String,
    schema: SchemaRef,
    /// The type of each batch column (the source's columns, then the pseudo-columns).
    types: Vec<SqlType>,
    keys: RowReader,
    key_count: usize,
    /// A table's records need a key (one without is skipped and reported, as Kafka Streams
    /// skips it).
    table: bool,
    values: RowReader,
    /// Windowed keys: the window follows the inner key's bytes.
    window: Option<WindowInfo>,
    /// Where each source column comes from.
    slots: Vec<Slot>,
    timestamp_column: Option<(usize, Option<String>)>,
    /// A record without a valid event time fails the query (see `QueryStart`).
    fatal_timestamp_errors: bool,
    query_id: String,
}

/// The origin of a source column: the n-th key or value column, or a header.
enum Slot {
    Key(usize),
    Value(usize),
    Header(Option<String>),
}

/// The cells of the record being decoded, reused from record to record.
/// Why a record was not decoded.
enum RowError {
    /// The key or value bytes.
    Decode(String),
    /// The event time (TIMESTAMP column or record timestamp).
    Timestamp(String),
}

#[derive(Default)]
struct Scratch<'a> {
    keys: Vec<Cell<'a>>,
    values: Vec<Cell<'a>>,
    /// The window of a windowed key (`None` for a null key).
    window: Option<WindowBounds>,
}

impl Decoder {
    pub fn new(source: &SourceDef, query_id: &str) -> Decoder {
        let spec = |role: ColumnRole| -> Vec<ColumnSpec> {
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
        let (keys, values) = (spec(ColumnRole::Key), spec(ColumnRole::Value));
        let timestamp_column = source.timestamp.as_ref().and_then(|t| {
            source
                .schema
                .columns
                .iter()
                .position(|c| c.name == t.column)
                .map(|i| (i, t.format.clone()))
        });
        let schema = source.batch_schema();
        Decoder {
            topic: source.topic.clone(),
            types: schema
                .fields()
                .iter()
                .map(|f| SqlType::from_arrow(f.data_type()).unwrap_or(SqlType::String))
                .collect(),
            schema,
            keys: RowReader::new(&source.key_format, Part::Key, &keys),
            key_count: keys.len(),
            table: source.is_table(),
            values: RowReader::new(&source.value_format, Part::Value, &values),
            window: source.window,
            slots: slots(source),
            timestamp_column,
            fatal_timestamp_errors: false,
            query_id: query_id.to_string(),
        }
    }

    pub fn with_fatal_timestamp_errors(mut self, fatal: bool) -> Decoder {
        self.fatal_timestamp_errors = fatal;
        self
    }

    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// Decodes the records of one partition; `None` when none survive. `Err` (the query must
    /// stop) for a record without a valid event time when such errors are fatal.
    pub fn decode(
        &self,
        topic: &str,
        partition: u32,
        records: &[Record],
        log: &mut dyn ProcessingLog,
    ) -> Result<Option<RecordBatch>, String> {
        self.decode_records(topic, partition, records, log, Values::Read)
    }

    /// Decodes a table's null-value records (deletions) as rows of their key, window and
    /// pseudo-columns with NULL value columns, stamped with the record's timestamp (for push
    /// queries, which show deletions).
    pub fn decode_tombstones(
        &self,
        topic: &str,
        partition: u32,
        records: &[Record],
        log: &mut dyn ProcessingLog,
    ) -> Result<Option<RecordBatch>, String> {
        self.decode_records(topic, partition, records, log, Values::Null)
    }

    fn decode_records(
        &self,
        topic: &str,
        partition: u32,
        records: &[Record],
        log: &mut dyn ProcessingLog,
        values: Values,
    ) -> Result<Option<RecordBatch>, String> {
        let mut builders: Vec<ColumnBuilder> = self
            .types
            .iter()
            .map(|t| ColumnBuilder::new(t, records.len()))
            .collect();
        let mut scratch = Scratch::default();
        let mut rows = 0;
        for record in records {
            match self.decode_row(record, &mut scratch, values) {
                Ok(Some(rowtime)) => {
                    self.append(&mut builders, record, &mut scratch, rowtime, partition);
                    rows += 1;
                }
                Ok(None) => {}
                Err(RowError::Timestamp(message)) if self.fatal_timestamp_errors => {
                    return Err(format!(
                        "Fatal user code error in TimestampExtractor callback for record {topic}-{partition}@{}: {message}",
                        record.offset
                    ));
                }
                Err(RowError::Timestamp(message) | RowError::Decode(message)) => log.report(
                    ProcessingError::bad(&self.query_id, topic, partition, record.offset, message),
                ),
            }
        }
        if rows == 0 {
            return Ok(None);
        }
        let arrays: Vec<ArrayRef> = builders.into_iter().map(ColumnBuilder::finish).collect();
        RecordBatch::try_new(self.schema.clone(), arrays)
            .map(Some)
            .map_err(|e| {
                format!("internal error: decoded columns do not fit the source's schema: {e}")
            })
    }

    /// Whether a record's value is null: no bytes, or bytes its format reads as a null row (a
    /// JSON `null`, which ksqlDB deserializes to null alike). Such a record is a tombstone.
    pub fn has_null_value(&self, record: &Record) -> bool {
        record
            .value
            .as_deref()
            .is_none_or(|bytes| self.values.is_null_row(bytes))
    }

    /// The key columns of a record (a table's tombstone has only its key).
    pub fn decode_key(&self, record: &Record) -> Result<Vec<Value>, String> {
        let key = match (&self.window, record.key.as_deref()) {
            (Some(window), Some(bytes)) => Some(window.split(bytes)?.0),
            (_, key) => key,
        };
        let mut cells = Vec::new();
        let has_key = self
            .keys
            .read(key, &mut cells)
            .map_err(|e| format!("Failed to deserialize key from topic: {}. {e}", self.topic))?;
        if !has_key {
            return Ok(vec![Value::Null; self.key_count]);
        }
        Ok(cells.iter().map(Cell::to_value).collect())
    }

    /// Reads one record's key and value into `scratch`; returns its ROWTIME, or `None` for a
    /// stream record with a null value (ignored, as in ksqlDB).
    fn decode_row<'a>(
        &self,
        record: &'a Record,
        scratch: &mut Scratch<'a>,
        values: Values,
    ) -> Result<Option<i64>, RowError> {
        if values == Values::Null {
            scratch.values.clear();
        } else {
            let has_value = self
                .values
                .read(record.value.as_deref(), &mut scratch.values)
                .map_err(|e| {
                    RowError::Decode(format!(
                        "Failed to deserialize value from topic: {}. {e}",
                        self.topic
                    ))
                })?;
            if !has_value {
                return Ok(None);
            }
        }
        let key_error = |e: String| {
            RowError::Decode(format!(
                "Failed to deserialize key from topic: {}. {e}",
                self.topic
            ))
        };
        let key = match (&self.window, record.key.as_deref()) {
            (Some(window), Some(bytes)) => {
                let (inner, bounds) = window.split(bytes).map_err(key_error)?;
                scratch.window = Some(bounds);
                Some(inner)
            }
            (_, key) => {
                scratch.window = None;
                key
            }
        };
        let has_key = self
            .keys
            .read(key, &mut scratch.keys)
            .map_err(|e| key_error(e.to_string()))?;
        if !has_key && self.table && self.key_count > 0 {
            return Err(RowError::Decode(format!(
                "A record of table topic {} has a null key; a table's rows need one, so it is skipped",
                self.topic
            )));
        }
        if !has_key {
            let nulls = std::iter::repeat_with(|| Cell::NULL).take(self.key_count);
            scratch.keys.extend(nulls);
        }
        let rowtime = match &self.timestamp_column {
            _ if values == Values::Null => record.timestamp,
            None => record.timestamp,
            Some((i, fmt)) => extract_timestamp(&self.cell(*i, record, scratch), fmt.as_deref())
                .map_err(RowError::Timestamp)?,
        };
        // (A deletion's timestamp is the record's, whatever it is: it passes as it came.)
        if rowtime < 0 && values != Values::Null {
            return Err(RowError::Timestamp(format!(
                "Record has an invalid (negative) timestamp {rowtime}; it is skipped"
            )));
        }
        Ok(Some(rowtime))
    }

    /// Source column `i` of the record in `scratch`, as a value.
    fn cell(&self, i: usize, record: &Record, scratch: &Scratch<'_>) -> Value {
        let cell = match self.slots.get(i) {
            Some(Slot::Key(k)) => scratch.keys.get(*k),
            Some(Slot::Value(v)) => scratch.values.get(*v),
            Some(Slot::Header(key)) => return header_value(record, key.as_deref()),
            None => None,
        };
        cell.map_or(Value::Null, Cell::to_value)
    }

    /// Appends a decoded record (its cells are taken from `scratch`) and its pseudo-columns.
    fn append<'a>(
        &self,
        builders: &mut [ColumnBuilder],
        record: &Record,
        scratch: &mut Scratch<'a>,
        rowtime: i64,
        partition: u32,
    ) {
        let take = |cells: &mut Vec<Cell<'a>>, i: usize| {
            cells
                .get_mut(i)
                .map_or(Cell::NULL, |c| std::mem::replace(c, Cell::NULL))
        };
        let width = self.slots.len();
        for (builder, slot) in builders.iter_mut().zip(&self.slots) {
            builder.append(match slot {
                Slot::Key(k) => take(&mut scratch.keys, *k),
                Slot::Value(v) => take(&mut scratch.values, *v),
                Slot::Header(key) => Cell::Val(header_value(record, key.as_deref())),
            });
        }
        let window = self.window.map(|_| {
            let bound = |b: fn(&WindowBounds) -> i64| scratch.window.as_ref().map(b);
            [bound(|w| w.start), bound(|w| w.end)].map(|b| b.map_or(Value::Null, Value::Bigint))
        });
        let record_columns = [
            Value::Bigint(rowtime),
            Value::Int(partition as i32),
            Value::Bigint(record.offset),
        ];
        let pseudo = window.into_iter().flatten().chain(record_columns);
        for (builder, value) in builders.iter_mut().skip(width).zip(pseudo) {
            builder.append(Cell::Val(value));
        }
    }
}

/// Whether a record's value is read, or taken as NULL columns (a table's deletion).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Values {
    Read,
    Null,
}

fn slots(source: &SourceDef) -> Vec<Slot> {
    let (mut keys, mut values) = (0, 0);
    let next = |n: &mut usize| {
        *n += 1;
        *n - 1
    };
    source
        .schema
        .columns
        .iter()
        .map(|c| match &c.role {
            ColumnRole::Key => Slot::Key(next(&mut keys)),
            ColumnRole::Value => Slot::Value(next(&mut values)),
            ColumnRole::Header(key) => Slot::Header(key.clone()),
        })
        .collect()
}

fn header_value(record: &Record, key: Option<&str>) -> Value {
    match key {
        Some(k) => record
            .headers
            .iter()
            .rev()
            .find(|h| h.key == k)
            .and_then(|h| h.value.as_ref())
            .map_or(Value::Null, |v| Value::Bytes(v.to_vec())),
        None => Value::Array(
            record
                .headers
                .iter()
                .map(|h| {
                    Value::Struct(vec![
                        ("KEY".into(), Value::String(h.key.clone())),
                        (
                            "VALUE".into(),
                            h.value
                                .as_ref()
                                .map_or(Value::Null, |v| Value::Bytes(v.to_vec())),
                        ),
                    ])
                })
                .collect(),
        ),
    }
}

/// The event time a TIMESTAMP column holds: BIGINT/TIMESTAMP milliseconds, or a STRING in
/// its TIMESTAMP_FORMAT. (Used for sources here and for sinks by the encoder.)
pub(super) fn extract_timestamp(v: &Value, format: Option<&str>) -> Result<i64, String> {
    match (v, format) {
        (Value::Bigint(ms) | Value::Timestamp(ms), _) => Ok(*ms),
        (Value::String(s), Some(pattern)) => crate::plan::expr::parse_with_java_pattern(s, pattern),
        (Value::Null, _) => Err("Timestamp column is null: the record has no event time".into()),
        (other, _) => Err(format!("Cannot extract a timestamp from {other:?}")),
    }
}
