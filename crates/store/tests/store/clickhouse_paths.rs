//! Paths pushed down to ClickHouse against a real cluster (the two-shard rig
//! TRAILMAP_TEST_CLICKHOUSE names; skipped without it): the sessions the SQL makes, counted by the
//! engine's own `paths_of_sessions`, give the engine's paths over the rows a load returns, report
//! for report with every customer list, by event and by page, with start and end cuts: on
//! edge-case fixtures (a gap of exactly the session gap and one a millisecond longer, events at one
//! millisecond, repeats, a customer with one event, merged customers, a retried copy), on a seeded
//! log merged across shards, and on the demo.

use rand::{Rng, SeedableRng};
use trailmap_analytics::{Journeys, PathItem, PathsOptions, PathsReport, paths_of_sessions};
use trailmap_model::*;
use super::clickhouse::{cluster, demo_logs, fixture};
use trailmap_store::{ClickHouseEvents, SessionItems};

const B: BusinessId = BusinessId(21);

/// The options compared: by event and by page, each plain, cut at a start, cut at an end, with a
/// short gap and few steps.
fn variants() -> Vec<PathsOptions> {
    let mut all = Vec::new();
    for by in [PathItem::Event, PathItem::Page] {
        let plain = PathsOptions { by, top_edges: 500, top_paths: 50, ..PathsOptions::default() };
        all.push(plain.clone());
        all.push(PathsOptions { start: Some("page_view".into()), ..plain.clone() });
        all.push(PathsOptions { end: Some("purchase".into()), conversion: "purchase".into(), ..plain.clone() });
        all.push(PathsOptions { session_gap_ms: 5 * 60_000, max_steps: 3, top_edges: 7, top_paths: 3, ..plain });
    }
    all
}

/// The pushed-down report equals the engine's over the rows a load returns, for every variant;
/// the plain report by event is returned.
fn equal_reports(events: &ClickHouseEvents, b: BusinessId) -> PathsReport {
    let table = events.load_selected_events(b, EventSelection::ALL_BUT_PROPERTIES).unwrap();
    let journeys = Journeys::new(table);
    let mut first = None;
    for options in variants() {
        let items = match options.by {
            PathItem::Event => SessionItems::Event,
            PathItem::Page => SessionItems::Page,
        };
        let sessions = events.path_sessions(b, items, options.session_gap_ms).unwrap();
        let pushed = paths_of_sessions(sessions, &options).unwrap();
        assert_eq!(pushed, trailmap_analytics::paths(&journeys, &options).unwrap(), "{options:?}");
        first.get_or_insert(pushed);
    }
    first.unwrap()
}

#[test]
fn the_paths_edge_cases_give_the_engines_report() {
    let Some((_db, events)) = cluster("clickhouse paths edges") else { return };
    let log = fixture(
        "
        # Exactly 30 minutes stays in the session; 30 minutes and a millisecond starts another.
        customer gaps
          2024-01-01 10:00:00 page_view page=/
          +30m product_view page=/p/1
          +30m1ms page_view page=/cart
          +5m purchase
        # Repeats collapse, at one millisecond too; by page, two pages of one event do not.
        customer repeats
          2024-01-01 10:00:00 page_view page=/
          +0ms page_view page=/
          +0ms page_view page=/about
          +1m page_view page=/
          +1m purchase
          +0ms purchase
        # Events at one millisecond, in the order written (the key's).
        customer ties
          2024-01-02 10:00:00 add_to_cart
          +0ms page_view page=/cart
          +0ms purchase
        # One event.
        customer single
          2024-01-03 10:00:00 page_view page=/
        # Two customers who are one person (merged below), their events interleaved.
        customer left
          2024-01-04 10:00:00 page_view page=/
          +10m add_to_cart
        customer right
          2024-01-04 10:05:00 product_view page=/p/2
          +10m purchase
        ",
    );
    events.append(B, &log).unwrap();
    events.append(B, &log[..4]).unwrap();
    events.merge_customers(B, &[CustomerId(6)], CustomerId(5)).unwrap();
    let report = equal_reports(&events, B);
    // gaps: 2 sessions; repeats, ties, single: 1 each; left and right: 1 together.
    assert_eq!((report.paths, report.customers), (6, 5), "{report:?}");
    // No events: no paths, the same both ways.
    assert_eq!(equal_reports(&events, BusinessId(22)).paths, 0);
}

#[test]
fn a_seeded_log_merged_across_shards_gives_the_engines_paths() {
    let Some((_db, events)) = cluster("clickhouse paths seeded") else { return };
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(23);
    let mut at = 1_700_000_000_000i64;
    let names = ["page_view", "product_view", "add_to_cart", "purchase", "page_view"];
    let pages = ["/", "/cart", "/p/1", "/p/2"];
    let log: Vec<(CustomerId, Event)> = (0..20_000)
        .map(|_| {
            // Mostly seconds to minutes apart, a tenth at the previous millisecond, some an hour.
            at += match rng.random_range(0..20) {
                0 | 1 => 0,
                2 => 3_600_000,
                _ => rng.random_range(1..600_000),
            };
            let person = rng.random_range(0..300i64);
            let who = CustomerId(10 * person + 1 + rng.random_range(0..3));
            let name = names[rng.random_range(0..names.len())];
            let mut event = Event::new(name, Timestamp(at), Identity::anonymous("unused").unwrap());
            event.key = EventKey(rng.random::<u128>());
            event.page = (name == "page_view" && rng.random_bool(0.8)).then(|| pages[rng.random_range(0..pages.len())].to_string());
            (who, event)
        })
        .collect();
    events.append(B, &log).unwrap();
    equal_reports(&events, B);
    for person in 0..300 {
        events.merge_customers(B, &[CustomerId(10 * person + 3)], CustomerId(10 * person + 2)).unwrap();
        events.merge_customers(B, &[CustomerId(10 * person + 2)], CustomerId(10 * person + 1)).unwrap();
    }
    let report = equal_reports(&events, B);
    assert!(report.customers > 250 && report.paths > 1000 && report.edges.len() > 10, "{} {} {}", report.customers, report.paths, report.edges.len());
}

#[test]
fn the_demo_gives_the_engines_paths() {
    let Some((_db, events)) = cluster("clickhouse paths demo") else { return };
    for (business, log) in demo_logs(500, 9) {
        let b = BusinessId(200 + business.id.0);
        events.append(b, &log).unwrap();
        let report = equal_reports(&events, b);
        assert!(report.paths > 100, "{}: {} paths", business.name, report.paths);
    }
}
