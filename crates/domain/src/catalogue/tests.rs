//! Golden tests over the default catalogue, import/export and validation tests.

use chrono::NaiveDate;

use super::*;
use crate::record::{Category, Nature, RecordKey, RecordStatus, Severity};
use crate::subject::{PersonRole, SubjectKey};

pub(super) fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("valid test date")
}

pub(super) fn on() -> NaiveDate {
    d(2025, 6, 30)
}

pub(super) fn catalogue() -> Catalogue {
    Catalogue::default_catalogue().expect("the default catalogue loads")
}

pub(super) fn compiled() -> CompiledCatalogue {
    CompiledCatalogue::compile(&catalogue())
}

pub(super) fn scenario(code: &str) -> Scenario {
    ScenarioRegistry::builtin()
        .scenario(code)
        .expect("a known scenario")
}

fn key(category: Category, doc: &str) -> RecordKey {
    RecordKey {
        source: "11100000000013127D".into(),
        category,
        doc_no: doc.into(),
    }
}

/// An active record with the category's default nature, public for 3 years from `decided`.
fn rec(category: Category, doc: &str, severity: Severity, decided: NaiveDate) -> FactRecord {
    FactRecord {
        key: key(category, doc),
        category,
        nature: category.default_nature(),
        severity,
        decision_date: decided,
        publicity_until: decided
            .checked_add_months(chrono::Months::new(36))
            .expect("date in range"),
        status: RecordStatus::Active,
        list_name: None,
    }
}

fn listed(category: Category, doc: &str, list: &str, decided: NaiveDate) -> FactRecord {
    let sev = if category.default_nature() == Nature::Negative {
        Severity::Serious
    } else {
        Severity::None
    };
    FactRecord {
        list_name: Some(list.into()),
        ..rec(category, doc, sev, decided)
    }
}

fn subject(records: Vec<FactRecord>) -> SubjectFacts {
    SubjectFacts {
        records,
        ..SubjectFacts::known(SubjectKey("U:91110000600037341L".into()))
    }
}

fn codes(ms: &[MatchedMeasure]) -> Vec<&str> {
    ms.iter().map(|m| m.code.as_str()).collect()
}

// ---------------------------------------------------------------- golden decisions

#[test]
fn dishonest_debtor_is_prohibited_from_public_bidding() {
    let cc = compiled();
    let debtor = listed(
        Category::DishonestDebtor,
        "(2024)京0105执1234号",
        "失信被执行人名单",
        d(2024, 11, 5),
    );
    let facts = subject(vec![debtor.clone()]);
    let out = decide(&cc, &scenario("public_bidding"), &facts, on());
    assert_eq!(out.decision, Decision::Prohibit);
    assert!(out.subject_known);
    let m = out
        .measures
        .iter()
        .find(|m| m.code == "CJ-SX-002")
        .expect("CJ-SX-002 applies");
    assert_eq!(m.triggering, vec![debtor.key.clone()]);
    assert_eq!(m.action, Action::Prohibit);
    assert!(m.legal_basis.document.contains("285号"));
    assert_eq!(m.via_person, None);
    assert!(m.explanation.contains("失信被执行人"), "{}", m.explanation);
    assert_eq!(out.catalogue_version, *cc.version());
    // The same debtor is restricted in high consumption and excluded from honours.
    let hc = decide(&cc, &scenario("high_consumption"), &facts, on());
    assert_eq!(hc.decision, Decision::Restrict);
    assert_eq!(codes(&hc.measures), ["CJ-SX-003"]);
    let ho = decide(&cc, &scenario("honours"), &facts, on());
    assert_eq!(ho.decision, Decision::Prohibit);
    assert!(codes(&ho.measures).contains(&"CJ-SX-004"));
}

#[test]
fn red_list_subject_gets_priority_in_licensing() {
    let cc = compiled();
    let red = listed(
        Category::RedList,
        "A-2024-001",
        "纳税信用A级纳税人名单",
        d(2024, 4, 1),
    );
    let out = decide(
        &cc,
        &scenario("administrative_licence"),
        &subject(vec![red.clone()]),
        on(),
    );
    assert_eq!(out.decision, Decision::Priority);
    let m = out
        .measures
        .iter()
        .find(|m| m.code == "JL-HM-001")
        .expect("green channel for red list");
    assert_eq!(m.action, Action::GreenChannel);
    assert_eq!(m.triggering, vec![red.key]);
    assert!(out.suppressed.is_empty());
    assert!(
        out.measures
            .iter()
            .all(|m| m.kind == MeasureKind::Incentive)
    );
}

