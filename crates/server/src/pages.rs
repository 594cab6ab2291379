//! Server-rendered pages in Chinese (zh-CN). Plain HTML forms that work without JavaScript; the
//! portal issue grows these into the full public portal and the agency workbench.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};
use serde::Deserialize;

use creditloop_domain::record::{Detail, Nature};
use creditloop_store::{StoredRecord, SubjectSummary};

use crate::api::{resolve, search};
use crate::error::ApiError;
use crate::{AppState, mask};

const STYLE: &str = r#"
*{box-sizing:border-box}body{font-family:"PingFang SC","Microsoft YaHei","Noto Sans CJK SC",sans-serif;margin:0;color:#1f2328;background:#f6f8fa;line-height:1.6}
header{background:#b3261e;color:#fff;padding:.8rem 1rem}header a{color:#fff;text-decoration:none;font-weight:600;font-size:1.2rem}
main{max-width:70rem;margin:0 auto;padding:1rem}form.search{display:flex;gap:.5rem;flex-wrap:wrap}
form.search input{flex:1 1 16rem;padding:.6rem;font-size:1rem;border:1px solid #8c959f;border-radius:4px}
button{padding:.6rem 1.2rem;font-size:1rem;background:#b3261e;color:#fff;border:0;border-radius:4px;cursor:pointer}
button:focus,input:focus,a:focus{outline:3px solid #0969da;outline-offset:2px}
table{width:100%;border-collapse:collapse;background:#fff;margin:.5rem 0}th,td{border:1px solid #d0d7de;padding:.4rem .5rem;text-align:left;vertical-align:top}
th{background:#eaeef2}td.date{white-space:nowrap}.neg{color:#a40e26;font-weight:600}.pos{color:#116329;font-weight:600}.muted{color:#57606a}
section{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:1rem;margin:1rem 0}
@media (max-width:40rem){table,thead,tbody,tr,th,td{display:block}thead{display:none}td{border:0;border-bottom:1px solid #d0d7de}}
"#;

fn layout(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " - 信用联合奖惩监管平台" }
                style { (maud::PreEscaped(STYLE)) }
            }
            body {
                header { a href="/" { "信用联合奖惩监管平台" } }
                main { (body) }
            }
        }
    }
}

fn search_form(q: &str) -> Markup {
    html! {
        form.search method="get" action="/" role="search" {
            label for="q" { "查询主体：" }
            input #q type="search" name="q" value=(q) placeholder="输入企业名称（可部分）或统一社会信用代码、身份证号码" autocomplete="off";
            button type="submit" { "查询" }
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct HomeQuery {
    pub q: Option<String>,
}

/// `GET /`: search by name or code; results listed below the form.
pub async fn home(
    State(state): State<AppState>,
    Query(q): Query<HomeQuery>,
) -> Result<Response, ApiError> {
    let query = q.q.unwrap_or_default().trim().to_string();
    let store = state.store.clone();
    let qq = query.clone();
    let (totals, found) = tokio::task::spawn_blocking(move || {
        let totals = store.totals()?;
        let found = if qq.is_empty() {
            None
        } else {
            Some(search(&*store, &qq, 50)?)
        };
        Ok::<_, creditloop_store::StoreError>((totals, found))
    })
    .await??;
    let body = html! {
        h1 { "信用信息查询" }
        (search_form(&query))
        p.muted { "平台现有主体 " (totals.subjects) " 个，信用记录 " (totals.records) " 条。" }
        @if let Some(found) = &found {
            @if found.is_empty() {
                p role="status" { "未找到与“" (query) "”相关的主体。" }
            } @else {
                p role="status" { "找到 " (found.len()) " 个主体" @if found.len() >= 50 { "（仅显示前 50 个，请输入更完整的名称）" } "：" }
                (subject_table(found))
            }
        }
    };
    Ok(layout("信用信息查询", body).into_response())
}

fn subject_table(found: &[SubjectSummary]) -> Markup {
    html! {
        table {
            thead { tr { th { "主体名称" } th { "代码" } th { "类型" } } }
            tbody {
                @for s in found {
                    tr {
                        td {
                            @if s.key.as_str().starts_with("P:") {
                                // Natural persons are reached only by their full number, never by link.
                                (s.name)
                            } @else {
                                a href={ "/subjects/" (urlencoding::encode(s.key.as_str())) } { (s.name) }
                            }
                        }
                        td { (s.codes.display_code().unwrap_or_default()) }
                        td { (s.kind.zh()) }
                    }
                }
            }
        }
    }
}

/// `GET /subjects/{key}`: basic data and the records inside their publicity window.
pub async fn subject(
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    let store = state.store.clone();
    let today = state.today();
    let k = key.clone();
    let profile = tokio::task::spawn_blocking(move || match resolve(&*store, &k)? {
        Some(k) => store.subject(&k),
        None => Ok(None),
    })
    .await??;
    let Some(p) = profile else {
        let body = html! {
            h1 { "未找到主体" }
            p { "没有代码为“" (key) "”的主体。" }
            (search_form(""))
        };
        return Ok((StatusCode::NOT_FOUND, layout("未找到主体", body)).into_response());
    };
    let (public, hidden): (Vec<&StoredRecord>, Vec<&StoredRecord>) =
        p.records.iter().partition(|r| r.record.is_public_on(today));
    let s = &p.subject;
    let body = html! {
        h1 { (s.name) }
        section aria-labelledby="basic" {
            h2 #basic { "基本信息" }
            table {
                tbody {
                    tr { th scope="row" { "主体类型" } td { (s.kind.zh()) } }
                    @if let Some(u) = &s.codes.uscc { tr { th scope="row" { "统一社会信用代码" } td { (u.as_str()) } } }
                    @if let Some(r) = &s.codes.reg_no { tr { th scope="row" { "工商注册号" } td { (r.as_str()) } } }
                    @if let Some(o) = &s.codes.org_code { tr { th scope="row" { "组织机构代码" } td { (o.as_str()) } } }
                    @if let Some(p) = &s.codes.resident_id { tr { th scope="row" { "身份证号码" } td { (p.masked()) } } }
                    @for person in &p.persons {
                        tr { th scope="row" { (person.role.zh()) } td { (person.name)
                            @if let Some(id) = &person.resident_id { " (" (mask::mask_id(id.as_str())) ")" } } }
                    }
                }
            }
        }
        section aria-labelledby="records" {
            h2 #records { "公示中的信用记录（" (public.len()) "）" }
            @if public.is_empty() { p { "暂无公示中的信用记录。" } }
            @else { (records_table(&public)) }
            @if !hidden.is_empty() {
                p.muted { "另有 " (hidden.len()) " 条记录已过公示期、已修复或处于异议处理中，不予公示。" }
            }
        }
        p {
            a href="#" aria-disabled="true" { "提出异议" } "（服务即将开通） · "
            a href="#" aria-disabled="true" { "申请信用修复" } "（服务即将开通）"
        }
    };
    Ok(layout(&s.name, body).into_response())
}

fn records_table(records: &[&StoredRecord]) -> Markup {
    html! {
        table {
            thead { tr { th { "类别" } th { "决定日期" } th { "内容" } th { "决定机关" } th { "文号" } th { "公示截止" } } }
            tbody {
                @for r in records {
                    @let rec = &r.record;
                    tr {
                        td class=(match rec.nature { Nature::Negative => "neg", Nature::Positive => "pos", Nature::Neutral => "" }) {
                            (rec.key.category.zh())
                        }
                        td.date { (rec.decision_date) }
                        td {
                            (rec.title)
                            @if let Detail::Penalty(p) = &rec.detail {
                                br; span.muted { (p.violation_type) "；依据：" (p.legal_basis) }
                            }
                        }
                        td { (rec.authority.name) }
                        td { (rec.key.doc_no) }
                        td.date { (rec.publicity_until) }
                    }
                }
            }
        }
    }
}

/// Any other path: a page in Chinese for people, problem+json for the API.
pub async fn not_found(uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/api/") {
        return ApiError::not_found(
            format!("没有这个接口：{}", uri.path()),
            format!("no such endpoint: {}", uri.path()),
        )
        .into_response();
    }
    let body = html! { h1 { "页面不存在" } p { a href="/" { "返回首页" } } };
    (StatusCode::NOT_FOUND, layout("页面不存在", body)).into_response()
}
