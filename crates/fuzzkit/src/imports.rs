//! The file importers' targets: CSV (every record kind, with the generic, Shopify and Stripe
//! headers put in front so the fuzzer spends its time on rows under each layout) and NDJSON (every
//! kind), both through `RecordReader`, the one reader the CLI, the web upload and the API use.
//!
//! What must hold for any bytes: opening fails with an error that names the file, or the reader
//! yields a bounded number of items, each a record of the kind asked for whose every string keeps
//! the text rules, or a row error naming the file and a line inside it.

use crate::{Outcome, assert_clean_text, json_of, line_count};
use std::io::Cursor;
use trailmap_ingest::{FileEncoding, FileFormat, ImportOptions, Record, RecordKind, RecordReader};
use trailmap_model::DecimalMark;

/// Shopify's orders export header, as Shopify writes it.
const SHOPIFY_HEADER: &str = "Name,Email,Financial Status,Paid at,Fulfillment Status,Fulfilled at,Accepts Marketing,Currency,Subtotal,Shipping,Taxes,Total,Discount Code,Discount Amount,Shipping Method,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem compare at price,Lineitem sku,Lineitem requires shipping,Lineitem taxable,Lineitem fulfillment status,Billing Name,Billing Street,Billing City,Billing Zip,Billing Country,Billing Phone,Notes,Cancelled at,Payment Method,Refunded Amount,Vendor,Id,Tags,Risk Level,Source,Lineitem discount,Phone,Location\n";

/// Stripe's payments export header (`unified_payments.csv`).
const STRIPE_HEADER: &str = "id,Description,Seller Message,Created (UTC),Amount,Amount Refunded,Currency,Converted Amount,Converted Amount Refunded,Fee,Tax,Converted Currency,Mode,Status,Statement Descriptor,Customer ID,Customer Description,Customer Email,Captured,Card ID,Card Last4,Card Brand\n";

/// CSV import. The first byte picks the kind (its value mod 5) and the header put in front of the
/// rest (none, our own field names for the kind, Shopify's, Stripe's: the last two make the kind
/// orders); the second picks the options (see [`options`]); the rest is the file. The header is
/// written with the delimiter the options declare, so rows under each layout are what the fuzzer
/// spends its time on.
pub fn import_csv(data: &[u8]) -> Outcome {
    let [layout, chosen, rest @ ..] = data else { return Outcome::Skipped };
    let mut kind = RecordKind::ALL[usize::from(layout % 5)];
    let header = match (layout / 5) % 4 {
        0 => String::new(),
        1 => generic_header(kind),
        2 => {
            kind = RecordKind::Orders;
            SHOPIFY_HEADER.to_string()
        }
        _ => {
            kind = RecordKind::Orders;
            STRIPE_HEADER.to_string()
        }
    };
    let options = options(kind, FileFormat::Csv, "fuzz.csv", *chosen);
    let delimiter = char::from(options.delimiter.unwrap_or(b','));
    let mut file = header.replace(',', &delimiter.to_string()).into_bytes();
    if options.encoding.is_some_and(|e| e.name() == "UTF-16LE") {
        // The header in the file's own encoding, so the rows after it are read as they would be.
        file = file.iter().flat_map(|&b| [b, 0]).collect();
    }
    file.extend_from_slice(rest);
    read_all(file, options)
}

/// NDJSON import. The first byte picks the kind (its value mod 5), the second the options (see
/// [`options`]; the delimiter is a CSV file's only); the rest is the file.
pub fn import_ndjson(data: &[u8]) -> Outcome {
    let [kind, chosen, rest @ ..] = data else { return Outcome::Skipped };
    let kind = RecordKind::ALL[usize::from(kind % 5)];
    read_all(rest.to_vec(), options(kind, FileFormat::Ndjson, "fuzz.ndjson", *chosen))
}

/// The options one byte picks, as a person gives them on the command line or the upload form:
/// the import's decimal mark (`--decimal-mark`: none, point, comma; mod 3), the business's (the
/// same three; next mod 3), the delimiter (`--delimiter`: none, comma, semicolon, tab, bar; mod
/// 5) and the encoding (`--encoding`: none, windows-1252, utf-16le; what is left, mod 3).
fn options(kind: RecordKind, format: FileFormat, file: &str, chosen: u8) -> ImportOptions {
    let mark = |k: u8| match k % 3 {
        0 => None,
        1 => Some(DecimalMark::Point),
        _ => Some(DecimalMark::Comma),
    };
    let mut options = ImportOptions::new(kind, file);
    options.format = Some(format);
    options.decimal_mark = mark(chosen);
    options.default_decimal_mark = mark(chosen / 3);
    options.delimiter = [None, Some(b','), Some(b';'), Some(b'\t'), Some(b'|')][usize::from(chosen / 9 % 5)];
    options.encoding = match chosen / 45 % 3 {
        0 => None,
        1 => Some(FileEncoding::parse("windows-1252").expect("a known encoding")),
        _ => Some(FileEncoding::parse("utf-16le").expect("a known encoding")),
    };
    options
}

/// A header naming each of the kind's fields by its own name.
fn generic_header(kind: RecordKind) -> String {
    let names: Vec<&str> = trailmap_ingest::fields(kind).iter().map(|spec| spec.name).collect();
    format!("{}\n", names.join(","))
}

/// Reads the whole file: accepted when it opens and every row gives a record (at least one).
fn read_all(file: Vec<u8>, options: ImportOptions) -> Outcome {
    let lines = line_count(&file);
    let name = options.file_name.clone();
    let kind = options.kind;
    let reader = match RecordReader::new(Cursor::new(file), options) {
        Ok(reader) => reader,
        Err(e) => {
            let message = e.to_string();
            assert!(message.starts_with(&name), "an error that does not name the file: {message}");
            return Outcome::Refused;
        }
    };
    // A row yields at most one item, and an order's end one more: anything past that is a loop.
    let most = lines.saturating_mul(2) + 2;
    let mut yielded = 0u64;
    let mut refused = false;
    for item in reader {
        yielded += 1;
        assert!(yielded <= most, "the reader yielded more than {most} items for {lines} lines");
        match item {
            Ok(at) => {
                assert!((1..=lines).contains(&at.line), "a record at line {} of a {lines}-line file", at.line);
                assert_eq!(at.record.kind(), kind, "a record of another kind than asked");
                let (value, what) = match &at.record {
                    Record::Event(e) => {
                        if let Err(problem) = trailmap_ingest::text::check(&e.event.name, trailmap_ingest::TextRule::LINE) {
                            panic!("the event name {:?} got through the text rules: {problem}", e.event.name);
                        }
                        (json_of(e), "an event")
                    }
                    Record::Customer(c) => (json_of(c), "a customer"),
                    Record::Order(o) => (json_of(o), "an order"),
                    Record::Spend(s) => (json_of(s), "a spend row"),
                    Record::Feedback(f) => (json_of(f), "a feedback"),
                };
                assert_clean_text(&value, what);
            }
            Err(row) => {
                refused = true;
                assert_eq!(row.file, name, "a row error naming another file");
                assert!((1..=lines).contains(&row.line), "a row error at line {} of a {lines}-line file: {row}", row.line);
                assert!(!row.reason.is_empty(), "a row error without a reason at line {}", row.line);
            }
        }
    }
    Outcome::of(!refused && yielded > 0)
}
