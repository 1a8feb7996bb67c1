//! `trailmap-bench backends`: the embedded SQLite store against PostgreSQL on the same events.
//! The generated events CSV of the import benchmark is parsed once; its events are written to a
//! fresh SQLite file and to a fresh PostgreSQL database (one bulk write each, as an import does),
//! and then `load_events` (every column but properties, resolved to customers) is timed on both,
//! alternating, in this process. The two loads must give the same table. Issue 21 asks PostgreSQL
//! to load at no worse than half the speed of the embedded store.

use crate::{Machine, generate_csv, machine, machine_lines, median, write_results};
use anyhow::{Context, bail};
use serde::Serialize;
use std::path::Path;
use std::time::Instant;
use trailmap_ingest::{ImportOptions, Record, RecordReader};
use trailmap_model::{BusinessId, Currency, EventColumns, IncomingEvent};
use trailmap_app::RecordKind;
use trailmap_store::{PgStore, SqliteStore, Store, StoreError};

#[derive(Debug, Serialize)]
struct BackendResults {
    machine: Machine,
    events: u64,
    sqlite_write_seconds: f64,
    postgres_write_seconds: f64,
    sqlite_load_runs: Vec<f64>,
    postgres_load_runs: Vec<f64>,
    sqlite_median_load_seconds: f64,
    postgres_median_load_seconds: f64,
    /// PostgreSQL's load time over SQLite's (the target is at most 2).
    ratio: f64,
}

fn write_all<S: Store>(store: &mut S, events: &[IncomingEvent]) -> anyhow::Result<(BusinessId, f64)> {
    let mut business = BusinessId(0);
    store.write::<StoreError>(&mut |w| {
        business = w.create_business("Bench", Currency::USD, "UTC")?.0.id;
        Ok(())
    })?;
    let started = Instant::now();
    let summary = store.write::<StoreError>(&mut |w| {
        w.bulk();
        for event in events {
            w.add_event(business, event)?;
        }
        Ok(())
    })?;
    if summary.events_added + summary.events_duplicate != events.len() as u64 {
        bail!("wrote {} of {} events", summary.events_added + summary.events_duplicate, events.len());
    }
    Ok((business, started.elapsed().as_secs_f64()))
}

/// `admin_url` names a PostgreSQL server where the benchmark may create and drop a database.
pub fn bench_backends(out: &Path, scratch: &Path, events: u64, runs: u32, admin_url: &str) -> anyhow::Result<()> {
    let csv = scratch.join(format!("events-{events}.csv"));
    generate_csv(&csv, events)?;
    let reader = RecordReader::new(std::fs::File::open(&csv)?, ImportOptions::new(RecordKind::Events, csv.display().to_string()))?;
    let mut incoming = Vec::with_capacity(events as usize);
    for record in reader {
        if let Record::Event(event) = record.map_err(|e| anyhow::anyhow!("{e}"))?.record {
            incoming.push(event);
        }
    }
    let db = scratch.join("backends.sqlite");
    let _ = std::fs::remove_file(&db);
    let mut sqlite = SqliteStore::open(&db)?;
    let (business, sqlite_write_seconds) = write_all(&mut sqlite, &incoming)?;
    eprintln!("SQLite: wrote {} events in {sqlite_write_seconds:.1} s", incoming.len());

    let name = format!("tm_bench_{}", std::process::id());
    let mut admin = postgres::Client::connect(admin_url, postgres::NoTls).context("connecting to the benchmark's PostgreSQL server")?;
    // Two calls: statements sent together run in one implicit transaction, which these refuse.
    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))?;
    admin.batch_execute(&format!("CREATE DATABASE {name}"))?;
    let url = match admin_url.rsplit_once('/') {
        Some((server, _)) => format!("{server}/{name}"),
        None => bail!("the PostgreSQL URL names no database: {admin_url}"),
    };
    let measured = (|| -> anyhow::Result<_> {
        let mut pg = PgStore::open(&url)?;
        let (pg_business, postgres_write_seconds) = write_all(&mut pg, &incoming)?;
        eprintln!("PostgreSQL: wrote {} events in {postgres_write_seconds:.1} s", incoming.len());
        let (mut sqlite_runs, mut pg_runs) = (Vec::new(), Vec::new());
        for run in 0..runs {
            let started = Instant::now();
            let a = sqlite.load_events(business, EventColumns::default())?;
            sqlite_runs.push(started.elapsed().as_secs_f64());
            let started = Instant::now();
            let b = pg.load_events(pg_business, EventColumns::default())?;
            pg_runs.push(started.elapsed().as_secs_f64());
            if a != b {
                bail!("run {run}: the two stores loaded different tables");
            }
            eprintln!("load run {run}: SQLite {:.3} s, PostgreSQL {:.3} s ({} rows)", sqlite_runs[run as usize], pg_runs[run as usize], a.len());
        }
        Ok((postgres_write_seconds, sqlite_runs, pg_runs))
    })();
    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))?;
    let (postgres_write_seconds, sqlite_load_runs, postgres_load_runs) = measured?;
    let (sqlite_median, pg_median) = (median(sqlite_load_runs.clone()), median(postgres_load_runs.clone()));
    let results = BackendResults {
        machine: machine(),
        events,
        sqlite_write_seconds,
        postgres_write_seconds,
        sqlite_load_runs,
        postgres_load_runs,
        sqlite_median_load_seconds: sqlite_median,
        postgres_median_load_seconds: pg_median,
        ratio: (pg_median / sqlite_median * 100.0).round() / 100.0,
    };
    let markdown = format!(
        "# Backends benchmark: the embedded SQLite store and PostgreSQL\n\n{}\n\
         `trailmap-bench backends --events {events} --runs {runs}`: the import benchmark's generated events \
         ({} customers) parsed once and written to each store in one bulk write, then `load_events` \
         (every column but properties, each row resolved to its customer) timed on both, alternating, \
         in one process; the two tables are checked equal. PostgreSQL {} on the same machine, over \
         TCP on 127.0.0.1.\n\n\
         | store | write (s) | median load (s) |\n|---|---|---|\n\
         | SQLite | {:.2} | **{:.3}** |\n\
         | PostgreSQL | {:.2} | **{:.3}** |\n\n\
         PostgreSQL's load takes {:.2}x SQLite's (target: at most 2x, issue 21). Every run (seconds), \
         SQLite: {}; PostgreSQL: {}.\n",
        machine_lines(&results.machine),
        (events / 20).max(1),
        server_version(admin_url).unwrap_or_default(),
        results.sqlite_write_seconds,
        sqlite_median,
        results.postgres_write_seconds,
        pg_median,
        results.ratio,
        results.sqlite_load_runs.iter().map(|r| format!("{r:.3}")).collect::<Vec<_>>().join(", "),
        results.postgres_load_runs.iter().map(|r| format!("{r:.3}")).collect::<Vec<_>>().join(", "),
    );
    print!("{markdown}");
    write_results(out, "backends", &markdown, &results)
}

fn server_version(url: &str) -> Option<String> {
    let mut client = postgres::Client::connect(url, postgres::NoTls).ok()?;
    client.query_one("SHOW server_version", &[]).ok().map(|r| r.get(0))
}
