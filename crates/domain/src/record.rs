//! Credit records (信用记录): one fact about a subject from one agency.
//!
//! A record is identified by its [`RecordKey`] (source agency, category, document number). A correction
//! arrives with the same key and other content and becomes a new version; nothing is overwritten.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::subject::{CounterpartKind, SubjectRef};

/// Record categories (信息类别).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// 登记注册
    Registration,
    /// 行政许可
    Licence,
    /// 行政处罚
    Penalty,
    /// 失信被执行人
    DishonestDebtor,
    /// 严重违法失信名单 / 严重失信主体名单
    SeriousDishonestList,
    /// 经营异常名录
    AbnormalOperation,
    /// 红名单 / 表彰荣誉
    RedList,
    /// 信用承诺
    Commitment,
    /// 检查结果 (双随机抽查等)
    Inspection,
    /// 其他
    Other,
}

impl Category {
    pub const ALL: [Category; 10] = [
        Category::Registration,
        Category::Licence,
        Category::Penalty,
        Category::DishonestDebtor,
        Category::SeriousDishonestList,
        Category::AbnormalOperation,
        Category::RedList,
        Category::Commitment,
        Category::Inspection,
        Category::Other,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Category::Registration => "registration",
            Category::Licence => "licence",
            Category::Penalty => "penalty",
            Category::DishonestDebtor => "dishonest_debtor",
            Category::SeriousDishonestList => "serious_dishonest_list",
            Category::AbnormalOperation => "abnormal_operation",
            Category::RedList => "red_list",
            Category::Commitment => "commitment",
            Category::Inspection => "inspection",
            Category::Other => "other",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            Category::Registration => "登记注册",
            Category::Licence => "行政许可",
            Category::Penalty => "行政处罚",
            Category::DishonestDebtor => "失信被执行人",
            Category::SeriousDishonestList => "严重违法失信名单",
            Category::AbnormalOperation => "经营异常名录",
            Category::RedList => "红名单",
            Category::Commitment => "信用承诺",
            Category::Inspection => "检查结果",
            Category::Other => "其他",
        }
    }

    /// Accepts the code, the Chinese name and a few common synonyms.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        if let Some(c) = Category::ALL
            .into_iter()
            .find(|c| c.code() == s || c.zh() == s)
        {
            return Some(c);
        }
        Some(match s {
            "license" | "licences" | "licenses" | "许可" => Category::Licence,
            "penalties" | "处罚" => Category::Penalty,
            "严重失信主体名单" | "严重违法失信企业名单" | "黑名单" => {
                Category::SeriousDishonestList
            }
            "经营异常名单" => Category::AbnormalOperation,
            "守信激励名单" | "表彰荣誉" | "荣誉" => Category::RedList,
            "承诺" => Category::Commitment,
            "抽查检查结果" | "检查" => Category::Inspection,
            _ => return None,
        })
    }

    /// The nature a record of this category has when the feed does not say.
    pub fn default_nature(self) -> Nature {
        match self {
            Category::Penalty
            | Category::DishonestDebtor
            | Category::SeriousDishonestList
            | Category::AbnormalOperation => Nature::Negative,
            Category::RedList => Nature::Positive,
            _ => Nature::Neutral,
        }
    }

    /// Lists (名单/名录) have an entry and a removal date rather than a decision with a validity.
    pub fn is_list(self) -> bool {
        matches!(
            self,
            Category::DishonestDebtor
                | Category::SeriousDishonestList
                | Category::AbnormalOperation
                | Category::RedList
        )
    }
}

/// 信息性质
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Nature {
    /// 正面 (守信)
    Positive,
    /// 中性
    Neutral,
    /// 负面 (失信)
    Negative,
}

