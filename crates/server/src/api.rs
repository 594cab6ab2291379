//! JSON API handlers under `/api/v1`.

use axum::extract::{Multipart, State};
use std::sync::Arc;

use crate::extract::{Json, Path, Query, RawBody};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use creditloop_domain::ids;
use creditloop_domain::record::{Category, RecordKey};
use creditloop_domain::subject::SubjectKey;

use crate::auth::{Auth, Required};
use crate::error::ApiError;
use crate::{AppState, intake, mask};
use creditloop_domain::access::Act;

pub async fn healthz(State(state): State<Arc<AppState>>) -> Result<Json<Value>, ApiError> {
    let store = state.store.clone();
    // A health check that reads the store, so a broken database shows; one cheap read, not a
    // count, since load balancers call it every few seconds whatever the store's size.
    tokio::task::spawn_blocking(move || store.ping()).await??;
    // The counts are those of the check index: what checks are answered from, at no cost.
    let index = state.read.snapshot();
    Ok(Json(json!({
        "status": "ok",
        "backend": state.store.backend(),
        "subjects": index.subject_count(),
        "records": index.record_count(),
        "data_version": index.version(),
        "version": env!("CARGO_PKG_VERSION"),
    })))
}

pub async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        include_str!("openapi.json"),
    )
        .into_response()
}

#[derive(Debug, Deserialize)]
pub struct SubmitQuery {
    /// Category of every record when the rows do not say.
    pub category: Option<String>,
    /// Submitting agency (its unified code): the caller's own by default; another one only for the
    /// credit office.
    pub agency: Option<String>,
    /// CSV encoding override for uploads: utf-8, gbk, gb18030.
    pub encoding: Option<String>,
    /// XLSX sheet name for uploads.
    pub sheet: Option<String>,
    /// One transaction for everything: any rejected row rejects the whole submission.
    #[serde(default)]
    pub all_or_nothing: bool,
}

impl SubmitQuery {
    fn category(&self) -> Result<Option<Category>, ApiError> {
        match self.category.as_deref() {
            None | Some("") => Ok(None),
            Some(c) => Category::parse(c).map(Some).ok_or_else(|| {
                ApiError::bad_request(
                    format!("未知的信息类别“{c}”"),
                    format!("unknown category `{c}`"),
                )
            }),
        }
    }
}

/// The agency a submission is for: the one asked for, else the caller's own; 403 unless the caller
/// may submit for it.
fn submitting_agency(auth: &Required, q: &mut SubmitQuery) -> Result<(), ApiError> {
    let requested = q.agency.as_deref().map(ids::normalize);
    let agency = auth.agency_or(&requested).to_string();
    auth.permit(&Act::SubmitRecords { agency: &agency })?;
    q.agency = (!agency.is_empty()).then_some(agency);
    Ok(())
}

/// `POST /api/v1/records`: one record object, an array of them, or `{"records": […]}`.
pub async fn submit_json(
    State(state): State<Arc<AppState>>,
    auth: Required,
    Query(mut q): Query<SubmitQuery>,
    RawBody(body): RawBody,
) -> Result<Json<Value>, ApiError> {
    submitting_agency(&auth, &mut q)?;
    let value: Value = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(
            format!("请求体不是有效的 JSON：{e}"),
            format!("the body is not valid JSON: {e}"),
        )
    })?;
    let category = q.category()?;
    let report = tokio::task::spawn_blocking(move || {
        intake::submit_json(
            &state,
            &auth.0,
            value,
            category,
            q.agency,
            q.all_or_nothing,
            &body,
        )
    })
    .await??;
    Ok(Json(report))
}

