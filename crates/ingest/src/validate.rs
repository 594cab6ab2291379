//! 校验 (validation): one raw row in, an [`AcceptedRow`] holding a [`CreditRecord`] out — or a
//! [`RejectedRow`] listing every problem of the row (not only the first), each naming the column as
//! the source named it, the value, a stable rule code and the reason in Chinese and English.
//!
//! Rule codes: `required`, `category`, `enum`, `date`, `future_date`, `date_order`, `amount`,
//! `persons`, and those of the identifiers ([`IdError::rule`]: `length`, `character`,
//! `check_character`, `org_code_check`, `birth_date`, `placeholder`, `spreadsheet_number`).
//!
//! Speed matters (about 2 µs a penalty row): the columns are resolved once per file into a
//! [`Layout`], values are read by index and cleaned without allocating, no regular expression runs.

use std::borrow::Cow;
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use creditloop_domain::calendar::WorkingCalendar;
use creditloop_domain::ids::{
    self, IdError, OrgCode, RegistrationNumber, ResidentId, Uscc, UsccExceptions, UsccWarning,
};
use creditloop_domain::intake::{AcceptedRow, RejectedRow, RowError};
use creditloop_domain::pii::{PersonId, SealedIdentity};
use creditloop_domain::publicity::{PublicityRules, default_severity};
use creditloop_domain::record::{
    AgencyRef, Category, CreditRecord, DebtorDetail, Detail, LicenceDetail, LicenceKind,
    ListingDetail, Nature, PenaltyDetail, PenaltyKind, RecordKey, RecordStatus, Severity,
    Timeliness,
};
use creditloop_domain::subject::{
    CounterpartKind, PersonLink, PersonRole, SubjectCodes, SubjectKind, SubjectRef,
};
use creditloop_pii::PiiKey;

use crate::fields::{Field, Layout, StandardVersion, field_for};
use crate::read::RawRow;
use crate::value::{
    AmountError, DateError, clean, collapse_spaces, is_placeholder, parse_amount, parse_date,
};

/// Settings of validation.
#[derive(Debug, Clone)]
pub struct ValidatorConfig {
    /// The category of every row (`--category`); otherwise from a 信息类别/名单类别 column or the
    /// file's columns.
    pub category: Option<Category>,
    /// Today: decision dates after it are rejected; records whose publicity ended before it are
    /// stored as expired.
    pub today: NaiveDate,
    /// The day of submission of rows without 报送日期 (an earlier day when replaying history).
    pub submitted_on: NaiveDate,
    /// Records are due within this many working days of the decision (7).
    pub deadline_working_days: u32,
    /// The working-day calendar.
    pub calendar: &'static WorkingCalendar,
    /// Unified social credit codes accepted (with a warning) although their check fails.
    pub exceptions: UsccExceptions,
    /// Publicity periods (公示期) by regime and severity.
    pub publicity: PublicityRules,
    /// Force the standard's version (`--standard-version`); detected from the columns otherwise.
    pub standard_version: Option<StandardVersion>,
    /// 数据来源单位 for rows that do not name one (the submitting agency: `--agency`, the API
    /// caller). 1.0 files have no such columns.
    pub default_source_unit: Option<AgencyRef>,
    /// When set, a row whose 数据来源单位统一社会信用代码 is another agency's is rejected: an agency
    /// submits and corrects only its own records (the authenticated caller's agency).
    pub required_source: Option<String>,
    /// The personal data key: resident numbers leave validation only as pseudonyms, masked forms
    /// and sealed copies.
    pub pii: Arc<PiiKey>,
}

impl ValidatorConfig {
    /// Defaults: submitted today, 7 working days, the built-in calendar, exception list and publicity
    /// rules, version detected, no default source unit.
    pub fn new(today: NaiveDate, pii: Arc<PiiKey>) -> Self {
        ValidatorConfig {
            category: None,
            today,
            submitted_on: today,
            deadline_working_days: Timeliness::DEFAULT_LIMIT,
            calendar: WorkingCalendar::builtin(),
            exceptions: UsccExceptions::builtin(),
            publicity: PublicityRules::default(),
            standard_version: None,
            default_source_unit: None,
            required_source: None,
            pii,
        }
    }
}

/// Validates rows. Shareable between threads; the column layout of the last file seen is cached.
#[derive(Debug)]
pub struct Validator {
    cfg: ValidatorConfig,
    cache: Mutex<Option<Arc<Layout>>>,
    /// Agencies' codes recently checked: a file names a handful of agencies on every row.
    agency_codes: Mutex<Vec<(String, UsccResult)>>,
}

type UsccResult = Result<(Uscc, Option<UsccWarning>), IdError>;

/// How many agencies' codes are remembered.
const AGENCY_CODES: usize = 8;

impl Validator {
    pub fn new(cfg: ValidatorConfig) -> Self {
        Validator {
            cfg,
            cache: Mutex::new(None),
            agency_codes: Mutex::new(Vec::with_capacity(AGENCY_CODES)),
        }
    }

    pub fn config(&self) -> &ValidatorConfig {
        &self.cfg
    }

    /// Resolves the columns of a file with this validator's settings.
    pub fn layout<S: AsRef<str>>(&self, headers: &[S]) -> Layout {
        Layout::resolve(headers, self.cfg.standard_version)
    }

