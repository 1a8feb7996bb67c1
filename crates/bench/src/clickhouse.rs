//! `trailmap-bench clickhouse`: events in a ClickHouse cluster (issue 22), measured on the
//! two-shard rig `.ci/clickhouse.sh` starts or any cluster `--url` names. The engine benchmark's
//! seeded store (`engines::prepared`, the same log as `bench/run_engines.sh`) is loaded into a
//! fresh database on every shard through `ClickHouseEvents::append`, in arrival (time) order and
//! in batches of one insert each; the load's events per second and, after `OPTIMIZE ... FINAL`,
//! the bytes per event on disk from `system.parts` summed over the shards are recorded. Then the
//! engine benchmark's ordered funnel runs three ways in the same run: pushed down to the cluster
//! (`ClickHouseEvents::funnel`), in the embedded engine (cold `trailmap funnel` and warm
//! `trailmap serve`, as the engine benchmark defines them) and in chDB (cold over Parquet, warm
//! over a MergeTree table in a kept session), the last two through `bench/clickhouse_sides.py`,
//! which reuses `bench/engines.py`. The customers per furthest step must be equal on every side,
//! or the benchmark fails. Results go to `bench/results/clickhouse.{md,json}`.

use super::{Machine, engines, machine, machine_lines, median, write_results};
use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use trailmap_analytics::Journeys;
use trailmap_model::{Currency, CustomerId, Event, EventColumns, EventKey, EventRule, EventTable, Identity, Money, Timestamp};
use trailmap_store::{ClickHouseEvents, ClickHouseLocation, EventLoads, FunnelPath, FunnelSpec, MAX_EXECUTION_SECONDS, QueryLimits};
use trailmap_testkit::clickhouse::ClickHouseDatabase;

/// Events per `append` call: one insert request each (the backend's own batch size), the size
/// ClickHouse's documentation asks inserts to be of (thousands of rows or more, not row by row).
const BATCH: usize = 100_000;

/// How often the untimed memory run samples `system.processes` on each shard.
const SAMPLE_EVERY: Duration = Duration::from_millis(20);

/// What the command was given.
#[derive(Debug)]
pub struct Options {
    /// A `clickhouse://` URL of the cluster; its database is ignored, a fresh one is made.
    pub url: String,
    pub events: u64,
    pub runs: u32,
    /// The Python with chDB, DuckDB and pyarrow (`bench/run_clickhouse.sh` makes it).
    pub python: PathBuf,
    /// Keep the database afterwards, to look at it.
    pub keep: bool,
    /// `max_memory_usage` of the benchmark's funnel queries, in bytes: the rig's profile allows
    /// 2 GB, which the pushed-down funnel passes at 10 million events (see the results).
    pub memory_bytes: u64,
}

#[derive(Debug, Serialize)]
struct Load {
    events: u64,
    batches: usize,
    /// Time inside `append` only, summed over the batches.
    append_seconds: f64,
    events_per_second: f64,
    /// The slowest and fastest batch, events per second.
    slowest_batch_events_per_second: f64,
    fastest_batch_events_per_second: f64,
    /// Turning the store's rows into `Event`s, outside the append time.
    build_seconds: f64,
    /// `count()` over the Distributed table with FINAL after the load.
    counted: u64,
}

/// `system.parts` of `events_local`, active parts, on one shard.
#[derive(Debug, Default, Clone, Serialize)]
struct Parts {
    parts: u64,
    partitions: u64,
    rows: u64,
    bytes_on_disk: u64,
    data_compressed_bytes: u64,
    data_uncompressed_bytes: u64,
    marks_bytes: u64,
    primary_key_bytes_in_memory: u64,
}

#[derive(Debug, Serialize)]
struct Storage {
    /// Per shard, right after the load (before the forced merge).
    after_load: Vec<Parts>,
    optimize_seconds: f64,
    /// Per shard, after `OPTIMIZE TABLE events_local FINAL`.
    after_optimize: Vec<Parts>,
    /// Summed over the shards after the merge, per event.
    bytes_on_disk_per_event: f64,
    compressed_bytes_per_event: f64,
    uncompressed_bytes_per_event: f64,
    compression_ratio: f64,
    /// Per column, summed over the shards: (compressed, uncompressed) bytes.
    columns: BTreeMap<String, (u64, u64)>,
}

/// One query's largest `peak_memory_usage` seen in `system.processes` while it ran.
#[derive(Debug, Default, Clone, Serialize)]
struct Sampled {
    shard: usize,
    is_initial_query: bool,
    peak_memory_usage: i64,
    read_rows: u64,
    read_bytes: u64,
    /// What the shard ran, line breaks made spaces.
    query: String,
}

#[derive(Debug, Serialize)]
struct Pushdown {
    first_seconds: f64,
    seconds: Vec<f64>,
    median_seconds: f64,
    /// The untimed run sampled for memory; a lower bound of each query's peak (sampled).
    memory_run_seconds: f64,
    sampled: Vec<Sampled>,
    samples: u64,
    levels: BTreeMap<String, u64>,
    /// Events of the steps' names per shard: the rows the funnel needs.
    step_events_per_shard: Vec<u64>,
    /// The server's `enable_optimize_predicate_expression`: whether a filter of an outer query
    /// is moved into the subquery the shards run.
    predicate_pushdown: String,
}

/// A query run on each shard over its own `events_local`, the shards at once, the
/// per-furthest-step counts added up.
#[derive(Debug, Serialize)]
struct PerShard {
    seconds: Vec<f64>,
    median_seconds: f64,
    sampled: Vec<Sampled>,
    levels: BTreeMap<String, u64>,
}

