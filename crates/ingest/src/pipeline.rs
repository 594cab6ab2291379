//! 归集流水线 (the import pipeline): rows are read and validated on the calling thread in chunks,
//! encoded for storage (JSON, digest, compression) by encoder threads that live as long as the import
//! ([`ImportOptions::encoders`]), put back in the order they were read, and written by a writer
//! thread, batch by batch, each batch in one transaction of the store (a bulk load groups several
//! whole batches in one transaction, [`BULK_GROUP_ROWS`]). A bounded channel of depth 2 keeps at
//! most about three batches in memory, and a few chunks per encoder are out at a time; an
//! acknowledged batch is durable. An input of fewer rows than one chunk (an API call, a form) is
//! handled on the calling thread and the writer alone.

use std::collections::BTreeMap;
use std::sync::mpsc::{Receiver, SyncSender, channel, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use creditloop_domain::intake::{AcceptedRow, IntakeCounts, RejectedRow, RowError};
use creditloop_store::{Batch, BatchOutcome, EncodedRows, Store};
use serde::Serialize;

use crate::error::IngestError;
use crate::fields::Layout;
use crate::read::{RawRow, RawRowResult, ReadError};
use crate::rejects::RejectSink;
use crate::validate::{Validator, mask_rejected};

/// Settings of one import.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Rows (accepted and rejected) per batch: per transaction, and per acknowledgement. Default
    /// 20,000. A bulk load commits several whole batches per transaction ([`BULK_GROUP_ROWS`]).
    pub batch_size: usize,
    /// Store the file as one batch, and only if every row is valid: when any row is rejected, no
    /// record is stored (the rejected rows are, in a batch of their own, for correction).
    pub all_or_nothing: bool,
    /// The file name (or `api`).
    pub source_name: String,
    /// SHA-256 (hex) of the whole source ([`crate::digest::sha256_file`]).
    pub source_digest: String,
    /// The submitting agency, when known.
    pub agency: Option<String>,
    /// A whole file: let the store defer index upkeep until the end ([`Store::begin_bulk_load`])
    /// and commit several whole batches per transaction.
    pub bulk: bool,
    /// Rows per transaction of a bulk load (whole batches are grouped up to it, never split).
    /// Default [`BULK_GROUP_ROWS`].
    pub group_rows: usize,
    /// Threads that encode validated rows for the store (JSON, digest, compression) beside the one
    /// that reads and validates; `None`: one per core beyond two, at least one. With 0 the store
    /// encodes.
    pub encoders: Option<usize>,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            batch_size: 20_000,
            all_or_nothing: false,
            source_name: String::new(),
            source_digest: String::new(),
            agency: None,
            bulk: false,
            group_rows: BULK_GROUP_ROWS,
            encoders: None,
        }
    }
}

/// Progress of an import, reported after each batch is queued and after each is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Progress {
    /// Rows read so far (valid or not).
    pub rows_read: u64,
    /// Rows that passed validation so far.
    pub valid: u64,
    /// Rows rejected so far.
    pub rejected: u64,
    /// Batches committed by the store so far.
    pub batches_written: u64,
    /// What the committed batches did.
    pub written: IntakeCounts,
}

/// What an import did: the agency's report.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ImportReport {
    /// Accepted (new records and new versions), duplicates and late as the store counted them;
    /// rejected as validation did.
    pub counts: IntakeCounts,
    /// Ids of the committed batches, in order.
    pub batches: Vec<String>,
    /// Rows read (data rows, blank rows excluded).
    pub rows_read: u64,
    /// Column names creditloop does not know, once each.
    pub unknown_columns: Vec<String>,
    /// Warnings (codes accepted from the exception list, an all-or-nothing import refused …): the
    /// first 1000.
    pub warnings: Vec<RowError>,
    /// The first 1000 rejected rows, for display.
    pub first_rejects: Vec<RejectedRow>,
    /// Whether records were stored (false for an all-or-nothing import with rejected rows).
    pub stored: bool,
    pub elapsed: Duration,
}

/// Rows per transaction of a bulk load (whole batches are grouped, never split). Measured on a
/// 1 M-row penalty file into SQLite: 27.8 s with a transaction per 20,000-row batch, 24.8 s per
/// 100,000 rows, 23.1 s per 300,000 (BENCHMARKS.md). The stores also commit after about five
/// seconds of writing, so another writer waits at most that long.
pub const BULK_GROUP_ROWS: usize = 300_000;

