//! `trailmap-bench`: the benchmarks behind the speed claims, run in release mode and written to
//! `bench/results/` with the machine and the date, so figures are committed, never asserted in
//! tests.
//!
//! - `import`: a generated events CSV imported into a fresh store through the same path as
//!   `trailmap import events` (parse, enrich, resolve identities, deduplicate, write, commit), and
//!   the parse-and-enrich stage alone for comparison.
//! - `load`: a store with N events, then `load_events` timed in a fresh process (cold caches of
//!   our own, warm OS page cache), with and without the sort by customer and time.
//! - `live`: answers right after a tracking write (`live.rs`).
//! - `backends`: the embedded store against PostgreSQL: the same events written to both, and
//!   `load_events` timed on both (`backends.rs`).
//! - `dashboard-load`: the dashboard's latency while tracking writes arrive, against the real
//!   `trailmap serve` process on loopback (`dashboard_load.rs`).
//! - `clickhouse`: loading into a ClickHouse cluster (the two-shard rig), bytes per event on its
//!   disks, and the funnel pushed down to it beside the embedded engine and chDB (`clickhouse.rs`).
//! - `clv`: the BG/NBD fit on CDNOW here and in lifetimes (same run), on synthetic customers, and
//!   the whole `trailmap clv` process against lifetimes from the same orders.

mod backends;
mod clickhouse;
mod clv;
mod dashboard_load;
mod engines;
mod funnel;
mod live;

// Imports hand records from a reading thread to a writing one; glibc's allocator is slow to free
// memory on another thread than the one that allocated it, mimalloc is not.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use serde::Serialize;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;
use trailmap_app::{App, ImportRequest, RecordKind};
use trailmap_ingest::{ImportOptions, RecordReader};
use trailmap_model::EventColumns;
use trailmap_store::{SqliteStore, Store};

