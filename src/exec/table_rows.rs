//! The rows of a table written by a query over a table without aggregation (`CREATE TABLE t
//! AS SELECT ... FROM source_table [WHERE ...]`), kept in a key-value store so pull queries
//! can read the table: each output change upserts or deletes its key in the step that writes
//! it, and reaches the store's changelog and RocksDB with that step's commit (the protocol of
//! `exec::query_state`). Readers see only committed rows.

use super::query_state::{QueryState, QueryStateError, TaskSlot};
use crate::common::change::{ChangeBatch, Op};
use crate::common::{SqlType, Value, codec, values_to_array};
use crate::state::{ChangelogLayout, StateError, Store};
use arrow::array::ArrayRef;
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

/// The store's name (it names the changelog topic too).
pub const ROWS: &str = "Table-Materialize";

/// The writing side: the query's output rows by key.
pub struct TableRows {
    store: Store,
    /// Positions of the key columns in the output rows.
    key_columns: Vec<usize>,
    layout: RowLayout,
}

/// A read-only view of the committed rows (cheap to clone, `Send`).
#[derive(Clone)]
pub struct TableRowsSnapshot {
    store: Store,
    layout: RowLayout,
    /// The key columns' names, in the order their values make a stored key.
    key_names: Vec<String>,
}

/// The output rows' Arrow schema (the query's columns, then ROWTIME) and column types.
#[derive(Clone)]
struct RowLayout {
    schema: SchemaRef,
    types: Vec<SqlType>,
}

impl TableRows {
    /// Task `slot`'s store in `state` (created on first use): rows of `schema` (the query's
    /// columns, then ROWTIME) keyed by the columns at `key_columns`.
    pub fn open(
        state: &mut QueryState,
        slot: TaskSlot,
        key_columns: Vec<usize>,
        schema: SchemaRef,
    ) -> Result<TableRows, QueryStateError> {
        let types = schema
            .fields()
            .iter()
            .map(|f| SqlType::from_arrow(f.data_type()).unwrap_or(SqlType::String))
            .collect();
        Ok(TableRows {
            store: state.task_store(ROWS, slot, ChangelogLayout::PLAIN)?,
            key_columns,
            layout: RowLayout { schema, types },
        })
    }

    /// Applies written changes: an upsert (`+`, `U+`) replaces its key's row, a deletion
    /// removes it; `U-` rows change nothing.
    pub fn apply(&mut self, rows: &ChangeBatch) {
        let data = rows.data();
        for row in 0..rows.num_rows() {
            let op = rows.op(row);
            if op == Op::UpdateBefore {
                continue;
            }
            let value = |c: usize| Value::from_array(data.column(c).as_ref(), row);
            let key: Vec<Value> = self.key_columns.iter().map(|c| value(*c)).collect();
            let key = codec::encode(&key);
            if op == Op::Delete {
                self.store.delete(&key);
            } else {
                let values: Vec<Value> = (0..data.num_columns()).map(value).collect();
                self.store.put(&key, &codec::encode(&values));
            }
        }
    }

    pub fn snapshot(&self) -> TableRowsSnapshot {
        let schema = &self.layout.schema;
        TableRowsSnapshot {
            store: self.store.clone(),
            layout: self.layout.clone(),
            key_names: self
                .key_columns
                .iter()
                .map(|c| schema.field(*c).name().clone())
                .collect(),
        }
    }
}

impl TableRowsSnapshot {
    /// The key columns' names, in the order [`TableRowsSnapshot::read_keys`] takes values.
    pub fn key_names(&self) -> &[String] {
        &self.key_names
    }

    /// Every committed row, in the query's output layout (none when the table is empty).
    pub fn read(&self) -> Result<Option<RecordBatch>, StateError> {
        let entries = self.store.scan_committed(&[], None)?;
        self.batch(&entries)
    }

    /// The committed rows of these keys (each the key columns' values in output order).
    pub fn read_keys(&self, keys: &[Vec<Value>]) -> Result<Option<RecordBatch>, StateError> {
        let mut entries = Vec::new();
        for key in keys {
            let key = codec::encode(key);
            if let Some(value) = self.store.get_committed(&key)? {
                entries.push((key, value));
            }
        }
        self.batch(&entries)
    }

