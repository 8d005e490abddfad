//! Rows between servers: what an exchange sends to a later stage's task becomes one record of
//! the stage's repartition topic (partition = the task), and the task's server reads it back.
//! A record holds a batch as an Arrow IPC stream (its schema and rows, so the types arrive
//! exactly) with the rows' ops as one more column; its timestamp is the batch's latest ROWTIME.
//!
//! May import what `exec::driver` does.

use crate::common::change::{ChangeBatch, Op};
use crate::common::ipc;
use crate::plan::schema::ROWTIME;
use crate::transport::ProducerRecord;
use arrow::array::{Array, ArrayRef, Int8Array};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::error::ArrowError;
use arrow::record_batch::RecordBatch;
use std::sync::Arc;

/// The column that carries each row's op.
const OP_COLUMN: &str = "__brook_op";

fn op_code(op: Op) -> i8 {
    match op {
        Op::Insert => 0,
        Op::Delete => 1,
        Op::UpdateBefore => 2,
        Op::UpdateAfter => 3,
    }
}

fn op_of(code: i8) -> Option<Op> {
    Some(match code {
        0 => Op::Insert,
        1 => Op::Delete,
        2 => Op::UpdateBefore,
        3 => Op::UpdateAfter,
        _ => return None,
    })
}

/// The record that carries `batch` to its task.
pub fn encode(batch: &ChangeBatch) -> Result<ProducerRecord, ArrowError> {
    let data = batch.data();
    let ops: Int8Array = batch.ops().into_iter().map(op_code).collect();
    let mut fields: Vec<Field> = data
        .schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    fields.push(Field::new(OP_COLUMN, DataType::Int8, false));
    let mut columns: Vec<ArrayRef> = data.columns().to_vec();
    columns.push(Arc::new(ops));
    let with_ops = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)?;
    let bytes = ipc::encode_batch(&with_ops)?;
    let latest = batch
        .int64(ROWTIME)
        .and_then(|t| arrow::compute::max(t).filter(|_| t.null_count() < t.len()));
    let mut record = ProducerRecord::new(None::<Vec<u8>>, Some(bytes));
    record.timestamp = latest;
    Ok(record)
}

/// The batch a record carries; an error says what is wrong with the bytes.
pub fn decode(bytes: &[u8]) -> Result<ChangeBatch, String> {
    let with_ops = ipc::decode_batch(bytes)?;
    let position = with_ops
        .schema()
        .index_of(OP_COLUMN)
        .map_err(|_| format!("no {OP_COLUMN} column"))?;
    let codes = with_ops
        .column(position)
        .as_any()
        .downcast_ref::<Int8Array>()
        .ok_or_else(|| format!("{OP_COLUMN} is not an Int8 column"))?;
    let ops = codes
        .iter()
        .map(|c| {
            c.and_then(op_of)
                .ok_or_else(|| format!("bad op code {c:?}"))
        })
        .collect::<Result<Vec<Op>, String>>()?;
    let mut data = with_ops;
    data.remove_column(position);
    ChangeBatch::new(data, ops).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::change_pretty::from_pretty;

    #[test]
    fn a_batch_and_its_ops_arrive_as_sent() {
        let batch = from_pretty(
            "| op | K:STRING | N:BIGINT | D:DECIMAL(4,2) | ROWTIME:BIGINT |\n\
             | +  | a        | 1        | 1.50           | 10             |\n\
             | U- | a        | 1        | 1.50           | 12             |\n\
             | U+ | a        | 2        | 2.25           | 12             |\n\
             | -  | b        | null     | null           | 11             |",
        )
        .expect("batch");
        let record = encode(&batch).expect("encode");
        assert_eq!(record.timestamp, Some(12));
        let back = decode(record.value.as_deref().expect("value")).expect("decode");
        assert_eq!(back.ops(), batch.ops());
        assert_eq!(back.data(), batch.data());
    }

    #[test]
    fn bytes_that_are_not_a_batch_are_an_error() {
        assert!(decode(b"not arrow").is_err());
        assert!(decode(&[]).is_err());
    }
}
