//! Restoring a query's stores from their changelogs (`exec::query_state`): a changelog topic
//! is created with a partition per task unless it exists, and a task's store is replayed from
//! its partition of it up to the end offset measured when the replay starts.
//!
//! May import what `exec` does.

use super::query_state::QueryStateError;
use crate::state::{ChangelogLayout, Store};
use crate::transport::{
    CleanupPolicy, OffsetSpec, StartFrom, TopicConfig, TopicPartition, Transport, TransportError,
    read_until,
};
use std::time::Duration;

/// How long a restore may go without reading anything before it fails.
const RESTORE_STALL: Duration = Duration::from_secs(60);

/// Creates a changelog topic (compacted, with a partition per task) unless it exists; one that
/// exists must have a partition for every task.
pub(super) fn ensure_changelog(
    transport: &dyn Transport,
    topic: &str,
    partitions: u32,
) -> Result<(), QueryStateError> {
    let wrap = |source| QueryStateError::Restore {
        topic: topic.to_string(),
        source,
    };
    if transport
        .list_topics()
        .map_err(wrap)?
        .iter()
        .any(|t| t == topic)
    {
        let count = transport.partition_count(topic).map_err(wrap)?;
        if count < partitions {
            return Err(QueryStateError::TooFewChangelogPartitions {
                topic: topic.to_string(),
                count,
                tasks: partitions,
            });
        }
        return Ok(());
    }
    let mut config = TopicConfig::with_partitions(partitions);
    config.cleanup_policy = CleanupPolicy::Compact;
    match transport.create_topic(topic, &config) {
        Err(TransportError::TopicExists(_)) | Ok(()) => Ok(()),
        Err(e) => Err(wrap(e)),
    }
}

/// Replays changelog partition `tp` from `from` (its start when `None`, or when `from` lies
/// outside the partition, which means the directory belongs to an older changelog) to the end
/// offset measured now into `store`, with the index entries `layout` derives; returns that
/// end. Fails if the end cannot be reached (nothing read for [`RESTORE_STALL`]).
pub(super) fn replay(
    transport: &dyn Transport,
    tp: &TopicPartition,
    from: Option<i64>,
    store: &mut Store,
    layout: ChangelogLayout,
) -> Result<i64, QueryStateError> {
    replay_records(transport, tp, from, store, layout).map_err(|e| match e {
        TransportError::Stalled {
            position,
            end,
            seconds,
            ..
        } => QueryStateError::RestoreStalled {
            partition: tp.clone(),
            position,
            end,
            seconds,
        },
        source => QueryStateError::Restore {
            topic: tp.topic.clone(),
            source,
        },
    })
}

fn replay_records(
    transport: &dyn Transport,
    tp: &TopicPartition,
    from: Option<i64>,
    store: &mut Store,
    layout: ChangelogLayout,
) -> Result<i64, TransportError> {
    let topic = &tp.topic;
    let start = transport.list_offset(tp, OffsetSpec::Earliest)?;
    let end = transport.list_offset(tp, OffsetSpec::Latest)?;
    let from = match from {
        Some(offset) if (start..=end).contains(&offset) => StartFrom::Offset(offset),
        Some(offset) => {
            tracing::warn!(
                "state checkpoint offset {offset} of {topic} is outside [{start}, {end}]; replaying it all"
            );
            clear(store)?;
            StartFrom::Earliest
        }
        None => StartFrom::Earliest,
    };
    if from == StartFrom::Offset(end) {
        // Nothing was written since the checkpoint (a task that comes back to the server that
        // ran it): no consumer to make.
        return Ok(end);
    }
    // To the end measured above (not measured again).
    let mut consumer = transport.consumer(None)?;
    consumer.assign(&[(tp.clone(), from)])?;
    read_until(consumer.as_mut(), tp, end, RESTORE_STALL, |record| {
        let key = record.key.as_deref().unwrap_or_default();
        let index = (layout.index_of)(key);
        match &record.value {
            Some(value) => {
                store.put(key, value);
                if let Some(index) = index {
                    store.put(&index, &[]);
                }
            }
            None => {
                store.delete(key);
                if let Some(index) = index {
                    store.delete(&index);
                }
            }
        }
        Ok(())
    })?;
    Ok(end)
}

/// Deletes every entry of `store` (in its cache; the next flush makes it durable).
fn clear(store: &mut Store) -> Result<(), TransportError> {
    let entries = store
        .scan(&[], None)
        .map_err(|e| TransportError::InvalidArgument(e.to_string()))?;
    for (key, _) in entries {
        store.delete(&key);
    }
    Ok(())
}
