//! End-to-end tests of the app API: files on disk imported into a store, whole or not at all, with
//! rejects when asked, idempotent on a second import; and the demo written into a store.

// Helpers outside #[test] functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used)]

#[path = "app/report.rs"] mod report;
#[path = "app/impact.rs"] mod impact;
#[path = "app/insights.rs"] mod insights;
#[path = "app/integrity.rs"] mod integrity;
#[path = "app/personas.rs"] mod personas;
#[path = "app/touchpoints.rs"] mod touchpoints;
#[path = "app/onboarding.rs"] mod onboarding;
#[path = "app/comments.rs"] mod comments;
#[path = "app/imports.rs"] mod imports;
#[path = "app/live.rs"] mod live;
#[path = "app/kept_answers.rs"] mod kept_answers;
#[path = "app/fuzz_regressions.rs"] mod fuzz_regressions;
#[path = "app/clv.rs"] mod clv;
#[path = "app/attribution.rs"] mod attribution;
#[path = "app/map_limits.rs"] mod map_limits;
#[path = "app/privacy.rs"] mod privacy;
#[path = "app/periods.rs"] mod periods;
#[path = "app/research.rs"] mod research;
#[path = "app/actions.rs"] mod actions;
#[path = "app/alerts.rs"] mod alerts;
#[path = "app/backends.rs"] mod backends;
#[path = "app/funnel_customers.rs"] mod funnel_customers;

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
    app.import(ImportRequest { skip_invalid: skip, ..ImportRequest::new(kind, path, &business) })
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
    let orders = write(dir.path(), "o.csv", b"order_id,time,email,total\nA-1,2025-01-01T00:00:00Z,a@x.com,10\nA-2,2025-01-02T00:00:00Z,b@x.com,20\nA-1,2025-01-01T00:00:00Z,a@x.com,10\n");
    let report = import(&mut app, RecordKind::Orders, &orders, None).unwrap();
    assert_eq!((report.details.orders_added, report.details.orders_duplicate), (2, 1));
    assert_eq!(counts(&app).2, 2);
    // The same number with another date is not the same order: a conflict at its line.
    let clash = write(dir.path(), "o2.csv", b"order_id,time,email,total\nA-1,2025-01-03T00:00:00Z,a@x.com,10\n");
    let err = import(&mut app, RecordKind::Orders, &clash, None).unwrap_err().to_string();
    assert!(err.contains("o2.csv:2: column `order_id`: order \"A-1\" is stored already with other content (time"), "{err}");
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
        let group = report.groups.iter().find(|g| *g.group == *c.persona).unwrap();
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

/// Survey definitions, form exports, interview notes and JSON reviews (`trailmap_app::surveys`).
mod surveys {
    use super::write;
    use std::path::Path;
    use trailmap_app::surveys::{FormImportRequest, parse_definition};
    use trailmap_app::{App, AppError, ImportRequest, RecordKind};
    use trailmap_ingest::forms::FormLayout;
    use trailmap_model::{AnswerValue, EventRule, FeedbackKind, QuestionKind, SkipRule, Touchpoint, TouchpointChannel, TouchpointId};
    use trailmap_store::Store;

    const GOOGLE: &str = include_str!("../../ingest/tests/data/google_forms_responses.csv");
    const NOTES: &str = include_str!("../../ingest/tests/data/interview_notes.md");
    const REVIEWS: &str = include_str!("../../ingest/tests/data/reviews.json");

    const DEFINITION: &str = r#"
name = "Post-purchase survey"
stage = "purchase"

[[questions]]
text = "How likely are you to recommend us to a friend?"
kind = "nps"
required = true

[[questions]]
text = "What stopped you from ordering more?"
kind = "single_choice"
options = ["Price", "Shipping cost", "Other"]
skip_if = { question = 1, values = [9, 10] }

[[questions]]
text = "How would you rate the packaging?"
kind = "rating"
max = 10
"#;

    fn form_import(app: &mut App, layout: FormLayout, path: &Path, survey: Option<&str>, skip: Option<std::path::PathBuf>) -> Result<trailmap_app::surveys::FormImportReport, AppError> {
        let business = app.business(None).unwrap();
        app.import_form_responses(FormImportRequest { layout, path, business: &business, survey, skip_invalid: skip })
    }

