//! Issue 19: what the answers keep between requests (customer value models, each feedback text's
//! sentiment) equals a fresh computation. A reader with a server's shared cache answers customer
//! value (the page's request and insights', which values as of the period's end), a map's live
//! numbers and its cards' evidence and insights, then each kind of write lands (a page view,
//! which leaves the kept model in use; a friend's visit citing a referral code, which the kept
//! referral events take in; an order, which makes a new model; feedback, scored once when read)
//! and every answer must equal a fresh app's, field for field and bit for bit.

use std::sync::Arc;
use trailmap_app::journeys_cache::JourneysCache;
use trailmap_app::{App, DemoOptions, MapNumbersRequest, TrackingWrite};
use trailmap_ingest::enrich::Enricher;
use trailmap_ingest::segment::{MessageContext, convert};
use trailmap_model::*;
use trailmap_store::{Store, StoreError};

fn at(text: &str) -> Timestamp {
    Timestamp::parse_rfc3339(text).unwrap()
}

fn page_view(business: &Business, user: &str, time: &str) -> TrackingWrite {
    let message = serde_json::json!({"type": "page", "userId": user, "timestamp": time, "messageId": format!("{user}-{time}"),
        "properties": {"path": "/menu"}});
    let context = MessageContext { received_at: at(time), batch_sent_at: None, currency: Currency::USD };
    let converted = convert(&message, None, &context, &mut Enricher::new()).unwrap();
    TrackingWrite { business: Some(business.id), key: None, messages: vec![converted], drops: Vec::new() }
}

/// Every kept answer of the reader against a fresh app's on the same store.
fn assert_same_as_fresh(reader: &App, db: &std::path::Path, business: &Business, map: MapId, when: &str) {
    let fresh = App::open(db).unwrap();
    let today: chrono::NaiveDate = "2026-12-06".parse().unwrap();
    let period = reader.default_period(business, today).unwrap();
    let mut as_of_period_end = reader.clv_request();
    as_of_period_end.now = Some(Timestamp::from_date(period.to + chrono::Duration::days(1)));
    for request in [reader.clv_request(), as_of_period_end] {
        let kept = serde_json::to_string(&reader.clv(business, &request).unwrap()).unwrap();
        let afresh = serde_json::to_string(&fresh.clv(business, &request).unwrap()).unwrap();
        assert!(kept == afresh, "{when}: customer value (now {:?}) differs from a fresh computation", request.now);
    }
    assert_eq!(
        reader.map_numbers(business, map, &MapNumbersRequest::default()).unwrap(),
        fresh.map_numbers(business, map, &MapNumbersRequest::default()).unwrap(),
        "{when}: map numbers"
    );
    let shown = reader.journey_map(business, map).unwrap().map;
    assert_eq!(
        reader.map_evidence(business, &shown, &MapNumbersRequest::default()).unwrap(),
        fresh.map_evidence(business, &shown, &MapNumbersRequest::default()).unwrap(),
        "{when}: map evidence"
    );
    let insights = trailmap_app::insights::InsightsRequest { period: None, today };
    assert_eq!(reader.insights(business, &insights).unwrap(), fresh.insights(business, &insights).unwrap(), "{when}: insights");
}

