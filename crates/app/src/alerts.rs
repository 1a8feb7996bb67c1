//! Alerts: a rule on a KPI (conversion at a step, new customers by channel, NPS or CSAT, revenue, a
//! touchpoint's volume, or any other change metric) that fires when the KPI's change between the
//! last whole period and the one before is significant by the test a change's impact uses
//! ([`App::compare_periods`], with n), or when it crosses a threshold the owner set. A firing is
//! delivered by e-mail or by a webhook (a POST of JSON signed with HMAC-SHA256 under the rule's
//! secret), and each rule fires at most once per period: the store refuses a second firing for
//! the same rule and period, in the transaction that queues the deliveries.
//!
//! Which period a rule looks at is a pure function of the clock ([`crate::digests::due_period`]).

use crate::delivery::{EmailBody, check_webhook_url, parse_addresses};
use crate::digests::{Cadence, due_period};
use crate::impact::{AlertKpi, ImpactUnit, PeriodComparison};
use crate::{App, AppError, DayRange, Result};
use serde::Serialize;
use trailmap_model::{Business, BusinessId, Timestamp};
use trailmap_render::escape;
use trailmap_store::{DeliveryStore, NewDelivery, NewFiring, StoredAlertRule, StoredDelivery, StoredFiring};

/// The confidence an alert's test is judged at.
pub const ALERT_CONFIDENCE: f64 = 0.95;

/// When a rule fires.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "lowercase")]
pub enum Condition {
    /// The change is significant, either way.
    Significant,
    /// A significant rise.
    Rise,
    /// A significant drop.
    Drop,
    /// The value crosses above the threshold (it was not above it the period before).
    Above(f64),
    /// The value crosses below the threshold.
    Below(f64),
}

/// The text forms of a condition.
pub const CONDITION_FORMS: &str = "significant, rise, drop, above:X or below:X (X as the KPI is shown: 2% or 0.02 for a share, \
     an amount in the currency's units, a count per day, a score)";

impl Condition {
    pub fn parse(text: &str) -> Result<Condition> {
        let wrong = |reason: String| AppError::InvalidField { field: "when".into(), value: Some(text.to_string()), reason: format!("{reason}; a condition is {CONDITION_FORMS}") };
        let text = text.trim();
        let number = |x: &str| -> Result<f64> {
            let x = x.trim();
            let (digits, scale) = match x.strip_suffix('%') {
                Some(d) => (d, 0.01),
                None => (x, 1.0),
            };
            digits.trim().parse::<f64>().ok().filter(|v| v.is_finite()).map(|v| v * scale).ok_or_else(|| wrong(format!("{x:?} is not a number")))
        };
        match text.to_ascii_lowercase().as_str() {
            "significant" => Ok(Condition::Significant),
            "rise" | "up" => Ok(Condition::Rise),
            "drop" | "down" => Ok(Condition::Drop),
            lower => match lower.split_once(':') {
                Some(("above", x)) => Ok(Condition::Above(number(x)?)),
                Some(("below", x)) => Ok(Condition::Below(number(x)?)),
                _ => Err(wrong("unknown condition".into())),
            },
        }
    }

    fn stored(self) -> (&'static str, Option<f64>) {
        match self {
            Condition::Significant => ("any", None),
            Condition::Rise => ("up", None),
            Condition::Drop => ("down", None),
            Condition::Above(x) => ("above", Some(x)),
            Condition::Below(x) => ("below", Some(x)),
        }
    }

    fn from_stored(direction: &str, threshold: Option<f64>) -> Result<Condition> {
        Ok(match (direction, threshold) {
            ("any", _) => Condition::Significant,
            ("up", _) => Condition::Rise,
            ("down", _) => Condition::Drop,
            ("above", Some(x)) => Condition::Above(x),
            ("below", Some(x)) => Condition::Below(x),
            _ => return Err(AppError::Invalid(format!("a stored alert condition does not read: {direction} {threshold:?}"))),
        })
    }
}

