//! The read path of credit checks (DESIGN.md §5): the in-memory check index, kept fresh from the
//! store, and the check log that stores every check with group commit before it is answered.
//!
//! - [`ReadPath::load`] builds the index from the store's index feed at start; [`ReadPath::refresh`]
//!   applies what was committed since (after each submission through this server, and on a timer for
//!   writes by other processes on the same database: `creditloop import`, another server).
//! - [`CheckLog`] is one writer thread: callers hand it a check and wait; it stores everything that is
//!   waiting in one transaction (one fsync for many checks), then answers each caller. A check is
//!   answered only once it is durable, and logging does not cost one fsync per check.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use creditloop_index::{CheckIndex, IndexBuilder, IndexItem, SharedIndex};
use creditloop_store::{IndexFeed, Store, StoreError, StoredCheck};

/// The check index and the store cursor it is fresh up to.
pub struct ReadPath {
    index: SharedIndex,
    /// Highest record id applied; refreshes are serialised by this lock.
    cursor: Mutex<i64>,
}

fn items(feed: IndexFeed, out: &mut Vec<IndexItem>) {
    match feed {
        IndexFeed::Record {
            subject,
            subject_name,
            record,
            version,
            previous_subject,
        } => {
            if let Some(previous) = previous_subject {
                out.push(IndexItem::Retract {
                    subject: previous,
                    key: record.key.clone(),
                    version: version - 1,
                });
            }
            out.push(IndexItem::Record {
                subject,
                subject_name,
                record,
                version,
            });
        }
        IndexFeed::Person {
            subject,
            role,
            person,
        } => out.push(IndexItem::Person {
            subject,
            role,
            person,
        }),
        IndexFeed::Code { code, subject } => out.push(IndexItem::Code { code, subject }),
    }
}

impl ReadPath {
    /// Builds the index from everything the store holds.
    pub fn load(store: &dyn Store) -> Result<Self, StoreError> {
        let mut builder = IndexBuilder::new();
        let mut buf = Vec::with_capacity(2);
        let cursor = store.index_feed(0, &mut |f| {
            items(f, &mut buf);
            builder.extend(buf.drain(..));
        })?;
        // The snapshot's version starts at the store cursor, so versions grow across restarts.
        let index = builder.with_version(cursor.max(0) as u64).build();
        Ok(ReadPath {
            index: SharedIndex::new(index),
            cursor: Mutex::new(cursor),
        })
    }

    /// A read path over an index built elsewhere (e.g. synthetic data for benchmarks), fresh up to
    /// the store's record `cursor`.
    pub fn from_index(index: CheckIndex, cursor: i64) -> Self {
        ReadPath {
            index: SharedIndex::new(index),
            cursor: Mutex::new(cursor),
        }
    }

    /// The current snapshot: answer one request from it.
    pub fn snapshot(&self) -> Arc<CheckIndex> {
        self.index.snapshot()
    }

    /// Applies what the store committed since the last refresh; returns the number of items applied.
    pub fn refresh(&self, store: &dyn Store) -> Result<usize, StoreError> {
        let mut cursor = self.cursor.lock().unwrap_or_else(PoisonError::into_inner);
        let mut changes = Vec::new();
        let next = store.index_feed(*cursor, &mut |f| items(f, &mut changes))?;
        if !changes.is_empty() {
            self.index.apply(&changes);
        }
        *cursor = next;
        Ok(changes.len())
    }

    /// Refreshes on a timer, for writes made by other processes; stops when the store is dropped.
    pub fn spawn_refresher(self: &Arc<Self>, store: Arc<dyn Store>, every: Duration) {
        let me = Arc::downgrade(self);
        let store = Arc::downgrade(&store);
        std::thread::Builder::new()
            .name("index-refresh".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(every);
                    let (Some(me), Some(store)) = (me.upgrade(), store.upgrade()) else {
                        return;
                    };
                    if let Err(e) = me.refresh(&*store) {
                        tracing::warn!(error = %e, "index refresh failed; retrying");
                    }
                }
            })
            .ok();
    }
}

