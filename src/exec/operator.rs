//! The operator trait: one small synchronous interface every step of a query implements
//! (filter, project, table function, re-key, aggregate, materialize, sinks), on the model of
//! Arroyo's `ArrowOperator` and RisingWave's executors. An operator is handed change batches
//! and the task's stream time and emits change batches through its [`Ctx`]; it never owns a
//! thread, consumer, producer or channel. The driver (`exec::driver`) owns the loop, routes
//! emitted batches to the next operators and commits.
//!
//! A stateful operator opens its stores from the query's state when it is built (they reach
//! the changelog and RocksDB with the step's commit, `exec::query_state`) and lists them in
//! [`Operator::stores`]; [`Operator::open`] re-reads what it keeps in memory after a restore
//! or a rolled-back step.

use super::aggregate::GroupsSnapshot;
use super::processing_log::{ErrorKind, ProcessingError, ProcessingLog};
use super::table_rows::TableRowsSnapshot;
use crate::common::change::ChangeBatch;
use crate::plan::schema::ROWOFFSET;
use crate::state::StateError;
use crate::transport::ProducerRecord;
use std::sync::Arc;

/// Why an operator failed a batch: its state store (the step is rolled back and retried), or
/// the data in a way the query's settings make fatal (the query stops).
#[derive(Debug, thiserror::Error)]
pub enum OperatorError {
    #[error(transparent)]
    State(#[from] StateError),
    #[error("{0}")]
    Fatal(String),
    /// Brook is at fault (an Arrow batch it built does not fit its schema).
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<arrow::error::ArrowError> for OperatorError {
    fn from(e: arrow::error::ArrowError) -> Self {
        OperatorError::Internal(e.to_string())
    }
}

/// A state store an operator owns, as EXPLAIN lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreDecl {
    /// The store's name (its changelog topic is `<prefix>-<name>-changelog`).
    pub name: String,
    /// `key-value`, `window` or `session`.
    pub layout: &'static str,
}

impl StoreDecl {
    pub fn new(name: impl Into<String>, layout: &'static str) -> StoreDecl {
        StoreDecl {
            name: name.into(),
            layout,
        }
    }
}

/// One step of a query.
pub trait Operator: Send {
    /// What the operator is, for EXPLAIN (one line, e.g. `Filter WHERE (V > 1)`).
    fn describe(&self) -> String;

    /// The state stores the operator owns.
    fn stores(&self) -> Vec<StoreDecl> {
        Vec::new()
    }

    /// Re-reads what the operator keeps in memory from its stores: after the state was
    /// restored, and after a step's writes were discarded.
    fn open(&mut self) -> Result<(), OperatorError> {
        Ok(())
    }

    /// Processes a batch arriving on input `input` (0 for single-input operators).
    fn process(
        &mut self,
        input: usize,
        batch: ChangeBatch,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), OperatorError>;

    /// The task's stream time moved to `time` (window closing, expiry).
    fn on_stream_time(&mut self, _time: i64, _ctx: &mut Ctx<'_>) -> Result<(), OperatorError> {
        Ok(())
    }

    /// The step is about to commit: anything the operator buffers goes out now.
    fn on_commit(&mut self, _ctx: &mut Ctx<'_>) -> Result<(), OperatorError> {
        Ok(())
    }

    /// A read-only view of the committed rows the operator keeps, for pull queries.
    fn materialized(&self) -> Option<Materialized> {
        None
    }
}

/// What an operator keeps that pull queries read.
pub enum Materialized {
    /// An aggregation's groups (in its intermediate layout).
    Groups(GroupsSnapshot),
    /// A table's written rows.
    Rows(TableRowsSnapshot),
}

/// What a step produced for the outside: records for sink topics, and rows for a push
/// query's subscriber. The driver sends the records in the step's transaction and hands the
/// rows over once the step succeeded.
#[derive(Default)]
pub struct Outputs {
    /// Records for sink topics, a batch's at a time.
    pub records: Vec<(Arc<str>, Vec<ProducerRecord>)>,
    pub rows: Vec<ChangeBatch>,
    /// Rows for the next stage's tasks, delivered by the driver before the next batch.
    pub exchanged: Vec<Exchanged>,
    /// Exchanged rows bound for tasks on other servers: records for (repartition topic,
    /// partition), sent in the step's transaction.
    pub repartitioned: Vec<(Arc<str>, u32, ProducerRecord)>,
}

/// Rows bound for task `partition` of stage `stage` (a later one), on its input `input`.
pub struct Exchanged {
    pub stage: usize,
    pub input: usize,
    pub partition: u32,
    pub batch: ChangeBatch,
}

/// Where the batch being processed came from, for processing-log entries.
#[derive(Clone, Debug, Default)]
pub struct Origin {
    pub topic: String,
    pub partition: u32,
}

/// An operator's view of the step: its emissions, the processing log, the outputs and the
/// task's stream time.
pub struct Ctx<'a> {
    pub query_id: &'a str,
    /// The task's stream time before the batch being processed (`i64::MIN` before any).
    pub stream_time: i64,
    pub origin: &'a Origin,
    log: &'a mut dyn ProcessingLog,
    outputs: &'a mut Outputs,
    emitted: Vec<ChangeBatch>,
}

