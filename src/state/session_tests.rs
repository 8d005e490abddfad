//! Tests of `SessionStore`: Kafka Streams' `findSessions` semantics, removal and expiry.

use super::{Checkpoint, Session, SessionStore, StateDir};
use tempfile::TempDir;

fn setup(tmp: &TempDir) -> (StateDir, SessionStore) {
    let mut state = StateDir::open(tmp.path().join("q")).expect("open");
    let store = state.store("sessions").expect("store");
    (state, SessionStore::new(store))
}

fn bounds(sessions: Vec<Session>) -> Vec<(i64, i64)> {
    sessions.into_iter().map(|s| (s.start, s.end)).collect()
}

/// Key "k" has sessions [-30,-20], [0,10], [20,30], [40,50]; "k2" has [0,100].
fn fill(state: &mut StateDir, sessions: &mut SessionStore) {
    sessions.put(b"k", -30, -20, b"neg").expect("put");
    sessions.put(b"k", 0, 10, b"first").expect("put");
    sessions.put(b"k2", 0, 100, b"other").expect("put");
    state.flush(&Checkpoint::new()).expect("flush");
    sessions.put(b"k", 20, 30, b"second").expect("put");
    sessions.put(b"k", 40, 50, b"third").expect("put");
}

#[test]
fn find_sessions_returns_overlapping_sessions_of_one_key() {
    let tmp = TempDir::new().expect("tempdir");
    let (mut state, mut sessions) = setup(&tmp);
    fill(&mut state, &mut sessions);
    let find = |earliest_end, latest_start| {
        bounds(
            sessions
                .find_sessions(b"k", earliest_end, latest_start)
                .expect("find"),
        )
    };
    assert_eq!(find(15, 25), vec![(20, 30)]);
    assert_eq!(find(10, 40), vec![(0, 10), (20, 30), (40, 50)]);
    assert_eq!(find(11, 39), vec![(20, 30)]);
    assert_eq!(find(-25, -25), vec![(-30, -20)]);
    assert_eq!(find(31, 39), vec![]);
    assert_eq!(find(i64::MIN, i64::MAX).len(), 4);
    let merged = sessions.find_sessions(b"k2", 5, 5).expect("find");
    let expected = Session {
        key: b"k2".to_vec(),
        start: 0,
        end: 100,
        value: b"other".to_vec(),
    };
    assert_eq!(merged, vec![expected]);
    assert!(
        sessions
            .find_sessions(b"k3", i64::MIN, i64::MAX)
            .expect("find")
            .is_empty()
    );
}

#[test]
fn merging_replaces_sessions() {
    let tmp = TempDir::new().expect("tempdir");
    let (mut state, mut sessions) = setup(&tmp);
    fill(&mut state, &mut sessions);
    // A record at 15 with gap 5 bridges [0,10] and [20,30] into [0,30].
    for old in sessions.find_sessions(b"k", 10, 20).expect("find") {
        sessions
            .remove(&old.key, old.start, old.end)
            .expect("remove");
    }
    sessions.put(b"k", 0, 30, b"merged").expect("put");
    let all = sessions
        .find_sessions(b"k", i64::MIN, i64::MAX)
        .expect("find");
    assert_eq!(bounds(all), vec![(-30, -20), (0, 30), (40, 50)]);
    assert_eq!(
        sessions.get(b"k", 0, 30).expect("get"),
        Some(b"merged".to_vec())
    );
    assert_eq!(sessions.get(b"k", 0, 10).expect("get"), None);
}

#[test]
fn expiry_removes_sessions_that_ended_before() {
    let tmp = TempDir::new().expect("tempdir");
    let (mut state, mut sessions) = setup(&tmp);
    fill(&mut state, &mut sessions);
    assert_eq!(sessions.expire_before(30).expect("expire"), 2);
    let left = sessions
        .find_all_sessions(i64::MIN, i64::MAX)
        .expect("find all");
    assert_eq!(bounds(left), vec![(20, 30), (40, 50), (0, 100)]);
    state.flush(&Checkpoint::new()).expect("flush");
    assert_eq!(sessions.store().prefix(b"").expect("scan").len(), 6);
    let late = sessions.find_all_sessions(45, 45).expect("find all");
    assert_eq!(bounds(late), vec![(40, 50), (0, 100)]);
}

#[test]
fn sessions_ending_reads_one_end_range_of_every_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut state = crate::state::StateDir::open(dir.path()).expect("open");
    let mut sessions = crate::state::SessionStore::new(state.store("s").expect("store"));
    for (key, start, end) in [("a", 0, 10), ("b", 5, 12), ("a", 20, 30), ("c", 1, 9)] {
        sessions.put(key.as_bytes(), start, end, b"v").expect("put");
    }
    let ends: Vec<(Vec<u8>, i64)> = sessions
        .sessions_ending(9, 12)
        .expect("read")
        .into_iter()
        .map(|s| (s.key, s.end))
        .collect();
    assert_eq!(
        ends,
        [(b"c".to_vec(), 9), (b"a".to_vec(), 10), (b"b".to_vec(), 12)]
    );
    assert!(sessions.sessions_ending(13, 12).expect("empty").is_empty());
}
