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
    /// The columns of several sources (a join): a name two of them have must be qualified,
    /// and an unknown qualifier is an error of its own.
    pub joined: bool,
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
        Scope {
            columns,
            joined: false,
        }
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

    /// Whether `name` qualifies columns here (a source's name or alias) and is not itself a
    /// column's name.
    pub fn is_qualifier(&self, name: &str) -> bool {
        self.columns
            .iter()
            .any(|c| c.qualifier.as_deref() == Some(name))
            && !self.columns.iter().any(|c| c.name == name)
    }

    /// Why a reference to `name` (with `qualifier`) names no one column of a join's scope:
    /// an unknown qualifier, or a name several sources have (ksqlDB's texts).
    pub fn ambiguity(&self, qualifier: Option<&str>, name: &str) -> Option<String> {
        if !self.joined {
            return None;
        }
        if let Some(q) = qualifier {
            let known = self
                .columns
                .iter()
                .any(|c| c.qualifier.as_deref() == Some(q));
            return (!known).then(|| {
                format!(
                    "Failed to prepare statement: '{q}' is not a valid stream/table name or alias."
                )
            });
        }
        let named: Vec<&ScopeColumn> = self.columns.iter().filter(|c| c.name == name).collect();
        if named.iter().any(|c| c.qualifier.is_none()) {
            return None;
        }
        let owners: Vec<String> = named
            .iter()
            .filter_map(|c| c.qualifier.as_deref())
            .map(|q| format!("{q}.{name}"))
            .collect();
        if owners.len() < 2 {
            return None;
        }
        let (last, rest) = owners.split_last()?;
        Some(format!(
            "Column '{name}' is ambiguous. Could be {} or {last}.",
            rest.join(", ")
        ))
    }

    /// Finds a column by name (and qualifier, if given). Unqualified, a column of the joined
    /// row itself (no qualifier: ROWTIME, a synthetic key) comes before sources' columns.
    pub fn resolve(
        &self,
        qualifier: Option<&str>,
        name: &str,
    ) -> PlanResult<(usize, &ScopeColumn)> {
        let matches = |c: &ScopeColumn| {
            c.name == name && qualifier.is_none_or(|q| c.qualifier.as_deref() == Some(q))
        };
        let own = (qualifier.is_none() && self.joined)
            .then(|| {
                self.columns
                    .iter()
                    .enumerate()
                    .find(|(_, c)| c.name == name && c.qualifier.is_none())
            })
            .flatten();
        own.or_else(|| self.columns.iter().enumerate().find(|(_, c)| matches(c)))
            .ok_or_else(|| {
                PlanError::UnknownColumn(match qualifier {
                    Some(q) => format!("{q}.{name}"),
                    None => name.to_string(),
                })
            })
    }
}