impl Nature {
    pub fn code(self) -> &'static str {
        match self {
            Nature::Positive => "positive",
            Nature::Neutral => "neutral",
            Nature::Negative => "negative",
        }
    }
    pub fn zh(self) -> &'static str {
        match self {
            Nature::Positive => "正面",
            Nature::Neutral => "中性",
            Nature::Negative => "负面",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.trim() {
            "positive" | "正面" | "守信" => Nature::Positive,
            "neutral" | "中性" => Nature::Neutral,
            "negative" | "负面" | "失信" => Nature::Negative,
            _ => return None,
        })
    }
}

/// Severity of dishonesty information (失信信息严重程度, 信用修复管理办法).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// not dishonesty information (positive or neutral records)
    None,
    /// 轻微
    Slight,
    /// 一般
    General,
    /// 严重
    Serious,
}

impl Severity {
    pub fn code(self) -> &'static str {
        match self {
            Severity::None => "none",
            Severity::Slight => "slight",
            Severity::General => "general",
            Severity::Serious => "serious",
        }
    }
    pub fn zh(self) -> &'static str {
        match self {
            Severity::None => "无",
            Severity::Slight => "轻微",
            Severity::General => "一般",
            Severity::Serious => "严重",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.trim() {
            "none" | "无" => Severity::None,
            "slight" | "轻微" => Severity::Slight,
            "general" | "一般" => Severity::General,
            "serious" | "严重" => Severity::Serious,
            _ => return None,
        })
    }
}

/// Status of a record in its life cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordStatus {
    /// 有效
    Active,
    /// 异议处理中
    UnderObjection,
    /// 已修复
    Repaired,
    /// 已过公示期 / 已失效
    Expired,
    /// 已撤销
    Revoked,
}

impl RecordStatus {
    pub fn code(self) -> &'static str {
        match self {
            RecordStatus::Active => "active",
            RecordStatus::UnderObjection => "under_objection",
            RecordStatus::Repaired => "repaired",
            RecordStatus::Expired => "expired",
            RecordStatus::Revoked => "revoked",
        }
    }
    pub fn zh(self) -> &'static str {
        match self {
            RecordStatus::Active => "有效",
            RecordStatus::UnderObjection => "异议处理中",
            RecordStatus::Repaired => "已修复",
            RecordStatus::Expired => "已过期",
            RecordStatus::Revoked => "已撤销",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [
            RecordStatus::Active,
            RecordStatus::UnderObjection,
            RecordStatus::Repaired,
            RecordStatus::Expired,
            RecordStatus::Revoked,
        ]
        .into_iter()
        .find(|x| x.code() == s || x.zh() == s)
    }
}

/// 处罚类别 of the 双公示 standard and the kinds the 2021 Administrative Penalty Law added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PenaltyKind {
    /// 警告
    Warning,
    /// 罚款
    Fine,
    /// 没收违法所得、没收非法财物
    Confiscation,
    /// 责令停产停业
    SuspendProduction,
    /// 暂扣或者吊销许可证、暂扣或者吊销执照
    LicenceSuspendedOrRevoked,
    /// 行政拘留
    Detention,
    /// 通报批评
    PublicCriticism,
    /// 降低资质等级
    QualificationDowngrade,
    /// 限制开展生产经营活动
    RestrictBusiness,
    /// 责令关闭
    OrderedClosure,
    /// 限制从业
    RestrictPractice,
    /// 其他
    Other,
}

impl PenaltyKind {
    pub const ALL: [PenaltyKind; 12] = [
        PenaltyKind::Warning,
        PenaltyKind::Fine,
        PenaltyKind::Confiscation,
        PenaltyKind::SuspendProduction,
        PenaltyKind::LicenceSuspendedOrRevoked,
        PenaltyKind::Detention,
        PenaltyKind::PublicCriticism,
        PenaltyKind::QualificationDowngrade,
        PenaltyKind::RestrictBusiness,
        PenaltyKind::OrderedClosure,
        PenaltyKind::RestrictPractice,
        PenaltyKind::Other,
    ];

