//! The join benchmark (`--query join`): a stream-table join, then a stream-stream join, each
//! run on its own topics until its input is consumed, with its stores in RocksDB and their
//! changelogs written in each step's transaction (input and checks: `join_input.rs`).
//!
//! - **Stream-table**: orders enriched with a customers table that changes while they arrive
//!   (`LEFT JOIN`); the orders are keyed by order id, so the query re-keys them by customer id
//!   and exchanges both sides into the join's stage. Each output row is compared with the
//!   order joined with its customer's row as of the order's time.
//! - **Stream-stream**: clicks attributed to impressions (`LEFT JOIN ... WITHIN 1 MINUTE GRACE
//!   PERIOD 10 SECONDS`), the clicks re-keyed by impression id. The output's row count and
//!   checksum must equal those computed from the input.
//!
//! Throughput is input records (both topics) per second, with the process's CPU time;
//! `--join stream-table` or `--join stream-stream` runs one of the two.

use super::join_input::{self, Enriched, Input, row_hash};
use super::measure::{
    changelog_records, dir_size, for_each_record, mib, print_header, thousands, topic_records,
};
use super::{Backend, BenchArgs, BenchEngine, BenchJoin, QueryRun, run_query};
use anyhow::{Context, ensure};
use brook::log::{EmbeddedLog, FlushPolicy};
use brook::transport::{ProducerRecord, Record, TopicConfig, Transport};
use std::io::Write;
use std::path::Path;
use std::time::Instant;

/// One benchmarked join: the statements creating its sources, its query, and the topic it
/// writes.
struct BenchedJoin {
    sources: &'static str,
    query: &'static str,
    output: &'static str,
}

const STREAM_TABLE: BenchedJoin = BenchedJoin {
    sources: "\
        CREATE STREAM orders (order_id VARCHAR KEY, customer_id VARCHAR, quantity INT, price DOUBLE) \
            WITH (KAFKA_TOPIC='bench_orders', VALUE_FORMAT='JSON'); \
        CREATE TABLE customers (id VARCHAR PRIMARY KEY, name VARCHAR, tier INT) \
            WITH (KAFKA_TOPIC='bench_customers', VALUE_FORMAT='JSON');",
    query: "CREATE STREAM enriched AS SELECT o.customer_id, o.order_id, \
        c.name, c.tier, o.quantity * o.price AS total \
        FROM orders o LEFT JOIN customers c ON o.customer_id = c.id EMIT CHANGES;",
    output: "ENRICHED",
};
const STREAM_STREAM: BenchedJoin = BenchedJoin {
    sources: "\
        CREATE STREAM impressions (id VARCHAR KEY, ad VARCHAR) \
            WITH (KAFKA_TOPIC='bench_impressions', VALUE_FORMAT='JSON'); \
        CREATE STREAM clicks (id VARCHAR KEY, impression_id VARCHAR, cost INT) \
            WITH (KAFKA_TOPIC='bench_clicks', VALUE_FORMAT='JSON');",
    query: "CREATE STREAM clicked AS SELECT i.id, i.ad, c.id AS click, \
        c.cost FROM impressions i LEFT JOIN clicks c WITHIN 1 MINUTE GRACE PERIOD 10 SECONDS \
        ON i.id = c.impression_id EMIT CHANGES;",
    output: "CLICKED",
};

pub fn bench_on(
    args: &BenchArgs,
    flush: FlushPolicy,
    log: &EmbeddedLog,
    dir: &Path,
    backend: Backend,
) -> anyhow::Result<()> {
    ensure!(args.keys > 0, "--keys must be at least 1");
    let mut out = std::io::stdout().lock();
    let title = "joins, JSON -> JSON, RocksDB state + changelogs, manual mode on one thread";
    let queries = match args.join {
        BenchJoin::Both => "a stream-table join, then a stream-stream join (below)",
        BenchJoin::StreamTable => "a stream-table join (below)",
        BenchJoin::StreamStream => "a stream-stream join (below)",
    };
    print_header(&mut out, title, dir, flush, queries)?;
    writeln!(out, "  backend         {}", backend.name())?;
    writeln!(out)?;
    if args.join != BenchJoin::StreamStream {
        stream_table(args, log, (dir, backend), &mut out)?;
    }
    if args.join != BenchJoin::StreamTable {
        stream_stream(args, log, (dir, backend), &mut out)?;
    }
    Ok(())
}

