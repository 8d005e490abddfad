//! The processing log as a stream users can query, like ksqlDB's `KSQL_PROCESSING_LOG`:
//! query threads append every decode, evaluation or encode error, with the record's topic,
//! partition and offset, to the `brook_processing_log` topic as JSON.

use crate::exec::{ProcessingError, ProcessingLog};
use crate::transport::{Producer, ProducerRecord, Transport};
use std::sync::Arc;

pub const TOPIC: &str = "brook_processing_log";
pub const STREAM: &str = "KSQL_PROCESSING_LOG";

/// The statement that declares the stream over the topic.
pub fn create_statement() -> String {
    format!(
        "CREATE STREAM {STREAM} (QUERY_ID STRING, TOPIC STRING, `PARTITION` INT, `OFFSET` BIGINT, MESSAGE STRING) \
         WITH (KAFKA_TOPIC='{TOPIC}', VALUE_FORMAT='JSON', PARTITIONS=1);"
    )
}

/// Writes errors to the topic (and counts them); write failures are logged, never fatal.
pub struct TopicProcessingLog {
    producer: Box<dyn Producer>,
    pub count: u64,
}

impl TopicProcessingLog {
    pub fn new(transport: &Arc<dyn Transport>) -> crate::transport::Result<TopicProcessingLog> {
        Ok(TopicProcessingLog {
            producer: transport.producer()?,
            count: 0,
        })
    }

    /// Appends what was reported since the last flush.
    pub fn flush(&mut self) {
        if let Err(e) = self.producer.flush() {
            tracing::error!("writing the processing log failed: {e}");
        }
    }
}

impl ProcessingLog for TopicProcessingLog {
    fn report(&mut self, e: ProcessingError) {
        tracing::warn!(query = %e.query_id, topic = %e.topic, partition = e.partition, offset = e.offset, "{}", e.message);
        let value = serde_json::json!({
            "QUERY_ID": e.query_id, "TOPIC": e.topic, "PARTITION": e.partition, "OFFSET": e.offset, "MESSAGE": e.message,
        });
        self.count += 1;
        if let Err(err) = self.producer.send(
            TOPIC,
            Some(0),
            ProducerRecord::new(None::<Vec<u8>>, Some(value.to_string())),
        ) {
            tracing::error!("writing the processing log failed: {err}");
        }
    }
}
