//! Parsing text with a compiled Java `DateTimeFormatter` pattern into [`Parsed`] fields: Java's
//! adjacent-value parsing (`yyyyMMdd`), optional sections, strict widths, English text
//! (optionally case-insensitive), zone names and ids, and offsets (`X`, `x`, `Z`, `O`).

use super::datetime_pattern::{DAYS, Item, MONTHS};
use super::datetime_resolve::Parsed;
use super::datetime_zone::parse_zone_text;

/// An offset pattern such as `+HH:MM:ss`: colons, minutes and seconds required or optional.
pub(super) struct OffsetSpec {
    colon: bool,
    minutes: Need,
    seconds: Need,
    pub(super) zero: &'static str,
}

#[derive(PartialEq, Clone, Copy)]
enum Need {
    No,
    Optional,
    Required,
}

impl OffsetSpec {
    pub(super) fn of(c: char, n: usize) -> OffsetSpec {
        use Need::*;
        let (colon, minutes, seconds) = match (c, n) {
            ('Z', 1..=3) => (false, Required, No),
            ('Z', _) => (true, Required, Optional),
            (_, 1) => (false, Optional, No),
            (_, 2) => (false, Required, No),
            (_, 3) => (true, Required, No),
            (_, 4) => (false, Required, Optional),
            _ => (true, Required, Optional),
        };
        let zero = match (c, n) {
            ('X', _) | ('Z', 5) => "Z",
            ('x', 1) => "+00",
            ('x', 3 | 5) => "+00:00",
            _ => "+0000",
        };
        OffsetSpec {
            colon,
            minutes,
            seconds,
            zero,
        }
    }

    pub(super) fn print(&self, secs: i32) -> String {
        let a = secs.unsigned_abs();
        let (h, m, s) = (a / 3600, a / 60 % 60, a % 60);
        let sep = if self.colon { ":" } else { "" };
        let mut out = format!("{}{h:02}", if secs < 0 { '-' } else { '+' });
        if self.minutes == Need::Required || (self.minutes == Need::Optional && (m != 0 || s != 0))
        {
            out.push_str(&format!("{sep}{m:02}"));
            if self.seconds == Need::Required || (self.seconds == Need::Optional && s != 0) {
                out.push_str(&format!("{sep}{s:02}"));
            }
        }
        out
    }

