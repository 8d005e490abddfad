//! The operators of a query graph, one per kind of logical node (`plan::logical`): filter,
//! project, table function, re-key, exchange, materialize and the two sinks (the aggregation's operator
//! is `exec::aggregate`). Each implements `exec::operator::Operator` and nothing else: no
//! threads, consumers or producers; `exec::physical` builds them and `exec::driver` runs them.
//!
//! May import what `exec` does.

mod exchange;
mod filter;
#[cfg(test)]
pub(crate) mod fixture;
mod materialize;
mod project;
mod rekey;
mod sink;
mod table_function;
#[cfg(test)]
mod tests;

pub use exchange::ExchangeOp;
pub use filter::FilterOp;
pub use materialize::MaterializeOp;
pub use project::{ProjectOp, Projection};
pub use rekey::RekeyOp;
pub use sink::{Shown, SubscriberSinkOp, TopicSinkOp};
pub use table_function::TableFunctionOp;

/// The processing-log message for a stream record without a value that an operator drops.
pub(crate) fn null_value_dropped(why: &str) -> String {
    format!("A record with a null value is dropped: {why}")
}
