//! `WindowStore`: values per (record key, window start) over one `Store`, in two layouts.
//!
//! Each window is written twice in its store: by key (`0x01 ++ key* ++ ts(start)`, holding the
//! value) so one key's windows are one contiguous range, and by time (`0x02 ++ ts(start) ++ key`,
//! empty value) so expiry reads only the expired prefix. Only the by-key entries need a
//! changelog ([`WindowStore::CHANGELOG`]): a restore derives the by-time ones. See
//! `docs/state.md`.

use super::error::{Result, StateError};
use super::keys::{self, KeyError};
use super::layout::ChangelogLayout;
use super::store::Store;

const BY_KEY: u8 = 0x01;
const BY_TIME: u8 = 0x02;

/// One window of one record key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WindowEntry {
    pub key: Vec<u8>,
    pub start: i64,
    pub value: Vec<u8>,
}

/// Windowed values (tumbling and hopping windows) over one store.
#[derive(Clone, Debug)]
pub struct WindowStore {
    store: Store,
}

impl WindowStore {
    /// Its changelog holds the by-key entries; restoring one derives its by-time entry.
    pub const CHANGELOG: ChangelogLayout = ChangelogLayout {
        logged: |key| key.first() == Some(&BY_KEY),
        index_of: |stored| {
            let body = stored.strip_prefix(&[BY_KEY])?;
            let (key, start) = keys::decode_window_key(body).ok()?;
            Some(by_time(&key, start))
        },
    };

    /// A window store kept in `store`, which it must be the only user of.
    pub fn new(store: Store) -> Self {
        WindowStore { store }
    }

    /// The underlying store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Sets the value of `key`'s window starting at `start`.
    pub fn put(&mut self, key: &[u8], start: i64, value: &[u8]) -> Result<()> {
        self.store.put(&by_key(key, start), value);
        self.store.put(&by_time(key, start), &[]);
        Ok(())
    }

    /// The value of `key`'s window starting at `start`.
    pub fn get(&self, key: &[u8], start: i64) -> Result<Option<Vec<u8>>> {
        self.store.get(&by_key(key, start))
    }

    /// Removes `key`'s window starting at `start`.
    pub fn delete(&mut self, key: &[u8], start: i64) -> Result<()> {
        self.store.delete(&by_key(key, start));
        self.store.delete(&by_time(key, start));
        Ok(())
    }

    /// `key`'s windows with `from_start <= start <= to_start` (both inclusive, as in Kafka
    /// Streams), in start order: `(start, value)`.
    pub fn fetch(&self, key: &[u8], from_start: i64, to_start: i64) -> Result<Vec<(i64, Vec<u8>)>> {
        if from_start > to_start {
            return Ok(Vec::new());
        }
        let from = by_key(key, from_start);
        let mut to = by_key(key, to_start);
        to.push(0); // just past the inclusive end
        let entries = self.store.range(&from, &to)?;
        let decode = |(k, v): (Vec<u8>, Vec<u8>)| Ok((self.decode_by_key(&k)?.1, v));
        entries.into_iter().map(decode).collect()
    }

    /// Every key's windows with `from_start <= start <= to_start`, in (start, key) order.
    pub fn fetch_all(&self, from_start: i64, to_start: i64) -> Result<Vec<WindowEntry>> {
        let mut entries = Vec::new();
        for (key, start) in self.index(from_start, to_start)? {
            if let Some(value) = self.get(&key, start)? {
                entries.push(WindowEntry { key, start, value });
            }
        }
        Ok(entries)
    }

    /// Removes every window that starts before `ts`; returns how many.
    pub fn expire_before(&mut self, ts: i64) -> Result<usize> {
        self.expire_between(i64::MIN, ts)
    }

    /// Removes the windows with `from <= start < before` (a caller that expired everything
    /// before `from` already skips re-reading it); returns how many.
    pub fn expire_between(&mut self, from: i64, before: i64) -> Result<usize> {
        let Some(last) = before.checked_sub(1) else {
            return Ok(0);
        };
        let expired = self.index(from, last)?;
        for (key, start) in &expired {
            self.delete(key, *start)?;
        }
        Ok(expired.len())
    }

    /// (key, start) of the windows with `from_start <= start <= to_start`, from the time layout.
    fn index(&self, from_start: i64, to_start: i64) -> Result<Vec<(Vec<u8>, i64)>> {
        if from_start > to_start {
            return Ok(Vec::new());
        }
        let from = [&[BY_TIME][..], &keys::encode_ts(from_start)].concat();
        let through = [&[BY_TIME][..], &keys::encode_ts(to_start)].concat();
        let to = keys::prefix_end(&through);
        let entries = self.store.scan(&from, to.as_deref())?;
        let decode = |(k, _): (Vec<u8>, Vec<u8>)| {
            let body = k.get(1..).unwrap_or_default();
            let (start, key) = keys::decode_window_time_key(body).map_err(|e| self.bad(e))?;
            Ok((key, start))
        };
        entries.into_iter().map(decode).collect()
    }

    fn decode_by_key(&self, bytes: &[u8]) -> Result<(Vec<u8>, i64)> {
        let body = bytes.get(1..).unwrap_or_default();
        keys::decode_window_key(body).map_err(|e| self.bad(e))
    }

    fn bad(&self, err: KeyError) -> StateError {
        StateError::Malformed {
            path: self.store.path().to_path_buf(),
            what: "window key",
            reason: format!("store '{}': {err}", self.store.name()),
        }
    }
}

fn by_key(key: &[u8], start: i64) -> Vec<u8> {
    [&[BY_KEY][..], &keys::window_key(key, start)].concat()
}

fn by_time(key: &[u8], start: i64) -> Vec<u8> {
    [&[BY_TIME][..], &keys::window_time_key(start, key)].concat()
}
