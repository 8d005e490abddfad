//! Planning the FROM clause of a join query (ADR 0006, §1): the sources and their aliases,
//! the ON criteria of each join, the key of each join and the tree of join nodes (left-deep,
//! the FROM source the leftmost leaf). The result is a [`JoinedInput`]: the joined row as a
//! source the rest of the planner (`plan::query`) reads like any other, with the scope that
//! resolves `alias.column` into it and what the projection must do with the join's key.
//!
//! May import: `plan` (its expression binder, schema and logical tree), `sql`, `common`.

mod checks;
mod layout;
mod on;
mod project;

use super::expr::Scope;
use super::functions::FunctionRegistry;
use super::logical::LogicalPlan;
use super::source::SourceDef;
use super::{CatalogView, PlanError, PlanResult};
use crate::sql::Query;

pub use checks::{check_partitions, missing_foreign_key_message, missing_key_message};
pub use project::{MarkedKeys, expand_select, mark_keys};

/// The rows a join query's FROM clause produces, as the rest of the planner sees them.
#[derive(Clone)]
pub struct JoinedInput {
    /// The joined row as a source: named after the leftmost source, a table when every join
    /// joins tables, its schema the join's output (keys, then each source's columns).
    pub source: SourceDef,
    /// Resolves `alias.column` (and an unqualified name found in one source) into the row.
    pub scope: Scope,
    /// The tree of join nodes whose output the row is.
    pub tree: LogicalPlan,
    /// The sources joined, in tree order, with their aliases.
    pub leaves: Vec<(String, SourceDef)>,
    /// The output key: one component per equality of the outermost join (a foreign-key
    /// join's: one per primary-key column of its left table).
    pub key: Vec<KeyComponent>,
    /// The left table's alias when the outermost join is a foreign-key join (its projection
    /// must hold every key column: ksqlDB's `JoinNode.validateKeyPresent`).
    pub foreign_key_left: Option<String>,
}

/// One component of the join's key.
#[derive(Clone, Debug)]
pub struct KeyComponent {
    /// Scope index (and batch position) of the key column of the joined row.
    pub column: usize,
    /// The source columns equal to the key (scope indices), left subtree first, with their
    /// texts (`L.A`) and ksqlDB's names for them (`L_A`). Empty for a synthetic key.
    pub viable: Vec<Viable>,
    /// The synthetic key's name (`ROWKEY`, `ROWKEY_1`, ...), when no source column is viable.
    pub synthetic: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Viable {
    pub scope_index: usize,
    pub text: String,
    pub name: String,
}

impl JoinedInput {
    /// Column names that more than one source has (an unaliased `A.COL` of one of them is
    /// named `A_COL`).
    pub fn clashing_names(&self) -> std::collections::HashSet<String> {
        let mut seen = std::collections::HashMap::<&str, usize>::new();
        let pseudo = crate::plan::schema::pseudo_columns(false);
        for (_, source) in &self.leaves {
            let names = source.schema.columns.iter().map(|c| c.name.as_str());
            for name in names.chain(pseudo.iter().map(|(n, _)| *n)) {
                *seen.entry(name).or_default() += 1;
            }
        }
        seen.into_iter()
            .filter(|(_, n)| *n > 1)
            .map(|(name, _)| name.to_string())
            .collect()
    }
}

/// Plans the FROM clause of `q`, which has joins.
pub fn plan_from(
    q: &Query,
    catalog: &dyn CatalogView,
    functions: &FunctionRegistry,
) -> PlanResult<JoinedInput> {
    let leaves = bind_sources(q, catalog)?;
    checks::check_formats(&leaves)?;
    layout::build(q, leaves, functions)
}

/// The sources of the FROM clause with their aliases (the name when none).
fn bind_sources(q: &Query, catalog: &dyn CatalogView) -> PlanResult<Vec<(String, SourceDef)>> {
    let mut leaves: Vec<(String, SourceDef)> = Vec::new();
    let all = std::iter::once(&q.from).chain(q.joins.iter().map(|j| &j.right));
    for aliased in all {
        let Some(source) = catalog.source(&aliased.name) else {
            return Err(PlanError::at(
                format!("{} does not exist.", aliased.name),
                aliased.location,
            ));
        };
        let alias = aliased.alias.clone().unwrap_or_else(|| source.name.clone());
        if leaves.iter().any(|(a, _)| *a == alias) {
            // Brook joins a source with itself under two aliases; one alias twice is
            // ambiguous, refused with ksqlDB's texts.
            return Err(PlanError::Invalid(if leaves.len() == 1 {
                format!(
                    "Can not join '{alias}' to '{alias}': self joins are not yet supported. Give each occurrence its own alias: FROM {} A JOIN {} B.",
                    source.name, source.name
                )
            } else {
                format!(
                    "N-way joins do not support multiple occurrences of the same source. Source: '{alias}'. Give each occurrence its own alias."
                )
            }));
        }
        leaves.push((alias, source.clone()));
    }
    Ok(leaves)
}
#[cfg(test)]
mod tests;
