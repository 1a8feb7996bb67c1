//! Analyses pushed down to ClickHouse (`--pushdown` with `--events clickhouse://...`, a database
//! per test on the two-shard rig `TRAILMAP_TEST_CLICKHOUSE` names; skipped without it) answer as
//! the engine does: the pushed-down retention's JSON equals the streamed one's (the engine over
//! the events read from ClickHouse) and the embedded store's, but for the fields that say which
//! path each took, on the demo and on fixture journeys made for the edge cases (period boundaries
//! to the millisecond, purchases at one millisecond, a customer with one purchase, customers
//! merged after their events were written, months without a cohort).

use super::clickhouse::written_both_ways;
use super::{json, text, trailmap, with_events};
use std::path::Path;
use trailmap_testkit::clickhouse::ClickHouseDatabase;

/// The answer without the fields that say which path it took, and those fields.
fn without_path(mut answer: serde_json::Value) -> (serde_json::Value, serde_json::Value, serde_json::Value) {
    let path = answer["path"].take();
    let note = answer["path_note"].take();
    (answer, path, note)
}

/// An analysis (`args`, a command and its options) three ways: pushed down and streamed on the
/// store with its events in ClickHouse, and asked to be pushed down on the embedded store (which
/// says why it was not). All three must be equal but for their path; the pushed-down answer is
/// returned.
fn three_ways(url: &str, split: &Path, embedded: &Path, args: &[&str]) -> serde_json::Value {
    let pushdown = [args, &["--pushdown"]].concat();
    let (pushed, pushed_path, pushed_note) = without_path(with_events(url, || json(split, &pushdown)));
    let (streamed, streamed_path, streamed_note) = without_path(with_events(url, || json(split, args)));
    let (engine, engine_path, engine_note) = without_path(json(embedded, &pushdown));
    assert_eq!((pushed_path.as_str(), streamed_path.as_str(), engine_path.as_str()), (Some("pushed_down"), Some("streamed"), Some("embedded")));
    assert!(pushed_note.is_null() && streamed_note.is_null(), "{pushed_note} {streamed_note}");
    assert!(engine_note.as_str().unwrap().contains("not in ClickHouse"), "{engine_note}");
    assert_eq!(pushed, streamed, "{args:?}: pushed down against streamed");
    assert_eq!(pushed, engine, "{args:?}: pushed down against the embedded store");
    pushed
}

/// Retention by `period` three ways.
fn retention(url: &str, split: &Path, embedded: &Path, period: &str) -> serde_json::Value {
    three_ways(url, split, embedded, &["retention", "--period", period])
}

#[test]
fn retention_pushed_down_on_the_demo_equals_the_engines() {
    let Some(database) = ClickHouseDatabase::fresh("retention_pushed_down_on_the_demo_equals_the_engines") else { return };
    let dir = tempfile::tempdir().unwrap();
    let (split, embedded) = written_both_ways(database.url(), dir.path(), &["demo", "--customers", "300", "--no-serve"]);
    for business in ["Thread & Needle", "Bean There Coffee"] {
        for period in ["week", "month"] {
            let answer = three_ways(database.url(), &split, &embedded, &["--business", business, "retention", "--period", period]);
            assert!(answer["purchasers"].as_u64().unwrap() > 30, "{business}: {answer}");
            assert!(answer["repeat_customers"].as_u64().unwrap() > 0, "{business}: {answer}");
        }
    }
    // The table says which path it took.
    let out = with_events(database.url(), || trailmap(&split, &["--business", "Thread & Needle", "retention", "--pushdown"]));
    assert!(text(&out.stdout).contains("summarised in ClickHouse"), "{}", text(&out.stdout));
}

/// Events at the edges retention cuts at; `event_id` keeps purchases at one millisecond apart.
const EDGES: &str = "timestamp,event,anonymous_id,email,event_id
2024-03-10T23:59:59.000Z,purchase,week-edge,,w1
2024-03-10T23:59:59.999Z,purchase,week-edge,,w2
2024-03-11T00:00:00.000Z,purchase,week-edge,,w3
2023-12-31T23:59:59.999Z,purchase,month-edge,,m1
2024-01-01T00:00:00.000Z,purchase,month-edge,,m2
2024-02-29T12:00:00.000Z,purchase,ties,,t1
2024-02-29T12:00:00.000Z,purchase,ties,,t2
2024-02-29T12:00:00.000Z,page_view,ties,,t3
2024-04-09T12:00:00.000Z,purchase,ties,,t4
2024-01-15T09:00:00Z,page_view,once,,o1
2024-01-15T10:00:00Z,purchase,once,,o2
2024-01-20T09:00:00Z,page_view,browser,,b1
2024-01-05T10:00:00Z,purchase,visitor-x,,x1
2024-02-05T10:00:00Z,purchase,,half@example.com,x2
2024-09-01T10:00:00Z,purchase,late,,l1
2024-11-30T23:59:59Z,page_view,late,,l2
";