/// How many rejected rows and warnings a report keeps.
pub const REPORT_LIMIT: usize = 1000;

/// Imports rows: validates each, writes accepted and rejected rows to the store in batches.
pub fn import(
    source: impl Iterator<Item = RawRowResult>,
    validator: &Validator,
    store: &dyn Store,
    opts: &ImportOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<ImportReport, IngestError> {
    import_with_rejects(source, validator, store, opts, None, progress)
}

/// [`import`], also writing every rejected row to `rejects` (a [`crate::RejectsWriter`]).
pub fn import_with_rejects(
    source: impl Iterator<Item = RawRowResult>,
    validator: &Validator,
    store: &dyn Store,
    opts: &ImportOptions,
    rejects: Option<&mut dyn RejectSink>,
    progress: &mut dyn FnMut(Progress),
) -> Result<ImportReport, IngestError> {
    let started = Instant::now();
    // A store error before any batch is committed.
    let store_error = |error| IngestError::Store {
        committed: Vec::new(),
        error,
    };
    // Refuse before writing anything when the store's persons were filed under another key.
    store
        .check_pii_key(&validator.config().pii.check_value())
        .map_err(store_error)?;
    let batch_size = if opts.all_or_nothing {
        usize::MAX
    } else {
        opts.batch_size.max(1)
    };
    let mut report = ImportReport {
        stored: true,
        ..ImportReport::default()
    };
    let mut prog = Progress::default();
    let ids = BatchIds::new(&opts.source_digest);
    if opts.bulk {
        store.begin_bulk_load().map_err(store_error)?;
    }

    let loaded = std::thread::scope(|scope| -> Result<(), IngestError> {
        let (tx, rx) = sync_channel::<Batch>(2);
        let (ack_tx, ack_rx) = sync_channel::<(String, BatchOutcome)>(1024);
        let group_rows = if opts.bulk { opts.group_rows } else { 1 };
        let writer = scope.spawn(move || write_batches(store, group_rows, rx, ack_tx));

        let mut asm = Assembly {
            opts,
            ids: &ids,
            batch_size,
            tx,
            accepted: Vec::new(),
            rejected: Vec::new(),
            encoded: EncodedRows::default(),
            report: &mut report,
            prog: &mut prog,
            rejects,
            progress,
            ack_rx: &ack_rx,
            failure: None,
            writer_gone: false,
        };
        let mut reader = ChunkReader {
            source: source.into_iter(),
            layout: None,
            exhausted: false,
            failure: None,
        };

        // The first chunk tells whether another thread pays off: a file of fewer rows (an API
        // call, a form) is checked on this thread alone and encoded by the store.
        let first = reader.next_chunk(validator, asm.report, asm.prog);
        let encoders = opts.encoders.unwrap_or_else(default_encoders);
        if reader.exhausted || encoders == 0 {
            let mut chunk = first;
            while !chunk.is_empty() && asm.running() {
                asm.take(check_chunk(validator, 0, chunk));
                chunk = if reader.exhausted {
                    Vec::new()
                } else {
                    reader.next_chunk(validator, asm.report, asm.prog)
                };
            }
        } else {
            // Rows are validated here and encoded (JSON, digest, compression) by encoder threads
            // that live as long as the import, so the store's writer only writes. Validation stays
            // on this thread: handing raw rows to another thread to validate was measured to cost
            // a quarter more CPU in all (every cell allocated here and freed there).
            let (work_tx, work_rx) = sync_channel::<Checked>(encoders * 2);
            let work_rx = Arc::new(Mutex::new(work_rx));
            let (done_tx, done_rx) = channel::<Checked>();
            for _ in 0..encoders {
                let (work_rx, done_tx) = (Arc::clone(&work_rx), done_tx.clone());
                scope.spawn(move || {
                    loop {
                        let next = work_rx.lock().map_or(None, |rx| rx.recv().ok());
                        let Some(mut chunk) = next else { break };
                        chunk.encoded = EncodedRows::encode(&chunk.accepted).ok();
                        if done_tx.send(chunk).is_err() {
                            break;
                        }
                    }
                });
            }
            drop(done_tx);
            let mut pending: BTreeMap<u64, Checked> = BTreeMap::new();
            let (mut sent, mut in_flight, mut next_out) = (0u64, 0usize, 0u64);
            let mut chunk = first;
            loop {
                // Keep the encoders busy, and memory bounded: a few chunks out per encoder.
                while !chunk.is_empty() && in_flight < encoders * IN_FLIGHT_PER_ENCODER {
                    let checked = check_chunk(validator, sent, std::mem::take(&mut chunk));
                    if work_tx.send(checked).is_err() {
                        break;
                    }
                    sent += 1;
                    in_flight += 1;
                    if !reader.exhausted && asm.running() {
                        chunk = reader.next_chunk(validator, asm.report, asm.prog);
                    }
                }
                if in_flight == 0 {
                    break;
                }
                let Ok(done) = done_rx.recv() else { break };
                in_flight -= 1;
                pending.insert(done.seq, done);
                // Chunks are taken in the order they were read, so batches and reports keep it.
                while let Some(done) = pending.remove(&next_out) {
                    next_out += 1;
                    if asm.running() {
                        asm.take(done);
                    }
                }
                if !asm.running() {
                    chunk.clear();
                }
            }
            drop(work_tx);
        }
        if asm.failure.is_none() {
            asm.failure = reader.failure.take();
        }

        if asm.running() {
            if opts.all_or_nothing && !asm.rejected.is_empty() {
                asm.report.stored = false;
                asm.report.warnings.push(RowError {
                    row: 0,
                    field: String::new(),
                    value: String::new(),
                    rule: "all_or_nothing".into(),
                    reason_zh: format!(
                        "整批导入：有{}行未通过校验，未入库任何记录（未通过的行已保存以便更正）",
                        asm.rejected.len()
                    ),
                    reason_en: format!(
                        "all or nothing: {} row(s) were rejected, so no record was stored (the rejected rows were kept for correction)",
                        asm.rejected.len()
                    ),
                });
                asm.accepted.clear();
                asm.encoded = EncodedRows::default();
            }
            if !asm.accepted.is_empty() || !asm.rejected.is_empty() {
                asm.send();
            }
        }
        let Assembly {
            tx,
            failure,
            writer_gone,
            ..
        } = asm;
        drop(tx);
        drain(&mut report, &mut prog, progress, &ack_rx, true);
        let written = writer.join().map_err(|_| IngestError::WriterStopped)?;
        if let Err(error) = written {
            return Err(IngestError::Store {
                committed: report.batches.clone(),
                error,
            });
        }
        if writer_gone {
            return Err(IngestError::WriterStopped);
        }
        if let Some(e) = failure {
            return Err(e);
        }
        Ok(())
    });
    // Also after a failure: the batches committed before it are served with their indexes.
    let rebuilt = if opts.bulk {
        store.end_bulk_load()
    } else {
        Ok(())
    };
    loaded?;
    rebuilt.map_err(|error| IngestError::Store {
        committed: report.batches.clone(),
        error,
    })?;

    report.counts = prog.written;
    report.counts.rejected = prog.rejected;
    report.rows_read = prog.rows_read;
    report.elapsed = started.elapsed();
    progress(prog);
    Ok(report)
}

/// The most rows a batch makes room for at once (a larger one, all or nothing, grows as it goes).
const BATCH_ROOM: usize = 1 << 16;

/// Rows validated, and then encoded, at a time.
const CHUNK_ROWS: usize = 512;

/// Chunks out per encoder thread: enough that none waits for the reader, few enough that memory
/// stays small (a chunk is about a megabyte of validated rows).
const IN_FLIGHT_PER_ENCODER: usize = 4;

/// Encoder threads by default: one per core beyond the two that read and write, at least one.
fn default_encoders() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get().saturating_sub(2))
        .clamp(1, 4)
}

