//! Java `ZoneId` semantics on top of chrono-tz: `ZoneId.of` (region ids, `Z`, `UTC`/`GMT`/`UT`,
//! offsets such as `+02:00`, `+0200`, `+2`, prefixed offsets such as `UTC+2`), the offset and
//! short name in force at an instant, `ZonedDateTime.ofLocal`'s gap/overlap rules, and the zone
//! names (`PST`, `CEST`, …) that the `z` pattern letter parses.

use chrono::{NaiveDateTime, Offset, TimeZone};
use chrono_tz::{OffsetName, Tz};

/// A time zone: a fixed offset (with Java's id for it) or a tz database region.
#[derive(Clone, Debug, PartialEq)]
pub enum Zone {
    Fixed { secs: i32, id: String },
    Region(Tz),
}

impl Zone {
    /// The zone Brook uses where ksqlDB uses the JVM's default zone.
    pub fn utc() -> Zone {
        Zone::Region(Tz::UTC)
    }

    /// `ZoneId.of(id)`: three-letter abbreviations such as `PST` are rejected, as in Java.
    pub fn of(id: &str) -> Result<Zone, String> {
        let unknown = || format!("Unknown time-zone ID: {id}");
        if id == "Z" {
            return Ok(Zone::Fixed {
                secs: 0,
                id: "Z".into(),
            });
        }
        if id.starts_with(['+', '-']) {
            let secs = parse_offset_id(id)
                .ok_or_else(|| format!("Invalid ID for ZoneOffset, invalid format: {id}"))?;
            return Ok(Zone::Fixed {
                secs,
                id: offset_id(secs),
            });
        }
        for prefix in ["UTC", "GMT", "UT"] {
            if id == prefix {
                return Ok(match prefix {
                    "UTC" => Zone::Region(Tz::UTC),
                    "GMT" => Zone::Region(Tz::GMT),
                    _ => Zone::Fixed {
                        secs: 0,
                        id: "UT".into(),
                    },
                });
            }
            if let Some(rest) = id.strip_prefix(prefix)
                && rest.starts_with(['+', '-'])
            {
                let secs = parse_offset_id(rest).ok_or_else(unknown)?;
                let suffix = if secs == 0 {
                    String::new()
                } else {
                    offset_id(secs)
                };
                return Ok(Zone::Fixed {
                    secs,
                    id: format!("{prefix}{suffix}"),
                });
            }
        }
        id.parse::<Tz>().map(Zone::Region).map_err(|_| unknown())
    }

    /// The offset from UTC in seconds at the instant `epoch_ms`.
    pub fn offset_at(&self, epoch_ms: i64) -> i32 {
        match self {
            Zone::Fixed { secs, .. } => *secs,
            Zone::Region(tz) => match chrono::DateTime::from_timestamp_millis(epoch_ms) {
                Some(t) => tz
                    .offset_from_utc_datetime(&t.naive_utc())
                    .fix()
                    .local_minus_utc(),
                None => 0,
            },
        }
    }

    /// The zone's id, as Java's `ZoneId.getId` (pattern letters `VV`).
    pub fn id(&self) -> String {
        match self {
            Zone::Fixed { id, .. } => id.clone(),
            Zone::Region(tz) => tz.name().to_string(),
        }
    }

    /// The short display name at an instant (pattern letter `z`), e.g. `PDT`, `BST`, `UTC`.
    pub fn short_name_at(&self, epoch_ms: i64) -> String {
        match self {
            Zone::Fixed { id, .. } => id.clone(),
            Zone::Region(tz) => {
                let Some(t) = chrono::DateTime::from_timestamp_millis(epoch_ms) else {
                    return self.id();
                };
                let offset = tz.offset_from_utc_datetime(&t.naive_utc());
                match offset.abbreviation() {
                    Some(a) if !a.starts_with(['+', '-']) => a.to_string(),
                    _ => format_offset_gmt(offset.fix().local_minus_utc()),
                }
            }
        }
    }

