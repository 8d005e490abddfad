//! Joins end to end on the embedded log (the stream-table join on Kafka too): stream-table, stream-stream, table-table, foreign-key
//! and temporal joins as a user writes them, over sources of several partitions (the rows
//! regrouped by the join key into tasks), across an engine restart in the middle of a
//! stream-stream join's grace period, with pull queries on a joined table, and Brook's
//! additions to ksqlDB: several equalities in ON, self-joins, FOR SYSTEM_TIME AS OF.

use super::backends::{Backend, TestLog, run as run_to_end};
use super::support;
use brook::common::Value;
use brook::engine::{Engine, RunMode, StatementResult};
use brook::transport::Transport;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// An engine over `log` keeping state in `state`, its catalog restored from the command log.
fn open_engine(log: &Arc<dyn Transport>, state: &Path) -> Engine {
    let mut engine = Engine::new(log.clone(), RunMode::Manual)
        .with_state_dir(state.to_path_buf())
        .recovered()
        .expect("recover");
    engine.set_property("auto.offset.reset", "earliest");
    engine
}

/// A fresh log and state directory, and an engine over them.
fn setup(dir: &Path) -> (Arc<dyn Transport>, Engine) {
    let log: Arc<dyn Transport> = Arc::new(support::open(&dir.join("log")));
    let engine = open_engine(&log, &dir.join("state"));
    (log, engine)
}

/// Runs each statement of `sql` (split at `;`), panicking with the statement on an error.
fn run(engine: &mut Engine, sql: &str) {
    for statement in sql.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        if let Err(e) = engine.execute_text(&format!("{statement};")) {
            panic!("{statement}: {e}");
        }
    }
}

/// Every record of `topic`, all partitions, as (key, value) text, partition by partition.
fn records(log: &dyn Transport, topic: &str) -> Vec<(String, Option<String>)> {
    let partitions = log.partition_count(topic).expect("topic");
    (0..partitions)
        .flat_map(|p| support::changes(&support::read_all_from(log, topic, p)))
        .collect()
}

/// The last value of each key of `topic` (tombstones remove the key).
fn latest(log: &dyn Transport, topic: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (key, value) in records(log, topic) {
        match value {
            Some(v) => out.insert(key, v),
            None => out.remove(&key),
        };
    }
    out
}

/// The rows of a pull query.
fn pulled(engine: &mut Engine, sql: &str) -> Vec<Vec<Value>> {
    match engine.execute_text(sql).expect("pull query") {
        StatementResult::PullQuery(r) => r.rows,
        other => panic!("not a pull query result: {other:?}"),
    }
}

const ORDERS_AND_CUSTOMERS: &str = "
    CREATE STREAM orders (order_id VARCHAR KEY, customer_id VARCHAR, amount INT)
      WITH (kafka_topic='orders', value_format='JSON', partitions=4);
    CREATE TABLE customers (id VARCHAR PRIMARY KEY, name VARCHAR)
      WITH (kafka_topic='customers', value_format='JSON', partitions=4);";

crate::on_both_backends!(stream_table_join_over_four_partitions_enriches_every_order);

