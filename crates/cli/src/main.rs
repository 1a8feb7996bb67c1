//! The `trailmap` command. It parses arguments, calls the app, and prints results; everything
//! else lives in the library crates.

// Imports hand records from a reading thread to a writing one; glibc's allocator is slow to free
// memory on another thread than the one that allocated it, mimalloc is not.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod commands;
mod output;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use output::{Format, Output};
use std::io::Write;
use trailmap_app::{App, AppError, DemoOptions, MapExportFormat, RecordKind, StoreLocation};
use trailmap_model::DecimalMark;

/// Self-hosted customer-journey mapping and analytics for small businesses.
#[derive(Debug, Parser)]
#[command(name = "trailmap", version, about)]
struct Cli {
    /// The store: a SQLite file, or a PostgreSQL database as postgres://USER:PASSWORD@HOST:PORT/DB.
    /// Default: $XDG_DATA_HOME/trailmap/trailmap.sqlite (~/.local/share/...).
    #[arg(long, global = true, env = "TRAILMAP_DB", value_name = "PATH|URL")]
    db: Option<String>,
    /// Keep the businesses' events in ClickHouse instead of the store (everything else stays in
    /// --db): clickhouse://[USER[:PASSWORD]@]HOST:PORT[,HOST:PORT...]/DB[?cluster=NAME], every
    /// shard's HTTP port listed. See docs/clickhouse.md.
    #[arg(long, global = true, env = "TRAILMAP_EVENTS", value_name = "URL")]
    events: Option<String>,
    /// The business to work on, by name. Default: the one chosen with `business use`, else the store's first.
    #[arg(long, global = true, env = "TRAILMAP_BUSINESS", value_name = "NAME")]
    business: Option<String>,
    /// How to print results: table, json or csv. `map export` also takes svg, png, pdf or mermaid
    /// as the format of the file it writes.
    #[arg(long, global = true, value_enum, default_value = "table")]
    format: CliFormat,
    #[command(subcommand)]
    command: Command,
}

/// The values of the global `--format`: how to print, and for `map export` the file's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum CliFormat {
    Table,
    Json,
    Csv,
    Svg,
    Png,
    Pdf,
    Mermaid,
}