type Reply = tokio::sync::oneshot::Sender<Result<(), String>>;

/// What the writer is handed.
enum Job {
    /// Single checks: grouped with whatever else is queued into one transaction.
    Checks(Vec<StoredCheck>),
    /// A group of a batch check's rows: stored as chunks, in a transaction of its own.
    Batch(Vec<StoredCheck>),
}

/// Stores checks with group commit. Cloning shares the one writer.
#[derive(Clone)]
pub struct CheckLog {
    tx: Sender<(Job, Reply)>,
}

/// Most checks stored in one transaction.
const GROUP_MAX: usize = 8192;

impl CheckLog {
    pub fn start(store: Arc<dyn Store>) -> Self {
        let (tx, rx) = channel::<(Job, Reply)>();
        std::thread::Builder::new()
            .name("check-log".into())
            .spawn(move || writer(&*store, rx))
            .ok();
        CheckLog { tx }
    }

    /// Stores the checks; resolves when they are durable.
    pub async fn append(&self, checks: Vec<StoredCheck>) -> Result<(), String> {
        let (reply, wait) = tokio::sync::oneshot::channel();
        self.tx
            .send((Job::Checks(checks), reply))
            .map_err(|_| "the check log writer has stopped".to_string())?;
        wait.await
            .map_err(|_| "the check log writer has stopped".to_string())?
    }

    /// Hands a group of a batch check's rows (each under its [`creditloop_store::batch_receipt`])
    /// to the writer without waiting: the batch goes on computing while the writer stores; wait on
    /// every handle with [`Pending::wait`] before reporting success.
    pub fn submit(&self, rows: Vec<StoredCheck>) -> Result<Pending, String> {
        let (reply, wait) = tokio::sync::oneshot::channel();
        self.tx
            .send((Job::Batch(rows), reply))
            .map_err(|_| "the check log writer has stopped".to_string())?;
        Ok(Pending(wait))
    }
}

/// Checks handed to the writer, not yet known to be durable.
pub struct Pending(tokio::sync::oneshot::Receiver<Result<(), String>>);

impl Pending {
    /// Blocks until the checks are durable (not on an async thread).
    pub fn wait(self) -> Result<(), String> {
        self.0
            .blocking_recv()
            .map_err(|_| "the check log writer has stopped".to_string())?
    }
}

fn writer(store: &dyn Store, rx: Receiver<(Job, Reply)>) {
    // A batch group met while gathering single checks, stored next.
    let mut held: Option<(Job, Reply)> = None;
    loop {
        let (job, reply) = match held.take() {
            Some(next) => next,
            None => match rx.recv() {
                Ok(next) => next,
                Err(_) => return,
            },
        };
        let first = match job {
            Job::Batch(rows) => {
                let result = store.write_batch_checks(&rows).map_err(|e| e.to_string());
                if let Err(e) = &result {
                    tracing::error!(error = %e, rows = rows.len(), "storing batch rows failed");
                }
                let _ = reply.send(result);
                continue;
            }
            Job::Checks(checks) => (checks, reply),
        };
        // Everything that queued while the previous group was being written goes in this one.
        let mut n = first.0.len();
        let mut group = vec![first];
        while n < GROUP_MAX {
            match rx.try_recv() {
                Ok((Job::Checks(more), reply)) => {
                    n += more.len();
                    group.push((more, reply));
                }
                Ok(batch) => {
                    held = Some(batch);
                    break;
                }
                Err(_) => break,
            }
        }
        let mut all = Vec::with_capacity(n);
        let mut replies = Vec::with_capacity(group.len());
        for (checks, reply) in group {
            all.extend(checks);
            replies.push(reply);
        }
        let result = store.write_checks(&all).map_err(|e| e.to_string());
        if let Err(e) = &result {
            tracing::error!(error = %e, checks = all.len(), "storing checks failed");
        }
        for r in replies {
            let _ = r.send(result.clone());
        }
    }
}
