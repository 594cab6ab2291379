//! Write preparation shared by the backends: everything about a batch that can be computed without
//! the database, done once and as cheaply as possible (an import is bounded by this CPU work and the
//! database's own).

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use creditloop_domain::intake::{AcceptedRow, IntakeCounts};
use creditloop_domain::pii::SealedIdentity;
use creditloop_domain::subject::SubjectCodes;

use super::{Plan, PlannedRow};

/// Hasher for keys that are already uniform hashes ([`creditloop_domain::record::RecordKey::hash64`]
/// is a SHA-256 prefix): the value itself, without SipHash's cost.
#[derive(Default, Clone, Copy)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Not used for i64 keys; a plain FNV-1a keeps it correct for anything else.
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn write_i64(&mut self, n: i64) {
        self.0 = n as u64;
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

pub(crate) type IdBuildHasher = BuildHasherDefault<IdHasher>;

/// Key hashes of the rows, in order: what the version probe needs, cheap enough for the caller's
/// thread.
pub(crate) fn key_hashes(rows: &[AcceptedRow]) -> Vec<i64> {
    rows.iter().map(|r| r.record.key.hash64()).collect()
}

/// A subject to insert or update, merged over the written rows of a batch (later rows win).
pub(crate) struct SubjectUpsert<'a> {
    pub key: &'a str,
    pub name: &'a str,
    pub kind: &'static str,
    /// Borrowed from the row unless a later row of the batch adds codes.
    pub codes: Cow<'a, SubjectCodes>,
    /// JSON of `codes`.
    pub codes_json: String,
}

/// A person link to insert, or to complete with a resident number learnt later.
pub(crate) struct PersonUpsert<'a> {
    pub subject_key: &'a str,
    pub role: &'static str,
    pub name: &'a str,
    pub person_key: Option<String>,
    /// The masked resident number (the column `resident_id` holds only the masked form).
    pub resident_id: Option<&'a str>,
    /// JSON `[type, number]` of another identity document.
    pub other_id: Option<String>,
}

/// Everything a batch writes about subjects. Only rows that are written contribute, so a batch of
/// duplicates changes no subject.
pub(crate) struct SubjectWrites<'a> {
    pub subjects: Vec<SubjectUpsert<'a>>,
    /// (code, subject key): secondary codes, see [`secondary_codes`].
    pub codes: Vec<(&'a str, &'a str)>,
    pub persons: Vec<PersonUpsert<'a>>,
}

impl SubjectWrites<'_> {
    /// Puts each list in its table's key order (each key is in its list once), so that consecutive
    /// inserts into a table's B-tree descend to neighbouring pages that are still in the caches,
    /// instead of to random ones.
    pub fn sort_by_key(&mut self) {
        self.subjects.sort_unstable_by(|a, b| a.key.cmp(b.key));
        self.codes.sort_unstable();
        self.persons.sort_unstable_by(|a, b| {
            (a.subject_key, a.role, a.name).cmp(&(b.subject_key, b.role, b.name))
        });
    }
}

/// The sealed resident numbers of the written rows, in key order (as [`SubjectWrites::sort_by_key`]
/// puts the subjects); the sort is stable, so the first sealed copy of a number stays first and is
/// the one an insert that keeps the first copy keeps.
pub(crate) fn written_identities<'a>(
    rows: &'a [AcceptedRow],
    plan: &Plan,
) -> Vec<&'a SealedIdentity> {
    let mut ids: Vec<&SealedIdentity> = rows
        .iter()
        .zip(&plan.rows)
        .filter(|(_, p)| **p != PlannedRow::Duplicate)
        .flat_map(|(row, _)| &row.identities)
        .collect();
    ids.sort_by(|a, b| a.key.0.cmp(&b.key.0));
    ids
}

