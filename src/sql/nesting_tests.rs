//! Nested expressions parse in time linear in their size: every construct that nests, at every
//! depth up to past sqlparser's recursion limit, with a syntax error at the bottom, is answered
//! with an error without sqlparser retrying the failed inner parse at each level (which doubled
//! the work per level: 20 nested lambdas took 19 s). A regression shows as a test that does not
//! end. Select items are measured for depth like every other expression.

use super::*;
use sqlparser::ast::Expr as SqlExpr;

/// Every construct that nests, as (opening, closing) around the inner expression, and whether
/// a shallow nesting with a valid bottom is a valid statement.
const NESTING: &[(&str, &str, bool)] = &[
    ("ARRAY[", "]", true),
    ("MAP('k' := ", ")", true),
    ("STRUCT(a := ", ")", true),
    ("CASE WHEN v THEN ", " END", true),
    ("CASE v WHEN 1 THEN 2 ELSE ", " END", true),
    ("CAST(", " AS INT)", true),
    ("ABS(", ")", true),
    ("TRANSFORM(ARRAY[1], x => ", ")", true),
    ("REDUCE(ARRAY[1], 0, (s, x) => ", ")", true),
    ("FILTER(ARRAY[1], (x) => ", ")", true),
    ("(", ")", true),
    ("(1, ", ")", true),
    ("a[", "]", true),
    ("s->f[", "]", true),
    ("(", ")->f", true),
    ("1 + (", ")", true),
    ("FLOOR(", ")", true),
    ("CEIL(", ")", true),
    ("SUBSTRING(", ", 1)", true),
    ("SUBSTR(", ", 1, 2)", true),
    ("TRIM(", ")", true),
    ("EXTRACT(", ")", true),
    ("POSITION(", ", 'a')", true),
    ("CONVERT(", ")", true),
    ("OVERLAY(", ")", true),
    ("TRY_CAST(", ")", true),
    ("CURRENT_DATE(", ")", true),
    ("EXISTS(", ")", true),
    ("ARRAY(", ")", true),
    ("INTERVAL(", ")", true),
    ("s.f(", ")", true),
    ("- ", "", true),
    ("NOT ", "", true),
    ("v BETWEEN 1 AND ", "", true),
    ("v IN (", ")", true),
    ("INTERVAL ", "", false),
];

fn nested(open: &str, close: &str, depth: usize, bottom: &str) -> String {
    format!(
        "SELECT {}{bottom}{} FROM s;",
        open.repeat(depth),
        close.repeat(depth)
    )
}

#[test]
fn nested_constructs_with_an_error_at_the_bottom_are_refused() {
    for (open, close, valid) in NESTING {
        if *valid {
            let text = nested(open, close, 3, "v");
            assert!(parse_statement(&text, &|_| None).is_ok(), "{text}");
        }
        for depth in [5, 10, 15, 20, 25, 30, 45] {
            let text = nested(open, close, depth, "v +");
            assert!(parse_statement(&text, &|_| None).is_err(), "{text}");
        }
    }
}

/// The first select item of `text`.
fn item(text: &str) -> SqlExpr {
    match parse_statement(text, &|_| None).map(|s| s.kind) {
        Ok(StatementKind::Select(q)) => match q.select.into_iter().next() {
            Some((SelectItem::Expr { expr, .. }, _)) => expr,
            other => panic!("{text}: {other:?}"),
        },
        other => panic!("{text}: {other:?}"),
    }
}

#[test]
fn single_parameter_lambdas_are_lambdas() {
    let SqlExpr::Function(f) = item("SELECT TRANSFORM(a, x => x + 1) FROM s;") else {
        panic!("not a call")
    };
    let sqlparser::ast::FunctionArguments::List(list) = &f.args else {
        panic!("no arguments")
    };
    let arg = list.args[1].to_string();
    assert!(
        matches!(
            &list.args[1],
            sqlparser::ast::FunctionArg::Unnamed(sqlparser::ast::FunctionArgExpr::Expr(
                SqlExpr::Lambda(l)
            )) if l.body.to_string() == "x + 1"
        ),
        "{arg}"
    );
}

/// `1 + 1 + ... + (1 + ... + (...))`: chains within the limit whose last operand is the next
/// chain in parentheses, `levels` deep.
fn chains_in_parentheses(levels: usize) -> String {
    let chain = vec!["1"; MAX_EXPRESSION_DEPTH - 1].join(" + ");
    format!(
        "{}1{}",
        format!("{chain} + (").repeat(levels),
        ")".repeat(levels)
    )
}

#[test]
fn select_items_and_values_deeper_than_the_limit_are_refused() {
    let deep = chains_in_parentheses(20);
    for text in [
        format!("SELECT {deep} FROM s;"),
        format!("SELECT {deep} AS x FROM s;"),
        format!("SELECT 1, {deep} FROM s;"),
        format!("INSERT INTO s (a, b) VALUES ({deep}, {deep});"),
    ] {
        let e = parse_statement(&text, &|_| None).expect_err("too deep");
        assert!(e.message.contains("nested too deeply"), "{e}");
    }
    let e =
        parse_statement(&format!("SELECT 1,\n  {deep} FROM s;"), &|_| None).expect_err("too deep");
    assert_eq!((e.location.line, e.location.column), (2, 3), "{e}");
}

#[test]
fn field_access_chains_are_bounded_because_each_copies_its_operand() {
    let path = |n: usize| format!("SELECT s{} FROM t;", "->f".repeat(n));
    assert!(parse_statement(&path(64), &|_| None).is_ok());
    let e = parse_statement(&path(65), &|_| None).expect_err("too long");
    assert!(e.message.contains("more than 64 '->'"), "{e}");
}