/// Orders keyed by order id, over four partitions, are re-keyed by customer id and each meets
/// its customer in one of four join tasks: every order comes out once, enriched.
fn stream_table_join_over_four_partitions_enriches_every_order(backend: Backend) {
    let test = TestLog::new(backend);
    let log = test.transport.clone();
    let mut engine = test.recovered_engine();
    engine.set_property("auto.offset.reset", "earliest");
    run(&mut engine, ORDERS_AND_CUSTOMERS);
    run(
        &mut engine,
        "CREATE STREAM enriched AS SELECT o.customer_id, o.order_id, c.name, o.amount
           FROM orders o JOIN customers c ON o.customer_id = c.id EMIT CHANGES;",
    );
    for c in 0..5 {
        let sql = format!("INSERT INTO customers (id, name) VALUES ('c{c}', 'name-{c}');");
        run(&mut engine, &sql);
    }
    run_to_end(&mut engine);
    for o in 0..40 {
        let sql = format!(
            "INSERT INTO orders (order_id, customer_id, amount, ROWTIME) VALUES ('o{o}', 'c{}', {o}, {});",
            o % 6,
            1_000 + o
        );
        run(&mut engine, &sql);
    }
    run_to_end(&mut engine);
    // Keyed by the join key (ksqlDB's rule), in any partition order: sorted by order.
    let mut out: Vec<(String, Option<String>)> = records(log.as_ref(), "ENRICHED");
    out.sort_by_key(|(_, v)| v.clone());
    // c5 is no customer: its orders join nothing.
    let mut expected: Vec<(String, Option<String>)> = (0..40)
        .filter(|o| o % 6 != 5)
        .map(|o| {
            let c = o % 6;
            let value = format!(r#"{{"ORDER_ID":"o{o}","NAME":"name-{c}","AMOUNT":{o}}}"#);
            (format!("c{c}"), Some(value))
        })
        .collect();
    expected.sort_by_key(|(_, v)| v.clone());
    assert_eq!(out, expected, "every order once, enriched");
}

/// A LEFT stream-stream join with GRACE emits an unmatched impression only when its window
/// and grace have passed; an engine restart in between neither loses nor repeats it.
#[test]
fn stream_stream_left_join_survives_a_restart_inside_the_grace_period() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (log, mut engine) = setup(dir.path());
    run(
        &mut engine,
        "CREATE STREAM impressions (ad VARCHAR KEY, page VARCHAR)
           WITH (kafka_topic='impressions', value_format='JSON', partitions=2);
         CREATE STREAM clicks (ad VARCHAR KEY, button VARCHAR)
           WITH (kafka_topic='clicks', value_format='JSON', partitions=2);
         CREATE STREAM clicked AS SELECT i.ad, i.page, c.button FROM impressions i
           LEFT JOIN clicks c WITHIN 10 SECONDS GRACE PERIOD 5 SECONDS ON i.ad = c.ad
           EMIT CHANGES;
         INSERT INTO impressions (ad, page, ROWTIME) VALUES ('a', 'home', 1000);
         INSERT INTO impressions (ad, page, ROWTIME) VALUES ('b', 'news', 2000);
         INSERT INTO clicks (ad, button, ROWTIME) VALUES ('b', 'buy', 3000);",
    );
    engine.run_until_idle().expect("run");
    let before = records(log.as_ref(), "CLICKED");
    assert_eq!(
        before,
        vec![support::pair(
            "b",
            Some(r#"{"PAGE":"news","BUTTON":"buy"}"#)
        )],
        "the match at once; 'a' waits for its window to close"
    );
    drop(engine);
    let mut restarted = open_engine(&log, &dir.path().join("state"));
    // Stream time passes 1000 + 10 s + 5 s on both sides: 'a' is emitted with no click.
    run(
        &mut restarted,
        "INSERT INTO impressions (ad, page, ROWTIME) VALUES ('a', 'late', 30000);
         INSERT INTO impressions (ad, page, ROWTIME) VALUES ('b', 'late', 30000);
         INSERT INTO clicks (ad, button, ROWTIME) VALUES ('z', 'x', 30000);
         INSERT INTO clicks (ad, button, ROWTIME) VALUES ('y', 'x', 30001);",
    );
    restarted.run_until_idle().expect("run");
    let a_rows: Vec<_> = records(log.as_ref(), "CLICKED")
        .into_iter()
        .filter(|(k, v)| k == "a" && v.as_deref().is_some_and(|v| v.contains("home")))
        .collect();
    assert_eq!(
        a_rows,
        vec![support::pair("a", Some(r#"{"PAGE":"home","BUTTON":null}"#))],
        "the unmatched impression, once, after the restart"
    );
}

/// Brook's addition: ON with two equalities joins rows equal on both (ksqlDB allows one).
#[test]
fn a_join_on_two_equalities_matches_both_columns() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (log, mut engine) = setup(dir.path());
    run(
        &mut engine,
        "CREATE STREAM a (id VARCHAR KEY, region VARCHAR, user VARCHAR)
           WITH (kafka_topic='a', format='JSON', partitions=1);
         CREATE STREAM b (id VARCHAR KEY, region VARCHAR, user VARCHAR, amount INT)
           WITH (kafka_topic='b', format='JSON', partitions=1);
         CREATE STREAM ab AS SELECT a.region, a.user, a.id, b.amount FROM a
           JOIN b WITHIN 1 MINUTE ON a.region = b.region AND a.user = b.user EMIT CHANGES;
         INSERT INTO a (id, region, user, ROWTIME) VALUES ('1', 'eu', 'ann', 1000);
         INSERT INTO b (id, region, user, amount, ROWTIME) VALUES ('2', 'eu', 'bob', 5, 1001);
         INSERT INTO b (id, region, user, amount, ROWTIME) VALUES ('3', 'us', 'ann', 6, 1002);
         INSERT INTO b (id, region, user, amount, ROWTIME) VALUES ('4', 'eu', 'ann', 7, 1003);",
    );
    engine.run_until_idle().expect("run");
    // Both sources have REGION, USER and ID: ksqlDB names them A_REGION, ...
    let key = r#"{"A_REGION":"eu","A_USER":"ann"}"#;
    let value = r#"{"A_ID":"1","AMOUNT":7}"#;
    assert_eq!(
        records(log.as_ref(), "AB"),
        vec![support::pair(key, Some(value))]
    );
}

/// Brook's addition: a table joined with itself under two aliases (employees and their
/// managers, a foreign-key join); a manager's rename reaches every report.
#[test]
fn a_table_joins_itself_by_foreign_key_under_two_aliases() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (log, mut engine) = setup(dir.path());
    run(
        &mut engine,
        "CREATE TABLE employees (id VARCHAR PRIMARY KEY, name VARCHAR, manager_id VARCHAR)
           WITH (kafka_topic='employees', value_format='JSON', partitions=4);
         CREATE TABLE reports AS SELECT e.id, e.name, m.name AS manager FROM employees e
           LEFT JOIN employees m ON e.manager_id = m.id;
         INSERT INTO employees (id, name, manager_id) VALUES ('1', 'Ada', null);
         INSERT INTO employees (id, name, manager_id) VALUES ('2', 'Bo', '1');
         INSERT INTO employees (id, name, manager_id) VALUES ('3', 'Cy', '1');
         INSERT INTO employees (id, name, manager_id) VALUES ('1', 'Ada L', null);",
    );
    engine.run_until_idle().expect("run");
    let out = latest(log.as_ref(), "REPORTS");
    let expected: BTreeMap<String, String> = [
        ("1", r#"{"E_NAME":"Ada L","MANAGER":null}"#),
        ("2", r#"{"E_NAME":"Bo","MANAGER":"Ada L"}"#),
        ("3", r#"{"E_NAME":"Cy","MANAGER":"Ada L"}"#),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(out, expected);
}

/// A foreign-key join over four partitions: an order moving to another customer retracts its
/// old joined row (INNER: a tombstone when the new customer does not exist), and the table it
/// makes answers pull queries with one row per order.
#[test]
fn a_foreign_key_change_moves_the_joined_row() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (log, mut engine) = setup(dir.path());
    run(
        &mut engine,
        "CREATE TABLE orders_t (id VARCHAR PRIMARY KEY, customer_id VARCHAR, amount INT)
           WITH (kafka_topic='orders_t', value_format='JSON', partitions=4);
         CREATE TABLE customers (id VARCHAR PRIMARY KEY, name VARCHAR)
           WITH (kafka_topic='customers', value_format='JSON', partitions=4);
         CREATE TABLE order_names AS SELECT o.id, c.name, o.amount FROM orders_t o
           JOIN customers c ON o.customer_id = c.id;
         INSERT INTO customers (id, name) VALUES ('a', 'Ann');
         INSERT INTO customers (id, name) VALUES ('b', 'Bob');
         INSERT INTO orders_t (id, customer_id, amount) VALUES ('1', 'a', 10);
         INSERT INTO orders_t (id, customer_id, amount) VALUES ('2', 'a', 20);
         INSERT INTO orders_t (id, customer_id, amount) VALUES ('1', 'b', 11);
         INSERT INTO orders_t (id, customer_id, amount) VALUES ('2', 'zz', 21);
         INSERT INTO customers (id, name) VALUES ('b', 'Bobby');",
    );
    engine.run_until_idle().expect("run");
    let out = latest(log.as_ref(), "ORDER_NAMES");
    let expected: BTreeMap<String, String> = [(
        "1".to_string(),
        r#"{"NAME":"Bobby","AMOUNT":11}"#.to_string(),
    )]
    .into();
    assert_eq!(out, expected, "order 2's customer does not exist");
    let rows = pulled(&mut engine, "SELECT * FROM order_names;");
    let text = |s: &str| Value::String(s.to_string());
    assert_eq!(rows, vec![vec![text("1"), text("Bobby"), Value::Int(11)]]);
}

/// A pull query on a table made by a table-table join reads the joined rows by key.
#[test]
fn a_pull_query_reads_a_table_table_join() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_log, mut engine) = setup(dir.path());
    run(
        &mut engine,
        "CREATE TABLE t1 (id VARCHAR PRIMARY KEY, a INT)
           WITH (kafka_topic='t1', value_format='JSON', partitions=2);
         CREATE TABLE t2 (id VARCHAR PRIMARY KEY, b INT)
           WITH (kafka_topic='t2', value_format='JSON', partitions=2);
         CREATE TABLE t12 AS SELECT ROWKEY AS id, a, b FROM t1 FULL OUTER JOIN t2 ON t1.id = t2.id;
         INSERT INTO t1 (id, a) VALUES ('x', 1);
         INSERT INTO t2 (id, b) VALUES ('x', 2);
         INSERT INTO t2 (id, b) VALUES ('y', 3);",
    );
    engine.run_until_idle().expect("run");
    let x = pulled(&mut engine, "SELECT * FROM t12 WHERE id = 'x';");
    let x_key = Value::String("x".to_string());
    assert_eq!(x, vec![vec![x_key, Value::Int(1), Value::Int(2)]]);
    let y = pulled(&mut engine, "SELECT a, b FROM t12 WHERE id = 'y';");
    assert_eq!(y, vec![vec![Value::Null, Value::Int(3)]]);
}

/// Brook's temporal join: customers' tiers change over time and the table is read before the
/// orders (as after a replay, or when orders arrive late); each order joins the tier valid at
/// its own time, where the ksqlDB form joins the tier current when the order is processed.
#[test]
fn a_temporal_join_joins_the_row_valid_at_each_orders_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (log, mut engine) = setup(dir.path());
    run(&mut engine, ORDERS_AND_CUSTOMERS);
    run(
        &mut engine,
        "CREATE STREAM as_of AS SELECT o.customer_id, o.order_id, c.name FROM orders o
           JOIN customers FOR SYSTEM_TIME AS OF o.ROWTIME AS c ON o.customer_id = c.id;
         CREATE STREAM current AS SELECT o.customer_id, o.order_id, c.name FROM orders o
           JOIN customers c ON o.customer_id = c.id;
         INSERT INTO customers (id, name, ROWTIME) VALUES ('c', 'silver', 100);
         INSERT INTO customers (id, name, ROWTIME) VALUES ('c', 'gold', 200);",
    );
    engine.run_until_idle().expect("run");
    run(
        &mut engine,
        "INSERT INTO orders (order_id, customer_id, amount, ROWTIME) VALUES ('o1', 'c', 1, 150);
         INSERT INTO orders (order_id, customer_id, amount, ROWTIME) VALUES ('o2', 'c', 2, 250);
         INSERT INTO orders (order_id, customer_id, amount, ROWTIME) VALUES ('o0', 'c', 0, 50);",
    );
    engine.run_until_idle().expect("run");
    // Orders of different partitions reach the join in no set order: sorted.
    let joined = |topic: &str| -> Vec<String> {
        let rows = records(log.as_ref(), topic).into_iter();
        let mut values: Vec<String> = rows.filter_map(|(_, v)| v).collect();
        values.sort();
        values
    };
    let row = |o: &str, name: &str| format!(r#"{{"ORDER_ID":"{o}","NAME":"{name}"}}"#);
    assert_eq!(
        joined("AS_OF"),
        vec![row("o1", "silver"), row("o2", "gold")],
        "o0 is older than every version"
    );
    assert_eq!(
        joined("CURRENT"),
        vec![row("o0", "gold"), row("o1", "gold"), row("o2", "gold")]
    );
}
