//! The store's integration tests: schema and migrations, whole-or-nothing writes, identity
//! resolution and merging, deduplication, the columnar event round trip, and durability under
//! SIGKILL.

// Helpers outside #[test] functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used)]

#[path = "store/conformance.rs"]
mod conformance;
#[path = "store/personas.rs"]
mod personas;
#[path = "store/erase.rs"]
mod erase;
#[path = "store/segments.rs"]
mod segments;
#[path = "store/key_runs.rs"]
mod key_runs;
#[path = "store/postgres.rs"]
mod postgres;
#[path = "store/clickhouse.rs"]
mod clickhouse;
#[path = "store/clickhouse_retention.rs"]
mod clickhouse_retention;
#[path = "store/clickhouse_paths.rs"]
mod clickhouse_paths;
#[path = "store/clickhouse_dashboard.rs"]
mod clickhouse_dashboard;

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use trailmap_model::*;
use trailmap_store::{Compaction, EventLoads};
use trailmap_store::{SEGMENT_ROWS, SqliteStore, Store, StoreError, WriteSummary};

fn new_business<S: Store>(store: &mut S, name: &str) -> BusinessId {
    let mut id = BusinessId(0);
    store
        .write::<StoreError>(&mut |w| {
            id = w.create_business(name, Currency::USD, "UTC")?.0.id;
            Ok(())
        })
        .unwrap();
    id
}

fn event(name: &str, minute: i64, who: Identity, also: Vec<Identity>) -> IncomingEvent {
    let mut event = Event {
        channel: Some("Organic Search".into()),
        source: Some("google".into()),
        medium: Some("organic".into()),
        page: Some(format!("/{name}")),
        ..Event::new(name, Timestamp(1_700_000_000_000 + minute * 60_000), who)
    };
    event.key = event.content_key();
    IncomingEvent { event, also_known_as: also }
}

fn anon(v: &str) -> Identity {
    Identity::anonymous(v).unwrap()
}

fn email(v: &str) -> Identity {
    Identity::email(v).unwrap()
}

fn order(number: &str, who: Vec<Identity>, minute: i64, cents: i64) -> IncomingOrder {
    IncomingOrder {
        external_id: number.into(),
        origin: String::new(),
        customer: who,
        time: Timestamp(1_700_000_000_000 + minute * 60_000),
        total: Money::new(cents, Currency::USD),
        subtotal: None,
        shipping: Some(Money::new(495, Currency::USD)),
        tax: None,
        discount: None,
        status: Some("paid".into()),
        channel: Some("in-store".into()),
        source: None,
        lines: vec![OrderLine { sku: Some("LAT".into()), name: "Latte".into(), quantity: 2, unit_price: Money::new(350, Currency::USD) }],
        properties: Properties::new(),
    }
}

#[test]
fn a_new_file_gets_the_schema_in_wal_mode_and_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/folder/trailmap.sqlite");
    let mut store = SqliteStore::open(&path).unwrap();
    let version = store.schema_version().unwrap();
    assert!(version >= 1);
    new_business(&mut store, "Bean There");
    drop(store);
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), version);
    assert_eq!(store.businesses().unwrap()[0].name, "Bean There");
    let stages: Vec<String> = store.stages(store.businesses().unwrap()[0].id).unwrap().into_iter().map(|s| s.name).collect();
    assert_eq!(stages, ["Awareness", "Consideration", "Purchase", "Retention", "Advocacy"]);
    assert!(path.with_extension("sqlite-wal").exists(), "the store runs in WAL mode");
}

#[test]
fn a_store_from_a_newer_trailmap_is_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.sqlite");
    drop(SqliteStore::open(&path).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", 999).unwrap();
    drop(conn);
    let err = SqliteStore::open(&path).unwrap_err().to_string();
    assert!(err.contains("999") && err.contains("upgrade"), "{err}");
}

