//! Tests of the attribution engine: every heuristic model hand-checked on fixture journeys, the
//! Markov chain's exact solve against independent computations (path enumeration and value
//! iteration) and textbook examples at orders 1 to 3, Shapley's efficiency, symmetry and a hand
//! example, sessions (page views inheriting the landing page's source, a second purchase in a
//! visit credited to it), and on seeded random journeys: credits that add up, and paths that
//! agree with a naive re-implementation of sessions.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::HashMap;
use trailmap_analytics::attribution::{
    Path, SESSION_GAP_MS, Touch, attribute, attribute_paths, build_paths, markov_chain, shapley_values,
};
use trailmap_analytics::{AttributionOptions, Journeys, Model, Period, SpendRow, TouchKey};
use trailmap_model::{CustomerId, EventRule, EventTable};
use trailmap_testkit::{FixtureRecord, journeys};

const DAY: i64 = 86_400_000;

/// The events of a fixture as the store would load them: customer n is the fixture's n-th block.
fn table(text: &str) -> EventTable {
    let fixture = journeys(text).expect("fixture parses");
    let mut t = EventTable { strings: vec!["".into()], ..Default::default() };
    let mut ids: HashMap<String, u32> = HashMap::new();
    let mut intern = |t: &mut EventTable, text: Option<&str>| -> u32 {
        let Some(text) = text else { return 0 };
        *ids.entry(text.to_string()).or_insert_with(|| {
            t.strings.push(text.into());
            (t.strings.len() - 1) as u32
        })
    };
    for record in &fixture.records {
        let FixtureRecord::Event { customer, event, .. } = record else { continue };
        let e = &event.event;
        t.customer.push(CustomerId(*customer as i64 + 1));
        t.time.push(e.time.0);
        let name = intern(&mut t, Some(&e.name));
        t.name.push(name);
        let channel = intern(&mut t, e.channel.as_deref());
        t.channel.push(channel);
        let source = intern(&mut t, e.source.as_deref());
        t.source.push(source);
        let campaign = intern(&mut t, e.campaign.as_deref());
        t.campaign.push(campaign);
        t.medium.push(0);
        t.referrer.push(0);
        t.page.push(0);
        t.currency.push(0);
        t.revenue_minor.push(e.revenue.map_or(0, |m| m.minor));
    }
    t
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

fn assert_credit(result: &trailmap_analytics::Attribution, model: Model, channel: &str, conversions: f64, revenue_minor: f64) {
    let credit = result.credit(model, channel).unwrap_or_else(|| panic!("{model:?} has no {channel}"));
    assert!(
        close(credit.conversions, conversions) && close(credit.revenue_minor, revenue_minor),
        "{model:?} {channel}: got {} conversions and {} revenue, expected {conversions} and {revenue_minor}",
        credit.conversions,
        credit.revenue_minor
    );
}

// Five conversions worth $210 in all:
// - alice: Paid Social, Organic Search, Direct a day apart, then a $100 purchase a day later;
// - bob: one Referral touch, a $50 purchase 7 days later (a single-touch path);
// - carol: a $20 purchase with no touch at all (no recorded touch);
// - dave: Email twice (repeated channel), the second at the same time as a $30 purchase and
//   recorded before it (so it counts); then a $10 purchase 39 days after his last touch (outside
//   the 30-day lookback, so no recorded touch); then a Paid Social visit that never converts.
const JOURNEYS: &str = r#"
customer alice
  2025-01-01 10:00:00 page_view channel="Paid Social"
  +1d page_view channel="Organic Search"
  +1d page_view channel=Direct
  +1d purchase revenue=100
customer bob
  2025-01-01 10:00:00 page_view channel=Referral
  +7d purchase revenue=50
customer carol
  2025-01-05 10:00:00 purchase revenue=20
customer dave
  2025-01-01 10:00:00 page_view channel=Email
  +1d page_view channel=Email
  +0s purchase revenue=30
  +39d purchase revenue=10
  +1d page_view channel="Paid Social"
"#;

fn fixture_result() -> trailmap_analytics::Attribution {
    let journeys = Journeys::new(table(JOURNEYS));
    attribute(&journeys, &AttributionOptions::default(), &[]).expect("attributes")
}

#[test]
fn first_last_and_last_non_direct_by_hand() {
    let r = fixture_result();
    assert_eq!((r.conversions, r.conversions_without_touch, r.revenue_minor), (5, 2, 21_000));
    for model in [Model::First, Model::Last, Model::LastNonDirect] {
        // bob, dave's first conversion and the two touchless ones are the same under every model.
        assert_credit(&r, model, "Referral", 1.0, 5_000.0);
        assert_credit(&r, model, "Email", 1.0, 3_000.0);
    }
    assert_eq!((r.without_touch.conversions, r.without_touch.revenue_minor), (2, 3_000));
    assert_eq!(r.without_touch.customers, vec![CustomerId(3), CustomerId(4)]);
    assert!(r.channels.iter().all(|c| c.channel != "(none)"), "no channel stands for the conversions without a touch");
    // alice's $100: first → Paid Social, last → Direct, last non-direct → Organic Search.
    assert_credit(&r, Model::First, "Paid Social", 1.0, 10_000.0);
    assert_credit(&r, Model::First, "Direct", 0.0, 0.0);
    assert_credit(&r, Model::Last, "Direct", 1.0, 10_000.0);
    assert_credit(&r, Model::Last, "Paid Social", 0.0, 0.0);
    assert_credit(&r, Model::LastNonDirect, "Organic Search", 1.0, 10_000.0);
    assert_credit(&r, Model::LastNonDirect, "Direct", 0.0, 0.0);
}

#[test]
fn linear_position_and_time_decay_by_hand() {
    let r = fixture_result();
    // Linear: a third each of alice's conversion; dave's two Email touches get half each, so 1.
    for channel in ["Paid Social", "Organic Search", "Direct"] {
        assert_credit(&r, Model::Linear, channel, 1.0 / 3.0, 10_000.0 / 3.0);
    }
    assert_credit(&r, Model::Linear, "Email", 1.0, 3_000.0);
    // Position: 40 / 20 / 40 over alice's three touches; two Email touches 50/50 → 1.
    assert_credit(&r, Model::Position, "Paid Social", 0.4, 4_000.0);
    assert_credit(&r, Model::Position, "Organic Search", 0.2, 2_000.0);
    assert_credit(&r, Model::Position, "Direct", 0.4, 4_000.0);
    assert_credit(&r, Model::Position, "Email", 1.0, 3_000.0);
    // Time decay, half-life 7 days: ages 3, 2 and 1 days give 2^(-3/7), 2^(-2/7), 2^(-1/7).
    let w = [2f64.powf(-3.0 / 7.0), 2f64.powf(-2.0 / 7.0), 2f64.powf(-1.0 / 7.0)];
    let total: f64 = w.iter().sum();
    for (channel, weight) in ["Paid Social", "Organic Search", "Direct"].into_iter().zip(w) {
        assert_credit(&r, Model::TimeDecay, channel, weight / total, 10_000.0 * weight / total);
    }
    assert_credit(&r, Model::TimeDecay, "Referral", 1.0, 5_000.0);
}

#[test]
fn every_model_adds_up_and_counts_customers_on_the_fixture() {
    let r = fixture_result();
    for model in &r.models {
        let conversions: f64 = model.credits.iter().map(|c| c.conversions).sum();
        let revenue: f64 = model.credits.iter().map(|c| c.revenue_minor).sum();
        let share: f64 = model.credits.iter().map(|c| c.share).sum();
        // The three conversions with a touch, worth $180; the two without one are apart.
        assert!(close(conversions, 3.0) && close(revenue, 18_000.0) && close(share, 1.0), "{:?}", model.model);
    }
    // Paid Social: alice (converting) and dave (his trailing, non-converting path).
    let facts = |name: &str| r.channels.iter().find(|c| c.channel == name).expect("channel");
    assert_eq!(facts("Paid Social").customers, 2);
    assert_eq!(facts("Paid Social").converting_customers, vec![CustomerId(1)]);
    assert_eq!((r.converting_paths, r.non_converting_paths), (5, 1));
}

#[test]
fn touches_since_the_previous_conversion_only_and_ties_keep_recorded_order() {
    // The first purchase takes the Email touch; the second, 2 days later, only the Referral
    // touch after it. The Paid Social touch recorded after the second purchase at the same time
    // waits for the third purchase.
    let text = r#"
customer x
  2025-03-01 10:00:00 page_view channel=Email
  +1h purchase revenue=10
  +2d page_view channel=Referral
  +1h purchase revenue=20
  +0s page_view channel="Paid Social"
  +1d purchase revenue=30
"#;
    let journeys = Journeys::new(table(text));
    let (names, paths) = build_paths(&journeys, &AttributionOptions::default()).expect("paths");
    let channels: Vec<Vec<&str>> =
        paths.iter().map(|p| p.touches.iter().map(|t| names[t.channel as usize].as_str()).collect()).collect();
    assert_eq!(channels, vec![vec!["Email"], vec!["Referral"], vec!["Paid Social"]]);
    // Only the first purchase with --new-customers; the touches after it form a non-converting path.
    let options = AttributionOptions { new_customers_only: true, ..Default::default() };
    let (_, paths) = build_paths(&journeys, &options).expect("paths");
    assert_eq!(paths.len(), 2);
    assert_eq!(paths[0].conversion, Some((journeys.table().time[1], 1_000)));
    assert_eq!((paths[1].conversion, paths[1].touches.len()), (None, 2));
}

#[test]
fn by_source_and_by_touchpoint() {
    let text = r#"
customer a
  2025-03-01 10:00:00 page_view channel="Paid Social" source=instagram
  +1h store_visit channel=Referral source=friend
  +1h purchase revenue=10
"#;
    let journeys = Journeys::new(table(text));
    let options = AttributionOptions { by: TouchKey::Source, models: vec![Model::First], ..Default::default() };
    let r = attribute(&journeys, &options, &[]).expect("attributes");
    assert_credit(&r, Model::First, "instagram", 1.0, 1_000.0);
    let rules = vec![
        ("Counter".to_string(), EventRule::named("store_visit")),
        ("Website".to_string(), EventRule::named("page_view")),
    ];
    let options = AttributionOptions { by: TouchKey::Touchpoint(rules), models: vec![Model::Last], ..Default::default() };
    let r = attribute(&journeys, &options, &[]).expect("attributes");
    assert_credit(&r, Model::Last, "Counter", 1.0, 1_000.0);
    assert_credit(&r, Model::Last, "Website", 0.0, 0.0);
}

#[test]
fn spend_is_prorated_by_days_and_gives_cpa_and_roas() {
    // January 2025 is days 20089..=20119 since the epoch; $310 of Paid Social over it.
    let jan1 = 20_089;
    let spend = vec![SpendRow { channel: "paid social".into(), start_day: jan1, end_day: jan1 + 30, amount_minor: 31_000 }];
    let journeys = Journeys::new(table(JOURNEYS));
    let r = attribute(&journeys, &AttributionOptions::default(), &spend).expect("attributes");
    let first = r.credit(Model::First, "Paid Social").expect("credit");
    // Without a period the row counts whole: CPA $310 per conversion, ROAS $100 / $310.
    assert_eq!(first.spend_minor, 31_000.0);
    assert_eq!(first.cpa_minor, Some(31_000.0));
    assert!(close(first.roas.unwrap_or(0.0), 10_000.0 / 31_000.0));
    assert_eq!(r.credit(Model::Last, "Paid Social").map(|c| c.cpa_minor), Some(None), "no credit, no CPA");
    assert_eq!(r.credit(Model::Last, "Email").map(|c| c.roas), Some(None), "no spend, no ROAS");
    // A period from January 16 to February 28: 16 of the row's 31 days overlap.
    let period = Period { start_ms: (jan1 + 15) * DAY, end_ms: (jan1 + 59) * DAY };
    let options = AttributionOptions { period: Some(period), ..Default::default() };
    let r = attribute(&journeys, &options, &spend).expect("attributes");
    assert!(close(r.credit(Model::First, "Paid Social").expect("credit").spend_minor, 31_000.0 * 16.0 / 31.0));
    // Only dave's second purchase (February 10) falls in the period.
    assert_eq!((r.conversions, r.revenue_minor), (1, 1_000));
}

#[test]
fn bad_options_are_named() {
    let journeys = Journeys::new(table(JOURNEYS));
    for (options, name) in [
        (AttributionOptions { markov_order: 4, ..Default::default() }, "markov-order"),
        (AttributionOptions { lookback_ms: 0, ..Default::default() }, "lookback"),
        (AttributionOptions { half_life_ms: -1, ..Default::default() }, "half-life"),
        (AttributionOptions { conversion: EventRule::default(), ..Default::default() }, "conversion"),
        (AttributionOptions { period: Some(Period { start_ms: 5, end_ms: 5 }), ..Default::default() }, "period"),
    ] {
        let error = attribute(&journeys, &options, &[]).expect_err("refused").to_string();
        assert!(error.starts_with(name), "{error}");
    }
}

fn paths(list: &[(&[usize], bool)]) -> Vec<(Vec<usize>, bool)> {
    list.iter().map(|(p, c)| (p.to_vec(), *c)).collect()
}

#[test]
fn markov_textbook_example() {
    // The classic three-channel example (Bryl, "Marketing Multi-Channel Attribution model with
    // R", analyzecore.com 2016): C1→C2→C3→conversion, C1→null, C2→C3→null. By hand:
    // P(conv) = (2/3·1/2 + 1/3)·1/2 = 1/3; without C1 only start→C2→C3 remains: 1/3·1/2 = 1/6,
    // removal effect 1/2; without C2 or C3 nothing converts: effect 1. Credits 0.2, 0.4, 0.4.
    let chain = markov_chain(&paths(&[(&[0, 1, 2], true), (&[0], false), (&[1, 2], false)]), 3, 1);
    assert!(close(chain.conversion_probability, 1.0 / 3.0));
    assert!(close(chain.removal_effects[0], 0.5) && close(chain.removal_effects[1], 1.0) && close(chain.removal_effects[2], 1.0));
    let names: Vec<String> = ["C1", "C2", "C3"].iter().map(|s| s.to_string()).collect();
    let as_paths = |list: &[(&[usize], bool)]| -> Vec<Path> {
        list.iter()
            .enumerate()
            .map(|(i, (channels, converted))| Path {
                customer: CustomerId(i as i64),
                touches: channels.iter().map(|&channel| Touch { channel: channel as u32, time: 0, direct: false }).collect(),
                conversion: converted.then_some((0, 900)),
            })
            .collect()
    };
    let options = AttributionOptions { models: vec![Model::Markov], ..Default::default() };
    let r = attribute_paths(&names, &as_paths(&[(&[0, 1, 2], true), (&[0], false), (&[1, 2], false)]), &options, &[]);
    assert_credit(&r, Model::Markov, "C1", 0.2, 180.0);
    assert_credit(&r, Model::Markov, "C2", 0.4, 360.0);
    assert_credit(&r, Model::Markov, "C3", 0.4, 360.0);
}

#[test]
fn markov_order_two_and_three_see_what_order_one_cannot() {
    // Paths A→B→conv, B→A→null, A→null. Order 1 (by hand): x_A = x_B/3, x_B = 1/2 + x_A/2, so
    // x_B = 3/5, x_A = 1/5, P = 2/3·1/5 + 1/3·3/5 = 1/3; without A, P = 1/3·1/2 = 1/6 (effect 1/2);
    // without B nothing converts (effect 1). Order 2 keeps "A then B" apart from "B then A": each
    // channel's removal kills the only converting chain, effects 1 and 1.
    let data = paths(&[(&[0, 1], true), (&[1, 0], false), (&[0], false)]);
    let one = markov_chain(&data, 2, 1);
    assert!(close(one.conversion_probability, 1.0 / 3.0));
    assert!(close(one.removal_effects[0], 0.5) && close(one.removal_effects[1], 1.0));
    let two = markov_chain(&data, 2, 2);
    assert!(close(two.conversion_probability, 1.0 / 3.0));
    assert!(close(two.removal_effects[0], 1.0) && close(two.removal_effects[1], 1.0));
    // Paths A→B→C→conv and B→B→C→null. Orders 1 and 2 share the state ending in C (order 2:
    // "B,C"), so removing A keeps P = 1/4 of 1/2 (effect 1/2); order 3 tells "A,B,C" from
    // "B,B,C" and every channel's removal kills the conversion (effects 1, 1, 1).
    let data = paths(&[(&[0, 1, 2], true), (&[1, 1, 2], false)]);
    for order in [1, 2] {
        let chain = markov_chain(&data, 3, order);
        assert!(close(chain.conversion_probability, 0.5), "order {order}");
        assert!(close(chain.removal_effects[0], 0.5) && close(chain.removal_effects[1], 1.0), "order {order}");
    }
    let three = markov_chain(&data, 3, 3);
    assert!(three.removal_effects.iter().all(|&e| close(e, 1.0)), "{:?}", three.removal_effects);
}

/// An independent Markov computation: transition probabilities counted separately, absorption
/// probabilities by value iteration (`x ← r + Q x`) rather than a linear solve.
fn markov_by_iteration(data: &[(Vec<usize>, bool)], channels: usize, order: usize) -> (f64, Vec<f64>) {
    let mut counts: HashMap<Vec<usize>, HashMap<Option<Vec<usize>>, f64>> = HashMap::new();
    let conv = vec![usize::MAX];
    for (path, converted) in data.iter().filter(|(p, _)| !p.is_empty()) {
        let mut state: Vec<usize> = Vec::new();
        for (i, _) in path.iter().enumerate() {
            let next: Vec<usize> = path[(i + 1).saturating_sub(order)..=i].to_vec();
            *counts.entry(state).or_default().entry(Some(next.clone())).or_default() += 1.0;
            state = next;
        }
        let end = if *converted { Some(conv.clone()) } else { None };
        *counts.entry(state).or_default().entry(end).or_default() += 1.0;
    }
    let probability = |removed: Option<usize>| -> f64 {
        let mut x: HashMap<&Vec<usize>, f64> = counts.keys().map(|k| (k, 0.0)).collect();
        for _ in 0..1_500 {
            let mut next = HashMap::new();
            for (state, out) in &counts {
                let total: f64 = out.values().sum();
                let value = if removed.is_some_and(|c| state.contains(&c)) {
                    0.0
                } else {
                    out.iter()
                        .map(|(to, n)| match to {
                            Some(t) if *t == conv => n / total,
                            Some(t) => n / total * x.get(t).copied().unwrap_or(0.0),
                            None => 0.0,
                        })
                        .sum()
                };
                next.insert(state, value);
            }
            x = next;
        }
        x.get(&Vec::new()).copied().unwrap_or(0.0)
    };
    let full = probability(None);
    let effects = (0..channels).map(|c| if full > 0.0 { 1.0 - probability(Some(c)) / full } else { 0.0 }).collect();
    (full, effects)
}

fn random_paths(rng: &mut ChaCha8Rng, count: usize, channels: usize) -> Vec<(Vec<usize>, bool)> {
    (0..count)
        .map(|_| {
            let len = rng.random_range(1..=5);
            // Channel 0 converts more often, so removal effects differ.
            let path: Vec<usize> = (0..len).map(|_| rng.random_range(0..channels)).collect();
            let converted = rng.random_bool(if path.contains(&0) { 0.5 } else { 0.2 });
            (path, converted)
        })
        .collect()
}

#[test]
fn markov_exact_solve_equals_value_iteration_on_seeded_paths() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for order in 1..=3 {
        for _ in 0..3 {
            let data = random_paths(&mut rng, 60, 4);
            let chain = markov_chain(&data, 4, order);
            let (full, effects) = markov_by_iteration(&data, 4, order);
            assert!((chain.conversion_probability - full).abs() < 1e-9, "order {order}: {} vs {full}", chain.conversion_probability);
            for (a, b) in chain.removal_effects.iter().zip(&effects) {
                assert!((a - b).abs() < 1e-9, "order {order}: {:?} vs {effects:?}", chain.removal_effects);
            }
        }
    }
}

