//! 数据项 (record fields): the canonical fields creditloop reads, the column names that name them (the
//! Chinese names of the 双公示 standard 2.0, the older 1.0 (2016) names and the English names of
//! `docs/fields.md`), and the [`Layout`] of one file: which column holds which field, resolved once
//! per file so that validating a row never looks a name up.

use std::collections::HashMap;
use std::sync::LazyLock;

use creditloop_domain::record::Category;

/// A canonical field (数据项). `docs/fields.md` is the contract for the names that map to each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Field {
    // 行政相对人 (subject)
    /// 行政相对人名称
    SubjectName,
    /// 行政相对人类别
    CounterpartKind,
    /// 行政相对人代码_1 (统一社会信用代码)
    Uscc,
    /// 行政相对人代码_2 (工商注册号) in 2.0
    RegNo,
    /// 行政相对人代码_3 (组织机构代码) in 2.0
    OrgCode,
    /// 行政相对人代码_4 (税务登记号)
    TaxNo,
    /// 行政相对人代码_5 (事业单位证书号) in 2.0
    InstitutionCert,
    /// 行政相对人代码_6 (社会组织登记证号)
    SocialOrgCert,
    /// 法定代表人
    LegalRep,
    /// 法定代表人证件类型
    LegalRepIdType,
    /// 法定代表人证件号码
    LegalRepIdNo,
    /// 证件类型 (of a natural person)
    IdType,
    /// 证件号码 (of a natural person)
    IdNo,
    /// 关联人员
    Persons,
    /// 主体类型
    SubjectKind,
    // Common
    /// 信息类别
    Category,
    /// 信息性质
    Nature,
    /// 严重程度
    Severity,
    /// 公示截止期
    PublicityUntil,
    /// 报送日期
    SubmittedOn,
    /// 数据来源单位
    SourceUnit,
    /// 数据来源单位统一社会信用代码
    SourceUnitCode,
    /// 备注
    Remarks,
    // 行政处罚
    /// 行政处罚决定书文号 / 行政许可决定文书号 / 案号 / 认定文书号 / 文书号
    DocNo,
    /// 违法行为类型 (1.0: 处罚名称)
    ViolationType,
    /// 违法事实 (1.0: 处罚事由)
    ViolationFacts,
    /// 处罚依据
    LegalBasis,
    /// 处罚类别 (1.0: 处罚类别1)
    PenaltyKinds,
    /// 处罚类别2 (1.0 only)
    PenaltyKinds2,
    /// 处罚内容 / 许可内容 (1.0: 处罚结果)
    Content,
    /// 罚款金额（万元）
    FineWan,
    /// 没收违法所得、没收非法财物的金额（万元）
    ConfiscatedWan,
    /// 暂扣或吊销证照名称及编号
    LicenceAffected,
    /// 处罚决定日期 / 许可决定日期 / 发布时间 / 列入日期 / 决定日期
    DecisionDate,
    /// 处罚有效期
    ValidUntil,
    /// 处罚机关 / 许可机关 / 执行法院 / 认定机关 / 决定机关
    Authority,
    /// 处罚机关统一社会信用代码 …
    AuthorityCode,
    // 行政许可
    /// 行政许可决定文书名称 (1.0: 项目名称)
    DocumentName,
    /// 许可类别 (1.0: 审批类别)
    LicenceKind,
    /// 许可证书名称
    CertificateName,
    /// 许可编号
    LicenceNo,
    /// 有效期自
    ValidFrom,
    /// 有效期至 (1.0: 许可截止期)
    ValidTo,
    /// 当前状态
    LicenceStatus,
    // 失信被执行人
    /// 立案时间
    FiledOn,
    /// 执行依据文号
    BasisDoc,
    /// 生效法律文书确定的义务
    Obligation,
    /// 被执行人的履行情况
    Performance,
    /// 失信被执行人行为具体情形
    Conduct,
    // 名单
    /// 名单类别
    ListType,
    /// 名单名称
    ListName,
    /// 列入事由
    Reason,
    /// 移出日期
    RemovedOn,
    /// 移出事由
    RemovalReason,
    // Other categories
    /// 信息内容
    Title,
    /// A known column that creditloop does not store (1.0 地方编码, 数据更新时间戳, 处罚生效期).
    Unused,
    /// The columns a rejects file adds (错误行号, 错误字段, 错误原因, error_reason): ignored on import.
    Ignored,
}

/// What kind of value a field holds; readers of typed formats (XLSX) format cells by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// Free text.
    Text,
    /// An identifier (统一社会信用代码, 证件号码 …): a spreadsheet number here has lost digits.
    Identifier,
    /// A date.
    Date,
    /// An amount (万元).
    Amount,
}

impl Field {
    /// Number of fields.
    pub const COUNT: usize = Field::Ignored as usize + 1;

