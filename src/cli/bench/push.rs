//! `brook bench --query push`: push queries over the HTTP API.
//!
//! 1. **Latency.** A server (threads mode, loopback port) and one push query on `/query-stream`
//!    read over HTTP/1.1. A producer appends `--rate` records/s for `--seconds`, each carrying
//!    its append time in microseconds; the client takes each row's latency as its arrival time
//!    minus that. Reports p50, p99 and the maximum, and checks that every row arrived.
//! 2. **Concurrency.** `--clients` push queries held open at once; one more record is appended
//!    and every client must receive it. Reports the process's resident memory before and after.

use super::BenchArgs;
use super::measure::thousands;
use anyhow::{Context, bail, ensure};
use brook::engine::{Engine, RunMode};
use brook::http::HttpConfig;
use brook::http::client::LineStream;
use brook::log::EmbeddedLog;
use brook::transport::{ProducerRecord, Transport};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const STREAM: &str = "CREATE STREAM ticks (id BIGINT KEY, sent BIGINT) WITH (kafka_topic='ticks', value_format='JSON', partitions=1);";
const QUERY: &str = r#"{"sql": "SELECT id, sent FROM ticks EMIT CHANGES;"}"#;

pub fn bench_on(args: &BenchArgs, log: &EmbeddedLog) -> anyhow::Result<()> {
    ensure!(args.rate > 0, "--rate must be at least 1");
    let engine = Engine::new(Arc::new(log.clone()), RunMode::Threads);
    let engine = Arc::new(Mutex::new(engine));
    let config = HttpConfig {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        max_push_queries: args.clients + 1,
        ..HttpConfig::default()
    };
    let server = brook::http::start(engine.clone(), config).context("starting the HTTP API")?;
    server.set_ready();
    let addr = server.local_addr;
    engine
        .lock()
        .map_err(|_| anyhow::anyhow!("engine lock poisoned"))?
        .execute_text(STREAM)?;
    println!("brook bench: push queries over the HTTP API (HTTP/1.1 on {addr}), embedded log");
    let result = latency(args, log, addr).and_then(|()| concurrency(args, log, addr));
    server.stop();
    if let Ok(mut e) = engine.lock() {
        e.shutdown();
    }
    result
}

/// One push query's rows, read from a `/query-stream` response.
struct PushClient {
    lines: LineStream,
}

impl PushClient {
    fn open(addr: SocketAddr) -> anyhow::Result<PushClient> {
        let mut lines = LineStream::open(addr, "/query-stream", QUERY)?;
        let header = lines.next_line()?.unwrap_or_default();
        ensure!(
            header.contains("columnNames"),
            "unexpected header: {header}"
        );
        Ok(PushClient { lines })
    }

    /// The next row's `(id, sent)`.
    fn next_row(&mut self) -> anyhow::Result<(i64, i64)> {
        let Some(line) = self.lines.next_line()? else {
            bail!("the stream ended");
        };
        let row: Vec<i64> = serde_json::from_str(&line).with_context(|| format!("row {line}"))?;
        match row.as_slice() {
            [id, sent] => Ok((*id, *sent)),
            _ => bail!("unexpected row {line}"),
        }
    }
}

fn now_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

/// Appends record `id` stamped with the current time.
fn append(producer: &mut Box<dyn brook::transport::Producer>, id: i64) -> anyhow::Result<()> {
    let value = format!(r#"{{"SENT": {}}}"#, now_micros());
    producer.send(
        "ticks",
        None,
        ProducerRecord {
            key: Some(bytes::Bytes::from(id.to_be_bytes().to_vec())),
            value: Some(bytes::Bytes::from(value)),
            timestamp: None,
            headers: Vec::new(),
        },
    )?;
    producer.flush()?;
    Ok(())
}

fn latency(args: &BenchArgs, log: &EmbeddedLog, addr: SocketAddr) -> anyhow::Result<()> {
    let mut client = PushClient::open(addr)?;
    let total = (args.rate as f64 * args.seconds as f64) as i64;
    let rate = args.rate as f64;
    let producer_log = log.clone();
    let producer = std::thread::spawn(move || -> anyhow::Result<()> {
        let mut producer = producer_log.producer()?;
        let start = Instant::now();
        for id in 0..total {
            let due = start + Duration::from_secs_f64(id as f64 / rate);
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            append(&mut producer, id)?;
        }
        Ok(())
    });
    let mut latencies = Vec::with_capacity(total as usize);
    for expected in 0..total {
        let (id, sent) = client.next_row()?;
        ensure!(id == expected, "row {id} arrived where {expected} was due");
        latencies.push((now_micros() - sent).max(0));
    }
    producer
        .join()
        .map_err(|_| anyhow::anyhow!("the producer thread panicked"))??;
    latencies.sort_unstable();
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize] as f64 / 1000.0;
    println!("\nlatency: append -> row received by the client, one push query");
    println!(
        "  rate            {} records/s for {} s",
        thousands(args.rate),
        args.seconds
    );
    println!(
        "  rows received   {} (all, in order)",
        thousands(latencies.len())
    );
    println!("  p50             {:.2} ms", at(0.5));
    println!("  p99             {:.2} ms", at(0.99));
    println!("  max             {:.2} ms", at(1.0));
    Ok(())
}

fn resident_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn concurrency(args: &BenchArgs, log: &EmbeddedLog, addr: SocketAddr) -> anyhow::Result<()> {
    let before = resident_kib();
    let start = Instant::now();
    let mut clients = Vec::with_capacity(args.clients);
    for _ in 0..args.clients {
        clients.push(PushClient::open(addr)?);
    }
    let opened = start.elapsed();
    let held = resident_kib();
    let mut producer = log.producer()?;
    let marker = i64::MAX;
    append(&mut producer, marker)?;
    for client in &mut clients {
        loop {
            let (id, _) = client.next_row()?;
            if id == marker {
                break;
            }
        }
    }
    let after = resident_kib();
    println!("\nconcurrency: push queries held open at once");
    println!(
        "  push queries    {} (opened in {:.2} s; each received the next row)",
        thousands(args.clients),
        opened.as_secs_f64()
    );
    println!(
        "  resident memory {:.1} MiB before, {:.1} MiB with them open, {:.1} MiB after a row to all",
        before as f64 / 1024.0,
        held as f64 / 1024.0,
        after as f64 / 1024.0
    );
    if args.clients > 0 {
        println!(
            "  per push query  {:.1} KiB",
            (after.saturating_sub(before)) as f64 / args.clients as f64
        );
    }
    Ok(())
}
