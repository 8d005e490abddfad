//! Pull queries' rows: a table's current rows (or a stream's) run once through the pull
//! query's operators — the same filter and projection a push query over them runs.

use super::driver::StepError;
use super::operator::{Ctx, Origin, Outputs};
use super::physical::{self, PhysicalContext, PhysicalError};
use super::processing_log::MemoryProcessingLog;
use super::query_state::StateLocation;
use crate::common::change::{ChangeBatch, Op};
use crate::plan::QueryPlan;
use crate::plan::logical::{SinkTarget, logical_plan};
use arrow::record_batch::RecordBatch;

/// Why a pull query's rows could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum PullError {
    #[error(transparent)]
    Plan(#[from] PhysicalError),
    #[error(transparent)]
    Step(#[from] StepError),
}

/// The rows of `rows` (in the source's batch layout) that `plan` selects, projected, with
/// the processing errors met on the way.
pub fn select(
    plan: &QueryPlan,
    rows: RecordBatch,
) -> Result<(Vec<RecordBatch>, MemoryProcessingLog), PullError> {
    let root = logical_plan(plan, SinkTarget::Subscriber);
    let no_state = StateLocation::Temporary {
        changelog_prefix: None,
    };
    let ctx = PhysicalContext {
        query_id: "pull_query",
        fatal_timestamp_errors: false,
        state: &no_state,
        source_partitions: 1,
        changelog_partitions: &|_| None,
        describe_only: false,
    };
    let physical = physical::plan(&root, &ctx)?;
    let Some(mut graph) = physical.stages.into_iter().flatten().next() else {
        return Err(PullError::Plan(PhysicalError::Unsupported(
            "a pull query without operators".into(),
        )));
    };
    let mut log = MemoryProcessingLog::default();
    let mut outputs = Outputs::default();
    let origin = Origin {
        topic: plan.source.topic.clone(),
        partition: 0,
    };
    let mut ctx = Ctx::new("pull_query", &origin, &mut log, &mut outputs);
    graph
        .push_input(0, ChangeBatch::inserts(rows), &mut ctx)
        .map_err(StepError::from)?;
    let selected = outputs
        .rows
        .into_iter()
        .map(|b| {
            debug_assert!((0..b.num_rows()).all(|r| b.op(r) == Op::Insert));
            b.into_data()
        })
        .collect();
    Ok((selected, log))
}
