//! The conformance suite: every behaviour a store backend must have, written once against
//! [`AnyStore`] and run against each backend by [`conformance`] (a module of tests per backend).
//! A new backend passes when every test of its module passes: migrations, whole-or-nothing
//! writes, deduplication, identity merging, order conflicts, event loading and the incremental
//! reads, accounts, maps and versions, surveys, changes, personas, erasure, retention and
//! compaction (where a backend does nothing to compact, the events must still load the same).
//!
//! Each test gets a fresh, empty store from [`TestDb`]: a SQLite file in a temporary folder, or a
//! new database on the PostgreSQL server named by `TRAILMAP_TEST_POSTGRES` (dropped afterwards).
//! `TestDb::open` opens another connection to the same store, as a second process would.

use super::personas::*;
use super::{anon, assert_same_journeys, email, event, journeys, new_business, order, seeded_events, tiny_map, write_events};
use std::collections::{BTreeMap, HashSet};
use trailmap_model::*;
use trailmap_store::*;

/// A fresh store of one backend, for one test.
pub struct TestDb {
    location: StoreLocation,
    _dir: Option<tempfile::TempDir>,
    _database: Option<trailmap_testkit::postgres::PostgresDatabase>,
    _events: Option<trailmap_testkit::clickhouse::ClickHouseDatabase>,
}

impl TestDb {
    /// A new SQLite file in a temporary folder (always there; the test's name is taken to have
    /// the other backends' shape).
    pub fn sqlite(_test: &str) -> Option<TestDb> {
        let dir = tempfile::tempdir().unwrap();
        Some(TestDb { location: StoreLocation::Sqlite(dir.path().join("conformance.sqlite")), _dir: Some(dir), _database: None, _events: None })
    }

    /// A new database on the test server (see `trailmap_testkit::postgres`); None when there is
    /// none outside CI.
    pub fn postgres(test: &str) -> Option<TestDb> {
        let database = trailmap_testkit::postgres::PostgresDatabase::fresh(test)?;
        let location = StoreLocation::parse(database.url()).unwrap();
        Some(TestDb { location, _dir: None, _database: Some(database), _events: None })
    }

    /// A new SQLite file with its events in a new database on the ClickHouse test cluster (see
    /// `trailmap_testkit::clickhouse`); None when there is none outside CI.
    pub fn clickhouse(test: &str) -> Option<TestDb> {
        let events = trailmap_testkit::clickhouse::ClickHouseDatabase::fresh(test)?;
        let dir = tempfile::tempdir().unwrap();
        let location = StoreLocation::Sqlite(dir.path().join("conformance.sqlite")).with_events(Some(events.url())).unwrap();
        Some(TestDb { location, _dir: Some(dir), _database: None, _events: Some(events) })
    }

    /// A connection to the store (each call a new one, as another process would have).
    pub fn open(&self) -> AnyStore {
        AnyStore::open(&self.location).unwrap()
    }
}

/// One module of tests for one backend: `MODULE::NAME` runs the behaviour `NAME` on a fresh store
/// from `TestDb::CONSTRUCTOR` (skipped when that backend's server is not there).
macro_rules! backend_module {
    ($module:ident, $constructor:ident, $($name:ident),* $(,)?) => {
        mod $module {
            $(#[test]
            fn $name() {
                if let Some(db) = super::TestDb::$constructor(stringify!($name)) {
                    super::$name(&db);
                }
            })*
        }
    };
}

/// Runs each behaviour against every backend: `sqlite::NAME`, `postgres::NAME` and
/// `clickhouse::NAME` (a SQLite store with its events in ClickHouse), but the ones listed after
/// `not with events in ClickHouse`, which run on the first two only.
macro_rules! conformance {
    ($($name:ident),* $(,)? ; not with events in ClickHouse: $($own:ident),* $(,)?) => {
        backend_module!(sqlite, sqlite, $($name,)* $($own,)*);
        backend_module!(postgres, postgres, $($name,)* $($own,)*);
        backend_module!(clickhouse, clickhouse, $($name,)*);
    };
}