#[test]
fn markov_exact_solve_equals_path_enumeration_on_an_acyclic_chain() {
    // Channels only ever go up (0 → 1 → 2 → 3), so the chain is acyclic and the probability of
    // conversion is the sum over every route from the start of the product of its transitions.
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let data: Vec<(Vec<usize>, bool)> = (0..80)
        .map(|_| {
            let mut path: Vec<usize> = (0..4).filter(|_| rng.random_bool(0.5)).collect();
            if path.is_empty() {
                path.push(rng.random_range(0..4));
            }
            let converted = rng.random_bool(0.1 + 0.2 * path.len() as f64);
            (path, converted)
        })
        .collect();
    // Counts from start (index 4) and channels to channels, conversion (5) and null (6).
    let mut counts = [[0.0f64; 7]; 5];
    for (path, converted) in &data {
        let mut from = 4;
        for &c in path {
            counts[from][c] += 1.0;
            from = c;
        }
        counts[from][if *converted { 5 } else { 6 }] += 1.0;
    }
    fn routes(counts: &[[f64; 7]; 5], from: usize, removed: Option<usize>) -> f64 {
        let total: f64 = counts[from].iter().sum();
        if total == 0.0 || removed == Some(from) {
            return 0.0;
        }
        let mut p = counts[from][5] / total;
        for to in 0..4 {
            if counts[from][to] > 0.0 {
                p += counts[from][to] / total * routes(counts, to, removed);
            }
        }
        p
    }
    let full = routes(&counts, 4, None);
    let chain = markov_chain(&data, 4, 1);
    assert!((chain.conversion_probability - full).abs() < 1e-12);
    for c in 0..4 {
        let expected = 1.0 - routes(&counts, 4, Some(c)) / full;
        assert!((chain.removal_effects[c] - expected).abs() < 1e-12, "channel {c}");
    }
}

