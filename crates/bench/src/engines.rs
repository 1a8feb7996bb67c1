//! The Trailmap side of the engine benchmark (`bench/run_engines.sh`, driven by
//! `bench/engines.py`): three subcommands the driver calls, each printing one JSON object.
//!
//! - `engines-prepare`: the seeded store of N events (kept in the scratch folder for reruns),
//!   compacted (events in customer order, as chDB's table after `OPTIMIZE ... FINAL`), and
//!   the same events exported for the other engines as TSV (resolved customer, time in ms, name,
//!   recorded order, channel), plus the attribution paths aggregated as ChannelAttribution reads
//!   them ("A > B > C", conversions, non-conversions).
//! - `engines-run`: in a fresh process, the funnel over data loaded once (median of runs), the
//!   load and journey steps timed apart, the peak memory per event (VmHWM minus the resident size
//!   before loading), and attribution (first and last touch counts, Markov removal effects).
//! - `engines-api-key`: an API key of an owner of the store's business, with which the driver
//!   asks `trailmap serve` for the funnel over HTTP (the warm comparison).
//! - `engines-cold`: open the store, load the events of the steps' names, group, one funnel, print
//!   the counts: the process the driver times from the outside for the cold-start comparison.

use super::{median, store_with_events};
use anyhow::Context;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;
use trailmap_analytics::attribution::{build_paths, markov_chain_from};
use trailmap_analytics::{AttributionOptions, FunnelMode, FunnelQuery, FunnelStep, Journeys, Model, funnel};
use trailmap_model::{BusinessId, EventField, EventSelection};
use trailmap_store::{Compaction, EventLoads, SqliteStore, Store};

/// The benchmark's funnel: the generated shop's way to a purchase, 7 days from the first step.
pub const STEPS: [&str; 4] = ["page_view", "add_to_cart", "checkout_started", "purchase"];
pub const WINDOW_MS: i64 = 7 * 86_400_000;

pub(crate) fn query() -> FunnelQuery {
    FunnelQuery {
        steps: STEPS.iter().map(|n| FunnelStep::named(n)).collect(),
        window_ms: WINDOW_MS,
        mode: FunnelMode::Ordered,
        exclusions: vec![],
        breakdown: None,
        period: None,
    }
}

pub(crate) fn open(db: &Path) -> anyhow::Result<(SqliteStore, BusinessId)> {
    let store = SqliteStore::open(db)?;
    let business = store.businesses()?.first().context("the store has no business")?.id;
    Ok((store, business))
}

/// What the funnel reads: customer and time (always loaded) and the event name.
fn funnel_columns() -> EventSelection {
    EventSelection::NONE.with(&EventField::Name)
}

/// Customers per furthest step, keyed "1" to "4": those reaching a step and not the next, from
/// the report's step counts (the benchmark has no exclusions, so every outcome is counted there).
pub(crate) fn levels(journeys: &Journeys) -> anyhow::Result<BTreeMap<String, u64>> {
    let report = funnel(journeys, &query())?;
    let steps = &report.overall.steps;
    let mut levels = BTreeMap::new();
    for (k, step) in steps.iter().enumerate() {
        let next = steps.get(k + 1).map_or(0, |s| s.reached);
        if step.reached > next {
            levels.insert((k + 1).to_string(), (step.reached - next) as u64);
        }
    }
    Ok(levels)
}

/// A field of /proc/self/status in bytes (VmHWM, VmRSS), 0 where there is none.
fn status_bytes(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim_start_matches(':').split_whitespace().next().and_then(|n| n.parse::<u64>().ok()))
        .map_or(0, |kib| kib * 1024)
}

#[derive(Debug, Serialize)]
pub(crate) struct Prepared {
    pub db: PathBuf,
    pub tsv: PathBuf,
    pub paths_csv: PathBuf,
    pub events: usize,
    pub customers: usize,
    pub store_bytes: u64,
    pub compaction: trailmap_store::CompactSummary,
    pub compact_seconds: f64,
}

pub fn prepare(scratch: &Path, events: u64) -> anyhow::Result<()> {
    let prepared = prepared(scratch, events)?;
    println!("{}", serde_json::to_string(&prepared)?);
    Ok(())
}

