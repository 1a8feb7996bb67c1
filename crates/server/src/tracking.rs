//! The Segment-compatible tracking API: Segment's paths (`/v1/batch`, `/v1/track`, `/v1/page`,
//! `/v1/screen`, `/v1/identify`, `/v1/group`, `/v1/alias`, and their one-letter short forms
//! `/v1/b`, `/v1/t`...) with Segment's responses: 200 `{"success": true}` once the messages are on
//! disk, and 4xx with `{"error": {"code", "message"}}` for a request that is wrong, never a 500 for
//! bad input.
//!
//! Besides Segment's paths, the website's own: `GET /t.js` (our snippet, see `snippet.js`),
//! `GET /v1/pixel` (a 1x1 GIF that records an email open) and `POST /v1/offline` (a till purchase,
//! a call or a store visit reported by email or customer id). Every `/v1` path answers CORS
//! preflights from any origin and says `Access-Control-Allow-Origin: *`, as Segment does, so a
//! browser on the business's own site can send to it. Each write key has a token bucket
//! ([`TrackingOptions`]); a key over its rate gets 429 `rate_limited` with `Retry-After`.
//!
//! A batch with some invalid messages is accepted, as Segment accepts it: the invalid messages are
//! dropped, counted by reason in the store (`App::tracking_drops`), and the rest are stored. A
//! single call with an invalid message is a 400 naming the problem. Messages from bots are dropped
//! and counted with a 200 either way, since the sender did nothing wrong.

mod limits;
mod web;

pub use limits::TrackingOptions;

use crate::error::ApiError;
use crate::keys::{from_basic_auth, hash as hash_write_key};
use crate::writer::{WriteError, Writer};
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use limits::RateLimits;
use serde_json::{Value, json};
use std::io::Read;
use std::sync::Arc;
use trailmap_app::TrackingWrite;
use trailmap_ingest::enrich::Enricher;
use trailmap_ingest::parse_timestamp;
use trailmap_ingest::segment::{self, MAX_MESSAGE_BYTES, MessageContext, SegmentDrop};
use trailmap_model::{Business, Timestamp};

/// Segment's limit on a batch request, in bytes of JSON (after decompression).
pub const MAX_BATCH_BYTES: usize = 500 * 1024;

/// What the tracking handlers share: the writer and the rate limits of the write keys.
#[derive(Debug, Clone)]
struct Tracking {
    writer: Writer,
    limits: Arc<RateLimits>,
}

/// The router of the tracking API, writing through `writer`, with the options of
/// [`TrackingOptions::from_env`] (the defaults unless `TRAILMAP_RATE_LIMIT` says otherwise).
pub fn router(writer: Writer) -> Router {
    let options = TrackingOptions::from_env().unwrap_or_else(|e| {
        eprintln!("trailmap serve: {e}; using the default rate limit");
        TrackingOptions::default()
    });
    router_with(writer, options)
}

/// The router of the tracking API with explicit options.
pub fn router_with(writer: Writer, options: TrackingOptions) -> Router {
    let state = Tracking { writer, limits: Arc::new(RateLimits::new(options)) };
    let mut router = Router::new();
    for (paths, kind) in [
        (["/v1/batch", "/v1/b", "/v1/import"].as_slice(), None),
        (&["/v1/track", "/v1/t"], Some("track")),
        (&["/v1/page", "/v1/p"], Some("page")),
        (&["/v1/screen", "/v1/s"], Some("screen")),
        (&["/v1/identify", "/v1/i"], Some("identify")),
        (&["/v1/group", "/v1/g"], Some("group")),
        (&["/v1/alias", "/v1/a"], Some("alias")),
    ] {
        for path in paths {
            router = router.route(
                path,
                post(move |State(state): State<Tracking>, headers: HeaderMap, body: Body| async move {
                    cors(match handle(&state, kind, &headers, body).await {
                        Ok(()) => success(),
                        Err(e) => e,
                    })
                })
                .options(preflight),
            );
        }
    }
    router
        .route("/v1/offline", post(web::offline).options(preflight))
        .route("/v1/pixel", get(web::pixel).options(preflight))
        .route("/t.js", get(web::snippet))
        .with_state(state)
}

/// Segment's answer to a request whose messages are on disk.
fn success() -> Response {
    (StatusCode::OK, axum::Json(json!({ "success": true }))).into_response()
}

/// Lets a page on any origin read the answer, as Segment's API does: write keys are public (they
/// sit in every page's snippet) and what a key may do is only to send events.
fn cors(mut response: Response) -> Response {
    response.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    response
}