    /// Epoch millis of a local date-time in this zone: in an overlap the earlier offset wins,
    /// in a gap the time moves forward by the gap's length (`ZonedDateTime.ofLocal`).
    pub fn local_to_epoch_ms(&self, local: NaiveDateTime) -> i64 {
        let naive_ms = local.and_utc().timestamp_millis();
        match self {
            Zone::Fixed { secs, .. } => naive_ms - i64::from(*secs) * 1000,
            Zone::Region(tz) => match tz.from_local_datetime(&local) {
                chrono::LocalResult::Single(t) => t.timestamp_millis(),
                chrono::LocalResult::Ambiguous(earlier, _) => earlier.timestamp_millis(),
                chrono::LocalResult::None => {
                    // The offset before the gap: the one in force a day earlier.
                    let before = self.offset_at(naive_ms - 86_400_000);
                    naive_ms - i64::from(before) * 1000
                }
            },
        }
    }
}

/// `ZoneOffset.of` text: `+h`, `+hh`, `+hh:mm`, `+hhmm`, `+hh:mm:ss`, `+hhmmss`.
pub fn parse_offset_id(s: &str) -> Option<i32> {
    let sign = match s.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let body = &s[1..];
    let digits = |t: &str| -> Option<i32> {
        (t.len() == 2 && t.bytes().all(|b| b.is_ascii_digit()))
            .then(|| t.parse().ok())
            .flatten()
    };
    let (h, m, sec) = match body.len() {
        1 if body.as_bytes()[0].is_ascii_digit() => (body.parse().ok()?, 0, 0),
        2 => (digits(body)?, 0, 0),
        4 => (digits(&body[..2])?, digits(&body[2..])?, 0),
        5 if &body[2..3] == ":" => (digits(&body[..2])?, digits(&body[3..])?, 0),
        6 => (
            digits(&body[..2])?,
            digits(&body[2..4])?,
            digits(&body[4..])?,
        ),
        8 if &body[2..3] == ":" && &body[5..6] == ":" => (
            digits(&body[..2])?,
            digits(&body[3..5])?,
            digits(&body[6..])?,
        ),
        _ => return None,
    };
    if h > 18 || m > 59 || sec > 59 || (h == 18 && (m > 0 || sec > 0)) {
        return None;
    }
    Some(sign * (h * 3600 + m * 60 + sec))
}

/// Java's `ZoneOffset.getId`: `Z`, `+02:00`, `-04:30:15`.
pub fn offset_id(secs: i32) -> String {
    if secs == 0 {
        return "Z".into();
    }
    let a = secs.unsigned_abs();
    let sign = if secs < 0 { '-' } else { '+' };
    let base = format!("{sign}{:02}:{:02}", a / 3600, a / 60 % 60);
    if a.is_multiple_of(60) {
        base
    } else {
        format!("{base}:{:02}", a % 60)
    }
}

/// `GMT+08:00` style (pattern `OOOO`, and short names of zones without an abbreviation).
pub fn format_offset_gmt(secs: i32) -> String {
    if secs == 0 {
        return "GMT".into();
    }
    let a = secs.unsigned_abs();
    let sign = if secs < 0 { '-' } else { '+' };
    let base = format!("GMT{sign}{:02}:{:02}", a / 3600, a / 60 % 60);
    if a.is_multiple_of(60) {
        base
    } else {
        format!("{base}:{:02}", a % 60)
    }
}

