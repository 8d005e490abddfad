//! The HTTP API in process, over plain HTTP/1.1 (a raw socket, so the bytes on the wire are
//! what is checked): ksqlDB's error shapes and codes for bad requests, the readiness gate, the
//! push-query cap, streaming framing, and /metrics. The real ksqlDB clients are driven in
//! `http_clients.rs`.

use brook::engine::{Engine, RunMode};
use brook::http::{HttpConfig, Server};
use brook::log::{EmbeddedLog, LogConfig};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use brook::http::client::{Reply, post_json, request};

const TIMEOUT: Duration = Duration::from_secs(30);

pub fn addr(port: u16) -> std::net::SocketAddr {
    std::net::SocketAddr::from(([127, 0, 0, 1], port))
}

/// GET `path`'s body when the server answers 200.
pub fn get(port: u16, path: &str) -> Option<String> {
    request(addr(port), "GET", path, "", "", TIMEOUT)
        .ok()
        .filter(|r| r.status == 200)
        .map(|r| r.body)
}

pub fn post(port: u16, path: &str, body: &str) -> Reply {
    post_json(addr(port), path, body, TIMEOUT).expect("response")
}

pub fn start_server(config: HttpConfig) -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = EmbeddedLog::open(dir.path(), LogConfig::default()).expect("log");
    let engine = Engine::new(Arc::new(log), RunMode::Threads);
    let config = HttpConfig {
        listen: "127.0.0.1:0".parse().expect("addr"),
        ..config
    };
    let server = brook::http::start(Arc::new(Mutex::new(engine)), config).expect("start");
    (server, dir)
}

pub fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

