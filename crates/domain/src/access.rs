//! Who may do what (访问控制): roles, the authenticated [`Principal`], and [`allows`], the one function
//! that decides every action the API and the pages perform. Handlers never compare roles themselves:
//! they name the [`Act`] they are about to do and ask. Keeping the rules in one pure function means
//! the whole table can be enumerated in tests (roles × actions), as kanidm does for its access
//! controls.
//!
//! The rules, in short:
//! - the credit office administrator (信用办管理员) may do everything;
//! - an agency's administrator, officers and systems (部门管理员 / 经办人 / 业务系统) change only their
//!   own agency's records and see only their own agency's checks, batches and rejects;
//! - the auditor (审计员) reads the audit log, checks, batches and dashboards, and changes nothing;
//! - an enterprise (市场主体) reads its own full record besides public data;
//! - the public (社会公众) and anonymous callers reach only public data.

use serde::{Deserialize, Serialize};

/// The role of a user or an API token. One role per principal: a person who needs two roles gets two
/// accounts, so that every audit entry says in which capacity something was done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 信用办管理员: maintains agencies, users, the catalogue; may do everything.
    CreditOfficeAdmin,
    /// 部门管理员: an agency's administrator; manages its users and tokens, and acts as its officers.
    AgencyAdmin,
    /// 经办人: an agency's officer; submits records, runs checks, gives feedback.
    AgencyOfficer,
    /// 业务系统: an agency's business system calling the API (embedded checks).
    AgencySystem,
    /// 审计员: reads and verifies the audit log; changes nothing.
    Auditor,
    /// 市场主体: an enterprise reading its own record.
    Enterprise,
    /// 社会公众: a registered member of the public; the same as anonymous for now.
    Public,
}

impl Role {
    /// Every role, in declaration order.
    pub const ALL: [Role; 7] = [
        Role::CreditOfficeAdmin,
        Role::AgencyAdmin,
        Role::AgencyOfficer,
        Role::AgencySystem,
        Role::Auditor,
        Role::Enterprise,
        Role::Public,
    ];

    /// The stable code (stored, and given on the command line).
    pub fn code(self) -> &'static str {
        match self {
            Role::CreditOfficeAdmin => "credit_office_admin",
            Role::AgencyAdmin => "agency_admin",
            Role::AgencyOfficer => "agency_officer",
            Role::AgencySystem => "agency_system",
            Role::Auditor => "auditor",
            Role::Enterprise => "enterprise",
            Role::Public => "public",
        }
    }

    /// The Chinese name.
    pub fn zh(self) -> &'static str {
        match self {
            Role::CreditOfficeAdmin => "信用办管理员",
            Role::AgencyAdmin => "部门管理员",
            Role::AgencyOfficer => "经办人",
            Role::AgencySystem => "业务系统",
            Role::Auditor => "审计员",
            Role::Enterprise => "市场主体",
            Role::Public => "社会公众",
        }
    }

    /// By code or Chinese name.
    pub fn parse(s: &str) -> Option<Role> {
        let s = s.trim();
        Role::ALL
            .into_iter()
            .find(|r| r.code().eq_ignore_ascii_case(s) || r.zh() == s)
    }

    /// Roles that act for one agency and must name it.
    pub fn is_agency(self) -> bool {
        matches!(
            self,
            Role::AgencyAdmin | Role::AgencyOfficer | Role::AgencySystem
        )
    }

    /// Roles that must hold a second factor (TOTP) to log in to the web pages.
    pub fn is_administrator(self) -> bool {
        matches!(self, Role::CreditOfficeAdmin | Role::AgencyAdmin)
    }
}