    /// The rows of stored entries as one batch (none when there are none).
    fn batch(&self, entries: &[(Vec<u8>, Vec<u8>)]) -> Result<Option<RecordBatch>, StateError> {
        if entries.is_empty() {
            return Ok(None);
        }
        let mut columns: Vec<Vec<Value>> = vec![Vec::new(); self.layout.types.len()];
        for (_, value) in entries {
            let row: Vec<Value> = codec::decode(value).map_err(|e| self.malformed(e))?;
            if row.len() != columns.len() {
                return Err(self.malformed(format!(
                    "a row of {} values in a table of {} columns",
                    row.len(),
                    columns.len()
                )));
            }
            for (column, value) in columns.iter_mut().zip(row) {
                column.push(value);
            }
        }
        let arrays: Vec<ArrayRef> = columns
            .iter()
            .zip(&self.layout.types)
            .map(|(values, t)| values_to_array(values, t))
            .collect();
        RecordBatch::try_new(self.layout.schema.clone(), arrays)
            .map(Some)
            .map_err(|e| self.malformed(e))
    }

    fn malformed(&self, e: impl std::fmt::Display) -> StateError {
        StateError::Malformed {
            path: self.store.path().to_path_buf(),
            what: "table row",
            reason: e.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::StateLocation;
    use arrow::array::{Int64Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};
    use std::sync::Arc;

    fn layout() -> (SchemaRef, Vec<SqlType>) {
        let schema = Arc::new(Schema::new(vec![
            Field::new("ID", DataType::Utf8, true),
            Field::new("V", DataType::Int64, true),
            Field::new("ROWTIME", DataType::Int64, true),
        ]));
        (
            schema,
            vec![SqlType::String, SqlType::Bigint, SqlType::Bigint],
        )
    }

    fn batch(schema: &SchemaRef, ids: &[&str], values: &[i64]) -> RecordBatch {
        let times: Vec<i64> = (0..ids.len() as i64).collect();
        RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(StringArray::from(ids.to_vec())),
                Arc::new(Int64Array::from(values.to_vec())),
                Arc::new(Int64Array::from(times)),
            ],
        )
        .expect("batch")
    }

    #[test]
    fn upserts_and_deletes_by_key_and_shows_only_committed_rows() {
        let location = StateLocation::Temporary {
            changelog_prefix: None,
        };
        let mut state = QueryState::open(&location).expect("state");
        let (schema, types) = layout();
        let mut rows = TableRows {
            store: state.store(ROWS).expect("store"),
            key_columns: vec![0],
            layout: RowLayout {
                schema: schema.clone(),
                types,
            },
        };
        let snapshot = rows.snapshot();
        rows.apply(&ChangeBatch::inserts(batch(
            &schema,
            &["a", "b", "a"],
            &[1, 2, 3],
        )));
        assert!(
            snapshot.read().expect("read").is_none(),
            "nothing committed yet"
        );
        state.committed(&[]).expect("flush");
        let read = snapshot.read().expect("read").expect("rows");
        let ids = read
            .column(0)
            .as_any()
            .downcast_ref::<StringArray>()
            .expect("ids");
        let values = read
            .column(1)
            .as_any()
            .downcast_ref::<Int64Array>()
            .expect("v");
        assert_eq!((ids.value(0), values.value(0)), ("a", 3));
        assert_eq!((ids.value(1), values.value(1)), ("b", 2));

        let changes = batch(&schema, &["a", "c"], &[0, 5]);
        let changes = ChangeBatch::new(changes, vec![Op::Delete, Op::Insert]).expect("changes");
        rows.apply(&changes);
        state.committed(&[]).expect("flush");
        let read = snapshot.read().expect("read").expect("rows");
        let ids = read
            .column(0)
            .as_any()
            .downcast_ref::<StringArray>()
            .expect("ids");
        assert_eq!(read.num_rows(), 2);
        assert_eq!((ids.value(0), ids.value(1)), ("b", "c"));
    }
}
