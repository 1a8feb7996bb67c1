//! Retention pushed down to ClickHouse against a real cluster (the two-shard rig
//! TRAILMAP_TEST_CLICKHOUSE names; skipped without it): the per-buyer rows the SQL gives, assembled
//! by the engine's own `retention_of_buyers`, equal the engine's retention over the rows a load
//! returns, report for report, by week and by month: on edge-case fixtures (period boundaries to
//! the millisecond, purchases at one millisecond, a customer with one purchase, merged customers,
//! a retried copy of a purchase, empty cohorts), on a seeded log whose customers are merged across
//! shards, and on the demo.

use rand::{Rng, SeedableRng};
use trailmap_analytics::{BuyerPurchases, Journeys, RetentionPeriod, RetentionReport, retention_of_buyers};
use trailmap_model::*;
use super::clickhouse::{cluster, demo_logs, fixture};
use trailmap_store::{ClickHouseEvents, CohortPeriod};

const B: BusinessId = BusinessId(11);

/// The pushed-down report of business `b`, with `purchase` events as purchases.
fn pushed(events: &ClickHouseEvents, b: BusinessId, period: RetentionPeriod, purchase: &str) -> RetentionReport {
    let cohorts = match period {
        RetentionPeriod::Week => CohortPeriod::Week,
        RetentionPeriod::Month => CohortPeriod::Month,
    };
    let rows = events.retention(b, cohorts, purchase).unwrap();
    let buyers = rows.buyers.into_iter().map(|r| BuyerPurchases { customer: r.customer, cohort: r.cohort, offsets: r.offsets, gaps: r.gaps });
    retention_of_buyers(period, purchase, rows.last_event_ms, buyers)
}

/// The engine's report over the rows a load of business `b` returns.
fn engine(events: &ClickHouseEvents, b: BusinessId, period: RetentionPeriod, purchase: &str) -> RetentionReport {
    let table = events.load_selected_events(b, EventSelection::ALL_BUT_PROPERTIES).unwrap();
    trailmap_analytics::retention(&Journeys::new(table), period, purchase)
}

/// Both periods' reports pushed down equal the engine's; the monthly one is returned.
fn equal_reports(events: &ClickHouseEvents, b: BusinessId) -> RetentionReport {
    equal_reports_of(events, b, "purchase")
}

fn equal_reports_of(events: &ClickHouseEvents, b: BusinessId, purchase: &str) -> RetentionReport {
    let mut monthly = None;
    for period in [RetentionPeriod::Week, RetentionPeriod::Month] {
        let report = pushed(events, b, period, purchase);
        assert_eq!(report, engine(events, b, period, purchase), "{period:?} of {purchase:?}");
        monthly = Some(report);
    }
    monthly.unwrap()
}

#[test]
fn retentions_edge_cases_give_the_engines_report() {
    let Some((_db, events)) = cluster("clickhouse retention edges") else { return };
    let log = fixture(
        "
        # Sunday 23:59:59.000 and .999, then Monday 00:00:00.000: two ISO weeks, one month.
        customer week_edge
          2024-03-10 23:59:59 purchase
          +999ms purchase
          +1ms purchase
        # The last millisecond of a month and the first of the next, across a year.
        customer month_edge
          2023-12-31 23:59:59 page_view
          +999ms purchase
          +1ms purchase
        # Purchases at one millisecond: a gap of 0, one period.
        customer ties
          2024-02-29 12:00:00 purchase
          +0ms purchase
          +0ms purchase
          +40d purchase
        # One purchase, and one event before it.
        customer once
          2024-01-15 09:00:00 page_view
          +1h purchase
        # No purchase at all: not a buyer.
        customer browser
          2024-01-20 09:00:00 page_view
          +1d Purchase
        # Two customers who are one person (merged below), their purchases on both.
        customer first_half
          2024-01-05 10:00:00 purchase
          2024-03-05 10:00:00 purchase
        customer second_half
          2024-02-05 10:00:00 purchase
          2024-06-01 10:00:00 add_to_cart
        # A cohort with months between it and the next (empty cohorts in between), and the
        # business's last event, which is not a purchase: the triangle runs to its month.
        customer late
          2024-09-01 10:00:00 purchase
          2024-11-30 23:59:59 page_view
        ",
    );
    events.append(B, &log).unwrap();
    // A retried batch writes a purchase again: it counts once.
    events.append(B, &log[..3]).unwrap();
    events.merge_customers(B, &[CustomerId(7)], CustomerId(6)).unwrap();
    let report = equal_reports(&events, B);
    // What the fixture says, so the equality is not of two empty answers.
    assert_eq!(report.purchasers, 6, "{report:?}");
    let months: Vec<(&str, usize)> = report.cohorts.iter().map(|c| (c.period.as_str(), c.n)).collect();
    assert_eq!(months, [("2023-12-01", 1), ("2024-01-01", 2), ("2024-02-01", 1), ("2024-03-01", 1), ("2024-09-01", 1)]);
    let merged = &report.cohorts[1];
    assert_eq!(merged.later.iter().map(|c| c.customers.clone()).take(2).collect::<Vec<_>>(), [vec![CustomerId(6)], vec![CustomerId(6)]]);
    assert_eq!(report.cohorts[4].later.len(), 2, "September's row runs to November");
    let gaps = report.time_between_purchases.unwrap();
    assert_eq!((gaps.n, gaps.customers), (8, 4));
    // A business without purchases, and one without events.
    events.append(BusinessId(12), &fixture("customer a\n  2024-01-01 00:00:00 page_view\n")).unwrap();
    assert_eq!(equal_reports(&events, BusinessId(12)).purchasers, 0);
    assert!(equal_reports(&events, BusinessId(13)).cohorts.is_empty());
}

