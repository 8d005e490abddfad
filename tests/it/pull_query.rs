//! Pull queries through the engine: key lookups, key ranges, table scans with predicates,
//! LIMIT, windowed tables with WINDOWSTART bounds; refusals; and a pull query never reading
//! state that has not been committed.

use super::support;
use brook::common::Value;
use brook::common::change::ChangeBatch;
use brook::engine::results::PullResult;
use brook::engine::{Engine, RunMode, StatementResult};
use brook::exec::operator::{Ctx, Materialized, Origin, Outputs};
use brook::exec::physical::PhysicalContext;
use brook::exec::{Materialization, MemoryProcessingLog, StateLocation};
use brook::plan::logical::{SinkTarget, logical_plan};
use brook::plan::{QueryKind, plan_query};
use brook::sql::{StatementKind, parse_statement};
use brook::transport::Transport;
use std::sync::Arc;

fn engine(dir: &std::path::Path) -> Engine {
    let log: Arc<dyn Transport> = Arc::new(support::open(dir));
    let mut engine = Engine::new(log, RunMode::Manual);
    engine.set_property("auto.offset.reset", "earliest");
    engine
}

fn pull(engine: &mut Engine, sql: &str) -> PullResult {
    match engine.execute_text(sql) {
        Ok(StatementResult::PullQuery(r)) => r,
        other => panic!("{sql}: expected pull query rows, got {other:?}"),
    }
}

fn error(engine: &mut Engine, sql: &str) -> String {
    match engine.execute_text(sql) {
        Err(e) => e.to_string(),
        Ok(other) => panic!("{sql}: expected an error, got {other:?}"),
    }
}

fn s(v: &str) -> Value {
    Value::String(v.into())
}

fn counts(engine: &mut Engine) {
    engine
        .execute_script(
            "CREATE STREAM clicks (id STRING KEY, page STRING) WITH (kafka_topic='clicks', value_format='JSON', partitions=1);
             CREATE TABLE per_user AS SELECT id, COUNT(*) AS n, LATEST_BY_OFFSET(page) AS last_page FROM clicks GROUP BY id;
             INSERT INTO clicks (id, page) VALUES ('a', 'home');
             INSERT INTO clicks (id, page) VALUES ('b', 'home');
             INSERT INTO clicks (id, page) VALUES ('a', 'cart');
             INSERT INTO clicks (id, page) VALUES ('c', 'home');",
        )
        .expect("setup");
    engine.run_until_idle().expect("run");
}

#[test]
fn key_lookups_ranges_scans_and_limit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut engine = engine(dir.path());
    counts(&mut engine);
    let r = pull(&mut engine, "SELECT * FROM per_user WHERE id = 'a';");
    assert_eq!(r.schema, "`ID` STRING KEY, `N` BIGINT, `LAST_PAGE` STRING");
    assert_eq!(r.rows, vec![vec![s("a"), Value::Bigint(2), s("cart")]]);
    let r = pull(&mut engine, "SELECT * FROM per_user WHERE id = 'missing';");
    assert!(r.rows.is_empty());
    let r = pull(
        &mut engine,
        "SELECT id FROM per_user WHERE id IN ('c', 'b');",
    );
    let mut users: Vec<Value> = r.rows.into_iter().flatten().collect();
    users.sort_by_key(|v| format!("{v:?}"));
    assert_eq!(users, vec![s("b"), s("c")]);
    let r = pull(
        &mut engine,
        "SELECT id FROM per_user WHERE id > 'a' AND id <= 'c';",
    );
    assert_eq!(r.rows.len(), 2);
    let r = pull(
        &mut engine,
        "SELECT id, n * 10 AS tens FROM per_user WHERE n > 1;",
    );
    assert_eq!(r.schema, "`ID` STRING KEY, `TENS` BIGINT");
    assert_eq!(r.rows, vec![vec![s("a"), Value::Bigint(20)]]);
    let r = pull(&mut engine, "SELECT * FROM per_user LIMIT 2;");
    assert_eq!(r.rows.len(), 2);
    let r = pull(&mut engine, "SELECT * FROM per_user;");
    assert_eq!(r.rows.len(), 3);
}

