//! Tests of `WindowStore`: per-key fetches across negative and positive starts, scans by time,
//! expiry of both layouts, over the cache and over flushed data.

use super::{Checkpoint, StateDir, WindowEntry, WindowStore};
use tempfile::TempDir;

fn setup(tmp: &TempDir) -> (StateDir, WindowStore) {
    let mut state = StateDir::open(tmp.path().join("q")).expect("open");
    let store = state.store("windows").expect("store");
    (state, WindowStore::new(store))
}

fn entry(key: &[u8], start: i64, value: &[u8]) -> WindowEntry {
    WindowEntry {
        key: key.to_vec(),
        start,
        value: value.to_vec(),
    }
}

#[test]
fn fetch_returns_one_keys_windows_in_start_order_inclusive() {
    let tmp = TempDir::new().expect("tempdir");
    let (mut state, mut windows) = setup(&tmp);
    for start in [1000, -1000, 0, -1, i64::MIN, i64::MAX] {
        windows.put(b"a", start, &start.to_be_bytes()).expect("put");
    }
    windows.put(b"a\x00", 0, b"other key").expect("put");
    windows.put(b"", 0, b"empty key").expect("put");
    state.flush(&Checkpoint::new()).expect("flush");
    windows.put(b"a", 5, b"cached").expect("put");

    let starts = |v: Vec<(i64, Vec<u8>)>| v.into_iter().map(|(s, _)| s).collect::<Vec<_>>();
    let all = windows.fetch(b"a", i64::MIN, i64::MAX).expect("fetch");
    assert_eq!(starts(all), vec![i64::MIN, -1000, -1, 0, 5, 1000, i64::MAX]);
    let some = windows.fetch(b"a", -1000, 5).expect("fetch");
    assert_eq!(starts(some), vec![-1000, -1, 0, 5]);
    assert_eq!(windows.fetch(b"a", 6, 999).expect("fetch"), vec![]);
    assert_eq!(windows.fetch(b"a", 5, -5).expect("fetch"), vec![]);
    let other = windows.fetch(b"a\x00", i64::MIN, i64::MAX).expect("fetch");
    assert_eq!(other, vec![(0, b"other key".to_vec())]);
    assert_eq!(
        windows.get(b"a", -1).expect("get"),
        Some((-1i64).to_be_bytes().to_vec())
    );
}

#[test]
fn fetch_all_scans_by_start_then_key() {
    let tmp = TempDir::new().expect("tempdir");
    let (mut state, mut windows) = setup(&tmp);
    windows.put(b"b", 10, b"b10").expect("put");
    windows.put(b"a", 10, b"a10").expect("put");
    state.flush(&Checkpoint::new()).expect("flush");
    windows.put(b"c", -10, b"c-10").expect("put");
    windows.put(b"a", 20, b"a20").expect("put");
    let found = windows.fetch_all(-10, 10).expect("fetch_all");
    let expected = vec![
        entry(b"c", -10, b"c-10"),
        entry(b"a", 10, b"a10"),
        entry(b"b", 10, b"b10"),
    ];
    assert_eq!(found, expected);
}

#[test]
fn expiry_removes_old_windows_from_both_layouts() {
    let tmp = TempDir::new().expect("tempdir");
    let (mut state, mut windows) = setup(&tmp);
    for (key, start) in [(&b"a"[..], -20), (b"b", -10), (b"a", 0), (b"b", 10)] {
        windows.put(key, start, b"v").expect("put");
    }
    state.flush(&Checkpoint::new()).expect("flush");
    windows.put(b"c", -5, b"v").expect("put"); // only in the cache
    assert_eq!(windows.expire_before(0).expect("expire"), 3);
    assert_eq!(
        windows
            .fetch(b"a", i64::MIN, i64::MAX)
            .expect("fetch")
            .len(),
        1
    );
    let left = windows.fetch_all(i64::MIN, i64::MAX).expect("fetch_all");
    assert_eq!(left, vec![entry(b"a", 0, b"v"), entry(b"b", 10, b"v")]);
    state.flush(&Checkpoint::new()).expect("flush");
    let raw = windows.store().prefix(b"").expect("scan");
    assert_eq!(raw.len(), 4, "two windows, each in two layouts");
    assert_eq!(windows.expire_before(i64::MIN).expect("expire"), 0);
}

#[test]
fn delete_and_overwrite() {
    let tmp = TempDir::new().expect("tempdir");
    let (_state, mut windows) = setup(&tmp);
    windows.put(b"k", 1, b"old").expect("put");
    windows.put(b"k", 1, b"new").expect("put");
    assert_eq!(
        windows.fetch_all(1, 1).expect("fetch_all"),
        vec![entry(b"k", 1, b"new")]
    );
    windows.delete(b"k", 1).expect("delete");
    assert_eq!(windows.get(b"k", 1).expect("get"), None);
    assert!(windows.store().prefix(b"").expect("scan").is_empty());
}
