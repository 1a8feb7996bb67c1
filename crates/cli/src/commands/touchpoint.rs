//! `trailmap touchpoint ...`: the touchpoints a business makes itself and those its data suggests.
//!
//! - `list`: every touchpoint in the business's order with its rule and its all-time events and
//!   customers;
//! - `add NAME --channel CHANNEL --rule RULE [--stage STAGE] [--description TEXT]`;
//! - `edit NAME [--name NEW] [--channel C] [--rule R] [--stage S|--no-stage] [--description D]`;
//! - `move NAME --position N` (1-based) puts it at that place in the order;
//! - `remove NAME` deletes it (off every map; refused while a change, survey or feedback records it);
//! - `preview RULE`: what a rule matches over the 30 days up to the last event, with examples;
//! - `suggest [--accept [KEY]...] [--dismiss KEY]...`: the touchpoints the data suggests; `--accept`
//!   alone accepts them all.
//!
//! NAME is a touchpoint's name (any case) or id. Every command prints as table, JSON or CSV. A
//! rule that does not read is refused with the flag, the rule with a caret under the place, and
//! the reason.

use crate::output::{Format, Output};
use anyhow::anyhow;
use std::io::Write;
use trailmap_app::touchpoint_edits::{TouchpointEdit, TouchpointRequest, TouchpointView};
use trailmap_app::{App, AppError};

