//! The credit check decision (事前信用查询 + 奖惩): which measures of the catalogue apply to a subject in
//! a scenario on a date, why, and the overall decision. Pure and allocation-light: the catalogue is
//! compiled once per version ([`CompiledCatalogue`]), and [`decide`] only reads.

use std::collections::HashMap;

use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::record::{Category, CreditRecord, Detail, Nature, RecordKey, RecordStatus, Severity};
use crate::subject::{PersonRole, SubjectKey};

use super::measure::{Action, Decision, LegalBasis, Measure, MeasureKind};
use super::scenario::Scenario;
use super::trigger::{AppliesTo, Trigger};
use super::versioned::{Catalogue, CatalogueVersion};

/// A slim copy of a credit record with only what decisions need, cheap to keep in the in-memory
/// index of the read path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FactRecord {
    pub key: RecordKey,
    pub category: Category,
    pub nature: Nature,
    pub severity: Severity,
    /// 决定日期 / 列入日期
    pub decision_date: NaiveDate,
    /// 公示截止期: after this day the record no longer triggers measures.
    pub publicity_until: NaiveDate,
    pub status: RecordStatus,
    /// 名单名称, for list entries (e.g. 重大税收违法失信主体名单, 纳税信用A级纳税人名单).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_name: Option<String>,
}

impl FactRecord {
    /// The slim copy of a full record. The list name is taken from list entries.
    pub fn from_record(r: &CreditRecord) -> Self {
        FactRecord {
            key: r.key.clone(),
            category: r.key.category,
            nature: r.nature,
            severity: r.severity,
            decision_date: r.decision_date,
            publicity_until: r.publicity_until,
            status: r.status,
            list_name: match &r.detail {
                Detail::Listing(l) => Some(l.list_name.clone()),
                _ => None,
            },
        }
    }

    /// Whether the record takes effect on `on`: active (有效), decided on or before `on` and still
    /// within its publicity window (公示期).
    pub fn in_force(&self, on: NaiveDate) -> bool {
        self.status == RecordStatus::Active
            && self.decision_date <= on
            && on <= self.publicity_until
    }

    /// The fields a trigger looks at, borrowed.
    #[inline]
    pub fn traits(&self) -> RecordTraits<'_> {
        RecordTraits {
            category: self.category,
            nature: self.nature,
            severity: self.severity,
            decision_date: self.decision_date,
            list_name: self.list_name.as_deref(),
        }
    }

    /// Why the record does not take effect on `on`, or `None` when it does.
    pub fn disregard_reason(&self, on: NaiveDate) -> Option<DisregardReason> {
        match self.status {
            RecordStatus::UnderObjection => Some(DisregardReason::UnderObjection),
            RecordStatus::Repaired => Some(DisregardReason::Repaired),
            RecordStatus::Revoked => Some(DisregardReason::Revoked),
            RecordStatus::Expired => Some(DisregardReason::Expired),
            RecordStatus::Active if self.decision_date > on || on > self.publicity_until => {
                Some(DisregardReason::OutOfWindow)
            }
            RecordStatus::Active => None,
        }
    }
}

/// The fields of a record that decide whether a trigger can look at it (status and publicity window
/// aside): what [`RecordFilter`] reads, so that a caller holding records in another form (the read
/// index's compact records) need not build a [`FactRecord`] to ask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordTraits<'a> {
    pub category: Category,
    pub nature: Nature,
    pub severity: Severity,
    pub decision_date: NaiveDate,
    pub list_name: Option<&'a str>,
}

/// What the check knows about a subject: its records and those of its linked persons.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectFacts {
    /// `None` = the subject is not known to the platform (查无此主体): a clear answer, not an error.
    pub subject: Option<SubjectKey>,
    pub records: Vec<FactRecord>,
    /// Linked persons (关联人员) by role, each with the person's own records. A person with two roles
    /// appears twice.
    #[serde(default)]
    pub persons: Vec<(PersonRole, Vec<FactRecord>)>,
    /// 成立日期 / 登记日期. When known, “no negative record within N months” holds only for subjects
    /// that have existed for those N months.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub established_on: Option<NaiveDate>,
    /// 信用等级 (credit class) once classes are computed, for `class:` triggers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit_class: Option<String>,
}

impl SubjectFacts {
    /// Facts of a subject not known to the platform.
    pub fn unknown() -> Self {
        SubjectFacts::default()
    }

    /// Facts of a known subject without records yet.
    pub fn known(subject: SubjectKey) -> Self {
        SubjectFacts {
            subject: Some(subject),
            ..SubjectFacts::default()
        }
    }

