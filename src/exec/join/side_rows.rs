//! The current row of each key of one side of a join over a table (stream-table: the right
//! side; table-table: both), in a key-value store `<context>-<Side>-Rows` with a changelog:
//! an encoded key to its [`StoredRow`] (contributed columns and ROWTIME). A table change
//! upserts (`+`, `U+`) or deletes (`-`) its key; `U-` rows change nothing.
//!
//! May import what `exec` does.

use super::{JoinSpec, Side, SideReader, StoredRow};
use crate::common::Value;
use crate::common::change::{ChangeBatch, Op};
use crate::exec::operator::{Ctx, OperatorError, StoreDecl};
use crate::exec::query_state::{QueryState, QueryStateError, TaskSlot};
use crate::state::{ChangelogLayout, Store};

/// One side's rows by key.
pub struct SideRows {
    store: Store,
}

/// What a table change does to its key's row.
pub enum TableChange {
    /// `+`, `U+`: the key's row is now this one.
    Upsert(StoredRow),
    /// `-`: the key has no row.
    Delete,
    /// `U-`: nothing (the `U+` that follows carries the new row).
    Ignored,
}

impl TableChange {
    /// The change in `row` of `batch`, whose columns `side` reads.
    pub fn of(batch: &ChangeBatch, side: &SideReader<'_>, row: usize) -> TableChange {
        match batch.op(row) {
            Op::UpdateBefore => TableChange::Ignored,
            Op::Delete => TableChange::Delete,
            Op::Insert | Op::UpdateAfter => TableChange::Upsert(side.stored(row)),
        }
    }

    /// The change in `row` of `batch` with its key, or `None` when it changes nothing: a `U-`,
    /// or a row with a NULL key component (reported: no row can join it, Kafka's
    /// `KTableSource` skips it too).
    pub fn keyed(
        batch: &ChangeBatch,
        side: &SideReader<'_>,
        row: usize,
        ctx: &mut Ctx<'_>,
    ) -> Option<(Vec<Value>, TableChange)> {
        let change = TableChange::of(batch, side, row);
        if matches!(change, TableChange::Ignored) {
            return None;
        }
        let Some(key) = side.key(row) else {
            let message = "A table row with a NULL key is skipped: it cannot be joined";
            ctx.report(batch, row, message.to_string());
            return None;
        };
        Some((key, change))
    }

    /// The key's row after the change (`None` after a deletion, and for `U-`).
    pub fn row(&self) -> Option<&StoredRow> {
        match self {
            TableChange::Upsert(row) => Some(row),
            TableChange::Delete | TableChange::Ignored => None,
        }
    }
}

impl SideRows {
    /// The store's name: `<context>-Left-Rows` or `<context>-Right-Rows`.
    pub fn store_name(spec: &JoinSpec, side: Side) -> String {
        spec.store_name(match side {
            Side::Left => "Left-Rows",
            Side::Right => "Right-Rows",
        })
    }

    /// The store as EXPLAIN lists it.
    pub fn decl(spec: &JoinSpec, side: Side) -> StoreDecl {
        StoreDecl::new(SideRows::store_name(spec, side), "key-value")
    }

    /// Task `slot`'s store of `side` in `state` (created on first use).
    pub fn open(
        spec: &JoinSpec,
        side: Side,
        state: &mut QueryState,
        slot: TaskSlot,
    ) -> Result<SideRows, QueryStateError> {
        let name = SideRows::store_name(spec, side);
        let store = state.task_store(&name, slot, ChangelogLayout::PLAIN)?;
        Ok(SideRows { store })
    }

    /// The row of the encoded key `key`, uncommitted writes included.
    pub fn get(&self, key: &[u8]) -> Result<Option<StoredRow>, OperatorError> {
        match self.store.get(key)? {
            Some(bytes) => StoredRow::decode(&bytes).map(Some),
            None => Ok(None),
        }
    }

    /// Applies `change` to the encoded key `key`.
    pub fn write(&mut self, key: &[u8], change: &TableChange) {
        match change {
            TableChange::Upsert(row) => self.store.put(key, &row.encode()),
            TableChange::Delete => self.store.delete(key),
            TableChange::Ignored => {}
        }
    }
}
