//! `ForeignKeyJoinOp`: the foreign key's side of a foreign-key join. Input 0 takes subscription
//! rows (exchanged by foreign key), input 1 the right table's changes (exchanged by its key).
//!
//! Stores: `<ctx>-Right-Rows` ([`SideRows`]: right key → its row and ROWTIME) and
//! `<ctx>-Subscriptions` (escaped FK ++ left key, both `codec`-encoded → the left row's
//! contributed columns and ROWTIME, a [`StoredRow`]; one prefix scan finds a FK's subscribers).
//!
//! A subscription row (FK *f*, left key *k*, left row *l* at *t*; *r* the right row of *f*)
//! does what Kafka's receive, join and response processors do together, ROWTIME
//! `max(t, r's ts)` (*t* without *r*):
//! - `DeleteKeyNoPropagate`: forget (*f*, *k*); nothing;
//! - `DeleteKeyAndPropagate`: forget (*f*, *k*); `-` for *k*;
//! - `PropagateNullIfNoFkValAvailable`: remember (*f*, *k*) → *l* (when *f* is not NULL and *l*
//!   exists); `+` *l* joined with *r*; without *r*, `+` *l* with NULLs (LEFT) or `-` (INNER);
//!   `-` when *l* was deleted (its FK is then NULL);
//! - `PropagateOnlyIfFkValAvailable`: remember (*f*, *k*) → *l*; `+` *l* joined with *r* only
//!   when *r* exists.
//!
//! A right change (`+`/`U+` upsert, `-` delete, `U-` ignored; a NULL key reported) updates
//! *r*, then for every subscriber of its key, in left-key encoding order: `+` joined with the
//! new row, or on deletion `+` with NULLs (LEFT) or `-` (INNER) — also when the key had no
//! row, as Kafka's `Change(null, null)`. ROWTIME the right change's own (Kafka forwards the
//! right record's timestamp, not a max).
//!
//! A `-` carries the left key and the rows it retracts as far as this side knows them (the
//! stored left row, or the subscription's, and the right row before a deletion); a sink reads
//! only its key. No hash check: subscriptions and right changes arrive in the order they were
//! made, so every answer is current (ADR 0006 §3.5).
//!
//! May import what `exec` does.

use super::{FkSpec, Instruction};
use crate::common::change::{ChangeBatch, Op};
use crate::common::{Value, codec};
use crate::exec::join::{
    JoinOutput, Joined, Side, SideReader, SideRows, StoredRow, TableChange, no_input,
};
use crate::exec::operator::{Ctx, Operator, OperatorError, StoreDecl};
use crate::exec::query_state::{QueryState, QueryStateError, TaskSlot};
use crate::state::keys::{key_prefix, split_escaped};
use crate::state::{ChangelogLayout, Store};
use arrow::array::{Array, Int32Array, Int64Array};

/// Input 0 carries subscription rows, input 1 the right table's changes.
const SUBSCRIPTIONS: usize = 0;
const RIGHT: usize = 1;

/// The subscriptions store, after the join's context.
const SUBSCRIPTIONS_STORE: &str = "Subscriptions";

pub struct ForeignKeyJoinOp {
    spec: FkSpec,
    /// The right table's current rows by key.
    right: SideRows,
    subscriptions: Subscriptions,
}

/// The left rows subscribed to each foreign key.
struct Subscriptions {
    store: Store,
}

/// One emitted row: its op and the left and right rows it shows (`None`: NULLs).
type Emitted<'r> = (Op, Option<&'r StoredRow>, Option<&'r StoredRow>);

impl ForeignKeyJoinOp {
    /// Task `slot`'s operator, over its stores in `state`.
    pub fn new(
        spec: FkSpec,
        state: &mut QueryState,
        slot: TaskSlot,
    ) -> Result<ForeignKeyJoinOp, QueryStateError> {
        let right = SideRows::open(&spec.join, Side::Right, state, slot)?;
        let name = spec.store_name(SUBSCRIPTIONS_STORE);
        let store = state.task_store(&name, slot, ChangelogLayout::PLAIN)?;
        let subscriptions = Subscriptions { store };
        Ok(ForeignKeyJoinOp {
            spec,
            right,
            subscriptions,
        })
    }

    /// What the operator of `spec` is, for EXPLAIN (its [`Operator::describe`]).
    pub fn describe_for(spec: &FkSpec) -> String {
        format!(
            "Join foreign-key {} (subscriptions by foreign key, the right table's current row by key)",
            spec.join.kind_sql()
        )
    }

