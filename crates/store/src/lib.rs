//! Storage of creditloop behind one interface, [`Store`], with an embedded SQLite implementation (the
//! default) and a PostgreSQL implementation (production). Both pass the conformance suite in
//! `tests/conformance.rs`.
//!
//! The interface is synchronous: SQLite is in-process and the PostgreSQL client is a blocking one;
//! the server calls it from `spawn_blocking`.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use creditloop_domain::agency::Agency;
use creditloop_domain::catalogue::FactRecord;
use creditloop_domain::feedback::Feedback;
use creditloop_domain::intake::{AcceptedRow, IntakeCounts, RejectedRow};
use creditloop_domain::pii::{PersonId, SealedIdentity};
use creditloop_domain::record::{Category, CreditRecord, RecordKey, Timeliness};
use creditloop_domain::subject::{PersonLink, PersonRole, SubjectCodes, SubjectKey, SubjectKind};

pub mod access;
pub mod body;
mod chunks;
mod memo;
mod plan;
pub mod postgres;
pub mod sqlite;

pub use access::{Credentials, StoredCertificate, StoredSession, StoredToken, StoredUser};
pub use chunks::{batch_receipt, parse_batch_receipt};
pub use plan::{EncodedRows, ExistingVersion, Plan, PlannedRow, Supersedes, plan_batch};

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
    /// The database's persons were pseudonymised with another personal data key: using this one
    /// would file every person a second time and leave the sealed numbers unreadable.
    #[error(
        "this database was written with another personal data key (key check {stored}, given key {given}): use the key file it was created with (--pii-key-file or CREDITLOOP_PII_KEY)"
    )]
    PiiKeyMismatch { stored: String, given: String },
    /// Persons written before resident numbers were pseudonymised (`P:` and the number itself):
    /// binding a key would leave them in clear beside pseudonymised ones.
    #[error(
        "this database holds {0} person(s) filed under their resident number in clear (written before personal data protection): re-import its records into a new database"
    )]
    LegacyPersons(u64),
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
    /// The accepted rows already encoded for storage, when the caller did that on threads of its
    /// own: exactly `EncodedRows::encode(&accepted)`, one per row in order (an encoding of another
    /// length is not used). `None` lets the store encode them.
    pub encoded: Option<EncodedRows>,
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

/// What the in-memory check index (DESIGN.md §5 read path) reads from the store, see
/// [`Store::index_feed`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexFeed {
    /// A record version filed under `subject`. `previous_subject` is set when the version before it
    /// was filed under another subject (a correction that moved the record), so the index can drop
    /// it there.
    Record {
        subject: SubjectKey,
        subject_name: String,
        record: FactRecord,
        version: i32,
        previous_subject: Option<SubjectKey>,
    },
    /// A linked person identified by a resident number (`P:` key).
    Person {
        subject: SubjectKey,
        role: PersonRole,
        person: SubjectKey,
    },
    /// A secondary code of a subject (registration number, organisation code …).
    Code { code: String, subject: SubjectKey },
}

/// One credit check (事前信用查询) as stored, with its receipt id (查询回执编号).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredCheck {
    /// The receipt id: unique, time-ordered.
    pub id: String,
    pub at: DateTime<Utc>,
    /// The day the check was decided for (its rules and windows).
    pub checked_on: NaiveDate,
    /// The acting agency (its unified code).
    pub agency: Option<String>,
    /// The acting agency's case reference (办件编号).
    pub case_ref: Option<String>,
    /// The subject as the caller named it.
    pub subject_query: String,
    /// The subject it resolved to; `None` for an unknown subject.
    pub subject_key: Option<String>,
    pub scenario: String,
    /// `prohibit`, `restrict`, `strict`, `normal`, `priority`, or `ambiguous`.
    pub decision: String,
    /// Codes of the matched measures, the only ones feedback may name.
    pub measures: Vec<String>,
    /// The catalogue version that answered (its label).
    pub catalogue_version: String,
    /// The data version (index snapshot) that answered.
    pub data_version: u64,
    /// The batch check this check belongs to, if any.
    pub batch_id: Option<String>,
    /// The whole answer as given to the caller (JSON text, unmasked), kept as text so the hot path
    /// serialises it once.
    pub answer: String,
    /// The agency's feedback (反馈), once given.
    pub feedback: Option<Feedback>,
}

