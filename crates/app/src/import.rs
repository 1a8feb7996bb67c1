//! Importing a file: the ingest reader parses on one thread while the store writes on another, all
//! inside one store transaction. Without `skip_invalid` the first invalid rows abort the import
//! and nothing lands; with it, the valid rows land and the rejected ones go, with their reasons, to
//! a rejects file.

use crate::{AppError, Result};
use serde::Serialize;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Instant;
use trailmap_ingest::{FileEncoding, FileFormat, ImportOptions, Layout, Record, RecordAt, RecordKind, RecordReader, RowError};
use trailmap_model::{Business, DecimalMark};
use trailmap_store::{Store, StoreError, WriteSummary, Writer};

/// How many invalid rows are shown before an import without `skip_invalid` gives up.
const ERRORS_SHOWN: usize = 20;
/// Records per hand-over from the reading thread to the writing one.
const BATCH: usize = 4096;

pub struct ImportRequest<'a> {
    pub kind: RecordKind,
    pub path: &'a Path,
    pub business: &'a Business,
    /// Overrides of column matching: (our field, the file's column).
    pub column_map: Vec<(String, String)>,
    pub format: Option<FileFormat>,
    /// The file's decimal mark; None: the layout's (Shopify, Stripe), else the business's, else
    /// every number whose reading depends on it is refused.
    pub decimal_mark: Option<DecimalMark>,
    /// A CSV file's delimiter; None: tab for `.tsv`, comma otherwise.
    pub delimiter: Option<u8>,
    /// The file's encoding; None: UTF-8 (UTF-16 with a byte-order mark is read as such).
    pub encoding: Option<FileEncoding>,
    /// The file's layout; None: detected from its columns (Shopify's and Stripe's exports).
    pub layout: Option<Layout>,
    /// The file's name as its owner knows it, used in every message and to pick the format by
    /// its extension; None: the path (an upload copied to a temporary file names the upload).
    pub display_name: Option<String>,
    /// Import the valid rows and write the rejected ones here.
    pub skip_invalid: Option<PathBuf>,
    /// Called with the bytes read so far and the file's size.
    pub progress: Option<&'a mut dyn FnMut(u64, u64)>,
}

impl<'a> ImportRequest<'a> {
    /// A request with no overrides: format, layout and columns from the file, numbers read by
    /// the business's decimal mark, bad rows refusing the import.
    pub fn new(kind: RecordKind, path: &'a Path, business: &'a Business) -> ImportRequest<'a> {
        ImportRequest {
            kind,
            path,
            business,
            column_map: Vec::new(),
            format: None,
            decimal_mark: None,
            delimiter: None,
            encoding: None,
            layout: None,
            display_name: None,
            skip_invalid: None,
            progress: None,
        }
    }

    /// The request with the settings of `settings` (kind, format, layout, decimal mark, delimiter,
    /// encoding, column overrides), as a front end parsed them with [`crate::ImportForm`].
    pub fn with_settings(settings: crate::ImportSettings, path: &'a Path, business: &'a Business) -> ImportRequest<'a> {
        ImportRequest {
            column_map: settings.column_map,
            format: settings.format,
            layout: settings.layout,
            decimal_mark: settings.decimal_mark,
            delimiter: settings.delimiter,
            encoding: settings.encoding,
            ..ImportRequest::new(settings.kind, path, business)
        }
    }

    /// The name errors give the file.
    pub(crate) fn file_name(&self) -> String {
        self.display_name.clone().unwrap_or_else(|| self.path.display().to_string())
    }

    /// How ingest reads the file.
    pub(crate) fn reader_options(&self) -> ImportOptions {
        ImportOptions {
            kind: self.kind,
            format: self.format,
            column_map: self.column_map.clone(),
            default_currency: self.business.currency,
            decimal_mark: self.decimal_mark,
            default_decimal_mark: self.business.decimal_mark,
            delimiter: self.delimiter,
            encoding: self.encoding,
            layout: self.layout,
            file_name: self.file_name(),
        }
    }

    /// Opens the file for reading; `inspect` opens it leniently, for a preview.
    pub(crate) fn open_reader(&self, inspect: bool) -> Result<(RecordReader, u64)> {
        let file = File::open(self.path).map_err(|e| AppError::File { path: self.file_name(), reason: e.to_string() })?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        let options = self.reader_options();
        let reader = if inspect { RecordReader::inspect(file, options)? } else { RecordReader::open(file, options)? };
        Ok((reader, size))
    }
}

