//! Planning `GROUP BY` aggregations (optionally windowed), as ksqlDB does: rows are grouped by
//! the GROUP BY expressions, each aggregate call keeps an accumulator per group (and window),
//! and the SELECT and HAVING expressions are evaluated over the aggregation's output.
//!
//! The aggregation's output batch (the "intermediate" layout) is: the group key columns, one
//! column per aggregate call, WINDOWSTART and WINDOWEND when windowed, then ROWTIME. SELECT and
//! HAVING are bound against the source and then rewritten onto that layout: a sub-expression
//! equal to a GROUP BY expression reads the key column, an aggregate call reads its result,
//! and any other source column is an error (it is not part of the GROUP BY).

use super::aggregates::ResolvedUdaf;
use super::expr::{AggregateCalls, Binder, Node, TExpr, ksql_text};
use super::functions::FunctionRegistry;
use super::query::{Compiled, Namer, OutputColumn};
use super::schema::{ROWTIME, WINDOWEND, WINDOWSTART};
use super::{PlanError, PlanResult};
use crate::common::SqlType;
use crate::format::{WindowInfo, WindowKind};
use crate::plan_err;
use crate::sql::{Expr, Query, WindowSpec};
use arrow::datatypes::{Field, Schema, SchemaRef};
use std::sync::Arc;
use window_only::groups_by_window_only;

#[cfg(test)]
mod tests;
mod window_only;

/// One aggregate call: its function and its arguments over the source batch.
#[derive(Clone)]
pub struct AggregateCall {
    pub udaf: ResolvedUdaf,
    pub args: Vec<Compiled>,
}

/// The aggregation step of a query.
#[derive(Clone)]
pub struct AggregatePlan {
    /// The grouping expressions, over the source batch.
    pub group_by: Vec<Compiled>,
    pub calls: Vec<AggregateCall>,
    pub window: Option<WindowPlan>,
    /// HAVING, over the intermediate batch: a group for which it is not TRUE is deleted
    /// from the output table (a tombstone).
    pub having: Option<Compiled>,
    /// The layout of the aggregation's output batches (see the module header).
    pub intermediate_schema: SchemaRef,
    /// GROUP BY expressions (as ksqlDB prints them) that the SELECT does not include, which a
    /// persistent query must.
    pub unprojected_group_by: Vec<String>,
    /// EMIT FINAL: one result per window when it closes, instead of every update.
    pub emit_final: bool,
}

/// A windowed aggregation's windows, durations in milliseconds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WindowPlan {
    pub kind: WindowKind,
    /// The window size, or the inactivity gap of session windows.
    pub size_ms: i64,
    /// HOPPING: how far consecutive windows start apart.
    pub advance_ms: Option<i64>,
    pub grace_ms: Option<i64>,
    pub retention_ms: Option<i64>,
}

impl WindowPlan {
    fn from_spec(w: &WindowSpec) -> WindowPlan {
        WindowPlan {
            kind: match w.kind {
                crate::sql::WindowKind::Tumbling => WindowKind::Tumbling,
                crate::sql::WindowKind::Hopping => WindowKind::Hopping,
                crate::sql::WindowKind::Session => WindowKind::Session,
            },
            size_ms: w.size_ms,
            advance_ms: w.advance_ms,
            grace_ms: w.grace_ms,
            retention_ms: w.retention_ms,
        }
    }

    /// How the output's keys are windowed.
    pub fn key_window(&self) -> WindowInfo {
        WindowInfo {
            kind: self.kind,
            size_ms: (self.kind != WindowKind::Session).then_some(self.size_ms),
        }
    }
}

