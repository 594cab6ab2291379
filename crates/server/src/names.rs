//! The in-memory name index of the portal search: partial Chinese names answered without a `LIKE`
//! scan of the subjects table.
//!
//! Each subject name is normalised (full-width ASCII folded to half-width, ASCII lower-cased,
//! whitespace dropped). Hits are ranked: the exact name first, then names that start with the
//! query, then names that contain it elsewhere; within each, shorter names first, then name order.
//!
//! - Exact and prefix hits come from the names sorted by their normalised text: a binary search
//!   finds the range that starts with the query, and the shortest of it are taken.
//! - Other hits come from character bigrams: every distinct bigram of a name points to it, and the
//!   entries are numbered in ranking order (length, then name), so a posting list is already
//!   ranked. A query reads the list of its rarest bigram in order, verifies the whole query on each
//!   entry and stops as soon as it has enough hits: a common query ("有限公司") stops after a few
//!   entries, a rare one has a short list. A one-character query reads its character's list.
//!
//! The index is an immutable snapshot swapped in whole. It is built from the store at start
//! ([`NameIndex::load`]), rebuilt in the background when the number of subjects changes (new
//! subjects from any process) and every [`FULL_REBUILD_EVERY`] (renames), and rebuilt at once after
//! a submission through this server when a build is cheap (small stores: demos and tests). Exact
//! codes never go through it: they are looked up in the store first.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock, Weak};
use std::time::{Duration, Instant};

use creditloop_domain::ids::{OrgCode, RegistrationNumber, Uscc};
use creditloop_domain::pii::{PERSON_KEY_PREFIX, PersonId};
use creditloop_domain::subject::{SubjectCodes, SubjectKey, SubjectKind};
use creditloop_store::{Store, StoreError, SubjectName, SubjectSummary};

/// How often the background thread looks at the subject count.
pub const POLL_EVERY: Duration = Duration::from_secs(2);
/// A full rebuild at least this often, so renamed subjects are found by their new names.
pub const FULL_REBUILD_EVERY: Duration = Duration::from_secs(600);
/// After a submission, rebuild at once when the last build took less than this.
const CHEAP_BUILD: Duration = Duration::from_millis(150);

struct Entry {
    key: Box<str>,
    name: Box<str>,
    /// The normalised name when it differs from `name`.
    norm: Option<Box<str>>,
    kind: SubjectKind,
    /// A person's masked resident number (persons only).
    masked: Option<Box<str>>,
}

impl Entry {
    fn norm(&self) -> &str {
        self.norm.as_deref().unwrap_or(&self.name)
    }
}

/// One immutable generation of the index.
pub struct NameSnapshot {
    /// Sorted by (length in characters, name, key): an entry's position is its rank within a tier.
    entries: Vec<Entry>,
    /// Positions sorted by normalised name (then position), for exact and prefix hits.
    by_name: Vec<u32>,
    /// Bigram → (start, len) in `postings`.
    bigrams: HashMap<u64, (u32, u32)>,
    /// Entry positions, ascending within each bigram's run.
    postings: Vec<u32>,
}

/// Folds a name or query for matching: full-width ASCII to half-width, ASCII to lower case,
/// whitespace (ASCII and the ideographic space) dropped.
pub fn normalize(s: &str) -> String {
    s.chars()
        .filter_map(|c| {
            let c = match c {
                '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
                '\u{3000}' => ' ',
                c => c,
            };
            (!c.is_whitespace()).then(|| c.to_ascii_lowercase())
        })
        .collect()
}

fn bigram(a: char, b: char) -> u64 {
    (u64::from(a as u32) << 32) | u64::from(b as u32)
}

/// A single character's key in the same map: no character is `u32::MAX`.
fn unigram(a: char) -> u64 {
    (u64::from(a as u32) << 32) | u64::from(u32::MAX)
}

/// The codes a hit shows without a store read: those its key is made of, and a person's masked
/// number.
fn codes_of(key: &str, masked: Option<&str>) -> SubjectCodes {
    let mut codes = codes_of_key(key);
    if let (Some(pseudonym), Some(masked)) = (key.strip_prefix(PERSON_KEY_PREFIX), masked) {
        codes.person = Some(PersonId {
            pseudonym: pseudonym.to_string(),
            masked: masked.to_string(),
        });
    }
    codes
}

