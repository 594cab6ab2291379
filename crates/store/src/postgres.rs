//! The production store: PostgreSQL through the synchronous `postgres` client.
//!
//! Writes go through one client behind a mutex, and across processes through a transaction-level
//! advisory lock, so the version probe and the inserts of a batch see a stable set of versions. New
//! records arrive by binary `COPY`; subjects, persons, codes and rejects by `unnest` arrays, one
//! statement each. Reads use their own clients so they never queue behind an import. The SQL keeps to
//! what PostgreSQL-derived distributed engines accept.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use ::postgres::{Client, Config, GenericClient, IsolationLevel, NoTls, Row, Transaction};
use chrono::{DateTime, NaiveDate, Utc};

use creditloop_domain::agency::{Agency, AgencyLevel};
use creditloop_domain::intake::{IntakeCounts, RejectedRow};
use creditloop_domain::record::{Category, RecordKey, Timeliness};
use creditloop_domain::subject::{PersonLink, PersonRole, SubjectCodes, SubjectKey, SubjectKind};

use crate::chunks::{self, ChunkHead};
use crate::memo::{Known, WriteMemo};
use crate::plan::{
    self, DEFERRABLE_INDEXES, ExistingVersion, IdBuildHasher, KEY_PREFIXES, PersonUpsert, Pipeline,
    Plan, StopOnDrop, SubjectUpsert, SubjectWrites, key_hashes, outcome_counts, subject_writes,
    written_identities,
};
use crate::sqlite::feedback_from;
use crate::sqlite::like_pattern;
use crate::{
    Batch, BatchOutcome, BatchSummary, CheckQuery, CheckStat, FeedbackWrite, IndexFeed,
    LEGACY_PERSONS_SQL, LIST_CATEGORIES_SQL, ListMember, ListQuery, PII_KEY_CHECK, Page,
    RecordStat, Result, Store, StoreError, StoredCatalogue, StoredCheck, StoredRecord,
    StoredReport, SubjectName, SubjectProfile, SubjectSummary, Totals, compare_key_check,
    fact_record, list_categories_sql, stored_person,
};
use creditloop_domain::feedback::Feedback;
use creditloop_domain::pii::SealedIdentity;

mod access;

/// Migrations in order; each runs once, recorded in `schema_migrations`.
const MIGRATIONS: &[(i32, &str, &str)] = &[
    (
        1,
        "init",
        include_str!("../migrations/postgres/0001_init.sql"),
    ),
    (
        2,
        "checks",
        include_str!("../migrations/postgres/0002_checks.sql"),
    ),
    (
        3,
        "catalogues",
        include_str!("../migrations/postgres/0003_catalogues.sql"),
    ),
    (
        4,
        "portal",
        include_str!("../migrations/postgres/0004_portal.sql"),
    ),
    (
        5,
        "access",
        include_str!("../migrations/postgres/0005_access.sql"),
    ),
    (
        6,
        "certificates",
        include_str!("../migrations/postgres/0006_certificates.sql"),
    ),
    (
        7,
        "pii",
        include_str!("../migrations/postgres/0007_pii.sql"),
    ),
    (
        8,
        "body_bytes",
        include_str!("../migrations/postgres/0008_body_bytes.sql"),
    ),
    (
        9,
        "answer_bytes",
        include_str!("../migrations/postgres/0009_answer_bytes.sql"),
    ),
    (
        10,
        "check_chunks",
        include_str!("../migrations/postgres/0010_check_chunks.sql"),
    ),
    (
        11,
        "write_epoch",
        include_str!("../migrations/postgres/0011_write_epoch.sql"),
    ),
];

/// Advisory lock keys (arbitrary constants, "CLmigr", "CLwrit" and "CLbulk").
const MIGRATION_LOCK: i64 = 0x434c_6d69_6772;
const WRITE_LOCK: i64 = 0x434c_7772_6974;
/// Held by a running bulk load's writer session (released with the session, however it ends), so
/// that a store connecting meanwhile does not take the load's deferred indexes for those of a
/// killed load and build them in the middle of it.
const BULK_LOCK: i64 = 0x434c_6275_6c6b;

/// Reader clients.
const READERS: usize = 2;

/// PostgreSQL implementation of [`Store`].
pub struct PgStore {
    config: Config,
    writer: Mutex<Client>,
    /// What the writer has written about subjects; locked only while the writer is held.
    memo: Mutex<WriteMemo>,
    readers: Vec<Mutex<Client>>,
    next_reader: AtomicUsize,
}

impl PgStore {
    /// Connects to `url` (`postgres://user@host:port/db`) and runs pending migrations.
    pub fn connect(url: &str) -> Result<Self> {
        let config: Config = url.parse()?;
        let mut writer = connect_as(&config, Role::Writer)?;
        migrate(&mut writer)?;
        // Indexes missing while no load holds its lock were left by a killed load.
        ensure_indexes_unless_loading(&mut writer)?;
        let readers = (0..READERS)
            .map(|_| Ok(Mutex::new(connect_as(&config, Role::Reader)?)))
            .collect::<Result<Vec<_>>>()?;
        Ok(PgStore {
            config,
            writer: Mutex::new(writer),
            memo: Mutex::new(WriteMemo::default()),
            readers,
            next_reader: AtomicUsize::new(0),
        })
    }

    /// A usable client: reconnects one whose connection was lost (a server restart).
    fn fresh<'a>(
        &self,
        mut g: MutexGuard<'a, Client>,
        role: Role,
    ) -> Result<MutexGuard<'a, Client>> {
        if g.is_closed() {
            *g = connect_as(&self.config, role)?;
        }
        Ok(g)
    }

    fn writer(&self) -> Result<MutexGuard<'_, Client>> {
        let g = self
            .writer
            .lock()
            .map_err(|_| StoreError::Other("PostgreSQL writer lock poisoned".into()))?;
        self.fresh(g, Role::Writer)
    }

    /// One write transaction of records (and their subjects): the write lock, the write counter
    /// moved on and the memo brought up to date, `work`, the commit. The memo forgets everything
    /// when any of it fails, since its writes were rolled back.
    fn write_records<T>(
        &self,
        work: impl FnOnce(&mut Transaction<'_>, &mut WriteMemo) -> Result<T>,
    ) -> Result<T> {
        let mut client = self.writer()?;
        // A poisoned memo may hold writes that were rolled back: start over.
        let mut memo = self.memo.lock().unwrap_or_else(|p| {
            let mut g = p.into_inner();
            g.clear();
            g
        });
        let out = (|| {
            let mut tx = client.transaction()?;
            // Serialises batch writers of all processes: the probe must see every version.
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK])?;
            let after: i64 = tx
                .query_one(
                    "UPDATE write_epoch SET value = value + 1 WHERE id = 1 RETURNING value",
                    &[],
                )?
                .try_get(0)?;
            if memo.sync(after - 1, after) {
                let empty: bool = tx
                    .query_one(
                        "SELECT NOT EXISTS (SELECT 1 FROM records)
                             AND NOT EXISTS (SELECT 1 FROM subjects)
                             AND NOT EXISTS (SELECT 1 FROM subject_persons)
                             AND NOT EXISTS (SELECT 1 FROM pii_identities)",
                        &[],
                    )?
                    .try_get(0)?;
                if empty {
                    memo.set_complete();
                }
            }
            let out = work(&mut tx, &mut memo)?;
            tx.commit()?;
            Ok(out)
        })();
        if out.is_err() {
            memo.clear();
        }
        out
    }

    fn reader(&self) -> Result<MutexGuard<'_, Client>> {
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed);
        let n = self.readers.len();
        for i in 0..n {
            if let Ok(g) = self.readers[(start + i) % n].try_lock() {
                return self.fresh(g, Role::Reader);
            }
        }
        let g = self.readers[start % n]
            .lock()
            .map_err(|_| StoreError::Other("PostgreSQL reader lock poisoned".into()))?;
        self.fresh(g, Role::Reader)
    }
}

#[derive(Clone, Copy)]
enum Role {
    Writer,
    Reader,
}

/// Connects and tunes the session. JIT is off: it only pays for long analytic queries, and a
/// misestimated probe of thousands of keys would otherwise spend far longer compiling than running.
/// The writer also avoids sequential scans: its lookups by `= ANY($1)` must use the indexes even
/// when the planner has no statistics yet for a freshly filled table. Settings an engine does not
/// know are skipped (they are tuning, not correctness).
fn connect_as(config: &Config, role: Role) -> Result<Client> {
    let mut client = config.connect(NoTls)?;
    let _ = client.batch_execute("SET jit = off");
    if let Role::Writer = role {
        let _ = client.batch_execute("SET enable_seqscan = off");
    }
    Ok(client)
}

/// [`ensure_indexes`] when no bulk load holds [`BULK_LOCK`].
fn ensure_indexes_unless_loading(client: &mut Client) -> Result<()> {
    if try_lock(client, BULK_LOCK)? {
        let built = ensure_indexes(client);
        client.execute("SELECT pg_advisory_unlock($1)", &[&BULK_LOCK])?;
        built?;
    }
    Ok(())
}

