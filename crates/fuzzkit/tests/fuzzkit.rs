//! The CI smoke of every fuzz target: each runs over its committed seed corpus
//! (`fuzz/corpus/NAME/`), the crash inputs found so far (`fuzz/regressions/NAME/`, each a
//! regression test), and a fixed number of mutations of the seeds made by a seeded generator, so
//! the run is the same every time, needs no nightly toolchain, and takes seconds. The long
//! campaigns are libFuzzer's (`fuzz/`, results in `bench/results/fuzz-*.md`).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::{Path, PathBuf};
use trailmap_fuzzkit::TARGETS;

/// Mutated inputs run per target.
const MUTATIONS: usize = 2_000;

/// Bytes that mean something to one of the parsers, spliced in by the mutator.
const TOKENS: &[&[u8]] = &[
    b",", b";", b"\t", b"\n", b"\r\n", b"\r", b"\"", b"\"\"", b"{", b"}", b"[", b"]", b":", b"|", b"=", b"!=", b"^=",
    b"*=", b">", b"<", b"&", b"%00", b"%0A", b"\0", b"\x7f", b"\xc2\x85", b"\xef\xbb\xbf", b"\xff\xfe", b"-", b".",
    b"1,234.56", b"12,50", b"-0", b"1e308", b"9999999999999999999", b"-9223372036854775808", b"NaN", b"null",
    b"true", b"\"batch\":[", b"\"type\":\"track\"", b"\"sentAt\":\"", b"2024-03-01T10:00:00Z", b"0000-01-01",
    b"touchpoint:", b"stage:", b"property:", b"customer:", b"q1=", b"email=", b"\xe2\x82\xac",
];

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The files of a folder, sorted by name; none when it does not exist.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut out: Vec<(String, Vec<u8>)> = entries
        .map(|e| {
            let path = e.expect("a folder entry").path();
            (path.display().to_string(), std::fs::read(&path).expect("a readable corpus file"))
        })
        .collect();
    out.sort();
    out
}

/// One mutation of `input`, or a splice of it with `other`.
fn mutate(rng: &mut ChaCha8Rng, input: &[u8], other: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..rng.random_range(1..=4) {
        let at = rng.random_range(0..=out.len());
        match rng.random_range(0..8) {
            0 if !out.is_empty() => {
                let i = rng.random_range(0..out.len());
                out[i] ^= 1 << rng.random_range(0..8);
            }
            1 if !out.is_empty() => {
                let end = (at + rng.random_range(1..=16)).min(out.len());
                out.drain(at.min(end)..end);
            }
            2 => {
                let token = TOKENS[rng.random_range(0..TOKENS.len())];
                out.splice(at..at, token.iter().copied());
            }
            3 if !out.is_empty() => {
                // A piece of the input again somewhere else: repeated rows, nested objects.
                let start = rng.random_range(0..out.len());
                let end = (start + rng.random_range(1..=64)).min(out.len());
                let piece = out[start..end].to_vec();
                out.splice(at..at, piece);
            }
            4 => out.truncate(at),
            5 if !other.is_empty() => {
                let start = rng.random_range(0..other.len());
                let piece = other[start..].to_vec();
                out.truncate(at);
                out.extend(piece);
            }
            6 => {
                let byte = rng.random::<u8>();
                out.insert(at, byte);
            }
            _ => {
                let digits = format!("{}", rng.random::<i64>());
                out.splice(at..at, digits.into_bytes());
            }
        }
    }
    out
}

#[test]
fn every_target_has_a_seed_corpus() {
    for (name, _) in TARGETS {
        let seeds = files(&repo_root().join("fuzz/corpus").join(name));
        assert!(!seeds.is_empty(), "fuzz/corpus/{name}/ holds no seed");
        let target = repo_root().join("fuzz/fuzz_targets").join(format!("{name}.rs"));
        assert!(target.is_file(), "no cargo-fuzz target {}", target.display());
    }
}

#[test]
fn every_target_survives_its_seeds_its_regressions_and_seeded_mutations() {
    for (index, (name, target)) in TARGETS.iter().enumerate() {
        let seeds = files(&repo_root().join("fuzz/corpus").join(name));
        let regressions = files(&repo_root().join("fuzz/regressions").join(name));
        for (path, bytes) in seeds.iter().chain(&regressions) {
            eprintln!("{name}: {path}");
            target(bytes);
        }
        let mut rng = ChaCha8Rng::seed_from_u64(0x7261_696c + index as u64);
        for _ in 0..MUTATIONS {
            let (_, input) = &seeds[rng.random_range(0..seeds.len())];
            let (_, other) = &seeds[rng.random_range(0..seeds.len())];
            let mutated = mutate(&mut rng, input, other);
            target(&mutated);
        }
    }
}
