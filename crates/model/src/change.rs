//! Changes the business made: what, when, where in the journey, and what to watch. These are the
//! "implement changes" step of the practice; impact analysis measures them.
//!
//! The KPI to watch has two forms: `kpi`, the label a person wrote ("checkout conversion"), and
//! `metric`, a [`ChangeMetric`] the engine can compute before and after the change. A metric has a
//! short text form for command lines and forms (`conversion:checkout_started>purchase:7d`,
//! `reach:Purchase`, `repeat-rate`, `aov`, `revenue-per-customer`, `nps`, `csat[:TOUCHPOINT]`,
//! `new-customers[:CHANNEL]`) that [`ChangeMetric::from_str`] reads and `Display` writes back.

use crate::{BusinessId, ChangeId, MapId, StageId, TouchpointId};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub id: ChangeId,
    pub business: BusinessId,
    pub title: String,
    pub description: String,
    /// The day the change took effect.
    pub date: NaiveDate,
    pub touchpoints: Vec<TouchpointId>,
    pub stages: Vec<StageId>,
    /// The KPI to watch, by name ("checkout conversion", "repeat rate"), as a person wrote it.
    pub kpi: Option<String>,
    pub owner: Option<String>,
    /// The KPI in a form the engine can compute; impact analysis measures this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<ChangeMetric>,
    /// The journey-map card (a pain point or an action) this change answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answers: Option<CardRef>,
}

impl Change {
    /// The KPI as a person reads it: the label written with the change, else the metric's own.
    pub fn kpi_label(&self) -> Option<String> {
        self.kpi.clone().or_else(|| self.metric.as_ref().map(ChangeMetric::label))
    }
}

/// A card of a journey map: card ids are stable within their map (see `JourneyMap::number_items`),
/// so the map's id and the card's id name it for good, even when the card moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CardRef {
    pub map: MapId,
    pub card: u32,
}

/// A KPI the engine can compute for a period, so a change's impact can be measured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChangeMetric {
    /// The share of customers reaching `from` who reach `to` within `window_days`. Each step is a
    /// step item of `trailmap funnel --steps`: an event name, `touchpoint:NAME` or `stage:NAME`.
    StepConversion { from: String, to: String, window_days: u32 },
    /// The customers reaching this stage (by name).
    StageReach { stage: String },
    /// The share of buyers who buy again.
    RepeatRate,
    AverageOrderValue,
    RevenuePerCustomer,
    Nps,
    /// Satisfaction, at one touchpoint (by name) or overall.
    Csat { touchpoint: Option<String> },
    /// New customers, from one channel (a GA4 channel group name such as "Referral") or all.
    NewCustomers { channel: Option<String> },
}

/// The text forms a metric can take, for error messages and help texts.
pub const METRIC_FORMS: &str = "conversion:FROM>TO[:Nd] (e.g. conversion:checkout_started>purchase:7d), reach:STAGE, \
     repeat-rate, aov, revenue-per-customer, nps, csat[:TOUCHPOINT], new-customers[:CHANNEL]";

/// The conversion window when the text form does not give one, as `trailmap funnel`'s default.
pub const DEFAULT_WINDOW_DAYS: u32 = 7;

/// Why a metric's text could not be read; the message says what is wrong and lists the forms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricParseError {
    pub reason: String,
}

impl fmt::Display for MetricParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}; a metric is one of: {METRIC_FORMS}", self.reason)
    }
}

impl std::error::Error for MetricParseError {}

fn parse_error(reason: String) -> MetricParseError {
    MetricParseError { reason }
}

impl ChangeMetric {
    /// The metric in words, used as the KPI's label when the person gave none.
    pub fn label(&self) -> String {
        match self {
            ChangeMetric::StepConversion { from, to, window_days } => {
                format!("conversion from {from} to {to} within {window_days} day{}", if *window_days == 1 { "" } else { "s" })
            }
            ChangeMetric::StageReach { stage } => format!("customers reaching {stage}"),
            ChangeMetric::RepeatRate => "repeat rate".into(),
            ChangeMetric::AverageOrderValue => "average order value".into(),
            ChangeMetric::RevenuePerCustomer => "revenue per customer".into(),
            ChangeMetric::Nps => "NPS".into(),
            ChangeMetric::Csat { touchpoint: Some(t) } => format!("CSAT at {t}"),
            ChangeMetric::Csat { touchpoint: None } => "CSAT".into(),
            ChangeMetric::NewCustomers { channel: Some(c) } => format!("new customers from {c}"),
            ChangeMetric::NewCustomers { channel: None } => "new customers".into(),
        }
    }
}

