//! Regular-expression functions — REGEXP_EXTRACT, REGEXP_EXTRACT_ALL, REGEXP_REPLACE and
//! REGEXP_SPLIT_TO_ARRAY — with `java.util.regex` semantics: Java patterns are translated for
//! `fancy-regex` (see [`super::regexp_java`]), matches are found like `Matcher.find`, and
//! replacements use Java's `$n` / `${name}`. A pattern that cannot be compiled, or a search
//! that cannot finish, is an error (the expression fails and the row is reported).

use super::FunctionRegistry;
use super::basic::{pick, sig};
use super::regexp_java::{JavaRegex, java_regex};
use crate::common::{SqlType, Value, limits};
use fancy_regex::Captures;

pub fn register(r: &mut FunctionRegistry) {
    use SqlType::{Int, String as Str};
    r.add_udf(
        "REGEXP_EXTRACT",
        "The first match of a pattern (or one of its groups) in a string.",
        |a| {
            pick(
                "regexp_extract",
                a,
                &[sig(&[Str, Str], Str), sig(&[Str, Str, Int], Str)],
            )
        },
        |v| extract(v, false),
    );
    r.add_udf(
        "REGEXP_EXTRACT_ALL",
        "Every match of a pattern (or one of its groups) in a string.",
        |a| {
            pick(
                "regexp_extract_all",
                a,
                &[
                    sig(&[Str, Str], SqlType::array(Str)),
                    sig(&[Str, Str, Int], SqlType::array(Str)),
                ],
            )
        },
        |v| extract(v, true),
    );
    r.add_udf(
        "REGEXP_REPLACE",
        "Replaces every match of a pattern (Java replacement syntax).",
        |a| pick("regexp_replace", a, &[sig(&[Str, Str, Str], Str)]),
        |v| {
            let (Value::String(s), Value::String(p), Value::String(repl)) = (&v[0], &v[1], &v[2])
            else {
                return Ok(Value::Null);
            };
            let re = java_regex(p, s)?;
            let mut out = String::new();
            let mut last = 0;
            for caps in find_all(&re, s)? {
                let m = caps.get(0).ok_or("no match")?;
                out.push_str(&s[last..m.start()]);
                expand(&caps, repl, re.captures_len() - 1, &mut out)?;
                limits::check_value_size(out.len(), "REGEXP_REPLACE's result")?;
                last = m.end();
            }
            out.push_str(&s[last..]);
            Ok(Value::String(out))
        },
    );
    r.add_udf(
        "REGEXP_SPLIT_TO_ARRAY",
        "Splits a string around the matches of a pattern.",
        |a| {
            pick(
                "regexp_split_to_array",
                a,
                &[sig(&[Str, Str], SqlType::array(Str))],
            )
        },
        |v| {
            let (Value::String(s), Value::String(p)) = (&v[0], &v[1]) else {
                return Ok(Value::Null);
            };
            let re = java_regex(p, s)?;
            let java_split = p.is_empty() || java_regex(p, "")?.is_match("")?;
            let matches = find_all(&re, s)?;
            let (mut parts, mut last) = (Vec::new(), 0);
            for caps in &matches {
                let m = caps.get(0).ok_or("no match")?;
                // `Pattern.split` never yields a leading empty part for a zero-width match at 0.
                if java_split && m.start() == 0 && m.end() == 0 {
                    continue;
                }
                parts.push(s[last..m.start()].to_string());
                last = m.end();
            }
            parts.push(s[last..].to_string());
            if java_split {
                while parts.len() > 1 && parts.last().is_some_and(String::is_empty) {
                    parts.pop();
                }
            }
            Ok(Value::Array(parts.into_iter().map(Value::String).collect()))
        },
    );
}

