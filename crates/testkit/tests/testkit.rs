//! Tests of the test kit: the demo is reproducible, scales, and carries its planted stories in data
//! a test can count directly; journey fixtures parse every construct and reject bad lines by line
//! number; the volume CSV parses back with the csv crate.

// Helpers outside #[test] functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use trailmap_model::{
    AnswerValue, BusinessId, Currency, FeedbackKind, Identity, IdentityKind, Money, Timestamp,
};
use trailmap_testkit::{
    generate_demo, journeys, write_events_csv, DemoOptions, DemoSummary, FixtureRecord,
    MemorySink, Sink,
};

fn demo(customers: u64, seed: u64) -> (MemorySink, DemoSummary) {
    let mut sink = MemorySink::new();
    let Ok(summary) = generate_demo(&mut sink, &DemoOptions { customers, seed });
    (sink, summary)
}

fn default_demo() -> (MemorySink, DemoSummary) {
    let options = DemoOptions::default();
    demo(options.customers, options.seed)
}

fn utc(text: &str) -> Timestamp {
    Timestamp::parse_rfc3339(text).expect("a valid time")
}

fn share(part: usize, whole: usize) -> f64 {
    part as f64 / whole.max(1) as f64
}

// ---------------------------------------------------------------------------------------------
// Reproducibility and scale

#[test]
fn the_same_seed_gives_byte_identical_output() {
    let (first, first_summary) = demo(600, 7);
    let (second, second_summary) = demo(600, 7);
    assert_eq!(first_summary, second_summary);
    let first_json = serde_json::to_string(&first).expect("serialisable");
    let second_json = serde_json::to_string(&second).expect("serialisable");
    assert!(first_json == second_json, "two runs with seed 7 differ");
}

#[test]
fn a_different_seed_gives_different_output() {
    let (first, _) = demo(600, 7);
    let (second, _) = demo(600, 8);
    assert_ne!(first.events, second.events);
    assert_ne!(first.orders, second.orders);
    // The scaffolding (businesses, touchpoints, personas, maps) does not depend on the seed.
    assert_eq!(first.touchpoints, second.touchpoints);
    assert_eq!(first.maps, second.maps);
}

#[test]
fn the_summary_counts_what_the_sink_received() {
    let (sink, summary) = demo(1_000, 3);
    for business in summary.businesses() {
        let id = business.business;
        let count = |n: usize| n as u64;
        assert_eq!(business.events, count(sink.events_of(id).count()), "{}", business.name);
        assert_eq!(business.orders, count(sink.orders_of(id).count()));
        let revenue: i64 = sink.orders_of(id).map(|o| o.total.minor).sum();
        assert_eq!(business.revenue, Money::new(revenue, Currency::USD));
        let spend: i64 = sink.spend.iter().filter(|(b, _)| *b == id).map(|(_, s)| s.amount.minor).sum();
        assert_eq!(business.spend.minor, spend);
        assert_eq!(business.registered, count(sink.customers.iter().filter(|(b, _, _)| *b == id).count()));
        assert_eq!(business.feedback, count(sink.feedback.iter().filter(|(b, _)| *b == id).count()));
        assert_eq!(business.responses, count(sink.responses.iter().filter(|(b, _)| *b == id).count()));
        assert_eq!(business.touchpoints, count(sink.touchpoints.iter().filter(|t| t.business == id).count()));
        assert_eq!(business.personas, 3);
        assert_eq!(business.maps, 1);
        assert_eq!(business.changes, 1);
    }
    assert_eq!(summary.coffee.customers + summary.boutique.customers, 1_000);
    assert_eq!(summary.coffee.customers, 400);
}

#[test]
fn generation_scales_in_proportion_to_customers() {
    let (small_sink, small) = demo(200, 11);
    let (large_sink, large) = demo(20_000, 11);
    assert_eq!(small.coffee.customers + small.boutique.customers, 200);
    assert_eq!(large.coffee.customers + large.boutique.customers, 20_000);
    for (small, large) in small.businesses().into_iter().zip(large.businesses()) {
        assert!(small.events > 0 && small.orders > 0, "{} makes data at 200 customers", small.name);
        let per_customer = |events: u64, customers: u64| events as f64 / customers as f64;
        let ratio = per_customer(large.events, large.customers) / per_customer(small.events, small.customers);
        assert!((0.6..1.6).contains(&ratio), "{}: events per customer ratio {ratio}", small.name);
        let ratio = per_customer(large.orders, large.customers) / per_customer(small.orders, small.customers);
        assert!((0.6..1.6).contains(&ratio), "{}: orders per customer ratio {ratio}", small.name);
    }
    assert!(large_sink.events.len() > 50 * small_sink.events.len());
}

