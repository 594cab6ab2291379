//! Subjects (市场主体 / 自然人) and the persons linked to them.

use serde::{Deserialize, Serialize};

use crate::ids::{OrgCode, RegistrationNumber, Uscc};
use crate::pii::PersonId;

/// The kinds of subject of DESIGN.md §3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    /// 企业
    Enterprise,
    /// 个体工商户
    IndividualBusiness,
    /// 农民专业合作社
    FarmerCooperative,
    /// 律师事务所
    LawFirm,
    /// 社会组织 (社会团体、民办非企业单位、基金会)
    SocialOrganisation,
    /// 事业单位
    PublicInstitution,
    /// 机关
    GovernmentBody,
    /// 自然人
    NaturalPerson,
    /// 其他组织
    Other,
}

impl SubjectKind {
    pub const ALL: [SubjectKind; 9] = [
        SubjectKind::Enterprise,
        SubjectKind::IndividualBusiness,
        SubjectKind::FarmerCooperative,
        SubjectKind::LawFirm,
        SubjectKind::SocialOrganisation,
        SubjectKind::PublicInstitution,
        SubjectKind::GovernmentBody,
        SubjectKind::NaturalPerson,
        SubjectKind::Other,
    ];

    pub fn code(self) -> &'static str {
        match self {
            SubjectKind::Enterprise => "enterprise",
            SubjectKind::IndividualBusiness => "individual_business",
            SubjectKind::FarmerCooperative => "farmer_cooperative",
            SubjectKind::LawFirm => "law_firm",
            SubjectKind::SocialOrganisation => "social_organisation",
            SubjectKind::PublicInstitution => "public_institution",
            SubjectKind::GovernmentBody => "government_body",
            SubjectKind::NaturalPerson => "natural_person",
            SubjectKind::Other => "other",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            SubjectKind::Enterprise => "企业",
            SubjectKind::IndividualBusiness => "个体工商户",
            SubjectKind::FarmerCooperative => "农民专业合作社",
            SubjectKind::LawFirm => "律师事务所",
            SubjectKind::SocialOrganisation => "社会组织",
            SubjectKind::PublicInstitution => "事业单位",
            SubjectKind::GovernmentBody => "机关",
            SubjectKind::NaturalPerson => "自然人",
            SubjectKind::Other => "其他组织",
        }
    }

    pub fn from_code(s: &str) -> Option<Self> {
        SubjectKind::ALL
            .into_iter()
            .find(|k| k.code() == s || k.zh() == s)
    }

    /// The kind a unified social credit code implies (positions 1–2).
    pub fn from_uscc(code: &Uscc) -> Self {
        match code.entity_kind_code() {
            "91" => SubjectKind::Enterprise,
            "92" => SubjectKind::IndividualBusiness,
            "93" => SubjectKind::FarmerCooperative,
            "31" => SubjectKind::LawFirm,
            "51" | "52" | "53" | "59" => SubjectKind::SocialOrganisation,
            "12" => SubjectKind::PublicInstitution,
            "11" => SubjectKind::GovernmentBody,
            _ => SubjectKind::Other,
        }
    }
}

/// 行政相对人类别 as the 双公示 standard names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CounterpartKind {
    /// 法人及非法人组织
    Organisation,
    /// 自然人
    NaturalPerson,
    /// 个体工商户
    IndividualBusiness,
}

impl CounterpartKind {
    pub fn zh(self) -> &'static str {
        match self {
            CounterpartKind::Organisation => "法人及非法人组织",
            CounterpartKind::NaturalPerson => "自然人",
            CounterpartKind::IndividualBusiness => "个体工商户",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "法人及非法人组织"
            | "法人和非法人组织"
            | "法人"
            | "非法人组织"
            | "organisation"
            | "organization"
            | "legal_person" => CounterpartKind::Organisation,
            "自然人" | "natural_person" | "person" => CounterpartKind::NaturalPerson,
            "个体工商户" | "individual_business" => CounterpartKind::IndividualBusiness,
            _ => return None,
        })
    }
}

