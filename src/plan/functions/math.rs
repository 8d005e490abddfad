//! Numeric functions other than rounding: SIGN, SQRT, CBRT, EXP, LN, LOG, POWER, the
//! trigonometric functions, PI, RANDOM, GREATEST, LEAST and GEO_DISTANCE, with Java `Math`
//! semantics (DOUBLE arguments; INT, BIGINT and DECIMAL ones are cast).

use super::basic::{ANY_DECIMAL, Sig, choose, pick, sig, var_sig};
use super::{Arg, FunctionRegistry, Resolved};
use crate::common::{SqlType, Value};
use crate::plan::expr::decimal;
use std::cmp::Ordering;

pub fn register(r: &mut FunctionRegistry) {
    r.add_udf(
        "SIGN",
        "-1, 0 or 1 by the sign of the argument.",
        |a| pick("sign", a, &numeric_sigs(SqlType::Int)),
        |v| {
            Ok(match v[0] {
                Value::Int(x) => Value::Int(x.signum()),
                Value::Bigint(x) => Value::Int(x.signum() as i32),
                Value::Double(x) if x.is_nan() || x == 0.0 => Value::Int(0),
                Value::Double(x) => Value::Int(x.signum() as i32),
                _ => Value::Null,
            })
        },
    );
    let unary: [(&'static str, &'static str, F64Fn); 17] = [
        ("SQRT", "Square root.", f64::sqrt),
        ("CBRT", "Cube root.", f64::cbrt),
        ("EXP", "e raised to the argument.", f64::exp),
        ("LN", "Natural logarithm.", f64::ln),
        ("SIN", "Sine (radians).", f64::sin),
        ("COS", "Cosine (radians).", f64::cos),
        ("TAN", "Tangent (radians).", f64::tan),
        ("COT", "Cotangent (radians).", |x| 1.0 / x.tan()),
        ("ASIN", "Arc sine.", f64::asin),
        ("ACOS", "Arc cosine.", f64::acos),
        ("ATAN", "Arc tangent.", f64::atan),
        ("SINH", "Hyperbolic sine.", f64::sinh),
        ("COSH", "Hyperbolic cosine.", f64::cosh),
        ("TANH", "Hyperbolic tangent.", f64::tanh),
        ("DEGREES", "Radians to degrees.", to_degrees),
        ("RADIANS", "Degrees to radians.", to_radians),
        ("LOG", "Natural logarithm, or LOG(base, x).", f64::ln),
    ];
    for (name, description, f) in unary {
        r.add(Unary {
            name,
            description,
            f,
        });
    }
    r.add_udf(
        "POWER",
        "The first argument raised to the second.",
        |a| {
            pick(
                "power",
                a,
                &[sig(&[SqlType::Double, SqlType::Double], SqlType::Double)],
            )
        },
        |v| doubles(v, java_pow),
    );
    r.add_udf(
        "ATAN2",
        "Arc tangent of y/x.",
        |a| {
            pick(
                "atan2",
                a,
                &[sig(&[SqlType::Double, SqlType::Double], SqlType::Double)],
            )
        },
        |v| doubles(v, f64::atan2),
    );
    r.add_udf(
        "PI",
        "The constant π.",
        |a| pick("pi", a, &[sig(&[], SqlType::Double)]),
        |_| Ok(Value::Double(std::f64::consts::PI)),
    );
    r.add_udf(
        "RANDOM",
        "A random DOUBLE in [0, 1).",
        |a| pick("random", a, &[sig(&[], SqlType::Double)]),
        |_| Ok(Value::Double(fastrand::f64())),
    );
    r.add_udf(
        "GREATEST",
        "The largest non-NULL argument.",
        |a| extreme_type("greatest", a),
        |v| Ok(extreme(v, Ordering::Greater)),
    );
    r.add_udf(
        "LEAST",
        "The smallest non-NULL argument.",
        |a| extreme_type("least", a),
        |v| Ok(extreme(v, Ordering::Less)),
    );
    r.add_udf(
        "GEO_DISTANCE",
        "Great-circle distance between two points, in km (default) or miles.",
        |a| {
            let d = SqlType::Double;
            pick(
                "geo_distance",
                a,
                &[
                    sig(&[d.clone(), d.clone(), d.clone(), d.clone()], d.clone()),
                    sig(
                        &[d.clone(), d.clone(), d.clone(), d.clone(), SqlType::String],
                        d,
                    ),
                ],
            )
        },
        geo_distance,
    );
}

