//! The flows page: what customers do step by step within a session, as a Sankey of the busiest
//! edges, optionally starting at (`from`) or leading to (`to`) an event. Defaults are the CLI's
//! (`trailmap paths`: by event, 30-minute sessions, top 50 edges) except the number of steps:
//! `trailmap_app::query::SANKEY_STEPS` rather than 10, because a Sankey of ten columns leaves each
//! label a few letters.

use super::{Analysis, Cell, Field, Query, Table, View, count, customers_href, percent};
use crate::error::ApiError;
use trailmap_app::{App, FromParams, PathTaken, PathsAnswer, PathsRequest};
use trailmap_model::Business;
use trailmap_render::{Sankey, SankeyLink, SankeyNode, Size, ValueFormat};

#[derive(Debug)]
pub struct Flows;

impl Analysis for Flows {
    type Answer = PathsAnswer;
    const SLUG: &'static str = "flows";
    const TITLE: &'static str = "Flows";
    const ABOUT: &'static str = "What customers do step by step in a session, as a Sankey diagram.";

    fn compute(app: &App, business: &Business, query: &Query) -> Result<PathsAnswer, ApiError> {
        Ok(app.paths_answer(business, &PathsRequest::from_params(query)?)?)
    }

    fn view(answer: &PathsAnswer, business: &Business) -> View {
        let report = &answer.report;
        let first = report.nodes.iter().map(|n| n.step).min().unwrap_or(0);
        let chart = Sankey {
            title: format!("Flows of {}", business.name),
            format: ValueFormat::Count,
            nodes: report
                .nodes
                .iter()
                .enumerate()
                .map(|(i, n)| SankeyNode {
                    id: i.to_string(),
                    label: n.item.clone(),
                    column: (n.step - first) as u32,
                    value: n.paths as f64,
                    href: customers_href(business.id, &n.customers),
                })
                .collect(),
            links: report
                .edges
                .iter()
                .map(|e| SankeyLink {
                    from: e.from.to_string(),
                    to: e.to.to_string(),
                    value: e.paths as f64,
                    href: customers_href(business.id, &e.customers),
                })
                .collect(),
            size: Some(Size { width: 1100.0, height: 520.0 }),
        };
        let mut table = Table::new(&["steps", "from", "to", "paths", "of from", "customers"]);
        for edge in &report.edges {
            let (Some(from), Some(to)) = (report.nodes.get(edge.from), report.nodes.get(edge.to)) else { continue };
            table.rows.push(vec![
                Cell::text(format!("{} → {}", from.step, to.step)),
                Cell::text(from.item.clone()),
                Cell::text(to.item.clone()),
                Cell::text(edge.paths.to_string()),
                Cell::text(percent(edge.paths as f64 / from.paths.max(1) as f64)),
                Cell::linked(edge.customers.len().to_string(), customers_href(business.id, &edge.customers)),
            ]);
        }
        let summary = flows_sentence(report);
        let mut notes = vec![
            "A session is a customer's events with no pause longer than the session gap (30 minutes unless chosen); its path is the sequence of its steps, the same step twice in a row counted once.".to_string(),
            format!(
                "The diagram and the table keep the {} busiest moves from one step to the next; each band's width is the number of sessions that made that move, and “of from” is that number over the sessions at its first step.",
                report.edges.len()
            ),
            format!("“Conversion” for the most common whole paths is {}.", report.conversion),
        ];
        match answer.path {
            PathTaken::PushedDown => notes.push("Each customer's sessions were made in ClickHouse (pushdown=true); the figures are the embedded engine's.".to_string()),
            PathTaken::Streamed => notes.push("Counted over the events in ClickHouse.".to_string()),
            PathTaken::Embedded => {}
        }
        if let Some(note) = &answer.path_note {
            notes.push(format!("Asked to be counted in ClickHouse, {note}."));
        }
        View { summary, svg: chart.render(), table, notes }
    }

    fn fields(query: &Query, _answer: Option<&PathsAnswer>) -> Vec<Field> {
        vec![
            Field::select("by", "Step is", query.get("by").unwrap_or("event"), &[("event", "Event"), ("page", "Event and page")]),
            Field::text("from", "Starting at", query.get("from").unwrap_or_default(), "any event"),
            Field::text("to", "Leading to", query.get("to").unwrap_or_default(), "any event"),
            Field::text("session_gap", "Session gap", query.get("session_gap").unwrap_or("30m"), "30m"),
            Field::text("top", "Edges", query.get("top").unwrap_or("50"), "50"),
            Field::text("max_steps", "Steps", query.get("max_steps").unwrap_or("6"), "6"),
        ]
    }
}

/// The flows' answer in a sentence: the most common whole path that ends in the conversion, else
/// the busiest move from one step to the next, with the sessions and customers behind it.
fn flows_sentence(report: &trailmap_analytics::PathsReport) -> String {
    if report.paths == 0 {
        return "There is no session to follow yet (n = 0 sessions).".to_string();
    }
    let total = format!("{} sessions of {} customers", count(report.paths as u64), count(report.customers as u64));
    // A path of the conversion alone (a purchase at the till) says nothing about the way to it.
    if let Some(path) = report.to_conversion.iter().find(|p| p.items.len() >= 2) {
        return format!(
            "The most common way to {}: {}, in {} of the {total} ({} customers).",
            report.conversion,
            path.items.join(" → "),
            count(path.paths as u64),
            count(path.customers.len() as u64)
        );
    }
    match report.edges.iter().max_by_key(|e| e.paths) {
        Some(edge) => {
            let name = |i: usize| report.nodes.get(i).map_or("?", |n| n.item.as_str());
            format!(
                "The most common move is from {} to {}: {} of the {total} ({} customers).",
                name(edge.from),
                name(edge.to),
                count(edge.paths as u64),
                count(edge.customers.len() as u64)
            )
        }
        None => format!("Every one of the {total} is a single step: nobody moved on within a session."),
    }
}