pub(crate) fn subject_writes<'a>(
    rows: &'a [AcceptedRow],
    subject_keys: &[&'a str],
    plan: &Plan,
) -> Result<SubjectWrites<'a>, serde_json::Error> {
    // Index of the subject's entry and the row it was last taken from.
    let mut index: HashMap<&'a str, usize> = HashMap::new();
    let mut subjects: Vec<SubjectUpsert<'a>> = Vec::new();
    let mut persons: Vec<PersonUpsert<'a>> = Vec::new();
    let mut person_index: HashMap<(&'a str, &'static str, &'a str), usize> = HashMap::new();

    for ((row, key), p) in rows.iter().zip(subject_keys).zip(&plan.rows) {
        if *p == PlannedRow::Duplicate {
            continue;
        }
        let key: &'a str = key;
        let s = &row.record.subject;
        match index.get(key) {
            Some(&i) => {
                let u = &mut subjects[i];
                u.name = &s.name;
                u.kind = s.kind.code();
                if !codes_cover(&u.codes, &s.codes) {
                    merge_codes(u.codes.to_mut(), &s.codes);
                }
            }
            None => {
                index.insert(key, subjects.len());
                subjects.push(SubjectUpsert {
                    key,
                    name: &s.name,
                    kind: s.kind.code(),
                    codes: Cow::Borrowed(&s.codes),
                    codes_json: String::new(),
                });
            }
        }
        for person in &s.persons {
            let id = (key, person.role.code(), person.name.as_str());
            let resident_id = person.person.as_ref().map(|r| r.masked());
            let other_id = person
                .other_id
                .as_ref()
                .map(serde_json::to_string)
                .transpose()?;
            match person_index.get(&id) {
                Some(&i) => {
                    let q = &mut persons[i];
                    if resident_id.is_some() {
                        q.resident_id = resident_id;
                        q.person_key = person.key().map(|k| k.0);
                    }
                    if other_id.is_some() {
                        q.other_id = other_id;
                    }
                }
                None => {
                    person_index.insert(id, persons.len());
                    persons.push(PersonUpsert {
                        subject_key: key,
                        role: person.role.code(),
                        name: &person.name,
                        person_key: person.key().map(|k| k.0),
                        resident_id,
                        other_id,
                    });
                }
            }
        }
    }

    let mut codes = Vec::new();
    let mut seen_codes: HashSet<&'a str> = HashSet::new();
    for s in &mut subjects {
        s.codes_json = serde_json::to_string(&*s.codes)?;
    }
    // Every code a merged subject holds came from one of its written rows, so the codes are borrowed
    // from the rows.
    for ((row, key), p) in rows.iter().zip(subject_keys).zip(&plan.rows) {
        if *p == PlannedRow::Duplicate {
            continue;
        }
        for code in secondary_codes(key, &row.record.subject.codes) {
            if seen_codes.insert(code) {
                codes.push((code, *key));
            }
        }
    }
    Ok(SubjectWrites {
        subjects,
        codes,
        persons,
    })
}

/// Whether merging `new` into `held` would change nothing.
fn codes_cover(held: &SubjectCodes, new: &SubjectCodes) -> bool {
    fn covers<T: PartialEq>(held: &Option<T>, new: &Option<T>) -> bool {
        new.is_none() || held == new
    }
    covers(&held.uscc, &new.uscc)
        && covers(&held.reg_no, &new.reg_no)
        && covers(&held.org_code, &new.org_code)
        && covers(&held.tax_no, &new.tax_no)
        && covers(&held.institution_cert, &new.institution_cert)
        && covers(&held.social_org_cert, &new.social_org_cert)
        && covers(&held.person, &new.person)
}

/// Later codes replace earlier ones; codes a later row does not carry are kept.
fn merge_codes(into: &mut SubjectCodes, from: &SubjectCodes) {
    fn take<T: Clone>(into: &mut Option<T>, from: &Option<T>) {
        if from.is_some() {
            into.clone_from(from);
        }
    }
    take(&mut into.uscc, &from.uscc);
    take(&mut into.reg_no, &from.reg_no);
    take(&mut into.org_code, &from.org_code);
    take(&mut into.tax_no, &from.tax_no);
    take(&mut into.institution_cert, &from.institution_cert);
    take(&mut into.social_org_cert, &from.social_org_cert);
    take(&mut into.person, &from.person);
}

/// The codes a subject can be found by other than the one its key is made of.
pub(crate) fn secondary_codes<'a>(
    key: &'a str,
    codes: &'a SubjectCodes,
) -> impl Iterator<Item = &'a str> {
    let own = key.get(2..).unwrap_or("");
    [
        codes.uscc.as_ref().map(|c| c.as_str()),
        // The pseudonym, never the masked form: masked numbers are not unique.
        codes.person.as_ref().map(|c| c.pseudonym.as_str()),
        codes.reg_no.as_ref().map(|c| c.as_str()),
        codes.org_code.as_ref().map(|c| c.as_str()),
        codes.tax_no.as_deref(),
        codes.institution_cert.as_deref(),
        codes.social_org_cert.as_deref(),
    ]
    .into_iter()
    .flatten()
    .filter(move |c| !c.is_empty() && *c != own)
}

/// The key prefixes of [`creditloop_domain::subject::SubjectCodes::key`], strongest first: a code is
/// looked up as a key with each of them before the secondary codes are searched.
pub(crate) const KEY_PREFIXES: [&str; 7] = ["U:", "P:", "R:", "O:", "T:", "I:", "S:"];

