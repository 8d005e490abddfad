//! The filter+projection benchmark: `CREATE STREAM big AS SELECT ... WHERE quantity * price >
//! 20` over generated orders. The output count is checked against the number of generated
//! records that match the predicate, and the first output record against the first match.

use super::measure::{Phase, mib, print_header, thousands, topic_records};
use super::{Backend, BenchArgs, BenchEngine, QueryRun, run_query};
use anyhow::{Context, bail, ensure};
use brook::log::{EmbeddedLog, FlushPolicy};
use brook::transport::{ProducerRecord, StartFrom, TopicPartition, Transport};
use bytes::Bytes;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

const INPUT_TOPIC: &str = "bench_in";
const OUTPUT_TOPIC: &str = "BIG";
const CREATE_SOURCE: &str = "CREATE STREAM orders (order_id VARCHAR KEY, customer_id VARCHAR, \
    item VARCHAR, quantity INT, price DOUBLE) WITH (KAFKA_TOPIC='bench_in', VALUE_FORMAT='JSON');";
const CREATE_QUERY: &str = "CREATE STREAM big AS SELECT order_id, customer_id, \
    quantity * price AS total FROM orders WHERE quantity * price > 20;";
const ITEMS: [&str; 5] = ["widget", "gadget", "gizmo", "sprocket", "doohickey"];
const SEED: u64 = 0x0b_700c;

pub fn bench_on(
    args: &BenchArgs,
    flush: FlushPolicy,
    log: &EmbeddedLog,
    dir: &Path,
    backend: Backend,
) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let title = "stateless filter+projection, JSON -> JSON, manual mode on one thread";
    print_header(&mut out, title, dir, flush, CREATE_QUERY)?;
    writeln!(out, "  backend         {}", backend.name())?;

    let generated = Instant::now();
    let input = generate(args.records);
    writeln!(
        out,
        "  input           {} records, {:.1} MiB of keys+values, {} ({:.1}%) match the predicate (generated in {:.2} s, not timed)",
        thousands(args.records),
        mib(input.bytes),
        thousands(input.matching),
        100.0 * input.matching as f64 / args.records as f64,
        generated.elapsed().as_secs_f64()
    )?;
    writeln!(out)?;

    log.create_topic(
        INPUT_TOPIC,
        &brook::transport::TopicConfig::with_partitions(1),
    )?;
    let bytes = input.bytes;
    let expected = input.matching;
    let first_match = input.first_match.clone();
    let records = input.records;
    let produce = Phase::measure(|| {
        let mut producer = log.producer()?;
        for record in records {
            producer.send(INPUT_TOPIC, None, record)?;
        }
        producer.flush()?;
        Ok(())
    })?;
    let appended = topic_records(log, INPUT_TOPIC)?;
    ensure!(
        appended == args.records,
        "{INPUT_TOPIC} holds {appended} records after appending {}",
        args.records
    );
    writeln!(out, "append (producer -> {INPUT_TOPIC})")?;
    writeln!(out, "  records         {}", thousands(args.records))?;
    writeln!(out, "  elapsed         {:.3} s", produce.seconds())?;
    writeln!(
        out,
        "  throughput      {} records/s, {:.1} MiB/s",
        thousands(produce.per_second(args.records) as usize),
        mib(bytes) / produce.seconds()
    )?;
    writeln!(out, "  cpu             {}", produce.cpu_summary())?;
    writeln!(out)?;

    let engine = BenchEngine::on(log, backend, None)?;
    let QueryRun {
        consumed,
        phase: query,
        errors,
    } = run_query(engine, CREATE_SOURCE, CREATE_QUERY, args.batch)?;
    let output = topic_records(log, OUTPUT_TOPIC)?;
    writeln!(
        out,
        "query ({INPUT_TOPIC} -> {OUTPUT_TOPIC}, {} records per step)",
        thousands(args.batch)
    )?;
    writeln!(out, "  input records   {}", thousands(consumed))?;
    writeln!(
        out,
        "  output records  {} (expected {})",
        thousands(output),
        thousands(expected)
    )?;
    writeln!(out, "  elapsed         {:.3} s", query.seconds())?;
    writeln!(
        out,
        "  throughput      {} input records/s ({:.1} MiB/s of input), {} output records/s",
        thousands(query.per_second(consumed) as usize),
        mib(bytes) / query.seconds(),
        thousands(query.per_second(output) as usize)
    )?;
    writeln!(out, "  cpu             {}", query.cpu_summary())?;
    writeln!(out, "  errors          {errors} processing error(s)")?;
    writeln!(out)?;

    ensure!(
        consumed == args.records,
        "the query consumed {consumed} records of {}",
        args.records
    );
    if output != expected {
        bail!("the query wrote {output} records; {expected} input records match its predicate");
    }
    if let Some(first) = first_match {
        check_first_output(log, &first)?;
    }
    writeln!(
        out,
        "OK: output count matches the predicate; first output record checked"
    )?;
    Ok(())
}