#[test]
fn a_seeded_log_merged_across_shards_gives_the_engines_report() {
    let Some((db, events)) = cluster("clickhouse retention seeded") else { return };
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(22);
    let customers = 400i64;
    // Each person writes under three customer ids (merged into the first below), so a person's
    // purchases sit on both shards; times over 14 months, a tenth at the previous millisecond.
    let mut at = 1_700_000_000_000i64;
    let log: Vec<(CustomerId, Event)> = (0..20_000)
        .map(|i| {
            if rng.random_range(0..10) != 0 {
                at += rng.random_range(1..2_200_000);
            }
            let person = rng.random_range(0..customers);
            let who = CustomerId(10 * person + 1 + rng.random_range(0..3));
            let name = ["page_view", "purchase", "add_to_cart", "purchase"][rng.random_range(0..4)];
            let mut event = Event::new(name, Timestamp(at), Identity::anonymous("unused").unwrap());
            event.key = EventKey(i as u128);
            (who, event)
        })
        .collect();
    events.append(B, &log).unwrap();
    let before = equal_reports(&events, B);
    for person in 0..customers {
        events.merge_customers(B, &[CustomerId(10 * person + 3)], CustomerId(10 * person + 2)).unwrap();
        events.merge_customers(B, &[CustomerId(10 * person + 2)], CustomerId(10 * person + 1)).unwrap();
    }
    let after = equal_reports(&events, B);
    assert!(after.purchasers < before.purchasers && after.purchasers > 300, "{} then {}", before.purchasers, after.purchasers);
    assert!(after.cohorts.len() >= 2 && after.repeat_rate > 0.5, "{after:?}");
    let per_shard: Vec<u64> =
        (0..2).map(|shard| db.run_on(shard, &format!("SELECT count() FROM {}.events_local", db.name())).trim().parse().unwrap()).collect();
    assert!(per_shard.iter().all(|&n| n > 1000), "{per_shard:?}");
}

#[test]
fn the_demo_gives_the_engines_retention() {
    let Some((_db, events)) = cluster("clickhouse retention demo") else { return };
    for (business, log) in demo_logs(600, 7) {
        let b = BusinessId(100 + business.id.0);
        events.append(b, &log).unwrap();
        // The demo's sales are orders, which the app turns into events when it writes them: here
        // each of the business's three most frequent events stands for the purchase in turn.
        let mut counts = std::collections::BTreeMap::<&str, usize>::new();
        for (_, e) in &log {
            *counts.entry(e.name.as_str()).or_default() += 1;
        }
        let mut names: Vec<&str> = counts.keys().copied().collect();
        names.sort_by_key(|n| std::cmp::Reverse(counts[n]));
        for name in names.iter().take(3) {
            let report = equal_reports_of(&events, b, name);
            assert!(report.purchasers > 20, "{}, {name}: {} buyers", business.name, report.purchasers);
        }
    }
}
