//! `SELECT` in ksqlDB's clause order: select list, FROM with joins, WINDOW, WHERE, GROUP BY,
//! PARTITION BY, HAVING, EMIT, LIMIT.

use super::ast::*;
use super::error::SqlError;
use super::parser::StatementParser;
use sqlparser::ast::{SelectItem as SqlSelectItem, SelectItemQualifiedWildcardKind};
use sqlparser::parser::Parser;
use sqlparser::tokenizer::Token;

/// Words that end a source reference (so they are not taken as its alias).
const CLAUSE_WORDS: &[&str] = &[
    "WINDOW",
    "WHERE",
    "GROUP",
    "PARTITION",
    "HAVING",
    "EMIT",
    "LIMIT",
    "JOIN",
    "INNER",
    "LEFT",
    "RIGHT",
    "FULL",
    "OUTER",
    "ON",
    "WITHIN",
    "GRACE",
    "FOR",
];

impl StatementParser<'_> {
    pub fn query_after_select(&mut self) -> Result<Query, SqlError> {
        let mut select = Vec::new();
        loop {
            let location = self.location();
            let r = Parser::parse_select_item(&mut self.p);
            let item = bounded_item(self.lift(r)?, location)?;
            select.push((self.select_item(item)?, location));
            if !self.p.consume_token(&Token::Comma) {
                break;
            }
        }
        self.expect_word("FROM")?;
        let from = self.aliased_source()?;
        let mut joins = Vec::new();
        while let Some(kind) = self.join_kind() {
            joins.push(self.join(kind)?);
        }
        let window = if self.word("WINDOW") {
            Some(self.window()?)
        } else {
            None
        };
        let where_clause = if self.word("WHERE") {
            Some(self.expr()?)
        } else {
            None
        };
        let group_by = if self.words(&["GROUP", "BY"]) {
            self.group_by()?
        } else {
            Vec::new()
        };
        let partition_by = if self.words(&["PARTITION", "BY"]) {
            self.partition_by()?
        } else {
            Vec::new()
        };
        let having = if self.word("HAVING") {
            Some(self.expr()?)
        } else {
            None
        };
        let emit = if self.word("EMIT") {
            if self.word("CHANGES") {
                Some(Emit::Changes)
            } else if self.word("FINAL") {
                Some(Emit::Final)
            } else {
                return self.err("expected CHANGES or FINAL after EMIT");
            }
        } else {
            None
        };
        let limit = if self.word("LIMIT") {
            Some(self.limit(emit.is_none())?)
        } else {
            None
        };
        Ok(Query {
            select,
            from,
            joins,
            window,
            where_clause,
            group_by,
            partition_by,
            having,
            emit,
            limit,
        })
    }

    /// LIMIT's row count: a non-negative integer (ksqlDB's messages for the others).
    fn limit(&mut self, pull: bool) -> Result<u64, SqlError> {
        match self.p.peek_token().token {
            Token::Minus if pull => self.err(
                "Pull queries don't support negative integers in the LIMIT clause. See https://cnfl.io/queries for more info.",
            ),
            Token::Minus => self.err("LIMIT must be a non-negative integer"),
            Token::Number(n, _) if n.parse::<u64>().is_err() => {
                self.err("Failed to prepare statement: Value must be integer for command: LIMIT")
            }
            _ => self.uint(),
        }
    }

    fn select_item(&self, item: SqlSelectItem) -> Result<SelectItem, SqlError> {
        Ok(match item {
            SqlSelectItem::UnnamedExpr(expr) => match struct_fields_root(&expr) {
                Some(root) => SelectItem::StructFields(root),
                None => SelectItem::Expr { expr, alias: None },
            },
            SqlSelectItem::ExprWithAlias { expr, alias } => {
                let alias = if alias.quote_style.is_some() {
                    alias.value
                } else {
                    alias.value.to_ascii_uppercase()
                };
                SelectItem::Expr {
                    expr,
                    alias: Some(alias),
                }
            }
            SqlSelectItem::Wildcard(_) => SelectItem::Wildcard,
            SqlSelectItem::QualifiedWildcard(
                SelectItemQualifiedWildcardKind::ObjectName(name),
                _,
            ) => {
                let ident = name.0.last().and_then(|p| p.as_ident()).cloned();
                let Some(ident) = ident else {
                    return self.err("expected a source name before '.*'");
                };
                SelectItem::QualifiedWildcard(if ident.quote_style.is_some() {
                    ident.value
                } else {
                    ident.value.to_ascii_uppercase()
                })
            }
            other => return self.err(format!("unsupported select item '{other}'")),
        })
    }

    /// `PARTITION BY` takes value expressions (no comparisons or boolean operators, as in
    /// ksqlDB's grammar), optionally in parentheses; `()` is an error.
    fn partition_by(&mut self) -> Result<Vec<Expr>, SqlError> {
        if self.p.peek_token_ref().token == Token::LParen
            && self.p.peek_nth_token_ref(1).token == Token::RParen
        {
            return self.err("PARTITION BY requires at least one expression");
        }
        let mut exprs = vec![self.value_expr()?];
        while self.p.consume_token(&Token::Comma) {
            exprs.push(self.value_expr()?);
        }
        if let [Expr::Tuple(items)] = exprs.as_slice() {
            return Ok(items.clone());
        }
        Ok(exprs)
    }

    /// `GROUP BY` takes value expressions, as PARTITION BY does: all of them in one pair of
    /// parentheses, or each on its own (a parenthesised list among others is a syntax error,
    /// as in ksqlDB).
    fn group_by(&mut self) -> Result<Vec<Expr>, SqlError> {
        let mut exprs = vec![self.value_expr()?];
        while self.p.consume_token(&Token::Comma) {
            exprs.push(self.value_expr()?);
        }
        match exprs.as_slice() {
            [Expr::Tuple(items)] => Ok(items.clone()),
            list => match list.iter().find_map(|e| match e {
                Expr::Tuple(items) => items.first(),
                _ => None,
            }) {
                // ksqlDB's parser stops at the comma after the list's first expression.
                Some(first) => {
                    use sqlparser::ast::Spanned;
                    let end = first.span().end;
                    let at = Location {
                        line: end.line,
                        column: end.column,
                    };
                    Err(SqlError::new("Syntax Error\nmissing ')' at ','", at))
                }
                None => Ok(exprs),
            },
        }
    }

    /// An expression without comparisons, IS, LIKE, BETWEEN, IN, NOT, AND or OR at its top.
    fn value_expr(&mut self) -> Result<Expr, SqlError> {
        use sqlparser::dialect::{Dialect, Precedence};
        let comparison = super::KsqlDialect.prec_value(Precedence::Eq);
        let start = self.location();
        let r = self.p.parse_subexpr(comparison);
        let e = self.lift(r)?;
        super::parser::bounded(e, start)
    }

    fn aliased_source(&mut self) -> Result<AliasedSource, SqlError> {
        let location = self.location();
        let name = self.name()?;
        let alias = self.alias()?;
        Ok(AliasedSource {
            name,
            alias,
            location,
        })
    }

    /// A source's alias (`[AS] alias`), if one follows.
    fn alias(&mut self) -> Result<Option<String>, SqlError> {
        let explicit = self.word("AS");
        match &self.p.peek_token_ref().token {
            Token::Word(w)
                if explicit
                    || w.quote_style.is_some()
                    || !CLAUSE_WORDS.iter().any(|c| w.value.eq_ignore_ascii_case(c)) =>
            {
                Ok(Some(self.name()?))
            }
            _ if explicit => self.err("expected an alias after AS"),
            _ => Ok(None),
        }
    }

    fn join_kind(&mut self) -> Option<JoinKind> {
        if self.word("JOIN") || self.words(&["INNER", "JOIN"]) {
            return Some(JoinKind::Inner);
        }
        for (word, kind) in [
            ("LEFT", JoinKind::Left),
            ("RIGHT", JoinKind::Right),
            ("FULL", JoinKind::Full),
        ] {
            if self.words(&[word, "JOIN"]) || self.words(&[word, "OUTER", "JOIN"]) {
                return Some(kind);
            }
        }
        None
    }

    fn join(&mut self, kind: JoinKind) -> Result<Join, SqlError> {
        let mut right = self.aliased_source()?;
        // Brook's temporal join: `JOIN t FOR SYSTEM_TIME AS OF s.ROWTIME [AS] alias` (Flink's
        // form: the alias after the clause), or with the alias before it.
        let mut as_of = None;
        if self.words(&["FOR", "SYSTEM_TIME", "AS", "OF"]) {
            as_of = Some(self.value_expr()?);
            if right.alias.is_none() {
                right.alias = self.alias()?;
            }
        }
        let mut within = None;
        let mut grace_ms = None;
        if self.word("WITHIN") {
            if self.p.consume_token(&Token::LParen) {
                let before = self.duration()?;
                self.expect(Token::Comma)?;
                let after = self.duration()?;
                self.expect(Token::RParen)?;
                within = Some((before, after));
            } else {
                let both = self.duration()?;
                within = Some((both, both));
            }
            if self.words(&["GRACE", "PERIOD"]) {
                grace_ms = Some(self.duration()?);
            }
        }
        self.expect_word("ON")?;
        let on = self.expr()?;
        Ok(Join {
            kind,
            right,
            within,
            grace_ms,
            as_of,
            on,
        })
    }

    fn window(&mut self) -> Result<WindowSpec, SqlError> {
        let kind = self.window_kind();
        // ksqlDB's grammar lets a window be named: `WINDOW w TUMBLING (...)`.
        let kind = match kind {
            Some(kind) => Some(kind),
            None if self.name().is_ok() => self.window_kind(),
            None => None,
        };
        let Some(kind) = kind else {
            return self.err("expected TUMBLING, HOPPING or SESSION after WINDOW");
        };
        self.window_body(kind)
    }

    fn window_kind(&mut self) -> Option<WindowKind> {
        if self.word("TUMBLING") {
            Some(WindowKind::Tumbling)
        } else if self.word("HOPPING") {
            Some(WindowKind::Hopping)
        } else if self.word("SESSION") {
            Some(WindowKind::Session)
        } else {
            None
        }
    }

    fn window_body(&mut self, kind: WindowKind) -> Result<WindowSpec, SqlError> {
        self.expect(Token::LParen)?;
        let mut spec = WindowSpec {
            kind,
            size_ms: 0,
            advance_ms: None,
            retention_ms: None,
            grace_ms: None,
        };
        if kind == WindowKind::Session {
            spec.size_ms = self.duration()?;
        } else {
            self.expect_word("SIZE")?;
            spec.size_ms = self.duration()?;
        }
        while self.p.consume_token(&Token::Comma) {
            if self.words(&["ADVANCE", "BY"]) {
                spec.advance_ms = Some(self.duration()?);
            } else if self.word("RETENTION") {
                spec.retention_ms = Some(self.duration()?);
            } else if self.words(&["GRACE", "PERIOD"]) {
                spec.grace_ms = Some(self.duration()?);
            } else {
                return self.err("expected ADVANCE BY, RETENTION or GRACE PERIOD");
            }
        }
        self.expect(Token::RParen)?;
        if kind == WindowKind::Hopping && spec.advance_ms.is_none() {
            return self.err("a HOPPING window needs ADVANCE BY");
        }
        Ok(spec)
    }

    /// `n UNIT` in milliseconds.
    pub fn duration(&mut self) -> Result<i64, SqlError> {
        let amount = self.uint()? as i64;
        let token = self.p.next_token();
        let unit = match &token.token {
            Token::Word(w) => w.value.to_ascii_uppercase(),
            _ => return self.err(format!("expected a time unit, found '{}'", token.token)),
        };
        let Some(ms) = unit_millis(&unit) else {
            return self.err(format!("unknown time unit '{unit}'"));
        };
        Ok(amount * ms)
    }
}

