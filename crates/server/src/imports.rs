//! Data imports over HTTP (events, customers, orders, spend), shared by the JSON API
//! (`api::imports`) and the Import page (`web::imports`): receiving a file, its settings, and
//! running the app's preview or import on it.
//!
//! - A file is streamed to disk as it arrives, never held in memory, under the server's upload
//!   folder (`trailmap-imports/` in the system's temporary folder), and refused with 413
//!   `too_large` past the server's `max-import-mib` (256 MiB by default), the partial copy
//!   removed. A declared Content-Length over the limit is refused before a byte is read.
//! - Settings arrive as text (query parameters, form fields) into [`ImportFields`], and are
//!   parsed by the app's [`ImportForm`], whose errors name the field.
//! - A preview runs on a read connection; an import runs on the one writer, in one store
//!   transaction as the CLI's does (it lands whole, or with `skip_bad_rows` the good rows land
//!   and the refused ones go to a rejects file kept for download for a day, named by a random id).
//! - Errors name the uploaded file, never the temporary copy: the app is given the upload's name.
//!
//! Files received by the page wait in their folder (with their settings) between the upload, the
//! preview and the import; folders and rejects older than a day are removed on the next upload.

use crate::auth;
use crate::error::ApiError;
use crate::state::ServerState;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};
use trailmap_app::{ImportForm, ImportPreview, ImportReport, ImportRequest};
use trailmap_model::{Business, BusinessId};
use utoipa::ToSchema;

/// How long a waiting upload or a rejects file is kept.
const KEPT: Duration = Duration::from_secs(24 * 60 * 60);

/// The longest value of a setting (a text field of a multipart form).
pub const MAX_FIELD_BYTES: usize = 64 * 1024;

/// An import's settings as text, from query parameters or form fields. Empty means not given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportFields {
    pub kind: String,
    pub format: String,
    pub layout: String,
    pub decimal: String,
    pub delimiter: String,
    pub encoding: String,
    /// Column overrides: (field, column); an empty column leaves the field unfilled.
    pub map: Vec<(String, String)>,
    pub skip_bad_rows: bool,
    pub dry_run: bool,
    /// The file's name, for messages (and its extension, for the format).
    pub file: String,
}

fn flag(name: &str, value: &str) -> Result<bool, ApiError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" | "" => Ok(false),
        other => Err(ApiError::invalid_input(format!("`{name}`: {other:?} is not true or false"))),
    }
}

impl ImportFields {
    /// Takes one named setting: `kind`, `format`, `layout`, `decimal`, `delimiter`, `encoding`,
    /// `skip_bad_rows`, `dry_run`, `file`, `map.FIELD` (the column, empty for none), or `map` (a
    /// JSON object of field to column). Other names are refused, so a typo is not ignored.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), ApiError> {
        let text = || value.to_string();
        match name {
            "kind" => self.kind = text(),
            "format" => self.format = text(),
            "layout" => self.layout = text(),
            "decimal" => self.decimal = text(),
            "delimiter" => self.delimiter = text(),
            "encoding" => self.encoding = text(),
            "file" => self.file = text(),
            "skip_bad_rows" => self.skip_bad_rows = flag(name, value)?,
            "dry_run" => self.dry_run = flag(name, value)?,
            "map" if value.trim().is_empty() => {}
            "map" => {
                let object: serde_json::Map<String, serde_json::Value> = serde_json::from_str(value)
                    .map_err(|e| ApiError::invalid_input(format!("`map`: not a JSON object of field to column ({e})")))?;
                for (field, column) in object {
                    let column = match column {
                        serde_json::Value::String(c) => c,
                        serde_json::Value::Null => String::new(),
                        other => return Err(ApiError::invalid_input(format!("`map.{field}`: {other} is not a column name"))),
                    };
                    self.put_map(field, column);
                }
            }
            other => match other.strip_prefix("map.") {
                Some(field) => self.put_map(field.to_string(), value.to_string()),
                None => {
                    return Err(ApiError::invalid_input(format!(
                        "`{other}` is not a setting of imports (kind, format, layout, decimal, delimiter, encoding, skip_bad_rows, dry_run, file, map.FIELD, map)"
                    )));
                }
            },
        }
        Ok(())
    }

    /// An override of `field`; a later one replaces an earlier one.
    pub fn put_map(&mut self, field: String, column: String) {
        self.map.retain(|(f, _)| !f.eq_ignore_ascii_case(&field));
        self.map.push((field, column));
    }

    /// The settings as the app parses them.
    pub fn form(&self) -> ImportForm {
        ImportForm {
            kind: self.kind.clone(),
            format: self.format.clone(),
            layout: self.layout.clone(),
            decimal: self.decimal.clone(),
            delimiter: self.delimiter.clone(),
            encoding: self.encoding.clone(),
            map: self.map.clone(),
        }
    }
}

