//! The public portal (信用门户): search by code or part of a name, subject profiles with what is in
//! its publicity window, the red and black lists, and the entry points to objection and repair.

use axum::extract::{Path, Query, RawQuery, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use chrono::NaiveDate;
use maud::{Markup, html};
use serde::Deserialize;
use std::sync::Arc;

use creditloop_domain::record::{Category, Detail, Nature};
use creditloop_store::{ListMember, ListQuery, StoredRecord, SubjectSummary};

use super::{Nav, PageResult, field, form_pairs, layout, subject_href};
use crate::api::{resolve, search};
use crate::{AppState, mask};

/// Most results shown for a search.
const SEARCH_LIMIT: usize = 50;
/// Entries per page of a list.
const LIST_PAGE: usize = 20;
/// Deepest page of a list (an OFFSET beyond this is a crawl, not a person reading).
const MAX_LIST_PAGE: usize = 500;

fn search_form(q: &str) -> Markup {
    html! {
        form.inline method="get" action="/" role="search" {
            div.field {
                label for="q" { "企业名称、统一社会信用代码或身份证号码" }
                input #q type="search" name="q" value=(q) placeholder="例如：恒通达 或 91120000…" autocomplete="off";
            }
            div.field style="flex:0 0 auto" { button type="submit" { "查询" } }
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct HomeQuery {
    pub q: Option<String>,
}

/// `GET /`: search by code first, then by part of the name; results below the form.
pub async fn home(State(state): State<Arc<AppState>>, Query(q): Query<HomeQuery>) -> PageResult {
    let query = q.q.unwrap_or_default().trim().to_string();
    let qq = query.clone();
    let st = state.clone();
    let (totals, found) = tokio::task::spawn_blocking(move || {
        let totals = st.store.totals()?;
        let found = if qq.is_empty() {
            None
        } else {
            Some(search(&st, &qq, SEARCH_LIMIT)?)
        };
        Ok::<_, creditloop_store::StoreError>((totals, found))
    })
    .await??;
    let body = html! {
        h1 { "信用信息查询" }
        (search_form(&query))
        p.muted { "平台现有主体 " (totals.subjects) " 个，信用记录 " (totals.records) " 条。按代码查询优先精确匹配，按名称可输入部分文字。" }
        @if let Some(found) = &found {
            @if found.is_empty() {
                p role="status" { "未找到与“" (mask::mask_query(&query)) "”相关的主体。" }
            } @else {
                p role="status" { "找到 " (found.len()) " 个主体" @if found.len() >= SEARCH_LIMIT { "（仅显示前 " (SEARCH_LIMIT) " 个，请输入更完整的名称）" } "：" }
                (subject_table(found))
            }
        } @else {
            section aria-labelledby="more" {
                h2 #more { "公示专栏" }
                ul {
                    li { a href="/lists/red" { "红名单（守信激励对象）" } }
                    li { a href="/lists/black" { "黑名单（严重失信主体名单、失信被执行人、经营异常名录）" } }
                    li { a href="/report/verify" { "信用报告真伪验证" } }
                }
            }
        }
    };
    Ok(layout("信用信息查询", Nav::Portal, body).into_response())
}

fn subject_table(found: &[SubjectSummary]) -> Markup {
    html! {
        table.fold {
            thead { tr { th scope="col" { "主体名称" } th scope="col" { "代码" } th scope="col" { "类型" } } }
            tbody {
                @for s in found {
                    tr {
                        td data-label="主体名称" {
                            @if s.key.as_str().starts_with("P:") {
                                // Natural persons get no public profile link: their page is not for
                                // browsing from a search.
                                (s.name)
                            } @else {
                                a href=(subject_href(s.key.as_str())) { (s.name) }
                            }
                        }
                        td data-label="代码" { (s.codes.display_code().unwrap_or_default()) }
                        td data-label="类型" { (s.kind.zh()) }
                    }
                }
            }
        }
    }
}

/// The 信用等级 slot: classes do not exist yet.
pub(crate) fn credit_class_badge() -> Markup {
    html! { span.badge.none title="信用评价功能上线后显示等级及颜色" { "暂未评价" } }
}

/// `GET /subjects/{key}`: basic data, list memberships, licences and penalties inside their
/// publicity windows, the credit class slot, and the entry points to objection, repair and report.
pub async fn subject(State(state): State<Arc<AppState>>, Path(key): Path<String>) -> PageResult {
    let store = state.store.clone();
    let today = state.today();
    let k = key.clone();
    let pii = state.pii.clone();
    let profile = tokio::task::spawn_blocking(move || match resolve(&*store, &pii, &k)? {
        Some(k) => store.subject(&k),
        None => Ok(None),
    })
    .await??;
    let Some(p) = profile else {
        let body = html! {
            h1 { "未找到主体" }
            p { "没有代码为“" (mask::mask_query(&key)) "”的主体。" }
            (search_form(""))
        };
        return Ok((
            StatusCode::NOT_FOUND,
            layout("未找到主体", Nav::Portal, body),
        )
            .into_response());
    };
    let (public, hidden): (Vec<&StoredRecord>, Vec<&StoredRecord>) =
        p.records.iter().partition(|r| r.record.is_public_on(today));
    let of = |pred: &dyn Fn(Category) -> bool| -> Vec<&StoredRecord> {
        public
            .iter()
            .copied()
            .filter(|r| pred(r.record.key.category))
            .collect()
    };
    let lists = of(&|c| c.is_list());
    let licences = of(&|c| c == Category::Licence);
    let penalties = of(&|c| c == Category::Penalty);
    let others = of(&|c| !c.is_list() && c != Category::Licence && c != Category::Penalty);
    let s = &p.subject;
    let href = subject_href(s.key.as_str());
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
                    @if let Some(id) = &s.codes.person { tr { th scope="row" { "身份证号码" } td { (id.masked()) } } }
                    @for person in &p.persons {
                        tr { th scope="row" { (person.role.zh()) } td { (person.name)
                            @if let Some(id) = &person.person { " (" (id.masked()) ")" } } }
                    }
                    tr { th scope="row" { "信用等级" } td { (credit_class_badge()) } }
                }
            }
        }
        section aria-labelledby="lists" {
            h2 #lists { "列入名单（" (lists.len()) "）" }
            @if lists.is_empty() { p { "未列入红名单或黑名单。" } }
            @else { (records_table(&lists)) }
        }
        section aria-labelledby="licences" {
            h2 #licences { "行政许可（" (licences.len()) "）" }
            @if licences.is_empty() { p { "暂无公示中的行政许可信息。" } }
            @else { (records_table(&licences)) }
        }
        section aria-labelledby="penalties" {
            h2 #penalties { "行政处罚（" (penalties.len()) "）" }
            @if penalties.is_empty() { p { "暂无公示中的行政处罚信息。" } }
            @else { (records_table(&penalties)) }
        }
        @if !others.is_empty() {
            section aria-labelledby="others" {
                h2 #others { "其他公示信息（" (others.len()) "）" }
                (records_table(&others))
            }
        }
        @if !hidden.is_empty() {
            p.muted { "另有 " (hidden.len()) " 条记录已过公示期、已修复或处于异议处理中，不予公示。" }
        }
        div.actions.noprint {
            a.button href={ (href) "/report" } { "下载信用报告" }
            a.button.secondary href={ (href) "/objection" } { "提出异议" }
            a.button.secondary href={ (href) "/repair" } { "申请信用修复" }
        }
    };
    Ok(layout(&s.name, Nav::Portal, body).into_response())
}

