//! The conformance suite: every test runs against SQLite (a fresh file per test) and PostgreSQL (a
//! fresh database per test on `CREDITLOOP_TEST_PG`, default `postgres://postgres@127.0.0.1:5432/test`).
//! When PostgreSQL is unreachable the PostgreSQL half is skipped with a message, except under `CI=true`,
//! where it fails: CI must run it.

use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, NaiveDate, TimeZone, Utc};

use creditloop_domain::agency::{Agency, AgencyLevel};
use creditloop_domain::feedback::{Feedback, FeedbackOutcome};
use creditloop_domain::ids::{OrgCode, RegistrationNumber, ResidentId, Uscc};
use creditloop_domain::intake::{AcceptedRow, IntakeCounts, RejectedRow, RowError};
use creditloop_domain::pii::{PersonId, SealedIdentity};
use creditloop_domain::record::{
    AgencyRef, Category, CreditRecord, Detail, LicenceDetail, LicenceKind, ListingDetail, Nature,
    PenaltyDetail, PenaltyKind, RecordKey, RecordStatus, Severity, Timeliness,
};
use creditloop_domain::subject::{
    PersonLink, PersonRole, SubjectCodes, SubjectKey, SubjectKind, SubjectRef,
};
use creditloop_pii::PiiKey;
use creditloop_store::{
    Batch, CheckQuery, CheckStat, EncodedRows, FeedbackWrite, IndexFeed, ListQuery, Store,
    StoredCatalogue, StoredCheck, StoredReport, Totals, new_check_id,
};

// ---------------------------------------------------------------------------------------------
// Fixtures

const SOURCE: &str = "12100000425006133D";
const HANGZHOU: &str = "91330100716105852F";
const SHENZHEN: &str = "91440300708461136T";
const SHANGHAI: &str = "91310000132260250X";
const BEIJING: &str = "91110000802100433B";
const PERSON_ID: &str = "11010519491231002X";
const REG_NO: &str = "330100400015575";

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
}

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, day, hour, 30, 15)
        .single()
        .expect("valid test time")
}

fn uscc(s: &str) -> Uscc {
    Uscc::parse(s).expect("valid test USCC")
}

fn resident(s: &str) -> ResidentId {
    ResidentId::parse(s, date(2026, 1, 1)).expect("valid test resident id")
}

/// The personal data key of the tests (ingest pseudonymises and seals with it).
fn pii() -> PiiKey {
    creditloop_pii::test_key()
}

/// A person as ingest hands it to the store: pseudonym and masked number.
fn person_of(s: &str) -> PersonId {
    pii().person(&resident(s))
}

/// The subject key of the test person.
fn person_key() -> SubjectKey {
    pii().key_of(&resident(PERSON_ID))
}

/// The sealed numbers ingest would attach to a row naming the test person.
fn sealed_for(record: &CreditRecord) -> Vec<SealedIdentity> {
    let p = person_of(PERSON_ID);
    let s = &record.subject;
    let named = s.codes.person.as_ref() == Some(&p)
        || s.persons.iter().any(|l| l.person.as_ref() == Some(&p));
    if named {
        vec![pii().seal(&resident(PERSON_ID))]
    } else {
        Vec::new()
    }
}

/// 杭州 enterprise with every code and two linked persons.
fn hangzhou() -> SubjectRef {
    SubjectRef {
        name: "杭州西湖食品有限公司".into(),
        kind: SubjectKind::Enterprise,
        codes: SubjectCodes {
            uscc: Some(uscc(HANGZHOU)),
            reg_no: Some(RegistrationNumber::parse(REG_NO).expect("valid reg no")),
            org_code: Some(OrgCode::parse("71610585-2").expect("valid org code")),
            ..SubjectCodes::default()
        },
        persons: vec![
            PersonLink {
                name: "张三".into(),
                role: PersonRole::LegalRepresentative,
                person: Some(person_of(PERSON_ID)),
                other_id: None,
            },
            PersonLink {
                name: "John Smith".into(),
                role: PersonRole::Shareholder,
                person: None,
                other_id: Some(("护照".into(), "E12345678".into())),
            },
        ],
    }
}

fn company(code: &str, name: &str) -> SubjectRef {
    SubjectRef {
        name: name.into(),
        kind: SubjectKind::Enterprise,
        codes: SubjectCodes {
            uscc: Some(uscc(code)),
            ..SubjectCodes::default()
        },
        persons: vec![],
    }
}

fn person() -> SubjectRef {
    SubjectRef {
        name: "李四".into(),
        kind: SubjectKind::NaturalPerson,
        codes: SubjectCodes {
            person: Some(person_of(PERSON_ID)),
            ..SubjectCodes::default()
        },
        persons: vec![],
    }
}

fn agency_ref() -> AgencyRef {
    AgencyRef {
        name: "杭州市市场监督管理局".into(),
        code: SOURCE.into(),
    }
}

fn penalty(doc_no: &str, subject: SubjectRef, decided: NaiveDate, fine: f64) -> CreditRecord {
    CreditRecord {
        key: RecordKey {
            source: SOURCE.into(),
            category: Category::Penalty,
            doc_no: doc_no.into(),
        },
        subject,
        counterpart: None,
        nature: Nature::Negative,
        severity: Severity::General,
        decision_date: decided,
        title: format!("罚款{fine}万元"),
        authority: agency_ref(),
        source_unit: agency_ref(),
        publicity_until: date(2027, 12, 31),
        status: RecordStatus::Active,
        detail: Detail::Penalty(PenaltyDetail {
            violation_type: "食品安全".into(),
            violation_facts: "销售过期食品".into(),
            legal_basis: "《中华人民共和国食品安全法》第一百二十四条".into(),
            kinds: vec![PenaltyKind::Warning, PenaltyKind::Fine],
            content: format!("警告，罚款{fine}万元"),
            fine_wan: Some(fine),
            confiscated_wan: None,
            licence_affected: None,
            valid_until: date(2027, 12, 31),
        }),
        remarks: None,
    }
}

fn licence(doc_no: &str, subject: SubjectRef, decided: NaiveDate) -> CreditRecord {
    CreditRecord {
        key: RecordKey {
            source: SOURCE.into(),
            category: Category::Licence,
            doc_no: doc_no.into(),
        },
        subject,
        counterpart: None,
        nature: Nature::Neutral,
        severity: Severity::None,
        decision_date: decided,
        title: "食品经营许可".into(),
        authority: agency_ref(),
        source_unit: agency_ref(),
        publicity_until: date(2029, 1, 1),
        status: RecordStatus::Active,
        detail: Detail::Licence(LicenceDetail {
            document_name: "食品经营许可决定书".into(),
            kind: LicenceKind::General,
            certificate_name: Some("食品经营许可证".into()),
            licence_no: Some("JY13301000000001".into()),
            content: "预包装食品销售".into(),
            valid_from: decided,
            valid_to: date(2029, 1, 1),
            in_force: true,
        }),
        remarks: Some("备注".into()),
    }
}

fn accepted(row: u64, record: CreditRecord, late: bool) -> AcceptedRow {
    let decided = record.decision_date;
    AcceptedRow {
        row,
        timeliness: Timeliness {
            submitted_on: decided + chrono::Days::new(if late { 20 } else { 3 }),
            working_days: if late { 14 } else { 3 },
            deadline: decided + chrono::Days::new(9),
            late,
        },
        identities: sealed_for(&record),
        record,
    }
}

fn rejected(row: u64) -> RejectedRow {
    RejectedRow {
        row,
        errors: vec![RowError {
            row,
            field: "统一社会信用代码".into(),
            value: "91330100716105852A".into(),
            rule: "check_character".into(),
            reason_zh: "校验码应为F".into(),
            reason_en: "check character should be 'F'".into(),
        }],
        raw: vec![
            ("行政相对人名称".into(), "某某公司".into()),
            ("统一社会信用代码".into(), "91330100716105852A".into()),
        ],
    }
}

fn batch(
    id: &str,
    digest: &str,
    received_at: DateTime<Utc>,
    accepted: Vec<AcceptedRow>,
    rejected: Vec<RejectedRow>,
) -> Batch {
    Batch {
        id: id.into(),
        source: format!("{id}.csv"),
        source_digest: digest.into(),
        agency: Some(SOURCE.into()),
        received_at,
        accepted,
        rejected,
        encoded: None,
    }
}

/// Three records: a penalty (late) and a licence of 杭州, a penalty of the natural person.
fn first_batch() -> Batch {
    batch(
        "b1",
        "d1",
        at(1, 9),
        vec![
            accepted(
                1,
                penalty("杭市监罚〔2024〕1号", hangzhou(), date(2024, 3, 1), 2.5),
                true,
            ),
            accepted(
                2,
                licence("JY-2024-0001", hangzhou(), date(2024, 4, 2)),
                false,
            ),
            accepted(
                3,
                penalty("杭市监罚〔2024〕2号", person(), date(2024, 4, 10), 0.5),
                false,
            ),
        ],
        vec![],
    )
}

fn key_of(code: &str) -> SubjectKey {
    SubjectKey(format!("U:{code}"))
}

// ---------------------------------------------------------------------------------------------
// The tests, each over any backend.
/// Splits a feed into its records (subject, doc no, version, previous subject), persons and codes.
#[allow(clippy::type_complexity)]
fn feed(
    s: &dyn Store,
    since: i64,
) -> (
    i64,
    Vec<(String, String, i32, Option<String>)>,
    Vec<(String, String, String)>,
    Vec<(String, String)>,
) {
    let (mut records, mut persons, mut codes) = (Vec::new(), Vec::new(), Vec::new());
    let cursor = s
        .index_feed(since, &mut |item| match item {
            IndexFeed::Record {
                subject,
                record,
                version,
                previous_subject,
                ..
            } => records.push((
                subject.0,
                record.key.doc_no,
                version,
                previous_subject.map(|p| p.0),
            )),
            IndexFeed::Person {
                subject,
                role,
                person,
            } => persons.push((subject.0, role.code().to_string(), person.0)),
            IndexFeed::Code { code, subject } => codes.push((code, subject.0)),
        })
        .expect("index feed");
    persons.sort();
    codes.sort();
    (cursor, records, persons, codes)
}

fn index_feed_streams_current_then_changes(ctx: &Ctx) {
    let s = ctx.store();
    assert_eq!(feed(&*s, 0).0, 0, "an empty store has cursor 0");
    s.write_batch(&first_batch()).expect("write");
    let (cursor, records, persons, codes) = feed(&*s, 0);
    assert!(cursor > 0);
    assert_eq!(records.len(), 3);
    assert!(records.iter().all(|r| r.2 == 1 && r.3.is_none()));
    assert_eq!(
        persons,
        vec![(
            format!("U:{HANGZHOU}"),
            "legal_representative".to_string(),
            person_key().0
        )]
    );
    assert!(codes.contains(&(REG_NO.to_string(), format!("U:{HANGZHOU}"))));
    // Nothing new since the cursor.
    let (again, none, _, _) = feed(&*s, cursor);
    assert_eq!(again, cursor);
    assert!(none.is_empty());

    // A correction that moves the first penalty to 深圳: the new version names where it was.
    let mut moved = penalty(
        "杭市监罚〔2024〕1号",
        company(SHENZHEN, "深圳某公司"),
        date(2024, 3, 1),
        2.5,
    );
    moved.title = "更正".into();
    s.write_batch(&batch(
        "b2",
        "d2",
        at(2, 9),
        vec![accepted(1, moved, false)],
        vec![],
    ))
    .expect("write");
    let (next, changed, _, _) = feed(&*s, cursor);
    assert!(next > cursor);
    assert_eq!(
        changed,
        vec![(
            format!("U:{SHENZHEN}"),
            "杭市监罚〔2024〕1号".to_string(),
            2,
            Some(format!("U:{HANGZHOU}"))
        )]
    );
    // From scratch only the current version is streamed.
    let (_, all, _, _) = feed(&*s, 0);
    assert_eq!(all.len(), 3);
    assert!(
        all.iter()
            .any(|r| r.0 == format!("U:{SHENZHEN}") && r.2 == 2)
    );
}

/// Checks of one decision by one agency, as the statistics give them.
fn stat(decision: &str, agency: &str, checks: u64, with_feedback: u64) -> CheckStat {
    CheckStat {
        decision: decision.into(),
        agency: Some(agency.into()),
        checks,
        with_feedback,
    }
}

fn stored_check(id: &str, agency: &str, on: NaiveDate) -> StoredCheck {
    StoredCheck {
        id: id.into(),
        at: at(3, 10),
        checked_on: on,
        agency: Some(agency.into()),
        case_ref: Some("BJ-2024-1".into()),
        subject_query: HANGZHOU.into(),
        subject_key: Some(format!("U:{HANGZHOU}")),
        scenario: "public_bidding".into(),
        decision: "prohibit".into(),
        measures: vec!["M1".into(), "M2".into()],
        catalogue_version: "v1".into(),
        data_version: 7,
        batch_id: None,
        answer: r#"{"decision":"prohibit","measures":[{"code":"M1"}]}"#.into(),
        feedback: None,
    }
}

fn checks_are_stored_with_feedback(ctx: &Ctx) {
    let s = ctx.store();
    let a = stored_check("CK1", SHANGHAI, date(2024, 5, 6));
    let b = stored_check("CK2", BEIJING, date(2024, 5, 7));
    let c = stored_check("CK3", SHANGHAI, date(2024, 5, 20));
    s.write_checks(&[a.clone(), b.clone(), c.clone()])
        .expect("write checks");
    s.write_checks(&[]).expect("nothing to write");
    assert_eq!(s.check_receipt("CK1").expect("read"), Some(a.clone()));
    assert_eq!(s.check_receipt("nope").expect("read"), None);

    let fb = Feedback {
        outcome: FeedbackOutcome::Refused,
        measures: vec!["M1".into()],
        note: Some("不予受理投标".into()),
        agency: Some(SHANGHAI.into()),
        at: at(4, 8),
    };
    assert_eq!(
        s.put_feedback("CK1", &fb).expect("feedback"),
        FeedbackWrite::Stored
    );
    let later = Feedback {
        at: at(5, 8),
        ..fb.clone()
    };
    assert_eq!(
        s.put_feedback("CK1", &later).expect("again"),
        FeedbackWrite::Duplicate
    );
    let other = Feedback {
        outcome: FeedbackOutcome::Normal,
        ..fb.clone()
    };
    assert_eq!(
        s.put_feedback("CK1", &other).expect("conflict"),
        FeedbackWrite::Conflict(Box::new(fb.clone()))
    );
    assert_eq!(
        s.put_feedback("nope", &fb).expect("unknown"),
        FeedbackWrite::UnknownCheck
    );
    assert_eq!(
        s.check_receipt("CK1")
            .expect("read")
            .and_then(|c| c.feedback),
        Some(fb)
    );

    let ids = |q: CheckQuery| -> Vec<String> {
        s.checks(&q)
            .expect("list")
            .into_iter()
            .map(|c| c.id)
            .collect()
    };
    let all = CheckQuery {
        limit: 10,
        ..CheckQuery::default()
    };
    assert_eq!(ids(all.clone()), vec!["CK3", "CK2", "CK1"]);
    assert_eq!(
        ids(CheckQuery {
            oldest_first: true,
            ..all.clone()
        }),
        vec!["CK1", "CK2", "CK3"]
    );
    assert_eq!(
        ids(CheckQuery {
            agency: Some(SHANGHAI.into()),
            ..all.clone()
        }),
        vec!["CK3", "CK1"]
    );
    // Overdue: without feedback, decided on or before a day.
    assert_eq!(
        ids(CheckQuery {
            without_feedback: true,
            on_or_before: Some(date(2024, 5, 10)),
            ..all.clone()
        }),
        vec!["CK2"]
    );
    assert_eq!(ids(CheckQuery { limit: 1, ..all }), vec!["CK3"]);
    // Checks survive a reopen.
    drop(s);
    let s = ctx.store();
    assert_eq!(s.check_receipt("CK2").expect("read"), Some(b));
}

