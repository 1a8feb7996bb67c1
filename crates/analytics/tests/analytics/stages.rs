//! Tests of a map's stage numbers (`trailmap_analytics::stages`), one hand-checked journey per
//! definition: reach, entered here or from an earlier stage, going on to the next stage or past
//! it within the window (boundary included), drop-off, revenue counted once where it happened or
//! apart when before any stage, a referral credited to the customer who referred, a period, and
//! a persona's customers only.

use super::fixture;
use std::collections::{BTreeSet, HashMap};
use trailmap_analytics::stages::{StageFigures, StageRevenue};
use trailmap_analytics::stages::referrers;
use trailmap_analytics::{Credit, Journeys, StageTouchpoint, StagesQuery, stages};
use trailmap_model::{CustomerId, EventField, EventRule, Op, Timestamp};

const DAY: i64 = 86_400_000;

fn at(text: &str) -> i64 {
    Timestamp::parse_rfc3339(text).expect("a time").millis()
}

// Awareness (an Instagram visit, or a store visit by referral), Consideration (a product view),
// Purchase (a purchase), Retention (a purchase or an email open), Advocacy (a store visit by
// referral, credited to the referrer; a review).
//
// - ann: Instagram, product, buys 01-02; bob visits with her code on 01-05 (her Advocacy); buys
//   again 01-20 (Retention, reached after Advocacy); writes a review on 03-01.
// - bob: arrives by ann's referral on 01-05 and buys an hour later: Awareness, then Purchase.
// - cat: buys first (enters at Purchase), then visits with her own code: her own Awareness, no
//   credit to herself.
// - dan: Instagram on 01-10, product view 50 days later (past the 30-day window); an order on
//   01-09, before any stage.
// - eve: an order and no event at all.
// - fay: Instagram, then a product view exactly 30 days later (the window's boundary).
const JOURNEYS: &str = r#"
customer ann
  2025-01-01 10:00:00 page_view source=instagram
  +5m product_view
  2025-01-02 10:05:00 purchase
  2025-01-20 09:00:00 purchase
  2025-03-01 09:00:00 review
customer bob
  2025-01-05 12:00:00 store_visit medium=referral referral_code=ANN
  +1h purchase
customer cat
  2025-02-01 09:00:00 purchase
  2025-02-02 09:00:00 store_visit medium=referral referral_code=CAT
customer dan
  2025-01-10 09:00:00 page_view source=instagram
  2025-03-01 09:00:00 product_view
customer eve
customer fay
  2025-01-01 00:00:00 page_view source=instagram
  2025-01-31 00:00:00 product_view
"#;

fn own(touchpoint: i64, rule: EventRule) -> StageTouchpoint {
    StageTouchpoint { touchpoint, rule, credit: Credit::Own }
}

fn query(journeys: &Journeys, ids: &dyn Fn(&[&str]) -> Vec<CustomerId>) -> StagesQuery {
    let instagram = EventRule::named("page_view").and(EventField::Source, Op::Equals("instagram".into()));
    let referral = EventRule::named("store_visit").and(EventField::Medium, Op::Equals("referral".into()));
    let id = |label: &str| ids(&[label])[0];
    StagesQuery {
        stages: vec![
            vec![own(1, instagram), own(2, referral.clone())],
            vec![own(3, EventRule::named("product_view"))],
            vec![own(4, EventRule::named("purchase"))],
            vec![own(4, EventRule::named("purchase")), own(5, EventRule::named("email_open"))],
            vec![StageTouchpoint { touchpoint: 2, rule: referral.clone(), credit: Credit::Referrer }, own(6, EventRule::named("review"))],
        ],
        window_ms: 30 * DAY,
        period: None,
        referrers: referrers(
            journeys.table(),
            &[referral.clone()],
            &HashMap::from([("ANN".to_string(), id("ann")), ("CAT".to_string(), id("cat"))]),
        ),
        only: None,
        orders: vec![
            (id("ann"), at("2025-01-02T10:05:00Z"), 1_000),
            (id("ann"), at("2025-01-20T09:00:00Z"), 2_000),
            (id("bob"), at("2025-01-05T13:00:00Z"), 500),
            (id("cat"), at("2025-02-01T09:00:00Z"), 700),
            (id("dan"), at("2025-01-09T09:00:00Z"), 300),
            (id("eve"), at("2025-02-10T09:00:00Z"), 400),
        ],
    }
}

/// (reach, entered here, from earlier) of a stage.
fn who(stage: &StageFigures) -> (Vec<CustomerId>, Vec<CustomerId>, Vec<CustomerId>) {
    (stage.reach.clone(), stage.entered_here.clone(), stage.from_earlier.clone())
}