/// The format a Content-Type names, as the `format` setting: None for a type that does not say
/// (none at all). A type imports do not read is 415 `wrong_format`.
pub fn format_of_content_type(content_type: &str) -> Result<Option<&'static str>, ApiError> {
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    match essence.as_str() {
        "" => Ok(None),
        "text/csv" | "text/plain" | "text/tab-separated-values" | "application/csv" => Ok(Some("csv")),
        "application/x-ndjson" | "application/ndjson" | "application/jsonl" | "application/x-jsonlines" | "application/json" => Ok(Some("ndjson")),
        "application/vnd.apache.parquet" | "application/x-parquet" | "application/parquet" | "application/octet-stream" => Ok(Some("parquet")),
        other => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "wrong_format",
            format!(
                "imports read text/csv, application/x-ndjson, application/vnd.apache.parquet (or application/octet-stream for Parquet) \
                 and multipart/form-data, not {other}"
            ),
        )),
    }
}

/// A file name safe inside our folder: no folders, nothing hidden, never empty.
pub fn safe_file_name(name: &str, format: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String =
        base.chars().map(|c| if c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | ' ') { c } else { '_' }).collect();
    let cleaned = cleaned.trim().trim_start_matches('.').chars().take(120).collect::<String>();
    if !cleaned.is_empty() {
        return cleaned;
    }
    match format {
        "csv" | "ndjson" | "parquet" => format!("upload.{format}"),
        _ => "upload".to_string(),
    }
}

/// Where imports keep their files.
fn root(state: &ServerState) -> PathBuf {
    state.upload_dir.join("trailmap-imports")
}

/// An id made by us: letters and digits only, so it never leaves the folder.
fn plain_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn folder(state: &ServerState, business: BusinessId, id: &str) -> PathBuf {
    root(state).join(format!("b{}-{id}", business.0))
}

fn rejects_path(state: &ServerState, business: BusinessId, id: &str) -> PathBuf {
    root(state).join(format!("b{}-rejects-{id}.csv", business.0))
}

/// Removes what is older than a day. Failures are left for the next time (or the system's own
/// cleaning of its temporary folder).
fn prune(root: &Path) {
    let Ok(entries) = std::fs::read_dir(root) else { return };
    let now = SystemTime::now();
    for entry in entries.flatten() {
        let old = entry.metadata().and_then(|m| m.modified()).is_ok_and(|t| now.duration_since(t).is_ok_and(|age| age > KEPT));
        if old {
            let path = entry.path();
            let _ = if path.is_dir() { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) };
        }
    }
}

/// A size as people read it: whole MiB, or KiB below one MiB.
pub fn size_text(bytes: u64) -> String {
    if bytes >= 1024 * 1024 { format!("{} MiB", bytes / (1024 * 1024)) } else { format!("{} KiB", bytes.div_ceil(1024)) }
}

pub fn too_large(limit: u64) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        format!("the file is larger than {}, the most this server imports over HTTP; use `trailmap import` for bigger files", size_text(limit)),
    )
}