type F64Fn = fn(f64) -> f64;

/// A DOUBLE → DOUBLE function (INT, BIGINT and DECIMAL arguments are cast); LOG also takes a base.
struct Unary {
    name: &'static str,
    description: &'static str,
    f: F64Fn,
}

impl super::ScalarFunction for Unary {
    fn name(&self) -> &str {
        self.name
    }
    fn description(&self) -> &str {
        self.description
    }
    fn resolve(&self, args: &[Arg]) -> Result<Resolved, String> {
        let d = SqlType::Double;
        let mut sigs = vec![sig(std::slice::from_ref(&d), d.clone())];
        if self.name == "LOG" {
            sigs.push(sig(&[d.clone(), d.clone()], d));
        }
        pick(&self.name.to_ascii_lowercase(), args, &sigs)
    }
    fn invoke(&self, args: &[Value]) -> Result<Value, String> {
        match args {
            [Value::Double(x)] => Ok(Value::Double((self.f)(*x))),
            [Value::Double(base), Value::Double(x)] if *base <= 0.0 || *base == 1.0 => {
                Ok(Value::Double(if x.is_nan() { *x } else { f64::NAN }))
            }
            [Value::Double(base), Value::Double(x)] => Ok(Value::Double(x.ln() / base.ln())),
            _ => Ok(Value::Null),
        }
    }
}

/// Java 8's `Math.toRadians` / `toDegrees` (ksqlDB's expected values were computed with them;
/// multiplying by a precomputed constant differs in the last bit).
fn to_radians(x: f64) -> f64 {
    x / 180.0 * std::f64::consts::PI
}

fn to_degrees(x: f64) -> f64 {
    x * 180.0 / std::f64::consts::PI
}

fn doubles(v: &[Value], f: fn(f64, f64) -> f64) -> Result<Value, String> {
    Ok(match (&v[0], &v[1]) {
        (Value::Double(a), Value::Double(b)) => Value::Double(f(*a, *b)),
        _ => Value::Null,
    })
}

/// Java `Math.pow`, which differs from C's `pow` for NaN exponents and ±1 to ±∞.
fn java_pow(x: f64, y: f64) -> f64 {
    if y.is_nan() || (x.abs() == 1.0 && y.is_infinite()) {
        f64::NAN
    } else {
        x.powf(y)
    }
}

fn numeric_sigs(ret: SqlType) -> [Sig; 3] {
    [
        sig(&[SqlType::Int], ret.clone()),
        sig(&[SqlType::Bigint], ret.clone()),
        sig(&[SqlType::Double], ret),
    ]
}

/// GREATEST/LEAST: `(T, T...)` for each comparable T; DECIMAL arguments widen to one DECIMAL.
fn extreme_type(name: &str, a: &[Arg]) -> Result<Resolved, String> {
    use SqlType::*;
    let types = [
        Int,
        Bigint,
        Double,
        ANY_DECIMAL,
        String,
        Bytes,
        Date,
        Time,
        Timestamp,
    ];
    let sigs: Vec<Sig> = types
        .iter()
        .map(|t| var_sig(std::slice::from_ref(t), t.clone(), t.clone()))
        .collect();
    let (i, args) = choose(name, a, &sigs)?;
    if i != 3 {
        return Ok(Resolved {
            args,
            ret: sigs[i].ret.clone(),
        });
    }
    let (mut int_digits, mut scale) = (1i16, 0i16);
    for (t, arg) in args.iter().zip(a) {
        if let (
            Decimal {
                precision,
                scale: s,
            },
            Some(_),
        ) = (t, arg)
        {
            int_digits = int_digits.max(i16::from(*precision) - i16::from(*s));
            scale = scale.max(i16::from(*s));
        }
    }
    let ret = SqlType::decimal(
        (int_digits + scale).clamp(1, 38) as u8,
        scale.clamp(0, 38) as i8,
    );
    Ok(Resolved {
        args: vec![ret.clone(); a.len()],
        ret,
    })
}

fn extreme(v: &[Value], want: Ordering) -> Value {
    let mut best: Option<&Value> = None;
    for x in v.iter().filter(|x| !x.is_null()) {
        if best.is_none_or(|b| order(x, b) == want) {
            best = Some(x);
        }
    }
    best.cloned().unwrap_or(Value::Null)
}

