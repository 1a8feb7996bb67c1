//! `trailmap report [--period FROM..TO] [--today DATE] -o FILE` writes the report of a business for
//! a period (key numbers against the previous period, the journey map, the changes and their
//! impact, the insights) as a PDF or an HTML page, by FILE's extension (`.pdf`, `.html`).
//! `--format json` prints the report's data instead, and writes FILE too when -o is given.
//! `trailmap report send --period P --to EMAIL` e-mails it (the digest's summary, the PDF attached)
//! over the SMTP server of `--smtp-url` or `TRAILMAP_SMTP_URL`.

use crate::output::Format;
use anyhow::{Context, bail};
use chrono::NaiveDate;
use std::io::Write;
use std::path::{Path, PathBuf};
use trailmap_app::report::ReportRequest;
use trailmap_app::{App, DayRange};

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ReportArgs {
    #[command(subcommand)]
    command: Option<ReportCommand>,
    /// The period: FROM..TO (days YYYY-MM-DD or months YYYY-MM, both included), or one day or
    /// month. Default: the last 30 days with data.
    #[arg(long, value_name = "FROM..TO")]
    period: Option<String>,
    /// The day the report is made on (YYYY-MM-DD), for maps past their review date. Default: today.
    #[arg(long, value_name = "DATE")]
    today: Option<NaiveDate>,
    /// The file to write: .pdf or .html.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(Debug, clap::Subcommand)]
pub enum ReportCommand {
    /// E-mail the report now: a summary in the message (HTML and plain text), the PDF attached.
    Send {
        /// The period: FROM..TO, or one day or month (2026-10). Default: the last 30 days with data.
        #[arg(long, value_name = "FROM..TO")]
        period: Option<String>,
        /// Recipients, comma-separated; repeat the flag for more.
        #[arg(long = "to", value_name = "EMAIL", required = true)]
        to: Vec<String>,
        /// smtp://[USER[:PASSWORD]@]HOST[:PORT][?tls=none|starttls|tls&from=ADDRESS]
        #[arg(long, env = "TRAILMAP_SMTP_URL", value_name = "URL")]
        smtp_url: Option<String>,
    },
}

/// A delivery as JSON (without its body and attachment).
pub fn delivery_json(d: &trailmap_app::StoredDelivery) -> serde_json::Value {
    serde_json::json!({
        "id": d.id, "kind": d.kind, "channel": d.channel, "to": d.target, "subject": d.subject, "status": d.status,
        "attempts": d.attempts, "last_error": d.last_error, "next_attempt_at": d.next_attempt_at.map(|t| t.to_rfc3339()),
        "attachment_bytes": d.attachment.as_ref().map(Vec::len),
    })
}

/// Prints what became of a delivery; an error when it was not sent (it stays queued for the server's retries).
pub fn print_delivery(d: &trailmap_app::StoredDelivery, format: Format, out: &mut dyn Write) -> anyhow::Result<()> {
    let rows = vec![vec![d.id.to_string(), d.subject.clone(), d.target.clone(), d.status.clone()]];
    crate::output::Output::new(&["id", "subject", "to", "status"], rows, &delivery_json(d))?.print(format, out)?;
    if d.status != "sent" {
        bail!(
            "not sent: {}; the e-mail stays queued and a running server tries again with backoff",
            d.last_error.clone().unwrap_or_default()
        );
    }
    Ok(())
}

fn send(app: &mut App, business: Option<&str>, period: Option<String>, to: Vec<String>, smtp_url: Option<String>, format: Format, out: &mut dyn Write) -> anyhow::Result<()> {
    let business = app.business(business)?;
    let now = crate::commands::user::now();
    let settings = trailmap_app::delivery::DeliverySettings { smtp: crate::commands::digest::smtp(smtp_url.as_deref())? };
    if settings.smtp.is_none() {
        bail!("--smtp-url: no SMTP server given (or set TRAILMAP_SMTP_URL=smtp://HOST:PORT)");
    }
    let period = match &period {
        Some(text) => parse_period(text)?,
        None => app.default_period(&business, now.date())?,
    };
    let queued = app.queue_report_email(&business, None, period, &to.join(","), now).map_err(|e| crate::commands::digest::flagged(e, "to", "to"))?;
    let sent = app.send_delivery_now(queued.id, now, &settings)?;
    print_delivery(&sent, format, out)
}

/// The kinds of file a report is written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileKind {
    Pdf,
    Html,
}

fn file_kind(path: &Path) -> anyhow::Result<FileKind> {
    match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("pdf") => Ok(FileKind::Pdf),
        Some("html" | "htm") => Ok(FileKind::Html),
        _ => bail!("-o {}: the file's extension says what to write: .pdf or .html", path.display()),
    }
}

/// Reads `FROM..TO`, each end a day or a month (a month ends on its last day), or one day or month.
pub fn parse_period(text: &str) -> anyhow::Result<DayRange> {
    let side = |part: &str| trailmap_ingest::parse_period(part).map_err(|e| anyhow::anyhow!("--period {text:?}: {e}"));
    let (from, to) = match text.split_once("..") {
        Some((from, to)) => (side(from)?.0, side(to)?.1),
        None => side(text)?,
    };
    DayRange::new(from, to).with_context(|| format!("--period {text:?}"))
}

pub fn run(app: &mut App, business: Option<&str>, args: ReportArgs, format: Format, out: &mut dyn Write) -> anyhow::Result<()> {
    if let Some(ReportCommand::Send { period, to, smtp_url }) = args.command {
        return send(app, business, period, to, smtp_url, format, out);
    }
    let app: &App = app;
    let kind = match (&args.output, format) {
        (_, Format::Csv) => bail!("--format csv: a report is written as a file (-o FILE.pdf or FILE.html) or printed as json"),
        (Some(path), _) => Some(file_kind(path)?),
        (None, Format::Json) => None,
        (None, Format::Table) => bail!("-o FILE: name the file to write (.pdf or .html), or print the data with --format json"),
    };
    let business = app.business(business)?;
    let today = args.today.unwrap_or_else(|| crate::commands::user::now().date());
    let period = match &args.period {
        Some(text) => parse_period(text)?,
        None => app.default_period(&business, today)?,
    };
    let report = app.report(&business, &ReportRequest { period, today })?;
    if let (Some(path), Some(kind)) = (&args.output, kind) {
        let bytes = match kind {
            FileKind::Pdf => report.pdf()?,
            FileKind::Html => report.html().into_bytes(),
        };
        std::fs::write(path, &bytes).with_context(|| format!("writing {}", path.display()))?;
        if format == Format::Table {
            writeln!(out, "Wrote {} ({} bytes): {} from {} to {}", path.display(), bytes.len(), report.business, period.from, period.to)?;
        } else {
            eprintln!("Wrote {} ({} bytes)", path.display(), bytes.len());
        }
    }
    if format == Format::Json {
        serde_json::to_writer_pretty(&mut *out, &report)?;
        writeln!(out)?;
    }
    Ok(())
}
