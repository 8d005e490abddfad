//! String functions with Java semantics: UCASE, LCASE, TRIM, INITCAP, LEN, CONCAT, CONCAT_WS,
//! SUBSTRING, LPAD, RPAD, REPLACE and INSTR. Lengths and indexes count UTF-16 units (1-based),
//! case mapping is Java's, and NULL handling is per function (CONCAT skips NULLs, INSTR gives 0).

use super::basic::{pick, sig, var_sig};
use super::{Arg, FunctionRegistry, Resolved, ScalarFunction};
use crate::common::{SqlType, Value, limits};

pub fn register(r: &mut FunctionRegistry) {
    use SqlType::{Bytes, Int, String as Str};
    let maps: [(&'static str, &'static str, StrFn); 4] = [
        ("UCASE", "Upper-cases a string.", str::to_uppercase),
        ("LCASE", "Lower-cases a string.", str::to_lowercase),
        (
            "TRIM",
            "Removes leading and trailing whitespace and control characters.",
            |s| s.trim_matches(|c: char| c <= ' ').to_string(),
        ),
        (
            "INITCAP",
            "Capitalizes the first letter of each whitespace-separated word.",
            initcap,
        ),
    ];
    for (name, description, f) in maps {
        r.add(StrMap {
            name,
            description,
            f,
        });
    }
    r.add_udf(
        "LEN",
        "Length of a string in UTF-16 units, or of bytes.",
        |a| pick("len", a, &[sig(&[Str], Int), sig(&[Bytes], Int)]),
        |v| match &v[0] {
            Value::String(s) => Ok(Value::Int(s.encode_utf16().count() as i32)),
            Value::Bytes(b) => Ok(Value::Int(b.len() as i32)),
            _ => Ok(Value::Null),
        },
    );
    r.add_udf(
        "CONCAT",
        "Concatenates strings or bytes, skipping NULLs.",
        |a| {
            pick(
                "concat",
                a,
                &[var_sig(&[], Str, Str), var_sig(&[], Bytes, Bytes)],
            )
        },
        |v| Ok(concat(v.iter())),
    );
    r.add_udf(
        "CONCAT_WS",
        "Concatenates with a separator, skipping NULLs.",
        |a| {
            pick(
                "concat_ws",
                a,
                &[var_sig(&[Str], Str, Str), var_sig(&[Bytes], Bytes, Bytes)],
            )
        },
        concat_ws,
    );
    r.add_udf(
        "SUBSTRING",
        "The part of a string or bytes from a 1-based position, optionally of a length.",
        |a| {
            pick(
                "substring",
                a,
                &[
                    sig(&[Str, Int], Str),
                    sig(&[Str, Int, Int], Str),
                    sig(&[Bytes, Int], Bytes),
                    sig(&[Bytes, Int, Int], Bytes),
                ],
            )
        },
        substring,
    );
    r.add_udf(
        "LPAD",
        "Pads on the left to a length, cycling the padding.",
        |a| pad_type("lpad", a),
        |v| pad(v, true),
    );
    r.add_udf(
        "RPAD",
        "Pads on the right to a length, cycling the padding.",
        |a| pad_type("rpad", a),
        |v| pad(v, false),
    );
    r.add_udf(
        "REPLACE",
        "Replaces every occurrence of a substring.",
        |a| pick("replace", a, &[sig(&[Str, Str, Str], Str)]),
        |v| match (&v[0], &v[1], &v[2]) {
            (Value::String(s), Value::String(old), Value::String(new)) => {
                Ok(Value::String(replace(s, old, new)?))
            }
            _ => Ok(Value::Null),
        },
    );
    r.add_udf("INSTR", "1-based position of the n-th occurrence of a substring from a position (negative: from the end), or 0.", |a| {
        pick("instr", a, &[sig(&[Str, Str], Int), sig(&[Str, Str, Int], Int), sig(&[Str, Str, Int, Int], Int)])
    }, instr);
}

type StrFn = fn(&str) -> String;

