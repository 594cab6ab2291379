//! CSV as agencies really send it: UTF-8 (with or without BOM) or GBK, CRLF line ends, quoted fields
//! holding line breaks, no final newline, an empty trailing column, title lines or blank lines above
//! the header, comma- or tab-separated. Streaming: at most the header search window (10 records) and
//! one record are held.

use std::collections::VecDeque;
use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use ::csv::{ReaderBuilder, StringRecord};
use encoding_rs::Encoding;

use super::decode::{DecodeReader, RecordTooLarge};
use super::{
    HEADER_SEARCH, RawRow, RawRowResult, ReadError, ReadOptions, header_cell, is_blank, pair,
    pick_header, shared,
};
use crate::error::IngestError;

/// The CSV reader's buffer.
const CSV_BUFFER: usize = 64 * 1024;

/// Rows of a CSV file.
pub struct CsvRows<R: Read> {
    rdr: ::csv::Reader<RowTracker<DecodeReader<R>>>,
    counter: Arc<AtomicU64>,
    encoding: &'static Encoding,
    headers: Vec<String>,
    /// `headers`, shared by the rows.
    names: Vec<Arc<str>>,
    header_row: u64,
    pending: VecDeque<(u64, Vec<String>)>,
    record: StringRecord,
    prev_row: u64,
    /// An error met while searching for the header, yielded after the rows read before it.
    deferred: Option<IngestError>,
    done: bool,
}

/// Opens a CSV stream: detects the encoding (unless [`ReadOptions::encoding`] forces one) and the
/// delimiter, and finds the header row.
pub fn read_csv<R: Read>(reader: R, opts: &ReadOptions) -> Result<CsvRows<R>, IngestError> {
    let mut decoder = DecodeReader::new(reader, opts.encoding)?;
    if let Some(limit) = opts.max_record_bytes {
        // The CSV reader reads ahead a buffer at a time: the limit must leave room for that.
        decoder = decoder.with_limit(limit.max(4 * CSV_BUFFER as u64));
    }
    let delimiter = sniff_delimiter(decoder.sample());
    let encoding = decoder.encoding();
    let counter = decoder.counter();
    let rdr = ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .buffer_capacity(CSV_BUFFER)
        .from_reader(RowTracker::new(decoder, delimiter));
    let mut rows = CsvRows {
        rdr,
        counter,
        encoding,
        headers: Vec::new(),
        names: Vec::new(),
        header_row: 0,
        pending: VecDeque::new(),
        record: StringRecord::new(),
        prev_row: 0,
        deferred: None,
        done: false,
    };
    let mut first: Vec<(u64, Vec<String>)> = Vec::new();
    while first.len() < HEADER_SEARCH {
        match rows.read_one() {
            Ok(Some(row)) => {
                let cells: Vec<String> = rows.record.iter().map(str::to_string).collect();
                first.push((row, cells));
            }
            Ok(None) => break,
            Err(e) if first.is_empty() => return Err(e),
            Err(e) => {
                rows.deferred = Some(e);
                rows.done = true;
                break;
            }
        }
    }
    let cells: Vec<Vec<String>> = first.iter().map(|(_, c)| c.clone()).collect();
    if let Some(h) = pick_header(&cells) {
        let mut it = first.into_iter().skip(h);
        if let Some((row, cells)) = it.next() {
            rows.header_row = row;
            rows.headers = cells.iter().map(|c| header_cell(c)).collect();
            rows.names = shared(&rows.headers);
        }
        rows.pending = it.collect();
    }
    Ok(rows)
}

/// Tab when the first lines hold more tabs than commas, else comma. Both are ASCII bytes that never
/// occur inside a GBK or UTF-8 multibyte character.
fn sniff_delimiter(sample: &[u8]) -> u8 {
    let mut tabs = 0usize;
    let mut commas = 0usize;
    for line in sample.split(|&b| b == b'\n').take(HEADER_SEARCH + 1) {
        tabs += line.iter().filter(|&&b| b == b'\t').count();
        commas += line.iter().filter(|&&b| b == b',').count();
    }
    if tabs > commas { b'\t' } else { b',' }
}