    pub fn zh(self) -> &'static str {
        match self {
            PenaltyKind::Warning => "警告",
            PenaltyKind::Fine => "罚款",
            PenaltyKind::Confiscation => "没收违法所得、没收非法财物",
            PenaltyKind::SuspendProduction => "责令停产停业",
            PenaltyKind::LicenceSuspendedOrRevoked => "暂扣或者吊销许可证、暂扣或者吊销执照",
            PenaltyKind::Detention => "行政拘留",
            PenaltyKind::PublicCriticism => "通报批评",
            PenaltyKind::QualificationDowngrade => "降低资质等级",
            PenaltyKind::RestrictBusiness => "限制开展生产经营活动",
            PenaltyKind::OrderedClosure => "责令关闭",
            PenaltyKind::RestrictPractice => "限制从业",
            PenaltyKind::Other => "其他",
        }
    }

    /// Parses one value; the two long standard names contain `、` themselves, so callers should use
    /// [`PenaltyKind::parse_list`] on a whole field.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        if let Some(k) = PenaltyKind::ALL.into_iter().find(|k| k.zh() == s) {
            return Some(k);
        }
        Some(match s {
            "没收违法所得" | "没收非法财物" | "没收" => PenaltyKind::Confiscation,
            "暂扣或者吊销许可证"
            | "暂扣或者吊销执照"
            | "吊销许可证"
            | "吊销执照"
            | "暂扣许可证"
            | "暂扣执照"
            | "吊销营业执照" => PenaltyKind::LicenceSuspendedOrRevoked,
            "停产停业" => PenaltyKind::SuspendProduction,
            _ => return None,
        })
    }

    /// Parses a field holding several kinds separated by `;`, `；` or `、`. Returns the unknown parts
    /// as an error so the caller can name them.
    pub fn parse_list(s: &str) -> Result<Vec<PenaltyKind>, String> {
        let mut out = Vec::new();
        let mut rest = s.trim();
        // The long standard names contain `、`; take them first so they are not split.
        'outer: while !rest.is_empty() {
            rest = rest.trim_start_matches([';', '；', '、', ',', '，', ' ']);
            if rest.is_empty() {
                break;
            }
            for k in [
                PenaltyKind::Confiscation,
                PenaltyKind::LicenceSuspendedOrRevoked,
            ] {
                if let Some(r) = rest.strip_prefix(k.zh()) {
                    if !out.contains(&k) {
                        out.push(k);
                    }
                    rest = r;
                    continue 'outer;
                }
            }
            let end = rest
                .find([';', '；', '、', ',', '，'])
                .unwrap_or(rest.len());
            let part = &rest[..end];
            match PenaltyKind::parse(part) {
                Some(k) => {
                    if !out.contains(&k) {
                        out.push(k);
                    }
                }
                None => return Err(part.trim().to_string()),
            }
            rest = &rest[end..];
        }
        if out.is_empty() {
            return Err(String::new());
        }
        Ok(out)
    }
}

/// 行政处罚: every field of the 双公示 standard that is not on [`CreditRecord`] itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PenaltyDetail {
    /// 违法行为类型
    pub violation_type: String,
    /// 违法事实
    pub violation_facts: String,
    /// 处罚依据
    pub legal_basis: String,
    /// 处罚类别
    pub kinds: Vec<PenaltyKind>,
    /// 处罚内容
    pub content: String,
    /// 罚款金额（万元）
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fine_wan: Option<f64>,
    /// 没收违法所得、没收非法财物的金额（万元）
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confiscated_wan: Option<f64>,
    /// 暂扣或吊销证照名称及编号
    #[serde(skip_serializing_if = "Option::is_none")]
    pub licence_affected: Option<String>,
    /// 处罚有效期
    pub valid_until: NaiveDate,
}

