//! Batch credit checks (批量查询): a CSV or XLSX of identifiers in, a CSV or XLSX of results out, one
//! row per input row, streamed. Shared by `POST /api/v1/checks/batch` and `creditloop check --batch`.
//!
//! Each row is answered from one index snapshot (so the whole batch reports one data version), gets
//! its own receipt id and is stored, in groups, through the check log; the output is complete only
//! when every row is durable. A row that cannot be read is answered with its error, never dropped.

use std::collections::BTreeMap;
use std::io::Write;

use chrono::{NaiveDate, Utc};
use creditloop_domain::catalogue::{CatalogueVersion, CheckOutcome};
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

fn pick(fields: &[(String, String)], names: &[&str]) -> Option<usize> {
    names.iter().find_map(|n| {
        fields
            .iter()
            .position(|(h, _)| h.trim().eq_ignore_ascii_case(n))
    })
}

/// Runs a batch: every input row answered and written to `sink`, every answer handed to `store` in
/// groups. `store` may return before the group is durable (see [`crate::readpath::CheckLog::submit`]);
/// the caller then waits for every group before it reports the batch as done.
pub fn run(
    index: &CheckIndex,
    req: &BatchRequest<'_>,
    rows: impl Iterator<Item = RawRowResult>,
    sink: &mut dyn ResultSink,
    store: &mut dyn FnMut(Vec<StoredCheck>) -> Result<(), String>,
) -> Result<BatchSummary, BatchError> {
    let mut checker = Checker {
        index,
        req,
        columns: None,
    };
    let mut out = Output::new(index, req);
    for item in rows {
        let checked = checker.check(item)?;
        out.write(checked, sink, store)?;
    }
    out.finish(store)
}

/// One input row, checked: what the output stage needs to write and store it.
enum Checked {
    /// The reader could not read the row.
    Unreadable {
        row: u64,
        value: String,
        note: String,
    },
    /// The row names no subject.
    NoSubject { row: u64 },
    Ambiguous {
        row: u64,
        query: String,
        count: usize,
    },
    Answered {
        row: u64,
        query: String,
        case_ref: Option<String>,
        outcome: Box<CheckOutcome>,
    },
}

/// The first stage: finds each row's subject and checks it against the index snapshot.
struct Checker<'a, 'r> {
    index: &'a CheckIndex,
    req: &'a BatchRequest<'r>,
    /// (subject column, case column), chosen from the first row read.
    columns: Option<(usize, Option<usize>)>,
}