    /// Every field, in declaration order.
    pub const ALL: [Field; Field::COUNT] = [
        Field::SubjectName,
        Field::CounterpartKind,
        Field::Uscc,
        Field::RegNo,
        Field::OrgCode,
        Field::TaxNo,
        Field::InstitutionCert,
        Field::SocialOrgCert,
        Field::LegalRep,
        Field::LegalRepIdType,
        Field::LegalRepIdNo,
        Field::IdType,
        Field::IdNo,
        Field::Persons,
        Field::SubjectKind,
        Field::Category,
        Field::Nature,
        Field::Severity,
        Field::PublicityUntil,
        Field::SubmittedOn,
        Field::SourceUnit,
        Field::SourceUnitCode,
        Field::Remarks,
        Field::DocNo,
        Field::ViolationType,
        Field::ViolationFacts,
        Field::LegalBasis,
        Field::PenaltyKinds,
        Field::PenaltyKinds2,
        Field::Content,
        Field::FineWan,
        Field::ConfiscatedWan,
        Field::LicenceAffected,
        Field::DecisionDate,
        Field::ValidUntil,
        Field::Authority,
        Field::AuthorityCode,
        Field::DocumentName,
        Field::LicenceKind,
        Field::CertificateName,
        Field::LicenceNo,
        Field::ValidFrom,
        Field::ValidTo,
        Field::LicenceStatus,
        Field::FiledOn,
        Field::BasisDoc,
        Field::Obligation,
        Field::Performance,
        Field::Conduct,
        Field::ListType,
        Field::ListName,
        Field::Reason,
        Field::RemovedOn,
        Field::RemovalReason,
        Field::Title,
        Field::Unused,
        Field::Ignored,
    ];

