//! Abuse limits through the real server, over real sockets: bodies over the limit, declared lengths
//! over the limit, requests axum itself cannot read, the rate limit of anonymous callers and the
//! header read timeout. Every refusal is a problem+json in Chinese and English.

use std::sync::Arc;
use std::time::Duration;

use creditloop_domain::access::Role;
use creditloop_server::credentials::{TokenRequest, issue_token};
use creditloop_server::limits::PublicRateLimit;
use reqwest::{Client, StatusCode};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

mod common;

/// The body limit of these tests (the real one is 64 MiB).
const LIMIT: usize = 4096;

/// A bound on how long a test waits for the server before it fails instead of hanging; never
/// asserted as a duration.
const GUARD: Duration = Duration::from_secs(60);

async fn start(
    open_access: bool,
    tweak: impl FnOnce(&mut creditloop_server::AppState),
    options: creditloop_server::ServeOptions,
) -> (common::TestServer, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut state = common::state_in(dir.path(), "2024-06-07", open_access);
    state.max_body = LIMIT;
    tweak(&mut state);
    (common::serve_with(state, options).await, dir)
}

async fn start_open() -> (common::TestServer, tempfile::TempDir) {
    start(true, |_| {}, Default::default()).await
}

/// Asserts a problem+json answer with `status` and `code`, in both languages.
async fn assert_problem(resp: reqwest::Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(resp.status(), status);
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    assert_eq!(ct, "application/problem+json");
    let body: Value = resp.json().await.expect("problem body");
    assert_problem_body(&body, status, code);
    body
}