conformance!(
    a_new_store_has_its_schema_and_reopens_with_its_data,
    accounts_sessions_invitations_and_keys,
    an_order_number_seen_again_with_other_facts_is_a_conflict,
    an_erasure_removes_the_person_and_refuses_them_after,
    expired_events_go_and_the_rest_stay,
    compaction_keeps_every_journey,
    settings_comments_survey_links_and_deliveries,
    a_failed_write_leaves_nothing,
    an_anonymous_visitor_who_identifies_is_one_customer_with_one_history,
    writing_the_same_records_twice_adds_nothing,
    touchpoints_maps_surveys_and_changes_round_trip,
    changes_keep_their_metric_and_the_card_they_answer,
    duplicate_business_names_and_unknown_touchpoints_are_refused,
    deduplication_sees_committed_keys_forgets_rollbacks_and_sees_other_connections,
    a_selected_load_equals_the_full_load_in_its_columns_and_leaves_the_rest_empty,
    the_data_version_rises_with_each_committed_write_of_its_business_only,
    one_map_its_versions_and_deleting_it,
    loads_see_one_snapshot_while_another_connection_writes,
    persona_cards_are_created_updated_and_deleted_one_transaction_each;
    // Two behaviours are not a store's with its events in ClickHouse, by design (split.rs):
    // ClickHouse keeps no order of arrival, so events load in customer order (as a compacted
    // store's do), not as written; and a reader's copy is loaded again whole after a change,
    // never from a mark.
    not with events in ClickHouse:
    events_round_trip_across_many_segments_and_businesses,
    a_reader_brings_its_copy_up_to_date_from_a_mark,
);

const MINUTE: i64 = 60_000;
const T0: i64 = 1_700_000_000_000;

fn a_new_store_has_its_schema_and_reopens_with_its_data(db: &TestDb) {
    let mut store = db.open();
    let b = new_business(&mut store, "Bean There");
    let stages: Vec<String> = store.stages(b).unwrap().into_iter().map(|s| s.name).collect();
    assert_eq!(stages, ["Awareness", "Consideration", "Purchase", "Retention", "Advocacy"]);
    drop(store);
    let store = db.open();
    assert_eq!(store.businesses().unwrap().iter().map(|b| b.name.as_str()).collect::<Vec<_>>(), ["Bean There"]);
    assert!(matches!(store.business(BusinessId(999)), Err(StoreError::NotFound { .. })));
}

