//! Character-level and positional string functions: CHR, ELT, FIELD and the MASK family
//! (MASK, MASK_LEFT, MASK_RIGHT, MASK_KEEP_LEFT, MASK_KEEP_RIGHT), positions in UTF-16 units.

use super::basic::{Sig, pick, sig, var_sig};
use super::string::{from_utf16, utf16};
use super::{Arg, FunctionRegistry, Resolved, ScalarFunction};
use crate::common::{SqlType, Value};

pub fn register(r: &mut FunctionRegistry) {
    use SqlType::{Int, String as Str};
    r.add_udf(
        "CHR",
        "The character of a code point, or of a '\\uXXXX' escape.",
        |a| pick("chr", a, &[sig(&[Int], Str), sig(&[Str], Str)]),
        chr,
    );
    r.add_udf(
        "ELT",
        "The n-th (1-based) of the remaining arguments.",
        |a| pick("elt", a, &[var_sig(&[Int], Str, Str)]),
        |v| match &v[0] {
            Value::Int(n) if *n >= 1 && (*n as usize) < v.len() => Ok(v[*n as usize].clone()),
            Value::Int(_) => Ok(Value::Null),
            _ => Err("ELT's index must not be NULL".into()),
        },
    );
    r.add_udf(
        "FIELD",
        "1-based position of the first argument among the others, or 0.",
        |a| pick("field", a, &[var_sig(&[Str], Str, Int)]),
        |v| {
            let found = if v[0].is_null() {
                None
            } else {
                v[1..].iter().position(|x| *x == v[0])
            };
            Ok(Value::Int(found.map_or(0, |i| i as i32 + 1)))
        },
    );
    for (name, description) in [
        (
            "MASK",
            "Masks letters (X, x), digits (n) and other characters (-).",
        ),
        ("MASK_LEFT", "Masks the first n characters."),
        ("MASK_RIGHT", "Masks the last n characters."),
        ("MASK_KEEP_LEFT", "Masks all but the first n characters."),
        ("MASK_KEEP_RIGHT", "Masks all but the last n characters."),
    ] {
        r.add(Mask { name, description });
    }
}

fn chr(v: &[Value]) -> Result<Value, String> {
    Ok(match &v[0] {
        Value::Int(code) if (0..=0x10FFFF).contains(code) => Value::String(
            char::from_u32(*code as u32)
                .unwrap_or('\u{FFFD}')
                .to_string(),
        ),
        Value::String(s) if s.starts_with("\\u") && s.encode_utf16().count() >= 6 => {
            Value::String(from_utf16(&unescape_java(s)?))
        }
        _ => Value::Null,
    })
}

/// Commons-text `StringEscapeUtils.unescapeJava`, into UTF-16 units.
fn unescape_java(s: &str) -> Result<Vec<u16>, String> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut buf = [0u16; 2];
            out.extend_from_slice(c.encode_utf16(&mut buf));
            continue;
        }
        match chars.next() {
            Some('u') => {
                while chars.peek() == Some(&'u') {
                    chars.next();
                }
                let hex: String = chars.by_ref().take(4).collect();
                let unit = (hex.len() == 4)
                    .then(|| u16::from_str_radix(&hex, 16).ok())
                    .flatten()
                    .ok_or_else(|| format!("Unable to parse unicode value: {hex}"))?;
                out.push(unit);
            }
            Some(e @ ('n' | 't' | 'b' | 'f' | 'r' | '"' | '\'' | '\\')) => out.push(match e {
                'n' => 10,
                't' => 9,
                'b' => 8,
                'f' => 12,
                'r' => 13,
                other => other as u16,
            }),
            Some(other) => {
                out.push(u16::from(b'\\'));
                let mut buf = [0u16; 2];
                out.extend_from_slice(other.encode_utf16(&mut buf));
            }
            None => out.push(u16::from(b'\\')),
        }
    }
    Ok(out)
}

/// MASK and its MASK_[KEEP_]LEFT/RIGHT variants: `(s[, n][, upper, lower, digit, other])`.
struct Mask {
    name: &'static str,
    description: &'static str,
}

