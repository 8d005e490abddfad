//! Brook's sqlparser dialect: ksqlDB's lexical rules and expression syntax.
//!
//! - identifiers: letters, digits, `_`, `$`, `@`; quoted with backticks (case kept);
//! - `a->b`: struct field access, parsed as `CompoundFieldAccess` with a `Dot` access;
//! - `x => body` and `(x, y) => body`: lambdas (`Expr::Lambda`);
//! - a keyword followed by `(` (`FLOOR(x)`, `SUBSTRING(...)`): an ordinary function call;
//! - `name := value` inside `STRUCT(...)`/`MAP(...)`: a `BinaryOperator::Custom(":=")`.

use sqlparser::ast::{
    AccessExpr, BinaryOperator, CastKind, DataType, Expr, Ident, LambdaFunction,
    LambdaFunctionParameter, LambdaSyntax, ObjectName, OneOrManyWithParens,
};
use sqlparser::dialect::Dialect;
use sqlparser::keywords::Keyword;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::Token;

#[derive(Debug, Default, Clone, Copy)]
pub struct KsqlDialect;

/// Precedence of `->`, binding as tightly as `.`.
const ARROW_PRECEDENCE: u8 = 100;
/// Precedence of `:=` and `=>`, looser than any operator.
const ASSIGN_PRECEDENCE: u8 = 1;

impl Dialect for KsqlDialect {
    fn is_identifier_start(&self, ch: char) -> bool {
        ch.is_alphabetic() || ch == '_' || ch == '@' || ch == '$'
    }

    fn is_identifier_part(&self, ch: char) -> bool {
        ch.is_alphanumeric() || ch == '_' || ch == '@' || ch == '$'
    }

    fn is_delimited_identifier_start(&self, ch: char) -> bool {
        ch == '`' || ch == '"'
    }

    /// Whether a keyword whose own syntax failed to parse is an error rather than retried as a
    /// plain name. sqlparser retries it, which at every level of nesting doubles the work, so the
    /// keywords whose syntax nests expressions are reserved here: `CASE`, `NOT` (reserved in
    /// ksqlDB too) and `ARRAY` (its syntax starts only with `ARRAY[`, which ksqlDB always reads
    /// as the constructor, so `array` alone stays a name). Function-like keywords followed by
    /// `(` never reach their own syntax ([`Dialect::parse_prefix`] parses them as ordinary
    /// calls), and without `(` their syntax fails at once, so they stay usable as names
    /// (`SELECT floor FROM s`), as in ksqlDB, which reserves none of them.
    fn is_reserved_for_identifier(&self, keyword: Keyword) -> bool {
        matches!(keyword, Keyword::CASE | Keyword::NOT | Keyword::ARRAY)
    }

    /// `x => body` is a lambda, parsed by [`Dialect::parse_infix`]; as a named argument sqlparser
    /// would try every argument twice (once as `name => value`, then again as an expression),
    /// doubling the work at each level of nested lambdas.
    fn supports_named_fn_args_with_rarrow_operator(&self) -> bool {
        false
    }

    /// ksqlDB's lexer reads `1R` as an identifier (its DIGIT_IDENTIFIER), e.g. `AS 1R`.
    fn supports_numeric_prefix(&self) -> bool {
        true
    }

    /// Expressions that start with a keyword, parsed without sqlparser's special syntaxes for
    /// them (none of which is ksqlDB's) and so without its retries:
    /// - `CAST(expr AS type)` with ksqlDB's type syntax (`MAP<K, V>`, `STRUCT<...>`); the type
    ///   is carried as `DataType::Custom` holding its canonical spelling, see [`cast_type`];
    /// - any other keyword followed by `(` (`FLOOR(x)`, `SUBSTRING(s, 1, 2)`, `TRIM(s)`,
    ///   `POSITION(...)`) is an ordinary function call, as in ksqlDB's grammar, except `CASE`,
    ///   `NOT` and the literals `NULL`, `TRUE`, `FALSE`;
    /// - `INTERVAL` (a name in ksqlDB, which has no interval expressions) is a name.
    fn parse_prefix(&self, parser: &mut Parser) -> Option<Result<Expr, ParserError>> {
        let word = match &parser.peek_token_ref().token {
            Token::Word(w) if w.quote_style.is_none() && w.keyword != Keyword::NoKeyword => {
                w.clone()
            }
            _ => return None,
        };
        let call = parser.peek_nth_token_ref(1).token == Token::LParen;
        match word.keyword {
            Keyword::CASE | Keyword::NOT | Keyword::NULL | Keyword::TRUE | Keyword::FALSE => None,
            Keyword::CAST if call => {
                parser.next_token();
                Some(parse_cast(parser))
            }
            _ if call => {
                let span = parser.next_token().span;
                Some(parser.parse_function(ObjectName::from(vec![word.to_ident(span)])))
            }
            Keyword::INTERVAL => {
                let span = parser.next_token().span;
                Some(Ok(Expr::Identifier(word.to_ident(span))))
            }
            _ => None,
        }
    }

    fn get_next_precedence(&self, parser: &Parser) -> Option<Result<u8, ParserError>> {
        match parser.peek_token_ref().token {
            Token::Arrow => Some(Ok(ARROW_PRECEDENCE)),
            Token::Assignment | Token::RArrow => Some(Ok(ASSIGN_PRECEDENCE)),
            _ => None,
        }
    }

