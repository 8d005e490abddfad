//! Committed consumer-group offsets: `groups/<hex of group name>.json` per group, each holding
//! `{topic: {partition: next offset}}`. A commit outside a transaction rewrites the group's file
//! atomically (write, fsync, rename, fsync the directory), so a crash keeps the old or the new
//! offsets. Offsets committed by a transaction are durable in its redo frame; they are applied
//! here in memory (`apply`) and written to the files by the redo log's checkpoint
//! (`persist_dirty`).

use super::partition::sync_dir;
use crate::transport::{IoContext, Result, TopicPartition, TransportError};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

type Offsets = BTreeMap<String, BTreeMap<u32, i64>>;

#[derive(Serialize, Deserialize)]
struct GroupFile {
    group: String,
    offsets: Offsets,
}

pub struct GroupStore {
    dir: PathBuf,
    groups: HashMap<String, Offsets>,
    /// Groups whose offsets in memory are newer than their file (applied from redo frames).
    dirty: HashSet<String>,
}

impl GroupStore {
    pub fn open(dir: &Path) -> Result<GroupStore> {
        std::fs::create_dir_all(dir).at(dir)?;
        let mut groups = HashMap::new();
        for entry in std::fs::read_dir(dir).at(dir)? {
            let path = entry.at(dir)?.path();
            if path.extension().is_some_and(|e| e == "tmp") {
                std::fs::remove_file(&path).at(&path)?;
                continue;
            }
            let text = std::fs::read_to_string(&path).at(&path)?;
            let file: GroupFile =
                serde_json::from_str(&text).map_err(|e| TransportError::Corrupt {
                    path: path.clone(),
                    position: 0,
                    reason: e.to_string(),
                })?;
            groups.insert(file.group, file.offsets);
        }
        Ok(GroupStore {
            dir: dir.to_path_buf(),
            groups,
            dirty: HashSet::new(),
        })
    }

    /// Commits offsets and writes the group's file. The caller checkpoints the redo log first,
    /// so that no older redo frame can override these offsets on recovery.
    pub fn commit(&mut self, group: &str, offsets: &[(TopicPartition, i64)]) -> Result<()> {
        let updated = self.updated(group, offsets)?;
        self.persist(group, &updated)?;
        self.groups.insert(group.to_string(), updated);
        self.dirty.remove(group);
        Ok(())
    }

    /// Applies offsets of a committed transaction in memory; its redo frame holds them until
    /// `persist_dirty` writes them.
    pub fn apply(&mut self, group: &str, offsets: &[(TopicPartition, i64)]) -> Result<()> {
        let updated = self.updated(group, offsets)?;
        self.groups.insert(group.to_string(), updated);
        self.dirty.insert(group.to_string());
        Ok(())
    }

    /// Writes the file of every group changed by `apply` since the last call.
    pub fn persist_dirty(&mut self) -> Result<()> {
        let mut dirty: Vec<String> = self.dirty.iter().cloned().collect();
        dirty.sort();
        for group in dirty {
            if let Some(offsets) = self.groups.get(&group) {
                self.persist(&group, offsets)?;
            }
            self.dirty.remove(&group);
        }
        Ok(())
    }

    fn updated(&self, group: &str, offsets: &[(TopicPartition, i64)]) -> Result<Offsets> {
        if group.is_empty() {
            return Err(TransportError::InvalidArgument(
                "a consumer group needs a non-empty name".into(),
            ));
        }
        let mut updated = self.groups.get(group).cloned().unwrap_or_default();
        for (tp, offset) in offsets {
            updated
                .entry(tp.topic.clone())
                .or_default()
                .insert(tp.partition, *offset);
        }
        Ok(updated)
    }

    pub fn committed(&self, group: &str, topic: &str) -> Vec<(u32, i64)> {
        self.groups
            .get(group)
            .and_then(|g| g.get(topic))
            .map(|p| p.iter().map(|(k, v)| (*k, *v)).collect())
            .unwrap_or_default()
    }