    /// The English name (used by the JSON API and JSON Lines).
    pub fn code(self) -> &'static str {
        match self {
            Field::SubjectName => "subject_name",
            Field::CounterpartKind => "counterpart_kind",
            Field::Uscc => "uscc",
            Field::RegNo => "reg_no",
            Field::OrgCode => "org_code",
            Field::TaxNo => "tax_no",
            Field::InstitutionCert => "institution_cert",
            Field::SocialOrgCert => "social_org_cert",
            Field::LegalRep => "legal_rep",
            Field::LegalRepIdType => "legal_rep_id_type",
            Field::LegalRepIdNo => "legal_rep_id_no",
            Field::IdType => "id_type",
            Field::IdNo => "id_no",
            Field::Persons => "persons",
            Field::SubjectKind => "subject_kind",
            Field::Category => "category",
            Field::Nature => "nature",
            Field::Severity => "severity",
            Field::PublicityUntil => "publicity_until",
            Field::SubmittedOn => "submitted_on",
            Field::SourceUnit => "source_unit",
            Field::SourceUnitCode => "source_unit_code",
            Field::Remarks => "remarks",
            Field::DocNo => "doc_no",
            Field::ViolationType => "violation_type",
            Field::ViolationFacts => "violation_facts",
            Field::LegalBasis => "legal_basis",
            Field::PenaltyKinds => "penalty_kinds",
            Field::PenaltyKinds2 => "penalty_kinds_2",
            Field::Content => "content",
            Field::FineWan => "fine_wan",
            Field::ConfiscatedWan => "confiscated_wan",
            Field::LicenceAffected => "licence_affected",
            Field::DecisionDate => "decision_date",
            Field::ValidUntil => "valid_until",
            Field::Authority => "authority",
            Field::AuthorityCode => "authority_code",
            Field::DocumentName => "document_name",
            Field::LicenceKind => "licence_kind",
            Field::CertificateName => "certificate_name",
            Field::LicenceNo => "licence_no",
            Field::ValidFrom => "valid_from",
            Field::ValidTo => "valid_to",
            Field::LicenceStatus => "licence_status",
            Field::FiledOn => "filed_on",
            Field::BasisDoc => "basis_doc",
            Field::Obligation => "obligation",
            Field::Performance => "performance",
            Field::Conduct => "conduct",
            Field::ListType => "list_type",
            Field::ListName => "list_name",
            Field::Reason => "reason",
            Field::RemovedOn => "removed_on",
            Field::RemovalReason => "removal_reason",
            Field::Title => "title",
            Field::Unused => "unused",
            Field::Ignored => "ignored",
        }
    }

    /// The Chinese column name used in messages when the file has no such column (for fields that
    /// several categories name differently, the name of the category at hand: see
    /// [`Field::zh_for`]).
    pub fn zh(self) -> &'static str {
        match self {
            Field::SubjectName => "行政相对人名称",
            Field::CounterpartKind => "行政相对人类别",
            Field::Uscc => "行政相对人代码_1(统一社会信用代码)",
            Field::RegNo => "行政相对人代码_2(工商注册号)",
            Field::OrgCode => "行政相对人代码_3(组织机构代码)",
            Field::TaxNo => "行政相对人代码_4(税务登记号)",
            Field::InstitutionCert => "行政相对人代码_5(事业单位证书号)",
            Field::SocialOrgCert => "行政相对人代码_6(社会组织登记证号)",
            Field::LegalRep => "法定代表人",
            Field::LegalRepIdType => "法定代表人证件类型",
            Field::LegalRepIdNo => "法定代表人证件号码",
            Field::IdType => "证件类型",
            Field::IdNo => "证件号码",
            Field::Persons => "关联人员",
            Field::SubjectKind => "主体类型",
            Field::Category => "信息类别",
            Field::Nature => "信息性质",
            Field::Severity => "严重程度",
            Field::PublicityUntil => "公示截止期",
            Field::SubmittedOn => "报送日期",
            Field::SourceUnit => "数据来源单位",
            Field::SourceUnitCode => "数据来源单位统一社会信用代码",
            Field::Remarks => "备注",
            Field::DocNo => "文书号",
            Field::ViolationType => "违法行为类型",
            Field::ViolationFacts => "违法事实",
            Field::LegalBasis => "处罚依据",
            Field::PenaltyKinds => "处罚类别",
            Field::PenaltyKinds2 => "处罚类别2",
            Field::Content => "内容",
            Field::FineWan => "罚款金额(万元)",
            Field::ConfiscatedWan => "没收违法所得、没收非法财物的金额(万元)",
            Field::LicenceAffected => "暂扣或吊销证照名称及编号",
            Field::DecisionDate => "决定日期",
            Field::ValidUntil => "处罚有效期",
            Field::Authority => "决定机关",
            Field::AuthorityCode => "决定机关统一社会信用代码",
            Field::DocumentName => "行政许可决定文书名称",
            Field::LicenceKind => "许可类别",
            Field::CertificateName => "许可证书名称",
            Field::LicenceNo => "许可编号",
            Field::ValidFrom => "有效期自",
            Field::ValidTo => "有效期至",
            Field::LicenceStatus => "当前状态",
            Field::FiledOn => "立案时间",
            Field::BasisDoc => "执行依据文号",
            Field::Obligation => "生效法律文书确定的义务",
            Field::Performance => "被执行人的履行情况",
            Field::Conduct => "失信被执行人行为具体情形",
            Field::ListType => "名单类别",
            Field::ListName => "名单名称",
            Field::Reason => "列入事由",
            Field::RemovedOn => "移出日期",
            Field::RemovalReason => "移出事由",
            Field::Title => "信息内容",
            Field::Unused => "未使用",
            Field::Ignored => "忽略",
        }
    }

    /// The Chinese column name of this field for records of `category` (行政处罚决定书文号 for a
    /// penalty's document number, 案号 for a court's, …).
    pub fn zh_for(self, category: Option<Category>) -> &'static str {
        use Category as C;
        match (self, category) {
            (Field::DocNo, Some(C::Penalty)) => "行政处罚决定书文号",
            (Field::DocNo, Some(C::Licence)) => "行政许可决定文书号",
            (Field::DocNo, Some(C::DishonestDebtor)) => "案号",
            (Field::DocNo, Some(c)) if is_named_list(c) => "认定文书号",
            (Field::DecisionDate, Some(C::Penalty)) => "处罚决定日期",
            (Field::DecisionDate, Some(C::Licence)) => "许可决定日期",
            (Field::DecisionDate, Some(C::DishonestDebtor)) => "发布时间",
            (Field::DecisionDate, Some(c)) if is_named_list(c) => "列入日期",
            (Field::Authority, Some(C::Penalty)) => "处罚机关",
            (Field::Authority, Some(C::Licence)) => "许可机关",
            (Field::Authority, Some(C::DishonestDebtor)) => "执行法院",
            (Field::Authority, Some(c)) if is_named_list(c) => "认定机关",
            (Field::AuthorityCode, Some(C::Penalty)) => "处罚机关统一社会信用代码",
            (Field::AuthorityCode, Some(C::Licence)) => "许可机关统一社会信用代码",
            (Field::AuthorityCode, Some(C::DishonestDebtor)) => "执行法院统一社会信用代码",
            (Field::AuthorityCode, Some(c)) if is_named_list(c) => "认定机关统一社会信用代码",
            (Field::Content, Some(C::Penalty)) => "处罚内容",
            (Field::Content, Some(C::Licence)) => "许可内容",
            (Field::SubjectName, Some(C::DishonestDebtor)) => "被执行人姓名/名称",
            (Field::LegalRep, Some(C::DishonestDebtor)) => "法定代表人或负责人",
            (f, _) => f.zh(),
        }
    }

    /// The kind of value the field holds.
    pub fn kind(self) -> FieldKind {
        match self {
            Field::Uscc
            | Field::RegNo
            | Field::OrgCode
            | Field::TaxNo
            | Field::InstitutionCert
            | Field::SocialOrgCert
            | Field::LegalRepIdNo
            | Field::IdNo
            | Field::SourceUnitCode
            | Field::AuthorityCode => FieldKind::Identifier,
            Field::PublicityUntil
            | Field::SubmittedOn
            | Field::DecisionDate
            | Field::ValidUntil
            | Field::ValidFrom
            | Field::ValidTo
            | Field::FiledOn
            | Field::RemovedOn => FieldKind::Date,
            Field::FineWan | Field::ConfiscatedWan => FieldKind::Amount,
            _ => FieldKind::Text,
        }
    }
}

