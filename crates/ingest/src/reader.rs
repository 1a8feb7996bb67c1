//! The record reader: it opens a file (sniffing its format, skipping a byte-order mark), matches the
//! header to our fields, and then yields one record or one row error at a time, so an import of any
//! size runs in constant memory and one bad row never stops the rest.

use crate::build::{self, Built};
use crate::enrich::{DropReason, Enricher};
use crate::error::{ImportError, RowError};
use crate::fields::{self, ANONYMOUS_ID, CUSTOMER_ID, EMAIL, FieldSpec, ev, normalise, or, sp};
use crate::row::{Ctx, Fail, Row, Val};
use crate::{FileFormat, ImportOptions, Layout, Record, RecordKind};
use csv::ByteRecord;
use serde_json::Value;
use std::borrow::Cow;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::collections::VecDeque;
use std::fmt;
use std::io::{self, BufRead, BufReader, Cursor, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use trailmap_model::IncomingOrder;

/// The input after sniffing: the bytes already read, then the rest.
type Input = io::Chain<Cursor<Vec<u8>>, Counting>;

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

/// Reads one file into records. Iterate it for `Result<Record, RowError>`: an error rejects one row
/// and the reader goes on with the next. Rows dropped for a reason (bots, unpaid charges) are
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
    Csv(CsvSource),
    Ndjson(NdjsonSource),
}

struct CsvSource {
    reader: csv::Reader<Input>,
    record: ByteRecord,
    headers: Vec<String>,
    plan: Vec<Use>,
    delimiter: u8,
}

