//! The join tree (ksqlDB's `JoinTree` and `LogicalPlanner.buildJoin`): left-deep, each join
//! adding one source on the right. Per join: its criteria bound on both inputs, the checks of
//! its shape, a re-key of a side whose key is not the criteria, its key components with the
//! source columns equal to them (the *viable* key columns), and its output layout.

use super::on::{Criterion, criteria};
use super::{JoinedInput, KeyComponent, Viable, checks};
use crate::common::SqlType;
use crate::format::WindowInfo;
use crate::plan::PlanResult;
use crate::plan::expr::{Binder, Node, Scope, ScopeColumn, TExpr};
use crate::plan::functions::FunctionRegistry;
use crate::plan::logical::{JoinKind, JoinNode, JoinShape, LogicalPlan, RekeyReason, SourceNode};
use crate::plan::query::Compiled;
use crate::plan::schema::{Column, ColumnRole, LogicalSchema, pseudo_columns};
use crate::plan::source::SourceDef;
use crate::sql::{self, Query, SourceKind};

/// One key component of a join input (ksqlDB's equivalence set of a join node).
#[derive(Clone)]
pub(super) struct KeyState {
    /// The key column's position in the input's rows.
    pub position: usize,
    /// The source columns equal to it (their positions in the input's rows).
    pub viable: Vec<Viable>,
    /// The expressions equal to it, as qualified texts (`ABS(S2.ID)`).
    pub exprs: Vec<String>,
}

impl KeyState {
    /// Whether the expression at `text` (a column at `column`, if it is one) is this key.
    fn is(&self, text: &str, column: Option<usize>) -> bool {
        self.exprs.iter().any(|e| e == text)
            || column.is_some_and(|c| {
                c == self.position || self.viable.iter().any(|v| v.scope_index == c)
            })
    }
}

/// One input of a join being built: a source, or the joins before it.
pub(super) struct Side {
    pub plan: LogicalPlan,
    /// The columns of the side's output rows, in batch order (qualified by source alias).
    pub scope: Scope,
    /// Positions of the columns the side contributes to a join over it.
    pub contributed: Vec<usize>,
    /// Per key component: its position and what is known equal to it.
    pub key: Vec<KeyState>,
    pub kind: SourceKind,
    /// The alias a message names the side by.
    pub name: String,
    /// Windowed rows: the window, and the positions of WINDOWSTART and WINDOWEND.
    pub window: Option<(WindowInfo, [usize; 2])>,
}

pub(super) fn build(
    q: &Query,
    leaves: Vec<(String, SourceDef)>,
    functions: &FunctionRegistry,
) -> PlanResult<JoinedInput> {
    let all_names: Vec<String> = leaves
        .iter()
        .flat_map(|(_, s)| s.schema.columns.iter().map(|c| c.name.clone()))
        .collect();
    let mut left = leaf(&leaves[0]);
    let count = q.joins.len();
    for (i, join) in q.joins.iter().enumerate() {
        let right = leaf(&leaves[i + 1]);
        let context = format!("{}Join", "L_".repeat(count - 1 - i));
        left = join_node(left, right, join, &context, &all_names, functions, i > 0)?;
    }
    let key = left
        .key
        .iter()
        .map(|k| KeyComponent {
            column: k.position,
            viable: k.viable.clone(),
            synthetic: k
                .viable
                .is_empty()
                .then(|| left.scope.columns[k.position].name.clone()),
        })
        .collect();
    let schema = left.plan.schema();
    let source = joined_source(&leaves, &left, &schema);
    let foreign_key_left = match &left.plan {
        LogicalPlan::Join(n) if n.shape == JoinShape::ForeignKey => Some(leaves[0].0.clone()),
        _ => None,
    };
    Ok(JoinedInput {
        foreign_key_left,
        source,
        scope: left.scope,
        tree: left.plan,
        leaves,
        key,
    })
}

/// The joined row as a source for the rest of the planner.
fn joined_source(
    leaves: &[(String, SourceDef)],
    side: &Side,
    schema: &arrow::datatypes::SchemaRef,
) -> SourceDef {
    let keys = side.key.len();
    let tail = if side.window.is_some() { 5 } else { 3 };
    let width = schema.fields().len() - tail;
    let columns = schema.fields()[..width]
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let role = if i < keys {
                ColumnRole::Key
            } else {
                ColumnRole::Value
            };
            let ty = SqlType::from_arrow(f.data_type()).unwrap_or(SqlType::String);
            Column::new(f.name().clone(), ty, role)
        })
        .collect();
    let first = &leaves[0].1;
    SourceDef {
        name: first.name.clone(),
        kind: side.kind,
        schema: LogicalSchema::new(columns),
        window: side.window.map(|(w, _)| w),
        timestamp: None,
        read_only: false,
        from_query: false,
        sql: String::new(),
        ..first.clone()
    }
}