#[derive(Debug, Parser)]
struct Cli {
    #[command(subcommand)]
    command: Bench,
    /// Where to write the results (a Markdown and a JSON file per benchmark).
    #[arg(long, default_value = "bench/results", global = true)]
    out: PathBuf,
    /// Scratch folder for generated files and stores.
    #[arg(long, global = true)]
    scratch: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Bench {
    /// Import throughput from CSV into the store.
    Import {
        #[arg(long, default_value_t = 2_000_000)]
        events: u64,
        #[arg(long, default_value_t = 3)]
        runs: u32,
    },
    /// Loading events for analysis in a fresh process.
    Load {
        #[arg(long, default_value_t = 10_000_000)]
        events: u64,
        #[arg(long, default_value_t = 3)]
        runs: u32,
    },
    /// BG/NBD fit on CDNOW against lifetimes in the same run, and on synthetic customers.
    Clv {
        #[arg(long, default_value_t = 5)]
        runs: u32,
        #[arg(long, default_value_t = 1_000_000)]
        customers: u64,
        /// Customers of the whole-process comparison (`trailmap clv` against lifetimes).
        #[arg(long, default_value_t = 100_000)]
        whole_customers: u64,
        /// Customers of the large whole-process run (`trailmap clv` alone); 0 leaves it out.
        #[arg(long, default_value_t = 1_000_000)]
        large_customers: u64,
    },
    /// An ordered funnel here, in ClickHouse (windowFunnel) and in DuckDB, same run, same counts.
    Funnel {
        #[arg(long, default_value_t = 10_000_000)]
        events: u64,
        #[arg(long, default_value_t = 4)]
        steps: usize,
        #[arg(long, default_value = "1d")]
        window: String,
        #[arg(long, default_value_t = 3)]
        runs: u32,
    },
    /// Answers right after a write: dashboard, insights, a map's numbers and evidence, customer
    /// value and a funnel after one tracking event, with the kept data brought up to date and read afresh.
    Live {
        #[arg(long, default_value_t = 20_000)]
        customers: u64,
        #[arg(long, default_value_t = 20)]
        rounds: u32,
        #[arg(long, default_value = "Bean There Coffee")]
        business: String,
    },
    /// The embedded store against PostgreSQL: the same events written to both, loads timed.
    Backends {
        #[arg(long, default_value_t = 1_000_000)]
        events: u64,
        #[arg(long, default_value_t = 5)]
        runs: u32,
        /// A PostgreSQL server where the benchmark may create and drop a database of its own.
        #[arg(long, env = "TRAILMAP_BENCH_POSTGRES")]
        postgres: String,
    },
    /// Events in a ClickHouse cluster: load throughput, bytes per event, and the engine
    /// benchmark's funnel pushed down beside the embedded engine and chDB, same run, same counts.
    Clickhouse {
        /// The cluster (`clickhouse://HOST:PORT[,HOST:PORT...]/DB?cluster=NAME`); a fresh database
        /// is made on every shard. `.ci/clickhouse.sh start DIR PORT` prints the rig's.
        #[arg(long, env = "TRAILMAP_TEST_CLICKHOUSE")]
        url: String,
        #[arg(long, default_value_t = 10_000_000)]
        events: u64,
        #[arg(long, default_value_t = 3)]
        runs: u32,
        /// The Python with chDB, DuckDB and pyarrow (bench/run_clickhouse.sh makes it).
        #[arg(long, env = "BENCH_PYTHON", default_value = "/work/scratch/venv-bench/bin/python")]
        python: PathBuf,
        /// Keep the database on the cluster afterwards.
        #[arg(long)]
        keep: bool,
        /// `max_memory_usage` of the funnel queries, in GB (the rig's profile allows 2).
        #[arg(long, default_value_t = 12)]
        memory_gb: u64,
    },
    /// The dashboard API's p50/p99 against `trailmap serve` on loopback while a tracking client
    /// writes page views (the `trailmap` binary must be built beside this one).
    DashboardLoad {
        /// Demo customers (52,000 make about a million events).
        #[arg(long, default_value_t = 52_000)]
        customers: u64,
        /// How long the two clients run.
        #[arg(long, default_value_t = 60)]
        seconds: u64,
        /// Tracking writes per second.
        #[arg(long, default_value_t = 10)]
        writes: u32,
    },
    /// Internal: time one load of the store at DB in this process and print JSON.
    LoadOnce { db: PathBuf },
    /// Engine benchmark (bench/run_engines.sh): the seeded store and the exports for the others.
    EnginesPrepare {
        #[arg(long, default_value_t = 1_000_000)]
        events: u64,
    },
    /// Engine benchmark: funnel (loaded), memory and attribution in this process, as JSON.
    EnginesRun {
        db: PathBuf,
        #[arg(long, default_value_t = 3)]
        runs: u32,
    },
    /// Engine benchmark: one cold funnel (open, load, group, count), as JSON.
    EnginesCold { db: PathBuf },
    /// Engine benchmark: a new API key of an owner of the store's business, for the warm funnel
    /// over HTTP, as JSON (`key`, `business_id`).
    EnginesApiKey { db: PathBuf },
}

#[derive(Debug, Serialize)]
struct Machine {
    cpu: String,
    cores: usize,
    memory_gib: f64,
    os: String,
    date: String,
    commit: String,
}

fn machine() -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name").and_then(|r| r.split_once(':')).map(|(_, v)| v.trim().to_string()))
        .unwrap_or_else(|| "unknown".into());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory_kib: f64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    let commit = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    Machine {
        cpu,
        cores: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        memory_gib: (memory_kib / 1024.0 / 1024.0 * 10.0).round() / 10.0,
        os: std::env::consts::OS.to_string(),
        date: chrono::Utc::now().format("%Y-%m-%d").to_string(),
        commit,
    }
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn write_results<T: Serialize>(out: &Path, name: &str, markdown: &str, data: &T) -> anyhow::Result<()> {
    std::fs::create_dir_all(out)?;
    std::fs::write(out.join(format!("{name}.md")), markdown)?;
    std::fs::write(out.join(format!("{name}.json")), serde_json::to_string_pretty(data)? + "\n")?;
    eprintln!("wrote {}/{name}.md and .json", out.display());
    Ok(())
}

fn machine_lines(m: &Machine) -> String {
    format!(
        "- machine: {} ({} cores, {} GiB), {}\n- date: {}, commit {}\n- build: release\n",
        m.cpu, m.cores, m.memory_gib, m.os, m.date, m.commit
    )
}

fn generate_csv(path: &Path, events: u64) -> anyhow::Result<()> {
    if path.exists() {
        return Ok(());
    }
    eprintln!("generating {events} events into {} ...", path.display());
    let file = std::fs::File::create(path)?;
    // One customer per 20 events, as in a shop's real traffic.
    trailmap_testkit::write_events_csv(BufWriter::new(file), events, (events / 20).max(1), 7)?;
    Ok(())
}

fn import_into(db: &Path, csv: &Path) -> anyhow::Result<(f64, u64)> {
    let _ = std::fs::remove_file(db);
    let _ = std::fs::remove_file(db.with_extension("sqlite-wal"));
    let _ = std::fs::remove_file(db.with_extension("sqlite-shm"));
    let mut app = App::open(db)?;
    let business = app.business(None)?;
    let started = Instant::now();
    let report = app.import(ImportRequest::new(RecordKind::Events, csv, &business))?;
    Ok((started.elapsed().as_secs_f64(), report.details.events_added))
}

/// The store's size on disk once closed (the log folded into the file), in bytes.
fn store_bytes(db: &Path) -> anyhow::Result<u64> {
    let wal = std::fs::metadata(db.with_extension("sqlite-wal")).map(|m| m.len()).unwrap_or(0);
    Ok(std::fs::metadata(db)?.len() + wal)
}

#[derive(Debug, Serialize)]
struct ImportResults {
    machine: Machine,
    events: u64,
    file_mib: f64,
    runs: Vec<f64>,
    median_seconds: f64,
    events_per_second: f64,
    parse_only_runs: Vec<f64>,
    parse_only_events_per_second: f64,
    target_events_per_second: f64,
    /// The store's file after the last run, per imported event.
    bytes_per_event: f64,
    target_bytes_per_event: f64,
}

fn bench_import(out: &Path, scratch: &Path, events: u64, runs: u32) -> anyhow::Result<()> {
    let csv = scratch.join(format!("events-{events}.csv"));
    generate_csv(&csv, events)?;
    let file_mib = std::fs::metadata(&csv)?.len() as f64 / 1024.0 / 1024.0;
    let mut parse_only_runs = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        let reader = RecordReader::new(std::fs::File::open(&csv)?, ImportOptions::new(RecordKind::Events, csv.display().to_string()))?;
        let mut n = 0u64;
        for record in reader {
            record.map_err(|e| anyhow::anyhow!("{e}"))?;
            n += 1;
        }
        if n != events {
            bail!("parsed {n} records, expected {events}");
        }
        parse_only_runs.push(started.elapsed().as_secs_f64());
    }
    let mut timed = Vec::new();
    for run in 0..runs {
        let (seconds, added) = import_into(&scratch.join("import.sqlite"), &csv)?;
        if added != events {
            bail!("run {run}: {added} events added, expected {events}");
        }
        eprintln!("import run {run}: {seconds:.2} s");
        timed.push(seconds);
    }
    let bytes = store_bytes(&scratch.join("import.sqlite"))?;
    let median_seconds = median(timed.clone());
    let parse_median = median(parse_only_runs.clone());
    let results = ImportResults {
        machine: machine(),
        events,
        file_mib: (file_mib * 10.0).round() / 10.0,
        runs: timed,
        median_seconds,
        events_per_second: (events as f64 / median_seconds).round(),
        parse_only_runs,
        parse_only_events_per_second: (events as f64 / parse_median).round(),
        target_events_per_second: 1_000_000.0,
        bytes_per_event: (bytes as f64 / events as f64 * 10.0).round() / 10.0,
        target_bytes_per_event: 20.0,
    };
    let markdown = format!(
        "# Import benchmark: events CSV into the embedded store\n\n{}\n\
         `trailmap-bench import --events {events} --runs {runs}`: a generated events CSV ({:.1} MiB, \
         {} customers, UTM-tagged URLs, referrers, revenue) imported into a fresh store through \
         `App::import`, the code path of `trailmap import events` (parse, enrich, resolve identities, \
         deduplicate, write columnar segments, one durable commit). Median of {runs} runs.\n\n\
         | stage | median seconds | events per second |\n|---|---|---|\n\
         | parse and enrich only | {:.2} | {:.0} |\n\
         | full import, committed | {:.2} | **{:.0}** |\n\n\
         Every run (seconds): {}. Slowest run: {:.0} events per second.\n\n\
         The store after an import: {:.1} MiB, **{:.1} bytes per event** (segments, their key blobs and \
         the key index; the file closed, its log folded in).\n\n\
         Targets (issue 19, at 10M events): at least 1,000,000 events per second (ratio of the median \
         to it: {:.2}x) and at most 20 bytes per event.\n",
        machine_lines(&results.machine),
        results.file_mib,
        (events / 20).max(1),
        parse_median,
        results.parse_only_events_per_second,
        median_seconds,
        results.events_per_second,
        results.runs.iter().map(|r| format!("{r:.2}")).collect::<Vec<_>>().join(", "),
        events as f64 / results.runs.iter().copied().fold(0.0, f64::max),
        bytes as f64 / 1024.0 / 1024.0,
        results.bytes_per_event,
        results.events_per_second / 1_000_000.0,
    );
    print!("{markdown}");
    write_results(out, "import", &markdown, &results)
}

