//! `trailmap-bench live`: answers right after a write (issue 19). The demo store at
//! `--customers` (20,000: its coffee shop has about 8,000 customers, 183,500 events and 150,000
//! orders), one app writing as the server's writer thread does and one reading with the
//! server's shared cache of businesses' data. For each answer the pages give (the dashboard,
//! insights, a map's live numbers and its cards' evidence, the customer value page, a funnel), each round writes one
//! tracking event through the app as the tracking API does (a page view converted from a Segment
//! message, one group commit), then times the answer once (cold: the first after the write, which
//! brings the kept data up to date) and again (warm: nothing written since). Two ways, same run:
//! the kept data brought up to date (this branch), and the data read afresh for every answer (the
//! cache disabled: what every answer after a write cost before, less the per-row queries that
//! item 1 removed).

use crate::{Machine, machine, machine_lines, write_results};
use anyhow::Context;
use serde::Serialize;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;
use trailmap_app::journeys_cache::JourneysCache;
use trailmap_app::{App, DemoOptions, MapNumbersRequest, TrackingWrite};
use trailmap_ingest::enrich::Enricher;
use trailmap_ingest::segment::{MessageContext, convert};
use trailmap_model::{Business, Currency, MapId, Timestamp};

/// The targets after a write, in milliseconds.
const TARGETS: [(&str, f64); 6] =
    [("dashboard", 150.0), ("insights", 500.0), ("map numbers", 200.0), ("map evidence", 200.0), ("customer value", 200.0), ("funnel", 200.0)];

#[derive(Debug, Serialize)]
struct Timing {
    answer: String,
    way: String,
    cold_median_ms: f64,
    cold_p99_ms: f64,
    warm_median_ms: f64,
    warm_p99_ms: f64,
    target_ms: f64,
}

#[derive(Debug, Serialize)]
struct LiveResults {
    machine: Machine,
    customers: u64,
    business: String,
    events: u64,
    orders: u64,
    business_customers: u64,
    rounds: u32,
    load_average_before: String,
    load_average_after: String,
    timings: Vec<Timing>,
}

/// One tracking request: a page view by a new visitor, converted as the tracking API converts it.
fn page_view(business: &Business, round: u32, time: Timestamp) -> anyhow::Result<TrackingWrite> {
    let at = time.to_rfc3339();
    let message = serde_json::json!({"type": "page", "anonymousId": format!("bench-visitor-{round}"), "timestamp": at,
        "messageId": format!("bench-{round}-{}", time.0), "properties": {"path": "/menu", "url": "https://example.com/menu"}});
    let context = MessageContext { received_at: time, batch_sent_at: None, currency: Currency::USD };
    let converted = convert(&message, None, &context, &mut Enricher::new()).map_err(|e| anyhow::anyhow!("convert: {e:?}"))?;
    Ok(TrackingWrite { business: Some(business.id), key: None, messages: vec![converted], drops: Vec::new() })
}

fn percentile(mut xs: Vec<f64>, q: f64) -> f64 {
    xs.sort_by(f64::total_cmp);
    let rank = ((xs.len() as f64) * q).ceil() as usize;
    xs[rank.clamp(1, xs.len()) - 1]
}

pub(crate) fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg").map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" ")).unwrap_or_default()
}