/// Which checks to list ([`Store::checks`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckQuery {
    /// Only checks made by this agency.
    pub agency: Option<String>,
    /// Only checks without feedback.
    pub without_feedback: bool,
    /// Only checks decided on or before this day.
    pub on_or_before: Option<NaiveDate>,
    /// Oldest first when true (for overdue lists), newest first otherwise.
    pub oldest_first: bool,
    pub limit: usize,
}

/// What storing a feedback did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedbackWrite {
    Stored,
    /// The same feedback was already stored: nothing changed.
    Duplicate,
    /// Another feedback is already stored for this check; it stays.
    Conflict(Box<Feedback>),
    /// No check has this receipt id.
    UnknownCheck,
}

/// A stored version of the measures catalogue (联合奖惩措施目录).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredCatalogue {
    pub number: u32,
    /// `draft` or `published`.
    pub status: String,
    /// SHA-256 of the measures (the version's digest).
    pub digest: String,
    pub created_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    /// The catalogue's canonical JSON.
    pub body: String,
}

/// Which list entries (名单成员) to page through ([`Store::list_members`]): the red list (红名单) and the
/// black lists (严重失信主体名单, 失信被执行人, 经营异常名录) of the public portal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    /// List categories to include; empty means every list category. Other categories are ignored.
    pub categories: Vec<Category>,
    /// Only entries submitted by this agency (数据来源单位统一社会信用代码).
    pub agency: Option<String>,
    /// Only subjects whose name contains this text.
    pub name_contains: Option<String>,
    /// Only entries decided (列入) on or after this day.
    pub from: Option<NaiveDate>,
    /// Only entries decided on or before this day.
    pub to: Option<NaiveDate>,
    /// Only entries public on this day (active, decided, inside the publicity window), as
    /// [`CreditRecord::is_public_on`] says.
    pub public_on: NaiveDate,
    pub offset: usize,
    pub limit: usize,
}

/// One page of a listing, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub offset: usize,
    /// Whether another page follows (counting a large table for a total is not worth its cost).
    pub has_more: bool,
}

/// An entry of a list: the subject it is filed under and the current record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListMember {
    pub subject_key: SubjectKey,
    pub record: StoredRecord,
}

/// A subject's key, name and kind, as streamed for the in-memory name index
/// ([`Store::subject_names`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectName {
    pub key: SubjectKey,
    pub name: String,
    pub kind: SubjectKind,
    /// A person's masked resident number, to show beside the name (the key is a pseudonym).
    pub masked: Option<String>,
}

/// A credit report (信用报告) as issued: its number, the digest of its canonical body and the body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredReport {
    /// 报告编号, unique.
    pub number: String,
    pub subject_key: String,
    pub issued_at: DateTime<Utc>,
    /// SHA-256 (hex) of `body`.
    pub digest: String,
    /// The report's canonical JSON, exactly as digested.
    pub body: String,
}

/// Current records decided in one month, of one category, from one agency (dashboards).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordStat {
    /// `YYYY-MM` of the decision date.
    pub month: String,
    pub category: String,
    /// The submitting agency (数据来源单位统一社会信用代码).
    pub source: String,
    pub records: u64,
    /// Of them, submitted after their deadline.
    pub late: u64,
}

/// Checks of one decision by one agency (dashboards).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckStat {
    pub decision: String,
    pub agency: Option<String>,
    pub checks: u64,
    /// Of them, with feedback (反馈) given.
    pub with_feedback: u64,
}

/// The storage interface. Every implementation passes `tests/conformance.rs`. Users, tokens and
/// sessions are its [`Credentials`] part.
pub trait Store: Credentials + Send + Sync {
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

    /// Writes the batches `next` yields, in order, each as [`Store::write_batch`] would, but several
    /// in one transaction where the store gains by it (up to `group_rows` rows, accepted and
    /// rejected, per transaction, or about five seconds of writing; a batch is never split).
    /// `next(true)` waits for the next batch and gives `None` at the end; `next(false)` gives only a
    /// batch that is ready now (`None`: none yet), so that a transaction is committed rather than
    /// kept open while its source is slow. `done` gets each batch's id and outcome once the
    /// transaction that holds it is committed: a batch is durable when `done` has seen it. On an
    /// error the batches already passed to `done` stay written and those of the open transaction
    /// are not. Meant for a bulk load, whose writer may keep other writers waiting for one
    /// transaction.
    fn write_batches(
        &self,
        group_rows: usize,
        next: &mut dyn FnMut(bool) -> Option<Batch>,
        done: &mut dyn FnMut(String, BatchOutcome),
    ) -> Result<()> {
        let _ = group_rows;
        while let Some(batch) = next(true) {
            let outcome = self.write_batch(&batch)?;
            done(batch.id, outcome);
        }
        Ok(())
    }

