//! Metadata, CreateTopics and DeleteTopics: the log's topics as one broker (`NODE_ID`) that
//! leads every partition, with one replica in sync.
//!
//! May import what `kafka_wire` does.

use super::dispatch::Connection;
use super::{Broker, NODE_ID, codes};
use crate::transport::{CleanupPolicy, TopicConfig, Transport, TransportError};
use kafka_protocol::ResponseError;
use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::create_topics_response::CreatableTopicResult;
use kafka_protocol::messages::delete_topics_response::DeletableTopicResult;
use kafka_protocol::messages::metadata_response::{
    MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use kafka_protocol::messages::{
    CreateTopicsRequest, CreateTopicsResponse, DeleteTopicsRequest, DeleteTopicsResponse,
    MetadataRequest, MetadataResponse, TopicName,
};
use kafka_protocol::protocol::StrBytes;

/// The most partitions a topic created over the protocol may have.
const MAX_PARTITIONS: i32 = 10_000;

pub fn metadata(
    broker: &Broker,
    connection: &Connection,
    request: MetadataRequest,
    version: i16,
) -> MetadataResponse {
    let (host, port) = broker.advertised(connection);
    let brokers = vec![
        MetadataResponseBroker::default()
            .with_node_id(NODE_ID.into())
            .with_host(StrBytes::from_string(host))
            .with_port(port),
    ];
    // v0 asks for every topic with an empty list; later versions with null.
    let all = request.topics.is_none()
        || (version == 0 && request.topics.as_ref().is_some_and(Vec::is_empty));
    let may_create = version < 4 || request.allow_auto_topic_creation;
    let topics = if all {
        broker
            .log
            .list_topics()
            .unwrap_or_default()
            .into_iter()
            .map(|name| describe(broker, &name, false))
            .collect()
    } else {
        request
            .topics
            .unwrap_or_default()
            .into_iter()
            .map(|topic| match topic.name {
                Some(name) => describe(broker, name.as_str(), may_create),
                None => MetadataResponseTopic::default()
                    .with_topic_id(topic.topic_id)
                    .with_error_code(ResponseError::UnknownTopicId.code()),
            })
            .collect()
    };
    MetadataResponse::default()
        .with_brokers(brokers)
        .with_cluster_id(Some(StrBytes::from_string(broker.cluster_id.clone())))
        .with_controller_id(NODE_ID.into())
        .with_topics(topics)
}

/// One topic's metadata, created first when it is missing and `create` allows it.
fn describe(broker: &Broker, name: &str, create: bool) -> MetadataResponseTopic {
    let topic = MetadataResponseTopic::default()
        .with_name(Some(topic_name(name)))
        .with_is_internal(super::is_internal(name));
    let mut count = broker.log.partition_count(name);
    if matches!(count, Err(TransportError::UnknownTopic(_)))
        && create
        && broker.config.auto_create_topics
    {
        let config = TopicConfig::with_partitions(broker.config.default_partitions);
        count = match broker.log.create_topic(name, &config) {
            Ok(()) | Err(TransportError::TopicExists(_)) => broker.log.partition_count(name),
            Err(e) => Err(e),
        };
    }
    match count {
        Ok(count) => topic.with_partitions((0..count as i32).map(partition).collect()),
        Err(e) => topic.with_error_code(codes::for_transport(&e)),
    }
}

fn partition(index: i32) -> MetadataResponsePartition {
    MetadataResponsePartition::default()
        .with_partition_index(index)
        .with_leader_id(NODE_ID.into())
        .with_leader_epoch(0)
        .with_replica_nodes(vec![NODE_ID.into()])
        .with_isr_nodes(vec![NODE_ID.into()])
}

fn topic_name(name: &str) -> TopicName {
    TopicName(StrBytes::from_string(name.to_string()))
}

pub fn create_topics(broker: &Broker, request: CreateTopicsRequest) -> CreateTopicsResponse {
    let topics = request
        .topics
        .into_iter()
        .map(|topic| {
            let name = topic.name.0.as_str().to_string();
            let result = CreatableTopicResult::default().with_name(topic_name(&name));
            let created = creatable(broker, &topic).and_then(|config| {
                let partitions = config.partitions;
                if !request.validate_only {
                    broker
                        .log
                        .create_topic(&name, &config)
                        .map_err(|e| (codes::for_transport(&e), e.to_string()))?;
                }
                Ok(partitions)
            });
            match created {
                Ok(partitions) => result
                    .with_num_partitions(partitions as i32)
                    .with_replication_factor(1),
                Err((code, message)) => result
                    .with_error_code(code)
                    .with_error_message(Some(StrBytes::from_string(message))),
            }
        })
        .collect();
    CreateTopicsResponse::default().with_topics(topics)
}

/// The topic's configuration, or the error code and message refusing it.
fn creatable(broker: &Broker, topic: &CreatableTopic) -> Result<TopicConfig, (i16, String)> {
    let refuse = |error: ResponseError, message: String| Err((error.code(), message));
    let partitions = match (topic.num_partitions, topic.assignments.len()) {
        (-1, 0) => broker.config.default_partitions as i32,
        (-1, assigned) => assigned as i32,
        (n, _) => n,
    };
    if !(1..=MAX_PARTITIONS).contains(&partitions) {
        return refuse(
            ResponseError::InvalidPartitions,
            format!("{partitions} partitions: a topic has 1 to {MAX_PARTITIONS}"),
        );
    }
    if !matches!(topic.replication_factor, -1 | 1) {
        return refuse(
            ResponseError::InvalidReplicationFactor,
            format!(
                "replication factor {}: Brook is one broker, so the factor is 1",
                topic.replication_factor
            ),
        );
    }
    let mut config = TopicConfig::with_partitions(partitions as u32);
    for entry in &topic.configs {
        let value = entry.value.as_ref().map(StrBytes::as_str);
        if let Err(message) = apply_config(&mut config, entry.name.as_str(), value) {
            return refuse(ResponseError::InvalidConfig, message);
        }
    }
    Ok(config)
}

/// Topic configs Kafka has that mean nothing on one node with no replication: accepted and
/// ignored, as a single-broker Kafka would in effect.
const IGNORED_CONFIGS: &[&str] = &[
    "min.insync.replicas",
    "unclean.leader.election.enable",
    "compression.type",
    "message.timestamp.type",
    "max.message.bytes",
    "flush.messages",
    "flush.ms",
    "index.interval.bytes",
    "min.cleanable.dirty.ratio",
    "min.compaction.lag.ms",
    "preallocate",
];

/// Sets one of Kafka's topic configs on `config`.
fn apply_config(config: &mut TopicConfig, name: &str, value: Option<&str>) -> Result<(), String> {
    let Some(value) = value else {
        return Ok(());
    };
    let number = || {
        value
            .parse::<i64>()
            .map_err(|_| format!("{name}={value}: not a number"))
    };
    let positive = |n: i64| (n >= 0).then_some(n);
    match name {
        "cleanup.policy" => {
            config.cleanup_policy = match value {
                "delete" => CleanupPolicy::Delete,
                "compact" => CleanupPolicy::Compact,
                _ => {
                    return Err(format!(
                        "cleanup.policy={value}: Brook has 'delete' or 'compact'"
                    ));
                }
            }
        }
        "retention.ms" => config.retention_ms = positive(number()?),
        "retention.bytes" => config.retention_bytes = positive(number()?).map(|n| n as u64),
        "segment.bytes" => {
            config.segment_bytes = u64::try_from(number()?)
                .ok()
                .filter(|n| *n >= 1024)
                .ok_or_else(|| format!("segment.bytes={value}: at least 1024"))?
        }
        "segment.ms" => config.segment_ms = positive(number()?),
        "delete.retention.ms" => config.delete_retention_ms = number()?.max(0),
        ignored if IGNORED_CONFIGS.contains(&ignored) => {}
        _ => return Err(format!("unknown topic config '{name}'")),
    }
    Ok(())
}

pub fn delete_topics(broker: &Broker, request: DeleteTopicsRequest) -> DeleteTopicsResponse {
    let mut names: Vec<Option<TopicName>> = request.topic_names.into_iter().map(Some).collect();
    names.extend(request.topics.into_iter().map(|t| t.name));
    let responses = names
        .into_iter()
        .map(|name| {
            let Some(name) = name else {
                return DeletableTopicResult::default()
                    .with_error_code(ResponseError::UnknownTopicId.code());
            };
            let result = DeletableTopicResult::default().with_name(Some(name.clone()));
            if super::is_internal(name.0.as_str()) {
                return result
                    .with_error_code(ResponseError::PolicyViolation.code())
                    .with_error_message(Some(StrBytes::from_static_str(
                        "Brook's own topics are not deleted by clients",
                    )));
            }
            match broker.log.delete_topic(name.0.as_str()) {
                Ok(()) => result,
                Err(e) => result
                    .with_error_code(codes::for_transport(&e))
                    .with_error_message(Some(StrBytes::from_string(e.to_string()))),
            }
        })
        .collect();
    DeleteTopicsResponse::default().with_responses(responses)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kafka_topic_configs_set_brooks_and_unknown_ones_are_refused() {
        let mut config = TopicConfig::default();
        apply_config(&mut config, "cleanup.policy", Some("compact")).expect("policy");
        apply_config(&mut config, "retention.ms", Some("-1")).expect("retention");
        apply_config(&mut config, "min.insync.replicas", Some("2")).expect("ignored");
        assert_eq!(config.cleanup_policy, CleanupPolicy::Compact);
        assert_eq!(config.retention_ms, None);
        let err = apply_config(&mut config, "retention.ms", Some("soon")).expect_err("number");
        assert!(err.contains("not a number"), "{err}");
        let err = apply_config(&mut config, "no.such.config", Some("1")).expect_err("unknown");
        assert!(
            err.contains("unknown topic config 'no.such.config'"),
            "{err}"
        );
    }
}
