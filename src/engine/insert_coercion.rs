//! How an `INSERT INTO ... VALUES` value becomes its column's type, as ksqlDB's
//! `DefaultSqlValueCoercer.STRICT` does it for inserted values: numbers only widen, and only
//! when they fit. An INT goes into an INT, BIGINT, DECIMAL or DOUBLE column; a BIGINT into a
//! BIGINT, DECIMAL or DOUBLE (never an INT: a literal too big for an INT is a BIGINT); a
//! DECIMAL into a DECIMAL whose precision and scale hold it without rounding, or a DOUBLE; a
//! DOUBLE only into a DOUBLE. A string goes into a STRING, or is parsed into a TIMESTAMP, DATE
//! or TIME. Arrays, maps and structs convert element by element (a struct's fields must all be
//! in the column's struct; the ones it lacks are NULL). NULL goes into any column.

use crate::common::{SqlType, Value};
use crate::plan::expr::{cast_value, decimal};

/// `v` as a value of `to`, or `None` when it cannot be inserted into a column of that type.
pub(super) fn coerce_inserted(v: &Value, to: &SqlType) -> Option<Value> {
    match (v, to) {
        (Value::Null, _) => Some(Value::Null),
        (Value::Int(_) | Value::Bigint(_) | Value::Decimal(..) | Value::Double(_), _) => {
            coerce_number(v, to)
        }
        (Value::String(_), SqlType::String)
        | (Value::Boolean(_), SqlType::Boolean)
        | (Value::Bytes(_), SqlType::Bytes)
        | (Value::Timestamp(_), SqlType::Timestamp)
        | (Value::Date(_), SqlType::Date)
        | (Value::Time(_), SqlType::Time) => Some(v.clone()),
        (Value::String(_), SqlType::Timestamp | SqlType::Date | SqlType::Time) => {
            cast_value(v, &SqlType::String, to).ok()
        }
        (Value::Array(items), SqlType::Array(element)) => items
            .iter()
            .map(|item| coerce_inserted(item, element))
            .collect::<Option<_>>()
            .map(Value::Array),
        (Value::Map(entries), SqlType::Map(key_type, value_type)) => entries
            .iter()
            .map(|(k, x)| {
                Some((
                    coerce_inserted(k, key_type)?,
                    coerce_inserted(x, value_type)?,
                ))
            })
            .collect::<Option<_>>()
            .map(Value::Map),
        (Value::Struct(fields), SqlType::Struct(columns)) => {
            let known = |name: &String| columns.iter().any(|c| &c.name == name);
            if !fields.iter().all(|(name, _)| known(name)) {
                return None;
            }
            columns
                .iter()
                .map(|c| {
                    let value = match fields.iter().find(|(name, _)| *name == c.name) {
                        Some((_, x)) => coerce_inserted(x, &c.sql_type)?,
                        None => Value::Null,
                    };
                    Some((c.name.clone(), value))
                })
                .collect::<Option<_>>()
                .map(Value::Struct)
        }
        _ => None,
    }
}

/// A number into a numeric column: widening only, and a DECIMAL must fit exactly.
fn coerce_number(v: &Value, to: &SqlType) -> Option<Value> {
    match (v, to) {
        (Value::Int(x), SqlType::Int) => Some(Value::Int(*x)),
        (Value::Int(x), SqlType::Bigint) => Some(Value::Bigint(i64::from(*x))),
        (Value::Bigint(x), SqlType::Bigint) => Some(Value::Bigint(*x)),
        (
            Value::Int(_) | Value::Bigint(_) | Value::Decimal(..),
            SqlType::Decimal { precision, scale },
        ) => {
            let (unscaled, from_scale) = decimal::as_decimal(v)?;
            let fitted = decimal::fit_exact(unscaled, from_scale, *precision, *scale).ok()?;
            Some(Value::Decimal(fitted, *scale))
        }
        (Value::Int(x), SqlType::Double) => Some(Value::Double(f64::from(*x))),
        (Value::Bigint(x), SqlType::Double) => Some(Value::Double(*x as f64)),
        (Value::Decimal(unscaled, scale), SqlType::Double) => decimal::format(*unscaled, *scale)
            .parse()
            .ok()
            .map(Value::Double),
        (Value::Double(d), SqlType::Double) => Some(Value::Double(*d)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::coerce_inserted;
    use crate::common::{SqlType, StructField, Value};

    #[test]
    fn numbers_only_widen_and_must_fit() {
        let int = |x| Value::Int(x);
        assert_eq!(
            coerce_inserted(&int(7), &SqlType::Bigint),
            Some(Value::Bigint(7))
        );
        assert_eq!(
            coerce_inserted(&int(7), &SqlType::Double),
            Some(Value::Double(7.0))
        );
        assert_eq!(
            coerce_inserted(&Value::Bigint(99_999_999_999), &SqlType::Int),
            None,
            "a BIGINT never goes into an INT"
        );
        assert_eq!(coerce_inserted(&Value::Bigint(1), &SqlType::Int), None);
        assert_eq!(coerce_inserted(&Value::Double(1.0), &SqlType::Int), None);
        assert_eq!(coerce_inserted(&Value::Double(1.0), &SqlType::Bigint), None);
        assert_eq!(
            coerce_inserted(&Value::Decimal(215, 2), &SqlType::decimal(3, 2)),
            Some(Value::Decimal(215, 2))
        );
        assert_eq!(
            coerce_inserted(&Value::Decimal(215, 2), &SqlType::decimal(4, 3)),
            Some(Value::Decimal(2150, 3)),
            "a wider scale holds it"
        );
        assert_eq!(
            coerce_inserted(&Value::Decimal(215, 2), &SqlType::decimal(2, 1)),
            None,
            "not without rounding"
        );
        assert_eq!(
            coerce_inserted(&int(1000), &SqlType::decimal(4, 2)),
            None,
            "more digits than the precision leaves"
        );
        assert_eq!(
            coerce_inserted(&Value::Bigint(99), &SqlType::decimal(4, 2)),
            Some(Value::Decimal(9900, 2))
        );
        assert_eq!(
            coerce_inserted(&Value::Decimal(15, 1), &SqlType::Double),
            Some(Value::Double(1.5))
        );
    }

    #[test]
    fn nested_values_coerce_element_by_element() {
        let bigint_array = SqlType::array(SqlType::Bigint);
        let ints = Value::Array(vec![Value::Int(1), Value::Null]);
        assert_eq!(
            coerce_inserted(&ints, &bigint_array),
            Some(Value::Array(vec![Value::Bigint(1), Value::Null]))
        );
        let too_big = Value::Array(vec![Value::Bigint(1 << 40)]);
        assert_eq!(
            coerce_inserted(&too_big, &SqlType::array(SqlType::Int)),
            None
        );
        let column = SqlType::Struct(vec![
            StructField {
                name: "A".into(),
                sql_type: SqlType::Double,
            },
            StructField {
                name: "B".into(),
                sql_type: SqlType::String,
            },
        ]);
        let value = Value::Struct(vec![("A".into(), Value::Int(2))]);
        assert_eq!(
            coerce_inserted(&value, &column),
            Some(Value::Struct(vec![
                ("A".into(), Value::Double(2.0)),
                ("B".into(), Value::Null)
            ]))
        );
        let extra = Value::Struct(vec![("C".into(), Value::Int(2))]);
        assert_eq!(
            coerce_inserted(&extra, &column),
            None,
            "a field the column lacks"
        );
        let strings = Value::Array(vec![Value::String("1".into())]);
        assert_eq!(
            coerce_inserted(&strings, &SqlType::array(SqlType::Int)),
            None
        );
    }
}
