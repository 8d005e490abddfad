//! Steps whose evaluation passes the step budget: they are run again with fewer records, and
//! every record comes out exactly once (persistent, aggregating and push queries). The queries
//! keep what LPAD makes for the whole batch (as a column, or to compare it in WHERE).

use brook::exec::{MemoryProcessingLog, StateLocation};
use brook::exec::{QueryDriver, QueryStart};
use brook::log::{EmbeddedLog, LogConfig};
use brook::plan::ddl::{DdlDefaults, plan_create_source};
use brook::plan::functions::FunctionRegistry;
use brook::plan::{CatalogView, QueryKind, QueryPlan, SourceDef, plan_query};
use brook::sql::{StatementKind, parse_statement};
use brook::transport::{
    AutoOffsetReset, ProducerRecord, StartFrom, TopicConfig, TopicPartition, Transport,
};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The budget of the tests' steps: three values of 300,000 bytes fit, four do not.
const BUDGET: usize = 1 << 20;
const PADDED: i64 = 300_000;

struct Source(SourceDef);

impl CatalogView for Source {
    fn source(&self, name: &str) -> Option<&SourceDef> {
        (self.0.name == name).then_some(&self.0)
    }

    fn custom_type(&self, _name: &str) -> Option<brook::common::SqlType> {
        None
    }
}

/// A log whose topic `s` holds records `(id, n)` (KAFKA int key, JSON value), the i-th at
/// time 1,000 × (i + 1).
fn log_with(records: &[(i32, i64)]) -> (tempfile::TempDir, EmbeddedLog, Source) {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = EmbeddedLog::open(dir.path(), LogConfig::default()).expect("log");
    let sql = "CREATE STREAM S (ID INT KEY, N INT) WITH (KAFKA_TOPIC='s', VALUE_FORMAT='JSON');";
    let StatementKind::CreateSource(c) = parse_statement(sql, &|_| None).expect("parses").kind
    else {
        panic!("not a CREATE STREAM");
    };
    let source = plan_create_source(&c, &DdlDefaults::default(), sql).expect("source plans");
    for topic in ["s", "out"] {
        log.create_topic(topic, &TopicConfig::default())
            .expect("topic");
    }
    let mut producer = log.producer().expect("producer");
    for (i, (id, n)) in records.iter().enumerate() {
        let value = format!("{{\"N\": {n}}}");
        let record = ProducerRecord::new(Some(id.to_be_bytes().to_vec()), Some(value.into_bytes()));
        let time = 1_000 * (i as i64 + 1);
        producer
            .send("s", Some(0), record.with_timestamp(time))
            .expect("send");
    }
    producer.flush().expect("flush");
    (dir, log, Source(source))
}

fn planned(source: &Source, sql: &str, kind: QueryKind) -> QueryPlan {
    let query = match parse_statement(sql, &|_| None).expect("parses").kind {
        StatementKind::Select(q) => q,
        StatementKind::CreateAsSelect(c) => c.query,
        other => panic!("not a query: {other:?}"),
    };
    plan_query(&query, source, &FunctionRegistry::standard(), kind).expect("query plans")
}

fn start<'a>(plan: &'a QueryPlan) -> QueryStart<'a> {
    QueryStart {
        id: "Q_0",
        plan,
        group: "q",
        member: None,
        reset: AutoOffsetReset::Earliest,
        fatal_timestamp_errors: false,
        state: StateLocation::Temporary {
            changelog_prefix: Some("q".into()),
        },
    }
}

fn persistent(log: &EmbeddedLog, source: &Source, sql: &str) -> QueryDriver {
    let plan = planned(source, sql, QueryKind::Persistent);
    let sink = SourceDef {
        name: "OUT".into(),
        topic: "out".into(),
        ..source.0.clone()
    };
    QueryDriver::to_topic(log, start(&plan), &sink)
        .expect("query starts")
        .with_step_budget(BUDGET)
}

/// Steps until the input is used up: the records each step consumed.
fn run(query: &mut QueryDriver, errors: &mut MemoryProcessingLog) -> Vec<usize> {
    let mut steps = Vec::new();
    loop {
        match query.step(10_000, Duration::ZERO, errors).expect("step") {
            0 => return steps,
            n => steps.push(n),
        }
    }
}

/// The sink's records: (key id, value JSON), in offset order.
fn written(log: &EmbeddedLog) -> Vec<(i32, serde_json::Value)> {
    let mut consumer = log.consumer(None).expect("consumer");
    let tp = TopicPartition::new("out", 0);
    consumer
        .assign(&[(tp, StartFrom::Earliest)])
        .expect("assign");
    let mut out = Vec::new();
    loop {
        let polled = consumer.poll(10_000, Duration::ZERO).expect("poll");
        let records: Vec<_> = polled.into_iter().flat_map(|p| p.records).collect();
        if records.is_empty() {
            return out;
        }
        for r in records {
            let key = r
                .key
                .as_deref()
                .and_then(|k| k.try_into().ok())
                .expect("int key");
            let value = serde_json::from_slice(r.value.as_deref().expect("value")).expect("json");
            out.push((i32::from_be_bytes(key), value));
        }
    }
}