#[test]
fn shapley_hand_example_symmetry_and_efficiency() {
    // One conversion touched only A, one touched A and B: v(A) = 1, v(B) = 0, v(AB) = 2.
    // φ_A = ½(v(A) − v(∅)) + ½(v(AB) − v(B)) = ½ + 1 = 1.5; φ_B = ½·0 + ½(2 − 1) = 0.5.
    let (values, sampled) = shapley_values(&[0b01, 0b11], &[1.0, 1.0], 2);
    assert!(!sampled && close(values[0], 1.5) && close(values[1], 0.5), "{values:?}");
    // Symmetry: channels that always appear together share equally.
    let (values, _) = shapley_values(&[0b110, 0b001], &[3.0, 1.0], 3);
    assert!(close(values[1], values[2]) && close(values[1], 1.5) && close(values[0], 1.0), "{values:?}");
}

#[test]
fn shapley_exact_equals_the_unanimity_split_and_sampling_stays_close() {
    // With v(S) = conversions whose set lies in S, v is a sum of unanimity games, so each
    // conversion's Shapley value is split equally among the channels it touched: an independent
    // closed form to compare with the coalition enumeration.
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    for players in [1usize, 4, 9, 15, 18] {
        let sets: Vec<u64> = (0..40).map(|_| rng.random_range(1..(1u64 << players))).collect();
        let weights: Vec<f64> = (0..40).map(|_| f64::from(rng.random_range(1..4u32))).collect();
        let mut expected = vec![0.0; players];
        for (&set, &w) in sets.iter().zip(&weights) {
            for (p, e) in expected.iter_mut().enumerate() {
                if set & (1 << p) != 0 {
                    *e += w / f64::from(set.count_ones());
                }
            }
        }
        let (values, sampled) = shapley_values(&sets, &weights, players);
        assert_eq!(sampled, players > 15);
        let total: f64 = weights.iter().sum();
        assert!((values.iter().sum::<f64>() - total).abs() < 1e-6, "efficiency with {players} players");
        let tolerance = if sampled { 0.05 * total } else { 1e-9 };
        for (v, e) in values.iter().zip(&expected) {
            assert!((v - e).abs() < tolerance, "{players} players: {values:?} vs {expected:?}");
        }
    }
}

