//! `brook bench --query kafka`: produce and fetch throughput through Brook's Kafka listener
//! with librdkafka (the rdkafka crate), against a peer broker on the same machine in the same
//! run: the Kafka-protocol test broker (`--peer-broker-script`, by default
//! `../shared/tools/kafka-broker`, Tansu with in-memory storage), or any broker already running
//! (`--peer-bootstrap`). Runs alternate between the two, each into a fresh one-partition topic:
//! `--records` records of `--value-bytes` produced with acks=all and flushed (produce), then read
//! from offset 0 to the end by an assigned consumer (fetch). Medians are printed, and as the
//! fetch bound, the speed of reading Brook's segment file itself (page cache, warm).

use super::BenchArgs;
use anyhow::{Context, bail, ensure};
use brook::kafka_wire::{self, KafkaConfig};
use brook::log::EmbeddedLog;
use brook::transport::{TopicConfig, Transport};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// One target broker and its measured runs (seconds).
struct Target {
    name: &'static str,
    bootstrap: String,
    produce: Vec<f64>,
    fetch: Vec<f64>,
}

pub fn bench_on(args: &BenchArgs, log: &EmbeddedLog, dir: &Path) -> anyhow::Result<()> {
    ensure!(args.runs > 0, "--runs must be at least 1");
    let config = KafkaConfig {
        listen: "127.0.0.1:0".parse().context("address")?,
        ..KafkaConfig::default()
    };
    let server = kafka_wire::start(log.clone(), config).context("starting the listener")?;
    let peer = Peer::start(args)?;
    let mut targets = vec![Target {
        name: "brook",
        bootstrap: server.local_addr.to_string(),
        produce: vec![],
        fetch: vec![],
    }];
    if let Some(bootstrap) = &peer.bootstrap {
        targets.push(Target {
            name: "peer",
            bootstrap: bootstrap.clone(),
            produce: vec![],
            fetch: vec![],
        });
    }
    let value = vec![b'x'; args.value_bytes];
    for run in 0..args.runs {
        for target in &mut targets {
            let topic = format!("bench_kafka_{run}");
            create_topic(log, target, &topic)?;
            let name = target.name;
            let produced = produce(&target.bootstrap, &topic, args.records, &value)
                .with_context(|| format!("producing to {name}"))?;
            let fetched = fetch(&target.bootstrap, &topic, args.records, &value)
                .with_context(|| format!("fetching from {name}"))?;
            target.produce.push(produced);
            target.fetch.push(fetched);
        }
    }
    let megabytes = (args.records * args.value_bytes) as f64 / 1e6;
    println!(
        "kafka: {} records of {} bytes per run, {} runs, medians",
        args.records, args.value_bytes, args.runs
    );
    for target in &targets {
        for (phase, runs) in [("produce", &target.produce), ("fetch", &target.fetch)] {
            let seconds = median(runs);
            println!(
                "kafka {phase} {} {} {seconds:.3} s {:.0} records/s {:.1} MB/s",
                target.name,
                args.records,
                args.records as f64 / seconds,
                megabytes / seconds
            );
        }
    }
    if let [brook, peer] = &targets[..] {
        println!(
            "kafka brook/peer throughput: produce {:.2}x, fetch {:.2}x",
            median(&peer.produce) / median(&brook.produce),
            median(&peer.fetch) / median(&brook.fetch)
        );
    } else {
        println!("kafka peer: not measured ({})", peer.why_not);
    }
    let read = read_speed(dir)?;
    println!("kafka segment file read (the fetch bound): {read:.1} MB/s");
    server.stop();
    Ok(())
}

