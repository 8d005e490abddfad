//! Which time windows a record falls in.

use crate::format::WindowKind;
use crate::plan::aggregate::WindowPlan;

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
