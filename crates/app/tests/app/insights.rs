//! Insights through the app: a checkout drop-off and a channel with spend and few customers whose
//! values at stake are checked by hand, a stale map ranked after every money finding, the lost
//! customers of the drop-off against a brute-force count on seeded random journeys, the demo's
//! planted stories found, and a business without data answered with no finding.

use chrono::NaiveDate;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::HashMap;
use trailmap_app::insights::{InsightKind, Insights, InsightsRequest};
use trailmap_app::{App, DayRange, DemoOptions, MapEdit, MapTemplate};
use trailmap_model::{Business, CustomerId, EventField, EventRule, IncomingSpend, Money, Op, Touchpoint, TouchpointChannel, TouchpointId};
use trailmap_model::Currency;
use trailmap_model::MapVersionKind;
use trailmap_store::{Store, StoreError};

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn march() -> DayRange {
    DayRange::new(day("2026-03-01"), day("2026-03-31")).unwrap()
}

fn insights(app: &App, business: &Business, period: Option<DayRange>) -> Insights {
    app.insights(business, &InsightsRequest { period, today: day("2026-04-15") }).unwrap()
}

/// A web shop: "Cart" (add_to_cart) on Consideration, "Checkout" (checkout_started) and
/// "Confirmation" (purchase) on Purchase, and the fixture written in.
fn shop(fixture: &str) -> (App, Business) {
    let mut app = App::in_memory().unwrap();
    let business = app.create_business("Shop", "USD", "UTC").unwrap();
    let stages = app.store().stages(business.id).unwrap();
    let stage = |name: &str| stages.iter().find(|s| s.name == name).map(|s| s.id);
    let touchpoints = [("Cart", "Consideration", "add_to_cart"), ("Checkout", "Purchase", "checkout_started"), ("Confirmation", "Purchase", "purchase")];
    app.store_mut()
        .write::<StoreError>(&mut |w| {
            for (name, on, event) in touchpoints {
                w.create_touchpoint(&Touchpoint {
                    id: TouchpointId(0),
                    business: business.id,
                    name: name.into(),
                    channel: TouchpointChannel::Web,
                    stage: stage(on),
                    online: true,
                    rule: EventRule::named(event),
                    description: String::new(),
                })?;
            }
            Ok(())
        })
        .unwrap();
    app.write_fixture(&trailmap_testkit::journeys(fixture).unwrap(), &business).unwrap();
    (app, business)
}

/// Customer ids by fixture label (a label is the customer's external id).
fn ids(app: &App, business: &Business) -> HashMap<String, CustomerId> {
    app.store().customers(business.id, usize::MAX, 0).unwrap().into_iter().filter_map(|c| Some((c.external_id?, c.id))).collect()
}

#[test]
fn the_checkout_drop_off_is_valued_by_hand() {
    // 50 add to cart; 40 of them start checkout; 10 of those buy for $50. Two transitions:
    // add_to_cart → checkout_started loses 10 × (10 of 40 checkout starters bought) × $50 = $125;
    // checkout_started → purchase loses 30 × (all 10 who reached purchase bought) × $50 = $1,500.
    let mut text = String::new();
    for i in 0..50 {
        text.push_str(&format!("customer c{i}\n  2026-03-{:02} 10:00:00 add_to_cart\n", 2 + i % 20));
        if i < 40 {
            text.push_str("  +5m checkout_started\n");
        }
        if i < 10 {
            text.push_str("  +5m order total=50.00\n");
        }
    }
    let (app, business) = shop(&text);
    let found = insights(&app, &business, Some(march()));
    let drop = found.findings.iter().find(|f| f.kind == InsightKind::DropOff).expect("a drop-off finding");
    assert_eq!(drop.value_at_stake_minor, Some(150_000), "{drop:?}");
    assert_eq!(drop.n, 40);
    assert!(drop.title.starts_with("checkout_started → purchase loses 30 of 40"), "{}", drop.title);
    assert!(drop.detail.contains("n = 40"), "{}", drop.detail);
    let labels = ids(&app, &business);
    let mut lost: Vec<CustomerId> = (10..40).map(|i| labels[&format!("c{i}")]).collect();
    lost.sort();
    assert_eq!(drop.customers, lost);
    assert_eq!(drop.evidence.page, "analysis/funnel?steps=checkout_started,purchase&window=7d");
    assert!(drop.evidence.command.starts_with("trailmap funnel --steps checkout_started,purchase --window 7d"), "{}", drop.evidence.command);
    assert!(drop.value_basis.contains("lost customers"));
    assert_eq!((found.currency.as_str(), found.minor_per_major, found.period), ("USD", 100, march()));
}

