//! Insights: plain-language findings about a business, ranked by the value at stake. The stage
//! or step with the largest drop-off and what it costs, channels whose spend brings few or
//! low-value customers, touchpoints with the worst satisfaction or the most negative themes,
//! customers at risk of churning, and maps past their review date. Each finding says how its
//! value was estimated, carries its sample size, links to its evidence and lists the customers
//! behind it.
//!
//! The types here are the contract the CLI, the API, the web pages and the report read.
//!
//! Every number comes from the module that owns it: funnels from `engine` (`App::funnel`), new
//! customers by first channel from the dashboard, spend from `attribution`, customer value and
//! P(alive) from `value` (`App::clv`), CSAT by touchpoint from `voice`, stale maps from `maps`.
//! This module only chooses, combines and ranks. Decisions a caller should know:
//! - The period is the one asked for, or the dashboard's default (the last 30 days with data);
//!   "value" predictions are made as of the period's end.
//! - Drop-off: the business's stages in order up to the one holding the `purchase` touchpoint,
//!   then `purchase` (ordered, 7-day window, customers whose first step is in the period). A
//!   stage before it is left out when fewer than half of the purchase stage's customers reach it
//!   (a side road, not a step). A stage whose touchpoints name only events is split into those
//!   events, the most reached first; the finding names the step with the largest value at stake
//!   (the stage-level largest loss is given in its detail).
//! - Channels value new customers by their revenue in the period, the period of the spend.
//! - Churn risk's yearly value is scaled to the period's length, so every money finding is on
//!   the same footing when ranked.
//! - A finding whose sample is under [`MIN_SAMPLE`] is left out, and `notes` says so.

use crate::voice::{ScoreGrouping, ScoreKind, SurveyResultsRequest};
use crate::{App, AppError, ClvRequest, DayRange, Result};
use chrono::{NaiveDate, TimeZone};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use trailmap_model::{Business, CustomerId, EventField, EventRule, Op, Timestamp};
use trailmap_store::Store;

/// The smallest sample a finding may stand on.
pub const MIN_SAMPLE: u64 = 30;

/// The funnel window of the drop-off finding.
const FUNNEL_WINDOW_DAYS: i64 = 7;

/// What to look at.
#[derive(Debug, Clone, PartialEq)]
pub struct InsightsRequest {
    /// The period the findings are about; None takes the business's default period (as the
    /// dashboard's).
    pub period: Option<DayRange>,
    /// Today, for maps past their review date and the default period.
    pub today: NaiveDate,
}

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum InsightKind {
    DropOff,
    Channel,
    Satisfaction,
    ChurnRisk,
    StaleMap,
}

impl InsightKind {
    /// The order of kinds when two findings have the same value at stake.
    fn rank(self) -> u8 {
        match self {
            InsightKind::DropOff => 0,
            InsightKind::Channel => 1,
            InsightKind::Satisfaction => 2,
            InsightKind::ChurnRisk => 3,
            InsightKind::StaleMap => 4,
        }
    }

    /// The kind's name as the JSON writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            InsightKind::DropOff => "drop_off",
            InsightKind::Channel => "channel",
            InsightKind::Satisfaction => "satisfaction",
            InsightKind::ChurnRisk => "churn_risk",
            InsightKind::StaleMap => "stale_map",
        }
    }
}

/// Where the evidence is: a page of the web app and the command that shows the same numbers.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Evidence {
    /// What the evidence is ("funnel checkout_started → purchase").
    pub label: String,
    /// The web page, relative to the business (`analysis/funnel?steps=...`), to be put under
    /// `/b/{business_id}/`.
    pub page: String,
    /// The CLI command that shows it (`trailmap funnel --steps ...`).
    pub command: String,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Insight {
    pub kind: InsightKind,
    /// The finding in one sentence.
    pub title: String,
    /// The numbers behind it, in a sentence, with their n.
    pub detail: String,
    /// The estimated value at stake in the business's currency, minor units; None when the
    /// finding has no money figure (a map past its review date).
    pub value_at_stake_minor: Option<i64>,
    /// How the value was estimated, in a sentence.
    pub value_basis: String,
    /// The sample size behind the finding.
    pub n: u64,
    pub evidence: Evidence,
    /// The customers behind the finding, sorted.
    pub customers: Vec<CustomerId>,
}