/// A source as a join input: all of its columns, qualified by its alias.
fn leaf((alias, source): &(String, SourceDef)) -> Side {
    let windowed = source.window.is_some();
    let mut scope = Scope::for_source(alias, &source.schema, windowed);
    scope.joined = true;
    let key = source
        .schema
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| c.role == ColumnRole::Key)
        .map(|(i, c)| {
            let viable = Viable {
                scope_index: i,
                text: format!("{alias}.{}", c.name),
                name: format!("{alias}_{}", c.name),
            };
            KeyState {
                position: i,
                exprs: vec![viable.text.clone()],
                viable: vec![viable],
            }
        })
        .collect();
    let drops_null_values = (!source.is_table()).then_some("a join skips records without values");
    Side {
        contributed: (0..scope.columns.len()).collect(),
        scope,
        plan: LogicalPlan::Source(SourceNode {
            source: source.clone(),
            schema: source.batch_schema(),
            drops_null_values,
        }),
        key,
        kind: source.kind,
        name: alias.clone(),
        window: source.window.map(|w| {
            let n = source.schema.columns.len();
            (w, [n, n + 1])
        }),
    }
}

/// Joins `right` (a source) to `left`.
fn join_node(
    left: Side,
    right: Side,
    join: &sql::Join,
    context: &str,
    all_names: &[String],
    functions: &FunctionRegistry,
    nested: bool,
) -> PlanResult<Side> {
    let combined = combined_scope(&left, &right);
    let criteria = criteria(&join.on, &combined, functions, &right.name)?;
    let left_keys = bind_all(&criteria, |c| &c.left, &left.scope, functions)?;
    let right_keys = bind_all(&criteria, |c| &c.right, &right.scope, functions)?;
    let kind = join_kind(join.kind);
    let shape = checks::shape(
        &left,
        &right,
        join,
        &criteria,
        (&left_keys, &right_keys),
        nested,
    )?;
    if let Some(as_of) = &join.as_of {
        let bound = Binder::new(&left.scope, functions)
            .bind(as_of)
            .map_err(|e| e.in_clause("FOR SYSTEM_TIME AS OF"))?;
        checks::as_of(&bound, &left, &as_of.to_string())?;
    }
    checks::key_types(shape, &criteria, &left_keys, &right_keys, &combined)?;
    checks::foreign_key(shape, &right, join.kind)?;
    checks::windows(&left, &right)?;
    let foreign_key = shape == JoinShape::ForeignKey;
    // A foreign-key join's rows are keyed by the left table's primary key.
    let (viable, key_types) = match foreign_key {
        true => left_primary_key(&left),
        false => (
            viable_columns(&left, &right, &criteria, (&left_keys, &right_keys), kind),
            left_keys.iter().map(|k| k.ty.clone()).collect(),
        ),
    };
    let left_texts: Vec<&str> = criteria.iter().map(|c| c.left_text.as_str()).collect();
    let right_texts: Vec<&str> = criteria.iter().map(|c| c.right_text.as_str()).collect();
    let (left_plan, mut left_positions) =
        keyed(left.plan.clone(), &left.key, &left_keys, &left_texts)?;
    let (right_plan, mut right_positions) =
        keyed(right.plan.clone(), &right.key, &right_keys, &right_texts)?;
    // Windowed rows join only rows of the same window: its bounds end the key.
    let window = left.window.map(|(w, _)| w);
    if let (Some((_, l)), Some((_, r))) = (left.window, right.window) {
        left_positions.extend(l);
        right_positions.extend(r);
    }
    let mut names = KeyNames::new(all_names);
    let mut scope = Scope {
        columns: Vec::new(),
        joined: true,
    };
    for (i, (ty, (v, _))) in key_types.iter().zip(&viable).enumerate() {
        let name = match v.is_empty() {
            true => names.next(),
            false => format!("KSQL_JOIN_KEY_{i}"),
        };
        scope.columns.push(ScopeColumn {
            name,
            qualifier: None,
            sql_type: ty.clone(),
        });
    }
    let keys = scope.columns.len();
    let mut fields: Vec<Column> = (0..keys)
        .map(|i| {
            Column::new(
                format!("KSQL_JOIN_KEY_{i}"),
                key_types[i].clone(),
                ColumnRole::Key,
            )
        })
        .collect();
    let mut moved = Vec::new();
    for (side, offset) in [(&left, 0), (&right, 1)] {
        for p in &side.contributed {
            let c = &side.scope.columns[*p];
            let alias = c.qualifier.clone().unwrap_or_default();
            moved.push((offset, *p, scope.columns.len()));
            fields.push(Column::new(
                format!("{alias}_{}", c.name),
                c.sql_type.clone(),
                ColumnRole::Value,
            ));
            scope.columns.push(c.clone());
        }
    }
    for (name, ty) in pseudo_columns(window.is_some()) {
        scope.columns.push(ScopeColumn {
            name: name.to_string(),
            qualifier: None,
            sql_type: ty,
        });
    }
    let schema = LogicalSchema::new(fields).batch_schema(window.is_some());
    // The viable columns' positions in this join's output.
    let position_in_output = |side: usize, p: usize| {
        moved
            .iter()
            .find(|(s, q, _)| *s == side && *q == p)
            .map(|(_, _, out)| *out)
    };
    let key = viable
        .into_iter()
        .enumerate()
        .map(|(i, (v, exprs))| KeyState {
            position: i,
            viable: v
                .into_iter()
                .filter_map(|(side, viable)| {
                    position_in_output(side, viable.scope_index).map(|scope_index| Viable {
                        scope_index,
                        ..viable
                    })
                })
                .collect(),
            exprs,
        })
        .collect();
    let node = JoinNode {
        left: Box::new(left_plan),
        right: Box::new(right_plan),
        kind,
        shape,
        left_keys: match foreign_key {
            true => left.key.iter().map(|k| k.position).collect(),
            false => left_positions.clone(),
        },
        foreign_key: match foreign_key {
            true => left_positions,
            false => Vec::new(),
        },
        right_keys: right_positions,
        left_columns: left.contributed.clone(),
        right_columns: right.contributed.clone(),
        context: context.to_string(),
        criteria: criteria
            .iter()
            .map(|c| c.written.clone())
            .collect::<Vec<_>>()
            .join(" AND "),
        schema,
    };
    let kind = match shape {
        JoinShape::TableTable | JoinShape::ForeignKey => SourceKind::Table,
        _ => SourceKind::Stream,
    };
    let width = scope.columns.len();
    let tail = if window.is_some() { 5 } else { 3 };
    Ok(Side {
        contributed: (keys..width - tail).collect(),
        plan: LogicalPlan::Join(node),
        scope,
        key,
        kind,
        name: left.name,
        window: window.map(|w| (w, [width - 5, width - 4])),
    })
}

