//! `POST /query-stream` (ksqlDB's HTTP/2 query API) and `POST /close-query`.
//!
//! The response starts with a header object `{"queryId", "columnNames", "columnTypes"}`, then
//! one JSON array per row. As `application/vnd.ksqlapi.delimited.v1` (the default, and what
//! `*/*` gets) each is one line, sent as its own chunk (an HTTP/2 DATA frame) as soon as the
//! row exists; as `application/json` the same items form one JSON array. A pull query's
//! stream ends after its rows; a push query's at its LIMIT, on `/close-query`, or when the
//! client disconnects. An error after the header is written as a `generic_error` line.

use super::AppState;
use super::error::ApiError;
use super::push::{self, PushEvent};
use crate::engine::StatementResult;
use crate::engine::value_json::value_to_json;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Map, Value as Json, json};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

pub const DELIMITED: &str = "application/vnd.ksqlapi.delimited.v1";

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryStreamRequest {
    #[serde(default)]
    pub sql: Option<String>,
    #[serde(default)]
    pub properties: Option<Map<String, Json>>,
    #[serde(default)]
    pub session_variables: Option<Map<String, Json>>,
}

/// What a started query gives the response writer.
pub enum Started {
    Pull {
        header: Json,
        /// The header schema as ksqlDB's `/query` writes it (keys marked `KEY`).
        schema: String,
        rows: Vec<Json>,
    },
    Push {
        header: Json,
        events: mpsc::Receiver<PushEvent>,
    },
}

pub async fn handle(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let body = super::read_body(body, &app).await?;
    let request: QueryStreamRequest = super::parse_body(&body)?;
    let sql = request.sql.clone().unwrap_or_default();
    if sql.trim().is_empty() {
        return Err(ApiError::bad_request("\"sql\" field must be populated"));
    }
    let settings = super::ksql::KsqlRequest {
        streams_properties: request.properties.clone(),
        session_variables: request.session_variables.clone(),
        ..Default::default()
    };
    let started = start_query(&app, sql, settings).await?;
    let json = wants_json(&headers);
    Ok(match started {
        Started::Pull { header, rows, .. } => {
            let mut items = vec![header];
            items.extend(rows);
            respond(json, stream_of(items))
        }
        Started::Push { header, events } => respond(json, push_stream(header, events)),
    })
}

/// Runs `sql` (one SELECT) with the request's settings: a pull query's rows, or a started push
/// query's events.
pub async fn start_query(
    app: &AppState,
    sql: String,
    settings: super::ksql::KsqlRequest,
) -> Result<Started, ApiError> {
    app.with_engine(move |engine, app| {
        let session = engine.session();
        super::ksql::apply_settings(engine, &settings);
        let result = run_select(engine, &sql, app);
        engine.restore_session(session);
        result
    })
    .await?
}

fn run_select(
    engine: &mut crate::engine::Engine,
    sql: &str,
    app: &AppState,
) -> Result<Started, ApiError> {
    let mut pieces = crate::sql::split_statements(sql)
        .map_err(|e| ApiError::statement(e.to_string(), sql, Vec::new()))?;
    if pieces.len() != 1 {
        return Err(ApiError::bad_request(format!(
            "Expected exactly one statement, got {}",
            pieces.len()
        )));
    }
    let piece = pieces.remove(0);
    let text = piece.text.as_str();
    let statement = engine
        .parse(&piece)
        .map_err(|e| ApiError::statement(e.to_string(), text, Vec::new()))?;
    if !matches!(statement.kind, crate::sql::StatementKind::Select(_)) {
        return Err(ApiError::statement(
            "Not a query: /query-stream runs SELECT statements; send other statements to /ksql.",
            text,
            Vec::new(),
        ));
    }
    let pull = matches!(&statement.kind, crate::sql::StatementKind::Select(q) if q.emit.is_none());
    if !pull {
        app.push.check_capacity()?;
    }
    let result = engine
        .execute(statement)
        .map_err(|e| ApiError::engine(&e, text, Vec::new()))?;
    match result {
        StatementResult::PullQuery(r) => {
            let id = format!("pull_{}", uuid_like(app));
            Ok(Started::Pull {
                header: json!({"queryId": id, "columnNames": r.column_names, "columnTypes": r.column_types}),
                schema: r.schema.clone(),
                rows: r
                    .rows
                    .iter()
                    .map(|row| json!(row.iter().map(value_to_json).collect::<Vec<_>>()))
                    .collect(),
            })
        }
        StatementResult::PushQuery(q) => {
            let header = json!({"queryId": q.id, "columnNames": q.column_names, "columnTypes": q.column_types});
            let events = push::start(*q, app.push.clone(), app.config.push_buffer_rows);
            Ok(Started::Push { header, events })
        }
        _ => Err(ApiError::statement("Not a query", text, Vec::new())),
    }
}

