//! The analytics engine's integration tests: journeys written as fixtures with hand-checked
//! numbers, and independent brute-force implementations compared with the engine on seeded
//! random journeys.

// ---- attribution: in its own module, tests/analytics/attribution.rs ----

#[path = "analytics/attribution.rs"]
mod attribution;

// ---- a map's stage numbers: tests/analytics/stages.rs ----

#[path = "analytics/stages.rs"]
mod stages;

// ---- the dashboard's metrics: tests/analytics/kpi.rs ----

#[path = "analytics/kpi.rs"]
mod kpi;

// ---- the voice of the customer: tests/analytics/voice.rs ----

#[path = "analytics/voice.rs"]
mod voice;

// ---- before/after impact statistics against SciPy and statsmodels: tests/analytics/stats.rs ----

#[path = "analytics/stats.rs"]
mod stats;

// ---- funnels, paths, retention ----

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::HashMap;
use trailmap_analytics::funnel::{CustomerOutcome, TimeSummary};
use trailmap_analytics::paths::PathsReport;
use trailmap_analytics::{
    Breakdown, FunnelMode, FunnelQuery, FunnelReport, FunnelStep, Journeys, PathItem, PathsOptions, RetentionPeriod,
    funnel, paths, retention,
};
use trailmap_model::{CustomerId, EventField, EventRule, EventTable, Timestamp};
use trailmap_testkit::{FixtureRecord, journeys};

const MINUTE: i64 = 60_000;
const DAY: i64 = 86_400_000;

/// An events table from a fixture, in written order; customer `i` (0-based) gets id `i + 1`.
fn table_of(text: &str) -> (EventTable, Vec<String>) {
    let fixture = journeys(text).expect("a valid fixture");
    let mut table = EventTable { strings: vec!["".into()], ..Default::default() };
    let mut ids: HashMap<String, u32> = HashMap::new();
    let mut intern = |table: &mut EventTable, text: Option<&str>| -> u32 {
        let Some(text) = text.filter(|t| !t.is_empty()) else { return 0 };
        *ids.entry(text.to_string()).or_insert_with(|| {
            table.strings.push(text.into());
            (table.strings.len() - 1) as u32
        })
    };
    let mut properties = Vec::new();
    for record in &fixture.records {
        let FixtureRecord::Event { customer, event, .. } = record else { continue };
        let e = &event.event;
        table.customer.push(CustomerId(*customer as i64 + 1));
        table.time.push(e.time.millis());
        let columns = [&e.name.clone().into(), &e.channel, &e.source, &e.medium, &e.campaign, &e.referrer, &e.page];
        let values: Vec<u32> = columns.iter().map(|v| intern(&mut table, v.as_deref())).collect();
        table.name.push(values[0]);
        table.channel.push(values[1]);
        table.source.push(values[2]);
        table.medium.push(values[3]);
        table.campaign.push(values[4]);
        table.referrer.push(values[5]);
        table.page.push(values[6]);
        table.revenue_minor.push(0);
        table.currency.push(0);
        properties.push((!e.properties.is_empty()).then(|| serde_json::to_string(&e.properties).expect("json").into()));
    }
    table.properties = Some(properties);
    (table, fixture.customers.iter().map(|c| c.label.clone()).collect())
}

/// The fixture's journeys and a way to name customers by label.
fn fixture(text: &str) -> (Journeys, impl Fn(&[&str]) -> Vec<CustomerId>) {
    let (table, labels) = table_of(text);
    let ids = move |wanted: &[&str]| {
        wanted
            .iter()
            .map(|w| CustomerId(labels.iter().position(|l| l == w).expect("a known label") as i64 + 1))
            .collect()
    };
    (Journeys::new(table), ids)
}

fn query(steps: &[&str], window_ms: i64, mode: FunnelMode) -> FunnelQuery {
    FunnelQuery {
        steps: steps.iter().map(|s| FunnelStep::named(s)).collect(),
        window_ms,
        mode,
        exclusions: Vec::new(),
        breakdown: None,
        period: None,
    }
}

fn reached(report: &FunnelReport) -> Vec<usize> {
    report.overall.steps.iter().map(|s| s.reached).collect()
}

fn outcome(report: &FunnelReport, customer: CustomerId) -> Option<CustomerOutcome> {
    report.outcomes().into_iter().find(|o| o.customer == customer)
}

