//! The windowed-aggregation benchmark: per customer and one-hour tumbling window, the number of
//! orders and their revenue (`COUNT(*)`, `SUM(quantity * price)`), EMIT CHANGES, with the
//! groups in RocksDB, their changelog written in each step's transaction, and the state flushed
//! after each commit. Input: `--records` orders over `--keys` customers, 10 ms apart in event
//! time (so 1M records span three windows). The output must hold one update per input record,
//! and the last update of every (customer, window) must equal the count and revenue computed
//! here from the generated input.

use super::measure::{changelog_records, dir_size, mib, print_header, thousands, topic_records};
use super::{Backend, BenchArgs, BenchEngine, QueryRun, run_query};
use anyhow::{Context, ensure};
use brook::log::{EmbeddedLog, FlushPolicy};
use brook::transport::{ProducerRecord, StartFrom, TopicPartition, Transport};
use bytes::Bytes;
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

const INPUT_TOPIC: &str = "bench_in";
const OUTPUT_TOPIC: &str = "REVENUE";
const CREATE_SOURCE: &str = "CREATE STREAM orders (order_id VARCHAR KEY, customer_id VARCHAR, \
    quantity INT, price DOUBLE) WITH (KAFKA_TOPIC='bench_in', VALUE_FORMAT='JSON');";
const CREATE_QUERY: &str = "CREATE TABLE revenue AS SELECT customer_id, COUNT(*) AS orders, \
    SUM(quantity * price) AS revenue FROM orders WINDOW TUMBLING (SIZE 1 HOUR) \
    GROUP BY customer_id EMIT CHANGES;";
const WINDOW_MS: i64 = 3_600_000;
const FIRST_TIMESTAMP: i64 = 1_700_000_000_000;
const SPACING_MS: i64 = 10;
const SEED: u64 = 0x0b_700d;

/// Count and revenue of one (customer, window start).
type Expected = HashMap<(String, i64), (i64, f64)>;

pub fn bench_on(
    args: &BenchArgs,
    flush: FlushPolicy,
    log: &EmbeddedLog,
    dir: &Path,
    backend: Backend,
) -> anyhow::Result<()> {
    ensure!(args.keys > 0, "--keys must be at least 1");
    let mut out = std::io::stdout().lock();
    let title =
        "windowed aggregation, JSON -> JSON, RocksDB state + changelog, manual mode on one thread";
    print_header(&mut out, title, dir, flush, CREATE_QUERY)?;
    writeln!(out, "  backend         {}", backend.name())?;
    let generated = Instant::now();
    let (records, bytes, expected) = generate(args.records, args.keys);
    writeln!(
        out,
        "  input           {} records over {} keys, {:.1} MiB of keys+values, {} (key, window) groups (generated in {:.2} s, not timed)",
        thousands(args.records),
        thousands(args.keys),
        mib(bytes),
        thousands(expected.len()),
        generated.elapsed().as_secs_f64()
    )?;
    writeln!(out)?;

    log.create_topic(
        INPUT_TOPIC,
        &brook::transport::TopicConfig::with_partitions(1),
    )?;
    let mut producer = log.producer()?;
    for record in records {
        producer.send(INPUT_TOPIC, None, record)?;
    }
    producer.flush()?;

    let engine = BenchEngine::on(log, backend, Some(&dir.join("state")))?;
    let QueryRun {
        consumed,
        phase: query,
        errors,
    } = run_query(engine, CREATE_SOURCE, CREATE_QUERY, args.batch)?;
    let output = topic_records(log, OUTPUT_TOPIC)?;
    let changelog = changelog_records(log, "")?;
    writeln!(
        out,
        "query ({INPUT_TOPIC} -> {OUTPUT_TOPIC}, {} records per step)",
        thousands(args.batch)
    )?;
    writeln!(out, "  input records   {}", thousands(consumed))?;
    writeln!(out, "  output records  {}", thousands(output))?;
    writeln!(out, "  changelog       {} records", thousands(changelog))?;
    writeln!(
        out,
        "  state on disk   {:.1} MiB",
        mib(dir_size(&dir.join("state")))
    )?;
    writeln!(out, "  elapsed         {:.3} s", query.seconds())?;
    writeln!(
        out,
        "  throughput      {} input records/s",
        thousands(query.per_second(consumed) as usize)
    )?;
    writeln!(out, "  cpu             {}", query.cpu_summary())?;
    writeln!(out, "  errors          {errors} processing error(s)")?;
    writeln!(out)?;
    ensure!(
        consumed == args.records,
        "the query consumed {consumed} records of {}",
        args.records
    );
    ensure!(
        output == args.records,
        "the query wrote {output} updates for {} input records",
        args.records
    );
    check_final_updates(log, &expected)?;
    writeln!(
        out,
        "OK: one update per input record; the last update of each of the {} groups checked",
        thousands(expected.len())
    )?;
    Ok(())
}

