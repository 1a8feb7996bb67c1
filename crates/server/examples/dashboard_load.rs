//! The dashboard's loopback load test: a store with about a million events (the demo generator
//! scaled up), the real server in-process, and N keep-alive connections each asking for a
//! business's dashboard page (`GET /b/{id}/`, signed in by a session cookie) as fast as it is
//! answered. It reports requests per second and p50/p99/max latency, in three phases:
//!
//! 1. cold: the first request for each of several periods, computed from the store (cache misses);
//! 2. steady: many requests for the pages people look at, answered from the answer cache while the
//!    data is unchanged;
//! 3. with writes (`--write-every MS`): the same while a tracking client writes to the business
//!    every MS milliseconds, so each write makes the next request recompute.
//!
//! ```text
//! cargo run --release -p trailmap-server --example dashboard_load -- \
//!     [--customers 36000] [--connections 8] [--requests 4000] [--write-every 250] [--db FILE]
//! ```
//! With `--db FILE` an existing store is reused (the demo is generated into it if missing), which
//! saves generating it on every run.

#[path = "support/load.rs"]
mod load;

use load::{LocalServer, connect, exchange, ms, percentile};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use trailmap_app::{App, DemoOptions};
use trailmap_model::Timestamp;
use trailmap_server::{generate_write_key, hash_write_key};

// The allocator `trailmap serve` runs with (see crates/cli/src/main.rs), so the figures are the
// real server's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Options {
    customers: u64,
    connections: usize,
    requests: u64,
    write_every: Option<u64>,
    db: Option<PathBuf>,
}

fn options() -> Result<Options, String> {
    let mut o = Options { customers: 36_000, connections: 8, requests: 4000, write_every: Some(250), db: None };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--customers" => o.customers = value()?.parse().map_err(|e| format!("--customers: {e}"))?,
            "--connections" => o.connections = value()?.parse().map_err(|e| format!("--connections: {e}"))?,
            "--requests" => o.requests = value()?.parse().map_err(|e| format!("--requests: {e}"))?,
            "--write-every" => {
                let every: u64 = value()?.parse().map_err(|e| format!("--write-every: {e}"))?;
                o.write_every = (every > 0).then_some(every);
            }
            "--db" => o.db = Some(PathBuf::from(value()?)),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if o.connections == 0 || o.customers == 0 {
        return Err("--connections and --customers must be at least 1".into());
    }
    Ok(o)
}

fn fail(message: impl std::fmt::Display) -> ! {
    eprintln!("dashboard_load: {message}");
    std::process::exit(1)
}

/// One GET of `path` with the session cookie; the latency if it answered 200.
fn get(stream: &mut std::io::BufReader<std::net::TcpStream>, addr: SocketAddr, path: &str, cookie: &str) -> Result<Duration, String> {
    let head = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nCookie: trailmap_session={cookie}\r\n\r\n");
    let started = Instant::now();
    match exchange(stream, &head, &[]) {
        Ok((200, _)) => Ok(started.elapsed()),
        Ok((status, body)) => {
            // An error page carries its code and message in `<p class="error" data-code=...>`.
            let text = String::from_utf8_lossy(&body);
            let message = text.split("data-code=").nth(1).and_then(|rest| rest.split("</p>").next()).unwrap_or(&text);
            Err(format!("GET {path}: HTTP {status}: {}", message.chars().take(300).collect::<String>()))
        }
        Err(e) => Err(format!("GET {path}: {e}")),
    }
}

struct Phase {
    latencies: Vec<Duration>,
    seconds: f64,
    failures: u64,
}

impl Phase {
    fn print(&self, name: &str) {
        let mut sorted = self.latencies.clone();
        sorted.sort_unstable();
        println!(
            "{name:<12} requests {:>6}  req/s {:>8.1}  p50 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms  failures {}",
            sorted.len(),
            sorted.len() as f64 / self.seconds.max(1e-9),
            ms(percentile(&sorted, 50.0)),
            ms(percentile(&sorted, 99.0)),
            ms(sorted.last().copied().unwrap_or_default()),
            self.failures
        );
    }
}

/// `connections` clients share `requests` GETs of `paths` (round robin).
fn hammer(addr: SocketAddr, cookie: &str, paths: &[String], connections: usize, requests: u64) -> Phase {
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let clients: Vec<_> = (0..connections)
        .map(|_| {
            let (next, cookie, paths) = (next.clone(), cookie.to_string(), paths.to_vec());
            std::thread::spawn(move || {
                let mut latencies = Vec::new();
                let mut failures = 0;
                let Ok(mut stream) = connect(addr) else { return (latencies, 1) };
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= requests {
                        break;
                    }
                    match get(&mut stream, addr, &paths[i as usize % paths.len()], &cookie) {
                        Ok(latency) => latencies.push(latency),
                        Err(e) => {
                            failures += 1;
                            eprintln!("{e}");
                            match connect(addr) {
                                Ok(s) => stream = s,
                                Err(_) => break,
                            }
                        }
                    }
                }
                (latencies, failures)
            })
        })
        .collect();
    let mut phase = Phase { latencies: Vec::new(), seconds: 0.0, failures: 0 };
    for client in clients {
        let (latencies, failures) = client.join().unwrap_or_else(|_| fail("a client thread panicked"));
        phase.latencies.extend(latencies);
        phase.failures += failures;
    }
    phase.seconds = started.elapsed().as_secs_f64();
    phase
}