/// A file being received: written to its folder as it arrives, the folder removed unless it is
/// finished.
#[derive(Debug)]
pub struct Receiving {
    upload: Option<Upload>,
    file: std::fs::File,
    written: u64,
    limit: u64,
}

/// A file received and waiting in its folder, with its settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Upload {
    /// The random id naming its folder.
    pub id: String,
    pub business: i64,
    /// The file's name as its owner had it (cleaned).
    pub name: String,
    pub bytes: u64,
    pub fields: ImportFields,
    #[serde(skip)]
    pub dir: PathBuf,
}

impl Receiving {
    /// Starts receiving a file named `name` (cleaned) for `business`.
    pub fn start(state: &ServerState, business: BusinessId, name: &str, fields: ImportFields) -> Result<Receiving, ApiError> {
        let root = root(state);
        std::fs::create_dir_all(&root).map_err(|e| ApiError::internal(format!("cannot make the folder for uploads: {e}")))?;
        prune(&root);
        let token = auth::random_token();
        let id = token.get(..32).unwrap_or(&token).to_string();
        let dir = folder(state, business, &id);
        std::fs::create_dir(&dir).map_err(|e| ApiError::internal(format!("cannot make a folder for the upload: {e}")))?;
        let name = safe_file_name(name, &fields.format);
        let file = std::fs::File::create(dir.join(&name))
            .map_err(|e| ApiError::internal(format!("cannot write the upload to a temporary file: {e}")))?;
        let upload = Upload { id, business: business.0, name, bytes: 0, fields, dir };
        Ok(Receiving { upload: Some(upload), file, written: 0, limit: state.import_limit })
    }

    /// Writes the next piece of the file; past the limit, 413 and the copy is removed (on drop).
    pub fn push(&mut self, bytes: &[u8]) -> Result<(), ApiError> {
        self.written += bytes.len() as u64;
        if self.written > self.limit {
            return Err(too_large(self.limit));
        }
        self.file.write_all(bytes).map_err(|e| ApiError::internal(format!("cannot write the upload to a temporary file: {e}")))
    }

    /// The file, complete and on disk, with its settings saved beside it.
    pub fn finish(mut self) -> Result<Upload, ApiError> {
        self.file.sync_all().map_err(|e| ApiError::internal(format!("cannot write the upload to a temporary file: {e}")))?;
        if self.written == 0 {
            return Err(ApiError::invalid_input("`file`: the file is empty (or missing): choose a file to import"));
        }
        let mut upload = self.upload.take().ok_or_else(|| ApiError::internal("the upload was finished twice"))?;
        upload.bytes = self.written;
        upload.save()?;
        Ok(upload)
    }
}

impl Drop for Receiving {
    fn drop(&mut self) {
        // Unfinished: the partial copy goes.
        if let Some(upload) = self.upload.take() {
            upload.discard();
        }
    }
}

impl Upload {
    /// The upload `id` of `business`, if it is still waiting.
    pub fn find(state: &ServerState, business: BusinessId, id: &str) -> Result<Upload, ApiError> {
        let gone = || ApiError::not_found("no such upload: it was imported already or is more than a day old; upload the file again");
        if !plain_id(id) {
            return Err(gone());
        }
        let dir = folder(state, business, id);
        let text = std::fs::read_to_string(dir.join("settings.json")).map_err(|_| gone())?;
        let mut upload: Upload = serde_json::from_str(&text).map_err(|_| gone())?;
        upload.dir = dir;
        Ok(upload)
    }

    /// Saves the settings beside the file.
    pub fn save(&self) -> Result<(), ApiError> {
        let text = serde_json::to_string(self).map_err(|e| ApiError::internal(e.to_string()))?;
        std::fs::write(self.dir.join("settings.json"), text).map_err(|e| ApiError::internal(format!("cannot save the upload's settings: {e}")))
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join(&self.name)
    }

    /// Removes the file and its folder.
    pub fn discard(&self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }

