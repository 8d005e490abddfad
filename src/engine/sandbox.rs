//! Validating statements before running them, as ksqlDB's sandboxed execution context does: a
//! sandbox engine has a copy of the catalog, properties and variables, and a transport that
//! reads the real log but keeps topic creations and deletions to itself and discards what is
//! produced. Statements run there in order; only when all of them succeed do they run on the
//! real engine, so a request whose third statement is wrong changes nothing.
//!
//! Persistent queries are planned in the sandbox but not started (no consumers, producers or
//! state stores).

use super::Engine;
use crate::transport::{
    AppendOutcome, Consumer, OffsetSpec, PartitionInfo, Producer, ProducerRecord, Result,
    TopicConfig, TopicDescription, TopicPartition, TransactionalProducer, Transport,
    TransportError,
};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

impl Engine {
    /// A copy of this engine's catalog, properties and variables that runs statements without
    /// touching the log or starting queries.
    pub fn sandbox(&self) -> Engine {
        let transport: Arc<dyn Transport> = Arc::new(SandboxTransport::new(self.transport.clone()));
        let mut sandbox = Engine::with_functions(transport, self.mode, self.functions.clone());
        sandbox.catalog = self.catalog.clone();
        sandbox.properties = self.properties.clone();
        sandbox.variables = self.variables.clone();
        sandbox.next_query_number = self.next_query_number;
        sandbox.next_transient_number = self.next_transient_number;
        sandbox.sandboxed = true;
        sandbox.names = self.names.clone();
        sandbox
    }
}

/// Topics as the sandbox sees them: the real ones, less those it deleted, plus those it made.
#[derive(Default)]
struct Overlay {
    created: BTreeMap<String, TopicConfig>,
    deleted: BTreeSet<String>,
}

/// The real transport for reading; creations, deletions, commits and appends stay here.
struct SandboxTransport {
    real: Arc<dyn Transport>,
    overlay: Mutex<Overlay>,
}

impl SandboxTransport {
    fn new(real: Arc<dyn Transport>) -> Self {
        SandboxTransport {
            real,
            overlay: Mutex::new(Overlay::default()),
        }
    }

    fn overlay(&self) -> std::sync::MutexGuard<'_, Overlay> {
        // A panic while holding it cannot leave the overlay half-changed: every change is one
        // insert or remove.
        self.overlay.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether `name` exists for the sandbox, and its config when the sandbox made it.
    fn lookup(&self, name: &str) -> Result<Option<TopicConfig>> {
        let overlay = self.overlay();
        if let Some(config) = overlay.created.get(name) {
            return Ok(Some(config.clone()));
        }
        if overlay.deleted.contains(name) {
            return Err(TransportError::UnknownTopic(name.to_string()));
        }
        Ok(None)
    }
}

impl Transport for SandboxTransport {
    fn create_topic(&self, name: &str, config: &TopicConfig) -> Result<()> {
        let exists = match self.lookup(name) {
            Ok(Some(_)) => true,
            Ok(None) => self.real.partition_count(name).is_ok(),
            Err(_) => false,
        };
        if exists {
            return Err(TransportError::TopicExists(name.to_string()));
        }
        let mut overlay = self.overlay();
        overlay.deleted.remove(name);
        overlay.created.insert(name.to_string(), config.clone());
        Ok(())
    }

    fn delete_topic(&self, name: &str) -> Result<()> {
        if self.lookup(name)?.is_none() {
            self.real.partition_count(name)?;
        }
        let mut overlay = self.overlay();
        overlay.created.remove(name);
        overlay.deleted.insert(name.to_string());
        Ok(())
    }

    fn list_topics(&self) -> Result<Vec<String>> {
        let mut topics: BTreeSet<String> = self.real.list_topics()?.into_iter().collect();
        let overlay = self.overlay();
        topics.retain(|t| !overlay.deleted.contains(t));
        topics.extend(overlay.created.keys().cloned());
        Ok(topics.into_iter().collect())
    }

    fn describe_topic(&self, name: &str) -> Result<TopicDescription> {
        let Some(config) = self.lookup(name)? else {
            return self.real.describe_topic(name);
        };
        let partitions = (0..config.partitions)
            .map(|partition| PartitionInfo {
                partition,
                start_offset: 0,
                end_offset: 0,
                size_bytes: None,
                segments: None,
            })
            .collect();
        Ok(TopicDescription {
            name: name.to_string(),
            config,
            partitions,
        })
    }

    fn partition_count(&self, topic: &str) -> Result<u32> {
        match self.lookup(topic)? {
            Some(config) => Ok(config.partitions),
            None => self.real.partition_count(topic),
        }
    }

    fn list_offset(&self, tp: &TopicPartition, spec: OffsetSpec) -> Result<i64> {
        match self.lookup(&tp.topic)? {
            Some(_) => Ok(0),
            None => self.real.list_offset(tp, spec),
        }
    }

    fn commit_offsets(&self, _group: &str, _offsets: &[(TopicPartition, i64)]) -> Result<()> {
        Ok(())
    }

