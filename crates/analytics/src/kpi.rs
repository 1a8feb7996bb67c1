//! The few numbers an owner watches, over a period against the previous one: new customers (and
//! by first channel), conversion rate, repeat rate, average order value, revenue, NPS and CSAT.
//! Each comes with its sample size, a trend over buckets (days or weeks, cut by the caller), and
//! the customers behind it, so a number on the dashboard opens to the people it counts.
//!
//! Definitions (every window is half-open, `[start, end)`, in milliseconds):
//! - **new customers**: customers whose first activity (their earliest event or order) falls in
//!   the window; their channel is the channel of their first event ("(none)" when they have no
//!   events, only orders).
//! - **conversion rate**: of the customers active in the window (any event or order in it), the
//!   share with at least one order in it. n = active customers.
//! - **repeat rate**: of the customers with an order in the window, the share with at least two
//!   orders from their first order up to the window's end. n = those buyers.
//! - **average order value**: revenue in the window divided by its orders. n = orders.
//! - **revenue**: the sum of order totals in the window. n = orders.
//! - **NPS**: % promoters (9-10) minus % detractors (0-6) of NPS answers in the window, -100..100.
//!   n = answers.
//! - **CSAT**: % of CSAT answers (1-5) that are 4 or 5. n = answers.

use crate::journeys::Journeys;
use std::collections::{HashMap, HashSet};
use serde::Serialize;
use trailmap_model::CustomerId;

/// An order as the KPIs read it: who, when, how much (in the business's currency, minor units).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderFact {
    pub customer: CustomerId,
    pub time: i64,
    pub total_minor: i64,
}

/// Which satisfaction scale an answer is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// 0-10.
    Nps,
    /// 1-5.
    Csat,
}

/// One NPS or CSAT answer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RatingFact {
    pub customer: Option<CustomerId>,
    pub time: i64,
    pub scale: Scale,
    pub score: f64,
}

/// A half-open window of time in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Window {
    pub start: i64,
    pub end: i64,
}

impl Window {
    fn contains(self, t: i64) -> bool {
        self.start <= t && t < self.end
    }
}

/// The question: a current window, the one to compare with, and the trend's buckets (consecutive
/// windows, usually covering the current one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KpiQuery {
    pub current: Window,
    pub previous: Window,
    pub buckets: Vec<Window>,
}

/// What a metric counts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Unit {
    Count,
    /// A share, 0..1.
    Rate,
    /// Minor units of the business's currency.
    Money,
    /// A score on its own scale (NPS: -100..100).
    Score,
}

/// A metric's value over one window: None when its sample is empty (a rate of nobody).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Measure {
    pub value: Option<f64>,
    /// The sample size: customers, orders or answers, as the metric's definition says.
    pub n: u64,
}

/// One metric: current and previous values, its trend, and the customers behind the current one.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Metric {
    /// Stable key: `new_customers`, `conversion_rate`, `repeat_rate`, `average_order_value`,
    /// `revenue`, `nps`, `csat`.
    pub key: &'static str,
    pub label: &'static str,
    pub unit: Unit,
    pub current: Measure,
    pub previous: Measure,
    /// The same metric per bucket, in bucket order.
    pub trend: Vec<Measure>,
    /// The customers the current value counts (for a rate, its numerator: the converted, the
    /// repeat buyers, the promoters), sorted.
    pub customers: Vec<CustomerId>,
    /// The customers of the sample (for a rate, its denominator), sorted; equal to `customers`
    /// for counts and sums.
    pub sample: Vec<CustomerId>,
}

impl Metric {
    /// The change against the previous period in words: points for rates, the difference for
    /// scores, percent for counts and money; None when either value is missing or a percent of
    /// nothing.
    pub fn change_in_words(&self) -> Option<String> {
        let (now, before) = (self.current.value?, self.previous.value?);
        Some(match self.unit {
            Unit::Rate => format!("{:+.1} pts", 100.0 * (now - before)),
            Unit::Score => format!("{:+.0}", now - before),
            Unit::Count | Unit::Money if before != 0.0 => format!("{:+.0}%", 100.0 * (now - before) / before.abs()),
            Unit::Count | Unit::Money => return None,
        })
    }

