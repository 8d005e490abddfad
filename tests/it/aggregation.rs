//! GROUP BY aggregations through the engine: every input row updates its group's row in the
//! output table; HAVING deletes rows that stop qualifying; a table source's changes and
//! deletions are undone from their groups; windowed aggregations write windowed keys.

use super::backends::{Backend, TestLog, run};
use super::support;
use brook::transport::Record;
use support::{changes, pair, send_rows as send};

crate::on_both_backends!(
    stream_counts_update_per_row_and_having_deletes,
    table_changes_and_deletes_are_undone,
    tumbling_windows_key_the_output_by_window,
    a_restarted_aggregation_rebuilds_its_state_without_repeating_output,
    grouping_by_the_window_alone_counts_each_window,
    emit_final_writes_each_window_once_when_it_closes,
    late_and_bad_records_are_counted_apart_per_query,
);

fn stream_counts_update_per_row_and_having_deletes(backend: Backend) {
    let test = TestLog::new(backend);
    let (mut engine, log) = (test.engine(), test.transport.clone());
    engine
        .execute_script(
            "CREATE STREAM clicks (user STRING KEY, page STRING) WITH (kafka_topic='clicks', value_format='JSON', partitions=1);
             CREATE TABLE per_page AS SELECT page, COUNT(*) AS n FROM clicks GROUP BY page HAVING COUNT(*) < 3;",
        )
        .expect("ctas");
    let rows = [
        ("u1", Some(r#"{"PAGE":"home"}"#), 1),
        ("u2", Some(r#"{"PAGE":"home"}"#), 2),
        ("u1", Some(r#"{"PAGE":"cart"}"#), 3),
        ("u3", Some(r#"{"PAGE":"home"}"#), 4),
        ("u3", Some(r#"{"PAGE":"home"}"#), 5),
    ];
    send(log.as_ref(), "clicks", &rows);
    run(&mut engine);
    let out = changes(&support::read_all_from(log.as_ref(), "PER_PAGE", 0));
    // The third "home" fails HAVING: one tombstone, then nothing while it stays hidden.
    assert_eq!(
        out,
        [
            pair("home", Some(r#"{"N":1}"#)),
            pair("home", Some(r#"{"N":2}"#)),
            pair("cart", Some(r#"{"N":1}"#)),
            pair("home", None),
        ]
    );
}

fn table_changes_and_deletes_are_undone(backend: Backend) {
    let test = TestLog::new(backend);
    let (mut engine, log) = (test.engine(), test.transport.clone());
    engine
        .execute_script(
            "CREATE TABLE users (id STRING PRIMARY KEY, region STRING) WITH (kafka_topic='users', value_format='JSON', partitions=1);
             CREATE TABLE per_region AS SELECT region, COUNT(*) AS n FROM users GROUP BY region;",
        )
        .expect("ctas");
    let rows = [
        ("a", Some(r#"{"REGION":"east"}"#), 1),
        ("b", Some(r#"{"REGION":"east"}"#), 2),
        ("a", Some(r#"{"REGION":"west"}"#), 3),
        ("b", None, 4),
    ];
    send(log.as_ref(), "users", &rows);
    run(&mut engine);
    let out = changes(&support::read_all_from(log.as_ref(), "PER_REGION", 0));
    assert_eq!(
        out,
        [
            pair("east", Some(r#"{"N":1}"#)),
            pair("east", Some(r#"{"N":2}"#)),
            pair("east", Some(r#"{"N":1}"#)),
            pair("west", Some(r#"{"N":1}"#)),
            pair("east", Some(r#"{"N":0}"#)),
        ]
    );
}

fn tumbling_windows_key_the_output_by_window(backend: Backend) {
    let test = TestLog::new(backend);
    let (mut engine, log) = (test.engine(), test.transport.clone());
    engine
        .execute_script(
            "CREATE STREAM s (k STRING KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
             CREATE TABLE t AS SELECT k, SUM(v) AS total, WINDOWSTART AS ws FROM s
               WINDOW TUMBLING (SIZE 10 MILLISECONDS) GROUP BY k;",
        )
        .expect("ctas");
    let rows = [
        ("x", Some(r#"{"V":1}"#), 3),
        ("x", Some(r#"{"V":2}"#), 9),
        ("x", Some(r#"{"V":4}"#), 12),
    ];
    send(log.as_ref(), "s", &rows);
    run(&mut engine);
    let records = support::read_all_from(log.as_ref(), "T", 0);
    let mut key = b"x".to_vec();
    key.extend_from_slice(&10i64.to_be_bytes());
    assert_eq!(records[2].key.as_deref(), Some(&key[..]));
    let out = changes(&records);
    let values: Vec<Option<String>> = out.into_iter().map(|(_, v)| v).collect();
    assert_eq!(
        values,
        [
            Some(r#"{"TOTAL":1,"WS":0}"#.to_string()),
            Some(r#"{"TOTAL":3,"WS":0}"#.to_string()),
            Some(r#"{"TOTAL":4,"WS":10}"#.to_string()),
        ]
    );
    let t = &engine.catalog().sources["T"];
    assert!(t.window.is_some(), "the sink's keys are windowed");
}

fn a_restarted_aggregation_rebuilds_its_state_without_repeating_output(backend: Backend) {
    let mut test = TestLog::new(backend);
    let row = |ts| ("k", Some(r#"{"V":1}"#), ts);
    {
        let log = test.transport.clone();
        let mut engine = test.recovered_engine();
        engine.set_property("auto.offset.reset", "earliest");
        engine
            .execute_script(
                "CREATE STREAM s (k STRING KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
                 CREATE TABLE t AS SELECT k, COUNT(*) AS n FROM s GROUP BY k;",
            )
            .expect("ctas");
        send(log.as_ref(), "s", &[row(1), row(2)]);
        run(&mut engine);
        engine.shutdown();
    }
    test.reopen();
    let log = test.transport.clone();
    let mut engine = test.recovered_engine();
    send(log.as_ref(), "s", &[row(3)]);
    run(&mut engine);
    let values: Vec<Option<String>> = changes(&support::read_all_from(log.as_ref(), "T", 0))
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    let expected: Vec<Option<String>> = (1..=3).map(|n| Some(format!(r#"{{"N":{n}}}"#))).collect();
    assert_eq!(values, expected);
}

/// The window start in a windowed key (its last 8 bytes), and the rest.
fn split_window(record: &Record) -> (Vec<u8>, i64) {
    let key = record.key.as_deref().unwrap_or_default();
    let (inner, start) = key.split_at(key.len().saturating_sub(8));
    let start: [u8; 8] = start.try_into().expect("windowed key");
    (inner.to_vec(), i64::from_be_bytes(start))
}

fn grouping_by_the_window_alone_counts_each_window(backend: Backend) {
    let test = TestLog::new(backend);
    let (mut engine, log) = (test.engine(), test.transport.clone());
    engine
        .execute_script(
            "CREATE STREAM orders_stream (id STRING KEY, quantity INT, price DOUBLE) WITH (kafka_topic='orders', value_format='JSON', partitions=1);
             CREATE TABLE orders_per_hour AS SELECT WINDOWSTART AS window_start, WINDOWEND AS window_end,
               COUNT(*) AS order_count, SUM(quantity * price) AS total_revenue
               FROM orders_stream WINDOW TUMBLING (SIZE 1 HOUR) GROUP BY WINDOWSTART, WINDOWEND EMIT CHANGES;",
        )
        .expect("window-only aggregation is accepted");
    let hour = 3_600_000;
    let rows = [
        ("a", Some(r#"{"QUANTITY":2,"PRICE":1.5}"#), 10),
        ("b", Some(r#"{"QUANTITY":1,"PRICE":4.0}"#), hour - 1),
        ("c", Some(r#"{"QUANTITY":3,"PRICE":2.0}"#), hour + 5),
    ];
    send(log.as_ref(), "orders", &rows);
    run(&mut engine);
    let records = support::read_all_from(log.as_ref(), "ORDERS_PER_HOUR", 0);
    let windows: Vec<(Vec<u8>, i64)> = records.iter().map(split_window).collect();
    assert_eq!(
        windows,
        [(vec![], 0), (vec![], 0), (vec![], hour)],
        "keyed by the window alone"
    );
    let values: Vec<serde_json::Value> = records
        .iter()
        .map(|r| serde_json::from_slice(r.value.as_deref().expect("value")).expect("JSON"))
        .collect();
    assert_eq!(values[1]["ORDER_COUNT"], 2);
    assert_eq!(values[1]["TOTAL_REVENUE"], 7.0);
    assert_eq!(values[1]["WINDOW_START"], 0);
    assert_eq!(values[1]["WINDOW_END"], hour);
    assert_eq!(values[2]["ORDER_COUNT"], 1);
    assert_eq!(values[2]["WINDOW_START"], hour);
    // A non-aggregate column that is not a window bound keeps ksqlDB's error.
    let refused = engine.execute_script(
        "CREATE TABLE bad AS SELECT id, COUNT(*) AS n FROM orders_stream WINDOW TUMBLING (SIZE 1 HOUR) GROUP BY WINDOWSTART, WINDOWEND;",
    );
    let message = refused.expect_err("refused").to_string();
    assert!(
        message.contains("Window bounds column WINDOWSTART"),
        "{message}"
    );
    assert!(
        message.contains("to group by ID within each window, write GROUP BY ID."),
        "says what to write instead: {message}"
    );
    // A window bound beside another key: ksqlDB's error, and what to write.
    let refused = engine.execute_script(
        "CREATE TABLE bad AS SELECT id, COUNT(*) AS n FROM orders_stream WINDOW TUMBLING (SIZE 1 HOUR) GROUP BY WINDOWSTART, id;",
    );
    let message = refused.expect_err("refused").to_string();
    assert!(
        message.contains("grouped by its window already: write GROUP BY ID."),
        "{message}"
    );
}

fn emit_final_writes_each_window_once_when_it_closes(backend: Backend) {
    let test = TestLog::new(backend);
    let (mut engine, log) = (test.engine(), test.transport.clone());
    engine
        .execute_script(
            "CREATE STREAM clicks (user STRING KEY, page STRING) WITH (kafka_topic='clicks', value_format='JSON', partitions=1);
             CREATE TABLE per_user AS SELECT user, COUNT(*) AS n FROM clicks
               WINDOW TUMBLING (SIZE 10 MILLISECONDS, GRACE PERIOD 5 MILLISECONDS) GROUP BY user EMIT FINAL;",
        )
        .expect("ctas");
    let v = Some(r#"{"PAGE":"p"}"#);
    // Window [0, 10) closes when stream time reaches 15; [10, 20) at 25.
    send(
        log.as_ref(),
        "clicks",
        &[
            ("u1", v, 1),
            ("u2", v, 3),
            ("u1", v, 12),
            ("u1", v, 8),
            ("u2", v, 14),
        ],
    );
    run(&mut engine);
    assert!(
        support::read_all_from(log.as_ref(), "PER_USER", 0).is_empty(),
        "nothing is final before stream time passes a window's end plus grace"
    );
    send(log.as_ref(), "clicks", &[("u3", v, 15), ("u1", v, 25)]);
    run(&mut engine);
    let records = support::read_all_from(log.as_ref(), "PER_USER", 0);
    let got: Vec<(String, i64, String)> = records
        .iter()
        .map(|r| {
            let (user, start) = split_window(r);
            let value = String::from_utf8_lossy(r.value.as_deref().unwrap_or_default());
            (
                String::from_utf8_lossy(&user).into_owned(),
                start,
                value.into_owned(),
            )
        })
        .collect();
    let row = |u: &str, s: i64, n: i64| (u.to_string(), s, format!(r#"{{"N":{n}}}"#));
    assert_eq!(
        got,
        [
            row("u1", 0, 2),
            row("u2", 0, 1),
            row("u1", 10, 1),
            row("u2", 10, 1),
            row("u3", 10, 1)
        ],
        "each closed window once, with its final count (the late-but-in-grace row at 8 included)"
    );
}

fn late_and_bad_records_are_counted_apart_per_query(backend: Backend) {
    let test = TestLog::new(backend);
    let (mut engine, log) = (test.engine(), test.transport.clone());
    engine
        .execute_script(
            "CREATE STREAM clicks (user STRING KEY, page STRING) WITH (kafka_topic='clicks', value_format='JSON', partitions=1);
             CREATE TABLE per_user AS SELECT user, COUNT(*) AS n FROM clicks
               WINDOW TUMBLING (SIZE 10 MILLISECONDS, GRACE PERIOD 0 MILLISECONDS) GROUP BY user;",
        )
        .expect("ctas");
    let rows = [
        ("u1", Some(r#"{"PAGE":"home"}"#), 5),
        ("u1", Some(r#"{"PAGE":"home"}"#), 25),
        // Its window [0, 10) closed when stream time reached 10.
        ("u1", Some(r#"{"PAGE":"late"}"#), 6),
        ("u1", Some("not json"), 26),
    ];
    send(log.as_ref(), "clicks", &rows);
    run(&mut engine);
    let metrics = engine.query_metrics();
    let query = metrics
        .iter()
        .find(|q| q.id.starts_with("CTAS_PER_USER"))
        .expect("the query's metrics");
    assert_eq!((query.late_records, query.bad_records), (1, 1), "{query:?}");
    let kinds: Vec<_> = engine
        .processing_errors()
        .iter()
        .map(|e| (e.kind, e.offset))
        .collect();
    use brook::exec::ErrorKind;
    assert_eq!(kinds, [(ErrorKind::Late, 2), (ErrorKind::Bad, 3)]);
}
