//! Events in ClickHouse against a real cluster: each test makes its own database on every shard
//! of the cluster TRAILMAP_TEST_CLICKHOUSE names (`.ci/clickhouse.sh` starts a two-shard rig) and
//! drops it at the end; without the variable the tests say they were skipped (and fail under
//! CI=1). The schema on each shard, rows spread over the shards, the round trip of every column,
//! duplicates and merges collapsed at read, clear errors for bad configuration, and the funnel
//! pushed down to windowFunnel giving exactly the engine's counts: on edge-case fixtures, on a
//! seeded generated log and on the demo, the engine running on the rows the cluster returns and on
//! a table built from the generated events.

use super::{Row, rows_of};
use rand::{Rng, SeedableRng};
use std::time::{Duration, Instant};
use trailmap_analytics::{FunnelMode, FunnelQuery, FunnelStep, Journeys};
use trailmap_model::*;
use trailmap_store::{ClickHouseError, ClickHouseEvents, ClickHouseLocation, FunnelPath, FunnelSpec, PushdownRefusal};
use trailmap_testkit::clickhouse::ClickHouseDatabase;

const B: BusinessId = BusinessId(7);

/// A fresh database on the cluster with the schema made, or None when no cluster is configured.
pub(super) fn cluster(test: &str) -> Option<(ClickHouseDatabase, ClickHouseEvents)> {
    let database = ClickHouseDatabase::fresh(test)?;
    let location = ClickHouseLocation::parse(database.url()).unwrap();
    let events = ClickHouseEvents::open(&location).unwrap();
    Some((database, events))
}

/// Seeded events of `customers` people, each written under one of three "identity customers"
/// (ids `10c+1..10c+3`) the test later merges into the first, so merges and rows on several
/// shards are exercised; times with ties at the same millisecond and late arrivals; every column
/// filled now and then.
pub(super) fn seeded(seed: u64, customers: i64, events: i64) -> Vec<(CustomerId, Event)> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let names = ["page_view", "product_view", "add_to_cart", "checkout", "purchase", "Page_View"];
    (0..events)
        .map(|i| {
            let c = rng.random_range(0..customers);
            let who = CustomerId(10 * c + 1 + rng.random_range(0..3));
            // Seconds apart mostly, a tenth at the previous event's millisecond (ties), some late.
            let ms = match rng.random_range(0..10) {
                0 => 1_700_000_000_000 + (i - 1).max(0) * 7_919,
                1 => 1_700_000_000_000 + (i - rng.random_range(0..200)).max(0) * 7_919,
                _ => 1_700_000_000_000 + i * 7_919,
            };
            let name = names[rng.random_range(0..names.len())];
            let mut event = Event::new(name, Timestamp(ms), Identity::anonymous("unused").unwrap());
            event.key = EventKey(rng.random::<u128>());
            event.channel = rng.random_bool(0.5).then(|| "Paid Social".to_string());
            event.source = rng.random_bool(0.3).then(|| "instagram".to_string());
            event.medium = rng.random_bool(0.3).then(|| "paid_social".to_string());
            event.campaign = rng.random_bool(0.2).then(|| format!("spring-{}", rng.random_range(0..3)));
            event.referrer = rng.random_bool(0.2).then(|| "https://www.instagram.com/".to_string());
            event.page = Some(format!("/products/{}\t'q'", rng.random_range(0..5)));
            if name == "purchase" {
                event.revenue = Some(Money::new(rng.random_range(100..10_000), Currency::EUR));
            }
            if rng.random_bool(0.2) {
                event.properties.insert("note".into(), format!("é\n{}", rng.random_range(0..9)).into());
            }
            (who, event)
        })
        .collect()
}

/// The rows a load must give: each event once on its current customer, in (customer, time, key)
/// order, the event key breaking ties.
fn expected_rows(events: &[(CustomerId, Event)], current: impl Fn(CustomerId) -> CustomerId) -> Vec<Row> {
    let mut unique: Vec<&(CustomerId, Event)> = events.iter().collect();
    unique.sort_by_key(|(c, e)| (current(*c), e.time, e.key));
    unique.dedup_by_key(|(c, e)| (current(*c), e.time, e.key));
    unique
        .into_iter()
        .map(|(customer, e)| {
            let text = |v: &Option<String>| v.clone().unwrap_or_default();
            let texts = [e.name.clone(), text(&e.channel), text(&e.source), text(&e.medium), text(&e.campaign), text(&e.referrer), text(&e.page), e.revenue.map(|m| m.currency.as_str().to_string()).unwrap_or_default()];
            let properties = (!e.properties.is_empty()).then(|| serde_json::to_string(&e.properties).unwrap().into());
            (current(*customer), e.time.0, texts, e.revenue.map_or(0, |m| m.minor), properties)
        })
        .collect()
}

