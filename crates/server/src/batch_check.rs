//! Batch credit checks (批量查询): a CSV or XLSX of identifiers in, a CSV or XLSX of results out, one
//! row per input row, streamed. Shared by `POST /api/v1/checks/batch` and `creditloop check --batch`.
//!
//! Each row is answered from one index snapshot (so the whole batch reports one data version), gets
//! its own receipt id and is stored, in groups, through the check log; the output is complete only
//! when every row is durable. A row that cannot be read is answered with its error, never dropped.

use std::collections::BTreeMap;
use std::io::Write;
use std::ops::Range;

use chrono::{NaiveDate, Utc};
use creditloop_domain::catalogue::CatalogueVersion;
use creditloop_domain::catalogue::{CompiledCatalogue, Scenario};
use creditloop_index::{CheckAnswer, CheckIndex};
use creditloop_ingest::{RawRowResult, ReadError};
use creditloop_store::StoredCheck;
use serde::Serialize;

use crate::mask;

/// Columns of the result file, in order.
pub const RESULT_COLUMNS: [&str; 9] = [
    "行号",
    "查询主体",
    "主体名称",
    "结论代码",
    "结论",
    "适用措施",
    "触发记录数",
    "回执编号",
    "说明",
];

/// Headers that name the subject column, in order of preference; else the first column.
const SUBJECT_HEADERS: [&str; 14] = [
    "统一社会信用代码",
    "主体代码",
    "证件号码",
    "身份证号码",
    "公民身份号码",
    "代码",
    "subject",
    "code",
    "identifier",
    "uscc",
    "主体名称",
    "名称",
    "name",
    "行政相对人名称",
];

const CASE_HEADERS: [&str; 3] = ["办件编号", "case_ref", "案件编号"];

/// Rows stored per group handed to the check log.
const STORE_GROUP: usize = 20_000;

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutFormat {
    Csv,
    Xlsx,
}

impl OutFormat {
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "csv" | "text/csv" => Some(OutFormat::Csv),
            "xlsx" | "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => {
                Some(OutFormat::Xlsx)
            }
            _ => None,
        }
    }
}

/// What a batch did, for the caller's summary and the log.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BatchSummary {
    pub batch_id: String,
    pub rows: u64,
    /// Rows by decision code (`prohibit`, …, `unknown_subject`, `ambiguous`, `error`).
    pub by_decision: BTreeMap<String, u64>,
    pub data_version: u64,
}

/// Where result rows go: a CSV writer or an XLSX workbook.
pub trait ResultSink {
    fn write_row(&mut self, cells: &[&str]) -> std::io::Result<()>;
    fn finish(self: Box<Self>) -> std::io::Result<()>;
}

/// CSV with a UTF-8 BOM, so that Excel opens the Chinese columns correctly.
pub struct CsvSink<W: Write> {
    w: csv::Writer<W>,
}

impl<W: Write> CsvSink<W> {
    pub fn new(mut inner: W) -> std::io::Result<Self> {
        inner.write_all("\u{feff}".as_bytes())?;
        let mut w = csv::Writer::from_writer(inner);
        w.write_record(RESULT_COLUMNS)?;
        Ok(CsvSink { w })
    }
}

impl<W: Write> ResultSink for CsvSink<W> {
    fn write_row(&mut self, cells: &[&str]) -> std::io::Result<()> {
        self.w.write_record(cells).map_err(std::io::Error::other)
    }
    fn finish(mut self: Box<Self>) -> std::io::Result<()> {
        self.w.flush()
    }
}

/// XLSX in constant memory; a new sheet every million rows (a sheet holds 1,048,576).
pub struct XlsxSink {
    book: rust_xlsxwriter::Workbook,
    path: std::path::PathBuf,
    sheet: usize,
    row: u32,
}

const XLSX_ROWS_PER_SHEET: u32 = 1_000_000;

fn xlsx_err(e: rust_xlsxwriter::XlsxError) -> std::io::Error {
    std::io::Error::other(format!("XLSX: {e}"))
}

impl XlsxSink {
    pub fn create(path: &std::path::Path) -> std::io::Result<Self> {
        let mut s = XlsxSink {
            book: rust_xlsxwriter::Workbook::new(),
            path: path.to_path_buf(),
            sheet: 0,
            row: 0,
        };
        s.new_sheet()?;
        Ok(s)
    }

