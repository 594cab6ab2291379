use std::sync::Arc;

use chrono::NaiveDate;
use creditloop_domain::catalogue::{
    Catalogue, CompiledCatalogue, Decision, FactRecord, ScenarioRegistry, SubjectFacts, decide,
};
use creditloop_domain::record::{Category, Nature, RecordKey, RecordStatus, Severity};
use creditloop_domain::subject::{PersonRole, SubjectKey};
use proptest::prelude::*;

use crate::{CheckAnswer, CheckIndex, IndexBuilder, IndexItem, Resolved, SharedIndex};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap_or(NaiveDate::MIN)
}

fn key(s: &str) -> SubjectKey {
    SubjectKey(s.to_string())
}

fn fact(source: &str, category: Category, doc: &str, decided: NaiveDate) -> FactRecord {
    FactRecord {
        key: RecordKey {
            source: source.into(),
            category,
            doc_no: doc.into(),
        },
        category,
        nature: category.default_nature(),
        severity: if category.default_nature() == Nature::Negative {
            Severity::Serious
        } else {
            Severity::None
        },
        decision_date: decided,
        publicity_until: d(2099, 12, 31),
        status: RecordStatus::Active,
        list_name: None,
    }
}

fn rec(subject: &str, name: &str, record: FactRecord, version: i32) -> IndexItem {
    IndexItem::Record {
        subject: key(subject),
        subject_name: name.into(),
        record,
        version,
    }
}

const CO: &str = "U:91120000MA05ABCD1X";
const CO2: &str = "U:91120000MA05EFGH2Y";
const BOSS: &str = "P:120101198001010011";

fn sample() -> Vec<IndexItem> {
    let mut debtor = fact(
        "11100000000013127D",
        Category::DishonestDebtor,
        "(2023)津0101执123号",
        d(2023, 5, 1),
    );
    debtor.list_name = Some("失信被执行人名单".into());
    vec![
        rec(
            CO,
            "天津甲科技有限公司",
            fact("A1", Category::Registration, "REG-1", d(2015, 3, 2)),
            1,
        ),
        rec(
            CO,
            "天津甲科技有限公司",
            fact("A1", Category::Registration, "REG-0", d(2016, 1, 1)),
            1,
        ),
        rec(
            CO,
            "天津甲科技有限公司",
            fact(
                "A2",
                Category::Penalty,
                "津市监罚〔2024〕1号",
                d(2024, 2, 1),
            ),
            1,
        ),
        rec(BOSS, "张三", debtor, 1),
        IndexItem::Person {
            subject: key(CO),
            role: PersonRole::LegalRepresentative,
            person: key(BOSS),
        },
        IndexItem::Person {
            subject: key(CO),
            role: PersonRole::Shareholder,
            person: key("P:120101199001010022"),
        },
        IndexItem::Code {
            code: "120000000012345".into(),
            subject: key(CO),
        },
        IndexItem::Class {
            subject: key(CO),
            class: Some("B".into()),
        },
        rec(
            CO2,
            "天津乙商贸有限公司",
            fact("A2", Category::Licence, "津许2024-9", d(2024, 6, 1)),
            1,
        ),
    ]
}

#[test]
fn facts_equal_hand_built_facts() {
    let index = CheckIndex::build(sample());
    let facts = index.facts(&key(CO)).expect("known subject");
    let mut debtor = fact(
        "11100000000013127D",
        Category::DishonestDebtor,
        "(2023)津0101执123号",
        d(2023, 5, 1),
    );
    debtor.list_name = Some("失信被执行人名单".into());
    let expected = SubjectFacts {
        subject: Some(key(CO)),
        records: vec![
            fact(
                "A2",
                Category::Penalty,
                "津市监罚〔2024〕1号",
                d(2024, 2, 1),
            ),
            fact("A1", Category::Registration, "REG-0", d(2016, 1, 1)),
            fact("A1", Category::Registration, "REG-1", d(2015, 3, 2)),
        ],
        persons: vec![
            (PersonRole::LegalRepresentative, vec![debtor]),
            (PersonRole::Shareholder, vec![]),
        ],
        established_on: Some(d(2015, 3, 2)),
        credit_class: Some("B".into()),
    };
    assert_eq!(facts, expected);
    assert_eq!(index.subject_count(), 3);
    assert_eq!(index.record_count(), 5);
    assert_eq!(index.name(&key(CO)), Some("天津甲科技有限公司"));
    assert_eq!(index.facts(&key("U:91120000MA05ZZZZ9Z")), None);
}