/// A STRING → STRING function; NULL gives NULL.
struct StrMap {
    name: &'static str,
    description: &'static str,
    f: StrFn,
}

impl ScalarFunction for StrMap {
    fn name(&self) -> &str {
        self.name
    }
    fn description(&self) -> &str {
        self.description
    }
    fn resolve(&self, args: &[Arg]) -> Result<Resolved, String> {
        pick(
            &self.name.to_ascii_lowercase(),
            args,
            &[sig(&[SqlType::String], SqlType::String)],
        )
    }
    fn invoke(&self, args: &[Value]) -> Result<Value, String> {
        Ok(match &args[0] {
            Value::String(s) => Value::String((self.f)(s)),
            _ => Value::Null,
        })
    }
}

pub(super) fn utf16(s: &str) -> Vec<u16> {
    s.encode_utf16().collect()
}

pub(super) fn from_utf16(units: &[u16]) -> String {
    String::from_utf16_lossy(units)
}

/// Java `\s`: space, \t, \n, \x0B, \f, \r.
fn java_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\u{b}' | '\u{c}' | '\r')
}

/// ksqlDB's INITCAP: lower-case, then upper-case the first character of each `[^\s]+\s*` token
/// (so leading whitespace is dropped).
fn initcap(s: &str) -> String {
    let lower = s.to_lowercase();
    let mut out = String::with_capacity(lower.len());
    let mut at_word_start = true;
    for c in lower.trim_start_matches(java_space).chars() {
        if at_word_start && !java_space(c) {
            out.extend(c.to_uppercase());
            at_word_start = false;
        } else {
            out.push(c);
            at_word_start = java_space(c);
        }
    }
    out
}

fn concat<'a>(values: impl Iterator<Item = &'a Value>) -> Value {
    let values: Vec<&Value> = values.filter(|v| !v.is_null()).collect();
    if values.iter().any(|v| matches!(v, Value::Bytes(_))) {
        return Value::Bytes(
            values
                .iter()
                .flat_map(|v| {
                    if let Value::Bytes(b) = v {
                        b.clone()
                    } else {
                        Vec::new()
                    }
                })
                .collect(),
        );
    }
    Value::String(
        values
            .iter()
            .map(|v| {
                if let Value::String(s) = v {
                    s.as_str()
                } else {
                    ""
                }
            })
            .collect(),
    )
}

fn concat_ws(v: &[Value]) -> Result<Value, String> {
    if v.len() < 2 {
        return Err("Function 'concat_ws' expects at least two input arguments.".into());
    }
    let parts: Vec<&Value> = v[1..].iter().filter(|x| !x.is_null()).collect();
    Ok(match &v[0] {
        Value::String(sep) => Value::String(
            parts
                .iter()
                .map(|p| {
                    if let Value::String(s) = p {
                        s.as_str()
                    } else {
                        ""
                    }
                })
                .collect::<Vec<_>>()
                .join(sep),
        ),
        Value::Bytes(sep) => Value::Bytes(
            parts
                .iter()
                .map(|p| {
                    if let Value::Bytes(b) = p {
                        b.clone()
                    } else {
                        Vec::new()
                    }
                })
                .collect::<Vec<_>>()
                .join(sep.as_slice()),
        ),
        _ => Value::Null,
    })
}

/// ksqlDB's SUBSTRING bounds: 1-based, negative counts from the end, never an error.
fn substring_range(n: usize, pos: i32, len: Option<i32>) -> (usize, usize) {
    let n = n as i64;
    let pos = i64::from(pos);
    let start = if pos < 0 {
        (n + pos).max(0)
    } else {
        (pos - 1).min(n).max(0)
    };
    let end = len.map_or(n, |l| (start + i64::from(l)).min(n).max(start));
    (start as usize, end as usize)
}