    fn parse_infix(
        &self,
        parser: &mut Parser,
        expr: &Expr,
        _precedence: u8,
    ) -> Option<Result<Expr, ParserError>> {
        if super::depth::chain_too_deep(expr) {
            let at = parser.peek_token_ref().span.start;
            return Some(Err(ParserError::ParserError(format!(
                "{} at Line: {}, Column: {}",
                super::depth::too_deep_message(),
                at.line,
                at.column
            ))));
        }
        match parser.peek_token_ref().token {
            Token::Arrow if field_access_depth(expr) >= MAX_FIELD_ACCESS_CHAIN => {
                let at = parser.peek_token_ref().span.start;
                Some(Err(ParserError::ParserError(format!(
                    "more than {MAX_FIELD_ACCESS_CHAIN} '->' field accesses in a row at Line: {}, Column: {}",
                    at.line, at.column
                ))))
            }
            Token::Arrow => {
                parser.next_token();
                Some(parse_field_access(parser, expr))
            }
            Token::Assignment => {
                parser.next_token();
                Some(
                    parser
                        .parse_subexpr(ASSIGN_PRECEDENCE)
                        .map(|value| Expr::BinaryOp {
                            left: Box::new(expr.clone()),
                            op: BinaryOperator::Custom(":=".to_string()),
                            right: Box::new(value),
                        }),
                )
            }
            Token::RArrow => {
                parser.next_token();
                Some(lambda_params(expr).and_then(|params| {
                    let body = parser.parse_subexpr(ASSIGN_PRECEDENCE)?;
                    Ok(Expr::Lambda(LambdaFunction {
                        params,
                        body: Box::new(body),
                        syntax: LambdaSyntax::Arrow,
                    }))
                }))
            }
            _ => None,
        }
    }
}

/// `->field`, then any `[index]` subscripts that follow it (`s->tags[1]`); `->*` (all fields of
/// a struct, only valid as a select item) becomes a `Dot(Wildcard)` access.
/// The most `->` in a row: each copies the expression it applies to (the dialect sees it only
/// by reference), so a long chain on a large expression would cost its length times its size.
const MAX_FIELD_ACCESS_CHAIN: usize = 64;

/// How many `->` accesses `e` already is, counting down its roots.
fn field_access_depth(mut e: &Expr) -> usize {
    let mut depth = 0;
    while let Expr::CompoundFieldAccess { root, .. } = e {
        depth += 1;
        e = root;
    }
    depth
}

fn parse_field_access(parser: &mut Parser, root: &Expr) -> Result<Expr, ParserError> {
    if parser.peek_token_ref().token == Token::Mul {
        let star = parser.next_token();
        return Ok(Expr::CompoundFieldAccess {
            root: Box::new(root.clone()),
            access_chain: vec![AccessExpr::Dot(Expr::Wildcard(
                sqlparser::ast::helpers::attached_token::AttachedToken(star),
            ))],
        });
    }
    let field = parser.parse_identifier()?;
    let mut chain = vec![AccessExpr::Dot(Expr::Identifier(field))];
    while parser.consume_token(&Token::LBracket) {
        let index = parser.parse_expr()?;
        parser.expect_token(&Token::RBracket)?;
        chain.push(AccessExpr::Subscript(sqlparser::ast::Subscript::Index {
            index,
        }));
    }
    Ok(Expr::CompoundFieldAccess {
        root: Box::new(root.clone()),
        access_chain: chain,
    })
}

fn parse_cast(parser: &mut Parser) -> Result<Expr, ParserError> {
    parser.expect_token(&Token::LParen)?;
    let expr = parser.parse_expr()?;
    parser.expect_keyword(sqlparser::keywords::Keyword::AS)?;
    let sql_type = super::types::parse_type(parser, &|_| None)?;
    parser.expect_token(&Token::RParen)?;
    Ok(Expr::Cast {
        kind: CastKind::Cast,
        expr: Box::new(expr),
        data_type: DataType::Custom(
            ObjectName::from(vec![Ident::new(sql_type.to_string())]),
            vec![],
        ),
        array: false,
        format: None,
    })
}

/// The target type of a `CAST` parsed by this dialect.
pub fn cast_type(data_type: &DataType) -> Option<crate::common::SqlType> {
    let DataType::Custom(name, _) = data_type else {
        return None;
    };
    let text = name.0.first()?.as_ident()?.value.clone();
    let dialect = KsqlDialect;
    let mut p = Parser::new(&dialect).try_with_sql(&text).ok()?;
    super::types::parse_type(&mut p, &|_| None).ok()
}

/// The parameters of `x => ...` or `(x, y) => ...`.
fn lambda_params(expr: &Expr) -> Result<OneOrManyWithParens<LambdaFunctionParameter>, ParserError> {
    let param = |e: &Expr| match e {
        Expr::Identifier(name) => Ok(LambdaFunctionParameter {
            name: name.clone(),
            data_type: None,
        }),
        other => Err(ParserError::ParserError(format!(
            "lambda parameters must be names, not '{other}'"
        ))),
    };
    match expr {
        Expr::Identifier(_) => Ok(OneOrManyWithParens::One(param(expr)?)),
        Expr::Nested(inner) => Ok(OneOrManyWithParens::Many(vec![param(inner)?])),
        Expr::Tuple(items) => Ok(OneOrManyWithParens::Many(
            items.iter().map(param).collect::<Result<_, _>>()?,
        )),
        other => Err(ParserError::ParserError(format!(
            "'=>' must follow lambda parameters, not '{other}'"
        ))),
    }
}