pub(crate) fn records_table(records: &[&StoredRecord]) -> Markup {
    html! {
        table.fold {
            thead { tr { th scope="col" { "类别" } th scope="col" { "决定日期" } th scope="col" { "内容" } th scope="col" { "决定机关" } th scope="col" { "文号" } th scope="col" { "公示截止" } } }
            tbody {
                @for r in records {
                    @let rec = &r.record;
                    tr {
                        td data-label="类别" class=(match rec.nature { Nature::Negative => "neg", Nature::Positive => "pos", Nature::Neutral => "" }) {
                            (rec.key.category.zh())
                        }
                        td.date data-label="决定日期" { (rec.decision_date) }
                        td data-label="内容" {
                            (rec.title)
                            @match &rec.detail {
                                Detail::Penalty(p) => { br; span.muted { (p.violation_type) "；依据：" (p.legal_basis) } }
                                Detail::Licence(l) => { br; span.muted { (l.document_name) "；" (l.kind.zh()) "；有效期至 " (l.valid_to) } }
                                Detail::Listing(l) => { br; span.muted { (l.list_name) "；列入事由：" (l.reason) } }
                                Detail::Debtor(d) => { br; span.muted { "执行法院：" (d.court) "；" (d.conduct) } }
                                Detail::Generic { .. } => {}
                            }
                        }
                        td data-label="决定机关" { (rec.authority.name) }
                        td data-label="文号" { (rec.key.doc_no) }
                        td.date data-label="公示截止" { (rec.publicity_until) }
                    }
                }
            }
        }
    }
}

