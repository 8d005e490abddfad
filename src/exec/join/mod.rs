//! Join operators (ADR 0006, §3): two-input operators over RocksDB stores that join the rows of
//! their left input (input 0) and right input (input 1) on equal keys: stream-stream
//! (`stream_stream`), stream-table (`stream_table`), table-table (`table_table`). What they
//! share lives here: the [`JoinSpec`] a planner hands them, reading a side's key and columns
//! from a batch, stored side rows, the [`JoinOutput`] builder of joined rows, the stream rows'
//! loop of the stream-table joins ([`join_stream_rows`], used by `stream_table` and `temporal`)
//! and the error of an input a join does not have ([`no_input`]).
//!
//! Output layout (`JoinSpec::schema`): the key columns (`KSQL_JOIN_KEY_<i>`, one per key
//! component, taken from whichever side has the row), the left side's contributed columns, the
//! right side's, then `ROWTIME`, `ROWPARTITION`, `ROWOFFSET` of the joined row. A side that
//! has no row contributes NULLs.
//!
//! May import what `exec` does.

pub mod stream_stream;

use crate::common::change::{ChangeBatch, Op};
use crate::common::{SqlType, Value, codec, values_to_array};
use crate::exec::operator::{Ctx, OperatorError};
use crate::plan::logical::JoinKind;
use crate::plan::schema::{ROWOFFSET, ROWPARTITION, ROWTIME};
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use serde::{Deserialize, Serialize};

mod foreign_key;
mod side_rows;
mod stream_table;
mod table_table;
mod temporal;
#[cfg(test)]
mod tests;

pub use foreign_key::{FkSpec, FkSubscribeOp, ForeignKeyJoinOp, Instruction};
pub use side_rows::{SideRows, TableChange};
pub use stream_stream::StreamStreamJoinOp;
pub use stream_table::StreamTableJoinOp;
pub use table_table::TableTableJoinOp;
pub use temporal::TemporalJoinOp;

/// What a join operator needs to know about its inputs and output.
#[derive(Clone, Debug)]
pub struct JoinSpec {
    pub kind: JoinKind,
    /// Positions of the key columns in left input batches (one per key component).
    pub left_keys: Vec<usize>,
    /// Positions of the key columns in right input batches (same count and types).
    pub right_keys: Vec<usize>,
    /// Positions of the columns the left side contributes to the output, in output order.
    pub left_columns: Vec<usize>,
    /// Positions of the columns the right side contributes, in output order.
    pub right_columns: Vec<usize>,
    /// ksqlDB's query context (`Join`, `L_Join`, ...): stores are named `<context>-<store>`.
    pub context: String,
    /// The output schema: keys, left columns, right columns, ROWTIME, ROWPARTITION, ROWOFFSET.
    pub schema: SchemaRef,
}

impl JoinSpec {
    /// A store name in this join's context (`Join-Right-Rows`).
    pub fn store_name(&self, store: &str) -> String {
        format!("{}-{store}", self.context)
    }

    /// Whether the joined rows are windowed: the output has WINDOWSTART and WINDOWEND before
    /// ROWTIME, filled from the key's last two components (both sides' window bounds).
    pub fn windowed(&self) -> bool {
        let fields = self.schema.fields();
        fields.len() >= 5 && fields[fields.len() - 5].name() == crate::plan::schema::WINDOWSTART
    }

    /// Whether rows of the left side without a match are emitted (LEFT, FULL).
    pub fn keeps_left(&self) -> bool {
        matches!(self.kind, JoinKind::Left | JoinKind::Outer)
    }

    /// Whether rows of the right side without a match are emitted (RIGHT, FULL).
    pub fn keeps_right(&self) -> bool {
        matches!(self.kind, JoinKind::Right | JoinKind::Outer)
    }

    /// Whether rows of `side` without a match are emitted.
    pub fn keeps(&self, side: Side) -> bool {
        match side {
            Side::Left => self.keeps_left(),
            Side::Right => self.keeps_right(),
        }
    }

