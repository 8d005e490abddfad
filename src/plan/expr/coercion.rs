//! ksqlDB's coercion of user-supplied expression lists — `x IN (a, b, c)` (the tested value
//! first), `ARRAY[...]`, and the keys and values of `MAP(...)` — after
//! `io.confluent.ksql.execution.util.CoercionUtil`:
//!
//! - the list's common type is found left to right: numbers widen (INT < BIGINT < DECIMAL <
//!   DOUBLE), a string literal among numbers is read as a number literal (`'4.000'` is a
//!   DECIMAL(4, 3), `'2147483648'` a BIGINT), constructors are unified element by element, and
//!   STRUCTs take the union of their fields (names compared case-sensitively);
//! - literals (which may also convert to and from STRING and BOOLEAN) become literals of the
//!   common type; any other expression of another type is CAST to it.

use super::cast::cast_value;
use super::decimal;
use super::ir::{Node, TExpr};
use crate::common::{MAX_DECIMAL_PRECISION, SqlType, StructField, Value};

/// Why an element has no common type with the list before it.
#[derive(Debug)]
enum Fail {
    /// The types do not mix: reported against the top-level element.
    Mismatch,
    /// A string literal that does not read as the type it must take (the whole message).
    Syntax(String),
}

/// A list converted to its common type; `ty` is `None` when every element is an untyped NULL.
pub struct Coerced {
    pub ty: Option<SqlType>,
    pub items: Vec<TExpr>,
}

/// Coerces `items` to their common type; `texts` are the items as written, for messages.
pub fn coerce_list(items: Vec<TExpr>, texts: &[String]) -> Result<Coerced, String> {
    let mut common: Option<SqlType> = None;
    for (item, text) in items.iter().zip(texts) {
        common = match merge(item, common.as_ref()) {
            Ok(ty) => ty,
            Err(Fail::Syntax(message)) => return Err(message),
            Err(Fail::Mismatch) => {
                return Err(format!(
                    "operator does not exist: {} = {} ({text})\nHint: You might need to add explicit type casts.",
                    common.map_or_else(String::new, |t| t.to_string()),
                    item.ty
                ));
            }
        };
    }
    let Some(ty) = common else {
        return Ok(Coerced { ty: None, items });
    };
    let items = items
        .into_iter()
        .map(|i| convert(i, &ty))
        .collect::<Result<_, _>>()?;
    Ok(Coerced {
        ty: Some(ty),
        items,
    })
}

/// The common type of `target` (the list so far; `None` if only NULLs) and `e`.
fn merge(e: &TExpr, target: Option<&SqlType>) -> Result<Option<SqlType>, Fail> {
    let Some(target) = target else {
        return Ok((!e.is_null_literal()).then(|| e.ty.clone()));
    };
    if e.is_null_literal() {
        return Ok(Some(target.clone()));
    }
    let ty = match (&e.node, target) {
        (Node::ArrayCtor(elements), SqlType::Array(t)) => SqlType::array(structured(t, elements)?),
        (Node::MapCtor(entries), SqlType::Map(k, v)) => {
            let keys: Vec<TExpr> = entries.iter().map(|(k, _)| k.clone()).collect();
            let values: Vec<TExpr> = entries.iter().map(|(_, v)| v.clone()).collect();
            SqlType::map(structured(k, &keys)?, structured(v, &values)?)
        }
        (Node::StructCtor(fields), SqlType::Struct(target_fields)) => {
            merge_struct(fields, target_fields)?
        }
        (Node::ArrayCtor(_) | Node::MapCtor(_) | Node::StructCtor(_), _) => {
            return Err(Fail::Mismatch);
        }
        (Node::Literal(Value::String(s)), t) if t.is_numeric() => numeric_from_string(s, t)?,
        (Node::Literal(Value::String(s)), SqlType::Boolean) => {
            parse_ksql_boolean(s).ok_or_else(|| Fail::Syntax(invalid_syntax(s, target)))?;
            SqlType::Boolean
        }
        _ => {
            let lax = is_literal(e);
            can_coerce(lax, &e.ty, target)
                .or_else(|| can_coerce(lax, target, &e.ty))
                .ok_or(Fail::Mismatch)?
        }
    };
    Ok(Some(ty))
}

