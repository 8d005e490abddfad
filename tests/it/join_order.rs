//! A join's inputs are taken in timestamp order across its topics, whatever the number of
//! records a step polls: the same input, already in the log, run in steps of 10,000, 40, 3
//! and 1 record(s) gives the same output, record for record. For a stream-table join that
//! output is the timeline's: each order joins the customer row as of its own timestamp (a
//! change of the customer after it, though appended earlier to its topic, is not seen). A
//! stream-stream join and a self-join (one topic read by both sides) give one output too.

use brook::engine::{Engine, RunMode};
use brook::log::{EmbeddedLog, FlushPolicy};
use brook::transport::{ProducerRecord, Record, TopicConfig, Transport};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

const SCRIPT: &str = "\
    CREATE STREAM orders (id VARCHAR KEY, customer VARCHAR, amount INT) \
        WITH (KAFKA_TOPIC='orders', VALUE_FORMAT='JSON');
    CREATE TABLE customers (id VARCHAR PRIMARY KEY, name VARCHAR) \
        WITH (KAFKA_TOPIC='customers', VALUE_FORMAT='JSON');
    CREATE STREAM customers_log (id VARCHAR KEY, name VARCHAR) \
        WITH (KAFKA_TOPIC='customers', VALUE_FORMAT='JSON');
    CREATE STREAM enriched AS SELECT o.customer, o.id, c.name, o.amount \
        FROM orders o LEFT JOIN customers c ON o.customer = c.id EMIT CHANGES;
    CREATE STREAM paired AS SELECT o.customer, o.id, p.id AS other \
        FROM orders o JOIN customers_log p WITHIN 20 MILLISECONDS ON o.customer = p.id \
        EMIT CHANGES;
    CREATE STREAM repeats AS SELECT a.customer, a.id, b.id AS earlier \
        FROM orders a JOIN orders b WITHIN (10 MILLISECONDS, 0 MILLISECONDS) \
        ON a.customer = b.customer EMIT CHANGES;";
const OUTPUTS: [&str; 3] = ["ENRICHED", "PAIRED", "REPEATS"];
const EVENTS: usize = 200;
const CUSTOMERS: u64 = 6;

