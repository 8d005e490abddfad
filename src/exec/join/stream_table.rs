//! The stream-table join (ADR 0006 §3.2, Kafka's `KStreamKTableJoin`): the table's changes
//! (input 1) keep its current row per key in `<context>-Right-Rows` and emit nothing; each
//! stream row (input 0) looks its key up there and emits at once: `+` joined when the table
//! has the key, `+` with NULL right columns when it has not and the join is LEFT, nothing
//! for INNER. A joined row carries the stream row's key, ROWTIME, ROWPARTITION and ROWOFFSET.
//!
//! A stream row with a NULL key component joins nothing: LEFT emits it with NULLs, INNER drops
//! it with a processing-log entry (Kafka 3.7, KIP-962). A table change with a NULL key is
//! dropped with an entry too (Kafka's `KTableSource` skips it).
//!
//! May import what `exec` does.

use super::{
    JoinSpec, Side, SideReader, SideRows, StoredRow, TableChange, join_stream_rows, no_input,
};
use crate::common::change::ChangeBatch;
use crate::common::{Value, codec};
use crate::exec::operator::{Ctx, Operator, OperatorError, StoreDecl};
use crate::exec::query_state::{QueryState, QueryStateError, TaskSlot};
use std::collections::HashMap;

/// Input 0 carries the stream's rows, input 1 the table's changes.
const STREAM: usize = 0;
const TABLE: usize = 1;

pub struct StreamTableJoinOp {
    spec: JoinSpec,
    /// The table's current rows by key.
    table: SideRows,
}

impl StreamTableJoinOp {
    /// Task `slot`'s operator, over its store in `state`.
    pub fn new(
        spec: JoinSpec,
        state: &mut QueryState,
        slot: TaskSlot,
    ) -> Result<StreamTableJoinOp, QueryStateError> {
        let table = SideRows::open(&spec, Side::Right, state, slot)?;
        Ok(StreamTableJoinOp { spec, table })
    }

    /// What the operator of `spec` is, for EXPLAIN (its [`Operator::describe`]).
    pub fn describe_for(spec: &JoinSpec) -> String {
        format!(
            "Join stream-table {} (stream rows look up the table's current row by key)",
            spec.kind_sql()
        )
    }

    /// The stores the operator of `spec` opens (its [`Operator::stores`]).
    pub fn store_decls(spec: &JoinSpec) -> Vec<StoreDecl> {
        vec![SideRows::decl(spec, Side::Right)]
    }

    /// Applies the table's changes to its rows.
    fn apply_table(&mut self, batch: &ChangeBatch, ctx: &mut Ctx<'_>) {
        let table = SideReader::new(&self.spec, Side::Right, batch);
        for row in 0..batch.num_rows() {
            if let Some((key, change)) = TableChange::keyed(batch, &table, row, ctx) {
                self.table.write(&codec::encode_values(&key), &change);
            }
        }
    }

    /// The joined rows of the stream's rows, in their order (module docs).
    fn join_stream(
        &self,
        batch: &ChangeBatch,
        ctx: &mut Ctx<'_>,
    ) -> Result<ChangeBatch, OperatorError> {
        let mut lookups = Lookups::new(&self.table);
        let current_row = |key: &[Value], _: &StoredRow| lookups.row(key);
        join_stream_rows(&self.spec, batch, ctx, current_row, |_| None)
    }
}

/// The table's rows of a stream batch's keys, each looked up once (the table does not change
/// during a stream batch).
struct Lookups<'t> {
    table: &'t SideRows,
    found: HashMap<Vec<u8>, Option<StoredRow>>,
}

impl<'t> Lookups<'t> {
    fn new(table: &'t SideRows) -> Lookups<'t> {
        Lookups {
            table,
            found: HashMap::new(),
        }
    }

    /// The table's row of `key`.
    fn row(&mut self, key: &[Value]) -> Result<Option<StoredRow>, OperatorError> {
        let encoded = codec::encode_values(key);
        if let Some(found) = self.found.get(&encoded) {
            return Ok(found.clone());
        }
        let row = self.table.get(&encoded)?;
        self.found.insert(encoded, row.clone());
        Ok(row)
    }
}

impl Operator for StreamTableJoinOp {
    fn describe(&self) -> String {
        StreamTableJoinOp::describe_for(&self.spec)
    }

    fn stores(&self) -> Vec<StoreDecl> {
        StreamTableJoinOp::store_decls(&self.spec)
    }

    fn process(
        &mut self,
        input: usize,
        batch: ChangeBatch,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), OperatorError> {
        match input {
            STREAM => {
                let joined = self.join_stream(&batch, ctx)?;
                ctx.emit(joined);
            }
            TABLE => self.apply_table(&batch, ctx),
            other => return Err(no_input("a stream-table join", other)),
        }
        Ok(())
    }
}
