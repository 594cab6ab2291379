//! The check log (查询记录) of a SQLite store, in a file of its own: `X.checks.db` beside `X.db`.
//!
//! Checks are stored in small group commits, hundreds a second, while other agencies' approval
//! systems wait for the answer. In the main file they queued behind every write transaction of an
//! import (each up to five seconds): during a 1 M-row import the server answered 885 checks/s
//! and timed some out; with this file 3,340/s and none (the import still shares the cores and the
//! disk; BENCHMARKS.md). Here they take a write lock of their own,
//! with SQLite's 4 KiB pages (each small commit rewrites the last pages of the table and its two
//! indexes; the main file's 16 KiB suit records) and a checkpointer of their own. The audit log
//! sits beside them the same way (`X.audit.db`).

use std::path::{Path, PathBuf};
use std::sync::MutexGuard;

use chrono::NaiveDate;
use rusqlite::types::ValueRef;
use rusqlite::{
    Connection, OptionalExtension, Params, Row, Statement, TransactionBehavior, params,
};

use super::{
    Connections, IsoDate, configure, corrupt_json, count, feedback_from, parse_date,
    parse_timestamp, timestamp,
};
use crate::chunks::{self, ChunkHead};
use crate::{CheckQuery, CheckStat, FeedbackWrite, Result, StoreError, StoredCheck};
use creditloop_domain::feedback::Feedback;
use std::collections::HashMap;

/// Page size of a new check file: SQLite's default. A group commit of a few checks dirties the
/// last leaf of the table and of its two indexes; at 16 KiB each such commit wrote four times the
/// bytes to the WAL and to the checkpoints.
const PAGE_SIZE: u32 = 4096;

/// The writer's page cache, 16 MiB: it only ever touches the right-hand edge of the log.
const WRITER_CACHE: &str = "PRAGMA cache_size = -16384;";

/// Reader connections: receipts, lists and statistics are rare beside the writes.
const READERS: usize = 2;

/// WAL size at which the writer checkpoints by itself (a fallback for the background
/// checkpointer), and the size the WAL is truncated to after a checkpoint.
const WAL_LIMIT_BYTES: i64 = 64 << 20;

/// The schema's migrations, in order: migration `i` brings `PRAGMA user_version` to `i + 1`.
const MIGRATIONS: [&str; 2] = [
    include_str!("../../migrations/sqlite-checks/0001_checks.sql"),
    include_str!("../../migrations/sqlite-checks/0002_check_chunks.sql"),
];

/// The check file of the store at `db`: `X.checks.db` for `X.db` (the stem, as the audit log's
/// `X.audit.db`).
pub fn check_file_path(db: &Path) -> PathBuf {
    let stem = db
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "creditloop".to_string());
    db.with_file_name(format!("{stem}.checks.db"))
}

/// The check log's connections.
pub(super) struct CheckFile(Connections);

impl CheckFile {
    /// Opens (creating when missing) the check file of the store at `db`; for `:memory:` a
    /// private in-memory database of its own.
    pub(super) fn open(db: &Path, memory: bool) -> Result<Self> {
        let path = if memory {
            PathBuf::from(":memory:")
        } else {
            check_file_path(db)
        };
        let mut writer = Connection::open(&path)?;
        configure(&writer, Some((PAGE_SIZE, WRITER_CACHE)))?;
        migrate(&mut writer)?;
        Ok(CheckFile(Connections::new(
            writer,
            &path,
            memory,
            READERS,
            WAL_LIMIT_BYTES,
            "check-checkpoint",
        )?))
    }