#[test]
fn an_ordered_funnel_counts_drop_offs_times_and_customers() {
    let (journeys, ids) = fixture(
        "
        customer ann
          2026-01-01 10:00:00 page_view
          +2m  add_to_cart
          +10m purchase
        customer bob
          2026-01-01 11:00:00 page_view
          +4m  add_to_cart
        customer cat
          2026-01-01 12:00:00 page_view
          +1m  purchase            # out of order: no add_to_cart before it
        customer dan
          2026-01-01 13:00:00 add_to_cart   # never saw step 1 first
          +1m page_view
        customer eve
          2026-01-01 09:00:00 store_visit
        ",
    );
    let report = funnel(&journeys, &query(&["page_view", "add_to_cart", "purchase"], DAY, FunnelMode::Ordered))
        .expect("a funnel");
    let result = &report.overall;
    assert_eq!(result.entered, 4, "eve never did step 1");
    assert_eq!(reached(&report), vec![4, 2, 1]);
    assert_eq!(result.steps[1].customers, ids(&["ann", "bob"]));
    assert_eq!(result.steps[1].dropped_customers, ids(&["cat", "dan"]));
    assert_eq!(result.steps[2].dropped_customers, ids(&["bob"]));
    assert_eq!(result.steps[1].dropped, 2);
    assert!((result.steps[1].conversion_from_first - 0.5).abs() < 1e-12);
    assert!((result.steps[2].conversion_from_previous - 0.5).abs() < 1e-12);
    assert!((result.steps[2].conversion_from_first - 0.25).abs() < 1e-12);
    // Times to add_to_cart: 2m (ann) and 4m (bob); nearest-rank median 2m, p90 4m.
    assert_eq!(result.steps[1].time_from_previous, Some(TimeSummary { n: 2, median_ms: 2 * MINUTE, p90_ms: 4 * MINUTE }));
    assert_eq!(result.time_to_convert, Some(TimeSummary { n: 1, median_ms: 12 * MINUTE, p90_ms: 12 * MINUTE }));
    assert_eq!(result.steps[0].time_from_previous, None);
}

#[test]
fn events_at_the_same_second_count_in_recorded_order_and_once() {
    let (journeys, ids) = fixture(
        "
        customer same_order
          2026-01-01 10:00:00 page_view
          2026-01-01 10:00:00 add_to_cart
        customer reversed
          2026-01-01 10:00:00 add_to_cart
          2026-01-01 10:00:00 page_view
        customer one_view
          2026-01-01 10:00:00 page_view
        customer two_views
          2026-01-01 10:00:00 page_view
          2026-01-01 10:00:00 page_view
        ",
    );
    let report = funnel(&journeys, &query(&["page_view", "add_to_cart"], MINUTE, FunnelMode::Ordered)).expect("a funnel");
    assert_eq!(report.overall.steps[1].customers, ids(&["same_order"]));
    // Repeated steps: one page_view cannot be both steps; two at the same second can.
    let report = funnel(&journeys, &query(&["page_view", "page_view"], MINUTE, FunnelMode::Ordered)).expect("a funnel");
    assert_eq!(report.overall.steps[1].customers, ids(&["two_views"]));
    assert_eq!(report.overall.steps[1].time_from_previous.map(|t| t.median_ms), Some(0));
}

#[test]
fn the_window_boundary_is_inclusive() {
    let (journeys, ids) = fixture(
        "
        customer on_the_boundary
          2026-01-01 10:00:00 page_view
          +7d purchase
        customer one_ms_late
          2026-01-01 10:00:00 page_view
          +7d1ms purchase
        customer lone
          2026-01-01 10:00:00 page_view
        ",
    );
    for mode in [FunnelMode::Ordered, FunnelMode::Strict, FunnelMode::Unordered] {
        let report = funnel(&journeys, &query(&["page_view", "purchase"], 7 * DAY, mode)).expect("a funnel");
        assert_eq!(report.overall.entered, 3, "{mode:?}");
        assert_eq!(report.overall.steps[1].customers, ids(&["on_the_boundary"]), "{mode:?}");
        assert_eq!(outcome(&report, ids(&["lone"])[0]).map(|o| o.reached), Some(1));
    }
}

#[test]
fn repeated_steps_need_as_many_events() {
    let (journeys, ids) = fixture(
        "
        customer three
          2026-01-01 10:00:00 page_view
          +1m page_view
          +1m page_view
        customer two
          2026-01-01 10:00:00 page_view
          +1m product_view
          +1m page_view
        ",
    );
    let steps = ["page_view", "page_view", "page_view"];
    let report = funnel(&journeys, &query(&steps, DAY, FunnelMode::Ordered)).expect("a funnel");
    assert_eq!(reached(&report), vec![2, 2, 1]);
    assert_eq!(report.overall.steps[2].customers, ids(&["three"]));
    let strict = funnel(&journeys, &query(&steps, DAY, FunnelMode::Strict)).expect("a funnel");
    assert_eq!(reached(&strict), vec![2, 1, 1], "product_view breaks the strict chain of `two`");
}