#[test]
fn red_list_with_serious_penalty_gets_no_incentive() {
    let cc = compiled();
    let red = listed(
        Category::RedList,
        "R-1",
        "守合同重信用企业名单",
        d(2024, 1, 1),
    );
    let penalty = rec(
        Category::Penalty,
        "京市监罚〔2025〕12号",
        Severity::Serious,
        d(2025, 1, 10),
    );
    let facts = subject(vec![red, penalty.clone()]);
    let out = decide(&cc, &scenario("honours"), &facts, on());
    assert_eq!(out.decision, Decision::Prohibit);
    assert!(codes(&out.measures).contains(&"CJ-CF-004"));
    assert!(
        out.measures
            .iter()
            .all(|m| m.kind == MeasureKind::Punishment)
    );
    assert!(codes(&out.suppressed).contains(&"JL-HM-003"));
    let lic = decide(&cc, &scenario("administrative_licence"), &facts, on());
    assert_eq!(lic.decision, Decision::Strict);
    assert!(codes(&lic.suppressed).contains(&"JL-HM-001"));
    assert!(
        lic.summary_zh().contains("激励措施"),
        "{}",
        lic.summary_zh()
    );
    let gp = decide(&cc, &scenario("government_procurement"), &facts, on());
    assert_eq!(gp.decision, Decision::Prohibit);
    let cf = gp
        .measures
        .iter()
        .find(|m| m.code == "CJ-CF-001")
        .expect("重大违法记录 → 政府采购");
    assert_eq!(cf.triggering, vec![penalty.key]);
    assert_eq!(cf.legal_basis.article, "第二十二条");
}

#[test]
fn legal_representative_dishonest_debtor_restricts_market_access_via_person() {
    let cc = compiled();
    let person_debt = listed(
        Category::DishonestDebtor,
        "(2023)沪0115执999号",
        "失信被执行人名单",
        d(2023, 9, 1),
    );
    let facts = SubjectFacts {
        persons: vec![
            (PersonRole::Shareholder, vec![]),
            (PersonRole::LegalRepresentative, vec![person_debt.clone()]),
        ],
        ..subject(vec![])
    };
    let out = decide(&cc, &scenario("market_access"), &facts, on());
    assert_eq!(out.decision, Decision::Restrict);
    let m = out
        .measures
        .iter()
        .find(|m| m.code == "CJ-SX-011")
        .expect("CJ-SX-011 applies");
    assert_eq!(m.via_person, Some(PersonRole::LegalRepresentative));
    assert_eq!(m.triggering, vec![person_debt.key.clone()]);
    assert!(m.explanation.contains("法定代表人"), "{}", m.explanation);
    // The subject itself has no negative record, but the incentive is suppressed.
    assert!(codes(&out.suppressed).contains(&"JL-WS-003"));
    // A shareholder who is a debtor does not trigger it.
    let facts = SubjectFacts {
        persons: vec![(PersonRole::Shareholder, vec![person_debt.clone()])],
        ..subject(vec![])
    };
    let out = decide(&cc, &scenario("market_access"), &facts, on());
    assert!(!codes(&out.measures).contains(&"CJ-SX-011"));
    // And the person cannot serve as legal representative (public office).
    let facts = SubjectFacts {
        persons: vec![(PersonRole::LegalRepresentative, vec![person_debt])],
        ..subject(vec![])
    };
    let po = decide(&cc, &scenario("public_office"), &facts, on());
    assert_eq!(po.decision, Decision::Prohibit);
    assert!(codes(&po.measures).contains(&"CJ-SX-010"));
}

#[test]
fn abnormal_operation_is_strict_in_licensing_and_excluded_from_honours() {
    let cc = compiled();
    let ab = listed(
        Category::AbnormalOperation,
        "京海市监异〔2025〕88号",
        "经营异常名录",
        d(2025, 3, 3),
    );
    let ab = FactRecord {
        severity: Severity::General,
        ..ab
    };
    let facts = subject(vec![ab.clone()]);
    let out = decide(&cc, &scenario("administrative_licence"), &facts, on());
    assert_eq!(out.decision, Decision::Strict);
    assert_eq!(codes(&out.measures), ["CJ-YC-001"]);
    assert_eq!(out.measures[0].triggering, vec![ab.key]);
    let ho = decide(&cc, &scenario("honours"), &facts, on());
    assert_eq!(ho.decision, Decision::Prohibit);
    assert_eq!(codes(&ho.measures), ["CJ-YC-002"]);
}

#[test]
fn record_under_objection_is_disregarded_and_said_so() {
    let cc = compiled();
    let debtor = FactRecord {
        status: RecordStatus::UnderObjection,
        ..listed(
            Category::DishonestDebtor,
            "(2024)京0105执77号",
            "失信被执行人名单",
            d(2024, 11, 5),
        )
    };
    let out = decide(
        &cc,
        &scenario("public_bidding"),
        &subject(vec![debtor.clone()]),
        on(),
    );
    assert_eq!(out.decision, Decision::Normal);
    assert!(out.measures.is_empty());
    assert_eq!(out.disregarded.len(), 1);
    let dis = &out.disregarded[0];
    assert_eq!(dis.key, debtor.key);
    assert_eq!(dis.reason_code, DisregardReason::UnderObjection);
    assert_eq!(dis.reason_code.code(), "under_objection");
    assert!(dis.reason_zh.contains("异议"));
    assert!(dis.measures.contains(&"CJ-SX-002".to_string()));
    let json = serde_json::to_value(&out).expect("serialises");
    assert_eq!(json["disregarded"][0]["reason_code"], "under_objection");
}

