//! The physical plan of a join node (ADR 0006 §2): which operators each stage's task gets and
//! which exchanges connect them.
//!
//! - Stream-stream, stream-table and table-table joins run in the stage after their inputs';
//!   each side ends with an exchange by its join key into graph input 0 (left) or 1 (right).
//! - A foreign-key join (§3.5) spans two stages after its inputs': in the left table's stage
//!   an `FkSubscribeOp` turns its changes into subscriptions, exchanged by foreign key; the right
//!   table is exchanged by its key; both meet in a `ForeignKeyJoinOp`, whose rows are exchanged
//!   by the left key into the next stage, which reads them as the join's output (so a table or
//!   a join over it finds each left key in one task, as in ksqlDB).
//!
//! May import what `exec` does.

use super::{Builder, PhysicalError, Producer, stage_of};
use crate::exec::describe::Described;
use crate::exec::join::{FkSpec, FkSubscribeOp, ForeignKeyJoinOp};
use crate::exec::operator::Operator;
use crate::exec::ops::ExchangeOp;
use crate::plan::logical::{JoinNode, JoinShape, LogicalPlan, RekeyReason};
use arrow::datatypes::SchemaRef;

impl Builder<'_, '_> {
    /// A join: in its own stage, it reads its two sides' exchanged rows (graph inputs 0 and 1:
    /// no other node of that stage reads an exchange); in a side's stage, that side ends with
    /// an exchange by its join key.
    pub(super) fn join(
        &mut self,
        node: &JoinNode,
        stage: usize,
    ) -> Result<Option<Producer>, PhysicalError> {
        if node.shape == JoinShape::ForeignKey {
            return self.foreign_key_join(node, stage);
        }
        if stage == self.stage {
            let left = Producer::Input(self.graph.add_input());
            let right = Producer::Input(self.graph.add_input());
            let op = self.stateful(&LogicalPlan::Join(node.clone()))?;
            return Ok(Some(self.add(op, &[left, right])));
        }
        let sides = [
            (&node.left, &node.left_keys),
            (&node.right, &node.right_keys),
        ];
        for (input, (side, keys)) in sides.into_iter().enumerate() {
            if let Some(produced) = self.side_in_this_stage(side)? {
                let exchange = self.exchange(keys.clone(), &side.schema(), (stage, input));
                let exchange = match repartition_suffix(node, input) {
                    Some(suffix) => exchange.through(self.repartition_topic(&suffix)),
                    None => exchange,
                };
                self.add_exchange(exchange, produced);
            }
        }
        Ok(None)
    }

    /// A foreign-key join (module docs): `stage` is where its rows are read, the stage before
    /// it where the join runs.
    fn foreign_key_join(
        &mut self,
        node: &JoinNode,
        stage: usize,
    ) -> Result<Option<Producer>, PhysicalError> {
        let join_stage = stage - 1;
        let spec = FkSpec::from(node);
        if self.stage == stage {
            return Ok(Some(Producer::Input(self.graph.add_input())));
        }
        if self.stage == join_stage {
            let subscriptions = Producer::Input(self.graph.add_input());
            let right = Producer::Input(self.graph.add_input());
            let op = self.foreign_key_operator(&spec, false)?;
            let joined = self.add(op, &[subscriptions, right]);
            let left_key = (0..node.left_keys.len()).collect();
            self.exchange_by(left_key, &node.schema, (stage, 0), joined);
            return Ok(None);
        }
        if let Some(left) = self.side_in_this_stage(&node.left)? {
            let op = self.foreign_key_operator(&spec, true)?;
            let subscriptions = self.add(op, &[left]);
            let schema = FkSubscribeOp::subscription_schema(&spec);
            let fk = FkSubscribeOp::fk_positions(&spec);
            // A left key's subscriptions go to the tasks of its old and new foreign keys; their
            // answers meet again at the left key, so they must be made in the rows' order.
            let exchange = self.exchange(fk, &schema, (join_stage, 0)).in_row_order();
            self.add_exchange(exchange, subscriptions);
        }
        if let Some(right) = self.side_in_this_stage(&node.right)? {
            let keys = node.right_keys.clone();
            self.exchange_by(keys, &node.right.schema(), (join_stage, 1), right);
        }
        Ok(None)
    }

