//! Readers (读取): CSV (UTF-8, UTF-8 with BOM, GBK/GB18030), XLSX and JSON Lines, all streaming, so
//! memory stays bounded whatever the size of the file. Each yields one [`RawRow`] per data row, or a
//! [`ReadError`] for a row that cannot be read (which becomes a rejected row) or for a failure that
//! stops the file.

use std::fs::File;
use std::io::{BufReader, Cursor, Read};
use std::path::Path;
use std::sync::Arc;

use creditloop_domain::intake::{RejectedRow, RowError};
use encoding_rs::Encoding;

use crate::error::IngestError;
use crate::fields::is_known_column;

pub mod csv;
pub mod decode;
pub mod json;
pub mod xlsx;

pub use self::csv::{CsvRows, read_csv};
pub use self::decode::{DecodeReader, detect_encoding};
pub use self::json::{JsonLinesRows, JsonValueRows, read_json_lines, read_json_value};
pub use self::xlsx::{XlsxRows, read_xlsx};

/// One data row as read: its number as a person sees it in the file and its columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRow {
    /// 1-based row number: the spreadsheet row for CSV and XLSX (header on row N, first data row
    /// N+1), the line for JSON Lines, the position in the array for a JSON document.
    pub row: u64,
    /// (header as given, value), in source order. The header names of a file are shared by its
    /// rows rather than copied into each.
    pub fields: Vec<(Arc<str>, String)>,
}

/// A row that could not be read (a broken JSON line, a line too long …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowReadError {
    pub row: u64,
    /// Stable rule code: `json`, `not_an_object`, `line_too_long`.
    pub rule: &'static str,
    /// What was read, shortened: shown as the value of the error.
    pub value: String,
    pub reason_zh: String,
    pub reason_en: String,
    /// The columns that could be read, if any.
    pub raw: Vec<(String, String)>,
}

impl From<RowReadError> for RejectedRow {
    fn from(e: RowReadError) -> Self {
        RejectedRow {
            row: e.row,
            errors: vec![RowError {
                row: e.row,
                field: "行".to_string(),
                value: e.value,
                rule: e.rule.to_string(),
                reason_zh: e.reason_zh,
                reason_en: e.reason_en,
            }],
            raw: e.raw,
        }
    }
}

/// Why an item of a reader is not a row.
#[derive(Debug)]
pub enum ReadError {
    /// This row cannot be read; the next may be. Becomes a rejected row.
    Row(RowReadError),
    /// The file cannot be read further (I/O error, broken workbook, unclosed quote).
    Fatal(IngestError),
}

/// What readers yield.
pub type RawRowResult = Result<RawRow, ReadError>;

/// The formats creditloop reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// `.csv`, `.txt` (comma- or tab-separated)
    Csv,
    /// `.xlsx`, `.xlsm`
    Xlsx,
    /// `.jsonl`, `.ndjson`: one object a line
    JsonLines,
    /// `.json`: one object, an array of objects or `{"records": [...]}` (JSON Lines also accepted)
    Json,
}

impl Format {
    /// Parses a format name (`csv`, `xlsx`, `jsonl`, `json`) or an extension.
    pub fn parse(s: &str) -> Option<Format> {
        Some(
            match s
                .trim()
                .trim_start_matches('.')
                .to_ascii_lowercase()
                .as_str()
            {
                "csv" | "txt" | "tsv" => Format::Csv,
                "xlsx" | "xlsm" => Format::Xlsx,
                "jsonl" | "ndjson" | "json_lines" | "jsonlines" => Format::JsonLines,
                "json" => Format::Json,
                _ => return None,
            },
        )
    }
}

/// The format of a file from its extension.
pub fn detect_format(path: &Path) -> Result<Format, IngestError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default();
    Format::parse(ext).ok_or_else(|| IngestError::UnknownFormat(path.display().to_string()))
}

/// Reader settings.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// Force the encoding of a CSV file (`--encoding utf-8|gbk|gb18030`); detected when `None`.
    pub encoding: Option<&'static Encoding>,
    /// The sheet of a workbook to read; the first when `None`.
    pub sheet: Option<String>,
    /// The largest CSV record read (64 MiB when `None`): beyond it the file stops with
    /// [`IngestError::RecordTooLarge`] — almost always a quote never closed.
    pub max_record_bytes: Option<u64>,
}

impl ReadOptions {
    /// Sets the encoding from its name (`utf-8`, `gbk`, `gb18030`, `gb2312`).
    pub fn with_encoding_name(mut self, name: &str) -> Result<Self, IngestError> {
        self.encoding = Some(parse_encoding(name)?);
        Ok(self)
    }
}

/// Parses an encoding name: `utf-8`/`utf8`, `gbk`, `gb18030`, `gb2312` (all GB encodings are read as
/// GB18030, their superset).
pub fn parse_encoding(name: &str) -> Result<&'static Encoding, IngestError> {
    match name.trim().to_ascii_lowercase().as_str() {
        "utf-8" | "utf8" | "utf-8-bom" | "utf8bom" => Ok(encoding_rs::UTF_8),
        "gbk" | "gb18030" | "gb2312" | "cp936" => Ok(encoding_rs::GB18030),
        other => Err(IngestError::UnknownEncoding(other.to_string())),
    }
}

/// Rows of any format, as one iterator (what [`read_path`] and [`read_bytes`] return).
pub struct Rows {
    inner: Box<dyn Iterator<Item = RawRowResult> + Send>,
    format: Format,
    encoding: Option<&'static Encoding>,
}

impl Rows {
    /// The format read.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The encoding of a CSV file (detected or forced).
    pub fn encoding(&self) -> Option<&'static str> {
        self.encoding.map(Encoding::name)
    }
}