/// A batch row: receipt `{batch}-{row}`, checked at `hour` on 3 May 2024.
fn batch_row(batch: &str, row: u64, agency: &str, hour: u32) -> StoredCheck {
    StoredCheck {
        id: creditloop_store::batch_receipt(batch, row),
        at: at(3, hour),
        batch_id: Some(batch.into()),
        case_ref: Some(format!("CASE-{row}")),
        answer: format!(r#"{{"decision":"prohibit","receipt":"{batch}-{row}"}}"#),
        ..stored_check("", agency, date(2024, 5, 6))
    }
}

fn batch_rows_are_checks_like_any_other(ctx: &Ctx) {
    let s = ctx.store();
    let single = stored_check("CK1", SHANGHAI, date(2024, 5, 6)); // at 10:30
    s.write_checks(std::slice::from_ref(&single))
        .expect("single");
    let mut r2 = batch_row("BX1", 2, SHANGHAI, 9);
    r2.decision = "normal".into();
    r2.measures = vec![];
    r2.subject_key = None;
    r2.case_ref = None;
    let r3 = batch_row("BX1", 3, SHANGHAI, 11);
    // Another agency within the same group: a chunk of its own.
    let r5 = batch_row("BX1", 5, BEIJING, 12);
    let r6 = batch_row("BX1", 6, SHANGHAI, 13);
    s.write_batch_checks(&[r2.clone(), r3.clone(), r5.clone(), r6.clone()])
        .expect("first group");
    // The batch's next group, in a later transaction; row 10 was not answered (no receipt).
    let r9 = batch_row("BX1", 9, SHANGHAI, 14);
    let r11 = batch_row("BX1", 11, SHANGHAI, 16);
    s.write_batch_checks(&[r9.clone(), r11.clone()])
        .expect("second group");
    s.write_batch_checks(&[]).expect("nothing to write");
    // A row whose id does not name its batch and row is refused, and nothing of its group stored.
    let stray = StoredCheck {
        id: "CK-STRAY".into(),
        ..batch_row("BX2", 1, SHANGHAI, 15)
    };
    assert!(
        s.write_batch_checks(&[batch_row("BX2", 2, SHANGHAI, 15), stray])
            .is_err()
    );
    assert_eq!(s.check_receipt("BX2-2").expect("read"), None);

    for r in [&r2, &r3, &r5, &r6, &r9, &r11] {
        assert_eq!(s.check_receipt(&r.id).expect("read").as_ref(), Some(r));
    }
    for missing in ["BX1-4", "BX1-1", "BX1-10", "BX3-2", "BX1-", "BX1"] {
        assert_eq!(s.check_receipt(missing).expect("read"), None, "{missing}");
    }

    let fb = Feedback {
        outcome: FeedbackOutcome::Refused,
        measures: vec!["M1".into()],
        note: None,
        agency: Some(SHANGHAI.into()),
        at: at(4, 8),
    };
    assert_eq!(
        s.put_feedback("BX1-3", &fb).expect("feedback"),
        FeedbackWrite::Stored
    );
    assert_eq!(
        s.put_feedback("BX1-3", &fb).expect("again"),
        FeedbackWrite::Duplicate
    );
    for missing in ["BX1-4", "BX1-10"] {
        assert_eq!(
            s.put_feedback(missing, &fb).expect("no such row"),
            FeedbackWrite::UnknownCheck,
            "{missing}"
        );
    }
    assert_eq!(
        s.check_receipt("BX1-3")
            .expect("read")
            .and_then(|c| c.feedback),
        Some(fb.clone())
    );

    let ids = |q: CheckQuery| -> Vec<String> {
        s.checks(&q)
            .expect("list")
            .into_iter()
            .map(|c| c.id)
            .collect()
    };
    let all = CheckQuery {
        limit: 10,
        ..CheckQuery::default()
    };
    // By time, single checks and batch rows alike.
    assert_eq!(
        ids(all.clone()),
        vec!["BX1-11", "BX1-9", "BX1-6", "BX1-5", "BX1-3", "CK1", "BX1-2"]
    );
    assert_eq!(
        ids(CheckQuery {
            oldest_first: true,
            limit: 3,
            ..all.clone()
        }),
        vec!["BX1-2", "CK1", "BX1-3"]
    );
    assert_eq!(
        ids(CheckQuery {
            limit: 2,
            ..all.clone()
        }),
        vec!["BX1-11", "BX1-9"]
    );
    assert_eq!(
        ids(CheckQuery {
            agency: Some(BEIJING.into()),
            ..all.clone()
        }),
        vec!["BX1-5"]
    );
    assert_eq!(
        ids(CheckQuery {
            without_feedback: true,
            agency: Some(SHANGHAI.into()),
            ..all.clone()
        }),
        vec!["BX1-11", "BX1-9", "BX1-6", "CK1", "BX1-2"]
    );
    assert!(
        ids(CheckQuery {
            on_or_before: Some(date(2024, 5, 5)),
            ..all.clone()
        })
        .is_empty()
    );
    let listed = s.checks(&all).expect("list");
    assert_eq!(
        listed
            .iter()
            .find(|c| c.id == "BX1-3")
            .and_then(|c| c.feedback.clone()),
        Some(fb)
    );

    let stats = s
        .check_stats(date(2024, 5, 1), date(2024, 5, 31))
        .expect("check stats");
    assert_eq!(
        stats,
        vec![
            stat("normal", SHANGHAI, 1, 0),
            stat("prohibit", BEIJING, 1, 0),
            stat("prohibit", SHANGHAI, 5, 1),
        ]
    );
    assert!(
        s.check_stats(date(2024, 6, 1), date(2024, 6, 30))
            .expect("none")
            .is_empty()
    );
    // Rows survive a reopen.
    drop(s);
    let s = ctx.store();
    assert_eq!(s.check_receipt("BX1-9").expect("read"), Some(r9));
}

fn catalogue_versions_are_kept(ctx: &Ctx) {
    let s = ctx.store();
    assert!(s.catalogues().expect("list").is_empty());
    let v1 = StoredCatalogue {
        number: 1,
        status: "draft".into(),
        digest: "ab".repeat(32),
        created_at: at(1, 9),
        published_at: None,
        body: r#"{"measures":[]}"#.into(),
    };
    assert!(s.put_catalogue(&v1).expect("put"));
    let again = StoredCatalogue {
        body: "changed".into(),
        ..v1.clone()
    };
    assert!(
        !s.put_catalogue(&again).expect("put"),
        "a number is taken once"
    );
    assert!(s.publish_catalogue(1, at(2, 9)).expect("publish"));
    assert!(!s.publish_catalogue(9, at(2, 9)).expect("publish"));
    let v2 = StoredCatalogue {
        number: 2,
        ..v1.clone()
    };
    assert!(s.put_catalogue(&v2).expect("put"));
    drop(s);
    let list = ctx.store().catalogues().expect("list");
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].status, "published");
    assert_eq!(list[0].published_at, Some(at(2, 9)));
    assert_eq!(list[0].body, v1.body);
    assert_eq!(list[1], v2);
}

fn check_ids_are_unique_and_ordered(_ctx: &Ctx) {
    let t = at(3, 10);
    let ids: Vec<String> = (0..1000).map(|_| new_check_id(t)).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, ids, "same instant: unique and increasing");
    assert!(new_check_id(at(4, 10)) > ids[999]);
}

/// Opens the store under test; called again to reopen the same database.
struct Ctx {
    open: Box<dyn Fn() -> Box<dyn Store>>,
    /// Everything the database holds at rest: the SQLite files' bytes, or every PostgreSQL table's
    /// rows as text.
    dump: Box<dyn Fn() -> Vec<u8>>,
    /// Runs SQL on the main database from outside the store (what an operator's mistake does).
    sql: Box<dyn Fn(&str)>,
}

impl Ctx {
    fn store(&self) -> Box<dyn Store> {
        (self.open)()
    }
}

fn profile_with_records_and_persons(ctx: &Ctx) {
    let s = ctx.store();
    let b = first_batch();
    let out = s.write_batch(&b).expect("write");
    assert_eq!(
        out.counts,
        IntakeCounts {
            accepted: 3,
            new_versions: 0,
            duplicates: 0,
            rejected: 0,
            late: 1
        }
    );

    let p = s
        .subject(&key_of(HANGZHOU))
        .expect("read")
        .expect("subject stored");
    assert_eq!(p.subject.name, "杭州西湖食品有限公司");
    assert_eq!(p.subject.kind, SubjectKind::Enterprise);
    assert_eq!(p.subject.codes, hangzhou().codes);
    let mut persons = p.persons.clone();
    persons.sort_by(|a, b| a.name.cmp(&b.name));
    let mut expected = hangzhou().persons;
    expected.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(persons, expected);

    // Newest decision first.
    assert_eq!(p.records.len(), 2);
    assert_eq!(p.records[0].record, b.accepted[1].record);
    assert_eq!(p.records[1].record, b.accepted[0].record);
    assert_eq!(p.records[1].timeliness, b.accepted[0].timeliness);
    for r in &p.records {
        assert!(r.current);
        assert_eq!(r.version, 1);
        assert_eq!(r.batch_id, "b1");
    }

    let natural = s
        .subject(&person_key())
        .expect("read")
        .expect("person stored");
    assert_eq!(natural.subject.kind, SubjectKind::NaturalPerson);
    assert_eq!(natural.records.len(), 1);
    assert!(natural.persons.is_empty());

    assert!(
        s.subject(&SubjectKey("U:NOPE".into()))
            .expect("read")
            .is_none()
    );
}

fn find_subject_by_any_code(ctx: &Ctx) {
    let s = ctx.store();
    s.write_batch(&first_batch()).expect("write");
    s.write_batch(&batch(
        "b2",
        "d2",
        at(2, 9),
        vec![accepted(
            1,
            penalty(
                "深市监罚〔2024〕9号",
                company(SHENZHEN, "深圳南山电子有限公司"),
                date(2024, 4, 1),
                1.0,
            ),
            false,
        )],
        vec![],
    ))
    .expect("write");

    let hz = Some(key_of(HANGZHOU));
    assert_eq!(s.find_subject(HANGZHOU).expect("find"), hz);
    assert_eq!(s.find_subject(REG_NO).expect("find"), hz);
    let org = OrgCode::parse("71610585-2").expect("org code");
    assert_eq!(s.find_subject(org.as_str()).expect("find"), hz);
    assert_eq!(
        s.find_subject(&pii().pseudonym(&resident(PERSON_ID)))
            .expect("find"),
        Some(person_key())
    );
    // The number itself is no lookup code: callers pseudonymise it first.
    assert_eq!(s.find_subject(PERSON_ID).expect("find"), None);
    // The organisation code inside a unified code is not a lookup code of its own.
    let embedded = uscc(SHENZHEN).org_code();
    assert_eq!(s.find_subject(embedded.as_str()).expect("find"), None);
    assert_eq!(
        s.find_subject(SHENZHEN).expect("find"),
        Some(key_of(SHENZHEN))
    );
    assert_eq!(s.find_subject(SHANGHAI).expect("find"), None);
    assert_eq!(s.find_subject("").expect("find"), None);
}

/// Subjects and their codes are written in key order, not row order; a code that two subjects of one
/// batch claim still goes to the row that came first, also when its subject's key sorts last.
fn a_code_claimed_twice_in_a_batch_goes_to_the_first_row(ctx: &Ctx) {
    let s = ctx.store();
    let mut first = company(SHENZHEN, "深圳南山电子有限公司");
    first.codes.reg_no = Some(RegistrationNumber::parse(REG_NO).expect("valid reg no"));
    assert!(
        key_of(SHENZHEN).0 > key_of(HANGZHOU).0,
        "the first row's key sorts last"
    );
    let out = s
        .write_batch(&batch(
            "b1",
            "d1",
            at(1, 9),
            vec![
                accepted(
                    2,
                    penalty("深市监罚〔2024〕1号", first, date(2024, 4, 1), 1.0),
                    false,
                ),
                accepted(
                    3,
                    penalty("杭市监罚〔2024〕1号", hangzhou(), date(2024, 4, 1), 1.0),
                    false,
                ),
            ],
            vec![],
        ))
        .expect("write");
    assert_eq!(out.counts.accepted, 2);
    assert_eq!(
        s.find_subject(REG_NO).expect("find"),
        Some(key_of(SHENZHEN))
    );
    let org = OrgCode::parse("71610585-2").expect("org code");
    assert_eq!(
        s.find_subject(org.as_str()).expect("find"),
        Some(key_of(HANGZHOU))
    );
    assert_eq!(
        s.subject(&key_of(HANGZHOU))
            .expect("read")
            .expect("stored")
            .records
            .len(),
        1
    );
}

fn same_batch_twice_changes_nothing(ctx: &Ctx) {
    let s = ctx.store();
    let b = first_batch();
    s.write_batch(&b).expect("write");
    let totals = s.totals().expect("totals");
    let summary = s.batch("b1").expect("batch").expect("stored");
    let profile = s.subject(&key_of(HANGZHOU)).expect("read");

    let again = s.write_batch(&b).expect("write again");
    assert_eq!(
        again.counts,
        IntakeCounts {
            duplicates: 3,
            ..IntakeCounts::default()
        }
    );
    assert_eq!(s.totals().expect("totals"), totals);
    assert_eq!(s.batch("b1").expect("batch"), Some(summary));
    assert_eq!(s.subject(&key_of(HANGZHOU)).expect("read"), profile);

    // The same rows under a new batch id: still all duplicates; only the batch is new.
    let mut b2 = b.clone();
    b2.id = "b1-resent".into();
    let out = s.write_batch(&b2).expect("write resent");
    assert_eq!(out.counts.duplicates, 3);
    assert_eq!(out.counts.accepted, 0);
    let t2 = s.totals().expect("totals");
    assert_eq!(
        t2,
        Totals {
            batches: totals.batches + 1,
            ..totals
        }
    );
}

