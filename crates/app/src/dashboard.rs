//! The dashboard and the customer page as the app serves them: the key numbers of a business over
//! a period against the previous period of the same length (computed by the engine's `kpi`
//! module from the business's events, orders and survey answers), and one customer's whole
//! journey as a timeline of events, orders, survey answers and feedback.
//!
//! Days are cut in UTC for now; the business's time zone is recorded but not yet applied (named in
//! ARCHITECTURE.md as a known gap).

use crate::{App, AppError, Result};
use serde::Serialize;
use std::collections::HashMap;
use trailmap_analytics::kpi::{EventActivity, KpiQuery, KpiReport, OrderFact, RatingFact, Scale, Window, kpis_of_activity};
use crate::business_data::BusinessData;
use trailmap_analytics::kpis;
use trailmap_model::{AnswerValue, Business, BusinessId, Customer, CustomerId, EventColumns, OrderTable, QuestionKind, SurveyId, SurveyResponse, Timestamp, TouchpointId};
use crate::PathTaken;
use trailmap_store::{ClickHouseEvents, CustomerActivityRow, EventTimes, IncrementalReads, Store, StoreError};

use chrono::{Datelike, NaiveDate, TimeZone};
use chrono_tz::Tz;

/// A period of whole days, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DayRange {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl DayRange {
    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<DayRange> {
        if to < from {
            return Err(AppError::Invalid(format!("period: {to} is before {from}")));
        }
        if (to - from).num_days() > 3 * 366 {
            return Err(AppError::Invalid("period: at most three years".into()));
        }
        Ok(DayRange { from, to })
    }

    pub fn days(self) -> i64 {
        (self.to - self.from).num_days() + 1
    }

    /// The period of the same length that ends the day before this one starts.
    pub fn previous(self) -> DayRange {
        let to = self.from - chrono::Duration::days(1);
        DayRange { from: to - chrono::Duration::days(self.days() - 1), to }
    }

    /// The period as instants: from the start of its first day to the start of the day after its
    /// last, both in the business's time zone (so a day is 23 or 25 hours across a DST change).
    fn window(self, zone: Tz) -> Window {
        Window { start: start_of(self.from, zone), end: start_of(self.to + chrono::Duration::days(1), zone) }
    }
}

/// The business's time zone, by its IANA name; UTC for a name the time-zone database does not
/// know (new businesses cannot have one: `check_timezone` refuses it).
pub(crate) fn zone_of(business: &Business) -> Tz {
    business.timezone.parse().unwrap_or(Tz::UTC)
}

/// The day `now` falls on in the business's time zone.
pub(crate) fn today_in(business: &Business, now: trailmap_model::Timestamp) -> chrono::NaiveDate {
    chrono::DateTime::from_timestamp_millis(now.millis()).map_or_else(|| now.date(), |t| t.with_timezone(&zone_of(business)).date_naive())
}

/// Refuses a time-zone name the time-zone database does not know.
pub(crate) fn check_timezone(name: &str) -> Result<()> {
    name.parse::<Tz>()
        .map(|_| ())
        .map_err(|_| AppError::Invalid(format!("timezone: {name:?} is not an IANA time-zone name (such as Europe/Paris or America/New_York)")))
}

/// The first instant of `day` in `zone`, in milliseconds. A day that starts in a DST gap (a
/// midnight that does not exist) starts at the first instant after it.
fn start_of(day: NaiveDate, zone: Tz) -> i64 {
    let midnight = day.and_time(chrono::NaiveTime::MIN);
    match zone.from_local_datetime(&midnight).earliest() {
        Some(start) => start.timestamp_millis(),
        // No zone has a gap longer than a few hours; the first whole hour after it exists.
        None => (1..=3)
            .find_map(|h| zone.from_local_datetime(&(midnight + chrono::Duration::hours(h))).earliest())
            .map_or(Timestamp::from_date(day).millis(), |start| start.timestamp_millis()),
    }
}

