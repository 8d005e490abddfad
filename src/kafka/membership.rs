//! A consumer's group membership through librdkafka: the rebalance callbacks (served inside
//! `poll`) note each assignment and revocation for `Consumer::take_rebalances`; an assigned
//! partition without a committed offset is pinned at once where the fallback says, so that a
//! restart before the first commit starts there too (and not at a later "latest").
//!
//! May import what `kafka` does.

use super::TIMEOUT;
use crate::transport::{AutoOffsetReset, Rebalance, TopicPartition};
use rdkafka::consumer::{
    BaseConsumer, CommitMode, Consumer as _, ConsumerContext, Rebalance as RdRebalance,
};
use rdkafka::{ClientContext, Offset, TopicPartitionList};
use std::sync::{Arc, Mutex};

/// What the callbacks noted since the consumer last looked.
#[derive(Default)]
pub struct Noted {
    pub rebalances: Vec<Rebalance>,
    /// Where each newly assigned partition starts.
    pub starts: Vec<(TopicPartition, i64)>,
    /// A failure inside a callback, reported by the next poll.
    pub error: Option<String>,
}

/// The consumer's context: its fallback for partitions without a committed offset, and what
/// its rebalances noted.
#[derive(Clone)]
pub struct GroupContext {
    pub fallback: AutoOffsetReset,
    pub noted: Arc<Mutex<Noted>>,
}

impl GroupContext {
    pub fn new() -> GroupContext {
        GroupContext {
            fallback: AutoOffsetReset::Earliest,
            noted: Arc::default(),
        }
    }

    fn note(&self, f: impl FnOnce(&mut Noted)) {
        if let Ok(mut noted) = self.noted.lock() {
            f(&mut noted);
        }
    }

    /// Each partition's start: its committed offset, or the fallback's, which is committed.
    fn starts(
        &self,
        consumer: &BaseConsumer<GroupContext>,
        tpl: &TopicPartitionList,
    ) -> Result<Vec<(TopicPartition, i64)>, String> {
        let committed = consumer
            .committed_offsets(tpl.clone(), TIMEOUT)
            .map_err(|e| format!("reading the group's committed offsets: {e}"))?;
        let mut starts = Vec::new();
        let mut pins = TopicPartitionList::new();
        for e in committed.elements() {
            let tp = TopicPartition::new(e.topic(), e.partition() as u32);
            let start = match e.offset() {
                Offset::Offset(o) => o,
                _ => {
                    let (low, high) = consumer
                        .fetch_watermarks(e.topic(), e.partition(), TIMEOUT)
                        .map_err(|e| format!("reading the offsets of {tp}: {e}"))?;
                    let pin = match self.fallback {
                        AutoOffsetReset::Earliest => low,
                        AutoOffsetReset::Latest => high,
                    };
                    pins.add_partition_offset(e.topic(), e.partition(), Offset::Offset(pin))
                        .map_err(|e| e.to_string())?;
                    pin
                }
            };
            starts.push((tp, start));
        }
        if pins.count() > 0 {
            consumer
                .commit(&pins, CommitMode::Sync)
                .map_err(|e| format!("committing the start of new partitions: {e}"))?;
        }
        Ok(starts)
    }
}

fn partitions_of(tpl: &TopicPartitionList) -> Vec<TopicPartition> {
    tpl.elements()
        .iter()
        .map(|e| TopicPartition::new(e.topic(), e.partition() as u32))
        .collect()
}

impl ClientContext for GroupContext {}

impl ConsumerContext for GroupContext {
    fn pre_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &RdRebalance<'_>) {
        if let RdRebalance::Revoke(tpl) = rebalance {
            let revoked = partitions_of(tpl);
            self.note(|n| n.rebalances.push(Rebalance::Revoked(revoked)));
        }
    }

    fn post_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &RdRebalance<'_>) {
        match rebalance {
            RdRebalance::Assign(tpl) => {
                let assigned = partitions_of(tpl);
                match self.starts(consumer, tpl) {
                    Ok(starts) => self.note(|n| {
                        n.starts.extend(starts);
                        n.rebalances.push(Rebalance::Assigned(assigned));
                    }),
                    Err(e) => self.note(|n| n.error = Some(e)),
                }
            }
            RdRebalance::Revoke(_) => {}
            RdRebalance::Error(e) => {
                let message = format!("rebalancing: {e}");
                self.note(|n| n.error = Some(message));
            }
        }
    }
}
