//! Array functions: ARRAY_LENGTH, ARRAY_MAX, ARRAY_MIN, ARRAY_SORT, ARRAY_JOIN, SLICE and
//! GENERATE_SERIES (the element-matching ones are in `arrays_sets`). Element types are generic (`ARRAY<T>`); equality is Java's
//! (deep, NULL equals NULL), order is Java's `compareTo` with NULLs last.

use super::collections::{elem, is_comparable, java_cmp, unify_all};
use super::signature::mismatch;
use super::{Arg, FunctionRegistry, Resolved, can_widen};
use crate::common::{SqlType, Value};

pub fn register(r: &mut FunctionRegistry) {
    r.add_udf(
        "ARRAY_LENGTH",
        "The number of elements of an array.",
        |a| arrays("array_length", a, 1, &[], |_| SqlType::Int),
        |v| {
            Ok(match &v[0] {
                Value::Array(items) => Value::Int(items.len() as i32),
                _ => Value::Null,
            })
        },
    );
    super::arrays_sets::register(r);
    r.add_udf(
        "ARRAY_MAX",
        "The largest non-NULL element.",
        |a| comparable("array_max", a, 0, |t| t.clone()),
        |v| Ok(extreme(&v[0], true)),
    );
    r.add_udf(
        "ARRAY_MIN",
        "The smallest non-NULL element.",
        |a| comparable("array_min", a, 0, |t| t.clone()),
        |v| Ok(extreme(&v[0], false)),
    );
    r.add_udf(
        "ARRAY_SORT",
        "Sorts an array ('ASC' or 'DESC'), NULLs last.",
        |a| comparable("array_sort", a, 1, SqlType::array),
        |v| {
            let Value::Array(items) = &v[0] else {
                return Ok(Value::Null);
            };
            let descending = match v.get(1) {
                None => false,
                Some(Value::String(dir)) => match dir.to_ascii_uppercase().as_str() {
                    "ASC" | "ASCENDING" => false,
                    "DESC" | "DESCENDING" => true,
                    _ => return Ok(Value::Null),
                },
                Some(_) => return Err("NULL sort direction".into()),
            };
            let mut sorted = items.clone();
            sorted.sort_by(|a, b| match (a.is_null(), b.is_null(), descending) {
                (false, false, true) => java_cmp(b, a),
                _ => java_cmp(a, b),
            });
            Ok(Value::Array(sorted))
        },
    );
    r.add_udf(
        "ARRAY_JOIN",
        "Joins the elements' text with a delimiter (',' by default).",
        |a| {
            arrays(
                "array_join",
                a,
                1,
                &[SqlType::String][..a.len().clamp(1, 2) - 1],
                |_| SqlType::String,
            )
        },
        |v| {
            let Value::Array(items) = &v[0] else {
                return Ok(Value::Null);
            };
            let delimiter = match v.get(1) {
                None => ",",
                Some(Value::String(d)) => d.as_str(),
                Some(_) => "",
            };
            let texts = items
                .iter()
                .map(|i| match i {
                    Value::Array(_) | Value::Map(_) | Value::Struct(_) => {
                        Err("ARRAY_JOIN only joins primitive elements".to_string())
                    }
                    other => Ok(crate::plan::expr::to_text(other)),
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Value::String(texts.join(delimiter)))
        },
    );
    r.add_udf(
        "SLICE",
        "Elements `from` to `to` (1-based, inclusive).",
        |a| arrays("slice", a, 1, &[SqlType::Int, SqlType::Int], same),
        |v| {
            let Value::Array(items) = &v[0] else {
                return Ok(Value::Null);
            };
            let from = match &v[1] {
                Value::Int(f) => i64::from(*f),
                _ => 1,
            };
            let to = match &v[2] {
                Value::Int(t) => i64::from(*t),
                _ => items.len() as i64,
            };
            if from < 1 || to > items.len() as i64 || from - 1 > to {
                return Err(format!(
                    "SLICE bounds {from}..{to} out of range for {} elements",
                    items.len()
                ));
            }
            Ok(Value::Array(
                items[(from - 1) as usize..to as usize].to_vec(),
            ))
        },
    );
    r.add_udf(
        "GENERATE_SERIES",
        "The integers from start to end (inclusive) by a step.",
        series_type,
        generate_series,
    );
}

/// `count` generic array arguments of one element type, then fixed `extra` parameters.
pub(super) fn arrays(
    name: &str,
    a: &[Arg],
    count: usize,
    extra: &[SqlType],
    ret: fn(&SqlType) -> SqlType,
) -> Result<Resolved, String> {
    if a.len() != count + extra.len() {
        return Err(mismatch(name, a));
    }
    let elems = a[..count]
        .iter()
        .map(elem)
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| mismatch(name, a))?;
    let e = unify_all(elems).ok_or_else(|| mismatch(name, a))?;
    let mut args = vec![SqlType::array(e.clone()); count];
    for (arg, param) in a[count..].iter().zip(extra) {
        if arg.as_ref().is_some_and(|t| !can_widen(t, param)) {
            return Err(mismatch(name, a));
        }
        args.push(param.clone());
    }
    Ok(Resolved { args, ret: ret(&e) })
}