    /// Copies the checks and feedback that a store made before this file existed keeps in its
    /// main file (`main`, at `main_path`) into this file. Idempotent (rows already here are kept
    /// as they are), so a copy cut short is simply made again on the next open; main-file
    /// migration 8 drops the old tables only after it.
    pub(super) fn adopt(&self, main: &Connection, main_path: &Path) -> Result<()> {
        let held: bool = main.query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'checks')",
            [],
            |r| r.get(0),
        )?;
        if !held {
            return Ok(());
        }
        let mut conn = self.writer()?;
        let main_path = main_path
            .to_str()
            .ok_or_else(|| StoreError::Other(format!("{}: not UTF-8", main_path.display())))?;
        conn.execute("ATTACH DATABASE ?1 AS old", [main_path])?;
        let copied = (|| -> Result<()> {
            let tx = conn.transaction()?;
            tx.execute_batch(
                "INSERT OR IGNORE INTO main.checks (id, at, checked_on, agency, case_ref,
                     subject_query, subject_key, scenario, decision, measures, catalogue_version,
                     data_version, batch_id, answer)
                 SELECT id, at, checked_on, agency, case_ref, subject_query, subject_key,
                     scenario, decision, measures, catalogue_version, data_version, batch_id,
                     answer
                 FROM old.checks;
                 INSERT OR IGNORE INTO main.check_feedback (check_id, outcome, measures, note,
                     agency, at)
                 SELECT check_id, outcome, measures, note, agency, at FROM old.check_feedback;",
            )?;
            tx.commit()?;
            Ok(())
        })();
        let detached = conn.execute_batch("DETACH DATABASE old");
        copied?;
        detached?;
        Ok(())
    }

    fn writer(&self) -> Result<MutexGuard<'_, Connection>> {
        self.0.writer()
    }

    fn reader(&self) -> Result<MutexGuard<'_, Connection>> {
        self.0.reader()
    }

    pub(super) fn write_checks(&self, checks: &[StoredCheck]) -> Result<()> {
        if checks.is_empty() {
            return Ok(());
        }
        let mut conn = self.writer()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut st = tx.prepare_cached(
                "INSERT INTO checks (id, at, checked_on, agency, case_ref, subject_query,
                     subject_key, scenario, decision, measures, catalogue_version, data_version,
                     batch_id, answer)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            )?;
            let mut answer = Vec::new();
            for c in checks {
                answer.clear();
                crate::body::compress_answer_into(&c.answer, &mut answer)?;
                st.execute(params![
                    c.id,
                    timestamp(c.at),
                    IsoDate::new(c.checked_on).as_str(),
                    c.agency,
                    c.case_ref,
                    c.subject_query,
                    c.subject_key,
                    c.scenario,
                    c.decision,
                    serde_json::to_string(&c.measures).map_err(|e| corrupt_json("measures", e))?,
                    c.catalogue_version,
                    c.data_version as i64,
                    c.batch_id,
                    answer,
                ])?;
            }
        }
        tx.commit()?;
        self.0.committed();
        Ok(())
    }

    pub(super) fn write_batch_checks(&self, checks: &[StoredCheck]) -> Result<()> {
        if checks.is_empty() {
            return Ok(());
        }
        // Encoded and compressed before the write lock is taken.
        let chunks = chunks::chunks_of(checks)?;
        let mut conn = self.writer()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut st = tx.prepare_cached(
                "INSERT INTO check_chunks (batch_id, first_row, last_row, rows, first_at, last_at,
                     checked_on, agency, scenario, catalogue_version, data_version, decisions, body)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            )?;
            for c in &chunks {
                let h = &c.head;
                st.execute(params![
                    h.batch_id,
                    h.first_row as i64,
                    h.last_row as i64,
                    h.rows as i64,
                    timestamp(h.first_at),
                    timestamp(h.last_at),
                    IsoDate::new(h.checked_on).as_str(),
                    h.agency,
                    h.scenario,
                    h.catalogue_version,
                    h.data_version as i64,
                    h.decisions_json()?,
                    c.body,
                ])?;
            }
        }
        tx.commit()?;
        self.0.committed();
        Ok(())
    }

    /// The chunk that holds the batch row `id`, if `id` is a batch row's receipt.
    fn chunk_of(conn: &Connection, id: &str) -> Result<Option<ChunkHead>> {
        let Some((batch, row)) = chunks::parse_batch_receipt(id) else {
            return Ok(None);
        };
        let Ok(row) = i64::try_from(row) else {
            return Ok(None);
        };
        let mut st = conn.prepare_cached(&format!(
            "SELECT {HEAD_COLUMNS} FROM check_chunks
             WHERE batch_id = ?1 AND first_row <= ?2 ORDER BY first_row DESC LIMIT 1"
        ))?;
        let head = read_heads(&mut st, params![batch, row])?.into_iter().next();
        Ok(head.filter(|h| h.last_row >= row as u64))
    }

    pub(super) fn ping(&self) -> Result<()> {
        self.0.ping("checks")
    }

    pub(super) fn check_receipt(&self, id: &str) -> Result<Option<StoredCheck>> {
        let conn = self.reader()?;
        let mut st = conn.prepare_cached(&format!(
            "SELECT {CHECK_COLUMNS} FROM checks c LEFT JOIN check_feedback f ON f.check_id = c.id
             WHERE c.id = ?1"
        ))?;
        let mut rows = st.query([id])?;
        if let Some(r) = rows.next()? {
            return Ok(Some(stored_check(r)?));
        }
        match Self::chunk_of(&conn, id)? {
            Some(head) => chunks::row_of(&head, id, &mut Chunks(&conn)),
            None => Ok(None),
        }
    }

    pub(super) fn checks(&self, q: &CheckQuery) -> Result<Vec<StoredCheck>> {
        let conn = self.reader()?;
        let order = if q.oldest_first { "ASC" } else { "DESC" };
        let mut st = conn.prepare_cached(&format!(
            "SELECT {CHECK_COLUMNS} FROM checks c LEFT JOIN check_feedback f ON f.check_id = c.id
             WHERE (?1 IS NULL OR c.agency = ?1)
               AND (?2 = 0 OR f.check_id IS NULL)
               AND (?3 IS NULL OR c.checked_on <= ?3)
             ORDER BY c.id {order} LIMIT ?4"
        ))?;
        let on_or_before = q.on_or_before.map(IsoDate::new);
        let mut rows = st.query(params![
            q.agency,
            q.without_feedback,
            on_or_before.as_ref().map(|d| d.as_str()),
            q.limit as i64
        ])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(stored_check(r)?);
        }
        drop(rows);
        drop(st);
        chunks::list(out, q, &mut Chunks(&conn))
    }

    pub(super) fn put_feedback(&self, check_id: &str, fb: &Feedback) -> Result<FeedbackWrite> {
        let mut conn = self.writer()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let exists: Option<i64> = tx
            .query_row("SELECT 1 FROM checks WHERE id = ?1", [check_id], |r| {
                r.get(0)
            })
            .optional()?;
        if exists.is_none() {
            let in_chunk = match Self::chunk_of(&tx, check_id)? {
                Some(head) => chunks::has_row(&head, check_id, &mut Chunks(&tx))?,
                None => false,
            };
            if !in_chunk {
                return Ok(FeedbackWrite::UnknownCheck);
            }
        }
        let held = tx
            .query_row(
                "SELECT outcome, measures, note, agency, at FROM check_feedback
                 WHERE check_id = ?1",
                [check_id],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, Option<String>>(2)?,
                        r.get::<_, Option<String>>(3)?,
                        r.get::<_, String>(4)?,
                    ))
                },
            )
            .optional()?;
        if let Some((outcome, measures, note, agency, at)) = held {
            let held = feedback_from(&outcome, &measures, note, agency, parse_timestamp(&at)?)?;
            return Ok(if held.same_content(fb) {
                FeedbackWrite::Duplicate
            } else {
                FeedbackWrite::Conflict(Box::new(held))
            });
        }
        tx.execute(
            "INSERT INTO check_feedback (check_id, outcome, measures, note, agency, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                check_id,
                fb.outcome.code(),
                serde_json::to_string(&fb.measures).map_err(|e| corrupt_json("measures", e))?,
                fb.note,
                fb.agency,
                timestamp(fb.at),
            ],
        )?;
        tx.commit()?;
        self.0.committed();
        Ok(FeedbackWrite::Stored)
    }

    pub(super) fn check_stats(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<CheckStat>> {
        let conn = self.reader()?;
        let mut st = conn.prepare_cached(
            "SELECT c.decision, c.agency, COUNT(*), COUNT(f.check_id)
             FROM checks c LEFT JOIN check_feedback f ON f.check_id = c.id
             WHERE c.checked_on >= ?1 AND c.checked_on <= ?2
             GROUP BY c.decision, c.agency ORDER BY c.decision, c.agency",
        )?;
        let mut rows = st.query(params![
            IsoDate::new(from).as_str(),
            IsoDate::new(to).as_str()
        ])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(CheckStat {
                decision: r.get(0)?,
                agency: r.get(1)?,
                checks: count(r.get(2)?)?,
                with_feedback: count(r.get(3)?)?,
            });
        }
        drop(rows);
        drop(st);
        let mut st = conn.prepare_cached(&format!(
            "SELECT {HEAD_COLUMNS} FROM check_chunks WHERE checked_on >= ?1 AND checked_on <= ?2"
        ))?;
        let heads = read_heads(
            &mut st,
            params![IsoDate::new(from).as_str(), IsoDate::new(to).as_str()],
        )?;
        drop(st);
        chunks::add_stats(out, &heads, &mut Chunks(&conn))
    }
}

