//! A table's materialization as pull queries read it: the rows of a `CREATE TABLE ... AS
//! SELECT` rebuilt from its query's committed state — for an aggregation, each group decoded
//! into the aggregation's intermediate row, HAVING applied, then the CTAS projection; for a
//! query over a table, the rows it wrote (`exec::table_rows`) — in the layout of the table's
//! source batches (its columns, window bounds, ROWTIME, ROWPARTITION, ROWOFFSET), so a pull
//! query plans and filters them like any batch read from the table.
//!
//! Rows come in the order ksqlDB returns a table scan: by the partition each key belongs to
//! (Kafka's partitioner over the serialized key), then by serialized key, then window start.
//! Only committed state is read: a pull query never sees a step that might still roll back.

use super::aggregate::GroupsSnapshot;
use super::eval::evaluate;
use super::ops::Projection;
use super::table_rows::TableRowsSnapshot;
use crate::common::Value;
use crate::format::{ColumnSpec, FormatSpec, Part};
use crate::plan::logical::{LogicalPlan, SinkTarget, logical_plan};
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

/// Where a table's committed rows are read, replaced as a query's tasks come and go (a query
/// whose work is split among servers publishes its local tasks' rows after each rebalance).
pub type SharedRows = Arc<std::sync::RwLock<Option<CommittedRows>>>;

/// The committed rows of one materialized table.
pub struct Materialization {
    /// The query that maintains it.
    pub query_id: String,
    /// The rows (`None`: no task of the query runs here).
    rows: SharedRows,
    table_schema: SchemaRef,
    keys: KeyOrder,
}

/// Where the table's rows come from. (One per materialized table: the size difference
/// between variants is irrelevant.)
#[allow(clippy::large_enum_variant)]
pub enum CommittedRows {
    /// An aggregation's groups (of each of its tasks), through its HAVING and projection.
    Groups {
        groups: Vec<GroupsSnapshot>,
        having: Option<Compiled>,
        /// The query's projection over the groups; `None` if its tree has none.
        projection: Option<Projection>,
        /// The table key column each GROUP BY expression becomes, in GROUP BY order (`None`
        /// when one is not projected as a key column as it is).
        group_key_names: Option<Vec<String>>,
    },
    /// The rows a query over a table wrote (by each of its tasks).
    Written(Vec<TableRowsSnapshot>),
}

impl CommittedRows {
    /// The committed rows of aggregation `plan`.
    pub fn groups(plan: &QueryPlan, groups: Vec<GroupsSnapshot>) -> CommittedRows {
        CommittedRows::Groups {
            groups,
            having: plan.aggregation.as_ref().and_then(|a| a.having.clone()),
            projection: aggregate_projection(plan),
            group_key_names: group_key_names(plan),
        }
    }

    /// The rows in the query's output layout (its columns, then ROWTIME): all of them, or
    /// those of the given keys (values in `table_keys` order) when the store can look them up.
    fn read(
        &self,
        keys: Option<(&[Vec<Value>], &[String])>,
    ) -> Result<Option<RecordBatch>, MaterializationError> {
        match self {
            CommittedRows::Written(tasks) => {
                let mut batches = Vec::new();
                for rows in tasks {
                    let lookup = keys.and_then(|(k, names)| reorder(k, names, rows.key_names()));
                    batches.extend(match lookup {
                        Some(keys) => rows.read_keys(&keys)?,
                        None => rows.read()?,
                    });
                }
                concat(batches)
            }
            CommittedRows::Groups {
                groups,
                having,
                projection,
                group_key_names,
            } => {
                let stored_order = group_key_names.as_deref();
                let lookup = keys
                    .zip(stored_order)
                    .and_then(|((k, names), stored)| reorder(k, names, stored));
                let mut batches = Vec::new();
                for task in groups {
                    batches.extend(match &lookup {
                        Some(keys) => task.read_keys(keys)?,
                        None => task.read()?,
                    });
                }
                let Some(groups) = concat(batches)? else {
                    return Ok(None);
                };
                let visible = match having {
                    Some(h) => filter(&groups, h)?,
                    None => groups,
                };
                if visible.num_rows() == 0 {
                    return Ok(None);
                }
                let Some(projection) = projection else {
                    return Err(MaterializationError::Rows(
                        "the query has no projection".into(),
                    ));
                };
                let rows = projection
                    .project_rows(&visible)
                    .map_err(|e| MaterializationError::Rows(e.to_string()))?;
                Ok(Some(rows))
            }
        }
    }
}

/// Batches of one schema as one (none when there are none).
fn concat(batches: Vec<RecordBatch>) -> Result<Option<RecordBatch>, MaterializationError> {
    let Some(first) = batches.first() else {
        return Ok(None);
    };
    if batches.len() == 1 {
        return Ok(batches.into_iter().next());
    }
    arrow::compute::concat_batches(&first.schema(), &batches)
        .map(Some)
        .map_err(|e| MaterializationError::Rows(e.to_string()))
}

/// The projection of an aggregation's output (its intermediate layout) to the query's columns.
fn aggregate_projection(plan: &QueryPlan) -> Option<Projection> {
    let root = logical_plan(plan, SinkTarget::Subscriber);
    let mut node = &root;
    loop {
        match node {
            LogicalPlan::Project(p) => return Some(Projection::new(p)),
            other => node = other.inputs().into_iter().next()?,
        }
    }
}

