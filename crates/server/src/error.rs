//! The one error type of every HTTP answer that is not a success: a status and a stable code,
//! turned into `{"error": {"code", "message"}}`. Codes are part of the API: clients match on them,
//! so a code, once shipped, keeps its meaning. Every code the server answers with is listed once,
//! in `ERROR_CODES`, which the OpenAPI document and ARCHITECTURE.md repeat. The framework's own
//! rejections are given the same shape by `rejections`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use trailmap_app::AppError;

/// A 4xx (or 5xx) answer: its status and the stable `{"error": {"code", "message"}}` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Seconds the client should wait before trying again (sent as `Retry-After`).
    pub retry_after: Option<u64>,
    /// For a rule in the event rule language that does not read: the field that holds it and the
    /// 0-based character offset where it stops making sense, sent as `field` and `offset` beside
    /// the code and message.
    pub rule_error: Option<(String, usize)>,
    /// More fields of the error object beside code and message (an import's refused rows),
    /// boxed so the error stays small on the paths that do not carry them.
    pub details: Option<Box<serde_json::Map<String, serde_json::Value>>>,
}

/// One stable error code: what it is, its HTTP status and what it means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorCode {
    pub code: &'static str,
    pub status: u16,
    pub meaning: &'static str,
}

/// Every error code the server answers with, in one table. A test checks that every code used in
/// the code base appears here.
pub const ERROR_CODES: &[ErrorCode] = &[
    ErrorCode { code: "invalid_input", status: 400, meaning: "A field or parameter is missing or wrong; the message names it." },
    ErrorCode { code: "invalid_rule", status: 400, meaning: "A rule in the event rule language does not read; `field` and `offset` (0-based, in characters) say where, the message why." },
    ErrorCode { code: "invalid_json", status: 400, meaning: "The body is not the JSON expected." },
    ErrorCode { code: "bad_encoding", status: 400, meaning: "The body's Content-Encoding does not match its bytes (tracking API)." },
    ErrorCode { code: "missing_batch", status: 400, meaning: "A batch body without a \"batch\" array (tracking API)." },
    ErrorCode { code: "not_an_object", status: 400, meaning: "A tracking message is not a JSON object (tracking API)." },
    ErrorCode { code: "missing_type", status: 400, meaning: "A batch message without \"type\" (tracking API)." },
    ErrorCode { code: "unknown_type", status: 400, meaning: "A message type Segment does not define (tracking API)." },
    ErrorCode { code: "missing_identity", status: 400, meaning: "A message with neither userId nor anonymousId (tracking API)." },
    ErrorCode { code: "missing_event", status: 400, meaning: "A track message without \"event\" (tracking API)." },
    ErrorCode { code: "missing_group_id", status: 400, meaning: "A group message without \"groupId\" (tracking API)." },
    ErrorCode { code: "missing_previous_id", status: 400, meaning: "An alias message without \"previousId\" (tracking API)." },
    ErrorCode { code: "bad_timestamp", status: 400, meaning: "A message timestamp that cannot be read (tracking API)." },
    ErrorCode { code: "invalid_text", status: 400, meaning: "A message key or string with a NUL or another control character, or over its length limit (tracking API)." },
    ErrorCode { code: "bad_revenue", status: 400, meaning: "A revenue that is not a JSON number or a dot-decimal string such as \"12.50\" (tracking API)." },
    ErrorCode { code: "dropped", status: 400, meaning: "A single message dropped by enrichment (tracking API)." },
    ErrorCode { code: "invalid_write_key", status: 401, meaning: "No valid write key (tracking API)." },
    ErrorCode { code: "unauthenticated", status: 401, meaning: "No valid session cookie or API key." },
    ErrorCode { code: "forbidden", status: 403, meaning: "Signed in, but the role in this business does not allow the action." },
    ErrorCode { code: "wrong_password", status: 403, meaning: "The password of a shared map's link is wrong." },
    ErrorCode { code: "csrf_failed", status: 403, meaning: "A form or a cookie-authenticated API call without the session's CSRF token." },
    ErrorCode { code: "not_found", status: 404, meaning: "No such thing, or it belongs to a business the caller is not a member of." },
    ErrorCode { code: "method_not_allowed", status: 405, meaning: "The address exists but does not take this HTTP method." },
    ErrorCode { code: "conflict", status: 409, meaning: "The change clashes with what is stored (a duplicate name, the last owner)." },
    ErrorCode { code: "expired", status: 410, meaning: "The share link has expired." },
    ErrorCode { code: "too_large", status: 413, meaning: "The body is larger than the endpoint accepts." },
    ErrorCode { code: "unsupported_encoding", status: 415, meaning: "The body's Content-Encoding is not identity or gzip." },
    ErrorCode { code: "unsupported_media_type", status: 415, meaning: "The body's Content-Type is not one the endpoint reads (JSON endpoints need application/json)." },
    ErrorCode { code: "wrong_format", status: 415, meaning: "An import's body is not the format its Content-Type or file name claims (a Parquet body without Parquet's magic bytes, a CSV that is a ZIP archive), or its Content-Type is not one imports read; the message says what it is." },
    ErrorCode { code: "invalid_file", status: 422, meaning: "An import's file cannot be read as a whole (a required column is missing, an override names a column it lacks, its header does not read); nothing was imported, and the message says what would read it." },
    ErrorCode { code: "invalid_rows", status: 422, meaning: "Rows of an import were refused, so nothing was imported; `rows` lists each one's line (a Parquet file's row number), column and reason, `count` how many there were." },
    ErrorCode { code: "rate_limited", status: 429, meaning: "Too many failed sign-ins or share-link passwords, too many survey answers, or a write key over its request rate; Retry-After says when to try again." },
    ErrorCode { code: "internal", status: 500, meaning: "The store failed on a request that was fine." },
    ErrorCode { code: "store_error", status: 500, meaning: "The store refused a tracking write (tracking API)." },
    ErrorCode { code: "unavailable", status: 503, meaning: "The server is shutting down, its writer stopped, or the ClickHouse holding the events cannot be reached; nothing was written, and Retry-After says when to try again." },
];

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into(), retry_after: None, rule_error: None, details: None }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// A field or parameter is wrong; the message names it and says why.
    pub fn invalid_input(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_input", message)
    }

    pub fn unauthenticated(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", message)
    }

    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn csrf_failed() -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "csrf_failed",
            "the request does not carry this session's CSRF token (form field csrf or header X-CSRF-Token); reload the page and try again",
        )
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn conflict(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, "conflict", message)
    }

    /// Too many failed sign-ins from this address: wait `retry_after_secs`.
    pub fn rate_limited(retry_after_secs: u64) -> ApiError {
        ApiError::too_many("failed sign-ins", retry_after_secs)
    }

    /// Too many of `what` ("failed sign-ins", "wrong passwords for this link"): 429 with
    /// Retry-After and a message that says how long to wait in words.
    pub fn too_many(what: &str, retry_after_secs: u64) -> ApiError {
        let secs = retry_after_secs.max(1);
        let wait = if secs < 120 { format!("{secs} second{}", if secs == 1 { "" } else { "s" }) } else { format!("{} minutes", secs.div_ceil(60)) };
        let mut e = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", format!("too many {what}; try again in {wait}"));
        e.retry_after = Some(secs);
        e
    }

    /// The server cannot answer now (the writer stopped, shutting down).
    pub fn unavailable(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
    }

    /// The store failed on a request that was fine: the only 500.
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> ApiError {
        match error {
            AppError::Invalid(message) => ApiError::invalid_input(message),
            e @ AppError::InvalidField { .. } => ApiError::invalid_input(e.to_string()),
            AppError::InvalidRule { field, rule, error } => {
                let message = AppError::InvalidRule { field: field.clone(), rule, error: error.clone() }.to_string();
                let mut e = ApiError::bad_request("invalid_rule", message);
                e.rule_error = Some((field, error.offset));
                e
            }
            AppError::NotFound(message) => ApiError::not_found(message),
            AppError::Forbidden(message) => ApiError::forbidden(message),
            AppError::Conflict(message) => ApiError::conflict(message),
            e @ AppError::UnknownBusiness { .. } => ApiError::not_found(e.to_string()),
            AppError::Store(trailmap_app::StoreError::Unavailable(message)) => {
                let mut error = ApiError::unavailable(message);
                error.retry_after = Some(5);
                error
            }
            AppError::Import(e @ trailmap_ingest::ImportError::WrongFormat { .. }) => {
                ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "wrong_format", e.to_string())
            }
            AppError::Import(e @ trailmap_ingest::ImportError::Io { .. }) => ApiError::internal(e.to_string()),
            AppError::Import(e) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_file", e.to_string()),
            AppError::InvalidRows { file, count, shown } => {
                let message = format!(
                    "{file}: {count} invalid row(s), nothing was imported; the first: {}",
                    shown.first().map(|e| e.to_string()).unwrap_or_default()
                );
                let rows: Vec<serde_json::Value> =
                    shown.iter().map(|e| json!({ "line": e.line, "column": e.column, "reason": e.reason })).collect();
                let mut error = ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_rows", message);
                let mut details = serde_json::Map::new();
                details.insert("count".into(), json!(count));
                details.insert("rows".into(), json!(rows));
                error.details = Some(Box::new(details));
                error
            }
            other => ApiError::internal(other.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = match &self.rule_error {
            None => json!({ "error": { "code": self.code, "message": self.message } }),
            Some((field, offset)) => json!({ "error": { "code": self.code, "message": self.message, "field": field, "offset": offset } }),
        };
        if let (Some(details), Some(error)) = (&self.details, body.get_mut("error").and_then(|e| e.as_object_mut())) {
            error.extend(details.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        // Kept on the response so the layer that shapes errors (`rejections`) knows it is ours.
        response.extensions_mut().insert(self);
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_listed_once_with_its_status() {
        let mut codes: Vec<&str> = ERROR_CODES.iter().map(|c| c.code).collect();
        codes.sort_unstable();
        let before = codes.len();
        codes.dedup();
        assert_eq!(codes.len(), before, "a code is listed twice");
        // The constructors agree with the table.
        for e in [
            ApiError::invalid_input("x"),
            ApiError::unauthenticated("x"),
            ApiError::forbidden("x"),
            ApiError::csrf_failed(),
            ApiError::not_found("x"),
            ApiError::conflict("x"),
            ApiError::rate_limited(60),
            ApiError::internal("x"),
            ApiError::unavailable("x"),
        ] {
            let row = ERROR_CODES.iter().find(|c| c.code == e.code).unwrap_or_else(|| panic!("{} is not in ERROR_CODES", e.code));
            assert_eq!(row.status, e.status.as_u16(), "{}", e.code);
        }
    }

    #[test]
    fn rate_limited_carries_retry_after() {
        let response = ApiError::rate_limited(90).into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "90");
    }
}
