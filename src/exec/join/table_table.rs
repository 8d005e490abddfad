//! The table-table join (ADR 0006 §3.3): each side's current row per key in
//! `<context>-Left-Rows` and `<context>-Right-Rows`. A change on side *S* (`+`/`U+` upsert,
//! `-` delete, `U-` ignored) updates *S*'s row, then emits what Kafka's
//! `KTableKTable{Inner,Left,Right,Outer}Join` processors forward for it, given the key's row
//! on the other side *O*:
//!
//! - *S* has a row now and *O* has one: `+` joined;
//! - *S* has a row now and *O* has none: `+` with NULLs for *O* if *S* is preserved, else
//!   nothing;
//! - *S* deleted and *O* has a row: `+` *O*'s row with NULLs for *S* if *O* is preserved, else
//!   `-` (even when *S* had no row: Kafka's `Change(null, null)` still reaches the joiner);
//! - *S* deleted and *O* has none: `-` if *S* is preserved and had a row, else nothing.
//!
//! The row emitted has the change's key, ROWPARTITION and ROWOFFSET, and ROWTIME `max(t, O's
//! ROWTIME)` when *O* has a row, else the change's `t`. A `-` carries the joined row it
//! retracts as the stores knew it (*S*'s row before the change); a sink reads only its key.
//! Updates are single `+` rows (Kafka's old values are not sent, so no `U-`/`U+` pairs).
//!
//! May import what `exec` does.

use super::{
    JoinOutput, JoinSpec, Joined, Side, SideReader, SideRows, StoredRow, TableChange, no_input,
};
use crate::common::change::{ChangeBatch, Op};
use crate::common::codec;
use crate::exec::operator::{Ctx, Operator, OperatorError, StoreDecl};
use crate::exec::query_state::{QueryState, QueryStateError, TaskSlot};

pub struct TableTableJoinOp {
    spec: JoinSpec,
    sides: Sides,
}

/// Both sides' rows by key.
struct Sides {
    left: SideRows,
    right: SideRows,
}

/// The rows of a key around one change on side *S*.
struct Around<'r> {
    /// *S*'s row before the change.
    old: Option<&'r StoredRow>,
    /// *S*'s row after it (`None`: deleted).
    new: Option<&'r StoredRow>,
    /// The other side's row.
    other: Option<&'r StoredRow>,
}

/// An emitted row's op, left row and right row (`None`: NULLs).
type Emitted<'r> = (Op, Option<&'r StoredRow>, Option<&'r StoredRow>);

impl TableTableJoinOp {
    /// Task `slot`'s operator, over its stores in `state`.
    pub fn new(
        spec: JoinSpec,
        state: &mut QueryState,
        slot: TaskSlot,
    ) -> Result<TableTableJoinOp, QueryStateError> {
        let left = SideRows::open(&spec, Side::Left, state, slot)?;
        let right = SideRows::open(&spec, Side::Right, state, slot)?;
        let sides = Sides { left, right };
        Ok(TableTableJoinOp { spec, sides })
    }

    /// What the operator of `spec` is, for EXPLAIN (its [`Operator::describe`]).
    pub fn describe_for(spec: &JoinSpec) -> String {
        format!(
            "Join table-table {} (each side's current row by key)",
            spec.kind_sql()
        )
    }

    /// The stores the operator of `spec` opens (its [`Operator::stores`]).
    pub fn store_decls(spec: &JoinSpec) -> Vec<StoreDecl> {
        vec![
            SideRows::decl(spec, Side::Left),
            SideRows::decl(spec, Side::Right),
        ]
    }

    /// Applies the changes of `side` in their order, and the joined rows they emit.
    fn apply(
        &mut self,
        side: Side,
        batch: &ChangeBatch,
        ctx: &mut Ctx<'_>,
    ) -> Result<ChangeBatch, OperatorError> {
        let reader = SideReader::new(&self.spec, side, batch);
        let mut out = JoinOutput::new(&self.spec);
        for row in 0..batch.num_rows() {
            let Some((key, change)) = TableChange::keyed(batch, &reader, row, ctx) else {
                continue;
            };
            let encoded = codec::encode_values(&key);
            let (old, other) = self.sides.change(side, &encoded, &change)?;
            let around = Around {
                old: old.as_ref(),
                new: change.row(),
                other: other.as_ref(),
            };
            if let Some((op, left, right)) = emission(&self.spec, side, &around) {
                let t = reader.rowtime(row);
                let joined = Joined {
                    key: &key,
                    left: left.map(|r| r.values.as_slice()),
                    right: right.map(|r| r.values.as_slice()),
                    ts: around.other.map_or(t, |o| o.ts.max(t)),
                    position: reader.position(row),
                };
                out.push(op, joined);
            }
        }
        out.finish()
    }
}

impl Sides {
    /// Applies `change` to `side`'s row of the encoded key `key`; that row before the change,
    /// and the other side's row of the key.
    fn change(
        &mut self,
        side: Side,
        key: &[u8],
        change: &TableChange,
    ) -> Result<(Option<StoredRow>, Option<StoredRow>), OperatorError> {
        let (own, other) = match side {
            Side::Left => (&mut self.left, &self.right),
            Side::Right => (&mut self.right, &self.left),
        };
        let old = own.get(key)?;
        own.write(key, change);
        Ok((old, other.get(key)?))
    }
}

/// What a change on `side` emits (module docs): its op and the left and right rows it shows
/// (`None`: NULLs), or `None` when it emits nothing.
fn emission<'r>(spec: &JoinSpec, side: Side, around: &Around<'r>) -> Option<Emitted<'r>> {
    let (op, own) = match (around.new, around.other) {
        (Some(new), Some(_)) => (Op::Insert, Some(new)),
        (Some(new), None) => (spec.keeps(side).then_some(Op::Insert)?, Some(new)),
        (None, Some(_)) if spec.keeps(side.other()) => (Op::Insert, None),
        (None, Some(_)) => (Op::Delete, around.old),
        (None, None) => {
            let existed = around.old.is_some();
            (
                (spec.keeps(side) && existed).then_some(Op::Delete)?,
                around.old,
            )
        }
    };
    Some(match side {
        Side::Left => (op, own, around.other),
        Side::Right => (op, around.other, own),
    })
}

impl Operator for TableTableJoinOp {
    fn describe(&self) -> String {
        TableTableJoinOp::describe_for(&self.spec)
    }

    fn stores(&self) -> Vec<StoreDecl> {
        TableTableJoinOp::store_decls(&self.spec)
    }

    fn process(
        &mut self,
        input: usize,
        batch: ChangeBatch,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), OperatorError> {
        let side = match input {
            0 => Side::Left,
            1 => Side::Right,
            other => return Err(no_input("a table-table join", other)),
        };
        let joined = self.apply(side, &batch, ctx)?;
        ctx.emit(joined);
        Ok(())
    }
}
