//! What the crash tests of queries share (`aggregation_crash.rs`, `join_crash.rs`): the cycles
//! that start this test binary as a child running one ignored test, kill it with SIGKILL after
//! a random delay and reap it, deleting its state directory before some restarts; and the
//! comparison of a killed run's output records with an uninterrupted run's.

use brook::transport::Record;
use std::ops::Range;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// How a crash test kills its child, cycle after cycle.
pub struct KillCycles<'a> {
    /// The ignored test the child runs (`join_crash::crash_child_joiner`).
    pub child_test: &'a str,
    /// The environment variable that hands the child `dir`.
    pub child_env: &'a str,
    /// The directory the child runs the queries in (its log, and its state in `state/`).
    pub dir: &'a Path,
    pub cycles: usize,
    /// The state directory is deleted before every `state_lost_every`th cycle (cycles
    /// `n - 1`, `2n - 1`, ...).
    pub state_lost_every: usize,
    /// Each cycle's delay before the kill, in ms: drawn from this range with
    /// `log_crash::xorshift`, seeded with `seed`, so the schedule is reproducible.
    pub delay_ms: Range<u64>,
    pub seed: u64,
}

impl KillCycles<'_> {
    /// Runs the cycles: the state deleted when it is the cycle's turn, the child started,
    /// killed after the cycle's delay and reaped, then `after_kill(cycle, delay_ms)`.
    pub fn run(&self, mut after_kill: impl FnMut(usize, u64)) {
        let mut rng = self.seed;
        for cycle in 0..self.cycles {
            if cycle % self.state_lost_every == self.state_lost_every - 1 {
                let _ = std::fs::remove_dir_all(self.dir.join("state"));
            }
            let mut child = self.start_child();
            let spread = self.delay_ms.end - self.delay_ms.start;
            let delay = self.delay_ms.start + crate::log_crash::xorshift(&mut rng) % spread;
            std::thread::sleep(Duration::from_millis(delay));
            child.kill().expect("SIGKILL");
            child.wait().expect("reap");
            after_kill(cycle, delay);
        }
    }

    /// This test binary, running the child's test over `dir`.
    fn start_child(&self) -> Child {
        Command::new(std::env::current_exe().expect("exe"))
            .args([
                "--exact",
                self.child_test,
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(self.child_env, self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn child")
    }
}

/// Whether a killed run's output record is the uninterrupted run's: offset, timestamp, key
/// and value.
pub fn same_record(a: &Record, b: &Record) -> bool {
    (a.offset, a.timestamp, &a.key, &a.value) == (b.offset, b.timestamp, &b.key, &b.value)
}

/// Fails unless `got`, a killed run's records of `what`, are the first records of `reference`,
/// an uninterrupted run's, each compared with `same`.
pub fn check_prefix<T: std::fmt::Debug>(
    what: &str,
    (got, reference): (&[T], &[T]),
    cycle: usize,
    same: impl Fn(&T, &T) -> bool,
) {
    assert!(
        got.len() <= reference.len(),
        "cycle {cycle}: {what} has {} records, more than the uninterrupted run's {}",
        got.len(),
        reference.len()
    );
    if let Some(i) = (0..got.len()).find(|&i| !same(&got[i], &reference[i])) {
        panic!(
            "cycle {cycle}: {what} record {i} is {:?}, the uninterrupted run wrote {:?}",
            got[i], reference[i]
        );
    }
}

/// `n` orders 1 ms apart with up to 4 s of disorder (so a few fall behind a 2 s grace period),
/// of `customers` customers, from a fixed seed: the input of the aggregation crash tests.
pub fn orders(n: usize, customers: u64) -> Vec<brook::transport::ProducerRecord> {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    (0..n)
        .map(|i| {
            let r = crate::log_crash::xorshift(&mut state);
            let customer = r % customers;
            let amount = (r >> 20) % 100;
            let jitter = ((r >> 40) % 4_000) as i64;
            let value = format!(r#"{{"customer": "c{customer}", "amount": {amount}}}"#);
            brook::transport::ProducerRecord::new(Some(format!("o{i}")), Some(value))
                .with_timestamp(1_000_000 + i as i64 - jitter)
        })
        .collect()
}
