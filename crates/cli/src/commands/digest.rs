//! `trailmap digest list|add|remove|send`: the business's scheduled digests (weekly or monthly,
//! to chosen recipients). `add` checks each address and that the SMTP server answers
//! (`--smtp-url` or `TRAILMAP_SMTP_URL`); the server sends digests when they fall due, and
//! `trailmap deliver` does one pass by hand.

use crate::output::{Format, Output};
use std::io::Write;
use trailmap_app::App;
use trailmap_app::delivery::{DeliverySettings, SmtpSettings};
use trailmap_app::digests::Digest;

#[derive(Debug, clap::Subcommand)]
pub enum DigestCommand {
    /// The business's digests: id, cadence, recipients.
    List,
    /// Schedule a digest: the key numbers, changes, insights and stale maps of the last week or
    /// month, with the PDF report attached.
    Add {
        /// weekly or monthly.
        #[arg(long, default_value = "weekly")]
        cadence: String,
        /// Recipients, comma-separated; repeat the flag for more.
        #[arg(long = "to", value_name = "EMAIL", required = true)]
        to: Vec<String>,
        /// smtp://[USER[:PASSWORD]@]HOST[:PORT][?tls=none|starttls|tls&from=ADDRESS]
        #[arg(long, env = "TRAILMAP_SMTP_URL", value_name = "URL")]
        smtp_url: Option<String>,
    },
    /// Remove a digest by its id.
    Remove { id: i64 },
    /// Send a digest now, for its last whole period.
    Send {
        id: i64,
        #[arg(long, env = "TRAILMAP_SMTP_URL", value_name = "URL")]
        smtp_url: Option<String>,
    },
}

/// The SMTP settings of a flag or TRAILMAP_SMTP_URL, read once.
pub fn smtp(url: Option<&str>) -> anyhow::Result<Option<SmtpSettings>> {
    url.filter(|u| !u.trim().is_empty()).map(SmtpSettings::parse).transpose().map_err(|e| anyhow::anyhow!("--smtp-url: {e}"))
}

/// An app error shown with its flag: the field `from` is the flag `--to_flag`, others as named.
pub fn flagged(error: trailmap_app::AppError, from: &str, to_flag: &str) -> anyhow::Error {
    let error = match error {
        trailmap_app::AppError::InvalidField { field, value, reason } if field == from => {
            trailmap_app::AppError::InvalidField { field: to_flag.to_string(), value, reason }
        }
        other => other,
    };
    crate::commands::feedback::with_flag_names(error.into())
}

const COLUMNS: [&str; 4] = ["id", "cadence", "recipients", "created"];

fn row(d: &Digest) -> Vec<String> {
    vec![d.id.to_string(), d.cadence.as_str().to_string(), d.recipients.join(", "), d.created_at.to_rfc3339()]
}

pub fn run(app: &mut App, business: Option<&str>, command: DigestCommand, format: Format, out: &mut dyn Write) -> anyhow::Result<()> {
    let business = app.business(business)?;
    let now = crate::commands::user::now();
    match command {
        DigestCommand::List => {
            let digests = app.digests(&business)?;
            Output::new(&COLUMNS, digests.iter().map(row).collect(), &digests)?.with_title(format!("Digests of {}", business.name)).print(format, out)
        }
        DigestCommand::Add { cadence, to, smtp_url } => {
            let smtp = smtp(smtp_url.as_deref())?;
            let digest = app.add_digest(&business, &cadence, &to.join(","), smtp.as_ref(), now).map_err(|e| flagged(e, "recipients", "to"))?;
            Output::new(&COLUMNS, vec![row(&digest)], &digest)?
                .with_title(format!("Scheduled a {} digest of {}", digest.cadence.as_str(), business.name))
                .print(format, out)
        }
        DigestCommand::Remove { id } => {
            app.remove_digest(&business, id)?;
            Output::new(&["removed"], vec![vec![id.to_string()]], &serde_json::json!({ "removed": id }))?.print(format, out)
        }
        DigestCommand::Send { id, smtp_url } => {
            let settings = DeliverySettings { smtp: smtp(smtp_url.as_deref())? };
            let queued = app.send_digest_now(&business, id, now)?;
            let sent = app.send_delivery_now(queued.id, now, &settings)?;
            crate::commands::report::print_delivery(&sent, format, out)
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct DeliverArgs {
    #[arg(long, env = "TRAILMAP_SMTP_URL", value_name = "URL")]
    smtp_url: Option<String>,
}

/// One pass of the delivery task: what is due now is queued and every due delivery tried once.
pub fn deliver(app: &mut App, args: DeliverArgs, format: Format, out: &mut dyn Write) -> anyhow::Result<()> {
    let settings = DeliverySettings { smtp: smtp(args.smtp_url.as_deref())? };
    let run = app.run_deliveries(crate::commands::user::now(), &settings)?;
    let rows = vec![vec![run.queued.len().to_string(), run.fired.len().to_string(), run.attempted.len().to_string()]];
    Output::new(&["queued", "alerts fired", "attempted"], rows, &run)?.print(format, out)
}

#[derive(Debug, clap::Args)]
pub struct AgencyArgs {
    /// The agency's name on reports and digests; empty removes it.
    #[arg(long)]
    name: Option<String>,
    /// A PNG, JPEG or WebP logo (at most 256 KiB); an empty string removes it.
    #[arg(long, value_name = "FILE")]
    logo: Option<std::path::PathBuf>,
}

/// Shows, or sets, the agency's name and logo.
pub fn agency(app: &mut App, args: AgencyArgs, format: Format, out: &mut dyn Write) -> anyhow::Result<()> {
    let branding = if args.name.is_some() || args.logo.is_some() {
        let logo = match &args.logo {
            Some(path) if path.as_os_str().is_empty() => Some(Vec::new()),
            Some(path) => Some(std::fs::read(path).map_err(|e| anyhow::anyhow!("--logo {}: {e}", path.display()))?),
            None => None,
        };
        let name = match args.name {
            Some(name) => name,
            None => app.branding()?.name.unwrap_or_default(),
        };
        app.set_branding(&name, logo.as_deref()).map_err(|e| crate::commands::feedback::with_flag_names(e.into()))?
    } else {
        app.branding()?
    };
    let rows = vec![
        vec!["name".into(), branding.name.clone().unwrap_or_else(|| "(none)".into())],
        vec!["logo".into(), branding.logo.as_ref().map_or_else(|| "(none)".into(), |l| format!("{} characters", l.len()))],
    ];
    Output::new(&["what", "value"], rows, &branding)?.print(format, out)
}
