//! LATEST_BY_OFFSET and EARLIEST_BY_OFFSET: the value of the last (first) row by input order,
//! or the last (first) `n` as an array. NULLs are skipped unless `ignoreNulls` is false.

use super::{CallArgs, ResolvedUdaf, Udaf, no_overload, resolved};
use crate::common::{SqlType, Value};

struct ByOffset {
    latest: bool,
    /// `Some(n)`: keep `n` values and return them as an array.
    n: Option<usize>,
    ignore_nulls: bool,
}

impl ByOffset {
    fn list(acc: Value) -> Vec<Value> {
        match acc {
            Value::Array(items) => items,
            _ => Vec::new(),
        }
    }
}

impl Udaf for ByOffset {
    fn complex_intermediate(&self) -> bool {
        self.n.is_some()
    }
    fn init(&self) -> Value {
        match self.n {
            Some(_) => Value::Array(Vec::new()),
            None => Value::Null,
        }
    }
    fn add(&self, acc: Value, args: &[Value], _offset: i64) -> Result<Value, String> {
        let Some(x) = args.first() else {
            return Ok(acc);
        };
        if x.is_null() && self.ignore_nulls {
            return Ok(acc);
        }
        let Some(n) = self.n else {
            // A single value: the first one seen wins for EARLIEST. (An explicit NULL kept
            // with ignoreNulls=false is stored wrapped so that it counts as seen.)
            let seen = !matches!(acc, Value::Null);
            return Ok(if self.latest || !seen {
                Value::Array(vec![x.clone()])
            } else {
                acc
            });
        };
        let mut list = Self::list(acc);
        if self.latest {
            list.push(x.clone());
            if list.len() > n {
                list.remove(0);
            }
        } else if list.len() < n {
            list.push(x.clone());
        }
        Ok(Value::Array(list))
    }
    fn undo(&self, acc: Value, _args: &[Value]) -> Result<Value, String> {
        Ok(acc)
    }
    fn merge(&self, a: Value, b: Value) -> Value {
        let (first, second) = if self.latest { (a, b) } else { (b, a) };
        match second {
            Value::Null => first,
            other => other,
        }
    }
    fn result(&self, acc: &Value) -> Value {
        match (self.n, acc) {
            (None, Value::Array(items)) => items.first().cloned().unwrap_or(Value::Null),
            (None, _) => Value::Null,
            (Some(_), other) => other.clone(),
        }
    }
    fn supports_undo(&self) -> bool {
        false
    }
}

fn by_offset(name: &str, latest: bool, args: &CallArgs<'_>) -> Result<ResolvedUdaf, String> {
    let Some(t) = args.types.first() else {
        return Err(no_overload(name, args.types));
    };
    let rest = &args.types[1..];
    let (n, ignore_nulls) = match rest {
        [] => (None, Some(true)),
        [SqlType::Boolean] => (None, args.literal_bool(1)),
        [SqlType::Int] => (args.literal_int(1), Some(true)),
        [SqlType::Int, SqlType::Boolean] => (args.literal_int(1), args.literal_bool(2)),
        _ => return Err(no_overload(name, args.types)),
    };
    let Some(ignore_nulls) = ignore_nulls else {
        return Err(format!("{name}: ignoreNulls must be a literal BOOLEAN"));
    };
    if !rest.is_empty() && rest[0] == SqlType::Int && n.is_none_or(|n| n < 1) {
        return Err(format!(
            "{name}: the number of values must be a positive literal INT"
        ));
    }
    let n = n.map(|n| n as usize);
    let ret = match n {
        Some(_) => SqlType::array(t.clone()),
        None => t.clone(),
    };
    let udaf = ByOffset {
        latest,
        n,
        ignore_nulls,
    };
    resolved(name, udaf, ret, args.types.to_vec())
}

pub(super) fn latest(args: &CallArgs<'_>) -> Result<ResolvedUdaf, String> {
    by_offset("LATEST_BY_OFFSET", true, args)
}

pub(super) fn earliest(args: &CallArgs<'_>) -> Result<ResolvedUdaf, String> {
    by_offset("EARLIEST_BY_OFFSET", false, args)
}