/// A business's findings, the largest value at stake first.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Insights {
    pub business: String,
    pub currency: String,
    /// Minor units per major unit of `currency` (100 for USD), to show the values.
    pub minor_per_major: i64,
    pub period: DayRange,
    pub findings: Vec<Insight>,
    /// What was left out and why (a sample under 30, a model that could not be fitted, data the
    /// business does not have).
    pub notes: Vec<String>,
}

/// What every finding reads: the business, the period as instants, and its orders.
struct Context<'a> {
    business: &'a Business,
    period: DayRange,
    start: Timestamp,
    end: Timestamp,
    /// Orders in the period in the business's currency: (customer as now, minor units).
    orders: Vec<(CustomerId, i64)>,
    /// Customers with an order in the period.
    buyers: HashSet<CustomerId>,
}

impl Context<'_> {
    fn money(&self, minor: f64) -> String {
        money(minor, &self.business.currency.to_string(), self.business.currency.minor_per_major())
    }

    /// Average order value in the period, minor units; None without orders.
    fn average_order_value(&self) -> Option<f64> {
        (!self.orders.is_empty()).then(|| self.orders.iter().map(|o| o.1 as f64).sum::<f64>() / self.orders.len() as f64)
    }

    fn dates(&self) -> String {
        format!("{} to {}", self.period.from, self.period.to)
    }
}

/// An amount in minor units as "USD 1,234.56".
fn money(minor: f64, currency: &str, minor_per_major: i64) -> String {
    let major = minor / minor_per_major.max(1) as f64;
    let sign = if major < 0.0 { "-" } else { "" };
    let cents = (major.abs() * 100.0).round() as i64;
    let whole = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}{currency} {grouped}.{:02}", cents % 100)
}

fn percent(share: f64) -> String {
    format!("{:.0}%", share * 100.0)
}

/// A query value with the characters that would break a URL escaped.
fn encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b':' | b',' => out.push(byte as char),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

/// A command-line argument, quoted when it holds anything but plain characters.
fn shell(text: &str) -> String {
    if text.chars().all(|c| c.is_ascii_alphanumeric() || "-_.:,/=|".contains(c)) {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

/// The first instant of `day` in the business's time zone.
fn start_of(day: NaiveDate, business: &Business) -> Timestamp {
    let zone: chrono_tz::Tz = business.timezone.parse().unwrap_or(chrono_tz::Tz::UTC);
    let midnight = day.and_time(chrono::NaiveTime::MIN);
    (0..=3)
        .find_map(|h| zone.from_local_datetime(&(midnight + chrono::Duration::hours(h))).earliest())
        .map_or_else(|| Timestamp::from_date(day), |t| Timestamp(t.timestamp_millis()))
}

/// The event names a rule's name conditions allow (`purchase`, or each of a one-of list).
fn rule_names(rule: &EventRule) -> Vec<String> {
    rule.conditions
        .iter()
        .filter(|c| c.field == EventField::Name && !c.negate)
        .flat_map(|c| match &c.op {
            Op::Equals(name) => vec![name.clone()],
            Op::OneOf(names) => names.clone(),
            _ => Vec::new(),
        })
        .collect()
}

/// True when the rule says nothing but which event names it takes.
fn names_only(rule: &EventRule) -> bool {
    !rule.conditions.is_empty()
        && rule.conditions.iter().all(|c| c.field == EventField::Name && !c.negate && matches!(c.op, Op::Equals(_) | Op::OneOf(_)))
}

fn sorted(mut customers: Vec<CustomerId>) -> Vec<CustomerId> {
    customers.sort();
    customers.dedup();
    customers
}

/// Turns a refusal of an analysis (missing events, too little data) into a note; other errors
/// (the store failing) stay errors.
fn or_note<T>(result: Result<T>, what: &str, notes: &mut Vec<String>) -> Result<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(AppError::Invalid(reason) | AppError::InvalidField { reason, .. } | AppError::NotFound(reason)) => {
            notes.push(format!("{what}: left out ({reason})."));
            Ok(None)
        }
        Err(other) => Err(other),
    }
}

