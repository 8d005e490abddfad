//! The command log: statements that change the catalog (CREATE, DROP, ALTER, INSERT INTO ...
//! SELECT, TERMINATE, CREATE/DROP TYPE) are appended to the `_brook_commands` topic once they
//! succeed, and replayed in order when the engine starts, so streams, tables and persistent
//! queries survive restarts.
//!
//! Each record is a JSON object (as ksqlDB's command topic holds): the statement, the properties
//! in effect when it ran (`SET`, or a request's `streamsProperties`), and the id of the
//! persistent query it created. A replayed statement runs with its own properties and its query
//! gets its recorded id, hence the same consumer group, state and changelogs, so it resumes from
//! its committed offsets (see `query_ids.rs`). Records written before this format are bare
//! statements; they replay as they always did, `SET` and `UNSET` included.

use super::error::EngineResult;
use super::{Engine, Session, StatementResult};
use crate::sql::StatementKind;
use crate::transport::{
    ProducerRecord, StartFrom, TopicConfig, TopicPartition, TransportError, read_to_end,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// The command log's topic on the embedded log (on Kafka: `InternalNames::command_topic`).
pub const COMMAND_TOPIC: &str = "_brook_commands";

/// How long reading the command log may go without progress before the start fails.
const COMMAND_LOG_STALL: Duration = Duration::from_secs(60);

/// Whether a statement changes what must be rebuilt after a restart. (`SET` and `UNSET` are
/// not: the properties a statement ran with are recorded with it.)
pub fn is_persistent(kind: &StatementKind) -> bool {
    matches!(
        kind,
        StatementKind::CreateSource(_)
            | StatementKind::CreateAsSelect(_)
            | StatementKind::InsertSelect { .. }
            | StatementKind::DropSource { .. }
            | StatementKind::AlterSource { .. }
            | StatementKind::CreateType { .. }
            | StatementKind::DropType { .. }
            | StatementKind::Terminate(_)
    )
}

/// One record of the command log.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct Command {
    pub statement: String,
    /// The properties in effect when the statement ran.
    #[serde(default, rename = "streamsProperties")]
    pub properties: BTreeMap<String, String>,
    /// The id of the persistent query the statement created (none in a shared catalog, where
    /// the record's offset makes it).
    #[serde(default, rename = "queryId", skip_serializing_if = "Option::is_none")]
    pub query_id: Option<String>,
}

/// A record as read back.
#[derive(Debug, PartialEq)]
pub(super) enum Recorded {
    Command(Command),
    /// A bare statement, from a log written before commands were JSON.
    Legacy(String),
    /// The ids given, at the first start that replayed them, to the queries of bare
    /// statements, by the statements' offsets: later starts give them the same ones.
    LegacyIds(BTreeMap<i64, String>),
    /// A server of a shared catalog and its HTTP API (`peers.rs`).
    Server(super::peers::ServerAddress),
}

/// The record that fixes the ids of bare statements' queries.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct LegacyIds {
    #[serde(rename = "legacyQueryIds")]
    ids: BTreeMap<i64, String>,
}

impl Recorded {
    /// A statement never begins with `{`, so a record that does is JSON.
    pub(super) fn parse(text: &str) -> Result<Recorded, serde_json::Error> {
        if !text.trim_start().starts_with('{') {
            return Ok(Recorded::Legacy(text.to_string()));
        }
        let value: serde_json::Value = serde_json::from_str(text)?;
        if value.get("server").is_some() {
            return serde_json::from_value::<super::peers::Announcement>(value)
                .map(|a| Recorded::Server(a.server));
        }
        if value.get("legacyQueryIds").is_some() {
            return serde_json::from_value::<LegacyIds>(value).map(|l| Recorded::LegacyIds(l.ids));
        }
        serde_json::from_value(value).map(Recorded::Command)
    }
}

