//! Encoding output batches into records: key and value columns through the sink's formats
//! (windowed keys followed by their window), the record timestamp from ROWTIME, or from the
//! sink's TIMESTAMP column when it has one. A row that cannot be encoded, or whose TIMESTAMP
//! column gives no valid time, is reported and skipped.
//!
//! Column-wise: the batch's arrays are viewed by type once, every row is written into one
//! buffer for the whole batch, and each record's key and value are slices of it.

use super::processing_log::{ProcessingError, ProcessingLog};
use crate::common::ArrayView;
use crate::common::Value;
use crate::common::change::{ChangeBatch, Op};
use crate::format::{FormatSpec, Part, RowWriter, WindowBounds, WindowInfo};
use crate::plan::schema::{ROWTIME, WINDOWEND, WINDOWSTART};
use crate::plan::{OutputColumn, SourceDef};
use crate::transport::ProducerRecord;
use arrow::array::{Array, Int64Array};
use arrow::record_batch::RecordBatch;
use bytes::Bytes;
use std::ops::Range;

pub struct Encoder {
    keys: Side,
    values: Side,
    /// The sink's TIMESTAMP column: its position in the batch and its TIMESTAMP_FORMAT.
    timestamp: Option<(usize, Option<String>)>,
    /// The key columns are the source's (no PARTITION BY).
    source_keys: bool,
    /// Windowed sink keys: the window (its bounds are the batch's WINDOWSTART/WINDOWEND).
    window: Option<WindowInfo>,
    query_id: String,
}

/// The batch columns written to one part (key or value), and their writer.
struct Side {
    indices: Vec<usize>,
    writer: RowWriter,
}

/// Where a row's key and value are in the batch's buffer (`None`: null).
struct Encoded {
    key: Option<Range<usize>>,
    value: Option<Range<usize>>,
    timestamp: Option<i64>,
}

/// Bytes reserved per row of output (grown as needed).
const BYTES_PER_ROW: usize = 64;

impl Encoder {
    /// The encoder of rows whose first columns are `columns` (then window bounds and ROWTIME,
    /// found by name), written to `sink`; `source_keys`: the key columns are the source's.
    pub fn new(
        columns: &[OutputColumn],
        source_keys: bool,
        sink: &SourceDef,
        query_id: &str,
    ) -> Encoder {
        let pick = |want_key: bool, format: &FormatSpec, part: Part| {
            let (indices, specs): (Vec<usize>, Vec<_>) = columns
                .iter()
                .enumerate()
                .filter(|(_, c)| c.is_key == want_key)
                .map(|(i, c)| {
                    (
                        i,
                        crate::format::ColumnSpec {
                            name: c.name.clone(),
                            sql_type: c.output_type(),
                        },
                    )
                })
                .unzip();
            Side {
                indices,
                writer: RowWriter::new(format, part, &specs),
            }
        };
        let timestamp = sink.timestamp.as_ref().and_then(|t| {
            let index = columns.iter().position(|c| c.name == t.column)?;
            Some((index, t.format.clone()))
        });
        Encoder {
            keys: pick(true, &sink.key_format, Part::Key),
            values: pick(false, &sink.value_format, Part::Value),
            timestamp,
            source_keys,
            window: sink.window,
            query_id: query_id.to_string(),
        }
    }