    /// Whether a record with this key is among the subject's or its persons' records.
    pub fn find(&self, key: &RecordKey) -> Option<&FactRecord> {
        self.records
            .iter()
            .chain(self.persons.iter().flat_map(|(_, rs)| rs.iter()))
            .find(|r| &r.key == key)
    }
}

/// Why a record that would have matched a trigger was not applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisregardReason {
    /// 异议处理中
    UnderObjection,
    /// 已信用修复
    Repaired,
    /// 已撤销
    Revoked,
    /// 已失效
    Expired,
    /// 不在公示期内 (公示期届满, or decided after the check date)
    OutOfWindow,
}

impl DisregardReason {
    pub fn code(self) -> &'static str {
        match self {
            DisregardReason::UnderObjection => "under_objection",
            DisregardReason::Repaired => "repaired",
            DisregardReason::Revoked => "revoked",
            DisregardReason::Expired => "expired",
            DisregardReason::OutOfWindow => "out_of_window",
        }
    }
    pub fn zh(self) -> &'static str {
        match self {
            DisregardReason::UnderObjection => "该记录异议处理中，暂不据以实施措施",
            DisregardReason::Repaired => "该记录已信用修复，不再据以实施措施",
            DisregardReason::Revoked => "该记录已撤销，不据以实施措施",
            DisregardReason::Expired => "该记录已失效，不再据以实施措施",
            DisregardReason::OutOfWindow => "该记录不在公示期内，不据以实施措施",
        }
    }
}

/// A record that would have matched a trigger but did not count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Disregarded {
    pub key: RecordKey,
    /// `under_objection` | `repaired` | `revoked` | `expired` | `out_of_window`
    pub reason_code: DisregardReason,
    pub reason_zh: String,
    /// The linked person's role when the record is a person's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via_person: Option<PersonRole>,
    /// Codes of the measures it would have matched (for absence triggers: the incentive it would have
    /// blocked), sorted.
    pub measures: Vec<String>,
}

/// A measure that applies, with its evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchedMeasure {
    pub code: String,
    pub kind: MeasureKind,
    pub action: Action,
    /// The action's effect on the decision.
    pub effect: Decision,
    /// 实施部门
    pub implementing_agency: String,
    /// 措施内容
    pub content: String,
    /// 法律依据
    pub legal_basis: LegalBasis,
    /// The records that triggered it, sorted; empty for absence and class triggers.
    pub triggering: Vec<RecordKey>,
    /// The linked person's role when a triggering record is a linked person's (the first such).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via_person: Option<PersonRole>,
    /// Which triggers held, in Chinese (e.g. “法定代表人为失信被执行人”, “36个月内无失信记录”).
    pub explanation: String,
}

/// The answer of a credit check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckOutcome {
    /// The strictest effect of the punishments that apply; with none, `priority` when an incentive
    /// applies, else `normal`.
    pub decision: Decision,
    pub scenario: Scenario,
    pub checked_on: NaiveDate,
    pub subject: Option<SubjectKey>,
    /// `false` = 查无此主体: decision `normal`, no measures.
    pub subject_known: bool,
    /// Measures that apply, sorted by code.
    pub measures: Vec<MatchedMeasure>,
    /// Incentives whose triggers held but that do not apply because a punishment does (失信主体不享受
    /// 守信激励), sorted by code.
    pub suppressed: Vec<MatchedMeasure>,
    /// Records that would have matched but did not count, sorted by key.
    pub disregarded: Vec<Disregarded>,
    /// The catalogue version that answered.
    pub catalogue_version: CatalogueVersion,
}

impl CheckOutcome {
    /// A one-line Chinese summary, e.g. “不予办理：适用惩戒措施2项；激励措施1项因存在失信记录不予适用；
    /// 1条记录未予考虑”.
    pub fn summary_zh(&self) -> String {
        if !self.subject_known {
            return format!("{}：未查询到该主体的信用记录", self.decision.zh());
        }
        let p = self
            .measures
            .iter()
            .filter(|m| m.kind == MeasureKind::Punishment)
            .count();
        let i = self.measures.len() - p;
        let mut s = format!("{}：", self.decision.zh());
        match (p, i) {
            (0, 0) => s.push_str("无适用的奖惩措施"),
            (0, i) => s.push_str(&format!("适用激励措施{i}项")),
            (p, _) => s.push_str(&format!("适用惩戒措施{p}项")),
        }
        if !self.suppressed.is_empty() {
            s.push_str(&format!(
                "；激励措施{}项因存在失信记录不予适用",
                self.suppressed.len()
            ));
        }
        if !self.disregarded.is_empty() {
            s.push_str(&format!(
                "；{}条记录因异议、修复、撤销或不在公示期内未予考虑",
                self.disregarded.len()
            ));
        }
        s
    }
}

