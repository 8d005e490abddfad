//! Rounding functions with Java `Math` / `BigDecimal` semantics: ABS, CEIL, FLOOR, ROUND and
//! TRUNC. ROUND rounds half toward +∞ (`Math.round`; HALF_UP for positive and HALF_DOWN for
//! negative decimals); ROUND(x, d) on a DOUBLE works on its shortest decimal form, like
//! `BigDecimal.valueOf(x).setScale(d, …)`.

use super::basic::{ANY_DECIMAL, choose, sig};
use super::{Arg, FunctionRegistry, Resolved};
use crate::common::{SqlType, Value};
use crate::plan::expr::{decimal, java_double};

pub fn register(r: &mut FunctionRegistry) {
    r.add_udf(
        "ABS",
        "Absolute value.",
        |a| same_numeric("abs", a),
        |v| unary_numeric(&v[0], Mode::Abs),
    );
    r.add_udf(
        "CEIL",
        "Smallest integral value not less than the argument.",
        |a| same_numeric("ceil", a),
        |v| unary_numeric(&v[0], Mode::Ceil),
    );
    r.add_udf(
        "FLOOR",
        "Largest integral value not greater than the argument.",
        |a| same_numeric("floor", a),
        |v| unary_numeric(&v[0], Mode::Floor),
    );
    r.add_udf(
        "ROUND",
        "Rounds half toward positive infinity, optionally to a number of decimal places.",
        |a| round_type("round", a),
        |v| round(v, Mode::HalfUp),
    );
    r.add_udf(
        "TRUNC",
        "Truncates toward zero, optionally to a number of decimal places.",
        |a| round_type("trunc", a),
        |v| round(v, Mode::Down),
    );
}

/// INT → INT, BIGINT → BIGINT, DOUBLE → DOUBLE, DECIMAL(p, s) → DECIMAL(p, s).
fn same_numeric(name: &str, a: &[Arg]) -> Result<Resolved, String> {
    use SqlType::*;
    let sigs = [
        sig(&[Int], Int),
        sig(&[Bigint], Bigint),
        sig(&[Double], Double),
        sig(&[ANY_DECIMAL], ANY_DECIMAL),
    ];
    let (i, args) = choose(name, a, &sigs)?;
    let ret = if i == 3 {
        args[0].clone()
    } else {
        sigs[i].ret.clone()
    };
    Ok(Resolved { args, ret })
}

