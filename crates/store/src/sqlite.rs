//! The embedded store: one SQLite file in WAL mode.
//!
//! One writer connection behind a mutex does every write in one `BEGIN IMMEDIATE` transaction; a small
//! pool of reader connections reads from WAL snapshots, so credit checks never wait behind an import.
//! `synchronous = FULL` makes a commit durable when it returns, even across a crash or `kill -9`.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{RecvTimeoutError, SyncSender, sync_channel};
use std::sync::{Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};

use creditloop_domain::agency::{Agency, AgencyLevel};
use creditloop_domain::intake::{IntakeCounts, RejectedRow};
use creditloop_domain::record::{Category, RecordKey, Timeliness};
use creditloop_domain::subject::{PersonLink, PersonRole, SubjectCodes, SubjectKey, SubjectKind};

use crate::memo::{Known, WriteMemo};
use crate::plan::{
    self, DEFERRABLE_INDEXES, ExistingVersion, IdBuildHasher, KEY_PREFIXES, Pipeline, StopOnDrop,
    key_hashes, outcome_counts, subject_writes, written_identities,
};
use crate::{
    Batch, BatchOutcome, BatchSummary, CheckQuery, CheckStat, FeedbackWrite, IndexFeed,
    LEGACY_PERSONS_SQL, LIST_CATEGORIES_SQL, ListMember, ListQuery, PII_KEY_CHECK, Page,
    RecordStat, Result, Store, StoreError, StoredCatalogue, StoredCheck, StoredRecord,
    StoredReport, SubjectName, SubjectProfile, SubjectSummary, Totals, compare_key_check,
    fact_record, list_categories_sql, stored_person,
};
use creditloop_domain::feedback::{Feedback, FeedbackOutcome};
use creditloop_domain::pii::SealedIdentity;

mod access;
mod checks;
pub use checks::check_file_path;

/// Migrations in order; each runs once, recorded in `schema_migrations`.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "init",
        include_str!("../migrations/sqlite/0001_init.sql"),
    ),
    (
        2,
        "checks",
        include_str!("../migrations/sqlite/0002_checks.sql"),
    ),
    (
        3,
        "catalogues",
        include_str!("../migrations/sqlite/0003_catalogues.sql"),
    ),
    (
        4,
        "portal",
        include_str!("../migrations/sqlite/0004_portal.sql"),
    ),
    (
        5,
        "access",
        include_str!("../migrations/sqlite/0005_access.sql"),
    ),
    (
        6,
        "certificates",
        include_str!("../migrations/sqlite/0006_certificates.sql"),
    ),
    (7, "pii", include_str!("../migrations/sqlite/0007_pii.sql")),
    (
        8,
        "checks_file",
        include_str!("../migrations/sqlite/0008_checks_file.sql"),
    ),
];

/// Builds the deferrable indexes that are missing: after a bulk load, or when opening a store whose
/// bulk load was killed before its end.
fn ensure_indexes(conn: &Connection) -> Result<()> {
    for (_, sql) in DEFERRABLE_INDEXES {
        conn.execute_batch(sql)?;
    }
    Ok(())
}

/// Page size of new databases. Larger than SQLite's 4 KiB for ~1 KiB records (fewer page splits, WAL
/// frames and system calls), but not so large that each random insert into subjects, persons or
/// sealed identities dirties 64 KiB of WAL: the 3.8 M-row penalty file imports in 152 s with 16 KiB
/// pages against 183 s with 64 KiB (BENCHMARKS.md).
const PAGE_SIZE: u32 = 16384;

/// The writer's page cache, 256 MiB: the record indexes of a large import stay in memory.
const WRITER_CACHE: &str = "PRAGMA cache_size = -262144;";

/// The writer's page cache during a bulk load, 384 MiB: the randomly keyed subject, person and
/// identity indexes outgrow 256 MiB late in a Tianjin-scale file, and reading their pages back cost
/// a tenth of the load (3.8 M rows: 125.5 s with 256 MiB, 116.5 s with 384 MiB at 731 MiB resident,
/// 114.5 s with 512 MiB at 927 MiB resident — too near the 1 GiB bound; BENCHMARKS.md).
const BULK_CACHE: &str = "PRAGMA cache_size = -393216;";

/// Reader connections of a file database. Reads are short, so a few suffice on a small machine.
const READERS: usize = 4;

/// How long a connection waits for another process's lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// WAL size at which the writer checkpoints by itself, a fallback for when the background
/// checkpointer falls behind; also the size the WAL file is truncated to after a checkpoint. Large
/// enough that a 20,000-row batch (~50 MB of frames) does not make the writer checkpoint inside its
/// own commit nor shrink and regrow the file each batch (about 7% faster imports than 64 MiB).
const WAL_LIMIT_BYTES: i64 = 256 << 20;

/// Least time between two background checkpoints. Checking traffic commits hundreds of small
/// groups a second; checkpointing after each copied the same last pages hundreds of times a second
/// (21 % of the server's CPU in the two checkpoint threads; 12 % with 25 ms, BENCHMARKS.md). At
/// 250 ms the checkpoints grew large enough to stall commits behind their writes (p99 6 → 21 ms).
const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(25);

/// Brings the writer's memo up to date inside a write transaction: `PRAGMA data_version` changes
/// when another connection commits (not with this connection's own commits).
fn sync_memo(tx: &Connection, memo: &mut WriteMemo) -> Result<()> {
    let v: i64 = tx.query_row("PRAGMA data_version", [], |r| r.get(0))?;
    memo.sync(v, v);
    Ok(())
}

/// SQLite implementation of [`Store`].
pub struct SqliteStore {
    conns: Connections,
    /// Locked only while the writer is held.
    memo: Mutex<WriteMemo>,
    /// `PATH-bulk`, whose lock marks a running bulk load ([`BulkMark`]); `None` for `:memory:`.
    bulk_mark: Option<BulkMark>,
    /// The check log, in a file of its own.
    checks: checks::CheckFile,
}

/// A file beside the database whose exclusive lock a bulk load holds while it runs, so that a store
/// opened meanwhile (another process, or another store in this one) does not take the load's
/// deferred indexes for those of a killed load and build them in the middle of it. The operating
/// system drops the lock when the loading process dies, however it dies.
struct BulkMark {
    path: std::path::PathBuf,
    held: Mutex<Option<std::fs::File>>,
}

impl BulkMark {
    fn beside(db: &Path) -> Self {
        let mut name = db.as_os_str().to_owned();
        name.push("-bulk");
        BulkMark {
            path: name.into(),
            held: Mutex::new(None),
        }
    }

    /// Whether some bulk load holds the mark now. An unreadable mark counts as none: the indexes
    /// are then rebuilt, which is always correct, only slower for a load that runs.
    fn taken(&self) -> bool {
        match std::fs::File::open(&self.path) {
            Ok(f) => matches!(f.try_lock(), Err(std::fs::TryLockError::WouldBlock)),
            Err(_) => false,
        }
    }

