//! The dashboard (大屏): records over time by category, records and late submissions by agency, and
//! checks by decision with their feedback, as inline SVG charts drawn on the server (no script, no
//! build step). Every chart has its figures as a table beside it, for screen readers and print.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::extract::State;
use axum::response::IntoResponse;
use chrono::{Datelike, Months, NaiveDate};
use maud::{Markup, html};

use creditloop_domain::record::Category;
use creditloop_store::{CheckStat, RecordStat};

use super::{Nav, PageResult, category_zh, decision_zh, layout};
use crate::AppState;

/// Months shown.
const MONTHS: u32 = 24;
/// Agencies shown in the agency chart.
const TOP_AGENCIES: usize = 10;

/// Bar colours by category: each at least 3:1 against white (WCAG 1.4.11 for graphics).
fn colour(category: &str) -> &'static str {
    match Category::parse(category) {
        Some(Category::Licence) => "#0969da",
        Some(Category::Penalty) => "#cf222e",
        Some(Category::DishonestDebtor) => "#8250df",
        Some(Category::SeriousDishonestList) => "#6e011a",
        Some(Category::AbnormalOperation) => "#bc4c00",
        Some(Category::RedList) => "#1a7f37",
        Some(Category::Registration) => "#57606a",
        Some(Category::Commitment) => "#9a6700",
        Some(Category::Inspection) => "#1b7c83",
        _ => "#6e7781",
    }
}

fn decision_colour(code: &str) -> &'static str {
    match code {
        "prohibit" => "#a40e26",
        "restrict" => "#bc4c00",
        "strict" => "#9a6700",
        "priority" => "#1a7f37",
        _ => "#57606a",
    }
}