/// Every identity customer of the seeded log is merged into its person's first one.
pub(super) fn person(c: CustomerId) -> CustomerId {
    CustomerId((c.0 - 1) / 10 * 10 + 1)
}

pub(super) fn merge_people(events: &ClickHouseEvents, customers: i64) {
    for c in 0..customers {
        // In two steps, so the second re-points the first: 10c+3 -> 10c+2, then 10c+2 -> 10c+1.
        events.merge_customers(B, &[CustomerId(10 * c + 3)], CustomerId(10 * c + 2)).unwrap();
        events.merge_customers(B, &[CustomerId(10 * c + 2)], CustomerId(10 * c + 1)).unwrap();
    }
}

/// A cluster made by a Trailmap of schema version 1 (before rows named their write) is brought
/// to version 2 on every shard when opened: the column is added to the local and the Distributed
/// tables, the rows written before keep loading (their write is 0, never pending), and opening
/// again changes nothing.
#[test]
fn a_version_1_schema_is_migrated_on_every_shard_and_its_rows_kept() {
    let Some(db) = ClickHouseDatabase::fresh("clickhouse schema v1") else { return };
    let name = db.name();
    for shard in 0..2 {
        for statement in [
            format!("CREATE TABLE {name}.events_local (business Int64, customer Int64, time DateTime, ms UInt16, key FixedString(16), name String, channel String, source String, medium String, campaign String, referrer String, page String, revenue_minor Int64, currency String, properties String) ENGINE = ReplacingMergeTree() PARTITION BY toYYYYMM(time) ORDER BY (business, customer, time, ms, key)"),
            format!("CREATE TABLE {name}.merges_local (business Int64, customer Int64, merged_into Int64, version UInt64) ENGINE = ReplacingMergeTree(version) ORDER BY (business, customer)"),
            format!("CREATE TABLE {name}.events AS {name}.events_local ENGINE = Distributed(trailmap, {name}, events_local, cityHash64(customer))"),
            format!("CREATE TABLE {name}.merges AS {name}.merges_local ENGINE = Distributed(trailmap, {name}, merges_local, cityHash64(customer))"),
            format!("CREATE TABLE {name}.trailmap_migrations (version UInt32) ENGINE = TinyLog"),
            format!("INSERT INTO {name}.trailmap_migrations VALUES (1)"),
        ] {
            db.run_on(shard, &statement);
        }
    }
    db.run_on(0, &format!("INSERT INTO {name}.events_local (business, customer, time, ms, key, name) VALUES (7, 1, 1700000000, 5, unhex('0000000000000000000000000000002a'), 'page_view')"));
    for _ in 0..2 {
        let events = ClickHouseEvents::open(&ClickHouseLocation::parse(db.url()).unwrap()).unwrap();
        for shard in 0..2 {
            assert_eq!(db.run_on(shard, &format!("SELECT groupArray(version) FROM {name}.trailmap_migrations")).trim(), "[1,2]");
            let columns = db.run_on(shard, &format!("SELECT table FROM system.columns WHERE database = '{name}' AND name = 'write_id' ORDER BY table"));
            assert_eq!(columns.lines().collect::<Vec<_>>(), ["events", "events_local"], "shard {shard}");
        }
        let table = events.load_selected_events(B, EventSelection::ALL_BUT_PROPERTIES).unwrap();
        assert_eq!((table.customer.iter().copied().collect::<Vec<_>>(), table.time), (vec![CustomerId(1)], vec![1_700_000_000_005]));
    }
}

