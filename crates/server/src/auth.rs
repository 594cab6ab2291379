//! Authentication as axum extractors, so that a handler's signature says who may call it:
//!
//! - [`Auth`]: the caller, if any (`None` for an anonymous caller); a token that is presented but
//!   bad (unknown, malformed, expired, revoked) is a 401, never silently anonymous;
//! - [`Required`]: an authenticated caller, else 401.
//!
//! Credentials are, in this order: an `Authorization: Bearer clt_…` header (API tokens of agency
//! systems), the client certificate of a TLS connection (客户端证书, bound to a user by its
//! fingerprint), or the session cookie of a web user who logged in. What the caller may then do is decided by
//! [`creditloop_domain::access::allows`] alone, through [`permit`]: handlers name the act, never a
//! role.
//!
//! With `open_access` (development and the demo only) an anonymous caller acts as the credit office
//! administrator, with the actor `anonymous` in the audit log.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use chrono::Utc;
use creditloop_audit::{Action, NewEntry};
use creditloop_domain::access::{Act, Decision, Principal, Role, allows};
use creditloop_store::StoredToken;
use serde_json::json;

use crate::AppState;
use crate::credentials::{looks_like_token, secret_hash, token_principal, user_principal};
use crate::error::ApiError;
use crate::session::WebSession;
use crate::tls::PeerCertificate;

/// The actor of audit entries made by anonymous callers.
pub const ANONYMOUS: &str = crate::audit::ANONYMOUS;

/// The name of the web session cookie.
pub const SESSION_COOKIE: &str = "creditloop_session";

/// The caller, if any.
#[derive(Debug, Clone)]
pub struct Auth(pub Option<Principal>);

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Required(pub Principal);

impl Auth {
    /// The audit actor: the principal's user id, or `anonymous`.
    pub fn actor(&self) -> &str {
        actor(self.0.as_ref())
    }

    /// `Ok` when the caller may do `act`; 401 or 403 otherwise.
    pub fn permit(&self, act: &Act<'_>) -> Result<(), ApiError> {
        permit(self.0.as_ref(), act)
    }
}

impl Required {
    pub fn actor(&self) -> &str {
        &self.0.user_id
    }

    pub fn permit(&self, act: &Act<'_>) -> Result<(), ApiError> {
        permit(Some(&self.0), act)
    }

    /// The agency the caller acts for: the one it asked for (`?agency=`), else its own. Whether it
    /// may act for it is [`permit`]'s to say; `""` stands for "no agency" (an administrator who
    /// named none).
    pub fn agency_or<'a>(&'a self, requested: &'a Option<String>) -> &'a str {
        requested
            .as_deref()
            .filter(|a| !a.is_empty())
            .or(self.0.agency.as_deref())
            .unwrap_or("")
    }
}

/// The audit actor of an optional principal.
pub fn actor(p: Option<&Principal>) -> &str {
    p.map_or(ANONYMOUS, |p| p.user_id.as_str())
}

/// Asks the one access decision and answers a refusal as 401 (nobody authenticated) or 403.
pub fn permit(p: Option<&Principal>, act: &Act<'_>) -> Result<(), ApiError> {
    match allows(p, act) {
        Decision::Allow => Ok(()),
        Decision::Unauthenticated => Err(login_required()),
        Decision::Forbidden(r) => Err(ApiError::Forbidden {
            zh: r.zh().into(),
            en: r.en().into(),
        }),
    }
}

/// The 401 of a caller who brought no credentials where they are needed.
fn login_required() -> ApiError {
    unauthorized(
        "请先登录，或在 Authorization 请求头中提供接口令牌（Bearer clt_…）",
        "authentication required: log in, or send `Authorization: Bearer clt_…`",
    )
}

fn unauthorized(zh: &str, en: &str) -> ApiError {
    ApiError::Unauthorized {
        zh: zh.into(),
        en: en.into(),
    }
}