/// The day an instant falls on in `zone`.
pub(crate) fn local_day(millis: i64, zone: Tz) -> NaiveDate {
    chrono::DateTime::from_timestamp_millis(millis).map_or_else(|| Timestamp(millis).date(), |t| t.with_timezone(&zone).date_naive())
}

/// How the trend is cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Bucket {
    Day,
    /// Weeks starting on Monday.
    Week,
}

/// The period a page opens on, and why it was chosen, in words an owner reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PeriodChoice {
    pub period: DayRange,
    /// "the 30 days up to the latest event or order, 2026-10-31 (5,120 events and orders)".
    pub why: String,
    /// Events and orders in the period.
    pub records: u64,
    /// When the period holds less than a tenth of the 30 days with data before it (and those hold
    /// at least 20 records): those 30 days, to offer in one click.
    pub fuller: Option<FullerPeriod>,
}

/// The days from a business's first recorded event or order to its last, and how many there are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RecordedSpan {
    pub period: DayRange,
    /// Events and orders recorded.
    pub records: u64,
}

/// A period with more data than the one shown, and how many events and orders it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FullerPeriod {
    pub period: DayRange,
    pub records: u64,
}

/// The dashboard of a business for a period.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Dashboard {
    pub business: String,
    pub currency: String,
    pub period: DayRange,
    pub previous: DayRange,
    pub bucket: Bucket,
    /// The first day of each trend bucket (the first may start before the period when cut by
    /// weeks; each bucket's figures count only what falls inside the period).
    pub buckets: Vec<NaiveDate>,
    pub report: KpiReport,
    /// Orders left out because they are in another currency than the business's.
    pub orders_other_currency: u64,
    /// Where the events were counted: the embedded engine over the store's events or
    /// ClickHouse's streamed in, or pushed down to ClickHouse (whenever the events are there:
    /// the answer is the same, customers behind each number included).
    pub path: PathTaken,
}

/// A business's orders as the engine reads them (see [`App::order_facts`]).
pub(crate) struct OrderFacts {
    /// The orders in the business's currency.
    pub facts: Vec<OrderFact>,
    /// Orders in another currency, left out of `facts`.
    pub other_currency: u64,
    /// The first and last order time, of any currency.
    pub span: Option<(i64, i64)>,
}

/// Orders in the business's currency as the engine reads them, each on the customer it belongs
/// to now (the kept orders are, and so are the store's as `orders_and_answers` reads them).
pub(crate) fn order_facts(business: &Business, orders: &OrderTable) -> OrderFacts {
    let mut facts = OrderFacts { facts: Vec::with_capacity(orders.len()), other_currency: 0, span: orders.span() };
    for row in 0..orders.len() {
        if orders.currency[row] != business.currency {
            facts.other_currency += 1;
            continue;
        }
        facts.facts.push(OrderFact { customer: orders.customer[row], time: orders.time[row], total_minor: orders.total_minor[row] });
    }
    facts
}

/// One line of a customer's timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimelineEntry {
    pub time: Timestamp,
    /// `event`, `order`, `survey` or `feedback`.
    pub kind: &'static str,
    pub title: String,
    pub detail: String,
    pub channel: Option<String>,
    /// An event's own properties as (key, value) rows, nested objects flattened to dotted keys
    /// (`order.channel`), so a page shows them as a table rather than as JSON.
    pub properties: Vec<(String, String)>,
}

/// A JSON object's properties as (key, text) rows in key order: nested objects become dotted keys,
/// strings lose their quotes, arrays and numbers are written as JSON writes them.
pub fn property_rows(properties: &trailmap_model::Properties) -> Vec<(String, String)> {
    fn walk(prefix: &str, object: &trailmap_model::Properties, rows: &mut Vec<(String, String)>) {
        for (key, value) in object {
            let key = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
            match value {
                serde_json::Value::Object(inner) if !inner.is_empty() => walk(&key, inner, rows),
                serde_json::Value::String(text) => rows.push((key, text.clone())),
                serde_json::Value::Null => rows.push((key, String::new())),
                other => rows.push((key, other.to_string())),
            }
        }
    }
    let mut rows = Vec::new();
    walk("", properties, &mut rows);
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    rows
}