#[test]
fn drop_off_lost_customers_match_a_brute_force_count_on_random_journeys() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut text = String::new();
    // Per customer: minutes from add_to_cart to checkout_started and from that to the order.
    let mut journeys: Vec<(Option<i64>, Option<i64>)> = Vec::new();
    for i in 0..300 {
        text.push_str(&format!("customer r{i}\n  2026-03-{:02} 09:00:00 add_to_cart\n", 1 + i % 25));
        let checkout = rng.random_bool(0.8).then(|| rng.random_range(1..3 * 24 * 60) as i64);
        let order = checkout.filter(|_| rng.random_bool(0.5)).map(|_| rng.random_range(1..6 * 24 * 60) as i64 + 7);
        if let Some(minutes) = checkout {
            text.push_str(&format!("  +{minutes}m checkout_started\n"));
        }
        if let Some(minutes) = order {
            text.push_str(&format!("  +{minutes}m order total={}.00\n", rng.random_range(10..90)));
        }
        journeys.push((checkout, order));
    }
    let (app, business) = shop(&text);
    let found = insights(&app, &business, Some(march()));
    let drop = found.findings.iter().find(|f| f.kind == InsightKind::DropOff).expect("a drop-off finding");
    // The 7-day window runs from add_to_cart, the funnel's first step.
    let window = 7 * 24 * 60;
    let reached_checkout = |j: &(Option<i64>, Option<i64>)| j.0.is_some_and(|c| c <= window);
    let reached_purchase = |j: &(Option<i64>, Option<i64>)| reached_checkout(j) && j.1.is_some_and(|o| j.0.unwrap_or(0) + o <= window);
    let labels = ids(&app, &business);
    let brute = |lost: &dyn Fn(&(Option<i64>, Option<i64>)) -> bool| -> Vec<CustomerId> {
        let mut out: Vec<CustomerId> =
            journeys.iter().enumerate().filter(|(_, j)| lost(j)).map(|(i, _)| labels[&format!("r{i}")]).collect();
        out.sort();
        out
    };
    let lost_at_checkout = brute(&|j| !reached_checkout(j));
    let lost_at_purchase = brute(&|j| reached_checkout(j) && !reached_purchase(j));
    let expected = if drop.title.starts_with("checkout_started → purchase") { lost_at_purchase } else { lost_at_checkout };
    assert!(!expected.is_empty());
    assert_eq!(drop.customers, expected, "{}", drop.title);
}

/// A cafe: 30 referral customers buying $20 each, 5 paid social customers of whom one buys for
/// $10, $500 of paid social spend over March, and a map whose review date has passed.
fn cafe() -> (App, Business) {
    let mut text = String::new();
    for i in 0..30 {
        text.push_str(&format!("customer f{i}\n  2026-03-{:02} 08:00:00 store_visit channel=Referral\n  +1h order total=20.00\n", 2 + i % 25));
    }
    for i in 0..5 {
        text.push_str(&format!("customer s{i}\n  2026-03-{:02} 12:00:00 page_view channel=\"Paid Social\"\n", 3 + i));
        if i == 0 {
            text.push_str("  +2h order total=10.00\n");
        }
    }
    let mut app = App::in_memory().unwrap();
    let business = app.create_business("Cafe", "USD", "UTC").unwrap();
    app.write_fixture(&trailmap_testkit::journeys(&text).unwrap(), &business).unwrap();
    app.store_mut()
        .write::<StoreError>(&mut |w| {
            w.add_spend(
                business.id,
                &IncomingSpend {
                    channel: "Paid Social".into(),
                    source: Some("instagram".into()),
                    campaign: None,
                    start: day("2026-03-01"),
                    end: day("2026-03-31"),
                    amount: Money::new(50_000, Currency::USD),
                },
            )
            .map(|_| ())
        })
        .unwrap();
    let map = app.create_map(&business, "Cafe journey", MapTemplate::CoffeeShop, "Test").unwrap();
    let details = MapEdit::SetDetails { owner: None, review_date: Some(day("2026-02-01")), kind: MapVersionKind::AsIs };
    app.edit_map(&business, map.id, &details, "Test").unwrap();
    (app, business)
}

