//! The demo generator: a year (2025-11-01 to 2026-10-31) of two small businesses, a coffee shop and
//! an online boutique, each with touchpoints, personas, an "as is" journey map, surveys, a logged
//! change and the customers, events, orders, spend, feedback and survey responses that make the
//! change visible in the numbers. It streams: each customer's history is made and written before
//! the next one starts, so memory does not grow with the number of customers.
//!
//! The planted stories come from the two blog posts the product grew from: the café's new customers
//! come by recommendation rather than ads, and a referral programme grows them; the boutique loses
//! buyers at checkout to shipping costs, and free shipping over $75 wins them back and lifts the
//! order value. [`DemoTruth`] states both as data so later analyses can be checked against them.

mod boutique;
mod catalog;
mod coffee;

use crate::sink::Sink;
use chrono::{Datelike, Duration, NaiveDate, Weekday};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use std::fmt::Write as _;
use trailmap_model::{
    BusinessId, Card, Change, ChangeId, Currency, Event, EventKey, Identity, IncomingCustomer,
    IncomingEvent, IncomingFeedback, IncomingOrder, IncomingResponse, IncomingSpend, JourneyMap,
    MapId, Money, Persona, PersonaId, Survey, Timestamp, Touchpoint, TouchpointId,
};

/// How much demo to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoOptions {
    /// People simulated across both businesses: about 40% at the café, 60% at the boutique.
    pub customers: u64,
    /// Everything follows from the seed: the same seed gives the same records in the same order.
    pub seed: u64,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions { customers: 5_000, seed: 42 }
    }
}

/// A count split at a change date: before it, and on or after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct PeriodCounts {
    pub before: u64,
    pub after: u64,
}

impl PeriodCounts {
    fn add(&mut self, after: bool, amount: u64) {
        if after {
            self.after += amount;
        } else {
            self.before += amount;
        }
    }

    /// `self / total` for each side, 0 where the total is 0.
    pub fn share_of(&self, total: &PeriodCounts) -> (f64, f64) {
        let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        (ratio(self.before, total.before), ratio(self.after, total.after))
    }
}

/// What was made for one business.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BusinessSummary {
    pub business: BusinessId,
    pub name: String,
    /// People simulated, including web visitors who never identified themselves.
    pub customers: u64,
    /// Customers registered through [`Sink::customer`] (people who gave an email or loyalty id).
    pub registered: u64,
    /// Events written through [`Sink::event`]; the store adds one `purchase` event per order.
    pub events: u64,
    pub orders: u64,
    pub revenue: Money,
    pub spend: Money,
    pub feedback: u64,
    pub responses: u64,
    pub touchpoints: u64,
    pub personas: u64,
    pub maps: u64,
    pub surveys: u64,
    pub changes: u64,
}

impl BusinessSummary {
    fn new(business: BusinessId, name: &str) -> Self {
        BusinessSummary {
            business,
            name: name.to_string(),
            customers: 0,
            registered: 0,
            events: 0,
            orders: 0,
            revenue: usd(0),
            spend: usd(0),
            feedback: 0,
            responses: 0,
            touchpoints: 0,
            personas: 0,
            maps: 0,
            surveys: 0,
            changes: 0,
        }
    }
}

/// The café's planted story, and what the generated data actually contains.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CoffeeTruth {
    pub business: BusinessId,
    /// The referral loyalty programme's launch, 2026-05-01.
    pub change_date: NaiveDate,
    pub change: ChangeId,
    /// Planted share of new customers whose first touch is a friend's referral.
    pub planted_referral_share_before: f64,
    pub planted_referral_share_after: f64,
    /// Planted factor on daily new-customer arrivals after the launch.
    pub planted_arrival_uplift: f64,
    /// Planted factor on each active customer's visit rate after the launch.
    pub planted_visit_rate_uplift: f64,
    /// New customers by the local date of their first touch, all and by referral.
    pub new_customers: PeriodCounts,
    pub new_by_referral: PeriodCounts,
    pub new_by_paid_social: PeriodCounts,
    /// Orders by local order date.
    pub orders: PeriodCounts,
    /// Revenue in cents by local order date.
    pub revenue_cents: PeriodCounts,
    /// Days in the period before and from the change, to turn counts into daily rates.
    pub days: PeriodCounts,
}

