//! The change batch: what flows between a query's operators. Arrow columns plus, per row, what
//! kind of change the row is (RisingWave's `StreamChunk` ops):
//!
//! - on a **stream**, `Insert` is a record and `Delete` a record without a value (its key
//!   columns decoded, every other column NULL);
//! - on a **changelog** (a table, keyed by its key columns), `Insert` is an upsert of the row's
//!   key, `Delete` deletes the key, and `UpdateBefore` / `UpdateAfter` come as adjacent pairs
//!   from an operator that knows the row the key had before (an aggregation).
//!
//! Sinks write `Insert` and `UpdateAfter` as records and `Delete` as a tombstone, and skip
//! `UpdateBefore`. System columns (ROWTIME, ROWPARTITION, ROWOFFSET, WINDOWSTART, WINDOWEND)
//! are found by name in the schema, never by position.

use arrow::array::{Array, ArrayRef, BooleanArray, Int32Array, Int64Array, UInt32Array};
use arrow::datatypes::SchemaRef;
use arrow::error::ArrowError;
use arrow::record_batch::RecordBatch;
use std::sync::Arc;

/// What change a row is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    Insert,
    Delete,
    UpdateBefore,
    UpdateAfter,
}

impl Op {
    /// The row's text in pretty-printed batches: `+`, `-`, `U-`, `U+`.
    pub fn symbol(self) -> &'static str {
        match self {
            Op::Insert => "+",
            Op::Delete => "-",
            Op::UpdateBefore => "U-",
            Op::UpdateAfter => "U+",
        }
    }

    /// The op written as [`Op::symbol`] writes it.
    pub fn from_symbol(text: &str) -> Option<Op> {
        Some(match text {
            "+" => Op::Insert,
            "-" => Op::Delete,
            "U-" => Op::UpdateBefore,
            "U+" => Op::UpdateAfter,
            _ => return None,
        })
    }

    /// Whether a sink writes the row as a record with a value (`+`, `U+`).
    pub fn is_upsert(self) -> bool {
        matches!(self, Op::Insert | Op::UpdateAfter)
    }
}

/// Rows and their ops.
#[derive(Clone, Debug)]
pub struct ChangeBatch {
    data: RecordBatch,
    /// `None`: every row is an `Insert` (append-only batches carry nothing).
    ops: Option<Arc<[Op]>>,
}

impl ChangeBatch {
    /// Rows that are all inserts.
    pub fn inserts(data: RecordBatch) -> ChangeBatch {
        ChangeBatch { data, ops: None }
    }

    /// Rows with their ops (one per row).
    pub fn new(data: RecordBatch, ops: Vec<Op>) -> Result<ChangeBatch, ArrowError> {
        if ops.len() != data.num_rows() {
            return Err(ArrowError::InvalidArgumentError(format!(
                "a change batch of {} rows with {} ops",
                data.num_rows(),
                ops.len()
            )));
        }
        let ops = match ops.iter().all(|op| *op == Op::Insert) {
            true => None,
            false => Some(ops.into()),
        };
        Ok(ChangeBatch { data, ops })
    }

    /// An empty batch of `schema`.
    pub fn empty(schema: SchemaRef) -> ChangeBatch {
        ChangeBatch::inserts(RecordBatch::new_empty(schema))
    }

    pub fn data(&self) -> &RecordBatch {
        &self.data
    }

    pub fn into_data(self) -> RecordBatch {
        self.data
    }

    pub fn schema(&self) -> SchemaRef {
        self.data.schema()
    }

    pub fn num_rows(&self) -> usize {
        self.data.num_rows()
    }

    pub fn is_empty(&self) -> bool {
        self.data.num_rows() == 0
    }

    /// The op of a row.
    pub fn op(&self, row: usize) -> Op {
        match &self.ops {
            Some(ops) => ops.get(row).copied().unwrap_or(Op::Insert),
            None => Op::Insert,
        }
    }

    /// Every row's op (allocates for an insert-only batch).
    pub fn ops(&self) -> Vec<Op> {
        match &self.ops {
            Some(ops) => ops.to_vec(),
            None => vec![Op::Insert; self.num_rows()],
        }
    }

    /// Whether every row is an insert.
    pub fn is_insert_only(&self) -> bool {
        self.ops.is_none()
    }

    /// Whether any row is a deletion.
    pub fn has_deletes(&self) -> bool {
        self.ops
            .as_ref()
            .is_some_and(|ops| ops.contains(&Op::Delete))
    }

    /// `array` (a column computed for these rows) with the deletions' values NULL.
    pub fn null_on_deletes(&self, array: ArrayRef) -> Result<ArrayRef, ArrowError> {
        if !self.has_deletes() {
            return Ok(array);
        }
        let deleted: BooleanArray = (0..self.num_rows())
            .map(|r| Some(self.op(r) == Op::Delete))
            .collect();
        arrow::compute::nullif(&array, &deleted)
    }

    /// The same rows and ops over other columns (as many rows).
    pub fn with_data(&self, data: RecordBatch) -> Result<ChangeBatch, ArrowError> {
        if data.num_rows() != self.num_rows() {
            return Err(ArrowError::InvalidArgumentError(format!(
                "replacing {} rows by {}",
                self.num_rows(),
                data.num_rows()
            )));
        }
        Ok(ChangeBatch {
            data,
            ops: self.ops.clone(),
        })
    }