fn main() {
    let o = options().unwrap_or_else(|e| {
        eprintln!("dashboard_load: {e}");
        std::process::exit(2)
    });
    let (db, keep) = match &o.db {
        Some(db) => (db.clone(), true),
        None => (std::env::temp_dir().join(format!("trailmap-dashboard-load-{}.sqlite", std::process::id())), false),
    };
    let mut app = App::open(&db).unwrap_or_else(|e| fail(format!("cannot open {}: {e}", db.display())));
    let started = Instant::now();
    let report = app.demo(&DemoOptions { customers: o.customers, seed: 42 }).unwrap_or_else(|e| fail(e));
    if report.generated {
        eprintln!("dashboard_load: generated the demo with {} customers in {:.1} s", o.customers, started.elapsed().as_secs_f64());
    }
    let business = app.business(Some("Thread & Needle")).unwrap_or_else(|e| fail(e));
    let events: u64 = app.businesses().unwrap_or_default().iter().filter_map(|b| app.summary(b).ok()).map(|s| s.events).sum();
    let shop_events = app.summary(&business).map_or(0, |s| s.events);
    let now = Timestamp::from_millis(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64));
    let login = app.demo_login(now).unwrap_or_else(|e| fail(e));
    let user = app.authenticate(&login.email, &login.password).ok().flatten().unwrap_or_else(|| fail("the demo login does not sign in"));
    let session = app.create_session(user.id, now, Timestamp::MS_PER_DAY).unwrap_or_else(|e| fail(e));
    let key = generate_write_key();
    app.create_write_key(&business, "load test", &hash_write_key(&key)).unwrap_or_else(|e| fail(e));
    let id = business.id;

    let server = LocalServer::start(app, db.clone());
    let addr = server.addr;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "store: {events} events in all, {shop_events} in {} (id {id}); {} connections; {cores} cores",
        business.name, o.connections
    );

    // 1. Cold: each distinct period is computed once from the store.
    let periods: Vec<String> = ["", "?from=2026-10-03&to=2026-11-01", "?from=2026-06-01&to=2026-08-31", "?from=2025-11-01&to=2026-10-31", "?from=2026-01-01&to=2026-03-31"]
        .iter()
        .map(|q| format!("/b/{id}/{q}"))
        .collect();
    let mut cold = Phase { latencies: Vec::new(), seconds: 0.0, failures: 0 };
    let cold_started = Instant::now();
    let mut stream = connect(addr).unwrap_or_else(|e| fail(e));
    for path in &periods {
        match get(&mut stream, addr, path, &session.token) {
            Ok(latency) => cold.latencies.push(latency),
            Err(e) => fail(e),
        }
    }
    cold.seconds = cold_started.elapsed().as_secs_f64();
    cold.print("cold");

    // 2. Steady: the same pages, answered from the cache.
    hammer(addr, &session.token, &periods, o.connections, o.requests).print("steady");

    // 3. With writes: a tracking client adds a page view to the shop every `write_every` ms.
    if let Some(every) = o.write_every {
        let stop = Arc::new(AtomicBool::new(false));
        let writes = Arc::new(AtomicU64::new(0));
        let writer = {
            let (stop, writes, key) = (stop.clone(), writes.clone(), key.clone());
            std::thread::spawn(move || {
                use base64::Engine;
                let auth = base64::engine::general_purpose::STANDARD.encode(format!("{key}:"));
                let Ok(mut stream) = connect(addr) else { return };
                let mut n = 0u64;
                let tick = Duration::from_millis(every);
                let mut due = Instant::now();
                while !stop.load(Ordering::Relaxed) {
                    let body = format!(r#"{{"anonymousId":"load-{n}","event":"page_view","timestamp":"2026-10-20T10:00:00Z","messageId":"load-{n}"}}"#);
                    let head = format!("POST /v1/track HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Basic {auth}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n", body.len());
                    if matches!(exchange(&mut stream, &head, body.as_bytes()), Ok((200, _))) {
                        writes.fetch_add(1, Ordering::Relaxed);
                    }
                    n += 1;
                    // A paced writer, not a timing assertion: it keeps a steady write rate.
                    due += tick;
                    std::thread::sleep(due.saturating_duration_since(Instant::now()));
                }
            })
        };
        let phase = hammer(addr, &session.token, &periods, o.connections, o.requests);
        stop.store(true, Ordering::Relaxed);
        let _ = writer.join();
        phase.print(&format!("writes/{every}ms"));
        println!("             ({} tracking writes during the phase, each making the next dashboard recompute)", writes.load(Ordering::Relaxed));
    }
    drop(server.stop());
    if !keep {
        load::remove_store(&db);
    }
}