/// One customer's whole journey, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Timeline {
    pub customer: Customer,
    pub entries: Vec<TimelineEntry>,
}

impl App {
    /// The business's data version: it rises with every committed write to the business's data,
    /// so an answer computed at one version is current while the version is the same.
    pub fn data_version(&self, business: BusinessId) -> Result<i64> {
        Ok(self.store().data_version(business)?)
    }

    /// The last 30 days that have data (ending on the day of the latest event or order), or the
    /// last 30 days before `today` when the business has none.
    pub fn default_period(&self, business: &Business, today: NaiveDate) -> Result<DayRange> {
        let times = self.record_times(business)?;
        let last = times.span()?.map(|(_, last, _)| local_day(last, zone_of(business))).unwrap_or(today);
        DayRange::new(last - chrono::Duration::days(29), last)
    }

    /// The period a dashboard opens on and why (see [`PeriodChoice`]): the last 30 days with
    /// data; and, when those hold far less than the 30 days with data before them (a stray event
    /// today after a year of imported history), those fuller 30 days to offer instead.
    pub fn default_period_explained(&self, business: &Business, today: NaiveDate) -> Result<PeriodChoice> {
        let times = self.record_times(business)?;
        let zone = zone_of(business);
        let last = times.span()?.map(|(_, last, _)| local_day(last, zone));
        let period = DayRange::new(last.unwrap_or(today) - chrono::Duration::days(29), last.unwrap_or(today))?;
        let count = |r: DayRange| {
            let w = r.window(zone);
            times.count(w.start, w.end)
        };
        let records = count(period)?;
        let why = if last.is_none() {
            format!("the last 30 days ({} to {}): there is no data yet", period.from, period.to)
        } else {
            format!("the 30 days up to the latest event or order, {} ({records} events and orders)", period.to)
        };
        // The 30 days up to the last day with data before this period.
        let before = times.last_before(period.window(zone).start)?.map(|t| local_day(t, zone));
        let mut fuller = None;
        if let Some(range) = before.and_then(|last| DayRange::new(last - chrono::Duration::days(29), last).ok()) {
            let n = count(range)?;
            if n >= 20 && records * 10 < n {
                fuller = Some(FullerPeriod { period: range, records: n });
            }
        }
        Ok(PeriodChoice { period, why, records, fuller })
    }

    /// The days the business's events and orders span, in its time zone, and how many there
    /// are: the period an analysis over all recorded data covers, as a page names it. `None`
    /// when nothing is recorded yet.
    pub fn recorded_span(&self, business: &Business) -> Result<Option<RecordedSpan>> {
        let zone = zone_of(business);
        Ok(self.record_times(business)?.span()?.map(|(first, last, records)| RecordedSpan {
            period: DayRange { from: local_day(first, zone), to: local_day(last, zone) },
            records,
        }))
    }

