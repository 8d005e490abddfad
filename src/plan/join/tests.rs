//! The join planner: the tree a FROM clause becomes, the output key and its name, the shapes
//! refused with their messages, and Brook's additions (several equalities, self-joins,
//! temporal joins). Messages are ksqlDB's where it has one (the QTT corpus checks them too).

use crate::plan::QueryKind;
use crate::plan::functions::FunctionRegistry;
use crate::plan::logical::{JoinShape, LogicalPlan};
use crate::plan::plan_query;
use crate::plan::testing::{Sources, parse, planned};
use crate::sql::StatementKind;

fn sources() -> Sources {
    Sources::declared(&[
        "CREATE STREAM orders (id VARCHAR KEY, customer_id VARCHAR, amount INT, region VARCHAR) \
         WITH (kafka_topic='orders', value_format='JSON', partitions=2);",
        "CREATE STREAM clicks (id VARCHAR KEY, amount INT, region VARCHAR) \
         WITH (kafka_topic='clicks', value_format='JSON', partitions=2);",
        "CREATE TABLE customers (id VARCHAR PRIMARY KEY, name VARCHAR, region VARCHAR) \
         WITH (kafka_topic='customers', value_format='JSON', partitions=2);",
        "CREATE TABLE accounts (id VARCHAR PRIMARY KEY, customer_id VARCHAR, balance INT) \
         WITH (kafka_topic='accounts', value_format='JSON', partitions=2);",
    ])
}

/// The planner's error for `sql`.
fn error(sql: &str) -> String {
    let query = match parse(sql).kind {
        StatementKind::Select(q) => q,
        StatementKind::CreateAsSelect(c) => c.query,
        other => panic!("not a query: {other:?}"),
    };
    let functions = FunctionRegistry::standard();
    match plan_query(&query, &sources(), &functions, QueryKind::Transient) {
        Ok(_) => panic!("{sql} planned"),
        Err(e) => e.to_string(),
    }
}

/// The shapes of the joins of `sql`'s tree, outermost first.
fn shapes(sql: &str) -> Vec<JoinShape> {
    let plan = planned(&sources(), sql, QueryKind::Transient);
    let mut out = Vec::new();
    let mut node = plan.join.as_ref().map(|j| &j.tree);
    while let Some(LogicalPlan::Join(j)) = node {
        out.push(j.shape);
        node = Some(&*j.left);
    }
    out
}

/// The output column names of `sql`.
fn columns(sql: &str) -> Vec<String> {
    let plan = planned(&sources(), sql, QueryKind::Transient);
    plan.columns.iter().map(|c| c.name.clone()).collect()
}

#[test]
fn each_pair_of_kinds_gets_its_shape() {
    let st = "SELECT * FROM orders o JOIN customers c ON o.customer_id = c.id EMIT CHANGES;";
    assert_eq!(shapes(st), vec![JoinShape::StreamTable]);
    let tt = "SELECT * FROM accounts a JOIN customers c ON a.id = c.id EMIT CHANGES;";
    assert_eq!(shapes(tt), vec![JoinShape::TableTable]);
    let fk = "SELECT * FROM accounts a JOIN customers c ON a.customer_id = c.id EMIT CHANGES;";
    assert_eq!(shapes(fk), vec![JoinShape::ForeignKey]);
    let ss = "SELECT * FROM orders o JOIN clicks k WITHIN (1 SECOND, 2 SECONDS) GRACE PERIOD \
              3 SECONDS ON o.id = k.id EMIT CHANGES;";
    let window = JoinShape::StreamStream {
        before_ms: 1_000,
        after_ms: 2_000,
        grace_ms: Some(3_000),
    };
    assert_eq!(shapes(ss), vec![window]);
    let temporal = "SELECT * FROM orders o JOIN customers FOR SYSTEM_TIME AS OF o.ROWTIME c \
                    WITHIN 1 HOUR ON o.customer_id = c.id EMIT CHANGES;";
    assert_eq!(
        shapes(temporal),
        vec![JoinShape::Temporal {
            history_ms: 3_600_000
        }]
    );
}

#[test]
fn an_n_way_join_is_left_deep() {
    let sql = "SELECT * FROM orders o JOIN customers c ON o.customer_id = c.id \
               JOIN accounts a ON c.id = a.id EMIT CHANGES;";
    assert_eq!(
        shapes(sql),
        vec![JoinShape::StreamTable, JoinShape::StreamTable]
    );
}