/// The codes a key is made of.
pub fn codes_of_key(key: &str) -> SubjectCodes {
    let mut codes = SubjectCodes::default();
    let Some((prefix, rest)) = key.split_once(':') else {
        return codes;
    };
    match prefix {
        "U" => codes.uscc = Uscc::parse(rest).ok(),
        // A person's key is a pseudonym: its masked number is in the profile, not in the key.
        "R" => codes.reg_no = RegistrationNumber::parse(rest).ok(),
        "O" => codes.org_code = OrgCode::parse(rest).ok(),
        "T" => codes.tax_no = Some(rest.to_string()),
        "I" => codes.institution_cert = Some(rest.to_string()),
        "S" => codes.social_org_cert = Some(rest.to_string()),
        _ => {}
    }
    codes
}

impl NameSnapshot {
    /// Builds a snapshot from subjects in any order.
    pub fn build(names: Vec<SubjectName>) -> Self {
        let mut entries: Vec<Entry> = names
            .into_iter()
            .filter(|n| !n.name.trim().is_empty())
            .map(|n| {
                let norm = normalize(&n.name);
                Entry {
                    norm: (norm != n.name).then(|| norm.into_boxed_str()),
                    key: n.key.0.into_boxed_str(),
                    name: n.name.into_boxed_str(),
                    kind: n.kind,
                    masked: n.masked.map(String::into_boxed_str),
                }
            })
            .collect();
        // One entry per key (the first name in name order), then in ranking order.
        entries.sort_unstable_by(|a, b| (&a.key, &a.name).cmp(&(&b.key, &b.name)));
        entries.dedup_by(|a, b| a.key == b.key);
        entries.sort_by_cached_key(|e| (e.norm().chars().count(), e.name.clone(), e.key.clone()));
        let mut by_name: Vec<u32> = (0..entries.len() as u32).collect();
        by_name.sort_unstable_by(|&a, &b| {
            entries[a as usize]
                .norm()
                .cmp(entries[b as usize].norm())
                .then(a.cmp(&b))
        });

        // Two passes: count each bigram's postings, then fill one flat array.
        let mut counts: HashMap<u64, u32> = HashMap::new();
        let mut seen: Vec<u64> = Vec::new();
        let distinct = |e: &Entry, seen: &mut Vec<u64>| {
            seen.clear();
            let chars: Vec<char> = e.norm().chars().collect();
            seen.extend(chars.windows(2).map(|w| bigram(w[0], w[1])));
            seen.extend(chars.iter().map(|&c| unigram(c)));
            seen.sort_unstable();
            seen.dedup();
        };
        for e in &entries {
            distinct(e, &mut seen);
            for b in &seen {
                *counts.entry(*b).or_default() += 1;
            }
        }
        let mut bigrams: HashMap<u64, (u32, u32)> = HashMap::with_capacity(counts.len());
        let mut start = 0u32;
        for (b, n) in counts {
            bigrams.insert(b, (start, 0));
            start += n;
        }
        let mut postings = vec![0u32; start as usize];
        for (i, e) in entries.iter().enumerate() {
            distinct(e, &mut seen);
            for b in &seen {
                if let Some((s, len)) = bigrams.get_mut(b) {
                    postings[(*s + *len) as usize] = i as u32;
                    *len += 1;
                }
            }
        }
        NameSnapshot {
            entries,
            by_name,
            bigrams,
            postings,
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn posting(&self, b: u64) -> &[u32] {
        match self.bigrams.get(&b) {
            Some(&(s, len)) => &self.postings[s as usize..(s + len) as usize],
            None => &[],
        }
    }

    /// Subjects whose name contains `query`, best first, at most `limit`.
    pub fn search(&self, query: &str, limit: usize) -> Vec<SubjectSummary> {
        let q = normalize(query);
        let chars: Vec<char> = q.chars().collect();
        if chars.is_empty() || limit == 0 {
            return Vec::new();
        }
        let norm = |i: u32| self.entries[i as usize].norm();
        // Exact and prefix hits: the range of names that start with the query. Positions are in
        // ranking order, so the smallest positions of the range are the shortest names; an exact
        // name is the shortest of all.
        let lo = self.by_name.partition_point(|&i| norm(i) < q.as_str());
        let hi = lo + self.by_name[lo..].partition_point(|&i| norm(i).starts_with(q.as_str()));
        let mut hits: Vec<u32> = self.by_name[lo..hi].to_vec();
        if hits.len() > limit {
            hits.select_nth_unstable(limit - 1);
            hits.truncate(limit);
        }
        hits.sort_unstable();
        // Other hits, in ranking order, until there are enough.
        let need_more = hits.len() < limit;
        let mut consider = |i: u32| {
            let n = norm(i);
            if !n.starts_with(q.as_str()) && n.contains(q.as_str()) {
                hits.push(i);
            }
            hits.len() < limit
        };
        if need_more {
            if let [c] = chars[..] {
                for &i in self.posting(unigram(c)) {
                    if !consider(i) {
                        break;
                    }
                }
            } else {
                let rarest = chars
                    .windows(2)
                    .map(|w| self.posting(bigram(w[0], w[1])))
                    .min_by_key(|l| l.len())
                    .unwrap_or(&[]);
                for &i in rarest {
                    if !consider(i) {
                        break;
                    }
                }
            }
        }
        hits.into_iter()
            .map(|i| {
                let e = &self.entries[i as usize];
                SubjectSummary {
                    key: SubjectKey(e.key.to_string()),
                    name: e.name.to_string(),
                    kind: e.kind,
                    codes: codes_of(&e.key, e.masked.as_deref()),
                }
            })
            .collect()
    }
}

/// The shared, refreshed name index.
pub struct NameIndex {
    snap: RwLock<Arc<NameSnapshot>>,
    /// Serialises rebuilds; holds when and how long the last one took.
    build: Mutex<(Instant, Duration)>,
    dirty: AtomicBool,
}

impl NameIndex {
    /// Builds the index from every subject of the store.
    pub fn load(store: &dyn Store) -> Result<Self, StoreError> {
        let started = Instant::now();
        let snap = Self::snapshot_from(store)?;
        Ok(NameIndex {
            snap: RwLock::new(Arc::new(snap)),
            build: Mutex::new((Instant::now(), started.elapsed())),
            dirty: AtomicBool::new(false),
        })
    }

    /// An index over the given subjects (benchmarks, tests).
    pub fn from_names(names: Vec<SubjectName>) -> Self {
        NameIndex {
            snap: RwLock::new(Arc::new(NameSnapshot::build(names))),
            build: Mutex::new((Instant::now(), Duration::ZERO)),
            dirty: AtomicBool::new(false),
        }
    }

    fn snapshot_from(store: &dyn Store) -> Result<NameSnapshot, StoreError> {
        let mut names = Vec::new();
        store.subject_names(&mut |n| names.push(n))?;
        Ok(NameSnapshot::build(names))
    }

    /// The current snapshot.
    pub fn snapshot(&self) -> Arc<NameSnapshot> {
        self.snap
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Subjects whose name contains `query`, best first.
    pub fn search(&self, query: &str, limit: usize) -> Vec<SubjectSummary> {
        self.snapshot().search(query, limit)
    }

    /// Rebuilds from the store now.
    pub fn rebuild(&self, store: &dyn Store) -> Result<(), StoreError> {
        let mut last = self.build.lock().unwrap_or_else(PoisonError::into_inner);
        self.dirty.store(false, Ordering::Relaxed);
        let started = Instant::now();
        let snap = Self::snapshot_from(store)?;
        *self.snap.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(snap);
        *last = (Instant::now(), started.elapsed());
        Ok(())
    }

    /// After a write through this server: rebuild at once when that is cheap, else let the
    /// background thread do it on its next round.
    pub fn after_write(&self, store: &dyn Store) {
        let cheap = self.build.lock().unwrap_or_else(PoisonError::into_inner).1 < CHEAP_BUILD;
        if cheap {
            if let Err(e) = self.rebuild(store) {
                tracing::warn!(error = %e, "name index rebuild failed");
            }
        } else {
            self.dirty.store(true, Ordering::Relaxed);
        }
    }

    /// Watches the store on a thread: rebuilds when the subject count changed, when a write asked
    /// for it, and every [`FULL_REBUILD_EVERY`]; never more often than ten times the last build's
    /// duration, so a province-sized rebuild does not take a core for itself. Stops when the index
    /// or the store is dropped.
    pub fn spawn_refresher(self: &Arc<Self>, store: Arc<dyn Store>) {
        let me: Weak<Self> = Arc::downgrade(self);
        let store = Arc::downgrade(&store);
        std::thread::Builder::new()
            .name("name-index".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(POLL_EVERY);
                    let (Some(me), Some(store)) = (me.upgrade(), store.upgrade()) else {
                        return;
                    };
                    let (at, took) = *me.build.lock().unwrap_or_else(PoisonError::into_inner);
                    if at.elapsed() < took * 10 {
                        continue;
                    }
                    let due = me.dirty.load(Ordering::Relaxed)
                        || at.elapsed() >= FULL_REBUILD_EVERY
                        || match store.totals() {
                            Ok(t) => t.subjects != me.snapshot().len() as u64,
                            Err(_) => false,
                        };
                    if due && let Err(e) = me.rebuild(&*store) {
                        tracing::warn!(error = %e, "name index rebuild failed; retrying");
                    }
                }
            })
            .ok();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(key: &str, name: &str) -> SubjectName {
        SubjectName {
            key: SubjectKey(key.into()),
            name: name.into(),
            kind: SubjectKind::Enterprise,
            masked: None,
        }
    }

    fn names(hits: &[SubjectSummary]) -> Vec<&str> {
        hits.iter().map(|h| h.name.as_str()).collect()
    }

    #[test]
    fn finds_partial_names_ranked() {
        let snap = NameSnapshot::build(vec![
            n("U:1", "天津市恒通达商贸有限公司"),
            n("U:2", "恒通达"),
            n("U:3", "恒通达物流（天津）有限公司"),
            n("U:4", "北京恒通科技有限公司"),
            n("U:5", "上海浦东贸易有限公司"),
        ]);
        assert_eq!(
            names(&snap.search("恒通达", 10)),
            [
                "恒通达",
                "恒通达物流（天津）有限公司",
                "天津市恒通达商贸有限公司"
            ]
        );
        assert_eq!(snap.search("恒通", 10).len(), 4);
        assert_eq!(snap.search("恒通", 2).len(), 2);
        // One character scans; absent bigrams find nothing.
        assert_eq!(snap.search("浦", 10).len(), 1);
        assert!(snap.search("广州", 10).is_empty());
        assert!(snap.search("  ", 10).is_empty());
        // The whole query must be contiguous, not just its bigrams.
        assert!(snap.search("恒通达通", 10).is_empty());
    }

    #[test]
    fn full_width_case_and_spaces_fold() {
        let snap =
            NameSnapshot::build(vec![n("U:1", "ＡＢＣ科技 有限公司"), n("U:2", "abc(天津)")]);
        assert_eq!(snap.search("abc", 10).len(), 2);
        assert_eq!(names(&snap.search("科技有限", 10)), ["ＡＢＣ科技 有限公司"]);
        assert_eq!(names(&snap.search("（天津）", 10)), ["abc(天津)"]);
    }

    #[test]
    fn codes_come_from_the_key() {
        let c = codes_of_key("U:91330100716105852F");
        assert_eq!(
            c.uscc.as_ref().map(|u| u.as_str()),
            Some("91330100716105852F")
        );
        let p = codes_of_key("P:AAAABBBBCCCCDDDDEEEEFFFFGG");
        assert_eq!(p.display_code(), None, "a pseudonym is no code to show");
        let p = codes_of("P:AAAABBBBCCCCDDDDEEEEFFFFGG", Some("1101**********002X"));
        assert_eq!(p.display_code().as_deref(), Some("1101**********002X"));
        assert_eq!(codes_of_key("N:x"), SubjectCodes::default());
    }
}