    /// Takes the mark for this store's load; `false` when another load holds it.
    fn take(&self) -> Result<bool> {
        let mut held = self
            .held
            .lock()
            .map_err(|_| StoreError::Other("bulk-load mark lock poisoned".into()))?;
        if held.is_some() {
            return Ok(true);
        }
        let f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&self.path)
            .map_err(|e| StoreError::Other(format!("{}: {e}", self.path.display())))?;
        match f.try_lock() {
            Ok(()) => {
                *held = Some(f);
                Ok(true)
            }
            Err(std::fs::TryLockError::WouldBlock) => Ok(false),
            Err(std::fs::TryLockError::Error(e)) => {
                Err(StoreError::Other(format!("{}: {e}", self.path.display())))
            }
        }
    }

    /// Gives the mark back (a no-op when this store does not hold it).
    fn release(&self) {
        if let Ok(mut held) = self.held.lock()
            && held.take().is_some()
        {
            // Unlocked by closing; the file goes so no stray mark stays beside the database.
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Copies committed WAL pages into the database file on its own thread and connection, so a commit
/// costs only the WAL append and its fsync. A passive checkpoint never blocks the writer or readers.
struct Checkpointer {
    wake: Option<SyncSender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    fn none() -> Self {
        Checkpointer {
            wake: None,
            thread: None,
        }
    }

    fn start(path: &Path, name: &str) -> Result<Self> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        let (wake, wakes) = sync_channel::<()>(1);
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                let checkpoint = || {
                    // Failures only leave more WAL for the next round or the writer's fallback.
                    let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
                };
                let mut last = Instant::now();
                while wakes.recv().is_ok() {
                    // At most one checkpoint per interval: the commits in between are copied
                    // together, so a page rewritten by each small commit (the checks table's last
                    // page) is copied once, not once per commit.
                    let due = last + CHECKPOINT_INTERVAL;
                    while let Some(left) = due.checked_duration_since(Instant::now()) {
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
                    last = Instant::now();
                }
            })
            .map_err(|e| StoreError::Other(format!("cannot start checkpoint thread: {e}")))?;
        Ok(Checkpointer {
            wake: Some(wake),
            thread: Some(thread),
        })
    }

    /// Called after each commit; never blocks.
    fn committed(&self) {
        if let Some(w) = &self.wake {
            let _ = w.try_send(());
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.wake = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl SqliteStore {
    /// Opens (creating when missing) the database at `path` and runs pending migrations. `:memory:`
    /// gives a private in-memory database, for tests.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let memory = path.as_os_str() == ":memory:";
        let mut writer = Connection::open(path)?;
        configure(&writer, Some((PAGE_SIZE, WRITER_CACHE)))?;
        let checks = checks::CheckFile::open(path, memory)?;
        // Checks kept in this file by an older version move to the check file before migration 8
        // drops their tables here.
        if !memory {
            checks.adopt(&writer, path)?;
        }
        migrate(&mut writer)?;
        let bulk_mark = (!memory).then(|| BulkMark::beside(path));
        // Indexes missing while no load holds the mark were left by a killed load.
        if !bulk_mark.as_ref().is_some_and(BulkMark::taken) {
            ensure_indexes(&writer)?;
        }
        let conns = Connections::new(
            writer,
            path,
            memory,
            READERS,
            WAL_LIMIT_BYTES,
            "sqlite-checkpoint",
        )?;
        Ok(SqliteStore {
            conns,
            memo: Mutex::new(WriteMemo::default()),
            bulk_mark,
            checks,
        })
    }

    /// One write transaction of records (and their subjects): the writer, the memo brought up to
    /// date, `work`, the commit. The memo forgets everything when any of it fails, since its writes
    /// were rolled back.
    fn write_records<T>(
        &self,
        work: impl FnOnce(&Connection, &mut WriteMemo) -> Result<T>,
    ) -> Result<T> {
        let mut conn = self.writer()?;
        // A poisoned memo may hold writes that were rolled back: start over.
        let mut memo = self.memo.lock().unwrap_or_else(|p| {
            let mut g = p.into_inner();
            g.clear();
            g
        });
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = sync_memo(&tx, &mut memo).and_then(|()| {
            let out = work(&tx, &mut memo)?;
            tx.commit()?;
            Ok(out)
        });
        if out.is_err() {
            memo.clear();
        }
        drop((memo, conn));
        if out.is_ok() {
            self.conns.committed();
        }
        out
    }

    fn writer(&self) -> Result<MutexGuard<'_, Connection>> {
        self.conns.writer()
    }

    fn reader(&self) -> Result<MutexGuard<'_, Connection>> {
        self.conns.reader()
    }
}

/// The connections of one database file: one writer, a pool of readers reading from WAL
/// snapshots, and the checkpointer that copies committed WAL pages into the file.
struct Connections {
    writer: Mutex<Connection>,
    /// Empty for `:memory:`, whose data only the writer connection sees; reads then use the writer.
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
    checkpointer: Checkpointer,
}

impl Connections {
    /// Around a configured, migrated `writer` of the file at `path`: `readers` reader connections,
    /// the WAL bounded to `wal_limit` bytes, and a checkpointer thread called `name` (none of
    /// these for `:memory:`).
    fn new(
        writer: Connection,
        path: &Path,
        memory: bool,
        readers: usize,
        wal_limit: i64,
        name: &str,
    ) -> Result<Self> {
        if memory {
            return Ok(Connections {
                writer: Mutex::new(writer),
                readers: Vec::new(),
                next_reader: AtomicUsize::new(0),
                checkpointer: Checkpointer::none(),
            });
        }
        let readers = (0..readers)
            .map(|_| {
                let c = Connection::open(path)?;
                configure(&c, None)?;
                Ok(Mutex::new(c))
            })
            .collect::<Result<Vec<_>>>()?;
        let page_size: i64 = writer.query_row("PRAGMA page_size", [], |r| r.get(0))?;
        writer.pragma_update(
            None,
            "wal_autocheckpoint",
            (wal_limit / page_size.max(512)).max(16),
        )?;
        writer.pragma_update(None, "journal_size_limit", wal_limit)?;
        Ok(Connections {
            writer: Mutex::new(writer),
            readers,
            next_reader: AtomicUsize::new(0),
            checkpointer: Checkpointer::start(path, name)?,
        })
    }

    fn writer(&self) -> Result<MutexGuard<'_, Connection>> {
        self.writer
            .lock()
            .map_err(|_| StoreError::Other("SQLite writer lock poisoned".into()))
    }

    /// A reader connection: a free one if any, else the next in turn.
    fn reader(&self) -> Result<MutexGuard<'_, Connection>> {
        if self.readers.is_empty() {
            return self.writer();
        }
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed);
        for i in 0..self.readers.len() {
            if let Ok(g) = self.readers[(start + i) % self.readers.len()].try_lock() {
                return Ok(g);
            }
        }
        self.readers[start % self.readers.len()]
            .lock()
            .map_err(|_| StoreError::Other("SQLite reader lock poisoned".into()))
    }

    /// Reads the first page of `table` on a reader, for health checks: fails when the file
    /// cannot be read or lacks the table.
    fn ping(&self, table: &str) -> Result<()> {
        self.reader()?
            .prepare_cached(&format!("SELECT 1 FROM {table} LIMIT 1"))?
            .exists([])?;
        Ok(())
    }

    /// Called after each commit: wakes the checkpointer; never blocks.
    fn committed(&self) {
        self.checkpointer.committed();
    }
}

