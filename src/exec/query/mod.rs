//! Running a query: poll the source, decode, aggregate (GROUP BY queries), filter/project,
//! then either write to the sink topic — output records, the state's changelog records and the
//! consumed offsets committed in one transaction, so a crash neither loses nor duplicates
//! output — or hand rows to a push-query subscriber. A step that fails before its commit is
//! rolled back: its state writes are dropped and the input is read again. A step whose
//! evaluation passes its budget of values is rolled back and run again with fewer records
//! (`step`), so that no batch of records can exhaust the server's memory.
//!
//! The same `step` runs in a production thread and under the conformance test driver.

mod null_values;
mod step;

use super::aggregate::{Aggregator, RowRole};
use super::decode::Decoder;
use super::encode::Encoder;
use super::pipeline::StatelessPipeline;
use super::processing_log::ProcessingLog;
use super::query_state::{QueryState, QueryStateError, StateLocation};
use super::table_changes::{keep_rows, passes, table_changes};
use super::table_rows::TableRows;
use super::tombstone::Tombstones;
use crate::common::limits;
use crate::plan::{Compiled, QueryPlan, SourceDef};
use crate::transport::{
    AutoOffsetReset, Consumer, StartFrom, TopicPartition, TransactionalProducer, Transport,
};
use arrow::record_batch::RecordBatch;