fn changed_record_is_new_version(ctx: &Ctx) {
    let s = ctx.store();
    s.write_batch(&first_batch()).expect("write");
    let doc = "杭市监罚〔2024〕1号";
    let corrected = penalty(doc, hangzhou(), date(2024, 3, 1), 3.0);
    let out = s
        .write_batch(&batch(
            "b2",
            "d2",
            at(2, 9),
            vec![accepted(1, corrected.clone(), false)],
            vec![],
        ))
        .expect("write correction");
    assert_eq!(
        out.counts,
        IntakeCounts {
            accepted: 1,
            new_versions: 1,
            ..IntakeCounts::default()
        }
    );

    let history = s.record_history(&corrected.key).expect("history");
    assert_eq!(history.len(), 2);
    assert_eq!(
        history.iter().map(|h| h.version).collect::<Vec<_>>(),
        vec![1, 2]
    );
    assert!(!history[0].current);
    assert!(history[1].current);
    assert_eq!(history[0].batch_id, "b1");
    assert_eq!(history[1].batch_id, "b2");
    assert_eq!(history[1].record, corrected);

    let p = s.subject(&key_of(HANGZHOU)).expect("read").expect("stored");
    assert_eq!(p.records.len(), 2);
    let shown = p
        .records
        .iter()
        .find(|r| r.record.key == corrected.key)
        .expect("record shown");
    assert_eq!(shown.record, corrected);
    assert_eq!(shown.version, 2);

    let t = s.totals().expect("totals");
    assert_eq!(t.records, 3);
    assert_eq!(t.versions, 4);

    // Two versions of one key in one batch: both stored, the later current; re-sending that batch
    // changes nothing.
    let v3 = penalty(doc, hangzhou(), date(2024, 3, 1), 4.0);
    let v4 = penalty(doc, hangzhou(), date(2024, 3, 1), 5.0);
    let b3 = batch(
        "b3",
        "d3",
        at(3, 9),
        vec![accepted(1, v3, false), accepted(2, v4.clone(), true)],
        vec![],
    );
    let out = s.write_batch(&b3).expect("write two versions");
    assert_eq!(out.counts.accepted, 2);
    assert_eq!(out.counts.new_versions, 2);
    assert_eq!(out.counts.late, 1);
    let history = s.record_history(&v4.key).expect("history");
    assert_eq!(history.len(), 4);
    assert_eq!(
        history.iter().filter(|h| h.current).count(),
        1,
        "exactly one current version"
    );
    assert_eq!(history[3].record, v4);
    assert!(history[3].current);
    let mut b3_again = b3.clone();
    b3_again.id = "b3-again".into();
    let out = s.write_batch(&b3_again).expect("resend");
    assert_eq!(out.counts.duplicates, 2);
    assert_eq!(s.record_history(&v4.key).expect("history").len(), 4);

    let t = s.totals().expect("totals");
    assert_eq!(t.records, 3);
    assert_eq!(t.versions, 6);
}

fn rejects_are_stored_once(ctx: &Ctx) {
    let s = ctx.store();
    let mut b = first_batch();
    b.rejected = vec![rejected(5), rejected(4)];
    let out = s.write_batch(&b).expect("write");
    assert_eq!(out.counts.rejected, 2);
    assert_eq!(out.counts.accepted, 3);
    let stored = s.rejects("b1").expect("rejects");
    assert_eq!(stored, vec![rejected(4), rejected(5)]);
    assert_eq!(s.totals().expect("totals").rejected_rows, 2);
    assert_eq!(
        s.batch("b1")
            .expect("batch")
            .expect("stored")
            .counts
            .rejected,
        2
    );

    // The same file again, as a new batch: the rejects still count but are not stored twice.
    let mut again = b.clone();
    again.id = "b1-again".into();
    again.received_at = at(1, 10);
    again.rejected.push(rejected(7));
    let out = s.write_batch(&again).expect("write again");
    assert_eq!(out.counts.rejected, 3);
    assert_eq!(s.totals().expect("totals").rejected_rows, 3);
    assert_eq!(s.rejects("b1").expect("rejects").len(), 2);
    assert_eq!(s.rejects("b1-again").expect("rejects"), vec![rejected(7)]);
    assert_eq!(
        s.batch("b1-again")
            .expect("batch")
            .expect("stored")
            .counts
            .rejected,
        3
    );
    assert!(s.rejects("unknown").expect("rejects").is_empty());
}

fn data_survives_reopen(ctx: &Ctx) {
    {
        let s = ctx.store();
        s.write_batch(&first_batch()).expect("write");
        s.put_agencies(&agencies()).expect("agencies");
    }
    let s = ctx.store();
    let t = s.totals().expect("totals");
    assert_eq!(
        t,
        Totals {
            subjects: 2,
            records: 3,
            versions: 3,
            rejected_rows: 0,
            batches: 1,
            agencies: 2
        }
    );
    let p = s.subject(&key_of(HANGZHOU)).expect("read").expect("stored");
    assert_eq!(p.records.len(), 2);
    // Reopening again runs no migration twice.
    drop(s);
    let s = ctx.store();
    assert_eq!(s.totals().expect("totals"), t);
}

fn search_by_name_and_code(ctx: &Ctx) {
    let s = ctx.store();
    s.write_batch(&first_batch()).expect("write");
    s.write_batch(&batch(
        "b2",
        "d2",
        at(2, 9),
        vec![
            accepted(
                1,
                penalty(
                    "沪1",
                    company(SHANGHAI, "上海浦江食品有限公司"),
                    date(2024, 2, 1),
                    1.0,
                ),
                false,
            ),
            accepted(
                2,
                penalty(
                    "京1",
                    company(BEIJING, "北京朝阳科技有限公司"),
                    date(2024, 2, 2),
                    1.0,
                ),
                false,
            ),
        ],
        vec![],
    ))
    .expect("write");

    let names = |q: &str, limit: usize| -> Vec<String> {
        let mut v: Vec<String> = s
            .search_subjects(q, limit)
            .expect("search")
            .into_iter()
            .map(|x| x.name)
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        names("食品", 10),
        vec!["上海浦江食品有限公司", "杭州西湖食品有限公司"]
    );
    assert_eq!(names("朝阳", 10), vec!["北京朝阳科技有限公司"]);
    assert_eq!(names("食品", 1).len(), 1);
    assert_eq!(names(BEIJING, 10), vec!["北京朝阳科技有限公司"]);
    assert_eq!(names(REG_NO, 10), vec!["杭州西湖食品有限公司"]);
    assert!(names("银行", 10).is_empty());
    // LIKE wildcards are taken literally.
    assert!(names("%", 10).is_empty());
    assert!(names("_", 10).is_empty());
    let hit = s.search_subjects(SHANGHAI, 5).expect("search");
    assert_eq!(hit.len(), 1);
    assert_eq!(hit[0].key, key_of(SHANGHAI));
    assert_eq!(hit[0].codes.uscc, Some(uscc(SHANGHAI)));
}

fn agencies() -> Vec<Agency> {
    vec![
        Agency {
            code: SOURCE.into(),
            name: "杭州市市场监督管理局".into(),
            level: AgencyLevel::Municipal,
            region: "330100".into(),
            parent: None,
        },
        Agency {
            code: "11330106MB0000000X".into(),
            name: "西湖区市场监督管理局".into(),
            level: AgencyLevel::County,
            region: "330106".into(),
            parent: Some(SOURCE.into()),
        },
    ]
}

fn agencies_put_list_update(ctx: &Ctx) {
    let s = ctx.store();
    assert!(s.agencies().expect("list").is_empty());
    let mut a = agencies();
    s.put_agencies(&a).expect("put");
    let mut listed = s.agencies().expect("list");
    listed.sort_by(|x, y| x.code.cmp(&y.code));
    a.sort_by(|x, y| x.code.cmp(&y.code));
    assert_eq!(listed, a);

    a[0].name = "西湖区市场监管局".into();
    a[0].parent = None;
    s.put_agencies(&a[..1]).expect("update");
    let listed = s.agencies().expect("list");
    assert_eq!(listed.len(), 2);
    let updated = listed
        .iter()
        .find(|x| x.code == a[0].code)
        .expect("still there");
    assert_eq!(updated, &a[0]);
    assert_eq!(s.totals().expect("totals").agencies, 2);
}

/// A health check's read: answers on an empty and a filled store, and fails once the store's
/// tables are gone, until they are back.
fn ping_reads_the_store(ctx: &Ctx) {
    let s = ctx.store();
    s.ping().expect("ping of an empty store");
    s.write_batch(&first_batch()).expect("write");
    s.write_checks(&[stored_check("CK1", SHANGHAI, date(2024, 5, 6))])
        .expect("checks");
    s.ping().expect("ping of a filled store");
    (ctx.sql)("ALTER TABLE subjects RENAME TO subjects_moved");
    assert!(
        s.ping().is_err(),
        "ping must fail without the subjects table"
    );
    (ctx.sql)("ALTER TABLE subjects_moved RENAME TO subjects");
    s.ping().expect("ping once the table is back");
}

fn totals_count_everything(ctx: &Ctx) {
    let s = ctx.store();
    assert_eq!(s.totals().expect("totals"), Totals::default());
    let mut b = first_batch();
    b.rejected = vec![rejected(9)];
    s.write_batch(&b).expect("write");
    s.write_batch(&batch(
        "b2",
        "d2",
        at(2, 9),
        vec![
            accepted(
                1,
                penalty("杭市监罚〔2024〕1号", hangzhou(), date(2024, 3, 1), 9.0),
                false,
            ),
            accepted(
                2,
                penalty(
                    "沪1",
                    company(SHANGHAI, "上海浦江食品有限公司"),
                    date(2024, 2, 1),
                    1.0,
                ),
                false,
            ),
        ],
        vec![],
    ))
    .expect("write");
    s.put_agencies(&agencies()).expect("agencies");
    assert_eq!(
        s.totals().expect("totals"),
        Totals {
            subjects: 3,
            records: 4,
            versions: 5,
            rejected_rows: 1,
            batches: 2,
            agencies: 2
        }
    );
}

fn records_by_category_counts_current(ctx: &Ctx) {
    let s = ctx.store();
    s.write_batch(&first_batch()).expect("write");
    // A correction must not be counted twice.
    s.write_batch(&batch(
        "b2",
        "d2",
        at(2, 9),
        vec![accepted(
            1,
            penalty("杭市监罚〔2024〕1号", hangzhou(), date(2024, 3, 1), 9.0),
            false,
        )],
        vec![],
    ))
    .expect("write");
    let all = s
        .records_by_category(date(2024, 1, 1), date(2024, 12, 31))
        .expect("by category");
    let mut all = all;
    all.sort();
    assert_eq!(
        all,
        vec![("licence".to_string(), 1), ("penalty".to_string(), 2)]
    );
    let march = s
        .records_by_category(date(2024, 3, 1), date(2024, 3, 31))
        .expect("by category");
    assert_eq!(march, vec![("penalty".to_string(), 1)]);
    // Both ends are inclusive.
    let one_day = s
        .records_by_category(date(2024, 4, 2), date(2024, 4, 2))
        .expect("by category");
    assert_eq!(one_day, vec![("licence".to_string(), 1)]);
    assert!(
        s.records_by_category(date(2025, 1, 1), date(2025, 12, 31))
            .expect("by category")
            .is_empty()
    );
}

fn batches_newest_first(ctx: &Ctx) {
    let s = ctx.store();
    for (id, day) in [("early", 1), ("late", 3), ("middle", 2)] {
        let mut b = first_batch();
        b.id = id.into();
        b.received_at = at(day, 8);
        s.write_batch(&b).expect("write");
    }
    let listed = s.batches(10).expect("batches");
    assert_eq!(
        listed.iter().map(|b| b.id.as_str()).collect::<Vec<_>>(),
        vec!["late", "middle", "early"]
    );
    assert_eq!(listed[2].counts.accepted, 3);
    assert_eq!(listed[0].counts.duplicates, 3);
    assert_eq!(listed[0].received_at, at(3, 8));
    assert_eq!(listed[0].agency.as_deref(), Some(SOURCE));
    assert_eq!(listed[0].source, "b1.csv");
    assert_eq!(listed[0].source_digest, "d1");
    assert_eq!(s.batches(1).expect("batches").len(), 1);
    assert!(s.batch("none").expect("batch").is_none());
}

fn subject_codes_and_names_merge(ctx: &Ctx) {
    let s = ctx.store();
    s.write_batch(&first_batch()).expect("write");
    // A later record of the same subject under a new name, adding a tax number, without the
    // registration number and with one of the two persons.
    let mut renamed = hangzhou();
    renamed.name = "杭州西湖食品集团有限公司".into();
    renamed.codes.reg_no = None;
    renamed.codes.tax_no = Some("330100716105852".into());
    renamed.persons = vec![PersonLink {
        name: "张三".into(),
        role: PersonRole::LegalRepresentative,
        person: Some(person_of(PERSON_ID)),
        other_id: None,
    }];
    s.write_batch(&batch(
        "b2",
        "d2",
        at(2, 9),
        vec![accepted(
            1,
            licence("JY-2024-0002", renamed, date(2024, 5, 1)),
            false,
        )],
        vec![],
    ))
    .expect("write");
    let p = s.subject(&key_of(HANGZHOU)).expect("read").expect("stored");
    assert_eq!(p.subject.name, "杭州西湖食品集团有限公司");
    assert_eq!(p.subject.codes.tax_no.as_deref(), Some("330100716105852"));
    assert!(
        p.subject.codes.reg_no.is_some(),
        "codes are merged, not replaced"
    );
    assert_eq!(p.persons.len(), 2);
    assert_eq!(p.records.len(), 3);
    assert_eq!(
        s.find_subject("330100716105852").expect("find"),
        Some(key_of(HANGZHOU))
    );
    assert_eq!(s.totals().expect("totals").subjects, 2);
}