impl<R: Read> CsvRows<R> {
    /// The header row's cells, trimmed.
    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    /// The spreadsheet row number of the header (0 for an empty file).
    pub fn header_row(&self) -> u64 {
        self.header_row
    }

    /// The encoding read (detected or forced).
    pub fn encoding(&self) -> &'static Encoding {
        self.encoding
    }

    /// Reads the next record into `self.record` and returns its spreadsheet row number.
    fn read_one(&mut self) -> Result<Option<u64>, IngestError> {
        match self.rdr.read_record(&mut self.record) {
            Ok(true) => {
                self.counter.store(0, Ordering::Relaxed);
                let at = self.record.position().map(|p| p.byte()).unwrap_or(0);
                let row = self
                    .rdr
                    .get_mut()
                    .row_at(at)
                    .filter(|&r| r > self.prev_row)
                    .unwrap_or(self.prev_row + 1);
                self.prev_row = row;
                Ok(Some(row))
            }
            Ok(false) => Ok(None),
            Err(e) => Err(fatal(e)),
        }
    }
}

/// Quote state of [`RowTracker`], as the CSV reader sees quotes: only at the start of a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum QuoteState {
    FieldStart,
    Unquoted,
    Quoted,
    Closed,
}

/// Counts spreadsheet rows in the decoded stream on its way to the CSV reader: a line break outside
/// quotes ends a row (CRLF counts once), blank lines are rows too, a quoted line break is not. It
/// remembers where each non-blank row starts, so that a record (whose position the CSV reader
/// gives as the byte where it started looking, before skipping blank lines) gets its row number.
struct RowTracker<R> {
    inner: R,
    delimiter: u8,
    offset: u64,
    row: u64,
    state: QuoteState,
    prev_cr: bool,
    row_started: bool,
    starts: VecDeque<(u64, u64)>,
}

impl<R: Read> RowTracker<R> {
    fn new(inner: R, delimiter: u8) -> Self {
        RowTracker {
            inner,
            delimiter,
            offset: 0,
            row: 1,
            state: QuoteState::FieldStart,
            prev_cr: false,
            row_started: false,
            starts: VecDeque::new(),
        }
    }

    /// The row of the first non-blank row starting at or after byte `at`.
    fn row_at(&mut self, at: u64) -> Option<u64> {
        while let Some(&(offset, row)) = self.starts.front() {
            self.starts.pop_front();
            if offset >= at {
                return Some(row);
            }
        }
        None
    }

    fn track(&mut self, bytes: &[u8]) {
        let mut i = 0;
        while i < bytes.len() {
            // Skip what cannot change the state: inside quotes everything but a quote; in an
            // unquoted field everything but a delimiter or a line break.
            match self.state {
                QuoteState::Quoted if !self.prev_cr => match memchr::memchr(b'"', &bytes[i..]) {
                    Some(k) => i += k,
                    None => break,
                },
                QuoteState::Unquoted if !self.prev_cr => {
                    match memchr::memchr3(self.delimiter, b'\n', b'\r', &bytes[i..]) {
                        Some(k) => i += k,
                        None => break,
                    }
                }
                _ => {}
            }
            let b = bytes[i];
            let cr_lf = self.prev_cr && b == b'\n';
            self.prev_cr = false;
            if cr_lf {
                i += 1;
                continue;
            }
            if self.state == QuoteState::Quoted {
                if b == b'"' {
                    self.state = QuoteState::Closed;
                }
            } else if b == b'\n' || b == b'\r' {
                self.row += 1;
                self.row_started = false;
                self.state = QuoteState::FieldStart;
                self.prev_cr = b == b'\r';
            } else {
                if !self.row_started {
                    self.row_started = true;
                    self.starts.push_back((self.offset + i as u64, self.row));
                }
                self.state = match (self.state, b) {
                    (QuoteState::FieldStart, b'"') => QuoteState::Quoted,
                    (QuoteState::Closed, b'"') => QuoteState::Quoted,
                    (_, d) if d == self.delimiter => QuoteState::FieldStart,
                    _ => QuoteState::Unquoted,
                };
            }
            i += 1;
        }
        self.offset += bytes.len() as u64;
    }
}

