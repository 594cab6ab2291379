//! The agency workbench (部门工作台): submit records by form or file and see the row error report,
//! run a credit check and give feedback, and see the agency's own submissions and checks with their
//! timeliness.
//!
//! Every page needs an authenticated caller ([`Required`]): a logged-in user, or anyone under open
//! access. A user of an agency works as that agency, whatever the field says; only a caller of no
//! agency (the credit office administrator, open access) chooses one with the field
//! (报送单位统一社会信用代码) that every workbench link and form carries. What the caller may do is
//! asked of the access rules as in the API. Submissions and checks go through the same
//! functions as the API (`intake::submit_json` / `submit_file`, `check_api::run_check`,
//! `check_api::give_feedback`), so they are validated, stored and audited the same way.

use axum::body::Bytes;
use axum::extract::{Multipart, Path, RawQuery, State};
use axum::http::header;
use axum::response::IntoResponse;
use maud::{Markup, html};
use serde_json::{Map, Value, json};
use std::sync::Arc;

use creditloop_domain::calendar::WorkingCalendar;
use creditloop_domain::catalogue::ScenarioRegistry;
use creditloop_domain::feedback::{FeedbackOutcome, overdue_cutoff};
use creditloop_domain::ids;
use creditloop_domain::record::{Category, PenaltyKind};
use creditloop_store::CheckQuery;

use super::{Nav, PageResult, decision_zh, field, form_pairs, layout, scenario_zh, see_other};
use crate::api::SubmitQuery;
use crate::auth::{Required, permit};
use crate::check_api::{FeedbackRequest, give_feedback, run_check};
use crate::checks::CheckRequest;
use crate::csrf::FormToken;
use crate::error::ApiError;
use crate::{AppState, intake, mask};
use creditloop_domain::access::Act;

/// The agency of the workbench: the caller's own; only a caller of no agency (the credit office,
/// open access) names one with the field. `None` when there is neither.
fn agency_of(auth: &Required, pairs: &[(String, String)]) -> Option<String> {
    auth.0
        .agency
        .clone()
        .or_else(|| field(pairs, "agency").map(ids::normalize))
}

/// Checks the agency code (its check character) and finds its name in the agencies table.
fn checked_agency(state: &AppState, code: Option<&str>) -> Result<(String, String), ApiError> {
    let Some(code) = code else {
        return Err(ApiError::bad_request(
            "请填写报送单位统一社会信用代码",
            "the agency code is required",
        ));
    };
    let a = intake::agency_ref(&*state.store, code)
        .map_err(|(zh, en)| ApiError::bad_request(zh, en))?;
    Ok((a.code, a.name))
}

fn q(agency: &str) -> String {
    format!("agency={}", urlencoding::encode(agency))
}

/// The stand-in agency field, marked as such.
fn agency_input(agency: &str) -> Markup {
    html! {
        div.field {
            label for="agency" { "报送单位统一社会信用代码" }
            input #agency name="agency" value=(agency) required autocomplete="off" aria-describedby="agency-note" maxlength="18";
            span #agency-note .muted { "（部门用户以登录账号所属单位为准；本字段仅供信用办选择单位）" }
        }
    }
}

fn agency_bar(agency: &str, name: &str, auth: &Required, token: &FormToken) -> Markup {
    html! {
        @if token.0.is_some() {
            div.actions {
                span { "当前用户：" strong { (auth.0.user_id) } "（" (auth.0.role.zh()) "）" }
                (super::login::logout_form(token))
            }
        }
        p.notice {
            "当前单位：" strong { (name) } " (" (agency) ")"
            " · " a href={ "/workbench?" (q(agency)) } { "更换单位" }
        }
        nav aria-label="工作台" {
            div.actions {
                a href={ "/workbench/submit?" (q(agency)) } { "信息报送" }
                a href={ "/workbench/submissions?" (q(agency)) } { "报送记录" }
                a href={ "/workbench/check?" (q(agency)) } { "信用查询" }
                a href={ "/workbench/checks?" (q(agency)) } { "查询与反馈记录" }
            }
        }
    }
}

/// The agency form alone, for pages opened without one.
fn choose_agency(action: &str, agency: &str, error: Option<String>) -> Markup {
    html! {
        @if let Some(e) = error { p.error role="alert" { (e) } }
        form method="get" action=(action) {
            (agency_input(agency))
            button type="submit" { "进入" }
        }
    }
}

