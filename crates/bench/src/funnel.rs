//! `trailmap-bench funnel`: one ordered funnel over a generated event log, timed here (load,
//! journeys, funnel separately) and computed in the same run by ClickHouse's `windowFunnel`
//! (`bench/funnel_clickhouse.sh`) and by a DuckDB query (`bench/funnel_duckdb.py`) over the very
//! same events, exported after our identity resolution. The customers per furthest step must be
//! equal in all three engines, or the benchmark fails.

use super::{Machine, machine, machine_lines, median, store_with_events, write_results};
use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::Command;
use std::time::Instant;
use trailmap_analytics::{FunnelMode, FunnelQuery, FunnelStep, Journeys, funnel};
use trailmap_model::EventColumns;
use trailmap_store::{SqliteStore, Store};

/// The funnel's steps by count: the generated shop's way to a purchase, shortened for fewer steps.
fn step_names(steps: usize) -> anyhow::Result<&'static [&'static str]> {
    Ok(match steps {
        2 => &["page_view", "purchase"],
        3 => &["page_view", "add_to_cart", "purchase"],
        4 => &["page_view", "add_to_cart", "checkout_started", "purchase"],
        5 => &["page_view", "product_view", "add_to_cart", "checkout_started", "purchase"],
        other => bail!("--steps must be between 2 and 5; got {other}"),
    })
}

/// Parses a window such as `1d`, `7d`, `12h`, `30m` or `90s` into milliseconds.
pub fn parse_window(text: &str) -> anyhow::Result<i64> {
    let bad = || format!("--window {text:?}: expected a positive number followed by d, h, m or s, such as 1d");
    let (number, unit) = text.split_at(text.len().saturating_sub(1));
    let unit_ms = match unit {
        "d" => 86_400_000,
        "h" => 3_600_000,
        "m" => 60_000,
        "s" => 1_000,
        _ => bail!(bad()),
    };
    let number: i64 = number.parse().with_context(bad)?;
    if number <= 0 {
        bail!(bad());
    }
    Ok(number * unit_ms)
}

#[derive(Debug, Serialize)]
struct OurRun {
    load_seconds: f64,
    journeys_seconds: f64,
    funnel_seconds: f64,
}

#[derive(Debug, Serialize, Deserialize)]
struct EngineRun {
    /// The engine's version, under the engine's name in the script's output.
    #[serde(alias = "clickhouse", alias = "duckdb")]
    version: String,
    rows: u64,
    /// ClickHouse only: rows in its table of time blocks (events near a block's end appear twice).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    block_rows: Option<u64>,
    load_seconds: f64,
    seconds: Vec<f64>,
    levels: BTreeMap<String, u64>,
}

#[derive(Debug, Serialize)]
struct FunnelResults {
    machine: Machine,
    events: u64,
    customers: usize,
    steps: Vec<String>,
    window_ms: i64,
    mode: &'static str,
    /// Customers with two events of different steps at the same millisecond, whose order only
    /// the recorded order decides.
    customers_with_step_ties: usize,
    ours: Vec<OurRun>,
    median_load_seconds: f64,
    median_journeys_seconds: f64,
    median_funnel_seconds: f64,
    clickhouse: EngineRun,
    median_clickhouse_seconds: f64,
    duckdb: EngineRun,
    median_duckdb_seconds: f64,
    /// Customers per furthest step (1 = did step 1 only), the same in all three engines.
    levels: BTreeMap<String, u64>,
    clickhouse_over_ours: f64,
    duckdb_over_ours: f64,
}

