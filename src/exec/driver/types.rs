//! What the driver's callers name: how a query starts (`QueryStart`), why a step or a start
//! failed (`StepError`, `StartError`, typed by who is at fault), a push query's subscriber and
//! a query's record counters.

use crate::common::change::ChangeBatch;
use crate::exec::operator::OperatorError;
use crate::exec::physical::PhysicalError;
use crate::exec::query_state::{QueryStateError, StateLocation};
use crate::plan::QueryPlan;
use crate::transport::AutoOffsetReset;

/// Why a query step failed: the log (transient: the step is retried), the state store (the
/// step is rolled back and retried), the data in a way the query's settings make fatal (the
/// query stops, as ksqlDB's goes to ERROR), or Brook itself (the query stops).
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    #[error(transparent)]
    Transport(#[from] crate::transport::TransportError),
    #[error(transparent)]
    State(#[from] crate::state::StateError),
    #[error("{0}")]
    Fatal(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<OperatorError> for StepError {
    fn from(e: OperatorError) -> Self {
        match e {
            OperatorError::State(e) => StepError::State(e),
            OperatorError::Fatal(m) => StepError::Fatal(m),
            OperatorError::Internal(m) => StepError::Internal(m),
        }
    }
}

/// Why a query could not start: its source or sink, its state (restored from its changelogs
/// before the query runs), or a plan Brook cannot run.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Transport(#[from] crate::transport::TransportError),
    #[error(transparent)]
    State(#[from] QueryStateError),
    #[error("{0}")]
    Unsupported(String),
    /// Brook failed building or opening the query's operators.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<crate::state::StateError> for StartError {
    fn from(e: crate::state::StateError) -> Self {
        StartError::State(e.into())
    }
}

impl From<PhysicalError> for StartError {
    fn from(e: PhysicalError) -> Self {
        match e {
            PhysicalError::State(e) => StartError::State(e),
            PhysicalError::Unsupported(m) => StartError::Unsupported(m),
        }
    }
}

impl From<OperatorError> for StartError {
    fn from(e: OperatorError) -> Self {
        match e {
            OperatorError::State(e) => e.into(),
            OperatorError::Fatal(m) => StartError::Unsupported(m),
            OperatorError::Internal(m) => StartError::Internal(m),
        }
    }
}

/// Receives a push query's rows (a table's deletions as `-` rows); returns false to stop the
/// query.
pub type RowSubscriber = Box<dyn FnMut(&ChangeBatch) -> bool + Send>;

/// A query's record counts since it started in this process, readable from other threads
/// (`/metrics`). Counted at each commit, so a rolled-back step counts nothing.
#[derive(Debug, Default)]
pub struct QueryCounters {
    /// Input records consumed.
    pub records_in: std::sync::atomic::AtomicU64,
    /// Output records written to the sink topic (tombstones included).
    pub records_out: std::sync::atomic::AtomicU64,
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
    /// Where the query's operators keep their state.
    pub state: StateLocation,
    /// Set when the query's work is split among the servers of its consumer group (a
    /// persistent query of a shared catalog on Kafka); `None`: this server runs every task.
    pub member: Option<MemberStart>,
}

/// How a server takes part in a query whose work is split (`QueryStart::member`).
#[derive(Clone)]
pub struct MemberStart {
    /// Where tasks that move here restore their state from (the driver keeps it).
    pub transport: std::sync::Arc<dyn crate::transport::Transport>,
    /// The query's transactional id on this server (stable across its restarts, so a
    /// restarted server fences its predecessor; zombies of other servers are fenced by the
    /// group's generation).
    pub transactional_id: String,
}