/// The principal of open access: the credit office administrator, acting as `anonymous`.
pub fn open_access_principal() -> Principal {
    Principal {
        user_id: ANONYMOUS.into(),
        role: Role::CreditOfficeAdmin,
        agency: None,
        subject: None,
    }
}

impl FromRequestParts<Arc<AppState>> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, ApiError> {
        if let Some(p) = parts.extensions.get::<Auth>() {
            return Ok(p.clone());
        }
        let auth = authenticate(parts, state).await?;
        parts.extensions.insert(auth.clone());
        Ok(auth)
    }
}

impl FromRequestParts<Arc<AppState>> for Required {
    type Rejection = axum::response::Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, axum::response::Response> {
        use axum::response::IntoResponse;
        match Auth::from_request_parts(parts, state).await {
            Ok(Auth(Some(p))) => Ok(Required(p)),
            Ok(Auth(None)) if !parts.uri.path().starts_with("/api/") => {
                // A person on a page: to the login form, and back here afterwards.
                Err(crate::pages::login_redirect(parts).into_response())
            }
            Ok(Auth(None)) => Err(login_required().into_response()),
            Err(e) => Err(e.into_response()),
        }
    }
}

async fn authenticate(parts: &mut Parts, state: &AppState) -> Result<Auth, ApiError> {
    if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
        let value = value.to_str().unwrap_or("");
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .map(str::trim)
            .ok_or_else(|| {
                unauthorized(
                    "Authorization 请求头应为“Bearer clt_…”",
                    "the Authorization header must be `Bearer clt_…`",
                )
            })?;
        return token_auth(state, token).await.map(|p| Auth(Some(p)));
    }
    if let Some(cert) = parts.extensions.get::<PeerCertificate>() {
        return certificate_auth(state, cert).await.map(|p| Auth(Some(p)));
    }
    // The CSRF guard may have looked the session up already (a POST); else look it up here.
    let session = match parts.extensions.get::<Option<WebSession>>() {
        Some(s) => s.clone(),
        None => match session_cookie(parts) {
            Some(id) => crate::session::web_session(state, &id).await?,
            None => None,
        },
    };
    if let Some(s) = session {
        let p = s.principal.clone();
        parts.extensions.insert(Some(s));
        return Ok(Auth(Some(p)));
    }
    Ok(Auth(state.open_access.then(open_access_principal)))
}

/// The user a verified client certificate is bound to. A certificate of the CA bound to nobody, or
/// to a disabled user, is a 401: the holder meant to log in, so it is not served as anonymous. The
/// first request of a connection so authenticated is audited as the user's login.
async fn certificate_auth(state: &AppState, cert: &PeerCertificate) -> Result<Principal, ApiError> {
    let store = state.store.clone();
    let fp = cert.fingerprint.clone();
    let user = tokio::task::spawn_blocking(move || match store.certificate(&fp)? {
        Some(c) => store.user(&c.username),
        None => Ok(None),
    })
    .await??;
    let Some(user) = user else {
        tracing::warn!(fingerprint = %cert.fingerprint, "a client certificate bound to no user");
        return Err(unauthorized(
            "客户端证书未绑定用户，请联系信用办绑定（creditloop user bind-cert）",
            "the client certificate is bound to no user (creditloop user bind-cert)",
        ));
    };
    if user.disabled {
        return Err(unauthorized(
            "客户端证书绑定的用户已停用",
            "the client certificate's user is disabled",
        ));
    }
    if cert.first_login() {
        let mut entry = NewEntry::new(user.username.clone(), Action::Login).detail(json!({
            "method": "client_certificate", "fingerprint": cert.fingerprint,
        }));
        if let Some(a) = &user.agency {
            entry = entry.agency(a.clone());
        }
        crate::audit::append(&state.audit, entry)
            .await
            .map_err(ApiError::Internal)?;
    }
    Ok(user_principal(&user))
}

