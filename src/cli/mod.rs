//! Command-line definitions (clap) and dispatch. Each subcommand lives in its own file.
//!
//! May import: everything in the library (this is the outermost layer).

mod backend;
mod bench;
mod consume;
mod format;
mod produce;
mod qtt;
mod remote;
mod start;
mod topic;

use anyhow::Context;
use brook::log::{EmbeddedLog, FlushPolicy, LogConfig};
use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Brook: a streaming SQL engine (ksqlDB's language and API) on its own embedded log or a Kafka
/// cluster.
#[derive(Parser, Debug)]
#[command(
    name = "brook",
    version,
    about,
    long_about = "Brook: a streaming SQL engine (ksqlDB's language and API) on its own embedded log or a Kafka cluster.\n\nWithout a subcommand, Brook starts the engine on the embedded log in --data-dir, serves the HTTP API on --listen and the Kafka protocol on --kafka-listen, runs the startup query files (queries/*.sql and --queries-file), and opens the SQL shell (or, with --headless, keeps running the queries until Ctrl-C). With --bootstrap-servers it runs on that Kafka cluster instead: servers with the same --service-id share the catalog and split the queries' work (docs/kafka.md)."
)]
pub struct Cli {
    /// Directory of the embedded log (topics, offsets, state); on Kafka, of the state stores'
    /// local copies and this server's id.
    #[arg(
        long,
        global = true,
        env = "BROOK_DATA_DIR",
        default_value = "./brook-data"
    )]
    pub data_dir: PathBuf,
    /// When appends are fsynced: 'always' (every append), 'never' (left to the OS), or an
    /// interval such as '100ms'. See docs/log.md for what each can lose on power failure.
    #[arg(long, global = true, env = "BROOK_FLUSH", default_value = "100ms")]
    pub flush: FlushPolicy,
    /// Log filter, e.g. 'info' or 'brook=debug' (RUST_LOG syntax).
    #[arg(long, global = true, env = "BROOK_LOG", default_value = "warn")]
    pub log_level: String,
    /// A query file to run at startup (repeatable); runs after the files in --queries-dir.
    #[arg(long = "queries-file", global = true)]
    pub queries_files: Vec<PathBuf>,
    /// Directory whose *.sql files run at startup, in name order.
    #[arg(long, global = true, default_value = "queries")]
    pub queries_dir: PathBuf,
    /// Run the startup query files and keep the queries running, without the shell.
    #[arg(long, global = true)]
    pub headless: bool,
    /// Address of the HTTP API (ksqlDB's REST API, HTTP/1.1 and h2c), served by `brook` and
    /// `brook server`; 'off' serves none.
    #[arg(
        long,
        global = true,
        env = "BROOK_LISTEN",
        default_value = "127.0.0.1:8088"
    )]
    pub listen: String,
    /// Push queries the HTTP API runs at once (ksqlDB's ksql.max.push.queries).
    #[arg(long, global = true, default_value_t = 100)]
    pub max_push_queries: usize,
    /// Seconds an HTTP/1.1 client has to send a request's headers before it is disconnected.
    #[arg(long, global = true, default_value_t = 30, value_name = "SECONDS",
        value_parser = clap::value_parser!(u64).range(1..=604_800))]
    pub header_read_timeout: u64,
    /// Seconds an HTTP client has to send a request's whole body (for /inserts-stream, its
    /// first line) before it gets a 408 and is disconnected.
    #[arg(long, global = true, default_value_t = 30, value_name = "SECONDS",
        value_parser = clap::value_parser!(u64).range(1..=604_800))]
    pub body_read_timeout: u64,
    /// Seconds an HTTP connection may sit with no request in flight before it is closed (an
    /// open push query is in flight, however quiet).
    #[arg(long, global = true, default_value_t = 600, value_name = "SECONDS",
        value_parser = clap::value_parser!(u64).range(1..=604_800))]
    pub idle_timeout: u64,
    /// HTTP connections open at once; more wait to be accepted.
    #[arg(long, global = true, default_value_t = 4096,
        value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_connections: u64,
    /// Address of the Kafka-protocol listener on the embedded log (Kafka clients produce and
    /// consume there), served by `brook` and `brook server`; 'off' serves none.
    #[arg(
        long,
        global = true,
        env = "BROOK_KAFKA_LISTEN",
        default_value = "127.0.0.1:9092"
    )]
    pub kafka_listen: String,
    /// The host:port Kafka clients are told to connect to (Metadata), when it is not the
    /// address they connected to (behind NAT or a container's port mapping).
    #[arg(
        long,
        global = true,
        env = "BROOK_KAFKA_ADVERTISED",
        value_name = "HOST:PORT"
    )]
    pub kafka_advertised: Option<String>,
    /// Let Kafka clients create a topic by asking for its metadata (Kafka's
    /// auto.create.topics.enable); off, so that a typo in a producer's topic is an error.
    #[arg(long, global = true, env = "BROOK_KAFKA_AUTO_CREATE_TOPICS")]
    pub kafka_auto_create_topics: bool,
    /// Run on a Kafka cluster instead of the embedded log (host:port[,host:port...]): topics,
    /// the catalog (a command topic), offsets and state changelogs live in Kafka, and servers
    /// with the same --service-id share the catalog and split the queries' work (docs/kafka.md).
    #[arg(
        long,
        global = true,
        env = "BROOK_BOOTSTRAP_SERVERS",
        value_name = "HOST:PORT"
    )]
    pub bootstrap_servers: Option<String>,
    /// On Kafka, what servers sharing the work have in common (ksqlDB's ksql.service.id): it
    /// names the command topic (_confluent-ksql-<id>_command_topic) and the queries' consumer
    /// groups and internal topics (_confluent-ksql-<id>query_<query id>...).
    #[arg(long, global = true, env = "BROOK_SERVICE_ID", default_value = brook::engine::DEFAULT_SERVICE_ID)]
    pub service_id: String,
    /// On Kafka, a librdkafka setting for every client Brook makes, KEY=VALUE (repeatable):
    /// security (security.protocol, sasl.*, ssl.*), session.timeout.ms (how soon a stopped
    /// server's partitions move), and so on.
    #[arg(long = "kafka-config", global = true, value_name = "KEY=VALUE")]
    pub kafka_config: Vec<String>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create, list, describe, verify and delete topics of the embedded log (through a running
    /// server's Kafka listener when it owns the data directory), or of the Kafka cluster of
    /// --bootstrap-servers.
    #[command(subcommand)]
    Topic(topic::TopicCommand),
    /// Append one record per line of standard input to a topic.
    Produce(produce::ProduceArgs),
    /// Print records of a topic.
    Consume(consume::ConsumeArgs),
    /// Run ksqlDB query-validation test files (conformance) and report per case and in total.
    Qtt(qtt::QttArgs),
    /// The SQL shell alone (no startup query files, no HTTP API), or with --server the shell
    /// of a running server, over its HTTP API.
    Shell {
        /// A server's HTTP API, e.g. http://127.0.0.1:8088: statements run there.
        #[arg(long)]
        server: Option<String>,
    },
    /// The engine, the HTTP API and the Kafka protocol without the shell (what a service manager
    /// runs): runs the startup query files, then serves until Ctrl-C or SIGTERM.
    Server,
    /// Execute a SQL file and exit; non-persistent statements print their results.
    Run { file: PathBuf },
    /// Measure a query: a stateless filter+projection on one core (default), a windowed aggregation with RocksDB state (--query windowed), a stream-table and a stream-stream join (--query join), push queries over the HTTP API (--query push), or produce and fetch through the Kafka listener against the test broker (--query kafka).
    Bench(bench::BenchArgs),
}