// ---------------------------------------------------------------------------------------------
// The café's story: referrals bring customers, and the referral programme brings more.

/// Local midnight of 2026-05-01 in Portland (daylight saving time, UTC-7).
fn coffee_launch() -> Timestamp {
    utc("2026-05-01T07:00:00Z")
}

fn coffee_id(sink: &MemorySink) -> BusinessId {
    sink.business_named("Bean There Coffee").expect("the café exists").id
}

fn boutique_id(sink: &MemorySink) -> BusinessId {
    sink.business_named("Thread & Needle").expect("the boutique exists").id
}

/// Each person's earliest event, by person number.
fn first_events(sink: &MemorySink, business: BusinessId) -> BTreeMap<usize, &trailmap_model::Event> {
    let people = sink.people(business);
    let mut first: BTreeMap<usize, &trailmap_model::Event> = BTreeMap::new();
    for incoming in sink.events_of(business) {
        let person = people[&incoming.event.identity];
        let slot = first.entry(person).or_insert(&incoming.event);
        if incoming.event.time < slot.time {
            *slot = &incoming.event;
        }
    }
    first
}

fn is_referral(event: &trailmap_model::Event) -> bool {
    event.medium.as_deref() == Some("referral") && event.source.as_deref() == Some("friend")
}

#[test]
fn coffee_new_customers_come_by_referral_and_more_so_after_the_programme() {
    let (sink, summary) = default_demo();
    let coffee = coffee_id(&sink);
    let first = first_events(&sink, coffee);
    let (mut before, mut before_referral, mut after, mut after_referral) = (0, 0, 0, 0);
    for event in first.values() {
        if event.time >= coffee_launch() {
            after += 1;
            after_referral += usize::from(is_referral(event));
        } else {
            before += 1;
            before_referral += usize::from(is_referral(event));
        }
    }
    let (share_before, share_after) = (share(before_referral, before), share(after_referral, after));
    println!("café referral share of new customers: {share_before:.3} of {before} before, {share_after:.3} of {after} after");
    assert!((0.47..0.63).contains(&share_before), "referral share before {share_before}");
    assert!((0.62..0.78).contains(&share_after), "referral share after {share_after}");
    assert!(share_after - share_before > 0.08);

    // Counting from the raw events agrees exactly with the generator's own ground truth.
    let truth = &summary.truth.coffee;
    assert_eq!(truth.new_customers.before, before as u64);
    assert_eq!(truth.new_customers.after, after as u64);
    assert_eq!(truth.new_by_referral.before, before_referral as u64);
    assert_eq!(truth.new_by_referral.after, after_referral as u64);
    assert_eq!(summary.coffee.customers, first.len() as u64, "every café customer is one person");

    // Arrivals per day rise by about 30%.
    let per_day_before = before as f64 / truth.days.before as f64;
    let per_day_after = after as f64 / truth.days.after as f64;
    let uplift = per_day_after / per_day_before;
    println!("café new customers per day: {per_day_before:.2} before, {per_day_after:.2} after");
    assert!((1.15..1.5).contains(&uplift), "arrival uplift {uplift}");

    // Referral codes appear only after the launch.
    for incoming in sink.events_of(coffee) {
        if incoming.event.properties.contains_key("referral_code") {
            assert!(incoming.event.time >= coffee_launch());
            assert!(is_referral(&incoming.event));
        }
    }
}

#[test]
fn coffee_referral_customers_are_worth_more_than_paid_social_ones() {
    let (sink, _) = default_demo();
    let coffee = coffee_id(&sink);
    let people = sink.people(coffee);
    let first = first_events(&sink, coffee);
    let mut orders: BTreeMap<usize, (u64, i64)> = BTreeMap::new();
    for order in sink.orders_of(coffee) {
        let entry = orders.entry(people[&order.customer[0]]).or_default();
        entry.0 += 1;
        entry.1 += order.total.minor;
    }
    let mut by_arrival: BTreeMap<&str, (u64, u64, i64)> = BTreeMap::new();
    for (person, event) in &first {
        let arrival = if is_referral(event) {
            "referral"
        } else if event.medium.as_deref() == Some("paid_social") {
            "paid_social"
        } else {
            continue;
        };
        let (count, revenue) = orders.get(person).copied().unwrap_or_default();
        let entry = by_arrival.entry(arrival).or_default();
        entry.0 += 1;
        entry.1 += count;
        entry.2 += revenue;
    }
    let value = |arrival: &str| {
        let (people, _, revenue) = by_arrival[arrival];
        revenue as f64 / people as f64
    };
    println!("café revenue per customer (cents): referral {:.0}, paid social {:.0}", value("referral"), value("paid_social"));
    assert!(value("referral") > 2.0 * value("paid_social"), "{by_arrival:?}");
    // Most paid-social customers come once.
    let once = first
        .iter()
        .filter(|(_, e)| e.medium.as_deref() == Some("paid_social"))
        .filter(|(person, _)| orders.get(person).map(|o| o.0) == Some(1))
        .count();
    let paid_social = by_arrival["paid_social"].0 as usize;
    assert!(share(once, paid_social) > 0.5, "{once} of {paid_social} paid-social customers came once");
}