impl ScalarFunction for Mask {
    fn name(&self) -> &str {
        self.name
    }
    fn description(&self) -> &str {
        self.description
    }
    fn resolve(&self, args: &[Arg]) -> Result<Resolved, String> {
        use SqlType::{Int, String as S};
        let sigs: Vec<Sig> = if self.name == "MASK" {
            vec![sig(&[S], S), sig(&[S, S, S, S, S], S)]
        } else {
            vec![sig(&[S, Int], S), sig(&[S, Int, S, S, S, S], S)]
        };
        pick(&self.name.to_ascii_lowercase(), args, &sigs)
    }
    fn invoke(&self, args: &[Value]) -> Result<Value, String> {
        let (n, mask_args) = if self.name == "MASK" {
            (0, &args[1..])
        } else {
            match &args[1] {
                Value::Int(n) if *n >= 0 => (*n as usize, &args[2..]),
                _ => {
                    return Err(format!(
                        "function {} requires a non-negative number of characters to mask or skip",
                        self.name.to_lowercase()
                    ));
                }
            }
        };
        let mut masks = [Some('X'), Some('x'), Some('n'), Some('-')];
        for (slot, m) in masks.iter_mut().zip(mask_args) {
            *slot = match m {
                Value::String(s) if s.encode_utf16().count() == 1 => s.chars().next(),
                Value::String(s) => {
                    return Err(format!(
                        "Invalid mask character '{s}': a mask must be exactly one character"
                    ));
                }
                _ => None,
            };
        }
        let Value::String(s) = &args[0] else {
            return Ok(Value::Null);
        };
        let units = utf16(s);
        let len = units.len();
        let (masked_start, masked_end) = match self.name {
            "MASK" => (0, len),
            "MASK_LEFT" => (0, n.min(len)),
            "MASK_RIGHT" => (len.saturating_sub(n), len),
            "MASK_KEEP_LEFT" => (n.min(len), len),
            _ => (0, len.saturating_sub(n)),
        };
        let masked: String = from_utf16(&units[masked_start..masked_end])
            .chars()
            .map(|c| mask_char(c, &masks))
            .collect();
        Ok(Value::String(format!(
            "{}{masked}{}",
            from_utf16(&units[..masked_start]),
            from_utf16(&units[masked_end..])
        )))
    }
}

/// The mask for `c` by its class (upper, lower, digit, other); None keeps the character.
fn mask_char(c: char, masks: &[Option<char>; 4]) -> char {
    let class = if c.is_uppercase() {
        0
    } else if c.is_lowercase() {
        1
    } else if c.is_numeric() {
        2
    } else {
        3
    };
    masks[class].unwrap_or(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::functions::test_support::{call_or_null as call, s};

    #[test]
    fn chr_elt_field_mask() {
        assert_eq!(call("CHR", &[s("\\ud820\\udeb8")]), s("\u{182B8}"));
        assert_eq!(call("CHR", &[s("\\u004b")]), s("K"));
        assert_eq!(call("CHR", &[s("004b")]), Value::Null);
        assert_eq!(call("CHR", &[Value::Int(75)]), s("K"));
        assert_eq!(call("CHR", &[Value::Int(-1)]), Value::Null);
        assert_eq!(call("ELT", &[Value::Int(2), s("a"), s("b")]), s("b"));
        assert_eq!(call("ELT", &[Value::Int(3), s("a"), s("b")]), Value::Null);
        assert_eq!(call("FIELD", &[s("b"), s("a"), s("b")]), Value::Int(2));
        assert_eq!(call("FIELD", &[Value::Null, Value::Null]), Value::Int(0));
        assert_eq!(call("MASK", &[s("Ab1-é")]), s("Xxn-x"));
        assert_eq!(
            call(
                "MASK",
                &[s("Ab1"), Value::Null, s("*"), Value::Null, Value::Null]
            ),
            s("A*1")
        );
        assert_eq!(call("MASK_LEFT", &[s("Abcd"), Value::Int(2)]), s("Xxcd"));
        assert_eq!(call("MASK_RIGHT", &[s("Abcd"), Value::Int(9)]), s("Xxxx"));
        assert_eq!(
            call("MASK_KEEP_LEFT", &[s("Abcd"), Value::Int(1)]),
            s("Axxx")
        );
        assert_eq!(
            call("MASK_KEEP_RIGHT", &[s("Abcd"), Value::Int(1)]),
            s("Xxxd")
        );
        assert_eq!(call("MASK_LEFT", &[s("Abcd"), Value::Int(-1)]), Value::Null);
    }
}
