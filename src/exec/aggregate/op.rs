//! The aggregation as an operator of the query graph.

use super::Aggregator;
use super::stores;
use crate::common::change::ChangeBatch;
use crate::exec::operator::{Ctx, Materialized, Operator, OperatorError, StoreDecl};
use crate::plan::aggregate::{AggregateCall, WindowPlan};
use crate::plan::logical::{AggregateNode, Emit};

impl Aggregator {
    /// What the aggregation of `node` is, for EXPLAIN (its [`Operator::describe`]).
    pub fn describe_node(node: &AggregateNode) -> String {
        text(&node.calls, node.window.as_ref(), node.emit == Emit::Final)
    }

    /// The stores the aggregation of `node` opens (its [`Operator::stores`]).
    pub fn stores_of(node: &AggregateNode) -> Vec<StoreDecl> {
        let window = node.window.as_ref().map(|w| w.kind);
        stores::declared(window, node.table_keys.is_some())
    }
}

impl Operator for Aggregator {
    fn describe(&self) -> String {
        text(
            &self.plan.calls,
            self.plan.window.as_ref(),
            self.plan.emit_final,
        )
    }

    fn stores(&self) -> Vec<StoreDecl> {
        let window = self.plan.window.as_ref().map(|w| w.kind);
        stores::declared(window, self.table_keys.is_some())
    }

    fn open(&mut self) -> Result<(), OperatorError> {
        Ok(self.reload()?)
    }

    fn process(
        &mut self,
        _input: usize,
        batch: ChangeBatch,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), OperatorError> {
        if let Some(changes) = Aggregator::process(self, &batch, ctx)? {
            ctx.emit(changes);
        }
        Ok(())
    }

    fn materialized(&self) -> Option<Materialized> {
        Some(Materialized::Groups(self.snapshot()))
    }
}

/// `Aggregate COUNT(*) TUMBLING 1000 ms EMIT CHANGES`.
fn text(calls: &[AggregateCall], window: Option<&WindowPlan>, emit_final: bool) -> String {
    let calls: Vec<String> = calls
        .iter()
        .map(|c| {
            let args: Vec<String> = c.args.iter().map(|a| a.expr.to_string()).collect();
            format!("{}({})", c.udaf.name, args.join(", "))
        })
        .collect();
    let window = match window {
        Some(w) => format!(" {} {} ms", w.kind.name(), w.size_ms),
        None => String::new(),
    };
    let emit = if emit_final {
        "EMIT FINAL"
    } else {
        "EMIT CHANGES"
    };
    format!("Aggregate {}{window} {emit}", calls.join(", "))
}