/// A row as read: with the layout matched to its headers, or unreadable.
enum Item {
    Raw(Arc<Layout>, RawRow),
    Unreadable(RejectedRow),
}

/// A chunk validated here, its accepted rows then encoded for the store by an encoder thread.
struct Checked {
    seq: u64,
    /// In row order: `None` for the next accepted row, `Some` for a rejected one.
    order: Vec<Option<RejectedRow>>,
    accepted: Vec<AcceptedRow>,
    warnings: Vec<RowError>,
    /// `None` before encoding, or when encoding failed: the store then encodes (and reports the
    /// error) itself.
    encoded: Option<EncodedRows>,
}

/// Validates a chunk.
fn check_chunk(validator: &Validator, seq: u64, items: Vec<Item>) -> Checked {
    let mut out = Checked {
        seq,
        order: Vec::with_capacity(items.len()),
        accepted: Vec::with_capacity(items.len()),
        warnings: Vec::new(),
        encoded: None,
    };
    for item in items {
        match item {
            Item::Raw(layout, raw) => match validator.check(&layout, &raw, &mut out.warnings) {
                Ok(a) => {
                    out.order.push(None);
                    out.accepted.push(a);
                }
                Err(r) => out.order.push(Some(r)),
            },
            Item::Unreadable(r) => out.order.push(Some(r)),
        }
    }
    out
}

