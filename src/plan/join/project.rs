//! The projection of a join query: `*` and `alias.*` over the joined sources (ksqlDB's
//! `JoinNode.resolveSelectStar`), and which projected column is the output key.

use super::JoinedInput;
use crate::plan::expr::{Binder, Node};
use crate::plan::query::{Compiled, OutputColumn};
use crate::plan::schema::ColumnRole;
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
                    star(alias, source, &mut out);
                }
            }
            SelectItem::QualifiedWildcard(q) => {
                let Some((alias, source)) = joined.leaves.iter().find(|(a, _)| a == q) else {
                    return plan_err!("'{q}' is not a valid stream/table name or alias.");
                };
                star(alias, source, &mut out);
            }
            SelectItem::StructFields(root) => {
                crate::plan::query::struct_fields(root, binder, &mut out)?
            }
            SelectItem::Expr { expr, alias } => out.push((expr.clone(), alias.clone())),
        }
    }
    Ok(out)
}

fn star(alias: &str, source: &SourceDef, out: &mut Vec<(Expr, Option<String>)>) {
    let keys = source
        .schema
        .columns
        .iter()
        .filter(|c| c.role == ColumnRole::Key);
    let values = source
        .schema
        .columns
        .iter()
        .filter(|c| c.role != ColumnRole::Key);
    for c in keys.chain(values) {
        let parts = vec![
            Ident::with_quote('`', alias),
            Ident::with_quote('`', c.name.clone()),
        ];
        out.push((
            Expr::CompoundIdentifier(parts),
            Some(format!("{alias}_{}", c.name)),
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
    let mut chosen: Vec<Option<(usize, Vec<String>)>> = vec![None; joined.key.len()];
    for c in columns.iter_mut() {
        let Node::Column { index, .. } = &c.compiled.expr.node else {
            continue;
        };
        let index = *index;
        let Some(k) = joined.component_of(index) else {
            continue;
        };
        match &mut chosen[k] {
            Some((first, names)) if *first == index => names.push(c.name.clone()),
            Some(_) => {}
            slot @ None => {
                *slot = Some((index, vec![c.name.clone()]));
                let component = &joined.key[k];
                let column = &joined.scope.columns[component.column];
                let node = Node::Column {
                    index: component.column,
                    name: column.name.clone(),
                };
                let expr = crate::plan::expr::TExpr::new(node, column.sql_type.clone());
                c.compiled = Compiled::new(expr)?;
                c.is_key = true;
            }
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
