//! The HTTP face of creditloop: the JSON API under `/api/v1` and server-rendered pages in Chinese.
//! Handlers stay thin: they parse the request, call the store or the collector on a blocking thread,
//! and render the answer.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::routing::{get, post};
use chrono::NaiveDate;
use creditloop_domain::catalogue::{Catalogue, CompiledCatalogue};
use creditloop_store::{Store, StoreError};

mod api;
pub mod audit;
mod audit_api;
pub mod auth;
pub mod batch_check;
mod check_api;
pub mod checks;
pub mod credentials;
pub mod csrf;
mod identity;
pub use identity::{find_subject, pseudonym_of};
mod error;
pub mod extract;
pub mod intake;
pub mod limits;
pub mod listen;
pub mod mask;
pub mod names;
mod pages;
pub mod readpath;
pub mod session;
pub mod stats;
pub mod tls;

pub use check_api::run_batch as check_api_run_batch;
pub use error::ApiError;
pub use listen::ServeOptions;

/// Shared state of the server.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    /// Working days an agency has to submit a record after the decision (7 by default).
    pub deadline_working_days: u32,
    /// Fixed "today" for tests and replays; `None` means the real date (Asia/Shanghai).
    pub today: Option<NaiveDate>,
    /// The measures catalogue (联合奖惩措施目录) that answers checks, compiled by scenario.
    pub catalogue: Arc<CompiledCatalogue>,
    /// The in-memory check index, fresh from the store.
    pub read: Arc<readpath::ReadPath>,
    /// Where every check is stored before it is answered.
    pub check_log: readpath::CheckLog,
    /// Working days after a check by which its feedback (反馈) is due.
    pub feedback_working_days: u32,
    /// The tamper-evident audit log: every check, submission and feedback is in it before it is
    /// acknowledged.
    pub audit: Arc<creditloop_audit::AuditLog>,
    /// The in-memory name index of the portal search and `GET /api/v1/subjects?q=`.
    pub names: Arc<names::NameIndex>,
    /// Development and demo only: anonymous callers act as the credit office administrator. Off by
    /// default; `creditloop serve --open-access` and `creditloop demo` turn it on.
    pub open_access: bool,
    /// API tokens looked up recently (see [`auth::TokenCache`]).
    pub tokens: Arc<auth::TokenCache>,
    /// Failed web logins per user name (see [`session::LoginThrottle`]).
    pub logins: Arc<session::LoginThrottle>,
    /// Whether the session cookie carries `Secure` (served over TLS, or behind a TLS proxy).
    pub secure_cookies: bool,
    /// Whether single checks are audited: always, except in the HTTP benchmark that measures what
    /// auditing costs the check path (`http_server --no-audit`). No command-line switch of
    /// `creditloop` turns it off.
    pub audit_checks: bool,
    /// The dashboard's figures, aggregated at most once a minute (see [`stats::StatsCache`]).
    pub dashboard: Arc<stats::StatsCache>,
    /// Largest request body accepted, in bytes ([`MAX_BODY`] by default).
    pub max_body: usize,
    /// The rate limit of anonymous callers per client IP (限流); `None`: no limit (the default of
    /// the library and the tests; `creditloop serve` sets one).
    pub public_rate: Option<Arc<limits::PublicRateLimit>>,
    /// The personal data key: persons are looked up by the pseudonym of their resident number, and
    /// the unmasked read opens the sealed number with it. Never stored in the database.
    pub pii: Arc<creditloop_pii::PiiKey>,
}

/// How often the index picks up writes of other processes on the same database.
pub const REFRESH_EVERY: Duration = Duration::from_secs(2);

impl AppState {
    /// State over a store, with the default catalogue shipped in `data/catalogue/`. Builds the check
    /// index from the store (at province scale this takes a while: it is the start-up cost of fast
    /// checks) and starts the check log writer and the index refresher.
    ///
    /// Refuses a store whose persons were filed under another personal data key.
    pub fn new(
        store: Arc<dyn Store>,
        audit: Arc<creditloop_audit::AuditLog>,
        pii: Arc<creditloop_pii::PiiKey>,
    ) -> Result<Self, StoreError> {
        store.check_pii_key(&pii.check_value())?;
        let started = std::time::Instant::now();
        let read = readpath::ReadPath::load(&*store)?;
        let snap = read.snapshot();
        tracing::info!(
            subjects = snap.subject_count(),
            records = snap.record_count(),
            ms = started.elapsed().as_millis() as u64,
            "check index built"
        );
        Self::with_read_path(store, audit, read, pii)
    }