/// `(ARRAY<T comparable>[, STRING])` with up to `optional_strings` trailing STRINGs.
fn comparable(
    name: &str,
    a: &[Arg],
    optional_strings: usize,
    ret: fn(SqlType) -> SqlType,
) -> Result<Resolved, String> {
    if a.is_empty()
        || a.len() > 1 + optional_strings
        || a[1..]
            .iter()
            .any(|t| t.as_ref().is_some_and(|t| *t != SqlType::String))
    {
        return Err(mismatch(name, a));
    }
    match &a[0] {
        Some(SqlType::Array(e)) if is_comparable(e) => {
            let mut args = vec![SqlType::array((**e).clone())];
            args.extend(a[1..].iter().map(|_| SqlType::String));
            Ok(Resolved {
                args,
                ret: ret((**e).clone()),
            })
        }
        _ => Err(mismatch(name, a)),
    }
}

/// `ARRAY<T>` for element type `T`.
pub(super) fn same(e: &SqlType) -> SqlType {
    SqlType::array(e.clone())
}

fn extreme(v: &Value, max: bool) -> Value {
    let Value::Array(items) = v else {
        return Value::Null;
    };
    let present = items.iter().filter(|i| !i.is_null());
    let best = if max {
        present.max_by(|a, b| java_cmp(a, b))
    } else {
        present.min_by(|a, b| java_cmp(a, b))
    };
    best.cloned().unwrap_or(Value::Null)
}

fn series_type(a: &[Arg]) -> Result<Resolved, String> {
    let bad = || mismatch("generate_series", a);
    if !(2..=3).contains(&a.len()) {
        return Err(bad());
    }
    let bounds = unify_all(a[..2].iter().map(Option::as_ref)).unwrap_or(SqlType::Int);
    if !bounds.is_integral()
        || a.get(2)
            .is_some_and(|s| s.as_ref().is_some_and(|t| *t != SqlType::Int))
    {
        return Err(bad());
    }
    let mut args = vec![bounds.clone(), bounds.clone()];
    if a.len() == 3 {
        args.push(SqlType::Int);
    }
    Ok(Resolved {
        args,
        ret: SqlType::array(bounds),
    })
}