/// ROUND/TRUNC: (INT|BIGINT|DOUBLE) → BIGINT, DECIMAL(p, s) → DECIMAL(p - s, 0),
/// (DOUBLE, INT) → DOUBLE, (DECIMAL(p, s), INT) → DECIMAL(p, s).
fn round_type(name: &str, a: &[Arg]) -> Result<Resolved, String> {
    use SqlType::*;
    let sigs = [
        sig(&[Int], Bigint),
        sig(&[Bigint], Bigint),
        sig(&[Double], Bigint),
        sig(&[ANY_DECIMAL], ANY_DECIMAL),
        sig(&[Double, Int], Double),
        sig(&[ANY_DECIMAL, Int], ANY_DECIMAL),
    ];
    let (i, args) = choose(name, a, &sigs)?;
    let ret = match (i, &args[0]) {
        (3, Decimal { precision, scale }) if i16::from(*precision) - i16::from(*scale) < 1 => {
            return Err(format!("{name}({}) would have no integer digits", args[0]));
        }
        (3, Decimal { precision, scale }) => SqlType::decimal(precision - (*scale).max(0) as u8, 0),
        (5, t) => t.clone(),
        _ => sigs[i].ret.clone(),
    };
    Ok(Resolved { args, ret })
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Mode {
    Abs,
    Floor,
    Ceil,
    Down,
    /// ROUND: half away from zero for positive values, half toward zero for negative ones.
    HalfUp,
}

fn unary_numeric(v: &Value, mode: Mode) -> Result<Value, String> {
    Ok(match (v, mode) {
        (Value::Int(x), Mode::Abs) => Value::Int(x.wrapping_abs()),
        (Value::Bigint(x), Mode::Abs) => Value::Bigint(x.wrapping_abs()),
        (Value::Double(x), Mode::Abs) => Value::Double(x.abs()),
        (Value::Decimal(x, s), Mode::Abs) => Value::Decimal(x.abs(), *s),
        (Value::Int(_) | Value::Bigint(_), _) => v.clone(),
        (Value::Double(x), Mode::Floor) => Value::Double(x.floor()),
        (Value::Double(x), _) => Value::Double(x.ceil()),
        (Value::Decimal(x, s), _) => {
            let integral = set_scale(*x, i32::from(*s), 0, mode);
            Value::Decimal(set_scale(integral, 0, i32::from(*s), mode), *s)
        }
        _ => Value::Null,
    })
}

fn round(v: &[Value], mode: Mode) -> Result<Value, String> {
    Ok(match v {
        [Value::Int(x)] => Value::Bigint(i64::from(*x)),
        [Value::Bigint(x)] => Value::Bigint(*x),
        // Java `Math.round` (x - floor(x) is exact) and `(long) x` both saturate, NaN → 0.
        [Value::Double(x)] if mode == Mode::HalfUp => Value::Bigint(if *x - x.floor() >= 0.5 {
            x.floor() + 1.0
        } else {
            x.floor()
        } as i64),
        [Value::Double(x)] => Value::Bigint(*x as i64),
        [Value::Decimal(x, s)] => Value::Decimal(set_scale(*x, i32::from(*s), 0, mode), 0),
        [Value::Double(x), Value::Int(d)] => {
            if !x.is_finite() {
                return Ok(Value::Double(*x));
            }
            let Ok((unscaled, scale)) = decimal::parse(&java_double(*x)) else {
                return Ok(Value::Double(*x));
            };
            let rounded = set_scale(unscaled, i32::from(scale), *d, mode);
            let text = format!("{rounded}e{}", -i64::from(*d));
            Value::Double(text.parse::<f64>().map_err(|e| e.to_string())?)
        }
        [Value::Decimal(x, s), Value::Int(d)] => {
            let rounded = set_scale(*x, i32::from(*s), *d, mode);
            Value::Decimal(set_scale(rounded, *d, i32::from(*s), mode), *s)
        }
        _ => Value::Null,
    })
}

/// `BigDecimal.setScale(to, mode)` of `unscaled × 10^-from`; growing the scale is exact
/// (saturating on overflow, which ksqlDB would reject when writing the value anyway).
fn set_scale(unscaled: i128, from: i32, to: i32, mode: Mode) -> i128 {
    if to >= from {
        return 10i128
            .checked_pow((to - from) as u32)
            .and_then(|m| unscaled.checked_mul(m))
            .unwrap_or(if unscaled < 0 { i128::MIN } else { i128::MAX });
    }
    // With a divisor beyond i128, the quotient is 0 and the remainder is all of `unscaled`.
    let (q, r, div) = match 10i128.checked_pow((from - to) as u32) {
        Some(div) => (unscaled / div, unscaled % div, Some(div)),
        None => (0, unscaled, None),
    };
    if r == 0 {
        return q;
    }
    let sign = unscaled.signum();
    let at_least_half = div.is_some_and(|d| r.abs() >= d - r.abs());
    let above_half = div.is_some_and(|d| r.abs() > d - r.abs());
    match mode {
        Mode::Down | Mode::Abs => q,
        Mode::Floor => q - i128::from(sign < 0),
        Mode::Ceil => q + i128::from(sign > 0),
        Mode::HalfUp if sign > 0 => q + i128::from(at_least_half),
        Mode::HalfUp => q - i128::from(above_half),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_d(x: f64, d: i32) -> Value {
        round(&[Value::Double(x), Value::Int(d)], Mode::HalfUp).unwrap()
    }

    #[test]
    fn round_is_half_toward_positive_infinity() {
        let r = |x: f64| round(&[Value::Double(x)], Mode::HalfUp).unwrap();
        assert_eq!(r(1.5), Value::Bigint(2));
        assert_eq!(r(-1.5), Value::Bigint(-1));
        assert_eq!(r(-1.7), Value::Bigint(-2));
        assert_eq!(r(0.49999999999999994), Value::Bigint(0));
        assert_eq!(r(f64::NAN), Value::Bigint(0));
        assert_eq!(round_d(-12345.678, 1), Value::Double(-12345.7));
        assert_eq!(round_d(12345.678, -2), Value::Double(12300.0));
        assert_eq!(
            round_d(1.005, 2),
            Value::Double(1.01),
            "BigDecimal.valueOf(1.005) is exactly 1.005"
        );
        assert_eq!(round_d(-1.25, 1), Value::Double(-1.2));
        assert_eq!(
            round(&[Value::Decimal(-15, 1)], Mode::HalfUp),
            Ok(Value::Decimal(-1, 0))
        );
        assert_eq!(
            round(
                &[Value::Decimal(-12345678, 3), Value::Int(-1)],
                Mode::HalfUp
            ),
            Ok(Value::Decimal(-12350000, 3))
        );
        assert_eq!(
            round(&[Value::Decimal(-12345678, 3), Value::Int(1)], Mode::Down),
            Ok(Value::Decimal(-12345600, 3))
        );
    }

    #[test]
    fn round_types() {
        let t = |a: Vec<Arg>| round_type("round", &a).map(|r| r.ret);
        assert_eq!(
            t(vec![Some(SqlType::decimal(33, 16))]),
            Ok(SqlType::decimal(17, 0))
        );
        assert_eq!(
            t(vec![Some(SqlType::decimal(33, 16)), Some(SqlType::Int)]),
            Ok(SqlType::decimal(33, 16))
        );
        assert_eq!(t(vec![Some(SqlType::Int)]), Ok(SqlType::Bigint));
        assert_eq!(
            t(vec![Some(SqlType::Int), Some(SqlType::Int)]),
            Ok(SqlType::Double)
        );
        assert!(t(vec![Some(SqlType::decimal(2, 2))]).is_err());
    }

    #[test]
    fn floor_ceil_keep_decimal_scale() {
        assert_eq!(
            unary_numeric(&Value::Decimal(-11, 1), Mode::Floor),
            Ok(Value::Decimal(-20, 1))
        );
        assert_eq!(
            unary_numeric(&Value::Decimal(11, 1), Mode::Ceil),
            Ok(Value::Decimal(20, 1))
        );
        assert_eq!(
            unary_numeric(&Value::Int(i32::MIN), Mode::Abs),
            Ok(Value::Int(i32::MIN))
        );
    }
}
