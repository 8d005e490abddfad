//! DescribeConfigs (topics' and the broker's configs, read-only: AlterConfigs is not served)
//! and DescribeCluster (this one broker, as Metadata names it).
//!
//! May import what `kafka_wire` does.

use super::dispatch::Connection;
use super::{Broker, NODE_ID, codes};
use crate::transport::{CleanupPolicy, TopicConfig, Transport};
use kafka_protocol::ResponseError;
use kafka_protocol::messages::describe_cluster_response::DescribeClusterBroker;
use kafka_protocol::messages::describe_configs_response::{
    DescribeConfigsResourceResult, DescribeConfigsResult,
};
use kafka_protocol::messages::{
    DescribeClusterResponse, DescribeConfigsRequest, DescribeConfigsResponse,
};
use kafka_protocol::protocol::StrBytes;

/// Kafka's resource types.
const TOPIC: i8 = 2;
const BROKER: i8 = 4;
/// Kafka's config sources and types.
const DYNAMIC_TOPIC_CONFIG: i8 = 1;
const STATIC_BROKER_CONFIG: i8 = 4;
const DEFAULT_CONFIG: i8 = 5;
const BOOLEAN: i8 = 1;
const STRING: i8 = 2;
const INT: i8 = 3;
const LONG: i8 = 5;

/// One config: name, value, type, and whether it differs from the default.
type Entry = (&'static str, String, i8, bool);

pub fn describe_configs(
    broker: &Broker,
    request: DescribeConfigsRequest,
) -> DescribeConfigsResponse {
    let results = request
        .resources
        .into_iter()
        .map(|resource| {
            let result = DescribeConfigsResult::default()
                .with_resource_type(resource.resource_type)
                .with_resource_name(resource.resource_name.clone());
            let entries = match resource.resource_type {
                TOPIC => match broker.log.describe_topic(resource.resource_name.as_str()) {
                    Ok(description) => topic_configs(broker, &description.config),
                    Err(e) => {
                        return result
                            .with_error_code(codes::for_transport(&e))
                            .with_error_message(Some(StrBytes::from_string(e.to_string())));
                    }
                },
                BROKER => broker_configs(broker),
                other => {
                    return result
                        .with_error_code(ResponseError::InvalidRequest.code())
                        .with_error_message(Some(StrBytes::from_string(format!(
                            "resource type {other}: Brook describes topics (2) and its broker (4)"
                        ))));
                }
            };
            let wanted = resource.configuration_keys;
            let source = match resource.resource_type {
                TOPIC => DYNAMIC_TOPIC_CONFIG,
                _ => STATIC_BROKER_CONFIG,
            };
            let configs = entries
                .into_iter()
                .filter(|(name, ..)| {
                    wanted
                        .as_ref()
                        .is_none_or(|keys| keys.iter().any(|k| k.as_str() == *name))
                })
                .map(|(name, value, kind, set)| {
                    DescribeConfigsResourceResult::default()
                        .with_name(StrBytes::from_static_str(name))
                        .with_value(Some(StrBytes::from_string(value)))
                        .with_read_only(true)
                        .with_config_source(if set { source } else { DEFAULT_CONFIG })
                        .with_config_type(kind)
                })
                .collect();
            result.with_configs(configs)
        })
        .collect();
    DescribeConfigsResponse::default().with_results(results)
}

fn topic_configs(broker: &Broker, config: &TopicConfig) -> Vec<Entry> {
    let defaults = TopicConfig::default();
    let millis = |v: Option<i64>| v.map_or("-1".to_string(), |v| v.to_string());
    let policy = |p: CleanupPolicy| match p {
        CleanupPolicy::Delete => "delete".to_string(),
        CleanupPolicy::Compact => "compact".to_string(),
    };
    vec![
        (
            "cleanup.policy",
            policy(config.cleanup_policy),
            STRING,
            config.cleanup_policy != defaults.cleanup_policy,
        ),
        (
            "retention.ms",
            millis(config.retention_ms),
            LONG,
            config.retention_ms != defaults.retention_ms,
        ),
        (
            "retention.bytes",
            config
                .retention_bytes
                .map_or("-1".into(), |b| b.to_string()),
            LONG,
            config.retention_bytes != defaults.retention_bytes,
        ),
        (
            "segment.bytes",
            config.segment_bytes.to_string(),
            INT,
            config.segment_bytes != defaults.segment_bytes,
        ),
        (
            "segment.ms",
            millis(config.segment_ms),
            LONG,
            config.segment_ms != defaults.segment_ms,
        ),
        (
            "delete.retention.ms",
            config.delete_retention_ms.to_string(),
            LONG,
            config.delete_retention_ms != defaults.delete_retention_ms,
        ),
        (
            "max.message.bytes",
            broker.config.max_batch_bytes.to_string(),
            INT,
            false,
        ),
        ("message.timestamp.type", "CreateTime".into(), STRING, false),
        ("compression.type", "producer".into(), STRING, false),
        ("min.insync.replicas", "1".into(), INT, false),
    ]
}

fn broker_configs(broker: &Broker) -> Vec<Entry> {
    let c = &broker.config;
    vec![
        (
            "auto.create.topics.enable",
            c.auto_create_topics.to_string(),
            BOOLEAN,
            c.auto_create_topics,
        ),
        (
            "num.partitions",
            c.default_partitions.to_string(),
            INT,
            false,
        ),
        (
            "message.max.bytes",
            c.max_batch_bytes.to_string(),
            INT,
            false,
        ),
        (
            "socket.request.max.bytes",
            c.max_request_bytes.to_string(),
            INT,
            false,
        ),
        (
            "connections.max.idle.ms",
            c.idle.as_millis().to_string(),
            LONG,
            true,
        ),
        ("max.connections", c.max_connections.to_string(), INT, true),
        ("transaction.max.timeout.ms", "900000".into(), INT, false),
        ("group.min.session.timeout.ms", "6000".into(), INT, false),
        ("group.max.session.timeout.ms", "1800000".into(), INT, false),
        ("default.replication.factor", "1".into(), INT, false),
    ]
}

pub fn describe_cluster(broker: &Broker, connection: &Connection) -> DescribeClusterResponse {
    let (host, port) = broker.advertised(connection);
    DescribeClusterResponse::default()
        .with_cluster_id(StrBytes::from_string(broker.cluster_id.clone()))
        .with_controller_id(NODE_ID.into())
        .with_brokers(vec![
            DescribeClusterBroker::default()
                .with_broker_id(NODE_ID.into())
                .with_host(StrBytes::from_string(host))
                .with_port(port),
        ])
}
