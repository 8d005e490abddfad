//! The generator's pacing, arguments and data, and a run against a Brook server in this
//! process that runs the seed pipeline (queries/01-orders.sql): every order comes out of
//! `enriched_orders` with its customer's name and tier and its total, and
//! `high_value_orders` holds exactly the large orders of non-premium customers.

use super::api::{Api, ApiError, is_healthy};
use super::data::{CUSTOMERS, Orders, customer};
use super::{Args, base36, due, insert_retrying, parse_rate, run};
use brook::common::Value;
use brook::engine::{Engine, RunMode, StatementResult};
use brook::log::{EmbeddedLog, LogConfig};
use std::collections::BTreeSet;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[test]
fn orders_are_due_one_every_period_from_the_start_up_to_the_count() {
    let at = Duration::from_millis;
    assert_eq!(due(at(0), 5.0, None), 1);
    assert_eq!(due(at(199), 5.0, None), 1);
    assert_eq!(due(at(200), 5.0, None), 2);
    assert_eq!(due(at(10_000), 5.0, None), 51);
    assert_eq!(due(at(10_000), 5.0, Some(7)), 7);
    assert_eq!(due(at(1_500), 0.5, None), 1);
}

#[test]
fn a_starting_server_is_not_healthy() {
    let starting = r#"{"isHealthy":false,"details":{"metastore":{"isHealthy":false},"kafka":{"isHealthy":true},"commandRunner":{"isHealthy":false}},"serverState":"STARTING"}"#;
    assert!(!is_healthy(starting));
    assert!(is_healthy(
        &starting.replace(r#"{"isHealthy":false,"d"#, r#"{"isHealthy":true,"d"#)
    ));
    assert!(!is_healthy("not JSON"));
}

#[test]
fn run_prefixes_are_short() {
    assert_eq!(base36(0), "0");
    assert_eq!(base36(35), "z");
    assert_eq!(base36(36), "10");
    assert_eq!(base36(1_796_647_027), "tpodpv");
}

#[test]
fn rates_and_urls_are_checked() {
    for bad in ["0", "-1", "NaN", "inf", "1000000", "fast"] {
        assert!(parse_rate(bad).is_err(), "{bad}");
    }
    assert_eq!(parse_rate("2.5"), Ok(2.5));
    for bad in [
        "https://127.0.0.1:8088",
        "127.0.0.1:8088",
        "http://",
        "http://h:1/x",
    ] {
        assert!(matches!(Api::new(bad), Err(ApiError::BadUrl(_))), "{bad}");
    }
    assert_eq!(
        Api::new("http://127.0.0.1:8088/")
            .map(|a| a.url)
            .ok()
            .as_deref(),
        Some("http://127.0.0.1:8088")
    );
}

#[test]
fn orders_vary_within_their_ranges_and_some_are_large() {
    let mut orders = Orders::new(42, "o1".into());
    let batch: Vec<_> = (0..1_000).map(|_| orders.next_order()).collect();
    assert_eq!(batch[0].order_id, "o1-1");
    let ids: BTreeSet<&str> = batch.iter().map(|o| o.order_id.as_str()).collect();
    assert_eq!(ids.len(), batch.len(), "order ids are unique");
    assert!(batch.iter().all(|o| (1..=10).contains(&o.quantity)));
    assert!(batch.iter().all(|o| (5.0..=200.0).contains(&o.price)));
    assert!(
        batch.iter().all(|o| (o.price * 4.0).fract() == 0.0),
        "prices in quarters, so totals are exact"
    );
    assert!(batch.iter().all(|o| customer(o.customer_id).is_some()));
    let large = batch.iter().filter(|o| o.total() > 1000.0).count();
    assert!((120..280).contains(&large), "{large} of 1000 above 1,000");
    let again: Vec<_> = {
        let mut same = Orders::new(42, "o1".into());
        (0..1_000).map(|_| same.next_order()).collect()
    };
    assert_eq!(again, batch, "a seed gives the same orders");
    assert!(CUSTOMERS.iter().any(|c| c.tier == "PREMIUM"));
    assert!(CUSTOMERS.iter().any(|c| c.tier != "PREMIUM"));
}

#[test]
fn a_server_that_never_answers_is_reported_and_a_stop_ends_the_wait() {
    let unused = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = unused.local_addr().expect("addr").port();
    drop(unused);
    let api = Api::new(&format!("http://127.0.0.1:{port}")).expect("url");
    let waited = api.wait_ready(Duration::from_millis(300), &|| false);
    assert!(
        matches!(waited, Err(ApiError::NotReady { .. })),
        "{waited:?}"
    );
    assert!(matches!(
        api.wait_ready(Duration::from_secs(60), &|| true),
        Ok(false)
    ));
    let err = api
        .insert("ORDERS_STREAM", &[])
        .expect_err("nothing listens");
    assert!(matches!(err, ApiError::Unreachable { .. }), "{err}");
    // Brook gone while the generator is told to stop (scripts/start, leaving the shell): a
    // clean stop.
    assert!(matches!(insert_retrying(&api, &[], &|| true), Ok(false)));
}

/// An engine on a fresh embedded log running the seed pipeline, served on a free port (ready
/// at once, or when the test says so).
struct Brook {
    engine: Arc<Mutex<Engine>>,
    server: Option<brook::http::Server>,
    _dir: tempfile::TempDir,
}

impl Brook {
    fn start(ready: bool) -> Brook {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = EmbeddedLog::open(dir.path().join("data"), LogConfig::default()).expect("log");
        let engine = Engine::new(Arc::new(log), RunMode::Threads)
            .with_state_dir(dir.path().join("data/state"));
        let engine = Arc::new(Mutex::new(engine));
        let seed = concat!(env!("CARGO_MANIFEST_DIR"), "/queries/01-orders.sql");
        let text = std::fs::read_to_string(seed).expect("queries/01-orders.sql");
        engine
            .lock()
            .expect("engine")
            .execute_startup_script(&text)
            .expect("seed pipeline");
        let config = brook::http::HttpConfig {
            listen: "127.0.0.1:0".parse().expect("addr"),
            ..brook::http::HttpConfig::default()
        };
        let server = brook::http::start(engine.clone(), config).expect("serve");
        if ready {
            server.set_ready();
        }
        Brook {
            engine,
            server: Some(server),
            _dir: dir,
        }
    }

    fn url(&self) -> String {
        let server = self.server.as_ref().expect("serving");
        format!("http://{}", server.local_addr)
    }

    /// The rows of stream `name` (a pull query on a stream reads its topic) as JSON objects.
    fn rows(&self, name: &str) -> Vec<serde_json::Map<String, serde_json::Value>> {
        let sql = format!("SELECT * FROM {name};");
        let result = self.engine.lock().expect("engine").execute_text(&sql);
        let Ok(StatementResult::PullQuery(pulled)) = result else {
            panic!("{sql}: {result:?}");
        };
        let json = |v: &Value| match v {
            Value::String(s) => serde_json::json!(s),
            Value::Int(i) => serde_json::json!(i),
            Value::Double(d) => serde_json::json!(d),
            other => serde_json::json!(format!("{other:?}")),
        };
        pulled
            .rows
            .iter()
            .map(|row| {
                pulled
                    .column_names
                    .iter()
                    .cloned()
                    .zip(row.iter().map(json))
                    .collect()
            })
            .collect()
    }
}

impl Drop for Brook {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.stop();
        }
        if let Ok(mut engine) = self.engine.lock() {
            engine.shutdown();
        }
    }
}