#[test]
fn repaired_record_does_not_trigger() {
    let cc = compiled();
    let p = FactRecord {
        status: RecordStatus::Repaired,
        ..rec(
            Category::Penalty,
            "京税罚〔2024〕5号",
            Severity::Serious,
            d(2024, 8, 1),
        )
    };
    let out = decide(
        &cc,
        &scenario("government_procurement"),
        &subject(vec![p.clone()]),
        on(),
    );
    assert_eq!(out.decision, Decision::Normal);
    assert!(
        out.measures
            .iter()
            .all(|m| m.kind != MeasureKind::Punishment)
    );
    assert_eq!(out.disregarded.len(), 1);
    assert_eq!(out.disregarded[0].reason_code, DisregardReason::Repaired);
    assert_eq!(out.disregarded[0].key, p.key);
}

#[test]
fn record_out_of_its_publicity_window_does_not_trigger() {
    let cc = compiled();
    let p = FactRecord {
        publicity_until: d(2025, 1, 31),
        ..rec(
            Category::Penalty,
            "京罚〔2024〕6号",
            Severity::Serious,
            d(2024, 8, 1),
        )
    };
    let out = decide(
        &cc,
        &scenario("government_procurement"),
        &subject(vec![p]),
        on(),
    );
    assert_eq!(out.decision, Decision::Normal);
    assert_eq!(out.disregarded.len(), 1);
    assert_eq!(out.disregarded[0].reason_code, DisregardReason::OutOfWindow);
}

#[test]
fn unknown_subject_is_a_clear_normal_answer() {
    let cc = compiled();
    let out = decide(
        &cc,
        &scenario("public_bidding"),
        &SubjectFacts::unknown(),
        on(),
    );
    assert_eq!(out.decision, Decision::Normal);
    assert!(!out.subject_known);
    assert!(out.measures.is_empty() && out.suppressed.is_empty() && out.disregarded.is_empty());
    assert_eq!(out.catalogue_version, *cc.version());
    assert!(out.summary_zh().contains("未查询到"));
}

#[test]
fn no_negative_record_for_36_months_opens_the_green_channel() {
    let cc = compiled();
    let old = FactRecord {
        publicity_until: d(2022, 1, 1),
        ..rec(
            Category::Penalty,
            "京罚〔2021〕1号",
            Severity::General,
            d(2021, 1, 1),
        )
    };
    let licence = rec(
        Category::Licence,
        "京许〔2024〕9号",
        Severity::None,
        d(2024, 2, 2),
    );
    let facts = SubjectFacts {
        established_on: Some(d(2015, 5, 1)),
        ..subject(vec![old, licence])
    };
    let out = decide(&cc, &scenario("administrative_licence"), &facts, on());
    assert_eq!(out.decision, Decision::Priority);
    assert_eq!(codes(&out.measures), ["JL-WS-001"]);
    let m = &out.measures[0];
    assert_eq!(m.action, Action::GreenChannel);
    assert!(m.triggering.is_empty());
    assert_eq!(m.explanation, "36个月内无失信记录");
    assert!(out.disregarded.is_empty());

    // A subject established two years ago has not been clean for 36 months.
    let young = SubjectFacts {
        established_on: Some(d(2023, 6, 1)),
        ..subject(vec![])
    };
    let out = decide(&cc, &scenario("administrative_licence"), &young, on());
    assert_eq!(out.decision, Decision::Normal);

    // A recent general penalty ends it; one under objection does not, and is reported.
    let recent = rec(
        Category::Penalty,
        "京罚〔2024〕3号",
        Severity::General,
        d(2024, 3, 3),
    );
    let out = decide(
        &cc,
        &scenario("administrative_licence"),
        &subject(vec![recent.clone()]),
        on(),
    );
    assert_eq!(out.decision, Decision::Normal);
    assert!(out.measures.is_empty());
    let objected = FactRecord {
        status: RecordStatus::UnderObjection,
        ..recent
    };
    let out = decide(
        &cc,
        &scenario("administrative_licence"),
        &subject(vec![objected.clone()]),
        on(),
    );
    assert_eq!(out.decision, Decision::Priority);
    assert_eq!(out.disregarded.len(), 1);
    assert_eq!(out.disregarded[0].key, objected.key);
    assert_eq!(out.disregarded[0].measures, ["JL-WS-001"]);
}

