//! The current snapshot, swapped atomically after each commit.

use std::sync::{Arc, Mutex, PoisonError, RwLock};

use crate::{CheckIndex, IndexItem};

/// Holds the current [`CheckIndex`] and replaces it as a whole (DESIGN.md §7: keep the read index
/// immutable and swap in a new snapshot atomically).
///
/// Readers take [`SharedIndex::snapshot`] — an `Arc` clone under a read lock held for nanoseconds —
/// and answer from it for as long as they like; a check therefore sees one consistent version even
/// while commits go on. Writers are serialised by their own mutex and build the next snapshot
/// *outside* the swap lock, so the write lock is held only for a pointer swap; the replaced snapshot
/// is freed after the lock is released (or later, by the last reader still holding it).
#[derive(Debug)]
pub struct SharedIndex {
    current: RwLock<Arc<CheckIndex>>,
    writer: Mutex<()>,
}

impl SharedIndex {
    pub fn new(index: CheckIndex) -> Self {
        SharedIndex {
            current: RwLock::new(Arc::new(index)),
            writer: Mutex::new(()),
        }
    }

    /// The current snapshot. Hold it for one request; its `version()` names the data that answered.
    pub fn snapshot(&self) -> Arc<CheckIndex> {
        // A poisoned lock only means a writer panicked between two valid snapshots; the value inside
        // is always a complete snapshot, so reading on is safe.
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The version of the current snapshot.
    pub fn version(&self) -> u64 {
        self.snapshot().version()
    }

    /// Applies a committed batch: builds the next snapshot from the current one (copy-on-write, see
    /// the crate documentation) and swaps it in. Returns the new version; an empty batch changes
    /// nothing and returns the current version.
    pub fn apply(&self, changes: &[IndexItem]) -> u64 {
        let _writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let base = self.snapshot();
        if changes.is_empty() {
            return base.version();
        }
        let next = Arc::new(base.with_changes(changes));
        let version = next.version();
        self.swap(next);
        version
    }

    /// Replaces the whole index (e.g. after a full rebuild from the store). The caller chooses the
    /// new snapshot's version; it should exceed the current one.
    pub fn replace(&self, index: CheckIndex) {
        let _writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        self.swap(Arc::new(index));
    }

    fn swap(&self, next: Arc<CheckIndex>) {
        let old = {
            let mut cur = self.current.write().unwrap_or_else(PoisonError::into_inner);
            std::mem::replace(&mut *cur, next)
        };
        // Dropped here, outside the lock: freeing the shards no reader shares any more takes time.
        drop(old);
    }
}
