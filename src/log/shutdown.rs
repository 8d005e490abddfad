//! The clean-shutdown marker (`clean-shutdown` in the data directory) and the checkpoint in it.
//!
//! A clean close, once every partition is fsynced, writes each partition's segments (base offset,
//! next offset, size in bytes) to the marker as JSON (through a temporary file, fsynced and
//! renamed). Opening reads and removes it. The partitions it lists are trusted (not scanned), so
//! their files must be exactly as recorded: a missing or resized segment file, or a missing topic
//! or partition, is damage to fsynced data and the open fails saying what is gone. A partition
//! missing from the checkpoint (it had failed) is recovered as after a crash. An empty marker,
//! written by older versions, trusts every partition without these checks; no marker (or an
//! unreadable one) means a crash: recover.
//!
//! May import: `transport` and its siblings in `log`.

use super::partition::{Partition, sync_dir};
use super::segment::segment_paths;
use crate::transport::{IoContext, Result, TransportError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

const MARKER: &str = "clean-shutdown";
const MARKER_TMP: &str = "clean-shutdown.tmp";
const VERSION: u32 = 1;

/// What a clean close recorded: per topic, per partition, its segments.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Checkpoint {
    version: u32,
    topics: BTreeMap<String, BTreeMap<u32, Vec<SegmentMark>>>,
}

/// One segment file at the clean close.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct SegmentMark {
    base_offset: i64,
    next_offset: i64,
    bytes: u64,
}

/// How the log was last closed.
#[derive(Debug)]
pub enum LastShutdown {
    /// No (readable) marker: recover the last segment of every partition.
    Crashed,
    /// A clean close; `None` for an empty marker of an older version, which trusts everything.
    Clean(Option<Checkpoint>),
}

impl LastShutdown {
    /// Reads the marker in `root` (and removes a temporary one left by a crash while writing it).
    pub fn read(root: &Path) -> Result<LastShutdown> {
        let tmp = root.join(MARKER_TMP);
        if tmp.exists() {
            std::fs::remove_file(&tmp).at(&tmp)?;
        }
        let path = root.join(MARKER);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(LastShutdown::Crashed),
            Err(e) => return Err(TransportError::io(path, e)),
        };
        if text.trim().is_empty() {
            return Ok(LastShutdown::Clean(None));
        }
        match serde_json::from_str::<Checkpoint>(&text) {
            Ok(checkpoint) if checkpoint.version == VERSION => {
                Ok(LastShutdown::Clean(Some(checkpoint)))
            }
            Ok(checkpoint) => {
                tracing::warn!(
                    "{}: unknown checkpoint version {}; recovering as after a crash",
                    path.display(),
                    checkpoint.version
                );
                Ok(LastShutdown::Crashed)
            }
            Err(e) => {
                tracing::warn!(
                    "{}: unreadable ({e}); recovering as after a crash",
                    path.display()
                );
                Ok(LastShutdown::Crashed)
            }
        }
    }

    pub fn is_clean(&self) -> bool {
        matches!(self, LastShutdown::Clean(_))
    }

    /// Whether partition `partition` of `topic` was closed cleanly, its files fsynced.
    pub fn trusts(&self, topic: &str, partition: u32) -> bool {
        match self {
            LastShutdown::Crashed => false,
            LastShutdown::Clean(None) => true,
            LastShutdown::Clean(Some(c)) => c
                .topics
                .get(topic)
                .is_some_and(|p| p.contains_key(&partition)),
        }
    }

    /// Fails when a file the checkpoint lists is missing or changed size (see the module doc).
    pub fn check(&self, topics_dir: &Path) -> Result<()> {
        let LastShutdown::Clean(Some(checkpoint)) = self else {
            return Ok(());
        };
        let problems = checkpoint.problems(topics_dir)?;
        let Some((path, position, _)) = problems.first() else {
            return Ok(());
        };
        let listed: Vec<&str> = problems.iter().map(|(_, _, p)| p.as_str()).collect();
        Err(TransportError::Corrupt {
            path: path.clone(),
            position: *position,
            reason: format!(
                "{}. Files fsynced at the last clean shutdown changed, so acknowledged records are \
                 gone; Brook does not open a log that lost them (see docs/log.md, Damage)",
                listed.join("; ")
            ),
        })
    }

    /// Removes the marker: the log is open, so a crash from now on must be recovered.
    pub fn remove(root: &Path) -> Result<()> {
        let path = root.join(MARKER);
        match std::fs::remove_file(&path) {
            Ok(()) => sync_dir(root),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(TransportError::io(path, e)),
        }
    }
}

impl Checkpoint {
    pub fn new() -> Checkpoint {
        Checkpoint {
            version: VERSION,
            topics: BTreeMap::new(),
        }
    }

    /// Records a partition just closed (fsynced). A failed one is left out: it is recovered.
    pub fn record(&mut self, partition: &Partition) {
        if partition.is_failed() {
            return;
        }
        let marks = partition
            .segments
            .iter()
            .map(|s| SegmentMark {
                base_offset: s.base_offset,
                next_offset: s.next_offset(),
                bytes: s.size(),
            })
            .collect();
        self.topics
            .entry(partition.topic.to_string())
            .or_default()
            .insert(partition.id, marks);
    }