    /// What the sample size counts, as this module's definitions say: customers, orders or
    /// answers.
    pub fn n_means(&self) -> &'static str {
        match self.key {
            "new_customers" | "conversion_rate" | "repeat_rate" => "customers",
            "average_order_value" | "revenue" => "orders",
            _ => "answers",
        }
    }
}

/// New customers of one first channel, now and before.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChannelCount {
    pub channel: String,
    pub current: u64,
    pub previous: u64,
    pub customers: Vec<CustomerId>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KpiReport {
    pub metrics: Vec<Metric>,
    /// New customers by first channel, most in the current window first.
    pub new_by_channel: Vec<ChannelCount>,
}

impl KpiReport {
    pub fn metric(&self, key: &str) -> Option<&Metric> {
        self.metrics.iter().find(|m| m.key == key)
    }
}

/// What the metrics read of a business's events, whoever read them: each customer's first event
/// (its time and channel) and the slots of the query's windows in which each customer has an
/// event. The embedded engine makes it from the journeys ([`EventActivity::of_journeys`]);
/// ClickHouse makes the same from its rows, so the metrics are computed by one code either way.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EventActivity {
    /// The instants that cut the query's windows, ascending ([`KpiQuery::bounds`]): slot `i` is
    /// `[bounds[i], bounds[i + 1])`.
    pub bounds: Vec<i64>,
    /// Customers' first events as (time, channel), the channel empty when the event has none. It
    /// holds at least every customer whose first event is at or after `bounds[0]` and every
    /// customer with an event who has an order at or after `bounds[0]`: the others cannot be new
    /// in any window of the query, which is all it is read for.
    pub first: HashMap<CustomerId, (i64, String)>,
    /// Every customer with an event from `bounds[0]` to the last bound, with the slots holding
    /// their events, ascending.
    pub slots: HashMap<CustomerId, Vec<u32>>,
}

impl EventActivity {
    /// The activity of every customer of the journeys over these bounds.
    pub fn of_journeys(journeys: &Journeys, bounds: &[i64]) -> EventActivity {
        let table = journeys.table();
        let mut activity = EventActivity { bounds: bounds.to_vec(), ..EventActivity::default() };
        let (Some(&start), Some(&end)) = (bounds.first(), bounds.last()) else { return activity };
        for journey in journeys.iter() {
            let row = journey.rows.start;
            activity.first.insert(journey.customer, (table.time[row], table.string(table.channel[row]).to_string()));
            let mut slots: Vec<u32> = Vec::new();
            for &time in &table.time[journey.rows.clone()] {
                if start <= time && time < end {
                    // Rows are in time order, so a slot repeats only right after itself.
                    let slot = (bounds.partition_point(|b| *b <= time) - 1) as u32;
                    if slots.last() != Some(&slot) {
                        slots.push(slot);
                    }
                }
            }
            if !slots.is_empty() {
                activity.slots.insert(journey.customer, slots);
            }
        }
        activity
    }

    /// The slots a window covers, `lo..hi`; a window's ends are among the bounds.
    fn slot_range(&self, w: Window) -> std::ops::Range<u32> {
        let at = |t: i64| self.bounds.partition_point(|b| *b < t) as u32;
        at(w.start)..at(w.end)
    }
}

impl KpiQuery {
    /// Every start and end of the query's windows, ascending, each once: the instants that cut
    /// them into the slots of an [`EventActivity`].
    pub fn bounds(&self) -> Vec<i64> {
        let mut bounds: Vec<i64> = [self.current, self.previous].iter().chain(&self.buckets).flat_map(|w| [w.start, w.end]).collect();
        bounds.sort_unstable();
        bounds.dedup();
        bounds
    }
}

/// The facts the metrics are computed from, indexed once for every window.
struct Facts<'a> {
    activity: &'a EventActivity,
    /// Orders sorted by time.
    orders: Vec<OrderFact>,
    ratings: &'a [RatingFact],
    /// First activity and first channel per customer.
    first: HashMap<CustomerId, (i64, String)>,
    /// Each customer's order times, sorted.
    order_times: HashMap<CustomerId, Vec<i64>>,
}

/// Computes every metric of `query` over the journeys, orders and ratings.
pub fn kpis(journeys: &Journeys, orders: &[OrderFact], ratings: &[RatingFact], query: &KpiQuery) -> KpiReport {
    kpis_of_activity(&EventActivity::of_journeys(journeys, &query.bounds()), orders, ratings, query)
}

