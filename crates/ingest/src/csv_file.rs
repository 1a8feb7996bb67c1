//! CSV files: records read in bounded memory, the header matched to our fields, and the layouts
//! of Shopify's and Stripe's exports recognised.
//!
//! Records are parsed with `csv_core`'s push parser rather than the `csv` crate's reader, because
//! that reader holds a whole record in memory however long it is: a 50 MB line becomes one 50 MB
//! field. Here a record past [`MAX_RECORD_BYTES`] is refused (its line named) while the parser
//! skips to its end, keeping nothing of it. Line numbers count physical lines from 1, a quoted
//! line break included, so they match what an editor shows.

use crate::error::{Hint, ImportError};
use crate::fields::{ANONYMOUS_ID, CUSTOMER_ID, EMAIL, FieldSpec, normalise, or, sp};
use crate::row::{Ctx, Fail, Row, Val};
use crate::text::MAX_RECORD_BYTES;
use crate::{ImportOptions, Layout, RecordKind};
use csv_core::ReadRecordResult;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use serde_json::Value;
use std::borrow::Cow;
use std::io::{self, BufRead};

/// Most fields one record may have; more is a broken file, not data.
const MAX_FIELDS: usize = 4096;

/// What one read gives.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum CsvRead {
    /// A record starting on this line; its fields are in the reader until the next read.
    Record(u64),
    /// A record starting on this line was longer than [`MAX_RECORD_BYTES`] (or had more than
    /// [`MAX_FIELDS`] fields) and was skipped.
    TooLong(u64),
    End,
}

/// Reads CSV records one at a time with bounded memory.
pub(crate) struct CsvRecords<R> {
    input: R,
    core: csv_core::Reader,
    /// The current record's field bytes, one after another.
    out: Vec<u8>,
    /// Where each field ends in `out`.
    ends: Vec<usize>,
    fields: usize,
    /// Line breaks consumed so far: the next byte is on line `newlines + 1`.
    newlines: u64,
    pub delimiter: u8,
}

impl<R: BufRead> CsvRecords<R> {
    pub fn new(input: R, delimiter: u8) -> CsvRecords<R> {
        CsvRecords {
            input,
            core: csv_core::ReaderBuilder::new().delimiter(delimiter).build(),
            out: vec![0; 4096],
            ends: vec![0; 64],
            fields: 0,
            newlines: 0,
            delimiter,
        }
    }

    /// The fields of the record the last [`CsvRecords::read`] returned.
    pub fn fields(&self) -> impl ExactSizeIterator<Item = &[u8]> + '_ {
        (0..self.fields).map(|i| {
            let start = if i == 0 { 0 } else { self.ends[i - 1] };
            &self.out[start..self.ends[i]]
        })
    }

    pub fn len(&self) -> usize {
        self.fields
    }

    pub fn read(&mut self) -> io::Result<CsvRead> {
        // Blank lines between records are skipped here (csv_core would skip them too), so the
        // line a record starts on is known.
        loop {
            let buf = self.input.fill_buf()?;
            let blank = buf.iter().take_while(|&&b| b == b'\n' || b == b'\r').count();
            self.newlines += newlines(&buf[..blank]);
            let rest = buf.len() - blank;
            self.input.consume(blank);
            if rest > 0 || blank == 0 {
                break;
            }
        }
        let line = self.newlines + 1;
        let (mut nout, mut nend) = (0, 0);
        let mut too_long = false;
        loop {
            let buf = self.input.fill_buf()?;
            let (result, nin, out, end) = self.core.read_record(buf, &mut self.out[nout..], &mut self.ends[nend..]);
            self.newlines += newlines(&buf[..nin]);
            self.input.consume(nin);
            if too_long {
                // Skipping: nothing of the record is kept.
                (nout, nend) = (0, 0);
            } else {
                nout += out;
                nend += end;
            }
            match result {
                ReadRecordResult::InputEmpty => {}
                ReadRecordResult::OutputFull if too_long => {}
                ReadRecordResult::OutputFull => {
                    if self.out.len() >= MAX_RECORD_BYTES {
                        too_long = true;
                        (nout, nend) = (0, 0);
                    } else {
                        let grown = (self.out.len() * 2).min(MAX_RECORD_BYTES);
                        self.out.resize(grown, 0);
                    }
                }
                ReadRecordResult::OutputEndsFull if too_long => {}
                ReadRecordResult::OutputEndsFull => {
                    if self.ends.len() >= MAX_FIELDS {
                        too_long = true;
                        (nout, nend) = (0, 0);
                    } else {
                        let grown = (self.ends.len() * 2).min(MAX_FIELDS);
                        self.ends.resize(grown, 0);
                    }
                }
                ReadRecordResult::Record if too_long => {
                    self.fields = 0;
                    return Ok(CsvRead::TooLong(line));
                }
                ReadRecordResult::Record => {
                    self.fields = nend;
                    return Ok(CsvRead::Record(line));
                }
                ReadRecordResult::End => {
                    self.fields = 0;
                    return Ok(CsvRead::End);
                }
            }
        }
    }

    /// The current record as text again, its fields quoted where needed, for a rejects file.
    pub fn raw(&self) -> String {
        let delimiter = char::from(self.delimiter);
        let mut out = String::new();
        for (i, field) in self.fields().enumerate() {
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
}

fn newlines(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&b| b == b'\n').count() as u64
}

