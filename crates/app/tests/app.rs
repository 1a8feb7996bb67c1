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

// ---- accounts: users, memberships, sessions, invitations, API keys ----

mod accounts {
    use trailmap_app::{App, AppError};
    use trailmap_model::{Role, Timestamp};

    const NOW: Timestamp = Timestamp(1_780_000_000_000);
    const DAY: i64 = 86_400_000;

    #[test]
    fn users_sign_in_with_their_password_only() {
        let mut app = App::in_memory().unwrap();
        assert_eq!(app.user_count().unwrap(), 0);
        let ann = app.create_user(" Ann@Example.COM ", "Ann", "correct horse battery", NOW).unwrap();
        assert_eq!(ann.email, "ann@example.com");
        assert_eq!(app.user_count().unwrap(), 1);
        assert_eq!(app.authenticate("ANN@example.com", "correct horse battery").unwrap(), Some(ann.clone()));
        assert_eq!(app.authenticate("ann@example.com", "wrong horse battery").unwrap(), None);
        assert_eq!(app.authenticate("bob@example.com", "correct horse battery").unwrap(), None);
        // The same email twice is a conflict; bad emails and short passwords name their field.
        assert!(matches!(app.create_user("ann@example.com", "Ann 2", "another long one", NOW), Err(AppError::Conflict(_))));
        let bad_email = app.create_user("not-an-email", "X", "long enough pw", NOW).unwrap_err().to_string();
        assert!(bad_email.starts_with("email:"), "{bad_email}");
        let short = app.create_user("x@example.com", "X", "short", NOW).unwrap_err().to_string();
        assert!(short.starts_with("password:"), "{short}");
        app.set_password(ann.id, "a brand new password").unwrap();
        assert_eq!(app.authenticate("ann@example.com", "correct horse battery").unwrap(), None);
        assert!(app.authenticate("ann@example.com", "a brand new password").unwrap().is_some());
    }

    #[test]
    fn memberships_give_roles_and_a_business_keeps_an_owner() {
        let mut app = App::in_memory().unwrap();
        let ann = app.create_user("ann@example.com", "Ann", "correct horse battery", NOW).unwrap();
        let bob = app.create_user("bob@example.com", "Bob", "correct horse battery", NOW).unwrap();
        // The first user adopts the businesses nobody owns (the default one here).
        let adopted = app.adopt_unowned_businesses(ann.id).unwrap();
        assert_eq!(adopted.len(), 1);
        assert!(app.adopt_unowned_businesses(bob.id).unwrap().is_empty());
        let shop = app.create_business_owned(ann.id, "Ann's Shop", "EUR", "Europe/Paris").unwrap();
        let cafe = app.create_business_owned(bob.id, "Bob's Cafe", "USD", "UTC").unwrap();
        let names: Vec<_> = app.memberships(ann.id).unwrap().into_iter().map(|m| (m.business.name, m.role)).collect();
        assert_eq!(names, vec![("Ann's Shop".to_string(), Role::Owner), ("My Business".to_string(), Role::Owner)]);
        assert_eq!(app.role(bob.id, shop.id).unwrap(), None);
        assert_eq!(app.role(bob.id, cafe.id).unwrap(), Some(Role::Owner));

        app.set_member(shop.id, bob.id, Role::Viewer).unwrap();
        assert_eq!(app.role(bob.id, shop.id).unwrap(), Some(Role::Viewer));
        assert_eq!(app.members(shop.id).unwrap().len(), 2);
        // The last owner can neither leave nor step down; with a second owner they can.
        assert!(matches!(app.remove_member(shop.id, ann.id), Err(AppError::Conflict(_))));
        assert!(matches!(app.set_member(shop.id, ann.id, Role::Editor), Err(AppError::Conflict(_))));
        app.set_member(shop.id, bob.id, Role::Owner).unwrap();
        app.set_member(shop.id, ann.id, Role::Editor).unwrap();
        app.remove_member(shop.id, ann.id).unwrap();
        assert_eq!(app.role(ann.id, shop.id).unwrap(), None);
        assert!(matches!(app.remove_member(shop.id, ann.id), Err(AppError::NotFound(_))));

        assert!(matches!(app.rename_business(cafe.id, "Ann's Shop"), Err(AppError::Conflict(_))));
        assert_eq!(app.rename_business(cafe.id, "  Bob's Coffee ").unwrap().name, "Bob's Coffee");
        assert!(matches!(app.create_business_owned(ann.id, "Bob's Coffee", "USD", "UTC"), Err(AppError::Conflict(_))));
        assert!(app.create_business_owned(ann.id, "X", "dollars", "UTC").unwrap_err().to_string().starts_with("currency:"));
    }

