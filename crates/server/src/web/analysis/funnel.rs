//! The funnel page: how many customers go through a sequence of steps and where they drop off,
//! optionally one funnel per breakdown value. Without `steps`, the app picks the business's
//! default funnel from its own events (`trailmap_app::query::default_funnel_steps`).

use super::{Analysis, Cell, Field, Picker, Query, Table, View, count, percent};
use crate::error::ApiError;
use trailmap_app::{App, FromParams, FunnelAnswer, FunnelRequest};
use trailmap_model::Business;
use trailmap_render::{FunnelChart, FunnelStep};

#[derive(Debug)]
pub struct Funnel;

const MODES: [(&str, &str); 3] = [("ordered", "Ordered"), ("strict", "Strict (nothing between)"), ("unordered", "Any order")];
const BREAKDOWNS: [(&str, &str); 8] = [
    ("", "None"),
    ("first-channel", "First channel"),
    ("first-source", "First source"),
    ("channel", "Channel of step 1"),
    ("source", "Source of step 1"),
    ("medium", "Medium of step 1"),
    ("campaign", "Campaign of step 1"),
    ("persona", "Persona"),
];

impl Analysis for Funnel {
    type Answer = FunnelAnswer;
    const SLUG: &'static str = "funnel";
    const TITLE: &'static str = "Funnel";
    const ABOUT: &'static str = "How many customers go through a sequence of steps, and where they drop off.";

    fn compute(app: &App, business: &Business, query: &Query) -> Result<FunnelAnswer, ApiError> {
        let mut request = FunnelRequest::from_params(query)?;
        // A step picked from the page's list joins the end of the funnel (of the default one
        // when no steps were asked).
        if let Some(added) = query.get("add_step") {
            if request.steps.is_empty() {
                request.steps = trailmap_app::query::default_funnel_steps(app, business)?;
            }
            request.steps.push(added.to_string());
        }
        Ok(app.funnel(business, &request)?)
    }

    fn view(answer: &FunnelAnswer, business: &Business) -> View {
        let overall = &answer.report.overall;
        let chart = FunnelChart {
            title: format!("Funnel of {}", business.name),
            steps: overall
                .steps
                .iter()
                .enumerate()
                .map(|(k, s)| FunnelStep {
                    label: chart_label(&s.label),
                    count: s.reached as u64,
                    href: step_customers_href(business, answer, k + 1, false, None, s.reached),
                    dropped_href: step_customers_href(business, answer, k + 1, true, None, s.dropped),
                })
                .collect(),
            width: Some(760.0),
        };
        let mut table = Table::new(&["breakdown", "n entered", "step", "customers", "of step 1", "of previous", "dropped", "median time"]);
        let groups = std::iter::once((None, overall)).chain(answer.report.breakdown.iter().map(|g| (Some(g.value.as_str()), &g.result)));
        for (group, result) in groups {
            for (k, s) in result.steps.iter().enumerate() {
                table.rows.push(vec![
                    Cell::text(group.unwrap_or("All customers")),
                    Cell::text(result.entered.to_string()),
                    Cell::text(format!("{}. {}", k + 1, s.label)),
                    Cell::linked(s.reached.to_string(), step_customers_href(business, answer, k + 1, false, group, s.reached)),
                    Cell::text(percent(s.conversion_from_first)),
                    Cell::text(if k == 0 { String::new() } else { percent(s.conversion_from_previous) }),
                    if k == 0 { Cell::text("") } else { Cell::linked(s.dropped.to_string(), step_customers_href(business, answer, k + 1, true, group, s.dropped)) },
                    Cell::text(s.time_from_previous.map(|t| human_duration(t.median_ms)).unwrap_or_default()),
                ]);
            }
        }
        let summary = funnel_sentence(answer);
        let mode = match answer.report.mode.as_str() {
            "strict" => "one right after the other, with no other event between",
            "unordered" => "in any order",
            _ => "in this order, other events allowed between",
        };
        let notes = vec![
            format!(
                "A customer enters the funnel on their first {}; they reach a later step by doing it after the step before ({mode}) and within {} of entering.",
                overall.steps.first().map_or_else(|| "step".to_string(), |s| format!("“{}”", s.label)),
                plain_duration(answer.report.window_ms)
            ),
            "“Of step 1” is the customers who reached a step divided by those who entered; “of previous” divides by those who reached the step before; “dropped” counts who reached the step before but not this one. None is ever above 100 %.".to_string(),
            "A step may be an event name, several names joined by | (any of them), touchpoint:NAME (any event the touchpoint matches) or stage:NAME (any touchpoint of the stage); the median time is between a customer's previous step and this one.".to_string(),
        ];
        View { summary, svg: chart.render(), table, notes }
    }