/// The common type of a constructor's elements with the element type `target`.
fn structured(target: &SqlType, elements: &[TExpr]) -> Result<SqlType, Fail> {
    let mut ty = target.clone();
    for e in elements {
        if let Some(t) = merge(e, Some(&ty))? {
            ty = t;
        }
    }
    Ok(ty)
}

/// A STRUCT constructor against a STRUCT type: the constructor's fields, then the type's others.
fn merge_struct(fields: &[(String, TExpr)], target: &[StructField]) -> Result<SqlType, Fail> {
    let mut out: Vec<StructField> = Vec::new();
    for (name, value) in fields {
        let sql_type = match target.iter().find(|f| &f.name == name) {
            Some(t) => merge(value, Some(&t.sql_type))?.unwrap_or_else(|| t.sql_type.clone()),
            None => value.ty.clone(),
        };
        out.push(StructField {
            name: name.clone(),
            sql_type,
        });
    }
    for t in target {
        if !out.iter().any(|f| f.name == t.name) {
            out.push(t.clone());
        }
    }
    Ok(SqlType::Struct(out))
}

/// A string literal among numbers of type `target`: the type of the number it reads as, widened.
fn numeric_from_string(s: &str, target: &SqlType) -> Result<SqlType, Fail> {
    use SqlType::*;
    let source = string_number_type(s).ok_or_else(|| Fail::Syntax(invalid_syntax(s, target)))?;
    Ok(match (&source, target) {
        (Double, _) | (_, Double) => Double,
        (Decimal { .. }, _) | (_, Decimal { .. }) => widen(&source, target),
        // INTEGER converts implicitly to either; BIGINT only to BIGINT.
        (Int, _) => target.clone(),
        _ => Bigint,
    })
}

/// The type of a number literal written as text, as ksqlDB reads it with `BigDecimal`: an
/// integer strictly inside INTEGER's (then BIGINT's) range, otherwise a DECIMAL of its digits.
fn string_number_type(s: &str) -> Option<SqlType> {
    let (unscaled, scale) = decimal::parse(s.trim()).ok()?;
    if !s.contains(['.', 'e', 'E']) {
        if unscaled > i128::from(i32::MIN) && unscaled < i128::from(i32::MAX) {
            return Some(SqlType::Int);
        }
        if unscaled > i128::from(i64::MIN) && unscaled < i128::from(i64::MAX) {
            return Some(SqlType::Bigint);
        }
    }
    Some(decimal_of_value(unscaled, scale))
}

/// `DecimalUtil.fromValue`: values in (-1, 1) get one integer digit.
fn decimal_of_value(unscaled: i128, scale: i8) -> SqlType {
    let scale_digits = scale.max(0) as u32;
    let digits = unscaled.unsigned_abs().to_string().len() as u32;
    let precision = if digits <= scale_digits {
        scale_digits + 1
    } else {
        digits
    };
    decimal_type(precision, scale_digits)
}

fn decimal_type(precision: u32, scale: u32) -> SqlType {
    let max = u32::from(MAX_DECIMAL_PRECISION);
    SqlType::decimal(precision.clamp(1, max) as u8, scale.min(max) as i8)
}

/// `DecimalUtil.widen`: a DECIMAL holding both types' integer digits and the larger scale.
fn widen(a: &SqlType, b: &SqlType) -> SqlType {
    let (pa, sa) = as_decimal(a);
    let (pb, sb) = as_decimal(b);
    let scale = sa.max(sb);
    decimal_type((pa - sa).max(pb - sb) + scale, scale)
}

fn as_decimal(t: &SqlType) -> (u32, u32) {
    match t {
        SqlType::Int => (10, 0),
        SqlType::Bigint => (19, 0),
        SqlType::Decimal { precision, scale } => {
            (u32::from(*precision), scale.max(&0).unsigned_abs().into())
        }
        _ => (1, 0),
    }
}

