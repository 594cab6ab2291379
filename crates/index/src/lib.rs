//! The read index for credit checks (DESIGN.md §5 "Read path", §7 lessons from screening services).
//!
//! A [`CheckIndex`] is an immutable, versioned snapshot of what checks need: each subject's current
//! records (one version per record key), its linked persons, its registration date, its credit class,
//! and the secondary-code and exact-name maps used to find it. Checks read a snapshot without locks
//! and every answer carries the snapshot's `version`, so any past answer can be tied to the data that
//! produced it.
//!
//! [`IndexBuilder`] builds a snapshot from a stream of [`IndexItem`]s (what the store streams at start);
//! [`SharedIndex`] holds the current snapshot and swaps in a new one after each commit
//! ([`SharedIndex::apply`]).
//!
//! # Layout and its trade-off
//!
//! Subjects, codes and names are each split into [`SHARDS`] shards by a fixed hash, held in 128 groups
//! of 128; a group and a shard are each an `Arc<[_]>` of rows sorted by (hash, key). An update copies
//! only the shards it touches and their groups (copy-on-write) and shares everything else with the
//! previous snapshot, so a held old snapshot stays valid (nothing it points to is ever mutated) and a
//! commit does not copy a million entries:
//! - one-item commit: ≈15 µs at Tianjin scale (copies one group of 128 pointers and one ≈64-row shard);
//! - 1 000 random items: ≈12 ms (touches ≈1 000 shards and every group — ≈80 k reference-count
//!   updates plus re-packing each touched subject), i.e. ≈80 k items/s; the start-up build is faster
//!   (≈480 k items/s) because it freezes each subject once.
//!
//! The price against one big mutable hash map: updates cost per touched shard rather than per item,
//! lookups go through two extra pointer hops (group, shard), and a snapshot replaced while a reader
//! still holds it keeps its unshared shards alive until that reader drops it. Readers never wait for
//! writers beyond an `Arc` clone; writers are serialised.
//!
//! Memory at Tianjin scale (1.05 M subjects, 12.67 M records): ≈1.5 GiB resident (see
//! `crates/bench/src/bin/check_bench.rs`), mostly the 32-byte compact records and their packed document numbers.
//!
//! Nothing here does I/O: the server feeds items from the store and its commits.

mod compact;
mod shared;
mod update;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use chrono::NaiveDate;
use creditloop_domain::catalogue::{
    CheckOutcome, CompiledCatalogue, FactRecord, RecordFilter, Scenario, SubjectFacts, decide,
};
use creditloop_domain::ids;
use creditloop_domain::record::RecordKey;
use creditloop_domain::subject::{PersonRole, SubjectKey};

use compact::{Entry, NONE, Strings, hash_prefixed, hash_str};

pub use shared::SharedIndex;
pub use update::IndexBuilder;

/// Number of shards of each map. 16 384 keeps a shard at ≈64 subjects (1 KiB of rows) at Tianjin
/// scale, so a copy-on-write update copies little; a power of two, and a multiple of the group size.
pub const SHARDS: usize = 1 << 14;

/// The key prefixes a bare code is tried with, in the store's order (`find_subject`): unified code,
/// resident number, registration number, organisation code, then other certificates.
pub(crate) const KEY_PREFIXES: [&str; 7] = ["U:", "P:", "R:", "O:", "T:", "I:", "S:"];

/// One change to the index: what the store streams at start and what a commit produces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexItem {
    /// A record version filed under `subject`. The highest `version` of a record key wins; at equal
    /// versions the item that comes later wins. A non-empty `subject_name` becomes the subject's name.
    Record {
        subject: SubjectKey,
        subject_name: String,
        record: FactRecord,
        version: i32,
    },
    /// The record no longer belongs to `subject` (a correction filed it under another subject, or it
    /// was withdrawn): versions up to `version` are dropped. Ignored for a subject the index does not
    /// know yet. Needed because an index item names only the new subject of a moved record.
    Retract {
        subject: SubjectKey,
        key: RecordKey,
        version: i32,
    },
    /// A linked person (关联人员) identified by a key (`P:` resident number). Links are only added, as
    /// the store only adds them.
    Person {
        subject: SubjectKey,
        role: PersonRole,
        person: SubjectKey,
    },
    /// A secondary code (registration number, organisation code …) of a subject. The first subject to
    /// claim a code keeps it, as in the store.
    Code { code: String, subject: SubjectKey },
    /// The subject's credit class (信用等级) once computed; `None` clears it.
    Class {
        subject: SubjectKey,
        class: Option<String>,
    },
}