/// The answer to a CORS preflight (a browser asking before a cross-origin POST with JSON or an
/// Authorization header): any origin, the methods and headers Segment's clients use.
async fn preflight() -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let headers = response.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST, OPTIONS"));
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("Authorization, Content-Type, Content-Encoding"),
    );
    headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("86400"));
    cors(response)
}

/// The business of a write key and the key's id, once the key is known to be valid and within its
/// rate; otherwise the 401, 429 or 503 answer to send back.
async fn authorize(state: &Tracking, key: Option<String>) -> Result<(Business, i64), Response> {
    let unauthorized = |m: &str| invalid_write_key(m);
    let key = key.ok_or_else(|| unauthorized("no write key: send Authorization: Basic base64(\"<writeKey>:\") or writeKey in the body"))?;
    let key_hash = hash_write_key(&key);
    let found = state
        .writer
        .business_for_key(&key_hash)
        .await
        .map_err(|e| ApiError::unavailable(e.to_string()).into_response())?
        .ok_or_else(|| unauthorized("the write key is not valid (unknown or revoked)"))?;
    // Only valid keys get a bucket, so made-up keys cannot grow the table.
    state.limits.check(&key_hash, std::time::Instant::now()).map_err(limits::rate_limited)?;
    Ok(found)
}

/// The 401 of a missing, unknown or revoked write key.
fn invalid_write_key(message: &str) -> Response {
    ApiError::new(StatusCode::UNAUTHORIZED, "invalid_write_key", message).into_response()
}

/// How long a sender is asked to wait (`Retry-After`) when the events' store cannot be reached.
const RETRY_UNAVAILABLE_SECONDS: u64 = 5;

/// Writes one request's messages and drops; returns once they are on disk.
async fn commit(state: &Tracking, write: TrackingWrite) -> Result<(), Response> {
    if write.messages.is_empty() && write.drops.is_empty() {
        return Ok(());
    }
    state.writer.write(write).await.map_err(|e| {
        match e {
            WriteError::Stopped => ApiError::unavailable(e.to_string()).into_response(),
            WriteError::Unavailable(_) => {
                let mut error = ApiError::unavailable(e.to_string());
                error.retry_after = Some(RETRY_UNAVAILABLE_SECONDS);
                error.into_response()
            }
            WriteError::Store(_) => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "store_error", e.to_string()).into_response(),
            WriteError::KeyRevoked => invalid_write_key("the write key was revoked; nothing was stored"),
        }
    })
}

fn now() -> Timestamp {
    Timestamp::from_millis(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
    )
}

/// Reads the body whole, at most `limit` bytes after decompression.
async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> Result<Vec<u8>, ApiError> {
    let too_large = || ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", format!("the body is larger than {limit} bytes"));
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let raw = axum::body::to_bytes(body, limit).await.map_err(|_| too_large())?;
    let encoding = headers.get(header::CONTENT_ENCODING).and_then(|v| v.to_str().ok()).unwrap_or("").trim().to_ascii_lowercase();
    match encoding.as_str() {
        "" | "identity" => Ok(raw.to_vec()),
        "gzip" | "x-gzip" => {
            let mut out = Vec::new();
            // One byte over the limit is enough to know the body is too large, without inflating
            // all of a compressed bomb.
            flate2::read::MultiGzDecoder::new(&raw[..])
                .take(limit as u64 + 1)
                .read_to_end(&mut out)
                .map_err(|e| ApiError::bad_request("bad_encoding", format!("the body is not valid gzip: {e}")))?;
            if out.len() > limit {
                return Err(too_large());
            }
            Ok(out)
        }
        other => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_encoding",
            format!("Content-Encoding {other:?} is not supported; send identity or gzip"),
        )),
    }
}

/// Whether a message is over Segment's 32 KB as JSON. A bound from a walk of the value answers
/// almost every message without serialising it: the structure's bytes plus each string at six
/// bytes a character (its longest escape) is at least its size.
fn too_large(message: &Value) -> bool {
    fn bound(v: &Value) -> usize {
        match v {
            Value::Null | Value::Bool(_) => 5,
            Value::Number(_) => 24,
            Value::String(s) => 2 + 6 * s.len(),
            Value::Array(a) => 2 + a.iter().map(|x| bound(x) + 1).sum::<usize>(),
            Value::Object(o) => 2 + o.iter().map(|(k, x)| 4 + 6 * k.len() + bound(x)).sum::<usize>(),
        }
    }
    bound(message) > MAX_MESSAGE_BYTES && serde_json::to_vec(message).map_or(0, |v| v.len()) > MAX_MESSAGE_BYTES
}