#[test]
fn a_batch_past_the_step_budget_is_processed_in_smaller_steps_and_every_row_comes_out_once() {
    let input: Vec<(i32, i64)> = (0..10).map(|id| (id, PADDED)).collect();
    let (_dir, log, source) = log_with(&input);
    let sql = "CREATE STREAM OUT AS SELECT ID, LPAD('', N, 'a') AS PAD FROM S EMIT CHANGES;";
    let mut query = persistent(&log, &source, sql);
    let mut errors = MemoryProcessingLog::default();
    let steps = run(&mut query, &mut errors);
    assert_eq!(steps.iter().sum::<usize>(), 10, "{steps:?}");
    assert!(
        steps.iter().all(|n| *n <= 3),
        "a step kept more than its budget: {steps:?}"
    );
    assert!(errors.errors.is_empty(), "{:#?}", errors.errors);
    let padded = "a".repeat(PADDED as usize);
    let expected: Vec<(i32, serde_json::Value)> = (0..10)
        .map(|id| (id, serde_json::json!({ "PAD": padded })))
        .collect();
    assert_eq!(written(&log), expected);
}

#[test]
fn a_record_past_the_step_budget_alone_goes_to_the_processing_log_and_the_others_come_out() {
    let (_dir, log, source) = log_with(&[(1, PADDED), (2, 2_000_000), (3, PADDED)]);
    let sql =
        "CREATE STREAM OUT AS SELECT ID, N FROM S WHERE LPAD('', N, 'a') <> 'b' EMIT CHANGES;";
    let mut query = persistent(&log, &source, sql);
    let mut errors = MemoryProcessingLog::default();
    assert_eq!(run(&mut query, &mut errors).iter().sum::<usize>(), 3);
    let reported: Vec<(i64, &str)> = errors
        .errors
        .iter()
        .map(|e| (e.offset, e.message.as_str()))
        .collect();
    assert_eq!(reported.len(), 1, "{reported:#?}");
    assert_eq!(reported[0].0, 1, "{reported:#?}");
    assert!(
        reported[0].1.contains("limit for one step"),
        "{reported:#?}"
    );
    let ids: Vec<i32> = written(&log).into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids, [1, 3]);
}

#[test]
fn an_aggregation_retried_with_fewer_records_counts_each_record_once() {
    let input: Vec<(i32, i64)> = (0..12).map(|i| (i % 2, PADDED + i64::from(i))).collect();
    let (_dir, log, source) = log_with(&input);
    let sql = "CREATE TABLE OUT AS SELECT ID, SUM(N) AS TOTAL, COUNT(*) AS C FROM S \
               WHERE LPAD('', N, 'a') <> 'b' GROUP BY ID EMIT CHANGES;";
    let mut query = persistent(&log, &source, sql);
    let mut errors = MemoryProcessingLog::default();
    let steps = run(&mut query, &mut errors);
    assert!(steps.len() > 1, "{steps:?}");
    assert!(errors.errors.is_empty(), "{:#?}", errors.errors);
    let latest: BTreeMap<i32, serde_json::Value> = written(&log).into_iter().collect();
    let total = |key: i32| -> i64 {
        input
            .iter()
            .filter(|(id, _)| *id == key)
            .map(|(_, n)| *n)
            .sum()
    };
    assert_eq!(latest[&0], serde_json::json!({ "TOTAL": total(0), "C": 6 }));
    assert_eq!(latest[&1], serde_json::json!({ "TOTAL": total(1), "C": 6 }));
}

#[test]
fn a_push_query_past_the_step_budget_hands_out_every_row_once() {
    let input: Vec<(i32, i64)> = (0..10).map(|id| (id, PADDED)).collect();
    let (_dir, log, source) = log_with(&input);
    let sql = "SELECT ID, LPAD('', N, 'a') AS PAD FROM S EMIT CHANGES;";
    let plan = planned(&source, sql, QueryKind::Transient);
    let seen: Arc<Mutex<Vec<i32>>> = Arc::default();
    let sink = seen.clone();
    let subscriber = Box::new(move |rows: &brook::common::change::ChangeBatch| {
        let ids = rows
            .data()
            .column(0)
            .as_any()
            .downcast_ref::<arrow::array::Int32Array>();
        let mut seen = sink.lock().expect("rows");
        seen.extend(ids.expect("INT ids").values().iter().copied());
        true
    });
    let mut query = QueryDriver::to_subscriber(&log, start(&plan), subscriber)
        .expect("query starts")
        .with_step_budget(BUDGET);
    let mut errors = MemoryProcessingLog::default();
    let steps = run(&mut query, &mut errors);
    assert!(steps.iter().all(|n| *n <= 3), "{steps:?}");
    assert_eq!(*seen.lock().expect("rows"), (0..10).collect::<Vec<_>>());
}

#[test]
fn a_rolled_back_step_puts_the_task_stream_time_back() {
    let input: Vec<(i32, i64)> = (0..4).map(|id| (id, PADDED)).collect();
    let (_dir, log, source) = log_with(&input);
    let sql = "CREATE STREAM OUT AS SELECT ID, LPAD('', N, 'a') AS PAD FROM S;";
    let mut query = persistent(&log, &source, sql);
    let mut errors = MemoryProcessingLog::default();
    // Four records pass the budget: the step is rolled back (after its task took all four,
    // up to time 4,000) and run again with two.
    let consumed = query
        .step(10_000, Duration::ZERO, &mut errors)
        .expect("step");
    assert_eq!(consumed, 2);
    assert_eq!(query.stream_times(), vec![vec![2_000]]);
    run(&mut query, &mut errors);
    assert_eq!(query.stream_times(), vec![vec![4_000]]);
}