/// 许可类别
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LicenceKind {
    /// 普通
    General,
    /// 特许
    Franchise,
    /// 认可
    Recognition,
    /// 核准
    Approval,
    /// 登记
    Registration,
    /// 其他
    Other,
}

impl LicenceKind {
    pub fn zh(self) -> &'static str {
        match self {
            LicenceKind::General => "普通",
            LicenceKind::Franchise => "特许",
            LicenceKind::Recognition => "认可",
            LicenceKind::Approval => "核准",
            LicenceKind::Registration => "登记",
            LicenceKind::Other => "其他",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [
            LicenceKind::General,
            LicenceKind::Franchise,
            LicenceKind::Recognition,
            LicenceKind::Approval,
            LicenceKind::Registration,
            LicenceKind::Other,
        ]
        .into_iter()
        .find(|k| k.zh() == s.trim() || s.trim() == format!("{}许可", k.zh()))
    }
}

/// 行政许可: every field of the 双公示 standard that is not on [`CreditRecord`] itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LicenceDetail {
    /// 行政许可决定文书名称
    pub document_name: String,
    /// 许可类别
    pub kind: LicenceKind,
    /// 许可证书名称
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_name: Option<String>,
    /// 许可编号
    #[serde(skip_serializing_if = "Option::is_none")]
    pub licence_no: Option<String>,
    /// 许可内容
    pub content: String,
    /// 有效期自
    pub valid_from: NaiveDate,
    /// 有效期至 (2099-12-31 for no limit)
    pub valid_to: NaiveDate,
    /// 当前状态: 有效 (true) / 无效 (false)
    pub in_force: bool,
}

/// 失信被执行人 fields that are not on [`CreditRecord`] itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DebtorDetail {
    /// 执行法院
    pub court: String,
    /// 立案时间
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filed_on: Option<NaiveDate>,
    /// 执行依据文号
    #[serde(skip_serializing_if = "Option::is_none")]
    pub basis_doc: Option<String>,
    /// 生效法律文书确定的义务
    pub obligation: String,
    /// 被执行人的履行情况
    pub performance: String,
    /// 失信被执行人行为具体情形
    pub conduct: String,
}

/// Fields of list entries (严重违法失信名单, 经营异常名录, 红名单 …).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListingDetail {
    /// 名单名称
    pub list_name: String,
    /// 列入事由
    pub reason: String,
    /// 移出日期
    #[serde(skip_serializing_if = "Option::is_none")]
    pub removed_on: Option<NaiveDate>,
    /// 移出事由
    #[serde(skip_serializing_if = "Option::is_none")]
    pub removal_reason: Option<String>,
}

/// Category-specific content of a record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Detail {
    Penalty(PenaltyDetail),
    Licence(LicenceDetail),
    Debtor(DebtorDetail),
    Listing(ListingDetail),
    /// Other categories: free fields kept in order, e.g. registration, commitment, inspection.
    Generic {
        #[serde(default)]
        fields: Vec<(String, String)>,
    },
}

/// An agency as a record names it (处罚机关 / 许可机关 / 数据来源单位).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgencyRef {
    pub name: String,
    /// The agency's unified social credit code, as text (agencies' codes are checked on input).
    pub code: String,
}

/// The identity of a record across versions: same source agency, category and document number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RecordKey {
    /// 数据来源单位统一社会信用代码
    pub source: String,
    pub category: Category,
    /// 决定书文号 / 许可决定文书号 / 案号 …
    pub doc_no: String,
}

impl RecordKey {
    /// A 64-bit hash of the key, used as a compact index column. Collisions are resolved by
    /// comparing the full key.
    pub fn hash64(&self) -> i64 {
        let mut h = Sha256::new();
        h.update(self.source.as_bytes());
        h.update([0]);
        h.update(self.category.code().as_bytes());
        h.update([0]);
        h.update(self.doc_no.as_bytes());
        let d = h.finalize();
        let mut b = [0u8; 8];
        b.copy_from_slice(&d[..8]);
        i64::from_be_bytes(b)
    }
}

