//! `trailmap import KIND FILE`: imports a CSV, NDJSON or Parquet file through the app, whole or
//! not at all (or the valid rows and a rejects file), with a progress bar on big files; with
//! `--dry-run`, the app's preview instead: the format, layout and options it reads the file with,
//! each field's column, and the first records as they will land or each bad row's place.

use crate::output::{Format, Output};
use std::io::Write;
use std::path::PathBuf;
use trailmap_app::{App, ImportPreview, ImportRequest, RecordKind};
use trailmap_ingest::{FileEncoding, FileFormat, Layout};
use trailmap_model::DecimalMark;

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// What the file holds.
    #[arg(value_parser = parse_kind)]
    kind: RecordKind,
    file: PathBuf,
    /// Take a field from a differently named column, e.g. --map email=Customer_Mail.
    #[arg(long = "map", value_name = "FIELD=COLUMN", value_parser = parse_mapping)]
    column_map: Vec<(String, String)>,
    /// Import the valid rows and write the rejected ones, with reasons, to this CSV file.
    #[arg(long, value_name = "REJECTS")]
    skip_invalid: Option<PathBuf>,
    /// The file's format when its name does not tell (csv, ndjson or parquet; a Parquet file is
    /// also known by its first bytes).
    #[arg(long, value_parser = parse_file_format)]
    input_format: Option<FileFormat>,
    /// The file's layout: generic, shopify or stripe. Default: detected from its columns.
    #[arg(long, value_parser = parse_layout)]
    layout: Option<Layout>,
    /// The decimal mark of the file's numbers: point (1,234.56) or comma (1.234,56). Without
    /// it (and without one set on the business) a number such as 12,50 is refused, not guessed.
    #[arg(long, value_parser = parse_decimal_mark)]
    decimal: Option<DecimalMark>,
    /// A CSV file's delimiter: one character such as ; or |, or `tab`.
    #[arg(long, value_parser = trailmap_ingest::parse_delimiter)]
    delimiter: Option<u8>,
    /// The file's text encoding when it is not UTF-8, e.g. windows-1252, latin1, utf-16le.
    #[arg(long, value_parser = FileEncoding::parse)]
    encoding: Option<FileEncoding>,
    /// Import nothing: show how the file would be read (layout, columns, the first records).
    #[arg(long, conflicts_with = "skip_invalid")]
    dry_run: bool,
}

pub fn parse_decimal_mark(text: &str) -> Result<DecimalMark, String> {
    DecimalMark::parse(text).ok_or_else(|| format!("unknown decimal mark {text:?}: expected point or comma"))
}

pub fn parse_kind(text: &str) -> Result<RecordKind, String> {
    text.parse()
}

fn parse_file_format(text: &str) -> Result<FileFormat, String> {
    text.parse()
}

fn parse_layout(text: &str) -> Result<Layout, String> {
    text.parse()
}

fn parse_mapping(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((field, column)) if !field.trim().is_empty() && !column.trim().is_empty() => {
            Ok((field.trim().to_string(), column.trim().to_string()))
        }
        _ => Err(format!("expected FIELD=COLUMN, got {text:?}")),
    }
}

pub fn run(app: &mut App, business: Option<&str>, args: ImportArgs, format: Format, out: &mut dyn Write) -> anyhow::Result<()> {
    let business = app.business(business)?;
    let request = ImportRequest {
        column_map: args.column_map,
        format: args.input_format,
        layout: args.layout,
        decimal_mark: args.decimal,
        delimiter: args.delimiter,
        encoding: args.encoding,
        skip_invalid: args.skip_invalid,
        ..ImportRequest::new(args.kind, &args.file, &business)
    };
    if args.dry_run {
        let preview = app.preview_import(&request)?;
        return preview_output(&preview)?.print(format, out);
    }
    let bar = progress_bar(&args.file);
    let mut progress = |done: u64, _total: u64| bar.set_position(done);
    let report = app.import(ImportRequest { progress: Some(&mut progress), ..request });
    bar.finish_and_clear();
    let report = report?;
    Output::key_values(&report)?.with_title(format!("Imported {} into {}", report.file, report.business)).print(format, out)
}

/// The preview as a table of its first records (one column per field they fill, then the error),
/// under a title saying how the file is read and where each field comes from.
fn preview_output(p: &ImportPreview) -> anyhow::Result<Output> {
    let mut title = format!("{} ({} {}, layout {}", p.file, p.format, p.kind, p.layout);
    if let Some(d) = &p.delimiter {
        title.push_str(&format!(", delimiter {d}"));
    }
    title.push_str(&format!(", {}", p.encoding));
    match &p.decimal_mark {
        Some(mark) => title.push_str(&format!(", decimal {mark} from the {})", p.decimal_mark_from)),
        None => title.push_str(", no decimal mark: numbers like 12,50 are refused)"),
    }
    let mapped: Vec<String> = p
        .mapping
        .iter()
        .filter_map(|m| m.column.as_ref().map(|c| format!("{} <- {c}{}", m.field, if m.source == "override" { " (--map)" } else { "" })))
        .collect();
    title.push_str(&format!("\nColumns: {}", if mapped.is_empty() { "none matched yet".to_string() } else { mapped.join(", ") }));
    for missing in &p.missing {
        title.push_str(&format!("\nMissing: {} (tried {}); add --map {}=COLUMN", missing.field, missing.tried.join(", "), missing.field.split(',').next().unwrap_or("")));
    }
    title.push_str(&format!("\nThe first {} record(s) as they will be read{}:", p.rows.len(), if p.more { " (the file has more)" } else { "" }));
    let mut columns = vec![p.position.clone()];
    columns.extend(p.row_fields.iter().cloned());
    columns.push("error".to_string());
    let rows = p
        .rows
        .iter()
        .map(|r| {
            let mut row = vec![r.line.to_string()];
            row.extend(r.values.iter().map(|v| v.clone().unwrap_or_default()));
            row.push(r.error.as_ref().map(|e| format!("{}{}", e.column.as_ref().map(|c| format!("column `{c}`: ")).unwrap_or_default(), e.reason)).unwrap_or_default());
            row
        })
        .collect();
    Ok(Output { title: Some(title), columns, rows, json: serde_json::to_value(p)? })
}

fn progress_bar(file: &std::path::Path) -> indicatif::ProgressBar {
    let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
    // Small files finish before a bar is worth drawing.
    if size < 8 * 1024 * 1024 {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(size);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} {bytes}/{total_bytes} {wide_bar} {bytes_per_sec} eta {eta}",
    ) {
        bar.set_style(style);
    }
    bar
}
