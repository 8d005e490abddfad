//! ksqlDB's aggregate functions (UDAFs): resolution by argument types, and the accumulator
//! logic the aggregation operator runs. Accumulators are plain `Value`s so that state stores
//! can hold them as bytes (`common::codec`).
//!
//! Each function says whether it can `undo` (remove a row it added before), which aggregation
//! over a table needs when a source row changes or is deleted; ksqlDB refuses the others there.

mod basic;
mod collect;
mod offset;
mod stats;

use crate::common::{SqlType, Value};
use std::fmt;
use std::sync::Arc;

/// An aggregate function resolved for its argument types.
pub trait Udaf: Send + Sync {
    /// The initial accumulator (before any row).
    fn init(&self) -> Value;
    /// Adds one row's arguments. `offset` orders rows (EARLIEST/LATEST_BY_OFFSET). An `Err`
    /// (e.g. DECIMAL overflow) leaves the aggregate as it was; the row is reported.
    fn add(&self, acc: Value, args: &[Value], offset: i64) -> Result<Value, String>;
    /// Removes a row added before (aggregation over a table). Only called when
    /// `supports_undo`.
    fn undo(&self, acc: Value, args: &[Value]) -> Result<Value, String>;
    /// Merges two accumulators (session windows that join).
    fn merge(&self, a: Value, b: Value) -> Value;
    /// The aggregate's value for an accumulator.
    fn result(&self, acc: &Value) -> Value;
    /// Whether `undo` works (so the function may aggregate a table).
    fn supports_undo(&self) -> bool;
    /// Whether ksqlDB's intermediate value is a STRUCT, ARRAY or MAP (which DELIMITED, the
    /// format of its internal topics for a DELIMITED source, cannot hold).
    fn complex_intermediate(&self) -> bool {
        true
    }
}

/// A resolved call: the function, its result type and the types its arguments are cast to.
#[derive(Clone)]
pub struct ResolvedUdaf {
    pub name: String,
    pub udaf: Arc<dyn Udaf>,
    pub ret: SqlType,
    pub arg_types: Vec<SqlType>,
}

impl fmt::Debug for ResolvedUdaf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({:?}) -> {}", self.name, self.arg_types, self.ret)
    }
}

/// The arguments of a call as the planner sees them: their types, and the value of those
/// that are literals (TOPK's `k`, LATEST_BY_OFFSET's `n`).
pub struct CallArgs<'a> {
    pub types: &'a [SqlType],
    pub literals: &'a [Option<Value>],
    /// Each argument as ksqlDB prints it (for messages).
    pub texts: &'a [String],
    /// Function settings (`ksql.functions.<name>.<setting>`), when the caller has any.
    pub config: Option<&'a std::collections::BTreeMap<String, String>>,
}

impl CallArgs<'_> {
    fn literal_int(&self, i: usize) -> Option<i64> {
        match self.literals.get(i)? {
            Some(Value::Int(n)) => Some(i64::from(*n)),
            Some(Value::Bigint(n)) => Some(*n),
            _ => None,
        }
    }

    /// A numeric setting of function `function` (lower case), e.g. `limit`.
    fn setting(&self, function: &str, setting: &str) -> Option<i64> {
        let key = format!("ksql.functions.{function}.{setting}");
        self.config?.get(&key)?.trim().parse().ok()
    }

    fn literal_bool(&self, i: usize) -> Option<bool> {
        match self.literals.get(i)? {
            Some(Value::Boolean(b)) => Some(*b),
            _ => None,
        }
    }
}

type Resolver = fn(&CallArgs<'_>) -> Result<ResolvedUdaf, String>;

/// The aggregate functions by name.
pub fn resolve(name: &str, args: &CallArgs<'_>) -> Option<Result<ResolvedUdaf, String>> {
    let resolver: Resolver = match name {
        "COUNT" => basic::count,
        "SUM" => basic::sum,
        "SUM_LIST" => basic::sum_list,
        "AVG" => basic::avg,
        "MIN" => basic::min,
        "MAX" => basic::max,
        "COUNT_DISTINCT" => collect::count_distinct,
        "COLLECT_LIST" => collect::collect_list,
        "COLLECT_SET" => collect::collect_set,
        "HISTOGRAM" => collect::histogram,
        "ATTR" => collect::attr,
        "TOPK" => collect::topk,
        "TOPKDISTINCT" => collect::topk_distinct,
        "LATEST_BY_OFFSET" => offset::latest,
        "EARLIEST_BY_OFFSET" => offset::earliest,
        "STDDEV_SAMPLE" => stats::stddev_sample,
        "STDDEV_SAMP" => stats::stddev_samp,
        "CORRELATION" => stats::correlation,
        _ => return None,
    };
    Some(resolver(args))
}

/// Whether `name` is an aggregate function.
pub fn is_aggregate(name: &str) -> bool {
    let none = CallArgs {
        types: &[],
        literals: &[],
        texts: &[],
        config: None,
    };
    resolve(&name.to_ascii_uppercase(), &none).is_some()
}

/// A resolved call of `udaf` (also for functions added through `register_udaf`).
pub fn resolved(
    name: &str,
    udaf: impl Udaf + 'static,
    ret: SqlType,
    arg_types: Vec<SqlType>,
) -> Result<ResolvedUdaf, String> {
    Ok(ResolvedUdaf {
        name: name.to_string(),
        udaf: Arc::new(udaf),
        ret,
        arg_types,
    })
}

/// The error for argument types a function has no overload for.
pub fn no_overload(name: &str, types: &[SqlType]) -> String {
    let list: Vec<String> = types.iter().map(|t| t.to_string()).collect();
    format!(
        "Function '{name}' does not accept parameters ({}).",
        list.join(", ")
    )
}

#[cfg(test)]
mod tests;