/// One transition of a funnel: its steps, who reached the first and who was lost, and the
/// value at stake.
#[derive(Debug, Clone)]
struct Loss {
    from: String,
    to: String,
    reached_from: usize,
    reached_to: usize,
    lost: Vec<CustomerId>,
    /// Of the customers reaching `to`, the share with an order in the period.
    buy_share: f64,
    value_minor: f64,
}

impl App {
    /// The findings for `business`, ranked by value at stake.
    pub fn insights(&self, business: &Business, request: &InsightsRequest) -> Result<Insights> {
        let period = match request.period {
            Some(period) => DayRange::new(period.from, period.to)?,
            None => self.default_period(business, request.today)?,
        };
        let start = start_of(period.from, business);
        let end = start_of(period.to + chrono::Duration::days(1), business);
        let mut insights = Insights {
            business: business.name.clone(),
            currency: business.currency.to_string(),
            minor_per_major: business.currency.minor_per_major(),
            period,
            findings: Vec::new(),
            notes: Vec::new(),
        };
        let summary = self.summary(business)?;
        let has_data = summary.events > 0 || summary.orders > 0;
        if has_data {
            // The kept orders, each on the customer it belongs to now.
            let data = self.business_data(business.id)?;
            let table = data.orders();
            let orders: Vec<(CustomerId, i64)> = (0..table.len())
                .filter(|&row| table.currency[row] == business.currency && table.time[row] >= start.0 && table.time[row] < end.0)
                .map(|row| (table.customer[row], table.total_minor[row]))
                .collect();
            let buyers = orders.iter().map(|o| o.0).collect();
            let cx = Context { business, period, start, end, orders, buyers };
            let notes = &mut insights.notes;
            if let Some(found) = self.drop_off(&cx, notes)? {
                insights.findings.push(found);
            }
            insights.findings.extend(self.channel_findings(&cx, notes)?);
            let clv = {
                let mut clv_request: ClvRequest = self.clv_request();
                clv_request.now = Some(end);
                or_note(self.clv(business, &clv_request), "customer value (channels, satisfaction, churn risk)", notes)?
            };
            if let Some(clv) = &clv {
                if let Some(reason) = &clv.prediction_error {
                    notes.push(format!("churn risk: left out (the value model could not be fitted: {reason})."));
                }
                if let Some(found) = self.satisfaction(&cx, clv, notes)? {
                    insights.findings.push(found);
                }
                if let Some(found) = churn_risk(&cx, clv, notes) {
                    insights.findings.push(found);
                }
            }
        }
        for map in self.stale_maps(business, request.today)? {
            let days = map.review_date.map_or(0, |d| (request.today - d).num_days());
            insights.findings.push(Insight {
                kind: InsightKind::StaleMap,
                title: format!("The journey map \"{}\" is past its review date", map.name),
                detail: format!(
                    "Review date {} ({days} days ago); the map has {} cards (n = {}), {} of them assumptions without evidence; last edited by {} (version {}).",
                    map.review_date.map_or_else(String::new, |d| d.to_string()),
                    map.cards,
                    map.cards,
                    map.assumptions,
                    map.updated_by,
                    map.version
                ),
                value_at_stake_minor: None,
                value_basis: "No money figure: a map past its review date may no longer describe the journey.".into(),
                n: map.cards as u64,
                evidence: Evidence {
                    label: format!("journey map {}", map.name),
                    page: format!("maps/{}", map.id),
                    command: format!("trailmap map show {}", map.id),
                },
                customers: Vec::new(),
            });
        }
        rank(&mut insights.findings);
        Ok(insights)
    }

    /// Runs an ordered 7-day funnel of `steps` over the period.
    fn period_funnel(&self, cx: &Context<'_>, steps: Vec<String>) -> Result<trailmap_analytics::funnel::FunnelResult> {
        let mut request = App::funnel_request(steps);
        request.window_ms = FUNNEL_WINDOW_DAYS * Timestamp::MS_PER_DAY;
        request.period = Some((cx.start, cx.end));
        Ok(self.funnel_with_lists(cx.business, &request)?.report.overall)
    }

