//! XLSX (Office Open XML workbooks) with calamine's streaming cell reader, on a thread of its own that
//! hands rows over through a small bounded channel (the cell reader borrows the workbook, so an
//! owning iterator needs the thread; memory stays bounded to a few hundred rows plus the shared
//! strings table).
//!
//! Cells are turned into text by what their column holds: date cells and, in date columns, serial
//! numbers (1900 date system) become `YYYY-MM-DD`; a number in an identifier column that a float
//! cannot hold exactly (16 or more digits) is written in scientific form (`1.20102E+17`) so that
//! validation rejects it as `spreadsheet_number` — its digits are lost and it is never repaired;
//! other integers are written without `.0`. Title rows above the header are skipped as for CSV, and
//! cells merged vertically in the data area are filled from their top-left cell.

use std::io::{Read, Seek};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use calamine::{DataRef, Dimensions, Reader, Xlsx};
use chrono::{Duration, NaiveDate, NaiveDateTime, Timelike};

use super::{
    HEADER_SEARCH, RawRow, RawRowResult, ReadError, ReadOptions, header_cell, is_blank, pair,
    pick_header, shared,
};
use crate::error::IngestError;
use crate::fields::{FieldKind, Layout};

const CHUNK: usize = 256;

/// Rows of one worksheet.
pub struct XlsxRows {
    rx: Option<Receiver<Vec<RawRowResult>>>,
    buf: std::vec::IntoIter<RawRowResult>,
    handle: Option<JoinHandle<()>>,
    sheet: String,
}

impl XlsxRows {
    /// The name of the sheet read.
    pub fn sheet(&self) -> &str {
        &self.sheet
    }
}

fn xe(e: impl std::fmt::Display) -> IngestError {
    IngestError::Xlsx(e.to_string())
}

/// Opens a workbook and starts reading the sheet [`ReadOptions::sheet`] names, or the first.
pub fn read_xlsx<RS: Read + Seek + Send + 'static>(
    source: RS,
    opts: &ReadOptions,
) -> Result<XlsxRows, IngestError> {
    let mut wb: Xlsx<RS> = Xlsx::new(source).map_err(xe)?;
    let names = wb.sheet_names();
    let sheet = match &opts.sheet {
        Some(s) => names
            .iter()
            .find(|n| *n == s || n.trim() == s.trim())
            .cloned()
            .ok_or_else(|| IngestError::SheetNotFound {
                name: s.clone(),
                available: names.join(", "),
            })?,
        None => names
            .first()
            .cloned()
            .ok_or_else(|| IngestError::Xlsx("the workbook has no sheet".into()))?,
    };
    let regions: Vec<Dimensions> = match wb.load_merged_regions() {
        Ok(()) => wb
            .merged_regions_by_sheet(&sheet)
            .into_iter()
            .map(|(_, _, d)| *d)
            .filter(|d| d.end.0 > d.start.0)
            .collect(),
        Err(_) => Vec::new(),
    };
    let (tx, rx) = sync_channel::<Vec<RawRowResult>>(4);
    let name = sheet.clone();
    let handle = std::thread::Builder::new()
        .name("xlsx-reader".into())
        .spawn(move || {
            let mut sink = Sink {
                tx,
                chunk: Vec::with_capacity(CHUNK),
            };
            let result = read_sheet(&mut wb, &name, regions, &mut sink);
            match result {
                Ok(()) | Err(Stop::Closed) => {}
                Err(Stop::Error(e)) => sink.chunk.push(Err(ReadError::Fatal(e))),
            }
            let _ = sink.flush();
        })
        .map_err(IngestError::Io)?;
    Ok(XlsxRows {
        rx: Some(rx),
        buf: Vec::new().into_iter(),
        handle: Some(handle),
        sheet,
    })
}

enum Stop {
    /// The receiver is gone: nobody wants more rows.
    Closed,
    Error(IngestError),
}

struct Sink {
    tx: SyncSender<Vec<RawRowResult>>,
    chunk: Vec<RawRowResult>,
}

