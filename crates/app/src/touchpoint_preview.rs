//! The live preview of a touchpoint's rule, before it is saved: how many events and customers the
//! rule matches over the last 30 days that have data, with a few of the newest matching events as
//! examples, and a plain "matches nothing" (with what the business's events do hold) when it
//! matches none.
//!
//! The window is the 30 days ending at the business's last event (`[last - 30 days, last]`), not
//! at today: a business whose data stopped arriving, or a store imported from last year, still
//! previews against real events, and the answer says which days it covers.

use crate::maps::CustomerCount;
use crate::touchpoint_edits::rule_of;
use crate::touchpoints::rule_in_words;
use crate::{App, Result};
use serde::Serialize;
use std::collections::BTreeMap;
use trailmap_analytics::CompiledRule;
use trailmap_model::{Business, CustomerId, EventColumns, EventField, EventRule, EventTable, Op, Timestamp};
use trailmap_store::Store;

/// The days a preview covers, ending at the business's last event.
pub const PREVIEW_DAYS: i64 = 30;
/// The newest matching events a preview shows.
pub const PREVIEW_EXAMPLES: usize = 5;
/// The most names a "matches nothing" note lists.
const MAX_NAMES_LISTED: usize = 20;

/// One matching event shown as an example.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PreviewExample {
    pub time: Timestamp,
    pub customer: CustomerId,
    pub event: String,
    /// The event's page, channel, source, medium, campaign and referrer when it has them, and
    /// the properties the rule tests.
    pub fields: BTreeMap<String, String>,
}

/// What a rule matches over the preview window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RulePreview {
    /// The rule as read back in the rule language.
    pub rule: String,
    pub rule_in_words: String,
    /// `[from, to)`: the 30 days up to and including the business's last event; None when the
    /// business has no events yet.
    pub window: Option<(Timestamp, Timestamp)>,
    /// Matching events in the window.
    pub events: u64,
    /// The customers with a matching event in the window.
    pub customers: CustomerCount,
    /// The newest matching events, newest first, at most [`PREVIEW_EXAMPLES`].
    pub examples: Vec<PreviewExample>,
    pub matches_nothing: bool,
    /// Matching events at any time, so a rule that matched only before the window says so.
    pub all_time_events: u64,
    /// The answer in one sentence.
    pub summary: String,
    /// Why a rule may match nothing: names and channels it asks for that no event has.
    pub notes: Vec<String>,
}

/// The first day of a window as people read it.
fn day(t: Timestamp) -> String {
    t.to_datetime().format("%Y-%m-%d").to_string()
}

fn plural(n: u64, one: &str) -> String {
    format!("{n} {one}{}", if n == 1 { "" } else { "s" })
}

/// Values a rule requires of a field (`= x` and `= a|b`, not negated).
fn wanted(rule: &EventRule, field: &EventField) -> Vec<String> {
    rule.conditions
        .iter()
        .filter(|c| &c.field == field && !c.negate)
        .flat_map(|c| match &c.op {
            Op::Equals(v) => vec![v.clone()],
            Op::OneOf(vs) => vs.clone(),
            _ => Vec::new(),
        })
        .collect()
}

/// The distinct non-empty values of a text column, sorted.
fn distinct_values(table: &EventTable, field: &EventField) -> Vec<String> {
    let Some(column) = table.text_column(field) else { return Vec::new() };
    let mut seen = vec![false; table.strings.len()];
    for &id in column {
        seen[id as usize] = true;
    }
    let mut values: Vec<String> = seen.iter().enumerate().filter(|(id, s)| **s && *id != 0).map(|(id, _)| table.string(id as u32).to_string()).collect();
    values.sort();
    values
}

fn listed(values: &[String]) -> String {
    let mut text = values.iter().take(MAX_NAMES_LISTED).cloned().collect::<Vec<_>>().join(", ");
    if values.len() > MAX_NAMES_LISTED {
        text.push_str(&format!(" and {} more", values.len() - MAX_NAMES_LISTED));
    }
    if text.is_empty() { "none".into() } else { text }
}