#[derive(Debug, Serialize, serde::Deserialize)]
struct LoadOnce {
    events: usize,
    customers: usize,
    open_seconds: f64,
    load_seconds: f64,
    sort_seconds: f64,
    with_properties_seconds: f64,
}

fn load_once(db: &Path) -> anyhow::Result<LoadOnce> {
    let started = Instant::now();
    let store = SqliteStore::open(db)?;
    let business = store.businesses()?.first().context("the store has no business")?.id;
    let open_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let mut table = store.load_events(business, EventColumns::default())?;
    let load_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    table.sort_by_customer_time();
    let sort_seconds = started.elapsed().as_secs_f64();
    // The customer column holds each distinct customer once.
    let customers = table.customer.ids().to_vec();
    let events = table.len();
    drop(table);
    let started = Instant::now();
    let with_properties = store.load_events(business, EventColumns { properties: true })?;
    let with_properties_seconds = started.elapsed().as_secs_f64();
    drop(with_properties);
    Ok(LoadOnce { events, customers: customers.len(), open_seconds, load_seconds, sort_seconds, with_properties_seconds })
}

#[derive(Debug, Serialize)]
struct LoadResults {
    machine: Machine,
    events: u64,
    store_mib: f64,
    runs: Vec<LoadOnce>,
    median_load_seconds: f64,
    median_load_and_sort_seconds: f64,
}