/// Sets up a connection: WAL, full sync, and for a writer its `(page_size, cache pragma)` (the page
/// size takes effect only while the file is still empty, a new database).
fn configure(conn: &Connection, writer: Option<(u32, &str)>) -> Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.set_prepared_statement_cache_capacity(64);
    if let Some((page_size, _)) = writer {
        conn.pragma_update(None, "page_size", page_size)?;
    }
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if mode != "wal" && mode != "memory" {
        return Err(StoreError::Other(format!(
            "SQLite refused WAL journal mode (got `{mode}`)"
        )));
    }
    // FULL: with WAL, a commit is on disk when COMMIT returns.
    conn.execute_batch(
        "PRAGMA synchronous = FULL;
         PRAGMA temp_store = MEMORY;
         PRAGMA foreign_keys = OFF;",
    )?;
    if let Some((_, cache)) = writer {
        conn.execute_batch(cache)?;
    } else {
        conn.execute_batch("PRAGMA cache_size = -65536; PRAGMA query_only = ON;")?;
    }
    Ok(())
}

fn migrate(conn: &mut Connection) -> Result<()> {
    // With nothing pending, no write lock is taken: opening a store then never waits behind
    // another process's long write transaction (an import's).
    if all_applied(conn)? {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version INTEGER PRIMARY KEY,
             name TEXT NOT NULL,
             applied_at TEXT NOT NULL
         )",
    )?;
    let applied = applied_versions(&tx)?;
    for &(version, name, sql) in MIGRATIONS {
        if applied.contains(&version) {
            continue;
        }
        tx.execute_batch(sql)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
            params![version, name, timestamp(Utc::now())],
        )?;
    }
    tx.commit()?;
    Ok(())
}

/// Whether every migration is recorded as applied, read without a write lock.
fn all_applied(conn: &Connection) -> Result<bool> {
    let known: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table'
             AND name = 'schema_migrations')",
        [],
        |r| r.get(0),
    )?;
    if !known {
        return Ok(false);
    }
    let applied = applied_versions(conn)?;
    Ok(MIGRATIONS.iter().all(|(v, _, _)| applied.contains(v)))
}

fn applied_versions(conn: &Connection) -> Result<Vec<i64>> {
    let mut st = conn.prepare("SELECT version FROM schema_migrations")?;
    let applied = st
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(applied)
}

/// `YYYY-MM-DD` without allocating: dates are bound four times per record.
struct IsoDate([u8; 10]);

impl IsoDate {
    fn new(d: NaiveDate) -> Self {
        use chrono::Datelike;
        let y = d.year().clamp(0, 9999) as u32;
        let (m, day) = (d.month(), d.day());
        let digit = |n: u32| b'0' + (n % 10) as u8;
        IsoDate([
            digit(y / 1000),
            digit(y / 100),
            digit(y / 10),
            digit(y),
            b'-',
            digit(m / 10),
            digit(m),
            b'-',
            digit(day / 10),
            digit(day),
        ])
    }

    fn as_str(&self) -> &str {
        // Only ASCII digits and hyphens are written.
        std::str::from_utf8(&self.0).unwrap_or("0000-00-00")
    }
}

/// A record body as the pipeline encoded it: a zstd frame, stored as a blob ([`crate::body`]).
struct StoredBody<'a>(&'a [u8]);

impl rusqlite::ToSql for StoredBody<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(rusqlite::types::ToSqlOutput::Borrowed(
            rusqlite::types::ValueRef::Blob(self.0),
        ))
    }
}

/// Timestamps as fixed-width RFC 3339 in UTC (microseconds, like PostgreSQL), so text order is time
/// order.
fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn parse_timestamp(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt(format!("timestamp `{s}`: {e}")))
}

fn parse_date(s: &str) -> Result<NaiveDate> {
    s.parse()
        .map_err(|e| StoreError::Corrupt(format!("date `{s}`: {e}")))
}

fn corrupt_sql(e: rusqlite::types::FromSqlError) -> StoreError {
    StoreError::Corrupt(format!("column of the wrong type: {e}"))
}

fn corrupt_json(what: &str, e: serde_json::Error) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

const RECORD_COLUMNS: &str =
    "id, version, is_current, batch_id, submitted_on, working_days, deadline, late, body";

fn stored_record(r: &Row<'_>) -> Result<StoredRecord> {
    let submitted_on: String = r.get(4)?;
    let deadline: String = r.get(6)?;
    let body = crate::body::body_json(stored_body(r.get_ref(8)?)?)?;
    Ok(StoredRecord {
        id: r.get(0)?,
        version: r.get(1)?,
        current: r.get(2)?,
        batch_id: r.get(3)?,
        timeliness: Timeliness {
            submitted_on: parse_date(&submitted_on)?,
            working_days: r.get(5)?,
            deadline: parse_date(&deadline)?,
            late: r.get(7)?,
        },
        record: serde_json::from_slice(&body).map_err(|e| corrupt_json("record body", e))?,
    })
}

/// The bytes of a stored body: text (JSON, written before compression) or a blob (a zstd frame).
fn stored_body(v: rusqlite::types::ValueRef<'_>) -> Result<&[u8]> {
    match v {
        rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => Ok(t),
        other => Err(StoreError::Corrupt(format!(
            "record body of type {:?}",
            other.data_type()
        ))),
    }
}

fn subject_summary(key: String, name: String, kind: &str, codes: &str) -> Result<SubjectSummary> {
    Ok(SubjectSummary {
        kind: SubjectKind::from_code(kind)
            .ok_or_else(|| StoreError::Corrupt(format!("subject kind `{kind}`")))?,
        codes: serde_json::from_str::<SubjectCodes>(codes)
            .map_err(|e| corrupt_json("subject codes", e))?,
        key: SubjectKey(key),
        name,
    })
}

fn batch_summary(r: &Row<'_>) -> Result<BatchSummary> {
    let received_at: String = r.get(4)?;
    let count = |i: usize| -> Result<u64> {
        let n: i64 = r.get(i)?;
        u64::try_from(n).map_err(|_| StoreError::Corrupt(format!("negative batch count {n}")))
    };
    Ok(BatchSummary {
        id: r.get(0)?,
        source: r.get(1)?,
        source_digest: r.get(2)?,
        agency: r.get(3)?,
        received_at: parse_timestamp(&received_at)?,
        counts: IntakeCounts {
            accepted: count(5)?,
            new_versions: count(6)?,
            duplicates: count(7)?,
            rejected: count(8)?,
            late: count(9)?,
        },
    })
}

const BATCH_COLUMNS: &str = "id, source, source_digest, agency, received_at, accepted, new_versions, duplicates, rejected, late";

fn count(n: i64) -> Result<u64> {
    u64::try_from(n).map_err(|_| StoreError::Corrupt(format!("negative count {n}")))
}

