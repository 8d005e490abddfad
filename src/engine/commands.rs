//! The command log: statements that change the catalog (CREATE, DROP, INSERT INTO ... SELECT,
//! TERMINATE, CREATE TYPE, SET) are appended to the `_brook_commands` topic once they succeed,
//! and replayed in order when the engine starts, so streams, tables and persistent queries
//! survive restarts. Replayed queries get the same IDs, hence the same consumer groups, so they
//! resume from their committed offsets.

use super::error::EngineResult;
use super::{Engine, StatementResult};
use crate::sql::StatementKind;
use crate::transport::{
    OffsetSpec, ProducerRecord, StartFrom, TopicConfig, TopicPartition, TransportError,
};
use std::time::Duration;

pub const COMMAND_TOPIC: &str = "_brook_commands";

/// Whether a statement changes what must be rebuilt after a restart.
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
            | StatementKind::Set { .. }
            | StatementKind::Unset(_)
    )
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
                if let Err(e) = self.execute_text(&text) {
                    tracing::warn!("replaying '{text}' failed: {e}");
                }
                replayed += 1;
            }
        }
        self.recording = true;
        Ok(replayed)
    }

    /// Appends a successful persistent statement to the command log.
    pub(super) fn record_command(&self, text: &str, result: &StatementResult) -> EngineResult<()> {
        if !self.recording
            || matches!(result, StatementResult::Success(m) if m.contains("already exists"))
        {
            return Ok(());
        }
        let mut producer = self.transport.producer()?;
        producer.send(
            COMMAND_TOPIC,
            Some(0),
            ProducerRecord::new(None::<Vec<u8>>, Some(text.to_string())),
        )?;
        producer.flush()?;
        Ok(())
    }
}
