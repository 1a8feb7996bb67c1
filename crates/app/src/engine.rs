//! The engine's questions as the app asks them: funnels, paths and retention for one business.
//! The app loads the business's events (properties only when a rule or breakdown needs them),
//! groups them by customer, turns the user's step items into event rules (resolving touchpoint and
//! stage names through the store) and runs the pure engine in `trailmap-analytics`. When the
//! events are in ClickHouse and the request asks (`pushdown`), a funnel, retention or paths is
//! counted there instead (windowFunnel; each buyer's or customer's sessions made on the shards and
//! assembled by the engine's own code), and every such answer says which path it took
//! ([`PathTaken`]) and why a pushdown asked for was not taken.
//!
//! A step item is one of: a rule in the event rule language that `trailmap_model::rule_text`
//! reads (an event name such as `purchase`; several, any of which will do, as
//! `page_view|store_visit`; a name with conditions on its fields as `page_view[page^=/checkout]`;
//! `*[channel=Paid Social]` for any event from a channel); `touchpoint:NAME` (the touchpoint's
//! rule); or `stage:NAME` (any touchpoint on that stage). A rule that does not read is refused
//! with the character offset where it stops making sense.

use crate::funnel_customers::{self, FunnelCustomers, FunnelCustomersRequest};
use crate::{App, AppError, Result};
use serde::Serialize;
use trailmap_analytics::{
    Breakdown, BuyerPurchases, FunnelMode, FunnelQuery, FunnelReport, FunnelStep, Journeys, PathItem, PathsOptions, PathsReport,
    RetentionPeriod, RetentionReport,
};
use trailmap_model::{Business, Condition, EventColumns, EventField, EventRule, EventSelection, EventTable, Op, Stage, Timestamp, Touchpoint};
use trailmap_store::{CohortPeriod, EventLoads, FunnelPath, FunnelSpec, SessionItems, Store};

/// What a funnel request asks; build it with [`App::funnel_request`] and set its fields.
#[derive(Debug, Clone, PartialEq)]
pub struct FunnelRequest {
    /// Step items, as described in this module's documentation.
    pub steps: Vec<String>,
    pub window_ms: i64,
    pub mode: FunnelMode,
    /// Exclusion items, in the same language as steps.
    pub exclude: Vec<String>,
    /// `first-channel`, `first-source`, `channel`, `source`, `medium`, `campaign`, `page`,
    /// `property:KEY` (of the step-1 event), `persona` or `customer:KEY` (a customer property).
    pub breakdown: Option<String>,
    /// Customers whose step 1 falls in `[from, to)`.
    pub period: Option<(Timestamp, Timestamp)>,
    /// A second period, shown beside the first.
    pub compare: Option<(Timestamp, Timestamp)>,
    /// The customers behind one figure to list, a page of them; without it the answer carries
    /// counts and no customer ids.
    pub customers: Option<FunnelCustomersRequest>,
    /// Count the steps in ClickHouse (`windowFunnel` on each shard) when the events are there and
    /// the funnel can be counted so: at billions of events far less is read, and the answer has
    /// the same counts but no step times and no customer lists. Otherwise, or when it cannot be
    /// pushed down, the embedded engine answers and [`FunnelAnswer::path_note`] says why.
    pub pushdown: bool,
}

/// Which path an analysis's answer took: the funnel's and retention's say it in their `path`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PathTaken {
    /// The embedded engine over the events in the store.
    Embedded,
    /// The embedded engine over the events read from ClickHouse.
    Streamed,
    /// Counted in ClickHouse itself (a funnel by `windowFunnel`, retention per buyer).
    PushedDown,
}

impl PathTaken {
    /// Where the events this answer counts were read: `store`, or `clickhouse` (streamed into the
    /// engine or counted there).
    pub fn events_from(self) -> &'static str {
        match self {
            PathTaken::Embedded => "store",
            PathTaken::Streamed | PathTaken::PushedDown => "clickhouse",
        }
    }
}

/// Retention, and which path it took (its report's fields and `path`, `path_note` beside them).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RetentionAnswer {
    #[serde(flatten)]
    pub report: RetentionReport,
    pub path: PathTaken,
    /// Why a retention asked to be pushed down was not.
    pub path_note: Option<String>,
}