#[test]
fn coffee_visits_happen_in_opening_hours_with_small_baskets() {
    let (sink, _) = demo(1_500, 5);
    let coffee = coffee_id(&sink);
    // Portland is UTC-7 in daylight saving time (to 2025-11-02 and from 2026-03-08), else UTC-8.
    let local_minutes = |t: Timestamp| {
        let pst = t >= utc("2025-11-02T09:00:00Z") && t < utc("2026-03-08T10:00:00Z");
        let offset = if pst { 8 } else { 7 } * Timestamp::MS_PER_HOUR;
        (t.0 - offset).rem_euclid(Timestamp::MS_PER_DAY) / Timestamp::MS_PER_MINUTE
    };
    let mut totals = Vec::new();
    for order in sink.orders_of(coffee) {
        let minutes = local_minutes(order.time);
        assert!((6 * 60 + 30..18 * 60).contains(&minutes), "order at {} local minutes", minutes);
        assert_eq!(order.channel.as_deref(), Some("in-store"));
        let sum: i64 = order.lines.iter().map(|l| l.unit_price.minor * l.quantity).sum();
        assert_eq!(sum, order.total.minor);
        totals.push(order.total.minor);
    }
    let mean = totals.iter().sum::<i64>() as f64 / totals.len() as f64 / 100.0;
    assert!((4.0..15.0).contains(&mean), "mean café basket {mean}");
    assert!(totals.iter().all(|&t| (250..4_000).contains(&t)));
}

// ---------------------------------------------------------------------------------------------
// The boutique's story: shipping costs lose buyers at checkout; free shipping over $75 wins them.

/// Local midnight of 2026-06-01 in Asheville (daylight saving time, UTC-4).
fn boutique_change() -> Timestamp {
    utc("2026-06-01T04:00:00Z")
}

#[test]
fn boutique_checkout_conversion_rises_after_free_shipping() {
    let (sink, summary) = default_demo();
    let boutique = boutique_id(&sink);
    let people = sink.people(boutique);
    let mut checkouts: BTreeMap<usize, Vec<Timestamp>> = BTreeMap::new();
    for incoming in sink.events_of(boutique) {
        if incoming.event.name == "checkout_started" {
            checkouts.entry(people[&incoming.event.identity]).or_default().push(incoming.event.time);
        }
    }
    let mut orders: BTreeMap<usize, Vec<Timestamp>> = BTreeMap::new();
    for order in sink.orders_of(boutique) {
        orders.entry(people[&order.customer[0]]).or_default().push(order.time);
    }
    let week = 7 * Timestamp::MS_PER_DAY;
    let mut counts = [[0usize; 2]; 2];
    for (person, times) in &checkouts {
        for after in [false, true] {
            let Some(first) = times.iter().filter(|t| (**t >= boutique_change()) == after).min() else {
                continue;
            };
            let converted = orders
                .get(person)
                .is_some_and(|o| o.iter().any(|t| *t >= *first && t.0 <= first.0 + week));
            counts[usize::from(after)][0] += 1;
            counts[usize::from(after)][1] += usize::from(converted);
        }
    }
    let before = share(counts[0][1], counts[0][0]);
    let after = share(counts[1][1], counts[1][0]);
    println!("boutique 7-day checkout conversion: {before:.3} before, {after:.3} after ({counts:?})");
    assert!(counts[0][0] > 300 && counts[1][0] > 300, "checkout customers {counts:?}");
    assert!((0.22..0.38).contains(&before), "7-day checkout conversion before {before}");
    assert!((0.37..0.55).contains(&after), "7-day checkout conversion after {after}");
    assert!(after - before > 0.08, "before {before}, after {after}");

    // The direct count is close to the generator's truth (people who switch devices without
    // identifying can split in the raw data, so not always exactly equal).
    let truth = &summary.truth.boutique;
    let (truth_before, truth_after) = truth.checkout_converted_7d.share_of(&truth.checkout_customers);
    assert!((truth_before - before).abs() < 0.03 && (truth_after - after).abs() < 0.03);
}