/// Resolves the agency of a GET page, or renders the chooser.
async fn page_agency(
    state: &AppState,
    auth: &Required,
    raw: Option<String>,
    action: &str,
    title: &str,
) -> Result<Result<(String, String, Vec<(String, String)>), axum::response::Response>, ApiError> {
    let pairs = form_pairs(raw.as_deref().unwrap_or("").as_bytes());
    let code = agency_of(auth, &pairs);
    let st = state.clone();
    let c = code.clone();
    let checked = tokio::task::spawn_blocking(move || checked_agency(&st, c.as_deref())).await?;
    match checked {
        Ok((code, name)) => Ok(Ok((code, name, pairs))),
        Err(e) => {
            let msg = code.is_some().then(|| e.status_zh().1);
            let body = html! {
                h1 { (title) }
                (choose_agency(action, code.as_deref().unwrap_or(""), msg))
            };
            Ok(Err(layout(title, Nav::Workbench, body).into_response()))
        }
    }
}

/// `GET /workbench`: choose the agency; links to the workbench's pages.
pub async fn home(
    State(state): State<Arc<AppState>>,
    auth: Required,
    token: FormToken,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let (code, name, _) = match page_agency(&state, &auth, raw, "/workbench", "部门工作台").await?
    {
        Ok(a) => a,
        Err(page) => return Ok(page),
    };
    let body = html! {
        h1 { "部门工作台" }
        (agency_bar(&code, &name, &auth, &token))
        section {
            h2 { "常用功能" }
            ul {
                li { a href={ "/workbench/submit?" (q(&code)) } { "信息报送" } "：单条录入行政处罚，或上传 CSV/XLSX 文件批量报送，查看并下载错误报告。" }
                li { a href={ "/workbench/check?" (q(&code)) } { "事前信用查询" } "：办理业务前查询主体信用，按联合奖惩措施目录给出办理建议，并反馈办理结果。" }
                li { a href={ "/workbench/submissions?" (q(&code)) } { "报送记录" } "：本单位的报送批次及其及时性。" }
                li { a href={ "/workbench/checks?" (q(&code)) } { "查询与反馈记录" } "：本单位的查询、反馈状态和逾期未反馈的查询。" }
            }
        }
    };
    Ok(layout("部门工作台", Nav::Workbench, body).into_response())
}

/// The single-penalty form: (form name, 双公示 field, label, input type, required).
const PENALTY_FIELDS: [(&str, &str, &str, &str, bool); 14] = [
    (
        "subject_name",
        "行政相对人名称",
        "行政相对人名称",
        "text",
        true,
    ),
    (
        "uscc",
        "行政相对人代码_1(统一社会信用代码)",
        "统一社会信用代码",
        "text",
        true,
    ),
    (
        "legal_rep",
        "法定代表人",
        "法定代表人（负责人）",
        "text",
        true,
    ),
    (
        "doc_no",
        "行政处罚决定书文号",
        "行政处罚决定书文号",
        "text",
        true,
    ),
    (
        "violation_type",
        "违法行为类型",
        "违法行为类型",
        "text",
        true,
    ),
    ("violation_facts", "违法事实", "违法事实", "textarea", true),
    ("legal_basis", "处罚依据", "处罚依据", "text", true),
    ("content", "处罚内容", "处罚内容", "text", true),
    (
        "fine",
        "罚款金额（万元）",
        "罚款金额（万元）",
        "number",
        false,
    ),
    ("decided", "处罚决定日期", "处罚决定日期", "date", true),
    ("valid_until", "处罚有效期", "处罚有效期", "date", true),
    ("authority", "处罚机关", "处罚机关", "text", true),
    (
        "authority_code",
        "处罚机关统一社会信用代码",
        "处罚机关统一社会信用代码",
        "text",
        true,
    ),
    ("remarks", "备注", "备注", "text", false),
];

const COUNTERPARTS: [&str; 3] = ["法人及非法人组织", "个体工商户", "自然人"];