    /// The layout for a row's headers: the cached one when they are the same, else a new one
    /// (returned with `true`).
    pub fn layout_for(&self, raw: &RawRow) -> (Arc<Layout>, bool) {
        let mut cache = match self.cache.lock() {
            Ok(c) => c,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(l) = cache.as_ref()
            && l.matches(&raw.fields)
        {
            return (Arc::clone(l), false);
        }
        let headers: Vec<&str> = raw.fields.iter().map(|(h, _)| &**h).collect();
        let l = Arc::new(self.layout(&headers));
        *cache = Some(Arc::clone(&l));
        (l, true)
    }

    /// Validates one row.
    pub fn validate(&self, raw: &RawRow) -> Result<AcceptedRow, RejectedRow> {
        let mut warnings = Vec::new();
        let (layout, _) = self.layout_for(raw);
        self.validate_with(&layout, raw, &mut warnings)
    }

    /// Validates one row with a layout resolved from its headers (a different one is re-resolved);
    /// warnings (codes accepted from the exception list) are appended to `warnings`.
    pub fn validate_with(
        &self,
        layout: &Layout,
        raw: &RawRow,
        warnings: &mut Vec<RowError>,
    ) -> Result<AcceptedRow, RejectedRow> {
        if !layout.matches(&raw.fields) {
            let headers: Vec<&str> = raw.fields.iter().map(|(h, _)| &**h).collect();
            let own = self.layout(&headers);
            return self.check(&own, raw, warnings);
        }
        self.check(layout, raw, warnings)
    }

    /// Validates with a layout the caller has matched to the row's headers.
    pub(crate) fn check(
        &self,
        layout: &Layout,
        raw: &RawRow,
        warnings: &mut Vec<RowError>,
    ) -> Result<AcceptedRow, RejectedRow> {
        let mut row = Row {
            layout,
            raw,
            category: None,
            errors: Vec::new(),
            warnings,
            cfg: &self.cfg,
            agency_codes: &self.agency_codes,
            sealed: Vec::new(),
        };
        let built = self.build(&mut row);
        match built {
            Some(accepted) if row.errors.is_empty() => Ok(accepted),
            _ => {
                if row.errors.is_empty() {
                    // Unreachable in practice: every path that builds nothing names an error.
                    row.errors.push(RowError {
                        row: raw.row,
                        field: "行".into(),
                        value: String::new(),
                        rule: "invalid".into(),
                        reason_zh: "记录无效".into(),
                        reason_en: "invalid record".into(),
                    });
                }
                Err(RejectedRow {
                    row: raw.row,
                    errors: row.errors,
                    raw: crate::read::owned_fields(&raw.fields),
                })
            }
        }
    }

    fn build(&self, r: &mut Row<'_>) -> Option<AcceptedRow> {
        let cfg = &self.cfg;
        let category = r.category()?;
        r.category = Some(category);
        let v1 = r.layout.version() == StandardVersion::V1;
        let dsl = matches!(category, Category::Penalty | Category::Licence);

        // 行政相对人
        let name = r.text_req(Field::SubjectName);
        let counterpart = r.counterpart(dsl && !v1);
        let given_kind = r.subject_kind();
        let mut codes = SubjectCodes {
            uscc: r.uscc(Field::Uscc, false, true),
            reg_no: r.id(
                Field::RegNo,
                RegistrationNumber::parse,
                "工商注册号",
                "registration number",
            ),
            org_code: r.id(
                Field::OrgCode,
                OrgCode::parse,
                "组织机构代码",
                "organisation code",
            ),
            tax_no: r.cert(Field::TaxNo),
            institution_cert: r.cert(Field::InstitutionCert),
            social_org_cert: r.cert(Field::SocialOrgCert),
            person: None,
        };
        let has_org_code = codes.uscc.is_some()
            || codes.reg_no.is_some()
            || codes.org_code.is_some()
            || codes.tax_no.is_some()
            || codes.institution_cert.is_some()
            || codes.social_org_cert.is_some();
        let id_no_given = !r.get(Field::IdNo).is_empty();
        let is_person = match counterpart {
            Some(c) => c == CounterpartKind::NaturalPerson,
            None => {
                given_kind == Some(SubjectKind::NaturalPerson)
                    || (given_kind.is_none() && !has_org_code && id_no_given)
            }
        };
        // The identity document of a natural person (证件类型 / 证件号码).
        let person_id = r.identity(Field::IdType, Field::IdNo);
        if is_person {
            if dsl && !v1 {
                r.require(Field::IdType);
            }
            if (dsl || category == Category::DishonestDebtor) && !id_no_given {
                if category == Category::DishonestDebtor && has_org_code {
                    // A debtor is identified by either code.
                } else {
                    r.missing(Field::IdNo);
                }
            }
            if let Some(Identity::Resident(p)) = &person_id {
                codes.person = Some(r.person(p));
            }
        } else if !has_org_code && r.field_errors_in(CODE_FIELDS) == 0 {
            match category {
                Category::Penalty | Category::Licence
                    if counterpart == Some(CounterpartKind::Organisation) =>
                {
                    r.err(
                        Field::Uscc,
                        "",
                        "required",
                        "法人及非法人组织须填写统一社会信用代码，或行政相对人代码_2至_6之一".into(),
                        "an organisation needs its unified social credit code, or one of codes _2 to _6"
                            .into(),
                    );
                }
                Category::DishonestDebtor if !id_no_given => {
                    let f = if r.layout.has(Field::IdNo) && !r.layout.has(Field::Uscc) {
                        Field::IdNo
                    } else {
                        Field::Uscc
                    };
                    r.err(
                        f,
                        "",
                        "required",
                        "失信被执行人须有统一社会信用代码或证件号码".into(),
                        "a dishonest judgment debtor needs a unified social credit code or an identity number"
                            .into(),
                    );
                }
                _ => {}
            }
        }

        // 法定代表人 and linked persons.
        let is_org = !is_person
            && (counterpart == Some(CounterpartKind::Organisation)
                || (counterpart.is_none()
                    && has_org_code
                    && category == Category::DishonestDebtor));
        let legal_rep = r.text_opt(Field::LegalRep);
        if legal_rep.is_none() && is_org && ((dsl && !v1) || category == Category::DishonestDebtor)
        {
            r.missing(Field::LegalRep);
        }
        let mut persons = Vec::new();
        if let Some(rep) = legal_rep {
            let mut rep_id = r.identity(Field::LegalRepIdType, Field::LegalRepIdNo);
            if rep_id.is_none() && !is_person {
                // Feeds often put the representative's number under 证件号码.
                rep_id = person_id.clone();
            }
            let (person, other_id) = match rep_id {
                Some(Identity::Resident(p)) => (Some(r.person(&p)), None),
                Some(Identity::Other(t, n)) => (None, Some((t, n))),
                None => (None, None),
            };
            persons.push(PersonLink {
                name: rep,
                role: PersonRole::LegalRepresentative,
                person,
                other_id,
            });
        }
        r.persons(&mut persons);

        let kind = given_kind.unwrap_or_else(|| {
            if let Some(u) = &codes.uscc {
                SubjectKind::from_uscc(u)
            } else if is_person {
                SubjectKind::NaturalPerson
            } else {
                match counterpart {
                    Some(CounterpartKind::IndividualBusiness) => SubjectKind::IndividualBusiness,
                    Some(CounterpartKind::NaturalPerson) => SubjectKind::NaturalPerson,
                    _ if codes.reg_no.is_some() => SubjectKind::Enterprise,
                    _ => SubjectKind::Other,
                }
            }
        });

        // Common fields.
        let doc_no = r.doc_no();
        let decision_date = r.date(Field::DecisionDate, true);
        if let Some(d) = decision_date
            && d > cfg.today
        {
            r.err_val(
                Field::DecisionDate,
                "future_date",
                format!("决定日期{d}晚于今天（{}）", cfg.today),
                format!("the decision date {d} is after today ({})", cfg.today),
            );
        }
        let authority_name = r.text_req(Field::Authority);
        let authority_code_needed = !v1 && category != Category::DishonestDebtor;
        let authority_code = r.uscc(Field::AuthorityCode, authority_code_needed, false);
        let (source_unit, source_code) = r.source_unit();
        let remarks = r.text_opt(Field::Remarks);

        // The category's own fields.
        let mut kinds: Vec<PenaltyKind> = Vec::new();
        let mut valid_until_for_window: Option<NaiveDate> = None;
        let mut removed_on = None;
        let mut status_given: Option<(bool, RecordStatus)> = None;
        let title: String;
        enum Pending {
            Penalty {
                violation_type: String,
                violation_facts: String,
                legal_basis: String,
                content: String,
                fine_wan: Option<f64>,
                confiscated_wan: Option<f64>,
                licence_affected: Option<String>,
                valid_until: Option<NaiveDate>,
            },
            Licence(Option<LicenceDetail>),
            Debtor(DebtorDetail),
            Listing(ListingDetail),
            Generic(Vec<(String, String)>),
        }
        let pending = match category {
            Category::Penalty => {
                let violation_type = r.text_req(Field::ViolationType);
                let violation_facts = r.text_req(Field::ViolationFacts);
                let legal_basis = r.text_req(Field::LegalBasis);
                kinds = r.penalty_kinds();
                let content = r.text_req(Field::Content);
                let fine_wan = r.amount(Field::FineWan);
                if fine_wan.is_none()
                    && !v1
                    && kinds.contains(&PenaltyKind::Fine)
                    && r.field_errors_in(&[Field::FineWan]) == 0
                {
                    r.missing_because(
                        Field::FineWan,
                        "处罚类别含罚款",
                        "the penalty includes a fine",
                    );
                }
                let confiscated_wan = r.amount(Field::ConfiscatedWan);
                if confiscated_wan.is_none()
                    && !v1
                    && kinds.contains(&PenaltyKind::Confiscation)
                    && r.field_errors_in(&[Field::ConfiscatedWan]) == 0
                {
                    r.missing_because(
                        Field::ConfiscatedWan,
                        "处罚类别含没收违法所得、没收非法财物",
                        "the penalty includes confiscation",
                    );
                }
                let licence_affected = r.text_opt(Field::LicenceAffected);
                if licence_affected.is_none()
                    && !v1
                    && kinds.contains(&PenaltyKind::LicenceSuspendedOrRevoked)
                {
                    r.missing_because(
                        Field::LicenceAffected,
                        "处罚类别含暂扣或者吊销许可证、执照",
                        "the penalty suspends or revokes a licence",
                    );
                }
                let valid_until = r.date(Field::ValidUntil, !v1);
                r.not_before(
                    Field::ValidUntil,
                    valid_until,
                    Field::DecisionDate,
                    decision_date,
                );
                valid_until_for_window = valid_until;
                if r.layout.has(Field::LicenceStatus) {
                    status_given = r.status(false);
                }
                title = one_line(&content);
                Pending::Penalty {
                    violation_type,
                    violation_facts,
                    legal_basis,
                    content,
                    fine_wan,
                    confiscated_wan,
                    licence_affected,
                    valid_until,
                }
            }
            Category::Licence => {
                let document_name = r.text_req(Field::DocumentName);
                let lk = r.licence_kind();
                let certificate_name = r.text_opt(Field::CertificateName);
                let licence_no = r.text_opt(Field::LicenceNo);
                let content = r.text_req(Field::Content);
                let valid_from =
                    r.date(Field::ValidFrom, !v1)
                        .or(if v1 { decision_date } else { None });
                let valid_to = r.date(Field::ValidTo, true);
                r.not_before(Field::ValidTo, valid_to, Field::ValidFrom, valid_from);
                status_given = r.status(!v1);
                valid_until_for_window = valid_to;
                title = one_line(&content);
                let detail = match (lk, valid_from, valid_to) {
                    (Some(kind), Some(valid_from), Some(valid_to)) => Some(LicenceDetail {
                        document_name,
                        kind,
                        certificate_name,
                        licence_no,
                        content,
                        valid_from,
                        valid_to,
                        in_force: status_given.is_none_or(|(in_force, _)| in_force),
                    }),
                    _ => None,
                };
                Pending::Licence(detail)
            }
            Category::DishonestDebtor => {
                let filed_on = r.date(Field::FiledOn, false);
                let basis_doc = r.text_opt(Field::BasisDoc);
                let obligation = r.text_req(Field::Obligation);
                let performance = r.text_req(Field::Performance);
                let conduct = r.text_req(Field::Conduct);
                removed_on = r.date(Field::RemovedOn, false);
                r.not_before(
                    Field::RemovedOn,
                    removed_on,
                    Field::DecisionDate,
                    decision_date,
                );
                title = one_line(&conduct);
                Pending::Debtor(DebtorDetail {
                    court: authority_name.clone(),
                    filed_on,
                    basis_doc,
                    obligation,
                    performance,
                    conduct,
                })
            }
            Category::SeriousDishonestList | Category::AbnormalOperation | Category::RedList => {
                let list_name = r.text_req(Field::ListName);
                let reason = r.text_req(Field::Reason);
                removed_on = r.date(Field::RemovedOn, false);
                r.not_before(
                    Field::RemovedOn,
                    removed_on,
                    Field::DecisionDate,
                    decision_date,
                );
                let removal_reason = r.text_opt(Field::RemovalReason);
                title = one_line(&reason);
                Pending::Listing(ListingDetail {
                    list_name,
                    reason,
                    removed_on,
                    removal_reason,
                })
            }
            Category::Registration
            | Category::Commitment
            | Category::Inspection
            | Category::Other => {
                title = one_line(&r.text_req(Field::Title));
                let valid = if r.layout.has(Field::ValidTo) {
                    r.date(Field::ValidTo, false)
                } else {
                    r.date(Field::ValidUntil, false)
                };
                valid_until_for_window = valid;
                Pending::Generic(r.free_fields())
            }
        };

        // Nature, severity, publicity.
        let nature = r
            .parsed(
                Field::Nature,
                Nature::parse,
                "正面、中性、负面",
                "positive, neutral, negative",
            )
            .unwrap_or_else(|| category.default_nature());
        let severity = r
            .parsed(
                Field::Severity,
                Severity::parse,
                "轻微、一般、严重",
                "slight, general, serious",
            )
            .unwrap_or_else(|| default_severity(category, &kinds));
        let publicity_given = r.date(Field::PublicityUntil, false);
        r.not_before(
            Field::PublicityUntil,
            publicity_given,
            Field::DecisionDate,
            decision_date,
        );
        let submitted_on = r.date(Field::SubmittedOn, false);
        if let Some(s) = submitted_on {
            if s > cfg.today {
                r.err_val(
                    Field::SubmittedOn,
                    "future_date",
                    format!("报送日期{s}晚于今天（{}）", cfg.today),
                    format!("the submission date {s} is after today ({})", cfg.today),
                );
            }
            r.not_before(
                Field::SubmittedOn,
                Some(s),
                Field::DecisionDate,
                decision_date,
            );
        }
        let submitted_on = submitted_on.unwrap_or(cfg.submitted_on);

        if !r.errors.is_empty() {
            return None;
        }
        let decision_date = decision_date?;
        let window_until = || {
            cfg.publicity
                .window(decision_date, severity, valid_until_for_window)
                .until
        };
        let publicity_until = match publicity_given {
            Some(p) => p,
            None if category == Category::Licence => {
                valid_until_for_window.unwrap_or_else(window_until)
            }
            None if category.is_list() => removed_on.unwrap_or_else(window_until),
            None => window_until(),
        };
        let detail = match pending {
            Pending::Penalty {
                violation_type,
                violation_facts,
                legal_basis,
                content,
                fine_wan,
                confiscated_wan,
                licence_affected,
                valid_until,
            } => Detail::Penalty(PenaltyDetail {
                violation_type,
                violation_facts,
                legal_basis,
                kinds,
                content,
                fine_wan,
                confiscated_wan,
                licence_affected,
                valid_until: valid_until.unwrap_or(publicity_until),
            }),
            Pending::Licence(d) => Detail::Licence(d?),
            Pending::Debtor(d) => Detail::Debtor(d),
            Pending::Listing(d) => Detail::Listing(d),
            Pending::Generic(fields) => Detail::Generic { fields },
        };
        let status = match status_given {
            Some((_, s)) if s != RecordStatus::Active => s,
            _ if publicity_until < cfg.today => RecordStatus::Expired,
            _ => RecordStatus::Active,
        };
        let record = CreditRecord {
            key: RecordKey {
                source: source_code.clone(),
                category,
                doc_no,
            },
            subject: SubjectRef {
                name,
                kind,
                codes,
                persons,
            },
            counterpart,
            nature,
            severity,
            decision_date,
            title,
            authority: AgencyRef {
                name: authority_name,
                code: authority_code
                    .map(|u| u.as_str().to_string())
                    .unwrap_or_default(),
            },
            source_unit: AgencyRef {
                name: source_unit,
                code: source_code,
            },
            publicity_until,
            status,
            detail,
            remarks,
        };
        let timeliness = Timeliness::compute(
            cfg.calendar,
            decision_date,
            submitted_on,
            cfg.deadline_working_days,
        );
        Some(AcceptedRow {
            row: r.raw.row,
            record,
            timeliness,
            identities: std::mem::take(&mut r.sealed),
        })
    }
}

/// The subject code columns (for "was any of them invalid").
const CODE_FIELDS: &[Field] = &[
    Field::Uscc,
    Field::RegNo,
    Field::OrgCode,
    Field::TaxNo,
    Field::InstitutionCert,
    Field::SocialOrgCert,
];

/// A person's identity document.
#[derive(Debug, Clone)]
enum Identity {
    Resident(ResidentId),
    /// (证件类型, 证件号码) of another document (passport …).
    Other(String, String),
}

/// Whether a 证件类型 names the resident identity card (居民身份证) of the mainland.
fn is_resident_type(t: &str) -> bool {
    let compact: Cow<'_, str> = if t.contains(char::is_whitespace) {
        Cow::Owned(t.chars().filter(|c| !c.is_whitespace()).collect())
    } else {
        Cow::Borrowed(t)
    };
    let t = compact.as_ref();
    if t.contains(['港', '澳', '台']) || t.contains("外国") {
        return false;
    }
    matches!(
        t,
        "身份证"
            | "居民身份证"
            | "身份证号"
            | "身份证号码"
            | "居民身份证号"
            | "居民身份证号码"
            | "公民身份号码"
            | "公民身份证"
            | "二代身份证"
            | "第二代居民身份证"
            | "临时居民身份证"
            | "中华人民共和国居民身份证"
            | "111"
    ) || t.eq_ignore_ascii_case("id_card")
        || t.eq_ignore_ascii_case("resident_id")
}

