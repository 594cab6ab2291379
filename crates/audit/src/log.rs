//! The audit log handle: a group-commit appender, signed tree heads, proofs and reads.
//!
//! Why group commit: every check (查询) of the hot path must be logged, durably, before it is
//! answered, and an fsync per entry would cap the platform at a few hundred checks per second.
//! One background writer takes everything waiting in its channel, writes it in ONE transaction
//! (one fsync), and only then wakes each caller with its `seq`. Nothing is dropped under load: a
//! caller waits (back-pressure) or gets an error, never silence.
//!
//! The writer keeps the leaf hashes in memory (32 bytes an entry) and the compact frontier of the
//! tree, so tree heads and proofs never reread the log; on open it loads the leaf hashes once.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::Duration;

use chrono::Utc;

use crate::entry::{AuditEntry, NewEntry, StoredEntry};
use crate::merkle::{self, Frontier, Hash, HashAlgorithm};
use crate::sign::{Signer, TreeHead};
use crate::store::{AuditStore, RawRow, log_algorithm, open_store};
use crate::{Error, Result, parse_hash};

/// How to open a log.
#[derive(Clone)]
pub struct LogOptions {
    /// Hash function for a new log; must match an existing one.
    pub hash: HashAlgorithm,
    /// Key that signs tree heads; without one, [`AuditLog::publish_head`] fails.
    pub signer: Option<Arc<dyn Signer>>,
    /// Most entries written in one transaction.
    pub max_batch: usize,
}

impl Default for LogOptions {
    fn default() -> Self {
        LogOptions {
            hash: HashAlgorithm::Sha256,
            signer: None,
            max_batch: 4096,
        }
    }
}

impl LogOptions {
    /// Options with a signer.
    pub fn with_signer(signer: Arc<dyn Signer>) -> Self {
        LogOptions {
            signer: Some(signer),
            ..Self::default()
        }
    }
}

/// A durable append: the entry's position and leaf hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Appended {
    /// The `seq` given to the entry.
    pub seq: u64,
    /// Hex leaf hash.
    pub leaf_hash: String,
}

/// Counters of the writer, for monitoring and for proving that group commit batches.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WriterStats {
    /// Entries this handle appended.
    pub entries: u64,
    /// Transactions it committed for them.
    pub commits: u64,
    /// Tree heads it published.
    pub heads: u64,
}

type Reply = Box<dyn FnOnce(Result<Appended>) + Send>;

enum Request {
    Append(Box<NewEntry>, Reply),
    PublishHead(mpsc::Sender<Result<TreeHead>>),
    Shutdown,
}

struct Shared {
    alg: HashAlgorithm,
    leaves: RwLock<Vec<Hash>>,
    entries: AtomicU64,
    commits: AtomicU64,
    heads: AtomicU64,
    last_head_size: AtomicU64,
}

/// An append waiting for its commit. [`PendingAppend::wait`] blocks; an async server can call
/// it from `spawn_blocking`, or use [`AuditLog::submit_with`] to complete a oneshot of its own.
pub struct PendingAppend {
    rx: mpsc::Receiver<Result<Appended>>,
}

impl PendingAppend {
    /// Blocks until the entry is durable (or failed).
    pub fn wait(self) -> Result<Appended> {
        self.rx.recv().map_err(|_| Error::Closed)?
    }
}

/// Proof that the entry `seq` is in the tree of the first `tree_size` entries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InclusionProof {
    /// The log's hash function.
    pub hash_algorithm: HashAlgorithm,
    /// The entry.
    pub seq: u64,
    /// The tree size proved against (compare with a signed head of that size).
    pub tree_size: u64,
    /// Hex leaf hash of the entry.
    pub leaf_hash: String,
    /// Hex root of the tree of `tree_size` entries.
    pub root: String,
    /// Hex audit path, leaf to root (RFC 6962 `PATH`).
    pub path: Vec<String>,
}

