//! Encoding output batches into records: key and value columns through the sink's formats,
//! the record timestamp from ROWTIME. A row that cannot be encoded is reported and skipped.

use super::processing_log::{ProcessingError, ProcessingLog};
use crate::common::Value;
use crate::format::{self, ColumnSpec, FormatSpec, Part};
use crate::plan::QueryPlan;
use crate::transport::ProducerRecord;
use arrow::array::{Array, Int64Array};
use arrow::record_batch::RecordBatch;
use bytes::Bytes;

pub struct Encoder {
    key_format: FormatSpec,
    value_format: FormatSpec,
    keys: Columns,
    values: Columns,
    query_id: String,
}

/// The batch columns written to one part (key or value), and their specs as the format takes
/// them: built once here rather than cloned for every row.
struct Columns {
    indices: Vec<usize>,
    specs: Vec<ColumnSpec>,
}

impl Columns {
    /// Row `row` of these columns.
    fn values(&self, batch: &RecordBatch, row: usize) -> Vec<Value> {
        self.indices
            .iter()
            .map(|i| Value::from_array(batch.column(*i).as_ref(), row))
            .collect()
    }
}

impl Encoder {
    pub fn new(
        plan: &QueryPlan,
        key_format: &FormatSpec,
        value_format: &FormatSpec,
        query_id: &str,
    ) -> Encoder {
        let pick = |want_key: bool| {
            let (indices, specs) = plan
                .columns
                .iter()
                .enumerate()
                .filter(|(_, c)| c.is_key == want_key)
                .map(|(i, c)| {
                    (
                        i,
                        ColumnSpec {
                            name: c.name.clone(),
                            sql_type: c.output_type(),
                        },
                    )
                })
                .unzip();
            Columns { indices, specs }
        };
        Encoder {
            key_format: key_format.clone(),
            value_format: value_format.clone(),
            keys: pick(true),
            values: pick(false),
            query_id: query_id.to_string(),
        }
    }

    pub fn encode(
        &self,
        batch: &RecordBatch,
        topic: &str,
        log: &mut dyn ProcessingLog,
    ) -> Vec<ProducerRecord> {
        let rowtimes = batch
            .column(batch.num_columns() - 1)
            .as_any()
            .downcast_ref::<Int64Array>()
            .cloned();
        let mut out = Vec::with_capacity(batch.num_rows());
        for row in 0..batch.num_rows() {
            let timestamp = rowtimes.as_ref().map(|r| r.value(row));
            match self.encode_row(batch, row) {
                Ok((key, value)) => out.push(ProducerRecord {
                    key,
                    value,
                    timestamp,
                    headers: Vec::new(),
                }),
                Err(message) => log.report(ProcessingError {
                    query_id: self.query_id.clone(),
                    topic: topic.to_string(),
                    partition: 0,
                    offset: -1,
                    message,
                }),
            }
        }
        out
    }

    fn encode_row(
        &self,
        batch: &RecordBatch,
        row: usize,
    ) -> Result<(Option<Bytes>, Option<Bytes>), String> {
        let key = format::serialize(
            &self.key_format,
            Part::Key,
            &self.keys.specs,
            &self.keys.values(batch, row),
        )
        .map_err(|e| format!("Failed to serialize key: {e}"))?;
        let value = format::serialize(
            &self.value_format,
            Part::Value,
            &self.values.specs,
            &self.values.values(batch, row),
        )
        .map_err(|e| format!("Failed to serialize value: {e}"))?;
        Ok((key.map(Bytes::from), value.map(Bytes::from)))
    }
}
