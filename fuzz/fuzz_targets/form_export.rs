//! libFuzzer's runner of `trailmap_fuzzkit::form_export` (what it reads and checks is documented there).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    trailmap_fuzzkit::form_export(data);
});
