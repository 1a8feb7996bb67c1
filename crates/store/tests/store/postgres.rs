//! The PostgreSQL store against a real server: each test makes its own database on the server
//! named by TRAILMAP_TEST_POSTGRES (an admin URL, as .ci/postgres.sh starts one) and drops it at
//! the end; without the variable the tests say they were skipped. Besides its own rules
//! (migrations under a lock, a newer schema refused, bad configuration failing fast, two
//! processes writing at once), every write kind is run on both backends and every read compared:
//! the SQLite store is the reference.

use super::{anon, email, event, order, seeded_events, tiny_map};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use trailmap_model::*;
use trailmap_store::{EventLoads, IncrementalReads};
use trailmap_store::{
    AccountStore, CommentStore, DeliveryStore, MapStore, NewDelivery, NewInvitation, PgStore, SEGMENT_ROWS, SettingsStore, ShareLink,
    SqliteStore, Store, StoreError, SurveyLinkStore, WriteSummary, Writer,
};

#[path = "postgres_upkeep.rs"]
mod upkeep;

#[path = "postgres_move.rs"]
mod moved;

/// A database of its own on the test server, dropped when the test ends.
struct TestDb {
    admin: String,
    name: String,
    url: String,
}

impl TestDb {
    /// None (and a line saying so) when no server is configured.
    fn new(test: &str) -> Option<TestDb> {
        let Ok(admin) = std::env::var("TRAILMAP_TEST_POSTGRES") else {
            println!("skipped {test}: TRAILMAP_TEST_POSTGRES is not set (see .ci/postgres.sh)");
            return None;
        };
        let name = format!("tm_{:016x}", rand::random::<u64>());
        let mut client = postgres::Client::connect(&admin, postgres::NoTls).unwrap();
        client.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
        let url = with_database(&admin, &name);
        Some(TestDb { admin, name, url })
    }

    fn open(&self) -> PgStore {
        PgStore::open(&self.url).unwrap()
    }

    /// A plain connection to the test's database, to look behind the store's back.
    fn client(&self) -> postgres::Client {
        postgres::Client::connect(&self.url, postgres::NoTls).unwrap()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Ok(mut client) = postgres::Client::connect(&self.admin, postgres::NoTls) {
            let _ = client.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
        }
    }
}

/// `url` with its database replaced by `database`.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{database}?{q}"),
        None => format!("{base}/{database}"),
    }
}

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

fn write<S: Store>(store: &mut S, f: &mut dyn FnMut(&mut dyn Writer) -> Result<(), StoreError>) -> Result<WriteSummary, StoreError> {
    store.write::<StoreError>(&mut |w| f(w))
}

#[test]
fn migrations_run_once_under_a_lock_and_a_newer_database_is_refused_untouched() {
    let Some(db) = TestDb::new("migrations") else { return };
    // Two servers starting at once on an empty database: one migrates, the other waits and
    // finds nothing to do.
    let opened: Vec<i64> = std::thread::scope(|scope| {
        let a = scope.spawn(|| db.open().schema_version().unwrap());
        let b = scope.spawn(|| db.open().schema_version().unwrap());
        vec![a.join().unwrap(), b.join().unwrap()]
    });
    assert!(opened[0] >= 1);
    assert_eq!(opened[0], opened[1]);
    let known = opened[0];
    let mut client = db.client();
    let applied: Vec<i64> = client.query("SELECT version FROM schema_migrations ORDER BY version", &[]).unwrap().iter().map(|r| r.get(0)).collect();
    assert_eq!(applied, (1..=known).collect::<Vec<_>>(), "each migration recorded once");
    let mut store = db.open();
    let b = new_business(&mut store, "Bean There");
    assert_eq!(store.business(b).unwrap().name, "Bean There");
    drop(store);
    // A newer Trailmap migrated the database further: this one refuses it and writes nothing.
    client.execute("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, 0)", &[&(known + 1)]).unwrap();
    let tables = |client: &mut postgres::Client| -> i64 {
        client.query_one("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", &[]).unwrap().get(0)
    };
    let before = tables(&mut client);
    let error = PgStore::open(&db.url).expect_err("a newer schema");
    match &error {
        StoreError::TooNew { path, found, known: k } => {
            assert_eq!((*found, *k), (known + 1, known));
            assert!(path.contains(&db.name) && !path.contains(":trailmap@"), "{path}");
        }
        other => panic!("expected TooNew, got {other:?}"),
    }
    assert!(error.to_string().contains("upgrade trailmap"), "{error}");
    assert_eq!(tables(&mut client), before);
    let rows: i64 = client.query_one("SELECT count(*) FROM schema_migrations", &[]).unwrap().get(0);
    assert_eq!(rows, known + 1);
}

#[test]
fn a_wrong_password_or_an_unreachable_server_fails_within_seconds_without_showing_the_password() {
    let Some(db) = TestDb::new("bad configuration") else { return };
    let wrong = db.url.replacen(":trailmap@", ":not-the-password@", 1);
    assert_ne!(wrong, db.url, "the test URL carries a password");
    // A closed port, and a port that accepts connections and never answers (a hung server).
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    let at_port = |port: u16| {
        let host_start = wrong.find('@').unwrap() + 1;
        let path = wrong[host_start..].find('/').unwrap() + host_start;
        format!("postgres://trailmap:s3cret-pw@127.0.0.1:{port}{}", &wrong[path..])
    };
    for (url, why) in [(wrong.clone(), "password"), (at_port(closed), "refused"), (at_port(silent_port), "did not complete")] {
        let started = Instant::now();
        let error = PgStore::open(&url).expect_err("a bad configuration");
        let elapsed = started.elapsed();
        assert!(elapsed < Duration::from_secs(10), "{url}: took {elapsed:?}");
        let message = error.to_string();
        assert!(matches!(error, StoreError::Open { .. }), "{message}");
        assert!(!message.contains("not-the-password") && !message.contains("s3cret-pw"), "{message}");
        assert!(message.contains("postgres://trailmap@127.0.0.1:"), "the URL without its password: {message}");
        assert!(message.to_lowercase().contains(why), "{why}: {message}");
    }
    drop(silent);
    // Nothing was created by the failed attempts: the database is still empty.
    let tables: i64 = db.client().query_one("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", &[]).unwrap().get(0);
    assert_eq!(tables, 0);
}

