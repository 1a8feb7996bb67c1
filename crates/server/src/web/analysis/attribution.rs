//! The attribution page: which channels earn the conversions and revenue, under one model or all
//! eight, with spend, cost per acquisition and return on ad spend. Defaults are the CLI's
//! (`trailmap attribution`): all models, `purchase` conversions, 30-day lookback, by channel. With
//! all models the chart compares the simple linear model with the data-driven Markov one.

use super::{Analysis, Cell, Field, Query, Table, View, count, customers_href, money_minor, percent};
use crate::error::ApiError;
use trailmap_app::{App, AttributionReport, AttributionRequest, FromParams};
use trailmap_model::Business;
use trailmap_render::{Bar, BarChart, ValueFormat};

#[derive(Debug)]
pub struct Attribution;

/// The models in an owner's words; "How this is computed" names each one.
const MODELS: [(&str, &str); 9] = [
    ("all", "Every way, side by side"),
    ("first", "First touch"),
    ("last", "Last touch"),
    ("last-non-direct", "Last touch that is not Direct"),
    ("linear", "Shared equally among touches"),
    ("time-decay", "More to recent touches"),
    ("position", "Most to the first and last touch"),
    ("markov", "Data-driven: what is lost without it"),
    ("shapley", "Data-driven: a fair share of each mix"),
];

/// A model's words on the page.
fn model_label(model: &str) -> &'static str {
    MODELS.iter().find(|(value, _)| *value == model).map_or("", |(_, label)| label)
}
/// New customers first: where they come from is the question an owner asks first (and repeat
/// purchases at a till have no touch to credit).
const COUNTS: [(&str, &str); 2] = [("first", "New customers (each one's first)"), ("all", "Every conversion")];
const BY: [(&str, &str); 4] = [("channel", "Channel"), ("source", "Source"), ("campaign", "Campaign"), ("touchpoint", "Touchpoint")];

impl Analysis for Attribution {
    type Answer = AttributionReport;
    const SLUG: &'static str = "attribution";
    const TITLE: &'static str = "Attribution";
    const ABOUT: &'static str = "Which channels bring new customers and earn the revenue, with spend and its return.";
    /// The page asks where customers come from: each one's first purchase. The API and the CLI
    /// count every conversion unless asked (`count=first`, `--new-customers`).
    const PAGE_DEFAULTS: &'static [(&'static str, &'static str)] = &[("count", "first")];

    fn compute(app: &App, business: &Business, query: &Query) -> Result<AttributionReport, ApiError> {
        Ok(app.attribution(business, &AttributionRequest::from_params(query)?)?)
    }

