//! Errors of the state stores, each saying what went wrong and in which state directory.

use std::path::PathBuf;

/// Result alias for state store operations.
pub type Result<T, E = StateError> = std::result::Result<T, E>;

/// What went wrong opening, reading or writing a state directory.
///
/// A state directory is derived data: the changelog topics hold the truth, so every error that
/// [`StateError::is_rebuildable`] accepts is cured by deleting the directory
/// ([`crate::state::StateDir::delete`]) and replaying the changelog from the start.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error(
        "state directory {path} is corrupt: {reason} (delete it to rebuild the state from the changelog)"
    )]
    Corrupt { path: PathBuf, reason: String },
    #[error(
        "state directory {path} holds {found}, not {expected} (written by another version or program; delete it to rebuild the state from the changelog)"
    )]
    Incompatible {
        path: PathBuf,
        found: String,
        expected: String,
    },
    #[error("state directory {path} is in use by another process or StateDir")]
    Locked { path: PathBuf },
    #[error("I/O error on state directory {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("RocksDB failed {action} in state directory {path}: {reason}")]
    Db {
        path: PathBuf,
        action: &'static str,
        reason: String,
    },
    #[error("invalid state store name '{name}': {reason}")]
    InvalidStoreName { name: String, reason: &'static str },
    #[error("malformed {what} in state directory {path}: {reason}")]
    Malformed {
        path: PathBuf,
        what: &'static str,
        reason: String,
    },
}

impl StateError {
    /// True when deleting the state directory and replaying the changelog cures the error.
    pub fn is_rebuildable(&self) -> bool {
        matches!(
            self,
            StateError::Corrupt { .. }
                | StateError::Incompatible { .. }
                | StateError::Malformed { .. }
        )
    }

    /// Classifies an error RocksDB returned while doing `action` on the directory at `path`.
    pub(crate) fn from_db(
        path: &std::path::Path,
        action: &'static str,
        err: rocksdb::Error,
    ) -> Self {
        let path = path.to_path_buf();
        let reason = err.to_string();
        match err.kind() {
            rocksdb::ErrorKind::Corruption => StateError::Corrupt { path, reason },
            rocksdb::ErrorKind::IOError if reason.to_ascii_lowercase().contains("lock") => {
                StateError::Locked { path }
            }
            _ => StateError::Db {
                path,
                action,
                reason,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_what_and_where() {
        let err = StateError::Corrupt {
            path: PathBuf::from("/data/state/q1"),
            reason: "bad CURRENT".into(),
        };
        let text = err.to_string();
        assert!(text.contains("/data/state/q1") && text.contains("bad CURRENT"));
        assert!(text.contains("delete it"));
        assert!(err.is_rebuildable());
        let locked = StateError::Locked {
            path: PathBuf::from("/x"),
        };
        assert!(!locked.is_rebuildable());
    }
}
