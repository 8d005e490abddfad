//! Test-only helpers that plan SQL text without an engine: sources declared by their DDL in a
//! small catalog, queries planned against it, and a `CREATE ... AS SELECT`'s sink defined as
//! the engine defines it (formats inherited from the source unless the WITH clause names
//! them, no key format without key columns, its TIMESTAMP column). Used by the unit tests of
//! `plan` and `exec` (which may not import `sql` itself).
//!
//! May import: what `plan` may.

use super::ddl::{DdlDefaults, formats, plan_create_source, timestamp_spec};
use super::functions::FunctionRegistry;
use super::logical::{LogicalPlan, SinkTarget, logical_plan};
use super::{CatalogView, QueryKind, QueryPlan, SourceDef, plan_query};
use crate::common::SqlType;
use crate::format::{FormatKind, FormatSpec};
use crate::sql::{CreateAsSelect, Statement, StatementKind, parse_statement};

/// The sources a query may read.
pub struct Sources(pub Vec<SourceDef>);

impl Sources {
    /// The sources declared by `CREATE STREAM` / `CREATE TABLE` statements.
    pub fn declared(ddl: &[&str]) -> Sources {
        Sources(ddl.iter().map(|sql| source(sql)).collect())
    }
}

impl CatalogView for Sources {
    fn source(&self, name: &str) -> Option<&SourceDef> {
        self.0.iter().find(|s| s.name == name)
    }

    fn custom_type(&self, _name: &str) -> Option<SqlType> {
        None
    }
}

pub fn parse(sql: &str) -> Statement {
    parse_statement(sql, &|_| None).unwrap_or_else(|e| panic!("{sql} does not parse: {e}"))
}

/// The source a `CREATE STREAM` / `CREATE TABLE` statement declares.
pub fn source(sql: &str) -> SourceDef {
    let StatementKind::CreateSource(c) = parse(sql).kind else {
        panic!("not a CREATE STREAM or TABLE: {sql}");
    };
    plan_create_source(&c, &DdlDefaults::default(), sql)
        .unwrap_or_else(|e| panic!("{sql} does not plan: {e}"))
}

/// The plan of a `SELECT` or of a `CREATE ... AS SELECT`'s query.
pub fn planned(sources: &Sources, sql: &str, kind: QueryKind) -> QueryPlan {
    let query = match parse(sql).kind {
        StatementKind::Select(q) => q,
        StatementKind::CreateAsSelect(c) => c.query,
        other => panic!("not a query: {other:?}"),
    };
    plan_query(&query, sources, &FunctionRegistry::standard(), kind)
        .unwrap_or_else(|e| panic!("{sql} does not plan: {e}"))
}

/// The logical tree of `sql` over the sources of `ddl`: a `CREATE ... AS SELECT` is a
/// persistent query writing to its sink's topic (named as the sink), a `SELECT` a push
/// query's.
pub fn tree(ddl: &[&str], sql: &str) -> LogicalPlan {
    let sources = Sources::declared(ddl);
    match parse(sql).kind {
        StatementKind::CreateAsSelect(c) => {
            let plan = planned(&sources, sql, QueryKind::Persistent);
            let sink = sink_of(&c, &plan, sql);
            logical_plan(&plan, SinkTarget::Topic(sink))
        }
        StatementKind::Select(_) => {
            let plan = planned(&sources, sql, QueryKind::Transient);
            logical_plan(&plan, SinkTarget::Subscriber)
        }
        other => panic!("not a query: {other:?}"),
    }
}

/// The sink a `CREATE ... AS SELECT` writes.
fn sink_of(c: &CreateAsSelect, plan: &QueryPlan, sql: &str) -> SourceDef {
    let source = &plan.source;
    let inherited = Some((&source.key_format, &source.value_format));
    let (mut key_format, value_format) = formats(&c.properties, &DdlDefaults::default(), inherited)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    if plan.output_schema.key_columns().next().is_none() {
        key_format = FormatSpec::new(FormatKind::None);
    }
    let timestamp =
        timestamp_spec(&c.properties, &plan.output_schema).unwrap_or_else(|e| panic!("{sql}: {e}"));
    let formats = (key_format, value_format);
    plan.sink((&c.name, c.kind), c.name.clone(), formats, timestamp, sql)
}