fn coming(state: &AppState, key: &str, what: &str, explain: &str) -> PageResult {
    let _ = state;
    let href = subject_href(key);
    let body = html! {
        h1 { (what) }
        p.notice role="status" { (what) "服务即将开通。" }
        p { (explain) }
        p { "主体代码：" (mask::mask_key(key)) }
        form method="get" action=(href) {
            button type="submit" { "返回主体信息" }
        }
    };
    Ok(layout(what, Nav::Portal, body).into_response())
}

/// `GET /subjects/{key}/objection`: 信用异议, until that issue lands.
pub async fn objection(State(state): State<Arc<AppState>>, Path(key): Path<String>) -> PageResult {
    coming(
        &state,
        &key,
        "提出异议",
        "对公示的信用记录有异议的，可在服务开通后在线提交异议申请；异议处理期间，相关记录标注为“异议处理中”，由数据来源单位核查。",
    )
}

/// `GET /subjects/{key}/repair`: 信用修复, until that issue lands.
pub async fn repair(State(state): State<Arc<AppState>>, Path(key): Path<String>) -> PageResult {
    coming(
        &state,
        &key,
        "申请信用修复",
        "符合修复条件的，可在服务开通后在线申请信用修复；修复通过后，相关记录不再公示，相应惩戒措施停止。",
    )
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ListKind {
    Red,
    Black,
}

const BLACK: [Category; 3] = [
    Category::SeriousDishonestList,
    Category::DishonestDebtor,
    Category::AbnormalOperation,
];

/// `GET /lists/red`: 红名单.
pub async fn red_list(State(state): State<Arc<AppState>>, RawQuery(q): RawQuery) -> PageResult {
    list_page(state, ListKind::Red, q).await
}

/// `GET /lists/black`: 黑名单 (严重失信主体名单, 失信被执行人, 经营异常名录).
pub async fn black_list(State(state): State<Arc<AppState>>, RawQuery(q): RawQuery) -> PageResult {
    list_page(state, ListKind::Black, q).await
}

fn parse_day(v: Option<&str>, what: &str, errors: &mut Vec<String>) -> Option<NaiveDate> {
    let v = v?;
    match NaiveDate::parse_from_str(v, "%Y-%m-%d") {
        Ok(d) => Some(d),
        Err(_) => {
            errors.push(format!(
                "{what}“{v}”不是有效日期，应为 年-月-日，如 2024-06-01"
            ));
            None
        }
    }
}

async fn list_page(state: Arc<AppState>, kind: ListKind, raw: Option<String>) -> PageResult {
    let pairs = form_pairs(raw.as_deref().unwrap_or("").as_bytes());
    let mut errors = Vec::new();
    let list = field(&pairs, "list").and_then(Category::parse);
    let categories = match kind {
        ListKind::Red => vec![Category::RedList],
        ListKind::Black => match list {
            Some(c) if BLACK.contains(&c) => vec![c],
            _ => BLACK.to_vec(),
        },
    };
    let agency = field(&pairs, "agency").map(creditloop_domain::ids::normalize);
    let name = field(&pairs, "q").map(str::to_string);
    let from = parse_day(field(&pairs, "from"), "起始日期", &mut errors);
    let to = parse_day(field(&pairs, "to"), "截止日期", &mut errors);
    let page: usize = field(&pairs, "page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
        .clamp(1, MAX_LIST_PAGE);
    let query = ListQuery {
        categories: categories.clone(),
        agency: agency.clone(),
        name_contains: name.clone(),
        from,
        to,
        public_on: state.today(),
        offset: (page - 1) * LIST_PAGE,
        limit: LIST_PAGE,
    };
    let store = state.store.clone();
    let (agencies, found) = tokio::task::spawn_blocking(move || {
        Ok::<_, creditloop_store::StoreError>((store.agencies()?, store.list_members(&query)?))
    })
    .await??;

    let (title, path, nav) = match kind {
        ListKind::Red => ("红名单", "/lists/red", Nav::RedList),
        ListKind::Black => ("黑名单", "/lists/black", Nav::BlackList),
    };
    // The filters as a query string, for the pager's links.
    let keep: Vec<(&str, String)> = [
        (
            "list",
            list.filter(|_| kind == ListKind::Black)
                .map(|c| c.code().to_string()),
        ),
        ("agency", agency.clone()),
        ("q", name.clone()),
        ("from", from.map(|d| d.to_string())),
        ("to", to.map(|d| d.to_string())),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k, v)))
    .collect();
    let link = |page: usize| {
        let mut q: Vec<String> = keep
            .iter()
            .map(|(k, v)| format!("{k}={}", urlencoding::encode(v)))
            .collect();
        q.push(format!("page={page}"));
        format!("{path}?{}", q.join("&"))
    };
    let body = html! {
        h1 { (title) }
        p.muted {
            @match kind {
                ListKind::Red => "守信激励对象名单，仅显示公示期内的名单信息。",
                ListKind::Black => "严重失信主体名单、失信被执行人名单和经营异常名录，仅显示公示期内、未修复且不在异议处理中的名单信息。",
            }
        }
        form method="get" action=(path) aria-label="筛选" {
            div.grid {
                @if kind == ListKind::Black {
                    div.field {
                        label for="list" { "名单类别" }
                        select #list name="list" {
                            option value="" selected[list.is_none()] { "全部黑名单" }
                            @for c in BLACK {
                                option value=(c.code()) selected[list == Some(c)] { (c.zh()) }
                            }
                        }
                    }
                }
                div.field {
                    label for="agency" { "认定部门（数据来源单位）" }
                    select #agency name="agency" {
                        option value="" { "全部部门" }
                        @for a in &agencies {
                            option value=(a.code) selected[agency.as_deref() == Some(a.code.as_str())] { (a.name) }
                        }
                    }
                }
                div.field {
                    label for="q" { "主体名称包含" }
                    input #q type="text" name="q" value=(name.as_deref().unwrap_or(""));
                }
                div.field {
                    label for="from" { "列入日期自" }
                    input #from type="date" name="from" value=(from.map(|d| d.to_string()).unwrap_or_default());
                }
                div.field {
                    label for="to" { "列入日期至" }
                    input #to type="date" name="to" value=(to.map(|d| d.to_string()).unwrap_or_default());
                }
            }
            div.actions { button type="submit" { "筛选" } a href=(path) { "清除条件" } }
        }
        @for e in &errors { p.error role="alert" { (e) } }
        @if found.items.is_empty() {
            p role="status" { "没有符合条件的名单信息。" }
        } @else {
            p role="status" { "第 " (page) " 页，本页 " (found.items.len()) " 条。" }
            (members_table(&found.items))
        }
        nav.pager aria-label="翻页" {
            @if page > 1 { a href=(link(page - 1)) rel="prev" { "上一页" } }
            span { "第 " (page) " 页" }
            @if found.has_more && page < MAX_LIST_PAGE { a href=(link(page + 1)) rel="next" { "下一页" } }
        }
    };
    Ok(layout(title, nav, body).into_response())
}

