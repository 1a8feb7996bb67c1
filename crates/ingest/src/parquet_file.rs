//! Parquet files: their top-level columns are matched to our fields like a CSV header (by
//! `columns`), and each row's typed values are turned into the text the builders read, so every
//! rule about values is the one CSV and NDJSON files follow. Numbers (integers, floats, decimals)
//! become JSON-number text, which no decimal mark can make ambiguous; timestamps (milli-, micro-
//! or nanoseconds, INT96 too) and dates become RFC 3339 text, read as UTC whether or not the file
//! marks them adjusted to UTC (as a CSV time without an offset is); strings go through the same
//! text checks (control characters, length limits); structs, lists and maps become JSON.
//!
//! Rows are read through the `parquet` crate's record API, one row group at a time, and only the
//! columns the import uses. A row's place is its number counting from 1, given where a CSV
//! file's line would be. The crate may panic on a corrupt file; that is caught here and reported
//! as a read error with the row, so bad input never stops the program.

use crate::columns::{self, Matched, MissingColumn, Use};
use crate::error::ImportError;
use crate::fields::FieldSpec;
use crate::row::{Ctx, Fail, Row, Val};
use crate::ImportOptions;
use parquet::basic::{Compression, LogicalType, TimeUnit};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::reader::RowIter;
use parquet::record::{Field, Row as ParquetRow};
use parquet::schema::types::Type;
use serde_json::Value;
use std::borrow::Cow;
use std::fs::File;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

/// What one read gives.
#[derive(Debug)]
pub(crate) enum ParquetRead {
    /// A row, numbered from 1; its values are in the source until the next read.
    Row(u64),
    /// The file could not be read past this row number (a corrupt page, an unreadable value).
    Failed(u64, String),
    End,
}

/// A Parquet file after its schema: the rows and what each top-level column is for.
pub(crate) struct ParquetSource {
    rows: RowIter<'static>,
    /// Every top-level column's name, in the schema's order.
    pub headers: Vec<String>,
    pub plan: Vec<Use>,
    /// For each column of the rows read (only the used ones), its index in `headers`.
    read: Vec<usize>,
    /// Per column of `headers`: the unit of a timestamp stored as a plain 64-bit integer (the
    /// record API leaves nanosecond and some local timestamps as integers).
    units: Vec<Option<TimeUnit>>,
    current: Option<ParquetRow>,
    row: u64,
    /// Rows in the file, from its footer.
    pub total_rows: u64,
    /// The file's size in bytes, for progress.
    pub file_size: u64,
}

/// Codecs this build reads (see the workspace's `parquet` features).
fn readable(compression: Compression) -> bool {
    matches!(
        compression,
        Compression::UNCOMPRESSED
            | Compression::SNAPPY
            | Compression::ZSTD(_)
            | Compression::GZIP(_)
            | Compression::LZ4
            | Compression::LZ4_RAW
    )
}

fn codec_name(compression: Compression) -> String {
    let text = format!("{compression:?}");
    text.split('(').next().unwrap_or(&text).to_string()
}

