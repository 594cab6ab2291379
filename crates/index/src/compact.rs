//! The compact in-memory form of a subject: what a check needs and nothing more.
//!
//! At Tianjin scale (≈1.05 M subjects, ≈12.7 M records) the owned [`FactRecord`] (three `String`s, ≈150
//! bytes with its heap blocks) would cost ≈2 GiB for records alone. A [`Rec`] is 32 bytes: agency codes
//! and list names are interned as `u32` ids (a few thousand distinct values province-wide), dates stay
//! [`NaiveDate`] (4 bytes), and the document numbers of one subject are concatenated into a single
//! string per subject so that a record costs no heap block of its own.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;

use chrono::NaiveDate;
use creditloop_domain::catalogue::{FactRecord, RecordTraits};
use creditloop_domain::record::{Category, Nature, RecordKey, RecordStatus, Severity};
use creditloop_domain::subject::PersonRole;

/// Sentinel for "no interned string" (no list name, no class).
pub(crate) const NONE: u32 = u32::MAX;

/// Interned strings shared by all snapshots: agency source codes, list names and class names.
///
/// Append-only, so an id handed out once stays valid in every later snapshot; a batch that brings a new
/// string clones this table (small: thousands of entries), all others share it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Strings {
    list: Vec<Arc<str>>,
    ids: HashMap<Arc<str>, u32>,
}

impl Strings {
    pub(crate) fn get(&self, id: u32) -> &str {
        self.list.get(id as usize).map_or("", |s| s)
    }

    pub(crate) fn id(&self, s: &str) -> Option<u32> {
        self.ids.get(s).copied()
    }

    fn insert(&mut self, s: &str) -> u32 {
        if let Some(id) = self.id(s) {
            return id;
        }
        // More than 4 billion distinct agency codes or list names cannot happen; saturating keeps the
        // function total rather than panicking on absurd input.
        let id = u32::try_from(self.list.len()).unwrap_or(NONE - 1);
        let s: Arc<str> = Arc::from(s);
        self.list.push(s.clone());
        self.ids.insert(s, id);
        id
    }

    pub(crate) fn len(&self) -> usize {
        self.list.len()
    }
}

/// Interns into a shared table, cloning it only when the string is new (copy-on-write).
pub(crate) fn intern(strings: &mut Arc<Strings>, s: &str) -> u32 {
    match strings.id(s) {
        Some(id) => id,
        None => Arc::make_mut(strings).insert(s),
    }
}

/// One record version in compact form. `status == None` marks a retraction (tombstone): the record was
/// moved to another subject or withdrawn. Tombstones are kept so that applying items in two batches
/// gives the same state as applying them at once, whatever order versions arrive in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rec {
    pub decision_date: NaiveDate,
    pub publicity_until: NaiveDate,
    pub version: i32,
    /// interned `RecordKey::source`
    pub source: u32,
    /// interned list name or [`NONE`]
    pub list: u32,
    /// byte range of `RecordKey::doc_no` in the subject's `docs`
    pub doc_off: u32,
    pub doc_len: u32,
    /// `RecordKey::category` (`FactRecord::category` is always the key's, see `FactRecord::from_record`)
    pub category: Category,
    pub nature: Nature,
    pub severity: Severity,
    pub status: Option<RecordStatus>,
}

const _: () = assert!(std::mem::size_of::<Rec>() == 32);

impl Rec {
    pub(crate) fn is_live(&self) -> bool {
        self.status.is_some()
    }

    pub(crate) fn doc<'a>(&self, docs: &'a str) -> &'a str {
        let start = self.doc_off as usize;
        docs.get(start..start + self.doc_len as usize).unwrap_or("")
    }

    /// The fields a trigger looks at, without building a [`FactRecord`].
    #[inline]
    pub(crate) fn traits<'a>(&self, strings: &'a Strings) -> RecordTraits<'a> {
        RecordTraits {
            category: self.category,
            nature: self.nature,
            severity: self.severity,
            decision_date: self.decision_date,
            list_name: (self.list != NONE).then(|| strings.get(self.list)),
        }
    }
}

