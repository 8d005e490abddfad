//! Exact DECIMAL arithmetic as ksqlDB does it (Java BigDecimal with `UNNECESSARY` rounding:
//! a result that would need rounding is an error, so the expression becomes NULL).

use super::ir::ArithOp;
use crate::common::{SqlType, Value};
use std::cmp::Ordering;

const MAX_SCALE_SHIFT: u32 = 38;

fn pow10(n: u32) -> Option<i128> {
    10i128.checked_pow(n.min(MAX_SCALE_SHIFT))
}

/// Parses `-12.340` (or `1.5E3`) into (unscaled, scale).
pub fn parse(text: &str) -> Result<(i128, i8), String> {
    let bad = || format!("invalid decimal: '{text}'");
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(i) => (&text[..i], text[i + 1..].parse::<i32>().map_err(|_| bad())?),
        None => (text, 0),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let negative = int_part.starts_with('-');
    let digits = format!("{}{}", int_part.trim_start_matches(['-', '+']), frac_part);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let unscaled: i128 = digits.parse().map_err(|_| bad())?;
    let scale = frac_part.len() as i32 - exponent;
    let (unscaled, scale) = if scale < 0 {
        (unscaled * pow10(scale.unsigned_abs()).ok_or_else(bad)?, 0)
    } else {
        (unscaled, scale)
    };
    Ok((if negative { -unscaled } else { unscaled }, scale as i8))
}

/// Plain text with exactly `scale` fraction digits.
pub fn format(unscaled: i128, scale: i8) -> String {
    if scale <= 0 {
        return (unscaled * pow10(u32::from(scale.unsigned_abs())).unwrap_or(1)).to_string();
    }
    let digits = unscaled.unsigned_abs().to_string();
    let scale = scale as usize;
    let padded = if digits.len() <= scale {
        format!("{}{digits}", "0".repeat(scale + 1 - digits.len()))
    } else {
        digits
    };
    let (int, frac) = padded.split_at(padded.len() - scale);
    format!("{}{int}.{frac}", if unscaled < 0 { "-" } else { "" })
}

/// Rescales to `scale` rounding HALF_UP, then checks it fits `precision` digits.
pub fn fit(unscaled: i128, from_scale: i8, precision: u8, scale: i8) -> Result<i128, String> {
    let value = rescale_half_up(unscaled, from_scale, scale).ok_or("decimal overflow")?;
    let limit = pow10(u32::from(precision)).ok_or("decimal overflow")?;
    if value.abs() >= limit {
        return Err(format!(
            "decimal value does not fit DECIMAL({precision}, {scale})"
        ));
    }
    Ok(value)
}

/// `DecimalUtil.ensureFit`: rescales to `scale` only if no digit is lost, then checks it fits
/// `precision` digits.
pub fn fit_exact(unscaled: i128, from_scale: i8, precision: u8, scale: i8) -> Result<i128, String> {
    let value = rescale_exact(unscaled, from_scale, scale).ok_or_else(|| {
        format!(
            "Cannot fit decimal '{}' into DECIMAL({precision}, {scale}) without rounding.",
            format(unscaled, from_scale)
        )
    })?;
    let limit = pow10(u32::from(precision)).ok_or("decimal overflow")?;
    if value.abs() >= limit {
        return Err(format!(
            "decimal value does not fit DECIMAL({precision}, {scale})"
        ));
    }
    Ok(value)
}

fn rescale_half_up(unscaled: i128, from: i8, to: i8) -> Option<i128> {
    match to.cmp(&from) {
        Ordering::Equal => Some(unscaled),
        Ordering::Greater => unscaled.checked_mul(pow10((to - from) as u32)?),
        Ordering::Less => {
            let div = pow10((from - to) as u32)?;
            let (q, r) = (unscaled / div, unscaled % div);
            Some(if r.abs() * 2 >= div {
                q + unscaled.signum()
            } else {
                q
            })
        }
    }
}

/// Exact rescale (no rounding allowed).
fn rescale_exact(unscaled: i128, from: i8, to: i8) -> Option<i128> {
    if to >= from {
        return unscaled.checked_mul(pow10((to - from) as u32)?);
    }
    let div = pow10((from - to) as u32)?;
    (unscaled % div == 0).then(|| unscaled / div)
}

/// A value as a decimal, for INT, BIGINT and DECIMAL (and DOUBLE via its Java text).
pub fn as_decimal(v: &Value) -> Option<(i128, i8)> {
    match v {
        Value::Int(x) => Some((i128::from(*x), 0)),
        Value::Bigint(x) => Some((i128::from(*x), 0)),
        Value::Decimal(x, s) => Some((*x, *s)),
        Value::Double(d) if d.is_finite() => parse(&super::cast::java_double(*d)).ok(),
        _ => None,
    }
}

