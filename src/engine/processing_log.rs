//! The processing log as a stream users can query, like ksqlDB's `KSQL_PROCESSING_LOG`:
//! query threads append every decode, evaluation or encode error, with the record's topic,
//! partition and offset, to the `brook_processing_log` topic as JSON. The engine also keeps
//! a count per query and kind (bad or late records, for `/metrics`) and the most recent errors,
//! so a long-running server's memory does not grow with its bad records.

use crate::exec::{ErrorKind, ProcessingError, ProcessingLog};
use crate::transport::{Producer, ProducerRecord, Transport};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

pub const TOPIC: &str = "brook_processing_log";
pub const STREAM: &str = "KSQL_PROCESSING_LOG";

/// The statement that declares the stream over the topic (IF NOT EXISTS: servers sharing a
/// catalog may all record it as they start at once).
pub fn create_statement() -> String {
    format!(
        "CREATE STREAM IF NOT EXISTS {STREAM} (QUERY_ID STRING, TOPIC STRING, `PARTITION` INT, `OFFSET` BIGINT, MESSAGE STRING, KIND STRING) \
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
            "QUERY_ID": e.query_id, "TOPIC": e.topic, "PARTITION": e.partition, "OFFSET": e.offset, "MESSAGE": e.message, "KIND": e.kind.name().to_uppercase(),
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

/// How many errors of each kind each query reported, and the latest of them.
#[derive(Debug, Default)]
pub struct ErrorTally {
    counts: HashMap<(String, ErrorKind), u64>,
    recent: VecDeque<ProcessingError>,
}

/// Errors kept in memory (all of them are in the processing log topic).
const RECENT_ERRORS: usize = 1000;

impl ErrorTally {
    /// Errors of `kind` that `query_id` reported since the engine started.
    pub fn count(&self, query_id: &str, kind: ErrorKind) -> u64 {
        self.counts
            .get(&(query_id.to_string(), kind))
            .copied()
            .unwrap_or(0)
    }

    /// Errors of every query and kind.
    pub fn total(&self) -> u64 {
        self.counts.values().sum()
    }

    /// Drops the counts of a terminated query.
    pub fn forget(&mut self, query_id: &str) {
        self.counts.retain(|(id, _), _| id != query_id);
    }

    /// The latest errors, oldest first.
    pub fn recent(&self) -> Vec<ProcessingError> {
        self.recent.iter().cloned().collect()
    }
}

impl ProcessingLog for ErrorTally {
    fn report(&mut self, error: ProcessingError) {
        *self
            .counts
            .entry((error.query_id.clone(), error.kind))
            .or_default() += 1;
        if self.recent.len() == RECENT_ERRORS {
            self.recent.pop_front();
        }
        self.recent.push_back(error);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(query: &str, kind: ErrorKind, offset: i64) -> ProcessingError {
        ProcessingError {
            query_id: query.into(),
            kind,
            topic: "t".into(),
            partition: 0,
            offset,
            message: "m".into(),
        }
    }

    #[test]
    fn counts_by_query_and_kind_and_keeps_only_the_latest_errors() {
        let mut tally = ErrorTally::default();
        for offset in 0..RECENT_ERRORS as i64 + 5 {
            tally.report(error("Q1", ErrorKind::Bad, offset));
        }
        tally.report(error("Q1", ErrorKind::Late, 9));
        tally.report(error("Q2", ErrorKind::Late, 10));
        assert_eq!(tally.count("Q1", ErrorKind::Bad), RECENT_ERRORS as u64 + 5);
        assert_eq!(tally.count("Q1", ErrorKind::Late), 1);
        assert_eq!(tally.count("Q2", ErrorKind::Bad), 0);
        assert_eq!(tally.total(), RECENT_ERRORS as u64 + 7);
        let recent = tally.recent();
        assert_eq!(recent.len(), RECENT_ERRORS);
        assert_eq!(recent.last().map(|e| e.offset), Some(10));
        assert_eq!(recent.first().map(|e| e.offset), Some(7));
        tally.forget("Q1");
        assert_eq!(tally.count("Q1", ErrorKind::Bad), 0);
        assert_eq!(tally.count("Q2", ErrorKind::Late), 1);
    }
}