fn median(runs: &[f64]) -> f64 {
    let mut sorted = runs.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

/// A topic on the target: through the log for Brook, through the admin API for the peer.
fn create_topic(log: &EmbeddedLog, target: &Target, topic: &str) -> anyhow::Result<()> {
    if target.name == "brook" {
        return Ok(log.create_topic(topic, &TopicConfig::with_partitions(1))?);
    }
    let peer = brook::kafka::KafkaTransport::connect(&target.bootstrap)
        .with_context(|| format!("reaching the peer broker at {}", target.bootstrap))?;
    Ok(peer.create_topic(topic, &TopicConfig::with_partitions(1))?)
}

/// Seconds to produce `records` and have them all acknowledged.
fn produce(bootstrap: &str, topic: &str, records: usize, value: &[u8]) -> anyhow::Result<f64> {
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("acks", "all")
        .set("linger.ms", "5")
        .set("batch.size", "1000000")
        .set("queue.buffering.max.messages", "1000000")
        .create()
        .context("creating the producer")?;
    let started = Instant::now();
    for i in 0..records {
        let key = (i as u64).to_be_bytes();
        loop {
            let record = BaseRecord::to(topic)
                .partition(0)
                .key(&key[..])
                .payload(value);
            match producer.send(record) {
                Ok(()) => break,
                Err((e, _))
                    if e.rdkafka_error_code()
                        == Some(rdkafka::types::RDKafkaErrorCode::QueueFull) =>
                {
                    producer.poll(Duration::from_millis(1));
                }
                Err((e, _)) => bail!("producing to {bootstrap}: {e}"),
            }
        }
        if i % 1000 == 0 {
            producer.poll(Duration::ZERO);
        }
    }
    producer
        .flush(Duration::from_secs(120))
        .context("flushing")?;
    // Every record is read back by the fetch phase, which checks the count.
    Ok(started.elapsed().as_secs_f64())
}

/// Seconds to read `records` from offset 0, each checked: key `i` at offset `i`, value as sent.
fn fetch(bootstrap: &str, topic: &str, records: usize, value: &[u8]) -> anyhow::Result<f64> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", format!("bench-{}", fastrand::u32(..)))
        .set("enable.auto.commit", "false")
        // Fetch sizes stay librdkafka's; its local queue may hold the whole run, so that it
        // never pauses fetching for `fetch.queue.backoff.ms` (1 s) while the loop catches up.
        .set("queued.min.messages", "10000000")
        .set("queued.max.messages.kbytes", "2097151")
        .create()
        .context("creating the consumer")?;
    let mut list = TopicPartitionList::new();
    list.add_partition_offset(topic, 0, Offset::Beginning)?;
    consumer.assign(&list)?;
    let started = Instant::now();
    let mut read = 0usize;
    let deadline = started + Duration::from_secs(600);
    while read < records {
        ensure!(
            Instant::now() < deadline,
            "{bootstrap}: read {read} of {records} records in 600 s"
        );
        if let Some(message) = consumer.poll(Duration::from_millis(500)) {
            let message = message.with_context(|| format!("fetching from {bootstrap}"))?;
            let key = (read as u64).to_be_bytes();
            ensure!(
                message.key() == Some(&key[..]) && message.payload() == Some(value),
                "record {read} (offset {}) is not the one produced",
                message.offset()
            );
            read += 1;
        }
    }
    Ok(started.elapsed().as_secs_f64())
}

/// MB/s of reading the benchmark log's segment files (already in the page cache).
fn read_speed(dir: &Path) -> anyhow::Result<f64> {
    let mut files = Vec::new();
    collect_logs(&dir.join("topics"), &mut files);
    let started = Instant::now();
    let mut total = 0usize;
    for file in &files {
        total += std::fs::read(file)?.len();
    }
    Ok(total as f64 / 1e6 / started.elapsed().as_secs_f64().max(1e-9))
}

fn collect_logs(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_logs(&path, out);
        } else if path.extension().is_some_and(|e| e == "log") {
            out.push(path);
        }
    }
}

/// The peer broker: started by the script (and stopped when dropped), or given.
struct Peer {
    bootstrap: Option<String>,
    why_not: String,
    started: Option<(String, u16)>,
}

impl Peer {
    fn start(args: &BenchArgs) -> anyhow::Result<Peer> {
        if let Some(bootstrap) = &args.peer_bootstrap {
            return Ok(Peer {
                bootstrap: Some(bootstrap.clone()),
                why_not: String::new(),
                started: None,
            });
        }
        let script = &args.peer_broker_script;
        if !Path::new(script).exists() {
            return Ok(Peer {
                bootstrap: None,
                why_not: format!("{script} not found; --peer-bootstrap names a running broker"),
                started: None,
            });
        }
        let port = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0")?;
            probe.local_addr()?.port()
        };
        let out = Command::new(script)
            .args(["start", &port.to_string()])
            .output()
            .with_context(|| format!("running {script} start"))?;
        ensure!(
            out.status.success(),
            "{script} start failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(Peer {
            bootstrap: Some(String::from_utf8_lossy(&out.stdout).trim().to_string()),
            why_not: String::new(),
            started: Some((script.clone(), port)),
        })
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        if let Some((script, port)) = &self.started {
            let _ = Command::new(script)
                .args(["stop", &port.to_string()])
                .status();
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_median_is_the_middle_run() {
        assert_eq!(super::median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(super::median(&[5.0]), 5.0);
    }
}