/// Key tuples given in `given` column order, reordered to `stored` order (`None` when the
/// two name different columns).
fn reorder(keys: &[Vec<Value>], given: &[String], stored: &[String]) -> Option<Vec<Vec<Value>>> {
    if given.len() != stored.len() {
        return None;
    }
    let positions: Option<Vec<usize>> = stored
        .iter()
        .map(|name| given.iter().position(|g| g == name))
        .collect();
    let positions = positions?;
    keys.iter()
        .map(|k| positions.iter().map(|p| k.get(*p).cloned()).collect())
        .collect()
}

/// The output key column each GROUP BY expression is projected as, unchanged.
fn group_key_names(plan: &QueryPlan) -> Option<Vec<String>> {
    let group_count = plan.aggregation.as_ref()?.group_by.len();
    (0..group_count)
        .map(|g| {
            plan.columns
                .iter()
                .find(|c| {
                    c.is_key
                        && matches!(&c.compiled.expr.node, crate::plan::expr::Node::Column { index, .. } if *index == g)
                })
                .map(|c| c.name.clone())
        })
        .collect()
}

/// How keys are serialized and partitioned, for ksqlDB's scan order.
struct KeyOrder {
    /// Positions of the key columns in the table's batches.
    columns: Vec<usize>,
    names: Vec<String>,
    specs: Vec<ColumnSpec>,
    format: FormatSpec,
    partitions: u32,
    window_start: Option<usize>,
}

impl Materialization {
    /// The materialization of table `table` (whose topic has `partitions` partitions),
    /// written by query `query_id`.
    pub fn new(
        query_id: &str,
        table: &SourceDef,
        rows: CommittedRows,
        partitions: u32,
    ) -> Materialization {
        let rows = Arc::new(std::sync::RwLock::new(Some(rows)));
        Materialization::shared(query_id, table, rows, partitions)
    }

    /// The materialization of table `table` whose rows the query replaces as its tasks move.
    pub fn shared(
        query_id: &str,
        table: &SourceDef,
        rows: SharedRows,
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
            names: key_columns.iter().map(|(_, s)| s.name.clone()).collect(),
            specs: key_columns.into_iter().map(|(_, s)| s).collect(),
            format: table.key_format.clone(),
            partitions: partitions.max(1),
            window_start: table_schema.index_of(WINDOWSTART).ok(),
        };
        Materialization {
            query_id: query_id.to_string(),
            rows,
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
        self.rows_of(None)
    }

    /// The rows of these keys (each the table's key columns' values in order) as of the last
    /// commit, in scan order; windowed tables give every window of each key.
    pub fn rows_for_keys(
        &self,
        keys: &[Vec<Value>],
    ) -> Result<Option<RecordBatch>, MaterializationError> {
        self.rows_of(Some(keys))
    }

    fn rows_of(
        &self,
        keys: Option<&[Vec<Value>]>,
    ) -> Result<Option<RecordBatch>, MaterializationError> {
        let names = &self.keys.names;
        let rows = self
            .rows
            .read()
            .map_err(|_| MaterializationError::Rows("the table's rows are poisoned".into()))?;
        let Some(rows) = rows.as_ref() else {
            return Ok(None);
        };
        let Some(written) = rows.read(keys.map(|k| (k, names.as_slice())))? else {
            return Ok(None);
        };
        let mut arrays = self.in_table_layout(&written)?;
        let (partitions, order) = self.keys.order(&arrays, written.num_rows());
        arrays.push(Arc::new(Int32Array::from_iter_values(
            partitions.iter().map(|p| *p as i32),
        )));
        arrays.push(Arc::new(Int64Array::from(vec![0i64; written.num_rows()])));
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

    /// The written columns in the table's order (keys first, whatever the SELECT order),
    /// up to ROWTIME.
    fn in_table_layout(
        &self,
        written: &RecordBatch,
    ) -> Result<Vec<ArrayRef>, MaterializationError> {
        let schema = written.schema();
        self.table_schema
            .fields()
            .iter()
            .filter(|f| f.name() != ROWPARTITION && f.name() != ROWOFFSET)
            .map(|f| match schema.index_of(f.name()) {
                Ok(i) => Ok(written.column(i).clone()),
                Err(_) => Err(MaterializationError::Rows(format!(
                    "the query writes no column {}",
                    f.name()
                ))),
            })
            .collect()
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
    fn order(&self, columns: &[ArrayRef], rows: usize) -> (Vec<u32>, Vec<u32>) {
        let mut sort_keys: Vec<(u32, Vec<u8>, i64)> = Vec::with_capacity(rows);
        for row in 0..rows {
            let values: Vec<Value> = self
                .columns
                .iter()
                .map(|c| Value::from_array(columns[*c].as_ref(), row))
                .collect();
            let bytes = crate::format::serialize(&self.format, Part::Key, &self.specs, &values)
                .ok()
                .flatten()
                .unwrap_or_default();
            let partition = crate::transport::partition_for_key(&bytes, self.partitions);
            let start = self
                .window_start
                .and_then(|c| match Value::from_array(columns[c].as_ref(), row) {
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
