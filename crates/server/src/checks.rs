//! 事前信用查询 (credit checks) over the store: the subject's facts are gathered (its records and those of
//! its linked persons) and the pure `decide` of the domain answers with the catalogue.
//!
//! Two ways to gather the facts give the same answer: [`facts_for`] reads the store (the CLI's single
//! check, no index to build), and the server's in-memory index ([`crate::readpath`]) answers the hot
//! path. Either way every check gets a receipt id (查询回执) and is stored with the answer it gave.

use chrono::{DateTime, NaiveDate, Utc};
use creditloop_audit::{Action, NewEntry};
use creditloop_domain::catalogue::{
    CheckOutcome, CompiledCatalogue, FactRecord, Scenario, ScenarioRegistry, SubjectFacts, decide,
};
use creditloop_domain::ids;
use creditloop_domain::record::Category;
use creditloop_domain::subject::SubjectKey;
use creditloop_store::{Store, StoreError, StoredCheck};
use serde::Deserialize;
use serde_json::{Value, json};

/// How a check names its subject could not be resolved to one subject.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("unknown scenario `{0}`")]
    UnknownScenario(String),
    #[error("the name `{name}` matches {count} subjects; check by code")]
    AmbiguousName { name: String, count: usize },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl CheckError {
    pub fn zh(&self) -> String {
        match self {
            CheckError::UnknownScenario(s) => format!("未知的应用场景“{s}”"),
            CheckError::AmbiguousName { name, count } => {
                format!("名称“{name}”对应 {count} 个主体，请以统一社会信用代码或身份证号码查询")
            }
            CheckError::Store(e) => format!("存储错误：{e}"),
        }
    }
}

/// Resolves a scenario by code, Chinese name or alias.
pub fn scenario(code: &str) -> Result<Scenario, CheckError> {
    ScenarioRegistry::builtin()
        .scenario(code.trim())
        .ok_or_else(|| CheckError::UnknownScenario(code.to_string()))
}

/// Finds the subject a check names: unified code, resident number, another code, or the exact name.
/// `Ok(None)` is an unknown subject (a clear answer, not an error).
pub fn resolve_subject(
    store: &dyn Store,
    pii: &creditloop_pii::PiiKey,
    subject: &str,
) -> Result<Option<SubjectKey>, CheckError> {
    if let Some(k) = crate::identity::find_subject(store, pii, subject)? {
        return Ok(Some(k));
    }
    let name = subject.trim();
    if name.is_empty() {
        return Ok(None);
    }
    let exact: Vec<SubjectKey> = store
        .search_subjects(name, 50)?
        .into_iter()
        .filter(|s| s.name == name)
        .map(|s| s.key)
        .collect();
    match exact.len() {
        0 => Ok(None),
        1 => Ok(exact.into_iter().next()),
        count => Err(CheckError::AmbiguousName {
            name: name.to_string(),
            count,
        }),
    }
}

/// The facts of a subject: the current version of each record, and the records of each linked person
/// who is identified by a resident number.
pub fn facts_for(store: &dyn Store, key: Option<&SubjectKey>) -> Result<SubjectFacts, StoreError> {
    let Some(key) = key else {
        return Ok(SubjectFacts::unknown());
    };
    let Some(profile) = store.subject(key)? else {
        return Ok(SubjectFacts::unknown());
    };
    let mut facts = SubjectFacts::known(key.clone());
    facts.records = profile
        .records
        .iter()
        .map(|r| FactRecord::from_record(&r.record))
        .collect();
    facts.established_on = profile
        .records
        .iter()
        .filter(|r| r.record.key.category == Category::Registration)
        .map(|r| r.record.decision_date)
        .min();
    for person in &profile.persons {
        if let Some(pk) = person.key() {
            let records = match store.subject(&pk)? {
                Some(p) => p
                    .records
                    .iter()
                    .map(|r| FactRecord::from_record(&r.record))
                    .collect(),
                None => Vec::new(),
            };
            facts.persons.push((person.role, records));
        }
    }
    Ok(facts)
}

