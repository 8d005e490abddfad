//! Helpers shared by the array and map functions: Java's `equals` and `compareTo` on values
//! (deep, maps unordered, strings by UTF-16 units, bytes signed) and resolution of generic
//! `ARRAY<T>` / `MAP<K, V>` parameters from the argument types.

use super::can_widen;
use crate::common::{SqlType, Value};
use crate::plan::expr::decimal;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

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
        (Value::Map(x), Value::Map(y)) => x.len() == y.len() && same_entries(x, y),
        (Value::Struct(x), Value::Struct(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((n, p), (m, q))| n == m && java_eq(p, q))
        }
        _ => a == b,
    }
}

/// Whether every entry of `x` is in `y` (keys and values by [`java_eq`]), in linear time.
fn same_entries(x: &[(Value, Value)], y: &[(Value, Value)]) -> bool {
    let mut by_key: HashMap<u64, Vec<&(Value, Value)>> = HashMap::new();
    for entry in y {
        by_key.entry(java_hash(&entry.0)).or_default().push(entry);
    }
    x.iter().all(|(k, v)| {
        by_key.get(&java_hash(k)).is_some_and(|found| {
            found
                .iter()
                .any(|(k2, v2)| java_eq(k, k2) && java_eq(v, v2))
        })
    })
}

/// A hash consistent with [`java_eq`]: values it finds equal hash alike (maps regardless of
/// entry order, decimals regardless of trailing zeros).
pub fn java_hash(v: &Value) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    hash_into(v, &mut hasher);
    hasher.finish()
}

fn hash_into(v: &Value, h: &mut impl Hasher) {
    std::mem::discriminant(v).hash(h);
    match v {
        Value::Null => {}
        Value::Boolean(b) => b.hash(h),
        Value::Int(i) | Value::Date(i) | Value::Time(i) => i.hash(h),
        Value::Bigint(i) | Value::Timestamp(i) => i.hash(h),
        Value::Double(d) if d.is_nan() => {}
        Value::Double(d) => d.to_bits().hash(h),
        Value::Decimal(unscaled, scale) => {
            decimal_without_trailing_zeros(*unscaled, *scale).hash(h)
        }
        Value::String(s) => s.hash(h),
        Value::Bytes(b) => b.hash(h),
        Value::Array(items) => {
            items.len().hash(h);
            items.iter().for_each(|i| hash_into(i, h));
        }
        Value::Map(entries) => {
            let unordered = entries.iter().fold(0u64, |sum, (k, v)| {
                sum.wrapping_add(java_hash(k).wrapping_mul(31) ^ java_hash(v))
            });
            (entries.len(), unordered).hash(h);
        }
        Value::Struct(fields) => fields.iter().for_each(|(n, v)| {
            n.hash(h);
            hash_into(v, h);
        }),
    }
}

fn decimal_without_trailing_zeros(mut unscaled: i128, mut scale: i8) -> (i128, i8) {
    if unscaled == 0 {
        return (0, 0);
    }
    while unscaled % 10 == 0 && scale > i8::MIN {
        unscaled /= 10;
        scale -= 1;
    }
    (unscaled, scale)
}

/// Values distinct by [`java_eq`], found in expected constant time each.
#[derive(Default)]
pub struct JavaSet<'a> {
    buckets: HashMap<u64, Vec<&'a Value>>,
}

impl<'a> JavaSet<'a> {
    pub fn of(values: &'a [Value]) -> JavaSet<'a> {
        let mut set = JavaSet::default();
        values.iter().for_each(|v| {
            set.insert(v);
        });
        set
    }

    /// Adds `v`; false if an equal value was there.
    pub fn insert(&mut self, v: &'a Value) -> bool {
        let bucket = self.buckets.entry(java_hash(v)).or_default();
        if bucket.iter().any(|o| java_eq(o, v)) {
            return false;
        }
        bucket.push(v);
        true
    }

    pub fn contains(&self, v: &Value) -> bool {
        self.buckets
            .get(&java_hash(v))
            .is_some_and(|b| b.iter().any(|o| java_eq(o, v)))
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

    /// {a: 1, b: 2} with its entries in both orders.
    fn same_map_in_two_orders() -> (Value, Value) {
        let a = (Value::String("a".into()), Value::Int(1));
        let b = (Value::String("b".into()), Value::Int(2));
        (
            Value::Map(vec![a.clone(), b.clone()]),
            Value::Map(vec![b, a]),
        )
    }

    #[test]
    fn equal_values_hash_alike_and_a_set_keeps_one_of_each() {
        let (m1, m2) = same_map_in_two_orders();
        assert_eq!(java_hash(&m1), java_hash(&m2));
        let d1 = Value::Decimal(100, 2);
        let d2 = Value::Decimal(1, 0);
        assert!(java_eq(&d1, &d2));
        assert_eq!(java_hash(&d1), java_hash(&d2));
        let nan = Value::Double(f64::NAN);
        assert_eq!(java_hash(&nan), java_hash(&Value::Double(-f64::NAN)));
        let values = [m1.clone(), d1, Value::Int(1), m2, d2, Value::Bigint(1)];
        let mut set = JavaSet::default();
        let kept: Vec<&Value> = values.iter().filter(|v| set.insert(v)).collect();
        assert_eq!(kept, vec![&values[0], &values[1], &values[2], &values[5]]);
        assert!(set.contains(&Value::Decimal(10, 1)));
        assert!(!set.contains(&Value::Int(2)));
    }

    #[test]
    fn java_equality_and_order() {
        let (m1, m2) = same_map_in_two_orders();
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