/// Whether a value has the shape of a resident identity number (or of one a spreadsheet turned into
/// a number).
fn looks_like_resident(raw: &str) -> bool {
    let n = ids::normalize(raw);
    let b = n.as_bytes();
    let shaped = match b.len() {
        18 => b[..17].iter().all(u8::is_ascii_digit) && (b[17].is_ascii_digit() || b[17] == b'X'),
        15 => b.iter().all(u8::is_ascii_digit),
        _ => false,
    };
    shaped || ids::is_spreadsheet_number(raw)
}

/// Replaces line breaks and runs of spaces with one space (a title is one line).
fn one_line(s: &str) -> String {
    if !s.contains(['\n', '\r', '\t']) && !s.contains("  ") {
        return s.to_string();
    }
    collapse_spaces(s)
}

/// The row being validated.
struct Row<'a> {
    layout: &'a Layout,
    raw: &'a RawRow,
    category: Option<Category>,
    errors: Vec<RowError>,
    warnings: &'a mut Vec<RowError>,
    cfg: &'a ValidatorConfig,
    agency_codes: &'a Mutex<Vec<(String, UsccResult)>>,
    /// The resident numbers met so far, sealed, once per person.
    sealed: Vec<SealedIdentity>,
}

impl<'a> Row<'a> {
    /// The stored form of a resident number; its sealed copy goes with the accepted row.
    fn person(&mut self, id: &ResidentId) -> PersonId {
        let person = self.cfg.pii.person(id);
        let key = person.key();
        if !self.sealed.iter().any(|s| s.key == key) {
            self.sealed.push(self.cfg.pii.seal(id));
        }
        person
    }