/// The outcome counts: the plan's, with the batch's rejected rows.
pub(crate) fn outcome_counts(plan: &Plan, rejected: usize) -> IntakeCounts {
    IntakeCounts {
        rejected: rejected as u64,
        ..plan.counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::plan_batch;
    use chrono::NaiveDate;
    use creditloop_domain::ids::{RegistrationNumber, Uscc};
    use creditloop_domain::pii::PersonId;
    use creditloop_domain::record::{
        AgencyRef, Category, CreditRecord, Detail, Nature, RecordKey, RecordStatus, Severity,
        Timeliness,
    };
    use creditloop_domain::subject::{PersonLink, PersonRole, SubjectKind, SubjectRef};

    fn date() -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, 3, 1).expect("date")
    }

    fn row(doc: &str, name: &str, codes: SubjectCodes, persons: Vec<PersonLink>) -> AcceptedRow {
        let agency = AgencyRef {
            name: "局".into(),
            code: "12100000425006133D".into(),
        };
        AcceptedRow {
            row: 1,
            record: CreditRecord {
                key: RecordKey {
                    source: agency.code.clone(),
                    category: Category::Penalty,
                    doc_no: doc.into(),
                },
                subject: SubjectRef {
                    name: name.into(),
                    kind: SubjectKind::Enterprise,
                    codes,
                    persons,
                },
                counterpart: None,
                nature: Nature::Negative,
                severity: Severity::General,
                decision_date: date(),
                title: "罚款".into(),
                authority: agency.clone(),
                source_unit: agency,
                publicity_until: date(),
                status: RecordStatus::Active,
                detail: Detail::Generic { fields: vec![] },
                remarks: None,
            },
            timeliness: Timeliness {
                submitted_on: date(),
                working_days: 0,
                deadline: date(),
                late: false,
            },
            identities: Vec::new(),
        }
    }

    fn uscc_codes() -> SubjectCodes {
        SubjectCodes {
            uscc: Some(Uscc::parse("91330100716105852F").expect("uscc")),
            ..SubjectCodes::default()
        }
    }

    fn person(resident: bool) -> PersonLink {
        PersonLink {
            name: "张三".into(),
            role: PersonRole::LegalRepresentative,
            person: resident.then(|| PersonId {
                pseudonym: "AAAABBBBCCCCDDDDEEEEFFFFGG".into(),
                masked: "1101**********002X".into(),
            }),
            other_id: None,
        }
    }

    #[test]
    fn subjects_merge_within_a_batch_and_skip_duplicates() {
        let mut more = uscc_codes();
        more.reg_no = Some(RegistrationNumber::parse("330100400015575").expect("reg no"));
        more.tax_no = Some("T-1".into());
        let rows = vec![
            row("A", "甲公司", uscc_codes(), vec![person(false)]),
            row("B", "甲集团", more, vec![person(true)]),
        ];
        let owned: Vec<String> = rows.iter().map(|r| r.record.subject.key().0).collect();
        let keys: Vec<&str> = owned.iter().map(String::as_str).collect();
        let plan = plan_batch(&rows, &HashMap::new());
        let w = subject_writes(&rows, &keys, &plan).expect("writes");
        assert_eq!(w.subjects.len(), 1);
        assert_eq!(w.subjects[0].name, "甲集团");
        assert_eq!(w.subjects[0].codes.tax_no.as_deref(), Some("T-1"));
        assert!(w.subjects[0].codes.reg_no.is_some());
        let mut codes: Vec<&str> = w.codes.iter().map(|(c, _)| *c).collect();
        codes.sort();
        assert_eq!(codes, vec!["330100400015575", "T-1"]);
        assert_eq!(w.persons.len(), 1);
        assert_eq!(w.persons[0].resident_id, Some("1101**********002X"));
        assert_eq!(
            w.persons[0].person_key.as_deref(),
            Some("P:AAAABBBBCCCCDDDDEEEEFFFFGG")
        );

        // Duplicates write no subject.
        let dup = Plan {
            rows: vec![PlannedRow::Duplicate; 2],
            ..Plan::default()
        };
        let w = subject_writes(&rows, &keys, &dup).expect("writes");
        assert!(w.subjects.is_empty() && w.codes.is_empty() && w.persons.is_empty());
    }

    #[test]
    fn secondary_codes_exclude_the_key_code() {
        let mut codes = uscc_codes();
        codes.tax_no = Some("91330100716105852F".into());
        codes.org_code = None;
        let key = "U:91330100716105852F";
        assert_eq!(secondary_codes(key, &codes).count(), 0);
        codes.institution_cert = Some("事证123".into());
        assert_eq!(
            secondary_codes(key, &codes).collect::<Vec<_>>(),
            vec!["事证123"]
        );
    }
}