pub fn init_tracing(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    if let Some(Command::Qtt(args)) = cli.command {
        return qtt::run(args);
    }
    if let Some(Command::Bench(args)) = &cli.command {
        return bench::run(args, &cli);
    }
    // The shell of a remote server opens no log of its own.
    if let Some(Command::Shell {
        server: Some(url), ..
    }) = &cli.command
    {
        let history = std::env::var_os("HOME")
            .map(|h| std::path::PathBuf::from(h).join(".brook_remote_history"));
        return brook::repl::run_remote(url, brook::repl::ReplOptions { history })
            .with_context(|| format!("the shell of {url}"));
    }
    // The log commands work on a data directory a running server owns, through its listener.
    if matches!(
        cli.command,
        Some(Command::Topic(_) | Command::Produce(_) | Command::Consume(_))
    ) {
        let target = remote::open(&cli)?;
        let result = match cli.command {
            Some(Command::Topic(cmd)) => topic::run(&target, cmd),
            Some(Command::Produce(args)) => produce::run(target.transport(), args),
            Some(Command::Consume(args)) => consume::run(target.transport(), args),
            _ => Ok(()),
        };
        return result.and(target.close());
    }
    let backend = backend::Backend::open(&cli)?;
    let result = match cli.command {
        Some(Command::Topic(_) | Command::Produce(_) | Command::Consume(_)) => Ok(()),
        Some(Command::Qtt(_) | Command::Bench(_)) => Ok(()),
        Some(Command::Shell { server: None }) => start::shell(&backend),
        Some(Command::Shell { server: Some(_) }) => Ok(()),
        Some(Command::Server) => start::server(&backend, &cli),
        Some(Command::Run { ref file }) => start::run_file(&backend, file),
        None => start::start(&backend, &cli),
    };
    result.and(backend.close())
}

pub(crate) fn open_log(cli: &Cli) -> anyhow::Result<EmbeddedLog> {
    let config = LogConfig {
        flush: cli.flush,
        ..LogConfig::default()
    };
    EmbeddedLog::open(&cli.data_dir, config)
        .with_context(|| format!("opening the log in {}", cli.data_dir.display()))
}

/// True when the error is a closed stdout (`brook consume | head`), which is not a failure.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
