//! Planning a stateless query (filter, projection, PARTITION BY) over one stream: which
//! expressions produce the output key and value columns, and the output schema.

use super::aggregate::{AggregateInput, AggregatePlan, plan_aggregate};
use super::expr::{Binder, Node, Scope, TExpr, ident_name, to_physical};
use super::functions::FunctionRegistry;
use super::join::{JoinedInput, KeyComponent};
use super::partition::PartitionKeys;
use super::schema::{Column, ColumnRole, LogicalSchema};
use super::{CatalogView, PlanError, PlanResult, SourceDef};
use crate::common::SqlType;
use crate::plan_err;
use crate::sql::{AccessExpr, Expr, Query, SelectItem, SourceKind};
use arrow::datatypes::SchemaRef;
use datafusion::physical_expr::PhysicalExpr;
use std::collections::HashSet;
use std::sync::Arc;

/// An expression ready to run: its typed IR and its physical form.
#[derive(Clone)]
pub struct Compiled {
    pub expr: TExpr,
    pub physical: Arc<dyn PhysicalExpr>,
}

impl Compiled {
    pub(super) fn new(expr: TExpr) -> PlanResult<Compiled> {
        let physical = to_physical(&expr)?;
        Ok(Compiled { expr, physical })
    }
}

/// One output column.
#[derive(Clone)]
pub struct OutputColumn {
    pub name: String,
    pub compiled: Compiled,
    pub is_key: bool,
    /// `EXPLODE(array)`: `compiled` is the array; the column holds one element per output row.
    pub explode: bool,
}

/// A stateless query over one stream.
#[derive(Clone)]
pub struct QueryPlan {
    pub source: SourceDef,
    /// The Arrow schema of batches read from the source.
    pub input_schema: SchemaRef,
    pub filter: Option<Compiled>,
    /// Output columns in SELECT order (keys marked).
    pub columns: Vec<OutputColumn>,
    pub output_schema: LogicalSchema,
    /// True when PARTITION BY chose the key (so the sink is re-partitioned by it).
    pub repartitioned: bool,
    /// PARTITION BY expressions (as ksqlDB prints them, e.g. `INPUT.ID`) when some of them
    /// are not in the projection, which a persistent query must include.
    pub unprojected_partition_by: Option<Vec<String>>,
    /// GROUP BY: the aggregation, whose output `columns` are computed from.
    pub aggregation: Option<AggregatePlan>,
    pub limit: Option<u64>,
    /// A join query: the joined sources and their tree, which `source` stands for.
    pub join: Option<Arc<JoinedInput>>,
    /// A join query's key components that the projection does not include.
    pub unprojected_join_keys: Vec<KeyComponent>,
    /// A join key column projected more than once: its name and the output names.
    pub repeated_join_key: Option<(String, Vec<String>)>,
}

impl OutputColumn {
    /// The column's type (the element type for EXPLODE).
    pub fn output_type(&self) -> SqlType {
        match (&self.compiled.expr.ty, self.explode) {
            (SqlType::Array(element), true) => (**element).clone(),
            (t, _) => t.clone(),
        }
    }
}

impl QueryPlan {
    /// The output columns' names, in order.
    pub fn column_names(&self) -> Vec<String> {
        self.columns.iter().map(|c| c.name.clone()).collect()
    }

    /// The output columns' types as ksqlDB writes them (`STRING`, `ARRAY<INTEGER>`, ...).
    pub fn column_types(&self) -> Vec<String> {
        self.columns
            .iter()
            .map(|c| c.output_type().to_string())
            .collect()
    }

    /// How the output's keys are windowed: by the aggregation's window, or as the source's.
    pub fn output_window(&self) -> Option<crate::format::WindowInfo> {
        match &self.aggregation {
            None => self.source.window,
            Some(a) => a.window.as_ref().map(|w| w.key_window()),
        }
    }