#[test]
fn later_versions_replace_earlier_ones_whatever_the_arrival_order() {
    let base = fact("A2", Category::Penalty, "P-1", d(2024, 2, 1));
    let mut v2 = base.clone();
    v2.status = RecordStatus::Repaired;
    let mut v3 = base.clone();
    v3.status = RecordStatus::Revoked;
    let index = CheckIndex::build([
        rec(CO, "甲", base.clone(), 1),
        rec(CO, "甲", v3.clone(), 3),
        rec(CO, "甲", v2.clone(), 2), // late arrival of an older version: ignored
    ]);
    assert_eq!(index.records(&key(CO)), Some(vec![v3.clone()]));

    // Equal versions: the later item wins (a re-delivered commit).
    let mut v3b = v3.clone();
    v3b.severity = Severity::General;
    let index = index.with_changes(&[rec(CO, "甲", v3b.clone(), 3)]);
    assert_eq!(index.records(&key(CO)), Some(vec![v3b]));
    assert_eq!(index.record_count(), 1);
}

#[test]
fn retraction_moves_a_record_to_another_subject() {
    let r = fact("A2", Category::Penalty, "P-1", d(2024, 2, 1));
    let index = CheckIndex::build([rec(CO, "甲", r.clone(), 1)]);
    let index = index.with_changes(&[
        IndexItem::Retract {
            subject: key(CO),
            key: r.key.clone(),
            version: 2,
        },
        rec(CO2, "乙", r.clone(), 2),
        // Retraction of a subject never seen: does not make it known.
        IndexItem::Retract {
            subject: key("U:X"),
            key: r.key.clone(),
            version: 2,
        },
    ]);
    assert_eq!(index.records(&key(CO)), Some(vec![]));
    assert_eq!(index.records(&key(CO2)), Some(vec![r]));
    assert!(!index.contains(&key("U:X")));
    assert_eq!(index.record_count(), 1);
    assert_eq!(index.subject_count(), 2);
}

#[test]
fn apply_is_seen_by_new_snapshots_only() {
    let shared = SharedIndex::new(IndexBuilder::new().with_version(7).build());
    let _ = shared.apply(&sample());
    let held = shared.snapshot();
    assert_eq!(held.version(), 8);
    let p = fact("A3", Category::Penalty, "P-9", d(2025, 1, 1));
    let v = shared.apply(&[
        rec(CO, "天津甲科技有限公司（新）", p.clone(), 1),
        IndexItem::Code {
            code: "MA05ABCD-1".into(),
            subject: key(CO),
        },
    ]);
    assert_eq!(v, 9);
    assert_eq!(shared.apply(&[]), 9);
    let now = shared.snapshot();
    assert_eq!(now.version(), 9);
    let facts = now.facts(&key(CO)).expect("known");
    assert_eq!(facts.records.first(), Some(&p));
    assert_eq!(facts.records.len(), 4);
    assert_eq!(
        now.resolve("天津甲科技有限公司（新）"),
        Resolved::Key(key(CO))
    );
    assert_eq!(now.resolve("天津甲科技有限公司"), Resolved::Unknown);
    assert_eq!(now.resolve("ma05abcd-1"), Resolved::Key(key(CO)));

    // The reader's snapshot is untouched.
    let old = held.facts(&key(CO)).expect("known");
    assert_eq!(old.records.len(), 3);
    assert!(old.find(&p.key).is_none());
    assert_eq!(held.resolve("天津甲科技有限公司"), Resolved::Key(key(CO)));
    assert_eq!(held.resolve("MA05ABCD-1"), Resolved::Unknown);
    assert_eq!(held.record_count(), 5);
    assert_eq!(now.record_count(), 6);
}

