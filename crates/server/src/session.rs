//! Web sessions of the pages (工作台): a random id in an `HttpOnly; SameSite=Strict` cookie, stored
//! as its SHA-256 hash with an expiry, and a per-session CSRF token that every POST form carries.

use chrono::Utc;
use creditloop_domain::access::Principal;
use creditloop_store::StoredSession;

use crate::AppState;
use crate::credentials::{secret_hash, user_principal};
use crate::error::ApiError;

/// How long a session lasts (a working day).
pub const SESSION_HOURS: i64 = 10;

/// The session behind a cookie value, if it is live.
pub async fn session(state: &AppState, cookie: &str) -> Result<Option<StoredSession>, ApiError> {
    let store = state.store.clone();
    let hash = secret_hash(cookie);
    let found = tokio::task::spawn_blocking(move || store.session(&hash)).await??;
    Ok(found.filter(|s| Utc::now() < s.expires_at))
}

/// The principal of a live session whose user is still enabled.
pub async fn principal(state: &AppState, cookie: &str) -> Result<Option<Principal>, ApiError> {
    let Some(s) = session(state, cookie).await? else {
        return Ok(None);
    };
    let store = state.store.clone();
    let user = tokio::task::spawn_blocking(move || store.user(&s.username)).await??;
    Ok(user.filter(|u| !u.disabled).map(|u| user_principal(&u)))
}