    /// The sink a `CREATE ... AS SELECT` named `name` writes with this plan: its columns and
    /// window, on `topic` with the formats and TIMESTAMP column given.
    pub fn sink(
        &self,
        (name, kind): (&str, crate::sql::SourceKind),
        topic: String,
        (key_format, value_format): (crate::format::FormatSpec, crate::format::FormatSpec),
        timestamp: Option<super::TimestampSpec>,
        sql: &str,
    ) -> SourceDef {
        SourceDef {
            name: name.to_string(),
            kind,
            schema: self.output_schema.clone(),
            topic,
            key_format,
            value_format,
            timestamp,
            read_only: false,
            from_query: true,
            window: self.output_window(),
            sql: sql.to_string(),
        }
    }

    /// The sources the query reads: the joined ones, or its one source.
    pub fn sources(&self) -> Vec<&SourceDef> {
        match &self.join {
            Some(j) => j.leaves.iter().map(|(_, s)| s).collect(),
            None => vec![&self.source],
        }
    }

    pub fn keys(&self) -> impl Iterator<Item = &OutputColumn> {
        self.columns.iter().filter(|c| c.is_key)
    }

    pub fn values(&self) -> impl Iterator<Item = &OutputColumn> {
        self.columns.iter().filter(|c| !c.is_key)
    }
}

/// Whether a query's output goes to a sink (persistent) or to the client (transient).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueryKind {
    Persistent,
    Transient,
    /// A pull query: reads a table's materialized rows once (tables need no aggregation).
    Pull,
}

