//! Web login through the real server (open access off): the login form, the session cookie, CSRF
//! tokens on every form post, the Origin check, TOTP for administrators, throttling of failed
//! logins, logout, and the audit entries of each attempt.

mod common;

use chrono::Utc;
use creditloop_audit::Action;
use creditloop_domain::access::Role;
use creditloop_server::credentials::{base32_decode, hash_password, new_totp_secret, totp_code};
use creditloop_store::StoredUser;
use reqwest::header::{COOKIE, LOCATION, ORIGIN, SET_COOKIE};
use reqwest::{Client, StatusCode, redirect};

const AGENCY: &str = "11120000MB19674671";
const PASSWORD: &str = "correct horse battery";

struct Site {
    s: common::TestServer,
    http: Client,
    _dir: tempfile::TempDir,
}

fn user(name: &str, role: Role, agency: Option<&str>, totp: Option<String>) -> StoredUser {
    let now = Utc::now();
    StoredUser {
        username: name.into(),
        display_name: name.into(),
        role,
        agency: agency.map(str::to_string),
        subject: None,
        password_hash: hash_password(PASSWORD).expect("hash"),
        totp_secret: totp,
        disabled: false,
        created_at: now,
        updated_at: now,
    }
}

impl Site {
    async fn start(secure: bool) -> Site {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut state = common::state_in(dir.path(), "2024-06-07", false);
        state.secure_cookies = secure;
        let s = common::serve(state).await;
        let officer = user("officer", Role::AgencyOfficer, Some(AGENCY), None);
        assert!(s.store.put_user(&officer).expect("user"));
        Site {
            s,
            http: Client::builder()
                .redirect(redirect::Policy::none())
                .build()
                .expect("client"),
            _dir: dir,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.s.base)
    }

    async fn login(&self, username: &str, password: &str, totp: &str) -> reqwest::Response {
        self.http
            .post(self.url("/login"))
            .form(&[
                ("username", username),
                ("password", password),
                ("totp", totp),
                ("next", "/workbench/check"),
            ])
            .send()
            .await
            .expect("login")
    }

    /// Logs in and returns the `Cookie` header value.
    async fn session(&self, username: &str, totp: &str) -> String {
        let r = self.login(username, PASSWORD, totp).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(r.headers()[LOCATION], "/workbench/check");
        let set = r.headers()[SET_COOKIE]
            .to_str()
            .expect("cookie")
            .to_string();
        set.split(';').next().expect("pair").to_string()
    }

    async fn page(&self, path: &str, cookie: &str) -> (StatusCode, String) {
        let r = self
            .http
            .get(self.url(path))
            .header(COOKIE, cookie)
            .send()
            .await
            .expect("page");
        (r.status(), r.text().await.expect("text"))
    }

    fn login_entries(&self) -> Vec<serde_json::Value> {
        self.s
            .audit
            .entries(1, 1000)
            .expect("entries")
            .into_iter()
            .filter(|e| e.entry.action == Action::Login)
            .map(|e| serde_json::json!({"actor": e.entry.actor, "detail": e.entry.detail}))
            .collect()
    }
}

/// The CSRF token a page's form carries.
fn csrf_of(page: &str) -> String {
    let at = page
        .find("name=\"csrf\" value=\"")
        .expect("a form with a csrf field");
    let rest = &page[at + "name=\"csrf\" value=\"".len()..];
    rest[..rest.find('"').expect("end")].to_string()
}

