//! Sources with windowed keys (`WINDOW_TYPE`): the window is read from each key's bytes, shown
//! as WINDOWSTART/WINDOWEND, and written again after the inner key of the sink's keys.

use super::support;
use brook::common::Value;
use brook::engine::results::StatementResult;
use brook::engine::{Engine, RunMode};
use brook::exec::MemoryProcessingLog;
use brook::transport::{ProducerRecord, Transport};
use std::sync::Arc;

/// A session-windowed key as Kafka Streams writes it: inner key, end, start.
fn session_key(inner: &str, start: i64, end: i64) -> Vec<u8> {
    let mut key = inner.as_bytes().to_vec();
    key.extend_from_slice(&end.to_be_bytes());
    key.extend_from_slice(&start.to_be_bytes());
    key
}

fn setup(dir: &std::path::Path) -> (Engine, Arc<dyn Transport>) {
    let log: Arc<dyn Transport> = Arc::new(support::open(dir));
    let mut engine = Engine::new(log.clone(), RunMode::Manual);
    engine
        .execute_script(
            "CREATE STREAM s (k STRING KEY, f0 INT) WITH (kafka_topic='s', value_format='JSON',
               partitions=1, window_type='session');",
        )
        .expect("create");
    let mut producer = log.producer().expect("producer");
    for (f0, start, end) in [(1, 10, 20), (2, 30, 465)] {
        let record = ProducerRecord::new(
            Some(session_key("k", start, end)),
            Some(format!("{{\"F0\":{f0}}}").into_bytes()),
        )
        .with_timestamp(1_000);
        producer.send("s", Some(0), record).expect("send");
    }
    producer.flush().expect("flush");
    (engine, log)
}

#[test]
fn a_push_query_shows_the_window_of_each_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut engine, _log) = setup(dir.path());
    engine.set_property("auto.offset.reset", "earliest");
    let result = engine
        .execute_text("SELECT * FROM s WHERE WINDOWEND > 100 EMIT CHANGES;")
        .expect("select");
    let StatementResult::PushQuery(mut q) = result else {
        panic!("expected a push query, got {result:?}");
    };
    assert_eq!(q.column_names, ["K", "WINDOWSTART", "WINDOWEND", "F0"]);
    let mut log = MemoryProcessingLog::default();
    let rows: Vec<Vec<Value>> = support::push_rows(&mut q, &mut log)
        .into_iter()
        .map(|r| r.values)
        .collect();
    let expected = vec![
        Value::String("k".into()),
        Value::Bigint(30),
        Value::Bigint(465),
        Value::Int(2),
    ];
    assert_eq!(rows, vec![expected]);
}

#[test]
fn a_persistent_query_keeps_the_keys_windowed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut engine, log) = setup(dir.path());
    engine.set_property("auto.offset.reset", "earliest");
    engine
        .execute_script(
            "CREATE STREAM out AS SELECT k, f0, WINDOWSTART AS ws FROM s;
             CREATE STREAM bad AS SELECT * FROM s;",
        )
        .expect("csas");
    engine.run_until_idle().expect("run");
    let records = support::read_all_from(log.as_ref(), "OUT", 0);
    let keys: Vec<Vec<u8>> = records
        .iter()
        .map(|r| r.key.as_deref().unwrap_or_default().to_vec())
        .collect();
    assert_eq!(keys, [session_key("k", 10, 20), session_key("k", 30, 465)]);
    let values: Vec<&[u8]> = records
        .iter()
        .map(|r| r.value.as_deref().unwrap_or_default())
        .collect();
    assert_eq!(
        values,
        [&b"{\"F0\":1,\"WS\":10}"[..], b"{\"F0\":2,\"WS\":30}"]
    );
    let star = &engine.catalog().sources["BAD"].schema;
    assert_eq!(star.to_string(), "`K` STRING KEY, `F0` INTEGER");
}

#[test]
fn a_key_too_short_for_its_window_goes_to_the_processing_log() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut engine, log) = setup(dir.path());
    engine.set_property("auto.offset.reset", "earliest");
    let mut producer = log.producer().expect("producer");
    let record = ProducerRecord::new(Some(b"short".to_vec()), Some(b"{\"F0\":3}".to_vec()));
    producer.send("s", Some(0), record).expect("send");
    producer.flush().expect("flush");
    engine
        .execute_script("CREATE STREAM out AS SELECT * FROM s;")
        .expect("csas");
    engine.run_until_idle().expect("run");
    assert_eq!(support::read_all_from(log.as_ref(), "OUT", 0).len(), 2);
    let errors = engine.processing_errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].message.contains("needs at least 16 bytes"),
        "{errors:?}"
    );
}
