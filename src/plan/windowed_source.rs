//! `WINDOW_TYPE` / `WINDOW_SIZE` on `CREATE STREAM|TABLE`: sources whose keys are windowed
//! (written by a windowed aggregation). The properties are validated as ksqlDB does.
//!
//! Queries over such sources read the window from each key (see `format::WindowInfo`): it is
//! visible as WINDOWSTART/WINDOWEND, and their sinks' keys are windowed the same way.

use super::PlanResult;
use super::schema::{ColumnRole, LogicalSchema};
use crate::format::{WindowInfo, WindowKind};
use crate::plan_err;
use crate::sql::Properties;

/// Checks the window properties as ksqlDB does; the window of the source's keys, if any.
pub fn window_properties(
    props: &Properties,
    schema: &LogicalSchema,
) -> PlanResult<Option<WindowInfo>> {
    let Some(kind) = props.get_text("WINDOW_TYPE") else {
        if props.get("WINDOW_SIZE").is_some() {
            return plan_err!("'WINDOW_SIZE' should not be set for non-windowed sources.");
        }
        return Ok(None);
    };
    let Some(kind) = WindowKind::parse(&kind) else {
        return plan_err!(
            "Configuration WINDOW_TYPE is invalid: '{}'. Expected one of: SESSION, HOPPING, TUMBLING",
            kind.to_ascii_uppercase()
        );
    };
    let size = props.get_text("WINDOW_SIZE");
    let size_ms = match (kind, size) {
        (WindowKind::Session, Some(_)) => {
            return plan_err!("'WINDOW_SIZE' should not be set for SESSION windows.");
        }
        (WindowKind::Tumbling | WindowKind::Hopping, None) => {
            return plan_err!("Tumbling and Hopping window types require 'WINDOW_SIZE' property.");
        }
        (_, Some(size)) => Some(duration_ms(&size).map_err(|e| {
            super::PlanError::Invalid(format!("Configuration WINDOW_SIZE is invalid: {e}"))
        })?),
        (_, None) => None,
    };
    if !schema.columns.iter().any(|c| c.role == ColumnRole::Key) {
        return plan_err!("Windowed sources require a key column.");
    }
    Ok(Some(WindowInfo { kind, size_ms }))
}

/// `'<number> <unit>'` as ksqlDB's WINDOW_SIZE takes it, in milliseconds.
pub fn duration_ms(text: &str) -> Result<i64, String> {
    let invalid = |why: String| format!("Invalid duration: '{text}'. {why}");
    let mut parts = text.split_whitespace();
    let (Some(number), Some(unit), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(invalid(
            "Expected '<number> <unit>', e.g. '10 SECONDS'".into(),
        ));
    };
    let n: i64 = number
        .parse()
        .map_err(|_| invalid(format!("Not a number: '{number}'")))?;
    let unit = unit.to_ascii_uppercase();
    let per_unit = crate::sql::unit_millis(&unit)
        .ok_or_else(|| invalid(format!("Unknown time unit: '{unit}'")))?;
    n.checked_mul(per_unit)
        .ok_or_else(|| invalid("Too large".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_ksqldb_syntax() {
        assert_eq!(duration_ms("30 SECONDS"), Ok(30_000));
        assert_eq!(duration_ms("1 hour"), Ok(3_600_000));
        assert_eq!(
            duration_ms("30 bobs"),
            Err("Invalid duration: '30 bobs'. Unknown time unit: 'BOBS'".to_string())
        );
        assert!(duration_ms("30").is_err());
        assert!(duration_ms("x SECONDS").is_err());
    }
}
