//! `trailmap report [--period FROM..TO] [--today DATE] -o FILE` writes the report of a business for
//! a period (key numbers against the previous period, the journey map, the changes and their
//! impact, the insights) as a PDF or an HTML page, by FILE's extension (`.pdf`, `.html`).
//! `--format json` prints the report's data instead, and writes FILE too when -o is given.

use crate::output::Format;
use anyhow::{Context, bail};
use chrono::NaiveDate;
use std::io::Write;
use std::path::{Path, PathBuf};
use trailmap_app::report::ReportRequest;
use trailmap_app::{App, DayRange};

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
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

pub fn run(app: &App, business: Option<&str>, args: ReportArgs, format: Format, out: &mut dyn Write) -> anyhow::Result<()> {
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