#[test]
fn windowed_tables_answer_window_bounds() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut engine = engine(dir.path());
    engine
        .execute_script(
            "CREATE STREAM clicks (id STRING KEY, page STRING) WITH (kafka_topic='clicks', value_format='JSON', partitions=1);
             CREATE TABLE per_second AS SELECT id, COUNT(*) AS n FROM clicks WINDOW TUMBLING (SIZE 1 SECOND) GROUP BY id;
             INSERT INTO clicks (id, page, ROWTIME) VALUES ('a', 'x', 12345);
             INSERT INTO clicks (id, page, ROWTIME) VALUES ('a', 'x', 12500);
             INSERT INTO clicks (id, page, ROWTIME) VALUES ('a', 'x', 13100);",
        )
        .expect("setup");
    engine.run_until_idle().expect("run");
    let r = pull(&mut engine, "SELECT * FROM per_second WHERE id = 'a';");
    assert_eq!(
        r.schema,
        "`ID` STRING KEY, `WINDOWSTART` BIGINT KEY, `WINDOWEND` BIGINT KEY, `N` BIGINT"
    );
    let row = |start: i64, n: i64| {
        vec![
            s("a"),
            Value::Bigint(start),
            Value::Bigint(start + 1000),
            Value::Bigint(n),
        ]
    };
    assert_eq!(r.rows, vec![row(12000, 2), row(13000, 1)]);
    let sql = "SELECT * FROM per_second WHERE id = 'a' AND WINDOWSTART >= 13000;";
    assert_eq!(pull(&mut engine, sql).rows, vec![row(13000, 1)]);
    let sql = "SELECT * FROM per_second WHERE WINDOWEND <= 13000;";
    assert_eq!(pull(&mut engine, sql).rows, vec![row(12000, 2)]);
}

#[test]
fn refusals_use_ksqldb_messages() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut engine = engine(dir.path());
    counts(&mut engine);
    engine
        .execute_text("CREATE TABLE users (id STRING PRIMARY KEY, name STRING) WITH (kafka_topic='users', value_format='JSON', partitions=1);")
        .expect("table");
    let e = error(&mut engine, "SELECT * FROM users;");
    assert!(e.contains("The `USERS` table isn't queryable."), "{e}");
    let e = error(&mut engine, "SELECT * FROM per_user WHERE ROWOFFSET > 1;");
    assert!(
        e.contains(
            "Pull queries don't support the following columns in WHERE clauses: `ROWOFFSET`"
        ),
        "{e}"
    );
    let e = error(
        &mut engine,
        "SELECT id, COUNT(*) FROM per_user GROUP BY id;",
    );
    assert!(
        e.contains("Pull queries don't support GROUP BY clauses."),
        "{e}"
    );
    engine.set_property("ksql.query.pull.limit.clause.enabled", "false");
    let e = error(&mut engine, "SELECT * FROM per_user LIMIT 1;");
    assert!(
        e.contains("LIMIT clause in pull queries is currently disabled."),
        "{e}"
    );
    let id = engine
        .catalog()
        .queries
        .keys()
        .find(|q| q.starts_with("CTAS_PER_USER"))
        .cloned()
        .expect("query");
    engine
        .execute_text(&format!("TERMINATE {id};"))
        .expect("terminate");
    let e = error(&mut engine, "SELECT * FROM per_user;");
    assert!(e.contains("The `PER_USER` table isn't queryable."), "{e}");
}

