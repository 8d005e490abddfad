//! Between the servers of a service (a shared catalog on Kafka): `POST
//! /internal/table-rows/{table}` answers another server's pull query with the committed rows
//! of a materialized table that this server's tasks hold, and `PeerClient` asks it
//! (`engine::PeerRows`). The body is JSON, `{"keys": <base64>|null}` (the keys' values in
//! Brook's value encoding); the answer `{"rows": <base64>|null}` (an Arrow IPC stream), so
//! every value arrives with its exact type. It reads the tables' handles without the engine's
//! lock: two servers asking each other at once do not wait on each other.

use super::{ApiError, AppState};
use crate::common::{Value, codec, ipc};
use crate::engine::{Engine, PeerRows};
use arrow::record_batch::RecordBatch;
use axum::Json as JsonBody;
use axum::body::Body;
use axum::extract::{Path, State};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value as Json, json};
use std::net::ToSocketAddrs;
use std::time::Duration;

/// How long a server waits for another's rows.
const PEER_TIMEOUT: Duration = Duration::from_secs(30);

pub async fn table_rows(
    State(app): State<AppState>,
    Path(table): Path<String>,
    body: Body,
) -> Result<JsonBody<Json>, ApiError> {
    let body = super::read_body(body, &app).await?;
    let request: Json = super::parse_body(&body)?;
    let keys: Option<Vec<Vec<Value>>> = match request.get("keys") {
        None | Some(Json::Null) => None,
        Some(Json::String(text)) => {
            let bytes = STANDARD
                .decode(text)
                .map_err(|e| ApiError::bad_request(format!("\"keys\" is not base64: {e}")))?;
            Some(codec::decode(&bytes).map_err(|e| ApiError::bad_request(e.to_string()))?)
        }
        Some(_) => return Err(ApiError::bad_request("\"keys\" must be a string or null")),
    };
    let tables = app.tables.clone();
    let rows = tokio::task::spawn_blocking(move || {
        Engine::local_table_rows(&tables, &table, keys.as_deref())
    })
    .await
    .map_err(|e| ApiError::generic(super::error::SERVER_ERROR, e.to_string()))?
    .map_err(ApiError::bad_request)?;
    let rows = match rows {
        Some(batch) => Json::String(
            STANDARD.encode(
                ipc::encode_batch(&batch)
                    .map_err(|e| ApiError::generic(super::error::SERVER_ERROR, e.to_string()))?,
            ),
        ),
        None => Json::Null,
    };
    Ok(JsonBody(json!({ "rows": rows })))
}

/// Asks other servers over their HTTP API.
pub struct PeerClient;

impl PeerRows for PeerClient {
    fn table_rows(
        &self,
        url: &str,
        table: &str,
        keys: Option<&[Vec<Value>]>,
    ) -> Result<Option<RecordBatch>, String> {
        let host = url
            .strip_prefix("http://")
            .unwrap_or(url)
            .trim_end_matches('/');
        let addr = host
            .to_socket_addrs()
            .map_err(|e| format!("{url}: {e}"))?
            .next()
            .ok_or_else(|| format!("{url}: no address"))?;
        let keys = keys.map(|k| STANDARD.encode(codec::encode(k)));
        let body = json!({ "keys": keys }).to_string();
        let path = format!("/internal/table-rows/{table}");
        let reply = super::client::post_json(addr, &path, &body, PEER_TIMEOUT)
            .map_err(|e| e.to_string())?;
        if reply.status != 200 {
            return Err(format!("HTTP {}: {}", reply.status, reply.body));
        }
        let answer: Json = serde_json::from_str(&reply.body).map_err(|e| e.to_string())?;
        match answer.get("rows") {
            Some(Json::String(text)) => {
                let bytes = STANDARD.decode(text).map_err(|e| e.to_string())?;
                ipc::decode_batch(&bytes).map(Some)
            }
            _ => Ok(None),
        }
    }
}