    #[test]
    fn a_definition_file_creates_a_survey_with_its_skip_rule_and_it_is_listed() {
        let dir = tempfile::tempdir().unwrap();
        let mut app = App::open(&dir.path().join("t.sqlite")).unwrap();
        let business = app.business(None).unwrap();
        let file = write(dir.path(), "survey.toml", DEFINITION.as_bytes());
        let survey = app.create_survey_from_file(&business, &file).unwrap();
        assert_eq!(survey.questions.len(), 3);
        let purchase = app.store().stages(business.id).unwrap().into_iter().find(|s| s.name == "Purchase").unwrap();
        assert_eq!((survey.stage, survey.touchpoint), (Some(purchase.id), None));
        assert_eq!(survey.questions[0].kind, QuestionKind::Nps);
        assert!(survey.questions[0].required);
        assert_eq!(survey.questions[2].kind, QuestionKind::Rating { max: 10 });
        assert_eq!(
            survey.questions[1].skip,
            Some(SkipRule { question: survey.questions[0].id, values: vec!["9".into(), "10".into()] })
        );
        // The same definition as JSON reads the same.
        let json = r#"{"name": "Post-purchase survey", "stage": "purchase", "questions": [
            {"text": "How likely are you to recommend us to a friend?", "kind": "nps", "required": true},
            {"text": "What stopped you from ordering more?", "kind": "single_choice", "options": ["Price", "Shipping cost", "Other"], "skip_if": {"question": 1, "values": [9, 10]}},
            {"text": "How would you rate the packaging?", "kind": "rating", "max": 10}]}"#;
        assert_eq!(parse_definition(json, "s.json").unwrap(), parse_definition(DEFINITION, "s.toml").unwrap());
        // The name is taken now.
        let again = app.create_survey_from_file(&business, &file).unwrap_err();
        assert!(matches!(again, AppError::Conflict(_)), "{again}");
        let listed = app.list_surveys(&business).unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!((listed[0].name.as_str(), listed[0].stage.as_deref(), listed[0].questions, listed[0].responses), ("Post-purchase survey", Some("Purchase"), 3, 0));
    }

    #[test]
    fn bad_definitions_name_the_question_and_the_field() {
        let dir = tempfile::tempdir().unwrap();
        let mut app = App::open(&dir.path().join("t.sqlite")).unwrap();
        let business = app.business(None).unwrap();
        let head = "name = \"S\"\nstage = \"Purchase\"\n";
        let nps = "[[questions]]\ntext = \"Recommend?\"\nkind = \"nps\"\n";
        let cases: Vec<(String, &str)> = vec![
            (format!("{head}{nps}[[questions]]\ntext = \"Why?\"\nkind = \"free_text\"\nskip_if = {{ question = 2, values = [\"x\"] }}\n"),
             "s.toml: question 2: `skip_if`: a question can only be skipped by an earlier one (1 to 1), not by question 2"),
            (format!("{head}{nps}[[questions]]\ntext = \"Why?\"\nkind = \"free_text\"\nskip_if = {{ question = 1, values = [11] }}\n"),
             "s.toml: question 2: `skip_if`: question 1: \"11\" is not an answer from 0 to 10"),
            (format!("{head}[[questions]]\ntext = \"Pick\"\nkind = \"single_choice\"\noptions = []\n"),
             "s.toml: question 1: `options`: the list of options is empty"),
            (format!("{head}[[questions]]\ntext = \"Pick\"\nkind = \"multiple_choice\"\n"),
             "s.toml: question 1: `options`: a multiple_choice question needs a list of options"),
            (format!("{head}[[questions]]\ntext = \"Q\"\nkind = \"stars\"\n"),
             "s.toml: question 1: `kind`: unknown kind \"stars\""),
            (format!("{head}{nps}{nps}"), "s.toml: question 2: `text`: the same text as question 1"),
            (format!("{head}[[questions]]\ntext = \"Q\"\nkind = \"nps\"\noptions = [\"a\"]\n"),
             "s.toml: question 1: `options`: only choice questions have options, this one is nps"),
            (format!("name = \"S\"\nstage = \"Nowhere\"\n{nps}"),
             "s.toml: `stage`: no stage named \"Nowhere\" (stages: Awareness, Consideration, Purchase, Retention, Advocacy)"),
            (format!("name = \"S\"\ntouchpoint = \"Till\"\n{nps}"), "s.toml: `touchpoint`: no touchpoint named \"Till\" (touchpoints: )"),
            (format!("name = \"S\"\n{nps}"), "s.toml: a survey is asked at a touchpoint or a stage"),
            (head.to_string(), "s.toml: line 1: missing field `questions`"),
            (format!("{head}[[questions]]\ntext = \"Q\"\nkind = \"nps\"\ncolour = 1\n"), "s.toml: line 6: unknown field `colour`"),
            (format!("{head}questions = [\n"), "s.toml: line 3:"),
        ];
        for (text, expected) in cases {
            let error = parse_definition(&text, "s.toml")
                .and_then(|d| app.create_survey_from_definition(&business, &d, "s.toml"))
                .unwrap_err()
                .to_string();
            assert!(error.starts_with(expected), "expected {expected:?}, got {error:?}");
        }
        assert!(app.list_surveys(&business).unwrap().is_empty(), "no invalid definition was stored");
    }

    #[test]
    fn a_google_forms_export_creates_its_survey_joins_respondents_and_lands_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut app = App::open(&dir.path().join("t.sqlite")).unwrap();
        let business = app.business(None).unwrap();
        let file = write(dir.path(), "Checkout feedback (Responses).csv", GOOGLE.as_bytes());
        let report = form_import(&mut app, FormLayout::GoogleForms, &file, None, None).unwrap();
        assert_eq!(report.survey, "Checkout feedback (Responses)");
        assert!(report.survey_created);
        assert_eq!(
            report.questions.iter().map(|q| q.kind.as_str()).collect::<Vec<_>>(),
            vec!["nps", "csat", "multiple choice: Size guide | Gift wrap | Live chat", "single choice: Instagram | Friend | Google", "free text"]
        );
        // Six rows, five respondents with an email, four free-text answers copied to feedback.
        assert_eq!((report.import.records, report.import.added, report.import.new_customers, report.texts_added), (6, 6, 5, 4));
        let surveys = app.store().surveys(business.id).unwrap();
        let responses = app.store().responses(surveys[0].id).unwrap();
        assert_eq!(responses.len(), 6);
        assert_eq!(responses.iter().filter(|r| r.customer.is_some()).count(), 5);
        let anna = responses.iter().find(|r| r.hidden.get("email").map(String::as_str) == Some("Anna@Example.com")).unwrap();
        assert_eq!(anna.answers[0].value, AnswerValue::Number(9.0));
        assert_eq!(anna.answers[2].value, AnswerValue::Choices(vec!["Size guide".into(), "Gift wrap".into()]));
        let texts: Vec<_> = app.store().feedback(business.id).unwrap().into_iter().filter(|f| f.kind == FeedbackKind::SurveyText).collect();
        assert_eq!(texts.len(), 4);
        assert!(texts.iter().all(|f| f.source == "Checkout feedback (Responses)"));

        // The same file again (under another name) goes to the same survey and adds nothing.
        let copy = write(dir.path(), "again.csv", GOOGLE.as_bytes());
        let again = form_import(&mut app, FormLayout::GoogleForms, &copy, None, None).unwrap();
        assert!(!again.survey_created);
        assert_eq!((again.survey.as_str(), again.import.added, again.import.duplicates, again.texts_added), ("Checkout feedback (Responses)", 0, 6, 0));
        let listed = app.list_surveys(&business).unwrap();
        assert_eq!((listed.len(), listed[0].responses), (1, 6));
        assert_eq!(listed[0].last_response.as_deref(), Some("2024-03-08T17:30:00.000Z"));
    }

    const TYPEFORM_HEAD: &str = "#,How likely are you to recommend us to a friend?,What stopped you from ordering more?,order_id,Start Date (UTC),Submit Date (UTC),Network ID\n";

    #[test]
    fn typeform_rows_join_through_the_order_and_bad_rows_stop_the_import_unless_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let mut app = App::open(&dir.path().join("t.sqlite")).unwrap();
        let business = app.business(None).unwrap();
        let definition = write(dir.path(), "survey.toml", DEFINITION.as_bytes());
        app.create_survey_from_file(&business, &definition).unwrap();
        let orders = write(dir.path(), "orders.csv", b"order_id,created_at,email,total,currency\n5001,2026-05-01T10:00:00Z,olga@example.com,80.00,USD\n");
        app.import(ImportRequest::new(RecordKind::Orders, &orders, &business))
            .unwrap();
        let data = format!(
            "{TYPEFORM_HEAD}r1,3,Shipping cost,5001,2026-05-02 10:00:00,2026-05-02 10:01:00,n1\n\
             r2,11,Price,,2026-05-02 11:00:00,2026-05-02 11:01:00,n2\n\
             r3,10,,,2026-05-03 11:00:00,2026-05-03 11:01:00,n3\n\
             r4,5,Too slow,,2026-05-03 12:00:00,2026-05-03 12:01:00,n4\n"
        );
        let file = write(dir.path(), "typeform.csv", data.as_bytes());
        let error = form_import(&mut app, FormLayout::Typeform, &file, Some("post-purchase SURVEY"), None).unwrap_err();
        let text = error.to_string();
        assert!(text.contains("1 invalid row(s), nothing was imported"), "{text}");
        assert!(text.contains("typeform.csv:3: column `How likely are you to recommend us to a friend?`: an NPS answer must be a number from 0 to 10, found \"11\""), "{text}");

        let survey = app.store().surveys(business.id).unwrap().remove(0);
        assert!(app.store().responses(survey.id).unwrap().is_empty(), "nothing landed");

        let rejects = dir.path().join("rejects.csv");
        let report = form_import(&mut app, FormLayout::Typeform, &file, Some("Post-purchase survey"), Some(rejects.clone())).unwrap();
        assert_eq!((report.import.records, report.import.added, report.import.rejected, report.survey_created), (4, 3, 1, false));
        let written = std::fs::read_to_string(&rejects).unwrap();
        assert!(written.starts_with("line,column,reason,raw\n3,How likely are you to recommend us to a friend?,"), "{written}");
        assert!(written.ends_with(",\"r2,11,Price,,2026-05-02 11:00:00,2026-05-02 11:01:00,n2\"\n"), "{written}");
        let responses = app.store().responses(survey.id).unwrap();
        let olga = app.store().orders(business.id).unwrap()[0].customer;
        let joined = responses.iter().find(|r| r.hidden.get("response_id").map(String::as_str) == Some("r1")).unwrap();
        assert_eq!(joined.customer, Some(olga), "the order number found the customer");
        assert_eq!(joined.answers[1].value, AnswerValue::Choices(vec!["Shipping cost".into()]));
        // The survey's choice question has an "Other" option, so a text of the respondent's own is kept.
        let other = responses.iter().find(|r| r.hidden.get("response_id").map(String::as_str) == Some("r4")).unwrap();
        assert_eq!(other.answers[1].value, AnswerValue::Choices(vec!["Too slow".into()]));

        let unknown = form_import(&mut app, FormLayout::Typeform, &file, Some("Exit survey"), None).unwrap_err();
        assert!(matches!(unknown, AppError::NotFound(ref m) if m.contains("surveys: Post-purchase survey")), "{unknown}");
    }

    #[test]
    fn notes_and_json_reviews_land_whole_and_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut app = App::open(&dir.path().join("t.sqlite")).unwrap();
        let business = app.business(None).unwrap();
        let notes = write(dir.path(), "interview.md", NOTES.as_bytes());
        // The notes name a touchpoint the business does not have yet: every quote says so.
        let error = app.import_notes(&business, &notes, None).unwrap_err().to_string();
        assert!(error.contains("5 invalid row(s), nothing was imported"), "{error}");
        assert!(error.contains("interview.md:10: column `touchpoint`: no touchpoint named \"Checkout\" (touchpoints: )"), "{error}");
        app.store_mut()
            .write::<trailmap_store::StoreError>(&mut |w| {
                w.create_touchpoint(&Touchpoint {
                    id: TouchpointId(0),
                    business: business.id,
                    name: "Checkout".into(),
                    channel: TouchpointChannel::Web,
                    stage: None,
                    online: true,
                    rule: EventRule::named("checkout_started"),
                    description: String::new(),
                })
                .map(|_| ())
            })
            .unwrap();
        let report = app.import_notes(&business, &notes, None).unwrap();
        assert_eq!((report.records, report.added, report.layout.as_str()), (5, 5, "notes"));
        let again = app.import_notes(&business, &notes, None).unwrap();
        assert_eq!((again.added, again.duplicates), (0, 5));
        let stored = app.store().feedback(business.id).unwrap();
        assert!(stored.iter().any(|f| f.kind == FeedbackKind::Note && f.tags == vec!["shipping".to_string(), "checkout".to_string()]));

        let reviews = write(dir.path(), "reviews.json", REVIEWS.as_bytes());
        let report = app.import_reviews(&business, &reviews, None).unwrap();
        assert_eq!((report.records, report.added, report.layout.as_str()), (3, 3, "reviews-json"));
        let trustpilot = app.store().feedback(business.id).unwrap().into_iter().find(|f| f.source == "trustpilot").unwrap();
        assert_eq!(trustpilot.rating, Some(2.0));

        // An element without its text: the import names its line and lands nothing...
        let broken = write(dir.path(), "broken.json", b"[\n  {\"source\": \"yelp\", \"date\": \"2026-01-02\", \"text\": \"Nice\"},\n  {\"source\": \"yelp\", \"date\": \"2026-01-03\"}\n]\n");
        let error = app.import_reviews(&business, &broken, None).unwrap_err().to_string();
        assert!(error.contains("broken.json:3: "), "{error}");
        let before = app.store().feedback(business.id).unwrap().len();
        // ... unless asked to skip it.
        let report = app.import_reviews(&business, &broken, Some(dir.path().join("r.csv"))).unwrap();
        assert_eq!((report.added, report.rejected), (1, 1));
        assert_eq!(app.store().feedback(business.id).unwrap().len(), before + 1);
        // CSV reviews go through the generic feedback import.
        let csv = write(dir.path(), "reviews.csv", b"date,source,rating,text\n2025-02-05,google,2,Shipping is way too expensive\n");
        assert_eq!(app.import_reviews(&business, &csv, None).unwrap().added, 1);
    }
}

// ---- the voice of the customer (issue 8): survey scores, sentiment and themes on the demo ----