/// What `plan_aggregate` needs from the query planner.
pub(super) struct AggregateInput<'a, 'b> {
    pub query: &'a Query,
    pub binder: &'a mut Binder<'b>,
    pub items: &'a [(Expr, Option<String>)],
    pub names: &'a mut Namer,
    pub source_is_table: bool,
    /// WINDOWSTART/WINDOWEND in the scope stand for the aggregation's windows: only its
    /// SELECT may use them.
    pub virtual_window_bounds: bool,
    /// The source's values are DELIMITED (so are ksqlDB's internal topics for it).
    pub delimited_source: bool,
    /// A push query: without GROUP BY, every row is in one group (as ksqlDB's push queries).
    pub transient: bool,
}

/// Plans the aggregation and the output columns (over the intermediate layout).
pub(super) fn plan_aggregate(
    input: AggregateInput<'_, '_>,
) -> PlanResult<(AggregatePlan, Vec<OutputColumn>)> {
    let q = input.query;
    if q.group_by.is_empty() && q.window.is_none() && !input.transient {
        return plan_err!(
            "CREATE TABLE AS SELECT statement does not support aggregate function [{}] without a GROUP BY clause.",
            aggregate_calls_text(input.items, input.binder.functions())
        );
    }
    if q.emit == Some(crate::sql::Emit::Final) && q.window.is_none() {
        return plan_err!("EMIT FINAL is only supported for windowed aggregations.");
    }
    check_select_items(&input)?;
    let bounds_check = |e: &TExpr| match window_bound_in(e) {
        Some(name) if input.virtual_window_bounds => plan_err!(
            "Window bounds column {name} can only be used in the SELECT clause of windowed aggregations"
        ),
        _ => Ok(()),
    };
    let window_only = groups_by_window_only(q, input.items, input.binder.functions());
    let group_by = match window_only {
        true => Vec::new(),
        false => bind_group_by(q, input.binder)?,
    };
    group_by
        .iter()
        .try_for_each(bounds_check)
        .map_err(|e| window_only::with_hint(e, q, input.items, input.binder.functions()))?;
    input.binder.collect_aggregates();
    let mut selected = Vec::with_capacity(input.items.len());
    for (expr, alias) in input.items {
        let bound = input.binder.bind(expr).map_err(|e| e.in_clause("SELECT"))?;
        selected.push((expr, alias, bound));
    }
    let having = match &q.having {
        Some(h) => Some(
            input
                .binder
                .bind(h)
                .map_err(|e| match e.in_clause("HAVING") {
                    PlanError::Invalid(m) if !m.starts_with("HAVING column") => {
                        PlanError::Invalid(format!("Error in HAVING expression: {m}"))
                    }
                    other => other,
                })?,
        ),
        None => None,
    };
    // (ksqlDB reports window bounds in HAVING before those in aggregate arguments.)
    if let Some(h) = &having {
        bounds_check(h)?;
    }
    let calls = match input.binder.aggregate_calls() {
        Some(c) if !c.calls.is_empty() => c
            .calls
            .iter()
            .map(|(udaf, args)| {
                args.iter().try_for_each(bounds_check)?;
                let args = args.iter().cloned().map(Compiled::new);
                Ok(AggregateCall {
                    udaf: udaf.clone(),
                    args: args.collect::<PlanResult<_>>()?,
                })
            })
            .collect::<PlanResult<Vec<_>>>()?,
        _ => {
            return plan_err!(
                "GROUP BY requires aggregate functions in either the SELECT or HAVING clause."
            );
        }
    };
    if input.source_is_table && q.window.is_some() {
        return plan_err!("Windowing not supported for table aggregations.");
    }
    check_table_source(&calls, input.source_is_table)?;
    if input.delimited_source && calls.iter().any(|c| c.udaf.udaf.complex_intermediate()) {
        return plan_err!(
            "One of the functions used in the statement has an intermediate type that the value format can not handle. Please remove the function or change the format."
        );
    }
    let layout = Layout {
        group_by: &group_by,
        calls: calls.len(),
        windowed: q.window.is_some(),
    };
    let mut offenders = Vec::new();
    let mut columns = Vec::with_capacity(selected.len());
    for (expr, alias, bound) in selected {
        let Some(rewritten) = layout.rewrite(bound) else {
            offenders.push(upper_text(expr));
            continue;
        };
        let is_key =
            matches!(&rewritten.node, Node::Column { index, .. } if *index < group_by.len());
        columns.push(OutputColumn {
            name: alias.clone().unwrap_or_else(|| input.names.name_for(expr)),
            compiled: Compiled::new(rewritten)?,
            is_key,
            explode: false,
        });
    }
    if !offenders.is_empty() {
        return plan_err!(
            "Non-aggregate SELECT expression(s) not part of GROUP BY: {}\nEither add the column(s) to the GROUP BY or remove them from the SELECT.",
            offenders.join(", ")
        );
    }
    let having = match having {
        Some(h) => match layout.rewrite(h) {
            Some(h) => Some(Compiled::new(h)?),
            None => {
                let text = q.having.as_ref().map(ksql_text).unwrap_or_default();
                return plan_err!("Non-aggregate HAVING expression not part of GROUP BY: {text}");
            }
        },
        None => None,
    };
    let unprojected_group_by = check_keys(&group_by, &q.group_by, &columns)?;
    let emit_final = q.emit == Some(crate::sql::Emit::Final);
    let window = q.window.as_ref().map(|w| {
        let mut window = WindowPlan::from_spec(w);
        // ksqlDB closes EMIT FINAL windows at their end unless a grace period is given.
        if emit_final && window.grace_ms.is_none() {
            window.grace_ms = Some(0);
        }
        window
    });
    order_keys(&mut columns);
    let plan = AggregatePlan {
        intermediate_schema: layout.schema(&calls),
        group_by: group_by
            .into_iter()
            .map(Compiled::new)
            .collect::<PlanResult<_>>()?,
        calls,
        window,
        having,
        unprojected_group_by,
        emit_final,
    };
    Ok((plan, columns))
}