#[test]
fn a_run_fills_enriched_and_high_value_orders() {
    let brook = Brook::start(false);
    let args = Args {
        server: brook.url(),
        rate: 1_000.0,
        count: Some(60),
        wait: 30,
        seed: Some(7),
        progress: 0,
    };
    let mut lines = Vec::new();
    // The generator waits while the server runs its startup files (503 to inserts).
    let summary = std::thread::scope(|scope| {
        scope.spawn(|| {
            std::thread::sleep(Duration::from_millis(500));
            brook.server.as_ref().expect("serving").set_ready();
        });
        run(&args, &AtomicBool::new(false), &mut |l| lines.push(l))
    })
    .expect("run");
    assert_eq!((summary.customers, summary.orders), (CUSTOMERS.len(), 60));
    assert!(
        lines[0].ends_with("inserted 8 customers into CUSTOMERS_TABLE"),
        "{lines:?}"
    );

    let deadline = Instant::now() + Duration::from_secs(60);
    let enriched = loop {
        let rows = brook.rows("ENRICHED_ORDERS");
        if rows.len() >= 60 || Instant::now() > deadline {
            break rows;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(
        enriched.len(),
        60,
        "every order is joined with its customer"
    );
    let mut expected_high = BTreeSet::new();
    for row in &enriched {
        let id = row["O_CUSTOMER_ID"].as_str().expect("customer id");
        let known = customer(id).expect("one of the generator's customers");
        assert_eq!(row["CUSTOMER_NAME"], known.name);
        assert_eq!(row["CUSTOMER_TIER"], known.tier);
        let quantity = row["QUANTITY"].as_f64().expect("quantity");
        let price = row["PRICE"].as_f64().expect("price");
        let total = row["TOTAL_AMOUNT"].as_f64().expect("total");
        assert!((total - quantity * price).abs() < 1e-9, "{row:?}");
        if total > 1000.0 && known.tier != "PREMIUM" {
            expected_high.insert(row["ORDER_ID"].as_str().expect("order id").to_string());
        }
    }
    let large = enriched
        .iter()
        .filter(|r| r["TOTAL_AMOUNT"].as_f64() > Some(1000.0))
        .count();
    assert_eq!(large as u64, summary.large);
    assert!(
        !expected_high.is_empty(),
        "the seed gives some large non-premium orders"
    );

    let deadline = Instant::now() + Duration::from_secs(30);
    let high: BTreeSet<String> = loop {
        let ids: BTreeSet<String> = brook
            .rows("HIGH_VALUE_ORDERS")
            .iter()
            .filter_map(|r| r["ORDER_ID"].as_str().map(str::to_string))
            .collect();
        if ids.len() >= expected_high.len() || Instant::now() > deadline {
            break ids;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(high, expected_high);
}

#[test]
fn an_unknown_target_is_rejected_with_the_servers_message() {
    let brook = Brook::start(true);
    let api = Api::new(&brook.url()).expect("url");
    let err = api
        .insert("NO_SUCH_STREAM", &[serde_json::json!({"A": 1})])
        .expect_err("no such stream");
    let ApiError::Rejected { target, message } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(target, "NO_SUCH_STREAM");
    assert!(message.contains("NO_SUCH_STREAM"), "{message}");
}
