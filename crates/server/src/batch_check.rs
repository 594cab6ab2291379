//! Batch credit checks (批量查询): a CSV or XLSX of identifiers in, a CSV or XLSX of results out, one
//! row per input row, streamed. Shared by `POST /api/v1/checks/batch` and `creditloop check --batch`.
//!
//! Each row is answered from one index snapshot (so the whole batch reports one data version), gets
//! its own receipt id and is stored, in groups, through the check log; the output is complete only
//! when every row is durable. A row that cannot be read is answered with its error, never dropped.

use std::collections::BTreeMap;
use std::io::Write;

use chrono::{NaiveDate, Utc};
use creditloop_domain::catalogue::{CompiledCatalogue, Scenario};
use creditloop_index::{CheckAnswer, CheckIndex};
use creditloop_ingest::{RawRowResult, ReadError};
use creditloop_store::StoredCheck;
use serde::Serialize;
use serde_json::json;

use crate::checks::{self, CheckRequest};
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

/// One result row as written.
struct ResultRow {
    row: u64,
    query: String,
    name: String,
    decision: String,
    decision_zh: String,
    measures: String,
    triggering: usize,
    receipt: String,
    note: String,
}

impl ResultRow {
    fn cells(&self) -> [String; 9] {
        [
            self.row.to_string(),
            mask::mask_query(&self.query),
            self.name.clone(),
            self.decision.clone(),
            self.decision_zh.clone(),
            self.measures.clone(),
            self.triggering.to_string(),
            self.receipt.clone(),
            self.note.clone(),
        ]
    }
}

/// Where result rows go: a CSV writer or an XLSX workbook.
pub trait ResultSink {
    fn write_row(&mut self, cells: &[String]) -> std::io::Result<()>;
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
    fn write_row(&mut self, cells: &[String]) -> std::io::Result<()> {
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
    fn write_row(&mut self, cells: &[String]) -> std::io::Result<()> {
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
                    .write_string(self.row, c as u16, v.as_str())
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
    let mut summary = BatchSummary {
        batch_id: req.batch_id.clone(),
        data_version: index.version(),
        ..BatchSummary::default()
    };
    let mut pending: Vec<StoredCheck> = Vec::with_capacity(STORE_GROUP);
    let mut columns: Option<(usize, Option<usize>)> = None;
    for item in rows {
        summary.rows += 1;
        let raw = match item {
            Ok(raw) => raw,
            Err(ReadError::Fatal(e)) => return Err(BatchError::Read(e.to_string())),
            Err(ReadError::Row(e)) => {
                let r = ResultRow {
                    row: e.row,
                    query: e.value.clone(),
                    name: String::new(),
                    decision: "error".into(),
                    decision_zh: "无法读取".into(),
                    measures: String::new(),
                    triggering: 0,
                    receipt: String::new(),
                    note: format!("{} / {}", e.reason_zh, e.reason_en),
                };
                *summary.by_decision.entry("error".into()).or_default() += 1;
                sink.write_row(&r.cells())?;
                continue;
            }
        };
        let (subject_col, case_col) = *columns.get_or_insert_with(|| {
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
        let check_req = CheckRequest {
            subject: query.clone(),
            scenario: req.scenario.as_str().to_string(),
            agency: req.agency.clone(),
            case_ref: case_col
                .and_then(|c| raw.fields.get(c))
                .map(|(_, v)| v.trim().to_string())
                .filter(|v| !v.is_empty()),
        };
        let result = if query.is_empty() {
            ResultRow {
                row: raw.row,
                query,
                name: String::new(),
                decision: "error".into(),
                decision_zh: "缺少查询主体".into(),
                measures: String::new(),
                triggering: 0,
                receipt: String::new(),
                note: "该行没有主体代码或名称 / the row names no subject".into(),
            }
        } else {
            let lookup = crate::identity::index_query(index, req.pii, &query);
            match index.check(req.catalogue, req.scenario, &lookup, req.on).0 {
                CheckAnswer::Ambiguous { count } => ResultRow {
                    row: raw.row,
                    query,
                    name: String::new(),
                    decision: "ambiguous".into(),
                    decision_zh: "名称不唯一".into(),
                    measures: String::new(),
                    triggering: 0,
                    receipt: String::new(),
                    note: format!(
                        "名称对应 {count} 个主体，请以代码查询 / the name matches {count} subjects; check by code"
                    ),
                },
                CheckAnswer::Outcome(outcome) => {
                    let at = Utc::now();
                    let receipt = creditloop_store::new_check_id(at);
                    let measures: Vec<&str> =
                        outcome.measures.iter().map(|m| m.code.as_str()).collect();
                    let triggering: usize =
                        outcome.measures.iter().map(|m| m.triggering.len()).sum();
                    let name = outcome
                        .subject
                        .as_ref()
                        .and_then(|k| index.name(k))
                        .unwrap_or("")
                        .to_string();
                    // Batch rows keep a compact answer: the decision and its measures.
                    let answer = json!({
                        "decision": outcome.decision.code(),
                        "measures": measures,
                        "summary_zh": outcome.summary_zh(),
                        "receipt": receipt,
                    })
                    .to_string();
                    let row = ResultRow {
                        row: raw.row,
                        query,
                        name,
                        decision: if outcome.subject_known {
                            outcome.decision.code().to_string()
                        } else {
                            "unknown_subject".into()
                        },
                        decision_zh: outcome.decision.zh().to_string(),
                        measures: measures.join(";"),
                        triggering,
                        receipt: receipt.clone(),
                        note: outcome.summary_zh(),
                    };
                    pending.push(checks::stored(
                        &outcome,
                        &check_req,
                        receipt,
                        at,
                        index.version(),
                        answer,
                        Some(req.batch_id.clone()),
                    ));
                    if pending.len() >= STORE_GROUP {
                        store(std::mem::take(&mut pending)).map_err(BatchError::Store)?;
                    }
                    row
                }
            }
        };
        *summary
            .by_decision
            .entry(result.decision.clone())
            .or_default() += 1;
        sink.write_row(&result.cells())?;
    }
    if !pending.is_empty() {
        store(pending).map_err(BatchError::Store)?;
    }
    Ok(summary)
}