/// How a check's subject text resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    Key(SubjectKey),
    /// 查无此主体: a clear answer, not an error.
    Unknown,
    /// An exact name shared by this many subjects; the caller must ask for a code.
    Ambiguous(usize),
}

/// What [`CheckIndex::find`] found: a subject key with its entry (when the index holds one), none,
/// or an ambiguous name.
enum Found<'a> {
    Key(SubjectKey, Option<&'a Arc<Entry>>),
    Unknown,
    Ambiguous(usize),
}

/// The answer of [`CheckIndex::check`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckAnswer {
    Outcome(Box<CheckOutcome>),
    /// The name matched several subjects.
    Ambiguous {
        count: usize,
    },
}

/// A row of a sharded map, ordered by (hash, key) within its shard. The hash is kept inline so that a
/// lookup compares integers in one contiguous slice and touches the row's heap data only on a match.
trait Row: Clone {
    fn hash(&self) -> u64;
    fn key(&self) -> &str;
}

/// Subjects: (hash of the key, entry).
type SubjectRow = (u64, Arc<Entry>);
/// Secondary codes: (hash of the code, code, subject key).
type CodeRow = (u64, Box<str>, Arc<str>);
/// Names: (hash of the name, subject key, name). The name is the entry's own (shared), so that
/// counting the subjects of a common name compares strings without looking up each subject: a
/// person's name is often shared by a hundred others, and each lookup costs several cache misses.
type NameRow = (u64, Arc<str>, Arc<str>);

impl Row for SubjectRow {
    fn hash(&self) -> u64 {
        self.0
    }
    fn key(&self) -> &str {
        &self.1.key
    }
}

impl Row for CodeRow {
    fn hash(&self) -> u64 {
        self.0
    }
    fn key(&self) -> &str {
        &self.1
    }
}

impl Row for NameRow {
    fn hash(&self) -> u64 {
        self.0
    }
    /// By subject key: a subject has one row, whatever its name.
    fn key(&self) -> &str {
        &self.1
    }
}

/// An immutable snapshot of the read index. Cloning is shallow (shard pointers only).
#[derive(Clone)]
pub struct CheckIndex {
    version: u64,
    subjects: Sharded<SubjectRow>,
    codes: Sharded<CodeRow>,
    names: Sharded<NameRow>,
    strings: Arc<Strings>,
    subject_count: usize,
    record_count: usize,
}

impl std::fmt::Debug for CheckIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckIndex")
            .field("version", &self.version)
            .field("subjects", &self.subject_count)
            .field("records", &self.record_count)
            .field("strings", &self.strings.len())
            .finish()
    }
}

impl Default for CheckIndex {
    fn default() -> Self {
        CheckIndex::empty(0)
    }
}

/// Shards per group: the shards of a map are kept in `SHARDS / GROUP` groups so that a new snapshot
/// copies 128 group pointers plus the groups it touches, not 16 384 shard pointers (which also made
/// every commit allocate and free a 128 KiB vector).
const GROUP: usize = 128;

/// A map split into [`SHARDS`] shards by hash, in two copy-on-write levels. Groups and shards are
/// `Arc<[_]>` (data inline after the reference counts), so a lookup costs two dependent memory loads
/// to reach the shard's rows.
#[derive(Debug, Clone)]
struct Sharded<R> {
    groups: Vec<Arc<[Arc<[R]>]>>,
}

fn shard_of(hash: u64) -> usize {
    (hash as usize) & (SHARDS - 1)
}

impl<R: Row> Sharded<R> {
    fn empty() -> Self {
        // One shared empty shard and group: copy-on-write gives each its own on first write.
        let empty: Arc<[R]> = Arc::from(Vec::new());
        let group: Arc<[Arc<[R]>]> = Arc::from(vec![empty; GROUP]);
        Sharded {
            groups: vec![group; SHARDS / GROUP],
        }
    }

