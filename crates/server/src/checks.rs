//! 事前信用查询 (credit checks) over the store: the subject's facts are gathered (its records and those of
//! its linked persons) and the pure `decide` of the domain answers with the catalogue.
//!
//! This reads the store per check; the in-memory index of DESIGN.md §5 (read path) replaces
//! [`facts_for`] without changing the answer.

use chrono::NaiveDate;
use creditloop_domain::catalogue::{
    CheckOutcome, CompiledCatalogue, FactRecord, Scenario, ScenarioRegistry, SubjectFacts, decide,
};
use creditloop_domain::ids;
use creditloop_domain::record::Category;
use creditloop_domain::subject::SubjectKey;
use creditloop_store::{Store, StoreError};

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
pub fn resolve_subject(store: &dyn Store, subject: &str) -> Result<Option<SubjectKey>, CheckError> {
    let code = ids::normalize(subject);
    if let Some(k) = store.find_subject(&code)? {
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
    catalogue: &CompiledCatalogue,
    subject: &str,
    scenario_code: &str,
    on: NaiveDate,
) -> Result<CheckOutcome, CheckError> {
    let scenario = scenario(scenario_code)?;
    let key = resolve_subject(store, subject)?;
    let facts = facts_for(store, key.as_ref())?;
    Ok(decide(catalogue, &scenario, &facts, on))
}