/// Java's natural order: `Double.compareTo`, `String.compareTo` (UTF-16 units), signed bytes.
fn order(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => x.cmp(y),
        (Value::Bigint(x), Value::Bigint(y)) | (Value::Timestamp(x), Value::Timestamp(y)) => {
            x.cmp(y)
        }
        (Value::Date(x), Value::Date(y)) | (Value::Time(x), Value::Time(y)) => x.cmp(y),
        (Value::Double(x), Value::Double(y)) => x.total_cmp(y),
        (Value::Decimal(x, s), Value::Decimal(y, t)) => decimal::cmp((*x, *s), (*y, *t)),
        (Value::String(x), Value::String(y)) => x.encode_utf16().cmp(y.encode_utf16()),
        (Value::Bytes(x), Value::Bytes(y)) => {
            x.iter().map(|b| *b as i8).cmp(y.iter().map(|b| *b as i8))
        }
        _ => Ordering::Equal,
    }
}

fn geo_distance(v: &[Value]) -> Result<Value, String> {
    let mut c = [0f64; 4];
    for (slot, x) in c.iter_mut().zip(v) {
        match x {
            Value::Double(d) => *slot = *d,
            _ => return Err("geo_distance coordinates must not be NULL".into()),
        }
    }
    let [lat1, lon1, lat2, lon2] = c;
    if !(-90.0..=90.0).contains(&lat1)
        || !(-90.0..=90.0).contains(&lat2)
        || !(-180.0..=180.0).contains(&lon1)
        || !(-180.0..=180.0).contains(&lon2)
    {
        return Err("valid latitude values are -90 to 90 and longitude values -180 to 180".into());
    }
    let radius = match v.get(4) {
        None | Some(Value::Null) => 6371.0,
        Some(Value::String(u)) => match u.trim().to_lowercase().as_str() {
            "" | "km" | "kilometer" | "kilometers" | "kilometre" | "kilometres" => 6371.0,
            "mi" | "mile" | "miles" => 3959.0,
            other => {
                return Err(format!(
                    "GeoDistance function units parameter must be one of miles, mi, kilometers, km; got '{other}'"
                ));
            }
        },
        Some(other) => return Err(format!("bad unit {other:?}")),
    };
    let haversin = |x: f64| (x / 2.0).sin() * (x / 2.0).sin();
    let a = haversin(to_radians(lat2 - lat1))
        + haversin(to_radians(lon2 - lon1)) * to_radians(lat1).cos() * to_radians(lat2).cos();
    Ok(Value::Double(2.0 * a.sqrt().asin() * radius))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greatest_widens_decimals_and_orders_like_java() {
        let r = extreme_type(
            "greatest",
            &[Some(SqlType::decimal(9, 2)), Some(SqlType::decimal(7, 6))],
        )
        .unwrap();
        assert_eq!(r.ret, SqlType::decimal(13, 6));
        assert!(
            extreme_type("least", &[Some(SqlType::Int), Some(SqlType::Bigint)])
                .unwrap_err()
                .contains("ambiguous")
        );
        assert!(
            extreme_type("least", &[])
                .unwrap_err()
                .contains("does not accept parameters ()")
        );
        let s = |x: &str| Value::String(x.into());
        assert_eq!(
            extreme(&[s("Zebra"), Value::Null, s("aardvark")], Ordering::Less),
            s("Zebra")
        );
        assert_eq!(
            extreme(
                &[Value::Bytes(vec![0x7f]), Value::Bytes(vec![0x80])],
                Ordering::Greater
            ),
            Value::Bytes(vec![0x7f])
        );
        assert_eq!(
            extreme(&[Value::Null, Value::Null], Ordering::Greater),
            Value::Null
        );
    }

    #[test]
    fn geo_distance_and_pow() {
        let d = |x: f64| Value::Double(x);
        let km = geo_distance(&[d(37.4439), d(-122.1663), d(51.5257), d(-0.1122)]).unwrap();
        assert_eq!(km, d(8634.659796579544));
        assert_eq!(
            geo_distance(&[d(37.4439), d(-122.1663), d(51.0), d(0.0)]),
            Ok(d(8682.459061368269))
        );
        assert!(geo_distance(&[d(91.0), d(0.0), d(0.0), d(0.0)]).is_err());
        assert!(
            geo_distance(&[
                d(0.0),
                d(0.0),
                d(0.0),
                d(0.0),
                Value::String("parsec".into())
            ])
            .is_err()
        );
        assert!(java_pow(1.0, f64::NAN).is_nan());
        assert_eq!(java_pow(0.0, 0.0), 1.0);
    }
}
