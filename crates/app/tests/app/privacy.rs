//! One customer's data on request (issue 20 item 6), on a business made from zero: an export holds
//! everything about the person (identities, events with their properties, orders, survey
//! answers, feedback), across customers merged by an identify; an erasure removes exactly that
//! person (the store's row counts go down by what the export held, everyone else stays
//! byte-identical), survives a compaction of the other events, leaves a count and tombstones
//! only, and refuses the person's records when an old file is imported again or a client retries.

use super::{counts, import, write};
use trailmap_app::{App, AppError, RecordKind, TrackingWrite};
use trailmap_ingest::enrich::Enricher;
use trailmap_ingest::segment::{MessageContext, convert};
use trailmap_model::{Currency, EventColumns, Timestamp};
use trailmap_store::Store;

const EVENTS: &str = "timestamp,event,user_id,email,anonymous_id,page\n\
2025-03-01T09:00:00Z,page_view,,,v1,/?utm_source=newsletter&email=ann@example.com\n\
2025-03-01T09:05:00Z,signup,,ann@example.com,v1,/signup\n\
2025-03-02T10:00:00Z,page_view,,,v2,/menu\n\
2025-03-02T10:01:00Z,signup,,bob@example.com,v2,/signup\n\
2025-03-03T11:00:00Z,page_view,,cat@example.com,,/menu\n";

const ORDERS: &str = "order_id,email,time,total\n\
A1,ann@example.com,2025-03-04T10:00:00Z,12.50\n\
B1,bob@example.com,2025-03-05T10:00:00Z,8.00\n\
A2,ann@example.com,2025-03-06T10:00:00Z,4.00\n";

fn at(text: &str) -> Timestamp {
    Timestamp::parse_rfc3339(text).unwrap()
}