/// The generated input, and what the query must make of it.
struct Input {
    records: Vec<ProducerRecord>,
    /// Key and value bytes.
    bytes: usize,
    /// Records with `quantity * price > 20`.
    matching: usize,
    /// (order_id, customer_id, total) of the first matching record.
    first_match: Option<(String, String, f64)>,
}

/// Order records with a fixed seed: quantity 1..=5, price 0.5..=20.0 in halves (exact in
/// binary, so the predicate computed here and in the engine agree to the bit); about 55% of
/// them match `quantity * price > 20`.
fn generate(n: usize) -> Input {
    let mut rng = fastrand::Rng::with_seed(SEED);
    let mut input = Input {
        records: Vec::with_capacity(n),
        bytes: 0,
        matching: 0,
        first_match: None,
    };
    for i in 0..n {
        let order_id = format!("o{i}");
        let customer_id = format!("c{}", rng.u32(0..10_000));
        let item = ITEMS[rng.usize(..ITEMS.len())];
        let quantity = rng.i32(1..=5);
        let price = f64::from(rng.u32(1..=40)) / 2.0;
        let value = format!(
            r#"{{"order_id": "{order_id}", "customer_id": "{customer_id}", "item": "{item}", "quantity": {quantity}, "price": {price:.1}}}"#
        );
        let total = f64::from(quantity) * price;
        if total > 20.0 {
            input.matching += 1;
            if input.first_match.is_none() {
                input.first_match = Some((order_id.clone(), customer_id, total));
            }
        }
        input.bytes += order_id.len() + value.len();
        input.records.push(ProducerRecord::new(
            Some(Bytes::from(order_id)),
            Some(Bytes::from(value)),
        ));
    }
    input
}

/// The first output record is the first matching input, projected.
fn check_first_output(log: &EmbeddedLog, first: &(String, String, f64)) -> anyhow::Result<()> {
    let (order_id, customer_id, total) = first;
    let mut consumer = log.consumer(None)?;
    consumer.assign(&[(TopicPartition::new(OUTPUT_TOPIC, 0), StartFrom::Earliest)])?;
    let polled = consumer.poll(1, Duration::from_secs(1))?;
    let record = polled
        .iter()
        .flat_map(|p| p.records.iter())
        .next()
        .context("no output record to check")?;
    let key = record.key.as_deref().unwrap_or_default();
    let value: serde_json::Value =
        serde_json::from_slice(record.value.as_deref().unwrap_or_default())
            .context("the first output value is not JSON")?;
    let ok = key == order_id.as_bytes()
        && value.get("CUSTOMER_ID").and_then(|v| v.as_str()) == Some(customer_id.as_str())
        && value
            .get("TOTAL")
            .and_then(|v| v.as_f64())
            .is_some_and(|t| (t - total).abs() < 1e-9);
    ensure!(
        ok,
        "first output record is {} {value}; expected {order_id} with CUSTOMER_ID {customer_id}, TOTAL {total}",
        String::from_utf8_lossy(key)
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_the_documented_records() {
        let input = generate(1000);
        assert_eq!(input.records.len(), 1000);
        let value: serde_json::Value =
            serde_json::from_slice(input.records[0].value.as_deref().expect("value"))
                .expect("JSON");
        assert_eq!(value["order_id"], "o0");
        let matching = input
            .records
            .iter()
            .filter(|r| {
                let v: serde_json::Value =
                    serde_json::from_slice(r.value.as_deref().expect("value")).expect("JSON");
                v["quantity"].as_f64().expect("quantity") * v["price"].as_f64().expect("price")
                    > 20.0
            })
            .count();
        assert_eq!(matching, input.matching);
        assert!(matching > 0 && matching < 1000);
    }
}
