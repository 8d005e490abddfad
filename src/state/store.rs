//! `Store`: one named key-value store (a RocksDB column family) behind its write cache.

use super::cache::{self, Cache, Entry};
use super::error::{Result, StateError};
use super::keys::prefix_end;
use rocksdb::{BoundColumnFamily, Direction, IteratorMode, MultiThreaded, ReadOptions};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

/// The RocksDB handle type: column families can be created through a shared reference.
pub(crate) type Db = rocksdb::DBWithThreadMode<MultiThreaded>;

/// What every store of one directory shares.
pub(crate) struct Shared {
    pub db: Db,
    pub path: PathBuf,
}

impl Shared {
    /// The column family of store `name`.
    pub fn cf(&self, name: &str) -> Result<Arc<BoundColumnFamily<'_>>> {
        self.db.cf_handle(name).ok_or_else(|| StateError::Db {
            path: self.path.clone(),
            action: "finding a store's column family",
            reason: format!("column family '{name}' is missing"),
        })
    }

    pub fn db_error(&self, action: &'static str) -> impl Fn(rocksdb::Error) -> StateError + '_ {
        move |err| StateError::from_db(&self.path, action, err)
    }
}

/// One store's name and uncommitted writes, shared by its handles and its `StateDir`.
pub(crate) struct StoreState {
    pub name: String,
    cache: Mutex<Cache>,
}

impl StoreState {
    pub fn new(name: &str) -> Self {
        StoreState {
            name: name.to_string(),
            cache: Mutex::new(Cache::new()),
        }
    }

    /// The cache; a panic in another holder leaves it usable (each write is one map operation).
    pub fn cache(&self) -> MutexGuard<'_, Cache> {
        self.cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A handle on one store of a [`super::StateDir`]: byte keys to byte values, ordered by key.
///
/// Writes stay in memory until [`super::StateDir::flush`] writes them, with every other store's
/// and the checkpoint, in one atomic RocksDB batch; reads see them at once. Handles are cheap to
/// clone and share one cache.
#[derive(Clone)]
pub struct Store {
    shared: Arc<Shared>,
    state: Arc<StoreState>,
}

impl Store {
    pub(crate) fn new(shared: Arc<Shared>, state: Arc<StoreState>) -> Self {
        Store { shared, state }
    }

    /// The store's name (its column family).
    pub fn name(&self) -> &str {
        &self.state.name
    }

    /// The directory the store lives in.
    pub fn path(&self) -> &std::path::Path {
        &self.shared.path
    }

    /// The value of `key`, uncommitted writes included.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        if let Some(cached) = self.state.cache().get(key) {
            return Ok(cached.clone());
        }
        let cf = self.shared.cf(&self.state.name)?;
        let read = self.shared.db.get_cf(&cf, key);
        read.map_err(self.shared.db_error("reading a key"))
    }

    /// Sets `key` to `value` (in the cache until the next flush).
    pub fn put(&mut self, key: &[u8], value: &[u8]) {
        self.state
            .cache()
            .insert(key.to_vec(), Some(value.to_vec()));
    }

    /// Removes `key` (a tombstone in the cache until the next flush).
    pub fn delete(&mut self, key: &[u8]) {
        self.state.cache().insert(key.to_vec(), None);
    }

    /// Entries with `from <= key < to`, in key order, uncommitted writes included.
    pub fn range(&self, from: &[u8], to: &[u8]) -> Result<Vec<Entry>> {
        if from >= to {
            return Ok(Vec::new());
        }
        self.scan(from, Some(to))
    }

    /// Entries whose key starts with `prefix`, in key order, uncommitted writes included.
    pub fn prefix(&self, prefix: &[u8]) -> Result<Vec<Entry>> {
        self.scan(prefix, prefix_end(prefix).as_deref())
    }

    /// Entries with `from <= key`, up to `to` (exclusive) or to the end.
    pub fn scan(&self, from: &[u8], to: Option<&[u8]>) -> Result<Vec<Entry>> {
        self.scan_up_to(from, to, usize::MAX)
    }

    /// The first entry with `from <= key`, up to `to` (exclusive) or to the end (a seek: it
    /// reads no further).
    pub fn first(&self, from: &[u8], to: Option<&[u8]>) -> Result<Option<Entry>> {
        Ok(self.scan_up_to(from, to, 1)?.pop())
    }

    /// The first `limit` entries of [`Store::scan`].
    fn scan_up_to(&self, from: &[u8], to: Option<&[u8]>, limit: usize) -> Result<Vec<Entry>> {
        let cf = self.shared.cf(&self.state.name)?;
        let durable = self.durable(&cf, from, to);
        let cache = self.state.cache();
        let upper = match to {
            Some(to) => std::ops::Bound::Excluded(to),
            None => std::ops::Bound::Unbounded,
        };
        let bounds = (std::ops::Bound::Included(from), upper);
        cache::merge(durable, cache.range::<[u8], _>(bounds), limit)
    }

    /// The uncommitted writes, in key order: `Some(value)` a put, `None` a delete. (What a
    /// commit sends to the store's changelog.)
    pub fn pending(&self) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
        let cache = self.state.cache();
        cache.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }

    /// The value of `key` as of the last flush (uncommitted writes ignored): what readers
    /// outside the writing query see.
    pub fn get_committed(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let cf = self.shared.cf(&self.state.name)?;
        let read = self.shared.db.get_cf(&cf, key);
        read.map_err(self.shared.db_error("reading a key"))
    }

    /// Entries with `from <= key < to` (or to the end) as of the last flush, in key order.
    pub fn scan_committed(&self, from: &[u8], to: Option<&[u8]>) -> Result<Vec<Entry>> {
        let cf = self.shared.cf(&self.state.name)?;
        self.durable(&cf, from, to).collect()
    }

    /// RocksDB's entries from `from` up to `to` (exclusive) or to the end.
    fn durable<'a>(
        &'a self,
        cf: &Arc<BoundColumnFamily<'a>>,
        from: &[u8],
        to: Option<&[u8]>,
    ) -> impl Iterator<Item = Result<Entry>> + 'a {
        let mut options = ReadOptions::default();
        if let Some(to) = to {
            options.set_iterate_upper_bound(to.to_vec());
        }
        let mode = IteratorMode::From(from, Direction::Forward);
        let error = self.shared.db_error("scanning a range");
        self.shared
            .db
            .iterator_cf_opt(cf, options, mode)
            .map(move |item| {
                item.map(|(k, v)| (k.into_vec(), v.into_vec()))
                    .map_err(&error)
            })
    }

    /// How many uncommitted writes the store holds.
    pub fn dirty_len(&self) -> usize {
        self.state.cache().len()
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("name", &self.state.name)
            .field("path", &self.shared.path)
            .finish()
    }
}
