//! ALTER, ASSERT TOPIC and RUN SCRIPT through the engine.

use super::support;
use brook::engine::{Engine, RunMode};
use brook::sql::ScriptStatement;
use std::sync::Arc;

fn engine(dir: &std::path::Path) -> Engine {
    let log = support::open(dir);
    Engine::new(Arc::new(log), RunMode::Manual)
}

fn error_of(engine: &mut Engine, sql: &str) -> String {
    match engine.execute_script(sql) {
        Ok(_) => panic!("expected an error from {sql}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn alter_adds_value_columns_only_where_allowed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut e = engine(dir.path());
    e.execute_script(
        "CREATE STREAM s (k STRING KEY, a INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);
         ALTER STREAM s ADD COLUMN b STRING, ADD c DOUBLE;",
    )
    .expect("alter");
    let names: Vec<String> = e.catalog().sources["S"]
        .schema
        .columns
        .iter()
        .map(|c| c.name.clone())
        .collect();
    assert_eq!(names, ["K", "A", "B", "C"]);
    assert!(
        error_of(&mut e, "ALTER STREAM s ADD a INT;")
            .contains("A column with the same name already exists")
    );
    assert!(
        error_of(&mut e, "ALTER TABLE s ADD z INT;")
            .contains("Incompatible data source type is STREAM")
    );
    e.execute_script("CREATE SOURCE STREAM r (a INT) WITH (kafka_topic='s', value_format='JSON');")
        .expect("source stream");
    assert!(
        error_of(&mut e, "ALTER STREAM r ADD z INT;")
            .contains("ALTER operations are not supported on source streams")
    );
    e.execute_script("CREATE STREAM d AS SELECT * FROM s;")
        .expect("csas");
    assert!(
        error_of(&mut e, "ALTER STREAM d ADD z INT;").contains("not supported for CREATE ... AS")
    );
}

#[test]
fn assert_topic_waits_for_the_expected_state() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut e = engine(dir.path());
    e.execute_script(
        "CREATE STREAM s (a INT) WITH (kafka_topic='t1', value_format='JSON', partitions=2);",
    )
    .expect("create");
    e.execute_script("ASSERT TOPIC t1 WITH (PARTITIONS=2);")
        .expect("exists");
    e.execute_script("ASSERT NOT EXISTS TOPIC nope TIMEOUT 10 MILLISECONDS;")
        .expect("absent");
    assert!(
        error_of(&mut e, "ASSERT TOPIC nope TIMEOUT 20 MILLISECONDS;")
            .contains("Topic nope does not exist")
    );
    assert!(
        error_of(&mut e, "ASSERT TOPIC t1 WITH (PARTITIONS=3);")
            .contains("partitions expected 3, got 2")
    );
    assert!(error_of(&mut e, "ASSERT SCHEMA SUBJECT 'x';").contains("no schema registry"));
}

#[test]
fn run_script_is_a_client_command() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut e = engine(dir.path());
    let script = dir.path().join("setup.sql");
    std::fs::write(
        &script,
        "CREATE STREAM s (a INT) WITH (kafka_topic='t', value_format='JSON', partitions=1);\n",
    )
    .expect("write");
    let run = format!("RUN SCRIPT '{}';", script.display());
    assert!(error_of(&mut e, &run).contains("Unknown statement 'RUN'"));
    e.execute_client_text(&ScriptStatement::alone(&run))
        .expect("client run");
    assert!(e.catalog().sources.contains_key("S"));
    let looping = dir.path().join("loop.sql");
    std::fs::write(&looping, format!("RUN SCRIPT '{}';", looping.display())).expect("write");
    let err = e
        .execute_client_text(&ScriptStatement::alone(&format!(
            "RUN SCRIPT '{}';",
            looping.display()
        )))
        .expect_err("nesting limit");
    assert!(err.to_string().contains("nest more than"), "{err}");
}

#[test]
fn a_fatal_data_error_stops_a_query_in_error_state() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = support::open(dir.path());
    let mut e = Engine::new(Arc::new(log), RunMode::Threads);
    let results = e
        .execute_script(
            "SET 'ksql.timestamp.throw.on.invalid'='true';
             CREATE STREAM s (k STRING KEY, ts STRING) WITH (kafka_topic='s', value_format='JSON',
               partitions=1, timestamp='ts', timestamp_format='yyyy-MM-dd');
             SET 'auto.offset.reset'='earliest';
             CREATE STREAM t AS SELECT k, ts FROM s;
             INSERT INTO s (k, ts) VALUES ('a', 'not a date');",
        )
        .expect("script");
    let id = results
        .iter()
        .find_map(|r| match r {
            brook::engine::results::StatementResult::QueryStarted { id, .. } => Some(id.clone()),
            _ => None,
        })
        .expect("a query started");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let failure = loop {
        if let Some(f) = e.query_failure(&id) {
            break f;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "query {id} never failed"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(failure.contains("TimestampExtractor"), "{failure}");
    e.shutdown();
}

#[test]
fn set_and_unset_of_a_function_setting_reach_the_functions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut e = engine(dir.path());
    let name = "ksql.functions.collect_list.limit";
    e.execute_script(&format!("SET '{name}'='2';"))
        .expect("set");
    assert_eq!(
        e.functions().config().get(name).map(String::as_str),
        Some("2")
    );
    e.execute_script(&format!("UNSET '{name}';"))
        .expect("unset");
    assert_eq!(e.functions().config().get(name), None);
}