#[test]
fn voice_of_the_customer_on_the_demo_boutique() {
    use trailmap_app::voice::{ScoreGrouping, ScoreKind, SurveyResultsRequest, ThemeOptions, ThemeOrder, ThemesRequest};
    let mut app = App::in_memory().unwrap();
    app.demo(&DemoOptions { customers: 1_500, seed: 7 }).unwrap();
    let boutique = app.business(Some("Thread & Needle")).unwrap();

    let request = SurveyResultsRequest { by: Some(ScoreGrouping::Touchpoint), ..SurveyResultsRequest::default() };
    let results = app.survey_results(&boutique, &request).unwrap();
    let nps = results.questions.iter().find(|q| q.overall.kind == ScoreKind::Nps).expect("an NPS question");
    let value = nps.overall.value.expect("answers");
    let interval = nps.overall.interval.expect("an interval");
    assert!(nps.overall.n > 10 && interval.low <= value && value <= interval.high);
    assert_eq!(nps.groups.iter().map(|g| g.result.n).sum::<u64>(), nps.overall.n);
    assert!(app.survey_results(&boutique, &SurveyResultsRequest { survey: Some("no such".into()), ..Default::default() }).is_err());

    // Shipping is the checkout's biggest theme. It is NOT reliably its most negative by VADER:
    // VADER reads "expensive" as neutral and the demo's closers ("Thanks!", "will be back") lift
    // many shipping complaints, so on this demo "size" has more negative texts and a lower
    // average (reported on issue 8 rather than asserted away).
    let themes = |order| {
        let request = ThemesRequest {
            touchpoint: Some("checkout".into()),
            stage: None,
            persona: None,
            options: ThemeOptions { order, ..ThemeOptions::default() },
        };
        app.feedback_themes(&boutique, &request).unwrap()
    };
    let by_count = themes(ThemeOrder::NegativeCount);
    assert_eq!(by_count.scope, "touchpoint Checkout");
    assert!(by_count.themes.windows(2).all(|w| w[0].negative >= w[1].negative));
    let biggest = by_count.themes.iter().max_by_key(|t| t.count).expect("themes");
    assert_eq!(biggest.label, "shipping");
    assert!(biggest.phrases.iter().any(|p| p.phrase.starts_with("shipping cost")), "{:?}", biggest.phrases);
    assert!(biggest.examples.windows(2).all(|w| w[0].compound <= w[1].compound));
    assert!(by_count.themes.iter().all(|t| t.count >= 3 && t.count as usize == t.documents.len()));
    let by_average = themes(ThemeOrder::AverageSentiment);
    assert!(by_average.themes.windows(2).all(|w| w[0].average_compound <= w[1].average_compound));
    assert!(app.feedback_themes(&boutique, &ThemesRequest { touchpoint: Some("Nowhere".into()), ..Default::default() }).is_err());

    let sentiment = app.feedback_sentiment(&boutique, Some(5)).unwrap();
    assert_eq!(sentiment.texts.len(), 5);
    assert_eq!(sentiment.negative + sentiment.neutral + sentiment.positive, sentiment.n);
    assert!(sentiment.texts.windows(2).all(|w| w[0].sentiment.compound <= w[1].sentiment.compound));
}

// ---------------------------------------------------------------------------------------------
// Journey maps

mod maps {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use std::collections::BTreeSet;
    use trailmap_app::{
        MapChange, MapEdit, MapExportFormat, MapNumbersRequest, MapTemplate, ShareLinkError, apply_edit, diff_maps,
    };
    use trailmap_model::{
        Business, Card, CardAction, CustomerCondition, CustomerField, CustomerId, Evidence, EventField, EventRule,
        JourneyMap, Lane, MapId, MapVersionKind, Op, Persona, PersonaId, Timestamp, Touchpoint, TouchpointChannel,
        TouchpointId,
    };
    use trailmap_store::StoreError;

    fn day(text: &str) -> Timestamp {
        Timestamp::parse_rfc3339(&format!("{text}T00:00:00Z")).unwrap()
    }

    /// A business "Shop" with touchpoints "Instagram ad" (page_view from instagram), "Cart"
    /// (add_to_cart) and "Checkout" (purchase), a persona "Instagram crowd" (first source
    /// instagram) and the fixture's journeys.
    fn shop(fixture: &str) -> (App, Business, Vec<TouchpointId>, PersonaId) {
        let mut app = App::in_memory().unwrap();
        let business = app.create_business("Shop", "USD", "UTC").unwrap();
        let mut touchpoints = Vec::new();
        let mut persona = PersonaId(0);
        app.store_mut()
            .write::<StoreError>(&mut |w| {
                for (name, rule) in [
                    ("Instagram ad", EventRule::named("page_view").and(EventField::Source, Op::Equals("instagram".into()))),
                    ("Cart", EventRule::named("add_to_cart")),
                    ("Checkout", EventRule::named("purchase")),
                ] {
                    touchpoints.push(w.create_touchpoint(&Touchpoint {
                        id: TouchpointId(0),
                        business: business.id,
                        name: name.into(),
                        channel: TouchpointChannel::Web,
                        stage: None,
                        online: true,
                        rule,
                        description: String::new(),
                    })?);
                }
                persona = w.create_persona(&Persona {
                    id: PersonaId(0),
                    business: business.id,
                    name: "Instagram crowd".into(),
                    initials: None,
                    photo: None,
                    demographics: vec![],
                    goals: vec![],
                    frustrations: vec![],
                    behaviours: vec![],
                    quote: None,
                    segment: Some(trailmap_model::CustomerRule {
                        conditions: vec![CustomerCondition {
                            field: CustomerField::FirstSource,
                            op: Op::Equals("instagram".into()),
                            negate: false,
                        }],
                    }),
                })?;
                Ok(())
            })
            .unwrap();
        app.write_fixture(&trailmap_testkit::journeys(fixture).unwrap(), &business).unwrap();
        (app, business, touchpoints, persona)
    }

    /// A blank map (the five default stages) with the shop's touchpoints on its first three.
    fn measured_map(app: &mut App, business: &Business, touchpoints: &[TouchpointId]) -> JourneyMap {
        let map = app.create_map(business, "Online journey", MapTemplate::Blank, "ann").unwrap();
        for (stage, touchpoint) in map.stages.iter().zip(touchpoints) {
            app.edit_map(business, map.id, &MapEdit::AddTouchpoint { stage: stage.id, touchpoint: *touchpoint }, "ann").unwrap();
        }
        app.journey_map(business, map.id).unwrap().map
    }

    fn ids(app: &App, business: &Business, labels: &[&str]) -> Vec<CustomerId> {
        let customers = app.store().customers(business.id, usize::MAX, 0).unwrap();
        let mut out: Vec<CustomerId> = labels
            .iter()
            .map(|l| customers.iter().find(|c| c.external_id.as_deref() == Some(*l)).unwrap().id)
            .collect();
        out.sort();
        out
    }

    const FIXTURE: &str = "
        customer ann
          2026-01-10 10:00:00 page_view source=instagram
          +1h add_to_cart
          +1h purchase
          +1m order total=50
        customer bob
          2026-01-12 10:00:00 page_view source=instagram
          +1d add_to_cart
        customer cat
          2026-01-15 10:00:00 page_view source=google
          +1m add_to_cart
          +1m purchase
          +1m order total=20
        customer dan
          2026-02-20 10:00:00 page_view source=instagram
          +1m order total=99
        ";

    #[test]
    fn live_numbers_per_stage_and_touchpoint_with_their_customers() {
        let (mut app, business, touchpoints, persona) = shop(FIXTURE);
        let map = measured_map(&mut app, &business, &touchpoints);
        let request = MapNumbersRequest { period: Some((day("2026-01-01"), day("2026-02-01"))), ..MapNumbersRequest::default() };
        let numbers = app.map_numbers(&business, map.id, &request).unwrap();
        let s = &numbers.stages;
        assert_eq!(s.len(), 5);
        // Awareness: ann and bob saw the ad in January (dan in February); both reached the cart.
        assert_eq!(s[0].reach.customers, ids(&app, &business, &["ann", "bob"]));
        assert_eq!(s[0].entered_here.customers, ids(&app, &business, &["ann", "bob"]));
        let next = s[0].to_next.as_ref().unwrap();
        assert_eq!((next.n, next.converted.n, next.dropped.n, next.rate), (2, 2, 0, 1.0));
        // ann's order came after her purchase: it is Purchase's, not Awareness's.
        assert_eq!((s[0].revenue.amount, s[0].revenue.orders), (0.0, 0));
        // Consideration: three carts, two went on to buy; bob dropped. cat came by Google (no
        // touchpoint of the map), so her journey starts here.
        assert_eq!(s[1].reach.n, 3);
        assert_eq!((s[1].entered_here.customers.clone(), s[1].from_earlier.n), (ids(&app, &business, &["cat"]), 2));
        let next = s[1].to_next.as_ref().unwrap();
        assert_eq!((next.converted.n, next.dropped.customers.clone()), (2, ids(&app, &business, &["bob"])));
        assert!((next.rate - 2.0 / 3.0).abs() < 1e-12);
        // Purchase: ann and cat, $70.00 in two January orders; no measured stage after it.
        assert_eq!((s[2].reach.n, s[2].revenue.amount, s[2].revenue.orders), (2, 70.0, 2));
        assert_eq!(s[2].revenue.shown, "$70");
        assert!(s[2].to_next.is_none());
        assert_eq!(numbers.unplaced_revenue.orders, 0);
        assert!(!s[3].measured && s[3].reach.n == 0);
        assert_eq!(numbers.touchpoints.iter().map(|t| (t.name.as_str(), t.reach.n)).collect::<Vec<_>>(), vec![("Instagram ad", 2), ("Cart", 3), ("Checkout", 2)]);

        // The persona "Instagram crowd" (first source instagram) covers ann, bob and dan.
        let coverage = app.persona_coverage(&business).unwrap();
        assert_eq!((coverage[0].n, coverage[0].customers.clone()), (3, ids(&app, &business, &["ann", "bob", "dan"])));
        let numbers = app.map_numbers(&business, map.id, &MapNumbersRequest { persona: Some(persona), ..request.clone() }).unwrap();
        assert_eq!(numbers.persona.as_deref(), Some("Instagram crowd"));
        assert_eq!(numbers.stages[1].reach.customers, ids(&app, &business, &["ann", "bob"]), "cat is not in the persona");
        assert_eq!(numbers.stages[1].to_next.as_ref().unwrap().converted.n, 1);
        // All time: dan's February ad view counts too, and his order (recorded with its purchase
        // event) a minute after it is Purchase's, where he skipped Consideration; every order
        // once, at one stage.
        let all = app.map_numbers(&business, map.id, &MapNumbersRequest::default()).unwrap();
        assert_eq!((all.stages[0].reach.n, all.stages[0].revenue.amount, all.stages[2].revenue.amount), (3, 0.0, 169.0));
        let next = all.stages[0].to_next.as_ref().unwrap();
        assert_eq!((next.to_next_stage.n, next.skipped.customers.clone()), (2, ids(&app, &business, &["dan"])));
        assert_eq!(all.stages.iter().map(|s| s.revenue.orders).sum::<usize>(), 3);
        let error = app.map_numbers(&business, map.id, &MapNumbersRequest { persona: Some(PersonaId(999)), ..request }).unwrap_err();
        assert!(error.to_string().contains("persona"), "{error}");
    }

