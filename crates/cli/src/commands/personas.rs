//! `trailmap persona list|show|add|edit|remove|preview|suggest` (also spelt `personas`): persona
//! cards a business makes itself, each with a segment rule over its customers in the rule's text
//! form (`--rule "orders>=2 & first_channel=Referral"`), and the customers each covers.
//!
//! - `add NAME [--rule R] [--initials AB] [--photo FILE] [--demographic "Age: 25-34"]...
//!   [--goal T]... [--frustration T]... [--behaviour T]... [--quote Q]` creates a card.
//! - `edit ID|NAME` takes the same flags plus `--name`; a list flag given replaces that list, and
//!   `--clear FIELD` (rule, photo, initials, quote, goals, frustrations, behaviours,
//!   demographics) empties a field.
//! - `preview RULE [--persona ID|NAME]`: how many customers a rule matches and would cover.
//! - `suggest [--k N] [--seed S] [--create N]`: behaviour clusters described as personas; `--create`
//!   stores cluster N as a persona whose segment rule approximates it.
//!
//! Every command prints as a table, JSON or CSV; the app checks every field, and its errors name
//! the flag (a rule's give the character and the reason).

use crate::commands::clv::parse_date;
use crate::output::{Format, Output};
use anyhow::{Context, bail};
use std::io::{Read, Write};
use std::path::PathBuf;
use trailmap_app::personas::{PersonaBoard, PersonaCard, PersonaChanges, PersonaInput, SegmentPreview, parse_demographic};
use trailmap_app::{App, AppError};
use trailmap_model::Business;

#[derive(Debug, clap::Subcommand)]
pub enum PersonaCommand {
    /// Every persona with its rule, the customers it matches and the customers it covers.
    List,
    /// One persona's card (by id or name).
    Show { persona: String },
    /// Make a persona card.
    Add {
        name: String,
        #[command(flatten)]
        card: CardArgs,
    },
    /// Change a persona card (by id or name): the flags given replace those fields.
    Edit {
        persona: String,
        /// A new name.
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        card: CardArgs,
        /// Empty a field: rule, photo, initials, quote, goals, frustrations, behaviours or
        /// demographics; repeat for more.
        #[arg(long, value_name = "FIELD")]
        clear: Vec<String>,
    },
    /// Delete a persona (by id or name); refused while a map shows it.
    #[command(alias = "delete")]
    Remove { persona: String },
    /// Count the customers a segment rule matches, and those it would cover.
    Preview {
        rule: String,
        /// The persona the rule is for (it keeps its place); without it, a new persona's count.
        #[arg(long, value_name = "ID|NAME")]
        persona: Option<String>,
    },
    /// Cluster customers on behaviour (seeded k-means) and describe each cluster.
    Suggest {
        /// Number of clusters; default: the best silhouette over 2..6.
        #[arg(long)]
        k: Option<usize>,
        /// Seed of the clustering; the same seed gives the same clusters.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Store cluster N (as numbered in the output) as a persona.
        #[arg(long, value_name = "N")]
        create: Option<usize>,
        /// End of the data (YYYY-MM-DD, exclusive). Default: the day after the last event.
        #[arg(long, value_name = "DATE")]
        now: Option<String>,
    },
}

/// The card's fields as flags.
#[derive(Debug, Default, clap::Args)]
pub struct CardArgs {
    /// The segment rule, such as "orders>=2 & first_channel=Referral". Fields: orders, revenue,
    /// first_channel, first_source, days_since_last_order, property:KEY; operators = != > >= < <=
    /// contains starts_with exists; & joins conditions; a|b after = means any of them.
    #[arg(long, value_name = "RULE")]
    rule: Option<String>,
    /// Up to three letters or digits shown without a photo (default: the name's).
    #[arg(long)]
    initials: Option<String>,
    /// A PNG, JPEG or WebP file of at most 256 KiB.
    #[arg(long, value_name = "FILE")]
    photo: Option<PathBuf>,
    /// "Label: value", such as "Age: 25-34"; repeat for more.
    #[arg(long, value_name = "LABEL: VALUE")]
    demographic: Vec<String>,
    /// Repeat for more.
    #[arg(long, value_name = "TEXT")]
    goal: Vec<String>,
    /// Repeat for more.
    #[arg(long, value_name = "TEXT")]
    frustration: Vec<String>,
    /// Repeat for more.
    #[arg(long, value_name = "TEXT")]
    behaviour: Vec<String>,
    #[arg(long, value_name = "TEXT")]
    quote: Option<String>,
}

/// More than this is not read from a photo file: far over the limit the app states.
const PHOTO_READ_LIMIT: u64 = 8 * 1024 * 1024;

