//! The record reader: it opens a file (sniffing its format, skipping a UTF-8 byte-order mark,
//! decoding UTF-16 or a declared encoding), matches the header to our fields, and then yields one
//! record or one row error at a time, so an import of any size runs in bounded memory and one bad
//! row never stops the rest. The formats themselves are in `csv_file` and `ndjson_file`; the
//! rules about values in `row`, `build`, `text` and `number`.

use crate::build::{self, Built};
use crate::csv_file::{self, CsvRead, CsvSource};
use crate::enrich::{DropReason, Enricher};
use crate::error::{Hint, ImportError, RowError};
use crate::fields::{self, FieldSpec, normalise, or};
use crate::ndjson_file::{LineRead, NdjsonSource};
use crate::row::{Ctx, Fail, Row};
use crate::text::MAX_RECORD_BYTES;
use crate::{FileFormat, ImportOptions, Layout, Record, RecordAt, RecordKind};
use serde_json::Value;
use std::collections::VecDeque;
use std::fmt;
use std::io::{self, BufReader, Cursor, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use trailmap_model::IncomingOrder;

/// The input after sniffing, decoded to UTF-8 where it needed decoding.
type Input = BufReader<Box<dyn Read + Send>>;

/// Bytes read ahead of the parsers.
const BUFFER_BYTES: usize = 64 * 1024;

/// Counts the bytes read from the caller's reader, for a progress bar.
struct Counting {
    inner: Box<dyn Read + Send>,
    count: Arc<AtomicU64>,
}

impl Read for Counting {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Reads one file into records. Iterate it for `Result<RecordAt, RowError>`: an error rejects one
/// row and the reader goes on with the next. Rows dropped for a reason (bots, unpaid charges) are
/// neither records nor errors; [`RecordReader::dropped`] counts them.
///
/// Orders: consecutive rows with the same order id are the lines of one order, as Shopify writes
/// them; order-level fields are read from the first row only, and the order is yielded when a row
/// with another id (or the end of the file) arrives. Rows of an order whose first row was rejected
/// are rejected too, each naming the line of that first row, so a rejects file holds whole orders.
///
/// A read error in the middle of the file (not a bad row: the disk or the network failed) is
/// yielded as a last row error, and the order being assembled at that moment is not yielded.
pub struct RecordReader {
    file: String,
    format: FileFormat,
    ctx: Ctx,
    source: Source,
    sink: Sink,
    bytes: Arc<AtomicU64>,
    done: bool,
}

impl fmt::Debug for RecordReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordReader")
            .field("file", &self.file)
            .field("format", &self.format)
            .field("kind", &self.ctx.kind)
            .field("layout", &self.ctx.layout)
            .field("bytes_read", &self.bytes_read())
            .finish_non_exhaustive()
    }
}

enum Source {
    Csv(Box<CsvSource<Input>>),
    Ndjson(NdjsonSource<Input>),
}

/// An order being assembled from consecutive rows.
#[derive(Debug)]
struct PendingOrder {
    order: IncomingOrder,
    line: u64,
    raw: String,
}

/// What the reader yields and counts, apart from where it reads from.
#[derive(Debug, Default)]
struct Sink {
    enricher: Enricher,
    queue: VecDeque<Result<RecordAt, RowError>>,
    dropped: Vec<(DropReason, u64)>,
    pending: Option<PendingOrder>,
    rejected: Option<(String, u64)>,
}