    #[test]
    fn sessions_expire_and_end() {
        let mut app = App::in_memory().unwrap();
        let ann = app.create_user("ann@example.com", "Ann", "correct horse battery", NOW).unwrap();
        let session = app.create_session(ann.id, NOW, DAY).unwrap();
        assert_ne!(session.token, session.csrf);
        assert!(session.token.len() >= 40);
        let live = app.session(&session.token, Timestamp(NOW.0 + DAY - 1)).unwrap().unwrap();
        assert_eq!((live.user.id, live.csrf.as_str()), (ann.id, session.csrf.as_str()));
        assert_eq!(app.session(&session.token, Timestamp(NOW.0 + DAY)).unwrap(), None, "expired at its end");
        assert_eq!(app.session("forged", NOW).unwrap(), None);
        let other = app.create_session(ann.id, NOW, DAY).unwrap();
        app.end_session(&session.token).unwrap();
        assert_eq!(app.session(&session.token, NOW).unwrap(), None);
        assert!(app.session(&other.token, NOW).unwrap().is_some(), "ending one session leaves the others");
        assert_eq!(app.delete_expired_sessions(Timestamp(NOW.0 + 2 * DAY)).unwrap(), 1);
    }

    #[test]
    fn invitations_join_once_and_only_the_invited_address() {
        let mut app = App::in_memory().unwrap();
        let ann = app.create_user("ann@example.com", "Ann", "correct horse battery", NOW).unwrap();
        let bob = app.create_user("bob@example.com", "Bob", "correct horse battery", NOW).unwrap();
        let eve = app.create_user("eve@example.com", "Eve", "correct horse battery", NOW).unwrap();
        let shop = app.create_business_owned(ann.id, "Ann's Shop", "USD", "UTC").unwrap();

        let for_bob = app.create_invitation(shop.id, Role::Editor, Some("Bob@Example.com"), ann.id, NOW, DAY).unwrap();
        let invitation = app.invitation(&for_bob, NOW).unwrap().unwrap();
        assert_eq!((invitation.business.id, invitation.role, invitation.email.as_deref()), (shop.id, Role::Editor, Some("bob@example.com")));
        assert!(matches!(app.accept_invitation(&for_bob, eve.id, NOW), Err(AppError::Forbidden(_))));
        let joined = app.accept_invitation(&for_bob, bob.id, NOW).unwrap();
        assert_eq!((joined.business.id, joined.role), (shop.id, Role::Editor));
        assert!(matches!(app.accept_invitation(&for_bob, bob.id, NOW), Err(AppError::NotFound(_))), "used once");

        let open = app.create_invitation(shop.id, Role::Viewer, None, ann.id, NOW, DAY).unwrap();
        assert_eq!(app.invitation(&open, Timestamp(NOW.0 + DAY)).unwrap(), None, "expired");
        assert!(matches!(app.accept_invitation(&open, eve.id, Timestamp(NOW.0 + DAY)), Err(AppError::NotFound(_))));
        // Accepting a lower role never demotes: Bob stays an editor.
        let lower = app.create_invitation(shop.id, Role::Viewer, None, ann.id, NOW, DAY).unwrap();
        assert_eq!(app.accept_invitation(&lower, bob.id, NOW).unwrap().role, Role::Editor);
        assert_eq!(app.role(eve.id, shop.id).unwrap(), None);
    }