    /// Every transition of a funnel with its value at stake.
    fn losses(&self, cx: &Context<'_>, steps: Vec<String>) -> Result<Vec<Loss>> {
        let aov = cx.average_order_value().unwrap_or(0.0);
        let result = self.period_funnel(cx, steps)?;
        Ok(result
            .steps
            .windows(2)
            .map(|pair| {
                let (from, to) = (&pair[0], &pair[1]);
                let bought = to.customers.iter().filter(|c| cx.buyers.contains(c)).count();
                let buy_share = if to.reached == 0 { 0.0 } else { bought as f64 / to.reached as f64 };
                Loss {
                    from: from.label.clone(),
                    to: to.label.clone(),
                    reached_from: from.reached,
                    reached_to: to.reached,
                    lost: sorted(to.dropped_customers.clone()),
                    buy_share,
                    value_minor: to.dropped as f64 * buy_share * aov,
                }
            })
            .collect())
    }

    /// The step of the journey to the first purchase that loses the most value.
    fn drop_off(&self, cx: &Context<'_>, notes: &mut Vec<String>) -> Result<Option<Insight>> {
        const WHAT: &str = "drop-off";
        if cx.orders.is_empty() {
            notes.push(format!("{WHAT}: left out (no orders in the period, so no order value to put on a lost customer)."));
            return Ok(None);
        }
        let mut stages = self.store().stages(cx.business.id)?;
        stages.sort_by_key(|s| s.position);
        let touchpoints = self.store().touchpoints(cx.business.id)?;
        let on = |stage: &trailmap_model::Stage| touchpoints.iter().filter(|t| t.stage == Some(stage.id)).collect::<Vec<_>>();
        let Some(conversion) = stages.iter().position(|s| on(s).iter().any(|t| rule_names(&t.rule).iter().any(|n| n == "purchase"))) else {
            notes.push(format!("{WHAT}: left out (no stage holds a touchpoint on the purchase event)."));
            return Ok(None);
        };
        // A stage is a step when at least half of the customers reaching the purchase stage in
        // the period reach it too; else it is a side road some customers take.
        let reach = |stage: &str| -> Result<Option<HashSet<CustomerId>>> {
            Ok(or_note(self.period_funnel(cx, vec![format!("stage:{stage}")]), WHAT, &mut Vec::new())?
                .map(|r| r.steps.first().map(|s| s.customers.iter().copied().collect()).unwrap_or_default()))
        };
        let Some(converting) = reach(&stages[conversion].name)? else {
            notes.push(format!("{WHAT}: left out (the purchase stage's funnel could not be run)."));
            return Ok(None);
        };
        // Two funnels over the same stages: one step per stage, and the fine one, where a stage
        // whose touchpoints name only events becomes those events, the most reached first.
        let mut steps = Vec::new();
        let mut fine = Vec::new();
        for (index, stage) in stages[..=conversion].iter().enumerate() {
            if on(stage).is_empty() {
                continue;
            }
            if index < conversion {
                let Some(customers) = reach(&stage.name)? else { continue };
                if 2 * converting.intersection(&customers).count() < converting.len() {
                    continue;
                }
            }
            let touchpoints = on(stage);
            let only_purchase = touchpoints.iter().all(|t| names_only(&t.rule) && rule_names(&t.rule) == ["purchase"]);
            if !only_purchase {
                steps.push(format!("stage:{}", stage.name));
            }
            if touchpoints.iter().all(|t| names_only(&t.rule)) {
                let mut names: Vec<(String, usize)> = Vec::new();
                for name in touchpoints.iter().flat_map(|t| rule_names(&t.rule)) {
                    if name == "purchase" || names.iter().any(|(n, _)| *n == name) || fine.contains(&name) {
                        continue;
                    }
                    // An event the business never recorded is no step.
                    if let Some(result) = or_note(self.period_funnel(cx, vec![name.clone()]), WHAT, &mut Vec::new())? {
                        names.push((name, result.entered));
                    }
                }
                names.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                fine.extend(names.into_iter().map(|(n, _)| n));
            } else {
                fine.push(format!("stage:{}", stage.name));
            }
        }
        steps.push("purchase".into());
        fine.push("purchase".into());
        if fine.len() < 2 {
            notes.push(format!("{WHAT}: left out (the journey to a purchase has a single step in this business's stages)."));
            return Ok(None);
        }
        let Some(losses) = or_note(self.losses(cx, fine.clone()), WHAT, notes)? else { return Ok(None) };
        let Some(chosen) = losses.into_iter().max_by(|a, b| a.value_minor.total_cmp(&b.value_minor)) else {
            return Ok(None);
        };
        let worst_stage = if steps.len() >= 2 && steps != fine {
            or_note(self.losses(cx, steps.clone()), WHAT, notes)?
                .and_then(|l| l.into_iter().max_by(|a, b| a.value_minor.total_cmp(&b.value_minor)))
        } else {
            None
        };
        if (chosen.reached_from as u64) < MIN_SAMPLE {
            notes.push(format!(
                "{WHAT}: left out ({} → {} has {} customers, under {MIN_SAMPLE}).",
                chosen.from, chosen.to, chosen.reached_from
            ));
            return Ok(None);
        }
        let aov = cx.average_order_value().unwrap_or(0.0);
        let lost = chosen.lost.len();
        let stage_note = match &worst_stage {
            Some(stage) => format!(
                " By stage ({}), the largest loss is {} → {} ({} of {} lost).",
                steps.join(" → "),
                stage.from,
                stage.to,
                stage.lost.len(),
                stage.reached_from
            ),
            None => String::new(),
        };
        let funnel_steps = format!("{},{}", chosen.from, chosen.to);
        Ok(Some(Insight {
            kind: InsightKind::DropOff,
            title: format!(
                "{} → {} loses {} of {} customers ({}), about {} in orders",
                chosen.from,
                chosen.to,
                lost,
                chosen.reached_from,
                percent(lost as f64 / chosen.reached_from.max(1) as f64),
                cx.money(chosen.value_minor)
            ),
            detail: format!(
                "From {}: {} customers reached {} (n = {}), {} went on to {} within {FUNNEL_WINDOW_DAYS} days and {lost} did not; {} of those who did bought in the period; average order value {} over {} orders.{stage_note}",
                cx.dates(),
                chosen.reached_from,
                chosen.from,
                chosen.reached_from,
                chosen.reached_to,
                chosen.to,
                percent(chosen.buy_share),
                cx.money(aov),
                cx.orders.len()
            ),
            value_at_stake_minor: Some(chosen.value_minor.round() as i64),
            value_basis: format!(
                "lost customers at the step ({lost}) × the share of customers past the step who bought in the period ({}) × the average order value in the period ({}); ordered funnel, {FUNNEL_WINDOW_DAYS}-day window, customers whose first step is in the period.",
                percent(chosen.buy_share),
                cx.money(aov)
            ),
            n: chosen.reached_from as u64,
            evidence: Evidence {
                label: format!("funnel {} → {}", chosen.from, chosen.to),
                page: format!("analysis/funnel?steps={}&window={FUNNEL_WINDOW_DAYS}d", encode(&funnel_steps)),
                command: format!(
                    "trailmap funnel --steps {} --window {FUNNEL_WINDOW_DAYS}d --from {} --to {}",
                    shell(&funnel_steps),
                    cx.start.to_rfc3339(),
                    cx.end.to_rfc3339()
                ),
            },
            customers: chosen.lost,
        }))
    }