/// Orders with a fixed seed (quantity 1..=5, price 0.5..=20.0 in halves, so revenue sums are
/// exact in binary), their size in bytes, and the final count and revenue of every group.
fn generate(n: usize, keys: usize) -> (Vec<ProducerRecord>, usize, Expected) {
    let mut rng = fastrand::Rng::with_seed(SEED);
    let mut records = Vec::with_capacity(n);
    let mut bytes = 0;
    let mut expected = Expected::new();
    for i in 0..n {
        let order_id = format!("o{i}");
        let customer_id = format!("c{}", rng.usize(0..keys));
        let quantity = rng.i32(1..=5);
        let price = f64::from(rng.u32(1..=40)) / 2.0;
        let timestamp = FIRST_TIMESTAMP + i as i64 * SPACING_MS;
        let window = timestamp - timestamp.rem_euclid(WINDOW_MS);
        let value = format!(
            r#"{{"order_id": "{order_id}", "customer_id": "{customer_id}", "quantity": {quantity}, "price": {price:.1}}}"#
        );
        bytes += order_id.len() + value.len();
        let group = expected.entry((customer_id, window)).or_insert((0, 0.0));
        group.0 += 1;
        group.1 += f64::from(quantity) * price;
        records.push(
            ProducerRecord::new(Some(Bytes::from(order_id)), Some(Bytes::from(value)))
                .with_timestamp(timestamp),
        );
    }
    (records, bytes, expected)
}

/// Reads the whole output and compares each group's last update with the expected one.
fn check_final_updates(log: &EmbeddedLog, expected: &Expected) -> anyhow::Result<()> {
    let mut last: HashMap<Vec<u8>, Bytes> = HashMap::with_capacity(expected.len());
    let mut consumer = log.consumer(None)?;
    consumer.assign(&[(TopicPartition::new(OUTPUT_TOPIC, 0), StartFrom::Earliest)])?;
    loop {
        let polled = consumer.poll(100_000, Duration::from_millis(200))?;
        if polled.is_empty() {
            break;
        }
        for record in polled.iter().flat_map(|p| &p.records) {
            let key = record.key.as_deref().unwrap_or_default().to_vec();
            last.insert(key, record.value.clone().unwrap_or_default());
        }
    }
    ensure!(
        last.len() == expected.len(),
        "the output holds {} groups; the input makes {}",
        last.len(),
        expected.len()
    );
    for (key, value) in &last {
        let (customer, window) = split_windowed_key(key)?;
        let value: serde_json::Value =
            serde_json::from_slice(value).context("an output value is not JSON")?;
        let got = (
            value.get("ORDERS").and_then(|v| v.as_i64()),
            value.get("REVENUE").and_then(|v| v.as_f64()),
        );
        let want = expected.get(&(customer.clone(), window));
        ensure!(
            want.is_some_and(|w| got == (Some(w.0), Some(w.1))),
            "group ({customer}, window {window}) ended at {value}; expected {want:?}"
        );
    }
    Ok(())
}

/// A windowed KAFKA-format key: the customer id, then the window start (8 bytes, big-endian).
fn split_windowed_key(key: &[u8]) -> anyhow::Result<(String, i64)> {
    let split = key
        .len()
        .checked_sub(8)
        .context("an output key is shorter than a window")?;
    let start: [u8; 8] = key[split..].try_into()?;
    let customer = String::from_utf8(key[..split].to_vec())?;
    Ok((customer, i64::from_be_bytes(start)))
}
