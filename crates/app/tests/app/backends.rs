//! The same answers on every backend: the demo written into a SQLite store and into a store of
//! each other backend (PostgreSQL, on the server `TRAILMAP_TEST_POSTGRES` names), then every
//! analysis (funnel, paths, attribution, retention, customer value, segments, insights, the
//! dashboard, a map's live numbers, the persona board) asked of both and compared as JSON, value
//! for value. The store is the only difference, so any difference is the backend's. With the
//! events in ClickHouse (on the rig `TRAILMAP_TEST_CLICKHOUSE` names), the same, where the answers
//! differ only in saying which path they took (the dashboard's is pushed down there).

use serde_json::{Value, json};
use trailmap_analytics::{PathsOptions, RetentionPeriod};
use trailmap_app::insights::InsightsRequest;

use trailmap_app::{App, DayRange, DemoOptions, MapNumbersRequest, StoreLocation};
use trailmap_testkit::clickhouse::ClickHouseDatabase;
use trailmap_testkit::postgres::PostgresDatabase;

fn today() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()
}

/// Every analysis of both demo businesses, as JSON.
fn every_answer(app: &App) -> Value {
    let mut answers = Vec::new();
    for name in ["Bean There Coffee", "Thread & Needle"] {
        let business = app.business(Some(name)).unwrap();
        let period = app.default_period(&business, today()).unwrap();
        let map = app.journey_maps(&business, today()).unwrap()[0].id;
        let funnel = App::funnel_request(vec!["page_view".into(), "purchase".into()]);
        answers.push(json!({
            "business": name,
            "summary": app.summary(&business).unwrap(),
            "funnel": app.funnel(&business, &funnel).unwrap(),
            "paths": app.paths(&business, &PathsOptions::default()).unwrap(),
            "attribution": app.attribution(&business, &App::attribution_request()).unwrap(),
            "retention": app.retention(&business, RetentionPeriod::Week).unwrap(),
            "clv": app.clv(&business, &app.clv_request()).unwrap(),
            "segments": app.segments(&business, None).unwrap(),
            "insights": app.insights(&business, &InsightsRequest { period: None, today: today() }).unwrap(),
            "dashboard": app.dashboard(&business, period).unwrap(),
            // A year, cut by weeks, across both of the time zone's clock changes.
            "dashboard_year": app.dashboard(&business, DayRange::new(period.to - chrono::Duration::days(364), period.to).unwrap()).unwrap(),
            "period": app.default_period_explained(&business, today()).unwrap(),
            "span": app.recorded_span(&business).unwrap(),
            "map_numbers": app.map_numbers(&business, map, &MapNumbersRequest::default()).unwrap(),
            "personas": app.persona_board(&business).unwrap(),
        }));
    }
    Value::Array(answers)
}

#[test]
fn every_analysis_answers_the_same_on_postgresql_as_on_sqlite() {
    let Some(database) = PostgresDatabase::fresh("every_analysis_answers_the_same_on_postgresql_as_on_sqlite") else { return };
    let options = DemoOptions { customers: 400, seed: 23 };
    let dir = tempfile::tempdir().unwrap();
    let mut sqlite = App::open(&dir.path().join("demo.sqlite")).unwrap();
    sqlite.demo(&options).unwrap();
    let mut postgres = App::open_at(&StoreLocation::parse(database.url()).unwrap()).unwrap();
    postgres.demo(&options).unwrap();
    let (left, right) = (every_answer(&sqlite), every_answer(&postgres));
    // Compared part by part, so a failure names the analysis that differs.
    for (l, r) in left.as_array().unwrap().iter().zip(right.as_array().unwrap()) {
        for (key, value) in l.as_object().unwrap() {
            assert_eq!(value, &r[key], "{} {key} differs between SQLite and PostgreSQL", l["business"]);
        }
    }
}

#[test]
fn every_analysis_answers_the_same_with_the_events_in_clickhouse() {
    let Some(database) = ClickHouseDatabase::fresh("every_analysis_answers_the_same_with_the_events_in_clickhouse") else { return };
    let options = DemoOptions { customers: 400, seed: 23 };
    let dir = tempfile::tempdir().unwrap();
    let mut sqlite = App::open(&dir.path().join("demo.sqlite")).unwrap();
    sqlite.demo(&options).unwrap();
    let split = StoreLocation::parse(dir.path().join("split.sqlite").to_str().unwrap()).unwrap().with_events(Some(database.url())).unwrap();
    let mut split = App::open_at(&split).unwrap();
    split.demo(&options).unwrap();
    let (left, right) = (every_answer(&sqlite), every_answer(&split));
    for (l, r) in left.as_array().unwrap().iter().zip(right.as_array().unwrap()) {
        for (key, value) in l.as_object().unwrap() {
            let (mut value, mut other) = (value.clone(), r[key].clone());
            // The one difference: where the events were counted.
            let paths = (value.get_mut("path").map(Value::take), other.get_mut("path").map(Value::take));
            let expected = match key.as_str() {
                "dashboard" | "dashboard_year" => Some("pushed_down"),
                "funnel" => Some("streamed"),
                _ => None,
            };
            if let Some(expected) = expected {
                assert_eq!(paths, (Some("embedded".into()), Some(expected.into())), "{key}");
            }
            assert_eq!(value, other, "{} {key} differs between the embedded store and ClickHouse", l["business"]);
        }
    }
    // The numbers are not empty: customers in the period, new ones among them.
    let board = &right[0]["dashboard"]["report"]["metrics"];
    assert!(board[0]["current"]["n"].as_u64().unwrap() > 0 && board[1]["current"]["n"].as_u64().unwrap() > 0, "{board}");
}