#[test]
fn an_export_holds_the_person_and_an_erasure_removes_exactly_them_for_good() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = App::open(&dir.path().join("t.sqlite")).unwrap();
    let events = write(dir.path(), "events.csv", EVENTS.as_bytes());
    let orders = write(dir.path(), "orders.csv", ORDERS.as_bytes());
    import(&mut app, RecordKind::Events, &events, None).unwrap();
    import(&mut app, RecordKind::Orders, &orders, None).unwrap();
    let business = app.business(None).unwrap();
    // Ann's feedback joined to her by email.
    let feedback = write(dir.path(), "reviews.csv", b"time,source,email,rating,text\n2025-03-07T09:00:00Z,google,ann@example.com,5,Lovely scarf\n2025-03-07T10:00:00Z,google,bob@example.com,3,Slow delivery\n");
    import(&mut app, RecordKind::Feedback, &feedback, None).unwrap();
    // 5 events + 3 purchase events; Ann, Bob, Cat.
    assert_eq!(counts(&app), (8, 3, 3));

    // Found by email in any case, by customer id, and the same person either way.
    let ann = app.find_customer(&business, "ANN@example.com").unwrap();
    assert_eq!(app.find_customer(&business, &ann.0.to_string()).unwrap(), ann);
    let missing = app.find_customer(&business, "nobody@example.com").unwrap_err();
    assert!(matches!(missing, AppError::NotFound(_)) && missing.to_string().contains("nobody@example.com"), "{missing}");

    let export = app.export_customer(&business, ann, at("2026-12-06T12:00:00Z")).unwrap();
    assert_eq!(export.format, "trailmap.customer-export");
    let mut identities: Vec<(&str, &str)> = export.identities.iter().map(|i| (i.kind, i.value.as_str())).collect();
    identities.sort_unstable();
    assert_eq!(identities, [("anonymous", "v1"), ("email", "ann@example.com")]);
    let names: Vec<&str> = export.events.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["page_view", "signup", "purchase", "purchase"], "her anonymous visit, the sign-up and both orders' events");
    assert_eq!(export.events[0].page.as_deref(), Some("/?utm_source=newsletter&email=ann@example.com"));
    let numbers: Vec<&str> = export.orders.iter().map(|o| o.external_id.as_str()).collect();
    assert_eq!(numbers, ["A1", "A2"]);
    assert_eq!(export.feedback.iter().map(|f| f.text.as_str()).collect::<Vec<_>>(), ["Lovely scarf"]);
    let json = serde_json::to_value(&export).unwrap();
    assert!(!json.to_string().contains("bob@example.com") && !json.to_string().contains("Slow delivery"), "nobody else's data");

    // Everyone else's events as stored, to compare after.
    let others = |app: &App| {
        let t = app.store().load_events(business.id, EventColumns { properties: true }).unwrap();
        let mut rows: Vec<(i64, String, String)> = (0..t.len())
            .filter(|&r| t.customer[r] != ann)
            .map(|r| (t.time[r], t.string(t.name[r]).to_string(), t.string(t.page[r]).to_string()))
            .collect();
        rows.sort();
        rows
    };
    let before = others(&app);
    let summary = app.erase_customer(&business, ann, at("2026-12-06T12:01:00Z")).unwrap();
    assert_eq!(
        (summary.customers, summary.identities, summary.events, summary.orders, summary.feedback),
        (1, 2, 4, 2, 1),
        "what the export held"
    );
    assert_eq!(counts(&app), (4, 2, 1), "8 - 4 events, 3 - 1 customers, 3 - 2 orders");
    assert_eq!(others(&app), before, "everyone else's events unchanged");
    assert_eq!(app.store().feedback(business.id).unwrap().len(), 1);
    assert!(app.find_customer(&business, "ann@example.com").is_err());
    // Her email in a page address is gone from the string dictionary, not only from the events.
    let path = app.db_path().unwrap().to_path_buf();
    let conn = rusqlite::Connection::open(&path).unwrap();
    let leftover: i64 = conn.query_row("SELECT count(*) FROM strings WHERE value LIKE '%ann@example.com%'", [], |r| r.get(0)).unwrap();
    assert_eq!(leftover, 0);
    let kept: i64 = conn.query_row("SELECT count(*) FROM erased_identities", [], |r| r.get(0)).unwrap();
    assert_eq!(kept, 2, "a tombstone per identity, holding a hash, not the email");
    let plain: i64 = conn.query_row("SELECT count(*) FROM erased_identities WHERE hash LIKE '%ann%'", [], |r| r.get(0)).unwrap();
    assert_eq!(plain, 0);
    drop(conn);
    assert_eq!(app.erasures(&business).unwrap().len(), 1);

    // The old files again: Ann's rows are refused with the reason, nothing lands without
    // --skip-invalid; with it, only the others' rows (already there) and the rejects name her lines.
    let again = import(&mut app, RecordKind::Orders, &orders, None).unwrap_err();
    let AppError::InvalidRows { shown, .. } = &again else { panic!("{again}") };
    assert_eq!(shown.iter().map(|e| e.line).collect::<Vec<_>>(), [2, 4]);
    assert!(shown[0].reason.contains("erased on 2026-12-06 at their request"), "{}", shown[0].reason);
    assert_eq!(counts(&app), (4, 2, 1));
    let rejects = dir.path().join("rejects.csv");
    let report = import(&mut app, RecordKind::Events, &events, Some(rejects.clone())).unwrap();
    assert_eq!((report.added, report.rejected, report.new_customers), (0, 2, 0));
    assert_eq!(counts(&app), (4, 2, 1), "she is not back");
    let text = std::fs::read_to_string(&rejects).unwrap();
    assert!(text.contains("erased on 2026-12-06"), "{text}");

    // A client retrying her messages through the tracking API: dropped with the reason `erased`,
    // the rest of the commit lands.
    let message = |user: &str, anonymous: &str, id: &str| {
        let m = serde_json::json!({"type": "identify", "anonymousId": anonymous, "traits": {"email": user}, "timestamp": "2025-03-08T10:00:00Z", "messageId": id});
        let context = MessageContext { received_at: at("2025-03-08T10:00:01Z"), batch_sent_at: None, currency: Currency::USD };
        convert(&m, None, &context, &mut Enricher::new()).unwrap()
    };
    let write_ = TrackingWrite { business: Some(business.id), key: None, messages: vec![message("ann@example.com", "v9", "m1"), message("dan@example.com", "v8", "m2")], drops: Vec::new() };
    app.write_tracking(&[write_], at("2025-03-08T10:00:02Z")).unwrap();
    assert_eq!(counts(&app), (5, 3, 1), "Dan arrives; Ann does not");
    assert!(app.find_customer(&business, "ann@example.com").is_err());
    assert!(app.tracking_drops(&business).unwrap().contains(&("erased".to_string(), 1)));
}

