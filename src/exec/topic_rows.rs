//! A source's rows read from its topic, for pull queries over tables that no aggregation
//! maintains (`CREATE TABLE ... AS SELECT` without GROUP BY, `CREATE SOURCE TABLE`) and over
//! streams: every partition is read from its start up to its current end (consumers see only
//! committed transactions, so a step that may still abort is never read); a table keeps the
//! last record of each key (a null value deletes it), a stream keeps every record.
//!
//! Rows come partition by partition; a table's rows by serialized key within a partition, as
//! ksqlDB's state store returns them.

use super::decode::Decoder;
use super::materialized::MaterializationError;
use super::processing_log::MemoryProcessingLog;
use crate::plan::SourceDef;
use crate::transport::{OffsetSpec, Record, StartFrom, TopicPartition, Transport};
use arrow::record_batch::RecordBatch;
use std::collections::BTreeMap;
use std::time::Duration;

/// Every current row of `source`, decoded in its batch layout (none when there are none).
pub fn read_source(
    transport: &dyn Transport,
    source: &SourceDef,
) -> Result<Option<RecordBatch>, MaterializationError> {
    let partitions = transport
        .partition_count(&source.topic)
        .map_err(rows_error)?;
    let decoder = Decoder::new(source, "pull_query");
    let mut log = MemoryProcessingLog::default();
    let mut batches = Vec::new();
    for partition in 0..partitions {
        let records = read_partition(transport, &source.topic, partition)?;
        let records = match source.is_table() {
            true => latest_per_key(records),
            false => records.into_iter().filter(|r| r.value.is_some()).collect(),
        };
        if records.is_empty() {
            continue;
        }
        let decoded = decoder
            .decode(&source.topic, partition, &records, &mut log)
            .map_err(MaterializationError::Rows)?;
        batches.extend(decoded);
    }
    if batches.is_empty() {
        return Ok(None);
    }
    arrow::compute::concat_batches(&decoder.schema(), &batches)
        .map(Some)
        .map_err(rows_error)
}

/// The records of one partition from its start to its current end.
fn read_partition(
    transport: &dyn Transport,
    topic: &str,
    partition: u32,
) -> Result<Vec<Record>, MaterializationError> {
    let tp = TopicPartition::new(topic, partition);
    let end = transport
        .list_offset(&tp, OffsetSpec::Latest)
        .map_err(rows_error)?;
    let mut consumer = transport.consumer(None).map_err(rows_error)?;
    consumer
        .assign(&[(tp.clone(), StartFrom::Earliest)])
        .map_err(rows_error)?;
    let mut records = Vec::new();
    while consumer.position(&tp).is_some_and(|p| p < end) {
        let polled = consumer.poll(10_000, Duration::ZERO).map_err(rows_error)?;
        let before = records.len();
        records.extend(polled.into_iter().flat_map(|p| p.records));
        // Nothing more to read now (the rest is an open transaction, or gone).
        if records.len() == before {
            break;
        }
    }
    records.retain(|r| r.offset < end);
    Ok(records)
}

/// A table's last record per key, in key order; keys whose last record is a tombstone, and
/// records without a key, are dropped.
fn latest_per_key(records: Vec<Record>) -> Vec<Record> {
    let mut latest: BTreeMap<Vec<u8>, Record> = BTreeMap::new();
    for record in records {
        let Some(key) = record.key.clone() else {
            continue;
        };
        match record.value {
            Some(_) => latest.insert(key.to_vec(), record),
            None => latest.remove(key.as_ref()),
        };
    }
    latest.into_values().collect()
}

fn rows_error(e: impl std::fmt::Display) -> MaterializationError {
    MaterializationError::Rows(e.to_string())
}