/// The three lists that share the list columns (名单类别 …).
fn is_named_list(c: Category) -> bool {
    matches!(
        c,
        Category::SeriousDishonestList | Category::AbnormalOperation | Category::RedList
    )
}

/// Version of the 双公示 field standard a file follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum StandardVersion {
    /// The 2016 version 1.0 (处罚名称, 处罚类别1/2, 处罚事由, 处罚结果 …; 行政相对人代码_2 is the
    /// organisation code and _3 the registration number).
    V1,
    /// The current version 2.0.
    V2,
}

impl StandardVersion {
    /// Accepts `1`, `1.0`, `v1`, `2`, `2.0`, `v2`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "1" | "1.0" | "v1" | "v1.0" => Some(StandardVersion::V1),
            "2" | "2.0" | "v2" | "v2.0" => Some(StandardVersion::V2),
            _ => None,
        }
    }
}

/// What a column name maps to: a field, or one of two fields depending on the standard's version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    F(Field),
    ByVersion { v2: Field, v1: Field },
}

#[derive(Debug, Clone, Copy)]
struct Known {
    target: Target,
    /// The category the column implies (行政处罚决定书文号 → penalty).
    hint: Option<Category>,
    /// Only the 1.0 standard has this column: its presence marks a 1.0 file.
    v1_only: bool,
}

