//! The impact of a recorded change on the KPI it names: the metric over matched windows before
//! and after the change's date, the test that fits the metric (two proportions for shares,
//! Welch's t and a bootstrap for means, exact Poisson rates for counts per day), a
//! difference-in-differences against an untouched comparable where one exists, A/B splits by a
//! variant property on events, and a plain-language verdict that always carries its sample size.
//!
//! The types here are the contract the CLI, the API, the web pages and the report read.

use crate::changes::ChangeView;
use crate::dashboard::{OrderFacts, local_day, zone_of};
use crate::engine::{list, touchpoint_named};
use crate::{App, AppError, DayRange, Result};
use chrono::{Duration, NaiveDate, TimeZone};
use chrono_tz::Tz;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use trailmap_store::Store;
use trailmap_analytics::Journeys;
use trailmap_analytics::kpi::Scale;
use trailmap_analytics::stats::{
    self, BootstrapInterval, Comparison, Design, DifferenceInDifferences, GroupPeriod, Statistic, StatsError, Test, Unit,
};
use trailmap_model::{
    Business, ChangeId, ChangeMetric, Channel, CustomerId, EventColumns, EventField, Timestamp, TouchpointId,
};

/// What to measure around a change.
#[derive(Debug, Clone, PartialEq)]
pub struct ImpactRequest {
    /// Days in each of the two windows; None takes the longest matched length the data allows.
    pub window_days: Option<u32>,
    /// Days right after the change left out of the after window, while it settles in.
    pub ramp_up_days: u32,
    /// An untouched comparable metric for a difference-in-differences; None takes the automatic
    /// choice where one exists.
    pub control: Option<ChangeMetric>,
    /// A/B: the event property whose value puts each customer in a variant.
    pub split: Option<String>,
    /// 0.95 for 95% intervals.
    pub confidence: f64,
}

impl Default for ImpactRequest {
    fn default() -> ImpactRequest {
        ImpactRequest { window_days: None, ramp_up_days: 0, control: None, split: None, confidence: 0.95 }
    }
}

/// How a metric's values are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImpactUnit {
    /// A share 0..1.
    Proportion,
    /// Money in the business's currency, in major units (dollars, not cents).
    Money,
    /// A count per day.
    PerDay,
    /// A score on its own scale (NPS -100..100, CSAT 1-5 shown as a share of 4s and 5s is a
    /// proportion instead).
    Score,
}

/// A metric over one window, with the customers behind it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WindowValue {
    pub window: DayRange,
    /// None when the sample is empty.
    pub value: Option<f64>,
    /// People, orders, answers or days, as the metric's `n_means` says.
    pub n: u64,
    /// For shares: how many of the n succeeded (converted, bought again, promoters).
    pub successes: Option<u64>,
    /// The customers the value counts (the sample: for a share, its denominator), sorted.
    pub customers: Vec<CustomerId>,
}

/// The same measurement for an untouched comparable, and the difference-in-differences.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ControlImpact {
    pub metric: ChangeMetric,
    pub label: String,
    /// Why this comparable was chosen (named by the request, or the automatic rule).
    pub reason: String,
    pub before: WindowValue,
    pub after: WindowValue,
    pub did: DifferenceInDifferences,
    pub verdict: String,
    /// For an automatic comparable, the channel or touchpoint left out of `metric` (the changed
    /// one): "new customers from every channel but Referral" is `metric` without `excludes`.
    pub excludes: Option<String>,
}

/// One variant of an A/B split, over the after window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VariantValue {
    pub variant: String,
    pub value: WindowValue,
}

/// An A/B split analysed like a before/after: the baseline variant against each other one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SplitImpact {
    pub property: String,
    pub baseline: VariantValue,
    pub variants: Vec<(VariantValue, Option<Comparison>, String)>,
}

/// The impact of one change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Impact {
    pub business: String,
    pub currency: String,
    pub change: ChangeView,
    pub metric: ChangeMetric,
    /// The KPI's label ("checkout conversion").
    pub label: String,
    pub unit: ImpactUnit,
    /// What n counts: "customers who reached checkout_started", "orders", "answers", "days".
    pub n_means: String,
    pub before: WindowValue,
    pub after: WindowValue,
    /// None when the windows hold too little for any test (the verdict says so).
    pub comparison: Option<Comparison>,
    /// The plain-language verdict; it always gives n.
    pub verdict: String,
    pub control: Option<ControlImpact>,
    /// Why there is no difference-in-differences, when there is none.
    pub control_note: Option<String>,
    pub split: Option<SplitImpact>,
    /// How the numbers were made: windows, test, definitions, in sentences.
    pub method: Vec<String>,
    /// For means (order value, revenue per customer): the seeded BCa bootstrap of the difference
    /// of means beside Welch's t ([`BOOTSTRAP_RESAMPLES`] resamples, seed [`BOOTSTRAP_SEED`]).
    pub bootstrap: Option<Comparison>,
}

/// A metric over a period, as a map card shows it: the value with its n, and its recent trend.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricOver {
    pub metric: ChangeMetric,
    pub label: String,
    pub unit: ImpactUnit,
    /// What n counts.
    pub n_means: String,
    /// Over the whole period.
    pub value: WindowValue,
    /// The value as written for a person ("14.8%", "$42.10", "3.2 per day"); None without data.
    pub shown: Option<String>,
    pub trend: MetricTrend,
}

/// A period (or the last [`TREND_DAYS`] days of every recorded day) against as many days before.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricTrend {
    pub recent: WindowValue,
    pub before: WindowValue,
    pub comparison: Option<Comparison>,
    /// The verdict in words, with n.
    pub verdict: String,
}

/// The days a card's metric trend compares (the period's last days against as many before).
pub const TREND_DAYS: i64 = 30;

/// A metric's value as written for a person.
pub fn shown_value(unit: ImpactUnit, value: f64, currency: &str) -> String {
    match unit {
        ImpactUnit::Proportion => format!("{:.1}%", value * 100.0),
        ImpactUnit::Money => format!("{}{value:.2}", currency_symbol(currency)),
        ImpactUnit::PerDay => format!("{value:.1} per day"),
        ImpactUnit::Score => format!("{value:.0}"),
    }
}

/// Resamples of the bootstrap beside Welch's t for means.
pub const BOOTSTRAP_RESAMPLES: u32 = 10_000;

/// The bootstrap's fixed seed, so the same data always gives the same interval.
pub const BOOTSTRAP_SEED: u64 = 20_260_601;

/// The longest window the automatic choice takes, in days.
pub const MAX_WINDOW_DAYS: i64 = 365;

/// A window of whole days and the instants it covers, `[start, end)` in milliseconds.
#[derive(Debug, Clone, Copy)]
struct Span {
    days: DayRange,
    start: i64,
    end: i64,
}

impl Span {
    fn new(from: NaiveDate, to: NaiveDate, zone: Tz) -> Span {
        Span { days: DayRange { from, to }, start: start_of(from, zone), end: start_of(to + Duration::days(1), zone) }
    }

    fn contains(self, t: i64) -> bool {
        self.start <= t && t < self.end
    }