    /// The app's preview of the file with its settings (a read; nothing is written).
    pub async fn preview(&self, state: &ServerState, business: Business) -> Result<ImportPreview, ApiError> {
        let (path, name, form) = (self.path(), self.name.clone(), self.fields.form());
        state
            .try_read(move |app| {
                let settings = form.parse()?;
                let request = ImportRequest { display_name: Some(name), ..ImportRequest::with_settings(settings, &path, &business) };
                app.preview_import(&request)
            })
            .await
    }

    /// Imports the file with its settings on the writer, in one transaction. With
    /// `skip_bad_rows`, refused rows go to a rejects file kept for download.
    pub async fn import(&self, state: &ServerState, business: Business) -> Result<ImportReportOut, ApiError> {
        let (path, name, form) = (self.path(), self.name.clone(), self.fields.form());
        let rejects = self.fields.skip_bad_rows.then(|| self.dir.join("rejects.csv"));
        let id = business.id;
        let skip_invalid = rejects.clone();
        let report = state
            .try_write(move |app| {
                let settings = form.parse()?;
                let request = ImportRequest { display_name: Some(name), skip_invalid, ..ImportRequest::with_settings(settings, &path, &business) };
                app.import(request)
            })
            .await?;
        let kept = match rejects {
            Some(file) if report.rejected > 0 => {
                let rejects_id = auth::random_token().get(..32).unwrap_or_default().to_string();
                std::fs::rename(&file, rejects_path(state, id, &rejects_id))
                    .map_err(|e| ApiError::internal(format!("cannot keep the rejects file: {e}")))?;
                Some(RejectsOut { url: format!("/api/businesses/{}/imports/rejects/{rejects_id}", id.0), id: rejects_id, rows: report.rejected })
            }
            _ => None,
        };
        Ok(ImportReportOut::new(&report, &self.name, kept))
    }
}

/// Reads a multipart form: the settings as fields (each at most 64 KiB) and the `file` part
/// streamed to disk. Fields after the file are not read, so the settings come first (browsers
/// send a form's fields in order). With `csrf`, a `csrf` field equal to it must come before the
/// file (403 `csrf_failed` otherwise), so no file is received for a forged form.
pub async fn receive_multipart(
    state: &ServerState,
    business: BusinessId,
    mut multipart: axum::extract::Multipart,
    mut fields: ImportFields,
    csrf: Option<&str>,
) -> Result<Upload, ApiError> {
    let limit = state.import_limit;
    let failed = move |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE { too_large(limit) } else { ApiError::invalid_input(format!("the form could not be read: {}", e.body_text())) }
    };
    let mut csrf_seen = false;
    while let Some(mut field) = multipart.next_field().await.map_err(failed)? {
        let name = field.name().unwrap_or_default().to_string();
        if name == "file" {
            if csrf.is_some() && !csrf_seen {
                return Err(ApiError::csrf_failed());
            }
            let file_name = field.file_name().unwrap_or_default().to_string();
            if fields.format.is_empty() {
                // Browsers name a part's type by the file's extension, or send octet-stream for
                // any type they do not know: only a specific type is taken as a claim.
                let claimed = field.content_type().filter(|t| !t.starts_with("application/octet-stream")).unwrap_or("");
                if let Ok(Some(format)) = format_of_content_type(claimed) {
                    fields.format = format.to_string();
                }
            }
            if fields.file.is_empty() {
                fields.file = file_name;
            }
            let name = fields.file.clone();
            let mut receiving = Receiving::start(state, business, &name, fields.clone())?;
            while let Some(chunk) = field.chunk().await.map_err(failed)? {
                receiving.push(&chunk)?;
            }
            return receiving.finish();
        }
        let mut value = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(failed)? {
            value.extend_from_slice(&chunk);
            if value.len() > MAX_FIELD_BYTES {
                return Err(ApiError::invalid_input(format!("`{name}`: longer than {} KiB", MAX_FIELD_BYTES / 1024)));
            }
        }
        let value = String::from_utf8(value).map_err(|_| ApiError::invalid_input(format!("`{name}`: not UTF-8 text")))?;
        if name == "csrf" {
            match csrf {
                Some(expected) if !auth::same_secret(&value, expected) => return Err(ApiError::csrf_failed()),
                _ => csrf_seen = true,
            }
        } else {
            fields.set(&name, &value)?;
        }
    }
    Err(ApiError::invalid_input("`file`: the form has no file part named `file`: choose a file to import"))
}