#[test]
fn strict_mode_restarts_after_a_foreign_event() {
    let (journeys, ids) = fixture(
        "
        customer interrupted
          2026-01-01 10:00:00 page_view
          +1m email_open
          +1m add_to_cart
        customer restarted
          2026-01-01 10:00:00 page_view
          +1m email_open
          +1m page_view        # a new chain starts here
          +1m add_to_cart
          +1m purchase
        customer clean
          2026-01-01 10:00:00 page_view
          +1m add_to_cart
          +1m email_open
          +1m purchase
        ",
    );
    let steps = ["page_view", "add_to_cart", "purchase"];
    let strict = funnel(&journeys, &query(&steps, DAY, FunnelMode::Strict)).expect("a funnel");
    let by = |name: &str| outcome(&strict, ids(&[name])[0]).map(|o| o.reached);
    assert_eq!((by("interrupted"), by("restarted"), by("clean")), (Some(1), Some(3), Some(2)));
    // The restarted chain's times come from the second page_view.
    assert_eq!(strict.overall.steps[1].time_from_previous.map(|t| (t.n, t.median_ms)), Some((2, MINUTE)));
    let ordered = funnel(&journeys, &query(&steps, DAY, FunnelMode::Ordered)).expect("a funnel");
    assert_eq!(reached(&ordered), vec![3, 3, 2]);
}

#[test]
fn unordered_counts_steps_done_in_any_order() {
    let (journeys, ids) = fixture(
        "
        customer backwards
          2026-01-01 10:00:00 purchase
          +1m add_to_cart
          +1m page_view
        customer two_of_three
          2026-01-01 10:00:00 add_to_cart
          +1m add_to_cart
          +1m page_view
        customer too_slow
          2026-01-01 10:00:00 purchase
          +2h page_view
        ",
    );
    let report =
        funnel(&journeys, &query(&["page_view", "add_to_cart", "purchase"], 60 * MINUTE, FunnelMode::Unordered))
            .expect("a funnel");
    assert_eq!(reached(&report), vec![3, 2, 1]);
    assert_eq!(report.overall.steps[2].customers, ids(&["backwards"]));
    assert_eq!(report.overall.steps[0].label, "1 of 3 steps");
    // `backwards` took 1m then 1m; two_of_three's chain is its first add_to_cart and page_view.
    assert_eq!(report.overall.steps[1].time_from_previous.map(|t| (t.n, t.median_ms, t.p90_ms)), Some((2, MINUTE, 2 * MINUTE)));
}

#[test]
fn exclusions_between_step_one_and_the_last_step_reached_exclude_the_customer() {
    let (journeys, ids) = fixture(
        "
        customer excluded
          2026-01-01 10:00:00 page_view
          +1m coupon_search
          +1m purchase
        customer after_the_end
          2026-01-01 10:00:00 page_view
          +1m purchase
          +1m coupon_search
        customer before_the_start
          2026-01-01 09:00:00 coupon_search
          +1h page_view
        customer dropped_then_excluded
          2026-01-01 10:00:00 page_view
          +1m coupon_search     # reached step 1 only: nothing lies between
        ",
    );
    let mut q = query(&["page_view", "purchase"], DAY, FunnelMode::Ordered);
    q.exclusions = vec![FunnelStep::named("coupon_search")];
    for mode in [FunnelMode::Ordered, FunnelMode::Strict, FunnelMode::Unordered] {
        q.mode = mode;
        let report = funnel(&journeys, &q).expect("a funnel");
        let expect_excluded = if mode == FunnelMode::Strict { vec![] } else { ids(&["excluded"]) };
        assert_eq!(report.overall.excluded, expect_excluded, "{mode:?}");
        assert_eq!(report.overall.entered, 4 - expect_excluded.len(), "{mode:?}");
    }
    q.mode = FunnelMode::Ordered;
    let report = funnel(&journeys, &q).expect("a funnel");
    assert_eq!(report.overall.steps[1].customers, ids(&["after_the_end"]));
}

