//! The funnel page: how many customers go through a sequence of steps and where they drop off,
//! optionally one funnel per breakdown value. Without `steps`, the business's own events pick a
//! sensible funnel: the online shop's page_view → … → purchase when it has those events, else
//! store_visit → purchase, else its first two event names.

use super::{Analysis, Cell, Field, Query, Table, View, customers_href, parse_choice, parse_duration, percent};
use crate::error::ApiError;
use trailmap_analytics::FunnelReport;
use trailmap_app::{App, FunnelAnswer};
use trailmap_model::{Business, EventColumns};
use trailmap_render::{FunnelChart, FunnelStep};
use trailmap_store::Store;

#[derive(Debug)]
pub struct Funnel;

/// The shop funnel of the demo and of most online stores, in order.
const SHOP_STEPS: [&str; 5] = ["page_view", "product_view", "add_to_cart", "checkout_started", "purchase"];
const STORE_STEPS: [&str; 2] = ["store_visit", "purchase"];

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

/// The steps used when none are asked: the first of the known funnels whose events the business
/// has (at least two of them), else its first two event names.
fn default_steps(app: &App, business: &Business) -> Result<Vec<String>, ApiError> {
    let table = app.store().load_events(business.id, EventColumns { properties: false }).map_err(|e| ApiError::internal(e.to_string()))?;
    let mut seen = vec![false; table.strings.len()];
    for &name in &table.name {
        if let Some(s) = seen.get_mut(name as usize) {
            *s = true;
        }
    }
    let names: Vec<String> =
        seen.iter().enumerate().filter(|(id, s)| **s && *id != 0).map(|(id, _)| table.string(id as u32).to_string()).collect();
    for known in [&SHOP_STEPS[..], &STORE_STEPS[..]] {
        let present: Vec<String> = known.iter().filter(|s| names.iter().any(|n| n == *s)).map(|s| s.to_string()).collect();
        if present.len() >= 2 {
            return Ok(present);
        }
    }
    let mut names = names;
    names.sort();
    names.truncate(2);
    Ok(names)
}

impl Analysis for Funnel {
    type Answer = FunnelAnswer;
    const SLUG: &'static str = "funnel";
    const TITLE: &'static str = "Funnel";
    const ABOUT: &'static str = "How many customers go through a sequence of steps, and where they drop off.";

    fn compute(app: &App, business: &Business, query: &Query) -> Result<FunnelAnswer, ApiError> {
        let steps: Vec<String> = match query.get("steps") {
            Some(text) => {
                let steps: Vec<String> = text.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
                if steps.is_empty() {
                    return Err(ApiError::invalid_input(format!("steps: {text:?} names no step; write event names, comma-separated")));
                }
                steps
            }
            None => default_steps(app, business)?,
        };
        let mut request = App::funnel_request(steps);
        if let Some(window) = query.get("window") {
            request.window_ms = parse_duration("window", window)?;
        }
        let mode = parse_choice("mode", query.get("mode"), "ordered", &["ordered", "strict", "unordered"])?;
        request.mode = mode.parse().map_err(|e: String| ApiError::invalid_input(format!("mode: {e}")))?;
        request.breakdown = query.get("breakdown").map(str::to_string);
        if request.steps.is_empty() {
            // Only a business without events gets here (asked steps are never empty): its
            // funnel is empty, not an error, so a new business's page opens.
            return Ok(empty_answer(business, &request));
        }
        app.funnel(business, &request).map_err(ApiError::from)
    }

    fn json(answer: &FunnelAnswer) -> Result<serde_json::Value, ApiError> {
        serde_json::to_value(answer).map_err(|e| ApiError::internal(e.to_string()))
    }

    fn view(answer: &FunnelAnswer, business: &Business) -> View {
        let overall = &answer.report.overall;
        let chart = FunnelChart {
            title: format!("Funnel of {}", business.name),
            steps: overall
                .steps
                .iter()
                .map(|s| FunnelStep {
                    label: s.label.clone(),
                    count: s.reached as u64,
                    href: customers_href(business.id, &s.customers),
                    dropped_href: customers_href(business.id, &s.dropped_customers),
                })
                .collect(),
            width: Some(760.0),
        };
        let mut table = Table::new(&["breakdown", "n entered", "step", "customers", "of step 1", "of previous", "dropped", "median time"]);
        let groups = std::iter::once(("All customers", overall)).chain(answer.report.breakdown.iter().map(|g| (g.value.as_str(), &g.result)));
        for (group, result) in groups {
            for (k, s) in result.steps.iter().enumerate() {
                table.rows.push(vec![
                    Cell::text(group),
                    Cell::text(result.entered.to_string()),
                    Cell::text(format!("{}. {}", k + 1, s.label)),
                    Cell::linked(s.reached.to_string(), customers_href(business.id, &s.customers)),
                    Cell::text(percent(s.conversion_from_first)),
                    Cell::text(if k == 0 { String::new() } else { percent(s.conversion_from_previous) }),
                    if k == 0 { Cell::text("") } else { Cell::linked(s.dropped.to_string(), customers_href(business.id, &s.dropped_customers)) },
                    Cell::text(s.time_from_previous.map(|t| human_duration(t.median_ms)).unwrap_or_default()),
                ]);
            }
        }
        let last = overall.steps.last().map_or(0, |s| s.reached);
        let rate = if overall.entered == 0 { 0.0 } else { last as f64 / overall.entered as f64 };
        let summary = format!(
            "n = {} customers entered; {} completed every step ({}); {} mode, {} window.",
            overall.entered,
            last,
            percent(rate),
            answer.report.mode.as_str(),
            human_duration(answer.report.window_ms)
        );
        View { summary, svg: chart.render(), table, notes: Vec::new() }
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

/// The funnel of a business without events: nobody entered.
fn empty_answer(business: &Business, request: &trailmap_app::FunnelRequest) -> FunnelAnswer {
    FunnelAnswer {
        business: business.name.clone(),
        steps: Vec::new(),
        breakdown: request.breakdown.clone(),
        report: FunnelReport::empty(request.mode, request.window_ms),
        compare: None,
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
