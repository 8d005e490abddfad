//! Definitions of streams and tables as the planner sees them, and the catalog view it plans
//! against (implemented by the engine's catalog).

use super::schema::LogicalSchema;
use crate::common::SqlType;
use crate::format::{FormatSpec, WindowInfo};
use crate::sql::SourceKind;

/// How a source's event time is found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimestampSpec {
    pub column: String,
    /// `TIMESTAMP_FORMAT` for STRING columns (Java DateTimeFormatter pattern).
    pub format: Option<String>,
}

/// A stream or table.
#[derive(Clone, Debug, PartialEq)]
pub struct SourceDef {
    pub name: String,
    pub kind: SourceKind,
    pub schema: LogicalSchema,
    pub topic: String,
    pub key_format: FormatSpec,
    pub value_format: FormatSpec,
    pub timestamp: Option<TimestampSpec>,
    /// `CREATE SOURCE ...`: no INSERT INTO.
    pub read_only: bool,
    /// Made by `CREATE ... AS SELECT` (its schema is the query's: no ALTER).
    pub from_query: bool,
    /// Windowed keys (`WINDOW_TYPE`, or a windowed query's output): ksqlDB's key `WindowInfo`.
    pub window: Option<WindowInfo>,
    /// The statement that created it.
    pub sql: String,
}

impl SourceDef {
    pub fn is_table(&self) -> bool {
        self.kind == SourceKind::Table
    }

    /// The Arrow schema of batches read from this source.
    pub fn batch_schema(&self) -> arrow::datatypes::SchemaRef {
        self.schema.batch_schema(self.window.is_some())
    }
}

/// What planning needs to know about existing objects.
pub trait CatalogView {
    fn source(&self, name: &str) -> Option<&SourceDef>;
    fn custom_type(&self, name: &str) -> Option<SqlType>;
}
