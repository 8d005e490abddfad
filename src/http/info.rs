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
    let queries = app.with_engine(|engine, _| engine.query_metrics()).await?;
    let mut text = String::new();
    let mut family = |name: &str, kind: &str, help: &str, samples: Vec<(String, f64)>| {
        let _ = writeln!(text, "# HELP {name} {help}");
        let _ = writeln!(text, "# TYPE {name} {kind}");
        for (labels, value) in samples {
            let _ = writeln!(text, "{name}{labels} {value}");
        }
    };
    family(
        "brook_push_queries",
        "gauge",
        "Push queries running now.",
        vec![(String::new(), push_queries as f64)],
    );
    family(
        "brook_http_requests_total",
        "counter",
        "HTTP requests received.",
        vec![(String::new(), requests as f64)],
    );
    let per_query =
        |f: &dyn Fn(&crate::engine::QueryMetrics) -> Option<f64>| -> Vec<(String, f64)> {
            queries
                .iter()
                .filter_map(|q| Some((format!("{{query=\"{}\"}}", q.id), f(q)?)))
                .collect()
        };
    family(
        "brook_query_up",
        "gauge",
        "Whether a persistent query runs (0: it stopped on an error).",
        per_query(&|q| Some(f64::from(u8::from(q.running)))),
    );
    family(
        "brook_query_records_in_total",
        "counter",
        "Input records a query consumed and committed since it started in this process.",
        per_query(&|q| Some(q.records_in as f64)),
    );
    family(
        "brook_query_records_out_total",
        "counter",
        "Records a query wrote to its sink topic since it started in this process.",
        per_query(&|q| Some(q.records_out as f64)),
    );
    family(
        "brook_query_lag_records",
        "gauge",
        "Records of a query's sources beyond its committed offsets.",
        per_query(&|q| q.lag.map(|l| l as f64)),
    );
    family(
        "brook_query_bad_records_total",
        "counter",
        "Records a query could not decode, evaluate or encode (each is in the processing log).",
        per_query(&|q| Some(q.bad_records as f64)),
    );
    family(
        "brook_query_late_records_total",
        "counter",
        "Records a query dropped because their window had closed (each is in the processing log).",
        per_query(&|q| Some(q.late_records as f64)),
    );
    family(
        "brook_query_state_bytes",
        "gauge",
        "Size of a query's state directory.",
        per_query(&|q| Some(q.state_bytes as f64)),
    );
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        text,
    )
        .into_response())
}
