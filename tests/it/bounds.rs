//! No statement can take the server down: expressions nested past the limit are refused with
//! their position, deep ones within it run everywhere (INSERT VALUES, persistent and push
//! queries), nested constructors parse promptly, and values or expansions past their bounds send
//! the row to the processing log while the query and the server go on; a step whose records
//! together would keep too much is processed in smaller steps.

use brook::engine::{Engine, RunMode};
use brook::http::Server;
use brook::http::client::{Reply, post_json};
use brook::log::{EmbeddedLog, LogConfig};
use brook::sql::MAX_EXPRESSION_DEPTH;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(60);

fn start() -> (Server, Arc<Mutex<Engine>>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = EmbeddedLog::open(dir.path(), LogConfig::default()).expect("log");
    let engine = Engine::open(Arc::new(log), RunMode::Threads).expect("engine");
    let engine = Arc::new(Mutex::new(engine));
    let server = crate::support::serve(engine.clone());
    (server, engine, dir)
}

fn post(server: &Server, path: &str, body: serde_json::Value) -> Reply {
    post_json(server.local_addr, path, &body.to_string(), TIMEOUT).expect("response")
}

fn ksql(server: &Server, sql: &str) -> Reply {
    post(server, "/ksql", serde_json::json!({ "ksql": sql }))
}

/// `1+1+...+1` with `terms` ones.
fn chain(terms: usize, op: &str) -> String {
    vec!["1"; terms].join(op)
}

/// The rows of a push or pull query answered on /query-stream (the header line dropped).
fn rows(server: &Server, sql: &str) -> Vec<String> {
    let reply = post(
        server,
        "/query-stream",
        serde_json::json!({ "sql": sql, "properties": {"auto.offset.reset": "earliest"} }),
    );
    assert_eq!(reply.status, 200, "{sql}: {}", reply.body);
    reply.body.lines().skip(1).map(str::to_string).collect()
}

fn wait_for_rows(server: &Server, sql: &str, expected: &[&str]) {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let got = rows(server, sql);
        if got == expected {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{sql}: {got:?}, expected {expected:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn chains_past_the_depth_limit_are_refused_and_the_server_stays_up() {
    let (server, _engine, _dir) = start();
    let created = ksql(
        &server,
        "CREATE STREAM s (id INT KEY, v INT, t VARCHAR) WITH (kafka_topic='s', value_format='JSON', partitions=1);",
    );
    assert_eq!(created.status, 200, "{}", created.body);
    for op in ["+", " OR 1 = ", " || "] {
        let sql = format!("INSERT INTO s (id, v) VALUES (1, {});", chain(2_000, op));
        let refused = ksql(&server, &sql);
        assert_eq!(refused.status, 400, "{}", refused.body);
        assert!(
            refused.body.contains("nested too deeply"),
            "{}",
            refused.body
        );
    }
    let deep_select = format!("SELECT {} AS x FROM s EMIT CHANGES;", chain(2_000, "+"));
    let refused = post(
        &server,
        "/query-stream",
        serde_json::json!({ "sql": deep_select }),
    );
    assert_eq!(refused.status, 400, "{}", refused.body);
    let csas = format!(
        "CREATE STREAM d AS SELECT id, {} AS x FROM s;",
        chain(2_000, "*")
    );
    assert_eq!(ksql(&server, &csas).status, 400);

    // Just within the limit, every path evaluates it.
    let terms = MAX_EXPRESSION_DEPTH - 10;
    let within = chain(terms, "+");
    let made = ksql(
        &server,
        &format!("CREATE STREAM d AS SELECT id, v + {within} AS x FROM s EMIT CHANGES;"),
    );
    assert_eq!(made.status, 200, "{}", made.body);
    let inserted = ksql(
        &server,
        &format!("INSERT INTO s (id, v) VALUES (1, {within});"),
    );
    assert_eq!(inserted.status, 200, "{}", inserted.body);
    let doubled = format!("[1,{}]", 2 * terms);
    wait_for_rows(&server, "SELECT * FROM d;", &[&doubled]);
    let push = rows(
        &server,
        &format!("SELECT id, v + {within} AS x FROM s EMIT CHANGES LIMIT 1;"),
    );
    assert_eq!(push, [doubled]);
    server.stop();
}

#[test]
fn nested_constructors_parse_promptly() {
    let (server, _engine, _dir) = start();
    ksql(
        &server,
        "CREATE STREAM s (id INT KEY, a ARRAY<INT>) WITH (kafka_topic='s', value_format='JSON', partitions=1);",
    );
    // 50 levels is past sqlparser's recursion limit; 12 is within it. Either way the answer
    // comes at once (this used to take minutes under the engine lock).
    for depth in [12, 50] {
        let nested = format!("{}1{}", "ARRAY[".repeat(depth), "]".repeat(depth));
        let reply = ksql(&server, &format!("INSERT INTO s (id) VALUES ({nested});"));
        assert!(reply.status == 200 || reply.status == 400, "{}", reply.body);
        let nested = format!(
            "{}1{}",
            "ARRAY_MAX(ARRAY[".repeat(depth),
            "])".repeat(depth)
        );
        let reply = ksql(&server, &format!("INSERT INTO s (id) VALUES ({nested});"));
        assert!(reply.status == 200 || reply.status == 400, "{}", reply.body);
    }
    let ok = ksql(
        &server,
        "INSERT INTO s (id, a) VALUES (1, ARRAY[ARRAY_MAX(ARRAY[1, 2])]);",
    );
    assert_eq!(ok.status, 200, "{}", ok.body);
    server.stop();
}

#[test]
fn values_and_expansions_past_their_bounds_go_to_the_processing_log() {
    let (server, engine, _dir) = start();
    ksql(
        &server,
        "CREATE STREAM s (id INT KEY, n INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);",
    );
    let made = ksql(
        &server,
        "CREATE STREAM e WITH (partitions=1) AS SELECT id, EXPLODE(GENERATE_SERIES(1, n)) AS x FROM s EMIT CHANGES;",
    );
    assert_eq!(made.status, 200, "{}", made.body);
    let padded = ksql(
        &server,
        "CREATE STREAM p AS SELECT id, LEN(LPAD('', n, 'a')) AS pad FROM s EMIT CHANGES;",
    );
    assert_eq!(padded.status, 200, "{}", padded.body);
    // 200,000 rows from one record, and a two-gigabyte string: refused row by row.
    ksql(&server, "INSERT INTO s (id, n) VALUES (1, 200000);");
    ksql(&server, "INSERT INTO s (id, n) VALUES (2, 2000000000);");
    ksql(&server, "INSERT INTO s (id, n) VALUES (3, 2);");
    wait_for_rows(&server, "SELECT * FROM e;", &["[3,1]", "[3,2]"]);
    wait_for_rows(
        &server,
        "SELECT * FROM p;",
        &["[1,200000]", "[2,null]", "[3,2]"],
    );
    let errors = engine.lock().expect("engine").processing_errors();
    let messages: Vec<String> = errors.iter().map(|e| e.message.clone()).collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("more than the limit of 100000")),
        "{messages:#?}"
    );
    assert!(messages.iter().any(|m| m.contains("LPAD")), "{messages:#?}");

    // A push query whose one row would hold ten million arrays of ten million.
    let huge = rows(
        &server,
        "SELECT id, TRANSFORM(GENERATE_SERIES(1, 10000000), x => GENERATE_SERIES(1, 10000000)) AS t FROM s WHERE id = 3 EMIT CHANGES LIMIT 1;",
    );
    assert_eq!(huge, ["[3,null]"]);
    let budget = rows(
        &server,
        "SELECT id, TRANSFORM(GENERATE_SERIES(1, 1000), x => GENERATE_SERIES(1, 1000000)) AS t FROM s WHERE id = 3 EMIT CHANGES LIMIT 1;",
    );
    assert_eq!(budget, ["[3,null]"]);
    let huge_insert = ksql(
        &server,
        "INSERT INTO s (id, n) VALUES (4, LEN(LPAD('', 2000000000, 'a')));",
    );
    assert!(
        huge_insert.status == 200 || huge_insert.status == 400,
        "{}",
        huge_insert.body
    );
    assert_eq!(ksql(&server, "SHOW STREAMS;").status, 200);
    server.stop();
}

/// The process's peak resident memory (VmHWM), in MiB.
fn peak_memory_mib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .expect("VmHWM")
        >> 10
}