impl InclusionProof {
    /// Checks the path against `root` (RFC 9162 §2.1.3.2). Check `root` against a signed head.
    pub fn verify(&self) -> bool {
        let (Some(leaf), Some(root)) = (parse_hash(&self.leaf_hash), parse_hash(&self.root)) else {
            return false;
        };
        let Some(path) = self
            .path
            .iter()
            .map(|h| parse_hash(h))
            .collect::<Option<Vec<_>>>()
        else {
            return false;
        };
        self.seq >= 1
            && merkle::verify_inclusion(
                self.hash_algorithm,
                &leaf,
                self.seq - 1,
                self.tree_size,
                &path,
                &root,
            )
    }
}

/// Proof that the tree of `first` entries is a prefix of the tree of `second` entries: nothing
/// in the first was changed or removed when the log grew.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsistencyProof {
    /// The log's hash function.
    pub hash_algorithm: HashAlgorithm,
    /// The older size.
    pub first: u64,
    /// The newer size.
    pub second: u64,
    /// Hex root at `first`.
    pub first_root: String,
    /// Hex root at `second`.
    pub second_root: String,
    /// Hex proof nodes (RFC 6962 `PROOF`).
    pub path: Vec<String>,
}

impl ConsistencyProof {
    /// Checks the proof (RFC 9162 §2.1.4.2).
    pub fn verify(&self) -> bool {
        let (Some(a), Some(b)) = (parse_hash(&self.first_root), parse_hash(&self.second_root))
        else {
            return false;
        };
        let Some(path) = self
            .path
            .iter()
            .map(|h| parse_hash(h))
            .collect::<Option<Vec<_>>>()
        else {
            return false;
        };
        merkle::verify_consistency(self.hash_algorithm, self.first, self.second, &a, &b, &path)
    }
}

/// The open audit log. `Send + Sync`: share it in an `Arc` between request handlers.
pub struct AuditLog {
    tx: mpsc::Sender<Request>,
    shared: Arc<Shared>,
    reader: Mutex<Box<dyn AuditStore>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    url: String,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog")
            .field("url", &self.url)
            .field("size", &self.size())
            .finish()
    }
}

/// The chain value before the first entry.
pub(crate) const CHAIN_START: Hash = [0u8; 32];

/// `chain_i = H(chain_{i-1} || leaf_i)`: a second, linear commitment besides the tree. It lets a
/// verifier name the exact entry where a rewrite starts even when the attacker recomputed leaf
/// hashes (the signed heads then say that something in a range changed, the chain says where).
pub(crate) fn chain_next(alg: HashAlgorithm, prev: &Hash, leaf: &Hash) -> Hash {
    alg.digest(&[prev, leaf])
}

impl AuditLog {
    /// Opens (creating if needed) the log in the database at `url` and starts its writer thread.
    pub fn open(url: &str, options: LogOptions) -> Result<AuditLog> {
        let mut store = open_store(url)?;
        let alg = log_algorithm(store.as_mut(), options.hash)?;
        let reader = open_store(url)?;
        let shared = Arc::new(Shared {
            alg,
            leaves: RwLock::new(Vec::new()),
            entries: AtomicU64::new(0),
            commits: AtomicU64::new(0),
            heads: AtomicU64::new(0),
            last_head_size: AtomicU64::new(0),
        });
        let mut writer = Writer {
            url: url.to_string(),
            store,
            shared: shared.clone(),
            frontier: Frontier::new(),
            last_seq: 0,
            last_chain: CHAIN_START,
            signer: options.signer,
        };
        writer.catch_up()?;
        let (tx, rx) = mpsc::channel();
        let max_batch = options.max_batch.max(1);
        let handle = std::thread::Builder::new()
            .name("audit-writer".into())
            .spawn(move || writer.run(rx, max_batch))
            .map_err(|e| Error::Writer(format!("cannot start the audit writer thread: {e}")))?;
        Ok(AuditLog {
            tx,
            shared,
            reader: Mutex::new(reader),
            writer: Mutex::new(Some(handle)),
            url: url.to_string(),
        })
    }

