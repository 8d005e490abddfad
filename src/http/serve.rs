//! The accept loop and each connection's limits: how long a client may take to send a
//! request's headers (HTTP/1.1), how long a connection may sit with no request in flight
//! (both protocols), and HTTP/2 keep-alive pings that find clients that went away while a
//! push query was quiet. On shutdown every connection is asked to finish gracefully.
//!
//! A connection with a request in flight is never idle: a push query with no rows for an
//! hour keeps its connection. Idle means no request and no response body in progress.
//!
//! May import: nothing of Brook's (it serves any axum `Router`).

use axum::Router;
use axum::body::Body;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tower::ServiceExt;

/// How long connections may take and sit.
#[derive(Clone, Copy, Debug)]
pub struct ConnectionTimeouts {
    /// A client must send a whole request head within this (HTTP/1.1).
    pub header_read: Duration,
    /// A connection with no request in flight for this long is closed.
    pub idle: Duration,
    /// HTTP/2 pings this often; a client that does not answer in time is dropped.
    pub h2_keep_alive: Duration,
}

impl Default for ConnectionTimeouts {
    fn default() -> Self {
        ConnectionTimeouts {
            header_read: Duration::from_secs(30),
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
    timeouts: ConnectionTimeouts,
    stop: impl std::future::Future<Output = ()>,
) {
    let (stopping_tx, stopping_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    let task = serve_connection(stream, router.clone(), timeouts, stopping_rx.clone());
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
    timeouts: ConnectionTimeouts,
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
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(timeouts.header_read);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(timeouts.h2_keep_alive)
        .keep_alive_timeout(timeouts.h2_keep_alive);
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
            () = activity.idle_for(timeouts.idle), if !closing => {
                tracing::debug!("closing an HTTP connection idle for {:?}", timeouts.idle);
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

/// Requests in flight on a connection, and when the last one ended.
struct Activity {
    started: Instant,
    in_flight: AtomicUsize,
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
            last_change_ms: AtomicU64::new(0),
        }
    }

    fn begin(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        self.touch();
        InFlight(self.clone())
    }

    fn touch(&self) {
        let now = self.started.elapsed().as_millis() as u64;
        self.last_change_ms.store(now, Ordering::SeqCst);
    }

    /// Resolves once no request has been in flight for `limit`.
    async fn idle_for(&self, limit: Duration) {
        loop {
            let last_change = Duration::from_millis(self.last_change_ms.load(Ordering::SeqCst));
            let deadline = self.started + last_change + limit;
            let busy = self.in_flight.load(Ordering::SeqCst) > 0;
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
        let waited = tokio::time::timeout(limit * 5, activity.idle_for(limit)).await;
        assert!(waited.is_err(), "idle while a request was in flight");
        drop(request);
        let ended = Instant::now();
        activity.idle_for(limit).await;
        assert!(ended.elapsed() >= limit, "idle before the limit passed");
    }
}