    /// The times of the business's events and orders, where they are read: the kept data's, or
    /// ClickHouse's counts beside the store's orders when the events are there (so choosing a
    /// period streams no event).
    fn record_times(&self, business: &Business) -> Result<RecordTimes<'_>> {
        Ok(match self.store().clickhouse_synced(business.id)? {
            Some(events) => {
                let mut order_times = BusinessData::read_orders(self.store(), business.id)?.time;
                order_times.sort_unstable();
                RecordTimes::ClickHouse { events, business: business.id, orders: order_times }
            }
            None => {
                let data = self.business_data(business.id)?;
                let mut times: Vec<i64> = data.journeys().table().time.iter().chain(data.orders().time.iter()).copied().collect();
                times.sort_unstable();
                RecordTimes::Kept(times)
            }
        })
    }

    /// The key numbers of `business` over `period` against the period before it. With the events
    /// in ClickHouse, they are summarised there per customer (pushed down: each customer's first
    /// event and the days they were active) and the numbers computed by the engine's own code
    /// from those rows, the store's orders and the survey answers: equal to the embedded engine's.
    pub fn dashboard(&self, business: &Business, period: DayRange) -> Result<Dashboard> {
        let previous = period.previous();
        let bucket = if period.days() > 92 { Bucket::Week } else { Bucket::Day };
        let zone = zone_of(business);
        let window = period.window(zone);
        let mut buckets = Vec::new();
        let mut day = match bucket {
            Bucket::Day => period.from,
            Bucket::Week => period.from - chrono::Duration::days(i64::from(period.from.weekday().num_days_from_monday())),
        };
        let step = match bucket {
            Bucket::Day => 1,
            Bucket::Week => 7,
        };
        let mut windows = Vec::new();
        while day <= period.to {
            let next = day + chrono::Duration::days(step);
            windows.push(Window { start: start_of(day, zone).max(window.start), end: start_of(next, zone).min(window.end) });
            buckets.push(day);
            day = next;
        }
        let query = KpiQuery { current: window, previous: previous.window(zone), buckets: windows };
        let (report, orders_other_currency, path) = match self.store().clickhouse_synced(business.id)? {
            Some(events) => {
                let (orders, responses) = BusinessData::orders_and_answers(self.store(), business.id)?;
                let OrderFacts { facts: orders, other_currency, .. } = order_facts(business, &orders);
                let ratings: Vec<RatingFact> = self.rating_facts(business, &responses)?.into_iter().map(|(fact, _)| fact).collect();
                let activity = pushed_down_activity(events, business.id, &query, &orders)?;
                (kpis_of_activity(&activity, &orders, &ratings, &query), other_currency, PathTaken::PushedDown)
            }
            None => {
                // The kept journeys, orders and answers, brought up to date with what was written since.
                let data = self.business_data(business.id)?;
                let OrderFacts { facts: orders, other_currency, .. } = order_facts(business, data.orders());
                let ratings: Vec<RatingFact> = self.rating_facts(business, data.responses())?.into_iter().map(|(fact, _)| fact).collect();
                (kpis(data.journeys(), &orders, &ratings, &query), other_currency, self.engine_path())
            }
        };
        Ok(Dashboard {
            business: business.name.clone(),
            currency: business.currency.to_string(),
            period,
            previous,
            bucket,
            buckets,
            report,
            orders_other_currency,
            path,
        })
    }

    /// Every NPS and CSAT answer of the business's surveys, with the touchpoint its survey is
    /// about.
    pub(crate) fn rating_facts(&self, business: &Business, responses: &[SurveyResponse]) -> Result<Vec<(RatingFact, Option<TouchpointId>)>> {
        let mut facts = Vec::new();
        // The answers of every survey in one pass, by survey then id as each survey lists them.
        let mut by_survey: HashMap<SurveyId, Vec<&SurveyResponse>> = HashMap::new();
        for response in responses {
            by_survey.entry(response.survey).or_default().push(response);
        }
        for survey in self.store().surveys(business.id)? {
            let scales: HashMap<_, _> = survey
                .questions
                .iter()
                .filter_map(|q| match q.kind {
                    QuestionKind::Nps => Some((q.id, Scale::Nps)),
                    QuestionKind::Csat => Some((q.id, Scale::Csat)),
                    _ => None,
                })
                .collect();
            if scales.is_empty() {
                continue;
            }
            for response in by_survey.remove(&survey.id).unwrap_or_default() {
                for answer in &response.answers {
                    if let (Some(scale), AnswerValue::Number(score)) = (scales.get(&answer.question), &answer.value) {
                        let fact = RatingFact { customer: response.customer, time: response.submitted_at.millis(), scale: *scale, score: *score };
                        facts.push((fact, survey.touchpoint));
                    }
                }
            }
        }
        Ok(facts)
    }

    /// Customers by id, in the order given, skipping ids of another business; at most `limit`:
    /// one statement for them all.
    pub fn customers_by_id(&self, business: &Business, ids: &[CustomerId], limit: usize) -> Result<Vec<Customer>> {
        Ok(self.store().customers_by_ids(business.id, &ids[..ids.len().min(limit)])?)
    }

    /// The customer with this id (or the one it was merged into), if they belong to `business`.
    fn customer_of(&self, business: &Business, id: CustomerId) -> Result<Option<Customer>> {
        match self.store().customer(id) {
            Ok(c) => Ok((c.business == business.id).then_some(c)),
            Err(trailmap_store::StoreError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// One customer's journey: every event, order, survey answer and piece of feedback, oldest
    /// first. `NotFound` when the customer is not in this business.
    pub fn customer_timeline(&self, business: &Business, id: CustomerId) -> Result<Timeline> {
        let customer = self
            .customer_of(business, id)?
            .ok_or_else(|| AppError::NotFound(format!("customer {id} does not exist in {}", business.name)))?;
        let mut entries = Vec::new();
        // Money as every page writes it: "$7.70", in the business's currency.
        let money = |minor: i64| {
            trailmap_render::ValueFormat::Money(business.currency).format(minor as f64 / business.currency.minor_per_major() as f64)
        };
        let table = self.store().load_events(business.id, EventColumns { properties: true })?;
        for row in (0..table.len()).filter(|r| table.customer[*r] == customer.id) {
            let text = |column: &[trailmap_model::StringId]| {
                let s = table.string(column[row]);
                (!s.is_empty()).then(|| s.to_string())
            };
            let mut detail: Vec<String> = Vec::new();
            for (label, value) in [("source", text(&table.source)), ("medium", text(&table.medium)), ("campaign", text(&table.campaign)), ("page", text(&table.page))] {
                if let Some(v) = value {
                    detail.push(format!("{label} {v}"));
                }
            }
            if table.revenue_minor[row] != 0 {
                detail.push(format!("revenue {}", money(table.revenue_minor[row])));
            }
            // Stored as the JSON text of an object; text that is not one is shown as it is.
            let properties = match table.properties.as_ref().and_then(|p| p[row].as_deref()) {
                Some(text) => match serde_json::from_str::<trailmap_model::Properties>(text) {
                    Ok(object) => property_rows(&object),
                    Err(_) => vec![("properties".to_string(), text.to_string())],
                },
                None => Vec::new(),
            };
            entries.push(TimelineEntry {
                time: Timestamp(table.time[row]),
                kind: "event",
                title: table.string(table.name[row]).to_string(),
                detail: detail.join(" · "),
                channel: text(&table.channel),
                properties,
            });
        }
        for order in self.store().orders(business.id)?.into_iter().filter(|o| o.customer == customer.id) {
            let lines: Vec<String> = order.lines.iter().map(|l| format!("{} × {}", l.quantity, l.name)).collect();
            entries.push(TimelineEntry {
                time: order.time,
                kind: "order",
                title: format!(
                    "Order {} · {}",
                    order.external_id,
                    trailmap_render::ValueFormat::Money(order.total.currency).format(order.total.minor as f64 / order.total.currency.minor_per_major() as f64)
                ),
                detail: lines.join(", "),
                channel: order.channel.clone(),
                properties: Vec::new(),
            });
        }
        for survey in self.store().surveys(business.id)? {
            let questions: HashMap<_, _> = survey.questions.iter().map(|q| (q.id, q.text.clone())).collect();
            for response in self.store().responses(survey.id)?.into_iter().filter(|r| r.customer == Some(customer.id)) {
                let answers: Vec<String> = response
                    .answers
                    .iter()
                    .map(|a| {
                        let value = match &a.value {
                            AnswerValue::Number(n) => format!("{n}"),
                            AnswerValue::Choices(c) => c.join(", "),
                            AnswerValue::Text(t) => format!("“{t}”"),
                        };
                        format!("{}: {value}", questions.get(&a.question).map_or("?", String::as_str))
                    })
                    .collect();
                entries.push(TimelineEntry {
                    time: response.submitted_at,
                    kind: "survey",
                    title: format!("Answered {}", survey.name),
                    detail: answers.join(" · "),
                    channel: None,
                    properties: Vec::new(),
                });
            }
        }
        for feedback in self.store().feedback(business.id)?.into_iter().filter(|f| f.customer == Some(customer.id)) {
            let rating = feedback.rating.map(|r| format!(" ({r}/5)")).unwrap_or_default();
            entries.push(TimelineEntry {
                time: feedback.time,
                kind: "feedback",
                title: format!("{} on {}{rating}", feedback.kind.as_str(), feedback.source),
                detail: feedback.text.clone(),
                channel: None,
                properties: Vec::new(),
            });
        }
        entries.sort_by_key(|e| e.time);
        Ok(Timeline { customer, entries })
    }
}

/// The times of a business's events and orders as choosing a period reads them (see
/// [`App::default_period_explained`]): counts and last times over half-open ranges of instants.
enum RecordTimes<'a> {
    /// Every event's and order's time, sorted.
    Kept(Vec<i64>),
    /// The events counted in ClickHouse; the orders' times, sorted.
    ClickHouse { events: &'a ClickHouseEvents, business: BusinessId, orders: Vec<i64> },
}

impl RecordTimes<'_> {
    /// The first and last time, and how many records there are; None without any.
    fn span(&self) -> Result<Option<(i64, i64, u64)>> {
        let of_sorted = |times: &[i64]| times.first().zip(times.last()).map(|(a, b)| (*a, *b));
        Ok(match self {
            RecordTimes::Kept(times) => of_sorted(times).map(|(a, b)| (a, b, times.len() as u64)),
            RecordTimes::ClickHouse { events, business, orders } => {
                let EventTimes { count, span } = events.event_times(*business).map_err(StoreError::from)?;
                let span = match (span, of_sorted(orders)) {
                    (Some(e), Some(o)) => Some((e.0.min(o.0), e.1.max(o.1))),
                    (e, o) => e.or(o),
                };
                span.map(|(a, b)| (a, b, count + orders.len() as u64))
            }
        })
    }

    /// How many records fall in `[start, end)`.
    fn count(&self, start: i64, end: i64) -> Result<u64> {
        let in_sorted = |times: &[i64]| (times.partition_point(|t| *t < end) - times.partition_point(|t| *t < start)) as u64;
        Ok(match self {
            RecordTimes::Kept(times) => in_sorted(times),
            RecordTimes::ClickHouse { events, business, orders } => {
                events.count_events_between(*business, start, end).map_err(StoreError::from)? + in_sorted(orders)
            }
        })
    }

    /// The last record's time before `before`.
    fn last_before(&self, before: i64) -> Result<Option<i64>> {
        let in_sorted = |times: &[i64]| times.partition_point(|t| *t < before).checked_sub(1).map(|i| times[i]);
        Ok(match self {
            RecordTimes::Kept(times) => in_sorted(times),
            RecordTimes::ClickHouse { events, business, orders } => {
                events.last_event_before(*business, before).map_err(StoreError::from)?.max(in_sorted(orders))
            }
        })
    }
}

/// The customers' event activity over the query's bounds, summarised in ClickHouse: the customers
/// new since the first bound or active in the bounds' range, then the first events of the buyers
/// since the first bound it did not name (who may have events before it), as
/// [`EventActivity::first`] must hold.
fn pushed_down_activity(events: &ClickHouseEvents, business: BusinessId, query: &KpiQuery, orders: &[OrderFact]) -> Result<EventActivity> {
    let bounds = query.bounds();
    let mut activity = EventActivity { bounds, ..EventActivity::default() };
    let rows = events.customer_activity(business, &activity.bounds).map_err(StoreError::from)?;
    let take = |activity: &mut EventActivity, row: CustomerActivityRow| {
        activity.first.insert(row.customer, (row.first_ms, row.first_channel));
        if !row.slots.is_empty() {
            activity.slots.insert(row.customer, row.slots);
        }
    };
    for row in rows {
        take(&mut activity, row);
    }
    let start = activity.bounds[0];
    let mut unknown: Vec<CustomerId> = orders.iter().filter(|o| o.time >= start && !activity.first.contains_key(&o.customer)).map(|o| o.customer).collect();
    unknown.sort_unstable();
    unknown.dedup();
    if !unknown.is_empty() {
        for row in events.first_events(business, &unknown).map_err(StoreError::from)? {
            take(&mut activity, row);
        }
    }
    Ok(activity)
}

#[cfg(test)]
mod zone_tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn utc(text: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(text).unwrap().timestamp_millis()
    }

    #[test]
    fn days_are_cut_at_the_businesss_midnight_across_dst_changes() {
        let new_york: Tz = "America/New_York".parse().unwrap();
        // Midnight in New York is 04:00 UTC in summer and 05:00 UTC in winter.
        assert_eq!(start_of(day("2026-07-01"), new_york), utc("2026-07-01T04:00:00Z"));
        assert_eq!(start_of(day("2026-01-15"), new_york), utc("2026-01-15T05:00:00Z"));
        // The day the clocks go forward has 23 hours; the day they go back, 25.
        let spring = DayRange::new(day("2026-03-08"), day("2026-03-08")).unwrap().window(new_york);
        assert_eq!(spring.end - spring.start, 23 * 3_600_000);
        let autumn = DayRange::new(day("2026-11-01"), day("2026-11-01")).unwrap().window(new_york);
        assert_eq!(autumn.end - autumn.start, 25 * 3_600_000);
        // An evening purchase in Los Angeles is on that local day, though UTC is already tomorrow.
        let los_angeles: Tz = "America/Los_Angeles".parse().unwrap();
        assert_eq!(local_day(utc("2026-10-02T03:00:00Z"), los_angeles), day("2026-10-01"));
        assert_eq!(local_day(utc("2026-10-02T03:00:00Z"), Tz::UTC), day("2026-10-02"));
        // Where midnight does not exist (Santiago's spring change at 00:00), the day starts at 01:00.
        let santiago: Tz = "America/Santiago".parse().unwrap();
        assert_eq!(start_of(day("2026-09-06"), santiago), utc("2026-09-06T04:00:00Z"));
    }

    #[test]
    fn unknown_zones_are_refused_by_name_and_old_ones_fall_back_to_utc() {
        assert!(check_timezone("Europe/Paris").is_ok());
        let error = check_timezone("Mars/Olympus_Mons").unwrap_err().to_string();
        assert!(error.contains("timezone") && error.contains("Mars/Olympus_Mons"), "{error}");
        let business = Business { id: BusinessId(1), name: "Old".into(), currency: trailmap_model::Currency::USD, timezone: "Nowhere".into(), decimal_mark: None };
        assert_eq!(zone_of(&business), Tz::UTC);
    }

    #[test]
    fn properties_read_as_rows_with_dotted_keys_and_unquoted_text() {
        let json: serde_json::Value = serde_json::json!({"via": "app", "order": {"channel": "in-store", "items": 2}, "tags": ["a", "b"], "gift": null, "empty": {}});
        let rows = property_rows(json.as_object().expect("an object"));
        let expected: Vec<(String, String)> = [("empty", "{}"), ("gift", ""), ("order.channel", "in-store"), ("order.items", "2"), ("tags", "[\"a\",\"b\"]"), ("via", "app")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(rows, expected);
    }
}
