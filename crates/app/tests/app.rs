//! End-to-end tests of the app API: files on disk imported into a store, whole or not at all, with
//! rejects when asked, idempotent on a second import; and the demo written into a store.

// Helpers outside #[test] functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use trailmap_app::{App, AppError, DemoOptions, ImportReport, ImportRequest, RecordKind};
use trailmap_model::EventColumns;
use trailmap_store::Store;

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn import(app: &mut App, kind: RecordKind, path: &Path, skip: Option<PathBuf>) -> Result<ImportReport, AppError> {
    let business = app.business(None).unwrap();
    app.import(ImportRequest {
        kind,
        path,
        business: &business,
        column_map: vec![],
        format: None,
        skip_invalid: skip,
        progress: None,
    })
}

fn counts(app: &App) -> (u64, u64, u64) {
    let s = app.summary(&app.business(None).unwrap()).unwrap();
    (s.events, s.customers, s.orders)
}

const EVENTS: &str = "timestamp,event,user_id,anonymous_id,page,referrer\n\
2025-03-01T09:00:00Z,page_view,,v1,https://shop.example/?utm_source=instagram&utm_medium=paid_social&utm_campaign=spring,\n\
2025-03-01T09:02:00Z,product_view,,v1,/p/scarf,\n\
2025-03-01T09:05:00Z,signup,C1,v1,/signup,\n\
2025-03-02T18:00:00Z,page_view,C2,,/,https://www.google.com/\n";

#[test]
fn an_events_file_lands_with_channels_and_identities_and_a_second_import_adds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = App::open(&dir.path().join("t.sqlite")).unwrap();
    let file = write(dir.path(), "events.csv", EVENTS.as_bytes());
    let report = import(&mut app, RecordKind::Events, &file, None).unwrap();
    assert_eq!((report.records, report.added, report.rejected, report.new_customers), (4, 4, 0, 2));
    assert_eq!(counts(&app), (4, 2, 0), "the visitor who signed up is one customer");
    let business = app.business(None).unwrap();
    let table = app.store().load_events(business.id, EventColumns::default()).unwrap();
    assert_eq!(table.string(table.channel[0]), "Paid Social");
    assert_eq!(table.string(table.source[0]), "instagram");
    assert_eq!(table.string(table.page[0]), "/");
    assert_eq!(table.string(table.channel[3]), "Organic Search");
    assert_eq!(table.customer[0], table.customer[2]);
    let again = import(&mut app, RecordKind::Events, &file, None).unwrap();
    assert_eq!((again.added, again.duplicates), (0, 4));
    assert_eq!(counts(&app), (4, 2, 0));
}

#[test]
fn a_file_that_fails_half_way_leaves_the_store_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = App::open(&dir.path().join("t.sqlite")).unwrap();
    let mut text = String::from("timestamp,event,user_id\n");
    for i in 0..100_000 {
        text.push_str(&format!("{},page_view,C{}\n", 1_700_000_000 + i, i % 500));
    }
    text.push_str("not a time,page_view,C1\n");
    for i in 0..10 {
        text.push_str(&format!("{},page_view,C{}\n", 1_800_000_000 + i, i));
    }
    let file = write(dir.path(), "big.csv", text.as_bytes());
    let err = import(&mut app, RecordKind::Events, &file, None).unwrap_err();
    let message = err.to_string();
    assert!(message.contains("big.csv:100002"), "names file and line: {message}");
    assert!(message.contains("not a time"), "quotes the value: {message}");
    assert!(message.contains("nothing was imported"), "{message}");
    assert_eq!(counts(&app), (0, 0, 0));
}

#[test]
fn skip_invalid_lands_the_good_rows_and_writes_the_rejects_with_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = App::open(&dir.path().join("t.sqlite")).unwrap();
    let mut bytes = b"timestamp,event,user_id,revenue\n\
2025-01-01T10:00:00Z,purchase,C1,12.50\n\
yesterday,page_view,C2,\n\
2025-01-01T11:00:00Z,page_view,,\n\
2025-01-01T12:00:00Z,page_view,C3,1,2\n"
        .to_vec();
    bytes.extend_from_slice(b"2025-01-01T13:00:00Z,page_view,C\xff4,\n");
    let file = write(dir.path(), "mixed.csv", &bytes);
    let rejects = dir.path().join("rejects.csv");
    let report = import(&mut app, RecordKind::Events, &file, Some(rejects.clone())).unwrap();
    assert_eq!(report.rejected, 4);
    assert_eq!(report.details.events_added, 1);
    assert_eq!(report.rejects_file.as_deref(), Some(rejects.to_str().unwrap()));
    let mut reader = csv::Reader::from_path(&rejects).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    let lines: Vec<&str> = rows.iter().map(|r| &r[0]).collect();
    assert_eq!(lines, ["3", "4", "5", "6"]);
    assert!(rows[0][2].contains("yesterday"), "{:?}", &rows[0]);
    assert!(rows[3][2].to_lowercase().contains("utf-8"), "{:?}", &rows[3]);
    assert_eq!(counts(&app), (1, 1, 0));
}