    fn committed_offsets(&self, group: &str, topic: &str) -> Result<Vec<(u32, i64)>> {
        match self.lookup(topic)? {
            Some(_) => Ok(Vec::new()),
            None => self.real.committed_offsets(group, topic),
        }
    }

    fn list_groups(&self) -> Result<Vec<String>> {
        self.real.list_groups()
    }

    fn delete_group(&self, _group: &str) -> Result<()> {
        Ok(())
    }

    fn group_members(&self, group: &str) -> Result<Vec<String>> {
        self.real.group_members(group)
    }

    fn producer(&self) -> Result<Box<dyn Producer>> {
        Ok(Box::new(DiscardingProducer))
    }

    fn transactional_producer(&self, _id: &str) -> Result<Box<dyn TransactionalProducer>> {
        Ok(Box::new(DiscardingProducer))
    }

    fn consumer(&self, group: Option<&str>) -> Result<Box<dyn Consumer>> {
        self.real.consumer(group)
    }
}

/// Accepts records and keeps none (what INSERT VALUES writes in the sandbox).
struct DiscardingProducer;

impl Producer for DiscardingProducer {
    fn send(
        &mut self,
        _topic: &str,
        partition: Option<u32>,
        _record: ProducerRecord,
    ) -> Result<u32> {
        Ok(partition.unwrap_or(0))
    }

    fn flush(&mut self) -> Result<Vec<(TopicPartition, AppendOutcome)>> {
        Ok(Vec::new())
    }
}

impl TransactionalProducer for DiscardingProducer {
    fn begin_transaction(&mut self) -> Result<()> {
        Ok(())
    }

    fn send(&mut self, topic: &str, partition: Option<u32>, record: ProducerRecord) -> Result<u32> {
        Producer::send(self, topic, partition, record)
    }

    fn send_offsets_to_transaction(
        &mut self,
        _group: &crate::transport::GroupMetadata,
        _offsets: &[(TopicPartition, i64)],
    ) -> Result<()> {
        Ok(())
    }

    fn commit_transaction(&mut self) -> Result<Vec<(TopicPartition, AppendOutcome)>> {
        Ok(Vec::new())
    }

    fn abort_transaction(&mut self) -> Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::RunMode;

    fn engine(dir: &std::path::Path) -> (Engine, Arc<dyn Transport>) {
        let log =
            crate::log::EmbeddedLog::open(dir, crate::log::LogConfig::default()).expect("log");
        let transport: Arc<dyn Transport> = Arc::new(log);
        (Engine::new(transport.clone(), RunMode::Manual), transport)
    }

    fn end_offset(transport: &dyn Transport, topic: &str) -> i64 {
        let tp = TopicPartition::new(topic, 0);
        transport
            .list_offset(&tp, OffsetSpec::Latest)
            .expect("offset")
    }

    #[test]
    fn statements_in_a_sandbox_change_neither_the_engine_nor_the_log() {
        let dir = tempfile::tempdir().expect("dir");
        let (mut engine, transport) = engine(dir.path());
        engine
            .execute_script(
                "CREATE STREAM old (k INT KEY, v INT) WITH (kafka_topic='old', value_format='JSON', partitions=1);
                 INSERT INTO old (k, v) VALUES (1, 1);",
            )
            .expect("setup");
        let mut sandbox = engine.sandbox();
        sandbox
            .execute_script(
                "CREATE STREAM fresh (k INT KEY, v INT) WITH (kafka_topic='fresh', value_format='JSON', partitions=3);
                 CREATE STREAM copy AS SELECT * FROM fresh;
                 INSERT INTO old (k, v) VALUES (2, 2);
                 DROP STREAM old DELETE TOPIC;",
            )
            .expect("the sandbox runs them");
        // The sandbox sees its own changes...
        assert!(sandbox.catalog().sources.contains_key("COPY"));
        assert!(!sandbox.catalog().sources.contains_key("OLD"));
        assert_eq!(sandbox.catalog().queries.len(), 1);
        let sandbox_topics = sandbox.transport.list_topics().expect("topics");
        assert!(
            sandbox_topics.contains(&"COPY".to_string()),
            "{sandbox_topics:?}"
        );
        assert!(
            !sandbox_topics.contains(&"old".to_string()),
            "{sandbox_topics:?}"
        );
        assert_eq!(sandbox.transport.partition_count("COPY").expect("count"), 3);
        // ...and the engine and the log none of them.
        let names: Vec<&String> = engine.catalog().sources.keys().collect();
        assert_eq!(names, ["OLD"]);
        assert!(engine.catalog().queries.is_empty());
        assert_eq!(transport.list_topics().expect("topics"), ["old"]);
        assert_eq!(end_offset(transport.as_ref(), "old"), 1);
        // A second statement that fails there fails as it would on the engine.
        let mut sandbox = engine.sandbox();
        let again = sandbox.execute_script(
            "CREATE STREAM old (k INT KEY) WITH (kafka_topic='old', value_format='JSON');",
        );
        assert!(again.is_err());
    }
}
