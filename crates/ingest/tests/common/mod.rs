//! Shared helpers of the integration tests: a valid row of each category and a validator with a
//! fixed "today".
#![allow(dead_code)]

use chrono::NaiveDate;
use creditloop_ingest::{RawRow, Validator, ValidatorConfig};

pub const SUBJECT_USCC: &str = "91330100716105852F";
pub const AUTHORITY_USCC: &str = "91440300708461136T";
pub const SOURCE_USCC: &str = "91310000132260250X";
pub const RESIDENT_ID: &str = "11010519491231002X";

pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
}

pub fn today() -> NaiveDate {
    date(2024, 6, 28)
}

pub fn config() -> ValidatorConfig {
    ValidatorConfig::new(today(), std::sync::Arc::new(creditloop_pii::test_key()))
}

/// The stored form of a test resident number under the test key.
pub fn person(number: &str) -> creditloop_domain::pii::PersonId {
    let id = creditloop_domain::ids::ResidentId::parse(number, NaiveDate::MAX)
        .expect("valid test resident number");
    creditloop_pii::test_key().person(&id)
}

pub fn validator() -> Validator {
    Validator::new(config())
}

/// A valid 2.0 penalty row of an enterprise.
pub fn penalty() -> Vec<(String, String)> {
    [
        ("行政相对人名称", "杭州某某科技有限公司"),
        ("行政相对人类别", "法人及非法人组织"),
        ("行政相对人代码_1(统一社会信用代码)", SUBJECT_USCC),
        ("行政相对人代码_2(工商注册号)", ""),
        ("行政相对人代码_3(组织机构代码)", ""),
        ("法定代表人", "张三"),
        ("法定代表人证件类型", "身份证"),
        ("法定代表人证件号码", RESIDENT_ID),
        ("证件类型", ""),
        ("证件号码", ""),
        ("行政处罚决定书文号", "杭市监罚〔2024〕12号"),
        ("违法行为类型", "未按规定公示年度报告"),
        ("违法事实", "当事人未按规定公示2023年度报告"),
        ("处罚依据", "《企业信息公示暂行条例》第十八条"),
        ("处罚类别", "警告;罚款"),
        ("处罚内容", "警告并处罚款0.5万元"),
        ("罚款金额（万元）", "0.5"),
        ("没收违法所得、没收非法财物的金额（万元）", ""),
        ("暂扣或吊销证照名称及编号", ""),
        ("处罚决定日期", "2024-03-05"),
        ("处罚有效期", "2025-03-05"),
        ("公示截止期", ""),
        ("处罚机关", "杭州市市场监督管理局"),
        ("处罚机关统一社会信用代码", AUTHORITY_USCC),
        ("数据来源单位", "杭州市市场监督管理局"),
        ("数据来源单位统一社会信用代码", SOURCE_USCC),
        ("备注", ""),
    ]
    .iter()
    .map(|(h, v)| (h.to_string(), v.to_string()))
    .collect()
}

/// A valid 2.0 licence row.
pub fn licence() -> Vec<(String, String)> {
    [
        ("行政相对人名称", "杭州某某科技有限公司"),
        ("行政相对人类别", "法人及非法人组织"),
        ("行政相对人代码_1(统一社会信用代码)", SUBJECT_USCC),
        ("法定代表人", "张三"),
        ("行政许可决定文书名称", "食品经营许可决定书"),
        ("行政许可决定文书号", "JY13301000012345"),
        ("许可类别", "普通"),
        ("许可证书名称", "食品经营许可证"),
        ("许可编号", "JY13301000012345"),
        ("许可内容", "预包装食品销售"),
        ("许可决定日期", "2024/3/5"),
        ("有效期自", "2024/3/5"),
        ("有效期至", "2029/3/4"),
        ("许可机关", "杭州市市场监督管理局"),
        ("许可机关统一社会信用代码", AUTHORITY_USCC),
        ("当前状态", "有效"),
        ("数据来源单位", "杭州市市场监督管理局"),
        ("数据来源单位统一社会信用代码", SOURCE_USCC),
    ]
    .iter()
    .map(|(h, v)| (h.to_string(), v.to_string()))
    .collect()
}

pub fn raw(row: u64, fields: Vec<(String, String)>) -> RawRow {
    RawRow {
        row,
        fields: fields.into_iter().map(|(h, v)| (h.into(), v)).collect(),
    }
}

/// Replaces the value of a column (which must exist).
pub fn set(fields: &mut [(String, String)], header: &str, value: &str) {
    let f = fields
        .iter_mut()
        .find(|(h, _)| h == header)
        .unwrap_or_else(|| panic!("no column {header}"));
    f.1 = value.to_string();
}

/// Removes a column.
pub fn drop_col(fields: &mut Vec<(String, String)>, header: &str) {
    fields.retain(|(h, _)| h != header);
}

/// CSV text of rows with the given headers (values quoted when needed).
pub fn csv_text(rows: &[Vec<(String, String)>], eol: &str) -> String {
    let mut out = String::new();
    let q = |s: &str| {
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    };
    if let Some(first) = rows.first() {
        out.push_str(
            &first
                .iter()
                .map(|(h, _)| q(h))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push_str(eol);
    }
    for r in rows {
        out.push_str(&r.iter().map(|(_, v)| q(v)).collect::<Vec<_>>().join(","));
        out.push_str(eol);
    }
    out
}
