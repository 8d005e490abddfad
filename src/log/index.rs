//! Sparse indexes of a segment: offset → file position, and timestamp → offset.
//!
//! Both are derived data. Entries are appended as the segment grows (one per
//! `index_interval_bytes` of log), kept in memory for lookups, and written through a buffer.
//! On open, an index file that is missing or inconsistent is rebuilt by scanning the segment.
//!
//! File formats, big-endian: offset index entries are `relative offset u32, position u32`
//! (8 bytes); time index entries are `max timestamp so far i64, relative offset u32` (12 bytes).

use crate::transport::{IoContext, Result};
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// One offset-index entry: the batch starting at `base + relative` begins at byte `position`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OffsetEntry {
    pub relative: u32,
    pub position: u32,
}

/// One time-index entry: records up to and including `base + relative` all have timestamps at or
/// below `max_timestamp`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeEntry {
    pub max_timestamp: i64,
    pub relative: u32,
}

/// An index file: entries in memory plus a buffered appender.
pub struct IndexFile<E> {
    path: PathBuf,
    entries: Vec<E>,
    writer: BufWriter<File>,
}

/// Entry encoding shared by both index kinds.
pub trait IndexEntry: Copy {
    const SIZE: usize;
    fn encode(&self) -> Vec<u8>;
    fn decode(bytes: &[u8]) -> Self;
    /// Ordering key used to check entries are strictly increasing.
    fn order_key(&self) -> (i64, u32);
}

impl IndexEntry for OffsetEntry {
    const SIZE: usize = 8;
    fn encode(&self) -> Vec<u8> {
        [self.relative.to_be_bytes(), self.position.to_be_bytes()].concat()
    }
    fn decode(b: &[u8]) -> Self {
        OffsetEntry {
            relative: u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
            position: u32::from_be_bytes([b[4], b[5], b[6], b[7]]),
        }
    }
    fn order_key(&self) -> (i64, u32) {
        (i64::from(self.relative), self.position)
    }
}

impl IndexEntry for TimeEntry {
    const SIZE: usize = 12;
    fn encode(&self) -> Vec<u8> {
        [
            &self.max_timestamp.to_be_bytes()[..],
            &self.relative.to_be_bytes()[..],
        ]
        .concat()
    }
    fn decode(b: &[u8]) -> Self {
        let mut ts = [0u8; 8];
        ts.copy_from_slice(&b[..8]);
        TimeEntry {
            max_timestamp: i64::from_be_bytes(ts),
            relative: u32::from_be_bytes([b[8], b[9], b[10], b[11]]),
        }
    }
    fn order_key(&self) -> (i64, u32) {
        (self.max_timestamp, self.relative)
    }
}

impl<E: IndexEntry> IndexFile<E> {
    /// Loads an existing index; `None` if it is missing or not a valid, strictly increasing list.
    pub fn load(path: &Path) -> Result<Option<Self>> {
        let mut bytes = Vec::new();
        match File::open(path) {
            Ok(mut f) => f.read_to_end(&mut bytes).at(path)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(crate::transport::TransportError::io(path, e)),
        };
        if bytes.len() % E::SIZE != 0 {
            return Ok(None);
        }
        let entries: Vec<E> = bytes.chunks_exact(E::SIZE).map(E::decode).collect();
        let increasing = entries.windows(2).all(|w| {
            let (a, b) = (w[0].order_key(), w[1].order_key());
            a.0 <= b.0 && a.1 < b.1 || a.0 < b.0 && a.1 <= b.1
        });
        if !increasing {
            return Ok(None);
        }
        let file = OpenOptions::new().append(true).open(path).at(path)?;
        Ok(Some(IndexFile {
            path: path.to_path_buf(),
            entries,
            writer: BufWriter::new(file),
        }))
    }

    /// Creates (or truncates) an index file holding `entries`.
    pub fn create(path: &Path, entries: Vec<E>) -> Result<Self> {
        let file = File::create(path).at(path)?;
        let mut writer = BufWriter::new(file);
        for e in &entries {
            writer.write_all(&e.encode()).at(path)?;
        }
        Ok(IndexFile {
            path: path.to_path_buf(),
            entries,
            writer,
        })
    }