/// The session cookie's value, if the request carries one.
pub fn session_cookie(parts: &Parts) -> Option<String> {
    session_cookie_of(&parts.headers)
}

/// The session cookie's value among request headers.
pub fn session_cookie_of(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

async fn token_auth(state: &AppState, token: &str) -> Result<Principal, ApiError> {
    if !looks_like_token(token) {
        return Err(unauthorized("接口令牌格式无效", "the token is malformed"));
    }
    let hash = secret_hash(token);
    let stored = match state.tokens.get(&hash) {
        Some(t) => Some(t),
        None => {
            let store = state.store.clone();
            let h = hash.clone();
            let found = tokio::task::spawn_blocking(move || store.token_by_hash(&h)).await??;
            if let Some(t) = &found {
                state.tokens.put(&hash, t.clone());
            }
            found
        }
    };
    let Some(t) = stored else {
        tracing::warn!("an unknown API token was presented");
        return Err(unauthorized("接口令牌无效", "unknown token"));
    };
    let now = Utc::now();
    if t.revoked_at.is_some() {
        return Err(unauthorized(
            "接口令牌已被吊销",
            "the token has been revoked",
        ));
    }
    if !t.is_valid_at(now) {
        return Err(unauthorized("接口令牌已过期", "the token has expired"));
    }
    if state.tokens.should_touch(&hash) {
        let store = state.store.clone();
        // Last use is bookkeeping: written in the background, at most once a minute per token.
        tokio::task::spawn_blocking(move || {
            if let Err(e) = store.touch_token(&hash, now) {
                tracing::warn!(error = %e, "recording a token's last use failed");
            }
        });
    }
    Ok(token_principal(&t))
}

/// Tokens looked up recently, so that the check path does not read the store on every call. A
/// revocation takes effect within `ttl` (5 seconds by default; tests use zero).
pub struct TokenCache {
    ttl: Duration,
    entries: Mutex<HashMap<String, Cached>>,
}

struct Cached {
    token: StoredToken,
    fetched: Instant,
    touched: Option<Instant>,
}

/// How often a token's last use is written.
const TOUCH_EVERY: Duration = Duration::from_secs(60);

/// Entries kept at most; beyond it the cache starts afresh (only valid tokens are cached).
const MAX_CACHED: usize = 10_000;

impl TokenCache {
    pub fn new(ttl: Duration) -> Self {
        TokenCache {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn get(&self, hash: &str) -> Option<StoredToken> {
        let map = self.entries.lock().ok()?;
        map.get(hash)
            .filter(|c| c.fetched.elapsed() < self.ttl)
            .map(|c| c.token.clone())
    }

    fn put(&self, hash: &str, token: StoredToken) {
        if self.ttl.is_zero() {
            return;
        }
        if let Ok(mut map) = self.entries.lock() {
            if map.len() >= MAX_CACHED {
                map.clear();
            }
            let touched = map.get(hash).and_then(|c| c.touched);
            map.insert(
                hash.to_string(),
                Cached {
                    token,
                    fetched: Instant::now(),
                    touched,
                },
            );
        }
    }

    /// Whether the last use should be written now (and notes that it is).
    fn should_touch(&self, hash: &str) -> bool {
        let Ok(mut map) = self.entries.lock() else {
            return true;
        };
        match map.get_mut(hash) {
            Some(c) if c.touched.is_some_and(|t| t.elapsed() < TOUCH_EVERY) => false,
            Some(c) => {
                c.touched = Some(Instant::now());
                true
            }
            // Not cached (ttl zero): write every time.
            None => true,
        }
    }

    /// Forgets every cached token (after a revocation through the server).
    pub fn clear(&self) {
        if let Ok(mut map) = self.entries.lock() {
            map.clear();
        }
    }
}

impl Default for TokenCache {
    fn default() -> Self {
        TokenCache::new(Duration::from_secs(5))
    }
}