/// What a CSV column is used for.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Use {
    Skip,
    Field(usize),
    /// Kept as a property under the column's own name.
    Extra,
    /// Kept as a property under this name (the few useful columns of Shopify and Stripe exports).
    Prop(&'static str),
}

/// A CSV file after its header: the records and what each column is for.
pub(crate) struct CsvSource<R> {
    pub records: CsvRecords<R>,
    pub headers: Vec<String>,
    pub plan: Vec<Use>,
}

/// Reads the header (the first non-blank record), detects the layout and matches columns to
/// fields. A header that fails says what would read it, when the file looks `;`- or
/// tab-separated or not UTF-8.
pub(crate) fn open<R: BufRead>(
    input: R,
    options: &ImportOptions,
    specs: &'static [FieldSpec],
    overrides: &[(usize, String)],
) -> Result<(CsvSource<R>, Ctx), ImportError> {
    let file = &options.file_name;
    let delimiter = options.delimiter.unwrap_or(if file.to_ascii_lowercase().ends_with(".tsv") { b'\t' } else { b',' });
    let mut records = CsvRecords::new(input, delimiter);
    let header_line = loop {
        match records.read() {
            Ok(CsvRead::Record(_)) if records.fields().all(|f| f.trim_ascii().is_empty()) => continue,
            Ok(CsvRead::Record(line)) => break line,
            Ok(CsvRead::TooLong(line)) => {
                return Err(ImportError::BadHeader {
                    file: file.clone(),
                    line,
                    reason: format!("the header is longer than {} KiB; is this a CSV file?", MAX_RECORD_BYTES / 1024),
                });
            }
            Ok(CsvRead::End) => return Err(ImportError::Empty { file: file.clone() }),
            Err(source) => return Err(ImportError::Io { file: file.clone(), source }),
        }
    };
    let mut headers = Vec::with_capacity(records.len());
    for field in records.fields() {
        let name = std::str::from_utf8(field).map_err(|_| ImportError::NotUtf8 {
            file: file.clone(),
            line: header_line,
            hint: Hint::Encoding("windows-1252"),
        })?;
        if name.contains('\0') {
            return Err(ImportError::BadHeader {
                file: file.clone(),
                line: header_line,
                reason: format!("the header holds NUL bytes: the file looks like UTF-16 without a byte-order mark; {}", Hint::Encoding("utf-16le")),
            });
        }
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
                reason: format!("column `{name}` appears twice (columns {} and {})", first + 1, i + 1),
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
    // When the file has one column whose name holds another delimiter, that delimiter is what
    // would read it.
    let hint = delimiter_hint(&headers, delimiter);

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
            return Err(missing(file, spec.name, &[spec], hint));
        }
    }
    let needs_identity = matches!(options.kind, RecordKind::Events | RecordKind::Customers | RecordKind::Orders);
    if needs_identity && [CUSTOMER_ID, EMAIL, ANONYMOUS_ID].iter().all(|&f| field_col[f].is_none()) {
        let tried = [&specs[CUSTOMER_ID], &specs[EMAIL], &specs[ANONYMOUS_ID]];
        return Err(missing(file, "customer_id, email or anonymous_id", &tried, hint));
    }
    if options.kind == RecordKind::Spend && [sp::START, sp::DATE, sp::MONTH].iter().all(|&f| field_col[f].is_none()) {
        let tried = [&specs[sp::START], &specs[sp::DATE], &specs[sp::MONTH]];
        return Err(missing(file, "start, date or month", &tried, hint));
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
        if let Some((_, prop)) = layout_props.iter().find(|(col, _)| normalise(col) == normalised[i]) {
            plan[i] = Use::Prop(prop);
        } else if keeps_extras {
            plan[i] = Use::Extra;
        }
    }
    let ctx = Ctx {
        kind: options.kind,
        layout,
        currency: options.default_currency,
        decimal_mark: options.decimal_mark_for(layout),
        specs,
        columns: field_col.iter().map(|c| c.map(|i| headers[i].clone())).collect(),
    };
    Ok((CsvSource { records, headers, plan }, ctx))
}