/// Opens a Parquet file: reads its footer, checks its codecs, and matches its top-level columns
/// to `specs` (see `columns`).
pub(crate) fn open(
    file: File,
    options: &ImportOptions,
    specs: &'static [FieldSpec],
    overrides: &[(usize, String)],
) -> Result<(ParquetSource, Ctx, Vec<MissingColumn>), ImportError> {
    let name = &options.file_name;
    let unreadable = |reason: String| ImportError::Parquet { file: name.clone(), reason };
    let file_size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let reader = match catch_unwind(AssertUnwindSafe(|| SerializedFileReader::new(file))) {
        Ok(Ok(reader)) => reader,
        Ok(Err(e)) => return Err(unreadable(format!("cannot read the Parquet footer: {e}"))),
        Err(_) => return Err(unreadable("cannot read the Parquet footer: the file is corrupt".into())),
    };
    let metadata = reader.metadata();
    for group in metadata.row_groups() {
        for column in group.columns() {
            if !readable(column.compression()) {
                return Err(unreadable(format!(
                    "column `{}` is compressed with {}, which Trailmap does not read; write the file with snappy, zstd, gzip or lz4 \
                     (pandas: df.to_parquet(path, compression=\"zstd\"))",
                    column.column_path().parts().join("."),
                    codec_name(column.compression())
                )));
            }
        }
    }
    let total_rows = u64::try_from(metadata.file_metadata().num_rows()).unwrap_or(0);
    let root = metadata.file_metadata().schema_descr().root_schema_ptr();
    let fields: Vec<Arc<Type>> = root.get_fields().to_vec();
    let headers: Vec<String> = fields.iter().map(|f| f.name().trim().to_string()).collect();
    if let Some(reason) = columns::duplicate(&headers) {
        return Err(unreadable(reason));
    }
    let units = fields
        .iter()
        .map(|f| match f.get_basic_info().logical_type_ref() {
            Some(LogicalType::Timestamp(t)) if f.is_primitive() => Some(t.unit),
            _ => None,
        })
        .collect();
    let Matched { plan, ctx, missing } = columns::match_columns(&headers, options, specs, overrides)?;

    // Only the columns the import uses are decoded.
    let read: Vec<usize> = (0..headers.len()).filter(|&i| !matches!(plan[i], Use::Skip)).collect();
    let rows = if read.is_empty() || read.len() == headers.len() {
        RowIter::from_file_into(Box::new(reader))
    } else {
        let projection = Type::group_type_builder(root.name())
            .with_fields(read.iter().map(|&i| fields[i].clone()).collect())
            .build()
            .map_err(|e| unreadable(e.to_string()))?;
        RowIter::from_file_into(Box::new(reader)).project(Some(projection)).map_err(|e| unreadable(e.to_string()))?
    };
    let read = if read.is_empty() { (0..headers.len()).collect() } else { read };
    let source = ParquetSource { rows, headers, plan, read, units, current: None, row: 0, total_rows, file_size };
    Ok((source, ctx, missing))
}

impl ParquetSource {
    pub fn read(&mut self) -> ParquetRead {
        let next = catch_unwind(AssertUnwindSafe(|| self.rows.next()));
        self.current = None;
        match next {
            Ok(Some(Ok(row))) => {
                self.row += 1;
                self.current = Some(row);
                ParquetRead::Row(self.row)
            }
            Ok(None) => ParquetRead::End,
            Ok(Some(Err(e))) => ParquetRead::Failed(self.row + 1, e.to_string()),
            Err(_) => ParquetRead::Failed(self.row + 1, "the file is corrupt".into()),
        }
    }

    /// Rows read so far.
    pub fn rows_read(&self) -> u64 {
        self.row
    }

    /// The current row as JSON, for a rejects file.
    pub fn raw(&self) -> String {
        let Some(row) = &self.current else { return String::new() };
        let object: serde_json::Map<String, Value> = row
            .get_column_iter()
            .zip(&self.read)
            .map(|((_, field), &column)| (self.headers[column].clone(), json(field, self.units[column].as_ref())))
            .collect();
        Value::Object(object).to_string()
    }

    /// Matches the current row's cells to fields, converting each value (see the module's
    /// comment). A value that cannot be text (binary data, NaN) rejects the row, naming its column.
    pub fn row(&self, fields: usize) -> Result<Row<'_>, Fail> {
        let mut row = Row::with_fields(fields);
        let Some(current) = &self.current else { return Ok(row) };
        for ((_, field), &column) in current.get_column_iter().zip(&self.read) {
            let name = self.headers[column].as_str();
            let unit = self.units[column].as_ref();
            match self.plan[column] {
                Use::Skip => {}
                Use::Field(f) => match cell(field, unit) {
                    Cell::Absent => {}
                    Cell::Text(text, json_number) => row.values[f] = Some(Val { text, column: name, json_number }),
                    Cell::Bad(reason) => return Err(Fail { column: Some(name.to_string()), reason }),
                },
                Use::Extra | Use::Prop(_) => {
                    if let Cell::Bad(reason) = cell(field, unit) {
                        return Err(Fail { column: Some(name.to_string()), reason });
                    }
                    let value = json(field, unit);
                    if value.is_null() || value.as_str().is_some_and(|s| s.trim().is_empty()) {
                        continue;
                    }
                    let key = match self.plan[column] {
                        Use::Prop(prop) => Cow::Borrowed(prop),
                        _ => Cow::Borrowed(name),
                    };
                    row.extras.push((key, value));
                }
            }
        }
        Ok(row)
    }
}

