//! Tests of `StateDir` and `Store`: reads through the cache, flush, checkpoint, reopening.

use super::{Checkpoint, StateDir, StateError};
use tempfile::TempDir;

fn strings(entries: Vec<(Vec<u8>, Vec<u8>)>) -> Vec<(String, String)> {
    let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
    entries
        .into_iter()
        .map(|(k, v)| (text(k), text(v)))
        .collect()
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn open(dir: &TempDir) -> StateDir {
    StateDir::open(dir.path().join("q1")).expect("open state dir")
}

#[test]
fn first_seeks_past_deleted_entries_to_the_first_live_one() {
    let tmp = TempDir::new().expect("tempdir");
    let mut state = open(&tmp);
    let mut store = state.store("agg").expect("store");
    store.put(b"a", b"1");
    store.put(b"b", b"2");
    store.put(b"d", b"4");
    state.flush(&Checkpoint::new()).expect("flush");
    store.delete(b"a");
    store.put(b"c", b"3");
    let entry = |k: &[u8], v: &[u8]| Some((k.to_vec(), v.to_vec()));
    assert_eq!(store.first(b"", None).expect("first"), entry(b"b", b"2"));
    store.delete(b"b");
    assert_eq!(store.first(b"", None).expect("first"), entry(b"c", b"3"));
    assert_eq!(
        store.first(b"c\x00", None).expect("first"),
        entry(b"d", b"4")
    );
    assert_eq!(store.first(b"", Some(b"c")).expect("first"), None);
    assert_eq!(store.first(b"e", None).expect("first"), None);
}

#[test]
fn reads_see_the_cache_over_the_database() {
    let tmp = TempDir::new().expect("tempdir");
    let mut state = open(&tmp);
    let mut store = state.store("agg").expect("store");
    store.put(b"a", b"1");
    store.put(b"b", b"2");
    store.put(b"c", b"3");
    assert_eq!(store.get(b"a").expect("get"), Some(b"1".to_vec()));
    state.flush(&Checkpoint::new()).expect("flush");
    assert_eq!(store.dirty_len(), 0);
    assert_eq!(store.get(b"b").expect("get"), Some(b"2".to_vec()));

    store.delete(b"b");
    store.put(b"c", b"30");
    store.put(b"bb", b"22");
    assert_eq!(
        store.get(b"b").expect("get"),
        None,
        "tombstone hides the db value"
    );
    let all = store.range(b"a", b"z").expect("range");
    assert_eq!(
        strings(all),
        pairs(&[("a", "1"), ("bb", "22"), ("c", "30")])
    );
    let half_open = store.range(b"a", b"c").expect("range");
    assert_eq!(strings(half_open), pairs(&[("a", "1"), ("bb", "22")]));
    assert_eq!(
        strings(store.prefix(b"b").expect("prefix")),
        pairs(&[("bb", "22")])
    );
    assert!(store.range(b"c", b"a").expect("empty range").is_empty());
}

#[test]
fn prefix_of_ff_bytes_runs_to_the_end() {
    let tmp = TempDir::new().expect("tempdir");
    let mut state = open(&tmp);
    let mut store = state.store("s").expect("store");
    store.put(b"\xff\x01", b"x");
    store.put(b"\xfe", b"y");
    state.flush(&Checkpoint::new()).expect("flush");
    store.put(b"\xff\xff", b"z");
    let found = store.prefix(b"\xff").expect("prefix");
    let keys: Vec<Vec<u8>> = found.into_iter().map(|(k, _)| k).collect();
    assert_eq!(keys, vec![b"\xff\x01".to_vec(), b"\xff\xff".to_vec()]);
}

#[test]
fn a_flush_is_durable_with_its_checkpoint_across_stores() {
    let tmp = TempDir::new().expect("tempdir");
    let checkpoint = Checkpoint::new().with("q1-agg-changelog", 0, 17);
    {
        let mut state = open(&tmp);
        assert_eq!(state.checkpoint().expect("checkpoint"), None);
        let mut agg = state.store("agg").expect("store");
        let mut table = state.store("table").expect("store");
        agg.put(b"k1", b"v1");
        table.put(b"k2", b"v2");
        table.delete(b"never-there");
        state.flush(&checkpoint).expect("flush");
    }
    let mut state = open(&tmp);
    assert_eq!(state.store_names(), vec!["agg".to_string(), "table".into()]);
    assert_eq!(state.checkpoint().expect("checkpoint"), Some(checkpoint));
    let agg = state.store("agg").expect("store");
    let table = state.store("table").expect("store");
    assert_eq!(agg.get(b"k1").expect("get"), Some(b"v1".to_vec()));
    assert_eq!(table.get(b"k2").expect("get"), Some(b"v2".to_vec()));
}

#[test]
fn discarded_and_unflushed_writes_never_reach_disk() {
    let tmp = TempDir::new().expect("tempdir");
    {
        let mut state = open(&tmp);
        let mut store = state.store("agg").expect("store");
        store.put(b"kept", b"1");
        state
            .flush(&Checkpoint::new().with("c", 0, 1))
            .expect("flush");
        store.put(b"aborted", b"2");
        store.delete(b"kept");
        state.discard();
        assert_eq!(state.dirty_len(), 0);
        assert_eq!(store.get(b"aborted").expect("get"), None);
        assert_eq!(store.get(b"kept").expect("get"), Some(b"1".to_vec()));
        store.put(b"crashed", b"3"); // dropped without a flush, as in a crash
    }
    let mut state = open(&tmp);
    let store = state.store("agg").expect("store");
    let all = store.prefix(b"").expect("scan");
    assert_eq!(strings(all), pairs(&[("kept", "1")]));
    let checkpoint = state.checkpoint().expect("checkpoint");
    assert_eq!(checkpoint, Some(Checkpoint::new().with("c", 0, 1)));
}

#[test]
fn a_failed_flush_writes_nothing_and_keeps_the_caches() {
    let tmp = TempDir::new().expect("tempdir");
    {
        let mut state = open(&tmp);
        let mut first = state.store("a-first").expect("store");
        let mut second = state.store("b-second").expect("store");
        first.put(b"k", b"1");
        second.put(b"k", b"2");
        state.break_store("b-second");
        assert!(state.flush(&Checkpoint::new().with("c", 0, 9)).is_err());
        assert_eq!(first.dirty_len(), 1, "caches survive a failed flush");
    }
    let mut state = open(&tmp);
    assert_eq!(state.checkpoint().expect("checkpoint"), None);
    let first = state.store("a-first").expect("store");
    assert_eq!(first.get(b"k").expect("get"), None, "no half batch");
}

#[test]
fn store_names_are_checked() {
    let tmp = TempDir::new().expect("tempdir");
    let mut state = open(&tmp);
    for name in ["", "default"] {
        let err = state.store(name).expect_err("reserved");
        assert!(matches!(err, StateError::InvalidStoreName { .. }), "{err}");
    }
}

#[test]
fn a_corrupt_directory_is_a_clear_rebuildable_error() {
    let tmp = TempDir::new().expect("tempdir");
    drop(open(&tmp));
    let path = tmp.path().join("q1");
    std::fs::write(path.join("CURRENT"), b"garbage").expect("write");
    let err = StateDir::open(&path).expect_err("corrupt");
    assert!(err.is_rebuildable(), "{err:?}");
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "{err}"
    );
    StateDir::delete(&path).expect("delete");
    let mut state = StateDir::open(&path).expect("fresh after delete");
    assert!(state.store_names().is_empty());
    assert!(state.store("x").is_ok());
}

