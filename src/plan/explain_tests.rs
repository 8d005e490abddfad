//! Plan text of stateless queries (insta snapshots of what EXPLAIN prints).

use super::*;
use crate::plan::ddl::{DdlDefaults, plan_create_source};
use crate::plan::functions::FunctionRegistry;
use crate::plan::{CatalogView, QueryKind, plan_query};
use crate::sql::{Statement, StatementKind, parse_statement};

struct Sources(Vec<SourceDef>);

impl CatalogView for Sources {
    fn source(&self, name: &str) -> Option<&SourceDef> {
        self.0.iter().find(|s| s.name == name)
    }

    fn custom_type(&self, _name: &str) -> Option<SqlType> {
        None
    }
}

fn parse(sql: &str) -> Statement {
    parse_statement(sql, &|_| None).expect("parses")
}

fn source(sql: &str) -> SourceDef {
    let StatementKind::CreateSource(c) = parse(sql).kind else {
        panic!("not a CREATE STREAM: {sql}");
    };
    plan_create_source(&c, &DdlDefaults::default(), sql).expect("source plans")
}

fn planned(sources: &Sources, select: &str, kind: QueryKind) -> QueryPlan {
    let query = match parse(select).kind {
        StatementKind::Select(q) => q,
        StatementKind::CreateAsSelect(c) => c.query,
        other => panic!("not a query: {other:?}"),
    };
    plan_query(&query, sources, &FunctionRegistry::standard(), kind).expect("query plans")
}

fn orders() -> Sources {
    Sources(vec![source(
        "CREATE STREAM ORDERS (ID STRING KEY, AMOUNT INT, ITEMS ARRAY<STRING>, `note` STRING) \
         WITH (KAFKA_TOPIC='orders', VALUE_FORMAT='JSON');",
    )])
}

#[test]
fn filter_and_projection_to_a_sink() {
    let sources = orders();
    let plan = planned(
        &sources,
        "CREATE STREAM BIG AS SELECT ID, AMOUNT * 2 AS DOUBLED, `note` FROM ORDERS \
         WHERE AMOUNT > 10;",
        QueryKind::Persistent,
    );
    let sink = SourceDef {
        name: "BIG".into(),
        topic: "BIG".into(),
        ..plan.source.clone()
    };
    let explained = explain(&plan, "CSAS_BIG_0", Some(&sink), String::new());
    insta::assert_snapshot!(explained.execution_plan);
}

#[test]
fn partition_by_and_explode_in_a_push_query() {
    let sources = orders();
    let plan = planned(
        &sources,
        "SELECT EXPLODE(ITEMS) AS ITEM, AMOUNT FROM ORDERS PARTITION BY AMOUNT EMIT CHANGES;",
        QueryKind::Transient,
    );
    let explained = explain(&plan, "transient_ORDERS_3", None, String::new());
    insta::assert_snapshot!(explained.execution_plan);
}

#[test]
fn steps_nest_two_tabs_deeper_than_their_consumer() {
    let sources = orders();
    let plan = planned(
        &sources,
        "SELECT * FROM ORDERS WHERE ID = 'a' EMIT CHANGES;",
        QueryKind::Transient,
    );
    let text = plan_steps(&plan, "Q", None).summary();
    let indents: Vec<usize> = text
        .lines()
        .map(|l| l.chars().take_while(|c| *c == '\t').count())
        .collect();
    assert_eq!(indents, [0, 2, 4]);
}

#[test]
fn identifiers_are_quoted_only_where_needed() {
    assert_eq!(identifier("AMOUNT"), "AMOUNT");
    assert_eq!(identifier("_X1"), "_X1");
    assert_eq!(identifier("note"), "`note`");
    assert_eq!(identifier("FROM"), "`FROM`");
    assert_eq!(identifier("1A"), "`1A`");
}