#[test]
fn segments_holding_other_row_counts_than_recorded_are_a_corrupt_store_not_a_short_load() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.sqlite");
    let mut store = SqliteStore::open(&path).unwrap();
    let b = new_business(&mut store, "Shop");
    store
        .write::<StoreError>(&mut |w| {
            for i in 0..SEGMENT_ROWS as i64 + 10 {
                w.add_event(b, &event("page_view", i, anon(&format!("v{}", i % 50)), vec![]))?;
            }
            Ok(())
        })
        .unwrap();
    assert_eq!(store.load_events(b, EventColumns::default()).unwrap().len(), SEGMENT_ROWS + 10);
    for (change, why) in [("rows + 1", "not the"), ("rows - 1", "more rows than")] {
        let tamper = rusqlite::Connection::open(&path).unwrap();
        tamper.execute(&format!("UPDATE event_segments SET rows = {change} WHERE id = (SELECT min(id) FROM event_segments)"), []).unwrap();
        let error = store.load_events(b, EventColumns::default()).expect_err("a corrupt store").to_string();
        assert!(error.contains(why), "{change}: {error}");
        tamper.execute(&format!("UPDATE event_segments SET rows = {} WHERE id = (SELECT min(id) FROM event_segments)", if change == "rows + 1" { "rows - 1" } else { "rows + 1" }), []).unwrap();
    }
    assert_eq!(store.load_events(b, EventColumns::default()).unwrap().len(), SEGMENT_ROWS + 10);
    // A blob that does not decode, in either segment, stops the load with an error (the other
    // decoder and the reader stop too rather than wait on each other).
    for which in ["min", "max"] {
        let tamper = rusqlite::Connection::open(&path).unwrap();
        tamper.execute(&format!("UPDATE event_segments SET columns = X'00' WHERE id = (SELECT {which}(id) FROM event_segments)"), []).unwrap();
        let error = store.load_events(b, EventColumns::default()).expect_err("a corrupt store").to_string();
        assert!(error.contains("event segment"), "{which}: {error}");
        let error = store.load_named_events(b, EventColumns::default().into(), &|_| true).expect_err("a corrupt store").to_string();
        assert!(error.contains("event segment"), "{which}: {error}");
    }
}

/// The child half of the crash test: writes batches of events and prints "ack N" after each
/// commit returns. Run only when the parent test starts it.
#[test]
#[ignore = "started by acknowledged_writes_survive_sigkill"]
fn crash_child_writer() {
    let Ok(path) = std::env::var("TRAILMAP_CRASH_DB") else { return };
    let mut store = SqliteStore::open(std::path::Path::new(&path)).unwrap();
    let b = store.business_by_name("Crash").unwrap().unwrap().id;
    for batch in 0i64.. {
        store
            .write::<StoreError>(&mut |w| {
                for i in 0..100 {
                    let n = batch * 100 + i;
                    w.add_event(b, &event("page_view", n, anon(&format!("v{}", n % 37)), vec![]))?;
                }
                Ok(())
            })
            .unwrap();
        println!("ack {batch}");
    }
}

#[test]
fn acknowledged_writes_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.sqlite");
    let mut store = SqliteStore::open(&path).unwrap();
    let b = new_business(&mut store, "Crash");
    drop(store);
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "crash_child_writer", "--ignored", "--nocapture", "--test-threads=1"])
        .env("TRAILMAP_CRASH_DB", &path)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut acknowledged = -1i64;
    // Kill after a fixed number of acknowledgements, while the child is mid-batch.
    while acknowledged < 40 {
        let line = lines.next().expect("the child stopped early").unwrap();
        if let Some(n) = line.strip_prefix("ack ") {
            acknowledged = n.trim().parse().unwrap();
        }
    }
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    let store = SqliteStore::open(&path).unwrap();
    let table = store.load_events(b, EventColumns::default()).unwrap();
    let acked_rows = (acknowledged + 1) * 100;
    assert!(table.len() as i64 >= acked_rows, "{} events on disk, {} acknowledged", table.len(), acked_rows);
    assert_eq!(table.len() % 100, 0, "batches land whole or not at all");
    let times: HashSet<i64> = table.time.iter().copied().collect();
    assert_eq!(times.len(), table.len(), "each acknowledged event is there once");
    for n in 0..acked_rows {
        assert!(times.contains(&(1_700_000_000_000 + n * 60_000)), "event {n} was acknowledged but is missing");
    }
}

