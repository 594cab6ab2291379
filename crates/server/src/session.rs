//! Web sessions of the pages (工作台): a random id in an `HttpOnly; SameSite=Strict` cookie (and
//! `Secure` when served over TLS), stored as its SHA-256 hash with an expiry, and a per-session CSRF
//! token that every POST form carries (checked by [`crate::csrf`]).
//!
//! Logging in asks for the password (argon2) and, for a user who has one, the TOTP code; every
//! attempt, good or bad, is audited (登录), and repeated failures for one user name are throttled.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::Utc;
use creditloop_audit::{Action, NewEntry};
use creditloop_domain::access::Principal;
use creditloop_store::StoredSession;
use serde_json::json;

use crate::AppState;
use crate::auth::SESSION_COOKIE;
use crate::credentials::{new_secret, secret_hash, user_principal, verify_password, verify_totp};
use crate::error::ApiError;

/// How long a session lasts (a working day).
pub const SESSION_HOURS: i64 = 10;

/// Failed logins of one user name allowed within [`THROTTLE_WINDOW`] before it is locked for the
/// rest of the window.
pub const MAX_FAILURES: u32 = 5;
/// The window of [`MAX_FAILURES`].
pub const THROTTLE_WINDOW: Duration = Duration::from_secs(15 * 60);

/// A live session: the user it stands for and its CSRF token.
#[derive(Debug, Clone)]
pub struct WebSession {
    pub principal: Principal,
    pub csrf_token: String,
    /// The stored hash of the cookie's id (for logout).
    pub id_hash: String,
}

/// The session behind a cookie value, if it is live.
async fn session(state: &AppState, cookie: &str) -> Result<Option<StoredSession>, ApiError> {
    let store = state.store.clone();
    let hash = secret_hash(cookie);
    let found = tokio::task::spawn_blocking(move || store.session(&hash)).await??;
    Ok(found.filter(|s| Utc::now() < s.expires_at))
}

/// The live session of a cookie value whose user is still enabled.
pub async fn web_session(state: &AppState, cookie: &str) -> Result<Option<WebSession>, ApiError> {
    let Some(s) = session(state, cookie).await? else {
        return Ok(None);
    };
    let store = state.store.clone();
    let name = s.username.clone();
    let user = tokio::task::spawn_blocking(move || store.user(&name)).await??;
    Ok(user.filter(|u| !u.disabled).map(|u| WebSession {
        principal: user_principal(&u),
        csrf_token: s.csrf_token,
        id_hash: s.id_hash,
    }))
}

/// Failed logins per user name, in memory: a restart forgets them, which is acceptable for a
/// throttle (the audit log keeps every attempt).
#[derive(Debug, Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl LoginThrottle {
    /// Seconds until `username` may try again, when it is locked.
    pub fn locked_for(&self, username: &str) -> Option<u64> {
        let map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let (n, since) = map.get(username)?;
        let left = THROTTLE_WINDOW.checked_sub(since.elapsed())?;
        (*n >= MAX_FAILURES).then(|| left.as_secs().max(1))
    }

    fn failed(&self, username: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        // Forget stale entries so that guessing many names cannot grow the map without bound.
        if map.len() > 10_000 {
            map.retain(|_, (_, since)| since.elapsed() < THROTTLE_WINDOW);
        }
        let e = map
            .entry(username.to_string())
            .or_insert((0, Instant::now()));
        if e.1.elapsed() >= THROTTLE_WINDOW {
            *e = (0, Instant::now());
        }
        e.0 += 1;
    }

    fn succeeded(&self, username: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(username);
    }
}

/// Why a login was refused. The page says the same thing for a wrong name and a wrong password,
/// so that it does not tell which user names exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginRefusal {
    /// Unknown user, wrong password or disabled user.
    BadCredentials,
    /// The user has a second factor and the code was missing or wrong.
    BadTotp,
    /// Too many failures; try again after the seconds given.
    Locked(u64),
}

impl LoginRefusal {
    pub fn zh(self) -> String {
        match self {
            LoginRefusal::BadCredentials => "用户名或口令不正确".into(),
            LoginRefusal::BadTotp => "动态口令不正确或未填写".into(),
            LoginRefusal::Locked(s) => {
                format!("登录失败次数过多，请 {} 分钟后再试", s.div_ceil(60))
            }
        }
    }

    pub fn en(self) -> String {
        match self {
            LoginRefusal::BadCredentials => "wrong user name or password".into(),
            LoginRefusal::BadTotp => "the one-time code is missing or wrong".into(),
            LoginRefusal::Locked(s) => format!("too many failed logins; try again in {s} s"),
        }
    }