fn members_table(items: &[ListMember]) -> Markup {
    html! {
        table.fold {
            thead { tr {
                th scope="col" { "主体名称" } th scope="col" { "代码" } th scope="col" { "名单" }
                th scope="col" { "列入事由" } th scope="col" { "列入日期" } th scope="col" { "认定机关" } th scope="col" { "公示截止" }
            } }
            tbody {
                @for m in items {
                    @let rec = &m.record.record;
                    tr {
                        td data-label="主体名称" {
                            @if m.subject_key.as_str().starts_with("P:") { (rec.subject.name) }
                            @else { a href=(subject_href(m.subject_key.as_str())) { (rec.subject.name) } }
                        }
                        td data-label="代码" { (rec.subject.codes.display_code().unwrap_or_default()) }
                        td data-label="名单" {
                            @match &rec.detail {
                                Detail::Listing(l) => (l.list_name),
                                _ => (rec.key.category.zh()),
                            }
                        }
                        td data-label="列入事由" {
                            @match &rec.detail {
                                Detail::Listing(l) => (l.reason),
                                Detail::Debtor(d) => (d.conduct),
                                _ => (rec.title),
                            }
                        }
                        td.date data-label="列入日期" { (rec.decision_date) }
                        td data-label="认定机关" { (rec.authority.name) }
                        td.date data-label="公示截止" { (rec.publicity_until) }
                    }
                }
            }
        }
    }
}