fn extract(v: &[Value], all: bool) -> Result<Value, String> {
    let (Value::String(p), Value::String(s)) = (&v[0], &v[1]) else {
        return Ok(Value::Null);
    };
    let group = match v.get(2) {
        None => 0,
        Some(Value::Int(g)) => *g,
        Some(_) => return Ok(Value::Null),
    };
    let re = java_regex(p, s)?;
    if group < 0 || group as usize >= re.captures_len() {
        return Ok(Value::Null);
    }
    let text = |c: &Captures<'_>| {
        c.get(group as usize)
            .map_or(Value::Null, |m| Value::String(m.as_str().to_string()))
    };
    if all {
        return Ok(Value::Array(find_all(&re, s)?.iter().map(text).collect()));
    }
    Ok(re
        .captures_from_pos(s, 0)?
        .as_ref()
        .map_or(Value::Null, text))
}

/// Every match as `Matcher.find` reports them: after an empty match the search moves on one
/// character, after a non-empty one it resumes at its end (an empty match may follow).
fn find_all<'t>(re: &JavaRegex, s: &'t str) -> Result<Vec<Captures<'t>>, String> {
    let (mut out, mut pos) = (Vec::new(), 0);
    while pos <= s.len() {
        let Some(caps) = re.captures_from_pos(s, pos)? else {
            break;
        };
        let (start, end) = caps.get(0).map_or((pos, pos), |m| (m.start(), m.end()));
        pos = if start == end {
            s[end..]
                .chars()
                .next()
                .map_or(s.len() + 1, |c| end + c.len_utf8())
        } else {
            end
        };
        out.push(caps);
        if out.len() > MAX_MATCHES {
            return Err(format!(
                "The regular expression matches more than {MAX_MATCHES} times in one value"
            ));
        }
    }
    Ok(out)
}

/// The most matches one search may collect: as many as the largest array a function may make.
const MAX_MATCHES: usize = limits::MAX_VALUE_BYTES / std::mem::size_of::<Value>();

