//! Topics, offsets and groups through rdkafka's admin client and a helper consumer.
//!
//! May import what `kafka` does.

use super::{TIMEOUT, backend};
use crate::transport::{
    CleanupPolicy, OffsetSpec, PartitionInfo, Result, TopicConfig, TopicDescription,
    TopicPartition, TransportError,
};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, ResourceSpecifier, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use std::collections::BTreeMap;

pub struct Admin {
    client: AdminClient<DefaultClientContext>,
    /// For metadata, watermarks and offsets by time (no group).
    probe: BaseConsumer,
    bootstrap: String,
    runtime: tokio::runtime::Runtime,
}

impl Admin {
    pub fn new(config: &ClientConfig) -> Result<Admin> {
        let bootstrap = config
            .get("bootstrap.servers")
            .unwrap_or_default()
            .to_string();
        let client = config.create().map_err(|e| backend("admin client", e))?;
        let probe = config.create().map_err(|e| backend("consumer", e))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| backend("runtime", e))?;
        Ok(Admin {
            client,
            probe,
            bootstrap,
            runtime,
        })
    }

    /// Every topic and its partition count.
    pub fn topics(&self) -> Result<BTreeMap<String, u32>> {
        let metadata = self
            .probe
            .fetch_metadata(None, TIMEOUT)
            .map_err(|e| backend(&format!("reaching {}", self.bootstrap), e))?;
        Ok(metadata
            .topics()
            .iter()
            .filter(|t| t.error().is_none())
            .map(|t| (t.name().to_string(), t.partitions().len() as u32))
            .collect())
    }

    pub fn create_topic(&self, name: &str, config: &TopicConfig) -> Result<()> {
        let settings = topic_settings(config);
        let new = NewTopic {
            name,
            num_partitions: config.partitions as i32,
            replication: TopicReplication::Fixed(-1),
            config: settings.iter().map(|(k, v)| (*k, v.as_str())).collect(),
        };
        let results = self
            .runtime
            .block_on(self.client.create_topics([&new], &AdminOptions::new()))
            .map_err(|e| backend("creating a topic", e))?;
        for result in results {
            match result {
                Ok(_) => {}
                Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {
                    return Err(TransportError::TopicExists(name.to_string()));
                }
                Err((_, code)) => return Err(backend(&format!("creating topic {name}"), code)),
            }
        }
        Ok(())
    }

    pub fn delete_topic(&self, name: &str) -> Result<()> {
        let results = self
            .runtime
            .block_on(self.client.delete_topics(&[name], &AdminOptions::new()))
            .map_err(|e| backend("deleting a topic", e))?;
        for result in results {
            match result {
                Ok(_) => {}
                Err((_, RDKafkaErrorCode::UnknownTopicOrPartition)) => {
                    return Err(TransportError::UnknownTopic(name.to_string()));
                }
                Err((_, code)) => return Err(backend(&format!("deleting topic {name}"), code)),
            }
        }
        Ok(())
    }

    pub fn describe_topic(&self, name: &str) -> Result<TopicDescription> {
        let count = *self
            .topics()?
            .get(name)
            .ok_or_else(|| TransportError::UnknownTopic(name.to_string()))?;
        let resource = ResourceSpecifier::Topic(name);
        let results = self
            .runtime
            .block_on(
                self.client
                    .describe_configs([&resource], &AdminOptions::new()),
            )
            .map_err(|e| backend("describing a topic", e))?;
        let mut config = TopicConfig::with_partitions(count);
        for result in results {
            let resource = result.map_err(|code| backend(&format!("describing {name}"), code))?;
            for entry in &resource.entries {
                if let Some(value) = &entry.value {
                    apply_setting(&mut config, &entry.name, value);
                }
            }
        }
        let mut partitions = Vec::new();
        for partition in 0..count {
            let (low, high) = self
                .probe
                .fetch_watermarks(name, partition as i32, TIMEOUT)
                .map_err(|e| backend("reading offsets", e))?;
            partitions.push(PartitionInfo {
                partition,
                start_offset: low,
                end_offset: high,
                size_bytes: None,
                segments: None,
            });
        }
        Ok(TopicDescription {
            name: name.to_string(),
            config,
            partitions,
        })
    }

    pub fn list_offset(&self, tp: &TopicPartition, spec: OffsetSpec) -> Result<i64> {
        let partition = tp.partition as i32;
        let watermarks = || {
            self.probe
                .fetch_watermarks(&tp.topic, partition, TIMEOUT)
                .map_err(|e| backend("reading offsets", e))
        };
        match spec {
            OffsetSpec::Earliest => Ok(watermarks()?.0),
            OffsetSpec::Latest => Ok(watermarks()?.1),
            OffsetSpec::Timestamp(ts) => {
                let mut list = TopicPartitionList::new();
                list.add_partition_offset(&tp.topic, partition, Offset::Offset(ts))
                    .map_err(|e| backend("offsets by time", e))?;
                let found = self
                    .probe
                    .offsets_for_times(list, TIMEOUT)
                    .map_err(|e| backend("offsets by time", e))?;
                match found
                    .find_partition(&tp.topic, partition)
                    .map(|e| e.offset())
                {
                    Some(Offset::Offset(o)) => Ok(o),
                    _ => Ok(watermarks()?.1),
                }
            }
        }
    }

    /// A consumer of `group` that joins nothing: for committing and reading its offsets.
    fn group_client(&self, group: &str) -> Result<BaseConsumer> {
        ClientConfig::new()
            .set("bootstrap.servers", &self.bootstrap)
            .set("group.id", group)
            .set("enable.auto.commit", "false")
            .create()
            .map_err(|e| backend("consumer", e))
    }

    pub fn commit_offsets(&self, group: &str, offsets: &[(TopicPartition, i64)]) -> Result<()> {
        let mut list = TopicPartitionList::new();
        for (tp, offset) in offsets {
            list.add_partition_offset(&tp.topic, tp.partition as i32, Offset::Offset(*offset))
                .map_err(|e| backend("committing offsets", e))?;
        }
        self.group_client(group)?
            .commit(&list, CommitMode::Sync)
            .map_err(|e| backend(&format!("committing offsets of group {group}"), e))
    }

    pub fn committed_offsets(
        &self,
        group: &str,
        topic: &str,
        count: u32,
    ) -> Result<Vec<(u32, i64)>> {
        let mut list = TopicPartitionList::new();
        for p in 0..count {
            list.add_partition(topic, p as i32);
        }
        let committed = self
            .group_client(group)?
            .committed_offsets(list, TIMEOUT)
            .map_err(|e| backend(&format!("reading offsets of group {group}"), e))?;
        Ok(committed
            .elements()
            .iter()
            .filter_map(|e| match e.offset() {
                Offset::Offset(o) => Some((e.partition() as u32, o)),
                _ => None,
            })
            .collect())
    }

    pub fn groups(&self) -> Result<Vec<String>> {
        let list = self
            .probe
            .fetch_group_list(None, TIMEOUT)
            .map_err(|e| backend("listing groups", e))?;
        Ok(list.groups().iter().map(|g| g.name().to_string()).collect())
    }

    /// The client ids of `group`'s members.
    pub fn group_members(&self, group: &str) -> Result<Vec<String>> {
        let list = self
            .probe
            .fetch_group_list(Some(group), TIMEOUT)
            .map_err(|e| backend(&format!("describing group {group}"), e))?;
        Ok(list
            .groups()
            .iter()
            .filter(|g| g.name() == group)
            .flat_map(|g| g.members().iter().map(|m| m.client_id().to_string()))
            .collect())
    }

    pub fn delete_group(&self, group: &str) -> Result<()> {
        let results = self
            .runtime
            .block_on(self.client.delete_groups(&[group], &AdminOptions::new()))
            .map_err(|e| backend("deleting a group", e))?;
        for result in results {
            result.map_err(|(_, code)| backend(&format!("deleting group {group}"), code))?;
        }
        Ok(())
    }
}

