//! Storage of creditloop behind one interface, [`Store`], with an embedded SQLite implementation (the
//! default) and a PostgreSQL implementation (production). Both pass the conformance suite in
//! `tests/conformance.rs`.
//!
//! The interface is synchronous: SQLite is in-process and the PostgreSQL client is a blocking one;
//! the server calls it from `spawn_blocking`.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use creditloop_domain::agency::Agency;
use creditloop_domain::intake::{AcceptedRow, IntakeCounts, RejectedRow};
use creditloop_domain::record::{CreditRecord, RecordKey, Timeliness};
use creditloop_domain::subject::{PersonLink, SubjectCodes, SubjectKey, SubjectKind};

mod plan;
pub mod postgres;
pub mod sqlite;

pub use plan::{ExistingVersion, Plan, PlannedRow, Supersedes, plan_batch};

/// Errors of the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database URL `{0}`: use sqlite://PATH or postgres://…")]
    BadUrl(String),
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] ::postgres::Error),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("{0}")]
    Other(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// One submission unit written in one transaction: its accepted rows and its rejected rows.
/// Either all of it is stored, or none.
#[derive(Debug, Clone)]
pub struct Batch {
    /// Unique id of this batch (one per chunk of a file, or per API call).
    pub id: String,
    /// Where it came from: a file name, `api`, …
    pub source: String,
    /// SHA-256 (hex) of the whole source, so a re-submitted file's rejects are not stored twice.
    pub source_digest: String,
    /// The agency that submitted it, when known (the API caller's agency; a file's `--agency`).
    pub agency: Option<String>,
    pub received_at: DateTime<Utc>,
    pub accepted: Vec<AcceptedRow>,
    pub rejected: Vec<RejectedRow>,
}

/// What writing a batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchOutcome {
    pub counts: IntakeCounts,
}

/// A stored batch as listed later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchSummary {
    pub id: String,
    pub source: String,
    pub source_digest: String,
    pub agency: Option<String>,
    pub received_at: DateTime<Utc>,
    pub counts: IntakeCounts,
}

/// A record as stored: one version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredRecord {
    pub id: i64,
    /// 1 for the first submission, +1 for each correction.
    pub version: i32,
    /// Whether this is the current version.
    pub current: bool,
    pub batch_id: String,
    pub timeliness: Timeliness,
    pub record: CreditRecord,
}

/// A subject as listed in search results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectSummary {
    pub key: SubjectKey,
    pub name: String,
    pub kind: SubjectKind,
    pub codes: SubjectCodes,
}

/// A subject with its linked persons and the current version of each of its records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubjectProfile {
    pub subject: SubjectSummary,
    pub persons: Vec<PersonLink>,
    /// Current versions, newest decision first.
    pub records: Vec<StoredRecord>,
}

/// Totals for the status line and the front page.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub subjects: u64,
    /// Current record versions.
    pub records: u64,
    pub versions: u64,
    pub rejected_rows: u64,
    pub batches: u64,
    pub agencies: u64,
}

/// The storage interface. Every implementation passes `tests/conformance.rs`.
pub trait Store: Send + Sync {
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;

    /// Inserts or updates agencies by code.
    fn put_agencies(&self, agencies: &[Agency]) -> Result<()>;
    fn agencies(&self) -> Result<Vec<Agency>>;

    /// Writes a batch in one transaction: new records, new versions of changed records (the old
    /// version stays, no longer current), subjects and person links, rejected rows (a row of the same
    /// source digest and row number is stored once) and the batch summary. Rows whose key and content
    /// are already held count as duplicates and change nothing. Durable when it returns `Ok`.
    fn write_batch(&self, batch: &Batch) -> Result<BatchOutcome>;

    fn batch(&self, id: &str) -> Result<Option<BatchSummary>>;
    /// Newest first.
    fn batches(&self, limit: usize) -> Result<Vec<BatchSummary>>;
    /// The rejected rows stored with a batch, in row order.
    fn rejects(&self, batch_id: &str) -> Result<Vec<RejectedRow>>;

    /// Finds the subject a code names: unified code, resident number, registration number,
    /// organisation code or another certificate number (already normalised by the caller).
    fn find_subject(&self, code: &str) -> Result<Option<SubjectKey>>;
    /// Subjects whose name contains `query`, or whose code equals it; at most `limit`.
    fn search_subjects(&self, query: &str, limit: usize) -> Result<Vec<SubjectSummary>>;
    fn subject(&self, key: &SubjectKey) -> Result<Option<SubjectProfile>>;
    /// All versions of one record, oldest first.
    fn record_history(&self, key: &RecordKey) -> Result<Vec<StoredRecord>>;

    fn totals(&self) -> Result<Totals>;
    /// Number of current records decided in `[from, to]`, per category code (for dashboards).
    fn records_by_category(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<(String, u64)>>;
}

/// Opens a store from a URL: `sqlite://PATH` (a file, created when missing), `sqlite::memory:` for
/// tests, or `postgres://…`. Migrations run before it returns.
pub fn open(url: &str) -> Result<Box<dyn Store>> {
    if let Some(path) = url.strip_prefix("sqlite://") {
        Ok(Box::new(sqlite::SqliteStore::open(path)?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Box::new(postgres::PgStore::connect(url)?))
    } else {
        Err(StoreError::BadUrl(url.to_string()))
    }
}
