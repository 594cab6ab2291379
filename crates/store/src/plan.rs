//! Classification of a batch's accepted rows against what is stored, shared by every backend so that
//! SQLite and PostgreSQL decide new / new version / duplicate by the same rule.
//!
//! The rule: a row whose key is not held is new; a row with the content of the key's current version
//! is a duplicate; any other row is a new version that supersedes the current one. Within one batch a
//! later row with the same key is compared with the earlier one: same digest, duplicate; different, a
//! new version of it.
//!
//! So that re-sending a batch which itself corrected a record changes nothing, a key's run of versions
//! in the batch is first matched against the end of its stored history: the longest leading run equal
//! to the newest stored versions counts as duplicates. For a key that occurs once this is exactly
//! "same content as the current version".

use std::collections::HashMap;
use std::hash::BuildHasher;

use creditloop_domain::intake::{AcceptedRow, IntakeCounts};
use creditloop_domain::record::RecordKey;

mod encode;
mod prep;

pub use encode::EncodedRows;
pub(crate) use encode::{Pipeline, StopOnDrop};
pub(crate) use prep::{
    IdBuildHasher, KEY_PREFIXES, PersonUpsert, SubjectUpsert, SubjectWrites, key_hashes,
    outcome_counts, subject_writes, written_identities,
};

/// Indexes of `records` that no write reads. A bulk load into an empty table drops them and builds
/// each once at its end: one sort instead of an insert per row into a B-tree that outgrows the page
/// cache (a third of the time of a million-row SQLite import). The definitions are the migrations'
/// (0001, 0004), the same in both backends. SQLite keeps the version probe's `records_key_hash`
/// (probing a load's own rows from memory instead was measured no faster there); PostgreSQL defers
/// it too (`postgres::KEY_HASH_INDEX`).
pub(crate) const DEFERRABLE_INDEXES: &[(&str, &str)] = &[
    (
        "records_subject_key",
        "CREATE INDEX IF NOT EXISTS records_subject_key ON records (subject_key)",
    ),
    (
        "records_list_entries",
        "CREATE INDEX IF NOT EXISTS records_list_entries ON records (category, decision_date)
             WHERE category IN ('serious_dishonest_list', 'abnormal_operation', 'red_list',
                 'dishonest_debtor')",
    ),
];

/// A stored version of a record, as a backend's probe returns it. The probe returns every stored
/// version of the probed key hashes (normally one), so that a re-sent batch with corrections is
/// recognised; the highest version of a key is its current one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExistingVersion {
    /// Row id of the stored version.
    pub id: i64,
    /// Full key, to resolve collisions of [`RecordKey::hash64`].
    pub key: RecordKey,
    /// 1 for the first submission, +1 per correction.
    pub version: i32,
    /// [`creditloop_domain::record::CreditRecord::content_digest`] of the stored content.
    pub digest: [u8; 32],
}

/// The version a new version replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Supersedes {
    /// A version already in the store, by row id: the backend clears its current flag.
    Stored(i64),
    /// An earlier row of the same batch, by index into the accepted rows: that row is written as not
    /// current in the first place.
    InBatch(usize),
}

/// What to do with one accepted row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlannedRow {
    /// First version of a record. `current` is false when a later row of the batch replaces it.
    New { current: bool },
    /// A correction of a record already held (or of an earlier row of this batch).
    NewVersion {
        supersedes: Supersedes,
        version: i32,
        current: bool,
    },
    /// Same key and content as a version already held: nothing to write.
    Duplicate,
}

impl PlannedRow {
    /// The version number to store, or `None` for a duplicate.
    pub fn version(&self) -> Option<i32> {
        match *self {
            PlannedRow::New { .. } => Some(1),
            PlannedRow::NewVersion { version, .. } => Some(version),
            PlannedRow::Duplicate => None,
        }
    }

    /// Whether the row is written as the current version (false for duplicates, which are not
    /// written at all).
    pub fn is_current(&self) -> bool {
        match *self {
            PlannedRow::New { current } | PlannedRow::NewVersion { current, .. } => current,
            PlannedRow::Duplicate => false,
        }
    }
}