#[test]
fn major_tax_violator_is_excluded_from_government_procurement() {
    let cc = compiled();
    let tax = listed(
        Category::SeriousDishonestList,
        "京税稽罚〔2024〕100号",
        "重大税收违法失信主体名单",
        d(2024, 6, 1),
    );
    let out = decide(
        &cc,
        &scenario("government_procurement"),
        &subject(vec![tax]),
        on(),
    );
    assert_eq!(out.decision, Decision::Prohibit);
    let c = codes(&out.measures);
    assert!(
        c.contains(&"CJ-SS-001") && c.contains(&"CJ-YZ-001"),
        "{c:?}"
    );
    // Other lists of serious dishonesty do not trigger the tax measure.
    let other = listed(
        Category::SeriousDishonestList,
        "X-1",
        "安全生产严重失信主体名单",
        d(2024, 6, 1),
    );
    let out = decide(
        &cc,
        &scenario("government_procurement"),
        &subject(vec![other]),
        on(),
    );
    let c = codes(&out.measures);
    assert!(
        !c.contains(&"CJ-SS-001") && c.contains(&"CJ-AQ-002"),
        "{c:?}"
    );
}

#[test]
fn serious_dishonest_enterprise_is_under_key_supervision_and_gets_no_subsidy() {
    let cc = compiled();
    let yz = listed(
        Category::SeriousDishonestList,
        "国市监信〔2024〕1号",
        "市场监督管理严重违法失信名单",
        d(2024, 6, 1),
    );
    let facts = subject(vec![yz]);
    let ds = decide(&cc, &scenario("daily_supervision"), &facts, on());
    assert_eq!(ds.decision, Decision::Strict);
    assert!(codes(&ds.measures).contains(&"CJ-YZ-003"));
    let fs = decide(&cc, &scenario("fiscal_subsidy"), &facts, on());
    assert_eq!(fs.decision, Decision::Prohibit);
    assert!(codes(&fs.measures).contains(&"CJ-YZ-004"));
    for s in ["government_procurement", "public_bidding"] {
        assert_eq!(
            decide(&cc, &scenario(s), &facts, on()).decision,
            Decision::Prohibit,
            "{s}"
        );
    }
}

#[test]
fn serious_penalty_within_three_years_restricts_qualification() {
    let cc = compiled();
    let p = rec(Category::Penalty, "罚-1", Severity::Serious, d(2023, 1, 1));
    let out = decide(
        &cc,
        &scenario("qualification"),
        &subject(vec![p.clone()]),
        on(),
    );
    assert_eq!(out.decision, Decision::Restrict);
    assert_eq!(codes(&out.measures), ["CJ-CF-002"]);
    // Within a year the construction qualification rule prohibits.
    let p = rec(Category::Penalty, "罚-2", Severity::Serious, d(2025, 1, 1));
    let out = decide(&cc, &scenario("qualification"), &subject(vec![p]), on());
    assert_eq!(out.decision, Decision::Prohibit);
    assert_eq!(codes(&out.measures), ["CJ-CF-002", "CJ-CF-003"]);
    // A general penalty does not restrict qualification.
    let p = rec(Category::Penalty, "罚-3", Severity::General, d(2025, 1, 1));
    let out = decide(&cc, &scenario("qualification"), &subject(vec![p]), on());
    assert_eq!(out.decision, Decision::Normal);
}

#[test]
fn measures_not_yet_in_force_do_not_apply() {
    let cc = compiled();
    let debt = listed(
        Category::DishonestDebtor,
        "D-1",
        "失信被执行人名单",
        d(2014, 1, 1),
    );
    let facts = SubjectFacts {
        persons: vec![(PersonRole::LegalRepresentative, vec![debt])],
        ..subject(vec![])
    };
    // CJ-SX-010 is in force from 2022-03-01.
    let out = decide(&cc, &scenario("public_office"), &facts, d(2015, 6, 1));
    assert!(!codes(&out.measures).contains(&"CJ-SX-010"));
}

#[test]
fn outcome_lists_are_sorted_by_code() {
    let cc = compiled();
    let facts = subject(vec![
        listed(
            Category::SeriousDishonestList,
            "Z",
            "重大税收违法失信主体名单",
            d(2025, 1, 1),
        ),
        listed(
            Category::DishonestDebtor,
            "A",
            "失信被执行人名单",
            d(2025, 1, 1),
        ),
        rec(Category::Penalty, "P", Severity::Serious, d(2025, 1, 1)),
    ]);
    for s in ScenarioRegistry::builtin().scenarios() {
        let out = decide(&cc, &s, &facts, on());
        let c = codes(&out.measures);
        let mut sorted = c.clone();
        sorted.sort();
        assert_eq!(c, sorted, "{s}");
        assert!(
            out.measures
                .iter()
                .all(|m| m.triggering.windows(2).all(|w| w[0] < w[1]))
        );
    }
}