/// Reads chunks of rows from the source, matching each row to a layout.
struct ChunkReader<I> {
    source: I,
    layout: Option<Arc<Layout>>,
    exhausted: bool,
    /// A fatal read error: reading stops there; the rows before it are still written.
    failure: Option<IngestError>,
}

impl<I: Iterator<Item = RawRowResult>> ChunkReader<I> {
    fn next_chunk(
        &mut self,
        validator: &Validator,
        report: &mut ImportReport,
        prog: &mut Progress,
    ) -> Vec<Item> {
        let mut items = Vec::with_capacity(CHUNK_ROWS);
        while items.len() < CHUNK_ROWS {
            let Some(next) = self.source.next() else {
                self.exhausted = true;
                break;
            };
            match next {
                Ok(raw) => {
                    prog.rows_read += 1;
                    let l = match &self.layout {
                        Some(l) if l.matches(&raw.fields) => Arc::clone(l),
                        _ => {
                            let (l, _) = validator.layout_for(&raw);
                            for u in l.unknown_columns() {
                                if !report.unknown_columns.contains(u) {
                                    report.unknown_columns.push(u.clone());
                                }
                            }
                            self.layout = Some(Arc::clone(&l));
                            l
                        }
                    };
                    items.push(Item::Raw(l, raw));
                }
                Err(ReadError::Row(e)) => {
                    prog.rows_read += 1;
                    items.push(Item::Unreadable(RejectedRow::from(e)));
                }
                Err(ReadError::Fatal(e)) => {
                    self.failure = Some(e);
                    self.exhausted = true;
                    break;
                }
            }
        }
        items
    }
}

/// Puts validated chunks, in the order they were read, into batches for the writer; keeps the
/// report and writes the rejects file.
struct Assembly<'a, 'r> {
    opts: &'a ImportOptions,
    ids: &'a BatchIds,
    batch_size: usize,
    tx: SyncSender<Batch>,
    accepted: Vec<AcceptedRow>,
    rejected: Vec<RejectedRow>,
    /// The encodings of `accepted`, as far as every row had one: the batch carries them only when
    /// there is one per accepted row.
    encoded: EncodedRows,
    report: &'a mut ImportReport,
    prog: &'a mut Progress,
    rejects: Option<&'a mut (dyn RejectSink + 'r)>,
    progress: &'a mut dyn FnMut(Progress),
    ack_rx: &'a Receiver<(String, BatchOutcome)>,
    failure: Option<IngestError>,
    writer_gone: bool,
}

impl Assembly<'_, '_> {
    fn running(&self) -> bool {
        self.failure.is_none() && !self.writer_gone
    }

    fn take(&mut self, chunk: Checked) {
        let Checked {
            order,
            accepted,
            warnings,
            encoded,
            ..
        } = chunk;
        for w in warnings {
            if self.report.warnings.len() < REPORT_LIMIT {
                self.report.warnings.push(w);
            }
        }
        let mut encoded = encoded.filter(|e| e.len() == accepted.len());
        self.make_room(accepted.len());
        let mut accepted = accepted.into_iter().enumerate();
        for slot in order {
            match slot {
                None => {
                    let Some((j, a)) = accepted.next() else { break };
                    self.prog.valid += 1;
                    // A row without one leaves the batch's encodings short, so the store encodes.
                    if let Some(e) = encoded.as_mut()
                        && self.encoded.len() == self.accepted.len()
                    {
                        let _ = self.encoded.push_row(e, j);
                    }
                    self.accepted.push(a);
                }
                Some(mut r) => {
                    self.prog.rejected += 1;
                    // The rejects file is the submitter's copy for correcting and submitting
                    // again, so it keeps the row as read; what is stored and reported is masked.
                    if let Some(sink) = self.rejects.as_deref_mut()
                        && let Err(e) = sink.reject(&r)
                    {
                        self.failure = Some(e);
                        return;
                    }
                    mask_rejected(&mut r);
                    if self.report.first_rejects.len() < REPORT_LIMIT {
                        self.report.first_rejects.push(r.clone());
                    }
                    self.rejected.push(r);
                }
            }
            if self.accepted.len() + self.rejected.len() >= self.batch_size {
                self.send();
                if !self.running() {
                    return;
                }
                (self.progress)(*self.prog);
                drain(self.report, self.prog, self.progress, self.ack_rx, false);
            }
        }
    }

