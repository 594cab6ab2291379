//! The rows of a batch check (批量查询), stored in chunks.
//!
//! A batch of 2.54 million identifiers stored row by row cost the check log's writer about 5 µs a
//! row (three B-tree inserts, a zstd frame of 200 bytes, 14 bound texts) and a gigabyte of disk:
//! as much CPU as checking the rows. Here the rows of one group go into one row of `check_chunks`:
//! the fields every row of a batch shares (batch, agency, day, scenario, catalogue and data
//! versions) once, the rest as one zstd frame, and the count of each decision for the dashboards.
//!
//! A batch row's receipt is `{batch_id}-{row number}` ([`batch_receipt`]), so a receipt names its
//! chunk; single checks keep their own table, which is looked at first. Receipts, feedback,
//! listings and statistics read both: to an agency a batch row is a check like any other.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};

use crate::{CheckQuery, Result, StoreError, StoredCheck};
use creditloop_domain::feedback::Feedback;

/// zstd level of a chunk: the fastest of the regular levels; a chunk of similar rows compresses
/// well at any level.
const LEVEL: i32 = 1;

/// The receipt id (回执编号) of row `row` of batch `batch_id`.
pub fn batch_receipt(batch_id: &str, row: u64) -> String {
    format!("{batch_id}-{row}")
}

/// The batch and row number a receipt names, if it has the form of [`batch_receipt`].
pub fn parse_batch_receipt(id: &str) -> Option<(&str, u64)> {
    let (batch, row) = id.rsplit_once('-')?;
    if batch.is_empty() || row.is_empty() || !row.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((batch, row.parse().ok()?))
}

/// The body's format: this byte, then each row as [`put_row`] writes it. Length-prefixed fields
/// rather than JSON: with JSON a fifth of the writer's time went to escaping the answers' quotes.
const FORMAT: u8 = 1;
/// Most bytes a chunk's body decodes to (a group of 20,000 rows takes about 10 MB).
const MAX_DECODED: u64 = 1 << 30;
/// The length written for a missing optional text.
const NONE: u32 = u32::MAX;

fn put_text(out: &mut Vec<u8>, s: &str) -> Result<()> {
    let n = u32::try_from(s.len())
        .ok()
        .filter(|n| *n != NONE)
        .ok_or_else(|| StoreError::Other("a check's text is over 4 GiB".into()))?;
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(s.as_bytes());
    Ok(())
}

fn put_opt(out: &mut Vec<u8>, s: Option<&str>) -> Result<()> {
    match s {
        Some(s) => put_text(out, s),
        None => {
            out.extend_from_slice(&NONE.to_le_bytes());
            Ok(())
        }
    }
}

/// What a chunk's row says about itself (the rest is the chunk's): row number, time in
/// microseconds (the precision the check table keeps), case reference, query, subject, decision,
/// measures and answer.
fn put_row(out: &mut Vec<u8>, n: u64, c: &StoredCheck) -> Result<()> {
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(&c.at.timestamp_micros().to_le_bytes());
    put_opt(out, c.case_ref.as_deref())?;
    put_text(out, &c.subject_query)?;
    put_opt(out, c.subject_key.as_deref())?;
    put_text(out, &c.decision)?;
    let m = u32::try_from(c.measures.len())
        .map_err(|_| StoreError::Other("too many measures".into()))?;
    out.extend_from_slice(&m.to_le_bytes());
    for code in &c.measures {
        put_text(out, code)?;
    }
    put_text(out, &c.answer)
}

/// Reads what [`put_row`] wrote; `None` where the bytes run out or are not UTF-8.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn bytes<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.0.split_first_chunk::<N>()?;
        self.0 = rest;
        Some(*head)
    }

    fn opt(&mut self) -> Option<Option<&'a str>> {
        let n = u32::from_le_bytes(self.bytes()?);
        if n == NONE {
            return Some(None);
        }
        let (text, rest) = self.0.split_at_checked(n as usize)?;
        self.0 = rest;
        Some(Some(std::str::from_utf8(text).ok()?))
    }

    fn text(&mut self) -> Option<&'a str> {
        self.opt()?
    }
}

