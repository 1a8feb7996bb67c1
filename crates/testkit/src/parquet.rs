//! Small Parquet files for tests, written with the `parquet` crate's own writer: one row group,
//! typed columns as pandas, pyarrow and DuckDB write them (strings, 64-bit integers, doubles,
//! decimals stored as integers, timestamps in micro- or nanoseconds), every value optional (a
//! `None` is a null), snappy, zstd or no compression.

use parquet::basic::{Compression, ZstdLevel};
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use std::path::Path;
use std::sync::Arc;

/// One column: its name and values.
#[derive(Debug, Clone, PartialEq)]
pub enum ParquetColumn {
    Text(String, Vec<Option<String>>),
    Int(String, Vec<Option<i64>>),
    Double(String, Vec<Option<f64>>),
    Bool(String, Vec<Option<bool>>),
    /// A DECIMAL(18, scale) stored as an INT64 of its unscaled value (DuckDB's DECIMAL).
    Decimal(String, i32, Vec<Option<i64>>),
    /// Microseconds since the Unix epoch, marked as UTC (pyarrow's and DuckDB's TIMESTAMPTZ).
    TimestampMicros(String, Vec<Option<i64>>),
    /// Nanoseconds since the Unix epoch, not marked as UTC (a pandas `datetime64[ns]` column).
    TimestampNanos(String, Vec<Option<i64>>),
}

/// How the pages are compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParquetCodec {
    Uncompressed,
    Snappy,
    Zstd,
}

impl ParquetColumn {
    /// A text column from string slices, None for a null.
    pub fn text(name: &str, values: &[Option<&str>]) -> ParquetColumn {
        ParquetColumn::Text(name.to_string(), values.iter().map(|v| v.map(str::to_string)).collect())
    }

    fn name(&self) -> &str {
        match self {
            ParquetColumn::Text(n, _)
            | ParquetColumn::Int(n, _)
            | ParquetColumn::Double(n, _)
            | ParquetColumn::Bool(n, _)
            | ParquetColumn::Decimal(n, _, _)
            | ParquetColumn::TimestampMicros(n, _)
            | ParquetColumn::TimestampNanos(n, _) => n,
        }
    }

    fn schema_line(&self) -> String {
        let name = self.name();
        match self {
            ParquetColumn::Text(..) => format!("OPTIONAL BYTE_ARRAY {name} (STRING);"),
            ParquetColumn::Int(..) => format!("OPTIONAL INT64 {name};"),
            ParquetColumn::Double(..) => format!("OPTIONAL DOUBLE {name};"),
            ParquetColumn::Bool(..) => format!("OPTIONAL BOOLEAN {name};"),
            ParquetColumn::Decimal(_, scale, _) => format!("OPTIONAL INT64 {name} (DECIMAL(18, {scale}));"),
            ParquetColumn::TimestampMicros(..) => format!("OPTIONAL INT64 {name} (TIMESTAMP(MICROS, true));"),
            ParquetColumn::TimestampNanos(..) => format!("OPTIONAL INT64 {name} (TIMESTAMP(NANOS, false));"),
        }
    }
}

/// The values that are there, and a definition level per row (1 present, 0 null).
fn split<T: Clone>(values: &[Option<T>]) -> (Vec<T>, Vec<i16>) {
    let present = values.iter().flatten().cloned().collect();
    let levels = values.iter().map(|v| i16::from(v.is_some())).collect();
    (present, levels)
}

/// Writes `columns` (all of one length) to `path` as one row group. Column names must be plain
/// words (letters, digits, underscores), as the schema is written in Parquet's message syntax.
pub fn write_parquet(path: &Path, columns: &[ParquetColumn], codec: ParquetCodec) -> parquet::errors::Result<()> {
    let lines: Vec<String> = columns.iter().map(ParquetColumn::schema_line).collect();
    let schema = Arc::new(parse_message_type(&format!("message schema {{ {} }}", lines.join(" ")))?);
    let compression = match codec {
        ParquetCodec::Uncompressed => Compression::UNCOMPRESSED,
        ParquetCodec::Snappy => Compression::SNAPPY,
        ParquetCodec::Zstd => Compression::ZSTD(ZstdLevel::default()),
    };
    let properties = Arc::new(WriterProperties::builder().set_compression(compression).build());
    let file = std::fs::File::create(path)?;
    let mut writer = SerializedFileWriter::new(file, schema, properties)?;
    let mut group = writer.next_row_group()?;
    for column in columns {
        let Some(mut out) = group.next_column()? else { break };
        match column {
            ParquetColumn::Text(_, values) => {
                let (present, levels) = split(values);
                let bytes: Vec<ByteArray> = present.iter().map(|s| ByteArray::from(s.as_str())).collect();
                out.typed::<ByteArrayType>().write_batch(&bytes, Some(&levels), None)?;
            }
            ParquetColumn::Int(_, values)
            | ParquetColumn::Decimal(_, _, values)
            | ParquetColumn::TimestampMicros(_, values)
            | ParquetColumn::TimestampNanos(_, values) => {
                let (present, levels) = split(values);
                out.typed::<Int64Type>().write_batch(&present, Some(&levels), None)?;
            }
            ParquetColumn::Double(_, values) => {
                let (present, levels) = split(values);
                out.typed::<DoubleType>().write_batch(&present, Some(&levels), None)?;
            }
            ParquetColumn::Bool(_, values) => {
                let (present, levels) = split(values);
                out.typed::<BoolType>().write_batch(&present, Some(&levels), None)?;
            }
        }
        out.close()?;
    }
    group.close()?;
    writer.close()?;
    Ok(())
}
