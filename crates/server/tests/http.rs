//! The server through real HTTP on a free port, over a fresh SQLite file per test.

use std::sync::Arc;

mod common;

use serde_json::{Value, json};

struct TestServer {
    base: String,
    pii: Arc<creditloop_pii::PiiKey>,
    store: Arc<dyn creditloop_store::Store>,
    audit: Arc<creditloop_audit::AuditLog>,
    _dir: Arc<tempfile::TempDir>,
}

async fn start() -> TestServer {
    start_on(
        Arc::new(tempfile::tempdir().expect("tempdir")),
        "2024-06-28",
    )
    .await
}

/// A server over the SQLite file in `dir`, whose "today" is `today`.
async fn start_on(dir: Arc<tempfile::TempDir>, today: &str) -> TestServer {
    let s = common::start_in(dir.path(), today).await;
    TestServer {
        base: s.base,
        pii: s.pii,
        store: s.store,
        audit: s.audit,
        _dir: dir,
    }
}

fn penalty(doc_no: &str, uscc: &str, fine: &str) -> Value {
    json!({
        "行政相对人名称": "天津市恒通达商贸有限公司",
        "行政相对人类别": "法人及非法人组织",
        "行政相对人代码_1(统一社会信用代码)": uscc,
        "法定代表人": "张三",
        "行政处罚决定书文号": doc_no,
        "违法行为类型": "销售不合格产品",
        "违法事实": "销售不合格电线电缆",
        "处罚依据": "《中华人民共和国产品质量法》第四十九条",
        "处罚类别": "罚款;没收违法所得、没收非法财物",
        "处罚内容": "罚款2万元，没收违法所得",
        "罚款金额（万元）": fine,
        "没收违法所得、没收非法财物的金额（万元）": "0.5",
        "处罚决定日期": "2024/6/3",
        "处罚有效期": "2025-06-03",
        "处罚机关": "天津市市场监督管理委员会",
        "处罚机关统一社会信用代码": "11120000MB19674671",
        "数据来源单位": "天津市市场监督管理委员会",
        "数据来源单位统一社会信用代码": "11120000MB19674671",
        "报送日期": "2024-06-07"
    })
}

#[tokio::test]
async fn health_and_openapi_answer() {
    let s = start().await;
    let h = get_json(format!("{}/healthz", s.base)).await;
    assert_eq!(h["status"], "ok");
    assert_eq!(h["backend"], "sqlite");
    assert_eq!(
        (&h["subjects"], &h["records"]),
        (&json!(0), &json!(0)),
        "{h}"
    );

    // The counts follow what checks are answered from: a submission shows at once.
    let c = reqwest::Client::new();
    let (status, r) = post_json(
        &c,
        format!("{}/api/v1/records", s.base),
        &penalty("津市监罚〔2024〕7号", "91330100716105852F", "2"),
    )
    .await;
    assert_eq!((status, &r["accepted"]), (200, &json!(1)), "{r}");
    let after = get_json(format!("{}/healthz", s.base)).await;
    assert_eq!(
        (&after["subjects"], &after["records"]),
        (&json!(1), &json!(1)),
        "{after}"
    );
    assert!(
        after["data_version"].as_u64() > h["data_version"].as_u64(),
        "{h} → {after}"
    );
    let doc = get_json(format!("{}/api/v1/openapi.json", s.base)).await;
    assert_eq!(doc["openapi"], "3.0.3");
    for path in [
        "/healthz",
        "/api/v1/records",
        "/api/v1/records/upload",
        "/api/v1/subjects",
        "/api/v1/subjects/{code}",
        "/api/v1/subjects/{code}/identity",
        "/api/v1/batches/{id}/rejects",
        "/api/v1/checks",
        "/api/v1/checks/{id}",
        "/api/v1/checks/{id}/feedback",
        "/api/v1/checks/overdue",
        "/api/v1/checks/batch",
        "/api/v1/audit/heads",
        "/api/v1/audit/proofs/inclusion",
        "/api/v1/audit/proofs/consistency",
    ] {
        assert!(
            doc["paths"].get(path).is_some(),
            "{path} missing from OpenAPI"
        );
    }
}