pub fn bench_live(out: &Path, scratch: &Path, customers: u64, rounds: u32, business_name: &str) -> anyhow::Result<()> {
    let db = scratch.join(format!("live-{customers}.sqlite"));
    if !db.exists() {
        eprintln!("generating the demo with {customers} customers into {} ...", db.display());
        let started = Instant::now();
        App::open(&db)?.demo(&DemoOptions { customers, seed: 42 })?;
        eprintln!("generated in {:.1} s", started.elapsed().as_secs_f64());
    }
    let mut writer = App::open(&db)?;
    let cache = Arc::new(JourneysCache::default());
    let reader = App::open(&db)?.with_journeys_cache(cache.clone());
    let business = reader.business(Some(business_name))?;
    let summary = reader.summary(&business)?;
    let today = chrono::Utc::now().date_naive();
    let period = reader.default_period(&business, today)?;
    let map: MapId = match reader.journey_maps(&business, today)?.first() {
        Some(map) => map.id,
        None => writer.create_map(&business, "Bench", trailmap_app::MapTemplate::CoffeeShop, "bench")?.id,
    };
    // Writes land on the last day with data, as a shop's live traffic does.
    let write_time = Timestamp::from_date(period.to).0 + 12 * 3_600_000;
    let clv_request = reader.clv_request();
    let funnel = App::funnel_request(vec!["page_view".into(), "purchase".into()]);
    let insights = trailmap_app::insights::InsightsRequest { period: None, today };
    let answers: Vec<(&str, Box<dyn Fn(&App) -> anyhow::Result<()>>)> = vec![
        ("dashboard", Box::new(|app: &App| {
            let period = app.default_period(&business, today)?;
            app.dashboard(&business, period)?;
            Ok(())
        })),
        ("insights", Box::new(|app: &App| app.insights(&business, &insights).map(|_| ()).map_err(Into::into))),
        ("map numbers", Box::new(|app: &App| app.map_numbers(&business, map, &MapNumbersRequest::default()).map(|_| ()).map_err(Into::into))),
        // The rest of the map editor's live answer: every card's evidence (quotes, scores,
        // metrics, the answering changes' verdicts) for the same period, as the page asks it.
        ("map evidence", Box::new(|app: &App| {
            let shown = app.journey_map(&business, map)?.map;
            app.map_evidence(&business, &shown, &MapNumbersRequest::default())?;
            Ok(())
        })),
        ("customer value", Box::new(|app: &App| app.clv(&business, &clv_request).map(|_| ()).map_err(Into::into))),
        ("funnel", Box::new(|app: &App| app.funnel(&business, &funnel).map(|_| ()).map_err(Into::into))),
    ];
    let load_average_before = load_average();
    let mut timings = Vec::new();
    let mut round_number = 0;
    for (way, disabled) in [("kept data brought up to date", false), ("read afresh for every answer (before)", true)] {
        cache.set_disabled(disabled);
        for (name, answer) in &answers {
            // Once untimed, so both ways start from data already kept.
            answer(&reader)?;
            let (mut cold, mut warm) = (Vec::new(), Vec::new());
            for _ in 0..rounds {
                round_number += 1;
                writer.write_tracking(&[page_view(&business, round_number, Timestamp(write_time + i64::from(round_number)))?], Timestamp(write_time))?;
                let started = Instant::now();
                answer(&reader).with_context(|| format!("{name} after a write"))?;
                cold.push(started.elapsed().as_secs_f64() * 1000.0);
                let started = Instant::now();
                answer(&reader).with_context(|| format!("{name} again"))?;
                warm.push(started.elapsed().as_secs_f64() * 1000.0);
            }
            let target = TARGETS.iter().find(|(n, _)| n == name).map_or(0.0, |t| t.1);
            let timing = Timing {
                answer: name.to_string(),
                way: way.to_string(),
                cold_median_ms: percentile(cold.clone(), 0.5),
                cold_p99_ms: percentile(cold, 0.99),
                warm_median_ms: percentile(warm.clone(), 0.5),
                warm_p99_ms: percentile(warm, 0.99),
                target_ms: target,
            };
            eprintln!("{way}: {name}: cold median {:.1} ms, p99 {:.1} ms; warm median {:.1} ms", timing.cold_median_ms, timing.cold_p99_ms, timing.warm_median_ms);
            timings.push(timing);
        }
    }
    let results = LiveResults {
        machine: machine(),
        customers,
        business: business.name.clone(),
        events: summary.events,
        orders: summary.orders,
        business_customers: summary.customers,
        rounds,
        load_average_before,
        load_average_after: load_average(),
        timings,
    };
    let mut table = String::from(
        "| answer | way | after a write: median ms | p99 ms | again (warm): median ms | p99 ms | target ms | median / target |\n|---|---|---|---|---|---|---|---|\n",
    );
    for t in &results.timings {
        table.push_str(&format!(
            "| {} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.0} | {:.2} |\n",
            t.answer,
            t.way,
            t.cold_median_ms,
            t.cold_p99_ms,
            t.warm_median_ms,
            t.warm_p99_ms,
            t.target_ms,
            t.cold_median_ms / t.target_ms
        ));
    }
    let markdown = format!(
        "# Answers after a write (issue 19)\n\n{}\n\
         `trailmap-bench live --customers {customers} --rounds {rounds}`: the demo at {customers} customers; \
         {} has {} customers, {} events and {} orders. Each round writes one page view through \
         `App::write_tracking` (converted from a Segment message as the tracking API does), then \
         times the answer (cold: the first after the write) and the same answer again (warm). \
         Through the app, as the server's read apps call it (a shared cache of businesses' data), \
         without HTTP and without the server's answer cache. Load average {} before, {} after.\n\n{table}",
        machine_lines(&results.machine),
        results.business,
        results.business_customers,
        results.events,
        results.orders,
        results.load_average_before,
        results.load_average_after,
    );
    print!("{markdown}");
    write_results(out, &format!("live-{}", results.machine.date), &markdown, &results)
}
