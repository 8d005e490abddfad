//! Starting the engine: `brook` (startup files, then the shell or `--headless`), `brook shell`,
//! and `brook run FILE.sql`; `brook` and `brook server` serve the HTTP API and the Kafka
//! protocol beside it.

use super::Cli;
use super::backend::Backend;
use anyhow::Context;
use brook::engine::{CommandFollower, Engine};
use brook::kafka_wire::{KafkaConfig, KafkaServer};
use brook::repl::{self, ReplOptions};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn open_engine(backend: &Backend) -> anyhow::Result<Arc<Mutex<Engine>>> {
    let engine = backend
        .engine()
        .recovered()
        .context("restoring the catalog from the command log")?;
    for warning in engine.recovery_warnings() {
        eprintln!("warning: {warning}");
    }
    Ok(Arc::new(Mutex::new(engine)))
}

/// On Kafka, applies what the service's other servers add to the shared catalog.
fn follow_commands(engine: &Arc<Mutex<Engine>>) -> anyhow::Result<Option<CommandFollower>> {
    let shared = engine.lock().map(|e| e.is_shared()).unwrap_or(false);
    if !shared {
        return Ok(None);
    }
    let follower =
        CommandFollower::start(engine.clone()).context("starting the command follower")?;
    Ok(Some(follower))
}

/// The startup files: `dir/*.sql` in name order, then each `--queries-file`.
fn startup_files(cli: &Cli) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    if cli.queries_dir.is_dir() {
        for entry in std::fs::read_dir(&cli.queries_dir)? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "sql") {
                files.push(path);
            }
        }
        files.sort();
    }
    files.extend(cli.queries_files.iter().cloned());
    Ok(files)
}

fn run_startup_files(engine: &Arc<Mutex<Engine>>, files: &[PathBuf]) -> anyhow::Result<()> {
    for file in files {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("reading query file {}", file.display()))?;
        let mut engine = engine
            .lock()
            .map_err(|_| anyhow::anyhow!("engine lock poisoned"))?;
        let results = engine
            .execute_startup_script(&text)
            .with_context(|| format!("running query file {}", file.display()))?;
        eprintln!("{}: {} statement(s)", file.display(), results.len());
    }
    Ok(())
}

/// Starts the HTTP API on `--listen` (none for 'off').
fn start_http(
    engine: &Arc<Mutex<Engine>>,
    cli: &Cli,
) -> anyhow::Result<Option<brook::http::Server>> {
    if cli.listen.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    let listen = cli.listen.parse().with_context(|| {
        format!(
            "--listen {}: not an address such as 127.0.0.1:8088",
            cli.listen
        )
    })?;
    let config = brook::http::HttpConfig {
        listen,
        max_push_queries: cli.max_push_queries,
        connections: brook::http::ConnectionLimits {
            max_connections: cli.max_connections as usize,
            header_read: Duration::from_secs(cli.header_read_timeout),
            body_read: Duration::from_secs(cli.body_read_timeout),
            idle: Duration::from_secs(cli.idle_timeout),
            ..brook::http::ConnectionLimits::default()
        },
        ..brook::http::HttpConfig::default()
    };
    let server = brook::http::start(engine.clone(), config)
        .with_context(|| format!("serving the HTTP API on {}", cli.listen))?;
    eprintln!("HTTP API on http://{}", server.local_addr);
    let mut locked = engine
        .lock()
        .map_err(|_| anyhow::anyhow!("engine lock poisoned"))?;
    if locked.is_shared() {
        // Other servers of the service ask this one for its part of pull queries.
        locked.set_peer_rows(Arc::new(brook::http::PeerClient));
        let url = format!("http://{}", server.local_addr);
        locked
            .announce(&url)
            .context("recording this server's address in the command topic")?;
    }
    drop(locked);
    Ok(Some(server))
}