/// Zone names the `z` letter parses (Java maps a short name to its main region, so `PST`
/// text parsed in May is in daylight time).
const ZONE_NAMES: &[(&str, &str)] = &[
    ("PST", "America/Los_Angeles"),
    ("PDT", "America/Los_Angeles"),
    ("PT", "America/Los_Angeles"),
    ("MST", "America/Denver"),
    ("MDT", "America/Denver"),
    ("CST", "America/Chicago"),
    ("CDT", "America/Chicago"),
    ("EST", "America/New_York"),
    ("EDT", "America/New_York"),
    ("AKST", "America/Anchorage"),
    ("AKDT", "America/Anchorage"),
    ("HST", "Pacific/Honolulu"),
    ("BST", "Europe/London"),
    ("IST", "Asia/Kolkata"),
    ("CET", "CET"),
    ("CEST", "CET"),
    ("EET", "EET"),
    ("EEST", "EET"),
    ("WET", "WET"),
    ("WEST", "WET"),
    ("MSK", "Europe/Moscow"),
    ("JST", "Asia/Tokyo"),
    ("KST", "Asia/Seoul"),
    ("HKT", "Asia/Hong_Kong"),
    ("SGT", "Asia/Singapore"),
    ("AEST", "Australia/Sydney"),
    ("AEDT", "Australia/Sydney"),
    ("ACST", "Australia/Adelaide"),
    ("ACDT", "Australia/Adelaide"),
    ("AWST", "Australia/Perth"),
    ("NZST", "Pacific/Auckland"),
    ("NZDT", "Pacific/Auckland"),
    ("SAST", "Africa/Johannesburg"),
];

/// Parses a zone name or id at the start of `text` (longest match); returns it and its length.
pub fn parse_zone_text(text: &str, ids_only: bool) -> Option<(Zone, usize)> {
    let run = text
        .bytes()
        .take_while(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'/' | b'_' | b'-' | b'+' | b':' | b'~' | b'.')
        })
        .count();
    let candidate = &text[..run];
    for len in (1..=run).rev() {
        let s = &candidate[..len];
        if !ids_only && let Some((_, region)) = ZONE_NAMES.iter().find(|(n, _)| *n == s) {
            return region.parse::<Tz>().ok().map(|tz| (Zone::Region(tz), len));
        }
        if let Ok(zone) = Zone::of(s) {
            return Some((zone, len));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zone_ids_follow_java() {
        assert_eq!(Zone::of("+0200").unwrap().id(), "+02:00");
        assert_eq!(Zone::of("+2").unwrap().offset_at(0), 7200);
        assert_eq!(Zone::of("UTC+05:30").unwrap().offset_at(0), 19800);
        assert!(
            Zone::of("PST").is_err(),
            "ZoneId.of rejects three-letter ids"
        );
        assert!(Zone::of("Mars/Olympus").is_err());
        let la = Zone::of("America/Los_Angeles").unwrap();
        assert_eq!(la.short_name_at(1_526_075_913_000), "PDT");
        assert_eq!(la.offset_at(1_526_075_913_000), -7 * 3600);
        assert_eq!(
            Zone::of("Europe/London")
                .unwrap()
                .short_name_at(1_526_075_913_000),
            "BST"
        );
    }

    #[test]
    fn local_times_in_gaps_move_forward() {
        let la = Zone::of("America/Los_Angeles").unwrap();
        // 2018-03-11 02:30 does not exist in Los Angeles: it becomes 03:30 PDT = 10:30Z.
        let gap =
            NaiveDateTime::parse_from_str("2018-03-11 02:30:00", "%Y-%m-%d %H:%M:%S").unwrap();
        assert_eq!(la.local_to_epoch_ms(gap), 1_520_764_200_000);
        // 2018-11-04 01:30 happens twice: the earlier (PDT) wins.
        let overlap =
            NaiveDateTime::parse_from_str("2018-11-04 01:30:00", "%Y-%m-%d %H:%M:%S").unwrap();
        assert_eq!(la.local_to_epoch_ms(overlap), 1_541_320_200_000);
    }

    #[test]
    fn zone_names_parse_to_regions() {
        let (zone, len) = parse_zone_text("PST rest", false).unwrap();
        assert_eq!((zone.id().as_str(), len), ("America/Los_Angeles", 3));
        assert_eq!(
            parse_zone_text("Europe/Paris", false).map(|(z, l)| (z.id(), l)),
            Some(("Europe/Paris".into(), 12))
        );
    }
}