/// What a CSV column is used for.
#[derive(Debug, Clone, Copy)]
enum Use {
    Skip,
    Field(usize),
    /// Kept as a property under the column's own name.
    Extra,
    /// Kept as a property under this name (the few useful columns of Shopify and Stripe exports).
    Prop(&'static str),
}

struct NdjsonSource {
    reader: BufReader<Input>,
    buf: Vec<u8>,
    line: u64,
    keys: KeyMap,
}

/// What the reader yields and counts, apart from where it reads from.
#[derive(Debug, Default)]
struct Sink {
    enricher: Enricher,
    queue: VecDeque<Result<Record, RowError>>,
    dropped: Vec<(DropReason, u64)>,
    pending: Option<IncomingOrder>,
    rejected: Option<(String, u64)>,
}

impl RecordReader {
    /// Opens a file: sniffs the format when the options do not say it, reads and matches the CSV
    /// header, and checks the column overrides. Problems with the file as a whole are errors here;
    /// problems with rows come out of the iterator.
    pub fn new<R: Read + Send + 'static>(
        input: R,
        options: ImportOptions,
    ) -> Result<RecordReader, ImportError> {
        let file = options.file_name.clone();
        let bytes = Arc::new(AtomicU64::new(0));
        let mut counting = Counting {
            inner: Box::new(input),
            count: Arc::clone(&bytes),
        };
        let (prefix, first) = sniff(&mut counting, &file)?;
        let Some(first) = first else {
            return Err(ImportError::Empty { file });
        };
        let format = options
            .format
            .or_else(|| FileFormat::from_file_name(&file))
            .unwrap_or(if first == b'{' {
                FileFormat::Ndjson
            } else {
                FileFormat::Csv
            });
        let specs = fields::fields(options.kind);
        let overrides = check_override_fields(&options, specs)?;
        let input = Cursor::new(prefix).chain(counting);
        let (source, ctx) = match format {
            FileFormat::Csv => open_csv(input, &options, specs, &overrides)?,
            FileFormat::Ndjson => {
                let ctx = Ctx {
                    kind: options.kind,
                    layout: Layout::Generic,
                    currency: options.default_currency,
                    specs,
                    columns: vec![None; specs.len()],
                };
                let keys = KeyMap::new(options.kind, specs, &overrides);
                let source = NdjsonSource {
                    reader: BufReader::with_capacity(64 * 1024, input),
                    buf: Vec::new(),
                    line: 0,
                    keys,
                };
                (Source::Ndjson(source), ctx)
            }
        };
        Ok(RecordReader {
            file,
            format,
            ctx,
            source,
            sink: Sink::default(),
            bytes,
            done: false,
        })
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

    /// Reads one row (or the end of the file) and queues what it gives.
    fn step(&mut self) {
        let RecordReader {
            file,
            ctx,
            source,
            sink,
            done,
            ..
        } = self;
        match source {
            Source::Csv(csv) => match csv.reader.read_byte_record(&mut csv.record) {
                Ok(false) => {
                    sink.flush_order();
                    *done = true;
                }
                Ok(true) => {
                    let record = &csv.record;
                    let line = record.position().map_or(0, |p| p.line());
                    if record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
                        return;
                    }
                    let raw = || join_record(record, csv.delimiter);
                    if record.len() != csv.headers.len() {
                        let fail = Fail::row(format!(
                            "expected {} fields as in the header, found {}",
                            csv.headers.len(),
                            record.len()
                        ));
                        sink.reject(file, line, fail, raw());
                        return;
                    }
                    match csv_row(record, &csv.headers, &csv.plan, ctx.specs.len()) {
                        Ok(row) => sink.process(ctx, file, line, &row, raw),
                        Err(fail) => sink.reject(file, line, fail, raw()),
                    }
                }
                Err(e) => {
                    let line = e.position().map_or(0, |p| p.line());
                    sink.fatal(file, line, &e.to_string());
                    *done = true;
                }
            },
            Source::Ndjson(nd) => {
                nd.buf.clear();
                match nd.reader.read_until(b'\n', &mut nd.buf) {
                    Ok(0) => {
                        sink.flush_order();
                        *done = true;
                    }
                    Ok(_) => {
                        nd.line += 1;
                        let line = nd.line;
                        let bytes = nd.buf.trim_ascii();
                        if bytes.is_empty() {
                            return;
                        }
                        let raw = || String::from_utf8_lossy(bytes).into_owned();
                        let text = match std::str::from_utf8(bytes) {
                            Ok(text) => text,
                            Err(e) => {
                                let fail = Fail::row(format!(
                                    "not valid UTF-8 (at byte {})",
                                    e.valid_up_to() + 1
                                ));
                                sink.reject(file, line, fail, raw());
                                return;
                            }
                        };
                        let map = match serde_json::from_str::<Value>(text) {
                            Ok(Value::Object(map)) => map,
                            Ok(_) => {
                                sink.reject(file, line, Fail::row("not a JSON object"), raw());
                                return;
                            }
                            Err(e) => {
                                sink.reject(
                                    file,
                                    line,
                                    Fail::row(format!("not valid JSON: {e}")),
                                    raw(),
                                );
                                return;
                            }
                        };
                        let row = nd.keys.row(&map, ctx.specs.len());
                        sink.process(ctx, file, line, &row, raw);
                    }
                    Err(e) => {
                        sink.fatal(file, nd.line + 1, &e.to_string());
                        *done = true;
                    }
                }
            }
        }
    }
}