/// Paths, and which path the answer took (its report's fields and `path`, `path_note` beside
/// them).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PathsAnswer {
    #[serde(flatten)]
    pub report: PathsReport,
    pub path: PathTaken,
    /// Why paths asked to be pushed down were not.
    pub path_note: Option<String>,
}

/// A funnel, and the same funnel over the comparison period when one was asked for.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FunnelAnswer {
    pub business: String,
    pub steps: Vec<String>,
    pub breakdown: Option<String>,
    /// The funnel's figures; its customer lists are left empty (ask for them with
    /// [`FunnelRequest::customers`]).
    pub report: FunnelReport,
    pub compare: Option<FunnelReport>,
    /// The page of customers the request asked for, from `report`.
    pub customers: Option<FunnelCustomers>,
    pub path: PathTaken,
    /// Why a funnel asked to be pushed down was not.
    pub path_note: Option<String>,
}

/// The event retention counts as a purchase.
const PURCHASE_EVENT: &str = "purchase";

/// Why nothing is pushed down for a business whose events are in the store.
const NOT_IN_CLICKHOUSE: &str = "the events are in the store, not in ClickHouse (--events)";

fn invalid(message: String) -> AppError {
    AppError::Invalid(message)
}

impl App {
    /// A funnel request over these step items: a 7-day window, ordered, no exclusion, breakdown
    /// or period.
    pub fn funnel_request(steps: Vec<String>) -> FunnelRequest {
        FunnelRequest {
            steps,
            window_ms: 7 * Timestamp::MS_PER_DAY,
            mode: FunnelMode::Ordered,
            exclude: Vec::new(),
            breakdown: None,
            period: None,
            compare: None,
            customers: None,
            pushdown: false,
        }
    }

    /// Paths options with PostHog's defaults: by event, 30-minute sessions, top 50 edges.
    pub fn paths_options() -> PathsOptions {
        PathsOptions::default()
    }

    /// The funnel asked for; without steps, the business's default funnel
    /// ([`crate::query::default_funnel_steps`]), which for a business without events is empty:
    /// nobody entered, an answer rather than an error, so a new business's page opens.
    pub fn funnel(&self, business: &Business, request: &FunnelRequest) -> Result<FunnelAnswer> {
        let mut answer = self.funnel_with_lists(business, request)?;
        answer.customers = request.customers.as_ref().map(|asked| funnel_customers::page(&answer.report, asked)).transpose()?;
        funnel_customers::drop_lists(&mut answer.report);
        if let Some(compared) = answer.compare.as_mut() {
            funnel_customers::drop_lists(compared);
        }
        Ok(answer)
    }

