//! Validation rules: each produces its rule code and names the column as the source named it.

mod common;

use common::*;
use creditloop_domain::intake::RejectedRow;
use creditloop_domain::record::{
    AgencyRef, Category, Detail, Nature, PenaltyKind, RecordStatus, Severity,
};
use creditloop_domain::subject::{PersonRole, SubjectKind};
use creditloop_ingest::Validator;
use proptest::prelude::*;

fn reject(fields: Vec<(String, String)>) -> RejectedRow {
    match validator().validate(&raw(7, fields)) {
        Ok(a) => panic!("expected a rejection, got {:?}", a.record),
        Err(r) => r,
    }
}

/// The single error of a rejection with this field; panics when absent.
fn has(r: &RejectedRow, field: &str, rule: &str) {
    assert!(
        r.errors.iter().any(|e| e.field == field && e.rule == rule),
        "expected {rule} on {field}, got {:#?}",
        r.errors
    );
    for e in &r.errors {
        assert_eq!(e.row, 7);
        assert!(!e.reason_zh.is_empty() && !e.reason_en.is_empty());
    }
}

fn with(mut f: Vec<(String, String)>, header: &str, value: &str) -> Vec<(String, String)> {
    set(&mut f, header, value);
    f
}

#[test]
fn a_valid_penalty_becomes_a_record() {
    let a = validator().validate(&raw(3, penalty())).expect("valid");
    let r = &a.record;
    assert_eq!(a.row, 3);
    assert_eq!(r.key.source, SOURCE_USCC);
    assert_eq!(r.key.category, Category::Penalty);
    assert_eq!(r.key.doc_no, "杭市监罚〔2024〕12号");
    assert_eq!(r.subject.kind, SubjectKind::Enterprise);
    assert_eq!(
        r.subject.codes.uscc.as_ref().map(|u| u.as_str()),
        Some(SUBJECT_USCC)
    );
    assert_eq!(r.subject.persons.len(), 1);
    assert_eq!(r.subject.persons[0].role, PersonRole::LegalRepresentative);
    assert_eq!(r.subject.persons[0].person, Some(person(RESIDENT_ID)));
    assert_eq!(
        r.subject.persons[0].person.as_ref().map(|p| p.masked()),
        Some("1101**********002X")
    );
    assert_eq!(r.nature, Nature::Negative);
    assert_eq!(r.severity, Severity::General);
    assert_eq!(r.decision_date, date(2024, 3, 5));
    // General severity under the 2023 measures: at most one year.
    assert_eq!(r.publicity_until, date(2025, 3, 5));
    assert_eq!(r.status, RecordStatus::Active);
    assert_eq!(r.authority.code, AUTHORITY_USCC);
    assert_eq!(r.title, "警告并处罚款0.5万元");
    let Detail::Penalty(p) = &r.detail else {
        panic!("penalty detail expected")
    };
    assert_eq!(p.kinds, vec![PenaltyKind::Warning, PenaltyKind::Fine]);
    assert_eq!(p.fine_wan, Some(0.5));
    assert_eq!(p.valid_until, date(2025, 3, 5));
    // Submitted on 2024-06-28, far past 7 working days.
    assert!(a.timeliness.late);
    assert_eq!(a.timeliness.submitted_on, today());
}

#[test]
fn timeliness_uses_the_submission_date() {
    let mut f = penalty();
    f.push(("报送日期".into(), "2024-03-07".into()));
    let a = validator().validate(&raw(2, f)).expect("valid");
    assert!(!a.timeliness.late);
    assert_eq!(a.timeliness.working_days, 2);
}

#[test]
fn values_are_cleaned() {
    let mut f = penalty();
    set(
        &mut f,
        "行政相对人代码_1(统一社会信用代码)",
        " ９１３３０１００７１６１０５８５２ｆ\u{00A0}",
    );
    set(
        &mut f,
        "行政处罚决定书文号",
        "\u{200B} 杭市监罚〔2024〕 \u{3000} 12号 ",
    );
    set(&mut f, "备注", "无");
    set(&mut f, "证件号码", "-");
    let a = validator().validate(&raw(2, f)).expect("valid");
    assert_eq!(
        a.record.subject.codes.uscc.as_ref().map(|u| u.as_str()),
        Some(SUBJECT_USCC)
    );
    assert_eq!(a.record.key.doc_no, "杭市监罚〔2024〕 12号");
    assert_eq!(a.record.remarks, None);
}