#[test]
fn a_failed_import_with_skip_invalid_leaves_no_rejects_file_behind() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = App::open(&dir.path().join("t.sqlite")).unwrap();
    let file = write(dir.path(), "nohead.csv", b"when,what\n2025-01-01,x\n");
    let rejects = dir.path().join("rejects.csv");
    let err = import(&mut app, RecordKind::Events, &file, Some(rejects.clone())).unwrap_err();
    assert!(err.to_string().contains("nohead.csv"), "{err}");
    assert!(!rejects.exists());
    assert!(!rejects.with_extension("partial").exists());
}

#[test]
fn empty_and_missing_files_get_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = App::open(&dir.path().join("t.sqlite")).unwrap();
    let empty = write(dir.path(), "empty.csv", b"");
    let err = import(&mut app, RecordKind::Orders, &empty, None).unwrap_err().to_string();
    assert!(err.contains("empty.csv") && err.contains("empty"), "{err}");
    let err = import(&mut app, RecordKind::Orders, &dir.path().join("nope.csv"), None).unwrap_err().to_string();
    assert!(err.contains("nope.csv"), "{err}");
}

#[test]
fn orders_spend_feedback_and_customers_import() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = App::open(&dir.path().join("t.sqlite")).unwrap();
    let customers = write(dir.path(), "customers.csv", b"customer_id,email,name,city\nC1,ann@example.com,Ann,Leeds\nC2,bob@example.com,Bob,York\n");
    let orders = write(dir.path(), "orders.csv", b"order_id,created_at,email,total,currency\nA-1,2025-02-01T10:00:00Z,ann@example.com,62.00,USD\nA-2,2025-02-03T10:00:00Z,carl@example.com,15.50,USD\n");
    let spend = write(dir.path(), "spend.csv", b"month,channel,amount\n2025-01,Paid Social,1500\n2025-02,Paid Social,1400.50\n");
    let feedback = write(dir.path(), "reviews.csv", b"date,source,rating,text\n2025-02-05,google,2,Shipping is way too expensive\n");
    assert_eq!(import(&mut app, RecordKind::Customers, &customers, None).unwrap().details.customers_added, 2);
    let report = import(&mut app, RecordKind::Orders, &orders, None).unwrap();
    assert_eq!((report.details.orders_added, report.details.events_added), (2, 2), "each order adds its purchase event");
    assert_eq!(import(&mut app, RecordKind::Spend, &spend, None).unwrap().details.spend_added, 2);
    assert_eq!(import(&mut app, RecordKind::Feedback, &feedback, None).unwrap().details.feedback_added, 1);
    let s = app.summary(&app.business(None).unwrap()).unwrap();
    assert_eq!((s.customers, s.orders, s.events, s.feedback, s.spend_rows), (3, 2, 2, 1, 2));
    assert_eq!(s.revenue, 77.5);
    assert_eq!(s.spend, 2900.5);
    let ann = app.store().customers(app.business(None).unwrap().id, 10, 0).unwrap().remove(0);
    assert_eq!((ann.name.as_deref(), ann.email.as_deref()), (Some("Ann"), Some("ann@example.com")));
}

#[test]
fn the_demo_lands_in_the_store_once() {
    let mut app = App::in_memory().unwrap();
    let report = app.demo(&DemoOptions { customers: 300, seed: 3 }).unwrap();
    assert!(report.generated);
    for name in trailmap_app::DEMO_BUSINESSES {
        let business = app.business(Some(name)).unwrap();
        let s = app.summary(&business).unwrap();
        assert!(s.customers > 50 && s.events > s.customers && s.orders > 10, "{name}: {s:?}");
        assert!(s.touchpoints > 3 && s.personas >= 3 && s.maps >= 1 && s.changes >= 1 && s.surveys >= 1, "{name}: {s:?}");
        assert!(s.spend > 0.0 && s.feedback > 0 && s.responses > 0, "{name}: {s:?}");
    }
    // Demo events pass through the import's enrichment, so they carry GA4 channels.
    let coffee = app.business(Some("Bean There Coffee")).unwrap();
    let table = app.store().load_events(coffee.id, EventColumns::default()).unwrap();
    let channels: std::collections::BTreeSet<&str> = table.channel.iter().map(|&c| table.string(c)).collect();
    for expected in ["Referral", "Paid Social", "In-store"] {
        assert!(channels.contains(expected), "{expected} missing from {channels:?}");
    }
    let again = app.demo(&DemoOptions { customers: 300, seed: 3 }).unwrap();
    assert!(!again.generated);
}

