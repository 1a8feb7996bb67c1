//! Writes a generic events CSV to standard output, for benchmarks and for timing the writer:
//! `cargo run --release -p trailmap-testkit --example events_csv -- 5000000 100000 42 > events.csv`.

use std::io::Write;
use std::time::Instant;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let events = args.next().and_then(|a| a.parse().ok()).unwrap_or(1_000_000);
    let customers = args.next().and_then(|a| a.parse().ok()).unwrap_or(50_000);
    let seed = args.next().and_then(|a| a.parse().ok()).unwrap_or(42);
    let started = Instant::now();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    trailmap_testkit::write_events_csv(&mut out, events, customers, seed)?;
    out.flush()?;
    let seconds = started.elapsed().as_secs_f64();
    eprintln!("{events} rows in {seconds:.3}s: {:.0} rows/s", events as f64 / seconds);
    Ok(())
}
