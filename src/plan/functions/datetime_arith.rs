//! TIMESTAMPADD, TIMESTAMPSUB, DATEADD, DATESUB, TIMEADD and TIMESUB: `(unit, INT n, value)`.
//! The unit (`DAYS`, `HOURS`, … `MILLISECONDS`, singular or plural) is a STRING argument: the
//! binder passes a bare unit keyword as its name. Java's `TimeUnit` conversions truncate toward
//! zero (so DATEADD(HOURS, -1, d) is d), and TIME wraps around midnight like `LocalTime.plus`.

use super::FunctionRegistry;
use super::datetime::pick;
use super::datetime_resolve::MS_PER_DAY;
use crate::common::{SqlType, Value};

pub fn register(r: &mut FunctionRegistry) {
    use SqlType::{Date, Int, String as Str, Time, Timestamp};
    r.add_udf(
        "TIMESTAMPADD",
        "Adds an interval to a TIMESTAMP.",
        |a| pick("TIMESTAMPADD", a, &[(&[Str, Int, Timestamp], Timestamp)]),
        |v| shift(v, 1),
    );
    r.add_udf(
        "TIMESTAMPSUB",
        "Subtracts an interval from a TIMESTAMP.",
        |a| pick("TIMESTAMPSUB", a, &[(&[Str, Int, Timestamp], Timestamp)]),
        |v| shift(v, -1),
    );
    r.add_udf(
        "DATEADD",
        "Adds an interval to a DATE.",
        |a| pick("DATEADD", a, &[(&[Str, Int, Date], Date)]),
        |v| shift(v, 1),
    );
    r.add_udf(
        "DATESUB",
        "Subtracts an interval from a DATE.",
        |a| pick("DATESUB", a, &[(&[Str, Int, Date], Date)]),
        |v| shift(v, -1),
    );
    r.add_udf(
        "TIMEADD",
        "Adds an interval to a TIME, wrapping around midnight.",
        |a| pick("TIMEADD", a, &[(&[Str, Int, Time], Time)]),
        |v| shift(v, 1),
    );
    r.add_udf(
        "TIMESUB",
        "Subtracts an interval from a TIME, wrapping around midnight.",
        |a| pick("TIMESUB", a, &[(&[Str, Int, Time], Time)]),
        |v| shift(v, -1),
    );
}

/// Nanoseconds in one unit named by a `TimeUnit`-style keyword (singular or plural).
fn unit_nanos(unit: &str) -> Result<i128, String> {
    let upper = unit.trim().to_ascii_uppercase();
    Ok(match upper.strip_suffix('S').unwrap_or(&upper) {
        "DAY" => 86_400_000_000_000,
        "HOUR" => 3_600_000_000_000,
        "MINUTE" => 60_000_000_000,
        "SECOND" => 1_000_000_000,
        "MILLISECOND" => 1_000_000,
        "MICROSECOND" => 1_000,
        "NANOSECOND" => 1,
        _ => return Err(format!("Unknown time unit: {unit}")),
    })
}

/// `(unit, n, value)` ± n units; any NULL gives NULL.
fn shift(v: &[Value], sign: i128) -> Result<Value, String> {
    let (Value::String(unit), Value::Int(n)) = (&v[0], &v[1]) else {
        return Ok(Value::Null);
    };
    let nanos = sign * i128::from(*n) * unit_nanos(unit)?;
    // Java's TimeUnit.toMillis truncates toward zero.
    let ms = nanos / 1_000_000;
    let day = i128::from(MS_PER_DAY);
    let clamp = |x: i128| x.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64;
    Ok(match &v[2] {
        Value::Timestamp(t) => Value::Timestamp(clamp(i128::from(*t) + ms)),
        // toDays(days in ms ± interval in ms), truncating toward zero.
        Value::Date(d) => Value::Date(((i128::from(*d) * day + ms) / day) as i32),
        Value::Time(t) => Value::Time(
            (i128::from(*t) * 1_000_000 + nanos)
                .rem_euclid(day * 1_000_000)
                .div_euclid(1_000_000) as i32,
        ),
        _ => Value::Null,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::functions::test_support::{invoke as call, s};

    #[test]
    fn interval_arithmetic_truncates_and_wraps() {
        assert_eq!(
            call("DATEADD", &[s("HOURS"), Value::Int(-1), Value::Date(0)]),
            Ok(Value::Date(0))
        );
        assert_eq!(
            call("DATEADD", &[s("HOURS"), Value::Int(25), Value::Date(3)]),
            Ok(Value::Date(4))
        );
        assert_eq!(
            call("DATESUB", &[s("DAYS"), Value::Int(5), Value::Date(3)]),
            Ok(Value::Date(-2))
        );
        assert_eq!(
            call(
                "TIMEADD",
                &[s("MILLISECONDS"), Value::Int(10), Value::Time(86_399_995)]
            ),
            Ok(Value::Time(5))
        );
        assert_eq!(
            call("TIMESUB", &[s("seconds"), Value::Int(1), Value::Time(0)]),
            Ok(Value::Time(86_399_000))
        );
        assert_eq!(
            call(
                "TIMESTAMPSUB",
                &[s("MINUTE"), Value::Int(1), Value::Timestamp(0)]
            ),
            Ok(Value::Timestamp(-60_000))
        );
        assert_eq!(
            call(
                "TIMESTAMPADD",
                &[s("DAYS"), Value::Null, Value::Timestamp(0)]
            ),
            Ok(Value::Null)
        );
        assert!(
            call(
                "TIMESTAMPADD",
                &[s("FORTNIGHTS"), Value::Int(1), Value::Timestamp(0)]
            )
            .is_err()
        );
    }

    #[test]
    fn unit_must_be_text_and_interval_an_int() {
        let mut r = FunctionRegistry::default();
        register(&mut r);
        let err = r
            .get("TIMEADD")
            .unwrap()
            .resolve(&[Some(SqlType::Time), Some(SqlType::Int), Some(SqlType::Time)])
            .unwrap_err();
        assert_eq!(
            err,
            "Function 'timeadd' does not accept parameters (TIME, INTEGER, TIME)."
        );
        let bigint = [
            Some(SqlType::String),
            Some(SqlType::Bigint),
            Some(SqlType::Time),
        ];
        assert!(
            r.get("TIMEADD").unwrap().resolve(&bigint).is_err(),
            "the interval is an INT"
        );
    }
}
