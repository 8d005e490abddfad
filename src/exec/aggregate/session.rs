//! Session windows (Kafka Streams' semantics): a row joins every session of its key within
//! the gap; those merge into one, and each merged-away session is deleted from the output.

use super::{Aggregator, GroupState, RowRole, RowUpdate, Rows};
use crate::common::codec;

impl Aggregator {
    /// Session windows (Kafka Streams' semantics): the row joins every session of its key
    /// that ends no more than `gap` before it or starts no more than `gap` after it; those
    /// are merged into one session, each merged one is deleted from the output, and the
    /// merged session is emitted with its end as the timestamp.
    pub(super) fn update_session(
        &mut self,
        row: &RowUpdate<'_>,
        gap: i64,
        grace: i64,
        rows: &mut Rows,
    ) -> Result<(), String> {
        let prefix = codec::encode_values(row.key);
        let mut merged = self.initial(row.time);
        let (mut start, mut end) = (row.time, row.time);
        let mut absorbed = Vec::new();
        for (key, bytes) in self.store.prefix(&prefix)? {
            let Some((s, e)) = session_bounds(&key[prefix.len()..]) else {
                continue;
            };
            if e < row.time.saturating_sub(gap) || s > row.time.saturating_add(gap) {
                continue;
            }
            let state = codec::decode::<GroupState>(&bytes).map_err(|e| e.to_string())?;
            merged = self.merge(merged, &state);
            (start, end) = (start.min(s), end.max(e));
            absorbed.push((key, s, e, state));
        }
        if end < self.stream_time.saturating_sub(grace) {
            return Err(format!(
                "Record is late for its session ending at {end} (stream time {}, grace {grace} ms) and was dropped",
                self.stream_time
            ));
        }
        let merged = self.add(merged, row)?;
        let mut same = None;
        for (key, s, e, state) in absorbed {
            if (s, e) == (start, end) {
                same = Some(state);
                continue;
            }
            self.store.delete(&key)?;
            self.emit(row.key, &state, Some((s, e)), e, RowRole::Deleted, rows);
        }
        if let Some(old) = same {
            self.emit(row.key, &old, Some((start, end)), end, RowRole::Old, rows);
        }
        let mut key = prefix;
        key.extend_from_slice(&session_suffix(start, end));
        self.emit(
            row.key,
            &merged,
            Some((start, end)),
            end,
            RowRole::New,
            rows,
        );
        self.store.put(&key, &codec::encode(&merged))
    }
}

/// A session's key suffix: end then start, big-endian.
fn session_suffix(start: i64, end: i64) -> [u8; 16] {
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&end.to_be_bytes());
    out[8..].copy_from_slice(&start.to_be_bytes());
    out
}

fn session_bounds(suffix: &[u8]) -> Option<(i64, i64)> {
    let end = i64::from_be_bytes(suffix.get(..8)?.try_into().ok()?);
    let start = i64::from_be_bytes(suffix.get(8..16)?.try_into().ok()?);
    Some((start, end))
}