// ---------------------------------------------------------------- the default catalogue

#[test]
fn default_catalogue_is_complete() {
    let cat = catalogue();
    assert!(cat.measures().len() >= 40, "{}", cat.measures().len());
    assert_eq!(cat.version().number, 1);
    assert_eq!(cat.version().status, VersionStatus::Published);
    assert_eq!(cat.version().digest.len(), 64);
    for m in cat.measures() {
        assert!(!m.legal_basis.document.is_empty(), "{}", m.code);
        assert!(!m.legal_basis.article.is_empty(), "{}", m.code);
        assert!(!m.scenarios.is_empty(), "{}", m.code);
        assert!(!m.triggers.is_empty(), "{}", m.code);
        assert!(m.action.fits(m.kind), "{}", m.code);
        let prefix = match m.kind {
            MeasureKind::Punishment => "CJ-",
            MeasureKind::Incentive => "JL-",
        };
        assert!(m.code.starts_with(prefix), "{}", m.code);
    }
    for s in ScenarioRegistry::builtin().scenarios() {
        assert!(
            cat.measures().iter().any(|m| m.scenarios.contains(&s)),
            "no measure for {s}"
        );
    }
    let has_person = cat.measures().iter().any(|m| {
        m.triggers.iter().any(|t| {
            matches!(t, Trigger::Record(r) if matches!(r.applies_to, AppliesTo::LinkedPerson(_)))
        })
    });
    assert!(has_person);
    assert!(
        cat.measures()
            .iter()
            .any(|m| m.kind == MeasureKind::Incentive)
    );
    assert!(cat.measure("CJ-SX-001").is_some());
    assert!(cat.measure("CJ-XX-999").is_none());
}

#[test]
fn builtin_registry_has_the_required_scenarios() {
    let reg = ScenarioRegistry::from_json(DEFAULT_SCENARIOS_JSON).expect("registry parses");
    for code in [
        "government_procurement",
        "public_bidding",
        "administrative_licence",
        "market_access",
        "honours",
        "qualification",
        "land_supply",
        "fiscal_subsidy",
        "financing",
        "public_office",
        "listing",
        "customs",
    ] {
        let s = reg.scenario(code).expect(code);
        assert_eq!(s.as_str(), code);
        assert!(!reg.info(&s).expect("info").zh.is_empty());
    }
    assert_eq!(
        reg.scenario("政府采购").map(|s| s.to_string()),
        Some("government_procurement".into())
    );
    assert_eq!(
        reg.scenario("评先评优").map(|s| s.to_string()),
        Some("honours".into())
    );
    assert!(reg.scenario("space_travel").is_none());
    assert_eq!(
        ScenarioRegistry::builtin().entries().len(),
        reg.entries().len()
    );
}

#[test]
fn registry_refuses_bad_entries() {
    let bad = r#"[{"code":"Bad Code","zh":"甲"},{"code":"b","zh":""},{"code":"c","zh":"甲"}]"#;
    let e = ScenarioRegistry::from_json(bad).expect_err("refused");
    let rows: Vec<u64> = e.rows().iter().map(|r| r.row).collect();
    assert_eq!(rows, [1, 2, 3]);
    assert!(matches!(
        ScenarioRegistry::from_json("{"),
        Err(CatalogueError::Json(_))
    ));
}

#[test]
fn a_registry_can_grow() {
    let mut entries = ScenarioRegistry::builtin().entries().to_vec();
    entries.push(ScenarioInfo {
        code: "housing_provident_fund".into(),
        zh: "住房公积金".into(),
        en: String::new(),
        aliases: vec![],
    });
    let reg = ScenarioRegistry::from_entries(entries).expect("grows");
    let mut row = catalogue()
        .measure("CJ-SX-001")
        .expect("measure")
        .to_fields();
    row[7].1 = "住房公积金".into();
    let m = Measure::from_fields_with(1, &row, &reg).expect("known to the grown registry");
    assert_eq!(m.scenarios[0].as_str(), "housing_provident_fund");
    assert!(Measure::from_fields(1, &row).is_err());
}

// ---------------------------------------------------------------- import / export

#[test]
fn json_round_trip_keeps_everything() {
    let cat = catalogue();
    let json = cat.to_json();
    let back = Catalogue::from_json(&json).expect("reads its own export");
    assert_eq!(back, cat);
    assert!(json.contains(&cat.version().digest));
}

