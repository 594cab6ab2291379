//! Server-rendered pages in Chinese (zh-CN): the public portal (信用门户), the credit report (信用报告)
//! and its verification, the agency workbench (部门工作台) and the dashboard (大屏).
//!
//! Every page is plain HTML from the server: forms are ordinary `GET`/`POST` forms that work without
//! JavaScript, charts are inline SVG, and one style sheet serves phones (tables fold into labelled
//! rows), keyboards (visible focus) and print (the report). Handlers stay thin: the store, the
//! domain and the same functions as the API do the work.

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use std::sync::Arc;

use crate::AppState;
use crate::error::ApiError;

mod dashboard;
mod login;
mod portal;
mod report;
mod workbench;

pub(crate) use login::login_redirect;

/// Every page route.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(portal::home))
        .route("/subjects/{key}", get(portal::subject))
        .route("/subjects/{key}/objection", get(portal::objection))
        .route("/subjects/{key}/repair", get(portal::repair))
        .route("/lists/red", get(portal::red_list))
        .route("/lists/black", get(portal::black_list))
        .route(
            "/subjects/{key}/report",
            get(report::confirm).post(report::issue),
        )
        .route("/reports/{number}", get(report::show))
        .route("/report/verify", get(report::verify))
        .route("/login", get(login::page).post(login::submit))
        .route("/logout", post(login::logout))
        .route("/workbench", get(workbench::home))
        .route("/workbench/submit", get(workbench::submit_page))
        .route("/workbench/submit/form", post(workbench::submit_form))
        .route("/workbench/submit/file", post(workbench::submit_file))
        .route(
            "/workbench/batches/{id}/rejects.csv",
            get(workbench::rejects_csv),
        )
        .route("/workbench/submissions", get(workbench::submissions))
        .route(
            "/workbench/check",
            get(workbench::check_page).post(workbench::check_run),
        )
        .route("/workbench/checks", get(workbench::checks_list))
        .route("/workbench/checks/{id}", get(workbench::check_result))
        .route(
            "/workbench/checks/{id}/feedback",
            post(workbench::check_feedback),
        )
        .route("/dashboard", get(dashboard::page))
}