fn accounts_sessions_invitations_and_keys(db: &TestDb) {
    let mut store = db.open();
    let now = Timestamp(T0);
    let ann = store.insert_user("ann@example.com", "Ann", "hash-a", now).unwrap();
    assert!(matches!(store.insert_user("ann@example.com", "Other Ann", "h", now), Err(StoreError::Conflict(_))));
    let bob = store.insert_user("bob@example.com", "Bob", "hash-b", now).unwrap();
    assert_eq!(store.user_count().unwrap(), 2);
    assert_eq!(store.user_with_hash("ann@example.com").unwrap().map(|(u, h)| (u.id, h)), Some((ann.id, "hash-a".to_string())));
    store.set_password_hash(ann.id, "hash-a2").unwrap();
    assert_eq!(store.user_with_hash("ann@example.com").unwrap().unwrap().1, "hash-a2");

    let shop = store.create_business_owned(ann.id, "Shop", Currency::EUR, "Europe/Paris").unwrap();
    assert_eq!(store.role(ann.id, shop.id).unwrap(), Some(Role::Owner));
    assert_eq!(store.role(bob.id, shop.id).unwrap(), None);
    assert!(matches!(store.remove_member(shop.id, ann.id), Err(StoreError::Conflict(_))), "the last owner stays");
    assert!(matches!(store.create_business_owned(bob.id, "shop", Currency::EUR, "UTC"), Err(StoreError::Conflict(_))));
    assert_eq!(store.rename_business(shop.id, "Corner Shop").unwrap().name, "Corner Shop");

    // Sessions: found until they expire, listed by a short id, ended one by one or all but one.
    let later = Timestamp(T0 + 3_600_000);
    store.insert_session("s1", ann.id, "csrf-1", now, later).unwrap();
    store.insert_session("s2", ann.id, "csrf-2", now, later).unwrap();
    assert_eq!(store.session("s1", now).unwrap().map(|s| (s.user.id, s.csrf)), Some((ann.id, "csrf-1".to_string())));
    assert!(store.session("s1", Timestamp(later.0 + 1)).unwrap().is_none(), "an expired session is not found");
    assert_eq!(store.sessions_of(ann.id, now).unwrap().len(), 2);
    assert_eq!(store.delete_sessions_except(ann.id, Some("s2")).unwrap(), 1);
    assert!(store.session("s1", now).unwrap().is_none() && store.session("s2", now).unwrap().is_some());

    // An invitation makes a member with its role, once.
    let invitation = NewInvitation { business: shop.id, role: Role::Editor, email: Some("bob@example.com"), invited_by: ann.id, now, expires: later };
    store.insert_invitation("inv", &invitation).unwrap();
    assert_eq!(store.invitation("inv").unwrap().map(|i| i.role), Some(Role::Editor));
    let membership = store.accept_invitation("inv", bob.id, now).unwrap();
    assert_eq!((membership.business.id, membership.role), (shop.id, Role::Editor));
    assert_eq!(store.members(shop.id).unwrap().len(), 2);
    assert_eq!(store.memberships(bob.id).unwrap().len(), 1);
    store.set_member(shop.id, bob.id, Role::Viewer).unwrap();
    assert_eq!(store.role(bob.id, shop.id).unwrap(), Some(Role::Viewer));
    store.remove_member(shop.id, bob.id).unwrap();
    assert_eq!(store.role(bob.id, shop.id).unwrap(), None);

    // API keys by their hash, revoked by their owner only.
    let key = store.insert_api_key(ann.id, "laptop", "tmk_abc", "key-hash", now).unwrap();
    assert_eq!(store.api_key_by_hash("key-hash").unwrap().map(|(k, u)| (k.id, u.id)), Some((key.id, ann.id)));
    assert!(matches!(store.revoke_api_key(bob.id, key.id, now), Err(StoreError::NotFound { .. })));
    store.revoke_api_key(ann.id, key.id, now).unwrap();
    assert!(store.api_keys(ann.id).unwrap()[0].revoked.is_some());

    // A password reset is used once and ends the user's sessions.
    store.insert_password_reset("reset", ann.id, now, later).unwrap();
    assert_eq!(store.password_reset("reset", now).unwrap().map(|u| u.id), Some(ann.id));
    store.use_password_reset("reset", "hash-a3", now).unwrap();
    assert!(store.password_reset("reset", now).unwrap().is_none());
    assert!(store.session("s2", now).unwrap().is_none());
    assert_eq!(store.delete_expired_sessions(Timestamp(later.0 + 1)).unwrap(), 0);
    // Another connection sees all of it.
    let other = db.open();
    assert_eq!(other.user_with_hash("ann@example.com").unwrap().unwrap().1, "hash-a3");
}

fn an_order_number_seen_again_with_other_facts_is_a_conflict(db: &TestDb) {
    let mut store = db.open();
    let b = new_business(&mut store, "Shop");
    let first = store.write::<StoreError>(&mut |w| w.add_order(b, &order("A-1", vec![email("a@x.com")], 1, 700)).map(|_| ())).unwrap();
    assert_eq!(first.orders_added, 1);
    let again = store.write::<StoreError>(&mut |w| w.add_order(b, &order("A-1", vec![email("a@x.com")], 1, 700)).map(|_| ())).unwrap();
    assert_eq!((again.orders_added, again.orders_duplicate), (0, 1));
    let err = store.write::<StoreError>(&mut |w| w.add_order(b, &order("A-1", vec![email("a@x.com")], 1, 900)).map(|_| ())).unwrap_err();
    assert!(matches!(&err, StoreError::Conflict(m) if m.contains("A-1")), "{err}");
    let s = store.summary(b).unwrap();
    assert_eq!((s.orders, s.customers, s.revenue), (1, 1, 7.0));
    let orders = store.orders(b).unwrap();
    assert_eq!((orders[0].external_id.as_str(), orders[0].lines.len(), orders[0].total.minor), ("A-1", 1, 700));
}

