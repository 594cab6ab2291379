//! The files and their columns: the Chinese names of docs/fields.md for CSV and XLSX, the English
//! names for JSON Lines.

use creditloop_domain::record::Category;

/// Every field any file has. A row holds one value per field; a file writes those of its columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum F {
    SubjectName,
    CounterpartKind,
    Uscc,
    RegNo,
    OrgCode,
    TaxNo,
    InstitutionCert,
    SocialOrgCert,
    LegalRep,
    LegalRepIdType,
    LegalRepIdNo,
    IdType,
    IdNo,
    Persons,
    Category,
    ListType,
    DocNo,
    ViolationType,
    ViolationFacts,
    LegalBasis,
    PenaltyKinds,
    Content,
    FineWan,
    ConfiscatedWan,
    LicenceAffected,
    DecisionDate,
    ValidUntil,
    PublicityUntil,
    Authority,
    AuthorityCode,
    SourceUnit,
    SourceUnitCode,
    SubmittedOn,
    Remarks,
    DocumentName,
    LicenceKind,
    CertificateName,
    LicenceNo,
    ValidFrom,
    ValidTo,
    LicenceStatus,
    Court,
    FiledOn,
    BasisDoc,
    Obligation,
    Performance,
    Conduct,
    ListName,
    Reason,
    RemovedOn,
    RemovalReason,
    Title,
}

/// Number of [`F`] variants.
pub(crate) const N_FIELDS: usize = F::Title as usize + 1;

impl F {
    /// Fields whose JSON value is a number when it reads as one.
    pub(crate) fn is_number(self) -> bool {
        matches!(self, F::FineWan | F::ConfiscatedWan)
    }
}

/// One column of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub(crate) field: F,
    /// Header in CSV and XLSX (docs/fields.md).
    pub zh: &'static str,
    /// Key in JSON Lines (docs/fields.md).
    pub en: &'static str,
}

const fn c(field: F, zh: &'static str, en: &'static str) -> Column {
    Column { field, zh, en }
}

/// The subject columns of the 双公示 standard (penalties, licences, lists, others).
const SUBJECT: [Column; 13] = [
    c(F::SubjectName, "行政相对人名称", "subject_name"),
    c(F::CounterpartKind, "行政相对人类别", "counterpart_kind"),
    c(F::Uscc, "行政相对人代码_1(统一社会信用代码)", "uscc"),
    c(F::RegNo, "行政相对人代码_2(工商注册号)", "reg_no"),
    c(F::OrgCode, "行政相对人代码_3(组织机构代码)", "org_code"),
    c(F::TaxNo, "行政相对人代码_4(税务登记号)", "tax_no"),
    c(
        F::InstitutionCert,
        "行政相对人代码_5(事业单位证书号)",
        "institution_cert",
    ),
    c(
        F::SocialOrgCert,
        "行政相对人代码_6(社会组织登记证号)",
        "social_org_cert",
    ),
    c(F::LegalRep, "法定代表人", "legal_rep"),
    c(F::LegalRepIdType, "法定代表人证件类型", "legal_rep_id_type"),
    c(F::LegalRepIdNo, "法定代表人证件号码", "legal_rep_id_no"),
    c(F::IdType, "证件类型", "id_type"),
    c(F::IdNo, "证件号码", "id_no"),
];

/// The columns every file ends with.
const TAIL: [Column; 4] = [
    c(F::SourceUnit, "数据来源单位", "source_unit"),
    c(
        F::SourceUnitCode,
        "数据来源单位统一社会信用代码",
        "source_unit_code",
    ),
    c(F::SubmittedOn, "报送日期", "submitted_on"),
    c(F::Remarks, "备注", "remarks"),
];

/// The record files the generator writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FileKind {
    /// `penalties` — 行政处罚
    Penalties,
    /// `licences` — 行政许可
    Licences,
    /// `dishonest_debtors` — 失信被执行人
    DishonestDebtors,
    /// `lists` — 严重违法失信名单, 经营异常名录, 红名单 (名单类别 column)
    Lists,
    /// `others` — 登记注册, 信用承诺, 检查结果, 其他 (信息类别 column)
    Others,
}

