//! The same answers on every backend: the demo written into a SQLite store and into a store of
//! each other backend (PostgreSQL, on the server `TRAILMAP_TEST_POSTGRES` names), then every
//! analysis (funnel, paths, attribution, retention, customer value, segments, insights, the
//! dashboard, a map's live numbers, the persona board) asked of both and compared as JSON, value
//! for value. The store is the only difference, so any difference is the backend's.

use serde_json::{Value, json};
use trailmap_analytics::{PathsOptions, RetentionPeriod};
use trailmap_app::insights::InsightsRequest;

use trailmap_app::{App, DemoOptions, MapNumbersRequest, StoreLocation};
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