#[test]
fn digest_is_stable_and_covers_content_only() {
    let a = catalogue();
    let b = catalogue();
    assert_eq!(a.version().digest, b.version().digest);
    // Order of measures in the input does not matter.
    let mut reversed = a.measures().to_vec();
    reversed.reverse();
    let r = Catalogue::from_measures(7, VersionStatus::Draft, reversed).expect("ok");
    assert_eq!(r.version().digest, a.version().digest);
    assert_eq!(r.measures(), a.measures());
    // Version number and status do not change it.
    let p = r.clone().with_version(8, VersionStatus::Published);
    assert_eq!(p.version().digest, a.version().digest);
    assert_eq!(p.version().number, 8);
    // Content does.
    let mut changed = a.measures().to_vec();
    changed[0].content.push('。');
    let c = Catalogue::from_measures(1, VersionStatus::Draft, changed).expect("ok");
    assert_ne!(c.version().digest, a.version().digest);
    assert!(a.version().label_zh().starts_with("v1（已发布，"));
}

#[test]
fn altered_file_is_caught_by_its_digest() {
    let json = catalogue().to_json();
    let tampered = json.replacen(
        "限制失信被执行人作为供应商",
        "允许失信被执行人作为供应商",
        1,
    );
    assert_ne!(json, tampered);
    match Catalogue::from_json(&tampered) {
        Err(CatalogueError::DigestMismatch { .. }) => {}
        other => panic!("expected a digest mismatch, got {other:?}"),
    }
}

#[test]
fn json_errors_name_row_and_field() {
    assert!(matches!(
        Catalogue::from_json("not json"),
        Err(CatalogueError::Json(_))
    ));
    assert!(matches!(
        Catalogue::from_json("[]"),
        Err(CatalogueError::Json(_))
    ));
    assert!(matches!(
        Catalogue::from_json(r#"{"version":{"number":-1},"measures":[]}"#),
        Err(CatalogueError::Json(_))
    ));
    let text = r#"{"measures":[
        {"code":"CJ-T-001","kind":"punishment","handling_agency":"甲","reason":"乙","implementing_agency":"丙",
         "content":"丁","action":"prohibit","scenarios":["government_procurement"],"evidence":"戊",
         "legal_basis":{"document":"《某法》","article":"第一条"},"valid_from":"2020-01-01","valid_to":null,
         "triggers":["subject:dishonest_debtor"]},
        {"code":"CJ-T-002","kind":"punishment","handling_agency":"甲","reason":"乙","implementing_agency":"丙",
         "content":"丁","action":"prohibit","scenarios":["moon_landing"],"evidence":"戊",
         "legal_basis":{"document":"《某法》","article":"第一条"},"valid_from":"2020-01-01",
         "triggers":["subject:dishonest_debtor"]},
        {"code":"CJ-T-001","kind":"punishment","handling_agency":"甲","reason":"乙","implementing_agency":"丙",
         "content":"丁","action":"prohibit","scenarios":["government_procurement"],"evidence":"戊",
         "legal_basis":{"document":"《某法》","article":"第一条"},"valid_from":"2020-01-01",
         "triggers":["subject:dishonest_debtor"]}
    ]}"#;
    let e = Catalogue::from_json(text).expect_err("refused");
    let rows = e.rows();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!((rows[0].row, rows[0].field.as_str()), (2, "scenarios"));
    assert_eq!(rows[0].value, "moon_landing");
    assert_eq!((rows[1].row, rows[1].field.as_str()), (3, "措施编码"));
    // A draft without version and with one good measure loads.
    let one = text.replace(r#""moon_landing""#, r#""public_bidding""#);
    let one = one.replacen("CJ-T-001", "CJ-T-003", 1);
    let cat = Catalogue::from_json(&one).expect("loads");
    assert_eq!(cat.version().status, VersionStatus::Draft);
    assert_eq!(cat.measures().len(), 3);
}

#[test]
fn row_form_round_trips_for_every_default_measure() {
    let cat = catalogue();
    for m in cat.measures() {
        let fields = m.to_fields();
        assert_eq!(fields.len(), COLUMNS.len());
        assert_eq!(fields[0].0, "措施编码");
        let back = Measure::from_fields(3, &fields).expect("reads its own export");
        assert_eq!(&back, m);
    }
    let rows: Vec<MeasureRow> = cat
        .to_rows()
        .into_iter()
        .enumerate()
        .map(|(i, fields)| MeasureRow {
            row: i as u64 + 1,
            fields,
        })
        .collect();
    let again = Catalogue::from_rows(
        1,
        VersionStatus::Published,
        &rows,
        ScenarioRegistry::builtin(),
    )
    .expect("rows load");
    assert_eq!(again, cat);
}

fn good_row() -> Vec<(String, String)> {
    catalogue()
        .measure("CJ-SX-011")
        .expect("measure")
        .to_fields()
}

/// Replaces a field and expects an error on that field containing `reason`.
fn expect_field_error(column: &str, value: &str, reason: &str) {
    let mut row = good_row();
    let cell = row
        .iter_mut()
        .find(|(h, _)| h == column)
        .expect("column exists");
    cell.1 = value.to_string();
    let errors = Measure::from_fields(5, &row).expect_err(&format!("{column}={value} refused"));
    assert!(
        errors
            .iter()
            .any(|e| e.row == 5 && e.field == column && e.reason_zh.contains(reason)),
        "{column}={value}: {errors:?}"
    );
}

