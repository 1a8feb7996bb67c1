//! Trailmap's import pipeline: it reads CSV, NDJSON and Parquet files of events, customers, orders,
//! spend and feedback into the model's "incoming" records, matching columns by name, recognising Shopify and
//! Stripe exports, and running the enrichment steps (UTM tags, referrers, channel grouping, bot
//! filtering) on events. It does no database work, no HTTP and no printing: every problem comes back
//! as a typed error that names the file, the line and the column, so the caller decides what to show.
//!
//! Every way in (files, the tracking API's messages, survey exports, public survey forms) checks
//! values by the same rules: text by [`text`] (no control characters, a length limit per field),
//! numbers by [`number`] (a decimal mark declared, never guessed), JSON by [`json`] (no key given
//! twice).

mod build;
mod columns;
mod csv_file;
pub mod enrich;
mod error;
mod fields;
pub mod forms;
pub mod json;
mod ndjson_file;
pub mod notes;
pub mod number;
mod parquet_file;
mod reader;
mod row;
pub mod segment;
pub mod text;
mod time;

pub use enrich::DropReason;
pub use error::{Hint, ImportError, RowError};
pub use fields::{FieldSpec, fields};
pub use columns::MissingColumn;
pub use reader::RecordReader;
pub use text::{MAX_RECORD_BYTES, TextProblem, TextRule};
pub use time::{parse_period, parse_timestamp};

use std::fmt;
use std::str::FromStr;
use trailmap_model::{
    Currency, DecimalMark, IncomingCustomer, IncomingEvent, IncomingFeedback, IncomingOrder, IncomingSpend,
};

/// What a file holds. One file holds one kind of record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordKind {
    Events,
    Customers,
    Orders,
    Spend,
    Feedback,
}

impl RecordKind {
    pub const ALL: [RecordKind; 5] = [
        RecordKind::Events,
        RecordKind::Customers,
        RecordKind::Orders,
        RecordKind::Spend,
        RecordKind::Feedback,
    ];

    /// The plural name used on the command line and in the API ("events", "orders").
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Events => "events",
            RecordKind::Customers => "customers",
            RecordKind::Orders => "orders",
            RecordKind::Spend => "spend",
            RecordKind::Feedback => "feedback",
        }
    }
}

impl fmt::Display for RecordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RecordKind {
    type Err = String;

    /// Accepts the plural and the singular, in any case ("events", "Event", "orders").
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "events" | "event" => Ok(RecordKind::Events),
            "customers" | "customer" => Ok(RecordKind::Customers),
            "orders" | "order" => Ok(RecordKind::Orders),
            "spend" | "spends" => Ok(RecordKind::Spend),
            "feedback" | "feedbacks" => Ok(RecordKind::Feedback),
            _ => Err(format!(
                "unknown record kind {text:?}: expected events, customers, orders, spend or feedback"
            )),
        }
    }
}

/// The file's syntax.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileFormat {
    /// Comma-separated values with a header line (tab-separated when the file name ends in `.tsv`).
    Csv,
    /// One JSON object per line.
    Ndjson,
    /// Apache Parquet: typed columns, read from a file (it needs random access), its top-level
    /// columns matched to our fields like a CSV header.
    Parquet,
}

/// The four bytes every Parquet file starts (and ends) with.
pub const PARQUET_MAGIC: &[u8; 4] = b"PAR1";

impl FileFormat {
    /// The format a file name's extension implies, if it implies one.
    pub fn from_file_name(name: &str) -> Option<FileFormat> {
        let lower = name.to_ascii_lowercase();
        let ext = lower.rsplit_once('.').map(|(_, e)| e)?;
        match ext {
            "csv" | "tsv" | "txt" => Some(FileFormat::Csv),
            "ndjson" | "jsonl" | "json" => Some(FileFormat::Ndjson),
            "parquet" | "pq" => Some(FileFormat::Parquet),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FileFormat::Csv => "csv",
            FileFormat::Ndjson => "ndjson",
            FileFormat::Parquet => "parquet",
        }
    }
}

impl fmt::Display for FileFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FileFormat {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "csv" | "tsv" => Ok(FileFormat::Csv),
            "ndjson" | "jsonl" | "json" => Ok(FileFormat::Ndjson),
            "parquet" => Ok(FileFormat::Parquet),
            _ => Err(format!(
                "unknown file format {text:?}: expected csv, ndjson or parquet"
            )),
        }
    }
}

/// The shape of a file, detected from its CSV header or Parquet columns (or given by the import).
/// Only orders have special layouts; every other kind (and every NDJSON file) is
/// [`Layout::Generic`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Layout {
    /// Our own column names and their aliases.
    Generic,
    /// Shopify's orders export: one row per line item, order fields on the first row of each order.
    ShopifyOrders,
    /// Stripe's payments export (`unified_payments.csv`): one row per charge.
    StripePayments,
}

impl Layout {
    /// The decimal mark a known export always writes, whatever the shop's country.
    pub fn decimal_mark(self) -> Option<DecimalMark> {
        match self {
            Layout::Generic => None,
            Layout::ShopifyOrders | Layout::StripePayments => Some(DecimalMark::Point),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Layout::Generic => "generic",
            Layout::ShopifyOrders => "shopify-orders",
            Layout::StripePayments => "stripe-payments",
        }
    }
}

