//! The tracking API's target: a request body read as the server reads it (strict JSON, refusing a
//! key given twice), then a batch's messages, or the one message of `/v1/track`, `/v1/page`, ...,
//! converted by `segment::convert` with the batch's `sentAt`, as `tracking.rs` in the server does.
//!
//! What must hold: a JSON error carries its line; a converted message's event name keeps the
//! single-line text rule, and every string of the event and of an identify's customer keeps the
//! text rules.

use crate::assert_clean_text;
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
pub fn segment_batch(data: &[u8]) {
    let root = match trailmap_ingest::json::parse_strict(data) {
        Ok(Value::Object(root)) => root,
        Ok(_) => return,
        Err(e) => {
            assert!(e.line() >= 1, "a JSON error without its line: {e}");
            return;
        }
    };
    let mut context = MessageContext { received_at: RECEIVED_AT, batch_sent_at: None, currency: Currency::USD };
    let mut enricher = Enricher::new();
    match root.get("batch") {
        Some(Value::Array(batch)) => {
            context.batch_sent_at =
                root.get("sentAt").and_then(Value::as_str).and_then(|s| trailmap_ingest::parse_timestamp(s).ok());
            for message in batch {
                check_converted(segment::convert(message, None, &context, &mut enricher));
            }
        }
        _ => {
            let forced = PATH_TYPES[data.len() % PATH_TYPES.len()];
            check_converted(segment::convert(&Value::Object(root), Some(forced), &context, &mut enricher));
        }
    }
}

fn check_converted(converted: Result<segment::Converted, segment::SegmentDrop>) {
    let converted = match converted {
        Ok(converted) => converted,
        Err(drop) => {
            assert!(!drop.as_str().is_empty(), "a drop without a name");
            return;
        }
    };
    let name = &converted.event.event.name;
    if let Err(problem) = check(name, TextRule::LINE) {
        panic!("the event name {name:?} got through the text rules: {problem}");
    }
    assert_clean_text(&serde_json::to_value(&converted.event).expect("an event serialises"), "a tracked event");
    if let Some(customer) = &converted.customer {
        assert_clean_text(&serde_json::to_value(customer).expect("a customer serialises"), "an identify's customer");
    }
}