fn first_of_month(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

/// `GET /dashboard`.
pub async fn page(State(state): State<Arc<AppState>>, auth: crate::auth::Auth) -> PageResult {
    auth.permit(&creditloop_domain::access::Act::ViewDashboard)?;
    let today = state.today();
    let from = first_of_month(today)
        .checked_sub_months(Months::new(MONTHS - 1))
        .unwrap_or(today);
    let stats = state
        .dashboard
        .get(state.store.clone(), from, today)
        .await?;
    let (records, checks, totals) = (&stats.records, &stats.checks, &stats.totals);
    let agencies = stats.agencies.iter().cloned();
    let names: HashMap<String, String> = agencies.into_iter().map(|a| (a.code, a.name)).collect();
    let months: Vec<String> = (0..MONTHS)
        .filter_map(|i| from.checked_add_months(Months::new(i)))
        .map(|d| d.format("%Y-%m").to_string())
        .collect();
    let total_records: u64 = records.iter().map(|r| r.records).sum();
    let total_late: u64 = records.iter().map(|r| r.late).sum();
    let total_checks: u64 = checks.iter().map(|c| c.checks).sum();
    let total_fb: u64 = checks.iter().map(|c| c.with_feedback).sum();
    let body = html! {
        h1 { "数据大屏" }
        p.muted {
            "统计区间：" (from) " 至 " (today) "（按决定日期 / 查询日期）；数据更新于 "
            ((stats.computed_at + chrono::Duration::hours(8)).format("%Y-%m-%d %H:%M:%S"))
            "，每分钟至多汇总一次。"
        }
        dl.counts {
            div { dt { "主体" } dd { (totals.subjects) } }
            div { dt { "区间内信用记录" } dd { (total_records) } }
            div { dt { "逾期报送" } dd { (total_late) } }
            div { dt { "信用查询" } dd { (total_checks) } }
            div { dt { "已反馈" } dd { (total_fb) } }
        }
        (by_month(records, &months))
        (by_agency(records, &names))
        (by_decision(checks))
    };
    Ok(layout("数据大屏", Nav::Dashboard, body).into_response())
}

fn by_month(records: &[RecordStat], months: &[String]) -> Markup {
    // month → category → count
    let mut grid: BTreeMap<&str, BTreeMap<&str, u64>> = BTreeMap::new();
    let mut cats: Vec<&str> = Vec::new();
    for r in records {
        *grid
            .entry(r.month.as_str())
            .or_default()
            .entry(r.category.as_str())
            .or_default() += r.records;
        if !cats.contains(&r.category.as_str()) {
            cats.push(r.category.as_str());
        }
    }
    cats.sort_by_key(|c| Category::parse(c).map_or(99, |c| c as usize));
    let max = months
        .iter()
        .map(|m| grid.get(m.as_str()).map_or(0, |c| c.values().sum()))
        .max()
        .unwrap_or(0)
        .max(1)
        // Four whole-numbered grid lines.
        .div_ceil(4)
        * 4;
    let (w, h, left, bottom, top) = (960.0, 320.0, 56.0, 40.0, 12.0);
    let plot_h = h - bottom - top;
    let step = (w - left - 8.0) / months.len().max(1) as f64;
    let bar = step * 0.7;
    html! {
        section aria-labelledby="c-month" {
            h2 #c-month { "信用记录数量（按月、按类别）" }
            @if records.is_empty() { p { "统计区间内暂无信用记录。" } }
            @else {
                svg viewBox={ "0 0 " (w) " " (h) } width="100%" role="img" aria-labelledby="c-month-t" {
                    title #c-month-t { "按月统计的信用记录数量，按类别堆叠；最高 " (max) " 条" }
                    line x1=(left) y1=(top) x2=(left) y2=(h - bottom) stroke="#57606a" {}
                    line x1=(left) y1=(h - bottom) x2=(w - 4.0) y2=(h - bottom) stroke="#57606a" {}
                    @for i in 0..=4u32 {
                        @let v = max as f64 * f64::from(i) / 4.0;
                        @let y = h - bottom - plot_h * f64::from(i) / 4.0;
                        line x1=(left) y1=(y) x2=(w - 4.0) y2=(y) stroke="#d0d7de" stroke-dasharray="3 3" {}
                        text x=(left - 6.0) y=(y + 4.0) text-anchor="end" font-size="12" fill="#1f2328" { (v.round() as u64) }
                    }
                    @for (i, m) in months.iter().enumerate() {
                        @let x = left + 4.0 + step * i as f64;
                        @for (cat, n, y, bh) in stack(grid.get(m.as_str()), &cats, h - bottom, plot_h / max as f64) {
                            rect x=(x) y=(y) width=(bar) height=(bh) fill=(colour(cat)) {
                                title { (m) " " (category_zh(cat)) "：" (n) }
                            }
                        }
                        @if i % 3 == 0 {
                            text x=(x + bar / 2.0) y=(h - bottom + 16.0) text-anchor="middle" font-size="12" fill="#1f2328" { (m) }
                        }
                    }
                }
                ul.actions aria-label="图例" style="list-style:none;padding:0" {
                    @for cat in &cats {
                        li { span aria-hidden="true" style={ "display:inline-block;width:.9rem;height:.9rem;vertical-align:middle;background:" (colour(cat)) } {} " " (category_zh(cat)) }
                    }
                }
                details {
                    summary { "数据表" }
                    table.fold {
                        thead { tr { th scope="col" { "月份" } @for cat in &cats { th scope="col" { (category_zh(cat)) } } } }
                        tbody {
                            @for m in months {
                                @if let Some(c) = grid.get(m.as_str()) {
                                    tr {
                                        td data-label="月份" { (m) }
                                        @for cat in &cats { td.num data-label=(category_zh(cat)) { (c.get(cat).copied().unwrap_or(0)) } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The segments of one stacked bar, bottom up: (category, count, top y, height).
fn stack<'a>(
    counts: Option<&BTreeMap<&str, u64>>,
    cats: &[&'a str],
    base: f64,
    per_unit: f64,
) -> Vec<(&'a str, u64, f64, f64)> {
    let Some(counts) = counts else {
        return Vec::new();
    };
    let mut y = base;
    cats.iter()
        .filter_map(|cat| {
            let n = counts.get(cat).copied().unwrap_or(0);
            (n > 0).then(|| {
                let bh = per_unit * n as f64;
                y -= bh;
                (*cat, n, y, bh)
            })
        })
        .collect()
}

fn by_agency(records: &[RecordStat], names: &HashMap<String, String>) -> Markup {
    let mut per: HashMap<&str, (u64, u64)> = HashMap::new();
    for r in records {
        let e = per.entry(r.source.as_str()).or_default();
        e.0 += r.records;
        e.1 += r.late;
    }
    let mut rows: Vec<(&str, u64, u64)> = per.into_iter().map(|(a, (n, l))| (a, n, l)).collect();
    // Most late first: the chart is for finding who submits late.
    rows.sort_by(|a, b| b.2.cmp(&a.2).then(b.1.cmp(&a.1)).then(a.0.cmp(b.0)));
    let shown: Vec<_> = rows.iter().take(TOP_AGENCIES).collect();
    let max = shown.iter().map(|r| r.1).max().unwrap_or(0).max(1);
    let name = |code: &str| names.get(code).cloned().unwrap_or_else(|| code.to_string());
    let (w, row_h, label_w) = (960.0, 28.0, 300.0);
    let h = row_h * shown.len() as f64 + 8.0;
    let plot_w = w - label_w - 140.0;
    html! {
        section aria-labelledby="c-agency" {
            h2 #c-agency { "各部门报送量与逾期报送（逾期最多的前 " (TOP_AGENCIES) " 个部门）" }
            @if shown.is_empty() { p { "统计区间内暂无报送。" } }
            @else {
                svg viewBox={ "0 0 " (w) " " (h) } width="100%" role="img" aria-labelledby="c-agency-t" {
                    title #c-agency-t { "各部门报送记录数，深色部分为逾期报送" }
                    @for (i, (code, n, late)) in shown.iter().enumerate() {
                        @let y = 4.0 + row_h * i as f64;
                        @let total_w = plot_w * *n as f64 / max as f64;
                        @let late_w = plot_w * *late as f64 / max as f64;
                        text x=(label_w - 8.0) y=(y + 18.0) text-anchor="end" font-size="13" fill="#1f2328" { (name(code)) }
                        rect x=(label_w) y=(y + 4.0) width=(total_w) height=(row_h - 10.0) fill="#0969da" { title { (name(code)) "：报送 " (n) " 条" } }
                        rect x=(label_w) y=(y + 4.0) width=(late_w) height=(row_h - 10.0) fill="#a40e26" { title { (name(code)) "：逾期 " (late) " 条" } }
                        text x=(label_w + total_w + 6.0) y=(y + 18.0) font-size="12" fill="#1f2328" {
                            (n) " 条，逾期 " (late) @if *n > 0 { "（" (format!("{:.1}", 100.0 * *late as f64 / *n as f64)) "%）" }
                        }
                    }
                }
                p { span aria-hidden="true" style="display:inline-block;width:.9rem;height:.9rem;background:#0969da;vertical-align:middle" {} " 按时报送 "
                    span aria-hidden="true" style="display:inline-block;width:.9rem;height:.9rem;background:#a40e26;vertical-align:middle" {} " 逾期报送" }
                details {
                    summary { "数据表（全部部门）" }
                    table.fold {
                        thead { tr { th scope="col" { "部门" } th scope="col" { "报送记录" } th scope="col" { "逾期" } th scope="col" { "逾期率" } } }
                        tbody {
                            @for (code, n, late) in &rows {
                                tr {
                                    td data-label="部门" { (name(code)) }
                                    td.num data-label="报送记录" { (n) }
                                    td.num data-label="逾期" { (late) }
                                    td.num data-label="逾期率" { @if *n > 0 { (format!("{:.1}%", 100.0 * *late as f64 / *n as f64)) } }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn by_decision(checks: &[CheckStat]) -> Markup {
    let order = [
        "prohibit",
        "restrict",
        "strict",
        "normal",
        "priority",
        "ambiguous",
    ];
    let mut per: BTreeMap<usize, (&str, u64, u64)> = BTreeMap::new();
    for c in checks {
        let i = order
            .iter()
            .position(|o| *o == c.decision)
            .unwrap_or(order.len());
        let e = per.entry(i).or_insert((c.decision.as_str(), 0, 0));
        e.1 += c.checks;
        e.2 += c.with_feedback;
    }
    let rows: Vec<(&str, u64, u64)> = per.into_values().collect();
    let max = rows.iter().map(|r| r.1).max().unwrap_or(0).max(1);
    let (w, row_h, label_w) = (960.0, 30.0, 160.0);
    let h = row_h * rows.len() as f64 + 8.0;
    let plot_w = w - label_w - 220.0;
    html! {
        section aria-labelledby="c-checks" {
            h2 #c-checks { "信用查询及办理建议" }
            @if rows.is_empty() { p { "统计区间内暂无信用查询。" } }
            @else {
                svg viewBox={ "0 0 " (w) " " (h) } width="100%" role="img" aria-labelledby="c-checks-t" {
                    title #c-checks-t { "按办理建议统计的查询次数" }
                    @for (i, (d, n, fb)) in rows.iter().enumerate() {
                        @let y = 4.0 + row_h * i as f64;
                        @let bw = plot_w * *n as f64 / max as f64;
                        text x=(label_w - 8.0) y=(y + 19.0) text-anchor="end" font-size="13" fill="#1f2328" { (decision_zh(d)) }
                        rect x=(label_w) y=(y + 4.0) width=(bw) height=(row_h - 10.0) fill=(decision_colour(d)) { title { (decision_zh(d)) "：" (n) " 次" } }
                        text x=(label_w + bw + 6.0) y=(y + 19.0) font-size="12" fill="#1f2328" { (n) " 次，已反馈 " (fb) }
                    }
                }
                details {
                    summary { "数据表" }
                    table.fold {
                        thead { tr { th scope="col" { "办理建议" } th scope="col" { "查询次数" } th scope="col" { "已反馈" } } }
                        tbody {
                            @for (d, n, fb) in &rows {
                                tr { td data-label="办理建议" { (decision_zh(d)) } td.num data-label="查询次数" { (n) } td.num data-label="已反馈" { (fb) } }
                            }
                        }
                    }
                }
            }
        }
    }
}
