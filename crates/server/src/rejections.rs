//! One shape for every error, whoever raised it. Our handlers answer `ApiError`s; the framework
//! answers its own rejections (a duplicated query parameter, a JSON body of the wrong type, a
//! missing Content-Type, a method a route does not have) as plain text. This layer turns those into
//! the same `ApiError` with a stable code from `ERROR_CODES`: JSON for the API and the tracking API,
//! the HTML error page for a browser asking for a page.
//!
//! The tracking API speaks Segment's dialect: Segment's HTTP API answers an error with top-level
//! `code` and `message`, and its clients (Segment's and RudderStack's) read exactly those keys, so
//! under `/v1` an error carries them beside our usual `error` object.

use crate::error::ApiError;
use crate::web;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// The most of a framework rejection's text kept as the message.
const MAX_REJECTION_BYTES: usize = 4096;

/// Gives every error response its stable shape (see the module's comment).
pub async fn uniform_errors(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let tracking = path.starts_with("/v1/");
    let wants_html = !tracking
        && !path.starts_with("/api/")
        && request.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/html"));
    let response = next.run(request).await;
    let status = response.status();
    if !status.is_client_error() && !status.is_server_error() {
        return response;
    }
    if let Some(error) = response.extensions().get::<ApiError>().cloned() {
        return if tracking { segment_shaped(response, &error) } else { response };
    }
    if !is_framework_rejection(&response) {
        return response;
    }
    let text = match axum::body::to_bytes(response.into_body(), MAX_REJECTION_BYTES).await {
        Ok(bytes) => String::from_utf8_lossy(&bytes).trim().to_string(),
        Err(_) => String::new(),
    };
    let error = from_rejection(status, &text);
    if wants_html {
        return web::error_page(error);
    }
    let response = error.clone().into_response();
    if tracking { segment_shaped(response, &error) } else { response }
}

/// The framework's rejections are plain text, or empty (405); ours are JSON or HTML.
fn is_framework_rejection(response: &Response) -> bool {
    match response.headers().get(header::CONTENT_TYPE) {
        None => true,
        Some(value) => value.to_str().is_ok_and(|v| v.starts_with("text/plain")),
    }
}

/// The `ApiError` of a framework rejection, by its status; its text becomes the message.
pub fn from_rejection(status: StatusCode, text: &str) -> ApiError {
    let said = |fallback: &str| if text.is_empty() { fallback.to_string() } else { text.to_string() };
    match status {
        StatusCode::METHOD_NOT_ALLOWED => ApiError::new(status, "method_not_allowed", said("this address does not take that method")),
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(status, "too_large", said("the body is larger than this endpoint accepts")),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::new(status, "unsupported_media_type", said("the body's Content-Type is not one this endpoint reads")),
        // A JSON body that reads but does not fit the request (axum answers 422) is the same
        // mistake as one that does not read: the body is not the JSON expected.
        StatusCode::UNPROCESSABLE_ENTITY => ApiError::bad_request("invalid_json", said("the body is not the JSON expected")),
        StatusCode::NOT_FOUND => ApiError::not_found(said("no such thing")),
        // axum answers a JSON body that does not read, or does not fit, with 400 or 422 and one
        // of these sentences.
        _ if text.starts_with("Failed to parse the request body as JSON") || text.starts_with("Failed to deserialize the JSON body") => {
            ApiError::bad_request("invalid_json", text.to_string())
        }
        s if s.is_server_error() => ApiError::internal(said("the server failed on this request")),
        _ => ApiError::invalid_input(said("the request is not one this endpoint reads")),
    }
}

/// The same response with Segment's top-level `code` and `message` added to its JSON body; its
/// other headers (CORS, Retry-After) are kept.
fn segment_shaped(response: Response, error: &ApiError) -> Response {
    let (mut parts, _) = response.into_parts();
    let body = json!({ "code": error.code, "message": error.message, "error": { "code": error.code, "message": error.message } });
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/json"));
    Response::from_parts(parts, Body::from(body.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ERROR_CODES;

    #[test]
    fn every_rejection_maps_to_a_listed_code_with_its_status() {
        assert_eq!(from_rejection(StatusCode::BAD_REQUEST, "Failed to deserialize the JSON body into the target type: x").code, "invalid_json");
        for status in [400, 404, 405, 409, 413, 415, 422, 500] {
            let error = from_rejection(StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST), "why");
            let row = ERROR_CODES.iter().find(|c| c.code == error.code).unwrap_or_else(|| panic!("{} is not listed", error.code));
            assert_eq!(row.status, error.status.as_u16(), "{status} -> {}", error.code);
            assert_eq!(error.message, "why");
        }
        assert_eq!(from_rejection(StatusCode::METHOD_NOT_ALLOWED, "").message, "this address does not take that method");
    }
}