    /// Channels whose spend in the period exceeds the value of the new customers they brought,
    /// each against the channel whose new customers are worth the most.
    fn channel_findings(&self, cx: &Context<'_>, notes: &mut Vec<String>) -> Result<Vec<Insight>> {
        const WHAT: &str = "channels";
        let dashboard = self.dashboard(cx.business, cx.period)?;
        let mut request = App::attribution_request();
        request.model = "first".into();
        request.new_customers = true;
        request.from = Some(cx.period.from.to_string());
        request.to = Some(cx.period.to.to_string());
        let Some(attribution) = or_note(self.attribution(cx.business, &request), WHAT, notes)? else { return Ok(Vec::new()) };
        let spend: HashMap<&str, f64> =
            attribution.attribution.channels.iter().map(|c| (c.channel.as_str(), c.spend_minor)).collect();
        let mut value_of: HashMap<CustomerId, f64> = HashMap::new();
        for (customer, minor) in &cx.orders {
            *value_of.entry(*customer).or_insert(0.0) += *minor as f64;
        }
        let value_rule = "value = the revenue of the new customers' orders in the period, in the same period as the spend";
        struct Row<'a> {
            channel: &'a str,
            customers: &'a [CustomerId],
            value: f64,
            spend: f64,
        }
        let rows: Vec<Row<'_>> = dashboard
            .report
            .new_by_channel
            .iter()
            .filter(|c| c.current > 0 && c.channel != "(none)")
            .map(|c| Row {
                channel: &c.channel,
                customers: &c.customers,
                value: c.customers.iter().map(|id| value_of.get(id).copied().unwrap_or(0.0)).sum(),
                spend: spend.get(c.channel.as_str()).copied().unwrap_or(0.0),
            })
            .collect();
        let per = |r: &Row<'_>| r.value / r.customers.len().max(1) as f64;
        // The comparison: the channel whose new customers are worth the most each, among those
        // with a sample to stand on.
        let Some(best) = rows.iter().filter(|r| r.customers.len() as u64 >= MIN_SAMPLE).max_by(|a, b| per(a).total_cmp(&per(b)).then(b.channel.cmp(a.channel)))
        else {
            notes.push(format!("{WHAT}: left out (no first channel brought {MIN_SAMPLE} new customers in the period)."));
            return Ok(Vec::new());
        };
        let mut findings = Vec::new();
        for row in rows.iter().filter(|r| r.spend > 0.0 && r.spend > r.value && r.channel != best.channel) {
            let n = (row.customers.len() + best.customers.len()) as u64;
            if n < MIN_SAMPLE || row.customers.len() < 2 {
                notes.push(format!("{WHAT}: {} left out ({} new customers, under the sample needed).", row.channel, row.customers.len()));
                continue;
            }
            let count = row.customers.len();
            let cost_per = row.spend / count as f64;
            let best_cost = if best.spend > 0.0 {
                format!("costing {} each", cx.money(best.spend / best.customers.len() as f64))
            } else {
                "at no cost".to_string()
            };
            findings.push(Insight {
                kind: InsightKind::Channel,
                title: format!(
                    "{} spend of {} brought {count} new customers worth {}; {} brought {} worth {} each {best_cost}",
                    row.channel,
                    cx.money(row.spend),
                    cx.money(row.value),
                    best.channel,
                    best.customers.len(),
                    cx.money(per(best)),
                ),
                detail: format!(
                    "From {}: {}: {count} new customers, spend {}, {} per new customer, value {} per new customer; {}: {} new customers, spend {}, value {} per new customer (n = {n} new customers of the two channels).",
                    cx.dates(),
                    row.channel,
                    cx.money(row.spend),
                    cx.money(cost_per),
                    cx.money(per(row)),
                    best.channel,
                    best.customers.len(),
                    cx.money(best.spend),
                    cx.money(per(best)),
                ),
                value_at_stake_minor: Some((row.spend - row.value).round() as i64),
                value_basis: format!(
                    "spend in the period (prorated by day) − the value of the new customers whose first channel it is; {value_rule}."
                ),
                n,
                evidence: Evidence {
                    label: format!("value of new customers by first channel: {} against {}", row.channel, best.channel),
                    page: "analysis/clv?by=channel".into(),
                    command: format!(
                        "trailmap attribution --model first --new-customers --from {} --to {} && trailmap clv --by channel",
                        cx.period.from, cx.period.to
                    ),
                },
                customers: sorted(row.customers.to_vec()),
            });
        }
        Ok(findings)
    }

    /// The touchpoint with the worst CSAT in the period, and what its unhappy customers may cost.
    fn satisfaction(&self, cx: &Context<'_>, clv: &crate::ClvReport, notes: &mut Vec<String>) -> Result<Option<Insight>> {
        const WHAT: &str = "satisfaction";
        let request = SurveyResultsRequest {
            survey: None,
            from: Some(cx.period.from),
            to: Some(cx.period.to),
            by: Some(ScoreGrouping::Touchpoint),
        };
        let Some(results) = or_note(self.survey_results(cx.business, &request), WHAT, notes)? else { return Ok(None) };
        let mut worst: Option<(String, String, &trailmap_analytics::voice::ScoreResult)> = None;
        let mut small = 0;
        for question in results.questions.iter().filter(|q| q.overall.kind == ScoreKind::Csat) {
            for group in question.groups.iter().filter(|g| g.group != "(none)") {
                let Some(value) = group.result.value else { continue };
                if group.result.n < MIN_SAMPLE {
                    small += 1;
                    continue;
                }
                if worst.as_ref().is_none_or(|(_, _, w)| value < w.value.unwrap_or(f64::INFINITY)) {
                    worst = Some((group.group.clone(), question.survey.clone(), &group.result));
                }
            }
        }
        let Some((touchpoint, survey, result)) = worst else {
            notes.push(format!(
                "{WHAT}: left out (no touchpoint has {MIN_SAMPLE} CSAT answers in the period{}).",
                if small > 0 { format!("; {small} touchpoint(s) have fewer") } else { String::new() }
            ));
            return Ok(None);
        };
        let positive: HashSet<CustomerId> = result.positive_customers.iter().copied().collect();
        let unhappy: Vec<CustomerId> = result.customers.iter().copied().filter(|c| !positive.contains(c)).collect();
        let history: HashMap<CustomerId, &trailmap_clv::historical::CustomerValue> =
            clv.customers.iter().map(|c| (c.customer, &c.history)).collect();
        let repeat = |set: &[CustomerId]| -> f64 {
            if set.is_empty() {
                return 0.0;
            }
            set.iter().filter(|c| history.get(c).is_some_and(|h| h.orders >= 2)).count() as f64 / set.len() as f64
        };
        let happy: Vec<CustomerId> = result.positive_customers.clone();
        let (repeat_happy, repeat_unhappy) = (repeat(&happy), repeat(&unhappy));
        let scale = cx.business.currency.minor_per_major() as f64;
        let average_value = if unhappy.is_empty() {
            0.0
        } else {
            unhappy.iter().map(|c| history.get(c).map_or(0.0, |h| h.revenue * scale)).sum::<f64>() / unhappy.len() as f64
        };
        let value = unhappy.len() as f64 * average_value * (repeat_happy - repeat_unhappy).max(0.0);
        let csat = result.value.unwrap_or(0.0);
        Ok(Some(Insight {
            kind: InsightKind::Satisfaction,
            title: format!(
                "{touchpoint} has the worst satisfaction: CSAT {} from {} answers, {} customers not satisfied",
                percent(csat),
                result.n,
                unhappy.len()
            ),
            detail: format!(
                "From {}: survey \"{survey}\" at {touchpoint}: CSAT (share of 4-5) {} (n = {} answers, {} customers); {} customers rated 1-3, their average revenue to date {}; repeat rate (2 or more orders) {} of the satisfied against {} of the others.",
                cx.dates(),
                percent(csat),
                result.n,
                result.customers.len(),
                unhappy.len(),
                cx.money(average_value),
                percent(repeat_happy),
                percent(repeat_unhappy)
            ),
            value_at_stake_minor: Some(value.round() as i64),
            value_basis: "customers who rated the touchpoint 1-3 × their average revenue to date × (repeat rate of the customers who rated it 4-5 − repeat rate of those who rated it 1-3, not below 0); repeat rate = share with 2 or more orders up to the period's end.".into(),
            n: result.n,
            evidence: Evidence {
                label: format!("CSAT by touchpoint: {touchpoint}"),
                page: format!("feedback?touchpoint={}", encode(&touchpoint)),
                command: format!(
                    "trailmap survey results --by touchpoint --from {} --to {} && trailmap feedback themes --touchpoint {}",
                    cx.period.from,
                    cx.period.to,
                    shell(&touchpoint)
                ),
            },
            customers: sorted(unhappy),
        }))
    }
}

