//! Encoding output batches into records: key and value columns through the sink's formats,
//! the record timestamp from ROWTIME. A row that cannot be encoded is reported and skipped.
//!
//! Column-wise: the batch's arrays are viewed by type once, every row is written into one
//! buffer for the whole batch, and each record's key and value are slices of it.

use super::processing_log::{ProcessingError, ProcessingLog};
use crate::common::ArrayView;
use crate::format::{FormatSpec, Part, RowWriter};
use crate::plan::QueryPlan;
use crate::transport::ProducerRecord;
use arrow::array::{Array, Int64Array};
use arrow::record_batch::RecordBatch;
use bytes::Bytes;
use std::ops::Range;

pub struct Encoder {
    keys: Side,
    values: Side,
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
    row: usize,
}

/// Bytes reserved per row of output (grown as needed).
const BYTES_PER_ROW: usize = 64;

impl Encoder {
    pub fn new(
        plan: &QueryPlan,
        key_format: &FormatSpec,
        value_format: &FormatSpec,
        query_id: &str,
    ) -> Encoder {
        let pick = |want_key: bool, format: &FormatSpec, part: Part| {
            let (indices, specs): (Vec<usize>, Vec<_>) = plan
                .columns
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
        Encoder {
            keys: pick(true, key_format, Part::Key),
            values: pick(false, value_format, Part::Value),
            query_id: query_id.to_string(),
        }
    }

    pub fn encode(
        &self,
        batch: &RecordBatch,
        topic: &str,
        log: &mut dyn ProcessingLog,
    ) -> Vec<ProducerRecord> {
        let views = |part: &Side| -> Vec<ArrayView<'_>> {
            part.indices
                .iter()
                .map(|i| ArrayView::new(batch.column(*i).as_ref()))
                .collect()
        };
        let (key_views, value_views) = (views(&self.keys), views(&self.values));
        let mut buffer = Vec::with_capacity(batch.num_rows() * BYTES_PER_ROW);
        let mut encoded = Vec::with_capacity(batch.num_rows());
        for row in 0..batch.num_rows() {
            let start = buffer.len();
            let result =
                write(&self.keys.writer, &key_views, row, &mut buffer, "key").and_then(|key| {
                    let value =
                        write(&self.values.writer, &value_views, row, &mut buffer, "value")?;
                    Ok(Encoded { key, value, row })
                });
            match result {
                Ok(e) => encoded.push(e),
                Err(message) => {
                    buffer.truncate(start);
                    log.report(ProcessingError {
                        query_id: self.query_id.clone(),
                        topic: topic.to_string(),
                        partition: 0,
                        offset: -1,
                        message,
                    });
                }
            }
        }
        records(batch, Bytes::from(buffer), encoded)
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

/// The records, timestamped with ROWTIME (the batch's last column).
fn records(batch: &RecordBatch, buffer: Bytes, encoded: Vec<Encoded>) -> Vec<ProducerRecord> {
    let rowtimes = batch
        .columns()
        .last()
        .and_then(|c| c.as_any().downcast_ref::<Int64Array>());
    let slice = |range: Option<Range<usize>>| range.map(|r| buffer.slice(r));
    encoded
        .into_iter()
        .map(|e| ProducerRecord {
            timestamp: rowtimes.map(|r| r.value(e.row)),
            key: slice(e.key),
            value: slice(e.value),
            headers: Vec::new(),
        })
        .collect()
}
