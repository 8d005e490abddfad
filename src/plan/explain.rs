//! EXPLAIN: a query plan as ksqlDB prints its execution plan (its `PlanSummary`), a tree of
//! steps (SOURCE, FILTER, REKEY, FLAT_MAP, PROJECT, SINK), each with the schema it produces and
//! its processing-logger name, nested by tabs. The processing topology (the logical tree and
//! the operators that run it, `exec::describe`) is made by the engine, which sees `exec`.
//!
//! Stateful steps (AGGREGATE, GROUP_BY, JOIN, windows) are added here as the planner learns them:
//! build a [`PlanStep`] with the step's inputs as `sources`.

use super::query::{OutputColumn, QueryPlan};
use super::schema::{
    ColumnRole, LogicalSchema, ROWOFFSET, ROWPARTITION, ROWTIME, WINDOWEND, WINDOWSTART,
};
use super::source::SourceDef;
use crate::common::SqlType;
use crate::format::WindowInfo;

/// What EXPLAIN shows about a query, computed when it is planned (a running query keeps the one
/// it started with, so EXPLAIN stays true to it after the catalog changes).
#[derive(Clone, Debug, PartialEq)]
pub struct Explanation {
    /// The output columns, for ksqlDB's "Field | Type" table.
    pub output_schema: LogicalSchema,
    /// Set when the output keys are windowed.
    pub window: Option<WindowInfo>,
    pub sources: Vec<String>,
    pub sink: Option<String>,
    /// The execution plan text, as ksqlDB prints it.
    pub execution_plan: String,
    /// The processing topology text (ksqlDB's `topology`): the logical tree and the operators
    /// that run it, with their state stores and topics.
    pub topology: String,
}

/// Explains `plan`, run as `query_id`, writing to `sink` (none for a push query), whose
/// processing topology is `topology`.
pub fn explain(
    plan: &QueryPlan,
    query_id: &str,
    sink: Option<&SourceDef>,
    topology: String,
) -> Explanation {
    let sink_name = sink.map(|s| s.name.as_str());
    Explanation {
        output_schema: plan.output_schema.clone(),
        window: plan.output_window(),
        sources: source_names(plan),
        sink: sink.map(|s| s.name.clone()),
        execution_plan: plan_steps(plan, query_id, sink_name).summary(),
        topology,
    }
}

/// One step of an execution plan.
#[derive(Clone, Debug, PartialEq)]
pub struct PlanStep {
    /// ksqlDB's operator name: SOURCE, FILTER, REKEY, FLAT_MAP, PROJECT, SINK.
    pub operator: &'static str,
    /// The step's output columns.
    pub schema: Vec<StepColumn>,
    /// Extra `name: value` parts after the schema (the filter's predicate, the new key).
    pub details: Vec<(&'static str, String)>,
    /// The processing-logger name: `<query id>.<step context>`.
    pub logger: String,
    pub sources: Vec<PlanStep>,
}

/// A column of a step's schema.
#[derive(Clone, Debug, PartialEq)]
pub struct StepColumn {
    pub name: String,
    pub sql_type: SqlType,
    pub role: ColumnRole,
}

impl PlanStep {
    /// The plan as text: one line per step, each input nested two tabs deeper than its
    /// consumer, as ksqlDB's `PlanSummary` writes it.
    pub fn summary(&self) -> String {
        self.summarize("")
    }