impl CliFormat {
    /// How results are printed, and the map file format it names when it names one that only
    /// `map export` writes. json stays machine output: the file's format then comes from `-o`'s
    /// extension, and is JSON without one.
    fn split(self) -> (Format, Option<MapExportFormat>) {
        match self {
            CliFormat::Table => (Format::Table, None),
            CliFormat::Json => (Format::Json, None),
            CliFormat::Csv => (Format::Csv, None),
            CliFormat::Svg => (Format::Table, Some(MapExportFormat::Svg)),
            CliFormat::Png => (Format::Table, Some(MapExportFormat::Png)),
            CliFormat::Pdf => (Format::Table, Some(MapExportFormat::Pdf)),
            CliFormat::Mermaid => (Format::Table, Some(MapExportFormat::Mermaid)),
        }
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Fill the store with the example businesses (a coffee shop and an online boutique).
    Demo {
        /// Customers to generate across both businesses.
        #[arg(long, default_value_t = 5_000)]
        customers: u64,
        /// Seed of the generator; the same seed gives the same data.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Only generate and summarise the demo; do not start the web app.
        #[arg(long)]
        no_serve: bool,
        /// Where the web app listens (the same settings as `trailmap serve`).
        #[command(flatten)]
        serve: commands::serve::ServeArgs,
    },
    /// Import events, customers, orders, spend or feedback from a CSV, NDJSON or Parquet file
    /// (--dry-run: show how it would be read, import nothing).
    Import(commands::import::ImportArgs),
    /// List the fields an import of KIND reads and the column names it recognises.
    Fields {
        #[arg(value_parser = parse_kind)]
        kind: RecordKind,
    },
    /// Businesses in this store.
    #[command(subcommand)]
    Business(BusinessCommand),
    /// What the store holds for a business (all businesses with --all).
    Summary {
        #[arg(long)]
        all: bool,
    },
    /// The key numbers over a period against the one before, each with its sample size, and new customers by first channel.
    Dashboard(commands::dashboard::DashboardArgs),
    // analysis commands: engine (funnel, paths, retention)
    /// Customers going through steps in a window: conversion, drop-off, time per step, by breakdown or period.
    Funnel(commands::funnel::FunnelArgs),
    /// What customers do step by step (Sankey edges), or the most common whole paths.
    Paths(commands::paths::PathsArgs),
    /// Buyers coming back: cohorts by first purchase, repeat rate, time between purchases.
    Retention(commands::retention::RetentionArgs),
    // analysis commands: attribution
    /// Which channels earn the conversions and revenue, under eight attribution models, with spend, CPA and ROAS.
    Attribution(commands::attribution::AttributionArgs),
    // analysis commands: value (clv, segments, personas)
    /// Customer lifetime value (historical and predicted) by channel, touchpoint or cohort.
    Clv(commands::clv::ClvArgs),
    /// RFM scores and segments (champions, loyal, promising, needs attention, at risk, hibernating, lost).
    Segments(commands::segments::SegmentsArgs),
    /// Persona cards with segment rules over customers (list, show, add, edit, remove, preview a
    /// rule's count) and personas suggested from behaviour clusters.
    #[command(subcommand, alias = "personas")]
    Persona(commands::personas::PersonaCommand),
    /// Survey scores: `survey results [ID] [--by touchpoint|stage|persona|period]` (NPS, CSAT, CES with 95% intervals).
    #[command(subcommand)]
    Survey(commands::survey::SurveyCommand),
    /// Feedback texts: `feedback themes [--touchpoint X|--stage X]`, `feedback sentiment [--limit N]` (VADER).
    #[command(subcommand)]
    Feedback(commands::feedback::FeedbackCommand),
    // tracking: the Segment-compatible API and its write keys
    /// Run the Segment-compatible tracking API (POST /v1/batch, /v1/track, ...) until Ctrl-C.
    Serve(commands::serve::ServeArgs),
    /// Write keys of the tracking API (`source create NAME` prints a new one).
    #[command(subcommand, alias = "writekey")]
    Source(commands::source::SourceCommand),
    /// Record touchpoints by hand: `track offline --email E --touchpoint phone [--at TIME]`.
    #[command(subcommand)]
    Track(commands::track::TrackCommand),
    /// One customer's data on their request: `customer export EMAIL|ID [-o FILE]`, `customer erase EMAIL|ID --yes`, `customer erasures`.
    #[command(subcommand)]
    Customer(commands::customer::CustomerCommand),
    /// Accounts of the web app: `user create --email E --name N --password-stdin`, `user list`.
    #[command(subcommand)]
    User(commands::user::UserCommand),
    /// The action board: `actions list [--status open|done|overdue] [--owner O] [--map M] [--sort due|status|owner|map]`.
    #[command(subcommand)]
    Actions(commands::actions::ActionsCommand),
    /// Journey maps: `map list|show|export|import|versions|diff|template`, `map card|evidence|share ...`.
    #[command(subcommand)]
    Map(commands::map::MapCommand),
    /// Touchpoints: `touchpoint list|add|edit|move|remove|preview|suggest [--accept [KEY]...]`.
    #[command(subcommand)]
    Touchpoint(commands::touchpoint::TouchpointCommand),
    /// The change log: `change add --title T --date YYYY-MM-DD [--metric FORM] ...`, `change list`.
    #[command(subcommand)]
    Change(commands::change::ChangeCommand),
    /// Store every business's events in customer order (only --business's when given), so analyses start faster.
    Compact,
    /// Move this SQLite store into an empty PostgreSQL database: `--db FILE migrate-store --to postgres://USER:PASSWORD@HOST/DB` (every table with its ids, in one transaction).
    MigrateStore {
        /// The PostgreSQL database to copy into (it must hold no business and no user yet).
        #[arg(long, value_name = "URL")]
        to: String,
    },
    /// Findings ranked by value at stake: drop-off, channels, satisfaction, churn risk, stale maps (`insights [--period FROM..TO] [--limit N]`).
    Insights(commands::insights::InsightsArgs),
    /// The research library: `research list [--tag T] [--kind K] [--persona P] ...`, `research tag ID --add T`, `research cite MAP CARD ID...`.
    #[command(subcommand)]
    Research(commands::research::ResearchCommand),
    /// The report of a business for a period as PDF or HTML (-o FILE.pdf|FILE.html), or its data with --format json.
    Report(commands::report::ReportArgs),
    /// Scheduled digests by e-mail: `digest list|add --cadence weekly|monthly --to EMAIL|remove ID|send ID`.
    #[command(subcommand)]
    Digest(commands::digest::DigestCommand),
    /// Alert rules on a KPI: `alert list|add --kpi K --when significant|below:X --to EMAIL|URL|remove ID|test ID|fired`.
    #[command(subcommand)]
    Alert(commands::alert::AlertCommand),
    /// One pass of what the server does in the background: queue the digests and alerts due now, send what is due.
    Deliver(commands::digest::DeliverArgs),
    /// The agency's name and logo on reports and digests (white label): `agency --name N [--logo FILE.png]`.
    Agency(commands::digest::AgencyArgs),
}

#[derive(Debug, Subcommand)]
enum BusinessCommand {
    /// List the businesses; `default` marks the one commands use when none is named.
    List,
    /// Make NAME the business every command uses when --business (or TRAILMAP_BUSINESS) names none.
    Use { name: String },
    /// Create a business.
    Create {
        name: String,
        #[arg(long, default_value = "USD")]
        currency: String,
        #[arg(long, default_value = "UTC")]
        timezone: String,
        /// How the business's files write decimals: point (1,234.56) or comma (1.234,56).
        #[arg(long, value_parser = parse_decimal_mark)]
        decimal: Option<DecimalMark>,
    },
    /// Change a setting of the business (--business, or the default one).
    Set {
        /// How the business's files write decimals: point, comma, or none (refuse every number
        /// whose reading depends on it).
        #[arg(long, value_name = "point|comma|none")]
        decimal: Option<String>,
        /// How long raw events are kept, in whole days or weeks (400d, 57w), or off to keep them
        /// for ever. Older events are removed every hour by the server, or now by `business expire`.
        #[arg(long, value_name = "DAYS|off")]
        retention: Option<String>,
    },
    /// Remove the raw events older than each business's retention now (orders, answers and feedback stay).
    Expire,
}

use commands::import::{parse_decimal_mark, parse_kind};

fn parse_optional_decimal_mark(text: &str) -> Result<Option<DecimalMark>, String> {
    if text.trim().eq_ignore_ascii_case("none") { Ok(None) } else { parse_decimal_mark(text).map(Some) }
}

/// A retention: `off` (keep for ever) or whole days (`400`, `400d`, `57w`).
fn parse_retention(text: &str) -> Result<Option<u32>, String> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    let with_unit = if text.bytes().all(|b| b.is_ascii_digit()) { format!("{text}d") } else { text.to_string() };
    let ms = trailmap_app::query::parse_duration(&with_unit)?;
    let day = trailmap_model::Timestamp::MS_PER_DAY;
    if ms % day != 0 {
        return Err(format!("{text:?}: a retention is whole days (400d) or weeks (57w), or off"));
    }
    u32::try_from(ms / day).map(Some).map_err(|_| format!("{text:?} is too long"))
}