#[test]
fn erasing_removes_the_rows_from_compacted_segments_and_merged_customers_too() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = App::open(&dir.path().join("t.sqlite")).unwrap();
    let events = write(dir.path(), "events.csv", EVENTS.as_bytes());
    import(&mut app, RecordKind::Events, &events, None).unwrap();
    let business = app.business(None).unwrap();
    // Bob's later visit under another anonymous id, linked by email: two customers merged.
    let later = write(dir.path(), "later.csv", b"timestamp,event,email,anonymous_id,page\n2025-04-01T09:00:00Z,page_view,,v7,/menu\n2025-04-01T09:01:00Z,login,bob@example.com,v7,/login\n");
    import(&mut app, RecordKind::Events, &later, None).unwrap();
    app.compact_events(&business).unwrap();
    let bob = app.find_customer(&business, "bob@example.com").unwrap();
    let export = app.export_customer(&business, bob, at("2026-12-06T12:00:00Z")).unwrap();
    assert_eq!(export.events.len(), 4);
    let kinds: Vec<&str> = export.identities.iter().map(|i| i.value.as_str()).collect();
    assert!(kinds.contains(&"v2") && kinds.contains(&"v7") && kinds.contains(&"bob@example.com"), "{kinds:?}");
    let (events_before, customers_before, _) = counts(&app);
    let summary = app.erase_customer(&business, bob, at("2026-12-06T12:01:00Z")).unwrap();
    assert_eq!(summary.events, 4);
    assert!(summary.segments_rewritten >= 1);
    let (events_after, customers_after, _) = counts(&app);
    assert_eq!(events_before - events_after, 4);
    // Two customer rows (the visit under v7 was merged into Bob), one customer as the counts see it.
    assert_eq!((summary.customers, customers_before - customers_after), (2, 1));
    let conn = rusqlite::Connection::open(app.db_path().unwrap()).unwrap();
    let rows: i64 = conn.query_row("SELECT count(*) FROM customers", [], |r| r.get(0)).unwrap();
    assert_eq!(rows, 2, "Ann and Cat; no merged row of Bob's left behind");
    drop(conn);
    // A later compaction still finds every remaining event whole.
    app.compact_events(&business).unwrap();
    assert_eq!(counts(&app).0, events_after);
}

#[test]
fn retention_removes_exactly_the_events_before_its_cut_off_keeps_orders_and_gives_space_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = App::open(&dir.path().join("t.sqlite")).unwrap();
    let business = app.business(None).unwrap();
    // A year of page views, one every two hours, each with a note of 200 pseudo-random hex
    // digits (which does not compress), so the store has size.
    let mut csv = String::from("timestamp,event,anonymous_id,page,properties\n");
    let start = at("2025-01-01T00:00:00Z").0;
    let mut seed: u64 = 7;
    for i in 0..4380i64 {
        let time = Timestamp(start + i * 2 * Timestamp::MS_PER_HOUR).to_rfc3339();
        let note: String = (0..25)
            .map(|_| {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                format!("{:08x}", seed >> 32)
            })
            .collect();
        csv.push_str(&format!("{time},page_view,v{},/p/{},\"{{\"\"note\"\":\"\"{note}\"\"}}\"\n", i % 50, i % 7));
    }
    let events = write(dir.path(), "events.csv", csv.as_bytes());
    import(&mut app, RecordKind::Events, &events, None).unwrap();
    let orders = write(dir.path(), "orders.csv", b"order_id,anonymous_id,time,total\nO1,v1,2025-01-10T10:00:00Z,5.00\n");
    import(&mut app, RecordKind::Orders, &orders, None).unwrap();
    assert_eq!(app.expire_events(&business, at("2026-01-01T12:00:00Z")).unwrap(), None, "no retention: nothing removed");
    let before = app.store().load_events(business.id, EventColumns { properties: false }).unwrap();
    // The store's size with everything checkpointed into the file.
    let checkpointed_size = |app: &App| {
        let conn = rusqlite::Connection::open(app.db_path().unwrap()).unwrap();
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).unwrap();
        drop(conn);
        std::fs::metadata(app.db_path().unwrap()).unwrap().len()
    };
    let size_before = checkpointed_size(&app);

    // 90 days on 2026-01-01: the cut-off is the start of 2025-10-03.
    app.set_event_retention(&business, Some(90)).unwrap();
    assert_eq!(app.event_retention(&business).unwrap(), Some(90));
    assert!(app.set_event_retention(&business, Some(0)).unwrap_err().to_string().contains("retention"));
    let now = at("2026-01-01T12:00:00Z");
    let summary = app.expire_events(&business, now).unwrap().unwrap();
    let cut = at("2025-10-03T00:00:00Z").0;
    assert_eq!(summary.before.0, cut);
    let expected: Vec<i64> = (0..before.len()).map(|r| before.time[r]).filter(|&t| t >= cut).collect();
    let after = app.store().load_events(business.id, EventColumns { properties: false }).unwrap();
    let mut kept: Vec<i64> = (0..after.len()).map(|r| after.time[r]).collect();
    kept.sort_unstable();
    let mut expected_sorted = expected.clone();
    expected_sorted.sort_unstable();
    assert_eq!(kept, expected_sorted, "exactly the events from the cut-off on");
    assert_eq!(summary.events as usize, before.len() - expected.len());
    assert_eq!(counts(&app).2, 1, "orders are records, not raw events: kept");
    let size_after = checkpointed_size(&app);
    assert!(size_after < size_before, "space given back: {size_before} -> {size_after} bytes ({summary:?})");
    assert!(summary.bytes_freed > 0);
    // Running again removes nothing more; every business is visited by the hourly run.
    assert_eq!(app.expire_events(&business, now).unwrap().unwrap().events, 0);
    let all = app.expire_all_events(now).unwrap();
    assert_eq!(all.len(), 1);
}
