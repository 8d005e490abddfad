//! The projection of a join query: `*` and `alias.*` over the joined sources (ksqlDB's
//! `JoinNode.resolveSelectStar`), and which projected column is the output key.

use super::JoinedInput;
use crate::plan::expr::{Binder, Node};
use crate::plan::query::{Compiled, OutputColumn};
use crate::plan::schema::{ColumnRole, pseudo_columns};
use crate::plan::{PlanResult, SourceDef};
use crate::plan_err;
use crate::sql::{Expr, Query, SelectItem};
use sqlparser::ast::Ident;

/// Select items with `*` expanded: per source in join order its key columns then its value
/// columns, each named `<ALIAS>_<COLUMN>`; a synthetic join key first for an unqualified `*`.
pub fn expand_select(
    q: &Query,
    joined: &JoinedInput,
    binder: &mut Binder<'_>,
) -> PlanResult<Vec<(Expr, Option<String>)>> {
    let mut out = Vec::new();
    for (item, _) in &q.select {
        match item {
            SelectItem::Wildcard => {
                for k in &joined.key {
                    if let Some(name) = &k.synthetic {
                        out.push((Expr::Identifier(Ident::with_quote('`', name)), None));
                    }
                }
                for (alias, source) in &joined.leaves {
                    star(alias, source, !q.partition_by.is_empty(), &mut out);
                }
            }
            SelectItem::QualifiedWildcard(name) => {
                let Some((alias, source)) = joined.leaves.iter().find(|(a, _)| a == name) else {
                    return plan_err!("'{name}' is not a valid stream/table name or alias.");
                };
                star(alias, source, !q.partition_by.is_empty(), &mut out);
            }
            SelectItem::StructFields(root) => {
                crate::plan::query::struct_fields(root, binder, &mut out)?
            }
            SelectItem::Expr { expr, alias } => out.push((expr.clone(), alias.clone())),
        }
    }
    Ok(out)
}

/// One source's columns for `*`. Re-partitioned (PARTITION BY), ksqlDB lists its value
/// columns, then its ROWTIME, ROWPARTITION and ROWOFFSET, then its key columns.
fn star(
    alias: &str,
    source: &SourceDef,
    repartitioned: bool,
    out: &mut Vec<(Expr, Option<String>)>,
) {
    let columns = &source.schema.columns;
    let keys = columns.iter().filter(|c| c.role == ColumnRole::Key);
    let values = columns.iter().filter(|c| c.role != ColumnRole::Key);
    let names: Vec<&str> = match repartitioned {
        false => keys.chain(values).map(|c| c.name.as_str()).collect(),
        true => values
            .map(|c| c.name.as_str())
            .chain(pseudo_columns(false).into_iter().map(|(n, _)| n))
            .chain(keys.map(|c| c.name.as_str()))
            .collect(),
    };
    for name in names {
        let parts = vec![
            Ident::with_quote('`', alias),
            Ident::with_quote('`', name.to_string()),
        ];
        out.push((
            Expr::CompoundIdentifier(parts),
            Some(format!("{alias}_{name}")),
        ));
    }
}

/// What the projection does with the join's key.
pub struct MarkedKeys {
    /// Key components no projected column gives.
    pub missing: Vec<super::KeyComponent>,
    /// A key column projected twice: ksqlDB's name for it and the output names.
    pub repeated: Option<(String, Vec<String>)>,
}

/// Marks as keys the first projected column of each key component (a viable source column or
/// the synthetic key), which then reads the join's key column: a RIGHT or FULL join's row
/// has its key there even when the column's own source has no row.
pub fn mark_keys(columns: &mut [OutputColumn], joined: &JoinedInput) -> PlanResult<MarkedKeys> {
    let reads = |c: &OutputColumn| match &c.compiled.expr.node {
        Node::Column { index, .. } => Some(*index),
        _ => None,
    };
    // Per component, the key's source: the first viable column (in the join's order) that is
    // projected, or the synthetic key; then the columns projecting it.
    let mut chosen: Vec<Option<(usize, Vec<String>)>> = vec![None; joined.key.len()];
    for (k, component) in joined.key.iter().enumerate() {
        let candidates = component
            .viable
            .iter()
            .map(|v| v.scope_index)
            .chain(std::iter::once(component.column));
        for index in candidates {
            let projecting: Vec<usize> = (0..columns.len())
                .filter(|i| reads(&columns[*i]) == Some(index))
                .collect();
            let Some(first) = projecting.first() else {
                continue;
            };
            let names = projecting
                .iter()
                .map(|i| columns[*i].name.clone())
                .collect();
            chosen[k] = Some((index, names));
            let column = &joined.scope.columns[component.column];
            let node = Node::Column {
                index: component.column,
                name: column.name.clone(),
            };
            let expr = crate::plan::expr::TExpr::new(node, column.sql_type.clone());
            columns[*first].compiled = Compiled::new(expr)?;
            columns[*first].is_key = true;
            break;
        }
    }
    let mut repeated = None;
    for (k, slot) in chosen.iter().enumerate() {
        if let Some((index, names)) = slot
            && names.len() > 1
        {
            let component = &joined.key[k];
            let name = component
                .viable
                .iter()
                .find(|v| v.scope_index == *index)
                .map(|v| v.name.clone())
                .or_else(|| component.synthetic.clone())
                .unwrap_or_default();
            let mut names = names.clone();
            names.sort();
            repeated = Some((name, names));
        }
    }
    let missing = chosen
        .iter()
        .zip(&joined.key)
        .filter(|(slot, _)| slot.is_none())
        .map(|(_, k)| k.clone())
        .collect();
    Ok(MarkedKeys { missing, repeated })
}
