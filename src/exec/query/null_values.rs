//! Records with a null value (no value bytes, or a JSON `null`): a table's deletions undone
//! from an aggregation, shown to a push query as tombstone rows, or passed through to a
//! stateless query's sink as tombstones. A stream's null-value records that a query drops (an
//! aggregation, a WHERE clause, a push query) go to the processing log. Polled records are
//! split into runs of records with values and single null-value records (`runs`).

use super::{Output, RunningQuery, StepError};
use crate::exec::processing_log::{ProcessingError, ProcessingLog};

impl RunningQuery {
    /// Tombstones of a table that an aggregation reads: each removes its row's contribution.
    pub(super) fn retract_rows(
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
                    log.report(ProcessingError::bad(
                        &self.id,
                        source_topic,
                        partition,
                        r.offset,
                        message,
                    ));
                    continue;
                }
            };
            let Some((aggregator, _)) = &mut self.aggregator else {
                return Ok(());
            };
            if let Some((groups, roles)) = aggregator.retract_row(&key, r.timestamp, log)? {
                self.emit_groups(&groups, &roles, source_topic, partition, log)?;
            }
        }
        Ok(())
    }

    /// A table's null-value records, to a push query: rows of their key with NULL values,
    /// marked as deletions (filtered by WHERE when it reads only the key). A stream's
    /// null-value records are not rows: they are skipped (and reported).
    fn push_deletions(
        &mut self,
        source_topic: &str,
        partition: u32,
        records: &[crate::transport::Record],
        log: &mut dyn ProcessingLog,
    ) -> std::result::Result<(), StepError> {
        if self.aggregator.is_some() {
            self.report_dropped(AGGREGATION_SKIPS, source_topic, partition, records, log);
            return Ok(());
        }
        if !self.table_source {
            self.report_dropped(PUSH_QUERY_SKIPS, source_topic, partition, records, log);
            return Ok(());
        }
        let decoded = self
            .decoder
            .decode_tombstones(source_topic, partition, records, log);
        let Ok(Some(batch)) = decoded else {
            return Ok(());
        };
        let Some(out) = self
            .pipeline
            .project_deletions(&batch, source_topic, partition, log)
        else {
            return Ok(());
        };
        if let Output::Rows(_) = &self.output {
            let deleted = vec![true; out.num_rows()];
            self.pending_rows.push((out, deleted));
        }
        Ok(())
    }

    /// Null-value records of a stream: forwarded as null-value records when the query has no
    /// WHERE clause (a predicate is false on a null row); push queries skip them.
    pub(super) fn pass_through(
        &mut self,
        source_topic: &str,
        partition: u32,
        records: &[crate::transport::Record],
        log: &mut dyn ProcessingLog,
    ) -> std::result::Result<(), StepError> {
        let Output::Topic {
            topic,
            tombstones,
            producer,
            ..
        } = &mut self.output
        else {
            return self.push_deletions(source_topic, partition, records, log);
        };
        // A stream's WHERE drops null rows; a table's deletions always pass.
        if self.aggregator.is_some() {
            self.report_dropped(AGGREGATION_SKIPS, source_topic, partition, records, log);
            return Ok(());
        }
        if tombstones.filtered && !self.table_source {
            self.report_dropped(WHERE_DROPS, source_topic, partition, records, log);
            return Ok(());
        }
        for r in records {
            match tombstones.pass_through(r) {
                Ok((record, key)) => {
                    producer.send(topic, None, record)?;
                    self.step_out += 1;
                    if let Some(rows) = &mut self.table_rows {
                        rows.delete_key(&key);
                    }
                }
                Err(message) => log.report(ProcessingError::bad(
                    &self.id,
                    source_topic,
                    partition,
                    r.offset,
                    message,
                )),
            }
        }
        Ok(())
    }

    /// Reports null-value records of a stream that the query drops.
    fn report_dropped(
        &self,
        why: &str,
        source_topic: &str,
        partition: u32,
        records: &[crate::transport::Record],
        log: &mut dyn ProcessingLog,
    ) {
        for r in records {
            let message = format!("A record with a null value is dropped: {why}");
            log.report(ProcessingError::bad(
                &self.id,
                source_topic,
                partition,
                r.offset,
                message,
            ));
        }
    }
}

/// Why a stream's null-value record is dropped, by query shape.
const AGGREGATION_SKIPS: &str = "an aggregation over a stream skips records without values";
const WHERE_DROPS: &str = "a WHERE clause is false for a stream row without values";
const PUSH_QUERY_SKIPS: &str = "a push query over a stream shows only rows with values";

/// Index ranges of the runs of records with values and, alone, each null-value record (given
/// whether each record's value is null), in order.
pub(super) fn runs(null_values: &[bool]) -> Vec<(std::ops::Range<usize>, bool)> {
    let mut out: Vec<(std::ops::Range<usize>, bool)> = Vec::new();
    for (i, null_value) in null_values.iter().enumerate() {
        match out.last_mut() {
            Some((range, false)) if !null_value => range.end = i + 1,
            _ => out.push((i..i + 1, *null_value)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::runs;

    #[test]
    fn null_values_are_runs_of_their_own() {
        assert_eq!(
            runs(&[false, false, true, true, false]),
            vec![(0..2, false), (2..3, true), (3..4, true), (4..5, false)]
        );
        assert!(runs(&[]).is_empty());
    }
}
