//! EXPLAIN: a statement's plan, planned against the catalog without running it or changing
//! anything (no topic, state store or query is created); or a persistent query's plan (kept
//! from when it started) and its state. Shown as ksqlDB's CLI shows a query description: its
//! execution plan, then its processing topology, which in Brook is the logical tree and the
//! operators that run it with their state stores and topics (`exec::describe`).

use super::InternalNames;
use super::describe::field_rows;
use super::error::{EngineResult, statement_err};
use super::results::QueryDescription;
use super::{Engine, Listing, Section, StatementResult};
use crate::exec::describe::{LogFacts, topology};
use crate::plan::explain::{Explanation, explain};
use crate::plan::logical::{SinkTarget, logical_plan};
use crate::plan::{QueryKind, QueryPlan, SourceDef};
use crate::sql::{Statement, StatementKind};
use crate::transport::Transport;

/// How `plan`, run as `id` and writing to `sink` (none: a push query), is explained: ksqlDB's
/// execution plan, and the topology of the graph the query runs, with the changelog topics
/// its state stores have (a persistent query's; a push query's state has none).
/// The task counts come from `transport`: the source's partitions, and those of changelog
/// topics that exist already.
pub(super) fn explanation(
    transport: &dyn Transport,
    names: &InternalNames,
    plan: &QueryPlan,
    id: &str,
    sink: Option<&SourceDef>,
) -> Explanation {
    let (target, prefix) = match sink {
        Some(sink) => (SinkTarget::Topic(sink.clone()), Some(names.query_group(id))),
        None => (SinkTarget::Subscriber, None),
    };
    let root = logical_plan(plan, target);
    let changelog_partitions =
        |topic: &str| crate::exec::physical::existing_partitions(transport, topic);
    let facts = LogFacts {
        source_partitions: transport.partition_count(&plan.source.topic).unwrap_or(1),
        changelog_partitions: &changelog_partitions,
    };
    explain(plan, id, sink, topology(&root, prefix.as_deref(), &facts))
}

impl Engine {
    /// `EXPLAIN statement`: plans a push query, CREATE ... AS SELECT or INSERT INTO ... SELECT
    /// as executing it would (same checks, same query ID), but runs nothing.
    pub(super) fn explain_statement(&self, statement: &Statement) -> EngineResult<StatementResult> {
        let (id, query_type, group, explanation) = match &statement.kind {
            StatementKind::Select(q) => {
                let plan = self.plan(q, QueryKind::Transient)?;
                let id = format!(
                    "transient_{}_{}",
                    plan.source.name, self.next_transient_number
                );
                let explanation =
                    explanation(self.transport.as_ref(), &self.names, &plan, &id, None);
                (
                    id.clone(),
                    "PUSH",
                    self.names.transient_group(&id),
                    explanation,
                )
            }
            StatementKind::CreateAsSelect(c) => {
                let (plan, sink) = self.plan_create_as_select(c, &statement.text)?;
                let prefix = super::queries::create_as_prefix(c.kind);
                let id = self.next_query_id(&format!("{prefix}_{}", c.name));
                let explanation = explanation(
                    self.transport.as_ref(),
                    &self.names,
                    &plan,
                    &id,
                    Some(&sink),
                );
                (
                    id.clone(),
                    "PERSISTENT",
                    self.names.query_group(&id),
                    explanation,
                )
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
                let explanation =
                    explanation(self.transport.as_ref(), &self.names, &plan, &id, Some(sink));
                (
                    id.clone(),
                    "PERSISTENT",
                    self.names.query_group(&id),
                    explanation,
                )
            }
            _ => return statement_err("The provided statement does not run a ksql query"),
        };
        Ok(StatementResult::QueryDescription(Box::new(
            QueryDescription {
                id,
                query_type,
                sql: statement.text.clone(),
                consumer_group: group,
                state: None,
                explanation,
            },
        )))
    }

    /// `EXPLAIN query_id`: the plan the query runs, and its state.
    pub(super) fn explain_query(&self, id: &str) -> EngineResult<StatementResult> {
        let Some(query) = self.catalog.queries.get(&id.to_ascii_uppercase()) else {
            return statement_err(format!(
                "Query with id:{id} does not exist, use SHOW QUERIES to view the full set of running queries."
            ));
        };
        Ok(StatementResult::QueryDescription(Box::new(
            QueryDescription {
                id: query.id.clone(),
                query_type: "PERSISTENT",
                sql: query.sql.clone(),
                consumer_group: self.names.query_group(&query.id),
                state: Some((self.query_state(&query.id), self.query_failure(&query.id))),
                explanation: query.explanation.clone(),
            },
        )))
    }
}

impl QueryDescription {
    /// The description as the ksql CLI prints it: ID, type, SQL and state; the output fields;
    /// sources, sink, execution plan and processing topology; the error that stopped it.
    pub fn listing(&self) -> Listing {
        let e = &self.explanation;
        let mut properties = vec![
            ("Query Type".to_string(), self.query_type.to_string()),
            ("SQL".to_string(), self.sql.clone()),
        ];
        if let Some((state, _)) = &self.state {
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
        sections.push(Section::new("Execution plan", lines(&e.execution_plan)));
        sections.push(Section::new("Processing topology", lines(&e.topology)));
        if let Some((_, Some(error))) = &self.state {
            let line = format!("{:<20} : {error}", "Error Details");
            sections.push(Section::new("", vec![String::new(), line]));
        }
        Listing {
            title: format!("{:<20} : {}", "ID", self.id),
            properties,
            columns: vec!["Field".into(), "Type".into()],
            rows: field_rows(&e.output_schema, false, e.window.as_ref()),
            sections,
        }
    }
}

fn lines(text: &str) -> Vec<String> {
    text.lines().map(str::to_string).collect()
}

fn with_hint(names: &[String], hint: &str) -> Vec<String> {
    let mut lines = names.to_vec();
    lines.push(String::new());
    lines.push(hint.to_string());
    lines
}