#[test]
fn boutique_order_value_rises_after_free_shipping() {
    let (sink, summary) = default_demo();
    let boutique = boutique_id(&sink);
    let mut sums = [(0i64, 0usize); 2];
    for order in sink.orders_of(boutique) {
        let after = usize::from(order.time >= boutique_change());
        sums[after].0 += order.total.minor;
        sums[after].1 += 1;
        let shipping = order.shipping.expect("online orders state shipping").minor;
        let subtotal = order.subtotal.expect("online orders state a subtotal").minor;
        let discount = order.discount.map_or(0, |d| d.minor);
        assert_eq!(order.total.minor, subtotal - discount + shipping);
        if after == 1 && subtotal >= 7_500 {
            assert_eq!(shipping, 0, "free shipping over $75 after the change");
        } else {
            assert_eq!(shipping, 795);
        }
    }
    let aov = |(total, count): (i64, usize)| total as f64 / count.max(1) as f64 / 100.0;
    let (before, after) = (aov(sums[0]), aov(sums[1]));
    println!("boutique AOV: {before:.2} before ({} orders), {after:.2} after ({} orders)", sums[0].1, sums[1].1);
    assert!((52.0..72.0).contains(&before), "AOV before {before}");
    assert!((70.0..92.0).contains(&after), "AOV after {after}");
    assert!(after - before > 8.0, "AOV before {before}, after {after}");
    let truth = &summary.truth.boutique;
    assert_eq!(truth.orders.before + truth.orders.after, summary.boutique.orders);
    assert_eq!(truth.orders.before, sums[0].1 as u64);
}

fn mentions_shipping(text: &str) -> bool {
    let text = text.to_lowercase();
    text.contains("shipping") || text.contains("delivery")
}

#[test]
fn shipping_cost_dominates_negative_boutique_feedback_before_the_change() {
    let (sink, _) = default_demo();
    let boutique = boutique_id(&sink);
    let mut counts = [[0usize; 2]; 2];
    for (business, feedback) in &sink.feedback {
        if *business != boutique {
            continue;
        }
        let negative = feedback.rating.is_some_and(|r| r <= 2.0) || feedback.source == "Checkout exit survey";
        if !negative {
            continue;
        }
        let after = usize::from(feedback.time >= boutique_change());
        counts[after][0] += 1;
        counts[after][1] += usize::from(mentions_shipping(&feedback.text));
    }
    let before = share(counts[0][1], counts[0][0]);
    let after = share(counts[1][1], counts[1][0]);
    println!("boutique shipping share of negative feedback: {before:.3} before, {after:.3} after ({counts:?})");
    assert!(counts[0][0] >= 30 && counts[1][0] >= 30, "negative feedback {counts:?}");
    assert!(before > 0.5, "shipping share of negative feedback before {before}");
    assert!(after < 0.4, "shipping share of negative feedback after {after}");
    assert!(before - after > 0.2, "before {before}, after {after}");

    // The exit survey's choice question tells the same story.
    let exit = sink.surveys.iter().find(|s| s.name == "Checkout exit survey").expect("exit survey");
    let mut choices = [[0usize; 2]; 2];
    for (_, response) in sink.responses.iter().filter(|(_, r)| r.survey == exit.id) {
        let after = usize::from(response.submitted_at >= boutique_change());
        let Some(AnswerValue::Choices(chosen)) = response.answers.first().map(|a| &a.value) else {
            panic!("the first answer is the choice");
        };
        choices[after][0] += 1;
        choices[after][1] += usize::from(chosen.iter().any(|c| c == "Shipping cost"));
    }
    println!("boutique exit survey 'Shipping cost' choices [total, shipping] before/after: {choices:?}");
    assert!(share(choices[0][1], choices[0][0]) > 0.5, "{choices:?}");
    assert!(share(choices[1][1], choices[1][0]) < 0.4, "{choices:?}");
}

// ---------------------------------------------------------------------------------------------
// The scaffolding: touchpoints, personas, maps, surveys, changes, spend.

#[test]
fn every_touchpoint_rule_matches_some_generated_event() {
    let (sink, _) = default_demo();
    for touchpoint in &sink.touchpoints {
        // Purchases are recorded by the store from orders, so no generated event matches them.
        if touchpoint.rule.conditions.iter().any(|c| c.op == trailmap_model::Op::Equals("purchase".into())) {
            continue;
        }
        let matched = sink
            .events
            .iter()
            .filter(|(b, _)| *b == touchpoint.business)
            .any(|(_, e)| touchpoint.rule.matches(&e.event));
        assert!(matched, "touchpoint {:?} matches no event", touchpoint.name);
        assert!(touchpoint.stage.is_some());
    }
    assert_eq!(sink.touchpoints.len(), 8 + 11);
}