#[test]
fn a_column_two_sources_share_is_named_by_its_alias() {
    let sql = "SELECT o.customer_id, o.region, c.region, name FROM orders o \
               JOIN customers c ON o.customer_id = c.id EMIT CHANGES;";
    assert_eq!(
        columns(sql),
        ["CUSTOMER_ID", "O_REGION", "C_REGION", "NAME"]
    );
}

#[test]
fn select_star_names_every_column_by_its_source() {
    let sql = "SELECT * FROM accounts a JOIN customers c ON a.customer_id = c.id EMIT CHANGES;";
    assert_eq!(
        columns(sql),
        [
            "A_ID",
            "A_CUSTOMER_ID",
            "A_BALANCE",
            "C_ID",
            "C_NAME",
            "C_REGION"
        ]
    );
}

#[test]
fn refused_shapes_say_why_and_what_to_write() {
    let table_stream =
        error("SELECT * FROM customers c JOIN orders o ON c.id = o.customer_id EMIT CHANGES;");
    assert!(
        table_stream.starts_with("Invalid join order: table-stream joins are not supported"),
        "{table_stream}"
    );
    assert!(
        table_stream.contains("Put the stream first"),
        "{table_stream}"
    );
    let no_within = error("SELECT * FROM orders o JOIN clicks k ON o.id = k.id EMIT CHANGES;");
    assert!(
        no_within.starts_with("Stream-Stream joins must have a WITHIN clause"),
        "{no_within}"
    );
    let full_st =
        error("SELECT * FROM orders o FULL JOIN customers c ON o.customer_id = c.id EMIT CHANGES;");
    assert!(
        full_st.contains("full-outer join not supported for stream-table join"),
        "{full_st}"
    );
    let right_fk = error(
        "SELECT * FROM accounts a RIGHT JOIN customers c ON a.customer_id = c.id EMIT CHANGES;",
    );
    assert!(
        right_fk.starts_with("RIGHT OUTER JOIN on a foreign key is not supported"),
        "{right_fk}"
    );
    let full_fk = error(
        "SELECT * FROM accounts a FULL JOIN customers c ON a.customer_id = c.id EMIT CHANGES;",
    );
    assert!(
        full_fk.contains("full-outer join not supported for foreign-key"),
        "{full_fk}"
    );
    let types =
        error("SELECT * FROM accounts a JOIN customers c ON a.balance = c.id EMIT CHANGES;");
    assert!(types.contains("types don't match"), "{types}");
}

#[test]
fn several_equalities_make_a_key_of_several_columns() {
    let sql = "SELECT o.id, o.region, k.amount FROM orders o JOIN clicks k WITHIN 1 MINUTE \
               ON o.id = k.id AND o.region = k.region EMIT CHANGES;";
    let plan = planned(&sources(), sql, QueryKind::Transient);
    let join = plan.join.as_ref().expect("a join");
    assert_eq!(join.key.len(), 2, "one key column per equality");
    let LogicalPlan::Join(node) = &join.tree else {
        panic!("not a join")
    };
    assert_eq!(node.left_keys.len(), 2);
    assert_eq!(node.right_keys.len(), 2);
}

#[test]
fn a_source_joins_itself_under_two_aliases_but_not_under_one() {
    let sql = "SELECT a.id, b.amount FROM orders a JOIN orders b WITHIN 1 MINUTE \
               ON a.customer_id = b.id EMIT CHANGES;";
    assert_eq!(shapes(sql).len(), 1);
    let twice = error(
        "SELECT * FROM orders JOIN orders WITHIN 1 MINUTE ON orders.id = orders.id EMIT CHANGES;",
    );
    assert!(
        twice.contains("self joins are not yet supported"),
        "{twice}"
    );
    assert!(
        twice.contains("Give each occurrence its own alias"),
        "{twice}"
    );
}

#[test]
fn a_temporal_join_takes_the_streams_rowtime_from_a_stream_to_a_table() {
    let not_rowtime = error(
        "SELECT * FROM orders o JOIN customers FOR SYSTEM_TIME AS OF o.amount c \
         ON o.customer_id = c.id EMIT CHANGES;",
    );
    assert!(
        not_rowtime.starts_with("FOR SYSTEM_TIME AS OF takes the stream's ROWTIME"),
        "{not_rowtime}"
    );
    let tables = error(
        "SELECT * FROM accounts a JOIN customers FOR SYSTEM_TIME AS OF a.ROWTIME c \
         ON a.id = c.id EMIT CHANGES;",
    );
    assert!(
        tables.contains("does not join a stream to a table"),
        "{tables}"
    );
}
