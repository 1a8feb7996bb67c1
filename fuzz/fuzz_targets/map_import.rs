//! libFuzzer's runner of `trailmap_fuzzkit::map_import` (what it reads and checks is documented there).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    trailmap_fuzzkit::map_import(data);
});