fn migrate(conn: &mut Connection) -> Result<()> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (i, sql) in MIGRATIONS.iter().enumerate() {
        let to = i as i64 + 1;
        if version >= to {
            continue;
        }
        // Idempotent statements: another process creating the file at the same time is harmless.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", to)?;
        tx.commit()?;
    }
    Ok(())
}

/// A chunk's columns but its body, as [`head`] reads them.
const HEAD_COLUMNS: &str = "batch_id, first_row, last_row, rows, first_at, last_at, checked_on,
    agency, scenario, catalogue_version, data_version, decisions";

fn head(r: &Row<'_>) -> Result<ChunkHead> {
    let n = |i: usize| -> Result<u64> {
        u64::try_from(r.get::<_, i64>(i)?)
            .map_err(|_| StoreError::Corrupt("negative number in a check chunk".into()))
    };
    let (first_at, last_at, on): (String, String, String) = (r.get(4)?, r.get(5)?, r.get(6)?);
    let decisions: String = r.get(11)?;
    Ok(ChunkHead {
        batch_id: r.get(0)?,
        first_row: n(1)?,
        last_row: n(2)?,
        rows: n(3)?,
        first_at: parse_timestamp(&first_at)?,
        last_at: parse_timestamp(&last_at)?,
        checked_on: parse_date(&on)?,
        agency: r.get(7)?,
        scenario: r.get(8)?,
        catalogue_version: r.get(9)?,
        data_version: n(10)?,
        decisions: ChunkHead::parse_decisions(&decisions)?,
    })
}

