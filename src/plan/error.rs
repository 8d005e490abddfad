//! Planning errors: statements that parse but are not valid (unknown names, type errors...).

use crate::sql::{Location, SqlError};

/// Why a statement cannot be planned. Messages follow ksqlDB's wording where it is known.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlanError {
    #[error("{0}")]
    Invalid(String),
    /// Written as ksqlDB writes positioned errors: `Line: 2, Col: 13: ...`.
    #[error("Line: {}, Col: {}: {message}", .location.line, .location.column)]
    At { message: String, location: Location },
    #[error(transparent)]
    Sql(#[from] SqlError),
    /// A column name that does not resolve; the planner adds the clause (`SELECT column ...`).
    #[error("column '{0}' cannot be resolved.")]
    UnknownColumn(String),
}

impl PlanError {
    /// Names the clause in unknown-column errors, as ksqlDB does: "WHERE column 'X' ...".
    pub fn in_clause(self, clause: &str) -> PlanError {
        match self {
            PlanError::UnknownColumn(name) => {
                PlanError::Invalid(format!("{clause} column '{name}' cannot be resolved."))
            }
            other => other,
        }
    }

    pub fn at(message: impl Into<String>, location: Location) -> Self {
        PlanError::At {
            message: message.into(),
            location,
        }
    }
}

/// `Err(PlanError::Invalid(format!(...)))`, like DataFusion's `plan_err!`.
#[macro_export]
macro_rules! plan_err {
    ($($arg:tt)*) => {
        Err($crate::plan::PlanError::Invalid(format!($($arg)*)))
    };
}

pub type PlanResult<T> = Result<T, PlanError>;
