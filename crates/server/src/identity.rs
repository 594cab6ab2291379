//! Persons by resident number (公民身份号码): lookups and the one unmasked read.
//!
//! Persons are filed under `P:` and a keyed pseudonym of their number, so a lookup by number
//! computes the pseudonym with the server's personal data key. The number itself is held only
//! sealed; `GET /api/v1/subjects/{code}/identity` opens it for the roles that may see it, after an
//! [`Action::UnmaskedRead`] entry is durable in the audit log.

use std::borrow::Cow;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use chrono::NaiveDate;
use creditloop_audit::{Action, NewEntry};
use creditloop_domain::access::Act;
use creditloop_domain::ids::{self, ResidentId};
use creditloop_domain::subject::SubjectKey;
use creditloop_index::{CheckIndex, Resolved};
use creditloop_pii::PiiKey;
use creditloop_store::Store;
use serde_json::{Value, json};

use crate::AppState;
use crate::api::resolve;
use crate::auth::Auth;
use crate::error::ApiError;

/// The pseudonym a resident number is filed under, when `code` is one (18 digits, or a legacy 15).
pub fn pseudonym_of(pii: &PiiKey, code: &str) -> Option<String> {
    // Most checks name an organisation by a code with letters: ruled out before any parsing.
    if !ResidentId::could_be(code) {
        return None;
    }
    ResidentId::parse(code, NaiveDate::MAX)
        .ok()
        .map(|id| pii.pseudonym(&id))
}

/// Finds a subject by any code, a resident number included. The code is tried as given first: a
/// 15-digit registration number can also read as a legacy resident number.
pub fn find_subject(
    store: &dyn Store,
    pii: &PiiKey,
    code: &str,
) -> creditloop_store::Result<Option<SubjectKey>> {
    let normal = ids::normalize(code);
    if let Some(k) = store.find_subject(&normal)? {
        return Ok(Some(k));
    }
    match pseudonym_of(pii, &normal) {
        Some(p) => store.find_subject(&p),
        None => Ok(None),
    }
}

/// What to resolve a check's subject by in the index: the text as given when it names a subject,
/// else the pseudonym when it is a resident number.
pub fn index_query<'a>(index: &CheckIndex, pii: &PiiKey, subject: &'a str) -> Cow<'a, str> {
    // Most checks name an organisation: text that is no resident number is resolved once, by the
    // check itself, and costs no HMAC.
    match pseudonym_of(pii, subject) {
        None => Cow::Borrowed(subject),
        Some(_) if matches!(index.resolve(subject), Resolved::Key(_)) => Cow::Borrowed(subject),
        Some(p) => Cow::Owned(p),
    }
}

/// `GET /api/v1/subjects/{code}/identity`: a natural person's resident number, unmasked. Audited
/// before it is answered: no entry, no answer.
pub async fn reveal(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path(code): Path<String>,
) -> Result<Json<Value>, ApiError> {
    // Asked once before any lookup, so that who may not see numbers learns nothing either.
    auth.permit(&Act::RevealIdentity { subject: "" })?;
    let store = state.store.clone();
    let pii = state.pii.clone();
    let c = code.clone();
    let sealed = tokio::task::spawn_blocking(move || {
        // A number names its key directly: a person known only as a company's legal
        // representative has a sealed number but no subject row of its own.
        let key = match pseudonym_of(&pii, &c) {
            Some(p) => Some(SubjectKey(format!("P:{p}"))),
            None => resolve(&*store, &pii, &c)?,
        };
        match key {
            Some(k) => store.sealed_identity(&k),
            None => Ok(None),
        }
    })
    .await??;
    let Some(sealed) = sealed else {
        return Err(ApiError::not_found(
            "未找到该自然人的身份证号码",
            "no resident number is held for this subject",
        ));
    };
    auth.permit(&Act::RevealIdentity {
        subject: sealed.key.as_str(),
    })?;
    let id = state.pii.open(&sealed).map_err(|e| {
        ApiError::Internal(format!(
            "sealed number of {} does not open: {e}",
            sealed.key
        ))
    })?;
    let entry = NewEntry::new(auth.actor(), Action::UnmaskedRead)
        .object(sealed.key.0.clone())
        .subject(sealed.key.0.clone())
        .detail(json!({"field": "resident_id", "via": "api"}));
    crate::audit::append(&state.audit, entry)
        .await
        .map_err(ApiError::Internal)?;
    Ok(Json(json!({
        "subject_key": sealed.key,
        "resident_id": id.as_str(),
        "masked": sealed.masked,
    })))
}