#[tokio::test]
async fn submitted_records_are_validated_stored_and_read_back() {
    let s = start().await;
    let c = reqwest::Client::new();
    let good = penalty("津市监罚〔2024〕1号", "91330100716105852F", "2");
    let bad = penalty("津市监罚〔2024〕2号", "91330100716105852X", "2");
    let r: Value = c
        .post(format!("{}/api/v1/records", s.base))
        .json(&json!({ "records": [good.clone(), bad] }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["accepted"], 1, "{r}");
    assert_eq!(r["rejected"], 1, "{r}");
    assert_eq!(r["duplicates"], 0);
    let err = &r["rejects"][0]["errors"][0];
    assert_eq!(err["row"], 2);
    assert!(err["field"].as_str().unwrap().contains("代码_1"), "{err}");
    assert!(!err["reason_zh"].as_str().unwrap().is_empty());
    assert!(!err["reason_en"].as_str().unwrap().is_empty());

    // The same record again changes nothing.
    let again: Value = c
        .post(format!("{}/api/v1/records", s.base))
        .json(&good)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again["duplicates"], 1, "{again}");
    assert_eq!(again["accepted"], 0);

    // A correction becomes a new version.
    let fixed: Value = c
        .post(format!("{}/api/v1/records", s.base))
        .json(&penalty("津市监罚〔2024〕1号", "91330100716105852F", "3"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(fixed["new_versions"], 1, "{fixed}");

    let subject: Value = c
        .get(format!("{}/api/v1/subjects/91330100716105852F", s.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(subject["subject"]["name"], "天津市恒通达商贸有限公司");
    let records = subject["records"].as_array().unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["version"], 2);
    assert_eq!(records[0]["record"]["detail"]["fine_wan"], 3.0);

    let history: Value = c
        .get(format!("{}/api/v1/records/history", s.base))
        .query(&[
            ("source", "11120000MB19674671"),
            ("category", "penalty"),
            ("doc_no", "津市监罚〔2024〕1号"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        history["versions"].as_array().unwrap().len(),
        2,
        "{history}"
    );

    // Rejected rows are kept and can be downloaded as CSV to correct.
    let batch = r["batches"][0].as_str().unwrap();
    let csv = c
        .get(format!("{}/api/v1/batches/{batch}/rejects", s.base))
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(csv.contains("91330100716105852X"), "{csv}");
    assert!(csv.contains("错误原因"));
}

#[tokio::test]
async fn a_gbk_csv_upload_is_read() {
    let s = start().await;
    let csv = "行政相对人名称,行政相对人类别,行政相对人代码_1(统一社会信用代码),法定代表人,行政处罚决定书文号,违法行为类型,违法事实,处罚依据,处罚类别,处罚内容,罚款金额（万元）,处罚决定日期,处罚有效期,处罚机关,处罚机关统一社会信用代码,数据来源单位,数据来源单位统一社会信用代码,报送日期\r\n\
天津市恒通达商贸有限公司,法人及非法人组织,91440300708461136T,李四,津市监罚〔2024〕9号,无证经营,未取得许可从事经营,《无证无照经营查处办法》第十三条,罚款,罚款1万元,1,2024年6月3日,2025-06-03,天津市市场监督管理委员会,11120000MB19674671,天津市市场监督管理委员会,11120000MB19674671,2024-06-20\r\n";
    let (gbk, _, _) = encoding_rs::GBK.encode(csv);
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(gbk.into_owned()).file_name("penalties.csv"),
    );
    let r: Value = reqwest::Client::new()
        .post(format!("{}/api/v1/records/upload", s.base))
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["accepted"], 1, "{r}");
    // Decided 2024-06-03 (Monday), submitted 2024-06-20: past 7 working days (10 June is 端午).
    assert_eq!(r["late"], 1, "{r}");
}

#[tokio::test]
async fn errors_are_problem_json_in_both_languages() {
    let s = start().await;
    let c = reqwest::Client::new();
    let r = c
        .post(format!("{}/api/v1/records", s.base))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["code"], "bad_request");
    assert!(p["detail_zh"].as_str().unwrap().contains("JSON"));
    let r = c
        .get(format!("{}/api/v1/subjects/91310000132260250X", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = c
        .get(format!("{}/api/v1/nothing", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn the_search_page_finds_a_subject_and_shows_its_records_with_ids_masked() {
    let s = start().await;
    let c = reqwest::Client::new();
    let mut rec = penalty("津市监罚〔2024〕5号", "91110000802100433B", "2");
    rec["法定代表人证件类型"] = json!("身份证");
    rec["法定代表人证件号码"] = json!("11010519491231002X");
    let r: Value = c
        .post(format!("{}/api/v1/records", s.base))
        .json(&rec)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["accepted"], 1, "{r}");
    let page = c
        .get(format!("{}/", s.base))
        .query(&[("q", "恒通达")])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("天津市恒通达商贸有限公司"), "{page}");
    assert!(page.contains("/subjects/U%3A91110000802100433B"), "{page}");
    let profile = c
        .get(format!("{}/subjects/U:91110000802100433B", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(profile.contains("销售不合格产品"));
    assert!(profile.contains("津市监罚〔2024〕5号"));
    assert!(
        !profile.contains("11010519491231002X"),
        "unmasked id on a public page"
    );
    let json = c
        .get(format!("{}/api/v1/subjects/91110000802100433B", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !json.contains("11010519491231002X"),
        "unmasked id in the API"
    );
}

#[tokio::test]
async fn a_check_finds_the_measures_a_dishonest_debtor_triggers() {
    let s = start().await;
    let c = reqwest::Client::new();
    let debtor = json!({
        "被执行人姓名/名称": "天津市恒通达商贸有限公司",
        "统一社会信用代码": "91310000132260250X",
        "法定代表人或负责人": "王五",
        "执行法院": "天津市第一中级人民法院",
        "执行法院统一社会信用代码": "11120000MB19674671",
        "案号": "（2024）津01执12号",
        "生效法律文书确定的义务": "支付货款50万元",
        "被执行人的履行情况": "全部未履行",
        "失信被执行人行为具体情形": "有履行能力而拒不履行生效法律文书确定义务",
        "发布时间": "2024-05-20",
        "数据来源单位": "天津市第一中级人民法院",
        "数据来源单位统一社会信用代码": "11120000MB19674671",
        "报送日期": "2024-05-21"
    });
    let r: Value = c
        .post(format!(
            "{}/api/v1/records?category=dishonest_debtor",
            s.base
        ))
        .json(&debtor)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["accepted"], 1, "{r}");

    let check = |subject: &str, scenario: &str| {
        let c = c.clone();
        let url = format!("{}/api/v1/checks", s.base);
        let body = json!({"subject": subject, "scenario": scenario, "agency": "11120000MB19674671", "case_ref": "ZB-1"});
        async move {
            let r = c.post(url).json(&body).send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (status, v) = check("91310000132260250X", "public_bidding").await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["decision"], "prohibit", "{v}");
    let m = v["measures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["code"] == "CJ-SX-002")
        .expect("the bidding measure for dishonest debtors");
    assert_eq!(m["triggering"][0]["doc_no"], "（2024）津01执12号");
    assert!(!m["legal_basis"]["document"].as_str().unwrap().is_empty());
    assert_eq!(v["catalogue_version"]["number"], 1);

    // By exact name too; and an unknown subject is a clear answer, not an error.
    let (_, v) = check("天津市恒通达商贸有限公司", "government_procurement").await;
    assert_eq!(v["subject_known"], true, "{v}");
    let (status, v) = check("91330100716105852F", "public_bidding").await;
    assert_eq!(status, 200);
    assert_eq!(v["decision"], "normal");
    assert_eq!(v["subject_known"], false);
    let (status, v) = check("91310000132260250X", "no_such_scenario").await;
    assert_eq!(status, 400, "{v}");
    assert!(v["detail_zh"].as_str().unwrap().contains("场景"));
}

fn debtor(name: &str, uscc: &str, case_no: &str) -> Value {
    json!({
        "被执行人姓名/名称": name,
        "统一社会信用代码": uscc,
        "法定代表人或负责人": "王五",
        "执行法院": "天津市第一中级人民法院",
        "执行法院统一社会信用代码": "11120000MB19674671",
        "案号": case_no,
        "生效法律文书确定的义务": "支付货款50万元",
        "被执行人的履行情况": "全部未履行",
        "失信被执行人行为具体情形": "有履行能力而拒不履行生效法律文书确定义务",
        "发布时间": "2024-05-20",
        "数据来源单位": "天津市第一中级人民法院",
        "数据来源单位统一社会信用代码": "11120000MB19674671",
        "报送日期": "2024-05-21"
    })
}

async fn get_json(url: String) -> Value {
    let r = reqwest::get(url).await.expect("send");
    r.json().await.expect("json")
}

async fn post_json(c: &reqwest::Client, url: String, body: &Value) -> (u16, Value) {
    let r = c.post(url).json(body).send().await.expect("send");
    let status = r.status().as_u16();
    (status, r.json().await.expect("json"))
}

#[tokio::test]
async fn a_check_gets_a_receipt_is_stored_and_takes_one_feedback() {
    let dir = Arc::new(tempfile::tempdir().expect("tempdir"));
    let s = start_on(dir.clone(), "2024-06-03").await;
    let c = reqwest::Client::new();
    let (_, r) = post_json(
        &c,
        format!("{}/api/v1/records?category=dishonest_debtor", s.base),
        &debtor(
            "天津市恒通达商贸有限公司",
            "91310000132260250X",
            "（2024）津01执12号",
        ),
    )
    .await;
    assert_eq!(r["accepted"], 1, "{r}");
    let body = json!({"subject": "91310000132260250X", "scenario": "public_bidding",
                      "agency": "11120000MB19674671", "case_ref": "ZB-7"});
    let (status, v) = post_json(&c, format!("{}/api/v1/checks", s.base), &body).await;
    assert_eq!(status, 200, "{v}");
    let receipt = v["receipt"].as_str().expect("receipt").to_string();
    assert!(receipt.starts_with("CK"), "{receipt}");
    assert!(v["data_version"].as_u64().expect("data version") > 0);

    // The receipt reads back with the answer as given.
    let stored: Value = c
        .get(format!("{}/api/v1/checks/{receipt}", s.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stored["decision"], "prohibit", "{stored}");
    assert_eq!(stored["case_ref"], "ZB-7");
    assert_eq!(stored["answer"]["measures"], v["measures"]);
    assert!(stored["feedback"].is_null());

    let fb = |outcome: &str, measures: &[&str]| json!({"outcome": outcome, "measures": measures, "agency": "11120000MB19674671"});
    let url = format!("{}/api/v1/checks/{receipt}/feedback", s.base);
    // A measure the check did not match has no basis: refused with a reason.
    let (status, e) = post_json(&c, url.clone(), &fb("不予办理", &["CJ-XX-999"])).await;
    assert_eq!(status, 422, "{e}");
    assert!(e["detail_zh"].as_str().unwrap().contains("CJ-XX-999"));
    let (status, e) = post_json(&c, url.clone(), &fb("办理了", &[])).await;
    assert_eq!(status, 400, "{e}");
    let (status, ok) = post_json(&c, url.clone(), &fb("不予办理", &["CJ-SX-002"])).await;
    assert_eq!(status, 201, "{ok}");
    assert_eq!(ok["feedback"]["outcome"], "refused");
    let (status, dup) = post_json(&c, url.clone(), &fb("refused", &["CJ-SX-002"])).await;
    assert_eq!(
        (status, dup["status"].as_str()),
        (200, Some("duplicate")),
        "{dup}"
    );
    let (status, e) = post_json(&c, url.clone(), &fb("正常办理", &[])).await;
    assert_eq!(status, 409, "{e}");
    let (status, _) = post_json(
        &c,
        format!("{}/api/v1/checks/CK0/feedback", s.base),
        &fb("正常办理", &[]),
    )
    .await;
    assert_eq!(status, 404);

    // A second check, left without feedback.
    let (_, v2) = post_json(&c, format!("{}/api/v1/checks", s.base), &body).await;
    let open_receipt = v2["receipt"].as_str().expect("receipt").to_string();
    drop(s);

    // Three weeks later, another server on the same file lists the check without feedback as
    // overdue (5 working days by default), and not the one with feedback.
    let s = start_on(dir, "2024-06-24").await;
    let overdue: Value = c
        .get(format!(
            "{}/api/v1/checks/overdue?agency=11120000MB19674671",
            s.base
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let listed: Vec<&str> = overdue["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["receipt"].as_str().unwrap())
        .collect();
    assert_eq!(listed, vec![open_receipt.as_str()], "{overdue}");
    // The same day with a generous deadline: nothing is overdue yet (2024-06-03 + 20 working days).
    let none: Value = c
        .get(format!("{}/api/v1/checks/overdue?working_days=20", s.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(none["checks"].as_array().unwrap().len(), 0, "{none}");
    let all: Value = c
        .get(format!(
            "{}/api/v1/checks?agency=11120000MB19674671",
            s.base
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(all["checks"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn an_ambiguous_name_asks_for_a_code() {
    let s = start().await;
    let c = reqwest::Client::new();
    for (code, case) in [
        ("91310000132260250X", "（2024）津01执1号"),
        ("91110000802100433B", "（2024）津01执2号"),
    ] {
        let (_, r) = post_json(
            &c,
            format!("{}/api/v1/records?category=dishonest_debtor", s.base),
            &debtor("同名商贸有限公司", code, case),
        )
        .await;
        assert_eq!(r["accepted"], 1, "{r}");
    }
    let (status, e) = post_json(
        &c,
        format!("{}/api/v1/checks", s.base),
        &json!({"subject": "同名商贸有限公司", "scenario": "public_bidding"}),
    )
    .await;
    assert_eq!(status, 400, "{e}");
    assert!(e["detail_zh"].as_str().unwrap().contains("2 个主体"), "{e}");
}

/// Posts `csv` as a batch check (public bidding, as agency 11120000MB19674671): the answer's text
/// and its result rows.
async fn batch_results(
    c: &reqwest::Client,
    base: &str,
    csv: String,
) -> (String, Vec<csv::StringRecord>) {
    let resp = c
        .post(format!(
            "{base}/api/v1/checks/batch?scenario=public_bidding&agency=11120000MB19674671"
        ))
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let text = resp.text().await.unwrap();
    let mut rd = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let rows = rd.records().map(|r| r.unwrap()).collect();
    (text, rows)
}

#[tokio::test]
async fn a_batch_check_answers_every_row_and_stores_each() {
    let s = start().await;
    let c = reqwest::Client::new();
    let (_, r) = post_json(
        &c,
        format!("{}/api/v1/records?category=dishonest_debtor", s.base),
        &debtor(
            "天津市恒通达商贸有限公司",
            "91310000132260250X",
            "（2024）津01执12号",
        ),
    )
    .await;
    assert_eq!(r["accepted"], 1, "{r}");
    let csv = "序号,统一社会信用代码,办件编号\n1,91310000132260250X,A-1\n2,９１３３０１００７１６１０５８５２Ｆ,A-2\n3,,A-3\n4,11010519491231002X,A-4\n";
    let (text, rows) = batch_results(&c, &s.base, csv.to_string()).await;
    assert_eq!(rows.len(), 4, "{text}");
    assert_eq!(&rows[0][3], "prohibit");
    assert!(rows[0][5].contains("CJ-SX-002"));
    assert_eq!(&rows[1][3], "unknown_subject", "full-width code normalised");
    assert_eq!(&rows[2][3], "error");
    assert_eq!(
        &rows[3][1], "1101**********002X",
        "resident numbers masked in results"
    );
    // Each answered row is stored under its receipt, with its case reference.
    let receipt = rows[0][7].to_string();
    let stored: Value = c
        .get(format!("{}/api/v1/checks/{receipt}", s.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stored["case_ref"], "A-1", "{stored}");
    assert!(stored["batch_id"].as_str().unwrap().starts_with('B'));
    let all: Value = c
        .get(format!(
            "{}/api/v1/checks?agency=11120000MB19674671",
            s.base
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(all["checks"].as_array().unwrap().len(), 3);
    // The stored rows are audited as one group entry naming its first and last receipt.
    let log: Value = c
        .get(format!("{}/api/v1/audit/entries", s.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let group = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["entry"])
        .find(|e| e["action"] == "check" && e["detail"]["rows"] == 3)
        .expect("the batch's audit entry");
    assert_eq!(
        group["detail"]["first_receipt"],
        rows[0][7].to_string().as_str()
    );
    assert_eq!(group["detail"]["decisions"]["prohibit"], 1, "{group}");

    // The same as XLSX, read back with the importer's own reader.
    let resp = c
        .post(format!(
            "{}/api/v1/checks/batch?scenario=public_bidding&format=xlsx",
            s.base
        ))
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let bytes = resp.bytes().await.unwrap().to_vec();
    let rows: Vec<_> = creditloop_ingest::read_bytes(
        bytes,
        creditloop_ingest::Format::Xlsx,
        &creditloop_ingest::ReadOptions::default(),
    )
    .unwrap()
    .map(|r| r.unwrap())
    .collect();
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[0].fields[3].1, "prohibit");
}

/// A batch of more groups than are stored at once (20,000 rows a group): every row answered,
/// stored under its receipt and counted, the first, a middle and the last alike.
#[tokio::test]
async fn a_batch_of_many_groups_is_stored_whole() {
    use creditloop_domain::ids::{Uscc, org_code_check_char};
    let s = start().await;
    let rows = 110_001;
    let mut csv = String::from("统一社会信用代码\n");
    for n in 0..rows {
        let org = format!("M{n:07}");
        let org = format!(
            "{org}{}",
            org_code_check_char(&org).expect("an organisation code")
        );
        let code = Uscc::complete(&format!("91120000{org}")).expect("a unified code");
        csv.push_str(code.as_str());
        csv.push('\n');
    }
    let (_, results) = batch_results(&reqwest::Client::new(), &s.base, csv).await;
    assert_eq!(results.len(), rows);
    for i in [0, rows / 2, rows - 1] {
        assert_eq!(&results[i][3], "unknown_subject", "{:?}", results[i]);
        let receipt = &results[i][7];
        let stored = s.store.check_receipt(receipt).unwrap().expect("stored");
        assert_eq!(stored.subject_query, &results[i][1]);
    }
    let day = chrono::NaiveDate::from_ymd_opt(2024, 6, 28).unwrap();
    let counted: u64 = s
        .store
        .check_stats(day, day)
        .unwrap()
        .iter()
        .map(|c| c.checks)
        .sum();
    assert_eq!(counted, rows as u64);
}

#[tokio::test]
async fn records_written_by_another_process_reach_checks() {
    let dir = Arc::new(tempfile::tempdir().expect("tempdir"));
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    // A server, then an import through another store handle (as `creditloop import` does).
    let s = start_on(dir, "2024-06-28").await;
    let other = creditloop_store::open(&url).expect("open");
    let validator = creditloop_ingest::Validator::new({
        let mut cfg = creditloop_ingest::ValidatorConfig::new(
            chrono::NaiveDate::from_ymd_opt(2024, 6, 28).unwrap(),
            s.pii.clone(),
        );
        cfg.category = Some(creditloop_domain::record::Category::DishonestDebtor);
        cfg
    });
    let rows = creditloop_ingest::read_json_value(json!([debtor(
        "天津市恒通达商贸有限公司",
        "91310000132260250X",
        "（2024）津01执12号"
    )]));
    let report = creditloop_ingest::import(
        rows,
        &validator,
        &*other,
        &creditloop_ingest::ImportOptions::default(),
        &mut |_| {},
    )
    .expect("import");
    assert_eq!(report.counts.accepted, 1);
    let c = reqwest::Client::new();
    let body = json!({"subject": "91310000132260250X", "scenario": "public_bidding"});
    let mut decision = Value::Null;
    for _ in 0..50 {
        let (_, v) = post_json(&c, format!("{}/api/v1/checks", s.base), &body).await;
        decision = v["decision"].clone();
        if decision == "prohibit" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(
        decision, "prohibit",
        "the refresher picks up another process's commit"
    );
}

#[tokio::test]
async fn checks_submissions_and_feedback_are_in_the_audit_log_with_proofs() {
    let s = start().await;
    let c = reqwest::Client::new();
    let (_, r) = post_json(
        &c,
        format!(
            "{}/api/v1/records?category=dishonest_debtor&agency=11120000MB19674671",
            s.base
        ),
        &debtor(
            "天津市恒通达商贸有限公司",
            "91310000132260250X",
            "（2024）津01执12号",
        ),
    )
    .await;
    assert_eq!(r["accepted"], 1, "{r}");
    let (_, v) = post_json(
        &c,
        format!("{}/api/v1/checks", s.base),
        &json!({"subject": "91310000132260250X", "scenario": "public_bidding", "agency": "11120000MB19674671"}),
    )
    .await;
    let receipt = v["receipt"].as_str().unwrap().to_string();
    let (status, _) = post_json(
        &c,
        format!("{}/api/v1/checks/{receipt}/feedback", s.base),
        &json!({"outcome": "不予办理", "measures": ["CJ-SX-002"]}),
    )
    .await;
    assert_eq!(status, 201);
    let get = |path: String| {
        let c = c.clone();
        async move {
            let r = c.get(path).send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (_, list) = get(format!("{}/api/v1/audit/entries", s.base)).await;
    let entries = list["entries"].as_array().unwrap();
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["entry"]["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        vec!["record_submission", "check", "feedback"],
        "{list}"
    );
    let check = &entries[1]["entry"];
    assert_eq!(check["object"], receipt.as_str());
    assert_eq!(check["subject"], "U:91310000132260250X");
    assert_eq!(check["agency"], "11120000MB19674671");
    assert_eq!(check["data_version"], v["data_version"]);
    assert!(
        check["catalogue_version"]
            .as_str()
            .unwrap()
            .starts_with("v1:")
    );

    // A signed head on demand; the entry's inclusion proof is against that head's root.
    let r = c
        .post(format!("{}/api/v1/audit/heads", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let head: Value = r.json().await.unwrap();
    assert_eq!(head["size"], 3, "{head}");
    let (status, proof) = get(format!(
        "{}/api/v1/audit/proofs/inclusion?seq=2&size=3",
        s.base
    ))
    .await;
    assert_eq!(status, 200, "{proof}");
    assert_eq!(proof["root"], head["root"]);
    assert_eq!(proof["leaf_hash"], entries[1]["leaf_hash"]);
    // The log only grows: a later head is consistent with this one.
    let (_, _) = post_json(
        &c,
        format!("{}/api/v1/checks", s.base),
        &json!({"subject": "91310000132260250X", "scenario": "honours"}),
    )
    .await;
    let (status, cons) = get(format!(
        "{}/api/v1/audit/proofs/consistency?from=3&to=4",
        s.base
    ))
    .await;
    assert_eq!(status, 200, "{cons}");
    assert_eq!(cons["first_root"], head["root"]);
    let (status, e) = get(format!(
        "{}/api/v1/audit/proofs/inclusion?seq=99&size=4",
        s.base
    ))
    .await;
    assert_eq!(status, 400, "{e}");
    let (status, _) = get(format!("{}/api/v1/audit/entries/99", s.base)).await;
    assert_eq!(status, 404);
}

const PERSON: &str = "11010519491231002X";
/// The same person's legacy 15-digit number.
const PERSON_15: &str = "110105491231002";

/// A dishonest judgment debtor who is a natural person (被执行人 with a resident number).
fn person_debtor() -> Value {
    json!({
        "被执行人姓名/名称": "王五",
        "证件号码": PERSON,
        "执行法院": "天津市第一中级人民法院",
        "执行法院统一社会信用代码": "11120000MB19674671",
        "案号": "（2024）津01执99号",
        "生效法律文书确定的义务": "支付货款50万元",
        "被执行人的履行情况": "全部未履行",
        "失信被执行人行为具体情形": "有履行能力而拒不履行生效法律文书确定义务",
        "发布时间": "2024-05-20",
        "数据来源单位": "天津市第一中级人民法院",
        "数据来源单位统一社会信用代码": "11120000MB19674671",
        "报送日期": "2024-05-21"
    })
}

/// Everything the server's SQLite files hold at rest (store, its log, the audit log).
fn files_at_rest(dir: &std::path::Path) -> String {
    let mut all = Vec::new();
    for e in std::fs::read_dir(dir).expect("dir") {
        let p = e.expect("entry").path();
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.contains(".db") && !name.ends_with("-key") {
            all.extend(std::fs::read(&p).expect("read"));
        }
    }
    String::from_utf8_lossy(&all).into_owned()
}

#[tokio::test]
async fn persons_are_found_by_resident_number_yet_never_held_in_clear() {
    let dir = Arc::new(tempfile::tempdir().expect("tempdir"));
    let s = start_on(dir.clone(), "2024-06-28").await;
    let c = reqwest::Client::new();
    let (_, r) = post_json(
        &c,
        format!("{}/api/v1/records?category=dishonest_debtor", s.base),
        &person_debtor(),
    )
    .await;
    assert_eq!(r["accepted"], 1, "{r}");
    // A company whose legal representative is that debtor.
    let mut rec = penalty("津市监罚〔2024〕8号", "91110000802100433B", "2");
    rec["法定代表人"] = json!("王五");
    rec["法定代表人证件类型"] = json!("身份证");
    rec["法定代表人证件号码"] = json!(PERSON);
    let (_, r) = post_json(&c, format!("{}/api/v1/records", s.base), &rec).await;
    assert_eq!(r["accepted"], 1, "{r}");

    // Found by the 18-digit number and by the legacy 15-digit one: the same pseudonymous key.
    let mut keys = Vec::new();
    for code in [PERSON, PERSON_15, "11010519491231002x"] {
        let r = c
            .get(format!("{}/api/v1/subjects/{code}", s.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{code}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["subject"]["name"], "王五");
        let text = v.to_string();
        assert!(!text.contains(PERSON), "{text}");
        assert!(text.contains("1101**********002X"), "{text}");
        keys.push(v["subject"]["key"].as_str().unwrap().to_string());
    }
    assert!(keys.iter().all(|k| k == &keys[0] && k.starts_with("P:")));
    let id = creditloop_domain::ids::ResidentId::parse(PERSON, chrono::NaiveDate::MAX).unwrap();
    assert_eq!(keys[0], s.pii.key_of(&id).0);

    // The portal finds the person by name and by number, showing the masked number only.
    for q in ["王五", PERSON] {
        let page = c
            .get(format!("{}/", s.base))
            .query(&[("q", q)])
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("1101**********002X"), "{q}: {page}");
        // Only the search box echoes what the caller typed; the results hold no number.
        let echoed = usize::from(q == PERSON);
        assert_eq!(page.matches(PERSON).count(), echoed, "{q}: {page}");
    }

    // Checks: the person by number, and the company through its legal representative.
    let body = json!({"subject": PERSON_15, "scenario": "government_procurement",
                      "agency": "11120000MB19674671"});
    let (status, v) = post_json(&c, format!("{}/api/v1/checks", s.base), &body).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["decision"], "prohibit", "{v}");
    assert!(!v.to_string().contains(PERSON_15));
    let receipt = v["receipt"].as_str().unwrap().to_string();
    // CJ-SX-003 restricts high consumption by a company whose legal representative is a debtor.
    let body = json!({"subject": "91110000802100433B", "scenario": "high_consumption",
                      "agency": "11120000MB19674671"});
    let (status, v) = post_json(&c, format!("{}/api/v1/checks", s.base), &body).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        v["decision"], "restrict",
        "the legal representative is a dishonest debtor: {v}"
    );
    assert!(v["measures"].to_string().contains("CJ-SX-003"), "{v}");
    let stored = s.store.check_receipt(&receipt).unwrap().expect("stored");
    assert_eq!(stored.subject_query, "110*********002", "{stored:?}");
    drop(stored);

    // The unmasked read answers the number and is in the audit log first.
    let r = c
        .get(format!("{}/api/v1/subjects/{PERSON_15}/identity", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["resident_id"], PERSON);
    assert_eq!(v["subject_key"], keys[0].as_str());
    let log: Value = c
        .get(format!("{}/api/v1/audit/entries?limit=1000", s.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let reads: Vec<&Value> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["entry"])
        .filter(|e| e["action"] == "unmasked_read")
        .collect();
    assert_eq!(reads.len(), 1, "{log}");
    assert_eq!(reads[0]["subject"], keys[0].as_str());
    // A company has no resident number to reveal.
    let r = c
        .get(format!(
            "{}/api/v1/subjects/91110000802100433B/identity",
            s.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    // Neither the number nor its legacy form is anywhere in the files at rest.
    let at_rest = files_at_rest(dir.path());
    assert!(at_rest.contains("1101**********002X"), "masked form kept");
    for n in [PERSON, PERSON_15] {
        assert!(!at_rest.contains(n), "{n} in clear at rest");
    }
    let _ = &s.audit;
}
