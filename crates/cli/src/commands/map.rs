//! `trailmap map`: list a business's journey maps, show one with its live numbers, export it (SVG,
//! PNG, PDF, JSON or Mermaid), import an exported JSON document, list its versions, compare two
//! versions, and start a map from a template.
//!
//! The file format of `map export` is the global `--format`, which for this command also takes
//! svg, png, pdf and mermaid; `--type` says the same and wins. Otherwise the extension of `-o`
//! decides, else JSON, so `--format json` keeps its meaning of machine output: `map export ID -o
//! map.png --format json` writes a PNG and prints what it wrote as JSON.

use crate::commands::clv::parse_date;
use crate::output::{Format, Output};
use anyhow::{Context, bail};
use std::io::Write;
use std::path::PathBuf;
use trailmap_app::{App, MapExportFormat, MapNumbers, MapNumbersRequest, MapTemplate};
use trailmap_model::{Business, MapId, Timestamp};

#[derive(Debug, clap::Subcommand)]
pub enum MapCommand {
    /// The business's maps, with their owner, review date and whether they are past it.
    List {
        /// The day staleness is judged on (YYYY-MM-DD). Default: today.
        #[arg(long, value_name = "DATE")]
        today: Option<String>,
    },
    /// One map, stage by stage, with its live numbers.
    Show {
        id: i64,
        #[command(flatten)]
        numbers: NumbersArgs,
    },
    /// Write a map as SVG, PNG, PDF (drawn as on the page), JSON (imports back) or Mermaid text.
    Export {
        id: i64,
        /// svg, png, pdf, json or mermaid, as --format also says. Default: from the extension of
        /// -o, else json.
        #[arg(long = "type", visible_alias = "as", value_name = "TYPE")]
        file_type: Option<String>,
        /// The file to write; default: standard output.
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<PathBuf>,
        /// Draw the live numbers under each stage (SVG, PNG, PDF).
        #[arg(long)]
        numbers: bool,
        #[command(flatten)]
        numbers_args: NumbersArgs,
    },
    /// Import a map exported as JSON (here or from another business) as a new map.
    Import {
        file: PathBuf,
        /// Who the first version is recorded by. Default: $USER.
        #[arg(long)]
        author: Option<String>,
    },
    /// Every version of a map, with its author and time.
    Versions { id: i64 },
    /// Cards: `map card add MAP --stage S --lane L --text T`, `edit MAP CARD --text T`,
    /// `move MAP CARD [--stage S] [--lane L] [--position N]`, `action MAP CARD --owner O [--due D] [--done]`, `remove MAP CARD`.
    #[command(subcommand)]
    Card(crate::commands::map_cards::CardCommand),
    /// The evidence a card cites: `map evidence add|remove MAP CARD EVIDENCE`.
    #[command(subcommand)]
    Evidence(crate::commands::map_cards::EvidenceCommand),
    /// Read-only share links: `map share create MAP [--password-stdin] [--expires DATE]`, `list MAP`, `revoke MAP HASH|TOKEN`.
    #[command(subcommand)]
    Share(crate::commands::map_cards::ShareCommand),
    /// What changed between two versions of a map.
    Diff { id: i64, from: u32, to: u32 },
    /// Without a template, list the templates; with one, create a map from it.
    Template {
        /// coffee-shop, web-shop, services or blank.
        template: Option<String>,
        /// The new map's name. Default: the template's.
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        author: Option<String>,
    },
}

/// What the live numbers are computed over.
#[derive(Debug, Clone, clap::Args)]
pub struct NumbersArgs {
    /// Start of the period (YYYY-MM-DD, inclusive).
    #[arg(long = "from", value_name = "DATE")]
    from: Option<String>,
    /// End of the period (YYYY-MM-DD, exclusive).
    #[arg(long = "to", value_name = "DATE")]
    to: Option<String>,
    /// Only the customers of this persona (by name).
    #[arg(long)]
    persona: Option<String>,
    /// Days after a stage's event within which the next stage counts as conversion.
    #[arg(long, default_value_t = 30)]
    window_days: i64,
}

fn author(given: Option<String>) -> String {
    given.or_else(|| std::env::var("USER").ok()).filter(|a| !a.trim().is_empty()).unwrap_or_else(|| "cli".into())
}

fn numbers_request(app: &App, business: &Business, args: &NumbersArgs) -> anyhow::Result<MapNumbersRequest> {
    let day = |flag: &str, text: &Option<String>| -> anyhow::Result<Option<Timestamp>> {
        text.as_deref().map(|d| parse_date(flag, d)).transpose()
    };
    let period = match (day("--from", &args.from)?, day("--to", &args.to)?) {
        (Some(from), Some(to)) => Some((from, to)),
        (None, None) => None,
        _ => bail!("--from and --to go together: give both or neither"),
    };
    let persona = match &args.persona {
        Some(name) => Some(app.persona_by_name(business, name).context("--persona")?),
        None => None,
    };
    if args.window_days <= 0 {
        bail!("--window-days must be at least 1");
    }
    Ok(MapNumbersRequest { period, persona, window_ms: args.window_days * Timestamp::MS_PER_DAY })
}