#[test]
fn required_fields() {
    let r = reject(with(penalty(), "违法事实", ""));
    has(&r, "违法事实", "required");
    let mut f = penalty();
    drop_col(&mut f, "处罚依据");
    let r = reject(f);
    has(&r, "处罚依据", "required");
    assert!(r.errors[0].reason_zh.contains("缺少"));
}

#[test]
fn every_error_of_a_row_is_reported() {
    let mut f = penalty();
    set(&mut f, "违法事实", "");
    set(&mut f, "处罚决定日期", "2023-02-30");
    set(&mut f, "罚款金额（万元）", "-1");
    set(&mut f, "处罚机关统一社会信用代码", "91350100M000100Y4Z");
    let r = reject(f);
    assert_eq!(r.errors.len(), 4, "{:#?}", r.errors);
    has(&r, "违法事实", "required");
    has(&r, "处罚决定日期", "date");
    has(&r, "罚款金额（万元）", "amount");
    has(&r, "处罚机关统一社会信用代码", "check_character");
    assert_eq!(r.raw, {
        let mut f = penalty();
        set(&mut f, "违法事实", "");
        set(&mut f, "处罚决定日期", "2023-02-30");
        set(&mut f, "罚款金额（万元）", "-1");
        set(&mut f, "处罚机关统一社会信用代码", "91350100M000100Y4Z");
        f
    });
}

#[test]
fn identifier_rules() {
    let col1 = "行政相对人代码_1(统一社会信用代码)";
    has(
        &reject(with(penalty(), col1, "91350100M000100Y4Z")),
        col1,
        "check_character",
    );
    has(
        &reject(with(penalty(), col1, "9133010071610585")),
        col1,
        "length",
    );
    has(
        &reject(with(penalty(), col1, "91330I00716105852F")),
        col1,
        "character",
    );
    let col2 = "行政相对人代码_2(工商注册号)";
    has(
        &reject(with(penalty(), col2, "330100400015576")),
        col2,
        "check_character",
    );
    let col3 = "行政相对人代码_3(组织机构代码)";
    has(
        &reject(with(penalty(), col3, "71610585-3")),
        col3,
        "org_code_check",
    );
    has(
        &reject(with(penalty(), "法定代表人证件号码", "11010519491231002Y")),
        "法定代表人证件号码",
        "character",
    );
    has(
        &reject(with(penalty(), "法定代表人证件号码", "110105203001010016")),
        "法定代表人证件号码",
        "birth_date",
    );
    // A number that looks like a resident number is checked even without a type.
    let mut f = with(penalty(), "法定代表人证件类型", "");
    set(&mut f, "法定代表人证件号码", "1.20102E+17");
    has(&reject(f), "法定代表人证件号码", "spreadsheet_number");
    // Other documents are kept as they are.
    let mut f = with(penalty(), "法定代表人证件类型", "护照");
    set(&mut f, "法定代表人证件号码", "E12345678");
    let a = validator().validate(&raw(2, f)).expect("passport accepted");
    assert_eq!(
        a.record.subject.persons[0].other_id,
        Some(("护照".into(), "E12345678".into()))
    );
}

#[test]
fn exception_codes_are_accepted_with_a_warning() {
    let f = with(
        penalty(),
        "行政相对人代码_1(统一社会信用代码)",
        "91350100M0001TGQXM",
    );
    let v = validator();
    let layout = v.layout(&f.iter().map(|(h, _)| h.as_str()).collect::<Vec<_>>());
    let mut warnings = Vec::new();
    let a = v
        .validate_with(&layout, &raw(2, f), &mut warnings)
        .expect("exception accepted");
    assert_eq!(warnings.len(), 1);
    assert_eq!(warnings[0].rule, "listed_exception");
    assert_eq!(a.record.subject.kind, SubjectKind::Enterprise);
}