    /// From rows placed by `shard_of(row.hash())` (exactly [`SHARDS`] vectors).
    fn from_rows(shards: Vec<Vec<R>>) -> Self {
        let mut out = Sharded::empty();
        let mut shards = shards.into_iter();
        for slot in &mut out.groups {
            let group: Vec<Arc<[R]>> = shards
                .by_ref()
                .take(GROUP)
                .map(|mut rows| {
                    rows.sort_unstable_by(|a, b| (a.hash(), a.key()).cmp(&(b.hash(), b.key())));
                    Arc::from(rows)
                })
                .collect();
            // A short input (never the case) leaves the remaining groups empty.
            if group.len() == GROUP {
                *slot = Arc::from(group);
            }
        }
        out
    }

    fn shard(&self, hash: u64) -> &[R] {
        let i = shard_of(hash);
        self.groups
            .get(i / GROUP)
            .and_then(|g| g.get(i % GROUP))
            .map_or(&[], |s| s)
    }

    /// The rows with this hash (usually one; more for a shared name or a hash collision).
    ///
    /// Interpolation rather than binary search: rows are sorted by a hash whose high bits are uniform,
    /// so the row sits near `len × hash / 2⁶⁴` and the scan from there usually stays in one cache line
    /// (a binary search over a 1 KiB shard touches four or five, each a likely cache and TLB miss at
    /// province scale).
    fn with_hash(&self, hash: u64) -> &[R] {
        let shard = self.shard(hash);
        let n = shard.len();
        if n == 0 {
            return &[];
        }
        let guess = (((hash >> 32) * n as u64) >> 32) as usize;
        let mut from = guess.min(n - 1);
        while from < n && shard[from].hash() < hash {
            from += 1;
        }
        while from > 0 && shard[from - 1].hash() >= hash {
            from -= 1;
        }
        let mut to = from;
        while to < n && shard[to].hash() == hash {
            to += 1;
        }
        &shard[from..to]
    }

    fn find(&self, hash: u64, key: &str) -> Option<&R> {
        self.with_hash(hash).iter().find(|r| r.key() == key)
    }

    /// The hash of the row a lookup of `hash` reads first (0 when the shard is empty): reading it
    /// pulls the shard's row into cache, so that several lookups started this way overlap their
    /// misses. See [`CheckIndex::find`].
    #[inline]
    fn peek(&self, hash: u64) -> u64 {
        let shard = self.shard(hash);
        let guess = (((hash >> 32) * shard.len() as u64) >> 32) as usize;
        shard.get(guess).map_or(0, Row::hash)
    }

    fn position(&self, hash: u64, key: &str) -> Result<usize, usize> {
        self.shard(hash)
            .binary_search_by(|r| (r.hash(), r.key()).cmp(&(hash, key)))
    }

    /// Rewrites one shard (copy-on-write of the shard and of its group when shared).
    fn edit(&mut self, hash: u64, f: impl FnOnce(&mut Vec<R>)) {
        let i = shard_of(hash);
        let Some(group) = self.groups.get_mut(i / GROUP) else {
            return;
        };
        let Some(shard) = Arc::make_mut(group).get_mut(i % GROUP) else {
            return;
        };
        let mut rows = shard.to_vec();
        f(&mut rows);
        *shard = Arc::from(rows);
    }

    /// Inserts or replaces the row with the same (hash, key).
    fn upsert(&mut self, row: R) {
        let (h, at) = (row.hash(), self.position(row.hash(), row.key()));
        self.edit(h, |rows| match at {
            Ok(i) => rows[i] = row,
            Err(i) => rows.insert(i, row),
        });
    }

    /// Inserts unless a row with the same (hash, key) exists.
    fn insert_new(&mut self, row: R) {
        if let Err(i) = self.position(row.hash(), row.key()) {
            self.edit(row.hash(), |rows| rows.insert(i, row));
        }
    }

    fn remove(&mut self, hash: u64, key: &str) {
        if let Ok(i) = self.position(hash, key) {
            self.edit(hash, |rows| {
                rows.remove(i);
            });
        }
    }
}

impl CheckIndex {
    /// An index without subjects at `version`.
    pub fn empty(version: u64) -> Self {
        CheckIndex {
            version,
            subjects: Sharded::empty(),
            codes: Sharded::empty(),
            names: Sharded::empty(),
            strings: Arc::default(),
            subject_count: 0,
            record_count: 0,
        }
    }