/// What `bench/clickhouse_sides.py` prints.
#[derive(Debug, Serialize, Deserialize)]
struct Sides {
    chdb_version: String,
    load_averages: BTreeMap<String, f64>,
    cold: ColdSides,
    warm: WarmSides,
    levels: BTreeMap<String, BTreeMap<String, u64>>,
}

#[derive(Debug, Serialize, Deserialize)]
struct ColdSides {
    trailmap_cli: Vec<f64>,
    chdb: Vec<f64>,
    chdb_query: Vec<f64>,
}

#[derive(Debug, Serialize, Deserialize)]
struct WarmSides {
    trailmap: WarmTrailmap,
    chdb: WarmChdb,
}

#[derive(Debug, Serialize, Deserialize)]
struct WarmTrailmap {
    first_request_seconds: f64,
    seconds: Vec<f64>,
    response_bytes: u64,
    server_rss_mib: f64,
}

#[derive(Debug, Serialize, Deserialize)]
struct WarmChdb {
    load_seconds: f64,
    seconds: Vec<f64>,
}

#[derive(Debug, Serialize)]
struct Medians {
    clickhouse_pushdown: f64,
    trailmap_warm_http: f64,
    chdb_warm_mergetree: f64,
    trailmap_cold_cli: f64,
    chdb_cold_parquet: f64,
    /// Pushdown time over the embedded engine's warm answer, and over chDB's warm query.
    pushdown_over_trailmap_warm: f64,
    pushdown_over_chdb_warm: f64,
    chdb_warm_over_trailmap_warm: f64,
    pushdown_over_trailmap_cold: f64,
}

#[derive(Debug, Serialize)]
struct Results {
    machine: Machine,
    clickhouse_version: String,
    shards: usize,
    events: u64,
    customers: usize,
    steps: Vec<String>,
    window_ms: i64,
    runs: u32,
    /// `max_memory_usage` sent with the funnel queries.
    memory_bytes: u64,
    load_averages: BTreeMap<String, f64>,
    load: Load,
    storage: Storage,
    pushdown: Pushdown,
    window_funnel_alone: PerShard,
    /// Distinct customers and events of the steps' names per shard, what `windowFunnel`'s
    /// states hold.
    customers_per_shard: Vec<u64>,
    sides: Sides,
    medians: Medians,
    /// Customers per furthest step on every side; all equal, or the run fails.
    levels: BTreeMap<String, BTreeMap<String, u64>>,
}

fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg").ok().and_then(|l| l.split_whitespace().next()?.parse().ok()).unwrap_or(f64::NAN)
}

/// Runs one statement on a shard's HTTP interface with curl (as the testkit does) and returns
/// the answer; a long timeout, since `OPTIMIZE ... FINAL` over millions of rows takes minutes on
/// a busy machine.
fn sql(shard: &str, statement: &str) -> anyhow::Result<String> {
    sql_with(shard, statement, "")
}