#[test]
fn breakdowns_split_by_first_touch_or_by_the_step_one_event() {
    let (journeys, ids) = fixture(
        "
        customer a
          2026-01-01 10:00:00 page_view channel=Referral
          2026-01-03 10:00:00 page_view channel=Email
          +1m purchase
        customer b
          2026-01-01 10:00:00 page_view channel=Email
        customer c
          2026-01-01 10:00:00 store_visit
          +1m page_view channel=Referral
          +1m purchase
        ",
    );
    let mut q = query(&["page_view", "purchase"], DAY, FunnelMode::Ordered);
    q.breakdown = Some(Breakdown::FirstTouch(EventField::Channel));
    let report = funnel(&journeys, &q).expect("a funnel");
    let groups: Vec<(String, usize, usize)> = report
        .breakdown
        .iter()
        .map(|g| (g.value.clone(), g.result.entered, g.result.steps[1].reached))
        .collect();
    assert_eq!(groups, vec![("(none)".into(), 1, 1), ("Email".into(), 1, 0), ("Referral".into(), 1, 1)]);
    q.breakdown = Some(Breakdown::StepOne(EventField::Channel));
    let report = funnel(&journeys, &q).expect("a funnel");
    let groups: Vec<(String, Vec<CustomerId>)> =
        report.breakdown.iter().map(|g| (g.value.clone(), g.result.steps[1].customers.clone())).collect();
    // a's first page_view is outside the window of its purchase, so its chain starts by email.
    assert_eq!(groups, vec![("Email".into(), ids(&["a"])), ("Referral".into(), ids(&["c"]))]);
    assert_eq!(report.breakdown[0].result.entered, 2);
}

#[test]
fn a_customer_breakdown_groups_by_the_label_the_caller_gives() {
    let (journeys, ids) = fixture(
        "
        customer a
          2026-01-01 10:00:00 page_view
          +1m purchase
        customer b
          2026-01-01 10:00:00 page_view
        customer c
          2026-01-01 10:00:00 page_view
          +1m purchase
        ",
    );
    let mut q = query(&["page_view", "purchase"], DAY, FunnelMode::Ordered);
    let labels = [("a", "Morning Regular"), ("b", "Morning Regular")]
        .into_iter()
        .map(|(who, label)| (ids(&[who])[0], label.to_string()))
        .collect();
    q.breakdown = Some(Breakdown::Customer(labels));
    let report = funnel(&journeys, &q).expect("a funnel");
    let groups: Vec<(String, usize, Vec<CustomerId>)> = report
        .breakdown
        .iter()
        .map(|g| (g.value.clone(), g.result.entered, g.result.steps[1].customers.clone()))
        .collect();
    assert_eq!(groups, vec![("Morning Regular".into(), 2, ids(&["a"])), ("(none)".into(), 1, ids(&["c"]))]);
}

#[test]
fn a_period_keeps_chains_starting_in_it() {
    let (journeys, ids) = fixture(
        "
        customer december
          2025-12-31 23:00:00 page_view
          +2h purchase
        customer january
          2026-01-01 00:00:00 page_view
        customer both
          2025-12-20 10:00:00 page_view
          2026-01-05 10:00:00 page_view
          +1m purchase
        ",
    );
    let jan = Timestamp::parse_rfc3339("2026-01-01T00:00:00Z").expect("time").millis();
    let mut q = query(&["page_view", "purchase"], DAY, FunnelMode::Ordered);
    q.period = Some((jan, jan + 31 * DAY));
    let report = funnel(&journeys, &q).expect("a funnel");
    assert_eq!(report.overall.steps[0].customers, ids(&["january", "both"]));
    assert_eq!(report.overall.steps[1].customers, ids(&["both"]));
    q.period = Some((jan - 31 * DAY, jan));
    let report = funnel(&journeys, &q).expect("a funnel");
    assert_eq!(report.overall.steps[1].customers, ids(&["december"]), "a chain may end after the period");
    assert_eq!(outcome(&report, ids(&["both"])[0]).map(|o| o.reached), Some(1));
}

#[test]
fn any_of_steps_and_bad_queries() {
    let (journeys, ids) = fixture(
        "
        customer web
          2026-01-01 10:00:00 page_view
          +1m purchase
        customer shop
          2026-01-01 10:00:00 store_visit
          +1m purchase
        ",
    );
    let mut q = query(&["page_view", "purchase"], DAY, FunnelMode::Ordered);
    q.steps[0] = FunnelStep { label: "visit".into(), any_of: vec![EventRule::named("page_view"), EventRule::named("store_visit")] };
    let report = funnel(&journeys, &q).expect("a funnel");
    assert_eq!(report.overall.steps[1].customers, ids(&["web", "shop"]));
    q.window_ms = 0;
    assert!(funnel(&journeys, &q).is_err());
    q.window_ms = DAY;
    q.steps[0].any_of.clear();
    assert!(funnel(&journeys, &q).is_err());
    assert!(funnel(&journeys, &query(&[], DAY, FunnelMode::Ordered)).is_err());
}

