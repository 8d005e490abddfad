//! Helpers shared by the array and map functions: Java's `equals` and `compareTo` on values
//! (deep, maps unordered, strings by UTF-16 units, bytes signed) and resolution of generic
//! `ARRAY<T>` / `MAP<K, V>` parameters from the argument types.

use super::can_widen;
use crate::common::{SqlType, Value};
use crate::plan::expr::decimal;
use std::cmp::Ordering;

/// Java `Objects.equals` on two values of one SQL type (maps compare as sets of entries).
pub fn java_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Double(x), Value::Double(y)) => {
            x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan())
        }
        (Value::Decimal(x, s), Value::Decimal(y, t)) => decimal::cmp((*x, *s), (*y, *t)).is_eq(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| java_eq(p, q))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.iter().any(|(k2, v2)| java_eq(k, k2) && java_eq(v, v2)))
        }
        (Value::Struct(x), Value::Struct(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((n, p), (m, q))| n == m && java_eq(p, q))
        }
        _ => a == b,
    }
}

/// Java `compareTo` for two non-NULL values of one comparable SQL type; NULLs sort last.
pub fn java_cmp(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Greater,
        (_, Value::Null) => Ordering::Less,
        (Value::Boolean(x), Value::Boolean(y)) => x.cmp(y),
        (Value::Int(x), Value::Int(y)) => x.cmp(y),
        (Value::Bigint(x), Value::Bigint(y)) => x.cmp(y),
        (Value::Double(x), Value::Double(y)) => x.total_cmp(y),
        (Value::Decimal(x, s), Value::Decimal(y, t)) => decimal::cmp((*x, *s), (*y, *t)),
        (Value::String(x), Value::String(y)) => x.encode_utf16().cmp(y.encode_utf16()),
        (Value::Bytes(x), Value::Bytes(y)) => {
            x.iter().map(|b| *b as i8).cmp(y.iter().map(|b| *b as i8))
        }
        (Value::Timestamp(x), Value::Timestamp(y)) => x.cmp(y),
        (Value::Date(x), Value::Date(y)) => x.cmp(y),
        (Value::Time(x), Value::Time(y)) => x.cmp(y),
        (Value::Array(x), Value::Array(y)) => x
            .iter()
            .zip(y)
            .map(|(p, q)| java_cmp(p, q))
            .find(|o| o.is_ne())
            .unwrap_or(x.len().cmp(&y.len())),
        _ => Ordering::Equal,
    }
}

/// Whether values of this type are `Comparable` in Java (ARRAY_SORT, ARRAY_MAX, ARRAY_MIN).
pub fn is_comparable(t: &SqlType) -> bool {
    !matches!(t, SqlType::Array(_) | SqlType::Map(..) | SqlType::Struct(_))
}

/// The type both may be converted to: equal types, or one widening to the other (element-wise
/// for arrays and map values).
pub fn unify(a: &SqlType, b: &SqlType) -> Option<SqlType> {
    if a == b {
        return Some(a.clone());
    }
    match (a, b) {
        (SqlType::Array(x), SqlType::Array(y)) => unify(x, y).map(SqlType::array),
        (SqlType::Map(k1, v1), SqlType::Map(k2, v2)) if k1 == k2 => {
            unify(v1, v2).map(|v| SqlType::map((**k1).clone(), v))
        }
        (
            SqlType::Decimal {
                precision: p1,
                scale: s1,
            },
            SqlType::Decimal {
                precision: p2,
                scale: s2,
            },
        ) => {
            let scale = (*s1).max(*s2);
            let int = (i16::from(*p1) - i16::from(*s1)).max(i16::from(*p2) - i16::from(*s2));
            Some(SqlType::decimal(
                (int + i16::from(scale)).clamp(1, 38) as u8,
                scale,
            ))
        }
        _ if can_widen(a, b) => Some(b.clone()),
        _ if can_widen(b, a) => Some(a.clone()),
        _ => None,
    }
}

/// Unifies the known types among `types`; `None` if none is known or two cannot be unified.
pub fn unify_all<'a>(types: impl IntoIterator<Item = Option<&'a SqlType>>) -> Option<SqlType> {
    let mut found: Option<SqlType> = None;
    for t in types.into_iter().flatten() {
        found = Some(match found {
            None => t.clone(),
            Some(f) => unify(&f, t)?,
        });
    }
    found
}

/// The element type of an `ARRAY<T>` argument (`Some(None)` for a NULL literal).
pub fn elem(arg: &Option<SqlType>) -> Option<Option<&SqlType>> {
    match arg {
        None => Some(None),
        Some(SqlType::Array(e)) => Some(Some(e)),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_equality_and_order() {
        let m1 = Value::Map(vec![
            (Value::String("a".into()), Value::Int(1)),
            (Value::String("b".into()), Value::Int(2)),
        ]);
        let m2 = Value::Map(vec![
            (Value::String("b".into()), Value::Int(2)),
            (Value::String("a".into()), Value::Int(1)),
        ]);
        assert!(java_eq(&m1, &m2), "map equality ignores order");
        assert!(!java_eq(&Value::Double(0.0), &Value::Double(-0.0)));
        assert_eq!(
            java_cmp(&Value::String("Food".into()), &Value::String("foo".into())),
            Ordering::Less,
            "upper case first"
        );
        assert_eq!(
            java_cmp(
                &Value::String("\u{FF61}".into()),
                &Value::String("\u{1F600}".into())
            ),
            Ordering::Greater,
            "UTF-16 order"
        );
        assert_eq!(
            java_cmp(&Value::Bytes(vec![0x80]), &Value::Bytes(vec![0x01])),
            Ordering::Less,
            "signed bytes"
        );
        assert_eq!(java_cmp(&Value::Null, &Value::Int(1)), Ordering::Greater);
        assert_eq!(
            unify(
                &SqlType::array(SqlType::Int),
                &SqlType::array(SqlType::Bigint)
            ),
            Some(SqlType::array(SqlType::Bigint))
        );
        assert_eq!(
            unify(&SqlType::decimal(4, 2), &SqlType::decimal(5, 0)),
            Some(SqlType::decimal(7, 2))
        );
        assert_eq!(unify(&SqlType::String, &SqlType::Int), None);
    }
}
