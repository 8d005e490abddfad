//! `JoinBuffer`: one side's rows of a stream-stream join (ADR 0006, §3.1) over one `Store`, by
//! (record key, timestamp, sequence number), duplicates kept (Kafka Streams' join window
//! stores retain duplicates).
//!
//! Each row is written twice, as the window store does: by key (`0x01 ++ key* ++ ts ++ seq`,
//! holding the row) so one key's rows in a time range are one contiguous range in (ts, seq)
//! order, and by time (`0x02 ++ ts ++ key ++ seq`, empty value) so expiry reads only the
//! expired prefix. Only the by-key entries go to the changelog ([`JoinBuffer::CHANGELOG`]); a
//! restore derives the by-time ones. (`key*` is the escaped, terminated key of `keys`; `seq` is
//! 8 bytes big-endian; in the by-time layout the key runs up to the last 8 bytes.)

use super::error::{Result, StateError};
use super::keys::{self, KeyError, TS_LEN};
use super::layout::ChangelogLayout;
use super::store::Store;

const BY_KEY: u8 = 0x01;
const BY_TIME: u8 = 0x02;
const SEQ_LEN: usize = 8;

/// One buffered row of a key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BufferedRow {
    pub ts: i64,
    pub seq: u64,
    pub row: Vec<u8>,
}

/// One side's rows of a stream-stream join.
#[derive(Clone, Debug)]
pub struct JoinBuffer {
    store: Store,
}

impl JoinBuffer {
    /// Its changelog holds the by-key entries; restoring one derives its by-time entry.
    pub const CHANGELOG: ChangelogLayout = ChangelogLayout {
        logged: |key| key.first() == Some(&BY_KEY),
        index_of: |stored| {
            let (key, ts, seq) = decode_by_key(stored).ok()?;
            Some(by_time(&key, ts, seq))
        },
    };

    /// A join buffer kept in `store`, which it must be the only user of.
    pub fn new(store: Store) -> Self {
        JoinBuffer { store }
    }

    /// The underlying store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Adds `row` for `key` at `ts` (`seq` tells apart rows of one key and timestamp).
    pub fn put(&mut self, key: &[u8], ts: i64, seq: u64, row: &[u8]) {
        self.store.put(&by_key(key, ts, seq), row);
        self.store.put(&by_time(key, ts, seq), &[]);
    }

    /// `key`'s rows with `from <= ts <= to` (both inclusive, as Kafka Streams' window fetch),
    /// in (ts, seq) order.
    pub fn fetch(&self, key: &[u8], from: i64, to: i64) -> Result<Vec<BufferedRow>> {
        if from > to {
            return Ok(Vec::new());
        }
        let start = [&[BY_KEY][..], &keys::window_key(key, from)].concat();
        let through = [&[BY_KEY][..], &keys::window_key(key, to)].concat();
        let end = keys::prefix_end(&through);
        let entries = self.store.scan(&start, end.as_deref())?;
        entries
            .into_iter()
            .map(|(k, row)| {
                let (_, ts, seq) = decode_by_key(&k).map_err(|e| self.bad(e))?;
                Ok(BufferedRow { ts, seq, row })
            })
            .collect()
    }

    /// Removes every row with `from <= ts < cutoff`, from both layouts; returns how many. The
    /// caller passes the previous cutoff as `from` (`i64::MIN` when it does not know it), so the
    /// rows removed before, still there as RocksDB tombstones, are not walked again.
    pub fn expire_before(&mut self, from: i64, cutoff: i64) -> Result<usize> {
        let start = [&[BY_TIME][..], &keys::encode_ts(from)].concat();
        let end = [&[BY_TIME][..], &keys::encode_ts(cutoff)].concat();
        let expired = self.store.range(&start, &end)?;
        for (index, _) in &expired {
            let (key, ts, seq) = decode_by_time(index).map_err(|e| self.bad(e))?;
            self.store.delete(&by_key(&key, ts, seq));
            self.store.delete(index);
        }
        Ok(expired.len())
    }

    fn bad(&self, err: KeyError) -> StateError {
        StateError::Malformed {
            path: self.store.path().to_path_buf(),
            what: "join buffer key",
            reason: format!("store '{}': {err}", self.store.name()),
        }
    }
}

fn by_key(key: &[u8], ts: i64, seq: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + key.len() + 2 + TS_LEN + SEQ_LEN);
    out.push(BY_KEY);
    keys::push_escaped(&mut out, key);
    out.extend_from_slice(&keys::encode_ts(ts));
    out.extend_from_slice(&seq.to_be_bytes());
    out
}

fn by_time(key: &[u8], ts: i64, seq: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + TS_LEN + key.len() + SEQ_LEN);
    out.push(BY_TIME);
    out.extend_from_slice(&keys::encode_ts(ts));
    out.extend_from_slice(key);
    out.extend_from_slice(&seq.to_be_bytes());
    out
}

/// The key, ts and seq of a [`by_key`] entry.
fn decode_by_key(bytes: &[u8]) -> std::result::Result<(Vec<u8>, i64, u64), KeyError> {
    let body = bytes
        .strip_prefix(&[BY_KEY])
        .ok_or(KeyError("not a by-key join buffer entry"))?;
    let (key, rest) = keys::split_escaped(body)?;
    if rest.len() != TS_LEN + SEQ_LEN {
        return Err(KeyError(
            "join buffer key must end with a timestamp and a seq",
        ));
    }
    let (ts, seq) = rest.split_at(TS_LEN);
    Ok((key, keys::decode_ts(ts)?, decode_seq(seq)?))
}

/// The key, ts and seq of a [`by_time`] entry.
fn decode_by_time(bytes: &[u8]) -> std::result::Result<(Vec<u8>, i64, u64), KeyError> {
    let body = bytes
        .strip_prefix(&[BY_TIME])
        .ok_or(KeyError("not a by-time join buffer entry"))?;
    if body.len() < TS_LEN + SEQ_LEN {
        return Err(KeyError(
            "join buffer time key shorter than a timestamp and a seq",
        ));
    }
    let (ts, rest) = body.split_at(TS_LEN);
    let (key, seq) = rest.split_at(rest.len() - SEQ_LEN);
    Ok((key.to_vec(), keys::decode_ts(ts)?, decode_seq(seq)?))
}

fn decode_seq(bytes: &[u8]) -> std::result::Result<u64, KeyError> {
    let array: [u8; SEQ_LEN] = bytes
        .try_into()
        .map_err(|_| KeyError("a sequence number must be 8 bytes"))?;
    Ok(u64::from_be_bytes(array))
}

#[cfg(test)]
#[path = "join_buffer_tests.rs"]
mod tests;