fn stream_table(
    args: &BenchArgs,
    log: &EmbeddedLog,
    dir: (&Path, Backend),
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let generated = Instant::now();
    let input = join_input::stream_table(args.records, args.keys);
    writeln!(out, "stream-table join")?;
    writeln!(out, "  query           {}", STREAM_TABLE.query)?;
    writeln!(
        out,
        "  input           {} orders over {} customers; {} customer rows ({} deletions), {:.1} MiB of keys+values (generated in {:.2} s, not timed)",
        thousands(input.orders.len()),
        thousands(args.keys),
        thousands(input.customers.len()),
        thousands(input.deletions),
        mib(bytes(&input.orders) + bytes(&input.customers)),
        generated.elapsed().as_secs_f64()
    )?;
    let inputs = [
        ("bench_orders", input.orders.as_slice()),
        ("bench_customers", input.customers.as_slice()),
    ];
    run_and_report(&STREAM_TABLE, &inputs, args, log, dir, out)?;
    check_enriched(log, &input.expected)?;
    writeln!(
        out,
        "OK: one row per order, each the order joined with its customer's row as of the order's time ({} of them without one)",
        thousands(
            input
                .expected
                .iter()
                .filter(|e| e.customer_row.is_none())
                .count()
        )
    )?;
    writeln!(out)?;
    Ok(())
}

fn stream_stream(
    args: &BenchArgs,
    log: &EmbeddedLog,
    dir: (&Path, Backend),
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let generated = Instant::now();
    let input = join_input::stream_stream(args.records);
    writeln!(out, "stream-stream join")?;
    writeln!(out, "  query           {}", STREAM_STREAM.query)?;
    writeln!(
        out,
        "  input           {} impressions and {} clicks, {:.1} MiB of keys+values (generated in {:.2} s, not timed)",
        thousands(input.impressions.len()),
        thousands(input.clicks.len()),
        mib(bytes(&input.impressions) + bytes(&input.clicks)),
        generated.elapsed().as_secs_f64()
    )?;
    let inputs = [
        ("bench_impressions", input.impressions.as_slice()),
        ("bench_clicks", input.clicks.as_slice()),
    ];
    run_and_report(&STREAM_STREAM, &inputs, args, log, dir, out)?;
    let (rows, checksum) = clicked_checksum(log)?;
    ensure!(
        (rows, checksum) == (input.rows, input.checksum),
        "CLICKED holds {rows} rows with checksum {checksum:#x}; the input makes {} rows with checksum {:#x}",
        input.rows,
        input.checksum
    );
    writeln!(
        out,
        "OK: {} rows ({} clicks joined, {} impressions without one), count and checksum as computed from the input",
        thousands(rows),
        thousands(input.clicks.len()),
        thousands(input.unmatched)
    )?;
    Ok(())
}

/// Keys and values of `records`, in bytes.
fn bytes(records: &[Input]) -> usize {
    records
        .iter()
        .map(|r| r.key.len() + r.value.as_ref().map_or(0, String::len))
        .sum()
}

/// Appends `records` to a new one-partition `topic` (not timed).
fn append(log: &EmbeddedLog, topic: &str, records: &[Input]) -> anyhow::Result<()> {
    log.create_topic(topic, &TopicConfig::with_partitions(1))?;
    let mut producer = log.producer()?;
    for r in records {
        let record = ProducerRecord::new(Some(r.key.clone()), r.value.clone());
        producer.send(topic, None, record.with_timestamp(r.timestamp))?;
    }
    producer.flush()?;
    Ok(())
}

/// Appends `inputs` (topic, records) to new topics (not timed), runs `join` until it has
/// consumed them all, and reports the run.
fn run_and_report(
    join: &BenchedJoin,
    inputs: &[(&str, &[Input])],
    args: &BenchArgs,
    log: &EmbeddedLog,
    (dir, backend): (&Path, Backend),
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    for (topic, records) in inputs {
        append(log, topic, records)?;
    }
    let total: usize = inputs.iter().map(|(_, records)| records.len()).sum();
    let run = run(log, (dir, backend), join, args.batch)?;
    report(out, log, dir, join.output, &run, args.batch)?;
    ensure!(
        run.consumed == total,
        "the query consumed {} of {total} records",
        run.consumed
    );
    Ok(())
}