/// Takes a session-level advisory lock if it is free.
fn try_lock(client: &mut Client, key: i64) -> Result<bool> {
    Ok(client
        .query_one("SELECT pg_try_advisory_lock($1)", &[&key])?
        .try_get(0)?)
}

/// Deferred by a PostgreSQL bulk load beside [`DEFERRABLE_INDEXES`]: the version probe's index.
/// A load into an empty database knows every key it wrote (its memo is complete) and asks for the
/// stored versions of only those it wrote before, none in a file without corrections, so the
/// index is not needed until then: a probe that has keys to look up builds it first. Inserting
/// into it row by row took a fifth of a 3.8 M-row load (79 s against 62 s without it, its build at
/// the end included). Readers of a record's history meanwhile scan the table.
const KEY_HASH_INDEX: (&str, &str) = (
    "records_key_hash",
    "CREATE INDEX IF NOT EXISTS records_key_hash ON records (key_hash)",
);

/// The indexes a bulk load into an empty table drops and builds at its end.
fn deferrable() -> impl Iterator<Item = &'static (&'static str, &'static str)> {
    DEFERRABLE_INDEXES.iter().chain([&KEY_HASH_INDEX])
}

/// Builds the deferrable indexes that are missing: after a bulk load, or at connect after a bulk
/// load that was killed before its end.
fn ensure_indexes(client: &mut Client) -> Result<()> {
    let mut tx = client.transaction()?;
    // Serialised with batch writers and other bulk loads (their begin drops what this builds).
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK])?;
    for (name, sql) in deferrable() {
        let missing: bool = tx
            .query_one("SELECT to_regclass($1) IS NULL", &[name])?
            .try_get(0)?;
        if missing {
            tx.batch_execute(sql)?;
        }
    }
    tx.commit()?;
    Ok(())
}

fn migrate(client: &mut Client) -> Result<()> {
    let mut tx = client.transaction()?;
    // Two processes starting at once: the second waits here, then finds the migrations applied.
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version INTEGER PRIMARY KEY,
             name TEXT NOT NULL,
             applied_at TIMESTAMPTZ NOT NULL
         )",
    )?;
    let applied: Vec<i32> = tx
        .query("SELECT version FROM schema_migrations", &[])?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<std::result::Result<_, _>>()?;
    for &(version, name, sql) in MIGRATIONS {
        if applied.contains(&version) {
            continue;
        }
        tx.batch_execute(sql)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
            &[&version, &name, &Utc::now()],
        )?;
    }
    tx.commit()?;
    Ok(())
}

fn corrupt_json(what: &str, e: serde_json::Error) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

fn count(n: i64) -> Result<u64> {
    u64::try_from(n).map_err(|_| StoreError::Corrupt(format!("negative count {n}")))
}

const RECORD_COLUMNS: &str =
    "id, version, is_current, batch_id, submitted_on, working_days, deadline, late, body";

fn stored_record(r: &Row) -> Result<StoredRecord> {
    let body = crate::body::body_json(r.try_get(8)?)?;
    Ok(StoredRecord {
        id: r.try_get(0)?,
        version: r.try_get(1)?,
        current: r.try_get(2)?,
        batch_id: r.try_get(3)?,
        timeliness: Timeliness {
            submitted_on: r.try_get(4)?,
            working_days: r.try_get(5)?,
            deadline: r.try_get(6)?,
            late: r.try_get(7)?,
        },
        record: serde_json::from_slice(&body).map_err(|e| corrupt_json("record body", e))?,
    })
}

fn subject_summary(r: &Row) -> Result<SubjectSummary> {
    let kind: &str = r.try_get(2)?;
    let codes: &str = r.try_get(3)?;
    Ok(SubjectSummary {
        key: SubjectKey(r.try_get(0)?),
        name: r.try_get(1)?,
        kind: SubjectKind::from_code(kind)
            .ok_or_else(|| StoreError::Corrupt(format!("subject kind `{kind}`")))?,
        codes: serde_json::from_str::<SubjectCodes>(codes)
            .map_err(|e| corrupt_json("subject codes", e))?,
    })
}

const BATCH_COLUMNS: &str = "id, source, source_digest, agency, received_at, accepted, new_versions, duplicates, rejected, late";

fn batch_summary(r: &Row) -> Result<BatchSummary> {
    Ok(BatchSummary {
        id: r.try_get(0)?,
        source: r.try_get(1)?,
        source_digest: r.try_get(2)?,
        agency: r.try_get(3)?,
        received_at: r.try_get(4)?,
        counts: IntakeCounts {
            accepted: count(r.try_get(5)?)?,
            new_versions: count(r.try_get(6)?)?,
            duplicates: count(r.try_get(7)?)?,
            rejected: count(r.try_get(8)?)?,
            late: count(r.try_get(9)?)?,
        },
    })
}

/// Looks a code up as a subject key with each prefix (one round trip), then among secondary codes.
fn find_subject_in(tx: &mut Transaction<'_>, code: &str) -> Result<Option<SubjectKey>> {
    let code = code.trim();
    if code.is_empty() {
        return Ok(None);
    }
    let candidates: Vec<String> = KEY_PREFIXES.iter().map(|p| format!("{p}{code}")).collect();
    let found: Vec<String> = tx
        .query(
            "SELECT key FROM subjects WHERE key = ANY($1)",
            &[&candidates],
        )?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<std::result::Result<_, _>>()?;
    if let Some(k) = candidates.into_iter().find(|c| found.contains(c)) {
        return Ok(Some(SubjectKey(k)));
    }
    let row = tx.query_opt(
        "SELECT subject_key FROM subject_codes WHERE code = $1",
        &[&code],
    )?;
    Ok(row.map(|r| r.try_get(0)).transpose()?.map(SubjectKey))
}

fn read_only(client: &mut Client) -> Result<Transaction<'_>> {
    Ok(client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()?)
}

/// The version probe: every stored version of the batch's key hashes, in one round trip.
fn probe(
    tx: &mut Transaction<'_>,
    unique_hashes: &[i64],
) -> Result<HashMap<i64, Vec<ExistingVersion>, IdBuildHasher>> {
    let mut existing: HashMap<i64, Vec<ExistingVersion>, IdBuildHasher> = HashMap::default();
    if unique_hashes.is_empty() {
        return Ok(existing);
    }
    // A bulk load defers the key-hash index too (see [`KEY_HASH_INDEX`]); whoever must look keys
    // up while it is missing builds it first (the caller holds the write lock).
    let (name, sql) = KEY_HASH_INDEX;
    let missing: bool = tx
        .query_one("SELECT to_regclass($1) IS NULL", &[&name])?
        .try_get(0)?;
    if missing {
        tx.batch_execute(sql)?;
    }
    for r in tx.query(
        "SELECT id, key_hash, source, category, doc_no, version, digest FROM records
         WHERE key_hash = ANY($1)",
        &[&unique_hashes],
    )? {
        let category: &str = r.try_get(3)?;
        let digest: &[u8] = r.try_get(6)?;
        existing
            .entry(r.try_get(1)?)
            .or_default()
            .push(ExistingVersion {
                id: r.try_get(0)?,
                key: RecordKey {
                    source: r.try_get(2)?,
                    category: Category::parse(category).ok_or_else(|| {
                        StoreError::Corrupt(format!("record category `{category}`"))
                    })?,
                    doc_no: r.try_get(4)?,
                },
                version: r.try_get(5)?,
                digest: digest.try_into().map_err(|_| {
                    StoreError::Corrupt(format!("digest of {} bytes", digest.len()))
                })?,
            });
    }
    Ok(existing)
}

const COPY_RECORDS: &str = "COPY records (key_hash, source, category, doc_no, version, is_current,
    digest, subject_key, subject_name, nature, severity, status, decision_date, publicity_until,
    submitted_on, working_days, deadline, late, batch_id, body) FROM STDIN (FORMAT binary)";

/// Fields per row of `COPY_RECORDS`.
const COPY_FIELDS: i16 = 20;

/// Sent to the server in pieces of about this size.
const COPY_CHUNK: usize = 1 << 20;

/// Writes the batch's new versions with one binary `COPY`.
fn copy_records(
    tx: &mut Transaction<'_>,
    batch: &Batch,
    plan: &Plan,
    hashes: &[i64],
    pipeline: &Pipeline<'_>,
) -> Result<()> {
    let mut c = CopyIn::start(tx, COPY_RECORDS)?;
    for (i, p) in plan.rows.iter().enumerate() {
        let Some(version) = p.version() else { continue };
        let row = batch
            .accepted
            .get(i)
            .ok_or_else(|| StoreError::Other(format!("internal: no row {i}")))?;
        let rec = &row.record;
        let t = &row.timeliness;
        let buf = c.row(COPY_FIELDS)?;
        buf.int8(hashes[i]);
        buf.text(&rec.key.source)?;
        buf.text(rec.key.category.code())?;
        buf.text(&rec.key.doc_no)?;
        buf.int4(version);
        buf.bool(p.is_current());
        let (enc, j) = pipeline.row(i)?;
        buf.bytes(&enc.digests[j])?;
        buf.text(&enc.subject_keys[j])?;
        buf.text(&rec.subject.name)?;
        buf.text(rec.nature.code())?;
        buf.text(rec.severity.code())?;
        buf.text(rec.status.code())?;
        buf.date(rec.decision_date)?;
        buf.date(rec.publicity_until)?;
        buf.date(t.submitted_on)?;
        buf.int8(t.working_days);
        buf.date(t.deadline)?;
        buf.bool(t.late);
        buf.text(&batch.id)?;
        buf.bytes(enc.body(j)?)?;
    }
    c.finish()
}

