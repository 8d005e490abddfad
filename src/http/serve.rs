//! The accept loop and each connection's limits: how many connections are open at once, how
//! long a client may take to send a request's headers, how long a connection may sit with no
//! request in flight, and HTTP/2 keep-alive pings that find clients that went away while a
//! push query was quiet. On shutdown every connection is asked to finish gracefully.
//!
//! A connection with a request in flight is never idle: a push query with no rows for an
//! hour keeps its connection. Idle means no request and no response body in progress. A
//! connection that has not begun a request gets the header-read limit (a client that connects
//! and sends nothing, or part of an HTTP/2 preface, is dropped then); an HTTP/1.1 connection
//! waiting for its next request does too (hyper restarts its header timer when it goes idle).
//!
//! May import: nothing of Brook's (it serves any axum `Router`).

use axum::Router;
use axum::body::Body;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tower::ServiceExt;

/// How many connections, and how long they may take and sit.
#[derive(Clone, Copy, Debug)]
pub struct ConnectionLimits {
    /// Connections open at once; past it, new ones wait in the listen backlog.
    pub max_connections: usize,
    /// A client must send a whole request head within this (HTTP/1.1).
    pub header_read: Duration,
    /// A client must send a whole request body within this, from when its handler starts
    /// reading it (see `read_body` in `http/mod.rs`); `/inserts-stream` must send its first
    /// line within it.
    pub body_read: Duration,
    /// A connection with no request in flight for this long is closed.
    pub idle: Duration,
    /// HTTP/2 pings this often; a client that does not answer in time is dropped.
    pub h2_keep_alive: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            max_connections: 4096,
            header_read: Duration::from_secs(30),
            body_read: Duration::from_secs(30),
            idle: Duration::from_secs(600),
            h2_keep_alive: Duration::from_secs(30),
        }
    }
}

/// How long a stopping server waits for connections to finish their responses.
const DRAIN_LIMIT: Duration = Duration::from_secs(5);

/// Serves `router` on `listener` until `stop` resolves, then lets connections finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    stop: impl std::future::Future<Output = ()>,
) {
    let (stopping_tx, stopping_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            accepted = listener.accept(), if connections.len() < limits.max_connections => match accepted {
                Ok((stream, _peer)) => {
                    let task = serve_connection(stream, router.clone(), limits, stopping_rx.clone());
                    connections.spawn(task);
                }
                // Out of file descriptors and the like: back off instead of spinning.
                Err(e) => {
                    tracing::warn!("accepting an HTTP connection failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            () = &mut stop => break,
        }
    }
    drop(listener);
    let _ = stopping_tx.send(true);
    let drained = tokio::time::timeout(DRAIN_LIMIT, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            "{} HTTP connections still open after {DRAIN_LIMIT:?}; closing them",
            connections.len()
        );
        connections.abort_all();
    }
}

/// Serves one connection until it ends, is idle too long, or the server stops.
async fn serve_connection(
    stream: TcpStream,
    router: Router,
    limits: ConnectionLimits,
    mut stopping: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let activity = Arc::new(Activity::new());
    let service = {
        let activity = activity.clone();
        hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            let in_flight = activity.begin();
            let router = router.clone();
            async move {
                let response = router.oneshot(request.map(Body::new)).await?;
                // The request stays in flight until its response body is done or dropped.
                Ok::<_, std::convert::Infallible>(response.map(|body| {
                    Body::new(body.map_frame(move |frame| {
                        let _ = &in_flight;
                        frame
                    }))
                }))
            }
        })
    };
    let builder = connection_builder(&limits);
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    let mut closing = false;
    loop {
        tokio::select! {
            served = connection.as_mut() => {
                if let Err(e) = served {
                    tracing::debug!("HTTP connection ended: {e}");
                }
                return;
            }
            () = activity.idle_for(limits.header_read, limits.idle), if !closing => {
                tracing::debug!("closing an idle HTTP connection");
                connection.as_mut().graceful_shutdown();
                closing = true;
            }
            changed = stopping.changed(), if !closing => {
                if changed.is_ok() {
                    connection.as_mut().graceful_shutdown();
                }
                closing = true;
            }
        }
    }
}

/// HTTP/1.1 and HTTP/2 (h2c) on one connection, with the header-read timer and pings.
fn connection_builder(limits: &ConnectionLimits) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(limits.h2_keep_alive)
        .keep_alive_timeout(limits.h2_keep_alive);
    builder
}

/// Requests in flight on a connection, and when the last one ended.
struct Activity {
    started: Instant,
    in_flight: AtomicUsize,
    /// Whether a request ever began on the connection.
    used: AtomicBool,
    /// Milliseconds after `started` when a request last began or ended.
    last_change_ms: AtomicU64,
}

/// Counts a request in flight while it lives.
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.touch();
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Activity {
    fn new() -> Self {
        Activity {
            started: Instant::now(),
            in_flight: AtomicUsize::new(0),
            used: AtomicBool::new(false),
            last_change_ms: AtomicU64::new(0),
        }
    }

    fn begin(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        self.used.store(true, Ordering::SeqCst);
        self.touch();
        InFlight(self.clone())
    }

    fn touch(&self) {
        let now = self.started.elapsed().as_millis() as u64;
        self.last_change_ms.store(now, Ordering::SeqCst);
    }

    /// Resolves once no request has been in flight for `limit` (for `unused_limit` while no
    /// request has begun).
    async fn idle_for(&self, unused_limit: Duration, limit: Duration) {
        loop {
            // In flight first: a request ends by touching, then leaving (see `InFlight`).
            let busy = self.in_flight.load(Ordering::SeqCst) > 0;
            let last_change = Duration::from_millis(self.last_change_ms.load(Ordering::SeqCst));
            let limit = match self.used.load(Ordering::SeqCst) {
                true => limit,
                false => unused_limit.min(limit),
            };
            let deadline = self.started + last_change + limit;
            let now = Instant::now();
            if !busy && now >= deadline {
                return;
            }
            // While busy, look again soon: the request may end at any moment.
            let wake = if busy {
                now + limit.min(Duration::from_secs(1))
            } else {
                deadline
            };
            tokio::time::sleep_until(wake).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_connection_is_idle_only_with_no_request_in_flight() {
        let activity = Arc::new(Activity::new());
        let limit = Duration::from_millis(200);
        let request = activity.begin();
        let unused = Duration::from_millis(50);
        let waited = tokio::time::timeout(limit * 5, activity.idle_for(unused, limit)).await;
        assert!(waited.is_err(), "idle while a request was in flight");
        drop(request);
        let ended = Instant::now();
        activity.idle_for(unused, limit).await;
        assert!(ended.elapsed() >= limit, "idle before the limit passed");
    }

    #[tokio::test]
    async fn a_connection_that_never_began_a_request_gets_the_shorter_limit() {
        let activity = Activity::new();
        let (unused, limit) = (Duration::from_millis(50), Duration::from_secs(3600));
        let waited =
            tokio::time::timeout(Duration::from_secs(30), activity.idle_for(unused, limit));
        assert!(
            waited.await.is_ok(),
            "an unused connection was kept for the long limit"
        );
    }
}