/// The boutique's planted story, and what the generated data actually contains.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BoutiqueTruth {
    pub business: BusinessId,
    /// Free shipping over the threshold from 2026-06-01.
    pub change_date: NaiveDate,
    pub change: ChangeId,
    pub free_shipping_threshold: Money,
    /// The flat shipping fee charged below the threshold (and always before the change).
    pub shipping_fee: Money,
    /// Planted chance that a checkout ends in an order when shipping is charged, and when free.
    pub planted_conversion_with_fee: f64,
    pub planted_conversion_free: f64,
    /// Planted chance an exit-survey respondent who was shown a fee picks "Shipping cost".
    pub planted_exit_shipping_share: f64,
    /// People with a `checkout_started` in each period (by the local date of their first one in
    /// it), and how many of them placed an order within 7 days of that first checkout.
    pub checkout_customers: PeriodCounts,
    pub checkout_converted_7d: PeriodCounts,
    /// Orders and revenue (order totals, shipping included) by local order date.
    pub orders: PeriodCounts,
    pub revenue_cents: PeriodCounts,
    /// Orders whose subtotal reached the free-shipping threshold.
    pub orders_over_threshold: PeriodCounts,
}

/// The ground truth of the demo, as data.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DemoTruth {
    /// First and last day of the period, inclusive.
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub coffee: CoffeeTruth,
    pub boutique: BoutiqueTruth,
}

/// What [`generate_demo`] made.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DemoSummary {
    pub coffee: BusinessSummary,
    pub boutique: BusinessSummary,
    pub truth: DemoTruth,
}

impl DemoSummary {
    pub fn businesses(&self) -> [&BusinessSummary; 2] {
        [&self.coffee, &self.boutique]
    }
}

/// Fills `sink` with the two demo businesses and a year of their customers. The same options give
/// the same calls in the same order.
pub fn generate_demo<S: Sink>(sink: &mut S, options: &DemoOptions) -> Result<DemoSummary, S::Error> {
    let coffee_people = (options.customers as f64 * 0.4).round() as u64;
    let boutique_people = options.customers - coffee_people;
    // One generator per business on separate ChaCha streams, so the two businesses do not shift
    // each other's randomness when one of them changes.
    let mut coffee_rng = ChaCha8Rng::seed_from_u64(options.seed);
    coffee_rng.set_stream(1);
    let mut boutique_rng = ChaCha8Rng::seed_from_u64(options.seed);
    boutique_rng.set_stream(2);
    let (coffee, coffee_truth) = coffee::generate(sink, coffee_people, &mut coffee_rng)?;
    let (boutique, boutique_truth) = boutique::generate(sink, boutique_people, &mut boutique_rng)?;
    Ok(DemoSummary {
        coffee,
        boutique,
        truth: DemoTruth {
            period_start: period_start(),
            period_end: period_end(),
            coffee: coffee_truth,
            boutique: boutique_truth,
        },
    })
}

fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).unwrap_or_default()
}

fn period_start() -> NaiveDate {
    date(2025, 11, 1)
}

fn period_end() -> NaiveDate {
    date(2026, 10, 31)
}

pub(crate) fn usd(cents: i64) -> Money {
    Money::new(cents, Currency::USD)
}

/// The days of the period in one US time zone: each day's local midnight as UTC milliseconds and
/// its weekday, so times of day can be placed in opening hours without a time-zone database.
struct Calendar {
    first: NaiveDate,
    midnight: Vec<i64>,
    weekday: Vec<Weekday>,
}