#[test]
fn requests_wait_for_the_startup_files_and_bad_ones_get_ksqldb_errors() {
    let (server, _dir) = start_server(HttpConfig {
        max_body_bytes: 1000,
        ..HttpConfig::default()
    });
    let port = server.local_addr.port();
    let health = json(&get(port, "/healthcheck").expect("healthcheck"));
    assert_eq!(health["isHealthy"], false);
    let early = post(port, "/ksql", r#"{"ksql": "SHOW STREAMS;"}"#);
    assert_eq!(early.status, 503, "{}", early.body);
    server.set_ready();
    assert_eq!(
        json(&get(port, "/healthcheck").expect("healthcheck"))["isHealthy"],
        true
    );

    let malformed = post(port, "/ksql", "{not json");
    assert_eq!(malformed.status, 400);
    let e = json(&malformed.body);
    assert_eq!(
        (e["@type"].as_str(), e["error_code"].as_i64()),
        (Some("generic_error"), Some(40000))
    );
    let wrong_type = post(port, "/ksql", r#"{"ksql": 42}"#);
    assert_eq!(wrong_type.status, 400, "{}", wrong_type.body);
    let big = format!(r#"{{"ksql": "{}"}}"#, "x".repeat(2000));
    assert_eq!(post(port, "/ksql", &big).status, 413);
    let unknown = post(port, "/nope", "{}");
    assert_eq!(
        (unknown.status, json(&unknown.body)["error_code"].as_i64()),
        (404, Some(40400))
    );
    let select = post(port, "/ksql", r#"{"ksql": "SELECT * FROM x;"}"#);
    assert_eq!(json(&select.body)["error_code"], 40002);
    let close = post(port, "/close-query", r#"{"queryId": "nope"}"#);
    assert_eq!(close.status, 400);

    // Statements are validated together first: one failing means none of them ran.
    let rejected = post(
        port,
        "/ksql",
        r#"{"ksql": "CREATE STREAM a (k INT KEY, v INT) WITH (kafka_topic='a', value_format='JSON', partitions=1); CREATE STREAM b AS SELECT * FROM a; INSERT INTO a (k, v) VALUES (1, 2); CREATE STREAM a (k INT KEY) WITH (kafka_topic='a', value_format='JSON');"}"#,
    );
    let e = json(&rejected.body);
    assert_eq!(
        (rejected.status, e["@type"].as_str()),
        (400, Some("statement_error")),
        "{}",
        rejected.body
    );
    assert_eq!(e["entities"], serde_json::json!([]));
    assert!(
        e["message"]
            .as_str()
            .is_some_and(|m| m.contains("already exists")),
        "{}",
        rejected.body
    );
    let listed = post(
        port,
        "/ksql",
        r#"{"ksql": "SHOW STREAMS; SHOW TOPICS; SHOW QUERIES;"}"#,
    );
    let listed = json(&listed.body);
    let names = |entity: &serde_json::Value, list: &str, field: &str| -> Vec<String> {
        entity[list]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s[field].as_str().map(str::to_ascii_uppercase))
            .collect()
    };
    let streams = names(&listed[0], "streams", "name");
    assert!(!streams.iter().any(|n| n == "A" || n == "B"), "{streams:?}");
    let topics = names(&listed[1], "topics", "name");
    assert!(!topics.iter().any(|n| n == "A" || n == "B"), "{topics:?}");
    assert_eq!(listed[2]["queries"], serde_json::json!([]));
    // Positions in errors count from the start of the request, as ksqlDB's do.
    let unknown = post(
        port,
        "/ksql",
        r#"{"ksql": "CREATE STREAM c (k INT KEY, v INT) WITH (kafka_topic='c', value_format='JSON', partitions=1);\nINSERT INTO nowhere SELECT * FROM c;"}"#,
    );
    let message = json(&unknown.body)["message"].clone();
    assert_eq!(
        message, "Line: 2, Col: 13: Source `NOWHERE` does not exist.",
        "{}",
        unknown.body
    );
    // The same statements without the failing one all run.
    let accepted = post(
        port,
        "/ksql",
        r#"{"ksql": "CREATE STREAM a (k INT KEY, v INT) WITH (kafka_topic='a', value_format='JSON', partitions=1); CREATE STREAM b AS SELECT * FROM a; SHOW STREAMS; SHOW TOPICS;"}"#,
    );
    let accepted = json(&accepted.body);
    let streams = names(&accepted[2], "streams", "name");
    assert!(
        streams.iter().any(|n| n == "A") && streams.iter().any(|n| n == "B"),
        "{streams:?}"
    );
    let topics = names(&accepted[3], "topics", "name");
    assert!(
        topics.iter().any(|n| n == "A") && topics.iter().any(|n| n == "B"),
        "{topics:?}"
    );
    assert!(
        e["statementText"]
            .as_str()
            .is_some_and(|t| t.starts_with("CREATE STREAM a (k INT KEY)"))
    );
    server.stop();
}

#[test]
fn push_queries_stream_rows_and_stop_at_the_cap() {
    let (server, _dir) = start_server(HttpConfig {
        max_push_queries: 1,
        ..HttpConfig::default()
    });
    server.set_ready();
    let port = server.local_addr.port();
    let created = post(
        port,
        "/ksql",
        r#"{"ksql": "CREATE STREAM s (k INT KEY, v STRING) WITH (kafka_topic='s', value_format='JSON', partitions=1); INSERT INTO s (k, v) VALUES (1, 'one'); INSERT INTO s (k, v) VALUES (2, 'two');"}"#,
    );
    assert_eq!(created.status, 200, "{}", created.body);
    // One endless push query holds the only place: a second is refused with 40003.
    let holder = std::thread::spawn(move || {
        post(
            port,
            "/query-stream",
            r#"{"sql": "SELECT * FROM s EMIT CHANGES;", "properties": {"auto.offset.reset": "earliest"}}"#,
        )
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !get(port, "/metrics").is_some_and(|m| m.contains("brook_push_queries 1")) {
        assert!(
            std::time::Instant::now() < deadline,
            "the push query did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let refused = post(
        port,
        "/query-stream",
        r#"{"sql": "SELECT * FROM s EMIT CHANGES LIMIT 1;"}"#,
    );
    assert_eq!(json(&refused.body)["error_code"], 40003, "{}", refused.body);
    server.stop();
    drop(holder);

    let (server, _dir) = start_server(HttpConfig::default());
    server.set_ready();
    let port = server.local_addr.port();
    post(
        port,
        "/ksql",
        r#"{"ksql": "CREATE STREAM s (k INT KEY, v STRING) WITH (kafka_topic='s', value_format='JSON', partitions=1); INSERT INTO s (k, v) VALUES (1, 'one'); INSERT INTO s (k, v) VALUES (2, 'two');"}"#,
    );
    let push = post(
        port,
        "/query-stream",
        r#"{"sql": "SELECT * FROM s EMIT CHANGES LIMIT 2;", "properties": {"auto.offset.reset": "earliest"}}"#,
    );
    let lines: Vec<&str> = push.body.lines().collect();
    assert_eq!(lines.len(), 3, "{}", push.body);
    assert_eq!(json(lines[0])["columnNames"], serde_json::json!(["K", "V"]));
    assert_eq!(lines[1..], [r#"[1,"one"]"#, r#"[2,"two"]"#]);
    let old = post(
        port,
        "/query",
        r#"{"ksql": "SELECT * FROM s EMIT CHANGES LIMIT 1;", "streamsProperties": {"ksql.streams.auto.offset.reset": "earliest"}}"#,
    );
    let items = json(&old.body);
    assert_eq!(items[0]["header"]["schema"], "`K` INTEGER, `V` STRING");
    assert_eq!(items[1]["row"]["columns"], serde_json::json!([1, "one"]));
    assert_eq!(items[2]["finalMessage"], "Limit Reached");

    // A persistent query's counters, lag and state size on /metrics.
    post(
        port,
        "/ksql",
        r#"{"ksql": "CREATE STREAM t AS SELECT * FROM s;", "streamsProperties": {"auto.offset.reset": "earliest"}}"#,
    );
    let id = r#"{query="CSAS_T_"#;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let metrics = loop {
        let m = get(port, "/metrics").expect("metrics");
        let done = m.lines().any(|l| {
            l.starts_with("brook_query_records_out_total") && l.contains(id) && l.ends_with(" 2")
        });
        if done || std::time::Instant::now() > deadline {
            break m;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let sample = |name: &str| {
        metrics
            .lines()
            .find(|l| l.starts_with(name) && l.contains(id))
            .and_then(|l| l.rsplit(' ').next())
            .unwrap_or_else(|| panic!("no {name} in\n{metrics}"))
            .to_string()
    };
    assert_eq!(sample("brook_query_records_in_total"), "2", "{metrics}");
    assert_eq!(sample("brook_query_records_out_total"), "2", "{metrics}");
    assert_eq!(sample("brook_query_lag_records"), "0", "{metrics}");
    assert_eq!(sample("brook_query_up"), "1", "{metrics}");
    server.stop();
}

#[test]
fn slow_and_idle_connections_are_closed_but_a_quiet_push_query_is_kept() {
    use std::io::{Read, Write};
    let (server, _dir) = start_server(HttpConfig {
        connections: brook::http::ConnectionLimits {
            header_read: Duration::from_secs(1),
            idle: Duration::from_secs(1),
            ..Default::default()
        },
        ..HttpConfig::default()
    });
    server.set_ready();
    let port = server.local_addr.port();
    let open = || {
        let socket = std::net::TcpStream::connect(addr(port)).expect("connect");
        socket.set_read_timeout(Some(TIMEOUT)).expect("timeout");
        socket
    };
    // Half a request head, then nothing: the server hangs up instead of waiting forever.
    let mut slow = open();
    slow.write_all(b"POST /ksql HTTP/1.1\r\nHost: brook\r\n")
        .expect("write");
    let mut rest = Vec::new();
    let closed = slow.read_to_end(&mut rest);
    assert!(
        !matches!(&closed, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "a half-sent request head kept its connection: {closed:?}"
    );
    // A keep-alive connection whose request was answered is closed once idle.
    let mut idle = open();
    idle.write_all(b"GET /healthcheck HTTP/1.1\r\nHost: brook\r\n\r\n")
        .expect("write");
    let mut answered = Vec::new();
    idle.read_to_end(&mut answered)
        .expect("the idle connection was not closed");
    assert!(String::from_utf8_lossy(&answered).starts_with("HTTP/1.1 200"));

    // A push query with no rows for longer than the idle limit still gets the next row.
    post(
        port,
        "/ksql",
        r#"{"ksql": "CREATE STREAM q (k INT KEY, v STRING) WITH (kafka_topic='q', value_format='JSON', partitions=1);"}"#,
    );
    let mut push = brook::http::client::LineStream::open(
        addr(port),
        "/query-stream",
        r#"{"sql": "SELECT * FROM q EMIT CHANGES;"}"#,
    )
    .expect("push query");
    let header = push.next_line().expect("read").expect("header");
    assert!(header.contains("columnNames"), "{header}");
    std::thread::sleep(Duration::from_secs(3));
    post(
        port,
        "/ksql",
        r#"{"ksql": "INSERT INTO q (k, v) VALUES (7, 'late');"}"#,
    );
    let row = push.next_line().expect("read").expect("a row");
    assert_eq!(row, r#"[7,"late"]"#);
    server.stop();
}

#[test]
fn past_the_connection_cap_a_client_waits_until_a_silent_one_is_dropped() {
    use std::io::{Read, Write};
    let (server, _dir) = start_server(HttpConfig {
        connections: brook::http::ConnectionLimits {
            max_connections: 1,
            header_read: Duration::from_secs(1),
            ..Default::default()
        },
        ..HttpConfig::default()
    });
    server.set_ready();
    let port = server.local_addr.port();
    // Connects and never sends a byte: it holds the only place until the header-read limit.
    let mut silent = std::net::TcpStream::connect(addr(port)).expect("connect");
    std::thread::sleep(Duration::from_millis(200));
    let health = get(port, "/healthcheck");
    assert!(health.is_some(), "the waiting client was never served");
    // It was served only once the silent connection had been closed.
    silent
        .set_read_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");
    let mut rest = Vec::new();
    let closed = silent.read_to_end(&mut rest);
    assert!(
        closed.is_ok(),
        "the silent connection is still open: {closed:?}"
    );
    let _ = silent.write_all(b"x");
    server.stop();
}
