//! ISO text forms of TIMESTAMP, DATE and TIME as ksqlDB casts them (UTC), and base64 for BYTES.

use base64::Engine;
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Timelike};

const MS_PER_DAY: i64 = 86_400_000;

/// `yyyy-MM-ddTHH:mm:ss.SSS` (UTC).
pub fn format_timestamp_iso(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms)
        .map(|t| t.naive_utc().format("%Y-%m-%dT%H:%M:%S%.3f").to_string())
        .unwrap_or_else(|| ms.to_string())
}

pub fn format_date_iso(days: i32) -> String {
    epoch_date()
        .checked_add_signed(chrono::Duration::days(i64::from(days)))
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| days.to_string())
}

/// Java `LocalTime.toString`: `HH:mm`, `HH:mm:ss` or `HH:mm:ss.SSS`.
pub fn format_time_iso(ms: i32) -> String {
    let Some(t) = NaiveTime::from_num_seconds_from_midnight_opt(
        (ms / 1000) as u32,
        ((ms % 1000) * 1_000_000) as u32,
    ) else {
        return ms.to_string();
    };
    match (t.second(), ms % 1000) {
        (0, 0) => t.format("%H:%M").to_string(),
        (_, 0) => t.format("%H:%M:%S").to_string(),
        _ => t.format("%H:%M:%S%.3f").to_string(),
    }
}

fn epoch_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()
}

/// Accepts `yyyy-MM-dd['T'HH:mm[:ss[.SSS]]]` with an optional trailing `Z` or offset.
pub fn parse_timestamp_iso(s: &str) -> Result<i64, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.timestamp_millis());
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S%.f",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Ok(t.and_utc().timestamp_millis());
        }
    }
    parse_date_iso(s)
        .map(|d| i64::from(d) * MS_PER_DAY)
        .map_err(|_| format!("Failed to parse timestamp '{s}'"))
}

pub fn parse_date_iso(s: &str) -> Result<i32, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map(|d| (d - epoch_date()).num_days() as i32)
        .map_err(|_| format!("Failed to parse date '{s}'"))
}

pub fn parse_time_iso(s: &str) -> Result<i32, String> {
    for fmt in ["%H:%M:%S%.f", "%H:%M"] {
        if let Ok(t) = NaiveTime::parse_from_str(s, fmt) {
            return Ok((t.num_seconds_from_midnight() * 1000 + t.nanosecond() / 1_000_000) as i32);
        }
    }
    Err(format!("Failed to parse time '{s}'"))
}

pub fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Translates a Java `DateTimeFormatter` pattern to a chrono format string (common letters).
pub fn java_pattern_to_chrono(pattern: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            let mut j = i + 1;
            while j < chars.len() && chars[j] != '\'' {
                out.push(chars[j]);
                j += 1;
            }
            if j == i + 1 && j < chars.len() {
                out.push('\'');
            }
            i = j + 1;
            continue;
        }
        let mut n = 1;
        while i + n < chars.len() && chars[i + n] == c {
            n += 1;
        }
        let piece = match (c, n) {
            ('y' | 'u', 2) => "%y".to_string(),
            ('y' | 'u', _) => "%Y".to_string(),
            ('M', 1 | 2) => "%m".to_string(),
            ('M', 3) => "%b".to_string(),
            ('M', _) => "%B".to_string(),
            ('d', _) => "%d".to_string(),
            ('D', _) => "%j".to_string(),
            ('H', _) => "%H".to_string(),
            ('h', _) => "%I".to_string(),
            ('m', _) => "%M".to_string(),
            ('s', _) => "%S".to_string(),
            ('S', k) => format!("%{}f", k.min(9)),
            ('a', _) => "%p".to_string(),
            ('E', 1..=3) => "%a".to_string(),
            ('E', _) => "%A".to_string(),
            ('X' | 'x' | 'Z', _) => "%z".to_string(),
            ('z', _) => "%Z".to_string(),
            ('%', _) => "%%".repeat(n),
            (other, k) => other.to_string().repeat(k),
        };
        out.push_str(&piece);
        i += n;
    }
    out
}

/// Parses text with a Java `DateTimeFormatter` pattern into epoch milliseconds, as ksqlDB's
/// `TIMESTAMP_FORMAT` and PARSE_TIMESTAMP do: missing fields default to 1970-01-01T00:00:00.000,
/// a zone or offset in the text wins, else UTC.
pub fn parse_with_java_pattern(text: &str, pattern: &str) -> Result<i64, String> {
    crate::plan::functions::datetime_resolve::parse_timestamp(text, pattern, None)
        .map_err(|e| format!("Failed to parse timestamp '{text}' with formatter '{pattern}': {e}"))
}

/// Timestamps as ksqlDB accepts them where a string stands for a time (ROWTIME comparisons):
/// `yyyy-MM-dd['T'HH[:mm[:ss[.SSS]]]]` with an optional zone `Z`, `+HH`, `+HHmm` or `+HH:mm`.
pub fn parse_timestamp_lenient(s: &str) -> Result<i64, String> {
    let text = s.trim();
    let (body, offset_ms) = split_zone(text);
    let full = match body.len() {
        10 => format!("{body}T00:00:00.000"),
        13 => format!("{body}:00:00.000"),
        16 => format!("{body}:00.000"),
        19 => format!("{body}.000"),
        _ => body.to_string(),
    };
    let local = NaiveDateTime::parse_from_str(&full, "%Y-%m-%dT%H:%M:%S%.f")
        .map_err(|_| format!("Failed to parse timestamp '{s}'"))?;
    Ok(local.and_utc().timestamp_millis() - offset_ms)
}

fn split_zone(text: &str) -> (&str, i64) {
    if let Some(body) = text.strip_suffix('Z') {
        return (body, 0);
    }
    let Some(pos) = text.rfind(['+', '-']).filter(|p| *p > 10) else {
        return (text, 0);
    };
    let (body, zone) = text.split_at(pos);
    let sign = if zone.starts_with('-') { -1 } else { 1 };
    let digits: String = zone[1..].chars().filter(|c| c.is_ascii_digit()).collect();
    let hours: i64 = digits.get(..2).and_then(|h| h.parse().ok()).unwrap_or(0);
    let minutes: i64 = digits.get(2..4).and_then(|m| m.parse().ok()).unwrap_or(0);
    (body, sign * (hours * 3_600_000 + minutes * 60_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_round_trips() {
        assert_eq!(format_timestamp_iso(1_000), "1970-01-01T00:00:01.000");
        assert_eq!(parse_timestamp_iso("1970-01-01T00:00:01.000"), Ok(1_000));
        assert_eq!(parse_date_iso("1970-01-11"), Ok(10));
        assert_eq!(format_date_iso(-1), "1969-12-31");
        assert_eq!(format_time_iso(3_600_000), "01:00");
        assert_eq!(parse_time_iso("01:00:01"), Ok(3_601_000));
    }
}
