//! The aggregation as an operator of the query graph.

use super::Aggregator;
use super::stores::{CONTRIBUTIONS, GROUPS, STREAM_TIME};
use crate::common::change::ChangeBatch;
use crate::exec::operator::{Ctx, Materialized, Operator, OperatorError, StoreDecl};
use crate::format::WindowKind;

impl Operator for Aggregator {
    fn describe(&self) -> String {
        let calls: Vec<String> = self
            .plan
            .calls
            .iter()
            .map(|c| {
                let args: Vec<String> = c.args.iter().map(|a| a.expr.to_string()).collect();
                format!("{}({})", c.udaf.name, args.join(", "))
            })
            .collect();
        let window = match &self.plan.window {
            Some(w) => format!(" {} {} ms", w.kind.name(), w.size_ms),
            None => String::new(),
        };
        let emit = if self.plan.emit_final {
            "EMIT FINAL"
        } else {
            "EMIT CHANGES"
        };
        format!("Aggregate {}{window} {emit}", calls.join(", "))
    }

    fn stores(&self) -> Vec<StoreDecl> {
        let layout = match self.plan.window.as_ref().map(|w| w.kind) {
            None => "key-value",
            Some(WindowKind::Session) => "session",
            Some(_) => "window",
        };
        let mut stores = vec![StoreDecl {
            name: GROUPS,
            layout,
        }];
        if self.table_keys.is_some() {
            stores.push(StoreDecl {
                name: CONTRIBUTIONS,
                layout: "key-value",
            });
        }
        stores.push(StoreDecl {
            name: STREAM_TIME,
            layout: "key-value",
        });
        stores
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
