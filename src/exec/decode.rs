//! Decoding records into Arrow batches: key and value bytes through their formats, header
//! columns, ROWTIME (the record timestamp or the source's TIMESTAMP column), ROWPARTITION and
//! ROWOFFSET. A record that fails to decode is reported and skipped.

use super::processing_log::{ProcessingError, ProcessingLog};
use crate::common::{SqlType, Value, values_to_array};
use crate::format::{self, ColumnSpec, Part};
use crate::plan::SourceDef;
use crate::plan::schema::ColumnRole;
use crate::transport::Record;
use arrow::array::ArrayRef;
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

pub struct Decoder {
    source: SourceDef,
    schema: SchemaRef,
    keys: Vec<ColumnSpec>,
    values: Vec<ColumnSpec>,
    timestamp_column: Option<(usize, Option<String>)>,
    query_id: String,
}

impl Decoder {
    pub fn new(source: &SourceDef, query_id: &str) -> Decoder {
        let spec = |role: ColumnRole| {
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
        let timestamp_column = source.timestamp.as_ref().and_then(|t| {
            source
                .schema
                .columns
                .iter()
                .position(|c| c.name == t.column)
                .map(|i| (i, t.format.clone()))
        });
        Decoder {
            schema: source.schema.batch_schema(),
            keys: spec(ColumnRole::Key),
            values: spec(ColumnRole::Value),
            timestamp_column,
            source: source.clone(),
            query_id: query_id.to_string(),
        }
    }

    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// Decodes the records of one partition; `None` when none survive.
    pub fn decode(
        &self,
        topic: &str,
        partition: u32,
        records: &[Record],
        log: &mut dyn ProcessingLog,
    ) -> Option<RecordBatch> {
        let width = self.source.schema.columns.len();
        // One pre-sized Vec per column: `vec![Vec::with_capacity(n); k]` clones, and a clone
        // has no spare capacity, so all but one column would regrow while rows are pushed.
        let mut columns: Vec<Vec<Value>> = (0..width + 3)
            .map(|_| Vec::with_capacity(records.len()))
            .collect();
        for record in records {
            match self.decode_row(record, partition) {
                Ok(Some(row)) => row
                    .into_iter()
                    .enumerate()
                    .for_each(|(i, v)| columns[i].push(v)),
                Ok(None) => {}
                Err(message) => log.report(ProcessingError {
                    query_id: self.query_id.clone(),
                    topic: topic.to_string(),
                    partition,
                    offset: record.offset,
                    message,
                }),
            }
        }
        let rows = columns[width].len();
        if rows == 0 {
            return None;
        }
        let arrays: Vec<ArrayRef> = columns
            .iter()
            .zip(self.schema.fields())
            .map(|(values, field)| {
                values_to_array(
                    values,
                    &SqlType::from_arrow(field.data_type()).unwrap_or(SqlType::String),
                )
            })
            .collect();
        RecordBatch::try_new(self.schema.clone(), arrays).ok()
    }

    /// One record → its column values plus ROWTIME, ROWPARTITION, ROWOFFSET; `None` for a
    /// stream record with a null value (ignored, as in ksqlDB).
    fn decode_row(&self, record: &Record, partition: u32) -> Result<Option<Vec<Value>>, String> {
        let Some(values) = format::deserialize(
            &self.source.value_format,
            Part::Value,
            &self.values,
            record.value.as_deref(),
        )
        .map_err(|e| {
            format!(
                "Failed to deserialize value from topic: {}. {e}",
                self.source.topic
            )
        })?
        else {
            return Ok(None);
        };
        let keys = format::deserialize(
            &self.source.key_format,
            Part::Key,
            &self.keys,
            record.key.as_deref(),
        )
        .map_err(|e| {
            format!(
                "Failed to deserialize key from topic: {}. {e}",
                self.source.topic
            )
        })?
        .unwrap_or_else(|| vec![Value::Null; self.keys.len()]);
        let (mut keys, mut values) = (keys.into_iter(), values.into_iter());
        let mut row = Vec::with_capacity(self.source.schema.columns.len() + 3);
        for column in &self.source.schema.columns {
            row.push(match &column.role {
                ColumnRole::Key => keys.next().unwrap_or(Value::Null),
                ColumnRole::Value => values.next().unwrap_or(Value::Null),
                ColumnRole::Header(key) => header_value(record, key.as_deref()),
            });
        }
        let rowtime = match &self.timestamp_column {
            None => record.timestamp,
            Some((i, fmt)) => extract_timestamp(&row[*i], fmt.as_deref())?,
        };
        if rowtime < 0 {
            return Err(format!(
                "Record has an invalid (negative) timestamp {rowtime}; it is skipped"
            ));
        }
        row.push(Value::Bigint(rowtime));
        row.push(Value::Int(partition as i32));
        row.push(Value::Bigint(record.offset));
        Ok(Some(row))
    }
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

fn extract_timestamp(v: &Value, format: Option<&str>) -> Result<i64, String> {
    match (v, format) {
        (Value::Bigint(ms) | Value::Timestamp(ms), _) => Ok(*ms),
        (Value::String(s), Some(pattern)) => crate::plan::expr::parse_with_java_pattern(s, pattern),
        (Value::Null, _) => Err("Timestamp column is null: the record has no event time".into()),
        (other, _) => Err(format!("Cannot extract a timestamp from {other:?}")),
    }
}
