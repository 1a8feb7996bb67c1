//! The fuzz targets of Trailmap: one plain function per parser that reads what people and machines
//! send us (CSV and NDJSON imports of every kind and layout, the Segment tracking API's batches,
//! journey map JSON, public survey form posts, survey export answers, funnel steps, event rules
//! and persona rules). Each takes the fuzzer's bytes, drives the real parser the product uses, and
//! asserts what must hold for any input: no panic, errors that name their file and line (or field,
//! or offset) where the API promises it, and round trips where a value is printed and read again.
//!
//! Two runners call them: `fuzz/` at the repository root (cargo-fuzz and libFuzzer, nightly, for
//! the long campaigns in `bench/results/fuzz-*.md`), and this crate's tests, which run every target
//! over its committed seed corpus (`fuzz/corpus/NAME/`) and a few thousand seeded mutations, on
//! stable Rust, in seconds. A crash a campaign finds becomes a regression test in the test binary
//! of the crate that owns the parser.
//!
//! Adding a target is one function here and one line in [`TARGETS`] (plus a three-line file in
//! `fuzz/fuzz_targets/` and a seed or two in `fuzz/corpus/`).
//!
//! This crate is for testing only: nothing in the product depends on it. It is not in the testkit
//! because the app depends on the testkit (the demo generator), and these targets call the app.

mod imports;
mod maps;
mod queries;
mod rules;
mod surveys;
mod tracking;

pub use imports::{import_csv, import_ndjson};
pub use maps::map_import;
pub use queries::funnel_steps;
pub use rules::{event_rule, persona_rule};
pub use surveys::{form_answer, form_export, survey_post};
pub use tracking::segment_batch;

/// What a target made of its input, for the smoke test's checks of the seed corpus (libFuzzer
/// ignores it): a seed named `ok-*` must be accepted and one named `bad-*` refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The parser read it whole: every row, message or answer.
    Accepted,
    /// The parser refused it, or some of its rows or messages, with an error.
    Refused,
    /// The bytes are not of the target's domain (too short to hold its selector bytes, or not
    /// UTF-8 where the product receives text), so no parser saw them.
    Skipped,
}

impl Outcome {
    fn of(accepted: bool) -> Outcome {
        if accepted { Outcome::Accepted } else { Outcome::Refused }
    }
}

/// One fuzz target: its name (the cargo-fuzz target's and its corpus folder's) and its body.
pub type Target = (&'static str, fn(&[u8]) -> Outcome);

/// Every target, by name.
pub const TARGETS: &[Target] = &[
    ("import_csv", import_csv),
    ("import_ndjson", import_ndjson),
    ("segment_batch", segment_batch),
    ("map_import", map_import),
    ("survey_post", survey_post),
    ("form_answer", form_answer),
    ("form_export", form_export),
    ("funnel_steps", funnel_steps),
    ("event_rule", event_rule),
    ("persona_rule", persona_rule),
];

/// Checks that every string and key in a value holds no control character other than tab and
/// line breaks, and no more than free text's limit: what the import rules promise of anything
/// that gets into a record. `what` names the record in the panic message.
pub(crate) fn assert_clean_text(value: &serde_json::Value, what: &str) {
    use trailmap_ingest::text::{TextRule, check};
    match value {
        serde_json::Value::String(s) => {
            if let Err(problem) = check(s, TextRule::TEXT) {
                panic!("{what}: the string {s:?} got through the text rules: {problem}");
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| assert_clean_text(v, what)),
        serde_json::Value::Object(map) => {
            for (key, v) in map {
                if let Err(problem) = check(key, TextRule::LINE) {
                    panic!("{what}: the key {key:?} got through the text rules: {problem}");
                }
                assert_clean_text(v, what);
            }
        }
        _ => {}
    }
}

/// A record as JSON, to walk its strings: written as text and read back, since an event's key is
/// a u128, which `serde_json::to_value` cannot hold (the text form reads it back as a float).
pub(crate) fn json_of(record: &impl serde::Serialize) -> serde_json::Value {
    let text = serde_json::to_string(record).expect("a record serialises");
    serde_json::from_str(&text).expect("a serialised record reads back")
}

/// The most lines a text can have, as an error may count them: one more than its line breaks
/// (`\n`, `\r\n` or a lone `\r`, which CSV readers also end a record on).
pub(crate) fn line_count(bytes: &[u8]) -> u64 {
    let breaks = bytes
        .iter()
        .enumerate()
        .filter(|&(i, &b)| b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')))
        .count();
    breaks as u64 + 1
}
