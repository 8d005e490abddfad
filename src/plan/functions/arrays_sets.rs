//! Array functions that match elements: ARRAY_CONTAINS, ARRAY_REMOVE, ARRAY_CONCAT,
//! ARRAY_DISTINCT, ARRAY_EXCEPT, ARRAY_INTERSECT and ARRAY_UNION. Equality is Java's (deep,
//! NULL equals NULL); results keep the order of first occurrence.

use super::arrays::{arrays, same};
use super::collections::{JavaSet, elem, java_eq, unify_all};
use super::signature::mismatch;
use super::{Arg, FunctionRegistry, Resolved};
use crate::common::{SqlType, Value};

pub fn register(r: &mut FunctionRegistry) {
    r.add_udf(
        "ARRAY_CONTAINS",
        "Whether an array has an element equal to a value.",
        |a| array_and_value("array_contains", a, |_| SqlType::Boolean),
        |v| {
            Ok(Value::Boolean(
                matches!(&v[0], Value::Array(items) if items.iter().any(|i| java_eq(i, &v[1]))),
            ))
        },
    );
    r.add_udf(
        "ARRAY_REMOVE",
        "Removes every element equal to a value.",
        |a| array_and_value("array_remove", a, SqlType::array),
        |v| {
            Ok(match &v[0] {
                Value::Array(items) => Value::Array(
                    items
                        .iter()
                        .filter(|i| !java_eq(i, &v[1]))
                        .cloned()
                        .collect(),
                ),
                _ => Value::Null,
            })
        },
    );
    r.add_udf(
        "ARRAY_CONCAT",
        "Concatenates two arrays; a NULL array counts as empty unless both are.",
        |a| arrays("array_concat", a, 2, &[], same),
        |v| {
            Ok(match (&v[0], &v[1]) {
                (Value::Array(a), Value::Array(b)) => {
                    Value::Array(a.iter().chain(b).cloned().collect())
                }
                (Value::Array(a), _) | (_, Value::Array(a)) => Value::Array(a.clone()),
                _ => Value::Null,
            })
        },
    );
    r.add_udf(
        "ARRAY_DISTINCT",
        "The distinct elements, in order of first occurrence.",
        |a| arrays("array_distinct", a, 1, &[], same),
        |v| {
            Ok(match &v[0] {
                Value::Array(items) => Value::Array(distinct(items.iter())),
                _ => Value::Null,
            })
        },
    );
    r.add_udf(
        "ARRAY_EXCEPT",
        "The distinct elements of the first array not in the second.",
        |a| arrays("array_except", a, 2, &[], same),
        |v| {
            set_op(v, |left, right| {
                let right = JavaSet::of(right);
                distinct(left.iter().filter(|x| !right.contains(x)))
            })
        },
    );
    r.add_udf(
        "ARRAY_INTERSECT",
        "The distinct elements in both arrays.",
        |a| arrays("array_intersect", a, 2, &[], same),
        |v| {
            set_op(v, |left, right| {
                let right = JavaSet::of(right);
                distinct(left.iter().filter(|x| right.contains(x)))
            })
        },
    );
    r.add_udf(
        "ARRAY_UNION",
        "The distinct elements of either array.",
        |a| arrays("array_union", a, 2, &[], same),
        |v| set_op(v, |left, right| distinct(left.iter().chain(right))),
    );
}

/// `(ARRAY<T>, T)`.
fn array_and_value(name: &str, a: &[Arg], ret: fn(SqlType) -> SqlType) -> Result<Resolved, String> {
    let [arr, val] = a else {
        return Err(mismatch(name, a));
    };
    let e = elem(arr).ok_or_else(|| mismatch(name, a))?;
    let t = unify_all([e, val.as_ref()]).ok_or_else(|| mismatch(name, a))?;
    Ok(Resolved {
        args: vec![SqlType::array(t.clone()), t.clone()],
        ret: ret(t),
    })
}

fn distinct<'a>(items: impl Iterator<Item = &'a Value>) -> Vec<Value> {
    let mut seen = JavaSet::default();
    items.filter(|item| seen.insert(item)).cloned().collect()
}

/// Both arrays present → `f`; either NULL → NULL.
fn set_op(v: &[Value], f: impl Fn(&[Value], &[Value]) -> Vec<Value>) -> Result<Value, String> {
    Ok(match (&v[0], &v[1]) {
        (Value::Array(a), Value::Array(b)) => Value::Array(f(a, b)),
        _ => Value::Null,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::functions::test_support::{ints, invoke as call};

    #[test]
    fn set_functions_keep_first_occurrence_order() {
        let a = ints(&[Some(0), Some(0), Some(1), None, Some(-1), None]);
        assert_eq!(
            call("ARRAY_DISTINCT", std::slice::from_ref(&a)),
            Ok(ints(&[Some(0), Some(1), None, Some(-1)]))
        );
        assert_eq!(
            call("ARRAY_UNION", &[a.clone(), ints(&[Some(3), Some(1)])]),
            Ok(ints(&[Some(0), Some(1), None, Some(-1), Some(3)]))
        );
        assert_eq!(
            call("ARRAY_EXCEPT", &[a.clone(), ints(&[Some(1), None])]),
            Ok(ints(&[Some(0), Some(-1)]))
        );
        assert_eq!(
            call("ARRAY_INTERSECT", &[a.clone(), Value::Null]),
            Ok(Value::Null)
        );
        assert_eq!(
            call("ARRAY_CONCAT", &[Value::Null, ints(&[Some(1)])]),
            Ok(ints(&[Some(1)]))
        );
        assert_eq!(
            call("ARRAY_REMOVE", &[a, Value::Null]),
            Ok(ints(&[Some(0), Some(0), Some(1), Some(-1)]))
        );
    }
}
