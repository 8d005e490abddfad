//! Queries run as tasks per partition: an aggregation over a source of several partitions
//! regroups its rows by key into as many tasks, each with its own stores and a partition of
//! each changelog; every key is counted once, across all source partitions, before and after a
//! restart, and pull queries read every task's groups. State written before tasks existed
//! (one-partition changelogs) keeps running as one task.

use super::support;
use brook::common::Value;
use brook::engine::{Engine, RunMode, StatementResult};
use brook::transport::{CleanupPolicy, ProducerRecord, TopicConfig, Transport};
use std::collections::BTreeMap;
use std::sync::Arc;

const SOURCE: &str = "CREATE STREAM clicks (user STRING KEY, page STRING) WITH (kafka_topic='clicks', value_format='JSON', partitions=4);";
const CTAS: &str = "CREATE TABLE per_page AS SELECT page, COUNT(*) AS n FROM clicks GROUP BY page;";
const CHANGELOG: &str = "_brook_query_CTAS_PER_PAGE_0-Aggregate-Materialize-changelog";

/// An engine over `log` keeping state in `state`, its catalog restored from the command log.
fn engine(log: &Arc<dyn Transport>, state: &std::path::Path) -> Engine {
    let mut engine = Engine::new(log.clone(), RunMode::Manual)
        .with_state_dir(state.to_path_buf())
        .recovered()
        .expect("recover");
    engine.set_property("auto.offset.reset", "earliest");
    engine
}