/// A binary `COPY … FROM STDIN`, encoded directly into large buffers (the generic row writer
/// sends a message every 4 KiB). Plain inserts of many rows this way cost PostgreSQL well under
/// an `INSERT … SELECT FROM unnest(…)` of the same rows, which parses every array first.
struct CopyIn<'a> {
    w: ::postgres::CopyInWriter<'a>,
    buf: CopyBuf,
}

impl<'a> CopyIn<'a> {
    fn start(tx: &'a mut Transaction<'_>, sql: &str) -> Result<Self> {
        let w = tx.copy_in(sql)?;
        let mut buf = CopyBuf(Vec::with_capacity(COPY_CHUNK + 8192));
        buf.0.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
        buf.0.extend_from_slice(&0i32.to_be_bytes()); // flags
        buf.0.extend_from_slice(&0i32.to_be_bytes()); // header extension length
        Ok(CopyIn { w, buf })
    }

    /// Starts a row of `fields` fields, which the caller then writes in order.
    fn row(&mut self, fields: i16) -> Result<&mut CopyBuf> {
        if self.buf.0.len() >= COPY_CHUNK {
            self.w.write_all(&self.buf.0).map_err(copy_error)?;
            self.buf.0.clear();
        }
        self.buf.0.extend_from_slice(&fields.to_be_bytes());
        Ok(&mut self.buf)
    }

    fn finish(mut self) -> Result<()> {
        self.buf.0.extend_from_slice(&(-1i16).to_be_bytes());
        self.w.write_all(&self.buf.0).map_err(copy_error)?;
        self.w.finish()?;
        Ok(())
    }
}

fn copy_error(e: std::io::Error) -> StoreError {
    StoreError::Other(format!("COPY: {e}"))
}

/// A buffer of PostgreSQL binary `COPY` fields: each a big-endian length and the value.
struct CopyBuf(Vec<u8>);

impl CopyBuf {
    fn bytes(&mut self, v: &[u8]) -> Result<()> {
        let len = i32::try_from(v.len())
            .map_err(|_| StoreError::Other(format!("value of {} bytes too large", v.len())))?;
        self.0.extend_from_slice(&len.to_be_bytes());
        self.0.extend_from_slice(v);
        Ok(())
    }
    fn text(&mut self, v: &str) -> Result<()> {
        self.bytes(v.as_bytes())
    }
    fn opt_text(&mut self, v: Option<&str>) -> Result<()> {
        match v {
            Some(v) => self.text(v),
            None => {
                self.0.extend_from_slice(&(-1i32).to_be_bytes());
                Ok(())
            }
        }
    }
    fn int8(&mut self, v: i64) {
        self.0.extend_from_slice(&8i32.to_be_bytes());
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn int4(&mut self, v: i32) {
        self.0.extend_from_slice(&4i32.to_be_bytes());
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn bool(&mut self, v: bool) {
        self.0.extend_from_slice(&1i32.to_be_bytes());
        self.0.push(u8::from(v));
    }
    /// Days since 2000-01-01, PostgreSQL's epoch.
    fn date(&mut self, d: NaiveDate) -> Result<()> {
        let days = (d - PG_EPOCH).num_days();
        let days = i32::try_from(days)
            .map_err(|_| StoreError::Other(format!("date {d} out of PostgreSQL's range")))?;
        self.int4(days);
        Ok(())
    }
    /// Microseconds since 2000-01-01 00:00 UTC.
    fn timestamptz(&mut self, t: DateTime<Utc>) -> Result<()> {
        let micros = (t.naive_utc() - PG_EPOCH.and_time(chrono::NaiveTime::MIN))
            .num_microseconds()
            .ok_or_else(|| StoreError::Other(format!("time {t} out of PostgreSQL's range")))?;
        self.int8(micros);
        Ok(())
    }
}

const PG_EPOCH: NaiveDate = match NaiveDate::from_ymd_opt(2000, 1, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

/// Inserts new subjects, person links and codes and updates changed ones. New ones, nearly all of a
/// large import, are inserted plainly, which costs PostgreSQL about half of an `ON CONFLICT` upsert
/// with its anti-join; only stored ones go through the upsert, which skips rows stored as they are
/// here (an upsert that changes nothing would still lock and log the row). Which are stored the
/// writer's memo tells, and where it cannot, one indexed lookup asks. Writes the memo holds as made
/// are left out. Plain inserts are safe because batch writers are serialised by the write lock and
/// nothing else writes these tables.
fn write_subjects(
    tx: &mut Transaction<'_>,
    subjects: &SubjectWrites<'_>,
    received_at: DateTime<Utc>,
    memo: &mut WriteMemo,
) -> Result<()> {
    if !subjects.subjects.is_empty() {
        let mut known: Vec<Known> = subjects
            .subjects
            .iter()
            .map(|s| {
                memo.subject(
                    s.key,
                    &[
                        s.name.as_bytes(),
                        s.kind.as_bytes(),
                        s.codes_json.as_bytes(),
                    ],
                )
            })
            .collect();
        let ask: Vec<&str> = known_as(&subjects.subjects, &known, Known::Unknown)
            .map(|s| s.key)
            .collect();
        if !ask.is_empty() {
            let stored: HashSet<String> = tx
                .query("SELECT key FROM subjects WHERE key = ANY($1)", &[&ask])?
                .iter()
                .map(|r| r.try_get(0))
                .collect::<std::result::Result<_, _>>()?;
            settle(&subjects.subjects, &mut known, |s| stored.contains(s.key));
        }
        let of = |kind| known_as(&subjects.subjects, &known, kind);
        if of(Known::New).next().is_some() {
            let mut c = CopyIn::start(tx, COPY_SUBJECTS)?;
            for s in of(Known::New) {
                let b = c.row(9)?;
                b.text(s.key)?;
                b.text(s.name)?;
                b.text(s.kind)?;
                b.opt_text(s.codes.uscc.as_ref().map(|c| c.as_str()))?;
                b.opt_text(s.codes.reg_no.as_ref().map(|c| c.as_str()))?;
                b.opt_text(s.codes.org_code.as_ref().map(|c| c.as_str()))?;
                b.opt_text(s.codes.person.as_ref().map(|c| c.masked()))?;
                b.text(&s.codes_json)?;
                b.timestamptz(received_at)?;
            }
            c.finish()?;
        }
        let rows: Vec<&SubjectUpsert<'_>> = of(Known::Stored).collect();
        if !rows.is_empty() {
            let keys: Vec<&str> = rows.iter().map(|s| s.key).collect();
            let names: Vec<&str> = rows.iter().map(|s| s.name).collect();
            let kinds: Vec<&str> = rows.iter().map(|s| s.kind).collect();
            let usccs: Vec<Option<&str>> = rows
                .iter()
                .map(|s| s.codes.uscc.as_ref().map(|c| c.as_str()))
                .collect();
            let reg_nos: Vec<Option<&str>> = rows
                .iter()
                .map(|s| s.codes.reg_no.as_ref().map(|c| c.as_str()))
                .collect();
            let org_codes: Vec<Option<&str>> = rows
                .iter()
                .map(|s| s.codes.org_code.as_ref().map(|c| c.as_str()))
                .collect();
            let resident_ids: Vec<Option<&str>> = rows
                .iter()
                .map(|s| s.codes.person.as_ref().map(|c| c.masked()))
                .collect();
            let codes: Vec<&str> = rows.iter().map(|s| s.codes_json.as_str()).collect();
            tx.execute(
                UPSERT_SUBJECTS,
                &[
                    &keys,
                    &names,
                    &kinds,
                    &usccs,
                    &reg_nos,
                    &org_codes,
                    &resident_ids,
                    &codes,
                    &received_at,
                ],
            )?;
        }
    }
    let (codes, keys): (Vec<&str>, Vec<&str>) = subjects
        .codes
        .iter()
        .filter(|(c, _)| !memo.seen(&[b"c", c.as_bytes()]))
        .map(|(c, k)| (*c, *k))
        .unzip();
    if !codes.is_empty() {
        tx.execute(
            "INSERT INTO subject_codes (code, subject_key)
         SELECT c, k FROM unnest($1::text[], $2::text[]) AS t (c, k)
         ON CONFLICT (code) DO NOTHING",
            &[&codes, &keys],
        )?;
    }
    if !subjects.persons.is_empty() {
        let mut known: Vec<Known> = subjects
            .persons
            .iter()
            .map(|p| {
                memo.person(
                    p.subject_key,
                    p.role,
                    p.name,
                    p.resident_id.is_some(),
                    p.other_id.is_some(),
                )
            })
            .collect();
        let mut owners: Vec<&str> = known_as(&subjects.persons, &known, Known::Unknown)
            .map(|p| p.subject_key)
            .collect();
        if !owners.is_empty() {
            owners.sort_unstable();
            owners.dedup();
            let stored: HashSet<(String, String, String)> = tx
                .query(
                    "SELECT subject_key, role, name FROM subject_persons
                     WHERE subject_key = ANY($1)",
                    &[&owners],
                )?
                .iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
                .collect::<std::result::Result<_, ::postgres::Error>>()?;
            let mut probe = (String::new(), String::new(), String::new());
            settle(&subjects.persons, &mut known, |p| {
                probe.0.clear();
                probe.0.push_str(p.subject_key);
                probe.1.clear();
                probe.1.push_str(p.role);
                probe.2.clear();
                probe.2.push_str(p.name);
                stored.contains(&probe)
            });
        }
        let of = |kind| known_as(&subjects.persons, &known, kind);
        if of(Known::New).next().is_some() {
            let mut c = CopyIn::start(tx, COPY_PERSONS)?;
            for p in of(Known::New) {
                let b = c.row(6)?;
                b.text(p.subject_key)?;
                b.text(p.role)?;
                b.text(p.name)?;
                b.opt_text(p.person_key.as_deref())?;
                b.opt_text(p.resident_id)?;
                b.opt_text(p.other_id.as_deref())?;
            }
            c.finish()?;
        }
        let rows: Vec<&PersonUpsert<'_>> = of(Known::Stored).collect();
        if !rows.is_empty() {
            let keys: Vec<&str> = rows.iter().map(|p| p.subject_key).collect();
            let roles: Vec<&str> = rows.iter().map(|p| p.role).collect();
            let names: Vec<&str> = rows.iter().map(|p| p.name).collect();
            let person_keys: Vec<Option<&str>> =
                rows.iter().map(|p| p.person_key.as_deref()).collect();
            let resident_ids: Vec<Option<&str>> = rows.iter().map(|p| p.resident_id).collect();
            let other_ids: Vec<Option<&str>> = rows.iter().map(|p| p.other_id.as_deref()).collect();
            tx.execute(
                UPSERT_PERSONS,
                &[
                    &keys,
                    &roles,
                    &names,
                    &person_keys,
                    &resident_ids,
                    &other_ids,
                ],
            )?;
        }
    }
    Ok(())
}

/// The items whose memo answer (`known`, item by item) is `kind`.
fn known_as<'a, T>(
    items: &'a [T],
    known: &'a [Known],
    kind: Known,
) -> impl Iterator<Item = &'a T> + 'a {
    items
        .iter()
        .zip(known)
        .filter(move |(_, k)| **k == kind)
        .map(|(item, _)| item)
}

/// Settles what the memo could not tell by what the database answered (`stored`).
fn settle<T>(items: &[T], known: &mut [Known], mut stored: impl FnMut(&T) -> bool) {
    for (item, k) in items.iter().zip(known) {
        if *k == Known::Unknown {
            *k = if stored(item) {
                Known::Stored
            } else {
                Known::New
            };
        }
    }
}

/// The sealed resident numbers of the written rows; the first sealed copy of a number is kept.
fn write_identities(
    tx: &mut Transaction<'_>,
    batch: &Batch,
    plan: &Plan,
    memo: &mut WriteMemo,
) -> Result<()> {
    let mut new = Vec::new();
    let mut unknown = Vec::new();
    for id in written_identities(&batch.accepted, plan) {
        match memo.identity(&id.key.0) {
            Known::Same | Known::Stored => {}
            Known::New => new.push(id),
            Known::Unknown => unknown.push(id),
        }
    }
    if !new.is_empty() {
        let mut c = CopyIn::start(tx, COPY_IDENTITIES)?;
        for id in new {
            let b = c.row(5)?;
            b.text(&id.key.0)?;
            b.text(&id.cipher)?;
            b.bytes(&id.sealed)?;
            b.text(&id.masked)?;
            b.timestamptz(batch.received_at)?;
        }
        c.finish()?;
    }
    if unknown.is_empty() {
        return Ok(());
    }
    let keys: Vec<&str> = unknown.iter().map(|i| i.key.as_str()).collect();
    let ciphers: Vec<&str> = unknown.iter().map(|i| i.cipher.as_str()).collect();
    let sealed: Vec<&[u8]> = unknown.iter().map(|i| i.sealed.as_slice()).collect();
    let masked: Vec<&str> = unknown.iter().map(|i| i.masked.as_str()).collect();
    tx.execute(
        "INSERT INTO pii_identities (subject_key, cipher, sealed, masked, created_at)
         SELECT k, c, s, m, $5 FROM unnest($1::text[], $2::text[], $3::bytea[], $4::text[])
             AS t (k, c, s, m)
         ON CONFLICT (subject_key) DO NOTHING",
        &[&keys, &ciphers, &sealed, &masked, &batch.received_at],
    )?;
    Ok(())
}

/// New subjects, person links and sealed numbers (see [`write_subjects`]).
const COPY_SUBJECTS: &str = "COPY subjects (key, name, kind, uscc, reg_no, org_code, resident_id,
    codes, updated_at) FROM STDIN (FORMAT binary)";
const COPY_PERSONS: &str = "COPY subject_persons (subject_key, role, name, person_key, resident_id,
    other_id) FROM STDIN (FORMAT binary)";