/// One chunk as written and as read back without its body.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ChunkHead {
    pub batch_id: String,
    pub first_row: u64,
    pub last_row: u64,
    pub rows: u64,
    pub first_at: DateTime<Utc>,
    pub last_at: DateTime<Utc>,
    pub checked_on: NaiveDate,
    pub agency: Option<String>,
    pub scenario: String,
    pub catalogue_version: String,
    pub data_version: u64,
    /// Rows by decision.
    pub decisions: BTreeMap<String, u64>,
}

impl ChunkHead {
    pub fn decisions_json(&self) -> Result<String> {
        serde_json::to_string(&self.decisions).map_err(|e| StoreError::Other(format!("JSON: {e}")))
    }

    pub fn parse_decisions(text: &str) -> Result<BTreeMap<String, u64>> {
        serde_json::from_str(text)
            .map_err(|e| StoreError::Corrupt(format!("chunk decisions `{text}`: {e}")))
    }

    /// The receipts of this batch sort between these two (every receipt of the batch starts with
    /// `{batch_id}-`): the range to read its feedback with.
    pub fn receipt_range(batch_id: &str) -> (String, String) {
        (format!("{batch_id}-"), format!("{batch_id}."))
    }
}

/// A chunk ready to insert.
pub(crate) struct NewChunk {
    pub head: ChunkHead,
    pub body: Vec<u8>,
}

fn shared_with(a: &StoredCheck, b: &StoredCheck) -> bool {
    a.batch_id == b.batch_id
        && a.agency == b.agency
        && a.checked_on == b.checked_on
        && a.scenario == b.scenario
        && a.catalogue_version == b.catalogue_version
        && a.data_version == b.data_version
}

/// Splits `checks` into chunks of rows that share their batch-wide fields, in order. Every check
/// must belong to a batch and carry the receipt [`batch_receipt`] gives it.
pub(crate) fn chunks_of(checks: &[StoredCheck]) -> Result<Vec<NewChunk>> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < checks.len() {
        let first = &checks[start];
        let end = checks[start..]
            .iter()
            .position(|c| !shared_with(first, c))
            .map_or(checks.len(), |p| start + p);
        out.push(chunk(&checks[start..end])?);
        start = end;
    }
    Ok(out)
}

fn chunk(rows: &[StoredCheck]) -> Result<NewChunk> {
    let first = &rows[0];
    let batch_id = first
        .batch_id
        .clone()
        .ok_or_else(|| StoreError::Other(format!("check {} belongs to no batch", first.id)))?;
    let mut encoded = Vec::with_capacity(rows.len() * 256);
    encoded.push(FORMAT);
    let mut decisions: BTreeMap<String, u64> = BTreeMap::new();
    let (mut first_row, mut last_row) = (u64::MAX, 0);
    let (mut first_at, mut last_at) = (first.at, first.at);
    for c in rows {
        let n = match parse_batch_receipt(&c.id) {
            Some((b, n)) if b == batch_id => n,
            _ => {
                return Err(StoreError::Other(format!(
                    "receipt {} is not a row receipt of batch {batch_id}",
                    c.id
                )));
            }
        };
        first_row = first_row.min(n);
        last_row = last_row.max(n);
        first_at = first_at.min(c.at);
        last_at = last_at.max(c.at);
        match decisions.get_mut(c.decision.as_str()) {
            Some(k) => *k += 1,
            None => {
                decisions.insert(c.decision.clone(), 1);
            }
        }
        put_row(&mut encoded, n, c)?;
    }
    let body = zstd::bulk::compress(&encoded, LEVEL)
        .map_err(|e| StoreError::Other(format!("compressing a chunk: {e}")))?;
    Ok(NewChunk {
        head: ChunkHead {
            batch_id,
            first_row,
            last_row,
            rows: rows.len() as u64,
            first_at: trunc_micros(first_at),
            last_at: trunc_micros(last_at),
            checked_on: first.checked_on,
            agency: first.agency.clone(),
            scenario: first.scenario.clone(),
            catalogue_version: first.catalogue_version.clone(),
            data_version: first.data_version,
            decisions,
        },
        body,
    })
}

fn trunc_micros(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}

