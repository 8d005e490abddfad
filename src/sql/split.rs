//! Splitting a script into statements, and `${name}` variable substitution.

use super::ast::Location;
use super::error::SqlError;
use std::collections::HashMap;

/// Splits text at `;` outside quotes and comments. Each piece keeps its `;`; blank pieces and
/// comment-only pieces are dropped. A piece is preceded by the newlines and spaces that put
/// its first character where it was in `text` (comments become spaces), so positions in
/// errors about a piece are positions in the whole script, as ksqlDB reports them.
pub fn split_statements(text: &str) -> Result<Vec<String>, SqlError> {
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
                    out.push(positioned(&current, start));
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
        out.push(positioned(&current, start));
    }
    Ok(out)
}

/// `piece` trimmed, then moved to `start` with leading newlines and spaces.
fn positioned(piece: &str, start: Location) -> String {
    let body = piece.trim();
    let mut out = String::with_capacity(body.len() + 16);
    (1..start.line).for_each(|_| out.push('\n'));
    (1..start.column).for_each(|_| out.push(' '));
    out.push_str(body);
    out
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

    #[test]
    fn splits_outside_quotes_and_comments() {
        let text = "CREATE STREAM a (x STRING) WITH (kafka_topic='t;1');\n-- a comment; with semicolon\nSELECT 'it''s;' FROM a; /* ; */ ;  ";
        let parts = split_statements(text).expect("split");
        assert_eq!(
            parts,
            vec![
                "CREATE STREAM a (x STRING) WITH (kafka_topic='t;1');",
                "\n\nSELECT 'it''s;' FROM a;"
            ]
        );
        assert!(split_statements("SELECT 'open").is_err());
    }

    #[test]
    fn pieces_keep_their_position_in_the_script() {
        let parts =
            split_statements("SELECT 1;\n  /* c */ CREATE\n BOGUS x; SELECT 3;").expect("split");
        assert_eq!(parts[1], "\n          CREATE\n BOGUS x;");
        assert_eq!(parts[2], "\n\n          SELECT 3;");
        let e = crate::sql::parse_statement(&parts[1], &|_| None).expect_err("bad statement");
        assert_eq!((e.location.line, e.location.column), (3, 2));
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
