//! The CI smoke of every fuzz target: each runs over its committed seed corpus
//! (`fuzz/corpus/NAME/`, where a seed named `ok-*` must be read whole and one named `bad-*`
//! refused) and a fixed number of mutations of the seeds made by a seeded generator, so the run is
//! the same every time, needs no nightly toolchain, and takes seconds. The targets themselves
//! check what must hold of any input (errors naming their place, round trips); the long campaigns
//! are libFuzzer's (`fuzz/`, results in `bench/results/fuzz-*.md`).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::{Path, PathBuf};
use trailmap_fuzzkit::{Outcome, TARGETS};

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
fn every_target_has_a_cargo_fuzz_runner_and_a_seed_corpus_of_valid_and_invalid_inputs() {
    for (name, _) in TARGETS {
        let seeds = files(&repo_root().join("fuzz/corpus").join(name));
        assert!(seeds.iter().any(|(path, _)| file_name(path).starts_with("ok-")), "fuzz/corpus/{name}/ holds no valid (ok-*) seed");
        let target = repo_root().join("fuzz/fuzz_targets").join(format!("{name}.rs"));
        let runner = std::fs::read_to_string(&target).unwrap_or_else(|e| panic!("no cargo-fuzz target {}: {e}", target.display()));
        assert!(runner.contains(&format!("trailmap_fuzzkit::{name}(data)")), "{} does not call trailmap_fuzzkit::{name}", target.display());
        let manifest = std::fs::read_to_string(repo_root().join("fuzz/Cargo.toml")).expect("fuzz/Cargo.toml");
        assert!(manifest.contains(&format!("name = \"{name}\"")), "fuzz/Cargo.toml has no [[bin]] {name}");
    }
}

/// The seeds say what the parser must make of them: `ok-*` is read whole (and, inside the
/// target, round-trips where the format prints back), `bad-*` is refused with an error.
#[test]
fn the_seed_corpus_is_read_as_its_names_say() {
    let mut checked = 0;
    for (name, target) in TARGETS {
        for (path, bytes) in files(&repo_root().join("fuzz/corpus").join(name)) {
            let want = match file_name(&path) {
                n if n.starts_with("ok-") => Outcome::Accepted,
                n if n.starts_with("bad-") => Outcome::Refused,
                other => panic!("{path}: a seed's name starts with ok- or bad-, not {other:?}"),
            };
            assert_eq!(target(&bytes), want, "{name}: {path}");
            checked += 1;
        }
    }
    assert!(checked >= 2 * TARGETS.len(), "only {checked} seeds");
}

#[test]
fn every_target_survives_seeded_mutations_of_its_seeds() {
    for (index, (name, target)) in TARGETS.iter().enumerate() {
        let seeds = files(&repo_root().join("fuzz/corpus").join(name));
        let mut rng = ChaCha8Rng::seed_from_u64(0x7261_696c + index as u64);
        let mut outcomes = [0usize; 3];
        for _ in 0..MUTATIONS {
            let (_, input) = &seeds[rng.random_range(0..seeds.len())];
            let (_, other) = &seeds[rng.random_range(0..seeds.len())];
            let mutated = mutate(&mut rng, input, other);
            outcomes[target(&mutated) as usize] += 1;
        }
        eprintln!("{name}: {MUTATIONS} mutations, accepted {}, refused {}, skipped {}", outcomes[0], outcomes[1], outcomes[2]);
        // Mutations that the parser never refuses, or never accepts, test nothing of its errors
        // or of its reading: both must happen.
        assert!(outcomes[0] > 0 && outcomes[1] > 0, "{name}: accepted {} and refused {} of {MUTATIONS} mutations", outcomes[0], outcomes[1]);
    }
}

fn file_name(path: &str) -> &str {
    Path::new(path).file_name().and_then(|n| n.to_str()).unwrap_or(path)
}