    fn length(self) -> u32 {
        u32::try_from(self.days.days()).unwrap_or(0)
    }
}

/// The first instant of `day` in `zone`; a midnight lost to a DST change starts at the first
/// whole hour that exists.
fn start_of(day: NaiveDate, zone: Tz) -> i64 {
    let midnight = day.and_time(chrono::NaiveTime::MIN);
    (0..=3)
        .find_map(|h| zone.from_local_datetime(&(midnight + Duration::hours(h))).earliest())
        .map_or(Timestamp::from_date(day).millis(), |start| start.timestamp_millis())
}

/// The measurements of one metric over one window: what its value and its test are made of.
#[derive(Debug, Clone, PartialEq)]
enum Sample {
    /// One yes/no per member of the sample (a customer, or an answer with or without one).
    Shares(Vec<(Option<CustomerId>, bool)>),
    /// One value per observation (an order, an answer, a customer).
    Values(Vec<(Option<CustomerId>, f64)>),
    /// Arrivals counted over the window's days: each counted customer and the day (0-based) they
    /// arrived on.
    Counts { arrivals: Vec<(CustomerId, u32)>, days: u32 },
}

impl Sample {
    fn customers(&self) -> Vec<CustomerId> {
        let mut customers: Vec<CustomerId> = match self {
            Sample::Shares(items) => items.iter().filter_map(|i| i.0).collect(),
            Sample::Values(items) => items.iter().filter_map(|i| i.0).collect(),
            Sample::Counts { arrivals, .. } => arrivals.iter().map(|a| a.0).collect(),
        };
        customers.sort_unstable();
        customers.dedup();
        customers
    }

    /// The same sample with only the members whose customer is in `keep` (answers without a
    /// customer cannot be placed in a variant, so they go).
    fn restricted(&self, keep: &HashSet<CustomerId>) -> Sample {
        let kept = |c: &Option<CustomerId>| c.is_some_and(|c| keep.contains(&c));
        match self {
            Sample::Shares(items) => Sample::Shares(items.iter().filter(|i| kept(&i.0)).copied().collect()),
            Sample::Values(items) => Sample::Values(items.iter().filter(|i| kept(&i.0)).copied().collect()),
            Sample::Counts { arrivals, days } => {
                Sample::Counts { arrivals: arrivals.iter().filter(|a| keep.contains(&a.0)).copied().collect(), days: *days }
            }
        }
    }

    fn values(&self) -> Vec<f64> {
        match self {
            Sample::Values(items) => items.iter().map(|i| i.1).collect(),
            _ => Vec::new(),
        }
    }

    /// Arrivals per day of the window, every day listed (zeros included).
    fn daily_counts(&self) -> Vec<f64> {
        match self {
            Sample::Counts { arrivals, days } => {
                let mut per_day = vec![0.0; *days as usize];
                for (_, day) in arrivals {
                    if let Some(slot) = per_day.get_mut(*day as usize) {
                        *slot += 1.0;
                    }
                }
                per_day
            }
            _ => Vec::new(),
        }
    }

    fn window_value(&self, span: Span) -> WindowValue {
        let customers = self.customers();
        let (value, n, successes) = match self {
            Sample::Shares(items) => {
                let successes = items.iter().filter(|i| i.1).count() as u64;
                let n = items.len() as u64;
                ((n > 0).then(|| successes as f64 / n as f64), n, Some(successes))
            }
            Sample::Values(items) => {
                let n = items.len() as u64;
                ((n > 0).then(|| items.iter().map(|i| i.1).sum::<f64>() / n as f64), n, None)
            }
            Sample::Counts { arrivals, days } => {
                let n = arrivals.len() as u64;
                ((*days > 0).then(|| n as f64 / f64::from(*days)), n, None)
            }
        };
        WindowValue { window: span.days, value, n, successes, customers }
    }

    /// The sample as one group-period of a difference-in-differences; None when it is too small.
    fn group(&self) -> Option<GroupPeriod> {
        let summary = |values: &[f64]| {
            let n = values.len();
            (n >= 2).then(|| {
                let mean = values.iter().sum::<f64>() / n as f64;
                let variance = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1) as f64;
                GroupPeriod::Mean { mean, variance, n: n as u64 }
            })
        };
        match self {
            Sample::Shares(items) => {
                let n = items.len() as u64;
                (n > 0).then(|| GroupPeriod::Proportion { successes: items.iter().filter(|i| i.1).count() as u64, n })
            }
            Sample::Values(_) => summary(&self.values()),
            Sample::Counts { .. } => summary(&self.daily_counts()),
        }
    }
}

/// The comparisons of two samples: the test that fits, and for means the bootstrap beside it.
struct Compared {
    /// Ok: the test; Err: a placeholder carrying only the sizes, for the verdict to say "too
    /// few data", or the reason when the test has nothing to measure.
    main: std::result::Result<Comparison, Unjudged>,
    bootstrap: Option<Comparison>,
}

enum Unjudged {
    /// Too few observations: a comparison with only its test and sizes, which the verdict turns
    /// into "too few data".
    TooFew(Comparison),
    /// The test refused for another reason (no spread at all), in words.
    Other(String),
}

/// A comparison that only carries its test and sample sizes, for the verdict's "too few data".
fn sizes_only(test: Test, n_before: u64, n_after: u64, confidence: f64) -> Comparison {
    Comparison {
        test,
        before: f64::NAN,
        after: f64::NAN,
        difference: f64::NAN,
        relative_change: None,
        ci: (f64::NAN, f64::NAN),
        confidence,
        p_value: f64::NAN,
        statistic: None,
        degrees_of_freedom: None,
        n_before,
        n_after,
        successes: None,
        exposure: None,
        rate_ratio: None,
    }
}

fn compare(before: &Sample, after: &Sample, confidence: f64) -> Compared {
    match (before, after) {
        (Sample::Shares(b), Sample::Shares(a)) => {
            let count = |items: &[(Option<CustomerId>, bool)]| (items.iter().filter(|i| i.1).count() as u64, items.len() as u64);
            let ((s0, n0), (s1, n1)) = (count(b), count(a));
            let main = stats::two_proportions(s0, n0, s1, n1, confidence)
                .map_err(|_| Unjudged::TooFew(sizes_only(Test::TwoProportions, n0, n1, confidence)));
            Compared { main, bootstrap: None }
        }
        (Sample::Values(_), Sample::Values(_)) => {
            let (b, a) = (before.values(), after.values());
            let main = match stats::welch(&b, &a, confidence) {
                Ok(c) => Ok(c),
                Err(StatsError::NoVariation { .. }) => Err(Unjudged::Other(format!(
                    "every value is the same on both sides, so there is no spread to test against (n = {})",
                    b.len() + a.len()
                ))),
                Err(_) => Err(Unjudged::TooFew(sizes_only(Test::Welch, b.len() as u64, a.len() as u64, confidence))),
            };
            let bootstrap = stats::bootstrap_difference(
                &b,
                &a,
                Statistic::Mean,
                BootstrapInterval::Bca,
                BOOTSTRAP_RESAMPLES,
                BOOTSTRAP_SEED,
                confidence,
            )
            .ok();
            Compared { main, bootstrap }
        }
        (Sample::Counts { arrivals: b, days: d0 }, Sample::Counts { arrivals: a, days: d1 }) => {
            let (c0, c1) = (b.len() as u64, a.len() as u64);
            let main = stats::poisson_rates(c0, f64::from(*d0), c1, f64::from(*d1), confidence)
                .map_err(|_| Unjudged::TooFew(sizes_only(Test::PoissonRates, c0, c1, confidence)));
            Compared { main, bootstrap: None }
        }
        // Both samples of one comparison always come from one metric kind.
        _ => Compared { main: Err(Unjudged::Other("the two samples are of different kinds".into())), bootstrap: None },
    }
}

