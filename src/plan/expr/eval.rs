//! Row-by-row evaluation of the expression IR over [`Value`]s, with ksqlDB's semantics:
//! integer arithmetic wraps, division by zero, NULL operands of arithmetic and a function's
//! failure are errors (the whole expression becomes NULL, and the row is reported), comparisons
//! with NULL are FALSE. A CAST, a function call that is another function's argument and the
//! elements of constructors turn their own failures into NULL, noted for the row's report
//! (see `nested_errors`).

use super::cast::cast_value;
use super::ir::{ArithOp, CmpOp, Node, TExpr};
use super::nested_errors::or_null;
use crate::common::{SqlType, Value, limits};
use std::cmp::Ordering;

/// Evaluation error: the message goes to the processing log; the value becomes NULL somewhere.
pub type EvalResult = Result<Value, String>;

/// Evaluates `e` for one row (`row` holds the input columns, `vars` the lambda parameters).
pub fn eval(e: &TExpr, row: &[Value], vars: &[Value]) -> EvalResult {
    limits::deep(|| eval_node(e, row, vars))
}

fn eval_node(e: &TExpr, row: &[Value], vars: &[Value]) -> EvalResult {
    match &e.node {
        Node::Column { index, .. } => Ok(row.get(*index).cloned().unwrap_or(Value::Null)),
        Node::LambdaVar { index, .. } => Ok(vars.get(*index).cloned().unwrap_or(Value::Null)),
        Node::Literal(v) => Ok(v.clone()),
        Node::UntypedNull => Ok(Value::Null),
        Node::Arith { op, left, right } => arith(
            *op,
            &eval(left, row, vars)?,
            &eval(right, row, vars)?,
            &e.ty,
        ),
        Node::Concat(l, r) => Ok(Value::String(format!(
            "{}{}",
            java_text(&eval(l, row, vars)?),
            java_text(&eval(r, row, vars)?)
        ))),
        Node::Compare { op, left, right } => Ok(Value::Boolean(compare(
            *op,
            &eval(left, row, vars)?,
            &eval(right, row, vars)?,
        ))),
        // Java's && and || short-circuit: the right side is not evaluated when the left decides.
        Node::And(l, r) => match eval(l, row, vars)? {
            Value::Boolean(false) => Ok(Value::Boolean(false)),
            left => logical(&left, &eval(r, row, vars)?, |a, b| a && b),
        },
        Node::Or(l, r) => match eval(l, row, vars)? {
            Value::Boolean(true) => Ok(Value::Boolean(true)),
            left => logical(&left, &eval(r, row, vars)?, |a, b| a || b),
        },
        Node::Not(x) => match eval(x, row, vars)? {
            Value::Boolean(b) => Ok(Value::Boolean(!b)),
            _ => Err("NOT of a NULL value".into()),
        },
        Node::IsNull { expr, negated } => {
            Ok(Value::Boolean(eval(expr, row, vars)?.is_null() != *negated))
        }
        Node::Negate(x) => arith(ArithOp::Sub, &zero_of(&x.ty), &eval(x, row, vars)?, &e.ty),
        Node::Case { whens, otherwise } => {
            for (when, then) in whens {
                if eval(when, row, vars)? == Value::Boolean(true) {
                    return eval(then, row, vars);
                }
            }
            otherwise
                .as_ref()
                .map_or(Ok(Value::Null), |o| eval(o, row, vars))
        }
        Node::Cast(x) => Ok(or_null(
            eval(x, row, vars).and_then(|v| cast_value(&v, &x.ty, &e.ty)),
            || e.ty.to_string(),
        )),
        Node::InList {
            expr,
            list,
            negated,
        } => {
            let v = eval(expr, row, vars)?;
            let mut found = false;
            for item in list {
                if compare(CmpOp::Eq, &v, &eval(item, row, vars)?) {
                    found = true;
                    break;
                }
            }
            Ok(Value::Boolean(!v.is_null() && found != *negated))
        }
        Node::Like {
            expr,
            pattern,
            escape,
            negated,
        } => match (eval(expr, row, vars)?, eval(pattern, row, vars)?) {
            (Value::String(s), Value::String(p)) => {
                Ok(Value::Boolean(like(&s, &p, *escape) != *negated))
            }
            _ => Ok(Value::Boolean(false)),
        },
        // A function's failure fails the expression, as a UDF's exception does in ksqlDB,
        // unless the call is another function's argument.
        Node::Call { function, args } => {
            let values = args
                .iter()
                .map(|a| eval_argument(a, row, vars))
                .collect::<Result<Vec<Value>, String>>()?;
            let value = function.invoke(&values)?;
            // Bounds (`common::limits`): past them the call fails like any function error.
            let bytes = value.footprint();
            limits::charge(bytes)?;
            limits::check_result(bytes, function.name())?;
            Ok(value)
        }
        Node::Subscript { expr, index } => {
            Ok(subscript(&eval(expr, row, vars)?, &eval(index, row, vars)?))
        }
        Node::Field { expr, name } => Ok(field(&eval(expr, row, vars)?, name)),
        Node::ArrayCtor(items) => Ok(Value::Array(
            items
                .iter()
                .map(|i| or_null(eval(i, row, vars), || "array item".into()))
                .collect(),
        )),
        Node::MapCtor(entries) => {
            let mut out: Vec<(Value, Value)> = Vec::new();
            for (k, v) in entries {
                let key = or_null(eval(k, row, vars), || "map key".into());
                let value = or_null(eval(v, row, vars), || "map value".into());
                out.retain(|(existing, _)| existing != &key);
                out.push((key, value));
            }
            Ok(Value::Map(out))
        }
        Node::StructCtor(fields) => Ok(Value::Struct(
            fields
                .iter()
                .map(|(n, x)| {
                    let value = or_null(eval(x, row, vars), || "struct field".into());
                    (n.clone(), value)
                })
                .collect(),
        )),
        Node::LambdaCall { name, args } => {
            super::lambda::eval_lambda_call(name, args, row, vars, &e.ty)
        }
        Node::Lambda { .. } => {
            Err("a lambda can only be an argument of TRANSFORM, FILTER or REDUCE".into())
        }
    }
}

