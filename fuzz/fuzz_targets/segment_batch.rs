//! libFuzzer's runner of `trailmap_fuzzkit::segment_batch` (what it reads and checks is documented there).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    trailmap_fuzzkit::segment_batch(data);
});