    fn new_sheet(&mut self) -> std::io::Result<()> {
        let n = self.book.worksheets().len();
        let sheet = self.book.add_worksheet_with_constant_memory();
        sheet
            .set_name(format!("查询结果{}", n + 1))
            .map_err(xlsx_err)?;
        for (c, h) in RESULT_COLUMNS.iter().enumerate() {
            sheet.write_string(0, c as u16, *h).map_err(xlsx_err)?;
        }
        self.sheet = n;
        self.row = 1;
        Ok(())
    }
}

impl ResultSink for XlsxSink {
    fn write_row(&mut self, cells: &[&str]) -> std::io::Result<()> {
        if self.row > XLSX_ROWS_PER_SHEET {
            self.new_sheet()?;
        }
        let sheet = self
            .book
            .worksheet_from_index(self.sheet)
            .map_err(xlsx_err)?;
        for (c, v) in cells.iter().enumerate() {
            if !v.is_empty() {
                sheet
                    .write_string(self.row, c as u16, *v)
                    .map_err(xlsx_err)?;
            }
        }
        self.row += 1;
        Ok(())
    }
    fn finish(mut self: Box<Self>) -> std::io::Result<()> {
        self.book.save(&self.path).map_err(xlsx_err)
    }
}

/// Errors that end a batch (a row's own problems do not).
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error("writing the results: {0}")]
    Io(#[from] std::io::Error),
    #[error("storing the checks: {0}")]
    Store(String),
    #[error("the file cannot be read further: {0}")]
    Read(String),
}

impl BatchError {
    pub fn zh(&self) -> String {
        match self {
            BatchError::Io(e) => format!("写出查询结果失败：{e}"),
            BatchError::Store(e) => format!("保存查询记录失败：{e}"),
            BatchError::Read(e) => format!("文件无法继续读取：{e}"),
        }
    }
}

/// The settings of one batch.
pub struct BatchRequest<'a> {
    pub catalogue: &'a CompiledCatalogue,
    /// Resident numbers in the subject column are looked up by their pseudonym.
    pub pii: &'a creditloop_pii::PiiKey,
    pub scenario: &'a Scenario,
    pub on: NaiveDate,
    pub agency: Option<String>,
    pub batch_id: String,
}

fn pick(fields: &[(std::sync::Arc<str>, String)], names: &[&str]) -> Option<usize> {
    names.iter().find_map(|n| {
        fields
            .iter()
            .position(|(h, _)| h.trim().eq_ignore_ascii_case(n))
    })
}

/// Runs a batch: every input row answered and written to `sink`, every answer handed to `store` in
/// groups. `store` may return before the group is durable (see [`crate::readpath::CheckLog::submit`]);
/// the caller then waits for every group before it reports the batch as done.
///
/// The calling thread reads the rows and writes the results; worker threads answer them,
/// [`CHECK_CHUNK`] rows at a time, and the chunks are written back in input order. A chunk crosses
/// threads as a few buffers, not as a row's many strings: memory freed on another thread than the
/// one that allocated it cost more than the work itself when whole answers crossed.
pub fn run(
    index: &CheckIndex,
    req: &BatchRequest<'_>,
    rows: impl Iterator<Item = RawRowResult>,
    sink: &mut dyn ResultSink,
    store: &mut dyn FnMut(Vec<StoredCheck>) -> Result<(), String>,
) -> Result<BatchSummary, BatchError> {
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, MAX_WORKERS);
    run_with(index, req, rows, sink, store, workers)
}

