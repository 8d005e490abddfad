//! The columns an expression can refer to, in the order of the batch it is evaluated on.

use crate::common::SqlType;
use crate::plan::schema::{LogicalSchema, pseudo_columns};
use crate::plan::{PlanError, PlanResult};

#[derive(Clone, Debug)]
pub struct ScopeColumn {
    pub name: String,
    /// The source name or alias that qualifies it (`s.col`).
    pub qualifier: Option<String>,
    pub sql_type: SqlType,
}

#[derive(Clone, Debug, Default)]
pub struct Scope {
    pub columns: Vec<ScopeColumn>,
}

impl Scope {
    /// The columns of batches read from a source: its columns, then the pseudo-columns
    /// (with the window bounds when its keys are windowed).
    pub fn for_source(qualifier: &str, schema: &LogicalSchema, windowed: bool) -> Scope {
        let mut columns: Vec<ScopeColumn> = schema
            .columns
            .iter()
            .map(|c| ScopeColumn {
                name: c.name.clone(),
                qualifier: Some(qualifier.to_string()),
                sql_type: c.sql_type.clone(),
            })
            .collect();
        for (name, sql_type) in pseudo_columns(windowed) {
            columns.push(ScopeColumn {
                name: name.into(),
                qualifier: Some(qualifier.to_string()),
                sql_type,
            });
        }
        Scope { columns }
    }

    /// Appends WINDOWSTART and WINDOWEND after the source's columns: the bounds of the windows
    /// a windowed aggregation computes (not columns of its input batches).
    pub fn add_window_bounds(&mut self, qualifier: &str) {
        for name in [
            crate::plan::schema::WINDOWSTART,
            crate::plan::schema::WINDOWEND,
        ] {
            self.columns.push(ScopeColumn {
                name: name.into(),
                qualifier: Some(qualifier.to_string()),
                sql_type: SqlType::Bigint,
            });
        }
    }

    /// Finds a column by name (and qualifier, if given).
    pub fn resolve(
        &self,
        qualifier: Option<&str>,
        name: &str,
    ) -> PlanResult<(usize, &ScopeColumn)> {
        let matches = |c: &ScopeColumn| {
            c.name == name && qualifier.is_none_or(|q| c.qualifier.as_deref() == Some(q))
        };
        self.columns
            .iter()
            .enumerate()
            .find(|(_, c)| matches(c))
            .ok_or_else(|| {
                PlanError::UnknownColumn(match qualifier {
                    Some(q) => format!("{q}.{name}"),
                    None => name.to_string(),
                })
            })
    }
}
