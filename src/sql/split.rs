//! Splitting a script into statements, and `${name}` variable substitution.

use super::ast::Location;
use super::error::SqlError;
use std::collections::HashMap;

/// One statement of a script: its text, trimmed, with comments blanked out, and where its first
/// character stands in the script. Parsed with [`super::parse_statement_at`] at `start`,
/// positions in errors about it are positions in the whole script, as ksqlDB reports them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptStatement {
    pub text: String,
    pub start: Location,
}

impl ScriptStatement {
    /// A statement that is a whole script by itself (positions count from its first
    /// character, leading blanks included).
    pub fn alone(text: &str) -> ScriptStatement {
        ScriptStatement {
            text: text.to_string(),
            start: Location::START,
        }
    }

    /// The text preceded by the newlines and spaces that put it where it stood in the script:
    /// for a server that parses it alone and should report the same positions (the remote
    /// shell sends this). Its length grows with the statement's place in the script.
    pub fn positioned(&self) -> String {
        let mut out = String::with_capacity(self.text.len() + 16);
        (1..self.start.line).for_each(|_| out.push('\n'));
        (1..self.start.column).for_each(|_| out.push(' '));
        out.push_str(&self.text);
        out
    }

    /// Line `line` of the script as far as this statement covers it (what precedes the
    /// statement on its first line is blank), to point at an error's position; None outside
    /// the statement.
    pub fn script_line(&self, line: u64) -> Option<String> {
        let index = line.checked_sub(self.start.line)?;
        let text = self.text.lines().nth(usize::try_from(index).ok()?)?;
        Some(match index {
            0 => format!(
                "{}{text}",
                " ".repeat(self.start.column.saturating_sub(1) as usize)
            ),
            _ => text.to_string(),
        })
    }
}

