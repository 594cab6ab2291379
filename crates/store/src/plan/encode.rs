//! Encoding of a batch's rows (stored body, digest, subject key) in pieces shared between the
//! writing thread and a helper thread, so that writing starts as soon as the first piece is ready
//! instead of after the whole batch is serialised. Either thread takes the next piece nobody has
//! taken; the writer, when it needs a piece not yet taken, encodes it itself. A batch may also
//! arrive encoded already ([`EncodedRows`], made by the caller's own threads): the writer then only
//! writes.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, OnceLock};

use sha2::{Digest, Sha256};

use creditloop_domain::intake::AcceptedRow;

use crate::StoreError;

/// Rows per piece: small enough that writing starts early, large enough that taking a piece costs
/// nothing next to encoding it.
const PIECE_ROWS: usize = 256;

/// Batches smaller than this are encoded by the writing thread alone: a thread costs more than it
/// saves.
pub(crate) const HELPER_MIN_ROWS: usize = 2048;

/// Accepted rows encoded for storage: the stored body (the compressed JSON of the record, see
/// [`crate::body`]), the digest and the subject key of each row. The bodies share one buffer. The
/// digest is the SHA-256 of the JSON, exactly [`creditloop_domain::record::CreditRecord::content_digest`].
///
/// An importer that validates on several threads encodes there too ([`EncodedRows::encode`]) and
/// hands the result over with its batch ([`crate::Batch::encoded`]), so that the single writing
/// thread of a store does nothing but write.
#[derive(Debug, Default, Clone)]
pub struct EncodedRows {
    pub(crate) digests: Vec<[u8; 32]>,
    pub(crate) subject_keys: Vec<String>,
    buffer: Vec<u8>,
    /// (start, end) of each row's body in `buffer`.
    spans: Vec<(usize, usize)>,
}

impl EncodedRows {
    /// Encodes `rows`, in order.
    pub fn encode(rows: &[AcceptedRow]) -> Result<Self, StoreError> {
        encode(rows).map_err(StoreError::Other)
    }

    /// Room for `rows` rows (a compressed body is about 200 bytes).
    pub fn with_capacity(rows: usize) -> Self {
        EncodedRows {
            digests: Vec::with_capacity(rows),
            subject_keys: Vec::with_capacity(rows),
            buffer: Vec::with_capacity(rows * 256),
            spans: Vec::with_capacity(rows),
        }
    }

    /// Room for `rows` more rows.
    pub fn reserve(&mut self, rows: usize) {
        self.digests.reserve(rows);
        self.subject_keys.reserve(rows);
        self.buffer.reserve(rows * 256);
        self.spans.reserve(rows);
    }

    /// Number of rows encoded.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Appends row `j` of `from` (whose subject key is moved out of `from`).
    pub fn push_row(&mut self, from: &mut EncodedRows, j: usize) -> Result<(), StoreError> {
        let body = from.body(j)?;
        let start = self.buffer.len();
        self.buffer.extend_from_slice(body);
        self.spans.push((start, self.buffer.len()));
        self.digests.push(from.digests[j]);
        self.subject_keys
            .push(std::mem::take(&mut from.subject_keys[j]));
        Ok(())
    }

    /// The stored body of row `i`: the zstd frame of the JSON serde_json wrote.
    pub fn body(&self, i: usize) -> Result<&[u8], StoreError> {
        self.spans
            .get(i)
            .and_then(|&(s, e)| self.buffer.get(s..e))
            .ok_or_else(|| StoreError::Other(format!("internal: no encoded body {i}")))
    }
}

fn encode(rows: &[AcceptedRow]) -> Result<EncodedRows, String> {
    let mut out = EncodedRows::with_capacity(rows.len());
    let mut json = Vec::with_capacity(2048);
    for row in rows {
        let start = out.buffer.len();
        json.clear();
        serde_json::to_writer(&mut json, &row.record)
            .map_err(|e| format!("cannot serialise record of row {}: {e}", row.row))?;
        out.digests.push(Sha256::digest(&json).into());
        crate::body::compress_into(&json, &mut out.buffer)
            .map_err(|e| format!("cannot compress record of row {}: {e}", row.row))?;
        out.spans.push((start, out.buffer.len()));
        out.subject_keys.push(row.record.subject.key().0);
    }
    Ok(out)
}

/// The pieces of one batch, encoded on demand.
pub(crate) struct Pipeline<'a> {
    rows: &'a [AcceptedRow],
    /// The whole batch encoded by the caller, when it was.
    pre: Option<&'a EncodedRows>,
    /// The next piece nobody has taken.
    next: AtomicUsize,
    pieces: Vec<OnceLock<Result<EncodedRows, String>>>,
    /// Guards waiting for a piece another thread is encoding.
    lock: Mutex<()>,
    ready: Condvar,
    stopped: AtomicBool,
}

impl<'a> Pipeline<'a> {
    pub fn new(rows: &'a [AcceptedRow]) -> Self {
        Pipeline {
            rows,
            pre: None,
            next: AtomicUsize::new(0),
            pieces: (0..rows.len().div_ceil(PIECE_ROWS))
                .map(|_| OnceLock::new())
                .collect(),
            lock: Mutex::new(()),
            ready: Condvar::new(),
            stopped: AtomicBool::new(false),
        }
    }

