//! Session windows (Kafka Streams' semantics): a row joins every session of its key within
//! the gap; those merge into one, and each merged-away session is deleted from the output.

use super::final_emit::retention;
use super::stores::Groups;
use super::{Aggregator, GroupState, RowError, RowUpdate, Rows, decode_group};
use crate::common::change::Op;
use crate::common::codec;
use crate::state::Session;

impl Aggregator {
    /// The row joins every session of its key that ends no more than `gap` before it or
    /// starts no more than `gap` after it; those are merged into one session, each merged
    /// one is deleted from the output, and the merged session is emitted with its end as
    /// the timestamp. A merged session that ends before the stream time minus the grace
    /// period is late: the row is dropped and reported as late.
    pub(super) fn update_session(
        &mut self,
        row: &RowUpdate<'_>,
        gap: i64,
        grace: i64,
        stream_time: i64,
        rows: &mut Rows,
    ) -> Result<(), RowError> {
        let emit_final = self.final_state.is_some();
        let mut earliest_end = row.time.saturating_sub(gap);
        // EMIT FINAL's store hides sessions that ended before its retention.
        let mut close = stream_time.saturating_sub(grace);
        if let (Some(f), Some(window)) = (self.final_state, &self.plan.window) {
            let visible = f.store_time.saturating_sub(retention(window)) + 1;
            earliest_end = earliest_end.max(visible);
            close = close.saturating_sub(gap);
        }
        let Groups::Sessions(sessions) = &mut self.stores.groups else {
            return Ok(());
        };
        let key = codec::encode_values(row.key);
        let found = sessions.find_sessions(&key, earliest_end, row.time.saturating_add(gap))?;
        let mut merged = self.initial(row.time);
        let (mut start, mut end) = (row.time, row.time);
        let mut absorbed: Vec<(Session, GroupState)> = Vec::with_capacity(found.len());
        for session in found {
            let Some(state) = decode_group(Some(&session.value))? else {
                continue;
            };
            merged = self.merge(merged, &state);
            (start, end) = (start.min(session.start), end.max(session.end));
            absorbed.push((session, state));
        }
        if end < close {
            rows.notes.push(format!(
                "Record is late for its session ending at {end} (stream time {stream_time}, grace {grace} ms) and was dropped"
            ));
            return Ok(());
        }
        let merged = self.add(merged, row)?;
        // As Kafka Streams: unless the merged session is the row's own point in time, every
        // session it absorbed is removed and deleted from the output (even one with the
        // merged session's bounds), and the merged session is written anew.
        let in_place = (start, end) == (row.time, row.time);
        for (session, state) in absorbed {
            if (session.start, session.end) != (start, end)
                && let Groups::Sessions(sessions) = &mut self.stores.groups
            {
                sessions.remove(&key, session.start, session.end)?;
            }
            if !emit_final && !in_place {
                let bounds = Some((session.start, session.end));
                self.emit(row.key, &state, bounds, session.end, Op::Delete, rows);
            }
        }
        if emit_final {
            self.final_written(end);
        } else {
            self.emit(
                row.key,
                &merged,
                Some((start, end)),
                end,
                Op::UpdateAfter,
                rows,
            );
        }
        if let Groups::Sessions(sessions) = &mut self.stores.groups {
            sessions.put(&key, start, end, &codec::encode(&merged))?;
        }
        Ok(())
    }
}