    /// Grows the batch being gathered at most twice: to the first chunk, then to a whole batch.
    /// Growing a vector of 700-byte rows by doubling copied each batch twice over and touched
    /// fresh pages at every step.
    fn make_room(&mut self, incoming: usize) {
        let (len, cap) = (self.accepted.len(), self.accepted.capacity());
        if len + incoming <= cap {
            return;
        }
        let want = if len == 0 {
            incoming
        } else {
            self.batch_size.min(BATCH_ROOM).max(len + incoming)
        };
        self.accepted.reserve_exact(want - len);
        if self.encoded.len() == len {
            self.encoded.reserve(want - len);
        }
    }

    /// Sends what has been gathered as one batch.
    fn send(&mut self) {
        let mut batch = self
            .ids
            .batch(self.opts, &mut self.accepted, &mut self.rejected);
        let encoded = std::mem::take(&mut self.encoded);
        if encoded.len() == batch.accepted.len() {
            batch.encoded = Some(encoded);
        }
        if self.tx.send(batch).is_err() {
            self.writer_gone = true;
        }
    }
}

/// Takes the writer's acknowledgements into the report; waits for all of them when `block`.
fn drain(
    report: &mut ImportReport,
    prog: &mut Progress,
    progress: &mut dyn FnMut(Progress),
    ack_rx: &Receiver<(String, BatchOutcome)>,
    block: bool,
) {
    loop {
        let next = if block {
            ack_rx.recv().ok()
        } else {
            ack_rx.try_recv().ok()
        };
        let Some((id, outcome)) = next else { break };
        report.batches.push(id);
        prog.batches_written += 1;
        prog.written.add(&outcome.counts);
        progress(*prog);
    }
}

fn write_batches(
    store: &dyn Store,
    group_rows: usize,
    rx: Receiver<Batch>,
    acks: SyncSender<(String, BatchOutcome)>,
) -> Result<(), creditloop_store::StoreError> {
    let mut next = |wait: bool| {
        if wait {
            rx.recv().ok()
        } else {
            rx.try_recv().ok()
        }
    };
    store.write_batches(group_rows, &mut next, &mut |id, outcome| {
        // The reader drains acknowledgements; if it has stopped listening, keep writing.
        let _ = acks.send((id, outcome));
    })
}

/// Batch ids: time, a short digest prefix and a sequence number, e.g.
/// `20260312T101500.123-3f2a9c1b-0001`.
struct BatchIds {
    prefix: String,
    next: std::cell::Cell<u32>,
}

impl BatchIds {
    fn new(digest: &str) -> Self {
        let now = Utc::now();
        let short: String = digest.chars().take(8).collect();
        let short = if short.is_empty() {
            format!("{:08x}", now.timestamp_subsec_nanos() ^ std::process::id())
        } else {
            short
        };
        BatchIds {
            prefix: format!("{}-{}", now.format("%Y%m%dT%H%M%S%.6f"), short),
            next: std::cell::Cell::new(1),
        }
    }

    fn batch(
        &self,
        opts: &ImportOptions,
        accepted: &mut Vec<AcceptedRow>,
        rejected: &mut Vec<RejectedRow>,
    ) -> Batch {
        let n = self.next.get();
        self.next.set(n + 1);
        Batch {
            id: format!("{}-{n:04}", self.prefix),
            source: opts.source_name.clone(),
            source_digest: opts.source_digest.clone(),
            agency: opts.agency.clone(),
            received_at: Utc::now(),
            accepted: std::mem::take(accepted),
            rejected: std::mem::take(rejected),
            encoded: None,
        }
    }
}