    /// [`App::funnel`] with every step's customer lists kept in the reports: for the app's own
    /// analyses that read them (insights' drop-offs, a change's impact), never for a front end.
    pub(crate) fn funnel_with_lists(&self, business: &Business, request: &FunnelRequest) -> Result<FunnelAnswer> {
        if request.steps.is_empty() {
            let steps = crate::query::default_funnel_steps(self, business)?;
            if steps.is_empty() {
                return Ok(FunnelAnswer {
                    business: business.name.clone(),
                    steps,
                    breakdown: request.breakdown.clone(),
                    report: FunnelReport::empty(request.mode, request.window_ms),
                    compare: None,
                    customers: None,
                    path: self.engine_path(),
                    path_note: None,
                });
            }
            return self.funnel_with_lists(business, &FunnelRequest { steps, ..request.clone() });
        }
        // Event names are checked once the events are loaded, so a typo is an error, not a zero.
        let mut named: Vec<(String, String)> = Vec::new();
        let mut steps = Vec::with_capacity(request.steps.len());
        for (index, item) in request.steps.iter().enumerate() {
            let place = format!("step {} ({item:?})", index + 1);
            steps.push(self.step(business, item, &mut named, &place).map_err(|e| invalid(format!("{place}: {e}")))?);
        }
        let mut exclusions = Vec::new();
        for item in &request.exclude {
            let place = format!("exclusion {item:?}");
            exclusions.push(self.step(business, item, &mut named, &place).map_err(|e| invalid(format!("{place}: {e}")))?);
        }
        let breakdown = match request.breakdown.as_deref() {
            Some("persona") => Some(Breakdown::Customer(self.persona_labels(business)?)),
            Some(text) if text.starts_with("customer:") => {
                let key = text.trim_start_matches("customer:");
                if key.is_empty() {
                    return Err(crate::query::field_error("breakdown", "\"customer:\" names no customer property; write e.g. customer:city"));
                }
                Some(Breakdown::Customer(self.customer_property_labels(business, key)?))
            }
            other => other.map(parse_breakdown).transpose()?,
        };
        let millis = |p: Option<(Timestamp, Timestamp)>| p.map(|(from, to)| (from.millis(), to.millis()));
        let mut query = FunnelQuery {
            steps,
            window_ms: request.window_ms,
            mode: request.mode,
            exclusions,
            breakdown,
            period: millis(request.period),
        };
        let mut path_note = None;
        if request.pushdown {
            match self.pushed_down_funnel(business, request, &query, &named)? {
                Ok(report) => {
                    return Ok(FunnelAnswer {
                        business: business.name.clone(),
                        steps: request.steps.clone(),
                        breakdown: None,
                        report,
                        compare: None,
                        customers: None,
                        path: PathTaken::PushedDown,
                        path_note: None,
                    });
                }
                Err(reason) => path_note = Some(format!("not pushed down: {reason}")),
            }
        }
        let columns = EventColumns { properties: query.needs_properties() };
        // Without kept journeys (a command-line run), only the events a step or exclusion can
        // match are loaded when they alone decide the answer, as ClickHouse reads only the rows
        // of `WHERE event IN (...)`.
        // Such a load reads only the fields the steps and exclusions test (the name at least), as
        // ClickHouse reads only the columns a query names: the other six text fields cost a
        // command-line funnel most of its time. A breakdown reads its field, so it loads them all.
        let mut tested = EventSelection::NONE.with(&EventField::Name);
        for condition in query.steps.iter().chain(&query.exclusions).flat_map(|s| &s.any_of).flat_map(|r| &r.conditions) {
            tested = tested.with(&condition.field);
        }
        let selection = if query.breakdown.is_some() { columns.into() } else { tested };
        let journeys = match query.relevant_names().filter(|_| !self.keeps_journeys()) {
            Some(keep) => std::sync::Arc::new(Journeys::new(self.store().load_named_events(business.id, selection, &keep)?)),
            None => self.journeys(business.id, columns)?,
        };
        let names = event_names(journeys.table());
        if let Some((place, name)) = named.iter().find(|(_, name)| !names.contains(name)) {
            // The message lists every event name, which a load of the steps' names alone lacks.
            let all = self.store().load_selected_events(business.id, EventSelection::NONE.with(&EventField::Name))?;
            return Err(invalid(format!("{place}: {}", unknown_event(name, &event_names(&all)))));
        }
        let run = |query: &FunnelQuery| trailmap_analytics::funnel(&journeys, query).map_err(|e| invalid(format!("funnel: {e}")));
        let report = run(&query)?;
        let compare = match request.compare {
            Some(period) => {
                query.period = millis(Some(period));
                Some(run(&query)?)
            }
            None => None,
        };
        Ok(FunnelAnswer {
            business: business.name.clone(),
            steps: request.steps.clone(),
            breakdown: request.breakdown.clone(),
            report,
            compare,
            customers: None,
            path: self.engine_path(),
            path_note,
        })
    }

    /// The path an answer of the embedded engine takes: over the store's events, or over
    /// ClickHouse's streamed in. The one place that says where a business's events come from
    /// ([`App::events_from`] is its [`PathTaken::events_from`]).
    pub fn engine_path(&self) -> PathTaken {
        if self.store().clickhouse().is_some() { PathTaken::Streamed } else { PathTaken::Embedded }
    }

