//! `trailmap attribution`: which channels earn the conversions and revenue, under eight models,
//! with spend, cost per acquisition and return on ad spend. The table shows one row per channel
//! and a column per model (all models) or the full detail of one model; JSON and CSV carry every
//! figure of every model.

use crate::output::{Format, Output};
use clap::Args;
use std::io::Write;
use trailmap_app::App;
use trailmap_model::Business;

#[derive(Debug, Args)]
pub struct AttributionArgs {
    /// first, last, last-non-direct, linear, time-decay, position, markov, shapley or all.
    #[arg(long, default_value = "all")]
    model: String,
    /// The event that counts as a conversion; its revenue is the conversion's value.
    #[arg(long, default_value = "purchase", value_name = "EVENT")]
    conversion: String,
    /// How long before a conversion a touch still counts (e.g. 30d, 12h, 2w).
    #[arg(long, default_value = "30d")]
    lookback: String,
    /// Half-life of the time-decay model.
    #[arg(long, default_value = "7d")]
    half_life: String,
    /// Order of the Markov chain (1 to 3): how many previous channels a state remembers.
    #[arg(long, default_value_t = 1)]
    markov_order: usize,
    /// What a touch is credited to: channel, source, campaign or touchpoint.
    #[arg(long, default_value = "channel")]
    by: String,
    /// First day of conversions counted (YYYY-MM-DD, UTC).
    #[arg(long, value_name = "DATE")]
    from: Option<String>,
    /// Last day of conversions counted (YYYY-MM-DD, UTC, inclusive).
    #[arg(long, value_name = "DATE")]
    to: Option<String>,
    /// Count only each customer's first conversion, so CPA is cost per new customer.
    #[arg(long)]
    new_customers: bool,
    /// List the converting customers touched by this channel instead of the credits; `no-touch`
    /// lists those whose conversions have no recorded touch.
    #[arg(long, value_name = "CHANNEL")]
    customers: Option<String>,
}