/// Why a query step failed: the log (transient: the step is retried), or the data in a way
/// the query's settings make fatal (the query stops, as ksqlDB's goes to ERROR).
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    #[error(transparent)]
    Transport(#[from] crate::transport::TransportError),
    /// The state store failed before the commit (the step is rolled back and retried).
    #[error(transparent)]
    State(#[from] crate::state::StateError),
    #[error("{0}")]
    Fatal(String),
}

/// Why a query could not start: its source or sink, or its state (which is restored from its
/// changelogs before the query runs).
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Transport(#[from] crate::transport::TransportError),
    #[error(transparent)]
    State(#[from] QueryStateError),
}

impl From<crate::state::StateError> for StartError {
    fn from(e: crate::state::StateError) -> Self {
        StartError::State(e.into())
    }
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
    /// A transient query's subscriber, given projected rows and which of them are deletions
    /// (a table's tombstones); returns false to stop the query.
    Rows(RowSubscriber),
}

/// Receives a transient query's projected rows and which of them are deletions (an empty
/// slice: none); returns false to stop the query.
pub type RowSubscriber = Box<dyn FnMut(&RecordBatch, &[bool]) -> bool + Send>;

/// A query's record counts since it started in this process, readable from other threads
/// (`/metrics`). Counted at each commit, so a rolled-back step counts nothing.
#[derive(Debug, Default)]
pub struct QueryCounters {
    /// Input records consumed.
    pub records_in: std::sync::atomic::AtomicU64,
    /// Output records written to the sink topic (tombstones included).
    pub records_out: std::sync::atomic::AtomicU64,
}

pub struct RunningQuery {
    pub id: String,
    counters: std::sync::Arc<QueryCounters>,
    /// Output records of the step in progress (counted at its commit).
    step_out: u64,
    group: String,
    decoder: Decoder,
    /// GROUP BY queries: the aggregation and its HAVING (over the aggregation's output).
    aggregator: Option<(Aggregator, Option<Compiled>)>,
    pipeline: StatelessPipeline,
    consumer: Box<dyn Consumer>,
    output: Output,
    partitions: Vec<TopicPartition>,
    /// A table written from a table without aggregation: its rows, for pull queries.
    table_rows: Option<TableRows>,
    /// Aggregations and tables written from tables: the stores and their changelogs.
    state: Option<QueryState>,
    /// The source is a table: rows are changes by key, and WHERE turns rows into deletions.
    table_source: bool,
    finished: bool,
    /// A push query's rows of the step in progress and which of them are deletions (empty:
    /// none), handed to the subscriber at its end.
    pending_rows: Vec<(RecordBatch, Vec<bool>)>,
    /// The bytes of values one step may keep ([`limits::MAX_STEP_WORK_BYTES`]).
    step_budget: usize,
    /// The most records a step takes: lowered when a step passed its budget, raised again
    /// while steps keep well within it.
    step_cap: usize,
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
    /// Where an aggregation keeps its state.
    pub state: StateLocation,
}

impl RunningQuery {
    /// A persistent query writing to `topic` with the given formats.
    pub fn to_topic(
        transport: &dyn Transport,
        start: QueryStart<'_>,
        sink: &SourceDef,
    ) -> std::result::Result<RunningQuery, StartError> {
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
    ) -> std::result::Result<RunningQuery, StartError> {
        let source = &start.plan.source;
        let count = transport.partition_count(&source.topic)?;
        let partitions: Vec<TopicPartition> = (0..count)
            .map(|p| TopicPartition::new(&source.topic, p))
            .collect();
        let mut consumer = transport.consumer(Some(start.group))?;
        let from = StartFrom::Committed {
            fallback: start.reset,
        };
        consumer.assign(
            &partitions
                .iter()
                .map(|tp| (tp.clone(), from))
                .collect::<Vec<_>>(),
        )?;
        let writes_table = source.is_table() && matches!(output, Output::Topic { .. });
        let (aggregator, table_rows, state) = match &start.plan.aggregation {
            Some(a) => {
                let mut state = QueryState::open(&start.state)?;
                let mut aggregator = Aggregator::new(start.plan, a, start.id, &mut state)?;
                state.restore(transport)?;
                aggregator.reload()?;
                (Some((aggregator, a.having.clone())), None, Some(state))
            }
            None if writes_table => {
                let mut state = QueryState::open(&start.state)?;
                let rows = TableRows::open(&mut state, start.plan, output_schema(start.plan))?;
                state.restore(transport)?;
                (None, Some(rows), Some(state))
            }
            None => (None, None, None),
        };
        Ok(RunningQuery {
            id: start.id.to_string(),
            counters: Default::default(),
            step_out: 0,
            group: start.group.to_string(),
            decoder: Decoder::new(source, start.id)
                .with_fatal_timestamp_errors(start.fatal_timestamp_errors),
            aggregator,
            pipeline: StatelessPipeline::new(start.plan, start.id),
            consumer,
            output,
            partitions,
            table_rows,
            state,
            table_source: source.is_table(),
            finished: false,
            pending_rows: Vec::new(),
            step_budget: limits::MAX_STEP_WORK_BYTES,
            step_cap: usize::MAX,
        })
    }

    /// The same query with another step budget than [`limits::MAX_STEP_WORK_BYTES`] (tests).
    pub fn with_step_budget(mut self, bytes: usize) -> RunningQuery {
        self.step_budget = bytes;
        self
    }

    fn process_run(
        &mut self,
        topic: &str,
        partition: u32,
        records: &[crate::transport::Record],
        log: &mut dyn ProcessingLog,
    ) -> std::result::Result<(), StepError> {
        let Some(batch) = self
            .decoder
            .decode(topic, partition, records, log)
            .map_err(StepError::Fatal)?
        else {
            return Ok(());
        };
        match &mut self.aggregator {
            None if self.table_source => {
                match self.pipeline.process_changes(&batch, topic, partition, log) {
                    Some((out, deleted)) => self.write(out, Some(deleted), log),
                    None => Ok(()),
                }
            }
            None => self.emit(&batch, None, topic, partition, log),
            Some((aggregator, _)) => match aggregator.process(&batch, topic, partition, log)? {
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
        match self.pipeline.process(batch, topic, partition, log) {
            Some(out) => self.write(out, deleted, log),
            None => Ok(()),
        }
    }

    /// Writes projected rows (those marked `deleted` as tombstones) or hands them to the
    /// subscriber (without the deleted ones).
    fn write(
        &mut self,
        out: RecordBatch,
        deleted: Option<Vec<bool>>,
        log: &mut dyn ProcessingLog,
    ) -> std::result::Result<(), StepError> {
        match &mut self.output {
            Output::Topic {
                topic,
                encoder,
                producer,
                ..
            } => {
                for record in encoder.encode(&out, deleted.as_deref(), topic, log) {
                    producer.send(topic, None, record)?;
                    self.step_out += 1;
                }
                if let Some(rows) = &mut self.table_rows {
                    rows.apply(&out, deleted.as_deref());
                }
            }
            // Rows that stopped passing a table's WHERE are not shown to a push query. The
            // subscriber has them when the step succeeds (it may yet be rolled back).
            Output::Rows(_) => {
                let out = match &deleted {
                    Some(d) => keep_rows(&out, &d.iter().map(|d| !d).collect::<Vec<_>>()),
                    None => Some(out),
                };
                self.pending_rows.extend(out.map(|rows| (rows, Vec::new())));
            }
        }
        Ok(())
    }

    pub fn is_finished(&self) -> bool {
        self.finished
    }

    fn process_polled(
        &mut self,
        polled: &[crate::transport::PartitionRecords],
        log: &mut dyn ProcessingLog,
    ) -> std::result::Result<(), StepError> {
        self.begin()?;
        for part in polled {
            // Runs of records with values, and single null-value records, in offset order.
            let null_values: Vec<bool> = part
                .records
                .iter()
                .map(|r| self.decoder.has_null_value(r))
                .collect();
            for (range, null_value) in null_values::runs(&null_values) {
                let run = &part.records[range];
                let table_aggregation = self.aggregator.as_ref().is_some_and(|a| a.0.reads_table());
                if null_value && table_aggregation {
                    self.retract_rows(&part.topic, part.partition, run, log)?;
                } else if null_value {
                    self.pass_through(&part.topic, part.partition, run, log)?;
                } else {
                    self.process_run(&part.topic, part.partition, run, log)?;
                }
                if limits::step_exceeded() {
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    /// The committed rows of the table the query writes, if it keeps them: an aggregation's
    /// groups, or a table query's written rows (what pull queries read).
    pub fn committed_rows(&self, plan: &QueryPlan) -> Option<super::CommittedRows> {
        if let Some((aggregator, _)) = &self.aggregator {
            let groups = aggregator.snapshot();
            return Some(super::CommittedRows::groups(&self.id, plan, groups));
        }
        let rows = self.table_rows.as_ref()?;
        Some(super::CommittedRows::Written(rows.snapshot()))
    }

    /// The query's record counts (shared: they go on counting).
    pub fn counters(&self) -> std::sync::Arc<QueryCounters> {
        self.counters.clone()
    }

    /// The changelog topics of the query's state.
    pub fn changelog_topics(&self) -> Vec<String> {
        self.state
            .as_ref()
            .map(QueryState::changelog_topics)
            .unwrap_or_default()
    }
}

/// The Arrow schema of rows a query hands to subscribers (its columns, then ROWTIME).
pub fn output_schema(plan: &QueryPlan) -> arrow::datatypes::SchemaRef {
    StatelessPipeline::new(plan, "").output_schema()
}