impl std::fmt::Display for Condition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Condition::Significant => f.write_str("significant"),
            Condition::Rise => f.write_str("rise"),
            Condition::Drop => f.write_str("drop"),
            Condition::Above(x) => write!(f, "above:{x}"),
            Condition::Below(x) => write!(f, "below:{x}"),
        }
    }
}

/// How a firing is delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertChannel {
    Email,
    Webhook,
}

/// An alert rule as the app shows it (its secret only when it is made).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertRule {
    pub id: i64,
    pub business: BusinessId,
    /// The KPI in its text form (`conversion:checkout_started>purchase:7d`).
    pub kpi: String,
    pub label: String,
    pub cadence: Cadence,
    /// The condition in its text form (`significant`, `below:0.02`).
    pub when: String,
    pub channel: AlertChannel,
    /// The e-mail addresses (comma-separated) or the webhook's URL.
    pub target: String,
    /// The webhook's signing secret: shown when the rule is made, never again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    pub created_at: Timestamp,
}

/// What a new rule is made of, as text from any front end.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewAlertRule {
    pub kpi: String,
    pub cadence: String,
    pub when: String,
    pub channel: String,
    pub target: String,
}

/// A rule checked and ready to store (see [`App::check_alert_rule`]).
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedAlertRule(StoredAlertRule);

/// One rule judged over one period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertCheck {
    pub rule: i64,
    pub kpi: String,
    pub when: String,
    pub period: DayRange,
    pub previous: DayRange,
    pub comparison: PeriodComparison,
    /// Whether the condition holds, so the rule fires (once) for the period.
    pub fires: bool,
    /// Why it fires or not, in a sentence with n.
    pub reason: String,
}

/// One time a rule fired.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertFiring {
    pub id: i64,
    pub rule: i64,
    pub period: String,
    pub fired_at: Timestamp,
    pub message: String,
}

fn rule_of(stored: &StoredAlertRule) -> Result<AlertRule> {
    let kpi = AlertKpi::parse(&stored.kpi).map_err(AppError::Invalid)?;
    Ok(AlertRule {
        id: stored.id,
        business: stored.business,
        kpi: stored.kpi.clone(),
        label: kpi.label(),
        cadence: Cadence::parse("cadence", &stored.cadence)?,
        when: Condition::from_stored(&stored.direction, stored.threshold)?.to_string(),
        channel: if stored.channel == "webhook" { AlertChannel::Webhook } else { AlertChannel::Email },
        target: stored.target.clone(),
        secret: None,
        created_at: stored.created_at,
    })
}

/// A value as the KPI's unit shows it.
fn value_text(value: Option<f64>, unit: ImpactUnit, currency: &str) -> String {
    match value {
        None => "–".into(),
        Some(v) => match unit {
            ImpactUnit::Proportion => format!("{:.1}%", v * 100.0),
            ImpactUnit::Money => format!("{v:.2} {currency}"),
            ImpactUnit::PerDay => format!("{v:.2} a day"),
            ImpactUnit::Score => format!("{v:.1}"),
        },
    }
}

