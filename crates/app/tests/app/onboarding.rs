//! Issue 18 through the app: the default business (`use_business`, the demo's choice), write keys
//! listed with their last use and revoked (a revoked key's waiting writes are refused at the
//! commit), the onboarding checklist of a business made from zero step by step, and a template
//! map whose stages show the touchpoints the business adds later, with numbers once events come.

use trailmap_app::{App, AppError, DemoOptions, ImportRequest, MapEdit, MapNumbersRequest, MapTemplate, RecordKind, TrackingWrite};
use trailmap_ingest::enrich::Enricher;
use trailmap_ingest::segment::{MessageContext, convert};
use trailmap_model::{Business, Currency, EventRule, Timestamp, Touchpoint, TouchpointChannel, TouchpointId};
use trailmap_store::{Store, StoreError};

fn at(text: &str) -> Timestamp {
    Timestamp::parse_rfc3339(text).unwrap()
}

/// One tracking request's write: a page view by `user` at `time`, sent with `key`.
fn page_view(business: &Business, key: Option<i64>, user: &str, time: &str) -> TrackingWrite {
    let message = serde_json::json!({"type": "page", "userId": user, "timestamp": time, "messageId": format!("{user}-{time}")});
    let context = MessageContext { received_at: at(time), batch_sent_at: None, currency: Currency::USD };
    let converted = convert(&message, None, &context, &mut Enricher::new()).unwrap();
    TrackingWrite { business: Some(business.id), key, messages: vec![converted], drops: Vec::new() }
}

fn add_touchpoint(app: &mut App, business: &Business, name: &str, stage: &str, event: &str) -> TouchpointId {
    let stage = app.store().stages(business.id).unwrap().into_iter().find(|s| s.name == stage).unwrap().id;
    let mut id = TouchpointId(0);
    app.store_mut()
        .write::<StoreError>(&mut |w| {
            id = w.create_touchpoint(&Touchpoint {
                id: TouchpointId(0),
                business: business.id,
                name: name.into(),
                channel: TouchpointChannel::Web,
                stage: Some(stage),
                online: true,
                rule: EventRule::named(event),
                description: String::new(),
            })?;
            Ok(())
        })
        .unwrap();
    id
}

#[test]
fn the_default_business_is_chosen_once_and_kept_by_every_process() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.sqlite");
    let mut app = App::open(&db).unwrap();
    assert_eq!(app.business(None).unwrap().name, "My Business", "a fresh store's only business");
    app.create_business("Corner Bakery", "EUR", "Europe/Paris").unwrap();
    assert_eq!(app.business(None).unwrap().name, "My Business", "the first created until one is chosen");
    assert_eq!(app.use_business("corner bakery").unwrap().name, "Corner Bakery");
    drop(app);
    let mut again = App::open(&db).unwrap();
    assert_eq!(again.business(None).unwrap().name, "Corner Bakery", "the choice is in the store");
    assert_eq!(again.business(Some("My Business")).unwrap().name, "My Business", "a named business still wins");
    match again.use_business("Nope") {
        Err(AppError::UnknownBusiness { name, known }) => assert_eq!((name.as_str(), known), ("Nope", vec!["My Business".to_string(), "Corner Bakery".to_string()])),
        other => panic!("{other:?}"),
    }
    assert_eq!(again.business(None).unwrap().name, "Corner Bakery", "a failed choice changes nothing");
}

#[test]
fn the_demo_makes_its_first_business_the_default_unless_another_was_chosen() {
    let mut app = App::in_memory().unwrap();
    app.demo(&DemoOptions { customers: 200, seed: 3 }).unwrap();
    assert_eq!(app.business(None).unwrap().name, "Bean There Coffee");
    app.use_business("Thread & Needle").unwrap();
    let again = app.demo(&DemoOptions { customers: 200, seed: 3 }).unwrap();
    assert!(!again.generated);
    assert_eq!(app.business(None).unwrap().name, "Thread & Needle", "running the demo again keeps the choice");
    // The demo businesses have data for every required step: no checklist on their dashboards.
    for name in trailmap_app::DEMO_BUSINESSES {
        let board = app.onboarding(&app.business(Some(name)).unwrap()).unwrap();
        assert!(!board.shown && !board.empty, "{name}: {board:?}");
        assert_eq!(board.steps.iter().filter(|s| !s.done).map(|s| s.key).collect::<Vec<_>>(), ["invite"], "{name}");
    }
}

