//! Execution: a query's logical tree (`plan::logical`) planned into a graph of synchronous
//! operators (`physical`, `graph`, `ops`, `aggregate`) over change batches, and the driver
//! that runs the graph from its source topics to its sink topic or subscriber (`driver`);
//! `describe` says what graph a tree becomes, for EXPLAIN, without building it.
//!
//! Operators are plain structs; the driver owns the loop, and its caller owns threads and
//! timing (a production thread, or the conformance runner stepping queries by hand).
//!
//! May import: `common`, `plan`, `format`, `state`, `transport`.

pub mod aggregate;
pub mod decode;
pub mod describe;
pub mod driver;
pub mod encode;
pub mod eval;
pub mod graph;
pub mod join;
pub mod materialized;
pub mod operator;
pub mod ops;
pub mod physical;
pub mod processing_log;
pub mod pull;
pub mod query_state;
mod restore;
pub mod source;
pub mod table_rows;
#[cfg(test)]
pub mod testing;
pub mod topic_rows;

pub use driver::{
    MemberStart, QueryCounters, QueryDriver, QueryStart, RowSubscriber, StartError, StepError,
};
pub use materialized::{CommittedRows, Materialization, MaterializationError, SharedRows};
pub use processing_log::{ErrorKind, MemoryProcessingLog, ProcessingError, ProcessingLog};
pub use query_state::{QueryState, QueryStateError, StateLocation};
