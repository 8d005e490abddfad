//! Date and time functions: UNIX_TIMESTAMP, UNIX_DATE, FROM_UNIXTIME, FROM_DAYS, the Java-pattern
//! formatters and parsers (FORMAT_/PARSE_TIMESTAMP, _DATE, _TIME and the deprecated
//! TIMESTAMPTOSTRING, STRINGTOTIMESTAMP, DATETOSTRING, STRINGTODATE), CONVERT_TZ, and the
//! TIMESTAMPADD/SUB, DATEADD/SUB, TIMEADD/SUB arithmetic (in `datetime_arith`). Time zones
//! default to UTC.

use super::datetime_resolve::{self as resolve, MS_PER_DAY};
use super::datetime_zone::Zone;
use super::signature::mismatch;
use super::{Arg, FunctionRegistry, Resolved, can_widen};
use crate::common::{SqlType, Value};

type Overload<'a> = (&'a [SqlType], SqlType);

/// Picks the first overload the arguments fit: numeric widening, and STRING → TIMESTAMP, DATE
/// or TIME (parsed as ISO text), as ksqlDB's implicit casts allow.
pub(super) fn pick(name: &str, args: &[Arg], overloads: &[Overload]) -> Result<Resolved, String> {
    let fits = |arg: &Arg, param: &SqlType| match arg {
        None => true,
        Some(t) => {
            can_widen(t, param)
                || (*t == SqlType::String
                    && matches!(param, SqlType::Timestamp | SqlType::Date | SqlType::Time))
        }
    };
    overloads
        .iter()
        .find(|(params, _)| {
            params.len() == args.len() && args.iter().zip(params.iter()).all(|(a, p)| fits(a, p))
        })
        .map(|(params, ret)| Resolved {
            args: params.to_vec(),
            ret: ret.clone(),
        })
        .ok_or_else(|| mismatch(&name.to_ascii_lowercase(), args))
}

macro_rules! udf {
    ($r:expr, $name:literal, $desc:literal, [$(([$($p:expr),*], $ret:expr)),+], $invoke:expr) => {
        $r.add_udf($name, $desc, |a| pick($name, a, &[$((&[$($p),*], $ret)),+]), $invoke)
    };
}