    /// The log's hash function.
    pub fn hash_algorithm(&self) -> HashAlgorithm {
        self.shared.alg
    }

    /// Appends an entry and blocks until it is durable.
    pub fn append(&self, entry: NewEntry) -> Result<Appended> {
        self.submit(entry).wait()
    }

    /// Queues an entry; the returned handle waits for its commit.
    pub fn submit(&self, entry: NewEntry) -> PendingAppend {
        let (tx, rx) = mpsc::channel();
        self.submit_with(entry, move |r| {
            let _ = tx.send(r);
        });
        PendingAppend { rx }
    }

    /// Queues an entry and calls `done` from the writer thread once it is durable (or failed).
    /// `done` must be quick (e.g. complete a `tokio::sync::oneshot`): the writer waits for it.
    pub fn submit_with(
        &self,
        entry: NewEntry,
        done: impl FnOnce(Result<Appended>) + Send + 'static,
    ) {
        if let Err(mpsc::SendError(Request::Append(_, reply))) = self
            .tx
            .send(Request::Append(Box::new(entry), Box::new(done)))
        {
            reply(Err(Error::Closed));
        }
    }

    /// Signs and stores a tree head over everything committed so far.
    pub fn publish_head(&self) -> Result<TreeHead> {
        publish_via(&self.tx)
    }

    /// Starts a thread that publishes a head every `interval` when the log has grown. Dropping
    /// (or [`HeadPublisher::stop`]ping) the handle stops it.
    pub fn spawn_head_publisher(&self, interval: Duration) -> Result<HeadPublisher> {
        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        let tx = self.tx.clone();
        let shared = self.shared.clone();
        let handle = std::thread::Builder::new()
            .name("audit-heads".into())
            .spawn(move || {
                // Runs until stopped (a message) or the handle is dropped (disconnected).
                while let Err(RecvTimeoutError::Timeout) = stop_rx.recv_timeout(interval) {
                    let size = shared.leaves.read().map(|l| l.len() as u64).unwrap_or(0);
                    if size > shared.last_head_size.load(Ordering::Acquire) {
                        // A failure is retried at the next tick; the log itself is intact.
                        let _ = publish_via(&tx);
                    }
                }
            })
            .map_err(|e| Error::Writer(format!("cannot start the head publisher: {e}")))?;
        Ok(HeadPublisher {
            stop: Some(stop_tx),
            handle: Some(handle),
        })
    }

    /// Number of entries known to this handle (committed).
    pub fn size(&self) -> u64 {
        self.shared
            .leaves
            .read()
            .map(|l| l.len() as u64)
            .unwrap_or(0)
    }

    /// The current Merkle root.
    pub fn root(&self) -> Result<String> {
        let leaves = self.leaves(self.size())?;
        Ok(hex::encode(merkle::root(self.shared.alg, &leaves)))
    }

    /// Writer counters.
    pub fn stats(&self) -> WriterStats {
        WriterStats {
            entries: self.shared.entries.load(Ordering::Acquire),
            commits: self.shared.commits.load(Ordering::Acquire),
            heads: self.shared.heads.load(Ordering::Acquire),
        }
    }

    fn leaves(&self, n: u64) -> Result<Vec<Hash>> {
        let guard = self
            .shared
            .leaves
            .read()
            .map_err(|_| Error::Writer("leaf list lock poisoned".into()))?;
        if n > guard.len() as u64 {
            return Err(Error::Invalid(format!(
                "tree size {n} is beyond the log ({} entries)",
                guard.len()
            )));
        }
        // Copied out so that hashing does not hold up the writer.
        Ok(guard[..n as usize].to_vec())
    }

