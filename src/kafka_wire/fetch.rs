//! Fetch and ListOffsets. Fetch answers with the stored batches as they are on disk
//! (`EmbeddedLog::read_batches`: no record is decoded or re-encoded), whole batches from the
//! one holding the fetch offset, within `partition_max_bytes` and the request's `max_bytes`
//! (the first batch even if larger, as Kafka does). With fewer than `min_bytes` available it
//! waits for appends, up to `max_wait_ms`. A read_committed Fetch gets batches before the last
//! stable offset only, with the aborted transactions among them (clients drop those records);
//! markers are returned as stored, as Kafka does. No fetch sessions are made (`session_id` 0,
//! KIP-227: clients send full requests).
//!
//! May import what `kafka_wire` does.

use super::{Broker, codes};
use kafka_protocol::ResponseError;
use kafka_protocol::messages::fetch_response::{
    AbortedTransaction, FetchableTopicResponse, PartitionData,
};
use kafka_protocol::messages::list_offsets_response::{
    ListOffsetsPartitionResponse, ListOffsetsTopicResponse,
};
use kafka_protocol::messages::{
    FetchRequest, FetchResponse, ListOffsetsRequest, ListOffsetsResponse, ProducerId,
};
use std::time::Duration;
use tokio::time::Instant;

/// The longest a Fetch waits, whatever `max_wait_ms` says.
const MAX_WAIT: Duration = Duration::from_secs(60);

pub async fn fetch(broker: &Broker, request: FetchRequest) -> FetchResponse {
    let wait = Duration::from_millis(request.max_wait_ms.max(0) as u64).min(MAX_WAIT);
    let deadline = Instant::now() + wait;
    let min_bytes = request.min_bytes.max(0) as usize;
    let mut appends = broker.log.appends();
    loop {
        appends.borrow_and_update();
        let (response, bytes, failed) = tokio::task::block_in_place(|| read(broker, &request));
        if bytes >= min_bytes.max(1) || failed || Instant::now() >= deadline {
            return response;
        }
        tokio::select! {
            changed = appends.changed() => if changed.is_err() { return response },
            () = tokio::time::sleep_until(deadline) => return response,
        }
    }
}

/// One pass over the requested partitions: the response, the record bytes in it, and whether
/// a partition failed (answered at once).
fn read(broker: &Broker, request: &FetchRequest) -> (FetchResponse, usize, bool) {
    let mut budget = request.max_bytes.max(0) as usize;
    let (mut total, mut failed) = (0usize, false);
    let topics = request
        .topics
        .iter()
        .map(|topic| {
            let name = topic.topic.0.as_str();
            let partitions = topic
                .partitions
                .iter()
                .map(|p| {
                    let data = PartitionData::default().with_partition_index(p.partition);
                    let limit = (p.partition_max_bytes.max(0) as usize).min(budget);
                    if total > 0 && limit == 0 {
                        return offsets_only(broker, name, p.partition, data);
                    }
                    let read = Read {
                        topic: name,
                        index: p.partition,
                        offset: p.fetch_offset,
                        max_bytes: limit,
                        committed: request.isolation_level == 1,
                    };
                    let data = partition(broker, &read, data);
                    let size = data.records.as_ref().map_or(0, |r| r.len());
                    failed |= data.error_code != 0;
                    total += size;
                    budget = budget.saturating_sub(size);
                    data
                })
                .collect();
            FetchableTopicResponse::default()
                .with_topic(topic.topic.clone())
                .with_topic_id(topic.topic_id)
                .with_partitions(partitions)
        })
        .collect();
    (
        FetchResponse::default().with_responses(topics),
        total,
        failed,
    )
}

/// One partition's part of a Fetch.
struct Read<'a> {
    topic: &'a str,
    index: i32,
    offset: i64,
    max_bytes: usize,
    committed: bool,
}

fn partition(broker: &Broker, read: &Read<'_>, data: PartitionData) -> PartitionData {
    let Ok(partition) = u32::try_from(read.index) else {
        return data.with_error_code(ResponseError::UnknownTopicOrPartition.code());
    };
    let stored = broker.log.read_batches(
        read.topic,
        partition,
        read.offset,
        read.max_bytes.max(1),
        read.committed,
    );
    match stored {
        Ok(stored) => {
            let aborted = read.committed.then(|| {
                stored
                    .aborted
                    .iter()
                    .map(|a| {
                        AbortedTransaction::default()
                            .with_producer_id(ProducerId(a.producer_id))
                            .with_first_offset(a.first_offset)
                    })
                    .collect()
            });
            data.with_high_watermark(stored.offsets.high_watermark)
                .with_last_stable_offset(stored.offsets.last_stable)
                .with_log_start_offset(stored.offsets.log_start)
                .with_aborted_transactions(aborted)
                .with_records(Some(stored.bytes))
        }
        Err(e) => failed(broker, read.topic, partition, data, &e),
    }
}