    fn picker(app: &App, business: &Business) -> Result<Option<Picker>, trailmap_app::AppError> {
        let choices = app.funnel_step_choices(business)?;
        let shown = |list: &[trailmap_app::StepChoice]| -> Vec<(String, String)> {
            list.iter().map(|c| (c.step.clone(), format!("{} ({} customers)", c.label, count(c.customers as u64)))).collect()
        };
        let groups: Vec<(String, Vec<(String, String)>)> = [("Stages", shown(&choices.stages)), ("Touchpoints", shown(&choices.touchpoints)), ("Events", shown(&choices.events))]
            .into_iter()
            .filter(|(_, list)| !list.is_empty())
            .map(|(name, list)| (name.to_string(), list))
            .collect();
        Ok((!groups.is_empty()).then_some(Picker { name: "add_step", label: "Add a step", groups }))
    }

    fn fields(query: &Query, answer: Option<&FunnelAnswer>) -> Vec<Field> {
        let steps = answer.map_or_else(|| query.get("steps").unwrap_or_default().to_string(), |a| a.steps.join(","));
        vec![
            Field::text("steps", "Steps", steps, "page_view,add_to_cart,purchase"),
            Field::text("window", "Window", query.get("window").unwrap_or("7d"), "7d"),
            Field::select("mode", "Mode", query.get("mode").unwrap_or("ordered"), &MODES),
            Field::select("breakdown", "Breakdown", query.get("breakdown").unwrap_or(""), &BREAKDOWNS),
        ]
    }
}

/// The link to the customers behind a step's count (reaching it, or `dropped` at it), overall or
/// in one breakdown group: the funnel's own parameters and the step, listed a page at a time by
/// [`super::funnel_customers`]. None when there is nobody to list.
pub fn step_customers_href(business: &Business, answer: &FunnelAnswer, step: usize, dropped: bool, group: Option<&str>, n: usize) -> Option<String> {
    if n == 0 {
        return None;
    }
    let mut link = form_urlencoded::Serializer::new(String::new());
    link.append_pair("steps", &answer.steps.join(","));
    link.append_pair("window", &format!("{}ms", answer.report.window_ms));
    link.append_pair("mode", answer.report.mode.as_str());
    if let Some(breakdown) = &answer.breakdown {
        link.append_pair("breakdown", breakdown);
    }
    link.append_pair("customers_at", &step.to_string());
    if dropped {
        link.append_pair("customers_who", "dropped");
    }
    if let Some(group) = group {
        link.append_pair("customers_group", group);
    }
    Some(format!("/b/{}/analysis/funnel/customers?{}", business.id, link.finish()))
}