#[test]
fn records_that_together_pass_the_step_budget_are_all_processed_in_smaller_steps() {
    let (server, engine, _dir) = start();
    ksql(
        &server,
        "CREATE STREAM s (id INT KEY, n INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);",
    );
    // Forty records whose WHERE keeps a 60 MB string each for the batch: 2.4 GB in one step.
    let count = 40;
    for id in 0..count {
        let inserted = ksql(
            &server,
            &format!("INSERT INTO s (id, n) VALUES ({id}, 1000);"),
        );
        assert_eq!(inserted.status, 200, "{}", inserted.body);
    }
    let before = peak_memory_mib();
    engine
        .lock()
        .expect("engine")
        .set_property("auto.offset.reset", "earliest");
    let made = ksql(
        &server,
        "CREATE STREAM padded AS SELECT id, LEN(REPLACE(LPAD('', n, 'a'), 'a', LPAD('', 60000, 'b'))) AS len \
         FROM s WHERE REPLACE(LPAD('', n, 'a'), 'a', LPAD('', 60000, 'b')) <> 'c' EMIT CHANGES;",
    );
    assert_eq!(made.status, 200, "{}", made.body);
    let expected: Vec<String> = (0..count).map(|id| format!("[{id},60000000]")).collect();
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut got = Vec::new();
    while Instant::now() < deadline {
        got = rows(&server, "SELECT * FROM padded;");
        got.sort_by_key(|r| {
            r.trim_start_matches('[')
                .split(',')
                .next()
                .and_then(|i| i.parse::<u32>().ok())
        });
        if got.len() >= count {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(got, expected, "each record once");
    let errors = engine.lock().expect("engine").processing_errors();
    assert!(errors.is_empty(), "{errors:#?}");
    // Loose: one step keeps at most 1 GiB of values (and copies them once into Arrow).
    let peak = peak_memory_mib();
    eprintln!("peak resident memory: {before} MiB before the query, {peak} MiB after");
    assert!(peak < 3072, "the process peaked at {peak} MiB");
    server.stop();
}
