//! The statement parser: ksqlDB statements on top of sqlparser's tokenizer and expression parser.

use super::ast::*;
use super::dialect::KsqlDialect;
use super::error::SqlError;
use super::types::{TypeResolver, parse_type};
use crate::common::SqlType;
use sqlparser::ast::Value as SqlValue;
use sqlparser::keywords::Keyword;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Token, Tokenizer};

static DIALECT: KsqlDialect = KsqlDialect;

/// Parses exactly one statement (a trailing `;` is optional). `resolve` finds custom types.
pub fn parse_statement(text: &str, resolve: TypeResolver) -> Result<Statement, SqlError> {
    parse_statement_at(text, Location::START, resolve)
}

/// [`parse_statement`] for a statement whose first character stands at `start` of a script
/// (see [`super::split_statements`]): positions, in errors and in the statement, count from
/// the start of the script.
pub fn parse_statement_at(
    text: &str,
    start: Location,
    resolve: TypeResolver,
) -> Result<Statement, SqlError> {
    parse_one(text, start, resolve).map_err(|e| e.in_statement(text))
}

fn parse_one(text: &str, start: Location, resolve: TypeResolver) -> Result<Statement, SqlError> {
    let mut tokens = Tokenizer::new(&DIALECT, text)
        .tokenize_with_location()
        .map_err(|e| {
            let mut e = SqlError::from_tokenizer(e);
            e.location = e.location.within(start);
            e
        })?;
    let explained = explained_text(text, &tokens);
    move_tokens(&mut tokens, start);
    let parser = Parser::new(&DIALECT).with_tokens_with_locations(tokens);
    let mut sp = StatementParser { p: parser, resolve };
    let mut kind = sp.statement()?;
    if let StatementKind::ExplainStatement(inner) = &mut kind {
        inner.text = explained;
    }
    let _ = sp.p.consume_token(&Token::SemiColon);
    let rest = sp.p.peek_token();
    if rest.token != Token::EOF {
        // ksqlDB's message for trailing text has an empty detail line; Brook says what it
        // found after the quoted statement.
        return Err(
            SqlError::new("Syntax Error\n", location_of(&rest)).with_hint(format!(
                "unexpected '{}' after the end of the statement",
                rest.token
            )),
        );
    }
    Ok(Statement {
        kind,
        text: text.trim().to_string(),
    })
}

/// For `EXPLAIN statement`: the text of the statement explained (from its second word on).
fn explained_text(text: &str, tokens: &[sqlparser::tokenizer::TokenWithSpan]) -> String {
    let mut words = tokens
        .iter()
        .filter(|t| !matches!(t.token, Token::Whitespace(_)));
    let Some(start) = words.nth(1) else {
        return String::new();
    };
    let (line, column) = (start.span.start.line, start.span.start.column);
    let line_start: usize = text
        .split_inclusive('\n')
        .take((line as usize).saturating_sub(1))
        .map(str::len)
        .sum();
    let rest = text.get(line_start..).unwrap_or("");
    let offset = rest
        .char_indices()
        .nth((column as usize).saturating_sub(1))
        .map_or(rest.len(), |(i, _)| i);
    rest[offset..].trim().to_string()
}

/// Moves token positions from `text` to the script `text` begins at `start` of.
fn move_tokens(tokens: &mut [sqlparser::tokenizer::TokenWithSpan], start: Location) {
    if start == Location::START {
        return;
    }
    let moved = |l: &mut sqlparser::tokenizer::Location| {
        let at = Location {
            line: l.line,
            column: l.column,
        }
        .within(start);
        (l.line, l.column) = (at.line, at.column);
    };
    for token in tokens {
        moved(&mut token.span.start);
        moved(&mut token.span.end);
    }
}

pub(super) fn location_of(t: &sqlparser::tokenizer::TokenWithSpan) -> Location {
    Location {
        line: t.span.start.line,
        column: t.span.start.column,
    }
}

/// `e` if it nests no deeper than the limit (`depth.rs`), else an error at `start`.
pub(super) fn bounded(e: Expr, start: Location) -> Result<Expr, SqlError> {
    match super::depth::check_expr(&e) {
        Ok(()) => Ok(e),
        Err(message) => {
            super::depth::drop_deep(e);
            Err(SqlError::new(message, start))
        }
    }
}

pub(super) struct StatementParser<'a> {
    pub p: Parser<'a>,
    pub resolve: TypeResolver<'a>,
}