#[test]
fn from_fields_names_each_bad_field() {
    assert!(Measure::from_fields(5, &good_row()).is_ok());
    expect_field_error("措施编码", "", "必填");
    expect_field_error("措施编码", "CJ SX 1", "措施编码");
    expect_field_error("措施类型", "奖惩", "措施类型");
    for col in [
        "认定机关",
        "实施措施事由",
        "实施部门",
        "措施内容",
        "证据要求",
        "法律依据文件",
        "法律依据条款",
    ] {
        expect_field_error(col, "  ", "必填");
    }
    expect_field_error("措施内容", &"长".repeat(2001), "长度");
    expect_field_error("措施内容", "a\u{0}b", "控制字符");
    expect_field_error("措施类别", "罚酒三杯", "未知措施类别");
    expect_field_error("措施类别", "绿色通道", "不能采用");
    expect_field_error("适用场景", "market_access;moon_landing", "moon_landing");
    expect_field_error("适用场景", ";", "未写适用场景");
    expect_field_error("生效日期", "2016-13-01", "日期格式");
    expect_field_error("失效日期", "明年", "日期格式");
    expect_field_error("失效日期", "2000-01-01", "早于");
    expect_field_error("触发条件", "", "必填");
    expect_field_error("触发条件", "subject:fraud", "fraud");
    expect_field_error("触发条件", "person[boss]:dishonest_debtor", "boss");
    expect_field_error("触发条件", "subject:penalty>=huge", "huge");
    expect_field_error("触发条件", "subject:penalty@0m", "期限");
    expect_field_error("触发条件", "subject:penalty@36d", "期限");
    expect_field_error("触发条件", "absent:negative@36m", "激励");
    expect_field_error("触发条件", "nobody:penalty", "nobody");
    expect_field_error("触发条件", "dishonest_debtor", "触发条件");

    // A missing column, an unknown one and a repeated one are named too.
    let mut row = good_row();
    row.retain(|(h, _)| h != "证据要求");
    row.push(("颜色".into(), "红".into()));
    row.push(("措施编码".into(), "CJ-X-1".into()));
    row.push(("序号".into(), "1".into()));
    let errors = Measure::from_fields(9, &row).expect_err("refused");
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert!(fields.contains(&"证据要求"), "{fields:?}");
    assert!(fields.contains(&"颜色"), "{fields:?}");
    assert!(fields.contains(&"措施编码"), "{fields:?}");
    assert!(!fields.contains(&"序号"), "{fields:?}");
    assert!(errors.iter().all(|e| e.row == 9 && !e.reason_en.is_empty()));
}

#[test]
fn from_fields_accepts_english_keys_and_chinese_values() {
    let fields: Vec<(String, String)> = [
        ("code", "CJ-T-9"),
        ("kind", "惩戒"),
        ("handling_agency", "人民法院"),
        ("reason", "失信"),
        ("implementing_agency", "财政部门"),
        ("content", "限制"),
        ("action", "不予办理"),
        ("scenarios", "政府采购；招投标"),
        ("evidence", "名单"),
        ("legal_basis_document", "《某法》"),
        ("legal_basis.article", "第一条"),
        ("valid_from", "2020年1月2日"),
        ("valid_to", "20301231"),
        (
            "triggers",
            "主体:失信被执行人\n关联人员[法定代表人]:行政处罚>=严重~重大|税收@36个月",
        ),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    let m = Measure::from_fields(1, &fields).expect("accepted");
    assert_eq!(m.action, Action::Prohibit);
    assert_eq!(m.valid_from, d(2020, 1, 2));
    assert_eq!(m.valid_to, Some(d(2030, 12, 31)));
    let s: Vec<&str> = m.scenarios.iter().map(|s| s.as_str()).collect();
    assert_eq!(s, ["government_procurement", "public_bidding"]);
    assert_eq!(
        Trigger::format_list(&m.triggers),
        "subject:dishonest_debtor;person[legal_representative]:penalty>=serious~重大|税收@36m"
    );
}

// ---------------------------------------------------------------- triggers

#[test]
fn trigger_text_round_trips() {
    for t in [
        "subject:dishonest_debtor",
        "subject:penalty>=serious@36m",
        "person[legal_representative]:dishonest_debtor",
        "person:dishonest_debtor",
        "either[legal_representative,senior_manager]:serious_dishonest_list~安全生产",
        "subject:penalty|abnormal_operation>=general~甲|乙@12m",
        "absent:negative@36m",
        "subject:red_list",
        "class:严重失信|失信",
    ] {
        let parsed: Trigger = t.parse().expect(t);
        assert_eq!(parsed.to_string(), t);
        let json = serde_json::to_string(&parsed).expect("serialises");
        let back: Trigger = serde_json::from_str(&json).expect("deserialises");
        assert_eq!(back, parsed);
        assert!(!parsed.describe_zh().is_empty());
    }
    let t: Trigger = "person[legal_representative]:dishonest_debtor"
        .parse()
        .expect("parses");
    assert_eq!(t.describe_zh(), "法定代表人为失信被执行人");
    let t: Trigger = "subject:penalty>=serious@36m".parse().expect("parses");
    assert_eq!(
        t.describe_zh(),
        "主体36个月内有行政处罚记录（严重程度不低于严重）"
    );
    assert!(Trigger::parse_list("subject:red_list; ;absent:negative@36m").is_ok());
    assert_eq!(
        Trigger::parse_list("subject:x;subject:y")
            .expect_err("two errors")
            .len(),
        2
    );
}

#[test]
fn credit_class_triggers_use_the_class_when_known() {
    let text = r#"{"measures":[
        {"code":"CJ-C-001","kind":"punishment","handling_agency":"信用办","reason":"信用等级为严重失信",
         "implementing_agency":"各部门","content":"重点监管","action":"key_supervision",
         "scenarios":["daily_supervision"],"evidence":"信用评价结果",
         "legal_basis":{"document":"《某办法》","article":"第一条"},"valid_from":"2020-01-01",
         "triggers":["class:严重失信"]}]}"#;
    let cc = CompiledCatalogue::compile(&Catalogue::from_json(text).expect("loads"));
    let mut facts = subject(vec![]);
    let ds = scenario("daily_supervision");
    assert_eq!(decide(&cc, &ds, &facts, on()).decision, Decision::Normal);
    facts.credit_class = Some("严重失信".into());
    let out = decide(&cc, &ds, &facts, on());
    assert_eq!(out.decision, Decision::Strict);
    assert_eq!(out.measures[0].explanation, "信用等级为严重失信");
    assert_eq!(cc.measures_in(&ds), 1);
}

