//! Java `DateTimeFormatter.ofPattern` patterns: compiling a pattern and formatting a date, time
//! or zoned date-time with it (English text). Parsing is in `datetime_parse`; resolving parsed
//! fields into a date, a time or an instant (ksqlDB's defaults) is in `datetime_resolve`.

use super::datetime_parse::OffsetSpec;
use super::datetime_zone::{Zone, format_offset_gmt};
use chrono::{Datelike, NaiveDate, NaiveTime, Timelike};

/// One element of a compiled pattern.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    Lit(String),
    /// A pattern letter and how many times it repeats.
    Field(char, usize),
    /// `[...]`: printed when possible, skipped when it does not parse.
    Optional(Vec<Item>),
}

/// Compiles a pattern, rejecting what `ofPattern` rejects (and letters Brook does not support).
pub fn compile(pattern: &str) -> Result<Vec<Item>, String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut stack: Vec<Vec<Item>> = vec![Vec::new()];
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let top = stack.last_mut().ok_or("bad pattern")?;
        if c == '\'' {
            let mut lit = String::new();
            let mut j = i + 1;
            if chars.get(j) == Some(&'\'') {
                top.push(Item::Lit("'".into()));
                i += 2;
                continue;
            }
            loop {
                match chars.get(j) {
                    None => {
                        return Err(format!(
                            "Pattern ends with an incomplete string literal: {pattern}"
                        ));
                    }
                    Some('\'') if chars.get(j + 1) == Some(&'\'') => {
                        lit.push('\'');
                        j += 2;
                    }
                    Some('\'') => break,
                    Some(&other) => {
                        lit.push(other);
                        j += 1;
                    }
                }
            }
            top.push(Item::Lit(lit));
            i = j + 1;
        } else if c == '[' {
            stack.push(Vec::new());
            i += 1;
        } else if c == ']' {
            if stack.len() < 2 {
                return Err("Pattern invalid as it contains ] without previous [".into());
            }
            let items = stack.pop().unwrap_or_default();
            stack
                .last_mut()
                .ok_or("bad pattern")?
                .push(Item::Optional(items));
            i += 1;
        } else if c.is_ascii_alphabetic() {
            let mut n = 1;
            while chars.get(i + n) == Some(&c) {
                n += 1;
            }
            check_letter(c, n)?;
            top.push(Item::Field(c, n));
            i += n;
        } else if matches!(c, '{' | '}' | '#') {
            return Err(format!("Pattern includes reserved character: '{c}'"));
        } else {
            top.push(Item::Lit(c.to_string()));
            i += 1;
        }
    }
    if stack.len() != 1 {
        return Err(format!(
            "Pattern has an unclosed optional section: {pattern}"
        ));
    }
    Ok(stack.pop().unwrap_or_default())
}

fn check_letter(c: char, n: usize) -> Result<(), String> {
    let max = match c {
        'y' | 'u' | 'A' | 'n' | 'N' => 19,
        'G' | 'Q' | 'q' | 'M' | 'L' | 'E' | 'X' | 'x' | 'Z' => 5,
        'z' => 4,
        'S' => 9,
        'D' => 3,
        'd' | 'h' | 'K' | 'k' | 'H' | 'm' | 's' => 2,
        'a' => 1,
        'V' if n == 2 => 2,
        'V' => return Err("Pattern letter count must be 2: V".into()),
        'O' if n == 1 || n == 4 => 4,
        'O' => return Err("Pattern letter count must be 1 or 4: O".into()),
        'Y' | 'w' | 'W' | 'e' | 'c' | 'F' | 'B' | 'g' => {
            return Err(format!("Pattern letter '{c}' is not supported"));
        }
        _ => return Err(format!("Unknown pattern letter: {c}")),
    };
    if n > max {
        Err(format!("Too many pattern letters: {c}"))
    } else {
        Ok(())
    }
}

/// What a value to format has: a date, a time of day (with nanoseconds), a zone.
pub struct Moment {
    pub date: Option<NaiveDate>,
    pub time: Option<NaiveTime>,
    /// The zone, its offset in seconds and its short name at the instant.
    pub zone: Option<(Zone, i32, String)>,
}

pub const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
pub const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// Formats `m`; a field the value does not have (e.g. an hour of a DATE) is an error.
pub fn format(items: &[Item], m: &Moment) -> Result<String, String> {
    let mut out = String::new();
    for item in items {
        match item {
            Item::Lit(s) => out.push_str(s),
            Item::Field(c, n) => format_field(*c, *n, m, &mut out)?,
            Item::Optional(inner) => {
                if let Ok(s) = format(inner, m) {
                    out.push_str(&s);
                }
            }
        }
    }
    Ok(out)
}