impl Iterator for RecordReader {
    type Item = Result<Record, RowError>;

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
        let result = match ctx.kind {
            RecordKind::Events => build::event(row, ctx, &mut self.enricher).map(|b| match b {
                Built::Record(e) => Built::Record(Record::Event(e)),
                Built::Drop(r) => Built::Drop(r),
            }),
            RecordKind::Customers => {
                build::customer(row, ctx).map(|c| Built::Record(Record::Customer(c)))
            }
            RecordKind::Spend => build::spend(row, ctx).map(|s| Built::Record(Record::Spend(s))),
            RecordKind::Feedback => {
                build::feedback(row, ctx).map(|f| Built::Record(Record::Feedback(f)))
            }
            RecordKind::Orders => {
                if let Err(fail) = self.order_row(ctx, line, row) {
                    self.reject(file, line, fail, raw());
                }
                return;
            }
        };
        match result {
            Ok(Built::Record(record)) => self.queue.push_back(Ok(record)),
            Ok(Built::Drop(reason)) => self.count_drop(reason),
            Err(fail) => self.reject(file, line, fail, raw()),
        }
    }

    /// One row of an orders file: either more lines of the order being assembled, or the start of
    /// the next order (which yields the previous one).
    fn order_row(&mut self, ctx: &Ctx, line: u64, row: &Row) -> Result<(), Fail> {
        let id = row.require(ctx, or::ORDER_ID)?;
        if let Some(order) = self.pending.as_mut().filter(|o| o.external_id == id) {
            let lines = build::order_lines(row, ctx, order.total.currency)?;
            order.lines.extend(lines);
            return Ok(());
        }
        if let Some((rejected, at)) = self.rejected.as_ref().filter(|(r, _)| r == id) {
            return Err(Fail::row(format!(
                "a row of order `{rejected}`, which was rejected at line {at}"
            )));
        }
        self.flush_order();
        self.rejected = None;
        match build::order_head(row, ctx) {
            Ok(Built::Record(order)) => self.pending = Some(order),
            Ok(Built::Drop(reason)) => self.count_drop(reason),
            Err(fail) => {
                self.rejected = Some((id.to_string(), line));
                return Err(fail);
            }
        }
        Ok(())
    }

    fn flush_order(&mut self) {
        if let Some(order) = self.pending.take() {
            self.queue.push_back(Ok(Record::Order(order)));
        }
    }

    fn count_drop(&mut self, reason: DropReason) {
        match self.dropped.iter_mut().find(|(r, _)| *r == reason) {
            Some((_, n)) => *n += 1,
            None => self.dropped.push((reason, 1)),
        }
    }

    fn reject(&mut self, file: &str, line: u64, fail: Fail, raw: String) {
        self.queue.push_back(Err(RowError {
            file: file.to_string(),
            line,
            column: fail.column,
            reason: fail.reason,
            raw: Some(raw),
        }));
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

/// Reads until the first byte that is not white space, dropping a UTF-8 byte-order mark at the
/// start. Returns the bytes read and that first byte (None: the file is empty or blank).
fn sniff(input: &mut Counting, file: &str) -> Result<(Vec<u8>, Option<u8>), ImportError> {
    const BOM: &[u8] = b"\xEF\xBB\xBF";
    let mut prefix = Vec::new();
    let mut chunk = [0u8; 8192];
    let mut bom_checked = false;
    loop {
        let n = match input.read(&mut chunk) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(source) => {
                return Err(ImportError::Io {
                    file: file.to_string(),
                    source,
                });
            }
        };
        prefix.extend_from_slice(&chunk[..n]);
        if !bom_checked && (prefix.len() >= BOM.len() || n == 0) {
            if prefix.starts_with(BOM) {
                prefix.drain(..BOM.len());
            }
            bom_checked = true;
        }
        if bom_checked && let Some(&b) = prefix.iter().find(|b| !b.is_ascii_whitespace()) {
            return Ok((prefix, Some(b)));
        }
        if n == 0 {
            return Ok((prefix, None));
        }
    }
}

