//! The record reader: it opens a file (sniffing its format, skipping a UTF-8 byte-order mark,
//! decoding UTF-16 or a declared encoding), matches the header to our fields, and then yields one
//! record or one row error at a time, so an import of any size runs in bounded memory and one bad
//! row never stops the rest. The formats themselves are in `csv_file`, `ndjson_file` and
//! `parquet_file` (whose columns are matched by `columns`, as a CSV header's are); the rules about
//! values in `row`, `build`, `text` and `number`.

use crate::build::{self, Built};
use crate::csv_file::{self, CsvRead, CsvSource};
use crate::enrich::{DropReason, Enricher};
use crate::error::{Hint, ImportError, RowError};
use crate::fields::{self, FieldSpec, normalise, or};
use crate::columns::MissingColumn;
use crate::ndjson_file::{LineRead, NdjsonSource};
use crate::parquet_file::{self, ParquetRead, ParquetSource};
use crate::row::{Ctx, Fail, Row};
use crate::text::MAX_RECORD_BYTES;
use crate::{FileFormat, ImportOptions, Layout, Record, RecordAt, RecordKind};
use serde_json::Value;
use std::collections::VecDeque;
use std::fmt;
use std::fs::File;
use std::io::{self, BufReader, Cursor, Read, Seek, SeekFrom};
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
    /// The encoding the text is read in (Parquet's strings are UTF-8).
    encoding: &'static str,
    /// A CSV file's delimiter.
    delimiter: Option<u8>,
    /// What the file lacks (only a lenient reader, see [`RecordReader::inspect`], opens such a file).
    missing: Vec<MissingColumn>,
    /// For a lenient reader of NDJSON: the keys seen so far and the key that filled each field.
    observed: Option<Observed>,
}

/// What an inspecting reader has seen of an NDJSON file's keys.
#[derive(Debug, Default)]
struct Observed {
    keys: Vec<String>,
    fields: Vec<Option<String>>,
}

/// Keys of an NDJSON file an inspecting reader lists at most.
const OBSERVED_KEYS: usize = 256;

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
    Parquet(Box<ParquetSource>),
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

/// Whether a file that lacks a required column is refused (an import) or opened anyway, each row
/// then failing on what it lacks (a preview, which shows the mapping to fix).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Strictness {
    Strict,
    Lenient,
}