    /// The column name as the source gave it, else the standard's name for the category.
    fn header(&self, f: Field) -> String {
        match self.layout.header_of(f) {
            Some(h) if !h.is_empty() => h.to_string(),
            _ => f.zh_for(self.category).to_string(),
        }
    }

    /// The cleaned value of a field ("" when absent or empty).
    fn get(&self, f: Field) -> Cow<'a, str> {
        let fields = &self.raw.fields;
        let Some(col) = self.layout.column(f) else {
            return Cow::Borrowed("");
        };
        let v = fields.get(col).map(|(_, v)| clean(v)).unwrap_or_default();
        if !v.is_empty() {
            return v;
        }
        for c in self.layout.more_columns(f) {
            if let Some((_, raw)) = fields.get(c) {
                let v = clean(raw);
                if !v.is_empty() {
                    return v;
                }
            }
        }
        v
    }

    fn err(&mut self, f: Field, value: &str, rule: &str, zh: String, en: String) {
        self.errors.push(RowError {
            row: self.raw.row,
            field: self.header(f),
            value: value.to_string(),
            rule: rule.to_string(),
            reason_zh: zh,
            reason_en: en,
        });
    }

    /// An error about the field's current value.
    fn err_val(&mut self, f: Field, rule: &str, zh: String, en: String) {
        let v = self.get(f).into_owned();
        self.err(f, &v, rule, zh, en);
    }

    fn field_errors_in(&self, fields: &[Field]) -> usize {
        let names: Vec<String> = fields.iter().map(|&f| self.header(f)).collect();
        self.errors
            .iter()
            .filter(|e| names.contains(&e.field))
            .count()
    }

    fn missing(&mut self, f: Field) {
        self.missing_because(f, "", "");
    }

    fn missing_because(&mut self, f: Field, why_zh: &str, why_en: &str) {
        let name = self.header(f);
        let (zh, en) = if self.layout.has(f) {
            (
                format!("必填项“{name}”为空"),
                format!("required field \"{name}\" is empty"),
            )
        } else {
            (
                format!("缺少必填项“{name}”"),
                format!("required field \"{name}\" is missing"),
            )
        };
        let (zh, en) = if why_zh.is_empty() {
            (zh, en)
        } else {
            (format!("{why_zh}，{zh}"), format!("{why_en}, so {en}"))
        };
        self.err(f, "", "required", zh, en);
    }

    fn require(&mut self, f: Field) -> bool {
        if self.get(f).is_empty() {
            self.missing(f);
            false
        } else {
            true
        }
    }

    fn text_req(&mut self, f: Field) -> String {
        let v = self.get(f);
        if v.is_empty() {
            self.missing(f);
            String::new()
        } else {
            v.into_owned()
        }
    }

    /// The document number (文号), spaces normalised.
    fn doc_no(&mut self) -> String {
        let v = self.get(Field::DocNo);
        if v.is_empty() {
            self.missing(Field::DocNo);
            return String::new();
        }
        if v.contains(char::is_whitespace) {
            collapse_spaces(&v)
        } else {
            v.into_owned()
        }
    }

    fn text_opt(&self, f: Field) -> Option<String> {
        let v = self.get(f);
        if v.is_empty() {
            None
        } else {
            Some(v.into_owned())
        }
    }

    fn category(&mut self) -> Option<Category> {
        if let Some(c) = self.cfg.category {
            return Some(c);
        }
        let given = self.get(Field::Category);
        if !given.is_empty() {
            return match Category::parse(&given) {
                Some(c) => Some(c),
                None => {
                    let v = given.into_owned();
                    self.err(
                        Field::Category,
                        &v,
                        "enum",
                        format!("信息类别“{v}”不是可接受的值"),
                        format!("category \"{v}\" is not a known category"),
                    );
                    None
                }
            };
        }
        let list = self.get(Field::ListType);
        if !list.is_empty() {
            return match Category::parse(&list) {
                Some(c) if c.is_list() => Some(c),
                _ => {
                    let v = list.into_owned();
                    self.err(
                        Field::ListType,
                        &v,
                        "enum",
                        format!(
                            "名单类别“{v}”不是可接受的值（严重违法失信名单、经营异常名录、红名单）"
                        ),
                        format!(
                            "list type \"{v}\" is not one of 严重违法失信名单, 经营异常名录, 红名单"
                        ),
                    );
                    None
                }
            };
        }
        if let Some(c) = self.layout.category_hint() {
            return Some(c);
        }
        self.err(
            Field::Category,
            "",
            "category",
            "无法确定信息类别：请指定类别（--category），或提供“信息类别”列".into(),
            "the category cannot be determined: give --category or a 信息类别 (category) column"
                .into(),
        );
        None
    }

    fn counterpart(&mut self, required: bool) -> Option<CounterpartKind> {
        let v = self.get(Field::CounterpartKind);
        if v.is_empty() {
            if required {
                self.missing(Field::CounterpartKind);
            }
            return None;
        }
        match CounterpartKind::parse(&v) {
            Some(c) => Some(c),
            None => {
                let v = v.into_owned();
                self.err(
                    Field::CounterpartKind,
                    &v,
                    "enum",
                    format!("行政相对人类别“{v}”应为法人及非法人组织、自然人或个体工商户"),
                    format!(
                        "counterpart kind \"{v}\" should be 法人及非法人组织, 自然人 or 个体工商户"
                    ),
                );
                None
            }
        }
    }

    fn subject_kind(&mut self) -> Option<SubjectKind> {
        let v = self.get(Field::SubjectKind);
        if v.is_empty() {
            return None;
        }
        match SubjectKind::from_code(&v) {
            Some(k) => Some(k),
            None => {
                let v = v.into_owned();
                let allowed: Vec<&str> = SubjectKind::ALL.iter().map(|k| k.zh()).collect();
                self.err(
                    Field::SubjectKind,
                    &v,
                    "enum",
                    format!("主体类型“{v}”应为{}之一", allowed.join("、")),
                    format!("subject kind \"{v}\" is not a known kind"),
                );
                None
            }
        }
    }

    fn id_error(&mut self, f: Field, value: &str, e: &IdError, what_zh: &str, what_en: &str) {
        self.err(
            f,
            value,
            e.rule(),
            format!("{what_zh}有误：{}", e.zh()),
            format!("invalid {what_en}: {e}"),
        );
    }

    /// A unified social credit code; the placeholder `00000000000000000X` means no code for the
    /// subject (`placeholder_is_none`), and is an error for agencies.
    fn uscc(&mut self, f: Field, required: bool, placeholder_is_none: bool) -> Option<Uscc> {
        let v = self.get(f);
        if v.is_empty() {
            if required {
                self.missing(f);
            }
            return None;
        }
        if placeholder_is_none && is_placeholder(&v) {
            return None;
        }
        let parsed = if placeholder_is_none {
            Uscc::parse_with(&v, &self.cfg.exceptions)
        } else {
            self.agency_code(&v)
        };
        match parsed {
            Ok((code, warning)) => {
                if let Some(w) = warning {
                    self.warnings.push(RowError {
                        row: self.raw.row,
                        field: self.header(f),
                        value: v.into_owned(),
                        rule: w.rule().to_string(),
                        reason_zh: w.zh(),
                        reason_en: w.to_string(),
                    });
                }
                Some(code)
            }
            Err(e) => {
                let v = v.into_owned();
                self.id_error(f, &v, &e, "统一社会信用代码", "unified social credit code");
                None
            }
        }
    }

    /// An agency's code, through the small cache of codes recently checked.
    fn agency_code(&self, v: &str) -> UsccResult {
        let mut cache = match self.agency_codes.lock() {
            Ok(c) => c,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some((_, r)) = cache.iter().find(|(k, _)| k == v) {
            return r.clone();
        }
        let r = Uscc::parse_with(v, &self.cfg.exceptions);
        if cache.len() >= AGENCY_CODES {
            let _ = cache.remove(0);
        }
        cache.push((v.to_string(), r.clone()));
        r
    }

    fn id<T>(
        &mut self,
        f: Field,
        parse: fn(&str) -> Result<T, IdError>,
        what_zh: &str,
        what_en: &str,
    ) -> Option<T> {
        let v = self.get(f);
        if v.is_empty() || is_placeholder(&v) {
            return None;
        }
        match parse(&v) {
            Ok(code) => Some(code),
            Err(e) => {
                let v = v.into_owned();
                self.id_error(f, &v, &e, what_zh, what_en);
                None
            }
        }
    }

    /// A certificate number without a check rule (税务登记号, 事业单位证书号, 社会组织登记证号):
    /// normalised; a spreadsheet number is rejected.
    fn cert(&mut self, f: Field) -> Option<String> {
        let v = self.get(f);
        if v.is_empty() {
            return None;
        }
        let n = ids::normalize(&v);
        if n == ids::PLACEHOLDER {
            return None;
        }
        if ids::is_spreadsheet_number(&v) {
            let e = IdError::SpreadsheetNumber { value: n };
            let v = v.into_owned();
            self.id_error(f, &v, &e, "证照号码", "certificate number");
            return None;
        }
        Some(n)
    }

    /// An identity document from a type column and a number column: a resident identity number
    /// when the type says so or, with no type, when the number looks like one.
    fn identity(&mut self, type_field: Field, no_field: Field) -> Option<Identity> {
        let no = self.get(no_field);
        if no.is_empty() {
            return None;
        }
        let t = self.get(type_field);
        let resident = if t.is_empty() {
            looks_like_resident(&no)
        } else {
            is_resident_type(&t)
        };
        if resident {
            match ResidentId::parse(&no, self.cfg.today) {
                Ok(p) => Some(Identity::Resident(p)),
                Err(e) => {
                    let v = no.into_owned();
                    self.id_error(no_field, &v, &e, "公民身份号码", "resident identity number");
                    None
                }
            }
        } else {
            Some(Identity::Other(
                if t.is_empty() {
                    "其他".into()
                } else {
                    t.into_owned()
                },
                no.trim().to_string(),
            ))
        }
    }

    /// 关联人员: `角色:姓名:证件号码;…` or a JSON array of `{name, role, resident_id}`.
    fn persons(&mut self, out: &mut Vec<PersonLink>) {
        let v = self.get(Field::Persons);
        if v.is_empty() {
            return;
        }
        let entries: Vec<(String, String, String)> = if v.trim_start().starts_with('[') {
            match serde_json::from_str::<Vec<PersonJson>>(&v) {
                Ok(list) => list
                    .into_iter()
                    .map(|p| (p.role, p.name, p.resident_id.unwrap_or_default()))
                    .collect(),
                Err(e) => {
                    let value = v.into_owned();
                    self.err(
                        Field::Persons,
                        &value,
                        "persons",
                        "关联人员应为JSON数组 [{\"name\", \"role\", \"resident_id\"}]".into(),
                        format!(
                            "persons should be a JSON array of {{name, role, resident_id}}: {e}"
                        ),
                    );
                    return;
                }
            }
        } else {
            let mut list = Vec::new();
            for entry in v.split([';', '；', '\n']) {
                let entry = entry.trim();
                if entry.is_empty() {
                    continue;
                }
                let mut parts = entry.split([':', '：']).map(str::trim);
                let role = parts.next().unwrap_or_default().to_string();
                let name = parts.next().unwrap_or_default().to_string();
                let id = parts.next().unwrap_or_default().to_string();
                list.push((role, name, id));
            }
            list
        };
        for (role, name, id) in entries {
            let entry = format!("{role}:{name}:{id}");
            let Some(role) = PersonRole::parse(role.trim()) else {
                self.err(
                    Field::Persons,
                    &entry,
                    "persons",
                    format!("关联人员“{entry}”的角色应为法定代表人、股东、高级管理人员或重点行业从业人员"),
                    format!(
                        "the role of person \"{entry}\" should be 法定代表人, 股东, 高级管理人员 or 重点行业从业人员"
                    ),
                );
                continue;
            };
            let name = clean(&name).into_owned();
            if name.is_empty() {
                self.err(
                    Field::Persons,
                    &entry,
                    "persons",
                    format!("关联人员“{entry}”缺少姓名（格式：角色:姓名:证件号码）"),
                    format!("person \"{entry}\" has no name (format role:name:id)"),
                );
                continue;
            }
            let id = clean(&id);
            let person = if id.is_empty() {
                None
            } else {
                match ResidentId::parse(&id, self.cfg.today) {
                    Ok(p) => Some(self.person(&p)),
                    Err(e) => {
                        self.id_error(
                            Field::Persons,
                            &entry,
                            &e,
                            "关联人员公民身份号码",
                            "resident identity number of a linked person",
                        );
                        continue;
                    }
                }
            };
            if out.iter().any(|p| p.role == role && p.name == name) {
                continue;
            }
            out.push(PersonLink {
                name,
                role,
                person,
                other_id: None,
            });
        }
    }

    fn date(&mut self, f: Field, required: bool) -> Option<NaiveDate> {
        let v = self.get(f);
        if v.is_empty() {
            if required {
                self.missing(f);
            }
            return None;
        }
        if matches!(
            f,
            Field::ValidUntil | Field::ValidTo | Field::PublicityUntil
        ) && matches!(
            v.as_ref(),
            "长期" | "长期有效" | "永久" | "永久有效" | "无期限"
        ) {
            return NaiveDate::from_ymd_opt(2099, 12, 31);
        }
        match parse_date(&v) {
            Ok(d) => Some(d),
            Err(e) => {
                let v = v.into_owned();
                let (zh, en) = match e {
                    DateError::Impossible => (
                        format!("日期“{v}”不存在"),
                        format!("\"{v}\" is not a day of the calendar"),
                    ),
                    DateError::Format => (
                        format!(
                            "“{v}”不是可识别的日期（如2024-03-05、2024/3/5、20240305、2024年3月5日）"
                        ),
                        format!(
                            "\"{v}\" is not a date in an accepted form (2024-03-05, 2024/3/5, 20240305, 2024年3月5日)"
                        ),
                    ),
                };
                self.err(f, &v, "date", zh, en);
                None
            }
        }
    }

    /// `later` may not be before `earlier`.
    fn not_before(
        &mut self,
        later_f: Field,
        later: Option<NaiveDate>,
        earlier_f: Field,
        earlier: Option<NaiveDate>,
    ) {
        if let (Some(l), Some(e)) = (later, earlier)
            && l < e
        {
            let ln = self.header(later_f);
            let en = self.header(earlier_f);
            self.err_val(
                later_f,
                "date_order",
                format!("{ln}（{l}）早于{en}（{e}）"),
                format!("{ln} ({l}) is before {en} ({e})"),
            );
        }
    }

    fn amount(&mut self, f: Field) -> Option<f64> {
        let v = self.get(f);
        if v.is_empty() {
            return None;
        }
        match parse_amount(&v) {
            Ok(a) => Some(a),
            Err(e) => {
                let v = v.into_owned();
                let (zh, en) = match e {
                    AmountError::Negative => (
                        format!("金额“{v}”不能为负数"),
                        format!("the amount \"{v}\" is negative"),
                    ),
                    AmountError::NotANumber => (
                        format!("金额“{v}”应为数字（单位万元）"),
                        format!("the amount \"{v}\" is not a number (in 万元)"),
                    ),
                };
                self.err(f, &v, "amount", zh, en);
                None
            }
        }
    }

    fn penalty_kinds(&mut self) -> Vec<PenaltyKind> {
        let a = self.get(Field::PenaltyKinds);
        let b = self.get(Field::PenaltyKinds2);
        let joined: Cow<'_, str> = match (a.is_empty(), b.is_empty()) {
            (_, true) => a.clone(),
            (true, false) => b.clone(),
            (false, false) => Cow::Owned(format!("{a};{b}")),
        };
        if joined.is_empty() {
            self.missing(Field::PenaltyKinds);
            return Vec::new();
        }
        match PenaltyKind::parse_list(&joined) {
            Ok(k) => k,
            Err(part) => {
                let v = joined.into_owned();
                let field = if !a.is_empty() && PenaltyKind::parse_list(&a).is_ok() {
                    Field::PenaltyKinds2
                } else {
                    Field::PenaltyKinds
                };
                self.err(
                    field,
                    &v,
                    "enum",
                    format!(
                        "处罚类别“{part}”不是标准值（警告、罚款、没收违法所得、没收非法财物、责令停产停业、暂扣或者吊销许可证、暂扣或者吊销执照、行政拘留、通报批评、降低资质等级、限制开展生产经营活动、责令关闭、限制从业、其他）"
                    ),
                    format!("penalty kind \"{part}\" is not a value of the standard"),
                );
                Vec::new()
            }
        }
    }

    fn licence_kind(&mut self) -> Option<LicenceKind> {
        let v = self.get(Field::LicenceKind);
        if v.is_empty() {
            self.missing(Field::LicenceKind);
            return None;
        }
        match LicenceKind::parse(&v) {
            Some(k) => Some(k),
            None => {
                let v = v.into_owned();
                self.err(
                    Field::LicenceKind,
                    &v,
                    "enum",
                    format!("许可类别“{v}”应为普通、特许、认可、核准、登记或其他"),
                    format!("licence kind \"{v}\" should be 普通, 特许, 认可, 核准, 登记 or 其他"),
                );
                None
            }
        }
    }

    /// 当前状态: 有效/无效 (and the 1.0 codes 0 正常, 1 撤销, 2 异议, 3 其他).
    fn status(&mut self, required: bool) -> Option<(bool, RecordStatus)> {
        let v = self.get(Field::LicenceStatus);
        if v.is_empty() {
            if required {
                self.missing(Field::LicenceStatus);
            }
            return None;
        }
        let s = match v.as_ref() {
            "有效" | "正常" | "0" | "valid" | "active" | "在效" => {
                (true, RecordStatus::Active)
            }
            "无效" | "撤销" | "已撤销" | "注销" | "已注销" | "吊销" | "已吊销" | "失效" | "1"
            | "invalid" | "revoked" => (false, RecordStatus::Revoked),
            "异议" | "2" => (true, RecordStatus::UnderObjection),
            "其他" | "3" => (true, RecordStatus::Active),
            _ => {
                let v = v.into_owned();
                self.err(
                    Field::LicenceStatus,
                    &v,
                    "enum",
                    format!("当前状态“{v}”应为有效或无效"),
                    format!("status \"{v}\" should be 有效 (valid) or 无效 (invalid)"),
                );
                return None;
            }
        };
        Some(s)
    }

    fn parsed<T>(
        &mut self,
        f: Field,
        parse: fn(&str) -> Option<T>,
        allowed_zh: &str,
        allowed_en: &str,
    ) -> Option<T> {
        let v = self.get(f);
        if v.is_empty() {
            return None;
        }
        match parse(&v) {
            Some(x) => Some(x),
            None => {
                let v = v.into_owned();
                let name = self.header(f);
                self.err(
                    f,
                    &v,
                    "enum",
                    format!("{name}“{v}”应为{allowed_zh}之一"),
                    format!("{name} \"{v}\" should be one of {allowed_en}"),
                );
                None
            }
        }
    }

    /// 数据来源单位 and its code, from the row or the configured default.
    fn source_unit(&mut self) -> (String, String) {
        let default = self.cfg.default_source_unit.clone();
        let name = self.get(Field::SourceUnit);
        let name = if name.is_empty() {
            match &default {
                Some(d) if !d.name.is_empty() => d.name.clone(),
                _ => {
                    self.missing(Field::SourceUnit);
                    String::new()
                }
            }
        } else {
            name.into_owned()
        };
        let code = if self.get(Field::SourceUnitCode).is_empty() {
            match &default {
                Some(d) if !d.code.is_empty() => {
                    match Uscc::parse_with(&d.code, &self.cfg.exceptions) {
                        Ok((u, _)) => Some(u),
                        Err(e) => {
                            let v = d.code.clone();
                            self.id_error(
                                Field::SourceUnitCode,
                                &v,
                                &e,
                                "数据来源单位统一社会信用代码",
                                "unified social credit code of the source unit",
                            );
                            None
                        }
                    }
                }
                _ => {
                    self.missing(Field::SourceUnitCode);
                    None
                }
            }
        } else {
            self.uscc(Field::SourceUnitCode, true, false)
        };
        let code = code.map(|u| u.as_str().to_string()).unwrap_or_default();
        if let Some(own) = self.cfg.required_source.clone()
            && !code.is_empty()
            && code != own
        {
            self.err(
                Field::SourceUnitCode,
                &code,
                "own_source",
                format!("数据来源单位“{code}”不是报送单位“{own}”：只能报送本部门的信用记录"),
                format!("source unit `{code}` is not the submitting agency `{own}`: an agency submits only its own records"),
            );
        }
        (name, code)
    }

    /// Columns kept as free fields of other categories: those creditloop has no field for.
    fn free_fields(&self) -> Vec<(String, String)> {
        self.raw
            .fields
            .iter()
            .enumerate()
            .filter(|(i, (h, _))| self.layout.field(*i).is_none() && !h.trim().is_empty())
            .filter_map(|(_, (h, v))| {
                let v = clean(v);
                (!v.is_empty()).then(|| (h.to_string(), v.into_owned()))
            })
            .collect()
    }
}