/// A subject's name is the one its last written record gave, whichever store instance (connection,
/// process) wrote it: a writer that remembers what it wrote must notice the writes of others, and
/// that a name it wrote before is no longer the current one.
fn subject_name_follows_the_last_write_of_any_writer(ctx: &Ctx) {
    let a = ctx.store();
    let b = ctx.store();
    let name_now = |s: &dyn Store| {
        s.subject(&key_of(SHENZHEN))
            .expect("read")
            .expect("stored")
            .subject
            .name
    };
    let write = |s: &dyn Store, n: u32, name: &str| {
        s.write_batch(&batch(
            &format!("bn{n}"),
            &format!("dn{n}"),
            at(1, 9),
            vec![accepted(
                1,
                penalty(
                    &format!("深罚〔2024〕{n}号"),
                    company(SHENZHEN, name),
                    date(2024, 3, n),
                    1.0,
                ),
                false,
            )],
            vec![],
        ))
        .expect("write");
    };
    write(&*a, 1, "深圳甲公司");
    write(&*a, 2, "深圳乙公司");
    assert_eq!(name_now(&*a), "深圳乙公司");
    write(&*a, 3, "深圳甲公司");
    assert_eq!(name_now(&*a), "深圳甲公司", "back to a name written before");
    write(&*b, 4, "深圳丙公司");
    assert_eq!(name_now(&*a), "深圳丙公司");
    write(&*a, 5, "深圳甲公司");
    assert_eq!(
        name_now(&*b),
        "深圳甲公司",
        "after another writer, the same name again is written"
    );
    assert_eq!(
        a.subject(&key_of(SHENZHEN))
            .expect("read")
            .expect("stored")
            .records
            .len(),
        5
    );
}

/// A writer that knows which subjects and person links it wrote itself (and, on a store it found
/// empty, that nothing else is stored) learns what another writer added in between: the subject and
/// link the other one created are merged into, not inserted twice.
fn a_writer_learns_what_another_wrote(ctx: &Ctx) {
    let a = ctx.store();
    let b = ctx.store();
    let write = |s: &dyn Store, n: u32, subject: SubjectRef| {
        s.write_batch(&batch(
            &format!("bw{n}"),
            &format!("dw{n}"),
            at(1, 9),
            vec![accepted(
                1,
                penalty(&format!("罚〔2024〕{n}号"), subject, date(2024, 3, n), 1.0),
                false,
            )],
            vec![],
        ))
        .expect("write")
    };
    let mut shenzhen = company(SHENZHEN, "深圳甲公司");
    write(&*a, 1, shenzhen.clone());
    // The other writer adds a subject and a person link the first one never wrote.
    let mut shanghai = company(SHANGHAI, "上海甲公司");
    shanghai.persons = vec![PersonLink {
        name: "李四".into(),
        role: PersonRole::Shareholder,
        person: None,
        other_id: None,
    }];
    write(&*b, 2, shanghai.clone());
    shenzhen.persons = shanghai.persons.clone();
    write(&*b, 3, shenzhen.clone());
    // The first writer now writes both, the link with a document learnt since.
    shanghai.name = "上海乙公司".into();
    shanghai.persons[0].other_id = Some(("护照".into(), "E7654321".into()));
    shenzhen.persons = shanghai.persons.clone();
    assert_eq!(write(&*a, 4, shanghai).counts.accepted, 1);
    assert_eq!(write(&*a, 5, shenzhen).counts.accepted, 1);
    for (code, name) in [(SHANGHAI, "上海乙公司"), (SHENZHEN, "深圳甲公司")] {
        let p = b.subject(&key_of(code)).expect("read").expect("stored");
        assert_eq!(p.subject.name, name);
        assert_eq!(p.persons.len(), 1, "{code}: one link, completed");
        assert_eq!(
            p.persons[0].other_id,
            Some(("护照".into(), "E7654321".into()))
        );
    }
}

fn reads_run_while_writing(ctx: &Ctx) {
    let s: std::sync::Arc<dyn Store> = ctx.store().into();
    s.write_batch(&first_batch()).expect("write");
    std::thread::scope(|scope| {
        let writer = {
            let s = s.clone();
            scope.spawn(move || {
                for i in 0..5u32 {
                    let rows = (0..200u64)
                        .map(|r| {
                            accepted(
                                r + 1,
                                penalty(
                                    &format!("W{i}-{r}"),
                                    company(BEIJING, "北京朝阳科技有限公司"),
                                    date(2024, 1, 1 + i),
                                    1.0,
                                ),
                                false,
                            )
                        })
                        .collect();
                    s.write_batch(&batch(
                        &format!("w{i}"),
                        &format!("dw{i}"),
                        at(10 + i, 8),
                        rows,
                        vec![],
                    ))
                    .expect("write");
                }
            })
        };
        for _ in 0..20 {
            let p = s.subject(&key_of(HANGZHOU)).expect("read").expect("stored");
            assert_eq!(p.records.len(), 2);
            let t = s.totals().expect("totals");
            assert!(
                t.records >= 3 && t.records % 200 == 3,
                "totals are a consistent snapshot: {t:?}"
            );
        }
        writer.join().expect("writer thread");
    });
    assert_eq!(s.totals().expect("totals").records, 1003);
    let p = s.subject(&key_of(BEIJING)).expect("read").expect("stored");
    assert_eq!(p.records.len(), 1000);
}

/// Batches large enough to be encoded on a helper thread, with repeated keys inside a batch and
/// corrections of stored records.
fn large_batches_with_corrections(ctx: &Ctx) {
    let s = ctx.store();
    let companies = [
        (HANGZHOU, "杭州西湖食品有限公司"),
        (SHENZHEN, "深圳南山电子有限公司"),
        (SHANGHAI, "上海浦江食品有限公司"),
        (BEIJING, "北京朝阳科技有限公司"),
    ];
    let make = |n: u64, fine: f64| {
        let (code, name) = companies[(n % 4) as usize];
        accepted(
            n + 1,
            penalty(
                &format!("L{n}"),
                company(code, name),
                date(2024, 1, 1),
                fine,
            ),
            n.is_multiple_of(7),
        )
    };
    let rows: Vec<AcceptedRow> = (0..5000).map(|n| make(n, 1.0)).collect();
    let out = s
        .write_batch(&batch("big1", "dbig1", at(1, 8), rows.clone(), vec![]))
        .expect("write");
    assert_eq!(out.counts.accepted, 5000);
    assert_eq!(
        out.counts.late,
        (0..5000).filter(|n| n % 7 == 0).count() as u64
    );

    let again = s
        .write_batch(&batch("big2", "dbig2", at(1, 9), rows, vec![]))
        .expect("write again");
    assert_eq!(again.counts.duplicates, 5000);

    // Every 10th record corrected, the last 100 of them twice in the same batch.
    let mut changed: Vec<AcceptedRow> = (0..5000)
        .map(|n| make(n, if n % 10 == 0 { 2.0 } else { 1.0 }))
        .collect();
    changed.extend((4000..5000).step_by(10).map(|n| make(n, 3.0)));
    let out = s
        .write_batch(&batch("big3", "dbig3", at(1, 10), changed, vec![]))
        .expect("write corrections");
    assert_eq!(out.counts.accepted, 600);
    assert_eq!(out.counts.new_versions, 600);
    assert_eq!(out.counts.duplicates, 4500);

    let key = |n: u64| RecordKey {
        source: SOURCE.into(),
        category: Category::Penalty,
        doc_no: format!("L{n}"),
    };
    let h = s.record_history(&key(4990)).expect("history");
    assert_eq!(
        h.iter().map(|v| (v.version, v.current)).collect::<Vec<_>>(),
        vec![(1, false), (2, false), (3, true)]
    );
    let h = s.record_history(&key(10)).expect("history");
    assert_eq!(
        h.iter().map(|v| (v.version, v.current)).collect::<Vec<_>>(),
        vec![(1, false), (2, true)]
    );
    assert_eq!(s.record_history(&key(11)).expect("history").len(), 1);

    let t = s.totals().expect("totals");
    assert_eq!(t.records, 5000);
    assert_eq!(t.versions, 5600);
    assert_eq!(t.subjects, 4);
    let p = s.subject(&key_of(BEIJING)).expect("read").expect("stored");
    assert_eq!(p.records.len(), 1250);
    assert!(p.records.iter().all(|r| r.current));
}

fn empty_and_reject_only_batches(ctx: &Ctx) {
    let s = ctx.store();
    let out = s
        .write_batch(&batch("empty", "d0", at(1, 8), vec![], vec![]))
        .expect("write empty");
    assert_eq!(out.counts, IntakeCounts::default());
    let out = s
        .write_batch(&batch("bad", "d9", at(1, 9), vec![], vec![rejected(1)]))
        .expect("write rejects only");
    assert_eq!(out.counts.rejected, 1);
    assert_eq!(
        s.totals().expect("totals"),
        Totals {
            rejected_rows: 1,
            batches: 2,
            ..Totals::default()
        }
    );
    assert_eq!(s.rejects("bad").expect("rejects"), vec![rejected(1)]);
    assert_eq!(s.batches(5).expect("batches")[0].id, "bad");
}

/// A batch `id` (source digest `d` + the day) of one accepted row, received on `day`.
fn one_row_batch(id: &str, day: u32, record: &CreditRecord) -> Batch {
    batch(
        id,
        &format!("d{day}"),
        at(day, 9),
        vec![accepted(1, record.clone(), false)],
        vec![],
    )
}

/// A bulk load defers index upkeep only: every answer during and after it is the one without it,
/// and a load that never ends (its process killed) leaves a store that answers the same reopened.
fn bulk_load_keeps_every_answer(ctx: &Ctx) {
    let doc = "杭市监罚〔2024〕1号";
    let corrected = penalty(doc, hangzhou(), date(2024, 3, 1), 3.0);
    {
        let s = ctx.store();
        s.begin_bulk_load().expect("begin bulk load");
        assert_eq!(
            s.write_batch(&first_batch())
                .expect("write")
                .counts
                .accepted,
            3
        );
        // The version probe still finds what the load wrote: duplicates and new versions.
        let again = s.write_batch(&first_batch()).expect("write again");
        assert_eq!(again.counts.duplicates, 3);
        let out = s
            .write_batch(&one_row_batch("b2", 2, &corrected))
            .expect("write correction");
        assert_eq!(out.counts.new_versions, 1);
        let p = s.subject(&key_of(HANGZHOU)).expect("read").expect("stored");
        assert_eq!(p.records.len(), 2);
        assert!(
            p.records
                .iter()
                .any(|r| r.record == corrected && r.version == 2)
        );
        // Dropped without its end, as when the importing process is killed.
    }
    let s = ctx.store();
    let p = s.subject(&key_of(HANGZHOU)).expect("read").expect("stored");
    assert_eq!(p.records.len(), 2);
    assert_eq!(s.record_history(&corrected.key).expect("history").len(), 2);
    assert_eq!(s.totals().expect("totals").versions, 4);
    s.end_bulk_load().expect("end");
    s.end_bulk_load().expect("end again");
    // A bulk load over records already held changes nothing either.
    s.begin_bulk_load().expect("begin over a full store");
    let out = s
        .write_batch(&one_row_batch("b3", 3, &corrected))
        .expect("write");
    assert_eq!(out.counts.duplicates, 1);
    s.end_bulk_load().expect("end");
    let p = s.subject(&key_of(HANGZHOU)).expect("read").expect("stored");
    assert_eq!(p.records.len(), 2);
}

/// A bulk load and another writer on the same database (another process, or a second store in
/// this one) each see what the other committed: the load's version probe is not fooled by rows it
/// did not write (nor its memory of subjects written), and the other writer's probe finds the
/// load's rows.
fn bulk_load_meets_another_writer(ctx: &Ctx) {
    let doc = "杭市监罚〔2024〕1号";
    let corrected = penalty(doc, hangzhou(), date(2024, 3, 1), 3.0);
    let again = penalty(doc, hangzhou(), date(2024, 3, 1), 4.0);
    let load = ctx.store();
    let other = ctx.store();
    load.begin_bulk_load().expect("begin bulk load");
    assert_eq!(
        load.write_batch(&first_batch())
            .expect("write")
            .counts
            .accepted,
        3
    );
    // The other writer corrects a record of the load, then the load sends that correction and
    // one more.
    let out = other
        .write_batch(&one_row_batch("o1", 2, &corrected))
        .expect("other writes");
    assert_eq!(out.counts.new_versions, 1);
    let out = load
        .write_batch(&one_row_batch("l2", 3, &corrected))
        .expect("load writes the same");
    assert_eq!(
        out.counts.duplicates, 1,
        "the other writer's version is found"
    );
    let out = load
        .write_batch(&one_row_batch("l3", 4, &again))
        .expect("load corrects");
    assert_eq!(out.counts.new_versions, 1);
    let out = other
        .write_batch(&one_row_batch("o2", 5, &again))
        .expect("other writes the same");
    assert_eq!(out.counts.duplicates, 1, "the load's version is found");
    load.end_bulk_load().expect("end");
    let history = other.record_history(&corrected.key).expect("history");
    let versions: Vec<i32> = history.iter().map(|r| r.version).collect();
    assert_eq!(versions, [1, 2, 3]);
    assert_eq!(history[2].record, again);
}

/// A batch whose rows arrive encoded already (an importer that encodes on threads of its own) is
/// stored exactly as one the store encodes; an encoding that does not fit the rows is not used.
fn encoded_batches_store_the_same(ctx: &Ctx) {
    let plain = ctx.store();
    let mut b = first_batch();
    let out = plain.write_batch(&b).expect("write");
    assert_eq!(out.counts.accepted, 3);
    let want = plain
        .subject(&key_of(HANGZHOU))
        .expect("read")
        .expect("stored");
    let history = plain
        .record_history(&b.accepted[0].record.key)
        .expect("history");

    let encoded = ctx.store();
    b.id = "b1-encoded".into();
    b.encoded = Some(EncodedRows::encode(&b.accepted).expect("encode"));
    // A second store over the same database: the batch is a duplicate whichever way it came.
    assert_eq!(encoded.write_batch(&b).expect("write").counts.duplicates, 3);
    let changed = penalty("杭市监罚〔2024〕1号", hangzhou(), date(2024, 3, 1), 7.0);
    let mut c = one_row_batch("c1", 2, &changed);
    c.encoded = Some(EncodedRows::encode(&c.accepted).expect("encode"));
    assert_eq!(
        encoded.write_batch(&c).expect("write").counts.new_versions,
        1
    );
    // An encoding of other rows (here: none) is ignored, not trusted.
    let later = penalty("杭市监罚〔2024〕5号", hangzhou(), date(2024, 3, 5), 1.0);
    let mut d = one_row_batch("d1", 3, &later);
    d.encoded = Some(EncodedRows::default());
    assert_eq!(encoded.write_batch(&d).expect("write").counts.accepted, 1);
    let stored = encoded.record_history(&later.key).expect("history");
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].record, later);
    let versions = encoded
        .record_history(&b.accepted[0].record.key)
        .expect("history");
    assert_eq!(versions.len(), history.len() + 1);
    assert_eq!(versions[0].record, history[0].record);
    assert_eq!(versions[1].record, changed);
    let p = encoded
        .subject(&key_of(HANGZHOU))
        .expect("read")
        .expect("stored");
    assert_eq!(p.subject, want.subject);
    assert_eq!(p.persons, want.persons);
}