/// Valuable customers the model thinks have probably left.
fn churn_risk(cx: &Context<'_>, clv: &crate::ClvReport, notes: &mut Vec<String>) -> Option<Insight> {
    const WHAT: &str = "churn risk";
    if clv.prediction_error.is_some() {
        return None;
    }
    let valued = clv.customers.len() as u64;
    if valued < MIN_SAMPLE {
        notes.push(format!("{WHAT}: left out ({valued} customers with purchases, under {MIN_SAMPLE})."));
        return None;
    }
    let mut revenues: Vec<f64> = clv.customers.iter().map(|c| c.history.revenue).collect();
    revenues.sort_by(f64::total_cmp);
    let median = if !revenues.len().is_multiple_of(2) {
        revenues[revenues.len() / 2]
    } else {
        (revenues[revenues.len() / 2 - 1] + revenues[revenues.len() / 2]) / 2.0
    };
    let scale = cx.business.currency.minor_per_major() as f64;
    let mut at_risk = Vec::new();
    let mut yearly = 0.0;
    let mut revenue = 0.0;
    for c in &clv.customers {
        let (Some(alive), Some(predicted)) = (c.probability_alive, c.predicted_value) else { continue };
        if alive < 0.5 && c.history.revenue > median {
            at_risk.push(c.customer);
            // The model's expected value already weighs the value had they stayed by P(alive):
            // it is what keeping those still there is worth, and what is lost if they lapse.
            // Dividing by P(alive) would count customers who are already gone as recoverable.
            yearly += predicted * scale;
            revenue += c.history.revenue * scale;
        }
    }
    if at_risk.is_empty() {
        notes.push(format!("{WHAT}: no customer with above-median revenue has P(alive) under 0.5."));
        return None;
    }
    let count = at_risk.len();
    // Over a span as long as the period, so the figure compares with the other findings'.
    let horizon_days = clv.horizon as f64 * clv.unit.days();
    let days = cx.period.days() as f64;
    let value = yearly * days / horizon_days;
    Some(Insight {
        kind: InsightKind::ChurnRisk,
        title: format!(
            "{count} customers who spent more than most have probably stopped buying; their expected value is about {} over {days:.0} days ({} a year)",
            cx.money(value),
            cx.money(yearly)
        ),
        detail: format!(
            "Of {valued} customers who bought (n = {valued}), {count} spent more than the median customer ({}) but have less than an even chance of still being customers, judged by their purchases up to {}; together they spent {} so far.",
            cx.money(median * scale),
            clv.now_rule,
            cx.money(revenue)
        ),
        value_at_stake_minor: Some(value.round() as i64),
        value_basis: format!(
            "what these customers are expected to spend over the next {} {}s, each weighed by the chance they are still a customer (P(alive) of the customer-value model, under 0.5 for each of them): what keeping those still there is worth; × {days:.0} / {horizon_days:.0} to put it on the period's length like the other findings.",
            clv.horizon,
            clv.unit.name()
        ),
        n: valued,
        evidence: Evidence {
            label: "customer value".into(),
            page: "analysis/clv?by=channel".into(),
            command: "trailmap clv --by channel".into(),
        },
        customers: sorted(at_risk),
    })
}