#[test]
fn maps_personas_surveys_and_changes_are_complete() {
    let (sink, summary) = demo(400, 1);
    assert_eq!(sink.businesses.len(), 2);
    assert_eq!(sink.stages.len(), 10);
    assert_eq!(sink.personas.len(), 6);
    for persona in &sink.personas {
        assert!(!persona.goals.is_empty() && !persona.frustrations.is_empty() && !persona.behaviours.is_empty());
        assert!(persona.quote.is_some() && persona.segment.is_some() && !persona.demographics.is_empty());
    }
    let names: BTreeSet<&str> = sink.personas.iter().map(|p| p.name.as_str()).collect();
    for name in ["Morning Regular", "Weekend Treat-Seeker", "Remote Worker", "Style-Conscious Professional", "Bargain Hunter", "Gift Buyer"] {
        assert!(names.contains(name), "{name}");
    }
    for (map, author) in &sink.maps {
        assert!(!author.is_empty());
        assert_eq!(map.stages.len(), 5);
        assert_eq!(map.personas.len(), 3);
        for stage in &map.stages {
            assert!(stage.stage.is_some());
            assert!(!stage.goals.is_empty() && !stage.actions.is_empty() && !stage.thoughts.is_empty());
            assert!(!stage.pain_points.is_empty() && !stage.opportunities.is_empty() && !stage.touchpoints.is_empty());
            assert_eq!(stage.emotions.len(), 3);
            assert!(stage.emotions.iter().all(|e| (-2.0..=2.0).contains(&e.score)));
        }
    }
    let coffee_map = &sink.maps[0].0;
    assert!(coffee_map.review_date.expect("a review date") < summary.truth.period_end, "the café map is stale");
    assert!(sink.maps[1].0.review_date.expect("a review date") > summary.truth.period_end);

    assert_eq!(sink.changes.len(), 2);
    assert_eq!(sink.changes[0].date, summary.truth.coffee.change_date);
    assert_eq!(sink.changes[0].kpi.as_deref(), Some("new customers by referral"));
    assert_eq!(sink.changes[1].date, summary.truth.boutique.change_date);
    assert_eq!(sink.changes[1].kpi.as_deref(), Some("checkout conversion"));
    assert!(sink.changes.iter().all(|c| !c.touchpoints.is_empty() && c.owner.is_some()));

    // Responses answer real questions of their survey.
    for (_, response) in &sink.responses {
        let survey = sink.surveys.iter().find(|s| s.id == response.survey).expect("a known survey");
        for answer in &response.answers {
            assert!(survey.questions.iter().any(|q| q.id == answer.question));
        }
        assert!(!response.customer.is_empty());
    }
    assert_eq!(sink.surveys.len(), 3);

    // Twelve months of spend; the referral rewards start with the programme.
    let coffee = coffee_id(&sink);
    let referral: Vec<_> = sink.spend.iter().filter(|(b, s)| *b == coffee && s.channel == "Referral").collect();
    assert_eq!(referral.len(), 6);
    assert!(referral.iter().all(|(_, s)| s.start >= summary.truth.coffee.change_date));
    let social: i64 = sink.spend.iter().filter(|(b, s)| *b == coffee && s.channel == "Paid Social").map(|(_, s)| s.amount.minor).sum();
    // $1,500 a month at 2,000 café customers, scaled with the café's size, within the +/-10% jitter.
    let expected = 1_800_000.0 * summary.coffee.customers as f64 / 2_000.0;
    let ratio = social as f64 / expected;
    assert!((0.88..1.12).contains(&ratio), "a year of café paid social: {social} cents, {ratio:.3} of {expected}");
}

#[test]
fn anonymous_visitors_are_tied_to_known_customers_on_one_row() {
    let (sink, _) = demo(1_000, 9);
    for business in [coffee_id(&sink), boutique_id(&sink)] {
        let linking = sink
            .events_of(business)
            .filter(|e| e.also_known_as.iter().any(|i| i.kind == IdentityKind::Anonymous))
            .filter(|e| e.event.identity.kind != IdentityKind::Anonymous)
            .count();
        assert!(linking > 10, "business {business}: {linking} linking rows");
    }
    // Boutique orders name the buyer by account id and email.
    let boutique = boutique_id(&sink);
    for order in sink.orders_of(boutique) {
        let kinds: Vec<IdentityKind> = order.customer.iter().map(|i| i.kind).collect();
        assert_eq!(kinds, vec![IdentityKind::External, IdentityKind::Email]);
    }
    // Every event key is distinct.
    let keys: BTreeSet<_> = sink.events.iter().map(|(_, e)| e.event.key).collect();
    assert_eq!(keys.len(), sink.events.len());
    // Every event falls in the period, in local time.
    for (_, e) in &sink.events {
        assert!(e.event.time >= utc("2025-11-01T07:00:00Z") && e.event.time < utc("2026-11-01T08:00:00Z"), "{}", e.event.time);
    }
    assert!(sink.feedback.iter().any(|(_, f)| f.kind == FeedbackKind::Review));
}

