//! The attribution page: which channels earn the conversions and revenue, under one model or all
//! eight, with spend, cost per acquisition and return on ad spend. Defaults are the CLI's
//! (`trailmap attribution`): all models, `purchase` conversions, 30-day lookback, by channel. With
//! all models the chart compares the simple linear model with the data-driven Markov one.

use super::{Analysis, Cell, Field, Query, Table, View, customers_href, percent};
use crate::error::ApiError;
use trailmap_app::{App, AttributionReport, AttributionRequest, FromParams};
use trailmap_model::Business;
use trailmap_render::{Bar, BarChart, ValueFormat};

#[derive(Debug)]
pub struct Attribution;

const MODELS: [(&str, &str); 9] = [
    ("all", "All models"),
    ("first", "First touch"),
    ("last", "Last touch"),
    ("last-non-direct", "Last non-direct"),
    ("linear", "Linear"),
    ("time-decay", "Time decay"),
    ("position", "Position (40/20/40)"),
    ("markov", "Markov (data-driven)"),
    ("shapley", "Shapley (data-driven)"),
];
const COUNTS: [(&str, &str); 2] = [("all", "Every conversion"), ("first", "Each customer's first (new customers)")];
const BY: [(&str, &str); 4] = [("channel", "Channel"), ("source", "Source"), ("campaign", "Campaign"), ("touchpoint", "Touchpoint")];

impl Analysis for Attribution {
    type Answer = AttributionReport;
    const SLUG: &'static str = "attribution";
    const TITLE: &'static str = "Attribution";
    const ABOUT: &'static str = "Which channels earn the conversions and revenue, by attribution model, with spend and ROAS.";

    fn compute(app: &App, business: &Business, query: &Query) -> Result<AttributionReport, ApiError> {
        Ok(app.attribution(business, &AttributionRequest::from_params(query)?)?)
    }

    fn view(report: &AttributionReport, business: &Business) -> View {
        let a = &report.attribution;
        let scale = report.minor_per_major.max(1) as f64;
        let money = |minor: f64| format!("{:.2}", minor / scale + 0.0);
        let find = |name: &str| a.models.iter().find(|m| m.model.as_str() == name);
        let (main, comparison) = if a.models.len() == 1 { (a.models.first(), None) } else { (find("linear"), find("markov")) };
        let chart = BarChart {
            title: format!("Conversions credited by {} · {}", report.request.by, business.name),
            format: ValueFormat::Number,
            bars: a
                .channels
                .iter()
                .enumerate()
                .map(|(i, facts)| Bar {
                    label: facts.channel.clone(),
                    value: main.and_then(|m| m.credits.get(i)).map_or(0.0, |c| c.conversions),
                    comparison: comparison.and_then(|m| m.credits.get(i)).map(|c| c.conversions),
                    n: Some(facts.customers),
                    href: customers_href(business.id, &facts.converting_customers),
                })
                .collect(),
            value_name: main.map_or(String::new(), |m| m.model.as_str().to_string()),
            comparison_name: comparison.map_or(String::new(), |m| m.model.as_str().to_string()),
            width: Some(760.0),
        };
        let mut table = Table::new(&["model", &report.request.by, "n", "conversions", "share", "revenue", "spend", "CPA", "ROAS"]);
        let optional = |v: Option<f64>, f: &dyn Fn(f64) -> String| v.map_or_else(|| "-".to_string(), f);
        for model in &a.models {
            for (i, c) in model.credits.iter().enumerate() {
                let converting = a.channels.get(i).map(|f| f.converting_customers.as_slice()).unwrap_or_default();
                table.rows.push(vec![
                    Cell::text(model.model.as_str()),
                    Cell::text(c.channel.clone()),
                    Cell::text(c.customers.to_string()),
                    Cell::linked(format!("{:.1}", c.conversions), customers_href(business.id, converting)),
                    Cell::text(percent(c.share)),
                    Cell::text(money(c.revenue_minor)),
                    Cell::text(money(c.spend_minor)),
                    Cell::text(optional(c.cpa_minor, &|v| money(v))),
                    Cell::text(optional(c.roas, &|v| format!("{v:.2}"))),
                ]);
            }
        }
        let summary = format!(
            "{} conversions worth {} {} from {} converting customers (n = {} customers with a path); amounts in {}; shares are of the {} conversions with a recorded touch.",
            a.conversions,
            money(a.revenue_minor as f64),
            report.currency,
            a.converting_customers,
            a.customers,
            report.currency,
            a.conversions - a.without_touch.conversions
        );
        let notes = a.notes.iter().chain(a.models.iter().flat_map(|m| &m.notes)).cloned().collect();
        View { summary, svg: chart.render(), table, notes }
    }

    /// The conversions with no recorded touch: no channel of the table, so a line of their own.
    fn aside(report: &AttributionReport, business: &Business) -> Option<Cell> {
        let a = &report.attribution;
        let none = &a.without_touch;
        (none.conversions > 0).then(|| {
            Cell::linked(
                format!(
                    "No recorded touch: {} of the {} conversions ({}) by n = {} customers, worth {:.2} {}: no visit, campaign, referral or other touch was recorded in their window, so no channel is credited with them.",
                    none.conversions,
                    a.conversions,
                    percent(none.conversions as f64 / a.conversions.max(1) as f64),
                    none.customers.len(),
                    none.revenue_minor as f64 / report.minor_per_major.max(1) as f64,
                    report.currency
                ),
                customers_href(business.id, &none.customers),
            )
        })
    }

    fn fields(query: &Query, _answer: Option<&AttributionReport>) -> Vec<Field> {
        vec![
            Field::select("model", "Model", query.get("model").unwrap_or("all"), &MODELS),
            Field::select("by", "Credit to", query.get("by").unwrap_or("channel"), &BY),
            Field::text("lookback", "Lookback", query.get("lookback").unwrap_or("30d"), "30d"),
            Field::text("conversion", "Conversion event", query.get("conversion").unwrap_or("purchase"), "purchase"),
            Field::select("count", "Conversions", query.get("count").unwrap_or("all"), &COUNTS),
        ]
    }
}