/// Both inputs' columns, for reading the ON clause.
fn combined_scope(left: &Side, right: &Side) -> Scope {
    let columns = [left, right]
        .iter()
        .flat_map(|s| s.contributed.iter().map(|p| s.scope.columns[*p].clone()))
        .collect();
    Scope {
        columns,
        joined: true,
    }
}

fn bind_all(
    criteria: &[Criterion],
    side: impl Fn(&Criterion) -> &crate::sql::Expr,
    scope: &Scope,
    functions: &FunctionRegistry,
) -> PlanResult<Vec<TExpr>> {
    let mut binder = Binder::new(scope, functions);
    criteria
        .iter()
        .map(|c| binder.bind(side(c)).map_err(|e| e.in_clause("JOIN ON")))
        .collect()
}

fn join_kind(kind: sql::JoinKind) -> JoinKind {
    match kind {
        sql::JoinKind::Inner => JoinKind::Inner,
        sql::JoinKind::Left => JoinKind::Left,
        sql::JoinKind::Right => JoinKind::Right,
        sql::JoinKind::Full => JoinKind::Outer,
    }
}

/// The side's plan keyed by `keys` (their texts `texts`): as it is when they are its key
/// components in order, else re-keyed (the key columns appended). Returns the key columns'
/// positions.
fn keyed(
    plan: LogicalPlan,
    key: &[KeyState],
    keys: &[TExpr],
    texts: &[&str],
) -> PlanResult<(LogicalPlan, Vec<usize>)> {
    let is_key = |i: usize| {
        key.get(i)
            .is_some_and(|k| k.is(texts[i], column_of(&keys[i])))
    };
    if key.len() == keys.len() && (0..keys.len()).all(is_key) {
        return Ok((plan, key.iter().map(|k| k.position).collect()));
    }
    for (e, text) in keys.iter().zip(texts) {
        checks::no_map_in_key(&e.ty, text)?;
    }
    let width = plan.schema().fields().len();
    let compiled = keys
        .iter()
        .map(|e| Compiled::new(e.clone()))
        .collect::<PlanResult<Vec<_>>>()?;
    let count = compiled.len();
    let plan = crate::plan::logical_build::rekey(plan, compiled, RekeyReason::Join, &|_| false);
    Ok((plan, (width..width + count).collect()))
}