// ---------------------------------------------------------------------------------------------
// Journey fixtures

const EXAMPLE: &str = r#"
# comments
customer alice email=alice@example.com id=C1
  2024-01-01 10:00:00 page_view page=/ source=google medium=cpc
  +5m  product_view page=/p/scarf
  +30s add_to_cart
  +2h  order total=49.90 lines="Scarf:1:49.90"
customer anon:v-77
  2024-01-02T09:00:00Z store_visit medium=offline
"#;

#[test]
fn the_example_fixture_parses() {
    let fixture = journeys(EXAMPLE).expect("the example parses");
    assert_eq!(fixture.customers.len(), 2);
    let alice = fixture.customer("alice").expect("alice");
    assert_eq!(
        alice.identities,
        vec![Identity::email("alice@example.com").expect("id"), Identity::external("C1").expect("id")]
    );
    assert_eq!(alice.line, 3);
    let events: Vec<_> = fixture.events().collect();
    assert_eq!(events.len(), 4);
    assert_eq!(events[0].event.name, "page_view");
    assert_eq!(events[0].event.time, utc("2024-01-01T10:00:00Z"));
    assert_eq!(events[0].event.source.as_deref(), Some("google"));
    assert_eq!(events[0].event.medium.as_deref(), Some("cpc"));
    assert_eq!(events[0].event.page.as_deref(), Some("/"));
    assert_eq!(events[0].event.identity, alice.identities[0]);
    assert_eq!(events[0].also_known_as, vec![alice.identities[1].clone()]);
    assert_eq!(events[1].event.time, utc("2024-01-01T10:05:00Z"));
    assert_eq!(events[2].event.time, utc("2024-01-01T10:05:30Z"));
    assert_ne!(events[0].event.key, events[1].event.key);
    let orders: Vec<_> = fixture.orders().collect();
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0].time, utc("2024-01-01T12:05:30Z"));
    assert_eq!(orders[0].total, Money::new(4990, Currency::USD));
    assert_eq!(orders[0].lines.len(), 1);
    assert_eq!(orders[0].lines[0].name, "Scarf");
    assert_eq!(orders[0].lines[0].quantity, 1);
    assert_eq!(orders[0].customer, alice.identities);
    assert_eq!(events[3].event.identity, Identity::anonymous("v-77").expect("id"));
    assert_eq!(events[3].event.medium.as_deref(), Some("offline"));
    assert!(matches!(fixture.records[3], FixtureRecord::Order { customer: 0, line: 7, .. }));
    assert!(matches!(fixture.records[4], FixtureRecord::Event { customer: 1, line: 9, .. }));
}

