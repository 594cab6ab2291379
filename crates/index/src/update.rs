//! Building a snapshot from a stream, and deriving a new snapshot from an old one plus a batch.
//!
//! Both paths feed items, in order, into a [`Pending`] per subject and freeze it with
//! [`Pending::finish`]; `apply` seeds the pending state with the subject's current entry. The rules
//! are therefore the same either way, which the property tests check: building at once equals building
//! a prefix and applying the rest.

use std::collections::HashMap;
use std::sync::Arc;

use creditloop_domain::ids;

use crate::compact::{NONE, Pending, Strings, hash_str, intern};
use crate::{CheckIndex, CodeRow, IndexItem, NameRow, SHARDS, Sharded, SubjectRow, shard_of};

/// Builds a [`CheckIndex`] from a stream of items (at start, from the store).
///
/// Memory: items are compacted as they arrive (interned strings, packed document numbers), so the
/// peak is about the final index plus vector slack, not the size of the item stream.
#[derive(Debug)]
pub struct IndexBuilder {
    pending: HashMap<Arc<str>, Pending>,
    /// first claim wins
    codes: HashMap<Box<str>, Arc<str>>,
    strings: Arc<Strings>,
    version: u64,
}

impl Default for IndexBuilder {
    fn default() -> Self {
        IndexBuilder::new()
    }
}

impl IndexBuilder {
    pub fn new() -> Self {
        IndexBuilder {
            pending: HashMap::new(),
            codes: HashMap::new(),
            strings: Arc::default(),
            version: 0,
        }
    }

    /// The version the built snapshot reports (e.g. the store's last batch sequence); 0 by default.
    pub fn with_version(mut self, version: u64) -> Self {
        self.version = version;
        self
    }

    /// The pending state of a subject, created when missing. (Looked up by `&str` first so that the
    /// 12 M records of a start-up build do not allocate a key each.)
    fn subject(&mut self, key: &str) -> Option<&mut Pending> {
        if !self.pending.contains_key(key) {
            self.pending.insert(Arc::from(key), Pending::new());
        }
        self.pending.get_mut(key)
    }

    /// Adds one item. Later items win over earlier ones by the rules of [`IndexItem`].
    pub fn push(&mut self, item: IndexItem) {
        match item {
            IndexItem::Record {
                subject,
                subject_name,
                record,
                version,
            } => {
                let mut strings = std::mem::take(&mut self.strings);
                if let Some(p) = self.subject(subject.as_str()) {
                    p.set_name(&subject_name);
                    p.push_record(&mut strings, &record, version);
                }
                self.strings = strings;
            }
            IndexItem::Retract {
                subject,
                key,
                version,
            } => {
                if let Some(p) = self.pending.get_mut(subject.as_str()) {
                    p.push_retract(&mut self.strings, &key, version);
                }
            }
            IndexItem::Person {
                subject,
                role,
                person,
            } => {
                if let Some(p) = self.subject(subject.as_str()) {
                    p.persons.push((role, Arc::from(person.0)));
                }
            }
            IndexItem::Code { code, subject } => {
                let code = ids::normalize(&code);
                if !code.is_empty() {
                    self.codes
                        .entry(code.into_boxed_str())
                        .or_insert_with(|| Arc::from(subject.0));
                }
            }
            IndexItem::Class { subject, class } => {
                let mut strings = std::mem::take(&mut self.strings);
                let id = class.as_deref().map_or(NONE, |c| intern(&mut strings, c));
                if let Some(p) = self.subject(subject.as_str()) {
                    p.class = id;
                }
                self.strings = strings;
            }
        }
    }

    /// Freezes the index.
    pub fn build(self) -> CheckIndex {
        let IndexBuilder {
            pending,
            codes,
            strings,
            version,
        } = self;
        let mut subjects: Vec<Vec<SubjectRow>> = vec![Vec::new(); SHARDS];
        let mut names: Vec<Vec<NameRow>> = vec![Vec::new(); SHARDS];
        let mut record_count = 0;
        let subject_count = pending.len();
        // `into_iter` frees each pending subject as it is frozen, keeping the peak low.
        for (key, p) in pending {
            let e = p.finish(key.clone(), &strings);
            record_count += e.live_records();
            if !e.name.is_empty() {
                let h = hash_str(&e.name);
                names[shard_of(h)].push((h, key.clone(), e.name.clone()));
            }
            let h = hash_str(&key);
            subjects[shard_of(h)].push((h, Arc::new(e)));
        }
        let mut code_shards: Vec<Vec<CodeRow>> = vec![Vec::new(); SHARDS];
        for (code, key) in codes {
            let h = hash_str(&code);
            code_shards[shard_of(h)].push((h, code, key));
        }
        CheckIndex {
            version,
            subjects: Sharded::from_rows(subjects),
            codes: Sharded::from_rows(code_shards),
            names: Sharded::from_rows(names),
            strings,
            subject_count,
            record_count,
        }
    }
}

