//! The catalog: streams, tables, custom types and persistent queries by name.

use crate::common::SqlType;
use crate::plan::explain::Explanation;
use crate::plan::{CatalogView, SourceDef};
use std::collections::BTreeMap;

/// A persistent query as the catalog records it.
#[derive(Clone, Debug)]
pub struct QueryInfo {
    pub id: String,
    pub sql: String,
    pub sink: Option<String>,
    pub sources: Vec<String>,
    /// Its plan as EXPLAIN shows it, made when it started (when replayed, after a restart).
    pub explanation: Explanation,
}

#[derive(Clone, Default)]
pub struct Catalog {
    pub sources: BTreeMap<String, SourceDef>,
    pub types: BTreeMap<String, SqlType>,
    pub queries: BTreeMap<String, QueryInfo>,
}

impl CatalogView for Catalog {
    fn source(&self, name: &str) -> Option<&SourceDef> {
        self.sources.get(name)
    }

    fn custom_type(&self, name: &str) -> Option<SqlType> {
        self.types.get(name).cloned()
    }
}

impl Catalog {
    /// Queries reading from or writing to `name`.
    pub fn queries_using(&self, name: &str) -> Vec<&QueryInfo> {
        self.queries
            .values()
            .filter(|q| q.sink.as_deref() == Some(name) || q.sources.iter().any(|s| s == name))
            .collect()
    }
}