/// Looks a code up as a subject key with each prefix, then among secondary codes.
fn find_subject_in(conn: &Connection, code: &str) -> Result<Option<SubjectKey>> {
    let code = code.trim();
    if code.is_empty() {
        return Ok(None);
    }
    let mut by_key = conn.prepare_cached("SELECT key FROM subjects WHERE key = ?1")?;
    for prefix in KEY_PREFIXES {
        let key = format!("{prefix}{code}");
        if let Some(k) = by_key
            .query_row([&key], |r| r.get::<_, String>(0))
            .optional()?
        {
            return Ok(Some(SubjectKey(k)));
        }
    }
    let mut by_code =
        conn.prepare_cached("SELECT subject_key FROM subject_codes WHERE code = ?1")?;
    Ok(by_code
        .query_row([code], |r| r.get::<_, String>(0))
        .optional()?
        .map(SubjectKey))
}

fn summary_by_key(conn: &Connection, key: &str) -> Result<Option<SubjectSummary>> {
    let mut st =
        conn.prepare_cached("SELECT key, name, kind, codes FROM subjects WHERE key = ?1")?;
    let row = st
        .query_row([key], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        })
        .optional()?;
    row.map(|(k, n, kind, codes)| subject_summary(k, n, &kind, &codes))
        .transpose()
}

/// Escapes `%`, `_` and `\` for `LIKE … ESCAPE '\'`.
pub(crate) fn like_pattern(query: &str) -> String {
    let mut p = String::with_capacity(query.len() + 2);
    p.push('%');
    for c in query.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// The version probe: every stored version of the batch's key hashes.
fn probe(
    tx: &Connection,
    hashes: &[i64],
) -> Result<HashMap<i64, Vec<ExistingVersion>, IdBuildHasher>> {
    let mut unique = hashes.to_vec();
    unique.sort_unstable();
    unique.dedup();
    let mut existing: HashMap<i64, Vec<ExistingVersion>, IdBuildHasher> = HashMap::default();
    let mut st = tx.prepare_cached(
        "SELECT id, source, category, doc_no, version, digest FROM records WHERE key_hash = ?1",
    )?;
    for h in unique {
        let mut rows = st.query([h])?;
        while let Some(r) = rows.next()? {
            let category = r.get_ref(2)?.as_str().map_err(corrupt_sql)?;
            let category = Category::parse(category)
                .ok_or_else(|| StoreError::Corrupt(format!("record category `{category}`")))?;
            let digest = r.get_ref(5)?.as_blob().map_err(corrupt_sql)?;
            let digest = digest
                .try_into()
                .map_err(|_| StoreError::Corrupt(format!("digest of {} bytes", digest.len())))?;
            existing.entry(h).or_default().push(ExistingVersion {
                id: r.get(0)?,
                key: RecordKey {
                    source: r.get(1)?,
                    category,
                    doc_no: r.get(3)?,
                },
                version: r.get(4)?,
                digest,
            });
        }
    }
    Ok(existing)
}

/// Probes the stored versions, plans the batch against them and writes it, inside the caller's
/// transaction.
fn write_planned(
    tx: &Connection,
    batch: &Batch,
    hashes: &[i64],
    pipeline: &Pipeline<'_>,
    rejects: &[(String, String)],
    received_at: &str,
    memo: &mut WriteMemo,
) -> Result<IntakeCounts> {
    let existing = probe(tx, hashes)?;
    let plan = plan::plan_pipelined(&batch.accepted, hashes, &existing, pipeline)?;
    let counts = outcome_counts(&plan, batch.rejected.len());

    {
        let mut insert = tx.prepare_cached(
            "INSERT INTO records (key_hash, source, category, doc_no, version, is_current, digest,
                 subject_key, subject_name, nature, severity, status, decision_date,
                 publicity_until, submitted_on, working_days, deadline, late, batch_id, body)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
                 ?18, ?19, ?20)",
        )?;
        for (i, p) in plan.rows.iter().enumerate() {
            let Some(version) = p.version() else { continue };
            let row = &batch.accepted[i];
            let rec = &row.record;
            let t = &row.timeliness;
            let (enc, j) = pipeline.row(i)?;
            insert.execute(params![
                hashes[i],
                rec.key.source,
                rec.key.category.code(),
                rec.key.doc_no,
                version,
                p.is_current(),
                &enc.digests[j][..],
                enc.subject_keys[j],
                rec.subject.name,
                rec.nature.code(),
                rec.severity.code(),
                rec.status.code(),
                IsoDate::new(rec.decision_date).as_str(),
                IsoDate::new(rec.publicity_until).as_str(),
                IsoDate::new(t.submitted_on).as_str(),
                t.working_days,
                IsoDate::new(t.deadline).as_str(),
                t.late,
                batch.id,
                StoredBody(enc.body(j)?),
            ])?;
        }
        if !plan.superseded.is_empty() {
            let mut st = tx.prepare_cached("UPDATE records SET is_current = 0 WHERE id = ?1")?;
            for id in &plan.superseded {
                st.execute([id])?;
            }
        }
    }

    let subject_keys = pipeline.subject_keys()?;
    let mut subjects = subject_writes(&batch.accepted, &subject_keys, &plan)
        .map_err(|e| StoreError::Other(format!("cannot serialise subject: {e}")))?;
    subjects.sort_by_key();
    {
        let mut st = tx.prepare_cached(
            "INSERT INTO subjects (key, name, kind, uscc, reg_no, org_code, resident_id, codes,
                 updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT (key) DO UPDATE SET
                 name = excluded.name,
                 kind = excluded.kind,
                 uscc = COALESCE(excluded.uscc, subjects.uscc),
                 reg_no = COALESCE(excluded.reg_no, subjects.reg_no),
                 org_code = COALESCE(excluded.org_code, subjects.org_code),
                 resident_id = COALESCE(excluded.resident_id, subjects.resident_id),
                 codes = json_patch(subjects.codes, excluded.codes),
                 updated_at = excluded.updated_at
             WHERE subjects.name <> excluded.name OR subjects.kind <> excluded.kind
                 OR (subjects.codes <> excluded.codes
                     AND json_patch(subjects.codes, excluded.codes) <> subjects.codes)",
        )?;
        for s in &subjects.subjects {
            let content = [
                s.name.as_bytes(),
                s.kind.as_bytes(),
                s.codes_json.as_bytes(),
            ];
            if memo.subject(s.key, &content) == Known::Same {
                continue;
            }
            st.execute(params![
                s.key,
                s.name,
                s.kind,
                s.codes.uscc.as_ref().map(|c| c.as_str()),
                s.codes.reg_no.as_ref().map(|c| c.as_str()),
                s.codes.org_code.as_ref().map(|c| c.as_str()),
                s.codes.person.as_ref().map(|c| c.masked()),
                s.codes_json,
                received_at,
            ])?;
        }
        let mut st = tx.prepare_cached(
            "INSERT INTO subject_codes (code, subject_key) VALUES (?1, ?2)
             ON CONFLICT (code) DO NOTHING",
        )?;
        for (code, key) in &subjects.codes {
            if memo.seen(&[b"c", code.as_bytes()]) {
                continue;
            }
            st.execute(params![code, key])?;
        }
        let mut st = tx.prepare_cached(
            "INSERT INTO subject_persons (subject_key, role, name, person_key, resident_id, other_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (subject_key, role, name) DO UPDATE SET
                 person_key = COALESCE(excluded.person_key, subject_persons.person_key),
                 resident_id = COALESCE(excluded.resident_id, subject_persons.resident_id),
                 other_id = COALESCE(excluded.other_id, subject_persons.other_id)
             WHERE (subject_persons.resident_id IS NULL AND excluded.resident_id IS NOT NULL)
                 OR (subject_persons.other_id IS NULL AND excluded.other_id IS NOT NULL)",
        )?;
        for p in &subjects.persons {
            let known = memo.person(
                p.subject_key,
                p.role,
                p.name,
                p.resident_id.is_some(),
                p.other_id.is_some(),
            );
            if known == Known::Same {
                continue;
            }
            st.execute(params![
                p.subject_key,
                p.role,
                p.name,
                p.person_key,
                p.resident_id,
                p.other_id
            ])?;
        }
    }

    {
        // Every sealed copy of a number opens to the same number, so the first one is kept.
        let mut st = tx.prepare_cached(
            "INSERT INTO pii_identities (subject_key, cipher, sealed, masked, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (subject_key) DO NOTHING",
        )?;
        for id in written_identities(&batch.accepted, &plan) {
            if memo.identity(&id.key.0) == Known::Same {
                continue;
            }
            st.execute(params![
                id.key.0,
                id.cipher,
                id.sealed,
                id.masked,
                received_at
            ])?;
        }
    }

    if !batch.rejected.is_empty() {
        let mut st = tx.prepare_cached(
            "INSERT INTO rejects (source_digest, row_no, batch_id, errors, raw)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (source_digest, row_no) DO NOTHING",
        )?;
        for (r, (errors, raw)) in batch.rejected.iter().zip(rejects) {
            let row_no = i64::try_from(r.row)
                .map_err(|_| StoreError::Other(format!("row number {} too large", r.row)))?;
            st.execute(params![batch.source_digest, row_no, batch.id, errors, raw])?;
        }
    }

    // A batch id seen before (a retried submission) keeps its first summary; whatever the retry
    // did write is added, so the sums over batches stay the number of stored versions.
    tx.prepare_cached(
        "INSERT INTO batches (id, source, source_digest, agency, received_at, accepted,
             new_versions, duplicates, rejected, late)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         ON CONFLICT (id) DO UPDATE SET
             accepted = batches.accepted + excluded.accepted,
             new_versions = batches.new_versions + excluded.new_versions,
             late = batches.late + excluded.late
         WHERE excluded.accepted > 0",
    )?
    .execute(params![
        batch.id,
        batch.source,
        batch.source_digest,
        batch.agency,
        received_at,
        counts.accepted as i64,
        counts.new_versions as i64,
        counts.duplicates as i64,
        counts.rejected as i64,
        counts.late as i64,
    ])?;

    Ok(counts)
}

