//! What a stream-stream join keeps besides its two buffers (`state::JoinBuffer`): its times
//! (the `<ctx>-Time` store) and the rows of preserved sides waiting for their window to close
//! (the `<ctx>-Unmatched` store, Kafka's shared outer-join store).

use super::window::JoinWindow;
use crate::common::{Value, codec};
use crate::exec::join::{Side, StoredRow};
use crate::exec::operator::OperatorError;
use crate::state::{StateError, Store, keys};
use serde::{Deserialize, Serialize};

/// The key of the times in the `Time` store.
const TIMES_KEY: &[u8] = b"times";

/// The join's times (Kafka's `TimeTracker` and each window store's observed time) and the next
/// sequence number, kept in the `Time` store so a reopened operator resumes with them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Times {
    /// The largest timestamp of any row that reached the join (`i64::MIN` before any).
    pub join: i64,
    /// The largest timestamp put in the left buffer, and in the right one.
    pub left: i64,
    pub right: i64,
    /// Tells apart rows of one key and timestamp in the buffers and the unmatched store.
    pub next_seq: u64,
}

impl Default for Times {
    fn default() -> Times {
        Times {
            join: i64::MIN,
            left: i64::MIN,
            right: i64::MIN,
            next_seq: 0,
        }
    }
}

impl Times {
    /// The observed time of `side`'s buffer.
    pub fn buffer(&self, side: Side) -> i64 {
        match side {
            Side::Left => self.left,
            Side::Right => self.right,
        }
    }

    pub fn observe(&mut self, side: Side, t: i64) {
        let observed = match side {
            Side::Left => &mut self.left,
            Side::Right => &mut self.right,
        };
        *observed = (*observed).max(t);
    }

    pub fn take_seq(&mut self) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        seq
    }

    /// The times in `store` (the defaults in a new one).
    pub fn load(store: &Store) -> Result<Times, StateError> {
        match store.get(TIMES_KEY)? {
            None => Ok(Times::default()),
            Some(bytes) => codec::decode(&bytes).map_err(|e| malformed(store, "join times", e)),
        }
    }

    pub fn save(&self, store: &mut Store) {
        store.put(TIMES_KEY, &codec::encode(self));
    }
}

/// An unmatched row taken out of the store to be emitted.
pub struct Closed {
    pub side: Side,
    pub key: Vec<Value>,
    pub row: StoredRow,
}

/// Rows of preserved sides that found no match yet, by `ts ++ side ++ key* ++ seq` (Kafka's
/// `TimestampedKeyAndJoinSide` order, then arrival): the order they are emitted in.
///
/// Scans start at `floor` (no row is older), so the rows taken out before, deleted in RocksDB
/// but still there as tombstones, are not walked again; the earliest row's timestamp is kept
/// in memory once known (Kafka's `minTime`). Both are forgotten by [`Unmatched::reset`] (after
/// a rollback the store may hold other rows).
pub struct Unmatched {
    store: Store,
    floor: i64,
    /// The earliest row's timestamp (`Some(None)`: empty) when known.
    earliest: Option<Option<i64>>,
}

impl Unmatched {
    pub fn new(store: Store) -> Unmatched {
        Unmatched {
            store,
            floor: i64::MIN,
            earliest: None,
        }
    }

    /// Forgets what is known of the store's rows beyond the store itself.
    pub fn reset(&mut self) {
        self.floor = i64::MIN;
        self.earliest = None;
    }

    pub fn put(&mut self, side_byte: u8, key: &[u8], seq: u64, row: &StoredRow) {
        let mut k = prefix(row.ts, side_byte, key);
        k.extend_from_slice(&seq.to_be_bytes());
        self.store.put(&k, &row.encode());
        self.floor = self.floor.min(row.ts);
        if let Some(earliest) = &mut self.earliest {
            *earliest = Some(earliest.map_or(row.ts, |e| e.min(row.ts)));
        }
    }

    /// Deletes the rows of `key` at `ts` of the side `side_byte` (a row of the other side
    /// joined them).
    pub fn delete_matched(
        &mut self,
        ts: i64,
        side_byte: u8,
        key: &[u8],
    ) -> Result<(), OperatorError> {
        for (k, _) in self.store.prefix(&prefix(ts, side_byte, key))? {
            self.store.delete(&k);
        }
        if self.earliest == Some(Some(ts)) {
            self.earliest = None;
        }
        Ok(())
    }

    /// The timestamp of the earliest row (Kafka's `minTime`, exact), `None` when empty.
    pub fn earliest(&mut self) -> Result<Option<i64>, OperatorError> {
        if let Some(known) = self.earliest {
            return Ok(known);
        }
        let found = match self.store.first(&keys::encode_ts(self.floor), None)? {
            None => None,
            Some((k, _)) => {
                let ts = k
                    .get(..keys::TS_LEN)
                    .ok_or_else(|| self.bad("shorter than a timestamp"))?;
                Some(keys::decode_ts(ts).map_err(|e| self.bad(e))?)
            }
        };
        self.earliest = Some(found);
        Ok(found)
    }

    /// Removes and returns the rows older than `cutoff`, in store order.
    pub fn take_before(
        &mut self,
        cutoff: i64,
        window: &JoinWindow,
    ) -> Result<Vec<Closed>, OperatorError> {
        let entries = self
            .store
            .range(&keys::encode_ts(self.floor), &keys::encode_ts(cutoff))?;
        self.floor = self.floor.max(cutoff);
        self.earliest = None;
        let mut closed = Vec::with_capacity(entries.len());
        for (k, v) in entries {
            let rest = k
                .get(keys::TS_LEN..)
                .ok_or_else(|| self.bad("shorter than a timestamp"))?;
            let (&side_byte, rest) = rest.split_first().ok_or_else(|| self.bad("no side"))?;
            let (key, _seq) = keys::split_escaped(rest).map_err(|e| self.bad(e))?;
            let key: Vec<Value> = codec::decode(&key).map_err(|e| self.bad(e))?;
            closed.push(Closed {
                side: window.side_of_byte(side_byte),
                key,
                row: StoredRow::decode(&v)?,
            });
            self.store.delete(&k);
        }
        Ok(closed)
    }

    fn bad(&self, reason: impl std::fmt::Display) -> OperatorError {
        malformed(&self.store, "unmatched join row key", reason).into()
    }
}

fn malformed(store: &Store, what: &'static str, reason: impl std::fmt::Display) -> StateError {
    StateError::Malformed {
        path: store.path().to_path_buf(),
        what,
        reason: format!("store '{}': {reason}", store.name()),
    }
}

/// `ts ++ side ++ key*`: the rows of one key and side at one time.
fn prefix(ts: i64, side_byte: u8, key: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(keys::TS_LEN + 1 + key.len() + 2 + 8);
    out.extend_from_slice(&keys::encode_ts(ts));
    out.push(side_byte);
    keys::push_escaped(&mut out, key);
    out
}
