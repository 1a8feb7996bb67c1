//! `trailmap-bench dashboard-load`: the dashboard's latency under live tracking traffic, on
//! loopback, against the real `trailmap serve` process (issue 19: p99 at most 200 ms with 10
//! tracking writes a second and about a million events in the store).
//!
//! The store is the demo scaled to `--customers` (52,000 give about a million events), made once
//! in the scratch folder and reused. The benchmark gives the demo's owner an API key and the
//! business with the most events a write key, starts `trailmap serve` (the binary beside this
//! one) on a free port, then runs two clients at once for `--seconds`:
//!
//! - a tracking client sending `--writes` page views a second to `POST /v1/track` with the write
//!   key in Basic auth, as Segment's libraries send them, on one kept-alive connection (paced by
//!   the clock, each write dated on the last day of the dashboard's period so it changes it);
//! - a dashboard client asking `GET /api/businesses/{id}/dashboard` with the API key, one
//!   request after another, each timed from sending to the whole answer.
//!
//! It reports the dashboard's p50, p99 and max, the writes accepted, the server's resident size
//! (sampled every 100 ms; its peak as `VmHWM`) and the load average, to
//! `bench/results/dashboard-load.{md,json}`.

use crate::{Machine, machine, machine_lines, write_results};
use anyhow::{Context, bail};
use base64::Engine;
use serde::Serialize;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use trailmap_app::{App, DemoOptions};
use trailmap_model::Timestamp;

/// The issue's target for the dashboard's p99 under load, in milliseconds.
const TARGET_P99_MS: f64 = 200.0;

pub struct Options {
    pub customers: u64,
    pub seconds: u64,
    pub writes: u32,
}

#[derive(Debug, Serialize)]
struct Latencies {
    requests: usize,
    p50_ms: f64,
    p90_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    failures: u64,
}

#[derive(Debug, Serialize)]
struct DashboardLoad {
    machine: Machine,
    customers: u64,
    business: String,
    events_in_store: u64,
    business_events: u64,
    seconds: u64,
    writes_per_second: u32,
    writes_sent: u64,
    writes_accepted: u64,
    /// The first dashboard answer of the server (nothing computed yet), in ms.
    first_answer_ms: f64,
    /// Every dashboard answer during the writes.
    under_writes: Latencies,
    /// The same number of answers with no write, right after.
    without_writes: Latencies,
    /// Answers during the writes counted before the latest writes (with an `Age` header), and
    /// the largest age seen, in whole seconds.
    lagging_answers: usize,
    max_age_seconds: u64,
    server_rss_max_mib: f64,
    server_rss_end_mib: f64,
    server_peak_mib: f64,
    load_average_start: String,
    load_average_end: String,
    target_p99_ms: f64,
}

/// The 1, 5 and 15 minute load averages, as the kernel writes them.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg").map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" ")).unwrap_or_default()
}

/// A field of /proc/PID/status in MiB (VmRSS, VmHWM); 0 once the process is gone.
fn status_mib(pid: u32, field: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kib = status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim_start_matches(':').split_whitespace().next().and_then(|n| n.parse::<f64>().ok()))
        .unwrap_or(0.0);
    kib / 1024.0
}

/// The nearest-rank percentile `p` (0 to 1) of latencies in ms; 0 without any.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1]
}

fn summary(mut ms: Vec<f64>, failures: u64) -> Latencies {
    ms.sort_by(f64::total_cmp);
    Latencies {
        requests: ms.len(),
        p50_ms: percentile(&ms, 0.5),
        p90_ms: percentile(&ms, 0.9),
        p99_ms: percentile(&ms, 0.99),
        max_ms: ms.last().copied().unwrap_or(0.0),
        failures,
    }
}

/// A kept-alive HTTP/1.1 connection to the server, with Nagle off so small requests go at once.
struct Connection {
    addr: SocketAddr,
    stream: BufReader<TcpStream>,
}

