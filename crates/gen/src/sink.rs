//! Writers: CSV (UTF-8, UTF-8 with BOM, or GBK), JSON Lines and XLSX, each streaming rows to disk.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use creditloop_domain::subject::PersonRole;
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Workbook, XlsxError};

use crate::rows::Row;
use crate::schema::{Column, F};
use crate::{Encoding, Format};

/// Most data rows one XLSX sheet holds: 1,048,576 rows less the header.
pub const XLSX_MAX_DATA_ROWS: u64 = 1_048_575;

/// Bytes of text gathered before they are encoded and written.
const CHUNK: usize = 1 << 16;

/// Where the rows of one file go.
pub(crate) enum Sink {
    Csv(CsvSink),
    Jsonl(JsonlSink),
    Xlsx(Box<XlsxSink>),
}

impl Sink {
    /// Creates the file and writes its header (the JSON keys for JSON Lines, where no header line
    /// is written). `title` is written above the header when given (CSV and XLSX); `date` is the
    /// creation date recorded in an XLSX workbook.
    pub(crate) fn create(
        path: &Path,
        format: Format,
        encoding: Encoding,
        headers: Vec<String>,
        title: Option<String>,
        date: (i32, u32, u32),
    ) -> io::Result<Sink> {
        Ok(match format {
            Format::Csv => Sink::Csv(CsvSink::create(path, encoding, &headers, title)?),
            Format::JsonLines => Sink::Jsonl(JsonlSink::create(path, headers)?),
            Format::Xlsx => Sink::Xlsx(Box::new(XlsxSink::create(path, &headers, title, date)?)),
        })
    }

    /// Writes one row: the values of `cols` in order. `prefix` are extra JSON pairs written first.
    pub(crate) fn row(
        &mut self,
        row: &Row,
        cols: &[Column],
        prefix: &[(&str, &str)],
    ) -> io::Result<()> {
        match self {
            Sink::Csv(s) => s.write(cols.iter().map(|c| row.get(c.field))),
            Sink::Jsonl(s) => s.write(row, cols, prefix),
            Sink::Xlsx(s) => s.write(cols.iter().map(|c| (row.get(c.field), c.field.is_number()))),
        }
    }

    /// Writes a row of plain strings (the agencies file).
    pub(crate) fn plain_row(&mut self, values: &[&str]) -> io::Result<()> {
        match self {
            Sink::Csv(s) => s.write(values.iter().copied()),
            Sink::Jsonl(s) => s.write_plain(values),
            Sink::Xlsx(s) => s.write(values.iter().map(|v| (*v, false))),
        }
    }

    /// Flushes everything and closes the file.
    pub(crate) fn finish(self) -> io::Result<()> {
        match self {
            Sink::Csv(s) => s.finish(),
            Sink::Jsonl(s) => s.finish(),
            Sink::Xlsx(s) => s.finish(),
        }
    }
}

/// CSV as office software writes it: fields quoted only when they must be; CRLF line ends for the
/// Excel-like encodings (UTF-8 with BOM, GBK), LF for plain UTF-8.
pub(crate) struct CsvSink {
    out: BufWriter<File>,
    buf: String,
    bytes: Vec<u8>,
    gbk: Option<encoding_rs::Encoder>,
    eol: &'static str,
}

impl CsvSink {
    fn create(
        path: &Path,
        encoding: Encoding,
        headers: &[String],
        title: Option<String>,
    ) -> io::Result<Self> {
        let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
        if encoding == Encoding::Utf8Bom {
            out.write_all(b"\xEF\xBB\xBF")?;
        }
        let mut s = CsvSink {
            out,
            buf: String::with_capacity(CHUNK * 2),
            bytes: Vec::with_capacity(CHUNK * 2),
            gbk: (encoding == Encoding::Gbk).then(|| encoding_rs::GBK.new_encoder()),
            eol: if encoding == Encoding::Utf8 {
                "\n"
            } else {
                "\r\n"
            },
        };
        if let Some(t) = title {
            // A title cell in the first column, the rest of the line empty, as Excel exports it.
            let mut line = vec![t];
            line.extend(std::iter::repeat_n(
                String::new(),
                headers.len().saturating_sub(1),
            ));
            s.write(line.iter().map(String::as_str))?;
        }
        s.write(headers.iter().map(String::as_str))?;
        Ok(s)
    }

