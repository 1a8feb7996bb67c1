//! The funnel page: how many customers go through a sequence of steps and where they drop off,
//! optionally one funnel per breakdown value. Without `steps`, the app picks the business's
//! default funnel from its own events (`trailmap_app::query::default_funnel_steps`).

use super::{Analysis, Cell, Field, Query, Table, View, customers_href, percent};
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
        Ok(app.funnel(business, &FunnelRequest::from_params(query)?)?)
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