#[test]
fn readers_and_a_writer_run_concurrently() {
    let shared = Arc::new(SharedIndex::new(CheckIndex::build(sample())));
    let reader = {
        let shared = shared.clone();
        std::thread::spawn(move || {
            let mut last = 0;
            for _ in 0..2000 {
                let s = shared.snapshot();
                assert!(s.version() >= last, "versions never go back");
                last = s.version();
                assert!(s.facts(&key(CO)).is_some());
            }
        })
    };
    for i in 0..200 {
        let doc = format!("P-{i}");
        shared.apply(&[rec(
            CO,
            "天津甲科技有限公司",
            fact("A9", Category::Penalty, &doc, d(2024, 1, 1)),
            1,
        )]);
    }
    assert!(reader.join().is_ok());
    assert_eq!(shared.version(), 200);
    assert_eq!(shared.snapshot().record_count(), 205);
}

#[test]
fn resolution_by_key_code_name_and_ambiguity() {
    let mut items = sample();
    items.push(rec(
        "U:91120000MA05QQQQ3Z",
        "天津乙商贸有限公司",
        fact("A2", Category::Licence, "L-1", d(2024, 6, 1)),
        1,
    ));
    let index = CheckIndex::build(items);
    // Unified code, full-width and lower case, spaces
    assert_eq!(
        index.resolve(" ９１１２００００ma05abcd1x "),
        Resolved::Key(key(CO))
    );
    assert_eq!(
        index.resolve("120101198001010011"),
        Resolved::Key(key(BOSS))
    );
    // Secondary code (registration number)
    assert_eq!(index.resolve("120000000012345"), Resolved::Key(key(CO)));
    // Exact name
    assert_eq!(index.resolve("天津甲科技有限公司"), Resolved::Key(key(CO)));
    assert_eq!(index.resolve(" 张三 "), Resolved::Key(key(BOSS)));
    // Not a substring match
    assert_eq!(index.resolve("天津甲科技"), Resolved::Unknown);
    assert_eq!(index.resolve("天津乙商贸有限公司"), Resolved::Ambiguous(2));
    assert_eq!(index.resolve("   "), Resolved::Unknown);
    assert_eq!(
        index.keys_named("天津乙商贸有限公司"),
        vec![key(CO2), key("U:91120000MA05QQQQ3Z")]
    );
}

#[test]
fn check_answers_like_decide_and_names_the_version() {
    let catalogue = Catalogue::default_catalogue().expect("default catalogue");
    let compiled = CompiledCatalogue::compile(&catalogue);
    let scenario = ScenarioRegistry::builtin()
        .scenario("government_procurement")
        .expect("scenario");
    let on = d(2025, 6, 30);
    let mut items = sample();
    items.push(rec(
        CO2,
        "天津甲科技有限公司",
        fact("A", Category::Other, "x", on),
        1,
    ));
    let index = IndexBuilder::new().with_version(42);
    let mut index = index;
    index.extend(items);
    let index = index.build();

    let (answer, version) = index.check(&compiled, &scenario, "91120000MA05ABCD1X", on);
    assert_eq!(version, 42);
    let facts = index.facts(&key(CO)).expect("known");
    let expected = decide(&compiled, &scenario, &facts, on);
    // The legal representative is a dishonest debtor: procurement is refused.
    assert_eq!(expected.decision, Decision::Prohibit);
    assert_eq!(answer, CheckAnswer::Outcome(Box::new(expected)));

    let (answer, _) = index.check(&compiled, &scenario, "天津甲科技有限公司", on);
    assert_eq!(answer, CheckAnswer::Ambiguous { count: 2 });

    let (answer, _) = index.check(&compiled, &scenario, "91120000MA05ZZZZ9Z", on);
    match answer {
        CheckAnswer::Outcome(o) => assert!(!o.subject_known),
        other => panic!("unexpected {other:?}"),
    }
}

// ---- property: building at once equals building a prefix and applying the rest ----

