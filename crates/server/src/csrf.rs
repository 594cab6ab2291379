//! Cross-site request forgery protection for the web session (跨站请求伪造防护).
//!
//! The session cookie is `SameSite=Strict`, which already keeps other sites' forms from carrying it
//! in current browsers; this guard does not rely on that alone. Every state-changing request
//! (anything but GET, HEAD and OPTIONS):
//!
//! - from a browser that names its `Origin` must name this server's host, whatever it
//!   authenticates with;
//! - that authenticates with the session cookie (no `Authorization` header) must carry the
//!   session's CSRF token: the `X-CSRF-Token` header, the `csrf` query parameter (multipart forms,
//!   whose body is a file) or the `csrf` field of a url-encoded form.
//!
//! API tokens are not sent by browsers on their own, so Bearer requests need no CSRF token. The
//! login form itself has no session yet: the `Origin` check covers it.

use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

use crate::AppState;
use crate::auth::Auth;
use crate::error::ApiError;
use crate::session::WebSession;

/// The header API clients of a web session send the token in.
pub const HEADER: &str = "x-csrf-token";
/// The form field and query parameter of the token.
pub const FIELD: &str = "csrf";

/// Paths that take a POST without a session (there is none yet).
const NO_TOKEN_PATHS: [&str; 1] = ["/login"];

/// The middleware (see the module documentation).
pub async fn guard(
    State(state): State<std::sync::Arc<AppState>>,
    req: Request,
    next: Next,
) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let api = req.uri().path().starts_with("/api/");
    if !same_origin(req.headers()) {
        return refuse(
            api,
            "请求来自其他网站，已拒绝（来源校验失败）",
            "cross-site request refused: the Origin is not this server",
        );
    }
    if req.headers().contains_key(header::AUTHORIZATION)
        || NO_TOKEN_PATHS.contains(&req.uri().path())
    {
        return next.run(req).await;
    }
    let Some(cookie) = crate::auth::session_cookie_of(req.headers()) else {
        return next.run(req).await;
    };
    // The rate limit layer may have authenticated the request already, looking the session up.
    let known = req.extensions().get::<Option<WebSession>>().cloned();
    let session = match known {
        Some(s) => s,
        None => match crate::session::web_session(&state, &cookie).await {
            Ok(s) => s,
            Err(e) => return e.into_response(),
        },
    };
    let Some(session) = session else {
        // A stale cookie authenticates nobody; the handler decides what an anonymous caller gets.
        let mut req = req;
        req.extensions_mut().insert(None::<WebSession>);
        return next.run(req).await;
    };
    let presented = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| query_token(req.uri().query()));
    let (req, presented) = match presented {
        Some(t) => (req, Some(t)),
        None if is_urlencoded(req.headers()) => {
            let (parts, body) = req.into_parts();
            let bytes = match axum::body::to_bytes(body, state.max_body).await {
                Ok(b) => b,
                Err(_) => return ApiError::TooLarge.into_response(),
            };
            let token = crate::pages::form_pairs(&bytes)
                .into_iter()
                .find(|(k, _)| k == FIELD)
                .map(|(_, v)| v);
            (Request::from_parts(parts, Body::from(bytes)), token)
        }
        None => (req, None),
    };
    if !presented.is_some_and(|t| constant_time_eq(t.as_bytes(), session.csrf_token.as_bytes())) {
        tracing::warn!(user = %session.principal.user_id, "a session request without its CSRF token");
        return refuse(
            api,
            "表单已过期或来源不明（缺少有效的防伪令牌），请刷新页面后重试",
            "missing or wrong CSRF token: reload the page and try again",
        );
    }
    let mut req = req;
    req.extensions_mut().insert(Some(session));
    next.run(req).await
}

fn refuse(api: bool, zh: &str, en: &str) -> Response {
    let e = ApiError::Forbidden {
        zh: zh.into(),
        en: en.into(),
    };
    if api {
        e.into_response()
    } else {
        crate::pages::PageError::from(e).into_response()
    }
}

/// Whether the request's `Origin`, when it has one, is this server (the `Host` it was sent to).
/// The scheme is not compared: behind a TLS proxy the server sees plain HTTP.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let origin = origin.to_str().unwrap_or("");
    origin
        .split_once("://")
        .is_some_and(|(_, rest)| rest.trim_end_matches('/').eq_ignore_ascii_case(host))
}

fn is_urlencoded(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
}

fn query_token(query: Option<&str>) -> Option<String> {
    crate::pages::form_pairs(query?.as_bytes())
        .into_iter()
        .find(|(k, _)| k == FIELD)
        .map(|(_, v)| v)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The CSRF token of the caller's web session, for the forms a page renders; `None` when the
/// caller did not come with a session (API token, open access), whose forms need none.
#[derive(Debug, Clone, Default)]
pub struct FormToken(pub Option<String>);

impl FromRequestParts<Arc<AppState>> for FormToken {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, ApiError> {
        // Authentication puts the session it used into the extensions.
        Auth::from_request_parts(parts, state).await?;
        Ok(FormToken(
            parts
                .extensions
                .get::<Option<WebSession>>()
                .and_then(|s| s.as_ref())
                .map(|s| s.csrf_token.clone()),
        ))
    }
}

impl FormToken {
    /// The hidden field of a url-encoded form.
    pub fn field(&self) -> maud::Markup {
        maud::html! {
            @if let Some(t) = &self.0 { input type="hidden" name=(FIELD) value=(t); }
        }
    }

    /// `action` with the token as a query parameter (multipart forms).
    pub fn action(&self, action: &str) -> String {
        match &self.0 {
            Some(t) => {
                let sep = if action.contains('?') { '&' } else { '?' };
                format!("{action}{sep}{FIELD}={}", urlencoding::encode(t))
            }
            None => action.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                axum::http::HeaderName::from_bytes(k.as_bytes()).expect("name"),
                v.parse().expect("value"),
            );
        }
        h
    }

    #[test]
    fn origin_must_be_this_host() {
        assert!(same_origin(&headers(&[("host", "127.0.0.1:8080")])));
        assert!(same_origin(&headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://127.0.0.1:8080")
        ])));
        assert!(same_origin(&headers(&[
            ("host", "credit.example.gov.cn"),
            ("origin", "https://credit.example.gov.cn")
        ])));
        for bad in [
            "http://evil.example",
            "http://127.0.0.1:8081",
            "null",
            "http://127.0.0.1:8080.evil.example",
        ] {
            assert!(
                !same_origin(&headers(&[("host", "127.0.0.1:8080"), ("origin", bad)])),
                "{bad}"
            );
        }
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert_eq!(query_token(Some("a=1&csrf=x%2By")), Some("x+y".into()));
        assert_eq!(query_token(None), None);
    }
}