/// Computes every metric of `query` over the customers' event activity (made over the query's
/// [`KpiQuery::bounds`]), orders and ratings: [`kpis`]' work once the events are summarised.
pub fn kpis_of_activity(activity: &EventActivity, orders: &[OrderFact], ratings: &[RatingFact], query: &KpiQuery) -> KpiReport {
    let mut first: HashMap<CustomerId, (i64, String)> = activity
        .first
        .iter()
        .map(|(customer, (time, channel))| (*customer, (*time, if channel.is_empty() { "(none)".to_string() } else { channel.clone() })))
        .collect();
    let mut sorted = orders.to_vec();
    sorted.sort_by_key(|o| (o.time, o.customer));
    let mut order_times: HashMap<CustomerId, Vec<i64>> = HashMap::new();
    for o in &sorted {
        order_times.entry(o.customer).or_default().push(o.time);
        let entry = first.entry(o.customer).or_insert((o.time, "(none)".to_string()));
        if o.time < entry.0 {
            entry.0 = o.time;
        }
    }
    let facts = Facts { activity, orders: sorted, ratings, first, order_times };

    type Compute = fn(&Facts<'_>, Window) -> (Measure, Vec<CustomerId>, Vec<CustomerId>);
    let definitions: [(&'static str, &'static str, Unit, Compute); 7] = [
        ("new_customers", "New customers", Unit::Count, new_customers),
        ("conversion_rate", "Conversion rate", Unit::Rate, conversion_rate),
        ("repeat_rate", "Repeat rate", Unit::Rate, repeat_rate),
        ("average_order_value", "Average order value", Unit::Money, average_order_value),
        ("revenue", "Revenue", Unit::Money, revenue),
        ("nps", "NPS", Unit::Score, nps),
        ("csat", "CSAT", Unit::Rate, csat),
    ];
    let metrics = definitions
        .into_iter()
        .map(|(key, label, unit, compute)| {
            let (current, customers, sample) = compute(&facts, query.current);
            let (previous, _, _) = compute(&facts, query.previous);
            let trend = query.buckets.iter().map(|b| compute(&facts, *b).0).collect();
            Metric { key, label, unit, current, previous, trend, customers, sample }
        })
        .collect();
    KpiReport { metrics, new_by_channel: new_by_channel(&facts, query) }
}

fn sorted(mut customers: Vec<CustomerId>) -> Vec<CustomerId> {
    customers.sort_unstable();
    customers.dedup();
    customers
}

fn rate(numerator: usize, denominator: usize) -> Option<f64> {
    (denominator > 0).then(|| numerator as f64 / denominator as f64)
}

fn orders_in<'f>(facts: &'f Facts<'_>, w: Window) -> &'f [OrderFact] {
    let start = facts.orders.partition_point(|o| o.time < w.start);
    let end = facts.orders.partition_point(|o| o.time < w.end);
    &facts.orders[start..end.max(start)]
}

fn new_customers(facts: &Facts<'_>, w: Window) -> (Measure, Vec<CustomerId>, Vec<CustomerId>) {
    let customers = sorted(facts.first.iter().filter(|(_, (t, _))| w.contains(*t)).map(|(c, _)| *c).collect());
    let n = customers.len() as u64;
    (Measure { value: Some(n as f64), n }, customers.clone(), customers)
}

fn active_customers(facts: &Facts<'_>, w: Window) -> Vec<CustomerId> {
    let slots = facts.activity.slot_range(w);
    let mut active: HashSet<CustomerId> =
        facts.activity.slots.iter().filter(|(_, theirs)| theirs.iter().any(|s| slots.contains(s))).map(|(c, _)| *c).collect();
    active.extend(orders_in(facts, w).iter().map(|o| o.customer));
    sorted(active.into_iter().collect())
}

fn buyers(facts: &Facts<'_>, w: Window) -> Vec<CustomerId> {
    sorted(orders_in(facts, w).iter().map(|o| o.customer).collect())
}

fn conversion_rate(facts: &Facts<'_>, w: Window) -> (Measure, Vec<CustomerId>, Vec<CustomerId>) {
    let active = active_customers(facts, w);
    let converted = buyers(facts, w);
    (Measure { value: rate(converted.len(), active.len()), n: active.len() as u64 }, converted, active)
}

fn repeat_rate(facts: &Facts<'_>, w: Window) -> (Measure, Vec<CustomerId>, Vec<CustomerId>) {
    let buyers = buyers(facts, w);
    let repeat: Vec<CustomerId> = buyers
        .iter()
        .copied()
        .filter(|c| facts.order_times.get(c).is_some_and(|times| times.partition_point(|t| *t < w.end) >= 2))
        .collect();
    (Measure { value: rate(repeat.len(), buyers.len()), n: buyers.len() as u64 }, repeat, buyers)
}

fn average_order_value(facts: &Facts<'_>, w: Window) -> (Measure, Vec<CustomerId>, Vec<CustomerId>) {
    let orders = orders_in(facts, w);
    let total: i64 = orders.iter().map(|o| o.total_minor).sum();
    let value = (!orders.is_empty()).then(|| total as f64 / orders.len() as f64);
    let customers = buyers(facts, w);
    (Measure { value, n: orders.len() as u64 }, customers.clone(), customers)
}

fn revenue(facts: &Facts<'_>, w: Window) -> (Measure, Vec<CustomerId>, Vec<CustomerId>) {
    let orders = orders_in(facts, w);
    let total: i64 = orders.iter().map(|o| o.total_minor).sum();
    let customers = buyers(facts, w);
    (Measure { value: Some(total as f64), n: orders.len() as u64 }, customers.clone(), customers)
}

fn ratings_in<'f>(facts: &'f Facts<'_>, w: Window, scale: Scale) -> impl Iterator<Item = &'f RatingFact> + 'f {
    facts.ratings.iter().filter(move |r| r.scale == scale && w.contains(r.time) && r.score.is_finite())
}

