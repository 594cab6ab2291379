//! The credit report (信用报告): a printable page of what the portal shows about a subject, issued
//! under a report number with the SHA-256 digest of its canonical content, stored, and confirmed or
//! refused by the verification page.
//!
//! The stored body is the canonical JSON of [`ReportBody`] (fields in declaration order, as
//! serde writes them); the digest is over exactly those bytes, and the report page renders from the
//! stored body, so what is printed is what was digested.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use maud::html;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::sync::Arc;

use creditloop_store::{StoreError, StoredReport, SubjectProfile};

use super::{Nav, PageResult, layout, see_other, subject_href};
use crate::api::resolve;
use crate::error::ApiError;
use crate::{AppState, mask};

/// What a report says, in the order it is digested.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportBody {
    pub number: String,
    /// RFC 3339, seconds, UTC.
    pub issued_at: String,
    /// The day whose publicity windows the report shows.
    pub as_of: NaiveDate,
    pub subject: ReportSubject,
    /// 信用等级: 暂未评价 until classes exist.
    pub credit_class: String,
    pub records: Vec<ReportRecord>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportSubject {
    /// The subject key, masked for natural persons.
    pub key: String,
    pub name: String,
    pub kind: String,
    pub code: Option<String>,
    /// (role, name, masked resident number)
    pub persons: Vec<(String, String, Option<String>)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportRecord {
    pub id: i64,
    pub version: i32,
    pub category: String,
    pub nature: String,
    pub decision_date: NaiveDate,
    pub title: String,
    pub authority: String,
    pub doc_no: String,
    pub publicity_until: NaiveDate,
}

/// The report number: `XYBG`, the issue date, and 8 hexadecimal characters of a unique id.
pub fn report_number(at: DateTime<Utc>) -> String {
    let unique = creditloop_store::new_check_id(at);
    let h = Sha256::digest(unique.as_bytes());
    format!(
        "XYBG{}{}",
        (at + chrono::Duration::hours(8)).format("%Y%m%d"),
        hex::encode_upper(&h[..4])
    )
}

/// The body of a report of `p` as of `today`: the records the portal shows that day.
pub fn report_body(
    p: &SubjectProfile,
    number: &str,
    at: DateTime<Utc>,
    today: NaiveDate,
) -> ReportBody {
    let s = &p.subject;
    ReportBody {
        number: number.to_string(),
        issued_at: at.to_rfc3339_opts(SecondsFormat::Secs, true),
        as_of: today,
        subject: ReportSubject {
            key: mask::mask_key(s.key.as_str()),
            name: s.name.clone(),
            kind: s.kind.zh().to_string(),
            code: s.codes.display_code(),
            persons: p
                .persons
                .iter()
                .map(|x| {
                    (
                        x.role.zh().to_string(),
                        x.name.clone(),
                        x.person.as_ref().map(|id| id.masked().to_string()),
                    )
                })
                .collect(),
        },
        credit_class: "暂未评价".into(),
        records: p
            .records
            .iter()
            .filter(|r| r.record.is_public_on(today))
            .map(|r| ReportRecord {
                id: r.id,
                version: r.version,
                category: r.record.key.category.zh().to_string(),
                nature: r.record.nature.code().to_string(),
                decision_date: r.record.decision_date,
                title: r.record.title.clone(),
                authority: r.record.authority.name.clone(),
                doc_no: r.record.key.doc_no.clone(),
                publicity_until: r.record.publicity_until,
            })
            .collect(),
    }
}

/// The canonical text of a body and its SHA-256 (hex).
pub fn canonical(body: &ReportBody) -> Result<(String, String), serde_json::Error> {
    let text = serde_json::to_string(body)?;
    let digest = hex::encode(Sha256::digest(text.as_bytes()));
    Ok((text, digest))
}

/// `GET /subjects/{key}/report`: what the report holds, and the button that issues it.
pub async fn confirm(
    State(state): State<Arc<AppState>>,
    token: crate::csrf::FormToken,
    Path(key): Path<String>,
) -> PageResult {
    let store = state.store.clone();
    let k = key.clone();
    let pii = state.pii.clone();
    let profile = tokio::task::spawn_blocking(move || match resolve(&*store, &pii, &k)? {
        Some(k) => store.subject(&k),
        None => Ok(None),
    })
    .await??;
    let Some(p) = profile else {
        return Err(ApiError::not_found(
            format!("没有代码为“{}”的主体", mask::mask_query(&key)),
            "no such subject",
        )
        .into());
    };
    let href = subject_href(p.subject.key.as_str());
    let body = html! {
        h1 { "信用报告" }
        p { "主体：" strong { (p.subject.name) } }
        p { "报告包含主体基本信息、信用等级，以及报告签发当日处于公示期内的行政许可、行政处罚和名单信息。每份报告有唯一的报告编号和数字摘要，可在"
            a href="/report/verify" { "报告验证" } "页面核验真伪。" }
        form method="post" action={ (href) "/report" } {
            (token.field())
            button type="submit" { "生成信用报告" }
        }
        p { a href=(href) { "返回主体信息" } }
    };
    Ok(layout("信用报告", Nav::Portal, body).into_response())
}

/// `POST /subjects/{key}/report`: issues and stores a report, then shows it.
pub async fn issue(State(state): State<Arc<AppState>>, Path(key): Path<String>) -> PageResult {
    let store = state.store.clone();
    let today = state.today();
    let pii = state.pii.clone();
    let number = tokio::task::spawn_blocking(move || {
        let Some(k) = resolve(&*store, &pii, &key)? else {
            return Ok::<_, ApiError>(None);
        };
        let Some(p) = store.subject(&k)? else {
            return Ok(None);
        };
        // A number is unique: on the (unlikely) collision, draw another.
        for _ in 0..5 {
            let at = Utc::now();
            let number = report_number(at);
            let body = report_body(&p, &number, at, today);
            let (text, digest) = canonical(&body).map_err(|e| ApiError::Internal(e.to_string()))?;
            let stored = StoredReport {
                number: number.clone(),
                subject_key: p.subject.key.0.clone(),
                issued_at: at,
                digest,
                body: text,
            };
            if store.put_report(&stored)? {
                return Ok(Some(number));
            }
        }
        Err(ApiError::Internal(
            "no free report number after 5 draws".into(),
        ))
    })
    .await??;
    match number {
        Some(n) => Ok(see_other(&format!("/reports/{}", urlencoding::encode(&n)))),
        None => Err(ApiError::not_found("未找到该主体", "no such subject").into()),
    }
}

fn load(state: &AppState, number: &str) -> Result<Option<(StoredReport, ReportBody)>, StoreError> {
    let Some(r) = state.store.report(number.trim())? else {
        return Ok(None);
    };
    let body: ReportBody = serde_json::from_str(&r.body)
        .map_err(|e| StoreError::Corrupt(format!("report {}: {e}", r.number)))?;
    Ok(Some((r, body)))
}

/// `GET /reports/{number}`: the report, printable.
pub async fn show(State(state): State<Arc<AppState>>, Path(number): Path<String>) -> PageResult {
    let st = state.clone();
    let n = number.clone();
    let found = tokio::task::spawn_blocking(move || load(&st, &n)).await??;
    let Some((r, b)) = found else {
        return Err(ApiError::not_found("未找到该编号的信用报告", "no such report").into());
    };
    let issued = (r.issued_at + chrono::Duration::hours(8)).format("%Y年%m月%d日 %H:%M:%S");
    let body = html! {
        article.report aria-labelledby="title" {
            h1 #title { "信用报告" }
            table {
                tbody {
                    tr { th scope="row" { "报告编号" } td #report-number { (r.number) } }
                    tr { th scope="row" { "签发时间" } td { (issued) "（北京时间）" } }
                    tr { th scope="row" { "信息截至" } td { (b.as_of) } }
                    tr { th scope="row" { "数字摘要（SHA-256）" } td { code #report-digest style="word-break:break-all" { (r.digest) } } }
                }
            }
            section aria-labelledby="subject" {
                h2 #subject { "主体基本信息" }
                table {
                    tbody {
                        tr { th scope="row" { "主体名称" } td { (b.subject.name) } }
                        tr { th scope="row" { "主体类型" } td { (b.subject.kind) } }
                        @if let Some(c) = &b.subject.code { tr { th scope="row" { "代码" } td { (c) } } }
                        @for (role, name, id) in &b.subject.persons {
                            tr { th scope="row" { (role) } td { (name) @if let Some(id) = id { " (" (id) ")" } } }
                        }
                        tr { th scope="row" { "信用等级" } td { (b.credit_class) } }
                    }
                }
            }
            section aria-labelledby="records" {
                h2 #records { "公示中的信用记录（" (b.records.len()) "）" }
                @if b.records.is_empty() { p { "报告签发时该主体无公示中的信用记录。" } }
                @else {
                    table.fold {
                        thead { tr { th scope="col" { "类别" } th scope="col" { "决定日期" } th scope="col" { "内容" } th scope="col" { "决定机关" } th scope="col" { "文号" } th scope="col" { "公示截止" } } }
                        tbody {
                            @for x in &b.records {
                                tr {
                                    td data-label="类别" class=(match x.nature.as_str() { "negative" => "neg", "positive" => "pos", _ => "" }) { (x.category) }
                                    td.date data-label="决定日期" { (x.decision_date) }
                                    td data-label="内容" { (x.title) }
                                    td data-label="决定机关" { (x.authority) }
                                    td data-label="文号" { (x.doc_no) }
                                    td.date data-label="公示截止" { (x.publicity_until) }
                                }
                            }
                        }
                    }
                }
            }
            p.muted { "本报告依据平台归集的公示信息生成，个人身份号码已脱敏。核验方式：访问本平台“报告验证”页面，输入报告编号和数字摘要。" }
        }
        p.noprint.muted { "打印：使用浏览器的“打印”功能，可打印或另存为 PDF（打印时自动隐藏导航）。" }
        p.noprint { a href={ "/report/verify?number=" (urlencoding::encode(&r.number)) } { "验证本报告" } }
    };
    Ok(layout(&format!("信用报告 {}", r.number), Nav::Portal, body).into_response())
}

#[derive(Debug, Deserialize)]
pub struct VerifyQuery {
    pub number: Option<String>,
    pub digest: Option<String>,
}

/// What the verification page found.
enum Verdict {
    /// The number exists and the digest given matches.
    Confirmed(StoredReport, ReportBody),
    /// The number exists; no digest was given to compare.
    Known(StoredReport, ReportBody),
    /// The number exists, the digest differs.
    Mismatch,
    Unknown,
}

/// `GET /report/verify?number=&digest=`: confirms or refuses a report.
pub async fn verify(
    State(state): State<Arc<AppState>>,
    Query(q): Query<VerifyQuery>,
) -> PageResult {
    let number = q.number.unwrap_or_default().trim().to_string();
    let digest: String = q
        .digest
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    let verdict = if number.is_empty() {
        None
    } else {
        let st = state.clone();
        let n = number.clone();
        let d = digest.clone();
        Some(
            tokio::task::spawn_blocking(move || {
                Ok::<_, StoreError>(match load(&st, &n)? {
                    None => Verdict::Unknown,
                    Some((r, b)) if d.is_empty() => Verdict::Known(r, b),
                    Some((r, b)) if r.digest == d => Verdict::Confirmed(r, b),
                    Some(_) => Verdict::Mismatch,
                })
            })
            .await??,
        )
    };
    let status = match verdict {
        Some(Verdict::Unknown) => StatusCode::NOT_FOUND,
        _ => StatusCode::OK,
    };
    let body = html! {
        h1 { "信用报告验证" }
        form method="get" action="/report/verify" {
            div.grid {
                div.field {
                    label for="number" { "报告编号" }
                    input #number name="number" required value=(number) placeholder="XYBG…" autocomplete="off";
                }
                div.field {
                    label for="digest" { "数字摘要（选填）" }
                    input #digest name="digest" value=(digest) placeholder="报告上印制的 64 位摘要" autocomplete="off";
                }
            }
            button type="submit" { "验证" }
        }
        @match &verdict {
            None => {}
            Some(Verdict::Confirmed(r, b)) => {
                div.ok-box role="status" #verdict {
                    strong { "验证通过：" } "报告编号与数字摘要一致，该报告由本平台签发，内容未被改动。"
                    br; "主体：" (b.subject.name) "；签发时间：" ((r.issued_at + chrono::Duration::hours(8)).format("%Y-%m-%d %H:%M:%S")) "（北京时间）"
                    br; a href={ "/reports/" (urlencoding::encode(&r.number)) } { "查看报告原文" }
                }
            }
            Some(Verdict::Known(r, b)) => {
                div.notice role="status" #verdict {
                    strong { "报告编号存在。" } "请核对报告上的数字摘要是否为："
                    br; code style="word-break:break-all" { (r.digest) }
                    br; "主体：" (b.subject.name) "；签发时间：" ((r.issued_at + chrono::Duration::hours(8)).format("%Y-%m-%d %H:%M:%S")) "（北京时间）"
                }
            }
            Some(Verdict::Mismatch) => {
                div.error role="alert" #verdict {
                    strong { "验证未通过：" } "数字摘要与该编号签发时的摘要不一致，报告可能被改动，请勿采信。"
                }
            }
            Some(Verdict::Unknown) => {
                div.error role="alert" #verdict {
                    strong { "验证未通过：" } "本平台未签发编号为“" (number) "”的信用报告。"
                }
            }
        }
    };
    Ok((status, layout("信用报告验证", Nav::Verify, body)).into_response())
}
