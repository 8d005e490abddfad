//! Helpers shared by the end-to-end tests.

use brook::log::{EmbeddedLog, FlushPolicy, LogConfig};
use brook::transport::{ProducerRecord, Record, TopicPartition, Transport};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub fn config(flush: FlushPolicy) -> LogConfig {
    LogConfig {
        flush,
        index_interval_bytes: 256,
        maintenance_interval: Duration::from_secs(3600),
        ..LogConfig::default()
    }
}

pub fn open(dir: &Path) -> EmbeddedLog {
    EmbeddedLog::open(dir, config(FlushPolicy::Never)).expect("open log")
}

/// Appends each value as its own batch (one flush per record) to partition 0.
pub fn append_each(log: &EmbeddedLog, topic: &str, values: &[String]) {
    let mut p = log.producer().expect("producer");
    for v in values {
        p.send(
            topic,
            Some(0),
            ProducerRecord::new(Some(v.clone()), Some(v.clone())).with_timestamp(1_000),
        )
        .expect("send");
        p.flush().expect("flush");
    }
}

/// Reads every record of one partition from its start offset.
pub fn read_all(log: &EmbeddedLog, topic: &str, partition: u32) -> Vec<Record> {
    read_all_from(log, topic, partition)
}

/// `read_all` through any transport (on Kafka, records arrive over the network: it waits for
/// them, up to 30 s without progress).
pub fn read_all_from(log: &dyn Transport, topic: &str, partition: u32) -> Vec<Record> {
    let tp = TopicPartition::new(topic, partition);
    let mut out = Vec::new();
    brook::transport::read_to_end(
        log,
        &tp,
        brook::transport::StartFrom::Earliest,
        Duration::from_secs(30),
        |record| {
            out.push(record.clone());
            Ok(())
        },
    )
    .unwrap_or_else(|e| panic!("reading {topic}-{partition}: {e}"));
    out
}

pub fn values(records: &[Record]) -> Vec<String> {
    records
        .iter()
        .map(|r| String::from_utf8_lossy(r.value.as_deref().unwrap_or_default()).into_owned())
        .collect()
}

pub fn partition_dir(data: &Path, topic: &str, partition: u32) -> PathBuf {
    data.join("topics").join(topic).join(partition.to_string())
}

/// Segment log files of a partition, oldest first.
pub fn segment_files(data: &Path, topic: &str, partition: u32) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(partition_dir(data, topic, partition))
        .expect("read partition dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    files.sort();
    files
}

/// Makes the next open treat the log as crashed.
pub fn forget_clean_shutdown(data: &Path) {
    let _ = std::fs::remove_file(data.join("clean-shutdown"));
}

/// Copies a directory tree (to replay one crash state many times).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else if entry.file_name() != "LOCK" {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

pub fn numbered(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("value-{i:04}")).collect()
}

/// Steps a push query 20 times (reporting to `errors`) and returns the rows it produced.
pub fn push_rows(
    q: &mut brook::engine::results::PushQuery,
    errors: &mut brook::exec::MemoryProcessingLog,
) -> Vec<brook::engine::push_rows::PushRow> {
    for _ in 0..20 {
        q.query
            .step(100, Duration::from_millis(10), errors)
            .expect("step");
    }
    q.rows.lock().expect("rows").clone()
}

/// Appends (key, value, timestamp) records to partition 0 of `topic`.
pub fn send_rows(log: &dyn Transport, topic: &str, rows: &[(&str, Option<&str>, i64)]) {
    let mut p = log.producer().expect("producer");
    for (key, value, ts) in rows {
        let record = ProducerRecord::new(
            Some(key.as_bytes().to_vec()),
            value.map(|v| v.as_bytes().to_vec()),
        )
        .with_timestamp(*ts);
        p.send(topic, Some(0), record).expect("send");
    }
    p.flush().expect("flush");
}

/// (key, value) of each output record as text.
pub fn changes(records: &[Record]) -> Vec<(String, Option<String>)> {
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    records
        .iter()
        .map(|r| {
            (
                text(r.key.as_deref().unwrap_or_default()),
                r.value.as_deref().map(text),
            )
        })
        .collect()
}

pub fn pair(k: &str, v: Option<&str>) -> (String, Option<String>) {
    (k.to_string(), v.map(str::to_string))
}

/// Serves `engine` over the HTTP API on a free loopback port, ready for requests.
pub fn serve(
    engine: std::sync::Arc<std::sync::Mutex<brook::engine::Engine>>,
) -> brook::http::Server {
    let config = brook::http::HttpConfig {
        listen: "127.0.0.1:0".parse().expect("addr"),
        ..brook::http::HttpConfig::default()
    };
    let server = brook::http::start(engine, config).expect("start");
    server.set_ready();
    server
}