/// The engine benchmark's data: the seeded store of `events` events, compacted, and its TSV and
/// attribution exports. `trailmap-bench clickhouse` starts from the same store, so the ClickHouse
/// rig gets the very log the engine benchmark measures.
pub(crate) fn prepared(scratch: &Path, events: u64) -> anyhow::Result<Prepared> {
    let db = store_with_events(scratch, "engines", events)?;
    let (mut store, business) = open(&db)?;
    // The store keeps events in customer order, as chDB's table is optimised to its sorting key,
    // so the cold start does not regroup them. A reused store compacted before is only checked.
    let started = Instant::now();
    let compaction = store.compact_events(business)?;
    let compact_seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "compaction: {} events, {} -> {} segments, {} in {compact_seconds:.1} s",
        compaction.events,
        compaction.segments_before,
        compaction.segments_after,
        if compaction.rewritten { "rewritten" } else { "already in order" }
    );
    // Attribution reads every field of an event but its properties (sessions' sources, referrers
    // and campaigns as well as the channel), as `App::attribution` loads them.
    let selection: EventSelection = trailmap_model::EventColumns { properties: false }.into();
    let journeys = Journeys::new(store.load_selected_events(business, selection)?);
    let table = journeys.table();
    let tsv = scratch.join(format!("engines-{events}.tsv"));
    let mut writer = BufWriter::new(std::fs::File::create(&tsv)?);
    for journey in journeys.iter() {
        for row in journey.rows.clone() {
            writeln!(
                writer,
                "{}\t{}\t{}\t{}\t{}",
                journey.customer.0,
                table.time[row],
                table.string(table.name[row]),
                row,
                table.string(table.channel[row])
            )?;
        }
    }
    writer.flush()?;
    drop(writer);

    // The attribution paths as ChannelAttribution reads them, aggregated by path text.
    let options = AttributionOptions { models: vec![Model::Markov], ..AttributionOptions::default() };
    let (names, paths) = build_paths(&journeys, &options)?;
    let mut aggregated: HashMap<String, (u64, u64)> = HashMap::new();
    for path in &paths {
        if path.touches.is_empty() {
            continue;
        }
        let text = path.touches.iter().map(|t| names[t.channel as usize].as_str()).collect::<Vec<_>>().join(" > ");
        let entry = aggregated.entry(text).or_default();
        if path.conversion.is_some() {
            entry.0 += 1;
        } else {
            entry.1 += 1;
        }
    }
    let paths_csv = scratch.join(format!("engines-{events}-paths.csv"));
    let mut writer = BufWriter::new(std::fs::File::create(&paths_csv)?);
    writeln!(writer, "path,total_conversions,total_null")?;
    let mut rows: Vec<_> = aggregated.into_iter().collect();
    rows.sort();
    for (text, (conversions, nulls)) in rows {
        writeln!(writer, "{text},{conversions},{nulls}")?;
    }
    writer.flush()?;
    let prepared = Prepared {
        store_bytes: std::fs::metadata(&db)?.len(),
        db,
        tsv,
        paths_csv,
        events: table.len(),
        customers: journeys.len(),
        compaction,
        compact_seconds,
    };
    Ok(prepared)
}

#[derive(Debug, Serialize)]
struct Run {
    events: usize,
    customers: usize,
    load_seconds: f64,
    journeys_seconds: f64,
    /// The funnel over the loaded journeys, every run.
    funnel_seconds: Vec<f64>,
    median_funnel_seconds: f64,
    /// Resident bytes before loading, and the high-water mark after the funnels.
    baseline_bytes: u64,
    peak_bytes: u64,
    /// The high-water mark after loading and after grouping, to show which step sets the peak.
    after_load_peak_bytes: u64,
    after_journeys_peak_bytes: u64,
    /// The resident size right after loading, and the loaded table's own bytes then: the
    /// difference is what the load left behind besides the table.
    after_load_bytes: u64,
    loaded_table_bytes: usize,
    peak_bytes_per_event: f64,
    /// The loaded table's own bytes per event, after grouping.
    table_bytes_per_event: f64,
    levels: BTreeMap<String, u64>,
    attribution: AttributionRun,
}

#[derive(Debug, Serialize)]
struct AttributionRun {
    journeys: usize,
    paths: usize,
    conversions: u64,
    /// Building the paths from the journeys (lookback 30 days), every run.
    paths_seconds: Vec<f64>,
    /// The exact order-1 Markov chain and its removal effects over those paths, every run.
    markov_seconds: Vec<f64>,
    median_paths_seconds: f64,
    median_markov_seconds: f64,
    first_touch: BTreeMap<String, f64>,
    last_touch: BTreeMap<String, f64>,
    /// Removal effects normalised to shares of all conversions, per channel.
    markov_shares: BTreeMap<String, f64>,
    markov_conversion_probability: f64,
}

