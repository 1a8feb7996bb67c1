//! Imports as every front end asks for them, and their preview (a dry run).
//!
//! [`ImportForm`] is an import's settings as text (a web form, a query string): parsed once here
//! into [`ImportSettings`], each error an [`AppError::InvalidField`] naming the field (`kind`,
//! `layout`, `decimal`, `delimiter`, `encoding`, `format`, `map.FIELD`), so the API and the pages
//! only translate. The CLI parses its flags into the same typed values.
//!
//! [`App::preview_import`] reads a file the way the import will, with ingest's own reader opened
//! leniently: the format, layout, delimiter, encoding and decimal mark in use; each field's
//! column (overridden, detected, or none) and what the file lacks; and the first records exactly
//! as they will land (after enrichment: an event's channel is the one it will be stored with) or
//! each bad row's line, column and reason. It writes nothing.

use crate::{App, AppError, ImportRequest, Result};
use serde::Serialize;
use trailmap_ingest::{FileEncoding, FileFormat, Layout, Record, RecordKind, fields, parse_delimiter};
use trailmap_model::{DecimalMark, Identity, IdentityKind, Money, Timestamp};

/// Records (or bad rows) a preview shows.
pub const PREVIEW_ROWS: usize = 10;

/// An import's settings as text, before parsing. Empty values mean "not given".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportForm {
    /// events, customers, orders, spend or feedback.
    pub kind: String,
    /// csv, ndjson or parquet; empty: from the file.
    pub format: String,
    /// generic, shopify or stripe; empty: detected.
    pub layout: String,
    /// point or comma; empty: the layout's, else the business's.
    pub decimal: String,
    /// One character, or `tab`; empty: comma (tab for `.tsv`).
    pub delimiter: String,
    /// A WHATWG label such as windows-1252; empty: UTF-8.
    pub encoding: String,
    /// Column overrides: (our field, the file's column). An empty column leaves the field
    /// unfilled; pairs whose field is empty are ignored.
    pub map: Vec<(String, String)>,
}

/// An import's settings, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportSettings {
    pub kind: RecordKind,
    pub format: Option<FileFormat>,
    pub layout: Option<Layout>,
    pub decimal_mark: Option<DecimalMark>,
    pub delimiter: Option<u8>,
    pub encoding: Option<FileEncoding>,
    pub column_map: Vec<(String, String)>,
}

fn invalid(field: &str, value: &str, reason: impl Into<String>) -> AppError {
    AppError::InvalidField { field: field.to_string(), value: Some(value.to_string()), reason: reason.into() }
}

/// The text, trimmed, or None when blank.
fn given(text: &str) -> Option<&str> {
    Some(text.trim()).filter(|t| !t.is_empty())
}

impl ImportForm {
    /// Checks every setting; an error names the first wrong field.
    pub fn parse(&self) -> Result<ImportSettings> {
        let kind_text = given(&self.kind).ok_or_else(|| AppError::InvalidField {
            field: "kind".into(),
            value: None,
            reason: "say what the file holds: events, customers, orders, spend or feedback".into(),
        })?;
        let kind: RecordKind = kind_text.parse().map_err(|e: String| invalid("kind", kind_text, e))?;
        let format = given(&self.format).map(|f| f.parse::<FileFormat>().map_err(|e| invalid("format", f, e))).transpose()?;
        let layout = given(&self.layout).map(|l| l.parse::<Layout>().map_err(|e| invalid("layout", l, e))).transpose()?;
        if let Some(layout) = layout
            && layout != Layout::Generic
            && kind != RecordKind::Orders
        {
            return Err(invalid("layout", layout.as_str(), format!("is a layout of orders, not of {kind}")));
        }
        let decimal_mark = given(&self.decimal)
            .map(|d| DecimalMark::parse(d).ok_or_else(|| invalid("decimal", d, "is not point or comma")))
            .transpose()?;
        // A delimiter is one character, so it is not trimmed (a tab would be lost).
        let delimiter = match self.delimiter.as_str() {
            "" => None,
            d => Some(parse_delimiter(d).map_err(|e| invalid("delimiter", d, e))?),
        };
        let encoding = given(&self.encoding).map(|e| FileEncoding::parse(e).map_err(|r| invalid("encoding", e, r))).transpose()?;
        let specs = fields(kind);
        let mut column_map = Vec::new();
        for (field, column) in &self.map {
            let Some(field) = given(field) else { continue };
            let Some(spec) = specs.iter().find(|s| s.name.eq_ignore_ascii_case(field)) else {
                let known: Vec<&str> = specs.iter().map(|s| s.name).collect();
                return Err(invalid(&format!("map.{field}"), column, format!("{kind} have no field `{field}` (fields: {})", known.join(", "))));
            };
            if column_map.iter().any(|(f, _): &(String, String)| f == spec.name) {
                return Err(invalid(&format!("map.{field}"), column, "is given twice"));
            }
            column_map.push((spec.name.to_string(), column.trim().to_string()));
        }
        Ok(ImportSettings { kind, format, layout, decimal_mark, delimiter, encoding, column_map })
    }
}

