//! `java.util.regex` patterns compiled for `fancy-regex`: the translation (ASCII `\d \w \s`,
//! `.` and `$` aware of Java's line terminators, `\Q..\E`, `\h`, `\R`, `\Z`), a per-thread
//! cache, and matching whose failures are errors that name the pattern.
//!
//! Java's `$` (without MULTILINE) and `\Z` match at the end of the input, or before a line
//! terminator that ends it (`\r\n`, `\n`, `\r`, `\u0085`, `\u2028`, `\u2029`; never between
//! the `\r` and `\n` of a final `\r\n`). On an input that does not end with a line terminator
//! that is exactly `\z`, which keeps the pattern within what `fancy-regex` hands whole to the
//! linear-time `regex-automata` engine. Only an input that ends with a line terminator needs
//! the look-around form, which runs on the backtracking engine; when that engine gives up (its
//! step limit), matching fails with an error rather than a wrong answer.

use fancy_regex::{Captures, Regex, RegexBuilder};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// Steps the backtracking engine may take for one search before it gives up.
const BACKTRACK_LIMIT: usize = 1_000_000;

/// Java's line terminators (without UNIX_LINES), as a character-class body.
const LINE_TERMINATORS: &str = r"\n\r\u{85}\u{2028}\u{2029}";

/// Java's `$` and `\Z` where the input may end with a line terminator.
const END_OR_FINAL_TERMINATOR: &str =
    r"(?:\z|(?=\r\n\z)|(?=[\r\u{85}\u{2028}\u{2029}]\z)|(?<!\r)(?=\n\z))";

/// A compiled Java pattern (for inputs that do, or do not, end with a line terminator).
pub(super) struct JavaRegex {
    pattern: String,
    regex: Regex,
}

impl JavaRegex {
    /// The number of groups, group 0 (the whole match) included.
    pub(super) fn captures_len(&self) -> usize {
        self.regex.captures_len()
    }

    /// The first match at or after byte `pos`, as `Matcher.find(pos)`.
    pub(super) fn captures_from_pos<'t>(
        &self,
        text: &'t str,
        pos: usize,
    ) -> Result<Option<Captures<'t>>, String> {
        self.regex
            .captures_from_pos(text, pos)
            .map_err(|e| self.failed(text, e))
    }

    pub(super) fn is_match(&self, text: &str) -> Result<bool, String> {
        self.regex.is_match(text).map_err(|e| self.failed(text, e))
    }

    fn failed(&self, text: &str, e: fancy_regex::Error) -> String {
        match e {
            fancy_regex::Error::RuntimeError(fancy_regex::RuntimeError::BacktrackLimitExceeded) => {
                format!(
                    "The regular expression '{}' could not be evaluated on an input of {} characters: it needs more than {BACKTRACK_LIMIT} backtracking steps",
                    self.pattern,
                    text.chars().count()
                )
            }
            other => format!(
                "The regular expression '{}' could not be evaluated: {other}",
                self.pattern
            ),
        }
    }
}

/// Whether `text` ends with one of Java's line terminators.
fn ends_with_line_terminator(text: &str) -> bool {
    text.ends_with(['\n', '\r', '\u{85}', '\u{2028}', '\u{2029}'])
}

thread_local! {
    static CACHE: RefCell<HashMap<(String, bool), Rc<JavaRegex>>> = RefCell::new(HashMap::new());
}

/// Compiles a Java pattern for searching `text` (cached per thread).
pub(super) fn java_regex(pattern: &str, text: &str) -> Result<Rc<JavaRegex>, String> {
    let key = (pattern.to_string(), ends_with_line_terminator(text));
    if let Some(re) = CACHE.with(|c| c.borrow().get(&key).cloned()) {
        return Ok(re);
    }
    let regex = RegexBuilder::new(&translate(pattern, key.1))
        .backtrack_limit(BACKTRACK_LIMIT)
        .build()
        .map_err(|e| format!("Invalid regular expression pattern '{pattern}': {e}"))?;
    let re = Rc::new(JavaRegex {
        pattern: pattern.to_string(),
        regex,
    });
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= 256 {
            c.clear();
        }
        c.insert(key, re.clone());
    });
    Ok(re)
}

/// Whether the pattern sets inline flag `flag` (`(?s)`, `(?im:...)`).
fn has_flag(pattern: &str, flag: char) -> bool {
    pattern.match_indices("(?").any(|(i, _)| {
        pattern[i + 2..]
            .chars()
            .take_while(|c| c.is_ascii_alphabetic() || *c == '-')
            .take_while(|c| *c != '-')
            .any(|c| c == flag)
    })
}

