//! Plan text of stateless queries (insta snapshots of what EXPLAIN prints).

use super::*;
use crate::plan::QueryKind;
use crate::plan::testing::{Sources, planned, source};

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
