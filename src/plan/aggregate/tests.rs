//! Planning aggregations grouped by the window alone (`GROUP BY WINDOWSTART, WINDOWEND`), and
//! the errors, with what to write instead, for GROUP BYs that mix the window bounds with
//! other expressions.

use crate::format::WindowKind;
use crate::plan::functions::FunctionRegistry;
use crate::plan::testing::{Sources, parse, planned, source};
use crate::plan::{QueryKind, QueryPlan, plan_query};
use crate::sql::StatementKind;

fn orders() -> Sources {
    Sources(vec![source(
        "CREATE STREAM ORDERS_STREAM (ORDER_ID STRING KEY, CUSTOMER_ID STRING, QUANTITY INT, \
         PRICE DOUBLE) WITH (KAFKA_TOPIC='orders', VALUE_FORMAT='JSON');",
    )])
}

/// The planning error of a `CREATE ... AS SELECT` over `orders()`.
fn refused(sql: &str) -> String {
    let StatementKind::CreateAsSelect(c) = parse(sql).kind else {
        panic!("not a CREATE ... AS SELECT: {sql}");
    };
    let planned = plan_query(
        &c.query,
        &orders(),
        &FunctionRegistry::standard(),
        QueryKind::Persistent,
    );
    match planned {
        Ok(_) => panic!("{sql} planned"),
        Err(e) => e.to_string(),
    }
}

fn assert_window_only(plan: &QueryPlan, columns: &[&str]) {
    let aggregation = plan.aggregation.as_ref().expect("an aggregation");
    assert!(aggregation.group_by.is_empty(), "one group per window");
    let window = aggregation.window.as_ref().expect("windowed");
    assert_eq!(
        (window.kind, window.size_ms),
        (WindowKind::Tumbling, 3_600_000)
    );
    assert_eq!(
        plan.output_schema.key_columns().count(),
        0,
        "keyed by the window alone"
    );
    assert_eq!(plan.column_names(), columns);
}

#[test]
fn grouping_by_both_window_bounds_is_one_group_per_window() {
    let plan = planned(
        &orders(),
        "CREATE TABLE ORDERS_PER_HOUR AS SELECT WINDOWSTART AS WINDOW_START, \
         WINDOWEND AS WINDOW_END, COUNT(*) AS ORDER_COUNT, SUM(QUANTITY * PRICE) AS TOTAL_REVENUE \
         FROM ORDERS_STREAM WINDOW TUMBLING (SIZE 1 HOUR) GROUP BY WINDOWSTART, WINDOWEND \
         EMIT CHANGES;",
        QueryKind::Persistent,
    );
    assert_window_only(
        &plan,
        &["WINDOW_START", "WINDOW_END", "ORDER_COUNT", "TOTAL_REVENUE"],
    );
}

#[test]
fn one_window_bound_or_no_group_by_is_the_same() {
    for group_by in ["GROUP BY WINDOWSTART", "GROUP BY windowEnd", ""] {
        let sql = format!(
            "CREATE TABLE T AS SELECT COUNT(*) AS N, WINDOWSTART / 1000 AS S FROM ORDERS_STREAM \
             WINDOW TUMBLING (SIZE 1 HOUR) {group_by};"
        );
        let plan = planned(&orders(), &sql, QueryKind::Persistent);
        assert_window_only(&plan, &["N", "S"]);
    }
}

#[test]
fn a_push_query_groups_by_the_window_alone_too() {
    let plan = planned(
        &orders(),
        "SELECT WINDOWSTART, COUNT(*) AS N FROM ORDERS_STREAM WINDOW TUMBLING (SIZE 1 HOUR) \
         GROUP BY WINDOWSTART, WINDOWEND EMIT CHANGES;",
        QueryKind::Transient,
    );
    assert_window_only(&plan, &["WINDOWSTART", "N"]);
}

const KSQLDB: &str = "Window bounds column WINDOWSTART can only be used in the SELECT clause of windowed aggregations";

#[test]
fn a_window_bound_beside_other_keys_says_to_drop_it() {
    let message = refused(
        "CREATE TABLE T AS SELECT CUSTOMER_ID, COUNT(*) AS N FROM ORDERS_STREAM \
         WINDOW TUMBLING (SIZE 1 HOUR) GROUP BY WINDOWSTART, customer_id;",
    );
    assert_eq!(
        message,
        format!(
            "{KSQLDB}\nA windowed aggregation is grouped by its window already: \
             write GROUP BY CUSTOMER_ID."
        )
    );
}

#[test]
fn a_column_selected_beside_window_only_keys_says_to_group_by_it() {
    let message = refused(
        "CREATE TABLE T AS SELECT ORDER_ID, COUNT(*) AS N FROM ORDERS_STREAM \
         WINDOW TUMBLING (SIZE 1 HOUR) GROUP BY WINDOWSTART, WINDOWEND;",
    );
    assert_eq!(
        message,
        format!(
            "{KSQLDB}\nGrouping by the window alone needs a SELECT of aggregates and window \
             bounds only (ORDER_ID is neither); to group by ORDER_ID within each window, \
             write GROUP BY ORDER_ID."
        )
    );
    let message = refused(
        "CREATE TABLE T AS SELECT ORDER_ID, CUSTOMER_ID, COUNT(*) AS N FROM ORDERS_STREAM \
         WINDOW TUMBLING (SIZE 1 HOUR) GROUP BY WINDOWSTART;",
    );
    assert!(
        message.ends_with(
            "(ORDER_ID, CUSTOMER_ID are neither); to group by ORDER_ID, CUSTOMER_ID within \
             each window, write GROUP BY ORDER_ID, CUSTOMER_ID."
        ),
        "{message}"
    );
}

#[test]
fn window_bounds_inside_group_by_expressions_keep_ksqldbs_error_alone() {
    let message = refused(
        "CREATE TABLE T AS SELECT CUSTOMER_ID, COUNT(*) AS N FROM ORDERS_STREAM \
         WINDOW TUMBLING (SIZE 1 HOUR) GROUP BY CUSTOMER_ID, WINDOWSTART / 1000;",
    );
    assert_eq!(message, KSQLDB);
    let message = refused(
        "CREATE TABLE T AS SELECT CUSTOMER_ID, COUNT(*) AS N FROM ORDERS_STREAM \
         WINDOW TUMBLING (SIZE 1 HOUR) GROUP BY WINDOWSTART, WINDOWSTART / 1000;",
    );
    assert_eq!(message, KSQLDB);
}

#[test]
fn without_a_window_the_bounds_are_not_columns() {
    let message =
        refused("CREATE TABLE T AS SELECT COUNT(*) AS N FROM ORDERS_STREAM GROUP BY WINDOWSTART;");
    assert!(!message.contains("grouped by its window"), "{message}");
    assert!(!message.contains("window alone"), "{message}");
}