#[tokio::test]
async fn a_page_that_needs_a_user_sends_an_anonymous_caller_to_the_login_form() {
    let site = Site::start(false).await;
    let r = site
        .http
        .get(site.url("/workbench/check?agency=1"))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers()[LOCATION],
        "/login?next=%2Fworkbench%2Fcheck%3Fagency%3D1"
    );
    let (status, page) = site.page("/login?next=%2Fworkbench", "").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("<label for=\"username\">"), "{page}");
    assert!(page.contains("autocomplete=\"current-password\""));
    // The API answers 401, not a redirect.
    let r = site
        .http
        .get(site.url("/api/v1/checks"))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn login_sets_a_strict_http_only_cookie_and_every_attempt_is_audited() {
    let site = Site::start(false).await;
    let r = site.login("officer", "wrong password!!", "").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.headers().get(SET_COOKIE).is_none());
    assert!(r.text().await.expect("text").contains("用户名或口令不正确"));
    let r = site.login("nobody", PASSWORD, "").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.text().await.expect("text").contains("用户名或口令不正确"));

    let r = site.login("officer", PASSWORD, "").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let set = r.headers()[SET_COOKIE]
        .to_str()
        .expect("cookie")
        .to_string();
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age="] {
        assert!(set.contains(attr), "{set}");
    }
    assert!(!set.contains("Secure"), "plain HTTP in tests: {set}");
    let cookie = set.split(';').next().expect("pair").to_string();
    let (status, page) = site.page("/workbench", &cookie).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("officer"), "the user is shown");
    assert!(page.contains(AGENCY), "the user's own agency");

    let entries = site.login_entries();
    let results: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| {
            (
                e["actor"].as_str().unwrap_or(""),
                e["detail"]["result"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        results,
        [
            ("officer", "refused: bad_credentials"),
            ("nobody", "refused: bad_credentials"),
            ("officer", "ok"),
        ]
    );
}

#[tokio::test]
async fn the_cookie_is_secure_when_served_over_tls() {
    let site = Site::start(true).await;
    let r = site.login("officer", PASSWORD, "").await;
    let set = r.headers()[SET_COOKIE]
        .to_str()
        .expect("cookie")
        .to_string();
    assert!(set.contains("; Secure"), "{set}");
}

#[tokio::test]
async fn form_posts_of_a_session_need_its_csrf_token_and_this_origin() {
    let site = Site::start(false).await;
    let cookie = site.session("officer", "").await;
    let (status, page) = site.page("/workbench/check", &cookie).await;
    assert_eq!(status, StatusCode::OK);
    let token = csrf_of(&page);
    let form = [
        ("subject", "91310000132260250X"),
        ("scenario", "public_bidding"),
    ];
    let post = |extra: Option<(&'static str, String)>, origin: Option<&str>| {
        let mut fields: Vec<(String, String)> = form
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        if let Some((k, v)) = extra {
            fields.push((k.to_string(), v));
        }
        let mut r = site
            .http
            .post(site.url("/workbench/check"))
            .header(COOKIE, cookie.clone())
            .form(&fields);
        if let Some(o) = origin {
            r = r.header(ORIGIN, o);
        }
        r.send()
    };
    // No token, a wrong token, or another site's origin: refused, nothing checked.
    let r = post(None, None).await.expect("post");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.expect("text").contains("防伪令牌"));
    let r = post(Some(("csrf", "forged".into())), None)
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = post(Some(("csrf", token.clone())), Some("http://evil.example"))
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(
        site.s
            .store
            .checks(&Default::default())
            .expect("checks")
            .is_empty(),
        "no check was run by a refused post"
    );
    // The token of the session, from this origin: the check runs.
    let r = post(Some(("csrf", token.clone())), Some(&site.s.base))
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(
        r.headers()[LOCATION]
            .to_str()
            .expect("location")
            .starts_with("/workbench/checks/")
    );
    // The header form of the token works for the API under a session too.
    let r = site
        .http
        .post(site.url("/api/v1/checks"))
        .header(COOKIE, cookie.clone())
        .header("X-CSRF-Token", token.clone())
        .json(&serde_json::json!({"subject": "91310000132260250X", "scenario": "public_bidding"}))
        .send()
        .await
        .expect("api");
    assert_eq!(r.status(), StatusCode::OK);
    let r = site
        .http
        .post(site.url("/api/v1/checks"))
        .header(COOKIE, cookie.clone())
        .json(&serde_json::json!({"subject": "91310000132260250X", "scenario": "public_bidding"}))
        .send()
        .await
        .expect("api");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // The multipart upload form carries it in its action.
    let (_, page) = site.page("/workbench/submit", &cookie).await;
    assert!(
        page.contains(&format!("/workbench/submit/file?csrf={token}")),
        "multipart action carries the token"
    );
}

#[tokio::test]
async fn logout_ends_the_session_for_good() {
    let site = Site::start(false).await;
    let cookie = site.session("officer", "").await;
    let (_, page) = site.page("/workbench", &cookie).await;
    let token = csrf_of(&page);
    let r = site
        .http
        .post(site.url("/logout"))
        .header(COOKIE, cookie.clone())
        .form(&[("csrf", token)])
        .send()
        .await
        .expect("logout");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(
        r.headers()[SET_COOKIE]
            .to_str()
            .expect("cookie")
            .contains("Max-Age=0")
    );
    // The old cookie, replayed, is nobody.
    let (status, _) = site.page("/workbench", &cookie).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let last = site.login_entries().pop().expect("entry");
    assert_eq!(last["detail"]["method"], "logout");
}

