//! Grouping by the window alone (Brook only; ksqlDB refuses it): a windowed aggregation whose
//! GROUP BY is `WINDOWSTART, WINDOWEND` (either or both), or that has no GROUP BY, makes one
//! group per window, and its table is keyed by the window alone (an empty inner key, the
//! window's bounds in the windowed key), when every non-aggregate SELECT expression reads only
//! the window bounds. Any other GROUP BY naming a window bound keeps ksqlDB's error, with a
//! sentence saying what to write instead.
//!
//! May import: what `plan` may.

use super::{PlanError, aggregate_in, upper_text, window_bound_named};
use crate::plan::functions::FunctionRegistry;
use crate::plan::schema::{WINDOWEND, WINDOWSTART};
use crate::sql::{Expr, Query};

fn is_bound(name: &str) -> bool {
    [WINDOWSTART, WINDOWEND]
        .iter()
        .any(|b| name.eq_ignore_ascii_case(b))
}

/// `WINDOWSTART` or `WINDOWEND` as a whole GROUP BY expression.
fn is_bare_bound(e: &Expr) -> bool {
    matches!(e, Expr::Identifier(i) if is_bound(&i.value))
}

/// Whether the expression reads no column but the window bounds.
fn reads_only_bounds(e: &Expr) -> bool {
    let mut only = true;
    let _ = sqlparser::ast::visit_expressions(e, |x| {
        match x {
            Expr::Identifier(i) if !is_bound(&i.value) => only = false,
            Expr::CompoundIdentifier(parts) => {
                only &= parts.last().is_some_and(|i| is_bound(&i.value));
            }
            _ => {}
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
    only
}

/// The SELECT expressions that are neither aggregates nor made of window bounds alone.
fn grouped_items<'a>(
    items: &'a [(Expr, Option<String>)],
    functions: &FunctionRegistry,
) -> impl Iterator<Item = &'a Expr> {
    items
        .iter()
        .map(|(e, _)| e)
        .filter(move |e| aggregate_in(e, functions).is_none() && !reads_only_bounds(e))
}

/// Whether the aggregation is grouped by its window alone (see the module header).
pub(super) fn groups_by_window_only(
    q: &Query,
    items: &[(Expr, Option<String>)],
    functions: &FunctionRegistry,
) -> bool {
    q.window.is_some()
        && q.group_by.iter().all(is_bare_bound)
        && grouped_items(items, functions).next().is_none()
}

/// ksqlDB's error for a window bound in GROUP BY, with what to write instead when the GROUP
/// BY names `WINDOWSTART`/`WINDOWEND` as a whole expression of a windowed aggregation.
pub(super) fn with_hint(
    error: PlanError,
    q: &Query,
    items: &[(Expr, Option<String>)],
    functions: &FunctionRegistry,
) -> PlanError {
    let PlanError::Invalid(message) = error else {
        return error;
    };
    match hint(q, items, functions) {
        Some(hint) => PlanError::Invalid(format!("{message}\n{hint}")),
        None => PlanError::Invalid(message),
    }
}

fn hint(
    q: &Query,
    items: &[(Expr, Option<String>)],
    functions: &FunctionRegistry,
) -> Option<String> {
    if q.window.is_none() || !q.group_by.iter().any(is_bare_bound) {
        return None;
    }
    let rest: Vec<&Expr> = q.group_by.iter().filter(|e| !is_bare_bound(e)).collect();
    if rest.iter().any(|e| window_bound_named(e).is_some()) {
        return None;
    }
    let list = |exprs: &[&Expr]| {
        let texts: Vec<String> = exprs.iter().map(|e| upper_text(e)).collect();
        texts.join(", ")
    };
    if !rest.is_empty() {
        return Some(format!(
            "A windowed aggregation is grouped by its window already: write GROUP BY {}.",
            list(&rest)
        ));
    }
    let selected: Vec<&Expr> = grouped_items(items, functions).collect();
    let verb = if selected.len() == 1 { "is" } else { "are" };
    let selected = list(&selected);
    Some(format!(
        "Grouping by the window alone needs a SELECT of aggregates and window bounds only \
         ({selected} {verb} neither); to group by {selected} within each window, write GROUP BY \
         {selected}."
    ))
}
