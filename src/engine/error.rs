//! Engine errors: one enum folding every layer's errors, with a kind that decides how callers
//! (REPL, HTTP) present them.

use crate::plan::PlanError;
use crate::sql::SqlError;
use crate::transport::TransportError;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Sql(#[from] SqlError),
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// A query could not start (its state could not be opened or restored).
    #[error(transparent)]
    Start(#[from] crate::exec::StartError),
    /// A valid statement that cannot be applied to the current state (unknown source...).
    #[error("{0}")]
    Statement(String),
    /// Brook failed (a batch it built did not fit its schema, ...).
    #[error("internal error: {0}")]
    Internal(String),
}

/// Who is at fault: decides HTTP status and error codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    User,
    External,
    Internal,
}

impl EngineError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            EngineError::Sql(_) | EngineError::Plan(_) | EngineError::Statement(_) => {
                ErrorKind::User
            }
            EngineError::Transport(t) if t.is_user_error() => ErrorKind::User,
            EngineError::Internal(_) | EngineError::Start(crate::exec::StartError::Internal(_)) => {
                ErrorKind::Internal
            }
            EngineError::Transport(_) | EngineError::Start(_) => ErrorKind::External,
        }
    }
}

pub type EngineResult<T> = Result<T, EngineError>;

pub fn statement_err<T>(message: impl Into<String>) -> EngineResult<T> {
    Err(EngineError::Statement(message.into()))
}