impl Engine {
    /// Replays the command log (creating it if missing), then starts the persistent queries
    /// it leaves. Call once, before other statements.
    pub fn recover(&mut self) -> EngineResult<usize> {
        let (records, end) = self.read_command_log()?;
        let known: BTreeMap<i64, String> = records
            .iter()
            .filter_map(|(_, r)| match r {
                Ok(Recorded::LegacyIds(ids)) => Some(ids.clone()),
                _ => None,
            })
            .flatten()
            .collect();
        let mut new_legacy_ids = BTreeMap::new();
        self.recording = false;
        self.replay.active = true;
        for (offset, recorded) in &records {
            match recorded {
                Ok(Recorded::Command(command)) => {
                    let outcome = self.replay_command(command, *offset);
                    self.warn_if_failed(&command.statement, outcome);
                }
                Ok(Recorded::Legacy(text)) => {
                    let id = self.replay_legacy(text, known.get(offset).cloned());
                    if let Some(id) = id.filter(|_| !known.contains_key(offset)) {
                        new_legacy_ids.insert(*offset, id);
                    }
                }
                Ok(Recorded::LegacyIds(_)) => {}
                Ok(Recorded::Server(address)) => self.note_server(address.clone()),
                Err(e) => self.recovery_warnings.push(format!(
                    "command log record at offset {offset} is unreadable ({e}); skipped"
                )),
            }
        }
        let deferred = std::mem::take(&mut self.replay.deferred);
        self.replay = Default::default();
        self.recording = true;
        if let Some(shared) = &mut self.shared {
            shared.next_offset = end;
        }
        // Those a later TERMINATE removed are not in the catalog any more.
        let remaining = deferred
            .into_values()
            .filter(|start| self.catalog.queries.contains_key(&start.id));
        for start in remaining.collect::<Vec<_>>() {
            self.check_restored_query(&start);
            let id = start.id.clone();
            if let Err(e) = self.run_persistent(start) {
                let message = format!("query {id} could not be started: {e}");
                tracing::warn!("{message}");
                self.recovery_warnings.push(message.clone());
                // It stays in the catalog, shown as ERROR with the reason.
                self.runners.insert(id, super::QueryRunner::failed(message));
            }
        }
        if !new_legacy_ids.is_empty() {
            let record = LegacyIds {
                ids: new_legacy_ids,
            };
            self.append_command_record(&record)?;
        }
        Ok(records.len())
    }