impl Connection {
    fn open(addr: SocketAddr) -> anyhow::Result<Connection> {
        let stream = TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(Duration::from_secs(120)))?;
        Ok(Connection { addr, stream: BufReader::new(stream) })
    }

    /// One request and its whole answer: (status, body, the `Age` header in seconds when the
    /// answer was counted before the latest writes). The server answers with a length.
    fn exchange(&mut self, method: &str, path: &str, headers: &str, body: &[u8]) -> anyhow::Result<(u16, Vec<u8>, Option<u64>)> {
        let head = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n{headers}Content-Length: {}\r\n\r\n", self.addr, body.len());
        self.stream.get_mut().write_all(head.as_bytes())?;
        self.stream.get_mut().write_all(body)?;
        let mut line = String::new();
        self.stream.read_line(&mut line)?;
        let status: u16 = line.split(' ').nth(1).and_then(|s| s.parse().ok()).context("no HTTP status line")?;
        let (mut length, mut age) = (0usize, None);
        loop {
            line.clear();
            if self.stream.read_line(&mut line)? == 0 {
                bail!("the server closed the connection");
            }
            let trimmed = line.trim_end();
            if trimmed.is_empty() {
                break;
            }
            if let Some((name, value)) = trimmed.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse()?;
                } else if name.eq_ignore_ascii_case("age") {
                    age = Some(value.trim().parse()?);
                }
            }
        }
        let mut body = vec![0; length];
        self.stream.read_exact(&mut body)?;
        Ok((status, body, age))
    }
}

