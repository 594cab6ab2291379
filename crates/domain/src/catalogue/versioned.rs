//! The catalogue as a whole (联合奖惩措施目录): measures under a version with a content digest.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::fields::{CatalogueRowError, MeasureRow};
use super::measure::Measure;
use super::scenario::ScenarioRegistry;

/// The shipped default catalogue, in the JSON form [`Catalogue::from_json`] reads.
pub const DEFAULT_CATALOGUE_JSON: &str = include_str!("../../../../data/catalogue/default.json");

/// 版本状态
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VersionStatus {
    /// 草稿: being edited; checks may be run against it for testing
    Draft,
    /// 已发布: the version agencies' checks are answered from
    Published,
}

impl VersionStatus {
    pub fn code(self) -> &'static str {
        match self {
            VersionStatus::Draft => "draft",
            VersionStatus::Published => "published",
        }
    }
    pub fn zh(self) -> &'static str {
        match self {
            VersionStatus::Draft => "草稿",
            VersionStatus::Published => "已发布",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.trim() {
            "draft" | "草稿" => VersionStatus::Draft,
            "published" | "已发布" | "发布" => VersionStatus::Published,
            _ => return None,
        })
    }
}

/// Which catalogue answered a check (目录版本): number, status and the SHA-256 (hex) of the
/// canonical JSON of its measures. The digest covers content only, so publishing a draft keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CatalogueVersion {
    pub number: u32,
    pub status: VersionStatus,
    pub digest: String,
}

impl CatalogueVersion {
    /// A short label for pages and logs, e.g. `v3（已发布，1a2b3c4d）`.
    pub fn label_zh(&self) -> String {
        let short = self.digest.get(..8).unwrap_or(&self.digest);
        format!("v{}（{}，{}）", self.number, self.status.zh(), short)
    }
}

/// Why a catalogue (or a scenario registry) was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum CatalogueError {
    /// The text is not JSON of the expected shape.
    #[error("目录 JSON 无法读取 / the catalogue JSON cannot be read: {0}")]
    Json(String),
    /// One or more rows failed validation; every error is listed.
    #[error("目录有 {} 处错误 / the catalogue has {} errors", .0.len(), .0.len())]
    Rows(Vec<CatalogueRowError>),
    /// The digest stated in the file is not the digest of its measures: the file was altered.
    #[error("目录摘要不符 / digest mismatch: stated {stated}, computed {computed}")]
    DigestMismatch { stated: String, computed: String },
}

impl CatalogueError {
    /// The row errors, if that is what this is.
    pub fn rows(&self) -> &[CatalogueRowError] {
        match self {
            CatalogueError::Rows(r) => r,
            _ => &[],
        }
    }
}

/// A versioned catalogue. Measures are kept sorted by code with unique codes, and the version's
/// digest always matches them: the only ways in are the checked constructors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Catalogue {
    version: CatalogueVersion,
    measures: Vec<Measure>,
}

/// The SHA-256 (hex) of the canonical JSON of measures sorted by code.
fn digest_of(measures: &[Measure]) -> String {
    // serde_json writes struct fields in declaration order and strings one way, so equal measures
    // give equal bytes.
    let bytes = serde_json::to_vec(measures).unwrap_or_default();
    hex::encode(Sha256::digest(&bytes))
}

fn json_cell(v: &serde_json::Value) -> Option<String> {
    use serde_json::Value;
    Some(match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Array(items) => {
            let mut parts = Vec::with_capacity(items.len());
            for i in items {
                match i {
                    Value::String(s) => parts.push(s.clone()),
                    Value::Number(n) => parts.push(n.to_string()),
                    _ => return None,
                }
            }
            parts.join(";")
        }
        Value::Object(_) => return None,
    })
}

impl Catalogue {
    /// Builds a catalogue from validated measures: sorts them by code, refuses repeated codes (named
    /// with their 1-based position in `measures`) and computes the digest.
    pub fn from_measures(
        number: u32,
        status: VersionStatus,
        measures: Vec<Measure>,
    ) -> Result<Catalogue, CatalogueError> {
        let mut indexed: Vec<(usize, Measure)> = measures.into_iter().enumerate().collect();
        indexed.sort_by(|a, b| a.1.code.cmp(&b.1.code).then(a.0.cmp(&b.0)));
        let mut errors = Vec::new();
        for w in indexed.windows(2) {
            if w[0].1.code == w[1].1.code {
                errors.push(CatalogueRowError::new(
                    w[1].0 as u64 + 1,
                    "措施编码",
                    &w[1].1.code,
                    format!("措施编码与第{}行重复", w[0].0 + 1),
                    format!("the code repeats row {}", w[0].0 + 1),
                ));
            }
        }
        if !errors.is_empty() {
            return Err(CatalogueError::Rows(errors));
        }
        let measures: Vec<Measure> = indexed.into_iter().map(|(_, m)| m).collect();
        let digest = digest_of(&measures);
        Ok(Catalogue {
            version: CatalogueVersion {
                number,
                status,
                digest,
            },
            measures,
        })
    }

