//! The startup query files Brook ships (`queries/*.sql`), run as `brook` runs them: the seed
//! pipeline of `01-orders.sql` (orders joined with customers, the large orders of non-premium
//! customers, the orders and revenue per hour keyed by the window alone, read by a pull query)
//! and the other files' queries, each given a few records; running the files again skips
//! every statement.

use super::backends::{Backend, TestLog, run};
use super::support;
use brook::common::Value;
use brook::engine::{Engine, RunMode, StatementResult};
use brook::transport::Transport;
use std::path::PathBuf;
use std::sync::Arc;
use support::send_rows as send;

const HOUR: i64 = 3_600_000;

/// Runs every `queries/*.sql` in name order, as startup files.
fn run_startup_files(engine: &mut Engine) -> Vec<StatementResult> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("queries");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("queries/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    assert!(files.len() >= 3, "{files:?}");
    let mut results = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read");
        let done = engine
            .execute_startup_script(&text)
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        results.extend(done);
    }
    results
}

fn json_values(log: &dyn Transport, topic: &str) -> Vec<serde_json::Value> {
    support::read_all_from(log, topic, 0)
        .iter()
        .map(|r| serde_json::from_slice(r.value.as_deref().expect("a value")).expect("JSON"))
        .collect()
}

crate::on_both_backends!(the_seed_pipeline_enriches_filters_and_counts_orders);

fn the_seed_pipeline_enriches_filters_and_counts_orders(backend: Backend) {
    let test = TestLog::new(backend);
    let log = test.transport.clone();
    let mut engine = test.recovered_engine();
    run_startup_files(&mut engine);
    send(
        log.as_ref(),
        "customers",
        &[
            ("c1", Some(r#"{"NAME":"Alice","TIER":"PREMIUM"}"#), 1),
            ("c2", Some(r#"{"NAME":"Bob","TIER":"STANDARD"}"#), 2),
        ],
    );
    // (Manual mode steps one record at a time, first partition first: the customers go in
    // before the orders, as the demo's generator sends them.)
    run(&mut engine);
    let order = |customer: &str, quantity: i32, price: f64| {
        format!(
            r#"{{"CUSTOMER_ID":"{customer}","PRODUCT_ID":"p1","QUANTITY":{quantity},"PRICE":{price:.1}}}"#
        )
    };
    let (o1, o2, o3, o4) = (
        order("c1", 2, 600.0),
        order("c2", 3, 500.0),
        order("nobody", 9, 900.0),
        order("c2", 1, 10.0),
    );
    send(
        log.as_ref(),
        "orders",
        &[
            ("o1", Some(&o1), 10),
            ("o2", Some(&o2), 20),
            ("o3", Some(&o3), 30),
            ("o4", Some(&o4), HOUR + 5),
        ],
    );
    run(&mut engine);

    let enriched = json_values(log.as_ref(), "ENRICHED_ORDERS");
    let summary: Vec<(String, String, String, f64)> = enriched
        .iter()
        .map(|v| {
            (
                v["ORDER_ID"].as_str().unwrap_or_default().to_string(),
                v["CUSTOMER_NAME"].as_str().unwrap_or_default().to_string(),
                v["CUSTOMER_TIER"].as_str().unwrap_or_default().to_string(),
                v["TOTAL_AMOUNT"].as_f64().unwrap_or_default(),
            )
        })
        .collect();
    let row = |id: &str, name: &str, tier: &str, total: f64| {
        (id.to_string(), name.to_string(), tier.to_string(), total)
    };
    assert_eq!(
        summary,
        [
            row("o1", "Alice", "PREMIUM", 1200.0),
            row("o2", "Bob", "STANDARD", 1500.0),
            row("o4", "Bob", "STANDARD", 10.0),
        ],
        "the order of an unknown customer is not joined (INNER JOIN)"
    );
    let keys: Vec<Option<Vec<u8>>> = support::read_all_from(log.as_ref(), "ENRICHED_ORDERS", 0)
        .into_iter()
        .map(|r| r.key.map(|k| k.to_vec()))
        .collect();
    assert_eq!(
        keys[0].as_deref(),
        Some(&b"c1"[..]),
        "keyed by the customer"
    );

    let high = json_values(log.as_ref(), "HIGH_VALUE_ORDERS");
    assert_eq!(high.len(), 1, "{high:?}");
    assert_eq!(high[0]["ORDER_ID"], "o2");
    assert_eq!(high[0]["TOTAL_AMOUNT"], 1500.0);

    let pulled = match engine.execute_text("SELECT * FROM orders_per_hour;") {
        Ok(StatementResult::PullQuery(r)) => r,
        other => panic!("expected pull query rows, got {other:?}"),
    };
    assert_eq!(
        pulled.column_names,
        [
            "WINDOWSTART",
            "WINDOWEND",
            "WINDOW_START",
            "WINDOW_END",
            "ORDER_COUNT",
            "TOTAL_REVENUE"
        ]
    );
    let windows: Vec<(Value, Value)> = pulled
        .rows
        .iter()
        .map(|r| (r[0].clone(), r[4].clone()))
        .collect();
    assert_eq!(
        windows,
        [
            (Value::Bigint(0), Value::Bigint(3)),
            (Value::Bigint(HOUR), Value::Bigint(1))
        ],
        "every order counts, joined or not: {:?}",
        pulled.rows
    );
    assert_eq!(pulled.rows[0][5], Value::Double(1200.0 + 1500.0 + 8100.0));
    let second = match engine.execute_text(&format!(
        "SELECT ORDER_COUNT FROM orders_per_hour WHERE WINDOWSTART = {HOUR};"
    )) {
        Ok(StatementResult::PullQuery(r)) => r.rows,
        other => panic!("expected pull query rows, got {other:?}"),
    };
    assert_eq!(second, [[Value::Bigint(1)]]);
}

#[test]
fn the_other_files_queries_run_and_a_restart_skips_every_statement() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log: Arc<dyn Transport> = Arc::new(support::open(dir.path()));
    let mut engine = Engine::new(log.clone(), RunMode::Manual);
    let first = run_startup_files(&mut engine);
    send(
        log.as_ref(),
        "clickstream",
        &[(
            "k",
            Some(r#"{"userid":7,"request":"get /cart HTTP/1.1","status":404,"bytes":10}"#),
            1,
        )],
    );
    send(
        log.as_ref(),
        "lines",
        &[("k", Some(r#"{"LINE":"Hello World"}"#), 1)],
    );
    engine.run_until_idle().expect("run");
    let errors = json_values(log.as_ref(), "CLICKSTREAM_ERRORS");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["STATUS"], 404);
    let requests = json_values(log.as_ref(), "CLICKSTREAM_REQUESTS");
    assert_eq!(requests[0]["METHOD"], "GET");
    let words: Vec<serde_json::Value> = json_values(log.as_ref(), "WORDS")
        .into_iter()
        .map(|v| v["WORD"].clone())
        .collect();
    assert_eq!(words, ["hello", "world"]);

    let again = run_startup_files(&mut engine);
    assert_eq!(again.len(), first.len());
    let created = again
        .iter()
        .filter(|r| {
            matches!(r, StatementResult::Success(m) if !m.starts_with("Already exists, skipped"))
        })
        .count();
    // SET and UNSET are the only statements that run again.
    assert_eq!(created, 2, "{again:?}");
}