    /// Writes the marker atomically: temporary file, fsync, rename, fsync the directory.
    pub fn write(&self, root: &Path) -> Result<()> {
        let tmp = root.join(MARKER_TMP);
        let text = serde_json::to_vec(self)
            .map_err(|e| TransportError::InvalidArgument(format!("shutdown checkpoint: {e}")))?;
        std::fs::write(&tmp, text).at(&tmp)?;
        std::fs::File::open(&tmp)
            .and_then(|f| f.sync_all())
            .at(&tmp)?;
        let path = root.join(MARKER);
        std::fs::rename(&tmp, &path).at(&path)?;
        sync_dir(root)
    }

    /// Each listed file that is missing or resized: its path, its size now, and what is gone.
    fn problems(&self, topics_dir: &Path) -> Result<Vec<(std::path::PathBuf, u64, String)>> {
        let mut problems = Vec::new();
        for (topic, partitions) in &self.topics {
            for (id, segments) in partitions {
                let dir = topics_dir.join(topic).join(id.to_string());
                for mark in segments {
                    let [path, _, _] = segment_paths(&dir, mark.base_offset);
                    let bytes = match std::fs::metadata(&path) {
                        Ok(m) => Some(m.len()),
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                        Err(e) => return Err(TransportError::io(path, e)),
                    };
                    if bytes != Some(mark.bytes) {
                        let problem = mark.describe(&format!("{topic}-{id}"), &path, bytes);
                        problems.push((path, bytes.unwrap_or(0), problem));
                    }
                }
            }
        }
        Ok(problems)
    }
}

impl SegmentMark {
    fn describe(&self, owner: &str, path: &Path, bytes_now: Option<u64>) -> String {
        let held = if self.next_offset > self.base_offset {
            format!(
                "offsets {}..{} ({} records)",
                self.base_offset,
                self.next_offset - 1,
                self.next_offset - self.base_offset
            )
        } else {
            "no records".to_string()
        };
        let now = match bytes_now {
            None => "is missing".to_string(),
            Some(0) => "has 0 bytes".to_string(),
            Some(n) => format!("has {n} bytes"),
        };
        let gone = match bytes_now {
            None | Some(0) => "all of them are gone",
            Some(n) if n < self.bytes => "those past its valid data are gone",
            Some(_) => "it has grown since: it was written to while closed",
        };
        format!(
            "{owner}: {} {now} but held {held} in {} bytes at the last clean shutdown: {gone}",
            path.display(),
            self.bytes
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mark(base: i64, next: i64, bytes: u64) -> SegmentMark {
        SegmentMark {
            base_offset: base,
            next_offset: next,
            bytes,
        }
    }

    #[test]
    fn a_missing_marker_is_a_crash_and_an_empty_one_trusts_everything() {
        let dir = tempfile::tempdir().expect("tempdir");
        let crashed = LastShutdown::read(dir.path()).expect("read");
        assert!(!crashed.is_clean() && !crashed.trusts("t", 0));
        std::fs::write(dir.path().join(MARKER), "").expect("write");
        let legacy = LastShutdown::read(dir.path()).expect("read");
        assert!(legacy.is_clean() && legacy.trusts("t", 0));
        legacy.check(dir.path()).expect("nothing to check");
        std::fs::write(dir.path().join(MARKER), "{not json").expect("write");
        assert!(!LastShutdown::read(dir.path()).expect("read").is_clean());
    }

    #[test]
    fn a_resized_or_missing_segment_fails_the_check_naming_the_offsets() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pdir = dir.path().join("t").join("0");
        std::fs::create_dir_all(&pdir).expect("mkdir");
        let [first, _, _] = segment_paths(&pdir, 0);
        let [second, _, _] = segment_paths(&pdir, 1020);
        std::fs::write(&first, vec![0u8; 500]).expect("write");
        std::fs::write(&second, vec![0u8; 0]).expect("write");
        let mut checkpoint = Checkpoint::new();
        checkpoint
            .topics
            .entry("t".into())
            .or_default()
            .insert(0, vec![mark(0, 1020, 500), mark(1020, 1030, 900)]);
        checkpoint.write(dir.path()).expect("write marker");
        let shutdown = LastShutdown::read(dir.path()).expect("read");
        assert!(shutdown.trusts("t", 0) && !shutdown.trusts("t", 1));
        let error = shutdown.check(dir.path()).expect_err("a truncated segment");
        let text = error.to_string();
        assert!(
            text.contains("t-0: ") && text.contains("00000000000000001020.log has 0 bytes but held offsets 1020..1029 (10 records) in 900 bytes"),
            "{text}"
        );
        assert!(!text.contains("00000000000000000000.log"), "intact: {text}");
        std::fs::remove_file(&first).expect("rm");
        let text = shutdown.check(dir.path()).expect_err("missing").to_string();
        assert!(
            text.contains(
                "00000000000000000000.log is missing but held offsets 0..1019 (1020 records)"
            ),
            "{text}"
        );
    }
}