/// Batches grouped in one transaction (`write_batches`) answer as written one by one: a duplicate
/// of an earlier batch of the same transaction is found, a correction makes a new version. A batch
/// is acknowledged only once its transaction is committed, and an error loses the open
/// transaction's batches only, never one acknowledged before.
fn grouped_batches_answer_as_one_by_one(ctx: &Ctx) {
    let doc = "杭市监罚〔2024〕1号";
    let corrected = penalty(doc, hangzhou(), date(2024, 3, 1), 3.0);
    let s = ctx.store();
    let mut again = first_batch();
    again.id = "b1-again".into();
    let mut queue = vec![
        first_batch(),
        again,
        one_row_batch("b2", 2, &corrected),
        batch("bad", "d9", at(1, 9), vec![], vec![rejected(4)]),
    ]
    .into_iter();
    let mut done = Vec::new();
    s.write_batches(4, &mut |_| queue.next(), &mut |id, o| {
        done.push((id, o.counts))
    })
    .expect("write grouped");
    let ids: Vec<&str> = done.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, ["b1", "b1-again", "b2", "bad"]);
    assert_eq!(done[0].1.accepted, 3);
    assert_eq!(done[1].1.duplicates, 3);
    assert_eq!(done[1].1.accepted, 0);
    assert_eq!(done[2].1.new_versions, 1);
    assert_eq!(done[3].1.rejected, 1);
    let t = s.totals().expect("totals");
    assert_eq!((t.versions, t.batches, t.rejected_rows), (4, 4, 1));
    assert_eq!(s.record_history(&corrected.key).expect("history").len(), 2);

    // The second group fails on its second batch (a row number no store can hold): its first
    // batch is not kept and not acknowledged; the first group is.
    let later = penalty("杭市监罚〔2024〕9号", hangzhou(), date(2024, 3, 2), 1.0);
    let mut broken = rejected(5);
    broken.row = u64::MAX;
    let mut queue = vec![
        one_row_batch(
            "c1",
            3,
            &penalty("杭市监罚〔2024〕8号", hangzhou(), date(2024, 3, 2), 1.0),
        ),
        batch(
            "c1-more",
            "d3",
            at(3, 10),
            vec![],
            vec![rejected(6), rejected(7), rejected(8)],
        ),
        one_row_batch("c2", 4, &later),
        batch("c2-bad", "d4", at(4, 10), vec![], vec![broken]),
    ]
    .into_iter();
    let mut done = Vec::new();
    let failed = s.write_batches(4, &mut |_| queue.next(), &mut |id, _| done.push(id));
    assert!(failed.is_err(), "the broken batch fails");
    assert_eq!(done, ["c1", "c1-more"]);
    let t = s.totals().expect("totals");
    assert_eq!((t.versions, t.batches), (5, 6));
    assert!(s.record_history(&later.key).expect("history").is_empty());
    assert!(s.batch("c2").expect("read").is_none());

    // A transaction is committed as soon as no batch is waiting: the store does not hold it open
    // for a slow source, so here each batch is its own transaction.
    let alone = penalty("杭市监罚〔2024〕10号", hangzhou(), date(2024, 3, 3), 1.0);
    let mut broken = rejected(9);
    broken.row = u64::MAX;
    let mut queue = vec![
        one_row_batch("e1", 5, &alone),
        batch("e1-bad", "d5", at(5, 10), vec![], vec![broken]),
    ]
    .into_iter();
    let mut done = Vec::new();
    let failed = s.write_batches(
        1_000_000,
        &mut |wait| if wait { queue.next() } else { None },
        &mut |id, _| done.push(id),
    );
    assert!(failed.is_err(), "the broken batch fails");
    assert_eq!(done, ["e1"]);
    assert_eq!(s.record_history(&alone.key).expect("history").len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Backends

fn unique_suffix() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u32(std::process::id());
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    format!("{:016x}", h.finish())
}

fn sqlite_ctx() -> (Ctx, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("creditloop.db").display());
    let path = dir.path().join("creditloop.db");
    let sql_path = path.clone();
    let ctx = Ctx {
        open: Box::new(move || creditloop_store::open(&url).expect("open SQLite store")),
        dump: Box::new(move || {
            let mut bytes = std::fs::read(&path).expect("read database file");
            let wal = format!("{}-wal", path.display());
            if let Ok(w) = std::fs::read(wal) {
                bytes.extend(w);
            }
            bytes
        }),
        sql: Box::new(move |sql| {
            rusqlite::Connection::open(&sql_path)
                .and_then(|c| c.execute_batch(sql))
                .expect("SQL on the SQLite file");
        }),
    };
    (ctx, dir)
}

/// A fresh PostgreSQL database, dropped at the end of the test.
struct PgDatabase {
    admin_url: String,
    name: String,
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        match ::postgres::Client::connect(&self.admin_url, ::postgres::NoTls) {
            Ok(mut c) => {
                if let Err(e) = c.batch_execute(&format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    self.name
                )) {
                    eprintln!("could not drop test database {}: {e}", self.name);
                }
            }
            Err(e) => eprintln!("could not drop test database {}: {e}", self.name),
        }
    }
}

/// `url` with its database name replaced.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_part = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{host_part}/{name}?{q}"),
        None => format!("{host_part}/{name}"),
    }
}

fn pg_ctx() -> Option<(Ctx, PgDatabase)> {
    let admin_url = std::env::var("CREDITLOOP_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let mut admin = match ::postgres::Client::connect(&admin_url, ::postgres::NoTls) {
        Ok(c) => c,
        Err(e) => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("PostgreSQL not reachable at {admin_url} (CI must run these tests): {e}");
            }
            // Straight to stderr: the test harness captures `eprintln!`, and a skip must be seen.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED: PostgreSQL not reachable at {admin_url}: {e}"
            );
            return None;
        }
    };
    let name = format!("cl_test_{}", unique_suffix());
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .expect("create test database");
    let url = with_database(&admin_url, &name);
    let dump_url = url.clone();
    let sql_url = url.clone();
    let ctx = Ctx {
        open: Box::new(move || creditloop_store::open(&url).expect("open PostgreSQL store")),
        dump: Box::new(move || pg_dump(&dump_url)),
        sql: Box::new(move |sql| {
            ::postgres::Client::connect(&sql_url, ::postgres::NoTls)
                .and_then(|mut c| c.batch_execute(sql))
                .expect("SQL on the PostgreSQL database");
        }),
    };
    Some((ctx, PgDatabase { admin_url, name }))
}

/// Every row of every table of the database as text (bytea as hex), like a dump of its data.
fn pg_dump(url: &str) -> Vec<u8> {
    let mut c = ::postgres::Client::connect(url, ::postgres::NoTls).expect("connect for dump");
    let tables: Vec<String> = c
        .query(
            "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema()",
            &[],
        )
        .expect("tables")
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut out = String::new();
    for t in tables {
        for r in c
            .query(&format!("SELECT t::text FROM \"{t}\" t"), &[])
            .expect("rows")
        {
            out.push_str(r.get::<_, &str>(0));
            out.push('\n');
        }
    }
    out.into_bytes()
}

/// A list entry (名单) of `category`, decided on `decided`, public until `until`.
fn listing(
    doc_no: &str,
    subject: SubjectRef,
    category: Category,
    decided: NaiveDate,
    until: NaiveDate,
    status: RecordStatus,
) -> CreditRecord {
    let mut r = penalty(doc_no, subject, decided, 1.0);
    r.key.category = category;
    r.nature = category.default_nature();
    r.title = format!("列入{}", category.zh());
    r.publicity_until = until;
    r.status = status;
    r.detail = Detail::Listing(ListingDetail {
        list_name: category.zh().into(),
        reason: "列入事由".into(),
        removed_on: None,
        removal_reason: None,
    });
    r
}

/// An active entry of the serious illegal and dishonest list (严重违法失信名单) of a Shenzhen company.
fn serious_listing(doc_no: &str) -> CreditRecord {
    listing(
        doc_no,
        company(SHENZHEN, "深圳南山科技有限公司"),
        Category::SeriousDishonestList,
        date(2024, 1, 5),
        date(2030, 1, 1),
        RecordStatus::Active,
    )
}

/// The check index learns a list entry's list name (名单名称) from the stored body, and every
/// record's facts come back as they went in.
fn index_feed_carries_list_names(ctx: &Ctx) {
    let s = ctx.store();
    let entry = serious_listing("YZ-1");
    let plain = penalty("杭市监罚〔2024〕9号", hangzhou(), date(2024, 3, 1), 2.5);
    s.write_batch(&batch(
        "b-lists",
        "d-lists",
        at(1, 9),
        vec![
            accepted(1, entry.clone(), false),
            accepted(2, plain.clone(), false),
        ],
        vec![],
    ))
    .expect("write");
    let mut seen = Vec::new();
    s.index_feed(0, &mut |item| {
        if let IndexFeed::Record { record, .. } = item {
            seen.push((record.key.doc_no.clone(), record.list_name.clone()));
        }
    })
    .expect("feed");
    seen.sort();
    assert_eq!(
        seen,
        vec![
            ("YZ-1".to_string(), Some("严重违法失信名单".to_string())),
            ("杭市监罚〔2024〕9号".to_string(), None),
        ]
    );
    assert_eq!(
        s.record_history(&entry.key).expect("history")[0].record,
        entry
    );
    assert_eq!(
        s.record_history(&plain.key).expect("history")[0].record,
        plain
    );
}

fn list_query(categories: Vec<Category>, on: NaiveDate) -> ListQuery {
    ListQuery {
        categories,
        agency: None,
        name_contains: None,
        from: None,
        to: None,
        public_on: on,
        offset: 0,
        limit: 50,
    }
}

fn list_members_page_public_entries(ctx: &Ctx) {
    let s = ctx.store();
    let far = date(2030, 1, 1);
    let rows = vec![
        accepted(
            1,
            listing(
                "HM-1",
                company(SHENZHEN, "深圳南山科技有限公司"),
                Category::RedList,
                date(2024, 1, 5),
                far,
                RecordStatus::Active,
            ),
            false,
        ),
        accepted(
            2,
            listing(
                "HM-2",
                company(SHANGHAI, "上海浦东贸易有限公司"),
                Category::RedList,
                date(2024, 2, 5),
                far,
                RecordStatus::Active,
            ),
            false,
        ),
        accepted(
            3,
            listing(
                "HM-3",
                company(BEIJING, "北京海淀软件有限公司"),
                Category::RedList,
                date(2024, 3, 5),
                far,
                RecordStatus::Active,
            ),
            false,
        ),
        // Not public: repaired, out of its window, decided in the future.
        accepted(
            4,
            listing(
                "HM-4",
                hangzhou(),
                Category::RedList,
                date(2024, 1, 1),
                far,
                RecordStatus::Repaired,
            ),
            false,
        ),
        accepted(
            5,
            listing(
                "HM-5",
                hangzhou(),
                Category::RedList,
                date(2020, 1, 1),
                date(2021, 1, 1),
                RecordStatus::Active,
            ),
            false,
        ),
        accepted(
            6,
            listing(
                "HM-6",
                hangzhou(),
                Category::RedList,
                date(2025, 1, 1),
                far,
                RecordStatus::Active,
            ),
            false,
        ),
        accepted(
            7,
            listing(
                "HMD-1",
                hangzhou(),
                Category::SeriousDishonestList,
                date(2024, 4, 1),
                far,
                RecordStatus::Active,
            ),
            false,
        ),
        accepted(
            8,
            listing(
                "SX-1",
                person(),
                Category::DishonestDebtor,
                date(2024, 4, 2),
                far,
                RecordStatus::Active,
            ),
            true,
        ),
    ];
    let mut rows = rows;
    // A penalty is no list entry.
    rows.push(accepted(
        9,
        penalty("杭市监罚〔2024〕9号", hangzhou(), date(2024, 4, 3), 1.0),
        false,
    ));
    s.write_batch(&batch("lists", "dl", at(6, 9), rows, vec![]))
        .expect("write");
    let on = date(2024, 6, 1);

    let red = s
        .list_members(&list_query(vec![Category::RedList], on))
        .expect("red");
    let docs: Vec<&str> = red
        .items
        .iter()
        .map(|m| m.record.record.key.doc_no.as_str())
        .collect();
    assert_eq!(docs, ["HM-3", "HM-2", "HM-1"], "newest first, public only");
    assert!(!red.has_more);
    assert_eq!(red.items[0].subject_key, key_of(BEIJING));

    // Paging.
    let mut q = list_query(vec![Category::RedList], on);
    q.limit = 2;
    let p1 = s.list_members(&q).expect("page 1");
    assert_eq!(p1.items.len(), 2);
    assert!(p1.has_more);
    q.offset = 2;
    let p2 = s.list_members(&q).expect("page 2");
    assert_eq!(p2.items.len(), 1);
    assert!(!p2.has_more);
    assert_eq!(p2.items[0].record.record.key.doc_no, "HM-1");

    // Black lists together; a non-list category asked for is ignored.
    let black = s
        .list_members(&list_query(
            vec![
                Category::SeriousDishonestList,
                Category::DishonestDebtor,
                Category::Penalty,
            ],
            on,
        ))
        .expect("black");
    let docs: Vec<&str> = black
        .items
        .iter()
        .map(|m| m.record.record.key.doc_no.as_str())
        .collect();
    assert_eq!(docs, ["SX-1", "HMD-1"]);
    // Every list category when none is named.
    assert_eq!(
        s.list_members(&list_query(vec![], on))
            .expect("all")
            .items
            .len(),
        5
    );

    // Filters: name, agency, dates.
    let mut q = list_query(vec![Category::RedList], on);
    q.name_contains = Some("浦东".into());
    let named = s.list_members(&q).expect("by name");
    assert_eq!(named.items.len(), 1);
    assert_eq!(named.items[0].record.record.key.doc_no, "HM-2");
    q.name_contains = Some("100%".into());
    assert!(s.list_members(&q).expect("escaped").items.is_empty());
    let mut q = list_query(vec![Category::RedList], on);
    q.agency = Some(SHANGHAI.into());
    assert!(s.list_members(&q).expect("by agency").items.is_empty());
    q.agency = Some(SOURCE.into());
    assert_eq!(s.list_members(&q).expect("by agency").items.len(), 3);
    let mut q = list_query(vec![Category::RedList], on);
    q.from = Some(date(2024, 2, 5));
    q.to = Some(date(2024, 2, 5));
    let dated = s.list_members(&q).expect("by dates");
    assert_eq!(dated.items.len(), 1, "both ends inclusive");
    assert_eq!(dated.items[0].record.record.key.doc_no, "HM-2");
}

