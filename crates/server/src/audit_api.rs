//! The audit log over HTTP: signed tree heads, entries, and the RFC 6962 proofs that let anyone
//! check that an entry is in the log and that the log only grew between two heads.

use axum::extract::State;
use std::sync::Arc;

use crate::extract::{Json, Path, Query};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Auth;
use crate::error::ApiError;
use crate::{AppState, mask};
use creditloop_domain::access::Act;

fn audit_error(e: creditloop_audit::Error) -> ApiError {
    match e {
        creditloop_audit::Error::Invalid(m) => ApiError::bad_request(format!("参数无效：{m}"), m),
        other => ApiError::Internal(other.to_string()),
    }
}

fn head_json(h: &creditloop_audit::TreeHead) -> Value {
    json!(h)
}

/// `GET /api/v1/audit/heads`: every signed tree head, oldest first.
pub async fn heads(
    State(state): State<Arc<AppState>>,
    auth: Auth,
) -> Result<Json<Value>, ApiError> {
    auth.permit(&Act::ReadAuditLog)?;
    let log = state.audit.clone();
    let heads = tokio::task::spawn_blocking(move || log.heads())
        .await?
        .map_err(audit_error)?;
    Ok(Json(json!({
        "size": state.audit.size(),
        "heads": heads.iter().map(head_json).collect::<Vec<_>>(),
    })))
}

/// `GET /api/v1/audit/heads/latest`.
pub async fn latest_head(
    State(state): State<Arc<AppState>>,
    auth: Auth,
) -> Result<Json<Value>, ApiError> {
    auth.permit(&Act::ReadAuditLog)?;
    let log = state.audit.clone();
    let head = tokio::task::spawn_blocking(move || log.latest_head())
        .await?
        .map_err(audit_error)?;
    match head {
        Some(h) => Ok(Json(head_json(&h))),
        None => Err(ApiError::not_found(
            "尚未发布签名树头",
            "no signed tree head has been published yet",
        )),
    }
}

/// `POST /api/v1/audit/heads`: signs and publishes a head over everything committed now.
pub async fn publish(
    State(state): State<Arc<AppState>>,
    auth: Auth,
) -> Result<Json<Value>, ApiError> {
    auth.permit(&Act::PublishAuditHead)?;
    let log = state.audit.clone();
    let head = tokio::task::spawn_blocking(move || log.publish_head())
        .await?
        .map_err(audit_error)?;
    Ok(Json(head_json(&head)))
}

#[derive(Debug, Deserialize)]
pub struct EntriesQuery {
    pub from: Option<u64>,
    pub limit: Option<usize>,
}

fn entry_json(e: &creditloop_audit::StoredEntry) -> Value {
    let mut v = json!({
        "entry": e.entry,
        "leaf_hash": e.leaf_hash,
        "chain_hash": e.chain_hash,
    });
    mask::mask_json(&mut v);
    v
}

/// `GET /api/v1/audit/entries?from=&limit=`: entries in order, with their hashes.
pub async fn entries(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Query(q): Query<EntriesQuery>,
) -> Result<Json<Value>, ApiError> {
    auth.permit(&Act::ReadAuditLog)?;
    let log = state.audit.clone();
    let from = q.from.unwrap_or(1).max(1);
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let list = tokio::task::spawn_blocking(move || log.entries(from, limit))
        .await?
        .map_err(audit_error)?;
    Ok(Json(
        json!({ "entries": list.iter().map(entry_json).collect::<Vec<_>>() }),
    ))
}

/// `GET /api/v1/audit/entries/{seq}`.
pub async fn entry(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path(seq): Path<u64>,
) -> Result<Json<Value>, ApiError> {
    auth.permit(&Act::ReadAuditLog)?;
    let log = state.audit.clone();
    let e = tokio::task::spawn_blocking(move || log.entry(seq))
        .await?
        .map_err(audit_error)?;
    match e {
        Some(e) => Ok(Json(entry_json(&e))),
        None => Err(ApiError::not_found(
            format!("没有第 {seq} 条审计记录"),
            format!("no audit entry {seq}"),
        )),
    }
}

#[derive(Debug, Deserialize)]
pub struct InclusionQuery {
    pub seq: u64,
    /// Tree size to prove against (a signed head's size); the current size by default.
    pub size: Option<u64>,
}

/// `GET /api/v1/audit/proofs/inclusion?seq=&size=`: the audit path of an entry (RFC 6962 §2.1.1).
pub async fn inclusion(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Query(q): Query<InclusionQuery>,
) -> Result<Json<Value>, ApiError> {
    auth.permit(&Act::ReadAuditLog)?;
    let log = state.audit.clone();
    let size = q.size.unwrap_or_else(|| log.size());
    let p = tokio::task::spawn_blocking(move || log.inclusion_proof(q.seq, size))
        .await?
        .map_err(audit_error)?;
    Ok(Json(json!({
        "hash_algorithm": p.hash_algorithm,
        "seq": p.seq,
        "leaf_index": p.seq.saturating_sub(1),
        "tree_size": p.tree_size,
        "leaf_hash": p.leaf_hash,
        "root": p.root,
        "path": p.path,
    })))
}

#[derive(Debug, Deserialize)]
pub struct ConsistencyQuery {
    pub from: u64,
    pub to: Option<u64>,
}

/// `GET /api/v1/audit/proofs/consistency?from=&to=`: the consistency proof between two tree sizes
/// (RFC 6962 §2.1.2).
pub async fn consistency(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Query(q): Query<ConsistencyQuery>,
) -> Result<Json<Value>, ApiError> {
    auth.permit(&Act::ReadAuditLog)?;
    let log = state.audit.clone();
    let to = q.to.unwrap_or_else(|| log.size());
    let p = tokio::task::spawn_blocking(move || log.consistency_proof(q.from, to))
        .await?
        .map_err(audit_error)?;
    Ok(Json(json!({
        "hash_algorithm": p.hash_algorithm,
        "first": p.first,
        "second": p.second,
        "first_root": p.first_root,
        "second_root": p.second_root,
        "path": p.path,
    })))
}
