//! `batch_check::run_with` called directly, with one to three answering threads: whatever the mix of rows (known, unknown, ambiguous,
//! unreadable, blank), the results come out one per input row, in input order, with the input's row
//! numbers; every answered row is handed to the store once, in the same order, under the receipt its
//! result row shows; groups never exceed the store group size and the summary counts every row.

use std::collections::HashSet;

use chrono::NaiveDate;
use creditloop_domain::catalogue::{CompiledCatalogue, FactRecord, ScenarioRegistry};
use creditloop_domain::ids::{Uscc, org_code_check_char};
use creditloop_domain::record::{Category, Nature, RecordKey, RecordStatus, Severity};
use creditloop_domain::subject::SubjectKey;
use creditloop_index::{CheckIndex, IndexItem};
use creditloop_ingest::{RawRow, RawRowResult, ReadError, RowReadError};
use creditloop_server::batch_check::{self, BatchRequest, ResultSink};
use creditloop_store::StoredCheck;
use proptest::prelude::*;

const SHARED_NAME: &str = "天津市同名商贸有限公司";
const UNIQUE_NAME: &str = "天津市独一无二科技有限公司";
/// Subjects of each kind in the index.
const EACH: usize = 50;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

/// A valid unified code, distinct for each `n` and `kind`.
fn code(kind: u32, n: usize) -> String {
    // The organisation code inside the unified code carries its own check character.
    // A letter in it, so the code is not taken for a resident number and masked in the results.
    let org = format!("M{kind:01}{n:06}");
    let org_check = org_code_check_char(&org).expect("a valid body");
    let code = Uscc::complete(&format!("91120000{org}{org_check}"))
        .map(|u| u.as_str().to_string())
        .expect("a valid unified code");
    assert!(!code.is_empty());
    code
}

fn record(category: Category, doc: &str) -> FactRecord {
    let negative = category.default_nature() == Nature::Negative;
    FactRecord {
        key: RecordKey {
            source: "11100000000013127D".into(),
            category,
            doc_no: doc.into(),
        },
        category,
        nature: category.default_nature(),
        severity: if negative {
            Severity::Serious
        } else {
            Severity::None
        },
        decision_date: day(2024, 3, 1),
        publicity_until: day(2099, 12, 31),
        status: RecordStatus::Active,
        list_name: None,
    }
}

fn item(key: &str, name: &str, r: FactRecord) -> IndexItem {
    IndexItem::Record {
        subject: SubjectKey(format!("U:{key}")),
        subject_name: name.into(),
        record: r,
        version: 1,
    }
}

/// Debtors (kind 1), clean subjects (kind 2), two subjects sharing a name and one with a name of
/// its own.
fn index() -> CheckIndex {
    let mut items = Vec::new();
    for n in 0..EACH {
        let debtor = code(1, n);
        items.push(item(
            &debtor,
            &format!("天津市失信{n}号商贸有限公司"),
            record(Category::DishonestDebtor, &format!("（2024）津01执{n}号")),
        ));
        let clean = code(2, n);
        items.push(item(
            &clean,
            &format!("天津市守信{n}号商贸有限公司"),
            record(Category::Registration, &format!("登记{n}")),
        ));
    }
    for (k, n) in [(3, 0), (3, 1)] {
        items.push(item(
            &code(k, n),
            SHARED_NAME,
            record(Category::Registration, &format!("同名{n}")),
        ));
    }
    items.push(item(
        &code(4, 0),
        UNIQUE_NAME,
        record(Category::Registration, "独名"),
    ));
    CheckIndex::build(items)
}

/// One kind of input row.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Debtor(usize),
    Clean(usize),
    /// A valid code the index does not hold.
    Unknown(usize),
    SharedName,
    UniqueName,
    /// A row the reader could not read.
    Unreadable,
    /// A row whose subject cell is empty.
    Blank,
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        (0..EACH).prop_map(Kind::Debtor),
        (0..EACH).prop_map(Kind::Clean),
        (0..EACH).prop_map(Kind::Unknown),
        Just(Kind::SharedName),
        Just(Kind::UniqueName),
        Just(Kind::Unreadable),
        Just(Kind::Blank),
    ]
}