impl FileKind {
    /// All record files, in the order they are written and reported.
    pub const ALL: [FileKind; 5] = [
        FileKind::Penalties,
        FileKind::Licences,
        FileKind::DishonestDebtors,
        FileKind::Lists,
        FileKind::Others,
    ];

    /// File name without extension.
    pub fn stem(self) -> &'static str {
        match self {
            FileKind::Penalties => "penalties",
            FileKind::Licences => "licences",
            FileKind::DishonestDebtors => "dishonest_debtors",
            FileKind::Lists => "lists",
            FileKind::Others => "others",
        }
    }

    /// The categories whose records the file holds.
    pub fn categories(self) -> &'static [Category] {
        match self {
            FileKind::Penalties => &[Category::Penalty],
            FileKind::Licences => &[Category::Licence],
            FileKind::DishonestDebtors => &[Category::DishonestDebtor],
            FileKind::Lists => &[
                Category::SeriousDishonestList,
                Category::AbnormalOperation,
                Category::RedList,
            ],
            FileKind::Others => &[
                Category::Registration,
                Category::Commitment,
                Category::Inspection,
                Category::Other,
            ],
        }
    }

    /// The file that holds records of `category`.
    pub fn of(category: Category) -> FileKind {
        FileKind::ALL
            .into_iter()
            .find(|f| f.categories().contains(&category))
            .unwrap_or(FileKind::Others)
    }

    /// The category a JSON Lines row must name because the file has no category column.
    pub(crate) fn json_category(self) -> Option<Category> {
        match self {
            FileKind::Penalties => Some(Category::Penalty),
            FileKind::Licences => Some(Category::Licence),
            FileKind::DishonestDebtors => Some(Category::DishonestDebtor),
            FileKind::Lists | FileKind::Others => None,
        }
    }

    /// The title line a spreadsheet export carries above the header (quirks only).
    pub(crate) fn title(self) -> &'static str {
        match self {
            FileKind::Penalties => "行政处罚信息公示表",
            FileKind::Licences => "行政许可信息公示表",
            FileKind::DishonestDebtors => "失信被执行人名单",
            FileKind::Lists => "信用名单信息表",
            FileKind::Others => "其他信用信息表",
        }
    }

    /// The columns, in file order.
    pub fn columns(self) -> Vec<Column> {
        let mut cols = Vec::with_capacity(36);
        match self {
            FileKind::Penalties => {
                cols.extend(SUBJECT);
                cols.extend([
                    c(F::DocNo, "行政处罚决定书文号", "doc_no"),
                    c(F::ViolationType, "违法行为类型", "violation_type"),
                    c(F::ViolationFacts, "违法事实", "violation_facts"),
                    c(F::LegalBasis, "处罚依据", "legal_basis"),
                    c(F::PenaltyKinds, "处罚类别", "penalty_kinds"),
                    c(F::Content, "处罚内容", "content"),
                    c(F::FineWan, "罚款金额（万元）", "fine_wan"),
                    c(
                        F::ConfiscatedWan,
                        "没收违法所得、没收非法财物的金额（万元）",
                        "confiscated_wan",
                    ),
                    c(
                        F::LicenceAffected,
                        "暂扣或吊销证照名称及编号",
                        "licence_affected",
                    ),
                    c(F::DecisionDate, "处罚决定日期", "decision_date"),
                    c(F::ValidUntil, "处罚有效期", "valid_until"),
                    c(F::PublicityUntil, "公示截止期", "publicity_until"),
                    c(F::Authority, "处罚机关", "authority"),
                    c(
                        F::AuthorityCode,
                        "处罚机关统一社会信用代码",
                        "authority_code",
                    ),
                ]);
            }
            FileKind::Licences => {
                cols.extend(SUBJECT);
                cols.extend([
                    c(F::DocumentName, "行政许可决定文书名称", "document_name"),
                    c(F::DocNo, "行政许可决定文书号", "doc_no"),
                    c(F::LicenceKind, "许可类别", "licence_kind"),
                    c(F::CertificateName, "许可证书名称", "certificate_name"),
                    c(F::LicenceNo, "许可编号", "licence_no"),
                    c(F::Content, "许可内容", "content"),
                    c(F::DecisionDate, "许可决定日期", "decision_date"),
                    c(F::ValidFrom, "有效期自", "valid_from"),
                    c(F::ValidTo, "有效期至", "valid_to"),
                    c(F::Authority, "许可机关", "authority"),
                    c(
                        F::AuthorityCode,
                        "许可机关统一社会信用代码",
                        "authority_code",
                    ),
                    c(F::LicenceStatus, "当前状态", "licence_status"),
                ]);
            }
            FileKind::DishonestDebtors => {
                cols.extend([
                    c(F::SubjectName, "被执行人姓名/名称", "subject_name"),
                    c(F::Uscc, "统一社会信用代码", "uscc"),
                    c(F::IdType, "证件类型", "id_type"),
                    c(F::IdNo, "证件号码", "id_no"),
                    c(F::LegalRep, "法定代表人或负责人", "legal_rep"),
                    c(F::Court, "执行法院", "court"),
                    c(
                        F::AuthorityCode,
                        "执行法院统一社会信用代码",
                        "authority_code",
                    ),
                    c(F::DocNo, "案号", "doc_no"),
                    c(F::FiledOn, "立案时间", "filed_on"),
                    c(F::BasisDoc, "执行依据文号", "basis_doc"),
                    c(F::Obligation, "生效法律文书确定的义务", "obligation"),
                    c(F::Performance, "被执行人的履行情况", "performance"),
                    c(F::Conduct, "失信被执行人行为具体情形", "conduct"),
                    c(F::DecisionDate, "发布时间", "decision_date"),
                ]);
            }
            FileKind::Lists => {
                cols.extend(SUBJECT);
                cols.extend([
                    c(F::ListType, "名单类别", "list_type"),
                    c(F::ListName, "名单名称", "list_name"),
                    c(F::Reason, "列入事由", "reason"),
                    c(F::Authority, "认定机关", "authority"),
                    c(
                        F::AuthorityCode,
                        "认定机关统一社会信用代码",
                        "authority_code",
                    ),
                    c(F::DocNo, "认定文书号", "doc_no"),
                    c(F::DecisionDate, "列入日期", "decision_date"),
                    c(F::RemovedOn, "移出日期", "removed_on"),
                    c(F::RemovalReason, "移出事由", "removal_reason"),
                ]);
            }
            FileKind::Others => {
                cols.push(c(F::Category, "信息类别", "category"));
                cols.extend(SUBJECT);
                cols.extend([
                    c(F::Persons, "关联人员", "persons"),
                    c(F::DocNo, "文书号", "doc_no"),
                    c(F::Title, "信息内容", "title"),
                    c(F::DecisionDate, "决定日期", "decision_date"),
                    c(F::Authority, "决定机关", "authority"),
                    c(
                        F::AuthorityCode,
                        "决定机关统一社会信用代码",
                        "authority_code",
                    ),
                    c(F::ValidUntil, "有效期至", "valid_until"),
                ]);
            }
        }
        cols.extend(TAIL);
        cols
    }
}

/// The header as a spreadsheet export with quirks writes it: round brackets switched between
/// half-width and full-width (`罚款金额(万元)` for `罚款金额（万元）` and the other way round).
pub(crate) fn quirky_header(zh: &str) -> String {
    zh.chars()
        .map(|ch| match ch {
            '(' => '（',
            ')' => '）',
            '（' => '(',
            '）' => ')',
            other => other,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn columns_are_unique_per_file() {
        for f in FileKind::ALL {
            let cols = f.columns();
            let zh: BTreeSet<_> = cols.iter().map(|c| c.zh).collect();
            let en: BTreeSet<_> = cols.iter().map(|c| c.en).collect();
            assert_eq!(zh.len(), cols.len(), "{f:?}");
            assert_eq!(en.len(), cols.len(), "{f:?}");
        }
        for c in Category::ALL {
            assert!(FileKind::of(c).categories().contains(&c));
        }
    }
}
