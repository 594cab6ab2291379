//! The credit-check API (事前信用查询): one check, a receipt, feedback (反馈), the lists of checks and of
//! overdue feedback, and batch checks. Checks are answered from the in-memory index and stored through
//! the check log before the answer leaves.

use axum::body::{Body, Bytes};
use axum::extract::State;
use std::sync::Arc;

use crate::extract::{Json, Path, Query, RawBody};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use creditloop_domain::catalogue::Scenario;
use creditloop_domain::feedback::{Feedback, FeedbackOutcome, overdue_cutoff};
use creditloop_domain::{calendar::WorkingCalendar, ids};
use creditloop_index::CheckAnswer;
use creditloop_store::{CheckQuery, FeedbackWrite};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::{self, Auth, Required};
use crate::batch_check::{self, BatchRequest, CsvSink, OutFormat, ResultSink, XlsxSink};
use crate::checks::{self, CheckError, CheckRequest};
use crate::error::ApiError;
use crate::{AppState, audit, mask};
use creditloop_audit::{Action, NewEntry};
use creditloop_domain::access::{Act, Principal, Refusal};

fn scenario(code: &str) -> Result<Scenario, ApiError> {
    checks::scenario(code).map_err(check_error)
}

fn check_error(e: CheckError) -> ApiError {
    match e {
        CheckError::Store(s) => ApiError::from(s),
        other => ApiError::bad_request(other.zh(), other.to_string()),
    }
}

/// `POST /api/v1/checks`: the overall `decision`, the `measures` that apply with their triggering
/// records, implementing agency and legal basis, the records not counted and why, the catalogue and
/// data versions, and the `receipt` under which the check is stored.
pub async fn check(
    State(state): State<Arc<AppState>>,
    auth: Required,
    Json(mut req): Json<CheckRequest>,
) -> Result<Response, ApiError> {
    req.agency = checking_agency(&auth, req.agency.as_deref())?;
    let (outcome, text) = run_check_text(&state, &req, auth.actor()).await?;
    let public =
        checks::public_answer(&outcome, text).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(([(header::CONTENT_TYPE, "application/json")], public).into_response())
}

/// The agency a check is made as: the one asked for, else the caller's own; 403 unless the caller
/// may check as it. `None` when an administrator names none.
pub(crate) fn checking_agency(
    auth: &Required,
    requested: Option<&str>,
) -> Result<Option<String>, ApiError> {
    let requested = requested.map(ids::normalize);
    let agency = auth.agency_or(&requested).to_string();
    auth.permit(&Act::RunCheck { agency: &agency })?;
    Ok((!agency.is_empty()).then_some(agency))
}

/// One check, as [`run_check_text`], with the answer as a JSON value (not yet masked), for pages.
pub(crate) async fn run_check(
    state: &AppState,
    req: &CheckRequest,
    actor: &str,
) -> Result<Value, ApiError> {
    let (_, text) = run_check_text(state, req, actor).await?;
    serde_json::from_str(&text).map_err(|e| ApiError::Internal(e.to_string()))
}

/// One check over the in-memory index, stored and audited before it returns: the outcome and the
/// answer as given (JSON text, not yet masked). The API and the workbench page both answer
/// through it.
pub(crate) async fn run_check_text(
    state: &AppState,
    req: &CheckRequest,
    actor: &str,
) -> Result<(Box<creditloop_domain::catalogue::CheckOutcome>, String), ApiError> {
    let scenario = scenario(&req.scenario)?;
    let on = state.today();
    // A check costs microseconds: answered on this thread, no blocking pool.
    let snap = state.read.snapshot();
    let query = crate::identity::index_query(&snap, &state.pii, &req.subject);
    let (answer, version) = snap.check(&state.catalogue, &scenario, &query, on);
    let outcome = match answer {
        CheckAnswer::Outcome(o) => o,
        CheckAnswer::Ambiguous { count } => {
            let e = CheckError::AmbiguousName {
                name: req.subject.trim().to_string(),
                count,
            };
            return Err(ApiError::bad_request(e.zh(), e.to_string()));
        }
    };
    let at = Utc::now();
    let receipt = creditloop_store::new_check_id(at);
    let text = checks::answer_text(&outcome, req, &receipt, at, version);
    let row = checks::stored(&outcome, req, receipt, at, version, text.clone(), None);
    let entry = checks::audit_entry_by(&row, actor);
    // Answered only once stored and audited (group commit: many checks share one fsync); the two
    // writers run side by side.
    let audited = async {
        if state.audit_checks {
            audit::append(&state.audit, entry).await.map(|_| ())
        } else {
            Ok(())
        }
    };
    let (stored, audited) = tokio::join!(state.check_log.append(vec![row]), audited);
    stored.map_err(ApiError::Internal)?;
    audited.map_err(ApiError::Internal)?;
    Ok((outcome, text))
}