/// Rewrites a `java.util.regex` pattern into `fancy-regex` syntax, for inputs that end with a
/// line terminator (`terminated`) or not.
fn translate(pattern: &str, terminated: bool) -> String {
    let (dotall, multiline) = (has_flag(pattern, 's'), has_flag(pattern, 'm'));
    let end = if terminated {
        END_OR_FINAL_TERMINATOR
    } else {
        r"\z"
    };
    let mut out = String::with_capacity(pattern.len() * 2);
    let mut chars = pattern.chars().peekable();
    let mut depth = 0usize;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(e) = chars.next() else {
                    out.push('\\');
                    break;
                };
                let class = match e {
                    'd' | 'D' => Some("0-9"),
                    'w' | 'W' => Some("a-zA-Z0-9_"),
                    's' | 'S' => Some(r"\t\n\x0B\f\r "),
                    'h' | 'H' => {
                        Some(r" \t\xA0\u{1680}\u{180e}\u{2000}-\u{200a}\u{202f}\u{205f}\u{3000}")
                    }
                    _ => None,
                };
                match (e, class) {
                    (_, Some(set)) if e.is_ascii_lowercase() && depth > 0 => out.push_str(set),
                    (_, Some(set)) => out.push_str(&format!(
                        "[{}{set}]",
                        if e.is_ascii_uppercase() { "^" } else { "" }
                    )),
                    ('Q', _) => {
                        let mut literal = String::new();
                        while let Some(x) = chars.next() {
                            if x == '\\' && chars.peek() == Some(&'E') {
                                chars.next();
                                break;
                            }
                            literal.push(x);
                        }
                        out.push_str(&fancy_regex::escape(&literal));
                    }
                    ('R', _) => out.push_str(r"(?:\r\n|[\n\x0B\f\r\u{85}\u{2028}\u{2029}])"),
                    ('Z', _) => out.push_str(end),
                    _ => {
                        out.push('\\');
                        out.push(e);
                    }
                }
            }
            '[' => {
                depth += 1;
                out.push('[');
                if chars.peek() == Some(&'^') {
                    out.push('^');
                    chars.next();
                }
            }
            ']' if depth > 0 => {
                depth -= 1;
                out.push(']');
            }
            '.' if depth == 0 && !dotall => out.push_str(&format!("[^{LINE_TERMINATORS}]")),
            '$' if depth == 0 && !multiline => out.push_str(end),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every position where the pattern matches (empty matches included), as Java's `find`.
    fn positions(pattern: &str, text: &str) -> Vec<usize> {
        let re = java_regex(pattern, text).expect("pattern");
        (0..=text.len())
            .filter(|p| text.is_char_boundary(*p))
            .filter_map(|p| {
                let caps = re.captures_from_pos(text, p).expect("runs")?;
                let m = caps.get(0)?;
                (m.start() == p).then_some(p)
            })
            .collect()
    }

    #[test]
    fn dollar_matches_where_java_matches() {
        // Java: at the end, and before a final line terminator, but not inside a final \r\n.
        assert_eq!(positions("$", "ab"), vec![2]);
        assert_eq!(positions("$", "a\n"), vec![1, 2]);
        assert_eq!(positions("$", "a\r\n"), vec![1, 3]);
        assert_eq!(positions("$", "a\r"), vec![1, 2]);
        assert_eq!(positions("$", "a\u{2028}"), vec![1, 4]);
        assert_eq!(
            positions("$", "a\n\n"),
            vec![2, 3],
            "only the last terminator"
        );
        assert_eq!(
            positions("$", "a\nb"),
            vec![3],
            "a terminator inside is no end"
        );
        assert_eq!(positions(r"\Z", "a\r\n"), vec![1, 3]);
        assert_eq!(positions(r"\n$", "a\n"), vec![1]);
    }

    #[test]
    fn a_pattern_without_look_around_runs_in_linear_time() {
        // Exponential for a backtracking engine: more steps than its limit allows.
        let text = format!("{}b", "a".repeat(40));
        let re = java_regex("(a+)+$", &text).expect("pattern");
        assert!(re.captures_from_pos(&text, 0).expect("runs").is_none());
        let text = format!("{}y", "x".repeat(2_000));
        let re = java_regex("x*$", &text).expect("pattern");
        let found = re.captures_from_pos(&text, 0).expect("runs");
        assert_eq!(found.and_then(|c| c.get(0)).map(|m| m.start()), Some(2_001));
    }

    #[test]
    fn a_search_the_backtracking_engine_cannot_finish_is_an_error() {
        let text = format!("{}b\n", "a".repeat(40));
        let re = java_regex("(a+)+$", &text).expect("pattern");
        let error = re.captures_from_pos(&text, 0).expect_err("gives up");
        assert!(
            error.contains("'(a+)+$'") && error.contains("backtracking steps"),
            "{error}"
        );
    }
}