impl std::fmt::Debug for ImportRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImportRequest").field("kind", &self.kind).field("path", &self.path).finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    pub file: String,
    pub kind: String,
    pub layout: String,
    pub business: String,
    /// Records read from the file (an order of several lines is one record).
    pub records: u64,
    /// Records of the imported kind that were new to the store.
    pub added: u64,
    /// Records of the imported kind that were there already.
    pub duplicates: u64,
    pub rejected: u64,
    /// Rows left out on purpose (bots, unpaid charges), by reason.
    pub dropped: Vec<(String, u64)>,
    /// Customers created because a record named someone new.
    pub new_customers: u64,
    /// Customers folded into another because a record linked their identities.
    pub merged_customers: u64,
    pub rejects_file: Option<String>,
    pub seconds: f64,
    /// Everything the write did, by kind.
    #[serde(skip)]
    pub details: WriteSummary,
}

/// What counts as added and as duplicate for a kind of import.
fn added_and_duplicates(kind: RecordKind, s: &WriteSummary) -> (u64, u64) {
    match kind {
        RecordKind::Events => (s.events_added, s.events_duplicate),
        RecordKind::Customers => (s.customers_added, s.customers_updated),
        RecordKind::Orders => (s.orders_added, s.orders_duplicate),
        RecordKind::Spend => (s.spend_added, s.spend_duplicate),
        RecordKind::Feedback => (s.feedback_added, s.feedback_duplicate),
    }
}

enum Batch {
    Records(Vec<Result<RecordAt, RowError>>, u64),
}

fn write_record(w: &mut dyn Writer, business: &Business, record: &Record) -> Result<bool, StoreError> {
    let b = business.id;
    match record {
        Record::Event(e) => w.add_event(b, e),
        Record::Customer(c) => w.add_customer(b, c).map(|(_, created)| created),
        Record::Order(o) => w.add_order(b, o),
        Record::Spend(s) => w.add_spend(b, s),
        Record::Feedback(f) => w.add_feedback(b, f),
    }
}

/// A record the store refused (an order number stored with other content, a record naming no
/// one), at the line it starts on, with its text for the rejects file.
fn refused(file: &str, at: RecordAt, error: &StoreError) -> RowError {
    let column = match (&at.record, error) {
        (Record::Order(_), StoreError::Conflict(_)) => Some("order_id".to_string()),
        _ => None,
    };
    let reason = match error {
        StoreError::Conflict(message) | StoreError::Invalid(message) => message.clone(),
        other => other.to_string(),
    };
    RowError { file: file.to_string(), line: at.line, column, reason, raw: at.raw }
}

struct Rejects {
    final_path: PathBuf,
    temp_path: PathBuf,
    writer: csv::Writer<File>,
}

impl Rejects {
    fn create(path: &Path) -> Result<Rejects> {
        let file_error = |e: &dyn std::fmt::Display| AppError::File { path: path.display().to_string(), reason: e.to_string() };
        let temp_path = path.with_extension("partial");
        let mut writer = csv::Writer::from_path(&temp_path).map_err(|e| file_error(&e))?;
        writer.write_record(["line", "column", "reason", "raw"]).map_err(|e| file_error(&e))?;
        Ok(Rejects { final_path: path.to_path_buf(), temp_path, writer })
    }

    fn add(&mut self, e: &RowError) -> Result<()> {
        self.writer
            .write_record([e.line.to_string().as_str(), e.column.as_deref().unwrap_or(""), &e.reason, e.raw.as_deref().unwrap_or("")])
            .map_err(|err| AppError::File { path: self.final_path.display().to_string(), reason: err.to_string() })
    }

    fn finish(mut self) -> Result<()> {
        let fail = |e: &dyn std::fmt::Display| AppError::File { path: self.final_path.display().to_string(), reason: e.to_string() };
        self.writer.flush().map_err(|e| fail(&e))?;
        std::fs::rename(&self.temp_path, &self.final_path).map_err(|e| fail(&e))
    }
}