fn assert_problem_body(body: &Value, status: StatusCode, code: &str) {
    assert_eq!(body["status"], status.as_u16(), "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert!(body["detail"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(body["detail_zh"].as_str().is_some_and(|s| !s.is_empty()));
}

/// Writes `head` (and `body`) on a raw connection and reads what comes back until the server
/// closes it.
async fn raw(base: &str, head: &str, body: &[u8]) -> String {
    let addr = base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.write_all(head.as_bytes()).await.expect("write head");
    s.write_all(body).await.expect("write body");
    let mut out = Vec::new();
    tokio::time::timeout(GUARD, s.read_to_end(&mut out))
        .await
        .expect("the server answers and closes")
        .ok();
    String::from_utf8_lossy(&out).into_owned()
}

/// A chunked request of `len` bytes of `fill` (no Content-Length: only reading finds it too large).
fn chunked(path: &str, content_type: &str, prefix: &[u8], len: usize) -> (String, Vec<u8>) {
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: {content_type}\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    let mut data = prefix.to_vec();
    data.resize(len, b' ');
    let mut body = Vec::new();
    for chunk in data.chunks(1000) {
        body.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        body.extend_from_slice(chunk);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"0\r\n\r\n");
    (head, body)
}

fn status_and_body(answer: &str) -> (u16, Value) {
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let lower = answer.to_ascii_lowercase();
    assert!(
        lower.contains("content-type: application/problem+json"),
        "{answer}"
    );
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or("");
    // The answer may itself be chunked: the JSON is the line that starts with `{`.
    let json = body
        .lines()
        .find(|l| l.starts_with('{'))
        .and_then(|l| serde_json::from_str(l).ok())
        .unwrap_or(Value::Null);
    (status, json)
}

#[tokio::test]
async fn json_over_the_limit_is_413_problem() {
    let (s, _dir) = start_open().await;
    // Declared: refused from the headers.
    let big = format!("{{\"subject\":\"{}\"}}", "9".repeat(LIMIT));
    let resp = Client::new()
        .post(format!("{}/api/v1/checks", s.base))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .expect("request");
    assert_problem(resp, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    // Chunked: refused as it is read, by the JSON extractor and by the raw body of submissions.
    for path in ["/api/v1/checks", "/api/v1/records"] {
        let (head, body) = chunked(path, "application/json", b"{\"subject\":\"", LIMIT + 1);
        let (status, json) = status_and_body(&raw(&s.base, &head, &body).await);
        assert_eq!(status, 413, "{path}");
        assert_problem_body(&json, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    }
}

#[tokio::test]
async fn multipart_over_the_limit_is_413_problem() {
    let (s, _dir) = start_open().await;
    let mut prefix =
        b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\
Content-Type: text/csv\r\n\r\n"
            .to_vec();
    prefix.extend_from_slice("处罚决定书文号".as_bytes());
    let (head, body) = chunked(
        "/api/v1/records/upload",
        "multipart/form-data; boundary=XyZ",
        &prefix,
        LIMIT * 2,
    );
    let (status, json) = status_and_body(&raw(&s.base, &head, &body).await);
    assert_eq!(status, 413);
    assert_problem_body(&json, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
}

#[tokio::test]
async fn a_declared_length_over_the_limit_is_refused_before_the_body() {
    let (s, _dir) = start_open().await;
    // 10^12 bytes announced, a few sent: the answer comes from the headers alone (else it would be
    // the request timeout's 408 after two minutes).
    let head = "POST /api/v1/records/upload HTTP/1.1\r\nHost: localhost\r\n\
                Content-Type: text/csv\r\nContent-Length: 1000000000000\r\n\r\n";
    let answer = raw(&s.base, head, b"a,b,c\n").await;
    let (status, json) = status_and_body(&answer);
    assert_eq!(status, 413, "{answer}");
    assert_problem_body(&json, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
}

#[tokio::test]
async fn requests_axum_cannot_read_are_problems_in_both_languages() {
    let (s, _dir) = start_open().await;
    let c = Client::new();
    let url = |p: &str| format!("{}{p}", s.base);
    // Broken JSON.
    let resp = c
        .post(url("/api/v1/checks"))
        .header("content-type", "application/json")
        .body("{\"subject\": ")
        .send()
        .await
        .expect("request");
    assert_problem(resp, StatusCode::BAD_REQUEST, "bad_request").await;
    // JSON of the wrong shape.
    let resp = c
        .post(url("/api/v1/checks"))
        .header("content-type", "application/json")
        .body("{\"subject\": 12, \"scenario\": []}")
        .send()
        .await
        .expect("request");
    assert_problem(resp, StatusCode::UNPROCESSABLE_ENTITY, "unprocessable").await;
    // No content type.
    let resp = c
        .post(url("/api/v1/checks"))
        .body("{}")
        .send()
        .await
        .expect("request");
    assert_problem(
        resp,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
    // A query parameter of the wrong type.
    let resp = c
        .get(url("/api/v1/audit/entries?limit=many"))
        .send()
        .await
        .expect("request");
    assert_problem(resp, StatusCode::BAD_REQUEST, "bad_request").await;
    // A path parameter of the wrong type.
    let resp = c
        .get(url("/api/v1/audit/entries/minus-one"))
        .send()
        .await
        .expect("request");
    assert_problem(resp, StatusCode::BAD_REQUEST, "bad_request").await;
    // A method the path does not take.
    let resp = c
        .delete(url("/api/v1/checks"))
        .send()
        .await
        .expect("request");
    assert_problem(resp, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
}

#[tokio::test]
async fn anonymous_callers_are_rate_limited_per_address() {
    let (s, _dir) = start(
        false,
        |st| st.public_rate = PublicRateLimit::new(3, 3).map(Arc::new),
        Default::default(),
    )
    .await;
    let c = Client::new();
    let url = format!("{}/api/v1/subjects?q=x", s.base);
    for _ in 0..3 {
        let resp = c.get(&url).send().await.expect("request");
        assert_ne!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    }
    let resp = c.get(&url).send().await.expect("request");
    let retry_after: u64 = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in seconds");
    assert!(retry_after >= 1);
    assert_problem(resp, StatusCode::TOO_MANY_REQUESTS, "too_many_requests").await;
    // An authenticated caller from the same address is not limited.
    let (token, _) = issue_token(
        &*s.store,
        &s.audit,
        &TokenRequest {
            name: "system",
            role: Role::CreditOfficeAdmin,
            agency: None,
            subject: None,
            days: None,
            created_by: "test",
        },
    )
    .expect("token");
    for _ in 0..5 {
        let resp = c
            .get(&url)
            .bearer_auth(&token)
            .send()
            .await
            .expect("request");
        assert_eq!(resp.status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn open_access_is_not_rate_limited() {
    let (s, _dir) = start(
        true,
        |st| st.public_rate = PublicRateLimit::new(1, 1).map(Arc::new),
        Default::default(),
    )
    .await;
    for _ in 0..5 {
        let resp = reqwest::get(format!("{}/healthz", s.base))
            .await
            .expect("request");
        assert_eq!(resp.status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn headers_that_never_end_are_cut_off() {
    let options = creditloop_server::ServeOptions {
        header_read_timeout: Duration::from_millis(300),
        ..Default::default()
    };
    let (s, _dir) = start(true, |_| {}, options).await;
    let addr = s.base.trim_start_matches("http://").to_string();
    let mut conn = TcpStream::connect(&addr).await.expect("connect");
    conn.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
        .await
        .expect("write");
    // The headers never end; the server closes the connection (with at most a 408) on its own.
    let mut out = Vec::new();
    let read = tokio::time::timeout(GUARD, conn.read_to_end(&mut out)).await;
    assert!(read.is_ok(), "the connection was closed by the server");
    let text = String::from_utf8_lossy(&out);
    assert!(!text.contains("200 OK"), "{text}");
    // A connection that sends nothing at all is closed as well.
    let mut idle = TcpStream::connect(&addr).await.expect("connect");
    let mut out = Vec::new();
    let read = tokio::time::timeout(GUARD, idle.read_to_end(&mut out)).await;
    assert!(read.is_ok(), "an idle connection was closed by the server");
    // And the server still answers others.
    let resp = reqwest::get(format!("{}/healthz", s.base))
        .await
        .expect("request");
    assert_eq!(resp.status(), StatusCode::OK);
}