impl Sink {
    fn push(&mut self, r: RawRowResult) -> Result<(), Stop> {
        self.chunk.push(r);
        if self.chunk.len() >= CHUNK {
            self.flush()?;
        }
        Ok(())
    }
    fn flush(&mut self) -> Result<(), Stop> {
        if self.chunk.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.chunk, Vec::with_capacity(CHUNK));
        self.tx.send(chunk).map_err(|_| Stop::Closed)
    }
}

/// A cell's value, owned (the reader's values borrow its shared strings).
#[derive(Debug, Clone, PartialEq)]
enum CellVal {
    Empty,
    Text(String),
    Float(f64),
    Int(i64),
    Bool(bool),
    DateTime(NaiveDateTime),
    Error(String),
}

impl CellVal {
    fn from_ref(v: &DataRef<'_>) -> CellVal {
        match v {
            DataRef::Empty => CellVal::Empty,
            DataRef::Int(i) => CellVal::Int(*i),
            DataRef::Float(f) => CellVal::Float(*f),
            DataRef::String(s) => CellVal::Text(s.clone()),
            DataRef::SharedString(s) => CellVal::Text((*s).to_string()),
            DataRef::Bool(b) => CellVal::Bool(*b),
            DataRef::DateTime(d) => match d.as_datetime() {
                Some(dt) if d.is_datetime() => CellVal::DateTime(dt),
                _ => CellVal::Float(d.as_f64()),
            },
            DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => CellVal::Text(s.clone()),
            DataRef::Error(e) => CellVal::Error(e.to_string()),
        }
    }

    fn is_empty(&self) -> bool {
        match self {
            CellVal::Empty => true,
            CellVal::Text(s) => s.trim().is_empty(),
            _ => false,
        }
    }

    /// The text of the value for a column holding `kind` (`None`: unknown column).
    fn text(&self, kind: Option<FieldKind>) -> String {
        match self {
            CellVal::Empty => String::new(),
            CellVal::Text(s) => s.clone(),
            CellVal::Bool(b) => b.to_string(),
            CellVal::Error(e) => e.clone(),
            CellVal::DateTime(dt) => format_datetime(*dt),
            CellVal::Int(i) => number_text(*i as f64, Some(*i), kind),
            CellVal::Float(f) => number_text(*f, None, kind),
        }
    }
}

fn format_datetime(dt: NaiveDateTime) -> String {
    if dt.num_seconds_from_midnight() == 0 {
        dt.format("%Y-%m-%d").to_string()
    } else {
        dt.format("%Y-%m-%d %H:%M:%S").to_string()
    }
}

/// The largest integer a float holds with all its digits as a spreadsheet shows them: 15
/// significant digits.
const FLOAT_DIGITS_LIMIT: f64 = 1e15;

fn number_text(f: f64, exact: Option<i64>, kind: Option<FieldKind>) -> String {
    let integral = f.is_finite() && f.fract() == 0.0;
    match kind {
        Some(FieldKind::Date) => {
            if let Some(dt) = serial_to_datetime(f) {
                return format_datetime(dt);
            }
        }
        // A float beyond 15 digits has lost the rest: write it the way the spreadsheet shows it,
        // which validation rejects as a spreadsheet number.
        Some(FieldKind::Identifier)
            if exact.is_none() && integral && f.abs() >= FLOAT_DIGITS_LIMIT =>
        {
            return scientific(f);
        }
        _ => {}
    }
    if let Some(i) = exact {
        return i.to_string();
    }
    if integral && f.abs() < FLOAT_DIGITS_LIMIT {
        return format!("{}", f as i64);
    }
    format!("{f}")
}

/// `1.20102E+17`, as a spreadsheet shows a large number.
fn scientific(f: f64) -> String {
    let s = format!("{f:E}");
    match s.split_once('E') {
        Some((m, e)) if !e.starts_with('-') => format!("{m}E+{e}"),
        _ => s,
    }
}