/// `GET /workbench/submit`: the single-penalty form and the file upload.
pub async fn submit_page(
    State(state): State<Arc<AppState>>,
    auth: Required,
    token: FormToken,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let (code, name, _) =
        match page_agency(&state, &auth, raw, "/workbench/submit", "信息报送").await? {
            Ok(a) => a,
            Err(page) => return Ok(page),
        };
    let body = html! {
        h1 { "信息报送" }
        (agency_bar(&code, &name, &auth, &token))
        section aria-labelledby="upload" {
            h2 #upload { "文件上传（批量报送）" }
            p.muted { "支持 CSV（UTF-8 或 GBK）和 XLSX，列名采用双公示数据标准的中文字段名。每行单独校验：合格的行入库，不合格的行连同行号、字段和原因列入错误报告，可下载修改后重新上传；重复提交不会重复入库。" }
            form method="post" action=(token.action("/workbench/submit/file")) enctype="multipart/form-data" {
                input type="hidden" name="agency" value=(code);
                div.grid {
                    div.field {
                        label for="file" { "数据文件" }
                        input #file type="file" name="file" required accept=".csv,.xlsx,.jsonl,.json,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
                    }
                    div.field {
                        label for="category" { "信息类别" }
                        select #category name="category" {
                            option value="" { "按文件中的“信息类别”列" }
                            @for c in Category::ALL { option value=(c.code()) { (c.zh()) } }
                        }
                    }
                }
                button type="submit" { "上传并校验" }
            }
        }
        section aria-labelledby="single" {
            h2 #single { "单条录入（行政处罚）" }
            form method="post" action="/workbench/submit/form" {
                (token.field())
                input type="hidden" name="agency" value=(code);
                div.grid {
                    div.field {
                        label for="f-counterpart" { "行政相对人类别" }
                        select #f-counterpart name="counterpart" {
                            @for c in COUNTERPARTS { option value=(c) { (c) } }
                        }
                    }
                    div.field {
                        label for="f-kind" { "处罚类别" }
                        select #f-kind name="kind" {
                            @for k in PenaltyKind::ALL { option value=(k.zh()) selected[k == PenaltyKind::Fine] { (k.zh()) } }
                        }
                    }
                    @for (n, _, label, ty, required) in PENALTY_FIELDS {
                        div.field {
                            label for={ "f-" (n) } { (label) @if required { " " span aria-hidden="true" { "*" } } }
                            @if ty == "textarea" {
                                textarea id={ "f-" (n) } name=(n) required[required] {}
                            } @else {
                                input id={ "f-" (n) } type=(ty) name=(n) required[required] step=[(ty == "number").then_some("0.0001")];
                            }
                        }
                    }
                }
                p.muted { "* 为必填项。数据来源单位为当前单位。" }
                button type="submit" { "提交" }
            }
        }
    };
    Ok(layout("信息报送", Nav::Workbench, body).into_response())
}

/// `POST /workbench/submit/form`: one penalty, as the API's JSON submission.
pub async fn submit_form(
    State(state): State<Arc<AppState>>,
    auth: Required,
    token: FormToken,
    body: Bytes,
) -> PageResult {
    let pairs = form_pairs(&body);
    let agency = agency_of(&auth, &pairs);
    let mut rec = Map::new();
    for (n, zh, ..) in PENALTY_FIELDS {
        if let Some(v) = field(&pairs, n) {
            rec.insert(zh.to_string(), json!(v));
        }
    }
    if let Some(v) = field(&pairs, "counterpart") {
        rec.insert("行政相对人类别".into(), json!(v));
    }
    if let Some(v) = field(&pairs, "kind") {
        rec.insert("处罚类别".into(), json!(v));
    }
    let value = Value::Object(rec);
    let bytes = serde_json::to_vec(&value).map_err(|e| ApiError::Internal(e.to_string()))?;
    let st = state.clone();
    let by = auth.0.clone();
    let report = tokio::task::spawn_blocking(move || {
        let (code, name) = checked_agency(&st, agency.as_deref())?;
        permit(Some(&by), &Act::SubmitRecords { agency: &code })?;
        let r = intake::submit_json(
            &st,
            &by,
            value,
            Some(Category::Penalty),
            Some(code.clone()),
            false,
            &bytes,
        )?;
        Ok::<_, ApiError>((code, name, r))
    })
    .await??;
    Ok(result_page(
        &report.0,
        &report.1,
        "单条录入",
        &report.2,
        &auth,
        &token,
    ))
}