/// (went on, to the next stage, skipped it, dropped) of a stage.
fn onward(stage: &StageFigures) -> [Vec<CustomerId>; 4] {
    let o = stage.onward.as_ref().expect("a stage with a next one");
    [o.went_on.clone(), o.to_next.clone(), o.skipped.clone(), o.dropped.clone()]
}

fn already_past(stage: &StageFigures) -> Vec<CustomerId> {
    stage.onward.as_ref().expect("a stage with a next one").already_past.clone()
}

fn revenue(minor: i64, orders: usize, buyers: Vec<CustomerId>) -> StageRevenue {
    StageRevenue { minor, orders, buyers }
}

#[test]
fn reach_entry_and_going_on_by_hand() {
    let (journeys, ids) = fixture(JOURNEYS);
    let r = stages(&journeys, &query(&journeys, &ids)).expect("numbers");
    let s = &r.stages;
    let none: Vec<CustomerId> = Vec::new();
    // Awareness: all four who arrived; cat reached it after Purchase, yet no earlier stage than
    // Awareness exists, so she too entered here.
    assert_eq!(who(&s[0]), (ids(&["ann", "bob", "cat", "dan", "fay"]), ids(&["ann", "bob", "cat", "dan", "fay"]), none.clone()));
    // ann and fay (at 30 days exactly) went on to Consideration; bob went straight to Purchase;
    // dan's product view came 50 days later. cat had bought before she came by: already past
    // Awareness, so she neither goes on from it nor drops off at it.
    assert_eq!(onward(&s[0]), [ids(&["ann", "bob", "fay"]), ids(&["ann", "fay"]), ids(&["bob"]), ids(&["dan"])]);
    assert_eq!(already_past(&s[0]), ids(&["cat"]));
    assert_eq!(who(&s[1]), (ids(&["ann", "dan", "fay"]), none.clone(), ids(&["ann", "dan", "fay"])));
    assert_eq!(onward(&s[1]), [ids(&["ann"]), ids(&["ann"]), none.clone(), ids(&["dan", "fay"])]);
    // Purchase: cat bought before anything else, so she entered here.
    assert_eq!(who(&s[2]), (ids(&["ann", "bob", "cat"]), ids(&["cat"]), ids(&["ann", "bob"])));
    assert_eq!(onward(&s[2]), [ids(&["ann"]), ids(&["ann"]), none.clone(), ids(&["bob", "cat"])]);
    // Retention: ann's second purchase; she had reached Advocacy before: already past it.
    assert_eq!(who(&s[3]), (ids(&["ann"]), none.clone(), ids(&["ann"])));
    assert_eq!(onward(&s[3]), [none.clone(), none.clone(), none.clone(), none.clone()]);
    assert_eq!(already_past(&s[3]), ids(&["ann"]));
    // Only bob's visit names a referrer: cat's code is her own.
    let q = query(&journeys, &ids);
    assert_eq!(q.referrers, HashMap::from([((ids(&["bob"])[0], at("2025-01-05T12:00:00Z")), ids(&["ann"])[0])]));
    // Advocacy: ann, by bob's visit with her code; not bob, not cat (her own code).
    assert_eq!(who(&s[4]), (ids(&["ann"]), none.clone(), ids(&["ann"])));
    assert!(s[4].onward.is_none(), "the last stage has no next one");
    // Every conversion is at most its reach, and reach = already past + went on + dropped.
    for stage in s.iter().filter(|s| s.onward.is_some()) {
        let [went, to_next, skipped, dropped] = onward(stage);
        assert_eq!(already_past(stage).len() + went.len() + dropped.len(), stage.reach.len());
        assert_eq!(to_next.len() + skipped.len(), went.len());
    }
}

#[test]
fn touchpoints_and_revenue_where_it_happened() {
    let (journeys, ids) = fixture(JOURNEYS);
    let r = stages(&journeys, &query(&journeys, &ids)).expect("numbers");
    let s = &r.stages;
    let reach = |stage: usize, t: usize| s[stage].touchpoints[t].reach.clone();
    assert_eq!((reach(0, 0), reach(0, 1)), (ids(&["ann", "dan", "fay"]), ids(&["bob", "cat"])));
    assert_eq!(reach(2, 0), ids(&["ann", "bob", "cat"]));
    assert_eq!((reach(3, 0), reach(3, 1)), (ids(&["ann"]), Vec::new()));
    // Advocacy: ann by the referral (credited) and by her review.
    assert_eq!((reach(4, 0), reach(4, 1)), (ids(&["ann"]), ids(&["ann"])));
    // First purchases at Purchase, ann's repeat at Retention, dan's order before his first
    // event and eve's (no event at all) apart: each order once, adding up to the 49.00.
    assert_eq!(s[2].revenue, revenue(2_200, 3, ids(&["ann", "bob", "cat"])));
    assert_eq!(s[3].revenue, revenue(2_000, 1, ids(&["ann"])));
    assert_eq!(r.unplaced, revenue(700, 2, ids(&["dan", "eve"])));
    for k in [0, 1, 4] {
        assert_eq!(s[k].revenue, revenue(0, 0, Vec::new()), "stage {k}");
    }
    let total: i64 = s.iter().map(|s| s.revenue.minor).sum::<i64>() + r.unplaced.minor;
    assert_eq!(total, 4_900);
    for stage in s {
        let by_touchpoint: i64 = stage.touchpoints.iter().map(|t| t.revenue.minor).sum();
        assert_eq!(by_touchpoint, stage.revenue.minor);
    }
    assert_eq!(s[3].touchpoints[0].revenue, revenue(2_000, 1, ids(&["ann"])));
}