/// The verdict of a comparison (always from `stats::verdict`, but for a test with nothing to
/// measure), and the comparison when there is one.
fn judged(label: &str, unit: &Unit, compared: &std::result::Result<Comparison, Unjudged>, design: Design<'_>) -> (Option<Comparison>, String) {
    match compared {
        Ok(c) => (Some(c.clone()), stats::verdict(label, unit, c, design)),
        Err(Unjudged::TooFew(sizes)) => (None, stats::verdict(label, unit, sizes, design)),
        Err(Unjudged::Other(reason)) => (None, format!("cannot judge {label}: {reason}")),
    }
}

/// What is measured: a change's metric, or an automatic comparable that has no text form.
#[derive(Debug, Clone, PartialEq)]
enum Measure {
    Metric(ChangeMetric),
    /// New customers whose first channel is any but this one.
    NewCustomersExcept(String),
    /// CSAT answered at any touchpoint but this one.
    CsatExcept(String),
    /// Revenue: each day's order totals, a mean per day (alerts).
    DailyRevenue,
    /// The events matching a touchpoint's rule, counted per day (alerts).
    TouchpointVolume(String),
}

fn unit_of(metric: &ChangeMetric) -> ImpactUnit {
    match metric {
        ChangeMetric::StepConversion { .. } | ChangeMetric::StageReach { .. } | ChangeMetric::RepeatRate | ChangeMetric::Csat { .. } => {
            ImpactUnit::Proportion
        }
        ChangeMetric::AverageOrderValue | ChangeMetric::RevenuePerCustomer => ImpactUnit::Money,
        ChangeMetric::Nps => ImpactUnit::Score,
        ChangeMetric::NewCustomers { .. } => ImpactUnit::PerDay,
    }
}

fn n_means(metric: &ChangeMetric) -> String {
    match metric {
        ChangeMetric::StepConversion { from, .. } => format!("customers who reached {from} in the window"),
        ChangeMetric::StageReach { .. } => "customers active in the window (any event)".into(),
        ChangeMetric::RepeatRate => "customers who ordered in the window".into(),
        ChangeMetric::AverageOrderValue => "orders".into(),
        ChangeMetric::RevenuePerCustomer => "customers active in the window (any event or order)".into(),
        ChangeMetric::Nps => "NPS answers".into(),
        ChangeMetric::Csat { .. } => "CSAT answers".into(),
        ChangeMetric::NewCustomers { .. } => "new customers, counted over the window's days".into(),
    }
}

/// How the metric is defined, in a sentence for `method`.
fn definition(metric: &ChangeMetric) -> String {
    match metric {
        ChangeMetric::StepConversion { from, to, window_days } => format!(
            "Conversion: of the customers with a {from} in the window, the share who reach {to} within {window_days} day(s) of one (an ordered two-step funnel)."
        ),
        ChangeMetric::StageReach { stage } => format!(
            "Reach: of the customers with any event in the window, the share with an event of a touchpoint of stage {stage} in it."
        ),
        ChangeMetric::RepeatRate => "Repeat rate: of the customers with an order in the window, the share with at least two orders up to \
             the window's end. Orders since the data's start count, so the later window sees more of each buyer's history; read a \
             rise with that in mind."
            .into(),
        ChangeMetric::AverageOrderValue => "Average order value: the mean total of the orders in the window, in the business's currency only.".into(),
        ChangeMetric::RevenuePerCustomer => {
            "Revenue per customer: per customer active in the window (any event or order), their order totals in it; customers without an order count as 0.".into()
        }
        ChangeMetric::Nps => "NPS: each answer in the window scores +100 (9-10), 0 (7-8) or −100 (0-6); NPS is their mean.".into(),
        ChangeMetric::Csat { touchpoint } => format!(
            "CSAT: the share of CSAT answers in the window that are 4 or 5{}.",
            touchpoint.as_ref().map_or(String::new(), |t| format!(", from surveys asked at touchpoint {t}"))
        ),
        ChangeMetric::NewCustomers { channel } => format!(
            "New customers: customers whose first activity (event or order) falls in the window{}, per day of the window.",
            channel.as_ref().map_or(String::new(), |c| format!(" and whose first event's channel is {c}"))
        ),
    }
}

fn verdict_unit(unit: ImpactUnit, currency: &str) -> Unit {
    match unit {
        ImpactUnit::Proportion => Unit::Proportion,
        ImpactUnit::Money => Unit::Currency { symbol: currency_symbol(currency) },
        ImpactUnit::PerDay => Unit::Number { suffix: " per day".into() },
        ImpactUnit::Score => Unit::Number { suffix: String::new() },
    }
}

fn currency_symbol(code: &str) -> String {
    match code {
        "USD" | "CAD" | "AUD" | "NZD" => "$".into(),
        "EUR" => "€".into(),
        "GBP" => "£".into(),
        "JPY" => "¥".into(),
        other => format!("{other} "),
    }
}

/// An order as impact reads it.
#[derive(Debug, Clone, Copy)]
struct OrderRow {
    customer: CustomerId,
    time: i64,
    /// The total in major units of the business's currency.
    total: f64,
}

/// An NPS or CSAT answer as impact reads it.
#[derive(Debug, Clone, Copy)]
struct RatingRow {
    customer: Option<CustomerId>,
    time: i64,
    nps: bool,
    score: f64,
    touchpoint: Option<TouchpointId>,
}

/// Everything the measurements read, loaded once per request.
struct Facts {
    zone: Tz,
    journeys: Arc<Journeys>,
    /// Orders in the business's currency, sorted by time.
    orders: Vec<OrderRow>,
    ratings: Vec<RatingRow>,
    /// Each customer's first activity (event or order) and first event's channel.
    first: HashMap<CustomerId, (i64, String)>,
    /// Each customer's order times, sorted.
    order_times: HashMap<CustomerId, Vec<i64>>,
    /// The first and last day with an event or an order, None when there is neither.
    data_days: Option<(NaiveDate, NaiveDate)>,
    /// Orders left out because they are in another currency.
    other_currency: u64,
}

impl Facts {
    fn orders_in(&self, span: Span) -> &[OrderRow] {
        let start = self.orders.partition_point(|o| o.time < span.start);
        let end = self.orders.partition_point(|o| o.time < span.end).max(start);
        &self.orders[start..end]
    }