#[test]
fn write_keys_record_their_last_use_once_per_commit_and_a_revoked_key_writes_nothing() {
    let mut app = App::in_memory().unwrap();
    let shop = app.create_business("Shop", "USD", "UTC").unwrap();
    let other = app.create_business("Other", "USD", "UTC").unwrap();
    let site = app.create_write_key(&shop, " website ", "hash-site").unwrap();
    let till = app.create_write_key(&shop, "till", "hash-till").unwrap();
    let elsewhere = app.create_write_key(&other, "website", "hash-other").unwrap();
    assert_eq!((site.name.as_str(), site.last_used, site.revoked_at), ("website", None, None));
    assert!(matches!(app.create_write_key(&shop, "  ", "hash-x"), Err(AppError::InvalidField { ref field, .. }) if field == "name"));

    // Two requests with one key and one with another, in one commit: each key's last use is the
    // commit's time, and every message lands.
    let writes = [
        page_view(&shop, Some(site.id), "u1", "2026-03-01T10:00:00Z"),
        page_view(&shop, Some(site.id), "u2", "2026-03-01T10:00:01Z"),
        page_view(&shop, Some(till.id), "u3", "2026-03-01T10:00:02Z"),
    ];
    let commit = app.write_tracking(&writes, at("2026-03-01T10:00:05Z")).unwrap();
    assert_eq!((commit.summary.events_added, commit.refused_keys.clone()), (3, vec![]));
    let keys = app.write_keys(&shop).unwrap();
    assert_eq!(keys.iter().map(|k| (k.name.as_str(), k.last_used)).collect::<Vec<_>>(), [
        ("website", Some(at("2026-03-01T10:00:05Z"))),
        ("till", Some(at("2026-03-01T10:00:05Z")))
    ]);
    // An older commit time never moves it back.
    app.write_tracking(&[page_view(&shop, Some(site.id), "u4", "2026-03-01T09:00:00Z")], at("2026-03-01T10:00:00Z")).unwrap();
    assert_eq!(app.write_key(&shop, "website").unwrap().last_used, Some(at("2026-03-01T10:00:05Z")));

    // Revoked: the key is no longer live, and a write that was waiting with it is refused whole
    // while the other key's write in the same commit lands.
    let version = app.data_version(shop.id).unwrap();
    let revoked = app.revoke_write_key(&shop, site.id, at("2026-03-02T08:00:00Z")).unwrap();
    assert_eq!(revoked.revoked_at, Some(at("2026-03-02T08:00:00Z")));
    assert_eq!(app.data_version(shop.id).unwrap(), version, "revoking is not a change of the data");
    assert!(app.live_write_key("hash-site").unwrap().is_none());
    assert_eq!(app.business_for_write_key("hash-till").unwrap().map(|b| b.id), Some(shop.id));
    let commit = app
        .write_tracking(
            &[page_view(&shop, Some(site.id), "late", "2026-03-02T09:00:00Z"), page_view(&shop, Some(till.id), "u5", "2026-03-02T09:00:00Z")],
            at("2026-03-02T09:00:01Z"),
        )
        .unwrap();
    assert_eq!((commit.summary.events_added, commit.refused_keys), (1, vec![site.id]));
    assert_eq!(app.write_key(&shop, &site.id.to_string()).unwrap().last_used, Some(at("2026-03-01T10:00:05Z")), "a refused key is not used");
    assert_eq!(app.summary(&shop).unwrap().events, 5);
    // Revoking twice, or another business's key, or a key that is not there.
    assert!(matches!(app.revoke_write_key(&shop, site.id, at("2026-03-03T00:00:00Z")), Err(AppError::Conflict(_))));
    assert!(matches!(app.revoke_write_key(&shop, elsewhere.id, at("2026-03-03T00:00:00Z")), Err(AppError::NotFound(_))));
    match app.write_key(&shop, "phone") {
        Err(AppError::NotFound(message)) => assert!(message.contains(&format!("{} (website)", site.id)) && message.contains("(till)"), "{message}"),
        other => panic!("{other:?}"),
    }
    // A new key with a revoked key's name is found by that name: only live keys count then.
    let fresh = app.create_write_key(&shop, "website", "hash-site-2").unwrap();
    assert_eq!(app.write_key(&shop, "website").unwrap().id, fresh.id);
}