/// A validated credit record (信用记录) as submitted. Storage adds the version and batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreditRecord {
    pub key: RecordKey,
    pub subject: SubjectRef,
    /// 行政相对人类别 as given by the feed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counterpart: Option<CounterpartKind>,
    pub nature: Nature,
    pub severity: Severity,
    /// 决定日期 (处罚决定日期 / 许可决定日期 / 列入日期 / 发布时间)
    pub decision_date: NaiveDate,
    /// A one-line summary for lists and pages (处罚内容, 许可内容, 列入事由 …).
    pub title: String,
    /// 处罚机关 / 许可机关 / 执行法院 / 认定机关
    pub authority: AgencyRef,
    /// 数据来源单位
    pub source_unit: AgencyRef,
    /// End of the publicity window (公示截止期), given or computed by [`crate::publicity`].
    pub publicity_until: NaiveDate,
    pub status: RecordStatus,
    pub detail: Detail,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

impl CreditRecord {
    /// Digest of the content. Two submissions with the same key and digest are the same record.
    pub fn content_digest(&self) -> [u8; 32] {
        // serde_json writes struct fields in declaration order, so this is canonical for a version of
        // the code; a change of the struct changes digests, which only makes an old duplicate a version.
        let bytes = serde_json::to_vec(self).unwrap_or_default();
        Sha256::digest(&bytes).into()
    }

    /// Whether the record is shown publicly on `today`.
    pub fn is_public_on(&self, today: NaiveDate) -> bool {
        self.status == RecordStatus::Active
            && self.decision_date <= today
            && today <= self.publicity_until
    }
}

/// Submission facts the collector adds: when it arrived and how late it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timeliness {
    pub submitted_on: NaiveDate,
    /// Working days from decision to submission.
    pub working_days: i64,
    /// The last day it could be submitted on time.
    pub deadline: NaiveDate,
    pub late: bool,
}

impl Timeliness {
    /// Default limit of DESIGN.md §1: records are due within 7 working days of the decision.
    pub const DEFAULT_LIMIT: u32 = 7;

    pub fn compute(
        calendar: &crate::calendar::WorkingCalendar,
        decision: NaiveDate,
        submitted_on: NaiveDate,
        limit: u32,
    ) -> Self {
        let deadline = calendar.add_working_days(decision, limit);
        Timeliness {
            submitted_on,
            working_days: calendar.working_days_between(decision, submitted_on),
            deadline,
            late: submitted_on > deadline,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn penalty_kinds_split_on_all_separators_and_keep_long_names() {
        let k = PenaltyKind::parse_list("警告;罚款、没收违法所得、没收非法财物；通报批评").unwrap();
        assert_eq!(
            k,
            vec![
                PenaltyKind::Warning,
                PenaltyKind::Fine,
                PenaltyKind::Confiscation,
                PenaltyKind::PublicCriticism
            ]
        );
        assert_eq!(
            PenaltyKind::parse_list("罚款、打板子"),
            Err("打板子".into())
        );
        assert!(PenaltyKind::parse_list("").is_err());
    }

    #[test]
    fn categories_parse_from_code_and_chinese() {
        for c in Category::ALL {
            assert_eq!(Category::parse(c.code()), Some(c));
            assert_eq!(Category::parse(c.zh()), Some(c));
        }
    }

    #[test]
    fn key_hash_differs_by_each_part() {
        let k = RecordKey {
            source: "A".into(),
            category: Category::Penalty,
            doc_no: "1".into(),
        };
        let mut k2 = k.clone();
        k2.doc_no = "2".into();
        let mut k3 = k.clone();
        k3.category = Category::Licence;
        assert_ne!(k.hash64(), k2.hash64());
        assert_ne!(k.hash64(), k3.hash64());
        assert_eq!(k.hash64(), k.clone().hash64());
    }
}