/// A small map of business `b` with one stage, for the map-query tests.
fn tiny_map(b: BusinessId, name: &str) -> JourneyMap {
    JourneyMap {
        id: MapId(0),
        business: b,
        name: name.into(),
        kind: MapVersionKind::AsIs,
        owner: None,
        review_date: None,
        personas: vec![],
        stages: vec![MapStage::named("Awareness")],
        as_is: None,
    }
}

// ---------------------------------------------------------------------------------------------
// Compaction: segments rewritten in customer order.

/// Seeded events of `customers` customers with three anonymous ids and an email each, in arrival
/// order with some out of order and some sharing a time. About one event in twelve names a second
/// identity of its customer, which merges the customers the two were until then, so a merged
/// customer's identities (and rows) interleave with others'. Every column and some properties and
/// revenue are filled.
fn seeded_events(seed: u64, customers: u64, events: i64) -> Vec<IncomingEvent> {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let names = ["page_view", "product_view", "add_to_cart", "purchase", "store_visit"];
    let channels = ["Organic Search", "Paid Social", "Referral", "Direct", "Email"];
    (0..events)
        .map(|i| {
            let c = rng.random_range(0..customers);
            let who = anon(&format!("c{c}-{}", rng.random_range(0..3)));
            let also = match rng.random_range(0..24) {
                0 => vec![anon(&format!("c{c}-{}", rng.random_range(0..3)))],
                1 => vec![email(&format!("c{c}@example.com"))],
                _ => vec![],
            };
            // Minutes mostly rising, some repeated (ties) and some from the past (late arrivals).
            let minute = match rng.random_range(0..10) {
                0 => i / 2 - rng.random_range(0..500),
                1 => i / 2 - 1,
                _ => i / 2,
            };
            let name = names[rng.random_range(0..names.len())];
            let mut e = event(name, minute, who, also);
            e.event.channel = Some(channels[rng.random_range(0..channels.len())].into());
            e.event.campaign = rng.random_bool(0.3).then(|| format!("camp{}", rng.random_range(0..4)));
            e.event.referrer = rng.random_bool(0.2).then(|| "https://news.example".to_string());
            if name == "purchase" {
                e.event.revenue = Some(Money::new(rng.random_range(100..10_000), Currency::USD));
            }
            if rng.random_bool(0.25) {
                e.event.properties.insert("n".into(), i.into());
                e.event.properties.insert("note".into(), format!("é{}", rng.random_range(0..1000)).into());
            }
            // A key of its own, so no two seeded events are duplicates by chance of content.
            e.event.key = EventKey::from_id("seeded", &format!("{seed}-{i}"));
            e
        })
        .collect()
}

fn write_events<S: Store>(store: &mut S, b: BusinessId, events: &[IncomingEvent]) -> WriteSummary {
    store
        .write::<StoreError>(&mut |w| {
            for e in events {
                w.add_event(b, e)?;
            }
            Ok(())
        })
        .unwrap()
}

fn journeys<S: Store>(store: &S, b: BusinessId) -> trailmap_analytics::Journeys {
    trailmap_analytics::Journeys::new(store.load_events(b, EventColumns { properties: true }).unwrap())
}

fn assert_same_journeys(left: &trailmap_analytics::Journeys, right: &trailmap_analytics::Journeys) {
    assert_eq!(left.ends(), right.ends());
    assert_eq!(left.table(), right.table());
}