#[derive(Debug, clap::Subcommand)]
pub enum TouchpointCommand {
    /// The touchpoints in the business's order, with their all-time events and customers.
    List,
    /// Make a touchpoint: `add "Checkout page" --channel web --rule 'page_view[page^=/checkout]' --stage Purchase`.
    Add {
        name: String,
        /// web, ads, social, email, in-store, phone, referral or other.
        #[arg(long)]
        channel: String,
        /// The rule over events: `purchase`, `a|b`, `page_view[page^=/checkout]`, `*[channel=Paid Social]`,
        /// `[utm_source=instagram][utm_medium=cpc]`, `*[referral_code]`, `*[offline_kind=till]`.
        #[arg(long)]
        rule: String,
        /// The stage it sits on (it is placed on the maps showing that stage).
        #[arg(long)]
        stage: Option<String>,
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Change a touchpoint's name, channel, rule, stage or description.
    Edit {
        /// The touchpoint (name or id).
        touchpoint: String,
        /// Its new name.
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        channel: Option<String>,
        #[arg(long)]
        rule: Option<String>,
        /// Its new stage (it moves on the maps with it).
        #[arg(long, conflicts_with = "no_stage")]
        stage: Option<String>,
        /// Take it off its stage.
        #[arg(long)]
        no_stage: bool,
        #[arg(long)]
        description: Option<String>,
    },
    /// Put a touchpoint at a place in the business's order: `move "Checkout page" --position 1`.
    Move {
        touchpoint: String,
        /// 1 is first.
        #[arg(long)]
        position: usize,
    },
    /// Delete a touchpoint (it is taken off every map).
    #[command(alias = "delete")]
    Remove { touchpoint: String },
    /// What a rule matches over the 30 days up to the business's last event, with examples.
    Preview { rule: String },
    /// Touchpoints suggested from the data, with their volumes; accept or dismiss them by key.
    Suggest {
        /// Accept these suggestions (by key); `--accept` alone accepts them all.
        #[arg(long, num_args = 0.., value_name = "KEY")]
        accept: Option<Vec<String>>,
        /// Dismiss a suggestion (by key) so it is not suggested again; repeat for more.
        #[arg(long, value_name = "KEY")]
        dismiss: Vec<String>,
    },
}

/// Who signs the maps' new versions: $USER, or "cli".
fn author() -> String {
    std::env::var("USER").ok().filter(|a| !a.trim().is_empty()).unwrap_or_else(|| "cli".into())
}

/// A rule error as the command line shows it: the flag, the rule with a caret under the place,
/// and the reason. Other errors pass unchanged (field errors get their flag in `main`).
fn shown(error: AppError, flag: &str) -> anyhow::Error {
    match error {
        AppError::InvalidRule { rule, error, .. } => {
            let caret = " ".repeat(error.offset);
            anyhow!("{flag} {rule:?}: at offset {}: {}\n  {rule}\n  {caret}^", error.offset, error.reason)
        }
        other => other.into(),
    }
}

const COLUMNS: [&str; 8] = ["position", "id", "name", "channel", "stage", "rule", "rule in words", "description"];

fn rows(touchpoints: &[TouchpointView]) -> Vec<Vec<String>> {
    touchpoints
        .iter()
        .map(|t| {
            vec![
                t.position.to_string(),
                t.id.to_string(),
                t.name.clone(),
                t.channel.clone(),
                t.stage.clone().unwrap_or_default(),
                t.rule.clone(),
                t.rule_in_words.clone(),
                t.description.clone(),
            ]
        })
        .collect()
}

pub fn run(app: &mut App, business: Option<&str>, command: TouchpointCommand, format: Format, out: &mut dyn Write) -> anyhow::Result<()> {
    let business = app.business(business)?;
    let titled = |output: Output, title: String| if format == Format::Table { output.with_title(title) } else { output };
    match command {
        TouchpointCommand::List => {
            let catalogue = app.touchpoint_catalogue(&business, None)?;
            let rows = catalogue
                .touchpoints
                .iter()
                .map(|t| {
                    vec![
                        t.position.to_string(),
                        t.touchpoint.to_string(),
                        t.name.clone(),
                        t.channel.clone(),
                        t.stage.clone().unwrap_or_default(),
                        t.rule_text.clone(),
                        t.events.to_string(),
                        t.customers.n.to_string(),
                    ]
                })
                .collect();
            let columns = ["position", "id", "name", "channel", "stage", "rule", "events", "customers (n)"];
            let title = format!("Touchpoints of {} ({}), with all-time events and customers", business.name, catalogue.touchpoints.len());
            titled(Output::new(&columns, rows, &catalogue)?, title).print(format, out)
        }
        TouchpointCommand::Add { name, channel, rule, stage, description } => {
            let request = TouchpointRequest { name, channel, rule, stage, description };
            let saved = app.create_touchpoint(&business, &request, &author()).map_err(|e| shown(e, "--rule"))?;
            let mut title = format!("Made touchpoint {} in {}", saved.touchpoint.name, business.name);
            if !saved.maps.is_empty() {
                title.push_str(&format!("; placed on its stage in {}", saved.maps.join(", ")));
            }
            titled(Output::new(&COLUMNS, rows(std::slice::from_ref(&saved.touchpoint)), &saved)?, title).print(format, out)
        }
        TouchpointCommand::Edit { touchpoint, name, channel, rule, stage, no_stage, description } => {
            let id = app.touchpoint_named(&business, &touchpoint)?;
            let stage = if no_stage { Some(String::new()) } else { stage };
            let edit = TouchpointEdit { name, channel, rule, stage, description, position: None };
            if edit == TouchpointEdit::default() {
                anyhow::bail!("nothing to change: give --name, --channel, --rule, --stage, --no-stage or --description");
            }
            let saved = app.edit_touchpoint(&business, id, &edit, &author()).map_err(|e| shown(e, "--rule"))?;
            let mut title = format!("Saved touchpoint {}", saved.touchpoint.name);
            if !saved.maps.is_empty() {
                title.push_str(&format!("; moved with its stage on {}", saved.maps.join(", ")));
            }
            if !saved.changes_renamed.is_empty() {
                title.push_str(&format!("; renamed in the metric of {}", saved.changes_renamed.join(", ")));
            }
            titled(Output::new(&COLUMNS, rows(std::slice::from_ref(&saved.touchpoint)), &saved)?, title).print(format, out)
        }
        TouchpointCommand::Move { touchpoint, position } => {
            let id = app.touchpoint_named(&business, &touchpoint)?;
            let touchpoints = app.move_touchpoint(&business, id, position)?;
            titled(Output::new(&COLUMNS, rows(&touchpoints), &touchpoints)?, format!("Touchpoints of {} in their new order", business.name))
                .print(format, out)
        }
        TouchpointCommand::Remove { touchpoint } => {
            let id = app.touchpoint_named(&business, &touchpoint)?;
            let deleted = app.delete_touchpoint(&business, id, &author())?;
            let rows = vec![vec![deleted.name.clone(), deleted.maps.join(", ")]];
            titled(Output::new(&["removed", "taken off maps"], rows, &deleted)?, format!("Removed touchpoint {}", deleted.name)).print(format, out)
        }
        TouchpointCommand::Preview { rule } => {
            let preview = app.preview_touchpoint_rule(&business, &rule).map_err(|e| shown(e, "RULE"))?;
            let rows: Vec<Vec<String>> = preview
                .examples
                .iter()
                .map(|e| {
                    let fields = e.fields.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ");
                    vec![e.time.to_rfc3339(), e.customer.to_string(), e.event.clone(), fields]
                })
                .collect();
            if format == Format::Table {
                writeln!(out, "{}", preview.summary)?;
                writeln!(out, "Rule: {} ({})", preview.rule, preview.rule_in_words)?;
                writeln!(out, "events: {}, customers (n): {}", preview.events, preview.customers.n)?;
                for note in &preview.notes {
                    writeln!(out, "{note}")?;
                }
                if rows.is_empty() {
                    return Ok(());
                }
            }
            titled(Output::new(&["time", "customer", "event", "fields"], rows, &preview)?, "Newest matching events".into()).print(format, out)
        }
        TouchpointCommand::Suggest { accept, dismiss } => {
            if accept.is_some() || !dismiss.is_empty() {
                let accept = accept.unwrap_or_default();
                let all = accept.is_empty() && dismiss.is_empty();
                let made = if all {
                    app.accept_touchpoint_suggestions(&business, &[], &author())?
                } else if accept.is_empty() {
                    app.choose_touchpoint_suggestions(&business, &[], &dismiss, &author())?
                } else {
                    app.choose_touchpoint_suggestions(&business, &accept, &dismiss, &author())?
                };
                let title = format!(
                    "Accepted {} suggestion{}{}",
                    made.len(),
                    if made.len() == 1 { "" } else { "s" },
                    if dismiss.is_empty() { String::new() } else { format!("; dismissed {}", dismiss.join(", ")) }
                );
                return titled(Output::new(&COLUMNS, rows(&made), &made)?, title).print(format, out);
            }
            let found = app.touchpoint_suggestions(&business)?;
            let rows = found
                .suggestions
                .iter()
                .map(|s| {
                    vec![
                        s.key.clone(),
                        s.name.clone(),
                        s.channel.clone(),
                        s.stage.clone().unwrap_or_default(),
                        s.rule.clone(),
                        s.volume_in_words(),
                        s.customers.n.to_string(),
                    ]
                })
                .collect();
            let title = format!(
                "Touchpoints suggested from {}'s {} events ({} dismissed before); accept with --accept KEY, or --accept alone for all",
                business.name, found.events, found.dismissed
            );
            titled(Output::new(&["key", "name", "channel", "stage", "rule", "volume", "customers (n)"], rows, &found)?, title).print(format, out)
        }
    }
}