    /// Customers with an event in the window, and with `orders_too` an order as well, sorted.
    fn active(&self, span: Span, orders_too: bool) -> Vec<CustomerId> {
        let table = self.journeys.table();
        let mut active: Vec<CustomerId> = self
            .journeys
            .iter()
            .filter(|j| {
                let times = &table.time[j.rows.clone()];
                let at = times.partition_point(|t| *t < span.start);
                at < times.len() && times[at] < span.end
            })
            .map(|j| j.customer)
            .collect();
        if orders_too {
            active.extend(self.orders_in(span).iter().map(|o| o.customer));
        }
        active.sort_unstable();
        active.dedup();
        active
    }
}

/// The windows of one request.
struct Windows {
    before: Span,
    after: Span,
    notes: Vec<String>,
}

fn invalid_field(field: &str, value: Option<String>, reason: impl Into<String>) -> AppError {
    AppError::InvalidField { field: field.to_string(), value, reason: reason.into() }
}

/// The matched windows around `date`: before is `[date − L, date)`, after is
/// `[date + ramp, date + ramp + L)`, both inside the data, the after window leaving `settle_days`
/// for its last entrants to convert inside the data.
fn matched_windows(date: NaiveDate, data: (NaiveDate, NaiveDate), request: &ImpactRequest, settle_days: u32, zone: Tz) -> Result<Windows> {
    let (first, last) = data;
    let ramp = i64::from(request.ramp_up_days);
    let after_start = date + Duration::days(ramp);
    let days_before = (date - first).num_days();
    let days_after = (last - after_start).num_days() + 1;
    let room_after = days_after - i64::from(settle_days);
    if days_before <= 0 {
        return Err(invalid_field(
            "window_days",
            request.window_days.map(|d| d.to_string()),
            format!("the data starts on {first}, not before the change on {date}, so there is no before window"),
        ));
    }
    if days_after <= 0 {
        return Err(invalid_field(
            "ramp_up_days",
            Some(request.ramp_up_days.to_string()),
            format!("the after window would start on {after_start}, after the data's last day {last}"),
        ));
    }
    if room_after <= 0 {
        let field = if request.ramp_up_days > 0 { "ramp_up_days" } else { "window_days" };
        let value = if request.ramp_up_days > 0 { Some(request.ramp_up_days.to_string()) } else { request.window_days.map(|d| d.to_string()) };
        return Err(invalid_field(
            field,
            value,
            format!(
                "the after window from {after_start} leaves {days_after} day(s) of data, and its entrants need {settle_days} day(s) to convert inside the data (which ends on {last})"
            ),
        ));
    }
    let mut notes = Vec::new();
    let length = match request.window_days {
        Some(0) => return Err(invalid_field("window_days", Some("0".into()), "a window must be at least 1 day")),
        Some(asked) => {
            let asked = i64::from(asked);
            if asked > days_before {
                return Err(invalid_field(
                    "window_days",
                    Some(asked.to_string()),
                    format!("only {days_before} day(s) of data come before the change on {date} (the data starts on {first})"),
                ));
            }
            if asked > room_after {
                return Err(invalid_field(
                    "window_days",
                    Some(asked.to_string()),
                    if settle_days > 0 {
                        format!(
                            "only {room_after} day(s) fit after {after_start}: the data ends on {last} and the window's entrants need {settle_days} day(s) to convert inside it"
                        )
                    } else {
                        format!("only {days_after} day(s) of data come from {after_start} (the data ends on {last})")
                    },
                ));
            }
            notes.push(format!("Each window is {asked} day(s) long, as asked."));
            asked
        }
        None => {
            let length = days_before.min(room_after).min(MAX_WINDOW_DAYS);
            notes.push(format!(
                "Each window is {length} day(s) long: the longest matched length the data allows (data from {first} to {last}{}).",
                if length == MAX_WINDOW_DAYS { ", capped at 365 days" } else { "" }
            ));
            if settle_days > 0 && room_after < days_before.min(days_after).min(MAX_WINDOW_DAYS) {
                notes.push(format!(
                    "The windows were shortened by {settle_days} day(s) so that the after window's last entrants had {settle_days} day(s) to convert inside the data."
                ));
            }
            length
        }
    };
    let before = Span::new(date - Duration::days(length), date - Duration::days(1), zone);
    let after = Span::new(after_start, after_start + Duration::days(length - 1), zone);
    notes.push(format!(
        "Before: {} to {}; after: {} to {}{}.",
        before.days.from,
        before.days.to,
        after.days.from,
        after.days.to,
        if ramp > 0 { format!(", leaving out the {ramp} day(s) after the change while it settled in") } else { String::new() }
    ));
    if settle_days > 0 {
        notes.push(format!(
            "Customers who entered in the before window's last {settle_days} day(s) may have converted after the change, inside their {settle_days}-day window."
        ));
    }
    Ok(Windows { before, after, notes })
}

/// The days a conversion metric needs after its window for its entrants to convert.
fn settle_days(metric: &ChangeMetric) -> u32 {
    match metric {
        ChangeMetric::StepConversion { window_days, .. } => *window_days,
        _ => 0,
    }
}