/// `root` of a `root->*` select item.
fn struct_fields_root(expr: &Expr) -> Option<Expr> {
    let Expr::CompoundFieldAccess { root, access_chain } = expr else {
        return None;
    };
    let (last, rest) = access_chain.split_last()?;
    if !matches!(last, sqlparser::ast::AccessExpr::Dot(Expr::Wildcard(_))) {
        return None;
    }
    Some(if rest.is_empty() {
        (**root).clone()
    } else {
        Expr::CompoundFieldAccess {
            root: root.clone(),
            access_chain: rest.to_vec(),
        }
    })
}

/// Milliseconds in one of ksqlDB's duration units (upper case, singular or plural).
pub fn unit_millis(unit: &str) -> Option<i64> {
    match unit.trim_end_matches('S') {
        "MILLISECOND" => Some(1),
        "SECOND" => Some(1_000),
        "MINUTE" => Some(60_000),
        "HOUR" => Some(3_600_000),
        "DAY" => Some(86_400_000),
        _ => None,
    }
}

/// `item` if its expression nests no deeper than the limit (see `parser::bounded`).
fn bounded_item(item: SqlSelectItem, start: Location) -> Result<SqlSelectItem, SqlError> {
    Ok(match item {
        SqlSelectItem::UnnamedExpr(expr) => {
            SqlSelectItem::UnnamedExpr(super::parser::bounded(expr, start)?)
        }
        SqlSelectItem::ExprWithAlias { expr, alias } => SqlSelectItem::ExprWithAlias {
            expr: super::parser::bounded(expr, start)?,
            alias,
        },
        other => other,
    })
}