/// Appends Java's expansion of `repl` (`$n` takes as many digits as name an existing group,
/// `${name}`, `\x` is a literal x) for one match.
fn expand(
    caps: &Captures<'_>,
    repl: &str,
    group_count: usize,
    out: &mut String,
) -> Result<(), String> {
    let mut chars = repl.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push(chars.next().ok_or("character to be escaped is missing")?),
            '$' => {
                let text = if chars.peek() == Some(&'{') {
                    chars.next();
                    let name: String = chars.by_ref().take_while(|c| *c != '}').collect();
                    caps.name(&name)
                        .ok_or_else(|| format!("No group with name {{{name}}}"))?;
                    caps.name(&name)
                } else {
                    let mut n = chars
                        .next()
                        .and_then(|d| d.to_digit(10))
                        .ok_or("Illegal group reference")? as usize;
                    while let Some(d) = chars.peek().and_then(|d| d.to_digit(10)) {
                        if n * 10 + d as usize > group_count {
                            break;
                        }
                        n = n * 10 + d as usize;
                        chars.next();
                    }
                    if n > group_count {
                        return Err(format!("No group {n}"));
                    }
                    caps.get(n)
                };
                out.push_str(text.map_or("", |m| m.as_str()));
            }
            c => out.push(c),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::functions::test_support::{call_or_null as call, invoke, s};

    #[test]
    fn extract_follows_java() {
        assert_eq!(
            call("REGEXP_EXTRACT", &[s("test."), s("some_test_string")]),
            s("test_")
        );
        assert_eq!(
            call(
                "REGEXP_EXTRACT",
                &[s("(.*) (.*)"), s("steven zhang"), Value::Int(2)]
            ),
            s("zhang")
        );
        assert_eq!(
            call(
                "REGEXP_EXTRACT",
                &[s("(.*) (.*)"), s("agavra"), Value::Int(2)]
            ),
            Value::Null
        );
        assert_eq!(
            call("REGEXP_EXTRACT", &[s("(a)"), s("a"), Value::Int(2)]),
            Value::Null
        );
        assert_eq!(
            call("REGEXP_EXTRACT", &[s("(a"), s("a")]),
            Value::Null,
            "bad pattern → NULL"
        );
        let all = call(
            "REGEXP_EXTRACT_ALL",
            &[s(r"(\w+) (\w*)"), s("apurva mehta agavra "), Value::Int(2)],
        );
        assert_eq!(all, Value::Array(vec![s("mehta"), s("")]));
        assert_eq!(
            call("REGEXP_EXTRACT_ALL", &[s("x"), s("abc")]),
            Value::Array(vec![])
        );
        assert_eq!(
            call("REGEXP_EXTRACT_ALL", &[s("a*"), s("baa")]),
            Value::Array(vec![s(""), s("aa"), s("")]),
            "Java find() order"
        );
        assert_eq!(
            call("REGEXP_EXTRACT", &[s(r"\d+"), s("٣4")]),
            s("4"),
            "\\d is ASCII in Java"
        );
        assert_eq!(
            call("REGEXP_EXTRACT", &[s("a.c"), s("a\rc abc")]),
            s("abc"),
            ". excludes \\r"
        );
        assert_eq!(
            call("REGEXP_EXTRACT", &[s("c$"), s("abc\n")]),
            s("c"),
            "$ before a final line terminator"
        );
        assert_eq!(call("REGEXP_EXTRACT", &[s(r"\Q.*\E"), s("a.*b")]), s(".*"));
    }

    #[test]
    fn replace_uses_java_replacement_syntax() {
        let r = |re: &str, repl: &str| call("REGEXP_REPLACE", &[s("ab12cd"), s(re), s(repl)]);
        assert_eq!(r(r"(\d)(\d)", "$2$1"), s("ab21cd"));
        assert_eq!(
            r(r"(\d)", "$10"),
            s("ab1020cd"),
            "$10 is group 1 then '0' when there is no group 10"
        );
        assert_eq!(r(r"(?<n>\d+)", "<${n}>"), s("ab<12>cd"));
        assert_eq!(r(r"\d", r"\$"), s("ab$$cd"));
        assert_eq!(r(r"(\d)", "$2"), Value::Null, "no group 2");
        assert_eq!(r("(x)?b", "[$1]"), s("a[]12cd"), "unmatched group → empty");
    }

    #[test]
    fn split_to_array_matches_guava_and_java() {
        let sp = |x: &str, p: &str| call("REGEXP_SPLIT_TO_ARRAY", &[s(x), s(p)]);
        let arr = |xs: &[&str]| Value::Array(xs.iter().map(|x| s(x)).collect());
        assert_eq!(sp("aabcda", "(ab|cd)"), arr(&["a", "", "a"]));
        assert_eq!(sp("zxy", "(ab|cd)"), arr(&["zxy"]));
        assert_eq!(
            sp("abab", "ab"),
            arr(&["", "", ""]),
            "Guava keeps trailing empties"
        );
        assert_eq!(sp("abc", ""), arr(&["a", "b", "c"]));
        assert_eq!(sp("abc", "x*"), arr(&["a", "b", "c"]));
        assert_eq!(sp("", ""), arr(&[""]));
    }

    #[test]
    fn dollar_follows_java_and_needs_no_backtracking() {
        let long = format!("{}y", "x".repeat(2_000));
        assert_eq!(
            invoke("REGEXP_REPLACE", &[s(&long), s("x*$"), s("")]),
            Ok(s(&long))
        );
        let many_a = format!("{}b", "a".repeat(30));
        assert_eq!(
            invoke("REGEXP_EXTRACT", &[s("(a+)+$"), s(&many_a)]),
            Ok(Value::Null),
            "no match, found without exponential backtracking"
        );
        assert_eq!(
            invoke("REGEXP_REPLACE", &[s("a\r\n"), s("$"), s("X")]),
            Ok(s("aX\r\nX")),
            "not between the \\r and \\n of a final line terminator"
        );
    }

    #[test]
    fn a_search_that_cannot_finish_is_an_error_not_null() {
        let input = format!("{}b\n", "a".repeat(30));
        let result = invoke("REGEXP_EXTRACT", &[s("(a+)+$"), s(&input)]);
        assert!(
            result
                .as_ref()
                .is_err_and(|e| e.contains("backtracking steps")),
            "{result:?}"
        );
    }
}
