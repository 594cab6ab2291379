//! The test kit shared by the server's integration tests: the real router on a free port, over a
//! fresh SQLite file with its audit log and signing key beside it, as `creditloop serve` builds it.
#![allow(dead_code)] // each test binary uses a part of the kit

use std::path::Path;
use std::sync::Arc;

use chrono::NaiveDate;
use creditloop_server::AppState;

/// A running test server and what tests reach behind it.
pub struct TestServer {
    pub base: String,
    pub store: Arc<dyn creditloop_store::Store>,
    pub audit: Arc<creditloop_audit::AuditLog>,
    /// The personal data key the server files persons under.
    pub pii: Arc<creditloop_pii::PiiKey>,
}

/// The state over the SQLite file `t.db` in `dir`, with "today" fixed and open access as asked
/// (the API and page tests use it; `tests/access.rs` turns it off).
pub fn state_in(dir: &Path, today: &str, open_access: bool) -> AppState {
    let url = format!("sqlite://{}", dir.join("t.db").display());
    let store: Arc<dyn creditloop_store::Store> =
        Arc::from(creditloop_store::open(&url).expect("open store"));
    let audit = Arc::new(
        creditloop_server::audit::open_signing(
            &creditloop_server::audit::audit_url(&url),
            &creditloop_server::audit::default_key_path(&url),
            true,
        )
        .expect("audit log"),
    );
    // The personal data key file beside the database, as `creditloop serve` makes it.
    let pii = Arc::new(
        creditloop_pii::PiiKey::load_or_create(
            &creditloop_pii::default_key_path(&url),
            creditloop_pii::Cipher::Aes256Gcm,
        )
        .expect("personal data key"),
    );
    let mut state = AppState::new(store, audit, pii).expect("state");
    state.open_access = open_access;
    state.today = Some(NaiveDate::parse_from_str(today, "%Y-%m-%d").expect("date"));
    state
}

/// Serves `state` on a free loopback port until the test's runtime ends.
pub async fn serve(state: AppState) -> TestServer {
    serve_with(state, creditloop_server::ServeOptions::default()).await
}

/// Serves `state` with `options` (a short header timeout, TLS) on a free loopback port; `base` is
/// `https://localhost:PORT` with TLS.
pub async fn serve_with(state: AppState, options: creditloop_server::ServeOptions) -> TestServer {
    let store = state.store.clone();
    let audit = state.audit.clone();
    let pii = state.pii.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let base = if options.tls.is_some() {
        format!("https://localhost:{}", addr.port())
    } else {
        format!("http://{addr}")
    };
    tokio::spawn(async move {
        let _ =
            creditloop_server::serve_with(listener, state, options, std::future::pending()).await;
    });
    TestServer {
        base,
        store,
        audit,
        pii,
    }
}

/// A server over the SQLite file in `dir` with open access (the tests about the API and pages, not
/// about access).
pub async fn start_in(dir: &Path, today: &str) -> TestServer {
    serve(state_in(dir, today, true)).await
}

/// One penalty (行政处罚) of the 双公示 standard as the API takes it, from `source`, decided
/// 2024-06-03 and submitted 2024-06-07.
pub fn penalty(doc_no: &str, source: &str) -> serde_json::Value {
    serde_json::json!({
        "行政相对人名称": "天津市恒通达商贸有限公司",
        "行政相对人类别": "法人及非法人组织",
        "行政相对人代码_1(统一社会信用代码)": "91310000132260250X",
        "法定代表人": "张三",
        "行政处罚决定书文号": doc_no,
        "违法行为类型": "销售不合格产品",
        "违法事实": "销售不合格电线电缆",
        "处罚依据": "《中华人民共和国产品质量法》第四十九条",
        "处罚类别": "罚款",
        "处罚内容": "罚款2万元",
        "罚款金额（万元）": "2",
        "处罚决定日期": "2024/6/3",
        "处罚有效期": "2025-06-03",
        "处罚机关": "天津市市场监督管理委员会",
        "处罚机关统一社会信用代码": source,
        "数据来源单位": "天津市市场监督管理委员会",
        "数据来源单位统一社会信用代码": source,
        "报送日期": "2024-06-07"
    })
}
