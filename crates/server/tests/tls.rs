//! HTTPS with client certificates through the real server: a CA, a server certificate and client
//! certificates made with rcgen, the server on a free port with `--client-ca`, and reqwest presenting
//! (or not) a certificate. A certificate bound to a user acts as that user; no certificate is
//! anonymous; a certificate of the CA bound to nobody (or to a disabled user) is a 401; a
//! certificate of another CA does not get through the handshake.

use chrono::Utc;
use creditloop_audit::Action;
use creditloop_domain::access::Role;
use creditloop_store::StoredUser;
use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use reqwest::StatusCode;
use serde_json::Value;

mod common;

struct Ca {
    cert: Certificate,
    key: KeyPair,
}

fn ca(name: &str) -> Ca {
    let key = KeyPair::generate().expect("CA key");
    let mut p = CertificateParams::new(Vec::<String>::new()).expect("params");
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name.push(DnType::CommonName, name);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let cert = p.self_signed(&key).expect("CA certificate");
    Ca { cert, key }
}

/// A certificate and its key, both PEM, signed by `ca`.
fn issue(ca: &Ca, name: &str, purpose: ExtendedKeyUsagePurpose) -> (String, String) {
    let key = KeyPair::generate().expect("key");
    let sans = if purpose == ExtendedKeyUsagePurpose::ServerAuth {
        vec!["localhost".to_string()]
    } else {
        Vec::new()
    };
    let mut p = CertificateParams::new(sans).expect("params");
    p.distinguished_name.push(DnType::CommonName, name);
    p.extended_key_usages = vec![purpose];
    let cert = p.signed_by(&key, &ca.cert, &ca.key).expect("certificate");
    (cert.pem(), key.serialize_pem())
}

fn client_cert(ca: &Ca, name: &str) -> (String, String) {
    issue(ca, name, ExtendedKeyUsagePurpose::ClientAuth)
}

fn user(name: &str, disabled: bool) -> StoredUser {
    StoredUser {
        username: name.into(),
        display_name: "审计员".into(),
        role: Role::Auditor,
        agency: None,
        subject: None,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        totp_secret: None,
        disabled,
        created_at: Utc::now(),
        updated_at: Utc::now(),
    }
}

struct Tls {
    server: common::TestServer,
    ca: Ca,
    _dir: tempfile::TempDir,
}

async fn start() -> Tls {
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = ca("creditloop test login CA");
    let (cert, key) = issue(&ca, "localhost", ExtendedKeyUsagePurpose::ServerAuth);
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).expect("write PEM");
        p
    };
    let cert = write("server.pem", &cert);
    let key = write("server.key", &key);
    let ca_pem = write("ca.pem", &ca.cert.pem());
    let tls = creditloop_server::tls::server_config(&cert, &key, Some(&ca_pem)).expect("TLS");
    let state = common::state_in(dir.path(), "2024-06-07", false);
    let server = common::serve_with(
        state,
        creditloop_server::ServeOptions {
            tls: Some(tls),
            ..Default::default()
        },
    )
    .await;
    Tls {
        server,
        ca,
        _dir: dir,
    }
}

impl Tls {
    /// A client trusting the test CA, presenting `identity` (certificate and key PEM) if given.
    fn client(&self, identity: Option<&(String, String)>) -> reqwest::Client {
        let mut b = reqwest::Client::builder()
            .use_rustls_tls()
            .add_root_certificate(
                reqwest::Certificate::from_pem(self.ca.cert.pem().as_bytes()).expect("root"),
            );
        if let Some((cert, key)) = identity {
            let pem = format!("{cert}{key}");
            b = b.identity(reqwest::Identity::from_pem(pem.as_bytes()).expect("identity"));
        }
        b.build().expect("client")
    }