/// A subject in a snapshot. Immutable once built; an update builds a new `Entry`.
#[derive(Debug)]
pub(crate) struct Entry {
    pub key: Arc<str>,
    /// Current name; empty when only person links named the subject so far. Shared with the
    /// subject's row in the name map.
    pub name: Arc<str>,
    /// Current version of each record key (and tombstones), newest decision first, then by key.
    pub records: Box<[Rec]>,
    /// Document numbers of `records`, concatenated.
    pub docs: Box<str>,
    /// Linked persons by (role code, person key), no duplicates.
    pub persons: Box<[(PersonRole, Arc<str>)]>,
    /// interned credit class or [`NONE`]
    pub class: u32,
}

impl Entry {
    /// Starts loading what a check reads next (records, document numbers, person links): each is its
    /// own heap block, usually a cache miss at province scale, and loads issued together overlap
    /// instead of queueing behind the key comparison. Only a hint: reads one value of each.
    #[inline]
    pub(crate) fn touch(&self) {
        std::hint::black_box((
            self.records.first().map(|r| r.status),
            self.docs.as_bytes().first().copied(),
            self.persons.first().map(|p| p.0),
        ));
    }

    pub(crate) fn live_records(&self) -> usize {
        self.records.iter().filter(|r| r.is_live()).count()
    }

    pub(crate) fn to_facts(&self, strings: &Strings) -> Vec<FactRecord> {
        self.to_facts_where(strings, |_| true)
    }

    /// The live records `keep` accepts, in order. Only those are copied out (three strings each).
    pub(crate) fn to_facts_where(
        &self,
        strings: &Strings,
        mut keep: impl FnMut(&RecordTraits<'_>) -> bool,
    ) -> Vec<FactRecord> {
        self.records
            .iter()
            .filter_map(|r| {
                let status = r.status?;
                let traits = r.traits(strings);
                if !keep(&traits) {
                    return None;
                }
                Some(FactRecord {
                    key: RecordKey {
                        source: strings.get(r.source).to_string(),
                        category: r.category,
                        doc_no: r.doc(&self.docs).to_string(),
                    },
                    category: r.category,
                    nature: r.nature,
                    severity: r.severity,
                    decision_date: r.decision_date,
                    publicity_until: r.publicity_until,
                    status,
                    list_name: traits.list_name.map(str::to_string),
                })
            })
            .collect()
    }

    pub(crate) fn established_on(&self) -> Option<NaiveDate> {
        self.records
            .iter()
            .filter(|r| r.is_live() && r.category == Category::Registration)
            .map(|r| r.decision_date)
            .min()
    }
}

/// A subject being built or updated: records appended in arrival order, reduced to one version per
/// key by [`Pending::finish`]. The builder and `apply` both go through it, which is what makes
/// "build at once" and "build half, apply the rest" agree.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    pub recs: Vec<Rec>,
    pub docs: String,
    pub persons: Vec<(PersonRole, Arc<str>)>,
    pub name: Option<Arc<str>>,
    pub class: u32,
}

impl Pending {
    pub(crate) fn new() -> Self {
        Pending {
            class: NONE,
            ..Pending::default()
        }
    }

    /// Seeds a pending update with a snapshot entry, so later items are resolved against it.
    pub(crate) fn from_entry(e: &Entry) -> Self {
        Pending {
            recs: e.records.to_vec(),
            docs: e.docs.to_string(),
            persons: e.persons.to_vec(),
            name: (!e.name.is_empty()).then(|| e.name.clone()),
            class: e.class,
        }
    }

    fn push_doc(&mut self, doc: &str) -> Option<(u32, u32)> {
        // A subject whose document numbers exceed 4 GiB cannot occur; such a record is dropped
        // rather than stored with a wrong key.
        let off = u32::try_from(self.docs.len()).ok()?;
        let len = u32::try_from(doc.len()).ok()?;
        off.checked_add(len)?;
        self.docs.push_str(doc);
        Some((off, len))
    }

    pub(crate) fn push_record(&mut self, strings: &mut Arc<Strings>, r: &FactRecord, version: i32) {
        let Some((doc_off, doc_len)) = self.push_doc(&r.key.doc_no) else {
            return;
        };
        let source = intern(strings, &r.key.source);
        let list = r.list_name.as_deref().map_or(NONE, |l| intern(strings, l));
        self.recs.push(Rec {
            decision_date: r.decision_date,
            publicity_until: r.publicity_until,
            version,
            source,
            list,
            doc_off,
            doc_len,
            category: r.key.category,
            nature: r.nature,
            severity: r.severity,
            status: Some(r.status),
        });
    }

