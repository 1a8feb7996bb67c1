//! Benchmark of segment health and the writer's memory (issue 19, items 3 and 4), on the store
//! alone, in release:
//!
//! ```text
//! cargo run --release -p trailmap-store --example segments -- tracking --events 2000000 --batch 355 --dir /tmp/segbench
//! cargo run --release -p trailmap-store --example segments -- restart --events 10000000 --dir /tmp/segbench
//! ```
//!
//! `tracking` writes the same seeded events in tracking-sized batches (one transaction each, as a
//! group commit) into two stores: one never merged, one merged as the server's writer does (one
//! merge after a batch once `MERGE_AFTER` small segments are unmerged); it reports segments, file
//! size and time of both, checks the two loads are equal, then compacts the unmerged store and
//! reports the file before and after. `restart` fills a store with `--events` events in bulk
//! writes, then starts a fresh process that opens it and writes one tracking batch (one message
//! a retry of a stored one): its resident memory before and after and the batch's latency.
//! Scratch stores go under `--dir` and are deleted at the end.

#![allow(clippy::unwrap_used)]

use rand::{Rng, SeedableRng};
use std::path::{Path, PathBuf};
use std::time::Instant;
use trailmap_model::*;
use trailmap_store::{Compaction, MERGE_AFTER, SegmentMerging, SqliteStore, Store, StoreError};

fn events(seed: u64, from: u64, n: u64) -> Vec<IncomingEvent> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ from);
    let names = ["page_view", "page_view", "page_view", "product_view", "add_to_cart", "purchase"];
    let channels = ["Organic Search", "Paid Social", "Referral", "Direct", "Email"];
    (from..from + n)
        .map(|i| {
            let visitor = rng.random_range(0..200_000u32);
            let name = names[rng.random_range(0..names.len())];
            let mut event = Event {
                channel: Some(channels[rng.random_range(0..channels.len())].into()),
                source: Some("google".into()),
                page: Some(format!("/p/{}", rng.random_range(0..500))),
                ..Event::new(name, Timestamp(1_700_000_000_000 + i as i64 * 500), Identity::anonymous(&format!("v{visitor}")).unwrap())
            };
            if name == "purchase" {
                event.revenue = Some(Money::new(rng.random_range(100..10_000), Currency::USD));
            }
            if rng.random_bool(0.3) {
                event.properties.insert("plan".into(), format!("p{}", rng.random_range(0..20)).into());
            }
            event.key = EventKey::from_id("bench", &i.to_string());
            IncomingEvent { event, also_known_as: vec![] }
        })
        .collect()
}

fn write(store: &mut SqliteStore, b: BusinessId, batch: &[IncomingEvent]) -> WriteSummaryLite {
    let s = store
        .write::<StoreError>(&mut |w| {
            for e in batch {
                w.add_event(b, e)?;
            }
            Ok(())
        })
        .unwrap();
    WriteSummaryLite { added: s.events_added, duplicate: s.events_duplicate }
}

struct WriteSummaryLite {
    added: u64,
    duplicate: u64,
}

fn business(store: &mut SqliteStore) -> BusinessId {
    if let Some(b) = store.business_by_name("Bench").unwrap() {
        return b.id;
    }
    let mut id = BusinessId(0);
    store
        .write::<StoreError>(&mut |w| {
            id = w.create_business("Bench", Currency::USD, "UTC")?.0.id;
            Ok(())
        })
        .unwrap();
    id
}

fn file_size(path: &Path) -> u64 {
    let wal = PathBuf::from(format!("{}-wal", path.display()));
    std::fs::metadata(path).map_or(0, |m| m.len()) + std::fs::metadata(wal).map_or(0, |m| m.len())
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / 1_048_576.0
}

