//! `trailmap clv`: historical and predicted customer lifetime value by channel, touchpoint or
//! cohort, with the fitted model, its time unit and rules, and an optional holdout check.

use crate::output::{Format, Output};
use anyhow::Context;
use std::io::Write;
use trailmap_app::App;
use trailmap_model::Timestamp;

#[derive(Debug, clap::Args)]
pub struct ClvArgs {
    /// The model: bgnbd or pareto-nbd (repeat purchases), or gamma-gamma (spend per purchase;
    /// purchases then by BG/NBD).
    #[arg(long, default_value = "bgnbd")]
    model: String,
    /// Periods to predict over, in --unit.
    #[arg(long, default_value_t = 52)]
    horizon: u32,
    /// Time unit of the models: weeks or days.
    #[arg(long, default_value = "week")]
    unit: String,
    /// Discount rate per period.
    #[arg(long, default_value_t = 0.01)]
    discount: f64,
    /// Group by channel (of the first event), touchpoint (first matched) or cohort (first purchase month).
    #[arg(long, default_value = "channel")]
    by: String,
    /// The last day of the calibration period (YYYY-MM-DD), included, as lifetimes'
    /// calibration_period_end: the models read the orders up to the end of DATE, every value is
    /// as of then, and the predictions are checked against the orders after it (the holdout).
    /// Default: all the data, up to the day of the last order.
    #[arg(long, value_name = "DATE", visible_alias = "holdout")]
    until: Option<String>,
    /// End of the data (YYYY-MM-DD, exclusive). Default: the end of the day of the last order
    /// (other events do not move it).
    #[arg(long, value_name = "DATE")]
    now: Option<String>,
}

/// A YYYY-MM-DD date as midnight UTC.
pub fn parse_date(argument: &str, text: &str) -> anyhow::Result<Timestamp> {
    Timestamp::parse_rfc3339(&format!("{}T00:00:00Z", text.trim()))
        .map_err(|_| anyhow::anyhow!("{argument} {text:?} is not a date (expected YYYY-MM-DD)"))
}

pub fn run(app: &App, business: Option<&str>, args: ClvArgs, format: Format, out: &mut dyn Write) -> anyhow::Result<()> {
    let business = app.business(business)?;
    let mut request = app.clv_request();
    request.model = args.model.parse().map_err(|e: String| anyhow::anyhow!("--model: {e}"))?;
    request.unit = args.unit.parse().map_err(|e: String| anyhow::anyhow!("--unit: {e}"))?;
    request.by = args.by.parse().map_err(|e: String| anyhow::anyhow!("--by: {e}"))?;
    request.horizon = args.horizon;
    request.discount = args.discount;
    request.until = args.until.as_deref().map(|d| parse_date("--until", d).map(|t| t.date())).transpose()?;
    request.now = args.now.as_deref().map(|d| parse_date("--now", d)).transpose()?;
    let report = app.clv(&business, &request).with_context(|| format!("customer lifetime value of {}", business.name))?;
    if format == Format::Json {
        // The whole report, every customer's predictions included, written from the report
        // itself (not through a JSON value of it, which cost more than the models).
        return crate::output::write_json(&report, out);
    }
    let rows = report
        .groups
        .iter()
        .map(|g| {
            vec![
                g.group.clone(),
                g.customers.to_string(),
                format!("{:.2}", g.historical.mean),
                interval(g.historical.ci95_low, g.historical.ci95_high),
                g.predicted.as_ref().map_or("-".to_string(), |p| format!("{:.2}", p.mean)),
                g.predicted.as_ref().map_or("-".to_string(), |p| interval(p.ci95_low, p.ci95_high)),
            ]
        })
        .collect();
    let unit = serde_json::to_value(report.unit)?;
    let title = format!(
        "Customer value of {} by {} ({} customers; {} {}s ahead at {}/period; model {} {}; now {} = {}; {} {})",
        report.business,
        serde_json::to_value(report.grouped_by)?.as_str().unwrap_or(""),
        report.customers.len(),
        report.horizon,
        unit.as_str().unwrap_or(""),
        report.discount_per_period,
        serde_json::to_value(report.model)?.as_str().unwrap_or(""),
        report.parameters.as_ref().map_or("not fitted".to_string(), |p| p.to_string()),
        report.now,
        report.now_rule,
        report.currency,
        report.interval_rule,
    );
    let mut output = Output::rows_only(&["group", "customers", "historical mean", "95% CI", "predicted mean", "95% CI"], rows).with_title(title);
    if format == Format::Table {
        output.print(format, out)?;
        if let Some(e) = &report.prediction_error {
            writeln!(out, "No predictions: {e}.")?;
        }
        for fit in [&report.purchase_model, &report.spend_model] {
            match (&fit.log_likelihood, &fit.error) {
                (Some(ll), _) => writeln!(out, "{}: log-likelihood {ll:.2} over {} customers.", fit.model, fit.fitted_customers.unwrap_or(0))?,
                (None, Some(e)) if fit.model == "Gamma-Gamma" => writeln!(out, "Spend per purchase: {e}; each customer's average order value is used.")?,
                _ => {}
            }
        }
        writeln!(out, "Summary: {}.", report.summarising_rule)?;
        writeln!(out, "Value: {}.", report.value_rule)?;
        if let Some(h) = &report.holdout {
            writeln!(
                out,
                "Holdout ({:.1} {}s, {} customers): predicted {:.1} purchases, actual {:.0}.",
                h.holdout_length,
                unit.as_str().unwrap_or(""),
                h.customers,
                h.predicted_total,
                h.actual_total
            )?;
            for b in &h.buckets {
                writeln!(out, "  frequency {}: {} customers, predicted {:.2}, actual {:.2} per customer", b.frequency, b.customers, b.predicted_mean, b.actual_mean)?;
            }
        }
        return Ok(());
    }
    // CSV carries the per-group table.
    output.title = None;
    output.print(format, out)
}

fn interval(low: Option<f64>, high: Option<f64>) -> String {
    match (low, high) {
        (Some(l), Some(h)) => format!("{l:.2} .. {h:.2}"),
        _ => "n < 2".to_string(),
    }
}
