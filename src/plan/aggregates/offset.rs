//! LATEST_BY_OFFSET and EARLIEST_BY_OFFSET: the value of the last (first) row by input order,
//! or the last (first) `n` as an array. NULLs are skipped unless `ignoreNulls` is false.
//!
//! The accumulator is a list of `[offset, value]` pairs in offset order, so that the lists of
//! merging session windows combine in input order.

use super::{CallArgs, ResolvedUdaf, Udaf, no_overload, resolved};
use crate::common::{SqlType, Value};

struct ByOffset {
    latest: bool,
    /// How many values to keep.
    n: usize,
    /// Return them as an array (the `n` forms) rather than the single value.
    array: bool,
    ignore_nulls: bool,
}

type Entry = (i64, Value);

fn entries(acc: Value) -> Vec<Entry> {
    let Value::Array(items) = acc else {
        return Vec::new();
    };
    items
        .into_iter()
        .filter_map(|pair| match pair {
            Value::Array(mut p) if p.len() == 2 => {
                let value = p.pop()?;
                match p.pop()? {
                    Value::Bigint(offset) => Some((offset, value)),
                    _ => None,
                }
            }
            _ => None,
        })
        .collect()
}

fn pack(entries: Vec<Entry>) -> Value {
    let pairs = entries
        .into_iter()
        .map(|(o, v)| Value::Array(vec![Value::Bigint(o), v]));
    Value::Array(pairs.collect())
}

impl ByOffset {
    /// Keeps the `n` latest (or earliest) entries, in offset order.
    fn keep(&self, mut list: Vec<Entry>) -> Vec<Entry> {
        list.sort_by_key(|(o, _)| *o);
        if list.len() > self.n {
            if self.latest {
                list.drain(..list.len() - self.n);
            } else {
                list.truncate(self.n);
            }
        }
        list
    }
}

impl Udaf for ByOffset {
    fn init(&self) -> Value {
        Value::Array(Vec::new())
    }
    fn add(&self, acc: Value, args: &[Value], offset: i64) -> Result<Value, String> {
        let Some(x) = args.first() else {
            return Ok(acc);
        };
        if x.is_null() && self.ignore_nulls {
            return Ok(acc);
        }
        let mut list = entries(acc);
        list.push((offset, x.clone()));
        Ok(pack(self.keep(list)))
    }
    fn undo(&self, acc: Value, _args: &[Value]) -> Result<Value, String> {
        Ok(acc)
    }
    fn merge(&self, a: Value, b: Value) -> Value {
        let mut list = entries(a);
        list.extend(entries(b));
        pack(self.keep(list))
    }
    fn result(&self, acc: &Value) -> Value {
        let mut values = entries(acc.clone()).into_iter().map(|(_, v)| v);
        if self.array {
            Value::Array(values.collect())
        } else {
            values.next_back().unwrap_or(Value::Null)
        }
    }
    fn supports_undo(&self) -> bool {
        false
    }
    fn complex_intermediate(&self) -> bool {
        self.array
    }
}

fn by_offset(name: &str, latest: bool, args: &CallArgs<'_>) -> Result<ResolvedUdaf, String> {
    let Some(t) = args.types.first() else {
        return Err(no_overload(name, args.types));
    };
    let rest = &args.types[1..];
    let literal_at = |i: usize| -> Result<(), String> {
        match args.literals.get(i) {
            Some(Some(_)) => Ok(()),
            _ => Err(format!(
                "Parameter {} passed to function {name} must be a literal constant, but was expression: '{}'",
                i + 1,
                args.texts.get(i).map(String::as_str).unwrap_or("?")
            )),
        }
    };
    (1..args.types.len()).try_for_each(literal_at)?;
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
    if n.is_some_and(|n| n < 1) {
        return Err(format!("{name}: the number of values must be positive"));
    }
    let ret = match n {
        Some(_) => SqlType::array(t.clone()),
        None => t.clone(),
    };
    let udaf = ByOffset {
        latest,
        n: n.map_or(1, |n| n as usize),
        array: n.is_some(),
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