impl App {
    /// The impact of change `id` of `business`.
    pub fn change_impact(&self, business: &Business, id: ChangeId, request: &ImpactRequest) -> Result<Impact> {
        let changes = self.changes(business)?;
        let change = changes.iter().find(|c| c.id == id).cloned().ok_or_else(|| {
            AppError::NotFound(format!(
                "change {id}: {} has no such change; its changes are: {}",
                business.name,
                if changes.is_empty() {
                    "none".to_string()
                } else {
                    changes.iter().map(|c| format!("{} ({})", c.id, c.title)).collect::<Vec<_>>().join(", ")
                }
            ))
        })?;
        let metric = change.metric.clone().ok_or_else(|| {
            invalid_field("metric", None, format!("change {id} ({}) names no metric to measure; record one such as conversion:checkout_started>purchase:7d", change.title))
        })?;
        if !(request.confidence.is_finite() && request.confidence > 0.0 && request.confidence < 1.0) {
            return Err(invalid_field("confidence", Some(request.confidence.to_string()), "must lie strictly between 0 and 1, such as 0.95"));
        }
        if let Some(key) = &request.split
            && key.trim().is_empty()
        {
            return Err(invalid_field("split", Some(key.clone()), "name the event property that holds the variant"));
        }
        let unit = unit_of(&metric);
        if let Some(control) = &request.control
            && unit_of(control) != unit
        {
            return Err(invalid_field(
                "control",
                Some(control.to_string()),
                format!("{} is measured as {:?} but {} as {:?}; a comparable must be measured the same way", control.label(), unit_of(control), metric.label(), unit),
            ));
        }
        let facts = self.impact_facts(business, request.split.is_some())?;
        let data_days = facts
            .data_days
            .ok_or_else(|| invalid_field("window_days", None, format!("{} has no events or orders to measure", business.name)))?;
        let settle = settle_days(&metric).max(request.control.as_ref().map_or(0, settle_days));
        let windows = matched_windows(change.date, data_days, request, settle, facts.zone)?;
        let label = change.kpi.clone().unwrap_or_else(|| metric.label());
        let currency = business.currency.to_string();
        let verdict_unit = verdict_unit(unit, &currency);
        let measured = Measure::Metric(metric.clone());
        let before = self.measure(business, &facts, &measured, windows.before, "metric")?;
        let after = self.measure(business, &facts, &measured, windows.after, "metric")?;
        let compared = compare(&before, &after, request.confidence);

        // The comparable for a difference-in-differences: the one asked for, else the automatic one.
        let comparable = match (&request.control, &metric) {
            (Some(control), _) => Some((Measure::Metric(control.clone()), control.clone(), None, control.label(), "named by the request".to_string())),
            (None, ChangeMetric::NewCustomers { channel: Some(channel) }) => Some((
                Measure::NewCustomersExcept(channel.clone()),
                ChangeMetric::NewCustomers { channel: None },
                Some(channel.clone()),
                format!("new customers from every channel but {channel}"),
                format!("the change names channel {channel}; new customers from the other channels are the untouched comparison"),
            )),
            (None, ChangeMetric::Csat { touchpoint: Some(touchpoint) }) => Some((
                Measure::CsatExcept(touchpoint.clone()),
                ChangeMetric::Csat { touchpoint: None },
                Some(touchpoint.clone()),
                format!("CSAT at every touchpoint but {touchpoint}"),
                format!("the change names touchpoint {touchpoint}; CSAT at the other touchpoints is the untouched comparison"),
            )),
            _ => None,
        };
        let mut control_note = None;
        let mut control = None;
        if let Some((measure, control_metric, excludes, control_label, reason)) = comparable {
            let control_before = self.measure(business, &facts, &measure, windows.before, "control")?;
            let control_after = self.measure(business, &facts, &measure, windows.after, "control")?;
            let groups = (before.group(), after.group(), control_before.group(), control_after.group());
            let did = match groups {
                (Some(tb), Some(ta), Some(cb), Some(ca)) => stats::difference_in_differences((tb, ta), (cb, ca), request.confidence).ok(),
                _ => None,
            };
            match did {
                Some(did) => {
                    let (_, control_verdict) = judged(
                        &control_label,
                        &verdict_unit,
                        &compare(&control_before, &control_after, request.confidence).main,
                        Design::BeforeAfter,
                    );
                    control = Some(ControlImpact {
                        metric: control_metric,
                        label: control_label,
                        reason,
                        before: control_before.window_value(windows.before),
                        after: control_after.window_value(windows.after),
                        did,
                        verdict: control_verdict,
                        excludes,
                    });
                }
                None => {
                    control_note = Some(format!(
                        "no difference-in-differences: {control_label} has too few data in one of the windows (n = {} before, {} after)",
                        control_before.window_value(windows.before).n,
                        control_after.window_value(windows.after).n
                    ));
                }
            }
        } else {
            control_note = Some(no_control_reason(&metric));
        }
        let design = control.as_ref().map_or(Design::BeforeAfter, |c| Design::WithControl(&c.did));
        let (comparison, verdict) = judged(&label, &verdict_unit, &compared.main, design);

        let split = match &request.split {
            Some(key) => Some(self.split_impact(business, &facts, &measured, key, windows.after, &label, &verdict_unit, request.confidence)?),
            None => None,
        };

        let mut method = windows.notes.clone();
        method.push(definition(&metric));
        if let Some(c) = &comparison {
            method.push(format!(
                "Test: {} at {}% confidence; {}.",
                c.test.describe(),
                (request.confidence * 1000.0).round() / 10.0,
                p_text(c.p_value)
            ));
        }
        if let Some(b) = &compared.bootstrap {
            method.push(format!(
                "Beside Welch's t: a BCa bootstrap of the difference of means ({BOOTSTRAP_RESAMPLES} resamples, seed {BOOTSTRAP_SEED}) gives {} to {} ({}).",
                money_text(b.ci.0),
                money_text(b.ci.1),
                p_text(b.p_value)
            ));
        }
        if unit == ImpactUnit::PerDay {
            method.push(format!(
                "Counts per day over {} day(s) before and {} after, as Poisson rates; the rate ratio's interval is exact.",
                windows.before.length(),
                windows.after.length()
            ));
        }
        if let Some(c) = &control {
            method.push(format!(
                "Difference in differences against {} ({}): {} change minus the comparison's, normal interval.",
                c.label,
                c.reason,
                label
            ));
        }
        if facts.other_currency > 0 && matches!(metric, ChangeMetric::AverageOrderValue | ChangeMetric::RevenuePerCustomer) {
            method.push(format!("{} order(s) in another currency than {currency} are left out.", facts.other_currency));
        }
        Ok(Impact {
            business: business.name.clone(),
            currency,
            change,
            metric: metric.clone(),
            label,
            unit,
            n_means: n_means(&metric),
            before: before.window_value(windows.before),
            after: after.window_value(windows.after),
            comparison,
            verdict,
            control,
            control_note,
            split,
            method,
            bootstrap: compared.bootstrap,
        })
    }

    /// The A/B split of the after window by event property `key`.
    #[allow(clippy::too_many_arguments)]
    fn split_impact(
        &self,
        business: &Business,
        facts: &Facts,
        measured: &Measure,
        key: &str,
        after: Span,
        label: &str,
        unit: &Unit,
        confidence: f64,
    ) -> Result<SplitImpact> {
        let key = key.trim();
        let variants = variants_by(&facts.journeys, key);
        if variants.is_empty() {
            return Err(invalid_field("split", Some(key.to_string()), format!("no event of {} carries the property {key:?}", business.name)));
        }
        let mut groups: BTreeMap<String, HashSet<CustomerId>> = BTreeMap::new();
        for (customer, variant) in variants {
            groups.entry(variant).or_default().insert(customer);
        }
        let sample = self.measure(business, facts, measured, after, "metric")?;
        let baseline_name = groups
            .keys()
            .find(|v| v.eq_ignore_ascii_case("control"))
            .or_else(|| groups.keys().find(|v| v.eq_ignore_ascii_case("a")))
            .or_else(|| groups.keys().next())
            .cloned()
            .unwrap_or_default();
        let baseline_sample = groups.get(&baseline_name).map_or_else(|| sample.restricted(&HashSet::new()), |keep| sample.restricted(keep));
        let baseline = VariantValue { variant: baseline_name.clone(), value: baseline_sample.window_value(after) };
        let mut variants = Vec::new();
        for (name, keep) in groups.iter().filter(|(name, _)| **name != baseline_name) {
            let variant_sample = sample.restricted(keep);
            let (comparison, verdict) = judged(label, unit, &compare(&baseline_sample, &variant_sample, confidence).main, Design::Split);
            variants.push((VariantValue { variant: name.clone(), value: variant_sample.window_value(after) }, comparison, verdict));
        }
        Ok(SplitImpact { property: key.to_string(), baseline, variants })
    }

