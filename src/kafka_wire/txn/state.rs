//! Each transactional id's state, as Kafka's transaction coordinator keeps it, and its durable
//! copy: `<data-dir>/kafka/transactions.json`, rewritten (temporary file, fsync, rename) before
//! a change is acknowledged, so that after a crash every transaction the partitions may hold
//! is known: an ongoing one times out and is aborted, a prepared one is completed.
//!
//! May import what `kafka_wire` does.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TxnState {
    Empty,
    Ongoing,
    PrepareCommit,
    PrepareAbort,
    CompleteCommit,
    CompleteAbort,
}

/// One transactional id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxnEntry {
    pub producer_id: i64,
    pub epoch: i16,
    pub timeout_ms: i64,
    pub state: TxnState,
    /// Partitions the ongoing transaction wrote to (or may write to).
    pub partitions: BTreeSet<(String, u32)>,
    /// Offsets to commit with the transaction: group -> (topic, partition, offset).
    pub offsets: BTreeMap<String, Vec<(String, u32, i64)>>,
    /// Wall-clock ms when the transaction became ongoing (its timeout counts from there).
    pub started_ms: i64,
}

/// Every transactional id, persisted as one file.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct TxnTable {
    pub entries: BTreeMap<String, TxnEntry>,
    #[serde(skip)]
    path: PathBuf,
}

impl TxnTable {
    /// Reads the table; a damaged file is an error that says what to do.
    pub fn open(kafka_dir: &Path) -> std::io::Result<TxnTable> {
        let path = kafka_dir.join("transactions.json");
        let mut table = match std::fs::read(&path) {
            Ok(text) => serde_json::from_slice::<TxnTable>(&text).map_err(|e| {
                std::io::Error::other(format!(
                    "{} is damaged ({e}); moving it away starts Brook without the Kafka \
                     transactions it knew (their open transactions are then aborted)",
                    path.display()
                ))
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => TxnTable::default(),
            Err(e) => return Err(e),
        };
        table.path = path;
        Ok(table)
    }

    /// Writes the table durably.
    pub fn save(&self) -> std::io::Result<()> {
        let text = serde_json::to_vec(self).map_err(std::io::Error::other)?;
        let temp = self.path.with_extension("json.tmp");
        std::fs::write(&temp, text)?;
        std::fs::File::open(&temp)?.sync_all()?;
        std::fs::rename(&temp, &self.path)?;
        if let Some(dir) = self.path.parent() {
            std::fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    }

    /// The transactional id holding `producer_id`.
    pub fn by_producer(&self, producer_id: i64) -> Option<(&String, &TxnEntry)> {
        self.entries
            .iter()
            .find(|(_, e)| e.producer_id == producer_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_survives_a_reopen_and_a_damaged_one_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut table = TxnTable::open(dir.path()).expect("open");
        table.entries.insert(
            "tx".into(),
            TxnEntry {
                producer_id: 3,
                epoch: 1,
                timeout_ms: 60_000,
                state: TxnState::Ongoing,
                partitions: [("t".to_string(), 0)].into(),
                offsets: [("g".to_string(), vec![("t".to_string(), 0, 7)])].into(),
                started_ms: 5,
            },
        );
        table.save().expect("save");
        let reopened = TxnTable::open(dir.path()).expect("reopen");
        assert_eq!(reopened.entries, table.entries);
        assert_eq!(
            reopened.by_producer(3).map(|(id, _)| id.as_str()),
            Some("tx")
        );
        std::fs::write(dir.path().join("transactions.json"), b"{").expect("damage");
        let err = TxnTable::open(dir.path()).expect_err("refused");
        assert!(err.to_string().contains("is damaged"), "{err}");
    }
}
