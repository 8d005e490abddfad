//! COUNT, SUM, AVG, MIN and MAX.

use super::{CallArgs, ResolvedUdaf, Udaf, no_overload, resolved};
use crate::common::{SqlType, Value};
use crate::plan::expr::{ArithOp, arith, order};
use std::cmp::Ordering;

/// `COUNT(*)`, `COUNT()`, `COUNT(x)`: rows (with a non-NULL `x`).
struct Count;

impl Udaf for Count {
    fn complex_intermediate(&self) -> bool {
        false
    }
    fn init(&self) -> Value {
        Value::Bigint(0)
    }
    fn add(&self, acc: Value, args: &[Value], _offset: i64) -> Result<Value, String> {
        Ok(step(acc, args, 1))
    }
    fn undo(&self, acc: Value, args: &[Value]) -> Result<Value, String> {
        Ok(step(acc, args, -1))
    }
    fn merge(&self, a: Value, b: Value) -> Value {
        Value::Bigint(bigint(&a) + bigint(&b))
    }
    fn result(&self, acc: &Value) -> Value {
        acc.clone()
    }
    fn supports_undo(&self) -> bool {
        true
    }
}

fn step(acc: Value, args: &[Value], by: i64) -> Value {
    match args.first() {
        Some(Value::Null) => acc,
        _ => Value::Bigint(bigint(&acc) + by),
    }
}

fn bigint(v: &Value) -> i64 {
    match v {
        Value::Bigint(n) => *n,
        _ => 0,
    }
}

pub(super) fn count(args: &CallArgs<'_>) -> Result<ResolvedUdaf, String> {
    if args.types.len() > 1 {
        return Err(no_overload("COUNT", args.types));
    }
    resolved("COUNT", Count, SqlType::Bigint, args.types.to_vec())
}

/// `SUM(x)` of INT, BIGINT, DOUBLE or DECIMAL: NULLs are skipped; no rows sum to 0.
struct Sum {
    ty: SqlType,
}

impl Udaf for Sum {
    fn complex_intermediate(&self) -> bool {
        false
    }
    fn init(&self) -> Value {
        zero(&self.ty)
    }
    fn add(&self, acc: Value, args: &[Value], _offset: i64) -> Result<Value, String> {
        self.apply(ArithOp::Add, acc, args.first())
    }
    fn undo(&self, acc: Value, args: &[Value]) -> Result<Value, String> {
        self.apply(ArithOp::Sub, acc, args.first())
    }
    fn merge(&self, a: Value, b: Value) -> Value {
        let fallback = a.clone();
        self.apply(ArithOp::Add, a, Some(&b)).unwrap_or(fallback)
    }
    fn result(&self, acc: &Value) -> Value {
        acc.clone()
    }
    fn supports_undo(&self) -> bool {
        true
    }
}

impl Sum {
    /// `acc op x`; a NULL `x` leaves it. A DECIMAL result that does not fit is an error.
    fn apply(&self, op: ArithOp, acc: Value, x: Option<&Value>) -> Result<Value, String> {
        let Some(x) = x.filter(|x| !x.is_null()) else {
            return Ok(acc);
        };
        let result = arith(op, &acc, x, &self.ty)?;
        if let (Value::Decimal(unscaled, _), SqlType::Decimal { precision, .. }) =
            (&result, &self.ty)
            && unscaled.unsigned_abs() >= 10u128.pow(u32::from(*precision))
        {
            return Err(format!(
                "Numeric field overflow: A field with precision {precision} would overflow."
            ));
        }
        Ok(result)
    }
}

pub(super) fn zero(ty: &SqlType) -> Value {
    match ty {
        SqlType::Int => Value::Int(0),
        SqlType::Bigint => Value::Bigint(0),
        SqlType::Decimal { scale, .. } => Value::Decimal(0, *scale),
        _ => Value::Double(0.0),
    }
}

fn numeric(name: &str, args: &CallArgs<'_>) -> Result<SqlType, String> {
    match args.types {
        [t @ (SqlType::Int | SqlType::Bigint | SqlType::Double | SqlType::Decimal { .. })] => {
            Ok(t.clone())
        }
        other => Err(no_overload(name, other)),
    }
}

pub(super) fn sum(args: &CallArgs<'_>) -> Result<ResolvedUdaf, String> {
    let ty = numeric("SUM", args)?;
    resolved("SUM", Sum { ty: ty.clone() }, ty.clone(), vec![ty])
}

/// `SUM_LIST(list)`: the sum of every element of every row's list (INT, BIGINT or DOUBLE
/// elements; NULL lists and NULL elements are skipped).
struct SumList {
    sum: Sum,
}

impl Udaf for SumList {
    fn complex_intermediate(&self) -> bool {
        false
    }
    fn init(&self) -> Value {
        self.sum.init()
    }
    fn add(&self, acc: Value, args: &[Value], _offset: i64) -> Result<Value, String> {
        self.fold(ArithOp::Add, acc, args.first())
    }
    fn undo(&self, acc: Value, args: &[Value]) -> Result<Value, String> {
        self.fold(ArithOp::Sub, acc, args.first())
    }
    fn merge(&self, a: Value, b: Value) -> Value {
        self.sum.merge(a, b)
    }
    fn result(&self, acc: &Value) -> Value {
        acc.clone()
    }
    fn supports_undo(&self) -> bool {
        true
    }
}