    /// State over a store with a read path built elsewhere (benchmarks load a synthetic index).
    pub fn with_read_path(
        store: Arc<dyn Store>,
        audit: Arc<creditloop_audit::AuditLog>,
        read: readpath::ReadPath,
        pii: Arc<creditloop_pii::PiiKey>,
    ) -> Result<Self, StoreError> {
        let catalogue = active_catalogue(&*store)?;
        tracing::info!(version = %catalogue.version().label_zh(), "measures catalogue");
        let read = Arc::new(read);
        read.spawn_refresher(store.clone(), REFRESH_EVERY);
        let names = Arc::new(names::NameIndex::load(&*store)?);
        names.spawn_refresher(store.clone());
        Ok(AppState {
            check_log: readpath::CheckLog::start(store.clone()),
            store,
            deadline_working_days: 7,
            today: None,
            catalogue: Arc::new(CompiledCatalogue::compile(&catalogue)),
            read,
            feedback_working_days: creditloop_domain::feedback::DEFAULT_FEEDBACK_WORKING_DAYS,
            audit,
            names,
            open_access: false,
            tokens: Arc::new(auth::TokenCache::default()),
            logins: Arc::new(session::LoginThrottle::default()),
            secure_cookies: false,
            audit_checks: true,
            dashboard: Arc::new(stats::StatsCache::default()),
            max_body: MAX_BODY,
            public_rate: None,
            pii,
        })
    }

    /// Today in China Standard Time: deadlines are counted in the agencies' calendar, not UTC.
    pub fn today(&self) -> NaiveDate {
        self.today
            .unwrap_or_else(|| (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive())
    }
}

/// The default catalogue. It is embedded and tested in the domain crate, so failing to read it is a
/// build defect, not an input error.
pub fn default_catalogue() -> Catalogue {
    Catalogue::default_catalogue().expect("the embedded default catalogue is valid")
}

/// The catalogue that answers checks: the newest published version stored, or the shipped default
/// when none has been published. A stored version that no longer reads is an error, not a silent
/// fall-back: checks must not be answered by another catalogue than the one the office published.
pub fn active_catalogue(store: &dyn Store) -> Result<Catalogue, StoreError> {
    let published = store
        .catalogues()?
        .into_iter()
        .rev()
        .find(|c| c.status == "published");
    match published {
        Some(c) => Catalogue::from_json(&c.body)
            .map(|cat| {
                cat.with_version(
                    c.number,
                    creditloop_domain::catalogue::VersionStatus::Published,
                )
            })
            .map_err(|e| StoreError::Corrupt(format!("catalogue v{}: {e}", c.number))),
        None => Ok(default_catalogue()),
    }
}

/// Largest request body accepted (uploads of record files). Bigger files go through the CLI.
pub const MAX_BODY: usize = 64 * 1024 * 1024;

/// Builds the router with every route of the API and the pages.
pub fn router(state: AppState) -> Router {
    let max_body = state.max_body;
    // One shared copy of the state: extracting `State<AppState>` cloned every field's `Arc` for each
    // extractor of each request, which showed at 5 % of the check path's CPU (and 2.5 % again
    // after the middlewares shared one copy).
    let shared = Arc::new(state);
    Router::new()
        .route("/healthz", get(api::healthz))
        .route("/api/v1/openapi.json", get(api::openapi))
        .route("/api/v1/records", post(api::submit_json))
        .route("/api/v1/records/upload", post(api::submit_upload))
        .route("/api/v1/records/history", get(api::record_history))
        .route(
            "/api/v1/checks",
            post(check_api::check).get(check_api::list),
        )
        .route("/api/v1/checks/overdue", get(check_api::overdue))
        .route("/api/v1/checks/batch", post(check_api::batch))
        .route("/api/v1/checks/{id}", get(check_api::receipt))
        .route("/api/v1/checks/{id}/feedback", post(check_api::feedback))
        .route(
            "/api/v1/audit/heads",
            get(audit_api::heads).post(audit_api::publish),
        )
        .route("/api/v1/audit/heads/latest", get(audit_api::latest_head))
        .route("/api/v1/audit/entries", get(audit_api::entries))
        .route("/api/v1/audit/entries/{seq}", get(audit_api::entry))
        .route("/api/v1/audit/proofs/inclusion", get(audit_api::inclusion))
        .route(
            "/api/v1/audit/proofs/consistency",
            get(audit_api::consistency),
        )
        .route("/api/v1/subjects", get(api::search_subjects))
        .route("/api/v1/subjects/{code}", get(api::subject))
        .route("/api/v1/subjects/{code}/identity", get(identity::reveal))
        .route("/api/v1/batches", get(api::batches))
        .route("/api/v1/batches/{id}", get(api::batch))
        .route("/api/v1/batches/{id}/rejects", get(api::batch_rejects))
        .merge(pages::routes())
        .fallback(pages::not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // The middlewares share one copy of the state: extracting `State<Arc<AppState>>` clones every
        // field's `Arc`, which showed at 5 % of the check path's CPU.
        .layer(middleware::from_fn_with_state(shared.clone(), csrf::guard))
        .layer(DefaultBodyLimit::max(max_body))
        .layer(middleware::from_fn_with_state(
            shared.clone(),
            limits::public_rate,
        ))
        .layer(middleware::from_fn_with_state(
            max_body,
            limits::declared_length,
        ))
        .layer(middleware::from_fn(limits::request_timeout))
        .with_state(shared)
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// Serves until the process gets Ctrl-C or SIGTERM, then finishes the requests under way.
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    serve_with(listener, state, ServeOptions::default(), shutdown_signal()).await
}

/// Serves with `options` until `shutdown` completes (tests pass a future that never does).
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    state: AppState,
    options: ServeOptions,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    listen::serve_router(listener, router(state), options, shutdown).await
}

/// Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
