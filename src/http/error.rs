//! Errors as ksqlDB's REST API writes them: a JSON object tagged `generic_error` or
//! `statement_error` with ksqlDB's error code, whose first three digits are the HTTP status
//! (`Errors.java`): 40000 bad request, 40001 bad statement, 40002 a query sent to `/ksql`,
//! 40003 too many push queries, 40400 not found, 40800 body not received in time, 41300 body
//! too large, 50000 server error.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value as Json, json};

pub const BAD_REQUEST: u32 = 40000;
pub const BAD_STATEMENT: u32 = 40001;
pub const QUERY_ENDPOINT: u32 = 40002;
pub const TOO_MANY_PUSH_QUERIES: u32 = 40003;
pub const NOT_FOUND: u32 = 40400;
pub const REQUEST_TIMEOUT: u32 = 40800;
pub const PAYLOAD_TOO_LARGE: u32 = 41300;
pub const SERVER_ERROR: u32 = 50000;
pub const NOT_READY: u32 = 50300;

/// An error response.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub code: u32,
    pub message: String,
    /// A statement error: the statement, and the entities of those before it that ran.
    pub statement: Option<(String, Vec<Json>)>,
}

impl ApiError {
    pub fn generic(code: u32, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            message: message.into(),
            statement: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::generic(BAD_REQUEST, message)
    }

    /// A statement the engine failed: 40001 (a bad statement, with what ran before it), or
    /// 50000 when Brook itself is at fault.
    pub fn engine(e: &crate::engine::EngineError, text: &str, entities: Vec<Json>) -> ApiError {
        let mut error = ApiError::statement(e.to_string(), text, entities);
        if e.kind() == crate::engine::ErrorKind::Internal {
            error.code = SERVER_ERROR;
        }
        error
    }

    /// A statement that failed (40001), with what ran before it.
    pub fn statement(message: impl Into<String>, text: &str, entities: Vec<Json>) -> ApiError {
        ApiError {
            code: BAD_STATEMENT,
            message: message.into(),
            statement: Some((text.to_string(), entities)),
        }
    }

    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16((self.code / 100) as u16).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The JSON body.
    pub fn to_json(&self) -> Json {
        match &self.statement {
            None => json!({
                "@type": "generic_error",
                "error_code": self.code,
                "message": self.message,
            }),
            Some((text, entities)) => json!({
                "@type": "statement_error",
                "error_code": self.code,
                "message": self.message,
                "statementText": text,
                "entities": entities,
            }),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status(), axum::Json(self.to_json())).into_response()
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_http_statuses() {
        assert_eq!(ApiError::bad_request("x").status(), StatusCode::BAD_REQUEST);
        let e = ApiError::generic(NOT_FOUND, "gone");
        assert_eq!(e.status(), StatusCode::NOT_FOUND);
        assert_eq!(e.to_json()["@type"], "generic_error");
        let internal = crate::engine::EngineError::Internal("a batch did not fit".into());
        let e = ApiError::engine(&internal, "SELECT 1;", vec![]);
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(e.to_json()["error_code"], 50000);
        let e = ApiError::statement("bad", "SELECT 1;", vec![]);
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
        assert_eq!(e.to_json()["statementText"], "SELECT 1;");
        assert_eq!(e.to_json()["error_code"], 40001);
    }
}