    pub fn entries(&self) -> &[E] {
        &self.entries
    }

    pub fn last(&self) -> Option<E> {
        self.entries.last().copied()
    }

    pub fn push(&mut self, entry: E) -> Result<()> {
        self.writer.write_all(&entry.encode()).at(&self.path)?;
        self.entries.push(entry);
        Ok(())
    }

    /// Writes buffered entries to the OS; `sync` also fsyncs them.
    pub fn flush(&mut self, sync: bool) -> Result<()> {
        self.writer.flush().at(&self.path)?;
        if sync {
            self.writer.get_ref().sync_data().at(&self.path)?;
        }
        Ok(())
    }
}

impl IndexFile<OffsetEntry> {
    /// The last entry at or before `relative`, or the segment start.
    pub fn floor(&self, relative: u32) -> OffsetEntry {
        let i = self.entries.partition_point(|e| e.relative <= relative);
        if i == 0 {
            OffsetEntry {
                relative: 0,
                position: 0,
            }
        } else {
            self.entries[i - 1]
        }
    }
}

impl IndexFile<TimeEntry> {
    /// The last entry whose records are all strictly before `timestamp`; reading can start after it.
    pub fn last_before(&self, timestamp: i64) -> Option<TimeEntry> {
        let i = self
            .entries
            .partition_point(|e| e.max_timestamp < timestamp);
        if i == 0 {
            None
        } else {
            Some(self.entries[i - 1])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_index_round_trips_and_finds_floor() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("0.index");
        let mut idx = IndexFile::<OffsetEntry>::create(&path, vec![]).expect("create");
        idx.push(OffsetEntry {
            relative: 10,
            position: 4096,
        })
        .expect("push");
        idx.push(OffsetEntry {
            relative: 25,
            position: 8200,
        })
        .expect("push");
        idx.flush(false).expect("flush");
        let idx = IndexFile::<OffsetEntry>::load(&path)
            .expect("load")
            .expect("valid");
        assert_eq!(
            idx.floor(5),
            OffsetEntry {
                relative: 0,
                position: 0
            }
        );
        assert_eq!(idx.floor(10).position, 4096);
        assert_eq!(idx.floor(24).position, 4096);
        assert_eq!(idx.floor(99).position, 8200);
    }

    #[test]
    fn inconsistent_index_files_are_rejected() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("0.index");
        std::fs::write(&path, [0u8; 7]).expect("write");
        assert!(
            IndexFile::<OffsetEntry>::load(&path)
                .expect("load")
                .is_none(),
            "partial entry"
        );
        let backwards = [
            OffsetEntry {
                relative: 5,
                position: 100,
            },
            OffsetEntry {
                relative: 3,
                position: 200,
            },
        ];
        std::fs::write(
            &path,
            backwards
                .iter()
                .flat_map(|e| e.encode())
                .collect::<Vec<_>>(),
        )
        .expect("write");
        assert!(
            IndexFile::<OffsetEntry>::load(&path)
                .expect("load")
                .is_none(),
            "decreasing"
        );
        assert!(
            IndexFile::<OffsetEntry>::load(&dir.path().join("missing"))
                .expect("load")
                .is_none()
        );
    }

    #[test]
    fn time_index_finds_where_to_start_reading() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut idx = IndexFile::<TimeEntry>::create(&dir.path().join("0.timeindex"), vec![])
            .expect("create");
        idx.push(TimeEntry {
            max_timestamp: 100,
            relative: 9,
        })
        .expect("push");
        idx.push(TimeEntry {
            max_timestamp: 200,
            relative: 19,
        })
        .expect("push");
        assert_eq!(idx.last_before(50), None);
        assert_eq!(idx.last_before(150).map(|e| e.relative), Some(9));
        assert_eq!(idx.last_before(200).map(|e| e.relative), Some(9));
        assert_eq!(idx.last_before(201).map(|e| e.relative), Some(19));
    }
}
