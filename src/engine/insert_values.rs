//! `INSERT INTO s [(cols)] VALUES (...)`: evaluate literals, serialise, append.

use super::error::{EngineError, EngineResult, statement_err};
use super::insert_coercion::coerce_inserted;
use super::{Engine, StatementResult};
use crate::common::Value;
use crate::format::{self, ColumnSpec, Part};
use crate::plan::expr::{Binder, Scope, eval, take_nested_failures};
use crate::plan::schema::{ColumnRole, ROWOFFSET, ROWPARTITION, ROWTIME};
use crate::sql::Expr;
use crate::transport::ProducerRecord;
use bytes::Bytes;

impl Engine {
    /// The stream or table `target` if rows may be inserted into it.
    fn insert_target(&self, target: &str) -> EngineResult<crate::plan::SourceDef> {
        let Some(source) = self.catalog.sources.get(target).cloned() else {
            let upper = target.to_ascii_uppercase();
            let hint = if upper != target && self.catalog.sources.contains_key(&upper) {
                format!(
                    "\nDid you mean {upper}? Hint: try removing double quotes from the source name."
                )
            } else {
                String::new()
            };
            return statement_err(format!(
                "Cannot insert values into an unknown stream/table: `{target}`{hint}"
            ));
        };
        if source.read_only {
            return statement_err(format!(
                "Cannot insert values into read-only {}: {target}",
                source.kind.name().to_ascii_lowercase()
            ));
        }
        if source
            .schema
            .columns
            .iter()
            .any(|c| matches!(c.role, ColumnRole::Header(_)))
        {
            return statement_err(format!(
                "Cannot insert into {target} because it has header columns"
            ));
        }
        Ok(source)
    }

    /// Serialises one row (a value per column of `source`) and appends it to the topic.
    fn append_row(
        &self,
        source: &crate::plan::SourceDef,
        row: &[Value],
        timestamp: Option<i64>,
    ) -> EngineResult<()> {
        let target = &source.name;
        let split = |role: ColumnRole| -> (Vec<ColumnSpec>, Vec<Value>) {
            source
                .schema
                .columns
                .iter()
                .zip(row)
                .filter(|(c, _)| c.role == role)
                .map(|(c, v)| {
                    (
                        ColumnSpec {
                            name: c.name.clone(),
                            sql_type: c.sql_type.clone(),
                        },
                        v.clone(),
                    )
                })
                .unzip()
        };
        let (key_specs, key_values) = split(ColumnRole::Key);
        let (value_specs, value_values) = split(ColumnRole::Value);
        let fail = |e: format::FormatError| {
            EngineError::Statement(format!("Failed to insert values into '{target}'. {e}"))
        };
        let key = format::serialize(&source.key_format, Part::Key, &key_specs, &key_values)
            .map_err(fail)?;
        let value = format::serialize(
            &source.value_format,
            Part::Value,
            &value_specs,
            &value_values,
        )
        .map_err(fail)?;
        let mut producer = self.transport.producer()?;
        producer.send(
            &source.topic,
            None,
            ProducerRecord {
                key: key.map(Bytes::from),
                value: value.map(Bytes::from),
                timestamp,
                headers: Vec::new(),
            },
        )?;
        producer.flush()?;
        Ok(())
    }

    /// Inserts one row given as a JSON object of column values (`row`, its text; names
    /// case-insensitive; missing columns are NULL), as `/inserts-stream` receives them. Values
    /// are read as a JSON record's are, except that a number must fit its INT or BIGINT column
    /// (ksqlDB's REST API refuses a `Long` for an INT), where a record's is truncated.
    pub fn insert_json_row(
        &mut self,
        target: &str,
        row: &[u8],
        timestamp: Option<i64>,
    ) -> EngineResult<()> {
        let source = self.insert_target(target)?;
        let specs: Vec<ColumnSpec> = source
            .schema
            .columns
            .iter()
            .map(|c| ColumnSpec {
                name: c.name.clone(),
                sql_type: c.sql_type.clone(),
            })
            .collect();
        let values = format::deserialize_api_row(&specs, row)
            .map_err(|e| {
                EngineError::Statement(format!("Failed to insert values into '{target}'. {e}"))
            })?
            .unwrap_or_else(|| vec![Value::Null; specs.len()]);
        self.append_row(&source, &values, timestamp)
    }

    pub(super) fn insert_values(
        &mut self,
        target: &str,
        columns: Option<&[String]>,
        values: &[Expr],
    ) -> EngineResult<StatementResult> {
        let source = self.insert_target(target)?;
        let names: Vec<String> = match columns {
            Some(c) => c.to_vec(),
            None => source
                .schema
                .columns
                .iter()
                .map(|c| c.name.clone())
                .collect(),
        };
        if names.len() != values.len() {
            return statement_err(format!(
                "Expected a value for each column. Expected Columns: [{}]. Got [{}]",
                names.join(", "),
                values
                    .iter()
                    .map(|v| v.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let scope = Scope::default();
        let mut binder = Binder::new(&scope, &self.functions);
        let mut row: Vec<Value> = vec![Value::Null; source.schema.columns.len()];
        let mut timestamp = None;
        for (name, expr) in names.iter().zip(values) {
            if [ROWPARTITION, ROWOFFSET].contains(&name.as_str()) {
                return statement_err(format!("Inserting into column `{name}` is not allowed."));
            }
            if let Some(qualifier) = qualifier_of(expr) {
                return statement_err(format!(
                    "Failed to prepare statement: '{qualifier}' is not a valid stream/table name or alias."
                ));
            }
            let bound = binder.bind(expr)?;
            // A part that failed (and became NULL) fails the statement, as ksqlDB's insert
            // evaluates with a logger that throws.
            take_nested_failures();
            let evaluated = crate::common::limits::scoped(|| eval(&bound, &[], &[]));
            let value = evaluated.and_then(|v| match take_nested_failures().first() {
                Some(failure) => Err(failure.clone()),
                None => Ok(v),
            });
            let value = value.map_err(|e| {
                EngineError::Statement(format!("Failed to insert values into '{target}'. {e}"))
            })?;
            if name == ROWTIME {
                timestamp = match value {
                    Value::Bigint(t) => Some(t),
                    Value::Int(t) => Some(i64::from(t)),
                    _ => return statement_err("ROWTIME must be a BIGINT"),
                };
                continue;
            }
            let Some(i) = source.schema.columns.iter().position(|c| &c.name == name) else {
                return statement_err(format!("Column name {name} does not exist."));
            };
            let column = &source.schema.columns[i];
            row[i] = coerce_inserted(&value, &column.sql_type).ok_or_else(|| {
                EngineError::Statement(format!(
                    "Failed to insert values into '{target}'. Expected type {} for field {name} but got {}({})",
                    column.sql_type,
                    bound.ty.base_name(),
                    crate::plan::expr::to_text(&value)
                ))
            })?;
        }
        self.append_row(&source, &row, timestamp)?;
        Ok(StatementResult::Success(String::new()))
    }
}

/// The qualifier of the first `qualifier.column` reference in a value (VALUES has no source
/// to qualify columns by).
fn qualifier_of(e: &sqlparser::ast::Expr) -> Option<String> {
    let mut found = None;
    let _ = sqlparser::ast::visit_expressions(e, |x| {
        if let sqlparser::ast::Expr::CompoundIdentifier(parts) = x
            && found.is_none()
            && parts.len() > 1
        {
            found = parts.first().map(|p| match p.quote_style {
                Some(_) => p.value.clone(),
                None => p.value.to_ascii_uppercase(),
            });
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
    found
}