/// One timeline of `EVENTS` events 1 ms apart: one in four a change of a customer (a tenth of
/// those a deletion), the others an order. Each topic is appended to in one go, customers
/// first, so a customer change comes before every order in the log.
fn timeline() -> (Vec<ProducerRecord>, Vec<ProducerRecord>) {
    let mut state = 0xddb1_a5e5_u64;
    let (mut orders, mut customers) = (Vec::new(), Vec::new());
    for i in 0..EVENTS {
        let r = crate::log_crash::xorshift(&mut state);
        let customer = format!("c{}", (r >> 8) % CUSTOMERS);
        let timestamp = 1_000 + i as i64;
        if r.is_multiple_of(4) {
            let value = (!r.is_multiple_of(40)).then(|| format!(r#"{{"name": "n{i}"}}"#));
            customers.push(ProducerRecord::new(Some(customer), value).with_timestamp(timestamp));
        } else {
            let value = format!(r#"{{"customer": "{customer}", "amount": {}}}"#, r % 100);
            let record = ProducerRecord::new(Some(format!("o{i}")), Some(value));
            orders.push(record.with_timestamp(timestamp));
        }
    }
    (orders, customers)
}

/// Each output topic after running the script over the timeline in steps of `step` records.
fn run(dir: &Path, step: usize) -> Vec<Vec<Record>> {
    let log = EmbeddedLog::open(dir, crate::support::config(FlushPolicy::Never)).expect("open");
    let (orders, customers) = timeline();
    let mut producer = log.producer().expect("producer");
    for (topic, records) in [("customers", customers), ("orders", orders)] {
        log.create_topic(topic, &TopicConfig::with_partitions(1))
            .expect("create");
        for record in records {
            producer.send(topic, Some(0), record).expect("send");
        }
        producer.flush().expect("flush");
    }
    let mut engine =
        Engine::new(Arc::new(log.clone()), RunMode::Manual).with_state_dir(dir.join("state"));
    engine.set_property("auto.offset.reset", "earliest");
    engine.execute_script(SCRIPT).expect("script");
    while engine.run_until_idle_with(step).expect("run") > 0 {}
    engine.shutdown();
    drop(engine);
    let outputs = OUTPUTS
        .iter()
        .map(|topic| crate::support::read_all(&log, topic, 0))
        .collect();
    log.close().expect("close");
    outputs
}

/// What the stream-table join must write, in order: per order, its customer's name as of the
/// order's timestamp (NULL when absent or deleted).
fn expected_enriched() -> Vec<(String, serde_json::Value)> {
    let (orders, customers) = timeline();
    let mut events: Vec<(i64, bool, &ProducerRecord)> = orders
        .iter()
        .map(|r| (r.timestamp.unwrap_or_default(), true, r))
        .chain(
            customers
                .iter()
                .map(|r| (r.timestamp.unwrap_or_default(), false, r)),
        )
        .collect();
    events.sort_by_key(|(t, _, _)| *t);
    let json = |bytes: &Option<bytes::Bytes>| -> serde_json::Value {
        serde_json::from_slice(bytes.as_deref().unwrap_or(b"null")).expect("JSON")
    };
    let mut names: HashMap<Vec<u8>, serde_json::Value> = HashMap::new();
    let mut out = Vec::new();
    for (_, is_order, record) in events {
        let key = record.key.as_deref().unwrap_or_default().to_vec();
        let value = json(&record.value);
        if !is_order {
            match value.get("name") {
                Some(name) => names.insert(key, name.clone()),
                None => names.remove(&key),
            };
            continue;
        }
        let customer = value["customer"].as_str().unwrap_or_default().to_string();
        let name = names.get(customer.as_bytes()).cloned();
        let row = serde_json::json!({
            "O_ID": String::from_utf8_lossy(&key),
            "NAME": name.unwrap_or(serde_json::Value::Null),
            "AMOUNT": value["amount"],
        });
        out.push((customer, row));
    }
    out
}

fn rows(records: &[Record]) -> Vec<(String, serde_json::Value)> {
    records
        .iter()
        .map(|r| {
            let key = String::from_utf8_lossy(r.key.as_deref().unwrap_or_default()).into_owned();
            let value = serde_json::from_slice(r.value.as_deref().unwrap_or_default());
            (key, value.expect("JSON"))
        })
        .collect()
}

fn same(a: &[Record], b: &[Record]) -> bool {
    let fields = |r: &Record| (r.offset, r.timestamp, r.key.clone(), r.value.clone());
    a.len() == b.len() && a.iter().zip(b).all(|(a, b)| fields(a) == fields(b))
}

#[test]
fn joins_take_their_inputs_in_timestamp_order_whatever_the_step_size() {
    let mut first: Option<(usize, Vec<Vec<Record>>)> = None;
    for step in [10_000, 40, 3, 1] {
        let dir = tempfile::tempdir().expect("tempdir");
        let outputs = run(dir.path(), step);
        assert_eq!(
            rows(&outputs[0]),
            expected_enriched(),
            "steps of {step}: the stream-table join differs from the timeline"
        );
        let sizes: Vec<usize> = outputs.iter().map(Vec::len).collect();
        assert!(
            sizes.iter().all(|n| *n > 20),
            "steps of {step}: output sizes {sizes:?}"
        );
        match &first {
            None => first = Some((step, outputs)),
            Some((first_step, reference)) => {
                for ((got, want), topic) in outputs.iter().zip(reference).zip(OUTPUTS) {
                    assert!(
                        same(got, want),
                        "{topic}: steps of {step} wrote {} records, steps of {first_step} {}, not the same",
                        got.len(),
                        want.len()
                    );
                }
            }
        }
    }
}