/// `POST /workbench/submit/file`: a file, as the API's upload.
pub async fn submit_file(
    State(state): State<Arc<AppState>>,
    auth: Required,
    token: FormToken,
    mut mp: Multipart,
) -> PageResult {
    let bad = |e: axum::extract::multipart::MultipartError| crate::extract::multipart_error(&e);
    let (mut agency, mut category, mut file) = (None, None, None);
    while let Some(f) = mp.next_field().await.map_err(bad)? {
        match f.name() {
            Some("agency") => agency = Some(f.text().await.map_err(bad)?),
            Some("category") => category = Some(f.text().await.map_err(bad)?),
            Some("file") => {
                let name = f.file_name().unwrap_or("upload.csv").to_string();
                let data = f.bytes().await.map_err(bad)?;
                file = Some((name, data));
            }
            _ => {}
        }
    }
    let Some((name, data)) = file.filter(|(_, d)| !d.is_empty()) else {
        return Err(ApiError::bad_request("请选择要上传的文件", "no file was uploaded").into());
    };
    let category = match category.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => Some(Category::parse(c).ok_or_else(|| {
            ApiError::bad_request(
                format!("未知的信息类别“{c}”"),
                format!("unknown category `{c}`"),
            )
        })?),
    };
    let agency = auth
        .0
        .agency
        .clone()
        .or_else(|| agency.map(|a| ids::normalize(&a)).filter(|a| !a.is_empty()));
    let by = auth.0.clone();
    let st = state.clone();
    let file_name = name.clone();
    let report = tokio::task::spawn_blocking(move || {
        let (code, agency_name) = checked_agency(&st, agency.as_deref())?;
        permit(Some(&by), &Act::SubmitRecords { agency: &code })?;
        let q = SubmitQuery {
            category: None,
            agency: Some(code.clone()),
            encoding: None,
            sheet: None,
            all_or_nothing: false,
        };
        let r = intake::submit_file(&st, &by, &file_name, &data, category, &q)?;
        Ok::<_, ApiError>((code, agency_name, r))
    })
    .await??;
    Ok(result_page(
        &report.0, &report.1, &name, &report.2, &auth, &token,
    ))
}

fn count(v: &Value, k: &str) -> u64 {
    v.get(k).and_then(Value::as_u64).unwrap_or(0)
}

/// The report of a submission: counts, the rejected rows with row, field, value and reason, and
/// the rejects CSV of each batch.
fn result_page(
    agency: &str,
    agency_name: &str,
    source: &str,
    r: &Value,
    auth: &Required,
    token: &FormToken,
) -> axum::response::Response {
    let rejected = count(r, "rejected");
    let batches: Vec<&str> = r
        .get("batches")
        .and_then(Value::as_array)
        .map(|b| b.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let rejects = r
        .get("rejects")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let body = html! {
        h1 { "报送结果" }
        (agency_bar(agency, agency_name, auth, token))
        p { "来源：" (source) }
        @if rejected == 0 {
            p.ok-box role="status" #outcome { "校验通过：全部数据已接收。" }
        } @else {
            p.error role="alert" #outcome { "有 " (rejected) " 行未通过校验，未予入库。请根据下表修改后重新报送。" }
        }
        dl.counts {
            div { dt { "接收" } dd #n-accepted { (count(r, "accepted")) } }
            div { dt { "其中新版本" } dd { (count(r, "new_versions")) } }
            div { dt { "重复" } dd #n-duplicates { (count(r, "duplicates")) } }
            div { dt { "拒收" } dd #n-rejected { (rejected) } }
            div { dt { "逾期报送" } dd #n-late { (count(r, "late")) } }
        }
        @if count(r, "late") > 0 {
            p.notice { "逾期报送：决定日期后超过 7 个工作日报送的记录已接收，并计入本单位报送及时性考核。" }
        }
        @if rejected > 0 {
            section aria-labelledby="rejects" {
                h2 #rejects { "错误报告" }
                @if rejects.len() < rejected as usize { p.muted { "页面显示前 " (rejects.len()) " 行，完整错误报告请下载。" } }
                table.fold #reject-table {
                    thead { tr { th scope="col" { "行号" } th scope="col" { "字段" } th scope="col" { "值" } th scope="col" { "原因" } } }
                    tbody {
                        @for row in &rejects {
                            @for e in row.get("errors").and_then(Value::as_array).cloned().unwrap_or_default() {
                                tr {
                                    td.num data-label="行号" { (e.get("row").and_then(Value::as_u64).unwrap_or(0)) }
                                    td data-label="字段" { (e.get("field").and_then(Value::as_str).unwrap_or("")) }
                                    td data-label="值" { (e.get("value").and_then(Value::as_str).unwrap_or("")) }
                                    td data-label="原因" { (e.get("reason_zh").and_then(Value::as_str).unwrap_or("")) }
                                }
                            }
                        }
                    }
                }
                div.actions {
                    @for b in &batches {
                        a.button.secondary href={ "/workbench/batches/" (urlencoding::encode(b)) "/rejects.csv" } download { "下载错误报告（CSV）" @if batches.len() > 1 { " · " (b) } }
                    }
                }
                p.muted { "下载的 CSV 保留原始列并附错误原因，修改后可直接重新上传。" }
            }
        }
        div.actions {
            a.button href={ "/workbench/submit?" (q(agency)) } { "继续报送" }
            a href={ "/workbench/submissions?" (q(agency)) } { "查看报送记录" }
        }
    };
    layout("报送结果", Nav::Workbench, body).into_response()
}

/// `GET /workbench/batches/{id}/rejects.csv`: the rejected rows of a batch, to correct and send
/// again (the same CSV as the API's `Accept: text/csv`).
pub async fn rejects_csv(
    State(state): State<Arc<AppState>>,
    auth: Required,
    Path(id): Path<String>,
) -> PageResult {
    let store = state.store.clone();
    let i = id.clone();
    let by = auth.0.clone();
    let rows = tokio::task::spawn_blocking(move || {
        let owner = store.batch(&i)?.and_then(|b| b.agency);
        permit(
            Some(&by),
            &Act::ReadBatch {
                owner: owner.as_deref(),
            },
        )?;
        Ok::<_, ApiError>(store.rejects(&i)?)
    })
    .await??;
    let csv = intake::rejects_csv(&rows)?;
    let safe: String = id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"rejects-{safe}.csv\""),
            ),
        ],
        csv,
    )
        .into_response())
}

