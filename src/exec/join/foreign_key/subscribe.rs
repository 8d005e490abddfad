//! `FkSubscribeOp`: the left table's changes as subscription rows (Kafka 3.7+'s
//! `SubscriptionSendProcessorSupplier`). Per change of a left key, given the foreign key its
//! row had (`<ctx>-Left-Fks`: left key → the FK values of its current row, NULLs included;
//! no entry: no row) and the one it has now (a FK with a NULL component is no FK):
//!
//! LEFT (`leftJoinInstructions`):
//! - a deletion of a key without a row: nothing;
//! - the row had a FK and the FK changed (or the row was deleted, or its FK is now NULL):
//!   `DeleteKeyNoPropagate` to the old FK;
//! - then always `PropagateNullIfNoFkValAvailable` to the new FK, or with a NULL FK (a deletion,
//!   or a row without FK): the join answers with the joined row, the left row with NULLs, or a
//!   retraction when the row was deleted.
//!
//! INNER (`defaultJoinInstructions`):
//! - an upsert with a NULL FK: reported (the row cannot join), and `DeleteKeyAndPropagate` to the
//!   old FK when the old row had one (its joined row, if any, is retracted);
//! - an upsert whose old row had a FK: FK changed: `DeleteKeyNoPropagate` to the old FK and
//!   `PropagateNullIfNoFkValAvailable` to the new one (a retraction if it finds no right row);
//!   FK unchanged: `PropagateOnlyIfFkValAvailable`;
//! - an upsert of a new row (or one whose FK was NULL): `PropagateOnlyIfFkValAvailable`;
//! - a deletion of a row that had a FK: `DeleteKeyAndPropagate` to it; otherwise nothing.
//!
//! Kafka before 3.7 (`ForeignJoinSubscriptionSendProcessorSupplier`) differed: an update always
//! sent `PropagateNullIfNoFkValAvailable` (an INNER join retracted an unchanged FK's row that
//! never joined), and a NULL FK on either side of an update skipped the change entirely. A
//! subscription row carries the change's key, row, ROWTIME, ROWPARTITION and ROWOFFSET, and
//! op `+` (the row exists) or `-` (deleted); one output batch per input batch.
//!
//! May import what `exec` does.

use super::{FkSpec, Instruction};
use crate::common::change::{ChangeBatch, Op};
use crate::common::{SqlType, Value, codec, values_to_array};
use crate::exec::join::{Side, SideReader, TableChange, no_input};
use crate::exec::operator::{Ctx, Operator, OperatorError, StoreDecl};
use crate::exec::query_state::{QueryState, QueryStateError, TaskSlot};
use crate::plan::logical::JoinKind;
use crate::plan::schema::{ROWOFFSET, ROWPARTITION, ROWTIME};
use crate::state::{ChangelogLayout, Store};
use arrow::array::{ArrayRef, Int32Array, Int64Array, UInt32Array};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use std::sync::Arc;

/// The store of each left key's foreign key, after the join's context.
const LEFT_FKS: &str = "Left-Fks";

pub struct FkSubscribeOp {
    spec: FkSpec,
    /// [`FkSubscribeOp::subscription_schema`] of `spec`.
    schema: SchemaRef,
    /// Left key (encoded) → the FK values of its current row (encoded, NULLs included).
    fks: Store,
}

/// Where a subscription row is addressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum To {
    /// The FK of the key's row before the change.
    Old,
    /// The FK of its row after it.
    New,
    /// No FK (NULL): a LEFT join's answer without a right row.
    Null,
}

/// One subscription row being built: the input row it comes from, its FK values, instruction
/// and op.
struct Pending {
    row: usize,
    fk: Vec<Value>,
    instruction: Instruction,
    op: Op,
}

impl FkSubscribeOp {
    /// Task `slot`'s operator, over its store in `state`.
    pub fn new(
        spec: FkSpec,
        state: &mut QueryState,
        slot: TaskSlot,
    ) -> Result<FkSubscribeOp, QueryStateError> {
        let fks = state.task_store(&spec.store_name(LEFT_FKS), slot, ChangelogLayout::PLAIN)?;
        let schema = FkSubscribeOp::subscription_schema(&spec);
        Ok(FkSubscribeOp { spec, schema, fks })
    }