/// A serial date number of the 1900 date system (1 = 1900-01-01, with the spreadsheet's fictitious
/// 1900-02-29 as 60, which is no date) and its fraction of a day.
fn serial_to_datetime(f: f64) -> Option<NaiveDateTime> {
    if !f.is_finite() || !(1.0..2_958_466.0).contains(&f) {
        return None;
    }
    let days = f.floor() as i64;
    let base = match days {
        60 => return None,
        d if d < 60 => NaiveDate::from_ymd_opt(1899, 12, 31)?,
        _ => NaiveDate::from_ymd_opt(1899, 12, 30)?,
    };
    let date = base.checked_add_signed(Duration::days(days))?;
    let secs = ((f - f.floor()) * 86_400.0).round() as i64;
    date.and_hms_opt(0, 0, 0)?
        .checked_add_signed(Duration::seconds(secs.min(86_399)))
}

/// The header of a sheet: its 0-based row, the names (shared by the rows) and each column's kind.
type SheetHeader = (u32, Vec<Arc<str>>, Vec<Option<FieldKind>>);

/// State of one sheet's reading.
struct SheetState {
    /// Rows before the header is chosen: (0-based row, cells).
    early: Vec<(u32, Vec<CellVal>)>,
    header: Option<SheetHeader>,
    regions: Vec<Dimensions>,
    region_values: Vec<Option<CellVal>>,
}

fn read_sheet<RS: Read + Seek>(
    wb: &mut Xlsx<RS>,
    sheet: &str,
    mut regions: Vec<Dimensions>,
    sink: &mut Sink,
) -> Result<(), Stop> {
    let mut cells = wb
        .worksheet_cells_reader(sheet)
        .map_err(|e| Stop::Error(xe(e)))?;
    regions.sort_by_key(|d| d.start);
    let mut state = SheetState {
        early: Vec::new(),
        header: None,
        region_values: vec![None; regions.len()],
        regions,
    };
    let mut current: Option<u32> = None;
    let mut row: Vec<CellVal> = Vec::new();
    while let Some(cell) = cells.next_cell().map_err(|e| Stop::Error(xe(e)))? {
        let (r, c) = cell.get_position();
        if current != Some(r) {
            if let Some(prev) = current {
                state.row(prev, std::mem::take(&mut row), sink)?;
            }
            current = Some(r);
        }
        let c = c as usize;
        // A stray cell far to the right must not make every row huge: such cells are kept only
        // within a generous bound.
        if c > 4096 {
            continue;
        }
        if row.len() <= c {
            row.resize(c + 1, CellVal::Empty);
        }
        row[c] = CellVal::from_ref(cell.get_value());
    }
    if let Some(prev) = current {
        state.row(prev, row, sink)?;
    }
    state.finish(sink)?;
    sink.flush()
}

impl SheetState {
    fn row(&mut self, r: u32, cells: Vec<CellVal>, sink: &mut Sink) -> Result<(), Stop> {
        if self.header.is_some() {
            return self.emit(r, cells, sink);
        }
        self.early.push((r, cells));
        if self.early.len() >= HEADER_SEARCH {
            self.choose_header(sink)?;
        }
        Ok(())
    }

    fn finish(&mut self, sink: &mut Sink) -> Result<(), Stop> {
        if self.header.is_none() {
            self.choose_header(sink)?;
        }
        Ok(())
    }

    fn choose_header(&mut self, sink: &mut Sink) -> Result<(), Stop> {
        let early = std::mem::take(&mut self.early);
        let texts: Vec<Vec<String>> = early
            .iter()
            .map(|(_, cells)| cells.iter().map(|c| c.text(None)).collect())
            .collect();
        let Some(h) = pick_header(&texts) else {
            return Ok(());
        };
        let mut headers: Vec<String> = texts
            .get(h)
            .map(|t| t.iter().map(|c| header_cell(c)).collect())
            .unwrap_or_default();
        while headers.last().is_some_and(String::is_empty) {
            headers.pop();
        }
        let layout = Layout::resolve(&headers, None);
        let kinds = (0..headers.len())
            .map(|i| layout.field(i).map(|f| f.kind()))
            .collect();
        let header_row = early.get(h).map(|(r, _)| *r).unwrap_or(0);
        self.header = Some((header_row, shared(&headers), kinds));
        // Merged regions in the header or above it are titles, not data.
        let keep: Vec<bool> = self
            .regions
            .iter()
            .map(|d| d.start.0 > header_row)
            .collect();
        let mut k = keep.iter();
        self.regions.retain(|_| *k.next().unwrap_or(&false));
        self.region_values = vec![None; self.regions.len()];
        for (r, cells) in early.into_iter().skip(h + 1) {
            self.emit(r, cells, sink)?;
        }
        Ok(())
    }

