//! The report of a business for a period: its data matches the dashboard and the change log, the
//! map is chosen by the stated rule, missing sections say why, and the HTML and PDF hold it.
//!
//! Set `TRAILMAP_REPORT_PREVIEW=/some/dir` to also write the demo boutique's report there as
//! `report-page-N.png`, `report.pdf` and `report.html`, for looking at them.

use chrono::NaiveDate;
use trailmap_app::report::{MAP_RULE, ReportRequest};
use trailmap_app::{App, DayRange, DemoOptions};
use trailmap_model::MapVersionKind;

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn demo() -> App {
    let mut app = App::in_memory().unwrap();
    app.demo(&DemoOptions { customers: 600, seed: 3 }).unwrap();
    app
}

#[test]
fn the_demo_report_holds_the_dashboard_the_changes_and_a_map() {
    let app = demo();
    let today = day("2026-11-15");
    for name in trailmap_app::DEMO_BUSINESSES {
        let business = app.business(Some(name)).unwrap();
        let period = DayRange::new(day("2026-10-01"), day("2026-10-31")).unwrap();
        let report = app.report(&business, &ReportRequest { period, today }).unwrap();
        assert_eq!(report.business, name);
        assert_eq!((report.previous.from, report.previous.to), (day("2026-08-31"), day("2026-09-30")));

        // The key numbers are the dashboard's, with the same n now and before.
        let board = app.dashboard(&business, period).unwrap();
        assert_eq!(report.key_numbers.len(), board.report.metrics.len());
        for (shown, metric) in report.key_numbers.iter().zip(&board.report.metrics) {
            assert_eq!(shown.metric.key, metric.key);
            assert_eq!(shown.metric.current.n, metric.current.n, "{}", metric.key);
            assert_eq!(shown.metric.previous.n, metric.previous.n, "{}", metric.key);
        }
        let revenue = report.key_numbers.iter().find(|k| k.metric.key == "revenue").unwrap();
        assert!(revenue.current_text.starts_with('$'), "money with its symbol: {}", revenue.current_text);
        let conversion = report.key_numbers.iter().find(|k| k.metric.key == "conversion_rate").unwrap();
        assert!(conversion.current_text.ends_with('%'), "shares as percentages: {}", conversion.current_text);

        // Every change of the business dated up to the period's end, each with its impact or why not.
        let changes = app.changes(&business).unwrap();
        assert!(!changes.is_empty(), "the demo records changes");
        let wanted: Vec<_> = changes.iter().filter(|c| c.date <= period.to).map(|c| c.id).collect();
        assert_eq!(report.changes.iter().map(|c| c.change.id).collect::<Vec<_>>(), wanted);
        for change in &report.changes {
            assert!(change.impact.is_some() != change.impact_note.is_some(), "an impact or its reason");
            if let Some(note) = &change.impact_note {
                assert!(note.starts_with("impact not available: "), "{note}");
            }
        }
        assert!(report.insights.len() <= 10);
        if let Some(note) = &report.insights_note {
            assert!(note.starts_with("insights not available: "), "{note}");
        }

        // The map: the most recently edited as-is map, drawn with its numbers.
        let maps = app.journey_maps(&business, today).unwrap();
        let chosen = report.map.chosen.as_ref().expect("the demo has maps");
        let as_is: Vec<_> = maps.iter().filter(|m| m.kind == MapVersionKind::AsIs).collect();
        if !as_is.is_empty() {
            assert_eq!(chosen.kind, MapVersionKind::AsIs);
            assert!(as_is.iter().all(|m| m.updated_at <= chosen.updated_at));
        }
        assert_eq!(report.map.rule, MAP_RULE);
        assert!(report.map.numbers.is_some() && report.map.chart.is_some());
        assert!(!report.map.customers.is_empty(), "customers reached the map's stages in October");
        assert!(report.map.customers.windows(2).all(|w| w[0] < w[1]));

        // The HTML page holds it all, escaped.
        let html = report.html();
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains(&trailmap_render::escape(name)));
        for k in &report.key_numbers {
            assert!(html.contains(k.metric.label), "{}", k.metric.label);
            let n = format!("{} / {} {}", trailmap_render::ValueFormat::Count.format(k.metric.current.n as f64), trailmap_render::ValueFormat::Count.format(k.metric.previous.n as f64), k.n_means);
            assert!(html.contains(&n), "{n}");
        }
        for c in &report.changes {
            assert!(html.contains(&trailmap_render::escape(&c.change.title)), "{}", c.change.title);
        }
        assert!(html.contains(&trailmap_render::escape(&chosen.name)));
        let reached = trailmap_render::ValueFormat::Count.format(report.map.customers.len() as f64);
        assert!(html.contains(&format!("n = {reached} customers reached at least one stage")), "the map's n");

        // The JSON form serialises, and the PDF has the pages.
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["key_numbers"][0]["key"], report.key_numbers[0].metric.key);
        let pages = report.pages();
        assert!(pages.len() >= 2, "{} pages", pages.len());
        let pdf = report.pdf().unwrap();
        assert!(pdf.starts_with(b"%PDF"));
        assert!(String::from_utf8_lossy(&pdf).contains(&format!("/Count {}", pages.len())));

        if let Ok(dir) = std::env::var("TRAILMAP_REPORT_PREVIEW") {
            let tag = if name.starts_with("Thread") { "boutique" } else { "coffee" };
            for (i, page) in pages.iter().enumerate() {
                std::fs::write(format!("{dir}/report-{tag}-page-{}.png", i + 1), trailmap_render::to_png(page, 1.5).unwrap()).unwrap();
            }
            std::fs::write(format!("{dir}/report-{tag}.pdf"), &pdf).unwrap();
            std::fs::write(format!("{dir}/report-{tag}.html"), &html).unwrap();
        }
    }
}

#[test]
fn a_period_before_a_change_leaves_it_out() {
    let app = demo();
    let boutique = app.business(Some("Thread & Needle")).unwrap();
    let changes = app.changes(&boutique).unwrap();
    let latest = changes.first().unwrap().date;
    let period = DayRange::new(latest - chrono::Duration::days(30), latest - chrono::Duration::days(1)).unwrap();
    let report = app.report(&boutique, &ReportRequest { period, today: day("2026-11-15") }).unwrap();
    assert!(report.changes.iter().all(|c| c.change.date < latest));
    assert_eq!(report.changes.len(), changes.iter().filter(|c| c.date < latest).count());
}

#[test]
fn a_business_without_data_gets_a_report_that_says_what_is_missing() {
    let app = App::in_memory().unwrap();
    let business = app.business(None).unwrap();
    let period = DayRange::new(day("2026-01-01"), day("2026-01-31")).unwrap();
    let report = app.report(&business, &ReportRequest { period, today: day("2026-02-01") }).unwrap();
    assert!(report.map.chosen.is_none() && report.map.chart.is_none());
    assert!(report.map.note.as_deref().unwrap().contains("has no journey map"));
    assert!(report.changes.is_empty());
    assert!(report.key_numbers.iter().all(|k| k.metric.current.n == 0));
    let html = report.html();
    assert!(html.contains("has no journey map yet") && html.contains("No change is recorded on or before 2026-01-31"));
    assert_eq!(report.pages().len(), 1, "a short report is one page");
    assert!(report.pdf().unwrap().starts_with(b"%PDF"));
}
