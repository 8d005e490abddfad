//! Running a stateless query: poll the source, decode, filter/project, then either write to
//! the sink topic — output records and the consumed offsets committed in one transaction, so
//! a crash neither loses nor duplicates output — or hand rows to a push-query subscriber.
//!
//! The same `step` runs in a production thread and under the conformance test driver.

use super::aggregate::{Aggregator, RowRole};
use super::decode::Decoder;
use super::encode::Encoder;
use super::pipeline::StatelessPipeline;
use super::processing_log::ProcessingLog;
use super::tombstone::Tombstones;
use crate::plan::{Compiled, QueryPlan, SourceDef};
use crate::transport::{
    AutoOffsetReset, Consumer, Result, StartFrom, TopicPartition, TransactionalProducer, Transport,
};
use arrow::record_batch::RecordBatch;
use std::time::Duration;

/// Why a query step failed: the log (transient: the step is retried), or the data in a way
/// the query's settings make fatal (the query stops, as ksqlDB's goes to ERROR).
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    #[error(transparent)]
    Transport(#[from] crate::transport::TransportError),
    #[error("{0}")]
    Fatal(String),
}

/// Where a query's output goes. (One per query: the size difference between variants is
/// irrelevant, so the sink state is kept inline.)
#[allow(clippy::large_enum_variant)]
pub enum Output {
    /// A persistent query's sink topic.
    Topic {
        topic: String,
        encoder: Encoder,
        tombstones: Tombstones,
        producer: Box<dyn TransactionalProducer>,
    },
    /// A transient query's subscriber; returns false to stop the query.
    Rows(Box<dyn FnMut(&RecordBatch) -> bool + Send>),
}

pub struct RunningQuery {
    pub id: String,
    group: String,
    decoder: Decoder,
    /// GROUP BY queries: the aggregation and its HAVING (over the aggregation's output).
    aggregator: Option<(Aggregator, Option<Compiled>)>,
    pipeline: StatelessPipeline,
    consumer: Box<dyn Consumer>,
    output: Output,
    partitions: Vec<TopicPartition>,
    /// Aggregations restarted after a commit: their state is rebuilt by re-reading each
    /// partition from its start, without output, up to the committed offset (the first
    /// record whose results were not written yet).
    replay_until: std::collections::HashMap<u32, i64>,
    finished: bool,
}

/// Settings to start a query.
pub struct QueryStart<'a> {
    pub id: &'a str,
    pub plan: &'a QueryPlan,
    /// Consumer group that holds the committed input offsets (persistent queries).
    pub group: &'a str,
    pub reset: AutoOffsetReset,
    /// `ksql.timestamp.throw.on.invalid`: a record without a valid event time stops the
    /// query instead of going to the processing log.
    pub fatal_timestamp_errors: bool,
}

impl RunningQuery {
    /// A persistent query writing to `topic` with the given formats.
    pub fn to_topic(
        transport: &dyn Transport,
        start: QueryStart<'_>,
        sink: &SourceDef,
    ) -> Result<RunningQuery> {
        let topic = &sink.topic;
        let encoder = Encoder::new(start.plan, sink, start.id);
        let tombstones = Tombstones::new(start.plan, &sink.key_format);
        let producer = transport.transactional_producer(start.group)?;
        let mut query = Self::new(
            transport,
            start,
            Output::Topic {
                topic: topic.to_string(),
                encoder,
                tombstones,
                producer,
            },
        )?;
        // Pin the start position now, so a restart before the first commit resumes here
        // instead of re-resolving `latest` and skipping what arrived in between.
        query.consumer.commit()?;
        Ok(query)
    }

