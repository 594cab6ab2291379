//! SQLite backend: the same file as the main store, its own connection.
//!
//! WAL with `synchronous = FULL`: a commit is on disk when `COMMIT` returns, so a caller told
//! "appended" can rely on it after a power cut. `busy_timeout` because the main store writes the
//! same file from another connection; `BEGIN IMMEDIATE` takes the write lock up front so two
//! writers queue instead of failing mid-transaction.

use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, params};

use super::{AuditStore, RawRow, head_from_columns};
use crate::sign::TreeHead;
use crate::{Error, Result};

const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

const MIGRATION: &str = "
CREATE TABLE IF NOT EXISTS audit_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_entries (
    seq        INTEGER PRIMARY KEY,
    leaf_hash  TEXT NOT NULL,
    chain_hash TEXT NOT NULL,
    entry      TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_tree_heads (
    size           BIGINT NOT NULL,
    root           TEXT NOT NULL,
    at             TEXT NOT NULL,
    hash_algorithm TEXT NOT NULL,
    algorithm      TEXT NOT NULL,
    key_id         TEXT NOT NULL,
    signature      TEXT NOT NULL,
    PRIMARY KEY (size, at, key_id)
);
";

pub(crate) struct SqliteStore {
    conn: Connection,
    /// Wakes the checkpoint thread after a commit (writers only).
    checkpoint: Option<std::sync::mpsc::SyncSender<()>>,
}

/// WAL size at which the writer checkpoints by itself, a fallback for when the background
/// checkpointer falls behind; also the size the WAL file is truncated to after a checkpoint.
const WAL_LIMIT_BYTES: i64 = 64 << 20;

/// Least time between two background checkpoints (as the store's checkpointer, whose comment says
/// why and what was measured).
const CHECKPOINT_INTERVAL: std::time::Duration = std::time::Duration::from_millis(25);

/// Copies committed WAL pages into the log file on its own thread and connection: a checkpoint
/// inside a group commit (SQLite's default every 4 MB of WAL) stalled every check queued behind
/// it for hundreds of milliseconds. A passive checkpoint never blocks the writer or readers. The
/// thread ends when the writer is dropped.
fn start_checkpointer(path: &str) -> Result<std::sync::mpsc::SyncSender<()>> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let (wake, wakes) = std::sync::mpsc::sync_channel::<()>(1);
    std::thread::Builder::new()
        .name("audit-checkpoint".into())
        .spawn(move || {
            use std::sync::mpsc::RecvTimeoutError;
            let checkpoint = || {
                // A failure only leaves more WAL for the next round or the writer's fallback.
                let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
            };
            let mut last = std::time::Instant::now();
            while wakes.recv().is_ok() {
                // At most one checkpoint per interval, so the last page of the log, rewritten by
                // every group commit, is copied once per interval and not once per commit.
                let due = last + CHECKPOINT_INTERVAL;
                while let Some(left) = due.checked_duration_since(std::time::Instant::now()) {
                    match wakes.recv_timeout(left) {
                        Ok(()) => {}
                        Err(RecvTimeoutError::Timeout) => break,
                        Err(RecvTimeoutError::Disconnected) => {
                            checkpoint();
                            return;
                        }
                    }
                }
                checkpoint();
                last = std::time::Instant::now();
            }
        })
        .map_err(|e| Error::Invalid(format!("cannot start the audit checkpoint thread: {e}")))?;
    Ok(wake)
}

impl SqliteStore {
    pub(crate) fn open(path: &str, migrate: bool) -> Result<Self> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        if !migrate {
            return Ok(SqliteStore {
                conn,
                checkpoint: None,
            });
        }
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if mode != "wal" {
            return Err(Error::Invalid(format!(
                "SQLite refused WAL journal mode for {path} (got `{mode}`)"
            )));
        }
        conn.execute_batch("PRAGMA synchronous = FULL;")?;
        conn.execute_batch(&format!("BEGIN IMMEDIATE;{MIGRATION}COMMIT;"))?;
        let page_size: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
        conn.pragma_update(
            None,
            "wal_autocheckpoint",
            (WAL_LIMIT_BYTES / page_size.max(512)).max(16),
        )?;
        conn.pragma_update(None, "journal_size_limit", WAL_LIMIT_BYTES)?;
        let checkpoint = Some(start_checkpointer(path)?);
        Ok(SqliteStore { conn, checkpoint })
    }
}