    /// Builds a snapshot from items at once (see [`IndexBuilder`]).
    pub fn build(items: impl IntoIterator<Item = IndexItem>) -> Self {
        let mut b = IndexBuilder::new();
        b.extend(items);
        b.build()
    }

    /// The data version: increases with each applied batch. Report it with every answer.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Subjects known to the index.
    pub fn subject_count(&self) -> usize {
        self.subject_count
    }

    /// Current records held (one per record key and subject).
    pub fn record_count(&self) -> usize {
        self.record_count
    }

    fn entry(&self, key: &str) -> Option<&Arc<Entry>> {
        self.subjects.find(hash_str(key), key).map(|r| &r.1)
    }

    /// [`CheckIndex::entry`] for a check: starts loading the entry's records and persons while its
    /// key is compared (see [`Entry::touch`]). `eq` tells whether a stored key is the one sought.
    fn entry_for_check(&self, hash: u64, eq: impl Fn(&str) -> bool) -> Option<&Arc<Entry>> {
        self.subjects
            .with_hash(hash)
            .iter()
            .find(|(_, e)| {
                e.touch();
                eq(&e.key)
            })
            .map(|r| &r.1)
    }

    /// Whether the subject is known.
    pub fn contains(&self, key: &SubjectKey) -> bool {
        self.entry(key.as_str()).is_some()
    }

    /// The subject's current name (empty when no record named it yet).
    pub fn name(&self, key: &SubjectKey) -> Option<&str> {
        self.entry(key.as_str()).map(|e| &*e.name)
    }

    /// The subject's current records, newest decision first.
    pub fn records(&self, key: &SubjectKey) -> Option<Vec<FactRecord>> {
        self.entry(key.as_str()).map(|e| e.to_facts(&self.strings))
    }

    /// The facts a check decides on, exactly as the store-backed `facts_for` of the server gathers
    /// them: the subject's current records (newest decision first), each linked person's records by
    /// role (persons ordered by role code, then key), the registration date (earliest registration
    /// record) and the class. `None` when the subject is unknown; use [`SubjectFacts::unknown`] then.
    pub fn facts(&self, key: &SubjectKey) -> Option<SubjectFacts> {
        let e = self.entry(key.as_str())?;
        Some(self.facts_of(key, e))
    }

    fn facts_of(&self, key: &SubjectKey, e: &Entry) -> SubjectFacts {
        let mut facts = SubjectFacts::known(key.clone());
        facts.records = e.to_facts(&self.strings);
        facts.established_on = e.established_on();
        facts.persons = e
            .persons
            .iter()
            .map(|(role, pk)| {
                let records = self
                    .entry(pk)
                    .map(|p| p.to_facts(&self.strings))
                    .unwrap_or_default();
                (*role, records)
            })
            .collect();
        facts.credit_class = (e.class != NONE).then(|| self.strings.get(e.class).to_string());
        facts
    }

    fn by_code(&self, code: &str) -> Option<&Arc<str>> {
        self.codes.find(hash_str(code), code).map(|r| &r.2)
    }

    /// Keys of the subjects whose current name is exactly `name`, sorted.
    pub fn keys_named(&self, name: &str) -> Vec<SubjectKey> {
        self.named(name, hash_str(name))
            .map(|k| SubjectKey(k.to_string()))
            .collect()
    }