/// Every row of a raw load as one comparable tuple: customer, time, every text, revenue,
/// properties.
type Row = (CustomerId, i64, [String; 8], i64, Option<Box<str>>);

fn rows_of(table: &EventTable) -> Vec<Row> {
    (0..table.len())
        .map(|r| {
            let texts = [&table.name, &table.channel, &table.source, &table.medium, &table.campaign, &table.referrer, &table.page, &table.currency];
            (
                table.customer[r],
                table.time[r],
                texts.map(|column| table.string(column[r]).to_string()),
                table.revenue_minor[r],
                table.properties.as_ref().unwrap()[r].clone(),
            )
        })
        .collect()
}

/// The segments' sizes and time bounds, straight from the file.
fn segment_rows(path: &std::path::Path, b: BusinessId) -> Vec<(i64, i64, i64)> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn.prepare("SELECT rows, min_time, max_time FROM event_segments WHERE business = ?1 ORDER BY id").unwrap();
    stmt.query_map([b.0], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap().map(Result::unwrap).collect()
}

#[test]
fn compaction_orders_rows_by_customer_and_keeps_every_journey_key_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("compact.sqlite");
    let mut store = SqliteStore::open(&path).unwrap();
    let b = new_business(&mut store, "Shop");
    let other = new_business(&mut store, "Other");
    let events = seeded_events(7, 300, 9_000);
    // Thirty writes, so thirty segments in arrival order, interleaved with another business's.
    for (k, part) in events.chunks(300).enumerate() {
        write_events(&mut store, b, part);
        write_events(&mut store, other, &events[k * 10..k * 10 + 10]);
    }
    let merged: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("SELECT count(*) FROM customers WHERE business = ?1 AND merged_into IS NOT NULL", [b.0], |r| r.get(0))
        .unwrap();
    assert!(merged > 50, "the seeded events merge customers ({merged})");
    let before = journeys(&store, b);
    let raw_before = store.load_events(b, EventColumns { properties: true }).unwrap();
    let other_before = store.load_events(other, EventColumns { properties: true }).unwrap();
    let version = store.data_version(b).unwrap();

    // Small passes, so the customers are cut into many chunks.
    let summary = store.compact_events_with(b, 1_000, &mut |_| Ok(())).unwrap();
    assert_eq!((summary.events, summary.segments_before, summary.segments_after), (9_000, 30, 1));
    assert!(summary.rewritten && summary.passes >= 9, "{summary:?}");
    assert_same_journeys(&journeys(&store, b), &before);
    assert_eq!(store.data_version(b).unwrap(), version, "the same events: cached answers stay right");
    assert_eq!(store.load_events(other, EventColumns { properties: true }).unwrap(), other_before, "another business is untouched");

    // The raw rows are the old ones sorted stably by customer and time: an independent sort.
    let mut expected = rows_of(&raw_before);
    expected.sort_by_key(|x| (x.0, x.1));
    let raw_after = store.load_events(b, EventColumns { properties: true }).unwrap();
    assert_eq!(rows_of(&raw_after), expected);
    assert_eq!(segment_rows(&path, b), vec![(9_000, raw_after.time.iter().copied().min().unwrap(), raw_after.time.iter().copied().max().unwrap())]);

    // Once in order, a compaction only checks.
    let again = store.compact_events(b).unwrap();
    assert_eq!((again.rewritten, again.segments_before, again.segments_after, again.passes, again.events), (false, 1, 1, 0, 9_000));

    // Every key is still there: the same events again add nothing, through this connection and
    // through a fresh one.
    assert_eq!(write_events(&mut store, b, &events).events_duplicate, 9_000);
    let mut fresh = SqliteStore::open(&path).unwrap();
    let written = write_events(&mut fresh, b, &events);
    assert_eq!((written.events_added, written.events_duplicate), (0, 9_000));
    // New events append after the compacted segment, and a load sees them.
    let later = seeded_events(8, 350, 500);
    let added = write_events(&mut fresh, b, &later).events_added;
    assert!(added > 450, "{added}");
    assert_eq!(store.load_events(b, EventColumns::default()).unwrap().len() as u64, 9_000 + added);
    // The appended segment makes the order broken again; a second compaction folds it in and the
    // journeys are those of the appended store.
    let appended = journeys(&store, b);
    let third = store.compact_events(b).unwrap();
    assert_eq!((third.rewritten, third.segments_before, third.segments_after, third.events), (true, 2, 1, 9_000 + added));
    assert_same_journeys(&journeys(&store, b), &appended);
}