/// `POST /api/v1/records/upload`: a file as `multipart/form-data` (field `file`) or as the raw body
/// with its content type (text/csv, application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,
/// application/x-ndjson, application/json).
pub async fn submit_upload(
    State(state): State<Arc<AppState>>,
    auth: Required,
    Query(mut q): Query<SubmitQuery>,
    headers: HeaderMap,
    request: axum::extract::Request,
) -> Result<Json<Value>, ApiError> {
    submitting_agency(&auth, &mut q)?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let (name, bytes) = if content_type.starts_with("multipart/form-data") {
        let mut mp = <Multipart as axum::extract::FromRequest<()>>::from_request(request, &())
            .await
            .map_err(|e| {
                ApiError::bad_request(
                    format!("无法读取上传表单：{e}"),
                    format!("bad multipart body: {e}"),
                )
            })?;
        let mut found = None;
        while let Some(field) = mp
            .next_field()
            .await
            .map_err(|e| crate::extract::multipart_error(&e))?
        {
            if field.name() == Some("file") {
                let name = field.file_name().unwrap_or("upload").to_string();
                let data = field
                    .bytes()
                    .await
                    .map_err(|e| crate::extract::multipart_error(&e))?;
                found = Some((name, data));
                break;
            }
        }
        found.ok_or_else(|| {
            ApiError::bad_request("上传表单缺少 file 字段", "the form has no `file` field")
        })?
    } else {
        let ext = match content_type.split(';').next().unwrap_or("").trim() {
            "text/csv" | "text/plain" => "csv",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => "xlsx",
            "application/x-ndjson" | "application/jsonl" => "jsonl",
            "application/json" => "json",
            other => return Err(ApiError::UnsupportedMedia(other.to_string())),
        };
        let bytes = axum::body::to_bytes(request.into_body(), state.max_body)
            .await
            .map_err(|_| ApiError::TooLarge)?;
        (format!("upload.{ext}"), bytes)
    };
    let category = q.category()?;
    let report = tokio::task::spawn_blocking(move || {
        intake::submit_file(&state, &auth.0, &name, &bytes, category, &q)
    })
    .await??;
    Ok(Json(report))
}

#[derive(Debug, Deserialize)]
pub struct SearchQuery {
    pub q: Option<String>,
    pub limit: Option<usize>,
}

/// `GET /api/v1/subjects?q=`: by exact code, or by part of the name.
pub async fn search_subjects(
    State(state): State<Arc<AppState>>,
    Query(q): Query<SearchQuery>,
) -> Result<Json<Value>, ApiError> {
    let query = q.q.unwrap_or_default();
    let query = query.trim().to_string();
    if query.is_empty() {
        return Err(ApiError::bad_request(
            "请提供查询词 q",
            "the query parameter `q` is required",
        ));
    }
    let limit = q.limit.unwrap_or(20).clamp(1, 200);
    let found = tokio::task::spawn_blocking(move || search(&state, &query, limit)).await??;
    let mut v = json!({ "subjects": found });
    mask::mask_json(&mut v);
    Ok(Json(v))
}

/// Search by code first (exact identifiers win, as screening services learned), then by part of
/// the name in the in-memory name index.
pub(crate) fn search(
    state: &AppState,
    query: &str,
    limit: usize,
) -> creditloop_store::Result<Vec<creditloop_store::SubjectSummary>> {
    if let Some(key) = crate::identity::find_subject(&*state.store, &state.pii, query)?
        && let Some(p) = state.store.subject(&key)?
    {
        return Ok(vec![p.subject]);
    }
    Ok(state.names.search(query, limit))
}

/// Resolves a path segment to a subject key: a key as we print it (`U:…`) or any code.
pub(crate) fn resolve(
    store: &dyn creditloop_store::Store,
    pii: &creditloop_pii::PiiKey,
    code: &str,
) -> creditloop_store::Result<Option<SubjectKey>> {
    let c = code.trim();
    if c.len() > 2 && c.as_bytes()[1] == b':' {
        return Ok(Some(SubjectKey(c.to_string())));
    }
    crate::identity::find_subject(store, pii, c)
}

/// `GET /api/v1/subjects/{code}`: the subject with the current version of each record.
pub async fn subject(
    State(state): State<Arc<AppState>>,
    Path(code): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let store = state.store.clone();
    let today = state.today();
    let c = code.clone();
    let pii = state.pii.clone();
    let profile = tokio::task::spawn_blocking(move || {
        let key = resolve(&*store, &pii, &c)?;
        match key {
            Some(k) => store.subject(&k),
            None => Ok(None),
        }
    })
    .await??;
    let Some(p) = profile else {
        let code = mask::mask_query(&code);
        return Err(ApiError::not_found(
            format!("未找到代码为“{code}”的主体"),
            format!("no subject with code `{code}`"),
        ));
    };
    let records: Vec<Value> = p
        .records
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "version": r.version,
                "public": r.record.is_public_on(today),
                "timeliness": r.timeliness,
                "record": r.record,
            })
        })
        .collect();
    let mut v = json!({
        "subject": p.subject,
        "persons": p.persons,
        "records": records,
    });
    mask::mask_json(&mut v);
    Ok(Json(v))
}