impl FromStr for Layout {
    type Err = String;

    /// Accepts `generic`, `shopify` or `shopify-orders`, `stripe` or `stripe-payments`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "generic" => Ok(Layout::Generic),
            "shopify" | "shopify-orders" => Ok(Layout::ShopifyOrders),
            "stripe" | "stripe-payments" => Ok(Layout::StripePayments),
            _ => Err(format!("unknown layout {text:?}: expected generic, shopify or stripe")),
        }
    }
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How to read one file.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportOptions {
    pub kind: RecordKind,
    /// None: from the file name's extension (`.csv`, `.tsv`, `.ndjson`, `.jsonl`, `.json`), else
    /// from the first non-blank byte (`{` means NDJSON, anything else CSV).
    pub format: Option<FileFormat>,
    /// Overrides of the column matching: (our field name, the file's column name). They win over
    /// the aliases and over a detected layout. An empty column name leaves the field unfilled.
    pub column_map: Vec<(String, String)>,
    /// The currency of amounts in rows that have no currency column or an empty one.
    pub default_currency: Currency,
    /// The decimal mark the person declared for this file; it wins over everything.
    pub decimal_mark: Option<DecimalMark>,
    /// The business's decimal mark, used when the import declares none and the file's layout has
    /// none of its own (Shopify's and Stripe's exports always write `1,234.56`). With neither, every
    /// number whose reading depends on the mark is refused (see [`number`]).
    pub default_decimal_mark: Option<DecimalMark>,
    /// A CSV file's delimiter; None: tab for `.tsv`, comma otherwise.
    pub delimiter: Option<u8>,
    /// The file's text encoding; None: UTF-8, or UTF-16 when the file starts with its byte-order
    /// mark.
    pub encoding: Option<FileEncoding>,
    /// The file's layout; None: detected from its columns (Shopify's and Stripe's exports are
    /// recognised). Only orders have layouts other than generic.
    pub layout: Option<Layout>,
    /// The file's name, used in every error message and to pick the format.
    pub file_name: String,
}

impl ImportOptions {
    /// The decimal mark numbers of a file with `layout` are read with: the import's, else the
    /// layout's, else the business's.
    pub fn decimal_mark_for(&self, layout: Layout) -> Option<DecimalMark> {
        self.decimal_mark.or(layout.decimal_mark()).or(self.default_decimal_mark)
    }

    /// Options with no overrides, the format from the file name, and US dollars by default.
    pub fn new(kind: RecordKind, file_name: impl Into<String>) -> ImportOptions {
        ImportOptions {
            kind,
            format: None,
            column_map: Vec::new(),
            default_currency: Currency::USD,
            decimal_mark: None,
            default_decimal_mark: None,
            delimiter: None,
            encoding: None,
            layout: None,
            file_name: file_name.into(),
        }
    }
}

/// A text encoding a file may be in, by its WHATWG label (`utf-16le`, `windows-1252`, `latin1`,
/// `shift_jis`...). Files are decoded to UTF-8 as they are read.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct FileEncoding(pub(crate) &'static encoding_rs::Encoding);

impl FileEncoding {
    /// The encoding a label names; the error lists a few common labels.
    pub fn parse(label: &str) -> Result<FileEncoding, String> {
        encoding_rs::Encoding::for_label(label.trim().as_bytes()).map(FileEncoding).ok_or_else(|| {
            format!("unknown encoding {label:?}: expected a label such as utf-8, utf-16le, utf-16be, windows-1252 or latin1")
        })
    }

    pub fn name(self) -> &'static str {
        self.0.name()
    }
}

impl fmt::Debug for FileEncoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Reads a CSV delimiter as people write it: one ASCII character, or `tab`.
pub fn parse_delimiter(text: &str) -> Result<u8, String> {
    match text {
        "tab" | "\\t" | "\t" => Ok(b'\t'),
        other if other.len() == 1 && other.is_ascii() && !matches!(other.as_bytes()[0], b'"' | b'\n' | b'\r') => {
            Ok(other.as_bytes()[0])
        }
        other => Err(format!("the delimiter {other:?} is not one ASCII character (such as , ; | or tab)")),
    }
}

/// A record and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordAt {
    pub record: Record,
    /// The line the record starts on (an order's first line).
    pub line: u64,
    /// The record's text as in the file, kept for orders (whose number the store may refuse as a
    /// conflict, which then goes to the rejects file whole).
    pub raw: Option<String>,
}

/// One record read from a file.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Event(IncomingEvent),
    Customer(IncomingCustomer),
    Order(IncomingOrder),
    Spend(IncomingSpend),
    Feedback(IncomingFeedback),
}

impl Record {
    pub fn kind(&self) -> RecordKind {
        match self {
            Record::Event(_) => RecordKind::Events,
            Record::Customer(_) => RecordKind::Customers,
            Record::Order(_) => RecordKind::Orders,
            Record::Spend(_) => RecordKind::Spend,
            Record::Feedback(_) => RecordKind::Feedback,
        }
    }
}
