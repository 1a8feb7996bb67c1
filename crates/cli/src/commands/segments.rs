//! `trailmap segments`: RFM scores and the named segments, with counts and value per segment.

use crate::commands::clv::parse_date;
use crate::output::{Format, Output};
use std::io::Write;
use trailmap_app::App;

#[derive(Debug, clap::Args)]
pub struct SegmentsArgs {
    /// End of the data (YYYY-MM-DD, exclusive). Default: the day after the last event.
    #[arg(long, value_name = "DATE")]
    now: Option<String>,
}

pub fn run(app: &App, business: Option<&str>, args: SegmentsArgs, format: Format, out: &mut dyn Write) -> anyhow::Result<()> {
    let business = app.business(business)?;
    let now = args.now.as_deref().map(|d| parse_date("--now", d)).transpose()?;
    let report = app.segments(&business, now)?;
    let rows = report
        .segments
        .iter()
        .map(|s| {
            vec![
                s.segment.to_string(),
                s.rule.to_string(),
                s.customers.to_string(),
                format!("{:.1}%", s.share * 100.0),
                format!("{:.2}", s.revenue),
                format!("{:.2}", s.mean_revenue),
                format!("{:.1}", s.mean_orders),
                format!("{:.0}", s.mean_days_since_last_purchase),
            ]
        })
        .collect();
    let title = format!(
        "RFM segments of {} ({} customers with an order; now {} = {}; revenue in {})",
        report.business, report.customers, report.now, report.now_rule, report.currency
    );
    let mut output = Output::new(
        &["segment", "rule", "customers", "share", "revenue", "mean revenue", "mean orders", "mean days since last"],
        rows,
        &report,
    )?;
    if format == Format::Table {
        output = output.with_title(title);
        output.print(format, out)?;
        writeln!(out, "Scores: {}.", report.score_rule)?;
        return Ok(());
    }
    output.print(format, out)
}
