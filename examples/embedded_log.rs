//! Using the embedded log as a library: create a topic, produce keyed records, consume them in a
//! consumer group, and commit output plus offsets in one transaction.
//! Run: `cargo run --example embedded_log`.

use brook::log::{EmbeddedLog, LogConfig};
use brook::transport::{
    AutoOffsetReset, GroupMetadata, ProducerRecord, StartFrom, TopicConfig, TopicPartition,
    Transport,
};
use std::time::Duration;

fn main() -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("brook-example-{}", std::process::id()));
    let log = EmbeddedLog::open(&dir, LogConfig::default())?;
    log.create_topic("orders", &TopicConfig::with_partitions(2))?;
    log.create_topic("big_orders", &TopicConfig::with_partitions(1))?;

    let mut producer = log.producer()?;
    for (id, amount) in [("o1", 5), ("o2", 120), ("o3", 300)] {
        let value = format!(r#"{{"id":"{id}","amount":{amount}}}"#);
        producer.send("orders", None, ProducerRecord::new(Some(id), Some(value)))?;
    }
    producer.flush()?;

    let mut consumer = log.consumer(Some("filter-app"))?;
    let committed = StartFrom::Committed {
        fallback: AutoOffsetReset::Earliest,
    };
    consumer.assign(&[
        (TopicPartition::new("orders", 0), committed),
        (TopicPartition::new("orders", 1), committed),
    ])?;
    let mut txn = log.transactional_producer("filter-app")?;
    txn.begin_transaction()?;
    let mut positions = Vec::new();
    for batch in consumer.poll(100, Duration::from_millis(100))? {
        for record in &batch.records {
            let value: serde_json::Value =
                serde_json::from_slice(record.value.as_deref().unwrap_or(b"null"))?;
            if value["amount"].as_i64().unwrap_or(0) > 100 {
                txn.send(
                    "big_orders",
                    None,
                    ProducerRecord::new(record.key.clone(), record.value.clone()),
                )?;
            }
        }
        let tp = TopicPartition::new(batch.topic.as_ref(), batch.partition);
        positions.push((tp.clone(), consumer.position(&tp).unwrap_or_default()));
    }
    txn.send_offsets_to_transaction(&GroupMetadata::named("filter-app"), &positions)?;
    txn.commit_transaction()?;

    println!(
        "big_orders now holds {} records",
        log.describe_topic("big_orders")?.partitions[0].end_offset
    );
    log.close()?;
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
