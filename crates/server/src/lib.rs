//! The HTTP face of creditloop: the JSON API under `/api/v1` and server-rendered pages in Chinese.
//! Handlers stay thin: they parse the request, call the store or the collector on a blocking thread,
//! and render the answer.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use chrono::NaiveDate;
use creditloop_domain::catalogue::{Catalogue, CompiledCatalogue};
use creditloop_store::Store;

mod api;
pub mod checks;
mod error;
pub mod intake;
pub mod mask;
mod pages;

pub use error::ApiError;

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
}

impl AppState {
    /// State over a store, with the default catalogue shipped in `data/catalogue/`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        AppState {
            store,
            deadline_working_days: 7,
            today: None,
            catalogue: Arc::new(CompiledCatalogue::compile(&default_catalogue())),
        }
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

/// Largest request body accepted (uploads of record files). Bigger files go through the CLI.
pub const MAX_BODY: usize = 64 * 1024 * 1024;

/// Builds the router with every route of the API and the pages.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(api::healthz))
        .route("/api/v1/openapi.json", get(api::openapi))
        .route("/api/v1/records", post(api::submit_json))
        .route("/api/v1/records/upload", post(api::submit_upload))
        .route("/api/v1/records/history", get(api::record_history))
        .route("/api/v1/checks", post(api::check))
        .route("/api/v1/subjects", get(api::search_subjects))
        .route("/api/v1/subjects/{code}", get(api::subject))
        .route("/api/v1/batches", get(api::batches))
        .route("/api/v1/batches/{id}", get(api::batch))
        .route("/api/v1/batches/{id}/rejects", get(api::batch_rejects))
        .route("/", get(pages::home))
        .route("/subjects/{key}", get(pages::subject))
        .fallback(pages::not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(120),
        ))
        .with_state(state)
}

/// Serves until the process gets Ctrl-C or SIGTERM, then finishes the requests under way.
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await
}

async fn shutdown_signal() {
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