/// The funnel's answer in a sentence: how many of those who entered reached the last step, and
/// where most are lost; with a breakdown, the group that converts best.
fn funnel_sentence(answer: &FunnelAnswer) -> String {
    let overall = &answer.report.overall;
    let (Some(first), Some(last)) = (overall.steps.first(), overall.steps.last()) else {
        return "There is nothing to follow yet: this business has no events (n = 0 customers).".to_string();
    };
    if overall.entered == 0 {
        return format!("No customer has reached {} yet (n = 0).", step_name(&first.label));
    }
    let rate = last.reached as f64 / overall.entered as f64;
    let mut sentence = format!(
        "{} of the {} customers who started at {} went on to {} within {}",
        percent(rate),
        count(overall.entered as u64),
        step_name(&first.label),
        step_name(&last.label),
        plain_duration(answer.report.window_ms)
    );
    let worst = overall.steps.iter().enumerate().skip(1).filter(|(_, s)| s.dropped > 0).max_by_key(|(_, s)| s.dropped);
    if let Some((k, step)) = worst {
        let before = &overall.steps[k - 1];
        sentence.push_str(&format!(
            "; most are lost between {} and {}: {} customers, {} of those who got that far",
            step_name(&before.label),
            step_name(&step.label),
            count(step.dropped as u64),
            percent(step.dropped as f64 / before.reached.max(1) as f64)
        ));
    }
    sentence.push('.');
    let best = answer
        .report
        .breakdown
        .iter()
        .filter(|g| g.result.entered >= 10)
        .map(|g| (g, g.result.steps.last().map_or(0.0, |s| s.reached as f64 / g.result.entered as f64)))
        .max_by(|a, b| a.1.total_cmp(&b.1));
    if let Some((group, group_rate)) = best {
        sentence.push_str(&format!(" Best group: {}, {} of {} (groups of at least 10 customers).", group.value, percent(group_rate), count(group.result.entered as u64)));
    }
    // Where the numbers were counted, when not the usual way (the embedded store).
    match answer.path {
        trailmap_app::PathTaken::PushedDown => sentence.push_str(" Counted in ClickHouse (windowFunnel), without step times."),
        trailmap_app::PathTaken::Streamed => sentence.push_str(" Counted over the events in ClickHouse."),
        trailmap_app::PathTaken::Embedded => {}
    }
    if let Some(note) = &answer.path_note {
        sentence.push_str(&format!(" ({note})"));
    }
    sentence
}

/// A step as the chart names it: "Awareness (stage)", "Newsletter", "add_to_cart".
fn chart_label(label: &str) -> String {
    match (label.strip_prefix("stage:"), label.strip_prefix("touchpoint:")) {
        (Some(stage), _) => format!("{} (stage)", stage.trim()),
        (_, Some(touchpoint)) => touchpoint.trim().to_string(),
        _ => label.to_string(),
    }
}

/// A step as a sentence names it: "the Purchase stage", "“Newsletter”", "“add_to_cart”".
fn step_name(label: &str) -> String {
    match (label.strip_prefix("stage:"), label.strip_prefix("touchpoint:")) {
        (Some(stage), _) => format!("the {} stage", stage.trim()),
        (_, Some(touchpoint)) => format!("“{}”", touchpoint.trim()),
        _ => format!("“{label}”"),
    }
}

/// A window in words: "7 days", "24 hours", "30 minutes", "2 weeks" (whole units when it is one).
pub fn plain_duration(ms: i64) -> String {
    let unit = |n: i64, one: &str| if n == 1 { format!("1 {one}") } else { format!("{n} {one}s") };
    const MINUTE: i64 = 60_000;
    match ms {
        ms if ms % (7 * 86_400_000) == 0 && ms >= 14 * 86_400_000 => unit(ms / (7 * 86_400_000), "week"),
        ms if ms % 86_400_000 == 0 => unit(ms / 86_400_000, "day"),
        ms if ms % 3_600_000 == 0 => unit(ms / 3_600_000, "hour"),
        ms if ms % MINUTE == 0 => unit(ms / MINUTE, "minute"),
        ms => human_duration(ms),
    }
}

/// A duration as a person reads it: 45s, 12m, 3.5h, 2.1d.
pub fn human_duration(ms: i64) -> String {
    let seconds = ms as f64 / 1000.0;
    match seconds {
        s if s < 60.0 => format!("{s:.0}s"),
        s if s < 3600.0 => format!("{:.0}m", s / 60.0),
        s if s < 86_400.0 => format!("{:.1}h", s / 3600.0),
        s => format!("{:.1}d", s / 86_400.0),
    }
}
