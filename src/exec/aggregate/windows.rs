//! Which time windows a record falls in, and the end of a batch: stream time stored, windows
//! past retention removed.

use super::stores::Groups;
use super::{Aggregator, DEFAULT_GRACE_MS};
use crate::format::WindowKind;
use crate::plan::aggregate::WindowPlan;
use crate::state::StateError;

/// The time windows (start, end) a timestamp falls in: one tumbling window, or every hopping
/// window that contains it (Kafka Streams' `TimeWindows.windowsFor`).
pub(super) fn windows_for(w: &WindowPlan, time: i64) -> Vec<Option<(i64, i64)>> {
    let size = w.size_ms.max(1);
    let advance = match w.kind {
        WindowKind::Hopping => w.advance_ms.unwrap_or(size).max(1),
        _ => size,
    };
    let first = (time - size + advance).max(0);
    let mut start = first - first.rem_euclid(advance);
    let mut out = Vec::new();
    while start <= time {
        if start + size > time {
            out.push(Some((start, start + size)));
        }
        start += advance;
    }
    out
}

impl Aggregator {
    /// After a batch: stores the stream time and removes windows past retention.
    pub(super) fn finish_batch(&mut self) -> Result<(), StateError> {
        if self.stream_time != i64::MIN {
            self.stores.set_stream_time(self.stream_time);
        }
        if let Some(state) = self.final_state {
            self.stores.set_final_state(&state);
        }
        self.expire()
    }

    /// Removes the windows (sessions) that the stream time has moved past by
    /// more than the retention: no record can update them any more.
    fn expire(&mut self) -> Result<(), StateError> {
        let Some(window) = &self.plan.window else {
            return Ok(());
        };
        if self.stream_time == i64::MIN {
            return Ok(());
        }
        let oldest = self.stream_time;
        let grace = window.grace_ms.unwrap_or(DEFAULT_GRACE_MS);
        let kept = window.size_ms.saturating_add(grace);
        let retention = window.retention_ms.unwrap_or(0).max(kept);
        let mut before = oldest.saturating_sub(retention);
        if let Some(limit) = self.final_expiry_limit() {
            before = before.min(limit);
        }
        if before <= self.expired_before {
            return Ok(());
        }
        let from = self.expired_before;
        match &mut self.stores.groups {
            Groups::Windows(w) => w.expire_between(from, before)?,
            Groups::Sessions(s) => s.expire_between(from, before)?,
            Groups::Plain(_) => 0,
        };
        self.expired_before = before;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(kind: WindowKind, size: i64, advance: Option<i64>) -> WindowPlan {
        WindowPlan {
            kind,
            size_ms: size,
            advance_ms: advance,
            grace_ms: None,
            retention_ms: None,
        }
    }

    #[test]
    fn tumbling_and_hopping_windows_contain_the_time() {
        let t = spec(WindowKind::Tumbling, 1000, None);
        assert_eq!(windows_for(&t, 2500), vec![Some((2000, 3000))]);
        let h = spec(WindowKind::Hopping, 30_000, Some(10_000));
        let starts: Vec<i64> = windows_for(&h, 35_000)
            .into_iter()
            .flatten()
            .map(|w| w.0)
            .collect();
        assert_eq!(starts, [10_000, 20_000, 30_000]);
        assert_eq!(windows_for(&h, 0), vec![Some((0, 30_000))]);
    }
}