/// Whether `condition` holds for `comparison`, and why, in a sentence with n.
pub fn judge(condition: Condition, comparison: &PeriodComparison, currency: &str) -> (bool, String) {
    let (now, before) = (comparison.current.value, comparison.previous.value);
    let n = format!("n = {} now, {} before", comparison.current.n, comparison.previous.n);
    let shown = |v| value_text(v, comparison.unit, currency);
    let difference = comparison.comparison.as_ref().map(|c| c.difference);
    match condition {
        Condition::Significant | Condition::Rise | Condition::Drop => {
            let direction_ok = match condition {
                Condition::Rise => difference.is_some_and(|d| d > 0.0),
                Condition::Drop => difference.is_some_and(|d| d < 0.0),
                _ => true,
            };
            (comparison.significant && direction_ok, comparison.verdict.clone())
        }
        Condition::Above(x) | Condition::Below(x) => {
            let beyond = |v: Option<f64>| v.is_some_and(|v| if matches!(condition, Condition::Above(_)) { v > x } else { v < x });
            let side = if matches!(condition, Condition::Above(_)) { "above" } else { "below" };
            let fires = beyond(now) && !beyond(before);
            let reason = if fires {
                format!("{} went {side} {} : {} now against {} before ({n}).", comparison.label, shown(Some(x)), shown(now), shown(before))
            } else if beyond(now) {
                format!("{} is {side} {} ({}) but already was before ({}); it fired when it crossed ({n}).", comparison.label, shown(Some(x)), shown(now), shown(before))
            } else {
                format!("{} is {} , not {side} {} ({n}).", comparison.label, shown(now), shown(Some(x)))
            };
            (fires, reason)
        }
    }
}

impl App {
    pub fn alert_rules(&self, business: &Business) -> Result<Vec<AlertRule>> {
        self.store().alert_rules(business.id)?.iter().map(rule_of).collect()
    }

    fn alert_rule(&self, business: &Business, id: i64) -> Result<(StoredAlertRule, AlertRule)> {
        let stored = self
            .store()
            .alert_rules(business.id)?
            .into_iter()
            .find(|r| r.id == id)
            .ok_or_else(|| AppError::NotFound(format!("{} has no alert rule {id}", business.name)))?;
        let rule = rule_of(&stored)?;
        Ok((stored, rule))
    }

    /// Adds a rule after checking every field ([`App::check_alert_rule`]).
    pub fn add_alert_rule(&mut self, business: &Business, new: &NewAlertRule, now: Timestamp) -> Result<AlertRule> {
        let checked = self.check_alert_rule(business, new, now)?;
        self.save_alert_rule(checked)
    }

    /// Checks a new rule (a read, which a server runs off its writer): the KPI reads and can be
    /// measured in this business (its touchpoint, channel or step exists), the condition reads,
    /// each address is an e-mail address, a webhook is an http(s) URL. A webhook rule gets a new
    /// signing secret, which [`App::save_alert_rule`] returns this once.
    pub fn check_alert_rule(&self, business: &Business, new: &NewAlertRule, now: Timestamp) -> Result<CheckedAlertRule> {
        let kpi = AlertKpi::parse(&new.kpi).map_err(|reason| AppError::InvalidField { field: "kpi".into(), value: Some(new.kpi.clone()), reason })?;
        let cadence = Cadence::parse("cadence", if new.cadence.trim().is_empty() { "weekly" } else { &new.cadence })?;
        let condition = Condition::parse(if new.when.trim().is_empty() { "significant" } else { &new.when })?;
        let (channel, target, secret) = match new.channel.trim().to_ascii_lowercase().as_str() {
            "email" | "" => ("email", parse_addresses("target", &new.target)?.join(","), None),
            "webhook" => ("webhook", check_webhook_url("target", &new.target)?, Some(new_secret())),
            other => return Err(AppError::InvalidField { field: "channel".into(), value: Some(other.to_string()), reason: "is email or webhook".into() }),
        };
        // Measuring it once over the last period checks the names it holds against the business.
        let today = crate::dashboard::today_in(business, now);
        let period = cadence.last_whole_period(today);
        self.compare_periods(business, &kpi, cadence.previous(period), period, ALERT_CONFIDENCE)?;
        let (direction, threshold) = condition.stored();
        Ok(CheckedAlertRule(StoredAlertRule {
            id: 0,
            business: business.id,
            kpi: kpi.to_string(),
            cadence: cadence.as_str().into(),
            threshold,
            direction: direction.into(),
            channel: channel.into(),
            target,
            secret,
            created_at: now,
        }))
    }

    /// Stores a rule checked by [`App::check_alert_rule`]; the answer carries its secret.
    pub fn save_alert_rule(&mut self, checked: CheckedAlertRule) -> Result<AlertRule> {
        let stored = self.store_mut().insert_alert_rule(&checked.0)?;
        Ok(AlertRule { secret: stored.secret.clone(), ..rule_of(&stored)? })
    }