    /// A bulk load (the import of a whole file) begins. The store may defer the upkeep of indexes
    /// that no write needs until [`Store::end_bulk_load`]; batches stay durable and every answer
    /// stays the same, only other readers' lookups may be slower meanwhile. A load that never ends
    /// (the process killed) has its indexes rebuilt the next time the store is opened.
    fn begin_bulk_load(&self) -> Result<()> {
        Ok(())
    }
    /// Rebuilds what [`Store::begin_bulk_load`] deferred. Idempotent.
    fn end_bulk_load(&self) -> Result<()> {
        Ok(())
    }

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
    /// One cheap read of the database (and of the SQLite check file), for health checks: fails
    /// when the store cannot be read. Costs the same on an empty store and at province scale,
    /// unlike [`Store::totals`], which counts.
    fn ping(&self) -> Result<()>;

    /// Streams what the check index needs, in record-id (commit) order. With `since == 0`: every
    /// current record version, every identified person link and every secondary code. With a cursor
    /// from an earlier call: the record versions written after it, and the person links and codes of
    /// the subjects they are filed under. Returns the new cursor (the highest record id seen, or
    /// `since` when nothing is new).
    fn index_feed(&self, since: i64, f: &mut dyn FnMut(IndexFeed)) -> Result<i64>;

    /// Stores checks in one transaction (group commit of the check path). Durable when it returns.
    fn write_checks(&self, checks: &[StoredCheck]) -> Result<()>;
    /// Stores rows of batch checks (批量查询) in one transaction, as chunks of rows that share
    /// their batch, agency, day, scenario and versions. Every row's id must be
    /// [`batch_receipt`]`(batch_id, row)`. Read back like any check. Durable when it returns.
    fn write_batch_checks(&self, checks: &[StoredCheck]) -> Result<()>;
    /// A check by receipt id, with its feedback.
    fn check_receipt(&self, id: &str) -> Result<Option<StoredCheck>>;
    fn checks(&self, query: &CheckQuery) -> Result<Vec<StoredCheck>>;
    /// Stores the feedback of a check: once; the same feedback again is a duplicate; another one
    /// conflicts.
    fn put_feedback(&self, check_id: &str, feedback: &Feedback) -> Result<FeedbackWrite>;