impl Calendar {
    /// `standard_offset_hours` is the zone's offset from UTC in winter (-8 for Pacific, -5 for
    /// Eastern); US daylight saving (second Sunday in March to first Sunday in November) adds one.
    fn us(standard_offset_hours: i64) -> Calendar {
        let first = period_start();
        let days = (period_end() - first).num_days() + 1;
        let mut midnight = Vec::with_capacity(days as usize);
        let mut weekday = Vec::with_capacity(days as usize);
        for offset in 0..days {
            let day = first + Duration::days(offset);
            let utc_offset = standard_offset_hours + i64::from(us_daylight_saving(day));
            midnight.push(Timestamp::from_date(day).0 - utc_offset * Timestamp::MS_PER_HOUR);
            weekday.push(day.weekday());
        }
        Calendar { first, midnight, weekday }
    }

    fn days(&self) -> usize {
        self.midnight.len()
    }

    fn index_of(&self, day: NaiveDate) -> usize {
        (day - self.first).num_days().clamp(0, self.days() as i64) as usize
    }

    /// The UTC time of a local day index and milliseconds after local midnight. A day past the
    /// period lies past its end (whole days on), so whatever is planned for it is dropped with
    /// the rest of the future; clamping it to the last day piled a year's overflow of newsletters
    /// and cart reminders onto 31 October.
    fn at(&self, day: usize, ms_of_day: i64) -> i64 {
        match self.midnight.get(day) {
            Some(midnight) => midnight + ms_of_day,
            None => self.end() + (day - self.days()) as i64 * Timestamp::MS_PER_DAY + ms_of_day,
        }
    }

    /// The local day index of a UTC time (clamped to the period).
    fn day_of(&self, utc: i64) -> usize {
        let index = self.midnight.partition_point(|&m| m <= utc);
        index.saturating_sub(1)
    }

    fn is_weekend(&self, day: usize) -> bool {
        matches!(self.weekday[day.min(self.days() - 1)], Weekday::Sat | Weekday::Sun)
    }

    fn end(&self) -> i64 {
        self.midnight[self.days() - 1] + Timestamp::MS_PER_DAY
    }
}

fn us_daylight_saving(day: NaiveDate) -> bool {
    let year = day.year();
    let nth_sunday = |month: u32, n: u8| {
        NaiveDate::from_weekday_of_month_opt(year, month, Weekday::Sun, n).unwrap_or_default()
    };
    day >= nth_sunday(3, 2) && day < nth_sunday(11, 1)
}

/// Spreads `total` arrivals over days in proportion to `weights`, rounding cumulatively so the
/// counts add up to exactly `total` and the split does not depend on floating-point luck per day.
fn arrivals_per_day(total: u64, weights: &[f64]) -> Vec<u64> {
    let sum: f64 = weights.iter().sum();
    let mut counts = Vec::with_capacity(weights.len());
    let mut cumulative = 0.0;
    let mut given = 0u64;
    for weight in weights {
        cumulative += weight;
        let due = ((cumulative / sum) * total as f64).round() as u64;
        let due = due.min(total);
        counts.push(due.saturating_sub(given));
        given = given.max(due);
    }
    if let Some(last) = counts.last_mut() {
        *last += total - given;
    }
    counts
}

/// Small random helpers, so generation code reads as the story it tells.
trait Dice {
    fn chance(&mut self, p: f64) -> bool;
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T;
    fn weighted(&mut self, weights: &[f64]) -> usize;
    /// An exponentially distributed number with this mean.
    fn exponential(&mut self, mean: f64) -> f64;
    /// Milliseconds between `low` and `high` seconds.
    fn seconds(&mut self, low: i64, high: i64) -> i64;
}