#[test]
fn the_schema_is_on_every_shard_and_rows_spread_over_them() {
    let Some((db, events)) = cluster("clickhouse schema") else { return };
    assert_eq!(db.shards().len(), 2, "the rig is two shards");
    let location = events.location().clone();
    // Opening again finds the schema there and changes nothing.
    ClickHouseEvents::open(&location).unwrap();
    for shard in 0..2 {
        let tables = db.run_on(shard, &format!("SELECT name FROM system.tables WHERE database = '{}' ORDER BY name", db.name()));
        assert_eq!(tables.lines().collect::<Vec<_>>(), ["events", "events_local", "merges", "merges_local", "trailmap_migrations"], "shard {shard}");
        assert_eq!(db.run_on(shard, &format!("SELECT groupArray(version) FROM {}.trailmap_migrations", db.name())).trim(), "[1,2]");
    }
    let log = seeded(3, 200, 2_000);
    assert_eq!(events.append(B, &log).unwrap(), 2_000);
    // Durable when append returns: both shards hold their part now, and together all of it.
    let counts: Vec<u64> = (0..2).map(|s| db.run_on(s, &format!("SELECT count() FROM {}.events_local", db.name())).trim().parse().unwrap()).collect();
    assert_eq!(counts.iter().sum::<u64>(), 2_000);
    assert!(counts.iter().all(|&n| n > 400), "rows on both shards: {counts:?}");
    // Each customer's rows live on one shard.
    let customers: Vec<std::collections::HashSet<String>> =
        (0..2).map(|s| db.run_on(s, &format!("SELECT DISTINCT customer FROM {}.events_local", db.name())).lines().map(str::to_string).collect()).collect();
    assert!(customers[0].is_disjoint(&customers[1]));
    assert!(events.server_version().unwrap().starts_with(|c: char| c.is_ascii_digit()));
}

#[test]
fn every_column_comes_back_once_on_the_current_customer() {
    let Some((_db, events)) = cluster("clickhouse round trip") else { return };
    let log = seeded(5, 150, 3_000);
    events.append(B, &log).unwrap();
    // Another business's events are not loaded.
    events.append(BusinessId(8), &log[..100]).unwrap();
    let all = EventSelection { properties: true, ..EventSelection::ALL_BUT_PROPERTIES };
    let loaded = events.load_selected_events(B, all).unwrap();
    assert_eq!(rows_of(&loaded), expected_rows(&log, |c| c));

    // A retried batch and a half batch again: nothing more is read.
    events.append(B, &log).unwrap();
    events.append(B, &log[..1_500]).unwrap();
    assert_eq!(events.count_events(B).unwrap(), 3_000);
    assert_eq!(rows_of(&events.load_selected_events(B, all).unwrap()), expected_rows(&log, |c| c));

    // Merges are applied at read: every identity customer is on their person now.
    merge_people(&events, 150);
    let merged = events.load_selected_events(B, all).unwrap();
    assert_eq!(rows_of(&merged), expected_rows(&log, person));
    assert!(merged.customer.ids().iter().all(|c| c.0 % 10 == 1));

    // Only the selected columns, and only the named events.
    let names = events.load_named_events(B, EventSelection::NONE, &|name| name == "purchase" || name == "checkout").unwrap();
    let expected: Vec<(CustomerId, i64, String)> = expected_rows(&log, person).into_iter().filter(|r| r.2[0] == "purchase" || r.2[0] == "checkout").map(|r| (r.0, r.1, r.2[0].clone())).collect();
    let got: Vec<(CustomerId, i64, String)> = (0..names.len()).map(|r| (names.customer[r], names.time[r], names.string(names.name[r]).to_string())).collect();
    assert_eq!(got, expected);
    assert!(names.page.is_empty() && names.revenue_minor.is_empty() && names.properties.is_none());
    assert!(events.load_named_events(B, EventSelection::NONE, &|_| false).unwrap().is_empty());
}

#[test]
fn times_clickhouse_cannot_hold_are_refused_before_writing() {
    let Some((_db, events)) = cluster("clickhouse time range") else { return };
    let mut early = Event::new("page_view", Timestamp(-1), Identity::anonymous("v").unwrap());
    early.key = EventKey(1);
    let fine = Event { key: EventKey(2), time: Timestamp(1_700_000_000_000), ..early.clone() };
    let error = events.append(B, &[(CustomerId(1), fine), (CustomerId(1), early)]).unwrap_err();
    assert!(matches!(&error, ClickHouseError::Invalid(m) if m.contains("1970")), "{error}");
    assert_eq!(events.count_events(B).unwrap(), 0, "nothing of the batch was written");
}