// ---------------------------------------------------------------- timing

/// Not a timed assertion: prints the cost of one check. Run with
/// `cargo test --release -p creditloop-domain catalogue_decide_timing -- --ignored --nocapture`.
#[test]
#[ignore]
fn catalogue_decide_timing() {
    let cc = compiled();
    let mut records = Vec::new();
    for i in 0..4 {
        records.push(rec(
            Category::Licence,
            &format!("许-{i}"),
            Severity::None,
            d(2023, 1 + i, 1),
        ));
    }
    for i in 0..4 {
        records.push(rec(
            Category::Penalty,
            &format!("罚-{i}"),
            if i == 0 {
                Severity::Serious
            } else {
                Severity::General
            },
            d(2022 + i, 3, 1),
        ));
    }
    records.push(listed(
        Category::AbnormalOperation,
        "异-1",
        "经营异常名录",
        d(2024, 5, 1),
    ));
    records.push(listed(
        Category::RedList,
        "红-1",
        "纳税信用A级纳税人名单",
        d(2024, 4, 1),
    ));
    records.push(FactRecord {
        status: RecordStatus::UnderObjection,
        ..listed(
            Category::DishonestDebtor,
            "执-1",
            "失信被执行人名单",
            d(2024, 9, 1),
        )
    });
    records.push(rec(
        Category::Inspection,
        "检-1",
        Severity::Slight,
        d(2025, 2, 1),
    ));
    let facts = SubjectFacts {
        persons: vec![
            (
                PersonRole::LegalRepresentative,
                vec![listed(
                    Category::DishonestDebtor,
                    "执-2",
                    "失信被执行人名单",
                    d(2024, 1, 1),
                )],
            ),
            (PersonRole::SeniorManager, vec![]),
        ],
        ..subject(records)
    };
    let scenarios: Vec<Scenario> = ScenarioRegistry::builtin().scenarios().collect();
    let n = 200_000usize;
    let mut samples = Vec::with_capacity(n);
    let mut sink = 0usize;
    for i in 0..n {
        let s = &scenarios[i % scenarios.len()];
        let t = std::time::Instant::now();
        let out = decide(&cc, s, &facts, on());
        samples.push(t.elapsed().as_nanos() as u64);
        sink += out.measures.len() + out.disregarded.len();
    }
    samples.sort_unstable();
    let mean = samples.iter().sum::<u64>() as f64 / n as f64;
    println!(
        "decide(): {} measures, {} records + {} person records, {n} checks over {} scenarios: \
         mean {mean:.0} ns, p50 {} ns, p99 {} ns, max {} ns (sink {sink})",
        catalogue().measures().len(),
        facts.records.len(),
        facts.persons.iter().map(|p| p.1.len()).sum::<usize>(),
        scenarios.len(),
        samples[n / 2],
        samples[n * 99 / 100],
        samples[n - 1],
    );
}