fn arb_item() -> impl Strategy<Value = IndexItem> {
    let subject = (0..6u8)
        .prop_map(|i| key(&format!("U:9112000000000000{i:02}")))
        .boxed();
    let person = (0..4u8)
        .prop_map(|i| key(&format!("P:1201011980010100{i:02}")))
        .boxed();
    let name = prop::sample::select(vec!["", "甲", "乙", "丙"]);
    let category = prop::sample::select(vec![
        Category::Registration,
        Category::Penalty,
        Category::Licence,
        Category::DishonestDebtor,
    ]);
    let status = prop::sample::select(vec![
        RecordStatus::Active,
        RecordStatus::Repaired,
        RecordStatus::Revoked,
    ]);
    let record = (
        prop::sample::select(vec!["S1", "S2"]),
        category,
        (0..4u8),
        (0..2000i64),
        status,
        prop::option::of(prop::sample::select(vec!["名单一", "名单二"])),
    )
        .prop_map(|(source, category, doc, days, status, list)| {
            let decided = d(2020, 1, 1) + chrono::Duration::days(days);
            let mut f = fact(source, category, &format!("D{doc}"), decided);
            f.status = status;
            f.list_name = list.map(str::to_string);
            f
        });
    prop_oneof![
        6 => (subject.clone().prop_union(person.clone()), name, record, 1..4i32).prop_map(
            |(subject, name, record, version)| IndexItem::Record {
                subject,
                subject_name: name.to_string(),
                record,
                version,
            }
        ),
        1 => (subject.clone(), prop::sample::select(vec!["S1", "S2"]), 0..4u8, 1..4i32).prop_map(
            |(subject, source, doc, version)| IndexItem::Retract {
                subject,
                key: RecordKey {
                    source: source.into(),
                    category: Category::Penalty,
                    doc_no: format!("D{doc}"),
                },
                version,
            }
        ),
        2 => (
            subject.clone(),
            prop::sample::select(vec![PersonRole::LegalRepresentative, PersonRole::Shareholder]),
            person
        )
            .prop_map(|(subject, role, person)| IndexItem::Person { subject, role, person }),
        1 => (0..5u8, subject.clone()).prop_map(|(c, subject)| IndexItem::Code {
            code: format!("r{c}"),
            subject
        }),
        1 => (subject, prop::option::of(prop::sample::select(vec!["A", "B"])))
            .prop_map(|(subject, class)| IndexItem::Class {
                subject,
                class: class.map(str::to_string),
            }),
    ]
}

fn all_keys() -> Vec<SubjectKey> {
    (0..6u8)
        .map(|i| key(&format!("U:9112000000000000{i:02}")))
        .chain((0..4u8).map(|i| key(&format!("P:1201011980010100{i:02}"))))
        .collect()
}

fn same_answers(a: &CheckIndex, b: &CheckIndex) -> Result<(), TestCaseError> {
    for k in all_keys() {
        prop_assert_eq!(a.facts(&k), b.facts(&k), "facts of {}", k);
        prop_assert_eq!(a.name(&k), b.name(&k));
    }
    for q in [
        "甲",
        "乙",
        "丙",
        "R0",
        "r1",
        "R2",
        "R3",
        "R4",
        "9112000000000000 01",
    ] {
        prop_assert_eq!(a.resolve(q), b.resolve(q), "resolve {}", q);
    }
    prop_assert_eq!(a.subject_count(), b.subject_count());
    prop_assert_eq!(a.record_count(), b.record_count());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn building_at_once_equals_building_half_then_applying(
        items in prop::collection::vec(arb_item(), 0..60),
        cut in 0usize..61,
        chunk in 1usize..8,
    ) {
        let cut = cut.min(items.len());
        let whole = CheckIndex::build(items.clone());
        let (head, tail) = items.split_at(cut);

        let half = CheckIndex::build(head.to_vec());
        let applied = half.with_changes(tail);
        same_answers(&whole, &applied)?;

        // Applying in several batches through the shared index gives the same again.
        let shared = SharedIndex::new(CheckIndex::build(head.to_vec()));
        for batch in tail.chunks(chunk) {
            shared.apply(batch);
        }
        let snap = shared.snapshot();
        same_answers(&whole, &snap)?;
        prop_assert_eq!(snap.version(), tail.chunks(chunk).count() as u64);

        // The prefix snapshot is unchanged by the applies.
        same_answers(&half, &CheckIndex::build(head.to_vec()))?;
    }
}

// ---- property: the check's filtered facts decide exactly as the full facts do ----