#[test]
fn a_channel_with_spend_and_few_customers_and_a_stale_map_rank_by_hand() {
    let (app, business) = cafe();
    let found = insights(&app, &business, Some(march()));
    let kinds: Vec<InsightKind> = found.findings.iter().map(|f| f.kind).collect();
    assert_eq!(kinds, [InsightKind::Channel, InsightKind::StaleMap], "{found:#?}");
    let channel = &found.findings[0];
    // $500 of spend − $10 of revenue from its 5 new customers.
    assert_eq!(channel.value_at_stake_minor, Some(49_000));
    assert_eq!(channel.n, 35);
    assert!(channel.title.contains("Paid Social spend of USD 500.00 brought 5 new customers worth USD 10.00"), "{}", channel.title);
    assert!(channel.title.contains("Referral brought 30 worth USD 20.00 each at no cost"), "{}", channel.title);
    assert!(channel.detail.contains("USD 100.00 per new customer"), "{}", channel.detail);
    let labels = ids(&app, &business);
    let mut social: Vec<CustomerId> = (0..5).map(|i| labels[&format!("s{i}")]).collect();
    social.sort();
    assert_eq!(channel.customers, social);
    let stale = &found.findings[1];
    assert_eq!(stale.value_at_stake_minor, None);
    assert!(stale.title.contains("Cafe journey") && stale.customers.is_empty(), "{stale:?}");
    assert!(stale.evidence.page.starts_with("maps/"));
    // The cafe has no touchpoints and no surveys: those findings are left out, with notes.
    assert!(found.notes.iter().any(|n| n.starts_with("drop-off")), "{:?}", found.notes);
    assert!(found.notes.iter().any(|n| n.starts_with("satisfaction")), "{:?}", found.notes);
}

#[test]
fn a_business_without_data_has_no_finding_and_small_samples_are_left_out_with_a_note() {
    let mut app = App::in_memory().unwrap();
    let business = app.create_business("Empty", "EUR", "Europe/Paris").unwrap();
    let found = insights(&app, &business, None);
    assert!(found.findings.is_empty(), "{found:?}");
    assert_eq!(found.currency, "EUR");
    // Ten checkout starters are too few to stand on.
    let mut text = String::new();
    for i in 0..10 {
        text.push_str(&format!("customer c{i}\n  2026-03-05 10:00:00 add_to_cart\n  +5m checkout_started\n"));
        if i < 2 {
            text.push_str("  +5m order total=50.00\n");
        }
    }
    let (app, business) = shop(&text);
    let found = insights(&app, &business, Some(march()));
    assert!(found.findings.iter().all(|f| f.kind != InsightKind::DropOff), "{found:?}");
    assert!(found.notes.iter().any(|n| n.starts_with("drop-off") && n.contains("under 30")), "{:?}", found.notes);
}

#[test]
fn the_demo_tops_with_the_boutiques_checkout_loss_and_names_the_coffee_shops_referral_channel() {
    let mut app = App::in_memory().unwrap();
    app.demo(&DemoOptions::default()).unwrap();
    let request = InsightsRequest { period: None, today: day("2026-11-23") };
    let boutique = app.insights(&app.business(Some("Thread & Needle")).unwrap(), &request).unwrap();
    let top = &boutique.findings[0];
    assert_eq!(top.kind, InsightKind::DropOff, "{:#?}", boutique.findings);
    assert!(top.title.contains("checkout") && top.title.contains("→ purchase"), "{}", top.title);
    let coffee = app.insights(&app.business(Some("Bean There Coffee")).unwrap(), &request).unwrap();
    let position = coffee.findings.iter().position(|f| f.kind == InsightKind::Channel).expect("a channel finding");
    let channel = &coffee.findings[position];
    assert!(channel.title.starts_with("Paid Social") && channel.title.contains("Referral"), "{}", channel.title);
    // Paid social's spend against what referral brings is the coffee shop's top finding.
    assert_eq!(position, 0, "{:#?}", coffee.findings);
    assert!(coffee.findings.iter().any(|f| f.kind == InsightKind::StaleMap));
    for finding in boutique.findings.iter().chain(&coffee.findings) {
        assert!(finding.n > 0 && finding.detail.contains(&format!("n = {}", finding.n)), "{finding:?}");
        assert_eq!(finding.customers.is_empty(), finding.kind == InsightKind::StaleMap, "{finding:?}");
        assert!(finding.customers.windows(2).all(|w| w[0] < w[1]));
    }
}

#[test]
fn a_business_with_events_but_no_orders_gets_a_note_not_an_error() {
    // A touchpoint with a condition on Awareness, and a visit, but no order.
    let (mut app, business) = shop("customer a\n  2026-03-02 10:00:00 page_view page=/home\n");
    let stages = app.store().stages(business.id).unwrap();
    let awareness = stages.iter().find(|s| s.name == "Awareness").map(|s| s.id);
    app.store_mut()
        .write::<StoreError>(&mut |w| {
            w.create_touchpoint(&Touchpoint {
                id: TouchpointId(0),
                business: business.id,
                name: "Home".into(),
                channel: TouchpointChannel::Web,
                stage: awareness,
                online: true,
                rule: EventRule::named("page_view").and(EventField::Page, Op::StartsWith("/home".into())),
                description: String::new(),
            })
            .map(|_| ())
        })
        .unwrap();
    // No order in the period: the drop-off is left out with a note, not an error.
    let found = insights(&app, &business, Some(march()));
    assert!(found.findings.is_empty(), "{found:?}");
    assert!(found.notes.iter().any(|n| n.contains("no orders")), "{:?}", found.notes);
}
