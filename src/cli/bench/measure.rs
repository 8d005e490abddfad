//! What the benchmarks measure and print: wall-clock and CPU time of a phase, record counts
//! of topics and changelogs, a topic's records, the size of a directory, and number formatting.

use brook::log::{EmbeddedLog, FlushPolicy};
use brook::transport::{Record, StartFrom, TopicPartition, Transport};
use std::path::Path;
use std::time::{Duration, Instant};

/// Records in a topic, counted by reading them (transaction markers take offsets too, when the
/// query ran on Kafka).
pub fn topic_records(log: &EmbeddedLog, topic: &str) -> anyhow::Result<usize> {
    let mut total = 0;
    for p in 0..log.partition_count(topic)? {
        let tp = TopicPartition::new(topic, p);
        let stall = Duration::from_secs(30);
        brook::transport::read_to_end(log, &tp, StartFrom::Earliest, stall, |_| {
            total += 1;
            Ok(())
        })?;
    }
    Ok(total)
}

/// Records in the changelog topics whose name contains `containing`.
pub fn changelog_records(log: &EmbeddedLog, containing: &str) -> anyhow::Result<usize> {
    let mut total = 0;
    for topic in log.list_topics()? {
        if topic.ends_with("-changelog") && topic.contains(containing) {
            total += topic_records(log, &topic)?;
        }
    }
    Ok(total)
}

/// Calls `f` with every record of partition 0 of `topic`, in offset order.
pub fn for_each_record(
    log: &EmbeddedLog,
    topic: &str,
    mut f: impl FnMut(&Record) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut consumer = log.consumer(None)?;
    consumer.assign(&[(TopicPartition::new(topic, 0), StartFrom::Earliest)])?;
    loop {
        let polled = consumer.poll(100_000, Duration::from_millis(200))?;
        if polled.is_empty() {
            return Ok(());
        }
        for record in polled.iter().flat_map(|p| &p.records) {
            f(record)?;
        }
    }
}

/// Bytes of the files under `dir`.
pub fn dir_size(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len() as usize,
            Err(_) => 0,
        })
        .sum()
}

/// Wall-clock and CPU time of one phase.
pub struct Phase {
    wall: Duration,
    cpu: Option<(Cpu, Cpu)>,
}

impl Phase {
    pub fn measure(f: impl FnOnce() -> anyhow::Result<()>) -> anyhow::Result<Phase> {
        let cpu_before = Cpu::now();
        let start = Instant::now();
        f()?;
        let wall = start.elapsed();
        Ok(Phase {
            wall,
            cpu: cpu_before.zip(Cpu::now()),
        })
    }

    pub fn seconds(&self) -> f64 {
        self.wall.as_secs_f64().max(1e-9)
    }

    pub fn per_second(&self, n: usize) -> f64 {
        n as f64 / self.seconds()
    }

    pub fn cpu_summary(&self) -> String {
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

pub fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// 1234567 → "1,234,567".
pub fn thousands(n: usize) -> String {
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

/// The first lines of a benchmark's report: what runs, where, with which flush policy.
pub fn print_header(
    out: &mut dyn std::io::Write,
    title: &str,
    dir: &std::path::Path,
    flush: FlushPolicy,
    query: &str,
) -> std::io::Result<()> {
    writeln!(out, "brook bench: {title}")?;
    writeln!(out, "  log directory   {}", dir.display())?;
    writeln!(out, "  flush policy    {}", flush_name(flush))?;
    writeln!(out, "  query           {query}")
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
}