/// Random journeys: page views on five channels (one of them Direct), purchases with revenue.
fn random_table(rng: &mut ChaCha8Rng) -> EventTable {
    let channels = ["Direct", "Email", "Paid Social", "Referral", "Organic Search"];
    let mut text = String::new();
    for customer in 0..60 {
        text.push_str(&format!("customer c{customer}\n  2025-01-01 00:00:00 signup\n"));
        for _ in 0..rng.random_range(0..12) {
            // Days apart (a new session) or minutes apart (often the same one).
            let gap = if rng.random_bool(0.5) { format!("{}d", rng.random_range(0..20)) } else { format!("{}m", rng.random_range(0..50)) };
            if rng.random_bool(0.3) {
                text.push_str(&format!("  +{gap} purchase revenue={}\n", rng.random_range(1..200)));
            } else if rng.random_bool(0.3) {
                // An event with no source of its own, as a page view after the landing page.
                text.push_str(&format!("  +{gap} add_to_cart\n"));
            } else {
                let channel = channels[rng.random_range(0..channels.len())];
                text.push_str(&format!("  +{gap} page_view channel=\"{channel}\"\n"));
            }
        }
    }
    table(&text)
}

#[test]
fn every_model_adds_up_on_seeded_random_journeys() {
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    for round in 0..4 {
        let journeys = Journeys::new(random_table(&mut rng));
        let options = AttributionOptions { markov_order: round % 3 + 1, ..Default::default() };
        let r = attribute(&journeys, &options, &[]).expect("attributes");
        assert!(r.conversions > 0);
        for model in &r.models {
            let conversions: f64 = model.credits.iter().map(|c| c.conversions).sum::<f64>() + r.without_touch.conversions as f64;
            let revenue: f64 = model.credits.iter().map(|c| c.revenue_minor).sum::<f64>() + r.without_touch.revenue_minor as f64;
            assert!((conversions - r.conversions as f64).abs() < 1e-6, "round {round} {:?}: {conversions}", model.model);
            assert!((revenue - r.revenue_minor as f64).abs() < 1e-3, "round {round} {:?}: {revenue}", model.model);
        }
    }
}