/// A function's argument: a function call or field access there that fails is NULL (and
/// noted), as ksqlDB's generated code catches it; anything else fails the expression.
fn eval_argument(a: &TExpr, row: &[Value], vars: &[Value]) -> EvalResult {
    match &a.node {
        Node::Call { function, .. } => {
            Ok(or_null(eval(a, row, vars), || function.name().to_string()))
        }
        Node::LambdaCall { name, .. } | Node::Field { name, .. } => {
            Ok(or_null(eval(a, row, vars), || name.clone()))
        }
        _ => eval(a, row, vars),
    }
}

fn logical(a: &Value, b: &Value, f: fn(bool, bool) -> bool) -> EvalResult {
    match (a, b) {
        (Value::Boolean(x), Value::Boolean(y)) => Ok(Value::Boolean(f(*x, *y))),
        _ => Err("logical operator on a NULL value".into()),
    }
}

fn zero_of(t: &SqlType) -> Value {
    match t {
        SqlType::Int => Value::Int(0),
        SqlType::Bigint => Value::Bigint(0),
        SqlType::Decimal { scale, .. } => Value::Decimal(0, *scale),
        _ => Value::Double(0.0),
    }
}

/// Arithmetic on operands already cast to the result type (decimals: any scale).
pub fn arith(op: ArithOp, a: &Value, b: &Value, ty: &SqlType) -> EvalResult {
    match (a, b) {
        (Value::Null, _) | (_, Value::Null) => Err("arithmetic on a NULL value".into()),
        (Value::Int(x), Value::Int(y)) => {
            int_op(op, i64::from(*x), i64::from(*y)).map(|r| Value::Int(r as i32))
        }
        (Value::Bigint(x), Value::Bigint(y)) => int_op(op, *x, *y).map(Value::Bigint),
        (Value::Double(x), Value::Double(y)) => Ok(Value::Double(match op {
            ArithOp::Add => x + y,
            ArithOp::Sub => x - y,
            ArithOp::Mul => x * y,
            ArithOp::Div => x / y,
            ArithOp::Mod => x % y,
        })),
        (Value::Decimal(x, sx), Value::Decimal(y, sy)) => {
            super::decimal::arith(op, (*x, *sx), (*y, *sy), ty)
        }
        _ => Err(format!("cannot apply arithmetic to {a:?} and {b:?}")),
    }
}

