//! A funnel answer carries counts, not customer ids; the customers behind a step are listed only
//! when asked, a page at a time. Over generated journeys, the pages of every step (reaching and
//! dropping, overall and per breakdown group), read one after another, give exactly the customers
//! a brute-force funnel finds, in ascending id order; a default answer, in memory and as JSON,
//! holds no id; a step, a drop or a group the funnel does not have is refused naming the field.

use std::collections::BTreeMap;
use trailmap_app::{App, FunnelCustomersRequest, FunnelRequest};
use trailmap_model::{Business, CustomerId};

const STEPS: [&str; 3] = ["visit", "cart", "buy"];
const WINDOW_MINUTES: i64 = 60;

/// One generated customer: their first event's source and their events as (minute, name), in
/// time order with no two at the same minute.
struct Journey {
    source: &'static str,
    events: Vec<(i64, &'static str)>,
}

/// Journeys of 80 customers from a fixed linear congruential sequence: up to 9 events each among
/// the steps and an unrelated one, 1 to 40 minutes apart, so windows cut some chains.
fn journeys() -> BTreeMap<String, Journey> {
    let mut seed: u64 = 0x5eed;
    let mut next = |n: u64| {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % n
    };
    let names = ["visit", "cart", "buy", "other"];
    (0..80)
        .map(|c| {
            let mut minute = 0;
            let events = (0..1 + next(9))
                .map(|_| {
                    minute += 1 + next(40) as i64;
                    (minute, names[next(4) as usize])
                })
                .collect();
            (format!("c{c:02}"), Journey { source: if c % 3 == 0 { "google" } else { "bing" }, events })
        })
        .collect()
}

/// The furthest step of an ordered funnel, found by trying every start: after a step-1 event,
/// each next step is its first event later than the previous step's, within the window of the
/// start (boundary included). 0: never entered.
fn furthest(events: &[(i64, &str)]) -> usize {
    let mut best = 0;
    for (start, &(t0, name)) in events.iter().enumerate() {
        if name != STEPS[0] {
            continue;
        }
        let (mut reached, mut at) = (1, start);
        for step in &STEPS[1..] {
            match events.iter().enumerate().skip(at + 1).find(|(_, (t, n))| n == step && *t <= t0 + WINDOW_MINUTES) {
                Some((j, _)) => {
                    reached += 1;
                    at = j;
                }
                None => break,
            }
        }
        best = best.max(reached);
    }
    best
}

fn fixture(journeys: &BTreeMap<String, Journey>) -> String {
    let mut text = String::new();
    for (name, journey) in journeys {
        text.push_str(&format!("customer {name}\n"));
        for (k, (minute, event)) in journey.events.iter().enumerate() {
            let source = if k == 0 { format!(" source={}", journey.source) } else { String::new() };
            text.push_str(&format!("  2026-03-01T{:02}:{:02}:00Z {event}{source}\n", 8 + minute / 60, minute % 60));
        }
    }
    text
}

fn shop() -> (App, Business, BTreeMap<String, Journey>) {
    let journeys = journeys();
    let mut app = App::in_memory().unwrap();
    let business = app.business(None).unwrap();
    app.write_fixture(&trailmap_testkit::journeys(&fixture(&journeys)).unwrap(), &business).unwrap();
    (app, business, journeys)
}

fn request(breakdown: Option<&str>, customers: Option<FunnelCustomersRequest>) -> FunnelRequest {
    let mut request = App::funnel_request(STEPS.iter().map(|s| s.to_string()).collect());
    request.window_ms = WINDOW_MINUTES * 60_000;
    request.breakdown = breakdown.map(str::to_string);
    request.customers = customers;
    request
}

/// Every page of one list, read `limit` at a time until a page comes back empty: the ids in
/// order, and the total each page reported.
fn every_page(app: &App, business: &Business, breakdown: Option<&str>, asked: &FunnelCustomersRequest) -> (Vec<CustomerId>, usize) {
    let (mut ids, mut total) = (Vec::new(), usize::MAX);
    loop {
        let page = FunnelCustomersRequest { offset: ids.len(), ..asked.clone() };
        let answer = app.funnel(business, &request(breakdown, Some(page))).unwrap();
        let shown = answer.customers.expect("the page asked for");
        assert!(total == usize::MAX || total == shown.total, "every page reports the same total");
        total = shown.total;
        assert!(shown.customers.len() <= asked.limit);
        if shown.customers.is_empty() {
            return (ids, total);
        }
        ids.extend(shown.customers);
    }
}

/// The fixture's label (the customer's external id) of each listed customer.
fn labels(app: &App, business: &Business, ids: &[CustomerId]) -> Vec<String> {
    let customers = app.customers_by_id(business, ids, ids.len()).unwrap();
    assert_eq!(customers.len(), ids.len());
    let mut labels: Vec<String> = customers.into_iter().map(|c| c.external_id.unwrap()).collect();
    labels.sort();
    labels
}

#[test]
fn the_pages_of_every_step_list_exactly_the_customers_a_brute_force_funnel_finds() {
    let (app, business, journeys) = shop();
    let levels: BTreeMap<&str, (usize, &str)> = journeys.iter().map(|(name, j)| (name.as_str(), (furthest(&j.events), j.source))).collect();
    assert!((1..=3).all(|k| levels.values().any(|(l, _)| *l == k)), "the journeys reach every step and stop at every step");
    for (breakdown, group) in [(None, None), (Some("first-source"), Some("google")), (Some("first-source"), Some("bing"))] {
        for step in 1..=STEPS.len() {
            for dropped in [false, true] {
                if dropped && step == 1 {
                    continue;
                }
                let mut expected: Vec<String> = levels
                    .iter()
                    .filter(|(_, (_, source))| group.is_none_or(|g| g == *source))
                    .filter(|(_, (level, _))| if dropped { *level == step - 1 } else { *level >= step })
                    .map(|(name, _)| name.to_string())
                    .collect();
                expected.sort();
                let asked = FunnelCustomersRequest { step, dropped, group: group.map(str::to_string), offset: 0, limit: 7 };
                let (ids, total) = every_page(&app, &business, breakdown, &asked);
                let place = format!("step {step}, dropped {dropped}, group {group:?}");
                assert!(ids.windows(2).all(|w| w[0] < w[1]), "{place}: ascending ids, none twice");
                assert_eq!(total, expected.len(), "{place}: the total is the figure's n");
                assert_eq!(labels(&app, &business, &ids), expected, "{place}");
                // The figure the page lists is the count the answer shows.
                let answer = app.funnel(&business, &request(breakdown, None)).unwrap();
                let result = match group {
                    None => &answer.report.overall,
                    Some(g) => &answer.report.breakdown.iter().find(|b| b.value == g).unwrap().result,
                };
                let shown = if dropped { result.steps[step - 1].dropped } else { result.steps[step - 1].reached };
                assert_eq!(shown, expected.len(), "{place}: the count");
            }
        }
    }
    // One page from the middle of a list is that slice of the whole.
    let whole = every_page(&app, &business, None, &FunnelCustomersRequest::reaching(1)).0;
    let middle = app.funnel(&business, &request(None, Some(FunnelCustomersRequest { offset: 5, limit: 9, ..FunnelCustomersRequest::reaching(1) }))).unwrap();
    assert_eq!(middle.customers.unwrap().customers, whole[5..14]);
}

#[test]
fn a_default_answer_carries_no_customer_id() {
    let (app, business, _) = shop();
    let answer = app.funnel(&business, &request(Some("first-source"), None)).unwrap();
    assert!(answer.report.overall.steps[0].reached > 0);
    assert_eq!(answer.customers, None);
    let results = std::iter::once(&answer.report.overall).chain(answer.report.breakdown.iter().map(|g| &g.result));
    for result in results {
        assert!(result.steps.iter().all(|s| s.customers.is_empty() && s.dropped_customers.is_empty()), "no list kept in the answer");
    }
    let json = serde_json::to_value(&answer).unwrap();
    assert_eq!(json["customers"], serde_json::Value::Null);
    for step in json["report"]["overall"]["steps"].as_array().unwrap() {
        assert!(step.get("customers").is_none() && step.get("dropped_customers").is_none(), "{step}");
        assert!(step["reached"].as_u64().is_some());
    }
}

#[test]
fn a_step_a_drop_or_a_group_the_funnel_lacks_is_refused_naming_the_field() {
    let (app, business, _) = shop();
    for (breakdown, asked, field) in [
        (None, FunnelCustomersRequest::reaching(4), "customers_at: 4 is not a step of this funnel: its steps are 1 to 3"),
        (None, FunnelCustomersRequest { dropped: true, ..FunnelCustomersRequest::reaching(1) }, "customers_who: nobody drops at step 1"),
        (None, FunnelCustomersRequest { group: Some("google".into()), ..FunnelCustomersRequest::reaching(1) }, "customers_group: \"google\": the funnel has no breakdown"),
        (Some("first-source"), FunnelCustomersRequest { group: Some("yahoo".into()), ..FunnelCustomersRequest::reaching(1) }, "customers_group: \"yahoo\" is not a group"),
    ] {
        let error = app.funnel(&business, &request(breakdown, Some(asked))).unwrap_err().to_string();
        assert!(error.starts_with(field), "{error}");
    }
    // Past the end is an empty page of the whole list, not an error.
    let past = app.funnel(&business, &request(None, Some(FunnelCustomersRequest { offset: 10_000, ..FunnelCustomersRequest::reaching(1) }))).unwrap();
    let past = past.customers.unwrap();
    assert!(past.customers.is_empty() && past.total > 0);
}
