//! What a store's writer has already written about subjects, shared by both backends.
//!
//! A record of a subject seen before (three in four rows of a whole province's penalty file) then
//! costs no subject, person, code or identity statement whose effect is already in the database.
//! Each of those writes is idempotent once made — writing the same subject content again, the same
//! person link again, or a code or identity already held changes nothing — so skipping a write the
//! memo holds leaves the database exactly as executing it would, provided nothing else wrote in
//! between. Each backend has a change counter that tells when another writer committed (SQLite's
//! `PRAGMA data_version`, PostgreSQL's `write_epoch` row), and the memo then starts over, as it
//! does after any failed transaction.
//!
//! A memo that started on empty tables ([`WriteMemo::set_complete`]) knows every record key, subject,
//! person link and sealed number stored, so a key it does not hold is new: PostgreSQL then copies it
//! in plainly without first asking which of the batch's keys are stored, and asks for the stored
//! versions of only the record keys it wrote before.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use crate::plan::IdBuildHasher;

/// Most entries a memo holds (17 to 33 bytes each in its hash tables, which grow by doubling)
/// before it starts over. The 3.8 M-row penalty file of 1.05 M subjects fills about 3 M and the
/// SQLite import's resident memory was measured at 934–972 MiB; at 6 M entries (the bound until
/// 2026-12-07) the tables alone could take some 270 MiB, so a file of more subjects could pass 1 GiB.
pub(crate) const MEMO_MAX_ENTRIES: usize = 4_000_000;

/// Most record key hashes a complete memo holds (8 bytes each, in a table that grows by doubling:
/// at most about 150 MiB) before it starts over and the version probe asks the database again.
/// The 3.8 M-row penalty file holds 3.8 M.
pub(crate) const MEMO_MAX_RECORDS: usize = 8_000_000;

/// The memo's keys are XXH3 hashes already: its tables take their low 64 bits as the hash instead
/// of hashing them again with SipHash.
type Prehashed = BuildHasherDefault<LowBits>;

#[derive(Default)]
struct LowBits(u64);

impl Hasher for LowBits {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write_u128(&mut self, n: u128) {
        self.0 = n as u64;
    }
    /// Only `u128` keys are hashed here; any other bytes are still mixed in, never ignored.
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
}

/// What the memo knows of a subject or person link about to be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Known {
    /// Written before with this very content: the write would change nothing.
    Same,
    /// Stored (this writer wrote it) with other content: the write must merge.
    Stored,
    /// Not stored: the memo is complete and does not hold it.
    New,
    /// The memo cannot tell; the database must be asked.
    Unknown,
}

#[derive(Default)]
pub(crate) struct WriteMemo {
    /// The change counter the memo is valid for.
    version: Option<i64>,
    /// Whether the memo started on empty record, subject, person link and identity tables (see
    /// the module comment).
    complete: bool,
    /// Subject key → digest of the content last written for it (the upsert replaces the name, so
    /// only the latest content makes a repeat a no-op).
    subjects: HashMap<u128, u128, Prehashed>,
    /// Codes and identities written (each write only inserts once), and person links: the hash of
    /// (subject, role, name) with its two low bits replaced by which of the link's resident number
    /// and other identity document are stored (bits 1 and 2), since only a link that brings one of
    /// them missing so far changes anything, and once stored neither becomes empty again. (One set
    /// of 16-byte entries: a map to the bits would take 32 bytes an entry, 100 MiB more for a
    /// province's file.)
    written: HashSet<u128, Prehashed>,
    /// Key hashes of the records written, kept only while the memo is complete: a key hash not
    /// among them has no stored version.
    records: HashSet<i64, IdBuildHasher>,
    /// The bytes of the memo key being hashed.
    buf: Vec<u8>,
}

impl WriteMemo {
    /// A 128-bit hash of `parts`: XXH3, in place of two SipHash passes that took 3 % of a
    /// million-row import's CPU.
    fn hash(&mut self, parts: &[&[u8]]) -> u128 {
        self.buf.clear();
        for p in parts {
            // Length-prefixed, so that no two lists of parts give the same bytes.
            self.buf.extend_from_slice(&(p.len() as u64).to_le_bytes());
            self.buf.extend_from_slice(p);
        }
        xxhash_rust::xxh3::xxh3_128(&self.buf)
    }

    /// At the start of a write transaction, given the change counter as it stands (`observed`) and
    /// as this transaction leaves it once committed (`after`): forgets everything when another
    /// writer committed since the memo was last valid, or when it is full. Returns whether the memo
    /// is now empty, so that the caller may find the tables empty and call [`Self::set_complete`].
    pub fn sync(&mut self, observed: i64, after: i64) -> bool {
        let fresh = if self.version != Some(observed)
            || self.len() > MEMO_MAX_ENTRIES
            || self.records.len() > MEMO_MAX_RECORDS
        {
            self.clear();
            true
        } else {
            self.is_empty()
        };
        self.version = Some(after);
        fresh
    }

    /// Marks an empty memo as knowing every stored record, subject, person link and sealed number
    /// (the caller found those tables empty inside the transaction that will write them).
    pub fn set_complete(&mut self) {
        if self.is_empty() {
            self.complete = true;
        }
    }

    pub fn clear(&mut self) {
        self.version = None;
        self.complete = false;
        self.subjects = HashMap::default();
        self.written = HashSet::default();
        self.records = HashSet::default();
    }

    fn len(&self) -> usize {
        self.subjects.len() + self.written.len()
    }

    fn is_empty(&self) -> bool {
        self.len() == 0 && self.records.is_empty()
    }

