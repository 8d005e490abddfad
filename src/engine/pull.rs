//! Pull queries: `SELECT ... FROM table [WHERE ...] [LIMIT n];` (no EMIT CHANGES), answered at
//! once from a materialized table's committed state (`exec::materialized`): the table's rows
//! are rebuilt from its query's state store, then the pull query's WHERE, projection and LIMIT
//! run over them. Refusals use ksqlDB's messages.
//!
//! The engine keeps a read-only materialization handle per table written by a running
//! query (`CREATE TABLE ... AS SELECT`: an aggregation, or a query over a table), dropped when
//! its query ends.

use super::error::{EngineError, EngineResult, statement_err};
use super::pull_keys;
use super::results::PullResult;
use super::{Engine, StatementResult};
use crate::common::Value;
use crate::exec::{Materialization, QueryDriver, topic_rows};
use crate::plan::expr::{Node, TExpr};
use crate::plan::schema::{ROWOFFSET, ROWPARTITION, WINDOWEND, WINDOWSTART};
use crate::plan::{QueryKind, QueryPlan, SourceDef, plan_query};
use crate::sql::{Query, SourceKind};
use arrow::record_batch::RecordBatch;
use std::sync::Arc;

/// Appended to every refusal of a pull query's shape, as ksqlDB does.
const SYNTAX_HELP: &str = " See https://cnfl.io/queries for more info.\nAdd EMIT CHANGES if you intended to issue a push query.";

impl Engine {
    /// Whether a SELECT is a pull query: no EMIT clause, over a known stream or table.
    pub(super) fn is_pull_query(&self, q: &Query) -> bool {
        q.emit.is_none() && self.catalog.sources.contains_key(&q.from.name)
    }

    /// Runs a pull query against a materialized table.
    pub(super) fn pull_query(&mut self, q: &Query) -> EngineResult<StatementResult> {
        self.check_pull_shape(q)?;
        if let (Some(w), Some(source)) = (&q.where_clause, self.catalog.sources.get(&q.from.name))
            && let Err(message) = pull_keys::check_in_literals(w, source)
        {
            return statement_err(message);
        }
        let plan = plan_query(q, &self.catalog, &self.functions, QueryKind::Pull)?;
        check_pseudo_columns(&plan)?;
        if plan.source.is_table() && !self.property_enabled("ksql.query.pull.table.scan.enabled") {
            let range_scans = self.property_enabled("ksql.query.pull.range.scan.enabled");
            if let Err(message) = pull_keys::require_key_lookup(&plan, range_scans) {
                return statement_err(message);
            }
        }
        let keys = super::pull_lookup::exact_keys(&plan);
        let table = self.source_rows(&plan.source, keys.as_deref())?;
        let rows = select_rows(table, &plan)?;
        Ok(StatementResult::PullQuery(PullResult {
            schema: header(&plan),
            column_names: plan.column_names(),
            column_types: plan.column_types(),
            rows,
        }))
    }

    /// The source's current rows: a materialized table's committed rows (only those of
    /// `keys` when the query names its keys exactly); a stream's or a source table's (`CREATE
    /// SOURCE TABLE`) records from its topic.
    fn source_rows(
        &self,
        source: &SourceDef,
        keys: Option<&[Vec<Value>]>,
    ) -> EngineResult<Option<RecordBatch>> {
        let materialization = self
            .materializations
            .read()
            .ok()
            .and_then(|tables| tables.get(&source.name).cloned());
        let rows = match materialization {
            Some(m) => {
                let local = match keys {
                    Some(keys) => m.rows_for_keys(keys),
                    None => m.rows(),
                };
                let local = local.map_err(|e| super::EngineError::Statement(e.to_string()))?;
                return self.with_peer_rows(source, &m.query_id, keys, local);
            }
            None if source.kind == SourceKind::Stream || source.read_only => {
                topic_rows::read_source(self.transport.as_ref(), source)
            }
            None => {
                let name = &source.name;
                return statement_err(format!(
                    "The `{name}` table isn't queryable. To derive a queryable table, you can do 'CREATE TABLE QUERYABLE_{name} AS SELECT * FROM {name}'.{SYNTAX_HELP}"
                ));
            }
        };
        rows.map_err(|e| super::EngineError::Statement(e.to_string()))
    }

    /// The clauses a pull query may not have (ksqlDB's PullQueryValidator rules).
    fn check_pull_shape(&self, q: &Query) -> EngineResult<()> {
        let refused = if !q.joins.is_empty() {
            Some("Pull queries don't support JOIN clauses.")
        } else if q.window.is_some() {
            Some("Pull queries don't support WINDOW clauses.")
        } else if !q.group_by.is_empty() {
            Some("Pull queries don't support GROUP BY clauses.")
        } else if !q.partition_by.is_empty() {
            Some("Pull queries don't support PARTITION BY clauses.")
        } else if q.having.is_some() {
            Some("Pull queries don't support HAVING clauses.")
        } else if q.limit.is_some()
            && !self.property_enabled("ksql.query.pull.limit.clause.enabled")
        {
            Some(
                "LIMIT clause in pull queries is currently disabled. You can enable them by setting ksql.query.pull.limit.clause.enabled=true.",
            )
        } else {
            None
        };
        match refused {
            Some(message) => statement_err(format!("{message}{SYNTAX_HELP}")),
            None => Ok(()),
        }
    }

    /// A boolean property that defaults to true.
    fn property_enabled(&self, name: &str) -> bool {
        self.properties
            .get(name)
            .is_none_or(|v| !v.eq_ignore_ascii_case("false"))
    }

