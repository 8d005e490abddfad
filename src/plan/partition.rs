//! `PARTITION BY`: the expressions that become a stream query's key columns.
//!
//! Each expression becomes a key column, named after the select item that computes it (which
//! then leaves the value) or, when none does, after the expression. `PARTITION BY NULL` alone
//! removes the key.

use super::expr::{Binder, ksql_text};
use super::query::{Compiled, Namer, OutputColumn};
use super::{PlanError, PlanResult};
use crate::plan_err;
use crate::sql::{Expr, Query, SelectItem};
use std::collections::HashSet;

pub(super) struct PartitionKeys<'a> {
    pub query: &'a Query,
    /// The source's alias or name, which ksqlDB prefixes columns with in messages.
    pub qualifier: &'a str,
    /// The expanded select items.
    pub items: &'a [(Expr, Option<String>)],
}

fn is_null(expr: &Expr) -> bool {
    matches!(expr, Expr::Value(v) if v.value == sqlparser::ast::Value::Null)
}

impl PartitionKeys<'_> {
    /// Moves or adds the key columns (keys first, in PARTITION BY order). Returns the
    /// expressions, as ksqlDB prints them, when some of them are not in an explicit (no `*`)
    /// projection, which a persistent query must include.
    pub fn apply(
        &self,
        columns: &mut Vec<OutputColumn>,
        binder: &mut Binder<'_>,
        names: &mut Namer,
    ) -> PlanResult<Option<Vec<String>>> {
        let exprs = &self.query.partition_by;
        if exprs.len() > 1 && exprs.iter().any(is_null) {
            return plan_err!("Cannot PARTITION BY multiple columns including NULL");
        }
        let mut keys = Vec::new();
        let mut moved = HashSet::new();
        let mut unprojected = false;
        for expr in exprs.iter().filter(|e| !is_null(e)) {
            let bound = binder.bind(expr).map_err(|e| match e {
                PlanError::UnknownColumn(c) => PlanError::Invalid(format!("PARTITION BY column '{c}' cannot be resolved. '{c}' must be a column in the source schema since PARTITION BY is applied on the input.")),
                other => other,
            })?;
            let text = bound.to_string();
            let matching: Vec<usize> = (0..self.items.len())
                .filter(|i| {
                    &self.items[*i].0 == expr
                        || columns
                            .get(*i)
                            .is_some_and(|c| c.compiled.expr.to_string() == text)
                })
                .collect();
            if let [first, _, ..] = matching.as_slice() {
                let aliases: Vec<&str> =
                    matching.iter().map(|i| columns[*i].name.as_str()).collect();
                return plan_err!(
                    "The projection contains a key column (`{}`) more than once, aliased as: {}.",
                    columns[*first].name,
                    aliases.join(" and ")
                );
            }
            match matching.first() {
                Some(i) if moved.insert(*i) => {
                    let mut col = columns[*i].clone();
                    col.is_key = true;
                    keys.push(col);
                }
                _ => {
                    unprojected = true;
                    keys.push(OutputColumn {
                        name: names.name_for(expr),
                        compiled: Compiled::new(bound)?,
                        is_key: true,
                        explode: false,
                    });
                }
            }
        }
        let rest = columns
            .iter()
            .enumerate()
            .filter(|(i, _)| !moved.contains(i))
            .map(|(_, c)| c.clone());
        *columns = keys.into_iter().chain(rest).collect();
        // With `*` in the select list ksqlDB lets the key be whatever PARTITION BY computes.
        let star = self.query.select.iter().any(|(item, _)| {
            matches!(
                item,
                SelectItem::Wildcard | SelectItem::QualifiedWildcard(_)
            )
        });
        Ok((unprojected && !star).then(|| self.printed_exprs()))
    }

    /// The PARTITION BY expressions with columns prefixed by the source (`INPUT.ID`).
    fn printed_exprs(&self) -> Vec<String> {
        self.query
            .partition_by
            .iter()
            .map(|e| match e {
                Expr::Identifier(_) => format!("{}.{}", self.qualifier, ksql_text(e)),
                other => ksql_text(other),
            })
            .collect()
    }
}
