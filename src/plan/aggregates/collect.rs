//! Aggregates that collect values: COLLECT_LIST, COLLECT_SET, COUNT_DISTINCT, HISTOGRAM, ATTR,
//! TOPK and TOPKDISTINCT. Accumulators are arrays (HISTOGRAM: a map), capped at ksqlDB's
//! default limit of 1000 entries.

use super::{CallArgs, ResolvedUdaf, Udaf, no_overload, resolved};
use crate::common::{SqlType, StructField, Value};
use crate::plan::expr::order;
use std::cmp::Ordering;

/// ksqlDB's default `ksql.functions.collect_list.limit` / `collect_set.limit`.
const LIMIT: usize = 1000;

fn items(acc: Value) -> Vec<Value> {
    match acc {
        Value::Array(items) => items,
        _ => Vec::new(),
    }
}

/// Merges by adding each item of accumulator `b` to `a` (accumulators that are value lists).
fn add_each(udaf: &dyn Udaf, a: Value, b: Value) -> Value {
    items(b)
        .into_iter()
        .fold(a, |acc, x| udaf.add(acc.clone(), &[x], 0).unwrap_or(acc))
}

fn same(a: &Value, b: &Value) -> bool {
    a == b || order(a, b) == Some(Ordering::Equal)
}

/// COLLECT_LIST (`distinct: false`) and COLLECT_SET (`distinct: true`).
struct Collect {
    distinct: bool,
    /// `ksql.functions.collect_list.limit` / `collect_set.limit` (default 1000).
    limit: usize,
}

impl Udaf for Collect {
    fn init(&self) -> Value {
        Value::Array(Vec::new())
    }
    fn add(&self, acc: Value, args: &[Value], _offset: i64) -> Result<Value, String> {
        let mut list = items(acc);
        let Some(x) = args.first() else {
            return Ok(Value::Array(list));
        };
        let present = self.distinct && list.iter().any(|v| same(v, x));
        if list.len() < self.limit && !present {
            list.push(x.clone());
        }
        Ok(Value::Array(list))
    }
    fn undo(&self, acc: Value, args: &[Value]) -> Result<Value, String> {
        let mut list = items(acc);
        if let Some(x) = args.first()
            && let Some(i) = list.iter().position(|v| same(v, x))
        {
            list.remove(i);
        }
        Ok(Value::Array(list))
    }
    fn merge(&self, a: Value, b: Value) -> Value {
        add_each(self, a, b)
    }
    fn result(&self, acc: &Value) -> Value {
        acc.clone()
    }
    fn supports_undo(&self) -> bool {
        true
    }
}

fn collect(name: &str, distinct: bool, args: &CallArgs<'_>) -> Result<ResolvedUdaf, String> {
    let limit = args
        .setting(&name.to_ascii_lowercase(), "limit")
        .map_or(LIMIT, |n| usize::try_from(n).unwrap_or(0));
    match args.types {
        [t] => resolved(
            name,
            Collect { distinct, limit },
            SqlType::array(t.clone()),
            vec![t.clone()],
        ),
        other => Err(no_overload(name, other)),
    }
}

pub(super) fn collect_list(args: &CallArgs<'_>) -> Result<ResolvedUdaf, String> {
    collect("COLLECT_LIST", false, args)
}

pub(super) fn collect_set(args: &CallArgs<'_>) -> Result<ResolvedUdaf, String> {
    collect("COLLECT_SET", true, args)
}

/// COUNT_DISTINCT's accumulator: every distinct value, without a cap (the count is exact).
const DISTINCT_VALUES: Collect = Collect {
    distinct: true,
    limit: usize::MAX,
};

/// COUNT_DISTINCT: the number of distinct non-NULL values (exact; ksqlDB estimates with
/// HyperLogLog, which is exact for small counts).
struct CountDistinct;

impl Udaf for CountDistinct {
    fn init(&self) -> Value {
        Value::Array(Vec::new())
    }
    fn add(&self, acc: Value, args: &[Value], offset: i64) -> Result<Value, String> {
        match args.first() {
            Some(Value::Null) | None => Ok(acc),
            Some(_) => DISTINCT_VALUES.add(acc, args, offset),
        }
    }
    fn undo(&self, acc: Value, _args: &[Value]) -> Result<Value, String> {
        Ok(acc)
    }
    fn merge(&self, a: Value, b: Value) -> Value {
        DISTINCT_VALUES.merge(a, b)
    }
    fn result(&self, acc: &Value) -> Value {
        match acc {
            Value::Array(items) => Value::Bigint(items.len() as i64),
            _ => Value::Bigint(0),
        }
    }
    fn supports_undo(&self) -> bool {
        false
    }
}

