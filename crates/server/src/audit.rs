//! Where the audit log (审计日志) lives and how the server and the CLI open it.
//!
//! The log is kept beside the store, never inside the data it audits: for a SQLite store
//! `sqlite://X.db` it is the file `X.audit.db` (its own file, so its group commits do not queue
//! behind an import's write lock), for PostgreSQL the same database (tables `audit_*`). The key
//! that signs tree heads is a file outside the database (`X.db.audit-key` beside a SQLite file,
//! `creditloop-audit.key` in the working directory for PostgreSQL, or `--audit-key PATH`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use creditloop_audit::{
    AuditLog, LogOptions, NewEntry, SignatureAlgorithm, generate_key_file, load_signing_key,
};

/// The audit log's URL for a store URL.
pub fn audit_url(store_url: &str) -> String {
    match store_url.strip_prefix("sqlite://") {
        Some(path) => {
            let p = Path::new(path);
            let stem = p
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("creditloop");
            let file = format!("{stem}.audit.db");
            format!("sqlite://{}", p.with_file_name(file).display())
        }
        None => store_url.to_string(),
    }
}

/// The default key file for a store URL.
pub fn default_key_path(store_url: &str) -> PathBuf {
    match store_url.strip_prefix("sqlite://") {
        Some(path) => PathBuf::from(format!("{path}.audit-key")),
        None => PathBuf::from("creditloop-audit.key"),
    }
}

/// Opens the audit log that signs tree heads (the server). A missing key file is created (Ed25519,
/// mode 0600) when `create_key`, and its public half written beside it for auditors.
pub fn open_signing(
    audit_url: &str,
    key: &Path,
    create_key: bool,
) -> Result<AuditLog, creditloop_audit::Error> {
    if !key.exists() && create_key {
        generate_key_file(key, SignatureAlgorithm::Ed25519)?;
        tracing::info!(key = %key.display(), "generated a new audit signing key");
    }
    let signer = load_signing_key(key)?;
    AuditLog::open(audit_url, LogOptions::with_signer(Arc::new(signer)))
}

/// Opens the audit log to append only (the CLI's import and catalogue commands): no key needed;
/// the server's publisher signs heads over these entries later.
pub fn open_appending(audit_url: &str) -> Result<AuditLog, creditloop_audit::Error> {
    AuditLog::open(audit_url, LogOptions::default())
}

/// The actor of a request until login names one (the trust issue adds users).
pub const ANONYMOUS: &str = "anonymous";

/// Appends one entry and waits until it is durable; a failure is an error of the operation, since
/// an unaudited change must not be acknowledged.
pub fn append_blocking(log: &AuditLog, entry: NewEntry) -> Result<u64, String> {
    log.append(entry)
        .map(|a| a.seq)
        .map_err(|e| format!("audit log: {e}"))
}

/// Appends one entry from async code: resolves when it is durable.
pub async fn append(log: &AuditLog, entry: NewEntry) -> Result<u64, String> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    log.submit_with(entry, move |r| {
        let _ = tx.send(r);
    });
    match rx.await {
        Ok(Ok(a)) => Ok(a.seq),
        Ok(Err(e)) => Err(format!("audit log: {e}")),
        Err(_) => Err("audit log writer stopped".into()),
    }
}