/// Largest value at stake first, findings without a money figure last; ties by kind, then title.
fn rank(findings: &mut [Insight]) {
    findings.sort_by(|a, b| {
        let value = |i: &Insight| i.value_at_stake_minor.map_or((1, 0), |v| (0, -v));
        value(a).cmp(&value(b)).then(a.kind.rank().cmp(&b.kind.rank())).then(a.title.cmp(&b.title))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_grouped_and_signed() {
        assert_eq!(money(123_456_789.0, "USD", 100), "USD 1,234,567.89");
        assert_eq!(money(-5.0, "USD", 100), "-USD 0.05");
        assert_eq!(money(1_000.0, "JPY", 1), "JPY 1,000.00");
    }

    #[test]
    fn urls_and_arguments_are_escaped() {
        assert_eq!(encode("stage:Purchase,purchase"), "stage:Purchase,purchase");
        assert_eq!(encode("Till purchase&x"), "Till%20purchase%26x");
        assert_eq!(shell("checkout_started,purchase"), "checkout_started,purchase");
        assert_eq!(shell("stage:Find us,purchase"), "'stage:Find us,purchase'");
    }

    #[test]
    fn ranking_puts_money_first_then_kind() {
        let finding = |kind, value| Insight {
            kind,
            title: String::new(),
            detail: String::new(),
            value_at_stake_minor: value,
            value_basis: String::new(),
            n: 1,
            evidence: Evidence { label: String::new(), page: String::new(), command: String::new() },
            customers: Vec::new(),
        };
        let mut list = vec![
            finding(InsightKind::StaleMap, None),
            finding(InsightKind::ChurnRisk, Some(10)),
            finding(InsightKind::Channel, Some(10)),
            finding(InsightKind::DropOff, Some(500)),
            finding(InsightKind::Satisfaction, Some(0)),
        ];
        rank(&mut list);
        let kinds: Vec<InsightKind> = list.iter().map(|f| f.kind).collect();
        assert_eq!(
            kinds,
            [InsightKind::DropOff, InsightKind::Channel, InsightKind::ChurnRisk, InsightKind::Satisfaction, InsightKind::StaleMap]
        );
    }
}