fn substring(v: &[Value]) -> Result<Value, String> {
    let len = match v.get(2) {
        Some(Value::Int(l)) => Some(*l),
        Some(_) => return Ok(Value::Null),
        None => None,
    };
    Ok(match (&v[0], &v[1]) {
        (Value::String(s), Value::Int(pos)) => {
            let units = utf16(s);
            let (start, end) = substring_range(units.len(), *pos, len);
            Value::String(from_utf16(&units[start..end]))
        }
        (Value::Bytes(b), Value::Int(pos)) => {
            let (start, end) = substring_range(b.len(), *pos, len);
            Value::Bytes(b[start..end].to_vec())
        }
        _ => Value::Null,
    })
}

fn pad_type(name: &str, a: &[Arg]) -> Result<Resolved, String> {
    use SqlType::{Bytes, Int, String as Str};
    pick(
        name,
        a,
        &[sig(&[Str, Int, Str], Str), sig(&[Bytes, Int, Bytes], Bytes)],
    )
}

/// LPAD/RPAD to exactly `len` units; a longer input keeps its left part.
fn pad(v: &[Value], left: bool) -> Result<Value, String> {
    fn padded<T: Clone>(input: &[T], len: usize, padding: &[T], left: bool) -> Vec<T> {
        let fill: Vec<T> = padding
            .iter()
            .cycle()
            .take(len.saturating_sub(input.len()))
            .cloned()
            .collect();
        let mut out = if left {
            [fill.as_slice(), input].concat()
        } else {
            [input, fill.as_slice()].concat()
        };
        out.truncate(len);
        out
    }
    let len = match &v[1] {
        Value::Int(l) if *l >= 0 => *l as usize,
        _ => return Ok(Value::Null),
    };
    let name = if left { "LPAD" } else { "RPAD" };
    limits::check_value_size(len, &format!("{name}'s result"))?;
    Ok(match (&v[0], &v[2]) {
        (Value::String(s), Value::String(p)) if !p.is_empty() => {
            Value::String(from_utf16(&padded(&utf16(s), len, &utf16(p), left)))
        }
        (Value::Bytes(b), Value::Bytes(p)) if !p.is_empty() => {
            Value::Bytes(padded(b, len, p, left))
        }
        _ => Value::Null,
    })
}

/// Java `String.replace`: literal; an empty target inserts `new` around every character.
/// Fails when the result would pass the value size limit (checked before it is built).
fn replace(s: &str, old: &str, new: &str) -> Result<String, String> {
    let places = match old.is_empty() {
        true => s.chars().count() + 1,
        false => s.matches(old).count(),
    };
    let grown = places.saturating_mul(new.len().saturating_sub(old.len()));
    limits::check_value_size(s.len().saturating_add(grown), "REPLACE's result")?;
    if !old.is_empty() {
        return Ok(s.replace(old, new));
    }
    let mut out = String::from(new);
    for c in s.chars() {
        out.push(c);
        out.push_str(new);
    }
    Ok(out)
}

/// Commons `StringUtils.ordinalIndexOf` (overlapping), over UTF-16 units.
fn ordinal_index_of(s: &[u16], sub: &[u16], ordinal: i32) -> Option<usize> {
    if ordinal <= 0 {
        return None;
    }
    if sub.is_empty() {
        return Some(0);
    }
    let mut found = 0;
    (0..s.len().saturating_sub(sub.len() - 1)).find(|&i| {
        if s[i..].starts_with(sub) {
            found += 1;
        }
        found == ordinal
    })
}