/// Runs one map command; `map_file` is the file format the global `--format` named, if any.
pub fn run(
    app: &mut App,
    business: Option<&str>,
    command: MapCommand,
    format: Format,
    map_file: Option<MapExportFormat>,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    match command {
        MapCommand::Card(command) => return crate::commands::map_cards::run_card(app, business, command, format, out),
        MapCommand::Evidence(command) => return crate::commands::map_cards::run_evidence(app, business, command, format, out),
        MapCommand::Share(command) => return crate::commands::map_cards::run_share(app, business, command, format, out),
        _ => {}
    }
    let business = app.business(business)?;
    match command {
        MapCommand::Card(_) | MapCommand::Evidence(_) | MapCommand::Share(_) => unreachable!("handled above"),
        MapCommand::List { today } => {
            let today = match today {
                Some(d) => parse_date("--today", &d)?.date(),
                None => crate::commands::user::now().date(),
            };
            let maps = app.journey_maps(&business, today)?;
            let rows = maps
                .iter()
                .map(|m| {
                    vec![
                        m.id.to_string(),
                        m.name.clone(),
                        if m.kind == trailmap_model::MapVersionKind::AsIs { "as is".into() } else { "to be".into() },
                        m.owner.clone().unwrap_or_default(),
                        m.review_date.map(|d| d.to_string()).unwrap_or_default(),
                        if m.stale { "STALE".into() } else { String::new() },
                        m.stages.to_string(),
                        format!("{} ({} assumptions)", m.cards, m.assumptions),
                        format!("{} by {}", m.version, m.updated_by),
                    ]
                })
                .collect();
            let columns = ["id", "name", "kind", "owner", "review by", "stale", "stages", "cards", "version"];
            let mut output = Output::new(&columns, rows, &maps)?;
            if format == Format::Table {
                output = output.with_title(format!("Journey maps of {} (staleness on {today})", business.name));
            }
            output.print(format, out)
        }
        MapCommand::Show { id, numbers } => {
            let request = numbers_request(app, &business, &numbers)?;
            let version = app.journey_map(&business, MapId(id))?;
            let numbers = app.map_numbers(&business, MapId(id), &request)?;
            show(&version.map, &numbers, format, out)
        }
        MapCommand::Export { id, file_type, output, numbers, numbers_args } => {
            let file_format = match (&file_type, map_file, &output) {
                (Some(f), _, _) => MapExportFormat::parse(f)?,
                (None, Some(named), _) => named,
                (None, None, Some(path)) => match path.extension().and_then(|e| e.to_str()) {
                    Some(ext) => MapExportFormat::parse(ext).context("-o: name the file's format with --format")?,
                    None => MapExportFormat::Json,
                },
                (None, None, None) => MapExportFormat::Json,
            };
            let live = if numbers {
                let request = numbers_request(app, &business, &numbers_args)?;
                Some(app.map_numbers(&business, MapId(id), &request)?)
            } else {
                None
            };
            let bytes = app.export_map(&business, MapId(id), file_format, live.as_ref())?;
            match output {
                Some(path) => {
                    std::fs::write(&path, &bytes).with_context(|| format!("writing {}", path.display()))?;
                    let written = serde_json::json!({
                        "map": id,
                        "file": path.display().to_string(),
                        "type": file_format.extension(),
                        "media_type": file_format.media_type(),
                        "bytes": bytes.len(),
                    });
                    if format == Format::Table {
                        eprintln!("Wrote {} ({} bytes, {})", path.display(), bytes.len(), file_format.media_type());
                    } else {
                        Output::key_values(&written)?.print(format, out)?;
                    }
                }
                None => out.write_all(&bytes)?,
            }
            Ok(())
        }
        MapCommand::Import { file, author: who } => {
            let json = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
            let imported = app.import_map_json(&business, &json, &author(who)).with_context(|| format!("importing {}", file.display()))?;
            for name in &imported.dropped {
                eprintln!("warning: {} has no {name}; it was left out", business.name);
            }
            for note in &imported.touchpoints_kept {
                eprintln!("note: {note}");
            }
            let rows = vec![
                vec!["id".into(), imported.id.to_string()],
                vec!["name".into(), imported.map.name.clone()],
                vec!["stages".into(), imported.map.stages.len().to_string()],
                vec!["cards".into(), imported.map.cards().count().to_string()],
                vec!["touchpoints created".into(), imported.touchpoints_created.join(", ")],
                vec!["left out".into(), imported.dropped.join(", ")],
            ];
            let mut output = Output::new(&["what", "value"], rows, &imported.map)?;
            if format == Format::Table {
                output = output.with_title(format!("Imported {} into {}", file.display(), business.name));
            }
            output.print(format, out)
        }
        MapCommand::Versions { id } => {
            let versions = app.map_versions(&business, MapId(id))?;
            let rows = versions.iter().map(|v| vec![v.version.to_string(), v.author.clone(), v.created_at.to_rfc3339()]).collect();
            Output::new(&["version", "author", "saved at"], rows, &versions)?.print(format, out)
        }
        MapCommand::Diff { id, from, to } => {
            let diff = app.diff_map_versions(&business, MapId(id), from, to)?;
            let rows = diff.changes.iter().map(|c| vec![c.describe()]).collect();
            let mut output = Output::new(&["change"], rows, &diff)?;
            if format == Format::Table {
                output = output.with_title(format!("Map {id}: version {from} → {to}, {} change(s)", diff.changes.len()));
            }
            output.print(format, out)
        }
        MapCommand::Template { template: None, .. } => {
            let rows = MapTemplate::ALL.iter().map(|t| vec![t.as_str().to_string(), t.description().to_string()]).collect();
            let json: Vec<serde_json::Value> =
                MapTemplate::ALL.iter().map(|t| serde_json::json!({ "template": t.as_str(), "description": t.description() })).collect();
            Output::new(&["template", "description"], rows, &json)?.print(format, out)
        }
        MapCommand::Template { template: Some(template), name, author: who } => {
            let template = MapTemplate::parse(&template)?;
            let name = name.unwrap_or_else(|| template.description().split(':').next().unwrap_or("Journey map").to_string());
            let map = app.create_map(&business, &name, template, &author(who))?;
            let rows = vec![vec!["id".into(), map.id.to_string()], vec!["name".into(), map.name.clone()], vec!["stages".into(), map.stages.len().to_string()]];
            Output::new(&["what", "value"], rows, &map)?.with_title("Created").print(format, out)
        }
    }
}

