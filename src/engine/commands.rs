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
    OffsetSpec, ProducerRecord, StartFrom, TopicConfig, TopicPartition, TransportError,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

pub const COMMAND_TOPIC: &str = "_brook_commands";

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
struct Command {
    statement: String,
    /// The properties in effect when the statement ran.
    #[serde(default, rename = "streamsProperties")]
    properties: BTreeMap<String, String>,
    /// The id of the persistent query the statement created.
    #[serde(default, rename = "queryId", skip_serializing_if = "Option::is_none")]
    query_id: Option<String>,
}

/// A record as read back: a command, or a bare statement from an older log.
#[derive(Debug, PartialEq)]
enum Recorded {
    Command(Command),
    Legacy(String),
}

impl Recorded {
    /// A statement never begins with `{`, so a record that does is a command.
    fn parse(text: &str) -> Result<Recorded, serde_json::Error> {
        if text.trim_start().starts_with('{') {
            return serde_json::from_str(text).map(Recorded::Command);
        }
        Ok(Recorded::Legacy(text.to_string()))
    }
}

impl Engine {
    /// Replays the command log (creating it if missing). Call once, before other statements.
    pub fn recover(&mut self) -> EngineResult<usize> {
        let tp = TopicPartition::new(COMMAND_TOPIC, 0);
        match self.transport.partition_count(COMMAND_TOPIC) {
            Ok(_) => {}
            Err(TransportError::UnknownTopic(_)) => {
                self.transport.create_topic(
                    COMMAND_TOPIC,
                    &TopicConfig {
                        retention_ms: None,
                        ..TopicConfig::with_partitions(1)
                    },
                )?;
            }
            Err(e) => return Err(e.into()),
        }
        let end = self.transport.list_offset(&tp, OffsetSpec::Latest)?;
        let mut consumer = self.transport.consumer(None)?;
        consumer.assign(&[(tp.clone(), StartFrom::Earliest)])?;
        let mut replayed = 0;
        self.recording = false;
        self.replay.active = true;
        while consumer.position(&tp).is_some_and(|p| p < end) {
            let batches = consumer.poll(1000, Duration::ZERO)?;
            if batches.is_empty() {
                break;
            }
            for record in batches.iter().flat_map(|b| &b.records) {
                let Some(text) = record
                    .value
                    .as_deref()
                    .map(|v| String::from_utf8_lossy(v).into_owned())
                else {
                    continue;
                };
                match Recorded::parse(&text) {
                    Ok(recorded) => self.replay_one(recorded),
                    Err(e) => self.recovery_warnings.push(format!(
                        "command log record at offset {} is unreadable ({e}); skipped: {text}",
                        record.offset
                    )),
                }
                replayed += 1;
            }
        }
        self.replay = Default::default();
        self.recording = true;
        Ok(replayed)
    }

    /// Runs one recorded statement as it ran: with its properties and its query's id.
    fn replay_one(&mut self, recorded: Recorded) {
        let (text, outcome) = match recorded {
            Recorded::Legacy(text) => {
                self.replay.legacy = true;
                let outcome = self.execute_text(&text);
                self.replay.legacy = false;
                (text, outcome)
            }
            Recorded::Command(command) => {
                let live = self.session();
                self.restore_session(Session {
                    properties: command.properties,
                    variables: live.variables.clone(),
                });
                self.replay.query_id = command.query_id;
                let outcome = self.execute_text(&command.statement);
                self.replay.query_id = None;
                self.restore_session(live);
                (command.statement, outcome)
            }
        };
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
        let value = serde_json::to_string(&command)
            .map_err(|e| super::EngineError::Statement(format!("recording '{text}': {e}")))?;
        let mut producer = self.transport.producer()?;
        producer.send(
            COMMAND_TOPIC,
            Some(0),
            ProducerRecord::new(None::<Vec<u8>>, Some(value)),
        )?;
        producer.flush()?;
        Ok(())
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
    }
}