/// The brute-force funnel of one customer: every chain enumerated, the longest kept by the
/// engine's documented rules. Returns (furthest step, excluded).
fn brute_force(marks: &[(i64, u64, bool)], steps: usize, window: i64, mode: FunnelMode, period: Option<(i64, i64)>) -> Option<(usize, bool)> {
    // Every chain as its events' indices, sorted.
    let mut chains: Vec<Vec<usize>> = Vec::new();
    match mode {
        FunnelMode::Ordered | FunnelMode::Strict => {
            fn extend(marks: &[(i64, u64, bool)], steps: usize, strict: bool, chain: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
                out.push(chain.clone());
                if chain.len() == steps {
                    return;
                }
                let last = chain[chain.len() - 1];
                for next in last + 1..marks.len() {
                    if strict && next != last + 1 {
                        break;
                    }
                    if marks[next].1 >> chain.len() & 1 == 1 {
                        chain.push(next);
                        extend(marks, steps, strict, chain, out);
                        chain.pop();
                    }
                }
            }
            for start in 0..marks.len() {
                if marks[start].1 & 1 == 1 {
                    extend(marks, steps, mode == FunnelMode::Strict, &mut vec![start], &mut chains);
                }
            }
        }
        FunnelMode::Unordered => {
            // Each step takes one event or none (encoded as marks.len()).
            let none = marks.len();
            let mut choice = vec![0usize; steps];
            loop {
                let chosen: Vec<usize> = choice.iter().copied().filter(|&c| c != none).collect();
                let mut distinct = chosen.clone();
                distinct.sort_unstable();
                distinct.dedup();
                let valid = distinct.len() == chosen.len()
                    && choice.iter().enumerate().all(|(s, &c)| c == none || marks[c].1 >> s & 1 == 1);
                if valid && !distinct.is_empty() {
                    chains.push(distinct);
                }
                // Next assignment, as an odometer.
                let mut at = 0;
                while at < steps {
                    choice[at] += 1;
                    if choice[at] <= none {
                        break;
                    }
                    choice[at] = 0;
                    at += 1;
                }
                if at == steps {
                    break;
                }
            }
        }
    }
    chains.retain(|c| {
        let (first, last) = (marks[c[0]].0, marks[c[c.len() - 1]].0);
        last - first <= window && period.is_none_or(|(from, to)| (from..to).contains(&first))
    });
    let longest = chains.iter().map(Vec::len).max()?;
    let anchor = chains.iter().filter(|c| c.len() == longest).map(|c| c[0]).min()?;
    let end = chains.iter().filter(|c| c.len() == longest && c[0] == anchor).map(|c| c[c.len() - 1]).min()?;
    let excluded = (anchor + 1..end).any(|i| marks[i].2);
    Some((longest, excluded))
}

