//! `StateDir`: one RocksDB database per query directory, its stores, flush and checkpoint.

use super::checkpoint::Checkpoint;
use super::error::{Result, StateError};
use super::store::{Db, Shared, Store, StoreState};
use rocksdb::{ColumnFamilyDescriptor, DBCompressionType, Options, WriteBatch};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Marker of the on-disk format, in the default column family; bump it when layouts change.
pub const FORMAT: &str = "brook-state-v1";
const FORMAT_KEY: &[u8] = b"brook.format";
const CHECKPOINT_KEY: &[u8] = b"brook.checkpoint";
/// RocksDB's own column family, which holds the marker and the checkpoint, never a store.
const DEFAULT_CF: &str = "default";

/// The state of one query: a RocksDB database whose column families are its stores.
///
/// Writes through [`Store`] handles stay in memory until [`StateDir::flush`]; dropping the
/// `StateDir` (or a crash) without a flush loses them, which the changelog replay makes good.
pub struct StateDir {
    shared: Arc<Shared>,
    stores: BTreeMap<String, Arc<StoreState>>,
}

impl StateDir {
    /// Opens the state directory at `path`, creating it if missing. A directory that is corrupt,
    /// from another format or not a state directory at all is an error naming the path; deleting
    /// it ([`StateDir::delete`]) is always safe.
    pub fn open(path: impl AsRef<Path>) -> Result<StateDir> {
        let path = path.as_ref().to_path_buf();
        std::fs::create_dir_all(&path).map_err(|source| io(&path, source))?;
        let existing = path.join("CURRENT").exists();
        if !existing && !is_empty_dir(&path)? {
            return Err(StateError::Incompatible {
                path,
                found: "files that are not a RocksDB database".into(),
                expected: format!("state format '{FORMAT}'"),
            });
        }
        let names = if existing {
            Db::list_cf(&options(), &path).map_err(|e| db_err(&path, "listing stores", e))?
        } else {
            vec![DEFAULT_CF.to_string()]
        };
        let descriptors = names
            .iter()
            .map(|name| ColumnFamilyDescriptor::new(name, options()));
        let db = Db::open_cf_descriptors(&options(), &path, descriptors)
            .map_err(|e| db_err(&path, "opening the database", e))?;
        let shared = Shared { db, path };
        check_format(&shared)?;
        let stores = names
            .iter()
            .filter(|name| *name != DEFAULT_CF)
            .map(|name| (name.clone(), Arc::new(StoreState::new(name))))
            .collect();
        let shared = Arc::new(shared);
        Ok(StateDir { shared, stores })
    }

    /// Deletes the state directory at `path` and everything in it; a missing one is fine. The
    /// caller then rebuilds the state by replaying its changelogs from the start.
    pub fn delete(path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        match std::fs::remove_dir_all(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io(path, e)),
            _ => Ok(()),
        }
    }

    /// The directory's path.
    pub fn path(&self) -> &Path {
        &self.shared.path
    }

    /// The store `name`, created (as an empty column family) on first use.
    pub fn store(&mut self, name: &str) -> Result<Store> {
        if let Some(state) = self.stores.get(name) {
            return Ok(Store::new(self.shared.clone(), state.clone()));
        }
        check_store_name(name)?;
        let created = self.shared.db.create_cf(name, &options());
        created.map_err(self.shared.db_error("creating a store"))?;
        let state = Arc::new(StoreState::new(name));
        self.stores.insert(name.to_string(), state.clone());
        Ok(Store::new(self.shared.clone(), state))
    }

    /// Names of the stores the directory holds, in order.
    pub fn store_names(&self) -> Vec<String> {
        self.stores.keys().cloned().collect()
    }

    /// Writes every store's uncommitted writes and `checkpoint` in one atomic RocksDB batch,
    /// then empties the caches. On error nothing was written and the caches are kept.
    pub fn flush(&mut self, checkpoint: &Checkpoint) -> Result<()> {
        let mut caches = Vec::with_capacity(self.stores.len());
        let mut batch = WriteBatch::default();
        for state in self.stores.values() {
            let cf = self.shared.cf(&state.name)?;
            let cache = state.cache();
            for (key, value) in cache.iter() {
                match value {
                    Some(value) => batch.put_cf(&cf, key, value),
                    None => batch.delete_cf(&cf, key),
                }
            }
            caches.push(cache);
        }
        batch.put(CHECKPOINT_KEY, checkpoint.to_bytes());
        let written = self.shared.db.write(batch);
        written.map_err(self.shared.db_error("writing a flush batch"))?;
        caches.iter_mut().for_each(|cache| cache.clear());
        Ok(())
    }

    /// The checkpoint of the last successful flush; `None` before the first one.
    pub fn checkpoint(&self) -> Result<Option<Checkpoint>> {
        let read = self.shared.db.get(CHECKPOINT_KEY);
        let Some(bytes) = read.map_err(self.shared.db_error("reading the checkpoint"))? else {
            return Ok(None);
        };
        let checkpoint =
            Checkpoint::from_bytes(&bytes).map_err(|reason| StateError::Malformed {
                path: self.shared.path.clone(),
                what: "checkpoint",
                reason,
            })?;
        Ok(Some(checkpoint))
    }

    /// Drops every store's uncommitted writes (the transaction they belonged to aborted).
    pub fn discard(&mut self) {
        for state in self.stores.values() {
            state.cache().clear();
        }
    }

    /// Drops the column family under store `name` behind its handles' backs, so that the next
    /// flush fails part-way through building its batch.
    #[cfg(test)]
    pub(crate) fn break_store(&self, name: &str) {
        let dropped = self.shared.db.drop_cf(name);
        assert!(dropped.is_ok(), "{dropped:?}");
    }

    /// How many uncommitted writes all stores hold together.
    pub fn dirty_len(&self) -> usize {
        self.stores.values().map(|state| state.cache().len()).sum()
    }
}