    /// Stores a new catalogue version; `false` when that number is already taken (nothing changes).
    fn put_catalogue(&self, catalogue: &StoredCatalogue) -> Result<bool>;
    /// Every stored version, oldest first.
    fn catalogues(&self) -> Result<Vec<StoredCatalogue>>;
    /// Marks a draft as published; `false` when there is no such version.
    fn publish_catalogue(&self, number: u32, at: DateTime<Utc>) -> Result<bool>;
    /// Number of current records decided in `[from, to]`, per category code (for dashboards).
    fn records_by_category(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<(String, u64)>>;

    /// One page of list entries (红名单 / 黑名单), newest decision first, public ones only.
    fn list_members(&self, query: &ListQuery) -> Result<Page<ListMember>>;
    /// Streams the key, name and kind of every subject (for the in-memory name index).
    fn subject_names(&self, f: &mut dyn FnMut(SubjectName)) -> Result<()>;
    /// The batches an agency submitted, newest first.
    fn batches_of(&self, agency: &str, limit: usize) -> Result<Vec<BatchSummary>>;
    /// Stores an issued credit report; `false` when the number is already taken (nothing changes).
    fn put_report(&self, report: &StoredReport) -> Result<bool>;
    /// An issued credit report by number.
    fn report(&self, number: &str) -> Result<Option<StoredReport>>;
    /// Binds the database to a personal data key by its key check value: the first call stores it,
    /// later calls fail with [`StoreError::PiiKeyMismatch`] when it differs. The key itself is never
    /// stored.
    fn check_pii_key(&self, check_value: &str) -> Result<()>;
    /// The sealed resident number of a person's subject key, written by [`Store::write_batch`] from
    /// the rows' [`AcceptedRow::identities`].
    fn sealed_identity(&self, key: &SubjectKey) -> Result<Option<SealedIdentity>>;
    /// Current records decided in `[from, to]` by month, category and agency (dashboards).
    fn record_stats(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<RecordStat>>;
    /// Checks decided in `[from, to]` by decision and agency, with how many got feedback.
    fn check_stats(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<CheckStat>>;
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

/// A person as the person columns store it: the masked number (column `resident_id`) and the
/// subject key `P:<pseudonym>` (column `person_key`).
pub(crate) fn stored_person(
    masked: Option<String>,
    person_key: Option<String>,
) -> Result<Option<PersonId>> {
    match (masked, person_key) {
        (Some(masked), Some(key)) => {
            let pseudonym = key
                .strip_prefix(creditloop_domain::pii::PERSON_KEY_PREFIX)
                .ok_or_else(|| StoreError::Corrupt(format!("person key `{key}`")))?;
            Ok(Some(PersonId {
                pseudonym: pseudonym.to_string(),
                masked,
            }))
        }
        (None, None) => Ok(None),
        _ => Err(StoreError::Corrupt(
            "person link with only one of masked number and person key".into(),
        )),
    }
}

/// Subjects filed under a clear resident number (`P:` and 18 characters; a pseudonym has 26).
pub(crate) const LEGACY_PERSONS_SQL: &str =
    "SELECT COUNT(*) FROM subjects WHERE key LIKE 'P:%' AND length(key) = 20";

/// Key check values are stored under this name in `pii_meta`.
pub(crate) const PII_KEY_CHECK: &str = "key_check";

/// Fills one transaction of [`Store::write_batches`], for both backends: writes `first`, then each
/// batch already waiting, until `group_rows` rows or [`GROUP_MAX_OPEN`]. Returns what to
/// acknowledge once the caller has committed.
pub(crate) fn fill_group(
    mut batch: Batch,
    group_rows: usize,
    next: &mut dyn FnMut(bool) -> Option<Batch>,
    write: &mut dyn FnMut(&Batch) -> Result<IntakeCounts>,
) -> Result<Vec<(String, BatchOutcome)>> {
    let opened = std::time::Instant::now();
    let mut rows = 0;
    let mut written = Vec::new();
    loop {
        rows += batch.accepted.len() + batch.rejected.len();
        let counts = write(&batch)?;
        written.push((std::mem::take(&mut batch.id), BatchOutcome { counts }));
        if rows >= group_rows || opened.elapsed() >= GROUP_MAX_OPEN {
            return Ok(written);
        }
        // Only a batch already waiting joins the transaction: the lock is never held while the
        // reader is still reading.
        match next(false) {
            Some(b) => batch = b,
            None => return Ok(written),
        }
    }
}

/// How long [`Store::write_batches`] keeps one transaction open at most (it commits after the batch
/// that passes it): other writers of the store wait for it, within their 30 s busy timeout even on a
/// disk several times slower than this one.
pub(crate) const GROUP_MAX_OPEN: std::time::Duration = std::time::Duration::from_secs(5);

/// Whether a stored key check value admits `given`.
pub(crate) fn compare_key_check(stored: Option<String>, given: &str) -> Result<bool> {
    match stored {
        None => Ok(false),
        Some(s) if s == given => Ok(true),
        Some(stored) => Err(StoreError::PiiKeyMismatch {
            stored,
            given: given.to_string(),
        }),
    }
}

/// The slim record of the index feed from its stored columns (both backends store the same codes).
#[allow(clippy::too_many_arguments)]
pub(crate) fn fact_record(
    source: String,
    category: &str,
    doc_no: String,
    nature: &str,
    severity: &str,
    status: &str,
    decision_date: NaiveDate,
    publicity_until: NaiveDate,
    list_name: Option<String>,
) -> Result<FactRecord> {
    use creditloop_domain::record::{Nature, RecordStatus, Severity};
    let bad = |what: &str, v: &str| StoreError::Corrupt(format!("record {what} `{v}`"));
    let category = Category::parse(category).ok_or_else(|| bad("category", category))?;
    Ok(FactRecord {
        key: RecordKey {
            source,
            category,
            doc_no,
        },
        category,
        nature: Nature::parse(nature).ok_or_else(|| bad("nature", nature))?,
        severity: Severity::parse(severity).ok_or_else(|| bad("severity", severity))?,
        decision_date,
        publicity_until,
        status: RecordStatus::parse(status).ok_or_else(|| bad("status", status))?,
        list_name,
    })
}

/// Categories whose records carry a list name (名单名称) in their body.
pub(crate) const LIST_CATEGORIES_SQL: &str =
    "('serious_dishonest_list', 'abnormal_operation', 'red_list', 'dishonest_debtor')";

/// The `category IN (…)` of a list query: the list categories it names (all of them when it names
/// none). The codes are the domain's own constants, never caller text.
pub(crate) fn list_categories_sql(q: &ListQuery) -> String {
    let mut cats: Vec<&str> = q
        .categories
        .iter()
        .filter(|c| c.is_list())
        .map(|c| c.code())
        .collect();
    if cats.is_empty() {
        cats = Category::ALL
            .iter()
            .filter(|c| c.is_list())
            .map(|c| c.code())
            .collect();
    }
    cats.sort_unstable();
    cats.dedup();
    let quoted: Vec<String> = cats.iter().map(|c| format!("'{c}'")).collect();
    format!("({})", quoted.join(", "))
}

/// Receipt ids are time-ordered (a B-tree appends rather than splits) and unique across processes.
pub fn new_check_id(at: DateTime<Utc>) -> String {
    use sha2::Digest;
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let counter = COUNTER.fetch_add(1, Ordering::Relaxed);
    // A per-process random part, so two servers on one database never collide.
    static NODE: OnceLock<u32> = OnceLock::new();
    let node = *NODE.get_or_init(|| {
        let t = Utc::now().timestamp_nanos_opt().unwrap_or_default() as u64;
        let pid = u64::from(std::process::id());
        let h = sha2::Sha256::digest([t.to_le_bytes(), pid.to_le_bytes()].concat());
        u32::from_le_bytes([h[0], h[1], h[2], h[3]])
    });
    // Written digit by digit: chrono's `format` parses its pattern on every call, and a batch makes
    // millions of ids. Same text as `CK{%Y%m%d%H%M%S%3f}{node:08x}{counter:06x}`.
    let mut id = String::with_capacity(33);
    id.push_str("CK");
    push_timestamp(&mut id, at);
    push_hex(&mut id, u64::from(node), 8);
    push_hex(&mut id, counter & 0xff_ffff, 6);
    id
}

/// `at` as `%Y%m%d%H%M%S%3f` (as chrono writes it, a leap second as :60).
fn push_timestamp(out: &mut String, at: DateTime<Utc>) {
    use chrono::{Datelike, Timelike};
    let year = at.year();
    if !(0..=9999).contains(&year) {
        use std::fmt::Write;
        let _ = write!(out, "{}", at.format("%Y%m%d%H%M%S%3f"));
        return;
    }
    let nanos = at.nanosecond();
    push_dec(out, year as u32, 4);
    push_dec(out, at.month(), 2);
    push_dec(out, at.day(), 2);
    push_dec(out, at.hour(), 2);
    push_dec(out, at.minute(), 2);
    push_dec(out, at.second() + nanos / 1_000_000_000, 2);
    push_dec(out, nanos / 1_000_000 % 1_000, 3);
}

/// `v` in decimal, zero-padded to `width` digits (`v` has at most `width` digits).
fn push_dec(out: &mut String, v: u32, width: u32) {
    for i in (0..width).rev() {
        out.push(char::from(b'0' + (v / 10u32.pow(i) % 10) as u8));
    }
}

/// The low `width` hex digits of `v`, lowercase, zero-padded.
fn push_hex(out: &mut String, v: u64, width: u32) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for i in (0..width).rev() {
        out.push(char::from(DIGITS[(v >> (4 * i) & 0xf) as usize]));
    }
}

#[cfg(test)]
mod check_id_tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_receipt_id_writes_its_time_as_chrono_formats_it() {
        let times = [
            Utc.with_ymd_and_hms(2026, 12, 2, 8, 4, 30).unwrap(),
            Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(999, 9, 9, 23, 59, 59).unwrap()
                + chrono::Duration::nanoseconds(999_999_999),
            Utc.with_ymd_and_hms(2026, 6, 30, 23, 59, 59).unwrap()
                + chrono::Duration::milliseconds(7),
        ];
        for at in times {
            let id = new_check_id(at);
            let expected = format!("CK{}", at.format("%Y%m%d%H%M%S%3f"));
            assert_eq!(id.len(), 33, "{id}");
            assert_eq!(&id[..19], expected, "{id}");
            assert!(
                id[19..]
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
            );
        }
        // A leap second, as chrono writes it.
        let leap = chrono::NaiveDate::from_ymd_opt(2016, 12, 31)
            .unwrap()
            .and_hms_milli_opt(23, 59, 59, 1_500)
            .unwrap()
            .and_utc();
        assert_eq!(
            &new_check_id(leap)[..19],
            format!("CK{}", leap.format("%Y%m%d%H%M%S%3f"))
        );
        // Consecutive ids differ in their counter.
        assert_ne!(new_check_id(times[0]), new_check_id(times[0]));
    }
}