/// The chunk's rows as checks (without feedback), in the order written.
pub(crate) fn decode(head: &ChunkHead, body: &[u8]) -> Result<Vec<StoredCheck>> {
    let corrupt =
        |what: String| StoreError::Corrupt(format!("chunk of batch {}: {what}", head.batch_id));
    let capacity = zstd::zstd_safe::get_frame_content_size(body)
        .ok()
        .flatten()
        .ok_or_else(|| corrupt("no content size".into()))?;
    // A damaged header must not make us allocate without bound.
    if capacity > MAX_DECODED {
        return Err(corrupt(format!("claims {capacity} bytes")));
    }
    let raw =
        zstd::bulk::decompress(body, capacity as usize).map_err(|e| corrupt(e.to_string()))?;
    let Some((&FORMAT, mut rest)) = raw.split_first() else {
        return Err(corrupt("unknown format".into()));
    };
    let mut out = Vec::with_capacity(usize::try_from(head.rows).unwrap_or(0).min(1 << 20));
    while !rest.is_empty() {
        let mut r = Reader(rest);
        let row = (|| {
            let n = u64::from_le_bytes(r.bytes()?);
            let at = DateTime::from_timestamp_micros(i64::from_le_bytes(r.bytes()?))?;
            let case_ref = r.opt()?.map(str::to_string);
            let subject_query = r.text()?.to_string();
            let subject_key = r.opt()?.map(str::to_string);
            let decision = r.text()?.to_string();
            let m = u32::from_le_bytes(r.bytes()?);
            // Each measure takes four bytes at least: a damaged count fails here, not in an
            // allocation.
            if m as usize > r.0.len() / 4 {
                return None;
            }
            let measures = (0..m)
                .map(|_| r.text().map(str::to_string))
                .collect::<Option<Vec<_>>>()?;
            let answer = r.text()?.to_string();
            Some(StoredCheck {
                id: batch_receipt(&head.batch_id, n),
                at,
                checked_on: head.checked_on,
                agency: head.agency.clone(),
                case_ref,
                subject_query,
                subject_key,
                scenario: head.scenario.clone(),
                decision,
                measures,
                catalogue_version: head.catalogue_version.clone(),
                data_version: head.data_version,
                batch_id: Some(head.batch_id.clone()),
                answer,
                feedback: None,
            })
        })()
        .ok_or_else(|| corrupt(format!("row {} cut short", out.len() + 1)))?;
        rest = r.0;
        out.push(row);
    }
    if out.len() as u64 != head.rows {
        return Err(corrupt(format!("{} rows of {}", out.len(), head.rows)));
    }
    Ok(out)
}

/// What a backend does for [`list`]: the heads of the chunks the query can reach, oldest first
/// (by first row time) or newest first (by last row time), and a chunk's rows with their feedback.
pub(crate) trait ChunkSource {
    fn heads(&mut self, q: &CheckQuery) -> Result<Vec<ChunkHead>>;
    fn body(&mut self, head: &ChunkHead) -> Result<Vec<u8>>;
    /// The feedback given on rows of this batch, by receipt.
    fn feedback(&mut self, batch_id: &str) -> Result<HashMap<String, Feedback>>;
}

/// A batch row with its feedback, if any.
pub(crate) fn with_feedback(
    mut rows: Vec<StoredCheck>,
    feedback: &mut HashMap<String, Feedback>,
) -> Vec<StoredCheck> {
    if !feedback.is_empty() {
        for r in &mut rows {
            r.feedback = feedback.remove(&r.id);
        }
    }
    rows
}