    pub fn new(
        transport: &dyn Transport,
        start: QueryStart<'_>,
        output: Output,
    ) -> Result<RunningQuery> {
        let source = &start.plan.source;
        let count = transport.partition_count(&source.topic)?;
        let partitions: Vec<TopicPartition> = (0..count)
            .map(|p| TopicPartition::new(&source.topic, p))
            .collect();
        let mut consumer = transport.consumer(Some(start.group))?;
        let from = StartFrom::Committed {
            fallback: start.reset,
        };
        // In-memory aggregation state is rebuilt by replaying what was committed before.
        let replay_until: std::collections::HashMap<u32, i64> = match &start.plan.aggregation {
            Some(_) => transport
                .committed_offsets(start.group, &source.topic)?
                .into_iter()
                .filter(|(_, offset)| *offset > 0)
                .collect(),
            None => Default::default(),
        };
        consumer.assign(
            &partitions
                .iter()
                .map(|tp| match replay_until.contains_key(&tp.partition) {
                    true => (tp.clone(), StartFrom::Earliest),
                    false => (tp.clone(), from),
                })
                .collect::<Vec<_>>(),
        )?;
        Ok(RunningQuery {
            id: start.id.to_string(),
            group: start.group.to_string(),
            decoder: Decoder::new(source, start.id)
                .with_fatal_timestamp_errors(start.fatal_timestamp_errors),
            aggregator: start.plan.aggregation.as_ref().map(|a| {
                let aggregator = Aggregator::new(start.plan, a, start.id);
                (aggregator, a.having.clone())
            }),
            pipeline: StatelessPipeline::new(start.plan, start.id),
            consumer,
            output,
            partitions,
            replay_until,
            finished: false,
        })
    }

    fn process_run(
        &mut self,
        topic: &str,
        partition: u32,
        records: &[crate::transport::Record],
        log: &mut dyn ProcessingLog,
    ) -> std::result::Result<(), StepError> {
        if let Some(until) = self.replay_until.get(&partition).copied() {
            // A run that crosses the replay point is handled in two parts.
            let k = records.partition_point(|r| r.offset < until);
            if k > 0 && k < records.len() {
                self.process_run(topic, partition, &records[..k], log)?;
                return self.process_run(topic, partition, &records[k..], log);
            }
        }
        let Some(batch) = self
            .decoder
            .decode(topic, partition, records, log)
            .map_err(StepError::Fatal)?
        else {
            return Ok(());
        };
        let replayed = self.replay_until.get(&partition).copied();
        if let (Some(until), Some((aggregator, _))) = (replayed, &mut self.aggregator)
            && records.last().is_some_and(|r| r.offset < until)
        {
            // Rebuilding state: the results of these records were written before.
            let _ = aggregator.process(&batch, topic, partition, log);
            return Ok(());
        }
        match &mut self.aggregator {
            None => self.emit(&batch, None, topic, partition, log),
            Some((aggregator, _)) => match aggregator.process(&batch, topic, partition, log) {
                Some((groups, roles)) => self.emit_groups(&groups, &roles, topic, partition, log),
                None => Ok(()),
            },
        }
    }

    /// The aggregation's changes to its table: HAVING applied, then projected and written.
    fn emit_groups(
        &mut self,
        groups: &RecordBatch,
        roles: &[RowRole],
        topic: &str,
        partition: u32,
        log: &mut dyn ProcessingLog,
    ) -> std::result::Result<(), StepError> {
        let visible = match self.aggregator.as_ref().and_then(|a| a.1.as_ref()) {
            Some(h) => passes(h, groups, log, &self.id),
            None => vec![true; roles.len()],
        };
        let (keep, deleted) = table_changes(roles, &visible);
        match keep_rows(groups, &keep) {
            Some(changes) => self.emit(&changes, Some(deleted), topic, partition, log),
            None => Ok(()),
        }
    }