    fn view(report: &AttributionReport, business: &Business) -> View {
        let a = &report.attribution;
        let money = |minor: f64| money_minor(business, minor);
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
            value_name: main.map_or(String::new(), |m| model_label(m.model.as_str()).to_lowercase()),
            comparison_name: comparison.map_or(String::new(), |m| model_label(m.model.as_str()).to_lowercase()),
            width: Some(760.0),
        };
        let optional = |v: Option<f64>, f: &dyn Fn(f64) -> String| v.map_or_else(|| "-".to_string(), f);
        let table = if a.models.len() == 1 {
            let mut table = Table::new(&[&report.request.by, "n", "conversions", "share", "revenue", "spend", "cost per conversion", "revenue per ad dollar"]);
            for model in &a.models {
                for (i, c) in model.credits.iter().enumerate() {
                    let converting = a.channels.get(i).map(|f| f.converting_customers.as_slice()).unwrap_or_default();
                    table.rows.push(vec![
                        Cell::text(c.channel.clone()),
                        Cell::text(count(c.customers)),
                        Cell::linked(format!("{:.1}", c.conversions), customers_href(business.id, converting)),
                        Cell::text(percent(c.share)),
                        Cell::text(money(c.revenue_minor)),
                        Cell::text(money(c.spend_minor)),
                        Cell::text(optional(c.cpa_minor, &|v| money(v))),
                        Cell::text(optional(c.roas, &|v| format!("{v:.2}"))),
                    ]);
                }
            }
            table
        } else {
            // Every way side by side: one row per channel, each way's credited conversions and
            // share in a column of its own, so a channel reads across.
            let mut columns = vec![report.request.by.clone(), "n".to_string(), "spend".to_string()];
            columns.extend(a.models.iter().map(|m| model_label(m.model.as_str()).to_string()));
            let mut table = Table { columns, rows: Vec::new() };
            for (i, facts) in a.channels.iter().enumerate() {
                let mut row = vec![
                    Cell::text(facts.channel.clone()),
                    Cell::linked(count(facts.customers), customers_href(business.id, &facts.converting_customers)),
                    Cell::text(money(facts.spend_minor)),
                ];
                row.extend(a.models.iter().map(|m| {
                    m.credits.get(i).map_or_else(|| Cell::text("-"), |c| Cell::text(format!("{:.1} ({})", c.conversions, percent(c.share))))
                }));
                table.rows.push(row);
            }
            table
        };
        let summary = attribution_sentence(report, main, business);
        let mut notes = vec![
            format!(
                "{} conversions worth {} by {} converting customers, of {} customers with a recorded path; the shares are of the {} conversions with a recorded touch.",
                count(a.conversions),
                money(a.revenue_minor as f64),
                count(a.converting_customers),
                count(a.customers),
                count(a.conversions - a.without_touch.conversions)
            ),
            "The ways of crediting: first touch and last touch give each conversion to one touch; “last touch that is not Direct” skips Direct visits; “shared equally” is the linear model; “more to recent touches” is time decay (a touch's weight halves every 7 days before the conversion); “most to the first and last touch” is the position-based model (40 % each, 20 % shared by the touches between); the data-driven ways are a first-order Markov chain's removal effect and the Shapley value of each channel over the mixes of channels customers met.".to_string(),
            "Cost per conversion is the channel's spend divided by its credited conversions; revenue per ad dollar (ROAS) is its credited revenue divided by its spend.".to_string(),
        ];
        notes.extend(a.notes.iter().chain(a.models.iter().flat_map(|m| &m.notes)).cloned());
        View { summary, svg: chart.render(), table, notes }
    }

    /// The conversions with no recorded touch: no channel of the table, so a line of their own.
    fn aside(report: &AttributionReport, business: &Business) -> Option<Cell> {
        let a = &report.attribution;
        let none = &a.without_touch;
        (none.conversions > 0).then(|| {
            Cell::linked(
                format!(
                    "No recorded touch: {} of the {} conversions ({}) by n = {} customers, worth {}: no visit, campaign, referral or other touch was recorded in their window, so no channel is credited with them.",
                    count(none.conversions),
                    count(a.conversions),
                    percent(none.conversions as f64 / a.conversions.max(1) as f64),
                    count(none.customers.len() as u64),
                    money_minor(business, none.revenue_minor as f64)
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
            Field::select("count", "Conversions", query.get("count").unwrap_or("first"), &COUNTS),
        ]
    }
}

/// The attribution's answer in a sentence: the channel credited with the most conversions (new
/// customers when only first purchases count) and its share, and what the channel with the most
/// ad spend brings for its share of the spend.
fn attribution_sentence(report: &AttributionReport, main: Option<&trailmap_analytics::attribution::ModelCredit>, business: &Business) -> String {
    let a = &report.attribution;
    let what = if report.request.new_customers { "new customers" } else { "conversions" };
    let touched = a.conversions - a.without_touch.conversions;
    let Some(model) = main else { return format!("No {what} to credit yet (n = 0).") };
    let Some(top) = model.credits.iter().max_by(|x, y| x.conversions.total_cmp(&y.conversions)).filter(|c| c.conversions > 0.0) else {
        return format!("No {what} with a recorded touch to credit yet (n = {} conversions).", count(a.conversions));
    };
    let mut sentence = format!(
        "Most {what} come from {}: {} of {} {what} with a recorded touch, credited {}",
        top.channel,
        percent(top.share),
        count(touched),
        model_label(model.model.as_str()).to_lowercase()
    );
    let total_spend: f64 = model.credits.iter().map(|c| c.spend_minor).sum();
    if let Some(paid) = model.credits.iter().filter(|c| c.spend_minor > 0.0).max_by(|x, y| x.spend_minor.total_cmp(&y.spend_minor)) {
        let spend_share = percent(paid.spend_minor / total_spend);
        if paid.channel == top.channel {
            sentence.push_str(&format!("; it also takes {spend_share} of the ad spend ({})", money_minor(business, total_spend)));
        } else {
            sentence.push_str(&format!("; {} brings {} for {spend_share} of the ad spend ({})", paid.channel, percent(paid.share), money_minor(business, total_spend)));
        }
    }
    sentence.push('.');
    sentence
}