/// The checks `q` lists: `singles` (the single checks it lists, in the order and number the
/// query asks for) merged with the batch rows it lists, by time. Chunks are read only as far as
/// they can still place a row within the limit.
pub(crate) fn list(
    singles: Vec<StoredCheck>,
    q: &CheckQuery,
    src: &mut dyn ChunkSource,
) -> Result<Vec<StoredCheck>> {
    let heads = src.heads(q)?;
    if heads.is_empty() || q.limit == 0 {
        return Ok(singles);
    }
    let mut rows: Vec<StoredCheck> = Vec::new();
    let mut feedback: HashMap<String, HashMap<String, Feedback>> = HashMap::new();
    for head in &heads {
        if rows.len() >= q.limit {
            // Rows sorted so far: the limit-th is the last that can be listed; a chunk that starts
            // after it (before it, newest first) cannot place a row.
            sort(&mut rows, q.oldest_first);
            rows.truncate(q.limit);
            let bound = rows[q.limit - 1].at;
            let beyond = if q.oldest_first {
                head.first_at > bound
            } else {
                head.last_at < bound
            };
            if beyond {
                break;
            }
        }
        let fb = match feedback.entry(head.batch_id.clone()) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => e.insert(src.feedback(&head.batch_id)?),
        };
        let body = src.body(head)?;
        for r in with_feedback(decode(head, &body)?, fb) {
            if q.without_feedback && r.feedback.is_some() {
                continue;
            }
            rows.push(r);
        }
    }
    sort(&mut rows, q.oldest_first);
    rows.truncate(q.limit);
    // Two sorted lists into one: the single checks keep their order among themselves.
    let mut out = Vec::with_capacity(q.limit.min(singles.len() + rows.len()));
    let mut a = singles.into_iter().peekable();
    let mut b = rows.into_iter().peekable();
    while out.len() < q.limit {
        let take_a = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) => {
                if q.oldest_first {
                    x.at <= y.at
                } else {
                    x.at >= y.at
                }
            }
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        let next = if take_a { a.next() } else { b.next() };
        out.extend(next);
    }
    Ok(out)
}

/// `singles` (the single checks' statistics) with the rows of the chunks `heads` added: their
/// decisions from each chunk's counts, and the rows with feedback from the feedback of their batch
/// (a chunk is read only when feedback names one of its rows).
pub(crate) fn add_stats(
    singles: Vec<crate::CheckStat>,
    heads: &[ChunkHead],
    src: &mut dyn ChunkSource,
) -> Result<Vec<crate::CheckStat>> {
    if heads.is_empty() {
        return Ok(singles);
    }
    let mut all: BTreeMap<(String, Option<String>), (u64, u64)> = BTreeMap::new();
    for s in singles {
        let e = all.entry((s.decision, s.agency)).or_default();
        e.0 += s.checks;
        e.1 += s.with_feedback;
    }
    let mut by_batch: BTreeMap<&str, Vec<&ChunkHead>> = BTreeMap::new();
    for h in heads {
        for (decision, n) in &h.decisions {
            all.entry((decision.clone(), h.agency.clone()))
                .or_default()
                .0 += n;
        }
        by_batch.entry(h.batch_id.as_str()).or_default().push(h);
    }
    for (batch, heads) in by_batch {
        let mut fb = src.feedback(batch)?;
        if fb.is_empty() {
            continue;
        }
        let rows: Vec<u64> = fb
            .keys()
            .filter_map(|id| parse_batch_receipt(id).map(|(_, n)| n))
            .collect();
        for h in heads {
            if !rows.iter().any(|n| (h.first_row..=h.last_row).contains(n)) {
                continue;
            }
            let body = src.body(h)?;
            for r in with_feedback(decode(h, &body)?, &mut fb) {
                if r.feedback.is_some() {
                    all.entry((r.decision, r.agency)).or_default().1 += 1;
                }
            }
        }
    }
    Ok(all
        .into_iter()
        .map(
            |((decision, agency), (checks, with_feedback))| crate::CheckStat {
                decision,
                agency,
                checks,
                with_feedback,
            },
        )
        .collect())
}

/// Whether the chunk holds the row `id` (a chunk's rows need not be consecutive: rows that were
/// not answered have no receipt).
pub(crate) fn has_row(head: &ChunkHead, id: &str, src: &mut dyn ChunkSource) -> Result<bool> {
    let body = src.body(head)?;
    Ok(decode(head, &body)?.iter().any(|r| r.id == id))
}

/// The row `id` of a chunk, with its feedback.
pub(crate) fn row_of(
    head: &ChunkHead,
    id: &str,
    src: &mut dyn ChunkSource,
) -> Result<Option<StoredCheck>> {
    let body = src.body(head)?;
    let Some(mut row) = decode(head, &body)?.into_iter().find(|r| r.id == id) else {
        return Ok(None);
    };
    row.feedback = src.feedback(&head.batch_id)?.remove(id);
    Ok(Some(row))
}