    /// The join's kind as SQL writes it (`INNER`, `LEFT`, `RIGHT`, `FULL OUTER`), for EXPLAIN.
    pub fn kind_sql(&self) -> &'static str {
        match self.kind {
            JoinKind::Inner => "INNER",
            JoinKind::Left => "LEFT",
            JoinKind::Right => "RIGHT",
            JoinKind::Outer => "FULL OUTER",
        }
    }
}

/// Which input a row came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Side {
    Left,
    Right,
}

impl Side {
    /// The side of input `input` (0: left, anything else: right).
    pub fn of_input(input: usize) -> Side {
        if input == 0 { Side::Left } else { Side::Right }
    }

    pub fn other(self) -> Side {
        match self {
            Side::Left => Side::Right,
            Side::Right => Side::Left,
        }
    }
}

/// The internal error of a batch on input `input`, which `operator` (`a temporal join`) does
/// not have.
pub fn no_input(operator: &str, input: usize) -> OperatorError {
    OperatorError::Internal(format!("{operator} has no input {input}"))
}

/// A side's row as a join store keeps it: its contributed columns' values and its ROWTIME.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredRow {
    pub values: Vec<Value>,
    pub ts: i64,
}

impl StoredRow {
    pub fn encode(&self) -> Vec<u8> {
        codec::encode(self)
    }

    pub fn decode(bytes: &[u8]) -> Result<StoredRow, OperatorError> {
        codec::decode(bytes)
            .map_err(|e| OperatorError::Internal(format!("a stored join row is unreadable: {e}")))
    }
}

/// Reads one side's rows out of its input batches.
pub struct SideReader<'a> {
    batch: &'a RecordBatch,
    keys: &'a [usize],
    columns: &'a [usize],
    rowtime: Option<&'a arrow::array::Int64Array>,
    partition: Option<&'a arrow::array::Int32Array>,
    offset: Option<&'a arrow::array::Int64Array>,
}

impl<'a> SideReader<'a> {
    /// Left (`side`) or right rows of `batch`, as `spec` lays them out.
    pub fn new(spec: &'a JoinSpec, side: Side, batch: &'a ChangeBatch) -> SideReader<'a> {
        let (keys, columns) = match side {
            Side::Left => (&spec.left_keys, &spec.left_columns),
            Side::Right => (&spec.right_keys, &spec.right_columns),
        };
        SideReader {
            batch: batch.data(),
            keys,
            columns,
            rowtime: batch.int64(ROWTIME),
            partition: batch.int32(ROWPARTITION),
            offset: batch.int64(ROWOFFSET),
        }
    }

    /// The key of `row`, or `None` when a component is NULL (a NULL key joins nothing).
    pub fn key(&self, row: usize) -> Option<Vec<Value>> {
        let key = self.key_values(row);
        if key.iter().any(|v| matches!(v, Value::Null)) {
            return None;
        }
        Some(key)
    }

    /// The key columns' values of `row`, NULLs included (what a joined row of a row without
    /// a key carries).
    pub fn key_values(&self, row: usize) -> Vec<Value> {
        self.keys
            .iter()
            .map(|c| Value::from_array(self.batch.column(*c).as_ref(), row))
            .collect()
    }

    /// The key of `row` encoded for a store key (order-preserving is not needed: keys are
    /// looked up, not ranged over).
    pub fn encoded_key(&self, row: usize) -> Option<Vec<u8>> {
        self.key(row).map(|k| codec::encode_values(&k))
    }

    /// The row as a store keeps it.
    pub fn stored(&self, row: usize) -> StoredRow {
        StoredRow {
            values: self
                .columns
                .iter()
                .map(|c| Value::from_array(self.batch.column(*c).as_ref(), row))
                .collect(),
            ts: self.rowtime(row),
        }
    }

    pub fn rowtime(&self, row: usize) -> i64 {
        self.rowtime.map_or(0, |a| a.value(row))
    }

    /// The row's ROWPARTITION and ROWOFFSET (what a joined row it triggers carries).
    pub fn position(&self, row: usize) -> (i32, i64) {
        (
            self.partition.map_or(0, |a| a.value(row)),
            self.offset.map_or(0, |a| a.value(row)),
        )
    }
}