/// Checks that every override names one of our fields; returns them as (field index, column).
fn check_override_fields(
    options: &ImportOptions,
    specs: &[FieldSpec],
) -> Result<Vec<(usize, String)>, ImportError> {
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

/// The columns a layout fills before the aliases are tried: (field, the export's column names).
type Implicit = &'static [(usize, &'static [&'static str])];

const SHOPIFY_COLUMNS: Implicit = &[
    (or::ORDER_ID, &["Name"]),
    (EMAIL, &["Email"]),
    (or::TIME, &["Created at"]),
    (or::TOTAL, &["Total"]),
    (or::SUBTOTAL, &["Subtotal"]),
    (or::SHIPPING, &["Shipping"]),
    (or::TAX, &["Taxes"]),
    (or::DISCOUNT, &["Discount Amount"]),
    (or::CURRENCY, &["Currency"]),
    (or::STATUS, &["Financial Status"]),
    (or::SOURCE, &["Source"]),
    (or::QUANTITY, &["Lineitem quantity"]),
    (or::LINE_NAME, &["Lineitem name"]),
    (or::PRICE, &["Lineitem price"]),
    (or::SKU, &["Lineitem sku"]),
    (or::REFUNDED, &["Refunded Amount"]),
];

const SHOPIFY_PROPERTIES: &[(&str, &str)] = &[
    ("Id", "shopify_id"),
    ("Discount Code", "discount_code"),
    ("Fulfillment Status", "fulfillment_status"),
    ("Payment Method", "payment_method"),
    ("Shipping Method", "shipping_method"),
    ("Tags", "tags"),
    ("Location", "location"),
    ("Billing Country", "billing_country"),
    ("Cancelled at", "cancelled_at"),
];

const STRIPE_COLUMNS: Implicit = &[
    (or::ORDER_ID, &["id"]),
    (or::TIME, &["Created (UTC)", "Created date (UTC)"]),
    (or::TOTAL, &["Amount"]),
    (or::CURRENCY, &["Currency"]),
    (EMAIL, &["Customer Email"]),
    (CUSTOMER_ID, &["Customer ID"]),
    (or::STATUS, &["Status"]),
    (or::CAPTURED, &["Captured"]),
    (or::REFUNDED, &["Amount Refunded"]),
    (or::TAX, &["Tax"]),
];

const STRIPE_PROPERTIES: &[(&str, &str)] = &[
    ("Description", "description"),
    ("Customer Description", "customer_description"),
    ("Card Brand", "card_brand"),
];

fn detect_layout(kind: RecordKind, normalised: &[String]) -> Layout {
    if kind != RecordKind::Orders {
        return Layout::Generic;
    }
    let has: HashSet<&str> = normalised.iter().map(String::as_str).collect();
    let all = |names: &[&str]| names.iter().all(|n| has.contains(n));
    let any = |names: &[&str]| names.iter().any(|n| has.contains(n));
    if all(&["name", "email", "financialstatus", "lineitemname"]) {
        Layout::ShopifyOrders
    } else if all(&["id", "amount"])
        && any(&["createdutc", "createddateutc"])
        && any(&["status", "captured"])
        && any(&["customeremail", "customerid"])
    {
        Layout::StripePayments
    } else {
        Layout::Generic
    }
}

fn open_csv(
    input: Input,
    options: &ImportOptions,
    specs: &'static [FieldSpec],
    overrides: &[(usize, String)],
) -> Result<(Source, Ctx), ImportError> {
    let file = &options.file_name;
    let delimiter = if file.to_ascii_lowercase().ends_with(".tsv") {
        b'\t'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(input);
    let mut record = ByteRecord::new();
    let header_line;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) if record.iter().all(|f| f.trim_ascii().is_empty()) => continue,
            Ok(true) => {
                header_line = record.position().map_or(1, |p| p.line());
                break;
            }
            Ok(false) => return Err(ImportError::Empty { file: file.clone() }),
            Err(e) => {
                let line = e.position().map_or(1, |p| p.line());
                return Err(match e.into_kind() {
                    csv::ErrorKind::Io(source) => ImportError::Io {
                        file: file.clone(),
                        source,
                    },
                    other => ImportError::BadHeader {
                        file: file.clone(),
                        line,
                        reason: format!("{other:?}"),
                    },
                });
            }
        }
    }
    let mut headers = Vec::with_capacity(record.len());
    for field in record.iter() {
        let name = std::str::from_utf8(field).map_err(|_| ImportError::NotUtf8 {
            file: file.clone(),
            line: header_line,
        })?;
        headers.push(name.trim().to_string());
    }
    let mut seen = HashMap::default();
    for (i, name) in headers.iter().enumerate() {
        if name.is_empty() {
            continue;
        }
        if let Some(first) = seen.insert(name.as_str(), i) {
            return Err(ImportError::BadHeader {
                file: file.clone(),
                line: header_line,
                reason: format!(
                    "column `{name}` appears twice (columns {} and {})",
                    first + 1,
                    i + 1
                ),
            });
        }
    }
    let normalised: Vec<String> = headers.iter().map(|h| normalise(h)).collect();
    let layout = detect_layout(options.kind, &normalised);
    let (implicit, layout_props): (Implicit, &[(&str, &str)]) = match layout {
        Layout::Generic => (&[], &[]),
        Layout::ShopifyOrders => (SHOPIFY_COLUMNS, SHOPIFY_PROPERTIES),
        Layout::StripePayments => (STRIPE_COLUMNS, STRIPE_PROPERTIES),
    };

    let mut field_col: Vec<Option<usize>> = vec![None; specs.len()];
    let mut claimed = vec![false; headers.len()];
    for (field, column) in overrides {
        let found = headers
            .iter()
            .position(|h| h == column)
            .or_else(|| normalised.iter().position(|n| *n == normalise(column)));
        let Some(i) = found else {
            return Err(ImportError::UnknownOverrideColumn {
                file: file.clone(),
                field: specs[*field].name.to_string(),
                column: column.clone(),
                available: headers.clone(),
            });
        };
        field_col[*field] = Some(i);
        claimed[i] = true;
    }
    let mut claim = |field: usize, names: &[&str], field_col: &mut Vec<Option<usize>>| {
        if field_col[field].is_some() {
            return;
        }
        for name in names {
            let wanted = normalise(name);
            if let Some(i) = (0..headers.len()).find(|&i| !claimed[i] && normalised[i] == wanted) {
                field_col[field] = Some(i);
                claimed[i] = true;
                return;
            }
        }
    };
    for (field, names) in implicit {
        claim(*field, names, &mut field_col);
    }
    for (field, spec) in specs.iter().enumerate() {
        claim(field, spec.aliases, &mut field_col);
    }

    for (field, spec) in specs.iter().enumerate() {
        if spec.required && field_col[field].is_none() {
            return Err(missing(file, spec.name, &[spec]));
        }
    }
    let needs_identity = matches!(
        options.kind,
        RecordKind::Events | RecordKind::Customers | RecordKind::Orders
    );
    if needs_identity
        && [CUSTOMER_ID, EMAIL, ANONYMOUS_ID]
            .iter()
            .all(|&f| field_col[f].is_none())
    {
        let tried = [&specs[CUSTOMER_ID], &specs[EMAIL], &specs[ANONYMOUS_ID]];
        return Err(missing(file, "customer_id, email or anonymous_id", &tried));
    }
    if options.kind == RecordKind::Spend
        && [sp::START, sp::DATE, sp::MONTH]
            .iter()
            .all(|&f| field_col[f].is_none())
    {
        let tried = [&specs[sp::START], &specs[sp::DATE], &specs[sp::MONTH]];
        return Err(missing(file, "start, date or month", &tried));
    }

    let keeps_extras = matches!(options.kind, RecordKind::Events | RecordKind::Customers);
    let mut plan = vec![Use::Skip; headers.len()];
    for (field, col) in field_col.iter().enumerate() {
        if let Some(i) = col {
            plan[*i] = Use::Field(field);
        }
    }
    for (i, name) in headers.iter().enumerate() {
        if !matches!(plan[i], Use::Skip) || name.is_empty() {
            continue;
        }
        if let Some((_, prop)) = layout_props
            .iter()
            .find(|(col, _)| normalise(col) == normalised[i])
        {
            plan[i] = Use::Prop(prop);
        } else if keeps_extras {
            plan[i] = Use::Extra;
        }
    }
    let ctx = Ctx {
        kind: options.kind,
        layout,
        currency: options.default_currency,
        specs,
        columns: field_col
            .iter()
            .map(|c| c.map(|i| headers[i].clone()))
            .collect(),
    };
    let source = CsvSource {
        reader,
        record: ByteRecord::new(),
        headers,
        plan,
        delimiter,
    };
    Ok((Source::Csv(source), ctx))
}