/// The plan for a whole batch.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    /// One entry per accepted row, in the batch's order.
    pub rows: Vec<PlannedRow>,
    /// Stored row ids that stop being current.
    pub superseded: Vec<i64>,
    /// Counts of the accepted rows. `rejected` is left at 0: the plan sees only accepted rows, and
    /// the backend sets it from the batch.
    pub counts: IntakeCounts,
}

/// Classifies `rows` against `existing`, the stored versions by [`RecordKey::hash64`] (see
/// [`ExistingVersion`]). Pure: the backends probe, call this, then write what it says.
pub fn plan_batch(rows: &[AcceptedRow], existing: &HashMap<i64, Vec<ExistingVersion>>) -> Plan {
    let digests: Vec<[u8; 32]> = rows.iter().map(|r| r.record.content_digest()).collect();
    let hashes: Vec<i64> = rows.iter().map(|r| r.record.key.hash64()).collect();
    plan_with_digests(rows, &hashes, &digests, existing)
}

/// [`plan_batch`] with key hashes and digests already computed (the backends compute them together
/// with the stored body, so each record is serialised once). `hashes[i]` and `digests[i]` belong to
/// `rows[i]`.
pub(crate) fn plan_with_digests<S: BuildHasher>(
    rows: &[AcceptedRow],
    hashes: &[i64],
    digests: &[[u8; 32]],
    existing: &HashMap<i64, Vec<ExistingVersion>, S>,
) -> Plan {
    const NONE: usize = usize::MAX;
    debug_assert_eq!(rows.len(), digests.len());
    debug_assert_eq!(rows.len(), hashes.len());

    // Rows grouped by full key, without an allocation per group: groups in order of first occurrence
    // (so the plan is deterministic), rows of a group chained through `next_row`, groups whose keys
    // share a hash chained through `next_group`.
    let n = rows.len();
    let mut group_of_hash: HashMap<i64, usize, IdBuildHasher> =
        HashMap::with_capacity_and_hasher(n, IdBuildHasher::default());
    let mut first_row: Vec<usize> = Vec::with_capacity(n);
    let mut last_row: Vec<usize> = Vec::with_capacity(n);
    let mut next_group: Vec<usize> = Vec::with_capacity(n);
    let mut next_row = vec![NONE; n];
    for (i, row) in rows.iter().enumerate() {
        let head = *group_of_hash.entry(hashes[i]).or_insert(NONE);
        let mut g = head;
        while g != NONE && rows[first_row[g]].record.key != row.record.key {
            g = next_group[g];
        }
        if g == NONE {
            first_row.push(i);
            last_row.push(i);
            next_group.push(head);
            group_of_hash.insert(hashes[i], first_row.len() - 1);
        } else {
            next_row[last_row[g]] = i;
            last_row[g] = i;
        }
    }

    let mut planned = vec![PlannedRow::Duplicate; n];
    let mut superseded = Vec::new();
    let mut history: Vec<&ExistingVersion> = Vec::new();
    let mut runs: Vec<usize> = Vec::new();

    for &first in &first_row {
        let key = &rows[first].record.key;
        history.clear();
        if let Some(versions) = existing.get(&hashes[first]) {
            history.extend(versions.iter().filter(|v| v.key == *key));
        }
        history.sort_by_key(|v| v.version);

        // Runs of equal content; the rows inside a run after its first are duplicates of it.
        runs.clear();
        let mut i = first;
        while i != NONE {
            if runs.last().is_none_or(|&j| digests[j] != digests[i]) {
                runs.push(i);
            }
            i = next_row[i];
        }

        // Longest leading part of the runs that equals the newest stored versions.
        let matched = (1..=runs.len().min(history.len()))
            .rev()
            .find(|&k| {
                runs[..k]
                    .iter()
                    .zip(&history[history.len() - k..])
                    .all(|(&i, v)| digests[i] == v.digest)
            })
            .unwrap_or(0);

        let (mut version, mut prev) = match history.last() {
            Some(v) => (v.version, Some(Supersedes::Stored(v.id))),
            None => (0, None),
        };
        for &i in &runs[matched..] {
            version += 1;
            planned[i] = match prev {
                None => PlannedRow::New { current: true },
                Some(supersedes) => {
                    match supersedes {
                        Supersedes::Stored(id) => superseded.push(id),
                        Supersedes::InBatch(j) => clear_current(&mut planned[j]),
                    }
                    PlannedRow::NewVersion {
                        supersedes,
                        version,
                        current: true,
                    }
                }
            };
            prev = Some(Supersedes::InBatch(i));
        }
    }

    let mut counts = IntakeCounts::default();
    for (row, p) in rows.iter().zip(&planned) {
        match p {
            PlannedRow::Duplicate => counts.duplicates += 1,
            PlannedRow::New { .. } | PlannedRow::NewVersion { .. } => {
                counts.accepted += 1;
                if matches!(p, PlannedRow::NewVersion { .. }) {
                    counts.new_versions += 1;
                }
                if row.timeliness.late {
                    counts.late += 1;
                }
            }
        }
    }

    Plan {
        rows: planned,
        superseded,
        counts,
    }
}