    /// Projects a batch and writes it (rows marked `deleted` as tombstones) or hands it to
    /// the subscriber (without them).
    fn emit(
        &mut self,
        batch: &RecordBatch,
        deleted: Option<Vec<bool>>,
        topic: &str,
        partition: u32,
        log: &mut dyn ProcessingLog,
    ) -> std::result::Result<(), StepError> {
        let Some(out) = self.pipeline.process(batch, topic, partition, log) else {
            return Ok(());
        };
        match &mut self.output {
            Output::Topic {
                topic,
                encoder,
                producer,
                ..
            } => {
                for record in encoder.encode(&out, deleted.as_deref(), topic, log) {
                    producer.send(topic, None, record)?;
                }
            }
            Output::Rows(subscriber) => {
                let out = match &deleted {
                    Some(d) => keep_rows(&out, &d.iter().map(|d| !d).collect::<Vec<_>>()),
                    None => Some(out),
                };
                if let Some(out) = out
                    && !subscriber(&out)
                {
                    self.finished = true;
                }
            }
        }
        Ok(())
    }

    /// Tombstones of a table that an aggregation reads: each removes its row's contribution.
    fn retract_rows(
        &mut self,
        source_topic: &str,
        partition: u32,
        records: &[crate::transport::Record],
        log: &mut dyn ProcessingLog,
    ) -> std::result::Result<(), StepError> {
        for r in records {
            let key = match self.decoder.decode_key(r) {
                Ok(key) => key,
                Err(message) => {
                    log.report(crate::exec::ProcessingError {
                        query_id: self.id.clone(),
                        topic: source_topic.to_string(),
                        partition,
                        offset: r.offset,
                        message,
                    });
                    continue;
                }
            };
            let Some((aggregator, _)) = &mut self.aggregator else {
                return Ok(());
            };
            let changes = aggregator.retract_row(&key, r.timestamp, log);
            let replaying = self
                .replay_until
                .get(&partition)
                .is_some_and(|until| r.offset < *until);
            if let (Some((groups, roles)), false) = (changes, replaying) {
                self.emit_groups(&groups, &roles, source_topic, partition, log)?;
            }
        }
        Ok(())
    }

    /// Null-value records of a stream: forwarded as null-value records when the query has no
    /// WHERE clause (a predicate is false on a null row); push queries skip them.
    fn pass_through(
        &mut self,
        source_topic: &str,
        partition: u32,
        records: &[crate::transport::Record],
        log: &mut dyn ProcessingLog,
    ) -> Result<()> {
        let Output::Topic {
            topic,
            tombstones,
            producer,
            ..
        } = &mut self.output
        else {
            return Ok(());
        };
        if tombstones.filtered || self.aggregator.is_some() {
            return Ok(());
        }
        for r in records {
            match tombstones.pass_through(r) {
                Ok(record) => {
                    producer.send(topic, None, record)?;
                }
                Err(message) => log.report(crate::exec::ProcessingError {
                    query_id: self.id.clone(),
                    topic: source_topic.to_string(),
                    partition,
                    offset: r.offset,
                    message,
                }),
            }
        }
        Ok(())
    }

    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// Processes what the source has (up to `max_records`), waiting up to `timeout` for data.
    /// Returns how many input records were consumed.
    pub fn step(
        &mut self,
        max_records: usize,
        timeout: Duration,
        log: &mut dyn ProcessingLog,
    ) -> std::result::Result<usize, StepError> {
        if self.finished {
            return Ok(0);
        }
        let polled = self.consumer.poll(max_records, timeout)?;
        let consumed: usize = polled.iter().map(|p| p.records.len()).sum();
        if consumed == 0 {
            return Ok(0);
        }
        if let Output::Topic { producer, .. } = &mut self.output {
            producer.begin_transaction()?;
        }
        for part in &polled {
            // Runs of records with values, and single null-value records, in offset order.
            for run in part
                .records
                .chunk_by(|a, b| a.value.is_some() && b.value.is_some())
            {
                let table_aggregation = self.aggregator.as_ref().is_some_and(|a| a.0.reads_table());
                if run[0].value.is_none() && table_aggregation {
                    self.retract_rows(&part.topic, part.partition, run, log)?;
                } else if run[0].value.is_none() {
                    self.pass_through(&part.topic, part.partition, run, log)?;
                } else {
                    self.process_run(&part.topic, part.partition, run, log)?;
                }
                if self.finished {
                    break;
                }
            }
        }
        if let Output::Topic { producer, .. } = &mut self.output {
            let offsets: Vec<(TopicPartition, i64)> = self
                .partitions
                .iter()
                .filter_map(|tp| {
                    let position = self.consumer.position(tp)?;
                    let replayed = self.replay_until.get(&tp.partition).copied();
                    Some((tp.clone(), position.max(replayed.unwrap_or(0))))
                })
                .collect();
            producer.send_offsets_to_transaction(&self.group, &offsets)?;
            producer.commit_transaction()?;
        }
        Ok(consumed)
    }
}