    /// The events, orders and answers every measurement reads.
    fn impact_facts(&self, business: &Business, properties: bool) -> Result<Facts> {
        let zone = zone_of(business);
        let journeys = self.journeys(business.id, EventColumns { properties })?;
        let table = journeys.table();
        let mut first: HashMap<CustomerId, (i64, String)> = HashMap::new();
        for journey in journeys.iter() {
            let row = journey.rows.start;
            let channel = table.string(table.channel[row]);
            first.insert(journey.customer, (table.time[row], if channel.is_empty() { "(none)".to_string() } else { channel.to_string() }));
        }
        let minor = business.currency.minor_per_major() as f64;
        let data = self.business_data(business.id)?;
        let OrderFacts { facts: order_facts, other_currency, span: order_span } = crate::dashboard::order_facts(business, data.orders());
        let mut orders: Vec<OrderRow> =
            order_facts.iter().map(|o| OrderRow { customer: o.customer, time: o.time, total: o.total_minor as f64 / minor }).collect();
        orders.sort_by_key(|o| (o.time, o.customer));
        let mut order_times: HashMap<CustomerId, Vec<i64>> = HashMap::new();
        for o in &orders {
            order_times.entry(o.customer).or_default().push(o.time);
            let entry = first.entry(o.customer).or_insert((o.time, "(none)".to_string()));
            entry.0 = entry.0.min(o.time);
        }
        let event_span = table.time.iter().copied().min().zip(table.time.iter().copied().max());
        let span = match (event_span, order_span) {
            (Some(e), Some(o)) => Some((e.0.min(o.0), e.1.max(o.1))),
            (e, o) => e.or(o),
        };
        let data_days = span.map(|(a, b)| (local_day(a, zone), local_day(b, zone)));
        let ratings = self
            .rating_facts(business, data.responses())?
            .into_iter()
            .filter(|(fact, _)| fact.score.is_finite())
            .map(|(fact, touchpoint)| RatingRow { customer: fact.customer, time: fact.time, nps: fact.scale == Scale::Nps, score: fact.score, touchpoint })
            .collect();
        Ok(Facts { zone, journeys, orders, ratings, first, order_times, data_days, other_currency })
    }

    /// One measurement over one window; errors name `field` (`metric` or `control`).
    fn measure(&self, business: &Business, facts: &Facts, measure: &Measure, span: Span, field: &str) -> Result<Sample> {
        let value = || Some(match measure {
            Measure::Metric(m) => m.to_string(),
            Measure::NewCustomersExcept(c) => format!("new customers but {c}"),
            Measure::CsatExcept(t) => format!("csat but {t}"),
            Measure::DailyRevenue => "revenue".to_string(),
            Measure::TouchpointVolume(t) => format!("volume:{t}"),
        });
        let wrong = |error: AppError| match error {
            AppError::Invalid(reason) | AppError::InvalidField { reason, .. } => invalid_field(field, value(), reason),
            other => other,
        };
        Ok(match measure {
            Measure::Metric(ChangeMetric::StepConversion { from, to, window_days }) => {
                let mut request = App::funnel_request(vec![from.clone(), to.clone()]);
                request.window_ms = i64::from(*window_days) * Timestamp::MS_PER_DAY;
                request.period = Some((Timestamp(span.start), Timestamp(span.end)));
                let answer = self.funnel_with_lists(business, &request).map_err(wrong)?;
                let steps = &answer.report.overall.steps;
                let converted: HashSet<CustomerId> = steps.get(1).map(|s| s.customers.iter().copied().collect()).unwrap_or_default();
                let entered = steps.first().map(|s| s.customers.clone()).unwrap_or_default();
                Sample::Shares(entered.into_iter().map(|c| (Some(c), converted.contains(&c))).collect())
            }
            Measure::Metric(ChangeMetric::StageReach { stage }) => {
                let mut request = App::funnel_request(vec![format!("stage:{stage}")]);
                request.period = Some((Timestamp(span.start), Timestamp(span.end)));
                let answer = self.funnel_with_lists(business, &request).map_err(wrong)?;
                let reached: HashSet<CustomerId> =
                    answer.report.overall.steps.first().map(|s| s.customers.iter().copied().collect()).unwrap_or_default();
                Sample::Shares(facts.active(span, false).into_iter().map(|c| (Some(c), reached.contains(&c))).collect())
            }
            Measure::Metric(ChangeMetric::RepeatRate) => {
                let mut buyers: Vec<CustomerId> = facts.orders_in(span).iter().map(|o| o.customer).collect();
                buyers.sort_unstable();
                buyers.dedup();
                Sample::Shares(
                    buyers
                        .into_iter()
                        .map(|c| (Some(c), facts.order_times.get(&c).is_some_and(|times| times.partition_point(|t| *t < span.end) >= 2)))
                        .collect(),
                )
            }
            Measure::Metric(ChangeMetric::AverageOrderValue) => {
                Sample::Values(facts.orders_in(span).iter().map(|o| (Some(o.customer), o.total)).collect())
            }
            Measure::Metric(ChangeMetric::RevenuePerCustomer) => {
                let mut revenue: BTreeMap<CustomerId, f64> = facts.active(span, true).into_iter().map(|c| (c, 0.0)).collect();
                for order in facts.orders_in(span) {
                    *revenue.entry(order.customer).or_default() += order.total;
                }
                Sample::Values(revenue.into_iter().map(|(c, v)| (Some(c), v)).collect())
            }
            Measure::Metric(ChangeMetric::Nps) => Sample::Values(
                facts
                    .ratings
                    .iter()
                    .filter(|r| r.nps && span.contains(r.time))
                    .map(|r| (r.customer, if r.score >= 9.0 { 100.0 } else if r.score >= 7.0 { 0.0 } else { -100.0 }))
                    .collect(),
            ),
            Measure::Metric(ChangeMetric::Csat { touchpoint }) => {
                let at = match touchpoint {
                    Some(name) => Some(self.touchpoint_id(business, name).map_err(wrong)?),
                    None => None,
                };
                csat_sample(facts, span, |tp| at.is_none_or(|at| tp == Some(at)))
            }
            Measure::CsatExcept(name) => {
                let at = self.touchpoint_id(business, name).map_err(wrong)?;
                csat_sample(facts, span, |tp| tp.is_some_and(|tp| tp != at))
            }
            Measure::Metric(ChangeMetric::NewCustomers { channel }) => {
                let channel = channel.as_deref().map(|c| self.channel_name(c)).transpose().map_err(wrong)?;
                arrivals(facts, span, |first| channel.is_none_or(|c| first.eq_ignore_ascii_case(c)))
            }
            Measure::NewCustomersExcept(channel) => {
                let channel = self.channel_name(channel).map_err(wrong)?;
                arrivals(facts, span, |first| !first.eq_ignore_ascii_case(channel))
            }
            Measure::DailyRevenue => {
                let mut per_day = vec![0.0; span.length() as usize];
                for order in facts.orders_in(span) {
                    let day = (local_day(order.time, facts.zone) - span.days.from).num_days();
                    if let Some(slot) = usize::try_from(day).ok().and_then(|d| per_day.get_mut(d)) {
                        *slot += order.total;
                    }
                }
                Sample::Values(per_day.into_iter().map(|v| (None, v)).collect())
            }
            Measure::TouchpointVolume(name) => {
                let touchpoints = self.store().touchpoints(business.id)?;
                let touchpoint = touchpoint_named(&touchpoints, name).map_err(|reason| invalid_field(field, value(), reason))?;
                let table = facts.journeys.table();
                let compiled = trailmap_analytics::CompiledRule::new(&touchpoint.rule, table);
                let mut arrivals: Vec<(CustomerId, u32)> = facts
                    .journeys
                    .iter()
                    .flat_map(|j| j.rows.clone().map(move |row| (j.customer, row)))
                    .filter(|&(_, row)| span.contains(table.time[row]) && compiled.matches(table, row))
                    .map(|(customer, row)| {
                        let day = (local_day(table.time[row], facts.zone) - span.days.from).num_days();
                        (customer, u32::try_from(day.max(0)).unwrap_or(0))
                    })
                    .collect();
                arrivals.sort_unstable();
                Sample::Counts { arrivals, days: span.length() }
            }
        })
    }