fn read_photo(path: &PathBuf) -> anyhow::Result<Vec<u8>> {
    let file = std::fs::File::open(path).with_context(|| format!("--photo {}: cannot open it", path.display()))?;
    let mut bytes = Vec::new();
    file.take(PHOTO_READ_LIMIT + 1).read_to_end(&mut bytes).with_context(|| format!("--photo {}: cannot read it", path.display()))?;
    if bytes.len() as u64 > PHOTO_READ_LIMIT {
        bail!("--photo {}: the file is over {} MiB; a photo may be up to 256 KiB", path.display(), PHOTO_READ_LIMIT / (1024 * 1024));
    }
    Ok(bytes)
}

fn demographics(lines: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    lines.iter().map(|line| parse_demographic(line).map_err(|e| anyhow::anyhow!("--demographic: {e}"))).collect()
}

/// The app names list fields by the card's names; the command line's flags are singular.
fn with_flag_fields(error: AppError) -> AppError {
    match error {
        AppError::InvalidField { field, value, reason } => {
            let field = match field.as_str() {
                "goals" => "goal".to_string(),
                "frustrations" => "frustration".to_string(),
                "behaviours" => "behaviour".to_string(),
                "demographics" => "demographic".to_string(),
                _ => field,
            };
            AppError::InvalidField { field, value, reason }
        }
        other => other,
    }
}

fn covered_elsewhere(card: &PersonaCard) -> String {
    card.counted_earlier.iter().map(|o| format!("{} for {}", o.n, o.name)).collect::<Vec<_>>().join(", ")
}

fn board_output(board: &PersonaBoard) -> anyhow::Result<Output> {
    let rows = board
        .personas
        .iter()
        .map(|c| {
            vec![
                c.id.to_string(),
                c.name.clone(),
                c.rule.clone().unwrap_or_else(|| "(none)".into()),
                c.matches.n.to_string(),
                c.covers.n.to_string(),
                covered_elsewhere(c),
            ]
        })
        .collect();
    Output::new(&["id", "name", "rule", "matches", "covers", "counted for earlier personas"], rows, board)
}

fn card_output(card: &PersonaCard, customers: usize) -> anyhow::Result<Output> {
    let joined = |items: &[String]| items.join("; ");
    let rows = vec![
        vec!["id".into(), card.id.to_string()],
        vec!["name".into(), card.name.clone()],
        vec!["initials".into(), format!("{}{}", card.initials, if card.initials_given { "" } else { " (from the name)" })],
        vec!["photo".into(), if card.has_photo { "yes" } else { "no" }.into()],
        vec!["demographics".into(), card.demographics.iter().map(|d| format!("{}: {}", d.label, d.value)).collect::<Vec<_>>().join("; ")],
        vec!["goals".into(), joined(&card.goals)],
        vec!["frustrations".into(), joined(&card.frustrations)],
        vec!["behaviours".into(), joined(&card.behaviours)],
        vec!["quote".into(), card.quote.clone().unwrap_or_default()],
        vec!["rule".into(), card.rule.clone().unwrap_or_else(|| "(none)".into())],
        vec!["rule in words".into(), card.rule_in_words.clone()],
        vec!["order".into(), card.rank.to_string()],
        vec!["matches".into(), format!("{} of {customers} customers", card.matches.n)],
        vec!["covers".into(), format!("{} of {customers} customers", card.covers.n)],
        vec!["counted for earlier personas".into(), covered_elsewhere(card)],
    ];
    Output::new(&["what", "value"], rows, card)
}

fn preview_output(preview: &SegmentPreview) -> anyhow::Result<Output> {
    let rows = vec![
        vec!["rule".into(), preview.rule.clone()],
        vec!["in words".into(), preview.rule_in_words.clone()],
        vec!["customers".into(), preview.customers.to_string()],
        vec!["matches".into(), preview.matches.n.to_string()],
        vec!["would cover".into(), preview.covers.n.to_string()],
        vec!["counted for earlier personas".into(), preview.counted_earlier.iter().map(|o| format!("{} for {}", o.n, o.name)).collect::<Vec<_>>().join(", ")],
    ];
    Output::new(&["what", "value"], rows, preview)
}

/// The card of `persona` on the board, printed.
fn print_card(app: &App, business: &Business, persona: trailmap_model::PersonaId, title: String, format: Format, out: &mut dyn Write) -> anyhow::Result<()> {
    let board = app.persona_board(business)?;
    let Some(card) = board.personas.iter().find(|c| c.id == persona) else { bail!("persona {persona} is gone") };
    let mut output = card_output(card, board.customers)?;
    if format == Format::Table {
        output = output.with_title(title);
    }
    output.print(format, out)
}