impl Dice for ChaCha8Rng {
    fn chance(&mut self, p: f64) -> bool {
        self.random::<f64>() < p
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.random_range(0..items.len())]
    }

    fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut roll = self.random::<f64>() * total;
        for (index, weight) in weights.iter().enumerate() {
            if roll < *weight {
                return index;
            }
            roll -= weight;
        }
        weights.len() - 1
    }

    fn exponential(&mut self, mean: f64) -> f64 {
        let u: f64 = self.random();
        -(1.0 - u).ln() * mean
    }

    fn seconds(&mut self, low: i64, high: i64) -> i64 {
        self.random_range(low..=high) * Timestamp::MS_PER_SECOND
    }
}

/// A new event with only a name, a time and an identity; callers fill the rest.
fn event(name: &str, time: i64, identity: &Identity) -> Event {
    Event::new(name, Timestamp(time), identity.clone())
}

fn text(value: &str) -> Option<String> {
    Some(value.to_string())
}

fn pick_text(rng: &mut ChaCha8Rng, pool: &[&str]) -> Option<String> {
    let value: &&str = rng.pick(pool);
    text(value)
}

fn cards(texts: &[&str]) -> Vec<Card> {
    texts.iter().map(|t| Card::assumption(t)).collect()
}

fn strings(texts: &[&str]) -> Vec<String> {
    texts.iter().map(|t| (*t).to_string()).collect()
}

/// A person's name, their email and a short public author name ("Maya C.").
struct PersonName {
    full: String,
    email: String,
    author: String,
}

fn person_name(rng: &mut ChaCha8Rng, number: u64) -> PersonName {
    let first = *rng.pick(&catalog::FIRST_NAMES);
    let last = *rng.pick(&catalog::LAST_NAMES);
    let domain = *rng.pick(&catalog::EMAIL_DOMAINS);
    let (lower_first, lower_last) = (first.to_lowercase(), last.to_lowercase());
    // The number keeps emails unique across people who share a name.
    let email = match number % 3 {
        0 => format!("{lower_first}.{lower_last}{number}@{domain}"),
        1 => format!("{lower_first}{}{number}@{domain}", &lower_last[..1]),
        _ => format!("{lower_first}_{lower_last}.{number}@{domain}"),
    };
    PersonName {
        full: format!("{first} {last}"),
        email,
        author: format!("{first} {}.", &last[..1]),
    }
}

/// Writes records of one business into the sink, giving events their keys and keeping the counts.
struct Out<'a, S: Sink> {
    sink: &'a mut S,
    business: BusinessId,
    summary: BusinessSummary,
    /// Events have no source message id, so each gets a generated one: "demo-{business}-{n}".
    key_text: String,
    sequence: u64,
    /// The end of the period in the business's time zone: events, feedback and responses that
    /// would fall after it (a late newsletter open, a survey answered days after an order) are
    /// not written, so the data stops where the period does.
    end: i64,
}

impl<'a, S: Sink> Out<'a, S> {
    fn new(sink: &'a mut S, business: BusinessId, name: &str) -> Self {
        Out {
            sink,
            business,
            summary: BusinessSummary::new(business, name),
            key_text: String::new(),
            sequence: 0,
            end: i64::MAX,
        }
    }

    fn event(&mut self, mut event: Event, also_known_as: Vec<Identity>) -> Result<(), S::Error> {
        if event.time.0 >= self.end {
            return Ok(());
        }
        self.sequence += 1;
        self.key_text.clear();
        // Writing into a String cannot fail.
        let _ = write!(self.key_text, "{}-{}", self.business.0, self.sequence);
        event.key = EventKey::from_id("demo", &self.key_text);
        self.summary.events += 1;
        self.sink.event(self.business, IncomingEvent { event, also_known_as })
    }

    fn customer(&mut self, customer: IncomingCustomer) -> Result<(), S::Error> {
        self.summary.registered += 1;
        self.sink.customer(self.business, customer).map(|_| ())
    }

    fn order(&mut self, order: IncomingOrder) -> Result<(), S::Error> {
        self.summary.orders += 1;
        self.summary.revenue.minor += order.total.minor;
        self.sink.order(self.business, order)
    }