/// What ksqlDB refuses in an aggregation's SELECT before resolving anything: table functions,
/// and (in a persistent query without WINDOW) a bare WINDOWSTART or WINDOWEND.
fn check_select_items(input: &AggregateInput<'_, '_>) -> PlanResult<()> {
    let functions = input.binder.functions();
    let calls_table_function = |e: &Expr| {
        let mut found = false;
        let _ = sqlparser::ast::visit_expressions(e, |x| {
            if let Expr::Function(f) = x {
                found |= functions.table_function(&f.name.to_string()).is_some();
            }
            std::ops::ControlFlow::<()>::Continue(())
        });
        found
    };
    if input.items.iter().any(|(e, _)| calls_table_function(e)) {
        return plan_err!("Table functions cannot be used with aggregations.");
    }
    let unwindowed = input.query.window.is_none() && !input.transient;
    for (expr, alias) in input.items {
        if let (Expr::Identifier(i), None, true) = (expr, alias, unwindowed) {
            let name = i.value.to_ascii_uppercase();
            if name == WINDOWSTART || name == WINDOWEND {
                return plan_err!(
                    "Reserved column name in select: `{name}`. Please remove or alias the column."
                );
            }
        }
    }
    Ok(())
}

/// Binds the GROUP BY expressions (no aggregates, no duplicates).
fn bind_group_by(q: &Query, binder: &mut Binder<'_>) -> PlanResult<Vec<TExpr>> {
    let mut bound: Vec<TExpr> = Vec::with_capacity(q.group_by.len());
    for e in &q.group_by {
        if let Some(name) = aggregate_in(e, binder.functions()) {
            return plan_err!(
                "GROUP BY does not support aggregate functions: {name} is an aggregate function."
            );
        }
        let b = binder.bind(e).map_err(|e| e.in_clause("GROUP BY"))?;
        if bound.iter().any(|x| same_expr(x, &b)) {
            return plan_err!("Duplicate GROUP BY expression: {}", ksql_text(e));
        }
        bound.push(b);
    }
    Ok(bound)
}