#[test]
fn fixtures_understand_every_construct() {
    let text = r#"
customer bob name="Bob Stone" city="New York" vip=true visits=3   # trailing comment
  2024-03-01T08:00:00+01:00 page_view as=anon:v-1 referrer=https://news.example/a#b channel="Organic Search" campaign=spring
  +1h30m sign_up also=anon:v-1 plan=pro score=4.5 note="said \"hi\" # not a comment"
  +250ms purchase_intent revenue=12.5 currency=eur
  +1d order id=A-9 total=30.00 subtotal=25 shipping=5 tax=0 discount=0 status=paid channel=online source=newsletter lines="Tee:2:10.00:SKU-T;Socks:1:5" gift=true as=email:bob@example.com
customer email:carol@example.com external=X7 anonymous=v-9
  2024-03-02 09:15:00.250 call medium=phone
"#;
    let fixture = journeys(text).expect("parses");
    let bob = fixture.customer("bob").expect("bob");
    assert_eq!(bob.identities, vec![Identity::external("bob").expect("id")], "a bare label is an external id");
    assert_eq!(bob.name.as_deref(), Some("Bob Stone"));
    assert_eq!(bob.properties["city"], serde_json::json!("New York"));
    assert_eq!(bob.properties["vip"], serde_json::json!(true));
    assert_eq!(bob.properties["visits"], serde_json::json!(3));

    let events: Vec<_> = fixture.events().collect();
    let view = &events[0];
    assert_eq!(view.event.time, utc("2024-03-01T07:00:00Z"));
    assert_eq!(view.event.identity, Identity::anonymous("v-1").expect("id"));
    assert!(view.also_known_as.is_empty(), "as= rows carry only that identity");
    assert_eq!(view.event.referrer.as_deref(), Some("https://news.example/a#b"));
    assert_eq!(view.event.channel.as_deref(), Some("Organic Search"));
    assert_eq!(view.event.campaign.as_deref(), Some("spring"));

    let signup = &events[1];
    assert_eq!(signup.event.time, utc("2024-03-01T08:30:00Z"));
    assert_eq!(signup.event.identity, Identity::external("bob").expect("id"));
    assert_eq!(signup.also_known_as, vec![Identity::anonymous("v-1").expect("id")]);
    assert_eq!(signup.event.properties["plan"], serde_json::json!("pro"));
    assert_eq!(signup.event.properties["score"], serde_json::json!(4.5));
    assert_eq!(signup.event.properties["note"], serde_json::json!("said \"hi\" # not a comment"));

    let intent = &events[2];
    assert_eq!(intent.event.time.0, signup.event.time.0 + 250);
    assert_eq!(intent.event.revenue, Some(Money::new(1250, Currency::EUR)));

    let order = fixture.orders().next().expect("an order");
    assert_eq!(order.external_id, "A-9");
    assert_eq!(order.time.0, intent.event.time.0 + Timestamp::MS_PER_DAY);
    assert_eq!(order.subtotal, Some(Money::new(2500, Currency::USD)));
    assert_eq!(order.shipping.map(|m| m.minor), Some(500));
    assert_eq!(order.status.as_deref(), Some("paid"));
    assert_eq!(order.channel.as_deref(), Some("online"));
    assert_eq!(order.source.as_deref(), Some("newsletter"));
    assert_eq!(order.lines.len(), 2);
    assert_eq!(order.lines[0].sku.as_deref(), Some("SKU-T"));
    assert_eq!(order.lines[0].quantity, 2);
    assert_eq!(order.lines[1].unit_price.minor, 500);
    assert_eq!(order.properties["gift"], serde_json::json!(true));
    assert_eq!(order.customer, vec![Identity::email("bob@example.com").expect("id")]);

    let carol = fixture.customer("email:carol@example.com").expect("carol");
    assert_eq!(carol.identities.len(), 3);
    assert_eq!(carol.identities[1], Identity::external("X7").expect("id"));
    assert_eq!(events[3].event.time, utc("2024-03-02T09:15:00.250Z"));
    assert_eq!(events[3].also_known_as.len(), 2);
}

#[test]
fn fixtures_write_to_a_sink_and_identities_group_into_people() {
    let text = "
customer dana email=dana@example.com
  2024-05-01 12:00:00 page_view as=anon:d-1
  +2m page_view as=anon:d-1 page=/pricing
  +5m sign_up also=anon:d-1
  +1h order total=10
customer eve anon=e-1
  2024-05-01 13:00:00 page_view
";
    let fixture = journeys(text).expect("parses");
    let mut sink = MemorySink::new();
    let Ok((business, _)) = sink.business("Test", Currency::USD, "UTC");
    let Ok(ids) = fixture.write_to(&mut sink, business);
    assert_eq!(ids.len(), 2);
    assert_eq!(sink.customers.len(), 2);
    assert_eq!(sink.customers[0].2.first_seen, Some(utc("2024-05-01T12:00:00Z")));
    assert_eq!(sink.events.len(), 4);
    assert_eq!(sink.orders.len(), 1);
    let people = sink.people(business);
    let dana = people[&Identity::email("dana@example.com").expect("id")];
    assert_eq!(people[&Identity::anonymous("d-1").expect("id")], dana, "the sign-up row merges the visitor");
    assert_ne!(people[&Identity::anonymous("e-1").expect("id")], dana);
    assert!(!people.contains_key(&Identity::external("eve").expect("id")), "a header with identities adds no label id");
}