/// Whether a step item is `touchpoint:NAME` for this name (any ASCII case, spaces around ignored).
fn step_names_touchpoint(step: &str, name: &str) -> bool {
    step.trim().strip_prefix("touchpoint:").is_some_and(|t| t.trim().eq_ignore_ascii_case(name.trim()))
}

impl ChangeMetric {
    /// Whether the metric names the touchpoint `name`: a `touchpoint:NAME` step of a conversion,
    /// or CSAT at it (names compared in any ASCII case).
    pub fn names_touchpoint(&self, name: &str) -> bool {
        match self {
            ChangeMetric::StepConversion { from, to, .. } => step_names_touchpoint(from, name) || step_names_touchpoint(to, name),
            ChangeMetric::Csat { touchpoint: Some(t) } => t.trim().eq_ignore_ascii_case(name.trim()),
            _ => false,
        }
    }

    /// Renames the touchpoint `old` to `new` wherever the metric names it, so a renamed
    /// touchpoint keeps its changes measurable; returns whether anything changed.
    pub fn rename_touchpoint(&mut self, old: &str, new: &str) -> bool {
        let mut changed = false;
        match self {
            ChangeMetric::StepConversion { from, to, .. } => {
                for step in [from, to] {
                    if step_names_touchpoint(step, old) {
                        *step = format!("touchpoint:{new}");
                        changed = true;
                    }
                }
            }
            ChangeMetric::Csat { touchpoint: Some(t) } if t.trim().eq_ignore_ascii_case(old.trim()) => {
                *t = new.to_string();
                changed = true;
            }
            _ => {}
        }
        changed
    }
}

/// Splits `FROM>TO` at the first `>` outside a step's `[conditions]`, whose `>` compares numbers.
fn split_steps(text: &str) -> Option<(&str, &str)> {
    let mut depth = 0usize;
    for (at, c) in text.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            '>' if depth == 0 => return Some((&text[..at], &text[at + 1..])),
            _ => {}
        }
    }
    None
}