fn a_reader_brings_its_copy_up_to_date_from_a_mark(db: &TestDb) {
    let mut store = db.open();
    let b = new_business(&mut store, "Shop");
    let events = seeded_events(7, 40, 600);
    write_events(&mut store, b, &events[..400]);
    store.write::<StoreError>(&mut |w| w.add_order(b, &order("O-1", vec![email("c1@example.com")], 10, 1500)).map(|_| ())).unwrap();
    let reader = db.open();
    let (mark, before, identities) = reader
        .snapshot(|s| {
            let mark = s.data_mark(b)?;
            let table = s.load_events(b, EventColumns { properties: true })?;
            Ok((mark, table, s.identities_after(b, 0)?))
        })
        .unwrap();
    assert_eq!(before.len(), 401, "400 events and the order's purchase");
    assert_eq!(reader.data_mark(b).unwrap(), mark, "nothing written, the same mark");
    write_events(&mut store, b, &events[400..]);
    store.write::<StoreError>(&mut |w| w.add_order(b, &order("O-2", vec![email("c2@example.com")], 20, 2500)).map(|_| ())).unwrap();
    let now = reader.data_mark(b).unwrap();
    assert!(now.version > mark.version);
    assert!(reader.segments_unchanged(b, &mark).unwrap(), "appends leave the rows read in place");
    let new_identities = reader.identities_after(b, mark.identity).unwrap();
    assert!(new_identities.iter().all(|&(id, _)| id > mark.identity));
    let mut customer_of = vec![0i64; (now.identity + 1) as usize];
    for (id, customer) in identities.iter().chain(&new_identities) {
        customer_of[*id as usize] = *customer;
    }
    // Customers merged since the mark: resolve through the merges, as the app's kept data does.
    let merges = reader.merges(b).unwrap();
    for customer in customer_of.iter_mut().filter(|c| **c != 0) {
        *customer = merges.current(CustomerId(*customer)).0;
    }
    let after = EventsAfter { segment: mark.segment, rows: mark.rows, strings: mark.strings, customer_of: &customer_of };
    let appended = reader.load_events_after(b, EventColumns { properties: true }.into(), &after).unwrap();
    let whole = reader.load_events(b, EventColumns { properties: true }).unwrap();
    assert_eq!(before.len() + appended.len(), whole.len(), "the appended rows are exactly the rest");
    assert_eq!(appended.time, whole.time[before.len()..].to_vec());
    let orders = reader.orders_after(b, mark.order).unwrap();
    assert_eq!(orders.iter().map(|o| o.external_id.as_str()).collect::<Vec<_>>(), ["O-2"]);
    let table = reader.order_table(b, 0, &merges).unwrap();
    assert_eq!(table.len(), 2);
    assert_eq!(reader.order_customers(b).unwrap().len(), 2);
    assert!(reader.order_customer(b, "O-1").unwrap().is_some());
    let ids: Vec<CustomerId> = reader.customers(b, 5, 0).unwrap().iter().map(|c| c.id).collect();
    assert_eq!(reader.customers_by_ids(b, &ids).unwrap().iter().map(|c| c.id).collect::<Vec<_>>(), ids);
}

fn an_erasure_removes_the_person_and_refuses_them_after(db: &TestDb) {
    let mut store = db.open();
    let b = new_business(&mut store, "Shop");
    store
        .write::<StoreError>(&mut |w| {
            w.add_event(b, &event("page_view", 0, anon("cookie-ann"), vec![]))?;
            w.add_event(b, &event("checkout_started", 1, email("ann@example.com"), vec![anon("cookie-ann")]))?;
            w.add_order(b, &order("A-1", vec![email("ann@example.com")], 2, 900))?;
            w.add_event(b, &event("page_view", 3, anon("cookie-bo"), vec![]))?;
            Ok(())
        })
        .unwrap();
    let ann = store.customer_with_identity(b, IdentityKind::Email, "ann@example.com").unwrap().expect("Ann");
    let person = store.person(b, ann).unwrap();
    assert_eq!(person.identities.len(), 2);
    let summary = store.erase_customer(b, ann, Timestamp(T0 + 10 * MINUTE)).unwrap();
    assert_eq!((summary.identities, summary.events, summary.orders), (2, 3, 1));
    let s = store.summary(b).unwrap();
    assert_eq!((s.customers, s.events, s.orders), (1, 1, 0));
    assert_eq!(store.erasures(b).unwrap().len(), 1);
    assert!(store.erased_at(b, IdentityKind::Email, "ann@example.com").unwrap().is_some());
    let refused = store.write::<StoreError>(&mut |w| w.add_event(b, &event("page_view", 5, email("ann@example.com"), vec![])).map(|_| ()));
    assert!(matches!(refused, Err(StoreError::Invalid(_))), "{refused:?}");
}