impl Drop for Rejects {
    fn drop(&mut self) {
        // After finish() the temp file is gone and this does nothing; after a failed import it
        // removes the half-written rejects.
        let _ = std::fs::remove_file(&self.temp_path);
    }
}

impl crate::App {
    pub fn import(&mut self, mut request: ImportRequest<'_>) -> Result<ImportReport> {
        let started = Instant::now();
        let file_name = request.file_name();
        let (reader, size) = request.open_reader(false)?;
        let layout = reader.layout().to_string();
        let mut rejects = request.skip_invalid.as_deref().map(Rejects::create).transpose()?;

        // A file adds at most about its own size to the store; let those pages fit in memory.
        self.store.set_cache_mib(crate::big_write_cache_mib(size / (1024 * 1024)))?;
        let (sender, receiver) = mpsc::sync_channel::<Batch>(4);
        let reading = std::thread::spawn(move || {
            let mut reader = reader;
            let mut batch = Vec::with_capacity(BATCH);
            while let Some(item) = reader.next() {
                batch.push(item);
                if batch.len() == BATCH {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                    if sender.send(Batch::Records(full, reader.bytes_read())).is_err() {
                        // The writer gave up; stop reading.
                        return reader;
                    }
                }
            }
            let _ = sender.send(Batch::Records(batch, reader.bytes_read()));
            reader
        });

        let business = request.business.clone();
        let mut records = 0u64;
        let mut rejected = 0u64;
        let mut shown: Vec<RowError> = Vec::new();
        let mut fatal: Option<AppError> = None;
        let skipping = rejects.is_some();
        let kind = request.kind.as_str();
        let outcome = self.store.write::<AppError>(&mut |w| {
            w.bulk();
            for Batch::Records(items, bytes) in receiver.iter() {
                for item in items {
                    records += 1;
                    let error = match item {
                        // A refused record has written nothing (the store checks before it
                        // creates a customer), so skipping it leaves no trace of it.
                        Ok(at) => match write_record(w, &business, &at.record) {
                            Ok(_) => continue,
                            Err(error @ (StoreError::Invalid(_) | StoreError::Conflict(_))) => refused(&file_name, at, &error),
                            Err(other) => return Err(other.into()),
                        },
                        Err(row_error) => row_error,
                    };
                    rejected += 1;
                    match rejects.as_mut() {
                        Some(r) => r.add(&error)?,
                        None => {
                            shown.push(error);
                            if shown.len() >= ERRORS_SHOWN {
                                return Err(AppError::Invalid("too many errors".into()));
                            }
                        }
                    }
                }
                if let Some(progress) = request.progress.as_mut() {
                    progress(bytes, size);
                }
            }
            if !skipping && !shown.is_empty() {
                return Err(AppError::Invalid("invalid rows".into()));
            }
            w.record_import(business.id, kind, &file_name)?;
            Ok(())
        });
        // Closing the channel lets the reading thread finish if the write stopped early.
        drop(receiver);
        self.store.set_cache_mib(crate::DEFAULT_CACHE_MIB)?;
        let reader = reading.join().map_err(|_| AppError::Invalid(format!("{file_name}: the reader thread failed")))?;
        let summary = match outcome {
            Ok(summary) => summary,
            Err(_) if !shown.is_empty() => {
                return Err(AppError::InvalidRows { file: file_name, count: rejected, shown });
            }
            Err(e) => {
                fatal = Some(e);
                WriteSummary::default()
            }
        };
        if let Some(e) = fatal {
            return Err(e);
        }
        let rejects_file = match rejects.take() {
            Some(r) => {
                let path = r.final_path.display().to_string();
                r.finish()?;
                Some(path)
            }
            None => None,
        };
        let (added, duplicates) = added_and_duplicates(request.kind, &summary);
        Ok(ImportReport {
            file: file_name,
            kind: kind.to_string(),
            layout,
            business: business.name.clone(),
            records,
            added,
            duplicates,
            rejected,
            dropped: reader.dropped().iter().map(|(reason, n)| (reason.to_string(), *n)).collect(),
            // A customers import reports its new customers as added already.
            new_customers: if request.kind == RecordKind::Customers { 0 } else { summary.customers_added },
            merged_customers: summary.customers_merged,
            rejects_file,
            seconds: started.elapsed().as_secs_f64(),
            details: summary,
        })
    }
}