/// The `trailmap serve` process, stopped when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free loopback port: bound, read and released (the server binds it right after).
fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Starts `trailmap serve` on `db` and waits until it answers.
pub fn start_server(db: &Path) -> anyhow::Result<(Child, SocketAddr)> {
    let exe = std::env::current_exe()?.with_file_name("trailmap");
    if !exe.exists() {
        bail!("{} is missing: build it first (cargo build --release -p trailmap)", exe.display());
    }
    let port = free_port()?;
    let child = Command::new(&exe)
        .args(["--db"])
        .arg(db)
        .args(["serve", "--bind", "127.0.0.1", "--port", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("starting {}", exe.display()))?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let started = Instant::now();
    while TcpStream::connect(addr).is_err() {
        if started.elapsed() > Duration::from_secs(120) {
            bail!("trailmap serve did not listen on {addr} within 2 minutes");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok((child, addr))
}

/// The demo store at `customers` in the scratch folder, made once.
fn demo_store(scratch: &Path, customers: u64) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(scratch)?;
    let db = scratch.join(format!("dashboard-load-{customers}.sqlite"));
    let mut app = App::open(&db)?;
    let started = Instant::now();
    let report = app.demo(&DemoOptions { customers, seed: 42 })?;
    if report.generated {
        eprintln!("generated the demo with {customers} customers in {:.1} s", started.elapsed().as_secs_f64());
    }
    Ok(db)
}

fn now() -> Timestamp {
    Timestamp::from_millis(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64))
}

/// What the dashboard client saw: each answer's latency in ms, the `Age` of the answers counted
/// before the latest writes (seconds), and failures.
struct Answers {
    latencies: Vec<f64>,
    ages: Vec<u64>,
    failures: u64,
}

/// Dashboard requests one after another until `stop` (or `at_most` answers).
fn ask_dashboard(addr: SocketAddr, path: &str, api_key: &str, stop: &AtomicBool, at_most: usize) -> anyhow::Result<Answers> {
    let mut connection = Connection::open(addr)?;
    let headers = format!("Authorization: Bearer {api_key}\r\n");
    let mut answers = Answers { latencies: Vec::new(), ages: Vec::new(), failures: 0 };
    while !stop.load(Ordering::Relaxed) && answers.latencies.len() < at_most {
        let started = Instant::now();
        match connection.exchange("GET", path, &headers, &[]) {
            Ok((200, _, age)) => {
                answers.latencies.push(started.elapsed().as_secs_f64() * 1000.0);
                answers.ages.extend(age);
            }
            Ok((status, body, _)) => {
                answers.failures += 1;
                eprintln!("GET {path}: HTTP {status}: {}", String::from_utf8_lossy(&body).chars().take(300).collect::<String>());
            }
            Err(e) => {
                answers.failures += 1;
                eprintln!("GET {path}: {e}");
                connection = Connection::open(addr)?;
            }
        }
    }
    Ok(answers)
}

pub fn run(out: &Path, scratch: &Path, options: &Options) -> anyhow::Result<()> {
    if options.writes == 0 || options.seconds == 0 {
        bail!("--writes and --seconds must be at least 1");
    }
    let db = demo_store(scratch, options.customers)?;
    let mut app = App::open(&db)?;
    let mut business = None;
    let mut events_in_store = 0;
    for b in app.businesses()? {
        let events = app.summary(&b)?.events;
        events_in_store += events;
        if business.as_ref().is_none_or(|(_, most)| events > *most) {
            business = Some((b, events));
        }
    }
    let (business, business_events) = business.context("the demo made no business")?;
    let today = chrono::Utc::now().date_naive();
    let period = app.default_period(&business, today)?;
    let login = app.demo_login(now())?;
    let owner = app.user_by_email(&login.email)?.context("the demo's login has no user")?;
    let (_, api_key) = app.create_api_key(owner.id, "dashboard load benchmark", now())?;
    let write_key = trailmap_server::generate_write_key();
    app.create_write_key(&business, "dashboard load benchmark", &trailmap_server::hash_write_key(&write_key))?;
    drop(app);
    eprintln!(
        "store: {events_in_store} events, {business_events} of them {}'s; its default period {} to {}",
        business.name, period.from, period.to
    );

    let load_average_start = load_average();
    let (child, addr) = start_server(&db)?;
    let server = Server { child, addr };
    let pid = server.child.id();
    let path = format!("/api/businesses/{}/dashboard", business.id);
    let never = AtomicBool::new(false);
    let started = Instant::now();
    let first = ask_dashboard(server.addr, &path, &api_key, &never, 1)?;
    let first_answer_ms = first.latencies.first().copied().context("the first dashboard request failed")?;
    eprintln!("first dashboard answer: {first_answer_ms:.1} ms (after {:.1} s)", started.elapsed().as_secs_f64());

    // Samples the server's resident size while the clients run.
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut max: f64 = 0.0;
            while !stop.load(Ordering::Relaxed) {
                max = max.max(status_mib(pid, "VmRSS"));
                std::thread::sleep(Duration::from_millis(100));
            }
            max
        })
    };
    let (sent, accepted) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let writer = {
        let (stop, sent, accepted) = (stop.clone(), sent.clone(), accepted.clone());
        let auth = base64::engine::general_purpose::STANDARD.encode(format!("{write_key}:"));
        let every = Duration::from_secs_f64(1.0 / f64::from(options.writes));
        // Dated on the period's last day, so every write changes the dashboard asked for.
        let day = Timestamp::from_date(period.to).0 + 12 * 3_600_000;
        std::thread::spawn(move || -> anyhow::Result<()> {
            let mut connection = Connection::open(addr)?;
            let headers = format!("Authorization: Basic {auth}\r\nContent-Type: application/json\r\n");
            let mut due = Instant::now();
            let mut n: u64 = 0;
            while !stop.load(Ordering::Relaxed) {
                // Returning visitors and new ones, as a shop's site sees them.
                let at = Timestamp(day + n as i64).to_rfc3339();
                let body = format!(
                    r#"{{"type":"page","anonymousId":"load-visitor-{}","timestamp":"{at}","messageId":"load-{}-{n}","properties":{{"path":"/shop","url":"https://example.com/shop?utm_source=newsletter"}}}}"#,
                    n % 400,
                    std::process::id()
                );
                sent.fetch_add(1, Ordering::Relaxed);
                match connection.exchange("POST", "/v1/page", &headers, body.as_bytes()) {
                    Ok((200, _, _)) => {
                        accepted.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok((status, body, _)) => eprintln!("POST /v1/page: HTTP {status}: {}", String::from_utf8_lossy(&body)),
                    Err(e) => {
                        eprintln!("POST /v1/page: {e}");
                        connection = Connection::open(addr)?;
                    }
                }
                n += 1;
                // Paced by the clock: a steady write rate whatever each write took.
                due += every;
                std::thread::sleep(due.saturating_duration_since(Instant::now()));
            }
            Ok(())
        })
    };
    let timer = {
        let (stop, seconds) = (stop.clone(), options.seconds);
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs(seconds));
            stop.store(true, Ordering::Relaxed);
        })
    };
    let under = ask_dashboard(server.addr, &path, &api_key, &stop, usize::MAX)?;
    let _ = timer.join();
    writer.join().map_err(|_| anyhow::anyhow!("the tracking client panicked"))??;
    let rss_max = sampler.join().map_err(|_| anyhow::anyhow!("the sampler panicked"))?;
    let under_count = under.latencies.len();
    let (lagging, max_age) = (under.ages.len(), under.ages.iter().copied().max().unwrap_or(0));
    let under_writes = summary(under.latencies, under.failures);
    // The same number of answers with nothing written: the cached answer's cost.
    let quiet = ask_dashboard(server.addr, &path, &api_key, &never, under_count.max(1))?;
    let without_writes = summary(quiet.latencies, quiet.failures);
    let results = DashboardLoad {
        machine: machine(),
        customers: options.customers,
        business: business.name.clone(),
        events_in_store,
        business_events,
        seconds: options.seconds,
        writes_per_second: options.writes,
        writes_sent: sent.load(Ordering::Relaxed),
        writes_accepted: accepted.load(Ordering::Relaxed),
        first_answer_ms,
        under_writes,
        without_writes,
        lagging_answers: lagging,
        max_age_seconds: max_age,
        server_rss_max_mib: rss_max.max(status_mib(pid, "VmRSS")),
        server_rss_end_mib: status_mib(pid, "VmRSS"),
        server_peak_mib: status_mib(pid, "VmHWM"),
        load_average_start,
        load_average_end: load_average(),
        target_p99_ms: TARGET_P99_MS,
    };
    drop(server);
    let row = |name: &str, l: &Latencies| {
        format!("| {name} | {} | {:.1} | {:.1} | **{:.1}** | {:.1} | {} |\n", l.requests, l.p50_ms, l.p90_ms, l.p99_ms, l.max_ms, l.failures)
    };
    let r = &results;
    let markdown = format!(
        "# Dashboard under tracking load (issue 19)\n\n{}\n\
         `trailmap-bench dashboard-load --customers {} --seconds {} --writes {}`: the demo at {} customers \
         ({} events in the store, {} of them {}'s). The real `trailmap serve` process on loopback; for {} s a \
         tracking client sends {} page views a second to `POST /v1/page` (write key in Basic auth, as \
         Segment's libraries send them; {} sent, {} accepted), each dated on the last day of the \
         dashboard's default period, while a second client asks `GET /api/businesses/{{id}}/dashboard` (API \
         key) one request after another, each timed from sending to the whole answer. Then as many \
         requests with no write. Load average (1, 5, 15 min) {} at the start, {} at the end.\n\n\
         | phase | requests | p50 ms | p90 ms | p99 ms | max ms | failures |\n|---|---|---|---|---|---|---|\n{}{}\n\
         During the writes, {} of the {} answers were counted before the latest writes and said so \
         (the `Age` header: the dashboard's latest answer is served while one refresh counts again); \
         the oldest was {} s old (whole seconds, as the header gives them).\n\n\
         First answer of the fresh server (nothing computed yet): {:.1} ms.\n\n\
         Server resident size: {:.0} MiB at most while sampled (every 100 ms), {:.0} MiB at the end, \
         peak (VmHWM) {:.0} MiB.\n\n\
         Target: dashboard p99 at most {:.0} ms under 10 writes a second: **{}** ({:.1} ms).\n",
        machine_lines(&r.machine),
        r.customers,
        r.seconds,
        r.writes_per_second,
        r.customers,
        r.events_in_store,
        r.business_events,
        r.business,
        r.seconds,
        r.writes_per_second,
        r.writes_sent,
        r.writes_accepted,
        r.load_average_start,
        r.load_average_end,
        row(&format!("{} writes/s", r.writes_per_second), &r.under_writes),
        row("no writes", &r.without_writes),
        r.lagging_answers,
        r.under_writes.requests,
        r.max_age_seconds,
        r.first_answer_ms,
        r.server_rss_max_mib,
        r.server_rss_end_mib,
        r.server_peak_mib,
        TARGET_P99_MS,
        if r.under_writes.p99_ms <= TARGET_P99_MS { "met" } else { "NOT met" },
        r.under_writes.p99_ms,
    );
    print!("{markdown}");
    write_results(out, "dashboard-load", &markdown, &results)
}