fn stored_json(c: &creditloop_store::StoredCheck) -> Value {
    let mut v = json!({
        "receipt": c.id,
        "checked_at": c.at,
        "checked_on": c.checked_on,
        "agency": c.agency,
        "case_ref": c.case_ref,
        "subject_query": c.subject_query,
        "subject_key": c.subject_key,
        "scenario": c.scenario,
        "decision": c.decision,
        "measures": c.measures,
        "catalogue_version": c.catalogue_version,
        "data_version": c.data_version,
        "batch_id": c.batch_id,
        "feedback": c.feedback,
    });
    mask::mask_json(&mut v);
    v
}

/// `GET /api/v1/checks/{receipt}`: the check as stored, with its answer and feedback.
pub async fn receipt(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    if auth.0.is_none() {
        // Asked to log in before being told whether the receipt exists.
        auth.permit(&Act::ReadCheck { owner: None })?;
    }
    let store = state.store.clone();
    let i = id.clone();
    let found = tokio::task::spawn_blocking(move || store.check_receipt(&i)).await??;
    let Some(c) = found else {
        return Err(ApiError::not_found(
            format!("未找到回执编号为“{id}”的查询"),
            format!("no check with receipt `{id}`"),
        ));
    };
    auth.permit(&Act::ReadCheck {
        owner: c.agency.as_deref(),
    })?;
    let mut v = stored_json(&c);
    let mut answer: Value =
        serde_json::from_str(&c.answer).map_err(|e| ApiError::Internal(e.to_string()))?;
    mask::mask_json(&mut answer);
    v["answer"] = answer;
    Ok(Json(v))
}

#[derive(Debug, Deserialize)]
pub struct FeedbackRequest {
    /// 不予办理 / 从严办理 / 优先办理 / 正常办理 / 其他, or refused / strict / priority / normal / other.
    pub outcome: String,
    /// Codes of the measures applied.
    #[serde(default)]
    pub measures: Vec<String>,
    #[serde(default)]
    pub note: Option<String>,
    /// The agency giving feedback (its unified code): the caller's own; only the credit office may
    /// name another.
    #[serde(default)]
    pub agency: Option<String>,
}

/// `POST /api/v1/checks/{receipt}/feedback`: what the agency did. Once per check; the same feedback
/// again is answered as a duplicate, a different one is a conflict.
pub async fn feedback(
    State(state): State<Arc<AppState>>,
    auth: Required,
    Path(id): Path<String>,
    Json(req): Json<FeedbackRequest>,
) -> Result<Response, ApiError> {
    let (written, fb) = give_feedback(&state, &auth.0, id.clone(), req).await?;
    match written {
        FeedbackWrite::Stored => Ok((
            axum::http::StatusCode::CREATED,
            Json(json!({"receipt": id, "status": "stored", "feedback": fb})),
        )
            .into_response()),
        FeedbackWrite::Duplicate => {
            Ok(Json(json!({"receipt": id, "status": "duplicate", "feedback": fb})).into_response())
        }
        // `give_feedback` answers these as errors.
        FeedbackWrite::Conflict(_) | FeedbackWrite::UnknownCheck => Err(ApiError::Internal(
            "feedback write answered out of turn".into(),
        )),
    }
}