#[tokio::test]
async fn an_administrator_needs_the_totp_code() {
    let site = Site::start(false).await;
    let secret = new_totp_secret();
    let admin = user("admin", Role::CreditOfficeAdmin, None, Some(secret.clone()));
    assert!(site.s.store.put_user(&admin).expect("user"));
    let r = site.login("admin", PASSWORD, "").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.text().await.expect("text").contains("动态口令"));
    let r = site.login("admin", PASSWORD, "000000").await;
    // A wrong code is refused (000000 is right once in a million steps; then this line lies).
    assert_ne!(r.status(), StatusCode::OK);
    let key = base32_decode(&secret).expect("secret");
    let code = format!("{:06}", totp_code(&key, Utc::now().timestamp() as u64 / 30));
    let cookie = site.session("admin", &code).await;
    let (status, _) = site.page("/workbench", &cookie).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn repeated_failures_lock_the_user_name_for_a_while() {
    let site = Site::start(false).await;
    for _ in 0..5 {
        let r = site.login("officer", "wrong password!!", "").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    // Now even the right password waits.
    let r = site.login("officer", PASSWORD, "").await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .expect("header")
        .parse()
        .expect("seconds");
    assert!(retry > 0 && retry <= 15 * 60, "{retry}");
    assert!(r.text().await.expect("text").contains("登录失败次数过多"));
    let last = site.login_entries().pop().expect("entry");
    assert_eq!(last["detail"]["result"], "refused: locked");
}

#[tokio::test]
async fn login_sends_only_to_paths_of_this_site() {
    let site = Site::start(false).await;
    let r = site
        .http
        .post(site.url("/login"))
        .form(&[
            ("username", "officer"),
            ("password", PASSWORD),
            ("next", "//evil.example/phish"),
        ])
        .send()
        .await
        .expect("login");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()[LOCATION], "/workbench");
}

/// The workbench pages under a login are scoped like the API: an officer of agency B sees and
/// changes nothing of agency A's, and what it submits is filed as B's whatever the form says.
#[tokio::test]
async fn an_officer_reaches_only_its_own_agencys_workbench() {
    const B: &str = "12100000425006133D";
    let site = Site::start(false).await;
    assert!(
        site.s
            .store
            .put_user(&user("officer-b", Role::AgencyOfficer, Some(B), None))
            .expect("user")
    );
    // Agency A's check and batch (with a rejected row), made by A's officer.
    let a = site.session("officer", "").await;
    let (_, page) = site.page("/workbench/check", &a).await;
    let token_a = csrf_of(&page);
    let r = site
        .http
        .post(site.url("/workbench/check"))
        .header(COOKIE, a.clone())
        .form(&[
            ("subject", "91310000132260250X"),
            ("scenario", "public_bidding"),
            ("csrf", token_a.as_str()),
        ])
        .send()
        .await
        .expect("check");
    let location = r.headers()[LOCATION]
        .to_str()
        .expect("location")
        .to_string();
    let receipt_path = location.split('?').next().expect("path").to_string();
    let receipt = receipt_path
        .trim_start_matches("/workbench/checks/")
        .to_string();
    let (status, _) = site.page(&receipt_path, &a).await;
    assert_eq!(status, StatusCode::OK, "A reads its own check");
    let mut bad = common::penalty("津市监罚〔2024〕7号", AGENCY);
    bad["行政相对人代码_1(统一社会信用代码)"] = serde_json::json!("91120116MA05JXXX1X");
    let r: serde_json::Value = site
        .http
        .post(site.url("/api/v1/records?category=penalty"))
        .header(COOKIE, a.clone())
        .header("X-CSRF-Token", token_a.clone())
        .json(&bad)
        .send()
        .await
        .expect("submit")
        .json()
        .await
        .expect("answer");
    assert_eq!(r["rejected"], 1, "{r}");
    let batch = r["batches"][0].as_str().expect("batch").to_string();

    // B's officer.
    let b = site.session("officer-b", "").await;
    let (_, page) = site.page("/workbench/checks", &b).await;
    let token_b = csrf_of(&page);
    assert!(!page.contains(&receipt), "A's check is not in B's list");
    let (status, _) = site.page(&receipt_path, &b).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "B may not read A's check");
    let r = site
        .http
        .post(site.url(&format!("{receipt_path}/feedback")))
        .header(COOKIE, b.clone())
        .form(&[("outcome", "normal"), ("csrf", token_b.as_str())])
        .send()
        .await
        .expect("feedback");
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "B may not answer A's check"
    );
    assert!(
        site.s
            .store
            .check_receipt(&receipt)
            .expect("read")
            .expect("stored")
            .feedback
            .is_none()
    );
    let (status, _) = site
        .page(&format!("/workbench/batches/{batch}/rejects.csv"), &b)
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "B may not download A's rejects"
    );
    let (_, page) = site.page("/workbench/submissions", &b).await;
    assert!(
        !page.contains(&batch),
        "A's batch is not in B's submissions"
    );
    // The agency field of the form does not make B act for A: the page works as B.
    let (status, page) = site
        .page(&format!("/workbench/submit?agency={AGENCY}"), &b)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains(B) && !page.contains(&format!("({AGENCY})")),
        "works as B"
    );
}

#[tokio::test]
async fn a_disabled_user_is_logged_out_at_once_and_cannot_log_in() {
    let site = Site::start(false).await;
    let cookie = site.session("officer", "").await;
    let mut u = site.s.store.user("officer").expect("read").expect("user");
    u.disabled = true;
    assert!(site.s.store.update_user(&u).expect("update"));
    let (status, _) = site.page("/workbench", &cookie).await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "the session no longer counts"
    );
    let r = site.login("officer", PASSWORD, "").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}