pub fn plan_query(
    q: &Query,
    catalog: &dyn CatalogView,
    functions: &FunctionRegistry,
    kind: QueryKind,
) -> PlanResult<QueryPlan> {
    let joined = match q.joins.is_empty() {
        true => None,
        false => Some(Arc::new(super::join::plan_from(q, catalog, functions)?)),
    };
    let source = match &joined {
        Some(j) => &j.source,
        None => match catalog.source(&q.from.name) {
            Some(source) => source,
            None => {
                return Err(PlanError::at(
                    format!("{} does not exist.", q.from.name),
                    q.from.location,
                ));
            }
        },
    };
    let aggregating = is_aggregation(q, functions);
    if source.kind == SourceKind::Table && !aggregating && kind != QueryKind::Pull {
        check_table_query(q, source, functions, kind)?;
    }
    let qualifier = q.from.alias.clone().unwrap_or_else(|| source.name.clone());
    let mut scope = match &joined {
        Some(j) => j.scope.clone(),
        None => Scope::for_source(&qualifier, &source.schema, source.window.is_some()),
    };
    // ksqlDB resolves no window bounds in the SELECT of a windowed aggregation over a join.
    let scope_has_virtual_bounds =
        q.window.is_some() && source.window.is_none() && joined.is_none();
    if scope_has_virtual_bounds {
        // A windowed aggregation's SELECT may read its window bounds (rewritten onto the
        // aggregation's output; anywhere else they are refused).
        scope.add_window_bounds(&qualifier);
    }
    let mut binder = Binder::new(&scope, functions);
    let filter = match &q.where_clause {
        Some(w) => {
            if let Some(name) = super::aggregate::window_bound_named(w)
                && scope_has_virtual_bounds
            {
                return plan_err!("Error in WHERE expression: Unknown column {name}.");
            }
            // As ksqlDB's, the error quotes the WHERE expression as its statement.
            let bound = binder.bind(w).map_err(|e| match e.in_clause("WHERE") {
                PlanError::Invalid(m) if !m.starts_with("WHERE column") => {
                    let w = super::expr::ksql_text(w);
                    PlanError::Invalid(format!("Error in WHERE expression: {m}\nStatement: {w}"))
                }
                other => other,
            })?;
            if bound.ty != SqlType::Boolean {
                let w = super::expr::ksql_text(w);
                return plan_err!(
                    "Type error in WHERE expression: Should evaluate to boolean but is {w} ({}) instead.",
                    bound.ty
                );
            }
            if let Some(name) = super::aggregate::window_bound_in(&bound)
                && scope_has_virtual_bounds
            {
                return plan_err!("Error in WHERE expression: Unknown column {name}.");
            }
            Some(Compiled::new(bound)?)
        }
        None => None,
    };
    let items = match &joined {
        Some(j) => super::join::expand_select(q, j, &mut binder)?,
        None => expand_select(q, source, &qualifier, &mut binder, kind)?,
    };
    let mut names = match &joined {
        Some(j) => Namer::for_join(&items, j),
        None => Namer::new(&items, &source.schema),
    };
    if aggregating {
        let input = AggregateInput {
            query: q,
            binder: &mut binder,
            items: &items,
            names: &mut names,
            source_is_table: source.kind == SourceKind::Table,
            virtual_window_bounds: scope_has_virtual_bounds,
            delimited_source: source.value_format.kind == crate::format::FormatKind::Delimited,
            transient: kind == QueryKind::Transient,
        };
        let over_join = joined.is_some();
        let (aggregation, columns) =
            super::expr::with_joined_names(over_join, || plan_aggregate(input))?;
        let mut plan = finish(q, source, filter, columns, Some(aggregation))?;
        plan.join = joined;
        return Ok(plan);
    }
    let mut columns = Vec::with_capacity(items.len());
    for (expr, alias) in &items {
        let (bound, explode) = match super::table_functions::rows_expr(expr, functions, &mut binder)
        {
            Some(rows) => (rows?, true),
            None => (binder.bind(expr).map_err(|e| e.in_clause("SELECT"))?, false),
        };
        if bound.is_null_literal() {
            return plan_err!(
                "Can't infer a type of null. Please explicitly cast it to a required type, e.g. CAST(null AS VARCHAR)."
            );
        }
        let name = alias.clone().unwrap_or_else(|| names.name_for(expr));
        columns.push(OutputColumn {
            name,
            compiled: Compiled::new(bound)?,
            is_key: false,
            explode,
        });
    }
    let repartitioned = !q.partition_by.is_empty();
    let mut unprojected_partition_by = None;
    if repartitioned {
        let keys = PartitionKeys {
            query: q,
            qualifier: &qualifier,
            items: &items,
        };
        unprojected_partition_by = keys.apply(&mut columns, &mut binder, &mut names)?;
    }
    let mut join_keys = None;
    match &joined {
        _ if repartitioned => {}
        Some(j) => join_keys = Some(super::join::mark_keys(&mut columns, j)?),
        None => mark_source_keys(&mut columns, source),
    }
    check_duplicates(&columns, kind)?;
    let mut plan = finish(q, source, filter, columns, None)?;
    plan.repartitioned = repartitioned;
    plan.unprojected_partition_by = unprojected_partition_by;
    plan.join = joined;
    if let Some(keys) = join_keys {
        plan.unprojected_join_keys = keys.missing;
        plan.repeated_join_key = keys.repeated;
    }
    Ok(plan)
}

/// Whether the query aggregates: GROUP BY, WINDOW, HAVING, or an aggregate call in SELECT.
fn is_aggregation(q: &Query, functions: &FunctionRegistry) -> bool {
    let calls_aggregate = q.select.iter().any(|(item, _)| match item {
        SelectItem::Expr { expr, .. } => super::aggregate::aggregate_in(expr, functions).is_some(),
        _ => false,
    });
    !q.group_by.is_empty() || q.window.is_some() || q.having.is_some() || calls_aggregate
}

/// What a query over a table (a changelog of rows by key) may not do.
fn check_table_query(
    q: &Query,
    source: &SourceDef,
    functions: &FunctionRegistry,
    kind: QueryKind,
) -> PlanResult<()> {
    if source.window.is_some() && kind == QueryKind::Persistent {
        return plan_err!("KSQL does not support persistent queries on windowed tables.");
    }
    let explodes = q.select.iter().any(|(item, _)| match item {
        crate::sql::SelectItem::Expr { expr, .. } => {
            super::table_functions::is_table_function(expr, functions)
        }
        _ => false,
    });
    if explodes {
        return plan_err!("Table source is not supported with table functions");
    }
    if !q.partition_by.is_empty() {
        return plan_err!(
            "Cannot repartition a TABLE source. PARTITION BY would change the key of a table's rows; re-key the table with GROUP BY instead."
        );
    }
    Ok(())
}