    /// The funnel counted in ClickHouse, or why it cannot be (the events are in the store, the
    /// request needs what only the engine gives, a rule ClickHouse does not match).
    fn pushed_down_funnel(
        &self,
        business: &Business,
        request: &FunnelRequest,
        query: &FunnelQuery,
        named: &[(String, String)],
    ) -> Result<std::result::Result<FunnelReport, String>> {
        let refuse = |reason: &str| Ok(Err(reason.to_string()));
        let Some(events) = self.store().clickhouse_synced(business.id)? else {
            return refuse(NOT_IN_CLICKHOUSE);
        };
        if request.mode != FunnelMode::Ordered {
            return refuse("strict and unordered funnels are matched by the embedded engine");
        }
        if !query.exclusions.is_empty() || query.breakdown.is_some() || request.compare.is_some() {
            return refuse("exclusions, breakdowns and compared periods are counted by the embedded engine");
        }
        if request.customers.is_some() {
            return refuse("the customers behind a step are listed by the embedded engine");
        }
        let names = events.event_names(business.id).map_err(trailmap_store::StoreError::from)?;
        if let Some((place, name)) = named.iter().find(|(_, name)| !names.contains(name)) {
            return Err(invalid(format!("{place}: {}", unknown_event(name, &names))));
        }
        let spec = FunnelSpec { steps: query.steps.iter().map(|s| s.any_of.clone()).collect(), window_ms: query.window_ms, period: query.period };
        Ok(match events.funnel(business.id, &spec).map_err(trailmap_store::StoreError::from)? {
            FunnelPath::Pushdown(reached) => {
                let labels: Vec<String> = query.steps.iter().map(|s| s.label.clone()).collect();
                let reached: Vec<usize> = reached.iter().map(|&n| usize::try_from(n).unwrap_or(usize::MAX)).collect();
                Ok(FunnelReport::from_counts(query.window_ms, query.period, &labels, &reached))
            }
            FunnelPath::Stream(refusal) => Err(refusal.to_string()),
        })
    }

    pub fn paths(&self, business: &Business, options: &PathsOptions) -> Result<PathsReport> {
        let journeys = self.journeys(business.id, EventColumns { properties: false })?;
        check_path_items(options, &event_names(journeys.table()))?;
        trailmap_analytics::paths(&journeys, options).map_err(|e| invalid(format!("paths: {e}")))
    }

    /// Paths as the request asks, saying which path the answer took: with `pushdown`, when the
    /// events are in ClickHouse, each customer's sessions are made there (sorted, cut after the
    /// idle gap, repeats collapsed) and counted by the engine's own code, equal to the engine's
    /// report; else the embedded engine's, with [`PathsAnswer::path_note`] saying why a pushdown
    /// asked for was not taken.
    pub fn paths_answer(&self, business: &Business, request: &crate::query::PathsRequest) -> Result<PathsAnswer> {
        let options = &request.options;
        let mut path_note = None;
        if request.pushdown {
            match self.store().clickhouse_synced(business.id)? {
                Some(events) => {
                    let names = events.event_names(business.id).map_err(trailmap_store::StoreError::from)?;
                    check_path_items(options, &names)?;
                    let items = match options.by {
                        PathItem::Event => SessionItems::Event,
                        PathItem::Page => SessionItems::Page,
                    };
                    let sessions = events.path_sessions(business.id, items, options.session_gap_ms).map_err(trailmap_store::StoreError::from)?;
                    let report = trailmap_analytics::paths_of_sessions(sessions, options).map_err(|e| invalid(format!("paths: {e}")))?;
                    return Ok(PathsAnswer { report, path: PathTaken::PushedDown, path_note: None });
                }
                None => path_note = Some(format!("not pushed down: {NOT_IN_CLICKHOUSE}")),
            }
        }
        let report = self.paths(business, options)?;
        Ok(PathsAnswer { report, path: self.engine_path(), path_note })
    }

    /// Retention of buyers: cohorts by the period of their first `purchase` event, by the
    /// embedded engine (over the store's events or ClickHouse's, streamed).
    pub fn retention(&self, business: &Business, period: RetentionPeriod) -> Result<RetentionReport> {
        let journeys = self.journeys(business.id, EventColumns { properties: false })?;
        Ok(trailmap_analytics::retention(&journeys, period, PURCHASE_EVENT))
    }