#[test]
fn kept_models_and_sentiment_equal_a_fresh_computation_after_each_kind_of_write() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.sqlite");
    let mut writer = App::open(&db).unwrap();
    writer.demo(&DemoOptions { customers: 300, seed: 19 }).unwrap();
    let reader = App::open(&db).unwrap().with_journeys_cache(Arc::new(JourneysCache::default()));
    let business = reader.business(Some("Bean There Coffee")).unwrap();
    let map = reader.journey_maps(&business, "2026-12-06".parse().unwrap()).unwrap()[0].id;
    let (_, last) = reader.business_data(business.id).unwrap().orders().span().unwrap();
    let report = reader.clv(&business, &reader.clv_request()).unwrap();
    assert!(report.prediction_error.is_none() && report.customers.len() > 50, "the demo's coffee shop is fitted");
    assert_same_as_fresh(&reader, &db, &business, map, "before any write");

    // A page view: no transaction changes, so the kept model serves.
    writer.write_tracking(&[page_view(&business, "someone-new", "2026-11-30T10:00:00Z")], at("2026-11-30T10:00:01Z")).unwrap();
    assert_same_as_fresh(&reader, &db, &business, map, "after a page view");

    // A friend's visit citing a customer's referral code: the kept referral events (read for the
    // map's numbers above) take it in, and the map credits the same referrer as afresh.
    let advocates = |app: &App| -> Vec<CustomerId> {
        let numbers = app.map_numbers(&business, map, &MapNumbersRequest::default()).unwrap();
        numbers.stages.iter().find(|s| s.name == "Advocacy").map(|s| s.reach.customers.clone()).unwrap()
    };
    let before = advocates(&reader);
    // A customer with a code who has not reached Advocacy yet.
    let (owner, code) = reader
        .store()
        .customers(business.id, usize::MAX, 0)
        .unwrap()
        .into_iter()
        .filter(|c| !before.contains(&c.id))
        .find_map(|c| Some((c.id, c.properties.get("referral_code")?.as_str()?.to_string())))
        .unwrap();
    writer
        .store_mut()
        .write::<StoreError>(&mut |w| {
            let mut event = Event::new("store_visit", at("2026-11-30T11:00:00Z"), Identity::anonymous("kept-answers-friend").unwrap());
            event.key = EventKey(19_000_001);
            event.source = Some("friend".into());
            event.medium = Some("referral".into());
            event.properties.insert("referral_code".into(), serde_json::json!(code));
            w.add_event(business.id, &IncomingEvent { event, also_known_as: Vec::new() })?;
            Ok(())
        })
        .unwrap();
    assert_same_as_fresh(&reader, &db, &business, map, "after a referred visit");
    assert!(advocates(&reader).contains(&owner), "the code's owner reaches Advocacy through the friend's visit");

    // An order on the last day and feedback on a touchpoint: a new model, a new text scored.
    let touchpoint = reader.store().touchpoints(business.id).unwrap()[0].name.clone();
    writer
        .store_mut()
        .write::<StoreError>(&mut |w| {
            let time = Timestamp(last);
            w.add_order(
                business.id,
                &IncomingOrder {
                    external_id: "kept-answers-1".into(),
                    origin: String::new(),
                    customer: vec![Identity::anonymous("kept-answers-visitor").unwrap()],
                    time,
                    total: Money::new(1250, business.currency),
                    subtotal: None,
                    shipping: None,
                    tax: None,
                    discount: None,
                    status: None,
                    channel: None,
                    source: None,
                    lines: vec![OrderLine { sku: None, name: "Flat white".into(), quantity: 1, unit_price: Money::new(1250, business.currency) }],
                    properties: Properties::new(),
                },
            )?;
            w.add_feedback(
                business.id,
                &IncomingFeedback {
                    kind: FeedbackKind::Review,
                    source: "google".into(),
                    external_id: Some("kept-answers-review".into()),
                    customer: vec![Identity::anonymous("kept-answers-visitor").unwrap()],
                    author: None,
                    time,
                    rating: Some(1.0),
                    text: "The coffee was cold and the queue was awful".into(),
                    link: None,
                    touchpoint: Some(touchpoint.clone()),
                    tags: Vec::new(),
                },
            )?;
            Ok(())
        })
        .unwrap();
    let after = reader.clv(&business, &reader.clv_request()).unwrap();
    assert_eq!(after.customers.len(), report.customers.len() + 1, "the new buyer is valued");
    assert_ne!(after.parameters, report.parameters, "a new order refits the model");
    assert_same_as_fresh(&reader, &db, &business, map, "after an order and feedback");
}