#[test]
fn another_format_is_incompatible() {
    let tmp = TempDir::new().expect("tempdir");
    let path = tmp.path().join("q1");
    drop(open(&tmp));
    {
        let db = rocksdb::DB::open_default(&path).expect("raw open");
        db.put(b"brook.format", b"brook-state-v0").expect("put");
    }
    let err = StateDir::open(&path).expect_err("old format");
    let text = err.to_string();
    assert!(matches!(err, StateError::Incompatible { .. }), "{text}");
    assert!(
        text.contains("brook-state-v0") && text.contains("brook-state-v1"),
        "{text}"
    );
    assert!(text.contains(&path.display().to_string()), "{text}");
}

#[test]
fn a_foreign_database_or_directory_is_refused() {
    let tmp = TempDir::new().expect("tempdir");
    let foreign = tmp.path().join("foreign");
    {
        let db = rocksdb::DB::open_default(&foreign).expect("raw open");
        db.put(b"someone", b"else").expect("put");
    }
    let err = StateDir::open(&foreign).expect_err("no marker");
    assert!(
        err.to_string().contains("without Brook's format marker"),
        "{err}"
    );

    let files = tmp.path().join("files");
    std::fs::create_dir_all(&files).expect("mkdir");
    std::fs::write(files.join("notes.txt"), b"hello").expect("write");
    let err = StateDir::open(&files).expect_err("not a database");
    assert!(matches!(err, StateError::Incompatible { .. }), "{err}");
}

#[test]
fn a_second_opener_is_told_the_directory_is_in_use() {
    let tmp = TempDir::new().expect("tempdir");
    let _first = open(&tmp);
    let err = StateDir::open(tmp.path().join("q1")).expect_err("locked");
    assert!(matches!(err, StateError::Locked { .. }), "{err:?}");
}

#[test]
fn deleting_a_missing_directory_is_fine() {
    let tmp = TempDir::new().expect("tempdir");
    StateDir::delete(tmp.path().join("never")).expect("delete missing");
}