/// Why a principal cannot be built as given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrincipalError {
    #[error("the role {0} acts for an agency: give its unified code")]
    AgencyRequired(&'static str),
    #[error("the role {0} does not act for an agency")]
    AgencyNotAllowed(&'static str),
    #[error("the role enterprise reads one subject: give its key")]
    SubjectRequired,
    #[error("only the role enterprise names a subject")]
    SubjectNotAllowed,
}

impl PrincipalError {
    pub fn zh(&self) -> String {
        match self {
            PrincipalError::AgencyRequired(r) => {
                format!("角色 {r} 代表某一部门，须提供部门统一社会信用代码")
            }
            PrincipalError::AgencyNotAllowed(r) => format!("角色 {r} 不属于某一部门，不能指定部门"),
            PrincipalError::SubjectRequired => "市场主体角色须指定主体".into(),
            PrincipalError::SubjectNotAllowed => "只有市场主体角色可以指定主体".into(),
        }
    }
}

/// Who is asking, once authenticated: a web user or an API token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    /// The actor written into audit entries: a user name, or `token:NAME` for an API token.
    pub user_id: String,
    pub role: Role,
    /// The agency an agency role acts for (its unified code); `None` for other roles.
    pub agency: Option<String>,
    /// The subject key an enterprise reads (`U:…`); `None` for other roles.
    pub subject: Option<String>,
}

impl Principal {
    /// A principal whose agency and subject fit its role: agency roles name an agency, the others
    /// none; only an enterprise names a subject.
    pub fn new(
        user_id: impl Into<String>,
        role: Role,
        agency: Option<String>,
        subject: Option<String>,
    ) -> Result<Self, PrincipalError> {
        match (role.is_agency(), agency.is_some()) {
            (true, false) => return Err(PrincipalError::AgencyRequired(role.code())),
            (false, true) => return Err(PrincipalError::AgencyNotAllowed(role.code())),
            _ => {}
        }
        match (role == Role::Enterprise, subject.is_some()) {
            (true, false) => return Err(PrincipalError::SubjectRequired),
            (false, true) => return Err(PrincipalError::SubjectNotAllowed),
            _ => {}
        }
        Ok(Principal {
            user_id: user_id.into(),
            role,
            agency,
            subject,
        })
    }

    /// Whether this principal acts for `agency`.
    fn is_of(&self, agency: &str) -> bool {
        self.role.is_agency() && self.agency.as_deref() == Some(agency)
    }
}

