//! Where the log lives: three tables in the main store's database, behind one trait.
//!
//! ```text
//! audit_meta        (key TEXT PRIMARY KEY, value TEXT)            -- hash algorithm, format version
//! audit_entries     (seq BIGINT PRIMARY KEY, leaf_hash TEXT, chain_hash TEXT, entry TEXT)
//! audit_tree_heads  (size BIGINT, root TEXT, at TEXT, hash_algorithm TEXT, algorithm TEXT,
//!                    key_id TEXT, signature TEXT, PRIMARY KEY (size, at, key_id))
//! ```
//!
//! Plain types and plain SQL only (no JSONB, no triggers, no sequences), so the same statements
//! run on PostgreSQL-compatible distributed engines. `entry` is TEXT, not JSON: the stored bytes
//! are the hashed bytes, and a JSON column type would normalise them. The trait has no update and
//! no delete: append-only by design (审计日志只增不改).

use crate::merkle::HashAlgorithm;
use crate::sign::TreeHead;
use crate::{Error, Result};

mod pg;
mod sqlite;

/// One stored entry row, exactly as in the table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawRow {
    /// The `seq` column.
    pub seq: i64,
    /// The `leaf_hash` column (hex).
    pub leaf_hash: String,
    /// The `chain_hash` column (hex).
    pub chain_hash: String,
    /// The `entry` column: the canonical bytes of the entry, as text.
    pub entry: String,
}

/// The storage interface of the audit log, implemented for SQLite and PostgreSQL.
///
/// Transactions are explicit (`begin`/`commit`) so that the group-commit writer can read the
/// current end of the log and append a whole batch under one lock and one fsync.
pub trait AuditStore: Send {
    /// `"sqlite"` or `"postgres"`.
    fn backend(&self) -> &'static str;
    /// Starts a write transaction that excludes other writers (SQLite `BEGIN IMMEDIATE`).
    fn begin(&mut self) -> Result<()>;
    /// Commits; durable when it returns.
    fn commit(&mut self) -> Result<()>;
    /// Rolls back, ignoring errors (used on the error path only).
    fn rollback(&mut self);
    /// The largest `seq`, 0 for an empty log.
    fn max_seq(&mut self) -> Result<u64>;
    /// `(seq, leaf_hash, chain_hash)` of every entry with `seq >= from`, in `seq` order.
    fn hashes_from(&mut self, from: u64) -> Result<Vec<(i64, String, String)>>;
    /// Appends rows (inside a transaction from [`AuditStore::begin`]).
    fn insert_entries(&mut self, rows: &[RawRow]) -> Result<()>;
    /// Stores a signed tree head (its own transaction).
    fn insert_head(&mut self, head: &TreeHead) -> Result<()>;
    /// Up to `limit` rows with `seq >= from`, in `seq` order.
    fn rows(&mut self, from: i64, limit: usize) -> Result<Vec<RawRow>>;
    /// The row at `seq`.
    fn row(&mut self, seq: i64) -> Result<Option<RawRow>>;
    /// Every stored tree head, by size then time.
    fn heads(&mut self) -> Result<Vec<TreeHead>>;
    /// A value from `audit_meta`.
    fn meta(&mut self, key: &str) -> Result<Option<String>>;
    /// Sets an `audit_meta` value unless it is already set; returns the value now stored.
    fn init_meta(&mut self, key: &str, value: &str) -> Result<String>;
}

/// Opens the audit tables in the database at `url` (`sqlite://PATH` or `postgres://…`),
/// creating them when missing.
pub fn open_store(url: &str) -> Result<Box<dyn AuditStore>> {
    open(url, true)
}

/// Opens existing audit tables without creating anything: what an auditor's read-only database
/// account can do. Fails if the tables are missing.
pub fn open_existing(url: &str) -> Result<Box<dyn AuditStore>> {
    open(url, false)
}

fn open(url: &str, migrate: bool) -> Result<Box<dyn AuditStore>> {
    if let Some(path) = url.strip_prefix("sqlite://") {
        if path.is_empty() || path == ":memory:" {
            // Writer and readers use separate connections; an in-memory database is private to one.
            return Err(Error::Url(format!(
                "{url} (the audit log needs a file: sqlite://PATH)"
            )));
        }
        return Ok(Box::new(sqlite::SqliteStore::open(path, migrate)?));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Box::new(pg::PgStore::open(url, migrate)?));
    }
    Err(Error::Url(url.to_string()))
}

/// Reads the log's hash algorithm, recording `wanted` when the log is new. A log never changes
/// algorithm: its old heads would stop verifying.
pub fn log_algorithm(store: &mut dyn AuditStore, wanted: HashAlgorithm) -> Result<HashAlgorithm> {
    let stored = store.init_meta("hash_algorithm", wanted.code())?;
    let alg = HashAlgorithm::from_code(&stored).ok_or_else(|| {
        Error::Corrupt(format!("unknown hash algorithm `{stored}` in audit_meta"))
    })?;
    if alg != wanted {
        return Err(Error::Invalid(format!(
            "this audit log uses {}, not {}",
            alg.code(),
            wanted.code()
        )));
    }
    Ok(alg)
}

/// Reads the log's hash algorithm without setting it (for verification); SHA-256 when unset.
pub fn stored_algorithm(store: &mut dyn AuditStore) -> Result<HashAlgorithm> {
    match store.meta("hash_algorithm")? {
        None => Ok(HashAlgorithm::default()),
        Some(s) => HashAlgorithm::from_code(&s)
            .ok_or_else(|| Error::Corrupt(format!("unknown hash algorithm `{s}` in audit_meta"))),
    }
}

/// Builds a [`TreeHead`] from its stored columns.
pub(crate) fn head_from_columns(
    size: i64,
    root: String,
    at: String,
    hash_algorithm: String,
    algorithm: String,
    key_id: String,
    signature: String,
) -> Result<TreeHead> {
    let bad = |what: &str| Error::Corrupt(format!("tree head at size {size}: {what}"));
    Ok(TreeHead {
        size: u64::try_from(size).map_err(|_| bad("negative size"))?,
        root,
        at: chrono::DateTime::parse_from_rfc3339(&at)
            .map_err(|_| bad("bad time"))?
            .with_timezone(&chrono::Utc),
        hash_algorithm: HashAlgorithm::from_code(&hash_algorithm)
            .ok_or_else(|| bad("unknown hash algorithm"))?,
        algorithm: crate::sign::SignatureAlgorithm::from_code(&algorithm)
            .ok_or_else(|| bad("unknown signature algorithm"))?,
        key_id,
        signature,
    })
}
