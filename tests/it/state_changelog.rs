//! A window store's changelog through `QueryState`: one record per window change, and a
//! restore into a new directory rebuilds both of its layouts.

use brook::exec::query_state::{QueryState, StateLocation, TaskSlot, changelog_topic};
use brook::log::{EmbeddedLog, LogConfig};
use brook::state::WindowStore;
use brook::transport::{OffsetSpec, TopicPartition, Transport};

fn temporary(prefix: &str) -> StateLocation {
    StateLocation::Temporary {
        changelog_prefix: Some(prefix.to_string()),
    }
}

#[test]
fn a_window_store_logs_its_entries_once_and_restores_its_time_index() {
    let dir = tempfile::tempdir().expect("dir");
    let log = EmbeddedLog::open(dir.path(), LogConfig::default()).expect("log");
    let mut state = QueryState::open(&temporary("q")).expect("state");
    let store = state
        .task_store("groups", TaskSlot::SINGLE, WindowStore::CHANGELOG)
        .expect("store");
    state.restore(&log).expect("restore");
    let mut windows = WindowStore::new(store);
    windows.put(b"a", 0, b"1").expect("put");
    windows.put(b"b", 10, b"2").expect("put");
    windows.put(b"c", 20, b"3").expect("put");
    windows.delete(b"b", 10).expect("delete");
    let mut producer = log.transactional_producer("t").expect("producer");
    producer.begin_transaction().expect("begin");
    state.send_changes(producer.as_mut()).expect("send");
    let outcomes = producer.commit_transaction().expect("commit");
    state.committed(&outcomes).expect("committed");
    let topic = changelog_topic("q", "groups");
    let tp = TopicPartition::new(&topic, 0);
    let logged = log.list_offset(&tp, OffsetSpec::Latest).expect("end");
    assert_eq!(logged, 3, "one record per window (a, b's deletion, c)");

    // A new directory (as after losing the disk) rebuilds both layouts from the changelog.
    let mut again = QueryState::open(&temporary("q")).expect("state");
    let store = again
        .task_store("groups", TaskSlot::SINGLE, WindowStore::CHANGELOG)
        .expect("store");
    again.restore(&log).expect("restore");
    let mut restored = WindowStore::new(store);
    let starts: Vec<(Vec<u8>, i64)> = restored
        .fetch_all(i64::MIN, i64::MAX)
        .expect("fetch")
        .into_iter()
        .map(|e| (e.key, e.start))
        .collect();
    assert_eq!(starts, [(b"a".to_vec(), 0), (b"c".to_vec(), 20)]);
    assert_eq!(restored.expire_before(15).expect("expire"), 1);
    assert_eq!(restored.get(b"a", 0).expect("get"), None);
    assert_eq!(restored.get(b"c", 20).expect("get"), Some(b"3".to_vec()));
}