impl Extend<IndexItem> for IndexBuilder {
    fn extend<T: IntoIterator<Item = IndexItem>>(&mut self, iter: T) {
        for item in iter {
            self.push(item);
        }
    }
}

impl CheckIndex {
    /// A new snapshot: this one with `changes` applied, at `version + 1`. This snapshot is unchanged;
    /// the two share every shard the changes do not touch.
    pub fn with_changes(&self, changes: &[IndexItem]) -> CheckIndex {
        let mut next = self.clone();
        next.version = self.version.saturating_add(1);
        let mut strings = self.strings.clone();
        let mut pending: HashMap<&str, Pending> = HashMap::new();

        for item in changes {
            match item {
                IndexItem::Record {
                    subject,
                    subject_name,
                    record,
                    version,
                } => {
                    if let Some(p) = self.pending_for(&mut pending, subject.as_str(), true) {
                        p.set_name(subject_name);
                        p.push_record(&mut strings, record, *version);
                    }
                }
                IndexItem::Retract {
                    subject,
                    key,
                    version,
                } => {
                    if let Some(p) = self.pending_for(&mut pending, subject.as_str(), false) {
                        p.push_retract(&mut strings, key, *version);
                    }
                }
                IndexItem::Person {
                    subject,
                    role,
                    person,
                } => {
                    if let Some(p) = self.pending_for(&mut pending, subject.as_str(), true) {
                        p.persons.push((*role, Arc::from(person.as_str())));
                    }
                }
                IndexItem::Class { subject, class } => {
                    let id = class.as_deref().map_or(NONE, |c| intern(&mut strings, c));
                    if let Some(p) = self.pending_for(&mut pending, subject.as_str(), true) {
                        p.class = id;
                    }
                }
                IndexItem::Code { code, subject } => {
                    let code = ids::normalize(code);
                    if code.is_empty() {
                        continue;
                    }
                    let h = hash_str(&code);
                    next.codes
                        .insert_new((h, code.into_boxed_str(), Arc::from(subject.as_str())));
                }
            }
        }

        for (key, p) in pending {
            let old = self.entry(key);
            let key_arc = old.map_or_else(|| Arc::from(key), |e| e.key.clone());
            let e = p.finish(key_arc.clone(), &strings);
            match old {
                Some(o) => {
                    next.record_count = next.record_count - o.live_records() + e.live_records();
                    if o.name != e.name {
                        next.unname(&o.name, &key_arc);
                        next.rename(&e.name, &key_arc);
                    }
                }
                None => {
                    next.subject_count += 1;
                    next.record_count += e.live_records();
                    next.rename(&e.name, &key_arc);
                }
            }
            next.subjects.upsert((hash_str(key), Arc::new(e)));
        }
        next.strings = strings;
        next
    }

    /// The pending update of a subject, seeded from its current entry. A subject the index does not
    /// know yet is created only when `create` (a retraction alone does not make a subject known).
    fn pending_for<'m, 'k>(
        &self,
        pending: &'m mut HashMap<&'k str, Pending>,
        key: &'k str,
        create: bool,
    ) -> Option<&'m mut Pending> {
        if !pending.contains_key(key) {
            let p = match self.entry(key) {
                Some(e) => Pending::from_entry(e),
                None if create => Pending::new(),
                None => return None,
            };
            pending.insert(key, p);
        }
        pending.get_mut(key)
    }

    fn unname(&mut self, name: &str, key: &Arc<str>) {
        if !name.is_empty() {
            self.names.remove(hash_str(name), key);
        }
    }

    fn rename(&mut self, name: &Arc<str>, key: &Arc<str>) {
        if !name.is_empty() {
            self.names
                .insert_new((hash_str(name), key.clone(), name.clone()));
        }
    }
}