#[test]
fn the_placeholder_means_no_code() {
    let col1 = "行政相对人代码_1(统一社会信用代码)";
    let mut f = with(penalty(), col1, "00000000000000000X");
    set(&mut f, "行政相对人类别", "个体工商户");
    let a = validator()
        .validate(&raw(2, f))
        .expect("individual business without code");
    assert!(a.record.subject.codes.uscc.is_none());
    assert_eq!(a.record.subject.kind, SubjectKind::IndividualBusiness);
    // An organisation needs some code.
    has(
        &reject(with(penalty(), col1, "00000000000000000X")),
        col1,
        "required",
    );
    // Agencies' codes may not be the placeholder.
    has(
        &reject(with(
            penalty(),
            "处罚机关统一社会信用代码",
            "00000000000000000X",
        )),
        "处罚机关统一社会信用代码",
        "placeholder",
    );
}

#[test]
fn natural_persons() {
    let mut f = with(penalty(), "行政相对人类别", "自然人");
    set(&mut f, "行政相对人名称", "李四");
    set(&mut f, "行政相对人代码_1(统一社会信用代码)", "");
    set(&mut f, "法定代表人", "");
    set(&mut f, "法定代表人证件类型", "");
    set(&mut f, "法定代表人证件号码", "");
    set(&mut f, "证件类型", "居民身份证");
    set(&mut f, "证件号码", "11010519491231002x");
    let a = validator().validate(&raw(2, f.clone())).expect("person");
    assert_eq!(a.record.subject.kind, SubjectKind::NaturalPerson);
    assert_eq!(a.record.subject.codes.person, Some(person(RESIDENT_ID)));
    // The row carries the number sealed, once, and it opens to the number.
    assert_eq!(a.identities.len(), 1);
    assert_eq!(
        creditloop_pii::test_key()
            .open(&a.identities[0])
            .expect("opens")
            .as_str(),
        RESIDENT_ID
    );
    assert!(
        !serde_json::to_string(&a.record)
            .expect("json")
            .contains(RESIDENT_ID)
    );
    has(
        &reject(with(f.clone(), "证件号码", "1.20102E+17")),
        "证件号码",
        "spreadsheet_number",
    );
    has(
        &reject(with(f.clone(), "证件号码", "")),
        "证件号码",
        "required",
    );
    has(&reject(with(f, "证件类型", "")), "证件类型", "required");
}

#[test]
fn date_rules() {
    has(
        &reject(with(penalty(), "处罚决定日期", "2023-02-30")),
        "处罚决定日期",
        "date",
    );
    has(
        &reject(with(penalty(), "处罚决定日期", "三月五日")),
        "处罚决定日期",
        "date",
    );
    has(
        &reject(with(penalty(), "处罚决定日期", "2024-07-01")),
        "处罚决定日期",
        "future_date",
    );
    has(
        &reject(with(penalty(), "处罚有效期", "2024-03-04")),
        "处罚有效期",
        "date_order",
    );
    has(
        &reject(with(penalty(), "公示截止期", "2024-03-01")),
        "公示截止期",
        "date_order",
    );
    let mut f = penalty();
    f.push(("报送日期".into(), "2024-07-01".into()));
    has(&reject(f), "报送日期", "future_date");
    let mut f = penalty();
    f.push(("报送日期".into(), "2024-03-01".into()));
    has(&reject(f), "报送日期", "date_order");
    has(
        &reject(with(licence(), "有效期至", "2024/3/4")),
        "有效期至",
        "date_order",
    );
    for d in [
        "2024/3/5",
        "20240305",
        "2024年3月5日",
        "2024-03-05 10:30:00",
        "2024.3.5",
    ] {
        let a = validator()
            .validate(&raw(2, with(penalty(), "处罚决定日期", d)))
            .expect("date form accepted");
        assert_eq!(a.record.decision_date, date(2024, 3, 5), "{d}");
    }
}