/// The plan from its output columns.
fn finish(
    q: &Query,
    source: &SourceDef,
    filter: Option<Compiled>,
    columns: Vec<OutputColumn>,
    aggregation: Option<AggregatePlan>,
) -> PlanResult<QueryPlan> {
    let role = |c: &OutputColumn| {
        if c.is_key {
            ColumnRole::Key
        } else {
            ColumnRole::Value
        }
    };
    let output_schema = LogicalSchema::new(
        columns
            .iter()
            .map(|c| Column::new(c.name.clone(), c.output_type(), role(c)))
            .collect(),
    );
    Ok(QueryPlan {
        input_schema: source.batch_schema(),
        source: source.clone(),
        filter,
        columns,
        output_schema,
        repartitioned: aggregation.is_some(),
        unprojected_partition_by: None,
        aggregation,
        limit: q.limit,
        join: None,
        unprojected_join_keys: Vec::new(),
        repeated_join_key: None,
    })
}

/// Select items with `*` expanded (see `star`).
fn expand_select(
    q: &Query,
    source: &SourceDef,
    qualifier: &str,
    binder: &mut Binder<'_>,
    kind: QueryKind,
) -> PlanResult<Vec<(Expr, Option<String>)>> {
    let mut out = Vec::new();
    let star = Star {
        keys_last: !q.partition_by.is_empty(),
        window_bounds: kind != QueryKind::Persistent && source.window.is_some(),
    };
    for (item, _) in &q.select {
        match item {
            SelectItem::Wildcard => star.expand(source, &mut out),
            SelectItem::QualifiedWildcard(q) if q == qualifier || q == &source.name => {
                star.expand(source, &mut out)
            }
            SelectItem::QualifiedWildcard(q) => {
                return plan_err!("'{q}' is not a valid stream/table name or alias.");
            }
            SelectItem::StructFields(root) => struct_fields(root, binder, &mut out)?,
            SelectItem::Expr { expr, alias } => out.push((expr.clone(), alias.clone())),
        }
    }
    Ok(out)
}

/// `root->*`: one item per field of the struct `root`, named after the field.
pub(super) fn struct_fields(
    root: &Expr,
    binder: &mut Binder<'_>,
    out: &mut Vec<(Expr, Option<String>)>,
) -> PlanResult<()> {
    let bound = binder.bind(root).map_err(|e| e.in_clause("SELECT"))?;
    let SqlType::Struct(fields) = &bound.ty else {
        return plan_err!(
            "Expected a STRUCT before '->*', but {root} is of type {}.",
            bound.ty
        );
    };
    for f in fields {
        let field = Expr::CompoundFieldAccess {
            root: Box::new(root.clone()),
            access_chain: vec![AccessExpr::Dot(Expr::Identifier(
                sqlparser::ast::Ident::with_quote('`', f.name.clone()),
            ))],
        };
        out.push((field, Some(f.name.clone())));
    }
    Ok(())
}

/// How `*` expands: key columns then value columns; with PARTITION BY (which re-keys) value
/// columns then the old key columns, as ksqlDB orders them. A transient query over a windowed
/// source also gets WINDOWSTART and WINDOWEND after the keys.
struct Star {
    keys_last: bool,
    window_bounds: bool,
}

