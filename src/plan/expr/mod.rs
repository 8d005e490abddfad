//! Expressions: binding sqlparser expressions to a typed IR, and evaluating it — vectorised as
//! DataFusion physical expressions, or row by row with ksqlDB's semantics.

mod binder;
mod cast;
mod coercion;
pub mod decimal;
mod eval;
mod format;
pub use format::with_joined_names;
mod ir;
mod lambda;
mod lambda_bind;
mod nested_errors;
mod physical;
mod row_fn;
mod scope;
mod time;

pub use binder::{AggregateCalls, Binder, ident_name, retype_null};
pub use cast::{cast_value, java_double, to_text};
pub use eval::{arith, compare, eval, order};
pub use format::ksql_text;
pub use ir::{ArithOp, CmpOp, Node, TExpr};
pub use nested_errors::take_nested_failures;
pub use physical::to_physical;
pub use row_fn::{NullAsFalse, OnError, RowBody, RowFn};
pub use scope::{Scope, ScopeColumn};
pub use time::{
    base64, format_date_iso, format_time_iso, format_timestamp_iso, java_pattern_to_chrono,
    parse_timestamp_iso, parse_with_java_pattern,
};