const COPY_IDENTITIES: &str = "COPY pii_identities (subject_key, cipher, sealed, masked,
    created_at) FROM STDIN (FORMAT binary)";

/// Subjects already stored: updated when this batch changes them.
const UPSERT_SUBJECTS: &str =
    "INSERT INTO subjects (key, name, kind, uscc, reg_no, org_code, resident_id, codes,
             updated_at)
         SELECT k, n, kd, u, r, o, p, c, $9
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
             $6::text[], $7::text[], $8::text[]) AS t (k, n, kd, u, r, o, p, c)
         WHERE NOT EXISTS (
             SELECT 1 FROM subjects s
             WHERE s.key = t.k AND s.name = t.n AND s.kind = t.kd
                 AND (s.codes = t.c OR s.codes::jsonb @> t.c::jsonb))
         ON CONFLICT (key) DO UPDATE SET
             name = excluded.name,
             kind = excluded.kind,
             uscc = COALESCE(excluded.uscc, subjects.uscc),
             reg_no = COALESCE(excluded.reg_no, subjects.reg_no),
             org_code = COALESCE(excluded.org_code, subjects.org_code),
             resident_id = COALESCE(excluded.resident_id, subjects.resident_id),
             codes = (subjects.codes::jsonb || excluded.codes::jsonb)::text,
             updated_at = excluded.updated_at
         WHERE subjects.name <> excluded.name OR subjects.kind <> excluded.kind
             OR (subjects.codes <> excluded.codes
                 AND NOT (subjects.codes::jsonb @> excluded.codes::jsonb))";

/// Person links already stored: completed when this batch knows more.
const UPSERT_PERSONS: &str =
    "INSERT INTO subject_persons (subject_key, role, name, person_key, resident_id,
             other_id)
         SELECT k, r, n, pk, p, o
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
             $6::text[]) AS t (k, r, n, pk, p, o)
         WHERE NOT EXISTS (
             SELECT 1 FROM subject_persons sp
             WHERE sp.subject_key = t.k AND sp.role = t.r AND sp.name = t.n
                 AND (sp.resident_id IS NOT NULL OR t.p IS NULL)
                 AND (sp.other_id IS NOT NULL OR t.o IS NULL))
         ON CONFLICT (subject_key, role, name) DO UPDATE SET
             person_key = COALESCE(excluded.person_key, subject_persons.person_key),
             resident_id = COALESCE(excluded.resident_id, subject_persons.resident_id),
             other_id = COALESCE(excluded.other_id, subject_persons.other_id)
         WHERE (subject_persons.resident_id IS NULL AND excluded.resident_id IS NOT NULL)
             OR (subject_persons.other_id IS NULL AND excluded.other_id IS NOT NULL)";