impl RecordReader {
    /// Opens a stream of CSV or NDJSON: sniffs the format when the options do not say it, reads
    /// and matches the CSV header, and checks the column overrides. Problems with the file as a
    /// whole are errors here; problems with rows come out of the iterator. A Parquet file needs
    /// random access: open it with [`RecordReader::open`].
    pub fn new<R: Read + Send + 'static>(input: R, options: ImportOptions) -> Result<RecordReader, ImportError> {
        RecordReader::from_stream(input, options, Strictness::Strict)
    }

    /// Opens a file of any format: Parquet when it starts with Parquet's magic bytes (or the
    /// options or its name say Parquet, which it must then be), else CSV or NDJSON as
    /// [`RecordReader::new`] reads them. A file that is not the format the options say is an
    /// [`ImportError::WrongFormat`].
    pub fn open(file: File, options: ImportOptions) -> Result<RecordReader, ImportError> {
        RecordReader::open_file(file, options, Strictness::Strict)
    }

    /// Opens a file as [`RecordReader::open`] does, for a preview: a file lacking a required
    /// column is opened anyway (its rows then fail on what they lack, and
    /// [`RecordReader::missing_columns`] lists it), and for NDJSON the keys of the rows read are
    /// noted so [`RecordReader::columns`] and [`RecordReader::mapping`] can show them.
    pub fn inspect(file: File, options: ImportOptions) -> Result<RecordReader, ImportError> {
        RecordReader::open_file(file, options, Strictness::Lenient)
    }

    fn open_file(mut file: File, options: ImportOptions, strictness: Strictness) -> Result<RecordReader, ImportError> {
        let name = options.file_name.clone();
        let io = |source: io::Error| ImportError::Io { file: name.clone(), source };
        let mut prefix = Vec::with_capacity(8);
        (&mut file).take(8).read_to_end(&mut prefix).map_err(io)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        let parquet = prefix.starts_with(crate::PARQUET_MAGIC);
        let by_name = FileFormat::from_file_name(&name);
        match (options.format, parquet) {
            (Some(claimed @ (FileFormat::Csv | FileFormat::Ndjson)), true) => {
                return Err(ImportError::WrongFormat { file: name, claimed: claimed.as_str().to_uppercase(), found: "a Parquet file".into() });
            }
            (Some(FileFormat::Parquet), false) => return Err(not_parquet(&name, &prefix)),
            (None, false) if by_name == Some(FileFormat::Parquet) => return Err(not_parquet(&name, &prefix)),
            (Some(claimed @ (FileFormat::Csv | FileFormat::Ndjson)), false) => {
                if let Some(found) = binary_kind(&prefix) {
                    return Err(ImportError::WrongFormat { file: name, claimed: claimed.as_str().to_uppercase(), found: found.into() });
                }
            }
            _ => {}
        }
        if !parquet {
            return RecordReader::from_stream(file, options, strictness);
        }
        let specs = fields::fields(options.kind);
        let overrides = check_override_fields(&options, specs)?;
        let (source, ctx, missing) = parquet_file::open(file, &options, specs, &overrides)?;
        if strictness == Strictness::Strict
            && let Some(first) = missing.first()
        {
            return Err(first.error(&name, None));
        }
        Ok(RecordReader {
            file: name,
            format: FileFormat::Parquet,
            ctx,
            source: Source::Parquet(Box::new(source)),
            sink: Sink::default(),
            bytes: Arc::new(AtomicU64::new(0)),
            done: false,
            encoding: "UTF-8",
            delimiter: None,
            missing,
            observed: None,
        })
    }

    fn from_stream<R: Read + Send + 'static>(input: R, options: ImportOptions, strictness: Strictness) -> Result<RecordReader, ImportError> {
        let file = options.file_name.clone();
        let bytes = Arc::new(AtomicU64::new(0));
        let mut counting = Counting { inner: Box::new(input), count: Arc::clone(&bytes) };
        let sniffed = sniff(&mut counting, &file)?;
        if sniffed.prefix.starts_with(crate::PARQUET_MAGIC) {
            return Err(ImportError::Options { file, reason: "this is a Parquet file, which is read from a file, not a stream".into() });
        }
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
        let format = match options.format.or_else(|| FileFormat::from_file_name(&file)) {
            Some(FileFormat::Parquet) => return Err(not_parquet(&file, &[])),
            Some(format) => format,
            None if first == b'{' => FileFormat::Ndjson,
            None => FileFormat::Csv,
        };
        let specs = fields::fields(options.kind);
        let overrides = check_override_fields(&options, specs)?;
        let mut missing = Vec::new();
        let mut delimiter = None;
        let mut observed = None;
        let (source, ctx) = match format {
            FileFormat::Csv => {
                let (source, ctx, lacking, hint) = csv_file::open(input, &options, specs, &overrides)?;
                if strictness == Strictness::Strict
                    && let Some(first) = lacking.first()
                {
                    return Err(first.error(&file, hint));
                }
                missing = lacking;
                delimiter = Some(source.records.delimiter);
                (Source::Csv(Box::new(source)), ctx)
            }
            FileFormat::Ndjson | FileFormat::Parquet => {
                let ctx = Ctx {
                    kind: options.kind,
                    layout: Layout::Generic,
                    currency: options.default_currency,
                    decimal_mark: options.decimal_mark_for(Layout::Generic),
                    specs,
                    columns: vec![None; specs.len()],
                };
                if strictness == Strictness::Lenient {
                    observed = Some(Observed { keys: Vec::new(), fields: vec![None; specs.len()] });
                }
                (Source::Ndjson(NdjsonSource::new(input, options.kind, specs, &overrides)), ctx)
            }
        };
        let encoding = encoding.unwrap_or(encoding_rs::UTF_8).name();
        Ok(RecordReader { file, format, ctx, source, sink: Sink::default(), bytes, done: false, encoding, delimiter, missing, observed })
    }

    /// The file's layout, detected from its CSV header or Parquet columns, or given by the
    /// import (always generic for NDJSON and for kinds other than orders).
    pub fn layout(&self) -> Layout {
        self.ctx.layout
    }

    pub fn format(&self) -> FileFormat {
        self.format
    }

    pub fn kind(&self) -> RecordKind {
        self.ctx.kind
    }

    /// The text encoding the file is read in (its WHATWG name, `UTF-8` for Parquet).
    pub fn encoding(&self) -> &'static str {
        self.encoding
    }

    /// A CSV file's delimiter (None for NDJSON and Parquet).
    pub fn delimiter(&self) -> Option<u8> {
        self.delimiter
    }

    /// The decimal mark numbers written as text are read with: the import's, else the layout's,
    /// else the business's; None when none says it (a number that depends on it is refused).
    pub fn decimal_mark(&self) -> Option<trailmap_model::DecimalMark> {
        self.ctx.decimal_mark
    }

    /// Bytes read from the input so far (ahead of the records yielded by up to a buffer's worth).
    /// For Parquet, the share of the file's size that the rows read so far make.
    pub fn bytes_read(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    /// How many rows were skipped, by reason, so far. Only reasons that occurred are listed.
    pub fn dropped(&self) -> &[(DropReason, u64)] {
        &self.sink.dropped
    }

    /// What the file lacks: required fields (or groups of fields) no column fills. Always empty
    /// for a strict reader, which refuses such a file.
    pub fn missing_columns(&self) -> &[MissingColumn] {
        &self.missing
    }

    /// For CSV and Parquet files, which of its columns fills each of our fields: (field, column).
    /// For NDJSON, what an inspecting reader has seen so far (keys are matched per record).
    pub fn matched_columns(&self) -> Vec<(&'static str, String)> {
        self.mapping().into_iter().filter_map(|(field, column)| Some((field, column?))).collect()
    }

    /// Every field of the kind, in order, with the column (or NDJSON key) that fills it.
    pub fn mapping(&self) -> Vec<(&'static str, Option<String>)> {
        let columns = match &self.observed {
            Some(observed) => &observed.fields,
            None => &self.ctx.columns,
        };
        self.ctx.specs.iter().zip(columns).map(|(spec, column)| (spec.name, column.clone())).collect()
    }

    /// The file's columns in order: a CSV header, a Parquet schema's top-level columns, or the
    /// keys an inspecting reader has seen in an NDJSON file so far (empty for a strict one).
    pub fn columns(&self) -> &[String] {
        match (&self.source, &self.observed) {
            (Source::Csv(csv), _) => &csv.headers,
            (Source::Parquet(parquet), _) => &parquet.headers,
            (Source::Ndjson(_), Some(observed)) => &observed.keys,
            (Source::Ndjson(_), None) => &[],
        }
    }

    /// Reads one row (or the end of the file) and queues what it gives.
    fn step(&mut self) {
        let RecordReader { file, ctx, source, sink, done, observed, bytes, .. } = self;
        match source {
            Source::Parquet(parquet) => match parquet.read() {
                ParquetRead::End => {
                    sink.flush_order();
                    *done = true;
                }
                ParquetRead::Failed(row, reason) => {
                    sink.fatal(file, row, &reason);
                    *done = true;
                }
                ParquetRead::Row(number) => {
                    let raw = || parquet.raw();
                    match parquet.row(ctx.specs.len()) {
                        Ok(row) => sink.process(ctx, file, number, &row, raw),
                        Err(fail) => sink.reject(file, number, fail, Some(raw())),
                    }
                    if let Some(share) = parquet.file_size.saturating_mul(parquet.rows_read()).checked_div(parquet.total_rows) {
                        bytes.store(share, Ordering::Relaxed);
                    }
                }
            },
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
                    if let Some(observed) = observed.as_mut() {
                        observed.note(&map, &row);
                    }
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

impl Observed {
    /// Notes an NDJSON record's keys and the key that filled each field, first seen first.
    fn note(&mut self, map: &serde_json::Map<String, Value>, row: &Row) {
        for key in map.keys() {
            if self.keys.len() < OBSERVED_KEYS && !self.keys.contains(key) {
                self.keys.push(key.clone());
            }
        }
        for (field, value) in row.values.iter().enumerate() {
            if let (Some(value), Some(slot)) = (value, self.fields.get_mut(field))
                && slot.is_none()
            {
                *slot = Some(value.column.to_string());
            }
        }
    }
}

/// What a file that should be Parquet is instead, as an error.
fn not_parquet(file: &str, prefix: &[u8]) -> ImportError {
    let found = match binary_kind(prefix) {
        Some(kind) => kind.to_string(),
        None if prefix.is_empty() => "empty or not a Parquet file (no Parquet magic bytes `PAR1` at its start)".to_string(),
        None => "not a Parquet file (no Parquet magic bytes `PAR1` at its start; CSV or NDJSON?)".to_string(),
    };
    ImportError::WrongFormat { file: file.to_string(), claimed: "Parquet".into(), found }
}

/// What a binary file is, by its first bytes, when it is a kind people upload by mistake.
fn binary_kind(prefix: &[u8]) -> Option<&'static str> {
    const KINDS: [(&[u8], &str); 5] = [
        (b"PAR1", "a Parquet file"),
        (b"PK\x03\x04", "a ZIP archive (an Excel workbook? save it as CSV)"),
        (b"\xD0\xCF\x11\xE0", "an old Excel or Office file (save it as CSV)"),
        (b"\x1F\x8B", "gzip-compressed (uncompress it first)"),
        (b"%PDF", "a PDF document"),
    ];
    KINDS.iter().find(|(magic, _)| prefix.starts_with(magic)).map(|(_, kind)| *kind)
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