    /// A metric for a map card's live evidence: its value over whole days `days` (None: every
    /// recorded day), and its trend: the period against as many days just before it (for every
    /// recorded day, its last `TREND_DAYS` days against as many before them), judged by the test a
    /// change's impact uses. Only the customers in `only`
    /// count when it is given (a persona's); answers without a customer then drop out.
    ///
    /// The events, orders and answers are read once for all of `metrics`; each answer is the
    /// metric's own, so one that cannot be computed (an unknown touchpoint) leaves the others.
    pub fn metrics_over(
        &self,
        business: &Business,
        metrics: &[ChangeMetric],
        days: Option<DayRange>,
        only: Option<&HashSet<CustomerId>>,
    ) -> Result<Vec<Result<MetricOver>>> {
        if metrics.is_empty() {
            return Ok(Vec::new());
        }
        let facts = self.impact_facts(business, false)?;
        Ok(metrics.iter().map(|metric| self.metric_over(business, &facts, metric, days, only)).collect())
    }

    /// One metric of [`App::metrics_over`] over the facts read for them all.
    fn metric_over(
        &self,
        business: &Business,
        facts: &Facts,
        metric: &ChangeMetric,
        days: Option<DayRange>,
        only: Option<&HashSet<CustomerId>>,
    ) -> Result<MetricOver> {
        let zone = facts.zone;
        let period = match days {
            Some(d) => d,
            None => {
                let (from, to) = facts.data_days.ok_or_else(|| AppError::Invalid(format!("{} has no events or orders yet", business.name)))?;
                DayRange { from, to }
            }
        };
        let measure = Measure::Metric(metric.clone());
        let sample = |span: Span| -> Result<Sample> {
            let sample = self.measure(business, facts, &measure, span, "metric")?;
            Ok(match only {
                Some(keep) => sample.restricted(keep),
                None => sample,
            })
        };
        let whole = Span::new(period.from, period.to, zone);
        let value = sample(whole)?.window_value(whole);
        let unit = unit_of(metric);
        // A chosen period is compared with the same number of days just before it; every
        // recorded day has no "before", so its last days are.
        let recent_days = if days.is_some() { period.days() } else { TREND_DAYS.min(period.days()) };
        let recent = Span::new(period.to - Duration::days(recent_days - 1), period.to, zone);
        let before = Span::new(recent.days.from - Duration::days(recent_days), recent.days.from - Duration::days(1), zone);
        let (recent_sample, before_sample) = (sample(recent)?, sample(before)?);
        let label = metric.label();
        let compared = compare(&before_sample, &recent_sample, 0.95);
        let currency = business.currency.to_string();
        let (comparison, verdict) = judged(&label, &verdict_unit(unit, &currency), &compared.main, Design::BeforeAfter);
        let (recent_value, before_value) = (recent_sample.window_value(recent), before_sample.window_value(before));
        // The trend in the card's words (last days against the days before), not a change's
        // "before/after"; without a test the verdict says why (too few data).
        let verdict = match (&comparison, before_value.value, recent_value.value) {
            (Some(c), Some(b), Some(r)) => {
                let (b, r_text) = (shown_value(unit, b, &currency), shown_value(unit, r, &currency));
                let n = c.n_before + c.n_after;
                let recent_days = if recent_days == 1 { "day".to_string() } else { format!("{recent_days} days") };
                if c.is_clear() {
                    let way = if c.difference > 0.0 { "up" } else { "down" };
                    format!("{way} to {r_text} from {b} in the {recent_days} before ({}, n = {n})", p_text(c.p_value))
                } else {
                    format!("no clear change: {r_text}, against {b} in the {recent_days} before (n = {n})")
                }
            }
            _ => verdict,
        };
        let trend = MetricTrend { recent: recent_value, before: before_value, comparison, verdict };
        Ok(MetricOver {
            metric: metric.clone(),
            label,
            unit,
            n_means: n_means(metric),
            shown: value.value.map(|v| shown_value(unit, v, &business.currency.to_string())),
            value,
            trend,
        })
    }

    fn touchpoint_id(&self, business: &Business, name: &str) -> Result<TouchpointId> {
        let touchpoints = self.store().touchpoints(business.id)?;
        touchpoint_named(&touchpoints, name).map(|t| t.id).map_err(AppError::Invalid)
    }

    fn channel_name(&self, name: &str) -> Result<&'static str> {
        Channel::parse(name).map(Channel::as_str).ok_or_else(|| {
            AppError::Invalid(format!("no channel named {name:?}; the channels are: {}", list(Channel::ALL.iter().map(|c| c.as_str()))))
        })
    }
}

/// A KPI an alert watches: a change's metric, or one of the two that only alerts use.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum AlertKpi {
    Metric(ChangeMetric),
    /// The revenue of the business's orders, per day.
    Revenue,
    /// The events matching a touchpoint's rule, per day.
    TouchpointVolume(String),
}

/// The text forms an alert's KPI takes, for error messages and help texts.
pub const ALERT_KPI_FORMS: &str = "conversion:FROM>TO[:Nd], new-customers[:CHANNEL], nps, csat[:TOUCHPOINT], revenue, \
     volume:TOUCHPOINT, aov, revenue-per-customer, repeat-rate, reach:STAGE";