/// Sends a click on `page` to source partition `partition`.
fn click(log: &dyn Transport, partition: u32, user: &str, page: &str) {
    let mut p = log.producer().expect("producer");
    let value = format!(r#"{{"PAGE":"{page}"}}"#);
    let record = ProducerRecord::new(Some(user.as_bytes().to_vec()), Some(value.into_bytes()));
    p.send("clicks", Some(partition), record.with_timestamp(1_000))
        .expect("send");
    p.flush().expect("flush");
}

/// The last count written for each page, over every partition of the sink.
fn counts(log: &dyn Transport) -> BTreeMap<String, String> {
    let partitions = log.partition_count("PER_PAGE").expect("sink");
    let mut last = BTreeMap::new();
    for partition in 0..partitions {
        for (key, value) in support::changes(&support::read_all_from(log, "PER_PAGE", partition)) {
            last.insert(key, value.unwrap_or_default());
        }
    }
    last
}

/// A pull query's count of `page`.
fn pulled(engine: &mut Engine, page: &str) -> Option<Value> {
    let sql = format!("SELECT n FROM per_page WHERE page = '{page}';");
    match engine.execute_text(&sql).expect("pull query") {
        StatementResult::PullQuery(r) => r.rows.first().and_then(|row| row.first().cloned()),
        other => panic!("not a pull query result: {other:?}"),
    }
}

fn expected(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn an_aggregation_counts_each_key_once_across_partitions_and_restarts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log: Arc<dyn Transport> = Arc::new(support::open(&dir.path().join("log")));
    let state = dir.path().join("state");
    let mut first = engine(&log, &state);
    first
        .execute_script(&format!("{SOURCE}\n{CTAS}"))
        .expect("ctas");
    for (partition, user, page) in [(0, "a", "home"), (1, "b", "home"), (2, "c", "cart")] {
        click(log.as_ref(), partition, user, page);
    }
    click(log.as_ref(), 3, "d", "home");
    first.run_until_idle().expect("run");
    assert_eq!(
        counts(log.as_ref()),
        expected(&[("cart", r#"{"N":1}"#), ("home", r#"{"N":3}"#)])
    );
    assert_eq!(log.partition_count(CHANGELOG).expect("changelog"), 4);
    assert_eq!(pulled(&mut first, "home"), Some(Value::Bigint(3)));
    assert_eq!(pulled(&mut first, "cart"), Some(Value::Bigint(1)));
    drop(first);

    // A restart restores each task's groups from its changelog partition and counts on.
    let mut second = engine(&log, &state);
    click(log.as_ref(), 2, "e", "home");
    click(log.as_ref(), 0, "f", "cart");
    second.run_until_idle().expect("run");
    assert_eq!(
        counts(log.as_ref()),
        expected(&[("cart", r#"{"N":2}"#), ("home", r#"{"N":4}"#)])
    );
    assert_eq!(pulled(&mut second, "home"), Some(Value::Bigint(4)));
}

#[test]
fn state_with_one_partition_changelogs_keeps_running_as_one_task() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log: Arc<dyn Transport> = Arc::new(support::open(&dir.path().join("log")));
    let state = dir.path().join("state");
    let first = {
        let mut first = engine(&log, &state);
        first
            .execute_script(&format!("{SOURCE}\n{CTAS}"))
            .expect("ctas");
        first
    };
    drop(first);
    as_written_before_tasks(log.as_ref(), &state);
    let mut engine = engine(&log, &state);
    for (partition, user) in [(0, "a"), (1, "b"), (3, "c")] {
        click(log.as_ref(), partition, user, "home");
    }
    engine.run_until_idle().expect("run");
    assert_eq!(counts(log.as_ref()), expected(&[("home", r#"{"N":3}"#)]));
    assert_eq!(log.partition_count(CHANGELOG).expect("changelog"), 1);
    let logged = support::read_all_from(log.as_ref(), CHANGELOG, 0);
    assert!(!logged.is_empty(), "the one task logs to partition 0");
}

/// Makes the query's changelogs look like those of a query that ran before tasks existed (one
/// partition, nothing in them) and removes its state directory, so it restarts as one task.
fn as_written_before_tasks(log: &dyn Transport, state: &std::path::Path) {
    for topic in log.list_topics().expect("topics") {
        if topic.ends_with("-changelog") {
            log.delete_topic(&topic).expect("delete");
            let mut config = TopicConfig::with_partitions(1);
            config.cleanup_policy = CleanupPolicy::Compact;
            log.create_topic(&topic, &config).expect("changelog");
        }
    }
    std::fs::remove_dir_all(state).expect("state dir");
}

#[test]
fn a_task_reading_two_partitions_takes_the_smallest_timestamp_first() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log: Arc<dyn Transport> = Arc::new(support::open(&dir.path().join("log")));
    let state = dir.path().join("state");
    drop({
        let mut first = engine(&log, &state);
        first
            .execute_script(
                "CREATE TABLE users (id STRING PRIMARY KEY, v INT) WITH (kafka_topic='users', value_format='JSON', partitions=2);
                 CREATE TABLE copy WITH (PARTITIONS=1) AS SELECT * FROM users;",
            )
            .expect("ctas");
        first
    });
    as_written_before_tasks(log.as_ref(), &state);
    let mut engine = engine(&log, &state);
    let mut p = log.producer().expect("producer");
    for (partition, id, time) in [(0, "a", 10), (0, "c", 30), (1, "b", 20), (1, "d", 40)] {
        let value = format!(r#"{{"V":{time}}}"#);
        let record = ProducerRecord::new(Some(id.as_bytes().to_vec()), Some(value.into_bytes()));
        p.send("users", Some(partition), record.with_timestamp(time))
            .expect("send");
    }
    p.flush().expect("flush");
    // One step polls all four records (stepping one record at a time would leave nothing to
    // order).
    engine.run_until_idle_with(100).expect("run");
    let keys: Vec<String> = support::changes(&support::read_all_from(log.as_ref(), "COPY", 0))
        .into_iter()
        .map(|(key, _)| key)
        .collect();
    // One task reads both partitions: records in timestamp order, not partition by partition.
    assert_eq!(keys, ["a", "b", "c", "d"]);
}

#[test]
fn window_lateness_follows_the_stream_time_of_the_aggregations_task() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log: Arc<dyn Transport> = Arc::new(support::open(&dir.path().join("log")));
    let mut engine = engine(&log, &dir.path().join("state"));
    engine
        .execute_script(
            "CREATE STREAM visits (user STRING KEY, page STRING) WITH (kafka_topic='visits', value_format='JSON', partitions=2);
             CREATE TABLE per_second AS SELECT page, COUNT(*) AS n FROM visits
               WINDOW TUMBLING (SIZE 1 SECOND, GRACE PERIOD 0 SECONDS) GROUP BY page;",
        )
        .expect("ctas");
    let visit = |partition: u32, user: &str, time: i64| {
        let mut p = log.producer().expect("producer");
        let record = ProducerRecord::new(
            Some(user.as_bytes().to_vec()),
            Some(br#"{"PAGE":"home"}"#.to_vec()),
        );
        p.send("visits", Some(partition), record.with_timestamp(time))
            .expect("send");
        p.flush().expect("flush");
    };
    visit(0, "a", 5_000);
    engine.run_until_idle().expect("run");
    // From the other source partition, but the same page, so the same task: its stream time
    // is 5,000, and the window [0, 1,000) has closed (Kafka Streams' rule after a re-key).
    visit(1, "b", 100);
    engine.run_until_idle().expect("run");
    let late = engine.processing_error_count("CTAS_PER_SECOND_0", brook::exec::ErrorKind::Late);
    assert_eq!(late, 1);
    let partitions = log.partition_count("PER_SECOND").expect("sink");
    let written: usize = (0..partitions)
        .map(|p| support::read_all_from(log.as_ref(), "PER_SECOND", p).len())
        .sum();
    assert_eq!(written, 1, "only the 5,000 row is counted");
}
