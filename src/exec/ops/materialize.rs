//! The materialize operator: keeps the current row of each key of a table a query writes
//! (`exec::table_rows`, a RocksDB store with a changelog), so pull queries can read it, and
//! passes its input on unchanged.

use crate::common::change::ChangeBatch;
use crate::exec::operator::{Ctx, Materialized, Operator, OperatorError, StoreDecl};
use crate::exec::query_state::{QueryState, QueryStateError, TaskSlot};
use crate::exec::table_rows::{ROWS, TableRows};
use crate::plan::logical::MaterializeNode;

pub struct MaterializeOp {
    rows: TableRows,
}

impl MaterializeOp {
    /// Task `slot`'s operator, over its store in `state`.
    pub fn new(
        node: &MaterializeNode,
        state: &mut QueryState,
        slot: TaskSlot,
    ) -> Result<MaterializeOp, QueryStateError> {
        let key_columns = node.key_columns.clone();
        let rows = TableRows::open(state, slot, key_columns, node.input.schema())?;
        Ok(MaterializeOp { rows })
    }

    /// What the operator is, for EXPLAIN (its [`Operator::describe`]; the same for every node).
    pub const DESCRIPTION: &str = "Materialize (rows by key, for pull queries)";

    /// The stores the operator opens (its [`Operator::stores`]).
    pub fn store_decls() -> Vec<StoreDecl> {
        vec![StoreDecl::new(ROWS, "key-value")]
    }
}

impl Operator for MaterializeOp {
    fn describe(&self) -> String {
        MaterializeOp::DESCRIPTION.into()
    }

    fn stores(&self) -> Vec<StoreDecl> {
        MaterializeOp::store_decls()
    }

    fn process(
        &mut self,
        _input: usize,
        batch: ChangeBatch,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), OperatorError> {
        self.rows.apply(&batch);
        ctx.emit(batch);
        Ok(())
    }

    fn materialized(&self) -> Option<Materialized> {
        Some(Materialized::Rows(self.rows.snapshot()))
    }
}