/// Writes one batch inside `tx`, which holds the write lock (see [`Store::write_batch`]); the
/// caller commits.
fn write_batch_in(
    tx: &mut Transaction<'_>,
    batch: &Batch,
    memo: &mut WriteMemo,
) -> Result<IntakeCounts> {
    let rows = &batch.accepted;
    let hashes = key_hashes(rows);
    let mut unique = hashes.clone();
    unique.sort_unstable();
    unique.dedup();
    let mut reject_rows = Vec::with_capacity(batch.rejected.len());
    let mut reject_errors = Vec::with_capacity(batch.rejected.len());
    let mut reject_raw = Vec::with_capacity(batch.rejected.len());
    for r in &batch.rejected {
        reject_rows.push(
            i64::try_from(r.row)
                .map_err(|_| StoreError::Other(format!("row number {} too large", r.row)))?,
        );
        let ser = |e| StoreError::Other(format!("cannot serialise rejected row: {e}"));
        reject_errors.push(serde_json::to_string(&r.errors).map_err(ser)?);
        reject_raw.push(serde_json::to_string(&r.raw).map_err(ser)?);
    }

    // Rows are encoded in pieces by a helper thread while this one probes and writes, unless the
    // batch came encoded.
    let pipeline = Pipeline::for_batch(rows, batch.encoded.as_ref());
    std::thread::scope(|scope| {
        let _stop = StopOnDrop(&pipeline);
        if pipeline.wants_helper() {
            scope.spawn(|| pipeline.help());
        }
        let existing = probe(tx, &memo.records_to_probe(&unique))?;

        let plan = plan::plan_pipelined(rows, &hashes, &existing, &pipeline)?;
        memo.records_written(
            plan.rows
                .iter()
                .zip(&hashes)
                .filter(|(p, _)| p.version().is_some())
                .map(|(_, h)| *h),
        );
        let counts = outcome_counts(&plan, batch.rejected.len());

        if counts.accepted > 0 {
            copy_records(tx, batch, &plan, &hashes, &pipeline)?;
        }
        if !plan.superseded.is_empty() {
            tx.execute(
                "UPDATE records SET is_current = FALSE WHERE id = ANY($1)",
                &[&plan.superseded],
            )?;
        }

        let subject_keys = pipeline.subject_keys()?;
        let mut subjects = subject_writes(&batch.accepted, &subject_keys, &plan)
            .map_err(|e| StoreError::Other(format!("cannot serialise subject: {e}")))?;
        subjects.sort_by_key();
        write_subjects(tx, &subjects, batch.received_at, memo)?;
        write_identities(tx, batch, &plan, memo)?;
        if !reject_rows.is_empty() {
            tx.execute(
                "INSERT INTO rejects (source_digest, row_no, batch_id, errors, raw)
             SELECT $1, r, $2, e, w FROM unnest($3::bigint[], $4::text[], $5::text[])
                 AS t (r, e, w)
             ON CONFLICT (source_digest, row_no) DO NOTHING",
                &[
                    &batch.source_digest,
                    &batch.id,
                    &reject_rows,
                    &reject_errors,
                    &reject_raw,
                ],
            )?;
        }

        // A batch id seen before (a retried submission) keeps its first summary; whatever the retry
        // did write is added, so the sums over batches stay the number of stored versions.
        tx.execute(
            "INSERT INTO batches (id, source, source_digest, agency, received_at, accepted,
             new_versions, duplicates, rejected, late)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (id) DO UPDATE SET
             accepted = batches.accepted + excluded.accepted,
             new_versions = batches.new_versions + excluded.new_versions,
             late = batches.late + excluded.late
         WHERE excluded.accepted > 0",
            &[
                &batch.id,
                &batch.source,
                &batch.source_digest,
                &batch.agency,
                &batch.received_at,
                &(counts.accepted as i64),
                &(counts.new_versions as i64),
                &(counts.duplicates as i64),
                &(counts.rejected as i64),
                &(counts.late as i64),
            ],
        )?;

        Ok(counts)
    })
}

impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn put_agencies(&self, agencies: &[Agency]) -> Result<()> {
        let mut client = self.writer()?;
        let mut tx = client.transaction()?;
        let st = tx.prepare(
            "INSERT INTO agencies (code, name, level, region, parent) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (code) DO UPDATE SET name = excluded.name, level = excluded.level,
                 region = excluded.region, parent = excluded.parent",
        )?;
        for a in agencies {
            tx.execute(
                &st,
                &[&a.code, &a.name, &a.level.code(), &a.region, &a.parent],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    fn agencies(&self) -> Result<Vec<Agency>> {
        let mut client = self.reader()?;
        client
            .query(
                "SELECT code, name, level, region, parent FROM agencies ORDER BY code",
                &[],
            )?
            .iter()
            .map(|r| {
                let level: &str = r.try_get(2)?;
                Ok(Agency {
                    code: r.try_get(0)?,
                    name: r.try_get(1)?,
                    level: AgencyLevel::from_code(level)
                        .ok_or_else(|| StoreError::Corrupt(format!("agency level `{level}`")))?,
                    region: r.try_get(3)?,
                    parent: r.try_get(4)?,
                })
            })
            .collect()
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
        // Several batches per transaction, as for SQLite, so both backends acknowledge alike; here it
        // measured neither faster nor slower (BENCHMARKS.md).
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
        let mut client = self.writer()?;
        // Re-entrant within this session (a second begin); held until the end.
        if !try_lock(&mut client, BULK_LOCK)? {
            // Another load runs: this one keeps the indexes up as it goes.
            return Ok(());
        }
        let mut tx = client.transaction()?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK])?;
        // Only into an empty table, as for SQLite: rebuilding indexes over rows already held would
        // cost more than it saves.
        let empty: bool = tx
            .query_one("SELECT NOT EXISTS (SELECT 1 FROM records)", &[])?
            .try_get(0)?;
        if empty {
            for (name, _) in deferrable() {
                tx.batch_execute(&format!("DROP INDEX IF EXISTS {name}"))?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn end_bulk_load(&self) -> Result<()> {
        let mut client = self.writer()?;
        // Every hold of this session (one per begin) is given back.
        client.execute("SELECT pg_advisory_unlock_all()", &[])?;
        // Unless another load runs now: its own end builds them.
        ensure_indexes_unless_loading(&mut client)
    }

    fn batch(&self, id: &str) -> Result<Option<BatchSummary>> {
        let mut client = self.reader()?;
        client
            .query_opt(
                &format!("SELECT {BATCH_COLUMNS} FROM batches WHERE id = $1"),
                &[&id],
            )?
            .map(|r| batch_summary(&r))
            .transpose()
    }

    fn batches(&self, limit: usize) -> Result<Vec<BatchSummary>> {
        let mut client = self.reader()?;
        let limit = limit.min(i64::MAX as usize) as i64;
        client
            .query(
                &format!(
                    "SELECT {BATCH_COLUMNS} FROM batches ORDER BY received_at DESC, seq DESC
                     LIMIT $1"
                ),
                &[&limit],
            )?
            .iter()
            .map(batch_summary)
            .collect()
    }

    fn rejects(&self, batch_id: &str) -> Result<Vec<RejectedRow>> {
        let mut client = self.reader()?;
        client
            .query(
                "SELECT row_no, errors, raw FROM rejects WHERE batch_id = $1 ORDER BY row_no",
                &[&batch_id],
            )?
            .iter()
            .map(|r| {
                let errors: &str = r.try_get(1)?;
                let raw: &str = r.try_get(2)?;
                Ok(RejectedRow {
                    row: count(r.try_get(0)?)?,
                    errors: serde_json::from_str(errors)
                        .map_err(|e| corrupt_json("reject errors", e))?,
                    raw: serde_json::from_str(raw).map_err(|e| corrupt_json("reject raw", e))?,
                })
            })
            .collect()
    }

    fn find_subject(&self, code: &str) -> Result<Option<SubjectKey>> {
        let mut client = self.reader()?;
        let mut tx = read_only(&mut client)?;
        let found = find_subject_in(&mut tx, code)?;
        tx.commit()?;
        Ok(found)
    }

    fn search_subjects(&self, query: &str, limit: usize) -> Result<Vec<SubjectSummary>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let mut client = self.reader()?;
        let mut tx = read_only(&mut client)?;
        let mut out: Vec<SubjectSummary> = Vec::new();
        if let Some(key) = find_subject_in(&mut tx, query)?
            && let Some(r) = tx.query_opt(
                "SELECT key, name, kind, codes FROM subjects WHERE key = $1",
                &[&key.0],
            )?
        {
            out.push(subject_summary(&r)?);
        }
        let limit_plus = (limit + 1).min(i64::MAX as usize) as i64;
        for r in tx.query(
            "SELECT key, name, kind, codes FROM subjects WHERE name LIKE $1 ESCAPE '\\'
             ORDER BY name, key LIMIT $2",
            &[&like_pattern(query.trim()), &limit_plus],
        )? {
            if out.len() >= limit {
                break;
            }
            let key: &str = r.try_get(0)?;
            if out.iter().any(|s| s.key.0 == key) {
                continue;
            }
            out.push(subject_summary(&r)?);
        }
        tx.commit()?;
        Ok(out)
    }

    fn subject(&self, key: &SubjectKey) -> Result<Option<SubjectProfile>> {
        let mut client = self.reader()?;
        // One snapshot for the three queries.
        let mut tx = read_only(&mut client)?;
        let Some(row) = tx.query_opt(
            "SELECT key, name, kind, codes FROM subjects WHERE key = $1",
            &[&key.0],
        )?
        else {
            return Ok(None);
        };
        let subject = subject_summary(&row)?;
        let persons = tx
            .query(
                "SELECT name, role, resident_id, other_id, person_key FROM subject_persons
                 WHERE subject_key = $1 ORDER BY role, name",
                &[&key.0],
            )?
            .iter()
            .map(|r| {
                let role: &str = r.try_get(1)?;
                let resident_id: Option<String> = r.try_get(2)?;
                let other_id: Option<&str> = r.try_get(3)?;
                Ok(PersonLink {
                    name: r.try_get(0)?,
                    role: PersonRole::parse(role)
                        .ok_or_else(|| StoreError::Corrupt(format!("person role `{role}`")))?,
                    person: stored_person(resident_id, r.try_get(4)?)?,
                    other_id: other_id
                        .map(|o| serde_json::from_str(o).map_err(|e| corrupt_json("other id", e)))
                        .transpose()?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let records = tx
            .query(
                &format!(
                    "SELECT {RECORD_COLUMNS} FROM records WHERE subject_key = $1 AND is_current
                     ORDER BY decision_date DESC, id DESC"
                ),
                &[&key.0],
            )?
            .iter()
            .map(stored_record)
            .collect::<Result<Vec<_>>>()?;
        tx.commit()?;
        Ok(Some(SubjectProfile {
            subject,
            persons,
            records,
        }))
    }

    fn record_history(&self, key: &RecordKey) -> Result<Vec<StoredRecord>> {
        let mut client = self.reader()?;
        client
            .query(
                &format!(
                    "SELECT {RECORD_COLUMNS} FROM records
                     WHERE key_hash = $1 AND source = $2 AND category = $3 AND doc_no = $4
                     ORDER BY version"
                ),
                &[
                    &key.hash64(),
                    &key.source,
                    &key.category.code(),
                    &key.doc_no,
                ],
            )?
            .iter()
            .map(stored_record)
            .collect()
    }

    fn ping(&self) -> Result<()> {
        let mut client = self.reader()?;
        // One row of a table, not `SELECT 1`: a database without the store's tables fails.
        client.query_one(
            "SELECT (SELECT 1 FROM subjects LIMIT 1), (SELECT 1 FROM checks LIMIT 1)",
            &[],
        )?;
        Ok(())
    }

    fn totals(&self) -> Result<Totals> {
        let mut client = self.reader()?;
        // Record counts come from the batch summaries (each written version is counted in exactly
        // one), so the status line does not scan the records table.
        let r = client.query_one(
            "SELECT (SELECT COUNT(*) FROM subjects),
                    (SELECT COALESCE(SUM(accepted - new_versions), 0)::bigint FROM batches),
                    (SELECT COALESCE(SUM(accepted), 0)::bigint FROM batches),
                    (SELECT COUNT(*) FROM rejects),
                    (SELECT COUNT(*) FROM batches),
                    (SELECT COUNT(*) FROM agencies)",
            &[],
        )?;
        Ok(Totals {
            subjects: count(r.try_get(0)?)?,
            records: count(r.try_get(1)?)?,
            versions: count(r.try_get(2)?)?,
            rejected_rows: count(r.try_get(3)?)?,
            batches: count(r.try_get(4)?)?,
            agencies: count(r.try_get(5)?)?,
        })
    }

    fn records_by_category(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<(String, u64)>> {
        let mut client = self.reader()?;
        client
            .query(
                "SELECT category, COUNT(*) FROM records
                 WHERE is_current AND decision_date >= $1 AND decision_date <= $2
                 GROUP BY category ORDER BY category",
                &[&from, &to],
            )?
            .iter()
            .map(|r| Ok((r.try_get(0)?, count(r.try_get(1)?)?)))
            .collect()
    }
    fn index_feed(&self, since: i64, f: &mut dyn FnMut(IndexFeed)) -> Result<i64> {
        let mut client = self.reader()?;
        let mut tx = read_only(&mut client)?;
        let current_only = if since == 0 { "AND r.is_current" } else { "" };
        let sql = format!(
            "SELECT r.id, r.subject_key, r.subject_name, r.source, r.category, r.doc_no,
                    r.nature, r.severity, r.status, r.decision_date, r.publicity_until, r.version,
                    CASE WHEN r.category IN {LIST_CATEGORIES_SQL} THEN r.body END,
                    CASE WHEN r.version > 1 THEN
                        (SELECT p.subject_key FROM records p
                         WHERE p.key_hash = r.key_hash AND p.source = r.source
                           AND p.category = r.category AND p.doc_no = r.doc_no
                           AND p.version = r.version - 1) END
             FROM records r WHERE r.id > $1 {current_only} ORDER BY r.id"
        );
        // A portal streams the rows in pages: the start-up feed is the whole table.
        let portal = tx.bind(sql.as_str(), &[&since])?;
        let mut cursor = since;
        let mut touched: Vec<String> = Vec::new();
        loop {
            let rows = tx.query_portal(&portal, 20_000)?;
            if rows.is_empty() {
                break;
            }
            for r in &rows {
                let id: i64 = r.try_get(0)?;
                let subject: String = r.try_get(1)?;
                let record = fact_record(
                    r.try_get(3)?,
                    r.try_get(4)?,
                    r.try_get(5)?,
                    r.try_get(6)?,
                    r.try_get(7)?,
                    r.try_get(8)?,
                    r.try_get(9)?,
                    r.try_get(10)?,
                    match r.try_get::<_, Option<&[u8]>>(12)? {
                        Some(body) => crate::body::list_name(body)?,
                        None => None,
                    },
                )?;
                let previous: Option<String> = r.try_get(13)?;
                cursor = cursor.max(id);
                if since > 0 {
                    touched.push(subject.clone());
                }
                f(IndexFeed::Record {
                    previous_subject: previous.filter(|p| *p != subject).map(SubjectKey),
                    subject: SubjectKey(subject),
                    subject_name: r.try_get(2)?,
                    record,
                    version: r.try_get(11)?,
                });
            }
        }
        touched.sort_unstable();
        touched.dedup();
        let persons = if since == 0 {
            tx.query(
                "SELECT subject_key, role, person_key FROM subject_persons
                 WHERE person_key IS NOT NULL",
                &[],
            )?
        } else {
            tx.query(
                "SELECT subject_key, role, person_key FROM subject_persons
                 WHERE person_key IS NOT NULL AND subject_key = ANY($1)",
                &[&touched],
            )?
        };
        for r in &persons {
            let role: &str = r.try_get(1)?;
            f(IndexFeed::Person {
                subject: SubjectKey(r.try_get(0)?),
                role: PersonRole::parse(role)
                    .ok_or_else(|| StoreError::Corrupt(format!("person role `{role}`")))?,
                person: SubjectKey(r.try_get(2)?),
            });
        }
        let codes = if since == 0 {
            tx.query("SELECT code, subject_key FROM subject_codes", &[])?
        } else {
            // By the subjects' own codes: subject_codes has no index on subject_key (import speed).
            tx.query(
                "SELECT c.code, c.subject_key
                 FROM subjects s CROSS JOIN LATERAL json_each_text(s.codes::json) j
                 JOIN subject_codes c ON c.code = j.value AND c.subject_key = s.key
                 WHERE s.key = ANY($1)",
                &[&touched],
            )?
        };
        for r in &codes {
            f(IndexFeed::Code {
                code: r.try_get(0)?,
                subject: SubjectKey(r.try_get(1)?),
            });
        }
        tx.commit()?;
        Ok(cursor)
    }

    fn write_checks(&self, checks: &[StoredCheck]) -> Result<()> {
        if checks.is_empty() {
            return Ok(());
        }
        let mut cols: [Vec<Option<String>>; 10] = Default::default();
        let mut answers: Vec<Vec<u8>> = Vec::with_capacity(checks.len());
        let mut ats = Vec::with_capacity(checks.len());
        let mut ons = Vec::with_capacity(checks.len());
        let mut versions = Vec::with_capacity(checks.len());
        for c in checks {
            cols[0].push(Some(c.id.clone()));
            cols[1].push(c.agency.clone());
            cols[2].push(c.case_ref.clone());
            cols[3].push(Some(c.subject_query.clone()));
            cols[4].push(c.subject_key.clone());
            cols[5].push(Some(c.scenario.clone()));
            cols[6].push(Some(c.decision.clone()));
            cols[7].push(Some(json_text(&c.measures)?));
            cols[8].push(Some(c.catalogue_version.clone()));
            cols[9].push(c.batch_id.clone());
            let mut answer = Vec::new();
            crate::body::compress_answer_into(&c.answer, &mut answer)?;
            answers.push(answer);
            ats.push(c.at);
            ons.push(c.checked_on);
            versions.push(c.data_version as i64);
        }
        let mut client = self.writer()?;
        let mut tx = client.transaction()?;
        // One statement for the whole group: arrays, as the batch writes do.
        tx.execute(
            "INSERT INTO checks (id, at, checked_on, agency, case_ref, subject_query, subject_key,
                 scenario, decision, measures, catalogue_version, data_version, batch_id, answer)
             SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::date[], $4::text[],
                 $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
                 $11::text[], $12::bigint[], $13::text[], $14::bytea[])",
            &[
                &cols[0], &ats, &ons, &cols[1], &cols[2], &cols[3], &cols[4], &cols[5], &cols[6],
                &cols[7], &cols[8], &versions, &cols[9], &answers,
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn write_batch_checks(&self, checks: &[StoredCheck]) -> Result<()> {
        if checks.is_empty() {
            return Ok(());
        }
        // Encoded and compressed before the transaction starts.
        let chunks = chunks::chunks_of(checks)?;
        let mut client = self.writer()?;
        let mut tx = client.transaction()?;
        let st = tx.prepare(
            "INSERT INTO check_chunks (batch_id, first_row, last_row, rows, first_at, last_at,
                 checked_on, agency, scenario, catalogue_version, data_version, decisions, body)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )?;
        for c in &chunks {
            let h = &c.head;
            tx.execute(
                &st,
                &[
                    &h.batch_id,
                    &(h.first_row as i64),
                    &(h.last_row as i64),
                    &(h.rows as i64),
                    &h.first_at,
                    &h.last_at,
                    &h.checked_on,
                    &h.agency,
                    &h.scenario,
                    &h.catalogue_version,
                    &(h.data_version as i64),
                    &h.decisions_json()?,
                    &c.body,
                ],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    fn check_receipt(&self, id: &str) -> Result<Option<StoredCheck>> {
        let mut client = self.reader()?;
        let row = client.query_opt(
            &format!(
                "SELECT {CHECK_COLUMNS} FROM checks c
                 LEFT JOIN check_feedback f ON f.check_id = c.id WHERE c.id = $1"
            ),
            &[&id],
        )?;
        if let Some(r) = row {
            return Ok(Some(stored_check(&r)?));
        }
        match chunk_of(&mut *client, id)? {
            Some(head) => chunks::row_of(&head, id, &mut Chunks(&mut *client)),
            None => Ok(None),
        }
    }

    fn checks(&self, q: &CheckQuery) -> Result<Vec<StoredCheck>> {
        let mut client = self.reader()?;
        let order = if q.oldest_first { "ASC" } else { "DESC" };
        let limit = q.limit as i64;
        client
            .query(
                &format!(
                    "SELECT {CHECK_COLUMNS} FROM checks c
                     LEFT JOIN check_feedback f ON f.check_id = c.id
                     WHERE ($1::text IS NULL OR c.agency = $1)
                       AND (NOT $2 OR f.check_id IS NULL)
                       AND ($3::date IS NULL OR c.checked_on <= $3)
                     ORDER BY c.id {order} LIMIT $4"
                ),
                &[&q.agency, &q.without_feedback, &q.on_or_before, &limit],
            )?
            .iter()
            .map(stored_check)
            .collect::<Result<Vec<_>>>()
            .and_then(|singles| chunks::list(singles, q, &mut Chunks(&mut *client)))
    }

    fn put_feedback(&self, check_id: &str, fb: &Feedback) -> Result<FeedbackWrite> {
        let mut client = self.writer()?;
        let mut tx = client.transaction()?;
        if tx
            .query_opt("SELECT 1 FROM checks WHERE id = $1", &[&check_id])?
            .is_none()
        {
            let in_chunk = match chunk_of(&mut tx, check_id)? {
                Some(head) => chunks::has_row(&head, check_id, &mut Chunks(&mut tx))?,
                None => false,
            };
            if !in_chunk {
                return Ok(FeedbackWrite::UnknownCheck);
            }
        }
        let measures =
            serde_json::to_string(&fb.measures).map_err(|e| StoreError::Other(e.to_string()))?;
        // Two agencies answering at once: the first insert wins, the second reads it back.
        let inserted = tx.execute(
            "INSERT INTO check_feedback (check_id, outcome, measures, note, agency, at)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (check_id) DO NOTHING",
            &[
                &check_id,
                &fb.outcome.code(),
                &measures,
                &fb.note,
                &fb.agency,
                &fb.at,
            ],
        )?;
        if inserted == 1 {
            tx.commit()?;
            return Ok(FeedbackWrite::Stored);
        }
        let r = tx.query_one(
            "SELECT outcome, measures, note, agency, at FROM check_feedback WHERE check_id = $1",
            &[&check_id],
        )?;
        let held = feedback_from(
            r.try_get(0)?,
            r.try_get(1)?,
            r.try_get(2)?,
            r.try_get(3)?,
            r.try_get(4)?,
        )?;
        tx.commit()?;
        Ok(if held.same_content(fb) {
            FeedbackWrite::Duplicate
        } else {
            FeedbackWrite::Conflict(Box::new(held))
        })
    }
    fn put_catalogue(&self, c: &StoredCatalogue) -> Result<bool> {
        let mut client = self.writer()?;
        let n = client.execute(
            "INSERT INTO catalogues (number, status, digest, body, created_at, published_at)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (number) DO NOTHING",
            &[
                &i64::from(c.number),
                &c.status,
                &c.digest,
                &c.body,
                &c.created_at,
                &c.published_at,
            ],
        )?;
        Ok(n == 1)
    }

    fn catalogues(&self) -> Result<Vec<StoredCatalogue>> {
        let mut client = self.reader()?;
        client
            .query(
                "SELECT number, status, digest, body, created_at, published_at FROM catalogues
                 ORDER BY number",
                &[],
            )?
            .iter()
            .map(|r| {
                Ok(StoredCatalogue {
                    number: u32::try_from(r.try_get::<_, i64>(0)?)
                        .map_err(|_| StoreError::Corrupt("catalogue number".into()))?,
                    status: r.try_get(1)?,
                    digest: r.try_get(2)?,
                    body: r.try_get(3)?,
                    created_at: r.try_get(4)?,
                    published_at: r.try_get(5)?,
                })
            })
            .collect()
    }

    fn publish_catalogue(&self, number: u32, at: DateTime<Utc>) -> Result<bool> {
        let mut client = self.writer()?;
        let n = client.execute(
            "UPDATE catalogues SET status = 'published', published_at = COALESCE(published_at, $2)
             WHERE number = $1",
            &[&i64::from(number), &at],
        )?;
        Ok(n == 1)
    }

    fn list_members(&self, q: &ListQuery) -> Result<Page<ListMember>> {
        let mut client = self.reader()?;
        let limit = q.limit.clamp(1, 1000);
        let sql = format!(
            "SELECT {RECORD_COLUMNS}, subject_key FROM records
             WHERE category IN {LIST_CATEGORIES_SQL} AND category IN {cats}
               AND is_current AND status = 'active'
               AND decision_date <= $1 AND publicity_until >= $1
               AND ($2::text IS NULL OR source = $2)
               AND ($3::text IS NULL OR subject_name LIKE $3 ESCAPE '\\')
               AND ($4::date IS NULL OR decision_date >= $4)
               AND ($5::date IS NULL OR decision_date <= $5)
             ORDER BY decision_date DESC, id DESC LIMIT $6 OFFSET $7",
            cats = list_categories_sql(q)
        );
        let name = q
            .name_contains
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(like_pattern);
        let rows = client.query(
            &sql,
            &[
                &q.public_on,
                &q.agency,
                &name,
                &q.from,
                &q.to,
                &((limit + 1) as i64),
                &(q.offset.min(i64::MAX as usize) as i64),
            ],
        )?;
        let has_more = rows.len() > limit;
        let items = rows
            .iter()
            .take(limit)
            .map(|r| {
                Ok(ListMember {
                    record: stored_record(r)?,
                    subject_key: SubjectKey(r.try_get(9)?),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Page {
            items,
            offset: q.offset,
            has_more,
        })
    }

    fn subject_names(&self, f: &mut dyn FnMut(SubjectName)) -> Result<()> {
        let mut client = self.reader()?;
        let mut tx = read_only(&mut client)?;
        // A portal, not a cursor per row: fetched in chunks so a province's subjects do not sit
        // in memory twice.
        let portal = tx.bind("SELECT key, name, kind, resident_id FROM subjects", &[])?;
        loop {
            let rows = tx.query_portal(&portal, 50_000)?;
            if rows.is_empty() {
                break;
            }
            for r in &rows {
                let kind: &str = r.try_get(2)?;
                let kind = SubjectKind::from_code(kind)
                    .ok_or_else(|| StoreError::Corrupt(format!("subject kind `{kind}`")))?;
                f(SubjectName {
                    key: SubjectKey(r.try_get(0)?),
                    name: r.try_get(1)?,
                    kind,
                    masked: r.try_get(3)?,
                });
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn batches_of(&self, agency: &str, limit: usize) -> Result<Vec<BatchSummary>> {
        let mut client = self.reader()?;
        let limit = limit.min(i64::MAX as usize) as i64;
        client
            .query(
                &format!(
                    "SELECT {BATCH_COLUMNS} FROM batches WHERE agency = $1
                     ORDER BY received_at DESC, seq DESC LIMIT $2"
                ),
                &[&agency, &limit],
            )?
            .iter()
            .map(batch_summary)
            .collect()
    }

    fn put_report(&self, r: &StoredReport) -> Result<bool> {
        let mut client = self.writer()?;
        let n = client.execute(
            "INSERT INTO credit_reports (number, subject_key, issued_at, digest, body)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (number) DO NOTHING",
            &[&r.number, &r.subject_key, &r.issued_at, &r.digest, &r.body],
        )?;
        Ok(n == 1)
    }

    fn report(&self, number: &str) -> Result<Option<StoredReport>> {
        let mut client = self.reader()?;
        client
            .query_opt(
                "SELECT number, subject_key, issued_at, digest, body FROM credit_reports
                 WHERE number = $1",
                &[&number],
            )?
            .map(|r| {
                Ok(StoredReport {
                    number: r.try_get(0)?,
                    subject_key: r.try_get(1)?,
                    issued_at: r.try_get(2)?,
                    digest: r.try_get(3)?,
                    body: r.try_get(4)?,
                })
            })
            .transpose()
    }

    fn record_stats(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<RecordStat>> {
        let mut client = self.reader()?;
        client
            .query(
                "SELECT to_char(decision_date, 'YYYY-MM'), category, source, COUNT(*),
                        COUNT(*) FILTER (WHERE late)
                 FROM records
                 WHERE is_current AND decision_date >= $1 AND decision_date <= $2
                 GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
                &[&from, &to],
            )?
            .iter()
            .map(|r| {
                Ok(RecordStat {
                    month: r.try_get(0)?,
                    category: r.try_get(1)?,
                    source: r.try_get(2)?,
                    records: count(r.try_get(3)?)?,
                    late: count(r.try_get(4)?)?,
                })
            })
            .collect()
    }

    fn check_pii_key(&self, check_value: &str) -> Result<()> {
        let mut client = self.writer()?;
        let mut tx = client.transaction()?;
        let stored: Option<String> = tx
            .query_opt(
                "SELECT value FROM pii_meta WHERE name = $1 FOR UPDATE",
                &[&PII_KEY_CHECK],
            )?
            .map(|r| r.try_get(0))
            .transpose()?;
        if !compare_key_check(stored, check_value)? {
            let legacy: i64 = tx.query_one(LEGACY_PERSONS_SQL, &[])?.try_get(0)?;
            if legacy > 0 {
                return Err(StoreError::LegacyPersons(legacy as u64));
            }
            // Two first openings at once: the second insert finds the first's row and is compared.
            tx.execute(
                "INSERT INTO pii_meta (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
                &[&PII_KEY_CHECK, &check_value],
            )?;
            let now: String = tx
                .query_one(
                    "SELECT value FROM pii_meta WHERE name = $1",
                    &[&PII_KEY_CHECK],
                )?
                .try_get(0)?;
            compare_key_check(Some(now), check_value)?;
        }
        tx.commit()?;
        Ok(())
    }

    fn sealed_identity(&self, key: &SubjectKey) -> Result<Option<SealedIdentity>> {
        let mut client = self.reader()?;
        client
            .query_opt(
                "SELECT cipher, sealed, masked FROM pii_identities WHERE subject_key = $1",
                &[&key.0],
            )?
            .map(|r| {
                Ok(SealedIdentity {
                    key: key.clone(),
                    cipher: r.try_get(0)?,
                    sealed: r.try_get(1)?,
                    masked: r.try_get(2)?,
                })
            })
            .transpose()
    }

    fn check_stats(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<CheckStat>> {
        let mut client = self.reader()?;
        let singles = client
            .query(
                "SELECT c.decision, c.agency, COUNT(*), COUNT(f.check_id)
                 FROM checks c LEFT JOIN check_feedback f ON f.check_id = c.id
                 WHERE c.checked_on >= $1 AND c.checked_on <= $2
                 GROUP BY c.decision, c.agency ORDER BY c.decision, c.agency",
                &[&from, &to],
            )?
            .iter()
            .map(|r| {
                Ok(CheckStat {
                    decision: r.try_get(0)?,
                    agency: r.try_get(1)?,
                    checks: count(r.try_get(2)?)?,
                    with_feedback: count(r.try_get(3)?)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let heads = client
            .query(
                &format!(
                    "SELECT {HEAD_COLUMNS} FROM check_chunks
                     WHERE checked_on >= $1 AND checked_on <= $2"
                ),
                &[&from, &to],
            )?
            .iter()
            .map(head)
            .collect::<Result<Vec<_>>>()?;
        chunks::add_stats(singles, &heads, &mut Chunks(&mut *client))
    }
}

fn json_text<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Other(format!("JSON: {e}")))
}

/// A chunk's columns but its body, as [`head`] reads them.
const HEAD_COLUMNS: &str = "batch_id, first_row, last_row, rows, first_at, last_at, checked_on,
    agency, scenario, catalogue_version, data_version, decisions";

fn head(r: &Row) -> Result<ChunkHead> {
    let n = |i: usize| -> Result<u64> {
        u64::try_from(r.try_get::<_, i64>(i)?)
            .map_err(|_| StoreError::Corrupt("negative number in a check chunk".into()))
    };
    Ok(ChunkHead {
        batch_id: r.try_get(0)?,
        first_row: n(1)?,
        last_row: n(2)?,
        rows: n(3)?,
        first_at: r.try_get(4)?,
        last_at: r.try_get(5)?,
        checked_on: r.try_get(6)?,
        agency: r.try_get(7)?,
        scenario: r.try_get(8)?,
        catalogue_version: r.try_get(9)?,
        data_version: n(10)?,
        decisions: ChunkHead::parse_decisions(r.try_get(11)?)?,
    })
}

/// The chunk that holds the batch row `id`, if `id` is a batch row's receipt.
fn chunk_of(client: &mut impl GenericClient, id: &str) -> Result<Option<ChunkHead>> {
    let Some((batch, row)) = chunks::parse_batch_receipt(id) else {
        return Ok(None);
    };
    let Ok(row) = i64::try_from(row) else {
        return Ok(None);
    };
    let found = client.query_opt(
        &format!(
            "SELECT {HEAD_COLUMNS} FROM check_chunks
             WHERE batch_id = $1 AND first_row <= $2 ORDER BY first_row DESC LIMIT 1"
        ),
        &[&batch, &row],
    )?;
    Ok(found
        .map(|r| head(&r))
        .transpose()?
        .filter(|h| h.last_row >= row as u64))
}

/// The database's chunks (through a client or a transaction), for [`chunks::list`] and its kin.
struct Chunks<'c, C: GenericClient>(&'c mut C);

impl<C: GenericClient> chunks::ChunkSource for Chunks<'_, C> {
    fn heads(&mut self, q: &CheckQuery) -> Result<Vec<ChunkHead>> {
        let order = if q.oldest_first {
            "first_at ASC"
        } else {
            "last_at DESC"
        };
        self.0
            .query(
                &format!(
                    "SELECT {HEAD_COLUMNS} FROM check_chunks
                     WHERE ($1::text IS NULL OR agency = $1)
                       AND ($2::date IS NULL OR checked_on <= $2)
                     ORDER BY {order}"
                ),
                &[&q.agency, &q.on_or_before],
            )?
            .iter()
            .map(head)
            .collect()
    }

    fn body(&mut self, h: &ChunkHead) -> Result<Vec<u8>> {
        let r = self.0.query_one(
            "SELECT body FROM check_chunks WHERE batch_id = $1 AND first_row = $2",
            &[&h.batch_id, &(h.first_row as i64)],
        )?;
        Ok(r.try_get(0)?)
    }

    fn feedback(&mut self, batch_id: &str) -> Result<HashMap<String, Feedback>> {
        let (from, to) = ChunkHead::receipt_range(batch_id);
        let mut out = HashMap::new();
        for r in self.0.query(
            "SELECT check_id, outcome, measures, note, agency, at FROM check_feedback
             WHERE check_id > $1 AND check_id < $2",
            &[&from, &to],
        )? {
            let fb = feedback_from(
                r.try_get(1)?,
                r.try_get(2)?,
                r.try_get(3)?,
                r.try_get(4)?,
                r.try_get(5)?,
            )?;
            out.insert(r.try_get(0)?, fb);
        }
        Ok(out)
    }
}

const CHECK_COLUMNS: &str = "c.id, c.at, c.checked_on, c.agency, c.case_ref, c.subject_query,
    c.subject_key, c.scenario, c.decision, c.measures, c.catalogue_version, c.data_version,
    c.batch_id, c.answer, f.outcome, f.measures, f.note, f.agency, f.at";

fn stored_check(r: &Row) -> Result<StoredCheck> {
    let measures: &str = r.try_get(9)?;
    let answer = crate::body::answer_text(r.try_get::<_, &[u8]>(13)?)?;
    let feedback = match r.try_get::<_, Option<&str>>(14)? {
        Some(outcome) => Some(feedback_from(
            outcome,
            r.try_get(15)?,
            r.try_get(16)?,
            r.try_get(17)?,
            r.try_get(18)?,
        )?),
        None => None,
    };
    let corrupt = |what: &str, e: serde_json::Error| StoreError::Corrupt(format!("{what}: {e}"));
    Ok(StoredCheck {
        id: r.try_get(0)?,
        at: r.try_get(1)?,
        checked_on: r.try_get(2)?,
        agency: r.try_get(3)?,
        case_ref: r.try_get(4)?,
        subject_query: r.try_get(5)?,
        subject_key: r.try_get(6)?,
        scenario: r.try_get(7)?,
        decision: r.try_get(8)?,
        measures: serde_json::from_str(measures).map_err(|e| corrupt("measures", e))?,
        catalogue_version: r.try_get(10)?,
        data_version: u64::try_from(r.try_get::<_, i64>(11)?)
            .map_err(|_| StoreError::Corrupt("negative data version".into()))?,
        batch_id: r.try_get(12)?,
        answer,
        feedback,
    })
}