/// A port nothing listens on: bound, then released.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn bad_configuration_is_a_clear_error_within_seconds_without_the_password() {
    let Some((db, _events)) = cluster("clickhouse bad configuration") else { return };
    let good = ClickHouseLocation::parse(db.url()).unwrap();

    let started = Instant::now();
    let down = ClickHouseLocation::parse(&format!("clickhouse://127.0.0.1:{}/{}?user=trailmap&password=hunter2", closed_port(), db.name())).unwrap();
    let error = ClickHouseEvents::open(&down).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    let text = error.to_string();
    assert!(matches!(error, ClickHouseError::Unreachable { .. }), "{text}");
    assert!(text.contains("127.0.0.1") && text.contains("password=***") && !text.contains("hunter2"), "{text}");

    let shards = good.shards.join(",");
    let wrong = ClickHouseLocation::parse(&format!("clickhouse://trailmap:hunter2@{shards}/{}?cluster=trailmap", db.name())).unwrap();
    let error = ClickHouseEvents::open(&wrong).unwrap_err();
    let text = error.to_string();
    assert!(matches!(error, ClickHouseError::Refused { .. }), "{text}");
    assert!(text.contains(&good.shards[0]) && !text.contains("hunter2"), "{text}");
    // The right password of that user works.
    let right = ClickHouseLocation::parse(&format!("clickhouse://trailmap:trailmap@{shards}/{}?cluster=trailmap", db.name())).unwrap();
    ClickHouseEvents::open(&right).unwrap();
    let store_error = trailmap_store::StoreError::from(ClickHouseEvents::open(&wrong).unwrap_err()).to_string();
    assert!(store_error.contains("refused") && !store_error.contains("hunter2"), "{store_error}");

    // A database without the schema: connecting (which creates nothing) names the missing table.
    let bare = ClickHouseDatabase::fresh("clickhouse bare").unwrap();
    let error = ClickHouseEvents::connect(&ClickHouseLocation::parse(bare.url()).unwrap()).unwrap_err();
    assert!(matches!(&error, ClickHouseError::MissingTable { message, .. } if message.contains("events_local")), "{error}");
    // A URL listing fewer shards than the cluster has.
    let one = ClickHouseLocation::parse(&format!("clickhouse://{}/{}?cluster=trailmap", good.shards[0], db.name())).unwrap();
    let error = ClickHouseEvents::open(&one).unwrap_err().to_string();
    assert!(error.contains("2 shard(s)") && error.contains("lists 1"), "{error}");
}

// ---------------------------------------------------------------------------------------------
// The funnel pushed down.

/// The engine's customers per step on a table.
fn engine_reached(table: EventTable, steps: &[Vec<EventRule>], window_ms: i64, period: Option<(i64, i64)>) -> Vec<u64> {
    let query = FunnelQuery {
        steps: steps.iter().enumerate().map(|(k, any_of)| FunnelStep { label: format!("step {k}"), any_of: any_of.clone() }).collect(),
        window_ms,
        mode: FunnelMode::Ordered,
        exclusions: vec![],
        breakdown: None,
        period,
    };
    let report = trailmap_analytics::funnel(&Journeys::new(table), &query).unwrap();
    report.overall.steps.iter().map(|s| s.reached as u64).collect()
}

/// The pushed-down answer, checked against the engine on the rows the cluster returns.
fn pushed(events: &ClickHouseEvents, steps: &[Vec<EventRule>], window_ms: i64, period: Option<(i64, i64)>) -> Vec<u64> {
    let spec = FunnelSpec { steps: steps.to_vec(), window_ms, period };
    let FunnelPath::Pushdown(reached) = events.funnel(B, &spec).unwrap() else { panic!("not pushed down") };
    let all = EventSelection { properties: true, ..EventSelection::ALL_BUT_PROPERTIES };
    let engine = engine_reached(events.load_selected_events(B, all).unwrap(), steps, window_ms, period);
    assert_eq!(reached, engine, "pushdown against the engine: steps {steps:?}, window {window_ms}, period {period:?}");
    reached
}