/// Runs one check.
pub fn check(
    store: &dyn Store,
    pii: &creditloop_pii::PiiKey,
    catalogue: &CompiledCatalogue,
    subject: &str,
    scenario_code: &str,
    on: NaiveDate,
) -> Result<CheckOutcome, CheckError> {
    let scenario = scenario(scenario_code)?;
    let key = resolve_subject(store, pii, subject)?;
    let facts = facts_for(store, key.as_ref())?;
    Ok(decide(catalogue, &scenario, &facts, on))
}

/// What a caller asks (`POST /api/v1/checks`, `creditloop check`, one row of a batch).
#[derive(Debug, Clone, Deserialize)]
pub struct CheckRequest {
    /// Unified code, resident number, another code, or the exact name.
    pub subject: String,
    /// Scenario code (government_procurement, public_bidding, …) or its Chinese name.
    pub scenario: String,
    /// The acting agency's unified code.
    #[serde(default)]
    pub agency: Option<String>,
    /// The acting agency's case reference (办件编号).
    #[serde(default)]
    pub case_ref: Option<String>,
}

/// The answer as given to the caller: the outcome, its summary, the receipt, the data version and
/// the request's agency and case.
#[derive(serde::Serialize)]
struct Answer<'a> {
    #[serde(flatten)]
    outcome: &'a CheckOutcome,
    receipt: &'a str,
    checked_at: DateTime<Utc>,
    data_version: u64,
    summary_zh: String,
    agency: &'a Option<String>,
    case_ref: &'a Option<String>,
}

/// The answer as JSON text (unmasked: what is stored). Serialised once on the hot path; see
/// [`public_answer`] for what leaves the server.
pub fn answer_text(
    outcome: &CheckOutcome,
    req: &CheckRequest,
    receipt: &str,
    at: DateTime<Utc>,
    data_version: u64,
) -> String {
    serde_json::to_string(&Answer {
        outcome,
        receipt,
        checked_at: at,
        data_version,
        summary_zh: outcome.summary_zh(),
        agency: &req.agency,
        case_ref: &req.case_ref,
    })
    .unwrap_or_default()
}

/// The answer as it leaves the server: personal data masked. Only a natural person's answer names
/// a resident number (its subject key), so the others go out as stored, with no second pass.
pub fn public_answer(outcome: &CheckOutcome, text: String) -> Result<String, serde_json::Error> {
    let personal = outcome
        .subject
        .as_ref()
        .is_some_and(|k| k.0.starts_with("P:"));
    if !personal {
        return Ok(text);
    }
    let mut v: Value = serde_json::from_str(&text)?;
    crate::mask::mask_json(&mut v);
    serde_json::to_string(&v)
}

/// The stored form of a check.
pub fn stored(
    outcome: &CheckOutcome,
    req: &CheckRequest,
    receipt: String,
    at: DateTime<Utc>,
    data_version: u64,
    answer: String,
    batch_id: Option<String>,
) -> StoredCheck {
    let parts = CheckParts {
        agency: req.agency.as_ref().map(|a| ids::normalize(a)),
        case_ref: req.case_ref.clone(),
        // What the caller typed is kept for the receipt, a resident number masked.
        subject_query: crate::mask::mask_query(&req.subject),
        measures: outcome.measures.iter().map(|m| m.code.clone()).collect(),
        catalogue_version: format!(
            "v{}:{}",
            outcome.catalogue_version.number, outcome.catalogue_version.digest
        ),
    };
    stored_from(outcome, parts, receipt, at, data_version, answer, batch_id)
}

/// What a stored check holds besides the outcome's own fields, for callers that have these at hand
/// already (a batch works out the agency and catalogue version once, and moves the measure codes).
pub struct CheckParts {
    /// Normalised.
    pub agency: Option<String>,
    pub case_ref: Option<String>,
    /// Masked.
    pub subject_query: String,
    pub measures: Vec<String>,
    /// `v{number}:{digest}`.
    pub catalogue_version: String,
}

