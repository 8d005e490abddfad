//! Server information: `GET /info` (ksqlDB's `KsqlServerInfo`), `GET /healthcheck` (healthy
//! once the startup query files have run), `GET /status` (every command ran synchronously, so
//! each is `SUCCESS`), `GET /metrics` (Prometheus text format), and ksqlDB's 404 for unknown
//! paths.

use super::AppState;
use super::error::{ApiError, NOT_FOUND, NOT_READY};
use axum::Json as JsonBody;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

/// Counters of the HTTP layer.
#[derive(Default)]
pub struct HttpMetrics {
    pub requests: AtomicU64,
}

/// Counts every request, and refuses those that need the engine until the startup query
/// files have run.
pub async fn count_request(
    State(app): State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    app.metrics.requests.fetch_add(1, Ordering::Relaxed);
    let always = ["/", "/info", "/healthcheck", "/metrics"];
    if !app.ready.load(Ordering::SeqCst) && !always.contains(&request.uri().path()) {
        return ApiError::generic(
            NOT_READY,
            "The server is starting: it is running its startup query files. /healthcheck says when it is ready.",
        )
        .into_response();
    }
    next.run(request).await
}

pub async fn root() -> Redirect {
    Redirect::temporary("/info")
}

pub async fn info(State(app): State<AppState>) -> JsonBody<Json> {
    JsonBody(json!({
        "KsqlServerInfo": {
            "version": env!("CARGO_PKG_VERSION"),
            "kafkaClusterId": "brook-embedded",
            "ksqlServiceId": "brook_",
            "serverStatus": if app.ready.load(Ordering::SeqCst) { "RUNNING" } else { "STARTING" },
        }
    }))
}

pub async fn healthcheck(State(app): State<AppState>) -> JsonBody<Json> {
    let ready = app.ready.load(Ordering::SeqCst);
    let check = |healthy: bool| json!({"isHealthy": healthy});
    JsonBody(json!({
        "isHealthy": ready,
        "details": {"metastore": check(ready), "kafka": check(true), "commandRunner": check(ready)},
        "serverState": if ready { "READY" } else { "STARTING" },
    }))
}

pub async fn status(command: Option<Path<String>>) -> JsonBody<Json> {
    match command {
        Some(Path(id)) => JsonBody(json!({"status": "SUCCESS", "message": format!("{id} ran")})),
        None => JsonBody(json!({"commandStatuses": {}})),
    }
}

pub async fn not_found(uri: Uri) -> ApiError {
    ApiError::generic(NOT_FOUND, format!("Not found: {}", uri.path()))
}

/// `/metrics`: the server's and each persistent query's counters, Prometheus text format.
pub async fn metrics(State(app): State<AppState>) -> Result<Response, ApiError> {
    let push_queries = app.push.count();
    let requests = app.metrics.requests.load(Ordering::Relaxed);
    let (queries, errors) = app
        .with_engine(|engine, _| {
            let queries: Vec<(String, bool)> = engine
                .catalog()
                .queries
                .keys()
                .map(|id| (id.clone(), engine.query_failure(id).is_some()))
                .collect();
            let mut errors: BTreeMap<String, u64> = BTreeMap::new();
            for e in engine.processing_errors() {
                *errors.entry(e.query_id).or_default() += 1;
            }
            (queries, errors)
        })
        .await?;
    let mut text = String::new();
    let _ = writeln!(text, "# HELP brook_push_queries Push queries running now.");
    let _ = writeln!(text, "# TYPE brook_push_queries gauge");
    let _ = writeln!(text, "brook_push_queries {push_queries}");
    let _ = writeln!(
        text,
        "# HELP brook_http_requests_total HTTP requests received."
    );
    let _ = writeln!(text, "# TYPE brook_http_requests_total counter");
    let _ = writeln!(text, "brook_http_requests_total {requests}");
    let _ = writeln!(
        text,
        "# HELP brook_query_up Whether a persistent query runs (0: it stopped on an error)."
    );
    let _ = writeln!(text, "# TYPE brook_query_up gauge");
    for (id, failed) in &queries {
        let _ = writeln!(
            text,
            "brook_query_up{{query=\"{id}\"}} {}",
            u8::from(!failed)
        );
    }
    let _ = writeln!(
        text,
        "# HELP brook_query_processing_errors_total Records a query could not process (in the processing log)."
    );
    let _ = writeln!(text, "# TYPE brook_query_processing_errors_total counter");
    for (id, count) in &errors {
        let _ = writeln!(
            text,
            "brook_query_processing_errors_total{{query=\"{id}\"}} {count}"
        );
    }
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        text,
    )
        .into_response())
}
