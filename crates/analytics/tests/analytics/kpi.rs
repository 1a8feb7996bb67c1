//! The dashboard's metrics (`kpi`): a fixture with every number worked out by hand, and a seeded
//! random log where a naive per-customer recount must agree with the engine.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use trailmap_analytics::kpi::{EventActivity, kpis_of_activity, KpiQuery, OrderFact, RatingFact, Scale, Window, kpis};
use trailmap_analytics::Journeys;
use trailmap_model::{CustomerId, EventTable};
use trailmap_testkit::{FixtureRecord, journeys};

const DAY: i64 = 86_400_000;
/// 2026-01-01T00:00:00Z.
const JAN1: i64 = 1_767_225_600_000;

/// Events (as a table: name and channel) and orders of a fixture; customer `i` gets id `i + 1`.
fn facts(text: &str) -> (Journeys, Vec<OrderFact>) {
    let fixture = journeys(text).expect("a valid fixture");
    let mut table = EventTable { strings: vec!["".into()], ..Default::default() };
    let mut orders = Vec::new();
    for record in &fixture.records {
        match record {
            FixtureRecord::Event { customer, event, .. } => {
                let e = &event.event;
                let channel = e.channel.clone().unwrap_or_default();
                let id = match table.strings.iter().position(|s| **s == *channel) {
                    Some(i) => i as u32,
                    None => {
                        table.strings.push(channel.as_str().into());
                        (table.strings.len() - 1) as u32
                    }
                };
                table.customer.push(CustomerId(*customer as i64 + 1));
                table.time.push(e.time.millis());
                for column in [&mut table.name, &mut table.source, &mut table.medium, &mut table.campaign, &mut table.referrer, &mut table.page, &mut table.currency] {
                    column.push(0);
                }
                table.channel.push(id);
                table.revenue_minor.push(0);
            }
            FixtureRecord::Order { customer, order, .. } => orders.push(OrderFact {
                customer: CustomerId(*customer as i64 + 1),
                time: order.time.millis(),
                total_minor: order.total.minor,
            }),
        }
    }
    (Journeys::new(table), orders)
}

fn window(from_day: i64, to_day: i64) -> Window {
    Window { start: JAN1 + from_day * DAY, end: JAN1 + to_day * DAY }
}

fn ids(list: &[i64]) -> Vec<CustomerId> {
    list.iter().map(|i| CustomerId(*i)).collect()
}

