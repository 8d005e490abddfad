//! STDDEV_SAMPLE (alias STDDEV_SAMP) and CORRELATION, over running sums kept as DOUBLEs.

use super::basic::as_f64;
use super::{CallArgs, ResolvedUdaf, Udaf, no_overload, resolved};
use crate::common::{SqlType, Value};

fn doubles(acc: &Value, n: usize) -> Vec<f64> {
    let mut out = vec![0.0; n];
    if let Value::Array(items) = acc {
        for (slot, v) in out.iter_mut().zip(items) {
            *slot = as_f64(v).unwrap_or(0.0);
        }
    }
    out
}

fn pack(parts: &[f64]) -> Value {
    Value::Array(parts.iter().map(|d| Value::Double(*d)).collect())
}

/// STDDEV_SAMPLE: Welford's running count, mean and sum of squared deviations. ksqlDB's older
/// STDDEV_SAMP returns the sample variance (no square root), which is kept for compatibility.
struct StdDev {
    sqrt: bool,
}

impl Udaf for StdDev {
    fn init(&self) -> Value {
        pack(&[0.0, 0.0, 0.0])
    }
    fn add(&self, acc: Value, args: &[Value], _offset: i64) -> Result<Value, String> {
        let Some(x) = args.first().and_then(as_f64) else {
            return Ok(acc);
        };
        let [count, mean, m2] = doubles(&acc, 3)[..] else {
            return Ok(acc);
        };
        let count = count + 1.0;
        let delta = x - mean;
        let mean = mean + delta / count;
        Ok(pack(&[count, mean, m2 + delta * (x - mean)]))
    }
    fn undo(&self, acc: Value, args: &[Value]) -> Result<Value, String> {
        let Some(x) = args.first().and_then(as_f64) else {
            return Ok(acc);
        };
        let [count, mean, m2] = doubles(&acc, 3)[..] else {
            return Ok(acc);
        };
        if count <= 1.0 {
            return Ok(self.init());
        }
        let count = count - 1.0;
        let old_mean = (mean * (count + 1.0) - x) / count;
        Ok(pack(&[count, old_mean, m2 - (x - old_mean) * (x - mean)]))
    }
    fn merge(&self, a: Value, b: Value) -> Value {
        let (a, b) = (doubles(&a, 3), doubles(&b, 3));
        let count = a[0] + b[0];
        if count == 0.0 {
            return self.init();
        }
        let delta = b[1] - a[1];
        let mean = a[1] + delta * b[0] / count;
        pack(&[
            count,
            mean,
            a[2] + b[2] + delta * delta * a[0] * b[0] / count,
        ])
    }
    fn result(&self, acc: &Value) -> Value {
        let [count, _, m2] = doubles(acc, 3)[..] else {
            return Value::Double(0.0);
        };
        if count < 2.0 {
            return Value::Double(0.0);
        }
        let variance = m2 / (count - 1.0);
        Value::Double(if self.sqrt { variance.sqrt() } else { variance })
    }
    fn supports_undo(&self) -> bool {
        true
    }
}

fn stddev(name: &str, sqrt: bool, args: &CallArgs<'_>) -> Result<ResolvedUdaf, String> {
    match args.types {
        [t @ (SqlType::Int | SqlType::Bigint | SqlType::Double)] => {
            resolved(name, StdDev { sqrt }, SqlType::Double, vec![t.clone()])
        }
        other => Err(no_overload(name, other)),
    }
}

pub(super) fn stddev_sample(args: &CallArgs<'_>) -> Result<ResolvedUdaf, String> {
    stddev("STDDEV_SAMPLE", true, args)
}

pub(super) fn stddev_samp(args: &CallArgs<'_>) -> Result<ResolvedUdaf, String> {
    stddev("STDDEV_SAMP", false, args)
}

/// CORRELATION(x, y): Pearson's coefficient over rows where both are non-NULL.
struct Correlation;

/// Accumulator layout: count, Σx, Σy, Σx², Σy², Σxy.
const PARTS: usize = 6;

impl Correlation {
    fn step(acc: Value, args: &[Value], sign: f64) -> Value {
        let (Some(x), Some(y)) = (args.first().and_then(as_f64), args.get(1).and_then(as_f64))
        else {
            return acc;
        };
        let mut p = doubles(&acc, PARTS);
        for (slot, v) in p.iter_mut().zip([1.0, x, y, x * x, y * y, x * y]) {
            *slot += sign * v;
        }
        pack(&p)
    }
}

impl Udaf for Correlation {
    fn init(&self) -> Value {
        pack(&[0.0; PARTS])
    }
    fn add(&self, acc: Value, args: &[Value], _offset: i64) -> Result<Value, String> {
        Ok(Self::step(acc, args, 1.0))
    }
    fn undo(&self, acc: Value, args: &[Value]) -> Result<Value, String> {
        Ok(Self::step(acc, args, -1.0))
    }
    fn merge(&self, a: Value, b: Value) -> Value {
        let (a, b) = (doubles(&a, PARTS), doubles(&b, PARTS));
        pack(&a.iter().zip(&b).map(|(x, y)| x + y).collect::<Vec<_>>())
    }
    fn result(&self, acc: &Value) -> Value {
        let [n, sx, sy, sxx, syy, sxy] = doubles(acc, PARTS)[..] else {
            return Value::Double(f64::NAN);
        };
        let numerator = n * sxy - sx * sy;
        let denominator = (n * sxx - sx * sx).sqrt() * (n * syy - sy * sy).sqrt();
        Value::Double(numerator / denominator)
    }
    fn supports_undo(&self) -> bool {
        true
    }
}

pub(super) fn correlation(args: &CallArgs<'_>) -> Result<ResolvedUdaf, String> {
    let numeric = |t: &SqlType| matches!(t, SqlType::Int | SqlType::Bigint | SqlType::Double);
    match args.types {
        [x, y] if numeric(x) && numeric(y) => resolved(
            "CORRELATION",
            Correlation,
            SqlType::Double,
            vec![SqlType::Double, SqlType::Double],
        ),
        other => Err(no_overload("CORRELATION", other)),
    }
}