/// A value as a field reads it.
enum Cell<'a> {
    Absent,
    /// The text, and whether it is a number that needs no decimal mark.
    Text(Cow<'a, str>, bool),
    Bad(String),
}

fn number(text: String) -> Cell<'static> {
    Cell::Text(Cow::Owned(text), true)
}

fn float(value: f64, text: String) -> Cell<'static> {
    if value.is_finite() { number(text) } else { Cell::Bad(format!("not a number: {text}")) }
}

fn cell<'a>(field: &'a Field, unit: Option<&TimeUnit>) -> Cell<'a> {
    match field {
        Field::Null => Cell::Absent,
        Field::Bool(b) => Cell::Text(Cow::Borrowed(if *b { "true" } else { "false" }), false),
        Field::Byte(n) => number(n.to_string()),
        Field::Short(n) => number(n.to_string()),
        Field::Int(n) => number(n.to_string()),
        Field::Long(n) => match unit.and_then(|u| timestamp(*n, u)) {
            Some(text) => Cell::Text(Cow::Owned(text), false),
            None if unit.is_some() => Cell::Bad(format!("a timestamp out of range: {n}")),
            None => number(n.to_string()),
        },
        Field::UByte(n) => number(n.to_string()),
        Field::UShort(n) => number(n.to_string()),
        Field::UInt(n) => number(n.to_string()),
        Field::ULong(n) => number(n.to_string()),
        Field::Float16(n) => float(f64::from(*n), n.to_string()),
        Field::Float(n) => float(f64::from(*n), n.to_string()),
        Field::Double(n) => float(*n, n.to_string()),
        Field::Decimal(d) => match decimal(d.data(), d.scale()) {
            Some(text) => number(text),
            None => Cell::Bad("a decimal too wide to read (more than 38 digits)".into()),
        },
        Field::Str(s) => text(s),
        Field::Bytes(b) => match std::str::from_utf8(b.data()) {
            Ok(s) => text(s),
            Err(_) => Cell::Bad("binary data, not text".into()),
        },
        Field::Date(days) => match chrono::DateTime::UNIX_EPOCH.date_naive().checked_add_signed(chrono::TimeDelta::days(i64::from(*days))) {
            Some(date) => Cell::Text(Cow::Owned(date.to_string()), false),
            None => Cell::Bad(format!("a date out of range: {days} days")),
        },
        Field::TimeMillis(ms) => Cell::Text(Cow::Owned(time_of_day(i64::from(*ms) * 1000)), false),
        Field::TimeMicros(us) => Cell::Text(Cow::Owned(time_of_day(*us)), false),
        Field::TimestampMillis(ms) => match timestamp(*ms, &TimeUnit::MILLIS) {
            Some(text) => Cell::Text(Cow::Owned(text), false),
            None => Cell::Bad(format!("a timestamp out of range: {ms} ms")),
        },
        Field::TimestampMicros(us) => match timestamp(*us, &TimeUnit::MICROS) {
            Some(text) => Cell::Text(Cow::Owned(text), false),
            None => Cell::Bad(format!("a timestamp out of range: {us} µs")),
        },
        Field::Group(_) | Field::ListInternal(_) | Field::MapInternal(_) => {
            Cell::Text(Cow::Owned(json(field, None).to_string()), false)
        }
    }
}

/// A string as CSV cells are: trimmed, absent when blank.
fn text(s: &str) -> Cell<'_> {
    let t = s.trim();
    if t.is_empty() { Cell::Absent } else { Cell::Text(Cow::Borrowed(t), false) }
}