/// A store named `{name}-{events}.sqlite` in the scratch folder holding `events` generated
/// events, made on first use and kept for reruns.
fn store_with_events(scratch: &Path, name: &str, events: u64) -> anyhow::Result<PathBuf> {
    let db = scratch.join(format!("{name}-{events}.sqlite"));
    if !db.exists() {
        let csv = scratch.join(format!("events-{events}.csv"));
        generate_csv(&csv, events)?;
        eprintln!("importing into {} ...", db.display());
        let (seconds, added) = import_into(&db, &csv)?;
        eprintln!("imported {added} events in {seconds:.1} s");
        let _ = std::fs::remove_file(&csv);
    }
    Ok(db)
}

fn bench_load(out: &Path, scratch: &Path, events: u64, runs: u32) -> anyhow::Result<()> {
    let db = store_with_events(scratch, "load", events)?;
    let store_mib = std::fs::metadata(&db)?.len() as f64 / 1024.0 / 1024.0;
    let exe = std::env::current_exe()?;
    let mut all = Vec::new();
    for run in 0..runs {
        // A fresh process each time, as the issue asks: no cache of ours survives between runs.
        let output = Command::new(&exe).arg("load-once").arg(&db).output()?;
        if !output.status.success() {
            bail!("load run {run} failed: {}", String::from_utf8_lossy(&output.stderr));
        }
        let once: LoadOnce = serde_json::from_slice(&output.stdout)?;
        eprintln!("load run {run}: {:.2} s (+{:.2} s sort)", once.load_seconds, once.sort_seconds);
        all.push(once);
    }
    let median_load = median(all.iter().map(|r| r.open_seconds + r.load_seconds).collect());
    let median_sorted = median(all.iter().map(|r| r.open_seconds + r.load_seconds + r.sort_seconds).collect());
    let (first_events, first_customers, first_properties) = (all[0].events, all[0].customers, all[0].with_properties_seconds);
    let results = LoadResults {
        machine: machine(),
        events,
        store_mib: (store_mib * 10.0).round() / 10.0,
        median_load_seconds: median_load,
        median_load_and_sort_seconds: median_sorted,
        runs: all,
    };
    let markdown = format!(
        "# Load benchmark: events from the store into the engine's columnar table\n\n{}\n\
         `trailmap-bench load --events {events} --runs {runs}`: a store of {} events ({} customers, \
         {:.0} MiB on disk), opened in a fresh process each run, all events loaded with every column \
         but properties and resolved to their customers. Median of {runs} runs; the OS page cache is warm.\n\n\
         | step | median seconds |\n|---|---|\n\
         | open + load | **{:.2}** |\n\
         | open + load + sort by customer and time | {:.2} |\n\
         | load with properties (first run) | {:.2} |\n\n\
         Every run, open + load (seconds): {}. A fresh process pays for faulting in the memory of \
         its columns; the same load repeated in one process takes {:.2} s.\n\n\
         Target: a couple of seconds for 10 million events. The comparison with ClickHouse reading \
         Parquet belongs to the engine benchmark.\n",
        machine_lines(&results.machine),
        first_events,
        first_customers,
        results.store_mib,
        median_load,
        median_sorted,
        first_properties,
        results.runs.iter().map(|r| format!("{:.2}", r.open_seconds + r.load_seconds)).collect::<Vec<_>>().join(", "),
        median(results.runs.iter().map(|r| r.with_properties_seconds).collect()),
    );
    print!("{markdown}");
    write_results(out, "load", &markdown, &results)
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let scratch_dir;
    let scratch = match &cli.scratch {
        Some(p) => {
            std::fs::create_dir_all(p)?;
            p.clone()
        }
        None => {
            scratch_dir = tempfile::tempdir()?;
            scratch_dir.path().to_path_buf()
        }
    };
    match cli.command {
        Bench::Import { events, runs } => bench_import(&cli.out, &scratch, events, runs.max(1)),
        Bench::Load { events, runs } => bench_load(&cli.out, &scratch, events, runs.max(1)),
        Bench::Backends { events, runs, postgres } => backends::bench_backends(&cli.out, &scratch, events, runs.max(1), &postgres),
        Bench::Live { customers, rounds, business } => live::bench_live(&cli.out, &scratch, customers, rounds.max(1), &business),
        Bench::Clv { runs, customers, whole_customers, large_customers } => {
            clv::bench_clv(&cli.out, &scratch, runs.max(1), customers, whole_customers, large_customers)
        }
        Bench::Funnel { events, steps, window, runs } => funnel::bench_funnel(&cli.out, &scratch, events, steps, &window, runs.max(1)),
        Bench::Clickhouse { url, events, runs, python, keep, memory_gb } => {
            let memory_bytes = memory_gb * 1_000_000_000;
            clickhouse::bench_clickhouse(&cli.out, &scratch, &clickhouse::Options { url, events, runs, python, keep, memory_bytes })
        }
        Bench::EnginesPrepare { events } => engines::prepare(&scratch, events),
        Bench::EnginesRun { db, runs } => engines::run(&db, runs.max(1)),
        Bench::EnginesCold { db } => engines::cold(&db),
        Bench::EnginesApiKey { db } => engines::api_key(&db),
        Bench::DashboardLoad { customers, seconds, writes } => {
            dashboard_load::run(&cli.out, &scratch, &dashboard_load::Options { customers, seconds, writes })
        }
        Bench::LoadOnce { db } => {
            let once = load_once(&db)?;
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            serde_json::to_writer(&mut out, &once)?;
            writeln!(out)?;
            Ok(())
        }
    }
}
