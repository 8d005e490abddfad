//! Building the logical tree (`plan::logical`) of a planned query: the planner's
//! [`QueryPlan`] (source, WHERE, output columns, aggregation) becomes a chain of nodes from the
//! source to the sink, each with its output schema.

use super::logical::*;
use super::query::{Compiled, OutputColumn, QueryPlan};
use super::schema::{ColumnRole, ROWTIME, WINDOWEND, WINDOWSTART};
use super::source::SourceDef;
use arrow::datatypes::{Field, Schema, SchemaRef};
use std::sync::Arc;

/// Where a query's rows go.
#[derive(Clone)]
pub enum SinkTarget {
    /// A persistent query's sink topic (a stream or table).
    Topic(SourceDef),
    /// A push query's subscriber.
    Subscriber,
}

/// The tree of `plan` writing to `target`.
pub fn logical_plan(plan: &QueryPlan, target: SinkTarget) -> LogicalPlan {
    let persistent = matches!(target, SinkTarget::Topic(_));
    let drops_null_values = match (plan.source.is_table(), &plan.aggregation, persistent) {
        (true, _, _) => None,
        (false, Some(_), _) => Some("an aggregation over a stream skips records without values"),
        (false, None, false) => Some("a push query over a stream shows only rows with values"),
        (false, None, true) => None,
    };
    let source = match &plan.join {
        Some(joined) => joined.tree.clone(),
        None => LogicalPlan::Source(SourceNode {
            source: plan.source.clone(),
            schema: plan.input_schema.clone(),
            drops_null_values,
        }),
    };
    let body = match &plan.aggregation {
        Some(_) => aggregation(plan, source),
        None => stateless(plan, source, persistent),
    };
    let body = match persistent && plan.source.is_table() && plan.aggregation.is_none() {
        true => LogicalPlan::Materialize(MaterializeNode {
            key_columns: key_positions(&plan.columns),
            input: Box::new(body),
        }),
        false => body,
    };
    LogicalPlan::Sink(SinkNode {
        input: Box::new(body),
        target,
        columns: plan.columns.clone(),
        source_keys: !plan.repartitioned,
    })
}

/// Filter, re-key (PARTITION BY), table functions, projection.
fn stateless(plan: &QueryPlan, source: LogicalPlan, persistent: bool) -> LogicalPlan {
    let table = plan.source.is_table();
    let key_reads = source_key_reads(&plan.input_schema, &plan.source);
    let judges_deletions = deletion_filter(&plan.input_schema, &plan.source);
    let mut node = source;
    if let Some(predicate) = &plan.filter {
        let rule = match (table, persistent) {
            (false, _) => FilterRule::Stream,
            (true, true) => FilterRule::Table,
            (true, false) => FilterRule::TableView,
        };
        node = filter(node, predicate, rule, "WHERE", judges_deletions(predicate));
    }
    let mut inputs: Vec<Option<usize>> = vec![None; plan.columns.len()];
    if plan.repartitioned {
        let keys: Vec<(usize, &OutputColumn)> = plan
            .columns
            .iter()
            .enumerate()
            .filter(|(_, c)| c.is_key)
            .collect();
        let width = node.schema().fields().len();
        for (k, (i, _)) in keys.iter().enumerate() {
            inputs[*i] = Some(width + k);
        }
        let exprs: Vec<Compiled> = keys.iter().map(|(_, c)| c.compiled.clone()).collect();
        node = rekey(node, exprs, RekeyReason::PartitionBy, &key_reads);
    }
    let explode: Vec<usize> = (0..plan.columns.len())
        .filter(|i| plan.columns[*i].explode)
        .collect();
    if !explode.is_empty() {
        let width = node.schema().fields().len();
        let functions: Vec<Compiled> = explode
            .iter()
            .map(|i| plan.columns[*i].compiled.clone())
            .collect();
        let elements: Vec<Field> = explode
            .iter()
            .enumerate()
            .map(|(k, i)| {
                let ty = plan.columns[*i].output_type().arrow_type();
                Field::new(format!("KSQL_SYNTH_{k}"), ty, true)
            })
            .collect();
        for (k, i) in explode.iter().enumerate() {
            inputs[*i] = Some(width + k);
        }
        let schema = appended(&node.schema(), elements);
        node = LogicalPlan::TableFunction(TableFunctionNode {
            input: Box::new(node),
            functions,
            schema,
        });
    }
    project(plan, node, &inputs, &|c| reads_some(c) && key_reads(c))
}

