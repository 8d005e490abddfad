//! Restarts keep each persistent query's id, hence its consumer group, state and changelogs:
//! transient queries run before it was created do not shift it, older command logs (bare
//! statements) find their queries' offsets again, TERMINATE removes what a query owned, and a
//! restored query whose offsets are gone is reported by name.

use brook::engine::{Engine, RunMode};
use brook::http::Server;
use brook::http::client::post_json;
use brook::log::{EmbeddedLog, LogConfig};
use brook::transport::{ProducerRecord, TopicPartition, Transport};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(30);

struct Running {
    server: Server,
    engine: Arc<Mutex<Engine>>,
    log: EmbeddedLog,
}

impl Running {
    /// `brook server` over `dir`: the catalog restored, queries in threads, the HTTP API.
    fn start(dir: &Path) -> Running {
        let log = EmbeddedLog::open(dir, LogConfig::default()).expect("log");
        let engine = Engine::new(Arc::new(log.clone()), RunMode::Threads)
            .with_state_dir(dir.join("state"))
            .recovered()
            .expect("recover");
        let engine = Arc::new(Mutex::new(engine));
        let server = crate::support::serve(engine.clone());
        Running {
            server,
            engine,
            log,
        }
    }

    fn post(&self, path: &str, body: &str) -> String {
        let reply = post_json(self.server.local_addr, path, body, TIMEOUT).expect("response");
        assert_eq!(reply.status, 200, "{path} {body}: {}", reply.body);
        reply.body
    }

    fn ksql(&self, sql: &str) -> String {
        self.post("/ksql", &serde_json::json!({ "ksql": sql }).to_string())
    }