/// An aggregation's writes stay in its store's cache until the step commits: a pull query
/// reads the table without them, and with them once they are flushed.
#[test]
fn pull_queries_never_see_uncommitted_state() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut engine = engine(dir.path());
    engine
        .execute_text("CREATE STREAM clicks (id STRING KEY, page STRING) WITH (kafka_topic='clicks', value_format='JSON', partitions=1);")
        .expect("stream");
    let ctas = "CREATE TABLE per_user AS SELECT id, COUNT(*) AS n FROM clicks GROUP BY id;";
    let StatementKind::CreateAsSelect(c) = parse_statement(ctas, &|_| None).expect("parse").kind
    else {
        panic!("not a CTAS");
    };
    let plan = plan_query(
        &c.query,
        engine.catalog(),
        engine.functions(),
        QueryKind::Persistent,
    )
    .expect("plan");
    let location = StateLocation::Temporary {
        changelog_prefix: None,
    };
    let root = logical_plan(&plan, SinkTarget::Subscriber);
    let ctx = PhysicalContext {
        query_id: "q",
        fatal_timestamp_errors: false,
        state: &location,
        source_partitions: 1,
        changelog_partitions: &|_| None,
        describe_only: false,
    };
    let physical = brook::exec::physical::plan(&root, &ctx).expect("graph");
    let mut state = physical.state.expect("state");
    let mut stages = physical.stages.into_iter().map(|mut tasks| tasks.remove(0));
    let (mut keyed, mut graph) = (
        stages.next().expect("stage 0"),
        stages.next().expect("stage 1"),
    );
    let Some(Materialized::Groups(groups)) = graph.operators().find_map(|op| op.materialized())
    else {
        panic!("the aggregation keeps no groups");
    };
    let sink = brook::plan::SourceDef {
        name: "PER_USER".into(),
        kind: brook::sql::SourceKind::Table,
        schema: plan.output_schema.clone(),
        window: None,
        ..plan.source.clone()
    };
    let rows = brook::exec::CommittedRows::groups(&plan, vec![groups]);
    let table = Materialization::new("q", &sink, rows, 1);
    let batch = clicks_batch(&plan.input_schema, &["a", "b", "a"]);
    let (mut log, mut outputs) = (MemoryProcessingLog::default(), Outputs::default());
    let origin = Origin::default();
    let mut ctx = Ctx::new("q", &origin, &mut log, &mut outputs);
    keyed
        .push_input(0, ChangeBatch::inserts(batch), &mut ctx)
        .expect("group by");
    for exchanged in std::mem::take(&mut outputs.exchanged) {
        let mut ctx = Ctx::new("q", &origin, &mut log, &mut outputs);
        graph
            .push_input(exchanged.input, exchanged.batch, &mut ctx)
            .expect("aggregate");
    }
    assert!(
        table.rows().expect("rows").is_none(),
        "uncommitted groups were visible"
    );
    state.committed(&[]).expect("flush");
    let rows = table.rows().expect("rows").expect("committed rows");
    assert_eq!(rows.num_rows(), 2);
    // A key lookup reads just that group (and nothing for an unknown key).
    let key = |k: &str| vec![brook::common::Value::String(k.into())];
    let one = table
        .rows_for_keys(&[key("a")])
        .expect("lookup")
        .expect("row");
    assert_eq!(one.num_rows(), 1);
    let n = one.column_by_name("N").expect("N");
    assert_eq!(
        brook::common::Value::from_array(n.as_ref(), 0),
        brook::common::Value::Bigint(2)
    );
    assert!(table.rows_for_keys(&[key("zz")]).expect("lookup").is_none());
}

/// A decoded batch of the clicks stream: one row per user, at times 1, 2, ...
fn clicks_batch(
    schema: &arrow::datatypes::SchemaRef,
    users: &[&str],
) -> arrow::record_batch::RecordBatch {
    use arrow::array::{ArrayRef, Int32Array, Int64Array, StringArray};
    let n = users.len() as i64;
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(users.to_vec())),
        Arc::new(StringArray::from(vec!["home"; users.len()])),
        Arc::new(Int64Array::from((1..=n).collect::<Vec<_>>())),
        Arc::new(Int32Array::from(vec![0; users.len()])),
        Arc::new(Int64Array::from((0..n).collect::<Vec<_>>())),
    ];
    arrow::record_batch::RecordBatch::try_new(schema.clone(), columns).expect("batch")
}