    #[test]
    fn api_keys_are_shown_once_and_stop_working_when_revoked() {
        let mut app = App::in_memory().unwrap();
        let ann = app.create_user("ann@example.com", "Ann", "correct horse battery", NOW).unwrap();
        let bob = app.create_user("bob@example.com", "Bob", "correct horse battery", NOW).unwrap();
        let (info, key) = app.create_api_key(ann.id, "nightly export", NOW).unwrap();
        assert!(key.starts_with("tm_") && key.len() == 43, "{key}");
        assert_eq!(info.prefix, &key[..8]);
        assert_eq!(app.user_for_api_key(&key).unwrap().map(|u| u.id), Some(ann.id));
        assert_eq!(app.user_for_api_key("tm_forged").unwrap(), None);
        app.touch_api_key(&key, Timestamp(NOW.0 + 5)).unwrap();
        assert_eq!(app.api_keys(ann.id).unwrap()[0].last_used, Some(Timestamp(NOW.0 + 5)));
        assert!(matches!(app.revoke_api_key(bob.id, info.id, NOW), Err(AppError::NotFound(_))), "not Bob's key");
        app.revoke_api_key(ann.id, info.id, NOW).unwrap();
        assert_eq!(app.user_for_api_key(&key).unwrap(), None);
        assert_eq!(app.api_keys(ann.id).unwrap()[0].revoked, Some(NOW));
        assert!(app.create_api_key(ann.id, "  ", NOW).unwrap_err().to_string().starts_with("name:"));
    }
}

// ---- the dashboard and the customer page on the demo ----

mod dashboard {
    use chrono::NaiveDate;
    use trailmap_app::{App, AppError, DayRange, DemoOptions};
    use trailmap_model::CustomerId;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn the_demo_dashboard_counts_with_sample_sizes_and_customers() {
        let mut app = App::in_memory().unwrap();
        app.demo(&DemoOptions { customers: 1_500, seed: 7 }).unwrap();
        let coffee = app.business(Some("Bean There Coffee")).unwrap();
        let period = DayRange::new(day("2026-07-01"), day("2026-07-31")).unwrap();
        let board = app.dashboard(&coffee, period).unwrap();
        assert_eq!((board.previous.from, board.previous.to), (day("2026-05-31"), day("2026-06-30")));
        assert_eq!(board.buckets.len(), 31);
        let new = board.report.metric("new_customers").unwrap();
        assert!(new.current.n > 0);
        assert_eq!(new.customers.len() as u64, new.current.n, "the customers behind the number are the number");
        let trend_total: f64 = new.trend.iter().filter_map(|m| m.value).sum();
        assert_eq!(trend_total, new.current.value.unwrap(), "daily buckets add up to the period");
        // The coffee shop's story: after the programme, most new customers come by referral.
        let top = &board.report.new_by_channel[0];
        assert_eq!(top.channel, "Referral", "{:?}", board.report.new_by_channel);
        let revenue = board.report.metric("revenue").unwrap();
        assert!(revenue.current.value.unwrap() > 0.0 && revenue.current.n > 0);
        let conversion = board.report.metric("conversion_rate").unwrap();
        assert_eq!(conversion.sample.len() as u64, conversion.current.n);
        assert!(conversion.customers.iter().all(|c| conversion.sample.binary_search(c).is_ok()), "converted customers are in the sample");
        // Twelve months cut by weeks.
        let year = app.dashboard(&coffee, DayRange::new(day("2025-11-01"), day("2026-10-31")).unwrap()).unwrap();
        assert_eq!(year.bucket, trailmap_app::Bucket::Week);
        let weekly: f64 = year.report.metric("revenue").unwrap().trend.iter().filter_map(|m| m.value).sum();
        assert_eq!(weekly, year.report.metric("revenue").unwrap().current.value.unwrap());
        assert!(DayRange::new(day("2026-02-01"), day("2026-01-01")).is_err());

        // The customer page: one buyer's whole journey, oldest first, with their orders.
        let buyer = *revenue.customers.first().unwrap();
        let timeline = app.customer_timeline(&coffee, buyer).unwrap();
        assert!(timeline.entries.iter().any(|e| e.kind == "order"));
        assert!(timeline.entries.iter().any(|e| e.kind == "event"));
        assert!(timeline.entries.windows(2).all(|w| w[0].time <= w[1].time));
        // A customer of the other business is not found here.
        let boutique = app.business(Some("Thread & Needle")).unwrap();
        assert!(matches!(app.customer_timeline(&boutique, buyer), Err(AppError::NotFound(_))));
        assert!(matches!(app.customer_timeline(&coffee, CustomerId(987_654_321)), Err(AppError::NotFound(_))));
        assert_eq!(app.customers_by_id(&boutique, &[buyer], 10).unwrap().len(), 0);
        assert_eq!(app.customers_by_id(&coffee, &[buyer], 10).unwrap().len(), 1);
    }
}