    /// The stores the operator of `spec` opens (its [`Operator::stores`]).
    pub fn store_decls(spec: &FkSpec) -> Vec<StoreDecl> {
        vec![
            SideRows::decl(&spec.join, Side::Right),
            StoreDecl::new(spec.store_name(SUBSCRIPTIONS_STORE), "key-value"),
        ]
    }

    /// Applies the subscription rows of `batch` in their order, and the rows they emit.
    fn subscribe(&mut self, batch: &ChangeBatch) -> Result<ChangeBatch, OperatorError> {
        let layout = self.spec.layout();
        let data = batch.data();
        if data.num_columns() != layout.width() {
            return Err(OperatorError::Internal(format!(
                "a foreign-key join's subscription batch has {} columns, not {}",
                data.num_columns(),
                layout.width()
            )));
        }
        let values = |columns: std::ops::Range<usize>, row: usize| -> Vec<Value> {
            columns
                .map(|c| Value::from_array(data.column(c).as_ref(), row))
                .collect()
        };
        let instructions: &Int32Array = column(data, layout.instruction())?;
        let rowtimes: &Int64Array = column(data, layout.rowtime())?;
        let partitions: &Int32Array = column(data, layout.rowtime() + 1)?;
        let offsets: &Int64Array = column(data, layout.rowtime() + 2)?;
        let mut out = JoinOutput::new(&self.spec.join);
        for row in 0..batch.num_rows() {
            let code = (!instructions.is_null(row)).then(|| instructions.value(row));
            let instruction = code.and_then(Instruction::from_code).ok_or_else(|| {
                OperatorError::Internal(format!("a subscription has no instruction {code:?}"))
            })?;
            let fk = values(layout.fk(), row);
            let fk = (!fk.iter().any(|v| matches!(v, Value::Null))).then(|| encode(&fk));
            let key = values(layout.key(), row);
            let left = StoredRow {
                values: values(layout.values(), row),
                ts: rowtimes.value(row),
            };
            // Whether the left row exists after the change that sent this.
            let present = batch.op(row).is_upsert();
            let right = match &fk {
                Some(fk) => self.right.get(fk)?,
                None => None,
            };
            let ts = right.as_ref().map_or(left.ts, |r| r.ts.max(left.ts));
            let encoded_key = encode(&key);
            let at = Subscription {
                fk: fk.as_deref(),
                key: &encoded_key,
            };
            let old = self
                .subscriptions
                .apply(instruction, &at, present.then_some(&left))?;
            let Some((op, l, r)) = self.answer(instruction, present, &left, old.as_ref(), &right)
            else {
                continue;
            };
            let joined = Joined {
                key: &key,
                left: l.map(|l| l.values.as_slice()),
                right: r.map(|r| r.values.as_slice()),
                ts,
                position: (partitions.value(row), offsets.value(row)),
            };
            out.push(op, joined);
        }
        out.finish()
    }

    /// What a subscription row emits (module docs): `left` the row it carries (`present`:
    /// the left row exists), `old` the subscription it replaced or deleted, `right` its FK's
    /// right row.
    fn answer<'r>(
        &self,
        instruction: Instruction,
        present: bool,
        left: &'r StoredRow,
        old: Option<&'r StoredRow>,
        right: &'r Option<StoredRow>,
    ) -> Option<Emitted<'r>> {
        let right = right.as_ref();
        match instruction {
            Instruction::DeleteKeyNoPropagate => None,
            Instruction::DeleteKeyAndPropagate => Some((Op::Delete, old.or(Some(left)), right)),
            Instruction::PropagateNullIfNoFkValAvailable => {
                let joins = present && (right.is_some() || self.spec.join.keeps_left());
                let op = if joins { Op::Insert } else { Op::Delete };
                Some((op, present.then_some(left), right))
            }
            Instruction::PropagateOnlyIfFkValAvailable => {
                (present && right.is_some()).then_some((Op::Insert, Some(left), right))
            }
        }
    }

    /// Applies the right table's changes of `batch` in their order, and the rows of their
    /// subscribers.
    fn apply_right(
        &mut self,
        batch: &ChangeBatch,
        ctx: &mut Ctx<'_>,
    ) -> Result<ChangeBatch, OperatorError> {
        let reader = SideReader::new(&self.spec.join, Side::Right, batch);
        let mut out = JoinOutput::new(&self.spec.join);
        for row in 0..batch.num_rows() {
            let Some((key, change)) = TableChange::keyed(batch, &reader, row, ctx) else {
                continue;
            };
            let fk = encode(&key);
            let old = match change.row() {
                Some(_) => None,
                None => self.right.get(&fk)?,
            };
            self.right.write(&fk, &change);
            let (op, right) = match change.row() {
                Some(new) => (Op::Insert, Some(new)),
                None if self.spec.join.keeps_left() => (Op::Insert, None),
                None => (Op::Delete, old.as_ref()),
            };
            for (left_key, left) in self.subscriptions.of(&fk)? {
                let joined = Joined {
                    key: &left_key,
                    left: Some(&left.values),
                    right: right.map(|r| r.values.as_slice()),
                    ts: reader.rowtime(row),
                    position: reader.position(row),
                };
                out.push(op, joined);
            }
        }
        out.finish()
    }
}

