//! OffsetCommit and OffsetFetch over the log's group offsets (`Transport::commit_offsets`,
//! durable across restarts). A commit is checked against the group's membership first: a
//! member of the current generation, or anyone while the group has no members (consumers
//! that assign partitions themselves). Commit metadata strings are not kept: OffsetFetch
//! answers an empty one.
//!
//! May import what `kafka_wire` does.

use super::super::{Broker, codes};
use crate::transport::{TopicPartition, Transport};
use kafka_protocol::ResponseError;
use kafka_protocol::messages::offset_commit_response::{
    OffsetCommitResponsePartition, OffsetCommitResponseTopic,
};
use kafka_protocol::messages::offset_fetch_response::{
    OffsetFetchResponseGroup, OffsetFetchResponsePartition, OffsetFetchResponsePartitions,
    OffsetFetchResponseTopic, OffsetFetchResponseTopics,
};
use kafka_protocol::messages::{
    OffsetCommitRequest, OffsetCommitResponse, OffsetFetchRequest, OffsetFetchResponse, TopicName,
};
use kafka_protocol::protocol::StrBytes;

pub fn commit(broker: &Broker, request: OffsetCommitRequest) -> OffsetCommitResponse {
    let group = request.group_id.0.as_str();
    let member_code = broker.groups.check_commit(
        group,
        request.member_id.as_str(),
        request.generation_id_or_member_epoch,
    );
    let topics = request
        .topics
        .into_iter()
        .map(|topic| {
            let partitions = topic
                .partitions
                .iter()
                .map(|p| {
                    let code = if member_code != 0 {
                        member_code
                    } else {
                        commit_one(
                            broker,
                            group,
                            topic.name.0.as_str(),
                            p.partition_index,
                            p.committed_offset,
                        )
                    };
                    OffsetCommitResponsePartition::default()
                        .with_partition_index(p.partition_index)
                        .with_error_code(code)
                })
                .collect();
            OffsetCommitResponseTopic::default()
                .with_name(topic.name)
                .with_partitions(partitions)
        })
        .collect();
    OffsetCommitResponse::default().with_topics(topics)
}

fn commit_one(broker: &Broker, group: &str, topic: &str, partition: i32, offset: i64) -> i16 {
    let Ok(partition) = u32::try_from(partition) else {
        return ResponseError::UnknownTopicOrPartition.code();
    };
    if offset < 0 {
        return ResponseError::InvalidCommitOffsetSize.code();
    }
    match broker
        .log
        .commit_offsets(group, &[(TopicPartition::new(topic, partition), offset)])
    {
        Ok(()) => 0,
        Err(e) => codes::for_transport(&e),
    }
}

pub fn fetch(broker: &Broker, request: OffsetFetchRequest, version: i16) -> OffsetFetchResponse {
    if version >= 8 {
        let groups = request
            .groups
            .into_iter()
            .map(|g| {
                let wanted = g.topics.map(|topics| {
                    topics
                        .into_iter()
                        .map(|t| (t.name, t.partition_indexes))
                        .collect::<Vec<_>>()
                });
                let topics = committed(broker, g.group_id.0.as_str(), wanted)
                    .into_iter()
                    .map(|(name, partitions)| {
                        let partitions = partitions
                            .into_iter()
                            .map(|(index, offset, code)| {
                                OffsetFetchResponsePartitions::default()
                                    .with_partition_index(index)
                                    .with_committed_offset(offset)
                                    .with_metadata(Some(StrBytes::new()))
                                    .with_error_code(code)
                            })
                            .collect();
                        OffsetFetchResponseTopics::default()
                            .with_name(name)
                            .with_partitions(partitions)
                    })
                    .collect();
                OffsetFetchResponseGroup::default()
                    .with_group_id(g.group_id)
                    .with_topics(topics)
            })
            .collect();
        return OffsetFetchResponse::default().with_groups(groups);
    }
    let wanted = request.topics.map(|topics| {
        topics
            .into_iter()
            .map(|t| (t.name, t.partition_indexes))
            .collect::<Vec<_>>()
    });
    let topics = committed(broker, request.group_id.0.as_str(), wanted)
        .into_iter()
        .map(|(name, partitions)| {
            let partitions = partitions
                .into_iter()
                .map(|(index, offset, code)| {
                    OffsetFetchResponsePartition::default()
                        .with_partition_index(index)
                        .with_committed_offset(offset)
                        .with_metadata(Some(StrBytes::new()))
                        .with_error_code(code)
                })
                .collect();
            OffsetFetchResponseTopic::default()
                .with_name(name)
                .with_partitions(partitions)
        })
        .collect();
    OffsetFetchResponse::default().with_topics(topics)
}

/// Per topic, (partition, committed offset or -1, error code) for the partitions asked (every
/// committed one when `wanted` is `None`).
type Committed = Vec<(TopicName, Vec<(i32, i64, i16)>)>;

fn committed(
    broker: &Broker,
    group: &str,
    wanted: Option<Vec<(TopicName, Vec<i32>)>>,
) -> Committed {
    let wanted = match wanted {
        Some(wanted) => wanted,
        None => broker
            .log
            .list_topics()
            .unwrap_or_default()
            .into_iter()
            .filter_map(|topic| {
                let offsets = broker.log.committed_offsets(group, &topic).ok()?;
                let partitions: Vec<i32> = offsets.iter().map(|(p, _)| *p as i32).collect();
                (!partitions.is_empty())
                    .then(|| (TopicName(StrBytes::from_string(topic)), partitions))
            })
            .collect(),
    };
    wanted
        .into_iter()
        .map(|(name, partitions)| {
            let offsets = broker.log.committed_offsets(group, name.0.as_str());
            let rows = partitions
                .into_iter()
                .map(|index| match &offsets {
                    Ok(offsets) => {
                        let offset = offsets
                            .iter()
                            .find(|(p, _)| i64::from(*p) == i64::from(index))
                            .map_or(-1, |(_, o)| *o);
                        (index, offset, 0)
                    }
                    Err(e) => (index, -1, codes::for_transport(e)),
                })
                .collect();
            (name, rows)
        })
        .collect()
}
