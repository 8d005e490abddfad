//! `ALTER STREAM|TABLE ... ADD COLUMN` and `ASSERT [NOT EXISTS] TOPIC|SCHEMA`.

use super::ast::*;
use super::error::SqlError;
use super::parser::StatementParser;
use sqlparser::tokenizer::Token;

impl StatementParser<'_> {
    /// After `ALTER`: `STREAM|TABLE name ADD [COLUMN] name type [, ADD [COLUMN] name type]*`.
    pub(super) fn alter(&mut self) -> Result<StatementKind, SqlError> {
        let kind = if self.word("STREAM") {
            SourceKind::Stream
        } else if self.word("TABLE") {
            SourceKind::Table
        } else {
            return self.syntax_error_here();
        };
        let name = self.name()?;
        let mut columns = Vec::new();
        loop {
            self.expect_word("ADD")?;
            let _ = self.word("COLUMN");
            let location = self.location();
            let column = self.name()?;
            let sql_type = self.sql_type()?;
            columns.push(ColumnDef {
                name: column,
                sql_type,
                constraint: ColumnConstraint::None,
                location,
            });
            if !self.p.consume_token(&Token::Comma) {
                break;
            }
        }
        Ok(StatementKind::AlterSource {
            kind,
            name,
            columns,
        })
    }

    /// After `ASSERT`: `[NOT EXISTS] TOPIC name [WITH (...)] [TIMEOUT n unit]` or
    /// `[NOT EXISTS] SCHEMA [SUBJECT 'name'] [ID n] [TIMEOUT n unit]`.
    pub(super) fn assert(&mut self) -> Result<StatementKind, SqlError> {
        let exists = !self.words(&["NOT", "EXISTS"]);
        if self.word("TOPIC") {
            let topic = self.name_keeping_case()?;
            let properties = if self.word("WITH") {
                self.properties()?
            } else {
                Properties::default()
            };
            let timeout_ms = self.timeout()?;
            return Ok(StatementKind::AssertTopic {
                topic,
                exists,
                properties,
                timeout_ms,
            });
        }
        if self.word("SCHEMA") {
            let subject = if self.word("SUBJECT") {
                Some(self.name_keeping_case()?)
            } else {
                None
            };
            let id = if self.word("ID") {
                Some(self.uint()?)
            } else {
                None
            };
            if subject.is_none() && id.is_none() {
                return self.err("ASSERT SCHEMA statements must include a subject name or an id");
            }
            let timeout_ms = self.timeout()?;
            return Ok(StatementKind::AssertSchema {
                subject,
                id,
                exists,
                timeout_ms,
            });
        }
        self.syntax_error_here()
    }

    /// ANTLR's wording for an unexpected token, as ksqlDB reports it.
    pub(super) fn syntax_error_here<T>(&self) -> Result<T, SqlError> {
        let at = self.location();
        let found = self.p.peek_token_ref().token.to_string();
        self.err(format!(
            "Syntax error at or near '{found}' at line {}:{}",
            at.line, at.column
        ))
    }

    /// A topic or subject: an identifier (case kept) or a quoted string.
    fn name_keeping_case(&mut self) -> Result<String, SqlError> {
        if let Token::SingleQuotedString(s) = &self.p.peek_token_ref().token {
            let s = s.clone();
            self.p.next_token();
            return Ok(s);
        }
        let r = self.p.parse_identifier();
        Ok(self.lift(r)?.value)
    }

    fn timeout(&mut self) -> Result<Option<i64>, SqlError> {
        if self.word("TIMEOUT") {
            Ok(Some(self.duration()?))
        } else {
            Ok(None)
        }
    }
}