    fn write<'a>(&mut self, values: impl Iterator<Item = &'a str>) -> io::Result<()> {
        for (i, v) in values.enumerate() {
            if i > 0 {
                self.buf.push(',');
            }
            if v.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
                self.buf.push('"');
                for ch in v.chars() {
                    if ch == '"' {
                        self.buf.push('"');
                    }
                    self.buf.push(ch);
                }
                self.buf.push('"');
            } else {
                self.buf.push_str(v);
            }
        }
        self.buf.push_str(self.eol);
        if self.buf.len() >= CHUNK {
            self.flush_buf(false)?;
        }
        Ok(())
    }

    fn flush_buf(&mut self, last: bool) -> io::Result<()> {
        match &mut self.gbk {
            None => self.out.write_all(self.buf.as_bytes())?,
            Some(enc) => {
                self.bytes.clear();
                let need = enc
                    .max_buffer_length_from_utf8_if_no_unmappables(self.buf.len())
                    .unwrap_or(self.buf.len() * 2)
                    + 16;
                self.bytes.reserve(need);
                let (_, _, _) = enc.encode_from_utf8_to_vec(&self.buf, &mut self.bytes, last);
                self.out.write_all(&self.bytes)?;
            }
        }
        self.buf.clear();
        Ok(())
    }

    fn finish(mut self) -> io::Result<()> {
        self.flush_buf(true)?;
        self.out.flush()
    }
}

/// JSON Lines: one object a line with the English keys; empty values are left out, amounts are
/// numbers, 关联人员 is a list of `{name, role, resident_id}`.
pub(crate) struct JsonlSink {
    out: BufWriter<File>,
    buf: String,
    keys: Vec<String>,
}

/// Appends `s` as a JSON string.
fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Whether `s` is a plain decimal number JSON can carry as is.
fn is_json_number(s: &str) -> bool {
    let mut parts = s.splitn(2, '.');
    let int = parts.next().unwrap_or("");
    let frac = parts.next();
    !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && (int == "0" || !int.starts_with('0'))
        && frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
}

impl JsonlSink {
    fn create(path: &Path, keys: Vec<String>) -> io::Result<Self> {
        Ok(JsonlSink {
            out: BufWriter::with_capacity(1 << 20, File::create(path)?),
            buf: String::with_capacity(CHUNK * 2),
            keys,
        })
    }

    fn write(&mut self, row: &Row, cols: &[Column], prefix: &[(&str, &str)]) -> io::Result<()> {
        let b = &mut self.buf;
        b.push('{');
        let mut first = true;
        let mut sep = |b: &mut String| {
            if !first {
                b.push(',');
            }
            first = false;
        };
        for (k, v) in prefix {
            sep(b);
            push_json_str(b, k);
            b.push(':');
            push_json_str(b, v);
        }
        for (c, key) in cols.iter().zip(&self.keys) {
            let v = row.get(c.field);
            if v.is_empty() {
                continue;
            }
            sep(b);
            push_json_str(b, key);
            b.push(':');
            if c.field == F::Persons {
                push_persons(b, v);
            } else if c.field.is_number() && is_json_number(v) {
                b.push_str(v);
            } else {
                push_json_str(b, v);
            }
        }
        b.push_str("}\n");
        if self.buf.len() >= CHUNK {
            self.out.write_all(self.buf.as_bytes())?;
            self.buf.clear();
        }
        Ok(())
    }

    fn write_plain(&mut self, values: &[&str]) -> io::Result<()> {
        let b = &mut self.buf;
        b.push('{');
        let mut first = true;
        for (k, v) in self.keys.iter().zip(values) {
            if v.is_empty() {
                continue;
            }
            if !first {
                b.push(',');
            }
            first = false;
            push_json_str(b, k);
            b.push(':');
            push_json_str(b, v);
        }
        b.push_str("}\n");
        Ok(())
    }

