//! `SessionStore`: values per (record key, session start, session end) over one `Store`.
//!
//! Like the window store, each session is written twice: by key (`0x01 ++ key* ++ ts(end) ++
//! ts(start)`, holding the value) for finding the sessions a record merges with, and by time
//! (`0x02 ++ ts(end) ++ ts(start) ++ key`, empty value) for expiry. Only the by-key entries
//! need a changelog ([`SessionStore::CHANGELOG`]). See `docs/state.md`.

use super::error::{Result, StateError};
use super::keys::{self, KeyError};
use super::layout::ChangelogLayout;
use super::store::Store;

const BY_KEY: u8 = 0x01;
const BY_TIME: u8 = 0x02;

/// One session of one record key: its bounds are the first and last event times in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub key: Vec<u8>,
    pub start: i64,
    pub end: i64,
    pub value: Vec<u8>,
}

/// Session-windowed values over one store.
#[derive(Clone, Debug)]
pub struct SessionStore {
    store: Store,
}

impl SessionStore {
    /// Its changelog holds the by-key entries; restoring one derives its by-time entry.
    pub const CHANGELOG: ChangelogLayout = ChangelogLayout {
        logged: |key| key.first() == Some(&BY_KEY),
        index_of: |stored| {
            let body = stored.strip_prefix(&[BY_KEY])?;
            let (key, start, end) = keys::decode_session_key(body).ok()?;
            Some(by_time(&key, start, end))
        },
    };

    /// A session store kept in `store`, which it must be the only user of.
    pub fn new(store: Store) -> Self {
        SessionStore { store }
    }

    /// The underlying store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Sets the value of `key`'s session `[start, end]`.
    pub fn put(&mut self, key: &[u8], start: i64, end: i64, value: &[u8]) -> Result<()> {
        self.store.put(&by_key(key, start, end), value);
        self.store.put(&by_time(key, start, end), &[]);
        Ok(())
    }

    /// The value of `key`'s session `[start, end]`.
    pub fn get(&self, key: &[u8], start: i64, end: i64) -> Result<Option<Vec<u8>>> {
        self.store.get(&by_key(key, start, end))
    }

    /// Removes `key`'s session `[start, end]` (after merging it into a larger one).
    pub fn remove(&mut self, key: &[u8], start: i64, end: i64) -> Result<()> {
        self.store.delete(&by_key(key, start, end));
        self.store.delete(&by_time(key, start, end));
        Ok(())
    }

    /// `key`'s sessions with `end >= earliest_end` and `start <= latest_start`, in end order: as
    /// Kafka Streams' `findSessions`, the sessions a record at time `t` merges with when called
    /// with `(t - gap, t + gap)`.
    pub fn find_sessions(
        &self,
        key: &[u8],
        earliest_end: i64,
        latest_start: i64,
    ) -> Result<Vec<Session>> {
        let prefix = [&[BY_KEY][..], &keys::key_prefix(key)].concat();
        let from = [&prefix[..], &keys::encode_ts(earliest_end)].concat();
        let to = keys::prefix_end(&prefix);
        let entries = self.store.scan(&from, to.as_deref())?;
        let mut sessions = Vec::new();
        for (k, value) in entries {
            let body = k.get(1..).unwrap_or_default();
            let (key, start, end) = keys::decode_session_key(body).map_err(|e| self.bad(e))?;
            if start <= latest_start {
                sessions.push(Session {
                    key,
                    start,
                    end,
                    value,
                });
            }
        }
        Ok(sessions)
    }

    /// Every key's sessions with `end >= earliest_end` and `start <= latest_start`, in (end,
    /// start, key) order.
    pub fn find_all_sessions(&self, earliest_end: i64, latest_start: i64) -> Result<Vec<Session>> {
        let from = [&[BY_TIME][..], &keys::encode_ts(earliest_end)].concat();
        let to = keys::prefix_end(&[BY_TIME]);
        self.sessions_at(&from, to.as_deref(), |start| start <= latest_start)
    }

    /// Every key's sessions with `from_end <= end <= to_end`, in (end, start, key) order.
    pub fn sessions_ending(&self, from_end: i64, to_end: i64) -> Result<Vec<Session>> {
        if from_end > to_end {
            return Ok(Vec::new());
        }
        let from = [&[BY_TIME][..], &keys::encode_ts(from_end)].concat();
        let through = [&[BY_TIME][..], &keys::encode_ts(to_end)].concat();
        let to = keys::prefix_end(&through);
        self.sessions_at(&from, to.as_deref(), |_| true)
    }

    /// The sessions of the time layout's entries in `[from, to)` whose start `keep` accepts.
    fn sessions_at(
        &self,
        from: &[u8],
        to: Option<&[u8]>,
        keep: impl Fn(i64) -> bool,
    ) -> Result<Vec<Session>> {
        let mut sessions = Vec::new();
        for (key, start, end) in self.index(from, to)? {
            if !keep(start) {
                continue;
            }
            if let Some(value) = self.get(&key, start, end)? {
                sessions.push(Session {
                    key,
                    start,
                    end,
                    value,
                });
            }
        }
        Ok(sessions)
    }

    /// Removes every session that ended before `ts`; returns how many.
    pub fn expire_before(&mut self, ts: i64) -> Result<usize> {
        self.expire_between(i64::MIN, ts)
    }

    /// Removes the sessions with `from <= end < before`; returns how many.
    pub fn expire_between(&mut self, from: i64, before: i64) -> Result<usize> {
        if from >= before {
            return Ok(0);
        }
        let from = [&[BY_TIME][..], &keys::encode_ts(from)].concat();
        let to = [&[BY_TIME][..], &keys::encode_ts(before)].concat();
        let expired = self.index(&from, Some(&to))?;
        for (key, start, end) in &expired {
            self.remove(key, *start, *end)?;
        }
        Ok(expired.len())
    }

    /// (key, start, end) of the time layout's entries in `[from, to)`.
    fn index(&self, from: &[u8], to: Option<&[u8]>) -> Result<Vec<(Vec<u8>, i64, i64)>> {
        let entries = self.store.scan(from, to)?;
        let decode = |(k, _): (Vec<u8>, Vec<u8>)| {
            let body = k.get(1..).unwrap_or_default();
            keys::decode_session_time_key(body).map_err(|e| self.bad(e))
        };
        entries.into_iter().map(decode).collect()
    }

    fn bad(&self, err: KeyError) -> StateError {
        StateError::Malformed {
            path: self.store.path().to_path_buf(),
            what: "session key",
            reason: format!("store '{}': {err}", self.store.name()),
        }
    }
}

fn by_key(key: &[u8], start: i64, end: i64) -> Vec<u8> {
    [&[BY_KEY][..], &keys::session_key(key, start, end)].concat()
}

fn by_time(key: &[u8], start: i64, end: i64) -> Vec<u8> {
    [&[BY_TIME][..], &keys::session_time_key(key, start, end)].concat()
}
