//! The fuzz targets of Trailmap: one plain function per parser that reads what people and machines
//! send us (CSV and NDJSON imports of every kind and layout, the Segment tracking API's batches,
//! journey map JSON, public survey form posts, survey export answers, funnel steps). Each takes
//! the fuzzer's bytes, drives the real parser the product uses, and asserts what must hold for any
//! input: no panic, and errors that name their file and line (or field) where the API promises it.
//!
//! Two runners call them: `fuzz/` at the repository root (cargo-fuzz and libFuzzer, nightly, for
//! the long campaigns in `bench/results/fuzz-*.md`), and this crate's tests, which run every target
//! over its committed seed corpus (`fuzz/corpus/NAME/`), the crash inputs found so far
//! (`fuzz/regressions/NAME/`) and a few thousand seeded mutations, on stable Rust, in seconds.
//!
//! Adding a target is one function here and one line in [`TARGETS`] (plus a three-line file in
//! `fuzz/fuzz_targets/` and a seed or two in `fuzz/corpus/`).
//!
//! This crate is for testing only: nothing in the product depends on it. It is not in the testkit
//! because the app depends on the testkit (the demo generator), and these targets call the app.

mod imports;
mod maps;
mod queries;
mod surveys;
mod tracking;

pub use imports::{import_csv, import_ndjson};
pub use maps::map_import;
pub use queries::funnel_steps;
pub use surveys::{form_answer, form_export, survey_post};
pub use tracking::segment_batch;

/// One fuzz target: its name (the cargo-fuzz target's and its corpus folder's) and its body.
pub type Target = (&'static str, fn(&[u8]));

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