/// [`run`] with `workers` answering threads.
pub fn run_with(
    index: &CheckIndex,
    req: &BatchRequest<'_>,
    mut rows: impl Iterator<Item = RawRowResult>,
    sink: &mut dyn ResultSink,
    store: &mut dyn FnMut(Vec<StoredCheck>) -> Result<(), String>,
    workers: usize,
) -> Result<BatchSummary, BatchError> {
    let workers = workers.max(1);
    let mut summary = BatchSummary {
        batch_id: req.batch_id.clone(),
        data_version: index.version(),
        ..BatchSummary::default()
    };
    let mut pending: Vec<StoredCheck> = Vec::with_capacity(STORE_GROUP);
    std::thread::scope(|scope| {
        let mut to_workers = Vec::with_capacity(workers);
        let mut from_workers = Vec::with_capacity(workers);
        for w in 0..workers {
            let (tx, rx) = std::sync::mpsc::channel::<InChunk>();
            let (back, answers) = std::sync::mpsc::channel::<OutChunk>();
            std::thread::Builder::new()
                .name(format!("batch-check-{w}"))
                .spawn_scoped(scope, move || {
                    let mut answerer = Answerer::new(index, req);
                    for chunk in rx {
                        if back.send(answerer.answer(chunk)).is_err() {
                            break;
                        }
                    }
                })?;
            to_workers.push(tx);
            from_workers.push(answers);
        }
        let mut reader = ChunkReader {
            columns: None,
            ended: None,
        };
        // Chunk k goes to worker k mod n, so reading the workers in turn gives the input order.
        // At most IN_FLIGHT chunks a worker between reading and writing: memory stays small
        // whatever the batch's size.
        let (mut sent, mut written) = (0usize, 0usize);
        let result = (|| {
            loop {
                while reader.ended.is_none() && sent - written < IN_FLIGHT * workers {
                    let chunk = reader.read(&mut rows);
                    if chunk.rows.is_empty() {
                        break;
                    }
                    to_workers[sent % workers]
                        .send(chunk)
                        .map_err(|_| BatchError::Read("a checking thread stopped".into()))?;
                    sent += 1;
                }
                if sent == written {
                    return match reader.ended.take().flatten() {
                        Some(e) => Err(e),
                        None => Ok(()),
                    };
                }
                let out = from_workers[written % workers]
                    .recv()
                    .map_err(|_| BatchError::Read("a checking thread stopped".into()))?;
                written += 1;
                let failed = out.write(sink, &mut summary);
                pending.extend(out.stored);
                while pending.len() >= STORE_GROUP {
                    let rest = pending.split_off(STORE_GROUP);
                    let group = std::mem::replace(&mut pending, rest);
                    store(group).map_err(BatchError::Store)?;
                }
                failed?;
            }
        })();
        drop(to_workers);
        // A batch that breaks off still stores every row it gave a receipt.
        let stored = if pending.is_empty() {
            Ok(())
        } else {
            store(std::mem::take(&mut pending)).map_err(BatchError::Store)
        };
        result.and(stored).map(|()| summary)
    })
}

/// Rows answered at a time by a worker.
const CHECK_CHUNK: usize = 1024;
/// Chunks per worker between reading and writing at most.
const IN_FLIGHT: usize = 4;
/// Most answering threads.
const MAX_WORKERS: usize = 4;

/// What a worker needs of a chunk's rows: their cells, in one buffer.
struct InChunk {
    text: String,
    rows: Vec<InRow>,
}

/// A row of an [`InChunk`]; the ranges index its text.
enum InRow {
    Cells {
        row: u64,
        query: Range<usize>,
        case_ref: Option<Range<usize>>,
    },
    Unreadable {
        row: u64,
        value: Range<usize>,
        note: Range<usize>,
    },
}

fn push_cell(text: &mut String, s: &str) -> Range<usize> {
    let start = text.len();
    text.push_str(s);
    start..text.len()
}

/// Reads the input a chunk at a time, on the calling thread.
struct ChunkReader {
    /// (subject column, case column), chosen from the first row read.
    columns: Option<(usize, Option<usize>)>,
    /// Set when the input ended: `Some(None)` at its end, `Some(Some(e))` when it broke off.
    ended: Option<Option<BatchError>>,
}

impl ChunkReader {
    fn read(&mut self, rows: &mut impl Iterator<Item = RawRowResult>) -> InChunk {
        let mut chunk = InChunk {
            text: String::new(),
            rows: Vec::with_capacity(CHECK_CHUNK),
        };
        while chunk.rows.len() < CHECK_CHUNK {
            let raw = match rows.next() {
                None => {
                    self.ended = Some(None);
                    break;
                }
                Some(Ok(raw)) => raw,
                Some(Err(ReadError::Fatal(e))) => {
                    self.ended = Some(Some(BatchError::Read(e.to_string())));
                    break;
                }
                Some(Err(ReadError::Row(e))) => {
                    let value = push_cell(&mut chunk.text, &e.value);
                    let note = format!("{} / {}", e.reason_zh, e.reason_en);
                    let note = push_cell(&mut chunk.text, &note);
                    chunk.rows.push(InRow::Unreadable {
                        row: e.row,
                        value,
                        note,
                    });
                    continue;
                }
            };
            let (subject_col, case_col) = *self.columns.get_or_insert_with(|| {
                (
                    pick(&raw.fields, &SUBJECT_HEADERS).unwrap_or(0),
                    pick(&raw.fields, &CASE_HEADERS),
                )
            });
            let query = raw
                .fields
                .get(subject_col)
                .map(|(_, v)| v.trim())
                .unwrap_or_default();
            let query = push_cell(&mut chunk.text, query);
            let case_ref = case_col
                .and_then(|c| raw.fields.get(c))
                .map(|(_, v)| v.trim())
                .filter(|v| !v.is_empty())
                .map(|v| push_cell(&mut chunk.text, v));
            chunk.rows.push(InRow::Cells {
                row: raw.row,
                query,
                case_ref,
            });
        }
        chunk
    }
}

