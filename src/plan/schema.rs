//! Logical schemas of sources and query outputs: named, typed columns that are key, value or
//! header columns, plus the pseudo-columns every record has (ROWTIME, ROWPARTITION, ROWOFFSET).

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

    /// The Arrow schema of batches flowing from this source: its columns, then ROWTIME,
    /// ROWPARTITION and ROWOFFSET.
    pub fn batch_schema(&self) -> SchemaRef {
        let mut fields: Vec<Field> = self
            .columns
            .iter()
            .map(|c| Field::new(&c.name, c.sql_type.arrow_type(), true))
            .collect();
        fields.push(Field::new(ROWTIME, SqlType::Bigint.arrow_type(), false));
        fields.push(Field::new(ROWPARTITION, SqlType::Int.arrow_type(), false));
        fields.push(Field::new(ROWOFFSET, SqlType::Bigint.arrow_type(), false));
        Arc::new(Schema::new(fields))
    }
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