/// The rejects file `id` of `business`: its CSV text (line, column, reason, raw).
pub fn read_rejects(state: &ServerState, business: BusinessId, id: &str) -> Result<Vec<u8>, ApiError> {
    let gone = || ApiError::not_found("no such rejects file: it is kept for a day after its import");
    if !plain_id(id) {
        return Err(gone());
    }
    std::fs::read(rejects_path(state, business, id)).map_err(|_| gone())
}

/// Where the refused rows of an import can be downloaded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RejectsOut {
    /// The rejects file's id (kept for a day).
    pub id: String,
    /// Its address: a CSV of line, column, reason and the row as it was.
    pub url: String,
    /// Rows in it.
    pub rows: u64,
}

/// Rows left out on purpose, by reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DroppedOut {
    /// `bot` (a crawler's user agent), `unpaid_charge` (a failed or uncaptured Stripe charge)...
    pub reason: String,
    pub rows: u64,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ImportReportOut {
    pub file: String,
    pub kind: String,
    /// generic, shopify-orders or stripe-payments.
    pub layout: String,
    /// Records read (an order of several lines is one record).
    pub rows_read: u64,
    /// Records that were new and landed.
    pub landed: u64,
    /// Records that were there already (importing the same file twice lands nothing new).
    pub duplicates: u64,
    /// Records refused (only with `skip_bad_rows`; else a refused row lands nothing).
    pub rejected: u64,
    pub dropped: Vec<DroppedOut>,
    /// Customers created because a record named someone new.
    pub new_customers: u64,
    /// Customers folded into another because a record linked their identities.
    pub merged_customers: u64,
    /// The refused rows to download, when some were.
    pub rejects: Option<RejectsOut>,
    pub seconds: f64,
}

impl ImportReportOut {
    fn new(report: &ImportReport, file: &str, rejects: Option<RejectsOut>) -> ImportReportOut {
        ImportReportOut {
            file: file.to_string(),
            kind: report.kind.clone(),
            layout: report.layout.clone(),
            rows_read: report.records,
            landed: report.added,
            duplicates: report.duplicates,
            rejected: report.rejected,
            dropped: report.dropped.iter().map(|(reason, rows)| DroppedOut { reason: reason.clone(), rows: *rows }).collect(),
            new_customers: report.new_customers,
            merged_customers: report.merged_customers,
            rejects,
            seconds: report.seconds,
        }
    }
}

/// A refused row of an import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RowErrorOut {
    /// The line the record starts on; a Parquet file's row number, from 1.
    pub line: u64,
    /// The file's column (or JSON key) at fault, when one is.
    pub column: Option<String>,
    pub reason: String,
}

/// One of our fields and the column that fills it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FieldMappingOut {
    pub field: String,
    pub required: bool,
    pub description: String,
    /// The file's column (or NDJSON key); None when none fills it.
    pub column: Option<String>,
    /// `override`, `detected` or `none`.
    pub source: String,
}

/// A field (or a group of which one is needed) that no column fills.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MissingFieldOut {
    pub field: String,
    /// The column names that would fill it.
    pub tried: Vec<String>,
}

/// A record as it will be read, or the row's error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PreviewRowOut {
    /// The line the record starts on (a Parquet file's row number).
    pub line: u64,
    /// Values aligned with `row_fields`; null where absent.
    pub values: Vec<Option<String>>,
    pub error: Option<RowErrorOut>,
    /// A bad row's text as in the file (a Parquet row as JSON).
    pub raw: Option<String>,
}