impl Star {
    fn expand(&self, source: &SourceDef, out: &mut Vec<(Expr, Option<String>)>) {
        let keys = source.schema.key_columns().map(|c| c.name.as_str());
        let window = [super::schema::WINDOWSTART, super::schema::WINDOWEND];
        let window = window.iter().copied().filter(|_| self.window_bounds);
        let keys = keys.chain(window);
        // Header columns are values here, in the order declared.
        let values = source
            .schema
            .columns
            .iter()
            .filter(|c| c.role != ColumnRole::Key)
            .map(|c| c.name.as_str());
        let ordered: Vec<&str> = if self.keys_last {
            values.chain(keys).collect()
        } else {
            keys.chain(values).collect()
        };
        for name in ordered {
            let ident = sqlparser::ast::Ident::with_quote('`', name.to_string());
            out.push((Expr::Identifier(ident), None));
        }
    }
}

/// Without PARTITION BY the key is the source's key columns, where projected as plain columns.
fn mark_source_keys(columns: &mut [OutputColumn], source: &SourceDef) {
    let mut used = HashSet::new();
    for c in columns.iter_mut() {
        if let Node::Column { name, .. } = &c.compiled.expr.node
            && source
                .schema
                .find(name)
                .is_some_and(|s| s.role == ColumnRole::Key)
            && used.insert(name.clone())
        {
            c.is_key = true;
        }
    }
}

/// Output names are unique; a persistent query's may not be those of pseudo-columns.
fn check_duplicates(columns: &[OutputColumn], kind: QueryKind) -> PlanResult<()> {
    let mut seen = HashSet::new();
    for c in columns {
        if !c.is_key
            && kind == QueryKind::Persistent
            && [
                super::schema::ROWTIME,
                super::schema::ROWPARTITION,
                super::schema::ROWOFFSET,
                super::schema::WINDOWSTART,
                super::schema::WINDOWEND,
            ]
            .contains(&c.name.as_str())
        {
            // Selecting the pseudo-column itself (`ROWTIME`, or a joined source's `L_ROWTIME`).
            let selects_itself = |name: &str| {
                name == c.name
                    || name
                        .strip_suffix(c.name.as_str())
                        .is_some_and(|p| p.ends_with('_'))
            };
            if matches!(&c.compiled.expr.node, Node::Column { name, .. } if selects_itself(name)) {
                return plan_err!(
                    "Reserved column name in select: `{}`. Please remove or alias the column.",
                    c.name
                );
            }
            return plan_err!(
                "`{}` is a reserved column name. You cannot use it as an alias for a column.",
                c.name
            );
        }
        if !seen.insert(c.name.as_str()) {
            let kind = if c.is_key { "key" } else { "value" };
            return plan_err!(
                "Duplicate {kind} columns found in schema: `{}` {}",
                c.name,
                c.compiled.expr.ty
            );
        }
    }
    Ok(())
}

/// ksqlDB's default column names (its ColumnAliasGenerator): a column keeps its name; a
/// struct field gets its field name, or `NAME_n` (n from 1) when that name is already a source
/// column, an alias or an earlier field's name; anything else gets `KSQL_COL_n`, n counting up
/// past names already used.
pub(super) struct Namer {
    taken: HashSet<String>,
    next: usize,
    /// In a join: column names several sources have (`A.COL` of one is named `A_COL`).
    clashing: HashSet<String>,
}

impl Namer {
    pub(super) fn new(items: &[(Expr, Option<String>)], source: &LogicalSchema) -> Namer {
        Namer {
            taken: items
                .iter()
                .filter_map(|(_, a)| a.clone())
                .chain(source.columns.iter().map(|c| c.name.clone()))
                .collect(),
            next: 0,
            clashing: HashSet::new(),
        }
    }

    /// The names of a join query's columns: as for one source, and `A.COL` named `A_COL` when
    /// another source has a column `COL` too.
    pub(super) fn for_join(items: &[(Expr, Option<String>)], joined: &JoinedInput) -> Namer {
        let mut namer = Namer::new(items, &joined.source.schema);
        for (_, source) in &joined.leaves {
            namer
                .taken
                .extend(source.schema.columns.iter().map(|c| c.name.clone()));
        }
        namer.clashing = joined.clashing_names();
        namer
    }