    /// Keeps a read-only handle on the table a starting aggregation writes.
    pub(super) fn register_materialization(
        &mut self,
        id: &str,
        plan: &QueryPlan,
        sink: &SourceDef,
        query: &QueryDriver,
    ) -> EngineResult<()> {
        if !sink.is_table() {
            return Ok(());
        }
        let partitions = self.transport.partition_count(&sink.topic)?;
        let materialization = match (query.shared_rows(), query.committed_rows(plan)) {
            (Some(shared), _) => Materialization::shared(id, sink, shared, partitions),
            (None, Some(rows)) => Materialization::new(id, sink, rows, partitions),
            (None, None) => return Ok(()),
        };
        if let Ok(mut tables) = self.materializations.write() {
            tables.insert(sink.name.clone(), Arc::new(materialization));
        }
        Ok(())
    }

    /// The committed rows of materialized table `table` that this server's tasks hold (what
    /// another server's pull query asks for): all, or those of `keys`.
    pub fn local_table_rows(
        tables: &super::Tables,
        table: &str,
        keys: Option<&[Vec<Value>]>,
    ) -> Result<Option<RecordBatch>, String> {
        let materialization = tables
            .read()
            .map_err(|_| "the tables are poisoned".to_string())?
            .get(table)
            .cloned()
            .ok_or_else(|| format!("no materialized table `{table}` here"))?;
        let rows = match keys {
            Some(keys) => materialization.rows_for_keys(keys),
            None => materialization.rows(),
        };
        rows.map_err(|e| e.to_string())
    }

    /// Drops the materializations that query `id` maintained.
    pub(super) fn forget_materializations(&mut self, id: &str) {
        if let Ok(mut tables) = self.materializations.write() {
            tables.retain(|_, m| m.query_id != id);
        }
    }
}

/// The source's rows through the pull query's WHERE and projection, up to its LIMIT.
fn select_rows(table: Option<RecordBatch>, plan: &QueryPlan) -> EngineResult<Vec<Vec<Value>>> {
    let Some(mut table) = table else {
        return Ok(Vec::new());
    };
    if let Some((column, keys)) = pull_keys::in_list_lookup(plan) {
        table = in_key_order(&table, column, &keys).unwrap_or(table);
    }
    let (selected, _log) = crate::exec::pull::select(plan, table)
        .map_err(|e| EngineError::Internal(format!("selecting a pull query's rows: {e}")))?;
    let limit = plan.limit.map_or(usize::MAX, |l| l as usize);
    let width = plan.columns.len();
    Ok(selected
        .iter()
        .flat_map(|out| {
            (0..out.num_rows()).map(move |r| {
                (0..width)
                    .map(|c| Value::from_array(out.column(c).as_ref(), r))
                    .collect::<Vec<Value>>()
            })
        })
        .take(limit)
        .collect::<Vec<_>>())
}

/// The rows in the order of `keys` (an IN list: ksqlDB looks each key up in turn); rows of
/// the same key, and rows of unlisted keys, keep their order.
fn in_key_order(table: &RecordBatch, column: usize, keys: &[String]) -> Option<RecordBatch> {
    let values = table.columns().get(column)?;
    let same = |a: &str, b: &str| {
        a == b || matches!((a.parse::<f64>(), b.parse::<f64>()), (Ok(x), Ok(y)) if x == y)
    };
    let position = |row: usize| {
        let text = crate::plan::expr::to_text(&Value::from_array(values.as_ref(), row));
        keys.iter()
            .position(|k| same(k, &text))
            .unwrap_or(keys.len())
    };
    let mut order: Vec<u32> = (0..table.num_rows() as u32).collect();
    order.sort_by_cached_key(|row| position(*row as usize));
    let indices = arrow::array::UInt32Array::from(order);
    arrow::compute::take_record_batch(table, &indices).ok()
}

/// The header schema: each column's name and type; a table's key columns and, on windowed
/// tables, the window bounds are `KEY` when projected as they are (a stream has no keys here).
fn header(plan: &QueryPlan) -> String {
    let table = plan.source.is_table();
    let windowed = plan.source.window.is_some();
    plan.columns
        .iter()
        .map(|c| {
            let bound = windowed && is_column(&c.compiled.expr, &[WINDOWSTART, WINDOWEND]);
            let key = if table && (c.is_key || bound) {
                " KEY"
            } else {
                ""
            };
            format!("`{}` {}{key}", c.name, c.output_type())
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn is_column(e: &TExpr, names: &[&str]) -> bool {
    matches!(&e.node, Node::Column { name, .. } if names.contains(&name.as_str()))
}

fn reads_column(e: &TExpr, column: &str) -> bool {
    is_column(e, &[column]) || e.children().into_iter().any(|c| reads_column(c, column))
}

/// ROWPARTITION and ROWOFFSET mean nothing for a table's state: refused in SELECT and WHERE.
fn check_pseudo_columns(plan: &QueryPlan) -> EngineResult<()> {
    let used = |exprs: &[&TExpr]| -> Vec<String> {
        [ROWPARTITION, ROWOFFSET]
            .into_iter()
            .filter(|name| exprs.iter().any(|e| reads_column(e, name)))
            .map(|name| format!("`{name}`"))
            .collect()
    };
    let select: Vec<&TExpr> = plan.columns.iter().map(|c| &c.compiled.expr).collect();
    let found = used(&select);
    if !found.is_empty() {
        return statement_err(format!(
            "Pull queries don't support the following columns in SELECT clauses: {}\n{SYNTAX_HELP}",
            found.join(", ")
        ));
    }
    let filter: Vec<&TExpr> = plan.filter.iter().map(|f| &f.expr).collect();
    let found = used(&filter);
    if !found.is_empty() {
        return statement_err(format!(
            "Pull queries don't support the following columns in WHERE clauses: {}\n{SYNTAX_HELP}",
            found.join(", ")
        ));
    }
    Ok(())
}
