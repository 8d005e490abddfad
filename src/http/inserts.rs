//! `POST /inserts-stream`: the request body is a stream of lines, first `{"target": "S"}`,
//! then one JSON object per row (column name → value). Each row is inserted as it arrives and
//! acknowledged with `{"status":"ok","seq":n}` (`n` counts rows from 0), or with `{"status":
//! "error","seq":n,"error_code":40000,"message":...}`, and the stream goes on. The last line
//! needs no newline. A line longer than the body limit ends the stream with an error, and so
//! does a target line not received within the body-read timeout.

use super::AppState;
use super::error::{ApiError, BAD_REQUEST};
use crate::plan::schema::ROWTIME;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header;
use axum::response::Response;
use serde_json::{Map, Value as Json, json};
use tokio::sync::mpsc;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::ReceiverStream;

pub async fn handle(State(app): State<AppState>, body: Body) -> Result<Response, ApiError> {
    let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(64);
    tokio::spawn(async move {
        if let Err(e) = insert_lines(&app, body, &tx).await {
            let _ = tx.send(Ok(Bytes::from(format!("{}\n", e.to_json())))).await;
        }
    });
    Ok(Response::builder()
        .header(header::CONTENT_TYPE, super::query_stream::DELIMITED)
        .body(Body::from_stream(ReceiverStream::new(rx)))
        .unwrap_or_else(|_| Response::new(Body::empty())))
}

/// Reads the body line by line: the target, then rows, acknowledging each.
async fn insert_lines(
    app: &AppState,
    body: Body,
    acks: &mpsc::Sender<Result<Bytes, std::io::Error>>,
) -> Result<(), ApiError> {
    let limit = app.config.max_body_bytes;
    let mut stream = body.into_data_stream();
    let mut pending: Vec<u8> = Vec::new();
    let mut target: Option<String> = None;
    let mut seq: u64 = 0;
    let mut finished = false;
    // The target must come within the body-read timeout; rows may then come at any pace.
    let target_timeout = app.config.connections.body_read;
    let target_deadline = tokio::time::Instant::now() + target_timeout;
    while !finished {
        let next = match target {
            Some(_) => stream.next().await,
            None => tokio::time::timeout_at(target_deadline, stream.next())
                .await
                .map_err(|_| super::body_timeout(target_timeout))?,
        };
        match next {
            Some(Ok(chunk)) => pending.extend_from_slice(&chunk),
            Some(Err(e)) => return Err(ApiError::bad_request(format!("reading the request: {e}"))),
            None => finished = true,
        }
        while let Some(line) = next_line(&mut pending, finished) {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let Some(name) = &target else {
                target = Some(parse_target(&line)?);
                continue;
            };
            let ack = insert_row(app, name, &line, seq).await;
            seq += 1;
            if acks
                .send(Ok(Bytes::from(format!("{ack}\n"))))
                .await
                .is_err()
            {
                return Ok(());
            }
        }
        if pending.len() > limit {
            return Err(ApiError::generic(
                super::error::PAYLOAD_TOO_LARGE,
                format!("A line of the request is longer than {limit} bytes"),
            ));
        }
    }
    if target.is_none() {
        return Err(ApiError::bad_request(
            "Missing target: the first line must be {\"target\": \"<stream>\"}",
        ));
    }
    Ok(())
}

/// The next complete line (a last one without newline once the body has ended).
fn next_line(pending: &mut Vec<u8>, finished: bool) -> Option<Vec<u8>> {
    match pending.iter().position(|b| *b == b'\n') {
        Some(i) => {
            let rest = pending.split_off(i + 1);
            let mut line = std::mem::replace(pending, rest);
            line.pop();
            Some(line)
        }
        None if finished && !pending.is_empty() => Some(std::mem::take(pending)),
        None => None,
    }
}

fn parse_target(line: &[u8]) -> Result<String, ApiError> {
    let value: Json = super::parse_body(line)?;
    match value.get("target").and_then(Json::as_str) {
        Some(t) => Ok(t.to_string()),
        None => Err(ApiError::bad_request(
            "The first line must be {\"target\": \"<stream>\"}",
        )),
    }
}

/// Inserts one row and returns its acknowledgement.
async fn insert_row(app: &AppState, target: &str, line: &[u8], seq: u64) -> Json {
    let error = |message: String| json!({"status": "error", "seq": seq, "error_code": BAD_REQUEST, "message": message});
    let row: Map<String, Json> = match serde_json::from_slice(line) {
        Ok(Json::Object(row)) => row,
        Ok(_) => return error("A row must be a JSON object".into()),
        Err(e) => return error(format!("Invalid JSON in row: {e}")),
    };
    let timestamp = row
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(ROWTIME))
        .and_then(|(_, v)| v.as_i64());
    let (target, line) = (target.to_string(), line.to_vec());
    let inserted = app
        .with_engine(move |engine, _| {
            // A name as written, or as ksqlDB stores an unquoted one.
            let upper = target.to_ascii_uppercase();
            let name = match engine.catalog().sources.contains_key(&target) {
                true => &target,
                false => &upper,
            };
            engine.insert_json_row(name, &line, timestamp)
        })
        .await;
    match inserted {
        Ok(Ok(())) => json!({"status": "ok", "seq": seq}),
        Ok(Err(e)) => error(e.to_string()),
        Err(e) => error(e.message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_on_newlines_and_the_last_needs_none() {
        let mut pending = b"{\"target\":\"s\"}\n{\"A\":1}\n{\"A\"".to_vec();
        assert_eq!(
            next_line(&mut pending, false).as_deref(),
            Some(&b"{\"target\":\"s\"}"[..])
        );
        assert_eq!(
            next_line(&mut pending, false).as_deref(),
            Some(&b"{\"A\":1}"[..])
        );
        assert_eq!(next_line(&mut pending, false), None);
        pending.extend_from_slice(b":2}");
        assert_eq!(
            next_line(&mut pending, true).as_deref(),
            Some(&b"{\"A\":2}"[..])
        );
        assert_eq!(next_line(&mut pending, true), None);
        assert_eq!(
            parse_target(b"{\"target\":\"orders\"}").expect("target"),
            "orders"
        );
        assert!(parse_target(b"{}").is_err());
    }
}