    /// Parses `+HH[:MM[:SS]]` (or the zero text) at the start of `text`.
    fn parse(&self, text: &str) -> Option<(i32, usize)> {
        if text.starts_with(self.zero)
            && !(self.zero.starts_with('+')
                && text[self.zero.len()..].starts_with(|c: char| c.is_ascii_digit()))
        {
            return Some((0, self.zero.len()));
        }
        let sign = match text.as_bytes().first()? {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        let two = |at: usize| -> Option<i32> {
            text.get(at..at + 2)
                .filter(|d| d.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|d| d.parse().ok())
        };
        let h = two(1)?;
        let mut pos = 3;
        let sep = usize::from(self.colon);
        let mut parts = [0; 2];
        for (i, need) in [self.minutes, self.seconds].into_iter().enumerate() {
            if need == Need::No {
                break;
            }
            let colon_ok = !self.colon || text[pos..].starts_with(':');
            match two(pos + sep).filter(|_| colon_ok) {
                Some(v) => {
                    parts[i] = v;
                    pos += sep + 2;
                }
                None if need == Need::Required => return None,
                None => break,
            }
        }
        if h > 18 || parts[0] > 59 || parts[1] > 59 {
            return None;
        }
        Some((sign * (h * 3600 + parts[0] * 60 + parts[1]), pos))
    }
}

/// Parses `text` with `items` (all of it unless `allow_trailing`); fields land in [`Parsed`].
pub fn parse(
    items: &[Item],
    text: &str,
    case_insensitive: bool,
    allow_trailing: bool,
) -> Result<Parsed, String> {
    let mut parsed = Parsed::default();
    let end = parse_items(items, text, 0, case_insensitive, &mut parsed)
        .map_err(|at| format!("Text '{text}' could not be parsed at index {at}"))?;
    if end != text.len() && !allow_trailing {
        return Err(format!(
            "Text '{text}' could not be parsed, unparsed text found at index {end}"
        ));
    }
    Ok(parsed)
}

/// The digits a numeric field takes: (min, max), or None for text fields.
fn widths(item: &Item) -> Option<(usize, usize)> {
    let Item::Field(c, n) = item else { return None };
    let n = *n;
    Some(match c {
        'y' | 'u' => match n {
            2 => (2, 2),
            _ => (n, 19),
        },
        'M' | 'L' | 'Q' | 'q' if n >= 3 => return None,
        'M' | 'L' | 'Q' | 'q' | 'd' | 'h' | 'K' | 'k' | 'H' | 'm' | 's' => {
            if n == 1 {
                (1, 19)
            } else {
                (2, 2)
            }
        }
        'D' => match n {
            1 => (1, 19),
            2 => (2, 3),
            _ => (3, 3),
        },
        'S' => (n, n),
        'A' | 'n' | 'N' => (n, 19),
        _ => return None,
    })
}

fn parse_items(
    items: &[Item],
    text: &str,
    mut pos: usize,
    ci: bool,
    p: &mut Parsed,
) -> Result<usize, usize> {
    for (i, item) in items.iter().enumerate() {
        match item {
            Item::Lit(s) => {
                let rest = &text[pos..];
                let ok = rest.len() >= s.len()
                    && rest.is_char_boundary(s.len())
                    && if ci {
                        rest[..s.len()].eq_ignore_ascii_case(s)
                    } else {
                        rest.starts_with(s.as_str())
                    };
                if !ok {
                    return Err(pos);
                }
                pos += s.len();
            }
            Item::Optional(inner) => {
                let mut attempt = p.clone();
                if let Ok(end) = parse_items(inner, text, pos, ci, &mut attempt) {
                    *p = attempt;
                    pos = end;
                }
            }
            Item::Field(c, n) => {
                pos = match widths(item) {
                    Some((min, max)) => {
                        // Adjacent value parsing: leave room for the fixed-width fields that follow.
                        let reserved: usize = if min == max {
                            0
                        } else {
                            items[i + 1..]
                                .iter()
                                .map_while(|it| widths(it).filter(|(a, b)| a == b).map(|(a, _)| a))
                                .sum()
                        };
                        parse_number(*c, *n, min, max, reserved, text, pos, p)?
                    }
                    None => parse_text_field(*c, *n, text, pos, ci, p)?,
                };
            }
        }
    }
    Ok(pos)
}

#[allow(clippy::too_many_arguments)]
fn parse_number(
    c: char,
    n: usize,
    min: usize,
    max: usize,
    reserved: usize,
    text: &str,
    pos: usize,
    p: &mut Parsed,
) -> Result<usize, usize> {
    let bytes = text.as_bytes();
    let negative = matches!(c, 'y' | 'u') && n != 2 && bytes.get(pos) == Some(&b'-');
    let plus = matches!(c, 'y' | 'u') && n >= 4 && bytes.get(pos) == Some(&b'+');
    let start = pos + usize::from(negative || plus);
    let available = bytes[start..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    let take = available.saturating_sub(reserved).min(max);
    if take < min || take == 0 {
        return Err(pos);
    }
    let digits = &text[start..start + take];
    let value: i64 = if c == 'S' {
        format!("{digits:0<9}").parse().map_err(|_| pos)?
    } else {
        digits.parse().map_err(|_| pos)?
    };
    let value = if negative { -value } else { value };
    let slot = match c {
        'y' => &mut p.year_of_era,
        'u' => &mut p.year,
        'M' | 'L' => &mut p.month,
        'Q' | 'q' => &mut p.quarter,
        'd' => &mut p.day,
        'D' => &mut p.day_of_year,
        'H' => &mut p.hour_of_day,
        'k' => &mut p.clock_hour_of_day,
        'K' => &mut p.hour_of_ampm,
        'h' => &mut p.clock_hour_of_ampm,
        'm' => &mut p.minute,
        's' => &mut p.second,
        'S' | 'n' => &mut p.nano,
        'A' => &mut p.milli_of_day,
        _ => &mut p.nano_of_day,
    };
    *slot = Some(if n == 2 && matches!(c, 'y' | 'u') {
        2000 + value
    } else {
        value
    });
    Ok(start + take)
}

fn parse_text_field(
    c: char,
    n: usize,
    text: &str,
    pos: usize,
    ci: bool,
    p: &mut Parsed,
) -> Result<usize, usize> {
    let rest = &text[pos..];
    let pick = |names: Vec<(String, i64)>| -> Result<(i64, usize), usize> {
        names
            .into_iter()
            .filter(|(name, _)| {
                rest.len() >= name.len()
                    && rest.is_char_boundary(name.len())
                    && if ci {
                        rest[..name.len()].eq_ignore_ascii_case(name)
                    } else {
                        rest.starts_with(name.as_str())
                    }
            })
            .max_by_key(|(name, _)| name.len())
            .map(|(name, v)| (v, pos + name.len()))
            .ok_or(pos)
    };
    let names = |list: &[&str], len: Option<usize>, base: i64| -> Vec<(String, i64)> {
        list.iter()
            .enumerate()
            .map(|(i, s)| {
                (
                    len.map_or(s.to_string(), |l| s[..l].to_string()),
                    i as i64 + base,
                )
            })
            .collect()
    };
    let width = |n: usize| match n {
        4 => None,
        5 => Some(1),
        _ => Some(3),
    };
    match c {
        'M' | 'L' => {
            let (v, end) = pick(names(&MONTHS, width(n), 1))?;
            p.month = Some(v);
            Ok(end)
        }
        'E' => {
            let (v, end) = pick(names(&DAYS, width(n), 1))?;
            p.day_of_week = Some(v);
            Ok(end)
        }
        'a' => {
            let (v, end) = pick(vec![("AM".into(), 0), ("PM".into(), 1)])?;
            p.ampm = Some(v);
            Ok(end)
        }
        'G' => {
            let list = match n {
                4 => ["Before Christ", "Anno Domini"],
                5 => ["B", "A"],
                _ => ["BC", "AD"],
            };
            let (v, end) = pick(names(&list, None, 0))?;
            p.era = Some(v);
            Ok(end)
        }
        'Q' | 'q' => {
            let list = if n == 3 {
                vec!["Q1", "Q2", "Q3", "Q4"]
            } else {
                vec!["1st quarter", "2nd quarter", "3rd quarter", "4th quarter"]
            };
            let (v, end) = pick(names(&list, None, 1))?;
            p.quarter = Some(v);
            Ok(end)
        }
        'X' | 'x' | 'Z' | 'O' => {
            let (secs, len) = if c == 'O' || (c == 'Z' && n == 4) {
                parse_gmt(rest).ok_or(pos)?
            } else {
                OffsetSpec::of(c, n).parse(rest).ok_or(pos)?
            };
            p.offset = Some(secs);
            Ok(pos + len)
        }
        'z' | 'V' => {
            let (zone, len) = parse_zone_text(rest, c == 'V').ok_or(pos)?;
            p.zone = Some(zone);
            Ok(pos + len)
        }
        _ => Err(pos),
    }
}

/// `GMT`, `GMT+8`, `GMT+08:00`.
fn parse_gmt(text: &str) -> Option<(i32, usize)> {
    let rest = text.strip_prefix("GMT")?;
    let sign = match rest.as_bytes().first() {
        Some(b'+') => 1,
        Some(b'-') => -1,
        _ => return Some((0, 3)),
    };
    let h_len = rest[1..]
        .bytes()
        .take_while(u8::is_ascii_digit)
        .count()
        .min(2);
    let h: i32 = rest.get(1..1 + h_len)?.parse().ok()?;
    let mut len = 1 + h_len;
    let mut secs = h * 3600;
    for mult in [60, 1] {
        match rest.get(len..len + 3) {
            Some(part)
                if part.starts_with(':') && part[1..].bytes().all(|b| b.is_ascii_digit()) =>
            {
                secs += part[1..].parse::<i32>().ok()? * mult;
                len += 3;
            }
            _ => break,
        }
    }
    Some((sign * secs, 3 + len))
}
