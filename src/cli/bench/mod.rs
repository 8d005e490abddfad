//! `brook bench`: throughput of one query on the embedded log, on one core.
//!
//! In a fresh log directory (a temporary one, or a new one inside an explicit `--data-dir`,
//! removed afterwards unless `--keep`): generates `--records` order records in memory (not
//! timed), appends them to `bench_in` with the producer (timed: the append phase), then creates
//! the `orders` stream and the query in manual mode and times stepping it, `--batch` input
//! records per step, until all input is consumed (the query phase). The engine runs on the
//! calling thread; the process's CPU time is reported with each phase so that "per core" is
//! explicit. Each query's output is checked against what the generated input must give: a
//! mismatch is an error. `--query filter` (filter.rs) is a stateless filter + projection;
//! `--query windowed` (windowed.rs) a tumbling-window aggregation with RocksDB state;
//! `--query join` (join.rs, input in join_input.rs) a stream-table join, then a stream-stream
//! join, each with RocksDB state and changelogs; `--query push` (push.rs) push queries over
//! the HTTP API: latency and concurrency; `--query kafka` (kafka.rs) produce and fetch through
//! the Kafka listener against a peer broker.

mod filter;
mod join;
mod join_input;
mod kafka;
mod measure;
mod push;
mod windowed;

use super::Cli;
use anyhow::{Context, ensure};
use brook::engine::{DEFAULT_SERVICE_ID, Engine, InternalNames, RunMode};
use brook::kafka::KafkaTransport;
use brook::log::{EmbeddedLog, FlushPolicy, LogConfig};
use clap::{Args, ValueEnum};
use measure::Phase;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Which query to measure.
    #[arg(long, value_enum, default_value_t = BenchQuery::Filter)]
    pub query: BenchQuery,
    /// Input records to generate and run through the query (`--query join`: orders of the
    /// stream-table join, and events of the stream-stream join's timeline).
    #[arg(long, default_value_t = 1_000_000)]
    pub records: usize,
    /// Distinct keys: of the windowed aggregation's input (`--query windowed`), or the
    /// customers of the stream-table join (`--query join`).
    #[arg(long, default_value_t = 100_000)]
    pub keys: usize,
    /// Which joins `--query join` runs.
    #[arg(long, value_enum, default_value_t = BenchJoin::Both)]
    pub join: BenchJoin,
    /// Input records per engine step (one poll, one output transaction).
    #[arg(long, default_value_t = 10_000)]
    pub batch: usize,
    /// Records appended per second while a push query reads them (`--query push`).
    #[arg(long, default_value_t = 10_000)]
    pub rate: usize,
    /// How long the push-query latency run appends (`--query push`).
    #[arg(long, default_value_t = 20)]
    pub seconds: u64,
    /// Push queries held open at once in the concurrency run (`--query push`).
    #[arg(long, default_value_t = 1_000)]
    pub clients: usize,
    /// Runs per target, alternating between Brook and the peer broker (`--query kafka`).
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// Bytes of each record's value (`--query kafka`).
    #[arg(long, default_value_t = 100)]
    pub value_bytes: usize,
    /// The script that starts the peer broker (`--query kafka`): the Kafka-protocol test broker.
    #[arg(long, default_value = "../shared/tools/kafka-broker")]
    pub peer_broker_script: String,
    /// A running peer broker to measure instead of starting one (`--query kafka`).
    #[arg(long)]
    pub peer_bootstrap: Option<String>,
    /// Where the query runs (`filter`, `windowed`, `join`): on the embedded log, on Kafka
    /// (through rdkafka, with a Kafka-protocol listener on loopback over the benchmark's log as
    /// the cluster), or both, one after the other in the same run.
    #[arg(long, value_enum, default_value_t = BenchBackend::Embedded)]
    pub backend: BenchBackend,
    /// Keep the benchmark's log directory afterwards (its path is printed).
    #[arg(long)]
    pub keep: bool,
}

/// Where `brook bench` runs its query.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BenchBackend {
    Embedded,
    Kafka,
    Both,
}

/// One backend a run measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Embedded,
    Kafka,
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Backend::Embedded => "embedded log",
            Backend::Kafka => {
                "Kafka (rdkafka, exactly-once transactions; a Kafka listener on loopback as the cluster)"
            }
        }
    }
}

/// The benchmark queries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BenchQuery {
    /// Stateless filter and projection, JSON stream to JSON stream.
    Filter,
    /// Tumbling-window COUNT and SUM per key into a table, with RocksDB state and changelogs.
    Windowed,
    /// A stream-table join (orders LEFT JOIN a changing customers table), then a stream-stream
    /// join (impressions LEFT JOIN clicks WITHIN 1 MINUTE GRACE PERIOD 10 SECONDS), each with
    /// RocksDB state and changelogs, their output checked against the input.
    Join,
    /// Push queries over the HTTP API: latency from append to client at a steady rate, and
    /// how many push queries one server holds open, with its memory.
    Push,
    /// Produce and fetch throughput through the Kafka listener with librdkafka, against a
    /// peer broker (the Kafka-protocol test broker) in the same run.
    Kafka,
}

