//! What a step reads and where the next one resumes, so that the order in which a task takes
//! its partitions' records (`order`) does not depend on how many records a poll returns. A
//! poll fills its budget from the partitions it visits first, so a step polls again while a
//! source partition has records that none of its polls returned; after the tasks ran, the
//! consumer goes back to the first record a task held back, and the step commits the offsets of
//! what was taken. A partition that several inputs read (a self-join) resumes after the last
//! record any of them took; the others take their rows of those records first.
//!
//! May import what `exec::driver` does.

use super::QueryDriver;
use super::order::Queue;
use super::types::StepError;
use crate::exec::processing_log::ProcessingLog;
use crate::transport::{PartitionRecords, TopicPartition};
use std::time::Duration;

impl QueryDriver {
    /// Polls up to `max_records`, waiting up to `timeout` for data; with `hold_back`, then
    /// polls again without waiting while a source partition has records that no poll of the
    /// step returned (at most once per partition). Returns the records and how many the first
    /// poll returned.
    pub(super) fn poll_step(
        &mut self,
        max_records: usize,
        timeout: Duration,
        hold_back: bool,
    ) -> Result<(Vec<PartitionRecords>, usize), StepError> {
        let mut polled = self.consumer.poll(max_records, timeout)?;
        let first = polled.iter().map(|p| p.records.len()).sum();
        if first == 0 || !hold_back {
            return Ok((polled, first));
        }
        for _ in 1..self.partitions.len() {
            let missing = self.partitions.iter().any(|tp| {
                let seen = polled
                    .iter()
                    .any(|p| *p.topic == *tp.topic && p.partition == tp.partition);
                !seen && self.has_more(&tp.topic, tp.partition)
            });
            if !missing {
                break;
            }
            let more = self.consumer.poll(max_records, Duration::ZERO)?;
            if more.is_empty() {
                break;
            }
            polled.extend(more);
        }
        Ok((polled, first))
    }

    /// Whether the consumer has not read all of `topic`'s partition `partition` yet.
    pub(super) fn has_more(&self, topic: &str, partition: u32) -> bool {
        let tp = TopicPartition::new(topic, partition);
        match (self.consumer.position(&tp), self.consumer.end_offset(&tp)) {
            (Some(position), Some(end)) => position < end,
            _ => false,
        }
    }

    /// After the tasks took what they could: per source partition, the other inputs that
    /// read it take their rows of the records one input took, and the consumer goes back to
    /// the first record no input took. Returns the partitions moved back and their offsets.
    pub(super) fn resume(
        &mut self,
        queues: &mut [Vec<Queue>],
        log: &mut dyn ProcessingLog,
    ) -> Result<Vec<(TopicPartition, i64)>, StepError> {
        let mut resumed = Vec::new();
        for (task, task_queues) in queues.iter_mut().enumerate() {
            let mut partitions: Vec<(usize, u32)> = Vec::new();
            for q in task_queues.iter() {
                let tp = (self.source_index(q.input), q.partition);
                if !partitions.contains(&tp) {
                    partitions.push(tp);
                }
            }
            for (source, partition) in partitions {
                let same =
                    |q: &Queue| q.partition == partition && self.source_index(q.input) == source;
                // The furthest any input took: none left (all taken), or the first left.
                let mut furthest = Some(i64::MIN);
                for q in task_queues.iter().filter(|q| same(q)) {
                    let left = q.resume_offset().map_err(StepError::Internal)?;
                    furthest = furthest.zip(left).map(|(a, b)| a.max(b));
                }
                let behind = furthest.unwrap_or(i64::MAX);
                let mut catch_up = Vec::new();
                for q in task_queues.iter_mut().filter(|q| same(q)) {
                    if let Some(slice) = q.take_below(behind) {
                        catch_up.push((q.input, slice));
                    }
                }
                for (input, slice) in catch_up {
                    self.run_source_slice(task, input, partition, slice, log)?;
                }
                if let Some(offset) = furthest {
                    let tp = TopicPartition::new(&self.sources[source].topic, partition);
                    self.consumer.seek(&tp, offset)?;
                    resumed.push((tp, offset));
                }
            }
        }
        Ok(resumed)
    }

    /// The first source input reading the same topic as `input` (inputs of one topic share
    /// its partitions' positions).
    fn source_index(&self, input: usize) -> usize {
        let topic = &self.sources[input].topic;
        self.sources
            .iter()
            .position(|s| s.topic == *topic)
            .unwrap_or(input)
    }
}

/// Records of `polled` before where the consumer now is in their partition: what the step
/// consumed.
pub(super) fn consumed(polled: &[PartitionRecords], resumed: &[(TopicPartition, i64)]) -> usize {
    polled
        .iter()
        .map(|p| {
            let back = resumed
                .iter()
                .find(|(tp, _)| *tp.topic == *p.topic && tp.partition == p.partition);
            match back {
                Some((_, offset)) => p.records.partition_point(|r| r.offset < *offset),
                None => p.records.len(),
            }
        })
        .sum()
}