    pub(crate) fn push_retract(
        &mut self,
        strings: &mut Arc<Strings>,
        key: &RecordKey,
        version: i32,
    ) {
        let Some((doc_off, doc_len)) = self.push_doc(&key.doc_no) else {
            return;
        };
        let source = intern(strings, &key.source);
        self.recs.push(Rec {
            decision_date: NaiveDate::MIN,
            publicity_until: NaiveDate::MIN,
            version,
            source,
            list: NONE,
            doc_off,
            doc_len,
            category: key.category,
            nature: Nature::Neutral,
            severity: Severity::None,
            status: None,
        });
    }

    pub(crate) fn set_name(&mut self, name: &str) {
        // An empty name never overwrites a known one (person links and some feeds carry none).
        if !name.is_empty() && self.name.as_deref() != Some(name) {
            self.name = Some(name.into());
        }
    }

    /// Reduces to one version per record key — the highest version; at equal versions the one that
    /// arrived last — and freezes the result.
    pub(crate) fn finish(self, key: Arc<str>, strings: &Strings) -> Entry {
        let Pending {
            recs,
            docs,
            mut persons,
            name,
            class,
        } = self;
        let key_cmp = |a: &Rec, b: &Rec| -> Ordering {
            strings
                .get(a.source)
                .cmp(strings.get(b.source))
                .then(a.category.cmp(&b.category))
                .then_with(|| a.doc(&docs).cmp(b.doc(&docs)))
        };
        let mut order: Vec<usize> = (0..recs.len()).collect();
        // Stable: equal key and version keep arrival order, so the last arrival is kept below.
        order.sort_by(|&a, &b| {
            key_cmp(&recs[a], &recs[b]).then(recs[a].version.cmp(&recs[b].version))
        });
        let mut kept: Vec<Rec> = Vec::with_capacity(order.len());
        for (n, &i) in order.iter().enumerate() {
            let last_of_key = order
                .get(n + 1)
                .is_none_or(|&j| key_cmp(&recs[i], &recs[j]) != Ordering::Equal);
            if last_of_key {
                kept.push(recs[i]);
            }
        }
        // Newest decision first, as the store lists a subject's records; ties by key for a stable order.
        kept.sort_by(|a, b| {
            b.decision_date
                .cmp(&a.decision_date)
                .then_with(|| key_cmp(a, b))
        });
        let mut packed = String::with_capacity(kept.iter().map(|r| r.doc_len as usize).sum());
        for r in &mut kept {
            let doc = r.doc(&docs);
            // Offsets fit: `packed` is no longer than `docs`, whose offsets were checked on push.
            r.doc_off = u32::try_from(packed.len()).unwrap_or(u32::MAX);
            packed.push_str(doc);
        }
        persons.sort_by(|a, b| a.0.code().cmp(b.0.code()).then_with(|| a.1.cmp(&b.1)));
        persons.dedup();
        Entry {
            key,
            name: name.unwrap_or_default(),
            records: kept.into_boxed_slice(),
            docs: packed.into_boxed_str(),
            persons: persons.into_boxed_slice(),
            class,
        }
    }
}

/// A fixed, seedless 64-bit hash (FNV-1a with a murmur finaliser): shard placement must not depend on
/// the process, and this is faster than SipHash on 20-byte keys.
pub(crate) fn hash_str(s: &str) -> u64 {
    finish(fnv(FNV_OFFSET, s.as_bytes()))
}

/// `hash_str(prefix + s)` for each prefix, without building the strings. The FNV chains run side
/// by side in one pass, so seven hashes cost little more than one (each chain is latency-bound).
pub(crate) fn hash_prefixed<const N: usize>(prefixes: &[&str; N], s: &str) -> [u64; N] {
    let mut hs = prefixes.map(|p| fnv(FNV_OFFSET, p.as_bytes()));
    for b in s.as_bytes() {
        for h in &mut hs {
            *h = (*h ^ u64::from(*b)).wrapping_mul(FNV_PRIME);
        }
    }
    hs.map(finish)
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0100_0000_01b3;

fn fnv(mut h: u64, bytes: &[u8]) -> u64 {
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(FNV_PRIME);
    }
    h
}

fn finish(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}
