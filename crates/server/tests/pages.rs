//! The pages through real HTTP on a free port, over a fresh SQLite file per test: the portal
//! (search, profile, lists, report and its verification), the workbench (form and file
//! submissions with their error report, checks and feedback, the agency's lists) and the dashboard.

mod common;

use serde_json::{Value, json};

const AGENCY: &str = "11120000MB19674671";
const COMPANY: &str = "91110000802100433B";
const PERSON_ID: &str = "11010519491231002X";

struct TestServer {
    base: String,
    _dir: tempfile::TempDir,
}

async fn start() -> TestServer {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = common::start_in(dir.path(), "2024-06-28").await;
    TestServer {
        base: s.base,
        _dir: dir,
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

async fn get(c: &reqwest::Client, url: String) -> (u16, String) {
    let r = c.get(url).send().await.expect("get");
    (r.status().as_u16(), r.text().await.expect("text"))
}

async fn post_form(
    c: &reqwest::Client,
    url: String,
    form: &[(&str, &str)],
) -> (u16, String, String) {
    let r = c.post(url).form(form).send().await.expect("post");
    let status = r.status().as_u16();
    let location = r
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .unwrap_or("")
        .to_string();
    (status, location, r.text().await.expect("text"))
}

fn penalty(doc_no: &str) -> Value {
    json!({
        "行政相对人名称": "天津市恒通达商贸有限公司",
        "行政相对人类别": "法人及非法人组织",
        "行政相对人代码_1(统一社会信用代码)": COMPANY,
        "法定代表人": "张三",
        "法定代表人证件类型": "身份证",
        "法定代表人证件号码": PERSON_ID,
        "行政处罚决定书文号": doc_no,
        "违法行为类型": "销售不合格产品",
        "违法事实": "销售不合格电线电缆",
        "处罚依据": "《中华人民共和国产品质量法》第四十九条",
        "处罚类别": "罚款",
        "处罚内容": "罚款2万元",
        "罚款金额（万元）": "2",
        "处罚决定日期": "2024-06-03",
        "处罚有效期": "2025-06-03",
        "处罚机关": "天津市市场监督管理委员会",
        "处罚机关统一社会信用代码": AGENCY,
        "数据来源单位": "天津市市场监督管理委员会",
        "数据来源单位统一社会信用代码": AGENCY,
        "报送日期": "2024-06-07"
    })
}

fn debtor() -> Value {
    json!({
        "被执行人姓名/名称": "天津市恒通达商贸有限公司",
        "统一社会信用代码": COMPANY,
        "法定代表人或负责人": "王五",
        "执行法院": "天津市第一中级人民法院",
        "执行法院统一社会信用代码": AGENCY,
        "案号": "（2024）津01执123号",
        "生效法律文书确定的义务": "支付货款50万元",
        "被执行人的履行情况": "全部未履行",
        "失信被执行人行为具体情形": "有履行能力而拒不履行生效法律文书确定义务",
        "发布时间": "2024-05-20",
        "数据来源单位": "天津市第一中级人民法院",
        "数据来源单位统一社会信用代码": AGENCY,
        "报送日期": "2024-05-21"
    })
}

async fn seed(s: &TestServer, c: &reqwest::Client) {
    let r: Value = c
        .post(format!("{}/api/v1/records", s.base))
        .json(&penalty("津市监罚〔2024〕5号"))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(r["accepted"], 1, "{r}");
    let r: Value = c
        .post(format!(
            "{}/api/v1/records?category=dishonest_debtor",
            s.base
        ))
        .json(&debtor())
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(r["accepted"], 1, "{r}");
}

/// A penalty CSV: row 2 is good, row 3 has a wrong check character in its unified code.
pub const CSV_HEADER: &str = "行政相对人名称,行政相对人类别,行政相对人代码_1(统一社会信用代码),法定代表人,行政处罚决定书文号,违法行为类型,违法事实,处罚依据,处罚类别,处罚内容,罚款金额（万元）,处罚决定日期,处罚有效期,处罚机关,处罚机关统一社会信用代码,报送日期";

fn csv_row(name: &str, code: &str, doc: &str) -> String {
    format!(
        "{name},法人及非法人组织,{code},李四,{doc},无证经营,未取得许可从事经营,《无证无照经营查处办法》第十三条,罚款,罚款1万元,1,2024-06-03,2025-06-03,天津市市场监督管理委员会,{AGENCY},2024-06-20"
    )
}

async fn upload(c: &reqwest::Client, base: &str, name: &str, csv: String) -> (u16, String) {
    let form = reqwest::multipart::Form::new()
        .text("agency", AGENCY)
        .text("category", "penalty")
        .part(
            "file",
            reqwest::multipart::Part::bytes(csv.into_bytes()).file_name(name.to_string()),
        );
    let r = c
        .post(format!("{base}/workbench/submit/file"))
        .multipart(form)
        .send()
        .await
        .expect("upload");
    (r.status().as_u16(), r.text().await.expect("text"))
}

#[tokio::test]
async fn the_portal_searches_by_code_and_partial_name_and_masks_persons() {
    let s = start().await;
    let c = client();
    seed(&s, &c).await;

    // Partial name through the name index, in the page and the API.
    let (status, page) = get(&c, format!("{}/?q=%E6%81%92%E9%80%9A", s.base)).await;
    assert_eq!(status, 200);
    assert!(page.contains("天津市恒通达商贸有限公司"), "{page}");
    assert!(page.contains("/subjects/U%3A91110000802100433B"), "{page}");
    let api: Value = c
        .get(format!("{}/api/v1/subjects", s.base))
        .query(&[("q", "通达商贸")])
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(api["subjects"][0]["key"], format!("U:{COMPANY}"), "{api}");
    // By code: exactly that subject.
    let (_, page) = get(&c, format!("{}/?q={COMPANY}", s.base)).await;
    assert!(page.contains("找到 1 个主体"), "{page}");

    let (status, profile) = get(&c, format!("{}/subjects/U:{COMPANY}", s.base)).await;
    assert_eq!(status, 200);
    for want in [
        "基本信息",
        "信用等级",
        "暂未评价",
        "行政处罚（1）",
        "津市监罚〔2024〕5号",
        "列入名单（1）",
        "失信被执行人",
        "提出异议",
        "申请信用修复",
        "1101**********002X",
    ] {
        assert!(profile.contains(want), "{want} missing from the profile");
    }
    assert!(!profile.contains(PERSON_ID), "unmasked id on a public page");

    let (status, page) = get(&c, format!("{}/subjects/U:{COMPANY}/objection", s.base)).await;
    assert_eq!(status, 200);
    assert!(page.contains("服务即将开通"));
    assert!(
        page.contains(&format!("/subjects/U%3A{COMPANY}")),
        "keeps the subject"
    );
    let (_, page) = get(&c, format!("{}/subjects/U:{COMPANY}/repair", s.base)).await;
    assert!(page.contains("申请信用修复服务即将开通"));

    let (status, _) = get(&c, format!("{}/subjects/U:91440300708461136T", s.base)).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn the_lists_filter_and_page() {
    let s = start().await;
    let c = client();
    seed(&s, &c).await;
    let (status, black) = get(&c, format!("{}/lists/black", s.base)).await;
    assert_eq!(status, 200);
    assert!(black.contains("天津市恒通达商贸有限公司"), "{black}");
    assert!(black.contains("有履行能力而拒不履行"), "{black}");
    let (_, filtered) = get(
        &c,
        format!("{}/lists/black?list=serious_dishonest_list", s.base),
    )
    .await;
    assert!(filtered.contains("没有符合条件的名单信息"), "{filtered}");
    let (_, by_name) = get(&c, format!("{}/lists/black?q=%E6%81%92%E9%80%9A", s.base)).await;
    assert!(by_name.contains("天津市恒通达商贸有限公司"));
    let (_, dated) = get(&c, format!("{}/lists/black?from=2024-06-01", s.base)).await;
    assert!(
        dated.contains("没有符合条件的名单信息"),
        "decided 2024-05-20"
    );
    let (status, bad) = get(&c, format!("{}/lists/black?from=yesterday", s.base)).await;
    assert_eq!(status, 200);
    assert!(bad.contains("不是有效日期"));
    let (status, red) = get(&c, format!("{}/lists/red?page=9999", s.base)).await;
    assert_eq!(status, 200);
    assert!(red.contains("没有符合条件的名单信息"));
    // The penalty is no list entry.
    assert!(!black.contains("津市监罚〔2024〕5号"));
}

#[tokio::test]
async fn a_report_is_issued_stored_and_verified() {
    let s = start().await;
    let c = client();
    seed(&s, &c).await;
    let (status, page) = get(&c, format!("{}/subjects/U:{COMPANY}/report", s.base)).await;
    assert_eq!(status, 200);
    assert!(page.contains("生成信用报告"));
    let (status, location, _) =
        post_form(&c, format!("{}/subjects/U:{COMPANY}/report", s.base), &[]).await;
    assert_eq!(status, 303);
    assert!(location.starts_with("/reports/XYBG"), "{location}");
    let (status, report) = get(&c, format!("{}{location}", s.base)).await;
    assert_eq!(status, 200);
    assert!(report.contains("@media print"));
    assert!(report.contains("津市监罚〔2024〕5号"));
    assert!(!report.contains(PERSON_ID));
    let number = location.trim_start_matches("/reports/").to_string();
    let digest = report
        .split("id=\"report-digest\"")
        .nth(1)
        .and_then(|s| s.split('>').nth(1))
        .and_then(|s| s.split('<').next())
        .expect("digest on the report")
        .to_string();
    assert_eq!(digest.len(), 64, "{digest}");

    let verify = |number: String, digest: String| {
        let c = c.clone();
        let base = s.base.clone();
        async move {
            let r = c
                .get(format!("{base}/report/verify"))
                .query(&[("number", number), ("digest", digest)])
                .send()
                .await
                .expect("verify");
            (r.status().as_u16(), r.text().await.expect("text"))
        }
    };
    let (status, ok) = verify(number.clone(), digest.to_uppercase()).await;
    assert_eq!(status, 200);
    assert!(ok.contains("验证通过"), "{ok}");
    let (_, known) = verify(number.clone(), String::new()).await;
    assert!(known.contains("报告编号存在") && known.contains(&digest));
    let mut wrong = digest.clone();
    wrong.replace_range(0..1, if digest.starts_with('0') { "1" } else { "0" });
    let (_, refused) = verify(number.clone(), wrong).await;
    assert!(refused.contains("验证未通过"), "{refused}");
    let (status, unknown) = verify("XYBG2024062800000000".into(), digest).await;
    assert_eq!(status, 404);
    assert!(unknown.contains("未签发"));
}

#[tokio::test]
async fn the_workbench_takes_a_file_with_errors_then_the_fix() {
    let s = start().await;
    let c = client();
    let (status, page) = get(&c, format!("{}/workbench/submit", s.base)).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("报送单位统一社会信用代码"),
        "asks for the agency"
    );
    let (_, page) = get(
        &c,
        format!("{}/workbench/submit?agency=11120000MB1967467X", s.base),
    )
    .await;
    assert!(page.contains("无效"), "a bad agency code is named: {page}");
    let (_, page) = get(&c, format!("{}/workbench/submit?agency={AGENCY}", s.base)).await;
    assert!(page.contains("文件上传") && page.contains("单条录入"));

    let bad = format!(
        "{CSV_HEADER}\r\n{}\r\n{}\r\n",
        csv_row(
            "天津市恒通达商贸有限公司",
            "91440300708461136T",
            "津市监罚〔2024〕9号"
        ),
        csv_row(
            "天津市滨海物流有限公司",
            "91120116MA05JXXX1X",
            "津市监罚〔2024〕10号"
        )
    );
    let (status, result) = upload(&c, &s.base, "penalties.csv", bad).await;
    assert_eq!(status, 200, "{result}");
    assert!(result.contains("有 1 行未通过校验"), "{result}");
    assert!(result.contains("reject-table"));
    assert!(result.contains("91120116MA05JXXX1X"));
    let link = result
        .split("href=\"/workbench/batches/")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("rejects link");
    let r = c
        .get(format!("{}/workbench/batches/{link}", s.base))
        .send()
        .await
        .expect("csv");
    assert_eq!(r.status().as_u16(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap_or("")
            .starts_with("text/csv")
    );
    let csv = r.text().await.expect("csv text");
    assert!(csv.contains("天津市滨海物流有限公司"), "{csv}");

    let fixed = format!(
        "{CSV_HEADER}\r\n{}\r\n",
        csv_row(
            "天津市滨海物流有限公司",
            "91440300708461136T",
            "津市监罚〔2024〕10号"
        )
    );
    let (_, result) = upload(&c, &s.base, "penalties-fixed.csv", fixed).await;
    assert!(result.contains("校验通过"), "{result}");
    assert!(result.contains("id=\"n-accepted\">1<"), "{result}");

    // The form: one penalty.
    let (status, _, result) = post_form(
        &c,
        format!("{}/workbench/submit/form", s.base),
        &[
            ("agency", AGENCY),
            ("counterpart", "法人及非法人组织"),
            ("kind", "警告"),
            ("subject_name", "天津市恒通达商贸有限公司"),
            ("uscc", COMPANY),
            ("legal_rep", "张三"),
            ("doc_no", "津市监罚〔2024〕11号"),
            ("violation_type", "虚假宣传"),
            ("violation_facts", "发布虚假广告"),
            ("legal_basis", "《中华人民共和国广告法》第五十五条"),
            ("content", "警告"),
            ("decided", "2024-06-20"),
            ("valid_until", "2025-06-20"),
            ("authority", "天津市市场监督管理委员会"),
            ("authority_code", AGENCY),
        ],
    )
    .await;
    assert_eq!(status, 200, "{result}");
    assert!(result.contains("校验通过"), "{result}");
    let (_, _, result) = post_form(
        &c,
        format!("{}/workbench/submit/form", s.base),
        &[("agency", AGENCY), ("subject_name", "缺字段的公司")],
    )
    .await;
    assert!(result.contains("未通过校验"), "{result}");

    let (_, list) = get(
        &c,
        format!("{}/workbench/submissions?agency={AGENCY}", s.base),
    )
    .await;
    assert!(
        list.contains("penalties.csv") && list.contains("penalties-fixed.csv"),
        "{list}"
    );
    assert!(list.contains("下载 CSV"));

    // Found by name once submitted (the name index follows submissions).
    let (_, page) = get(
        &c,
        format!("{}/?q=%E6%BB%A8%E6%B5%B7%E7%89%A9%E6%B5%81", s.base),
    )
    .await;
    assert!(page.contains("天津市滨海物流有限公司"), "{page}");
}

#[tokio::test]
async fn the_workbench_checks_and_takes_feedback() {
    let s = start().await;
    let c = client();
    seed(&s, &c).await;
    let (status, page) = get(&c, format!("{}/workbench/check?agency={AGENCY}", s.base)).await;
    assert_eq!(status, 200);
    assert!(page.contains("应用场景"));
    let (status, location, _) = post_form(
        &c,
        format!("{}/workbench/check", s.base),
        &[
            ("agency", AGENCY),
            ("subject", COMPANY),
            ("scenario", "government_procurement"),
            ("case_ref", "ZC-2024-1"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    assert!(location.starts_with("/workbench/checks/CK"), "{location}");
    let (status, result) = get(&c, format!("{}{location}", s.base)).await;
    assert_eq!(status, 200);
    assert!(result.contains("办理建议"), "{result}");
    assert!(
        result.contains("不予办理") || result.contains("限制办理"),
        "{result}"
    );
    assert!(result.contains("提交反馈"));
    let receipt = location
        .trim_start_matches("/workbench/checks/")
        .split('?')
        .next()
        .unwrap_or("")
        .to_string();
    let measure = result
        .split("name=\"measures\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a measure to tick")
        .to_string();

    let (_, list) = get(&c, format!("{}/workbench/checks?agency={AGENCY}", s.base)).await;
    assert!(list.contains(&receipt) && list.contains("待反馈"), "{list}");

    let (status, back, _) = post_form(
        &c,
        format!("{}/workbench/checks/{receipt}/feedback", s.base),
        &[
            ("agency", AGENCY),
            ("outcome", "refused"),
            ("measures", &measure),
            ("note", "不予受理投标"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    let (_, result) = get(&c, format!("{}{back}", s.base)).await;
    assert!(
        result.contains("已反馈") && result.contains("不予受理投标"),
        "{result}"
    );
    // A different feedback afterwards is refused, as in the API.
    let (status, _, page) = post_form(
        &c,
        format!("{}/workbench/checks/{receipt}/feedback", s.base),
        &[("agency", AGENCY), ("outcome", "normal")],
    )
    .await;
    assert_eq!(status, 409);
    assert!(page.contains("不能再次反馈"), "{page}");
    let (_, list) = get(&c, format!("{}/workbench/checks?agency={AGENCY}", s.base)).await;
    assert!(list.contains("已反馈：不予办理"), "{list}");

    let (status, dash) = get(&c, format!("{}/dashboard", s.base)).await;
    assert_eq!(status, 200);
    assert!(
        dash.contains("<svg") && dash.contains("信用查询及办理建议"),
        "{dash}"
    );
    assert!(dash.contains("失信被执行人") && dash.contains("行政处罚"));
}
