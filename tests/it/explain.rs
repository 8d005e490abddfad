//! EXPLAIN (of a statement, and of a running query) and DESCRIBE [EXTENDED], as the shell
//! prints them; EXPLAIN's processing topology (the logical tree and the operators with their
//! stores and topics) against the graph the query really runs and the topics it creates.

use super::support;
use brook::engine::results::StatementResult;
use brook::engine::{Engine, RunMode};
use brook::exec::operator::StoreDecl;
use brook::exec::physical::{self, PhysicalContext};
use brook::exec::{StateLocation, describe};
use brook::http::HttpConfig;
use brook::plan::functions::FunctionRegistry;
use brook::plan::logical::{SinkTarget, logical_plan};
use brook::plan::{QueryKind, plan_query};
use brook::repl::render;
use brook::sql::StatementKind;
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
        Ok(StatementResult::QueryDescription(d)) => render::listing(&d.listing()),
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

/// A stateless stream: WHERE, PARTITION BY and EXPLODE.
const STATELESS: &str = "CREATE STREAM exploded AS SELECT a, EXPLODE(tags) AS tag FROM s
  WHERE a > 1 PARTITION BY a EMIT CHANGES;";

/// A windowed aggregation with HAVING.
const WINDOWED: &str = "CREATE TABLE counts AS SELECT a, COUNT(*) AS n FROM s
  WINDOW TUMBLING (SIZE 1 SECOND) WHERE a > 0 GROUP BY a HAVING COUNT(*) > 1 EMIT CHANGES;";

const TABLE: &str = "CREATE TABLE t (id STRING PRIMARY KEY, v INT)
  WITH (kafka_topic='t', value_format='JSON', partitions=1);";

/// A table from a table (its rows materialized for pull queries).
const TABLE_FROM_TABLE: &str = "CREATE TABLE big AS SELECT id, v FROM t WHERE v > 0 EMIT CHANGES;";

/// Sources for joins, co-partitioned with `s`.
const JOIN_SOURCES: &str = "CREATE STREAM s2 (k STRING KEY, b INT)
  WITH (kafka_topic='s2', value_format='JSON', partitions=2);
CREATE TABLE t2 (id STRING PRIMARY KEY, w INT, ref STRING)
  WITH (kafka_topic='t2', value_format='JSON', partitions=2);
CREATE TABLE t3 (id STRING PRIMARY KEY, x INT)
  WITH (kafka_topic='t3', value_format='JSON', partitions=2);";

/// A stream-table join whose stream is re-keyed.
const STREAM_TABLE: &str = "CREATE STREAM enriched AS SELECT t2.id, s.k, t2.w FROM s
  JOIN t2 ON CAST(s.a AS STRING) = t2.id EMIT CHANGES;";

/// A stream-stream LEFT join with a grace period.
const STREAM_STREAM: &str = "SELECT s.k, s.a, s2.b FROM s LEFT JOIN s2
  WITHIN 1 MINUTE GRACE PERIOD 10 SECONDS ON s.k = s2.k EMIT CHANGES;";

/// A foreign-key table-table join.
const FOREIGN_KEY: &str =
    "CREATE TABLE by_ref AS SELECT t2.id, t2.w, t3.x FROM t2 LEFT JOIN t3 ON t2.ref = t3.id;";

/// A temporal stream-table join.
const TEMPORAL: &str = "SELECT s.k, t2.w FROM s JOIN t2 FOR SYSTEM_TIME AS OF s.ROWTIME
  ON s.k = t2.id EMIT CHANGES;";

/// A push query that aggregates (its state has no changelog).
const PUSH: &str = "SELECT a, COUNT(*) AS n FROM s GROUP BY a EMIT CHANGES;";