pub fn register(r: &mut FunctionRegistry) {
    use SqlType::{Bigint, Date, Int, String as Str, Time, Timestamp};
    udf!(
        r,
        "UNIX_TIMESTAMP",
        "Milliseconds since the epoch of a TIMESTAMP, or of now.",
        [([], Bigint), ([Timestamp], Bigint)],
        |v| Ok(match v.first() {
            None => Value::Bigint(now_ms()),
            Some(Value::Timestamp(t)) => Value::Bigint(*t),
            Some(_) => Value::Null,
        })
    );
    udf!(
        r,
        "UNIX_DATE",
        "Days since the epoch of a DATE, or of today (UTC).",
        [([], Int), ([Date], Int)],
        |v| Ok(match v.first() {
            None => Value::Int(now_ms().div_euclid(MS_PER_DAY) as i32),
            Some(Value::Date(d)) => Value::Int(*d),
            Some(_) => Value::Null,
        })
    );
    udf!(
        r,
        "FROM_UNIXTIME",
        "The TIMESTAMP of milliseconds since the epoch.",
        [([Bigint], Timestamp)],
        |v| Ok(match &v[0] {
            Value::Bigint(ms) => Value::Timestamp(*ms),
            _ => Value::Null,
        })
    );
    udf!(
        r,
        "FROM_DAYS",
        "The DATE of days since the epoch.",
        [([Int], Date)],
        |v| Ok(match &v[0] {
            Value::Int(d) => Value::Date(*d),
            _ => Value::Null,
        })
    );
    udf!(
        r,
        "TIMESTAMPTOSTRING",
        "Formats epoch milliseconds with a Java pattern, in an optional zone.",
        [([Bigint, Str], Str), ([Bigint, Str, Str], Str)],
        |v| {
            let Value::Bigint(ms) = &v[0] else {
                return Ok(Value::Null);
            };
            resolve::format_timestamp(*ms, text(&v[1])?, &zone_arg(v.get(2))?).map(Value::String)
        }
    );
    udf!(
        r,
        "FORMAT_TIMESTAMP",
        "Formats a TIMESTAMP with a Java pattern, in an optional zone.",
        [([Timestamp, Str], Str), ([Timestamp, Str, Str], Str)],
        |v| {
            let Value::Timestamp(ms) = &v[0] else {
                return Ok(Value::Null);
            };
            resolve::format_timestamp(*ms, text(&v[1])?, &zone_arg(v.get(2))?).map(Value::String)
        }
    );
    udf!(
        r,
        "STRINGTOTIMESTAMP",
        "Parses text with a Java pattern into epoch milliseconds.",
        [([Str, Str], Bigint), ([Str, Str, Str], Bigint)],
        |v| parse_ts(v).map(|t| t.map_or(Value::Null, Value::Bigint))
    );
    udf!(
        r,
        "PARSE_TIMESTAMP",
        "Parses text with a Java pattern into a TIMESTAMP.",
        [([Str, Str], Timestamp), ([Str, Str, Str], Timestamp)],
        |v| parse_ts(v).map(|t| t.map_or(Value::Null, Value::Timestamp))
    );
    udf!(
        r,
        "DATETOSTRING",
        "Formats days since the epoch with a Java pattern.",
        [([Int, Str], Str)],
        |v| {
            let Value::Int(days) = &v[0] else {
                return Err("NULL days".into());
            };
            resolve::format_date(*days, text(&v[1])?).map(Value::String)
        }
    );
    udf!(
        r,
        "FORMAT_DATE",
        "Formats a DATE with a Java pattern.",
        [([Date, Str], Str)],
        |v| match (&v[0], &v[1]) {
            (Value::Date(days), Value::String(p)) =>
                resolve::format_date(*days, p).map(Value::String),
            _ => Ok(Value::Null),
        }
    );
    udf!(
        r,
        "STRINGTODATE",
        "Parses text with a Java pattern into days since the epoch.",
        [([Str, Str], Int)],
        |v| {
            let Value::String(s) = &v[0] else {
                return Err("NULL date text".into());
            };
            resolve::string_to_date(s, text(&v[1])?).map(Value::Int)
        }
    );
    udf!(
        r,
        "PARSE_DATE",
        "Parses text with a Java pattern into a DATE.",
        [([Str, Str], Date)],
        |v| match (&v[0], &v[1]) {
            (Value::String(s), Value::String(p)) => resolve::parse_date(s, p).map(Value::Date),
            _ => Ok(Value::Null),
        }
    );
    udf!(
        r,
        "FORMAT_TIME",
        "Formats a TIME with a Java pattern.",
        [([Time, Str], Str)],
        |v| match (&v[0], &v[1]) {
            (Value::Time(ms), Value::String(p)) => resolve::format_time(*ms, p).map(Value::String),
            _ => Ok(Value::Null),
        }
    );
    udf!(
        r,
        "PARSE_TIME",
        "Parses text with a Java pattern into a TIME.",
        [([Str, Str], Time)],
        |v| match (&v[0], &v[1]) {
            (Value::String(s), Value::String(p)) => resolve::parse_time(s, p).map(Value::Time),
            _ => Ok(Value::Null),
        }
    );
    udf!(
        r,
        "CONVERT_TZ",
        "Converts a TIMESTAMP from one time zone to another.",
        [([Timestamp, Str, Str], Timestamp)],
        |v| match (&v[0], &v[1], &v[2]) {
            (Value::Timestamp(ms), Value::String(from), Value::String(to)) => {
                let (from, to) = (Zone::of(from)?, Zone::of(to)?);
                Ok(Value::Timestamp(
                    ms + i64::from(to.offset_at(*ms) - from.offset_at(*ms)) * 1000,
                ))
            }
            _ => Ok(Value::Null),
        }
    );
    super::datetime_arith::register(r);
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// A STRING argument; NULL is an error (ksqlDB's UDFs throw on it).
fn text(v: &Value) -> Result<&str, String> {
    match v {
        Value::String(s) => Ok(s),
        _ => Err("NULL pattern".into()),
    }
}

/// The optional time-zone argument: UTC when absent.
fn zone_arg(v: Option<&Value>) -> Result<Zone, String> {
    match v {
        None => Ok(Zone::utc()),
        Some(Value::String(id)) => Zone::of(id),
        Some(_) => Err("NULL time zone".into()),
    }
}

fn parse_ts(v: &[Value]) -> Result<Option<i64>, String> {
    let Value::String(s) = &v[0] else {
        return Ok(None);
    };
    let zone = match v.get(2) {
        None => None,
        Some(z) => Some(zone_arg(Some(z))?),
    };
    resolve::parse_timestamp(s, text(&v[1])?, zone.as_ref()).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::functions::test_support::{invoke as call, s};

    #[test]
    fn resolution_messages_and_implicit_casts() {
        let mut r = FunctionRegistry::default();
        register(&mut r);
        let err = r
            .get("FORMAT_DATE")
            .unwrap()
            .resolve(&[Some(SqlType::Timestamp), Some(SqlType::String)])
            .unwrap_err();
        assert_eq!(
            err,
            "Function 'format_date' does not accept parameters (TIMESTAMP, STRING)."
        );
        let ok = r
            .get("FORMAT_TIMESTAMP")
            .unwrap()
            .resolve(&[Some(SqlType::String), Some(SqlType::String)])
            .unwrap();
        assert_eq!(
            ok.args[0],
            SqlType::Timestamp,
            "STRING is implicitly cast to TIMESTAMP"
        );
        assert_eq!(
            r.get("UNIX_DATE").unwrap().resolve(&[]).unwrap().ret,
            SqlType::Int
        );
    }

    #[test]
    fn zones_and_nulls() {
        assert_eq!(
            call(
                "CONVERT_TZ",
                &[Value::Timestamp(100), s("+0200"), s("+0500")]
            ),
            Ok(Value::Timestamp(10_800_100))
        );
        assert_eq!(
            call(
                "CONVERT_TZ",
                &[
                    Value::Timestamp(1_589_234_313_000),
                    s("America/Los_Angeles"),
                    s("America/New_York")
                ]
            ),
            Ok(Value::Timestamp(1_589_245_113_000))
        );
        assert!(call("CONVERT_TZ", &[Value::Timestamp(0), s("PST"), s("UTC")]).is_err());
        assert_eq!(
            call("FORMAT_TIMESTAMP", &[Value::Null, s("yyyy")]),
            Ok(Value::Null)
        );
        assert_eq!(
            call(
                "TIMESTAMPTOSTRING",
                &[
                    Value::Bigint(1_526_075_913_000),
                    s("yyyy-MM-dd HH:mm:ss zzz"),
                    s("Europe/London")
                ]
            ),
            Ok(s("2018-05-11 22:58:33 BST"))
        );
        assert!(call("STRINGTODATE", &[s("foo"), s("yyyyMMdd")]).is_err());
        assert_eq!(
            call("STRINGTODATE", &[s("01-Jan-2022"), s("dd-MMM-yyyy")]),
            Ok(Value::Int(18_993))
        );
    }
}