/// A later visit naming both of the two customers above, which merges them.
const MERGE: &str = "timestamp,event,anonymous_id,email,event_id
2024-03-05T10:00:00Z,purchase,visitor-x,half@example.com,x3
";

#[test]
fn retention_pushed_down_at_its_edges_equals_the_engines() {
    let Some(database) = ClickHouseDatabase::fresh("retention_pushed_down_at_its_edges_equals_the_engines") else { return };
    let dir = tempfile::tempdir().unwrap();
    let split = dir.path().join("split.sqlite");
    let embedded = dir.path().join("embedded.sqlite");
    let import = |db: &Path, name: &str, csv: &str, url: Option<&str>| {
        let file = dir.path().join(name);
        std::fs::write(&file, csv).unwrap();
        let run = || trailmap(db, &["import", "events", file.to_str().unwrap()]);
        let out = match url {
            Some(url) => with_events(url, run),
            None => run(),
        };
        assert!(out.status.success(), "{}", text(&out.stderr));
    };
    let url = database.url();
    // Before anything is imported: no cohort, no buyer, the same three ways.
    let empty = retention(url, &split, &embedded, "month");
    assert_eq!((empty["purchasers"].as_u64(), empty["cohorts"].as_array().map(Vec::len)), (Some(0), Some(0)), "{empty}");

    import(&split, "edges.csv", EDGES, Some(url));
    import(&embedded, "edges.csv", EDGES, None);
    for period in ["week", "month"] {
        retention(url, &split, &embedded, period);
    }
    let before = retention(url, &split, &embedded, "month");
    assert_eq!(before["purchasers"], 7, "{before}");

    import(&split, "merge.csv", MERGE, Some(url));
    import(&embedded, "merge.csv", MERGE, None);
    let weekly = retention(url, &split, &embedded, "week");
    let monthly = retention(url, &split, &embedded, "month");
    // The two customers are one buyer now, with three purchases in January, February and March.
    assert_eq!((monthly["purchasers"].as_u64(), monthly["repeat_customers"].as_u64()), (Some(6), Some(4)), "{monthly}");
    let cohorts: Vec<(String, u64)> =
        monthly["cohorts"].as_array().unwrap().iter().map(|c| (c["period"].as_str().unwrap().to_string(), c["n"].as_u64().unwrap())).collect();
    let expected = [("2023-12-01", 1), ("2024-01-01", 2), ("2024-02-01", 1), ("2024-03-01", 1), ("2024-09-01", 1)];
    assert_eq!(cohorts, expected.map(|(p, n)| (p.to_string(), n)));
    let january: Vec<u64> = monthly["cohorts"][1]["later"].as_array().unwrap().iter().map(|c| c["count"].as_u64().unwrap()).collect();
    assert_eq!(january[..3], [1, 1, 0], "{monthly}");
    // September's row runs to the business's last event, a page view in November.
    assert_eq!(monthly["cohorts"][4]["later"].as_array().unwrap().len(), 2);
    // Three purchases of week-edge: Sunday's two in one ISO week, Monday's in the next.
    let march_weeks: Vec<&str> = weekly["cohorts"].as_array().unwrap().iter().filter_map(|c| c["period"].as_str()).filter(|p| p.starts_with("2024-03")).collect();
    assert_eq!(march_weeks, ["2024-03-04"], "{weekly}");
    // Gaps: week-edge's two, month-edge's one, ties' two (one of 0 ms) and the merged buyer's two.
    assert_eq!(monthly["time_between_purchases"]["n"], 7, "{monthly}");
}

/// The paths commands compared, each three ways.
const PATHS: &[&[&str]] = &[
    &["paths"],
    &["paths", "--by", "page"],
    &["paths", "--to", "purchase", "--whole"],
    &["paths", "--from", "page_view", "--session-gap", "5m", "--max-steps", "4", "--top", "7"],
];

