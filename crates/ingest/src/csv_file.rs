//! CSV files: records read in bounded memory and the header matched to our fields (by `columns`,
//! which also recognises the layouts of Shopify's and Stripe's exports).
//!
//! Records are parsed with `csv_core`'s push parser rather than the `csv` crate's reader, because
//! that reader holds a whole record in memory however long it is: a 50 MB line becomes one 50 MB
//! field. Here a record past [`MAX_RECORD_BYTES`] is refused (its line named) while the parser
//! skips to its end, keeping nothing of it. Line numbers count physical lines from 1, a quoted
//! line break included, so they match what an editor shows.

use crate::columns::{self, Matched, MissingColumn, Use};
use crate::error::{Hint, ImportError};
use crate::fields::FieldSpec;
use crate::row::{Ctx, Fail, Row, Val};
use crate::text::MAX_RECORD_BYTES;
use crate::ImportOptions;
use csv_core::ReadRecordResult;
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

/// A CSV file after its header: the records and what each column is for.
pub(crate) struct CsvSource<R> {
    pub records: CsvRecords<R>,
    pub headers: Vec<String>,
    pub plan: Vec<Use>,
}

/// Reads the header (the first non-blank record), detects the layout and matches columns to
/// fields (see `columns`). A header that lacks a required column says what would read it, when
/// the file looks `;`- or tab-separated or not UTF-8: the hint comes back beside the match.
pub(crate) fn open<R: BufRead>(
    input: R,
    options: &ImportOptions,
    specs: &'static [FieldSpec],
    overrides: &[(usize, String)],
) -> Result<(CsvSource<R>, Ctx, Vec<MissingColumn>, Option<Hint>), ImportError> {
    let file = &options.file_name;
    let delimiter = delimiter_of(options);
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
    if let Some(reason) = columns::duplicate(&headers) {
        return Err(ImportError::BadHeader { file: file.clone(), line: header_line, reason });
    }
    // When the file has one column whose name holds another delimiter, that delimiter is what
    // would read it.
    let hint = delimiter_hint(&headers, delimiter);
    let Matched { plan, ctx, missing } = columns::match_columns(&headers, options, specs, overrides)?;
    Ok((CsvSource { records, headers, plan }, ctx, missing, hint))
}

/// The delimiter a CSV file is read with: the import's, else tab for `.tsv`, else comma.
pub(crate) fn delimiter_of(options: &ImportOptions) -> u8 {
    options.delimiter.unwrap_or(if options.file_name.to_ascii_lowercase().ends_with(".tsv") { b'\t' } else { b',' })
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