impl SumList {
    fn fold(&self, op: ArithOp, mut acc: Value, list: Option<&Value>) -> Result<Value, String> {
        let Some(Value::Array(items)) = list else {
            return Ok(acc);
        };
        for item in items {
            acc = self.sum.apply(op, acc, Some(item))?;
        }
        Ok(acc)
    }
}

pub(super) fn sum_list(args: &CallArgs<'_>) -> Result<ResolvedUdaf, String> {
    let element = match args.types {
        [SqlType::Array(e)] => (**e).clone(),
        _ => return Err(no_overload("SUM_LIST", args.types)),
    };
    if !matches!(element, SqlType::Int | SqlType::Bigint | SqlType::Double) {
        return Err(no_overload("SUM_LIST", args.types));
    }
    let udaf = SumList {
        sum: Sum {
            ty: element.clone(),
        },
    };
    let list = SqlType::Array(Box::new(element.clone()));
    resolved("SUM_LIST", udaf, element, vec![list])
}

/// `AVG(x)`: a DOUBLE from a running sum and count (the accumulator is `[sum, count]`).
struct Avg;

impl Udaf for Avg {
    fn init(&self) -> Value {
        Value::Array(vec![Value::Double(0.0), Value::Bigint(0)])
    }
    fn add(&self, acc: Value, args: &[Value], _offset: i64) -> Result<Value, String> {
        Ok(avg_step(acc, args.first(), 1.0))
    }
    fn undo(&self, acc: Value, args: &[Value]) -> Result<Value, String> {
        Ok(avg_step(acc, args.first(), -1.0))
    }
    fn merge(&self, a: Value, b: Value) -> Value {
        let ((s1, c1), (s2, c2)) = (sum_count(&a), sum_count(&b));
        Value::Array(vec![Value::Double(s1 + s2), Value::Bigint(c1 + c2)])
    }
    fn result(&self, acc: &Value) -> Value {
        let (sum, count) = sum_count(acc);
        Value::Double(if count == 0 { 0.0 } else { sum / count as f64 })
    }
    fn supports_undo(&self) -> bool {
        true
    }
}

fn avg_step(acc: Value, x: Option<&Value>, sign: f64) -> Value {
    let Some(x) = x.and_then(as_f64) else {
        return acc;
    };
    let (sum, count) = sum_count(&acc);
    Value::Array(vec![
        Value::Double(sum + sign * x),
        Value::Bigint(count + sign as i64),
    ])
}

fn sum_count(acc: &Value) -> (f64, i64) {
    match acc {
        Value::Array(parts) => match parts.as_slice() {
            [Value::Double(s), Value::Bigint(c)] => (*s, *c),
            _ => (0.0, 0),
        },
        _ => (0.0, 0),
    }
}

pub(super) fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Int(n) => Some(f64::from(*n)),
        Value::Bigint(n) => Some(*n as f64),
        Value::Double(d) => Some(*d),
        Value::Decimal(unscaled, scale) => Some(*unscaled as f64 / 10f64.powi(i32::from(*scale))),
        _ => None,
    }
}

pub(super) fn avg(args: &CallArgs<'_>) -> Result<ResolvedUdaf, String> {
    let ty = numeric("AVG", args)?;
    resolved("AVG", Avg, SqlType::Double, vec![ty])
}

/// `MIN(x)` / `MAX(x)`: the extreme non-NULL value; NULL before any.
struct Extreme {
    keep: Ordering,
}

impl Udaf for Extreme {
    fn complex_intermediate(&self) -> bool {
        false
    }
    fn init(&self) -> Value {
        Value::Null
    }
    fn add(&self, acc: Value, args: &[Value], _offset: i64) -> Result<Value, String> {
        Ok(match args.first() {
            Some(x) => self.merge(acc, x.clone()),
            None => acc,
        })
    }
    fn undo(&self, _acc: Value, _args: &[Value]) -> Result<Value, String> {
        Err("MIN/MAX cannot remove a row".into())
    }
    fn merge(&self, a: Value, b: Value) -> Value {
        match (&a, &b) {
            (_, Value::Null) => a,
            (Value::Null, _) => b,
            _ if order(&b, &a) == Some(self.keep) => b,
            _ => a,
        }
    }
    fn result(&self, acc: &Value) -> Value {
        acc.clone()
    }
    fn supports_undo(&self) -> bool {
        false
    }
}

fn extreme(name: &str, keep: Ordering, args: &CallArgs<'_>) -> Result<ResolvedUdaf, String> {
    match args.types {
        [
            t @ (SqlType::Int
            | SqlType::Bigint
            | SqlType::Double
            | SqlType::Decimal { .. }
            | SqlType::String
            | SqlType::Bytes
            | SqlType::Date
            | SqlType::Time
            | SqlType::Timestamp),
        ] => resolved(name, Extreme { keep }, t.clone(), vec![t.clone()]),
        other => Err(no_overload(name, other)),
    }
}

pub(super) fn min(args: &CallArgs<'_>) -> Result<ResolvedUdaf, String> {
    extreme("MIN", Ordering::Less, args)
}

pub(super) fn max(args: &CallArgs<'_>) -> Result<ResolvedUdaf, String> {
    extreme("MAX", Ordering::Greater, args)
}