#[test]
fn first_and_linear_agree_with_a_naive_rescan_on_seeded_random_journeys() {
    // A re-implementation that shares nothing with build_paths: number each customer's sessions
    // (a gap over 30 minutes starts one), take each session's source from its first non-purchase
    // event with a channel, then for each purchase keep the sources of the sessions that started
    // after the previous purchase within 30 days, and its own session's.
    let mut rng = ChaCha8Rng::seed_from_u64(99);
    for _ in 0..4 {
        let journeys = Journeys::new(random_table(&mut rng));
        let t = journeys.table();
        let mut first: HashMap<String, f64> = HashMap::new();
        let mut linear: HashMap<String, f64> = HashMap::new();
        let mut none = 0.0;
        for journey in journeys.iter() {
            let rows: Vec<usize> = journey.rows.clone().collect();
            let is_purchase = |r: usize| t.string(t.name[r]) == "purchase";
            let mut session_of = vec![0usize; rows.len()];
            for i in 1..rows.len() {
                session_of[i] = session_of[i - 1] + usize::from(t.time[rows[i]] - t.time[rows[i - 1]] > SESSION_GAP_MS);
            }
            // Per session: the index of its source event, if any.
            let source = |session: usize| (0..rows.len()).find(|&i| session_of[i] == session && !is_purchase(rows[i]) && t.channel[rows[i]] != 0);
            for (i, &row) in rows.iter().enumerate() {
                if !is_purchase(row) {
                    continue;
                }
                let start = rows[..i].iter().rposition(|&r| is_purchase(r)).map_or(0, |p| p + 1);
                let mut sources: Vec<usize> = (0..=session_of[i])
                    .filter_map(source)
                    .filter(|&s| (s >= start && s < i && t.time[rows[s]] >= t.time[row] - 30 * DAY) || (session_of[s] == session_of[i] && s < i))
                    .collect();
                sources.dedup();
                let touches: Vec<&str> = sources.iter().map(|&s| t.string(t.channel[rows[s]])).collect();
                if touches.is_empty() {
                    none += 1.0;
                    continue;
                }
                *first.entry(touches[0].to_string()).or_default() += 1.0;
                for channel in &touches {
                    *linear.entry(channel.to_string()).or_default() += 1.0 / touches.len() as f64;
                }
            }
        }
        let r = attribute(&journeys, &AttributionOptions { models: vec![Model::First, Model::Linear], ..Default::default() }, &[])
            .expect("attributes");
        assert_eq!(r.without_touch.conversions as f64, none);
        for (model, expected) in [(Model::First, &first), (Model::Linear, &linear)] {
            for credit in &r.model(model).expect("model").credits {
                let want = expected.get(&credit.channel).copied().unwrap_or(0.0);
                assert!((credit.conversions - want).abs() < 1e-9, "{model:?} {}: {} vs {want}", credit.channel, credit.conversions);
            }
        }
    }
}

