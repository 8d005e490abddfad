//! `CAST` between ksqlDB types, and Java-style text rendering (`CAST(x AS STRING)`, `+` concat).

use super::decimal;
use crate::common::{SqlType, Value};

/// Casts `v` (of type `from`) to `to`; an impossible conversion is an error (NULL in ksqlDB).
pub fn cast_value(v: &Value, from: &SqlType, to: &SqlType) -> Result<Value, String> {
    if v.is_null() || from == to {
        return Ok(v.clone());
    }
    match to {
        SqlType::String => Ok(Value::String(to_text(v))),
        SqlType::Boolean => match v {
            Value::String(s) => Ok(Value::Boolean(s.trim().eq_ignore_ascii_case("true"))),
            Value::Boolean(b) => Ok(Value::Boolean(*b)),
            _ => Err(format!("cannot cast {from} to BOOLEAN")),
        },
        SqlType::Int => to_i64(v).map(|x| Value::Int(x as i32)),
        SqlType::Bigint => to_i64(v).map(Value::Bigint),
        SqlType::Double => to_f64(v).map(Value::Double),
        SqlType::Decimal { precision, scale } => {
            let (unscaled, s) = match v {
                Value::String(text) => decimal::parse(text.trim())?,
                Value::Double(d) => decimal::parse(&java_double(*d))?,
                other => decimal::as_decimal(other)
                    .ok_or_else(|| format!("cannot cast {from} to DECIMAL"))?,
            };
            decimal::fit(unscaled, s, *precision, *scale).map(|x| Value::Decimal(x, *scale))
        }
        SqlType::Timestamp => match v {
            Value::String(s) => super::time::parse_timestamp_iso(s.trim()).map(Value::Timestamp),
            Value::Date(d) => Ok(Value::Timestamp(i64::from(*d) * 86_400_000)),
            _ => Err(format!("cannot cast {from} to TIMESTAMP")),
        },
        SqlType::Date => match v {
            Value::String(s) => super::time::parse_date_iso(s.trim()).map(Value::Date),
            Value::Timestamp(t) => Ok(Value::Date(t.div_euclid(86_400_000) as i32)),
            _ => Err(format!("cannot cast {from} to DATE")),
        },
        SqlType::Time => match v {
            Value::String(s) => super::time::parse_time_iso(s.trim()).map(Value::Time),
            Value::Timestamp(t) => Ok(Value::Time(t.rem_euclid(86_400_000) as i32)),
            _ => Err(format!("cannot cast {from} to TIME")),
        },
        SqlType::Bytes => Err(format!("cannot cast {from} to BYTES")),
        SqlType::Array(to_elem) => match (v, from) {
            (Value::Array(items), SqlType::Array(from_elem)) => items
                .iter()
                .map(|i| cast_value(i, from_elem, to_elem))
                .collect::<Result<_, _>>()
                .map(Value::Array),
            _ => Err(format!("cannot cast {from} to {to}")),
        },
        SqlType::Map(tk, tv) => match (v, from) {
            (Value::Map(entries), SqlType::Map(fk, fv)) => entries
                .iter()
                .map(|(k, x)| Ok((cast_value(k, fk, tk)?, cast_value(x, fv, tv)?)))
                .collect::<Result<_, String>>()
                .map(Value::Map),
            _ => Err(format!("cannot cast {from} to {to}")),
        },
        SqlType::Struct(fields) => match (v, from) {
            (Value::Struct(values), SqlType::Struct(from_fields)) => fields
                .iter()
                .map(|f| {
                    let found = from_fields
                        .iter()
                        .zip(values)
                        .find(|(ff, _)| ff.name == f.name);
                    let value = match found {
                        Some((ff, (_, x))) => cast_value(x, &ff.sql_type, &f.sql_type)?,
                        None => Value::Null,
                    };
                    Ok((f.name.clone(), value))
                })
                .collect::<Result<_, String>>()
                .map(Value::Struct),
            _ => Err(format!("cannot cast {from} to {to}")),
        },
    }
}