    pub(super) fn name_for(&mut self, expr: &Expr) -> String {
        match expr {
            Expr::Identifier(i) => return ident_name(i),
            Expr::CompoundIdentifier(parts) if parts.len() == 2 => {
                let name = ident_name(&parts[1]);
                if self.clashing.contains(&name) {
                    return format!("{}_{name}", ident_name(&parts[0]));
                }
                return name;
            }
            _ => {}
        }
        let field = match expr {
            Expr::CompoundIdentifier(parts) => parts.last().map(ident_name),
            Expr::CompoundFieldAccess { access_chain, .. } => match access_chain.last() {
                Some(AccessExpr::Dot(Expr::Identifier(field))) => Some(ident_name(field)),
                _ => None,
            },
            _ => None,
        };
        if let Some(name) = field {
            if self.taken.insert(name.clone()) {
                return name;
            }
            return (1..)
                .map(|n| format!("{name}_{n}"))
                .find(|candidate| self.taken.insert(candidate.clone()))
                .unwrap_or(name);
        }
        loop {
            let candidate = format!("KSQL_COL_{}", self.next);
            self.next += 1;
            if self.taken.insert(candidate.clone()) {
                return candidate;
            }
        }
    }
}

/// The projection rules of CREATE ... AS SELECT and INSERT INTO (ksqlDB's, as without its new
/// planner): every source key column projected once, and at least one value column.
pub fn check_projection(plan: &QueryPlan, sink: &str, allow_missing_key: bool) -> PlanResult<()> {
    if let Some(a) = &plan.aggregation
        && !a.unprojected_group_by.is_empty()
    {
        let message = super::aggregate::unprojected_message(sink, &a.unprojected_group_by);
        return Err(PlanError::Invalid(message));
    }
    if let Some(exprs) = &plan.unprojected_partition_by {
        let plural = if exprs.len() > 1 { "s" } else { "" };
        return plan_err!(
            "The query used to build `{sink}` must include the partitioning expression{plural} {} in its projection (eg, SELECT {}...).",
            exprs.join(" and "),
            exprs.join(", ")
        );
    }
    if let Some((key, names)) = &plan.repeated_join_key {
        return plan_err!(
            "The projection contains a key column (`{key}`) more than once, aliased as: {}.",
            names.join(" and ")
        );
    }
    if let Some(join) = &plan.join
        && let Some(left) = &join.foreign_key_left
        && !plan.unprojected_join_keys.is_empty()
        && !allow_missing_key
    {
        let missing: Vec<String> = plan
            .unprojected_join_keys
            .iter()
            .filter_map(|k| k.viable.first())
            .map(|v| join.scope.columns[v.scope_index].name.clone())
            .collect();
        let message = super::join::missing_foreign_key_message(left, &missing);
        return Err(PlanError::Invalid(message));
    }
    if let Some(missing) = plan.unprojected_join_keys.first()
        && !allow_missing_key
    {
        return Err(PlanError::Invalid(super::join::missing_key_message(
            sink, missing,
        )));
    }
    if !plan.repartitioned && plan.join.is_none() {
        for key in plan.source.schema.key_columns() {
            let refs: Vec<&OutputColumn> = plan.columns.iter().filter(|c| matches!(&c.compiled.expr.node, Node::Column { name, .. } if name == &key.name)).collect();
            if refs.len() > 1 {
                let names: Vec<&str> = refs.iter().map(|c| c.name.as_str()).collect();
                return plan_err!(
                    "The projection contains a key column (`{}`) more than once, aliased as: {}.",
                    key.name,
                    names.join(" and ")
                );
            }
            if refs.is_empty() && !allow_missing_key {
                return plan_err!(
                    "The query used to build `{sink}` must include the key column {} in its projection (eg, SELECT {}...).",
                    key.name,
                    key.name
                );
            }
        }
    }
    if plan.values().next().is_none() {
        return plan_err!("The projection contains no value columns.");
    }
    Ok(())
}
