//! `brook bench`: throughput of a stateless filter + projection query, JSON topic to JSON topic,
//! on the embedded log, on one core.
//!
//! In a fresh log directory (a temporary one, or a new one inside an explicit `--data-dir`,
//! removed afterwards unless `--keep`): generates `--records` order records in memory (not
//! timed), appends them to `bench_in` with the producer (timed: the append phase), then creates
//! the `orders` stream and `CREATE STREAM big AS SELECT ... WHERE quantity * price > 20` in
//! manual mode and times stepping the query, `--batch` input records per step, until all input
//! is consumed (the query phase). The engine runs on the calling thread; the process's CPU time
//! is reported with each phase so that "per core" is explicit. The output count is checked
//! against the number of generated records that match the predicate: a mismatch is an error.

use super::Cli;
use anyhow::{Context, bail, ensure};
use brook::engine::{Engine, RunMode};
use brook::log::{EmbeddedLog, FlushPolicy, LogConfig};
use brook::transport::{OffsetSpec, ProducerRecord, StartFrom, TopicPartition, Transport};
use bytes::Bytes;
use clap::Args;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Input records to generate and run through the query.
    #[arg(long, default_value_t = 1_000_000)]
    pub records: usize,
    /// Input records per engine step (one poll, one output transaction).
    #[arg(long, default_value_t = 10_000)]
    pub batch: usize,
    /// Keep the benchmark's log directory afterwards (its path is printed).
    #[arg(long)]
    pub keep: bool,
}

const INPUT_TOPIC: &str = "bench_in";
const OUTPUT_TOPIC: &str = "BIG";
const CREATE_SOURCE: &str = "CREATE STREAM orders (order_id VARCHAR KEY, customer_id VARCHAR, \
    item VARCHAR, quantity INT, price DOUBLE) WITH (KAFKA_TOPIC='bench_in', VALUE_FORMAT='JSON');";
const CREATE_QUERY: &str = "CREATE STREAM big AS SELECT order_id, customer_id, \
    quantity * price AS total FROM orders WHERE quantity * price > 20;";
const ITEMS: [&str; 5] = ["widget", "gadget", "gizmo", "sprocket", "doohickey"];
const SEED: u64 = 0x0b_700c;

pub fn run(args: &BenchArgs, cli: &Cli) -> anyhow::Result<()> {
    ensure!(args.records > 0, "--records must be at least 1");
    ensure!(args.batch > 0, "--batch must be at least 1");
    let builder = {
        let mut b = tempfile::Builder::new();
        b.prefix("brook-bench-");
        b
    };
    let dir = if data_dir_given() {
        std::fs::create_dir_all(&cli.data_dir)
            .with_context(|| format!("creating {}", cli.data_dir.display()))?;
        builder.tempdir_in(&cli.data_dir)
    } else {
        builder.tempdir()
    }
    .context("creating the benchmark's log directory")?;
    let result = bench(args, cli, dir.path());
    if args.keep {
        let path = dir.keep();
        println!("kept the benchmark's log in {}", path.display());
    }
    result
}

/// Whether `--data-dir` (or `BROOK_DATA_DIR`) was given rather than defaulted: only then does the
/// benchmark put its directory there, so it never writes into `./brook-data` by default.
fn data_dir_given() -> bool {
    use clap::CommandFactory;
    use clap::parser::ValueSource;
    let Ok(matches) = Cli::command().try_get_matches_from(std::env::args_os()) else {
        return false;
    };
    let source = matches.value_source("data_dir").or_else(|| {
        matches
            .subcommand_matches("bench")
            .and_then(|m| m.value_source("data_dir"))
    });
    matches!(
        source,
        Some(ValueSource::CommandLine | ValueSource::EnvVariable)
    )
}

fn bench(args: &BenchArgs, cli: &Cli, dir: &Path) -> anyhow::Result<()> {
    let log = EmbeddedLog::open(
        dir,
        LogConfig {
            flush: cli.flush,
            ..LogConfig::default()
        },
    )
    .with_context(|| format!("opening the log in {}", dir.display()))?;
    let result = bench_on(args, cli, &log, dir);
    let closed = log.close().context("closing the log");
    result.and(closed)
}