impl std::fmt::Debug for StateDir {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateDir")
            .field("path", &self.shared.path)
            .field("stores", &self.store_names())
            .finish()
    }
}

/// RocksDB options of the database and of every column family.
fn options() -> Options {
    let mut options = Options::default();
    options.create_if_missing(true);
    options.create_missing_column_families(true);
    options.set_compression_type(DBCompressionType::Lz4);
    options.set_keep_log_file_num(2);
    options
}

/// A new database gets the format marker; an existing one must carry this version's marker.
/// A database without marker and without data (a crash right after creating it) counts as new.
fn check_format(shared: &Shared) -> Result<()> {
    let read = shared.db.get(FORMAT_KEY);
    match read.map_err(shared.db_error("reading the format marker"))? {
        Some(found) if found == FORMAT.as_bytes() => Ok(()),
        Some(found) => {
            let found = format!("state format '{}'", String::from_utf8_lossy(&found));
            Err(incompatible(shared, found))
        }
        None if is_blank(shared)? => {
            let written = shared.db.put(FORMAT_KEY, FORMAT);
            written.map_err(shared.db_error("writing the format marker"))
        }
        None => Err(incompatible(
            shared,
            "a RocksDB database without Brook's format marker".into(),
        )),
    }
}

/// True when the database has no store and nothing in the default column family.
fn is_blank(shared: &Shared) -> Result<bool> {
    let names = Db::list_cf(&options(), &shared.path);
    let names = names.map_err(shared.db_error("listing stores"))?;
    let first = shared.db.iterator(rocksdb::IteratorMode::Start).next();
    Ok(names.iter().all(|name| name == DEFAULT_CF) && first.is_none())
}

fn incompatible(shared: &Shared, found: String) -> StateError {
    StateError::Incompatible {
        path: shared.path.clone(),
        found,
        expected: format!("state format '{FORMAT}'"),
    }
}

fn check_store_name(name: &str) -> Result<()> {
    let reason = if name.is_empty() {
        "it is empty"
    } else if name == DEFAULT_CF {
        "'default' is reserved for the directory's own records"
    } else {
        return Ok(());
    };
    Err(StateError::InvalidStoreName {
        name: name.to_string(),
        reason,
    })
}

fn is_empty_dir(path: &Path) -> Result<bool> {
    let mut entries = std::fs::read_dir(path).map_err(|source| io(path, source))?;
    Ok(entries.next().is_none())
}

fn io(path: &Path, source: std::io::Error) -> StateError {
    StateError::Io {
        path: PathBuf::from(path),
        source,
    }
}

fn db_err(path: &Path, action: &'static str, err: rocksdb::Error) -> StateError {
    StateError::from_db(path, action, err)
}