/// One row per stage: its cards and its numbers, each with its n.
fn show(map: &trailmap_model::JourneyMap, numbers: &MapNumbers, format: Format, out: &mut dyn Write) -> anyhow::Result<()> {
    let rows = map
        .stages
        .iter()
        .map(|stage| {
            let n = numbers.stages.iter().find(|s| s.stage == stage.id);
            let measured = n.is_some_and(|s| s.measured);
            let cell = |text: String| if measured { text } else { "not measured".to_string() };
            vec![
                stage.id.to_string(),
                stage.name.clone(),
                trailmap_model::Lane::ALL.iter().map(|l| stage.lane(*l).len()).sum::<usize>().to_string(),
                stage.emotions.iter().map(|e| format!("{:+.1}", e.score)).collect::<Vec<_>>().join(" "),
                cell(n.map(|s| s.reach.n.to_string()).unwrap_or_default()),
                cell(n.map(|s| s.entered_here.n.to_string()).unwrap_or_default()),
                cell(
                    n.and_then(|s| s.to_next.as_ref())
                        .map(|c| {
                            let back = if c.already_past.n > 0 { format!("; {} came back from a later stage, not in n", c.already_past.n) } else { String::new() };
                            format!("{:.1}% of {} ({} to the next, {} skipped it{back})", c.rate * 100.0, c.n, c.to_next_stage.n, c.skipped.n)
                        })
                        .unwrap_or_default(),
                ),
                cell(n.and_then(|s| s.to_next.as_ref()).map(|c| c.dropped.n.to_string()).unwrap_or_default()),
                cell(n.map(|s| format!("{} ({} orders)", s.revenue.shown, s.revenue.orders)).unwrap_or_default()),
            ]
        })
        .collect();
    let json = serde_json::json!({ "map": map, "numbers": numbers });
    let columns = ["stage", "name", "cards", "emotions", "reach (n)", "new here", "went on (to a later stage)", "dropped", "revenue"];
    let mut output = Output::new(&columns, rows, &json)?;
    if format == Format::Table {
        let persona = numbers.persona.as_deref().map(|p| format!(", persona {p}")).unwrap_or_default();
        let period = numbers.period.map(|(f, t)| format!("{} to {}", f.date(), t.date())).unwrap_or_else(|| "all time".into());
        output = output.with_title(format!("{} ({period}{persona})", map.name));
    }
    output.print(format, out)?;
    if format == Format::Table {
        let unplaced = &numbers.unplaced_revenue;
        if unplaced.orders > 0 {
            writeln!(out, "Before any stage: {} ({} orders by {} customers placed before they reached a stage).", unplaced.shown, unplaced.orders, unplaced.buyers.n)?;
        }
        for d in &numbers.definitions {
            writeln!(out, "{}: {}", d.label, d.text)?;
        }
    }
    Ok(())
}