/// A touch is a session's source. Page views after the landing page (here given the "Direct"
/// channel an import gives a page view with no referrer) inherit it; a new session (after 30
/// minutes) that starts with no source is Direct; a purchase is credited to its session, a
/// second purchase in the same visit too; an event without a source does not start one.
#[test]
fn page_views_inherit_their_sessions_source() {
    let text = r#"
customer ann
  2025-03-01 10:00:00 page_view channel="Paid Social" source=instagram campaign=spring
  +2m page_view channel=Direct source=(direct)
  +3m add_to_cart
  +10m page_view channel=Direct source=(direct)
  +1m purchase revenue=40
  +5m purchase revenue=10
customer ben
  2025-03-01 10:00:00 page_view channel="Organic Search" source=google
  +29m page_view channel=Direct source=(direct)
  +31m page_view channel=Direct source=(direct)
  +5m purchase revenue=20
customer cal
  2025-03-01 10:00:00 add_to_cart
  +1m page_view channel=Referral source=friend
  +1m purchase revenue=30
"#;
    let journeys = Journeys::new(table(text));
    let (names, paths) = build_paths(&journeys, &AttributionOptions::default()).expect("paths");
    let channels: Vec<(i64, Vec<&str>)> = paths
        .iter()
        .map(|p| (p.conversion.map_or(0, |c| c.1), p.touches.iter().map(|t| names[t.channel as usize].as_str()).collect()))
        .collect();
    assert_eq!(
        channels,
        vec![
            // ann: one session from the ad; both purchases in it are the ad's.
            (4_000, vec!["Paid Social"]),
            (1_000, vec!["Paid Social"]),
            // ben: search, then 31 minutes of nothing, so a Direct session: two touches.
            (2_000, vec!["Organic Search", "Direct"]),
            // cal: the add to cart carries no source; the referral page view is the session's.
            (3_000, vec!["Referral"]),
        ]
    );
    let r = attribute(&journeys, &AttributionOptions::default(), &[]).expect("attributes");
    assert_credit(&r, Model::Last, "Paid Social", 2.0, 5_000.0);
    assert_credit(&r, Model::Last, "Direct", 1.0, 2_000.0);
    assert_credit(&r, Model::LastNonDirect, "Organic Search", 1.0, 2_000.0);
    assert_eq!(r.without_touch.conversions, 0);
    // By campaign: only ann's session has one; ben's and cal's sessions make no campaign touch.
    let options = AttributionOptions { by: TouchKey::Campaign, models: vec![Model::First], ..Default::default() };
    let r = attribute(&journeys, &options, &[]).expect("attributes");
    assert_credit(&r, Model::First, "spring", 2.0, 5_000.0);
    assert_eq!((r.without_touch.conversions, r.without_touch.customers.clone()), (2, vec![CustomerId(2), CustomerId(3)]));
    // By touchpoint: a touchpoint counts once per session however many of its events it holds.
    let rules = vec![("Pages".to_string(), EventRule::named("page_view")), ("Cart".to_string(), EventRule::named("add_to_cart"))];
    let options = AttributionOptions { by: TouchKey::Touchpoint(rules), models: vec![Model::Linear], ..Default::default() };
    let (names, paths) = build_paths(&journeys, &options).expect("paths");
    let ann: Vec<&str> = paths[0].touches.iter().map(|t| names[t.channel as usize].as_str()).collect();
    assert_eq!(ann, vec!["Pages", "Cart"]);
}