fn expired_events_go_and_the_rest_stay(db: &TestDb) {
    let mut store = db.open();
    let b = new_business(&mut store, "Shop");
    write_events(&mut store, b, &(0..100).map(|i| event("page_view", i * 60, anon(&format!("v{}", i % 9)), vec![])).collect::<Vec<_>>());
    store.write::<StoreError>(&mut |w| w.add_order(b, &order("A-1", vec![email("a@x.com")], 0, 900)).map(|_| ())).unwrap();
    assert_eq!(store.event_retention(b).unwrap(), None);
    store.set_event_retention(b, Some(30)).unwrap();
    assert_eq!(store.event_retention(b).unwrap(), Some(30));
    // Events are an hour apart: those before hour 50 go.
    let expired = store.expire_events(b, Timestamp(T0 + 50 * 60 * MINUTE)).unwrap();
    assert_eq!(expired.events, 51, "50 page views and the order's purchase event");
    let table = store.load_events(b, EventColumns::default()).unwrap();
    assert_eq!(table.len(), 50);
    assert!(table.time.iter().all(|&t| t >= T0 + 50 * 60 * MINUTE));
    assert_eq!(store.summary(b).unwrap().orders, 1, "orders are records, not raw events: they stay");
}

fn compaction_keeps_every_journey(db: &TestDb) {
    let mut store = db.open();
    let b = new_business(&mut store, "Shop");
    let events = seeded_events(3, 60, 2_000);
    for chunk in events.chunks(250) {
        write_events(&mut store, b, chunk);
    }
    let before = journeys(&store, b);
    let version = store.data_version(b).unwrap();
    let summary = store.compact_events(b).unwrap();
    assert_eq!(summary.events, before.table().len() as u64);
    assert_same_journeys(&journeys(&store, b), &before);
    assert_eq!(store.data_version(b).unwrap(), version, "the same events: the same answers");
    // A re-import after compaction finds every event already there.
    assert_eq!(write_events(&mut store, b, &events).events_added, 0);
}

fn settings_comments_survey_links_and_deliveries(db: &TestDb) {
    let mut store = db.open();
    let now = Timestamp(T0);
    let ann = store.insert_user("ann@example.com", "Ann", "h", now).unwrap();
    let shop = store.create_business_owned(ann.id, "Shop", Currency::USD, "UTC").unwrap();
    store.set_setting("default_business", &shop.id.0.to_string()).unwrap();
    assert_eq!(store.setting("default_business").unwrap(), Some(shop.id.0.to_string()));
    assert_eq!(store.setting("nothing").unwrap(), None);
    store.set_checklist_hidden(shop.id, Some(now)).unwrap();
    assert_eq!(store.checklist_hidden(shop.id).unwrap(), Some(now));

    let mut map = MapId(0);
    store
        .write::<StoreError>(&mut |w| {
            map = w.save_map(&tiny_map(shop.id, "Visit"), "ann")?;
            Ok(())
        })
        .unwrap();
    let comment = store.insert_comment(map, 1, ann.id, "Is this right?", now).unwrap();
    assert_eq!((comment.author_name.as_str(), comment.business), ("Ann", shop.id));
    store.update_comment(comment.id, "Is this still right?", Timestamp(T0 + 1)).unwrap();
    let listed = store.comments(map, Some(1)).unwrap();
    assert_eq!((listed.len(), listed[0].text.as_str(), listed[0].edited_at), (1, "Is this still right?", Some(Timestamp(T0 + 1))));
    store.delete_comment(comment.id).unwrap();
    assert!(store.comment(comment.id).unwrap().is_none());

    let mut survey = SurveyId(0);
    store
        .write::<StoreError>(&mut |w| {
            survey = w
                .create_survey(&Survey {
                    id: SurveyId(0),
                    business: shop.id,
                    name: "After your visit".into(),
                    touchpoint: None,
                    stage: None,
                    questions: vec![Question { id: QuestionId(0), text: "How likely...".into(), kind: QuestionKind::Nps, required: true, skip: None }],
                })?
                .id;
            Ok(())
        })
        .unwrap();
    store.set_survey_token(survey, Some("tok")).unwrap();
    assert_eq!(store.survey_token(survey).unwrap().as_deref(), Some("tok"));
    assert_eq!(store.survey_by_token("tok").unwrap(), Some((shop.id, survey)));
    store.set_survey_token(survey, None).unwrap();
    assert_eq!(store.survey_by_token("tok").unwrap(), None);

    let digest = store.insert_digest(shop.id, "weekly", "ann@example.com", now).unwrap();
    assert_eq!(store.digests(shop.id).unwrap(), vec![digest.clone()]);
    let delivery = NewDelivery {
        business: shop.id,
        key: Some("digest-1-2026-w1".into()),
        kind: "digest".into(),
        channel: "email".into(),
        target: "ann@example.com".into(),
        subject: "Your week".into(),
        body: "Hello".into(),
        attachment: None,
        secret: None,
    };
    let queued = store.queue_delivery(&delivery, now).unwrap().expect("queued");
    assert!(store.queue_delivery(&delivery, now).unwrap().is_none(), "the same key is queued once");
    assert!(store.delivery_key_used("digest-1-2026-w1").unwrap());
    assert_eq!(store.due_deliveries(now, 10).unwrap().len(), 1);
    store.record_attempt(queued.id, Ok(()), now).unwrap();
    assert!(store.due_deliveries(now, 10).unwrap().is_empty());
    assert_eq!(store.deliveries(shop.id, 10).unwrap().len(), 1);
    store.delete_digest(shop.id, digest.id).unwrap();
    assert!(store.digests(shop.id).unwrap().is_empty());
}