fn named(names: &[&str]) -> Vec<Vec<EventRule>> {
    names.iter().map(|n| n.split('|').map(EventRule::named).collect()).collect()
}

/// A fixture's events on customers 1, 2, ... in block order, each keyed by its line so events at
/// one millisecond tie-break in the order written.
pub(super) fn fixture(text: &str) -> Vec<(CustomerId, Event)> {
    let fixture = trailmap_testkit::journeys(text).unwrap();
    fixture
        .records
        .iter()
        .filter_map(|record| match record {
            trailmap_testkit::FixtureRecord::Event { customer, line, event } => {
                let mut e = event.event.clone();
                e.key = EventKey(*line as u128);
                Some((CustomerId(*customer as i64 + 1), e))
            }
            trailmap_testkit::FixtureRecord::Order { .. } => None,
        })
        .collect()
}

#[test]
fn the_funnels_edge_cases_give_the_engines_counts() {
    let Some((_db, events)) = cluster("clickhouse funnel edges") else { return };
    events
        .append(
            B,
            &fixture(
                "
            # The window's end is inclusive: b exactly one hour after a.
            customer inclusive
              2024-01-01 10:00:00 a
              +1h b
            # One millisecond late.
            customer late
              2024-01-01 10:00:00 a
              +1h1ms b
            # b and a at the same millisecond, b written first: b is before a.
            customer tie_ba
              2024-01-01 10:00:00 b
              +0ms a
              +0ms c
            # a and b at the same millisecond, a first.
            customer tie_ab
              2024-01-01 10:00:00 a
              +0ms b
            # A chain that restarts: the first a is too early for c, the second one makes it.
            customer restart
              2024-01-01 10:00:00 a
              +40m b
              +10m a
              +10m b
              +45m c
            # Greedy earliest match would take b at +10m and miss c; the longest chain wins.
            customer greedy
              2024-01-01 10:00:00 a
              +10m b
              +5m a
              +50m b
              +5m c
            # One event matches two steps (a|b): it moves the chain one step only.
            customer double
              2024-01-01 10:00:00 ab
              +1m c
            # Far apart: chains in different blocks of 18.16's 32-bit timeline.
            customer far
              2024-01-01 10:00:00 a
              +40d a
              +30m b
              +30m c
            # Only a b: never entered.
            customer no_entry
              2024-01-01 10:00:00 b
              +1m c
            ",
            ),
        )
        .unwrap();
    let hour = 3_600_000;
    let ab_steps = |window| pushed(&events, &named(&["a", "b"]), window, None);
    // inclusive, tie_ab, restart, greedy, far reach b; late and tie_ba only enter.
    assert_eq!(ab_steps(hour), [7, 5]);
    assert_eq!(pushed(&events, &named(&["a", "b", "c"]), hour, None), [7, 5, 3]);
    let double = vec![vec![EventRule::named("a"), EventRule::named("ab")], vec![EventRule::named("b"), EventRule::named("ab")], vec![EventRule::named("c")]];
    assert_eq!(pushed(&events, &double, hour, None), [8, 5, 3]);
    // A window of a millisecond and the longest pushed down.
    pushed(&events, &named(&["a", "b"]), 1, None);
    pushed(&events, &named(&["a", "b", "c"]), trailmap_store::MAX_PUSHDOWN_WINDOW_MS, None);
    // A period keeps the anchors inside it: only the far customer's second a.
    let day = 86_400_000;
    let jan_1 = 1_704_067_200_000;
    assert_eq!(pushed(&events, &named(&["a", "b", "c"]), hour, Some((jan_1 + day, jan_1 + 60 * day))), [1, 1, 1]);
    // Rules beyond names: case-insensitive names, a prefix, a negation.
    let rules = vec![
        vec![EventRule::default().and(EventField::Name, Op::Equals("A".into()))],
        vec![EventRule::default().and(EventField::Name, Op::StartsWith("b".into())).and_not(EventField::Name, Op::Contains("z".into()))],
    ];
    assert_eq!(pushed(&events, &rules, hour, None), [7, 5]);
    // What is not pushed down says why.
    let property = FunnelSpec { steps: vec![vec![EventRule::default().and(EventField::Property("plan".into()), Op::Exists)]], window_ms: hour, period: None };
    assert!(matches!(events.funnel(B, &property).unwrap(), FunnelPath::Stream(PushdownRefusal::Rule(_))));
    let long = FunnelSpec { steps: named(&["a"]), window_ms: 30 * day, period: None };
    assert_eq!(events.funnel(B, &long).unwrap(), FunnelPath::Stream(PushdownRefusal::Window(30 * day)));
}

