//! The HTTP API, compatible with ksqlDB's REST API so that ksqlDB's clients work unchanged:
//! `/ksql` (statements), `/query-stream` and `/close-query` (the HTTP/2 query API),
//! `/query` (the older one), `/inserts-stream`, `/info`, `/healthcheck`, `/status`, and
//! `/metrics` (Prometheus text). HTTP/1.1 and HTTP/2 cleartext (h2c, prior knowledge) are
//! served on the same port.
//!
//! The engine is shared with the shell behind a mutex; handlers take it on a blocking thread
//! for the statement's length only. Push queries then run on their own threads
//! (`push.rs`) and stream to their clients through bounded channels.
//!
//! Limits that protect the server: a request body limit, a cap on concurrent push queries,
//! bounded per-client row buffers (a client that stops reading is disconnected), a cap on
//! open connections, per-connection timeouts for reading a request's headers and for sitting
//! idle (`serve.rs`), and a timeout for reading a request's body (`read_body`).
//!
//! May import: `engine`, `exec`, `common`, `sql`, `plan`.

pub mod client;
mod entities;
mod error;
mod info;
mod inserts;
mod ksql;
mod peers;
mod push;
mod query_legacy;
mod query_stream;
mod serve;

pub use error::ApiError;
pub use peers::PeerClient;
pub use serve::ConnectionLimits;

use crate::engine::Engine;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

/// Server settings.
#[derive(Clone, Debug)]
pub struct HttpConfig {
    pub listen: SocketAddr,
    /// Push queries running at once (ksqlDB's `ksql.max.push.queries`).
    pub max_push_queries: usize,
    /// Rows buffered per push-query client before it counts as too slow.
    pub push_buffer_rows: usize,
    /// The largest request body accepted (`/inserts-stream` is streamed and not limited).
    pub max_body_bytes: usize,
    /// Open connections at once, and header-read, body-read, idle and HTTP/2 keep-alive limits
    /// on each.
    pub connections: ConnectionLimits,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8088)),
            max_push_queries: 100,
            push_buffer_rows: 1000,
            max_body_bytes: 4 * 1024 * 1024,
            connections: ConnectionLimits::default(),
        }
    }
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    engine: Arc<Mutex<Engine>>,
    push: Arc<push::PushRegistry>,
    config: Arc<HttpConfig>,
    /// ksqlDB's command sequence number, one per statement that ran.
    command_sequence: Arc<AtomicI64>,
    /// Set once the startup query files have run (what `/healthcheck` reports).
    ready: Arc<AtomicBool>,
    /// Set when the server is asked to stop: a `/ksql` request runs no further statement.
    stopping: Arc<AtomicBool>,
    metrics: Arc<info::HttpMetrics>,
    /// The materialized tables, read for other servers without the engine's lock.
    tables: crate::engine::Tables,
}

impl AppState {
    /// Runs `work` with the engine locked, on a blocking thread.
    async fn with_engine<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Engine, &AppState) -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let app = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut engine = app.engine.lock().map_err(|_| {
                ApiError::generic(error::SERVER_ERROR, "the engine lock is poisoned")
            })?;
            Ok(work(&mut engine, &app))
        })
        .await
        .map_err(|e| ApiError::generic(error::SERVER_ERROR, format!("request task failed: {e}")))?
    }
}

/// A request's whole body, up to the configured limit (413 past it), within the body-read
/// timeout (408 past it: a client that withholds or trickles its body would otherwise hold its
/// connection, and a place under `--max-connections`, for ever). Answering before the body
/// ends closes an HTTP/1.1 connection (hyper cannot reuse it) and resets an HTTP/2 stream.
async fn read_body(body: axum::body::Body, app: &AppState) -> Result<axum::body::Bytes, ApiError> {
    let limit = app.config.max_body_bytes;
    let timeout = app.config.connections.body_read;
    let read = tokio::time::timeout(timeout, axum::body::to_bytes(body, limit)).await;
    let Ok(read) = read else {
        return Err(body_timeout(timeout));
    };
    read.map_err(|e| {
        ApiError::generic(
            error::PAYLOAD_TOO_LARGE,
            format!("The request body could not be read within the {limit}-byte limit: {e}"),
        )
    })
}

/// The error for a request body not received within `timeout`.
fn body_timeout(timeout: std::time::Duration) -> ApiError {
    ApiError::generic(
        error::REQUEST_TIMEOUT,
        format!(
            "The request body was not received within {} seconds (--body-read-timeout)",
            timeout.as_secs_f64()
        ),
    )
}

/// A request body as JSON of type `T`, or ksqlDB's 400 for malformed JSON.
fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("Invalid JSON in request: {e}")))
}

/// A handle on a running server.
pub struct Server {
    pub local_addr: SocketAddr,
    ready: Arc<AtomicBool>,
    stopping: Arc<AtomicBool>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Marks the server ready (`/healthcheck` says so): call once the startup files ran.
    pub fn set_ready(&self) {
        self.ready.store(true, Ordering::SeqCst);
    }

    /// Stops accepting requests and waits for the server thread. A `/ksql` request that is
    /// running its statements stops before the next one.
    pub fn stop(mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Starts the API on its own thread (with its own async runtime), serving `engine`.
pub fn start(engine: Arc<Mutex<Engine>>, config: HttpConfig) -> std::io::Result<Server> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("brook-http")
        .thread_stack_size(crate::common::limits::THREAD_STACK_BYTES)
        .enable_all()
        .build()?;
    let listener = runtime.block_on(tokio::net::TcpListener::bind(config.listen))?;
    let local_addr = listener.local_addr()?;
    let ready = Arc::new(AtomicBool::new(false));
    let stopping = Arc::new(AtomicBool::new(false));
    let tables = engine
        .lock()
        .map(|e| e.tables())
        .map_err(|_| std::io::Error::other("the engine lock is poisoned"))?;
    let app = AppState {
        tables,
        engine,
        push: Arc::new(push::PushRegistry::new(config.max_push_queries)),
        config: Arc::new(config),
        command_sequence: Arc::new(AtomicI64::new(1)),
        ready: ready.clone(),
        stopping: stopping.clone(),
        metrics: Arc::new(info::HttpMetrics::default()),
    };
    let push = app.push.clone();
    let connections = app.config.connections;
    let router = router(app);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("brook-http".into())
        .spawn(move || {
            runtime.block_on(async move {
                let stop = async move {
                    let _ = rx.await;
                    // Open push-query streams would keep their connections forever.
                    push.close_all();
                };
                serve::serve(listener, router, connections, stop).await;
            });
        })?;
    Ok(Server {
        local_addr,
        ready,
        stopping,
        shutdown: Some(tx),
        thread: Some(thread),
    })
}

fn router(app: AppState) -> Router {
    Router::new()
        .route("/ksql", post(ksql::handle))
        .route("/query-stream", post(query_stream::handle))
        .route("/close-query", post(query_stream::close))
        .route("/query", post(query_legacy::handle))
        .route("/inserts-stream", post(inserts::handle))
        .route("/info", get(info::info))
        .route("/", get(info::root))
        .route("/healthcheck", get(info::healthcheck))
        .route("/status", get(info::status))
        .route("/status/{*command}", get(info::status))
        .route("/metrics", get(info::metrics))
        .route("/internal/table-rows/{table}", post(peers::table_rows))
        .fallback(info::not_found)
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            info::count_request,
        ))
        .layer(DefaultBodyLimit::disable())
        .with_state(app)
}
