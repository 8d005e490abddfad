//! EMIT FINAL: one result per window, when the window closes, with the semantics of ksqlDB 8
//! (Kafka Streams' `EmitStrategy.onWindowClose()`, which ksqlDB's conformance tests pin down):
//!
//! - Windows are aggregated in the store without output. After each row, if the close time
//!   (stream time − grace, minus the gap for sessions) moved past the last emission's, the
//!   windows that closed since are read from the store and emitted: time windows whose start
//!   is in `[lower, close − size]`, sessions whose end is in `[lower, close − 1]`, where
//!   `lower` continues where the previous emission stopped.
//! - Time windows starting before the store time (the largest window start written) minus the
//!   retention (size + grace unless RETENTION is given) are invisible, as in Kafka Streams'
//!   time-ordered window store: a row for one starts it afresh, and an emission skips it.
//!   ksqlDB drops such windows silently; Brook reports each to the processing log.
//! - Without GRACE PERIOD, EMIT FINAL windows have no grace (the planner sets it to 0).
//!
//! The emission state (last close time emitted, store time) is kept in the stream-time store,
//! so it survives restarts with the windows.

use super::stores::Groups;
use super::windows::windows_for;
use super::{Aggregator, RowError, Rows, decode_group};
use crate::common::change::Op;
use crate::common::{Value, codec};
use crate::format::WindowKind;
use crate::plan::aggregate::WindowPlan;
use crate::state::StateError;

/// "Never emitted" / "no window written yet", as Kafka Streams' `NO_TIMESTAMP`.
const NONE: i64 = -1;

/// Where EMIT FINAL stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FinalState {
    /// The close time of the last emission.
    pub last_emit: i64,
    /// The largest window start (session end) written to the store.
    pub store_time: i64,
}

impl Default for FinalState {
    fn default() -> Self {
        FinalState {
            last_emit: NONE,
            store_time: NONE,
        }
    }
}

/// How long windows stay visible: RETENTION, or size (gap) + grace.
pub fn retention(window: &WindowPlan) -> i64 {
    let grace = window.grace_ms.unwrap_or(0);
    window
        .retention_ms
        .unwrap_or_else(|| window.size_ms.saturating_add(grace))
}

impl Aggregator {
    /// Whether a stored time window is still visible to EMIT FINAL.
    pub(super) fn final_visible(&self, start: i64) -> bool {
        match (&self.final_state, &self.plan.window) {
            (Some(f), Some(w)) => start >= f.store_time.saturating_sub(retention(w)),
            _ => true,
        }
    }

    /// Records that a window starting (a session ending) at `time` was written.
    pub(super) fn final_written(&mut self, time: i64) {
        if let Some(f) = &mut self.final_state {
            f.store_time = f.store_time.max(time);
        }
    }

    /// After a row: emits the windows that closed since the last emission.
    pub(super) fn emit_closed(
        &mut self,
        stream_time: i64,
        rows: &mut Rows,
    ) -> Result<(), RowError> {
        let (Some(state), Some(window)) = (self.final_state, self.plan.window.clone()) else {
            return Ok(());
        };
        let grace = window.grace_ms.unwrap_or(0);
        let mut close = stream_time.saturating_sub(grace);
        if window.kind == WindowKind::Session {
            close = close.saturating_sub(window.size_ms);
        }
        if state.last_emit != NONE && state.last_emit >= close {
            return Ok(());
        }
        let emitted = match window.kind {
            WindowKind::Session => self.emit_sessions(state, close, rows)?,
            _ => self.emit_windows(&window, state, close, rows)?,
        };
        if emitted && let Some(f) = &mut self.final_state {
            f.last_emit = close;
        }
        Ok(())
    }

    /// Time windows with start in `[lower, close - size]`; false when the range was empty in
    /// the way Kafka Streams skips without moving its last emission.
    fn emit_windows(
        &mut self,
        window: &WindowPlan,
        state: FinalState,
        close: i64,
        rows: &mut Rows,
    ) -> Result<bool, StateError> {
        let size = window.size_ms;
        let upper = close.saturating_sub(size);
        if upper < 0 {
            return Ok(false);
        }
        let lower = match state.last_emit {
            NONE => 0,
            last => last.saturating_sub(size).max(0) + 1,
        };
        if state.last_emit != NONE && windows_for(window, upper) == windows_for(window, lower - 1) {
            return Ok(false);
        }
        let Groups::Windows(store) = &self.stores.groups else {
            return Ok(false);
        };
        let visible_from = state.store_time.saturating_sub(retention(window));
        for entry in store.fetch_all(lower, upper)? {
            let key = codec::decode::<Vec<Value>>(&entry.key)
                .map_err(|e| self.malformed(e.to_string()))?;
            let bounds = Some((entry.start, entry.start.saturating_add(size)));
            if entry.start < visible_from {
                rows.notes.push(skipped_note(&key, bounds, visible_from));
                continue;
            }
            let Some(group) = self.stored_group(&entry.value)? else {
                continue;
            };
            self.emit(&key, &group, bounds, group.timestamp, Op::UpdateAfter, rows);
        }
        Ok(true)
    }

    /// Sessions with end in `[lower, close - 1]`, each with its end as timestamp.
    fn emit_sessions(
        &mut self,
        state: FinalState,
        close: i64,
        rows: &mut Rows,
    ) -> Result<bool, StateError> {
        let upper = close.saturating_sub(1);
        let lower = state.last_emit.max(0);
        if upper < 0 || upper < lower {
            return Ok(false);
        }
        let Groups::Sessions(store) = &self.stores.groups else {
            return Ok(false);
        };
        for session in store.sessions_ending(lower, upper)? {
            let key = codec::decode::<Vec<Value>>(&session.key)
                .map_err(|e| self.malformed(e.to_string()))?;
            let Some(group) = self.stored_group(&session.value)? else {
                continue;
            };
            let bounds = Some((session.start, session.end));
            self.emit(&key, &group, bounds, session.end, Op::UpdateAfter, rows);
        }
        Ok(true)
    }

    /// Where expiry must stop so that no window is removed before an emission passed it.
    pub(super) fn final_expiry_limit(&self) -> Option<i64> {
        let (f, w) = (self.final_state?, self.plan.window.as_ref()?);
        Some(match (f.last_emit, w.kind) {
            (NONE, _) => 0,
            (last, WindowKind::Session) => last.max(0),
            (last, _) => last.saturating_sub(w.size_ms).max(0) + 1,
        })
    }

    /// A group read from the store (a value that does not decode is a damaged store).
    fn stored_group(&self, value: &[u8]) -> Result<Option<super::GroupState>, StateError> {
        match decode_group(Some(value)) {
            Ok(group) => Ok(group),
            Err(RowError::State(e)) => Err(e),
            Err(RowError::Data(reason)) => Err(self.malformed(reason)),
        }
    }

    fn malformed(&self, reason: String) -> StateError {
        StateError::Malformed {
            path: self.stores.groups.store().path().to_path_buf(),
            what: "group key",
            reason,
        }
    }
}

/// The processing-log message for a closed window that EMIT FINAL does not emit.
fn skipped_note(key: &[Value], bounds: Option<(i64, i64)>, visible_from: i64) -> String {
    let (start, end) = bounds.unwrap_or_default();
    let key: Vec<String> = key.iter().map(|v| format!("{v:?}")).collect();
    format!(
        "EMIT FINAL: window [{start}, {end}) of key ({}) closed after the store's retention passed it (windows starting before {visible_from} are no longer visible), so it has no final result; ksqlDB drops it silently",
        key.join(", ")
    )
}