    fn feedback(&mut self, feedback: IncomingFeedback) -> Result<(), S::Error> {
        if feedback.time.0 >= self.end {
            return Ok(());
        }
        self.summary.feedback += 1;
        self.sink.feedback(self.business, feedback)
    }

    fn response(&mut self, response: IncomingResponse) -> Result<(), S::Error> {
        if response.submitted_at.0 >= self.end {
            return Ok(());
        }
        self.summary.responses += 1;
        self.sink.survey_response(self.business, response)
    }

    fn touchpoint(&mut self, touchpoint: Touchpoint) -> Result<TouchpointId, S::Error> {
        self.summary.touchpoints += 1;
        self.sink.touchpoint(touchpoint)
    }

    fn persona(&mut self, persona: Persona) -> Result<PersonaId, S::Error> {
        self.summary.personas += 1;
        self.sink.persona(persona)
    }

    fn map(&mut self, map: JourneyMap, author: &str) -> Result<MapId, S::Error> {
        self.summary.maps += 1;
        self.sink.journey_map(map, author)
    }

    fn survey(&mut self, survey: Survey) -> Result<Survey, S::Error> {
        self.summary.surveys += 1;
        self.sink.survey(survey)
    }

    fn change(&mut self, change: Change) -> Result<ChangeId, S::Error> {
        self.summary.changes += 1;
        self.sink.change(change)
    }

    fn spend(&mut self, spend: IncomingSpend) -> Result<(), S::Error> {
        self.summary.spend.minor += spend.amount.minor;
        self.sink.spend(self.business, spend)
    }
}

/// The first and last day of each month of the period, for monthly spend records.
fn months() -> Vec<(NaiveDate, NaiveDate)> {
    let mut months = Vec::with_capacity(12);
    let mut start = period_start();
    while start <= period_end() {
        let next = if start.month() == 12 {
            date(start.year() + 1, 1, 1)
        } else {
            date(start.year(), start.month() + 1, 1)
        };
        months.push((start, next - Duration::days(1)));
        start = next;
    }
    months
}

/// A monthly amount with a little seeded noise (±10%), rounded to whole dollars.
fn monthly_amount(rng: &mut ChaCha8Rng, dollars: f64) -> Money {
    let factor = 0.9 + 0.2 * rng.random::<f64>();
    usd((dollars * factor * 100.0).round() as i64)
}

/// A net promoter score drawn around a mood: 0 for an unhappy customer, 1 for a delighted one.
fn nps_score(rng: &mut ChaCha8Rng, mood: f64) -> u8 {
    let spread = rng.random::<f64>() * 4.0 - 2.0;
    (mood * 10.0 + spread).round().clamp(0.0, 10.0) as u8
}

/// A CSAT (1-5) that agrees with an NPS score, give or take one.
fn csat_for(rng: &mut ChaCha8Rng, nps: u8) -> u8 {
    let base = match nps {
        9..=10 => 5,
        7..=8 => 4,
        5..=6 => 3,
        3..=4 => 2,
        _ => 1,
    };
    let nudge: i32 = match rng.random_range(0..10) {
        0 => -1,
        1 => 1,
        _ => 0,
    };
    (base + nudge).clamp(1, 5) as u8
}

/// A sentence with an optional closer, so the same phrase does not repeat verbatim every time.
fn sentence(rng: &mut ChaCha8Rng, core: &str) -> String {
    let closer = *rng.pick(&catalog::CLOSERS);
    format!("{core}{closer}")
}

/// SplitMix64's finaliser: turns a number into a random-looking but fixed one, for ids and codes
/// that must follow from a person's number alone (also the volume generator's visitor ids).
pub(crate) fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A phrase picked from `pool`, as a sentence.
fn say(rng: &mut ChaCha8Rng, pool: &[&str]) -> String {
    let core = *rng.pick(pool);
    sentence(rng, core)
}
