//! `trailmap retention`: do buyers come back? Cohorts by the week or month of their first
//! purchase, the share buying again in each later period, the repeat-purchase rate and the time
//! between purchases.

use crate::commands::funnel::{percent, strip};
use crate::output::Output;
use anyhow::Context;
use trailmap_app::App;
use trailmap_model::Business;

#[derive(Debug, clap::Args)]
pub struct RetentionArgs {
    /// Cohorts and periods by ISO week (starting Monday) or calendar month, in UTC.
    #[arg(long, default_value = "month", value_parser = ["week", "month"])]
    period: String,
    /// How many later periods to show as columns (the JSON has them all).
    #[arg(long, default_value_t = 12)]
    columns: usize,
    /// Summarise each buyer in ClickHouse when the events are there (--events), instead of
    /// streaming every event into the engine: the same report; otherwise the answer says why not.
    #[arg(long)]
    pushdown: bool,
}

pub fn run(app: &mut App, business: &Business, args: RetentionArgs) -> anyhow::Result<Output> {
    let request = trailmap_app::RetentionRequest { period: args.period.parse().map_err(anyhow::Error::msg)?, pushdown: args.pushdown };
    let answer = app.retention_answer(business, &request).with_context(|| format!("computing the retention of {}", business.name))?;
    let report = &answer.report;
    let shown = report.cohorts.iter().map(|c| c.later.len()).max().unwrap_or(0).min(args.columns);
    let mut columns = vec!["cohort".to_string(), "n".to_string()];
    columns.extend((1..=shown).map(|k| format!("+{k}")));
    let rows = report
        .cohorts
        .iter()
        .map(|cohort| {
            let mut row = vec![cohort.period.clone(), cohort.customers.len().to_string()];
            row.extend((0..shown).map(|k| {
                cohort.later.get(k).map_or(String::new(), |cell| format!("{} ({})", percent(cell.rate), cell.customers.len()))
            }));
            row
        })
        .collect();
    let mut title = format!(
        "Retention of {} by {}: repeat-purchase rate {} ({} of n = {} buyers)",
        business.name,
        args.period,
        percent(report.repeat_rate),
        report.repeat_customers.len(),
        report.purchasers
    );
    if let Some(gaps) = &report.time_between_purchases {
        title.push_str(&format!(
            "; days between purchases: median {:.1}, p90 {:.1} (n = {} gaps from {} customers)",
            gaps.median_days, gaps.p90_days, gaps.n, gaps.customers
        ));
    }
    match answer.path {
        trailmap_app::PathTaken::PushedDown => title.push_str("\nEach buyer summarised in ClickHouse."),
        trailmap_app::PathTaken::Streamed => title.push_str("\nCounted by the embedded engine over the events in ClickHouse."),
        trailmap_app::PathTaken::Embedded => {}
    }
    if let Some(note) = &answer.path_note {
        title.push_str(&format!("\n{note}"));
    }
    let mut json = serde_json::to_value(&answer)?;
    strip(&mut json, &["customers", "repeat_customers"]);
    if let Some(object) = json.as_object_mut() {
        object.insert("repeat_customers".into(), report.repeat_customers.len().into());
    }
    // Cohort sizes were stripped with the lists; put them back as counts.
    if let Some(cohorts) = json.get_mut("cohorts").and_then(|c| c.as_array_mut()) {
        for (value, cohort) in cohorts.iter_mut().zip(&report.cohorts) {
            if let Some(object) = value.as_object_mut() {
                object.insert("n".into(), cohort.customers.len().into());
                if let Some(cells) = object.get_mut("later").and_then(|l| l.as_array_mut()) {
                    for (cell, later) in cells.iter_mut().zip(&cohort.later) {
                        if let Some(cell) = cell.as_object_mut() {
                            cell.insert("count".into(), later.customers.len().into());
                        }
                    }
                }
            }
        }
    }
    Ok(Output { title: Some(title), columns, rows, json })
}