#[test]
fn an_import_that_fails_leaves_nothing_and_the_write_after_it_lands() {
    let Some(db) = TestDb::new("import atomicity") else { return };
    let mut store = db.open();
    let b = new_business(&mut store, "Shop");
    let version = store.data_version(b).unwrap();
    let result = write(&mut store, &mut |w| {
        w.bulk();
        for i in 0..(SEGMENT_ROWS as i64 + 10) {
            w.add_event(b, &event("page_view", i, anon(&format!("v{}", i % 50)), vec![]))?;
        }
        w.add_order(b, &order("1001", vec![email("a@x.com")], 5, 700))?;
        Err(StoreError::Invalid("line 70000: bad timestamp".into()))
    });
    assert!(matches!(result, Err(StoreError::Invalid(ref m)) if m == "line 70000: bad timestamp"));
    let s = store.summary(b).unwrap();
    assert_eq!((s.events, s.customers, s.orders, s.identities), (0, 0, 0, 0));
    assert!(store.load_events(b, EventColumns::default()).unwrap().is_empty());
    assert_eq!(store.data_version(b).unwrap(), version, "a rolled-back write moves no version");
    let keys: i64 = db.client().query_one("SELECT count(*) FROM event_keys", &[]).unwrap().get(0);
    assert_eq!(keys, 0);
    // The same events again land whole: nothing of the failed write counts them as duplicates.
    let summary = write(&mut store, &mut |w| {
        for i in 0..100 {
            w.add_event(b, &event("page_view", i, anon(&format!("v{}", i % 50)), vec![]))?;
        }
        Ok(())
    })
    .unwrap();
    assert_eq!((summary.events_added, summary.events_duplicate, summary.customers_added), (100, 0, 50));
    assert_eq!(store.data_version(b).unwrap(), version + 1);
}