fn missing(file: &str, field: &str, specs: &[&FieldSpec]) -> ImportError {
    ImportError::MissingColumn {
        file: file.to_string(),
        field: field.to_string(),
        tried: specs
            .iter()
            .flat_map(|s| s.aliases.iter().map(|a| a.to_string()))
            .collect(),
    }
}

/// Matches one CSV record's cells to fields. Only the cells that are used are decoded, so a
/// non-UTF-8 byte in an ignored column does not reject the row.
fn csv_row<'a>(
    record: &'a ByteRecord,
    headers: &'a [String],
    plan: &[Use],
    fields: usize,
) -> Result<Row<'a>, Fail> {
    let mut row = Row::with_fields(fields);
    for (i, bytes) in record.iter().enumerate() {
        let use_ = plan[i];
        if matches!(use_, Use::Skip) {
            continue;
        }
        let text = std::str::from_utf8(bytes).map_err(|e| Fail {
            column: Some(headers[i].clone()),
            reason: format!(
                "not valid UTF-8 (at byte {} of the cell)",
                e.valid_up_to() + 1
            ),
        })?;
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        match use_ {
            Use::Field(f) => {
                row.values[f] = Some(Val {
                    text: Cow::Borrowed(text),
                    column: &headers[i],
                })
            }
            Use::Extra => row.extras.push((
                Cow::Borrowed(headers[i].as_str()),
                Value::String(text.to_string()),
            )),
            Use::Prop(name) => row
                .extras
                .push((Cow::Borrowed(name), Value::String(text.to_string()))),
            Use::Skip => {}
        }
    }
    Ok(row)
}