/// Which linked persons a trigger looks at: a bit per role; `ANY_ROLE` = all.
const ANY_ROLE: u8 = 0xff;

fn role_bit(r: PersonRole) -> u8 {
    match r {
        PersonRole::LegalRepresentative => 1,
        PersonRole::Shareholder => 2,
        PersonRole::SeniorManager => 4,
        PersonRole::KeyPractitioner => 8,
    }
}

fn role_mask(roles: &[PersonRole]) -> u8 {
    if roles.is_empty() {
        ANY_ROLE
    } else {
        roles.iter().fold(0, |m, r| m | role_bit(*r))
    }
}

fn category_bit(c: Category) -> u16 {
    1u16 << (c as u16)
}

#[derive(Debug, Clone)]
enum Check {
    Record {
        on_subject: bool,
        /// 0 = no persons
        persons: u8,
        categories: u16,
        /// punishments match negative records; incentives match the others
        negative: bool,
        min_severity: Option<Severity>,
        lists: Vec<String>,
        /// index into the cut-off dates
        cutoff: Option<usize>,
    },
    NoNegative {
        cutoff: usize,
    },
    Class {
        classes: Vec<String>,
    },
}

#[derive(Debug, Clone)]
struct CompiledTrigger {
    check: Check,
    explanation: String,
}

#[derive(Debug, Clone)]
struct CompiledMeasure {
    measure: Measure,
    triggers: Vec<CompiledTrigger>,
}

/// A catalogue prepared for checks: measures indexed by scenario, trigger conditions as bit masks,
/// explanations written once. Build one per catalogue version and share it (it is immutable).
#[derive(Debug, Clone)]
pub struct CompiledCatalogue {
    version: CatalogueVersion,
    measures: Vec<CompiledMeasure>,
    /// scenario code → indexes into `measures`, in code order
    by_scenario: HashMap<String, Vec<usize>>,
    /// distinct look-back windows in months, for cut-off dates computed once per check
    windows: Vec<u32>,
}

impl CompiledCatalogue {
    pub fn compile(catalogue: &Catalogue) -> Self {
        let mut windows: Vec<u32> = Vec::new();
        let mut window_index = |m: u32| -> usize {
            match windows.iter().position(|&w| w == m) {
                Some(i) => i,
                None => {
                    windows.push(m);
                    windows.len() - 1
                }
            }
        };
        let mut measures = Vec::with_capacity(catalogue.measures().len());
        let mut by_scenario: HashMap<String, Vec<usize>> = HashMap::new();
        // `Catalogue` keeps measures sorted by code, so every per-scenario list is in code order.
        for (i, m) in catalogue.measures().iter().enumerate() {
            let negative = m.kind == MeasureKind::Punishment;
            let triggers = m
                .triggers
                .iter()
                .map(|t| CompiledTrigger {
                    explanation: t.describe_zh(),
                    check: match t {
                        Trigger::Record(r) => {
                            let (on_subject, persons) = match &r.applies_to {
                                AppliesTo::Subject => (true, 0),
                                AppliesTo::LinkedPerson(roles) => (false, role_mask(roles)),
                                AppliesTo::Either(roles) => (true, role_mask(roles)),
                            };
                            Check::Record {
                                on_subject,
                                persons,
                                categories: r
                                    .categories
                                    .iter()
                                    .fold(0, |m, c| m | category_bit(*c)),
                                negative,
                                min_severity: r.min_severity,
                                lists: r.list_name_contains.clone(),
                                cutoff: r.within_months.map(&mut window_index),
                            }
                        }
                        Trigger::NoNegativeWithin { months } => Check::NoNegative {
                            cutoff: window_index(*months),
                        },
                        Trigger::CreditClass { classes } => Check::Class {
                            classes: classes.clone(),
                        },
                    },
                })
                .collect();
            for s in &m.scenarios {
                let list = by_scenario.entry(s.as_str().to_string()).or_default();
                if !list.contains(&i) {
                    list.push(i);
                }
            }
            measures.push(CompiledMeasure {
                measure: m.clone(),
                triggers,
            });
        }
        CompiledCatalogue {
            version: catalogue.version().clone(),
            measures,
            by_scenario,
            windows,
        }
    }

