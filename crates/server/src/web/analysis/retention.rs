//! The retention page: buyers grouped by the week or month of their first purchase, and the share
//! of each cohort buying again in each later period, as a heatmap. The default period is the
//! CLI's (`trailmap retention`): month.

use super::{Analysis, Cell, Field, Query, Table, View, count, counted, customers_href, percent};
use crate::error::ApiError;
use trailmap_app::{App, FromParams, PathTaken, RetentionAnswer, RetentionRequest};
use trailmap_model::Business;
use trailmap_render::{CohortRow, HeatCell, Heatmap};

#[derive(Debug)]
pub struct Retention;

/// Later periods shown as table columns (the chart and the JSON have them all).
const TABLE_PERIODS: usize = 12;

impl Analysis for Retention {
    type Answer = RetentionAnswer;
    const SLUG: &'static str = "retention";
    const TITLE: &'static str = "Retention";
    const ABOUT: &'static str = "Do buyers come back? Cohorts by first purchase and the share buying again later, as a heatmap.";

    fn compute(app: &App, business: &Business, query: &Query) -> Result<RetentionAnswer, ApiError> {
        Ok(app.retention_answer(business, &RetentionRequest::from_params(query)?)?)
    }

    fn view(answer: &RetentionAnswer, business: &Business) -> View {
        let report = &answer.report;
        let period_name = match serde_json::to_value(report.period).ok().as_ref().and_then(|v| v.as_str()) {
            Some("week") => "Week",
            _ => "Month",
        };
        let chart = Heatmap {
            title: format!("Repeat purchases by first-purchase cohort · {}", business.name),
            period_name: period_name.to_string(),
            cohorts: report
                .cohorts
                .iter()
                .map(|c| {
                    let mut cells = vec![Some(HeatCell { rate: 1.0, href: customers_href(business.id, &c.customers) })];
                    for cell in &c.later {
                        while cells.len() < cell.offset {
                            cells.push(None);
                        }
                        cells.push(Some(HeatCell { rate: cell.rate, href: customers_href(business.id, &cell.customers) }));
                    }
                    CohortRow { label: c.period.clone(), size: c.customers.len() as u64, cells, href: customers_href(business.id, &c.customers) }
                })
                .collect(),
            scale_max: None,
            width: Some(860.0),
        };
        let shown = report.cohorts.iter().map(|c| c.later.len()).max().unwrap_or(0).min(TABLE_PERIODS);
        let mut columns = vec!["cohort".to_string(), "n".to_string()];
        columns.extend((1..=shown).map(|k| format!("+{k}")));
        let mut table = Table { columns, rows: Vec::new() };
        for cohort in &report.cohorts {
            let mut row = vec![Cell::text(cohort.period.clone()), Cell::linked(cohort.customers.len().to_string(), customers_href(business.id, &cohort.customers))];
            row.extend((0..shown).map(|k| match cohort.later.get(k) {
                Some(cell) => Cell::linked(format!("{} ({})", percent(cell.rate), cell.customers.len()), customers_href(business.id, &cell.customers)),
                None => Cell::text(""),
            }));
            table.rows.push(row);
        }
        let mut summary = format!(
            "{} of the {} who bought once came back to buy again ({})",
            percent(report.repeat_rate),
            counted(report.purchasers as u64, "customer"),
            counted(report.repeat_customers.len() as u64, "customer")
        );
        match report.time_between_purchases {
            Some(gaps) => summary.push_str(&format!(
                "; half of the returns come within {} days of the purchase before (n = {}).",
                format_days(gaps.median_days),
                counted(gaps.n as u64, "return")
            )),
            None => summary.push('.'),
        }
        let period = period_name.to_lowercase();
        let notes = vec![
            format!("Customers are grouped by the {period} of their first “{}” (their cohort); each later column is the share of the cohort who bought again in that {period} after it, with the customers behind it.", report.purchase_event),
            "The share who came back is customers with two purchases or more over customers with at least one; the time to return is measured between a customer's consecutive purchases (median and 90th percentile).".to_string(),
        ];
        let mut notes = notes;
        if let Some(gaps) = report.time_between_purchases {
            notes.push(format!("Days between purchases: median {:.1}, 90th percentile {:.1}, over {} gaps from {} customers.", gaps.median_days, gaps.p90_days, count(gaps.n as u64), count(gaps.customers as u64)));
        }
        match answer.path {
            PathTaken::PushedDown => notes.push("Each buyer was summarised in ClickHouse (pushdown=true); the figures are the embedded engine's.".to_string()),
            PathTaken::Streamed => notes.push("Counted over the events in ClickHouse.".to_string()),
            PathTaken::Embedded => {}
        }
        if let Some(note) = &answer.path_note {
            notes.push(format!("Asked to be counted in ClickHouse, {note}."));
        }
        View { summary, svg: chart.render(), table, notes }
    }

    fn fields(query: &Query, _answer: Option<&RetentionAnswer>) -> Vec<Field> {
        vec![Field::select("period", "Cohorts by", query.get("period").unwrap_or("month"), &[("month", "Month"), ("week", "Week")])]
    }
}

/// Days as a person says them: "3", "12", "0.5".
fn format_days(days: f64) -> String {
    if days >= 10.0 || (days - days.round()).abs() < 0.05 { format!("{days:.0}") } else { format!("{days:.1}") }
}