fn to_i64(v: &Value) -> Result<i64, String> {
    match v {
        Value::Int(x) => Ok(i64::from(*x)),
        Value::Bigint(x) => Ok(*x),
        Value::Double(d) => Ok(*d as i64),
        Value::Decimal(x, s) => Ok((*x / 10i128.pow(u32::from(s.unsigned_abs()))) as i64),
        Value::String(s) => s
            .trim()
            .parse::<i64>()
            .map_err(|_| format!("invalid number: '{s}'")),
        other => Err(format!("cannot cast {other:?} to an integer")),
    }
}

fn to_f64(v: &Value) -> Result<f64, String> {
    match v {
        Value::String(s) => s
            .trim()
            .parse::<f64>()
            .map_err(|_| format!("invalid number: '{s}'")),
        other => {
            super::eval::as_f64(other).ok_or_else(|| format!("cannot cast {other:?} to DOUBLE"))
        }
    }
}

/// Text of a value as Java renders it (`String.valueOf`, ksqlDB's struct/list/map toString).
pub fn to_text(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Boolean(b) => b.to_string(),
        Value::Int(x) => x.to_string(),
        Value::Bigint(x) => x.to_string(),
        Value::Double(d) => java_double(*d),
        Value::Decimal(x, s) => decimal::format(*x, *s),
        Value::String(s) => s.clone(),
        Value::Bytes(b) => super::time::base64(b),
        Value::Timestamp(t) => super::time::format_timestamp_iso(*t),
        Value::Date(d) => super::time::format_date_iso(*d),
        Value::Time(t) => super::time::format_time_iso(*t),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(to_text).collect::<Vec<_>>().join(", ")
        ),
        Value::Map(entries) => format!(
            "{{{}}}",
            entries
                .iter()
                .map(|(k, v)| format!("{}={}", to_text(k), to_text(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Struct(fields) => format!(
            "Struct{{{}}}",
            fields
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| format!("{k}={}", to_text(v)))
                .collect::<Vec<_>>()
                .join(",")
        ),
    }
}

/// Java's `Double.toString`: plain between 1e-3 and 1e7, otherwise `1.0E10` style.
pub fn java_double(d: f64) -> String {
    if d.is_nan() {
        return "NaN".into();
    }
    if d.is_infinite() {
        return if d > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    if d == 0.0 {
        return if d.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    let abs = d.abs();
    if (1e-3..1e7).contains(&abs) {
        let s = format!("{d}");
        return if s.contains('.') { s } else { format!("{s}.0") };
    }
    let s = format!("{d:e}");
    let (mantissa, exponent) = s.split_once('e').unwrap_or((&s, "0"));
    let mantissa = if mantissa.contains('.') {
        mantissa.to_string()
    } else {
        format!("{mantissa}.0")
    };
    format!("{mantissa}E{exponent}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_double_text() {
        assert_eq!(java_double(1.0), "1.0");
        assert_eq!(java_double(0.1), "0.1");
        assert_eq!(java_double(1e10), "1.0E10");
        assert_eq!(java_double(12345678.9), "1.23456789E7");
        assert_eq!(java_double(0.0001), "1.0E-4");
    }

    #[test]
    fn casts_follow_ksql() {
        assert_eq!(
            cast_value(&Value::Bigint(2147483648), &SqlType::Bigint, &SqlType::Int),
            Ok(Value::Int(-2147483648))
        );
        assert_eq!(
            cast_value(&Value::Double(-1.9), &SqlType::Double, &SqlType::Int),
            Ok(Value::Int(-1))
        );
        assert_eq!(
            cast_value(
                &Value::String(" 12 ".into()),
                &SqlType::String,
                &SqlType::Int
            ),
            Ok(Value::Int(12))
        );
        assert!(cast_value(&Value::String("x".into()), &SqlType::String, &SqlType::Int).is_err());
        assert_eq!(
            cast_value(
                &Value::String("TRUE".into()),
                &SqlType::String,
                &SqlType::Boolean
            ),
            Ok(Value::Boolean(true))
        );
        assert_eq!(
            cast_value(
                &Value::Double(1.255),
                &SqlType::Double,
                &SqlType::decimal(4, 2)
            ),
            Ok(Value::Decimal(126, 2))
        );
        assert_eq!(
            cast_value(&Value::Int(7), &SqlType::Int, &SqlType::String),
            Ok(Value::String("7".into()))
        );
    }
}