/// (subject cell, expected decision column, stored?) of a row of this kind.
fn expected(k: Kind) -> (String, &'static str, bool) {
    match k {
        Kind::Debtor(n) => (code(1, n), "prohibit", true),
        Kind::Clean(n) => (code(2, n), "normal", true),
        Kind::Unknown(n) => (code(5, n), "unknown_subject", true),
        Kind::SharedName => (SHARED_NAME.into(), "ambiguous", false),
        Kind::UniqueName => (UNIQUE_NAME.into(), "normal", true),
        Kind::Unreadable => ("{broken".into(), "error", false),
        Kind::Blank => (String::new(), "error", false),
    }
}

/// The input rows: row numbers start at 2 (the header is row 1) and skip by the position so that a
/// result row that reports its index instead of the input's row number is caught.
fn rows(kinds: &[Kind]) -> Vec<RawRowResult> {
    kinds
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let row = 2 + 3 * i as u64;
            let (subject, _, _) = expected(*k);
            match k {
                Kind::Unreadable => Err(ReadError::Row(RowReadError {
                    row,
                    rule: "json",
                    value: subject,
                    reason_zh: "无法解析".into(),
                    reason_en: "cannot be parsed".into(),
                    raw: Vec::new(),
                })),
                _ => Ok(RawRow {
                    row,
                    fields: vec![
                        ("统一社会信用代码".into(), subject),
                        ("办件编号".into(), format!("CASE-{i}")),
                    ],
                }),
            }
        })
        .collect()
}

#[derive(Default)]
struct Collect(Vec<Vec<String>>);

impl ResultSink for Collect {
    fn write_row(&mut self, cells: &[&str]) -> std::io::Result<()> {
        self.0.push(cells.iter().map(|c| c.to_string()).collect());
        Ok(())
    }
    fn finish(self: Box<Self>) -> std::io::Result<()> {
        Ok(())
    }
}

struct Run {
    results: Vec<Vec<String>>,
    groups: Vec<Vec<StoredCheck>>,
    summary: batch_check::BatchSummary,
}

/// Runs the batch with `workers` answering threads.
fn run(index: &CheckIndex, kinds: &[Kind], workers: usize) -> Run {
    let (summary, results, groups) = run_input(index, rows(kinds).into_iter(), workers);
    Run {
        results,
        groups,
        summary: summary.expect("the batch runs"),
    }
}

/// What a batch returned, its result rows and the groups it handed to the store.
type Ran = (
    Result<batch_check::BatchSummary, batch_check::BatchError>,
    Vec<Vec<String>>,
    Vec<Vec<StoredCheck>>,
);

/// Runs a batch over any input.
fn run_input(index: &CheckIndex, input: impl Iterator<Item = RawRowResult>, workers: usize) -> Ran {
    let catalogue = CompiledCatalogue::compile(&creditloop_server::default_catalogue());
    let pii = creditloop_pii::test_key();
    let scenario = ScenarioRegistry::builtin()
        .scenario("public_bidding")
        .expect("a shipped scenario");
    let req = BatchRequest {
        catalogue: &catalogue,
        pii: &pii,
        scenario: &scenario,
        on: day(2026, 6, 30),
        agency: Some("11120000MB19674671".into()),
        batch_id: "BTEST".into(),
    };
    let mut sink = Collect::default();
    let mut groups = Vec::new();
    let summary = batch_check::run_with(
        index,
        &req,
        input,
        &mut sink,
        &mut |g| {
            groups.push(g);
            Ok(())
        },
        workers,
    );
    (summary, sink.0, groups)
}