fn subject_names_and_agency_batches(ctx: &Ctx) {
    let s = ctx.store();
    s.write_batch(&first_batch()).expect("write");
    let mut other = batch(
        "b-other",
        "d9",
        at(3, 9),
        vec![accepted(
            1,
            penalty(
                "X-1",
                company(SHENZHEN, "深圳南山科技有限公司"),
                date(2024, 4, 1),
                1.0,
            ),
            false,
        )],
        vec![],
    );
    other.agency = Some(SHANGHAI.into());
    s.write_batch(&other).expect("write");
    let mut names = Vec::new();
    let mut masked = Vec::new();
    s.subject_names(&mut |n| {
        masked.push((n.key.0.clone(), n.masked));
        names.push((n.key.0, n.name, n.kind))
    })
    .expect("names");
    // A person comes with the masked number to show beside the name; organisations with none.
    assert!(masked.contains(&(person_key().0, Some("1101**********002X".to_string()))));
    assert!(masked.contains(&(format!("U:{HANGZHOU}"), None)));
    names.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(
        names.contains(&(
            format!("U:{HANGZHOU}"),
            "杭州西湖食品有限公司".to_string(),
            SubjectKind::Enterprise
        )),
        "{names:?}"
    );
    assert!(
        names.contains(&(
            person_key().0,
            "李四".to_string(),
            SubjectKind::NaturalPerson
        )),
        "{names:?}"
    );
    assert!(names.iter().any(|n| n.1 == "深圳南山科技有限公司"));

    let mine = s.batches_of(SOURCE, 10).expect("batches of");
    assert_eq!(
        mine.iter().map(|b| b.id.as_str()).collect::<Vec<_>>(),
        ["b1"]
    );
    let theirs = s.batches_of(SHANGHAI, 10).expect("batches of");
    assert_eq!(
        theirs.iter().map(|b| b.id.as_str()).collect::<Vec<_>>(),
        ["b-other"]
    );
    assert!(s.batches_of(BEIJING, 10).expect("none").is_empty());
}

fn credit_reports_are_kept(ctx: &Ctx) {
    let s = ctx.store();
    let r = StoredReport {
        number: "XYBG20240601ABCDEF".into(),
        subject_key: format!("U:{HANGZHOU}"),
        issued_at: at(7, 8),
        digest: "ab".repeat(32),
        body: r#"{"number":"XYBG20240601ABCDEF"}"#.into(),
    };
    assert!(s.put_report(&r).expect("put"));
    let mut again = r.clone();
    again.digest = "cd".repeat(32);
    assert!(
        !s.put_report(&again).expect("put again"),
        "a number is issued once"
    );
    assert_eq!(s.report(&r.number).expect("read"), Some(r.clone()));
    assert_eq!(s.report("XYBG-none").expect("read"), None);
    drop(s);
    assert_eq!(ctx.store().report(&r.number).expect("reopen"), Some(r));
}

fn dashboard_stats(ctx: &Ctx) {
    let s = ctx.store();
    s.write_batch(&first_batch()).expect("write");
    let mut stats = s
        .record_stats(date(2024, 1, 1), date(2024, 12, 31))
        .expect("stats");
    stats.sort_by(|a, b| (&a.month, &a.category).cmp(&(&b.month, &b.category)));
    let flat: Vec<(String, String, String, u64, u64)> = stats
        .into_iter()
        .map(|r| (r.month, r.category, r.source, r.records, r.late))
        .collect();
    assert_eq!(
        flat,
        vec![
            ("2024-03".into(), "penalty".into(), SOURCE.into(), 1, 1),
            ("2024-04".into(), "licence".into(), SOURCE.into(), 1, 0),
            ("2024-04".into(), "penalty".into(), SOURCE.into(), 1, 0),
        ]
    );
    assert!(
        s.record_stats(date(2023, 1, 1), date(2023, 12, 31))
            .expect("none")
            .is_empty()
    );

    let a = stored_check("CK1", SHANGHAI, date(2024, 5, 6));
    let mut b = stored_check("CK2", SHANGHAI, date(2024, 5, 7));
    b.decision = "normal".into();
    let c = stored_check("CK3", SHANGHAI, date(2024, 5, 8));
    s.write_checks(&[a, b, c]).expect("checks");
    let fb = Feedback {
        outcome: FeedbackOutcome::Refused,
        measures: vec!["M1".into()],
        note: None,
        agency: Some(SHANGHAI.into()),
        at: at(9, 9),
    };
    assert_eq!(
        s.put_feedback("CK1", &fb).expect("feedback"),
        FeedbackWrite::Stored
    );
    let stats = s
        .check_stats(date(2024, 5, 1), date(2024, 5, 31))
        .expect("check stats");
    assert_eq!(
        stats,
        vec![
            stat("normal", SHANGHAI, 1, 0),
            stat("prohibit", SHANGHAI, 2, 1),
        ]
    );
    assert_eq!(
        s.check_stats(date(2024, 5, 7), date(2024, 5, 7))
            .expect("one day")
            .len(),
        1
    );
}

fn user_fixture(name: &str) -> creditloop_store::StoredUser {
    creditloop_store::StoredUser {
        username: name.into(),
        display_name: "上海经办人".into(),
        role: creditloop_domain::access::Role::AgencyOfficer,
        agency: Some(SHANGHAI.into()),
        subject: None,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        totp_secret: None,
        disabled: false,
        created_at: at(1, 9),
        updated_at: at(1, 9),
    }
}

fn users_are_kept(ctx: &Ctx) {
    let s = ctx.store();
    let u = user_fixture("zhang");
    assert!(s.put_user(&u).expect("put"));
    assert!(!s.put_user(&u).expect("taken"), "a name is taken once");
    assert_eq!(s.user("zhang").expect("read"), Some(u.clone()));
    assert_eq!(s.user("nobody").expect("read"), None);
    let mut changed = u.clone();
    changed.password_hash = "$argon2id$new".into();
    changed.totp_secret = Some("JBSWY3DPEHPK3PXP".into());
    changed.disabled = true;
    changed.updated_at = at(2, 9);
    assert!(s.update_user(&changed).expect("update"));
    assert!(!s.update_user(&user_fixture("ghost")).expect("no such user"));
    assert_eq!(s.user("zhang").expect("read"), Some(changed));
    let mut admin = user_fixture("admin");
    admin.role = creditloop_domain::access::Role::CreditOfficeAdmin;
    admin.agency = None;
    assert!(s.put_user(&admin).expect("put"));
    let names: Vec<String> = s
        .users()
        .expect("list")
        .into_iter()
        .map(|u| u.username)
        .collect();
    assert_eq!(names, vec!["admin".to_string(), "zhang".to_string()]);

    let session = creditloop_store::StoredSession {
        id_hash: "ab".repeat(32),
        username: "zhang".into(),
        csrf_token: "csrf".into(),
        created_at: at(3, 9),
        expires_at: at(3, 17),
    };
    s.put_session(&session).expect("session");
    assert_eq!(
        s.session(&session.id_hash).expect("read"),
        Some(session.clone())
    );
    s.delete_session(&session.id_hash).expect("logout");
    s.delete_session(&session.id_hash).expect("twice is fine");
    assert_eq!(s.session(&session.id_hash).expect("read"), None);
}

fn tokens_are_kept_as_hashes(ctx: &Ctx) {
    let s = ctx.store();
    let t = creditloop_store::StoredToken {
        name: "shanghai-approvals".into(),
        token_hash: "cd".repeat(32),
        role: creditloop_domain::access::Role::AgencySystem,
        agency: Some(SHANGHAI.into()),
        subject: None,
        created_by: "cli".into(),
        created_at: at(1, 9),
        expires_at: Some(at(20, 9)),
        revoked_at: None,
        last_used_at: None,
    };
    assert!(s.put_token(&t).expect("put"));
    assert!(!s.put_token(&t).expect("taken"), "a name is taken once");
    let mut other_hash = t.clone();
    other_hash.name = "other".into();
    assert!(
        !s.put_token(&other_hash).expect("same hash"),
        "a hash is taken once"
    );
    assert_eq!(
        s.token_by_hash(&t.token_hash).expect("read"),
        Some(t.clone())
    );
    assert_eq!(s.token_by_hash(&"00".repeat(32)).expect("read"), None);
    assert!(t.is_valid_at(at(2, 9)));
    assert!(!t.is_valid_at(at(20, 9)), "expired at its expiry");

    s.touch_token(&t.token_hash, at(3, 10)).expect("touch");
    assert!(
        s.revoke_token("shanghai-approvals", at(4, 10))
            .expect("revoke")
    );
    assert!(
        !s.revoke_token("shanghai-approvals", at(5, 10))
            .expect("again")
    );
    assert!(!s.revoke_token("nothing", at(5, 10)).expect("unknown"));
    let held = s
        .token_by_hash(&t.token_hash)
        .expect("read")
        .expect("kept after revocation");
    assert_eq!(held.last_used_at, Some(at(3, 10)));
    assert_eq!(held.revoked_at, Some(at(4, 10)));
    assert!(!held.is_valid_at(at(2, 9)), "revoked is never valid");
    assert_eq!(s.tokens().expect("list").len(), 1);
}

fn certificates_are_bound_to_users(ctx: &Ctx) {
    let s = ctx.store();
    for name in ["zhang", "li"] {
        assert!(s.put_user(&user_fixture(name)).expect("put user"));
    }
    let cert = |fp: &str, user: &str| creditloop_store::StoredCertificate {
        fingerprint: fp.into(),
        username: user.into(),
        bound_by: "cli".into(),
        bound_at: at(3, 9),
    };
    let a = cert(&"a".repeat(64), "zhang");
    let b = cert(&"b".repeat(64), "zhang");
    let c = cert(&"c".repeat(64), "li");
    for x in [&b, &a, &c] {
        assert!(s.bind_certificate(x).expect("bind"));
    }
    assert!(
        !s.bind_certificate(&cert(&"a".repeat(64), "li"))
            .expect("bound"),
        "a certificate stands for one user"
    );
    assert_eq!(
        s.certificate(&a.fingerprint).expect("read"),
        Some(a.clone())
    );
    assert_eq!(s.certificate(&"d".repeat(64)).expect("read"), None);
    assert_eq!(
        s.certificates().expect("list"),
        vec![c.clone(), a.clone(), b.clone()],
        "by user, then fingerprint"
    );
    assert!(s.unbind_certificate(&a.fingerprint).expect("unbind"));
    assert!(!s.unbind_certificate(&a.fingerprint).expect("twice"));
    assert_eq!(s.certificate(&a.fingerprint).expect("read"), None);
    assert_eq!(s.certificates().expect("list"), vec![c, b]);
}

fn pii_key_check_binds_the_database(ctx: &Ctx) {
    let s = ctx.store();
    let ours = pii().check_value();
    s.check_pii_key(&ours).expect("first use binds the key");
    s.check_pii_key(&ours).expect("the same key again");
    drop(s);
    let s = ctx.store();
    s.check_pii_key(&ours).expect("after reopening");
    let other = PiiKey::from_master(&[9u8; 32], creditloop_pii::Cipher::Aes256Gcm).check_value();
    match s.check_pii_key(&other) {
        Err(creditloop_store::StoreError::PiiKeyMismatch { stored, given }) => {
            assert_eq!((stored, given), (ours.clone(), other));
        }
        r => panic!("another key must be refused, got {r:?}"),
    }
    s.check_pii_key(&ours).expect("the right key still opens");
}

fn resident_numbers_are_sealed_at_rest(ctx: &Ctx) {
    let s = ctx.store();
    s.check_pii_key(&pii().check_value()).expect("bind key");
    s.write_batch(&first_batch()).expect("write");
    // The legal representative of 杭州 and the person 李四 are one person: sealed once.
    let sealed = s
        .sealed_identity(&person_key())
        .expect("read")
        .expect("sealed number stored");
    assert_eq!(sealed.masked, "1101**********002X");
    assert_eq!(pii().open(&sealed).expect("opens").as_str(), PERSON_ID);
    assert!(
        s.sealed_identity(&key_of(HANGZHOU))
            .expect("read")
            .is_none()
    );
    let p = s.subject(&key_of(HANGZHOU)).expect("read").expect("stored");
    let rep = p.persons.iter().find(|l| l.person.is_some()).expect("rep");
    assert_eq!(rep.person, Some(person_of(PERSON_ID)));
    drop(s);
    let dump = (ctx.dump)();
    let text = String::from_utf8_lossy(&dump);
    for needle in [PERSON_ID.to_string(), hex::encode(PERSON_ID)] {
        assert!(
            !text.contains(&needle),
            "the resident number is in the database in clear ({needle})"
        );
    }
    assert!(
        text.contains("1101**********002X"),
        "the masked form is kept"
    );
}

fn persons_in_clear_from_before_are_refused(ctx: &Ctx) {
    let s = ctx.store();
    // A person filed under the number itself, as stores wrote them before pseudonyms.
    let mut legacy = person();
    legacy.codes.person = Some(PersonId {
        pseudonym: PERSON_ID.into(),
        masked: "1101**********002X".into(),
    });
    s.write_batch(&batch(
        "b1",
        "d1",
        at(1, 9),
        vec![accepted(
            1,
            penalty("旧罚〔2020〕1号", legacy, date(2024, 4, 1), 1.0),
            false,
        )],
        vec![],
    ))
    .expect("write");
    match s.check_pii_key(&pii().check_value()) {
        Err(creditloop_store::StoreError::LegacyPersons(1)) => {}
        r => panic!("clear persons must be refused, got {r:?}"),
    }
}

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $name() {
                    let (ctx, _dir) = super::sqlite_ctx();
                    let store = ctx.store();
                    assert_eq!(store.backend(), "sqlite");
                    drop(store);
                    super::$name(&ctx);
                }
            )*
        }
        mod postgres {
            $(
                #[test]
                fn $name() {
                    let Some((ctx, _db)) = super::pg_ctx() else { return };
                    let store = ctx.store();
                    assert_eq!(store.backend(), "postgres");
                    drop(store);
                    super::$name(&ctx);
                }
            )*
        }
    };
}

conformance!(
    profile_with_records_and_persons,
    find_subject_by_any_code,
    a_code_claimed_twice_in_a_batch_goes_to_the_first_row,
    same_batch_twice_changes_nothing,
    changed_record_is_new_version,
    rejects_are_stored_once,
    data_survives_reopen,
    search_by_name_and_code,
    agencies_put_list_update,
    totals_count_everything,
    ping_reads_the_store,
    records_by_category_counts_current,
    batches_newest_first,
    subject_codes_and_names_merge,
    subject_name_follows_the_last_write_of_any_writer,
    a_writer_learns_what_another_wrote,
    reads_run_while_writing,
    empty_and_reject_only_batches,
    large_batches_with_corrections,
    index_feed_streams_current_then_changes,
    checks_are_stored_with_feedback,
    batch_rows_are_checks_like_any_other,
    check_ids_are_unique_and_ordered,
    catalogue_versions_are_kept,
    list_members_page_public_entries,
    index_feed_carries_list_names,
    subject_names_and_agency_batches,
    credit_reports_are_kept,
    dashboard_stats,
    users_are_kept,
    tokens_are_kept_as_hashes,
    certificates_are_bound_to_users,
    pii_key_check_binds_the_database,
    resident_numbers_are_sealed_at_rest,
    persons_in_clear_from_before_are_refused,
    bulk_load_keeps_every_answer,
    bulk_load_meets_another_writer,
    encoded_batches_store_the_same,
    grouped_batches_answer_as_one_by_one,
);

