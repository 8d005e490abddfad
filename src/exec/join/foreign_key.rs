//! Foreign-key table-table joins (ADR 0006 §3.5): Kafka Streams' subscription protocol as two
//! operators, without its hash check (in process the exchange between them is ordered, so a
//! response is never stale).
//!
//! - [`FkSubscribeOp`] (`subscribe.rs`), in the left table's stage, is Kafka's
//!   `SubscriptionSendProcessorSupplier`: each change of the left table (`+`/`U+` upsert, `-`
//!   delete, `U-` ignored) becomes zero to two *subscription rows*, each addressed to a foreign
//!   key with an [`Instruction`]. It keeps the foreign key every left row is subscribed under in
//!   `<ctx>-Left-Fks` (Kafka reads it from the change's old value).
//! - [`ForeignKeyJoinOp`] (`join.rs`), in the foreign key's stage, is Kafka's
//!   `SubscriptionReceiveProcessorSupplier`, `SubscriptionJoinProcessorSupplier` and
//!   `ResponseJoinProcessorSupplier` for its input 0 (the subscription rows, exchanged by foreign
//!   key), and `ForeignTableJoinProcessorSupplier` plus the response join for its input 1 (the
//!   right table's changes, exchanged by its key). Stores: `<ctx>-Right-Rows` (right key →
//!   row) and `<ctx>-Subscriptions` (foreign key, left key → left row).
//!
//! **Subscription batches** ([`FkSubscribeOp::subscription_schema`]): `FK_0` .. `FK_<n-1>`
//! (the foreign key the row is addressed to, typed as the left batch's FK columns; NULL for a
//! LEFT join's row without one), the left key columns (named and typed as in the left batch),
//! `INSTRUCTION` (INTEGER, [`Instruction::code`]), the left row's contributed columns (named
//! `L.<name>`, so that a contributed `ROWTIME` or key column cannot clash with the others), then
//! `ROWTIME`, `ROWPARTITION`, `ROWOFFSET` of the left change. The row's op says whether the
//! left row exists after the change: `+` it does (its columns are the new row), `-` it was
//! deleted (its contributed columns are NULL). The join reads the columns by position.
//!
//! **Output** (`FkSpec::join.schema`): the left key columns, the left contributed columns, the
//! right contributed columns, `ROWTIME`, `ROWPARTITION`, `ROWOFFSET` ([`super::JoinOutput`]'s
//! layout keyed by the left key), `+` for a joined row (or a LEFT join's left row with NULLs),
//! `-` for a retraction (a tombstone of the left key). ROWTIME as Kafka's: a subscription's
//! result has `max(left ts, right ts)` (the left change's ts when there is no right row); a
//! right change's results have the right change's ts. ROWPARTITION and ROWOFFSET are the
//! triggering change's.
//!
//! Which Kafka: the QTT corpus is ksqlDB master's, built on Kafka 3.7 or later (ksqlDB 7.7
//! already builds on Kafka 3.7), whose `SubscriptionSendProcessorSupplier` splits LEFT and
//! INNER instructions (`leftJoinInstructions`, `defaultJoinInstructions`, KIP-962); the cases of
//! `fk-join.json` come out the same under the older rules, so the newer ones are followed (see
//! `subscribe.rs`). ADR 0006 §3.5 describes the older rules, and `max` for right changes too.
//!
//! May import what `exec` does.

mod join;
mod subscribe;
#[cfg(test)]
mod tests;

pub use join::ForeignKeyJoinOp;
pub use subscribe::FkSubscribeOp;

use super::JoinSpec;
use crate::exec::operator::OperatorError;
use crate::plan::logical::JoinKind;
use arrow::datatypes::SchemaRef;
use std::ops::Range;

/// A foreign-key table-table join (ADR 0006 §3.5).
#[derive(Clone, Debug)]
pub struct FkSpec {
    /// kind: Inner or Left only. left_keys: the left table's primary-key columns in LEFT input
    /// batches; right_keys: the right table's primary-key columns in RIGHT input batches;
    /// left_columns/right_columns: contributed columns; context: store-name prefix;
    /// schema: the OUTPUT: left PK columns, left contributed, right contributed, ROWTIME,
    /// ROWPARTITION, ROWOFFSET (same layout JoinOutput builds, keys = the left PK).
    pub join: JoinSpec,
    /// Positions in LEFT input batches of the foreign-key values, one per right key column
    /// (the planner appends computed FK expression columns to the left batch).
    pub fk_columns: Vec<usize>,
    /// The schema of LEFT input batches (to type the subscription batches).
    pub left_schema: SchemaRef,
}