#[test]
fn a_seeded_log_gives_the_engines_counts_exactly() {
    let Some((_db, events)) = cluster("clickhouse funnel seeded") else { return };
    let customers = 400;
    let log = seeded(11, customers, 30_000);
    for part in log.chunks(7_000) {
        events.append(B, part).unwrap();
    }
    // A retried batch changes nothing.
    events.append(B, &log[..7_000]).unwrap();
    let minute = 60_000;
    let funnels = [
        (named(&["page_view", "product_view", "add_to_cart", "checkout", "purchase"]), 30 * minute),
        (named(&["page_view", "product_view", "add_to_cart", "checkout", "purchase"]), 2 * 86_400_000),
        (named(&["product_view|add_to_cart", "add_to_cart|checkout", "purchase"]), 10 * minute),
        (named(&["purchase", "page_view", "purchase"]), 3 * minute),
    ];
    let all = EventSelection { properties: true, ..EventSelection::ALL_BUT_PROPERTIES };
    for merged in [false, true] {
        if merged {
            merge_people(&events, customers);
        }
        let current = |c: CustomerId| if merged { person(c) } else { c };
        // The engine on a table built here from the generated events, independently of loads.
        let rows = expected_rows(&log, current);
        assert_eq!(rows_of(&events.load_selected_events(B, all).unwrap()), rows);
        for (steps, window) in &funnels {
            let reached = pushed(&events, steps, *window, None);
            assert!(reached[0] > 0 && reached.windows(2).all(|w| w[0] >= w[1]), "{reached:?}");
            assert_eq!(engine_reached(table_of(&rows), steps, *window, None), reached, "merged {merged}: {steps:?}");
        }
        // Over a period only its rows are read; step-1 events at its edges and chains running
        // past its end count as in the engine.
        for period in [(1_700_000_000_000 + 5_000 * 7_919, 1_700_000_000_000 + 20_000 * 7_919), (1_700_000_000_000 + 7_919 * 12_345 + 1, 1_700_000_000_000 + 7_919 * 12_400)] {
            let reached = pushed(&events, &funnels[0].0, 30 * minute, Some(period));
            assert!(reached[0] > 0, "{reached:?}");
            assert_eq!(engine_reached(table_of(&rows), &funnels[0].0, 30 * minute, Some(period)), reached, "merged {merged}: {period:?}");
        }
    }
}

/// A table of the given rows, in their order.
fn table_of(rows: &[Row]) -> EventTable {
    let mut table = EventTable { strings: vec!["".into()], properties: Some(Vec::new()), ..EventTable::default() };
    let mut ids = std::collections::HashMap::<String, StringId>::new();
    for (customer, time, texts, revenue, properties) in rows {
        table.customer.push(*customer);
        table.time.push(*time);
        table.revenue_minor.push(*revenue);
        let mut intern = |text: &str| -> StringId {
            if text.is_empty() {
                return 0;
            }
            *ids.entry(text.to_string()).or_insert_with(|| {
                table.strings.push(text.into());
                table.strings.len() as StringId - 1
            })
        };
        let interned: Vec<StringId> = texts.iter().map(|t| intern(t)).collect();
        for (column, id) in table.columns_mut().texts.into_iter().zip(interned) {
            column.push(id);
        }
        if let Some(p) = table.properties.as_mut() {
            p.push(properties.clone());
        }
    }
    table
}

/// The generated demo's businesses, each with its events on its people (as a store's identity
/// resolution groups them: customer ids 1, 2, ...), keyed in the order generated so ties keep
/// that order.
pub(super) fn demo_logs(customers: u64, seed: u64) -> Vec<(Business, Vec<(CustomerId, Event)>)> {
    let mut sink = trailmap_testkit::MemorySink::new();
    trailmap_testkit::generate_demo(&mut sink, &trailmap_testkit::DemoOptions { customers, seed }).unwrap();
    sink.businesses
        .clone()
        .into_iter()
        .map(|business| {
            let people = sink.people(business.id);
            let log = sink
                .events_of(business.id)
                .enumerate()
                .map(|(k, incoming)| {
                    let mut event = incoming.event.clone();
                    event.key = EventKey(k as u128);
                    (CustomerId(people[&event.identity] as i64 + 1), event)
                })
                .collect();
            (business, log)
        })
        .collect()
}