/// A partition past the response's byte budget: its offsets, no records.
fn offsets_only(broker: &Broker, topic: &str, index: i32, data: PartitionData) -> PartitionData {
    let Ok(partition) = u32::try_from(index) else {
        return data.with_error_code(ResponseError::UnknownTopicOrPartition.code());
    };
    match broker.log.partition_offsets(topic, partition) {
        Ok(offsets) => data
            .with_high_watermark(offsets.high_watermark)
            .with_last_stable_offset(offsets.last_stable)
            .with_log_start_offset(offsets.log_start),
        Err(e) => failed(broker, topic, partition, data, &e),
    }
}

fn failed(
    broker: &Broker,
    topic: &str,
    partition: u32,
    data: PartitionData,
    e: &crate::transport::TransportError,
) -> PartitionData {
    let data = data
        .with_error_code(codes::for_transport(e))
        .with_records(None);
    match broker.log.partition_offsets(topic, partition) {
        Ok(offsets) => data
            .with_high_watermark(offsets.high_watermark)
            .with_last_stable_offset(offsets.last_stable)
            .with_log_start_offset(offsets.log_start),
        Err(_) => data.with_high_watermark(-1),
    }
}

/// ListOffsets' special timestamps.
const LATEST: i64 = -1;
const EARLIEST: i64 = -2;
const MAX_TIMESTAMP: i64 = -3;

/// ListOffsets; the leader epoch is answered from v4 on (older versions have no such field).
pub fn list_offsets(
    broker: &Broker,
    request: ListOffsetsRequest,
    version: i16,
) -> ListOffsetsResponse {
    let leader_epoch = if version >= 4 { 0 } else { -1 };
    let topics = request
        .topics
        .into_iter()
        .map(|topic| {
            let name = topic.name.0.as_str().to_string();
            let partitions = topic
                .partitions
                .iter()
                .map(|p| {
                    let response = ListOffsetsPartitionResponse::default()
                        .with_partition_index(p.partition_index);
                    let committed = request.isolation_level == 1;
                    match list_offset(broker, &name, p.partition_index, p.timestamp, committed) {
                        Ok((offset, timestamp)) => response
                            .with_offset(offset)
                            .with_timestamp(timestamp)
                            .with_leader_epoch(leader_epoch),
                        Err(code) => response.with_error_code(code),
                    }
                })
                .collect();
            ListOffsetsTopicResponse::default()
                .with_name(topic.name)
                .with_partitions(partitions)
        })
        .collect();
    ListOffsetsResponse::default().with_topics(topics)
}

/// The offset and timestamp for `timestamp`: exact, the first record at or after it (offset
/// and timestamp -1 when there is none, as Kafka answers).
fn list_offset(
    broker: &Broker,
    topic: &str,
    index: i32,
    timestamp: i64,
    committed: bool,
) -> Result<(i64, i64), i16> {
    let partition =
        u32::try_from(index).map_err(|_| ResponseError::UnknownTopicOrPartition.code())?;
    let log = &broker.log;
    let code = |e: crate::transport::TransportError| codes::for_transport(&e);
    let found = match timestamp {
        LATEST => {
            let offsets = log.partition_offsets(topic, partition).map_err(code)?;
            let latest = match committed {
                true => offsets.last_stable,
                false => offsets.high_watermark,
            };
            return Ok((latest, -1));
        }
        EARLIEST => {
            return Ok((
                log.partition_offsets(topic, partition)
                    .map_err(code)?
                    .log_start,
                -1,
            ));
        }
        MAX_TIMESTAMP => log.max_timestamp_record(topic, partition).map_err(code)?,
        t if t < 0 => return Err(ResponseError::InvalidRequest.code()),
        t => log.first_at_or_after(topic, partition, t).map_err(code)?,
    };
    Ok(found.unwrap_or((-1, -1)))
}
