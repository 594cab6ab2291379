//! Property tests of the decision over the default catalogue: deterministic, monotone in the negative
//! records, and always explained by records from the input.

use std::sync::OnceLock;

use chrono::{Months, NaiveDate};
use proptest::prelude::*;

use super::tests::{catalogue, d, on};
use super::*;
use crate::record::{Category, Nature, RecordKey, RecordStatus, Severity};
use crate::subject::{PersonRole, SubjectKey};

fn cc() -> &'static CompiledCatalogue {
    static CC: OnceLock<CompiledCatalogue> = OnceLock::new();
    CC.get_or_init(|| CompiledCatalogue::compile(&catalogue()))
}

/// A catalogue with triggers the default one lacks (any role, `either` with a severity, incentives on
/// persons' records, two absence windows, class, a measure that ends), all in one scenario, so the
/// record filter is tested on them too.
fn odd() -> &'static CompiledCatalogue {
    static CC: OnceLock<CompiledCatalogue> = OnceLock::new();
    CC.get_or_init(|| {
        let measure = |code: &str, kind: &str, action: &str, to: &str, trigger: &str| {
            format!(
                r#"{{"code":"{code}","kind":"{kind}","handling_agency":"信用办","reason":"测试",
                "implementing_agency":"各部门","content":"测试","action":"{action}",
                "scenarios":["daily_supervision"],"evidence":"测试",
                "legal_basis":{{"document":"《某办法》","article":"第一条"}},
                "valid_from":"2018-01-01","valid_to":{to},"triggers":["{trigger}"]}}"#
            )
        };
        let ms = [
            measure(
                "CJ-T-001",
                "punishment",
                "restrict",
                "null",
                "person:penalty|inspection>=slight@24m",
            ),
            measure(
                "CJ-T-002",
                "punishment",
                "strict_review",
                "\"2024-12-31\"",
                "either:abnormal_operation|commitment>=general",
            ),
            measure(
                "CJ-T-003",
                "punishment",
                "prohibit",
                "null",
                "either[shareholder]:serious_dishonest_list~税收|环境@60m",
            ),
            measure(
                "JL-T-001",
                "incentive",
                "priority",
                "null",
                "person[key_practitioner]:red_list|licence~A级",
            ),
            measure(
                "JL-T-002",
                "incentive",
                "green_channel",
                "null",
                "absent:negative@12m;absent:negative@48m",
            ),
            measure(
                "JL-T-003",
                "incentive",
                "simplified_procedure",
                "null",
                "class:A|B;subject:registration|other",
            ),
        ];
        let text = format!(r#"{{"measures":[{}]}}"#, ms.join(","));
        CompiledCatalogue::compile(&Catalogue::from_json(&text).expect("test catalogue loads"))
    })
}

fn scenarios() -> &'static [Scenario] {
    static S: OnceLock<Vec<Scenario>> = OnceLock::new();
    S.get_or_init(|| ScenarioRegistry::builtin().scenarios().collect())
}

const LISTS: [&str; 8] = [
    "市场监督管理严重违法失信名单",
    "重大税收违法失信主体名单",
    "安全生产严重失信主体名单",
    "拖欠农民工工资失信联合惩戒对象名单",
    "经营异常名录",
    "纳税信用A级纳税人名单",
    "海关高级认证企业名单",
    "失信被执行人名单",
];

const ROLES: [PersonRole; 4] = [
    PersonRole::LegalRepresentative,
    PersonRole::Shareholder,
    PersonRole::SeniorManager,
    PersonRole::KeyPractitioner,
];

/// Categories, weighted towards those the catalogue's triggers name.
fn category() -> impl Strategy<Value = Category> {
    prop_oneof![
        3 => Just(Category::DishonestDebtor),
        3 => Just(Category::SeriousDishonestList),
        2 => Just(Category::AbnormalOperation),
        3 => Just(Category::Penalty),
        3 => Just(Category::RedList),
        2 => prop::sample::select(Category::ALL.to_vec()),
    ]
}

/// A list name that mostly fits the category, sometimes any or none.
fn list_name(category: Category) -> BoxedStrategy<Option<String>> {
    let fitting: Vec<&'static str> = match category {
        Category::SeriousDishonestList => LISTS[..4].to_vec(),
        Category::AbnormalOperation => vec![LISTS[4]],
        Category::RedList => LISTS[5..7].to_vec(),
        Category::DishonestDebtor => vec![LISTS[7]],
        _ => vec![],
    };
    let any = prop::option::of(prop::sample::select(LISTS.to_vec()));
    if fitting.is_empty() {
        any.prop_map(|o| o.map(str::to_string)).boxed()
    } else {
        prop_oneof![
            4 => prop::sample::select(fitting).prop_map(|s| Some(s.to_string())),
            1 => any.prop_map(|o| o.map(str::to_string)),
        ]
        .boxed()
    }
}