#[test]
fn enumerations_and_amounts() {
    has(
        &reject(with(penalty(), "行政相对人类别", "公司")),
        "行政相对人类别",
        "enum",
    );
    has(
        &reject(with(penalty(), "处罚类别", "警告;打板子")),
        "处罚类别",
        "enum",
    );
    has(
        &reject(with(licence(), "许可类别", "特别")),
        "许可类别",
        "enum",
    );
    has(
        &reject(with(licence(), "当前状态", "也许")),
        "当前状态",
        "enum",
    );
    has(
        &reject(with(penalty(), "罚款金额（万元）", "abc")),
        "罚款金额（万元）",
        "amount",
    );
    has(
        &reject(with(penalty(), "罚款金额（万元）", "")),
        "罚款金额（万元）",
        "required",
    );
    let mut f = penalty();
    f.push(("严重程度".into(), "很严重".into()));
    has(&reject(f), "严重程度", "enum");
    let f = with(penalty(), "处罚类别", "没收违法所得、没收非法财物");
    has(
        &reject(f),
        "没收违法所得、没收非法财物的金额（万元）",
        "required",
    );
}

#[test]
fn licences() {
    let a = validator()
        .validate(&raw(2, licence()))
        .expect("valid licence");
    assert_eq!(a.record.key.category, Category::Licence);
    assert_eq!(a.record.publicity_until, date(2029, 3, 4));
    assert_eq!(a.record.nature, Nature::Neutral);
    assert_eq!(a.record.status, RecordStatus::Active);
    let a = validator()
        .validate(&raw(2, with(licence(), "当前状态", "无效")))
        .expect("valid licence");
    assert_eq!(a.record.status, RecordStatus::Revoked);
    let Detail::Licence(d) = &a.record.detail else {
        panic!("licence detail")
    };
    assert!(!d.in_force);
    let a = validator()
        .validate(&raw(2, with(licence(), "有效期至", "2024/5/1")))
        .expect("expired licence");
    assert_eq!(a.record.status, RecordStatus::Expired);
}

#[test]
fn lists_and_debtors() {
    let list: Vec<(String, String)> = [
        ("主体名称", "杭州某某科技有限公司"),
        ("统一社会信用代码", SUBJECT_USCC),
        ("名单类别", "经营异常名录"),
        ("名单名称", "经营异常名录"),
        ("列入事由", "未按规定公示年度报告"),
        ("认定机关", "杭州市市场监督管理局"),
        ("认定机关统一社会信用代码", AUTHORITY_USCC),
        ("认定文书号", "杭市监异〔2024〕1号"),
        ("列入日期", "2024-03-05"),
        ("移出日期", "2024-05-06"),
        ("数据来源单位", "杭州市市场监督管理局"),
        ("数据来源单位统一社会信用代码", SOURCE_USCC),
    ]
    .iter()
    .map(|(h, v)| (h.to_string(), v.to_string()))
    .collect();
    let a = validator().validate(&raw(2, list.clone())).expect("list");
    assert_eq!(a.record.key.category, Category::AbnormalOperation);
    assert_eq!(a.record.publicity_until, date(2024, 5, 6));
    assert_eq!(a.record.status, RecordStatus::Expired);
    has(
        &reject(with(list.clone(), "移出日期", "2024-03-01")),
        "移出日期",
        "date_order",
    );
    has(
        &reject(with(list, "名单类别", "灰名单")),
        "名单类别",
        "enum",
    );

    let debtor: Vec<(String, String)> = [
        ("被执行人姓名/名称", "李四"),
        ("证件号码", RESIDENT_ID),
        ("执行法院", "杭州市西湖区人民法院"),
        ("案号", "（2024）浙0106执123号"),
        ("生效法律文书确定的义务", "支付货款10万元"),
        ("被执行人的履行情况", "全部未履行"),
        (
            "失信被执行人行为具体情形",
            "有履行能力而拒不履行生效法律文书确定义务",
        ),
        ("发布时间", "2024年3月5日"),
        ("数据来源单位", "杭州市西湖区人民法院"),
        ("数据来源单位统一社会信用代码", SOURCE_USCC),
    ]
    .iter()
    .map(|(h, v)| (h.to_string(), v.to_string()))
    .collect();
    let a = validator()
        .validate(&raw(2, debtor.clone()))
        .expect("debtor");
    assert_eq!(a.record.key.category, Category::DishonestDebtor);
    assert_eq!(a.record.subject.kind, SubjectKind::NaturalPerson);
    assert_eq!(a.record.severity, Severity::Serious);
    has(
        &reject(with(debtor, "证件号码", "")),
        "证件号码",
        "required",
    );
}