#[test]
fn dashboard_metrics_by_hand() {
    // Period: January 8-14 (days 7..14); previous: January 1-7 (days 0..7).
    let (journeys, orders) = facts(
        "customer ann
           2026-01-02 10:00:00 page_view channel=Referral
           2026-01-09 10:00:00 page_view channel=Direct
           +1h order total=20.00
         customer bob
           2026-01-08 09:00:00 page_view channel=\"Paid Social\"
           +1h order total=10.00
           +1d order total=30.00
         customer cy
           2026-01-10 09:00:00 page_view channel=Referral
         customer dee
           2026-01-03 12:00:00 order total=50.00
           2026-01-12 12:00:00 order total=40.00
         customer eve
           2026-01-14 23:59:59 page_view channel=Referral
           2026-01-15 00:00:00 order total=99.00",
    );
    let ratings = [
        RatingFact { customer: Some(CustomerId(1)), time: JAN1 + 8 * DAY, scale: Scale::Nps, score: 10.0 },
        RatingFact { customer: Some(CustomerId(2)), time: JAN1 + 9 * DAY, scale: Scale::Nps, score: 7.0 },
        RatingFact { customer: Some(CustomerId(3)), time: JAN1 + 9 * DAY, scale: Scale::Nps, score: 3.0 },
        RatingFact { customer: None, time: JAN1 + 10 * DAY, scale: Scale::Nps, score: 9.0 },
        RatingFact { customer: Some(CustomerId(4)), time: JAN1 + 10 * DAY, scale: Scale::Csat, score: 4.0 },
        RatingFact { customer: Some(CustomerId(1)), time: JAN1 + 10 * DAY, scale: Scale::Csat, score: 2.0 },
        RatingFact { customer: Some(CustomerId(1)), time: JAN1 + DAY, scale: Scale::Csat, score: 5.0 },
    ];
    let query = KpiQuery { current: window(7, 14), previous: window(0, 7), buckets: (7..14).map(|d| window(d, d + 1)).collect() };
    let report = kpis(&journeys, &orders, &ratings, &query);
    let m = |key: &str| report.metric(key).expect("a metric");

    // New: bob (Jan 8), cy (Jan 10), eve (Jan 14 23:59:59); ann and dee started in the previous week.
    assert_eq!((m("new_customers").current.value, m("new_customers").current.n), (Some(3.0), 3));
    assert_eq!(m("new_customers").customers, ids(&[2, 3, 5]));
    assert_eq!((m("new_customers").previous.value, m("new_customers").previous.n), (Some(2.0), 2));
    let trend: Vec<Option<f64>> = m("new_customers").trend.iter().map(|t| t.value).collect();
    assert_eq!(trend, vec![Some(1.0), Some(0.0), Some(1.0), Some(0.0), Some(0.0), Some(0.0), Some(1.0)]);
    let channels: Vec<(&str, u64, u64)> = report.new_by_channel.iter().map(|c| (c.channel.as_str(), c.current, c.previous)).collect();
    // Dee has no events: her channel is "(none)".
    assert_eq!(channels, vec![("Referral", 2, 1), ("Paid Social", 1, 0), ("(none)", 0, 1)]);

    // Active this week: ann, bob, cy, dee, eve (eve's order is on the 15th, outside); buyers: ann, bob, dee.
    assert_eq!((m("conversion_rate").current.value, m("conversion_rate").current.n), (Some(0.6), 5));
    assert_eq!(m("conversion_rate").customers, ids(&[1, 2, 4]));
    assert_eq!(m("conversion_rate").sample, ids(&[1, 2, 3, 4, 5]));
    // Previous week: active ann and dee, dee bought.
    assert_eq!((m("conversion_rate").previous.value, m("conversion_rate").previous.n), (Some(0.5), 2));
    // Repeat: bob (two orders this week) and dee (one before, one now); ann has one order.
    assert_eq!(m("repeat_rate").customers, ids(&[2, 4]));
    assert_eq!(m("repeat_rate").current.n, 3);
    assert!((m("repeat_rate").current.value.expect("buyers") - 2.0 / 3.0).abs() < 1e-12);
    // Orders this week: 20 + 10 + 30 + 40 = 100.00 over 4.
    assert_eq!((m("revenue").current.value, m("revenue").current.n), (Some(10_000.0), 4));
    assert_eq!((m("average_order_value").current.value, m("average_order_value").current.n), (Some(2_500.0), 4));
    assert_eq!((m("average_order_value").previous.value, m("average_order_value").previous.n), (Some(5_000.0), 1));
    // NPS: promoters 10 and 9, passive 7, detractor 3: (2 - 1) / 4 = +25.
    assert_eq!((m("nps").current.value, m("nps").current.n), (Some(25.0), 4));
    assert_eq!(m("nps").customers, ids(&[1]), "the anonymous promoter counts in the score but has no customer");
    assert_eq!((m("nps").previous.value, m("nps").previous.n), (None, 0), "no answers: no score");
    // CSAT: 4 is satisfied, 2 is not: 50%; last week's 5: 100%.
    assert_eq!((m("csat").current.value, m("csat").current.n), (Some(0.5), 2));
    assert_eq!((m("csat").previous.value, m("csat").previous.n), (Some(1.0), 1));
}

/// A seeded random log for the tests below: up to 39 customers, each with up to five page views
/// (a third without a channel: "(none)" is a first channel too) and orders over twenty days from
/// January 1st, as the fixture language's text, with every event's (customer, time) and every
/// order's (customer, time, cents) for the naive recounts.
struct RandomLog {
    text: String,
    customers: i64,
    events: Vec<(i64, i64)>,
    orders: Vec<(i64, i64, i64)>,
}

