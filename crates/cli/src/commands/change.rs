//! `trailmap change add --title T --date YYYY-MM-DD [--description D] [--touchpoint NAME]...
//! [--stage NAME]... [--kpi TEXT] [--metric FORM] [--owner NAME] [--answers MAP:CARD]` records a
//! change in the change log; `trailmap change list` lists them, newest first. Both print as table,
//! JSON or CSV; the app checks every field and its errors name the flag.

use crate::output::{Format, Output};
use chrono::NaiveDate;
use std::io::Write;
use trailmap_app::changes::{ChangeRequest, ChangeView};
use trailmap_app::{App, AppError};
use trailmap_model::ChangeMetric;

#[derive(Debug, clap::Subcommand)]
pub enum ChangeCommand {
    /// Record a change: what, when, where in the journey, and the KPI to watch.
    Add(Box<AddArgs>),
    /// The change log, newest first.
    List,
    /// The change's impact on its KPI: before and after over matched windows, the test, the
    /// difference-in-differences and A/B split where asked, and a plain verdict with n.
    Impact(crate::commands::change_impact::ImpactArgs),
}

#[derive(Debug, clap::Args)]
pub struct AddArgs {
    #[arg(long)]
    title: String,
    /// The day the change took effect (YYYY-MM-DD).
    #[arg(long)]
    date: NaiveDate,
    #[arg(long, default_value = "")]
    description: String,
    /// A touchpoint the change touches (by name); repeat for more.
    #[arg(long, value_name = "NAME")]
    touchpoint: Vec<String>,
    /// A stage the change touches (by name); repeat for more.
    #[arg(long, value_name = "NAME")]
    stage: Vec<String>,
    /// The KPI to watch in your words ("checkout conversion"); the metric's label when absent.
    #[arg(long, value_name = "TEXT")]
    kpi: Option<String>,
    /// The KPI as the engine computes it: conversion:FROM>TO[:Nd] (steps as `funnel --steps`
    /// takes them), reach:STAGE, repeat-rate, aov, revenue-per-customer, nps,
    /// csat[:TOUCHPOINT] or new-customers[:CHANNEL].
    #[arg(long, value_name = "FORM")]
    metric: Option<ChangeMetric>,
    /// Who owns the change.
    #[arg(long, value_name = "NAME")]
    owner: Option<String>,
    /// The pain point or action card it answers: the map (id or name), a colon, the card (id
    /// or text), e.g. "1:7".
    #[arg(long, value_name = "MAP:CARD")]
    answers: Option<String>,
}

/// The app names list fields by the request's names; the command line's flags are singular.
fn with_flag_fields(error: AppError) -> AppError {
    match error {
        AppError::InvalidField { field, value, reason } => {
            let field = match field.as_str() {
                "touchpoints" => "touchpoint".to_string(),
                "stages" => "stage".to_string(),
                _ => field,
            };
            AppError::InvalidField { field, value, reason }
        }
        other => other,
    }
}

fn rows(changes: &[ChangeView]) -> Vec<Vec<String>> {
    changes
        .iter()
        .map(|c| {
            vec![
                c.id.to_string(),
                c.date.to_string(),
                c.title.clone(),
                c.touchpoints.join(", "),
                c.stages.join(", "),
                c.kpi.clone().unwrap_or_default(),
                c.metric_text.clone().unwrap_or_default(),
                c.owner.clone().unwrap_or_default(),
                c.answers.as_ref().map_or_else(String::new, |a| match (&a.map_name, &a.text) {
                    (Some(map), Some(text)) => format!("{map}:{} ({}: {text})", a.card, a.kind.as_deref().unwrap_or("card")),
                    _ => format!("{}:{} (no longer on the map)", a.map, a.card),
                }),
            ]
        })
        .collect()
}

const COLUMNS: [&str; 9] = ["id", "date", "title", "touchpoints", "stages", "kpi", "metric", "owner", "answers"];

pub fn run(app: &mut App, business: Option<&str>, command: ChangeCommand, format: Format, out: &mut dyn Write) -> anyhow::Result<()> {
    let business = app.business(business)?;
    match command {
        ChangeCommand::Add(args) => {
            let AddArgs { title, date, description, touchpoint, stage, kpi, metric, owner, answers } = *args;
            let answers = answers.map(|text| app.find_card(&business, &text)).transpose()?;
            let request = ChangeRequest { title, description, date, touchpoints: touchpoint, stages: stage, kpi, metric, owner, answers };
            let change = app.add_change(&business, request).map_err(with_flag_fields)?;
            let mut output = Output::new(&COLUMNS, rows(std::slice::from_ref(&change)), &change)?;
            if format == Format::Table {
                output = output.with_title(format!("Recorded change {} in {}", change.id, business.name));
            }
            output.print(format, out)
        }
        ChangeCommand::List => {
            let changes = app.changes(&business)?;
            let mut output = Output::new(&COLUMNS, rows(&changes), &changes)?;
            if format == Format::Table {
                output = output.with_title(format!("Changes in {} ({}, newest first)", business.name, changes.len()));
            }
            output.print(format, out)
        }
        ChangeCommand::Impact(args) => crate::commands::change_impact::run(app, &business, args, format, out),
    }
}