pub fn run(app: &App, business: &Business, args: AttributionArgs, format: Format, out: &mut dyn Write) -> anyhow::Result<()> {
    let mut request = App::attribution_request();
    request.model = args.model;
    request.conversion = args.conversion;
    request.lookback = args.lookback;
    request.half_life = args.half_life;
    request.markov_order = args.markov_order;
    request.by = args.by;
    request.from = args.from;
    request.to = args.to;
    request.new_customers = args.new_customers;
    let report = app.attribution(business, &request)?;
    let a = &report.attribution;
    // The first column is named after what is credited: channel, source, campaign or touchpoint.
    let key = request.by.trim();
    let scale = report.minor_per_major as f64;
    // Adding zero turns the -0.0 a float sum can end with into 0.0, which prints without a sign.
    let money = |minor: f64| format!("{:.2}", minor / scale + 0.0);
    let optional = |value: Option<f64>, f: &dyn Fn(f64) -> String| value.map_or_else(|| "-".to_string(), f);

    if let Some(channel) = args.customers {
        let customers = app.attribution_customers(&report, &channel)?;
        let rows = customers
            .iter()
            .map(|c| {
                vec![
                    c.id.to_string(),
                    c.name.clone().unwrap_or_default(),
                    c.email.clone().unwrap_or_default(),
                    c.external_id.clone().unwrap_or_default(),
                ]
            })
            .collect();
        return Output::new(&["customer", "name", "email", "external id"], rows, &customers)?
            .with_title(if channel.trim().eq_ignore_ascii_case(trailmap_app::NO_TOUCH_CUSTOMERS) {
                format!("{} converting customers with no recorded touch (n = {})", report.business, customers.len())
            } else {
                format!("{} converting customers touched by {channel} (n = {})", report.business, customers.len())
            })
            .print(format, out);
    }

    let title = format!(
        "Attribution for {}: {} conversions worth {} {} from {} customers (n = {} customers with a path){}",
        report.business,
        a.conversions,
        money(a.revenue_minor as f64),
        report.currency,
        a.converting_customers,
        a.customers,
        match (&request.from, &request.to) {
            (None, None) => String::new(),
            (from, to) => format!(", {} to {}", from.as_deref().unwrap_or("start"), to.as_deref().unwrap_or("end")),
        }
    );
    // The conversions without a touch are no channel: a line of their own, with their n.
    let title = format!(
        "{title}\nNo recorded touch: {} of the {} conversions ({:.1}%) by {} customers, worth {} {}; the credits below share out the other {}",
        a.without_touch.conversions,
        a.conversions,
        if a.conversions == 0 { 0.0 } else { 100.0 * a.without_touch.conversions as f64 / a.conversions as f64 },
        a.without_touch.customers.len(),
        money(a.without_touch.revenue_minor as f64),
        report.currency,
        a.conversions - a.without_touch.conversions
    );
    match format {
        Format::Json => Output { title: None, columns: Vec::new(), rows: Vec::new(), json: serde_json::to_value(&report)? }.print(format, out),
        Format::Csv => {
            // Every figure of every model, one row per model and channel, at full precision.
            let mut rows = Vec::new();
            for model in &a.models {
                for c in &model.credits {
                    rows.push(vec![
                        model.model.as_str().to_string(),
                        c.channel.clone(),
                        c.conversions.to_string(),
                        c.share.to_string(),
                        money(c.revenue_minor),
                        money(c.spend_minor),
                        optional(c.cpa_minor, &|v| money(v)),
                        optional(c.roas, &|v| v.to_string()),
                        c.customers.to_string(),
                    ]);
                }
            }
            Output::new(&["model", "channel", "conversions", "share", "revenue", "spend", "cpa", "roas", "n"], rows, &report)?
                .print(format, out)
        }
        Format::Table if a.models.len() == 1 => {
            let model = &a.models[0];
            let rows = model
                .credits
                .iter()
                .map(|c| {
                    vec![
                        c.channel.clone(),
                        format!("{:.1}", c.conversions),
                        format!("{:.1}%", 100.0 * c.share),
                        money(c.revenue_minor),
                        money(c.spend_minor),
                        optional(c.cpa_minor, &|v| money(v)),
                        optional(c.roas, &|v| format!("{v:.2}")),
                        c.customers.to_string(),
                    ]
                })
                .collect();
            Output::new(&[key, "conversions", "share", "revenue", "spend", "CPA", "ROAS", "n"], rows, &report)?
                .with_title(format!("{title}\nModel: {}", model.model.as_str()))
                .print(format, out)?;
            print_notes(out, a.notes.iter().chain(&model.notes))
        }
        Format::Table => {
            let mut columns = vec![key.to_string(), "n".to_string()];
            columns.extend(a.models.iter().map(|m| m.model.as_str().to_string()));
            let rows = a
                .channels
                .iter()
                .enumerate()
                .map(|(i, facts)| {
                    let mut row = vec![facts.channel.clone(), facts.customers.to_string()];
                    row.extend(a.models.iter().map(|m| format!("{:.1}", m.credits[i].conversions)));
                    row
                })
                .collect();
            Output { title: Some(format!("{title}\nConversions credited per model")), columns, rows, json: serde_json::Value::Null }
                .print(format, out)?;
            // Spend against credit under a simple model and the data-driven one: where the money works
            // (JSON and CSV carry every model).
            let shown: Vec<_> = a
                .models
                .iter()
                .filter(|m| matches!(m.model.as_str(), "linear" | "markov"))
                .collect();
            let mut columns = vec![key.to_string(), "n".to_string(), "spend".to_string()];
            columns.extend(shown.iter().map(|m| format!("revenue {}", m.model.as_str())));
            columns.extend(shown.iter().map(|m| format!("CPA {}", m.model.as_str())));
            columns.extend(shown.iter().map(|m| format!("ROAS {}", m.model.as_str())));
            let rows = a
                .channels
                .iter()
                .enumerate()
                .map(|(i, facts)| {
                    let mut row = vec![facts.channel.clone(), facts.customers.to_string(), money(facts.spend_minor)];
                    row.extend(shown.iter().map(|m| money(m.credits[i].revenue_minor)));
                    row.extend(shown.iter().map(|m| optional(m.credits[i].cpa_minor, &|v| money(v))));
                    row.extend(shown.iter().map(|m| optional(m.credits[i].roas, &|v| format!("{v:.2}"))));
                    row
                })
                .collect();
            Output { title: Some(format!("Revenue ({}), cost per acquisition and return on ad spend", report.currency)), columns, rows, json: serde_json::Value::Null }
                .print(format, out)?;
            print_notes(out, a.notes.iter().chain(a.models.iter().flat_map(|m| &m.notes)))
        }
    }
}

fn print_notes<'a>(out: &mut dyn Write, notes: impl Iterator<Item = &'a String>) -> anyhow::Result<()> {
    for note in notes {
        writeln!(out, "- {note}")?;
    }
    Ok(())
}
