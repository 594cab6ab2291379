//! Access through the real server: who may reach which endpoint with which token. Each test starts
//! a server on a fresh SQLite file with open access off, and issues tokens the way
//! `creditloop token create` does.

use std::sync::Arc;

mod common;
use std::time::Duration;

use creditloop_domain::access::Role;
use creditloop_server::credentials::{TokenRequest, issue_token, revoke_token};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

/// Agency A (the penalty fixture's source) and agency B.
const A: &str = "11120000MB19674671";
const B: &str = "12100000425006133D";

struct Server {
    base: String,
    store: Arc<dyn creditloop_store::Store>,
    audit: Arc<creditloop_audit::AuditLog>,
    _dir: tempfile::TempDir,
}

impl Server {
    async fn start() -> Server {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut state = common::state_in(dir.path(), "2024-06-07", false);
        // Revocations take effect at once.
        state.tokens = Arc::new(creditloop_server::auth::TokenCache::new(Duration::ZERO));
        assert!(!state.open_access, "open access is off by default");
        let s = common::serve(state).await;
        Server {
            base: s.base,
            store: s.store,
            audit: s.audit,
            _dir: dir,
        }
    }

    fn token(&self, name: &str, role: Role, agency: Option<&str>, days: Option<u32>) -> String {
        let (token, _) = issue_token(
            &*self.store,
            &self.audit,
            &TokenRequest {
                name,
                role,
                agency,
                subject: None,
                days,
                created_by: "test",
            },
        )
        .expect("issue token");
        token
    }

    /// Calls `path` with an optional token and JSON body; the status and the body as JSON (or
    /// `Null` when it is not JSON).
    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let mut r = Client::new().request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        if let Some(b) = body {
            r = r.json(b);
        }
        let resp = r.send().await.expect("request");
        let status = resp.status();
        let text = resp.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        self.call(Method::GET, path, token, None).await
    }

    async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, token, Some(body)).await
    }
}

