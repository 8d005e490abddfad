//! One step of a running query: poll up to a number of records, process them, and commit (or
//! hand a push query's rows to its subscriber). What evaluation keeps for the step's batch is
//! bounded by the query's step budget (`common::limits::StepBudget`): a step that passes it is
//! rolled back (transaction aborted, state writes dropped, consumer rewound, its processing-log
//! entries dropped) and run again with half as many records, so nothing is committed or shown
//! twice. A single record that passes it is skipped: its offset is committed with no output and
//! it goes to the processing log. Each retry takes fewer records, so a step ends.
//!
//! May import what `exec::driver` does.

use super::{QueryDriver, StepError};
use crate::common::limits::StepBudget;
use crate::exec::processing_log::{MemoryProcessingLog, ProcessingError, ProcessingLog};
use crate::transport::{
    AppendOutcome, GroupMetadata, PartitionRecords, TopicPartition, TransportError,
};
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

/// How one try at a step ended.
enum Attempt {
    /// Committed (or nothing to do): the records consumed.
    Done(usize),
    /// Rolled back because evaluation passed the step budget.
    OverBudget {
        consumed: usize,
        /// The first record polled (the one to skip when it was alone).
        first: Option<(TopicPartition, i64)>,
    },
}

impl QueryDriver {
    /// Processes what the source has (up to `max_records`), waiting up to `timeout` for data,
    /// and commits. Returns how many input records were consumed. On an error before the
    /// commit, nothing of the step remains: its output is aborted, its state writes dropped,
    /// and its input will be read again.
    pub fn step(
        &mut self,
        max_records: usize,
        timeout: Duration,
        log: &mut dyn ProcessingLog,
    ) -> Result<usize, StepError> {
        if self.finished {
            return Ok(0);
        }
        let mut limit = max_records.min(self.step_cap).max(1);
        // Records held back for the order across partitions (`resume`), except in a last try
        // at one record alone, which is skipped if it passes the budget by itself.
        let mut hold_back = true;
        loop {
            match self.attempt(limit, timeout, hold_back, log)? {
                Attempt::Done(consumed) => return Ok(consumed),
                Attempt::OverBudget { consumed, .. } if consumed > 1 => {
                    limit = consumed / 2;
                    self.step_cap = limit;
                    tracing::debug!(query = %self.id, "a step of {consumed} records passed its budget; retrying with {limit}");
                }
                Attempt::OverBudget { .. } if hold_back => hold_back = false,
                Attempt::OverBudget { first, .. } => return self.skip_record(first, log),
            }
        }
    }

    /// One try at a step of up to `max_records` (more with `hold_back`: see `resume`); its
    /// processing-log entries reach `log` only if it is not run again.
    fn attempt(
        &mut self,
        max_records: usize,
        timeout: Duration,
        hold_back: bool,
        log: &mut dyn ProcessingLog,
    ) -> Result<Attempt, StepError> {
        let mut positions = self.positions();
        let (mut polled, first_poll) = self.poll_step(max_records, timeout, hold_back)?;
        if let Err(e) = self.apply_rebalances(&mut polled, &mut positions) {
            self.roll_back(&positions);
            return Err(e);
        }
        if polled.iter().all(|p| p.records.is_empty()) {
            return Ok(Attempt::Done(0));
        }
        self.outputs = Default::default();
        let mut step_log = MemoryProcessingLog::default();
        let budget = StepBudget::open(self.step_budget);
        let processed = self.process_polled(&polled, hold_back, &mut step_log);
        let (spent, over_budget) = (budget.spent(), budget.exceeded());
        drop(budget);
        if over_budget {
            self.roll_back(&positions);
            let first = first_record(&polled);
            let consumed = first_poll;
            return Ok(Attempt::OverBudget { consumed, first });
        }
        let (resumed, processed) = match processed {
            Ok(resumed) => (resumed, Ok(())),
            Err(e) => (Vec::new(), Err(e)),
        };
        let consumed = super::resume::consumed(&polled, &resumed);
        let committed = processed.and_then(|()| {
            self.deliver_rows();
            self.commit()
        });
        // A step that fails otherwise is read again: its entries are reported then, once; so
        // are those of records held back for the next step.
        if matches!(committed, Ok(_) | Err(StepError::Fatal(_))) {
            let read_again = |e: &ProcessingError| {
                resumed.iter().any(|(tp, offset)| {
                    *tp.topic == *e.topic && tp.partition == e.partition && e.offset >= *offset
                })
            };
            let errors = step_log.errors.into_iter().filter(|e| !read_again(e));
            errors.for_each(|e| log.report(e));
        }
        match committed {
            Ok((outcomes, written)) => {
                self.counters.records_in.fetch_add(consumed as u64, Relaxed);
                self.counters.records_out.fetch_add(written, Relaxed);
                for task in self.graphs_mut() {
                    task.committed_stream_time = task.stream_time;
                }
                self.flush_state(&outcomes)?;
                if spent < self.step_budget / 2 {
                    self.step_cap = self.step_cap.saturating_mul(2);
                }
                Ok(Attempt::Done(consumed))
            }
            Err(e) => {
                self.roll_back(&positions);
                if matches!(e, StepError::Transport(TransportError::Fenced(_))) {
                    self.renew_producer()?;
                }
                Err(e)
            }
        }
    }