impl FkSpec {
    /// Whether the spec is one the operators can run: INNER or LEFT, one foreign-key column
    /// per right key column, every left position inside `left_schema`, and an output as wide
    /// as the left keys and both sides' columns plus ROWTIME, ROWPARTITION, ROWOFFSET. The
    /// operators check it on every batch (an error, not a panic); the planner may call it to
    /// refuse a query early.
    pub fn check(&self) -> Result<(), String> {
        let join = &self.join;
        if !matches!(join.kind, JoinKind::Inner | JoinKind::Left) {
            return Err(format!(
                "a foreign-key join is INNER or LEFT, not {}",
                join.kind_sql()
            ));
        }
        if self.fk_columns.is_empty() || self.fk_columns.len() != join.right_keys.len() {
            return Err(format!(
                "a foreign-key join needs one foreign-key column per right key column: {} for {}",
                self.fk_columns.len(),
                join.right_keys.len()
            ));
        }
        let width = self.left_schema.fields().len();
        let left = [&self.fk_columns, &join.left_keys, &join.left_columns];
        if let Some(p) = left.iter().flat_map(|v| v.iter()).find(|p| **p >= width) {
            return Err(format!(
                "left column {p} of a foreign-key join is outside its {width} input columns"
            ));
        }
        let out = join.left_keys.len() + join.left_columns.len() + join.right_columns.len() + 3;
        if join.schema.fields().len() != out {
            return Err(format!(
                "a foreign-key join's output has {} columns, not the {out} its inputs give",
                join.schema.fields().len()
            ));
        }
        Ok(())
    }

    /// The store of `store` in this join's context.
    fn store_name(&self, store: &str) -> String {
        self.join.store_name(store)
    }

    /// Where the columns of this join's subscription batches are.
    fn layout(&self) -> Layout {
        Layout {
            fks: self.fk_columns.len(),
            keys: self.join.left_keys.len(),
            values: self.join.left_columns.len(),
        }
    }

    /// The spec's [`FkSpec::check`] as an operator error.
    fn checked(&self) -> Result<(), OperatorError> {
        self.check().map_err(OperatorError::Internal)
    }
}

/// What a subscription row asks of the foreign-key side: Kafka's
/// `SubscriptionWrapper.Instruction`, with its codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Instruction {
    /// Forget the left key's subscription to this foreign key; emit nothing (the foreign key
    /// changed: the new one answers).
    DeleteKeyNoPropagate,
    /// Forget the subscription and retract the left key's joined row (`-`).
    DeleteKeyAndPropagate,
    /// Subscribe (when there is a foreign key) and emit the result whatever it is: joined, the
    /// left row with NULLs (LEFT), or a retraction (INNER, or the left row deleted).
    PropagateNullIfNoFkValAvailable,
    /// Subscribe and emit only a joined row, when the right row exists.
    PropagateOnlyIfFkValAvailable,
}

impl Instruction {
    /// The value of the `INSTRUCTION` column (Kafka's byte values).
    pub fn code(self) -> i32 {
        match self {
            Instruction::DeleteKeyNoPropagate => 0,
            Instruction::DeleteKeyAndPropagate => 1,
            Instruction::PropagateNullIfNoFkValAvailable => 2,
            Instruction::PropagateOnlyIfFkValAvailable => 3,
        }
    }

    /// The instruction of an `INSTRUCTION` value.
    pub fn from_code(code: i32) -> Option<Instruction> {
        Some(match code {
            0 => Instruction::DeleteKeyNoPropagate,
            1 => Instruction::DeleteKeyAndPropagate,
            2 => Instruction::PropagateNullIfNoFkValAvailable,
            3 => Instruction::PropagateOnlyIfFkValAvailable,
            _ => return None,
        })
    }
}

/// Column positions in a subscription batch: foreign key, left key, instruction, left
/// contributed columns, then ROWTIME, ROWPARTITION, ROWOFFSET.
struct Layout {
    fks: usize,
    keys: usize,
    values: usize,
}

impl Layout {
    fn fk(&self) -> Range<usize> {
        0..self.fks
    }

    fn key(&self) -> Range<usize> {
        self.fks..self.fks + self.keys
    }

    fn instruction(&self) -> usize {
        self.fks + self.keys
    }

    fn values(&self) -> Range<usize> {
        let start = self.instruction() + 1;
        start..start + self.values
    }

    fn rowtime(&self) -> usize {
        self.values().end
    }

    fn width(&self) -> usize {
        self.rowtime() + 3
    }
}