impl<R: Read> Read for RowTracker<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.track(&buf[..n]);
        Ok(n)
    }
}

fn fatal(e: ::csv::Error) -> IngestError {
    let too_large = match e.kind() {
        ::csv::ErrorKind::Io(io) => io
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<RecordTooLarge>())
            .map(|t| t.0),
        _ => None,
    };
    match too_large {
        Some(limit) => IngestError::RecordTooLarge(limit),
        None => IngestError::Csv(e),
    }
}

impl<R: Read> Iterator for CsvRows<R> {
    type Item = RawRowResult;

    fn next(&mut self) -> Option<RawRowResult> {
        if let Some((row, cells)) = self.pending.pop_front() {
            if is_blank(&cells) {
                return self.next();
            }
            return Some(Ok(RawRow {
                row,
                fields: pair(&self.names, cells.into_iter()),
            }));
        }
        if let Some(e) = self.deferred.take() {
            return Some(Err(ReadError::Fatal(e)));
        }
        loop {
            if self.done {
                return None;
            }
            match self.read_one() {
                Ok(Some(row)) => {
                    if self.record.iter().all(|c| c.trim().is_empty()) {
                        continue;
                    }
                    return Some(Ok(RawRow {
                        row,
                        fields: pair(&self.names, self.record.iter().map(str::to_string)),
                    }));
                }
                Ok(None) => {
                    self.done = true;
                    return None;
                }
                Err(e) => {
                    self.done = true;
                    return Some(Err(ReadError::Fatal(e)));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &str) -> (Vec<String>, Vec<RawRow>) {
        let r = read_csv(text.as_bytes(), &ReadOptions::default()).expect("open");
        let headers = r.headers().to_vec();
        let rows = r.map(|x| x.expect("row")).collect();
        (headers, rows)
    }

    #[test]
    fn title_lines_blank_lines_and_quoted_breaks_keep_spreadsheet_row_numbers() {
        let text = "某市行政处罚信息公示\r\n\r\n行政相对人名称,处罚机关,行政处罚决定书文号,\r\nA公司,\"第一行\r\n第二行\",1号,\r\n\r\nB公司,局,2号,";
        let (headers, rows) = rows(text);
        assert_eq!(
            headers,
            ["行政相对人名称", "处罚机关", "行政处罚决定书文号", ""]
        );
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].row, 4);
        assert_eq!(rows[0].fields[1].1, "第一行\r\n第二行");
        // A quoted break stays in its cell, so B公司 is on row 6 (row 5 is blank).
        assert_eq!(rows[1].row, 6);
        assert_eq!(rows[1].fields[0].1, "B公司");
    }

    #[test]
    fn first_record_is_the_header_when_none_is_known() {
        let (headers, rows) = rows("a,b\n1,2\n");
        assert_eq!(headers, ["a", "b"]);
        assert_eq!(rows[0].row, 2);
    }

    #[test]
    fn extra_cells_get_column_names_and_short_rows_are_padded() {
        let (_, rows) = rows("a,b\n1\n1,2,3\n");
        assert_eq!(
            rows[0].fields,
            [("a".into(), "1".into()), ("b".into(), "".into())]
        );
        assert_eq!(rows[1].fields[2], ("列3".into(), "3".into()));
    }

    #[test]
    fn tabs() {
        let (headers, rows) = rows("行政相对人名称\t处罚机关\t备注\nA\tB\tC\n");
        assert_eq!(headers.len(), 3);
        assert_eq!(rows[0].fields[2].1, "C");
    }
}
