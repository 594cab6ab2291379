//! The row form of a measure (CSV / XLSX / JSON): named string fields, validated one by one.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::measure::{Action, LegalBasis, Measure, MeasureKind};
use super::scenario::ScenarioRegistry;
use super::trigger::{Trigger, TriggerParseError};

/// One reason a catalogue row was refused: the row, the field as the source named it, the value and
/// the reason in Chinese and English.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogueRowError {
    /// 1-based data row (header excluded); for JSON, the position in `measures`.
    pub row: u64,
    pub field: String,
    pub value: String,
    pub reason_zh: String,
    pub reason_en: String,
}

impl CatalogueRowError {
    pub fn new(
        row: u64,
        field: &str,
        value: &str,
        reason_zh: impl Into<String>,
        reason_en: impl Into<String>,
    ) -> Self {
        CatalogueRowError {
            row,
            field: field.to_string(),
            value: value.to_string(),
            reason_zh: reason_zh.into(),
            reason_en: reason_en.into(),
        }
    }
}

impl std::fmt::Display for CatalogueRowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "第{}行 {}“{}”：{} / row {} {} '{}': {}",
            self.row,
            self.field,
            self.value,
            self.reason_zh,
            self.row,
            self.field,
            self.value,
            self.reason_en
        )
    }
}

/// The columns of the row form: (Chinese header, JSON / English key). Headers are accepted in
/// either form; export writes the Chinese ones in this order.
pub const COLUMNS: [(&str, &str); 14] = [
    ("措施编码", "code"),
    ("措施类型", "kind"),
    ("认定机关", "handling_agency"),
    ("实施措施事由", "reason"),
    ("实施部门", "implementing_agency"),
    ("措施内容", "content"),
    ("措施类别", "action"),
    ("适用场景", "scenarios"),
    ("证据要求", "evidence"),
    ("法律依据文件", "legal_basis.document"),
    ("法律依据条款", "legal_basis.article"),
    ("生效日期", "valid_from"),
    ("失效日期", "valid_to"),
    ("触发条件", "triggers"),
];

const CODE: usize = 0;
const KIND: usize = 1;
const HANDLING: usize = 2;
const REASON: usize = 3;
const IMPLEMENTING: usize = 4;
const CONTENT: usize = 5;
const ACTION: usize = 6;
const SCENARIOS: usize = 7;
const EVIDENCE: usize = 8;
const DOCUMENT: usize = 9;
const ARTICLE: usize = 10;
const VALID_FROM: usize = 11;
const VALID_TO: usize = 12;
const TRIGGERS: usize = 13;

/// Columns that are accepted and ignored (a running number or remarks).
const IGNORED: [&str; 4] = ["序号", "备注", "no", "remarks"];

/// Longest text accepted in a free-text field.
pub const MAX_TEXT_CHARS: usize = 2000;
/// Longest measure code.
pub const MAX_CODE_CHARS: usize = 40;

fn column_index(header: &str) -> Option<usize> {
    let h = header.trim().trim_start_matches('\u{feff}').trim();
    COLUMNS
        .iter()
        .position(|(zh, en)| *zh == h || *en == h || en.replace('.', "_") == h)
}

/// A catalogue row as read from CSV or XLSX: its row number and its (header, value) cells.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeasureRow {
    /// 1-based data row (header excluded).
    pub row: u64,
    pub fields: Vec<(String, String)>,
}

impl MeasureRow {
    /// Validates the row against the shipped scenario registry.
    pub fn parse(&self) -> Result<Measure, Vec<CatalogueRowError>> {
        Measure::from_fields(self.row, &self.fields)
    }

    /// Validates the row against `registry`.
    pub fn parse_with(
        &self,
        registry: &ScenarioRegistry,
    ) -> Result<Measure, Vec<CatalogueRowError>> {
        Measure::from_fields_with(self.row, &self.fields, registry)
    }
}

/// Parses a date as `YYYY-MM-DD`, `YYYY/MM/DD`, `YYYY.MM.DD`, `YYYYMMDD` or `YYYY年M月D日`.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    for f in ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日"] {
        if let Ok(d) = NaiveDate::parse_from_str(s, f) {
            return Some(d);
        }
    }
    None
}

fn valid_code(code: &str) -> bool {
    !code.is_empty()
        && code.chars().count() <= MAX_CODE_CHARS
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

struct Cells<'a> {
    row: u64,
    /// (header as given, value) per column
    cells: [Option<(&'a str, &'a str)>; 14],
    errors: Vec<CatalogueRowError>,
}

