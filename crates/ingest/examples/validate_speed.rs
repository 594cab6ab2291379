//! Measures validation alone: validates N generated penalty rows held in memory and prints rows/s;
//! then reads the same rows from CSV bytes and validates them, to show the reader's share.
//!
//! `cargo run --release -p creditloop-ingest --example validate_speed -- 200000 [validate]`
//! (`validate`: skip the CSV part).

use std::time::Instant;

use chrono::NaiveDate;
use creditloop_domain::ids::Uscc;
use creditloop_ingest::{Format, RawRow, ReadOptions, Validator, ValidatorConfig, read_bytes};

const HEADERS: [&str; 27] = [
    "行政相对人名称",
    "行政相对人类别",
    "行政相对人代码_1(统一社会信用代码)",
    "行政相对人代码_2(工商注册号)",
    "行政相对人代码_3(组织机构代码)",
    "法定代表人",
    "法定代表人证件类型",
    "法定代表人证件号码",
    "证件类型",
    "证件号码",
    "行政处罚决定书文号",
    "违法行为类型",
    "违法事实",
    "处罚依据",
    "处罚类别",
    "处罚内容",
    "罚款金额（万元）",
    "没收违法所得、没收非法财物的金额（万元）",
    "暂扣或吊销证照名称及编号",
    "处罚决定日期",
    "处罚有效期",
    "公示截止期",
    "处罚机关",
    "处罚机关统一社会信用代码",
    "数据来源单位",
    "数据来源单位统一社会信用代码",
    "备注",
];

/// Valid unified codes: body `9133010` + a 10-digit serial whose organisation-code part is
/// completed by its own check (generated once, reused round-robin).
fn codes(n: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0u32;
    while out.len() < n {
        i += 1;
        let body8 = format!("MA{:06}", i);
        let Some(oc) = creditloop_domain::ids::org_code_check_char(&body8) else {
            continue;
        };
        if let Ok(u) = Uscc::complete(&format!("91330100{body8}{oc}")) {
            out.push(u.as_str().to_string());
        }
    }
    out
}

fn row(i: usize, subjects: &[String]) -> Vec<String> {
    let subject = &subjects[i % subjects.len()];
    let day = 1 + (i % 28);
    vec![
        format!("杭州某某科技有限公司{i}"),
        "法人及非法人组织".into(),
        subject.clone(),
        String::new(),
        String::new(),
        "张三".into(),
        "身份证".into(),
        "11010519491231002X".into(),
        String::new(),
        String::new(),
        format!("杭市监罚〔2024〕{i}号"),
        "未按规定公示年度报告".into(),
        "当事人未按规定公示2023年度报告，违反了《企业信息公示暂行条例》第八条".into(),
        "《企业信息公示暂行条例》第十八条".into(),
        "警告;罚款".into(),
        "警告并处罚款0.5万元".into(),
        "0.5".into(),
        String::new(),
        String::new(),
        format!("2024-03-{day:02}"),
        format!("2025-03-{day:02}"),
        String::new(),
        "杭州市市场监督管理局".into(),
        "91440300708461136T".into(),
        "杭州市市场监督管理局".into(),
        "91310000132260250X".into(),
        String::new(),
    ]
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(200_000);
    let today = NaiveDate::from_ymd_opt(2024, 6, 28).unwrap_or_default();
    let validator = Validator::new(ValidatorConfig::new(
        today,
        std::sync::Arc::new(creditloop_pii::test_key()),
    ));
    let subjects = codes(1000);
    let rows: Vec<RawRow> = (0..n)
        .map(|i| RawRow {
            row: i as u64 + 2,
            fields: HEADERS
                .iter()
                .map(|&h| std::sync::Arc::<str>::from(h))
                .zip(row(i, &subjects))
                .collect(),
        })
        .collect();
    let layout = validator.layout(&HEADERS);

    // Warm up, then measure.
    let mut warnings = Vec::new();
    for r in rows.iter().take(1000) {
        let _ = validator.validate_with(&layout, r, &mut warnings);
    }
    let start = Instant::now();
    let mut accepted = 0usize;
    for r in &rows {
        if validator.validate_with(&layout, r, &mut warnings).is_ok() {
            accepted += 1;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "validation only: {n} rows, {accepted} accepted, {:.3} s, {:.0} rows/s, {:.2} µs/row",
        secs,
        n as f64 / secs,
        secs * 1e6 / n as f64
    );

    if std::env::args().nth(2).as_deref() == Some("validate") {
        return;
    }
    // Read from CSV bytes and validate.
    let mut csv = HEADERS.join(",");
    csv.push_str("\r\n");
    for r in &rows {
        let line: Vec<&str> = r.fields.iter().map(|(_, v)| v.as_str()).collect();
        csv.push_str(&line.join(","));
        csv.push_str("\r\n");
    }
    let bytes = csv.into_bytes();
    let mb = bytes.len() as f64 / 1e6;
    let start = Instant::now();
    let mut read = 0usize;
    let mut ok = 0usize;
    match read_bytes(bytes, Format::Csv, &ReadOptions::default()) {
        Ok(source) => {
            for r in source.flatten() {
                read += 1;
                if validator.validate(&r).is_ok() {
                    ok += 1;
                }
            }
        }
        Err(e) => eprintln!("reading failed: {e}"),
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "CSV read + validation: {read} rows ({mb:.0} MB), {ok} accepted, {:.3} s, {:.0} rows/s",
        secs,
        read as f64 / secs
    );
}