/// Starts the Kafka-protocol listener on `--kafka-listen` (none for 'off', or on Kafka).
fn start_kafka(backend: &Backend, cli: &Cli) -> anyhow::Result<Option<KafkaServer>> {
    let Some(log) = backend.embedded() else {
        return Ok(None);
    };
    if cli.kafka_listen.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    let listen = cli.kafka_listen.parse().with_context(|| {
        format!(
            "--kafka-listen {}: not an address such as 127.0.0.1:9092 (or 'off')",
            cli.kafka_listen
        )
    })?;
    let advertised = match &cli.kafka_advertised {
        None => None,
        Some(text) => Some(parse_host_port(text).with_context(|| {
            format!("--kafka-advertised {text}: not a host:port such as broker.example.com:9092")
        })?),
    };
    let config = KafkaConfig {
        listen,
        advertised,
        max_connections: cli.max_connections as usize,
        idle: Duration::from_secs(cli.idle_timeout),
        auto_create_topics: cli.kafka_auto_create_topics,
        ..KafkaConfig::default()
    };
    let server = brook::kafka_wire::start(log.clone(), config).with_context(|| {
        format!(
            "serving the Kafka protocol on {} (another Brook or Kafka there? choose another \
             address with --kafka-listen, or 'off')",
            cli.kafka_listen
        )
    })?;
    eprintln!("Kafka protocol on {}", server.local_addr);
    Ok(Some(server))
}

fn parse_host_port(text: &str) -> anyhow::Result<(String, u16)> {
    let (host, port) = text
        .rsplit_once(':')
        .ok_or_else(|| anyhow::anyhow!("no ':port'"))?;
    anyhow::ensure!(!host.is_empty(), "no host");
    Ok((host.to_string(), port.parse()?))
}

/// Waits for Ctrl-C or SIGTERM (what a service manager sends).
fn wait_for_stop() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the signal handler")?;
    runtime.block_on(async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .context("installing the SIGTERM handler")?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.context("waiting for Ctrl-C"),
            _ = term.recv() => Ok(()),
        }
    })
}

pub fn start(backend: &Backend, cli: &Cli) -> anyhow::Result<()> {
    let engine = open_engine(backend)?;
    let follower = follow_commands(&engine)?;
    let http = start_http(&engine, cli)?;
    let kafka = start_kafka(backend, cli)?;
    run_startup_files(&engine, &startup_files(cli)?)?;
    if let Some(server) = &http {
        server.set_ready();
    }
    if cli.headless {
        eprintln!("Brook is running its queries (headless). Ctrl-C stops it.");
        wait_for_stop()?;
    } else {
        repl::run(
            engine.clone(),
            ReplOptions {
                history: Some(backend.data_dir().join(".brook_history")),
            },
        )?;
    }
    if let Some(server) = http {
        server.stop();
    }
    if let Some(server) = kafka {
        server.stop();
    }
    drop(follower);
    shutdown(engine)
}

/// `brook server`: the engine and the HTTP API, no shell.
pub fn server(backend: &Backend, cli: &Cli) -> anyhow::Result<()> {
    let engine = open_engine(backend)?;
    let follower = follow_commands(&engine)?;
    let Some(http) = start_http(&engine, cli)? else {
        anyhow::bail!("brook server needs an HTTP address: --listen is 'off'");
    };
    let kafka = start_kafka(backend, cli)?;
    run_startup_files(&engine, &startup_files(cli)?)?;
    http.set_ready();
    eprintln!("Brook is serving. Ctrl-C stops it.");
    wait_for_stop()?;
    http.stop();
    if let Some(server) = kafka {
        server.stop();
    }
    drop(follower);
    shutdown(engine)
}

pub fn shell(backend: &Backend) -> anyhow::Result<()> {
    let engine = open_engine(backend)?;
    let follower = follow_commands(&engine)?;
    repl::run(
        engine.clone(),
        ReplOptions {
            history: Some(backend.data_dir().join(".brook_history")),
        },
    )?;
    drop(follower);
    shutdown(engine)
}

pub fn run_file(backend: &Backend, file: &Path) -> anyhow::Result<()> {
    let engine = open_engine(backend)?;
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let ok = repl::run_text(&engine, &text);
    shutdown(engine)?;
    if !ok {
        anyhow::bail!("{} stopped at the first failing statement", file.display());
    }
    Ok(())
}

fn shutdown(engine: Arc<Mutex<Engine>>) -> anyhow::Result<()> {
    if let Ok(mut e) = engine.lock() {
        e.shutdown();
    }
    Ok(())
}
