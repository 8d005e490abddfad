//! Push queries served over HTTP. Each runs on its own thread, which steps the query and hands
//! its rows to the client's response through a bounded channel. The query ends at its LIMIT,
//! on `POST /close-query`, when the client goes away (the channel closes), when the client
//! reads too slowly (the channel stays full: it is disconnected so that it cannot hold the
//! server's memory, and other clients are unaffected), or on an error.
//!
//! The registry caps how many push queries run at once (`ksql.max.push.queries`, ksqlDB's
//! setting, default 100).

use super::error::{ApiError, TOO_MANY_PUSH_QUERIES};
use crate::engine::push_rows::PushRow;
use crate::engine::results::PushQuery;
use crate::exec::MemoryProcessingLog;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// What a push query's response receives.
#[derive(Debug)]
pub enum PushEvent {
    /// A row; a table's deletion is marked (`/query` shows it as a tombstone).
    Row(PushRow),
    /// The query failed; nothing follows.
    Error(String),
    /// The LIMIT was reached; nothing follows.
    LimitReached,
}

/// The push queries running now, by id.
pub struct PushRegistry {
    running: Mutex<HashMap<String, Arc<AtomicBool>>>,
    max: usize,
}

/// How long a full channel may stay full before its client counts as too slow.
const SLOW_CLIENT_GRACE: Duration = Duration::from_secs(10);

impl PushRegistry {
    pub fn new(max: usize) -> PushRegistry {
        PushRegistry {
            running: Mutex::new(HashMap::new()),
            max,
        }
    }

    /// How many push queries run now.
    pub fn count(&self) -> usize {
        self.running.lock().map(|r| r.len()).unwrap_or(0)
    }

    /// Reserves a place for a new push query, or refuses with ksqlDB's error past the cap.
    pub fn check_capacity(&self) -> Result<(), ApiError> {
        if self.count() >= self.max {
            return Err(ApiError::generic(
                TOO_MANY_PUSH_QUERIES,
                format!(
                    "Not executing statement(s) as it would cause the number of active, push queries to exceed the configured limit. Terminate existing PUSH queries, or increase the 'ksql.max.push.queries' setting via the 'ksql-server.properties' file. Current push query count: {}. Configured limit: {}.",
                    self.count(),
                    self.max
                ),
            ));
        }
        Ok(())
    }

    /// Stops the push query `id`; false if there is none.
    pub fn close(&self, id: &str) -> bool {
        let stop = self.running.lock().ok().and_then(|r| r.get(id).cloned());
        match stop {
            Some(stop) => {
                stop.store(true, Ordering::SeqCst);
                true
            }
            None => false,
        }
    }

    /// Stops every push query (their streams end): on server shutdown.
    pub fn close_all(&self) {
        if let Ok(r) = self.running.lock() {
            for stop in r.values() {
                stop.store(true, Ordering::SeqCst);
            }
        }
    }

    fn insert(&self, id: &str, stop: Arc<AtomicBool>) {
        if let Ok(mut r) = self.running.lock() {
            r.insert(id.to_string(), stop);
        }
    }

    fn remove(&self, id: &str) {
        if let Ok(mut r) = self.running.lock() {
            r.remove(id);
        }
    }
}