/// (VmRSS, VmHWM) of this process in KiB.
fn memory_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status.lines().find(|l| l.starts_with(name)).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse().ok()).unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn arg(args: &[String], name: &str, default: &str) -> String {
    args.windows(2).find(|w| w[0] == name).map_or(default.to_string(), |w| w[1].clone())
}

fn tracking(args: &[String]) {
    let n: u64 = arg(args, "--events", "2000000").parse().unwrap();
    let batch: u64 = arg(args, "--batch", "355").parse().unwrap();
    let dir = PathBuf::from(arg(args, "--dir", "/tmp/segbench"));
    std::fs::create_dir_all(&dir).unwrap();
    let (plain_path, merged_path) = (dir.join("plain.sqlite"), dir.join("merged.sqlite"));
    for p in [&plain_path, &merged_path] {
        let _ = std::fs::remove_file(p);
    }
    let mut plain = SqliteStore::open(&plain_path).unwrap();
    let mut merged = SqliteStore::open(&merged_path).unwrap();
    let (b, b2) = (business(&mut plain), business(&mut merged));
    assert_eq!(b, b2);
    let (mut plain_s, mut merged_s, mut merge_s, mut merges) = (0f64, 0f64, 0f64, 0u64);
    let mut worst_merge = 0f64;
    let mut at = 0;
    while at < n {
        let part = events(1, at, batch.min(n - at));
        let t = Instant::now();
        write(&mut plain, b, &part);
        plain_s += t.elapsed().as_secs_f64();
        let t = Instant::now();
        write(&mut merged, b, &part);
        merged_s += t.elapsed().as_secs_f64();
        if merged.unmerged_segments() >= MERGE_AFTER {
            let t = Instant::now();
            if merged.merge_step(false).unwrap().is_some() {
                merges += 1;
            }
            let took = t.elapsed().as_secs_f64();
            merge_s += took;
            worst_merge = worst_merge.max(took);
        }
        at += part.len() as u64;
    }
    plain.give_back_space().ok();
    merged.give_back_space().ok();
    let (plain_segments, rows) = plain.segment_count(b).unwrap();
    let (merged_segments, _) = merged.segment_count(b).unwrap();
    let t = Instant::now();
    let plain_load = plain.load_events(b, EventColumns::default()).unwrap();
    let plain_load_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let merged_load = merged.load_events(b, EventColumns::default()).unwrap();
    let merged_load_s = t.elapsed().as_secs_f64();
    assert!(plain_load == merged_load, "the merged store loads the same events");
    drop((plain_load, merged_load));
    println!("## tracking: {rows} events in batches of {batch} (one transaction each)\n");
    println!("| store | segments | rows/segment | file MiB | B/event | write s | merge s (merges, worst ms) | cold load s |");
    println!("|---|---|---|---|---|---|---|---|");
    let (ps, ms) = (file_size(&plain_path), file_size(&merged_path));
    println!(
        "| unmerged | {plain_segments} | {:.0} | {:.1} | {:.1} | {plain_s:.1} | — | {plain_load_s:.3} |",
        rows as f64 / plain_segments as f64,
        mib(ps),
        ps as f64 / rows as f64
    );
    println!(
        "| merged online | {merged_segments} | {:.0} | {:.1} | {:.1} | {merged_s:.1} | {merge_s:.1} ({merges}, {:.0}) | {merged_load_s:.3} |",
        rows as f64 / merged_segments as f64,
        mib(ms),
        ms as f64 / rows as f64,
        worst_merge * 1000.0
    );
    drop(merged);
    let before = file_size(&plain_path);
    let t = Instant::now();
    let summary = plain.compact_events(b).unwrap();
    let compact_s = t.elapsed().as_secs_f64();
    let after = file_size(&plain_path);
    println!(
        "\ncompact of the unmerged store: {} → {} segments, file {:.1} MiB → {:.1} MiB ({compact_s:.1} s)",
        summary.segments_before,
        summary.segments_after,
        mib(before),
        mib(after)
    );
    drop(plain);
    for p in [&plain_path, &merged_path] {
        let _ = std::fs::remove_file(p);
    }
}