/// Writes one batch inside `tx` (see [`Store::write_batch`]); the caller commits.
fn write_batch_in(tx: &Connection, batch: &Batch, memo: &mut WriteMemo) -> Result<IntakeCounts> {
    let rows = &batch.accepted;
    let hashes = key_hashes(rows);
    let rejects = batch
        .rejected
        .iter()
        .map(|r| {
            Ok((
                serde_json::to_string(&r.errors)?,
                serde_json::to_string(&r.raw)?,
            ))
        })
        .collect::<std::result::Result<Vec<_>, serde_json::Error>>()
        .map_err(|e| StoreError::Other(format!("cannot serialise rejected row: {e}")))?;
    let received_at = timestamp(batch.received_at);

    // Rows are encoded in pieces by a helper thread while this one probes and writes, unless the
    // batch came encoded.
    let pipeline = Pipeline::for_batch(rows, batch.encoded.as_ref());
    std::thread::scope(|scope| {
        let _stop = StopOnDrop(&pipeline);
        if pipeline.wants_helper() {
            scope.spawn(|| pipeline.help());
        }
        write_planned(tx, batch, &hashes, &pipeline, &rejects, &received_at, memo)
    })
}

impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn put_agencies(&self, agencies: &[Agency]) -> Result<()> {
        let mut conn = self.writer()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut st = tx.prepare_cached(
                "INSERT INTO agencies (code, name, level, region, parent) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (code) DO UPDATE SET name = excluded.name, level = excluded.level,
                     region = excluded.region, parent = excluded.parent",
            )?;
            for a in agencies {
                st.execute(params![a.code, a.name, a.level.code(), a.region, a.parent])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn agencies(&self) -> Result<Vec<Agency>> {
        let conn = self.reader()?;
        let mut st = conn.prepare_cached(
            "SELECT code, name, level, region, parent FROM agencies ORDER BY code",
        )?;
        let mut rows = st.query([])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let level: String = r.get(2)?;
            out.push(Agency {
                code: r.get(0)?,
                name: r.get(1)?,
                level: AgencyLevel::from_code(&level)
                    .ok_or_else(|| StoreError::Corrupt(format!("agency level `{level}`")))?,
                region: r.get(3)?,
                parent: r.get(4)?,
            });
        }
        Ok(out)
    }

    fn write_batch(&self, batch: &Batch) -> Result<BatchOutcome> {
        let counts = self.write_records(|tx, memo| write_batch_in(tx, batch, memo))?;
        Ok(BatchOutcome { counts })
    }

    fn write_batches(
        &self,
        group_rows: usize,
        next: &mut dyn FnMut(bool) -> Option<Batch>,
        done: &mut dyn FnMut(String, BatchOutcome),
    ) -> Result<()> {
        // Several batches per transaction: each commit writes every page it dirtied to the WAL, and
        // the leaves of the randomly keyed indexes (subjects, persons, identities, key hashes) are
        // dirtied by nearly every batch; fewer commits write them fewer times. The batches are
        // written (and freed) one by one, so memory does not grow with the group.
        while let Some(first) = next(true) {
            let written = self.write_records(|tx, memo| {
                crate::fill_group(first, group_rows, next, &mut |b| {
                    write_batch_in(tx, b, memo)
                })
            })?;
            for (id, outcome) in written {
                done(id, outcome);
            }
        }
        Ok(())
    }

    fn begin_bulk_load(&self) -> Result<()> {
        if let Some(mark) = &self.bulk_mark
            && !mark.take()?
        {
            // Another load runs: this one keeps the indexes up as it goes.
            return Ok(());
        }
        let mut conn = self.writer()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Only into an empty table: rebuilding the indexes of rows already held would cost more
        // than it saves, and their readers would wait the whole load.
        let empty: bool = tx.query_row("SELECT NOT EXISTS (SELECT 1 FROM records)", [], |r| {
            r.get(0)
        })?;
        if empty {
            for (name, _) in DEFERRABLE_INDEXES {
                tx.execute_batch(&format!("DROP INDEX IF EXISTS {name}"))?;
            }
        }
        tx.commit()?;
        conn.execute_batch(BULK_CACHE)?;
        Ok(())
    }

    fn end_bulk_load(&self) -> Result<()> {
        if let Some(mark) = &self.bulk_mark {
            mark.release();
        }
        let conn = self.writer()?;
        // Unless another load runs now: its own end builds them.
        if !self.bulk_mark.as_ref().is_some_and(BulkMark::taken) {
            ensure_indexes(&conn)?;
        }
        conn.execute_batch(WRITER_CACHE)?;
        drop(conn);
        self.conns.committed();
        Ok(())
    }

    fn batch(&self, id: &str) -> Result<Option<BatchSummary>> {
        let conn = self.reader()?;
        let mut st = conn.prepare_cached(&format!(
            "SELECT {BATCH_COLUMNS} FROM batches WHERE id = ?1"
        ))?;
        let mut rows = st.query([id])?;
        rows.next()?.map(batch_summary).transpose()
    }

    fn batches(&self, limit: usize) -> Result<Vec<BatchSummary>> {
        let conn = self.reader()?;
        let mut st = conn.prepare_cached(&format!(
            "SELECT {BATCH_COLUMNS} FROM batches ORDER BY received_at DESC, rowid DESC LIMIT ?1"
        ))?;
        let mut rows = st.query([limit.min(i64::MAX as usize) as i64])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(batch_summary(r)?);
        }
        Ok(out)
    }

    fn rejects(&self, batch_id: &str) -> Result<Vec<RejectedRow>> {
        let conn = self.reader()?;
        let mut st = conn.prepare_cached(
            "SELECT row_no, errors, raw FROM rejects WHERE batch_id = ?1 ORDER BY row_no",
        )?;
        let mut rows = st.query([batch_id])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let row: i64 = r.get(0)?;
            let errors: String = r.get(1)?;
            let raw: String = r.get(2)?;
            out.push(RejectedRow {
                row: count(row)?,
                errors: serde_json::from_str(&errors)
                    .map_err(|e| corrupt_json("reject errors", e))?,
                raw: serde_json::from_str(&raw).map_err(|e| corrupt_json("reject raw", e))?,
            });
        }
        Ok(out)
    }

    fn find_subject(&self, code: &str) -> Result<Option<SubjectKey>> {
        let conn = self.reader()?;
        find_subject_in(&conn, code)
    }

    fn search_subjects(&self, query: &str, limit: usize) -> Result<Vec<SubjectSummary>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let mut conn = self.reader()?;
        let tx = conn.transaction()?;
        let mut out = Vec::new();
        if let Some(key) = find_subject_in(&tx, query)? {
            out.extend(summary_by_key(&tx, &key.0)?);
        }
        let mut st = tx.prepare_cached(
            "SELECT key, name, kind, codes FROM subjects WHERE name LIKE ?1 ESCAPE '\\'
             ORDER BY name, key LIMIT ?2",
        )?;
        let mut rows = st.query(params![like_pattern(query.trim()), (limit + 1) as i64])?;
        while let Some(r) = rows.next()? {
            if out.len() >= limit {
                break;
            }
            let key: String = r.get(0)?;
            if out.iter().any(|s: &SubjectSummary| s.key.0 == key) {
                continue;
            }
            let kind: String = r.get(2)?;
            let codes: String = r.get(3)?;
            out.push(subject_summary(key, r.get(1)?, &kind, &codes)?);
        }
        Ok(out)
    }

    fn subject(&self, key: &SubjectKey) -> Result<Option<SubjectProfile>> {
        let mut conn = self.reader()?;
        // One snapshot for the three queries.
        let tx = conn.transaction()?;
        let Some(subject) = summary_by_key(&tx, &key.0)? else {
            return Ok(None);
        };
        let mut persons = Vec::new();
        {
            let mut st = tx.prepare_cached(
                "SELECT name, role, resident_id, other_id, person_key FROM subject_persons
                 WHERE subject_key = ?1 ORDER BY role, name",
            )?;
            let mut rows = st.query([&key.0])?;
            while let Some(r) = rows.next()? {
                let role: String = r.get(1)?;
                let resident_id: Option<String> = r.get(2)?;
                let other_id: Option<String> = r.get(3)?;
                persons.push(PersonLink {
                    name: r.get(0)?,
                    role: PersonRole::parse(&role)
                        .ok_or_else(|| StoreError::Corrupt(format!("person role `{role}`")))?,
                    person: stored_person(resident_id, r.get(4)?)?,
                    other_id: other_id
                        .map(|o| serde_json::from_str(&o).map_err(|e| corrupt_json("other id", e)))
                        .transpose()?,
                });
            }
        }
        let mut records = Vec::new();
        {
            let mut st = tx.prepare_cached(&format!(
                "SELECT {RECORD_COLUMNS} FROM records WHERE subject_key = ?1 AND is_current = 1
                 ORDER BY decision_date DESC, id DESC"
            ))?;
            let mut rows = st.query([&key.0])?;
            while let Some(r) = rows.next()? {
                records.push(stored_record(r)?);
            }
        }
        Ok(Some(SubjectProfile {
            subject,
            persons,
            records,
        }))
    }

    fn record_history(&self, key: &RecordKey) -> Result<Vec<StoredRecord>> {
        let conn = self.reader()?;
        let mut st = conn.prepare_cached(&format!(
            "SELECT {RECORD_COLUMNS} FROM records
             WHERE key_hash = ?1 AND source = ?2 AND category = ?3 AND doc_no = ?4
             ORDER BY version"
        ))?;
        let mut rows = st.query(params![
            key.hash64(),
            key.source,
            key.category.code(),
            key.doc_no
        ])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(stored_record(r)?);
        }
        Ok(out)
    }

    fn ping(&self) -> Result<()> {
        // One page of a table in each file: a file without the store's tables fails.
        self.conns.ping("subjects")?;
        self.checks.ping()
    }

    fn totals(&self) -> Result<Totals> {
        let conn = self.reader()?;
        // Record counts come from the batch summaries (each written version is counted in exactly
        // one), so the status line does not scan the records table.
        let mut st = conn.prepare_cached(
            "SELECT (SELECT COUNT(*) FROM subjects),
                    (SELECT COALESCE(SUM(accepted - new_versions), 0) FROM batches),
                    (SELECT COALESCE(SUM(accepted), 0) FROM batches),
                    (SELECT COUNT(*) FROM rejects),
                    (SELECT COUNT(*) FROM batches),
                    (SELECT COUNT(*) FROM agencies)",
        )?;
        let v: [i64; 6] = st.query_row([], |r| {
            Ok([
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ])
        })?;
        Ok(Totals {
            subjects: count(v[0])?,
            records: count(v[1])?,
            versions: count(v[2])?,
            rejected_rows: count(v[3])?,
            batches: count(v[4])?,
            agencies: count(v[5])?,
        })
    }

    fn records_by_category(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<(String, u64)>> {
        let conn = self.reader()?;
        let mut st = conn.prepare_cached(
            "SELECT category, COUNT(*) FROM records
             WHERE is_current = 1 AND decision_date >= ?1 AND decision_date <= ?2
             GROUP BY category ORDER BY category",
        )?;
        let mut rows = st.query(params![
            IsoDate::new(from).as_str(),
            IsoDate::new(to).as_str()
        ])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push((r.get(0)?, count(r.get(1)?)?));
        }
        Ok(out)
    }

    fn index_feed(&self, since: i64, f: &mut dyn FnMut(IndexFeed)) -> Result<i64> {
        let mut conn = self.reader()?;
        // One snapshot for records, persons and codes.
        let tx = conn.transaction()?;
        let current_only = if since == 0 {
            "AND r.is_current = 1"
        } else {
            ""
        };
        let mut cursor = since;
        let mut touched: Vec<String> = Vec::new();
        {
            let mut st = tx.prepare(&format!(
                "SELECT r.id, r.subject_key, r.subject_name, r.source, r.category, r.doc_no,
                        r.nature, r.severity, r.status, r.decision_date, r.publicity_until,
                        r.version,
                        CASE WHEN r.category IN {LIST_CATEGORIES_SQL} THEN r.body END,
                        CASE WHEN r.version > 1 THEN
                            (SELECT p.subject_key FROM records p
                             WHERE p.key_hash = r.key_hash AND p.source = r.source
                               AND p.category = r.category AND p.doc_no = r.doc_no
                               AND p.version = r.version - 1) END
                 FROM records r WHERE r.id > ?1 {current_only} ORDER BY r.id"
            ))?;
            let mut rows = st.query([since])?;
            while let Some(r) = rows.next()? {
                let id: i64 = r.get(0)?;
                let subject: String = r.get(1)?;
                let decision: String = r.get(9)?;
                let until: String = r.get(10)?;
                let record = fact_record(
                    r.get(3)?,
                    r.get_ref(4)?.as_str().map_err(corrupt_sql)?,
                    r.get(5)?,
                    r.get_ref(6)?.as_str().map_err(corrupt_sql)?,
                    r.get_ref(7)?.as_str().map_err(corrupt_sql)?,
                    r.get_ref(8)?.as_str().map_err(corrupt_sql)?,
                    parse_date(&decision)?,
                    parse_date(&until)?,
                    match r.get_ref(12)? {
                        rusqlite::types::ValueRef::Null => None,
                        v => crate::body::list_name(stored_body(v)?)?,
                    },
                )?;
                let previous: Option<String> = r.get(13)?;
                cursor = cursor.max(id);
                if since > 0 {
                    touched.push(subject.clone());
                }
                f(IndexFeed::Record {
                    previous_subject: previous.filter(|p| *p != subject).map(SubjectKey),
                    subject: SubjectKey(subject),
                    subject_name: r.get(2)?,
                    record,
                    version: r.get(11)?,
                });
            }
        }
        touched.sort_unstable();
        touched.dedup();
        let mut person = |r: &Row<'_>| -> Result<()> {
            let role: String = r.get(1)?;
            f(IndexFeed::Person {
                subject: SubjectKey(r.get(0)?),
                role: PersonRole::parse(&role)
                    .ok_or_else(|| StoreError::Corrupt(format!("person role `{role}`")))?,
                person: SubjectKey(r.get(2)?),
            });
            Ok(())
        };
        let persons_sql = "SELECT subject_key, role, person_key FROM subject_persons
                           WHERE person_key IS NOT NULL";
        if since == 0 {
            let mut st = tx.prepare(persons_sql)?;
            let mut rows = st.query([])?;
            while let Some(r) = rows.next()? {
                person(r)?;
            }
        } else {
            let mut st = tx.prepare(&format!("{persons_sql} AND subject_key = ?1"))?;
            for key in &touched {
                let mut rows = st.query([key])?;
                while let Some(r) = rows.next()? {
                    person(r)?;
                }
            }
        }
        let codes_sql = "SELECT code, subject_key FROM subject_codes";
        let mut code = |r: &Row<'_>| -> Result<()> {
            f(IndexFeed::Code {
                code: r.get(0)?,
                subject: SubjectKey(r.get(1)?),
            });
            Ok(())
        };
        if since == 0 {
            let mut st = tx.prepare(codes_sql)?;
            let mut rows = st.query([])?;
            while let Some(r) = rows.next()? {
                code(r)?;
            }
        } else {
            // No index on subject_key here: codes of touched subjects are few, and a lookup by the
            // subject's own secondary codes would need the records' bodies. A full scan of the codes
            // of a large store per commit would be too slow, so read them by the subjects' codes.
            let mut st = tx.prepare(
                "SELECT c.code, c.subject_key FROM subjects s, json_each(s.codes) j, subject_codes c
                 WHERE s.key = ?1 AND c.code = j.value AND c.subject_key = s.key",
            )?;
            for key in &touched {
                let mut rows = st.query([key])?;
                while let Some(r) = rows.next()? {
                    code(r)?;
                }
            }
        }
        Ok(cursor)
    }

    fn write_checks(&self, checks: &[StoredCheck]) -> Result<()> {
        self.checks.write_checks(checks)
    }

    fn write_batch_checks(&self, checks: &[StoredCheck]) -> Result<()> {
        self.checks.write_batch_checks(checks)
    }

    fn check_receipt(&self, id: &str) -> Result<Option<StoredCheck>> {
        self.checks.check_receipt(id)
    }

    fn checks(&self, q: &CheckQuery) -> Result<Vec<StoredCheck>> {
        self.checks.checks(q)
    }

    fn put_feedback(&self, check_id: &str, fb: &Feedback) -> Result<FeedbackWrite> {
        self.checks.put_feedback(check_id, fb)
    }

    fn check_stats(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<CheckStat>> {
        self.checks.check_stats(from, to)
    }

    fn put_catalogue(&self, c: &StoredCatalogue) -> Result<bool> {
        let conn = self.writer()?;
        let n = conn.execute(
            "INSERT INTO catalogues (number, status, digest, body, created_at, published_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (number) DO NOTHING",
            params![
                c.number,
                c.status,
                c.digest,
                c.body,
                timestamp(c.created_at),
                c.published_at.map(timestamp)
            ],
        )?;
        self.conns.committed();
        Ok(n == 1)
    }

    fn catalogues(&self) -> Result<Vec<StoredCatalogue>> {
        let conn = self.reader()?;
        let mut st = conn.prepare_cached(
            "SELECT number, status, digest, body, created_at, published_at FROM catalogues
             ORDER BY number",
        )?;
        let mut rows = st.query([])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let created: String = r.get(4)?;
            let published: Option<String> = r.get(5)?;
            out.push(StoredCatalogue {
                number: r.get(0)?,
                status: r.get(1)?,
                digest: r.get(2)?,
                body: r.get(3)?,
                created_at: parse_timestamp(&created)?,
                published_at: published.as_deref().map(parse_timestamp).transpose()?,
            });
        }
        Ok(out)
    }

    fn publish_catalogue(&self, number: u32, at: DateTime<Utc>) -> Result<bool> {
        let conn = self.writer()?;
        let n = conn.execute(
            "UPDATE catalogues SET status = 'published', published_at = COALESCE(published_at, ?2)
             WHERE number = ?1",
            params![number, timestamp(at)],
        )?;
        self.conns.committed();
        Ok(n == 1)
    }

    fn list_members(&self, q: &ListQuery) -> Result<Page<ListMember>> {
        let conn = self.reader()?;
        let limit = q.limit.clamp(1, 1000);
        // The first `category IN` is the partial index's own clause, word for word, so the planner
        // may use the index; the second narrows to the categories asked for.
        let sql = format!(
            "SELECT {RECORD_COLUMNS}, subject_key FROM records
             WHERE category IN {LIST_CATEGORIES_SQL} AND category IN {cats}
               AND is_current = 1 AND status = 'active'
               AND decision_date <= ?1 AND publicity_until >= ?1
               AND (?2 IS NULL OR source = ?2)
               AND (?3 IS NULL OR subject_name LIKE ?3 ESCAPE '\\')
               AND (?4 IS NULL OR decision_date >= ?4)
               AND (?5 IS NULL OR decision_date <= ?5)
             ORDER BY decision_date DESC, id DESC LIMIT ?6 OFFSET ?7",
            cats = list_categories_sql(q)
        );
        let mut st = conn.prepare_cached(&sql)?;
        let on = IsoDate::new(q.public_on);
        let from = q.from.map(IsoDate::new);
        let to = q.to.map(IsoDate::new);
        let name = q
            .name_contains
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(like_pattern);
        let mut rows = st.query(params![
            on.as_str(),
            q.agency,
            name,
            from.as_ref().map(|d| d.as_str()),
            to.as_ref().map(|d| d.as_str()),
            (limit + 1) as i64,
            q.offset.min(i64::MAX as usize) as i64,
        ])?;
        let mut items = Vec::new();
        let mut has_more = false;
        while let Some(r) = rows.next()? {
            if items.len() == limit {
                has_more = true;
                break;
            }
            items.push(ListMember {
                record: stored_record(r)?,
                subject_key: SubjectKey(r.get(9)?),
            });
        }
        Ok(Page {
            items,
            offset: q.offset,
            has_more,
        })
    }

    fn subject_names(&self, f: &mut dyn FnMut(SubjectName)) -> Result<()> {
        let conn = self.reader()?;
        let mut st = conn.prepare("SELECT key, name, kind, resident_id FROM subjects")?;
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            let kind = r.get_ref(2)?.as_str().map_err(corrupt_sql)?;
            let kind = SubjectKind::from_code(kind)
                .ok_or_else(|| StoreError::Corrupt(format!("subject kind `{kind}`")))?;
            f(SubjectName {
                key: SubjectKey(r.get(0)?),
                name: r.get(1)?,
                kind,
                masked: r.get(3)?,
            });
        }
        Ok(())
    }

    fn batches_of(&self, agency: &str, limit: usize) -> Result<Vec<BatchSummary>> {
        let conn = self.reader()?;
        let mut st = conn.prepare_cached(&format!(
            "SELECT {BATCH_COLUMNS} FROM batches WHERE agency = ?1
             ORDER BY received_at DESC, rowid DESC LIMIT ?2"
        ))?;
        let mut rows = st.query(params![agency, limit.min(i64::MAX as usize) as i64])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(batch_summary(r)?);
        }
        Ok(out)
    }

    fn put_report(&self, r: &StoredReport) -> Result<bool> {
        let conn = self.writer()?;
        let n = conn.execute(
            "INSERT INTO credit_reports (number, subject_key, issued_at, digest, body)
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (number) DO NOTHING",
            params![
                r.number,
                r.subject_key,
                timestamp(r.issued_at),
                r.digest,
                r.body
            ],
        )?;
        self.conns.committed();
        Ok(n == 1)
    }

    fn report(&self, number: &str) -> Result<Option<StoredReport>> {
        let conn = self.reader()?;
        let mut st = conn.prepare_cached(
            "SELECT number, subject_key, issued_at, digest, body FROM credit_reports
             WHERE number = ?1",
        )?;
        let mut rows = st.query([number])?;
        match rows.next()? {
            Some(r) => {
                let issued: String = r.get(2)?;
                Ok(Some(StoredReport {
                    number: r.get(0)?,
                    subject_key: r.get(1)?,
                    issued_at: parse_timestamp(&issued)?,
                    digest: r.get(3)?,
                    body: r.get(4)?,
                }))
            }
            None => Ok(None),
        }
    }

    fn record_stats(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<RecordStat>> {
        let conn = self.reader()?;
        let mut st = conn.prepare_cached(
            "SELECT substr(decision_date, 1, 7), category, source, COUNT(*), SUM(late)
             FROM records
             WHERE is_current = 1 AND decision_date >= ?1 AND decision_date <= ?2
             GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
        )?;
        let mut rows = st.query(params![
            IsoDate::new(from).as_str(),
            IsoDate::new(to).as_str()
        ])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(RecordStat {
                month: r.get(0)?,
                category: r.get(1)?,
                source: r.get(2)?,
                records: count(r.get(3)?)?,
                late: count(r.get(4)?)?,
            });
        }
        Ok(out)
    }

    fn check_pii_key(&self, check_value: &str) -> Result<()> {
        let conn = self.writer()?;
        let stored: Option<String> = conn
            .query_row(
                "SELECT value FROM pii_meta WHERE name = ?1",
                [PII_KEY_CHECK],
                |r| r.get(0),
            )
            .optional()?;
        if !compare_key_check(stored, check_value)? {
            let legacy: i64 = conn.query_row(LEGACY_PERSONS_SQL, [], |r| r.get(0))?;
            if legacy > 0 {
                return Err(StoreError::LegacyPersons(legacy as u64));
            }
            conn.execute(
                "INSERT INTO pii_meta (name, value) VALUES (?1, ?2)",
                params![PII_KEY_CHECK, check_value],
            )?;
            self.conns.committed();
        }
        Ok(())
    }

    fn sealed_identity(&self, key: &SubjectKey) -> Result<Option<SealedIdentity>> {
        let conn = self.reader()?;
        let mut st = conn.prepare_cached(
            "SELECT cipher, sealed, masked FROM pii_identities WHERE subject_key = ?1",
        )?;
        Ok(st
            .query_row([&key.0], |r| {
                Ok(SealedIdentity {
                    key: key.clone(),
                    cipher: r.get(0)?,
                    sealed: r.get(1)?,
                    masked: r.get(2)?,
                })
            })
            .optional()?)
    }
}