pub fn bench_funnel(out: &Path, scratch: &Path, events: u64, steps: usize, window: &str, runs: u32) -> anyhow::Result<()> {
    let names = step_names(steps)?;
    let window_ms = parse_window(window)?;
    let db = store_with_events(scratch, "funnel", events)?;
    let query = FunnelQuery {
        steps: names.iter().map(|n| FunnelStep::named(n)).collect(),
        window_ms,
        mode: FunnelMode::Ordered,
        exclusions: vec![],
        breakdown: None,
        period: None,
    };

    let mut ours = Vec::new();
    let mut last = None;
    for run in 0..runs {
        let store = SqliteStore::open(&db)?;
        let business = store.businesses()?.first().context("the store has no business")?.id;
        let started = Instant::now();
        let table = store.load_events(business, EventColumns::default())?;
        let load_seconds = started.elapsed().as_secs_f64();
        let started = Instant::now();
        let journeys = Journeys::new(table);
        let journeys_seconds = started.elapsed().as_secs_f64();
        let started = Instant::now();
        let report = funnel(&journeys, &query)?;
        let funnel_seconds = started.elapsed().as_secs_f64();
        eprintln!("trailmap run {run}: load {load_seconds:.3} s, journeys {journeys_seconds:.3} s, funnel {funnel_seconds:.3} s");
        ours.push(OurRun { load_seconds, journeys_seconds, funnel_seconds });
        last = Some((journeys, report));
    }
    let (journeys, report) = last.context("no run")?;
    let table = journeys.table();
    for name in names {
        if table.find_string(name).is_none() {
            bail!("no event is named {name:?} in the generated data");
        }
    }
    eprintln!("funnel steps (event names found in the data): {}; window {window} = {window_ms} ms; ordered", names.join(" -> "));
    let mut levels: BTreeMap<String, u64> = BTreeMap::new();
    for outcome in report.outcomes() {
        *levels.entry(outcome.reached.to_string()).or_default() += 1;
    }

    // The export: every event with its resolved customer, its time and its recorded order (the
    // row in our customer-and-time order, which keeps recorded order among ties).
    let tsv = scratch.join(format!("funnel-{events}.tsv"));
    let step_of = |row: usize| names.iter().position(|n| table.string(table.name[row]) == *n);
    let mut writer = BufWriter::new(std::fs::File::create(&tsv)?);
    let mut ties = 0;
    for journey in journeys.iter() {
        let mut tied = false;
        // The steps seen so far at the current millisecond, one bit per step.
        let mut same_time: (i64, u64) = (i64::MIN, 0);
        for row in journey.rows.clone() {
            writeln!(writer, "{}\t{}\t{}\t{}", journey.customer.0, table.time[row], table.string(table.name[row]), row)?;
            if table.time[row] != same_time.0 {
                same_time = (table.time[row], 0);
            }
            if let Some(step) = step_of(row) {
                tied |= same_time.1 & !(1 << step) != 0;
                same_time.1 |= 1 << step;
            }
        }
        ties += usize::from(tied);
    }
    writer.flush()?;
    drop(writer);
    eprintln!("exported {} events to {}; {ties} customers have two different steps at the same millisecond", table.len(), tsv.display());

    let window_arg = window_ms.to_string();
    let runs_arg = runs.to_string();
    eprintln!("running ClickHouse ...");
    let output = Command::new("bash")
        .arg("bench/funnel_clickhouse.sh")
        .arg(&tsv)
        .args([&window_arg, &runs_arg])
        .arg(scratch)
        .args(names)
        .output()?;
    if !output.status.success() {
        bail!("bench/funnel_clickhouse.sh failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    let clickhouse: EngineRun =
        serde_json::from_slice(&output.stdout).with_context(|| format!("ClickHouse output: {}", String::from_utf8_lossy(&output.stdout)))?;
    eprintln!("running DuckDB ...");
    let output =
        Command::new("python3").arg("bench/funnel_duckdb.py").arg(&tsv).args([&window_arg, &runs_arg]).args(names).output()?;
    if !output.status.success() {
        bail!("bench/funnel_duckdb.py failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    let duckdb: EngineRun =
        serde_json::from_slice(&output.stdout).with_context(|| format!("DuckDB output: {}", String::from_utf8_lossy(&output.stdout)))?;
    let _ = std::fs::remove_file(&tsv);

    let mut count_lines = String::new();
    for k in 1..=names.len() {
        let key = k.to_string();
        let get = |m: &BTreeMap<String, u64>| m.get(&key).copied().unwrap_or(0);
        count_lines.push_str(&format!(
            "| {k} ({}) | {} | {} | {} |\n",
            names[k - 1],
            get(&levels),
            get(&clickhouse.levels),
            get(&duckdb.levels)
        ));
    }
    eprintln!("customers per furthest step (step | trailmap | clickhouse | duckdb):\n{count_lines}");
    if levels != clickhouse.levels || levels != duckdb.levels {
        bail!(
            "MISMATCH: customers per furthest step differ.\n  trailmap:   {levels:?}\n  clickhouse: {:?}\n  duckdb:     {:?}",
            clickhouse.levels,
            duckdb.levels
        );
    }

    let median_load_seconds = median(ours.iter().map(|r| r.load_seconds).collect());
    let median_journeys_seconds = median(ours.iter().map(|r| r.journeys_seconds).collect());
    let median_funnel_seconds = median(ours.iter().map(|r| r.funnel_seconds).collect());
    let median_clickhouse_seconds = median(clickhouse.seconds.clone());
    let median_duckdb_seconds = median(duckdb.seconds.clone());
    let results = FunnelResults {
        machine: machine(),
        events,
        customers: journeys.len(),
        steps: names.iter().map(|n| n.to_string()).collect(),
        window_ms,
        mode: "ordered",
        customers_with_step_ties: ties,
        ours,
        median_load_seconds,
        median_journeys_seconds,
        median_funnel_seconds,
        median_clickhouse_seconds,
        median_duckdb_seconds,
        clickhouse_over_ours: median_clickhouse_seconds / median_funnel_seconds,
        duckdb_over_ours: median_duckdb_seconds / median_funnel_seconds,
        clickhouse,
        duckdb,
        levels,
    };
    let entered: u64 = results.levels.values().sum();
    let markdown = format!(
        "# Funnel benchmark: Trailmap against ClickHouse windowFunnel and DuckDB\n\n{}\n\
         `trailmap-bench funnel --events {events} --steps {steps} --window {window} --runs {runs}`: a generated \
         event log ({events} events, {} customers after identity resolution) imported into a fresh store; an \
         ordered {steps}-step funnel {} with a {window} window ({window_ms} ms from step 1, boundary included). \
         The same events (resolved customer, time in ms, name, recorded order) are exported and computed in the \
         same run by ClickHouse {} (`bench/funnel_clickhouse.sh`: Debian's server on loopback, MergeTree table, \
         `windowFunnel`, time reported by `clickhouse-client --time`) and DuckDB {} (`bench/funnel_duckdb.py`: \
         in-memory table, one SQL query, time measured in Python around the query). Median of {runs} runs; \
         data already loaded in every engine.\n\n\
         | engine | step | median seconds |\n|---|---|---|\n\
         | Trailmap | load events from the store | {median_load_seconds:.3} |\n\
         | Trailmap | group into journeys (sort by customer and time) | {median_journeys_seconds:.3} |\n\
         | Trailmap | funnel | **{median_funnel_seconds:.3}** |\n\
         | ClickHouse | windowFunnel query | {median_clickhouse_seconds:.3} |\n\
         | DuckDB | SQL query | {median_duckdb_seconds:.3} |\n\n\
         Funnel alone: ClickHouse takes **{:.1}x** Trailmap's time, DuckDB **{:.1}x**. Counting the journeys \
         step as well (ClickHouse's table is kept sorted by customer and time at load; DuckDB sorts inside its \
         query): ClickHouse {:.1}x, DuckDB {:.1}x.\n\n\
         Customers per furthest step (n = {entered} customers who did step 1), equal in all three engines:\n\n\
         | furthest step | Trailmap | ClickHouse | DuckDB |\n|---|---|---|---|\n{count_lines}\n\
         Ties: {ties} customers have two different steps at the same millisecond (Trailmap orders them as \
         recorded; ClickHouse 18.16 by a stable sort on time alone, so by the order rows reach the aggregate). \
         ClickHouse 18.16's windowFunnel takes 32-bit timestamps only, so its table holds each customer's events \
         in blocks of {} ms with milliseconds since the block's start, each block overlapping the next by one \
         window ({} rows for {} events); the furthest step is the largest over a customer's blocks. Load times \
         (not compared): ClickHouse {:.1} s including the blocks, DuckDB {:.1} s from TSV.\n",
        machine_lines(&results.machine),
        results.customers,
        names.join(" → "),
        results.clickhouse.version,
        results.duckdb.version,
        results.clickhouse_over_ours,
        results.duckdb_over_ours,
        median_clickhouse_seconds / (median_journeys_seconds + median_funnel_seconds),
        median_duckdb_seconds / (median_journeys_seconds + median_funnel_seconds),
        2_147_000_000 - window_ms,
        results.clickhouse.block_rows.unwrap_or(0),
        results.clickhouse.rows,
        results.clickhouse.load_seconds,
        results.duckdb.load_seconds,
    );
    print!("{markdown}");
    write_results(out, "funnel", &markdown, &results)
}