impl Iterator for Rows {
    type Item = RawRowResult;
    fn next(&mut self) -> Option<RawRowResult> {
        self.inner.next()
    }
}

impl std::fmt::Debug for Rows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rows")
            .field("format", &self.format)
            .field("encoding", &self.encoding())
            .finish_non_exhaustive()
    }
}

/// Opens a file and reads its rows; the format comes from the extension unless given.
pub fn read_path(
    path: &Path,
    format: Option<Format>,
    opts: &ReadOptions,
) -> Result<Rows, IngestError> {
    let format = match format {
        Some(f) => f,
        None => detect_format(path)?,
    };
    let open = || {
        File::open(path).map_err(|source| IngestError::Open {
            path: path.to_path_buf(),
            source,
        })
    };
    match format {
        Format::Csv => {
            let rows = read_csv(open()?, opts)?;
            let encoding = Some(rows.encoding());
            Ok(Rows {
                inner: Box::new(rows),
                format,
                encoding,
            })
        }
        Format::Xlsx => Ok(Rows {
            inner: Box::new(read_xlsx(BufReader::new(open()?), opts)?),
            format,
            encoding: None,
        }),
        Format::JsonLines => Ok(Rows {
            inner: Box::new(read_json_lines(open()?)),
            format,
            encoding: None,
        }),
        Format::Json => Ok(Rows {
            inner: json::read_json_document(open()?)?,
            format,
            encoding: None,
        }),
    }
}

/// Reads rows from bytes in memory (an HTTP upload).
pub fn read_bytes(bytes: Vec<u8>, format: Format, opts: &ReadOptions) -> Result<Rows, IngestError> {
    match format {
        Format::Csv => {
            let rows = read_csv(Cursor::new(bytes), opts)?;
            let encoding = Some(rows.encoding());
            Ok(Rows {
                inner: Box::new(rows),
                format,
                encoding,
            })
        }
        Format::Xlsx => Ok(Rows {
            inner: Box::new(read_xlsx(Cursor::new(bytes), opts)?),
            format,
            encoding: None,
        }),
        Format::JsonLines => Ok(Rows {
            inner: Box::new(read_json_lines(Cursor::new(bytes))),
            format,
            encoding: None,
        }),
        Format::Json => Ok(Rows {
            inner: json::read_json_document(Cursor::new(bytes))?,
            format,
            encoding: None,
        }),
    }
}

/// Reads rows from any reader of a stream format (CSV or JSON Lines; XLSX needs [`read_xlsx`] with a
/// seekable reader).
pub fn read_stream<R: Read + Send + 'static>(
    reader: R,
    format: Format,
    opts: &ReadOptions,
) -> Result<Rows, IngestError> {
    match format {
        Format::Csv => {
            let rows = read_csv(reader, opts)?;
            let encoding = Some(rows.encoding());
            Ok(Rows {
                inner: Box::new(rows),
                format,
                encoding,
            })
        }
        Format::JsonLines => Ok(Rows {
            inner: Box::new(read_json_lines(reader)),
            format,
            encoding: None,
        }),
        Format::Json => Ok(Rows {
            inner: json::read_json_document(reader)?,
            format,
            encoding: None,
        }),
        Format::Xlsx => {
            let mut bytes = Vec::new();
            let mut reader = reader;
            reader.read_to_end(&mut bytes)?;
            read_bytes(bytes, format, opts)
        }
    }
}

/// How many leading records are searched for the header row.
pub(crate) const HEADER_SEARCH: usize = 10;

/// The header among the first records: the first with at least 3 known column names, else the
/// first non-empty one.
pub(crate) fn pick_header<S: AsRef<str>>(records: &[Vec<S>]) -> Option<usize> {
    records
        .iter()
        .position(|r| r.iter().filter(|c| is_known_column(c.as_ref())).count() >= 3)
        .or_else(|| records.iter().position(|r| !is_blank(r)))
}

/// A record whose cells are all empty or whitespace.
pub(crate) fn is_blank<S: AsRef<str>>(cells: &[S]) -> bool {
    cells.iter().all(|c| c.as_ref().trim().is_empty())
}

/// The header cells as given, trimmed of whitespace and a stray byte-order mark.
pub(crate) fn header_cell(s: &str) -> String {
    s.trim_matches(|c: char| c.is_whitespace() || c == '\u{FEFF}')
        .to_string()
}

/// Pairs values with headers; values beyond the header get the name `列N` (column N) when not
/// empty; missing values are empty.
pub(crate) fn pair<I: Iterator<Item = String>>(
    headers: &[Arc<str>],
    values: I,
) -> Vec<(Arc<str>, String)> {
    let mut out = Vec::with_capacity(headers.len());
    let mut values = values;
    for h in headers {
        out.push((Arc::clone(h), values.next().unwrap_or_default()));
    }
    for (i, v) in values.enumerate() {
        if !v.trim().is_empty() {
            out.push((format!("列{}", headers.len() + i + 1).into(), v));
        }
    }
    out
}

/// The fields of a row as owned pairs (what a rejected row keeps).
pub(crate) fn owned_fields(fields: &[(Arc<str>, String)]) -> Vec<(String, String)> {
    fields
        .iter()
        .map(|(h, v)| (h.to_string(), v.clone()))
        .collect()
}

/// Header names to share between rows.
pub(crate) fn shared(headers: &[String]) -> Vec<Arc<str>> {
    headers.iter().map(|h| Arc::from(h.as_str())).collect()
}

/// Shortens a text for an error message (at most `n` characters).
pub(crate) fn shorten(s: &str, n: usize) -> String {
    let mut it = s.chars();
    let head: String = it.by_ref().take(n).collect();
    if it.next().is_some() {
        format!("{head}…")
    } else {
        head
    }
}