/// WHERE, re-key (GROUP BY), aggregate, HAVING, projection.
fn aggregation(plan: &QueryPlan, source: LogicalPlan) -> LogicalPlan {
    let Some(a) = &plan.aggregation else {
        return source;
    };
    let table = plan.source.is_table();
    let key_reads = source_key_reads(&plan.input_schema, &plan.source);
    let judges_deletions = deletion_filter(&plan.input_schema, &plan.source);
    let mut node = source;
    if let Some(predicate) = &plan.filter {
        let rule = if table {
            FilterRule::Table
        } else {
            FilterRule::Stream
        };
        node = filter(node, predicate, rule, "WHERE", judges_deletions(predicate));
    }
    let width = node.schema().fields().len();
    let group_columns = (width..width + a.group_by.len()).collect();
    node = rekey(node, a.group_by.clone(), RekeyReason::GroupBy, &key_reads);
    let table_keys = table.then(|| {
        let schema = &plan.input_schema;
        plan.source
            .schema
            .key_columns()
            .filter_map(|c| schema.index_of(&c.name).ok())
            .collect()
    });
    node = LogicalPlan::Aggregate(AggregateNode {
        input: Box::new(node),
        group_columns,
        calls: a.calls.clone(),
        window: a.window.clone(),
        emit: if a.emit_final {
            Emit::Final
        } else {
            Emit::Changes
        },
        table_keys,
        schema: a.intermediate_schema.clone(),
    });
    // Over the intermediate layout, a deletion has the group's key columns and window.
    let schema = a.intermediate_schema.clone();
    let group_reads = |c: &Compiled| {
        c.expr.column_indices().iter().all(|i| {
            *i < a.group_by.len()
                || schema
                    .fields()
                    .get(*i)
                    .is_some_and(|f| [WINDOWSTART, WINDOWEND].contains(&f.name().as_str()))
        })
    };
    if let Some(having) = &a.having {
        let reads_keys_only = group_reads(having);
        node = filter(node, having, FilterRule::Updates, "HAVING", reads_keys_only);
    }
    let inputs = vec![None; plan.columns.len()];
    project(plan, node, &inputs, &|c| reads_some(c) && group_reads(c))
}

/// The projection of `plan`'s columns over `input` (a column with `Some` position in
/// `inputs` takes that input column as it is), then window bounds and ROWTIME carried.
fn project(
    plan: &QueryPlan,
    input: LogicalPlan,
    inputs: &[Option<usize>],
    key_reads: &dyn Fn(&Compiled) -> bool,
) -> LogicalPlan {
    let in_schema = input.schema();
    let columns: Vec<ProjectColumn> = plan
        .columns
        .iter()
        .zip(inputs)
        .map(|(c, input)| match input {
            Some(i) => ProjectColumn {
                name: c.name.clone(),
                source: ColumnSource::Input(*i),
                on_deletions: !c.explode,
            },
            None => ProjectColumn {
                name: c.name.clone(),
                source: ColumnSource::Expr(c.compiled.clone()),
                on_deletions: key_reads(&c.compiled),
            },
        })
        .collect();
    let mut fields: Vec<Field> = plan
        .columns
        .iter()
        .map(|c| Field::new(&c.name, c.output_type().arrow_type(), true))
        .collect();
    let window = [WINDOWSTART, WINDOWEND];
    let bounds = if plan.output_window().is_some() {
        &window[..]
    } else {
        &[]
    };
    let mut carried = Vec::new();
    for name in bounds.iter().chain(&[ROWTIME]) {
        if let Ok(i) = in_schema.index_of(name) {
            fields.push(in_schema.field(i).clone());
            carried.push(i);
        }
    }
    LogicalPlan::Project(ProjectNode {
        input: Box::new(input),
        columns,
        carried,
        schema: Arc::new(Schema::new(fields)),
    })
}