/// One of our fields and where it comes from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldMapping {
    pub field: String,
    pub required: bool,
    pub description: String,
    /// The file's column (or NDJSON key) that fills it; None when none does.
    pub column: Option<String>,
    /// `override` (the request named the column, or none), `detected` (by name or layout), or
    /// `none`.
    pub source: String,
}

/// A field, or a group of fields of which one is needed, that no column fills.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MissingField {
    pub field: String,
    /// The column names that would have filled it.
    pub tried: Vec<String>,
}

/// Where a bad row is wrong.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PreviewError {
    pub column: Option<String>,
    pub reason: String,
}

/// One record as it will be read, or the row's error.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PreviewRow {
    /// The line the record starts on (for Parquet, its row number, from 1).
    pub line: u64,
    /// The record's values, aligned with [`ImportPreview::row_fields`] (None: absent).
    pub values: Vec<Option<String>>,
    pub error: Option<PreviewError>,
    /// A bad row's text as in the file (a Parquet row as JSON), so the person sees what failed.
    pub raw: Option<String>,
}

/// What an import of a file would read, without writing anything.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportPreview {
    pub file: String,
    pub kind: String,
    /// csv, ndjson or parquet.
    pub format: String,
    /// generic, shopify-orders or stripe-payments.
    pub layout: String,
    /// Whether the layout was detected from the columns (else the request gave it).
    pub layout_detected: bool,
    /// A CSV file's delimiter as an option value (`,`, `;`, `tab`).
    pub delimiter: Option<String>,
    /// The encoding the text is read in (`UTF-8`, `windows-1252`...).
    pub encoding: String,
    /// The decimal mark numbers written as text are read with: point or comma; None when nothing
    /// declares it, so a number whose reading depends on it is refused.
    pub decimal_mark: Option<String>,
    /// Who declared it: `import`, `layout`, `business` or `none`.
    pub decimal_mark_from: String,
    /// `line` or `row` (Parquet): what [`PreviewRow::line`] counts.
    pub position: String,
    /// The file's columns (for NDJSON, the keys seen in the rows previewed).
    pub columns: Vec<String>,
    /// Every field of the kind, in order, with its column.
    pub mapping: Vec<FieldMapping>,
    /// What the file lacks; an import refuses such a file until an override fills it.
    pub missing: Vec<MissingField>,
    /// The columns of [`ImportPreview::rows`]: the records' fields that hold a value in some row.
    pub row_fields: Vec<String>,
    pub rows: Vec<PreviewRow>,
    /// Whether the file has more records than those shown.
    pub more: bool,
}

impl App {
    /// Reads the first records of `request`'s file as [`App::import`] would, and says how it
    /// reads the file (see the module's comment). Whole-file problems (an empty file, a header
    /// naming a column twice, an override naming a column the file lacks, a file that is not the
    /// format claimed) are errors, as they are for the import; missing columns are not.
    pub fn preview_import(&self, request: &ImportRequest<'_>) -> Result<ImportPreview> {
        let (mut reader, _) = request.open_reader(true)?;
        let mut items = Vec::with_capacity(PREVIEW_ROWS);
        for item in reader.by_ref() {
            items.push(item);
            if items.len() == PREVIEW_ROWS {
                break;
            }
        }
        let more = items.len() == PREVIEW_ROWS && reader.next().is_some();
        let row_fields_all = row_fields(request.kind);
        let mut rows: Vec<PreviewRow> = items
            .into_iter()
            .map(|item| match item {
                Ok(at) => PreviewRow { line: at.line, values: record_values(&at.record), error: None, raw: None },
                Err(e) => PreviewRow {
                    line: e.line,
                    values: vec![None; row_fields_all.len()],
                    error: Some(PreviewError { column: e.column, reason: e.reason }),
                    raw: e.raw,
                },
            })
            .collect();
        // Only the fields some row fills are shown.
        let keep: Vec<bool> = (0..row_fields_all.len()).map(|i| rows.iter().any(|r| r.values.get(i).is_some_and(Option::is_some))).collect();
        for row in &mut rows {
            row.values = row.values.iter().zip(&keep).filter(|(_, k)| **k).map(|(v, _)| v.clone()).collect();
        }
        let row_fields = row_fields_all.iter().zip(&keep).filter(|(_, k)| **k).map(|(f, _)| f.to_string()).collect();

        let overridden = |field: &str| request.column_map.iter().any(|(f, _)| f.eq_ignore_ascii_case(field));
        let specs = fields(request.kind);
        let mapping = reader
            .mapping()
            .into_iter()
            .zip(specs)
            .map(|((field, column), spec)| FieldMapping {
                field: field.to_string(),
                required: spec.required,
                description: spec.description.to_string(),
                source: if overridden(field) {
                    "override"
                } else if column.is_some() {
                    "detected"
                } else {
                    "none"
                }
                .to_string(),
                column,
            })
            .collect();
        let layout = reader.layout();
        let decimal_mark_from = if request.decimal_mark.is_some() {
            "import"
        } else if layout.decimal_mark().is_some() {
            "layout"
        } else if request.business.decimal_mark.is_some() {
            "business"
        } else {
            "none"
        };
        Ok(ImportPreview {
            file: request.file_name(),
            kind: request.kind.to_string(),
            format: reader.format().to_string(),
            layout: layout.to_string(),
            layout_detected: request.layout.is_none(),
            delimiter: reader.delimiter().map(trailmap_ingest::Hint::delimiter_name),
            encoding: reader.encoding().to_string(),
            decimal_mark: reader.decimal_mark().map(|m| m.as_str().to_string()),
            decimal_mark_from: decimal_mark_from.to_string(),
            position: if reader.format() == FileFormat::Parquet { "row" } else { "line" }.to_string(),
            columns: reader.columns().to_vec(),
            mapping,
            missing: reader.missing_columns().iter().map(|m| MissingField { field: m.field.clone(), tried: m.tried.clone() }).collect(),
            row_fields,
            rows,
            more,
        })
    }
}