#[test]
fn the_engine_agrees_with_a_brute_force_funnel_on_random_journeys() {
    let mut rng = ChaCha8Rng::seed_from_u64(20_260_101);
    let names = ["a", "b", "c", "x"];
    let step_sets: [&[&[&str]]; 5] = [
        &[&["a"], &["b"], &["c"]],
        &[&["a"], &["a"], &["b"]],
        &[&["a", "b"], &["b"], &["c", "x"]],
        &[&["b"], &["a"]],
        &[&["a"], &["b"], &["a"], &["c"]],
    ];
    let mut compared = 0;
    for round in 0..60 {
        // A random table: 50 customers with 1 to 7 events in a few time slots, ties included.
        let mut table = EventTable { strings: std::iter::once("").chain(names).map(Into::into).collect(), ..Default::default() };
        let customers = 50;
        for customer in 1..=customers {
            for _ in 0..rng.random_range(1..=7) {
                table.customer.push(CustomerId(customer));
                table.time.push(rng.random_range(0..6) * MINUTE);
                table.name.push(rng.random_range(1..=names.len() as u32));
                for column in [&mut table.channel, &mut table.source, &mut table.medium, &mut table.campaign, &mut table.referrer, &mut table.page, &mut table.currency] {
                    column.push(0);
                }
                table.revenue_minor.push(0);
            }
        }
        let journeys = Journeys::new(table);
        let steps = step_sets[round % step_sets.len()];
        for mode in [FunnelMode::Ordered, FunnelMode::Strict, FunnelMode::Unordered] {
            let q = FunnelQuery {
                steps: steps
                    .iter()
                    .map(|any| FunnelStep { label: any.join("|"), any_of: any.iter().map(|n| EventRule::named(n)).collect() })
                    .collect(),
                window_ms: rng.random_range(0..5) * MINUTE + if rng.random_bool(0.5) { 1 } else { MINUTE },
                mode,
                exclusions: if rng.random_bool(0.5) { vec![FunnelStep::named("x")] } else { vec![] },
                breakdown: None,
                period: rng.random_bool(0.3).then_some((MINUTE, 4 * MINUTE)),
            };
            let report = funnel(&journeys, &q).expect("a funnel");
            let table = journeys.table();
            // Loading only the events whose name a rule can match gives the same report, where
            // the query says that is enough; strict mode needs every event.
            match q.relevant_names() {
                None => assert_eq!(mode, FunnelMode::Strict),
                Some(keep) => {
                    let mut only = EventTable { strings: table.strings.clone(), ..Default::default() };
                    for row in (0..table.len()).filter(|&r| keep(table.string(table.name[r]))) {
                        only.customer.push(table.customer[row]);
                        only.time.push(table.time[row]);
                        only.name.push(table.name[row]);
                    }
                    assert!(only.len() < table.len() || q.steps.iter().flat_map(|s| s.any_of.iter()).count() >= 3, "round {round}: nothing filtered");
                    assert_eq!(funnel(&Journeys::new(only), &q).expect("a funnel"), report, "round {round} {mode:?}: the named events alone differ");
                }
            }
            for journey in journeys.iter() {
                let marks: Vec<(i64, u64, bool)> = journey
                    .rows
                    .clone()
                    .map(|row| {
                        let mask = q.steps.iter().enumerate().fold(0u64, |m, (k, s)| {
                            if s.any_of.iter().any(|r| table.matches(row, r)) { m | 1 << k } else { m }
                        });
                        let excluded = q.exclusions.iter().any(|s| s.any_of.iter().any(|r| table.matches(row, r)));
                        (table.time[row], mask, excluded)
                    })
                    .collect();
                let expected = brute_force(&marks, q.steps.len(), q.window_ms, mode, q.period);
                let got = outcome(&report, journey.customer).map(|o| (o.reached as usize, o.excluded));
                assert_eq!(got, expected, "round {round} {mode:?} customer {} marks {marks:?} query {q:?}", journey.customer);
                compared += 1;
            }
            // The summary agrees with the outcomes.
            for (k, step) in report.overall.steps.iter().enumerate() {
                let n = report.outcomes().iter().filter(|o| !o.excluded && o.reached as usize > k).count();
                assert_eq!(step.reached, n);
                assert_eq!(step.customers.len(), n);
                if k > 0 {
                    assert_eq!(step.time_from_previous.map_or(0, |t| t.n), n);
                    assert!(step.time_from_previous.is_none_or(|t| t.median_ms >= 0 && t.median_ms <= t.p90_ms && t.p90_ms <= q.window_ms));
                }
            }
        }
    }
    assert_eq!(compared, 60 * 3 * 50);
}

fn edges_as_text(report: &PathsReport) -> Vec<String> {
    report
        .edges
        .iter()
        .map(|e| {
            let (from, to) = (&report.nodes[e.from], &report.nodes[e.to]);
            format!("{}:{} -> {}:{} = {}", from.step, from.item, to.step, to.item, e.paths)
        })
        .collect()
}

const SHOP: &str = "
    customer ann
      2026-01-01 10:00:00 page_view page=/
      +1m page_view page=/p/scarf      # collapsed into one page_view when by event
      +1m add_to_cart
      +1m purchase
      +2h page_view page=/             # a new session after 2 hours idle
    customer bob
      2026-01-01 10:00:00 page_view page=/
      +1m add_to_cart
      +1m page_view page=/cart
    customer cat
      2026-01-01 10:00:00 store_visit
      +5m purchase
";