fn random_log(rng: &mut ChaCha8Rng) -> RandomLog {
    let customers = rng.random_range(1..40i64);
    let mut log = RandomLog { text: String::new(), customers, events: Vec::new(), orders: Vec::new() };
    for c in 1..=customers {
        log.text.push_str(&format!("customer c{c}\n"));
        let mut t = JAN1 + rng.random_range(0..20 * DAY);
        for _ in 0..rng.random_range(0..6) {
            t += rng.random_range(0..4 * DAY);
            let date = trailmap_model::Timestamp(t).to_rfc3339();
            if rng.random_bool(0.3) {
                let cents = rng.random_range(100..10_000i64);
                log.text.push_str(&format!("  {date} order total={}.{:02}\n", cents / 100, cents % 100));
                log.orders.push((c, t, cents));
            } else {
                let channel = ["channel=Direct", "channel=Email", ""][rng.random_range(0..3)];
                log.text.push_str(&format!("  {date} page_view {channel}\n"));
                log.events.push((c, t));
            }
        }
    }
    log
}

#[test]
fn metrics_agree_with_a_naive_recount_on_random_logs() {
    let mut rng = ChaCha8Rng::seed_from_u64(17);
    for round in 0..20 {
        let RandomLog { text, customers, events, orders } = random_log(&mut rng);
        let (journeys, order_facts) = facts(&text);
        let current = window(10, 20);
        let previous = window(0, 10);
        let report = kpis(&journeys, &order_facts, &[], &KpiQuery { current, previous, buckets: vec![] });
        let m = |key: &str| report.metric(key).expect("a metric");
        let inside = |t: i64| current.start <= t && t < current.end;
        let first = |c: i64| events.iter().filter(|e| e.0 == c).map(|e| e.1).chain(orders.iter().filter(|o| o.0 == c).map(|o| o.1)).min();
        let new: Vec<i64> = (1..=customers).filter(|c| first(*c).is_some_and(inside)).collect();
        assert_eq!(m("new_customers").customers, ids(&new), "round {round}");
        let active: Vec<i64> = (1..=customers)
            .filter(|c| events.iter().any(|e| e.0 == *c && inside(e.1)) || orders.iter().any(|o| o.0 == *c && inside(o.1)))
            .collect();
        let buyers: Vec<i64> = (1..=customers).filter(|c| orders.iter().any(|o| o.0 == *c && inside(o.1))).collect();
        assert_eq!(m("conversion_rate").sample, ids(&active), "round {round}");
        assert_eq!(m("conversion_rate").customers, ids(&buyers), "round {round}");
        let repeat: Vec<i64> =
            buyers.iter().copied().filter(|c| orders.iter().filter(|o| o.0 == *c && o.1 < current.end).count() >= 2).collect();
        assert_eq!(m("repeat_rate").customers, ids(&repeat), "round {round}");
        let revenue: i64 = orders.iter().filter(|o| inside(o.1)).map(|o| o.2).sum();
        assert_eq!(m("revenue").current.value, Some(revenue as f64), "round {round}");
        assert_eq!(m("revenue").current.n, orders.iter().filter(|o| inside(o.1)).count() as u64, "round {round}");
    }
}

/// An activity holding only the first events `EventActivity::first` must hold (customers new at
/// or after the first bound, and customers with events who buy then), as ClickHouse answers it,
/// gives the report of the whole activity, buckets included.
#[test]
fn the_least_activity_the_contract_allows_gives_the_same_report() {
    let mut rng = ChaCha8Rng::seed_from_u64(29);
    let mut dropped = 0;
    for round in 0..30 {
        let text = random_log(&mut rng).text;
        let (journeys, orders) = facts(&text);
        // The windows start on the seventh day: customers seen before it are in the log, and
        // dropping the first events of those who buy later changes the report (they would look
        // new), which the assertion below catches.
        let buckets = (13..20).map(|d| window(d, d + 1)).collect();
        let query = KpiQuery { current: window(13, 20), previous: window(6, 13), buckets };
        let whole = EventActivity::of_journeys(&journeys, &query.bounds());
        let start = query.bounds()[0];
        let mut least = whole.clone();
        least.first.retain(|c, (time, _)| *time >= start || orders.iter().any(|o| o.customer == *c && o.time >= start));
        assert!(least.first.len() <= whole.first.len());
        dropped += whole.first.len() - least.first.len();
        assert_eq!(kpis_of_activity(&least, &orders, &[], &query), kpis(&journeys, &orders, &[], &query), "round {round}");
    }
    assert!(dropped > 0, "no round left a first event out: the comparison proved nothing");
}
