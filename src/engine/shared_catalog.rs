//! The catalog the servers of one service share (on Kafka), as ksqlDB's command topic and
//! command runner do. A persistent statement is not run where it was typed: the server catches
//! up with the command log, checks the statement in a sandbox (so a wrong one is refused and
//! never recorded), appends it, and then applies the log in order up to and including its
//! record; the statement's result is what applying that record gave. Every server applies the
//! same records in the same order (each server's follower, `follow_commands`, every half
//! second), so all hold the same streams, tables and queries, and a query created by the record
//! at offset *n* is `<base>_<n>` on all of them (as ksqlDB numbers queries). Two servers that
//! append conflicting statements at once both succeed in their sandboxes; the one recorded
//! second fails when applied, on every server alike, and its user gets that error.
//!
//! Side effects on the cluster (topics created or deleted) happen when a record is applied,
//! on each server; the first does them and the others find them done.

use super::commands::{Command, Recorded};
use super::error::{EngineError, EngineResult};
use super::{Engine, StatementResult};
use crate::sql::Statement;
use crate::transport::{Consumer, OffsetSpec, StartFrom, TopicPartition, read_until};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long catching up with the command log may go without progress.
const CATCH_UP_STALL: Duration = Duration::from_secs(60);

/// How often a server looks for commands other servers appended.
pub const FOLLOW_INTERVAL: Duration = Duration::from_millis(500);

/// Where this server is in the shared command log.
#[derive(Default)]
pub(super) struct SharedCatalog {
    /// The offset of the next record to apply.
    pub next_offset: i64,
    /// This server among those of its service, stable across its restarts (it names the
    /// server's transactional producers).
    pub server_id: String,
    /// Reads the command log (made on first use, kept between catch-ups).
    reader: Option<Box<dyn Consumer>>,
}

impl Engine {
    /// An engine whose catalog is shared through the command log with the other servers of
    /// its service (see the module header), as server `server_id` (stable across restarts).
    /// Replay it with [`Engine::recovered`].
    pub fn with_shared_catalog(mut self, server_id: &str) -> Engine {
        self.shared = Some(SharedCatalog {
            server_id: server_id.to_string(),
            ..SharedCatalog::default()
        });
        self
    }

    /// Whether the catalog is shared with other servers.
    pub fn is_shared(&self) -> bool {
        self.shared.is_some()
    }

    /// In a shared catalog, applies what the service's other servers recorded since the last
    /// look, so that a request sees every statement that finished before it (nothing to do
    /// otherwise, or while the log is being applied).
    pub fn catch_up(&mut self) -> EngineResult<()> {
        if self.shared.is_some() && self.recording {
            self.follow_commands()?;
        }
        Ok(())
    }

    /// Applies the records other servers appended since the last call; returns how many.
    pub fn follow_commands(&mut self) -> EngineResult<usize> {
        let end = self.command_log_end()?;
        self.apply_commands_until(end, None).map(|(n, _)| n)
    }

    /// Runs a persistent statement through the shared log (see the module header).
    pub(super) fn execute_shared(&mut self, statement: Statement) -> EngineResult<StatementResult> {
        self.follow_commands()?;
        let text = statement.text.clone();
        let checked = self.sandbox().execute(statement)?;
        if matches!(&checked, StatementResult::Success(m) if m.contains("already exists")) {
            return Ok(checked);
        }
        let command = Command {
            statement: text,
            properties: self.properties.clone(),
            query_id: None,
        };
        let offset = self.append_command_record(&command)?;
        match self.apply_commands_until(offset + 1, Some(offset))? {
            (_, Some(outcome)) => outcome,
            (_, None) => Err(EngineError::Internal(format!(
                "the command log's record at offset {offset} was not read back"
            ))),
        }
    }

    fn command_log_end(&self) -> EngineResult<i64> {
        let tp = TopicPartition::new(self.names.command_topic(), 0);
        Ok(self.transport.list_offset(&tp, OffsetSpec::Latest)?)
    }

    /// Applies the command log's records from the next one up to `end`; returns how many,
    /// and the outcome of the one at offset `mine`, if it was among them.
    #[allow(clippy::type_complexity)]
    fn apply_commands_until(
        &mut self,
        end: i64,
        mine: Option<i64>,
    ) -> EngineResult<(usize, Option<EngineResult<StatementResult>>)> {
        let Some(shared) = &mut self.shared else {
            return Ok((0, None));
        };
        let tp = TopicPartition::new(self.names.command_topic(), 0);
        if shared.next_offset >= end {
            return Ok((0, None));
        }
        let from = shared.next_offset;
        let mut reader = match shared.reader.take() {
            Some(reader) => reader,
            None => {
                let mut reader = self.transport.consumer(None)?;
                reader.assign(&[(tp.clone(), StartFrom::Offset(from))])?;
                reader
            }
        };
        let mut records = Vec::new();
        let read = read_until(reader.as_mut(), &tp, end, CATCH_UP_STALL, |record| {
            if record.offset >= from
                && let Some(value) = record.value.as_deref()
            {
                records.push((record.offset, String::from_utf8_lossy(value).into_owned()));
            }
            Ok(())
        });
        let position = reader.position(&tp);
        if let Some(shared) = &mut self.shared {
            shared.reader = Some(reader);
        }
        read?;
        let (applied, outcome) = self.apply_records(records, mine);
        if let Some(shared) = &mut self.shared {
            shared.next_offset = position.unwrap_or(end).max(end);
        }
        Ok((applied, outcome))
    }

    /// Applies records read from the log, in order; returns how many, and the outcome of the
    /// one at offset `mine`.
    fn apply_records(
        &mut self,
        records: Vec<(i64, String)>,
        mine: Option<i64>,
    ) -> (usize, Option<EngineResult<StatementResult>>) {
        let mut outcome = None;
        let count = records.len();
        self.recording = false;
        for (offset, text) in records {
            let applied = match Recorded::parse(&text) {
                Ok(Recorded::Command(command)) => self.replay_command(&command, offset),
                Ok(Recorded::Server(address)) => {
                    self.note_server(address);
                    continue;
                }
                Ok(_) => continue,
                Err(e) => Err(EngineError::Internal(format!(
                    "command log record at offset {offset} is unreadable: {e}"
                ))),
            };
            if Some(offset) == mine {
                outcome = Some(applied);
            } else if let Err(e) = applied {
                tracing::warn!("applying the command log's record at offset {offset}: {e}");
            }
        }
        self.recording = true;
        (count, outcome)
    }
}

/// Applies what other servers append to the command log, every [`FOLLOW_INTERVAL`], until
/// dropped.
pub struct CommandFollower {
    stop: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl CommandFollower {
    /// Follows the command log of `engine` (nothing to do unless its catalog is shared).
    pub fn start(engine: Arc<Mutex<Engine>>) -> std::io::Result<CommandFollower> {
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let handle = std::thread::Builder::new()
            .name("command-follower".into())
            .spawn(move || {
                while !stopping.load(Ordering::Acquire) {
                    std::thread::sleep(FOLLOW_INTERVAL);
                    let Ok(mut engine) = engine.lock() else {
                        return;
                    };
                    if !engine.is_shared() {
                        return;
                    }
                    if let Err(e) = engine.follow_commands() {
                        tracing::warn!("following the command log: {e}");
                    }
                }
            })?;
        Ok(CommandFollower {
            stop,
            handle: Some(handle),
        })
    }
}

impl Drop for CommandFollower {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}
