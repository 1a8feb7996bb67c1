//! The customer-value page: historical and predicted customer lifetime value per group (the
//! channel of the first event by default), each mean with its 95% interval and its n. Defaults are
//! the CLI's (`trailmap clv`): BG/NBD, weeks, 52 periods ahead, 1% discount per period.

use super::{Analysis, Cell, Field, Query, Table, View, count, customers_href};
use crate::error::ApiError;
pub use trailmap_app::ClvAnswer;
use trailmap_app::{App, ClvReport, ClvRequest, FromParams};
use trailmap_model::Business;
use trailmap_render::{Bar, BarChart, ValueFormat};

#[derive(Debug)]
pub struct Clv;

const BY: [(&str, &str); 4] = [("channel", "First channel"), ("touchpoint", "First touchpoint"), ("cohort", "First-purchase month"), ("persona", "Persona")];
/// The models in an owner's words; "How this is computed" names each one.
const MODELS: [(&str, &str); 3] =
    [("bgnbd", "Buyers may stop after any purchase"), ("pareto-nbd", "Buyers may stop at any time"), ("gamma-gamma", "Spend per purchase only")];

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
                return View { summary: format!("Nothing to value yet: {why} (n = 0 customers)."), svg: chart.render(), table, notes: Vec::new() };
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
            value_name: "spent so far, mean".into(),
            comparison_name: format!("expected in the next {} {}s, mean", report.horizon, unit(report)),
            width: Some(760.0),
        };
        let money = |v: f64| ValueFormat::Money(business.currency).format(v);
        let range = |low: Option<f64>, high: Option<f64>| match (low, high) {
            (Some(l), Some(h)) => format!("{} to {}", money(l), money(h)),
            _ => "n < 2".to_string(),
        };
        let mut table = Table::new(&["group", "n", "spent so far, mean", "95% interval", "expected next, mean", "95% interval"]);
        for g in &report.groups {
            table.rows.push(vec![
                Cell::text(g.group.clone()),
                Cell::linked(count(g.customers as u64), customers_href(business.id, &g.historical.customer_ids)),
                Cell::text(money(g.historical.mean)),
                Cell::text(range(g.historical.ci95_low, g.historical.ci95_high)),
                Cell::text(g.predicted.as_ref().map_or("-".to_string(), |p| money(p.mean))),
                Cell::text(g.predicted.as_ref().map_or("-".to_string(), |p| range(p.ci95_low, p.ci95_high))),
            ]);
        }
        let summary = clv_sentence(report, business);
        let mut notes = vec![
            format!("Spent so far: {}.", report.value_rule),
            format!("Each customer is summarised by {}.", report.summarising_rule),
            "“Buyers may stop after any purchase” is the BG/NBD model (Fader, Hardie and Lee, 2005); “at any time” is the Pareto/NBD model (Schmittlein, Morrison and Colombo, 1987): each is fitted by maximum likelihood to every customer's repeat purchases, the time of their last purchase and their time as a customer, and predicts their purchases ahead. Spend per purchase is the Gamma-Gamma model (Fader, Hardie and Lee, 2005); the expected value is expected purchases times expected spend, discounted 1 % per period. Each mean carries its 95 % interval and its n.".to_string(),
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

    /// Customers are valued as of the end of the data the models learn from.
    fn period(answer: &ClvAnswer) -> Option<String> {
        match answer {
            ClvAnswer::Report(report) if report.now_rule == "given" => Some(format!("Values as of {}.", report.now)),
            ClvAnswer::Report(report) => Some(format!("Values as of {}.", report.now_rule)),
            ClvAnswer::NoData(_) => None,
        }
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

/// The value's answer in a sentence: the group whose customers are worth the most (expected ahead
/// when predicted, else spent so far) among groups of at least 10, against the least.
fn clv_sentence(report: &ClvReport, business: &Business) -> String {
    let money = |v: f64| ValueFormat::Money(business.currency).format(v);
    let worth = |g: &trailmap_app::GroupClv| g.predicted.as_ref().map_or(g.historical.mean, |p| p.mean);
    let mut groups: Vec<_> = report.groups.iter().filter(|g| g.customers >= 10).collect();
    groups.sort_by(|a, b| worth(b).total_cmp(&worth(a)));
    let by = match grouped_by(report).as_str() {
        "touchpoint" => "first touchpoint",
        "cohort" => "first-purchase month",
        "persona" => "persona",
        _ => "first channel",
    };
    let Some(best) = groups.first() else {
        return format!("Too few customers per {by} to compare yet: no group has 10 (n = {} customers).", count(report.customers.len() as u64));
    };
    let mut sentence = match &best.predicted {
        Some(p) => format!(
            "Customers whose {by} is {} are worth the most: {} each so far and {} more expected over the next {} {}s (n = {})",
            best.group,
            money(best.historical.mean),
            money(p.mean),
            report.horizon,
            unit(report),
            count(best.customers as u64)
        ),
        None => format!("Customers whose {by} is {} have spent the most: {} each (n = {})", best.group, money(best.historical.mean), count(best.customers as u64)),
    };
    if let Some(least) = groups.last().filter(|g| g.group != best.group) {
        let expected = if least.predicted.is_some() { " expected" } else { "" };
        sentence.push_str(&format!("; {} the least, {}{expected} (n = {})", least.group, money(worth(least)), count(least.customers as u64)));
    }
    sentence.push('.');
    sentence
}
