//! The tracking API's loopback load test: N keep-alive HTTP/1.1 connections each send batches of
//! Segment messages to `/v1/batch` with a Basic-auth write key, wait for each answer (a 200 means
//! the batch is on disk), and the run reports events per second, p50 and p99 latency per request,
//! and whether every event landed (counted in the store afterwards).
//!
//! By default it starts the real server in-process on a fresh store file in the temp folder; with
//! `--url` and `--key` it targets a running `trailmap serve` instead (give `--db` as well to count
//! the events in its store afterwards). The client is plain blocking sockets, one thread per
//! connection, so it costs the server as little CPU as possible on a small machine.
//!
//! ```text
//! cargo run --release -p trailmap-server --example tracking_load -- \
//!     [--connections 8] [--batches 3000] [--batch-size 100] [--gzip] \
//!     [--url http://127.0.0.1:8080 --key KEY [--db FILE]] [--keep-db]
//! ```

#[path = "support/load.rs"]
mod load;

use base64::Engine;
use load::{LocalServer, connect, exchange, percentile};
use std::io::{BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use trailmap_app::App;
use trailmap_server::{generate_write_key, hash_write_key};

// The allocator `trailmap serve` runs with (see crates/cli/src/main.rs), so the figures are the
// real server's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Options {
    connections: usize,
    batches: u64,
    batch_size: usize,
    gzip: bool,
    url: Option<String>,
    key: Option<String>,
    db: Option<PathBuf>,
    keep_db: bool,
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        connections: 8,
        batches: 3000,
        batch_size: 100,
        gzip: false,
        url: None,
        key: None,
        db: None,
        keep_db: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--connections" => o.connections = value()?.parse().map_err(|e| format!("--connections: {e}"))?,
            "--batches" => o.batches = value()?.parse().map_err(|e| format!("--batches: {e}"))?,
            "--batch-size" => o.batch_size = value()?.parse().map_err(|e| format!("--batch-size: {e}"))?,
            "--gzip" => o.gzip = true,
            "--url" => o.url = Some(value()?),
            "--key" => o.key = Some(value()?),
            "--db" => o.db = Some(PathBuf::from(value()?)),
            "--keep-db" => o.keep_db = true,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if o.connections == 0 || o.batch_size == 0 {
        return Err("--connections and --batch-size must be at least 1".into());
    }
    if o.url.is_some() != o.key.is_some() {
        return Err("--url and --key go together".into());
    }
    Ok(o)
}

/// One batch of `size` messages: mostly page views with UTM-tagged URLs and referrers, product
/// events with properties, and an identify now and then that links an anonymous visitor to a user
/// and an email, so identity resolution and merging are part of the load. Message ids are unique
/// per (connection, batch, position), so every event must land.
fn batch_body(connection: usize, batch: u64, size: usize, now_ms: u128) -> Vec<u8> {
    const SOURCES: [(&str, &str, &str); 5] = [
        ("google", "cpc", "spring"),
        ("newsletter", "email", "weekly"),
        ("instagram", "paid_social", "reels"),
        ("partner", "referral", "p1"),
        ("facebook", "cpc", "retarget"),
    ];
    let mut out = String::with_capacity(size * 420 + 64);
    out.push_str("{\"batch\":[");
    for i in 0..size {
        if i > 0 {
            out.push(',');
        }
        let n = batch * size as u64 + i as u64;
        // A pool of visitors per connection, so most messages come from someone already known.
        let visitor = (n * 7919 + connection as u64 * 104_729) % 20_000;
        let ts = now_ms - (n % 600_000) as u128;
        let seconds = ts / 1000;
        let millis = ts % 1000;
        let (source, medium, campaign) = SOURCES[(n % 5) as usize];
        let id = format!("{connection}-{batch}-{i}");
        let common = format!(
            "\"messageId\":\"{id}\",\"anonymousId\":\"anon-{visitor}\",\"timestamp\":\"{}\",\"context\":{{\"userAgent\":\"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36\",\"page\":{{\"url\":\"https://shop.example/p/{}?utm_source={source}&utm_medium={medium}&utm_campaign={campaign}\",\"referrer\":\"https://www.google.com/\"}}}}",
            rfc3339(seconds, millis),
            n % 300
        );
        match n % 50 {
            0 => out.push_str(&format!(
                "{{\"type\":\"identify\",\"userId\":\"user-{visitor}\",\"traits\":{{\"email\":\"v{visitor}@example.com\",\"plan\":\"pro\"}},{common}}}"
            )),
            k if k % 3 == 0 => out.push_str(&format!(
                "{{\"type\":\"track\",\"event\":\"Product Viewed\",\"properties\":{{\"sku\":\"SKU-{}\",\"price\":{}.99}},{common}}}",
                n % 500,
                n % 90
            )),
            _ => out.push_str(&format!("{{\"type\":\"page\",\"name\":\"Product\",{common}}}")),
        }
    }
    out.push_str("]}");
    out.into_bytes()
}

/// Seconds and milliseconds since 1970 as RFC 3339 UTC, by the civil-from-days algorithm, so the
/// client needs no date library.
fn rfc3339(seconds: u128, millis: u128) -> String {
    let days = (seconds / 86_400) as i64;
    let rem = seconds % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let _ = encoder.write_all(bytes);
    encoder.finish().unwrap_or_default()
}

struct Report {
    latencies: Vec<Duration>,
    failures: u64,
}