    /// Inclusion proof of entry `seq` in the tree of the first `tree_size` entries.
    pub fn inclusion_proof(&self, seq: u64, tree_size: u64) -> Result<InclusionProof> {
        if seq == 0 || seq > tree_size {
            return Err(Error::Invalid(format!(
                "entry {seq} is not in a tree of size {tree_size}"
            )));
        }
        let leaves = self.leaves(tree_size)?;
        let alg = self.shared.alg;
        let path = merkle::inclusion_proof(alg, &leaves, seq - 1)
            .map_err(|e| Error::Invalid(e.to_string()))?;
        Ok(InclusionProof {
            hash_algorithm: alg,
            seq,
            tree_size,
            leaf_hash: hex::encode(leaves[(seq - 1) as usize]),
            root: hex::encode(merkle::root(alg, &leaves)),
            path: path.iter().map(hex::encode).collect(),
        })
    }

    /// Consistency proof between the trees of the first `m` and the first `n` entries.
    pub fn consistency_proof(&self, m: u64, n: u64) -> Result<ConsistencyProof> {
        if m > n {
            return Err(Error::Invalid(format!(
                "no consistency proof from {m} back to {n}"
            )));
        }
        let leaves = self.leaves(n)?;
        let alg = self.shared.alg;
        let path = merkle::consistency_proof(alg, &leaves, m)
            .map_err(|e| Error::Invalid(e.to_string()))?;
        Ok(ConsistencyProof {
            hash_algorithm: alg,
            first: m,
            second: n,
            first_root: hex::encode(merkle::root(alg, &leaves[..m as usize])),
            second_root: hex::encode(merkle::root(alg, &leaves)),
            path: path.iter().map(hex::encode).collect(),
        })
    }

    fn reader(&self) -> Result<std::sync::MutexGuard<'_, Box<dyn AuditStore>>> {
        self.reader
            .lock()
            .map_err(|_| Error::Writer("reader lock poisoned".into()))
    }

    /// The entry at `seq`.
    pub fn entry(&self, seq: u64) -> Result<Option<StoredEntry>> {
        let seq = i64::try_from(seq).map_err(|_| Error::Invalid("seq too large".into()))?;
        self.reader()?.row(seq)?.map(stored_entry).transpose()
    }

    /// Up to `limit` entries from `from` on.
    pub fn entries(&self, from: u64, limit: usize) -> Result<Vec<StoredEntry>> {
        let from = i64::try_from(from).map_err(|_| Error::Invalid("seq too large".into()))?;
        self.reader()?
            .rows(from, limit)?
            .into_iter()
            .map(stored_entry)
            .collect()
    }

    /// Every stored tree head, by size.
    pub fn heads(&self) -> Result<Vec<TreeHead>> {
        self.reader()?.heads()
    }

    /// The largest (latest) stored tree head.
    pub fn latest_head(&self) -> Result<Option<TreeHead>> {
        Ok(self
            .heads()?
            .into_iter()
            .max_by(|a, b| (a.size, a.at).cmp(&(b.size, b.at))))
    }

    /// Flushes every queued entry and stops the writer.
    pub fn close(self) -> Result<()> {
        self.shutdown()
    }

    fn shutdown(&self) -> Result<()> {
        let _ = self.tx.send(Request::Shutdown);
        let handle = self
            .writer
            .lock()
            .map_err(|_| Error::Writer("writer handle lock poisoned".into()))?
            .take();
        if let Some(h) = handle {
            h.join()
                .map_err(|_| Error::Writer("the audit writer thread panicked".into()))?;
        }
        Ok(())
    }
}

impl Drop for AuditLog {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}

fn publish_via(tx: &mpsc::Sender<Request>) -> Result<TreeHead> {
    let (rtx, rrx) = mpsc::channel();
    tx.send(Request::PublishHead(rtx))
        .map_err(|_| Error::Closed)?;
    rrx.recv().map_err(|_| Error::Closed)?
}