/// Which aggregation rows change the output table, and which of those are deletions: a new
/// aggregate is written if HAVING holds for it, and otherwise deletes the group's row if the
/// previous aggregate was visible; a merged-away session is deleted if it was visible.
fn table_changes(roles: &[RowRole], visible: &[bool]) -> (Vec<bool>, Vec<bool>) {
    let mut keep = Vec::with_capacity(roles.len());
    let mut deleted = Vec::new();
    for (i, role) in roles.iter().enumerate() {
        let shown = visible.get(i).copied().unwrap_or(false);
        let was_shown = i > 0 && roles[i - 1] == RowRole::Old && visible[i - 1];
        let change = match role {
            RowRole::Old => None,
            RowRole::Deleted => shown.then_some(true),
            RowRole::New if shown => Some(false),
            RowRole::New => was_shown.then_some(true),
        };
        keep.push(change.is_some());
        deleted.extend(change);
    }
    (keep, deleted)
}

/// Rows for which HAVING is TRUE.
fn passes(
    having: &Compiled,
    groups: &RecordBatch,
    log: &mut dyn ProcessingLog,
    query_id: &str,
) -> Vec<bool> {
    let mut report = |_row: usize, message: String| {
        log.report(crate::exec::ProcessingError {
            query_id: query_id.to_string(),
            topic: String::new(),
            partition: 0,
            offset: -1,
            message,
        })
    };
    let mask = super::pipeline::evaluate(having, groups, &mut report, true);
    let mask = mask.as_any().downcast_ref::<arrow::array::BooleanArray>();
    (0..groups.num_rows())
        .map(|i| mask.is_some_and(|m| !arrow::array::Array::is_null(m, i) && m.value(i)))
        .collect()
}

/// The rows marked in `keep`.
fn keep_rows(batch: &RecordBatch, keep: &[bool]) -> Option<RecordBatch> {
    let keep: arrow::array::BooleanArray = keep.iter().map(|k| Some(*k)).collect();
    arrow::compute::filter_record_batch(batch, &keep)
        .ok()
        .filter(|b| b.num_rows() > 0)
}

/// The Arrow schema of rows a query hands to subscribers (its columns, then ROWTIME).
pub fn output_schema(plan: &QueryPlan) -> arrow::datatypes::SchemaRef {
    StatelessPipeline::new(plan, "").output_schema()
}

#[cfg(test)]
mod tests {
    use super::*;
    use RowRole::{Deleted, New, Old};

    #[test]
    fn having_hides_without_deleting_what_was_never_shown() {
        // A group shown, then failing HAVING: one deletion. Failing again: nothing.
        let roles = [New, Old, New, Old, New];
        let visible = [true, true, false, false, false];
        let (keep, deleted) = table_changes(&roles, &visible);
        assert_eq!(keep, [true, false, true, false, false]);
        assert_eq!(deleted, [false, true]);
        // A merged-away session is deleted only if it was visible.
        let (keep, deleted) = table_changes(&[Deleted, Deleted, New], &[true, false, true]);
        assert_eq!(keep, [true, false, true]);
        assert_eq!(deleted, [true, false]);
    }
}