fn bench_on(args: &BenchArgs, cli: &Cli, log: &EmbeddedLog, dir: &Path) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "brook bench: stateless filter+projection, JSON -> JSON, embedded log, manual mode on one thread"
    )?;
    writeln!(out, "  log directory   {}", dir.display())?;
    writeln!(out, "  flush policy    {}", flush_name(cli.flush))?;
    writeln!(out, "  query           {CREATE_QUERY}")?;

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

    let mut engine = Engine::new(Arc::new(log.clone()), RunMode::Manual);
    engine.set_property("auto.offset.reset", "earliest");
    engine
        .execute_script(CREATE_SOURCE)
        .context("creating the source stream")?;
    engine
        .execute_script(CREATE_QUERY)
        .context("starting the query")?;
    let mut consumed = 0;
    let query = Phase::measure(|| {
        consumed = engine.run_until_idle_with(args.batch)?;
        Ok(())
    })?;
    let errors = engine.processing_errors().len();
    engine.shutdown();
    drop(engine);
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

/// Records in a topic (end minus start offsets: the log writes no control records).
fn topic_records(log: &EmbeddedLog, topic: &str) -> anyhow::Result<usize> {
    let mut total = 0;
    for p in 0..log.partition_count(topic)? {
        let tp = TopicPartition::new(topic, p);
        total += log.list_offset(&tp, OffsetSpec::Latest)?
            - log.list_offset(&tp, OffsetSpec::Earliest)?;
    }
    Ok(total as usize)
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

/// Wall-clock and CPU time of one phase.
struct Phase {
    wall: Duration,
    cpu: Option<(Cpu, Cpu)>,
}

impl Phase {
    fn measure(f: impl FnOnce() -> anyhow::Result<()>) -> anyhow::Result<Phase> {
        let cpu_before = Cpu::now();
        let start = Instant::now();
        f()?;
        let wall = start.elapsed();
        Ok(Phase {
            wall,
            cpu: cpu_before.zip(Cpu::now()),
        })
    }

    fn seconds(&self) -> f64 {
        self.wall.as_secs_f64().max(1e-9)
    }

    fn per_second(&self, n: usize) -> f64 {
        n as f64 / self.seconds()
    }

    fn cpu_summary(&self) -> String {
        let Some((before, after)) = &self.cpu else {
            return "n/a (no /proc/self/stat)".to_string();
        };
        let user = after.user.saturating_sub(before.user).as_secs_f64();
        let system = after.system.saturating_sub(before.system).as_secs_f64();
        let process = user + system;
        let thread = match (before.thread, after.thread) {
            (Some(b), Some(a)) => format!(
                ", of which this thread {:.2} s",
                a.saturating_sub(b).as_secs_f64()
            ),
            _ => String::new(),
        };
        format!(
            "{process:.2} s (user {user:.2} s + sys {system:.2} s, all threads{thread}) = {:.0}% of one core",
            100.0 * process / self.seconds()
        )
    }
}

/// CPU time used so far: the whole process from `/proc/self/stat` (user and system, all threads,
/// in 10 ms clock ticks) and the calling thread from `/proc/thread-self/schedstat` (ns).
#[derive(Clone, Copy)]
struct Cpu {
    user: Duration,
    system: Duration,
    thread: Option<Duration>,
}

impl Cpu {
    /// Linux's USER_HZ, the unit of the times in `/proc/<pid>/stat`.
    const TICKS_PER_SECOND: u64 = 100;

    fn now() -> Option<Cpu> {
        let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        // After the command name in parentheses, fields start at 3 (state); utime and stime are
        // fields 14 and 15 (proc(5)).
        let fields: Vec<&str> = stat[stat.rfind(')')? + 1..].split_whitespace().collect();
        let ticks = |i: usize| -> Option<Duration> {
            let t: u64 = fields.get(i)?.parse().ok()?;
            Some(Duration::from_millis(t * 1000 / Self::TICKS_PER_SECOND))
        };
        let thread = std::fs::read_to_string("/proc/thread-self/schedstat")
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse().ok())
            .map(Duration::from_nanos);
        Some(Cpu {
            user: ticks(11)?,
            system: ticks(12)?,
            thread,
        })
    }
}

fn flush_name(policy: FlushPolicy) -> String {
    match policy {
        FlushPolicy::EveryAppend => "always (fsync every append)".to_string(),
        FlushPolicy::Never => "never (left to the OS)".to_string(),
        FlushPolicy::Interval(d) => format!("every {} ms", d.as_millis()),
    }
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// 1234567 → "1,234,567".
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_thousands() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

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