/// The fields a record of `kind` shows in a preview, in order.
fn row_fields(kind: RecordKind) -> &'static [&'static str] {
    const IDS: [&str; 3] = ["customer_id", "email", "anonymous_id"];
    match kind {
        RecordKind::Events => &[
            IDS[0], IDS[1], IDS[2], "name", "time", "channel", "source", "medium", "campaign", "referrer", "page", "revenue",
            "properties",
        ],
        RecordKind::Customers => &[IDS[0], IDS[1], IDS[2], "name", "created_at", "properties"],
        RecordKind::Orders => &[
            IDS[0], IDS[1], IDS[2], "order_id", "time", "total", "subtotal", "shipping", "tax", "discount", "status", "channel",
            "source", "lines", "properties",
        ],
        RecordKind::Spend => &["channel", "source", "campaign", "start", "end", "amount"],
        RecordKind::Feedback => {
            &[IDS[0], IDS[1], IDS[2], "kind", "source", "external_id", "author", "time", "rating", "text", "link", "touchpoint", "tags"]
        }
    }
}

fn identity(ids: &[Identity], kind: IdentityKind) -> Option<String> {
    ids.iter().find(|i| i.kind == kind).map(|i| i.value.clone())
}

fn ids(ids: &[Identity]) -> [Option<String>; 3] {
    [identity(ids, IdentityKind::External), identity(ids, IdentityKind::Email), identity(ids, IdentityKind::Anonymous)]
}

fn time(t: Timestamp) -> Option<String> {
    Some(t.to_rfc3339())
}

fn money(m: Option<Money>) -> Option<String> {
    m.map(|m| m.to_string())
}

fn json(properties: &trailmap_model::Properties) -> Option<String> {
    (!properties.is_empty()).then(|| serde_json::to_string(properties).unwrap_or_default())
}

/// A record's values as a preview shows them, aligned with [`row_fields`] of its kind.
fn record_values(record: &Record) -> Vec<Option<String>> {
    match record {
        Record::Event(e) => {
            let ev = &e.event;
            let [customer, email, anonymous] = ids(&e.also_known_as);
            vec![
                customer,
                email,
                anonymous,
                Some(ev.name.clone()),
                time(ev.time),
                ev.channel.clone(),
                ev.source.clone(),
                ev.medium.clone(),
                ev.campaign.clone(),
                ev.referrer.clone(),
                ev.page.clone(),
                money(ev.revenue),
                json(&ev.properties),
            ]
        }
        Record::Customer(c) => {
            let [customer, email, anonymous] = ids(&c.identities);
            vec![customer, email, anonymous, c.name.clone(), c.first_seen.and_then(time), json(&c.properties)]
        }
        Record::Order(o) => {
            let [customer, email, anonymous] = ids(&o.customer);
            let lines = o
                .lines
                .iter()
                .map(|l| format!("{} × {}{} at {}", l.quantity, l.name, l.sku.as_ref().map(|s| format!(" ({s})")).unwrap_or_default(), l.unit_price))
                .collect::<Vec<_>>()
                .join("; ");
            vec![
                customer,
                email,
                anonymous,
                Some(o.external_id.clone()),
                time(o.time),
                money(Some(o.total)),
                money(o.subtotal),
                money(o.shipping),
                money(o.tax),
                money(o.discount),
                o.status.clone(),
                o.channel.clone(),
                o.source.clone(),
                (!lines.is_empty()).then_some(lines),
                json(&o.properties),
            ]
        }
        Record::Spend(s) => vec![
            Some(s.channel.clone()),
            s.source.clone(),
            s.campaign.clone(),
            Some(s.start.to_string()),
            Some(s.end.to_string()),
            money(Some(s.amount)),
        ],
        Record::Feedback(f) => {
            let [customer, email, anonymous] = ids(&f.customer);
            vec![
                customer,
                email,
                anonymous,
                Some(format!("{:?}", f.kind).to_lowercase()),
                Some(f.source.clone()),
                f.external_id.clone(),
                f.author.clone(),
                time(f.time),
                f.rating.map(|r| r.to_string()),
                Some(f.text.clone()),
                f.link.clone(),
                f.touchpoint.clone(),
                (!f.tags.is_empty()).then(|| f.tags.join(", ")),
            ]
        }
    }
}