impl<'a> Cells<'a> {
    fn header(&self, col: usize) -> &'a str {
        self.cells[col].map(|(h, _)| h).unwrap_or(COLUMNS[col].0)
    }

    fn raw(&self, col: usize) -> &'a str {
        self.cells[col].map(|(_, v)| v.trim()).unwrap_or("")
    }

    fn error(&mut self, col: usize, value: &str, zh: impl Into<String>, en: impl Into<String>) {
        let field = self.header(col).to_string();
        self.errors
            .push(CatalogueRowError::new(self.row, &field, value, zh, en));
    }

    /// A required value, or `None` after recording the error.
    fn required(&mut self, col: usize) -> Option<&'a str> {
        let v = self.raw(col);
        if v.is_empty() {
            let (zh, en) = if self.cells[col].is_none() {
                ("缺少必填列", "the required column is missing")
            } else {
                ("必填项为空", "the required field is empty")
            };
            self.error(col, v, zh, en);
            return None;
        }
        Some(v)
    }

    /// A required free text of bounded length without control characters.
    fn text(&mut self, col: usize) -> String {
        let Some(v) = self.required(col) else {
            return String::new();
        };
        if v.chars().count() > MAX_TEXT_CHARS {
            self.error(
                col,
                v,
                format!("长度超过 {MAX_TEXT_CHARS} 个字符"),
                format!("longer than {MAX_TEXT_CHARS} characters"),
            );
        } else if v.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
            self.error(col, v, "含有控制字符", "contains control characters");
        }
        v.to_string()
    }
}

fn trigger_error(row: u64, field: &str, e: TriggerParseError) -> CatalogueRowError {
    CatalogueRowError::new(row, field, &e.text, e.reason_zh, e.reason_en)
}

/// A date that stands in for a missing one while the row's errors are collected.
const PLACEHOLDER_DATE: NaiveDate = NaiveDate::MIN;

impl Measure {
    /// Validates a row of (header, value) cells against the shipped scenario registry
    /// ([`ScenarioRegistry::builtin`]). See [`Measure::from_fields_with`].
    pub fn from_fields(
        row_no: u64,
        fields: &[(String, String)],
    ) -> Result<Measure, Vec<CatalogueRowError>> {
        Measure::from_fields_with(row_no, fields, ScenarioRegistry::builtin())
    }

