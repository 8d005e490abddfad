//! SQL errors with the position of the offending text.

use super::ast::Location;
use sqlparser::parser::ParserError;
use sqlparser::tokenizer::TokenizerError;

/// A statement that cannot be parsed, with the line and column (1-based) of the problem.
/// Syntax errors also carry the statement, which ksqlDB's messages quote ("Statement: ...").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {}:{}: {message}{}{}", .location.line, .location.column, quoted(.statement), hint_text(.hint))]
pub struct SqlError {
    pub message: String,
    pub location: Location,
    pub statement: Option<String>,
    /// Brook's explanation where ksqlDB's message has none, after the quoted statement.
    pub hint: Option<String>,
}

fn hint_text(hint: &Option<String>) -> String {
    hint.as_ref().map_or_else(String::new, |h| format!("\n{h}"))
}

fn quoted(statement: &Option<String>) -> String {
    statement
        .as_ref()
        .map_or_else(String::new, |s| format!("\nStatement: {s}"))
}

impl SqlError {
    pub fn new(message: impl Into<String>, location: Location) -> Self {
        SqlError {
            message: message.into(),
            location,
            statement: None,
            hint: None,
        }
    }

    /// Adds an explanation, shown after the quoted statement.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// "line L:C: message" and the hint, without the statement.
    pub fn short(&self) -> String {
        format!(
            "line {}:{}: {}{}",
            self.location.line,
            self.location.column,
            self.message.trim_end(),
            hint_text(&self.hint)
        )
    }

    /// Quotes `statement` when this is a syntax error.
    pub fn in_statement(mut self, statement: &str) -> Self {
        if self.message.starts_with("Syntax Error") {
            self.statement = Some(statement.trim().to_string());
        }
        self
    }

    /// Converts sqlparser's error, moving its trailing "at Line: L, Column: C" into `location`.
    pub fn from_parser(error: ParserError, fallback: Location) -> Self {
        let text = match error {
            ParserError::ParserError(m) | ParserError::TokenizerError(m) => m,
            ParserError::RecursionLimitExceeded => "the statement is nested too deeply".to_string(),
        };
        let text = format!("Syntax Error\n{text}");
        split_location(&text).unwrap_or_else(|| SqlError::new(text, fallback))
    }

    pub fn from_tokenizer(error: TokenizerError) -> Self {
        SqlError::new(
            format!("Syntax Error\n{}", error.message),
            Location {
                line: error.location.line,
                column: error.location.column,
            },
        )
    }
}

fn split_location(text: &str) -> Option<SqlError> {
    let at = text.rfind(" at Line: ")?;
    let rest = &text[at + " at Line: ".len()..];
    let (line, column) = rest.split_once(", Column: ")?;
    let location = Location {
        line: line.trim().parse().ok()?,
        column: column.trim().parse().ok()?,
    };
    Some(SqlError::new(&text[..at], location))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_sqlparser_positions_into_the_location() {
        let e = SqlError::from_parser(
            ParserError::ParserError("Expected: ), found: FROM at Line: 2, Column: 7".into()),
            Location::default(),
        );
        assert_eq!(
            e.to_string(),
            "line 2:7: Syntax Error\nExpected: ), found: FROM"
        );
    }
}