/// A refusal is problem+json with a message in both languages.
fn assert_refused(status: StatusCode, body: &Value, expected: StatusCode) {
    assert_eq!(status, expected, "{body}");
    assert!(
        body["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{body}"
    );
    assert!(
        body["detail_zh"].as_str().is_some_and(|d| !d.is_empty()),
        "{body}"
    );
}

fn check_body(agency: Option<&str>) -> Value {
    let mut b = json!({"subject": "91310000132260250X", "scenario": "public_bidding"});
    if let Some(a) = agency {
        b["agency"] = json!(a);
    }
    b
}

#[tokio::test]
async fn anonymous_callers_reach_only_public_data() {
    let s = Server::start().await;
    for path in [
        "/healthz",
        "/api/v1/openapi.json",
        "/api/v1/subjects?q=商贸",
        "/",
        "/report/verify",
    ] {
        let (status, body) = s.get(path, None).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
    }
    for path in [
        "/api/v1/batches",
        "/api/v1/batches/X1",
        "/api/v1/batches/X1/rejects",
        "/api/v1/records/history?source=11120000MB19674671&category=penalty&doc_no=1",
        "/api/v1/checks",
        "/api/v1/checks/overdue",
        "/api/v1/checks/CK0",
        "/api/v1/audit/heads",
        "/api/v1/audit/heads/latest",
        "/api/v1/audit/entries",
        "/api/v1/audit/entries/1",
        "/api/v1/audit/proofs/inclusion?seq=1",
        "/api/v1/audit/proofs/consistency?from=1",
        "/api/v1/subjects/11010519491231002X/identity",
        "/dashboard",
    ] {
        let (status, body) = s.get(path, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}: {body}");
    }
    // The workbench's pages send a person to the login form instead.
    let no_redirects = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    for path in ["/workbench", "/workbench/checks", "/workbench/submit"] {
        let r = no_redirects
            .get(format!("{}{path}", s.base))
            .send()
            .await
            .expect("request");
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{path}");
        let to = r.headers()["location"].to_str().expect("location");
        assert!(to.starts_with("/login?next=%2Fworkbench"), "{path}: {to}");
    }
    for path in [
        "/api/v1/records",
        "/api/v1/checks",
        "/api/v1/checks/CK0/feedback",
        "/api/v1/audit/heads",
    ] {
        let (status, body) = s.post(path, None, &json!({})).await;
        assert_refused(status, &body, StatusCode::UNAUTHORIZED);
    }
    // The 401 says how to authenticate.
    let resp = Client::new()
        .get(format!("{}/api/v1/checks", s.base))
        .send()
        .await
        .expect("request");
    assert!(resp.headers().contains_key("www-authenticate"));
}

#[tokio::test]
async fn bad_expired_and_revoked_tokens_are_refused() {
    let s = Server::start().await;
    let good = s.token("a-officer", Role::AgencyOfficer, Some(A), Some(90));
    let expired = s.token("a-expired", Role::AgencyOfficer, Some(A), Some(0));
    let revoked = s.token("a-revoked", Role::AgencyOfficer, Some(A), None);
    let (status, body) = s.get("/api/v1/checks", Some(&good)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = s.get("/api/v1/checks", Some(&revoked)).await;
    assert_eq!(status, StatusCode::OK, "valid before revocation");
    assert!(revoke_token(&*s.store, &s.audit, "a-revoked", "test").expect("revoke"));

    let unknown = creditloop_server::credentials::new_token();
    for (token, what) in [
        (expired.as_str(), "expired"),
        (revoked.as_str(), "revoked"),
        (unknown.as_str(), "unknown"),
        ("clt_tooshort", "malformed"),
        ("not-a-token", "malformed"),
    ] {
        let (status, body) = s.get("/api/v1/checks", Some(token)).await;
        assert_refused(status, &body, StatusCode::UNAUTHORIZED);
        assert!(
            body["detail"].as_str().unwrap_or("").contains(what)
                || what == "malformed"
                    && body["detail"].as_str().unwrap_or("").contains("malformed"),
            "{what}: {body}"
        );
        // A bad token is refused even where an anonymous caller would be let in.
        let (status, _) = s.get("/api/v1/batches", Some(token)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    // Not a Bearer header.
    let resp = Client::new()
        .get(format!("{}/api/v1/checks", s.base))
        .header("authorization", "Basic dXNlcjpwYXNz")
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    // Last use is recorded.
    let t = s
        .store
        .tokens()
        .expect("tokens")
        .into_iter()
        .find(|t| t.name == "a-officer")
        .expect("token");
    assert!(t.last_used_at.is_some());
}

#[tokio::test]
async fn an_agency_reaches_only_its_own_batches_checks_and_feedback() {
    let s = Server::start().await;
    let a = s.token("a-officer", Role::AgencyOfficer, Some(A), None);
    let b = s.token("b-system", Role::AgencySystem, Some(B), None);
    let admin = s.token("office", Role::CreditOfficeAdmin, None, None);

    // A submits its own record; the batch is A's.
    let (status, r) = s
        .post(
            "/api/v1/records?category=penalty",
            Some(&a),
            &common::penalty("津市监罚〔2024〕1号", A),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(r["accepted"], 1, "{r}");
    let batch = r["batches"][0].as_str().expect("batch id").to_string();
    // A may not submit for B, nor rows whose source is B.
    let (status, body) = s
        .post(
            &format!("/api/v1/records?category=penalty&agency={B}"),
            Some(&a),
            &common::penalty("津市监罚〔2024〕2号", A),
        )
        .await;
    assert_refused(status, &body, StatusCode::FORBIDDEN);
    let (status, r) = s
        .post(
            "/api/v1/records?category=penalty",
            Some(&a),
            &common::penalty("津市监罚〔2024〕3号", B),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(
        (r["accepted"].as_u64(), r["rejected"].as_u64()),
        (Some(0), Some(1)),
        "{r}"
    );
    let reasons = r["rejects"].to_string();
    assert!(
        reasons.contains("own_source") || reasons.contains("本部门"),
        "{r}"
    );

    // Batches and rejects: A's own, not B's.
    let batch_path = format!("/api/v1/batches/{batch}");
    assert_eq!(s.get(&batch_path, Some(&a)).await.0, StatusCode::OK);
    let (status, body) = s.get(&batch_path, Some(&b)).await;
    assert_refused(status, &body, StatusCode::FORBIDDEN);
    let (status, body) = s.get(&format!("{batch_path}/rejects"), Some(&b)).await;
    assert_refused(status, &body, StatusCode::FORBIDDEN);
    assert_eq!(
        s.get(&format!("{batch_path}/rejects"), Some(&a)).await.0,
        StatusCode::OK
    );
    let (_, list) = s.get("/api/v1/batches", Some(&b)).await;
    assert_eq!(list["batches"].as_array().map(Vec::len), Some(0), "{list}");
    let (_, list) = s.get("/api/v1/batches", Some(&a)).await;
    assert!(
        !list["batches"].as_array().expect("list").is_empty(),
        "{list}"
    );
    let (status, body) = s
        .get(&format!("/api/v1/batches?agency={A}"), Some(&b))
        .await;
    assert_refused(status, &body, StatusCode::FORBIDDEN);
    let history = format!(
        "/api/v1/records/history?source={A}&category=penalty&doc_no={}",
        urlencoding::encode("津市监罚〔2024〕1号")
    );
    assert_eq!(s.get(&history, Some(&a)).await.0, StatusCode::OK);
    assert_eq!(s.get(&history, Some(&b)).await.0, StatusCode::FORBIDDEN);

    // A check made by A, recorded as A's with A's token as the actor.
    let (status, v) = s.post("/api/v1/checks", Some(&a), &check_body(None)).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let receipt = v["receipt"].as_str().expect("receipt").to_string();
    let (status, body) = s
        .post("/api/v1/checks", Some(&a), &check_body(Some(B)))
        .await;
    assert_refused(status, &body, StatusCode::FORBIDDEN);
    let receipt_path = format!("/api/v1/checks/{receipt}");
    let (status, stored) = s.get(&receipt_path, Some(&a)).await;
    assert_eq!(status, StatusCode::OK, "{stored}");
    assert_eq!(stored["agency"], A);
    let (status, body) = s.get(&receipt_path, Some(&b)).await;
    assert_refused(status, &body, StatusCode::FORBIDDEN);

    // Feedback only by the agency that checked.
    let fb = json!({"outcome": "normal", "measures": []});
    let fb_path = format!("{receipt_path}/feedback");
    let (status, body) = s.post(&fb_path, Some(&b), &fb).await;
    assert_refused(status, &body, StatusCode::FORBIDDEN);
    let (status, body) = s
        .post(
            &fb_path,
            Some(&a),
            &json!({"outcome": "normal", "agency": B}),
        )
        .await;
    assert_refused(status, &body, StatusCode::FORBIDDEN);
    let (status, body) = s.post(&fb_path, Some(&a), &fb).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["feedback"]["agency"], A);

    // Lists and overdue lists are scoped to one's own agency.
    let (_, own) = s.get("/api/v1/checks", Some(&a)).await;
    assert_eq!(own["checks"].as_array().map(Vec::len), Some(1), "{own}");
    let (_, other) = s.get("/api/v1/checks", Some(&b)).await;
    assert_eq!(other["checks"].as_array().map(Vec::len), Some(0), "{other}");
    for path in [
        format!("/api/v1/checks?agency={A}"),
        format!("/api/v1/checks/overdue?agency={A}"),
    ] {
        let (status, body) = s.get(&path, Some(&b)).await;
        assert_refused(status, &body, StatusCode::FORBIDDEN);
    }
    let (status, od) = s.get("/api/v1/checks/overdue", Some(&b)).await;
    assert_eq!(status, StatusCode::OK, "{od}");
    assert_eq!(od["checks"].as_array().map(Vec::len), Some(0));
    // A batch check as another agency is refused.
    let resp = Client::new()
        .post(format!(
            "{}/api/v1/checks/batch?scenario=public_bidding&agency={A}",
            s.base
        ))
        .bearer_auth(&b)
        .header("content-type", "text/csv")
        .body("统一社会信用代码\n91310000132260250X\n")
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);

    // The credit office sees and may do everything.
    assert_eq!(s.get(&receipt_path, Some(&admin)).await.0, StatusCode::OK);
    let (_, all) = s.get("/api/v1/checks", Some(&admin)).await;
    assert_eq!(all["checks"].as_array().map(Vec::len), Some(1));
    let (status, r) = s
        .post(
            &format!("/api/v1/records?category=penalty&agency={B}"),
            Some(&admin),
            &common::penalty("津市监罚〔2024〕4号", B),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(r["accepted"], 1, "{r}");

    // The audit log names the tokens as actors.
    let (status, log) = s
        .get("/api/v1/audit/entries?limit=1000", Some(&admin))
        .await;
    assert_eq!(status, StatusCode::OK, "{log}");
    let entries = log["entries"].as_array().expect("entries");
    let actor_of = |action: &str| -> Vec<String> {
        entries
            .iter()
            .filter(|e| e["entry"]["action"] == action)
            .filter_map(|e| e["entry"]["actor"].as_str().map(str::to_string))
            .collect()
    };
    assert!(
        actor_of("check").contains(&"token:a-officer".to_string()),
        "{log}"
    );
    assert!(actor_of("feedback").contains(&"token:a-officer".to_string()));
    assert!(actor_of("record_submission").contains(&"token:office".to_string()));
    assert_eq!(
        actor_of("permission_change").len(),
        3,
        "three tokens issued"
    );
}

#[tokio::test]
async fn the_auditor_reads_the_log_and_checks_but_changes_nothing() {
    let s = Server::start().await;
    let a = s.token("a-officer", Role::AgencyOfficer, Some(A), None);
    let auditor = s.token("auditor", Role::Auditor, None, None);
    let (_, v) = s.post("/api/v1/checks", Some(&a), &check_body(None)).await;
    let receipt = v["receipt"].as_str().expect("receipt").to_string();

    for path in [
        "/api/v1/audit/heads".to_string(),
        "/api/v1/audit/entries".to_string(),
        "/api/v1/audit/entries/1".to_string(),
        "/api/v1/audit/proofs/inclusion?seq=1".to_string(),
        format!("/api/v1/checks/{receipt}"),
        "/api/v1/checks".to_string(),
        "/api/v1/batches".to_string(),
    ] {
        let (status, body) = s.get(&path, Some(&auditor)).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
    }
    for (path, body) in [
        (
            "/api/v1/records?category=penalty",
            common::penalty("津市监罚〔2024〕9号", A),
        ),
        ("/api/v1/checks", check_body(Some(A))),
        ("/api/v1/audit/heads", json!({})),
        (
            &*format!("/api/v1/checks/{receipt}/feedback"),
            json!({"outcome": "normal"}),
        ),
    ] {
        let (status, resp) = s.post(path, Some(&auditor), &body).await;
        assert_refused(status, &resp, StatusCode::FORBIDDEN);
    }
    // Agencies do not read the audit log.
    let (status, body) = s.get("/api/v1/audit/entries", Some(&a)).await;
    assert_refused(status, &body, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn only_the_credit_office_and_the_auditor_read_a_resident_number_unmasked() {
    let s = Server::start().await;
    let admin = s.token("office", Role::CreditOfficeAdmin, None, None);
    let mut rec = common::penalty("津市监罚〔2024〕9号", A);
    rec["法定代表人证件类型"] = json!("身份证");
    rec["法定代表人证件号码"] = json!("11010519491231002X");
    let (status, r) = s.post("/api/v1/records", Some(&admin), &rec).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    let path = "/api/v1/subjects/11010519491231002X/identity";
    for (name, role, agency) in [
        ("a-officer", Role::AgencyOfficer, Some(A)),
        ("a-admin", Role::AgencyAdmin, Some(A)),
        ("a-system", Role::AgencySystem, Some(A)),
    ] {
        let t = s.token(name, role, agency, None);
        let (status, body) = s.get(path, Some(&t)).await;
        assert_refused(status, &body, StatusCode::FORBIDDEN);
        assert!(!body.to_string().contains("11010519491231002X"), "{body}");
    }
    let auditor = s.token("auditor", Role::Auditor, None, None);
    for t in [&admin, &auditor] {
        let (status, body) = s.get(path, Some(t)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["resident_id"], "11010519491231002X");
    }
    // Two reads allowed, two entries; refusals read nothing and write none.
    let (_, log) = s
        .get("/api/v1/audit/entries?limit=1000", Some(&admin))
        .await;
    let actors: Vec<&str> = log["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| &e["entry"])
        .filter(|e| e["action"] == "unmasked_read")
        .filter_map(|e| e["actor"].as_str())
        .collect();
    assert_eq!(actors, vec!["token:office", "token:auditor"], "{log}");
}