const STYLE: &str = r#"
*{box-sizing:border-box}
body{font-family:"PingFang SC","Microsoft YaHei","Noto Sans CJK SC","Noto Sans SC",sans-serif;margin:0;color:#1f2328;background:#f6f8fa;line-height:1.6;font-size:16px}
a{color:#0550ae}a:hover{color:#033d8b}
.skip{position:absolute;left:-999px;top:0;background:#fff;color:#0550ae;padding:.5rem 1rem;z-index:10}.skip:focus{left:0}
header.site{background:#b3261e;color:#fff;padding:.6rem 1rem;display:flex;flex-wrap:wrap;align-items:center;gap:.5rem 1.5rem}
header.site .brand{color:#fff;text-decoration:none;font-weight:700;font-size:1.15rem}
nav.main ul{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:.25rem 1rem}
nav.main a{color:#fff;text-decoration:none;padding:.2rem .1rem;border-bottom:2px solid transparent}
nav.main a[aria-current=page],nav.main a:hover{border-bottom-color:#fff}
main{max-width:72rem;margin:0 auto;padding:1rem}
h1{font-size:1.5rem;margin:.5rem 0 1rem}h2{font-size:1.2rem;margin:.2rem 0 .6rem}
form.inline{display:flex;gap:.5rem;flex-wrap:wrap;align-items:flex-end}
form.inline .field{flex:1 1 14rem}
.field{display:flex;flex-direction:column;margin:0 0 .7rem}
.field label,.label{font-weight:600;margin-bottom:.2rem}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(16rem,1fr));gap:0 1rem}
input,select,textarea{font:inherit;padding:.5rem;border:1px solid #6e7781;border-radius:4px;background:#fff;color:#1f2328;max-width:100%}
textarea{min-height:4rem}
button,.button{display:inline-block;font:inherit;padding:.5rem 1.2rem;background:#b3261e;color:#fff;border:0;border-radius:4px;cursor:pointer;text-decoration:none}
button.secondary,.button.secondary{background:#fff;color:#b3261e;border:1px solid #b3261e}
:focus-visible{outline:3px solid #0969da;outline-offset:2px}
input:focus,select:focus,textarea:focus,button:focus,a:focus{outline:3px solid #0969da;outline-offset:2px}
table{width:100%;border-collapse:collapse;background:#fff;margin:.5rem 0}
th,td{border:1px solid #d0d7de;padding:.4rem .5rem;text-align:left;vertical-align:top}
th{background:#eaeef2}td.num{text-align:right;font-variant-numeric:tabular-nums}td.date{white-space:nowrap}
.neg{color:#a40e26;font-weight:600}.pos{color:#116329;font-weight:600}.muted{color:#57606a}
.badge{display:inline-block;padding:0 .5rem;border-radius:1rem;border:1px solid currentColor;font-size:.9rem}
.badge.none{color:#57606a}.badge.ok{color:#116329}.badge.warn{color:#8a4600}.badge.bad{color:#a40e26}
.notice{background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;padding:.6rem 1rem;margin:.5rem 0}
.error{background:#ffebe9;border:1px solid #cf222e;border-radius:6px;padding:.6rem 1rem;margin:.5rem 0}
.ok-box{background:#dafbe1;border:1px solid #1a7f37;border-radius:6px;padding:.6rem 1rem;margin:.5rem 0}
section{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:1rem;margin:1rem 0}
dl.counts{display:flex;flex-wrap:wrap;gap:.5rem 2rem;margin:.5rem 0}dl.counts div{min-width:6rem}dl.counts dt{color:#57606a}dl.counts dd{margin:0;font-size:1.4rem;font-weight:700}
.pager{display:flex;gap:1rem;align-items:center;margin:.5rem 0}
.actions{display:flex;flex-wrap:wrap;gap:.5rem 1rem;margin:.5rem 0}
svg text{font-family:inherit}
footer.site{max-width:72rem;margin:2rem auto;padding:0 1rem;color:#57606a;font-size:.9rem}
@media (max-width:40rem){
 table.fold,table.fold thead,table.fold tbody,table.fold tr,table.fold th,table.fold td{display:block}
 table.fold thead{position:absolute;left:-9999px}
 table.fold tr{border:1px solid #d0d7de;margin:.5rem 0;background:#fff}
 table.fold td{border:0;border-bottom:1px solid #eaeef2}
 table.fold td::before{content:attr(data-label);display:block;font-weight:600;color:#57606a;font-size:.85rem}
 main{padding:.5rem}
}
@media print{
 header.site,footer.site,.noprint,.skip{display:none!important}
 body{background:#fff;color:#000;font-size:11pt}
 main{max-width:none;padding:0}
 section{border:0;padding:0;margin:0 0 1rem}
 a{color:#000;text-decoration:none}
 table{page-break-inside:auto}tr{page-break-inside:avoid}
 th{background:#eee!important;-webkit-print-color-adjust:exact;print-color-adjust:exact}
}
"#;

/// Which part of the site a page belongs to, for the navigation's `aria-current`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Nav {
    Portal,
    RedList,
    BlackList,
    Verify,
    Workbench,
    Dashboard,
}

const NAV: [(Nav, &str, &str); 6] = [
    (Nav::Portal, "/", "信用查询"),
    (Nav::RedList, "/lists/red", "红名单"),
    (Nav::BlackList, "/lists/black", "黑名单"),
    (Nav::Verify, "/report/verify", "报告验证"),
    (Nav::Workbench, "/workbench", "部门工作台"),
    (Nav::Dashboard, "/dashboard", "数据大屏"),
];

pub(crate) fn layout(title: &str, nav: Nav, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " - 信用联合奖惩监管平台" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                a.skip href="#content" { "跳到正文" }
                header.site {
                    a.brand href="/" { "信用联合奖惩监管平台" }
                    nav.main aria-label="主导航" {
                        ul {
                            @for (n, href, label) in NAV {
                                li { a href=(href) aria-current=[(n == nav).then_some("page")] { (label) } }
                            }
                        }
                    }
                }
                main #content tabindex="-1" { (body) }
                footer.site { "信用联合奖惩监管平台 · 一处失信、处处受限 · 公示信息中的个人身份号码已作脱敏处理" }
            }
        }
    }
}

/// A page error: the status and a page in Chinese (the API answers problem+json instead).
pub(crate) struct PageError(ApiError);

impl<E: Into<ApiError>> From<E> for PageError {
    fn from(e: E) -> Self {
        PageError(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, zh) = self.0.status_zh();
        let body = html! {
            h1 { "无法完成请求" }
            p.error role="alert" { (zh) }
            @if status == StatusCode::UNAUTHORIZED {
                p { a.button href="/login" { "登录" } }
            }
            p { a href="/" { "返回首页" } " · " a href="/workbench" { "部门工作台" } }
        };
        (status, layout("出错了", Nav::Portal, body)).into_response()
    }
}

pub(crate) type PageResult = Result<Response, PageError>;

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
    (
        StatusCode::NOT_FOUND,
        layout("页面不存在", Nav::Portal, body),
    )
        .into_response()
}

/// Fields of an `application/x-www-form-urlencoded` body or query, in order; repeated names stay
/// (check boxes). Undecodable parts are kept as they are.
pub(crate) fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(body);
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let dec = |s: &str| {
                let s = s.replace('+', " ");
                urlencoding::decode(&s).map(|c| c.into_owned()).unwrap_or(s)
            };
            (dec(k), dec(v))
        })
        .collect()
}

/// The first value of a field, trimmed; `None` when absent or empty.
pub(crate) fn field<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// The path segment of a subject key in links.
pub(crate) fn subject_href(key: &str) -> String {
    format!("/subjects/{}", urlencoding::encode(key))
}

/// A 303 to `location` after a form post.
pub(crate) fn see_other(location: &str) -> Response {
    (
        StatusCode::SEE_OTHER,
        [(axum::http::header::LOCATION, location.to_string())],
    )
        .into_response()
}

/// Chinese name of a check decision code.
pub(crate) fn decision_zh(code: &str) -> &str {
    match code {
        "prohibit" => "不予办理",
        "restrict" => "限制办理",
        "strict" => "从严办理",
        "normal" => "正常办理",
        "priority" => "优先办理",
        "ambiguous" => "名称对应多个主体",
        other => other,
    }
}

/// Chinese name of a category code.
pub(crate) fn category_zh(code: &str) -> &str {
    creditloop_domain::record::Category::parse(code).map_or(code, |c| c.zh())
}

/// Chinese name of a scenario code.
pub(crate) fn scenario_zh(code: &str) -> String {
    creditloop_domain::catalogue::ScenarioRegistry::builtin()
        .entries()
        .iter()
        .find(|e| e.code == code)
        .map_or_else(|| code.to_string(), |e| e.zh.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_bodies_decode_with_repeats() {
        let p = form_pairs("a=1&m=X-1&m=X%2D2&q=%E5%A4%A9+%E6%B4%A5&empty=&flag".as_bytes());
        assert_eq!(field(&p, "a"), Some("1"));
        assert_eq!(field(&p, "q"), Some("天 津"));
        assert_eq!(field(&p, "empty"), None);
        assert_eq!(field(&p, "flag"), None);
        let m: Vec<&str> = p
            .iter()
            .filter(|(k, _)| k == "m")
            .map(|(_, v)| v.as_str())
            .collect();
        assert_eq!(m, ["X-1", "X-2"]);
    }
}
