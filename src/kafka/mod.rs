//! Kafka through rdkafka (vendored librdkafka): `transport::Transport` over a Kafka cluster or
//! a Brook server's Kafka listener. Today it holds topics' administration, producers and
//! consumers (assignment, group offsets), which the CLI uses to work on a data directory a
//! running server owns (`brook produce`, `consume`, `topic` through its listener). Issue 17
//! completes it as Brook's second backend: transactional producers (until then
//! `transactional_producer` says they are not available here), group membership, and the
//! engine running on it.
//!
//! May import: `transport` only.

mod admin;
mod buffer;
mod consumer;
mod membership;
mod producer;
mod transactional;

use crate::transport::{
    Consumer, OffsetSpec, Producer, Result, TopicConfig, TopicDescription, TopicPartition,
    TransactionalProducer, Transport, TransportError,
};
use rdkafka::ClientConfig;
use std::time::Duration;

/// How long an administrative request may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// A Kafka cluster (or a Brook listener) at `bootstrap`.
pub struct KafkaTransport {
    bootstrap: String,
    /// librdkafka settings every client gets (security, timeouts, `client.id`).
    settings: Vec<(String, String)>,
    admin: admin::Admin,
}

impl KafkaTransport {
    /// Connects to `bootstrap` (host:port[,host:port...]), checking that it answers.
    pub fn connect(bootstrap: &str) -> Result<KafkaTransport> {
        KafkaTransport::connect_with(bootstrap, &[])
    }

    /// Connects with librdkafka `settings` for every client (such as `security.protocol`,
    /// `session.timeout.ms` or `client.id`); a setting librdkafka does not know is an error.
    pub fn connect_with(bootstrap: &str, settings: &[(String, String)]) -> Result<KafkaTransport> {
        let transport = KafkaTransport {
            bootstrap: bootstrap.to_string(),
            settings: settings.to_vec(),
            admin: admin::Admin::new(&Self::config_of(bootstrap, settings, Role::Admin))?,
        };
        transport.admin.topics().map_err(|e| {
            TransportError::Backend(format!(
                "no broker of the Kafka cluster at {bootstrap} answered within {} s: {e}",
                TIMEOUT.as_secs()
            ))
        })?;
        Ok(transport)
    }

    /// A client's configuration: the settings that apply to its role (librdkafka warns about
    /// a consumer's setting given to a producer, and the other way round).
    fn config_of(bootstrap: &str, settings: &[(String, String)], role: Role) -> ClientConfig {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", bootstrap);
        for (key, value) in settings {
            if Role::of(key).is_none_or(|r| r == role) {
                config.set(key, value);
            }
        }
        config
    }

    fn config(&self, role: Role) -> ClientConfig {
        Self::config_of(&self.bootstrap, &self.settings, role)
    }
}

/// Which kind of client a librdkafka setting is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Admin,
    Producer,
    Consumer,
}

impl Role {
    /// The only role `key` applies to (`None`: every client's, such as security settings).
    fn of(key: &str) -> Option<Role> {
        const CONSUMER: [&str; 12] = [
            "group.",
            "session.timeout.ms",
            "heartbeat.interval.ms",
            "max.poll.interval.ms",
            "partition.assignment.strategy",
            "auto.",
            "enable.auto.",
            "fetch.",
            "isolation.level",
            "queued.",
            "enable.partition.eof",
            "check.crcs",
        ];
        const PRODUCER: [&str; 11] = [
            "acks",
            "request.required.acks",
            "linger.ms",
            "queue.buffering.",
            "batch.",
            "compression.",
            "transaction",
            "enable.idempotence",
            "retries",
            "message.send.max.retries",
            "delivery.timeout.ms",
        ];
        if CONSUMER.iter().any(|p| key.starts_with(p)) {
            Some(Role::Consumer)
        } else if PRODUCER.iter().any(|p| key.starts_with(p)) {
            Some(Role::Producer)
        } else {
            None
        }
    }
}

/// An rdkafka error, as the outside world's fault.
/// A refusal the cluster's ACLs made says so, with what to check.
fn backend(what: &str, e: impl std::fmt::Display + 'static) -> TransportError {
    let any: &dyn std::any::Any = &e;
    let code = match (
        any.downcast_ref::<rdkafka::error::KafkaError>(),
        any.downcast_ref::<rdkafka::error::RDKafkaErrorCode>(),
    ) {
        (Some(e), _) => e.rdkafka_error_code(),
        (_, Some(code)) => Some(*code),
        _ => None,
    };
    use rdkafka::error::RDKafkaErrorCode as Code;
    let refused = matches!(
        code,
        Some(
            Code::TopicAuthorizationFailed
                | Code::GroupAuthorizationFailed
                | Code::ClusterAuthorizationFailed
                | Code::TransactionalIdAuthorizationFailed
                | Code::SaslAuthenticationFailed
        )
    );
    match refused {
        true => TransportError::Backend(format!(
            "{what}: refused by the Kafka cluster ({e}): check the ACLs or credentials of the \
             principal Brook connects as (--kafka-config sasl.username=...)"
        )),
        false => TransportError::Backend(format!("{what}: {e}")),
    }
}

impl Transport for KafkaTransport {
    fn create_topic(&self, name: &str, config: &TopicConfig) -> Result<()> {
        self.admin.create_topic(name, config)
    }

    fn delete_topic(&self, name: &str) -> Result<()> {
        self.admin.delete_topic(name)
    }

    fn list_topics(&self) -> Result<Vec<String>> {
        Ok(self.admin.topics()?.into_keys().collect())
    }

    fn describe_topic(&self, name: &str) -> Result<TopicDescription> {
        self.admin.describe_topic(name)
    }

    fn partition_count(&self, topic: &str) -> Result<u32> {
        self.admin
            .topics()?
            .get(topic)
            .copied()
            .ok_or_else(|| TransportError::UnknownTopic(topic.to_string()))
    }

    fn list_offset(&self, tp: &TopicPartition, spec: OffsetSpec) -> Result<i64> {
        self.admin.list_offset(tp, spec)
    }

    fn commit_offsets(&self, group: &str, offsets: &[(TopicPartition, i64)]) -> Result<()> {
        self.admin.commit_offsets(group, offsets)
    }

    fn committed_offsets(&self, group: &str, topic: &str) -> Result<Vec<(u32, i64)>> {
        let count = self.partition_count(topic)?;
        self.admin.committed_offsets(group, topic, count)
    }

    fn list_groups(&self) -> Result<Vec<String>> {
        self.admin.groups()
    }

    fn delete_group(&self, group: &str) -> Result<()> {
        self.admin.delete_group(group)
    }

    fn group_members(&self, group: &str) -> Result<Vec<String>> {
        self.admin.group_members(group)
    }

    fn producer(&self) -> Result<Box<dyn Producer>> {
        Ok(Box::new(producer::KafkaProducer::new(
            self.config(Role::Producer),
        )?))
    }

    fn transactional_producer(
        &self,
        transactional_id: &str,
    ) -> Result<Box<dyn TransactionalProducer>> {
        Ok(Box::new(transactional::KafkaTransactionalProducer::new(
            self.config(Role::Producer),
            transactional_id,
        )?))
    }

    fn consumer(&self, group: Option<&str>) -> Result<Box<dyn Consumer>> {
        Ok(Box::new(consumer::KafkaConsumer::new(
            self.config(Role::Consumer),
            group,
        )?))
    }
}