fn head_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<[String; 6]> {
    Ok([
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
    ])
}

impl AuditStore for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn begin(&mut self) -> Result<()> {
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        Ok(())
    }

    fn commit(&mut self) -> Result<()> {
        self.conn.execute_batch("COMMIT")?;
        if let Some(w) = &self.checkpoint {
            // Full: a checkpoint is already due; it will take this commit's pages too.
            let _ = w.try_send(());
        }
        Ok(())
    }

    fn rollback(&mut self) {
        let _ = self.conn.execute_batch("ROLLBACK");
    }

    fn max_seq(&mut self) -> Result<u64> {
        let m: Option<i64> =
            self.conn
                .query_row("SELECT MAX(seq) FROM audit_entries", [], |r| r.get(0))?;
        Ok(m.unwrap_or(0).max(0) as u64)
    }

    fn hashes_from(&mut self, from: u64) -> Result<Vec<(i64, String, String)>> {
        let mut st = self.conn.prepare_cached(
            "SELECT seq, leaf_hash, chain_hash FROM audit_entries WHERE seq >= ?1 ORDER BY seq",
        )?;
        let rows = st.query_map(params![from as i64], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn insert_entries(&mut self, rows: &[RawRow]) -> Result<()> {
        let mut st = self.conn.prepare_cached(
            "INSERT INTO audit_entries (seq, leaf_hash, chain_hash, entry) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for r in rows {
            st.execute(params![r.seq, r.leaf_hash, r.chain_hash, r.entry])?;
        }
        Ok(())
    }

    fn insert_head(&mut self, h: &TreeHead) -> Result<()> {
        self.conn.execute(
            "INSERT INTO audit_tree_heads (size, root, at, hash_algorithm, algorithm, key_id, signature)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                h.size as i64,
                h.root,
                h.at_text(),
                h.hash_algorithm.code(),
                h.algorithm.code(),
                h.key_id,
                h.signature
            ],
        )?;
        Ok(())
    }

    fn rows(&mut self, from: i64, limit: usize) -> Result<Vec<RawRow>> {
        let mut st = self.conn.prepare_cached(
            "SELECT seq, leaf_hash, chain_hash, entry FROM audit_entries
             WHERE seq >= ?1 ORDER BY seq LIMIT ?2",
        )?;
        let rows = st.query_map(params![from, limit as i64], |r| {
            Ok(RawRow {
                seq: r.get(0)?,
                leaf_hash: r.get(1)?,
                chain_hash: r.get(2)?,
                entry: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn row(&mut self, seq: i64) -> Result<Option<RawRow>> {
        let mut st = self.conn.prepare_cached(
            "SELECT seq, leaf_hash, chain_hash, entry FROM audit_entries WHERE seq = ?1",
        )?;
        Ok(st
            .query_row(params![seq], |r| {
                Ok(RawRow {
                    seq: r.get(0)?,
                    leaf_hash: r.get(1)?,
                    chain_hash: r.get(2)?,
                    entry: r.get(3)?,
                })
            })
            .optional()?)
    }

    fn heads(&mut self) -> Result<Vec<TreeHead>> {
        let mut st = self.conn.prepare_cached(
            "SELECT size, root, at, hash_algorithm, algorithm, key_id, signature
             FROM audit_tree_heads ORDER BY size, at",
        )?;
        let rows = st.query_map([], |r| Ok((r.get::<_, i64>(0)?, head_row(r)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (size, [root, at, ha, a, k, s]) = row?;
            out.push(head_from_columns(size, root, at, ha, a, k, s)?);
        }
        Ok(out)
    }

    fn meta(&mut self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT value FROM audit_meta WHERE key = ?1",
                params![key],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn init_meta(&mut self, key: &str, value: &str) -> Result<String> {
        self.conn.execute(
            "INSERT INTO audit_meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING",
            params![key, value],
        )?;
        self.meta(key)?
            .ok_or_else(|| Error::Corrupt(format!("audit_meta `{key}` vanished")))
    }
}