/// Splits text at `;` outside quotes and comments. Each statement keeps its `;`; blank pieces
/// and comment-only pieces are dropped. Time and memory are linear in the length of `text`.
pub fn split_statements(text: &str) -> Result<Vec<ScriptStatement>, SqlError> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut chars = text.chars().peekable();
    let (mut line, mut column) = (1u64, 0u64);
    let mut meaningful = false;
    let mut start = Location { line: 1, column: 1 };
    while let Some(c) = chars.next() {
        column += 1;
        if c == '\n' {
            line += 1;
            column = 0;
        }
        match c {
            '\'' | '`' | '"' => {
                let quote_start = Location { line, column };
                if !meaningful {
                    start = quote_start;
                }
                current.push(c);
                meaningful = true;
                loop {
                    let Some(q) = chars.next() else {
                        return Err(SqlError::new(
                            format!("unterminated {c} quote"),
                            quote_start,
                        ));
                    };
                    current.push(q);
                    if q == '\n' {
                        line += 1;
                        column = 0;
                    } else {
                        column += 1;
                    }
                    if q == c {
                        if chars.peek() == Some(&c) {
                            current.push(c);
                            chars.next();
                            column += 1;
                        } else {
                            break;
                        }
                    }
                }
            }
            '-' if chars.peek() == Some(&'-') => {
                for n in chars.by_ref() {
                    if n == '\n' {
                        line += 1;
                        column = 0;
                        current.push('\n');
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                current.push_str("  ");
                column += 1;
                let mut prev = ' ';
                for n in chars.by_ref() {
                    if n == '\n' {
                        line += 1;
                        column = 0;
                        current.push('\n');
                    } else {
                        column += 1;
                        current.push(' ');
                    }
                    if prev == '*' && n == '/' {
                        break;
                    }
                    prev = n;
                }
            }
            ';' => {
                current.push(';');
                if meaningful {
                    out.push(statement_at(&current, start));
                }
                current.clear();
                meaningful = false;
            }
            c => {
                if !meaningful && !c.is_whitespace() {
                    start = Location { line, column };
                    meaningful = true;
                }
                current.push(c);
            }
        }
    }
    if meaningful {
        out.push(statement_at(&current, start));
    }
    Ok(out)
}

fn statement_at(piece: &str, start: Location) -> ScriptStatement {
    ScriptStatement {
        text: piece.trim().to_string(),
        start,
    }
}

/// Replaces `${name}` with defined values. Names are matched case-sensitively; an undefined
/// variable is an error.
pub fn substitute_variables(
    text: &str,
    variables: &HashMap<String, String>,
) -> Result<String, SqlError> {
    if !text.contains("${") {
        return Ok(text.to_string());
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return Ok(out);
        };
        let name = &after[..end];
        match variables.get(name).or_else(|| {
            variables
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        }) {
            Some(value) => out.push_str(value),
            None => {
                return Err(SqlError::new(
                    format!("Failed to substitute variables: variable '{name}' is not defined"),
                    Location::default(),
                ));
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line: u64, column: u64) -> Location {
        Location { line, column }
    }

    fn texts(parts: &[ScriptStatement]) -> Vec<&str> {
        parts.iter().map(|p| p.text.as_str()).collect()
    }

    #[test]
    fn splits_outside_quotes_and_comments() {
        let text = "CREATE STREAM a (x STRING) WITH (kafka_topic='t;1');\n-- a comment; with semicolon\nSELECT 'it''s;' FROM a; /* ; */ ;  ";
        let parts = split_statements(text).expect("split");
        assert_eq!(
            texts(&parts),
            vec![
                "CREATE STREAM a (x STRING) WITH (kafka_topic='t;1');",
                "SELECT 'it''s;' FROM a;"
            ]
        );
        assert_eq!(parts[1].start, at(3, 1));
        assert!(split_statements("SELECT 'open").is_err());
    }

    #[test]
    fn pieces_keep_their_position_in_the_script() {
        let parts =
            split_statements("SELECT 1;\n  /* c */ CREATE\n BOGUS x; SELECT 3;").expect("split");
        assert_eq!(
            texts(&parts),
            vec!["SELECT 1;", "CREATE\n BOGUS x;", "SELECT 3;"]
        );
        assert_eq!(parts[1].start, at(2, 11));
        assert_eq!(parts[2].start, at(3, 11));
        assert_eq!(parts[1].positioned(), "\n          CREATE\n BOGUS x;");
        assert_eq!(parts[2].positioned(), "\n\n          SELECT 3;");
        let e = crate::sql::parse_statement_at(&parts[1].text, parts[1].start, &|_| None)
            .expect_err("bad statement");
        assert_eq!((e.location.line, e.location.column), (3, 2));
        assert_eq!(parts[1].script_line(2).as_deref(), Some("          CREATE"));
        assert_eq!(parts[1].script_line(3).as_deref(), Some(" BOGUS x;"));
        assert_eq!(parts[1].script_line(1), None);
    }

    #[test]
    fn positions_are_those_the_statement_has_in_the_script() {
        // Parsing a statement at its start reports what parsing it in place would: on its
        // first line (columns move too) and below, from the parser and from the tokenizer.
        let script = "SHOW STREAMS;  SELECT FROM x;\n  SELECT a,\n  FROM;\nSELECT 1 $ 2;";
        let parts = split_statements(script).expect("split");
        for part in &parts[1..] {
            let at_start = crate::sql::parse_statement_at(&part.text, part.start, &|_| None)
                .expect_err("bad statement");
            let in_place = crate::sql::parse_statement(&part.positioned(), &|_| None)
                .expect_err("bad statement");
            assert!(at_start.location.line >= part.start.line, "{at_start}");
            assert_eq!(at_start.location, in_place.location, "{}", part.text);
            assert_eq!(at_start.message, in_place.message, "{}", part.text);
        }
        assert_eq!(parts[1].start, at(1, 16));
    }

    #[test]
    fn a_long_script_splits_in_linear_space() {
        // Each statement is only its own text, however far into the script it stands.
        let script = "SHOW STREAMS; ".repeat(2_000);
        let parts = split_statements(&script).expect("split");
        assert_eq!(parts.len(), 2_000);
        let total: usize = parts.iter().map(|p| p.text.len()).sum();
        assert_eq!(total, "SHOW STREAMS;".len() * 2_000);
        assert_eq!(parts[1_999].start, at(1, 14 * 1_999 + 1));
    }

    #[test]
    fn substitutes_defined_variables() {
        let vars = HashMap::from([("topic".to_string(), "orders".to_string())]);
        assert_eq!(
            substitute_variables("WITH (kafka_topic='${topic}')", &vars).expect("sub"),
            "WITH (kafka_topic='orders')"
        );
        assert!(substitute_variables("${nope}", &vars).is_err());
    }
}