    /// The schema of the subscription batches the operator of `spec` emits: `FK_0` ..
    /// `FK_<n-1>`, the left key columns, `INSTRUCTION`, the left contributed columns (named
    /// `L.<name>`), `ROWTIME`, `ROWPARTITION`, `ROWOFFSET` (module docs of `foreign_key`).
    pub fn subscription_schema(spec: &FkSpec) -> SchemaRef {
        let left = spec.left_schema.fields();
        // Positions outside the left schema (a spec `FkSpec::check` refuses) get NULL columns.
        let typed = |name: String, p: usize| {
            let ty = left
                .get(p)
                .map_or(DataType::Null, |f| f.data_type().clone());
            Field::new(name, ty, true)
        };
        let name = |p: usize| left.get(p).map_or(format!("?{p}"), |f| f.name().clone());
        let mut fields: Vec<Field> = (spec.fk_columns.iter().enumerate())
            .map(|(i, p)| typed(format!("FK_{i}"), *p))
            .collect();
        fields.extend(spec.join.left_keys.iter().map(|p| typed(name(*p), *p)));
        fields.push(Field::new("INSTRUCTION", DataType::Int32, true));
        fields
            .extend((spec.join.left_columns.iter()).map(|p| typed(format!("L.{}", name(*p)), *p)));
        fields.extend([
            Field::new(ROWTIME, DataType::Int64, true),
            Field::new(ROWPARTITION, DataType::Int32, true),
            Field::new(ROWOFFSET, DataType::Int64, true),
        ]);
        Arc::new(Schema::new(fields))
    }

    /// The positions of the foreign-key columns in subscription batches (`0..n`): what the
    /// planner exchanges them by.
    pub fn fk_positions(spec: &FkSpec) -> Vec<usize> {
        (0..spec.fk_columns.len()).collect()
    }

    /// What the operator of `spec` is, for EXPLAIN (its [`Operator::describe`]).
    pub fn describe_for(spec: &FkSpec) -> String {
        format!(
            "Join foreign-key {} subscribe (left changes to subscriptions by foreign key)",
            spec.join.kind_sql()
        )
    }

    /// The stores the operator of `spec` opens (its [`Operator::stores`]).
    pub fn store_decls(spec: &FkSpec) -> Vec<StoreDecl> {
        vec![StoreDecl::new(spec.store_name(LEFT_FKS), "key-value")]
    }

    /// The subscription rows of the left changes of `batch`, in their order.
    fn subscriptions(
        &mut self,
        batch: &ChangeBatch,
        ctx: &mut Ctx<'_>,
    ) -> Result<ChangeBatch, OperatorError> {
        self.spec.checked()?;
        let width = self.spec.left_schema.fields().len();
        if batch.data().num_columns() != width {
            return Err(OperatorError::Internal(format!(
                "a foreign-key join's left batch has {} columns, not {width}",
                batch.data().num_columns()
            )));
        }
        let reader = SideReader::new(&self.spec.join, Side::Left, batch);
        let mut pending = Vec::new();
        for row in 0..batch.num_rows() {
            let Some((key, change)) = TableChange::keyed(batch, &reader, row, ctx) else {
                continue;
            };
            let encoded = codec::encode_values(&key);
            let old = match self.fks.get(&encoded)? {
                Some(bytes) => Some(decode_fk(&bytes)?),
                None => None,
            };
            let new = change.row().map(|_| self.fk_values(batch, row));
            match &new {
                Some(fk) => self.fks.put(&encoded, &codec::encode_values(fk)),
                None => self.fks.delete(&encoded),
            }
            let (sends, skipped) =
                instructions(self.spec.join.kind, old.as_deref(), new.as_deref());
            if skipped {
                let message = "A table row with a NULL foreign key is skipped: an inner join \
                               cannot join it";
                ctx.report(batch, row, message.to_string());
            }
            let op = if new.is_some() {
                Op::Insert
            } else {
                Op::Delete
            };
            for (to, instruction) in sends {
                let fk = match to {
                    To::Old => old.clone().unwrap_or_default(),
                    To::New => new.clone().unwrap_or_default(),
                    To::Null => vec![Value::Null; self.spec.fk_columns.len()],
                };
                pending.push(Pending {
                    row,
                    fk,
                    instruction,
                    op,
                });
            }
        }
        self.build(batch, &reader, &pending)
    }

    /// The FK values of `row` of a left batch.
    fn fk_values(&self, batch: &ChangeBatch, row: usize) -> Vec<Value> {
        let data = batch.data();
        (self.spec.fk_columns.iter())
            .map(|c| Value::from_array(data.column(*c).as_ref(), row))
            .collect()
    }