/// Reads a window such as `7d`: a whole number of days.
fn window_days(text: &str) -> Option<u32> {
    let digits = text.strip_suffix(['d', 'D'])?;
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

impl FromStr for ChangeMetric {
    type Err = MetricParseError;

    fn from_str(text: &str) -> Result<ChangeMetric, MetricParseError> {
        let text = text.trim();
        let (head, rest) = match text.split_once(':') {
            Some((head, rest)) => (head.trim(), Some(rest.trim())),
            None => (text, None),
        };
        let keyword = head.to_ascii_lowercase().replace('_', "-");
        // Forms without an argument refuse one, so `nps:Checkout` is not silently read as NPS.
        let none = |metric: ChangeMetric| match rest {
            None => Ok(metric),
            Some(arg) => Err(parse_error(format!("{text:?}: {head} takes no argument (got {arg:?})"))),
        };
        let optional = |arg: Option<&str>, what: &str| match arg {
            Some("") => Err(parse_error(format!("{text:?}: name the {what} after the colon, or leave the colon out"))),
            other => Ok(other.map(str::to_string)),
        };
        match keyword.as_str() {
            "" => Err(parse_error("the metric is empty".into())),
            "conversion" => {
                let body = rest.unwrap_or_default();
                // A trailing `:Nd` is the window; step items may hold colons of their own.
                let (steps, window) = match body.rsplit_once(':').and_then(|(steps, last)| Some((steps, window_days(last.trim())?))) {
                    Some((steps, 0)) => {
                        return Err(parse_error(format!("{text:?}: the window must be at least 1d (got {:?})", &body[steps.len() + 1..])));
                    }
                    Some((steps, days)) => (steps, Some(days)),
                    None => (body, None),
                };
                let (from, to) = split_steps(steps)
                    .ok_or_else(|| parse_error(format!("{text:?}: a conversion names two steps as FROM>TO, e.g. checkout_started>purchase")))?;
                let (from, to) = (from.trim(), to.trim());
                if from.is_empty() || to.is_empty() {
                    return Err(parse_error(format!("{text:?}: both steps of FROM>TO must be named")));
                }
                Ok(ChangeMetric::StepConversion {
                    from: from.to_string(),
                    to: to.to_string(),
                    window_days: window.unwrap_or(DEFAULT_WINDOW_DAYS),
                })
            }
            "reach" => match rest {
                Some(stage) if !stage.is_empty() => Ok(ChangeMetric::StageReach { stage: stage.to_string() }),
                _ => Err(parse_error(format!("{text:?}: reach names a stage, e.g. reach:Purchase"))),
            },
            "repeat-rate" => none(ChangeMetric::RepeatRate),
            "aov" | "average-order-value" => none(ChangeMetric::AverageOrderValue),
            "revenue-per-customer" => none(ChangeMetric::RevenuePerCustomer),
            "nps" => none(ChangeMetric::Nps),
            "csat" => Ok(ChangeMetric::Csat { touchpoint: optional(rest, "touchpoint")? }),
            "new-customers" => Ok(ChangeMetric::NewCustomers { channel: optional(rest, "channel")? }),
            _ => Err(parse_error(format!("{head:?} is not a metric"))),
        }
    }
}

impl fmt::Display for ChangeMetric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChangeMetric::StepConversion { from, to, window_days } => write!(f, "conversion:{from}>{to}:{window_days}d"),
            ChangeMetric::StageReach { stage } => write!(f, "reach:{stage}"),
            ChangeMetric::RepeatRate => f.write_str("repeat-rate"),
            ChangeMetric::AverageOrderValue => f.write_str("aov"),
            ChangeMetric::RevenuePerCustomer => f.write_str("revenue-per-customer"),
            ChangeMetric::Nps => f.write_str("nps"),
            ChangeMetric::Csat { touchpoint: Some(t) } => write!(f, "csat:{t}"),
            ChangeMetric::Csat { touchpoint: None } => f.write_str("csat"),
            ChangeMetric::NewCustomers { channel: Some(c) } => write!(f, "new-customers:{c}"),
            ChangeMetric::NewCustomers { channel: None } => f.write_str("new-customers"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conversion(from: &str, to: &str, window_days: u32) -> ChangeMetric {
        ChangeMetric::StepConversion { from: from.into(), to: to.into(), window_days }
    }

    #[test]
    fn a_renamed_touchpoint_is_renamed_in_the_metrics_that_name_it() {
        let mut metric = conversion("touchpoint: checkout ", "purchase", 7);
        assert!(metric.names_touchpoint("Checkout") && !metric.names_touchpoint("Cart"));
        assert!(metric.rename_touchpoint("CHECKOUT", "Checkout page"));
        assert_eq!(metric, conversion("touchpoint:Checkout page", "purchase", 7));
        let mut csat = ChangeMetric::Csat { touchpoint: Some("Till".into()) };
        assert!(csat.rename_touchpoint("till", "Counter") && csat == ChangeMetric::Csat { touchpoint: Some("Counter".into()) });
        let mut nps = ChangeMetric::Nps;
        assert!(!nps.rename_touchpoint("Till", "Counter") && !nps.names_touchpoint("Till"));
    }

    #[test]
    fn text_forms_read_as_documented() {
        let cases = [
            ("conversion:checkout_started>purchase:7d", conversion("checkout_started", "purchase", 7)),
            ("conversion:checkout_started>purchase", conversion("checkout_started", "purchase", 7)),
            ("Conversion: touchpoint:Checkout > stage:Purchase : 30d", conversion("touchpoint:Checkout", "stage:Purchase", 30)),
            ("conversion:purchase[items>2]>purchase:1d", conversion("purchase[items>2]", "purchase", 1)),
            ("reach:Purchase", ChangeMetric::StageReach { stage: "Purchase".into() }),
            ("repeat-rate", ChangeMetric::RepeatRate),
            ("REPEAT_RATE", ChangeMetric::RepeatRate),
            ("aov", ChangeMetric::AverageOrderValue),
            ("average-order-value", ChangeMetric::AverageOrderValue),
            ("revenue-per-customer", ChangeMetric::RevenuePerCustomer),
            ("nps", ChangeMetric::Nps),
            ("csat", ChangeMetric::Csat { touchpoint: None }),
            ("csat:Checkout", ChangeMetric::Csat { touchpoint: Some("Checkout".into()) }),
            ("new-customers", ChangeMetric::NewCustomers { channel: None }),
            ("new-customers:Paid Social", ChangeMetric::NewCustomers { channel: Some("Paid Social".into()) }),
        ];
        for (text, expected) in cases {
            assert_eq!(text.parse::<ChangeMetric>(), Ok(expected), "{text}");
        }
    }

    #[test]
    fn display_round_trips() {
        let metrics = [
            conversion("checkout_started", "purchase", 7),
            conversion("touchpoint:Checkout", "purchase[items>2]", 14),
            conversion("page_view|store_visit", "stage:Purchase", 1),
            ChangeMetric::StageReach { stage: "Loyalty".into() },
            ChangeMetric::RepeatRate,
            ChangeMetric::AverageOrderValue,
            ChangeMetric::RevenuePerCustomer,
            ChangeMetric::Nps,
            ChangeMetric::Csat { touchpoint: None },
            ChangeMetric::Csat { touchpoint: Some("Order confirmation".into()) },
            ChangeMetric::NewCustomers { channel: None },
            ChangeMetric::NewCustomers { channel: Some("Referral".into()) },
        ];
        for metric in metrics {
            let text = metric.to_string();
            assert_eq!(text.parse::<ChangeMetric>().as_ref(), Ok(&metric), "{text}");
            let json = serde_json::to_string(&metric).expect("serialises");
            assert_eq!(serde_json::from_str::<ChangeMetric>(&json).expect("reads back"), metric, "{json}");
        }
        assert_eq!(
            serde_json::to_value(conversion("checkout_started", "purchase", 7)).expect("serialises"),
            serde_json::json!({"kind": "step_conversion", "from": "checkout_started", "to": "purchase", "window_days": 7})
        );
    }

    #[test]
    fn errors_say_what_is_wrong_and_list_the_forms() {
        let cases = [
            ("", "empty"),
            ("conversions:a>b", "\"conversions\" is not a metric"),
            ("conversion:purchase", "two steps as FROM>TO"),
            ("conversion:>purchase:7d", "both steps"),
            ("conversion:a>b:0d", "at least 1d"),
            ("reach", "reach names a stage"),
            ("reach:", "reach names a stage"),
            ("nps:Checkout", "takes no argument"),
            ("csat:", "name the touchpoint"),
            ("new-customers:", "name the channel"),
        ];
        for (text, reason) in cases {
            let error = text.parse::<ChangeMetric>().expect_err(text).to_string();
            assert!(error.contains(reason), "{text}: {error}");
            assert!(error.contains("reach:STAGE") && error.contains("new-customers[:CHANNEL]"), "{text}: {error}");
        }
    }

    #[test]
    fn the_kpi_label_falls_back_to_the_metric() {
        let mut change = Change {
            id: ChangeId(1),
            business: BusinessId(1),
            title: "Free shipping".into(),
            description: String::new(),
            date: NaiveDate::from_ymd_opt(2026, 6, 1).expect("a day"),
            touchpoints: Vec::new(),
            stages: Vec::new(),
            kpi: None,
            owner: None,
            metric: Some(conversion("checkout_started", "purchase", 7)),
            answers: None,
        };
        assert_eq!(change.kpi_label().as_deref(), Some("conversion from checkout_started to purchase within 7 days"));
        change.kpi = Some("checkout conversion".into());
        assert_eq!(change.kpi_label().as_deref(), Some("checkout conversion"));
        change.metric = None;
        change.kpi = None;
        assert_eq!(change.kpi_label(), None);
    }
}