    /// Keys of the subjects named exactly `name` (whose hash is `hash`), sorted. Every row of the
    /// name map has its subject's current name (kept so by `with_changes`), so no entry is read.
    fn named<'a>(&'a self, name: &str, hash: u64) -> impl Iterator<Item = &'a Arc<str>> {
        self.names
            .with_hash(hash)
            .iter()
            .filter(move |(_, _, n)| &**n == name)
            .map(|(_, k, _)| k)
    }

    /// Finds the subject a check names, identifiers first (DESIGN.md §7): the normalised text as a
    /// unified code, person pseudonym (callers turn a resident number into its pseudonym first, see
    /// `creditloop-pii`), registration number, organisation code or other certificate key; then as
    /// a secondary code; only then as an exact name.
    pub fn resolve(&self, code_or_name: &str) -> Resolved {
        match self.find(code_or_name) {
            Found::Key(k, _) => Resolved::Key(k),
            Found::Unknown => Resolved::Unknown,
            Found::Ambiguous(n) => Resolved::Ambiguous(n),
        }
    }

    /// [`CheckIndex::resolve`] with the subject's entry, so that a check looks it up once.
    fn find(&self, code_or_name: &str) -> Found<'_> {
        let code = ids::normalize(code_or_name);
        if code.is_empty() {
            return Found::Unknown;
        }
        let hashes = hash_prefixed(&KEY_PREFIXES, &code);
        let code_hash = hash_str(&code);
        let name = code_or_name.trim();
        let name_hash = hash_str(name);
        for (i, (prefix, h)) in KEY_PREFIXES.iter().zip(hashes).enumerate() {
            if i == 1 {
                // The first prefix (unified code) answers most checks. Past it, a registration
                // number or a name misses every key prefix before it reaches the code and name
                // maps: touch all the shards those lookups read at once, so that their cache
                // misses overlap rather than add up.
                let mut warm = self.codes.peek(code_hash) ^ self.names.peek(name_hash);
                for h in &hashes[1..] {
                    warm ^= self.subjects.peek(*h);
                }
                std::hint::black_box(warm);
            }
            let is_key = |k: &str| k.strip_prefix(prefix) == Some(code.as_str());
            if let Some(e) = self.entry_for_check(h, is_key) {
                return Found::Key(SubjectKey(format!("{prefix}{code}")), Some(e));
            }
        }
        if let Some(k) = self.by_code(&code) {
            let e = self.entry_for_check(hash_str(k), |s| s == &**k);
            return Found::Key(SubjectKey(k.to_string()), e);
        }
        let mut named = self.named(name, name_hash);
        match (named.next(), named.next()) {
            (None, _) => Found::Unknown,
            (Some(k), None) => {
                let e = self.entry_for_check(hash_str(k), |s| s == &**k);
                Found::Key(SubjectKey(k.to_string()), e)
            }
            (Some(_), Some(_)) => Found::Ambiguous(2 + named.count()),
        }
    }

    /// Resolves, gathers facts and decides one check; returns the answer with the data version that
    /// gave it. A subject not found gets the “unknown subject” outcome of [`decide`].
    pub fn check(
        &self,
        catalogue: &CompiledCatalogue,
        scenario: &Scenario,
        subject: &str,
        on: NaiveDate,
    ) -> (CheckAnswer, u64) {
        let facts = match self.find(subject) {
            Found::Key(k, Some(e)) => {
                self.facts_for_check(k, e, &catalogue.record_filter(scenario, on))
            }
            Found::Key(_, None) | Found::Unknown => SubjectFacts::unknown(),
            Found::Ambiguous(count) => return (CheckAnswer::Ambiguous { count }, self.version),
        };
        let outcome = decide(catalogue, scenario, &facts, on);
        (CheckAnswer::Outcome(Box::new(outcome)), self.version)
    }

    /// [`CheckIndex::facts`] cut down to what `filter` says can matter to one check: the same outcome
    /// from [`decide`] (see [`RecordFilter`]), but only the few records a check can report are copied
    /// out of the compact entry, and persons no trigger looks at are not even looked up (each lookup
    /// is a few cache misses at province scale). That is the tail of subjects with many records.
    fn facts_for_check(
        &self,
        key: SubjectKey,
        e: &Entry,
        filter: &RecordFilter<'_>,
    ) -> SubjectFacts {
        let mut facts = SubjectFacts::known(key);
        facts.records = e.to_facts_where(&self.strings, |t| filter.subject_record(t));
        facts.established_on = e.established_on();
        facts.persons = e
            .persons
            .iter()
            .filter(|(role, _)| filter.looks_at(*role))
            .map(|(role, pk)| {
                let records = self
                    .entry_for_check(hash_str(pk), |k| k == &**pk)
                    .map(|p| p.to_facts_where(&self.strings, |t| filter.person_record(*role, t)))
                    .unwrap_or_default();
                (*role, records)
            })
            .collect();
        facts.credit_class = (e.class != NONE).then(|| self.strings.get(e.class).to_string());
        facts
    }
}
