//! Manual mode: the caller runs the persistent queries' steps (the conformance runner, tests
//! and `brook bench`), until no query has input left, or until every query has consumed its
//! sources to their end (a log whose records arrive over the network, Kafka, may have nothing
//! ready for a poll that does not wait).

use super::error::{EngineError, EngineResult};
use super::{Engine, QueryRunner};
use std::time::{Duration, Instant};

impl Engine {
    /// Manual mode: runs every query until none has input left; returns records processed.
    pub fn run_until_idle(&mut self) -> EngineResult<usize> {
        self.run_until_idle_with(1)
    }

    /// [`Engine::run_until_idle`] with each step of a query consuming up to
    /// `max_records_per_step` input records (one poll, one output transaction), as `brook
    /// bench` does; `run_until_idle` steps one record at a time, as the conformance driver needs.
    pub fn run_until_idle_with(&mut self, max_records_per_step: usize) -> EngineResult<usize> {
        self.run_steps(max_records_per_step, Duration::ZERO)
    }

    /// Steps every query (each step waiting up to `wait` for records) until a round of steps
    /// consumes nothing; returns records processed.
    fn run_steps(&mut self, max_records_per_step: usize, wait: Duration) -> EngineResult<usize> {
        let max_records = max_records_per_step.max(1);
        let mut total = 0;
        loop {
            let mut progressed = 0;
            for runner in self.runners.values_mut() {
                if let QueryRunner::Manual(q) = runner {
                    let mut log = self
                        .processing_log
                        .lock()
                        .map_err(|_| EngineError::Statement("processing log poisoned".into()))?;
                    progressed += q.step(max_records, wait, &mut *log).map_err(step_error)?;
                }
            }
            if progressed == 0 {
                return Ok(total);
            }
            total += progressed;
        }
    }

    /// Manual mode: runs every query, each step consuming up to `max_records_per_step`, until
    /// each has consumed its sources to the end offsets measured now (polls wait for records
    /// to arrive); fails after `timeout`. Returns the records processed.
    pub fn run_until_caught_up(
        &mut self,
        max_records_per_step: usize,
        timeout: Duration,
    ) -> EngineResult<usize> {
        let deadline = Instant::now() + timeout;
        let mut ends = Vec::new();
        for runner in self.runners.values() {
            if let QueryRunner::Manual(q) = runner {
                ends.push(q.end_offsets(self.transport.as_ref())?);
            }
        }
        let mut total = 0;
        loop {
            total += self.run_steps(max_records_per_step, Duration::from_millis(50))?;
            let mut behind = Vec::new();
            let manual = self.runners.values().filter_map(|r| match r {
                QueryRunner::Manual(q) => Some(q),
                QueryRunner::Thread { .. } => None,
            });
            for (q, ends) in manual.zip(&ends) {
                behind.extend(q.behind(ends));
            }
            if behind.is_empty() {
                return Ok(total);
            }
            if Instant::now() > deadline {
                return Err(EngineError::Internal(format!(
                    "queries did not consume their input within {timeout:?}: behind at {behind:?}"
                )));
            }
        }
    }
}

/// A step's error as the engine reports it.
fn step_error(e: crate::exec::StepError) -> EngineError {
    match e {
        crate::exec::StepError::Transport(t) => EngineError::Transport(t),
        crate::exec::StepError::Fatal(m) => EngineError::Statement(m),
        crate::exec::StepError::State(e) => EngineError::Statement(e.to_string()),
        crate::exec::StepError::Internal(m) => EngineError::Internal(m),
    }
}