impl RecordReader {
    /// Opens a file: sniffs the format when the options do not say it, reads and matches the CSV
    /// header, and checks the column overrides. Problems with the file as a whole are errors here;
    /// problems with rows come out of the iterator.
    pub fn new<R: Read + Send + 'static>(input: R, options: ImportOptions) -> Result<RecordReader, ImportError> {
        let file = options.file_name.clone();
        let bytes = Arc::new(AtomicU64::new(0));
        let mut counting = Counting { inner: Box::new(input), count: Arc::clone(&bytes) };
        let sniffed = sniff(&mut counting, &file)?;
        let rest: Box<dyn Read + Send> = Box::new(Cursor::new(sniffed.prefix).chain(counting));
        // A declared encoding wins; else a UTF-16 byte-order mark says the encoding itself.
        let encoding = options.encoding.map(|e| e.0).or(sniffed.utf16);
        let decoded: Box<dyn Read + Send> = match encoding {
            Some(encoding) if encoding != encoding_rs::UTF_8 || sniffed.utf16.is_some() => Box::new(
                encoding_rs_io::DecodeReaderBytesBuilder::new().encoding(Some(encoding)).bom_override(true).build(rest),
            ),
            _ => rest,
        };
        let mut input = BufReader::with_capacity(BUFFER_BYTES, decoded);
        let first = match sniffed.first {
            Some(b) if encoding.is_none() => b,
            Some(_) => first_byte(&mut input, &file)?.ok_or_else(|| ImportError::Empty { file: file.clone() })?,
            None => return Err(ImportError::Empty { file }),
        };
        let format = options.format.or_else(|| FileFormat::from_file_name(&file)).unwrap_or(if first == b'{' {
            FileFormat::Ndjson
        } else {
            FileFormat::Csv
        });
        let specs = fields::fields(options.kind);
        let overrides = check_override_fields(&options, specs)?;
        let (source, ctx) = match format {
            FileFormat::Csv => {
                let (source, ctx) = csv_file::open(input, &options, specs, &overrides)?;
                (Source::Csv(Box::new(source)), ctx)
            }
            FileFormat::Ndjson => {
                let ctx = Ctx {
                    kind: options.kind,
                    layout: Layout::Generic,
                    currency: options.default_currency,
                    decimal_mark: options.decimal_mark_for(Layout::Generic),
                    specs,
                    columns: vec![None; specs.len()],
                };
                (Source::Ndjson(NdjsonSource::new(input, options.kind, specs, &overrides)), ctx)
            }
        };
        Ok(RecordReader { file, format, ctx, source, sink: Sink::default(), bytes, done: false })
    }

    /// The file's layout, detected from its CSV header (always generic for NDJSON and for kinds
    /// other than orders).
    pub fn layout(&self) -> Layout {
        self.ctx.layout
    }

    pub fn format(&self) -> FileFormat {
        self.format
    }

    pub fn kind(&self) -> RecordKind {
        self.ctx.kind
    }

    /// Bytes read from the input so far (ahead of the records yielded by up to a buffer's worth).
    pub fn bytes_read(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    /// How many rows were skipped, by reason, so far. Only reasons that occurred are listed.
    pub fn dropped(&self) -> &[(DropReason, u64)] {
        &self.sink.dropped
    }

    /// For a CSV file, which of its columns fills each of our fields: (field, column). Empty for
    /// NDJSON, whose keys are matched per record.
    pub fn matched_columns(&self) -> Vec<(&'static str, String)> {
        self.ctx
            .specs
            .iter()
            .zip(&self.ctx.columns)
            .filter_map(|(spec, column)| Some((spec.name, column.clone()?)))
            .collect()
    }

    /// For a CSV file, its header's columns in order (empty for NDJSON).
    pub fn columns(&self) -> &[String] {
        match &self.source {
            Source::Csv(csv) => &csv.headers,
            Source::Ndjson(_) => &[],
        }
    }

    /// Reads one row (or the end of the file) and queues what it gives.
    fn step(&mut self) {
        let RecordReader { file, ctx, source, sink, done, .. } = self;
        match source {
            Source::Csv(csv) => match csv.records.read() {
                Ok(CsvRead::End) => {
                    sink.flush_order();
                    *done = true;
                }
                Ok(CsvRead::TooLong(line)) => {
                    let fail = Fail::row(format!(
                        "the row is longer than {} (the limit for one row) and was not read",
                        crate::text::TextRule { max_bytes: MAX_RECORD_BYTES, multiline: true }.limit_text()
                    ));
                    sink.reject(file, line, fail, None);
                }
                Ok(CsvRead::Record(line)) => {
                    if csv.records.fields().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
                        return;
                    }
                    let raw = || csv.records.raw();
                    if csv.records.len() != csv.headers.len() {
                        let fail = Fail::row(format!(
                            "expected {} fields as in the header, found {}",
                            csv.headers.len(),
                            csv.records.len()
                        ));
                        sink.reject(file, line, fail, Some(raw()));
                        return;
                    }
                    match csv_file::row(csv, ctx.specs.len()) {
                        Ok(row) => sink.process(ctx, file, line, &row, raw),
                        Err(fail) => sink.reject(file, line, fail, Some(raw())),
                    }
                }
                Err(e) => {
                    // The line being read when it failed is one past the last record's.
                    sink.fatal(file, 0, &e.to_string());
                    *done = true;
                }
            },
            Source::Ndjson(nd) => match nd.read() {
                Ok(LineRead::End) => {
                    sink.flush_order();
                    *done = true;
                }
                Ok(LineRead::TooLong(line)) => {
                    let fail = Fail::row(format!(
                        "the line is longer than {} (the limit for one row) and was not read",
                        crate::text::TextRule { max_bytes: MAX_RECORD_BYTES, multiline: true }.limit_text()
                    ));
                    sink.reject(file, line, fail, None);
                }
                Ok(LineRead::Line(line)) => {
                    let bytes = nd.buf.trim_ascii();
                    if bytes.is_empty() {
                        return;
                    }
                    let raw = || String::from_utf8_lossy(bytes).into_owned();
                    if let Err(e) = std::str::from_utf8(bytes) {
                        let fail = Fail::row(format!(
                            "not valid UTF-8 (at byte {}); {}",
                            e.valid_up_to() + 1,
                            Hint::Encoding("windows-1252")
                        ));
                        sink.reject(file, line, fail, Some(raw()));
                        return;
                    }
                    let map = match crate::json::parse_strict(bytes) {
                        Ok(Value::Object(map)) => map,
                        Ok(_) => {
                            sink.reject(file, line, Fail::row("not a JSON object"), Some(raw()));
                            return;
                        }
                        Err(e) => {
                            sink.reject(file, line, Fail::row(format!("not valid JSON: {e}")), Some(raw()));
                            return;
                        }
                    };
                    let row = nd.keys.row(&map, ctx.specs.len());
                    sink.process(ctx, file, line, &row, raw);
                }
                Err(e) => {
                    sink.fatal(file, nd.line() + 1, &e.to_string());
                    *done = true;
                }
            },
        }
    }
}

