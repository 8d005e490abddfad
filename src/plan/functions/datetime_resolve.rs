//! Resolving fields parsed with a Java pattern into a date, a time of day or an instant, with
//! ksqlDB's defaults (1970-01-01T00:00:00.000, UTC unless the text or an argument names a zone)
//! and Java's SMART resolver (day-of-month clamped to the month, day-of-week cross-checked);
//! and the entry points the date/time functions and the decoder's TIMESTAMP_FORMAT use.

use super::datetime_parse;
use super::datetime_pattern::{self as pattern, Moment};
use super::datetime_zone::Zone;
use chrono::{Datelike, NaiveDate, NaiveTime};

pub const MS_PER_DAY: i64 = 86_400_000;

/// How a date is completed from parsed fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DateMode {
    /// Missing fields default to 1970-01-01; a day past the month's end is clamped (Java SMART).
    Defaults,
    /// As `Defaults`, but out-of-range days and months roll over (a lenient `Calendar`).
    Lenient,
    /// The year, month and day (or day of year) must all be in the text (`LocalDate.from`).
    Complete,
}

/// Fields read from text; `None` = not in the text.
#[derive(Clone, Debug, Default)]
pub struct Parsed {
    pub era: Option<i64>,
    pub year_of_era: Option<i64>,
    pub year: Option<i64>,
    pub quarter: Option<i64>,
    pub month: Option<i64>,
    pub day: Option<i64>,
    pub day_of_year: Option<i64>,
    pub day_of_week: Option<i64>,
    pub ampm: Option<i64>,
    pub hour_of_day: Option<i64>,
    pub clock_hour_of_day: Option<i64>,
    pub hour_of_ampm: Option<i64>,
    pub clock_hour_of_ampm: Option<i64>,
    pub minute: Option<i64>,
    pub second: Option<i64>,
    pub nano: Option<i64>,
    pub milli_of_day: Option<i64>,
    pub nano_of_day: Option<i64>,
    /// Offset in seconds (`X`, `x`, `Z`, `O`).
    pub offset: Option<i32>,
    /// Zone (`z`, `VV`).
    pub zone: Option<Zone>,
}

impl Parsed {
    pub fn has_date_fields(&self) -> bool {
        [
            self.era,
            self.year_of_era,
            self.year,
            self.quarter,
            self.month,
            self.day,
            self.day_of_year,
            self.day_of_week,
        ]
        .iter()
        .any(Option::is_some)
    }

    /// The date, completed according to `mode`.
    pub fn date(&self, mode: DateMode) -> Result<NaiveDate, String> {
        if mode == DateMode::Complete
            && ((self.year.is_none() && self.year_of_era.is_none())
                || (self.day_of_year.is_none() && (self.month.is_none() || self.day.is_none())))
        {
            return Err("Unable to obtain LocalDate from the parsed fields".into());
        }
        let year = match (self.year, self.year_of_era) {
            (Some(y), _) => y,
            (None, Some(yoe)) if self.era == Some(0) => 1 - yoe,
            (None, Some(yoe)) => yoe,
            (None, None) => 1970,
        };
        let year = i32::try_from(year).map_err(|_| format!("Invalid value for Year: {year}"))?;
        let date = match (self.day_of_year, self.month, self.day) {
            (Some(doy), None, None) => {
                NaiveDate::from_yo_opt(year, u32::try_from(doy).unwrap_or(0))
                    .ok_or_else(|| format!("Invalid date 'DayOfYear {doy}' in year {year}"))?
            }
            _ if mode == DateMode::Lenient => {
                let months = i64::from(year) * 12 + self.month.unwrap_or(1) - 1;
                let first = NaiveDate::from_ymd_opt(
                    months.div_euclid(12) as i32,
                    months.rem_euclid(12) as u32 + 1,
                    1,
                )
                .ok_or("date out of range")?;
                first
                    .checked_add_signed(chrono::Duration::days(self.day.unwrap_or(1) - 1))
                    .ok_or("date out of range")?
            }
            _ => {
                let month = self.month.unwrap_or(1);
                let day = self.day.unwrap_or(1);
                if !(1..=12).contains(&month) {
                    return Err(format!(
                        "Invalid value for MonthOfYear (valid values 1 - 12): {month}"
                    ));
                }
                if !(1..=31).contains(&day) {
                    return Err(format!(
                        "Invalid value for DayOfMonth (valid values 1 - 28/31): {day}"
                    ));
                }
                // SMART resolving clamps the day to the month's length.
                let (month, mut day) = (month as u32, day as u32);
                loop {
                    if let Some(d) = NaiveDate::from_ymd_opt(year, month, day) {
                        break d;
                    }
                    if day <= 28 {
                        return Err(format!("Invalid date in year {year}"));
                    }
                    day -= 1;
                }
            }
        };
        if let Some(dow) = self.day_of_week
            && i64::from(date.weekday().number_from_monday()) != dow
        {
            return Err(format!(
                "Conflict found: DayOfWeek {dow} differs from the one derived from {date}"
            ));
        }
        Ok(date)
    }