fn restart(args: &[String]) {
    let n: u64 = arg(args, "--events", "10000000").parse().unwrap();
    let dir = PathBuf::from(arg(args, "--dir", "/tmp/segbench"));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("restart.sqlite");
    let _ = std::fs::remove_file(&path);
    let mut store = SqliteStore::open(&path).unwrap();
    let b = business(&mut store);
    let t = Instant::now();
    let chunk = 1_000_000;
    let mut at = 0;
    while at < n {
        let part = events(2, at, chunk.min(n - at));
        store
            .write::<StoreError>(&mut |w| {
                w.bulk();
                for e in &part {
                    w.add_event(b, e)?;
                }
                Ok(())
            })
            .unwrap();
        at += part.len() as u64;
    }
    let fill_s = t.elapsed().as_secs_f64();
    store.give_back_space().ok();
    let keys = store.indexed_keys(b).unwrap();
    drop(store);
    let bytes = file_size(&path);
    println!("## restart: {n} stored events\n");
    println!(
        "filled in {fill_s:.1} s ({:.0} events/s, writes of 1M); file {:.1} MiB, {:.1} B/event; {keys} keys in the index",
        n as f64 / fill_s,
        mib(bytes),
        bytes as f64 / n as f64
    );
    // The restart is a fresh process: its memory is the writer's, not what the fill left behind.
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["first-batch", "--events", &n.to_string()])
        .arg("--db")
        .arg(&path)
        .output()
        .unwrap();
    print!("{}", String::from_utf8_lossy(&out.stdout));
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    let _ = std::fs::remove_file(&path);
}

/// The child of `restart`: opens the store, writes one batch of 355 events (one of them a stored
/// event sent again), and reports memory and latency.
fn first_batch(args: &[String]) {
    let n: u64 = arg(args, "--events", "10000000").parse().unwrap();
    let path = PathBuf::from(arg(args, "--db", ""));
    let (rss0, _) = memory_kib();
    let t = Instant::now();
    let mut store = SqliteStore::open(&path).unwrap();
    let b = business(&mut store);
    let open_ms = t.elapsed().as_secs_f64() * 1000.0;
    let mut batch = events(3, n, 354);
    batch.extend(events(2, n / 2, 1));
    let t = Instant::now();
    let written = write(&mut store, b, &batch);
    let first_ms = t.elapsed().as_secs_f64() * 1000.0;
    let (rss1, hwm1) = memory_kib();
    let t = Instant::now();
    let second = write(&mut store, b, &events(3, n + 1_000, 355));
    let second_ms = t.elapsed().as_secs_f64() * 1000.0;
    let (rss2, hwm2) = memory_kib();
    assert_eq!((written.added, written.duplicate), (354, 1), "the retried message is dropped");
    assert_eq!(second.added, 355);
    println!("\n| after a restart, {n} stored | value |\n|---|---|");
    println!("| process RSS before opening | {:.1} MiB |", rss0 as f64 / 1024.0);
    println!("| open (schema check) | {open_ms:.1} ms |");
    println!("| first batch, 355 events (1 a retry, dropped) | {first_ms:.1} ms |");
    println!("| RSS after the first batch (peak) | {:.1} MiB ({:.1} MiB) |", rss1 as f64 / 1024.0, hwm1 as f64 / 1024.0);
    println!("| second batch | {second_ms:.1} ms |");
    println!("| RSS after the second batch (peak) | {:.1} MiB ({:.1} MiB) |", rss2 as f64 / 1024.0, hwm2 as f64 / 1024.0);
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("tracking") => tracking(&args),
        Some("restart") => restart(&args),
        Some("first-batch") => first_batch(&args),
        _ => eprintln!("usage: segments tracking [--events N] [--batch N] [--dir D] | restart [--events N] [--dir D]"),
    }
}