    /// Retention as the request asks, saying which path it took: pushed down to ClickHouse when
    /// asked and the events are there (each buyer summarised on the shards, the report assembled
    /// by the engine's own code, equal to the engine's), else the embedded engine's, with
    /// [`RetentionAnswer::path_note`] saying why a pushdown asked for was not taken.
    pub fn retention_answer(&self, business: &Business, request: &crate::RetentionRequest) -> Result<RetentionAnswer> {
        let mut path_note = None;
        if request.pushdown {
            match self.store().clickhouse_synced(business.id)? {
                Some(events) => {
                    let period = match request.period {
                        RetentionPeriod::Week => CohortPeriod::Week,
                        RetentionPeriod::Month => CohortPeriod::Month,
                    };
                    let rows = events.retention(business.id, period, PURCHASE_EVENT).map_err(trailmap_store::StoreError::from)?;
                    let buyers = rows.buyers.into_iter().map(|row| BuyerPurchases { customer: row.customer, cohort: row.cohort, offsets: row.offsets, gaps: row.gaps });
                    let report = trailmap_analytics::retention_of_buyers(request.period, PURCHASE_EVENT, rows.last_event_ms, buyers);
                    return Ok(RetentionAnswer { report, path: PathTaken::PushedDown, path_note: None });
                }
                None => path_note = Some(format!("not pushed down: {NOT_IN_CLICKHOUSE}")),
            }
        }
        let report = self.retention(business, request.period)?;
        Ok(RetentionAnswer { report, path: self.engine_path(), path_note })
    }

    /// Turns one step item into a step, noting the event names it uses (with `place`).
    fn step(
        &self,
        business: &Business,
        item: &str,
        named: &mut Vec<(String, String)>,
        place: &str,
    ) -> std::result::Result<FunnelStep, String> {
        let item = item.trim();
        if let Some(name) = item.strip_prefix("touchpoint:") {
            let touchpoints = self.store().touchpoints(business.id).map_err(|e| e.to_string())?;
            let found = touchpoint_named(&touchpoints, name)?;
            return Ok(FunnelStep { label: item.to_string(), any_of: vec![found.rule.clone()] });
        }
        if let Some(name) = item.strip_prefix("stage:") {
            let stages = self.store().stages(business.id).map_err(|e| e.to_string())?;
            let stage = stage_named(&stages, name)?;
            let touchpoints = self.store().touchpoints(business.id).map_err(|e| e.to_string())?;
            let any_of: Vec<EventRule> =
                touchpoints.iter().filter(|t| t.stage == Some(stage.id)).map(|t| t.rule.clone()).collect();
            if any_of.is_empty() {
                return Err(format!("stage {:?} has no touchpoint, so no event can match it", stage.name));
            }
            return Ok(FunnelStep { label: item.to_string(), any_of });
        }
        let any_of = trailmap_model::parse_alternatives(item).map_err(|e| e.to_string())?;
        for rule in &any_of {
            // A name the rule requires is checked against the business's events once loaded.
            if let Some(Condition { field: EventField::Name, op: Op::Equals(name), negate: false }) = rule.conditions.first() {
                named.push((place.to_string(), name.clone()));
            }
        }
        Ok(FunnelStep { label: item.to_string(), any_of })
    }
}

/// The distinct event names of a table, sorted.
fn event_names(table: &EventTable) -> Vec<String> {
    let mut seen = vec![false; table.strings.len()];
    for &name in &table.name {
        seen[name as usize] = true;
    }
    let mut names: Vec<String> =
        seen.iter().enumerate().filter(|(id, s)| **s && *id != 0).map(|(id, _)| table.string(id as u32).to_string()).collect();
    names.sort();
    names
}

/// Refuses a start or end item naming an event the business does not have, listing those it has.
fn check_path_items(options: &PathsOptions, names: &[String]) -> Result<()> {
    for item in options.start.iter().chain(&options.end) {
        let name = item.split_once(' ').map_or(item.as_str(), |(name, _)| name);
        if !names.iter().any(|n| n == name) {
            return Err(invalid(unknown_event(name, names)));
        }
    }
    Ok(())
}