/// A unique suffix for pull query ids.
fn uuid_like(app: &AppState) -> u64 {
    app.command_sequence
        .fetch_add(1, std::sync::atomic::Ordering::SeqCst) as u64
}

/// Whether the client asked for one JSON array rather than delimited lines.
pub fn wants_json(headers: &HeaderMap) -> bool {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    accept.contains("application/json") && !accept.contains(DELIMITED)
}

/// The items as one chunk each (delimited lines, or the parts of a JSON array).
fn respond(json: bool, items: mpsc::Receiver<Json>) -> Response {
    let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(16);
    tokio::spawn(async move {
        let mut items = items;
        let mut first = true;
        while let Some(item) = push::next_for(&mut items, &tx).await {
            let text = match (json, first) {
                (false, _) => format!("{item}\n"),
                (true, true) => format!("[{item}"),
                (true, false) => format!(",\n{item}"),
            };
            first = false;
            if tx.send(Ok(Bytes::from(text))).await.is_err() {
                return;
            }
        }
        if json {
            let close = if first { "[]" } else { "]" };
            let _ = tx.send(Ok(Bytes::from(close))).await;
        }
    });
    let content_type = if json { "application/json" } else { DELIMITED };
    Response::builder()
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from_stream(ReceiverStream::new(rx)))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

/// A finished list of items as a channel.
fn stream_of(items: Vec<Json>) -> mpsc::Receiver<Json> {
    let (tx, rx) = mpsc::channel(items.len().max(1));
    for item in items {
        let _ = tx.try_send(item);
    }
    rx
}

/// The header, then the push query's rows as they come (an error as a `generic_error`).
fn push_stream(header: Json, mut events: mpsc::Receiver<PushEvent>) -> mpsc::Receiver<Json> {
    let (tx, rx) = mpsc::channel(1);
    tokio::spawn(async move {
        if tx.send(header).await.is_err() {
            return;
        }
        while let Some(event) = push::next_for(&mut events, &tx).await {
            let item = match event {
                PushEvent::Row(row) => {
                    json!(row.values.iter().map(value_to_json).collect::<Vec<_>>())
                }
                PushEvent::Error(message) => {
                    let e = ApiError::generic(super::error::SERVER_ERROR, message);
                    let _ = tx.send(e.to_json()).await;
                    return;
                }
                PushEvent::LimitReached => return,
            };
            if tx.send(item).await.is_err() {
                return;
            }
        }
    });
    rx
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CloseQueryRequest {
    pub query_id: String,
}

/// `POST /close-query {"queryId": ...}`: stops a push query (its stream ends).
pub async fn close(State(app): State<AppState>, body: Body) -> Result<Response, ApiError> {
    let body = super::read_body(body, &app).await?;
    let request: CloseQueryRequest = super::parse_body(&body)?;
    if !app.push.close(&request.query_id) {
        return Err(ApiError::bad_request(format!(
            "No query with id {}",
            request.query_id
        )));
    }
    Ok(Response::new(Body::empty()))
}