#[test]
fn explain_shows_the_operators_with_their_stores_and_topics_and_creates_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state");
    let log: Arc<dyn Transport> = Arc::new(support::open(&dir.path().join("log")));
    let mut e = Engine::new(log.clone(), RunMode::Manual).with_state_dir(&state);
    e.execute_script(&format!("{SOURCE}\n{TABLE}\n{JOIN_SOURCES}"))
        .expect("sources");
    let topics_before = log.list_topics().expect("topics");
    for (name, sql) in [
        ("stream_table", STREAM_TABLE),
        ("stream_stream", STREAM_STREAM),
        ("foreign_key", FOREIGN_KEY),
        ("temporal", TEMPORAL),
    ] {
        insta::assert_snapshot!(name, shown(&mut e, &format!("EXPLAIN {sql}")));
    }
    insta::assert_snapshot!("stateless", shown(&mut e, &format!("EXPLAIN {STATELESS}")));
    insta::assert_snapshot!("windowed", shown(&mut e, &format!("EXPLAIN {WINDOWED}")));
    insta::assert_snapshot!(
        "table_from_table",
        shown(&mut e, &format!("EXPLAIN {TABLE_FROM_TABLE}"))
    );
    insta::assert_snapshot!("push", shown(&mut e, &format!("EXPLAIN {PUSH}")));
    assert_eq!(log.list_topics().expect("topics"), topics_before);
    assert!(e.catalog().queries.is_empty(), "EXPLAIN started a query");
    let opened = std::fs::read_dir(&state).map_or(0, |d| d.count());
    assert_eq!(opened, 0, "EXPLAIN opened state in {}", state.display());
}

/// The changelog topics a topology text names.
fn changelogs_named(topology: &str) -> Vec<String> {
    let mut names: Vec<String> = topology
        .lines()
        .filter_map(|l| l.split("changelog topic ").nth(1))
        .map(str::to_string)
        .collect();
    names.sort();
    names
}

#[test]
fn a_running_query_has_the_stores_and_changelog_topics_explain_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log: Arc<dyn Transport> = Arc::new(support::open(&dir.path().join("log")));
    let mut e = Engine::new(log.clone(), RunMode::Manual).with_state_dir(dir.path().join("state"));
    e.execute_script(&format!("{SOURCE}\n{TABLE}"))
        .expect("sources");
    for (sql, id) in [
        (WINDOWED, "CTAS_COUNTS_0"),
        (TABLE_FROM_TABLE, "CTAS_BIG_1"),
    ] {
        let before = shown(&mut e, &format!("EXPLAIN {sql}"));
        let named = changelogs_named(&before);
        assert!(!named.is_empty(), "no changelog in:\n{before}");
        e.execute_text(sql).expect("create");
        let query = &e.catalog().queries[id];
        assert_eq!(changelogs_named(&query.explanation.topology), named);
        let prefix = format!("_brook_query_{id}-");
        let mut created: Vec<String> = log
            .list_topics()
            .expect("topics")
            .into_iter()
            .filter(|t| t.starts_with(&prefix) && t.ends_with("-changelog"))
            .collect();
        created.sort();
        assert_eq!(created, named, "{id}");
        let running = shown(&mut e, &format!("EXPLAIN {id};"));
        let topology = |text: &str| text.split("Processing topology").nth(1).map(str::to_string);
        assert_eq!(topology(&running), topology(&before), "{id}");
    }
}

/// Each stage's task count, and each of its operators' text and stores, in run order.
type Operators = Vec<(usize, Vec<(String, Vec<StoreDecl>)>)>;