    pub fn remove_alert_rule(&mut self, business: &Business, id: i64) -> Result<()> {
        self.store_mut().delete_alert_rule(business.id, id).map_err(|e| match e {
            trailmap_store::StoreError::NotFound { .. } => AppError::NotFound(format!("{} has no alert rule {id}", business.name)),
            other => other.into(),
        })
    }

    /// Judges rule `id` over `period` (default: its last whole period before `now`).
    pub fn check_alert(&self, business: &Business, id: i64, period: Option<DayRange>, now: Timestamp) -> Result<AlertCheck> {
        let (_, rule) = self.alert_rule(business, id)?;
        let period = period.unwrap_or_else(|| rule.cadence.last_whole_period(crate::dashboard::today_in(business, now)));
        self.judge_rule(business, &rule, period)
    }

    fn judge_rule(&self, business: &Business, rule: &AlertRule, period: DayRange) -> Result<AlertCheck> {
        let kpi = AlertKpi::parse(&rule.kpi).map_err(AppError::Invalid)?;
        let previous = rule.cadence.previous(period);
        let comparison = self.compare_periods(business, &kpi, previous, period, ALERT_CONFIDENCE)?;
        let (fires, reason) = judge(Condition::parse(&rule.when)?, &comparison, business.currency.as_str());
        Ok(AlertCheck { rule: rule.id, kpi: rule.kpi.clone(), when: rule.when.clone(), period, previous, comparison, fires, reason })
    }

    /// The firings of the business, newest first.
    pub fn alert_firings(&self, business: &Business, limit: u32) -> Result<Vec<AlertFiring>> {
        Ok(self
            .store()
            .alert_firings(business.id, limit)?
            .into_iter()
            .map(|f| AlertFiring { id: f.id, rule: f.rule, period: f.period, fired_at: f.fired_at, message: f.message })
            .collect())
    }

    /// The rules whose condition holds for their period due at `now` and that have not fired for
    /// it yet, each with the deliveries it sends (a read; [`App::record_firings`] writes them).
    pub fn plan_alerts(&self, now: Timestamp) -> Result<Vec<(NewFiring, Vec<NewDelivery>)>> {
        let mut planned = Vec::new();
        for business in self.businesses()? {
            let stored = self.store().alert_rules(business.id)?;
            if stored.is_empty() {
                continue;
            }
            let fired: Vec<StoredFiring> = self.store().alert_firings(business.id, u32::MAX)?;
            let today = crate::dashboard::today_in(&business, now);
            for s in &stored {
                let rule = rule_of(s)?;
                let Some(period) = due_period(rule.cadence, crate::dashboard::today_in(&business, rule.created_at), today) else { continue };
                let key = period_key(period);
                if fired.iter().any(|f| f.rule == rule.id && f.period == key) {
                    continue;
                }
                // A rule that cannot be measured (its touchpoint was deleted) is skipped, not fatal.
                let Ok(check) = self.judge_rule(&business, &rule, period) else { continue };
                if check.fires {
                    planned.push(self.firing(&business, s, &rule, &check, "alert")?);
                }
            }
        }
        Ok(planned)
    }

    /// Records planned firings (each once per rule and period) and queues their deliveries.
    pub fn record_firings(&mut self, planned: &[(NewFiring, Vec<NewDelivery>)], now: Timestamp) -> Result<Vec<StoredFiring>> {
        let mut recorded = Vec::new();
        for (firing, deliveries) in planned {
            recorded.extend(self.store_mut().record_firing(firing, deliveries, now)?);
        }
        Ok(recorded)
    }

