//! Parses ksqlDB type syntax: `INT`, `DECIMAL(10, 2)`, `ARRAY<T>`, `MAP<K, V>`,
//! `STRUCT<name T, ...>`, and names of types made with `CREATE TYPE`.

use crate::common::{SqlType, StructField};
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::Token;

/// Looks up a type created with `CREATE TYPE`.
pub type TypeResolver<'a> = &'a dyn Fn(&str) -> Option<SqlType>;

/// Parses one type. `>>` closing two nested types is handled.
pub fn parse_type(p: &mut Parser, resolve: TypeResolver) -> Result<SqlType, ParserError> {
    let mut pending_gt = 0usize;
    let t = parse_inner(p, resolve, &mut pending_gt)?;
    if pending_gt > 0 {
        return Err(ParserError::ParserError("unbalanced '>' in type".into()));
    }
    Ok(t)
}

fn parse_inner(
    p: &mut Parser,
    resolve: TypeResolver,
    pending_gt: &mut usize,
) -> Result<SqlType, ParserError> {
    let token = p.next_token();
    let Token::Word(word) = &token.token else {
        return p.expected("a type", token);
    };
    let name = word.value.to_ascii_uppercase();
    let simple = |t: SqlType, p: &mut Parser| type_parameters(p).map(|()| t);
    Ok(match name.as_str() {
        "BOOLEAN" => simple(SqlType::Boolean, p)?,
        "INT" | "INTEGER" => simple(SqlType::Int, p)?,
        "BIGINT" => simple(SqlType::Bigint, p)?,
        "DOUBLE" => simple(SqlType::Double, p)?,
        "VARCHAR" | "STRING" => simple(SqlType::String, p)?,
        "BYTES" => simple(SqlType::Bytes, p)?,
        "TIMESTAMP" => simple(SqlType::Timestamp, p)?,
        "DATE" => simple(SqlType::Date, p)?,
        "TIME" => simple(SqlType::Time, p)?,
        "DECIMAL" => parse_decimal(p)?,
        "ARRAY" => {
            expect_lt(p)?;
            let element = parse_inner(p, resolve, pending_gt)?;
            expect_gt(p, pending_gt)?;
            SqlType::array(element)
        }
        "MAP" => {
            expect_lt(p)?;
            let key = parse_inner(p, resolve, pending_gt)?;
            p.expect_token(&Token::Comma)?;
            let value = parse_inner(p, resolve, pending_gt)?;
            expect_gt(p, pending_gt)?;
            SqlType::map(key, value)
        }
        "STRUCT" => parse_struct(p, resolve, pending_gt)?,
        _ => {
            let key = if word.quote_style.is_some() {
                word.value.clone()
            } else {
                name.clone()
            };
            match resolve(&key) {
                Some(t) => t,
                None => {
                    let (line, column) = (token.span.start.line, token.span.start.column);
                    // NULL is a keyword, not a type name: ANTLR's wording for ksqlDB.
                    let message = if name == "NULL" && word.quote_style.is_none() {
                        format!("Syntax error at or near 'NULL' at line {line}:{column}")
                    } else {
                        format!("Unknown type: {}", word.value)
                    };
                    return Err(ParserError::ParserError(format!(
                        "{message} at Line: {line}, Column: {column}"
                    )));
                }
            }
        }
    })
}

/// ksqlDB's grammar lets a simple type take parameters, each 'STRING' or an integer, which
/// it then ignores (`VARCHAR(STRING)` is a STRING).
fn type_parameters(p: &mut Parser) -> Result<(), ParserError> {
    if !p.consume_token(&Token::LParen) {
        return Ok(());
    }
    loop {
        let token = p.next_token();
        match &token.token {
            Token::Number(..) => {}
            Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("STRING") => {
            }
            _ => {
                return Err(ParserError::ParserError(format!(
                    "Expecting {{'STRING', INTEGER_VALUE}} at Line: {}, Column: {}",
                    token.span.start.line, token.span.start.column
                )));
            }
        }
        if !p.consume_token(&Token::Comma) {
            break;
        }
    }
    p.expect_token(&Token::RParen).map(|_| ())
}