fn nature() -> impl Strategy<Value = Nature> {
    prop::sample::select(vec![Nature::Positive, Nature::Neutral, Nature::Negative])
}

fn severity() -> impl Strategy<Value = Severity> {
    prop::sample::select(vec![
        Severity::None,
        Severity::Slight,
        Severity::General,
        Severity::Serious,
    ])
}

fn status() -> impl Strategy<Value = RecordStatus> {
    prop::sample::select(vec![
        RecordStatus::Active,
        RecordStatus::Active,
        RecordStatus::Active,
        RecordStatus::Active,
        RecordStatus::Active,
        RecordStatus::UnderObjection,
        RecordStatus::Repaired,
        RecordStatus::Expired,
        RecordStatus::Revoked,
    ])
}

/// A date between 2016 and 2026 (the check is mostly on 2025-06-30), weighted to recent years.
fn date() -> impl Strategy<Value = NaiveDate> {
    prop_oneof![
        1 => (0i64..(11 * 366)).prop_map(|n| d(2016, 1, 1) + chrono::Duration::days(n)),
        2 => (0i64..(3 * 366)).prop_map(|n| d(2022, 7, 1) + chrono::Duration::days(n)),
    ]
}

/// Records with unique document numbers `{tag}-{n}`.
fn record(tag: &'static str) -> impl Strategy<Value = FactRecord> {
    category()
        .prop_flat_map(|c| (Just(c), list_name(c)))
        .prop_flat_map(move |(category, list)| {
            (
                0u32..1_000_000,
                prop_oneof![3 => Just(None), 1 => nature().prop_map(Some)],
                severity(),
                date(),
                0u32..60,
                status(),
            )
                .prop_map(move |(n, nature, severity, decided, months, status)| {
                    FactRecord {
                        key: RecordKey {
                            source: "11100000000013127D".into(),
                            category,
                            doc_no: format!("{tag}-{n}"),
                        },
                        category,
                        nature: nature.unwrap_or(category.default_nature()),
                        severity,
                        decision_date: decided,
                        publicity_until: decided
                            .checked_add_months(Months::new(months))
                            .unwrap_or(decided),
                        status,
                        list_name: list.clone(),
                    }
                })
        })
}

/// An active negative record, as the monotonicity properties add.
fn negative(tag: &'static str) -> impl Strategy<Value = FactRecord> {
    record(tag).prop_map(|r| FactRecord {
        nature: Nature::Negative,
        status: RecordStatus::Active,
        ..r
    })
}

fn facts() -> impl Strategy<Value = SubjectFacts> {
    (
        prop::collection::vec(record("s"), 0..10),
        prop::collection::vec(
            (
                prop_oneof![
                    2 => Just(PersonRole::LegalRepresentative),
                    1 => prop::sample::select(ROLES.to_vec()),
                ],
                prop::collection::vec(record("p"), 0..4),
            ),
            0..3,
        ),
        prop::option::of(date()),
    )
        .prop_map(|(records, persons, established_on)| SubjectFacts {
            subject: Some(SubjectKey("U:91110000600037341L".into())),
            records,
            persons,
            established_on,
            credit_class: None,
        })
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (0..scenarios().len()).prop_map(|i| scenarios()[i].clone())
}

fn check_date() -> impl Strategy<Value = NaiveDate> {
    prop_oneof![2 => Just(on()), 1 => date()]
}

/// Where an added record goes: the subject (None) or a person with this role.
fn target() -> impl Strategy<Value = Option<PersonRole>> {
    prop::option::of(prop::sample::select(ROLES.to_vec()))
}