/// Brook's topic settings as Kafka's topic configs.
fn topic_settings(config: &TopicConfig) -> Vec<(&'static str, String)> {
    let policy = match config.cleanup_policy {
        CleanupPolicy::Delete => "delete",
        CleanupPolicy::Compact => "compact",
    };
    let mut settings = vec![
        ("cleanup.policy", policy.to_string()),
        (
            "retention.ms",
            config.retention_ms.unwrap_or(-1).to_string(),
        ),
        (
            "retention.bytes",
            config.retention_bytes.map_or(-1, |b| b as i64).to_string(),
        ),
        ("segment.bytes", config.segment_bytes.to_string()),
        (
            "delete.retention.ms",
            config.delete_retention_ms.to_string(),
        ),
    ];
    // Kafka has no "never" for segment.ms: without one, its default applies.
    if let Some(ms) = config.segment_ms {
        settings.push(("segment.ms", ms.to_string()));
    }
    settings
}

/// One of Kafka's topic configs read back into Brook's settings (others are ignored).
fn apply_setting(config: &mut TopicConfig, name: &str, value: &str) {
    let number = value.parse::<i64>().ok();
    match (name, number) {
        ("cleanup.policy", _) if value.contains("compact") => {
            config.cleanup_policy = CleanupPolicy::Compact
        }
        ("retention.ms", Some(n)) => config.retention_ms = (n >= 0).then_some(n),
        ("retention.bytes", Some(n)) => config.retention_bytes = (n >= 0).then_some(n as u64),
        ("segment.bytes", Some(n)) if n > 0 => config.segment_bytes = n as u64,
        ("segment.ms", Some(n)) => config.segment_ms = (n >= 0).then_some(n),
        ("delete.retention.ms", Some(n)) => config.delete_retention_ms = n,
        _ => {}
    }
}
