//! A rough throughput check of an events CSV import, end to end (parsing, matching, enrichment and
//! keys): `cargo run --release -p trailmap-ingest --example throughput [rows]`. Not a benchmark; the
//! benchmark lives in the bench crate.

use std::time::Instant;
use trailmap_ingest::{ImportOptions, RecordKind, RecordReader};

fn main() {
    let rows: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let mut data = String::from("event,anonymous_id,user_id,timestamp,page,referrer,revenue\n");
    let pages = [
        "https://shop.example.com/?utm_source=google&utm_medium=cpc",
        "/pricing",
        "/checkout",
        "/blog/post",
    ];
    let refs = [
        "",
        "https://www.google.com/",
        "https://l.instagram.com/",
        "https://news.example.org/a",
    ];
    for i in 0..rows {
        let (page, referrer) = (pages[i % 4], refs[(i / 4) % 4]);
        let user = if i % 10 == 0 {
            format!("u{}", i % 5000)
        } else {
            String::new()
        };
        data.push_str(&format!(
            "page_view,v{},{user},2024-03-01T10:{:02}:{:02}.{:03}Z,{page},{referrer},{}\n",
            i % 50_000,
            (i / 60) % 60,
            i % 60,
            i % 1000,
            if i % 50 == 0 { "19.99" } else { "" }
        ));
    }
    let bytes = data.len();
    let start = Instant::now();
    let reader = match RecordReader::new(
        std::io::Cursor::new(data.into_bytes()),
        ImportOptions::new(RecordKind::Events, "bench.csv"),
    ) {
        Ok(r) => r,
        Err(e) => return eprintln!("{e}"),
    };
    let (mut ok, mut bad) = (0u64, 0u64);
    for item in reader {
        match item {
            Ok(_) => ok += 1,
            Err(_) => bad += 1,
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{ok} records, {bad} errors, {:.1} MB in {secs:.2}s: {:.0} records/s",
        bytes as f64 / 1e6,
        ok as f64 / secs
    );
}