/// What the API and the pages do. Agency codes are unified codes, already normalised. `None` as the
/// owner of a stored thing means it belongs to no agency (a check made from the CLI without one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act<'a> {
    /// Public data: portal pages, subject search and masked profiles, lists, the OpenAPI document,
    /// the health check, verification of a credit report.
    ReadPublic,
    /// Submit (报送) or correct records as agency `agency`.
    SubmitRecords { agency: &'a str },
    /// Read a batch and its rejected rows submitted by `owner`.
    ReadBatch { owner: Option<&'a str> },
    /// List batches: of one agency, or of all (`None`).
    ListBatches { agency: Option<&'a str> },
    /// Read the versions of a record submitted by agency `source`.
    ReadRecordHistory { source: &'a str },
    /// Run a credit check (事前信用查询) as agency `agency` (single or batch).
    RunCheck { agency: &'a str },
    /// Read the receipt of a check made by `owner`.
    ReadCheck { owner: Option<&'a str> },
    /// Give feedback (反馈) on a check made by `owner`.
    GiveFeedback { owner: Option<&'a str> },
    /// List checks (and overdue feedback): of one agency, or of all (`None`).
    ListChecks { agency: Option<&'a str> },
    /// Read the audit log: heads, entries, proofs.
    ReadAuditLog,
    /// Sign and publish a tree head now.
    PublishAuditHead,
    /// Read a subject's full, unmasked record.
    ReadSubjectFull { subject: &'a str },
    /// The dashboard (大屏) of every agency's figures.
    ViewDashboard,
    /// Read a natural person's resident number unmasked (身份证号码明文), audited each time.
    /// Only the credit office administrator and the auditor: agencies check and submit by number
    /// already, and need no platform copy of it.
    RevealIdentity { subject: &'a str },
    /// Manage users and tokens of one agency, or of the whole platform (`None`).
    ManageUsers { agency: Option<&'a str> },
}

impl Act<'_> {
    /// Every kind of act once, with `a` as the agency or subject it names and `None` where it may
    /// name none; for tests that walk the whole table.
    pub fn samples<'a>(a: &'a str) -> Vec<Act<'a>> {
        vec![
            Act::ReadPublic,
            Act::SubmitRecords { agency: a },
            Act::ReadBatch { owner: Some(a) },
            Act::ReadBatch { owner: None },
            Act::ListBatches { agency: Some(a) },
            Act::ListBatches { agency: None },
            Act::ReadRecordHistory { source: a },
            Act::RunCheck { agency: a },
            Act::ReadCheck { owner: Some(a) },
            Act::ReadCheck { owner: None },
            Act::GiveFeedback { owner: Some(a) },
            Act::GiveFeedback { owner: None },
            Act::ListChecks { agency: Some(a) },
            Act::ListChecks { agency: None },
            Act::ReadAuditLog,
            Act::PublishAuditHead,
            Act::ReadSubjectFull { subject: a },
            Act::ViewDashboard,
            Act::RevealIdentity { subject: a },
            Act::ManageUsers { agency: Some(a) },
            Act::ManageUsers { agency: None },
        ]
    }

    /// Whether the act changes something (the auditor may do none of these).
    pub fn changes(&self) -> bool {
        matches!(
            self,
            Act::SubmitRecords { .. }
                | Act::RunCheck { .. }
                | Act::GiveFeedback { .. }
                | Act::PublishAuditHead
                | Act::ManageUsers { .. }
        )
    }
}

/// Why an act was refused; each reason has a message in Chinese and English.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The act is for another agency than the principal's.
    OtherAgency,
    /// The act needs an agency role.
    NotAnAgency,
    /// The role only reads (the auditor).
    ReadOnly,
    /// The role may not do this at all.
    RoleNotAllowed,
    /// An enterprise asked for another subject.
    OtherSubject,
}

impl Refusal {
    pub fn zh(self) -> &'static str {
        match self {
            Refusal::OtherAgency => "无权操作其他部门的数据",
            Refusal::NotAnAgency => "该操作须以某一部门的身份进行",
            Refusal::ReadOnly => "审计员只能查阅，不能修改",
            Refusal::RoleNotAllowed => "当前角色无权进行该操作",
            Refusal::OtherSubject => "只能查看本主体的信息",
        }
    }

    pub fn en(self) -> &'static str {
        match self {
            Refusal::OtherAgency => "this belongs to another agency",
            Refusal::NotAnAgency => "this must be done as an agency",
            Refusal::ReadOnly => "the auditor reads and changes nothing",
            Refusal::RoleNotAllowed => "this role may not do this",
            Refusal::OtherSubject => "only your own subject's record can be read",
        }
    }
}

/// The answer of [`allows`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// Nobody is authenticated and the act is not public: log in (HTTP 401).
    Unauthenticated,
    /// Authenticated, but not allowed (HTTP 403).
    Forbidden(Refusal),
}

impl Decision {
    pub fn is_allowed(self) -> bool {
        self == Decision::Allow
    }
}

/// The one access decision: may `principal` (or an anonymous caller, `None`) do `act`?
pub fn allows(principal: Option<&Principal>, act: &Act<'_>) -> Decision {
    if *act == Act::ReadPublic {
        return Decision::Allow;
    }
    let Some(p) = principal else {
        return Decision::Unauthenticated;
    };
    match p.role {
        Role::CreditOfficeAdmin => Decision::Allow,
        Role::Auditor => auditor(act),
        Role::AgencyAdmin | Role::AgencyOfficer | Role::AgencySystem => agency(p, act),
        Role::Enterprise => match act {
            Act::ReadSubjectFull { subject } if p.subject.as_deref() == Some(*subject) => {
                Decision::Allow
            }
            Act::ReadSubjectFull { .. } => Decision::Forbidden(Refusal::OtherSubject),
            _ => Decision::Forbidden(Refusal::RoleNotAllowed),
        },
        Role::Public => Decision::Forbidden(Refusal::RoleNotAllowed),
    }
}

fn auditor(act: &Act<'_>) -> Decision {
    if act.changes() {
        return Decision::Forbidden(Refusal::ReadOnly);
    }
    match act {
        Act::ReadAuditLog
        | Act::ReadCheck { .. }
        | Act::ListChecks { .. }
        | Act::ReadBatch { .. }
        | Act::ListBatches { .. }
        | Act::ReadRecordHistory { .. }
        | Act::ViewDashboard
        | Act::RevealIdentity { .. } => Decision::Allow,
        _ => Decision::Forbidden(Refusal::RoleNotAllowed),
    }
}

fn agency(p: &Principal, act: &Act<'_>) -> Decision {
    // Acts on one agency's things: allowed for that agency only. An owner of `None` (a check made
    // without an agency, a listing of all agencies) belongs to no agency, so to none of them.
    let own = |a: Option<&str>| match a {
        Some(a) if p.is_of(a) => Decision::Allow,
        _ => Decision::Forbidden(Refusal::OtherAgency),
    };
    match act {
        Act::SubmitRecords { agency } | Act::RunCheck { agency } => own(Some(agency)),
        Act::ReadRecordHistory { source } => own(Some(source)),
        Act::ReadBatch { owner } | Act::ReadCheck { owner } | Act::GiveFeedback { owner } => {
            own(*owner)
        }
        Act::ListBatches { agency } | Act::ListChecks { agency } => own(*agency),
        Act::ManageUsers { agency } if p.role == Role::AgencyAdmin => own(*agency),
        Act::ManageUsers { .. }
        | Act::ReadAuditLog
        | Act::PublishAuditHead
        | Act::ReadSubjectFull { .. }
        | Act::RevealIdentity { .. }
        | Act::ViewDashboard => Decision::Forbidden(Refusal::RoleNotAllowed),
        Act::ReadPublic => Decision::Allow,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const A: &str = "11120000MB19674671";
    const B: &str = "11120000000011111X";
    const S: &str = "U:91120000MA05JL6B4N";

    fn principal(role: Role, agency: &str) -> Principal {
        let agency = role.is_agency().then(|| agency.to_string());
        let subject = (role == Role::Enterprise).then(|| S.to_string());
        Principal::new("u", role, agency, subject).expect("valid principal")
    }

    /// The expected table, written out independently of `allows`: for a principal of agency `A`
    /// (or the subject `S`), which of the sample acts over `A` it may do.
    fn expected(role: Option<Role>, act: &Act<'_>) -> bool {
        use Act::*;
        let Some(role) = role else {
            return *act == ReadPublic;
        };
        match role {
            Role::CreditOfficeAdmin => true,
            Role::Auditor => matches!(
                act,
                ReadPublic
                    | ReadAuditLog
                    | ReadCheck { .. }
                    | ListChecks { .. }
                    | ReadBatch { .. }
                    | ListBatches { .. }
                    | ReadRecordHistory { .. }
                    | ViewDashboard
                    | RevealIdentity { .. }
            ),
            Role::AgencyAdmin | Role::AgencyOfficer | Role::AgencySystem => match act {
                ReadPublic
                | SubmitRecords { .. }
                | RunCheck { .. }
                | ReadRecordHistory { .. }
                | ReadBatch { owner: Some(_) }
                | ReadCheck { owner: Some(_) }
                | GiveFeedback { owner: Some(_) }
                | ListBatches { agency: Some(_) }
                | ListChecks { agency: Some(_) } => true,
                ManageUsers { agency: Some(_) } => role == Role::AgencyAdmin,
                _ => false,
            },
            Role::Enterprise => matches!(act, ReadPublic | ReadSubjectFull { .. }),
            Role::Public => *act == ReadPublic,
        }
    }

    #[test]
    fn the_whole_table_for_ones_own_agency() {
        // Agency acts name the principal's agency `A`; the subject act names the enterprise's `S`.
        let acts: Vec<Act<'_>> = Act::samples(A)
            .into_iter()
            .map(|a| match a {
                Act::ReadSubjectFull { .. } => Act::ReadSubjectFull { subject: S },
                other => other,
            })
            .collect();
        for role in Role::ALL.map(Some).into_iter().chain([None]) {
            let p = role.map(|r| principal(r, A));
            for &act in &acts {
                let got = allows(p.as_ref(), &act);
                assert_eq!(
                    got.is_allowed(),
                    expected(role, &act),
                    "{:?} {act:?}: {got:?}",
                    role.map(Role::code)
                );
                if !got.is_allowed() {
                    // Anonymous callers are asked to log in; the others are refused.
                    assert_eq!(got == Decision::Unauthenticated, role.is_none());
                }
            }
        }
    }

    #[test]
    fn no_agency_role_reaches_another_agencys_things() {
        for role in [Role::AgencyAdmin, Role::AgencyOfficer, Role::AgencySystem] {
            let p = principal(role, A);
            for act in Act::samples(B) {
                if act == Act::ReadPublic {
                    continue;
                }
                assert!(
                    !allows(Some(&p), &act).is_allowed(),
                    "{} of A may {act:?} of B",
                    role.code()
                );
            }
        }
    }

    #[test]
    fn the_auditor_changes_nothing() {
        let p = principal(Role::Auditor, A);
        for act in Act::samples(A) {
            if act.changes() {
                assert_eq!(
                    allows(Some(&p), &act),
                    Decision::Forbidden(Refusal::ReadOnly)
                );
            }
        }
        assert!(allows(Some(&p), &Act::ReadAuditLog).is_allowed());
    }

    #[test]
    fn the_enterprise_reads_only_itself() {
        let p = principal(Role::Enterprise, A);
        assert!(allows(Some(&p), &Act::ReadSubjectFull { subject: S }).is_allowed());
        assert_eq!(
            allows(Some(&p), &Act::ReadSubjectFull { subject: "U:other" }),
            Decision::Forbidden(Refusal::OtherSubject)
        );
    }

    #[test]
    fn principals_fit_their_role() {
        assert!(Principal::new("u", Role::AgencyOfficer, None, None).is_err());
        assert!(Principal::new("u", Role::Auditor, Some(A.into()), None).is_err());
        assert!(Principal::new("u", Role::Enterprise, None, None).is_err());
        assert!(Principal::new("u", Role::Public, None, Some(S.into())).is_err());
        for r in Role::ALL {
            assert_eq!(Role::parse(r.code()), Some(r));
            assert_eq!(Role::parse(r.zh()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
    }

    fn any_role() -> impl Strategy<Value = Option<Role>> {
        prop_oneof![
            Just(None),
            (0..Role::ALL.len()).prop_map(|i| Some(Role::ALL[i]))
        ]
    }

    proptest! {
        /// For any role and any two agencies: an act over the other agency is allowed only to the
        /// credit office (and to the auditor when it only reads); anonymous callers only read
        /// public data; a refusal of an authenticated caller is never "log in".
        #[test]
        fn agencies_are_walled_off(role in any_role(), a in "[0-9A-Z]{18}", b in "[0-9A-Z]{18}") {
            prop_assume!(a != b);
            let p = role.map(|r| principal(r, &a));
            for act in Act::samples(&b) {
                let d = allows(p.as_ref(), &act);
                match role {
                    None => prop_assert_eq!(d.is_allowed(), act == Act::ReadPublic),
                    Some(Role::CreditOfficeAdmin) => prop_assert!(d.is_allowed()),
                    Some(Role::Auditor) => prop_assert!(!(d.is_allowed() && act.changes())),
                    Some(Role::Enterprise) | Some(Role::Public) => {
                        prop_assert_eq!(d.is_allowed(), act == Act::ReadPublic)
                    }
                    Some(_) => prop_assert_eq!(d.is_allowed(), act == Act::ReadPublic),
                }
                if role.is_some() {
                    prop_assert_ne!(d, Decision::Unauthenticated);
                }
            }
        }
    }
}