#[test]
fn paths_split_sessions_collapse_repeats_and_count_edges() {
    let (journeys, ids) = fixture(SHOP);
    let report = paths(&journeys, &PathsOptions::default()).expect("paths");
    assert_eq!((report.paths, report.customers), (4, 3));
    assert_eq!(
        edges_as_text(&report),
        vec![
            "1:page_view -> 2:add_to_cart = 2",
            "1:store_visit -> 2:purchase = 1",
            "2:add_to_cart -> 3:page_view = 1",
            "2:add_to_cart -> 3:purchase = 1",
        ]
    );
    let first = &report.nodes[0];
    assert_eq!((first.step, first.item.as_str(), first.paths, first.customers.clone()), (1, "page_view", 3, ids(&["ann", "bob"])));
    let converting: Vec<(String, usize)> = report.to_conversion.iter().map(|p| (p.items.join(" > "), p.paths)).collect();
    assert_eq!(converting, vec![("page_view > add_to_cart > purchase".into(), 1), ("store_visit > purchase".into(), 1)]);
    let dropping: Vec<(String, usize)> = report.before_drop_off.iter().map(|p| (p.items.join(" > "), p.paths)).collect();
    assert_eq!(dropping, vec![("page_view".into(), 1), ("page_view > add_to_cart > page_view".into(), 1)]);
}

#[test]
fn paths_by_page_with_start_and_end_points() {
    let (journeys, _) = fixture(SHOP);
    let options = PathsOptions { by: PathItem::Page, end: Some("purchase".into()), ..PathsOptions::default() };
    let report = paths(&journeys, &options).expect("paths");
    assert_eq!(report.paths, 2, "only sessions reaching a purchase");
    assert_eq!(
        edges_as_text(&report),
        vec![
            "1:page_view / -> 2:page_view /p/scarf = 1",
            "1:store_visit -> 2:purchase = 1",
            "2:page_view /p/scarf -> 3:add_to_cart = 1",
            "3:add_to_cart -> 4:purchase = 1",
        ]
    );
    let options = PathsOptions { start: Some("add_to_cart".into()), session_gap_ms: 3 * 60 * MINUTE, ..PathsOptions::default() };
    let report = paths(&journeys, &options).expect("paths");
    // With a 3-hour gap ann's evening page_view joins her first session.
    assert_eq!(
        edges_as_text(&report),
        vec!["1:add_to_cart -> 2:page_view = 1", "1:add_to_cart -> 2:purchase = 1", "2:purchase -> 3:page_view = 1"]
    );
    assert!(paths(&journeys, &PathsOptions { session_gap_ms: 0, ..PathsOptions::default() }).is_err());
}

#[test]
fn path_edges_never_exceed_their_nodes_on_random_journeys() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let names = ["page_view", "product_view", "add_to_cart", "purchase", "email_open"];
    for round in 0..40 {
        let mut table = EventTable { strings: std::iter::once("").chain(names).chain(["/", "/a"]).map(Into::into).collect(), ..Default::default() };
        for customer in 1..=80 {
            let mut time = 0;
            for _ in 0..rng.random_range(1..=12) {
                time += rng.random_range(0..50) * MINUTE;
                table.customer.push(CustomerId(customer));
                table.time.push(time);
                table.name.push(rng.random_range(1..=names.len() as u32));
                table.page.push(rng.random_range(6..=7));
                for column in [&mut table.channel, &mut table.source, &mut table.medium, &mut table.campaign, &mut table.referrer, &mut table.currency] {
                    column.push(0);
                }
                table.revenue_minor.push(0);
            }
        }
        let journeys = Journeys::new(table);
        let options = PathsOptions {
            by: if round % 2 == 0 { PathItem::Event } else { PathItem::Page },
            top_edges: rng.random_range(1..60),
            max_steps: rng.random_range(2..8),
            start: (round % 3 == 1).then(|| "product_view".into()),
            end: (round % 3 == 2).then(|| "purchase".into()),
            ..PathsOptions::default()
        };
        let report = paths(&journeys, &options).expect("paths");
        assert!(report.edges.len() <= options.top_edges);
        for (index, node) in report.nodes.iter().enumerate() {
            let out: usize = report.edges.iter().filter(|e| e.from == index).map(|e| e.paths).sum();
            assert!(out <= node.paths, "round {round}: {out} paths leave a node of {}", node.paths);
            assert!(node.customers.len() <= node.paths);
            // Every kept edge starts at step 1 or at a node an earlier kept edge reaches.
            if report.edges.iter().any(|e| e.from == index) {
                assert!(node.step == 1 || report.edges.iter().any(|e| e.to == index), "round {round}: unreachable node");
            }
        }
        for edge in &report.edges {
            assert!(edge.paths <= report.nodes[edge.to].paths);
            assert_eq!(report.nodes[edge.to].step, report.nodes[edge.from].step + 1);
        }
    }
}