    /// A record that alone passes the step budget: its offset is committed with no output, and
    /// it goes to the processing log.
    fn skip_record(
        &mut self,
        first: Option<(TopicPartition, i64)>,
        log: &mut dyn ProcessingLog,
    ) -> Result<usize, StepError> {
        let Some((tp, offset)) = first else {
            return Ok(0);
        };
        let positions = self.positions();
        let committed = self
            .consumer
            .seek(&tp, offset + 1)
            .map_err(StepError::from)
            .and_then(|()| self.begin())
            .and_then(|()| self.commit());
        match committed {
            Ok((outcomes, _)) => {
                let message = format!(
                    "Evaluating the record would keep more than {} MiB of values, the limit for one step of a query",
                    self.step_budget >> 20
                );
                let error =
                    ProcessingError::bad(&self.id, &tp.topic, tp.partition, offset, message);
                log.report(error);
                self.counters.records_in.fetch_add(1, Relaxed);
                self.flush_state(&outcomes)?;
                Ok(1)
            }
            Err(e) => {
                self.roll_back(&positions);
                Err(e)
            }
        }
    }

    /// Starts the step's transaction (a persistent query's).
    pub(super) fn begin(&mut self) -> Result<(), StepError> {
        if let Some(producer) = &mut self.producer {
            producer.begin_transaction()?;
        }
        Ok(())
    }

    /// Hands a push query's rows of the step to its subscriber, until it wants no more.
    fn deliver_rows(&mut self) {
        let rows = std::mem::take(&mut self.outputs.rows);
        let Some(subscriber) = &mut self.subscriber else {
            return;
        };
        for batch in rows {
            if !subscriber(&batch) {
                self.finished = true;
                break;
            }
        }
    }

    /// The consumer's position in each source partition.
    fn positions(&self) -> Vec<(TopicPartition, i64)> {
        self.partitions
            .iter()
            .filter_map(|tp| Some((tp.clone(), self.consumer.position(tp)?)))
            .collect()
    }

    /// Commits the step's transaction: output, changelog records and input offsets; and how
    /// many output records it wrote.
    fn commit(&mut self) -> Result<(Vec<(TopicPartition, AppendOutcome)>, u64), StepError> {
        let offsets = self.positions();
        let records = std::mem::take(&mut self.outputs.records);
        let Some(producer) = &mut self.producer else {
            return Ok((Vec::new(), 0));
        };
        let mut written = 0;
        for (topic, batch) in records {
            written += batch.len() as u64;
            for record in batch {
                producer.send(&topic, None, record)?;
            }
        }
        for (topic, partition, record) in std::mem::take(&mut self.outputs.repartitioned) {
            producer.send(&topic, Some(partition), record)?;
        }
        if let Some(state) = &self.state {
            state.send_changes(producer.as_mut())?;
        }
        let group = self
            .consumer
            .group_metadata()
            .unwrap_or_else(|| GroupMetadata::named(&self.group));
        producer.send_offsets_to_transaction(&group, &offsets)?;
        Ok((producer.commit_transaction()?, written))
    }

    /// After the commit, the state's writes become durable with the changelog positions. A
    /// failure here stops the query: the log holds the step, so it must not be rolled back
    /// (a restart restores the state from the changelog).
    fn flush_state(
        &mut self,
        outcomes: &[(TopicPartition, AppendOutcome)],
    ) -> Result<(), StepError> {
        let Some(state) = &mut self.state else {
            return Ok(());
        };
        state
            .committed(outcomes)
            .map_err(|e| StepError::Fatal(format!("writing the query's state after a commit: {e}")))
    }

    /// Undoes an uncommitted step: aborts its transaction, drops its state writes and a push
    /// query's undelivered rows, and moves the consumer back to where the step started.
    fn roll_back(&mut self, positions: &[(TopicPartition, i64)]) {
        self.outputs = Default::default();
        if let Some(producer) = &mut self.producer
            && let Err(e) = producer.abort_transaction()
        {
            tracing::warn!(query = %self.id, "aborting a failed step's transaction: {e}");
        }
        if let Some(state) = &mut self.state {
            state.discard();
        }
        let id = self.id.clone();
        for task in self.graphs_mut() {
            task.stream_time = task.committed_stream_time;
            if let Err(e) = task.graph.open() {
                tracing::warn!(query = %id, "reloading state after a failed step: {e}");
            }
        }
        for (tp, offset) in positions {
            if let Err(e) = self.consumer.seek(tp, *offset) {
                tracing::warn!(query = %self.id, "rewinding {tp} after a failed step: {e}");
            }
        }
    }
}

/// The partition and offset of the first record polled.
fn first_record(polled: &[PartitionRecords]) -> Option<(TopicPartition, i64)> {
    polled.iter().find_map(|p| {
        let record = p.records.first()?;
        Some((TopicPartition::new(&*p.topic, p.partition), record.offset))
    })
}