/// The stages EXPLAIN describes for `sql` (a CREATE ... AS SELECT run in `e`, or a push
/// query) and those `exec::physical` builds to run it.
fn described_and_built(e: &mut Engine, sql: &str) -> (Operators, Operators) {
    let statement = brook::sql::parse_statement(sql, &|_| None).expect("parses");
    let (query, kind, target) = match statement.kind {
        StatementKind::CreateAsSelect(c) => {
            e.execute_text(sql).expect("create");
            let sink = e.catalog().sources[&c.name].clone();
            (c.query, QueryKind::Persistent, SinkTarget::Topic(sink))
        }
        StatementKind::Select(q) => (q, QueryKind::Transient, SinkTarget::Subscriber),
        other => panic!("not a query: {other:?}"),
    };
    let functions = FunctionRegistry::standard();
    let plan = plan_query(&query, e.catalog(), &functions, kind).expect("plans");
    let root = logical_plan(&plan, target);
    let facts = describe::LogFacts {
        source_partitions: 2,
        changelog_partitions: &|_| None,
    };
    let described = describe::stages(&root, None, &facts)
        .expect("describes")
        .into_iter()
        .map(|stage| {
            let ops = stage.operators.into_iter().map(|op| (op.text, op.stores));
            (stage.tasks, ops.collect())
        })
        .collect();
    let location = StateLocation::Temporary {
        changelog_prefix: None,
    };
    let ctx = PhysicalContext {
        query_id: "Q",
        fatal_timestamp_errors: false,
        state: &location,
        source_partitions: 2,
        changelog_partitions: &|_| None,
        describe_only: false,
    };
    let built = physical::plan(&root, &ctx).expect("builds");
    let built = built
        .stages
        .iter()
        .map(|tasks| {
            let ops = tasks[0].operators().map(|op| (op.describe(), op.stores()));
            (tasks.len(), ops.collect())
        })
        .collect();
    (described, built)
}

#[test]
fn explain_describes_the_operators_the_graph_is_built_of() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut e, _) = setup(dir.path());
    e.execute_script(&format!("{TABLE}\n{JOIN_SOURCES}"))
        .expect("tables");
    let queries = [
        STREAM_TABLE,
        STREAM_STREAM,
        FOREIGN_KEY,
        TEMPORAL,
        STATELESS,
        WINDOWED,
        TABLE_FROM_TABLE,
        PUSH,
        "SELECT * FROM t WHERE v > 0 EMIT CHANGES;",
        "CREATE TABLE sessions AS SELECT k, SUM(a) AS total FROM s WINDOW SESSION (10 SECONDS)
           GROUP BY k EMIT FINAL;",
        "CREATE TABLE hops AS SELECT k, MAX(a) AS top FROM s
           WINDOW HOPPING (SIZE 10 SECONDS, ADVANCE BY 5 SECONDS) GROUP BY k EMIT CHANGES;",
        "CREATE TABLE by_v AS SELECT v, COUNT(*) AS n FROM t GROUP BY v EMIT CHANGES;",
    ];
    for sql in queries {
        let (described, built) = described_and_built(&mut e, sql);
        assert!(!built.is_empty(), "{sql}");
        assert_eq!(described, built, "{sql}");
    }
}

#[test]
fn the_http_api_gives_explain_as_ksqldbs_query_description_with_the_topology() {
    let (server, _dir) = super::http_api::start_server(HttpConfig::default());
    server.set_ready();
    let port = server.local_addr.port();
    let sql = format!("{SOURCE} EXPLAIN {WINDOWED}");
    let body = serde_json::json!({ "ksql": sql }).to_string();
    let reply = super::http_api::post(port, "/ksql", &body);
    assert_eq!(reply.status, 200, "{}", reply.body);
    let entities = super::http_api::json(&reply.body);
    let entity = &entities[1];
    assert_eq!(entity["@type"], "queryDescription", "{entity}");
    let d = &entity["queryDescription"];
    assert_eq!(d["id"], "CTAS_COUNTS_0");
    assert_eq!(d["queryType"], "PERSISTENT");
    assert_eq!(d["windowType"], "TUMBLING");
    assert_eq!(d["sources"], serde_json::json!(["S"]));
    assert_eq!(d["sinks"], serde_json::json!(["COUNTS"]));
    assert_eq!(d["consumerGroupId"], "_brook_query_CTAS_COUNTS_0");
    let fields: Vec<&str> = d["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["name"].as_str())
        .collect();
    assert_eq!(fields, ["A", "N"]);
    let topology = d["topology"].as_str().unwrap_or_default();
    assert_eq!(
        changelogs_named(topology),
        [
            "_brook_query_CTAS_COUNTS_0-Aggregate-Materialize-changelog",
            "_brook_query_CTAS_COUNTS_0-Aggregate-StreamTime-changelog"
        ],
        "{topology}"
    );
    assert!(
        d["executionPlan"]
            .as_str()
            .is_some_and(|p| p.contains("[ SINK ]")),
        "{d}"
    );
}
