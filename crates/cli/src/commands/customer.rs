//! `trailmap customer export|erase EMAIL|ID`: one customer's data on their request. `export`
//! writes everything held about them as one JSON document (to `--output FILE` or stdout);
//! `erase` removes them everywhere, after `--yes` (a script must say it means it), and prints what
//! was removed; only the fact and the counts stay, with tombstones that refuse the person's
//! records if an old file is imported again. `erasures` lists the business's erasures.

use crate::output::{Format, Output};
use anyhow::Context;
use std::io::Write;
use std::path::PathBuf;
use trailmap_app::{App, ErasureSummary};

#[derive(Debug, clap::Subcommand)]
pub enum CustomerCommand {
    /// Everything held about one customer as one JSON document: identities, events, orders, survey answers, feedback, personas.
    Export {
        /// The customer's email, customer id (as the pages show it) or your own customer id.
        who: String,
        /// Write the document to this file instead of printing it.
        #[arg(long, short = 'o')]
        output: Option<PathBuf>,
    },
    /// Erase one customer everywhere (events, orders, answers, feedback, identities); their records are refused if imported again.
    Erase {
        /// The customer's email, customer id or your own customer id.
        who: String,
        /// Confirm the erasure: it cannot be undone.
        #[arg(long)]
        yes: bool,
    },
    /// The business's erasures: when, and how many records of each kind (never whose).
    Erasures,
}

pub fn run(app: &mut App, business: Option<&str>, command: CustomerCommand, format: Format, out: &mut dyn Write) -> anyhow::Result<()> {
    let business = app.business(business)?;
    let now = crate::commands::user::now();
    match command {
        CustomerCommand::Export { who, output } => {
            let customer = app.find_customer(&business, &who)?;
            let export = app.export_customer(&business, customer, now)?;
            let json = serde_json::to_string_pretty(&export)?;
            match output {
                Some(path) => {
                    std::fs::write(&path, json.as_bytes()).with_context(|| format!("cannot write {}", path.display()))?;
                    writeln!(
                        out,
                        "Wrote everything held about customer {} of {} to {}: {} identities, {} events, {} orders, {} survey answers, {} feedback.",
                        export.customer.id,
                        business.name,
                        path.display(),
                        export.identities.len(),
                        export.events.len(),
                        export.orders.len(),
                        export.survey_responses.len(),
                        export.feedback.len()
                    )?;
                }
                None => writeln!(out, "{json}")?,
            }
            Ok(())
        }
        CustomerCommand::Erase { who, yes } => {
            let customer = app.find_customer(&business, &who)?;
            if !yes {
                anyhow::bail!(
                    "erasing customer {customer} ({who}) of {} removes them everywhere and cannot be undone; run again with --yes",
                    business.name
                );
            }
            let summary = app.erase_customer(&business, customer, now)?;
            erasure_output(&[summary])?
                .with_title(format!("Erased customer {customer} ({who}) of {}; their records are refused if imported again.", business.name))
                .print(format, out)
        }
        CustomerCommand::Erasures => {
            let erasures = app.erasures(&business)?;
            erasure_output(&erasures)?.with_title(format!("Erasures of {} (n = {})", business.name, erasures.len())).print(format, out)
        }
    }
}

const COLUMNS: [&str; 7] = ["erased at", "customers", "identities", "events", "orders", "survey answers", "feedback"];

fn erasure_output(erasures: &[ErasureSummary]) -> anyhow::Result<Output> {
    let rows = erasures
        .iter()
        .map(|e| {
            vec![
                e.erased_at.to_rfc3339(),
                e.customers.to_string(),
                e.identities.to_string(),
                e.events.to_string(),
                e.orders.to_string(),
                e.survey_responses.to_string(),
                e.feedback.to_string(),
            ]
        })
        .collect();
    Output::new(&COLUMNS, rows, &erasures)
}