#[test]
fn fixture_errors_name_the_line_and_the_reason() {
    let cases: [(&str, usize, &str); 14] = [
        ("  2024-01-01 10:00:00 page_view", 1, "before any `customer`"),
        ("customer a\n  +5m page_view", 2, "first line needs an absolute time"),
        ("customer a\n  yesterday page_view", 2, "expected a time"),
        ("customer a\n  2024-01-01 10:00:00", 2, "expected an event name"),
        ("customer a\n  2024-01-01 10:00:00 page_view\n  +5x page_view", 3, "bad relative time"),
        ("customer a\n  2024-01-01 10:00:00 page_view oops", 2, "expected key=value"),
        ("customer a\n  2024-01-01 10:00:00 page_view note=\"open", 2, "not closed"),
        ("customer a\n  2024-01-01 10:00:00 order lines=\"A:1:2\"", 2, "needs total="),
        ("customer a\n  2024-01-01 10:00:00 order total=abc", 2, "not an amount"),
        ("customer a\n  2024-01-01 10:00:00 order total=5 lines=\"A:x:2\"", 2, "not a whole number"),
        ("customer a\n  2024-01-01 10:00:00 page_view as=phone:123", 2, "unknown identity kind"),
        ("customer a\ncustomer a", 2, "already defined"),
        ("\n\ncustomer", 3, "needs a label"),
        ("customer a email=", 1, "empty email identity"),
    ];
    for (text, line, reason) in cases {
        let error = journeys(text).expect_err(text);
        assert_eq!(error.line, line, "{text:?}: {error}");
        assert!(error.reason.contains(reason), "{text:?}: {error}");
        assert!(error.to_string().starts_with(&format!("line {line}: ")));
    }
    assert!(journeys("customer a\n  2024-01-01 10:00:00 page_view revenue=1 currency=EURO").is_err());
    assert!(journeys("# only comments\n\n").expect("empty is fine").records.is_empty());
}

// ---------------------------------------------------------------------------------------------
// The volume CSV

#[test]
fn the_events_csv_parses_back_with_the_right_rows() {
    let mut bytes = Vec::new();
    write_events_csv(&mut bytes, 20_000, 1_000, 5).expect("writes to memory");
    let mut again = Vec::new();
    write_events_csv(&mut again, 20_000, 1_000, 5).expect("writes to memory");
    assert!(bytes == again, "the same seed writes the same bytes");

    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    let headers = reader.headers().expect("a header").clone();
    assert_eq!(
        headers.iter().collect::<Vec<_>>(),
        ["timestamp", "event", "user_id", "anonymous_id", "page", "referrer", "revenue", "currency"]
    );
    let mut rows = 0;
    let mut previous = Timestamp(i64::MIN);
    let mut names = BTreeSet::new();
    let mut users = BTreeSet::new();
    let mut tagged = 0;
    for record in reader.records() {
        let record = record.expect("a well-formed row");
        rows += 1;
        let time = Timestamp::parse_rfc3339(&record[0]).expect("RFC 3339");
        assert_eq!(record[0].len(), 24, "millis and Z: {}", &record[0]);
        assert_eq!(time.to_rfc3339(), &record[0]);
        assert!(time >= previous, "rows are in time order");
        previous = time;
        names.insert(record[1].to_string());
        assert!(record[2].is_empty() != record[3].is_empty(), "exactly one of user_id and anonymous_id");
        users.insert(format!("{}{}", &record[2], &record[3]));
        if record[1] == *"purchase" {
            assert!(Money::parse_decimal(&record[6], Currency::USD).is_some_and(|m| m.minor > 0));
            assert_eq!(&record[7], "USD");
        } else {
            assert!(record[6].is_empty() && record[7].is_empty());
        }
        tagged += usize::from(record[4].contains("utm_source="));
    }
    assert_eq!(rows, 20_000);
    assert!(names.len() >= 8 && names.contains("page_view") && names.contains("purchase"));
    assert!(users.len() > 300 && users.len() <= 1_000);
    assert!(tagged > 1_000);

    let mut other = Vec::new();
    write_events_csv(&mut other, 20_000, 1_000, 6).expect("writes to memory");
    assert!(other != bytes);
    let mut empty = Vec::new();
    write_events_csv(&mut empty, 0, 10, 1).expect("writes to memory");
    assert_eq!(csv::Reader::from_reader(empty.as_slice()).records().count(), 0);
}

#[test]
fn memory_sink_assigns_sequential_ids() {
    let mut sink = MemorySink::new();
    let Ok((first, stages)) = sink.business("One", Currency::USD, "UTC");
    let Ok((second, more)) = sink.business("Two", Currency::GBP, "Europe/London");
    assert_eq!((first.0, second.0), (1, 2));
    assert_eq!(stages.iter().map(|s| s.id.0).collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
    assert_eq!(more[0].id.0, 6);
    assert_eq!(stages[2].name, "Purchase");
    let survey = trailmap_model::Survey {
        id: trailmap_model::SurveyId(0),
        business: first,
        name: "S".into(),
        touchpoint: None,
        stage: None,
        questions: vec![
            trailmap_model::Question { id: trailmap_model::QuestionId(0), text: "Q".into(), kind: trailmap_model::QuestionKind::Nps, required: true, skip: None };
            2
        ],
    };
    let Ok(stored) = sink.survey(survey);
    assert_eq!(stored.id.0, 1);
    assert_eq!(stored.questions.iter().map(|q| q.id.0).collect::<Vec<_>>(), [1, 2]);
}