/// Plans a batch whose rows are being encoded by `pipeline`: waits only for the digests the plan
/// needs (see [`rows_needing_digest`]), so that for new data writing can begin at once.
pub(crate) fn plan_pipelined<S: BuildHasher>(
    rows: &[AcceptedRow],
    hashes: &[i64],
    existing: &HashMap<i64, Vec<ExistingVersion>, S>,
    pipeline: &Pipeline<'_>,
) -> Result<Plan, crate::StoreError> {
    let mut digests = vec![[0u8; 32]; rows.len()];
    for i in rows_needing_digest(hashes, existing) {
        let (piece, j) = pipeline.row(i)?;
        digests[i] = piece.digests[j];
    }
    Ok(plan_with_digests(rows, hashes, &digests, existing))
}

/// The rows whose digest the plan needs: those whose key hash is stored or occurs more than once in
/// the batch. Any other row is new whatever its content, so its digest can wait for the insert.
pub(crate) fn rows_needing_digest<S: BuildHasher>(
    hashes: &[i64],
    existing: &HashMap<i64, Vec<ExistingVersion>, S>,
) -> Vec<usize> {
    let mut seen: HashMap<i64, usize, IdBuildHasher> =
        HashMap::with_capacity_and_hasher(hashes.len(), IdBuildHasher::default());
    for h in hashes {
        *seen.entry(*h).or_default() += 1;
    }
    hashes
        .iter()
        .enumerate()
        .filter(|(_, h)| existing.contains_key(*h) || seen.get(*h).is_some_and(|&n| n > 1))
        .map(|(i, _)| i)
        .collect()
}

fn clear_current(row: &mut PlannedRow) {
    match row {
        PlannedRow::New { current } | PlannedRow::NewVersion { current, .. } => *current = false,
        PlannedRow::Duplicate => {}
    }
}

/// Rows for tests of the modules beside this one.
#[cfg(test)]
pub(crate) mod tests_support {
    use chrono::NaiveDate;
    use creditloop_domain::intake::AcceptedRow;
    use creditloop_domain::record::{
        AgencyRef, Category, CreditRecord, Detail, Nature, RecordKey, RecordStatus, Severity,
        Timeliness,
    };
    use creditloop_domain::subject::{SubjectCodes, SubjectKind, SubjectRef};

