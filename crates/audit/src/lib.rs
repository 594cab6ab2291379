//! The tamper-evident audit log (审计日志) of creditloop.
//!
//! Every query (查询), push (递送), accept (受理) and complete (办结) of the platform lands here, so
//! that the assessment of agencies (考核) and any later dispute rest on a record nobody could
//! quietly change. The log is:
//!
//! - a **Merkle tree** in the exact form of RFC 6962 / RFC 9162 ([`merkle`]), SHA-256 or SM3, with
//!   inclusion and consistency proofs any Certificate Transparency verifier understands;
//! - a **hash chain** over the same leaves, stored per entry, that localises a rewrite;
//! - **signed tree heads** ([`sign`]), Ed25519 or SM2, made with a key kept outside the database;
//! - stored in the **same database** as the main store (SQLite file or PostgreSQL), append-only
//!   ([`store`]);
//! - written by a **group-commit** writer ([`AuditLog`]): callers are answered only when their
//!   entry is durable, but many entries share one transaction;
//! - **verifiable** offline ([`verify()`]), naming the first entry altered, removed, inserted or
//!   reordered.
//!
//! ```no_run
//! use std::sync::Arc;
//! use creditloop_audit::{Action, AuditLog, LogOptions, NewEntry, load_signing_key};
//! # fn main() -> creditloop_audit::Result<()> {
//! let key = load_signing_key(std::path::Path::new("/etc/creditloop/audit.key"))?;
//! let log = AuditLog::open("sqlite:///var/lib/creditloop/main.db", LogOptions::with_signer(Arc::new(key)))?;
//! let done = log.append(NewEntry::new("u42", Action::Check).agency("12000001").subject("91120000…").result(b"{}"))?;
//! println!("logged as #{}", done.seq);
//! let _publisher = log.spawn_head_publisher(std::time::Duration::from_secs(60))?;
//! # Ok(()) }
//! ```

pub mod entry;
mod log;
pub mod merkle;
pub mod sign;
pub mod store;
pub mod verify;

pub use entry::{Action, AuditEntry, NewEntry, StoredEntry, digest_hex};
pub use log::{
    Appended, AuditLog, ConsistencyProof, HeadPublisher, InclusionProof, LogOptions, PendingAppend,
    WriterStats,
};
pub use merkle::{Hash, HashAlgorithm};
pub use sign::{
    SignatureAlgorithm, Signer, SigningKey, TreeHead, Verifier, VerifyingKey, generate_key_file,
    load_signing_key, load_verifying_key, public_key_path,
};
pub use store::{AuditStore, open_existing, open_store};
pub use verify::{Problem, ProblemKind, VerifyReport, run_verify_cli, verify, verify_store};

use std::path::PathBuf;

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// SQLite failed.
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL failed.
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] postgres::Error),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The database URL is not one we open.
    #[error("unsupported audit database URL `{0}`: use sqlite://PATH or postgres://…")]
    Url(String),
    /// A key file is unusable.
    #[error("key file {path}: {reason}")]
    Key {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Stored data cannot be read back (run `creditloop audit verify`).
    #[error("audit log data is unreadable: {0}")]
    Corrupt(String),
    /// A bad argument (tree size beyond the log, wrong algorithm…).
    #[error("{0}")]
    Invalid(String),
    /// The writer could not make an entry durable; the entry was not acknowledged.
    #[error("audit writer: {0}")]
    Writer(String),
    /// The log was closed.
    #[error("the audit log is closed")]
    Closed,
    /// A head was asked for but the log was opened without a signing key.
    #[error("no signing key configured: tree heads cannot be published")]
    NoSigner,
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, Error>;

/// Parses a 32-byte hex hash.
pub(crate) fn parse_hash(s: &str) -> Option<Hash> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out).ok()?;
    Some(out)
}