pub fn cmp(a: (i128, i8), b: (i128, i8)) -> Ordering {
    let scale = a.1.max(b.1);
    match (
        rescale_exact(a.0, a.1, scale),
        rescale_exact(b.0, b.1, scale),
    ) {
        (Some(x), Some(y)) => x.cmp(&y),
        _ => {
            (a.0 as f64 / 10f64.powi(a.1.into())).total_cmp(&(b.0 as f64 / 10f64.powi(b.1.into())))
        }
    }
}

/// `a op b` exactly, in the result type `ty` (DECIMAL(p, s)).
pub fn arith(op: ArithOp, a: (i128, i8), b: (i128, i8), ty: &SqlType) -> Result<Value, String> {
    let SqlType::Decimal { precision, scale } = ty else {
        return Err("decimal arithmetic needs a DECIMAL result".into());
    };
    let overflow = || "decimal overflow".to_string();
    let common = a.1.max(b.1);
    let (x, y) = (
        rescale_exact(a.0, a.1, common).ok_or_else(overflow)?,
        rescale_exact(b.0, b.1, common).ok_or_else(overflow)?,
    );
    let (unscaled, result_scale) = match op {
        ArithOp::Add => (x.checked_add(y).ok_or_else(overflow)?, common),
        ArithOp::Sub => (x.checked_sub(y).ok_or_else(overflow)?, common),
        ArithOp::Mul => (a.0.checked_mul(b.0).ok_or_else(overflow)?, a.1 + b.1),
        ArithOp::Mod => {
            if y == 0 {
                return Err("Division by zero".into());
            }
            (x % y, common)
        }
        ArithOp::Div => {
            if b.0 == 0 {
                return Err("Division by zero".into());
            }
            let shift = (i32::from(*scale) - i32::from(a.1) + i32::from(b.1)).max(0) as u32;
            let n =
                a.0.checked_mul(pow10(shift).ok_or_else(overflow)?)
                    .ok_or_else(overflow)?;
            if n % b.0 != 0 {
                return Err(
                    "Non-terminating decimal expansion; no exact representable decimal result."
                        .into(),
                );
            }
            (n / b.0, a.1 + shift as i8 - b.1)
        }
    };
    let exact = rescale_exact(unscaled, result_scale, *scale).ok_or("Rounding necessary")?;
    let limit = pow10(u32::from(*precision)).ok_or_else(overflow)?;
    if exact.abs() >= limit {
        return Err(overflow());
    }
    Ok(Value::Decimal(exact, *scale))
}

/// ksqlDB's result type of `a op b` for decimals (`SqlDecimal` rules).
pub fn result_type(op: ArithOp, (p1, s1): (u8, i8), (p2, s2): (u8, i8)) -> SqlType {
    let (p1, s1, p2, s2) = (i32::from(p1), i32::from(s1), i32::from(p2), i32::from(s2));
    let (p, s) = match op {
        ArithOp::Add | ArithOp::Sub => (s1.max(s2) + (p1 - s1).max(p2 - s2) + 1, s1.max(s2)),
        ArithOp::Mul => (p1 + p2 + 1, s1 + s2),
        ArithOp::Div => (p1 - s1 + s2 + 6.max(s1 + p2 + 1), 6.max(s1 + p2 + 1)),
        ArithOp::Mod => ((p1 - s1).min(p2 - s2) + s1.max(s2), s1.max(s2)),
    };
    SqlType::decimal(p.clamp(1, 38) as u8, s.clamp(0, 38) as i8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_format_and_exact_arithmetic() {
        assert_eq!(parse("-12.340"), Ok((-12340, 3)));
        assert_eq!(format(-5, 2), "-0.05");
        assert_eq!(format(1230, 2), "12.30");
        let ty = result_type(ArithOp::Div, (3, 1), (2, 1));
        assert_eq!(
            arith(ArithOp::Div, (101, 1), (20, 1), &ty).map(|v| super::super::cast::to_text(&v)),
            Ok("5.050000".to_string())
        );
        assert!(
            arith(
                ArithOp::Div,
                (100, 2),
                (300, 2),
                &result_type(ArithOp::Div, (3, 2), (3, 2))
            )
            .is_err(),
            "1.00/3.00 is not exact"
        );
        assert!(arith(ArithOp::Div, (101, 1), (0, 1), &ty).is_err());
        let add = result_type(ArithOp::Add, (4, 2), (3, 1));
        assert_eq!(
            arith(ArithOp::Add, (1001, 2), (51, 1), &add),
            Ok(Value::Decimal(1511, 2))
        );
        assert_eq!(fit(1255, 3, 4, 2), Ok(126));
    }
}