pub fn run(db: &Path, runs: u32) -> anyhow::Result<()> {
    let (store, business) = open(db)?;
    let baseline_bytes = status_bytes("VmRSS");
    let started = Instant::now();
    let table = store.load_selected_events(business, funnel_columns())?;
    let load_seconds = started.elapsed().as_secs_f64();
    let after_load_peak_bytes = status_bytes("VmHWM");
    let after_load_bytes = status_bytes("VmRSS");
    let loaded_table_bytes = table.heap_bytes();
    let started = Instant::now();
    let journeys = Journeys::new(table);
    let journeys_seconds = started.elapsed().as_secs_f64();
    let after_journeys_peak_bytes = status_bytes("VmHWM");
    let mut funnel_seconds = Vec::new();
    let mut counted = BTreeMap::new();
    for _ in 0..runs {
        let started = Instant::now();
        counted = levels(&journeys)?;
        funnel_seconds.push(started.elapsed().as_secs_f64());
    }
    let peak_bytes = status_bytes("VmHWM");
    let events = journeys.table().len();
    let customers = journeys.len();
    let table_bytes_per_event = journeys.table().heap_bytes() as f64 / events.max(1) as f64;
    drop(journeys);

    // Attribution reads every field of an event but its properties (sessions' sources, referrers
    // and campaigns as well as the channel), as `App::attribution` loads them.
    let selection: EventSelection = trailmap_model::EventColumns { properties: false }.into();
    let journeys = Journeys::new(store.load_selected_events(business, selection)?);
    let options = AttributionOptions { models: vec![Model::First, Model::Last], ..AttributionOptions::default() };
    let (mut paths_seconds, mut markov_seconds) = (Vec::new(), Vec::new());
    let mut last = None;
    for _ in 0..runs {
        // The previous run's paths are freed first, as a process answering one request after
        // another would have: holding them would make every run take fresh memory from the kernel.
        drop(last.take());
        let started = Instant::now();
        let (names, paths) = build_paths(&journeys, &options)?;
        paths_seconds.push(started.elapsed().as_secs_f64());
        let started = Instant::now();
        let touched = paths.iter().filter(|p| !p.touches.is_empty());
        let chain = markov_chain_from(touched.map(|p| (p.touches.iter().map(|t| t.channel as usize), p.conversion.is_some())), names.len(), 1);
        markov_seconds.push(started.elapsed().as_secs_f64());
        last = Some((names, paths, chain));
    }
    let (names, paths, chain) = last.context("no run")?;
    let heuristic = trailmap_analytics::attribution::attribute_paths(&names, &paths, &options, &[]);
    let credits = |model: Model| -> BTreeMap<String, f64> {
        heuristic.model(model).map_or_else(BTreeMap::new, |m| m.credits.iter().map(|c| (c.channel.clone(), c.conversions)).collect())
    };
    let total_effect: f64 = chain.removal_effects.iter().sum();
    let markov_shares = names
        .iter()
        .zip(&chain.removal_effects)
        .map(|(n, e)| (n.clone(), if total_effect > 0.0 { e / total_effect } else { 0.0 }))
        .collect();
    let attribution = AttributionRun {
        journeys: journeys.len(),
        paths: paths.len(),
        conversions: heuristic.conversions,
        median_paths_seconds: median(paths_seconds.clone()),
        median_markov_seconds: median(markov_seconds.clone()),
        paths_seconds,
        markov_seconds,
        first_touch: credits(Model::First),
        last_touch: credits(Model::Last),
        markov_shares,
        markov_conversion_probability: chain.conversion_probability,
    };
    let result = Run {
        events,
        customers,
        load_seconds,
        journeys_seconds,
        median_funnel_seconds: median(funnel_seconds.clone()),
        funnel_seconds,
        baseline_bytes,
        peak_bytes,
        after_load_peak_bytes,
        after_journeys_peak_bytes,
        after_load_bytes,
        loaded_table_bytes,
        peak_bytes_per_event: peak_bytes.saturating_sub(baseline_bytes) as f64 / events.max(1) as f64,
        table_bytes_per_event,
        levels: counted,
        attribution,
    };
    println!("{}", serde_json::to_string(&result)?);
    Ok(())
}

/// One cold funnel: everything a fresh process does from opening the store to the counts. As
/// `trailmap funnel` does, it loads only the events whose names the steps match, the rows chDB's
/// query reads with its `WHERE event IN (...)`.
pub fn cold(db: &Path) -> anyhow::Result<()> {
    let (store, business) = open(db)?;
    let query = query();
    let keep = query.relevant_names().context("the benchmark's funnel has named steps")?;
    let journeys = Journeys::new(store.load_named_events(business, funnel_columns(), &keep)?);
    let counted = levels(&journeys)?;
    println!("{}", serde_json::to_string(&serde_json::json!({ "levels": counted }))?);
    Ok(())
}

/// A new API key of the benchmark's user (made an owner of the store's business the first time),
/// printed with the business's id: the driver's client sends it to `trailmap serve`.
pub fn api_key(db: &Path) -> anyhow::Result<()> {
    const EMAIL: &str = "bench@example.com";
    let mut app = trailmap_app::App::open(db)?;
    let business = app.business(None)?;
    let now = trailmap_model::Timestamp::from_millis(chrono::Utc::now().timestamp_millis());
    let user = match app.user_by_email(EMAIL)? {
        Some(user) => user,
        None => app.create_user(EMAIL, "Benchmark", &format!("bench-{}", now.0), now)?,
    };
    app.set_member(business.id, user.id, trailmap_model::Role::Owner)?;
    let (_, key) = app.create_api_key(user.id, "engine benchmark", now)?;
    println!("{}", serde_json::json!({ "key": key, "business_id": business.id.0 }));
    Ok(())
}