/// The delimiter a one-column header seems to be written with, when it is not the one used.
fn delimiter_hint(headers: &[String], delimiter: u8) -> Option<Hint> {
    let [only] = headers else { return None };
    [b';', b'\t', b'|', b',']
        .into_iter()
        .filter(|&d| d != delimiter)
        .find(|&d| only.as_bytes().contains(&d))
        .map(Hint::Delimiter)
}

fn missing(file: &str, field: &str, specs: &[&FieldSpec], hint: Option<Hint>) -> ImportError {
    ImportError::MissingColumn {
        file: file.to_string(),
        field: field.to_string(),
        tried: specs.iter().flat_map(|s| s.aliases.iter().map(|a| a.to_string())).collect(),
        hint,
    }
}

/// Matches the current record's cells to fields. Only the cells that are used are decoded and
/// checked, so a bad byte in an ignored column does not reject the row.
pub(crate) fn row<'a, R: BufRead>(source: &'a CsvSource<R>, fields: usize) -> Result<Row<'a>, Fail> {
    let mut row = Row::with_fields(fields);
    for (i, bytes) in source.records.fields().enumerate() {
        let use_ = source.plan[i];
        if matches!(use_, Use::Skip) {
            continue;
        }
        let column = &source.headers[i];
        let text = std::str::from_utf8(bytes).map_err(|e| Fail {
            column: Some(column.clone()),
            reason: format!(
                "not valid UTF-8 (at byte {} of the cell); {}",
                e.valid_up_to() + 1,
                Hint::Encoding("windows-1252")
            ),
        })?;
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        match use_ {
            Use::Field(f) => row.values[f] = Some(Val { text: Cow::Borrowed(text), column, json_number: false }),
            Use::Extra => row.extras.push((Cow::Borrowed(column.as_str()), Value::String(text.to_string()))),
            Use::Prop(name) => row.extras.push((Cow::Borrowed(name), Value::String(text.to_string()))),
            Use::Skip => {}
        }
    }
    Ok(row)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn all(data: &[u8]) -> Vec<(CsvRead, Vec<String>)> {
        let mut records = CsvRecords::new(io::BufReader::with_capacity(7, data), b',');
        let mut out = Vec::new();
        loop {
            let read = records.read().unwrap();
            let fields = records.fields().map(|f| String::from_utf8_lossy(f).into_owned()).collect();
            let end = read == CsvRead::End;
            out.push((read, fields));
            if end {
                return out;
            }
        }
    }

    #[test]
    fn records_know_their_lines_across_blank_lines_and_quoted_breaks() {
        let got = all(b"a,b\n\n\"x\ny\",2\r\n\r\n3,4\n5,6");
        let lines: Vec<&CsvRead> = got.iter().map(|(r, _)| r).collect();
        assert_eq!(lines, vec![&CsvRead::Record(1), &CsvRead::Record(3), &CsvRead::Record(6), &CsvRead::Record(7), &CsvRead::End]);
        assert_eq!(got[1].1, vec!["x\ny", "2"]);
        assert_eq!(got[3].1, vec!["5", "6"]);
    }

    #[test]
    fn a_record_past_the_limit_is_skipped_whole_and_the_next_is_read() {
        let mut data = b"a,b\n1,".to_vec();
        data.extend(std::iter::repeat_n(b'x', MAX_RECORD_BYTES + 10));
        data.extend(b"\n2,3\n");
        let got = all(&data);
        assert_eq!(got[1].0, CsvRead::TooLong(2));
        assert_eq!(got[2], (CsvRead::Record(3), vec!["2".to_string(), "3".to_string()]));
        // A long quoted field with line breaks in it is skipped to its end too.
        let mut data = b"a,b\n\"".to_vec();
        for _ in 0..(MAX_RECORD_BYTES / 1000 + 5) {
            data.extend(std::iter::repeat_n(b'y', 999));
            data.push(b'\n');
        }
        data.extend(b"\",1\n2,3\n");
        // The quoted field ends on the line after its last break; the next record starts one further.
        let got = all(&data);
        assert_eq!(got[1].0, CsvRead::TooLong(2));
        assert_eq!(got[2].0, CsvRead::Record(2 + MAX_RECORD_BYTES as u64 / 1000 + 5 + 1));
    }
}
