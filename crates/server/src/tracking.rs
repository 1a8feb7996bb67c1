//! The Segment-compatible tracking API: Segment's paths (`/v1/batch`, `/v1/track`, `/v1/page`,
//! `/v1/screen`, `/v1/identify`, `/v1/group`, `/v1/alias`, and their one-letter short forms
//! `/v1/b`, `/v1/t`...) with Segment's responses: 200 `{"success": true}` once the messages are on
//! disk, and 4xx with `{"error": {"code", "message"}}` for a request that is wrong, never a 500 for
//! bad input.
//!
//! A batch with some invalid messages is accepted, as Segment accepts it: the invalid messages are
//! dropped, counted by reason in the store (`App::tracking_drops`), and the rest are stored. A
//! single call with an invalid message is a 400 naming the problem. Messages from bots are dropped
//! and counted with a 200 either way, since the sender did nothing wrong.

use crate::error::ApiError;
use crate::keys::{from_basic_auth, hash as hash_write_key};
use crate::writer::{WriteError, Writer};
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::post;
use serde_json::{Value, json};
use std::io::Read;
use trailmap_app::TrackingWrite;
use trailmap_ingest::enrich::Enricher;
use trailmap_ingest::parse_timestamp;
use trailmap_ingest::segment::{self, MAX_MESSAGE_BYTES, MessageContext, SegmentDrop};
use trailmap_model::Timestamp;

/// Segment's limit on a batch request, in bytes of JSON (after decompression).
pub const MAX_BATCH_BYTES: usize = 500 * 1024;

/// The router of the tracking API, writing through `writer`.
pub fn router(writer: Writer) -> Router {
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
                post(move |State(writer): State<Writer>, headers: HeaderMap, body: Body| async move {
                    match handle(&writer, kind, &headers, body).await {
                        Ok(()) => (StatusCode::OK, axum::Json(json!({ "success": true }))).into_response(),
                        Err(e) => e.into_response(),
                    }
                }),
            );
        }
    }
    router.with_state(writer)
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
        SegmentDrop::Enrichment(_) => "dropped",
    }
}

async fn handle(writer: &Writer, kind: Option<&'static str>, headers: &HeaderMap, body: Body) -> Result<(), ApiError> {
    let received_at = now();
    let limit = if kind.is_none() { MAX_BATCH_BYTES } else { MAX_MESSAGE_BYTES };
    let bytes = read_body(headers, body, limit).await?;
    let value: Value = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad_request("invalid_json", format!("the body is not valid JSON: {e}")))?;
    let Value::Object(mut root) = value else {
        return Err(ApiError::bad_request("invalid_json", "the body must be a JSON object"));
    };

    let key = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(from_basic_auth)
        .or_else(|| root.get("writeKey").and_then(Value::as_str).map(str::to_string));
    let unauthorized = |m: &str| ApiError::new(StatusCode::UNAUTHORIZED, "invalid_write_key", m);
    let key = key.ok_or_else(|| unauthorized("no write key: send Authorization: Basic base64(\"<writeKey>:\") or writeKey in the body"))?;
    let business = writer
        .business_for_key(&hash_write_key(&key))
        .await
        .map_err(|e| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", e.to_string()))?
        .ok_or_else(|| unauthorized("the write key is not valid"))?;

    let mut context = MessageContext { received_at, batch_sent_at: None, currency: business.currency };
    let mut enricher = Enricher::new();
    let mut write = TrackingWrite { business: Some(business.id), ..TrackingWrite::default() };
    let mut drops: Vec<(&'static str, u64)> = Vec::new();
    let mut count_drop = |drop: SegmentDrop| match drops.iter_mut().find(|(r, _)| *r == drop.as_str()) {
        Some((_, n)) => *n += 1,
        None => drops.push((drop.as_str(), 1)),
    };
    match kind {
        None => {
            context.batch_sent_at = root.get("sentAt").and_then(Value::as_str).and_then(|s| parse_timestamp(s).ok());
            let Some(Value::Array(batch)) = root.remove("batch") else {
                return Err(ApiError::bad_request("missing_batch", "a batch body needs a \"batch\" array of messages"));
            };
            // A body within one message's limit cannot hold a message over it; only larger bodies
            // pay for measuring each message.
            let measure = bytes.len() > MAX_MESSAGE_BYTES;
            for message in &batch {
                if measure && serde_json::to_vec(message).map_or(0, |v| v.len()) > MAX_MESSAGE_BYTES {
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
                    return Err(ApiError::bad_request(drop_code(drop), format!("the message was not stored: {drop}")));
                }
                Err(drop) => count_drop(drop),
            }
        }
    }
    write.drops = drops;
    if write.messages.is_empty() && write.drops.is_empty() {
        return Ok(());
    }
    writer.write(write).await.map_err(|e| match e {
        WriteError::Stopped => ApiError::unavailable(e.to_string()),
        WriteError::Store(_) => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "store_error", e.to_string()),
    })
}