    /// The time of day; without an hour it is midnight if `default_midnight`, else an error.
    pub fn time(&self, default_midnight: bool) -> Result<NaiveTime, String> {
        let from_nanos = |n: i64| {
            NaiveTime::from_num_seconds_from_midnight_opt(
                (n / 1_000_000_000) as u32,
                (n % 1_000_000_000) as u32,
            )
        };
        if let Some(n) = self.nano_of_day {
            return from_nanos(n).ok_or_else(|| format!("Invalid value for NanoOfDay: {n}"));
        }
        if let Some(ms) = self.milli_of_day {
            return ms
                .checked_mul(1_000_000)
                .filter(|_| ms < MS_PER_DAY)
                .and_then(from_nanos)
                .ok_or_else(|| format!("Invalid value for MilliOfDay: {ms}"));
        }
        let hour = match (
            self.hour_of_day,
            self.clock_hour_of_day,
            self.hour_of_ampm,
            self.clock_hour_of_ampm,
        ) {
            (Some(h), ..) => h,
            (None, Some(k), ..) if (1..=24).contains(&k) => k % 24,
            (None, None, Some(h), _) if (0..=11).contains(&h) => self.ampm.unwrap_or(0) * 12 + h,
            (None, None, None, Some(h)) if (1..=12).contains(&h) => {
                self.ampm.unwrap_or(0) * 12 + h % 12
            }
            (None, None, None, None) if default_midnight || self.ampm.is_some() => {
                self.ampm.unwrap_or(0) * 12
            }
            (None, None, None, None) => return Err("Unable to obtain LocalTime: no hour".into()),
            _ => return Err("Invalid value for the hour".into()),
        };
        let (minute, second, nano) = (
            self.minute.unwrap_or(0),
            self.second.unwrap_or(0),
            self.nano.unwrap_or(0),
        );
        if !(0..24).contains(&hour)
            || !(0..60).contains(&minute)
            || !(0..60).contains(&second)
            || !(0..1_000_000_000).contains(&nano)
        {
            return Err(format!("Invalid time {hour}:{minute}:{second}.{nano}"));
        }
        NaiveTime::from_hms_nano_opt(hour as u32, minute as u32, second as u32, nano as u32)
            .ok_or_else(|| "Invalid time".to_string())
    }
}

fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()
}

fn days_of(date: NaiveDate) -> Result<i32, String> {
    i32::try_from((date - epoch()).num_days()).map_err(|_| format!("date out of range: {date}"))
}

fn ms_of(t: NaiveTime) -> i32 {
    use chrono::Timelike;
    (t.num_seconds_from_midnight() * 1000 + t.nanosecond() / 1_000_000) as i32
}

/// PARSE_TIMESTAMP / STRINGTOTIMESTAMP / TIMESTAMP_FORMAT: epoch millis. A zone or offset in the
/// text wins over `zone`, which wins over UTC.
pub fn parse_timestamp(text: &str, pat: &str, zone: Option<&Zone>) -> Result<i64, String> {
    let items = pattern::compile(pat)?;
    let p = datetime_parse::parse(&items, text, false, false)?;
    let local = p.date(DateMode::Defaults)?.and_time(p.time(true)?);
    let zone = match (p.offset, &p.zone, zone) {
        (Some(secs), ..) => Zone::Fixed {
            secs,
            id: String::new(),
        },
        (None, Some(z), _) | (None, None, Some(z)) => z.clone(),
        (None, None, None) => Zone::utc(),
    };
    Ok(zone.local_to_epoch_ms(local))
}