/// The heads a statement selecting [`HEAD_COLUMNS`] gives.
fn read_heads(st: &mut Statement<'_>, params: impl Params) -> Result<Vec<ChunkHead>> {
    let mut rows = st.query(params)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(head(r)?);
    }
    Ok(out)
}

/// The check file's chunks, for [`chunks::list`] and its kin.
struct Chunks<'c>(&'c Connection);

impl chunks::ChunkSource for Chunks<'_> {
    fn heads(&mut self, q: &CheckQuery) -> Result<Vec<ChunkHead>> {
        let order = if q.oldest_first {
            "first_at ASC"
        } else {
            "last_at DESC"
        };
        let mut st = self.0.prepare_cached(&format!(
            "SELECT {HEAD_COLUMNS} FROM check_chunks
             WHERE (?1 IS NULL OR agency = ?1) AND (?2 IS NULL OR checked_on <= ?2)
             ORDER BY {order}"
        ))?;
        let on_or_before = q.on_or_before.map(IsoDate::new);
        read_heads(
            &mut st,
            params![q.agency, on_or_before.as_ref().map(|d| d.as_str())],
        )
    }

    fn body(&mut self, h: &ChunkHead) -> Result<Vec<u8>> {
        let mut st = self.0.prepare_cached(
            "SELECT body FROM check_chunks WHERE batch_id = ?1 AND first_row = ?2",
        )?;
        Ok(st.query_row(params![h.batch_id, h.first_row as i64], |r| r.get(0))?)
    }

    fn feedback(&mut self, batch_id: &str) -> Result<HashMap<String, Feedback>> {
        let (from, to) = ChunkHead::receipt_range(batch_id);
        let mut st = self.0.prepare_cached(
            "SELECT check_id, outcome, measures, note, agency, at FROM check_feedback
             WHERE check_id > ?1 AND check_id < ?2",
        )?;
        let mut rows = st.query(params![from, to])?;
        let mut out = HashMap::new();
        while let Some(r) = rows.next()? {
            let (outcome, measures, at): (String, String, String) =
                (r.get(1)?, r.get(2)?, r.get(5)?);
            let fb = feedback_from(
                &outcome,
                &measures,
                r.get(3)?,
                r.get(4)?,
                parse_timestamp(&at)?,
            )?;
            out.insert(r.get(0)?, fb);
        }
        Ok(out)
    }
}

const CHECK_COLUMNS: &str = "c.id, c.at, c.checked_on, c.agency, c.case_ref, c.subject_query,
    c.subject_key, c.scenario, c.decision, c.measures, c.catalogue_version, c.data_version,
    c.batch_id, c.answer, f.outcome, f.measures, f.note, f.agency, f.at";

fn stored_check(r: &Row<'_>) -> Result<StoredCheck> {
    let at: String = r.get(1)?;
    let on: String = r.get(2)?;
    let measures: String = r.get(9)?;
    // Compressed (a BLOB), or text as written before answers were compressed.
    let answer = match r.get_ref(13)? {
        ValueRef::Blob(b) | ValueRef::Text(b) => crate::body::answer_text(b)?,
        _ => {
            return Err(StoreError::Corrupt(
                "check answer: neither text nor blob".into(),
            ));
        }
    };
    let feedback = match r.get::<_, Option<String>>(14)? {
        Some(outcome) => {
            let fm: String = r.get(15)?;
            let fat: String = r.get(18)?;
            Some(feedback_from(
                &outcome,
                &fm,
                r.get(16)?,
                r.get(17)?,
                parse_timestamp(&fat)?,
            )?)
        }
        None => None,
    };
    Ok(StoredCheck {
        id: r.get(0)?,
        at: parse_timestamp(&at)?,
        checked_on: parse_date(&on)?,
        agency: r.get(3)?,
        case_ref: r.get(4)?,
        subject_query: r.get(5)?,
        subject_key: r.get(6)?,
        scenario: r.get(7)?,
        decision: r.get(8)?,
        measures: serde_json::from_str(&measures).map_err(|e| corrupt_json("measures", e))?,
        catalogue_version: r.get(10)?,
        data_version: u64::try_from(r.get::<_, i64>(11)?)
            .map_err(|_| StoreError::Corrupt("negative data version".into()))?,
        batch_id: r.get(12)?,
        answer,
        feedback,
    })
}