#[test]
fn the_checklist_of_a_business_made_from_zero_follows_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = App::open(&dir.path().join("t.sqlite")).unwrap();
    let now = at("2026-04-01T12:00:00Z");
    let owner = app.create_user("olive@example.com", "Olive", "correct horse battery", now).unwrap();
    let shop = app.create_business_owned(owner.id, "Fresh Shop", "USD", "UTC").unwrap();
    let done = |app: &App| -> Vec<&'static str> { app.onboarding(&shop).unwrap().steps.iter().filter(|s| s.done).map(|s| s.key).collect() };

    let start = app.onboarding(&shop).unwrap();
    assert_eq!(start.steps.iter().map(|s| s.key).collect::<Vec<_>>(), ["website", "import", "touchpoints", "map", "invite"]);
    assert!(start.shown && start.empty && done(&app).is_empty(), "{start:?}");
    assert_eq!((start.done, start.total), (0, 5));
    assert_eq!(start.steps[0].status, "No write key yet");

    let key = app.create_write_key(&shop, "website", "hash-fresh").unwrap();
    assert_eq!(app.onboarding(&shop).unwrap().steps[0].status, "Waiting for the first event");
    app.write_tracking(&[page_view(&shop, Some(key.id), "visitor", "2026-04-01T12:00:00Z")], at("2026-04-01T12:00:03Z")).unwrap();
    let after_event = app.onboarding(&shop).unwrap();
    assert_eq!(after_event.last_event_at, Some(at("2026-04-01T12:00:03Z")));
    assert_eq!((after_event.events, after_event.empty), (1, false));
    assert_eq!(done(&app), ["website"], "a tracked visitor is a customer, but not an import of customers");

    let orders = dir.path().join("orders.csv");
    std::fs::write(&orders, "order_id,time,email,total\nA-1,2026-03-30T10:00:00Z,ann@example.com,25.00\n").unwrap();
    app.import(ImportRequest::new(RecordKind::Orders, &orders, &shop))
        .unwrap();
    assert_eq!(done(&app), ["website", "import"]);
    assert_eq!(app.onboarding(&shop).unwrap().steps[1].status, "1 order");

    add_touchpoint(&mut app, &shop, "Home page", "Awareness", "page_view");
    assert_eq!(done(&app), ["website", "import", "touchpoints"]);
    app.create_map(&shop, "First journey", MapTemplate::WebShop, "Olive").unwrap();
    let required = app.onboarding(&shop).unwrap();
    assert_eq!(done(&app), ["website", "import", "touchpoints", "map"]);
    assert!(!required.shown, "the four required steps are done: the normal dashboard, invitation or not");
    assert_eq!((required.done, required.members), (4, 1));

    let colleague = app.create_user("cole@example.com", "Cole", "correct horse battery", now).unwrap();
    app.set_member(shop.id, colleague.id, trailmap_model::Role::Viewer).unwrap();
    assert_eq!(app.onboarding(&shop).unwrap().done, 5);

    // Hiding: a business with steps left can hide its checklist, and show it again.
    let other = app.create_business_owned(owner.id, "Other Shop", "USD", "UTC").unwrap();
    app.set_checklist_hidden(&other, Some(now)).unwrap();
    let hidden = app.onboarding(&other).unwrap();
    assert_eq!((hidden.shown, hidden.hidden_at), (false, Some(now)));
    app.set_checklist_hidden(&other, None).unwrap();
    assert!(app.onboarding(&other).unwrap().shown);
}