fn add(mut facts: SubjectFacts, r: FactRecord, to: Option<PersonRole>) -> SubjectFacts {
    match to {
        None => facts.records.push(r),
        Some(role) => match facts.persons.iter_mut().find(|(p, _)| *p == role) {
            Some((_, rs)) => rs.push(r),
            None => facts.persons.push((role, vec![r])),
        },
    }
    facts
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn decision_is_deterministic(f in facts(), s in scenario(), day in check_date()) {
        let a = decide(cc(), &s, &f, day);
        let b = decide(cc(), &s, &f, day);
        prop_assert_eq!(&a, &b);
        // A second compilation of the same catalogue answers the same.
        let other = CompiledCatalogue::compile(&catalogue());
        prop_assert_eq!(a, decide(&other, &s, &f, day));
    }

    #[test]
    fn adding_a_negative_record_never_relaxes(
        f in facts(), r in negative("n"), to in target(), s in scenario(), day in check_date()
    ) {
        let before = decide(cc(), &s, &f, day);
        let after = decide(cc(), &s, &add(f, r, to), day);
        prop_assert!(after.decision >= before.decision, "{:?} -> {:?}", before.decision, after.decision);
    }

    #[test]
    fn removing_a_negative_record_never_tightens(
        f in facts(), pick in any::<prop::sample::Index>(), s in scenario(), day in check_date()
    ) {
        let negatives: Vec<(Option<usize>, usize)> = f
            .records
            .iter()
            .enumerate()
            .filter(|(_, r)| r.nature == Nature::Negative)
            .map(|(i, _)| (None, i))
            .chain(f.persons.iter().enumerate().flat_map(|(p, (_, rs))| {
                rs.iter()
                    .enumerate()
                    .filter(|(_, r)| r.nature == Nature::Negative)
                    .map(move |(i, _)| (Some(p), i))
            }))
            .collect();
        prop_assume!(!negatives.is_empty());
        let (p, i) = negatives[pick.index(negatives.len())];
        let mut fewer = f.clone();
        match p {
            None => { fewer.records.remove(i); }
            Some(p) => { fewer.persons[p].1.remove(i); }
        }
        let before = decide(cc(), &s, &f, day);
        let after = decide(cc(), &s, &fewer, day);
        prop_assert!(after.decision <= before.decision, "{:?} -> {:?}", before.decision, after.decision);
    }

    #[test]
    fn decision_is_explained_by_input_records(f in facts(), s in scenario(), day in check_date()) {
        let out = decide(cc(), &s, &f, day);
        let punishments: Vec<&MatchedMeasure> =
            out.measures.iter().filter(|m| m.kind == MeasureKind::Punishment).collect();
        if punishments.is_empty() {
            prop_assert!(out.suppressed.is_empty());
            prop_assert!(out.decision <= Decision::Normal);
            if out.measures.is_empty() {
                prop_assert_eq!(out.decision, Decision::Normal);
            }
        } else {
            prop_assert_eq!(out.measures.len(), punishments.len(), "no incentive beside a punishment");
            let strictest = punishments.iter().map(|m| m.effect).max();
            prop_assert_eq!(Some(out.decision), strictest);
        }
        for m in &out.measures {
            let cat = catalogue();
            let measure = cat.measure(&m.code).expect("matched measures are in the catalogue");
            prop_assert!(measure.scenarios.contains(&s));
            prop_assert!(measure.in_force(day));
            prop_assert_eq!(m.effect, m.action.effect());
            if m.kind == MeasureKind::Punishment {
                prop_assert!(!m.triggering.is_empty(), "{} has no triggering record", m.code);
            }
            for k in &m.triggering {
                let r = f.find(k).expect("triggering records are in the input");
                prop_assert!(r.in_force(day), "{:?} is not in force", k);
                prop_assert_eq!(r.nature == Nature::Negative, m.kind == MeasureKind::Punishment);
            }
            if let Some(role) = m.via_person {
                prop_assert!(f.persons.iter().any(|(p, rs)| *p == role
                    && rs.iter().any(|r| m.triggering.contains(&r.key))));
            }
        }
        for dis in &out.disregarded {
            let r = f.find(&dis.key).expect("disregarded records are in the input");
            prop_assert!(!r.in_force(day));
            prop_assert!(!dis.measures.is_empty());
        }
        let codes: Vec<&str> = out.measures.iter().map(|m| m.code.as_str()).collect();
        let mut sorted = codes.clone();
        sorted.sort_unstable();
        sorted.dedup();
        prop_assert_eq!(codes, sorted);
    }

    #[test]
    fn deciding_over_filtered_records_gives_the_same_outcome(
        f in facts(), s in scenario(), day in check_date(), class in prop::option::of(prop::sample::select(vec!["A", "C"]))
    ) {
        let f = SubjectFacts { credit_class: class.map(str::to_string), ..f };
        for (cc, s) in [(cc(), s), (odd(), super::tests::scenario("daily_supervision"))] {
            let filter = cc.record_filter(&s, day);
            let filtered = SubjectFacts {
                records: f.records.iter().filter(|r| filter.subject_record(&r.traits())).cloned().collect(),
                persons: f
                    .persons
                    .iter()
                    .filter(|(role, _)| filter.looks_at(*role))
                    .map(|(role, rs)| {
                        let rs = rs.iter().filter(|r| filter.person_record(*role, &r.traits()));
                        (*role, rs.cloned().collect())
                    })
                    .collect(),
                ..f.clone()
            };
            prop_assert_eq!(decide(cc, &s, &filtered, day), decide(cc, &s, &f, day));
        }
    }

    #[test]
    fn unknown_subjects_are_always_normal(f in facts(), s in scenario(), day in check_date()) {
        let unknown = SubjectFacts { subject: None, ..f };
        let out = decide(cc(), &s, &unknown, day);
        prop_assert_eq!(out.decision, Decision::Normal);
        prop_assert!(!out.subject_known);
        prop_assert!(out.measures.is_empty() && out.disregarded.is_empty());
    }
}