fn int_op(op: ArithOp, x: i64, y: i64) -> Result<i64, String> {
    match op {
        ArithOp::Add => Ok(x.wrapping_add(y)),
        ArithOp::Sub => Ok(x.wrapping_sub(y)),
        ArithOp::Mul => Ok(x.wrapping_mul(y)),
        ArithOp::Div if y == 0 => Err("/ by zero".into()),
        ArithOp::Mod if y == 0 => Err("/ by zero".into()),
        ArithOp::Div => Ok(x.wrapping_div(y)),
        ArithOp::Mod => Ok(x.wrapping_rem(y)),
    }
}

/// ksqlDB comparison: FALSE when either side is NULL (except IS [NOT] DISTINCT FROM).
pub fn compare(op: CmpOp, a: &Value, b: &Value) -> bool {
    match op {
        CmpOp::IsDistinctFrom => return !values_equal(a, b),
        CmpOp::IsNotDistinctFrom => return values_equal(a, b),
        _ => {}
    }
    if a.is_null() || b.is_null() {
        return false;
    }
    let Some(ord) = order(a, b) else {
        return op == CmpOp::NotEq;
    };
    match op {
        CmpOp::Eq => ord == Ordering::Equal,
        CmpOp::NotEq => ord != Ordering::Equal,
        CmpOp::Lt => ord == Ordering::Less,
        CmpOp::LtEq => ord != Ordering::Greater,
        CmpOp::Gt => ord == Ordering::Greater,
        CmpOp::GtEq => ord != Ordering::Less,
        CmpOp::IsDistinctFrom | CmpOp::IsNotDistinctFrom => false,
    }
}

fn values_equal(a: &Value, b: &Value) -> bool {
    match (a.is_null(), b.is_null()) {
        (true, true) => true,
        (false, false) => order(a, b) == Some(Ordering::Equal),
        _ => false,
    }
}

/// Orders two non-null values of comparable types (numbers across types, strings, ...).
pub fn order(a: &Value, b: &Value) -> Option<Ordering> {
    use Value::*;
    match (a, b) {
        (Boolean(x), Boolean(y)) => Some(x.cmp(y)),
        (String(x), String(y)) => Some(x.encode_utf16().cmp(y.encode_utf16())),
        (Bytes(x), Bytes(y)) => Some(x.iter().map(|b| *b as i8).cmp(y.iter().map(|b| *b as i8))),
        (Timestamp(x), Timestamp(y)) | (Bigint(x), Bigint(y)) => Some(x.cmp(y)),
        (Date(x), Date(y)) | (Time(x), Time(y)) | (Int(x), Int(y)) => Some(x.cmp(y)),
        (Date(d), Timestamp(t)) => Some((i64::from(*d) * 86_400_000).cmp(t)),
        (Timestamp(t), Date(d)) => Some(t.cmp(&(i64::from(*d) * 86_400_000))),
        (Array(x), Array(y)) => (x.len() == y.len()
            && x.iter().zip(y).all(|(a, b)| values_equal(a, b)))
        .then_some(Ordering::Equal)
        .or(Some(Ordering::Less)),
        (Map(x), Map(y)) => {
            let same = x.len() == y.len()
                && x.iter().all(|(k, v)| {
                    y.iter()
                        .any(|(k2, v2)| values_equal(k, k2) && values_equal(v, v2))
                });
            Some(if same {
                Ordering::Equal
            } else {
                Ordering::Less
            })
        }
        (Struct(x), Struct(y)) => {
            let same = x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((n1, v1), (n2, v2))| n1 == n2 && values_equal(v1, v2));
            Some(if same {
                Ordering::Equal
            } else {
                Ordering::Less
            })
        }
        _ => numeric_order(a, b),
    }
}