/// Records of every category, nature, severity and status, over dates around the check windows, with
/// list names the default catalogue's triggers look for.
fn arb_fact() -> impl Strategy<Value = FactRecord> {
    (
        prop::sample::select(vec!["S1", "S2"]),
        prop::sample::select(Category::ALL.to_vec()),
        0..6u8,
        prop::sample::select(vec![Nature::Positive, Nature::Neutral, Nature::Negative]),
        prop::sample::select(vec![
            Severity::None,
            Severity::Slight,
            Severity::General,
            Severity::Serious,
        ]),
        (0..4000i64, 0..2000i64),
        prop::sample::select(vec![
            RecordStatus::Active,
            RecordStatus::Active,
            RecordStatus::Active,
            RecordStatus::Repaired,
            RecordStatus::Revoked,
            RecordStatus::UnderObjection,
            RecordStatus::Expired,
        ]),
        prop::option::of(prop::sample::select(vec![
            "重大税收违法失信主体名单",
            "安全生产严重失信主体名单",
            "失信被执行人名单",
            "纳税信用A级纳税人名单",
            "海关高级认证企业名单",
            "经营异常名录",
        ])),
    )
        .prop_map(
            |(source, category, doc, nature, severity, (days, window), status, list)| {
                let decided = d(2014, 1, 1) + chrono::Duration::days(days);
                let mut f = fact(source, category, &format!("D{doc}"), decided);
                f.nature = nature;
                f.severity = severity;
                f.publicity_until = decided + chrono::Duration::days(window);
                f.status = status;
                f.list_name = list.map(str::to_string);
                f
            },
        )
}

fn arb_check_item() -> impl Strategy<Value = IndexItem> {
    let subject = (0..4u8)
        .prop_map(|i| key(&format!("U:9112000000000000{i:02}")))
        .boxed();
    let person = (0..4u8)
        .prop_map(|i| key(&format!("P:1201011980010100{i:02}")))
        .boxed();
    let roles = vec![
        PersonRole::LegalRepresentative,
        PersonRole::Shareholder,
        PersonRole::SeniorManager,
        PersonRole::KeyPractitioner,
    ];
    prop_oneof![
        8 => (subject.clone().prop_union(person.clone()), prop::sample::select(vec!["", "甲", "乙"]), arb_fact(), 1..3i32)
            .prop_map(|(subject, name, record, version)| IndexItem::Record {
                subject,
                subject_name: name.to_string(),
                record,
                version,
            }),
        2 => (subject.clone(), prop::sample::select(roles), person)
            .prop_map(|(subject, role, person)| IndexItem::Person { subject, role, person }),
        1 => (subject, prop::option::of(prop::sample::select(vec!["A", "B"])))
            .prop_map(|(subject, class)| IndexItem::Class {
                subject,
                class: class.map(str::to_string),
            }),
    ]
}