    /// Every record of the command log, by offset, parsed; and the offset after them.
    #[allow(clippy::type_complexity)]
    fn read_command_log(
        &self,
    ) -> EngineResult<(Vec<(i64, Result<Recorded, serde_json::Error>)>, i64)> {
        let command_topic = self.names.command_topic();
        let tp = TopicPartition::new(command_topic, 0);
        match self.transport.partition_count(command_topic) {
            Ok(_) => {}
            Err(TransportError::UnknownTopic(_)) => {
                let created = self.transport.create_topic(
                    command_topic,
                    &TopicConfig {
                        retention_ms: None,
                        ..TopicConfig::with_partitions(1)
                    },
                );
                // Another server of the service may have made it just now.
                match created {
                    Ok(()) | Err(TransportError::TopicExists(_)) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            Err(e) => return Err(e.into()),
        }
        let mut records = Vec::new();
        let end = read_to_end(
            self.transport.as_ref(),
            &tp,
            StartFrom::Earliest,
            COMMAND_LOG_STALL,
            |record| {
                if let Some(value) = record.value.as_deref() {
                    let text = String::from_utf8_lossy(value);
                    records.push((record.offset, Recorded::parse(&text)));
                }
                Ok(())
            },
        )?;
        Ok((records, end))
    }

    /// Runs a recorded statement, the record at `offset`, as it ran: with its properties and
    /// its query's id (one its record names; in a shared catalog, one made from `offset`).
    pub(super) fn replay_command(
        &mut self,
        command: &Command,
        offset: i64,
    ) -> EngineResult<StatementResult> {
        let live = self.session();
        self.restore_session(Session {
            properties: command.properties.clone(),
            variables: live.variables.clone(),
        });
        self.replay.query_id = command.query_id.clone();
        self.replay.command_offset = self.shared.is_some().then_some(offset);
        let outcome = self.execute_text(&command.statement);
        self.replay.query_id = None;
        self.replay.command_offset = None;
        self.restore_session(live);
        // Even if it failed now, its id was taken once: no later query may take it.
        if let Some(id) = &command.query_id {
            self.count_past(id);
        }
        outcome
    }

    /// Runs a bare statement as older versions did (with the properties in effect); its
    /// query takes `id` if an earlier start fixed it. Returns the id its query got.
    fn replay_legacy(&mut self, text: &str, id: Option<String>) -> Option<String> {
        self.replay.legacy = true;
        self.replay.query_id = id;
        let outcome = self.execute_text(text);
        self.replay.legacy = false;
        self.replay.query_id = None;
        let started = match &outcome {
            Ok(StatementResult::QueryStarted { id, .. }) => Some(id.clone()),
            _ => None,
        };
        self.warn_if_failed(text, outcome);
        started
    }

    pub(super) fn warn_if_failed(&mut self, text: &str, outcome: EngineResult<StatementResult>) {
        if let Err(e) = outcome {
            let message = format!("replaying '{text}' failed: {e}");
            tracing::warn!("{message}");
            self.recovery_warnings.push(message);
        }
    }

    /// Appends a successful persistent statement to the command log.
    pub(super) fn record_command(&self, text: &str, result: &StatementResult) -> EngineResult<()> {
        if !self.recording
            || matches!(result, StatementResult::Success(m) if m.contains("already exists"))
        {
            return Ok(());
        }
        let command = Command {
            statement: text.to_string(),
            properties: self.properties.clone(),
            query_id: match result {
                StatementResult::QueryStarted { id, .. } => Some(id.clone()),
                _ => None,
            },
        };
        self.append_command_record(&command).map(drop)
    }

    /// Appends one record to the command log and waits for it to be durable; returns its
    /// offset.
    pub(super) fn append_command_record(&self, record: &impl Serialize) -> EngineResult<i64> {
        let value = serde_json::to_string(record)
            .map_err(|e| super::EngineError::Statement(format!("recording a command: {e}")))?;
        let mut producer = self.transport.producer()?;
        producer.send(
            self.names.command_topic(),
            Some(0),
            ProducerRecord::new(None::<Vec<u8>>, Some(value)),
        )?;
        let appended = producer.flush()?;
        let offset = appended.first().map(|(_, outcome)| outcome.last_offset);
        offset.ok_or_else(|| {
            super::EngineError::Internal("the command log acknowledged no record".into())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_reads_back_and_a_bare_statement_is_legacy() {
        let command = Command {
            statement: "CREATE TABLE T AS SELECT 1;".into(),
            properties: BTreeMap::from([("auto.offset.reset".into(), "earliest".into())]),
            query_id: Some("CTAS_T_7".into()),
        };
        let text = serde_json::to_string(&command).expect("serialise");
        assert_eq!(
            Recorded::parse(&text).expect("parse"),
            Recorded::Command(command)
        );
        let bare = "CREATE STREAM S (A INT) WITH (KAFKA_TOPIC='s', VALUE_FORMAT='JSON');";
        assert_eq!(
            Recorded::parse(bare).expect("parse"),
            Recorded::Legacy(bare.into())
        );
        assert!(Recorded::parse("{not json").is_err());
        let ids = LegacyIds {
            ids: BTreeMap::from([(3, "CSAS_A_1".to_string())]),
        };
        let text = serde_json::to_string(&ids).expect("serialise");
        assert_eq!(text, r#"{"legacyQueryIds":{"3":"CSAS_A_1"}}"#);
        assert_eq!(
            Recorded::parse(&text).expect("parse"),
            Recorded::LegacyIds(ids.ids)
        );
    }
}