/// The joins of `--query join`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BenchJoin {
    /// The stream-table join, then the stream-stream join.
    Both,
    /// Orders LEFT JOIN a changing customers table.
    StreamTable,
    /// Impressions LEFT JOIN clicks WITHIN 1 MINUTE GRACE PERIOD 10 SECONDS.
    StreamStream,
}

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
    let backends = match (args.query, args.backend) {
        (BenchQuery::Push | BenchQuery::Kafka, _) | (_, BenchBackend::Embedded) => {
            vec![Backend::Embedded]
        }
        (_, BenchBackend::Kafka) => vec![Backend::Kafka],
        (_, BenchBackend::Both) => vec![Backend::Embedded, Backend::Kafka],
    };
    for (i, backend) in backends.into_iter().enumerate() {
        if i > 0 {
            println!();
        }
        let dir = dir.join(format!("run-{i}"));
        bench_with(args, cli, &dir, backend)?;
    }
    Ok(())
}

fn bench_with(args: &BenchArgs, cli: &Cli, dir: &Path, backend: Backend) -> anyhow::Result<()> {
    // As the cluster, the log acknowledges appends without waiting for an fsync: a Kafka
    // broker acknowledges `acks=all` once replicated, and does not fsync by default.
    let flush = match backend {
        Backend::Embedded => cli.flush,
        Backend::Kafka => FlushPolicy::Never,
    };
    let log = EmbeddedLog::open(
        dir,
        LogConfig {
            flush,
            ..LogConfig::default()
        },
    )
    .with_context(|| format!("opening the log in {}", dir.display()))?;
    let result = match args.query {
        BenchQuery::Filter => filter::bench_on(args, flush, &log, dir, backend),
        BenchQuery::Windowed => windowed::bench_on(args, flush, &log, dir, backend),
        BenchQuery::Join => join::bench_on(args, flush, &log, dir, backend),
        BenchQuery::Push => push::bench_on(args, &log),
        BenchQuery::Kafka => kafka::bench_on(args, &log, dir),
    };
    let closed = log.close().context("closing the log");
    result.and(closed)
}

/// What running a benchmark query to the end of its input measured.
struct QueryRun {
    consumed: usize,
    phase: Phase,
    errors: usize,
}

/// A benchmark's engine (manual mode): on the log itself, or on Kafka with a Kafka-protocol
/// listener on loopback over the log as the cluster (kept running while the engine is).
struct BenchEngine {
    engine: Engine,
    backend: Backend,
    _listener: Option<brook::kafka_wire::KafkaServer>,
}

impl BenchEngine {
    fn on(log: &EmbeddedLog, backend: Backend, state: Option<&Path>) -> anyhow::Result<Self> {
        let (engine, listener) = match backend {
            Backend::Embedded => (Engine::new(Arc::new(log.clone()), RunMode::Manual), None),
            Backend::Kafka => {
                let config = brook::kafka_wire::KafkaConfig {
                    listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
                    ..Default::default()
                };
                let listener = brook::kafka_wire::start(log.clone(), config)
                    .context("starting the Kafka listener")?;
                let kafka = KafkaTransport::connect(&listener.local_addr.to_string())
                    .context("connecting to the Kafka listener")?;
                let engine = Engine::new(Arc::new(kafka), RunMode::Manual)
                    .with_names(InternalNames::for_service(DEFAULT_SERVICE_ID));
                (engine, Some(listener))
            }
        };
        let engine = match state {
            Some(dir) => engine.with_state_dir(dir),
            None => engine,
        };
        Ok(BenchEngine {
            engine,
            backend,
            _listener: listener,
        })
    }
}

/// Creates the source and starts the query in `engine` (manual mode, reading from the
/// earliest offset), then times running it until its input is consumed (on Kafka, until the
/// query's positions reach the input's end: records arrive over the network).
fn run_query(
    bench: BenchEngine,
    source: &str,
    query: &str,
    batch: usize,
) -> anyhow::Result<QueryRun> {
    let BenchEngine {
        mut engine,
        backend,
        _listener,
    } = bench;
    engine.set_property("auto.offset.reset", "earliest");
    engine
        .execute_script(source)
        .context("creating the source streams")?;
    engine.execute_script(query).context("starting the query")?;
    let mut consumed = 0;
    let phase = Phase::measure(|| {
        consumed = match backend {
            Backend::Embedded => engine.run_until_idle_with(batch)?,
            Backend::Kafka => engine.run_until_caught_up(batch, Duration::from_secs(3600))?,
        };
        Ok(())
    })?;
    let errors = engine.processing_error_total() as usize;
    engine.shutdown();
    Ok(QueryRun {
        consumed,
        phase,
        errors,
    })
}