    fn emit(&mut self, r: u32, mut cells: Vec<CellVal>, sink: &mut Sink) -> Result<(), Stop> {
        // Fill cells merged with the cell above them.
        for (i, d) in self.regions.iter().enumerate() {
            if d.start.0 > r {
                break;
            }
            if d.end.0 < r {
                continue;
            }
            let (c0, c1) = (d.start.1 as usize, d.end.1 as usize);
            if c1 > 4096 || c0 > c1 {
                continue;
            }
            if d.start.0 == r {
                self.region_values[i] = cells.get(c0).cloned();
            }
            if let Some(v) = &self.region_values[i] {
                if cells.len() <= c1 {
                    cells.resize(c1 + 1, CellVal::Empty);
                }
                for cell in &mut cells[c0..=c1] {
                    if cell.is_empty() {
                        *cell = v.clone();
                    }
                }
            }
        }
        if cells.iter().all(CellVal::is_empty) {
            return Ok(());
        }
        let Some((_, headers, kinds)) = &self.header else {
            return Ok(());
        };
        let texts = cells
            .iter()
            .enumerate()
            .map(|(i, c)| c.text(kinds.get(i).copied().flatten()));
        let fields = pair(headers, texts);
        if is_blank(&fields.iter().map(|(_, v)| v.as_str()).collect::<Vec<_>>()) {
            return Ok(());
        }
        sink.push(Ok(RawRow {
            row: u64::from(r) + 1,
            fields,
        }))
    }
}

impl Iterator for XlsxRows {
    type Item = RawRowResult;

    fn next(&mut self) -> Option<RawRowResult> {
        loop {
            if let Some(r) = self.buf.next() {
                return Some(r);
            }
            let rx = self.rx.as_ref()?;
            match rx.recv() {
                Ok(chunk) => self.buf = chunk.into_iter(),
                Err(_) => {
                    self.rx = None;
                    let crashed = self.handle.take().map(|h| h.join().is_err());
                    if crashed == Some(true) {
                        return Some(Err(ReadError::Fatal(IngestError::Xlsx(
                            "the workbook reader stopped on malformed content".into(),
                        ))));
                    }
                    return None;
                }
            }
        }
    }
}

impl Drop for XlsxRows {
    fn drop(&mut self) {
        // Closing the channel makes the reading thread stop at its next send.
        self.rx = None;
        self.buf = Vec::new().into_iter();
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_by_column_kind() {
        assert_eq!(
            number_text(120102000000000000.0, None, Some(FieldKind::Identifier)),
            "1.20102E+17"
        );
        assert_eq!(
            number_text(330100400015575.0, None, Some(FieldKind::Identifier)),
            "330100400015575"
        );
        assert_eq!(number_text(12.0, None, None), "12");
        assert_eq!(number_text(12.5, None, None), "12.5");
        assert_eq!(
            number_text(45356.0, None, Some(FieldKind::Date)),
            "2024-03-05"
        );
        assert_eq!(
            number_text(45356.5, None, Some(FieldKind::Date)),
            "2024-03-05 12:00:00"
        );
        assert_eq!(
            number_text(20240305.0, None, Some(FieldKind::Date)),
            "20240305"
        );
        assert_eq!(number_text(1.0, None, Some(FieldKind::Date)), "1900-01-01");
        assert_eq!(number_text(61.0, None, Some(FieldKind::Date)), "1900-03-01");
        assert_eq!(number_text(60.0, None, Some(FieldKind::Date)), "60");
        assert_eq!(
            number_text(
                120102199001011234_i64 as f64,
                Some(120102199001011234),
                Some(FieldKind::Identifier)
            ),
            "120102199001011234"
        );
    }
}