impl Checker<'_, '_> {
    fn check(&mut self, item: RawRowResult) -> Result<Checked, BatchError> {
        let raw = match item {
            Ok(raw) => raw,
            Err(ReadError::Fatal(e)) => return Err(BatchError::Read(e.to_string())),
            Err(ReadError::Row(e)) => {
                return Ok(Checked::Unreadable {
                    row: e.row,
                    note: format!("{} / {}", e.reason_zh, e.reason_en),
                    value: e.value,
                });
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
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default();
        if query.is_empty() {
            return Ok(Checked::NoSubject { row: raw.row });
        }
        let case_ref = case_col
            .and_then(|c| raw.fields.get(c))
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
            .map(str::to_string);
        let answer = {
            let lookup = crate::identity::index_query(self.index, self.req.pii, &query);
            let r = self.req;
            self.index.check(r.catalogue, r.scenario, &lookup, r.on).0
        };
        Ok(match answer {
            CheckAnswer::Ambiguous { count } => Checked::Ambiguous {
                row: raw.row,
                query,
                count,
            },
            CheckAnswer::Outcome(outcome) => Checked::Answered {
                row: raw.row,
                query,
                case_ref,
                outcome,
            },
        })
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

/// Buffers for the numeric cells, reused from row to row.
#[derive(Default)]
struct Numbers {
    row: String,
    triggering: String,
}

/// Writes one result row; `text` is every column but the two numbers, in [`RESULT_COLUMNS`] order.
fn write_result(
    sink: &mut dyn ResultSink,
    nums: &mut Numbers,
    row: u64,
    triggering: usize,
    [query, name, decision, decision_zh, measures, receipt, note]: [&str; 7],
) -> std::io::Result<()> {
    use std::fmt::Write as _;
    nums.row.clear();
    let _ = write!(nums.row, "{row}");
    nums.triggering.clear();
    let _ = write!(nums.triggering, "{triggering}");
    sink.write_row(&[
        &nums.row,
        query,
        name,
        decision,
        decision_zh,
        measures,
        &nums.triggering,
        receipt,
        note,
    ])
}

/// The second stage: gives each answered row its receipt, writes every row and hands the stored
/// checks to `store` in groups.
struct Output<'a, 'r> {
    index: &'a CheckIndex,
    req: &'a BatchRequest<'r>,
    summary: BatchSummary,
    pending: Vec<StoredCheck>,
    /// The acting agency as stored, normalised once for the batch.
    agency: Option<String>,
    /// The last catalogue version seen (number, digest) and its stored text: one snapshot answers
    /// with one catalogue, so the text is formatted once.
    catalogue_version: Option<(u32, String, String)>,
    nums: Numbers,
    measures: String,
}

impl<'a, 'r> Output<'a, 'r> {
    fn new(index: &'a CheckIndex, req: &'a BatchRequest<'r>) -> Self {
        Output {
            index,
            req,
            summary: BatchSummary {
                batch_id: req.batch_id.clone(),
                data_version: index.version(),
                ..BatchSummary::default()
            },
            pending: Vec::with_capacity(STORE_GROUP),
            agency: req.agency.as_deref().map(creditloop_domain::ids::normalize),
            catalogue_version: None,
            nums: Numbers::default(),
            measures: String::new(),
        }
    }

    fn count(&mut self, decision: &str) {
        // Looked up by `&str`: a new key is allocated once, not once per row.
        match self.summary.by_decision.get_mut(decision) {
            Some(n) => *n += 1,
            None => {
                self.summary.by_decision.insert(decision.to_string(), 1);
            }
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

    fn write(
        &mut self,
        checked: Checked,
        sink: &mut dyn ResultSink,
        store: &mut dyn FnMut(Vec<StoredCheck>) -> Result<(), String>,
    ) -> Result<(), BatchError> {
        self.summary.rows += 1;
        let nums = &mut self.nums;
        match checked {
            Checked::Unreadable { row, value, note } => {
                let query = mask::mask_query(&value);
                write_result(
                    sink,
                    nums,
                    row,
                    0,
                    [&query, "", "error", "无法读取", "", "", &note],
                )?;
                self.count("error");
            }
            Checked::NoSubject { row } => {
                write_result(
                    sink,
                    nums,
                    row,
                    0,
                    [
                        "",
                        "",
                        "error",
                        "缺少查询主体",
                        "",
                        "",
                        "该行没有主体代码或名称 / the row names no subject",
                    ],
                )?;
                self.count("error");
            }
            Checked::Ambiguous { row, query, count } => {
                let query = mask::mask_query(&query);
                let note = format!(
                    "名称对应 {count} 个主体，请以代码查询 / the name matches {count} subjects; check by code"
                );
                write_result(
                    sink,
                    nums,
                    row,
                    0,
                    [&query, "", "ambiguous", "名称不唯一", "", "", &note],
                )?;
                self.count("ambiguous");
            }
            Checked::Answered {
                row,
                query,
                case_ref,
                mut outcome,
            } => {
                let at = Utc::now();
                let receipt = creditloop_store::new_check_id(at);
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
                .map_err(std::io::Error::other)?;
                // What the caller typed is kept for the receipt, a resident number masked.
                let query = mask::mask_query(&query);
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
                write_result(
                    sink,
                    nums,
                    row,
                    triggering,
                    [
                        &query,
                        name,
                        shown,
                        outcome.decision.zh(),
                        &self.measures,
                        &receipt,
                        &summary_zh,
                    ],
                )?;
                self.count(shown);
                let parts = crate::checks::CheckParts {
                    agency: self.agency.clone(),
                    case_ref,
                    subject_query: query,
                    measures: codes,
                    catalogue_version: self.catalogue_text(&outcome.catalogue_version),
                };
                let check = crate::checks::stored_from(
                    &outcome,
                    parts,
                    receipt,
                    at,
                    self.index.version(),
                    answer,
                    Some(self.req.batch_id.clone()),
                );
                self.pending.push(check);
                if self.pending.len() >= STORE_GROUP {
                    let group =
                        std::mem::replace(&mut self.pending, Vec::with_capacity(STORE_GROUP));
                    store(group).map_err(BatchError::Store)?;
                }
            }
        }
        Ok(())
    }

    fn finish(
        mut self,
        store: &mut dyn FnMut(Vec<StoredCheck>) -> Result<(), String>,
    ) -> Result<BatchSummary, BatchError> {
        if !self.pending.is_empty() {
            store(std::mem::take(&mut self.pending)).map_err(BatchError::Store)?;
        }
        Ok(self.summary)
    }
}