    /// The names of the groups with committed offsets, sorted.
    pub fn list(&self) -> Vec<String> {
        let mut names: Vec<String> = self.groups.keys().cloned().collect();
        names.sort();
        names
    }

    /// Forgets a group and removes its file (after a checkpoint, as for `commit`).
    pub fn delete(&mut self, group: &str) -> Result<()> {
        if self.groups.remove(group).is_none() {
            return Ok(());
        }
        self.dirty.remove(group);
        let path = self.file_path(group, "json");
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e).at(&path),
            _ => {}
        }
        sync_dir(&self.dir)
    }

    fn file_path(&self, group: &str, extension: &str) -> PathBuf {
        let name: String = group.bytes().map(|b| format!("{b:02x}")).collect();
        self.dir.join(format!("{name}.{extension}"))
    }

    /// Forgets every group's offsets for a deleted topic (after a checkpoint, as for `commit`).
    pub fn forget_topic(&mut self, topic: &str) -> Result<()> {
        let affected: Vec<String> = self
            .groups
            .iter()
            .filter(|(_, o)| o.contains_key(topic))
            .map(|(g, _)| g.clone())
            .collect();
        for group in affected {
            let mut updated = self.groups[&group].clone();
            updated.remove(topic);
            self.persist(&group, &updated)?;
            self.dirty.remove(&group);
            self.groups.insert(group, updated);
        }
        Ok(())
    }

    fn persist(&self, group: &str, offsets: &Offsets) -> Result<()> {
        let path = self.file_path(group, "json");
        let tmp = self.file_path(group, "tmp");
        let file = GroupFile {
            group: group.to_string(),
            offsets: offsets.clone(),
        };
        let text = serde_json::to_vec(&file)
            .map_err(|e| TransportError::InvalidArgument(e.to_string()))?;
        std::fs::write(&tmp, text).at(&tmp)?;
        std::fs::File::open(&tmp)
            .and_then(|f| f.sync_all())
            .at(&tmp)?;
        std::fs::rename(&tmp, &path).at(&path)?;
        sync_dir(&self.dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_survive_reopen_and_topic_deletion_clears_them() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = GroupStore::open(dir.path()).expect("open");
        store
            .commit(
                "app/1",
                &[
                    (TopicPartition::new("t", 0), 5),
                    (TopicPartition::new("t", 2), 9),
                ],
            )
            .expect("commit");
        store
            .commit("app/1", &[(TopicPartition::new("t", 0), 7)])
            .expect("commit");
        store
            .commit("other", &[(TopicPartition::new("u", 0), 1)])
            .expect("commit");
        let mut store = GroupStore::open(dir.path()).expect("reopen");
        assert_eq!(store.committed("app/1", "t"), vec![(0, 7), (2, 9)]);
        assert_eq!(store.committed("app/1", "u"), vec![]);
        store.forget_topic("t").expect("forget");
        let store = GroupStore::open(dir.path()).expect("reopen");
        assert_eq!(store.committed("app/1", "t"), vec![]);
        assert_eq!(store.committed("other", "u"), vec![(0, 1)]);
    }

    #[test]
    fn a_deleted_group_is_gone_after_reopen_and_others_stay() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = GroupStore::open(dir.path()).expect("open");
        let offsets = [(TopicPartition::new("t", 0), 5)];
        store.commit("gone", &offsets).expect("commit");
        store.commit("kept", &offsets).expect("commit");
        assert_eq!(store.list(), vec!["gone".to_string(), "kept".to_string()]);
        store.delete("gone").expect("delete");
        store
            .delete("never-there")
            .expect("deleting an unknown group");
        let store = GroupStore::open(dir.path()).expect("reopen");
        assert_eq!(store.list(), vec!["kept".to_string()]);
        assert_eq!(store.committed("gone", "t"), vec![]);
        assert_eq!(store.committed("kept", "t"), vec![(0, 5)]);
    }
}