fn run_connection(addr: SocketAddr, key: &str, connection: usize, next: &AtomicU64, o: &Options, start_ms: u128) -> Report {
    let mut report = Report { latencies: Vec::new(), failures: 0 };
    let connect = || -> std::io::Result<BufReader<TcpStream>> { connect(addr) };
    let Ok(mut stream) = connect() else {
        report.failures = 1;
        return report;
    };
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{key}:"));
    loop {
        let batch = next.fetch_add(1, Ordering::Relaxed);
        if batch >= o.batches {
            break;
        }
        let json = batch_body(connection, batch, o.batch_size, start_ms);
        let body = if o.gzip { gzip(&json) } else { json };
        let head = format!(
            "POST /v1/batch HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Basic {auth}\r\nContent-Type: application/json\r\n{}Content-Length: {}\r\n\r\n",
            if o.gzip { "Content-Encoding: gzip\r\n" } else { "" },
            body.len()
        );
        let started = Instant::now();
        match exchange(&mut stream, &head, &body) {
            Ok((200, _)) => report.latencies.push(started.elapsed()),
            Ok((status, answer)) => {
                report.failures += 1;
                if report.failures <= 3 {
                    eprintln!("batch {batch}: HTTP {status}: {}", String::from_utf8_lossy(&answer));
                }
            }
            Err(e) => {
                report.failures += 1;
                eprintln!("batch {batch}: {e}; reconnecting");
                match connect() {
                    Ok(s) => stream = s,
                    Err(_) => break,
                }
            }
        }
    }
    report
}

fn count_events(app: &App) -> u64 {
    app.businesses()
        .unwrap_or_default()
        .iter()
        .filter_map(|b| app.summary(b).ok())
        .map(|s| s.events)
        .sum()
}

fn main() {
    let o = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("tracking_load: {e}");
            std::process::exit(2);
        }
    };
    let o = Arc::new(o);

    // Either a server of our own on a fresh store file, or the one named by --url.
    let (addr, key, db, before, server) = match (&o.url, &o.key) {
        (Some(url), Some(key)) => {
            let host = url.trim_start_matches("http://").trim_end_matches('/');
            let Ok(addr) = host.parse::<SocketAddr>() else {
                eprintln!("tracking_load: --url must be http://IP:PORT, not {url:?}");
                std::process::exit(2);
            };
            let before = o.db.as_ref().and_then(|db| App::open(db).ok()).map_or(0, |app| count_events(&app));
            (addr, key.clone(), o.db.clone(), before, None)
        }
        _ => {
            let db = std::env::temp_dir().join(format!("trailmap-load-{}.sqlite", std::process::id()));
            let mut app = App::open(&db).unwrap_or_else(|e| panic!("cannot open {}: {e}", db.display()));
            let business = app.business(None).unwrap_or_else(|e| panic!("{e}"));
            let key = generate_write_key();
            app.create_write_key(&business, "load test", &hash_write_key(&key)).unwrap_or_else(|e| panic!("{e}"));
            let server = LocalServer::start(app, db.clone());
            (server.addr, key, Some(db), 0, Some(server))
        }
    };

    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    eprintln!(
        "tracking_load: {} batches of {} events over {} connections to http://{addr}/v1/batch{} ({cores} cores)",
        o.batches,
        o.batch_size,
        o.connections,
        if o.gzip { ", gzip" } else { "" }
    );
    let start_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis());
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let clients: Vec<_> = (0..o.connections)
        .map(|connection| {
            let (o, next, key) = (o.clone(), next.clone(), key.clone());
            std::thread::spawn(move || run_connection(addr, &key, connection, &next, &o, start_ms))
        })
        .collect();
    let mut latencies = Vec::new();
    let mut failures = 0;
    for client in clients {
        let report = client.join().unwrap_or_else(|_| panic!("a client thread panicked"));
        latencies.extend(report.latencies);
        failures += report.failures;
    }
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    let acknowledged = latencies.len() as u64 * o.batch_size as u64;

    // Count what landed: our own server is stopped first, so everything it acknowledged is
    // committed and the count is final.
    let stored = match server {
        Some(server) => Some(count_events(&server.stop())),
        None => db.as_ref().and_then(|db| App::open(db).ok()).map(|app| count_events(&app) - before),
    };
    let rate = acknowledged as f64 / elapsed.as_secs_f64();
    println!("requests acknowledged: {} of {} ({failures} failed)", latencies.len(), o.batches);
    println!("events acknowledged:   {acknowledged}");
    println!("elapsed:               {:.2} s", elapsed.as_secs_f64());
    println!("throughput:            {rate:.0} events/s ({:.0} requests/s)", latencies.len() as f64 / elapsed.as_secs_f64());
    println!("latency per request:   p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms (n = {})",
        percentile(&latencies, 50.0).as_secs_f64() * 1000.0,
        percentile(&latencies, 99.0).as_secs_f64() * 1000.0,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1000.0,
        latencies.len()
    );
    match stored {
        Some(stored) => println!(
            "events in the store:   {stored} ({})",
            if stored == acknowledged { "every acknowledged event landed, once" } else { "MISMATCH" }
        ),
        None => println!("events in the store:   not counted (give --db)"),
    }
    if o.url.is_none()
        && !o.keep_db
        && let Some(db) = &db
    {
        load::remove_store(db);
    }
    if failures > 0 || stored.is_some_and(|s| s != acknowledged) {
        std::process::exit(1);
    }
}
