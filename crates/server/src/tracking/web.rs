//! The tracking API's paths for a small business's own website and shop floor, beside Segment's:
//! - `GET /t.js`: our snippet (`snippet.js`), a few KB of dependency-free JavaScript that records
//!   page views, keeps an anonymous id, reads referral codes and identifies visitors;
//! - `GET /v1/pixel?wk=KEY&e=email_open&uid=...&email=...&campaign=...`: a 1x1 transparent GIF
//!   for emails, recording the open (medium `email`) before it answers;
//! - `POST /v1/offline`: a till purchase, phone call or store visit, by email or customer id.

use super::{Tracking, authorize, commit, cors, drop_code, now, read_object, request_key};
use crate::error::ApiError;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};
use trailmap_app::TrackingWrite;
use trailmap_ingest::enrich::Enricher;
use trailmap_ingest::parse_timestamp;
use trailmap_ingest::segment::{self, MAX_MESSAGE_BYTES, MessageContext, OfflineTouchpoint};

/// The snippet's source, served as is.
pub(super) const SNIPPET: &str = include_str!("../snippet.js");

/// A 1x1 transparent GIF (GIF89a, one colour, one transparent pixel): 43 bytes.
pub(super) const PIXEL_GIF: [u8; 43] = [
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff,
    0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02,
    0x02, 0x44, 0x01, 0x00, 0x3b,
];

/// `GET /t.js`: the snippet, cacheable for an hour.
pub(super) async fn snippet() -> Response {
    let mut response = SNIPPET.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/javascript; charset=utf-8"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    cors(response)
}

