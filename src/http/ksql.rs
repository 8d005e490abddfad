//! `POST /ksql`: runs statements and answers a JSON array of entities (`entities.rs`), as
//! ksqlDB's `KsqlResource`. The request's `streamsProperties`, `sessionVariables` and any
//! `SET`/`DEFINE` it contains apply to that request only. As in ksqlDB, every statement is
//! first run in a sandbox (`Engine::sandbox`): if one fails there, the request answers its
//! `statement_error` and nothing has run. Then they run in order on the engine; one that still
//! fails (a failure the sandbox cannot see, such as the log refusing a write) answers a
//! `statement_error` carrying the entities of those that ran before it. SELECT and PRINT belong
//! to the query endpoints and are refused with ksqlDB's 40002. A server asked to stop runs no
//! further statement of a request: it answers 50300 with the entities of those that ran.

use super::AppState;
use super::entities::entity;
use super::error::{ApiError, NOT_READY, QUERY_ENDPOINT};
use crate::engine::Engine;
use crate::sql::StatementKind;
use axum::Json as JsonBody;
use axum::body::Body;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Map, Value as Json};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
/// (`commandSequenceNumber` is ignored: statements run synchronously, so every earlier command
/// has run by the time a request is read.)
pub struct KsqlRequest {
    #[serde(default)]
    pub ksql: Option<String>,
    #[serde(default)]
    pub streams_properties: Option<Map<String, Json>>,
    #[serde(default)]
    pub session_variables: Option<Map<String, Json>>,
}

const SHUTTING_DOWN_MESSAGE: &str =
    "The server is shutting down: this statement and those after it did not run.";

const QUERY_ENDPOINT_MESSAGE: &str = "The following statement types should be issued to the websocket endpoint '/query':\n\t* PRINT\n\t* SELECT";

pub async fn handle(State(app): State<AppState>, body: Body) -> Result<JsonBody<Json>, ApiError> {
    let body = super::read_body(body, &app).await?;
    let request: KsqlRequest = super::parse_body(&body)?;
    let text = request.ksql.clone().unwrap_or_default();
    if text.trim().is_empty() {
        return Err(ApiError::bad_request("\"ksql\" field must be populated"));
    }
    let entities = app
        .with_engine(move |engine, app| {
            engine
                .catch_up()
                .map_err(|e| ApiError::engine(&e, &text, Vec::new()))?;
            let session = engine.session();
            apply_settings(engine, &request);
            let result = validate_statements(engine, &text, &app.stopping)
                .and_then(|()| run_statements(engine, &text, &app.command_sequence, &app.stopping));
            engine.restore_session(session);
            result
        })
        .await??;
    Ok(JsonBody(Json::Array(entities)))
}

/// The request's properties and variables, as SET and DEFINE would set them.
pub fn apply_settings(engine: &mut Engine, request: &KsqlRequest) {
    for (name, value) in request.streams_properties.iter().flatten() {
        engine.set_property(name, &setting_text(value));
    }
    for (name, value) in request.session_variables.iter().flatten() {
        engine.define_variable(name, &setting_text(value));
    }
}

/// A property or variable value as text (strings unquoted).
pub fn setting_text(value: &Json) -> String {
    match value {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Runs the statements in a sandbox of `engine`: the first one that fails is the request's
/// error, with no entities (nothing ran).
fn validate_statements(engine: &Engine, text: &str, stopping: &AtomicBool) -> Result<(), ApiError> {
    let mut sandbox = engine.sandbox();
    let sequence = AtomicI64::new(0);
    match run_statements(&mut sandbox, text, &sequence, stopping) {
        Ok(_) => Ok(()),
        Err(mut e) => {
            if let Some((_, entities)) = &mut e.statement {
                entities.clear();
            }
            Err(e)
        }
    }
}

/// Runs each statement of `text`, collecting entities (numbered from `sequence`); stops before
/// the next statement once `stopping` is set (the server is shutting down).
fn run_statements(
    engine: &mut Engine,
    text: &str,
    sequence: &AtomicI64,
    stopping: &AtomicBool,
) -> Result<Vec<Json>, ApiError> {
    let pieces = crate::sql::split_statements(text)
        .map_err(|e| ApiError::statement(e.to_string(), text, Vec::new()))?;
    let mut entities = Vec::new();
    for piece in &pieces {
        if stopping.load(Ordering::SeqCst) {
            let mut e = ApiError::statement(SHUTTING_DOWN_MESSAGE, &piece.text, entities);
            e.code = NOT_READY;
            return Err(e);
        }
        // Parsed where it stands in the request, so that error positions count from its start.
        let statement = match engine.parse(piece) {
            Ok(s) => s,
            Err(e) => return Err(ApiError::statement(e.to_string(), &piece.text, entities)),
        };
        if matches!(
            statement.kind,
            StatementKind::Select(_) | StatementKind::Print { .. }
        ) {
            let mut e = ApiError::statement(QUERY_ENDPOINT_MESSAGE, &piece.text, entities);
            e.code = QUERY_ENDPOINT;
            return Err(e);
        }
        let kind = statement.kind.clone();
        let statement_text = statement.text.clone();
        let result = match engine.execute(statement) {
            Ok(r) => r,
            Err(e) => return Err(ApiError::engine(&e, &piece.text, entities)),
        };
        let number = sequence.fetch_add(1, Ordering::SeqCst);
        if let Some(e) = entity(engine, &kind, &statement_text, &result, number) {
            entities.push(e);
        }
    }
    Ok(entities)
}