fn filter(
    input: LogicalPlan,
    predicate: &Compiled,
    rule: FilterRule,
    clause: &'static str,
    reads_keys_only: bool,
) -> LogicalPlan {
    LogicalPlan::Filter(FilterNode {
        input: Box::new(input),
        predicate: predicate.clone(),
        rule,
        clause,
        reads_keys_only,
    })
}

pub(super) fn rekey(
    input: LogicalPlan,
    keys: Vec<Compiled>,
    reason: RekeyReason,
    key_reads: &dyn Fn(&Compiled) -> bool,
) -> LogicalPlan {
    let prefix = match reason {
        RekeyReason::PartitionBy => "KSQL_PARTITION_KEY",
        RekeyReason::GroupBy => "KSQL_GROUP_KEY",
        RekeyReason::Join => "KSQL_JOIN_KEY",
    };
    let fields = keys
        .iter()
        .enumerate()
        .map(|(k, e)| Field::new(format!("{prefix}_{k}"), e.expr.ty.arrow_type(), true))
        .collect();
    LogicalPlan::Rekey(RekeyNode {
        schema: appended(&input.schema(), fields),
        keys_on_deletions: keys.iter().map(key_reads).collect(),
        input: Box::new(input),
        keys,
        reason,
    })
}

/// Whether an expression reads any column (a constant column of a deletion is NULL, as
/// ksqlDB shows a push query's tombstone rows).
fn reads_some(c: &Compiled) -> bool {
    !c.expr.column_indices().is_empty()
}

/// Whether a predicate over a source's batches can judge a deletion, which has its key,
/// window bounds and pseudo-columns (ROWTIME, ROWPARTITION, ROWOFFSET) but no values.
fn deletion_filter(schema: &SchemaRef, source: &SourceDef) -> impl Fn(&Compiled) -> bool {
    let values: Vec<usize> = schema
        .fields()
        .iter()
        .enumerate()
        .filter(|(_, f)| {
            source
                .schema
                .find(f.name())
                .is_some_and(|c| c.role != ColumnRole::Key)
        })
        .map(|(i, _)| i)
        .collect();
    move |c: &Compiled| c.expr.column_indices().iter().all(|i| !values.contains(i))
}

/// Whether an expression over a source's batches reads only its key columns and window
/// bounds (so a deletion, which has only its key, can compute it).
fn source_key_reads(schema: &SchemaRef, source: &SourceDef) -> impl Fn(&Compiled) -> bool {
    let keys: Vec<usize> = schema
        .fields()
        .iter()
        .enumerate()
        .filter(|(_, f)| {
            let name = f.name().as_str();
            [WINDOWSTART, WINDOWEND].contains(&name)
                || source
                    .schema
                    .find(name)
                    .is_some_and(|c| c.role == ColumnRole::Key)
        })
        .map(|(i, _)| i)
        .collect();
    move |c: &Compiled| c.expr.column_indices().iter().all(|i| keys.contains(i))
}

/// Positions of the key columns among the output columns.
fn key_positions(columns: &[OutputColumn]) -> Vec<usize> {
    (0..columns.len()).filter(|i| columns[*i].is_key).collect()
}

/// `schema` with `fields` after its own.
fn appended(schema: &SchemaRef, fields: Vec<Field>) -> SchemaRef {
    let mut all: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
    all.extend(fields);
    Arc::new(Schema::new(all))
}