#[test]
fn duplicates_count_once_within_a_write_across_writes_and_in_bulk() {
    let Some(db) = TestDb::new("duplicates") else { return };
    let mut store = db.open();
    let b = new_business(&mut store, "Cafe");
    let write_all = |store: &mut PgStore, bulk: bool| {
        write(store, &mut |w| {
            if bulk {
                w.bulk();
            }
            for i in 0..100 {
                w.add_event(b, &event("store_visit", i, email(&format!("c{}@x.com", i % 7)), vec![]))?;
            }
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
    let first = write_all(&mut store, false);
    assert_eq!((first.events_added, first.events_duplicate), (101, 1));
    assert_eq!((first.orders_added, first.spend_added, first.feedback_added, first.customers_added), (1, 1, 1, 7));
    for bulk in [false, true] {
        let again = write_all(&mut store, bulk);
        assert_eq!(again.added(), 0, "bulk {bulk}");
        assert_eq!((again.events_duplicate, again.orders_duplicate, again.spend_duplicate, again.feedback_duplicate), (101, 1, 1, 1));
    }
    let s = store.summary(b).unwrap();
    assert_eq!((s.events, s.orders, s.spend_rows, s.feedback, s.customers), (101, 1, 1, 1, 7));
    assert_eq!((s.spend, s.revenue), (1500.0, 7.0));
}

#[test]
fn an_identity_that_links_two_customers_merges_them_into_one_history() {
    let Some(db) = TestDb::new("identity merging") else { return };
    let mut store = db.open();
    let b = new_business(&mut store, "Boutique");
    write(&mut store, &mut |w| {
        w.add_event(b, &event("page_view", 0, anon("cookie-1"), vec![]))?;
        w.add_event(b, &event("product_view", 1, anon("cookie-1"), vec![]))?;
        w.add_event(b, &event("email_open", 2, email("ann@example.com"), vec![]))?;
        Ok(())
    })
    .unwrap();
    assert_eq!(store.summary(b).unwrap().customers, 2);
    let summary = write(&mut store, &mut |w| {
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
    assert_eq!(table.customer.ids().len(), 1, "all five events belong to one customer");
    let names: Vec<&str> = table.name.iter().map(|&n| table.string(n)).collect();
    assert_eq!(names, ["page_view", "product_view", "email_open", "checkout_started", "purchase"]);
    let customer = store.customers(b, 10, 0).unwrap().remove(0);
    assert_eq!(customer.email.as_deref(), Some("ann@example.com"));
    assert_eq!(customer.first_seen, Timestamp(1_700_000_000_000), "first seen is the first anonymous visit");
    for id in [1, 2] {
        assert_eq!(store.customer(CustomerId(id)).unwrap().id, customer.id, "a merged-away id leads to the person");
    }
    assert_eq!(store.orders(b).unwrap()[0].customer, customer.id);
}

/// Order numbers: the same order again is a duplicate, another content under its number a
/// conflict naming what differs, an origin its own numbering; run on both backends, which must
/// answer alike.
fn order_rules<S: Store>(store: &mut S) -> Vec<String> {
    let b = new_business(store, "Shop");
    let mut outcomes = Vec::new();
    let mut attempt = |store: &mut S, o: IncomingOrder| {
        let outcome = write(store, &mut |w| w.add_order(b, &o).map(|_| ()));
        outcomes.push(match outcome {
            Ok(s) => format!("added {} duplicate {}", s.orders_added, s.orders_duplicate),
            Err(e) => format!("{e:?}"),
        });
    };
    attempt(store, order("1001", vec![email("a@x.com")], 5, 700));
    attempt(store, order("1001", vec![email("a@x.com")], 5, 700));
    attempt(store, order("1001", vec![email("b@x.com")], 6, 900));
    attempt(store, IncomingOrder { origin: "shopify".into(), ..order("1001", vec![email("a@x.com")], 5, 700) });
    attempt(store, IncomingOrder { origin: "shopify".into(), ..order("1001", vec![email("c@x.com")], 7, 100) });
    attempt(store, order("", vec![email("a@x.com")], 5, 700));
    attempt(store, order("1002", vec![], 5, 700));
    let s = store.summary(b).unwrap();
    outcomes.push(format!("orders {} customers {} events {}", s.orders, s.customers, s.events));
    outcomes
}

#[test]
fn order_numbers_conflict_and_repeat_as_on_sqlite() {
    let Some(db) = TestDb::new("order conflicts") else { return };
    let pg = order_rules(&mut db.open());
    let sqlite = order_rules(&mut SqliteStore::in_memory().unwrap());
    assert_eq!(pg, sqlite);
    assert!(pg[2].starts_with("Conflict(") && pg[2].contains("customer a@x.com before, b@x.com now"), "{}", pg[2]);
    assert_eq!(pg.last().unwrap(), "orders 2 customers 2 events 2", "the conflicting orders created no customer");
}

/// Every kind of write of [`Writer`], on any backend; returns the business.
fn every_write<S: Store>(store: &mut S) -> BusinessId {
    let b = new_business(store, "Cafe");
    new_business(store, "Other");
    let stages = store.stages(b).unwrap();
    let persona = Persona {
        id: PersonaId(0),
        business: b,
        name: "Busy Ben".into(),
        initials: None,
        photo: None,
        demographics: vec![("Age".into(), "25-34".into())],
        goals: vec!["Good coffee fast".into()],
        frustrations: vec![],
        behaviours: vec![],
        quote: None,
        segment: None,
    };
    let touchpoint = |name: &str, source: &str| Touchpoint {
        id: TouchpointId(0),
        business: b,
        name: name.into(),
        channel: TouchpointChannel::Ads,
        stage: Some(stages[0].id),
        online: true,
        rule: EventRule::named("page_view").and(EventField::Source, Op::Equals(source.into())),
        description: String::new(),
    };
    write(store, &mut |w| {
        w.set_decimal_mark(b, Some(DecimalMark::Comma))?;
        let insta = w.create_touchpoint(&touchpoint("Instagram ad", "instagram"))?;
        let google = w.create_touchpoint(&touchpoint("Google ad", "google"))?;
        let spare = w.create_touchpoint(&touchpoint("Flyer", "print"))?;
        w.update_touchpoint(&Touchpoint { id: google, description: "Search ads".into(), online: false, ..touchpoint("Google ads", "google") })?;
        w.reorder_touchpoints(b, &[google, spare, insta])?;
        w.delete_touchpoint(b, spare)?;
        w.dismiss_touchpoint_suggestion(b, "page:/menu")?;
        let ben = w.create_persona(&persona)?;
        w.update_persona(&Persona { id: ben, quote: Some("No time".into()), ..persona.clone() })?;
        let carla = w.create_persona(&Persona { name: "Calm Carla".into(), ..persona.clone() })?;
        w.delete_persona(b, carla)?;
        let mut map = JourneyMap { personas: vec![ben], ..tiny_map(b, "Morning coffee") };
        map.id = w.save_map(&map, "maria")?;
        map.name = "Morning coffee run".into();
        w.save_map(&map, "sam")?;
        w.save_map(&tiny_map(b, "Evening"), "sam")?;
        let survey = w.create_survey(&Survey {
            id: SurveyId(0),
            business: b,
            name: "After your visit".into(),
            touchpoint: None,
            stage: None,
            questions: vec![
                Question { id: QuestionId(1), text: "How likely...".into(), kind: QuestionKind::Nps, required: true, skip: None },
                Question {
                    id: QuestionId(2),
                    text: "What could we do better?".into(),
                    kind: QuestionKind::FreeText,
                    required: false,
                    skip: Some(SkipRule { question: QuestionId(1), values: vec!["10".into()] }),
                },
            ],
        })?;
        w.set_survey_touchpoint(b, survey.id, Some(insta))?;
        let change = w.add_change(&Change {
            id: ChangeId(0),
            business: b,
            title: "Referral loyalty programme".into(),
            description: "Bring a friend".into(),
            date: chrono::NaiveDate::from_ymd_opt(2026, 5, 1).unwrap(),
            touchpoints: vec![insta],
            stages: vec![stages[4].id],
            kpi: Some("new customers by referral".into()),
            owner: Some("Maria".into()),
            metric: None,
            answers: None,
        })?;
        w.set_change_metric(b, change, Some(&ChangeMetric::StepConversion { from: "visit".into(), to: "purchase".into(), window_days: 7 }))?;
        let mut properties = Properties::new();
        properties.insert("plan".into(), "gold".into());
        w.add_customer(b, &IncomingCustomer {
            identities: vec![Identity::external("cust-1").unwrap(), email("ann@example.com")],
            name: Some("Ann".into()),
            first_seen: Some(Timestamp(1_690_000_000_000)),
            properties,
        })?;
        for e in seeded_events(7, 40, 3_000) {
            w.add_event(b, &e)?;
        }
        w.add_order(b, &order("1001", vec![email("ann@example.com")], 5, 700))?;
        w.add_order(b, &IncomingOrder { origin: "shopify".into(), channel: Some("phone".into()), ..order("1001", vec![anon("c3-1")], 9, 1200) })?;
        w.add_spend(b, &IncomingSpend {
            channel: "Paid Social".into(),
            source: Some("instagram".into()),
            campaign: Some("spring".into()),
            start: chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
            end: chrono::NaiveDate::from_ymd_opt(2025, 1, 31).unwrap(),
            amount: Money::new(150_000, Currency::USD),
        })?;
        w.add_feedback(b, &IncomingFeedback {
            kind: FeedbackKind::Review,
            source: "google".into(),
            external_id: Some("r-1".into()),
            customer: vec![email("ann@example.com")],
            author: Some("Ann".into()),
            time: Timestamp(1_700_000_000_000),
            rating: Some(4.5),
            text: "Lovely".into(),
            link: None,
            touchpoint: Some("instagram AD".into()),
            tags: vec!["service".into()],
        })?;
        let mut hidden = BTreeMap::new();
        hidden.insert("order_id".into(), "1001".into());
        w.add_response(b, &IncomingResponse {
            survey: survey.id,
            customer: vec![email("ann@example.com")],
            submitted_at: Timestamp(1_700_000_100_000),
            hidden,
            answers: vec![Answer { question: survey.questions[0].id, value: AnswerValue::Number(9.0) }],
        })?;
        let key = w.create_write_key(b, "site", "ab12")?;
        w.touch_write_key(key, Timestamp(1_700_000_200_000))?;
        let spare_key = w.create_write_key(b, "old", "cd34")?;
        w.revoke_write_key(b, spare_key, Timestamp(1_700_000_300_000))?;
        w.count_tracking_drops(b, "bot", 3)?;
        w.count_tracking_drops(b, "bot", 2)?;
        w.count_tracking_drops(b, "no identity", 1)?;
        w.record_import(b, "orders", "orders.csv")?;
        Ok(())
    })
    .unwrap();
    // Tags edited in place, in a write of their own.
    let feedback = store.feedback(b).unwrap()[0].id;
    write(store, &mut |w| w.set_feedback_tags(b, feedback, &["service".into(), "price".into()])).unwrap();
    b
}

/// Everything the [`Store`] trait reads of a business, as one comparable text.
fn every_read<S: Store>(store: &S, b: BusinessId) -> Vec<String> {
    let surveys = store.surveys(b).unwrap();
    let maps = store.maps(b).unwrap();
    vec![
        format!("{:?}", store.businesses().unwrap()),
        format!("{:?}", store.business_by_name("cAFE").unwrap()),
        format!("{:?}", store.summary(b).unwrap()),
        format!("{:?}", store.data_version(b).unwrap()),
        format!("{:?}", store.stages(b).unwrap()),
        format!("{:?}", store.touchpoints(b).unwrap()),
        format!("{:?}", store.dismissed_touchpoint_suggestions(b).unwrap()),
        format!("{:?}", store.personas(b).unwrap()),
        format!("{maps:?}"),
        format!("{:?}", maps.iter().map(|m| store.map_versions(m.id).unwrap().into_iter().map(|v| (v.version, v.author, v.map)).collect::<Vec<_>>()).collect::<Vec<_>>()),
        format!("{surveys:?}"),
        format!("{:?}", surveys.iter().map(|s| store.responses(s.id).unwrap()).collect::<Vec<_>>()),
        format!("{:?}", store.feedback(b).unwrap()),
        format!("{:?}", store.changes(b).unwrap()),
        format!("{:?}", store.spend(b).unwrap()),
        format!("{:?}", store.customers(b, 1000, 0).unwrap()),
        format!("{:?}", store.customers(b, 5, 3).unwrap()),
        format!("{:?}", (1..60).map(|id| store.customer(CustomerId(id)).map(|c| c.id).map_err(|e| e.to_string())).collect::<Vec<_>>()),
        format!("{:?}", store.orders(b).unwrap()),
        format!("{:?}", store.write_keys(b).unwrap().into_iter().map(|k| (k.id, k.name, k.key_hash, k.last_used, k.revoked_at)).collect::<Vec<_>>()),
        format!("{:?}", store.write_key_by_hash("ab12").unwrap().map(|k| k.id)),
        format!("{:?}", store.tracking_drops(b).unwrap()),
    ]
}

#[test]
fn every_write_kind_reads_back_as_on_sqlite() {
    let Some(db) = TestDb::new("every write kind") else { return };
    let mut pg = db.open();
    let mut sqlite = SqliteStore::in_memory().unwrap();
    let (b, same) = (every_write(&mut pg), every_write(&mut sqlite));
    assert_eq!(b, same);
    for (pg, sqlite) in every_read(&pg, b).into_iter().zip(every_read(&sqlite, b)) {
        assert_eq!(pg, sqlite);
    }
    // A few of the values themselves, so the comparison is not of two empty answers.
    let s = pg.summary(b).unwrap();
    assert_eq!((s.orders, s.touchpoints, s.personas, s.maps, s.surveys, s.responses, s.feedback, s.changes, s.spend_rows), (2, 2, 1, 2, 1, 1, 1, 1, 1));
    assert_eq!(s.events, 3_002);
    assert_eq!(pg.touchpoints(b).unwrap().iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["Google ads", "Instagram ad"]);
    assert_eq!(pg.feedback(b).unwrap()[0].tags, ["service", "price"]);
    assert_eq!(pg.business(b).unwrap().decimal_mark, Some(DecimalMark::Comma));
    assert_eq!(pg.tracking_drops(b).unwrap(), [("bot".to_string(), 5), ("no identity".to_string(), 1)]);
    // The events load as the same table, whole, by columns and by name.
    assert_eq!(pg.load_events(b, EventColumns { properties: true }).unwrap(), sqlite.load_events(b, EventColumns { properties: true }).unwrap());
    let few = EventSelection { name: true, revenue: true, ..EventSelection::NONE };
    assert_eq!(pg.load_selected_events(b, few).unwrap(), sqlite.load_selected_events(b, few).unwrap());
    let views = |name: &str| name == "page_view" || name == "purchase";
    assert_eq!(pg.load_named_events(b, few, &views).unwrap(), sqlite.load_named_events(b, few, &views).unwrap());
}

#[test]
fn refusals_inside_a_write_leave_it_usable_as_on_sqlite() {
    let Some(db) = TestDb::new("refusals") else { return };
    fn refusals<S: Store>(store: &mut S) -> Vec<String> {
        let b = new_business(store, "Cafe");
        let mut seen = Vec::new();
        write(store, &mut |w| {
            let tp = |name: &str| Touchpoint {
                id: TouchpointId(0),
                business: b,
                name: name.into(),
                channel: TouchpointChannel::Web,
                stage: None,
                online: true,
                rule: EventRule::named("page_view"),
                description: String::new(),
            };
            let menu = w.create_touchpoint(&tp("Menu"))?;
            w.add_feedback(b, &IncomingFeedback {
                kind: FeedbackKind::Review,
                source: "google".into(),
                external_id: Some("1".into()),
                customer: vec![],
                author: None,
                time: Timestamp(0),
                rating: None,
                text: "ok".into(),
                link: None,
                touchpoint: Some("Menu".into()),
                tags: vec![],
            })?;
            // Each refusal is caught and the write goes on, as a caller may.
            seen.push(format!("{:?}", w.create_touchpoint(&tp("Menu"))));
            seen.push(format!("{:?}", w.delete_touchpoint(b, menu)));
            seen.push(format!("{:?}", w.create_business("CAFE", Currency::USD, "UTC").map(|_| ())));
            seen.push(format!("{:?}", w.create_persona(&Persona {
                id: PersonaId(0),
                business: b,
                name: " ".into(),
                initials: None,
                photo: None,
                demographics: vec![],
                goals: vec![],
                frustrations: vec![],
                behaviours: vec![],
                quote: None,
                segment: None,
            })));
            seen.push(format!("{:?}", w.create_write_key(b, "a", "h1").and_then(|_| w.create_write_key(b, "b", "h1"))));
            // SQLite refuses it at its foreign key, PostgreSQL before: both refuse.
            seen.push(format!("unknown business refused: {}", w.add_event(BusinessId(99), &event("x", 0, anon("v"), vec![])).is_err()));
            seen.push(format!("{:?}", w.revoke_write_key(b, 999, Timestamp(0))));
            seen.push(format!("{:?}", w.create_touchpoint(&tp("Menu board"))));
            Ok(())
        })
        .unwrap();
        seen.push(format!("{:?}", store.touchpoints(b).unwrap().iter().map(|t| t.name.clone()).collect::<Vec<_>>()));
        seen
    }
    let pg = refusals(&mut db.open());
    assert_eq!(pg, refusals(&mut SqliteStore::in_memory().unwrap()));
    assert!(pg[0].contains("Conflict") && pg[1].contains("still named by feedback"), "{pg:?}");
}

#[test]
fn accounts_sessions_invitations_keys_and_resets() {
    let Some(db) = TestDb::new("accounts") else { return };
    let mut store = db.open();
    let now = Timestamp(1_700_000_000_000);
    let later = Timestamp(now.0 + 3_600_000);
    let ann = store.insert_user("ann@example.com", "Ann", "hash-a", now).unwrap();
    let bob = store.insert_user("bob@example.com", "Bob", "hash-b", now).unwrap();
    assert!(matches!(store.insert_user("ann@example.com", "Ann 2", "h", now), Err(StoreError::Conflict(m)) if m.contains("exists already")));
    assert_eq!(store.user_count().unwrap(), 2);
    assert_eq!(store.user_with_hash("ann@example.com").unwrap(), Some((ann.clone(), "hash-a".into())));
    store.set_password_hash(ann.id, "hash-a2").unwrap();
    assert!(matches!(store.set_password_hash(UserId(99), "x"), Err(StoreError::NotFound { .. })));

    let shop = store.create_business_owned(ann.id, "Shop", Currency::EUR, "Europe/Paris").unwrap();
    assert!(matches!(store.create_business_owned(bob.id, "SHOP", Currency::EUR, "UTC"), Err(StoreError::Conflict(_))));
    assert_eq!(store.role(ann.id, shop.id).unwrap(), Some(Role::Owner));
    assert!(matches!(store.set_member(shop.id, ann.id, Role::Viewer), Err(StoreError::Conflict(m)) if m.contains("at least one owner")));
    assert!(matches!(store.remove_member(shop.id, ann.id), Err(StoreError::Conflict(_))));
    assert!(matches!(store.set_member(shop.id, UserId(99), Role::Viewer), Err(StoreError::NotFound { .. })));
    let renamed = store.rename_business(shop.id, "Shop & Co").unwrap();
    assert_eq!(renamed.name, "Shop & Co");

    // Invitations: accepted once, a member keeps the higher role.
    let invitation = NewInvitation { business: shop.id, role: Role::Editor, email: Some("bob@example.com"), invited_by: ann.id, now, expires: later };
    store.insert_invitation("inv-1", &invitation).unwrap();
    assert_eq!(store.invitation("inv-1").unwrap().unwrap().role, Role::Editor);
    let membership = store.accept_invitation("inv-1", bob.id, now).unwrap();
    assert_eq!((membership.business.id, membership.role), (shop.id, Role::Editor));
    assert!(matches!(store.accept_invitation("inv-1", bob.id, now), Err(StoreError::Conflict(_))));
    assert!(matches!(store.accept_invitation("nope", bob.id, now), Err(StoreError::NotFound { .. })));
    assert_eq!(store.members(shop.id).unwrap(), vec![(ann.clone(), Role::Owner), (bob.clone(), Role::Editor)]);
    assert_eq!(store.memberships(bob.id).unwrap().len(), 1);
    store.set_member(shop.id, bob.id, Role::Owner).unwrap();
    store.set_member(shop.id, ann.id, Role::Viewer).unwrap();
    store.remove_member(shop.id, ann.id).unwrap();
    assert_eq!(store.role(ann.id, shop.id).unwrap(), None);

    // Sessions.
    let token = "0123456789abcdef0123";
    store.insert_session(token, ann.id, "csrf", now, later).unwrap();
    store.insert_session("fedcba9876543210aaaa", ann.id, "csrf2", Timestamp(now.0 + 1), later).unwrap();
    assert_eq!(store.session(token, now).unwrap().unwrap().csrf, "csrf");
    assert_eq!(store.session(token, later).unwrap(), None, "expired at its end");
    let listed = store.sessions_of(ann.id, now).unwrap();
    assert_eq!(listed.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(), ["fedcba987654", "0123456789ab"]);
    assert!(store.delete_session_by_id(ann.id, "fedcba987654").unwrap());
    assert!(!store.delete_session_by_id(ann.id, "fedcba987654").unwrap());
    assert_eq!(store.delete_sessions_except(ann.id, Some(token)).unwrap(), 0);
    assert_eq!(store.delete_expired_sessions(later).unwrap(), 1);

    // API keys.
    let key = store.insert_api_key(ann.id, "ci", "tm_abc", "key-hash", now).unwrap();
    assert!(matches!(store.insert_api_key(UserId(99), "x", "p", "other-hash", now), Err(StoreError::NotFound { .. })));
    store.touch_api_key("key-hash", later).unwrap();
    let (found, user) = store.api_key_by_hash("key-hash").unwrap().unwrap();
    assert_eq!((found.id, found.last_used, user.id), (key.id, Some(later), ann.id));
    store.revoke_api_key(ann.id, key.id, later).unwrap();
    assert!(matches!(store.revoke_api_key(bob.id, key.id, later), Err(StoreError::NotFound { .. })));
    assert_eq!(store.api_keys(ann.id).unwrap()[0].revoked, Some(later));

    // Password resets: used once, ending every session.
    store.insert_session("s-ann", ann.id, "c", now, later).unwrap();
    store.insert_password_reset("reset-1", ann.id, now, later).unwrap();
    assert_eq!(store.password_reset("reset-1", now).unwrap(), Some(ann.clone()));
    assert_eq!(store.use_password_reset("reset-1", "new-hash", now).unwrap().id, ann.id);
    assert!(matches!(store.use_password_reset("reset-1", "again", now), Err(StoreError::NotFound { .. })));
    assert_eq!(store.user_with_hash("ann@example.com").unwrap().unwrap().1, "new-hash");
    assert_eq!(store.session("s-ann", now).unwrap(), None);
}

#[test]
fn maps_versions_share_links_comments_surveys_links_settings_and_deliveries() {
    let Some(db) = TestDb::new("maps and the rest") else { return };
    let mut store = db.open();
    let now = Timestamp(1_700_000_000_000);
    let ann = store.insert_user("ann@example.com", "Ann", "h", now).unwrap();
    let b = new_business(&mut store, "Cafe");
    let mut map = tiny_map(b, "Morning");
    write(&mut store, &mut |w| {
        map.id = w.save_map(&map, "ann")?;
        Ok(())
    })
    .unwrap();
    let version = store.data_version(b).unwrap();
    write(&mut store, &mut |w| w.save_map(&JourneyMap { name: "Morning run".into(), ..map.clone() }, "bob").map(|_| ())).unwrap();
    assert_eq!(store.data_version(b).unwrap(), version + 1);
    let newest = store.map(map.id).unwrap().unwrap();
    assert_eq!((newest.version, newest.author.as_str(), newest.map.name.as_str()), (2, "bob", "Morning run"));
    assert_eq!(store.map_version(map.id, 1).unwrap().unwrap().map.name, "Morning");
    assert_eq!(store.map_version(map.id, 3).unwrap(), None);
    assert!(matches!(
        write(&mut store, &mut |w| w.save_map(&JourneyMap { business: BusinessId(77), ..map.clone() }, "x").map(|_| ())),
        Err(StoreError::NotFound { .. })
    ));

    let link = ShareLink {
        token_hash: "t1".into(),
        map: map.id,
        business: b,
        password_hash: None,
        expires_at: Some(Timestamp(now.0 + 1000)),
        created_by: "ann".into(),
        created_at: now,
        frame_ancestors: vec![],
    };
    store.insert_share_link(&link).unwrap();
    assert!(matches!(store.insert_share_link(&link), Err(StoreError::Conflict(_))));
    assert!(matches!(store.insert_share_link(&ShareLink { map: MapId(99), ..link.clone() }), Err(StoreError::NotFound { .. })));
    store.set_share_link_frame_ancestors(map.id, "t1", &["https://a.example".into(), "https://b.example".into()]).unwrap();
    assert_eq!(store.share_link("t1").unwrap().unwrap().frame_ancestors, ["https://a.example", "https://b.example"]);
    assert_eq!(store.share_links(map.id).unwrap().len(), 1);

    let first = store.insert_comment(map.id, 3, ann.id, "Is this right?", now).unwrap();
    store.insert_comment(map.id, 1, ann.id, "Nice", now).unwrap();
    assert_eq!((first.author_name.as_str(), first.card, first.business), ("Ann", 3, b));
    assert_eq!(store.update_comment(first.id, "Is this right??", later(now)).unwrap().edited_at, Some(later(now)));
    assert_eq!(store.comments(map.id, None).unwrap().iter().map(|c| c.card).collect::<Vec<_>>(), [1, 3]);
    assert_eq!(store.comments(map.id, Some(3)).unwrap().len(), 1);
    write(&mut store, &mut |w| w.delete_card_comments(map.id, &[1]).map(|_| ())).unwrap();
    assert_eq!(store.comments(map.id, None).unwrap().len(), 1);
    assert!(matches!(store.delete_comment(999), Err(StoreError::NotFound { .. })));

    store.delete_map(map.id).unwrap();
    assert_eq!(store.map(map.id).unwrap(), None);
    assert_eq!(store.share_link("t1").unwrap(), None);
    assert!(matches!(store.delete_map(map.id), Err(StoreError::NotFound { .. })));

    let mut survey = SurveyId(0);
    write(&mut store, &mut |w| {
        survey = w
            .create_survey(&Survey { id: SurveyId(0), business: b, name: "S".into(), touchpoint: None, stage: None, questions: vec![] })?
            .id;
        Ok(())
    })
    .unwrap();
    store.set_survey_token(survey, Some("tok")).unwrap();
    assert_eq!(store.survey_by_token("tok").unwrap(), Some((b, survey)));
    assert_eq!(store.survey_token(survey).unwrap().as_deref(), Some("tok"));
    assert!(matches!(store.survey_token(SurveyId(99)), Err(StoreError::NotFound { .. })));

    store.set_setting("default_business", "Cafe").unwrap();
    store.set_setting("default_business", "Other").unwrap();
    assert_eq!(store.setting("default_business").unwrap().as_deref(), Some("Other"));
    store.set_checklist_hidden(b, Some(now)).unwrap();
    assert_eq!(store.checklist_hidden(b).unwrap(), Some(now));
    assert!(matches!(store.checklist_hidden(BusinessId(99)), Err(StoreError::NotFound { .. })));

    let delivery = NewDelivery {
        business: b,
        key: Some("digest:1:2026-10-01".into()),
        kind: "digest".into(),
        channel: "email".into(),
        target: "ann@example.com".into(),
        subject: "Weekly".into(),
        body: "{}".into(),
        attachment: Some(vec![1, 2, 3]),
        secret: None,
    };
    let queued = store.queue_delivery(&delivery, now).unwrap().unwrap();
    assert_eq!(store.queue_delivery(&delivery, now).unwrap(), None, "a key is queued once");
    assert!(store.delivery_key_used("digest:1:2026-10-01").unwrap());
    assert_eq!(store.due_deliveries(now, 10).unwrap().len(), 1);
    let failed = store.record_attempt(queued.id, Err(("timeout", Some(later(now)))), now).unwrap();
    assert_eq!((failed.status.as_str(), failed.attempts), ("pending", 1));
    let sent = store.record_attempt(queued.id, Ok(()), later(now)).unwrap();
    assert_eq!((sent.status.as_str(), sent.attempts, sent.sent_at), ("sent", 2, Some(later(now))));
    assert_eq!(store.deliveries(b, 10).unwrap()[0].attachment, Some(vec![]), "the log leaves attachments' bytes out");
    let digest = store.insert_digest(b, "weekly", "ann@example.com", now).unwrap();
    assert_eq!(store.all_digests().unwrap(), vec![digest.clone()]);
    store.delete_digest(b, digest.id).unwrap();
    assert!(matches!(store.delete_digest(b, digest.id), Err(StoreError::NotFound { .. })));
}

fn later(t: Timestamp) -> Timestamp {
    Timestamp(t.0 + 60_000)
}

#[test]
fn two_stores_on_one_database_write_at_once_without_losing_or_duplicating() {
    let Some(db) = TestDb::new("two servers") else { return };
    let mut setup = db.open();
    let b = new_business(&mut setup, "Shop");
    let version = setup.data_version(b).unwrap();
    // Two "servers", each writing batches that name the same visitors and link the same
    // identities, and send half of each other's events again.
    let batches = 12;
    std::thread::scope(|scope| {
        for server in 0..2 {
            let db = &db;
            scope.spawn(move || {
                let mut store = db.open();
                for batch in 0..batches {
                    write(&mut store, &mut |w| {
                        for i in 0..50 {
                            let n = batch * 50 + i;
                            let who = anon(&format!("v{}", n % 30));
                            let also = if n % 7 == 0 { vec![email(&format!("p{}@x.com", n % 10))] } else { vec![] };
                            w.add_event(b, &event("page_view", n, who, also))?;
                            if server == 1 && i % 2 == 0 {
                                w.add_event(b, &event("page_view", n, anon(&format!("v{}", n % 30)), vec![]))?;
                            }
                        }
                        Ok(())
                    })
                    .unwrap();
                }
            });
        }
    });
    // The events of both servers are one set: each once.
    let table = setup.load_events(b, EventColumns::default()).unwrap();
    assert_eq!(table.len() as i64, batches * 50);
    // Each identity is one customer's, and no two current customers share an identity.
    let mut client = db.client();
    let shared: i64 = client
        .query_one("SELECT count(*) FROM (SELECT kind, value FROM identities WHERE business = $1 GROUP BY kind, value HAVING count(*) > 1) d", &[&b.0])
        .unwrap()
        .get(0);
    assert_eq!(shared, 0);
    let on_merged: i64 = client
        .query_one("SELECT count(*) FROM identities i JOIN customers c ON c.id = i.customer WHERE c.merged_into IS NOT NULL", &[])
        .unwrap()
        .get(0);
    assert_eq!(on_merged, 0, "every identity points at a current customer");
    // The reference: the same batches written one after the other on SQLite give as many
    // customers.
    let mut sqlite = SqliteStore::in_memory().unwrap();
    let reference = new_business(&mut sqlite, "Shop");
    write(&mut sqlite, &mut |w| {
        for n in 0..batches * 50 {
            let also = if n % 7 == 0 { vec![email(&format!("p{}@x.com", n % 10))] } else { vec![] };
            w.add_event(reference, &event("page_view", n, anon(&format!("v{}", n % 30)), also))?;
        }
        Ok(())
    })
    .unwrap();
    assert_eq!(setup.summary(b).unwrap().customers, sqlite.summary(reference).unwrap().customers);
    assert_eq!(table.customer.ids().len() as u64, sqlite.summary(reference).unwrap().customers);
    // The version the first store reads moved with every committed write of both.
    assert_eq!(setup.data_version(b).unwrap(), version + 2 * batches);
}

#[test]
fn reads_after_a_mark_agree_with_sqlite() {
    let Some(db) = TestDb::new("reads after a mark") else { return };
    let mut pg = db.open();
    let mut sqlite = SqliteStore::in_memory().unwrap();
    let b = every_write(&mut pg);
    every_write(&mut sqlite);
    let (mark, same) = (pg.snapshot(|s| s.data_mark(b)).unwrap(), sqlite.snapshot(|s| s.data_mark(b)).unwrap());
    assert_eq!(mark, same);
    // More of everything, with a merge of two earlier visitors and new strings.
    fn more<S: Store>(store: &mut S, b: BusinessId) {
        write(store, &mut |w| {
            for (i, e) in seeded_events(8, 60, 500).iter().enumerate() {
                let mut e = e.clone();
                e.event.campaign = Some(format!("autumn-{}", i % 3));
                w.add_event(b, &e)?;
            }
            w.add_event(b, &event("signup", 9_000, anon("c1-0"), vec![email("c2@example.com")]))?;
            w.add_order(b, &order("2001", vec![anon("c5-1")], 9_001, 4_200))?;
            Ok(())
        })
        .unwrap();
    }
    more(&mut pg, b);
    more(&mut sqlite, b);
    assert!(pg.segments_unchanged(b, &mark).unwrap());
    assert_eq!(pg.identities_after(b, mark.identity).unwrap(), sqlite.identities_after(b, mark.identity).unwrap());
    let customer_of = |pairs: Vec<(i64, i64)>| {
        let mut of = vec![0; pairs.iter().map(|&(id, _)| id as usize + 1).max().unwrap_or(0)];
        pairs.into_iter().for_each(|(id, c)| of[id as usize] = c);
        of
    };
    let of = customer_of(pg.identities_after(b, 0).unwrap());
    assert_eq!(of, customer_of(sqlite.identities_after(b, 0).unwrap()));
    let after = trailmap_store::EventsAfter { segment: mark.segment, rows: mark.rows, strings: mark.strings, customer_of: &of };
    let selection: EventSelection = EventColumns { properties: true }.into();
    let appended = pg.snapshot(|s| s.load_events_after(b, selection, &after)).unwrap();
    assert_eq!(appended.len(), 502);
    assert_eq!(appended, sqlite.snapshot(|s| s.load_events_after(b, selection, &after)).unwrap());
    assert!(appended.strings.iter().any(|s| &**s == "autumn-2"), "the new strings only: {:?}", appended.strings);
    let merges = sqlite.merges(b).unwrap();
    assert!(!merges.is_empty());
    for (merged, into) in pg.merged_customers(b).unwrap() {
        assert_eq!(merges.current(merged), merges.current(into));
    }
    assert_eq!(pg.merged_customers(b).unwrap().len(), merges.len());
    assert_eq!(pg.order_table(b, mark.order, &merges).unwrap(), sqlite.order_table(b, mark.order, &merges).unwrap());
    assert_eq!(pg.order_table(b, 0, &merges).unwrap(), sqlite.order_table(b, 0, &merges).unwrap());
    assert_eq!(pg.orders_after(b, mark.order).unwrap(), sqlite.orders_after(b, mark.order).unwrap());
    assert_eq!(pg.order_customers(b).unwrap(), sqlite.order_customers(b).unwrap());
    assert_eq!(pg.order_customer(b, "2001").unwrap(), sqlite.order_customer(b, "2001").unwrap());
    assert_eq!(pg.responses_after(b, 0).unwrap(), sqlite.responses_after(b, 0).unwrap());
    assert_eq!(pg.feedback_after(b, mark.feedback).unwrap(), sqlite.feedback_after(b, mark.feedback).unwrap());
    let ids: Vec<CustomerId> = (1..80).rev().map(CustomerId).collect();
    assert_eq!(pg.customers_by_ids(b, &ids).unwrap(), sqlite.customers_by_ids(b, &ids).unwrap());
    let now = pg.snapshot(|s| s.data_mark(b)).unwrap();
    assert_eq!(now, sqlite.snapshot(|s| s.data_mark(b)).unwrap());
    assert_eq!(now.version, mark.version + 1);
}

#[test]
fn a_snapshot_reads_one_state_while_another_store_writes() {
    let Some(db) = TestDb::new("snapshots") else { return };
    let mut writer = db.open();
    let reader = db.open();
    let b = new_business(&mut writer, "Shop");
    write(&mut writer, &mut |w| w.add_event(b, &event("page_view", 0, anon("v1"), vec![])).map(|_| ())).unwrap();
    let (before, inside, events) = reader
        .snapshot(|s| {
            let before = s.data_mark(b)?;
            // Another server commits while the snapshot is open.
            write(&mut writer, &mut |w| w.add_event(b, &event("page_view", 1, anon("v2"), vec![])).map(|_| ())).unwrap();
            Ok((before, s.data_mark(b)?, s.load_events(b, EventColumns::default())?.len()))
        })
        .unwrap();
    assert_eq!(before, inside, "the snapshot does not see the other write");
    assert_eq!(events, 1);
    assert_eq!(reader.data_version(b).unwrap(), before.version + 1, "after it, the write is seen");
    assert_eq!(reader.load_events(b, EventColumns::default()).unwrap().len(), 2);
}