    /// `n` rows with distinct keys and subjects named by number.
    pub fn sample_rows(n: usize) -> Vec<AcceptedRow> {
        let day = NaiveDate::from_ymd_opt(2024, 3, 1).expect("date");
        let agency = AgencyRef {
            name: "市场监管局".into(),
            code: "12100000425006133D".into(),
        };
        (0..n)
            .map(|i| AcceptedRow {
                row: i as u64 + 1,
                record: CreditRecord {
                    key: RecordKey {
                        source: agency.code.clone(),
                        category: Category::Penalty,
                        doc_no: format!("罚〔2024〕{i}号"),
                    },
                    subject: SubjectRef {
                        name: format!("测试{i}有限公司"),
                        kind: SubjectKind::Enterprise,
                        codes: SubjectCodes {
                            tax_no: Some(format!("T{}", i % 97)),
                            ..SubjectCodes::default()
                        },
                        persons: vec![],
                    },
                    counterpart: None,
                    nature: Nature::Negative,
                    severity: Severity::General,
                    decision_date: day,
                    title: format!("罚款{i}元"),
                    authority: agency.clone(),
                    source_unit: agency.clone(),
                    publicity_until: day,
                    status: RecordStatus::Active,
                    detail: Detail::Generic { fields: vec![] },
                    remarks: None,
                },
                timeliness: Timeliness {
                    submitted_on: day,
                    working_days: 0,
                    deadline: day,
                    late: false,
                },
                identities: Vec::new(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use creditloop_domain::record::{
        AgencyRef, Category, CreditRecord, Detail, Nature, RecordStatus, Severity, Timeliness,
    };
    use creditloop_domain::subject::{SubjectCodes, SubjectKind, SubjectRef};
    use proptest::prelude::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
    }

    fn row(n: u64, doc: &str, title: &str, late: bool) -> AcceptedRow {
        let record = CreditRecord {
            key: RecordKey {
                source: "11120000MB0000000X".into(),
                category: Category::Penalty,
                doc_no: doc.into(),
            },
            subject: SubjectRef {
                name: "测试有限公司".into(),
                kind: SubjectKind::Enterprise,
                codes: SubjectCodes {
                    tax_no: Some("T1".into()),
                    ..SubjectCodes::default()
                },
                persons: vec![],
            },
            counterpart: None,
            nature: Nature::Negative,
            severity: Severity::General,
            decision_date: date(2024, 3, 1),
            title: title.into(),
            authority: AgencyRef {
                name: "市场监管局".into(),
                code: "11120000MB0000000X".into(),
            },
            source_unit: AgencyRef {
                name: "市场监管局".into(),
                code: "11120000MB0000000X".into(),
            },
            publicity_until: date(2024, 6, 1),
            status: RecordStatus::Active,
            detail: Detail::Generic { fields: vec![] },
            remarks: None,
        };
        AcceptedRow {
            row: n,
            record,
            timeliness: Timeliness {
                submitted_on: date(2024, 3, 5),
                working_days: 2,
                deadline: date(2024, 3, 12),
                late,
            },
            identities: Vec::new(),
        }
    }

    fn stored(id: i64, r: &AcceptedRow, version: i32) -> (i64, Vec<ExistingVersion>) {
        (
            r.record.key.hash64(),
            vec![ExistingVersion {
                id,
                key: r.record.key.clone(),
                version,
                digest: r.record.content_digest(),
            }],
        )
    }

    #[test]
    fn body_digest_equals_content_digest() {
        let r = row(1, "A", "罚款", false);
        let body = serde_json::to_string(&r.record).expect("serialise");
        let d: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(body.as_bytes()).into();
        assert_eq!(d, r.record.content_digest());
    }

    #[test]
    fn new_rows_in_empty_store() {
        let rows = vec![row(1, "A", "x", false), row(2, "B", "x", true)];
        let p = plan_batch(&rows, &HashMap::new());
        assert_eq!(p.rows, vec![PlannedRow::New { current: true }; 2]);
        assert!(p.superseded.is_empty());
        assert_eq!(
            p.counts,
            IntakeCounts {
                accepted: 2,
                new_versions: 0,
                duplicates: 0,
                rejected: 0,
                late: 1
            }
        );
    }

    #[test]
    fn stored_same_content_is_duplicate_and_changed_is_version() {
        let a = row(1, "A", "x", false);
        let b = row(2, "B", "x", true);
        let b_changed = row(2, "B", "y", true);
        let existing: HashMap<_, _> = [stored(10, &a, 1), stored(11, &b, 3)].into();
        let p = plan_batch(&[a, b_changed], &existing);
        assert_eq!(
            p.rows,
            vec![
                PlannedRow::Duplicate,
                PlannedRow::NewVersion {
                    supersedes: Supersedes::Stored(11),
                    version: 4,
                    current: true
                }
            ]
        );
        assert_eq!(p.superseded, vec![11]);
        assert_eq!(p.counts.accepted, 1);
        assert_eq!(p.counts.new_versions, 1);
        assert_eq!(p.counts.duplicates, 1);
        assert_eq!(p.counts.late, 1);
    }

    #[test]
    fn same_key_twice_in_batch() {
        let rows = vec![
            row(1, "A", "x", false),
            row(2, "A", "x", false),
            row(3, "A", "y", false),
            row(4, "A", "z", true),
        ];
        let p = plan_batch(&rows, &HashMap::new());
        assert_eq!(
            p.rows,
            vec![
                PlannedRow::New { current: false },
                PlannedRow::Duplicate,
                PlannedRow::NewVersion {
                    supersedes: Supersedes::InBatch(0),
                    version: 2,
                    current: false
                },
                PlannedRow::NewVersion {
                    supersedes: Supersedes::InBatch(2),
                    version: 3,
                    current: true
                },
            ]
        );
        assert!(p.superseded.is_empty());
        assert_eq!(p.counts.accepted, 3);
        assert_eq!(p.counts.new_versions, 2);
        assert_eq!(p.counts.duplicates, 1);
        assert_eq!(p.counts.late, 1);
    }

    #[test]
    fn stored_then_two_changes_in_batch() {
        let a = row(1, "A", "x", false);
        let existing: HashMap<_, _> = [stored(7, &a, 1)].into();
        let rows = vec![row(1, "A", "y", false), row(2, "A", "x", false)];
        let p = plan_batch(&rows, &existing);
        // Reverting to the stored content is still a change of the current (in-batch) version.
        assert_eq!(
            p.rows,
            vec![
                PlannedRow::NewVersion {
                    supersedes: Supersedes::Stored(7),
                    version: 2,
                    current: false
                },
                PlannedRow::NewVersion {
                    supersedes: Supersedes::InBatch(0),
                    version: 3,
                    current: true
                },
            ]
        );
        assert_eq!(p.superseded, vec![7]);
    }

    #[test]
    fn hash_collision_is_resolved_by_full_key() {
        let a = row(1, "A", "x", false);
        let other = row(2, "OTHER", "x", false);
        // Pretend `other` is stored under `a`'s hash.
        let existing: HashMap<_, _> = [(
            a.record.key.hash64(),
            vec![ExistingVersion {
                id: 5,
                key: other.record.key.clone(),
                version: 1,
                digest: a.record.content_digest(),
            }],
        )]
        .into();
        let p = plan_batch(&[a], &existing);
        assert_eq!(p.rows, vec![PlannedRow::New { current: true }]);
    }

    fn arb_rows() -> impl Strategy<Value = Vec<AcceptedRow>> {
        prop::collection::vec((0u8..6, 0u8..3, any::<bool>()), 0..40).prop_map(|v| {
            v.into_iter()
                .enumerate()
                .map(|(i, (doc, title, late))| {
                    row(i as u64 + 1, &format!("D{doc}"), &format!("T{title}"), late)
                })
                .collect()
        })
    }

    #[test]
    fn resending_a_corrected_batch_is_all_duplicates_but_a_revert_is_a_version() {
        let x = row(1, "A", "x", false);
        let y = row(2, "A", "y", false);
        let mut store = HashMap::new();
        let mut next_id = 1;
        let first = plan_batch(&[x.clone(), y.clone()], &store);
        apply(&[x.clone(), y.clone()], &first, &mut store, &mut next_id);
        let again = plan_batch(&[x.clone(), y.clone()], &store);
        assert_eq!(again.rows, vec![PlannedRow::Duplicate; 2]);
        assert!(again.superseded.is_empty());
        // `x` alone after `y` is current: the agency went back to the first content.
        let revert = plan_batch(std::slice::from_ref(&x), &store);
        assert_eq!(
            revert.rows,
            vec![PlannedRow::NewVersion {
                supersedes: Supersedes::Stored(2),
                version: 3,
                current: true
            }]
        );
        assert_eq!(revert.superseded, vec![2]);
    }

    /// Adds what a store keeps after writing `rows` as `plan` says: every version.
    fn apply(
        rows: &[AcceptedRow],
        plan: &Plan,
        store: &mut HashMap<i64, Vec<ExistingVersion>>,
        next_id: &mut i64,
    ) {
        for (r, p) in rows.iter().zip(&plan.rows) {
            if let Some(version) = p.version() {
                store
                    .entry(r.record.key.hash64())
                    .or_default()
                    .push(ExistingVersion {
                        id: *next_id,
                        key: r.record.key.clone(),
                        version,
                        digest: r.record.content_digest(),
                    });
                *next_id += 1;
            }
        }
    }

    proptest! {
        #[test]
        fn writing_the_same_rows_twice_gives_all_duplicates(rows in arb_rows()) {
            let mut store = HashMap::new();
            let mut next_id = 1;
            let first = plan_batch(&rows, &store);
            prop_assert_eq!(first.counts.accepted + first.counts.duplicates, rows.len() as u64);
            apply(&rows, &first, &mut store, &mut next_id);

            let second = plan_batch(&rows, &store);
            prop_assert!(second.rows.iter().all(|p| *p == PlannedRow::Duplicate));
            prop_assert!(second.superseded.is_empty());
            prop_assert_eq!(second.counts.duplicates, rows.len() as u64);
            prop_assert_eq!(second.counts.accepted, 0);
        }

        #[test]
        fn only_the_digests_the_plan_asks_for_matter(rows in arb_rows(), split in 0usize..40) {
            let split = split.min(rows.len());
            let mut store = HashMap::new();
            let mut next_id = 1;
            let first = plan_batch(&rows[..split], &store);
            apply(&rows[..split], &first, &mut store, &mut next_id);
            let rest = &rows[split..];
            let hashes: Vec<i64> = rest.iter().map(|r| r.record.key.hash64()).collect();
            let real: Vec<[u8; 32]> = rest.iter().map(|r| r.record.content_digest()).collect();
            let mut partial = vec![[0u8; 32]; rest.len()];
            for i in rows_needing_digest(&hashes, &store) {
                partial[i] = real[i];
            }
            prop_assert_eq!(
                plan_with_digests(rest, &hashes, &partial, &store),
                plan_with_digests(rest, &hashes, &real, &store)
            );
        }

        #[test]
        fn classification_is_stable_and_one_version_is_current(rows in arb_rows(), split in 0usize..40) {
            let a = plan_batch(&rows, &HashMap::new());
            let b = plan_batch(&rows, &HashMap::new());
            prop_assert_eq!(&a, &b);
            // Exactly one current row per distinct key: the last one written.
            let mut keys: Vec<&RecordKey> = rows.iter().map(|r| &r.record.key).collect();
            keys.sort();
            keys.dedup();
            prop_assert_eq!(a.rows.iter().filter(|p| p.is_current()).count(), keys.len());
            for (i, p) in a.rows.iter().enumerate() {
                if p.is_current() {
                    let later_write = rows[i + 1..].iter().zip(&a.rows[i + 1..]).any(|(r, q)| {
                        r.record.key == rows[i].record.key && *q != PlannedRow::Duplicate
                    });
                    prop_assert!(!later_write);
                }
            }
            // Versions of a key count up by one across two batches.
            let split = split.min(rows.len());
            let mut store = HashMap::new();
            let mut next_id = 1;
            let p1 = plan_batch(&rows[..split], &store);
            apply(&rows[..split], &p1, &mut store, &mut next_id);
            let p2 = plan_batch(&rows[split..], &store);
            apply(&rows[split..], &p2, &mut store, &mut next_id);
            for versions in store.values() {
                let mut by_key: HashMap<&RecordKey, Vec<i32>> = HashMap::new();
                for v in versions {
                    by_key.entry(&v.key).or_default().push(v.version);
                }
                for list in by_key.values() {
                    let expect: Vec<i32> = (1..=list.len() as i32).collect();
                    prop_assert_eq!(list, &expect);
                }
            }
            prop_assert_eq!(p2.superseded.len() as u64 + p2.rows.iter().filter(|p| matches!(p, PlannedRow::NewVersion { supersedes: Supersedes::InBatch(_), .. })).count() as u64, p2.counts.new_versions);
        }
    }
}