    fn bind(&self, username: &str, disabled: bool, cert: &(String, String)) {
        let store = &*self.server.store;
        assert!(store.put_user(&user(username, disabled)).expect("user"));
        creditloop_server::credentials::bind_certificate(
            store,
            &self.server.audit,
            username,
            cert.0.as_bytes(),
            "test",
        )
        .expect("bind");
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.base)
    }

    fn logins_of(&self, actor: &str) -> usize {
        self.server
            .audit
            .entries(0, 10_000)
            .expect("entries")
            .iter()
            .filter(|e| e.entry.action == Action::Login && e.entry.actor == actor)
            .count()
    }
}

#[tokio::test]
async fn a_bound_certificate_acts_as_its_user() {
    let t = start().await;
    let cert = client_cert(&t.ca, "wang");
    t.bind("wang", false, &cert);
    let c = t.client(Some(&cert));
    for _ in 0..2 {
        let resp = c
            .get(t.url("/api/v1/audit/heads"))
            .send()
            .await
            .expect("request");
        assert_eq!(resp.status(), StatusCode::OK);
    }
    assert_eq!(
        t.logins_of("wang"),
        1,
        "the connection's first request is its login"
    );
    // A Bearer token comes before the certificate: a bad one is refused, not overridden.
    let resp = c
        .get(t.url("/api/v1/audit/heads"))
        .bearer_auth("clt_bad")
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn without_a_certificate_the_caller_is_anonymous() {
    let t = start().await;
    let c = t.client(None);
    let resp = c.get(t.url("/healthz")).send().await.expect("request");
    assert_eq!(
        resp.status(),
        StatusCode::OK,
        "public pages need no certificate"
    );
    let resp = c
        .get(t.url("/api/v1/audit/heads"))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

async fn refusal(resp: reqwest::Response) -> Value {
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        resp.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/problem+json")
    );
    resp.json().await.expect("problem")
}

#[tokio::test]
async fn a_certificate_bound_to_nobody_or_a_disabled_user_is_401() {
    let t = start().await;
    let unbound = client_cert(&t.ca, "nobody");
    let body = refusal(
        t.client(Some(&unbound))
            .get(t.url("/api/v1/audit/heads"))
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("bound to no user"))
    );
    assert!(
        body["detail_zh"]
            .as_str()
            .is_some_and(|d| d.contains("未绑定"))
    );

    let cert = client_cert(&t.ca, "zhao");
    t.bind("zhao", true, &cert);
    let body = refusal(
        t.client(Some(&cert))
            .get(t.url("/api/v1/audit/heads"))
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("disabled"))
    );
    assert_eq!(t.logins_of("zhao"), 0);
}

#[tokio::test]
async fn a_certificate_of_another_ca_is_refused_in_the_handshake() {
    let t = start().await;
    let other = ca("another CA");
    let cert = client_cert(&other, "mallory");
    let result = t.client(Some(&cert)).get(t.url("/healthz")).send().await;
    assert!(result.is_err(), "{result:?}");
}

#[tokio::test]
async fn certificates_bind_and_unbind_by_fingerprint() {
    let t = start().await;
    let cert = client_cert(&t.ca, "qian");
    t.bind("qian", false, &cert);
    let fp = creditloop_server::tls::pem_fingerprint(cert.0.as_bytes()).expect("fingerprint");
    assert_eq!(fp.len(), 64);
    let store = &*t.server.store;
    assert_eq!(
        store.certificate(&fp).expect("read").map(|c| c.username),
        Some("qian".into())
    );
    let again = creditloop_server::credentials::bind_certificate(
        store,
        &t.server.audit,
        "qian",
        cert.0.as_bytes(),
        "test",
    );
    assert!(again.is_err(), "a certificate is bound once");
    let gone =
        creditloop_server::credentials::unbind_certificate(store, &t.server.audit, &fp, "test")
            .expect("unbind");
    assert_eq!(gone.map(|c| c.username), Some("qian".into()));
    let resp = t
        .client(Some(&cert))
        .get(t.url("/api/v1/audit/heads"))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "unbound now");
}
