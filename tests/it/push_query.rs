//! Push queries on tables through the engine: a deletion in the table's topic is a row of
//! its key with NULL values, marked as a tombstone; WHERE on the key filters deletions too.

use super::support;
use brook::common::Value;
use brook::engine::results::StatementResult;
use brook::engine::{Engine, RunMode};
use brook::exec::MemoryProcessingLog;
use brook::transport::{ProducerRecord, Transport};
use std::sync::Arc;

/// (key, JSON value or a deletion) records of table `t`'s topic.
fn produce(log: &dyn Transport, rows: &[(&str, Option<&str>)]) {
    let mut producer = log.producer().expect("producer");
    for (key, value) in rows {
        let record = ProducerRecord::new(
            Some(key.as_bytes().to_vec()),
            value.map(|v| v.as_bytes().to_vec()),
        );
        producer.send("t", Some(0), record).expect("send");
    }
    producer.flush().expect("flush");
}

/// An engine with table `t` (STRING key, INT value) over a fresh embedded log.
fn table_engine(dir: &std::path::Path) -> (Engine, Arc<dyn Transport>) {
    let log: Arc<dyn Transport> = Arc::new(support::open(dir));
    let mut engine = Engine::new(log.clone(), RunMode::Manual);
    engine
        .execute_text(
            "CREATE TABLE t (k STRING PRIMARY KEY, v INT) WITH (kafka_topic='t', value_format='JSON', partitions=1);",
        )
        .expect("create");
    engine.set_property("auto.offset.reset", "earliest");
    (engine, log)
}

/// The rows of push query `sql` (with their tombstone marks) and the errors it reported.
fn run_push(engine: &mut Engine, sql: &str) -> (Vec<(Vec<Value>, bool)>, MemoryProcessingLog) {
    let result = engine.execute_text(sql).expect("select");
    let StatementResult::PushQuery(mut q) = result else {
        panic!("expected a push query, got {result:?}");
    };
    let mut errors = MemoryProcessingLog::default();
    let rows = support::push_rows(&mut q, &mut errors);
    let rows = rows.into_iter().map(|r| (r.values, r.tombstone)).collect();
    (rows, errors)
}

/// Each row the push query `sql` produced over two rows and their deletions.
fn push_rows(sql: &str) -> Vec<(Vec<Value>, bool)> {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut engine, log) = table_engine(dir.path());
    produce(
        log.as_ref(),
        &[
            ("a", Some(r#"{"V":1}"#)),
            ("b", Some(r#"{"V":2}"#)),
            ("a", None),
            ("b", None),
        ],
    );
    run_push(&mut engine, sql).0
}

fn text(s: &str) -> Value {
    Value::String(s.into())
}

#[test]
fn a_tables_deletions_are_rows_of_their_key_marked_as_tombstones() {
    let rows = push_rows("SELECT k, v, v * 10 AS w FROM t EMIT CHANGES;");
    assert_eq!(
        rows,
        [
            (vec![text("a"), Value::Int(1), Value::Int(10)], false),
            (vec![text("b"), Value::Int(2), Value::Int(20)], false),
            (vec![text("a"), Value::Null, Value::Null], true),
            (vec![text("b"), Value::Null, Value::Null], true),
        ]
    );
}

#[test]
fn where_on_the_key_filters_deletions_and_where_on_values_lets_them_pass() {
    let on_key = push_rows("SELECT * FROM t WHERE k = 'a' EMIT CHANGES;");
    assert_eq!(
        on_key,
        [
            (vec![text("a"), Value::Int(1)], false),
            (vec![text("a"), Value::Null], true),
        ]
    );
    // A deletion has no values to test, so each one is shown.
    let on_value = push_rows("SELECT * FROM t WHERE v > 1 EMIT CHANGES;");
    assert_eq!(
        on_value,
        [
            (vec![text("b"), Value::Int(2)], false),
            (vec![text("a"), Value::Null], true),
            (vec![text("b"), Value::Null], true),
        ]
    );
}

#[test]
fn a_table_record_without_a_key_is_skipped_and_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut engine, log) = table_engine(dir.path());
    let mut producer = log.producer().expect("producer");
    let keyless = ProducerRecord::new(None::<Vec<u8>>, Some(br#"{"V":7}"#.to_vec()));
    producer.send("t", Some(0), keyless).expect("send");
    producer.flush().expect("flush");
    produce(log.as_ref(), &[("a", Some(r#"{"V":1}"#))]);
    let (rows, errors) = run_push(&mut engine, "SELECT * FROM t EMIT CHANGES;");
    let rows: Vec<Vec<Value>> = rows.into_iter().map(|(values, _)| values).collect();
    assert_eq!(rows, [vec![text("a"), Value::Int(1)]]);
    assert_eq!(errors.errors.len(), 1, "{:?}", errors.errors);
    assert!(
        errors.errors[0].message.contains("null key"),
        "{:?}",
        errors.errors
    );
    assert_eq!(errors.errors[0].offset, 0);
}