/// Checks every promise of the module comment for one run.
fn assert_in_order(kinds: &[Kind], r: &Run) {
    assert_eq!(r.results.len(), kinds.len(), "one result per input row");
    assert_eq!(r.summary.rows, kinds.len() as u64);
    let mut stored = r.groups.iter().flatten();
    let mut receipts = HashSet::new();
    for (i, (k, cells)) in kinds.iter().zip(&r.results).enumerate() {
        let (subject, decision, is_stored) = expected(*k);
        assert_eq!(cells.len(), batch_check::RESULT_COLUMNS.len());
        assert_eq!(cells[0], (2 + 3 * i).to_string(), "row number of {k:?}");
        assert_eq!(cells[3], decision, "decision of row {i} ({k:?}): {cells:?}");
        if matches!(k, Kind::Debtor(_)) {
            assert!(cells[5].contains("CJ-SX-002"), "{cells:?}");
        }
        if is_stored {
            assert_eq!(cells[1], subject, "the query as given");
            let s = stored.next().expect("an answered row is stored");
            assert_eq!(s.id, cells[7], "stored in result order under its receipt");
            assert_eq!(s.subject_query, subject);
            assert_eq!(s.case_ref.as_deref(), Some(format!("CASE-{i}").as_str()));
            assert_eq!(s.batch_id.as_deref(), Some("BTEST"));
            assert_eq!(s.agency.as_deref(), Some("11120000MB19674671"));
            assert!(receipts.insert(s.id.clone()), "receipts are unique");
        } else {
            assert_eq!(cells[7], "", "a row that is not answered has no receipt");
        }
    }
    assert!(
        stored.next().is_none(),
        "nothing stored that was not answered"
    );
    let mut want = std::collections::BTreeMap::new();
    for k in kinds {
        *want.entry(expected(*k).1.to_string()).or_insert(0u64) += 1;
    }
    assert_eq!(r.summary.by_decision, want);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn results_and_stored_checks_follow_the_input_order(
        kinds in proptest::collection::vec(kind(), 0..3000),
        workers in 1usize..4,
    ) {
        let index = index();
        let r = run(&index, &kinds, workers);
        assert_in_order(&kinds, &r);
        prop_assert!(r.groups.iter().all(|g| !g.is_empty()));
    }
}

/// Past one store group (20,000 rows): the groups are full but for the last, and their
/// concatenation still follows the input.
#[test]
fn a_batch_longer_than_a_store_group_keeps_its_order_across_groups() {
    let index = index();
    let cycle = [
        Kind::Debtor(0),
        Kind::Unreadable,
        Kind::Clean(1),
        Kind::SharedName,
        Kind::Unknown(2),
        Kind::Blank,
        Kind::UniqueName,
    ];
    let kinds: Vec<Kind> = (0..45_000)
        .map(|i| match cycle[i % cycle.len()] {
            Kind::Debtor(_) => Kind::Debtor(i % EACH),
            Kind::Clean(_) => Kind::Clean(i % EACH),
            Kind::Unknown(_) => Kind::Unknown(i % EACH),
            k => k,
        })
        .collect();
    // Three answering threads: chunks come back from each in turn, and must be written in order.
    let r = run(&index, &kinds, 3);
    assert_in_order(&kinds, &r);
    let sizes: Vec<usize> = r.groups.iter().map(Vec::len).collect();
    let answered = kinds.iter().filter(|k| expected(**k).2).count();
    assert_eq!(sizes.iter().sum::<usize>(), answered);
    assert!(sizes.len() >= 2, "{sizes:?}");
    let (last, full) = sizes.split_last().expect("groups");
    assert!(full.iter().all(|n| *n == 20_000), "{sizes:?}");
    assert!(*last <= 20_000 && *last > 0, "{sizes:?}");
}

/// A file that cannot be read further (an I/O error, a broken workbook) ends the batch with that
/// error, after every row read before it has its result written and is handed to the store; and
/// no row after it is read.
#[test]
fn a_file_that_breaks_off_ends_the_batch_after_the_rows_before_it() {
    let index = index();
    let kinds: Vec<Kind> = (0..2_500).map(|i| Kind::Debtor(i % EACH)).collect();
    let mut input = rows(&kinds);
    input.insert(
        1_500,
        Err(ReadError::Fatal(creditloop_ingest::IngestError::Io(
            std::io::Error::other("the upload was cut off"),
        ))),
    );
    let read = std::cell::Cell::new(0usize);
    let (result, results, groups) = run_input(
        &index,
        input.into_iter().inspect(|_| read.set(read.get() + 1)),
        2,
    );
    match result {
        Err(batch_check::BatchError::Read(e)) => assert!(e.contains("cut off"), "{e}"),
        other => panic!("expected the read error, got {other:?}"),
    }
    assert_eq!(
        results.len(),
        1_500,
        "every row before the break has its result"
    );
    let stored: usize = groups.iter().map(Vec::len).sum();
    assert_eq!(stored, 1_500, "and is stored");
    for (i, cells) in results.iter().enumerate() {
        assert_eq!(cells[0], (2 + 3 * i).to_string());
    }
    assert_eq!(read.get(), 1_501, "nothing is read past the break");
}