/// [`stored`] from parts already computed.
pub fn stored_from(
    outcome: &CheckOutcome,
    parts: CheckParts,
    receipt: String,
    at: DateTime<Utc>,
    data_version: u64,
    answer: String,
    batch_id: Option<String>,
) -> StoredCheck {
    StoredCheck {
        id: receipt,
        at,
        checked_on: outcome.checked_on,
        agency: parts.agency,
        case_ref: parts.case_ref,
        subject_query: parts.subject_query,
        subject_key: outcome.subject.as_ref().map(|k| k.0.clone()),
        scenario: outcome.scenario.as_str().to_string(),
        decision: outcome.decision.code().to_string(),
        measures: parts.measures,
        catalogue_version: parts.catalogue_version,
        data_version,
        batch_id,
        answer,
        feedback: None,
    }
}

/// Runs one check against the store and stores it with a receipt (the CLI's path). Returns the
/// answer as given (unmasked) and the stored check.
pub fn check_and_store(
    store: &dyn Store,
    pii: &creditloop_pii::PiiKey,
    catalogue: &CompiledCatalogue,
    req: &CheckRequest,
    on: NaiveDate,
) -> Result<(Value, StoredCheck), CheckError> {
    let outcome = check(store, pii, catalogue, &req.subject, &req.scenario, on)?;
    let at = Utc::now();
    let receipt = creditloop_store::new_check_id(at);
    // The store path has no index snapshot; its data version is 0 ("read from the store").
    let answer = answer_text(&outcome, req, &receipt, at, 0);
    let row = stored(&outcome, req, receipt, at, 0, answer, None);
    store.write_checks(std::slice::from_ref(&row))?;
    let answer: Value = serde_json::from_str(&row.answer)
        .map_err(|e| CheckError::Store(StoreError::Other(e.to_string())))?;
    Ok((answer, row))
}

/// The audit entry of a check: who asked, about whom, which receipt, the digest of the answer, and
/// the catalogue and data versions that gave it.
pub fn audit_entry(c: &creditloop_store::StoredCheck) -> NewEntry {
    audit_entry_by(c, crate::audit::ANONYMOUS)
}

/// [`audit_entry`] with the actor who asked (the authenticated user or token).
pub fn audit_entry_by(c: &creditloop_store::StoredCheck, actor: &str) -> NewEntry {
    let mut e = NewEntry::new(actor, Action::Check)
        .object(c.id.clone())
        .result(c.answer.as_bytes())
        .catalogue_version(c.catalogue_version.clone())
        .data_version(c.data_version)
        .detail(
            json!({"scenario": c.scenario, "decision": c.decision, "case_ref": c.case_ref,
                       "batch_id": c.batch_id}),
        );
    if let Some(a) = &c.agency {
        e = e.agency(a.clone());
    }
    if let Some(k) = &c.subject_key {
        e = e.subject(k.clone());
    }
    e
}

/// The audit entry of one stored group of a batch check: the batch, the first and last receipt,
/// the row count and decisions, and a digest over every row's receipt and answer in order
/// (SHA-256 of `receipt \n answer \n` for each row), which anyone can recompute from the checks
/// table to prove the rows unaltered.
pub fn batch_group_entry(group: &[creditloop_store::StoredCheck], actor: &str) -> NewEntry {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    let mut decisions: std::collections::BTreeMap<&str, u64> = std::collections::BTreeMap::new();
    for c in group {
        h.update(c.id.as_bytes());
        h.update(b"\n");
        h.update(c.answer.as_bytes());
        h.update(b"\n");
        *decisions.entry(c.decision.as_str()).or_default() += 1;
    }
    let digest = hex::encode(h.finalize());
    let first = group.first();
    let mut e = NewEntry::new(actor, Action::Check)
        .object(first.and_then(|c| c.batch_id.clone()).unwrap_or_default())
        .result(digest.as_bytes())
        .detail(json!({
            "batch_id": first.and_then(|c| c.batch_id.clone()),
            "rows": group.len(),
            "first_receipt": first.map(|c| c.id.clone()),
            "last_receipt": group.last().map(|c| c.id.clone()),
            "rows_digest": digest,
            "decisions": decisions,
            "scenario": first.map(|c| c.scenario.clone()),
        }));
    if let Some(c) = first {
        e = e
            .catalogue_version(c.catalogue_version.clone())
            .data_version(c.data_version);
        if let Some(a) = &c.agency {
            e = e.agency(a.clone());
        }
    }
    e
}