    fn summarize(&self, indent: &str) -> String {
        let mut out = format!(
            "{indent} > [ {} ] | Schema: {}",
            self.operator,
            schema_text(&self.schema)
        );
        for (name, value) in &self.details {
            out.push_str(&format!(" | {name}: {value}"));
        }
        out.push_str(&format!(" | Logger: {}\n", self.logger));
        let deeper = format!("{indent}\t");
        for source in &self.sources {
            out.push('\t');
            out.push_str(indent);
            out.push_str(&source.summarize(&deeper));
        }
        out
    }
}

/// The steps of a stateless query: SOURCE, then FILTER, REKEY (PARTITION BY), FLAT_MAP
/// (table functions), PROJECT and, for a persistent query, SINK.
pub fn plan_steps(plan: &QueryPlan, query_id: &str, sink: Option<&str>) -> PlanStep {
    let logger = |context: &str| format!("{query_id}.{context}");
    let input = source_columns(&plan.source);
    let mut step = PlanStep {
        operator: "SOURCE",
        schema: input.clone(),
        details: Vec::new(),
        logger: logger("KsqlTopic.Source"),
        sources: Vec::new(),
    };
    if let Some(filter) = &plan.filter {
        let details = vec![("Filter", filter.expr.to_string())];
        step = step.feeding("FILTER", input.clone(), details, logger("WhereFilter"));
    }
    if plan.repartitioned {
        let keys: Vec<&OutputColumn> = plan.keys().collect();
        let key_text = keys.iter().map(|k| k.compiled.expr.to_string());
        let details = vec![("Key", key_text.collect::<Vec<_>>().join(", "))];
        let schema = rekeyed(&step.schema, &keys);
        step = step.feeding("REKEY", schema, details, logger("PartitionBy"));
    }
    if plan.columns.iter().any(|c| c.explode) {
        let schema = with_synthetic_columns(&step.schema, &plan.columns);
        step = step.feeding("FLAT_MAP", schema, Vec::new(), logger("FlatMap"));
    }
    let output = columns_of(&plan.output_schema);
    step = step.feeding("PROJECT", output.clone(), Vec::new(), logger("Project"));
    match sink {
        Some(name) => step.feeding("SINK", output, Vec::new(), logger(name)),
        None => step,
    }
}

impl PlanStep {
    /// A step reading this one.
    fn feeding(
        self,
        operator: &'static str,
        schema: Vec<StepColumn>,
        details: Vec<(&'static str, String)>,
        logger: String,
    ) -> PlanStep {
        PlanStep {
            operator,
            schema,
            details,
            logger,
            sources: vec![self],
        }
    }
}

fn columns_of(schema: &LogicalSchema) -> Vec<StepColumn> {
    schema
        .columns
        .iter()
        .map(|c| StepColumn {
            name: c.name.clone(),
            sql_type: c.sql_type.clone(),
            role: c.role.clone(),
        })
        .collect()
}

fn value_column(name: &str, sql_type: SqlType) -> StepColumn {
    StepColumn {
        name: name.to_string(),
        sql_type,
        role: ColumnRole::Value,
    }
}

/// What a source step produces, as ksqlDB shows it: the source's columns, the pseudo-columns,
/// the window bounds of windowed keys, then copies of the key columns in the value.
fn source_columns(source: &SourceDef) -> Vec<StepColumn> {
    let mut columns = columns_of(&source.schema);
    columns.push(value_column(ROWTIME, SqlType::Bigint));
    columns.push(value_column(ROWPARTITION, SqlType::Int));
    columns.push(value_column(ROWOFFSET, SqlType::Bigint));
    if source.window.is_some() {
        columns.push(value_column(WINDOWSTART, SqlType::Bigint));
        columns.push(value_column(WINDOWEND, SqlType::Bigint));
    }
    for key in source.schema.key_columns() {
        columns.push(value_column(&key.name, key.sql_type.clone()));
    }
    columns
}

/// The input's value columns under the new key columns of PARTITION BY.
fn rekeyed(input: &[StepColumn], keys: &[&OutputColumn]) -> Vec<StepColumn> {
    let new_keys = keys.iter().map(|k| StepColumn {
        name: k.name.clone(),
        sql_type: k.output_type(),
        role: ColumnRole::Key,
    });
    let values = input.iter().filter(|c| c.role != ColumnRole::Key).cloned();
    new_keys.chain(values).collect()
}

/// The input plus one `KSQL_SYNTH_n` column per table function, as ksqlDB's flat map adds.
fn with_synthetic_columns(input: &[StepColumn], columns: &[OutputColumn]) -> Vec<StepColumn> {
    let exploded = columns.iter().filter(|c| c.explode);
    let synthetic = exploded
        .enumerate()
        .map(|(i, c)| value_column(&format!("KSQL_SYNTH_{i}"), c.output_type()));
    input.iter().cloned().chain(synthetic).collect()
}

/// "K STRING KEY, A INTEGER": names quoted only where they must be.
fn schema_text(columns: &[StepColumn]) -> String {
    let parts = columns.iter().map(|c| {
        let role = match &c.role {
            ColumnRole::Key => " KEY".to_string(),
            ColumnRole::Value => String::new(),
            ColumnRole::Header(None) => " HEADERS".to_string(),
            ColumnRole::Header(Some(k)) => format!(" HEADER('{k}')"),
        };
        format!("{} {}{role}", identifier(&c.name), type_text(&c.sql_type))
    });
    parts.collect::<Vec<_>>().join(", ")
}

/// A type as ksqlDB writes it in plans: struct field names quoted only where they must be.
pub fn type_text(t: &SqlType) -> String {
    match t {
        SqlType::Array(e) => format!("ARRAY<{}>", type_text(e)),
        SqlType::Map(k, v) => format!("MAP<{}, {}>", type_text(k), type_text(v)),
        SqlType::Struct(fields) => {
            let fields = fields
                .iter()
                .map(|f| format!("{} {}", identifier(&f.name), type_text(&f.sql_type)));
            format!("STRUCT<{}>", fields.collect::<Vec<_>>().join(", "))
        }
        other => other.to_string(),
    }
}

/// An identifier, back-quoted when it is not a plain upper-case name or is a reserved word
/// (ksqlDB's `IdentifierUtil.needsQuotes`).
pub fn identifier(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_uppercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    if plain && !RESERVED.contains(&name) {
        name.to_string()
    } else {
        format!("`{}`", name.replace('`', "``"))
    }
}

/// Words ksqlDB's grammar reserves (they cannot be bare identifiers).
const RESERVED: &[&str] = &[
    "ALL",
    "AND",
    "AS",
    "BETWEEN",
    "BY",
    "CASE",
    "CAST",
    "CREATE",
    "DELETE",
    "DISTINCT",
    "DROP",
    "ELSE",
    "EMIT",
    "END",
    "EXISTS",
    "EXPLAIN",
    "FALSE",
    "FROM",
    "FULL",
    "GROUP",
    "HAVING",
    "IN",
    "INNER",
    "INSERT",
    "INTO",
    "IS",
    "JOIN",
    "LEFT",
    "LIKE",
    "LIMIT",
    "NOT",
    "NULL",
    "ON",
    "OR",
    "OUTER",
    "PARTITION",
    "RIGHT",
    "SELECT",
    "TABLE",
    "THEN",
    "TRUE",
    "WHEN",
    "WHERE",
    "WINDOW",
    "WITH",
];

#[cfg(test)]
#[path = "explain_tests.rs"]
mod tests;

/// The names of the sources a query reads, each once (a self-join reads one twice).
pub fn source_names(plan: &QueryPlan) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for s in plan.sources() {
        if !names.contains(&s.name) {
            names.push(s.name.clone());
        }
    }
    names
}