    /// The pull query's rows, once they equal `expected` (queries run in their own threads).
    fn wait_for_rows(&self, sql: &str, expected: &str) {
        let body = serde_json::json!({ "sql": sql }).to_string();
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let reply = self.post("/query-stream", &body);
            let rows: Vec<&str> = reply.lines().skip(1).collect();
            if rows.join("\n") == expected {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{sql}: rows {rows:?}, expected {expected}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn query_ids(&self) -> Vec<String> {
        let engine = self.engine.lock().expect("engine");
        engine.catalog().queries.keys().cloned().collect()
    }

    fn warnings(&self) -> Vec<String> {
        let engine = self.engine.lock().expect("engine");
        engine.recovery_warnings().to_vec()
    }

    fn stop(self) {
        self.server.stop();
        if let Ok(mut engine) = self.engine.lock() {
            engine.shutdown();
        }
        drop(self.engine);
        self.log.close().expect("close");
    }
}

const CREATE_PV: &str = "CREATE STREAM pv (u VARCHAR KEY, p VARCHAR) WITH (KAFKA_TOPIC='pv', VALUE_FORMAT='JSON', PARTITIONS=1);";
const CREATE_PER_USER: &str =
    "CREATE TABLE per_user AS SELECT u, COUNT(*) AS n FROM pv GROUP BY u;";
const PULL: &str = "SELECT * FROM per_user;";

#[test]
fn a_query_created_after_transient_queries_keeps_its_id_and_state_across_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let brook = Running::start(dir.path());
    brook.ksql(CREATE_PV);
    brook.ksql("INSERT INTO pv (u, p) VALUES ('x', 'seen by the push query');");
    let push = brook.post(
        "/query-stream",
        r#"{"sql": "SELECT * FROM pv EMIT CHANGES LIMIT 1;", "properties": {"auto.offset.reset": "earliest"}}"#,
    );
    assert_eq!(push.lines().count(), 2, "{push}");
    brook.wait_for_rows("SELECT * FROM pv;", r#"["x","seen by the push query"]"#);
    brook.ksql(CREATE_PER_USER);
    let ids = brook.query_ids();
    brook.ksql("INSERT INTO pv (u, p) VALUES ('a', 'y');");
    brook.wait_for_rows(PULL, r#"["a",1]"#);
    brook.stop();

    let brook = Running::start(dir.path());
    assert_eq!(
        brook.query_ids(),
        ids,
        "the query came back under another id"
    );
    assert_eq!(brook.warnings(), Vec::<String>::new());
    brook.wait_for_rows(PULL, r#"["a",1]"#);
    brook.ksql("INSERT INTO pv (u, p) VALUES ('a', 'z');");
    brook.wait_for_rows(PULL, r#"["a",2]"#);
    brook.stop();
}

#[test]
fn records_inserted_while_the_server_was_down_are_processed_after_the_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let brook = Running::start(dir.path());
    brook.ksql(CREATE_PV);
    brook.ksql("INSERT INTO pv (u, p) VALUES ('x', 'read by a push query');");
    brook.post(
        "/query-stream",
        r#"{"sql": "SELECT * FROM pv EMIT CHANGES LIMIT 1;", "properties": {"auto.offset.reset": "earliest"}}"#,
    );
    brook.ksql("CREATE STREAM copied AS SELECT * FROM pv;");
    brook.ksql("INSERT INTO pv (u, p) VALUES ('a', 'before');");
    brook.wait_for_rows("SELECT * FROM copied;", r#"["a","before"]"#);
    brook.stop();

    let log = EmbeddedLog::open(dir.path(), LogConfig::default()).expect("log");
    let mut producer = log.producer().expect("producer");
    let record = ProducerRecord::new(Some("b"), Some(r#"{"P": "while down"}"#));
    producer.send("pv", Some(0), record).expect("send");
    producer.flush().expect("flush");
    log.close().expect("close");

    let brook = Running::start(dir.path());
    brook.wait_for_rows(
        "SELECT * FROM copied;",
        "[\"a\",\"before\"]\n[\"b\",\"while down\"]",
    );
    brook.stop();
}

#[test]
fn terminate_removes_the_offsets_state_and_changelogs_of_its_query() {
    let dir = tempfile::tempdir().expect("tempdir");
    let brook = Running::start(dir.path());
    brook.ksql(CREATE_PV);
    brook.ksql(CREATE_PER_USER);
    brook.ksql("INSERT INTO pv (u, p) VALUES ('a', 'y');");
    brook.wait_for_rows(PULL, r#"["a",1]"#);
    let id = brook.query_ids().pop().expect("a query");
    let owned = |log: &EmbeddedLog| {
        let group = format!("_brook_query_{id}");
        let groups = log.list_groups().expect("groups");
        let topics = log.list_topics().expect("topics");
        let changelogs = topics.iter().filter(|t| t.starts_with(&group)).count();
        let state = dir.path().join("state").join(&id).exists();
        (groups.contains(&group), changelogs, state)
    };
    let (group, changelogs, state) = owned(&brook.log);
    assert!(
        group && changelogs > 0 && state,
        "{group} {changelogs} {state}"
    );
    brook.ksql(&format!("TERMINATE {id};"));
    assert_eq!(owned(&brook.log), (false, 0, false));
    brook.stop();
}

#[test]
fn a_restored_query_whose_offsets_are_gone_is_reported_by_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let brook = Running::start(dir.path());
    brook.ksql(CREATE_PV);
    brook.ksql(CREATE_PER_USER);
    let id = brook.query_ids().pop().expect("a query");
    brook.stop();

    let log = EmbeddedLog::open(dir.path(), LogConfig::default()).expect("log");
    log.delete_group(&format!("_brook_query_{id}"))
        .expect("delete");
    log.close().expect("close");

    let brook = Running::start(dir.path());
    let warnings = brook.warnings();
    assert!(
        warnings
            .iter()
            .any(|w| w.contains(&id) && w.contains("committed input offsets")),
        "{warnings:?}"
    );
    brook.stop();
}

/// A command log written before query ids were stored holds bare statements; a query that an
/// older version renumbered still finds its offsets under its original id.
#[test]
fn an_older_command_log_finds_its_query_under_its_original_id() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = EmbeddedLog::open(dir.path(), LogConfig::default()).expect("log");
    let engine = Engine::open(Arc::new(log.clone()), RunMode::Manual).expect("open");
    drop(engine);
    let mut producer = log.producer().expect("producer");
    for statement in [CREATE_PV, CREATE_PER_USER] {
        let record = ProducerRecord::new(None::<Vec<u8>>, Some(statement));
        producer
            .send(brook::engine::COMMAND_TOPIC, Some(0), record)
            .expect("send");
    }
    producer.flush().expect("flush");
    // An older version ran it as CTAS_PER_USER_1 (a push query took number 0) and committed.
    log.create_topic("pv", &brook::transport::TopicConfig::with_partitions(1))
        .expect("topic");
    log.commit_offsets(
        "_brook_query_CTAS_PER_USER_1",
        &[(TopicPartition::new("pv", 0), 0)],
    )
    .expect("commit");
    log.close().expect("close");

    let brook = Running::start(dir.path());
    assert_eq!(brook.query_ids(), vec!["CTAS_PER_USER_1".to_string()]);
    let warnings = brook.warnings();
    assert!(
        warnings.iter().any(|w| w.contains("CTAS_PER_USER_1")),
        "{warnings:?}"
    );
    // A new query never takes a number that already owns offsets or state.
    brook.ksql("CREATE TABLE per_user_2 AS SELECT u, COUNT(*) AS n FROM pv GROUP BY u;");
    assert_eq!(
        brook.query_ids(),
        vec![
            "CTAS_PER_USER_1".to_string(),
            "CTAS_PER_USER_2_2".to_string()
        ]
    );
    // The adopted id is recorded: once it is terminated (and owns nothing), a restart does
    // not bring the query back under another number.
    brook.ksql("TERMINATE CTAS_PER_USER_1;");
    brook.stop();
    let brook = Running::start(dir.path());
    assert_eq!(brook.query_ids(), vec!["CTAS_PER_USER_2_2".to_string()]);
    assert_eq!(brook.warnings(), Vec::<String>::new());
    brook.stop();
}

/// The records of `topic` (one partition), read directly from the log.
fn topic_len(log: &EmbeddedLog, topic: &str) -> usize {
    crate::support::read_all(log, topic, 0).len()
}

#[test]
fn a_terminated_query_is_not_run_again_by_later_restarts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let brook = Running::start(dir.path());
    brook.ksql(CREATE_PV);
    for i in 0..20 {
        brook.ksql(&format!("INSERT INTO pv (u, p) VALUES ('u{i}', 'x');"));
    }
    brook.post(
        "/ksql",
        r#"{"ksql": "CREATE STREAM copied AS SELECT * FROM pv;", "streamsProperties": {"auto.offset.reset": "earliest"}}"#,
    );
    let deadline = Instant::now() + TIMEOUT;
    while topic_len(&brook.log, "COPIED") < 20 {
        assert!(
            Instant::now() < deadline,
            "the query did not copy its input"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let id = brook.query_ids().pop().expect("a query");
    brook.ksql(&format!("TERMINATE {id};"));
    brook.stop();
    for _ in 0..2 {
        let brook = Running::start(dir.path());
        assert_eq!(brook.query_ids(), Vec::<String>::new());
        assert_eq!(brook.warnings(), Vec::<String>::new());
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(
            topic_len(&brook.log, "COPIED"),
            20,
            "the terminated query ran again"
        );
        brook.stop();
    }
}

#[test]
fn create_or_replace_keeps_the_query_and_its_id() {
    let dir = tempfile::tempdir().expect("tempdir");
    let brook = Running::start(dir.path());
    brook.ksql(CREATE_PV);
    brook.ksql("CREATE STREAM copied AS SELECT * FROM pv;");
    let ids = brook.query_ids();
    brook.ksql("CREATE OR REPLACE STREAM copied AS SELECT * FROM pv WHERE p = 'kept';");
    assert_eq!(brook.query_ids(), ids);
    brook.ksql("INSERT INTO pv (u, p) VALUES ('a', 'dropped');");
    brook.ksql("INSERT INTO pv (u, p) VALUES ('b', 'kept');");
    brook.wait_for_rows("SELECT * FROM copied;", r#"["b","kept"]"#);
    brook.stop();
    let brook = Running::start(dir.path());
    assert_eq!(brook.query_ids(), ids);
    brook.stop();
}

#[test]
fn create_or_replace_never_takes_over_an_insert_query() {
    let dir = tempfile::tempdir().expect("tempdir");
    let brook = Running::start(dir.path());
    brook.ksql(CREATE_PV);
    brook.ksql("CREATE STREAM copied AS SELECT * FROM pv;");
    brook.ksql("INSERT INTO copied SELECT * FROM pv;");
    let ids = brook.query_ids();
    let creator = ids
        .iter()
        .find(|id| id.starts_with("CSAS_"))
        .expect("the CSAS");
    let inserter = ids
        .iter()
        .find(|id| id.starts_with("INSERTQUERY_"))
        .expect("the INSERT");
    brook.ksql(&format!("TERMINATE {creator};"));
    brook.ksql("CREATE OR REPLACE STREAM copied AS SELECT * FROM pv WHERE p = 'x';");
    let after = brook.query_ids();
    assert!(after.contains(inserter), "{after:?}");
    assert_eq!(after.len(), 2, "{after:?}");
    brook.stop();
}

/// In an older command log, an id whose consumer group read another topic (left by an older
/// query of the same name) is not this query's: it starts afresh under an unused id.
#[test]
fn an_older_command_log_never_adopts_offsets_of_another_topic() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = EmbeddedLog::open(dir.path(), LogConfig::default()).expect("log");
    drop(Engine::open(Arc::new(log.clone()), RunMode::Manual).expect("open"));
    let mut producer = log.producer().expect("producer");
    for statement in [CREATE_PV, "CREATE STREAM copied AS SELECT * FROM pv;"] {
        let record = ProducerRecord::new(None::<Vec<u8>>, Some(statement));
        producer
            .send(brook::engine::COMMAND_TOPIC, Some(0), record)
            .expect("send");
    }
    producer.flush().expect("flush");
    log.create_topic("other", &brook::transport::TopicConfig::with_partitions(1))
        .expect("topic");
    log.commit_offsets(
        "_brook_query_CSAS_COPIED_0",
        &[(TopicPartition::new("other", 0), 7)],
    )
    .expect("commit");
    log.close().expect("close");

    let brook = Running::start(dir.path());
    assert_eq!(brook.query_ids(), vec!["CSAS_COPIED_1".to_string()]);
    brook.stop();
    let brook = Running::start(dir.path());
    assert_eq!(brook.query_ids(), vec!["CSAS_COPIED_1".to_string()]);
    brook.stop();
}