    /// The pipeline of a batch whose rows the caller encoded already ([`crate::Batch::encoded`]);
    /// encodes them here when `pre` does not hold exactly one encoding per row.
    pub fn for_batch(rows: &'a [AcceptedRow], pre: Option<&'a EncodedRows>) -> Self {
        let mut p = Pipeline::new(rows);
        p.pre = pre.filter(|e| e.len() == rows.len());
        p
    }

    /// Whether a helper thread pays off for this batch.
    pub fn wants_helper(&self) -> bool {
        self.pre.is_none()
            && self.rows.len() >= HELPER_MIN_ROWS
            && std::thread::available_parallelism().is_ok_and(|n| n.get() > 1)
    }

    /// Takes and encodes the next free piece; false when there is none.
    fn take_one(&self) -> bool {
        let k = self.next.fetch_add(1, Ordering::Relaxed);
        let Some(slot) = self.pieces.get(k) else {
            return false;
        };
        let start = k * PIECE_ROWS;
        let end = (start + PIECE_ROWS).min(self.rows.len());
        // A panic while encoding must not leave a waiter waiting for this piece forever.
        let rows = &self.rows[start..end];
        let result = std::panic::catch_unwind(|| encode(rows))
            .unwrap_or_else(|_| Err(format!("internal: encoding rows {start}..{end} panicked")));
        let _ = slot.set(result);
        // Under the lock, so a waiter that just found the slot empty is already waiting.
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        self.ready.notify_all();
        true
    }

    /// The helper thread's work: encode pieces in order until none is left or the write ended.
    pub fn help(&self) {
        loop {
            if self.stopped.load(Ordering::Relaxed) || !self.take_one() {
                break;
            }
        }
    }

    /// Tells the helper to stop (the write is over, or failed).
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::Relaxed);
    }

    /// Piece `k`, encoding free pieces up to it on this thread when the helper is behind.
    fn piece(&self, k: usize) -> Result<&EncodedRows, StoreError> {
        let slot = self
            .pieces
            .get(k)
            .ok_or_else(|| StoreError::Other(format!("internal: no piece {k}")))?;
        loop {
            if let Some(done) = slot.get() {
                return done.as_ref().map_err(|e| StoreError::Other(e.clone()));
            }
            if self.next.load(Ordering::Relaxed) <= k {
                self.take_one();
                continue;
            }
            // Taken by the helper: wait for it.
            let mut guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
            while slot.get().is_none() {
                guard = self.ready.wait(guard).unwrap_or_else(|p| p.into_inner());
            }
        }
    }

    /// The piece holding row `i` of the batch and the row's index in it.
    pub fn row(&self, i: usize) -> Result<(&EncodedRows, usize), StoreError> {
        if i >= self.rows.len() {
            return Err(StoreError::Other(format!("internal: no row {i}")));
        }
        if let Some(pre) = self.pre {
            return Ok((pre, i));
        }
        Ok((self.piece(i / PIECE_ROWS)?, i % PIECE_ROWS))
    }

    /// The subject keys of all rows, in order (encodes what is left).
    pub fn subject_keys(&self) -> Result<Vec<&str>, StoreError> {
        if let Some(pre) = self.pre {
            return Ok(pre.subject_keys.iter().map(String::as_str).collect());
        }
        let mut out = Vec::with_capacity(self.rows.len());
        for k in 0..self.pieces.len() {
            out.extend(self.piece(k)?.subject_keys.iter().map(String::as_str));
        }
        Ok(out)
    }
}

/// Stops the pipeline's helper when the write that owns it ends, however it ends.
pub(crate) struct StopOnDrop<'p, 'a>(pub &'p Pipeline<'a>);

impl Drop for StopOnDrop<'_, '_> {
    fn drop(&mut self) {
        self.0.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::tests_support::sample_rows;

    #[test]
    fn pieces_match_the_records_with_and_without_helper() {
        let rows = sample_rows(HELPER_MIN_ROWS + 7);
        for helper in [false, true] {
            let p = Pipeline::new(&rows);
            std::thread::scope(|s| {
                if helper {
                    s.spawn(|| p.help());
                }
                // Out of order on purpose: later pieces first.
                for i in (0..rows.len()).rev() {
                    let (piece, j) = p.row(i).expect("row");
                    let r = &rows[i].record;
                    let body = piece.body(j).expect("body");
                    assert!(body.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]), "a zstd frame");
                    assert_eq!(
                        &*crate::body::body_json(body).expect("json of body"),
                        serde_json::to_vec(r).expect("json").as_slice()
                    );
                    assert_eq!(piece.digests[j], r.content_digest());
                    assert_eq!(piece.subject_keys[j], r.subject.key().0);
                }
                p.stop();
            });
            assert_eq!(p.subject_keys().expect("keys").len(), rows.len());
            assert!(p.row(rows.len()).is_err());
        }
    }

    #[test]
    fn empty_batch() {
        let p = Pipeline::new(&[]);
        p.help();
        assert!(p.subject_keys().expect("keys").is_empty());
        assert!(p.row(0).is_err());
    }
}
