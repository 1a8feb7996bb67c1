//! `trailmap insights [--period FROM..TO] [--today DATE] [--limit N]`: the business's findings,
//! the largest value at stake first (drop-off, channels, satisfaction, churn risk, maps past
//! their review date), each with its n, how its value was estimated and where its evidence is.
//! The JSON holds every finding's customers; the table and CSV give their count.

use crate::output::{Format, Output};
use anyhow::bail;
use chrono::NaiveDate;
use std::io::Write;
use trailmap_app::App;
use trailmap_app::insights::InsightsRequest;

#[derive(Debug, clap::Args)]
pub struct InsightsArgs {
    /// The period: FROM..TO (days YYYY-MM-DD or months YYYY-MM, both included), or one day or
    /// month. Default: the last 30 days with data.
    #[arg(long, value_name = "FROM..TO")]
    period: Option<String>,
    /// The day maps past their review date are judged on (YYYY-MM-DD). Default: today.
    #[arg(long, value_name = "DATE")]
    today: Option<NaiveDate>,
    /// Show at most N findings (the largest value at stake first).
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
}

pub fn run(app: &App, business: Option<&str>, args: InsightsArgs, format: Format, out: &mut dyn Write) -> anyhow::Result<()> {
    if args.limit == Some(0) {
        bail!("--limit 0: show at least one finding, or leave --limit out for all");
    }
    let business = app.business(business)?;
    let period = args.period.as_deref().map(crate::commands::report::parse_period).transpose()?;
    let today = args.today.unwrap_or_else(|| crate::commands::user::now().date());
    let mut insights = app.insights(&business, &InsightsRequest { period, today })?;
    if let Some(limit) = args.limit {
        insights.findings.truncate(limit);
    }
    let scale = insights.minor_per_major.max(1) as f64;
    let rows = insights
        .findings
        .iter()
        .enumerate()
        .map(|(i, f)| {
            vec![
                (i + 1).to_string(),
                f.kind.as_str().to_string(),
                f.value_at_stake_minor.map_or_else(|| "-".to_string(), |v| format!("{:.2}", v as f64 / scale)),
                f.title.clone(),
                f.n.to_string(),
                f.customers.len().to_string(),
                f.evidence.command.clone(),
            ]
        })
        .collect();
    let columns = ["rank", "kind", &format!("value at stake ({})", insights.currency), "finding", "n", "customers", "evidence"];
    let output = Output::new(&columns, rows, &insights)?;
    if format != Format::Table {
        return output.print(format, out);
    }
    let title = format!(
        "Insights for {} ({} to {}), the largest value at stake first",
        insights.business, insights.period.from, insights.period.to
    );
    output.with_title(title).print(format, out)?;
    if insights.findings.is_empty() {
        writeln!(out, "No finding: the business has no data in the period that supports one.")?;
    }
    for (i, f) in insights.findings.iter().enumerate() {
        writeln!(out, "{}. {}\n   {}\n   Value: {}", i + 1, f.title, f.detail, f.value_basis)?;
    }
    for note in &insights.notes {
        writeln!(out, "Note: {note}")?;
    }
    Ok(())
}