fn instr(v: &[Value]) -> Result<Value, String> {
    let int_arg = |i: usize| match v.get(i) {
        None => Ok(1),
        Some(Value::Int(x)) => Ok(*x),
        Some(_) => Err("INSTR's position and occurrence must not be NULL".to_string()),
    };
    let (pos, occurrence) = (int_arg(2)?, int_arg(3)?);
    let (Value::String(s), Value::String(sub)) = (&v[0], &v[1]) else {
        return Ok(Value::Int(0));
    };
    let (s, sub) = (utf16(s), utf16(sub));
    let n = s.len() as i64;
    if i64::from(pos).abs() > n {
        return Ok(Value::Int(0));
    }
    let result = if pos > 0 {
        ordinal_index_of(&s[pos as usize - 1..], &sub, occurrence)
            .map(|i| i64::from(pos) + i as i64)
    } else if pos < 0 {
        let rs: Vec<u16> = s.iter().rev().copied().collect();
        let rsub: Vec<u16> = sub.iter().rev().copied().collect();
        ordinal_index_of(&rs[(-pos) as usize - 1..], &rsub, occurrence)
            .map(|i| n + i64::from(pos) - i as i64 - sub.len() as i64 + 2)
    } else {
        return Err("INSTR's position must not be 0".into());
    };
    Ok(Value::Int(result.unwrap_or(0) as i32))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::functions::test_support::{call_or_null as call, s};

    #[test]
    fn substring_is_one_based_and_clamped() {
        assert_eq!(
            call(
                "SUBSTRING",
                &[s("some short string"), Value::Int(6), Value::Int(3)]
            ),
            s("sho")
        );
        assert_eq!(
            call("SUBSTRING", &[s("short"), Value::Int(6), Value::Int(3)]),
            s("")
        );
        assert_eq!(
            call("SUBSTRING", &[s("abcdef"), Value::Int(0), Value::Int(2)]),
            s("ab")
        );
        assert_eq!(call("SUBSTRING", &[s("abcdef"), Value::Int(-2)]), s("ef"));
        assert_eq!(
            call("SUBSTRING", &[s("abcdef"), Value::Int(2), Value::Int(-1)]),
            s("")
        );
        assert_eq!(
            call("SUBSTRING", &[s("😀ab"), Value::Int(3)]),
            s("ab"),
            "UTF-16 units"
        );
        assert_eq!(call("SUBSTRING", &[s("abc"), Value::Null]), Value::Null);
    }

    #[test]
    fn instr_matches_ksql_examples() {
        let i = |pos: Option<i32>, occ: Option<i32>| {
            let mut args = vec![s("corporate floor"), s("or")];
            args.extend(pos.map(Value::Int));
            args.extend(occ.map(Value::Int));
            call("INSTR", &args)
        };
        assert_eq!(i(None, None), Value::Int(2));
        assert_eq!(i(Some(4), None), Value::Int(5));
        assert_eq!(i(Some(-4), None), Value::Int(5));
        assert_eq!(i(Some(-4), Some(2)), Value::Int(2));
        assert_eq!(i(Some(1), Some(3)), Value::Int(14));
        assert_eq!(i(Some(3), Some(3)), Value::Int(0));
        assert_eq!(
            call("INSTR", &[s("short"), s("or"), Value::Int(4)]),
            Value::Int(0)
        );
        assert_eq!(call("INSTR", &[Value::Null, s("or")]), Value::Int(0));
    }

    #[test]
    fn pads_concat_and_case() {
        assert_eq!(
            call("LPAD", &[s("foo"), Value::Int(7), s("Bar")]),
            s("BarBfoo")
        );
        assert_eq!(
            call("RPAD", &[s("foo"), Value::Int(7), s("Bar")]),
            s("fooBarB")
        );
        assert_eq!(call("RPAD", &[s("foo"), Value::Int(2), s("Bar")]), s("fo"));
        assert_eq!(call("LPAD", &[s("foo"), Value::Int(5), s("")]), Value::Null);
        assert_eq!(call("CONCAT", &[Value::Null, Value::Null]), s(""));
        assert_eq!(
            call("CONCAT_WS", &[s("-"), s("a"), Value::Null, s("b")]),
            s("a-b")
        );
        assert_eq!(
            call("INITCAP", &[s("  the   quick br0wn fOx")]),
            s("The   Quick Br0wn Fox")
        );
        assert_eq!(call("INITCAP", &[s("some_string")]), s("Some_string"));
        assert_eq!(call("UCASE", &[s("straße")]), s("STRASSE"));
        assert_eq!(call("TRIM", &[s("\t x \u{1}")]), s("x"));
        assert_eq!(call("REPLACE", &[s("ab"), s(""), s("-")]), s("-a-b-"));
    }
}