/// Where a subscription row applies: its encoded FK (`None`: NULL) and left key.
struct Subscription<'a> {
    fk: Option<&'a [u8]>,
    key: &'a [u8],
}

impl Subscriptions {
    /// The store key of a subscription: the escaped FK, then the left key.
    fn store_key(fk: &[u8], key: &[u8]) -> Vec<u8> {
        let mut out = key_prefix(fk);
        out.extend_from_slice(key);
        out
    }

    /// Applies `instruction` to the subscription `at` (`left`: the left row, `None` when it was
    /// deleted); the subscription it replaced or deleted.
    fn apply(
        &mut self,
        instruction: Instruction,
        at: &Subscription<'_>,
        left: Option<&StoredRow>,
    ) -> Result<Option<StoredRow>, OperatorError> {
        let Some(fk) = at.fk else {
            // Only a LEFT join's answer without FK has none: nothing to remember.
            if instruction == Instruction::PropagateNullIfNoFkValAvailable {
                return Ok(None);
            }
            return Err(OperatorError::Internal(format!(
                "a subscription row {instruction:?} has no foreign key"
            )));
        };
        let key = Subscriptions::store_key(fk, at.key);
        let old = match self.store.get(&key)? {
            Some(bytes) => Some(StoredRow::decode(&bytes)?),
            None => None,
        };
        match (instruction, left) {
            (Instruction::DeleteKeyNoPropagate | Instruction::DeleteKeyAndPropagate, _) => {
                self.store.delete(&key)
            }
            (_, Some(left)) => self.store.put(&key, &left.encode()),
            // A deleted left row subscribes to nothing.
            (_, None) => self.store.delete(&key),
        }
        Ok(old)
    }

    /// The left keys subscribed to the encoded foreign key `fk` and their rows, in key order.
    fn of(&self, fk: &[u8]) -> Result<Vec<(Vec<Value>, StoredRow)>, OperatorError> {
        let unreadable = |e: String| {
            OperatorError::Internal(format!("a stored subscription is unreadable: {e}"))
        };
        let entries = self.store.prefix(&key_prefix(fk))?;
        entries
            .into_iter()
            .map(|(k, v)| {
                let (_, key) = split_escaped(&k).map_err(|e| unreadable(e.to_string()))?;
                let key: Vec<Value> = codec::decode(key).map_err(|e| unreadable(e.to_string()))?;
                Ok((key, StoredRow::decode(&v)?))
            })
            .collect()
    }
}

/// Key values as the stores encode them.
fn encode(values: &[Value]) -> Vec<u8> {
    codec::encode_values(values)
}

/// Column `c` of `data` as an array of type `A`.
fn column<A: 'static>(
    data: &arrow::record_batch::RecordBatch,
    c: usize,
) -> Result<&A, OperatorError> {
    data.column(c).as_any().downcast_ref::<A>().ok_or_else(|| {
        let name = data.schema().field(c).name().clone();
        OperatorError::Internal(format!("subscription column {name} has the wrong type"))
    })
}

impl Operator for ForeignKeyJoinOp {
    fn describe(&self) -> String {
        ForeignKeyJoinOp::describe_for(&self.spec)
    }

    fn stores(&self) -> Vec<StoreDecl> {
        ForeignKeyJoinOp::store_decls(&self.spec)
    }

    fn process(
        &mut self,
        input: usize,
        batch: ChangeBatch,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), OperatorError> {
        self.spec.checked()?;
        let joined = match input {
            SUBSCRIPTIONS => self.subscribe(&batch)?,
            RIGHT => self.apply_right(&batch, ctx)?,
            other => return Err(no_input("a foreign-key join", other)),
        };
        ctx.emit(joined);
        Ok(())
    }
}