impl<'a> Ctx<'a> {
    pub fn new(
        query_id: &'a str,
        origin: &'a Origin,
        log: &'a mut dyn ProcessingLog,
        outputs: &'a mut Outputs,
    ) -> Ctx<'a> {
        Ctx {
            query_id,
            stream_time: i64::MIN,
            origin,
            log,
            outputs,
            emitted: Vec::new(),
        }
    }

    /// Sends a batch to the operator's consumers (an empty one is dropped).
    pub fn emit(&mut self, batch: ChangeBatch) {
        if !batch.is_empty() {
            self.emitted.push(batch);
        }
    }

    /// The batches emitted since the last call.
    pub fn take_emitted(&mut self) -> Vec<ChangeBatch> {
        std::mem::take(&mut self.emitted)
    }

    /// Records for a sink topic, sent in the step's transaction.
    pub fn send(&mut self, topic: &Arc<str>, records: Vec<ProducerRecord>) {
        if !records.is_empty() {
            self.outputs.records.push((topic.clone(), records));
        }
    }

    /// Rows for the push query's subscriber, handed over when the step succeeds.
    pub fn deliver(&mut self, rows: ChangeBatch) {
        if !rows.is_empty() {
            self.outputs.rows.push(rows);
        }
    }

    /// Rows for task `partition` of stage `stage`, arriving on its input `input`.
    pub fn exchange(&mut self, stage: usize, input: usize, partition: u32, batch: ChangeBatch) {
        if !batch.is_empty() {
            self.outputs.exchanged.push(Exchanged {
                stage,
                input,
                partition,
                batch,
            });
        }
    }

    /// Reports a row of `batch` that went wrong (its offset from ROWOFFSET, -1 without one).
    pub fn report(&mut self, batch: &ChangeBatch, row: usize, message: String) {
        let offset = offset_of(batch, row);
        self.report_at(offset, ErrorKind::Bad, message);
    }

    /// Reports a row of `batch` that went wrong, unless it is a deletion: its value columns
    /// are NULL, so a failure computing from them says nothing about the data.
    pub fn report_unless_deleted(&mut self, batch: &ChangeBatch, row: usize, message: String) {
        if batch.op(row) != crate::common::change::Op::Delete {
            self.report(batch, row, message);
        }
    }

    /// Reports a row at a known offset (-1: none), of the given kind.
    pub fn report_at(&mut self, offset: i64, kind: ErrorKind, message: String) {
        self.log.report(ProcessingError {
            query_id: self.query_id.to_string(),
            kind,
            topic: self.origin.topic.clone(),
            partition: self.origin.partition,
            offset,
            message,
        });
    }

    /// The processing log, for code that reports through a `ProcessingLog`.
    pub fn log(&mut self) -> &mut dyn ProcessingLog {
        &mut *self.log
    }
}

/// A row's ROWOFFSET (-1 when the batch has none).
pub fn offset_of(batch: &ChangeBatch, row: usize) -> i64 {
    batch
        .int64(ROWOFFSET)
        .filter(|a| row < a.len())
        .map_or(-1, |a| a.value(row))
}

/// The ROWOFFSET of every row (-1 each when the batch has none).
pub fn offsets_of(batch: &ChangeBatch) -> Vec<i64> {
    match batch.int64(ROWOFFSET) {
        Some(a) => a.values().to_vec(),
        None => vec![-1; batch.num_rows()],
    }
}