fn drop_code(drop: SegmentDrop) -> &'static str {
    match drop {
        SegmentDrop::NotAnObject => "not_an_object",
        SegmentDrop::MissingType => "missing_type",
        SegmentDrop::UnknownType => "unknown_type",
        SegmentDrop::MissingIdentity => "missing_identity",
        SegmentDrop::MissingEventName => "missing_event",
        SegmentDrop::MissingGroupId => "missing_group_id",
        SegmentDrop::MissingPreviousId => "missing_previous_id",
        SegmentDrop::BadTimestamp => "bad_timestamp",
        SegmentDrop::TooLarge => "too_large",
        SegmentDrop::InvalidText => "invalid_text",
        SegmentDrop::BadRevenue => "bad_revenue",
        SegmentDrop::Enrichment(_) => "dropped",
    }
}

/// The write key of a request: Basic auth, or `writeKey` in the body (what browsers send with
/// `sendBeacon`, which cannot set headers).
fn request_key(headers: &HeaderMap, root: &serde_json::Map<String, Value>) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(from_basic_auth)
        .or_else(|| root.get("writeKey").and_then(Value::as_str).map(str::to_string))
}

/// Reads a body of at most `limit` bytes as a JSON object.
async fn read_object(headers: &HeaderMap, body: Body, limit: usize) -> Result<(serde_json::Map<String, Value>, usize), ApiError> {
    let bytes = read_body(headers, body, limit).await?;
    // Strict: an object that gives a key twice is refused rather than letting the last one win.
    let value: Value = trailmap_ingest::json::parse_strict(&bytes)
        .map_err(|e| ApiError::bad_request("invalid_json", format!("the body is not valid JSON: {e}")))?;
    match value {
        Value::Object(root) => Ok((root, bytes.len())),
        _ => Err(ApiError::bad_request("invalid_json", "the body must be a JSON object")),
    }
}

async fn handle(state: &Tracking, kind: Option<&'static str>, headers: &HeaderMap, body: Body) -> Result<(), Response> {
    let received_at = now();
    let limit = if kind.is_none() { MAX_BATCH_BYTES } else { MAX_MESSAGE_BYTES };
    // A key in the header is checked before the body is read, so a refused or throttled client
    // costs no parsing; a key in the body (browsers' beacons) needs the body first.
    let header_key = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(from_basic_auth);
    let early = match header_key {
        Some(key) => Some(authorize(state, Some(key)).await?),
        None => None,
    };
    let (mut root, body_len) = read_object(headers, body, limit).await.map_err(IntoResponse::into_response)?;
    let (business, key) = match early {
        Some(found) => found,
        None => authorize(state, request_key(headers, &root)).await?,
    };

    let mut context = MessageContext { received_at, batch_sent_at: None, currency: business.currency };
    let mut enricher = Enricher::new();
    let mut write = TrackingWrite { business: Some(business.id), key: Some(key), ..TrackingWrite::default() };
    let mut drops: Vec<(&'static str, u64)> = Vec::new();
    let mut count_drop = |drop: SegmentDrop| match drops.iter_mut().find(|(r, _)| *r == drop.as_str()) {
        Some((_, n)) => *n += 1,
        None => drops.push((drop.as_str(), 1)),
    };
    match kind {
        None => {
            context.batch_sent_at = root.get("sentAt").and_then(Value::as_str).and_then(|s| parse_timestamp(s).ok());
            let Some(Value::Array(batch)) = root.remove("batch") else {
                return Err(ApiError::bad_request("missing_batch", "a batch body needs a \"batch\" array of messages").into_response());
            };
            // A body within one message's limit cannot hold a message over it; only larger bodies
            // pay for measuring each message.
            let measure = body_len > MAX_MESSAGE_BYTES;
            for message in &batch {
                if measure && too_large(message) {
                    count_drop(SegmentDrop::TooLarge);
                    continue;
                }
                match segment::convert(message, None, &context, &mut enricher) {
                    Ok(converted) => write.messages.push(converted),
                    Err(drop) => count_drop(drop),
                }
            }
        }
        Some(kind) => {
            let message = Value::Object(root);
            match segment::convert(&message, Some(kind), &context, &mut enricher) {
                Ok(converted) => write.messages.push(converted),
                Err(drop) if drop.is_malformed() => {
                    return Err(ApiError::bad_request(drop_code(drop), format!("the message was not stored: {drop}")).into_response());
                }
                Err(drop) => count_drop(drop),
            }
        }
    }
    write.drops = drops;
    commit(state, write).await
}