#[test]
fn retention_triangle_repeat_rate_and_time_between_purchases() {
    let (journeys, ids) = fixture(
        "
        customer ann            # first purchase in the week of Monday 2026-01-05
          2026-01-05 10:00:00 purchase
          2026-01-07 10:00:00 purchase    # same week: not a return
          2026-01-12 10:00:00 purchase    # week 1
          2026-01-27 10:00:00 purchase    # week 3
        customer bob
          2026-01-11 23:59:59 purchase    # Sunday: still the week of 2026-01-05
          2026-01-12 00:00:00 purchase    # Monday: week 1
        customer cat
          2026-01-12 09:00:00 page_view
          2026-01-13 10:00:00 purchase    # cohort of 2026-01-12
        customer dan
          2026-01-01 10:00:00 page_view   # never buys
          2026-02-02 10:00:00 page_view   # the data's last event: week of 2026-02-02
        ",
    );
    let report = retention(&journeys, RetentionPeriod::Week, "purchase");
    assert_eq!(report.purchasers, 3);
    assert_eq!(report.repeat_customers, ids(&["ann", "bob"]));
    assert!((report.repeat_rate - 2.0 / 3.0).abs() < 1e-12);
    let first = &report.cohorts[0];
    assert_eq!(first.period, "2026-01-05");
    assert_eq!(first.customers, ids(&["ann", "bob"]));
    let cells: Vec<(usize, usize)> = first.later.iter().map(|c| (c.offset, c.customers.len())).collect();
    assert_eq!(cells, vec![(1, 2), (2, 0), (3, 1), (4, 0)], "four weeks to the week of 2026-02-02");
    assert!((first.later[2].rate - 0.5).abs() < 1e-12);
    assert_eq!(report.cohorts[1].period, "2026-01-12");
    assert_eq!(report.cohorts[1].later.len(), 3);
    // Gaps: ann 2d, 5d, 15d; bob 1s. Nearest rank: median the 2nd of 4 (2 days), p90 the 4th.
    let gaps = report.time_between_purchases.expect("gaps");
    assert_eq!((gaps.n, gaps.customers), (4, 2));
    assert!((gaps.median_days - 2.0).abs() < 1e-9 && (gaps.p90_days - 15.0).abs() < 1e-9);

    let monthly = retention(&journeys, RetentionPeriod::Month, "purchase");
    assert_eq!(monthly.cohorts.len(), 1);
    assert_eq!(monthly.cohorts[0].period, "2026-01-01");
    assert_eq!(monthly.cohorts[0].customers.len(), 3);
    let cells: Vec<usize> = monthly.cohorts[0].later.iter().map(|c| c.customers.len()).collect();
    assert_eq!(cells, vec![0], "nobody bought in February; the data ends there");
}

#[test]
fn retention_without_purchases_is_empty() {
    let (journeys, _) = fixture("customer a\n  2026-01-01 10:00:00 page_view\n");
    let report = retention(&journeys, RetentionPeriod::Month, "purchase");
    assert!(report.cohorts.is_empty() && report.purchasers == 0 && report.time_between_purchases.is_none());
}

/// Which funnels may be answered from the events of their steps' names alone.
#[test]
fn relevant_names_only_when_other_events_cannot_matter() {
    let query = |mode: FunnelMode, breakdown: Option<Breakdown>, exclusions: Vec<FunnelStep>| FunnelQuery {
        steps: vec![FunnelStep::named("a"), FunnelStep { label: "b or c".into(), any_of: vec![EventRule::named("b"), EventRule::named("c")] }],
        window_ms: 1,
        mode,
        exclusions,
        breakdown,
        period: None,
    };
    let ordered = query(FunnelMode::Ordered, None, vec![FunnelStep::named("x")]);
    let keep = ordered.relevant_names().expect("names alone decide an ordered funnel");
    assert_eq!(["a", "b", "c", "x", "d", ""].map(&keep), [true, true, true, true, false, false]);
    assert!(query(FunnelMode::Unordered, Some(Breakdown::StepOne(EventField::Channel)), vec![]).relevant_names().is_some());
    assert!(query(FunnelMode::Strict, None, vec![]).relevant_names().is_none(), "strict needs the events in between");
    assert!(query(FunnelMode::Ordered, Some(Breakdown::FirstTouch(EventField::Channel)), vec![]).relevant_names().is_none());
    let mut on_page = query(FunnelMode::Ordered, None, vec![]);
    on_page.steps[0].any_of = vec![EventRule::named("a").and(EventField::Page, trailmap_model::Op::Equals("/".into()))];
    assert!(on_page.relevant_names().is_none(), "a rule on the page needs every event's page");
}
