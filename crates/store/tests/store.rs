//! The store's integration tests: schema and migrations, whole-or-nothing writes, identity
//! resolution and merging, deduplication, the columnar event round trip, and durability under
//! SIGKILL.

// Helpers outside #[test] functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used)]

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

use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use trailmap_model::*;
use trailmap_store::{SEGMENT_ROWS, SqliteStore, Store, StoreError, WriteSummary};

fn new_business(store: &mut SqliteStore, name: &str) -> BusinessId {
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
fn a_failed_write_leaves_nothing() {
    let mut store = SqliteStore::in_memory().unwrap();
    let b = new_business(&mut store, "Shop");
    let result = store.write::<StoreError>(&mut |w| {
        for i in 0..(SEGMENT_ROWS as i64 + 10) {
            w.add_event(b, &event("page_view", i, anon(&format!("v{}", i % 50)), vec![]))?;
        }
        w.add_order(b, &order("1001", vec![email("a@x.com")], 5, 700))?;
        Err(StoreError::Invalid("line 70000: bad timestamp".into()))
    });
    assert!(result.is_err());
    let summary = store.summary(b).unwrap();
    assert_eq!((summary.events, summary.customers, summary.orders, summary.identities), (0, 0, 0, 0));
    assert!(store.load_events(b, EventColumns::default()).unwrap().is_empty());
}

#[test]
fn an_anonymous_visitor_who_identifies_is_one_customer_with_one_history() {
    let mut store = SqliteStore::in_memory().unwrap();
    let b = new_business(&mut store, "Boutique");
    store
        .write::<StoreError>(&mut |w| {
            w.add_event(b, &event("page_view", 0, anon("cookie-1"), vec![]))?;
            w.add_event(b, &event("product_view", 1, anon("cookie-1"), vec![]))?;
            // Someone else, known only by email so far.
            w.add_event(b, &event("email_open", 2, email("ann@example.com"), vec![]))?;
            Ok(())
        })
        .unwrap();
    assert_eq!(store.summary(b).unwrap().customers, 2);
    // Checkout: the cookie and the email turn out to be the same person.
    let summary = store
        .write::<StoreError>(&mut |w| {
            w.add_event(b, &event("checkout_started", 3, email("ANN@example.com"), vec![anon("cookie-1")]))?;
            w.add_order(b, &order("A-1", vec![email("ann@example.com")], 4, 6200))?;
            Ok(())
        })
        .unwrap();
    assert_eq!(summary.customers_merged, 1);
    let s = store.summary(b).unwrap();
    assert_eq!((s.customers, s.identities, s.orders, s.events), (1, 2, 1, 5));
    let mut table = store.load_events(b, EventColumns { properties: true }).unwrap();
    table.sort_by_customer_time();
    let customers: HashSet<CustomerId> = table.customer.iter().copied().collect();
    assert_eq!(customers.len(), 1, "all five events belong to one customer");
    let names: Vec<&str> = table.name.iter().map(|&n| table.string(n)).collect();
    assert_eq!(names, ["page_view", "product_view", "email_open", "checkout_started", "purchase"]);
    let customer = store.customers(b, 10, 0).unwrap().remove(0);
    assert_eq!(customer.email.as_deref(), Some("ann@example.com"));
    assert_eq!(customer.first_seen, Timestamp(1_700_000_000_000), "first seen is the first anonymous visit");
    let purchase = table.len() - 1;
    assert_eq!(table.revenue_minor[purchase], 6200);
    assert_eq!(table.string(table.currency[purchase]), "USD");
    assert_eq!(table.string(table.channel[purchase]), "In-store");
    assert!(table.properties.as_ref().unwrap()[purchase].as_deref().unwrap().contains("\"order_id\":\"A-1\""));
    // The merged-away customer's id still leads to the person.
    let all_ids: Vec<i64> = (1..=2).collect();
    for id in all_ids {
        assert_eq!(store.customer(CustomerId(id)).unwrap().id, customer.id);
    }
}

#[test]
fn writing_the_same_records_twice_adds_nothing() {
    let mut store = SqliteStore::in_memory().unwrap();
    let b = new_business(&mut store, "Cafe");
    let write_all = |store: &mut SqliteStore| {
        store
            .write::<StoreError>(&mut |w| {
                for i in 0..100 {
                    w.add_event(b, &event("store_visit", i, email(&format!("c{}@x.com", i % 7)), vec![]))?;
                }
                // The same event twice within one write counts once too.
                w.add_event(b, &event("store_visit", 0, email("c0@x.com"), vec![]))?;
                w.add_order(b, &order("T-1", vec![email("c1@x.com")], 3, 700))?;
                w.add_spend(b, &IncomingSpend {
                    channel: "Paid Social".into(),
                    source: Some("instagram".into()),
                    campaign: None,
                    start: chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
                    end: chrono::NaiveDate::from_ymd_opt(2025, 1, 31).unwrap(),
                    amount: Money::new(150_000, Currency::USD),
                })?;
                w.add_feedback(b, &IncomingFeedback {
                    kind: FeedbackKind::Review,
                    source: "google".into(),
                    external_id: None,
                    customer: vec![],
                    author: Some("Sam".into()),
                    time: Timestamp(1_700_000_000_000),
                    rating: Some(5.0),
                    text: "Best flat white in town".into(),
                    link: None,
                    touchpoint: None,
                    tags: vec![],
                })?;
                Ok(())
            })
            .unwrap()
    };
    let first = write_all(&mut store);
    assert_eq!((first.events_added, first.events_duplicate), (101, 1), "100 visits and one purchase");
    assert_eq!((first.orders_added, first.spend_added, first.feedback_added, first.customers_added), (1, 1, 1, 7));
    let second = write_all(&mut store);
    assert_eq!(second.added(), 0);
    assert_eq!((second.events_duplicate, second.orders_duplicate, second.spend_duplicate, second.feedback_duplicate), (101, 1, 1, 1), "a duplicate order adds no purchase event");
    let s = store.summary(b).unwrap();
    assert_eq!((s.events, s.orders, s.spend_rows, s.feedback, s.customers), (101, 1, 1, 1, 7));
    assert_eq!(s.spend, 1500.0);
    assert_eq!(s.revenue, 7.0);
}

#[test]
fn events_round_trip_across_many_segments_and_businesses() {
    let mut store = SqliteStore::in_memory().unwrap();
    let a = new_business(&mut store, "A");
    let b = new_business(&mut store, "B");
    let n = SEGMENT_ROWS as i64 * 2 + 123;
    store
        .write::<StoreError>(&mut |w| {
            for i in 0..n {
                let mut e = event(if i % 3 == 0 { "page_view" } else { "product_view" }, i, anon(&format!("v{}", i % 1000)), vec![]);
                if i % 10 == 0 {
                    e.event.revenue = Some(Money::new(i, Currency::EUR));
                    e.event.properties.insert("i".into(), i.into());
                    e.event.key = e.event.content_key();
                }
                w.add_event(if i % 2 == 0 { a } else { b }, &e)?;
            }
            Ok(())
        })
        .unwrap();
    let table = store.load_events(a, EventColumns { properties: true }).unwrap();
    assert_eq!(table.len() as i64, (n + 1) / 2);
    for (row, i) in (0..n).step_by(2).enumerate() {
        assert_eq!(table.time[row], 1_700_000_000_000 + i * 60_000);
        assert_eq!(table.string(table.name[row]), if i % 3 == 0 { "page_view" } else { "product_view" });
        assert_eq!(table.revenue_minor[row], if i % 10 == 0 { i } else { 0 });
        assert_eq!(table.properties.as_ref().unwrap()[row].is_some(), i % 10 == 0);
    }
    let customers: HashSet<CustomerId> = table.customer.iter().copied().collect();
    assert_eq!(customers.len(), 500, "even visitor numbers only");
    assert_eq!(table.customer.ids().len(), 500, "the table's customers are those with a loaded row");
    assert!(store.load_events(b, EventColumns::default()).unwrap().properties.is_none());
    // The decoders write segments at once: a named load across the segments is still the full
    // load's rows of that name, in order, and its customers are those with a kept row (not this
    // new visitor, who only signed up).
    store.write::<StoreError>(&mut |w| w.add_event(a, &event("signup", n + 1, anon("lonely"), vec![])).map(|_| ())).unwrap();
    let views = store.load_named_events(a, EventColumns { properties: true }.into(), &|name| name == "page_view").unwrap();
    let rows: Vec<usize> = (0..table.len()).filter(|&r| table.string(table.name[r]) == "page_view").collect();
    assert_eq!(views.len(), rows.len());
    for (kept, &row) in rows.iter().enumerate() {
        assert_eq!(
            (views.customer[kept], views.time[kept], views.revenue_minor[kept], views.properties.as_ref().map(|p| p[kept].clone())),
            (table.customer[row], table.time[row], table.revenue_minor[row], table.properties.as_ref().map(|p| p[row].clone()))
        );
    }
    let with_views: HashSet<CustomerId> = views.customer.iter().copied().collect();
    assert_eq!(views.customer.ids().len(), with_views.len());
    assert_eq!(with_views, customers, "the visitor who only signed up is not among them");
    assert_eq!(store.load_events(a, EventColumns::default()).unwrap().customer.ids().len(), 501);
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

#[test]
fn touchpoints_maps_surveys_and_changes_round_trip() {
    let mut store = SqliteStore::in_memory().unwrap();
    let b = new_business(&mut store, "Cafe");
    let stages = store.stages(b).unwrap();
    let mut map_id = MapId(0);
    let mut survey = None;
    store
        .write::<StoreError>(&mut |w| {
            let tp = w.create_touchpoint(&Touchpoint {
                id: TouchpointId(0),
                business: b,
                name: "Instagram ad".into(),
                channel: TouchpointChannel::Ads,
                stage: Some(stages[0].id),
                online: true,
                rule: EventRule::named("page_view").and(EventField::Source, Op::Equals("instagram".into())),
                description: String::new(),
            })?;
            let mut map = JourneyMap {
                id: MapId(0),
                business: b,
                name: "Morning coffee".into(),
                kind: MapVersionKind::AsIs,
                owner: Some("Maria".into()),
                review_date: chrono::NaiveDate::from_ymd_opt(2026, 1, 1),
                personas: vec![],
                stages: vec![MapStage {
                    id: 0,
                    stage: Some(stages[0].id),
                    name: "Awareness".into(),
                    goals: vec![Card::assumption("Find good coffee nearby")],
                    actions: vec![],
                    thoughts: vec![],
                    pain_points: vec![],
                    opportunities: vec![],
                    touchpoints: vec![tp],
                    emotions: vec![PersonaEmotion { persona: None, score: 1.0 }],
                    removed_touchpoints: vec![],
                }],
                as_is: None,
            };
            map_id = w.save_map(&map, "maria")?;
            map.id = map_id;
            map.name = "Morning coffee run".into();
            w.save_map(&map, "sam")?;
            let q1 = QuestionId(101);
            survey = Some(w.create_survey(&Survey {
                id: SurveyId(0),
                business: b,
                name: "After your visit".into(),
                touchpoint: Some(tp),
                stage: None,
                questions: vec![
                    Question { id: q1, text: "How likely...".into(), kind: QuestionKind::Nps, required: true, skip: None },
                    Question {
                        id: QuestionId(102),
                        text: "What could we do better?".into(),
                        kind: QuestionKind::FreeText,
                        required: false,
                        skip: Some(SkipRule { question: q1, values: vec!["10".into()] }),
                    },
                ],
            })?);
            let s = survey.clone().unwrap();
            let mut hidden = BTreeMap::new();
            hidden.insert("order_id".into(), "T-1".into());
            w.add_response(b, &IncomingResponse {
                survey: s.id,
                customer: vec![email("a@x.com")],
                submitted_at: Timestamp(1_700_000_000_000),
                hidden,
                answers: vec![
                    Answer { question: s.questions[0].id, value: AnswerValue::Number(9.0) },
                    Answer { question: s.questions[1].id, value: AnswerValue::Text("More seats".into()) },
                ],
            })?;
            w.add_change(&Change {
                id: ChangeId(0),
                business: b,
                title: "Referral loyalty programme".into(),
                description: "Bring a friend, both get a free coffee".into(),
                date: chrono::NaiveDate::from_ymd_opt(2026, 5, 1).unwrap(),
                touchpoints: vec![tp],
                stages: vec![stages[4].id],
                kpi: Some("new customers by referral".into()),
                owner: Some("Maria".into()),
                metric: None,
                answers: None,
            })?;
            Ok(())
        })
        .unwrap();
    let tps = store.touchpoints(b).unwrap();
    assert_eq!(tps[0].rule.conditions.len(), 2);
    assert_eq!(tps[0].channel, TouchpointChannel::Ads);
    let maps = store.maps(b).unwrap();
    assert_eq!(maps.len(), 1);
    assert_eq!(maps[0].name, "Morning coffee run");
    let versions = store.map_versions(map_id).unwrap();
    assert_eq!(versions.iter().map(|v| (v.version, v.author.as_str())).collect::<Vec<_>>(), [(1, "maria"), (2, "sam")]);
    assert_eq!(versions[0].map.name, "Morning coffee");
    let survey = survey.unwrap();
    assert_eq!(survey.questions[1].skip.as_ref().unwrap().question, survey.questions[0].id);
    assert!(survey.questions.iter().all(|q| q.id.0 < 100), "question ids come from the store");
    assert_eq!(store.surveys(b).unwrap(), vec![survey.clone()]);
    let responses = store.responses(survey.id).unwrap();
    assert_eq!(responses[0].answers[1].value, AnswerValue::Text("More seats".into()));
    assert!(responses[0].customer.is_some());
    assert_eq!(store.changes(b).unwrap()[0].kpi.as_deref(), Some("new customers by referral"));
}

#[test]
fn changes_keep_their_metric_and_the_card_they_answer() {
    let mut store = SqliteStore::in_memory().unwrap();
    let b = new_business(&mut store, "Boutique");
    let other = new_business(&mut store, "Cafe");
    let day = |d| chrono::NaiveDate::from_ymd_opt(2026, 6, d).unwrap();
    let metrics = [
        Some(ChangeMetric::StepConversion { from: "checkout_started".into(), to: "purchase[items>2]".into(), window_days: 7 }),
        Some(ChangeMetric::StageReach { stage: "Purchase".into() }),
        Some(ChangeMetric::RepeatRate),
        Some(ChangeMetric::AverageOrderValue),
        Some(ChangeMetric::RevenuePerCustomer),
        Some(ChangeMetric::Nps),
        Some(ChangeMetric::Csat { touchpoint: Some("Checkout".into()) }),
        Some(ChangeMetric::Csat { touchpoint: None }),
        Some(ChangeMetric::NewCustomers { channel: Some("Referral".into()) }),
        Some(ChangeMetric::NewCustomers { channel: None }),
        None,
    ];
    // Written newest first, so the store's order (by date, then id) is not the order of writing.
    let written: Vec<Change> = metrics
        .iter()
        .enumerate()
        .map(|(i, metric)| Change {
            id: ChangeId(0),
            business: b,
            title: format!("Change {i}"),
            description: String::new(),
            date: day(20 - i as u32),
            touchpoints: vec![],
            stages: vec![],
            kpi: None,
            owner: None,
            metric: metric.clone(),
            answers: (i % 2 == 0).then_some(CardRef { map: MapId(3), card: i as u32 + 1 }),
        })
        .collect();
    let mut ids = Vec::new();
    store
        .write::<StoreError>(&mut |w| {
            ids = written.iter().map(|c| w.add_change(c)).collect::<Result<_, _>>()?;
            Ok(())
        })
        .unwrap();
    let mut expected: Vec<Change> = written.iter().zip(&ids).map(|(c, id)| Change { id: *id, ..c.clone() }).collect();
    expected.reverse();
    assert_eq!(store.changes(b).unwrap(), expected);
    assert!(store.changes(other).unwrap().is_empty(), "changes stay with their business");
}

#[test]
fn duplicate_business_names_and_unknown_touchpoints_are_refused() {
    let mut store = SqliteStore::in_memory().unwrap();
    let b = new_business(&mut store, "Cafe");
    let err = store
        .write::<StoreError>(&mut |w| w.create_business("cafe", Currency::USD, "UTC").map(|_| ()))
        .unwrap_err();
    assert!(err.to_string().contains("already exists"), "{err}");
    let err = store
        .write::<StoreError>(&mut |w| {
            w.add_feedback(b, &IncomingFeedback {
                kind: FeedbackKind::Review,
                source: "google".into(),
                external_id: Some("r1".into()),
                customer: vec![],
                author: None,
                time: Timestamp(0),
                rating: None,
                text: "ok".into(),
                link: None,
                touchpoint: Some("Drive-through".into()),
                tags: vec![],
            })
            .map(|_| ())
        })
        .unwrap_err();
    assert!(err.to_string().contains("Drive-through"), "{err}");
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

#[test]
fn deduplication_sees_committed_keys_forgets_rollbacks_and_sees_other_connections() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys.sqlite");
    let mut store = SqliteStore::open(&path).unwrap();
    let b = new_business(&mut store, "Shop");
    let add = |store: &mut SqliteStore, minute: i64| {
        store
            .write::<StoreError>(&mut |w| w.add_event(b, &event("page_view", minute, anon("v"), vec![])).map(|_| ()))
            .unwrap()
    };
    assert_eq!(add(&mut store, 1).events_added, 1);
    assert_eq!(add(&mut store, 1).events_duplicate, 1, "the committed key is remembered");
    // A rolled-back write's keys must not count as present afterwards.
    let failed = store.write::<StoreError>(&mut |w| {
        w.add_event(b, &event("page_view", 2, anon("v"), vec![]))?;
        Err(StoreError::Invalid("abandoned".into()))
    });
    assert!(failed.is_err());
    assert_eq!(add(&mut store, 2).events_added, 1, "the abandoned event can be written later");
    // Another connection writes an event; this store must see it as a duplicate.
    let mut other = SqliteStore::open(&path).unwrap();
    assert_eq!(add(&mut other, 3).events_added, 1);
    assert_eq!(add(&mut store, 3).events_duplicate, 1, "a commit by another connection is seen");
    assert_eq!(store.load_events(b, EventColumns::default()).unwrap().len(), 3);
}

#[test]
fn a_selected_load_equals_the_full_load_in_its_columns_and_leaves_the_rest_empty() {
    let mut store = SqliteStore::in_memory().unwrap();
    let b = new_business(&mut store, "Boutique");
    store
        .write::<StoreError>(&mut |w| {
            for i in 0..100 {
                w.add_event(b, &event(if i % 3 == 0 { "page_view" } else { "purchase" }, i, anon(&format!("c{}", i % 7)), vec![]))?;
            }
            Ok(())
        })
        .unwrap();
    let full = store.load_events(b, EventColumns { properties: true }).unwrap();
    let selection = trailmap_model::EventSelection::NONE.with(&trailmap_model::EventField::Name);
    let some = store.load_selected_events(b, selection).unwrap();
    assert_eq!((some.customer.clone(), some.time.clone(), some.name.clone()), (full.customer.clone(), full.time.clone(), full.name.clone()));
    assert!(some.channel.is_empty() && some.currency.is_empty() && some.revenue_minor.is_empty() && some.properties.is_none());
    assert_eq!(store.load_selected_events(b, EventColumns { properties: true }.into()).unwrap(), full);
    // Only the purchases: the full load's purchase rows, in order, every loaded column kept.
    let purchases = store.load_named_events(b, EventColumns { properties: true }.into(), &|name| name == "purchase").unwrap();
    let rows: Vec<usize> = (0..full.len()).filter(|&r| full.string(full.name[r]) == "purchase").collect();
    assert_eq!(purchases.len(), rows.len());
    assert!(rows.len() > 50 && rows.len() < full.len());
    for (kept, &row) in rows.iter().enumerate() {
        assert_eq!(
            (purchases.customer[kept], purchases.time[kept], purchases.string(purchases.name[kept]), purchases.channel[kept], purchases.properties.as_ref().map(|p| p[kept].clone())),
            (full.customer[row], full.time[row], "purchase", full.channel[row], full.properties.as_ref().map(|p| p[row].clone()))
        );
    }
    assert_eq!(store.load_named_events(b, selection, &|_| false).unwrap().len(), 0);
}

/// The data version is what the server's caches are keyed by: it must rise with every committed
/// write to the business, stay put for other businesses and failed writes, and be seen by another
/// connection to the same file (a CLI import while the server runs).
#[test]
fn the_data_version_rises_with_each_committed_write_of_its_business_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.sqlite");
    let mut store = SqliteStore::open(&path).unwrap();
    let shop = new_business(&mut store, "Shop");
    let cafe = new_business(&mut store, "Cafe");
    let reader = SqliteStore::open(&path).unwrap();
    let (shop0, cafe0) = (reader.data_version(shop).unwrap(), reader.data_version(cafe).unwrap());

    store.write::<StoreError>(&mut |w| w.add_event(shop, &event("page_view", 1, anon("v1"), vec![])).map(|_| ())).unwrap();
    assert_eq!(reader.data_version(shop).unwrap(), shop0 + 1, "another connection sees the new version");
    assert_eq!(reader.data_version(cafe).unwrap(), cafe0, "the other business is untouched");

    // A duplicate event changes nothing, but the write still counts: a version may rise without a
    // change (a cache recomputes), never stay when something changed.
    let failed = store.write::<StoreError>(&mut |w| {
        w.add_order(shop, &order("1", vec![email("a@x.com")], 2, 500))?;
        Err(StoreError::Invalid("stop".into()))
    });
    assert!(failed.is_err());
    assert_eq!(reader.data_version(shop).unwrap(), shop0 + 1, "a rolled-back write does not count");

    store.write::<StoreError>(&mut |w| w.add_order(shop, &order("2", vec![email("b@x.com")], 3, 700)).map(|_| ())).unwrap();
    store
        .write::<StoreError>(&mut |w| {
            let day = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
            let spend = IncomingSpend {
                channel: "Paid Social".into(),
                source: None,
                campaign: None,
                start: day,
                end: day,
                amount: Money::new(1000, Currency::USD),
            };
            w.add_spend(cafe, &spend).map(|_| ())
        })
        .unwrap();
    assert_eq!(reader.data_version(shop).unwrap(), shop0 + 2);
    assert_eq!(reader.data_version(cafe).unwrap(), cafe0 + 1);
    assert!(matches!(reader.data_version(BusinessId(999)), Err(StoreError::NotFound { .. })));
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

#[test]
fn one_map_its_versions_and_deleting_it() {
    use trailmap_store::{MapStore, ShareLink};
    let mut store = SqliteStore::in_memory().unwrap();
    let b = new_business(&mut store, "Cafe");
    let mut ids = Vec::new();
    store
        .write::<StoreError>(&mut |w| {
            let id = w.save_map(&tiny_map(b, "first"), "ann")?;
            w.save_map(&JourneyMap { id, ..tiny_map(b, "first, renamed") }, "bob")?;
            ids = vec![id, w.save_map(&tiny_map(b, "second"), "ann")?];
            Ok(())
        })
        .unwrap();
    let newest = store.map(ids[0]).unwrap().expect("the map");
    assert_eq!((newest.version, newest.author.as_str(), newest.map.name.as_str()), (2, "bob", "first, renamed"));
    assert_eq!((newest.map.id, newest.map.business), (ids[0], b));
    let first = store.map_version(ids[0], 1).unwrap().expect("version 1");
    assert_eq!((first.author.as_str(), first.map.name.as_str()), ("ann", "first"));
    assert!(store.map_version(ids[0], 3).unwrap().is_none());
    assert!(store.map(MapId(999)).unwrap().is_none());

    let link = ShareLink {
        token_hash: "ab".repeat(32),
        map: ids[0],
        business: b,
        password_hash: Some("$argon2id$fake".into()),
        expires_at: Some(Timestamp(5_000)),
        created_by: "ann".into(),
        created_at: Timestamp(1_000),
        frame_ancestors: vec!["https://intranet.example".into()],
    };
    store.insert_share_link(&link).unwrap();
    assert!(matches!(store.insert_share_link(&link), Err(StoreError::Conflict(_))));
    assert!(matches!(store.insert_share_link(&ShareLink { map: MapId(999), ..link.clone() }), Err(StoreError::NotFound { .. })));
    assert_eq!(store.share_link(&link.token_hash).unwrap(), Some(link.clone()));
    assert_eq!(store.share_links(ids[0]).unwrap(), vec![link.clone()]);
    assert!(matches!(store.delete_share_link(ids[1], &link.token_hash), Err(StoreError::NotFound { .. })));

    store.delete_map(ids[0]).unwrap();
    assert!(store.map(ids[0]).unwrap().is_none());
    assert!(store.share_link(&link.token_hash).unwrap().is_none(), "a deleted map's links go with it");
    assert_eq!(store.maps(b).unwrap().iter().map(|m| m.name.as_str()).collect::<Vec<_>>(), vec!["second"]);
    assert!(matches!(store.delete_map(ids[0]), Err(StoreError::NotFound { .. })));
}

/// A load reads one snapshot: while another connection commits small writes that each bring a new
/// visitor (a new identity and a segment pointing at it), every load succeeds and sees whole
/// writes only. Without the read transaction a commit between reading the identities and reading
/// the segments made the load fail with "unknown identity".
#[test]
fn loads_see_one_snapshot_while_another_connection_writes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("snapshot.sqlite");
    let mut store = SqliteStore::open(&path).unwrap();
    let shop = new_business(&mut store, "Shop");
    const WRITES: i64 = 300;
    let writer = std::thread::spawn(move || {
        for i in 0..WRITES {
            store
                .write::<StoreError>(&mut |w| {
                    // Two events per write, so a half-seen write would show an odd count.
                    w.add_event(shop, &event("page_view", i, anon(&format!("visitor-{i}")), vec![]))?;
                    w.add_event(shop, &event("add_to_cart", i, anon(&format!("visitor-{i}")), vec![])).map(|_| ())
                })
                .unwrap();
        }
    });
    let reader = SqliteStore::open(&path).unwrap();
    let mut loads = 0;
    loop {
        let done = writer.is_finished();
        let table = reader.load_events(shop, EventColumns::default()).unwrap();
        assert_eq!(table.len() % 2, 0, "a load sees whole writes only");
        loads += 1;
        if done {
            assert_eq!(table.len() as i64, 2 * WRITES);
            break;
        }
    }
    writer.join().unwrap();
    assert!(loads > 1);
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

fn write_events(store: &mut SqliteStore, b: BusinessId, events: &[IncomingEvent]) -> WriteSummary {
    store
        .write::<StoreError>(&mut |w| {
            for e in events {
                w.add_event(b, e)?;
            }
            Ok(())
        })
        .unwrap()
}

fn journeys(store: &SqliteStore, b: BusinessId) -> trailmap_analytics::Journeys {
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
