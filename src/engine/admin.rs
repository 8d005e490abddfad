//! `ALTER STREAM|TABLE ... ADD COLUMN` and `ASSERT TOPIC|SCHEMA`.

use super::error::{EngineError, EngineResult, statement_err};
use super::{Engine, StatementResult};
use crate::plan::schema::{Column, ColumnRole};
use crate::sql::{ColumnDef, Properties, PropertyValue, SourceKind, StatementKind};
use std::time::{Duration, Instant};

/// How long `ASSERT TOPIC` waits without `TIMEOUT` (ksqlDB's
/// `ksql.assert.topic.default.timeout.ms`).
const DEFAULT_ASSERT_TIMEOUT_MS: i64 = 1000;

/// How deep `RUN SCRIPT` may nest.
const MAX_SCRIPT_NESTING: usize = 16;

impl Engine {
    /// Adds value columns to a stream or table declared over a topic. Queries already running
    /// keep the schema they were planned with.
    pub(super) fn alter_source(
        &mut self,
        kind: SourceKind,
        name: &str,
        columns: &[ColumnDef],
    ) -> EngineResult<StatementResult> {
        let noun = kind.name().to_ascii_lowercase();
        let Some(source) = self.catalog.sources.get_mut(name) else {
            return statement_err(format!("Source {name} does not exist."));
        };
        if source.kind != kind {
            return statement_err(format!(
                "Incompatible data source type is {}, but statement was ALTER {}",
                source.kind.name(),
                kind.name()
            ));
        }
        if source.read_only {
            return statement_err(format!(
                "Cannot alter {noun} '{name}': ALTER operations are not supported on source {noun}s."
            ));
        }
        if source.from_query {
            return statement_err("ALTER command is not supported for CREATE ... AS statements.");
        }
        let mut schema = source.schema.columns.clone();
        for c in columns {
            if schema.iter().any(|existing| existing.name == c.name) {
                return statement_err(format!(
                    "Cannot add column `{}` to schema. A column with the same name already exists.",
                    c.name
                ));
            }
            schema.push(Column::new(
                c.name.clone(),
                c.sql_type.clone(),
                ColumnRole::Value,
            ));
        }
        source.schema = crate::plan::schema::LogicalSchema::new(schema);
        let kind_name = if kind == SourceKind::Stream {
            "Stream"
        } else {
            "Table"
        };
        Ok(StatementResult::Success(format!(
            "{kind_name} {name} altered."
        )))
    }

    /// One statement of what a user typed at a client (the REPL, `brook run`): as `execute_text`,
    /// plus the client command `RUN SCRIPT 'file'`, which runs the file's statements in order
    /// and answers the last one's result. (Servers reject `RUN SCRIPT`, as ksqlDB's does.)
    pub fn execute_client_text(
        &mut self,
        piece: &crate::sql::ScriptStatement,
    ) -> EngineResult<StatementResult> {
        self.client_text(piece, 0)
    }

    fn client_text(
        &mut self,
        piece: &crate::sql::ScriptStatement,
        depth: usize,
    ) -> EngineResult<StatementResult> {
        let statement = self.parse(piece)?;
        let StatementKind::RunScript { path, .. } = statement.kind else {
            return self.execute(statement);
        };
        if depth >= MAX_SCRIPT_NESTING {
            return statement_err(format!(
                "RUN SCRIPT '{path}': scripts nest more than {MAX_SCRIPT_NESTING} deep (does a script run itself?)"
            ));
        }
        let script = std::fs::read_to_string(&path)
            .map_err(|e| EngineError::Statement(format!("Cannot read script '{path}': {e}")))?;
        let mut last = StatementResult::Success(String::new());
        for piece in crate::sql::split_statements(&script)? {
            last = self.client_text(&piece, depth + 1)?;
        }
        Ok(last)
    }

    /// Succeeds once the topic exists (or, with `NOT EXISTS`, once it does not), checking
    /// `PARTITIONS` and `REPLICAS` when given; fails after the timeout.
    pub(super) fn assert_topic(
        &self,
        topic: &str,
        exists: bool,
        properties: &Properties,
        timeout_ms: Option<i64>,
    ) -> EngineResult<StatementResult> {
        let want_partitions = expected_number(properties, "PARTITIONS")?;
        // The embedded log keeps one copy of every partition.
        if let Some(replicas) = expected_number(properties, "REPLICAS")?
            && replicas != 1
        {
            return statement_err(format!(
                "Mismatch between expected and actual values for topic {topic}: replicas expected {replicas}, got 1"
            ));
        }
        if let Some((other, _, _)) = properties
            .0
            .iter()
            .find(|(k, _, _)| !["PARTITIONS", "REPLICAS"].contains(&k.as_str()))
        {
            return statement_err(format!(
                "Cannot assert unknown topic property: {other} (only PARTITIONS and REPLICAS)"
            ));
        }
        let deadline = Instant::now()
            + Duration::from_millis(timeout_ms.unwrap_or(DEFAULT_ASSERT_TIMEOUT_MS).max(0) as u64);
        loop {
            let found = self.transport.list_topics()?.iter().any(|t| t == topic);
            if found == exists {
                if let (true, Some(want)) = (found, want_partitions) {
                    let actual = self.transport.describe_topic(topic)?.partitions.len() as u64;
                    if actual != want {
                        return statement_err(format!(
                            "Mismatch between expected and actual values for topic {topic}: partitions expected {want}, got {actual}"
                        ));
                    }
                }
                return Ok(StatementResult::Success(format!(
                    "Topic {topic} {}.",
                    if exists { "exists" } else { "does not exist" }
                )));
            }
            if Instant::now() >= deadline {
                return statement_err(format!(
                    "Topic {topic} {}.",
                    if exists { "does not exist" } else { "exists" }
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn expected_number(properties: &Properties, name: &str) -> EngineResult<Option<u64>> {
    for (key, value, _) in &properties.0 {
        if key != name {
            continue;
        }
        return match value {
            PropertyValue::Number(n) => n
                .parse()
                .map(Some)
                .or_else(|_| statement_err(format!("Invalid value for {name}: {n}"))),
            _ => statement_err(format!("{name} must be a number")),
        };
    }
    Ok(None)
}
