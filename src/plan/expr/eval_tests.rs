//! Unit tests of `eval.rs`: where a failure fails the expression and where it is NULL.

use super::*;
use crate::plan::expr::take_nested_failures;
use crate::plan::functions::FunctionRegistry;

fn call(name: &str, args: Vec<TExpr>, ty: SqlType) -> TExpr {
    let function = FunctionRegistry::standard().get(name).expect("function");
    TExpr::new(Node::Call { function, args }, ty)
}

fn text(s: &str) -> TExpr {
    TExpr::literal(Value::String(s.into()), SqlType::String)
}

/// `PARSE_DATE(s, 'yyyy-MM-dd')`, which fails for `s = '2004'`.
fn parse_date(s: &str) -> TExpr {
    call(
        "PARSE_DATE",
        vec![text(s), text("yyyy-MM-dd")],
        SqlType::Date,
    )
}

#[test]
fn a_failing_call_fails_the_expression_unless_it_is_an_argument() {
    take_nested_failures();
    assert!(eval(&parse_date("2004"), &[], &[]).is_err(), "at the top");
    assert!(take_nested_failures().is_empty());

    let either = call(
        "COALESCE",
        vec![parse_date("2004"), parse_date("2004-01-01")],
        SqlType::Date,
    );
    assert_eq!(eval(&either, &[], &[]), Ok(Value::Date(12418)));
    let noted = take_nested_failures();
    assert_eq!(noted.len(), 1, "{noted:?}");
    assert!(
        noted[0].starts_with("Error processing PARSE_DATE: "),
        "{noted:?}"
    );

    let cast = TExpr::new(Node::Cast(Box::new(text("x"))), SqlType::Int);
    assert_eq!(eval(&cast, &[], &[]), Ok(Value::Null));
    assert_eq!(take_nested_failures().len(), 1, "a failed CAST is noted");
}