/// Starts serving `query` on its own thread; its rows arrive on the returned channel (of
/// `buffer` rows), which closes when the query ends.
pub fn start(
    query: PushQuery,
    registry: Arc<PushRegistry>,
    buffer: usize,
) -> mpsc::Receiver<PushEvent> {
    let (tx, rx) = mpsc::channel(buffer.max(1));
    let stop = Arc::new(AtomicBool::new(false));
    registry.insert(&query.id, stop.clone());
    let id = query.id.clone();
    let spawned = std::thread::Builder::new()
        .name(format!("push-{id}"))
        .stack_size(crate::common::limits::THREAD_STACK_BYTES)
        .spawn({
            let registry = registry.clone();
            let id = id.clone();
            move || {
                drive(query, &tx, &stop);
                registry.remove(&id);
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(query = %id, "cannot start a push query thread: {e}");
        registry.remove(&id);
    }
    rx
}

/// Steps the query and forwards its rows until it ends.
fn drive(mut q: PushQuery, tx: &mpsc::Sender<PushEvent>, stop: &AtomicBool) {
    let mut log = MemoryProcessingLog::default();
    let mut sent: u64 = 0;
    while !stop.load(Ordering::SeqCst) && !tx.is_closed() {
        if let Err(e) = q.query.step(1000, Duration::from_millis(100), &mut log) {
            let _ = tx.blocking_send(PushEvent::Error(e.to_string()));
            return;
        }
        // (Reported as they happen, at debug level; not kept.)
        log.errors.clear();
        let rows = q.rows.lock().map(|mut r| std::mem::take(&mut *r));
        for row in rows.unwrap_or_default() {
            if q.limit.is_some_and(|l| sent >= l) {
                break;
            }
            if !send(tx, PushEvent::Row(row), stop) {
                return;
            }
            sent += 1;
        }
        if q.limit.is_some_and(|l| sent >= l) || q.query.is_finished() {
            let _ = send(tx, PushEvent::LimitReached, stop);
            return;
        }
    }
}

/// The next item of `items`, for a task that forwards it into `out`: None once `items` ended
/// or `out`'s receiver is gone, whichever comes first. A forwarder must wait on both: one that
/// only learns of a gone receiver when its next send fails keeps the push query behind it
/// running, and counting against the cap, until a row arrives.
pub async fn next_for<T, U>(items: &mut mpsc::Receiver<T>, out: &mpsc::Sender<U>) -> Option<T> {
    tokio::select! {
        item = items.recv() => item,
        () = out.closed() => None,
    }
}

/// Sends an event, waiting while the client catches up; false when the client is gone, too
/// slow (the channel stayed full for [`SLOW_CLIENT_GRACE`]), or the query was closed.
fn send(tx: &mpsc::Sender<PushEvent>, mut event: PushEvent, stop: &AtomicBool) -> bool {
    let since = Instant::now();
    loop {
        match tx.try_send(event) {
            Ok(()) => return true,
            Err(mpsc::error::TrySendError::Closed(_)) => return false,
            Err(mpsc::error::TrySendError::Full(back)) => {
                if stop.load(Ordering::SeqCst) || since.elapsed() > SLOW_CLIENT_GRACE {
                    tracing::warn!("disconnecting a push query client that reads too slowly");
                    return false;
                }
                event = back;
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_refuses_past_the_limit_and_close_finds_queries() {
        let registry = PushRegistry::new(1);
        assert!(registry.check_capacity().is_ok());
        registry.insert("q1", Arc::new(AtomicBool::new(false)));
        let e = registry.check_capacity().expect_err("over the cap");
        assert_eq!(e.code, TOO_MANY_PUSH_QUERIES);
        assert!(registry.close("q1"));
        assert!(!registry.close("nope"));
        registry.remove("q1");
        assert_eq!(registry.count(), 0);
    }

    #[tokio::test]
    async fn a_forwarder_stops_waiting_when_its_receiver_is_gone() {
        let (items_tx, mut items) = mpsc::channel::<u32>(1);
        let (out, out_rx) = mpsc::channel::<u32>(1);
        items_tx.send(1).await.expect("send");
        assert_eq!(next_for(&mut items, &out).await, Some(1));
        drop(out_rx);
        // No item comes, and none ever may: the forwarder is released anyway.
        let next = tokio::time::timeout(Duration::from_secs(30), next_for(&mut items, &out));
        assert_eq!(next.await, Ok(None));
        drop(items_tx);
    }

    #[test]
    fn a_full_channel_counts_as_a_slow_client_once_closed() {
        let (tx, rx) = mpsc::channel(1);
        let stop = AtomicBool::new(false);
        assert!(send(&tx, PushEvent::LimitReached, &stop));
        stop.store(true, Ordering::SeqCst);
        assert!(!send(&tx, PushEvent::LimitReached, &stop));
        drop(rx);
        assert!(!send(&tx, PushEvent::LimitReached, &AtomicBool::new(false)));
    }
}
