//! How an aggregation's output rows become changes to its table: HAVING decides which rows
//! are visible, a row that stops being visible becomes a deletion, and only rows that change
//! the table are kept.

use super::aggregate::RowRole;
use super::processing_log::ProcessingLog;
use crate::plan::Compiled;
use arrow::record_batch::RecordBatch;

/// Which aggregation rows change the output table, and which of those are deletions: a new
/// aggregate is written if HAVING holds for it, and otherwise deletes the group's row if the
/// previous aggregate was visible; a merged-away session is deleted if it was visible.
pub(super) fn table_changes(roles: &[RowRole], visible: &[bool]) -> (Vec<bool>, Vec<bool>) {
    let mut keep = Vec::with_capacity(roles.len());
    let mut deleted = Vec::new();
    for (i, role) in roles.iter().enumerate() {
        let shown = visible.get(i).copied().unwrap_or(false);
        let was_shown = i > 0 && roles[i - 1] == RowRole::Old && visible[i - 1];
        let change = match role {
            RowRole::Old => None,
            RowRole::Deleted => shown.then_some(true),
            RowRole::New if shown => Some(false),
            RowRole::New => was_shown.then_some(true),
        };
        keep.push(change.is_some());
        deleted.extend(change);
    }
    (keep, deleted)
}

/// Rows for which HAVING is TRUE.
pub(super) fn passes(
    having: &Compiled,
    groups: &RecordBatch,
    log: &mut dyn ProcessingLog,
    query_id: &str,
) -> Vec<bool> {
    let mut report = |_row: usize, message: String| {
        log.report(crate::exec::ProcessingError::bad(
            query_id, "", 0, -1, message,
        ))
    };
    let mask = super::pipeline::evaluate(having, groups, &mut report, true);
    let mask = mask.as_any().downcast_ref::<arrow::array::BooleanArray>();
    (0..groups.num_rows())
        .map(|i| mask.is_some_and(|m| !arrow::array::Array::is_null(m, i) && m.value(i)))
        .collect()
}

/// The rows marked in `keep`.
pub(super) fn keep_rows(batch: &RecordBatch, keep: &[bool]) -> Option<RecordBatch> {
    let keep: arrow::array::BooleanArray = keep.iter().map(|k| Some(*k)).collect();
    arrow::compute::filter_record_batch(batch, &keep)
        .ok()
        .filter(|b| b.num_rows() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use RowRole::{Deleted, New, Old};

    #[test]
    fn having_hides_without_deleting_what_was_never_shown() {
        // A group shown, then failing HAVING: one deletion. Failing again: nothing.
        let roles = [New, Old, New, Old, New];
        let visible = [true, true, false, false, false];
        let (keep, deleted) = table_changes(&roles, &visible);
        assert_eq!(keep, [true, false, true, false, false]);
        assert_eq!(deleted, [false, true]);
        // A merged-away session is deleted only if it was visible.
        let (keep, deleted) = table_changes(&[Deleted, Deleted, New], &[true, false, true]);
        assert_eq!(keep, [true, false, true]);
        assert_eq!(deleted, [true, false]);
    }
}