/// The codes a subject is known by. `uscc` is primary; the others are secondary identifiers older
/// systems still send (行政相对人代码_2 … _6).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectCodes {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uscc: Option<Uscc>,
    /// 工商注册号
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reg_no: Option<RegistrationNumber>,
    /// 组织机构代码
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org_code: Option<OrgCode>,
    /// 税务登记号
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax_no: Option<String>,
    /// 事业单位证书号
    #[serde(skip_serializing_if = "Option::is_none")]
    pub institution_cert: Option<String>,
    /// 社会组织登记证号
    #[serde(skip_serializing_if = "Option::is_none")]
    pub social_org_cert: Option<String>,
    /// 公民身份号码 of a natural person, as its pseudonym and masked form: the number itself is
    /// only ever held sealed (see [`crate::pii`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub person: Option<PersonId>,
}

/// The stable key a subject is filed under: the strongest identifier it has.
/// `U:` unified code, `R:` registration number, `O:` organisation code, `P:` keyed pseudonym of the
/// resident number (never the number),
/// `T:`/`I:`/`S:` other certificates, `N:` name only (an individual business without any code).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SubjectKey(pub String);

impl SubjectKey {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for SubjectKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl SubjectCodes {
    /// The key to file the subject under, or `None` when no code is present.
    pub fn key(&self) -> Option<SubjectKey> {
        let k = if let Some(u) = &self.uscc {
            format!("U:{}", u.as_str())
        } else if let Some(p) = &self.person {
            return Some(p.key());
        } else if let Some(r) = &self.reg_no {
            format!("R:{}", r.as_str())
        } else if let Some(o) = &self.org_code {
            format!("O:{}", o.as_str())
        } else if let Some(t) = &self.tax_no {
            format!("T:{t}")
        } else if let Some(i) = &self.institution_cert {
            format!("I:{i}")
        } else if let Some(s) = &self.social_org_cert {
            format!("S:{s}")
        } else {
            return None;
        };
        Some(SubjectKey(k))
    }

    /// The main code shown to people (unified code, else the best secondary identifier).
    pub fn display_code(&self) -> Option<String> {
        self.uscc
            .as_ref()
            .map(|u| u.as_str().to_string())
            .or_else(|| self.person.as_ref().map(|p| p.masked().to_string()))
            .or_else(|| self.reg_no.as_ref().map(|r| r.as_str().to_string()))
            .or_else(|| self.org_code.as_ref().map(|o| o.as_str().to_string()))
            .or_else(|| self.tax_no.clone())
    }
}

/// A person's role towards a subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonRole {
    /// 法定代表人 / 负责人
    LegalRepresentative,
    /// 股东
    Shareholder,
    /// 高级管理人员
    SeniorManager,
    /// 重点行业从业人员
    KeyPractitioner,
}

impl PersonRole {
    pub fn code(self) -> &'static str {
        match self {
            PersonRole::LegalRepresentative => "legal_representative",
            PersonRole::Shareholder => "shareholder",
            PersonRole::SeniorManager => "senior_manager",
            PersonRole::KeyPractitioner => "key_practitioner",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            PersonRole::LegalRepresentative => "法定代表人",
            PersonRole::Shareholder => "股东",
            PersonRole::SeniorManager => "高级管理人员",
            PersonRole::KeyPractitioner => "重点行业从业人员",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            PersonRole::LegalRepresentative,
            PersonRole::Shareholder,
            PersonRole::SeniorManager,
            PersonRole::KeyPractitioner,
        ]
        .into_iter()
        .find(|r| r.code() == s || r.zh() == s)
    }
}

/// A natural person linked to a subject with a role. The resident number is optional because
/// feeds often give only the name of a legal representative.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonLink {
    pub name: String,
    pub role: PersonRole,
    /// The person's resident number as pseudonym and masked form.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub person: Option<PersonId>,
    /// 证件类型 when the identity document is not a resident number (passport, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub other_id: Option<(String, String)>,
}

impl PersonLink {
    /// The subject key of the person, when the person is identified.
    pub fn key(&self) -> Option<SubjectKey> {
        self.person.as_ref().map(PersonId::key)
    }
}

/// A subject as a record names it: name, kind, codes and linked persons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectRef {
    pub name: String,
    pub kind: SubjectKind,
    pub codes: SubjectCodes,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub persons: Vec<PersonLink>,
}

impl SubjectRef {
    /// The key the subject is filed under; a subject without any code falls back to its name.
    pub fn key(&self) -> SubjectKey {
        self.codes
            .key()
            .unwrap_or_else(|| SubjectKey(format!("N:{}", self.name)))
    }
}
