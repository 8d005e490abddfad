//! A topic on disk: `topics/<name>/topic.json` (its settings) and one directory per partition.
//!
//! Creation builds the topic under `<name>.creating` and renames it into place; deletion renames
//! it to `<name>.deleted` before removing it. Leftovers of either are cleared on open, so a crash
//! never leaves half a topic visible.

use super::partition::{Partition, PartitionEnv, sync_dir};
use super::shutdown::LastShutdown;
use crate::transport::{IoContext, Result, TopicConfig, TransportError};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

const META_FILE: &str = "topic.json";
/// Kafka's limit on topic name length.
const MAX_NAME_LEN: usize = 249;

pub struct Topic {
    pub name: Arc<str>,
    pub config: TopicConfig,
    dir: PathBuf,
    partitions: Vec<Mutex<Partition>>,
    deleted: AtomicBool,
}

impl Topic {
    pub fn create(
        topics_dir: &Path,
        name: &str,
        config: &TopicConfig,
        env: PartitionEnv,
        now_ms: i64,
    ) -> Result<Topic> {
        validate_name(name)?;
        validate_config(config)?;
        let dir = topics_dir.join(name);
        if dir.exists() {
            return Err(TransportError::TopicExists(name.to_string()));
        }
        let staging = topics_dir.join(format!("{name}.creating"));
        if staging.exists() {
            std::fs::remove_dir_all(&staging).at(&staging)?;
        }
        std::fs::create_dir_all(&staging).at(&staging)?;
        write_meta(&staging, config)?;
        for id in 0..config.partitions {
            Partition::create(
                &staging.join(id.to_string()),
                Arc::from(name),
                id,
                config,
                env,
                now_ms,
            )?;
        }
        sync_dir(&staging)?;
        std::fs::rename(&staging, &dir).at(&dir)?;
        sync_dir(topics_dir)?;
        // Just created and fsynced: trusted.
        Topic::open(&dir, env, &LastShutdown::Clean(None), now_ms)
    }

    /// Opens a topic; its partitions are recovered unless `shutdown` trusts them.
    pub fn open(
        dir: &Path,
        env: PartitionEnv,
        shutdown: &LastShutdown,
        now_ms: i64,
    ) -> Result<Topic> {
        let name: Arc<str> =
            Arc::from(dir.file_name().and_then(|n| n.to_str()).unwrap_or_default());
        let meta_path = dir.join(META_FILE);
        let text = std::fs::read_to_string(&meta_path).at(&meta_path)?;
        let config: TopicConfig =
            serde_json::from_str(&text).map_err(|e| TransportError::Corrupt {
                path: meta_path.clone(),
                position: 0,
                reason: e.to_string(),
            })?;
        let mut partitions = Vec::with_capacity(config.partitions as usize);
        for id in 0..config.partitions {
            let pdir = dir.join(id.to_string());
            partitions.push(Mutex::new(Partition::open(
                &pdir,
                name.clone(),
                id,
                &config,
                env,
                shutdown.trusts(&name, id),
                now_ms,
            )?));
        }
        Ok(Topic {
            name,
            config,
            dir: dir.to_path_buf(),
            partitions,
            deleted: AtomicBool::new(false),
        })
    }

    /// Removes the topic's files: renamed away first so a crash cannot leave it half deleted.
    /// Handles still holding the topic get `UnknownTopic` from then on.
    pub fn delete(&self, topics_dir: &Path) -> Result<()> {
        let doomed = topics_dir.join(format!("{}.deleted", self.name));
        self.deleted.store(true, Ordering::Release);
        std::fs::rename(&self.dir, &doomed).at(&self.dir)?;
        sync_dir(topics_dir)?;
        std::fs::remove_dir_all(&doomed).at(&doomed)
    }

    pub fn partition_count(&self) -> u32 {
        self.partitions.len() as u32
    }

    /// Locks one partition. A poisoned lock (a panic while holding it) is reported, not unwrapped.
    pub fn partition(&self, id: u32) -> Result<MutexGuard<'_, Partition>> {
        if self.deleted.load(Ordering::Acquire) {
            return Err(TransportError::UnknownTopic(self.name.to_string()));
        }
        let count = self.partition_count();
        let lock =
            self.partitions
                .get(id as usize)
                .ok_or_else(|| TransportError::UnknownPartition {
                    topic: self.name.to_string(),
                    partition: id,
                    count,
                })?;
        lock.lock().map_err(|_| TransportError::Failed {
            what: format!("{}-{id}", self.name),
            reason: "a thread panicked while writing it".into(),
        })
    }

    /// Applies `f` to every partition in turn.
    pub fn for_each_partition(
        &self,
        mut f: impl FnMut(&mut Partition) -> Result<()>,
    ) -> Result<()> {
        for id in 0..self.partition_count() {
            f(&mut *self.partition(id)?)?;
        }
        Ok(())
    }
}

/// Topic names follow Kafka's rules: 1–249 characters of `[a-zA-Z0-9._-]`, not `.` or `..`.
pub fn validate_name(name: &str) -> Result<()> {
    let invalid = |reason: &str| {
        Err(TransportError::InvalidTopicName {
            name: name.to_string(),
            reason: reason.to_string(),
        })
    };
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        return invalid("a topic name has 1 to 249 characters");
    }
    if name == "." || name == ".." {
        return invalid("'.' and '..' are not topic names");
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return invalid(&format!(
            "character '{c}' is not allowed (use letters, digits, '.', '_' and '-')"
        ));
    }
    Ok(())
}

fn validate_config(config: &TopicConfig) -> Result<()> {
    let invalid = |m: String| Err(TransportError::InvalidArgument(m));
    if config.partitions == 0 || config.partitions > 10_000 {
        return invalid(format!(
            "partitions must be between 1 and 10000, not {}",
            config.partitions
        ));
    }
    if config.segment_bytes < 1024 || config.segment_bytes > i32::MAX as u64 {
        return invalid(format!(
            "segment_bytes must be between 1024 and {}, not {}",
            i32::MAX,
            config.segment_bytes
        ));
    }
    if config.segment_ms.is_some_and(|ms| ms <= 0)
        || config.retention_ms.is_some_and(|ms| ms < 0)
        || config.delete_retention_ms < 0
    {
        return invalid("segment_ms must be positive and retention times not negative".to_string());
    }
    Ok(())
}

fn write_meta(dir: &Path, config: &TopicConfig) -> Result<()> {
    let path = dir.join(META_FILE);
    let text = serde_json::to_string_pretty(config)
        .map_err(|e| TransportError::InvalidArgument(e.to_string()))?;
    std::fs::write(&path, text).at(&path)?;
    std::fs::File::open(&path)
        .and_then(|f| f.sync_all())
        .at(&path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_kafka_rules() {
        for ok in ["orders", "a.b_c-D9", "x"] {
            assert!(validate_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", ".", "..", "a/b", "sp ace", "ünï", &"x".repeat(250)] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
    }
}
