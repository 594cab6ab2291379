//! 归集流水线 (the import pipeline): rows are read and validated on the calling thread and written by
//! a second thread, batch by batch, each batch in one transaction of the store (a bulk load groups
//! several whole batches in one transaction, [`BULK_GROUP_ROWS`]). A bounded channel of
//! depth 2 keeps at most about three batches in memory; an acknowledged batch is durable.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::time::{Duration, Instant};

use chrono::Utc;
use creditloop_domain::intake::{AcceptedRow, IntakeCounts, RejectedRow, RowError};
use creditloop_store::{Batch, BatchOutcome, Store};
use serde::Serialize;

use crate::error::IngestError;
use crate::fields::Layout;
use crate::read::{RawRowResult, ReadError};
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
    mut rejects: Option<&mut dyn RejectSink>,
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

        let mut accepted: Vec<AcceptedRow> = Vec::new();
        let mut rejected: Vec<RejectedRow> = Vec::new();
        let mut layout: Option<Arc<Layout>> = None;
        let mut failure: Option<IngestError> = None;
        let mut writer_gone = false;

        let drain = |report: &mut ImportReport,
                     prog: &mut Progress,
                     progress: &mut dyn FnMut(Progress),
                     block: bool| {
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
        };

        for item in source {
            let rej = match item {
                Ok(raw) => {
                    prog.rows_read += 1;
                    let l = match &layout {
                        Some(l) if l.matches(&raw.fields) => Arc::clone(l),
                        _ => {
                            let (l, _) = validator.layout_for(&raw);
                            for u in l.unknown_columns() {
                                if !report.unknown_columns.contains(u) {
                                    report.unknown_columns.push(u.clone());
                                }
                            }
                            layout = Some(Arc::clone(&l));
                            l
                        }
                    };
                    let mut warnings = Vec::new();
                    let result = validator.check(&l, &raw, &mut warnings);
                    for w in warnings {
                        if report.warnings.len() < REPORT_LIMIT {
                            report.warnings.push(w);
                        }
                    }
                    match result {
                        Ok(a) => {
                            prog.valid += 1;
                            accepted.push(a);
                            None
                        }
                        Err(r) => Some(r),
                    }
                }
                Err(ReadError::Row(e)) => {
                    prog.rows_read += 1;
                    Some(RejectedRow::from(e))
                }
                Err(ReadError::Fatal(e)) => {
                    failure = Some(e);
                    break;
                }
            };
            if let Some(mut r) = rej {
                prog.rejected += 1;
                // The rejects file is the submitter's copy for correcting and submitting again, so
                // it keeps the row as read; what is stored and reported is masked.
                if let Some(sink) = rejects.as_deref_mut()
                    && let Err(e) = sink.reject(&r)
                {
                    failure = Some(e);
                    break;
                }
                mask_rejected(&mut r);
                if report.first_rejects.len() < REPORT_LIMIT {
                    report.first_rejects.push(r.clone());
                }
                rejected.push(r);
            }
            if accepted.len() + rejected.len() >= batch_size {
                let batch = ids.batch(opts, &mut accepted, &mut rejected);
                if tx.send(batch).is_err() {
                    writer_gone = true;
                    break;
                }
                progress(prog);
                drain(&mut report, &mut prog, progress, false);
            }
        }

        if failure.is_none() && !writer_gone {
            if opts.all_or_nothing && !rejected.is_empty() {
                report.stored = false;
                report.warnings.push(RowError {
                    row: 0,
                    field: String::new(),
                    value: String::new(),
                    rule: "all_or_nothing".into(),
                    reason_zh: format!(
                        "整批导入：有{}行未通过校验，未入库任何记录（未通过的行已保存以便更正）",
                        rejected.len()
                    ),
                    reason_en: format!(
                        "all or nothing: {} row(s) were rejected, so no record was stored (the rejected rows were kept for correction)",
                        rejected.len()
                    ),
                });
                accepted.clear();
            }
            if !accepted.is_empty() || !rejected.is_empty() {
                let batch = ids.batch(opts, &mut accepted, &mut rejected);
                if tx.send(batch).is_err() {
                    writer_gone = true;
                }
            }
        }
        drop(tx);
        drain(&mut report, &mut prog, progress, true);
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
        }
    }
}