/// A chunk's results: the cells of every result row in one buffer (each row
/// [`RESULT_COLUMNS`] long), the rows to store, and the decisions counted.
struct OutChunk {
    text: String,
    /// End of each cell in `text`.
    ends: Vec<usize>,
    stored: Vec<StoredCheck>,
    by_decision: BTreeMap<&'static str, u64>,
    /// A row whose answer could not be serialised ends the batch after the rows before it.
    failed: Option<String>,
}

impl OutChunk {
    /// Writes the rows to `sink` and counts them; the chunk's own failure, if any, after them.
    fn write(
        &self,
        sink: &mut dyn ResultSink,
        summary: &mut BatchSummary,
    ) -> Result<(), BatchError> {
        let mut start = 0;
        let mut cells = [""; RESULT_COLUMNS.len()];
        for row in self.ends.chunks_exact(RESULT_COLUMNS.len()) {
            for (cell, end) in cells.iter_mut().zip(row) {
                *cell = self.text.get(start..*end).unwrap_or_default();
                start = *end;
            }
            sink.write_row(&cells)?;
            summary.rows += 1;
        }
        for (decision, n) in &self.by_decision {
            // Looked up by `&str`: a new key is allocated once, not once per chunk.
            match summary.by_decision.get_mut(*decision) {
                Some(k) => *k += n,
                None => {
                    summary.by_decision.insert(decision.to_string(), *n);
                }
            }
        }
        match &self.failed {
            Some(e) => Err(BatchError::Io(std::io::Error::other(e.clone()))),
            None => Ok(()),
        }
    }

    /// Appends one result row, counted under `decision`; `text` is every column but the two
    /// numbers, in [`RESULT_COLUMNS`] order.
    fn row(
        &mut self,
        row: u64,
        triggering: usize,
        [query, name, shown, decision_zh, measures, receipt, note]: [&str; 7],
        decision: &'static str,
    ) {
        use std::fmt::Write as _;
        let _ = write!(self.text, "{row}");
        self.ends.push(self.text.len());
        for cell in [query, name, shown, decision_zh, measures] {
            self.text.push_str(cell);
            self.ends.push(self.text.len());
        }
        let _ = write!(self.text, "{triggering}");
        self.ends.push(self.text.len());
        for cell in [receipt, note] {
            self.text.push_str(cell);
            self.ends.push(self.text.len());
        }
        *self.by_decision.entry(decision).or_default() += 1;
    }
}

/// The compact answer stored for a batch row: the decision and its measures. Fields in the order
/// `json!` wrote them (sorted), so the stored text, and the audit digest over it, stay as they were.
#[derive(Serialize)]
struct CompactAnswer<'a> {
    decision: &'a str,
    measures: &'a [String],
    receipt: &'a str,
    summary_zh: &'a str,
}

/// Answers chunks on a worker thread: finds each row's subject, checks it against the index
/// snapshot, gives it its receipt and renders its result row.
struct Answerer<'a, 'r> {
    index: &'a CheckIndex,
    req: &'a BatchRequest<'r>,
    /// The acting agency as stored, normalised once for the batch.
    agency: Option<String>,
    /// The last catalogue version seen (number, digest) and its stored text: one snapshot answers
    /// with one catalogue, so the text is formatted once.
    catalogue_version: Option<(u32, String, String)>,
    measures: String,
}

impl<'a, 'r> Answerer<'a, 'r> {
    fn new(index: &'a CheckIndex, req: &'a BatchRequest<'r>) -> Self {
        Answerer {
            index,
            req,
            agency: req.agency.as_deref().map(creditloop_domain::ids::normalize),
            catalogue_version: None,
            measures: String::new(),
        }
    }

