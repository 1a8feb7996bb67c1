//! The tracking API's target: a request body read as the server reads it (strict JSON, refusing a
//! key given twice), then a batch's messages, or the one message of `/v1/track`, `/v1/page`, ...,
//! converted by `segment::convert` with the batch's `sentAt`, as `tracking.rs` in the server does.
//!
//! What must hold: a JSON error carries its line; a converted message's event name keeps the
//! single-line text rule, and every string of the event and of an identify's customer keeps the
//! text rules.

use crate::{Outcome, assert_clean_text, json_of};
use serde_json::Value;
use trailmap_ingest::enrich::Enricher;
use trailmap_ingest::segment::{self, MessageContext};
use trailmap_ingest::text::{TextRule, check};
use trailmap_model::{Currency, Timestamp};

/// The message types a path of the tracking API implies, for a body without `batch`.
const PATH_TYPES: [&str; 6] = ["track", "page", "screen", "identify", "group", "alias"];

/// When the server received the body: fixed, so a run is reproducible (2026-12-06T12:00:00Z).
const RECEIVED_AT: Timestamp = Timestamp(1_796_558_400_000);

/// A tracking API body. A body with a `batch` array is a batch (each message's own `type`
/// counts); any other object is one message of the type its length picks among the paths'.
pub fn segment_batch(data: &[u8]) -> Outcome {
    let root = match trailmap_ingest::json::parse_strict(data) {
        Ok(Value::Object(root)) => root,
        Ok(_) => return Outcome::Refused,
        Err(e) => {
            assert!(e.line() >= 1, "a JSON error without its line: {e}");
            return Outcome::Refused;
        }
    };
    let mut context = MessageContext { received_at: RECEIVED_AT, batch_sent_at: None, currency: Currency::USD };
    let mut enricher = Enricher::new();
    match root.get("batch") {
        Some(Value::Array(batch)) => {
            context.batch_sent_at =
                root.get("sentAt").and_then(Value::as_str).and_then(|s| trailmap_ingest::parse_timestamp(s).ok());
            // Accepted when every message converts, as a client whose events all land sees it.
            let mut converted = 0;
            for message in batch {
                converted += usize::from(check_converted(segment::convert(message, None, &context, &mut enricher)));
            }
            Outcome::of(!batch.is_empty() && converted == batch.len())
        }
        _ => {
            let forced = PATH_TYPES[data.len() % PATH_TYPES.len()];
            Outcome::of(check_converted(segment::convert(&Value::Object(root), Some(forced), &context, &mut enricher)))
        }
    }
}

/// Checks a converted message; true when it converted, false when it was dropped.
fn check_converted(converted: Result<segment::Converted, segment::SegmentDrop>) -> bool {
    let converted = match converted {
        Ok(converted) => converted,
        Err(drop) => {
            assert!(!drop.as_str().is_empty(), "a drop without a name");
            return false;
        }
    };
    let name = &converted.event.event.name;
    if let Err(problem) = check(name, TextRule::LINE) {
        panic!("the event name {name:?} got through the text rules: {problem}");
    }
    assert_clean_text(&json_of(&converted.event), "a tracked event");
    if let Some(customer) = &converted.customer {
        assert_clean_text(&json_of(customer), "an identify's customer");
    }
    true
}