    /// The subscription batch of `pending`, its key and contributed columns taken from the
    /// left batch.
    fn build(
        &self,
        batch: &ChangeBatch,
        reader: &SideReader<'_>,
        pending: &[Pending],
    ) -> Result<ChangeBatch, OperatorError> {
        if pending.is_empty() {
            return Ok(ChangeBatch::empty(self.schema.clone()));
        }
        let fields = self.schema.fields();
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(fields.len());
        for (i, field) in fields.iter().take(self.spec.fk_columns.len()).enumerate() {
            let ty = SqlType::from_arrow(field.data_type()).ok_or_else(|| {
                OperatorError::Internal(format!("foreign-key column {} has no SQL type", i))
            })?;
            let values: Vec<Value> = (pending.iter())
                .map(|p| p.fk.get(i).cloned().unwrap_or(Value::Null))
                .collect();
            columns.push(values_to_array(&values, &ty));
        }
        let rows = UInt32Array::from_iter_values(pending.iter().map(|p| p.row as u32));
        let take = |c: &usize| arrow::compute::take(batch.data().column(*c).as_ref(), &rows, None);
        for c in &self.spec.join.left_keys {
            columns.push(take(c)?);
        }
        let codes = pending.iter().map(|p| p.instruction.code());
        columns.push(Arc::new(Int32Array::from_iter_values(codes)));
        for c in &self.spec.join.left_columns {
            columns.push(take(c)?);
        }
        let times = pending.iter().map(|p| reader.rowtime(p.row));
        let positions: Vec<(i32, i64)> = pending.iter().map(|p| reader.position(p.row)).collect();
        columns.push(Arc::new(Int64Array::from_iter_values(times)));
        columns.push(Arc::new(Int32Array::from_iter_values(
            positions.iter().map(|p| p.0),
        )));
        columns.push(Arc::new(Int64Array::from_iter_values(
            positions.iter().map(|p| p.1),
        )));
        let data = RecordBatch::try_new(self.schema.clone(), columns)?;
        Ok(ChangeBatch::new(
            data,
            pending.iter().map(|p| p.op).collect(),
        )?)
    }
}

/// FK values as `Left-Fks` stores them.
fn decode_fk(bytes: &[u8]) -> Result<Vec<Value>, OperatorError> {
    codec::decode(bytes)
        .map_err(|e| OperatorError::Internal(format!("a stored foreign key is unreadable: {e}")))
}

/// `fk` when it is a foreign key (no NULL component).
fn valid(fk: &[Value]) -> Option<&[Value]> {
    (!fk.iter().any(|v| matches!(v, Value::Null))).then_some(fk)
}

/// Whether two foreign keys differ (by their encoding, as Kafka compares serialized keys).
fn differ(a: &[Value], b: Option<&[Value]>) -> bool {
    b.is_none_or(|b| codec::encode_values(a) != codec::encode_values(b))
}

/// The subscription rows of a change of a left key whose row had FK values `old` (`None`: no
/// row) and has `new` (`None`: deleted), and whether the change is reported as skipped (module
/// docs).
fn instructions(
    kind: JoinKind,
    old: Option<&[Value]>,
    new: Option<&[Value]>,
) -> (Vec<(To, Instruction)>, bool) {
    use Instruction::*;
    let old_fk = old.and_then(valid);
    let new_fk = new.and_then(valid);
    if kind == JoinKind::Left {
        if old.is_none() && new.is_none() {
            return (Vec::new(), false);
        }
        let mut sends = Vec::new();
        if old_fk.is_some_and(|o| differ(o, new_fk)) {
            sends.push((To::Old, DeleteKeyNoPropagate));
        }
        let to = if new_fk.is_some() { To::New } else { To::Null };
        sends.push((to, PropagateNullIfNoFkValAvailable));
        return (sends, false);
    }
    let sends = match (new, new_fk, old_fk) {
        // An upsert without FK: it is skipped; its old FK's result (if any) goes.
        (Some(_), None, Some(_)) => return (vec![(To::Old, DeleteKeyAndPropagate)], true),
        (Some(_), None, None) => return (Vec::new(), true),
        (Some(_), Some(n), Some(o)) if differ(o, Some(n)) => vec![
            (To::Old, DeleteKeyNoPropagate),
            (To::New, PropagateNullIfNoFkValAvailable),
        ],
        (Some(_), Some(_), _) => vec![(To::New, PropagateOnlyIfFkValAvailable)],
        (None, _, Some(_)) => vec![(To::Old, DeleteKeyAndPropagate)],
        (None, _, None) => Vec::new(),
    };
    (sends, false)
}

impl Operator for FkSubscribeOp {
    fn describe(&self) -> String {
        FkSubscribeOp::describe_for(&self.spec)
    }

    fn stores(&self) -> Vec<StoreDecl> {
        FkSubscribeOp::store_decls(&self.spec)
    }

    fn process(
        &mut self,
        input: usize,
        batch: ChangeBatch,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), OperatorError> {
        if input != 0 {
            return Err(no_input("a foreign-key subscription", input));
        }
        let subscriptions = self.subscriptions(&batch, ctx)?;
        ctx.emit(subscriptions);
        Ok(())
    }
}