fn sort(rows: &mut [StoredCheck], oldest_first: bool) {
    if oldest_first {
        rows.sort_by(|x, y| x.at.cmp(&y.at).then_with(|| x.id.cmp(&y.id)));
    } else {
        rows.sort_by(|x, y| y.at.cmp(&x.at).then_with(|| y.id.cmp(&x.id)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_receipt_names_its_batch_and_row() {
        let id = batch_receipt("BCK20261207190000000abcdef01000001", 42);
        assert_eq!(
            parse_batch_receipt(&id),
            Some(("BCK20261207190000000abcdef01000001", 42))
        );
        assert_eq!(
            parse_batch_receipt("CK20261207190000000abcdef01000001"),
            None
        );
        assert_eq!(parse_batch_receipt("CK-A"), None);
        assert_eq!(parse_batch_receipt("-7"), None);
        assert_eq!(parse_batch_receipt("B-"), None);
        assert_eq!(parse_batch_receipt("B-99999999999999999999999"), None);
    }

    fn row(n: u64, at_micros: i64, texts: &[String], opts: [bool; 2]) -> StoredCheck {
        let t = |i: usize| texts.get(i).cloned().unwrap_or_default();
        StoredCheck {
            id: batch_receipt("BTEST", n),
            at: DateTime::from_timestamp_micros(at_micros).unwrap_or_default(),
            checked_on: NaiveDate::from_ymd_opt(2026, 6, 30).unwrap_or_default(),
            agency: Some("11120000MB19674671".into()),
            case_ref: opts[0].then(|| t(0)),
            subject_query: t(1),
            subject_key: opts[1].then(|| t(2)),
            scenario: "public_bidding".into(),
            decision: t(3),
            measures: texts.iter().skip(4).cloned().collect(),
            catalogue_version: "v1:abc".into(),
            data_version: 3,
            batch_id: Some("BTEST".into()),
            answer: t(0) + &t(1),
            feedback: None,
        }
    }

    proptest! {
        /// Whatever the rows hold, a chunk gives them back as written.
        #[test]
        fn chunks_read_back(
            rows in proptest::collection::vec(
                (any::<u32>(), 0i64..4_000_000_000_000_000,
                 proptest::collection::vec("\\PC{0,12}", 0..8), any::<[bool; 2]>()),
                1..40,
            )
        ) {
            let checks: Vec<StoredCheck> = rows
                .iter()
                .map(|(n, at, texts, opts)| row(u64::from(*n), *at, texts, *opts))
                .collect();
            let chunks = chunks_of(&checks).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(chunks.len(), 1);
            let c = &chunks[0];
            prop_assert_eq!(c.head.rows, checks.len() as u64);
            prop_assert_eq!(c.head.decisions.values().sum::<u64>(), checks.len() as u64);
            let back = decode(&c.head, &c.body).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(back, checks);
        }

        /// A damaged body is an error, never a panic or a wrong row.
        #[test]
        fn a_damaged_chunk_is_an_error(cut in 0usize..400, flip in any::<(usize, u8)>()) {
            let checks: Vec<StoredCheck> = (0..5)
                .map(|n| row(n, 1_700_000_000_000_000, &["甲".into(), "乙".into(), "k".into(), "prohibit".into(), "M1".into()], [true, true]))
                .collect();
            let c = &chunks_of(&checks).map_err(|e| TestCaseError::fail(e.to_string()))?[0];
            let raw = zstd::bulk::decompress(&c.body, 1 << 20).map_err(|e| TestCaseError::fail(e.to_string()))?;
            // Cut short: an error, unless nothing was cut.
            let short = &raw[..cut.min(raw.len())];
            let body = zstd::bulk::compress(short, 1).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let decoded = decode(&c.head, &body);
            prop_assert_eq!(decoded.is_ok(), cut >= raw.len(), "{:?}", decoded);
            // Any byte changed in the compressed frame: whatever comes out, no panic.
            let mut body = c.body.clone();
            let i = flip.0 % body.len();
            body[i] ^= flip.1;
            let _ = decode(&c.head, &body);
        }

        #[test]
        fn receipts_read_back(batch in "[A-Za-z0-9-]{1,40}", row in any::<u64>()) {
            let id = batch_receipt(&batch, row);
            prop_assert_eq!(parse_batch_receipt(&id), Some((batch.as_str(), row)));
        }

        #[test]
        fn parsing_any_text_never_panics(id in "\\PC{0,60}") {
            let _ = parse_batch_receipt(&id);
        }
    }
}