fn main() {
    let cli = Cli::parse();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if let Err(error) = run(cli, &mut out) {
        let _ = out.flush();
        let error = commands::feedback::with_flag_names(error);
        eprintln!("error: {error:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli, out: &mut dyn Write) -> anyhow::Result<()> {
    let location = match &cli.db {
        Some(text) => StoreLocation::parse(text).map_err(AppError::from).context("--db")?,
        None => StoreLocation::Sqlite(trailmap_app::default_db_path()),
    };
    let location = location.with_events(cli.events.as_deref()).map_err(AppError::from).context("--events")?;
    if let Command::MigrateStore { to } = &cli.command {
        // Not through an opened app: opening makes a default business, and the source is only read.
        let (format, _) = cli.format.split();
        return commands::migrate_store::run(&location, to, format, out);
    }
    // The app's errors of opening name the store (without a password).
    let mut app = App::open_at(&location)?;
    let (format, map_file) = cli.format.split();
    let exporting = matches!(cli.command, Command::Map(commands::map::MapCommand::Export { .. }));
    if !exporting && map_file.is_some() {
        bail!("--format {}: only `map export` writes that format; choose table, json or csv", format!("{:?}", cli.format).to_lowercase());
    }
    match cli.command {
        Command::Demo { customers, seed, no_serve, serve } => {
            demo(&mut app, customers, seed, format, out)?;
            if no_serve {
                return Ok(());
            }
            let login = app.demo_login(commands::user::now())?;
            out.flush()?;
            let banner = format!("Sign in as {} with the password {}", login.email, login.password);
            commands::serve::run_with_banner(app, serve, Some(banner))
        }
        Command::Import(args) => commands::import::run(&mut app, cli.business.as_deref(), args, format, out),
        Command::Fields { kind } => {
            let specs = trailmap_ingest::fields(kind);
            let rows = specs
                .iter()
                .map(|f| {
                    vec![f.name.to_string(), if f.required { "yes" } else { "" }.to_string(), f.text.limit_text(), f.aliases.join(", ")]
                })
                .collect();
            let json: Vec<serde_json::Value> = specs
                .iter()
                .map(|f| {
                    serde_json::json!({ "field": f.name, "required": f.required, "max_bytes": f.text.max_bytes, "columns": f.aliases })
                })
                .collect();
            Output::new(&["field", "required", "longest", "columns recognised"], rows, &json)?.print(format, out)
        }
        Command::Business(BusinessCommand::List) => {
            let businesses = app.businesses()?;
            let default = app.business(None)?.id;
            let rows = businesses
                .iter()
                .map(|b| {
                    let mark = if b.id == default { "yes" } else { "" };
                    vec![b.id.to_string(), b.name.clone(), b.currency.to_string(), b.timezone.clone(), mark.to_string()]
                })
                .collect();
            let json: Vec<serde_json::Value> = businesses
                .iter()
                .map(|b| serde_json::json!({"id": b.id, "name": b.name, "currency": b.currency, "timezone": b.timezone, "default": b.id == default}))
                .collect();
            Output::new(&["id", "name", "currency", "timezone", "default"], rows, &json)?.print(format, out)
        }
        Command::Business(BusinessCommand::Use { name }) => {
            let business = app.use_business(&name)?;
            Output::key_values(&business)?
                .with_title(format!("{} is the default business from now on (--business or TRAILMAP_BUSINESS still pick another).", business.name))
                .print(format, out)
        }
        Command::Business(BusinessCommand::Create { name, currency, timezone, decimal }) => {
            let mut business = app.create_business(&name, &currency, &timezone)?;
            if decimal.is_some() {
                business = app.set_decimal_mark(business.id, decimal)?;
            }
            Output::key_values(&business)?.with_title("Created").print(format, out)
        }
        Command::Business(BusinessCommand::Set { decimal, retention }) => {
            let mut business = app.business(cli.business.as_deref())?;
            if let Some(decimal) = decimal {
                let mark = parse_optional_decimal_mark(&decimal).map_err(|e| anyhow::anyhow!("--decimal: {e}"))?;
                business = app.set_decimal_mark(business.id, mark)?;
            }
            if let Some(retention) = retention {
                let days = parse_retention(&retention).map_err(|e| anyhow::anyhow!("--retention: {e}"))?;
                app.set_event_retention(&business, days)?;
            }
            let mut shown = serde_json::to_value(&business)?;
            shown["event_retention_days"] = serde_json::json!(app.event_retention(&business)?);
            Output::key_values(&shown)?.with_title("Updated").print(format, out)
        }
        Command::Business(BusinessCommand::Expire) => {
            let done = app.expire_all_events(commands::user::now())?;
            let rows = done
                .iter()
                .map(|(b, e)| vec![b.name.clone(), e.before.to_rfc3339(), e.events.to_string(), e.segments_deleted.to_string(), e.segments_rewritten.to_string(), e.bytes_freed.to_string()])
                .collect();
            let json: Vec<_> = done.iter().map(|(b, e)| serde_json::json!({ "business": b.name, "expiry": e })).collect();
            Output::new(&["business", "before", "events removed", "segments deleted", "segments rewritten", "bytes freed"], rows, &json)?
                .with_title(format!("Expired raw events of {} business(es) with a retention", done.len()))
                .print(format, out)
        }
        Command::Summary { all } => {
            let businesses = if all { app.businesses()? } else { vec![app.business(cli.business.as_deref())?] };
            let summaries = businesses.iter().map(|b| app.summary(b)).collect::<Result<Vec<_>, _>>()?;
            summaries_output(&summaries)?.print(format, out)
        }
        Command::Dashboard(args) => {
            let business = app.business(cli.business.as_deref())?;
            commands::dashboard::run(&app, &business, args)?.print(format, out)
        }
        // dispatch: engine (funnel, paths, retention)
        Command::Funnel(args) => {
            let business = app.business(cli.business.as_deref())?;
            commands::funnel::run(&mut app, &business, args)?.print(format, out)
        }
        Command::Paths(args) => {
            let business = app.business(cli.business.as_deref())?;
            commands::paths::run(&mut app, &business, args)?.print(format, out)
        }
        Command::Retention(args) => {
            let business = app.business(cli.business.as_deref())?;
            commands::retention::run(&mut app, &business, args)?.print(format, out)
        }
        // dispatch: attribution
        Command::Attribution(args) => {
            let business = app.business(cli.business.as_deref())?;
            commands::attribution::run(&app, &business, args, format, out)
        }
        // dispatch: value (clv, segments, personas)
        Command::Clv(args) => commands::clv::run(&app, cli.business.as_deref(), args, format, out),
        Command::Segments(args) => commands::segments::run(&app, cli.business.as_deref(), args, format, out),
        Command::Persona(command) => commands::personas::run(&mut app, cli.business.as_deref(), command, format, out),
        Command::Survey(command) => commands::survey::run(&mut app, cli.business.as_deref(), command, format, out),
        Command::Feedback(command) => commands::feedback::run(&mut app, cli.business.as_deref(), command, format, out),
        // dispatch: tracking
        Command::Serve(args) => commands::serve::run(app, args),
        Command::Source(command) => commands::source::run(&mut app, cli.business.as_deref(), command, format, out),
        Command::Track(command) => commands::track::run(&mut app, cli.business.as_deref(), command, format, out),
        Command::User(command) => commands::user::run(&mut app, cli.business.as_deref(), command, format, out),
        Command::Customer(command) => commands::customer::run(&mut app, cli.business.as_deref(), command, format, out),
        Command::Actions(command) => commands::actions::run(&mut app, cli.business.as_deref(), command, format, out),
        Command::Map(command) => commands::map::run(&mut app, cli.business.as_deref(), command, format, map_file, out),
        Command::Touchpoint(command) => commands::touchpoint::run(&mut app, cli.business.as_deref(), command, format, out),
        Command::Change(command) => commands::change::run(&mut app, cli.business.as_deref(), command, format, out),
        Command::MigrateStore { .. } => bail!("migrate-store runs before the store is opened"),
        Command::Compact => commands::compact::run(&mut app, cli.business.as_deref(), format, out),
        Command::Insights(args) => commands::insights::run(&app, cli.business.as_deref(), args, format, out),
        Command::Research(command) => commands::research::run(&mut app, cli.business.as_deref(), command, format, out),
        Command::Report(args) => commands::report::run(&mut app, cli.business.as_deref(), args, format, out),
        Command::Digest(command) => commands::digest::run(&mut app, cli.business.as_deref(), command, format, out),
        Command::Alert(command) => commands::alert::run(&mut app, cli.business.as_deref(), command, format, out),
        Command::Deliver(args) => commands::digest::deliver(&mut app, args, format, out),
        Command::Agency(args) => commands::digest::agency(&mut app, args, format, out),
    }
}

fn summaries_output(summaries: &[trailmap_app::BusinessSummary]) -> anyhow::Result<Output> {
    let json = serde_json::to_value(summaries)?;
    let Some(first) = json.as_array().and_then(|a| a.first()).and_then(|v| v.as_object()) else {
        bail!("no business to summarise");
    };
    // One row per measure, one column per business: easy to read for one business or several.
    let mut columns = vec!["what".to_string()];
    columns.extend(summaries.iter().map(|s| s.business.clone()));
    let rows = first
        .keys()
        .filter(|k| *k != "business")
        .map(|key| {
            let mut row = vec![key.replace('_', " ")];
            row.extend(json.as_array().into_iter().flatten().map(|s| output::plain(&s[key])));
            row
        })
        .collect();
    Ok(Output { title: None, columns, rows, json })
}

fn demo(app: &mut App, customers: u64, seed: u64, format: Format, out: &mut dyn Write) -> anyhow::Result<()> {
    if customers == 0 {
        bail!("--customers must be at least 1");
    }
    if !app.has_demo()? {
        eprintln!("Generating the demo ({customers} customers, seed {seed}) into {} ...", app.location_label());
    }
    let report = app.demo(&DemoOptions { customers, seed })?;
    if !report.generated {
        eprintln!("The demo businesses are already in {}; showing what is there.", app.location_label());
    } else {
        eprintln!("Done in {:.1} s.", report.seconds);
    }
    let mut businesses = Vec::new();
    for name in trailmap_app::DEMO_BUSINESSES {
        businesses.push(app.business(Some(name))?);
    }
    let summaries = businesses.iter().map(|b| app.summary(b)).collect::<Result<Vec<_>, _>>()?;
    summaries_output(&summaries)?.with_title("The demo businesses").print(format, out)?;
    let default = app.business(None)?;
    eprintln!("Commands without --business are about {}; `trailmap business use NAME` picks another.", default.name);
    Ok(())
}