/// Validates and stores a feedback of `by`, auditing it when it is new: `Stored` or `Duplicate`; a
/// conflicting feedback and an unknown receipt are errors, and so is a check made by another agency
/// than `by`'s (403). The API and the workbench page share it.
pub(crate) async fn give_feedback(
    state: &AppState,
    by: &Principal,
    id: String,
    req: FeedbackRequest,
) -> Result<(FeedbackWrite, Feedback), ApiError> {
    // An agency gives feedback as itself; the credit office may record it for the agency named.
    let requested = req.agency.as_deref().map(ids::normalize);
    let agency = match (&by.agency, requested) {
        (Some(own), Some(r)) if *own != r => {
            return Err(ApiError::Forbidden {
                zh: Refusal::OtherAgency.zh().into(),
                en: Refusal::OtherAgency.en().into(),
            });
        }
        (Some(own), _) => Some(own.clone()),
        (None, r) => r,
    };
    let outcome = FeedbackOutcome::parse(&req.outcome).ok_or_else(|| {
        ApiError::bad_request(
            format!(
                "未知的办理结果“{}”：应为不予办理、从严办理、优先办理、正常办理或其他",
                req.outcome
            ),
            format!(
                "unknown outcome `{}`: use refused, strict, priority, normal or other",
                req.outcome
            ),
        )
    })?;
    let fb = Feedback {
        outcome,
        measures: req.measures.iter().map(|m| m.trim().to_string()).collect(),
        note: req
            .note
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty()),
        agency,
        at: Utc::now(),
    };
    let by = by.clone();
    let store = state.store.clone();
    let audit_log = state.audit.clone();
    let i = id.clone();
    let result = tokio::task::spawn_blocking(move || {
        let Some(check) = store.check_receipt(&i)? else {
            return Ok::<_, ApiError>(None);
        };
        auth::permit(
            Some(&by),
            &Act::GiveFeedback {
                owner: check.agency.as_deref(),
            },
        )?;
        let matched: Vec<&str> = check.measures.iter().map(String::as_str).collect();
        fb.validate(&matched).map_err(|e| ApiError::Unprocessable {
            zh: e.zh(),
            en: e.to_string(),
        })?;
        let written = store.put_feedback(&i, &fb)?;
        if written == FeedbackWrite::Stored {
            let mut entry = NewEntry::new(by.user_id.clone(), Action::Feedback)
                .object(i.clone())
                .result(&serde_json::to_vec(&fb).unwrap_or_default())
                .detail(json!({"outcome": fb.outcome.code(), "measures": fb.measures}));
            if let Some(k) = &check.subject_key {
                entry = entry.subject(k.clone());
            }
            if let Some(a) = &fb.agency {
                entry = entry.agency(a.clone());
            }
            audit::append_blocking(&audit_log, entry).map_err(ApiError::Internal)?;
        }
        Ok(Some((written, fb)))
    })
    .await??;
    let not_found = || {
        ApiError::not_found(
            format!("未找到回执编号为“{id}”的查询"),
            format!("no check with receipt `{id}`"),
        )
    };
    let Some((written, fb)) = result else {
        return Err(not_found());
    };
    match written {
        FeedbackWrite::Stored | FeedbackWrite::Duplicate => Ok((written, fb)),
        FeedbackWrite::Conflict(held) => Err(ApiError::Conflict {
            zh: format!(
                "该查询已反馈为“{}”，不能再次反馈为其他结果",
                held.outcome.zh()
            ),
            en: format!(
                "this check already has feedback `{}`; it is not replaced",
                held.outcome.code()
            ),
        }),
        FeedbackWrite::UnknownCheck => Err(not_found()),
    }
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    pub agency: Option<String>,
    #[serde(default)]
    pub without_feedback: bool,
    pub limit: Option<usize>,
    /// For the overdue list: working days after which feedback is overdue.
    pub working_days: Option<u32>,
}

/// `GET /api/v1/checks?agency=&without_feedback=`: checks, newest first.
pub async fn list(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Query(q): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let agency = crate::api::scoped_agency(&auth, q.agency.as_deref());
    auth.permit(&Act::ListChecks {
        agency: agency.as_deref(),
    })?;
    let query = CheckQuery {
        agency,
        without_feedback: q.without_feedback,
        on_or_before: None,
        oldest_first: false,
        limit: q.limit.unwrap_or(50).clamp(1, 1000),
    };
    let store = state.store.clone();
    let rows = tokio::task::spawn_blocking(move || store.checks(&query)).await??;
    Ok(Json(
        json!({ "checks": rows.iter().map(stored_json).collect::<Vec<_>>() }),
    ))
}