impl Iterator for RecordReader {
    type Item = Result<RecordAt, RowError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(item) = self.sink.queue.pop_front() {
                return Some(item);
            }
            if self.done {
                return None;
            }
            self.step();
        }
    }
}

impl Sink {
    fn process(&mut self, ctx: &Ctx, file: &str, line: u64, row: &Row, raw: impl Fn() -> String) {
        if let Err(fail) = row.check_text(ctx) {
            if ctx.kind == RecordKind::Orders {
                self.reject_order_row(row, line, fail, file, raw());
            } else {
                self.reject(file, line, fail, Some(raw()));
            }
            return;
        }
        let result = match ctx.kind {
            RecordKind::Events => build::event(row, ctx, &mut self.enricher).map(|b| match b {
                Built::Record(e) => Built::Record(Record::Event(e)),
                Built::Drop(r) => Built::Drop(r),
            }),
            RecordKind::Customers => build::customer(row, ctx).map(|c| Built::Record(Record::Customer(c))),
            RecordKind::Spend => build::spend(row, ctx).map(|s| Built::Record(Record::Spend(s))),
            RecordKind::Feedback => build::feedback(row, ctx).map(|f| Built::Record(Record::Feedback(f))),
            RecordKind::Orders => {
                if let Err(fail) = self.order_row(ctx, line, row, &raw) {
                    self.reject(file, line, fail, Some(raw()));
                }
                return;
            }
        };
        match result {
            Ok(Built::Record(record)) => self.queue.push_back(Ok(RecordAt { record, line, raw: None })),
            Ok(Built::Drop(reason)) => self.count_drop(reason),
            Err(fail) => self.reject(file, line, fail, Some(raw())),
        }
    }

    /// An order row whose text was refused: like any refused first row, it takes its order's
    /// other rows with it.
    fn reject_order_row(&mut self, row: &Row, line: u64, fail: Fail, file: &str, raw: String) {
        if let Some(id) = row.get(or::ORDER_ID) {
            if self.pending.as_ref().is_some_and(|p| p.order.external_id == id) {
                // A later line of the pending order: the whole order goes.
                if let Some(pending) = self.pending.take() {
                    self.rejected = Some((id.to_string(), pending.line));
                    self.reject(file, pending.line, Fail::row(format!("order `{id}` has a refused line at line {line}")), Some(pending.raw));
                }
            } else {
                self.flush_order();
                self.rejected = Some((id.to_string(), line));
            }
        }
        self.reject(file, line, fail, Some(raw));
    }

    /// One row of an orders file: either more lines of the order being assembled, or the start of
    /// the next order (which yields the previous one).
    fn order_row(&mut self, ctx: &Ctx, line: u64, row: &Row, raw: &impl Fn() -> String) -> Result<(), Fail> {
        let id = row.require(ctx, or::ORDER_ID)?;
        if let Some(pending) = self.pending.as_mut().filter(|p| p.order.external_id == id) {
            let lines = build::order_lines(row, ctx, pending.order.total.currency)?;
            pending.order.lines.extend(lines);
            pending.raw.push('\n');
            pending.raw.push_str(&raw());
            return Ok(());
        }
        if let Some((rejected, at)) = self.rejected.as_ref().filter(|(r, _)| r == id) {
            return Err(Fail::row(format!("a row of order `{rejected}`, which was rejected at line {at}")));
        }
        self.flush_order();
        self.rejected = None;
        match build::order_head(row, ctx) {
            Ok(Built::Record(order)) => self.pending = Some(PendingOrder { order, line, raw: raw() }),
            Ok(Built::Drop(reason)) => self.count_drop(reason),
            Err(fail) => {
                self.rejected = Some((id.to_string(), line));
                return Err(fail);
            }
        }
        Ok(())
    }