pub(super) fn count_distinct(args: &CallArgs<'_>) -> Result<ResolvedUdaf, String> {
    match args.types {
        [t] => resolved(
            "COUNT_DISTINCT",
            CountDistinct,
            SqlType::Bigint,
            vec![t.clone()],
        ),
        other => Err(no_overload("COUNT_DISTINCT", other)),
    }
}

/// HISTOGRAM(string): how many times each non-NULL value occurred.
struct Histogram;

fn entries(acc: Value) -> Vec<(Value, Value)> {
    match acc {
        Value::Map(entries) => entries,
        _ => Vec::new(),
    }
}

impl Histogram {
    fn bump(acc: Value, x: Option<&Value>, by: i64) -> Value {
        let mut map = entries(acc);
        let Some(x) = x.filter(|x| !x.is_null()) else {
            return Value::Map(map);
        };
        let room = map.len() < LIMIT;
        match map.iter_mut().find(|(k, _)| k == x) {
            Some((_, Value::Bigint(n))) => *n += by,
            Some(_) => {}
            None if by > 0 && room => map.push((x.clone(), Value::Bigint(by))),
            None => {}
        }
        map.retain(|(_, n)| !matches!(n, Value::Bigint(0)));
        Value::Map(map)
    }
}

impl Udaf for Histogram {
    fn init(&self) -> Value {
        Value::Map(Vec::new())
    }
    fn add(&self, acc: Value, args: &[Value], _offset: i64) -> Result<Value, String> {
        Ok(Self::bump(acc, args.first(), 1))
    }
    fn undo(&self, acc: Value, args: &[Value]) -> Result<Value, String> {
        Ok(Self::bump(acc, args.first(), -1))
    }
    fn merge(&self, a: Value, b: Value) -> Value {
        entries(b).into_iter().fold(a, |acc, (k, n)| match n {
            Value::Bigint(n) => Self::bump(acc, Some(&k), n),
            _ => acc,
        })
    }
    fn result(&self, acc: &Value) -> Value {
        acc.clone()
    }
    fn supports_undo(&self) -> bool {
        true
    }
}

pub(super) fn histogram(args: &CallArgs<'_>) -> Result<ResolvedUdaf, String> {
    match args.types {
        [SqlType::String] => resolved(
            "HISTOGRAM",
            Histogram,
            SqlType::Map(Box::new(SqlType::String), Box::new(SqlType::Bigint)),
            vec![SqlType::String],
        ),
        other => Err(no_overload("HISTOGRAM", other)),
    }
}

/// TOPK(x, k) and TOPKDISTINCT(x, k): the `k` largest non-NULL values, largest first.
struct TopK {
    k: usize,
    distinct: bool,
    /// TOPK(sort_col, col0, col1, ..., k): how many columns ride along with the sort value,
    /// each entry then being a STRUCT<sort_col, col0, ...>.
    extra: usize,
}

impl TopK {
    /// The entry a row adds: its sort value, or a struct of it and the other columns.
    fn entry(&self, args: &[Value]) -> Option<Value> {
        let x = args.first().filter(|x| !x.is_null())?;
        if self.extra == 0 {
            return Some(x.clone());
        }
        let mut fields = vec![("sort_col".to_string(), x.clone())];
        for i in 0..self.extra {
            let value = args.get(i + 1).cloned().unwrap_or(Value::Null);
            fields.push((format!("col{i}"), value));
        }
        Some(Value::Struct(fields))
    }
}

/// What TOPK orders by: the value, or a struct entry's `sort_col`.
fn sort_value(v: &Value) -> &Value {
    match v {
        Value::Struct(fields) => fields.first().map_or(v, |f| &f.1),
        other => other,
    }
}

impl Udaf for TopK {
    fn init(&self) -> Value {
        Value::Array(Vec::new())
    }
    fn add(&self, acc: Value, args: &[Value], _offset: i64) -> Result<Value, String> {
        let mut list = items(acc);
        let Some(x) = self.entry(args) else {
            return Ok(Value::Array(list));
        };
        if self.distinct && list.iter().any(|v| same(v, &x)) {
            return Ok(Value::Array(list));
        }
        let key = sort_value(&x);
        let at = list
            .iter()
            .position(|v| order(key, sort_value(v)) == Some(Ordering::Greater))
            .unwrap_or(list.len());
        list.insert(at, x.clone());
        list.truncate(self.k);
        Ok(Value::Array(list))
    }
    fn undo(&self, acc: Value, _args: &[Value]) -> Result<Value, String> {
        Ok(acc)
    }
    fn merge(&self, a: Value, b: Value) -> Value {
        // Entries are re-added whole (a struct entry is already the row's entry).
        items(b).into_iter().fold(a, |acc, x| {
            let args = match &x {
                Value::Struct(fields) if self.extra > 0 => {
                    fields.iter().map(|f| f.1.clone()).collect()
                }
                _ => vec![x.clone()],
            };
            self.add(acc.clone(), &args, 0).unwrap_or(acc)
        })
    }
    fn result(&self, acc: &Value) -> Value {
        acc.clone()
    }
    fn supports_undo(&self) -> bool {
        false
    }
}