#[test]
fn a_period_counts_what_happened_in_it_and_a_persona_its_customers() {
    let (journeys, ids) = fixture(JOURNEYS);
    let mut q = query(&journeys, &ids);
    q.period = Some((at("2025-01-03T00:00:00Z"), at("2025-02-01T00:00:00Z")));
    let r = stages(&journeys, &q).expect("numbers");
    let s = &r.stages;
    // Reached in the period: bob and dan arrived, fay considered (on 01-31), bob bought, ann
    // came back and was referred to; what happened before (ann's arrival) or after is left out.
    assert_eq!(
        s.iter().map(|s| s.reach.clone()).collect::<Vec<_>>(),
        vec![ids(&["bob", "dan"]), ids(&["fay"]), ids(&["bob"]), ids(&["ann"]), ids(&["ann"])]
    );
    // Going on may happen after the period: bob's purchase an hour later is in it anyway.
    assert_eq!(onward(&s[0])[0], ids(&["bob"]));
    assert_eq!((s[2].revenue.minor, s[3].revenue.minor, r.unplaced.minor), (500, 2_000, 300));
    // A persona of ann and bob: bob's referral still makes ann an advocate; dan is left out.
    q.only = Some(BTreeSet::from_iter(ids(&["ann", "bob"])));
    let r = stages(&journeys, &q).expect("numbers");
    assert_eq!(r.stages[0].reach, ids(&["bob"]));
    assert_eq!(r.stages[4].reach, ids(&["ann"]));
    assert_eq!(r.unplaced.minor, 0);
}

/// A touchpoint on two stages counts at the first the first time a customer uses it and at the
/// second after: the loyalty sign-up is Purchase's and the newsletter read after it Retention's;
/// the first till purchase is Purchase's even when the sign-up reached Purchase before it.
#[test]
fn a_touchpoint_on_several_stages_moves_on_with_each_use() {
    let (journeys, ids) = fixture(
        r#"
customer gus
  2025-01-01 10:00:00 loyalty_signup
  +1m purchase
  +7d email_open
  +7d purchase
customer hal
  2025-01-01 10:00:00 purchase
  +3d purchase
"#,
    );
    let till = || EventRule::named("purchase");
    let loyalty = || EventRule::default().and(EventField::Name, Op::OneOf(vec!["loyalty_signup".into(), "email_open".into()]));
    let q = StagesQuery {
        stages: vec![vec![own(1, till()), own(2, loyalty())], vec![own(2, loyalty()), own(1, till())]],
        window_ms: 30 * DAY,
        orders: vec![
            (ids(&["gus"])[0], at("2025-01-01T10:01:00Z"), 400),
            (ids(&["gus"])[0], at("2025-01-15T10:01:00Z"), 450),
            (ids(&["hal"])[0], at("2025-01-01T10:00:00Z"), 300),
            (ids(&["hal"])[0], at("2025-01-04T10:00:00Z"), 350),
        ],
        ..StagesQuery::default()
    };
    let r = stages(&journeys, &q).expect("numbers");
    let (purchase, retention) = (&r.stages[0], &r.stages[1]);
    assert_eq!((purchase.reach.clone(), retention.reach.clone()), (ids(&["gus", "hal"]), ids(&["gus", "hal"])));
    // gus's first order is Purchase's, at the till (the stage's first touchpoint); his second is
    // Retention's, at the till (that stage's second touchpoint).
    assert_eq!(purchase.revenue, revenue(700, 2, ids(&["gus", "hal"])));
    assert_eq!(retention.revenue, revenue(800, 2, ids(&["gus", "hal"])));
    assert_eq!(purchase.touchpoints[0].revenue.minor, 700);
    assert_eq!((retention.touchpoints[0].revenue.minor, retention.touchpoints[1].revenue.minor), (0, 800));
    // gus reached Retention by the newsletter, hal by his second purchase.
    assert_eq!((retention.touchpoints[0].reach.clone(), retention.touchpoints[1].reach.clone()), (ids(&["gus"]), ids(&["gus", "hal"])));
    assert_eq!(onward(purchase)[1], ids(&["gus", "hal"]));
}