/// Parses a stored row into a [`StoredEntry`].
pub(crate) fn stored_entry(row: RawRow) -> Result<StoredEntry> {
    let entry: AuditEntry = serde_json::from_str(&row.entry)
        .map_err(|e| Error::Corrupt(format!("entry {} does not parse: {e}", row.seq)))?;
    Ok(StoredEntry {
        entry,
        leaf_hash: row.leaf_hash,
        chain_hash: row.chain_hash,
    })
}

/// The periodic head publisher started by [`AuditLog::spawn_head_publisher`].
pub struct HeadPublisher {
    stop: Option<mpsc::Sender<()>>,
    handle: Option<JoinHandle<()>>,
}

impl HeadPublisher {
    /// Stops the thread and waits for it.
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

impl Drop for HeadPublisher {
    fn drop(&mut self) {
        self.halt();
    }
}

/// The writer thread's state. It alone writes entries, so `seq`s and chain values are computed
/// here without locks; other processes appending to the same tables are caught up with inside
/// each transaction.
struct Writer {
    url: String,
    store: Box<dyn AuditStore>,
    shared: Arc<Shared>,
    frontier: Frontier,
    last_seq: u64,
    last_chain: Hash,
    signer: Option<Arc<dyn Signer>>,
}

/// Attempts per batch before callers get the error (lock timeouts, a competing process, a
/// dropped PostgreSQL connection).
const ATTEMPTS: u32 = 4;

impl Writer {
    fn run(mut self, rx: mpsc::Receiver<Request>, max_batch: usize) {
        while let Ok(first) = rx.recv() {
            let mut appends: Vec<(NewEntry, Reply)> = Vec::new();
            let mut heads = Vec::new();
            let mut shutdown = false;
            let mut next = Some(first);
            while let Some(req) = next.take() {
                match req {
                    Request::Append(e, r) => appends.push((*e, r)),
                    Request::PublishHead(r) => heads.push(r),
                    Request::Shutdown => shutdown = true,
                }
                if appends.len() < max_batch {
                    next = rx.try_recv().ok();
                }
            }
            if shutdown {
                // Flush everything still queued before stopping: no entry is dropped.
                while let Ok(req) = rx.try_recv() {
                    match req {
                        Request::Append(e, r) => appends.push((*e, r)),
                        Request::PublishHead(r) => heads.push(r),
                        Request::Shutdown => {}
                    }
                }
            }
            for chunk in chunk_vec(appends, max_batch) {
                self.append_batch(chunk);
            }
            for h in heads {
                let _ = h.send(self.publish());
            }
            if shutdown {
                break;
            }
        }
    }

    fn append_batch(&mut self, batch: Vec<(NewEntry, Reply)>) {
        let (entries, replies): (Vec<NewEntry>, Vec<Reply>) = batch.into_iter().unzip();
        let mut result = Err(Error::Writer("not attempted".into()));
        for attempt in 0..ATTEMPTS {
            result = self.try_write(&entries);
            match &result {
                Ok(_) => break,
                Err(_) if attempt + 1 < ATTEMPTS => {
                    std::thread::sleep(Duration::from_millis(20 << attempt));
                    // A broken connection stays broken: open a fresh one.
                    if let Ok(s) = open_store(&self.url) {
                        self.store = s;
                    }
                }
                Err(_) => {}
            }
        }
        match result {
            Ok(written) => {
                self.shared.commits.fetch_add(1, Ordering::AcqRel);
                self.shared
                    .entries
                    .fetch_add(written.len() as u64, Ordering::AcqRel);
                for (reply, (seq, leaf)) in replies.into_iter().zip(written) {
                    reply(Ok(Appended {
                        seq,
                        leaf_hash: hex::encode(leaf),
                    }));
                }
            }
            Err(e) => {
                let msg = e.to_string();
                for reply in replies {
                    reply(Err(Error::Writer(msg.clone())));
                }
            }
        }
    }