/// `GET /workbench/submissions`: the agency's batches with their timeliness.
pub async fn submissions(
    State(state): State<Arc<AppState>>,
    auth: Required,
    token: FormToken,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let (code, name, _) =
        match page_agency(&state, &auth, raw, "/workbench/submissions", "报送记录").await? {
            Ok(a) => a,
            Err(page) => return Ok(page),
        };
    auth.permit(&Act::ListBatches {
        agency: Some(&code),
    })?;
    let store = state.store.clone();
    let c = code.clone();
    let batches = tokio::task::spawn_blocking(move || store.batches_of(&c, 200)).await??;
    let accepted: u64 = batches.iter().map(|b| b.counts.accepted).sum();
    let late: u64 = batches.iter().map(|b| b.counts.late).sum();
    let rejected: u64 = batches.iter().map(|b| b.counts.rejected).sum();
    let body = html! {
        h1 { "报送记录" }
        (agency_bar(&code, &name, &auth, &token))
        dl.counts {
            div { dt { "批次" } dd { (batches.len()) } }
            div { dt { "接收记录" } dd { (accepted) } }
            div { dt { "逾期报送" } dd { (late) } }
            div { dt { "按时率" } dd { @if accepted == 0 { "—" } @else { (format!("{:.1}%", 100.0 * (accepted - late.min(accepted)) as f64 / accepted as f64)) } } }
            div { dt { "拒收行" } dd { (rejected) } }
        }
        @if batches.is_empty() { p { "本单位尚无报送记录。" } }
        @else {
            table.fold {
                thead { tr {
                    th scope="col" { "接收时间" } th scope="col" { "来源" } th scope="col" { "接收" } th scope="col" { "新版本" }
                    th scope="col" { "重复" } th scope="col" { "拒收" } th scope="col" { "逾期" } th scope="col" { "错误报告" }
                } }
                tbody {
                    @for b in &batches {
                        tr {
                            td.date data-label="接收时间" { ((b.received_at + chrono::Duration::hours(8)).format("%Y-%m-%d %H:%M")) }
                            td data-label="来源" { (b.source) }
                            td.num data-label="接收" { (b.counts.accepted) }
                            td.num data-label="新版本" { (b.counts.new_versions) }
                            td.num data-label="重复" { (b.counts.duplicates) }
                            td.num data-label="拒收" { (b.counts.rejected) }
                            td.num data-label="逾期" class=[(b.counts.late > 0).then_some("neg")] { (b.counts.late) }
                            td data-label="错误报告" {
                                @if b.counts.rejected > 0 {
                                    a href={ "/workbench/batches/" (urlencoding::encode(&b.id)) "/rejects.csv" } { "下载 CSV" }
                                } @else { "—" }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(layout("报送记录", Nav::Workbench, body).into_response())
}

/// `GET /workbench/check`: the credit check form.
pub async fn check_page(
    State(state): State<Arc<AppState>>,
    auth: Required,
    token: FormToken,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let (code, name, pairs) =
        match page_agency(&state, &auth, raw, "/workbench/check", "事前信用查询").await? {
            Ok(a) => a,
            Err(page) => return Ok(page),
        };
    let subject = field(&pairs, "subject").unwrap_or("");
    let body = html! {
        h1 { "事前信用查询" }
        (agency_bar(&code, &name, &auth, &token))
        form method="post" action="/workbench/check" {
            (token.field())
            input type="hidden" name="agency" value=(code);
            div.grid {
                div.field {
                    label for="subject" { "查询主体（统一社会信用代码、身份证号码或准确名称）" }
                    input #subject name="subject" required value=(subject) autocomplete="off";
                }
                div.field {
                    label for="scenario" { "应用场景" }
                    select #scenario name="scenario" required {
                        @for s in ScenarioRegistry::builtin().entries() { option value=(s.code) { (s.zh) } }
                    }
                }
                div.field {
                    label for="case_ref" { "办件编号（选填）" }
                    input #case_ref name="case_ref" autocomplete="off";
                }
            }
            button type="submit" { "查询" }
        }
        p.muted { "每次查询生成查询回执并记入审计日志；办理完毕后请在结果页反馈办理结果。" }
    };
    Ok(layout("事前信用查询", Nav::Workbench, body).into_response())
}

/// `POST /workbench/check`: runs the check as the API does, then shows its receipt.
pub async fn check_run(
    State(state): State<Arc<AppState>>,
    auth: Required,
    body: Bytes,
) -> PageResult {
    let pairs = form_pairs(&body);
    let agency = agency_of(&auth, &pairs);
    let st = state.clone();
    let a = agency.clone();
    let (code, _) =
        tokio::task::spawn_blocking(move || checked_agency(&st, a.as_deref())).await??;
    let req = CheckRequest {
        subject: field(&pairs, "subject").unwrap_or("").to_string(),
        scenario: field(&pairs, "scenario").unwrap_or("").to_string(),
        agency: Some(code.clone()),
        case_ref: field(&pairs, "case_ref").map(str::to_string),
    };
    if req.subject.is_empty() {
        return Err(ApiError::bad_request("请填写查询主体", "the subject is required").into());
    }
    auth.permit(&Act::RunCheck { agency: &code })?;
    let answer = run_check(&state, &req, auth.actor()).await?;
    let receipt = answer
        .get("receipt")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::Internal("check answer without receipt".into()))?;
    Ok(see_other(&format!(
        "/workbench/checks/{}?{}",
        urlencoding::encode(receipt),
        q(&code)
    )))
}

/// `GET /workbench/checks/{id}`: the check's decision, measures and receipt; the feedback form, or
/// the feedback given.
pub async fn check_result(
    State(state): State<Arc<AppState>>,
    auth: Required,
    token: FormToken,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let pairs = form_pairs(raw.as_deref().unwrap_or("").as_bytes());
    let agency = agency_of(&auth, &pairs).unwrap_or_default();
    let store = state.store.clone();
    let i = id.clone();
    let found = tokio::task::spawn_blocking(move || store.check_receipt(&i)).await??;
    let Some(c) = found else {
        return Err(ApiError::not_found(
            format!("未找到回执编号为“{id}”的查询"),
            format!("no check with receipt `{id}`"),
        )
        .into());
    };
    auth.permit(&Act::ReadCheck {
        owner: c.agency.as_deref(),
    })?;
    let agency = if agency.is_empty() {
        c.agency.clone().unwrap_or_default()
    } else {
        agency
    };
    let mut answer: Value = serde_json::from_str(&c.answer).unwrap_or(Value::Null);
    mask::mask_json(&mut answer);
    let measures = answer
        .get("measures")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let disregarded = answer
        .get("disregarded")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    let summary = answer
        .get("summary_zh")
        .and_then(Value::as_str)
        .unwrap_or("");
    let decision_class = match c.decision.as_str() {
        "prohibit" | "restrict" => "neg",
        "priority" => "pos",
        _ => "",
    };
    let body = html! {
        h1 { "查询结果" }
        @if !agency.is_empty() {
            p.actions.noprint {
                a href={ "/workbench/check?" (q(&agency)) } { "再查一个" }
                a href={ "/workbench/checks?" (q(&agency)) } { "查询与反馈记录" }
            }
        }
        section aria-labelledby="decision" {
            h2 #decision { "办理建议：" span class=(decision_class) #decision-value { (decision_zh(&c.decision)) } }
            p { (summary) }
            table {
                tbody {
                    tr { th scope="row" { "查询回执编号" } td #receipt { (c.id) } }
                    tr { th scope="row" { "查询时间" } td { ((c.at + chrono::Duration::hours(8)).format("%Y-%m-%d %H:%M:%S")) } }
                    tr { th scope="row" { "查询主体" } td { (mask::mask_query(&c.subject_query))
                        @if let Some(k) = &c.subject_key { " → " (mask::mask_key(k)) } @else { "（查无此主体）" } } }
                    tr { th scope="row" { "应用场景" } td { (scenario_zh(&c.scenario)) } }
                    @if let Some(r) = &c.case_ref { tr { th scope="row" { "办件编号" } td { (r) } } }
                    tr { th scope="row" { "措施目录版本" } td { (c.catalogue_version) } }
                    tr { th scope="row" { "数据版本" } td { (c.data_version) } }
                }
            }
        }
        section aria-labelledby="measures" {
            h2 #measures { "适用的奖惩措施（" (measures.len()) "）" }
            @if measures.is_empty() { p { "无适用的奖惩措施。" } }
            @else {
                table.fold {
                    thead { tr { th scope="col" { "措施编码" } th scope="col" { "类型" } th scope="col" { "措施内容" } th scope="col" { "实施部门" } th scope="col" { "法律依据" } th scope="col" { "触发原因" } } }
                    tbody {
                        @for m in &measures {
                            @let s = |k: &str| m.get(k).and_then(Value::as_str).unwrap_or("").to_string();
                            @let basis = m.get("legal_basis");
                            tr {
                                td data-label="措施编码" { (s("code")) }
                                td data-label="类型" { @if s("kind") == "incentive" { span.pos { "激励" } } @else { span.neg { "惩戒" } } }
                                td data-label="措施内容" { (s("content")) }
                                td data-label="实施部门" { (s("implementing_agency")) }
                                td data-label="法律依据" {
                                    (basis.and_then(|b| b.get("document")).and_then(Value::as_str).unwrap_or(""))
                                    " " (basis.and_then(|b| b.get("article")).and_then(Value::as_str).unwrap_or(""))
                                }
                                td data-label="触发原因" { (s("explanation")) }
                            }
                        }
                    }
                }
            }
            @if disregarded > 0 { p.muted { "另有 " (disregarded) " 条记录因异议处理中、已修复、已过期或不在适用期内未予考虑。" } }
        }
        section aria-labelledby="feedback" #feedback-section {
            h2 #feedback { "办理结果反馈" }
            @if let Some(fb) = &c.feedback {
                p.ok-box role="status" #feedback-status {
                    "已反馈：" strong { (fb.outcome.zh()) }
                    @if !fb.measures.is_empty() { "；实施措施：" (fb.measures.join("、")) }
                    @if let Some(n) = &fb.note { "；说明：" (n) }
                    "（" ((fb.at + chrono::Duration::hours(8)).format("%Y-%m-%d %H:%M")) "）"
                }
            } @else {
                form method="post" action={ "/workbench/checks/" (urlencoding::encode(&c.id)) "/feedback" } {
                    (token.field())
                    input type="hidden" name="agency" value=(agency);
                    div.field {
                        label for="outcome" { "办理结果" }
                        select #outcome name="outcome" required {
                            @for o in FeedbackOutcome::ALL {
                                option value=(o.code()) selected[o.code() == c.decision || (o == FeedbackOutcome::Refused && c.decision == "prohibit")] { (o.zh()) }
                            }
                        }
                    }
                    @if !c.measures.is_empty() {
                        fieldset {
                            legend { "已实施的措施" }
                            @for (i, m) in c.measures.iter().enumerate() {
                                div {
                                    input type="checkbox" id={ "m" (i) } name="measures" value=(m);
                                    " "
                                    label for={ "m" (i) } { (m) }
                                }
                            }
                        }
                    }
                    div.field {
                        label for="note" { "说明（选填）" }
                        textarea #note name="note" maxlength="2000" {}
                    }
                    button type="submit" { "提交反馈" }
                }
            }
        }
    };
    Ok(layout("查询结果", Nav::Workbench, body).into_response())
}

/// `POST /workbench/checks/{id}/feedback`: stores the feedback as the API does, then shows the check.
pub async fn check_feedback(
    State(state): State<Arc<AppState>>,
    auth: Required,
    Path(id): Path<String>,
    body: Bytes,
) -> PageResult {
    let pairs = form_pairs(&body);
    let agency = agency_of(&auth, &pairs);
    let req = FeedbackRequest {
        outcome: field(&pairs, "outcome").unwrap_or("").to_string(),
        measures: pairs
            .iter()
            .filter(|(k, v)| k == "measures" && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_string())
            .collect(),
        note: field(&pairs, "note").map(str::to_string),
        agency: agency.clone(),
    };
    give_feedback(&state, &auth.0, id.clone(), req).await?;
    let mut to = format!("/workbench/checks/{}", urlencoding::encode(&id));
    if let Some(a) = agency {
        to.push('?');
        to.push_str(&q(&a));
    }
    Ok(see_other(&to))
}

/// `GET /workbench/checks`: the agency's checks with their feedback and overdue marks.
pub async fn checks_list(
    State(state): State<Arc<AppState>>,
    auth: Required,
    token: FormToken,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let (code, name, _) =
        match page_agency(&state, &auth, raw, "/workbench/checks", "查询与反馈记录").await? {
            Ok(a) => a,
            Err(page) => return Ok(page),
        };
    auth.permit(&Act::ListChecks {
        agency: Some(&code),
    })?;
    let today = state.today();
    let days = state.feedback_working_days;
    let cutoff = overdue_cutoff(WorkingCalendar::builtin(), today, days);
    let store = state.store.clone();
    let query = CheckQuery {
        agency: Some(code.clone()),
        without_feedback: false,
        on_or_before: None,
        oldest_first: false,
        limit: 200,
    };
    let rows = tokio::task::spawn_blocking(move || store.checks(&query)).await??;
    let open = rows.iter().filter(|c| c.feedback.is_none()).count();
    let overdue = rows
        .iter()
        .filter(|c| c.feedback.is_none() && c.checked_on <= cutoff)
        .count();
    let body = html! {
        h1 { "查询与反馈记录" }
        (agency_bar(&code, &name, &auth, &token))
        dl.counts {
            div { dt { "查询" } dd { (rows.len()) } }
            div { dt { "待反馈" } dd { (open) } }
            div { dt { "逾期未反馈" } dd class=[(overdue > 0).then_some("neg")] { (overdue) } }
        }
        p.muted { "查询后 " (days) " 个工作日内应反馈办理结果；" (cutoff) " 及以前的查询未反馈即为逾期。" }
        @if rows.is_empty() { p { "本单位尚无查询记录。" } }
        @else {
            table.fold {
                thead { tr {
                    th scope="col" { "回执编号" } th scope="col" { "查询日期" } th scope="col" { "主体" }
                    th scope="col" { "场景" } th scope="col" { "办理建议" } th scope="col" { "反馈" }
                } }
                tbody {
                    @for c in &rows {
                        tr {
                            td data-label="回执编号" { a href={ "/workbench/checks/" (urlencoding::encode(&c.id)) "?" (q(&code)) } { (c.id) } }
                            td.date data-label="查询日期" { (c.checked_on) }
                            td data-label="主体" { (mask::mask_query(&c.subject_query)) }
                            td data-label="场景" { (scenario_zh(&c.scenario)) }
                            td data-label="办理建议" { (decision_zh(&c.decision)) }
                            td data-label="反馈" {
                                @match &c.feedback {
                                    Some(fb) => span.pos { "已反馈：" (fb.outcome.zh()) },
                                    None if c.checked_on <= cutoff => span.neg { "逾期未反馈" },
                                    None => span { "待反馈" },
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(layout("查询与反馈记录", Nav::Workbench, body).into_response())
}