    pub fn version(&self) -> &CatalogueVersion {
        &self.version
    }

    /// How many measures apply in a scenario (in force or not).
    pub fn measures_in(&self, scenario: &Scenario) -> usize {
        self.by_scenario
            .get(scenario.as_str())
            .map_or(0, |v| v.len())
    }
}

impl CompiledCatalogue {
    /// Cut-off dates of the look-back windows for a check on `on`. A window reaching before the
    /// calendar's start cuts off nothing.
    fn cutoffs(&self, on: NaiveDate) -> Vec<NaiveDate> {
        self.windows
            .iter()
            .map(|m| {
                on.checked_sub_months(Months::new(*m))
                    .unwrap_or(NaiveDate::MIN)
            })
            .collect()
    }

    /// Which records can matter to a check of `scenario` on `on`, see [`RecordFilter`].
    pub fn record_filter(&self, scenario: &Scenario, on: NaiveDate) -> RecordFilter<'_> {
        let mut f = RecordFilter {
            conds: Vec::new(),
            negative_since: None,
            subject_masks: [0; 2],
            person_masks: [0; 2],
            roles: 0,
        };
        let Some(indexes) = self.by_scenario.get(scenario.as_str()) else {
            return f;
        };
        let cuts = self.cutoffs(on);
        for cm in indexes.iter().filter_map(|&i| self.measures.get(i)) {
            // The same skip as `decide`: a measure not in force looks at nothing.
            if !cm.measure.in_force(on) {
                continue;
            }
            for t in &cm.triggers {
                match &t.check {
                    Check::Record {
                        on_subject,
                        persons,
                        categories,
                        negative,
                        min_severity,
                        lists,
                        cutoff,
                    } => {
                        let side = usize::from(*negative);
                        if *on_subject {
                            f.subject_masks[side] |= categories;
                        }
                        if *persons != 0 {
                            f.person_masks[side] |= categories;
                            f.roles |= persons;
                        }
                        f.conds.push((
                            *on_subject,
                            *persons,
                            RecordCond {
                                categories: *categories,
                                negative: *negative,
                                min_severity: *min_severity,
                                lists,
                                cutoff: cutoff.and_then(|i| cuts.get(i).copied()),
                                on,
                                code: cm.measure.code.as_str(),
                            },
                        ));
                    }
                    Check::NoNegative { cutoff } => {
                        let c = cuts.get(*cutoff).copied().unwrap_or(NaiveDate::MIN);
                        f.negative_since =
                            Some(f.negative_since.map_or(c, |s: NaiveDate| s.min(c)));
                        f.subject_masks[1] = u16::MAX;
                    }
                    Check::Class { .. } => {}
                }
            }
        }
        f
    }
}

/// Which records can matter to one check (a scenario on a date): a record the filter rejects meets
/// no record trigger of the scenario's measures in force and is not a negative record the absence
/// trigger looks at, so [`decide`] over facts without it gives exactly the same outcome. Lets the read
/// index copy out only the few records a check can report (most of a subject's records are licences
/// and registrations no trigger names) and skip linked persons no trigger looks at.
///
/// Keep the facts' order when dropping records: `decide` reports the role of the first hit.
#[derive(Debug)]
pub struct RecordFilter<'c> {
    /// (on the subject, person role bits, condition) of each record trigger
    conds: Vec<(bool, u8, RecordCond<'c>)>,
    /// earliest cut-off of the absence triggers: the subject's negative records decided since count
    negative_since: Option<NaiveDate>,
    /// quick reject: categories named by subject / person conditions, [not negative, negative]
    subject_masks: [u16; 2],
    person_masks: [u16; 2],
    roles: u8,
}

impl RecordFilter<'_> {
    /// Whether any trigger looks at linked persons with this role (else their records need not be
    /// gathered at all).
    #[inline]
    pub fn looks_at(&self, role: PersonRole) -> bool {
        self.roles & role_bit(role) != 0
    }

    /// Whether a record of the subject itself can matter.
    #[inline]
    pub fn subject_record(&self, r: &RecordTraits<'_>) -> bool {
        let negative = r.nature == Nature::Negative;
        if self.subject_masks[usize::from(negative)] & category_bit(r.category) == 0 {
            return false;
        }
        if negative && self.negative_since.is_some_and(|c| r.decision_date >= c) {
            return true;
        }
        self.conds
            .iter()
            .any(|(on_subject, _, c)| *on_subject && c.holds_for(r))
    }

    /// Whether a record of a linked person with this role can matter.
    #[inline]
    pub fn person_record(&self, role: PersonRole, r: &RecordTraits<'_>) -> bool {
        let side = usize::from(r.nature == Nature::Negative);
        if self.person_masks[side] & category_bit(r.category) == 0 || !self.looks_at(role) {
            return false;
        }
        let bit = role_bit(role);
        self.conds
            .iter()
            .any(|(_, persons, c)| persons & bit != 0 && c.holds_for(r))
    }
}