/// SQLite stores record bodies as zstd frames with the shipped dictionary, about a sixth of their
/// JSON; bodies stored as JSON text by earlier versions are read as before, by every reader. (The
/// PostgreSQL twin follows.)
#[test]
fn sqlite_bodies_are_compressed_and_old_text_bodies_still_read() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bodies.db");
    let s = creditloop_store::sqlite::SqliteStore::open(&path).expect("open");
    let entry = serious_listing("YZ-2");
    s.write_batch(&batch(
        "b-old",
        "d-old",
        at(1, 9),
        vec![accepted(1, entry.clone(), false)],
        vec![],
    ))
    .expect("write");
    let c = rusqlite::Connection::open(&path).expect("open raw");
    let (kind, stored): (String, Vec<u8>) = c
        .query_row("SELECT typeof(body), body FROM records", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .expect("body");
    assert_eq!(kind, "blob");
    let json = compressed_json_of(&stored, &entry);
    // As a store of an earlier version left it: the JSON itself, as text.
    c.execute(
        "UPDATE records SET body = ?1",
        [std::str::from_utf8(&json).expect("utf-8")],
    )
    .expect("to text");
    reads_as_before(&s, entry, "b-old-2");
}

/// PostgreSQL copies new subjects, person links and sealed numbers in binary: every value arrives
/// as sent, the times included (counted in that format from 2000-01-01), and a second writer's
/// write of the same subject goes through the upsert, not a second copy.
#[test]
fn postgres_copied_subject_rows_arrive_as_sent() {
    let Some((ctx, db)) = pg_ctx() else { return };
    let url = with_database(&db.admin_url, &db.name);
    let s = ctx.store();
    s.write_batch(&first_batch()).expect("write");
    let mut c = ::postgres::Client::connect(&url, ::postgres::NoTls).expect("connect");
    let row = c
        .query_one(
            "SELECT name, kind, uscc, reg_no, org_code, resident_id, updated_at FROM subjects
             WHERE key = $1",
            &[&key_of(HANGZHOU).0],
        )
        .expect("subject");
    let name: String = row.get(0);
    let kind: String = row.get(1);
    let codes: [Option<String>; 4] = [row.get(2), row.get(3), row.get(4), row.get(5)];
    let updated: DateTime<Utc> = row.get(6);
    assert_eq!(name, hangzhou().name);
    assert_eq!(kind, SubjectKind::Enterprise.code());
    assert_eq!(
        codes,
        [
            Some(HANGZHOU.to_string()),
            Some(REG_NO.to_string()),
            Some("716105852".to_string()),
            None
        ]
    );
    assert_eq!(updated, at(1, 9));
    type Link = (String, Option<String>, Option<String>, Option<String>);
    let links: Vec<Link> = c
        .query(
            "SELECT name, person_key, resident_id, other_id FROM subject_persons
             WHERE subject_key = $1 ORDER BY name",
            &[&key_of(HANGZHOU).0],
        )
        .expect("links")
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect();
    let masked = person_of(PERSON_ID).masked().to_string();
    assert_eq!(
        links,
        [
            (
                "John Smith".to_string(),
                None,
                None,
                Some(r#"["护照","E12345678"]"#.to_string())
            ),
            (
                "张三".to_string(),
                Some(person_key().0),
                Some(masked.clone()),
                None
            ),
        ]
    );
    let (cipher, sealed_masked, created): (String, String, DateTime<Utc>) = {
        let r = c
            .query_one(
                "SELECT cipher, masked, created_at FROM pii_identities WHERE subject_key = $1",
                &[&person_key().0],
            )
            .expect("identity");
        (r.get(0), r.get(1), r.get(2))
    };
    assert_eq!(cipher, "aes-256-gcm");
    assert_eq!(sealed_masked, masked);
    assert_eq!(created, at(1, 9));
    assert_eq!(
        s.sealed_identity(&person_key())
            .expect("read")
            .map(|i| i.masked),
        Some(masked)
    );

    // Another store, which knows nothing of these rows, writes the same subject renamed.
    let other = ctx.store();
    let mut renamed = hangzhou();
    renamed.name = "杭州西湖食品集团有限公司".into();
    other
        .write_batch(&batch(
            "b2",
            "d2",
            at(2, 9),
            vec![accepted(
                1,
                penalty("杭市监罚〔2024〕9号", renamed, date(2024, 5, 1), 1.0),
                true,
            )],
            vec![],
        ))
        .expect("write");
    let updated: DateTime<Utc> = c
        .query_one(
            "SELECT updated_at FROM subjects WHERE key = $1",
            &[&key_of(HANGZHOU).0],
        )
        .expect("subject")
        .get(0);
    assert_eq!(updated, at(2, 9));
}

/// PostgreSQL stores record bodies as zstd frames too (`bytea`, migration 0008); a body that
/// migration converted from the old JSON text column is its UTF-8 bytes and is read as before.
#[test]
fn postgres_bodies_are_compressed_and_converted_text_bodies_still_read() {
    let Some((ctx, db)) = pg_ctx() else { return };
    let url = with_database(&db.admin_url, &db.name);
    let s = ctx.store();
    let entry = serious_listing("YZ-3");
    s.write_batch(&batch(
        "b-pg-old",
        "d-pg-old",
        at(1, 9),
        vec![accepted(1, entry.clone(), false)],
        vec![],
    ))
    .expect("write");
    let mut c = ::postgres::Client::connect(&url, ::postgres::NoTls).expect("connect");
    let stored: Vec<u8> = c
        .query_one("SELECT body FROM records", &[])
        .expect("body")
        .get(0);
    let json = compressed_json_of(&stored, &entry);
    // As migration 0008 leaves a body written before it: the JSON text's bytes.
    c.execute(
        "UPDATE records SET body = convert_to($1, 'UTF8')",
        &[&std::str::from_utf8(&json).expect("utf-8")],
    )
    .expect("to text bytes");
    reads_as_before(&*s, entry, "b-pg-old-2");
}

/// PostgreSQL holds check answers as zstd frames too, and an answer migration 0009 converted from
/// the old text column (its UTF-8 bytes) is read as it was.
#[test]
fn postgres_check_answers_are_compressed_and_converted_text_answers_still_read() {
    let Some((ctx, db)) = pg_ctx() else { return };
    let url = with_database(&db.admin_url, &db.name);
    let s = ctx.store();
    let mut a = stored_check("CK-PG-Z", SHANGHAI, date(2024, 5, 6));
    a.answer = format!(
        r#"{{"decision":"prohibit","measures":[{{"code":"CJ-SX-002","implementing_agency":"发展改革、住房城乡建设、交通运输、水利等招标投标行政监督部门，招标人及招标代理机构","content":"限制失信被执行人的投标活动，依法不得参与依法必须进行招标的工程建设项目投标","legal_basis":{{"document":"《关于在招标投标活动中对失信被执行人实施联合惩戒的通知》（法〔2016〕285号）"}}}}],"receipt":"CK-PG-Z","note":"{}"}}"#,
        "引号 \\\" 和 emoji 🚀"
    );
    s.write_checks(std::slice::from_ref(&a)).expect("write");
    let mut c = ::postgres::Client::connect(&url, ::postgres::NoTls).expect("connect");
    let stored: Vec<u8> = c
        .query_one("SELECT answer FROM checks WHERE id = 'CK-PG-Z'", &[])
        .expect("answer")
        .get(0);
    assert!(
        stored.len() * 2 < a.answer.len() && !stored.starts_with(b"{"),
        "{} bytes for {} of text",
        stored.len(),
        a.answer.len()
    );
    assert_eq!(s.check_receipt("CK-PG-Z").expect("read"), Some(a.clone()));
    // As migration 0009 leaves an answer written before it: the text's bytes.
    c.execute(
        "UPDATE checks SET answer = convert_to($1, 'UTF8') WHERE id = 'CK-PG-Z'",
        &[&a.answer],
    )
    .expect("to text bytes");
    assert_eq!(s.check_receipt("CK-PG-Z").expect("read"), Some(a));
}

/// The JSON of `entry`, after checking that `stored` is its compressed form, under a third of it.
fn compressed_json_of(stored: &[u8], entry: &CreditRecord) -> Vec<u8> {
    let json = serde_json::to_vec(entry).expect("json");
    assert!(
        stored.len() * 3 < json.len(),
        "{} of {}",
        stored.len(),
        json.len()
    );
    assert_eq!(
        &*creditloop_store::body::body_json(stored).expect("decode"),
        json.as_slice()
    );
    json
}

/// What a store must still do with the body of `entry` (a serious-list entry, alone in the store)
/// rewritten as an older version left it: read it, feed its list name to the check index, and count
/// the same record sent again (as batch `batch_id`) as a duplicate.
fn reads_as_before(s: &dyn Store, entry: CreditRecord, batch_id: &str) {
    assert_eq!(
        s.record_history(&entry.key).expect("history")[0].record,
        entry
    );
    let mut names = Vec::new();
    s.index_feed(0, &mut |item| {
        if let IndexFeed::Record { record, .. } = item {
            names.push(record.list_name);
        }
    })
    .expect("feed");
    assert_eq!(names, vec![Some("严重违法失信名单".to_string())]);
    let again = s
        .write_batch(&batch(
            batch_id,
            "d-again",
            at(2, 9),
            vec![accepted(1, entry, false)],
            vec![],
        ))
        .expect("again");
    assert_eq!(again.counts.duplicates, 1);
}

/// The names of the indexes of `records` in the SQLite file at `path`.
fn indexes_of(path: &std::path::Path) -> Vec<String> {
    let c = rusqlite::Connection::open(path).expect("open");
    let mut st = c
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'records'
             AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )
        .expect("prepare");
    st.query_map([], |r| r.get(0))
        .expect("query")
        .collect::<rusqlite::Result<_>>()
        .expect("rows")
}

/// The SQLite bulk load drops the indexes no write needs only while the records table is empty,
/// builds them at its end, and a store opened after a load that never ended has them again.
#[test]
fn sqlite_bulk_load_defers_and_rebuilds_indexes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bulk.db");
    let indexes = || indexes_of(&path);
    let all = vec![
        "records_key_hash".to_string(),
        "records_list_entries".to_string(),
        "records_subject_key".to_string(),
    ];
    {
        let s = creditloop_store::sqlite::SqliteStore::open(&path).expect("open");
        assert_eq!(indexes(), all);
        s.begin_bulk_load().expect("begin");
        // The version probe's index stays.
        assert_eq!(indexes(), vec!["records_key_hash".to_string()]);
        s.write_batch(&first_batch()).expect("write");
        assert_eq!(
            s.write_batch(&first_batch())
                .expect("again")
                .counts
                .duplicates,
            3
        );
        s.end_bulk_load().expect("end");
        assert_eq!(indexes(), all);
        // Over a table that holds rows, nothing is dropped.
        s.begin_bulk_load().expect("begin again");
        assert_eq!(indexes(), all);
        s.end_bulk_load().expect("end");
    }
    // Another writer during the load sees what the load wrote, and the load what it wrote.
    let path3 = dir.path().join("shared.db");
    {
        let loader = creditloop_store::sqlite::SqliteStore::open(&path3).expect("open");
        let other = creditloop_store::sqlite::SqliteStore::open(&path3).expect("open");
        loader.begin_bulk_load().expect("begin");
        assert_eq!(
            other
                .write_batch(&first_batch())
                .expect("other")
                .counts
                .accepted,
            3
        );
        let out = loader.write_batch(&first_batch()).expect("loader");
        assert_eq!(out.counts.duplicates, 3, "{:?}", out.counts);
        let p = other
            .subject(&key_of(HANGZHOU))
            .expect("read")
            .expect("stored");
        assert_eq!(p.records.len(), 2);
        loader.end_bulk_load().expect("end");
        assert_eq!(other.totals().expect("totals").versions, 3);
    }
    // A store opened while a load runs leaves the load's indexes deferred, and a load it begins
    // meanwhile defers and builds nothing; the running load's end builds them.
    let path4 = dir.path().join("running.db");
    {
        let loader = creditloop_store::sqlite::SqliteStore::open(&path4).expect("open");
        loader.begin_bulk_load().expect("begin");
        loader.write_batch(&first_batch()).expect("write");
        let during = creditloop_store::sqlite::SqliteStore::open(&path4).expect("open during");
        let deferred = vec!["records_key_hash".to_string()];
        assert_eq!(indexes_of(&path4), deferred, "opening did not rebuild");
        during.begin_bulk_load().expect("begin a second load");
        let late = penalty("杭市监罚〔2024〕7号", hangzhou(), date(2024, 3, 5), 1.0);
        during
            .write_batch(&one_row_batch("late", 2, &late))
            .expect("write");
        during.end_bulk_load().expect("end the second load");
        assert_eq!(
            indexes_of(&path4),
            deferred,
            "the running load's stay deferred"
        );
        loader.end_bulk_load().expect("end");
        assert_eq!(indexes_of(&path4), all);
        assert!(
            !dir.path().join("running.db-bulk").exists(),
            "no stray mark"
        );
        let p = during
            .subject(&key_of(HANGZHOU))
            .expect("read")
            .expect("stored");
        assert_eq!(p.records.len(), 3);
    }
    let path2 = dir.path().join("killed.db");
    {
        let s = creditloop_store::sqlite::SqliteStore::open(&path2).expect("open");
        s.begin_bulk_load().expect("begin");
        s.write_batch(&first_batch()).expect("write");
    }
    let c = rusqlite::Connection::open(&path2).expect("open");
    let n: i64 = c
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name = 'records_subject_key'",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(n, 0, "the load that did not end left the index dropped");
    drop(c);
    drop(creditloop_store::sqlite::SqliteStore::open(&path2).expect("reopen"));
    let c = rusqlite::Connection::open(&path2).expect("open");
    let n: i64 = c
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN
                 ('records_subject_key', 'records_list_entries')",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(n, 2, "reopening rebuilt the deferred indexes");
}

/// Opening a store whose migrations are all applied takes no write lock, so it does not wait behind
/// another connection's write transaction (an import's). Were it to wait, it would wait the whole
/// 30 s busy timeout here, as the lock is held until the store has opened.
#[test]
fn sqlite_open_does_not_wait_for_the_write_lock() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("locked.db");
    drop(creditloop_store::sqlite::SqliteStore::open(&path).expect("create"));
    let holder = rusqlite::Connection::open(&path).expect("open");
    holder
        .execute_batch("BEGIN IMMEDIATE")
        .expect("take the write lock");
    let (tx, rx) = std::sync::mpsc::channel();
    let p = path.clone();
    std::thread::spawn(move || {
        let opened = creditloop_store::sqlite::SqliteStore::open(&p)
            .map(|s| s.totals().expect("read while the lock is held").records);
        let _ = tx.send(opened.is_ok());
    });
    let opened = rx
        .recv_timeout(std::time::Duration::from_secs(20))
        .expect("the store opened while another connection held the write lock");
    assert!(opened);
    holder.execute_batch("COMMIT").expect("release");
}

