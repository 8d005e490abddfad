//! Parsing Brook's SQL dialect (ksqlDB's) into statements.
//!
//! sqlparser provides the tokenizer and expression parser (with the hooks in `dialect.rs` for
//! ksqlDB's expression syntax); statements and clauses specific to ksqlDB are parsed here.
//! Errors carry the line and column of the offending text.
//!
//! May import: `common`.

mod admin;
pub mod ast;
mod depth;
mod dialect;
mod error;
mod parser;
mod query;
mod split;
mod types;

pub use ast::*;
pub use depth::MAX_EXPRESSION_DEPTH;
pub use dialect::{KsqlDialect, cast_type};
pub use error::SqlError;
pub use parser::{parse_statement, parse_statement_at};
pub use query::unit_millis;
pub use split::{ScriptStatement, split_statements, substitute_variables};
pub use types::{TypeResolver, parse_type};

/// Parses every statement of a script (no variables, no custom types).
pub fn parse_script(text: &str) -> Result<Vec<Statement>, SqlError> {
    split_statements(text)?
        .iter()
        .map(|s| parse_statement_at(&s.text, s.start, &|_| None))
        .collect()
}
#[cfg(test)]
mod nesting_tests;
#[cfg(test)]
mod tests;