    /// The records of a batch's changes: an upsert (`+`, `U+`) is a record, a deletion a
    /// tombstone (key, null value); `U-` rows are not written.
    pub fn encode(
        &self,
        changes: &ChangeBatch,
        topic: &str,
        log: &mut dyn ProcessingLog,
    ) -> Vec<ProducerRecord> {
        let batch = changes.data();
        let views = |part: &Side| -> Vec<ArrayView<'_>> {
            part.indices
                .iter()
                .map(|i| ArrayView::new(batch.column(*i).as_ref()))
                .collect()
        };
        let (key_views, value_views) = (views(&self.keys), views(&self.values));
        let mut buffer = Vec::with_capacity(batch.num_rows() * BYTES_PER_ROW);
        let mut encoded = Vec::with_capacity(batch.num_rows());
        let rowtimes = changes.int64(ROWTIME);
        let bounds = (changes.int64(WINDOWSTART), changes.int64(WINDOWEND));
        for row in 0..batch.num_rows() {
            let op = changes.op(row);
            if op == Op::UpdateBefore {
                continue;
            }
            let start = buffer.len();
            let result = self
                .timestamp_of(batch, rowtimes, row, op)
                .and_then(|timestamp| {
                    // Keys copied from the source: several columns, all NULL, come from a record
                    // with a null key and are written as one, as ksqlDB does. (A key computed by
                    // PARTITION BY is written as an object of nulls.)
                    let null_key = self.source_keys
                        && key_views.len() > 1
                        && key_views.iter().all(|v| v.is_null(row));
                    let key = if null_key {
                        None
                    } else {
                        let inner = write(&self.keys.writer, &key_views, row, &mut buffer, "key")?;
                        // A table keyed by its window alone: an empty inner key.
                        let inner = match inner {
                            None if key_views.is_empty() && self.window.is_some() => {
                                Some(buffer.len()..buffer.len())
                            }
                            other => other,
                        };
                        inner.map(|key| self.append_window(bounds, row, key, &mut buffer))
                    };
                    let value = if op == Op::Delete {
                        None
                    } else {
                        write(&self.values.writer, &value_views, row, &mut buffer, "value")?
                    };
                    Ok(Encoded {
                        key,
                        value,
                        timestamp,
                    })
                });
            match result {
                Ok(e) => encoded.push(e),
                Err(message) => {
                    buffer.truncate(start);
                    log.report(ProcessingError::bad(&self.query_id, topic, 0, -1, message));
                }
            }
        }
        records(Bytes::from(buffer), encoded)
    }

    /// A windowed sink's key: the inner key just written, then the row's window.
    fn append_window(
        &self,
        (starts, ends): (Option<&Int64Array>, Option<&Int64Array>),
        row: usize,
        key: Range<usize>,
        buffer: &mut Vec<u8>,
    ) -> Range<usize> {
        let Some(window) = &self.window else {
            return key;
        };
        let bound = |column: Option<&Int64Array>| {
            let column = column?;
            column.is_valid(row).then(|| column.value(row))
        };
        if let (Some(start), Some(end)) = (bound(starts), bound(ends)) {
            window.append(WindowBounds { start, end }, buffer);
        }
        key.start..buffer.len()
    }

    /// The record timestamp of `row`: ROWTIME, or the sink's TIMESTAMP column (ROWTIME for a
    /// deletion without one: a record without a value has no TIMESTAMP column).
    fn timestamp_of(
        &self,
        batch: &RecordBatch,
        rowtimes: Option<&Int64Array>,
        row: usize,
        op: Op,
    ) -> Result<Option<i64>, String> {
        let rowtime = rowtimes.filter(|r| row < r.len()).map(|r| r.value(row));
        let Some((index, format)) = &self.timestamp else {
            return Ok(rowtime);
        };
        let value = Value::from_array(batch.column(*index).as_ref(), row);
        if op == Op::Delete && matches!(value, Value::Null) {
            return Ok(rowtime);
        }
        let ms = super::decode::extract_timestamp(&value, format.as_deref())?;
        if ms < 0 {
            return Err(format!(
                "The TIMESTAMP column gives a negative timestamp ({ms}); the row is skipped"
            ));
        }
        Ok(Some(ms))
    }
}

/// Writes one part of a row; its range in `buffer`, `None` if it is null.
fn write(
    writer: &RowWriter,
    views: &[ArrayView<'_>],
    row: usize,
    buffer: &mut Vec<u8>,
    part: &str,
) -> Result<Option<Range<usize>>, String> {
    let start = buffer.len();
    match writer.write(views, row, buffer) {
        Ok(true) => Ok(Some(start..buffer.len())),
        Ok(false) => Ok(None),
        Err(e) => Err(format!("Failed to serialize {part}: {e}")),
    }
}

/// The records, slices of the batch's buffer.
fn records(buffer: Bytes, encoded: Vec<Encoded>) -> Vec<ProducerRecord> {
    let slice = |range: Option<Range<usize>>| range.map(|r| buffer.slice(r));
    encoded
        .into_iter()
        .map(|e| ProducerRecord {
            timestamp: e.timestamp,
            key: slice(e.key),
            value: slice(e.value),
            headers: Vec::new(),
        })
        .collect()
}
