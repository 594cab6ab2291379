//! Logging in and out of the pages (登录 / 退出): user name, password and, for a user with a second
//! factor (administrators always), the TOTP code; a session cookie on success. See
//! [`crate::session`] for what is checked and audited and [`crate::csrf`] for the form tokens.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use std::sync::Arc;

use super::{Nav, PageResult, field, form_pairs, layout, see_other};
use crate::AppState;
use crate::auth::Auth;
use crate::csrf::FormToken;
use crate::session::{self, LoginRefusal, WebSession};

/// Where to go after logging in: a path of this site only (no `//host`, no scheme), else the
/// workbench.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.into(),
        _ => "/workbench".into(),
    }
}

/// The 303 to the login form that a page needing a user answers an anonymous caller with.
pub(crate) fn login_redirect(parts: &Parts) -> Response {
    let here = parts
        .uri
        .path_and_query()
        .map_or("/workbench", |p| p.as_str());
    see_other(&format!("/login?next={}", urlencoding::encode(here)))
}

fn form(next: &str, username: &str, error: Option<String>) -> Markup {
    html! {
        h1 { "登录" }
        p { "部门工作台供各部门及信用办工作人员使用。公众查询信用信息无需登录，请使用" a href="/" { "信用查询" } "。" }
        @if let Some(e) = error { p.error role="alert" { (e) } }
        form method="post" action="/login" {
            input type="hidden" name="next" value=(next);
            div.field {
                label for="username" { "用户名" }
                input #username name="username" value=(username) required autocomplete="username" maxlength="64" autofocus;
            }
            div.field {
                label for="password" { "口令" }
                input #password type="password" name="password" required autocomplete="current-password";
            }
            div.field {
                label for="totp" { "动态口令（已绑定身份验证器的账号填写，管理员必填）" }
                input #totp name="totp" inputmode="numeric" pattern="[0-9]{6}" maxlength="6" autocomplete="one-time-code" aria-describedby="totp-note";
                span #totp-note .muted { "6 位数字，见身份验证器应用" }
            }
            button type="submit" { "登录" }
        }
    }
}

/// `GET /login`: the form, or who is logged in.
pub async fn page(auth: Auth, token: FormToken, RawQuery(raw): RawQuery) -> PageResult {
    let pairs = form_pairs(raw.as_deref().unwrap_or("").as_bytes());
    let next = safe_next(field(&pairs, "next"));
    let body = match (&auth.0, &token.0) {
        (Some(p), Some(_)) => html! {
            h1 { "登录" }
            p.notice { "已登录为 " strong { (p.user_id) } "（" (p.role.zh()) "）。" }
            p { a.button href=(next) { "继续" } }
            (logout_form(&token))
        },
        _ => form(&next, "", None),
    };
    Ok(layout("登录", Nav::Workbench, body).into_response())
}

/// `POST /login`.
pub async fn submit(State(state): State<Arc<AppState>>, body: Bytes) -> PageResult {
    let pairs = form_pairs(&body);
    let username = field(&pairs, "username").unwrap_or("");
    let password = pairs
        .iter()
        .find(|(k, _)| k == "password")
        .map_or("", |(_, v)| v.as_str());
    let totp = field(&pairs, "totp").unwrap_or("");
    let next = safe_next(field(&pairs, "next"));
    match session::login(&state, username, password, totp).await? {
        Ok(s) => {
            let mut r = see_other(&next);
            if let Ok(v) = session::set_cookie(&s.cookie_value, state.secure_cookies).parse() {
                r.headers_mut().insert(header::SET_COOKIE, v);
            }
            Ok(r)
        }
        Err(refusal) => {
            let status = match refusal {
                LoginRefusal::Locked(_) => StatusCode::TOO_MANY_REQUESTS,
                _ => StatusCode::UNAUTHORIZED,
            };
            let page = layout(
                "登录",
                Nav::Workbench,
                form(&next, username, Some(refusal.zh())),
            );
            let mut r = (status, page).into_response();
            if let LoginRefusal::Locked(secs) = refusal
                && let Ok(v) = secs.to_string().parse()
            {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            Ok(r)
        }
    }
}

/// `POST /logout` (its CSRF token is checked by the guard before this runs).
pub async fn logout(
    State(state): State<Arc<AppState>>,
    session: Option<axum::extract::Extension<Option<WebSession>>>,
) -> PageResult {
    if let Some(axum::extract::Extension(Some(s))) = &session {
        session::logout(&state, s).await?;
    }
    let mut r = see_other("/");
    if let Ok(v) = session::clear_cookie(state.secure_cookies).parse() {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(r)
}

/// The logout button (a POST form: logging out changes state).
pub(crate) fn logout_form(token: &FormToken) -> Markup {
    html! {
        form.inline method="post" action="/logout" {
            (token.field())
            button.secondary type="submit" { "退出登录" }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(
            safe_next(Some("/workbench/check?agency=1")),
            "/workbench/check?agency=1"
        );
        for bad in [
            "//evil.example/x",
            "https://evil.example",
            "/\\evil",
            "workbench",
        ] {
            assert_eq!(safe_next(Some(bad)), "/workbench", "{bad}");
        }
        assert_eq!(safe_next(None), "/workbench");
    }
}