/// A record seen by a measure that counted, and whose it is.
struct Hit<'a> {
    record: &'a FactRecord,
    via: Option<PersonRole>,
}

/// A record that would have matched a measure but did not count: (record, via, reason, measure).
type Skipped<'a> = (&'a FactRecord, Option<PersonRole>, DisregardReason, &'a str);

/// The conditions of one record trigger for one check.
#[derive(Debug)]
struct RecordCond<'a> {
    categories: u16,
    negative: bool,
    min_severity: Option<Severity>,
    lists: &'a [String],
    cutoff: Option<NaiveDate>,
    on: NaiveDate,
    code: &'a str,
}

impl<'a> RecordCond<'a> {
    /// Whether the record meets the conditions, leaving its status and publicity aside.
    #[inline]
    fn holds(&self, r: &FactRecord) -> bool {
        self.holds_for(&r.traits())
    }

    /// [`RecordCond::holds`] on the fields alone; [`RecordFilter`] uses the same test, which is what
    /// makes deciding over filtered records give the same answer.
    #[inline]
    fn holds_for(&self, r: &RecordTraits<'_>) -> bool {
        self.categories & category_bit(r.category) != 0
            && (r.nature == Nature::Negative) == self.negative
            && self.min_severity.is_none_or(|s| r.severity >= s)
            && self.cutoff.is_none_or(|c| r.decision_date >= c)
            && (self.lists.is_empty()
                || r.list_name
                    .is_some_and(|n| self.lists.iter().any(|l| n.contains(l.as_str()))))
    }

    /// Scans records; records that meet the conditions go to `hits` when in force and to `skipped`
    /// otherwise. Returns whether any counted.
    fn scan(
        &self,
        records: &'a [FactRecord],
        via: Option<PersonRole>,
        hits: &mut Vec<Hit<'a>>,
        skipped: &mut Vec<Skipped<'a>>,
    ) -> bool {
        let mut any = false;
        for r in records {
            if !self.holds(r) {
                continue;
            }
            match r.disregard_reason(self.on) {
                None => {
                    any = true;
                    hits.push(Hit { record: r, via });
                }
                Some(reason) => skipped.push((r, via, reason, self.code)),
            }
        }
        any
    }
}