/// `GET /api/v1/checks/overdue?agency=&working_days=`: checks still without feedback after the
/// configured number of working days (default 5), oldest first.
pub async fn overdue(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Query(q): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let agency = crate::api::scoped_agency(&auth, q.agency.as_deref());
    auth.permit(&Act::ListChecks {
        agency: agency.as_deref(),
    })?;
    let days = q.working_days.unwrap_or(state.feedback_working_days);
    if days > 250 {
        return Err(ApiError::bad_request(
            "working_days 不能超过 250",
            "working_days must be at most 250",
        ));
    }
    let today = state.today();
    let cutoff = overdue_cutoff(WorkingCalendar::builtin(), today, days);
    let query = CheckQuery {
        agency,
        without_feedback: true,
        on_or_before: Some(cutoff),
        oldest_first: true,
        limit: q.limit.unwrap_or(100).clamp(1, 5000),
    };
    let store = state.store.clone();
    let rows = tokio::task::spawn_blocking(move || store.checks(&query)).await??;
    Ok(Json(json!({
        "today": today,
        "working_days": days,
        "checked_on_or_before": cutoff,
        "checks": rows.iter().map(stored_json).collect::<Vec<_>>(),
    })))
}

#[derive(Debug, Deserialize)]
pub struct BatchQuery {
    pub scenario: String,
    pub agency: Option<String>,
    /// `csv` (default) or `xlsx`; also from the `Accept` header.
    pub format: Option<String>,
    pub encoding: Option<String>,
    pub sheet: Option<String>,
}

/// `POST /api/v1/checks/batch?scenario=`: a CSV or XLSX of identifiers as the body (its content
/// type says which); the answer is a CSV (streamed as it is computed) or an XLSX of results, one row
/// per input row. The batch's summary is in the `x-creditloop-batch` header of XLSX answers and in
/// the server log.
pub async fn batch(
    State(state): State<Arc<AppState>>,
    auth: Required,
    Query(q): Query<BatchQuery>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    let agency = checking_agency(&auth, q.agency.as_deref())?;
    let actor = auth.actor().to_string();
    let scenario = scenario(&q.scenario)?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("text/csv")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_string();
    let in_format = match content_type.as_str() {
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => {
            creditloop_ingest::Format::Xlsx
        }
        "text/csv" | "text/plain" | "application/octet-stream" => creditloop_ingest::Format::Csv,
        other => return Err(ApiError::UnsupportedMedia(other.to_string())),
    };
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let out_format = match q.format.as_deref() {
        Some(f) => OutFormat::parse(f).ok_or_else(|| {
            ApiError::bad_request(
                format!("不支持的结果格式“{f}”：应为 csv 或 xlsx"),
                format!("unsupported result format `{f}`: use csv or xlsx"),
            )
        })?,
        None if accept.contains("spreadsheetml") => OutFormat::Xlsx,
        None => OutFormat::Csv,
    };
    let mut read = creditloop_ingest::ReadOptions::default();
    if let Some(enc) = &q.encoding {
        read = read
            .with_encoding_name(enc)
            .map_err(|e| ApiError::bad_request(format!("无法读取文件：{e}"), e.to_string()))?;
    }
    read.sheet = q.sheet.clone();
    let rows = creditloop_ingest::read_bytes(body.to_vec(), in_format, &read)
        .map_err(|e| ApiError::bad_request(format!("无法读取文件：{e}"), e.to_string()))?;
    let batch_id = format!("B{}", creditloop_store::new_check_id(Utc::now()));
    let on = state.today();

    match out_format {
        OutFormat::Csv => {
            // Results stream out as they are computed; the body ends only after the last group
            // of checks is durable, and an error mid-way cuts the body (the client sees it fail).
            let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(64);
            let id = batch_id.clone();
            tokio::task::spawn_blocking(move || {
                let writer = ChannelWriter {
                    tx: tx.clone(),
                    buf: Vec::with_capacity(64 * 1024),
                };
                let result = (|| -> Result<batch_check::BatchSummary, String> {
                    let mut sink: Box<dyn ResultSink> =
                        Box::new(CsvSink::new(writer).map_err(|e| e.to_string())?);
                    let summary =
                        run_batch_by(&state, &actor, &scenario, on, agency, id, rows, &mut *sink)?;
                    sink.finish().map_err(|e| e.to_string())?;
                    Ok(summary)
                })();
                match result {
                    Ok(s) => tracing::info!(batch = %s.batch_id, rows = s.rows, "batch check done"),
                    Err(e) => {
                        tracing::error!(error = %e, "batch check failed");
                        let _ = tx.blocking_send(Err(std::io::Error::other(e)));
                    }
                }
            });
            let stream = tokio_stream::wrappers::ReceiverStream::new(rx);
            Ok((
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"checks-{batch_id}.csv\""),
                    ),
                    (
                        header::HeaderName::from_static("x-creditloop-batch"),
                        batch_id,
                    ),
                ],
                Body::from_stream(stream),
            )
                .into_response())
        }
        OutFormat::Xlsx => {
            let id = batch_id.clone();
            let (summary, bytes) = tokio::task::spawn_blocking(move || {
                let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
                let path = dir.path().join("results.xlsx");
                let mut sink: Box<dyn ResultSink> =
                    Box::new(XlsxSink::create(&path).map_err(|e| e.to_string())?);
                let summary =
                    run_batch_by(&state, &actor, &scenario, on, agency, id, rows, &mut *sink)?;
                sink.finish().map_err(|e| e.to_string())?;
                let bytes = std::fs::read(&path).map_err(|e| e.to_string())?;
                Ok::<_, String>((summary, bytes))
            })
            .await?
            .map_err(ApiError::Internal)?;
            Ok((
                [
                    (
                        header::CONTENT_TYPE,
                        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                            .to_string(),
                    ),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"checks-{batch_id}.xlsx\""),
                    ),
                    (
                        header::HeaderName::from_static("x-creditloop-batch"),
                        serde_json::to_string(&summary).unwrap_or_default(),
                    ),
                ],
                bytes,
            )
                .into_response())
        }
    }
}

