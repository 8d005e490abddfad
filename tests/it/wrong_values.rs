//! Values that used to come out wrong with no error: a regular expression the backtracking
//! engine gave up on (NULL, unreported), integers too big for their column (wrapped on
//! insert), and records whose value is the JSON text `null` (vanished from queries).

use super::http_api::{json, post, start_server};
use super::support::{self, changes, pair};
use brook::engine::{Engine, RunMode};
use brook::http::HttpConfig;
use brook::transport::{Record, Transport};
use std::sync::Arc;

fn setup(dir: &std::path::Path) -> (Engine, Arc<dyn Transport>) {
    let log: Arc<dyn Transport> = Arc::new(support::open(dir));
    let mut engine = Engine::new(log.clone(), RunMode::Manual);
    engine.set_property("auto.offset.reset", "earliest");
    (engine, log)
}

/// Appends (key, value) records to partition 0 of `topic`.
/// Appends (key, value) records at timestamp 1000.
fn send(log: &dyn Transport, topic: &str, rows: &[(&str, Option<&str>)]) {
    let timed: Vec<(&str, Option<&str>, i64)> = rows.iter().map(|(k, v)| (*k, *v, 1_000)).collect();
    support::send_rows(log, topic, &timed);
}

/// Waits (generously) until `topic` holds `count` records, and returns them.
fn wait_for(log: &dyn Transport, topic: &str, count: usize) -> Vec<Record> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let exists = log.partition_count(topic).is_ok();
        let records = match exists {
            true => support::read_all_from(log, topic, 0),
            false => Vec::new(),
        };
        if records.len() >= count {
            return records;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{topic} has {} of {count} records",
            records.len()
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn a_regular_expression_that_cannot_finish_is_reported_and_dollar_runs_in_linear_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log: Arc<dyn Transport> = Arc::new(support::open(dir.path()));
    let mut engine = Engine::open(log.clone(), RunMode::Threads).expect("engine");
    engine.set_property("auto.offset.reset", "earliest");
    engine
        .execute_script(
            "CREATE STREAM s (id STRING KEY, t STRING) WITH (kafka_topic='s', value_format='JSON', partitions=1);
             CREATE STREAM out AS SELECT id, REGEXP_EXTRACT('(a+)+$', t) AS m, REGEXP_REPLACE(t, 'x*$', '') AS r FROM s;",
        )
        .expect("csas");
    let xs = format!("{}y", "x".repeat(2_000));
    let many_a = format!(r#"{{"T":"{}b\n"}}"#, "a".repeat(30));
    let long_x = format!(r#"{{"T":"{xs}"}}"#);
    send(
        log.as_ref(),
        "s",
        &[("1", Some(&many_a)), ("2", Some(&long_x))],
    );

    let out = wait_for(log.as_ref(), "OUT", 2);
    let rows: Vec<serde_json::Value> = support::values(&out).iter().map(|v| json(v)).collect();
    // The first input ends with a line terminator: `$` needs the backtracking engine, whose
    // step limit `(a+)+` exceeds. The row is written with NULL, and reported.
    assert_eq!(rows[0]["M"], serde_json::Value::Null);
    assert_eq!(rows[1]["M"], serde_json::Value::Null, "no match");
    assert_eq!(
        rows[1]["R"],
        serde_json::json!(xs),
        "x*$ matches only at the end"
    );

    let logged = wait_for(log.as_ref(), "brook_processing_log", 1);
    let records: Vec<serde_json::Value> =
        support::values(&logged).iter().map(|v| json(v)).collect();
    assert_eq!(records.len(), 1, "{records:?}");
    let record = &records[0];
    assert!(
        record["QUERY_ID"]
            .as_str()
            .is_some_and(|q| q.starts_with("CSAS_OUT")),
        "{record}"
    );
    assert_eq!(
        (&record["TOPIC"], &record["OFFSET"]),
        (&serde_json::json!("s"), &serde_json::json!(0))
    );
    assert!(
        record["MESSAGE"]
            .as_str()
            .is_some_and(|m| m.contains("'(a+)+$'") && m.contains("backtracking steps")),
        "{record}"
    );
}

#[test]
fn a_failing_function_is_reported_whether_its_expression_or_only_the_call_is_null() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut engine, log) = setup(dir.path());
    engine
        .execute_script(
            "CREATE STREAM s (id STRING KEY, d STRING) WITH (kafka_topic='s', value_format='JSON', partitions=1);
             CREATE STREAM out AS SELECT id, PARSE_DATE(d, 'yyyy-MM-dd') AS strict,
               COALESCE(PARSE_DATE(d, 'yyyy-MM-dd'), PARSE_DATE(d, 'yyyy')) AS either FROM s;",
        )
        .expect("csas");
    send(log.as_ref(), "s", &[("1", Some(r#"{"D":"2004"}"#))]);
    engine.run_until_idle().expect("run");
    let out = support::read_all_from(log.as_ref(), "OUT", 0);
    assert_eq!(
        support::values(&out),
        [r#"{"STRICT":null,"EITHER":12418}"#],
        "the failed argument is NULL, so COALESCE takes the next"
    );
    let mut messages: Vec<String> = engine
        .processing_errors()
        .into_iter()
        .map(|e| e.message)
        .collect();
    messages.sort();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(
        messages[0].starts_with("Error computing expression PARSE_DATE(D, 'yyyy-MM-dd')")
            && messages[1]
                .starts_with("Error processing PARSE_DATE: Text '2004' could not be parsed"),
        "{messages:?}"
    );
}

#[test]
fn inserted_integers_that_do_not_fit_their_column_are_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut engine, log) = setup(dir.path());
    engine
        .execute_script(
            "CREATE STREAM s (id INT KEY, v INT, w STRING, d DECIMAL(3, 1)) WITH (kafka_topic='s', value_format='JSON', partitions=1);",
        )
        .expect("create");
    let refused = [
        (
            "INSERT INTO s (id, v, w) VALUES (1, 99999999999, 'x');",
            "Failed to insert values into 'S'. Expected type INTEGER for field V but got BIGINT(99999999999)",
        ),
        (
            "INSERT INTO s (id, d) VALUES (2, 123.4);",
            "Failed to insert values into 'S'. Expected type DECIMAL(3, 1) for field D but got DECIMAL(123.4)",
        ),
        (
            "INSERT INTO s (id, d) VALUES (3, 1.25);",
            "Failed to insert values into 'S'. Expected type DECIMAL(3, 1) for field D but got DECIMAL(1.25)",
        ),
        (
            "INSERT INTO s (id, v) VALUES (4, 1.5E0);",
            "Failed to insert values into 'S'. Expected type INTEGER for field V but got DOUBLE(1.5)",
        ),
    ];
    for (statement, message) in refused {
        let error = engine.execute_script(statement).expect_err(statement);
        assert_eq!(error.to_string(), message, "{statement}");
    }
    engine
        .execute_script("INSERT INTO s (id, v, d) VALUES (5, 2147483647, 12.5);")
        .expect("values that fit");
    let written = support::read_all_from(log.as_ref(), "s", 0);
    assert_eq!(
        support::values(&written),
        [r#"{"V":2147483647,"W":null,"D":12.5}"#]
    );
}

#[test]
fn inserts_stream_refuses_a_number_its_column_cannot_hold() {
    let (server, _dir) = start_server(HttpConfig::default());
    server.set_ready();
    let port = server.local_addr.port();
    let created = post(
        port,
        "/ksql",
        r#"{"ksql": "CREATE STREAM s (id INT KEY, v INT, w BIGINT) WITH (kafka_topic='s', value_format='JSON', partitions=1);"}"#,
    );
    assert_eq!(created.status, 200, "{}", created.body);
    let rows = [
        r#"{"target": "S"}"#,
        r#"{"ID": 1, "V": 1099511627776}"#,
        r#"{"ID": 2, "W": 9223372036854775808}"#,
        r#"{"ID": 3, "V": 1.5}"#,
        r#"{"ID": 4, "V": 7, "W": 1099511627776}"#,
    ];
    let reply = post(port, "/inserts-stream", &rows.join("\n"));
    let acks: Vec<serde_json::Value> = reply.body.lines().map(json).collect();
    let refusal = |i: usize| {
        assert_eq!(acks[i]["status"], "error", "{}", reply.body);
        assert_eq!(acks[i]["error_code"], 40000, "{}", reply.body);
        acks[i]["message"].as_str().unwrap_or_default().to_string()
    };
    assert_eq!(acks.len(), 4, "{}", reply.body);
    assert!(
        refusal(0).contains(
            "Can't coerce a field of type class java.lang.Long (1099511627776) into type INTEGER"
        ),
        "{}",
        reply.body
    );
    assert!(
        refusal(1).contains(
            "Can't coerce a field of type class java.math.BigInteger (9223372036854775808) into type BIGINT"
        ),
        "{}",
        reply.body
    );
    assert!(
        refusal(2).contains(
            "Can't coerce a field of type class java.lang.Double (1.5) into type INTEGER"
        ),
        "{}",
        reply.body
    );
    assert_eq!(acks[3], serde_json::json!({"status": "ok", "seq": 3}));

    let pulled = post(port, "/query-stream", r#"{"sql": "SELECT * FROM S;"}"#);
    let lines: Vec<&str> = pulled.body.lines().collect();
    assert_eq!(lines[1..], ["[4,7,1099511627776]"], "{}", pulled.body);
    server.stop();
}

#[test]
fn a_json_null_value_is_a_tombstone_and_a_dropped_one_is_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut engine, log) = setup(dir.path());
    engine
        .execute_script(
            "CREATE STREAM s (id STRING KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
             CREATE STREAM copied AS SELECT * FROM s;
             CREATE STREAM filtered AS SELECT * FROM s WHERE v > 0;
             CREATE TABLE t (id STRING PRIMARY KEY, v INT) WITH (kafka_topic='t', value_format='JSON', partitions=1);
             CREATE TABLE t_copy AS SELECT * FROM t;
             CREATE TABLE per_v AS SELECT v, COUNT(*) AS n FROM t GROUP BY v;",
        )
        .expect("queries");
    send(
        log.as_ref(),
        "s",
        &[("a", Some(r#"{"V":1}"#)), ("b", Some(" null "))],
    );
    send(
        log.as_ref(),
        "t",
        &[("a", Some(r#"{"V":1}"#)), ("a", Some("null"))],
    );
    engine.run_until_idle().expect("run");

    let read = |topic: &str| changes(&support::read_all_from(log.as_ref(), topic, 0));
    assert_eq!(
        read("COPIED"),
        [pair("a", Some(r#"{"V":1}"#)), pair("b", None)],
        "the null value passes through as a null value"
    );
    assert_eq!(read("FILTERED"), [pair("a", Some(r#"{"V":1}"#))]);
    assert_eq!(
        read("T_COPY"),
        [pair("a", Some(r#"{"V":1}"#)), pair("a", None)],
        "a table's JSON null deletes its key"
    );
    assert_eq!(
        read("PER_V"),
        // The key is the INT 1, as KAFKA writes it (4 bytes, big-endian).
        [
            pair("\0\0\0\u{1}", Some(r#"{"N":1}"#)),
            pair("\0\0\0\u{1}", Some(r#"{"N":0}"#))
        ],
        "and is undone from an aggregation"
    );
    let errors = engine.processing_errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].query_id.starts_with("CSAS_FILTERED"),
        "{errors:?}"
    );
    assert_eq!((errors[0].topic.as_str(), errors[0].offset), ("s", 1));
    assert!(
        errors[0].message.contains("null value"),
        "{}",
        errors[0].message
    );
}
