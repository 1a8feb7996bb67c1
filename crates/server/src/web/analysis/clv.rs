//! The customer-value page: historical and predicted customer lifetime value per group (the
//! channel of the first event by default), each mean with its 95% interval and its n. Defaults are
//! the CLI's (`trailmap clv`): BG/NBD, weeks, 52 periods ahead, 1% discount per period.

use super::{Analysis, Cell, Field, Query, Table, View, customers_href};
use crate::error::ApiError;
pub use trailmap_app::ClvAnswer;
use trailmap_app::{App, ClvReport, ClvRequest, FromParams};
use trailmap_model::Business;
use trailmap_render::{Bar, BarChart, ValueFormat};

#[derive(Debug)]
pub struct Clv;

const BY: [(&str, &str); 4] = [("channel", "First channel"), ("touchpoint", "First touchpoint"), ("cohort", "First-purchase month"), ("persona", "Persona")];
const MODELS: [(&str, &str); 3] = [("bgnbd", "BG/NBD"), ("pareto-nbd", "Pareto/NBD"), ("gamma-gamma", "Gamma-Gamma spend")];

impl Analysis for Clv {
    type Answer = ClvAnswer;
    const SLUG: &'static str = "clv";
    const TITLE: &'static str = "Customer value";
    const ABOUT: &'static str = "Historical and predicted customer lifetime value by channel, touchpoint, cohort or persona.";

    fn compute(app: &App, business: &Business, query: &Query) -> Result<ClvAnswer, ApiError> {
        Ok(app.clv_answer(business, &ClvRequest::from_params(query)?)?)
    }

    fn view(answer: &ClvAnswer, business: &Business) -> View {
        let report = match answer {
            ClvAnswer::Report(report) => report,
            ClvAnswer::NoData(why) => {
                let chart = BarChart { title: format!("Customer value · {}", business.name), ..BarChart::default() };
                let table = Table::new(&["group", "n", "historical mean", "95% CI", "predicted mean", "95% CI"]);
                return View { summary: format!("n = 0 customers: {why}."), svg: chart.render(), table, notes: Vec::new() };
            }
        };
        let chart = BarChart {
            title: format!("Customer value by {} · {}", grouped_by(report), business.name),
            format: ValueFormat::Money(business.currency),
            bars: report
                .groups
                .iter()
                .map(|g| Bar {
                    label: g.group.clone(),
                    value: g.historical.mean,
                    comparison: g.predicted.as_ref().map(|p| p.mean),
                    n: Some(g.customers as u64),
                    href: customers_href(business.id, &g.historical.customer_ids),
                })
                .collect(),
            value_name: "historical mean".into(),
            comparison_name: format!("predicted mean, next {} {}s", report.horizon, unit(report)),
            width: Some(760.0),
        };
        let mut table = Table::new(&["group", "n", "historical mean", "95% CI", "predicted mean", "95% CI"]);
        for g in &report.groups {
            table.rows.push(vec![
                Cell::text(g.group.clone()),
                Cell::linked(g.customers.to_string(), customers_href(business.id, &g.historical.customer_ids)),
                Cell::text(format!("{:.2}", g.historical.mean)),
                Cell::text(interval(g.historical.ci95_low, g.historical.ci95_high)),
                Cell::text(g.predicted.as_ref().map_or("-".to_string(), |p| format!("{:.2}", p.mean))),
                Cell::text(g.predicted.as_ref().map_or("-".to_string(), |p| interval(p.ci95_low, p.ci95_high))),
            ]);
        }
        let summary = format!(
            "n = {} customers in {} groups; amounts in {}; predictions {} {}s ahead; data up to {}.",
            report.customers.len(),
            report.groups.len(),
            report.currency,
            report.horizon,
            unit(report),
            report.now
        );
        let mut notes = vec![
            format!("Values as of {}: {}.", report.now, report.now_rule),
            format!("Summary: {}.", report.summarising_rule),
            format!("Value: {}.", report.value_rule),
        ];
        if let Some(e) = &report.prediction_error {
            notes.insert(0, format!("No predictions: {e}."));
        }
        if let Some(e) = &report.spend_model.error {
            notes.insert(0, format!("Spend per purchase: {e}; each customer's average order value is used instead."));
        }
        for fit in [&report.purchase_model, &report.spend_model] {
            if let (Some(ll), Some(n)) = (fit.log_likelihood, fit.fitted_customers) {
                notes.push(format!("{}: log-likelihood {ll:.2} over n = {n} customers.", fit.model));
            }
        }
        View { summary, svg: chart.render(), table, notes }
    }

    fn fields(query: &Query, _answer: Option<&ClvAnswer>) -> Vec<Field> {
        vec![
            Field::select("by", "Group by", query.get("by").unwrap_or("channel"), &BY),
            Field::select("model", "Model", query.get("model").unwrap_or("bgnbd"), &MODELS),
            Field::select("unit", "Unit", query.get("unit").unwrap_or("week"), &[("week", "Weeks"), ("day", "Days")]),
            Field::text("horizon", "Horizon", query.get("horizon").unwrap_or("52"), "52"),
        ]
    }
}

fn grouped_by(report: &ClvReport) -> String {
    serde_json::to_value(report.grouped_by).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

fn unit(report: &ClvReport) -> String {
    serde_json::to_value(report.unit).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

fn interval(low: Option<f64>, high: Option<f64>) -> String {
    match (low, high) {
        (Some(l), Some(h)) => format!("{l:.2} .. {h:.2}"),
        _ => "n < 2".to_string(),
    }
}
