//! The demo's data generator: feeds the seed pipeline of `queries/01-orders.sql` through
//! Brook's HTTP API. It waits for the server to be ready, inserts a fixed set of customers
//! (some PREMIUM) into `CUSTOMERS_TABLE`, then a steady flow of random orders (about one in
//! five above 1,000) into `ORDERS_STREAM`, every row acknowledged by `/inserts-stream`.
//!
//! Run it beside a running Brook (`scripts/start` starts both):
//! `cargo run --release --example orders_generator -- --rate 5`. Ctrl-C (SIGINT) stops it
//! after the request in flight, as `--count` does; either way it says what it sent.

mod api;
mod data;
#[cfg(test)]
mod tests;

use api::{Api, ApiError};
use clap::Parser;
use data::{CUSTOMERS, Orders, customer_row};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Feeds Brook's demo pipeline (queries/01-orders.sql) with customers and a steady flow of
/// orders over the HTTP API.
#[derive(Parser, Debug, Clone)]
#[command(name = "orders_generator")]
pub struct Args {
    /// Brook's HTTP API.
    #[arg(long, env = "BROOK_URL", default_value = "http://127.0.0.1:8088")]
    pub server: String,
    /// Orders per second (up to 100000).
    #[arg(long, default_value_t = 5.0, value_parser = parse_rate)]
    pub rate: f64,
    /// Stop after this many orders (default: until Ctrl-C).
    #[arg(long)]
    pub count: Option<u64>,
    /// Seconds to wait for the server to be ready.
    #[arg(long, default_value_t = 120)]
    pub wait: u64,
    /// Seed of the random orders (default: from the clock).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Seconds between progress lines (0: none).
    #[arg(long, default_value_t = 10)]
    pub progress: u64,
}

fn parse_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(r) if r > 0.0 && r <= 100_000.0 => Ok(r),
        _ => Err(format!(
            "{text}: not a number of orders per second in (0, 100000]"
        )),
    }
}

/// Orders in one request at most.
const MAX_BATCH: u64 = 1_000;

/// What a run sent.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Summary {
    pub customers: usize,
    pub orders: u64,
    /// Orders whose total is above 1,000.
    pub large: u64,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "sent {} customers and {} orders ({} above 1,000)",
            self.customers, self.orders, self.large
        )
    }
}

/// How many orders are due `elapsed` after the start at `rate` per second: the first at
/// once, then one every 1/rate seconds, never more than `count`.
pub fn due(elapsed: Duration, rate: f64, count: Option<u64>) -> u64 {
    let due = (elapsed.as_secs_f64() * rate).floor() as u64 + 1;
    count.map_or(due, |c| due.min(c))
}

/// Runs until `stop` is set or `--count` orders are sent; `report` gets progress lines.
pub fn run(
    args: &Args,
    stop: &AtomicBool,
    report: &mut dyn FnMut(String),
) -> Result<Summary, ApiError> {
    let api = Api::new(&args.server)?;
    let stopped = || stop.load(Ordering::SeqCst);
    let mut summary = Summary::default();
    if !api.wait_ready(Duration::from_secs(args.wait), &stopped)? {
        return Ok(summary);
    }
    let customers: Vec<_> = CUSTOMERS.iter().map(customer_row).collect();
    api.insert("CUSTOMERS_TABLE", &customers)?;
    summary.customers = customers.len();
    report(format!(
        "{}: inserted {} customers into CUSTOMERS_TABLE",
        api.url,
        customers.len()
    ));
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let seed = args.seed.unwrap_or(now.as_nanos() as u64);
    let mut orders = Orders::new(seed, base36(now.as_secs()));
    let start = Instant::now();
    let mut last_report = Instant::now();
    while !stopped() && args.count.is_none_or(|c| summary.orders < c) {
        let batch = due(start.elapsed(), args.rate, args.count).saturating_sub(summary.orders);
        if batch == 0 {
            let next = Duration::from_secs_f64(summary.orders as f64 / args.rate);
            let wait = next.saturating_sub(start.elapsed());
            std::thread::sleep(wait.min(Duration::from_millis(100)));
            continue;
        }
        let batch: Vec<_> = (0..batch.min(MAX_BATCH))
            .map(|_| orders.next_order())
            .collect();
        let rows: Vec<_> = batch.iter().map(|o| o.row()).collect();
        match insert_retrying(&api, &rows, &stopped) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(e),
        }
        summary.orders += batch.len() as u64;
        summary.large += batch.iter().filter(|o| o.total() > 1000.0).count() as u64;
        if args.progress > 0 && last_report.elapsed() >= Duration::from_secs(args.progress) {
            report(format!("{summary} so far"));
            last_report = Instant::now();
        }
    }
    Ok(summary)
}

/// Inserts orders; a server that does not answer is asked again every 200 ms for up to 5
/// seconds (a restart), unless `stopped` says to stop (`Ok(false)`: nothing inserted).
fn insert_retrying(
    api: &Api,
    rows: &[serde_json::Value],
    stopped: &dyn Fn() -> bool,
) -> Result<bool, ApiError> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match api.insert("ORDERS_STREAM", rows) {
            Ok(()) => return Ok(true),
            Err(ApiError::Unreachable { .. }) if stopped() => return Ok(false),
            Err(ApiError::Unreachable { .. }) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(200));
            }
            Err(e) => return Err(e),
        }
    }
}

/// `n` in base 36 (lower case): a short prefix that tells runs apart.
pub fn base36(mut n: u64) -> String {
    let digits = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(digits[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8_lossy(&out).into_owned()
}

fn main() -> ExitCode {
    let args = Args::parse();
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    if let Err(e) = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst)) {
        eprintln!("orders_generator: installing the Ctrl-C handler: {e}");
        return ExitCode::FAILURE;
    }
    eprintln!(
        "orders_generator: {} orders/s into {} (Ctrl-C stops)",
        args.rate, args.server
    );
    match run(&args, &stop, &mut |line| {
        eprintln!("orders_generator: {line}")
    }) {
        Ok(summary) => {
            eprintln!("orders_generator: stopped; {summary}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("orders_generator: {e}");
            ExitCode::FAILURE
        }
    }
}