/// The name of an aggregate function called anywhere in `e`.
pub(super) fn aggregate_in(e: &Expr, functions: &FunctionRegistry) -> Option<String> {
    let mut found = None;
    let _ = sqlparser::ast::visit_expressions(e, |x| {
        if let Expr::Function(f) = x {
            let name = f.name.to_string().to_ascii_uppercase();
            if functions.is_aggregate(&name) && found.is_none() {
                found = Some(name);
            }
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
    found
}

/// An expression as ksqlDB prints it after resolving names (unquoted identifiers upper-cased).
fn upper_text(e: &Expr) -> String {
    let mut e = e.clone();
    let _ = sqlparser::ast::visit_expressions_mut(&mut e, |x| {
        match x {
            Expr::Identifier(i) if i.quote_style.is_none() => i.value = i.value.to_uppercase(),
            Expr::CompoundIdentifier(parts) => parts
                .iter_mut()
                .filter(|i| i.quote_style.is_none())
                .for_each(|i| i.value = i.value.to_uppercase()),
            _ => {}
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
    ksql_text(&e)
}

/// The aggregate calls of the SELECT as ksqlDB prints them (`COUNT(*)` is `COUNT(ROWTIME)`).
fn aggregate_calls_text(items: &[(Expr, Option<String>)], functions: &FunctionRegistry) -> String {
    let mut calls = Vec::new();
    for (e, _) in items {
        let _ = sqlparser::ast::visit_expressions(e, |x| {
            if let Expr::Function(f) = x
                && functions.is_aggregate(&f.name.to_string())
            {
                let text = ksql_text(x)
                    .replace("(*)", "(ROWTIME)")
                    .replace("()", "(ROWTIME)");
                calls.push(text);
            }
            std::ops::ControlFlow::<()>::Continue(())
        });
    }
    calls.join(", ")
}

/// The first window bound column an unbound expression names (WHERE is checked before it is
/// bound, as ksqlDB reports them before anything else in it).
pub(super) fn window_bound_named(e: &Expr) -> Option<&'static str> {
    let mut found = None;
    let _ = sqlparser::ast::visit_expressions(e, |x| {
        let name = match x {
            Expr::Identifier(i) => Some(&i.value),
            Expr::CompoundIdentifier(parts) => parts.last().map(|i| &i.value),
            _ => None,
        };
        let bound = name.and_then(|n| {
            [WINDOWSTART, WINDOWEND]
                .into_iter()
                .find(|b| n.eq_ignore_ascii_case(b))
        });
        if found.is_none() {
            found = bound;
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
    found
}

/// WINDOWSTART or WINDOWEND (in that order of preference), if the expression reads one.
pub(super) fn window_bound_in(e: &TExpr) -> Option<&'static str> {
    [WINDOWSTART, WINDOWEND]
        .into_iter()
        .find(|bound| reads_column(e, bound))
}

fn reads_column(e: &TExpr, column: &str) -> bool {
    matches!(&e.node, Node::Column { name, .. } if name == column)
        || e.children().into_iter().any(|c| reads_column(c, column))
}

fn same_expr(a: &TExpr, b: &TExpr) -> bool {
    a.ty == b.ty && a.to_string() == b.to_string()
}

/// Functions that cannot remove a row cannot aggregate a table (rows change and go away).
fn check_table_source(calls: &[AggregateCall], source_is_table: bool) -> PlanResult<()> {
    if !source_is_table {
        return Ok(());
    }
    let mut names: Vec<&str> = Vec::new();
    for c in calls.iter().filter(|c| !c.udaf.udaf.supports_undo()) {
        if !names.contains(&c.udaf.name.as_str()) {
            names.push(&c.udaf.name);
        }
    }
    if names.is_empty() {
        return Ok(());
    }
    plan_err!(
        "The aggregation functions {} cannot be applied to a table source, only to a stream source.",
        and_list(&names)
    )
}

/// "A", "A and B", "A, B and C".
fn and_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Each GROUP BY expression is projected at most once; those not projected are returned.
fn check_keys(
    group_by: &[TExpr],
    exprs: &[Expr],
    columns: &[OutputColumn],
) -> PlanResult<Vec<String>> {
    let mut missing = Vec::new();
    for (i, expr) in exprs.iter().enumerate().take(group_by.len()) {
        let names: Vec<&str> = columns
            .iter()
            .filter(|c| c.is_key && c.compiled.expr.column_indices() == [i])
            .map(|c| c.name.as_str())
            .collect();
        match names.as_slice() {
            [] => missing.push(ksql_text(expr)),
            [_] => {}
            [first, second, ..] => {
                return plan_err!(
                    "The projection contains a key column more than once: `{first}` and `{second}`."
                );
            }
        }
    }
    Ok(missing)
}

/// Key columns in GROUP BY order (ksqlDB's key schema), each in one of the keys' places.
fn order_keys(columns: &mut [OutputColumn]) {
    let slots: Vec<usize> = (0..columns.len()).filter(|i| columns[*i].is_key).collect();
    let mut keys: Vec<OutputColumn> = slots.iter().map(|i| columns[*i].clone()).collect();
    keys.sort_by_key(|c| c.compiled.expr.column_indices().first().copied());
    for (slot, key) in slots.into_iter().zip(keys) {
        columns[slot] = key;
    }
}

/// The message for GROUP BY expressions missing from a persistent query's projection.
pub fn unprojected_message(sink: &str, missing: &[String]) -> String {
    let refs: Vec<&str> = missing.iter().map(String::as_str).collect();
    let plural = if missing.len() > 1 { "s" } else { "" };
    format!(
        "The query used to build `{sink}` must include the grouping expression{plural} {} in its projection (eg, SELECT {}...).",
        and_list(&refs),
        missing.join(", ")
    )
}

/// The intermediate layout, and rewriting bound expressions onto it.
struct Layout<'a> {
    group_by: &'a [TExpr],
    calls: usize,
    windowed: bool,
}

impl Layout<'_> {
    /// `None` when the expression reads a source column outside the GROUP BY expressions.
    fn rewrite(&self, e: TExpr) -> Option<TExpr> {
        if let Some(i) = self.group_by.iter().position(|g| same_expr(g, &e)) {
            let name = key_name(i);
            return Some(TExpr::new(Node::Column { index: i, name }, e.ty));
        }
        if let Node::Column { index, name } = &e.node {
            let keys = self.group_by.len();
            let window_at = keys + self.calls;
            let index = match (AggregateCalls::call_of(*index), name.as_str()) {
                (Some(n), _) => keys + n,
                (None, WINDOWSTART) if self.windowed => window_at,
                (None, WINDOWEND) if self.windowed => window_at + 1,
                _ => return None,
            };
            let name = name.clone();
            return Some(TExpr::new(Node::Column { index, name }, e.ty));
        }
        e.try_map_children(&mut |c| self.rewrite(c).ok_or(())).ok()
    }

    fn schema(&self, calls: &[AggregateCall]) -> SchemaRef {
        let mut fields: Vec<Field> = self
            .group_by
            .iter()
            .enumerate()
            .map(|(i, g)| Field::new(key_name(i), g.ty.arrow_type(), true))
            .collect();
        for (n, c) in calls.iter().enumerate() {
            let name = format!("KSQL_AGG_VARIABLE_{n}");
            fields.push(Field::new(name, c.udaf.ret.arrow_type(), true));
        }
        if self.windowed {
            for name in [WINDOWSTART, WINDOWEND] {
                fields.push(Field::new(name, SqlType::Bigint.arrow_type(), true));
            }
        }
        fields.push(Field::new(ROWTIME, SqlType::Bigint.arrow_type(), false));
        Arc::new(Schema::new(fields))
    }
}

/// The intermediate name of key column `i`.
fn key_name(i: usize) -> String {
    format!("KSQL_GROUP_KEY_{i}")
}