#[test]
fn a_template_map_shows_the_touchpoints_added_later_and_their_numbers_as_events_come() {
    let mut app = App::in_memory().unwrap();
    let shop = app.create_business("Shop", "USD", "UTC").unwrap();
    let map = app.create_map(&shop, "Web shop", MapTemplate::WebShop, "ann").unwrap();
    assert!(map.stages.iter().all(|s| s.stage.is_some() && s.touchpoints.is_empty()), "the template's stages show the business's stages");
    let numbers = app.map_numbers(&shop, map.id, &MapNumbersRequest::default()).unwrap();
    assert!(numbers.stages.iter().all(|s| !s.measured));

    // Touchpoints placed in the business's stages afterwards show on the map at once.
    let ad = add_touchpoint(&mut app, &shop, "Instagram ad", "Awareness", "page_view");
    let checkout = add_touchpoint(&mut app, &shop, "Checkout", "Purchase", "purchase");
    let version = app.journey_map(&shop, map.id).unwrap();
    assert_eq!(version.version, 1, "binding makes no version");
    let stage = |name: &str| version.map.stages.iter().find(|s| s.name == name).unwrap().clone();
    assert_eq!((stage("Awareness").touchpoints, stage("Purchase").touchpoints), (vec![ad], vec![checkout]));

    // Then events: three visitors, two of whom buy within the window.
    let fixture = trailmap_testkit::journeys(
        "customer a\n  2026-03-01 10:00:00 page_view\n  +1h purchase\n\
         customer b\n  2026-03-02 10:00:00 page_view\n  +2d purchase\n\
         customer c\n  2026-03-03 10:00:00 page_view\n",
    )
    .unwrap();
    app.write_fixture(&fixture, &shop).unwrap();
    let numbers = app.map_numbers(&shop, map.id, &MapNumbersRequest::default()).unwrap();
    let awareness = numbers.stages.iter().find(|s| s.name == "Awareness").unwrap();
    let purchase = numbers.stages.iter().find(|s| s.name == "Purchase").unwrap();
    assert_eq!((awareness.measured, awareness.reach.n, purchase.reach.n), (true, 3, 2));
    let consideration = numbers.stages.iter().find(|s| s.name == "Consideration").unwrap();
    assert!(!consideration.measured, "Consideration has no touchpoint yet");
    // So Awareness goes on to Purchase, the next stage measured: a and b bought, c did not.
    let next = awareness.to_next.as_ref().expect("a measured stage after Awareness");
    assert_eq!((next.next_stage, next.n, next.to_next_stage.n, next.dropped.n), (purchase.stage, 3, 2, 1));

    // Taken off by hand, a bound touchpoint stays off (and the diff says so); put back, it shows.
    let awareness_id = stage("Awareness").id;
    app.edit_map(&shop, map.id, &MapEdit::RemoveTouchpoint { stage: awareness_id, touchpoint: ad }, "ann").unwrap();
    assert!(app.journey_map(&shop, map.id).unwrap().map.stage(awareness_id).unwrap().touchpoints.is_empty());
    let diff = app.diff_map_versions(&shop, map.id, 1, 2).unwrap();
    assert_eq!(serde_json::to_value(&diff.changes).unwrap()[0]["change"], "touchpoint_removed", "{diff:?}");
    assert!(matches!(
        app.edit_map(&shop, map.id, &MapEdit::RemoveTouchpoint { stage: awareness_id, touchpoint: ad }, "ann"),
        Err(AppError::Invalid(_))
    ));
    app.edit_map(&shop, map.id, &MapEdit::AddTouchpoint { stage: awareness_id, touchpoint: ad }, "ann").unwrap();
    assert_eq!(app.journey_map(&shop, map.id).unwrap().map.stage(awareness_id).unwrap().touchpoints, vec![ad]);
}

#[test]
fn the_demo_maps_show_the_touchpoints_they_were_made_with() {
    let mut app = App::in_memory().unwrap();
    app.demo(&DemoOptions { customers: 200, seed: 3 }).unwrap();
    for name in trailmap_app::DEMO_BUSINESSES {
        let business = app.business(Some(name)).unwrap();
        for map in app.store().maps(business.id).unwrap() {
            let shown = app.journey_map(&business, map.id).unwrap().map;
            let stored: Vec<_> = map.stages.iter().map(|s| s.touchpoints.clone()).collect();
            assert_eq!(shown.stages.iter().map(|s| s.touchpoints.clone()).collect::<Vec<_>>(), stored, "{name}: {}", map.name);
        }
    }
}