    /// Validates a row of (header, value) cells. Headers are the Chinese column names of
    /// [`COLUMNS`] (措施编码, 措施类型, 认定机关, 实施措施事由, 实施部门, 措施内容, 措施类别, 适用场景,
    /// 证据要求, 法律依据文件, 法律依据条款, 生效日期, 失效日期, 触发条件) or their English keys.
    ///
    /// Every field is checked and every problem reported: unknown or repeated columns, missing
    /// required values, the code's form, 措施类型 (惩戒/激励), 措施类别 and whether it fits the type,
    /// each 适用场景 (codes or names separated by `;`) against the registry, dates and their order, and
    /// each 触发条件 (see [`super::trigger`] for the text form), naming unknown categories, roles and
    /// severities. Only 失效日期 may be empty.
    pub fn from_fields_with(
        row_no: u64,
        fields: &[(String, String)],
        registry: &ScenarioRegistry,
    ) -> Result<Measure, Vec<CatalogueRowError>> {
        let mut c = Cells {
            row: row_no,
            cells: [None; 14],
            errors: Vec::new(),
        };
        for (h, v) in fields {
            let header = h.trim();
            match column_index(header) {
                Some(i) if c.cells[i].is_some() => c.errors.push(CatalogueRowError::new(
                    row_no,
                    header,
                    v,
                    "列重复",
                    "the column appears twice",
                )),
                Some(i) => c.cells[i] = Some((header, v.as_str())),
                None if header.is_empty() && v.trim().is_empty() => {}
                None if IGNORED.contains(&header) => {}
                None => c.errors.push(CatalogueRowError::new(
                    row_no,
                    header,
                    v,
                    "未知列",
                    "unknown column",
                )),
            }
        }

        let code = c.required(CODE).unwrap_or("").to_string();
        if !code.is_empty() && !valid_code(&code) {
            c.error(
                CODE,
                &code,
                format!("措施编码只能由字母、数字和 - _ . 组成，且不超过 {MAX_CODE_CHARS} 个字符"),
                format!(
                    "a measure code is letters, digits and - _ . and at most {MAX_CODE_CHARS} characters"
                ),
            );
        }

        let kind = c.required(KIND).and_then(|v| {
            let k = MeasureKind::parse(v);
            if k.is_none() {
                c.error(
                    KIND,
                    v,
                    "措施类型应为“惩戒”或“激励”",
                    "the kind must be punishment (惩戒) or incentive (激励)",
                );
            }
            k
        });

        let handling_agency = c.text(HANDLING);
        let reason = c.text(REASON);
        let implementing_agency = c.text(IMPLEMENTING);
        let content = c.text(CONTENT);

        let action = c.required(ACTION).and_then(|v| {
            let a = Action::parse(v);
            match (a, kind) {
                (None, _) => {
                    let known: Vec<&str> = Action::ALL.iter().map(|a| a.zh()).collect();
                    c.error(
                        ACTION,
                        v,
                        format!("未知措施类别（可用：{}）", known.join("、")),
                        "unknown action (prohibit, restrict, strict_review, key_supervision, priority, green_channel, simplified_procedure, other)",
                    );
                }
                (Some(a), Some(k)) if !a.fits(k) => c.error(
                    ACTION,
                    v,
                    format!("{}措施不能采用“{}”类别", k.zh(), a.zh()),
                    format!("a {} measure cannot have the action {}", k.code(), a.code()),
                ),
                _ => {}
            }
            a
        });

        let mut scenarios = Vec::new();
        if let Some(v) = c.required(SCENARIOS) {
            let mut unknown = false;
            for part in v.split([';', '；', ',', '，', '、', '\n']) {
                let part = part.trim();
                if part.is_empty() {
                    continue;
                }
                match registry.scenario(part) {
                    Some(s) => {
                        if !scenarios.contains(&s) {
                            scenarios.push(s);
                        }
                    }
                    None => {
                        unknown = true;
                        c.error(
                            SCENARIOS,
                            part,
                            format!("未知适用场景“{part}”"),
                            format!("unknown scenario '{part}'"),
                        );
                    }
                }
            }
            if scenarios.is_empty() && !unknown {
                c.error(SCENARIOS, v, "未写适用场景", "no scenario named");
            }
        }

        let evidence = c.text(EVIDENCE);
        let document = c.text(DOCUMENT);
        let article = c.text(ARTICLE);

        let valid_from = c.required(VALID_FROM).and_then(|v| {
            let d = parse_date(v);
            if d.is_none() {
                c.error(
                    VALID_FROM,
                    v,
                    "日期格式应为 YYYY-MM-DD",
                    "the date must be YYYY-MM-DD",
                );
            }
            d
        });
        let to_raw = c.raw(VALID_TO);
        let valid_to = if to_raw.is_empty() {
            None
        } else {
            match parse_date(to_raw) {
                Some(d) => {
                    if valid_from.is_some_and(|f| d < f) {
                        c.error(
                            VALID_TO,
                            to_raw,
                            "失效日期早于生效日期",
                            "the end date is before the start date",
                        );
                    }
                    Some(d)
                }
                None => {
                    c.error(
                        VALID_TO,
                        to_raw,
                        "日期格式应为 YYYY-MM-DD",
                        "the date must be YYYY-MM-DD",
                    );
                    None
                }
            }
        };

        let mut triggers = Vec::new();
        if let Some(v) = c.required(TRIGGERS) {
            let field = c.header(TRIGGERS).to_string();
            match Trigger::parse_list(v) {
                Ok(t) => triggers = t,
                Err(es) => {
                    for e in es {
                        c.errors.push(trigger_error(row_no, &field, e));
                    }
                }
            }
            if kind == Some(MeasureKind::Punishment) {
                for t in &triggers {
                    if matches!(t, Trigger::NoNegativeWithin { .. }) {
                        c.error(
                            TRIGGERS,
                            &t.to_string(),
                            "“无失信记录”条件只能用于激励措施",
                            "an absence trigger is for incentive measures only",
                        );
                    }
                }
            }
        }

        if !c.errors.is_empty() {
            return Err(c.errors);
        }
        match (kind, action) {
            (Some(kind), Some(action)) => Ok(Measure {
                code,
                kind,
                handling_agency,
                reason,
                implementing_agency,
                content,
                action,
                scenarios,
                evidence,
                legal_basis: LegalBasis { document, article },
                valid_from: valid_from.unwrap_or(PLACEHOLDER_DATE),
                valid_to,
                triggers,
            }),
            // Unreachable in practice: a missing kind or action has recorded an error above.
            _ => Err(vec![CatalogueRowError::new(
                row_no,
                COLUMNS[KIND].0,
                "",
                "措施类型或措施类别无效",
                "invalid kind or action",
            )]),
        }
    }

    /// The row form for export, with the Chinese headers of [`COLUMNS`] in order. Reading it back
    /// with [`Measure::from_fields`] gives the same measure.
    pub fn to_fields(&self) -> Vec<(String, String)> {
        let values: [String; 14] = [
            self.code.clone(),
            self.kind.zh().to_string(),
            self.handling_agency.clone(),
            self.reason.clone(),
            self.implementing_agency.clone(),
            self.content.clone(),
            self.action.zh().to_string(),
            self.scenarios
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(";"),
            self.evidence.clone(),
            self.legal_basis.document.clone(),
            self.legal_basis.article.clone(),
            self.valid_from.format("%Y-%m-%d").to_string(),
            self.valid_to
                .map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
            Trigger::format_list(&self.triggers),
        ];
        COLUMNS
            .iter()
            .zip(values)
            .map(|((zh, _), v)| (zh.to_string(), v))
            .collect()
    }
}
