//! The dashboard's activity pushed down to ClickHouse against a real cluster (the two-shard rig
//! TRAILMAP_TEST_CLICKHOUSE names; skipped without it): per customer, the first event and the
//! slots between the dashboard's bounds they were active in, as ClickHouse gives them, equal the
//! engine's `EventActivity` over the rows a load returns, customer for customer: on edge cases
//! (events on a bound to the millisecond, first events at one millisecond with different
//! channels, a customer merged into another on the other shard, a retried copy, bounds an hour and
//! a millisecond apart), on a seeded log whose customers are merged across shards, and on the
//! demo; and the counts of events by time that choose a page's period.

use super::clickhouse::{cluster, demo_logs, fixture, merge_people, seeded};
use std::collections::HashSet;
use trailmap_analytics::{EventActivity, Journeys};
use trailmap_model::*;
use trailmap_store::ClickHouseEvents;

/// Checks the pushed-down activity of business `b` over `bounds` against the engine's over a
/// load: the customers it names are exactly those new since the first bound or active in the
/// range, each with the engine's first event and slots; and asked by name, every customer's first
/// event is the engine's. Returns how many customers it named.
fn same_activity(events: &ClickHouseEvents, b: BusinessId, bounds: &[i64]) -> usize {
    let table = events.load_selected_events(b, EventSelection::ALL_BUT_PROPERTIES).unwrap();
    let engine = EventActivity::of_journeys(&Journeys::new(table), bounds);
    let rows = events.customer_activity(b, bounds).unwrap();
    let named: HashSet<CustomerId> = rows.iter().map(|r| r.customer).collect();
    let expected: HashSet<CustomerId> =
        engine.first.iter().filter(|(_, (t, _))| *t >= bounds[0]).map(|(c, _)| *c).chain(engine.slots.keys().copied()).collect();
    assert_eq!(named, expected, "the customers named over {bounds:?}");
    assert!(rows.windows(2).all(|w| w[0].customer < w[1].customer), "ascending customers");
    for row in &rows {
        assert_eq!(Some(&(row.first_ms, row.first_channel.clone())), engine.first.get(&row.customer), "first event of {:?}", row.customer);
        assert_eq!(&row.slots, engine.slots.get(&row.customer).unwrap_or(&Vec::new()), "slots of {:?}", row.customer);
    }
    let mut everyone: Vec<CustomerId> = engine.first.keys().copied().collect();
    everyone.sort_unstable();
    // Someone without events is not named.
    everyone.push(CustomerId(999_999_999));
    let firsts = events.first_events(b, &everyone).unwrap();
    assert_eq!(firsts.len(), engine.first.len());
    for row in firsts {
        assert_eq!(Some(&(row.first_ms, row.first_channel)), engine.first.get(&row.customer));
        assert!(row.slots.is_empty());
    }
    rows.len()
}

fn ms(text: &str) -> i64 {
    Timestamp::parse_rfc3339(text).unwrap().0
}

#[test]
fn the_activitys_edge_cases_give_the_engines() {
    let Some((_db, events)) = cluster("clickhouse dashboard edges") else { return };
    let b = BusinessId(31);
    let mut log = fixture(
        "
        # On the first bound, then the last millisecond before the second, then on the last bound
        # (outside the range: the range is half-open).
        customer on_bounds
          2026-03-01 00:00:00 page_view channel=Email
          2026-03-01 23:59:59.999 page_view
          2026-03-03 00:00:00 page_view
        # Two first events at one millisecond: the one of the lesser event key is first.
        customer tie
          2026-02-20 10:00:00 page_view channel=Paid_Social
          2026-02-20 10:00:00 page_view channel=Email
          2026-03-02 12:00:00 purchase
        # Old, and quiet during the range: not named unless asked for by name.
        customer old
          2025-06-01 09:00:00 page_view channel=Direct
        # New after the range: named (their first event is after the first bound).
        customer later
          2026-04-01 08:00:00 page_view
        # Merged into `old` below: their events make `old` active in the range.
        customer merged
          2026-03-02 08:00:00 page_view channel=Referral
        ",
    );
    // A retried copy of an event is one event.
    log.push(log[0].clone());
    events.append(b, &log).unwrap();
    events.merge_customers(b, &[CustomerId(5)], CustomerId(3)).unwrap();
    let day = 86_400_000;
    let start = ms("2026-03-01T00:00:00Z");
    // Days, a 23-hour day, then an hour and a millisecond: the unit is one millisecond.
    for bounds in [
        vec![start, start + day, start + 2 * day],
        vec![start, start + day, start + 2 * day - 3_600_000, start + 2 * day],
        vec![start, start + 1, start + day, start + 2 * day],
    ] {
        assert_eq!(same_activity(&events, b, &bounds), 4, "{bounds:?}");
    }
    // The tie: the first row (line 8, the lesser key) is Paid_Social's.
    let tie = events.first_events(b, &[CustomerId(2)]).unwrap();
    assert_eq!(tie[0].first_channel, "Paid_Social");

    // The period's counts: each event once, ranges half-open.
    let times = events.event_times(b).unwrap();
    assert_eq!((times.count, times.span), (9, Some((ms("2025-06-01T09:00:00Z"), ms("2026-04-01T08:00:00Z")))));
    assert_eq!(events.count_events_between(b, start, start + 2 * day).unwrap(), 4);
    assert_eq!(events.count_events_between(b, start, start + day + 12 * 3_600_000).unwrap(), 3);
    assert_eq!(events.last_event_before(b, start).unwrap(), Some(ms("2026-02-20T10:00:00Z")));
    assert_eq!(events.last_event_before(b, 0).unwrap(), None);
    assert_eq!(events.event_times(BusinessId(32)).unwrap().span, None);
}

#[test]
fn a_seeded_logs_activity_is_the_engines() {
    let Some((_db, events)) = cluster("clickhouse dashboard seeded") else { return };
    // Written under three customers per person, then merged (across shards), as clickhouse.rs does.
    let b = BusinessId(7);
    events.append(b, &seeded(5, 150, 3_000)).unwrap();
    merge_people(&events, 150);
    // The seeded log runs 2023-11-14 for about 6.5 hours: slots of an hour, a period within it.
    let hour = 3_600_000;
    let start = 1_700_000_000_000 + 2 * hour;
    let bounds: Vec<i64> = (0..=3).map(|h| start + h * hour).collect();
    assert!(same_activity(&events, b, &bounds) > 50);
}

#[test]
fn the_demos_activity_is_the_engines() {
    let Some((_db, events)) = cluster("clickhouse dashboard demo") else { return };
    for (business, log) in demo_logs(300, 11) {
        events.append(business.id, &log).unwrap();
        let last = log.iter().map(|(_, e)| e.time.0).max().unwrap();
        // Sixty days of days before the last event, in UTC.
        let end = last - last.rem_euclid(86_400_000) + 86_400_000;
        let bounds: Vec<i64> = (0..=60).map(|d| end - (60 - d) * 86_400_000).collect();
        assert!(same_activity(&events, business.id, &bounds) > 20, "{}", business.name);
    }
}