#[test]
fn paths_pushed_down_on_the_demo_equal_the_engines() {
    let Some(database) = ClickHouseDatabase::fresh("paths_pushed_down_on_the_demo_equal_the_engines") else { return };
    let dir = tempfile::tempdir().unwrap();
    let (split, embedded) = written_both_ways(database.url(), dir.path(), &["demo", "--customers", "300", "--no-serve"]);
    for business in ["Thread & Needle", "Bean There Coffee"] {
        for args in PATHS {
            let args = [&["--business", business][..], args].concat();
            let answer = three_ways(database.url(), &split, &embedded, &args);
            assert!(answer["paths"].as_u64().unwrap() > 20, "{args:?}: {answer}");
            // The coffee shop's visits from a page view rarely go on within 5 minutes: only the
            // plain paths are sure to have edges.
            assert!(args.len() > 3 || !answer["edges"].as_array().unwrap().is_empty(), "{args:?}: {answer}");
        }
    }
    // A start item no event has is refused on the pushed-down path too, naming the events.
    let typo = with_events(database.url(), || trailmap(&split, &["--business", "Thread & Needle", "paths", "--to", "purchse", "--pushdown"]));
    assert!(!typo.status.success() && text(&typo.stderr).contains("purchse") && text(&typo.stderr).contains("page_view"), "{}", text(&typo.stderr));
}

/// Sessions at their edges: a gap of exactly 30 minutes stays in the session and one a
/// millisecond longer starts another; repeats at one millisecond collapse; a customer with one
/// event; two customers merged after their events were written.
const SESSIONS: &str = "timestamp,event,anonymous_id,email,page,event_id
2024-01-01T10:00:00.000Z,page_view,p1,,/,a1
2024-01-01T10:00:00.000Z,page_view,p1,,/,a2
2024-01-01T10:30:00.000Z,product_view,p1,,/p/1,a3
2024-01-01T11:00:00.001Z,page_view,p1,,/cart,a4
2024-01-01T11:00:00.001Z,page_view,p1,,/,a5
2024-01-01T11:05:00.000Z,purchase,p1,,,a6
2024-01-02T09:00:00.000Z,page_view,single,,/,s1
2024-01-03T09:00:00.000Z,page_view,visitor-y,,/,y1
2024-01-03T09:10:00.000Z,product_view,visitor-y,,/p/2,y2
2024-01-03T09:20:00.000Z,add_to_cart,,y@example.com,,y3
2024-01-03T09:25:00.000Z,purchase,,y@example.com,,y4
";

/// The visit that shows visitor-y and y@example.com are one person.
const SESSIONS_MERGE: &str = "timestamp,event,anonymous_id,email,page,event_id
2024-01-05T09:00:00.000Z,page_view,visitor-y,y@example.com,/,y5
";

#[test]
fn paths_pushed_down_at_their_edges_equal_the_engines() {
    let Some(database) = ClickHouseDatabase::fresh("paths_pushed_down_at_their_edges_equal_the_engines") else { return };
    let dir = tempfile::tempdir().unwrap();
    let split = dir.path().join("split.sqlite");
    let embedded = dir.path().join("embedded.sqlite");
    let url = database.url();
    let import = |name: &str, csv: &str| {
        let file = dir.path().join(name);
        std::fs::write(&file, csv).unwrap();
        for (db, events) in [(&split, Some(url)), (&embedded, None)] {
            let run = || trailmap(db, &["import", "events", file.to_str().unwrap()]);
            let out = match events {
                Some(url) => with_events(url, run),
                None => run(),
            };
            assert!(out.status.success(), "{}", text(&out.stderr));
        }
    };
    // Without events: no path, the same three ways.
    assert_eq!(three_ways(url, &split, &embedded, &["paths"])["paths"], 0);
    import("sessions.csv", SESSIONS);
    // Events at one millisecond keep the recorded order in the embedded store and the event
    // key's in ClickHouse (events.rs), so by page, where p1's two tied page views differ, the
    // pushed-down answer is compared with the streamed one, both in the key's order.
    let by_event = three_ways(url, &split, &embedded, &["paths", "--whole"]);
    assert_eq!((by_event["paths"].as_u64(), by_event["customers"].as_u64()), (Some(5), Some(4)), "{by_event}");
    let by_page = [&["paths", "--by", "page", "--whole"][..], &["--pushdown"]].concat();
    let (pushed, path, _) = without_path(with_events(url, || json(&split, &by_page)));
    let (streamed, _, _) = without_path(with_events(url, || json(&split, &by_page[..by_page.len() - 1])));
    assert_eq!((pushed.clone(), path.as_str()), (streamed, Some("pushed_down")));
    assert_eq!(pushed["paths"], 5, "{pushed}");

    import("merge.csv", SESSIONS_MERGE);
    let merged = three_ways(url, &split, &embedded, &["paths", "--whole"]);
    // visitor-y's four events and y@example.com's are one customer's now, one session of four
    // items, and the visit two days later another.
    assert_eq!((merged["paths"].as_u64(), merged["customers"].as_u64()), (Some(5), Some(3)), "{merged}");
    three_ways(url, &split, &embedded, &["paths", "--to", "purchase", "--whole"]);
    three_ways(url, &split, &embedded, &["paths", "--from", "product_view", "--session-gap", "10m"]);
}