    /// Validates rows read from CSV or XLSX (see [`Measure::from_fields_with`]); every error of every
    /// row is reported together.
    pub fn from_rows(
        number: u32,
        status: VersionStatus,
        rows: &[MeasureRow],
        registry: &ScenarioRegistry,
    ) -> Result<Catalogue, CatalogueError> {
        let mut measures = Vec::with_capacity(rows.len());
        let mut errors = Vec::new();
        for r in rows {
            match r.parse_with(registry) {
                Ok(m) => measures.push((r.row, m)),
                Err(e) => errors.extend(e),
            }
        }
        Self::finish(number, status, measures, errors)
    }

    fn finish(
        number: u32,
        status: VersionStatus,
        measures: Vec<(u64, Measure)>,
        mut errors: Vec<CatalogueRowError>,
    ) -> Result<Catalogue, CatalogueError> {
        // Repeated codes are named with the source row numbers.
        let mut seen: std::collections::HashMap<&str, u64> = std::collections::HashMap::new();
        for (row, m) in &measures {
            if let Some(first) = seen.get(m.code.as_str()) {
                errors.push(CatalogueRowError::new(
                    *row,
                    "措施编码",
                    &m.code,
                    format!("措施编码与第{first}行重复"),
                    format!("the code repeats row {first}"),
                ));
            } else {
                seen.insert(&m.code, *row);
            }
        }
        if !errors.is_empty() {
            errors.sort_by_key(|e| e.row);
            return Err(CatalogueError::Rows(errors));
        }
        Self::from_measures(
            number,
            status,
            measures.into_iter().map(|(_, m)| m).collect(),
        )
    }

    /// Reads catalogue JSON, validating scenarios against the shipped registry. See
    /// [`Catalogue::from_json_with`].
    pub fn from_json(text: &str) -> Result<Catalogue, CatalogueError> {
        Self::from_json_with(text, ScenarioRegistry::builtin())
    }

