//! `POST /query`, ksqlDB's older query endpoint (`{"ksql": "SELECT ...;", "streamsProperties":
//! {...}}`), written as its `QueryStreamWriter` does: a JSON array streamed item by item —
//! `[{"header":{"queryId","schema"}},\n`, one `{"row":{"columns":[...]}},\n` per row as it
//! is produced, then `{"finalMessage":"Limit Reached"}]\n` (or `"Query Completed"` for a pull
//! query). A push query with no rows for a second writes a bare `\n`, which clients skip, as a
//! keep-alive. An error after the header is written as `{"errorMessage":{...}}`.

use super::AppState;
use super::error::{ApiError, SERVER_ERROR};
use super::push::{self, PushEvent};
use super::query_stream::{Started, start_query};
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header;
use axum::response::Response;
use serde_json::{Value as Json, json};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

const KEEP_ALIVE: Duration = Duration::from_secs(1);

pub async fn handle(State(app): State<AppState>, body: Body) -> Result<Response, ApiError> {
    let body = super::read_body(body, &app).await?;
    let request: super::ksql::KsqlRequest = super::parse_body(&body)?;
    let sql = request.ksql.clone().unwrap_or_default();
    if sql.trim().is_empty() {
        return Err(ApiError::bad_request("\"ksql\" field must be populated"));
    }
    let started = start_query(&app, sql, request).await?;
    let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(16);
    tokio::spawn(write(started, tx));
    Ok(Response::builder()
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from_stream(ReceiverStream::new(rx)))
        .unwrap_or_else(|_| Response::new(Body::empty())))
}

type Chunks = mpsc::Sender<Result<Bytes, std::io::Error>>;

async fn send(tx: &Chunks, text: String) -> bool {
    tx.send(Ok(Bytes::from(text))).await.is_ok()
}

async fn write(started: Started, tx: Chunks) {
    let (header, schema, rows) = match started {
        Started::Pull {
            header,
            schema,
            rows,
        } => (header, schema, rows),
        Started::Push { header, events } => {
            write_push(header, events, tx).await;
            return;
        }
    };
    let item = json!({"header": {"queryId": header["queryId"], "schema": schema}});
    if !send(&tx, format!("[{item},\n")).await {
        return;
    }
    for row in rows {
        if !send(&tx, format!("{},\n", json!({"row": {"columns": row}}))).await {
            return;
        }
    }
    send(&tx, "{\"finalMessage\":\"Query Completed\"}]\n".into()).await;
}

async fn write_push(header: Json, mut events: mpsc::Receiver<PushEvent>, tx: Chunks) {
    if !send(&tx, format!("[{},\n", header_item(&header))).await {
        return;
    }
    loop {
        let event = match tokio::time::timeout(KEEP_ALIVE, push::next_for(&mut events, &tx)).await {
            Err(_) => {
                // No row for a while: a bare newline, which also finds a gone client.
                if !send(&tx, "\n".into()).await {
                    return;
                }
                continue;
            }
            Ok(None) => return,
            Ok(Some(event)) => event,
        };
        let text = match event {
            PushEvent::Row(row) => {
                let columns: Vec<Json> = row
                    .values
                    .iter()
                    .map(crate::engine::value_json::value_to_json)
                    .collect();
                let item = match row.tombstone {
                    true => json!({"row": {"columns": columns, "tombstone": true}}),
                    false => json!({"row": {"columns": columns}}),
                };
                format!("{item},\n")
            }
            PushEvent::LimitReached => {
                send(&tx, "{\"finalMessage\":\"Limit Reached\"}]\n".into()).await;
                return;
            }
            PushEvent::Error(message) => {
                let e = ApiError::generic(SERVER_ERROR, message).to_json();
                send(&tx, format!("\n{},\n", json!({"errorMessage": e}))).await;
                return;
            }
        };
        if !send(&tx, text).await {
            return;
        }
    }
}

/// `{"header":{"queryId","schema"}}` from the new API's header object.
fn header_item(header: &Json) -> Json {
    let names = header["columnNames"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let types = header["columnTypes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let schema: Vec<String> = names
        .iter()
        .zip(&types)
        .map(|(n, t)| {
            format!(
                "`{}` {}",
                n.as_str().unwrap_or(""),
                t.as_str().unwrap_or("")
            )
        })
        .collect();
    json!({"header": {"queryId": header["queryId"], "schema": schema.join(", ")}})
}