fn topk_of(name: &str, distinct: bool, args: &CallArgs<'_>) -> Result<ResolvedUdaf, String> {
    let n = args.types.len();
    let (Some(t), Some(k)) = (
        args.types.first(),
        n.checked_sub(1).and_then(|i| args.literal_int(i)),
    ) else {
        return Err(no_overload(name, args.types));
    };
    let extra = n.saturating_sub(2);
    if n < 2 || k < 1 || (distinct && extra > 0) {
        return Err(no_overload(name, args.types));
    }
    let element = match extra {
        0 => t.clone(),
        _ => {
            let mut fields = vec![StructField {
                name: "sort_col".into(),
                sql_type: t.clone(),
            }];
            for (i, ty) in args.types[1..n - 1].iter().enumerate() {
                fields.push(StructField {
                    name: format!("col{i}"),
                    sql_type: ty.clone(),
                });
            }
            SqlType::Struct(fields)
        }
    };
    let udaf = TopK {
        k: k as usize,
        distinct,
        extra,
    };
    let arg_types = args.types.to_vec();
    resolved(name, udaf, SqlType::array(element), arg_types)
}

pub(super) fn topk(args: &CallArgs<'_>) -> Result<ResolvedUdaf, String> {
    topk_of("TOPK", false, args)
}

pub(super) fn topk_distinct(args: &CallArgs<'_>) -> Result<ResolvedUdaf, String> {
    topk_of("TOPKDISTINCT", true, args)
}

/// ATTR: the group's value when every row has the same one (NULL counts as a value), else
/// NULL. The accumulator counts each distinct value, so a table's rows can be undone.
struct Attr;

impl Attr {
    /// (value, count) pairs of the accumulator.
    fn counts(acc: Value) -> Vec<(Value, i64)> {
        items(acc)
            .into_iter()
            .filter_map(|pair| match pair {
                Value::Array(mut kv) if kv.len() == 2 => {
                    let count = match kv.pop() {
                        Some(Value::Bigint(n)) => n,
                        _ => 0,
                    };
                    kv.pop().map(|v| (v, count))
                }
                _ => None,
            })
            .collect()
    }

    fn store(counts: Vec<(Value, i64)>) -> Value {
        Value::Array(
            counts
                .into_iter()
                .filter(|(_, n)| *n > 0)
                .map(|(v, n)| Value::Array(vec![v, Value::Bigint(n)]))
                .collect(),
        )
    }

    fn change(acc: Value, x: &Value, by: i64) -> Value {
        let mut counts = Attr::counts(acc);
        match counts.iter_mut().find(|(v, _)| same(v, x)) {
            Some((_, n)) => *n += by,
            None if by > 0 => counts.push((x.clone(), by)),
            None => {}
        }
        Attr::store(counts)
    }
}

impl Udaf for Attr {
    fn init(&self) -> Value {
        Value::Array(Vec::new())
    }
    fn add(&self, acc: Value, args: &[Value], _offset: i64) -> Result<Value, String> {
        let x = args.first().cloned().unwrap_or(Value::Null);
        Ok(Attr::change(acc, &x, 1))
    }
    fn undo(&self, acc: Value, args: &[Value]) -> Result<Value, String> {
        let x = args.first().cloned().unwrap_or(Value::Null);
        Ok(Attr::change(acc, &x, -1))
    }
    fn merge(&self, a: Value, b: Value) -> Value {
        Attr::counts(b)
            .into_iter()
            .fold(a, |acc, (v, n)| Attr::change(acc, &v, n))
    }
    fn result(&self, acc: &Value) -> Value {
        match Attr::counts(acc.clone()).as_slice() {
            [(only, _)] => only.clone(),
            _ => Value::Null,
        }
    }
    fn supports_undo(&self) -> bool {
        true
    }
}

pub(super) fn attr(args: &CallArgs<'_>) -> Result<ResolvedUdaf, String> {
    match args.types {
        [t] => resolved("ATTR", Attr, t.clone(), vec![t.clone()]),
        other => Err(no_overload("ATTR", other)),
    }
}