/// How a file would be imported: nothing is written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ImportPreviewOut {
    pub file: String,
    pub kind: String,
    /// csv, ndjson or parquet.
    pub format: String,
    /// generic, shopify-orders or stripe-payments.
    pub layout: String,
    /// Whether the layout was detected (else given by `layout`).
    pub layout_detected: bool,
    /// A CSV file's delimiter (`,`, `;`, `tab`).
    pub delimiter: Option<String>,
    pub encoding: String,
    /// point or comma: how numbers written as text are read; null when nothing declares it (a
    /// number such as 12,50 is then refused).
    pub decimal_mark: Option<String>,
    /// `import`, `layout`, `business` or `none`.
    pub decimal_mark_from: String,
    /// `line`, or `row` for Parquet: what each row's `line` counts.
    pub position: String,
    /// The file's columns (NDJSON: the keys of the rows previewed).
    pub columns: Vec<String>,
    pub mapping: Vec<FieldMappingOut>,
    /// What the file lacks; the import refuses it until `map.FIELD` fills it.
    pub missing: Vec<MissingFieldOut>,
    /// The fields shown for each row.
    pub row_fields: Vec<String>,
    /// The first records (up to 10) as they will be read.
    pub rows: Vec<PreviewRowOut>,
    /// Whether the file has more records.
    pub more: bool,
}

impl From<ImportPreview> for ImportPreviewOut {
    fn from(p: ImportPreview) -> ImportPreviewOut {
        ImportPreviewOut {
            file: p.file,
            kind: p.kind,
            format: p.format,
            layout: p.layout,
            layout_detected: p.layout_detected,
            delimiter: p.delimiter,
            encoding: p.encoding,
            decimal_mark: p.decimal_mark,
            decimal_mark_from: p.decimal_mark_from,
            position: p.position,
            columns: p.columns,
            mapping: p
                .mapping
                .into_iter()
                .map(|m| FieldMappingOut { field: m.field, required: m.required, description: m.description, column: m.column, source: m.source })
                .collect(),
            missing: p.missing.into_iter().map(|m| MissingFieldOut { field: m.field, tried: m.tried }).collect(),
            row_fields: p.row_fields,
            rows: p
                .rows
                .into_iter()
                .map(|r| PreviewRowOut {
                    line: r.line,
                    values: r.values,
                    error: r.error.map(|e| RowErrorOut { line: r.line, column: e.column, reason: e.reason }),
                    raw: r.raw,
                })
                .collect(),
            more: p.more,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_and_names() {
        let mut fields = ImportFields::default();
        fields.set("kind", "orders").unwrap();
        fields.set("map.time", "When").unwrap();
        fields.set("map", r#"{"email": "Buyer", "time": "Placed"}"#).unwrap();
        fields.set("skip_bad_rows", "on").unwrap();
        assert_eq!(fields.map, [("email".to_string(), "Buyer".to_string()), ("time".to_string(), "Placed".to_string())]);
        assert!(fields.skip_bad_rows);
        assert!(fields.set("dry_run", "maybe").unwrap_err().message.starts_with("`dry_run`"));
        assert!(fields.set("kidn", "orders").unwrap_err().message.starts_with("`kidn` is not a setting"));
        assert_eq!(format_of_content_type("text/csv; charset=utf-8").unwrap(), Some("csv"));
        assert_eq!(format_of_content_type("application/octet-stream").unwrap(), Some("parquet"));
        assert_eq!(format_of_content_type("image/png").unwrap_err().code, "wrong_format");
        assert_eq!(safe_file_name("C:\\Users\\me\\orders.csv", "csv"), "orders.csv");
        assert_eq!(safe_file_name("../../.secret", ""), "secret");
        assert_eq!(safe_file_name("", "parquet"), "upload.parquet");
        assert!(plain_id("abc123") && !plain_id("../x") && !plain_id(""));
    }
}