fn generate_series(v: &[Value]) -> Result<Value, String> {
    let as_i64 = |x: &Value| match x {
        Value::Int(i) => Ok((i64::from(*i), true)),
        Value::Bigint(i) => Ok((*i, false)),
        _ => Err("GENERATE_SERIES arguments cannot be NULL".to_string()),
    };
    let ((start, int), (end, _)) = (as_i64(&v[0])?, as_i64(&v[1])?);
    let step = match v.get(2) {
        None if end >= start => 1,
        None => -1,
        Some(s) => as_i64(s)?.0,
    };
    if step == 0 {
        return Err("GENERATE_SERIES step cannot be zero".into());
    }
    if (end > start && step < 0) || (end < start && step > 0) {
        return Err("GENERATE_SERIES step has the wrong sign".into());
    }
    let count = (i128::from(end) - i128::from(start)) / i128::from(step) + 1;
    let each = std::mem::size_of::<Value>();
    crate::common::limits::check_elements(count as u128, each, "GENERATE_SERIES's result")?;
    let items = (0..count as i64).map(|i| start + i * step);
    Ok(Value::Array(if int {
        items.map(|x| Value::Int(x as i32)).collect()
    } else {
        items.map(Value::Bigint).collect()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::functions::test_support::{ints, invoke as call};

    #[test]
    fn sort_min_max_and_join() {
        let s = |x: &str| Value::String(x.into());
        let strs = Value::Array(vec![s("foo"), s("fo"), s("Food"), Value::Null, s("F")]);
        assert_eq!(
            call("ARRAY_SORT", &[strs.clone(), s("desc")]),
            Ok(Value::Array(vec![
                s("foo"),
                s("fo"),
                s("Food"),
                s("F"),
                Value::Null
            ]))
        );
        assert_eq!(
            call("ARRAY_SORT", &[strs.clone(), s("sideways")]),
            Ok(Value::Null)
        );
        assert_eq!(call("ARRAY_MIN", std::slice::from_ref(&strs)), Ok(s("F")));
        assert_eq!(call("ARRAY_MAX", &[ints(&[None])]), Ok(Value::Null));
        let mixed = Value::Array(vec![
            Value::Boolean(true),
            Value::Null,
            Value::Boolean(false),
        ]);
        assert_eq!(
            call("ARRAY_JOIN", std::slice::from_ref(&mixed)),
            Ok(s("true,null,false"))
        );
        assert_eq!(
            call("ARRAY_JOIN", &[mixed, Value::Null]),
            Ok(s("truenullfalse"))
        );
        assert_eq!(
            call(
                "ARRAY_JOIN",
                &[Value::Array(vec![
                    Value::Double(0.0),
                    Value::Decimal(12345, 2)
                ])]
            ),
            Ok(s("0.0,123.45"))
        );
        assert!(call("ARRAY_JOIN", &[Value::Array(vec![ints(&[Some(1)])])]).is_err());
    }

    #[test]
    fn slice_and_series_bounds() {
        let a = ints(&[Some(1), Some(2), Some(3), Some(4)]);
        assert_eq!(
            call("SLICE", &[a.clone(), Value::Int(2), Value::Int(3)]),
            Ok(ints(&[Some(2), Some(3)]))
        );
        assert_eq!(
            call("SLICE", &[a.clone(), Value::Null, Value::Int(1)]),
            Ok(ints(&[Some(1)]))
        );
        assert_eq!(
            call("SLICE", &[a.clone(), Value::Int(3), Value::Int(2)]),
            Ok(ints(&[]))
        );
        assert!(call("SLICE", &[a.clone(), Value::Int(0), Value::Int(2)]).is_err());
        assert!(call("SLICE", &[a, Value::Int(1), Value::Int(5)]).is_err());
        assert_eq!(
            call(
                "GENERATE_SERIES",
                &[Value::Int(1), Value::Int(-2), Value::Int(-2)]
            ),
            Ok(ints(&[Some(1), Some(-1)]))
        );
        assert_eq!(
            call("GENERATE_SERIES", &[Value::Int(3), Value::Int(0)]),
            Ok(ints(&[Some(3), Some(2), Some(1), Some(0)]))
        );
        assert!(
            call(
                "GENERATE_SERIES",
                &[Value::Int(0), Value::Int(3), Value::Int(-1)]
            )
            .is_err()
        );
        assert!(
            call(
                "GENERATE_SERIES",
                &[Value::Int(0), Value::Int(3), Value::Int(0)]
            )
            .is_err()
        );
        let resolved = series_type(&[Some(SqlType::Int), Some(SqlType::Bigint)]).unwrap();
        assert_eq!(resolved.ret, SqlType::array(SqlType::Bigint));
    }
}