fn parse_decimal(p: &mut Parser) -> Result<SqlType, ParserError> {
    p.expect_token(&Token::LParen)?;
    let precision = p.parse_literal_uint()?;
    p.expect_token(&Token::Comma)?;
    let scale = p.parse_literal_uint()?;
    p.expect_token(&Token::RParen)?;
    // ksqlDB's SqlDecimal only requires 1 <= precision and scale <= precision (BigDecimal has no
    // upper bound), so a DECIMAL(50, 30) column is declared fine and its use fails later (for
    // instance when a function cannot be resolved for it). Brook's decimal values are 128-bit
    // (at most 38 digits); the type itself is kept as declared, up to what u8/i8 hold.
    if precision == 0 {
        return Err(ParserError::ParserError(format!(
            "DECIMAL precision must be >= 1: DECIMAL({precision},{scale})"
        )));
    }
    if scale > precision {
        return Err(ParserError::ParserError(format!(
            "DECIMAL scale must be equal to or less than precision. scale: {scale}, precision: {precision}"
        )));
    }
    let (Ok(precision), Ok(scale)) = (u8::try_from(precision), i8::try_from(scale)) else {
        return Err(ParserError::ParserError(format!(
            "DECIMAL({precision}, {scale}) is wider than Brook supports"
        )));
    };
    Ok(SqlType::decimal(precision, scale))
}

fn parse_struct(
    p: &mut Parser,
    resolve: TypeResolver,
    pending_gt: &mut usize,
) -> Result<SqlType, ParserError> {
    expect_lt(p)?;
    let mut fields: Vec<StructField> = Vec::new();
    if p.consume_token(&Token::Gt) {
        return Ok(SqlType::Struct(fields));
    }
    loop {
        let ident = p.parse_identifier()?;
        let name = if ident.quote_style.is_some() {
            ident.value
        } else {
            ident.value.to_ascii_uppercase()
        };
        if fields.iter().any(|f| f.name == name) {
            return Err(ParserError::ParserError(format!(
                "Duplicate field names found in STRUCT: '{name}'"
            )));
        }
        let sql_type = parse_inner(p, resolve, pending_gt)?;
        fields.push(StructField { name, sql_type });
        if *pending_gt > 0 || !p.consume_token(&Token::Comma) {
            break;
        }
    }
    expect_gt(p, pending_gt)?;
    Ok(SqlType::Struct(fields))
}

fn expect_lt(p: &mut Parser) -> Result<(), ParserError> {
    p.expect_token(&Token::Lt).map(|_| ())
}

/// Accepts `>`, or half of a `>>` token.
fn expect_gt(p: &mut Parser, pending_gt: &mut usize) -> Result<(), ParserError> {
    if *pending_gt > 0 {
        *pending_gt -= 1;
        return Ok(());
    }
    let token = p.next_token();
    match token.token {
        Token::Gt => Ok(()),
        Token::ShiftRight => {
            *pending_gt += 1;
            Ok(())
        }
        _ => p.expected("'>'", token),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::dialect::KsqlDialect;

    fn parse(text: &str) -> Result<SqlType, ParserError> {
        let dialect = KsqlDialect;
        let mut p = Parser::new(&dialect).try_with_sql(text)?;
        parse_type(&mut p, &|name| {
            (name == "ADDRESS").then(|| SqlType::Struct(vec![]))
        })
    }

    #[test]
    fn parses_nested_types_and_custom_names() {
        let t = parse("MAP<STRING, ARRAY<STRUCT<`a` INT, B DECIMAL(4, 2)>>>").expect("type");
        assert_eq!(
            t.to_string(),
            "MAP<STRING, ARRAY<STRUCT<`a` INTEGER, `B` DECIMAL(4, 2)>>>"
        );
        assert_eq!(parse("address").expect("custom"), SqlType::Struct(vec![]));
        assert_eq!(
            parse("ARRAY<ARRAY<INT>>").expect("type"),
            SqlType::array(SqlType::array(SqlType::Int))
        );
        assert!(parse("DECIMAL(2, 3)").is_err());
        assert!(parse("DECIMAL(0, 0)").is_err());
        // As in ksqlDB, precision has no upper bound in the type.
        assert_eq!(
            parse("DECIMAL(50, 30)").expect("wide decimal"),
            SqlType::decimal(50, 30)
        );
        assert!(parse("NOPE").is_err());
        assert!(parse("ARRAY<INT").is_err());
    }
}