/// Decides a credit check: the measures of `scenario` in force on `on` whose triggers hold for the
/// subject, and the overall decision.
///
/// Rules:
/// - only active records within their publicity window count (see [`FactRecord::in_force`]); records
///   under objection (异议), repaired (已修复), revoked, expired or out of their window never trigger a
///   measure nor block an incentive, and are listed in `disregarded` when they would have;
/// - a measure applies when any of its triggers holds; punishment record triggers look at negative
///   records, incentive record triggers at the others; the absence trigger looks at the subject's
///   negative records decided in the window;
/// - the decision is the strictest effect of the punishments that apply; incentives apply only
///   when no punishment does (otherwise they are reported in `suppressed`), giving `priority`;
///   with nothing, `normal`;
/// - an unknown subject (`facts.subject == None`) gets `normal`, `subject_known = false`, no measures.
///
/// The result depends only on the arguments; lists are sorted by measure code and record key.
pub fn decide(
    catalogue: &CompiledCatalogue,
    scenario: &Scenario,
    facts: &SubjectFacts,
    on: NaiveDate,
) -> CheckOutcome {
    let mut out = CheckOutcome {
        decision: Decision::Normal,
        scenario: scenario.clone(),
        checked_on: on,
        subject: facts.subject.clone(),
        subject_known: facts.subject.is_some(),
        measures: Vec::new(),
        suppressed: Vec::new(),
        disregarded: Vec::new(),
        catalogue_version: catalogue.version.clone(),
    };
    if facts.subject.is_none() {
        return out;
    }
    let Some(indexes) = catalogue.by_scenario.get(scenario.as_str()) else {
        return out;
    };

    // Cut-off dates, once per check.
    let cuts = catalogue.cutoffs(on);

    let mut hits: Vec<Hit<'_>> = Vec::new();
    let mut held: Vec<usize> = Vec::new();
    // (record, via, reason, measure code) of records that would have matched
    let mut skipped: Vec<Skipped<'_>> = Vec::new();

    for &mi in indexes {
        let Some(cm) = catalogue.measures.get(mi) else {
            continue;
        };
        let m = &cm.measure;
        if !m.in_force(on) {
            continue;
        }
        hits.clear();
        held.clear();
        for (ti, t) in cm.triggers.iter().enumerate() {
            let mut holds = false;
            match &t.check {
                Check::Record {
                    on_subject,
                    persons,
                    categories,
                    negative,
                    min_severity,
                    lists,
                    cutoff,
                } => {
                    let cutoff = cutoff.and_then(|i| cuts.get(i).copied());
                    let cond = RecordCond {
                        categories: *categories,
                        negative: *negative,
                        min_severity: *min_severity,
                        lists,
                        cutoff,
                        on,
                        code: m.code.as_str(),
                    };
                    if *on_subject {
                        holds |= cond.scan(&facts.records, None, &mut hits, &mut skipped);
                    }
                    if *persons != 0 {
                        for (role, records) in &facts.persons {
                            if persons & role_bit(*role) != 0 {
                                holds |= cond.scan(records, Some(*role), &mut hits, &mut skipped);
                            }
                        }
                    }
                }
                Check::NoNegative { cutoff } => {
                    let cutoff = cuts.get(*cutoff).copied().unwrap_or(NaiveDate::MIN);
                    let old_enough = facts.established_on.is_none_or(|e| e <= cutoff);
                    let mut blocked = false;
                    for r in &facts.records {
                        if r.nature != Nature::Negative || r.decision_date < cutoff {
                            continue;
                        }
                        match r.disregard_reason(on) {
                            None => blocked = true,
                            Some(reason) => skipped.push((r, None, reason, m.code.as_str())),
                        }
                    }
                    holds = old_enough && !blocked;
                }
                Check::Class { classes } => {
                    holds = facts
                        .credit_class
                        .as_deref()
                        .is_some_and(|c| classes.iter().any(|k| k == c));
                }
            }
            if holds {
                held.push(ti);
            }
        }
        if held.is_empty() {
            continue;
        }
        let mut triggering: Vec<RecordKey> = Vec::with_capacity(hits.len());
        let mut via_person = None;
        for h in &hits {
            if via_person.is_none() {
                via_person = h.via;
            }
            triggering.push(h.record.key.clone());
        }
        triggering.sort_unstable();
        triggering.dedup();
        let explanation = match held.as_slice() {
            [one] => cm.triggers[*one].explanation.clone(),
            many => many
                .iter()
                .map(|&i| cm.triggers[i].explanation.as_str())
                .collect::<Vec<_>>()
                .join("；"),
        };
        let matched = MatchedMeasure {
            code: m.code.clone(),
            kind: m.kind,
            action: m.action,
            effect: m.action.effect(),
            implementing_agency: m.implementing_agency.clone(),
            content: m.content.clone(),
            legal_basis: m.legal_basis.clone(),
            triggering,
            via_person,
            explanation,
        };
        match m.kind {
            MeasureKind::Punishment => out.measures.push(matched),
            MeasureKind::Incentive => out.suppressed.push(matched),
        }
    }

    // `out.measures` holds punishments and `out.suppressed` incentives so far.
    if let Some(strictest) = out.measures.iter().map(|m| m.effect).max() {
        out.decision = strictest;
    } else {
        out.measures = std::mem::take(&mut out.suppressed);
        out.decision = out
            .measures
            .iter()
            .map(|m| m.effect)
            .min()
            .unwrap_or(Decision::Normal);
    }

    if !skipped.is_empty() {
        skipped.sort_unstable_by(|a, b| a.0.key.cmp(&b.0.key).then(a.3.cmp(b.3)));
        let mut i = 0;
        while i < skipped.len() {
            let (r, via, reason, _) = skipped[i];
            let mut codes: Vec<String> = Vec::new();
            while i < skipped.len() && skipped[i].0.key == r.key {
                let code = skipped[i].3;
                if codes.last().map(String::as_str) != Some(code) {
                    codes.push(code.to_string());
                }
                i += 1;
            }
            out.disregarded.push(Disregarded {
                key: r.key.clone(),
                reason_code: reason,
                reason_zh: reason.zh().to_string(),
                via_person: via,
                measures: codes,
            });
        }
    }
    out
}