    fn catalogue_text(&mut self, v: &CatalogueVersion) -> String {
        match &self.catalogue_version {
            Some((n, digest, text)) if *n == v.number && *digest == v.digest => text.clone(),
            _ => {
                let text = format!("v{}:{}", v.number, v.digest);
                self.catalogue_version = Some((v.number, v.digest.clone(), text.clone()));
                text
            }
        }
    }

    fn answer(&mut self, chunk: InChunk) -> OutChunk {
        let mut out = OutChunk {
            text: String::with_capacity(chunk.rows.len() * 160),
            ends: Vec::with_capacity(chunk.rows.len() * RESULT_COLUMNS.len()),
            stored: Vec::with_capacity(chunk.rows.len()),
            by_decision: BTreeMap::new(),
            failed: None,
        };
        for row in &chunk.rows {
            if let Err(e) = self.answer_row(&chunk.text, row, &mut out) {
                out.failed = Some(e);
                break;
            }
        }
        out
    }

    fn answer_row(&mut self, text: &str, row: &InRow, out: &mut OutChunk) -> Result<(), String> {
        let cell = |r: &Range<usize>| text.get(r.clone()).unwrap_or_default();
        let (row, query, case_ref) = match row {
            InRow::Unreadable { row, value, note } => {
                let query = mask::mask_query(cell(value));
                let cells = [&query, "", "error", "无法读取", "", "", cell(note)];
                out.row(*row, 0, cells, "error");
                return Ok(());
            }
            InRow::Cells { row, query, .. } if query.is_empty() => {
                let note = "该行没有主体代码或名称 / the row names no subject";
                let cells = ["", "", "error", "缺少查询主体", "", "", note];
                out.row(*row, 0, cells, "error");
                return Ok(());
            }
            InRow::Cells {
                row,
                query,
                case_ref,
            } => (*row, cell(query), case_ref.as_ref().map(cell)),
        };
        let answer = {
            let lookup = crate::identity::index_query(self.index, self.req.pii, query);
            let r = self.req;
            self.index.check(r.catalogue, r.scenario, &lookup, r.on).0
        };
        let mut outcome = match answer {
            CheckAnswer::Ambiguous { count } => {
                let query = mask::mask_query(query);
                let note = format!(
                    "名称对应 {count} 个主体，请以代码查询 / the name matches {count} subjects; check by code"
                );
                let cells = [&query, "", "ambiguous", "名称不唯一", "", "", &note];
                out.row(row, 0, cells, "ambiguous");
                return Ok(());
            }
            CheckAnswer::Outcome(outcome) => outcome,
        };
        let at = Utc::now();
        // The receipt names the batch and the row, so the store keeps the rows in chunks.
        let receipt = creditloop_store::batch_receipt(&self.req.batch_id, row);
        let decision = outcome.decision.code();
        let shown = if outcome.subject_known {
            decision
        } else {
            "unknown_subject"
        };
        let triggering: usize = outcome.measures.iter().map(|m| m.triggering.len()).sum();
        let summary_zh = outcome.summary_zh();
        // The measures are not needed past this point but for their codes: moved, not cloned.
        let codes: Vec<String> = std::mem::take(&mut outcome.measures)
            .into_iter()
            .map(|m| m.code)
            .collect();
        let answer = serde_json::to_string(&CompactAnswer {
            decision,
            measures: &codes,
            receipt: &receipt,
            summary_zh: &summary_zh,
        })
        .map_err(|e| e.to_string())?;
        // What the caller typed is kept for the receipt, a resident number masked.
        let query = mask::mask_query(query);
        self.measures.clear();
        for (i, c) in codes.iter().enumerate() {
            if i > 0 {
                self.measures.push(';');
            }
            self.measures.push_str(c);
        }
        let name = outcome
            .subject
            .as_ref()
            .and_then(|k| self.index.name(k))
            .unwrap_or("");
        let cells = [
            &query,
            name,
            shown,
            outcome.decision.zh(),
            &self.measures,
            &receipt,
            &summary_zh,
        ];
        out.row(row, triggering, cells, shown);
        let parts = crate::checks::CheckParts {
            agency: self.agency.clone(),
            case_ref: case_ref.map(str::to_string),
            subject_query: query,
            measures: codes,
            catalogue_version: self.catalogue_text(&outcome.catalogue_version),
        };
        out.stored.push(crate::checks::stored_from(
            &outcome,
            parts,
            receipt,
            at,
            self.index.version(),
            answer,
            Some(self.req.batch_id.clone()),
        ));
        Ok(())
    }
}