/// The decoded `name=value` pairs of a query string (`+` as space, `%XX` escapes; a malformed
/// escape is kept as written).
fn query_pairs(query: &str) -> Vec<(String, String)> {
    fn decode(text: &str) -> String {
        let bytes = text.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < bytes.len() => {
                    match u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"), 16) {
                        Ok(b) => {
                            out.push(b);
                            i += 2;
                        }
                        Err(_) => out.push(b'%'),
                    }
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// `GET /v1/pixel`: records an email open (or the event `e` names) and answers the GIF, never
/// cached, so every open reaches us. Parameters: `wk` (write key), `e` (event, default
/// `email_open`), `uid` (customer id), `email`, `aid` (anonymous id), `campaign`, `source`, `mid`
/// (message id, so a resent pixel counts once); any other parameter becomes a property.
pub(super) async fn pixel(State(state): State<Tracking>, uri: Uri) -> Response {
    let received_at = now();
    let mut key = None;
    let mut message = Map::new();
    let mut campaign = Map::new();
    let mut properties = Map::new();
    let mut traits = Map::new();
    campaign.insert("medium".into(), "email".into());
    message.insert("event".into(), "email_open".into());
    for (name, value) in query_pairs(uri.query().unwrap_or("")) {
        if value.trim().is_empty() {
            continue;
        }
        match name.as_str() {
            "wk" => key = Some(value),
            "e" => _ = message.insert("event".into(), value.into()),
            "uid" => _ = message.insert("userId".into(), value.into()),
            "aid" => _ = message.insert("anonymousId".into(), value.into()),
            "mid" => _ = message.insert("messageId".into(), format!("pixel:{value}").into()),
            "email" => _ = traits.insert("email".into(), value.into()),
            "campaign" => _ = campaign.insert("name".into(), value.into()),
            "source" => _ = campaign.insert("source".into(), value.into()),
            _ => _ = properties.insert(name, value.into()),
        }
    }
    let (business, key) = match authorize(&state, key).await {
        Ok(found) => found,
        Err(refused) => return refused,
    };
    let mut context = Map::new();
    context.insert("campaign".into(), Value::Object(campaign));
    context.insert("traits".into(), Value::Object(traits));
    message.insert("context".into(), Value::Object(context));
    message.insert("properties".into(), Value::Object(properties));
    let context = MessageContext { received_at, batch_sent_at: None, currency: business.currency };
    let converted = match segment::convert(&Value::Object(message), Some("track"), &context, &mut Enricher::new()) {
        Ok(c) => c,
        Err(drop) => {
            return cors(
                ApiError::bad_request(drop_code(drop), format!("the pixel was not recorded: {drop}; give uid, email or aid")).into_response(),
            );
        }
    };
    let write = TrackingWrite { business: Some(business.id), key: Some(key), messages: vec![converted], drops: Vec::new() };
    if let Err(refused) = commit(&state, write).await {
        return refused;
    }
    let mut response = (StatusCode::OK, PIXEL_GIF.to_vec()).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/gif"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store, no-cache, must-revalidate, max-age=0"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    cors(response)
}

/// `POST /v1/offline`: `{"email" | "userId", "touchpoint", "timestamp"?, "properties"?,
/// "messageId"?}` with the write key as for every other path; 200 `{"success": true}` once it is on
/// disk. See [`segment::convert_offline`] for the events it becomes.
pub(super) async fn offline(State(state): State<Tracking>, headers: HeaderMap, body: Body) -> Response {
    cors(match offline_request(&state, &headers, body).await {
        Ok(()) => super::success(),
        Err(refused) => refused,
    })
}

async fn offline_request(state: &Tracking, headers: &HeaderMap, body: Body) -> Result<(), Response> {
    let received_at = now();
    let (root, _) = read_object(headers, body, MAX_MESSAGE_BYTES).await.map_err(IntoResponse::into_response)?;
    let (business, key) = authorize(state, request_key(headers, &root)).await?;
    let offline = offline_touchpoint(&root).map_err(IntoResponse::into_response)?;
    let context = MessageContext { received_at, batch_sent_at: None, currency: business.currency };
    let converted = segment::convert_offline(&offline, &context, &mut Enricher::new()).map_err(|drop| {
        let message = match drop {
            segment::SegmentDrop::MissingIdentity => "give \"email\" or \"userId\" to say whose touchpoint this is".to_string(),
            other => format!("the touchpoint was not stored: {other}"),
        };
        ApiError::bad_request(drop_code(drop), message).into_response()
    })?;
    commit(state, TrackingWrite { business: Some(business.id), key: Some(key), messages: vec![converted], drops: Vec::new() }).await
}

/// The fields of an offline touchpoint's body, checked one by one.
fn offline_touchpoint(root: &Map<String, Value>) -> Result<OfflineTouchpoint, ApiError> {
    let bad = ApiError::bad_request;
    let text = |field: &str| -> Result<Option<String>, ApiError> {
        match root.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) if field == "userId" => Ok(Some(n.to_string())),
            Some(_) => Err(bad("invalid_input", format!("\"{field}\" must be a string"))),
        }
    };
    let touchpoint = text("touchpoint")?.filter(|t| !t.trim().is_empty()).ok_or_else(|| {
        bad("invalid_input", "\"touchpoint\" is required: till, phone, visit or another name".to_string())
    })?;
    let timestamp = match text("timestamp")? {
        Some(t) => Some(parse_timestamp(&t).map_err(|e| bad("bad_timestamp", format!("\"timestamp\": {e}")))?),
        None => None,
    };
    let properties = match root.get("properties") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(p)) => p.clone(),
        Some(_) => return Err(bad("invalid_input", "\"properties\" must be an object".to_string())),
    };
    Ok(OfflineTouchpoint {
        email: text("email")?,
        user_id: text("userId")?,
        touchpoint,
        timestamp,
        properties,
        message_id: text("messageId")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_pairs_decode_escapes_and_plus() {
        assert_eq!(
            query_pairs("wk=k1&email=ann%40example.com&campaign=spring+sale&x=%zz&&flag"),
            [
                ("wk".to_string(), "k1".to_string()),
                ("email".into(), "ann@example.com".into()),
                ("campaign".into(), "spring sale".into()),
                ("x".into(), "%zz".into()),
                ("flag".into(), String::new()),
            ]
        );
        assert_eq!(query_pairs("a=%4"), [("a".to_string(), "%4".to_string())]);
        assert_eq!(query_pairs("a=%C3%A9"), [("a".to_string(), "é".to_string())]);
    }

    #[test]
    fn the_pixel_is_a_valid_gif() {
        assert_eq!(&PIXEL_GIF[..6], b"GIF89a");
        assert_eq!((PIXEL_GIF[6], PIXEL_GIF[8]), (1, 1), "1x1");
        assert_eq!(PIXEL_GIF[42], 0x3b, "trailer");
    }
}