/// Runs a batch over the current snapshot, storing through the check log; returns when every row is
/// durable. The actor of its audit entries is `anonymous` (the CLI); see [`run_batch_by`].
pub fn run_batch(
    state: &AppState,
    scenario: &Scenario,
    on: chrono::NaiveDate,
    agency: Option<String>,
    batch_id: String,
    rows: impl Iterator<Item = creditloop_ingest::RawRowResult>,
    sink: &mut dyn ResultSink,
) -> Result<batch_check::BatchSummary, String> {
    run_batch_by(
        state,
        audit::ANONYMOUS,
        scenario,
        on,
        agency,
        batch_id,
        rows,
        sink,
    )
}

/// [`run_batch`] with the actor who asked.
#[allow(clippy::too_many_arguments)]
pub fn run_batch_by(
    state: &AppState,
    actor: &str,
    scenario: &Scenario,
    on: chrono::NaiveDate,
    agency: Option<String>,
    batch_id: String,
    rows: impl Iterator<Item = creditloop_ingest::RawRowResult>,
    sink: &mut dyn ResultSink,
) -> Result<batch_check::BatchSummary, String> {
    let snap = state.read.snapshot();
    let req = BatchRequest {
        catalogue: &state.catalogue,
        pii: &state.pii,
        scenario,
        on,
        agency,
        batch_id,
    };
    // Groups handed to the check log and the audit log, not yet known to be durable.
    let mut in_flight = std::collections::VecDeque::new();
    let wait = |(stored, audited): (crate::readpath::Pending, creditloop_audit::PendingAppend)| {
        stored.wait()?;
        audited
            .wait()
            .map(|_| ())
            .map_err(|e| format!("audit log: {e}"))
    };
    let summary = batch_check::run(&snap, &req, rows, sink, &mut |group| {
        // One audit entry per stored group of a batch (up to 20,000 rows): its digest covers every
        // row's receipt and answer in order, so each row stays provable from the check log
        // without a log entry per row.
        let audited = state.audit.submit(checks::batch_group_entry(&group, actor));
        in_flight.push_back((state.check_log.submit(group)?, audited));
        // A store slower than the checks holds up the batch rather than its memory growing.
        if in_flight.len() > GROUPS_IN_FLIGHT {
            in_flight.pop_front().map_or(Ok(()), wait)?;
        }
        Ok(())
    })
    .map_err(|e| format!("{e} / {}", e.zh()))?;
    for group in in_flight {
        wait(group)?;
    }
    Ok(summary)
}

/// Groups of a batch (20,000 rows each) stored at once at most.
const GROUPS_IN_FLIGHT: usize = 4;

/// A `Write` that sends 64 KiB chunks into the response body channel (from a blocking thread).
struct ChannelWriter {
    tx: tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>,
    buf: Vec<u8>,
}

impl std::io::Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= 64 * 1024 {
            self.flush()?;
        }
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::take(&mut self.buf));
        self.buf.reserve(64 * 1024);
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::other("the client went away"))
    }
}
