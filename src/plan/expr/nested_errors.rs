//! Failures an expression turns into NULL where they happen, as ksqlDB's nested error
//! handling does (`ksql.nested.error.set.null`, on for new queries): a function call (or field
//! access) that is an argument of another function, a CAST, and an element of an ARRAY, MAP or
//! STRUCT constructor. The evaluation goes on with NULL there, and the failure ("Error
//! processing <what>: <cause>") is noted here, per thread, for whoever evaluates the expression
//! to report with its row.
//!
//! At most [`MAX_NOTED`] failures are kept between two takes, so a thread whose caller never
//! takes them (a constant folded once) does not grow.

use std::cell::RefCell;

/// Failures kept between two [`take_nested_failures`]; later ones are not kept.
const MAX_NOTED: usize = 64;

thread_local! {
    static NOTED: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// `result`'s value, or NULL when it failed (the failure, with `what` failed, is noted).
pub(super) fn or_null(
    result: Result<crate::common::Value, String>,
    what: impl FnOnce() -> String,
) -> crate::common::Value {
    result.unwrap_or_else(|cause| {
        let message = format!("Error processing {}: {cause}", what());
        NOTED.with(|noted| {
            let mut noted = noted.borrow_mut();
            if noted.len() < MAX_NOTED {
                noted.push(message);
            }
        });
        crate::common::Value::Null
    })
}

/// The failures noted on this thread since the last take, oldest first.
pub fn take_nested_failures() -> Vec<String> {
    NOTED.with(|noted| std::mem::take(&mut *noted.borrow_mut()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::Value;

    #[test]
    fn a_failure_is_null_and_noted_until_taken() {
        take_nested_failures();
        assert_eq!(or_null(Ok(Value::Int(1)), || "x".into()), Value::Int(1));
        assert_eq!(or_null(Err("bad".into()), || "F".into()), Value::Null);
        assert_eq!(take_nested_failures(), ["Error processing F: bad"]);
        assert!(take_nested_failures().is_empty());
        for _ in 0..MAX_NOTED + 5 {
            or_null(Err("bad".into()), || "F".into());
        }
        assert_eq!(take_nested_failures().len(), MAX_NOTED, "bounded");
    }
}