/// Joined rows being built into one output batch.
pub struct JoinOutput<'a> {
    spec: &'a JoinSpec,
    ops: Vec<Op>,
    columns: Vec<Vec<Value>>,
}

/// One joined row: its key, the rows of the two sides (`None`: NULLs), its ROWTIME and the
/// ROWPARTITION and ROWOFFSET it carries.
pub struct Joined<'r> {
    pub key: &'r [Value],
    pub left: Option<&'r [Value]>,
    pub right: Option<&'r [Value]>,
    pub ts: i64,
    pub position: (i32, i64),
}

impl<'a> JoinOutput<'a> {
    pub fn new(spec: &'a JoinSpec) -> JoinOutput<'a> {
        JoinOutput {
            spec,
            ops: Vec::new(),
            columns: vec![Vec::new(); spec.schema.fields().len()],
        }
    }

    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Adds a row. Its values are charged to the step's budget (`common::limits`): a key that
    /// joins a great many rows cannot exhaust memory. Once the budget is passed no more rows
    /// are added: the driver rolls the step back and runs it again with fewer records (one
    /// record alone is skipped with a processing-log entry).
    pub fn push(&mut self, op: Op, row: Joined<'_>) {
        if crate::common::limits::step_exceeded() {
            return;
        }
        let spec = self.spec;
        let windowed = spec.windowed();
        let tail = if windowed { 5 } else { 3 };
        let width = self.columns.len();
        let keys = width.saturating_sub(spec.left_columns.len() + spec.right_columns.len() + tail);
        let key = |i: usize| row.key.get(i).cloned().unwrap_or(Value::Null);
        let side = |s: Option<&[Value]>, i: usize| {
            s.and_then(|s| s.get(i)).cloned().unwrap_or(Value::Null)
        };
        let values = (0..keys)
            .map(key)
            .chain((0..spec.left_columns.len()).map(|i| side(row.left, i)))
            .chain((0..spec.right_columns.len()).map(|i| side(row.right, i)))
            // A windowed join's key ends with the window's bounds.
            .chain((keys..keys + 2).filter(|_| windowed).map(key))
            .chain([
                Value::Bigint(row.ts),
                Value::Int(row.position.0),
                Value::Bigint(row.position.1),
            ]);
        let mut bytes = 0;
        for (column, value) in self.columns.iter_mut().zip(values) {
            bytes += value.footprint();
            column.push(value);
        }
        self.ops.push(op);
        // Passing the budget is acted on above and by the driver.
        let _ = crate::common::limits::charge_step(bytes);
    }

    /// The batch of the rows added (empty when none were).
    pub fn finish(self) -> Result<ChangeBatch, OperatorError> {
        let schema = self.spec.schema.clone();
        if self.ops.is_empty() {
            return Ok(ChangeBatch::empty(schema));
        }
        let arrays = schema
            .fields()
            .iter()
            .zip(&self.columns)
            .map(|(f, values)| {
                let ty = SqlType::from_arrow(f.data_type()).ok_or_else(|| {
                    OperatorError::Internal(format!(
                        "join output column {} has no SQL type",
                        f.name()
                    ))
                })?;
                Ok(values_to_array(values, &ty))
            })
            .collect::<Result<Vec<_>, OperatorError>>()?;
        let data = RecordBatch::try_new(schema, arrays)?;
        Ok(ChangeBatch::new(data, self.ops)?)
    }
}

/// The joined rows of a stream-table join's stream rows (the left side of `batch`), in their
/// order. A stream row with a key joins the table row `table_row` finds for its key and row;
/// one with a NULL key component joins nothing: LEFT emits it with NULLs, INNER drops it with a
/// processing-log entry. Without a table row, LEFT emits the stream row with NULLs, INNER
/// nothing. Each stream row not dropped for its key gets the processing-log entry `note` gives
/// it, if any, after its lookup. A joined row carries the stream row's key, ROWTIME,
/// ROWPARTITION and ROWOFFSET.
pub fn join_stream_rows(
    spec: &JoinSpec,
    batch: &ChangeBatch,
    ctx: &mut Ctx<'_>,
    mut table_row: impl FnMut(&[Value], &StoredRow) -> Result<Option<StoredRow>, OperatorError>,
    note: impl Fn(&StoredRow) -> Option<String>,
) -> Result<ChangeBatch, OperatorError> {
    let stream = SideReader::new(spec, Side::Left, batch);
    let mut out = JoinOutput::new(spec);
    for row in 0..batch.num_rows() {
        let left = stream.stored(row);
        let (key, right) = match stream.key(row) {
            Some(key) => {
                let right = table_row(&key, &left)?;
                (key, right)
            }
            None if spec.keeps_left() => (stream.key_values(row), None),
            None => {
                let message = "A stream row with a NULL join key is dropped: an inner join \
                               cannot join it";
                ctx.report(batch, row, message.to_string());
                continue;
            }
        };
        if let Some(message) = note(&left) {
            ctx.report(batch, row, message);
        }
        if right.is_none() && !spec.keeps_left() {
            continue;
        }
        let joined = Joined {
            key: &key,
            left: Some(&left.values),
            right: right.as_ref().map(|r| r.values.as_slice()),
            ts: left.ts,
            position: stream.position(row),
        };
        out.push(Op::Insert, joined);
    }
    out.finish()
}

impl From<&crate::plan::logical::JoinNode> for FkSpec {
    /// A foreign-key join node's spec: its left keys are the left table's primary key, its
    /// foreign key the columns the re-key below it appended.
    fn from(node: &crate::plan::logical::JoinNode) -> FkSpec {
        FkSpec {
            join: JoinSpec::from(node),
            fk_columns: node.foreign_key.clone(),
            left_schema: node.left.schema(),
        }
    }
}

impl From<&crate::plan::logical::JoinNode> for JoinSpec {
    fn from(node: &crate::plan::logical::JoinNode) -> JoinSpec {
        JoinSpec {
            kind: node.kind,
            left_keys: node.left_keys.clone(),
            right_keys: node.right_keys.clone(),
            left_columns: node.left_columns.clone(),
            right_columns: node.right_columns.clone(),
            context: node.context.clone(),
            schema: node.schema.clone(),
        }
    }
}

/// What EXPLAIN shows of a join node's operator, and its stores, without building it.
pub fn describe_node(
    node: &crate::plan::logical::JoinNode,
) -> (String, Vec<crate::exec::operator::StoreDecl>) {
    use crate::plan::logical::JoinShape;
    let spec = JoinSpec::from(node);
    match node.shape {
        JoinShape::StreamTable => (
            StreamTableJoinOp::describe_for(&spec),
            StreamTableJoinOp::store_decls(&spec),
        ),
        JoinShape::TableTable => (
            TableTableJoinOp::describe_for(&spec),
            TableTableJoinOp::store_decls(&spec),
        ),
        JoinShape::Temporal { history_ms } => (
            TemporalJoinOp::describe_for(&spec, history_ms),
            TemporalJoinOp::store_decls(&spec),
        ),
        JoinShape::ForeignKey => {
            let spec = FkSpec::from(node);
            (
                ForeignKeyJoinOp::describe_for(&spec),
                ForeignKeyJoinOp::store_decls(&spec),
            )
        }
        JoinShape::StreamStream {
            before_ms,
            after_ms,
            grace_ms,
        } => (
            StreamStreamJoinOp::description(&spec, (before_ms, after_ms, grace_ms)),
            StreamStreamJoinOp::store_decls(&spec, grace_ms),
        ),
    }
}