    /// Judges rule `id` over its last period and sends the result to its target as a test
    /// (queued at once, recorded in neither the firings nor the once-per-period rule).
    pub fn test_alert(&mut self, business: &Business, id: i64, now: Timestamp) -> Result<(AlertCheck, StoredDelivery)> {
        let check = self.check_alert(business, id, None, now)?;
        let queued = self.queue_alert_test(business, &check, now)?;
        Ok((check, queued))
    }

    /// Queues the test of a rule already judged (a server judges on a reader, queues on its writer).
    pub fn queue_alert_test(&mut self, business: &Business, check: &AlertCheck, now: Timestamp) -> Result<StoredDelivery> {
        let (stored, rule) = self.alert_rule(business, check.rule)?;
        let (_, deliveries) = self.firing(business, &stored, &rule, check, "test")?;
        let mut queued = None;
        for d in &deliveries {
            queued = self.queue_delivery(d, now)?;
        }
        queued.ok_or_else(|| AppError::Invalid("the test was not queued".into()))
    }

    fn firing(&self, business: &Business, stored: &StoredAlertRule, rule: &AlertRule, check: &AlertCheck, kind: &str) -> Result<(NewFiring, Vec<NewDelivery>)> {
        let brand = self.branding()?.name.map(|n| format!("{n} · ")).unwrap_or_default();
        let test = if kind == "test" { "[test] " } else { "" };
        let message = format!("{}, {} to {}: {}", rule.label, check.period.from, check.period.to, check.reason);
        let subject = format!("{test}{brand}{}: alert on {} ({} to {})", business.name, rule.label, check.period.from, check.period.to);
        let c = &check.comparison;
        let data = serde_json::json!({
            "event": if kind == "test" { "alert.test" } else { "alert.fired" },
            "business": { "id": business.id.0, "name": business.name },
            "rule": { "id": rule.id, "kpi": rule.kpi, "when": rule.when, "cadence": rule.cadence },
            "label": rule.label,
            "period": { "from": check.period.from, "to": check.period.to },
            "previous_period": { "from": check.previous.from, "to": check.previous.to },
            "value": c.current.value,
            "n": c.current.n,
            "previous_value": c.previous.value,
            "previous_n": c.previous.n,
            "n_means": c.n_means,
            "p_value": c.comparison.as_ref().map(|t| t.p_value).filter(|p| p.is_finite()),
            "significant": c.significant,
            "fires": check.fires,
            "verdict": c.verdict,
            "message": message,
        });
        let body = serde_json::to_string(&data).map_err(|e| AppError::Invalid(format!("the alert cannot be written: {e}")))?;
        let delivery = match rule.channel {
            AlertChannel::Webhook => NewDelivery {
                business: business.id,
                key: None,
                kind: kind.into(),
                channel: "webhook".into(),
                target: stored.target.clone(),
                subject: subject.clone(),
                body: body.clone(),
                attachment: None,
                secret: stored.secret.clone(),
            },
            AlertChannel::Email => {
                let text = format!("{subject}\n\n{message}\n\n{}\n", c.verdict);
                let html = format!(
                    "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{0}</title></head><body><h1>{0}</h1><p>{1}</p><p>{2}</p></body></html>",
                    escape(&subject),
                    escape(&message),
                    escape(&c.verdict)
                );
                let email = EmailBody { html, text, attachment_name: None };
                NewDelivery {
                    business: business.id,
                    key: None,
                    kind: kind.into(),
                    channel: "email".into(),
                    target: stored.target.clone(),
                    subject: subject.clone(),
                    body: serde_json::to_string(&email).map_err(|e| AppError::Invalid(format!("the alert cannot be written: {e}")))?,
                    attachment: None,
                    secret: None,
                }
            }
        };
        Ok((NewFiring { rule: rule.id, business: business.id, period: period_key(check.period), message, data: body }, vec![delivery]))
    }
}

/// A period as the firings table keys it.
pub fn period_key(period: DayRange) -> String {
    format!("{}..{}", period.from, period.to)
}

/// A new webhook signing secret: 32 random bytes, hex.
fn new_secret() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("whsec_{}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
}