/// PARSE_DATE: days since the epoch, as ksqlDB's `FastDateFormat` parses (case-insensitive,
/// trailing text ignored, missing fields 1970-01-01, days and months rolling over, a time of
/// day other than midnight rejected).
pub fn parse_date(text: &str, pat: &str) -> Result<i32, String> {
    let items = pattern::compile(pat)?;
    let p = datetime_parse::parse(&items, text, true, true)?;
    if p.time(true)? != NaiveTime::MIN {
        return Err("Date format contains time field.".into());
    }
    days_of(p.date(DateMode::Lenient)?)
}

/// STRINGTODATE: days since the epoch, as `LocalDate.parse` with a case-insensitive formatter
/// (all the text, and a complete date, must be there).
pub fn string_to_date(text: &str, pat: &str) -> Result<i32, String> {
    let items = pattern::compile(pat)?;
    let p = datetime_parse::parse(&items, text, true, false)?;
    days_of(p.date(DateMode::Complete)?)
}

/// PARSE_TIME: milliseconds of the day.
pub fn parse_time(text: &str, pat: &str) -> Result<i32, String> {
    let items = pattern::compile(pat)?;
    let p = datetime_parse::parse(&items, text, false, false)?;
    if p.has_date_fields() {
        return Err("Time format contains date field.".into());
    }
    p.time(false).map(ms_of)
}

/// FORMAT_TIMESTAMP / TIMESTAMPTOSTRING: the instant in `zone`.
pub fn format_timestamp(ms: i64, pat: &str, zone: &Zone) -> Result<String, String> {
    let items = pattern::compile(pat)?;
    let offset = zone.offset_at(ms);
    let local = chrono::DateTime::from_timestamp_millis(ms + i64::from(offset) * 1000)
        .ok_or_else(|| format!("timestamp out of range: {ms}"))?
        .naive_utc();
    let moment = Moment {
        date: Some(local.date()),
        time: Some(local.time()),
        zone: Some((zone.clone(), offset, zone.short_name_at(ms))),
    };
    pattern::format(&items, &moment)
}

/// FORMAT_DATE / DATETOSTRING.
pub fn format_date(days: i32, pat: &str) -> Result<String, String> {
    let items = pattern::compile(pat)?;
    let date = epoch()
        .checked_add_signed(chrono::Duration::days(i64::from(days)))
        .ok_or_else(|| format!("date out of range: {days}"))?;
    pattern::format(
        &items,
        &Moment {
            date: Some(date),
            time: None,
            zone: None,
        },
    )
}