    /// One transaction: catch up with other writers, append, commit; then update memory.
    fn try_write(&mut self, entries: &[NewEntry]) -> Result<Vec<(u64, Hash)>> {
        self.store.begin()?;
        let rows = match self.build_and_insert(entries) {
            Ok(rows) => rows,
            Err(e) => {
                self.store.rollback();
                return Err(e);
            }
        };
        if let Err(e) = self.store.commit() {
            self.store.rollback();
            return Err(e);
        }
        let mut out = Vec::with_capacity(rows.len());
        let mut leaves = self
            .shared
            .leaves
            .write()
            .map_err(|_| Error::Writer("leaf list lock poisoned".into()))?;
        for (seq, leaf, chain) in rows {
            self.frontier.push(self.shared.alg, leaf);
            leaves.push(leaf);
            self.last_seq = seq;
            self.last_chain = chain;
            out.push((seq, leaf));
        }
        Ok(out)
    }

    fn build_and_insert(&mut self, entries: &[NewEntry]) -> Result<Vec<(u64, Hash, Hash)>> {
        self.catch_up()?;
        let alg = self.shared.alg;
        let mut rows = Vec::with_capacity(entries.len());
        let mut meta = Vec::with_capacity(entries.len());
        let mut chain = self.last_chain;
        for (i, e) in entries.iter().enumerate() {
            let seq = self.last_seq + 1 + i as u64;
            let entry = e.clone().with_seq(seq);
            let bytes = entry.canonical_bytes();
            let leaf = alg.leaf_hash(&bytes);
            chain = chain_next(alg, &chain, &leaf);
            rows.push(RawRow {
                seq: seq as i64,
                leaf_hash: hex::encode(leaf),
                chain_hash: hex::encode(chain),
                entry: String::from_utf8(bytes)
                    .map_err(|_| Error::Invalid("entry is not UTF-8".into()))?,
            });
            meta.push((seq, leaf, chain));
        }
        self.store.insert_entries(&rows)?;
        Ok(meta)
    }

    /// Loads entries that another connection appended since we last looked.
    fn catch_up(&mut self) -> Result<()> {
        let max = self.store.max_seq()?;
        if max <= self.last_seq {
            return Ok(());
        }
        let tail = self.store.hashes_from(self.last_seq + 1)?;
        let mut leaves = self
            .shared
            .leaves
            .write()
            .map_err(|_| Error::Writer("leaf list lock poisoned".into()))?;
        for (seq, leaf, chain) in tail {
            let bad = |what: &str| Error::Corrupt(format!("entry {seq}: bad {what} hash"));
            let leaf = parse_hash(&leaf).ok_or_else(|| bad("leaf"))?;
            let chain = parse_hash(&chain).ok_or_else(|| bad("chain"))?;
            self.frontier.push(self.shared.alg, leaf);
            leaves.push(leaf);
            self.last_seq = seq.max(0) as u64;
            self.last_chain = chain;
        }
        Ok(())
    }

    fn publish(&mut self) -> Result<TreeHead> {
        let signer = self.signer.clone().ok_or(Error::NoSigner)?;
        self.catch_up()?;
        let root = self.frontier.root(self.shared.alg);
        let head = TreeHead::sign(
            signer.as_ref(),
            self.shared.alg,
            self.frontier.size(),
            &root,
            Utc::now(),
        )?;
        self.store.insert_head(&head)?;
        self.shared.heads.fetch_add(1, Ordering::AcqRel);
        self.shared
            .last_head_size
            .store(head.size, Ordering::Release);
        Ok(head)
    }
}

fn chunk_vec<T>(v: Vec<T>, size: usize) -> Vec<Vec<T>> {
    if v.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut cur = Vec::with_capacity(size.min(v.len()));
    for x in v {
        cur.push(x);
        if cur.len() == size {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}