/// A value as JSON, for properties: numbers stay numbers, times become RFC 3339 text.
fn json(field: &Field, unit: Option<&TimeUnit>) -> Value {
    let finite = |n: f64| serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number);
    match field {
        Field::Null => Value::Null,
        Field::Bool(b) => Value::Bool(*b),
        Field::Byte(n) => Value::from(*n),
        Field::Short(n) => Value::from(*n),
        Field::Int(n) => Value::from(*n),
        Field::Long(n) => match unit {
            Some(u) => timestamp(*n, u).map_or(Value::Null, Value::String),
            None => Value::from(*n),
        },
        Field::UByte(n) => Value::from(*n),
        Field::UShort(n) => Value::from(*n),
        Field::UInt(n) => Value::from(*n),
        Field::ULong(n) => Value::from(*n),
        Field::Float16(n) => finite(f64::from(*n)),
        Field::Float(n) => n.to_string().parse::<f64>().map_or(Value::Null, finite),
        Field::Double(n) => finite(*n),
        Field::Decimal(d) => decimal(d.data(), d.scale())
            .and_then(|t| serde_json::from_str::<serde_json::Number>(&t).ok())
            .map_or(Value::Null, Value::Number),
        Field::Group(row) => {
            Value::Object(row.get_column_iter().map(|(k, v)| (k.clone(), json(v, None))).collect())
        }
        Field::ListInternal(list) => Value::Array(list.elements().iter().map(|v| json(v, None)).collect()),
        Field::MapInternal(map) => Value::Object(
            map.entries()
                .iter()
                .map(|(k, v)| {
                    let key = match json(k, None) {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    (key, json(v, None))
                })
                .collect(),
        ),
        other => match cell(other, unit) {
            Cell::Text(text, _) => Value::String(text.into_owned()),
            Cell::Absent | Cell::Bad(_) => Value::Null,
        },
    }
}

/// A count of `unit` since the Unix epoch as RFC 3339 in UTC, to the precision it has.
fn timestamp(value: i64, unit: &TimeUnit) -> Option<String> {
    use chrono::{DateTime, SecondsFormat};
    let time = match unit {
        TimeUnit::MILLIS => DateTime::from_timestamp_millis(value)?,
        TimeUnit::MICROS => DateTime::from_timestamp_micros(value)?,
        TimeUnit::NANOS => DateTime::from_timestamp_nanos(value),
    };
    Some(time.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

fn time_of_day(micros: i64) -> String {
    let (secs, us) = (micros.div_euclid(1_000_000), micros.rem_euclid(1_000_000));
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if us == 0 { format!("{h:02}:{m:02}:{s:02}") } else { format!("{h:02}:{m:02}:{s:02}.{us:06}") }
}

/// A Parquet decimal (a big-endian two's-complement integer and a scale) as exact decimal text.
fn decimal(bytes: &[u8], scale: i32) -> Option<String> {
    if bytes.is_empty() || bytes.len() > 16 {
        return None;
    }
    let negative = bytes[0] & 0x80 != 0;
    let mut buf = [if negative { 0xFF } else { 0 }; 16];
    buf[16 - bytes.len()..].copy_from_slice(bytes);
    let value = i128::from_be_bytes(buf);
    let digits = value.unsigned_abs().to_string();
    let sign = if value < 0 { "-" } else { "" };
    let scale = usize::try_from(scale).ok()?;
    if scale == 0 {
        return Some(format!("{sign}{digits}"));
    }
    let padded = if digits.len() <= scale { format!("{}{digits}", "0".repeat(scale + 1 - digits.len())) } else { digits };
    let (whole, fraction) = padded.split_at(padded.len() - scale);
    Some(format!("{sign}{whole}.{fraction}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_exact_text() {
        assert_eq!(decimal(&1234i32.to_be_bytes(), 2).as_deref(), Some("12.34"));
        assert_eq!(decimal(&(-5i64).to_be_bytes(), 2).as_deref(), Some("-0.05"));
        assert_eq!(decimal(&[0x00, 0x7B], 0).as_deref(), Some("123"));
        assert_eq!(decimal(&[0xFF], 1).as_deref(), Some("-0.1"));
        assert_eq!(decimal(&[0; 17], 1), None);
    }

    #[test]
    fn timestamps_keep_their_precision_in_utc() {
        assert_eq!(timestamp(1_705_314_225_123, &TimeUnit::MILLIS).as_deref(), Some("2024-01-15T10:23:45.123Z"));
        assert_eq!(timestamp(1_705_314_225_000_000, &TimeUnit::MICROS).as_deref(), Some("2024-01-15T10:23:45Z"));
        assert_eq!(timestamp(1_705_314_225_000_000_500, &TimeUnit::NANOS).as_deref(), Some("2024-01-15T10:23:45.000000500Z"));
        assert_eq!(time_of_day(3_723_000_000), "01:02:03");
    }
}