    /// The rows `keep` holds for (TRUE), their ops following them.
    pub fn filter(&self, keep: &BooleanArray) -> Result<ChangeBatch, ArrowError> {
        let data = arrow::compute::filter_record_batch(&self.data, keep)?;
        let ops = self.ops.as_ref().map(|ops| {
            ops.iter()
                .enumerate()
                .filter(|(i, _)| keep.is_valid(*i) && keep.value(*i))
                .map(|(_, op)| *op)
                .collect::<Vec<_>>()
        });
        Ok(match ops {
            Some(ops) => ChangeBatch::new(data, ops)?,
            None => ChangeBatch::inserts(data),
        })
    }

    /// The rows at `rows`, in that order (repeats allowed).
    pub fn take(&self, rows: &UInt32Array) -> Result<ChangeBatch, ArrowError> {
        let columns = self
            .data
            .columns()
            .iter()
            .map(|c| arrow::compute::take(c, rows, None))
            .collect::<Result<Vec<_>, _>>()?;
        let data = RecordBatch::try_new(self.data.schema(), columns)?;
        match &self.ops {
            None => Ok(ChangeBatch::inserts(data)),
            Some(ops) => {
                let ops = rows.values().iter().map(|r| ops[*r as usize]).collect();
                ChangeBatch::new(data, ops)
            }
        }
    }

    /// `len` rows from `offset`.
    pub fn slice(&self, offset: usize, len: usize) -> ChangeBatch {
        ChangeBatch {
            data: self.data.slice(offset, len),
            ops: self
                .ops
                .as_ref()
                .map(|ops| Arc::from(&ops[offset..offset + len])),
        }
    }

    /// Batches of one schema, one after the other.
    pub fn concat(schema: &SchemaRef, batches: &[ChangeBatch]) -> Result<ChangeBatch, ArrowError> {
        let data: Vec<RecordBatch> = batches.iter().map(|b| b.data.clone()).collect();
        let data = arrow::compute::concat_batches(schema, &data)?;
        if batches.iter().all(ChangeBatch::is_insert_only) {
            return Ok(ChangeBatch::inserts(data));
        }
        let ops = batches.iter().flat_map(ChangeBatch::ops).collect();
        ChangeBatch::new(data, ops)
    }

    /// The column named `name`, if the batch has it.
    pub fn column(&self, name: &str) -> Option<&ArrayRef> {
        let index = self.data.schema().index_of(name).ok()?;
        Some(self.data.column(index))
    }

    /// A BIGINT column's values by name (ROWTIME, ROWOFFSET, window bounds).
    pub fn int64(&self, name: &str) -> Option<&Int64Array> {
        self.column(name)?.as_any().downcast_ref::<Int64Array>()
    }

    /// An INT column's values by name (ROWPARTITION).
    pub fn int32(&self, name: &str) -> Option<&Int32Array> {
        self.column(name)?.as_any().downcast_ref::<Int32Array>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::datatypes::{DataType, Field, Schema};

    fn batch(values: &[i64]) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![Field::new("V", DataType::Int64, true)]));
        RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from(values.to_vec()))])
            .expect("batch")
    }

    #[test]
    fn ops_follow_their_rows_through_filter_take_slice_and_concat() {
        let ops = vec![Op::Insert, Op::UpdateBefore, Op::UpdateAfter, Op::Delete];
        let b = ChangeBatch::new(batch(&[1, 2, 3, 4]), ops).expect("batch");
        let kept = b
            .filter(&BooleanArray::from(vec![false, true, true, true]))
            .expect("filter");
        assert_eq!(kept.ops(), [Op::UpdateBefore, Op::UpdateAfter, Op::Delete]);
        assert_eq!(kept.int64("V").expect("V").values(), &[2, 3, 4]);
        let taken = b.take(&UInt32Array::from(vec![3, 0])).expect("take");
        assert_eq!(taken.ops(), [Op::Delete, Op::Insert]);
        assert_eq!(b.slice(1, 2).ops(), [Op::UpdateBefore, Op::UpdateAfter]);
        let schema = b.schema();
        let all = ChangeBatch::concat(&schema, &[ChangeBatch::inserts(batch(&[9])), b.slice(3, 1)])
            .expect("concat");
        assert_eq!(all.ops(), [Op::Insert, Op::Delete]);
        assert!(all.has_deletes());
    }

    #[test]
    fn insert_only_batches_carry_no_ops_and_mismatched_ops_are_refused() {
        let b = ChangeBatch::new(batch(&[1, 2]), vec![Op::Insert, Op::Insert]).expect("batch");
        assert!(b.is_insert_only());
        assert!(ChangeBatch::new(batch(&[1]), vec![]).is_err());
        assert!(b.column("NOPE").is_none());
        for op in [Op::Insert, Op::Delete, Op::UpdateBefore, Op::UpdateAfter] {
            assert_eq!(Op::from_symbol(op.symbol()), Some(op));
        }
    }
}
