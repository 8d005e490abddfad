//! Execution: the operators that run a query over Arrow batches (decode, filter/project,
//! encode) and the loop that drives them from a source topic to a sink topic or subscriber.
//!
//! Operators are plain structs; the caller owns threads and timing (a production thread, or
//! the conformance driver stepping queries one record at a time).
//!
//! May import: `common`, `plan`, `format`, `state`, `transport`.

pub mod aggregate;
pub mod decode;
pub mod encode;
pub mod materialized;
pub mod operator;
pub mod pipeline;
pub mod processing_log;
pub mod query;
pub mod query_state;
mod table_changes;
pub mod table_rows;
#[cfg(test)]
pub mod testing;
pub mod tombstone;
pub mod topic_rows;

pub use materialized::{CommittedRows, Materialization, MaterializationError};
pub use processing_log::{ErrorKind, MemoryProcessingLog, ProcessingError, ProcessingLog};
pub use query::{
    Output, QueryCounters, QueryStart, RunningQuery, StartError, StepError, output_schema,
};
pub use query_state::{QueryState, QueryStateError, StateLocation};