#[test]
fn journeys_through_the_store_merge_a_visitor_into_the_customer_they_become() {
    let fixture = trailmap_testkit::journeys(
        "customer anon:cookie-1
           2025-03-01 09:00:00 page_view page=/ source=instagram medium=paid_social
           +2m product_view page=/p/scarf
         customer ann email=ann@example.com
           2025-03-01 09:07:00 checkout_started page=/checkout also=anon:cookie-1
           +1m order id=A-1 total=62.00 lines=\"Scarf:1:62.00\"
         customer bob id=C2
           2025-03-02 10:00:00 store_visit medium=offline source=walk-in
           +0s store_visit medium=offline source=walk-in
           +1s store_visit medium=offline source=walk-in",
    )
    .unwrap();
    let mut app = App::in_memory().unwrap();
    let business = app.business(None).unwrap();
    let summary = app.write_fixture(&fixture, &business).unwrap();
    assert_eq!(summary.customers_merged, 1, "the cookie's customer folds into Ann");
    assert_eq!(summary.events_duplicate, 1, "two identical events in the same millisecond without ids are one event");
    let s = app.summary(&business).unwrap();
    assert_eq!((s.customers, s.orders, s.events), (2, 1, 6));
    let mut table = app.store().load_events(business.id, EventColumns::default()).unwrap();
    table.sort_by_customer_time();
    let ann: Vec<&str> = (0..table.len())
        .filter(|&i| table.customer[i] == table.customer[0])
        .map(|i| table.string(table.name[i]))
        .collect();
    assert_eq!(ann, ["page_view", "product_view", "checkout_started", "purchase"]);
    assert_eq!(table.string(table.channel[0]), "", "fixtures are written as given, not enriched");
}

#[test]
fn duplicate_ids_within_a_file_land_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = App::open(&dir.path().join("t.sqlite")).unwrap();
    let events = write(dir.path(), "e.ndjson", b"{\"messageId\":\"m1\",\"event\":\"signup\",\"userId\":\"C1\",\"timestamp\":\"2025-01-01T00:00:00Z\"}\n{\"messageId\":\"m1\",\"event\":\"signup\",\"userId\":\"C1\",\"timestamp\":\"2025-01-01T00:00:05Z\"}\n");
    let report = import(&mut app, RecordKind::Events, &events, None).unwrap();
    assert_eq!((report.details.events_added, report.details.events_duplicate), (1, 1), "the same message id is one event");
    let orders = write(dir.path(), "o.csv", b"order_id,time,email,total\nA-1,2025-01-01T00:00:00Z,a@x.com,10\nA-2,2025-01-02T00:00:00Z,b@x.com,20\nA-1,2025-01-03T00:00:00Z,a@x.com,10\n");
    let report = import(&mut app, RecordKind::Orders, &orders, None).unwrap();
    assert_eq!((report.details.orders_added, report.details.orders_duplicate), (2, 1));
    assert_eq!(counts(&app).2, 2);
}

#[test]
fn customer_value_by_persona_assigns_every_customer_once() {
    let mut app = App::in_memory().unwrap();
    app.demo(&DemoOptions { customers: 600, seed: 5 }).unwrap();
    let coffee = app.business(Some("Bean There Coffee")).unwrap();
    let mut request = app.clv_request();
    request.by = "persona".parse().unwrap();
    let report = app.clv(&coffee, &request).unwrap();
    let names: Vec<&str> = report.groups.iter().map(|g| g.group.as_str()).collect();
    assert!(names.contains(&"Morning Regular"), "{names:?}");
    let grouped: usize = report.groups.iter().map(|g| g.customers).sum();
    assert_eq!(grouped, report.customers.len(), "each customer is in exactly one group");
    for c in &report.customers {
        let group = report.groups.iter().find(|g| g.group == c.persona).unwrap();
        assert!(group.historical.customer_ids.contains(&c.customer));
    }
}