fn nps(facts: &Facts<'_>, w: Window) -> (Measure, Vec<CustomerId>, Vec<CustomerId>) {
    let answers: Vec<&RatingFact> = ratings_in(facts, w, Scale::Nps).collect();
    let promoters = answers.iter().filter(|r| r.score >= 9.0).count();
    let detractors = answers.iter().filter(|r| r.score <= 6.0).count();
    let value = (!answers.is_empty()).then(|| 100.0 * (promoters as f64 - detractors as f64) / answers.len() as f64);
    let customers = sorted(answers.iter().filter(|r| r.score >= 9.0).filter_map(|r| r.customer).collect());
    let sample = sorted(answers.iter().filter_map(|r| r.customer).collect());
    (Measure { value, n: answers.len() as u64 }, customers, sample)
}

fn csat(facts: &Facts<'_>, w: Window) -> (Measure, Vec<CustomerId>, Vec<CustomerId>) {
    let answers: Vec<&RatingFact> = ratings_in(facts, w, Scale::Csat).collect();
    let satisfied: Vec<&&RatingFact> = answers.iter().filter(|r| r.score >= 4.0).collect();
    let customers = sorted(satisfied.iter().filter_map(|r| r.customer).collect());
    let sample = sorted(answers.iter().filter_map(|r| r.customer).collect());
    (Measure { value: rate(satisfied.len(), answers.len()), n: answers.len() as u64 }, customers, sample)
}

fn new_by_channel(facts: &Facts<'_>, query: &KpiQuery) -> Vec<ChannelCount> {
    let mut by_channel: HashMap<&str, ChannelCount> = HashMap::new();
    for (customer, (time, channel)) in &facts.first {
        let now = query.current.contains(*time);
        let before = query.previous.contains(*time);
        if !now && !before {
            continue;
        }
        let entry = by_channel.entry(channel.as_str()).or_insert_with(|| ChannelCount {
            channel: channel.clone(),
            current: 0,
            previous: 0,
            customers: Vec::new(),
        });
        if now {
            entry.current += 1;
            entry.customers.push(*customer);
        }
        if before {
            entry.previous += 1;
        }
    }
    let mut rows: Vec<ChannelCount> = by_channel.into_values().collect();
    for row in &mut rows {
        row.customers.sort_unstable();
    }
    rows.sort_by(|a, b| b.current.cmp(&a.current).then(b.previous.cmp(&a.previous)).then(a.channel.cmp(&b.channel)));
    rows
}