    /// Reads catalogue JSON:
    ///
    /// ```json
    /// { "version": { "number": 1, "status": "published", "digest": "…" },
    ///   "measures": [ { "code": "CJ-SX-001", "kind": "punishment", "handling_agency": "…",
    ///                   "reason": "…", "implementing_agency": "…", "content": "…",
    ///                   "action": "prohibit", "scenarios": ["government_procurement"],
    ///                   "evidence": "…", "legal_basis": { "document": "…", "article": "…" },
    ///                   "valid_from": "2016-01-20", "valid_to": null,
    ///                   "triggers": ["subject:dishonest_debtor"] } ] }
    /// ```
    ///
    /// Each measure is validated like a row ([`Measure::from_fields_with`]; keys may also be the
    /// Chinese column names), its row being its 1-based position. `version` may be left out (number
    /// 1, draft); a stated `digest` must match the measures, which catches a file altered by hand.
    pub fn from_json_with(
        text: &str,
        registry: &ScenarioRegistry,
    ) -> Result<Catalogue, CatalogueError> {
        use serde_json::Value;
        let root: Value =
            serde_json::from_str(text).map_err(|e| CatalogueError::Json(e.to_string()))?;
        let Value::Object(root) = root else {
            return Err(CatalogueError::Json(
                "顶层应为对象 / the top level must be an object".into(),
            ));
        };
        let (number, status, stated) = match root.get("version") {
            None | Some(Value::Null) => (1, VersionStatus::Draft, None),
            Some(Value::Object(v)) => {
                let number = match v.get("number") {
                    None => 1,
                    Some(n) => n
                        .as_u64()
                        .and_then(|n| u32::try_from(n).ok())
                        .ok_or_else(|| {
                            CatalogueError::Json(format!(
                                "version.number 应为非负整数 / must be a non-negative integer: {n}"
                            ))
                        })?,
                };
                let status = match v.get("status") {
                    None => VersionStatus::Draft,
                    Some(s) => s.as_str().and_then(VersionStatus::parse).ok_or_else(|| {
                        CatalogueError::Json(format!(
                            "version.status 应为 draft 或 published / must be draft or published: {s}"
                        ))
                    })?,
                };
                let stated = match v.get("digest") {
                    None | Some(Value::Null) => None,
                    Some(Value::String(s)) if s.is_empty() => None,
                    Some(Value::String(s)) => Some(s.clone()),
                    Some(d) => {
                        return Err(CatalogueError::Json(format!(
                            "version.digest 应为字符串 / must be a string: {d}"
                        )));
                    }
                };
                (number, status, stated)
            }
            Some(v) => {
                return Err(CatalogueError::Json(format!(
                    "version 应为对象 / must be an object: {v}"
                )));
            }
        };
        let Some(Value::Array(items)) = root.get("measures") else {
            return Err(CatalogueError::Json(
                "缺少 measures 数组 / the measures array is missing".into(),
            ));
        };
        let mut measures = Vec::with_capacity(items.len());
        let mut errors = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let row = i as u64 + 1;
            let Value::Object(obj) = item else {
                errors.push(CatalogueRowError::new(
                    row,
                    "measures",
                    &item.to_string(),
                    "措施应为对象",
                    "a measure must be an object",
                ));
                continue;
            };
            let mut fields = Vec::with_capacity(obj.len() + 1);
            let mut bad = false;
            for (k, v) in obj {
                if let ("legal_basis" | "法律依据", Value::Object(lb)) = (k.as_str(), v) {
                    for (lk, lv) in lb {
                        let key = match lk.as_str() {
                            "document" | "文件" => "legal_basis.document".to_string(),
                            "article" | "条款" => "legal_basis.article".to_string(),
                            other => format!("legal_basis.{other}"),
                        };
                        match json_cell(lv) {
                            Some(s) => fields.push((key, s)),
                            None => {
                                bad = true;
                                errors.push(CatalogueRowError::new(
                                    row,
                                    &key,
                                    &lv.to_string(),
                                    "应为文本",
                                    "must be text",
                                ));
                            }
                        }
                    }
                    continue;
                }
                match json_cell(v) {
                    Some(s) => fields.push((k.clone(), s)),
                    None => {
                        bad = true;
                        errors.push(CatalogueRowError::new(
                            row,
                            k,
                            &v.to_string(),
                            "应为文本或文本数组",
                            "must be text or an array of text",
                        ));
                    }
                }
            }
            match Measure::from_fields_with(row, &fields, registry) {
                Ok(m) if !bad => measures.push((row, m)),
                Ok(_) => {}
                Err(e) => errors.extend(e),
            }
        }
        let cat = Self::finish(number, status, measures, errors)?;
        if let Some(stated) = stated
            && !stated.eq_ignore_ascii_case(&cat.version.digest)
        {
            return Err(CatalogueError::DigestMismatch {
                stated,
                computed: cat.version.digest.clone(),
            });
        }
        Ok(cat)
    }

    /// The JSON form (pretty-printed, digest included) that [`Catalogue::from_json`] reads back.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The row form for CSV / XLSX export: one row per measure, Chinese headers of
    /// [`super::COLUMNS`] in order.
    pub fn to_rows(&self) -> Vec<Vec<(String, String)>> {
        self.measures.iter().map(Measure::to_fields).collect()
    }

    pub fn version(&self) -> &CatalogueVersion {
        &self.version
    }

    /// Measures, sorted by code.
    pub fn measures(&self) -> &[Measure] {
        &self.measures
    }

    /// The measure with this code.
    pub fn measure(&self, code: &str) -> Option<&Measure> {
        self.measures
            .binary_search_by(|m| m.code.as_str().cmp(code))
            .ok()
            .and_then(|i| self.measures.get(i))
    }

    /// The same measures as another version number and status (e.g. a published copy of a draft,
    /// or the next draft). The digest does not change.
    pub fn with_version(mut self, number: u32, status: VersionStatus) -> Catalogue {
        self.version.number = number;
        self.version.status = status;
        self
    }

    /// The shipped default catalogue (`data/catalogue/default.json`), checked against the shipped
    /// scenario registry.
    pub fn default_catalogue() -> Result<Catalogue, CatalogueError> {
        Self::from_json(DEFAULT_CATALOGUE_JSON)
    }
}