#[test]
fn category_must_be_known() {
    let f: Vec<(String, String)> = [
        ("主体名称", "A"),
        ("文书号", "1"),
        ("信息内容", "x"),
        ("决定日期", "2024-01-01"),
        ("决定机关", "局"),
        ("决定机关统一社会信用代码", AUTHORITY_USCC),
        ("数据来源单位", "局"),
        ("数据来源单位统一社会信用代码", SOURCE_USCC),
        ("附加说明", "自由字段"),
    ]
    .iter()
    .map(|(h, v)| (h.to_string(), v.to_string()))
    .collect();
    has(&reject(f.clone()), "信息类别", "category");
    let mut cfg = config();
    cfg.category = Some(Category::Commitment);
    let a = Validator::new(cfg)
        .validate(&raw(2, f.clone()))
        .expect("with --category");
    assert_eq!(a.record.key.category, Category::Commitment);
    assert_eq!(
        a.record.detail,
        Detail::Generic {
            fields: vec![("附加说明".into(), "自由字段".into())]
        }
    );
    let mut g = f;
    g.push(("信息类别".into(), "信用承诺".into()));
    let a = validator()
        .validate(&raw(2, g.clone()))
        .expect("with 信息类别");
    assert_eq!(a.record.key.category, Category::Commitment);
    has(&reject(with(g, "信息类别", "随便")), "信息类别", "enum");
}

#[test]
fn persons_column() {
    let mut f = penalty();
    f.push((
        "关联人员".into(),
        format!("股东:王五:{RESIDENT_ID}；高级管理人员:赵六"),
    ));
    let a = validator().validate(&raw(2, f)).expect("persons");
    let roles: Vec<PersonRole> = a.record.subject.persons.iter().map(|p| p.role).collect();
    assert_eq!(
        roles,
        [
            PersonRole::LegalRepresentative,
            PersonRole::Shareholder,
            PersonRole::SeniorManager
        ]
    );
    let mut f = penalty();
    f.push(("关联人员".into(), "路人:王五".into()));
    has(&reject(f), "关联人员", "persons");
    let mut f = penalty();
    f.push((
        "persons".into(),
        r#"[{"name":"王五","role":"shareholder","resident_id":"11010519491231002X"}]"#.into(),
    ));
    let a = validator().validate(&raw(2, f)).expect("persons as JSON");
    assert_eq!(a.record.subject.persons.len(), 2);
}

