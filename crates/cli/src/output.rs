//! Printing results as a table for people, or as JSON or CSV for programs. Every command builds an
//! [`Output`]: the rows a person reads and the structured value a program reads.

use clap::ValueEnum;
use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use serde::Serialize;
use std::io::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
}

#[derive(Debug)]
pub struct Output {
    pub title: Option<String>,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub json: serde_json::Value,
}

impl Output {
    pub fn new<T: Serialize>(columns: &[&str], rows: Vec<Vec<String>>, value: &T) -> anyhow::Result<Output> {
        Ok(Output {
            title: None,
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows,
            json: serde_json::to_value(value)?,
        })
    }

    /// The rows alone, for a command that writes its JSON itself with [`write_json`] (a report
    /// too large to copy into a JSON value first).
    pub fn rows_only(columns: &[&str], rows: Vec<Vec<String>>) -> Output {
        Output { title: None, columns: columns.iter().map(|c| c.to_string()).collect(), rows, json: serde_json::Value::Null }
    }

    /// A two-column "what / value" listing of a flat serialisable value.
    pub fn key_values<T: Serialize>(value: &T) -> anyhow::Result<Output> {
        let json = serde_json::to_value(value)?;
        let rows = match &json {
            serde_json::Value::Object(map) => map
                .iter()
                .map(|(k, v)| vec![k.replace('_', " "), plain(v)])
                .collect(),
            other => vec![vec!["value".into(), plain(other)]],
        };
        Ok(Output { title: None, columns: vec!["what".into(), "value".into()], rows, json })
    }

    pub fn with_title(mut self, title: impl Into<String>) -> Output {
        self.title = Some(title.into());
        self
    }

    pub fn print(&self, format: Format, out: &mut dyn Write) -> anyhow::Result<()> {
        match format {
            Format::Json => write_json(&self.json, out)?,
            Format::Csv => {
                let mut writer = csv::Writer::from_writer(Vec::new());
                writer.write_record(&self.columns)?;
                for row in &self.rows {
                    writer.write_record(row)?;
                }
                out.write_all(&writer.into_inner().map_err(|e| anyhow::anyhow!("csv: {e}"))?)?;
            }
            Format::Table => {
                if let Some(title) = &self.title {
                    writeln!(out, "{title}")?;
                }
                let mut table = Table::new();
                table.load_style(UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Dynamic);
                table.set_header(&self.columns);
                for row in &self.rows {
                    table.add_row(row);
                }
                writeln!(out, "{table}")?;
            }
        }
        Ok(())
    }
}

/// Writes `value` as pretty JSON and a newline, serialised straight from its own type (no
/// intermediate JSON value: for a customer value report of 100,000 customers that copy cost more
/// than the writing) through a large buffer: standard output flushes at every line, and a
/// serialiser writing a line at a time made a write call per line (two million lines, seconds
/// into a pipe). The bytes are those of the value converted to JSON first, keys in the same order
/// (serde_json keeps the order fields are written in).
pub fn write_json<T: Serialize + ?Sized>(value: &T, out: &mut dyn Write) -> anyhow::Result<()> {
    let mut buffered = std::io::BufWriter::with_capacity(1 << 20, out);
    serde_json::to_writer_pretty(&mut buffered, value)?;
    buffered.write_all(b"\n")?;
    buffered.flush()?;
    Ok(())
}

/// A JSON value as a person reads it in a table cell.
pub fn plain(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() => format!("{f:.2}"),
            _ => n.to_string(),
        },
        // Lists of pairs (a reason and its count) read as "bot: 3, unpaid charge: 1".
        serde_json::Value::Array(items) => items
            .iter()
            .map(|item| match item.as_array().map(Vec::as_slice) {
                Some([label, value]) => format!("{}: {}", plain(label), plain(value)),
                _ => plain(item),
            })
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}
