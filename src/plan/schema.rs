//! Logical schemas of sources and query outputs: named, typed columns that are key, value or
//! header columns, plus the pseudo-columns every record has (ROWTIME, ROWPARTITION, ROWOFFSET)
//! and those of windowed keys (WINDOWSTART, WINDOWEND).

use crate::common::SqlType;
use arrow::datatypes::{Field, Schema, SchemaRef};
use std::fmt;
use std::sync::Arc;

pub const ROWTIME: &str = "ROWTIME";
pub const ROWPARTITION: &str = "ROWPARTITION";
pub const ROWOFFSET: &str = "ROWOFFSET";
pub const WINDOWSTART: &str = "WINDOWSTART";
pub const WINDOWEND: &str = "WINDOWEND";

/// Where a column's data lives in a record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ColumnRole {
    Key,
    Value,
    /// All headers (`HEADERS`, `None`) or the last header with this key (`HEADER('k')`).
    Header(Option<String>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub sql_type: SqlType,
    pub role: ColumnRole,
}

impl Column {
    pub fn new(name: impl Into<String>, sql_type: SqlType, role: ColumnRole) -> Column {
        Column {
            name: name.into(),
            sql_type,
            role,
        }
    }
}

/// The columns of a source or of a query's output, keys first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogicalSchema {
    pub columns: Vec<Column>,
}

impl LogicalSchema {
    pub fn new(columns: Vec<Column>) -> LogicalSchema {
        let (mut keys, others): (Vec<Column>, Vec<Column>) =
            columns.into_iter().partition(|c| c.role == ColumnRole::Key);
        keys.extend(others);
        LogicalSchema { columns: keys }
    }

    pub fn key_columns(&self) -> impl Iterator<Item = &Column> {
        self.columns.iter().filter(|c| c.role == ColumnRole::Key)
    }

    pub fn value_columns(&self) -> impl Iterator<Item = &Column> {
        self.columns.iter().filter(|c| c.role == ColumnRole::Value)
    }

    pub fn find(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The Arrow schema of batches flowing from this source: its columns, then the
    /// pseudo-columns (`pseudo_columns`).
    pub fn batch_schema(&self, windowed: bool) -> SchemaRef {
        let mut fields: Vec<Field> = self
            .columns
            .iter()
            .map(|c| Field::new(&c.name, c.sql_type.arrow_type(), true))
            .collect();
        for (name, sql_type) in pseudo_columns(windowed) {
            // Window bounds are NULL for records with a null key.
            let nullable = [WINDOWSTART, WINDOWEND].contains(&name);
            fields.push(Field::new(name, sql_type.arrow_type(), nullable));
        }
        Arc::new(Schema::new(fields))
    }
}

/// The pseudo-columns of records read from a source, in batch order: WINDOWSTART and
/// WINDOWEND for windowed sources, then ROWTIME, ROWPARTITION and ROWOFFSET (always last).
pub fn pseudo_columns(windowed: bool) -> Vec<(&'static str, SqlType)> {
    let window = [(WINDOWSTART, SqlType::Bigint), (WINDOWEND, SqlType::Bigint)];
    let record = [
        (ROWTIME, SqlType::Bigint),
        (ROWPARTITION, SqlType::Int),
        (ROWOFFSET, SqlType::Bigint),
    ];
    let window = if windowed { &window[..] } else { &[] };
    window.iter().chain(&record).cloned().collect()
}

impl fmt::Display for LogicalSchema {
    /// ksqlDB's form: "`ID` BIGINT KEY, `NAME` STRING".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, c) in self.columns.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "`{}` {}", c.name, c.sql_type)?;
            match &c.role {
                ColumnRole::Key => f.write_str(" KEY")?,
                ColumnRole::Value => {}
                ColumnRole::Header(None) => f.write_str(" HEADERS")?,
                ColumnRole::Header(Some(k)) => write!(f, " HEADER('{k}')")?,
            }
        }
        Ok(())
    }
}
