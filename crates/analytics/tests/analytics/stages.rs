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

fn referral() -> EventRule {
    EventRule::named("store_visit").and(EventField::Medium, Op::Equals("referral".into()))
}

/// The map's stages: the referral touchpoint (2) is its friend's Awareness and its referrer's
/// Advocacy, the purchase (4) is Purchase's and Retention's.
fn map_stages() -> Vec<Vec<StageTouchpoint>> {
    let instagram = EventRule::named("page_view").and(EventField::Source, Op::Equals("instagram".into()));
    vec![
        vec![own(1, instagram), own(2, referral())],
        vec![own(3, EventRule::named("product_view"))],
        vec![own(4, EventRule::named("purchase"))],
        vec![own(4, EventRule::named("purchase")), own(5, EventRule::named("email_open"))],
        vec![StageTouchpoint { touchpoint: 2, rule: referral(), credit: Credit::Referrer }, own(6, EventRule::named("review"))],
    ]
}

fn query(journeys: &Journeys, ids: &dyn Fn(&[&str]) -> Vec<CustomerId>) -> StagesQuery {
    let id = |label: &str| ids(&[label])[0];
    StagesQuery {
        stages: map_stages(),
        window_ms: 30 * DAY,
        period: None,
        referrers: referrers(journeys.table(), &[referral()], &HashMap::from([("ANN".to_string(), id("ann")), ("CAT".to_string(), id("cat"))])),
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

#[test]
fn an_event_at_several_touchpoints_counts_at_the_most_specific_ones_stage() {
    // Every page view without a source is "Direct" (Consideration); the checkout view is one of
    // them, and also the checkout (Purchase), which matches fewer events: it is Purchase's.
    let (journeys, ids) = fixture(
        r#"
customer ann
  2025-01-01 10:00:00 page_view source=instagram
  +1m page_view page=/products/mug
  +1m page_view page=/checkout
customer bob
  2025-01-02 10:00:00 page_view page=/
  +1m page_view page=/about
"#,
    );
    let direct = EventRule::named("page_view").and_not(EventField::Source, Op::Equals("instagram".into()));
    let product = EventRule::named("page_view").and(EventField::Page, Op::StartsWith("/products".into()));
    let checkout = EventRule::named("page_view").and(EventField::Page, Op::StartsWith("/checkout".into()));
    let q = StagesQuery {
        stages: vec![
            vec![own(1, EventRule::named("page_view").and(EventField::Source, Op::Equals("instagram".into())))],
            vec![own(2, direct), own(4, product)],
            vec![own(3, checkout)],
        ],
        window_ms: 30 * DAY,
        // An order a minute after ann's product view, before her checkout view.
        orders: vec![(ids(&["ann"])[0], at("2025-01-01T10:01:30Z"), 900)],
        ..StagesQuery::default()
    };
    let r = stages(&journeys, &q).expect("numbers");
    assert_eq!(r.stages[1].reach, ids(&["ann", "bob"]), "her product view and bob's visits are Consideration's");
    assert_eq!(r.stages[2].reach, ids(&["ann"]), "her checkout view is the checkout's, not Direct's");
    // Her product view is at both of Consideration's touchpoints: it counts for the reach of both,
    // and the order after it goes to the more specific one only.
    let consideration = &r.stages[1];
    assert_eq!((consideration.touchpoints[0].reach.clone(), consideration.touchpoints[1].reach.clone()), (ids(&["ann", "bob"]), ids(&["ann"])));
    assert_eq!((consideration.touchpoints[0].revenue.minor, consideration.touchpoints[1].revenue.minor, consideration.revenue.minor), (0, 900, 900));
}

/// One event of a generated journey, as the brute force reads it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Instagram,
    /// A store visit by referral citing customer `Some(i)`'s code (None: an unknown code).
    Visit(Option<usize>),
    Product,
    Purchase,
    Email,
    Review,
    /// Credited to this customer: a friend's visit citing their code.
    Credited,
}

/// The stage and the position of its touchpoint on the stage of an event, by the definitions
/// alone: a purchase is Purchase's the first time and Retention's after.
fn naive_stage(kind: Kind, purchases: &mut usize) -> (usize, usize) {
    match kind {
        Kind::Instagram => (0, 0),
        Kind::Visit(_) => (0, 1),
        Kind::Product => (1, 0),
        Kind::Purchase => {
            *purchases += 1;
            if *purchases == 1 { (2, 0) } else { (3, 0) }
        }
        Kind::Email => (3, 1),
        Kind::Credited => (4, 0),
        Kind::Review => (4, 1),
    }
}

/// Random journeys (hours with ties, referrals citing others, themselves or no one known, repeat
/// purchases, orders before any event and of customers with none), random periods, windows and
/// persona filters: every figure of every stage and touchpoint equals a naive count written from
/// the definitions.
#[test]
fn stages_agree_with_a_brute_force_count_on_random_journeys() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2025_0101);
    let base = at("2025-01-01T00:00:00Z");
    const HOUR: i64 = 3_600_000;
    let mut checked_went_on = 0;
    for round in 0..40 {
        let customers = 40;
        // Per customer, their own events (hour, kind) in written order, sorted by hour.
        let mut own: Vec<Vec<(i64, Kind)>> = Vec::new();
        let mut text = String::new();
        for c in 0..customers {
            let mut events: Vec<(i64, Kind)> = (0..rng.random_range(0..8))
                .map(|_| {
                    let hour = rng.random_range(0..120);
                    let kind = match rng.random_range(0..9) {
                        0 | 1 => Kind::Instagram,
                        2 => Kind::Visit(match rng.random_range(0..4) {
                            0 => None,
                            _ => Some(rng.random_range(0..customers)),
                        }),
                        3 => Kind::Product,
                        4..=6 => Kind::Purchase,
                        7 => Kind::Email,
                        _ => Kind::Review,
                    };
                    (hour, kind)
                })
                .collect();
            events.sort_by_key(|e| e.0);
            text.push_str(&format!("customer c{c}\n"));
            for (hour, kind) in &events {
                let time = trailmap_model::Timestamp(base + hour * HOUR).to_rfc3339();
                let event = match kind {
                    Kind::Instagram => "page_view source=instagram".to_string(),
                    Kind::Visit(Some(j)) => format!("store_visit medium=referral referral_code=C{j}"),
                    Kind::Visit(None) => "store_visit medium=referral referral_code=NOBODY".to_string(),
                    Kind::Product => "product_view".to_string(),
                    Kind::Purchase => "purchase".to_string(),
                    Kind::Email => "email_open".to_string(),
                    Kind::Review => "review".to_string(),
                    Kind::Credited => unreachable!("not generated"),
                };
                text.push_str(&format!("  {time} {event}\n"));
            }
            own.push(events);
        }
        let (journeys, ids) = fixture(&text);
        let id = |c: usize| ids(&[&format!("c{c}")])[0];
        // Orders: one at most purchases, now and then one at a random hour, and some of a
        // customer with no event at all (id past the fixture's).
        let mut orders: Vec<(usize, i64, i64)> = Vec::new();
        for (c, events) in own.iter().enumerate() {
            for (hour, kind) in events {
                if *kind == Kind::Purchase && rng.random_bool(0.8) {
                    orders.push((c, *hour, rng.random_range(100..5_000)));
                }
            }
            if rng.random_bool(0.2) {
                orders.push((c, rng.random_range(0..120), rng.random_range(100..5_000)));
            }
        }
        orders.push((customers, rng.random_range(0..120), 999));
        let period = rng.random_bool(0.7).then(|| {
            let from = rng.random_range(0..80);
            (from, from + rng.random_range(1..60))
        });
        let window = rng.random_range(1..48);
        let only: Option<BTreeSet<usize>> = (round % 3 == 0).then(|| (0..=customers).filter(|_| rng.random_bool(0.6)).collect());

        let q = StagesQuery {
            stages: map_stages(),
            referrers: referrers(journeys.table(), &[referral()], &(0..customers).map(|c| (format!("C{c}"), id(c))).collect()),
            window_ms: window * HOUR,
            period: period.map(|(f, t)| (base + f * HOUR, base + t * HOUR)),
            only: only.as_ref().map(|o| o.iter().map(|&c| CustomerId(c as i64 + 1)).collect()),
            orders: orders.iter().map(|&(c, hour, minor)| (CustomerId(c as i64 + 1), base + hour * HOUR, minor)).collect(),
        };
        let report = stages(&journeys, &q).expect("numbers");

        // The brute force.
        let in_period = |hour: i64| period.is_none_or(|(f, t)| hour >= f && hour < t);
        let wanted = |c: usize| only.as_ref().is_none_or(|o| o.contains(&c));
        let mut expected = vec![StageFigures::default(); 5];
        let mut unplaced = StageRevenue::default();
        for (k, e) in expected.iter_mut().enumerate() {
            e.measured = true;
            e.touchpoints = vec![Default::default(); if k == 1 || k == 2 { 1 } else { 2 }];
            if k < 4 {
                e.onward = Some(trailmap_analytics::stages::Onward { next_stage: k + 1, ..Default::default() });
            }
        }
        let sorted = |list: &mut Vec<CustomerId>| list.sort();
        for c in 0..=customers {
            if !wanted(c) {
                continue;
            }
            let who = CustomerId(c as i64 + 1);
            // Own events first at a tie (in written order), then the visits crediting them.
            let mut steps: Vec<(i64, u8, usize, Kind)> =
                own.get(c).map(|e| e.iter().enumerate().map(|(i, &(h, k))| (h, 0, i, k)).collect()).unwrap_or_default();
            for (friend, events) in own.iter().enumerate() {
                for &(hour, kind) in events {
                    if kind == Kind::Visit(Some(c)) && friend != c {
                        steps.push((hour, 1, 0, Kind::Credited));
                    }
                }
            }
            steps.sort_by_key(|s| (s.0, s.1, s.2));
            let mut purchases = 0;
            // Per step: (hour, stage, touchpoint position); per stage its first step's index.
            let assigned: Vec<(i64, usize, usize)> = steps
                .iter()
                .map(|s| {
                    let (stage, position) = naive_stage(s.3, &mut purchases);
                    (s.0, stage, position)
                })
                .collect();
            let first: Vec<Option<usize>> = (0..5).map(|k| assigned.iter().position(|a| a.1 == k)).collect();
            for k in 0..5 {
                let Some(i) = first[k] else { continue };
                let hour = assigned[i].0;
                if !in_period(hour) {
                    continue;
                }
                let e = &mut expected[k];
                e.reach.push(who);
                if (0..k).any(|j| first[j].is_some_and(|f| f < i)) {
                    e.from_earlier.push(who);
                } else {
                    e.entered_here.push(who);
                }
                let Some(onward) = e.onward.as_mut() else { continue };
                let later_within = |j: usize| first[j].is_some_and(|f| f > i && assigned[f].0 - hour <= window);
                if (k + 1..5).any(|j| first[j].is_some_and(|f| f < i)) {
                    onward.already_past.push(who);
                } else if later_within(k + 1) {
                    onward.went_on.push(who);
                    onward.to_next.push(who);
                } else if (k + 2..5).any(later_within) {
                    onward.went_on.push(who);
                    onward.skipped.push(who);
                } else {
                    onward.dropped.push(who);
                }
            }
            for &(hour, stage, position) in &assigned {
                if in_period(hour) && !expected[stage].touchpoints[position].reach.contains(&who) {
                    expected[stage].touchpoints[position].reach.push(who);
                }
            }
            let mut mine: Vec<&(usize, i64, i64)> = orders.iter().filter(|o| o.0 == c && in_period(o.1)).collect();
            mine.sort_by_key(|o| (o.1, o.2));
            for &&(_, hour, minor) in &mine {
                let place = assigned.iter().rev().find(|a| a.0 <= hour);
                let revenues: Vec<&mut StageRevenue> = match place {
                    Some(&(_, stage, position)) => {
                        let e = &mut expected[stage];
                        vec![&mut e.revenue, &mut e.touchpoints[position].revenue]
                    }
                    None => vec![&mut unplaced],
                };
                for r in revenues {
                    r.minor += minor;
                    r.orders += 1;
                    if !r.buyers.contains(&who) {
                        r.buyers.push(who);
                    }
                }
            }
        }
        for e in &mut expected {
            for list in [&mut e.reach, &mut e.entered_here, &mut e.from_earlier, &mut e.revenue.buyers] {
                sorted(list);
            }
            if let Some(o) = &mut e.onward {
                checked_went_on += o.went_on.len();
                for list in [&mut o.already_past, &mut o.went_on, &mut o.to_next, &mut o.skipped, &mut o.dropped] {
                    sorted(list);
                }
            }
            for t in &mut e.touchpoints {
                sorted(&mut t.reach);
                sorted(&mut t.revenue.buyers);
            }
        }
        sorted(&mut unplaced.buyers);
        for (k, (got, want)) in report.stages.iter().zip(&expected).enumerate() {
            assert_eq!(got, want, "round {round}, stage {k}, period {period:?}, window {window} h");
        }
        assert_eq!(report.unplaced, unplaced, "round {round}");
        // Each order of the period once: the stages and the unplaced add up to it.
        let total: i64 = orders.iter().filter(|o| in_period(o.1) && wanted(o.0)).map(|o| o.2).sum();
        assert_eq!(report.stages.iter().map(|s| s.revenue.minor).sum::<i64>() + report.unplaced.minor, total);
    }
    assert!(checked_went_on > 200, "the random journeys go on often enough to test it: {checked_went_on}");
}