/// [`sql`] with settings for the URL's query string (`max_memory_usage=...`).
fn sql_with(shard: &str, statement: &str, settings: &str) -> anyhow::Result<String> {
    let out = Command::new("curl")
        .args(["-sS", "--fail-with-body", "--max-time", "3600", "--data-binary", statement, &format!("http://{shard}/?{settings}")])
        .output()
        .context("running curl")?;
    if !out.status.success() {
        bail!("ClickHouse at {shard}: {statement}: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn numbers(line: &str) -> Vec<u64> {
    line.split('\t').map(|v| v.trim().parse().unwrap_or(0)).collect()
}

fn parts(shard: &str, database: &str) -> anyhow::Result<Parts> {
    let line = sql(
        shard,
        &format!(
            "SELECT count(), uniqExact(partition), sum(rows), sum(bytes_on_disk), sum(data_compressed_bytes), sum(data_uncompressed_bytes), \
             sum(marks_bytes), sum(primary_key_bytes_in_memory) FROM system.parts \
             WHERE database = '{database}' AND table = 'events_local' AND active FORMAT TabSeparated"
        ),
    )?;
    let v = numbers(line.trim());
    if v.len() != 8 {
        bail!("system.parts on {shard}: {line:?}");
    }
    Ok(Parts {
        parts: v[0],
        partitions: v[1],
        rows: v[2],
        bytes_on_disk: v[3],
        data_compressed_bytes: v[4],
        data_uncompressed_bytes: v[5],
        marks_bytes: v[6],
        primary_key_bytes_in_memory: v[7],
    })
}

/// Each row's event key: random-looking (an xxh3 hash, as the real keys of imported and tracked
/// events are, so the key column compresses as it would in production), except that the keys of
/// one customer's events at the same millisecond are handed out in ascending order along the
/// store's rows. The backend breaks such ties by key, the store by recorded order, so both see
/// the same order and their funnels can be compared count for count.
fn event_keys(journeys: &Journeys) -> Vec<u128> {
    let table = journeys.table();
    let mut keys = vec![0u128; table.len()];
    for journey in journeys.iter() {
        let mut start = journey.rows.start;
        while start < journey.rows.end {
            let mut end = start + 1;
            while end < journey.rows.end && table.time[end] == table.time[start] {
                end += 1;
            }
            let mut tied: Vec<u128> = (start..end).map(|row| EventKey::from_id("bench", &row.to_string()).0).collect();
            tied.sort_unstable();
            keys[start..end].copy_from_slice(&tied);
            start = end;
        }
    }
    keys
}

fn event_of(table: &EventTable, row: usize, key: u128, identity: &Identity) -> anyhow::Result<Event> {
    let text = |id| {
        let s = table.string(id);
        (!s.is_empty()).then(|| s.to_string())
    };
    let mut event = Event::new(table.string(table.name[row]), Timestamp(table.time[row]), identity.clone());
    event.key = EventKey(key);
    event.channel = text(table.channel[row]);
    event.source = text(table.source[row]);
    event.medium = text(table.medium[row]);
    event.campaign = text(table.campaign[row]);
    event.referrer = text(table.referrer[row]);
    event.page = text(table.page[row]);
    if table.currency[row] != 0 {
        let code = table.string(table.currency[row]);
        let currency = Currency::parse(code).with_context(|| format!("row {row}: currency {code:?}"))?;
        event.revenue = Some(Money::new(table.revenue_minor[row], currency));
    }
    if let Some(Some(json)) = table.properties.as_ref().map(|p| &p[row]) {
        event.properties = serde_json::from_str(json).with_context(|| format!("row {row}: properties"))?;
    }
    Ok(event)
}

/// Customers per furthest step from the customers reaching each step.
fn levels_of(reached: &[u64]) -> BTreeMap<String, u64> {
    let mut levels = BTreeMap::new();
    for (k, &n) in reached.iter().enumerate() {
        let next = reached.get(k + 1).copied().unwrap_or(0);
        if n > next {
            levels.insert((k + 1).to_string(), n - next);
        }
    }
    levels
}

/// Samples `system.processes` on every shard until `stop`, keeping each query's largest peak.
fn sample_memory(shards: Vec<String>, database: String, stop: Arc<AtomicBool>) -> (Vec<Sampled>, u64) {
    let mut seen: BTreeMap<(usize, String), Sampled> = BTreeMap::new();
    let mut samples = 0;
    while !stop.load(Ordering::Relaxed) {
        for (shard, host) in shards.iter().enumerate() {
            // Only the funnel's queries name the database; this one names system.processes too.
            let statement = format!(
                "SELECT query_id, is_initial_query, peak_memory_usage, read_rows, read_bytes, replaceAll(query, '\\n', ' ') \
                 FROM system.processes WHERE query LIKE '%{database}%' AND query NOT LIKE '%system.processes%' FORMAT TSVRaw"
            );
            let Ok(answer) = sql(host, &statement) else { continue };
            for line in answer.lines() {
                let fields: Vec<&str> = line.splitn(6, '\t').collect();
                if fields.len() != 6 {
                    continue;
                }
                let entry = seen.entry((shard, fields[0].to_string())).or_insert_with(|| Sampled { shard, ..Sampled::default() });
                entry.is_initial_query = fields[1] == "1";
                entry.peak_memory_usage = entry.peak_memory_usage.max(fields[2].parse().unwrap_or(0));
                entry.read_rows = entry.read_rows.max(fields[3].parse().unwrap_or(0));
                entry.read_bytes = entry.read_bytes.max(fields[4].parse().unwrap_or(0));
                entry.query = fields[5].to_string();
            }
        }
        samples += 1;
        std::thread::sleep(SAMPLE_EVERY);
    }
    (seen.into_values().collect(), samples)
}

/// ClickHouse's own `windowFunnel` over each shard's events, grouped by customer, with whole
/// seconds for time (18.16 takes 32-bit timestamps): not the engine's exact funnel (ties within
/// a second and the window's end in milliseconds differ), measured for what the aggregate itself
/// costs per customer and per event, the figure a sizing scales.
fn window_funnel_alone(shards: &[String], database: &str, business: i64, runs: u32, memory_bytes: u64) -> anyhow::Result<PerShard> {
    let conditions = engines::STEPS.iter().map(|s| format!("name = '{s}'")).collect::<Vec<_>>().join(", ");
    let names = engines::STEPS.iter().map(|s| format!("'{s}'")).collect::<Vec<_>>().join(", ");
    let statement = format!(
        "SELECT level, count() FROM (SELECT customer, windowFunnel({window})(time, {conditions}) AS level \
         FROM {database}.events_local FINAL WHERE business = {business} AND name IN ({names}) GROUP BY customer) \
         WHERE level > 0 GROUP BY level ORDER BY level FORMAT TabSeparated",
        window = engines::WINDOW_MS / 1000,
    );
    on_every_shard(shards, database, &statement, runs, memory_bytes, "windowFunnel alone")
}

/// Runs `statement` on every shard at once (the wall time of the slowest), `runs` times, then
/// once more sampled for memory, and adds up the customers per furthest step of the shards.
fn on_every_shard(shards: &[String], database: &str, statement: &str, runs: u32, memory_bytes: u64, label: &str) -> anyhow::Result<PerShard> {
    let run_all = || -> anyhow::Result<(f64, BTreeMap<String, u64>)> {
        let started = Instant::now();
        let answers = std::thread::scope(|scope| {
            let handles: Vec<_> = shards.iter().map(|shard| scope.spawn(|| sql_with(shard, statement, &format!("max_memory_usage={memory_bytes}")))).collect();
            handles.into_iter().map(|h| h.join().map_err(|_| anyhow::anyhow!("a shard's thread panicked"))?).collect::<anyhow::Result<Vec<String>>>()
        })?;
        let seconds = started.elapsed().as_secs_f64();
        let mut levels = BTreeMap::new();
        for line in answers.iter().flat_map(|a| a.lines()) {
            let (level, count) = line.split_once('\t').context("a level row")?;
            *levels.entry(level.to_string()).or_insert(0) += count.trim().parse::<u64>().context("a level count")?;
        }
        Ok((seconds, levels))
    };
    let mut seconds = Vec::new();
    let mut levels = BTreeMap::new();
    for run in 0..runs {
        let (s, l) = run_all()?;
        eprintln!("{label} run {run}: {s:.3} s");
        seconds.push(s);
        levels = l;
    }
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (shards, database, stop) = (shards.to_vec(), database.to_string(), stop.clone());
        std::thread::spawn(move || sample_memory(shards, database, stop))
    };
    let sampled_run = run_all();
    stop.store(true, Ordering::Relaxed);
    let (sampled, _) = sampler.join().map_err(|_| anyhow::anyhow!("the memory sampler panicked"))?;
    sampled_run?;
    Ok(PerShard { median_seconds: median(seconds.clone()), seconds, sampled, levels })
}

pub fn bench_clickhouse(out: &Path, scratch: &Path, options: &Options) -> anyhow::Result<()> {
    let runs = options.runs.max(1);
    let mut load_averages = BTreeMap::new();
    load_averages.insert("0 start".to_string(), load_average());

    let prepared = engines::prepared(scratch, options.events)?;
    eprintln!("the engine benchmark's store: {} events, {} customers, {}", prepared.events, prepared.customers, prepared.db.display());

    let database = ClickHouseDatabase::fresh_at(&options.url);
    let location = ClickHouseLocation::parse(database.url())?;
    let mut clickhouse = ClickHouseEvents::open(&location)?;
    clickhouse.set_limits(QueryLimits { seconds: MAX_EXECUTION_SECONDS, memory_bytes: Some(options.memory_bytes) });
    let clickhouse_version = clickhouse.server_version()?;
    eprintln!("ClickHouse {clickhouse_version}: database {} on {} shard(s)", database.name(), database.shards().len());
    let measured = measure(&prepared, &database, &clickhouse, &clickhouse_version, options, runs, &mut load_averages);
    if options.keep {
        eprintln!("kept the database {} (drop it on every shard when done)", database.name());
        std::mem::forget(database);
    }
    let results = measured?;
    let markdown = markdown(&results, options);
    print!("{markdown}");
    write_results(out, "clickhouse", &markdown, &results)
}

fn measure(
    prepared: &engines::Prepared,
    database: &ClickHouseDatabase,
    clickhouse: &ClickHouseEvents,
    clickhouse_version: &str,
    options: &Options,
    runs: u32,
    load_averages: &mut BTreeMap<String, f64>,
) -> anyhow::Result<Results> {
    // The store's events with every column, properties included, so the cluster holds what a
    // business's events are, not only the funnel's columns.
    let (store, business) = engines::open(&prepared.db)?;
    let journeys = Journeys::new(store.load_selected_events(business, EventColumns { properties: true }.into())?);
    let engine_levels = engines::levels(&journeys)?;
    let keys = event_keys(&journeys);
    let table = journeys.table();
    let customer_of: Vec<CustomerId> = {
        let mut customers = vec![CustomerId(0); table.len()];
        for journey in journeys.iter() {
            customers[journey.rows.clone()].fill(journey.customer);
        }
        customers
    };
    // Events reach a live system in the order they happen, not grouped by customer: the batches
    // follow time, so each insert touches one or two monthly partitions, as tracking would.
    let mut order: Vec<u32> = (0..table.len() as u32).collect();
    order.sort_by_key(|&row| (table.time[row as usize], row));
    let identity = Identity::anonymous("bench").context("an anonymous identity")?;

    load_averages.insert("1 before load".to_string(), load_average());
    eprintln!("loading {} events into ClickHouse in batches of {BATCH} ...", order.len());
    let mut append_seconds = 0.0;
    let mut build_seconds = 0.0;
    let mut batch_rates = Vec::new();
    for (n, rows) in order.chunks(BATCH).enumerate() {
        let started = Instant::now();
        let batch = rows
            .iter()
            .map(|&row| Ok((customer_of[row as usize], event_of(table, row as usize, keys[row as usize], &identity)?)))
            .collect::<anyhow::Result<Vec<_>>>()?;
        build_seconds += started.elapsed().as_secs_f64();
        let started = Instant::now();
        let written = clickhouse.append(business, &batch)?;
        let seconds = started.elapsed().as_secs_f64();
        append_seconds += seconds;
        batch_rates.push(written as f64 / seconds);
        if n % 10 == 9 {
            eprintln!("  {} events, {:.0} events/s so far", (n + 1) * BATCH, ((n + 1) * BATCH) as f64 / append_seconds);
        }
    }
    let events = order.len() as u64;
    load_averages.insert("2 after load".to_string(), load_average());
    let counted = clickhouse.count_events(business)?;
    if counted != events {
        bail!("ClickHouse counts {counted} events after the load, {events} were appended");
    }
    let load = Load {
        events,
        batches: batch_rates.len(),
        append_seconds,
        events_per_second: events as f64 / append_seconds,
        slowest_batch_events_per_second: batch_rates.iter().copied().fold(f64::INFINITY, f64::min),
        fastest_batch_events_per_second: batch_rates.iter().copied().fold(0.0, f64::max),
        build_seconds,
        counted,
    };
    eprintln!("loaded {events} events in {append_seconds:.1} s: {:.0} events/s", load.events_per_second);

    let shards = database.shards().to_vec();
    let name = database.name().to_string();
    let after_load = shards.iter().map(|s| parts(s, &name)).collect::<anyhow::Result<Vec<_>>>()?;
    let started = Instant::now();
    for shard in &shards {
        sql(shard, &format!("OPTIMIZE TABLE {name}.events_local FINAL"))?;
    }
    let optimize_seconds = started.elapsed().as_secs_f64();
    let after_optimize = shards.iter().map(|s| parts(s, &name)).collect::<anyhow::Result<Vec<_>>>()?;
    let sum = |f: fn(&Parts) -> u64| after_optimize.iter().map(f).sum::<u64>();
    if sum(|p| p.rows) != events {
        bail!("system.parts holds {} rows after OPTIMIZE FINAL, {events} were appended", sum(|p| p.rows));
    }
    let mut columns: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for shard in &shards {
        let answer = sql(
            shard,
            &format!("SELECT name, data_compressed_bytes, data_uncompressed_bytes FROM system.columns WHERE database = '{name}' AND table = 'events_local' FORMAT TSVRaw"),
        )?;
        for line in answer.lines() {
            let (column, rest) = line.split_once('\t').context("a system.columns row")?;
            let v = numbers(rest);
            let entry = columns.entry(column.to_string()).or_default();
            entry.0 += v.first().copied().unwrap_or(0);
            entry.1 += v.get(1).copied().unwrap_or(0);
        }
    }
    let per_event = |bytes: u64| bytes as f64 / events as f64;
    let storage = Storage {
        bytes_on_disk_per_event: per_event(sum(|p| p.bytes_on_disk)),
        compressed_bytes_per_event: per_event(sum(|p| p.data_compressed_bytes)),
        uncompressed_bytes_per_event: per_event(sum(|p| p.data_uncompressed_bytes)),
        compression_ratio: sum(|p| p.data_uncompressed_bytes) as f64 / sum(|p| p.data_compressed_bytes).max(1) as f64,
        after_load,
        optimize_seconds,
        after_optimize,
        columns,
    };
    eprintln!("on disk after OPTIMIZE FINAL ({optimize_seconds:.1} s): {:.1} bytes per event", storage.bytes_on_disk_per_event);
    load_averages.insert("3 after optimize".to_string(), load_average());

    // The funnel pushed down: a first run apart, then the timed runs, then one untimed run
    // sampled for memory (the sampling's own queries would slow a timed one).
    let spec = FunnelSpec { steps: engines::STEPS.iter().map(|s| vec![EventRule::named(s)]).collect(), window_ms: engines::WINDOW_MS, period: None };
    let pushed = || -> anyhow::Result<(f64, Vec<u64>)> {
        let started = Instant::now();
        match clickhouse.funnel(business, &spec)? {
            FunnelPath::Pushdown(reached) => Ok((started.elapsed().as_secs_f64(), reached)),
            FunnelPath::Stream(reason) => bail!("the benchmark's funnel was not pushed down: {reason}"),
        }
    };
    let (first_seconds, reached) = pushed()?;
    eprintln!("pushdown, first run: {first_seconds:.3} s, reached {reached:?}");
    let mut seconds = Vec::new();
    for run in 0..runs {
        let (s, again) = pushed()?;
        if again != reached {
            bail!("pushdown run {run} reached {again:?}, the first {reached:?}");
        }
        eprintln!("pushdown run {run}: {s:.3} s");
        seconds.push(s);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (shards, name, stop) = (shards.clone(), name.clone(), stop.clone());
        std::thread::spawn(move || sample_memory(shards, name, stop))
    };
    let memory_run = pushed();
    stop.store(true, Ordering::Relaxed);
    let (sampled, samples) = sampler.join().map_err(|_| anyhow::anyhow!("the memory sampler panicked"))?;
    let (memory_run_seconds, _) = memory_run?;
    let names = engines::STEPS.iter().map(|s| format!("'{s}'")).collect::<Vec<_>>().join(", ");
    let step_events_per_shard = shards
        .iter()
        .map(|s| sql(s, &format!("SELECT count() FROM {name}.events_local WHERE name IN ({names})")).map(|a| a.trim().parse().unwrap_or(0)))
        .collect::<anyhow::Result<Vec<u64>>>()?;
    let predicate_pushdown = sql(&shards[0], "SELECT value FROM system.settings WHERE name = 'enable_optimize_predicate_expression'")?.trim().to_string();
    let pushdown = Pushdown {
        predicate_pushdown,
        first_seconds,
        median_seconds: median(seconds.clone()),
        seconds,
        memory_run_seconds,
        sampled,
        samples,
        levels: levels_of(&reached),
        step_events_per_shard,
    };
    let window_funnel_alone = window_funnel_alone(&shards, &name, business.0, runs, options.memory_bytes)?;
    let customers_per_shard = shards
        .iter()
        .map(|s| sql(s, &format!("SELECT uniqExact(customer) FROM {name}.events_local")).map(|a| a.trim().parse().unwrap_or(0)))
        .collect::<anyhow::Result<Vec<u64>>>()?;
    load_averages.insert("4 after pushdown".to_string(), load_average());

    eprintln!("the embedded engine and chDB (bench/clickhouse_sides.py) ...");
    let exe = std::env::current_exe()?;
    let trailmap = exe.with_file_name("trailmap");
    let output = Command::new(&options.python)
        .arg("bench/clickhouse_sides.py")
        .arg(&prepared.db)
        .arg(&prepared.tsv)
        .arg(options.events.to_string())
        .arg(runs.to_string())
        .env("TRAILMAP_BENCH", &exe)
        .env("TRAILMAP", &trailmap)
        .env("BENCH_SCRATCH", prepared.db.parent().context("the store's folder")?)
        .stderr(std::process::Stdio::inherit())
        .output()
        .with_context(|| format!("running {}", options.python.display()))?;
    if !output.status.success() {
        bail!("bench/clickhouse_sides.py failed ({})", output.status);
    }
    let sides: Sides = serde_json::from_slice(&output.stdout).with_context(|| format!("its output: {}", String::from_utf8_lossy(&output.stdout)))?;
    load_averages.insert("5 end".to_string(), load_average());

    let mut levels = sides.levels.clone();
    levels.insert("clickhouse_pushdown".to_string(), pushdown.levels.clone());
    levels.insert("trailmap_engine".to_string(), engine_levels.clone());
    for (side, counted) in &levels {
        eprintln!("customers per furthest step, {side}: {counted:?}");
    }
    if levels.values().any(|l| *l != engine_levels) || levels.len() != 6 {
        bail!("MISMATCH: the customers per furthest step differ between the sides: {levels:?}");
    }

    let (pushdown_median, trailmap_warm, chdb_warm) = (pushdown.median_seconds, median(sides.warm.trailmap.seconds.clone()), median(sides.warm.chdb.seconds.clone()));
    let trailmap_cold = median(sides.cold.trailmap_cli.clone());
    let medians = Medians {
        clickhouse_pushdown: pushdown_median,
        trailmap_warm_http: trailmap_warm,
        chdb_warm_mergetree: chdb_warm,
        trailmap_cold_cli: trailmap_cold,
        chdb_cold_parquet: median(sides.cold.chdb.clone()),
        pushdown_over_trailmap_warm: pushdown_median / trailmap_warm,
        pushdown_over_chdb_warm: pushdown_median / chdb_warm,
        chdb_warm_over_trailmap_warm: chdb_warm / trailmap_warm,
        pushdown_over_trailmap_cold: pushdown_median / trailmap_cold,
    };
    Ok(Results {
        machine: machine(),
        clickhouse_version: clickhouse_version.to_string(),
        shards: shards.len(),
        events,
        customers: journeys.len(),
        steps: engines::STEPS.iter().map(|s| s.to_string()).collect(),
        window_ms: engines::WINDOW_MS,
        runs,
        memory_bytes: options.memory_bytes,
        load_averages: load_averages.clone(),
        load,
        storage,
        pushdown,
        window_funnel_alone,
        customers_per_shard,
        sides,
        medians,
        levels,
    })
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / 1024.0 / 1024.0
}

fn markdown(r: &Results, options: &Options) -> String {
    let every = |xs: &[f64]| xs.iter().map(|x| format!("{x:.3}")).collect::<Vec<_>>().join(", ");
    let m = &r.medians;
    let s = &r.storage;
    let shard_rows = |parts: &[Parts]| {
        parts
            .iter()
            .enumerate()
            .map(|(k, p)| {
                format!(
                    "| {} | {} | {} | {} | {:.1} | {:.1} | {:.1} | {:.2} |\n",
                    k + 1,
                    p.rows,
                    p.parts,
                    p.partitions,
                    mib(p.bytes_on_disk),
                    mib(p.data_compressed_bytes),
                    mib(p.data_uncompressed_bytes),
                    mib(p.primary_key_bytes_in_memory)
                )
            })
            .collect::<String>()
    };
    let mut columns: Vec<(&String, &(u64, u64))> = s.columns.iter().collect();
    columns.sort_by_key(|(_, (compressed, _))| std::cmp::Reverse(*compressed));
    let column_rows: String = columns
        .iter()
        .map(|(name, (c, u))| format!("| {name} | {:.2} | {:.2} | {:.1}x |\n", *c as f64 / r.events as f64, *u as f64 / r.events as f64, *u as f64 / (*c).max(1) as f64))
        .collect();
    let sampled: String = r
        .pushdown
        .sampled
        .iter()
        .map(|q| {
            // Trailmap sends each shard's node the query over its own customers, and the first
            // node one more over the customers who absorbed others in a merge; the secondary
            // queries are what those fan out (the merges read through the Distributed table,
            // the merged customers' events).
            let kind = match (q.is_initial_query, q.query.contains("events_local FINAL")) {
                (true, true) => "the shard's own customers, over its `events_local`",
                (true, false) => "the merged customers, over the Distributed table",
                (false, true) => "secondary: the shard's rows of the merged customers",
                (false, false) => "secondary: the merges read through the Distributed table",
            };
            format!(
                "| {} | {} | {:.0} | {} | {:.0} |\n",
                q.shard + 1,
                kind,
                mib(q.peak_memory_usage.max(0) as u64),
                q.read_rows,
                mib(q.read_bytes)
            )
        })
        .collect();
    let on_shard: String =
        r.pushdown.sampled.iter().find(|q| q.is_initial_query && q.query.contains("events_local FINAL")).map(|q| q.query.chars().take(2500).collect()).unwrap_or_default();
    let shard_table = |sampled: &[Sampled]| -> String {
        sampled.iter().map(|q| format!("| {} | {:.0} | {} | {:.0} |\n", q.shard + 1, mib(q.peak_memory_usage.max(0) as u64), q.read_rows, mib(q.read_bytes))).collect()
    };
    let alone_sampled = shard_table(&r.window_funnel_alone.sampled);
    let alone_peak: i64 = r.window_funnel_alone.sampled.iter().map(|q| q.peak_memory_usage).max().unwrap_or(0);
    let customers: u64 = r.customers_per_shard.iter().copied().max().unwrap_or(0);
    let step_events_max: u64 = r.pushdown.step_events_per_shard.iter().copied().max().unwrap_or(0);
    let alone_levels = r.window_funnel_alone.levels.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join(", ");
    let exact_levels = r.pushdown.levels.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join(", ");
    let levels = &r.levels;
    let mut count_rows = String::new();
    for (k, step) in r.steps.iter().enumerate() {
        let key = (k + 1).to_string();
        let get = |side: &str| levels.get(side).and_then(|l| l.get(&key)).copied().unwrap_or(0);
        count_rows.push_str(&format!(
            "| {} {step} | {} | {} | {} | {} | {} | {} |\n",
            k + 1,
            get("clickhouse_pushdown"),
            get("trailmap_engine"),
            get("trailmap_cli"),
            get("trailmap_http"),
            get("chdb_mergetree"),
            get("chdb_parquet")
        ));
    }
    let loads = r.load_averages.iter().map(|(k, v)| format!("{} {v:.2}", &k[2..])).collect::<Vec<_>>().join(", ");
    let step_events: u64 = r.pushdown.step_events_per_shard.iter().sum();
    let step_split = r.pushdown.step_events_per_shard.iter().map(u64::to_string).collect::<Vec<_>>().join(" and ");
    let filter = format!(
        "The steps' names hold {step_events} events ({step_split} per shard); each query tests the steps in its innermost \
         `WHERE` (18.16 has `enable_optimize_predicate_expression` = {}, so an outer filter would not reach the rows read).",
        r.pushdown.predicate_pushdown
    );
    format!(
        "# ClickHouse benchmark: loading into the two-shard rig, and the funnel pushed down beside the embedded engine and chDB\n\n\
         {machine}- ClickHouse {version} (Debian's package), {shards} shards as two local server processes on this machine \
         (`.ci/clickhouse.sh`); chDB {chdb}\n\
         - load average (1 min): {loads}\n\n\
         Reproduce: `bench/run_clickhouse.sh {events_arg} {runs}` (starts the rig on a free base port, builds, runs \
         `trailmap-bench clickhouse --events {events_arg} --runs {runs}` against it, stops it), or \
         `trailmap-bench clickhouse --url clickhouse://H:P,H:P2/default?cluster=trailmap --events {events_arg} --runs {runs}` \
         against a running cluster (a fresh database is made on every shard and dropped after).\n\n\
         **Not a production figure.** ClickHouse 18.16 (2018, the only version Debian ships) as two processes on one \
         2-core machine shared with other builds: both shards, the benchmark, the embedded engine and chDB compete for the \
         same two cores and one disk, and there is no network between the shards. What it shows is what Trailmap's \
         ClickHouse backend costs per event and whether its pushed-down funnel gives the engine's counts at this size.\n\n\
         ## The log\n\n\
         The engine benchmark's seeded store (`bench/run_engines.sh`, same generator and seed): {events} events, {customers} \
         customers after identity resolution, one year of a shop's traffic. Every column is written, properties included; each \
         event's key is a 128-bit hash (as real keys are), the keys of one customer's events at the same millisecond handed out \
         in ascending order along the store's recorded order, since the backend breaks such ties by key.\n\n\
         ## Load\n\n\
         `ClickHouseEvents::append` in {batches} batches of {batch} events, one synchronous distributed insert each \
         (`insert_distributed_sync=1`: a batch returns once every row is on its shard), through the first shard's HTTP \
         interface, RowBinary. Batches follow the events' time (the order a live system receives them), so each insert \
         touches one or two monthly partitions.\n\n\
         | | value |\n|---|---|\n\
         | time inside `append`, all batches | {append:.1} s |\n\
         | **events per second** (whole load) | **{rate:.0}** |\n\
         | slowest / fastest batch | {slow:.0} / {fast:.0} events/s |\n\
         | building the `Event`s from the store's rows (not in the figure above) | {build:.1} s |\n\
         | `count()` with FINAL after the load | {counted} |\n\n\
         ## On disk\n\n\
         `system.parts` (active parts of `events_local`), summed over both shards, after `OPTIMIZE TABLE events_local FINAL` \
         on each shard ({optimize:.1} s): **{disk:.1} bytes per event on disk** (`bytes_on_disk`: column files, marks, \
         primary index, checksums), {compressed:.1} bytes compressed and {uncompressed:.1} bytes uncompressed per event \
         (column data only), a compression ratio of {ratio:.1}x with the server's default codec (LZ4 on 18.16).\n\n\
         | shard | rows | parts | partitions | on disk (MiB) | compressed (MiB) | uncompressed (MiB) | primary index in memory (MiB) |\n\
         |---|---|---|---|---|---|---|---|\n{optimized}\n\
         Right after the load, before the forced merge (background merges had run meanwhile):\n\n\
         | shard | rows | parts | partitions | on disk (MiB) | compressed (MiB) | uncompressed (MiB) | primary index in memory (MiB) |\n\
         |---|---|---|---|---|---|---|---|\n{loaded}\n\
         Per column, summed over the shards (`system.columns`), bytes per event:\n\n\
         | column | compressed | uncompressed | ratio |\n|---|---|---|---|\n{column_rows}\n\
         ## The funnel, three ways in the same run\n\n\
         The engine benchmark's funnel: ordered, {nsteps} steps ({steps}), a {window_days}-day window from step 1, boundary \
         included. Medians of {runs} runs.\n\n\
         | side | what is timed | median (s) | every run (s) |\n|---|---|---|---|\n\
         | **ClickHouse rig** | `ClickHouseEvents::funnel` (windowFunnelArray pushed down, the answer read back), a running cluster | **{push:.3}** | {push_runs} (first run {push_first:.3}) |\n\
         | Trailmap, warm | `trailmap serve` over HTTP, journeys kept (the engine benchmark's warm) | **{tw:.4}** | {tw_runs} |\n\
         | chDB, warm | MergeTree table in a kept session (the engine benchmark's warm) | **{cw:.3}** | {cw_runs} |\n\
         | Trailmap, cold | `trailmap funnel` in a fresh process over the store on disk | {tc:.3} | {tc_runs} |\n\
         | chDB, cold | a fresh Python importing chDB, over Parquet | {cc:.3} | {cc_runs} |\n\n\
         Ratios of medians: the rig's pushdown takes **{r_tw:.1}x** the embedded engine's warm answer and **{r_cw:.2}x** chDB's \
         warm query; chDB warm takes {r_ctw:.1}x Trailmap warm; the pushdown against Trailmap's cold process: {r_tc:.2}x. \
         Beside them: the server's first request (loading and grouping the business's events) {first_request:.2} s, its \
         resident size {rss:.0} MiB; chDB's load of its table from Parquet {chdb_load:.2} s.\n\n\
         Customers per furthest step, every side:\n\n\
         | step | ClickHouse rig | Trailmap engine | `trailmap funnel` | `trailmap serve` | chDB MergeTree | chDB Parquet |\n\
         |---|---|---|---|---|---|---|\n{count_rows}\n\
         Equal on every side: **yes** (the run fails otherwise).\n\n\
         ## What the pushed-down funnel does across the shards\n\n\
         The funnel's queries ran with `max_memory_usage` = {memory_gb:.0} GB (the rig's profile allows 2 GB). Sampled from \
         `system.processes` on each shard every {sample_ms} ms during one untimed run ({memory_run:.2} s, {samples} samples), \
         so peaks are lower bounds:\n\n\
         | shard | query | peak memory (MiB) | rows read | MiB read |\n|---|---|---|---|---|\n{sampled}\n\
         Each shard's node counts the customers whose events are all on it over its own `events_local` (the \
         per-customer work where the rows are) and answers a row per furthest step; the first node also counts the \
         customers who absorbed others in a merge over the Distributed table (none here: the benchmark's events are written \
         under the customers identity resolution gave them, so no merge is applied at read time); Trailmap adds the \
         answers up. {filter} A shard's node ran (first 2,500 characters):\n\n\
         ```sql\n{on_shard}\n```\n\n\
         **ClickHouse's `windowFunnel` alone** on each shard (measured, for what the aggregate itself costs): \
         `windowFunnel(604800)(time, ...)` grouped by customer over each shard's `events_local` with `FINAL`, the steps' \
         names only, time in whole seconds (18.16 takes 32-bit timestamps), all shards at once. Not the engine's exact \
         funnel: events within one second are not ordered by milliseconds and key, so its counts can differ from the exact \
         ones; here they are {alone_levels} against {exact_levels}, {alone_equal}. Median {wa:.3} s over {runs} runs ({wa_runs}); the shards hold \
         {customers_split} customers and {step_split} events of the steps' names; per shard:\n\n\
         | shard | peak memory (MiB) | rows read | MiB read |\n|---|---|---|---|\n{alone_sampled}\n\
         That is {alone_per_customer:.0} bytes per customer, or {alone_per_event:.0} bytes per event of the steps' names, on the \
         larger shard.\n\n\
         ## Reading it\n\n\
         - Every part of this run shared the machine's 2 cores: the two servers, this process, and while the embedded \
           engine and chDB ran, the idle servers. Absolute times are slow for ClickHouse; the ratios are within one run.\n\
         - The pushdown's time is the cluster's and the transfer's, with the HTTP answer a few lines; the embedded engine's \
           warm answer is over journeys it already holds in memory.\n\
         - Sizing for a real cluster, and what would change there, is in `docs/clickhouse.md`.\n",
        machine = machine_lines(&r.machine),
        version = r.clickhouse_version,
        shards = r.shards,
        chdb = r.sides.chdb_version,
        events_arg = options.events,
        runs = r.runs,
        events = r.events,
        customers = r.customers,
        batches = r.load.batches,
        batch = BATCH,
        append = r.load.append_seconds,
        rate = r.load.events_per_second,
        slow = r.load.slowest_batch_events_per_second,
        fast = r.load.fastest_batch_events_per_second,
        build = r.load.build_seconds,
        counted = r.load.counted,
        optimize = s.optimize_seconds,
        disk = s.bytes_on_disk_per_event,
        compressed = s.compressed_bytes_per_event,
        uncompressed = s.uncompressed_bytes_per_event,
        ratio = s.compression_ratio,
        optimized = shard_rows(&s.after_optimize),
        loaded = shard_rows(&s.after_load),
        nsteps = r.steps.len(),
        steps = r.steps.join(" → "),
        window_days = r.window_ms / 86_400_000,
        push = m.clickhouse_pushdown,
        push_runs = every(&r.pushdown.seconds),
        push_first = r.pushdown.first_seconds,
        tw = m.trailmap_warm_http,
        tw_runs = r.sides.warm.trailmap.seconds.iter().map(|x| format!("{x:.4}")).collect::<Vec<_>>().join(", "),
        cw = m.chdb_warm_mergetree,
        cw_runs = every(&r.sides.warm.chdb.seconds),
        tc = m.trailmap_cold_cli,
        tc_runs = every(&r.sides.cold.trailmap_cli),
        cc = m.chdb_cold_parquet,
        cc_runs = every(&r.sides.cold.chdb),
        r_tw = m.pushdown_over_trailmap_warm,
        r_cw = m.pushdown_over_chdb_warm,
        r_ctw = m.chdb_warm_over_trailmap_warm,
        r_tc = m.pushdown_over_trailmap_cold,
        first_request = r.sides.warm.trailmap.first_request_seconds,
        rss = r.sides.warm.trailmap.server_rss_mib,
        chdb_load = r.sides.warm.chdb.load_seconds,
        sample_ms = SAMPLE_EVERY.as_millis(),
        memory_gb = r.memory_bytes as f64 / 1e9,
        memory_run = r.pushdown.memory_run_seconds,
        samples = r.pushdown.samples,
        on_shard = on_shard,
        alone_equal = if r.window_funnel_alone.levels == r.pushdown.levels { "equal" } else { "not equal" },
        wa = r.window_funnel_alone.median_seconds,
        wa_runs = every(&r.window_funnel_alone.seconds),
        customers_split = r.customers_per_shard.iter().map(u64::to_string).collect::<Vec<_>>().join(" and "),
        alone_per_customer = alone_peak as f64 / customers.max(1) as f64,
        alone_per_event = alone_peak as f64 / step_events_max.max(1) as f64,
        filter = filter,
    )
}