/// Creates the sources and runs the query in an engine of its own until its input is consumed.
fn run(
    log: &EmbeddedLog,
    (dir, backend): (&Path, Backend),
    join: &BenchedJoin,
    batch: usize,
) -> anyhow::Result<QueryRun> {
    let engine = BenchEngine::on(log, backend, Some(&dir.join("state")))?;
    run_query(engine, join.sources, join.query, batch)
}

fn report(
    out: &mut dyn Write,
    log: &EmbeddedLog,
    dir: &Path,
    output: &str,
    run: &QueryRun,
    batch: usize,
) -> anyhow::Result<()> {
    let records = topic_records(log, output)?;
    let changelog = changelog_records(log, &format!("_{output}_"))?;
    writeln!(
        out,
        "  query run       {} records per step",
        thousands(batch)
    )?;
    writeln!(out, "  input records   {}", thousands(run.consumed))?;
    writeln!(out, "  output records  {}", thousands(records))?;
    writeln!(out, "  changelog       {} records", thousands(changelog))?;
    writeln!(
        out,
        "  state on disk   {:.1} MiB (all queries so far)",
        mib(dir_size(&dir.join("state")))
    )?;
    writeln!(out, "  elapsed         {:.3} s", run.phase.seconds())?;
    writeln!(
        out,
        "  throughput      {} input records/s",
        thousands(run.phase.per_second(run.consumed) as usize)
    )?;
    writeln!(out, "  cpu             {}", run.phase.cpu_summary())?;
    writeln!(out, "  errors          {} processing error(s)", run.errors)?;
    Ok(())
}

/// Compares every ENRICHED row, in order, with the expected one.
fn check_enriched(log: &EmbeddedLog, expected: &[Enriched]) -> anyhow::Result<()> {
    let mut i = 0;
    for_each_record(log, "ENRICHED", |record| {
        let want = expected
            .get(i)
            .with_context(|| format!("ENRICHED has more than the {} orders", expected.len()))?;
        let got = enriched(record)?;
        ensure!(
            got == *want,
            "ENRICHED row {i} is {got:?}; expected {want:?}"
        );
        i += 1;
        Ok(())
    })?;
    ensure!(
        i == expected.len(),
        "ENRICHED has {i} rows for {} orders",
        expected.len()
    );
    Ok(())
}

fn json(record: &Record) -> anyhow::Result<serde_json::Value> {
    let value = record
        .value
        .as_deref()
        .context("an output row without value")?;
    serde_json::from_slice(value).context("an output value is not JSON")
}

fn key(record: &Record) -> anyhow::Result<String> {
    let key = record.key.as_deref().context("an output row without key")?;
    Ok(String::from_utf8(key.to_vec())?)
}

fn enriched(record: &Record) -> anyhow::Result<Enriched> {
    let value = json(record)?;
    let text = |field: &str| {
        value
            .get(field)
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    let name = text("NAME");
    let tier = value.get("TIER").and_then(serde_json::Value::as_i64);
    Ok(Enriched {
        customer: key(record)?,
        order_id: text("ORDER_ID").unwrap_or_default(),
        customer_row: name.zip(tier),
        total: value
            .get("TOTAL")
            .and_then(serde_json::Value::as_f64)
            .unwrap_or(f64::NAN),
    })
}

/// CLICKED's row count and the wrapping sum of each row's hash.
fn clicked_checksum(log: &EmbeddedLog) -> anyhow::Result<(usize, u64)> {
    let (mut rows, mut checksum) = (0, 0_u64);
    for_each_record(log, "CLICKED", |record| {
        let value = json(record)?;
        let field = |name: &str| match value.get(name) {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(v) => v.to_string(),
            None => "null".to_string(),
        };
        let row = format!(
            "{}|{}|{}|{}|{}",
            key(record)?,
            field("AD"),
            field("CLICK"),
            field("COST"),
            record.timestamp
        );
        checksum = checksum.wrapping_add(row_hash(&row));
        rows += 1;
        Ok(())
    })?;
    Ok((rows, checksum))
}
