//! `Checkpoint`: which changelog positions the durable state reflects, stored with it.

use crate::transport::TopicPartition;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Format version of the serialised checkpoint.
const VERSION: u32 = 1;

/// The next offset to replay per changelog partition: after [`crate::state::StateDir::flush`]
/// the durable stores hold exactly the changelog records before these offsets.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Checkpoint {
    pub offsets: BTreeMap<TopicPartition, i64>,
}

#[derive(Serialize, Deserialize)]
struct Stored {
    version: u32,
    offsets: Vec<Entry>,
}

#[derive(Serialize, Deserialize)]
struct Entry {
    topic: String,
    partition: u32,
    next_offset: i64,
}

impl Checkpoint {
    /// An empty checkpoint: nothing replayed yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that the state reflects `topic`-`partition` up to (not including) `next_offset`.
    pub fn set(&mut self, topic: impl Into<String>, partition: u32, next_offset: i64) {
        self.offsets
            .insert(TopicPartition::new(topic, partition), next_offset);
    }

    /// Builder form of [`Checkpoint::set`].
    pub fn with(mut self, topic: impl Into<String>, partition: u32, next_offset: i64) -> Self {
        self.set(topic, partition, next_offset);
        self
    }

    /// The next offset to replay from for `topic`-`partition`, if the checkpoint has it.
    pub fn get(&self, topic: &str, partition: u32) -> Option<i64> {
        self.offsets
            .get(&TopicPartition::new(topic, partition))
            .copied()
    }

    /// The stored form: versioned JSON.
    pub fn to_bytes(&self) -> Vec<u8> {
        let stored = Stored {
            version: VERSION,
            offsets: self
                .offsets
                .iter()
                .map(|(tp, &next_offset)| Entry {
                    topic: tp.topic.clone(),
                    partition: tp.partition,
                    next_offset,
                })
                .collect(),
        };
        // Serialising plain strings and numbers cannot fail; were it to, the empty bytes would
        // read back as a malformed checkpoint, which rebuilds the state rather than misreads it.
        serde_json::to_vec(&stored).unwrap_or_default()
    }

    /// Reads [`Checkpoint::to_bytes`]; the error says why the bytes are not a checkpoint.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
        let stored: Stored = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        if stored.version != VERSION {
            return Err(format!(
                "checkpoint version {} (this Brook reads version {VERSION})",
                stored.version
            ));
        }
        let offsets = stored
            .offsets
            .into_iter()
            .map(|e| (TopicPartition::new(e.topic, e.partition), e.next_offset))
            .collect();
        Ok(Checkpoint { offsets })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_bytes() {
        let checkpoint = Checkpoint::new()
            .with("q1-agg-changelog", 0, 42)
            .with("q1-agg-changelog", 1, 7)
            .with("other-topic", 3, 0);
        let back = Checkpoint::from_bytes(&checkpoint.to_bytes()).expect("decodes");
        assert_eq!(back, checkpoint);
        assert_eq!(back.get("q1-agg-changelog", 1), Some(7));
        assert_eq!(back.get("q1-agg-changelog", 2), None);
    }

    #[test]
    fn rejects_garbage_and_other_versions() {
        assert!(Checkpoint::from_bytes(b"\x00garbage").is_err());
        let future = br#"{"version":99,"offsets":[]}"#;
        let err = Checkpoint::from_bytes(future).expect_err("future version");
        assert!(err.contains("version 99"), "{err}");
    }
}