impl StatementParser<'_> {
    pub fn location(&self) -> Location {
        location_of(self.p.peek_token_ref())
    }

    pub fn err<T>(&self, message: impl Into<String>) -> Result<T, SqlError> {
        Err(SqlError::new(message, self.location()))
    }

    pub fn lift<T>(&self, r: Result<T, ParserError>) -> Result<T, SqlError> {
        let loc = self.location();
        r.map_err(|e| SqlError::from_parser(e, loc))
    }

    /// Consumes the unquoted word `w` (case-insensitive) if it is next.
    pub fn word(&mut self, w: &str) -> bool {
        match &self.p.peek_token_ref().token {
            Token::Word(word)
                if word.quote_style.is_none() && word.value.eq_ignore_ascii_case(w) =>
            {
                self.p.next_token();
                true
            }
            _ => false,
        }
    }

    /// Consumes the words in order if all are next; otherwise consumes nothing.
    pub fn words(&mut self, ws: &[&str]) -> bool {
        for (i, w) in ws.iter().enumerate() {
            if !self.word(w) {
                (0..i).for_each(|_| self.p.prev_token());
                return false;
            }
        }
        true
    }

    pub fn expect_word(&mut self, w: &str) -> Result<(), SqlError> {
        if self.word(w) {
            Ok(())
        } else {
            let found = self.p.peek_token();
            self.err(format!("expected {w}, found '{}'", found.token))
        }
    }

    pub fn expect(&mut self, t: Token) -> Result<(), SqlError> {
        let r = self.p.expect_token(&t).map(|_| ());
        self.lift(r)
    }

    /// An identifier, upper-cased unless quoted.
    pub fn name(&mut self) -> Result<String, SqlError> {
        let r = self.p.parse_identifier();
        let ident = self.lift(r)?;
        Ok(if ident.quote_style.is_some() {
            ident.value
        } else {
            ident.value.to_ascii_uppercase()
        })
    }

    pub fn expr(&mut self) -> Result<Expr, SqlError> {
        let start = self.location();
        let r = self.p.parse_expr();
        let e = self.lift(r)?;
        bounded(e, start)
    }

    pub fn string(&mut self) -> Result<String, SqlError> {
        let r = self.p.parse_literal_string();
        self.lift(r)
    }

    pub fn uint(&mut self) -> Result<u64, SqlError> {
        let r = self.p.parse_literal_uint();
        self.lift(r)
    }

    pub fn sql_type(&mut self) -> Result<SqlType, SqlError> {
        let resolve = self.resolve;
        let r = parse_type(&mut self.p, resolve);
        self.lift(r)
    }

    fn statement(&mut self) -> Result<StatementKind, SqlError> {
        if self.word("CREATE") {
            return self.create();
        }
        if self.word("INSERT") {
            return self.insert();
        }
        if self.word("SELECT") {
            return Ok(StatementKind::Select(self.query_after_select()?));
        }
        if self.word("SHOW") || self.word("LIST") {
            return self.show();
        }
        if self.word("DESCRIBE") {
            return self.describe();
        }
        if self.word("EXPLAIN") {
            return self.explain();
        }
        if self.word("PRINT") {
            return self.print();
        }
        if self.word("TERMINATE") {
            return Ok(StatementKind::Terminate(if self.word("ALL") {
                None
            } else {
                Some(self.name()?)
            }));
        }
        if self.word("DROP") {
            return self.drop();
        }
        if self.word("SET") {
            let name = self.string()?;
            self.expect(Token::Eq)?;
            return Ok(StatementKind::Set {
                name,
                value: self.string()?,
            });
        }
        if self.word("UNSET") {
            return Ok(StatementKind::Unset(self.string()?));
        }
        if self.word("DEFINE") {
            let name = self.variable_name()?;
            self.expect(Token::Eq)?;
            return Ok(StatementKind::Define {
                name,
                value: self.string()?,
            });
        }
        if self.word("UNDEFINE") {
            return Ok(StatementKind::Undefine(self.variable_name()?));
        }
        let location = self.location();
        if self.words(&["RUN", "SCRIPT"]) {
            return Ok(StatementKind::RunScript {
                path: self.string()?,
                location,
            });
        }
        if self.word("ALTER") {
            return self.alter();
        }
        if self.word("ASSERT") {
            return self.assert();
        }
        let found = self.p.peek_token();
        self.err(format!("Syntax Error\nUnknown statement '{}'", found.token))
    }

    /// Variable names keep their case, as ksqlDB's do.
    fn variable_name(&mut self) -> Result<String, SqlError> {
        let r = self.p.parse_identifier();
        Ok(self.lift(r)?.value)
    }

    fn create(&mut self) -> Result<StatementKind, SqlError> {
        let or_replace = self.words(&["OR", "REPLACE"]);
        let read_only = self.word("SOURCE");
        let kind = if self.word("STREAM") {
            SourceKind::Stream
        } else if self.word("TABLE") {
            SourceKind::Table
        } else if !read_only && self.word("TYPE") {
            return self.create_type();
        } else {
            let found = self.p.peek_token();
            return self.err(format!(
                "expected STREAM, TABLE or TYPE after CREATE, found '{}'",
                found.token
            ));
        };
        let if_not_exists = self.words(&["IF", "NOT", "EXISTS"]);
        let name = self.name()?;
        let columns = if self.p.peek_token_ref().token == Token::LParen {
            self.column_defs()?
        } else {
            Vec::new()
        };
        let properties = if self.word("WITH") {
            self.properties()?
        } else {
            Properties::default()
        };
        if self.word("AS") {
            if !columns.is_empty() {
                return self.err("a CREATE ... AS SELECT statement cannot declare columns");
            }
            self.expect_word("SELECT")?;
            let query = self.query_after_select()?;
            return Ok(StatementKind::CreateAsSelect(CreateAsSelect {
                kind,
                or_replace,
                if_not_exists,
                name,
                properties,
                query,
            }));
        }
        Ok(StatementKind::CreateSource(CreateSource {
            kind,
            or_replace,
            if_not_exists,
            read_only,
            name,
            columns,
            properties,
        }))
    }

    fn create_type(&mut self) -> Result<StatementKind, SqlError> {
        let if_not_exists = self.words(&["IF", "NOT", "EXISTS"]);
        let name = self.name()?;
        self.expect_word("AS")?;
        Ok(StatementKind::CreateType {
            name,
            sql_type: self.sql_type()?,
            if_not_exists,
        })
    }

    fn column_defs(&mut self) -> Result<Vec<ColumnDef>, SqlError> {
        self.expect(Token::LParen)?;
        let mut columns = Vec::new();
        loop {
            let location = self.location();
            let name = self.name()?;
            let sql_type = self.sql_type()?;
            let constraint = if self.word("KEY") {
                ColumnConstraint::Key
            } else if self.words(&["PRIMARY", "KEY"]) {
                ColumnConstraint::PrimaryKey
            } else if self.word("HEADERS") {
                ColumnConstraint::Header(None)
            } else if self.word("HEADER") {
                self.expect(Token::LParen)?;
                let key = self.string()?;
                self.expect(Token::RParen)?;
                ColumnConstraint::Header(Some(key))
            } else {
                ColumnConstraint::None
            };
            columns.push(ColumnDef {
                name,
                sql_type,
                constraint,
                location,
            });
            if !self.p.consume_token(&Token::Comma) {
                break;
            }
        }
        if self.p.peek_token_ref().token != Token::RParen {
            return self.err("Syntax Error\nExpecting {',', ')'}");
        }
        self.expect(Token::RParen)?;
        Ok(columns)
    }

    /// `(NAME = literal, ...)` after `WITH`.
    pub fn properties(&mut self) -> Result<Properties, SqlError> {
        self.expect(Token::LParen)?;
        let mut props = Vec::new();
        loop {
            let location = self.location();
            let name = self.name()?.to_ascii_uppercase();
            self.expect(Token::Eq)?;
            let value = self.property_value()?;
            props.push((name, value, location));
            if !self.p.consume_token(&Token::Comma) {
                break;
            }
        }
        self.expect(Token::RParen)?;
        Ok(Properties(props))
    }

    fn property_value(&mut self) -> Result<PropertyValue, SqlError> {
        let negative = self.p.consume_token(&Token::Minus);
        let r = self.p.parse_value();
        let value = self.lift(r)?.value;
        Ok(match value {
            SqlValue::SingleQuotedString(s) | SqlValue::DoubleQuotedString(s) => {
                PropertyValue::String(s)
            }
            SqlValue::Number(n, _) => {
                PropertyValue::Number(if negative { format!("-{n}") } else { n })
            }
            SqlValue::Boolean(b) => PropertyValue::Boolean(b),
            other => {
                return self.err(format!(
                    "a property value must be a string, number or boolean, not {other}"
                ));
            }
        })
    }

    fn insert(&mut self) -> Result<StatementKind, SqlError> {
        self.expect_word("INTO")?;
        let target_location = self.location();
        let target = self.name()?;
        let columns = if self.p.peek_token_ref().token == Token::LParen {
            self.expect(Token::LParen)?;
            let mut names = vec![self.name()?];
            while self.p.consume_token(&Token::Comma) {
                names.push(self.name()?);
            }
            self.expect(Token::RParen)?;
            Some(names)
        } else {
            None
        };
        if self.word("VALUES") {
            self.expect(Token::LParen)?;
            let mut values = vec![self.expr()?];
            while self.p.consume_token(&Token::Comma) {
                values.push(self.expr()?);
            }
            self.expect(Token::RParen)?;
            return Ok(StatementKind::InsertValues {
                target,
                columns,
                values,
            });
        }
        if columns.is_some() {
            return self.err("expected VALUES after the column list");
        }
        let properties = if self.word("WITH") {
            self.properties()?
        } else {
            Properties::default()
        };
        self.expect_word("SELECT")?;
        Ok(StatementKind::InsertSelect {
            target,
            target_location,
            properties,
            query: self.query_after_select()?,
        })
    }

    fn show(&mut self) -> Result<StatementKind, SqlError> {
        let what = [
            ("STREAMS", ShowKind::Streams),
            ("TABLES", ShowKind::Tables),
            ("QUERIES", ShowKind::Queries),
            ("TOPICS", ShowKind::Topics),
            ("PROPERTIES", ShowKind::Properties),
            ("FUNCTIONS", ShowKind::Functions),
            ("TYPES", ShowKind::Types),
            ("VARIABLES", ShowKind::Variables),
        ];
        let all = self.word("ALL");
        for (word, kind) in what {
            if self.word(word) {
                let extended = self.word("EXTENDED");
                let _ = all;
                return Ok(StatementKind::Show {
                    what: kind,
                    extended,
                });
            }
        }
        let found = self.p.peek_token();
        self.err(format!("expected STREAMS, TABLES, QUERIES, TOPICS, PROPERTIES, FUNCTIONS, TYPES or VARIABLES, found '{}'", found.token))
    }

    fn describe(&mut self) -> Result<StatementKind, SqlError> {
        if self.word("FUNCTION") {
            return Ok(StatementKind::DescribeFunction(self.name()?));
        }
        let extended = self.word("EXTENDED");
        if self.word("STREAMS") {
            return Ok(StatementKind::DescribeSources {
                kind: SourceKind::Stream,
                extended: extended || self.word("EXTENDED"),
            });
        }
        if self.word("TABLES") {
            return Ok(StatementKind::DescribeSources {
                kind: SourceKind::Table,
                extended: extended || self.word("EXTENDED"),
            });
        }
        let name = self.name()?;
        Ok(StatementKind::Describe {
            name,
            extended: extended || self.word("EXTENDED"),
        })
    }

    fn explain(&mut self) -> Result<StatementKind, SqlError> {
        let next = self.p.peek_token();
        let starts_statement = matches!(&next.token, Token::Word(w) if w.quote_style.is_none()
            && ["CREATE", "INSERT", "SELECT"].iter().any(|k| w.value.eq_ignore_ascii_case(k)));
        if !starts_statement {
            return Ok(StatementKind::ExplainQuery(self.name()?));
        }
        let kind = self.statement()?;
        Ok(StatementKind::ExplainStatement(Box::new(Statement {
            kind,
            text: String::new(),
        })))
    }

    fn print(&mut self) -> Result<StatementKind, SqlError> {
        let topic = match self.p.peek_token().token {
            Token::SingleQuotedString(_) => self.string()?,
            _ => {
                let r = self.p.parse_identifier();
                self.lift(r)?.value
            }
        };
        let from_beginning = self.words(&["FROM", "BEGINNING"]);
        let interval = if self.word("INTERVAL") || self.word("SAMPLE") {
            Some(self.uint()?)
        } else {
            None
        };
        let limit = if self.p.parse_keyword(Keyword::LIMIT) {
            Some(self.uint()?)
        } else {
            None
        };
        Ok(StatementKind::Print {
            topic,
            from_beginning,
            interval,
            limit,
        })
    }

    fn drop(&mut self) -> Result<StatementKind, SqlError> {
        let kind = if self.word("STREAM") {
            SourceKind::Stream
        } else if self.word("TABLE") {
            SourceKind::Table
        } else if self.word("TYPE") {
            let if_exists = self.words(&["IF", "EXISTS"]);
            return Ok(StatementKind::DropType {
                name: self.name()?,
                if_exists,
            });
        } else {
            let found = self.p.peek_token();
            return self.err(format!(
                "expected STREAM, TABLE or TYPE after DROP, found '{}'",
                found.token
            ));
        };
        let if_exists = self.words(&["IF", "EXISTS"]);
        let name = self.name()?;
        let delete_topic = self.words(&["DELETE", "TOPIC"]);
        Ok(StatementKind::DropSource {
            kind,
            name,
            if_exists,
            delete_topic,
        })
    }
}