    fn code(self) -> &'static str {
        match self {
            LoginRefusal::BadCredentials => "bad_credentials",
            LoginRefusal::BadTotp => "bad_totp",
            LoginRefusal::Locked(_) => "locked",
        }
    }
}

/// A new session: the cookie value to hand to the browser and its CSRF token.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub cookie_value: String,
    pub csrf_token: String,
    pub principal: Principal,
}

/// Checks a login and, when it holds, stores a new session. Every attempt is audited before it is
/// answered; an audit failure fails the login.
pub async fn login(
    state: &AppState,
    username: &str,
    password: &str,
    totp: &str,
) -> Result<Result<NewSession, LoginRefusal>, ApiError> {
    let username = username.trim().to_string();
    let outcome = if let Some(secs) = state.logins.locked_for(&username) {
        Err(LoginRefusal::Locked(secs))
    } else {
        let store = state.store.clone();
        let name = username.clone();
        let user = tokio::task::spawn_blocking(move || store.user(&name)).await??;
        let password = password.to_string();
        let totp = totp.to_string();
        // argon2 takes tens of milliseconds: off the async threads. An unknown user is verified
        // against a fixed hash too, so the time taken does not tell which names exist.
        tokio::task::spawn_blocking(move || match user {
            Some(u) if !u.disabled && verify_password(&password, &u.password_hash) => {
                match &u.totp_secret {
                    Some(secret) if !verify_totp(secret, &totp, Utc::now()) => {
                        Err(LoginRefusal::BadTotp)
                    }
                    _ => Ok(u),
                }
            }
            Some(_) => Err(LoginRefusal::BadCredentials),
            None => {
                let _ = verify_password(&password, &DUMMY_HASH);
                Err(LoginRefusal::BadCredentials)
            }
        })
        .await?
    };
    match &outcome {
        Ok(_) => state.logins.succeeded(&username),
        Err(LoginRefusal::Locked(_)) => {}
        Err(_) => state.logins.failed(&username),
    }
    let (agency, result) = match &outcome {
        Ok(u) => (u.agency.clone(), "ok".to_string()),
        Err(r) => (None, format!("refused: {}", r.code())),
    };
    let actor = if username.is_empty() {
        crate::audit::ANONYMOUS.to_string()
    } else {
        username.clone()
    };
    let mut entry = NewEntry::new(actor, Action::Login);
    entry.agency = agency;
    entry.detail = json!({ "method": "password", "result": result });
    crate::audit::append(&state.audit, entry)
        .await
        .map_err(ApiError::Internal)?;
    let user = match outcome {
        Ok(u) => u,
        Err(r) => return Ok(Err(r)),
    };
    let cookie_value = new_secret();
    let now = Utc::now();
    let stored = StoredSession {
        id_hash: secret_hash(&cookie_value),
        username: user.username.clone(),
        csrf_token: new_secret(),
        created_at: now,
        expires_at: now + chrono::Duration::hours(SESSION_HOURS),
    };
    let csrf_token = stored.csrf_token.clone();
    let store = state.store.clone();
    tokio::task::spawn_blocking(move || store.put_session(&stored)).await??;
    Ok(Ok(NewSession {
        cookie_value,
        csrf_token,
        principal: user_principal(&user),
    }))
}

/// Ends a session: the stored one is deleted, so the cookie is worthless even if it was copied.
pub async fn logout(state: &AppState, session: &WebSession) -> Result<(), ApiError> {
    let store = state.store.clone();
    let hash = session.id_hash.clone();
    tokio::task::spawn_blocking(move || store.delete_session(&hash)).await??;
    let mut entry = NewEntry::new(session.principal.user_id.clone(), Action::Login);
    entry.agency = session.principal.agency.clone();
    entry.detail = json!({ "method": "logout", "result": "ok" });
    crate::audit::append(&state.audit, entry)
        .await
        .map_err(ApiError::Internal)?;
    Ok(())
}

/// The `Set-Cookie` value that hands a session to the browser.
pub fn set_cookie(value: &str, secure: bool) -> String {
    format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        SESSION_HOURS * 3600,
        if secure { "; Secure" } else { "" }
    )
}

/// The `Set-Cookie` value that removes it.
pub fn clear_cookie(secure: bool) -> String {
    format!(
        "{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{}",
        if secure { "; Secure" } else { "" }
    )
}

/// An argon2id hash of a random password nobody knows, verified for unknown user names.
static DUMMY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    crate::credentials::hash_password(&new_secret()).unwrap_or_default()
});