#[test]
fn version_1_0_columns_are_mapped_with_codes_2_and_3_swapped() {
    let f: Vec<(String, String)> = [
        ("行政处罚决定书文号", "杭市监罚〔2016〕8号"),
        ("处罚名称", "未按规定公示年度报告案"),
        ("处罚类别1", "警告"),
        ("处罚类别2", "罚款"),
        ("处罚事由", "未按规定公示年度报告"),
        ("处罚依据", "《企业信息公示暂行条例》第十八条"),
        ("行政相对人名称", "杭州某某科技有限公司"),
        ("行政相对人代码_1", ""),
        ("行政相对人代码_2", "71610585-2"),
        ("行政相对人代码_3", "330100400015575"),
        ("法定代表人姓名", "张三"),
        ("处罚结果", "警告并罚款"),
        ("处罚决定日期", "2016-05-06"),
        ("处罚机关", "杭州市市场监督管理局"),
        ("当前状态", "0"),
        ("地方编码", "330100"),
        ("数据更新时间戳", "2016-05-07 10:00:00"),
    ]
    .iter()
    .map(|(h, v)| (h.to_string(), v.to_string()))
    .collect();
    // 1.0 has no 数据来源单位 columns: the submitting agency is the source.
    has(
        &reject(f.clone()),
        "数据来源单位统一社会信用代码",
        "required",
    );
    let mut cfg = config();
    cfg.default_source_unit = Some(AgencyRef {
        name: "杭州市市场监督管理局".into(),
        code: SOURCE_USCC.into(),
    });
    let v = Validator::new(cfg);
    let a = v.validate(&raw(2, f.clone())).expect("1.0 row");
    let codes = &a.record.subject.codes;
    assert_eq!(
        codes.org_code.as_ref().map(|c| c.as_str()),
        Some("716105852")
    );
    assert_eq!(
        codes.reg_no.as_ref().map(|c| c.as_str()),
        Some("330100400015575")
    );
    assert_eq!(a.record.key.source, SOURCE_USCC);
    assert_eq!(a.record.subject.kind, SubjectKind::Enterprise);
    let Detail::Penalty(p) = &a.record.detail else {
        panic!("penalty")
    };
    assert_eq!(p.kinds, vec![PenaltyKind::Warning, PenaltyKind::Fine]);
    assert_eq!(p.violation_type, "未按规定公示年度报告案");
    assert_eq!(p.violation_facts, "未按规定公示年度报告");
    assert_eq!(p.content, "警告并罚款");
    // The same values read as 2.0 fail: _2 is then a registration number.
    let mut cfg = config();
    cfg.standard_version = Some(creditloop_ingest::StandardVersion::V2);
    cfg.default_source_unit = v.config().default_source_unit.clone();
    let r = Validator::new(cfg)
        .validate(&raw(2, f))
        .expect_err("read as 2.0");
    assert!(r.errors.iter().any(|e| e.field == "行政相对人代码_2"));
}

#[test]
fn rejects_columns_are_ignored() {
    let mut f = penalty();
    f.push(("错误行号".into(), "5".into()));
    f.push(("错误原因".into(), "x".into()));
    f.push(("error_reason".into(), "y".into()));
    validator().validate(&raw(2, f)).expect("ignored columns");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn never_panics_and_every_rejection_names_field_and_reasons(
        values in proptest::collection::vec(
            prop_oneof![
                any::<String>(),
                "[0-9A-Z]{0,20}",
                "[0-9]{4}[-/.年][0-9]{1,2}[-/.月][0-9]{1,2}日?",
                Just(String::new()),
                Just("-".to_string()),
                "[0-9.Ee+-]{1,20}",
            ],
            27,
        ),
        keep in proptest::collection::vec(any::<bool>(), 27),
    ) {
        let base = penalty();
        let fields: Vec<(String, String)> = base
            .iter()
            .zip(&values)
            .zip(&keep)
            .map(|(((h, orig), v), k)| (h.clone(), if *k { orig.clone() } else { v.clone() }))
            .collect();
        let v = validator();
        if let Err(r) = v.validate(&raw(9, fields)) {
            prop_assert!(!r.errors.is_empty());
            for e in &r.errors {
                prop_assert!(!e.field.is_empty());
                prop_assert!(!e.rule.is_empty());
                prop_assert!(!e.reason_zh.is_empty());
                prop_assert!(!e.reason_en.is_empty());
                prop_assert_eq!(e.row, 9);
            }
        }
    }

    #[test]
    fn arbitrary_headers_never_panic(
        cols in proptest::collection::vec((any::<String>(), any::<String>()), 0..12),
    ) {
        let v = validator();
        if let Err(r) = v.validate(&raw(1, cols)) {
            for e in &r.errors {
                prop_assert!(!e.field.is_empty() && !e.reason_zh.is_empty() && !e.reason_en.is_empty());
            }
        }
    }
}