    /// The operators of `side` in this task; what produces its rows when that is this stage.
    fn side_in_this_stage(
        &mut self,
        side: &LogicalPlan,
    ) -> Result<Option<Producer>, PhysicalError> {
        let produced = self.visit(side)?;
        if stage_of(side) != self.stage {
            return Ok(None);
        }
        match produced {
            Some(produced) => Ok(Some(produced)),
            None => Err(PhysicalError::Unsupported(
                "a join side that is not produced in its stage".into(),
            )),
        }
    }

    /// The subscribing half of a foreign-key join (`subscribe`) or its joining half, over the
    /// task's stores (a stand-in when only describing).
    fn foreign_key_operator(
        &mut self,
        spec: &FkSpec,
        subscribe: bool,
    ) -> Result<Box<dyn Operator>, PhysicalError> {
        if self.ctx.describe_only {
            return Ok(Box::new(match subscribe {
                true => Described::new(
                    FkSubscribeOp::describe_for(spec),
                    FkSubscribeOp::store_decls(spec),
                ),
                false => Described::new(
                    ForeignKeyJoinOp::describe_for(spec),
                    ForeignKeyJoinOp::store_decls(spec),
                ),
            }));
        }
        let slot = self.slot;
        let state = self.state()?;
        Ok(match subscribe {
            true => Box::new(FkSubscribeOp::new(spec.clone(), state, slot)?),
            false => Box::new(ForeignKeyJoinOp::new(spec.clone(), state, slot)?),
        })
    }

    /// Ends `from`'s rows (of `schema`) with an exchange by the columns `keys` to `target`
    /// (stage, graph input).
    fn exchange_by(
        &mut self,
        keys: Vec<usize>,
        schema: &SchemaRef,
        target: (usize, usize),
        from: Producer,
    ) {
        let exchange = self.exchange(keys, schema, target);
        self.add_exchange(exchange, from);
    }

    /// An exchange of rows (of `schema`) by the columns `keys` to `target` (stage, input).
    fn exchange(&self, keys: Vec<usize>, schema: &SchemaRef, target: (usize, usize)) -> ExchangeOp {
        let tasks = self.task_counts.get(target.0).copied().unwrap_or(1);
        let names = keys
            .iter()
            .filter_map(|c| schema.fields().get(*c).map(|f| f.name().clone()))
            .collect();
        ExchangeOp::new(keys, names, target, tasks)
    }

    /// A repartition topic's name: the query's topic prefix (`_brook_query_<id>`), then
    /// ksqlDB's suffix; the suffix alone for a query without one.
    pub(super) fn repartition_topic(&self, suffix: &str) -> String {
        match self.ctx.state.changelog_prefix() {
            Some(prefix) => format!("{prefix}-{suffix}"),
            None => suffix.to_string(),
        }
    }
}

/// ksqlDB's repartition topic suffix for input `input` (0 left, 1 right) of a join, when that
/// side is re-keyed for it (`StreamStreamJoinBuilder`, `StreamTableJoinBuilder`): none for a
/// side already keyed by the join key.
fn repartition_suffix(node: &JoinNode, input: usize) -> Option<String> {
    let side = if input == 0 { &node.left } else { &node.right };
    let rekeyed = matches!(&**side, LogicalPlan::Rekey(r) if r.reason == RekeyReason::Join);
    if !rekeyed {
        return None;
    }
    let ctx = &node.context;
    Some(match (node.shape, input) {
        (JoinShape::StreamStream { .. }, 0) => format!("{ctx}-left-repartition"),
        (JoinShape::StreamStream { .. }, _) => format!("{ctx}-right-repartition"),
        _ => format!("{ctx}-repartition"),
    })
}