/// (name, field, category hint, 1.0 only). Names are normalised by [`normalize_header`] when the
/// table is built, so they can be written as the standard writes them.
const TABLE: &[(&str, Field, Option<Category>, bool)] = {
    use Category as C;
    use Field as F;
    &[
        // Subject
        ("行政相对人名称", F::SubjectName, None, false),
        ("主体名称", F::SubjectName, None, false),
        ("被执行人姓名/名称", F::SubjectName, None, false),
        ("被执行人姓名", F::SubjectName, None, false),
        ("被执行人名称", F::SubjectName, None, false),
        ("subject_name", F::SubjectName, None, false),
        ("行政相对人类别", F::CounterpartKind, None, false),
        ("主体类别", F::CounterpartKind, None, false),
        ("counterpart_kind", F::CounterpartKind, None, false),
        ("行政相对人代码_1(统一社会信用代码)", F::Uscc, None, false),
        ("行政相对人代码_1", F::Uscc, None, false),
        ("统一社会信用代码", F::Uscc, None, false),
        ("uscc", F::Uscc, None, false),
        ("行政相对人代码_2(工商注册号)", F::RegNo, None, false),
        ("行政相对人代码_3(工商登记码)", F::RegNo, None, false),
        ("行政相对人代码_3(工商注册号)", F::RegNo, None, false),
        ("工商注册号", F::RegNo, None, false),
        ("工商登记码", F::RegNo, None, false),
        ("reg_no", F::RegNo, None, false),
        ("行政相对人代码_3(组织机构代码)", F::OrgCode, None, false),
        ("行政相对人代码_2(组织机构代码)", F::OrgCode, None, false),
        ("组织机构代码", F::OrgCode, None, false),
        ("org_code", F::OrgCode, None, false),
        ("行政相对人代码_4(税务登记号)", F::TaxNo, None, false),
        ("行政相对人代码_4", F::TaxNo, None, false),
        ("税务登记号", F::TaxNo, None, false),
        ("tax_no", F::TaxNo, None, false),
        (
            "行政相对人代码_5(事业单位证书号)",
            F::InstitutionCert,
            None,
            false,
        ),
        ("事业单位证书号", F::InstitutionCert, None, false),
        ("institution_cert", F::InstitutionCert, None, false),
        ("行政相对人代码_5(居民身份证号)", F::IdNo, None, false),
        ("居民身份证号", F::IdNo, None, false),
        (
            "行政相对人代码_6(社会组织登记证号)",
            F::SocialOrgCert,
            None,
            false,
        ),
        ("行政相对人代码_6", F::SocialOrgCert, None, false),
        ("社会组织登记证号", F::SocialOrgCert, None, false),
        ("social_org_cert", F::SocialOrgCert, None, false),
        ("法定代表人", F::LegalRep, None, false),
        ("法定代表人或负责人", F::LegalRep, None, false),
        ("法定代表人姓名", F::LegalRep, None, false),
        ("legal_rep", F::LegalRep, None, false),
        ("法定代表人证件类型", F::LegalRepIdType, None, false),
        ("legal_rep_id_type", F::LegalRepIdType, None, false),
        ("法定代表人证件号码", F::LegalRepIdNo, None, false),
        ("法定代表人身份证号", F::LegalRepIdNo, None, false),
        ("legal_rep_id_no", F::LegalRepIdNo, None, false),
        ("证件类型", F::IdType, None, false),
        ("id_type", F::IdType, None, false),
        ("证件号码", F::IdNo, None, false),
        ("id_no", F::IdNo, None, false),
        ("关联人员", F::Persons, None, false),
        ("persons", F::Persons, None, false),
        ("主体类型", F::SubjectKind, None, false),
        ("subject_kind", F::SubjectKind, None, false),
        // Common
        ("信息类别", F::Category, None, false),
        ("category", F::Category, None, false),
        ("信息性质", F::Nature, None, false),
        ("nature", F::Nature, None, false),
        ("严重程度", F::Severity, None, false),
        ("失信严重程度", F::Severity, None, false),
        ("severity", F::Severity, None, false),
        ("公示截止期", F::PublicityUntil, None, false),
        ("publicity_until", F::PublicityUntil, None, false),
        ("报送日期", F::SubmittedOn, None, false),
        ("submitted_on", F::SubmittedOn, None, false),
        ("数据来源单位", F::SourceUnit, None, false),
        ("source_unit", F::SourceUnit, None, false),
        (
            "数据来源单位统一社会信用代码",
            F::SourceUnitCode,
            None,
            false,
        ),
        ("source_unit_code", F::SourceUnitCode, None, false),
        ("备注", F::Remarks, None, false),
        ("remarks", F::Remarks, None, false),
        // 行政处罚
        ("行政处罚决定书文号", F::DocNo, Some(C::Penalty), false),
        ("doc_no", F::DocNo, None, false),
        ("违法行为类型", F::ViolationType, Some(C::Penalty), false),
        ("violation_type", F::ViolationType, Some(C::Penalty), false),
        ("处罚名称", F::ViolationType, Some(C::Penalty), true),
        ("违法事实", F::ViolationFacts, Some(C::Penalty), false),
        (
            "violation_facts",
            F::ViolationFacts,
            Some(C::Penalty),
            false,
        ),
        ("处罚事由", F::ViolationFacts, Some(C::Penalty), true),
        ("处罚依据", F::LegalBasis, Some(C::Penalty), false),
        ("legal_basis", F::LegalBasis, Some(C::Penalty), false),
        ("处罚类别", F::PenaltyKinds, Some(C::Penalty), false),
        ("penalty_kinds", F::PenaltyKinds, Some(C::Penalty), false),
        ("处罚类别1", F::PenaltyKinds, Some(C::Penalty), true),
        ("处罚类别2", F::PenaltyKinds2, Some(C::Penalty), true),
        ("处罚内容", F::Content, Some(C::Penalty), false),
        ("content", F::Content, None, false),
        ("处罚结果", F::Content, Some(C::Penalty), true),
        ("罚款金额(万元)", F::FineWan, Some(C::Penalty), false),
        ("罚款金额", F::FineWan, Some(C::Penalty), false),
        ("fine_wan", F::FineWan, Some(C::Penalty), false),
        (
            "没收违法所得、没收非法财物的金额(万元)",
            F::ConfiscatedWan,
            Some(C::Penalty),
            false,
        ),
        (
            "没收违法所得、没收非法财物的金额",
            F::ConfiscatedWan,
            Some(C::Penalty),
            false,
        ),
        (
            "confiscated_wan",
            F::ConfiscatedWan,
            Some(C::Penalty),
            false,
        ),
        (
            "暂扣或吊销证照名称及编号",
            F::LicenceAffected,
            Some(C::Penalty),
            false,
        ),
        (
            "licence_affected",
            F::LicenceAffected,
            Some(C::Penalty),
            false,
        ),
        ("处罚决定日期", F::DecisionDate, Some(C::Penalty), false),
        ("decision_date", F::DecisionDate, None, false),
        ("处罚有效期", F::ValidUntil, Some(C::Penalty), false),
        ("处罚截止期", F::ValidUntil, Some(C::Penalty), true),
        ("valid_until", F::ValidUntil, None, false),
        ("处罚生效期", F::Unused, Some(C::Penalty), true),
        ("处罚机关", F::Authority, Some(C::Penalty), false),
        ("authority", F::Authority, None, false),
        (
            "处罚机关统一社会信用代码",
            F::AuthorityCode,
            Some(C::Penalty),
            false,
        ),
        ("authority_code", F::AuthorityCode, None, false),
        // 行政许可
        (
            "行政许可决定文书名称",
            F::DocumentName,
            Some(C::Licence),
            false,
        ),
        ("document_name", F::DocumentName, Some(C::Licence), false),
        ("项目名称", F::DocumentName, Some(C::Licence), true),
        ("行政许可决定文书号", F::DocNo, Some(C::Licence), false),
        ("行政许可决定书文号", F::DocNo, Some(C::Licence), true),
        ("许可类别", F::LicenceKind, Some(C::Licence), false),
        ("licence_kind", F::LicenceKind, Some(C::Licence), false),
        ("审批类别", F::LicenceKind, Some(C::Licence), true),
        ("许可证书名称", F::CertificateName, Some(C::Licence), false),
        (
            "certificate_name",
            F::CertificateName,
            Some(C::Licence),
            false,
        ),
        ("许可编号", F::LicenceNo, Some(C::Licence), false),
        ("licence_no", F::LicenceNo, Some(C::Licence), false),
        ("许可内容", F::Content, Some(C::Licence), false),
        ("许可决定日期", F::DecisionDate, Some(C::Licence), false),
        ("有效期自", F::ValidFrom, Some(C::Licence), false),
        ("valid_from", F::ValidFrom, Some(C::Licence), false),
        ("许可生效期", F::ValidFrom, Some(C::Licence), true),
        ("有效期至", F::ValidTo, None, false),
        ("valid_to", F::ValidTo, None, false),
        ("许可截止期", F::ValidTo, Some(C::Licence), true),
        ("许可机关", F::Authority, Some(C::Licence), false),
        (
            "许可机关统一社会信用代码",
            F::AuthorityCode,
            Some(C::Licence),
            false,
        ),
        ("当前状态", F::LicenceStatus, None, false),
        ("licence_status", F::LicenceStatus, None, false),
        // 失信被执行人
        ("执行法院", F::Authority, None, false),
        ("court", F::Authority, None, false),
        (
            "执行法院统一社会信用代码",
            F::AuthorityCode,
            Some(C::DishonestDebtor),
            false,
        ),
        ("案号", F::DocNo, None, false),
        ("立案时间", F::FiledOn, Some(C::DishonestDebtor), false),
        ("filed_on", F::FiledOn, Some(C::DishonestDebtor), false),
        ("执行依据文号", F::BasisDoc, Some(C::DishonestDebtor), false),
        ("basis_doc", F::BasisDoc, Some(C::DishonestDebtor), false),
        (
            "生效法律文书确定的义务",
            F::Obligation,
            Some(C::DishonestDebtor),
            false,
        ),
        ("obligation", F::Obligation, Some(C::DishonestDebtor), false),
        (
            "被执行人的履行情况",
            F::Performance,
            Some(C::DishonestDebtor),
            false,
        ),
        (
            "performance",
            F::Performance,
            Some(C::DishonestDebtor),
            false,
        ),
        (
            "失信被执行人行为具体情形",
            F::Conduct,
            Some(C::DishonestDebtor),
            false,
        ),
        ("conduct", F::Conduct, Some(C::DishonestDebtor), false),
        ("发布时间", F::DecisionDate, Some(C::DishonestDebtor), false),
        // 名单
        ("名单类别", F::ListType, None, false),
        ("list_type", F::ListType, None, false),
        ("名单名称", F::ListName, None, false),
        ("list_name", F::ListName, None, false),
        ("列入事由", F::Reason, None, false),
        ("reason", F::Reason, None, false),
        ("认定机关", F::Authority, None, false),
        ("认定机关统一社会信用代码", F::AuthorityCode, None, false),
        ("认定文书号", F::DocNo, None, false),
        ("列入日期", F::DecisionDate, None, false),
        ("移出日期", F::RemovedOn, None, false),
        ("removed_on", F::RemovedOn, None, false),
        ("移出事由", F::RemovalReason, None, false),
        ("removal_reason", F::RemovalReason, None, false),
        // Other categories
        ("文书号", F::DocNo, None, false),
        ("信息内容", F::Title, None, false),
        ("title", F::Title, None, false),
        ("决定日期", F::DecisionDate, None, false),
        ("决定机关", F::Authority, None, false),
        ("决定机关统一社会信用代码", F::AuthorityCode, None, false),
        // 1.0 columns creditloop does not store
        ("地方编码", F::Unused, None, true),
        ("数据更新时间戳", F::Unused, None, true),
        // A rejects file's own columns
        ("错误行号", F::Ignored, None, false),
        ("错误字段", F::Ignored, None, false),
        ("错误原因", F::Ignored, None, false),
        ("error_reason", F::Ignored, None, false),
    ]
};