/// Names for a message, comma-separated, "none" when there are none.
pub(crate) fn list<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let items: Vec<&str> = items.collect();
    if items.is_empty() { "none".into() } else { items.join(", ") }
}

/// The touchpoint a person named (any case, spaces around ignored), or why there is none.
pub(crate) fn touchpoint_named<'a>(touchpoints: &'a [Touchpoint], name: &str) -> std::result::Result<&'a Touchpoint, String> {
    touchpoints
        .iter()
        .find(|t| t.name.eq_ignore_ascii_case(name.trim()))
        .ok_or_else(|| format!("no touchpoint named {name:?}; the business has: {}", list(touchpoints.iter().map(|t| t.name.as_str()))))
}

/// The stage a person named (any case, spaces around ignored), or why there is none.
pub(crate) fn stage_named<'a>(stages: &'a [Stage], name: &str) -> std::result::Result<&'a Stage, String> {
    stages
        .iter()
        .find(|s| s.name.eq_ignore_ascii_case(name.trim()))
        .ok_or_else(|| format!("no stage named {name:?}; the business has: {}", list(stages.iter().map(|s| s.name.as_str()))))
}

fn unknown_event(name: &str, names: &[String]) -> String {
    format!("no event is named {name:?}; this business's events are: {}", list(names.iter().map(String::as_str)))
}

