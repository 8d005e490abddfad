//! Damage found in a partition's files, and how it is reported.
//!
//! Two kinds: a batch that fails its checks when read ([`Damage`], turned into
//! `TransportError::CorruptBatch` once the partition is known), and records that durable
//! evidence says a segment file held but no longer holds: its own offset index ([`Indexed`],
//! [`Loss`]), the next segment's base offset ([`check_adjacent`]); the checkpoint of the last
//! clean shutdown is checked in `shutdown.rs`. Recovery refuses to open a partition that lost
//! fsynced records and warns about records a crash may have lost, naming topic, partition, file
//! and the offsets gone.
//!
//! May import: `transport` and `segment`.

use super::segment::Segment;
use crate::transport::{Result, TransportError};
use std::path::{Path, PathBuf};

/// A batch a read could not get past. The records before it were returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damage {
    /// The first offset that cannot be read.
    pub offset: i64,
    pub path: PathBuf,
    /// Byte position of the damaged batch in `path`.
    pub position: u64,
    pub reason: String,
}

impl Damage {
    pub fn into_error(self, topic: &str, partition: u32) -> TransportError {
        TransportError::CorruptBatch {
            topic: topic.to_string(),
            partition,
            offset: self.offset,
            path: self.path,
            position: self.position,
            reason: self.reason,
        }
    }
}

/// Records a segment file held, by some durable evidence, and no longer holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loss {
    pub path: PathBuf,
    /// Where the file's valid batches end now.
    pub bytes_now: u64,
    /// Offsets `first..end` are gone.
    pub first: i64,
    pub end: i64,
    /// What shows they existed.
    pub evidence: String,
}

impl Loss {
    pub fn count(&self) -> i64 {
        self.end - self.first
    }

    /// `t-0: <file> lost at least offsets 12..1019 (1008 records): <evidence>; …ends at byte N`.
    pub fn describe(&self, owner: &str) -> String {
        format!(
            "{owner}: {} lost at least offsets {}..{} ({} records): {}; its valid data now ends at byte {}",
            self.path.display(),
            self.first,
            self.end - 1,
            self.count(),
            self.evidence,
            self.bytes_now
        )
    }

    /// The refusal to open a partition whose fsynced records are gone.
    pub fn into_error(self, owner: &str) -> TransportError {
        let reason = format!(
            "{}. These records were fsynced, so this is damage, not a torn write; Brook does not \
             open a log that lost acknowledged records (see docs/log.md, Damage)",
            self.describe(owner)
        );
        TransportError::Corrupt {
            path: self.path,
            position: self.bytes_now,
            reason,
        }
    }

    /// The loud warning for records recovery dropped after a crash.
    pub fn warn(&self, owner: &str) {
        tracing::warn!(
            "RECORDS LOST in recovery: {}. A power failure loses appends that were not yet fsynced \
             (see --flush); otherwise the file was damaged",
            self.describe(owner)
        );
    }
}

/// What an offset index's last entry proves about its segment: the offsets before `next_offset`
/// were written, in the bytes before `position`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Indexed {
    pub next_offset: i64,
    pub position: u64,
}

impl Indexed {
    /// The loss, if the segment's valid data (ending at `bytes_now`, offsets up to `next_offset`)
    /// stops before what the index proves was written.
    pub fn loss(&self, path: &Path, bytes_now: u64, next_offset: i64) -> Option<Loss> {
        (self.position > bytes_now && self.next_offset > next_offset).then(|| Loss {
            path: path.to_path_buf(),
            bytes_now,
            first: next_offset,
            end: self.next_offset,
            evidence: format!(
                "its offset index points at byte {} for offset {}",
                self.position, self.next_offset
            ),
        })
    }
}

/// Checks that `next` starts where `prev` ends (dense topics) or after it (compacted ones), and
/// that `prev`, a rolled segment, is not empty: rolls and compaction never leave one so.
pub fn check_adjacent(owner: &str, prev: &Segment, next: &Segment, dense: bool) -> Result<()> {
    let gap = if dense {
        prev.next_offset() != next.base_offset
    } else {
        prev.next_offset() > next.base_offset
    };
    if !gap && !prev.is_empty() {
        return Ok(());
    }
    let lost = if prev.next_offset() < next.base_offset {
        format!(
            "offsets {}..{} ({} records) are missing",
            prev.next_offset(),
            next.base_offset - 1,
            next.base_offset - prev.next_offset()
        )
    } else {
        format!("offsets overlap from {}", next.base_offset)
    };
    Err(TransportError::Corrupt {
        path: prev.log_path().to_path_buf(),
        position: prev.size(),
        reason: format!(
            "{owner}: {} ends at offset {} after {} bytes but the next segment {} starts at offset \
             {}: {lost}. Rolled segments are fsynced, so this is damage (see docs/log.md, Damage)",
            prev.log_path().display(),
            prev.next_offset(),
            prev.size(),
            next.log_path().display(),
            next.base_offset,
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_index_past_the_end_of_the_data_proves_a_loss() {
        let indexed = Indexed {
            next_offset: 1000,
            position: 40_000,
        };
        let path = Path::new("topics/t/0/00000000000000000000.log");
        let loss = indexed.loss(path, 0, 0).expect("a loss");
        assert_eq!((loss.first, loss.end, loss.count()), (0, 1000, 1000));
        let text = loss.describe("t-0");
        assert!(
            text.starts_with(
                "t-0: topics/t/0/00000000000000000000.log lost at least offsets 0..999 (1000 records)"
            ),
            "{text}"
        );
        assert!(text.contains("byte 40000"), "{text}");
        assert_eq!(indexed.loss(path, 40_000, 1000), None, "all there");
        assert_eq!(
            indexed.loss(path, 50_000, 1200),
            None,
            "grew past the index: nothing lost"
        );
    }

    #[test]
    fn refusals_and_read_errors_name_where() {
        let loss = Loss {
            path: PathBuf::from("p.log"),
            bytes_now: 7,
            first: 3,
            end: 5,
            evidence: "checkpoint".into(),
        };
        match loss.into_error("t-2") {
            TransportError::Corrupt {
                path,
                position,
                reason,
            } => {
                assert_eq!((path, position), (PathBuf::from("p.log"), 7));
                assert!(reason.contains("t-2: p.log lost at least offsets 3..4 (2 records)"));
            }
            other => panic!("{other}"),
        }
        let damage = Damage {
            offset: 200,
            path: PathBuf::from("p.log"),
            position: 9000,
            reason: "CRC mismatch".into(),
        };
        let text = damage.into_error("t", 1).to_string();
        assert_eq!(
            text,
            "damaged record batch in t-1: offsets from 200 cannot be read (p.log at byte 9000: CRC mismatch)"
        );
    }
}