static LOOKUP: LazyLock<HashMap<String, Known>> = LazyLock::new(|| {
    let mut m = HashMap::new();
    for &(name, field, hint, v1_only) in TABLE {
        m.insert(
            normalize_header(name),
            Known {
                target: Target::F(field),
                hint,
                v1_only,
            },
        );
    }
    // The bare codes _2, _3 and _5 mean different things in 1.0 and 2.0.
    for (name, v2, v1) in [
        ("行政相对人代码_2", Field::RegNo, Field::OrgCode),
        ("行政相对人代码_3", Field::OrgCode, Field::RegNo),
        ("行政相对人代码_5", Field::InstitutionCert, Field::IdNo),
    ] {
        m.insert(
            normalize_header(name),
            Known {
                target: Target::ByVersion { v2, v1 },
                hint: None,
                v1_only: false,
            },
        );
    }
    m
});

/// Normalises a column name for matching: trims; removes every space (including the ideographic
/// space U+3000 and NBSP) and zero-width character; turns full-width ASCII forms (brackets `（）`,
/// colon `：`, underscore `＿` …) and the brackets `【】` into half-width ones; lower-cases English;
/// drops the `*` that templates put on required columns.
pub fn normalize_header(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_whitespace() || matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}') {
            continue;
        }
        let c = match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
            '【' => '[',
            '】' => ']',
            _ => c,
        };
        if c == '*' {
            continue;
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// Looks a normalised column name up: exact, then (for names with a parenthesised part such as
/// `处罚机关(全称)`) the part before the bracket, then the part inside it. Amounts are matched exactly
/// only, so that `罚款金额(元)` is never read as 万元.
fn lookup(norm: &str) -> Option<Known> {
    if let Some(k) = LOOKUP.get(norm) {
        return Some(*k);
    }
    let open = norm.find(['(', '['])?;
    let close = norm.rfind([')', ']'])?;
    if close <= open {
        return None;
    }
    let before = &norm[..open];
    let inside = &norm[open + 1..close];
    for part in [before, inside] {
        if let Some(k) = LOOKUP.get(part) {
            let is_amount = match k.target {
                Target::F(f) => f.kind() == FieldKind::Amount,
                Target::ByVersion { .. } => false,
            };
            if !is_amount {
                return Some(*k);
            }
        }
    }
    None
}

/// Whether a column name (as given) is one creditloop knows; used to find the header row.
pub fn is_known_column(name: &str) -> bool {
    let n = normalize_header(name);
    !n.is_empty() && lookup(&n).is_some()
}

/// The field a column name maps to in a file of the given version (for the version-dependent
/// codes `行政相对人代码_2/_3/_5`, 2.0 when `None`).
pub fn field_for(name: &str, version: Option<StandardVersion>) -> Option<Field> {
    let k = lookup(&normalize_header(name))?;
    Some(resolve_target(
        k.target,
        version.unwrap_or(StandardVersion::V2),
    ))
}

fn resolve_target(t: Target, v: StandardVersion) -> Field {
    match (t, v) {
        (Target::F(f), _) => f,
        (Target::ByVersion { v2, .. }, StandardVersion::V2) => v2,
        (Target::ByVersion { v1, .. }, StandardVersion::V1) => v1,
    }
}

const NONE: u16 = u16::MAX;

/// Where each field is in one file: resolved once per file (or per distinct key set for JSON
/// Lines), so validating a row does no name look-up.
#[derive(Debug, Clone)]
pub struct Layout {
    headers: Vec<String>,
    columns: Vec<Option<Field>>,
    first: [u16; Field::COUNT],
    /// Further columns naming a field already seen (`罚款金额(万元)` beside `罚款金额（万元）`).
    more: Vec<(Field, u16)>,
    version: StandardVersion,
    hint: Option<Category>,
    unknown: Vec<String>,
}

impl Layout {
    /// Resolves the columns of a file. `version` forces the standard's version; otherwise a file
    /// with any 1.0-only column (处罚名称, 处罚类别1 …) is read as 1.0.
    pub fn resolve<S: AsRef<str>>(headers: &[S], version: Option<StandardVersion>) -> Layout {
        let known: Vec<Option<Known>> = headers
            .iter()
            .map(|h| {
                let n = normalize_header(h.as_ref());
                if n.is_empty() { None } else { lookup(&n) }
            })
            .collect();
        let version = version.unwrap_or_else(|| {
            if known.iter().flatten().any(|k| k.v1_only) {
                StandardVersion::V1
            } else {
                StandardVersion::V2
            }
        });
        let mut first = [NONE; Field::COUNT];
        let mut more = Vec::new();
        let mut columns = Vec::with_capacity(headers.len());
        let mut unknown = Vec::new();
        let mut hints: Vec<Category> = Vec::new();
        let mut doc_hint = None;
        for (i, (h, k)) in headers.iter().zip(&known).enumerate() {
            let field = k.map(|k| resolve_target(k.target, version));
            columns.push(field);
            match (field, k) {
                (Some(f), Some(k)) => {
                    let idx = u16::try_from(i).unwrap_or(NONE - 1);
                    if first[f as usize] == NONE {
                        first[f as usize] = idx;
                    } else {
                        more.push((f, idx));
                    }
                    if let Some(c) = k.hint {
                        if f == Field::DocNo {
                            doc_hint = Some(c);
                        }
                        if !hints.contains(&c) {
                            hints.push(c);
                        }
                    }
                }
                _ => {
                    let name = h.as_ref().trim();
                    if !name.is_empty() && !unknown.iter().any(|u: &String| u == name) {
                        unknown.push(name.to_string());
                    }
                }
            }
        }
        let has = |f: Field| first[f as usize] != NONE;
        let court_case = has(Field::DocNo)
            && headers.iter().zip(&columns).any(|(h, f)| {
                *f == Some(Field::Authority) && normalize_header(h.as_ref()) == "执行法院"
            })
            && headers
                .iter()
                .zip(&columns)
                .any(|(h, f)| *f == Some(Field::DocNo) && normalize_header(h.as_ref()) == "案号");
        let hint = if let Some(c) = doc_hint {
            Some(c)
        } else if court_case {
            Some(Category::DishonestDebtor)
        } else if hints.len() == 1 {
            hints.first().copied()
        } else {
            None
        };
        Layout {
            headers: headers.iter().map(|h| h.as_ref().to_string()).collect(),
            columns,
            first,
            more,
            version,
            hint,
            unknown,
        }
    }

    /// The headers as given.
    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    /// The field of column `i`.
    pub fn field(&self, i: usize) -> Option<Field> {
        self.columns.get(i).copied().flatten()
    }

    /// The first column holding `f`.
    pub fn column(&self, f: Field) -> Option<usize> {
        match self.first[f as usize] {
            NONE => None,
            i => Some(usize::from(i)),
        }
    }

    /// Further columns holding `f` (rare: the same field under two spellings).
    pub(crate) fn more_columns(&self, f: Field) -> impl Iterator<Item = usize> + '_ {
        self.more
            .iter()
            .filter(move |(g, _)| *g == f)
            .map(|(_, i)| usize::from(*i))
    }

    /// Whether the file has a column for `f`.
    pub fn has(&self, f: Field) -> bool {
        self.first[f as usize] != NONE
    }

    /// The header of the first column holding `f`.
    pub fn header_of(&self, f: Field) -> Option<&str> {
        self.column(f)
            .and_then(|i| self.headers.get(i))
            .map(String::as_str)
    }

    /// The standard's version the file is read as.
    pub fn version(&self) -> StandardVersion {
        self.version
    }

    /// The category the columns imply, if they imply exactly one.
    pub fn category_hint(&self) -> Option<Category> {
        self.hint
    }

    /// Column names that map to no field, in order (reported once per file).
    pub fn unknown_columns(&self) -> &[String] {
        &self.unknown
    }

    /// Whether this layout was resolved from exactly these headers.
    pub fn matches(&self, fields: &[(std::sync::Arc<str>, String)]) -> bool {
        self.headers.len() == fields.len()
            && self
                .headers
                .iter()
                .zip(fields)
                .all(|(h, (fh, _))| **h == **fh)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_normalise() {
        assert_eq!(normalize_header(" 罚款金额（万元） "), "罚款金额(万元)");
        assert_eq!(normalize_header("罚款金额 (万元)"), "罚款金额(万元)");
        assert_eq!(normalize_header("*行政相对人名称"), "行政相对人名称");
        assert_eq!(normalize_header("Subject_Name\u{00A0}"), "subject_name");
        assert_eq!(
            normalize_header("行政相对人代码＿１（统一社会信用代码）"),
            "行政相对人代码_1(统一社会信用代码)"
        );
    }

    #[test]
    fn every_table_name_resolves() {
        for &(name, field, _, _) in TABLE {
            assert_eq!(field_for(name, None), Some(field), "{name}");
        }
        for f in Field::ALL {
            if !matches!(f, Field::Unused | Field::Ignored | Field::PenaltyKinds2) {
                assert_eq!(field_for(f.code(), None), Some(f), "{f:?}");
            }
        }
    }

    #[test]
    fn brackets_and_fallbacks() {
        assert_eq!(field_for("罚款金额(万元)", None), Some(Field::FineWan));
        assert_eq!(field_for("罚款金额（万元）", None), Some(Field::FineWan));
        assert_eq!(field_for("处罚机关（全称）", None), Some(Field::Authority));
        assert_eq!(field_for("罚款金额(元)", None), None);
        assert_eq!(field_for("某某列", None), None);
    }

    #[test]
    fn version_swaps_codes_2_and_3() {
        let v1 = Layout::resolve(
            &[
                "行政相对人名称",
                "处罚名称",
                "行政相对人代码_2",
                "行政相对人代码_3",
            ],
            None,
        );
        assert_eq!(v1.version(), StandardVersion::V1);
        assert_eq!(v1.field(2), Some(Field::OrgCode));
        assert_eq!(v1.field(3), Some(Field::RegNo));
        let v2 = Layout::resolve(
            &[
                "行政相对人名称",
                "违法行为类型",
                "行政相对人代码_2",
                "行政相对人代码_3",
            ],
            None,
        );
        assert_eq!(v2.version(), StandardVersion::V2);
        assert_eq!(v2.field(2), Some(Field::RegNo));
        assert_eq!(v2.field(3), Some(Field::OrgCode));
        let forced = Layout::resolve(&["行政相对人代码_2"], Some(StandardVersion::V1));
        assert_eq!(forced.field(0), Some(Field::OrgCode));
    }

    #[test]
    fn category_hints() {
        let l = Layout::resolve(&["行政处罚决定书文号", "许可内容", "x"], None);
        assert_eq!(l.category_hint(), Some(Category::Penalty));
        assert_eq!(l.unknown_columns(), ["x".to_string()]);
        let l = Layout::resolve(&["案号", "执行法院", "被执行人姓名/名称"], None);
        assert_eq!(l.category_hint(), Some(Category::DishonestDebtor));
        let l = Layout::resolve(&["文书号", "信息内容"], None);
        assert_eq!(l.category_hint(), None);
        let l = Layout::resolve(&["错误行号", "错误原因", "", ""], None);
        assert!(l.unknown_columns().is_empty());
    }
}