#[test]
fn the_demo_gives_the_engines_counts_exactly() {
    let Some((_db, events)) = cluster("clickhouse funnel demo") else { return };
    for (business, log) in demo_logs(800, 42) {
        let b = BusinessId(100 + business.id.0);
        events.append(b, &log).unwrap();
        let rows = expected_rows(&log, |c| c);
        let all = EventSelection { properties: true, ..EventSelection::ALL_BUT_PROPERTIES };
        assert_eq!(rows_of(&events.load_selected_events(b, all).unwrap()), rows, "{}", business.name);
        // Funnels over the business's most frequent names, in order of frequency and reversed.
        let mut counts = std::collections::BTreeMap::<&str, usize>::new();
        for (_, e) in &log {
            *counts.entry(e.name.as_str()).or_default() += 1;
        }
        let mut names: Vec<&str> = counts.keys().copied().collect();
        names.sort_by_key(|n| std::cmp::Reverse(counts[n]));
        let top: Vec<&str> = names.iter().take(5).copied().collect();
        let reversed: Vec<&str> = top.iter().rev().copied().collect();
        for steps in [named(&top), named(&reversed), named(&names[..names.len().min(3)])] {
            for window in [30 * 60_000, 86_400_000, 7 * 86_400_000] {
                let spec = FunnelSpec { steps: steps.clone(), window_ms: window, period: None };
                let FunnelPath::Pushdown(reached) = events.funnel(b, &spec).unwrap() else { panic!("not pushed down") };
                assert!(reached[0] > 0, "{}: {steps:?}", business.name);
                assert_eq!(reached, engine_reached(table_of(&rows), &steps, window, None), "{}: {steps:?} in {window} ms", business.name);
            }
        }
    }
}

#[test]
fn one_server_without_a_cluster_keeps_local_tables_only() {
    let Some(db) = ClickHouseDatabase::fresh("clickhouse one server") else { return };
    let first = &ClickHouseLocation::parse(db.url()).unwrap().shards[0];
    let location = ClickHouseLocation::parse(&format!("clickhouse://{first}/{}", db.name())).unwrap();
    let events = ClickHouseEvents::open(&location).unwrap();
    let tables = db.run_on(0, &format!("SELECT name FROM system.tables WHERE database = '{}' ORDER BY name", db.name()));
    assert_eq!(tables.lines().collect::<Vec<_>>(), ["events_local", "merges_local", "trailmap_migrations"]);
    let log = seeded(13, 60, 2_000);
    events.append(B, &log).unwrap();
    events.append(B, &log[..500]).unwrap();
    merge_people(&events, 60);
    let all = EventSelection { properties: true, ..EventSelection::ALL_BUT_PROPERTIES };
    assert_eq!(rows_of(&events.load_selected_events(B, all).unwrap()), expected_rows(&log, person));
    let reached = pushed(&events, &named(&["page_view", "add_to_cart", "purchase"]), 20 * 60_000, None);
    assert!(reached[0] > 0, "{reached:?}");
}

#[test]
fn a_query_past_its_memory_limit_is_stopped_with_a_message() {
    let Some((_db, mut events)) = cluster("clickhouse limits") else { return };
    events.append(B, &seeded(17, 300, 5_000)).unwrap();
    events.set_limits(trailmap_store::QueryLimits { seconds: 60, memory_bytes: Some(10_000) });
    let error = events.load_selected_events(B, EventSelection::ALL_BUT_PROPERTIES).unwrap_err();
    assert!(matches!(&error, ClickHouseError::Limit { message, .. } if message.contains("Memory limit")), "{error}");
    events.set_limits(trailmap_store::QueryLimits::default());
    assert_eq!(events.load_selected_events(B, EventSelection::ALL_BUT_PROPERTIES).unwrap().len(), 5_000);
}
