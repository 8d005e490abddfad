//! A table's materialization as pull queries read it: the rows of a `CREATE TABLE ... AS
//! SELECT` aggregation rebuilt from its committed state — each group decoded into the
//! aggregation's intermediate row, HAVING applied, then the CTAS projection — in the layout of
//! the table's source batches (its columns, window bounds, ROWTIME, ROWPARTITION, ROWOFFSET),
//! so a pull query plans and filters them like any batch read from the table.
//!
//! Rows come in the order ksqlDB returns a table scan: by the partition each key belongs to
//! (Kafka's partitioner over the serialized key), then by serialized key, then window start.
//! Only committed state is read: a pull query never sees a step that might still roll back.

use super::aggregate::GroupsSnapshot;
use super::pipeline::{StatelessPipeline, evaluate};
use super::processing_log::MemoryProcessingLog;
use crate::common::Value;
use crate::format::{ColumnSpec, FormatSpec, Part};
use crate::plan::schema::{ColumnRole, ROWOFFSET, ROWPARTITION, WINDOWSTART};
use crate::plan::{Compiled, QueryPlan, SourceDef};
use crate::state::StateError;
use arrow::array::{Array, ArrayRef, BooleanArray, Int32Array, Int64Array, UInt32Array};
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum MaterializationError {
    #[error(transparent)]
    State(#[from] StateError),
    #[error("cannot build the table's rows: {0}")]
    Rows(String),
}

/// The committed rows of one materialized table.
pub struct Materialization {
    /// The query that maintains it.
    pub query_id: String,
    groups: GroupsSnapshot,
    having: Option<Compiled>,
    projection: StatelessPipeline,
    table_schema: SchemaRef,
    keys: KeyOrder,
}

/// How keys are serialized and partitioned, for ksqlDB's scan order.
struct KeyOrder {
    /// Positions of the key columns in the table's batches.
    columns: Vec<usize>,
    specs: Vec<ColumnSpec>,
    format: FormatSpec,
    partitions: u32,
    window_start: Option<usize>,
}

impl Materialization {
    /// The materialization of the aggregation `plan` (query `query_id`) writing table
    /// `table`, whose topic has `partitions` partitions.
    pub fn aggregation(
        query_id: &str,
        plan: &QueryPlan,
        table: &SourceDef,
        groups: GroupsSnapshot,
        partitions: u32,
    ) -> Materialization {
        let table_schema = table.batch_schema();
        let key_columns: Vec<(usize, ColumnSpec)> = table
            .schema
            .columns
            .iter()
            .enumerate()
            .filter(|(_, c)| c.role == ColumnRole::Key)
            .map(|(i, c)| {
                let spec = ColumnSpec {
                    name: c.name.clone(),
                    sql_type: c.sql_type.clone(),
                };
                (i, spec)
            })
            .collect();
        let keys = KeyOrder {
            columns: key_columns.iter().map(|(i, _)| *i).collect(),
            specs: key_columns.into_iter().map(|(_, s)| s).collect(),
            format: table.key_format.clone(),
            partitions: partitions.max(1),
            window_start: table_schema.index_of(WINDOWSTART).ok(),
        };
        Materialization {
            query_id: query_id.to_string(),
            groups,
            having: plan.aggregation.as_ref().and_then(|a| a.having.clone()),
            projection: StatelessPipeline::new(plan, query_id),
            table_schema,
            keys,
        }
    }

    /// The table's source batch layout.
    pub fn schema(&self) -> SchemaRef {
        self.table_schema.clone()
    }

    /// Every row of the table as of the last commit, in scan order (none when empty).
    pub fn rows(&self) -> Result<Option<RecordBatch>, MaterializationError> {
        let Some(groups) = self.groups.read()? else {
            return Ok(None);
        };
        let mut log = MemoryProcessingLog::default();
        let visible = match &self.having {
            Some(h) => filter(&groups, h)?,
            None => groups,
        };
        if visible.num_rows() == 0 {
            return Ok(None);
        }
        let Some(projected) = self.projection.process(&visible, "", 0, &mut log) else {
            return Ok(None);
        };
        let (partitions, order) = self.keys.order(&projected);
        let mut arrays: Vec<ArrayRef> = projected.columns().to_vec();
        arrays.push(Arc::new(Int32Array::from_iter_values(
            partitions.iter().map(|p| *p as i32),
        )));
        arrays.push(Arc::new(Int64Array::from(vec![0i64; projected.num_rows()])));
        let indices = UInt32Array::from(order);
        let sorted: Result<Vec<ArrayRef>, _> = arrays
            .iter()
            .map(|a| arrow::compute::take(a.as_ref(), &indices, None))
            .collect();
        let sorted = sorted.map_err(|e| MaterializationError::Rows(e.to_string()))?;
        let batch = RecordBatch::try_new(self.table_schema.clone(), sorted)
            .map_err(|e| MaterializationError::Rows(e.to_string()))?;
        debug_assert!(batch.schema().index_of(ROWPARTITION).is_ok());
        debug_assert!(batch.schema().index_of(ROWOFFSET).is_ok());
        Ok(Some(batch))
    }
}

/// The groups for which HAVING is TRUE.
fn filter(groups: &RecordBatch, having: &Compiled) -> Result<RecordBatch, MaterializationError> {
    let mask = evaluate(having, groups, &mut |_: usize, _: String| {}, true);
    let mask: BooleanArray = match mask.as_any().downcast_ref::<BooleanArray>() {
        Some(m) => (0..m.len())
            .map(|i| Some(m.is_valid(i) && m.value(i)))
            .collect(),
        None => return Err(MaterializationError::Rows("HAVING is not boolean".into())),
    };
    arrow::compute::filter_record_batch(groups, &mask)
        .map_err(|e| MaterializationError::Rows(e.to_string()))
}

impl KeyOrder {
    /// Each row's partition, and the row indices in scan order.
    fn order(&self, batch: &RecordBatch) -> (Vec<u32>, Vec<u32>) {
        let rows = batch.num_rows();
        let mut sort_keys: Vec<(u32, Vec<u8>, i64)> = Vec::with_capacity(rows);
        for row in 0..rows {
            let values: Vec<Value> = self
                .columns
                .iter()
                .map(|c| Value::from_array(batch.column(*c).as_ref(), row))
                .collect();
            let bytes = crate::format::serialize(&self.format, Part::Key, &self.specs, &values)
                .ok()
                .flatten()
                .unwrap_or_default();
            let partition = crate::transport::partition_for_key(&bytes, self.partitions);
            let start = self
                .window_start
                .and_then(|c| match Value::from_array(batch.column(c).as_ref(), row) {
                    Value::Bigint(s) => Some(s),
                    _ => None,
                })
                .unwrap_or(0);
            sort_keys.push((partition, bytes, start));
        }
        let mut order: Vec<u32> = (0..rows as u32).collect();
        order.sort_by(|a, b| sort_keys[*a as usize].cmp(&sort_keys[*b as usize]));
        let partitions = sort_keys.iter().map(|k| k.0).collect();
        (partitions, order)
    }
}
