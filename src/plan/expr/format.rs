//! Expressions as ksqlDB's `ExpressionFormatter` prints them in messages: binary operations,
//! predicates and CASE in parentheses (`(RANDOM() + 1.5)`), unquoted identifiers upper-cased,
//! string literals single-quoted, `NOT x` as `(NOT x)`, constructors as `ARRAY[..]`,
//! `STRUCT(F:=v)` and `MAP(k:=v)`.

use super::binder::ident_name;
use crate::sql::Expr;
use sqlparser::ast::{
    AccessExpr, BinaryOperator, CaseWhen, Function, FunctionArg, FunctionArgExpr,
    FunctionArguments, Subscript, UnaryOperator, Value,
};

thread_local! {
    /// Whether `alias.column` prints as `ALIAS_COLUMN` ([`with_joined_names`]).
    static JOINED_NAMES: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` with `alias.column` printed as `ALIAS_COLUMN` in messages when `joined`: ksqlDB
/// plans an aggregation over a join with its column references rewritten to the joined row's
/// names (`LogicalPlanner`'s `ColumnReferenceRewriter`), so its messages name `I1_BAR`.
pub fn with_joined_names<T>(joined: bool, f: impl FnOnce() -> T) -> T {
    let outer = JOINED_NAMES.with(|j| j.replace(joined));
    let result = f();
    JOINED_NAMES.with(|j| j.set(outer));
    result
}

/// The text of `e` as ksqlDB shows it in messages (`Expression.toString()`).
pub fn ksql_text(e: &Expr) -> String {
    match e {
        Expr::Identifier(i) => ident_name(i),
        Expr::CompoundIdentifier(parts) => {
            let separator = match parts.len() == 2 && JOINED_NAMES.with(|j| j.get()) {
                true => "_",
                false => ".",
            };
            parts
                .iter()
                .map(ident_name)
                .collect::<Vec<_>>()
                .join(separator)
        }
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) => format!("'{}'", s.replace('\'', "''")),
            Value::Boolean(b) => b.to_string(),
            Value::Null => "null".into(),
            other => other.to_string(),
        },
        Expr::Nested(inner) => ksql_text(inner),
        Expr::BinaryOp { left, op, right } => match binary_symbol(op) {
            Some(sym) => format!("({} {sym} {})", ksql_text(left), ksql_text(right)),
            None if matches!(op, BinaryOperator::Custom(c) if c == ":=") => {
                format!("{}:={}", ksql_text(left), ksql_text(right))
            }
            None => e.to_string(),
        },
        Expr::UnaryOp { op, expr } => {
            let inner = ksql_text(expr);
            match op {
                UnaryOperator::Not => format!("(NOT {inner})"),
                UnaryOperator::Minus if inner.starts_with('-') => format!("- {inner}"),
                UnaryOperator::Minus => format!("-{inner}"),
                UnaryOperator::Plus => format!("+{inner}"),
                _ => e.to_string(),
            }
        }
        Expr::IsNull(x) => format!("({} IS NULL)", ksql_text(x)),
        Expr::IsNotNull(x) => format!("({} IS NOT NULL)", ksql_text(x)),
        Expr::IsDistinctFrom(l, r) => {
            format!("({} IS DISTINCT FROM {})", ksql_text(l), ksql_text(r))
        }
        Expr::IsNotDistinctFrom(l, r) => {
            format!("({} IS NOT DISTINCT FROM {})", ksql_text(l), ksql_text(r))
        }
        Expr::Between {
            expr,
            negated,
            low,
            high,
        } => negate(
            *negated,
            format!(
                "({} BETWEEN {} AND {})",
                ksql_text(expr),
                ksql_text(low),
                ksql_text(high)
            ),
        ),
        Expr::InList {
            expr,
            list,
            negated,
        } => negate(
            *negated,
            format!("({} IN ({}))", ksql_text(expr), join(list)),
        ),
        Expr::Like {
            negated,
            expr,
            pattern,
            escape_char,
            ..
        } => {
            let escape = escape_char
                .as_ref()
                .map(|c| match &c.value {
                    Value::SingleQuotedString(s) => format!(" ESCAPE '{s}'"),
                    other => format!(" ESCAPE {other}"),
                })
                .unwrap_or_default();
            negate(
                *negated,
                format!("({} LIKE {}{escape})", ksql_text(expr), ksql_text(pattern)),
            )
        }
        Expr::Case {
            operand,
            conditions,
            else_result,
            ..
        } => case_text(operand.as_deref(), conditions, else_result.as_deref()),
        Expr::Cast {
            expr, data_type, ..
        } => {
            let ty = crate::sql::cast_type(data_type)
                .map_or_else(|| data_type.to_string(), |t| t.to_string());
            format!("CAST({} AS {ty})", ksql_text(expr))
        }
        Expr::Function(f) => function_text(f).unwrap_or_else(|| e.to_string()),
        Expr::Array(array) => format!("ARRAY[{}]", join(&array.elem)),
        Expr::CompoundFieldAccess { root, access_chain } => {
            let mut out = ksql_text(root);
            for access in access_chain {
                match access {
                    AccessExpr::Dot(Expr::Identifier(field)) => {
                        out.push_str("->");
                        out.push_str(&ident_name(field));
                    }
                    AccessExpr::Subscript(Subscript::Index { index }) => {
                        out = format!("{out}[{}]", ksql_text(index));
                    }
                    _ => return e.to_string(),
                }
            }
            out
        }
        Expr::Lambda(l) => {
            let params = match &l.params {
                sqlparser::ast::OneOrManyWithParens::One(p) => ident_name(&p.name),
                sqlparser::ast::OneOrManyWithParens::Many(ps) => ps
                    .iter()
                    .map(|p| ident_name(&p.name))
                    .collect::<Vec<_>>()
                    .join(", "),
            };
            format!("({params}) => {}", ksql_text(&l.body))
        }
        other => other.to_string(),
    }
}

/// ksqlDB parses `x NOT IN ..`, `NOT BETWEEN` and `NOT LIKE` as `NOT (x IN ..)`.
fn negate(negated: bool, text: String) -> String {
    if negated {
        format!("(NOT {text})")
    } else {
        text
    }
}

fn binary_symbol(op: &BinaryOperator) -> Option<&'static str> {
    Some(match op {
        BinaryOperator::Plus => "+",
        BinaryOperator::Minus => "-",
        BinaryOperator::Multiply => "*",
        BinaryOperator::Divide => "/",
        BinaryOperator::Modulo => "%",
        BinaryOperator::Eq => "=",
        BinaryOperator::NotEq => "<>",
        BinaryOperator::Lt => "<",
        BinaryOperator::LtEq => "<=",
        BinaryOperator::Gt => ">",
        BinaryOperator::GtEq => ">=",
        BinaryOperator::And => "AND",
        BinaryOperator::Or => "OR",
        _ => return None,
    })
}

fn case_text(operand: Option<&Expr>, conditions: &[CaseWhen], otherwise: Option<&Expr>) -> String {
    let mut parts = vec!["CASE".to_string()];
    if let Some(op) = operand {
        parts.push(ksql_text(op));
    }
    for c in conditions {
        parts.push(format!(
            "WHEN {} THEN {}",
            ksql_text(&c.condition),
            ksql_text(&c.result)
        ));
    }
    if let Some(o) = otherwise {
        parts.push(format!("ELSE {}", ksql_text(o)));
    }
    parts.push("END".into());
    format!("({})", parts.join(" "))
}

fn function_text(f: &Function) -> Option<String> {
    let name = f.name.to_string().to_ascii_uppercase();
    let args = match &f.args {
        FunctionArguments::List(list) => list
            .args
            .iter()
            .map(|a| match a {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(ksql_text(e)),
                FunctionArg::Unnamed(FunctionArgExpr::Wildcard) => Some("*".into()),
                FunctionArg::Named {
                    name,
                    arg: FunctionArgExpr::Expr(e),
                    ..
                } => Some(format!("{}:={}", ident_name(name), ksql_text(e))),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()?,
        FunctionArguments::None => Vec::new(),
        FunctionArguments::Subquery(_) => return None,
    };
    Some(format!("{name}({})", args.join(", ")))
}

fn join(items: &[Expr]) -> String {
    items.iter().map(ksql_text).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::KsqlDialect;
    use sqlparser::parser::Parser;

    fn text(sql: &str) -> String {
        let dialect = KsqlDialect;
        let expr = Parser::new(&dialect)
            .try_with_sql(sql)
            .and_then(|mut p| p.parse_expr())
            .expect("parses");
        ksql_text(&expr)
    }

    #[test]
    fn binary_operations_are_parenthesised() {
        assert_eq!(text("RANDOM() + 1.5"), "(RANDOM() + 1.5)");
        assert_eq!(text("a * (b - 2) = 'x'"), "((A * (B - 2)) = 'x')");
        assert_eq!(text("NOT a AND b IS NULL"), "((NOT A) AND (B IS NULL))");
        assert_eq!(text("x NOT IN (1, 2)"), "(NOT (X IN (1, 2)))");
        assert_eq!(text("`low` BETWEEN 1 AND 2"), "(low BETWEEN 1 AND 2)");
    }

    #[test]
    fn literals_and_constructors_print_as_in_ksql() {
        assert_eq!(text("'it''s'"), "'it''s'");
        assert_eq!(text("ARRAY[1, null, true]"), "ARRAY[1, null, true]");
        assert_eq!(text("ucase(s)"), "UCASE(S)");
        assert_eq!(
            text("CASE WHEN a THEN 1 ELSE 2 END"),
            "(CASE WHEN A THEN 1 ELSE 2 END)"
        );
    }
}
