//! The time rules of a stream-stream join (ADR 0006, §3.1), as Kafka Streams'
//! `KStreamKStreamJoin` applies them: which rows of the other side a row may join, how long
//! each side's buffer keeps rows, and when an unmatched row's window has closed.
//!
//! Kafka runs a join as a "this" processor (its left) and an "other" processor. ksqlDB builds
//! LEFT, INNER and FULL joins as `left.join(right)` and a RIGHT join as `right.leftJoin(left)`
//! with the same `JoinWindows` (`StreamStreamJoinBuilder`), so in a RIGHT join the window is
//! oriented from the right side. The side in Kafka's "this" role is the *primary* side here:
//! a primary row at `t` joins other rows in `[t - before, t + after]`, an other row at `t`
//! joins primary rows in `[t - after, t + before]`.

use crate::exec::join::Side;
use crate::plan::logical::JoinKind;

/// Kafka's deprecated join windows retain 24 h (`JoinWindows.of`: grace = 24 h - 2 * before).
const LEGACY_DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// A stream-stream join's window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JoinWindow {
    pub before: i64,
    pub after: i64,
    /// The GRACE PERIOD, or the legacy form's default.
    pub grace: i64,
    /// Whether GRACE PERIOD was given: unmatched rows of preserved sides wait for their window
    /// to close (Kafka's spurious-result fix). Without it they are emitted at once.
    pub deferred: bool,
    /// The side in Kafka's "this" role (the right for a RIGHT join, else the left).
    pub primary: Side,
}

impl JoinWindow {
    /// The window of `WITHIN (before, after)` and GRACE PERIOD `grace` for a join of `kind`.
    pub fn new(kind: JoinKind, (before, after, grace): (i64, i64, Option<i64>)) -> JoinWindow {
        let legacy_grace = LEGACY_DAY_MS
            .saturating_sub(before.saturating_mul(2))
            .max(0);
        JoinWindow {
            before,
            after,
            grace: grace.unwrap_or(legacy_grace),
            deferred: grace.is_some(),
            primary: match kind {
                JoinKind::Right => Side::Right,
                _ => Side::Left,
            },
        }
    }

    /// How long each buffer keeps rows behind its observed time: the window's size plus grace
    /// (Kafka's join window stores).
    pub fn retention(&self) -> i64 {
        self.before
            .saturating_add(self.after)
            .saturating_add(self.grace)
    }

    /// The oldest timestamp a buffer whose observed time is `observed` still shows (Kafka's
    /// window store fetch starts at `observed - retention + 1`).
    pub fn visible_from(&self, observed: i64) -> i64 {
        if observed == i64::MIN {
            return i64::MIN;
        }
        observed.saturating_sub(self.retention()).saturating_add(1)
    }

    /// How far back a row of `side` looks at the other side (Kafka's `joinBeforeMs` of the
    /// side's processor; also its spurious-result look-back).
    pub fn lookback(&self, side: Side) -> i64 {
        if side == self.primary {
            self.before
        } else {
            self.after
        }
    }

    /// How far ahead a row of `side` looks at the other side (Kafka's `joinAfterMs`).
    pub fn ahead(&self, side: Side) -> i64 {
        if side == self.primary {
            self.after
        } else {
            self.before
        }
    }

    /// The times of other-side rows a row of `side` at `t` joins, both inclusive.
    pub fn probe(&self, side: Side, t: i64) -> (i64, i64) {
        (
            t.saturating_sub(self.lookback(side)),
            t.saturating_add(self.ahead(side)),
        )
    }

    /// Whether a row of `side` at `t` can no longer be joined once the join's time is `time`
    /// (Kafka emits such an unmatched row at once: `timeTo < streamTime`).
    pub fn closed(&self, side: Side, t: i64, time: i64) -> bool {
        t.saturating_add(self.ahead(side)) < time
    }

    /// Unmatched rows older than this are emitted when a row of `side` moves the join's time
    /// to `time` (`ts + joinAfterMs + grace < streamTime`).
    pub fn emit_before(&self, side: Side, time: i64) -> i64 {
        time.saturating_sub(self.ahead(side))
            .saturating_sub(self.grace)
    }

    /// Kafka's shortcut: no unmatched row is looked at while the earliest is at or after this
    /// (`minTime >= streamTime - lookBack - grace`).
    pub fn scan_below(&self, side: Side, time: i64) -> i64 {
        time.saturating_sub(self.lookback(side))
            .saturating_sub(self.grace)
    }

    /// The byte of `side` in the unmatched store's keys: Kafka's `TimestampedKeyAndJoinSide`
    /// writes its "this" side as 1, the other as 0.
    pub fn side_byte(&self, side: Side) -> u8 {
        u8::from(side == self.primary)
    }

    /// The side a [`JoinWindow::side_byte`] stands for.
    pub fn side_of_byte(&self, byte: u8) -> Side {
        if byte == 1 {
            self.primary
        } else {
            self.primary.other()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_left_row_looks_before_back_and_after_ahead_a_right_row_the_reverse() {
        let w = JoinWindow::new(JoinKind::Left, (10, 3, Some(5)));
        assert_eq!(w.probe(Side::Left, 100), (90, 103));
        assert_eq!(w.probe(Side::Right, 100), (97, 110));
        assert_eq!(w.retention(), 18);
        assert_eq!(w.visible_from(100), 83);
        assert_eq!(w.visible_from(i64::MIN), i64::MIN);
        assert!(w.deferred);
    }

    #[test]
    fn a_right_join_orients_the_window_from_the_right_side_as_ksqldb_builds_it() {
        let w = JoinWindow::new(JoinKind::Right, (10, 3, None));
        assert_eq!(w.probe(Side::Right, 100), (90, 103));
        assert_eq!(w.probe(Side::Left, 100), (97, 110));
        assert_eq!((w.side_byte(Side::Right), w.side_byte(Side::Left)), (1, 0));
        assert_eq!(w.side_of_byte(0), Side::Left);
    }

    #[test]
    fn the_legacy_form_keeps_rows_a_day_and_emits_at_once() {
        let w = JoinWindow::new(JoinKind::Outer, (11_000, 11_000, None));
        assert!(!w.deferred);
        assert_eq!(w.grace, 86_400_000 - 22_000);
        assert_eq!(w.retention(), 86_400_000);
        let huge = JoinWindow::new(JoinKind::Inner, (i64::MAX, i64::MAX, None));
        assert_eq!((huge.grace, huge.retention()), (0, i64::MAX));
    }

    #[test]
    fn closing_times_use_the_arriving_sides_bounds() {
        let w = JoinWindow::new(JoinKind::Outer, (10, 3, Some(5)));
        assert!(w.closed(Side::Left, 100, 104));
        assert!(!w.closed(Side::Left, 100, 103));
        assert!(!w.closed(Side::Right, 100, 110));
        assert_eq!(w.emit_before(Side::Left, 200), 192);
        assert_eq!(w.emit_before(Side::Right, 200), 185);
        assert_eq!(w.scan_below(Side::Left, 200), 185);
        assert_eq!(w.scan_below(Side::Right, 200), 192);
    }
}