fn compiled_default() -> &'static CompiledCatalogue {
    static CC: std::sync::OnceLock<CompiledCatalogue> = std::sync::OnceLock::new();
    CC.get_or_init(|| {
        CompiledCatalogue::compile(&Catalogue::default_catalogue().expect("default catalogue"))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn check_answers_exactly_as_decide_over_the_full_facts(
        items in prop::collection::vec(arb_check_item(), 0..80),
        days in 0..4500i64,
    ) {
        let index = CheckIndex::build(items);
        let on = d(2014, 6, 1) + chrono::Duration::days(days);
        let catalogue = compiled_default();
        let queries: Vec<String> = all_keys()
            .iter()
            .map(|k| k.as_str()[2..].to_string())
            .chain(["甲", "乙", "丙"].map(str::to_string))
            .collect();
        for scenario in ScenarioRegistry::builtin().scenarios() {
            for q in &queries {
                // The path before the record filter: resolve, gather every fact, decide.
                let expected = match index.resolve(q) {
                    Resolved::Key(k) => CheckAnswer::Outcome(Box::new(decide(
                        catalogue,
                        &scenario,
                        &index.facts(&k).unwrap_or_else(SubjectFacts::unknown),
                        on,
                    ))),
                    Resolved::Unknown => CheckAnswer::Outcome(Box::new(decide(
                        catalogue,
                        &scenario,
                        &SubjectFacts::unknown(),
                        on,
                    ))),
                    Resolved::Ambiguous(count) => CheckAnswer::Ambiguous { count },
                };
                let (answer, version) = index.check(catalogue, &scenario, q, on);
                prop_assert_eq!(version, index.version());
                prop_assert_eq!(answer, expected, "{} in {}", q, scenario.as_str());
            }
        }
    }
}

#[test]
fn prefixed_hashes_equal_hashes_of_the_joined_strings() {
    use crate::compact::{hash_prefixed, hash_str};
    for s in ["", "91120000MA05ABCD1X", "天津甲科技有限公司", "x"] {
        let hs = hash_prefixed(&crate::KEY_PREFIXES, s);
        for (p, h) in crate::KEY_PREFIXES.iter().zip(hs) {
            assert_eq!(h, hash_str(&format!("{p}{s}")), "{p}{s}");
        }
    }
}

/// Resolution as it was before the probes were overlapped: one key prefix after another, then the
/// codes, then the names (each looked up on its own).
fn resolve_one_by_one(index: &CheckIndex, q: &str) -> Resolved {
    let code = creditloop_domain::ids::normalize(q);
    if code.is_empty() {
        return Resolved::Unknown;
    }
    for prefix in crate::KEY_PREFIXES {
        let k = format!("{prefix}{code}");
        if index.entry(&k).is_some() {
            return Resolved::Key(key(&k));
        }
    }
    if let Some(k) = index.by_code(&code) {
        return Resolved::Key(key(k));
    }
    let name = q.trim();
    let named: Vec<&Arc<str>> = index
        .names
        .with_hash(crate::compact::hash_str(name))
        .iter()
        .filter(|(_, k, _)| index.entry(k).is_some_and(|e| &*e.name == name))
        .map(|(_, k, _)| k)
        .collect();
    match named.as_slice() {
        [] => Resolved::Unknown,
        [one] => Resolved::Key(key(one)),
        many => Resolved::Ambiguous(many.len()),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn resolution_and_check_keep_the_order_of_prefixes_codes_and_names(
        subjects in prop::collection::vec(
            (
                prop::sample::select(vec!["U:A1", "R:A1", "O:A1", "P:A1", "T:B2", "S:B2", "I:C3", "U:D4"]),
                prop::sample::select(vec!["", "甲", "乙", "A1"]),
            ),
            0..12,
        ),
        codes in prop::collection::vec(
            (
                prop::sample::select(vec!["a1", "B2", "C3", "E5", "甲"]),
                prop::sample::select(vec!["U:A1", "T:B2", "U:D4", "U:ZZ"]),
            ),
            0..6,
        ),
        cut in 0usize..20,
    ) {
        let mut items: Vec<IndexItem> = subjects
            .iter()
            .map(|(k, name)| rec(k, name, fact("S1", Category::Penalty, k, d(2024, 1, 1)), 1))
            .collect();
        items.extend(codes.iter().map(|(code, k)| IndexItem::Code {
            code: code.to_string(),
            subject: key(k),
        }));
        // Built at once, and built from half with the rest applied (renames go through the name map's
        // updates, whose rows must keep each subject's current name).
        let whole = CheckIndex::build(items.clone());
        let (head, tail) = items.split_at(cut.min(items.len()));
        let applied = CheckIndex::build(head.to_vec()).with_changes(tail);
        let catalogue = compiled_default();
        let scenario = ScenarioRegistry::builtin()
            .scenario("daily_supervision")
            .expect("scenario");
        let on = d(2025, 6, 30);
        for (index, q) in [&whole, &applied].into_iter().flat_map(|i| {
            ["a1", " A1 ", "B2", "C3", "D4", "E5", "ZZ", "甲", " 乙", "丙", ""].map(|q| (i, q))
        }) {
            let expected = resolve_one_by_one(index, q);
            prop_assert_eq!(index.resolve(q), expected.clone(), "resolve {:?}", q);
            let (answer, _) = index.check(catalogue, &scenario, q, on);
            match (answer, expected) {
                (CheckAnswer::Ambiguous { count }, Resolved::Ambiguous(n)) => prop_assert_eq!(count, n),
                (CheckAnswer::Outcome(o), Resolved::Key(k)) => {
                    let facts = index.facts(&k).unwrap_or_else(SubjectFacts::unknown);
                    prop_assert_eq!(*o, decide(catalogue, &scenario, &facts, on));
                }
                (CheckAnswer::Outcome(o), Resolved::Unknown) => prop_assert!(!o.subject_known),
                (a, e) => prop_assert!(false, "{:?}: {:?} against {:?}", q, a, e),
            }
        }
    }
}