#[derive(serde::Deserialize)]
struct PersonJson {
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default, alias = "id_no")]
    resident_id: Option<String>,
}

/// Masks the identity numbers of a rejected row before it is stored or reported: the columns that
/// hold a person's identity number (证件号码, 法定代表人证件号码, 关联人员) and the errors about
/// them. Masked rather than sealed: a stored rejected row tells the agency what to correct, and its
/// own source (or the rejects file the CLI writes beside it for correction) still holds the full
/// number; an invalid number has no pseudonym to file a sealed copy under anyway.
pub fn mask_rejected(r: &mut RejectedRow) {
    let personal = |header: &str| {
        matches!(
            field_for(header, None),
            Some(Field::IdNo | Field::LegalRepIdNo | Field::Persons)
        ) || header == Field::IdNo.zh()
            || header == Field::LegalRepIdNo.zh()
            || header == Field::Persons.zh()
    };
    for (h, v) in &mut r.raw {
        if personal(h) {
            *v = mask_numbers(v);
        }
    }
    for e in &mut r.errors {
        if personal(&e.field) {
            e.value = mask_numbers(&e.value);
        }
    }
}

/// Masks every run of ASCII letters and digits that holds a digit: a run of 8 or more keeps its
/// first and last 4 characters (`1101**********002X`, as STANDARDS.md masks a resident number),
/// a shorter one is masked whole.
pub fn mask_numbers(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.bytes().any(|b| b.is_ascii_digit()) {
            let n = run.len();
            if n >= 8 {
                out.push_str(&run[..4]);
                out.extend(std::iter::repeat_n('*', n - 8));
                out.push_str(&run[n - 4..]);
            } else {
                out.extend(std::iter::repeat_n('*', n));
            }
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}
