//! EXPLAIN (of a statement, and of a running query) and DESCRIBE [EXTENDED], as the shell
//! prints them.

use super::support;
use brook::engine::results::StatementResult;
use brook::engine::{Engine, RunMode};
use brook::repl::render;
use brook::transport::Transport;
use std::sync::Arc;

const SOURCE: &str = "CREATE STREAM s (k STRING KEY, a INT, tags ARRAY<STRING>)
  WITH (kafka_topic='s', value_format='JSON', partitions=2);";

const CSAS: &str =
    "CREATE STREAM o AS SELECT k, a * 2 AS double_a FROM s WHERE a > 1 EMIT CHANGES;";

fn setup(dir: &std::path::Path) -> (Engine, Arc<dyn Transport>) {
    let log: Arc<dyn Transport> = Arc::new(support::open(dir));
    let mut engine = Engine::new(log.clone(), RunMode::Manual);
    engine.execute_script(SOURCE).expect("source");
    (engine, log)
}

/// The text the shell prints for a listing result.
fn shown(engine: &mut Engine, sql: &str) -> String {
    match engine.execute_text(sql) {
        Ok(StatementResult::Listing(l)) => render::listing(&l),
        other => panic!("expected a listing from {sql}, got {other:?}"),
    }
}

fn error_of(engine: &mut Engine, sql: &str) -> String {
    match engine.execute_text(sql) {
        Ok(r) => panic!("expected an error from {sql}, got {r:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn explain_of_a_statement_plans_it_without_running_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut e, log) = setup(dir.path());
    let topics_before = log.list_topics().expect("topics");
    insta::assert_snapshot!(shown(&mut e, &format!("EXPLAIN {CSAS}")));
    assert!(!e.catalog().sources.contains_key("O"), "EXPLAIN created O");
    assert!(e.catalog().queries.is_empty(), "EXPLAIN started a query");
    assert_eq!(log.list_topics().expect("topics"), topics_before);
    insta::assert_snapshot!(shown(
        &mut e,
        "EXPLAIN SELECT EXPLODE(tags) AS tag, a FROM s PARTITION BY a EMIT CHANGES;"
    ));
    // The ID EXPLAIN showed is the one the statement gets.
    match e.execute_text(CSAS).expect("csas") {
        StatementResult::QueryStarted { id, .. } => assert_eq!(id, "CSAS_O_0"),
        other => panic!("{other:?}"),
    }
    insta::assert_snapshot!(shown(
        &mut e,
        "EXPLAIN INSERT INTO o SELECT k, a AS double_a FROM s;"
    ));
    assert_eq!(e.catalog().queries.len(), 1);
    assert!(
        error_of(
            &mut e,
            "EXPLAIN CREATE STREAM x (a INT) WITH (kafka_topic='s', value_format='JSON');"
        )
        .contains("does not run a ksql query")
    );
    assert!(error_of(&mut e, "EXPLAIN SELECT nope FROM s EMIT CHANGES;").contains("NOPE"));
}

#[test]
fn explain_of_a_query_shows_its_plan_and_state() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut e, _) = setup(dir.path());
    e.execute_text(CSAS).expect("csas");
    insta::assert_snapshot!(shown(&mut e, "EXPLAIN csas_o_0;"));
    assert!(error_of(&mut e, "EXPLAIN CSAS_NOPE_1;").contains("does not exist"));
}

#[test]
fn explain_of_a_query_survives_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log: Arc<dyn Transport> = Arc::new(support::open(dir.path()));
    let before = {
        let mut e = Engine::open(log.clone(), RunMode::Manual).expect("open");
        e.execute_script(&format!("{SOURCE}\n{CSAS}"))
            .expect("script");
        shown(&mut e, "EXPLAIN CSAS_O_0;")
    };
    let mut e = Engine::open(log, RunMode::Manual).expect("reopen");
    assert_eq!(shown(&mut e, "EXPLAIN CSAS_O_0;"), before);
}

#[test]
fn describe_lists_fields_and_extended_adds_topic_queries_and_offsets() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut e, _) = setup(dir.path());
    e.execute_script(&format!(
        "{CSAS}\nINSERT INTO s (k, a) VALUES ('x', 5);\nINSERT INTO s (k, a) VALUES ('y', 0);"
    ))
    .expect("script");
    e.run_until_idle().expect("run");
    insta::assert_snapshot!(shown(&mut e, "DESCRIBE s;"));
    insta::assert_snapshot!(shown(&mut e, "DESCRIBE s EXTENDED;"));
    insta::assert_snapshot!(shown(&mut e, "DESCRIBE EXTENDED o;"));
}

#[test]
fn windowed_sources_say_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut e, _) = setup(dir.path());
    e.execute_text(
        "CREATE STREAM w (k STRING KEY, a INT) WITH (kafka_topic='w', value_format='JSON',
           partitions=1, window_type='TUMBLING', window_size='1 SECOND');",
    )
    .expect("windowed");
    insta::assert_snapshot!(shown(&mut e, "SHOW STREAMS;"));
    insta::assert_snapshot!(shown(&mut e, "DESCRIBE w EXTENDED;"));
}