#[test]
fn database_url_rewrite() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
        "postgres://postgres@127.0.0.1:5432/x"
    );
    assert_eq!(
        with_database("postgres://u:p@h/test?sslmode=disable", "x"),
        "postgres://u:p@h/x?sslmode=disable"
    );
    assert_eq!(
        with_database("postgres://h:5432", "x"),
        "postgres://h:5432/x"
    );
}

/// An acknowledged write survives `kill -9` of the process that made it: the test runs itself as a
/// child that writes a batch, says so, and is killed before it can close anything.
#[test]
fn sqlite_acknowledged_write_survives_kill() {
    use std::io::{BufRead, BufReader, Write};
    const CHILD: &str = "CREDITLOOP_TEST_KILL_CHILD_DB";
    if let Ok(path) = std::env::var(CHILD) {
        let s = creditloop_store::sqlite::SqliteStore::open(&path).expect("open");
        s.write_batch(&first_batch()).expect("write");
        let mut out = std::io::stdout();
        writeln!(out, "ACKNOWLEDGED").expect("stdout");
        out.flush().expect("stdout");
        std::thread::sleep(std::time::Duration::from_secs(120));
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("killed.db");
    let mut child = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "sqlite_acknowledged_write_survives_kill",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, &path)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn child");
    let stdout = child.stdout.take().expect("child stdout");
    let acknowledged = BufReader::new(stdout)
        .lines()
        .map_while(|l| l.ok())
        .any(|l| l.trim_end().ends_with("ACKNOWLEDGED"));
    child.kill().expect("kill child"); // SIGKILL
    child.wait().expect("reap child");
    assert!(acknowledged, "child did not acknowledge its write");

    let s = creditloop_store::sqlite::SqliteStore::open(&path).expect("reopen");
    assert_eq!(s.totals().expect("totals").records, 3);
    let p = s.subject(&key_of(HANGZHOU)).expect("read").expect("stored");
    assert_eq!(p.records.len(), 2);
}

#[test]
fn memory_sqlite_works_through_open() {
    let s = creditloop_store::open("sqlite://:memory:").expect("open");
    s.write_batch(&first_batch()).expect("write");
    assert_eq!(s.totals().expect("totals").records, 3);
    assert!(creditloop_store::open("mysql://x").is_err());
}

/// The PostgreSQL bulk load drops SQLite's deferred indexes and the version probe's key-hash index
/// too, only while `records` is empty; a writer that must look keys up meanwhile builds the
/// key-hash index first, and a store connected after a load that never ended has them all again.
#[test]
fn postgres_bulk_load_defers_and_rebuilds_indexes() {
    let Some((ctx, db)) = pg_ctx() else { return };
    let url = with_database(&db.admin_url, &db.name);
    let indexes = || -> Vec<String> {
        let mut c = ::postgres::Client::connect(&url, ::postgres::NoTls).expect("connect");
        c.query(
            "SELECT indexname::text FROM pg_indexes WHERE tablename = 'records'
             AND indexname <> 'records_pkey' ORDER BY 1",
            &[],
        )
        .expect("indexes")
        .iter()
        .map(|r| r.get(0))
        .collect()
    };
    let all = vec![
        "records_key_hash".to_string(),
        "records_list_entries".to_string(),
        "records_subject_key".to_string(),
    ];
    let none: Vec<String> = Vec::new();
    {
        let s = ctx.store();
        assert_eq!(indexes(), all);
        s.begin_bulk_load().expect("begin");
        assert_eq!(indexes(), none);
        s.write_batch(&first_batch()).expect("write");
        assert_eq!(indexes(), none, "new keys of a fresh load need no probe");
        // The same rows again: their versions must be looked up, so the probe builds its index.
        let again = s.write_batch(&first_batch()).expect("write again");
        assert_eq!(again.counts.duplicates, 3);
        assert_eq!(indexes(), vec!["records_key_hash".to_string()]);
        // Dropped without its end, as when the importing process is killed.
    }
    assert_eq!(indexes(), vec!["records_key_hash".to_string()]);
    let s = ctx.store();
    assert_eq!(indexes(), all, "connecting rebuilt the deferred indexes");
    s.begin_bulk_load().expect("begin over a full table");
    assert_eq!(indexes(), all);
    s.end_bulk_load().expect("end");
    drop(s);

    // While a load runs (it holds its lock), connecting leaves its indexes deferred, and a load
    // begun meanwhile defers and builds nothing; the running load's end builds them.
    {
        let mut c = ::postgres::Client::connect(&url, ::postgres::NoTls).expect("connect");
        c.batch_execute("DELETE FROM records")
            .expect("empty the table");
    }
    let loader = ctx.store();
    loader.begin_bulk_load().expect("begin");
    assert_eq!(indexes(), none);
    let during = ctx.store();
    assert_eq!(indexes(), none, "connecting did not rebuild");
    during.begin_bulk_load().expect("begin a second load");
    during.end_bulk_load().expect("end the second load");
    assert_eq!(indexes(), none, "the running load's stay deferred");
    // Another writer meanwhile, which knows nothing of the load's keys, probes with the index.
    let out = during
        .write_batch(&one_row_batch(
            "o1",
            9,
            &penalty("杭市监罚〔2024〕7号", hangzhou(), date(2024, 3, 7), 1.0),
        ))
        .expect("other writes");
    assert_eq!(out.counts.accepted, 1);
    assert_eq!(indexes(), vec!["records_key_hash".to_string()]);
    loader.end_bulk_load().expect("end");
    assert_eq!(indexes(), all, "the running load's end built them");
}

/// A SQLite store keeps its check log in a file of its own (`X.checks.db`), so a check is stored
/// while another writer (an import, here a raw connection) holds the main file's write lock; with
/// the log in the main file this write would wait out the 30 s busy timeout and fail.
#[test]
fn sqlite_checks_are_kept_apart_and_stored_while_the_main_file_is_locked() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("t.db");
    let s = creditloop_store::sqlite::SqliteStore::open(&path).expect("open");
    let check_file = creditloop_store::sqlite::check_file_path(&path);
    assert_eq!(check_file, dir.path().join("t.checks.db"));

    let import = rusqlite::Connection::open(&path).expect("open raw");
    import
        .execute_batch("BEGIN IMMEDIATE; UPDATE schema_migrations SET name = name;")
        .expect("hold the write lock");
    let a = stored_check("CK-A", SHANGHAI, date(2024, 5, 6));
    s.write_checks(std::slice::from_ref(&a))
        .expect("stored beside the held lock");
    let fb = Feedback {
        outcome: FeedbackOutcome::Strict,
        measures: vec!["M2".into()],
        note: None,
        agency: Some(SHANGHAI.into()),
        at: at(4, 8),
    };
    assert_eq!(
        s.put_feedback("CK-A", &fb).expect("feedback"),
        FeedbackWrite::Stored
    );
    import.execute_batch("COMMIT").expect("release");

    let raw = rusqlite::Connection::open(&check_file).expect("open check file");
    let n: i64 = raw
        .query_row("SELECT COUNT(*) FROM checks WHERE id = 'CK-A'", [], |r| {
            r.get(0)
        })
        .expect("count");
    assert_eq!(n, 1);
    let in_main: bool = import
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name IN ('checks', 'check_feedback'))",
            [],
            |r| r.get(0),
        )
        .expect("schema");
    assert!(!in_main, "no check tables left in the main file");
    assert_eq!(
        s.check_receipt("CK-A")
            .expect("read")
            .and_then(|c| c.feedback),
        Some(fb)
    );
}

/// The check file holds each answer as a zstd frame (a fraction of its text) and gives back the
/// text exactly; answers the check file held as text before that are read as they are.
#[test]
fn sqlite_check_answers_are_stored_compressed_and_read_back_exactly() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("t.db");
    let s = creditloop_store::sqlite::SqliteStore::open(&path).expect("open");
    let mut a = stored_check("CK-Z", SHANGHAI, date(2024, 5, 6));
    a.answer = r#"{"decision":"prohibit","scenario":"public_bidding","checked_on":"2024-05-06","subject":"U:91330100716105852F","subject_known":true,"measures":[{"code":"CJ-SX-002","kind":"punishment","action":"prohibit","effect":"prohibit","implementing_agency":"发展改革、住房城乡建设、交通运输、水利等招标投标行政监督部门，招标人及招标代理机构","content":"限制失信被执行人的投标活动，依法不得参与依法必须进行招标的工程建设项目投标","legal_basis":{"document":"《关于在招标投标活动中对失信被执行人实施联合惩戒的通知》（法〔2016〕285号）","article":"二、联合惩戒对象和措施"},"triggering":[{"source":"11330100002489583G","category":"dishonest_debtor","doc_no":"浙0102执〔2023〕1234号"}],"explanation":"主体为失信被执行人"}],"suppressed":[],"disregarded":[],"receipt":"CK-Z","summary_zh":"不予办理：适用惩戒措施1项","agency":"11330100002489583G","case_ref":"ZJ-1 \"引号\" \\ 和 emoji 🚀"}"#.into();
    s.write_checks(std::slice::from_ref(&a)).expect("write");
    let raw = rusqlite::Connection::open(creditloop_store::sqlite::check_file_path(&path))
        .expect("open check file");
    let (kind, len): (String, i64) = raw
        .query_row(
            "SELECT typeof(answer), length(answer) FROM checks WHERE id = 'CK-Z'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("raw row");
    assert_eq!(kind, "blob");
    assert!(
        (len as usize) * 3 < a.answer.len(),
        "{len} bytes for {} of text",
        a.answer.len()
    );
    assert_eq!(s.check_receipt("CK-Z").expect("read"), Some(a.clone()));

    // A row as the check file held it before: the answer as text.
    let old = stored_check("CK-T", SHANGHAI, date(2024, 5, 7));
    raw.execute(
        "INSERT INTO checks (id, at, checked_on, agency, case_ref, subject_query, subject_key,
             scenario, decision, measures, catalogue_version, data_version, batch_id, answer)
         VALUES ('CK-T', '2024-03-10T10:00:00Z', '2024-05-07', ?1, ?2, ?3, ?4, ?5, ?6,
             '[\"M1\",\"M2\"]', ?7, 7, NULL, ?8)",
        rusqlite::params![
            old.agency,
            old.case_ref,
            old.subject_query,
            old.subject_key,
            old.scenario,
            old.decision,
            old.catalogue_version,
            old.answer
        ],
    )
    .expect("text answer");
    let listed = s
        .checks(&CheckQuery {
            limit: 10,
            ..CheckQuery::default()
        })
        .expect("list");
    let t = listed.iter().find(|c| c.id == "CK-T").expect("listed");
    assert_eq!(t.answer, old.answer);
    assert_eq!(listed.len(), 2);
}

/// Checks and feedback that an older store kept in its main file move to the check file when the
/// store is opened, all of them and once: opening again, or after a move cut short (rows already
/// copied, the old tables not yet dropped), neither loses nor doubles a row.
#[test]
fn sqlite_checks_of_an_older_store_move_to_the_check_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("old.db");
    drop(creditloop_store::sqlite::SqliteStore::open(&path).expect("create"));
    let check_file = creditloop_store::sqlite::check_file_path(&path);
    for suffix in ["", "-wal", "-shm"] {
        let mut name = check_file.clone().into_os_string();
        name.push(suffix);
        let _ = std::fs::remove_file(name);
    }
    // The main file as an older version left it: migration 8 not applied, checks held there.
    let old_layout = |ids: &[&str]| {
        let c = rusqlite::Connection::open(&path).expect("open raw");
        c.execute_batch(include_str!("../migrations/sqlite/0002_checks.sql"))
            .expect("old tables");
        for id in ids {
            let k = stored_check(id, BEIJING, date(2024, 6, 3));
            c.execute(
                "INSERT INTO checks (id, at, checked_on, agency, case_ref, subject_query,
                     subject_key, scenario, decision, measures, catalogue_version, data_version,
                     batch_id, answer)
                 VALUES (?1, '2024-06-03T10:00:00Z', '2024-06-03', ?2, ?3, ?4, ?5, ?6, ?7,
                     '[\"M1\",\"M2\"]', ?8, 7, NULL, ?9)",
                rusqlite::params![
                    k.id,
                    k.agency,
                    k.case_ref,
                    k.subject_query,
                    k.subject_key,
                    k.scenario,
                    k.decision,
                    k.catalogue_version,
                    k.answer
                ],
            )
            .expect("old check");
        }
        c.execute(
            "INSERT INTO check_feedback (check_id, outcome, measures, note, agency, at)
             VALUES (?1, 'refused', '[\"M1\"]', '旧版本的反馈', ?2, '2024-06-04T08:00:00Z')",
            rusqlite::params![ids[0], BEIJING],
        )
        .expect("old feedback");
        c.execute("DELETE FROM schema_migrations WHERE version = 8", [])
            .expect("migration 8 not applied");
    };
    old_layout(&["CK-OLD-1", "CK-OLD-2"]);

    let s = creditloop_store::sqlite::SqliteStore::open(&path).expect("reopen");
    let held = s.check_receipt("CK-OLD-1").expect("read").expect("moved");
    assert_eq!(
        held.answer,
        stored_check("CK-OLD-1", BEIJING, date(2024, 6, 3)).answer
    );
    assert_eq!(held.measures, vec!["M1", "M2"]);
    let fb = held.feedback.expect("feedback moved");
    assert_eq!(fb.outcome, FeedbackOutcome::Refused);
    assert_eq!(fb.note.as_deref(), Some("旧版本的反馈"));
    let listed = |s: &creditloop_store::sqlite::SqliteStore| -> Vec<String> {
        s.checks(&CheckQuery {
            limit: 10,
            ..CheckQuery::default()
        })
        .expect("list")
        .into_iter()
        .map(|c| c.id)
        .collect()
    };
    assert_eq!(listed(&s), vec!["CK-OLD-2", "CK-OLD-1"]);
    drop(s);

    // A move cut short after the copy: the old tables are back with the rows already moved.
    old_layout(&["CK-OLD-1", "CK-OLD-2"]);
    let s = creditloop_store::sqlite::SqliteStore::open(&path).expect("reopen after a cut");
    assert_eq!(listed(&s), vec!["CK-OLD-2", "CK-OLD-1"]);
    drop(s);
    let s = creditloop_store::sqlite::SqliteStore::open(&path).expect("reopen again");
    assert_eq!(listed(&s), vec!["CK-OLD-2", "CK-OLD-1"]);
}
