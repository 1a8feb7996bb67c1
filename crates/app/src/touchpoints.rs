//! The touchpoint catalogue: every touchpoint of a business with its rule in words, the events and
//! customers its rule matches in a period, and the journey-map stages it sits on. The counting runs
//! the analytics crate's compiled rules over the loaded event table, as the map numbers do.

use crate::maps::CustomerCount;
use crate::{App, AppError, Result};
use chrono::NaiveDate;
use serde::Serialize;
use trailmap_analytics::CompiledRule;
use trailmap_model::{Business, CustomerField, CustomerRule, EventColumns, EventField, EventRule, MapId, Op, Timestamp, TouchpointId};
use trailmap_store::Store;

/// A map stage a touchpoint is placed on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Placement {
    pub map: MapId,
    pub map_name: String,
    pub stage: String,
}

/// One touchpoint and its measured volume in the period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TouchpointVolume {
    pub touchpoint: TouchpointId,
    pub name: String,
    pub channel: String,
    pub description: String,
    /// The rule over events, in words ("name is purchase").
    pub rule: String,
    /// The rule in the event rule language (`purchase`, `page_view[page^=/checkout]`).
    pub rule_text: String,
    /// The business stage it sits on.
    pub stage: Option<String>,
    /// 1-based, in the business's order.
    pub position: usize,
    /// Events matching the rule in the period.
    pub events: u64,
    /// The customers with at least one matching event in the period.
    pub customers: CustomerCount,
    pub placements: Vec<Placement>,
}

/// The business's touchpoints, in the business's order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TouchpointCatalogue {
    pub business: String,
    /// `[from, to)`; None: all time.
    pub period: Option<(Timestamp, Timestamp)>,
    pub touchpoints: Vec<TouchpointVolume>,
}

fn field_name(field: &EventField) -> String {
    match field {
        EventField::Name => "name".into(),
        EventField::Channel => "channel".into(),
        EventField::Source => "source".into(),
        EventField::Medium => "medium".into(),
        EventField::Campaign => "campaign".into(),
        EventField::Referrer => "referrer".into(),
        EventField::Page => "page".into(),
        EventField::Property(key) => format!("property {key}"),
    }
}

/// A test in words ("is one of a, b", "does not contain \"x\"").
fn op_in_words(op: &Op, negate: bool) -> String {
    let not = if negate { "not " } else { "" };
    let does_not = if negate { "does not " } else { "" };
    match op {
        Op::Equals(v) => format!("is {not}{v}"),
        Op::OneOf(vs) => format!("is {not}one of {}", vs.join(", ")),
        Op::Contains(v) => format!("{does_not}contains {v:?}"),
        Op::StartsWith(v) => format!("{does_not}starts with {v:?}"),
        Op::Exists => format!("is {not}present"),
        Op::GreaterThan(x) => format!("is {not}above {x}"),
        Op::LessThan(x) => format!("is {not}below {x}"),
        Op::AtLeast(x) => format!("is {not}at least {x}"),
        Op::AtMost(x) => format!("is {not}at most {x}"),
    }
}

/// An event rule in words, conditions joined by "and"; an empty rule matches nothing and says so.
pub fn rule_in_words(rule: &EventRule) -> String {
    if rule.conditions.is_empty() {
        return "no rule (matches no event)".into();
    }
    let parts: Vec<String> = rule.conditions.iter().map(|c| format!("{} {}", field_name(&c.field), op_in_words(&c.op, c.negate))).collect();
    parts.join(" and ")
}

/// A customer (segment) rule in words, as [`rule_in_words`] does for events.
pub fn customer_rule_in_words(rule: &CustomerRule) -> String {
    if rule.conditions.is_empty() {
        return "no rule (covers nobody)".into();
    }
    let parts: Vec<String> = rule
        .conditions
        .iter()
        .map(|c| {
            let field = match &c.field {
                CustomerField::FirstChannel => "first channel".to_string(),
                CustomerField::FirstSource => "first source".to_string(),
                CustomerField::Orders => "orders".to_string(),
                CustomerField::Revenue => "revenue".to_string(),
                CustomerField::DaysSinceLastOrder => "days since last order".to_string(),
                CustomerField::Property(key) => format!("property {key}"),
            };
            format!("{field} {}", op_in_words(&c.op, c.negate))
        })
        .collect();
    parts.join(" and ")
}

impl App {
    /// Every touchpoint of the business with the events and customers its rule matches in
    /// `period` (`[from, to)`, None: all time) and the map stages it sits on.
    pub fn touchpoint_catalogue(&self, business: &Business, period: Option<(Timestamp, Timestamp)>) -> Result<TouchpointCatalogue> {
        if let Some((from, to)) = period
            && from >= to
        {
            return Err(AppError::Invalid("period: the start must be before the end".into()));
        }
        let touchpoints = self.store().touchpoints(business.id)?;
        let stages = self.store().stages(business.id)?;
        let needs_properties =
            touchpoints.iter().any(|t| t.rule.conditions.iter().any(|c| matches!(c.field, EventField::Property(_))));
        let table = self.store().load_events(business.id, EventColumns { properties: needs_properties })?;
        let in_period: Vec<usize> = (0..table.len())
            .filter(|&row| period.is_none_or(|(from, to)| from.millis() <= table.time[row] && table.time[row] < to.millis()))
            .collect();
        // Every map, including stale ones: the review date does not move a touchpoint off a map.
        let maps: Vec<_> = self
            .journey_maps(business, NaiveDate::MIN)?
            .into_iter()
            .map(|summary| self.journey_map(business, summary.id).map(|v| v.map))
            .collect::<Result<_>>()?;
        let mut out = Vec::new();
        for (position, t) in touchpoints.into_iter().enumerate() {
            let compiled = CompiledRule::new(&t.rule, &table);
            let rows: Vec<usize> = in_period.iter().copied().filter(|&row| compiled.matches(&table, row)).collect();
            let customers = CustomerCount::of(rows.iter().filter_map(|&row| table.customer.get(row)).collect());
            let placements = maps
                .iter()
                .flat_map(|m| {
                    m.stages
                        .iter()
                        .filter(|s| s.touchpoints.contains(&t.id))
                        .map(|s| Placement { map: m.id, map_name: m.name.clone(), stage: s.name.clone() })
                })
                .collect();
            out.push(TouchpointVolume {
                touchpoint: t.id,
                rule: rule_in_words(&t.rule),
                rule_text: t.rule.to_text(),
                stage: t.stage.and_then(|id| stages.iter().find(|s| s.id == id)).map(|s| s.name.clone()),
                position: position + 1,
                name: t.name,
                channel: t.channel.as_str().to_string(),
                description: t.description,
                events: rows.len() as u64,
                customers,
                placements,
            });
        }
        Ok(TouchpointCatalogue { business: business.name.clone(), period, touchpoints: out })
    }
}
