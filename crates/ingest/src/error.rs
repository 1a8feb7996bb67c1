//! The two kinds of failure of an import: a whole-file problem found before any record is read
//! ([`ImportError`]), and a problem with one row that rejects only that row ([`RowError`]). Both name
//! the file, and the line where there is one, because the person reading them has the file open.
//! Where a failure looks like a file read the wrong way (another delimiter, another encoding),
//! the error carries a [`Hint`] naming the import option that reads it.

use std::fmt;

/// One rejected row. The reader carries on after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub file: String,
    /// The line the record starts on, counting from 1 (the header of a CSV file is usually line 1).
    pub line: u64,
    /// The file's column (or JSON key) at fault, when one is.
    pub column: Option<String>,
    pub reason: String,
    /// The record's text as it was in the file (for CSV, its fields re-joined with the file's
    /// delimiter and quoted where needed), so a rejects file can be written and re-imported.
    pub raw: Option<String>,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ", self.file, self.line)?;
        if let Some(column) = &self.column {
            write!(f, "column `{column}`: ")?;
        }
        f.write_str(&self.reason)
    }
}

impl std::error::Error for RowError {}

/// An import option that would read a file that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hint {
    /// The file looks separated by this byte.
    Delimiter(u8),
    /// The file looks written in this encoding (a WHATWG label).
    Encoding(&'static str),
}

impl Hint {
    /// The delimiter as an option value: `;`, `tab`, `|`, `,`.
    pub fn delimiter_name(delimiter: u8) -> String {
        match delimiter {
            b'\t' => "tab".to_string(),
            other => char::from(other).to_string(),
        }
    }
}

impl fmt::Display for Hint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Hint::Delimiter(d) => {
                let name = Hint::delimiter_name(*d);
                let shown = if *d == b'\t' { "tab".to_string() } else { format!("`{name}`") };
                write!(
                    f,
                    "the header looks {shown}-separated: import it with the delimiter option set to {name:?} (--delimiter '{name}')"
                )
            }
            Hint::Encoding(label) => write!(
                f,
                "if the file is not UTF-8, import it with the encoding option set to {label:?} (--encoding {label}), or save it as UTF-8"
            ),
        }
    }
}

/// A problem with the file as a whole; nothing is read from it.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{file}: cannot read the file: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}: the file is empty")]
    Empty { file: String },
    #[error("{file}: header: no column for the required field `{field}` (tried: {}){}", .tried.join(", "), .hint.map(|h| format!("; {h}")).unwrap_or_default())]
    MissingColumn {
        file: String,
        field: String,
        tried: Vec<String>,
        /// What would read the file, when the header looks written another way.
        hint: Option<Hint>,
    },
    #[error(
        "{file}: header: the override {field}={column} names a column that is not in the header (columns: {})",
        .available.join(", ")
    )]
    UnknownOverrideColumn {
        file: String,
        field: String,
        column: String,
        available: Vec<String>,
    },
    #[error("{file}: the override names an unknown field `{field}` (fields: {})", .known.join(", "))]
    UnknownOverrideField {
        file: String,
        field: String,
        known: Vec<String>,
    },
    #[error("{file}:{line}: bad header: {reason}")]
    BadHeader {
        file: String,
        line: u64,
        reason: String,
    },
    #[error("{file}:{line}: the header is not valid UTF-8; {hint}")]
    NotUtf8 { file: String, line: u64, hint: Hint },
    #[error("{file}: {reason}")]
    Options { file: String, reason: String },
    /// The file is not in the format the import says it is (or its name says): a "Parquet" file
    /// without Parquet's magic bytes, a CSV that is a Parquet file or a ZIP archive.
    #[error("{file}: {claimed} was expected, but the file is {found}")]
    WrongFormat { file: String, claimed: String, found: String },
    /// A Parquet file whose footer or schema cannot be read, or that uses what this build does not
    /// read (a codec, two columns of one name).
    #[error("{file}: {reason}")]
    Parquet { file: String, reason: String },
}
