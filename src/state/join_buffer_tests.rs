//! Tests of `JoinBuffer`: one key's rows in (ts, seq) order with duplicates, inclusive bounds
//! across negative and positive times, keys that are prefixes of others, expiry of both
//! layouts over the cache and flushed data, and the changelog layout's derived index.

use super::{BufferedRow, JoinBuffer, by_key, by_time};
use crate::state::{Checkpoint, StateDir};
use tempfile::TempDir;

fn setup(tmp: &TempDir) -> (StateDir, JoinBuffer) {
    let mut state = StateDir::open(tmp.path().join("q")).expect("open");
    let store = state.store("buffer").expect("store");
    (state, JoinBuffer::new(store))
}

/// (ts, seq, row text) of fetched rows.
fn rows(found: Vec<BufferedRow>) -> Vec<(i64, u64, String)> {
    found
        .into_iter()
        .map(|r| (r.ts, r.seq, String::from_utf8(r.row).expect("utf8")))
        .collect()
}

fn row(ts: i64, seq: u64, text: &str) -> (i64, u64, String) {
    (ts, seq, text.to_string())
}

#[test]
fn fetch_returns_one_keys_rows_in_ts_then_seq_order_with_duplicates() {
    let tmp = TempDir::new().expect("tempdir");
    let (mut state, mut buffer) = setup(&tmp);
    buffer.put(b"k", 10, 7, b"late seq");
    buffer.put(b"k", 10, 3, b"early seq");
    buffer.put(b"k", -5, 9, b"negative");
    state.flush(&Checkpoint::new()).expect("flush");
    buffer.put(b"k", 10, 3, b"early seq"); // the same row again: one entry
    buffer.put(b"k", 10, 5, b"duplicate");
    buffer.put(b"k", 20, 1, b"later");
    buffer.put(b"k\x00", 10, 2, b"other key");
    buffer.put(b"", 10, 4, b"empty key");

    let all = buffer.fetch(b"k", i64::MIN, i64::MAX).expect("fetch");
    let expected = vec![
        row(-5, 9, "negative"),
        row(10, 3, "early seq"),
        row(10, 5, "duplicate"),
        row(10, 7, "late seq"),
        row(20, 1, "later"),
    ];
    assert_eq!(rows(all), expected);
    let bounded = buffer.fetch(b"k", 10, 10).expect("fetch");
    assert_eq!(rows(bounded).len(), 3, "both bounds are inclusive");
    assert_eq!(rows(buffer.fetch(b"k", 11, 19).expect("fetch")), vec![]);
    assert_eq!(rows(buffer.fetch(b"k", 20, 10).expect("fetch")), vec![]);
    let other = buffer.fetch(b"k\x00", i64::MIN, i64::MAX).expect("fetch");
    assert_eq!(rows(other), vec![row(10, 2, "other key")]);
    let empty = buffer.fetch(b"", 10, 10).expect("fetch");
    assert_eq!(rows(empty), vec![row(10, 4, "empty key")]);
}

#[test]
fn expiry_removes_older_rows_of_every_key_from_both_layouts() {
    let tmp = TempDir::new().expect("tempdir");
    let (mut state, mut buffer) = setup(&tmp);
    for (key, ts, seq) in [
        (&b"a"[..], -20, 1),
        (b"b", -10, 2),
        (b"a", 0, 3),
        (b"b", 10, 4),
    ] {
        buffer.put(key, ts, seq, b"v");
    }
    state.flush(&Checkpoint::new()).expect("flush");
    buffer.put(b"c", -5, 5, b"v"); // only in the cache
    buffer.put(b"a\x00", -1, 6, b"v");
    assert_eq!(buffer.expire_before(i64::MIN, 0).expect("expire"), 4);
    assert_eq!(
        rows(buffer.fetch(b"a", i64::MIN, i64::MAX).expect("fetch")),
        vec![row(0, 3, "v")]
    );
    assert!(
        buffer
            .fetch(b"c", i64::MIN, i64::MAX)
            .expect("fetch")
            .is_empty()
    );
    state.flush(&Checkpoint::new()).expect("flush");
    let raw = buffer.store().prefix(b"").expect("scan");
    assert_eq!(raw.len(), 4, "two rows, each in two layouts");
    assert_eq!(buffer.expire_before(i64::MIN, 0).expect("expire"), 0);
    assert_eq!(buffer.expire_before(i64::MIN, i64::MIN).expect("expire"), 0);
}

/// Expiry starts at `from`: rows below it (the caller's previous cutoff) are not looked at.
#[test]
fn expiry_starts_at_the_previous_cutoff() {
    let tmp = TempDir::new().expect("tempdir");
    let (_state, mut buffer) = setup(&tmp);
    for (ts, seq) in [(-20, 1), (-10, 2), (0, 3), (10, 4)] {
        buffer.put(b"a", ts, seq, b"v");
    }
    assert_eq!(buffer.expire_before(-15, 5).expect("expire"), 2);
    assert_eq!(
        rows(buffer.fetch(b"a", i64::MIN, i64::MAX).expect("fetch")),
        vec![row(-20, 1, "v"), row(10, 4, "v")]
    );
}

#[test]
fn the_changelog_logs_by_key_entries_and_derives_their_index() {
    let layout = JoinBuffer::CHANGELOG;
    let stored = by_key(b"k\x00", -3, 42);
    assert!((layout.logged)(&stored));
    assert_eq!((layout.index_of)(&stored), Some(by_time(b"k\x00", -3, 42)));
    let index = by_time(b"k", 5, 1);
    assert!(!(layout.logged)(&index));
    assert_eq!((layout.index_of)(&index), None);
    assert_eq!(
        (layout.index_of)(b"\x01k\x00\x01short"),
        None,
        "malformed: no index"
    );
}

#[test]
fn a_malformed_index_entry_is_an_error_not_a_panic() {
    let tmp = TempDir::new().expect("tempdir");
    let (_state, mut buffer) = setup(&tmp);
    let mut store = buffer.store().clone();
    store.put(b"\x02short", &[]);
    let err = buffer
        .expire_before(i64::MIN, i64::MAX)
        .expect_err("malformed");
    assert!(err.to_string().contains("join buffer key"), "{err}");
}
