//! EXPLAIN: a statement's plan, planned against the catalog without running it or changing
//! anything; or a persistent query's plan (kept from when it started) and its state. Shown as
//! ksqlDB's CLI shows a query description.

use super::describe::field_rows;
use super::error::{EngineResult, statement_err};
use super::{Engine, Listing, Section, StatementResult};
use crate::plan::QueryKind;
use crate::plan::explain::{Explanation, explain};
use crate::sql::{Statement, StatementKind};

/// What heads a query description.
struct Heading<'a> {
    id: &'a str,
    /// PERSISTENT or PUSH.
    query_type: &'a str,
    sql: &'a str,
    /// A running query's state, and the error that stopped it.
    state: Option<(&'a str, Option<String>)>,
}

impl Engine {
    /// `EXPLAIN statement`: plans a push query, CREATE ... AS SELECT or INSERT INTO ... SELECT
    /// as executing it would (same checks, same query ID), but runs nothing.
    pub(super) fn explain_statement(&self, statement: &Statement) -> EngineResult<StatementResult> {
        let (id, query_type, explanation) = match &statement.kind {
            StatementKind::Select(q) => {
                let plan = self.plan(q, QueryKind::Transient)?;
                let id = format!(
                    "transient_{}_{}",
                    plan.source.name, self.next_transient_number
                );
                let explanation = explain(&plan, &id, None);
                (id, "PUSH", explanation)
            }
            StatementKind::CreateAsSelect(c) => {
                let (plan, sink) = self.plan_create_as_select(c, &statement.text)?;
                let prefix = super::queries::create_as_prefix(c.kind);
                let id = self.next_query_id(&format!("{prefix}_{}", c.name));
                let explanation = explain(&plan, &id, Some(&sink));
                (id, "PERSISTENT", explanation)
            }
            StatementKind::InsertSelect { target, query, .. } => {
                let Some(sink) = self.catalog.sources.get(target) else {
                    return statement_err(format!("{target} does not exist."));
                };
                let plan = self.plan(query, QueryKind::Persistent)?;
                if !super::queries::same_columns(&plan, sink) {
                    return statement_err(format!(
                        "Incompatible schema between results and sink.\nResult schema is {}\nSink schema is {}",
                        plan.output_schema, sink.schema
                    ));
                }
                let id = self.next_query_id("INSERTQUERY");
                let explanation = explain(&plan, &id, Some(sink));
                (id, "PERSISTENT", explanation)
            }
            _ => return statement_err("The provided statement does not run a ksql query"),
        };
        let heading = Heading {
            id: &id,
            query_type,
            sql: &statement.text,
            state: None,
        };
        Ok(StatementResult::Listing(description(
            &heading,
            &explanation,
        )))
    }

    /// `EXPLAIN query_id`: the plan the query runs, and its state.
    pub(super) fn explain_query(&self, id: &str) -> EngineResult<StatementResult> {
        let Some(query) = self.catalog.queries.get(&id.to_ascii_uppercase()) else {
            return statement_err(format!(
                "Query with id:{id} does not exist, use SHOW QUERIES to view the full set of running queries."
            ));
        };
        let heading = Heading {
            id: &query.id,
            query_type: "PERSISTENT",
            sql: &query.sql,
            state: Some((self.query_state(&query.id), self.query_failure(&query.id))),
        };
        Ok(StatementResult::Listing(description(
            &heading,
            &query.explanation,
        )))
    }
}

/// A query description as the ksql CLI prints it: ID, type, SQL and state; the output fields;
/// sources, sink and execution plan; then the operators Brook runs.
fn description(heading: &Heading<'_>, e: &Explanation) -> Listing {
    let mut properties = vec![
        ("Query Type".to_string(), heading.query_type.to_string()),
        ("SQL".to_string(), heading.sql.to_string()),
    ];
    if let Some((state, _)) = &heading.state {
        properties.push(("State".to_string(), state.to_string()));
    }
    let mut sections = vec![Section::new(
        "Sources that this query reads from:",
        with_hint(
            &e.sources,
            "For source description please run: DESCRIBE [EXTENDED] <SourceId>",
        ),
    )];
    if let Some(sink) = &e.sink {
        sections.push(Section::new(
            "Sinks that this query writes to:",
            with_hint(
                std::slice::from_ref(sink),
                "For sink description please run: DESCRIBE [EXTENDED] <SinkId>",
            ),
        ));
    }
    let plan_lines = e.execution_plan.lines().map(str::to_string).collect();
    sections.push(Section::new("Execution plan", plan_lines));
    sections.push(Section::new("Operators run by Brook", e.operators.clone()));
    if let Some((_, Some(error))) = &heading.state {
        let line = format!("{:<20} : {error}", "Error Details");
        sections.push(Section::new("", vec![String::new(), line]));
    }
    Listing {
        title: format!("{:<20} : {}", "ID", heading.id),
        properties,
        columns: vec!["Field".into(), "Type".into()],
        rows: field_rows(&e.output_schema, false, e.window.as_ref()),
        sections,
    }
}

fn with_hint(names: &[String], hint: &str) -> Vec<String> {
    let mut lines = names.to_vec();
    lines.push(String::new());
    lines.push(hint.to_string());
    lines
}