#[derive(Debug, Deserialize)]
pub struct HistoryQuery {
    pub source: String,
    pub category: String,
    pub doc_no: String,
}

/// `GET /api/v1/records/history?source=&category=&doc_no=`: every version of one record.
pub async fn record_history(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Query(q): Query<HistoryQuery>,
) -> Result<Json<Value>, ApiError> {
    let category = Category::parse(&q.category).ok_or_else(|| {
        ApiError::bad_request(
            format!("未知的信息类别“{}”", q.category),
            format!("unknown category `{}`", q.category),
        )
    })?;
    let key = RecordKey {
        source: ids::normalize(&q.source),
        category,
        doc_no: q.doc_no.trim().to_string(),
    };
    auth.permit(&Act::ReadRecordHistory {
        source: &key.source,
    })?;
    let store = state.store.clone();
    let versions = tokio::task::spawn_blocking(move || store.record_history(&key)).await??;
    if versions.is_empty() {
        return Err(ApiError::not_found("未找到该记录", "no such record"));
    }
    let mut v = json!({ "versions": versions });
    mask::mask_json(&mut v);
    Ok(Json(v))
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    pub limit: Option<usize>,
    /// Only this agency's batches: an agency's users always see only their own.
    pub agency: Option<String>,
}

/// `GET /api/v1/batches?agency=`: the latest submissions, newest first; of the caller's agency,
/// or of every agency for the credit office and the auditor.
pub async fn batches(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Query(q): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let agency = scoped_agency(&auth, q.agency.as_deref());
    auth.permit(&Act::ListBatches {
        agency: agency.as_deref(),
    })?;
    let limit = q.limit.unwrap_or(50).clamp(1, 500);
    let store = state.store.clone();
    let list = tokio::task::spawn_blocking(move || match agency {
        Some(a) => store.batches_of(&a, limit),
        None => store.batches(limit),
    })
    .await??;
    Ok(Json(json!({ "batches": list })))
}

/// The agency a listing is limited to: the one asked for, else the caller's own (an agency's users
/// have one), else none (every agency).
pub(crate) fn scoped_agency(auth: &Auth, requested: Option<&str>) -> Option<String> {
    requested
        .map(ids::normalize)
        .filter(|a| !a.is_empty())
        .or_else(|| auth.0.as_ref().and_then(|p| p.agency.clone()))
}

/// A batch that the caller may read: 404 when there is none, 401/403 when it is not the caller's.
async fn readable_batch(
    state: &AppState,
    auth: &Auth,
    id: &str,
) -> Result<creditloop_store::BatchSummary, ApiError> {
    // Anonymous callers are asked to log in before being told whether the batch exists.
    if auth.0.is_none() {
        auth.permit(&Act::ReadBatch { owner: None })?;
    }
    let store = state.store.clone();
    let i = id.to_string();
    let b = tokio::task::spawn_blocking(move || store.batch(&i)).await??;
    let Some(b) = b else {
        return Err(ApiError::not_found(
            format!("未找到批次 {id}"),
            format!("no batch `{id}`"),
        ));
    };
    auth.permit(&Act::ReadBatch {
        owner: b.agency.as_deref(),
    })?;
    Ok(b)
}

/// `GET /api/v1/batches/{id}`.
pub async fn batch(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let b = readable_batch(&state, &auth, &id).await?;
    Ok(Json(json!(b)))
}

/// `GET /api/v1/batches/{id}/rejects`: the rejected rows of a batch with their reasons; as CSV when
/// the client asks for `text/csv`, ready to be corrected and submitted again.
pub async fn batch_rejects(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    readable_batch(&state, &auth, &id).await?;
    let store = state.store.clone();
    let i = id.clone();
    let rows = tokio::task::spawn_blocking(move || store.rejects(&i)).await??;
    let wants_csv = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/csv"));
    if wants_csv {
        let csv = intake::rejects_csv(&rows)?;
        return Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"rejects-{id}.csv\""),
                ),
            ],
            csv,
        )
            .into_response());
    }
    let mut v = json!({ "batch": id, "rejected": rows });
    mask::mask_json(&mut v);
    Ok(Json(v).into_response())
}