fn a_failed_write_leaves_nothing(db: &TestDb) {
    let mut store = db.open();
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

fn an_anonymous_visitor_who_identifies_is_one_customer_with_one_history(db: &TestDb) {
    let mut store = db.open();
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

fn writing_the_same_records_twice_adds_nothing(db: &TestDb) {
    let mut store = db.open();
    let b = new_business(&mut store, "Cafe");
    let write_all = |store: &mut AnyStore| {
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

fn events_round_trip_across_many_segments_and_businesses(db: &TestDb) {
    let mut store = db.open();
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

fn touchpoints_maps_surveys_and_changes_round_trip(db: &TestDb) {
    let mut store = db.open();
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

fn changes_keep_their_metric_and_the_card_they_answer(db: &TestDb) {
    let mut store = db.open();
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

fn duplicate_business_names_and_unknown_touchpoints_are_refused(db: &TestDb) {
    let mut store = db.open();
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

fn deduplication_sees_committed_keys_forgets_rollbacks_and_sees_other_connections(db: &TestDb) {
    let mut store = db.open();
    let b = new_business(&mut store, "Shop");
    let add = |store: &mut AnyStore, minute: i64| {
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
    let mut other = db.open();
    assert_eq!(add(&mut other, 3).events_added, 1);
    assert_eq!(add(&mut store, 3).events_duplicate, 1, "a commit by another connection is seen");
    assert_eq!(store.load_events(b, EventColumns::default()).unwrap().len(), 3);
}

fn a_selected_load_equals_the_full_load_in_its_columns_and_leaves_the_rest_empty(db: &TestDb) {
    let mut store = db.open();
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
    // Names compared as text: a dictionary's ids are the load's own (a backend that builds the
    // dictionary per load numbers the strings of what it reads).
    let names = |t: &EventTable| t.name.iter().map(|&id| t.string(id).to_string()).collect::<Vec<_>>();
    assert_eq!((some.customer.clone(), some.time.clone(), names(&some)), (full.customer.clone(), full.time.clone(), names(&full)));
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
fn the_data_version_rises_with_each_committed_write_of_its_business_only(db: &TestDb) {
    let mut store = db.open();
    let shop = new_business(&mut store, "Shop");
    let cafe = new_business(&mut store, "Cafe");
    let reader = db.open();
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

fn one_map_its_versions_and_deleting_it(db: &TestDb) {
    use trailmap_store::{MapStore, ShareLink};
    let mut store = db.open();
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
fn loads_see_one_snapshot_while_another_connection_writes(db: &TestDb) {
    let mut store = db.open();
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
    let reader = db.open();
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