fn parse_breakdown(text: &str) -> Result<Breakdown> {
    let (first, field) = match text.strip_prefix("first-") {
        Some(field) => (true, field),
        None => (false, text),
    };
    let field = match field {
        "channel" | "source" | "medium" | "campaign" | "page" => EventField::parse(field),
        other => other.strip_prefix("property:").filter(|k| !k.is_empty()).map(|k| EventField::Property(k.to_string())),
    }
    .ok_or_else(|| {
        crate::query::field_error(
            "breakdown",
            format!("{text:?} is not one of first-channel, first-source, channel, source, medium, campaign, page, property:KEY, persona or customer:KEY"),
        )
    })?;
    Ok(if first { Breakdown::FirstTouch(field) } else { Breakdown::StepOne(field) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use trailmap_model::{Touchpoint, TouchpointChannel, TouchpointId};
    use trailmap_store::StoreError;

    /// An in-memory app with the fixture written into a new business, and a touchpoint
    /// "Checkout" (page_view on /checkout) on the Purchase stage.
    fn app_with(fixture: &str) -> (App, Business) {
        let mut app = App::in_memory().expect("an app");
        let business = app.create_business("Shop", "USD", "UTC").expect("a business");
        let stage = app.store().stages(business.id).expect("stages").into_iter().find(|s| s.name == "Purchase").expect("a stage");
        app.store_mut()
            .write::<StoreError>(&mut |w| {
                w.create_touchpoint(&Touchpoint {
                    id: TouchpointId(0),
                    business: business.id,
                    name: "Checkout".into(),
                    channel: TouchpointChannel::Web,
                    stage: Some(stage.id),
                    online: true,
                    rule: EventRule::named("page_view").and(EventField::Page, Op::StartsWith("/checkout".into())),
                    description: String::new(),
                })
                .map(|_| ())
            })
            .expect("a touchpoint");
        app.write_fixture(&trailmap_testkit::journeys(fixture).expect("a fixture"), &business).expect("written");
        (app, business)
    }

    #[test]
    fn funnels_resolve_names_touchpoints_stages_and_periods() {
        let (app, business) = app_with(
            "
            customer ann
              2026-01-10 10:00:00 page_view page=/
              +1m page_view page=/checkout/shipping
              +1m purchase
            customer bob
              2026-02-10 10:00:00 store_visit
              +1m page_view page=/checkout
            customer cat
              2026-02-11 10:00:00 page_view page=/
            ",
        );
        let customers = |answer: &FunnelAnswer, k: usize| answer.report.overall.steps[k].reached;
        let request = App::funnel_request(vec!["page_view|store_visit".into(), "touchpoint:checkout".into(), "purchase".into()]);
        let answer = app.funnel(&business, &request).expect("a funnel");
        assert_eq!((customers(&answer, 0), customers(&answer, 1), customers(&answer, 2)), (3, 2, 1));
        let request = App::funnel_request(vec!["page_view[page=/]".into(), "stage:purchase".into()]);
        let answer = app.funnel(&business, &request).expect("a funnel");
        assert_eq!((customers(&answer, 0), customers(&answer, 1)), (2, 1));
        let mut request = App::funnel_request(vec!["page_view".into(), "purchase".into()]);
        let feb = Timestamp::parse_rfc3339("2026-02-01T00:00:00Z").expect("a time");
        let mar = Timestamp::parse_rfc3339("2026-03-01T00:00:00Z").expect("a time");
        request.period = Some((Timestamp::parse_rfc3339("2026-01-01T00:00:00Z").expect("a time"), feb));
        request.compare = Some((feb, mar));
        request.breakdown = Some("first-source".into());
        let answer = app.funnel(&business, &request).expect("a funnel");
        assert_eq!(answer.report.overall.entered, 1);
        assert_eq!(answer.compare.as_ref().map(|c| (c.overall.entered, c.overall.steps[1].reached)), Some((2, 0)));
        for (steps, expected) in [
            (vec!["page_view", "purchse"], "step 2 (\"purchse\"): no event is named \"purchse\""),
            (vec!["touchpoint:Till"], "no touchpoint named \"Till\"; the business has: Checkout"),
            (vec!["stage:Advocacy"], "stage \"Advocacy\" has no touchpoint"),
        ] {
            let request = App::funnel_request(steps.into_iter().map(String::from).collect());
            let error = app.funnel(&business, &request).expect_err("an error").to_string();
            assert!(error.contains(expected), "{error}");
        }
    }

    #[test]
    fn paths_and_retention_through_the_app() {
        let (app, business) = app_with(
            "
            customer ann
              2026-01-10 10:00:00 page_view page=/
              +1m purchase
              2026-02-10 10:00:00 purchase
            ",
        );
        let report = app.paths(&business, &App::paths_options()).expect("paths");
        assert_eq!((report.paths, report.edges.len()), (2, 1));
        let mut options = App::paths_options();
        options.end = Some("checkout".into());
        assert!(app.paths(&business, &options).is_err());
        let report = app.retention(&business, RetentionPeriod::Month).expect("retention");
        assert_eq!(report.cohorts.len(), 1);
        assert_eq!(report.cohorts[0].later[0].customers.len(), 1);
    }

    #[test]
    fn step_items_become_rules_and_bad_ones_name_the_offset() {
        let (app, business) = app_with(
            "
            customer ann
              2026-01-10 10:00:00 page_view page=/checkout source=google
              +1m purchase items=3
            ",
        );
        let customers = |steps: &[&str]| {
            let request = App::funnel_request(steps.iter().map(|s| s.to_string()).collect());
            app.funnel(&business, &request).map(|a| a.report.overall.steps.iter().map(|s| s.reached).collect::<Vec<_>>())
        };
        assert_eq!(customers(&["page_view[page^=/checkout][source!=bing]", "purchase[items>2]"]).expect("a funnel"), [1, 1]);
        assert_eq!(customers(&["*[source=google]", "purchase[items>5]"]).expect("a funnel"), [1, 0]);
        for (steps, expected) in [
            (["page_view[page^=/x", "purchase"], "step 1 (\"page_view[page^=/x\"): at offset 18: the condition opened at offset 9 lacks its closing ']'"),
            (["page_view", "purchase[items>lots]"], "step 2 (\"purchase[items>lots]\"): at offset 15: \"lots\" is not a number"),
        ] {
            let error = customers(&steps).expect_err("an error").to_string();
            assert!(error.contains(expected), "{error}");
        }
        assert!(unknown_event("pageview", &["page_view".into(), "purchase".into()]).contains("page_view, purchase"));
        assert!(parse_breakdown("first-medium").is_ok() && parse_breakdown("colour").is_err());
    }
}