fn column_of(e: &TExpr) -> Option<usize> {
    match &e.node {
        Node::Column { index, .. } => Some(*index),
        _ => None,
    }
}

/// What is equal to one key component: source columns (`(side, viable)`, side 0 the left),
/// and expressions as qualified texts.
type Equal = (Vec<(usize, Viable)>, Vec<String>);

/// Per key component: the source columns equal to it (`(side, position in the side)`), left
/// subtree first, and the expressions equal to it; none for FULL OUTER (either side may be
/// missing).
fn viable_columns(
    left: &Side,
    right: &Side,
    criteria: &[Criterion],
    (left_keys, right_keys): (&[TExpr], &[TExpr]),
    kind: JoinKind,
) -> Vec<Equal> {
    let column = |side: &Side, e: &TExpr| {
        let index = column_of(e)?;
        let c = &side.scope.columns[index];
        let q = c.qualifier.clone()?;
        Some(Viable {
            scope_index: index,
            text: format!("{q}.{}", c.name),
            name: format!("{q}_{}", c.name),
        })
    };
    let mut out = Vec::new();
    for ((c, l), r) in criteria.iter().zip(left_keys).zip(right_keys) {
        if kind == JoinKind::Outer {
            out.push((Vec::new(), Vec::new()));
            continue;
        }
        let mut viable: Vec<(usize, Viable)> = Vec::new();
        let mut exprs: Vec<String> = Vec::new();
        // An expression equal to one of the left side's keys brings what is equal to it.
        if let Some(k) = left.key.iter().find(|k| k.is(&c.left_text, column_of(l))) {
            viable.extend(k.viable.iter().cloned().map(|v| (0, v)));
            exprs.extend(k.exprs.iter().cloned());
        }
        if let Some(v) = column(left, l)
            && !viable.iter().any(|(_, x)| x.scope_index == v.scope_index)
        {
            viable.push((0, v));
        }
        if let Some(v) = column(right, r) {
            viable.push((1, v));
        }
        for text in [&c.left_text, &c.right_text] {
            if !exprs.contains(text) {
                exprs.push(text.clone());
            }
        }
        out.push((viable, exprs));
    }
    out
}

/// A foreign-key join's key components (the left table's primary key, with what is equal to
/// each) and their types.
fn left_primary_key(left: &Side) -> (Vec<Equal>, Vec<SqlType>) {
    left.key
        .iter()
        .map(|k| {
            let viable = k.viable.iter().cloned().map(|v| (0, v)).collect();
            let ty = left.scope.columns[k.position].sql_type.clone();
            ((viable, k.exprs.clone()), ty)
        })
        .unzip()
}

/// ksqlDB's synthetic key names: `ROWKEY`, then `ROWKEY_1`, `ROWKEY_2`, ..., each the first
/// not used by a source's column.
struct KeyNames<'a> {
    taken: &'a [String],
    used: Vec<String>,
}

impl<'a> KeyNames<'a> {
    fn new(taken: &'a [String]) -> KeyNames<'a> {
        KeyNames {
            taken,
            used: Vec::new(),
        }
    }

    fn next(&mut self) -> String {
        let candidates =
            std::iter::once("ROWKEY".to_string()).chain((1..).map(|n| format!("ROWKEY_{n}")));
        for c in candidates {
            if !self.taken.contains(&c) && !self.used.contains(&c) {
                self.used.push(c.clone());
                return c;
            }
        }
        String::from("ROWKEY")
    }
}