/// `DefaultSqlValueCoercer.canCoerce`: the type that holds values of `from` converted to `to`.
/// `lax` (for literals) adds conversions between STRING and the other primitive types.
fn can_coerce(lax: bool, from: &SqlType, to: &SqlType) -> Option<SqlType> {
    use SqlType::*;
    match (from, to) {
        (Int, Int | Bigint | Double)
        | (Bigint, Bigint | Double)
        | (Decimal { .. } | Double, Double)
        | (Boolean, Boolean)
        | (String, String | Timestamp | Time | Date | Bytes)
        | (Timestamp, Timestamp)
        | (Time, Time)
        | (Date, Date)
        | (Bytes, Bytes) => Some(to.clone()),
        (Int | Bigint | Decimal { .. }, Decimal { .. }) => Some(widen(from, to)),
        (Array(f), Array(t)) => can_coerce(lax, f, t).map(SqlType::array),
        (Map(fk, fv), Map(tk, tv)) => Some(SqlType::map(
            can_coerce(lax, fk, tk)?,
            can_coerce(lax, fv, tv)?,
        )),
        (Struct(ff), Struct(tf)) => {
            let mut out: Vec<StructField> = Vec::new();
            for f in ff {
                let sql_type = match tf.iter().find(|t| t.name == f.name) {
                    Some(t) => can_coerce(lax, &f.sql_type, &t.sql_type)?,
                    None => f.sql_type.clone(),
                };
                out.push(StructField {
                    name: f.name.clone(),
                    sql_type,
                });
            }
            out.extend(
                tf.iter()
                    .filter(|t| !ff.iter().any(|f| f.name == t.name))
                    .cloned(),
            );
            Some(Struct(out))
        }
        (Boolean | Int | Bigint | Decimal { .. } | Double | Timestamp | Time | Date, String)
        | (String, Boolean | Int | Bigint | Decimal { .. } | Double)
            if lax =>
        {
            Some(to.clone())
        }
        _ => None,
    }
}

/// A typed literal written in the statement (`CAST(NULL AS T)` is not one).
fn is_literal(e: &TExpr) -> bool {
    matches!(&e.node, Node::Literal(v) if !v.is_null())
}

/// Converts an element to the common type: literals to literals, other expressions by CAST.
fn convert(e: TExpr, ty: &SqlType) -> Result<TExpr, String> {
    if e.is_null_literal() {
        // Still an untyped NULL (it takes any type when the list is coerced again), now typed.
        return Ok(TExpr::new(Node::UntypedNull, ty.clone()));
    }
    if &e.ty == ty {
        return Ok(e);
    }
    match &e.node {
        Node::Literal(v) if !v.is_null() => {
            Ok(TExpr::literal(convert_literal(v, &e.ty, ty)?, ty.clone()))
        }
        _ => Ok(e.cast_to(ty)),
    }
}

fn convert_literal(v: &Value, from: &SqlType, to: &SqlType) -> Result<Value, String> {
    let invalid = || match v {
        Value::String(s) => invalid_syntax(s, to),
        other => format!("cannot convert {other:?} to {to}"),
    };
    match (v, to) {
        (Value::String(s), SqlType::Boolean) => parse_ksql_boolean(s)
            .map(Value::Boolean)
            .ok_or_else(invalid),
        (Value::String(s), SqlType::Int) => s
            .trim()
            .parse::<i32>()
            .map(Value::Int)
            .map_err(|_| invalid()),
        _ => cast_value(v, from, to).map_err(|_| invalid()),
    }
}

fn invalid_syntax(s: &str, t: &SqlType) -> String {
    let name = t.to_string();
    let base = name.split(['(', '<']).next().unwrap_or(&name);
    format!("invalid input syntax for type {base}: \"{s}\".")
}

/// ksqlDB's lenient boolean text: any prefix of "true"/"yes" or "false"/"no", case-insensitive.
pub fn parse_ksql_boolean(s: &str) -> Option<bool> {
    let t = s.trim().to_ascii_lowercase();
    if t.is_empty() {
        return None;
    }
    if "true".starts_with(&t) || "yes".starts_with(&t) {
        Some(true)
    } else if "false".starts_with(&t) || "no".starts_with(&t) {
        Some(false)
    } else {
        None
    }
}

#[cfg(test)]
#[path = "coercion_tests.rs"]
mod tests;