/// FORMAT_TIME.
pub fn format_time(ms: i32, pat: &str) -> Result<String, String> {
    let items = pattern::compile(pat)?;
    let ms = u32::try_from(ms).map_err(|_| format!("time out of range: {ms}"))?;
    let time = NaiveTime::from_num_seconds_from_midnight_opt(ms / 1000, ms % 1000 * 1_000_000)
        .ok_or_else(|| format!("time out of range: {ms}"))?;
    pattern::format(
        &items,
        &Moment {
            date: None,
            time: Some(time),
            zone: None,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn la() -> Zone {
        Zone::of("America/Los_Angeles").unwrap()
    }

    #[test]
    fn parses_like_java() {
        assert_eq!(
            parse_timestamp("2018-05-11T21:58:33", "yyyy-MM-dd'T'HH:mm:ss", None),
            Ok(1_526_075_913_000)
        );
        // `PST` in the text means Los Angeles, daylight time applies in May.
        assert_eq!(
            parse_timestamp("2018-05-11T21:58:33 PST", "yyyy-MM-dd'T'HH:mm:ss zzz", None),
            Ok(1_526_101_113_000)
        );
        assert_eq!(
            parse_timestamp(
                "2019-08-27T13:31:09.2+0000",
                "yyyy-MM-dd'T'HH:mm:ss.SX",
                None
            ),
            Ok(1_566_912_669_200)
        );
        assert_eq!(
            parse_timestamp("2018-05-11T21:58:33Z", "yyyy-MM-dd'T'HH:mm:ssX", None),
            Ok(1_526_075_913_000)
        );
        assert_eq!(
            parse_timestamp("18-05-11 21:58:33+01", "yy-MM-dd HH:mm:ssX", None),
            Ok(1_526_072_313_000)
        );
        assert_eq!(
            parse_timestamp("2018-05-11 14:58:33", "yyyy-MM-dd HH:mm:ss", Some(&la())),
            Ok(1_526_075_913_000)
        );
        // Adjacent value parsing: yyyy leaves the digits MMdd needs.
        assert_eq!(
            parse_timestamp("20180511", "yyyyMMdd", None),
            Ok(17_662 * MS_PER_DAY)
        );
        assert_eq!(
            parse_timestamp("12:00 PM", "hh:mm a", None),
            Ok(12 * 3_600_000)
        );
        assert!(parse_timestamp("2018-05-11", "yyyy-MM-dd HH", None).is_err());
        assert!(
            parse_timestamp("2018-05-11x", "yyyy-MM-dd", None).is_err(),
            "trailing text"
        );
        assert!(
            parse_timestamp("2018-5-11", "yyyy-MM-dd", None).is_err(),
            "MM needs two digits"
        );
        assert!(
            parse_timestamp("2018-05-11", "yyyy-MM-dd [HH", None).is_err(),
            "unclosed optional section"
        );
        assert_eq!(
            parse_timestamp("2018-05-11", "yyyy-MM-dd[ HH:mm]", None),
            Ok(17_662 * MS_PER_DAY)
        );
    }

    #[test]
    fn parses_dates_case_insensitively_with_defaults() {
        assert_eq!(parse_date("2018-05-11Lit", "yyyy-MM-dd'Lit'"), Ok(17_662));
        assert_eq!(parse_date("01-JAN-2022", "dd-MMM-yyyy"), Ok(18_993));
        assert_eq!(parse_date("JAN-2022", "MMM-yyyy"), Ok(18_993));
        assert_eq!(
            parse_date("2003-12-24-01-01", "yyyy-MM-dd"),
            Ok(12_410),
            "trailing text is ignored"
        );
        assert_eq!(
            parse_date("2019-02-31", "yyyy-MM-dd"),
            Ok(17_958),
            "lenient: Feb 31 rolls over to Mar 3"
        );
        assert!(
            parse_date("2022-01-01 10", "yyyy-MM-dd HH").is_err(),
            "a time of day is rejected"
        );
        assert_eq!(parse_date("2022-01-01 00", "yyyy-MM-dd HH"), Ok(18_993));
        assert_eq!(
            string_to_date("2019-02-31", "yyyy-MM-dd"),
            Ok(17_955),
            "SMART resolver clamps to Feb 28"
        );
        assert!(
            string_to_date("JAN-2022", "MMM-yyyy").is_err(),
            "LocalDate needs a day"
        );
        assert!(string_to_date("2022-01-01x", "yyyy-MM-dd").is_err());
        assert!(
            string_to_date("Tue 2022-01-01", "EEE yyyy-MM-dd").is_err(),
            "2022-01-01 is a Saturday"
        );
        assert_eq!(parse_time("10:15:30.5", "HH:mm:ss.S"), Ok(36_930_500));
        assert!(parse_time("2022 10:15", "yyyy HH:mm").is_err());
    }

    #[test]
    fn formats_like_java() {
        assert_eq!(
            format_timestamp(1_526_075_913_000, "yyyy-MM-dd HH:mm:ss zzz", &la()).as_deref(),
            Ok("2018-05-11 14:58:33 PDT")
        );
        let london = Zone::of("Europe/London").unwrap();
        assert_eq!(
            format_timestamp(1_526_075_913_000, "yyyy-MM-dd HH:mm:ss zzz", &london).as_deref(),
            Ok("2018-05-11 22:58:33 BST")
        );
        assert_eq!(
            format_timestamp(
                1_526_075_913_123,
                "EEEE, MMMM d, yyyy h:mm:ss.SS a XXX",
                &la()
            )
            .as_deref(),
            Ok("Friday, May 11, 2018 2:58:33.12 PM -07:00")
        );
        assert_eq!(
            format_timestamp(0, "X x Z", &Zone::utc()).as_deref(),
            Ok("Z +00 +0000")
        );
        assert_eq!(
            format_date(-1, "dd-MM-yyyy'Sophia'").as_deref(),
            Ok("31-12-1969Sophia")
        );
        assert_eq!(
            format_date(18_993, "dd-MMM-yyyy").as_deref(),
            Ok("01-Jan-2022")
        );
        assert_eq!(format_date(18_993, "''yy''").as_deref(), Ok("'22'"));
        assert!(format_date(0, "yyyy HH").is_err(), "a date has no hour");
        assert!(format_time(0, "yyyy").is_err());
        assert_eq!(
            format_time(36_930_500, "hh:mm:ss.SSS a").as_deref(),
            Ok("10:15:30.500 AM")
        );
        assert!(format_date(0, "yyyy-MM-dd bb").is_err(), "unknown letter");
    }
}