    fn flush_order(&mut self) {
        if let Some(PendingOrder { order, line, raw }) = self.pending.take() {
            self.queue.push_back(Ok(RecordAt { record: Record::Order(order), line, raw: Some(raw) }));
        }
    }

    fn count_drop(&mut self, reason: DropReason) {
        match self.dropped.iter_mut().find(|(r, _)| *r == reason) {
            Some((_, n)) => *n += 1,
            None => self.dropped.push((reason, 1)),
        }
    }

    fn reject(&mut self, file: &str, line: u64, fail: Fail, raw: Option<String>) {
        self.queue.push_back(Err(RowError { file: file.to_string(), line, column: fail.column, reason: fail.reason, raw }));
    }

    fn fatal(&mut self, file: &str, line: u64, error: &str) {
        self.pending = None;
        self.queue.push_back(Err(RowError {
            file: file.to_string(),
            line,
            column: None,
            reason: format!("cannot read the rest of the file: {error}"),
            raw: None,
        }));
    }
}

/// What the first bytes of a file say.
struct Sniffed {
    /// The bytes read, a UTF-8 byte-order mark dropped.
    prefix: Vec<u8>,
    /// The first byte that is not white space (None: the file is empty or blank).
    first: Option<u8>,
    /// UTF-16 when the file starts with its byte-order mark.
    utf16: Option<&'static encoding_rs::Encoding>,
}

/// Reads until the first byte that is not white space, dropping a UTF-8 byte-order mark and
/// noting a UTF-16 one.
fn sniff(input: &mut Counting, file: &str) -> Result<Sniffed, ImportError> {
    const BOM: &[u8] = b"\xEF\xBB\xBF";
    let mut prefix = Vec::new();
    let mut chunk = [0u8; 8192];
    let mut bom_checked = false;
    loop {
        let n = match input.read(&mut chunk) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(source) => return Err(ImportError::Io { file: file.to_string(), source }),
        };
        prefix.extend_from_slice(&chunk[..n]);
        if !bom_checked && (prefix.len() >= BOM.len() || n == 0) {
            if prefix.starts_with(BOM) {
                prefix.drain(..BOM.len());
            } else if prefix.starts_with(b"\xFF\xFE") || prefix.starts_with(b"\xFE\xFF") {
                let encoding = if prefix[0] == 0xFF { encoding_rs::UTF_16LE } else { encoding_rs::UTF_16BE };
                return Ok(Sniffed { first: Some(0), prefix, utf16: Some(encoding) });
            }
            bom_checked = true;
        }
        if bom_checked && let Some(&b) = prefix.iter().find(|b| !b.is_ascii_whitespace()) {
            return Ok(Sniffed { prefix, first: Some(b), utf16: None });
        }
        if n == 0 {
            return Ok(Sniffed { prefix, first: None, utf16: None });
        }
    }
}

/// The first byte that is not white space of decoded input, without consuming it.
fn first_byte(input: &mut Input, file: &str) -> Result<Option<u8>, ImportError> {
    use std::io::BufRead;
    loop {
        let buf = input.fill_buf().map_err(|source| ImportError::Io { file: file.to_string(), source })?;
        if buf.is_empty() {
            return Ok(None);
        }
        // Decoders drop the byte-order mark; white space before the first record is skipped by
        // the parsers anyway.
        match buf.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(i) => return Ok(Some(buf[i])),
            None => {
                let n = buf.len();
                input.consume(n);
            }
        }
    }
}

/// Checks that every override names one of our fields; returns them as (field index, column).
fn check_override_fields(options: &ImportOptions, specs: &[FieldSpec]) -> Result<Vec<(usize, String)>, ImportError> {
    options
        .column_map
        .iter()
        .map(|(field, column)| {
            let wanted = normalise(field);
            match specs.iter().position(|s| normalise(s.name) == wanted) {
                Some(i) => Ok((i, column.trim().to_string())),
                None => Err(ImportError::UnknownOverrideField {
                    file: options.file_name.clone(),
                    field: field.clone(),
                    known: specs.iter().map(|s| s.name.to_string()).collect(),
                }),
            }
        })
        .collect()
}