impl AlertKpi {
    /// Reads `revenue`, `volume:TOUCHPOINT` or any change metric's text form.
    pub fn parse(text: &str) -> std::result::Result<AlertKpi, String> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("revenue") {
            return Ok(AlertKpi::Revenue);
        }
        if let Some(name) = text.strip_prefix("volume:") {
            let name = name.trim();
            if name.is_empty() {
                return Err(format!("volume: name the touchpoint (volume:Checkout); a KPI is one of: {ALERT_KPI_FORMS}"));
            }
            return Ok(AlertKpi::TouchpointVolume(name.to_string()));
        }
        text.parse::<ChangeMetric>().map(AlertKpi::Metric).map_err(|e| format!("{}; a KPI is one of: {ALERT_KPI_FORMS}", e.reason))
    }

    /// The KPI's label in words.
    pub fn label(&self) -> String {
        match self {
            AlertKpi::Metric(m) => m.label(),
            AlertKpi::Revenue => "revenue per day".into(),
            AlertKpi::TouchpointVolume(t) => format!("events at {t} per day"),
        }
    }

    pub fn unit(&self) -> ImpactUnit {
        match self {
            AlertKpi::Metric(m) => unit_of(m),
            AlertKpi::Revenue => ImpactUnit::Money,
            AlertKpi::TouchpointVolume(_) => ImpactUnit::PerDay,
        }
    }

    fn n_means(&self) -> String {
        match self {
            AlertKpi::Metric(m) => n_means(m),
            AlertKpi::Revenue => "days".into(),
            AlertKpi::TouchpointVolume(t) => format!("events at {t}, counted over the period's days"),
        }
    }
}

impl std::fmt::Display for AlertKpi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AlertKpi::Metric(m) => write!(f, "{m}"),
            AlertKpi::Revenue => f.write_str("revenue"),
            AlertKpi::TouchpointVolume(t) => write!(f, "volume:{t}"),
        }
    }
}

/// A KPI over one period against the period before it, judged by the test a change's impact uses.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PeriodComparison {
    pub label: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub unit: ImpactUnit,
    /// What n counts.
    pub n_means: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub previous: WindowValue,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub current: WindowValue,
    /// The test, None when the periods hold too few data (the verdict says so).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub comparison: Option<Comparison>,
    /// The plain-language verdict, with n.
    pub verdict: String,
    /// Whether the test finds a difference at the confidence asked (false when it cannot judge).
    pub significant: bool,
}

impl App {
    /// `kpi` over `current` against `previous` (whole days in the business's time zone), tested
    /// as a change's impact is: two proportions, Welch's t or exact Poisson rates.
    pub fn compare_periods(&self, business: &Business, kpi: &AlertKpi, previous: DayRange, current: DayRange, confidence: f64) -> Result<PeriodComparison> {
        if !(confidence.is_finite() && confidence > 0.0 && confidence < 1.0) {
            return Err(invalid_field("confidence", Some(confidence.to_string()), "must lie strictly between 0 and 1, such as 0.95"));
        }
        let needs_properties = match kpi {
            AlertKpi::TouchpointVolume(name) => {
                let touchpoints = self.store().touchpoints(business.id)?;
                touchpoint_named(&touchpoints, name)
                    .map_err(|reason| invalid_field("kpi", Some(kpi.to_string()), reason))?
                    .rule
                    .conditions
                    .iter()
                    .any(|c| matches!(c.field, EventField::Property(_)))
            }
            _ => false,
        };
        let facts = self.impact_facts(business, needs_properties)?;
        let measure = match kpi {
            AlertKpi::Metric(m) => Measure::Metric(m.clone()),
            AlertKpi::Revenue => Measure::DailyRevenue,
            AlertKpi::TouchpointVolume(t) => Measure::TouchpointVolume(t.clone()),
        };
        let (before_span, after_span) = (Span::new(previous.from, previous.to, facts.zone), Span::new(current.from, current.to, facts.zone));
        let before = self.measure(business, &facts, &measure, before_span, "kpi")?;
        let after = self.measure(business, &facts, &measure, after_span, "kpi")?;
        let compared = compare(&before, &after, confidence);
        let label = kpi.label();
        let unit = kpi.unit();
        let (comparison, verdict) = judged(&label, &verdict_unit(unit, business.currency.as_str()), &compared.main, Design::BeforeAfter);
        let significant = comparison.as_ref().is_some_and(|c| c.p_value.is_finite() && c.p_value < 1.0 - confidence);
        Ok(PeriodComparison {
            label,
            unit,
            n_means: kpi.n_means(),
            previous: before.window_value(before_span),
            current: after.window_value(after_span),
            comparison,
            verdict,
            significant,
        })
    }
}

/// CSAT answers in the window from surveys whose touchpoint passes `at`.
fn csat_sample(facts: &Facts, span: Span, at: impl Fn(Option<TouchpointId>) -> bool) -> Sample {
    Sample::Shares(
        facts
            .ratings
            .iter()
            .filter(|r| !r.nps && span.contains(r.time) && at(r.touchpoint))
            .map(|r| (r.customer, r.score >= 4.0))
            .collect(),
    )
}

/// New customers of the window whose first channel passes `channel`, with their arrival day.
fn arrivals(facts: &Facts, span: Span, channel: impl Fn(&str) -> bool) -> Sample {
    let mut arrivals: Vec<(CustomerId, u32)> = facts
        .first
        .iter()
        .filter(|(_, (time, first))| span.contains(*time) && channel(first))
        .map(|(customer, (time, _))| {
            let day = (local_day(*time, facts.zone) - span.days.from).num_days().clamp(0, i64::from(span.length().saturating_sub(1)));
            (*customer, u32::try_from(day).unwrap_or(0))
        })
        .collect();
    arrivals.sort_unstable();
    Sample::Counts { arrivals, days: span.length() }
}

/// Each customer's variant: the value of property `key` on their first event that carries it.
fn variants_by(journeys: &Journeys, key: &str) -> Vec<(CustomerId, String)> {
    let table = journeys.table();
    let field = EventField::Property(key.to_string());
    journeys
        .iter()
        .filter_map(|j| {
            j.rows
                .clone()
                .find_map(|row| table.field(row, &field).filter(|v| !v.trim().is_empty()).map(|v| v.trim().to_string()))
                .map(|variant| (j.customer, variant))
        })
        .collect()
}

/// Why no difference-in-differences is made for this metric without a named control.
fn no_control_reason(metric: &ChangeMetric) -> String {
    let (what, example) = match metric {
        ChangeMetric::StepConversion { .. } => ("a step conversion", "conversion:product_view>add_to_cart:7d"),
        ChangeMetric::StageReach { .. } => ("a stage's reach", "reach:Awareness"),
        ChangeMetric::RepeatRate => ("the repeat rate", "conversion:page_view>purchase:30d"),
        ChangeMetric::AverageOrderValue => ("the average order value", "revenue-per-customer"),
        ChangeMetric::RevenuePerCustomer => ("revenue per customer", "aov"),
        ChangeMetric::Nps => return "no untouched comparable is known for NPS, and no other metric is on its scale, so there is no difference-in-differences".into(),
        ChangeMetric::Csat { .. } => ("CSAT over every touchpoint", "csat:TOUCHPOINT"),
        ChangeMetric::NewCustomers { .. } => ("new customers of every channel", "new-customers:CHANNEL"),
    };
    format!("no untouched comparable is known for {what}; choose a control metric, e.g. {example}")
}

/// "p = 0.0123", or "p < 0.0001" for the smallest.
fn p_text(p: f64) -> String {
    if p < 0.0001 { "p < 0.0001".into() } else { format!("p = {p:.4}") }
}

fn money_text(x: f64) -> String {
    if x < 0.0 { format!("−{:.2}", -x) } else { format!("+{x:.2}") }
}