fn numeric_order(a: &Value, b: &Value) -> Option<Ordering> {
    if let (Some(x), Some(y)) = (super::decimal::as_decimal(a), super::decimal::as_decimal(b))
        && (matches!(a, Value::Decimal(..)) || matches!(b, Value::Decimal(..)))
    {
        return Some(super::decimal::cmp(x, y));
    }
    match (as_i64(a), as_i64(b)) {
        (Some(x), Some(y)) => Some(x.cmp(&y)),
        _ => as_f64(a)?.partial_cmp(&as_f64(b)?),
    }
}

fn as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Int(x) => Some(i64::from(*x)),
        Value::Bigint(x) => Some(*x),
        _ => None,
    }
}

pub fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Int(x) => Some(f64::from(*x)),
        Value::Bigint(x) => Some(*x as f64),
        Value::Double(x) => Some(*x),
        Value::Decimal(x, s) => Some(*x as f64 / 10f64.powi(i32::from(*s))),
        _ => None,
    }
}

/// SQL LIKE with `%` and `_` (and an optional escape character), case-sensitive.
pub fn like(s: &str, pattern: &str, escape: Option<char>) -> bool {
    let s: Vec<char> = s.chars().collect();
    let mut tokens = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            c if Some(c) == escape => tokens.push(Some(chars.next().unwrap_or(c))),
            '%' => tokens.push(None),
            '_' => tokens.push(Some('\u{0}')),
            c => tokens.push(Some(c)),
        }
    }
    like_match(&s, &tokens)
}

fn like_match(s: &[char], p: &[Option<char>]) -> bool {
    match p.first() {
        None => s.is_empty(),
        Some(None) => (0..=s.len()).any(|i| like_match(&s[i..], &p[1..])),
        Some(Some('\u{0}')) => !s.is_empty() && like_match(&s[1..], &p[1..]),
        Some(Some(c)) => s.first() == Some(c) && like_match(&s[1..], &p[1..]),
    }
}

/// `array[i]` (1-based; negative counts from the end; out of range is NULL) or `map[key]`.
pub fn subscript(container: &Value, index: &Value) -> Value {
    match (container, index) {
        (Value::Array(items), Value::Int(_) | Value::Bigint(_)) => {
            let i = as_i64(index).unwrap_or(0);
            let len = items.len() as i64;
            let pos = if i > 0 {
                i - 1
            } else if i < 0 {
                len + i
            } else {
                -1
            };
            if pos >= 0 && pos < len {
                items[pos as usize].clone()
            } else {
                Value::Null
            }
        }
        (Value::Map(entries), key) => entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or(Value::Null),
        _ => Value::Null,
    }
}

pub fn field(value: &Value, name: &str) -> Value {
    match value {
        Value::Struct(fields) => fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or(Value::Null),
        _ => Value::Null,
    }
}

/// Java's `String.valueOf` for `+` concatenation.
pub fn java_text(v: &Value) -> String {
    match v {
        Value::Null => "null".to_string(),
        other => super::cast::to_text(other),
    }
}

/// How a literal value is written in SQL (for EXPLAIN and display).
pub fn literal_text(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::String(s) => format!("'{}'", s.replace('\'', "''")),
        other => super::cast::to_text(other),
    }
}

#[cfg(test)]
#[path = "eval_tests.rs"]
mod tests;