    fn unknown(&self) -> Known {
        if self.complete {
            Known::New
        } else {
            Known::Unknown
        }
    }

    /// Of a batch's record key hashes, those whose stored versions the database must be asked for:
    /// all of them, unless the memo is complete, then only those it wrote before.
    pub fn records_to_probe(&self, hashes: &[i64]) -> Vec<i64> {
        if self.complete {
            hashes
                .iter()
                .copied()
                .filter(|h| self.records.contains(h))
                .collect()
        } else {
            hashes.to_vec()
        }
    }

    /// Notes the key hashes of records written (kept only while the memo is complete).
    pub fn records_written(&mut self, hashes: impl IntoIterator<Item = i64>) {
        if self.complete {
            self.records.extend(hashes);
        }
    }

    /// What the memo knows of subject `key` about to be written with `content`; records the write.
    pub fn subject(&mut self, key: &str, content: &[&[u8]]) -> Known {
        let c = self.hash(content);
        let k = self.hash(&[b"s", key.as_bytes()]);
        match self.subjects.insert(k, c) {
            Some(old) if old == c => Known::Same,
            Some(_) => Known::Stored,
            None => self.unknown(),
        }
    }

    /// What the memo knows of the person link (`subject`, `role`, `name`) about to be written with
    /// or without a resident number and another identity document; records the write.
    pub fn person(
        &mut self,
        subject: &str,
        role: &str,
        name: &str,
        resident: bool,
        other: bool,
    ) -> Known {
        let bits = u128::from(resident) | (u128::from(other) << 1);
        let base = self.hash(&[b"p", subject.as_bytes(), role.as_bytes(), name.as_bytes()]) & !3;
        let Some(held) = (0..4).find(|b| self.written.contains(&(base | b))) else {
            self.written.insert(base | bits);
            return self.unknown();
        };
        if held | bits == held {
            return Known::Same;
        }
        self.written.remove(&(base | held));
        self.written.insert(base | held | bits);
        Known::Stored
    }

    /// What the memo knows of the sealed number of person `key` about to be written (only the first
    /// sealed copy is kept, so a stored one is never rewritten); records the write.
    pub fn identity(&mut self, key: &str) -> Known {
        if self.seen(&[b"i", key.as_bytes()]) {
            Known::Same
        } else {
            self.unknown()
        }
    }

    /// Whether this insert-once write (code, identity) was made before; records it either way.
    pub fn seen(&mut self, parts: &[&[u8]]) -> bool {
        let h = self.hash(parts);
        !self.written.insert(h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_are_known_and_changes_merge() {
        let mut m = WriteMemo::default();
        assert!(m.sync(7, 7));
        assert_eq!(m.subject("U:1", &[b"a"]), Known::Unknown);
        assert_eq!(m.subject("U:1", &[b"a"]), Known::Same);
        assert_eq!(m.subject("U:1", &[b"b"]), Known::Stored);
        let link = |m: &mut WriteMemo, r, o| m.person("U:1", "lr", "x", r, o);
        assert_eq!(link(&mut m, false, false), Known::Unknown);
        assert_eq!(link(&mut m, false, false), Known::Same);
        // A resident number learnt later completes the link; once stored, leaving it out again
        // changes nothing, and neither does an identity the link already has.
        assert_eq!(link(&mut m, true, false), Known::Stored);
        assert_eq!(link(&mut m, false, false), Known::Same);
        assert_eq!(link(&mut m, true, false), Known::Same);
        assert_eq!(link(&mut m, false, true), Known::Stored);
        assert_eq!(link(&mut m, true, true), Known::Same);
        assert_eq!(m.person("U:1", "lr", "y", true, true), Known::Unknown);
        assert_eq!(m.len(), 3, "one entry a link, beside the code");
        assert!(!m.seen(&[b"c", b"code"]));
        assert!(m.seen(&[b"c", b"code"]));
        // Nothing else wrote: still valid.
        assert!(!m.sync(7, 7));
        assert_eq!(m.subject("U:1", &[b"b"]), Known::Same);
        // Another writer committed: start over.
        assert!(m.sync(8, 8));
        assert_eq!(m.subject("U:1", &[b"b"]), Known::Unknown);
    }

    #[test]
    fn a_complete_memo_knows_what_is_new_until_it_starts_over() {
        let mut m = WriteMemo::default();
        assert!(m.sync(0, 1));
        m.set_complete();
        assert_eq!(m.subject("U:1", &[b"a"]), Known::New);
        assert_eq!(m.person("U:1", "lr", "x", true, false), Known::New);
        // Its own commit moved the counter from 0 to 1; the next transaction sees 1.
        assert!(!m.sync(1, 2));
        assert_eq!(m.subject("U:2", &[b"a"]), Known::New);
        assert_eq!(m.subject("U:1", &[b"a"]), Known::Same);
        // Someone else wrote (counter 3, not 2): no longer complete.
        assert!(m.sync(3, 4));
        assert_eq!(m.subject("U:3", &[b"a"]), Known::Unknown);
        // Records: a complete memo asks only for what it wrote; another does not know.
        let mut m = WriteMemo::default();
        m.sync(0, 0);
        m.set_complete();
        m.records_written([5, 9]);
        assert_eq!(m.records_to_probe(&[1, 5, 7, 9]), [5, 9]);
        assert!(m.sync(3, 3));
        m.records_written([1]);
        assert_eq!(m.records_to_probe(&[1, 5]), [1, 5]);
        m.subject("U:3", &[b"a"]);
        // A memo that holds anything cannot become complete.
        m.set_complete();
        assert_eq!(m.subject("U:4", &[b"a"]), Known::Unknown);
    }
}