    #[test]
    fn reach_and_conversion_agree_with_a_brute_force_count_on_random_journeys() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let names = ["page_view source=instagram", "page_view source=google", "add_to_cart", "purchase"];
        let mut fixture = String::new();
        // Per customer, their events as (minute from 2026-01-01, kind index).
        let mut journeys: Vec<Vec<(i64, usize)>> = Vec::new();
        for c in 0..60 {
            fixture.push_str(&format!("customer c{c}\n"));
            let mut minute = rng.random_range(0..60 * 24 * 60);
            let mut events = Vec::new();
            for _ in 0..rng.random_range(1..7) {
                let kind = rng.random_range(0..names.len());
                let at = Timestamp(day("2026-01-01").0 + minute * 60_000);
                fixture.push_str(&format!("  {} {}\n", at.to_rfc3339(), names[kind]));
                events.push((minute, kind));
                minute += rng.random_range(1..20 * 24 * 60);
            }
            journeys.push(events);
        }
        let (mut app, business, touchpoints, _) = shop(&fixture);
        let map = measured_map(&mut app, &business, &touchpoints);
        let (from, to) = (20 * 24 * 60, 40 * 24 * 60);
        let window = 7 * 24 * 60;
        let request = MapNumbersRequest {
            period: Some((Timestamp(day("2026-01-01").0 + from * 60_000), Timestamp(day("2026-01-01").0 + to * 60_000))),
            window_ms: window * 60_000,
            ..MapNumbersRequest::default()
        };
        let numbers = app.map_numbers(&business, map.id, &request).unwrap();
        // Stage k's events: kind 0 (instagram view), 2 (cart), 3 (purchase); each touchpoint is
        // on one stage, so a customer reaches stage k at their first event of its kind.
        let stage_kind = [0, 2, 3];
        assert!(numbers.stages[..3].iter().all(|s| s.reach.n > 5), "the random data reach every stage");
        let first = |j: &[(i64, usize)], k: usize| j.iter().find(|e| e.1 == stage_kind[k]).map(|e| e.0);
        for k in 0..3 {
            let reached: Vec<&Vec<(i64, usize)>> = journeys.iter().filter(|j| first(j, k).is_some_and(|m| m >= from && m < to)).collect();
            assert_eq!(numbers.stages[k].reach.n, reached.len(), "stage {k}");
            if k < 2 {
                // Back at the stage after a later one: neither going on nor dropping off.
                let past = reached.iter().filter(|j| (k + 1..3).any(|l| first(j, l) < first(j, k) && first(j, l).is_some())).count();
                let went_on = reached
                    .iter()
                    .filter(|j| {
                        let at = first(j, k).unwrap();
                        !(k + 1..3).any(|l| first(j, l).is_some_and(|m| m < at)) && (k + 1..3).any(|l| first(j, l).is_some_and(|m| m > at && m - at <= window))
                    })
                    .count();
                let next = numbers.stages[k].to_next.as_ref().unwrap();
                assert_eq!(
                    (next.already_past.n, next.n, next.converted.n, next.dropped.n),
                    (past, reached.len() - past, went_on, reached.len() - past - went_on),
                    "stage {k}"
                );
            }
        }
    }

    #[test]
    fn edits_save_versions_and_diffs_list_what_changed() {
        let (mut app, business, touchpoints, persona) = shop(FIXTURE);
        let map = app.create_map(&business, "Café", MapTemplate::CoffeeShop, "maya").unwrap();
        assert_eq!(map.stages.len(), 5);
        assert!(map.cards().all(|(_, _, c)| c.id > 0 && c.is_assumption()));
        let purchase = map.stages[2].id;
        let pain = map.stages[2].pain_points[0].id;
        let edits = [
            MapEdit::Rename { name: "Bean There".into() },
            MapEdit::AddCard { stage: purchase, lane: Lane::Thoughts, text: "Smells great".into(), position: Some(0) },
            MapEdit::EditCard { card: pain, text: "Queues of 10+ minutes".into(), evidence: vec![Evidence::Metric { name: "repeat-rate".into() }] },
            MapEdit::PainPointToOpportunity { card: pain, text: "Second till".into() },
            MapEdit::MoveStage { stage: map.stages[4].id, position: 0 },
            MapEdit::SetEmotion { stage: purchase, persona: None, score: -2.0 },
            MapEdit::AddPersona { persona },
            MapEdit::AddTouchpoint { stage: purchase, touchpoint: touchpoints[2] },
        ];
        for edit in &edits {
            app.edit_map(&business, map.id, edit, "sam").unwrap();
        }
        let versions = app.map_versions(&business, map.id).unwrap();
        assert_eq!(versions.len(), 1 + edits.len());
        assert_eq!((versions[0].author.as_str(), versions[1].author.as_str()), ("maya", "sam"));

        let diff = app.diff_map_versions(&business, map.id, 1, versions.len() as u32).unwrap();
        let opportunity = app.journey_map(&business, map.id).unwrap().map.stages[3].opportunities.last().cloned().unwrap();
        assert_eq!(opportunity.from, Some(pain));
        let kinds: Vec<String> = diff.changes.iter().map(|c| serde_json::to_value(c).unwrap()["change"].as_str().unwrap().to_string()).collect();
        assert_eq!(
            kinds,
            vec!["renamed", "persona_added", "stage_moved", "card_added", "card_changed", "card_added", "emotion_changed", "touchpoint_added"]
        );
        assert!(diff.text.contains("stage \"Advocacy\" moved from position 5 to 1"), "{}", diff.text);
        assert!(diff.text.contains("changed to \"Queues of 10+ minutes\""), "{}", diff.text);
        assert!(diff.text.contains("emotion of the map at Purchase changed from -1.0 to -2.0"), "{}", diff.text);
        assert!(app.diff_map_versions(&business, map.id, 2, 2).unwrap().changes.is_empty());

        // An opportunity becomes an action; bad edits are refused with the field named.
        let action = CardAction { owner: "Maya".into(), due: None, change: None, kpi: Some("wait time".into()), done: false };
        app.edit_map(&business, map.id, &MapEdit::SetAction { card: opportunity.id, action: Some(action) }, "maya").unwrap();
        for (edit, expected) in [
            (MapEdit::SetEmotion { stage: purchase, persona: None, score: 2.5 }, "score"),
            (MapEdit::SetAction { card: pain, action: Some(CardAction { owner: "x".into(), due: None, change: None, kpi: None, done: false }) }, "only opportunities"),
            (MapEdit::RemoveCard { card: 9999 }, "card"),
            (MapEdit::AddTouchpoint { stage: purchase, touchpoint: TouchpointId(9999) }, "touchpoint"),
            (MapEdit::Rename { name: "  ".into() }, "name"),
        ] {
            let error = app.edit_map(&business, map.id, &edit, "maya").unwrap_err().to_string();
            assert!(error.contains(expected), "{edit:?}: {error}");
        }
        assert_eq!(app.map_versions(&business, map.id).unwrap().len(), 2 + edits.len(), "refused edits save nothing");

        // Stale maps: review date before the day asked about.
        let details = MapEdit::SetDetails { owner: Some("Maya".into()), review_date: Some(NaiveDate::from_ymd_opt(2026, 1, 15).unwrap()), kind: MapVersionKind::AsIs };
        app.edit_map(&business, map.id, &details, "maya").unwrap();
        assert_eq!(app.stale_maps(&business, NaiveDate::from_ymd_opt(2026, 1, 16).unwrap()).unwrap().len(), 1);
        assert!(app.stale_maps(&business, NaiveDate::from_ymd_opt(2026, 1, 15).unwrap()).unwrap().is_empty());

        let to_be = app.create_to_be_map(&business, map.id, "maya").unwrap();
        assert_eq!((to_be.kind, to_be.as_is), (MapVersionKind::ToBe, Some(map.id)));
        app.delete_map(&business, to_be.id).unwrap();
        assert!(app.journey_map(&business, to_be.id).is_err());
    }

    use chrono::NaiveDate;

    #[test]
    fn random_edits_diff_like_an_independent_comparison() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let mut app = App::in_memory().unwrap();
        let business = app.business(None).unwrap();
        for template in MapTemplate::ALL {
            let mut map = app.create_map(&business, "m", template, "a").unwrap();
            for _ in 0..40 {
                let before = map.clone();
                let stages: Vec<u32> = map.stages.iter().map(|s| s.id).collect();
                let cards: Vec<u32> = map.cards().map(|(_, _, c)| c.id).collect();
                let stage = if stages.is_empty() { 1 } else { stages[rng.random_range(0..stages.len())] };
                let card = if cards.is_empty() { 1 } else { cards[rng.random_range(0..cards.len())] };
                let lane = Lane::ALL[rng.random_range(0..5)];
                let edit = match rng.random_range(0..7) {
                    0 => MapEdit::AddStage { name: format!("S{}", rng.random_range(0..99)), position: None },
                    1 => MapEdit::MoveStage { stage, position: rng.random_range(0..stages.len().max(1)) },
                    2 => MapEdit::RemoveStage { stage },
                    3 => MapEdit::AddCard { stage, lane, text: format!("card {}", rng.random_range(0..99)), position: None },
                    4 => MapEdit::EditCard { card, text: format!("edited {}", rng.random_range(0..99)), evidence: vec![] },
                    5 => MapEdit::MoveCard { card, stage, lane, position: Some(0) },
                    _ => MapEdit::RemoveCard { card },
                };
                if apply_edit(&mut map, &edit).is_err() {
                    assert_eq!(map, before, "a refused edit leaves the map as it was: {edit:?}");
                    continue;
                }
                let changes = diff_maps(&before, &map);
                assert_eq!(changes.is_empty(), before == map, "{edit:?}");
                // Independently: the cards added and removed are the set differences of the ids.
                let ids = |m: &JourneyMap| m.cards().map(|(_, _, c)| c.id).collect::<BTreeSet<u32>>();
                let added: BTreeSet<u32> = changes.iter().filter_map(|c| if let MapChange::CardAdded { card, .. } = c { Some(*card) } else { None }).collect();
                let removed: BTreeSet<u32> = changes.iter().filter_map(|c| if let MapChange::CardRemoved { card, .. } = c { Some(*card) } else { None }).collect();
                assert_eq!(added, ids(&map).difference(&ids(&before)).copied().collect());
                assert_eq!(removed, ids(&before).difference(&ids(&map)).copied().collect());
                let stage_ids = |m: &JourneyMap| m.stages.iter().map(|s| s.id).collect::<Vec<u32>>();
                let moved = changes.iter().any(|c| matches!(c, MapChange::StageMoved { .. }));
                let common = |a: &JourneyMap, b: &JourneyMap| stage_ids(a).into_iter().filter(|id| stage_ids(b).contains(id)).collect::<Vec<_>>();
                assert_eq!(moved, common(&before, &map) != common(&map, &before), "{edit:?}");
            }
        }
    }

    #[test]
    fn json_export_imports_back_identical_and_into_another_business() {
        let (mut app, business, touchpoints, persona) = shop(FIXTURE);
        let map = measured_map(&mut app, &business, &touchpoints);
        let stage = map.stages[0].id;
        let card = app.edit_map(&business, map.id, &MapEdit::AddCard { stage, lane: Lane::Goals, text: "Find a gift".into(), position: None }, "a").unwrap().map.stages[0].goals[0].id;
        for edit in [
            MapEdit::EditCard { card, text: "Find a gift: quickly".into(), evidence: vec![Evidence::Note { text: "interviews".into() }] },
            MapEdit::AddPersona { persona },
            MapEdit::SetEmotion { stage, persona: Some(persona), score: 1.5 },
            MapEdit::SetDetails { owner: Some("Priya".into()), review_date: NaiveDate::from_ymd_opt(2027, 1, 31), kind: MapVersionKind::AsIs },
        ] {
            app.edit_map(&business, map.id, &edit, "a").unwrap();
        }
        let original = app.journey_map(&business, map.id).unwrap().map;
        let json = String::from_utf8(app.export_map(&business, map.id, MapExportFormat::Json, None).unwrap()).unwrap();
        let imported = app.import_map_json(&business, &json, "b").unwrap();
        assert!(imported.dropped.is_empty(), "{:?}", imported.dropped);
        assert_ne!(imported.id, map.id);
        assert_eq!(JourneyMap { id: map.id, ..imported.map.clone() }, original);
        assert_eq!(JourneyMap { id: map.id, ..app.journey_map(&business, imported.id).unwrap().map }, original);
        // Exporting the copy gives the same document.
        assert_eq!(String::from_utf8(app.export_map(&business, imported.id, MapExportFormat::Json, None).unwrap()).unwrap(), json);

        // Another business has the stages but none of the touchpoints or personas: the touchpoints
        // come with the map (created there, on the same columns), the persona is left out.
        let other = app.create_business("Other", "USD", "UTC").unwrap();
        let elsewhere = app.import_map_json(&other, &json, "b").unwrap();
        assert_eq!(elsewhere.map.business, other.id);
        let names = |app: &App, b: &Business, m: &JourneyMap| -> Vec<Vec<String>> {
            let all = app.store().touchpoints(b.id).unwrap();
            m.stages.iter().map(|s| s.touchpoints.iter().map(|t| all.iter().find(|x| x.id == *t).unwrap().name.clone()).collect()).collect()
        };
        assert_eq!(names(&app, &other, &elsewhere.map), names(&app, &business, &original));
        assert!(!elsewhere.touchpoints_created.is_empty() && elsewhere.map.stages.iter().all(|s| s.stage.is_some()));
        assert!(elsewhere.dropped.contains(&"persona \"Instagram crowd\"".to_string()), "{:?}", elsewhere.dropped);
        assert_eq!(elsewhere.map.stages[0].goals[0].text, "Find a gift: quickly");

        for (bad, expected) in [
            ("{", "map document: line 1"),
            (r#"{"format":"other","version":1,"name":"x","kind":"as_is","owner":null,"review_date":null,"personas":[],"stages":[]}"#, "format"),
            (r#"{"format":"trailmap-journey-map","version":9,"name":"x","kind":"as_is","owner":null,"review_date":null,"personas":[],"stages":[]}"#, "version"),
            (r#"{"format":"trailmap-journey-map","version":1,"name":"x","kind":"as_is","owner":null,"review_date":null,"personas":[],"stages":[{"id":1,"name":"A","emotions":[{"persona":null,"score":7}]}]}"#, "stages[0].emotions"),
        ] {
            let error = app.import_map_json(&business, bad, "b").unwrap_err().to_string();
            assert!(error.contains(expected), "{error}");
        }
        // Another business's map is not found through this one.
        assert!(matches!(app.journey_map(&other, map.id), Err(AppError::NotFound(_))));
    }

    #[test]
    fn share_links_open_only_with_the_right_token_password_and_time() {
        let mut app = App::in_memory().unwrap();
        let business = app.business(None).unwrap();
        let map = app.create_map(&business, "Shared", MapTemplate::Services, "ann").unwrap();
        let now = day("2026-03-01");
        let later = day("2026-03-08");
        let open = app.create_share_link(&business, map.id, None, None, "ann", now).unwrap();
        assert_eq!(app.open_share_link(&open.token, None, now).unwrap().map.name, "Shared");
        assert!(app.open_share_link(&open.token, Some("anything"), now).is_ok(), "a link without password ignores one");
        let guarded = app.create_share_link(&business, map.id, Some("correct horse"), Some(later), "ann", now).unwrap();
        assert!(guarded.path.starts_with("/share/tms_"));
        assert!(matches!(app.open_share_link(&guarded.token, None, now), Err(ShareLinkError::PasswordNeeded)));
        assert!(matches!(app.open_share_link(&guarded.token, Some("wrong horse"), now), Err(ShareLinkError::WrongPassword)));
        assert!(app.open_share_link(&guarded.token, Some("correct horse"), now).is_ok());
        assert!(matches!(app.open_share_link(&guarded.token, Some("correct horse"), later), Err(ShareLinkError::Expired(_))));
        assert!(matches!(app.open_share_link("tms_nope", None, now), Err(ShareLinkError::Unknown)));
        // The store keeps hashes only.
        let stored = app.share_links(&business, map.id).unwrap();
        assert_eq!(stored.len(), 2);
        assert!(stored.iter().all(|l| l.token_hash.len() == 64 && !l.token_hash.contains(&open.token)));
        assert!(stored.iter().any(|l| l.password_hash.as_deref().is_some_and(|h| h.starts_with("$argon2id$"))));
        // Revoked and deleted maps' links open nothing.
        app.revoke_share_link(&business, map.id, &open.token).unwrap();
        assert!(matches!(app.open_share_link(&open.token, None, now), Err(ShareLinkError::Unknown)));
        for (password, expires, expected) in [(Some("short"), None, "password"), (None, Some(now), "expires")] {
            let error = app.create_share_link(&business, map.id, password, expires, "ann", now).unwrap_err().to_string();
            assert!(error.contains(expected), "{error}");
        }
        app.delete_map(&business, map.id).unwrap();
        assert!(matches!(app.open_share_link(&guarded.token, Some("correct horse"), now), Err(ShareLinkError::Unknown)));
    }

    #[test]
    fn mermaid_text_scores_emotions_one_to_five_per_persona() {
        use std::collections::HashMap;
        let mut map = JourneyMap {
            id: MapId(1),
            business: trailmap_model::BusinessId(1),
            name: "Coffee: a morning".into(),
            kind: MapVersionKind::AsIs,
            owner: None,
            review_date: None,
            personas: vec![PersonaId(1), PersonaId(2)],
            stages: vec![trailmap_model::MapStage::named("Arrive"), trailmap_model::MapStage::named("Order")],
            as_is: None,
        };
        map.stages[0].goals.push(Card::assumption("Find a seat; quickly"));
        map.stages[1].actions = vec![Card::assumption("Orders at the counter"), Card::assumption("Pays by card")];
        for (stage, p, score) in [(0, 1, 1.6), (0, 2, 1.4), (1, 1, -2.0), (1, 2, 0.4)] {
            map.stages[stage].emotions.push(trailmap_model::PersonaEmotion { persona: Some(PersonaId(p)), score });
        }
        let names = HashMap::from([(PersonaId(1), "Student".to_string()), (PersonaId(2), "Remote, worker".to_string())]);
        assert_eq!(
            trailmap_app::mermaid(&map, &names),
            "journey\n    title Coffee a morning\n    section Arrive\n      Find a seat quickly: 5: Student\n      Find a seat quickly: 4: Remote worker\n    section Order\n      Orders at the counter: 3: Remote worker\n      Orders at the counter: 1: Student\n      Pays by card: 3: Remote worker\n      Pays by card: 1: Student\n"
        );
        assert_eq!([-2.0, -1.4, 0.0, 0.6, 2.0].map(trailmap_app::mermaid_score), [1, 2, 3, 4, 5]);
    }

    #[test]
    fn exports_draw_the_map_with_its_numbers() {
        let (mut app, business, touchpoints, _) = shop(FIXTURE);
        let map = measured_map(&mut app, &business, &touchpoints);
        let numbers = app.map_numbers(&business, map.id, &MapNumbersRequest::default()).unwrap();
        let svg = String::from_utf8(app.export_map(&business, map.id, MapExportFormat::Svg, Some(&numbers)).unwrap()).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("Reach 3 customers") && svg.contains("Instagram ad"), "{svg}");
        assert!(app.export_map(&business, map.id, MapExportFormat::Png, None).unwrap().starts_with(b"\x89PNG"));
        assert!(app.export_map(&business, map.id, MapExportFormat::Pdf, None).unwrap().starts_with(b"%PDF"));
    }
}

// ---- issue 8: the demo's checkout complaints read as complaints ----

/// The boutique's planted story: shipping cost is what shoppers complain about at checkout, and
/// with the demo's texts written as annoyed shoppers write, it is the checkout's most negative
/// theme in the engine's default order (lowest average sentiment first).
#[test]
fn shipping_is_the_most_negative_checkout_theme_of_the_demo_boutique() {
    use trailmap_app::voice::{ThemeOrder, ThemesRequest};
    let mut app = App::in_memory().unwrap();
    app.demo(&DemoOptions { customers: 1_500, seed: 7 }).unwrap();
    let boutique = app.business(Some("Thread & Needle")).unwrap();
    let report = app.feedback_themes(&boutique, &ThemesRequest { touchpoint: Some("Checkout".into()), ..Default::default() }).unwrap();
    assert_eq!(report.order, ThemeOrder::AverageSentiment);
    let first = report.themes.first().expect("checkout themes");
    assert!(first.label.starts_with("shipping"), "{:?}", report.themes.iter().map(|t| (&t.label, t.average_compound, t.count)).collect::<Vec<_>>());
    assert!(first.average_compound <= -0.05, "shipping complaints read as negative: {}", first.average_compound);
    assert!(first.negative * 2 > first.count, "most shipping texts are negative: {} of {}", first.negative, first.count);
    assert!(first.examples.iter().all(|q| q.compound < 0.0), "{:?}", first.examples);
}

// ---- issue 6: satisfaction and sentiment on the map ----

/// The boutique's checkout complaints show on its map: the stage holding the Checkout touchpoint
/// has a negative average feedback sentiment over some texts, and the touchpoint the same.
#[test]
fn the_demo_boutique_map_shows_negative_sentiment_at_checkout() {
    use trailmap_app::MapNumbersRequest;
    let mut app = App::in_memory().unwrap();
    app.demo(&DemoOptions { customers: 1_500, seed: 7 }).unwrap();
    let boutique = app.business(Some("Thread & Needle")).unwrap();
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
    let map = app.journey_maps(&boutique, today).unwrap().into_iter().next().expect("the demo boutique has a map");
    let numbers = app.map_numbers(&boutique, map.id, &MapNumbersRequest::default()).unwrap();
    let checkout = numbers.touchpoints.iter().find(|t| t.name == "Checkout").expect("the map holds Checkout");
    let stage = numbers.stages.iter().find(|s| s.stage == checkout.stage).unwrap();
    let sentiment = stage.sentiment.as_ref().expect("checkout feedback exists");
    assert!(sentiment.n > 0 && sentiment.average < 0.0, "{} ({sentiment:?})", stage.name);
    let touchpoint = checkout.sentiment.as_ref().expect("checkout feedback exists");
    assert!(touchpoint.n > 0 && touchpoint.n <= sentiment.n && touchpoint.average < 0.0);
    assert!(touchpoint.authors.n <= touchpoint.n);
    // A satisfaction figure, when present, is a proper score over some answers.
    for s in numbers.stages.iter().filter_map(|s| s.satisfaction.as_ref()) {
        assert!(s.n > 0 && s.respondents.n as u64 <= s.n);
    }
    // A period with no feedback in it shows no sentiment rather than a zero.
    let t = |d: &str| trailmap_model::Timestamp::parse_rfc3339(d).unwrap();
    let empty = MapNumbersRequest { period: Some((t("2000-01-01T00:00:00Z"), t("2000-02-01T00:00:00Z"))), ..MapNumbersRequest::default() };
    let numbers = app.map_numbers(&boutique, map.id, &empty).unwrap();
    assert!(numbers.stages.iter().all(|s| s.sentiment.is_none() && s.satisfaction.is_none()));
}

/// The touchpoint catalogue's counts agree with the model's own (uncompiled) rule test, row by
/// row, over the demo boutique's events in a period; and each touchpoint names its map stages.
#[test]
fn the_touchpoint_catalogue_counts_what_a_plain_rule_test_counts() {
    let mut app = App::in_memory().unwrap();
    app.demo(&DemoOptions { customers: 600, seed: 3 }).unwrap();
    let boutique = app.business(Some("Thread & Needle")).unwrap();
    let t = |d: &str| trailmap_model::Timestamp::parse_rfc3339(d).unwrap();
    let period = (t("2026-06-01T00:00:00Z"), t("2026-08-01T00:00:00Z"));
    let catalogue = app.touchpoint_catalogue(&boutique, Some(period)).unwrap();
    let table = app.store().load_events(boutique.id, EventColumns { properties: true }).unwrap();
    let touchpoints = app.store().touchpoints(boutique.id).unwrap();
    assert_eq!(catalogue.touchpoints.len(), touchpoints.len());
    for entry in &catalogue.touchpoints {
        let rule = &touchpoints.iter().find(|x| x.id == entry.touchpoint).unwrap().rule;
        let rows: Vec<usize> = (0..table.len())
            .filter(|&r| table.time[r] >= period.0.millis() && table.time[r] < period.1.millis() && table.matches(r, rule))
            .collect();
        let mut customers: Vec<_> = rows.iter().filter_map(|&r| table.customer.get(r)).collect();
        customers.sort();
        customers.dedup();
        assert_eq!((entry.events, &entry.customers.customers), (rows.len() as u64, &customers), "{}", entry.name);
    }
    let checkout = catalogue.touchpoints.iter().find(|e| e.name == "Checkout").unwrap();
    assert!(checkout.events > 0 && checkout.customers.n > 0);
    assert_eq!(checkout.rule, "name is one of checkout_started, checkout_shipping");
    assert!(!checkout.placements.is_empty(), "the demo map holds Checkout");
    let error = app.touchpoint_catalogue(&boutique, Some((period.1, period.0))).unwrap_err();
    assert!(error.to_string().contains("period"), "{error}");
}

// ---- issue 6: templates bring the business's touchpoints; the quote picker on the demo ----

/// A map from a template gets, on each stage named like a business stage, the touchpoints the
/// business puts in that stage (and no others); on the demo boutique the Purchase stage holds
/// Checkout, and its quote picker offers the checkout complaints, most negative first.
#[test]
fn a_template_map_starts_with_the_business_touchpoints_of_each_stage_and_offers_their_quotes() {
    let mut app = App::in_memory().unwrap();
    app.demo(&DemoOptions { customers: 600, seed: 3 }).unwrap();
    let boutique = app.business(Some("Thread & Needle")).unwrap();
    let map = app.create_map(&boutique, "From the template", trailmap_app::MapTemplate::WebShop, "ann").unwrap();
    let stages = app.store().stages(boutique.id).unwrap();
    let touchpoints = app.store().touchpoints(boutique.id).unwrap();
    let names = |ids: &[trailmap_model::TouchpointId]| -> Vec<String> {
        ids.iter().map(|id| touchpoints.iter().find(|t| t.id == *id).unwrap().name.clone()).collect()
    };
    let mut placed = 0;
    for stage in &map.stages {
        let business_stage = stages.iter().find(|s| s.name.eq_ignore_ascii_case(&stage.name)).expect("the demo has the template's stages");
        assert_eq!(stage.stage, Some(business_stage.id));
        let expected: Vec<_> = touchpoints.iter().filter(|t| t.stage == Some(business_stage.id)).map(|t| t.id).collect();
        assert_eq!(stage.touchpoints, expected, "{}", stage.name);
        placed += expected.len();
    }
    assert_eq!(placed, touchpoints.iter().filter(|t| t.stage.is_some()).count());
    let purchase = map.stages.iter().find(|s| s.name == "Purchase").unwrap();
    assert!(names(&purchase.touchpoints).contains(&"Checkout".to_string()), "{:?}", names(&purchase.touchpoints));
    // Saved as made: the stored map has the same touchpoints.
    let stored = app.journey_map(&boutique, map.id).unwrap().map;
    assert_eq!(stored.stages.iter().map(|s| s.touchpoints.clone()).collect::<Vec<_>>(), map.stages.iter().map(|s| s.touchpoints.clone()).collect::<Vec<_>>());
    // The quote picker: texts of the stage's touchpoints only, most negative first, searchable.
    let quotes = app.stage_quotes(&boutique, map.id, purchase.id, "", 1_000).unwrap();
    let feedback = app.store().feedback(boutique.id).unwrap();
    let expected = feedback.iter().filter(|f| f.touchpoint.is_some_and(|t| purchase.touchpoints.contains(&t))).count();
    assert!(expected > 0);
    assert_eq!((quotes.n, quotes.quotes.len()), (expected, expected));
    assert!(quotes.quotes.windows(2).all(|w| w[0].compound <= w[1].compound));
    assert!(quotes.quotes[0].compound < 0.0, "{:?}", quotes.quotes[0]);
    let shipping = app.stage_quotes(&boutique, map.id, purchase.id, "SHIPPING", 3).unwrap();
    assert!(shipping.n > 0 && shipping.quotes.len() <= 3);
    assert!(shipping.quotes.iter().all(|q| q.text.to_lowercase().contains("shipping")));
    let error = app.stage_quotes(&boutique, map.id, 99, "", 10).unwrap_err();
    assert!(error.to_string().contains("stage"), "{error}");
    // A card cannot cite another business's feedback.
    let cafe = app.business(Some("Bean There Coffee")).unwrap();
    let foreign = app.store().feedback(cafe.id).unwrap()[0].id;
    let edit = trailmap_app::MapEdit::EditCard { card: 1, text: "x".into(), evidence: vec![trailmap_model::Evidence::Quote { feedback: foreign }] };
    let error = app.check_map_evidence(&boutique, &edit).unwrap_err();
    assert!(error.to_string().contains("evidence 1"), "{error}");
    let own = trailmap_app::MapEdit::EditCard { card: 1, text: "x".into(), evidence: vec![trailmap_model::Evidence::Quote { feedback: quotes.quotes[0].feedback }] };
    app.check_map_evidence(&boutique, &own).unwrap();
}

/// Issue 8: at the demo boutique's Checkout, shipping leads the themes with its exact n, the
/// product word "dress" folds into it, one persona's themes read only its customers' texts, and
/// bad fields are named neutrally (`touchpoint "X"`), not as CLI flags.
#[test]
fn checkout_themes_per_persona_and_field_errors_on_the_demo_boutique() {
    use trailmap_app::voice::{ThemeOptions, ThemesRequest};
    use trailmap_app::AppError;
    let mut app = App::in_memory().unwrap();
    app.demo(&DemoOptions { customers: 1_500, seed: 7 }).unwrap();
    let boutique = app.business(Some("Thread & Needle")).unwrap();
    let checkout = |persona: Option<&str>, stop_words: Vec<String>| ThemesRequest {
        touchpoint: Some("Checkout".into()),
        persona: persona.map(str::to_string),
        options: ThemeOptions { stop_words, ..ThemeOptions::default() },
        ..ThemesRequest::default()
    };
    let report = app.feedback_themes(&boutique, &checkout(None, Vec::new())).unwrap();
    let first = &report.themes[0];
    let summary: Vec<(&str, u64, u64)> = report.themes.iter().map(|t| (t.label.as_str(), t.count, t.negative)).collect();
    assert_eq!((first.label.as_str(), first.count, first.negative), ("shipping", 15, 14), "{summary:?}");
    assert!(report.themes.iter().all(|t| t.label != "dress"), "{summary:?}");

    // Per persona: only the texts of the customers its rule covers, counted directly.
    let coverage = app.persona_coverage(&boutique).unwrap();
    let bargain = coverage.iter().find(|p| p.name == "Bargain Hunter").unwrap();
    let checkout_id = app.store().touchpoints(boutique.id).unwrap().into_iter().find(|t| t.name == "Checkout").unwrap().id;
    let direct = app
        .store()
        .feedback(boutique.id)
        .unwrap()
        .into_iter()
        .filter(|f| f.touchpoint == Some(checkout_id) && f.customer.is_some_and(|c| bargain.customers.contains(&c)))
        .count() as u64;
    let theirs = app.feedback_themes(&boutique, &checkout(Some("bargain hunter"), vec!["dress".into()])).unwrap();
    assert_eq!(theirs.scope, "touchpoint Checkout, persona Bargain Hunter");
    assert_eq!(theirs.persona.as_deref(), Some("Bargain Hunter"));
    assert_eq!(theirs.texts, direct);
    assert!(direct > 0 && direct < report.texts, "{direct} of {}", report.texts);
    assert!(theirs.themes.iter().all(|t| t.customers.iter().all(|c| bargain.customers.contains(c))));
    assert!(theirs.themes.iter().all(|t| t.phrases.iter().all(|p| p.phrase != "dress")));

    // Errors name the request's field, neutrally.
    let error = |request: &ThemesRequest| app.feedback_themes(&boutique, request).unwrap_err();
    let nowhere = error(&ThemesRequest { touchpoint: Some("Nowhere".into()), ..Default::default() });
    assert!(matches!(&nowhere, AppError::InvalidField { field, .. } if field == "touchpoint"));
    assert!(nowhere.to_string().starts_with("touchpoint \"Nowhere\": no such touchpoint in Thread & Needle"), "{nowhere}");
    let stage = error(&ThemesRequest { stage: Some("Nowhere".into()), ..Default::default() }).to_string();
    assert!(stage.starts_with("stage \"Nowhere\": no such stage"), "{stage}");
    let persona = error(&checkout(Some("Nobody"), Vec::new())).to_string();
    assert!(persona.starts_with("persona \"Nobody\": no such persona in Thread & Needle; there are: "), "{persona}");
    let zero = ThemesRequest { options: ThemeOptions { min_count: 0, ..ThemeOptions::default() }, ..Default::default() };
    assert_eq!(error(&zero).to_string(), "min_count \"0\": must be at least 1");
}

/// Issue 3's "data loaded" in the product: apps sharing a journeys cache load and group a
/// business's events once, reuse them while the data is unchanged, and load again after a write;
/// every answer equals an app's without the cache.
#[test]
fn apps_sharing_a_journeys_cache_reuse_them_until_the_data_changes() {
    use std::sync::Arc;
    use trailmap_analytics::FunnelMode;
    use trailmap_app::FunnelRequest;
    use trailmap_app::journeys_cache::JourneysCache;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.sqlite");
    let mut writer = App::open(&db).unwrap();
    import(&mut writer, RecordKind::Events, &write(dir.path(), "events.csv", EVENTS.as_bytes()), None).unwrap();
    let cache = Arc::new(JourneysCache::default());
    let (reader, other) = (App::open(&db).unwrap().with_journeys_cache(cache.clone()), App::open(&db).unwrap().with_journeys_cache(cache.clone()));
    let business = reader.business(None).unwrap();
    let request = FunnelRequest {
        steps: vec!["page_view".into(), "signup".into()],
        window_ms: 7 * 86_400_000,
        mode: FunnelMode::Ordered,
        exclude: vec![],
        breakdown: None,
        period: None,
        compare: None,
        customers: None,
        pushdown: false,
    };
    let reached = |app: &App| app.funnel(&business, &request).unwrap().report.overall.steps.iter().map(|s| s.reached).collect::<Vec<_>>();
    let uncached = App::open(&db).unwrap();
    assert_eq!(reached(&reader), vec![2, 1]);
    assert_eq!(cache.counts(), (0, 1));
    // Another app of the same process asks another question of the same data: a hit.
    assert_eq!(other.retention(&business, trailmap_analytics::RetentionPeriod::Month).map(|_| ()).ok(), Some(()));
    assert_eq!(reached(&other), reached(&uncached));
    assert_eq!(cache.counts(), (2, 1));
    // A write raises the business's data version: the next question loads the new events.
    let more = "timestamp,event,user_id,anonymous_id,page,referrer\n2025-03-02T18:30:00Z,signup,C2,,/signup,\n";
    import(&mut writer, RecordKind::Events, &write(dir.path(), "more.csv", more.as_bytes()), None).unwrap();
    assert_eq!(reached(&reader), vec![2, 2]);
    assert_eq!(reached(&reader), reached(&uncached));
    assert_eq!(cache.counts(), (3, 2));
}

// ---- issue 9: the change log ----

/// The demo's planted changes carry structured metrics; a change is recorded with names matched
/// case-insensitively (stored in the business's spelling), a metric checked against the
/// business, the map card it answers found by `MAP:CARD` text; the log lists newest first.
#[test]
fn changes_are_recorded_with_names_a_checked_metric_and_the_card_they_answer() {
    use trailmap_app::changes::ChangeRequest;
    use trailmap_model::{ChangeMetric, Lane};
    let mut app = App::in_memory().unwrap();
    app.demo(&DemoOptions { customers: 300, seed: 3 }).unwrap();
    let boutique = app.business(Some("Thread & Needle")).unwrap();
    let coffee = app.business(Some("Bean There Coffee")).unwrap();
    let planted = app.changes(&boutique).unwrap();
    assert_eq!(planted.len(), 1);
    assert_eq!(planted[0].title, "Free shipping over $75");
    assert_eq!(planted[0].touchpoints, ["Checkout", "Cart"]);
    assert_eq!(planted[0].stages, ["Purchase"]);
    assert_eq!(planted[0].kpi.as_deref(), Some("checkout conversion"));
    assert_eq!(planted[0].metric_text.as_deref(), Some("conversion:checkout_started>purchase:7d"));
    let referral = app.changes(&coffee).unwrap();
    assert_eq!(referral[0].metric, Some(ChangeMetric::NewCustomers { channel: Some("Referral".into()) }));

    let day = |m, d| chrono::NaiveDate::from_ymd_opt(2026, m, d).unwrap();
    // The map's name holds a colon, so the split between map and card is searched for.
    let card = app
        .find_card(&boutique, "thread & needle: online shopping journey:Most shoppers who start checkout leave at the shipping step")
        .unwrap();
    let mut map = app.store().maps(boutique.id).unwrap().remove(0);
    map.number_items();
    assert_eq!(card.map, map.id);
    assert_eq!(app.find_card(&boutique, &format!("{}:{}", map.id, card.card)).unwrap(), card);
    let request = ChangeRequest {
        title: "  Shipping cost shown in the cart ".into(),
        description: "The cart shows the fee before checkout.".into(),
        date: day(7, 1),
        touchpoints: vec!["cart".into(), "CHECKOUT".into(), "Cart".into()],
        stages: vec!["purchase".into()],
        kpi: None,
        metric: Some("conversion:touchpoint:checkout>purchase:14d".parse().unwrap()),
        owner: Some("Priya".into()),
        answers: Some(card),
    };
    let added = app.add_change(&boutique, request.clone()).unwrap();
    assert_eq!(added.title, "Shipping cost shown in the cart");
    assert_eq!(added.touchpoints, ["Cart", "Checkout"], "duplicates dropped, the business's spelling kept");
    assert_eq!(added.stages, ["Purchase"]);
    assert_eq!(added.kpi.as_deref(), Some("conversion from touchpoint:checkout to purchase within 14 days"));
    let answered = added.answers.clone().unwrap();
    assert_eq!(
        (answered.kind.as_deref(), answered.stage.as_deref(), answered.text.as_deref()),
        (Some("pain_point"), Some("Purchase"), Some("Most shoppers who start checkout leave at the shipping step"))
    );
    let older = app
        .add_change(&boutique, ChangeRequest {
            title: "Size guide on every product page".into(),
            date: day(5, 1),
            touchpoints: vec![],
            stages: vec![],
            kpi: Some("add to cart rate".into()),
            metric: Some("reach:consideration".parse().unwrap()),
            answers: None,
            owner: None,
            description: String::new(),
        })
        .unwrap();
    assert_eq!(older.metric, Some(ChangeMetric::StageReach { stage: "Consideration".into() }), "stored in the business's spelling");
    let log = app.changes(&boutique).unwrap();
    assert_eq!(log.iter().map(|c| c.date).collect::<Vec<_>>(), [day(7, 1), day(6, 1), day(5, 1)], "newest first");
    assert_eq!(log[0], added, "the list shows what add returned");
    assert_eq!(app.changes(&coffee).unwrap().len(), 1, "nothing crosses businesses");

    // Every bad field is an InvalidField naming it, and nothing is written.
    let goal = map.cards().find(|(_, lane, _)| *lane == Lane::Goals).map(|(_, _, c)| c.id).unwrap();
    let bad: Vec<(&str, ChangeRequest, &str)> = vec![
        ("title", ChangeRequest { title: "  ".into(), ..request.clone() }, "empty"),
        ("touchpoints", ChangeRequest { touchpoints: vec!["Billboard".into()], ..request.clone() }, "Checkout"),
        ("stages", ChangeRequest { stages: vec!["Delight".into()], ..request.clone() }, "Purchase"),
        ("metric", ChangeRequest { metric: Some("conversion:checkout_begun>purchase".parse().unwrap()), ..request.clone() }, "no event is named \"checkout_begun\""),
        ("metric", ChangeRequest { metric: Some("conversion:touchpoint:Till>purchase".parse().unwrap()), ..request.clone() }, "no touchpoint named"),
        ("metric", ChangeRequest { metric: Some("reach:Delight".parse().unwrap()), ..request.clone() }, "no stage named"),
        ("metric", ChangeRequest { metric: Some("csat:Till".parse().unwrap()), ..request.clone() }, "no touchpoint named"),
        ("metric", ChangeRequest { metric: Some("new-customers:Friends".parse().unwrap()), ..request.clone() }, "Paid Social"),
        ("metric", ChangeRequest { metric: Some(ChangeMetric::StepConversion { from: "checkout_started".into(), to: "purchase".into(), window_days: 0 }), ..request.clone() }, "at least 1 day"),
        ("answers", ChangeRequest { answers: Some(trailmap_model::CardRef { map: trailmap_model::MapId(999), card: 1 }), ..request.clone() }, "no map"),
        ("answers", ChangeRequest { answers: Some(trailmap_model::CardRef { map: map.id, card: 9_999 }), ..request.clone() }, "no card 9999"),
        ("answers", ChangeRequest { answers: Some(trailmap_model::CardRef { map: map.id, card: goal }), ..request.clone() }, "Goals lane"),
    ];
    for (field, request, reason) in bad {
        match app.add_change(&boutique, request) {
            Err(AppError::InvalidField { field: f, reason: r, .. }) => {
                assert_eq!(f, field, "{r}");
                assert!(r.contains(reason), "{field}: {r}");
            }
            other => panic!("{field}: expected an invalid field, got {other:?}"),
        }
    }
    for text in ["No such map:1", "1", "thread & needle: online shopping journey:No such card"] {
        let error = app.find_card(&boutique, text).unwrap_err();
        assert!(matches!(&error, AppError::InvalidField { field, .. } if field == "answers"), "{text}: {error}");
    }
    assert_eq!(app.changes(&boutique).unwrap().len(), 3, "no bad request wrote anything");
}

/// A change that answers an action card is recorded on the card: the demo's planted changes
/// answer their maps' actions ("Free shipping over a threshold", "Referral loyalty programme
/// with codes"), which name them; a change recorded later that answers another action names
/// itself there in a new map version by its owner, and an action already linked keeps its change.
#[test]
fn a_change_that_answers_an_action_is_recorded_on_the_card() {
    use trailmap_app::changes::ChangeRequest;
    use trailmap_app::MapEdit;
    use trailmap_model::{CardAction, Lane};
    let mut app = App::in_memory().unwrap();
    app.demo(&DemoOptions { customers: 300, seed: 5 }).unwrap();
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
    for (name, action_text) in [("Thread & Needle", "Free shipping over a threshold"), ("Bean There Coffee", "Referral loyalty programme with codes")] {
        let business = app.business(Some(name)).unwrap();
        let change = app.changes(&business).unwrap().remove(0);
        let answered = change.answers.clone().expect("the planted change answers a card");
        assert_eq!((answered.kind.as_deref(), answered.text.as_deref()), (Some("action"), Some(action_text)), "{name}");
        let map = app.journey_map(&business, answered.map).unwrap().map;
        let (_, lane, card) = map.card(answered.card).unwrap();
        assert_eq!(lane, Lane::Opportunities);
        assert_eq!(card.action.as_ref().and_then(|a| a.change), Some(change.id), "{name}: the action names the change");
        let pain = map.card(card.from.expect("the action comes from a pain point")).unwrap();
        assert_eq!(pain.1, Lane::PainPoints, "{name}");
        assert_eq!(app.map_versions(&business, answered.map).unwrap().len(), 3, "{name}: the link is a version of its own, the stories cited one more");
    }

    // A later change answering another action is recorded on it, in the same write.
    let boutique = app.business(Some("Thread & Needle")).unwrap();
    let map_id = app.journey_maps(&boutique, today).unwrap()[0].id;
    let target = app.journey_map(&boutique, map_id).unwrap().map.cards()
        .find(|(_, _, c)| c.text == "Show shipping cost in the cart").map(|(_, _, c)| c.id).unwrap();
    app.edit_map(&boutique, map_id, &MapEdit::SetAction { card: target, action: Some(CardAction { owner: "Sam".into(), due: None, change: None, kpi: None, done: false }) }, "Sam")
        .unwrap();
    let versions = app.map_versions(&boutique, map_id).unwrap().len();
    let request = ChangeRequest {
        title: "Shipping cost in the cart".into(),
        description: String::new(),
        date: chrono::NaiveDate::from_ymd_opt(2026, 8, 1).unwrap(),
        touchpoints: vec![],
        stages: vec![],
        kpi: None,
        metric: None,
        owner: Some("Sam".into()),
        answers: Some(trailmap_model::CardRef { map: map_id, card: target }),
    };
    let first = app.add_change(&boutique, request.clone()).unwrap();
    let linked = |app: &App| app.journey_map(&boutique, map_id).unwrap().map.card(target).unwrap().2.action.clone().unwrap().change;
    assert_eq!(linked(&app), Some(first.id));
    let history = app.map_versions(&boutique, map_id).unwrap();
    assert_eq!(history.len(), versions + 1, "one new version");
    let second = app.add_change(&boutique, ChangeRequest { title: "Again".into(), ..request }).unwrap();
    assert_eq!(second.answers.unwrap().kind.as_deref(), Some("action"));
    assert_eq!(linked(&app), Some(first.id), "an action keeps the change it led to");
    assert_eq!(app.map_versions(&boutique, map_id).unwrap().len(), versions + 1, "no version when nothing changed");
}
