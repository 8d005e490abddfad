//! Append and fetch throughput of the embedded log for 100-byte records (records/s and MB/s),
//! with and without fsync. Run: `cargo bench --bench log`.

use brook::log::{EmbeddedLog, FlushPolicy, LogConfig};
use brook::transport::{ProducerRecord, StartFrom, TopicConfig, TopicPartition, Transport};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use std::time::Duration;

const RECORD_BYTES: usize = 100;

fn open(dir: &std::path::Path, flush: FlushPolicy) -> EmbeddedLog {
    let log = EmbeddedLog::open(
        dir,
        LogConfig {
            flush,
            ..LogConfig::default()
        },
    )
    .expect("open");
    log.create_topic(
        "bench",
        &TopicConfig {
            retention_ms: None,
            ..TopicConfig::with_partitions(1)
        },
    )
    .expect("create");
    log
}

fn records(n: usize) -> Vec<ProducerRecord> {
    (0..n)
        .map(|i| {
            ProducerRecord::new(
                Some(format!("key-{:06}", i % 100_000)),
                Some(vec![b'x'; RECORD_BYTES]),
            )
            .with_timestamp(i as i64)
        })
        .collect()
}

/// Appends `batch`-record batches, each acknowledged (flushed) before the next.
fn bench_append(c: &mut Criterion, name: &str, flush: FlushPolicy, batch: usize) {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = open(dir.path(), flush);
    let mut producer = log.producer().expect("producer");
    let input = records(batch);
    for (unit, throughput) in units(batch) {
        let mut group = c.benchmark_group(format!("append_{unit}"));
        group.throughput(throughput);
        group.bench_function(name, |b| {
            b.iter_batched(
                || input.clone(),
                |recs| {
                    for r in recs {
                        producer.send("bench", Some(0), r).expect("send");
                    }
                    producer.flush().expect("flush")
                },
                BatchSize::LargeInput,
            )
        });
        group.finish();
    }
    log.close().expect("close");
}

fn bench_fetch(c: &mut Criterion) {
    const N: usize = 500_000;
    let dir = tempfile::tempdir().expect("tempdir");
    let log = open(dir.path(), FlushPolicy::Never);
    let mut producer = log.producer().expect("producer");
    for chunk in records(N).chunks(1000) {
        for r in chunk {
            producer.send("bench", Some(0), r.clone()).expect("send");
        }
        producer.flush().expect("flush");
    }
    let mut consumer = log.consumer(None).expect("consumer");
    let tp = TopicPartition::new("bench", 0);
    for (unit, throughput) in units(N) {
        let mut group = c.benchmark_group(format!("fetch_{unit}"));
        group.throughput(throughput);
        group.sample_size(10);
        group.bench_function("500k_records_from_start", |b| {
            b.iter(|| {
                consumer
                    .assign(&[(tp.clone(), StartFrom::Earliest)])
                    .expect("assign");
                let mut read = 0;
                while read < N {
                    read += consumer
                        .poll(100_000, Duration::ZERO)
                        .expect("poll")
                        .iter()
                        .map(|p| p.records.len())
                        .sum::<usize>();
                }
                read
            })
        });
        group.finish();
    }
}

/// Each case is reported twice: records/s and payload bytes/s.
fn units(records: usize) -> [(&'static str, Throughput); 2] {
    [
        ("records", Throughput::Elements(records as u64)),
        ("bytes", Throughput::Bytes((records * RECORD_BYTES) as u64)),
    ]
}

fn benches(c: &mut Criterion) {
    bench_append(c, "batch_1000_no_fsync", FlushPolicy::Never, 1000);
    bench_append(
        c,
        "batch_1000_fsync_each_append",
        FlushPolicy::EveryAppend,
        1000,
    );
    bench_append(c, "single_record_no_fsync", FlushPolicy::Never, 1);
    bench_append(
        c,
        "single_record_fsync_each_append",
        FlushPolicy::EveryAppend,
        1,
    );
    bench_fetch(c);
}

criterion_group! {
    name = log;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = benches
}
criterion_main!(log);