impl App {
    /// What `rule` (the event rule language) matches over the 30 days up to the business's last
    /// event. A rule that does not read is [`crate::AppError::InvalidRule`] on field `rule`.
    pub fn preview_touchpoint_rule(&self, business: &Business, rule: &str) -> Result<RulePreview> {
        let rule = rule_of("rule", rule)?;
        let needs_properties = rule.conditions.iter().any(|c| matches!(c.field, EventField::Property(_)));
        let table = self.store().load_events(business.id, EventColumns { properties: needs_properties })?;
        let text = rule.to_text();
        let in_words = rule_in_words(&rule);
        let Some(&last) = table.time.iter().max() else {
            return Ok(RulePreview {
                rule: text,
                rule_in_words: in_words,
                window: None,
                events: 0,
                customers: CustomerCount::default(),
                examples: Vec::new(),
                matches_nothing: true,
                all_time_events: 0,
                summary: format!("{} has no events yet, so the rule matches nothing; send events or import a file first.", business.name),
                notes: Vec::new(),
            });
        };
        let (from, to) = (last + 1 - PREVIEW_DAYS * Timestamp::MS_PER_DAY, last + 1);
        let compiled = CompiledRule::new(&rule, &table);
        let mut matching: Vec<usize> = Vec::new();
        let mut all_time = 0u64;
        for row in 0..table.len() {
            if compiled.matches(&table, row) {
                all_time += 1;
                if (from..to).contains(&table.time[row]) {
                    matching.push(row);
                }
            }
        }
        let customers = CustomerCount::of(matching.iter().filter_map(|&row| table.customer.get(row)).collect());
        matching.sort_by_key(|&row| std::cmp::Reverse((table.time[row], row)));
        let tested: Vec<EventField> =
            rule.conditions.iter().filter(|c| matches!(c.field, EventField::Property(_))).map(|c| c.field.clone()).collect();
        let shown = [EventField::Page, EventField::Channel, EventField::Source, EventField::Medium, EventField::Campaign, EventField::Referrer];
        let examples = matching
            .iter()
            .take(PREVIEW_EXAMPLES)
            .map(|&row| {
                let fields = shown
                    .iter()
                    .chain(&tested)
                    .filter_map(|field| {
                        let value = table.field(row, field)?;
                        let name = match field {
                            EventField::Property(key) if key == trailmap_model::OFFLINE_KIND_PROPERTY => "offline_kind".to_string(),
                            EventField::Property(key) => key.clone(),
                            other => other.to_text(),
                        };
                        Some((name, value.into_owned())).filter(|(_, v)| !v.is_empty())
                    })
                    .collect();
                PreviewExample {
                    time: Timestamp(table.time[row]),
                    customer: table.customer.get(row).unwrap_or(CustomerId(0)),
                    event: table.string(table.name[row]).to_string(),
                    fields,
                }
            })
            .collect();
        let events = matching.len() as u64;
        let (first_day, last_day) = (day(Timestamp(from)), day(Timestamp(last)));
        let summary = if events > 0 {
            format!(
                "Matches {} of {} from {first_day} to {last_day} (the 30 days up to the last event).",
                plural(events, "event"),
                plural(customers.n as u64, "customer")
            )
        } else if all_time > 0 {
            format!(
                "Matches nothing from {first_day} to {last_day} (the 30 days up to the last event); it matches {} before then.",
                plural(all_time, "event")
            )
        } else {
            format!("Matches nothing from {first_day} to {last_day} (the 30 days up to the last event), nor earlier.")
        };
        let mut notes = Vec::new();
        if events == 0 {
            for (field, what) in [(EventField::Name, "named"), (EventField::Channel, "from channel")] {
                let known = distinct_values(&table, &field);
                for value in wanted(&rule, &field) {
                    if !known.iter().any(|k| k.eq_ignore_ascii_case(&value)) {
                        let kind = if field == EventField::Name { "events are named" } else { "events come from" };
                        notes.push(format!("No event is {what} {value:?}; this business's {kind}: {}.", listed(&known)));
                    }
                }
            }
        }
        Ok(RulePreview {
            rule: text,
            rule_in_words: in_words,
            window: Some((Timestamp(from), Timestamp(to))),
            events,
            customers,
            examples,
            matches_nothing: events == 0,
            all_time_events: all_time,
            summary,
            notes,
        })
    }
}