/// A CSV record as text again, its fields quoted where needed, for a rejects file.
fn join_record(record: &ByteRecord, delimiter: u8) -> String {
    let delimiter = char::from(delimiter);
    let mut out = String::new();
    for (i, field) in record.iter().enumerate() {
        if i > 0 {
            out.push(delimiter);
        }
        let text = String::from_utf8_lossy(field);
        if text.contains([delimiter, '"', '\n', '\r']) {
            out.push('"');
            out.push_str(&text.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(&text);
        }
    }
    out
}

/// Keys of the Segment envelope that are not the event's data; they are left out of properties.
const ENVELOPE: [&str; 6] = [
    "integrations",
    "sentAt",
    "receivedAt",
    "originalTimestamp",
    "writeKey",
    "_metadata",
];
/// Segment's `channel` says which library sent the call, not the traffic channel.
const LIBRARY_CHANNELS: [&str; 4] = ["browser", "server", "client", "mobile"];
/// Keys of an NDJSON order that hold its line items.
const ITEM_KEYS: [&str; 5] = ["lines", "items", "lineitems", "products", "line_items"];

/// Matches NDJSON keys to fields. Keys repeat on every line, so each key's match is cached.
struct KeyMap {
    kind: RecordKind,
    /// Normalised alias to (field, rank); a lower rank is a better alias.
    aliases: HashMap<String, (usize, usize)>,
    overrides: HashMap<String, usize>,
    cache: HashMap<String, Option<(usize, usize)>>,
}

/// Values found under `context` rank after every top-level key.
const CONTEXT_RANK: usize = 1_000;

impl KeyMap {
    fn new(kind: RecordKind, specs: &[FieldSpec], overrides: &[(usize, String)]) -> KeyMap {
        let overridden: HashSet<usize> = overrides.iter().map(|(f, _)| *f).collect();
        let mut aliases = HashMap::default();
        for (field, spec) in specs.iter().enumerate() {
            if overridden.contains(&field) {
                continue;
            }
            for (rank, alias) in spec.aliases.iter().enumerate() {
                aliases.entry(normalise(alias)).or_insert((field, rank + 1));
            }
        }
        let overrides = overrides.iter().map(|(f, key)| (key.clone(), *f)).collect();
        KeyMap {
            kind,
            aliases,
            overrides,
            cache: HashMap::default(),
        }
    }

    fn lookup(&mut self, key: &str) -> Option<(usize, usize)> {
        if let Some(hit) = self.cache.get(key) {
            return *hit;
        }
        let found = match self.overrides.get(key) {
            Some(&field) => Some((field, 0)),
            None => self.aliases.get(&normalise(key)).copied(),
        };
        if self.cache.len() < 4_096 {
            self.cache.insert(key.to_string(), found);
        }
        found
    }

    fn row<'a>(&mut self, map: &'a serde_json::Map<String, Value>, fields: usize) -> Row<'a> {
        let events = self.kind == RecordKind::Events;
        let keeps_extras = matches!(self.kind, RecordKind::Events | RecordKind::Customers);
        let mut row = Row::with_fields(fields);
        let mut ranks = vec![usize::MAX; fields];
        for (key, value) in map {
            if events && key == "context" {
                if let Value::Object(context) = value {
                    take_context(context, &mut row, &mut ranks);
                }
                continue;
            }
            if events && ENVELOPE.contains(&key.as_str()) {
                continue;
            }
            match self.lookup(key) {
                Some((field, rank)) => {
                    let properties_field = match self.kind {
                        RecordKind::Events => Some(ev::PROPERTIES),
                        RecordKind::Customers => Some(fields::cu::PROPERTIES),
                        _ => None,
                    };
                    if Some(field) == properties_field
                        && let Value::Object(nested) = value
                    {
                        row.nested.push(nested);
                        continue;
                    }
                    let Some(text) = scalar(value) else { continue };
                    if events && field == ev::CHANNEL && LIBRARY_CHANNELS.contains(&text.as_ref()) {
                        continue;
                    }
                    if rank < ranks[field] {
                        ranks[field] = rank;
                        row.values[field] = Some(Val { text, column: key });
                    }
                }
                None => {
                    if self.kind == RecordKind::Orders
                        && ITEM_KEYS.contains(&normalise(key).as_str())
                        && let Value::Array(items) = value
                    {
                        row.items = Some(items);
                    } else if keeps_extras
                        && key == "traits"
                        && let Value::Object(nested) = value
                    {
                        row.nested.push(nested);
                    } else if keeps_extras && !value.is_null() {
                        row.extras
                            .push((Cow::Borrowed(key.as_str()), value.clone()));
                    }
                }
            }
        }
        row
    }
}