fn format_field(c: char, n: usize, m: &Moment, out: &mut String) -> Result<(), String> {
    let unsupported = |what: &str| format!("Unsupported field: {what}");
    let date = || m.date.ok_or_else(|| unsupported("YearOfEra"));
    let time = || m.time.ok_or_else(|| unsupported("HourOfDay"));
    let zone = || {
        m.zone
            .as_ref()
            .ok_or_else(|| "Unable to extract ZoneId from temporal".to_string())
    };
    let num = |v: i64, out: &mut String| out.push_str(&pad(v, if n == 1 { 1 } else { n }));
    match c {
        'G' => {
            let ad = date()?.year() > 0;
            out.push_str(match (n, ad) {
                (4, true) => "Anno Domini",
                (4, false) => "Before Christ",
                (5, true) => "A",
                (5, false) => "B",
                (_, true) => "AD",
                (_, false) => "BC",
            });
        }
        'y' | 'u' => {
            let year = i64::from(date()?.year());
            let v = if c == 'y' && year <= 0 {
                1 - year
            } else {
                year
            };
            match n {
                2 => out.push_str(&pad(v.rem_euclid(100), 2)),
                1 | 3 => out.push_str(&pad(v, n)),
                _ => {
                    if v >= 0 && v.to_string().len() > n {
                        out.push('+');
                    }
                    out.push_str(&pad(v, n));
                }
            }
        }
        'Q' | 'q' => {
            let q = i64::from(date()?.month0() / 3 + 1);
            match n {
                3 => out.push_str(&format!("Q{q}")),
                4 => out.push_str(
                    ["1st quarter", "2nd quarter", "3rd quarter", "4th quarter"][(q - 1) as usize],
                ),
                _ => num(q, out),
            }
        }
        'M' | 'L' => {
            let month = date()?.month0() as usize;
            match n {
                3 => out.push_str(&MONTHS[month][..3]),
                4 => out.push_str(MONTHS[month]),
                5 => out.push_str(&MONTHS[month][..1]),
                _ => num(month as i64 + 1, out),
            }
        }
        'd' => num(i64::from(date()?.day()), out),
        'D' => num(i64::from(date()?.ordinal()), out),
        'E' => {
            let day = DAYS[date()?.weekday().num_days_from_monday() as usize];
            out.push_str(match n {
                4 => day,
                5 => &day[..1],
                _ => &day[..3],
            });
        }
        'a' => out.push_str(if time()?.hour() < 12 { "AM" } else { "PM" }),
        'H' => num(i64::from(time()?.hour()), out),
        'k' => num(i64::from((time()?.hour() + 23) % 24 + 1), out),
        'K' => num(i64::from(time()?.hour() % 12), out),
        'h' => num(i64::from((time()?.hour() + 11) % 12 + 1), out),
        'm' => num(i64::from(time()?.minute()), out),
        's' => num(i64::from(time()?.second()), out),
        'S' => out.push_str(&format!("{:09}", time()?.nanosecond().min(999_999_999))[..n]),
        'n' => num(i64::from(time()?.nanosecond()), out),
        'A' => num(
            i64::from(time()?.num_seconds_from_midnight()) * 1000
                + i64::from(time()?.nanosecond() / 1_000_000),
            out,
        ),
        'N' => num(
            i64::from(time()?.num_seconds_from_midnight()) * 1_000_000_000
                + i64::from(time()?.nanosecond()),
            out,
        ),
        'V' => out.push_str(&zone()?.0.id()),
        'z' => out.push_str(&zone()?.2),
        'O' => {
            let secs = zone()?.1;
            if n == 4 || secs == 0 {
                out.push_str(&format_offset_gmt(secs));
            } else {
                let a = secs.unsigned_abs();
                let sign = if secs < 0 { '-' } else { '+' };
                out.push_str(&format!("GMT{sign}{}", a / 3600));
                if a % 3600 != 0 {
                    out.push_str(&format!(":{:02}", a / 60 % 60));
                }
                if a % 60 != 0 {
                    out.push_str(&format!(":{:02}", a % 60));
                }
            }
        }
        'X' | 'x' | 'Z' => {
            let secs = zone()?.1;
            if c == 'Z' && n == 4 {
                out.push_str(&format_offset_gmt(secs));
            } else {
                let spec = OffsetSpec::of(c, n);
                out.push_str(&if secs == 0 {
                    spec.zero.to_string()
                } else {
                    spec.print(secs)
                });
            }
        }
        other => return Err(format!("Pattern letter '{other}' is not supported")),
    }
    Ok(())
}

/// Zero-padded to `width` digits, `-` before negative numbers.
fn pad(v: i64, width: usize) -> String {
    let digits = format!("{:0width$}", v.unsigned_abs());
    if v < 0 { format!("-{digits}") } else { digits }
}