#[test]
fn compaction_fills_whole_segments_with_their_time_bounds() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.sqlite");
    let mut store = SqliteStore::open(&path).unwrap();
    let b = new_business(&mut store, "Big");
    let n = SEGMENT_ROWS as i64 * 2 + 100;
    let events: Vec<IncomingEvent> = (0..n).map(|i| event("page_view", i, anon(&format!("v{}", i % 4_000)), vec![])).collect();
    for part in events.chunks(50_000) {
        write_events(&mut store, b, part);
    }
    let before = journeys(&store, b);
    let summary = store.compact_events_with(b, 40_000, &mut |_| Ok(())).unwrap();
    assert_eq!((summary.segments_before, summary.segments_after, summary.passes), (3, 3, 4));
    assert_same_journeys(&journeys(&store, b), &before);
    let raw = store.load_events(b, EventColumns::default()).unwrap();
    let mut first = 0usize;
    let segments = segment_rows(&path, b);
    assert_eq!(segments.iter().map(|s| s.0).collect::<Vec<_>>(), vec![SEGMENT_ROWS as i64, SEGMENT_ROWS as i64, 100]);
    for (rows, min, max) in segments {
        let times = &raw.time[first..first + rows as usize];
        assert_eq!((min, max), (*times.iter().min().unwrap(), *times.iter().max().unwrap()));
        first += rows as usize;
    }
    // A business without events, and one that does not exist.
    let empty = new_business(&mut store, "Empty");
    assert!(!store.compact_events(empty).unwrap().rewritten);
    assert!(matches!(store.compact_events(BusinessId(999)), Err(StoreError::NotFound { .. })));
}

/// The child half of the compaction crash test: compacts, and once everything is written, says so
/// and waits on stdin before committing. Run only when the parent test starts it.
#[test]
#[ignore = "started by a_compaction_killed_before_its_commit_leaves_the_original_events"]
fn compaction_child() {
    let Ok(path) = std::env::var("TRAILMAP_COMPACT_DB") else { return };
    let mut store = SqliteStore::open(std::path::Path::new(&path)).unwrap();
    let b = store.business_by_name("Crash").unwrap().unwrap().id;
    store
        .compact_events_with(b, 1_000, &mut |summary| {
            println!("written {} segments", summary.segments_after);
            let mut line = String::new();
            std::io::stdin().read_line(&mut line).unwrap();
            Ok(())
        })
        .unwrap();
    println!("committed");
}

#[test]
fn a_compaction_killed_before_its_commit_leaves_the_original_events() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.sqlite");
    let mut store = SqliteStore::open(&path).unwrap();
    let b = new_business(&mut store, "Crash");
    let events = seeded_events(11, 200, 6_000);
    for part in events.chunks(500) {
        write_events(&mut store, b, part);
    }
    let raw_before = store.load_events(b, EventColumns { properties: true }).unwrap();
    drop(store);
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "compaction_child", "--ignored", "--nocapture", "--test-threads=1"])
        .env("TRAILMAP_COMPACT_DB", &path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    loop {
        let line = lines.next().expect("the child stopped before writing").unwrap();
        // The harness may print the test's name on the same line first.
        if let Some((_, segments)) = line.split_once("written ") {
            assert_eq!(segments, "1 segments");
            break;
        }
    }
    // The new segment is written and the old ones deleted, all uncommitted: kill it now.
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    let mut store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.load_events(b, EventColumns { properties: true }).unwrap(), raw_before, "the original segments, in their order");
    assert_eq!(segment_rows(&path, b).len(), 12);
    // The store is whole: the compaction runs again and the events are all still unique.
    assert!(store.compact_events(b).unwrap().rewritten);
    assert_eq!(write_events(&mut store, b, &events).events_duplicate, 6_000);
}