/// Takes what Segment puts under `context`: the page's URL and referrer, the campaign, and the
/// user agent.
fn take_context<'a>(
    context: &'a serde_json::Map<String, Value>,
    row: &mut Row<'a>,
    ranks: &mut [usize],
) {
    let mut put = |field: usize, value: Option<&'a Value>, column: &'static str| {
        if let Some(text) = value.and_then(scalar)
            && CONTEXT_RANK < ranks[field]
        {
            ranks[field] = CONTEXT_RANK;
            row.values[field] = Some(Val { text, column });
        }
    };
    let page = context.get("page");
    put(
        ev::PAGE,
        page.and_then(|p| p.get("url")),
        "context.page.url",
    );
    put(
        ev::REFERRER,
        page.and_then(|p| p.get("referrer")),
        "context.page.referrer",
    );
    let campaign = context.get("campaign");
    put(
        ev::SOURCE,
        campaign.and_then(|c| c.get("source")),
        "context.campaign.source",
    );
    put(
        ev::MEDIUM,
        campaign.and_then(|c| c.get("medium")),
        "context.campaign.medium",
    );
    put(
        ev::CAMPAIGN,
        campaign.and_then(|c| c.get("name")),
        "context.campaign.name",
    );
    put(
        ev::USER_AGENT,
        context.get("userAgent"),
        "context.userAgent",
    );
}

/// A JSON value as a field's text: strings trimmed (blank is absent), numbers and booleans as
/// written, objects and arrays as JSON text, null absent.
fn scalar(value: &Value) -> Option<Cow<'_, str>> {
    match value {
        Value::Null => None,
        Value::String(s) => {
            let t = s.trim();
            (!t.is_empty()).then_some(Cow::Borrowed(t))
        }
        Value::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        other => Some(Cow::Owned(other.to_string())),
    }
}