pub fn run(app: &mut App, business: Option<&str>, command: PersonaCommand, format: Format, out: &mut dyn Write) -> anyhow::Result<()> {
    let business = app.business(business)?;
    match command {
        PersonaCommand::List => {
            let board = app.persona_board(&business)?;
            let mut output = board_output(&board)?;
            if format == Format::Table {
                output = output.with_title(format!(
                    "Personas of {} ({} customers; {} covered by none). {}",
                    business.name, board.customers, board.unassigned.n, board.precedence
                ));
            }
            output.print(format, out)
        }
        PersonaCommand::Show { persona } => {
            let persona = app.find_persona(&business, &persona)?;
            print_card(app, &business, persona.id, format!("Persona {} of {}", persona.name, business.name), format, out)
        }
        PersonaCommand::Add { name, card } => {
            let input = PersonaInput {
                name,
                initials: card.initials,
                photo: card.photo.as_ref().map(read_photo).transpose()?,
                demographics: demographics(&card.demographic)?,
                goals: card.goal,
                frustrations: card.frustration,
                behaviours: card.behaviour,
                quote: card.quote,
                rule: card.rule,
            };
            let created = app.create_persona(&business, input).map_err(with_flag_fields)?;
            print_card(app, &business, created.id, format!("Created persona {} in {}", created.name, business.name), format, out)
        }
        PersonaCommand::Edit { persona, name, card, clear } => {
            let persona = app.find_persona(&business, &persona)?;
            let mut changes = PersonaChanges {
                name,
                initials: card.initials.map(Some),
                photo: card.photo.as_ref().map(read_photo).transpose()?.map(Some),
                demographics: (!card.demographic.is_empty()).then(|| demographics(&card.demographic)).transpose()?,
                goals: (!card.goal.is_empty()).then_some(card.goal),
                frustrations: (!card.frustration.is_empty()).then_some(card.frustration),
                behaviours: (!card.behaviour.is_empty()).then_some(card.behaviour),
                quote: card.quote.map(Some),
                rule: card.rule.map(Some),
            };
            for field in &clear {
                match field.trim().to_ascii_lowercase().as_str() {
                    "rule" => changes.rule = Some(None),
                    "photo" => changes.photo = Some(None),
                    "initials" => changes.initials = Some(None),
                    "quote" => changes.quote = Some(None),
                    "goals" => changes.goals = Some(Vec::new()),
                    "frustrations" => changes.frustrations = Some(Vec::new()),
                    "behaviours" => changes.behaviours = Some(Vec::new()),
                    "demographics" => changes.demographics = Some(Vec::new()),
                    other => bail!(
                        "--clear {other:?}: expected rule, photo, initials, quote, goals, frustrations, behaviours or demographics"
                    ),
                }
            }
            let saved = app.update_persona(&business, persona.id, changes).map_err(with_flag_fields)?;
            print_card(app, &business, saved.id, format!("Saved persona {} in {}", saved.name, business.name), format, out)
        }
        PersonaCommand::Remove { persona } => {
            let persona = app.find_persona(&business, &persona)?;
            app.delete_persona(&business, persona.id)?;
            let removed = serde_json::json!({ "removed": persona.id, "name": persona.name });
            let mut output = Output::new(&["removed", "name"], vec![vec![persona.id.to_string(), persona.name.clone()]], &removed)?;
            if format == Format::Table {
                output = output.with_title(format!("Removed persona {} from {}", persona.name, business.name));
            }
            output.print(format, out)
        }
        PersonaCommand::Preview { rule, persona } => {
            let editing = persona.map(|p| app.find_persona(&business, &p)).transpose()?.map(|p| p.id);
            let preview = app.preview_segment(&business, &rule, editing)?;
            let mut output = preview_output(&preview)?;
            if format == Format::Table {
                output = output.with_title(format!("The rule over the customers of {}. {}", business.name, preview.precedence));
            }
            output.print(format, out)
        }
        PersonaCommand::Suggest { k, seed, create, now } => suggest(app, &business, k, seed, create, now, format, out),
    }
}

#[allow(clippy::too_many_arguments)]
fn suggest(
    app: &mut App,
    business: &Business,
    k: Option<usize>,
    seed: u64,
    create: Option<usize>,
    now: Option<String>,
    format: Format,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let mut request = app.persona_request();
    request.k = k;
    request.seed = seed;
    request.now = now.as_deref().map(|d| parse_date("--now", d)).transpose()?;
    let report = app.suggest_personas(business, &request)?;
    let rows = report
        .clusters
        .iter()
        .map(|c| vec![c.cluster.to_string(), c.name.clone(), c.customers.to_string(), c.description.clone(), c.rule_text.clone()])
        .collect();
    let title = format!(
        "Suggested personas for {} ({} customers with an order, k = {} {}, seed {}; features: {})",
        report.business,
        report.customers,
        report.k,
        report.k_rule,
        report.seed,
        report.features.join(", ")
    );
    let mut output = Output::new(&["cluster", "name", "customers", "description", "rule"], rows, &report)?;
    if format == Format::Table {
        output = output.with_title(title);
    }
    output.print(format, out)?;
    if let Some(n) = create {
        let Some(cluster) = report.clusters.iter().find(|c| c.cluster == n) else {
            bail!("--create {n}: there is no cluster {n} (clusters are 1..={})", report.clusters.len());
        };
        let id = app.create_persona_from_suggestion(business, cluster)?;
        let name = app.persona(business, id)?.name;
        eprintln!("Created persona {name:?} (id {id}) with rule {}", cluster.rule_text);
    }
    Ok(())
}