    fn finish(mut self) -> io::Result<()> {
        self.out.write_all(self.buf.as_bytes())?;
        self.out.flush()
    }
}

/// `角色:姓名:证件号码;…` as a JSON list of `{name, role, resident_id}` (role as its code).
fn push_persons(b: &mut String, v: &str) {
    b.push('[');
    for (i, item) in v.split(';').filter(|s| !s.is_empty()).enumerate() {
        if i > 0 {
            b.push(',');
        }
        let mut parts = item.splitn(3, ':');
        let role = parts.next().unwrap_or("");
        let name = parts.next().unwrap_or("");
        let id = parts.next().unwrap_or("");
        b.push_str("{\"name\":");
        push_json_str(b, name);
        b.push_str(",\"role\":");
        match PersonRole::parse(role) {
            Some(r) => push_json_str(b, r.code()),
            None => push_json_str(b, role),
        }
        if !id.is_empty() {
            b.push_str(",\"resident_id\":");
            push_json_str(b, id);
        }
        b.push('}');
    }
    b.push(']');
}

/// One worksheet in constant-memory mode: rows go to a temporary file as they come.
pub(crate) struct XlsxSink {
    book: Workbook,
    path: std::path::PathBuf,
    next_row: u32,
}

fn xlsx_err(e: XlsxError) -> io::Error {
    io::Error::other(format!("XLSX: {e}"))
}

impl XlsxSink {
    fn create(
        path: &Path,
        headers: &[String],
        title: Option<String>,
        (y, m, d): (i32, u32, u32),
    ) -> io::Result<Self> {
        let mut book = Workbook::new();
        // A fixed creation time keeps the file byte-identical from run to run.
        let created = ExcelDateTime::from_ymd(
            u16::try_from(y).unwrap_or(2024),
            u8::try_from(m).unwrap_or(1),
            u8::try_from(d).unwrap_or(1),
        )
        .map_err(xlsx_err)?;
        book.set_properties(&DocProperties::new().set_creation_datetime(&created));
        let mut s = XlsxSink {
            book,
            path: path.to_path_buf(),
            next_row: 0,
        };
        s.book.add_worksheet_with_constant_memory();
        if let Some(t) = title {
            s.write(std::iter::once((t.as_str(), false)))?;
        }
        s.write(headers.iter().map(|h| (h.as_str(), false)))?;
        Ok(s)
    }

    fn write<'a>(&mut self, values: impl Iterator<Item = (&'a str, bool)>) -> io::Result<()> {
        let r = self.next_row;
        let sheet = self.book.worksheet_from_index(0).map_err(xlsx_err)?;
        for (c, (v, number)) in values.enumerate() {
            if v.is_empty() {
                continue;
            }
            let col = u16::try_from(c).map_err(|_| io::Error::other("XLSX: too many columns"))?;
            match v.parse::<f64>() {
                Ok(n) if number && is_json_number(v) => sheet.write_number(r, col, n),
                _ => sheet.write_string(r, col, v),
            }
            .map_err(xlsx_err)?;
        }
        self.next_row += 1;
        Ok(())
    }

    fn finish(mut self) -> io::Result<()> {
        self.book.save(&self.path).map_err(xlsx_err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_and_numbers() {
        let mut s = String::new();
        push_json_str(&mut s, "a\"b\\c\nd\u{1}");
        assert_eq!(s, r#""a\"b\\c\nd\u0001""#);
        assert!(is_json_number("0.5"));
        assert!(is_json_number("12"));
        assert!(!is_json_number("012"));
        assert!(!is_json_number("1."));
        assert!(!is_json_number("无"));
        let mut p = String::new();
        push_persons(&mut p, "法定代表人:张三:11010519491231002X;股东:李四:");
        assert_eq!(
            p,
            r#"[{"name":"张三","role":"legal_representative","resident_id":"11010519491231002X"},{"name":"李四","role":"shareholder"}]"#
        );
    }
}