#[test]
fn a_version_7_store_upgrades_its_orders_to_numbers_per_origin_and_keeps_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v7.sqlite");
    {
        // The store as Trailmap left it before v8: one order with two lines.
        let conn = rusqlite::Connection::open(&path).unwrap();
        for migration in &trailmap_store::MIGRATIONS[..7] {
            conn.execute_batch(migration).unwrap();
        }
        conn.pragma_update(None, "user_version", 7).unwrap();
        conn.execute_batch(
            "INSERT INTO businesses (id, name, currency, timezone, created_at) VALUES (1, 'Shop', 'USD', 'UTC', 0);
             INSERT INTO customers (id, business, email, first_seen) VALUES (1, 1, 'ann@example.com', 1700000000000);
             INSERT INTO identities (business, kind, value, customer) VALUES (1, 'email', 'ann@example.com', 1);
             INSERT INTO orders (id, business, external_id, customer, time, currency, total) VALUES (5, 1, '1001', 1, 1700000000000, 'USD', 1200);
             INSERT INTO order_lines (order_id, position, name, quantity, unit_price) VALUES (5, 0, 'Mug', 1, 700), (5, 1, 'Beans', 1, 500);",
        )
        .unwrap();
    }
    let mut store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), trailmap_store::MIGRATIONS.len() as i64);
    let business = store.businesses().unwrap()[0].clone();
    assert_eq!(business.decimal_mark, None, "no mark is declared by the upgrade");
    let orders = store.orders(business.id).unwrap();
    assert_eq!(orders.len(), 1);
    assert_eq!((orders[0].external_id.as_str(), orders[0].origin.as_str(), orders[0].lines.len()), ("1001", "", 2));
    // The same order imported again (now from a Shopify export of it) is recognised, not doubled.
    let again = IncomingOrder {
        origin: "shopify".into(),
        time: Timestamp(1_700_000_000_000),
        shipping: None,
        ..order("1001", vec![email("ann@example.com")], 0, 1200)
    };
    let summary = store.write::<StoreError>(&mut |w| w.add_order(business.id, &again).map(|_| ())).unwrap();
    assert_eq!((summary.orders_added, summary.orders_duplicate), (0, 1));
    // Another customer's Shopify #1001 is another order than the business's own 1001 of before...
    let bob = IncomingOrder { customer: vec![email("bob@example.com")], ..again.clone() };
    let summary = store.write::<StoreError>(&mut |w| w.add_order(business.id, &bob).map(|_| ())).unwrap();
    assert_eq!((summary.orders_added, summary.customers_added), (1, 1));
    // ...and a third customer's Shopify #1001 clashes with Bob's: a conflict, and no customer.
    let carol = IncomingOrder { customer: vec![email("carol@example.com")], ..again.clone() };
    let err = store.write::<StoreError>(&mut |w| w.add_order(business.id, &carol).map(|_| ())).unwrap_err();
    assert!(matches!(&err, StoreError::Conflict(m) if m.contains("\"1001\" (shopify)")), "{err}");
    assert_eq!(store.summary(business.id).unwrap().customers, 2, "the refused order created no customer");
    // The declared mark is kept.
    store.write::<StoreError>(&mut |w| w.set_decimal_mark(business.id, Some(DecimalMark::Comma))).unwrap();
    assert_eq!(store.businesses().unwrap()[0].decimal_mark, Some(DecimalMark::Comma));
}