/// A stored feedback from its columns (shared with the PostgreSQL store).
pub(crate) fn feedback_from(
    outcome: &str,
    measures: &str,
    note: Option<String>,
    agency: Option<String>,
    at: DateTime<Utc>,
) -> Result<Feedback> {
    Ok(Feedback {
        outcome: FeedbackOutcome::parse(outcome)
            .ok_or_else(|| StoreError::Corrupt(format!("feedback outcome `{outcome}`")))?,
        measures: serde_json::from_str(measures).map_err(|e| corrupt_json("measures", e))?,
        note,
        agency,
        at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).expect("date");
        assert_eq!(IsoDate::new(d(2024, 3, 9)).as_str(), "2024-03-09");
        assert_eq!(IsoDate::new(d(999, 12, 31)).as_str(), "0999-12-31");
        for day in [d(2024, 2, 29), d(2099, 12, 31), d(1900, 1, 1)] {
            assert_eq!(IsoDate::new(day).as_str(), day.to_string());
        }
    }

    #[test]
    fn like_escapes() {
        assert_eq!(like_pattern("a%b_c\\"), "%a\\%b\\_c\\\\%");
    }

    #[test]
    fn memory_store_migrates_once() {
        let s = SqliteStore::open(":memory:").expect("open");
        assert_eq!(s.totals().expect("totals"), Totals::default());
        let mut c = s.writer().expect("lock");
        migrate(&mut c).expect("second migrate is a no-op");
        let n: i64 = c
            .query_row("SELECT COUNT(*) FROM schema_migrations", [], |r| r.get(0))
            .expect("count");
        assert_eq!(n, MIGRATIONS.len() as i64);
    }
}
