//! Verification of a stored log (审计日志校验): does every entry still say what it said when it
//! was written, in the same place, with nothing removed or added?
//!
//! Three layers, each catching a stronger attacker, and each localising what it finds:
//!
//! 1. **Row self-consistency.** Each entry's hashed bytes contain its `seq`, and its stored leaf
//!    hash must equal `H(0x00 || bytes)`. An edit that forgot the leaf hash is *altered* at that
//!    row; a row whose bytes say another `seq` was *reordered* (the entry of that `seq` is stored
//!    elsewhere), *removed* (later entries were renumbered down over a gap) or *inserted* (an
//!    entry's number appears twice). A gap in the `seq` column is *removed*; a `seq` below 1 is
//!    *inserted*.
//! 2. **Hash chain.** `chain_i = H(chain_{i-1} || leaf_i)` is stored per row. An attacker who
//!    recomputed a leaf hash breaks the chain exactly at the row he changed. If the row's content
//!    fits the chain at another position once renumbered, it was *reordered*; otherwise *altered*.
//! 3. **Signed tree heads.** An attacker who rewrote contents, leaf hashes and the whole chain
//!    consistently cannot re-sign the heads: the key is outside the database. The first head whose
//!    root no longer matches is reported (*root_mismatch*) with the range of entries it covers
//!    beyond the last head that still matches; a head whose signature fails is *bad_signature*; a
//!    head covering more entries than exist means entries at the end were *removed*.
//!
//! What cannot be detected from the database alone: entries appended at the end after the latest
//! signed head (publish heads often, and keep copies of them outside the database), and the
//! deletion of heads themselves (compare with a head kept elsewhere).

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use serde::Serialize;

use crate::entry::AuditEntry;
use crate::log::{CHAIN_START, chain_next};
use crate::merkle::{Frontier, Hash, HashAlgorithm};
use crate::sign::{TreeHead, Verifier, load_verifying_key};
use crate::store::{AuditStore, open_existing, stored_algorithm};
use crate::{Error, Result, parse_hash};

/// What kind of tampering was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// 篡改: an entry's content changed.
    Altered,
    /// 删除: entries are missing.
    Removed,
    /// 插入: an entry was added that the log never wrote.
    Inserted,
    /// 顺序调换: entries were moved to other positions.
    Reordered,
    /// 签名无效: a tree head's signature does not verify with the given key.
    BadSignature,
    /// 根哈希不符: the entries no longer hash to a signed root.
    RootMismatch,
}

impl ProblemKind {
    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            ProblemKind::Altered => "altered",
            ProblemKind::Removed => "removed",
            ProblemKind::Inserted => "inserted",
            ProblemKind::Reordered => "reordered",
            ProblemKind::BadSignature => "bad_signature",
            ProblemKind::RootMismatch => "root_mismatch",
        }
    }

    /// The Chinese name.
    pub fn name_zh(self) -> &'static str {
        match self {
            ProblemKind::Altered => "篡改",
            ProblemKind::Removed => "删除",
            ProblemKind::Inserted => "插入",
            ProblemKind::Reordered => "顺序调换",
            ProblemKind::BadSignature => "签名无效",
            ProblemKind::RootMismatch => "根哈希不符",
        }
    }
}

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The first entry concerned (for head problems: the first entry of the range).
    pub seq: i64,
    /// What was found.
    pub kind: ProblemKind,
    /// The entries concerned, inclusive, when it is a range.
    pub range: Option<(i64, i64)>,
    /// The size of the tree head concerned, for head problems.
    pub head_size: Option<u64>,
    /// Explanation in English.
    pub detail_en: String,
    /// Explanation in Chinese.
    pub detail_zh: String,
}

/// The outcome of [`verify`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    /// True when nothing was found.
    pub ok: bool,
    /// The log's hash function.
    pub hash_algorithm: HashAlgorithm,
    /// Entry rows read.
    pub entries: u64,
    /// Tree heads read.
    pub heads: u64,
    /// Heads whose signature and root both verified.
    pub heads_verified: u64,
    /// The largest size covered by a verified head: entries `1..=signed_size` are proven.
    pub signed_size: u64,
    /// The first problem: the row-level one if any (it is the most precise), else the first
    /// head that fails.
    pub first_problem: Option<Problem>,
    /// Every problem found: at most one row-level problem (later rows are misaligned after the
    /// first), then each failing head.
    pub problems: Vec<Problem>,
}

impl VerifyReport {
    /// The process exit code a CLI should use: 0 when ok, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        if self.ok { 0 } else { 1 }
    }
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ok {
            writeln!(f, "audit log verification 审计日志校验: OK 通过")?;
        } else {
            writeln!(f, "audit log verification 审计日志校验: FAILED 未通过")?;
        }
        writeln!(
            f,
            "  entries 条目数: {} (hash 杂凑算法: {})",
            self.entries,
            self.hash_algorithm.code()
        )?;
        writeln!(
            f,
            "  signed tree heads 签名树头: {} read, {} verified 已验证; entries 1..={} proven 已证明",
            self.heads, self.heads_verified, self.signed_size
        )?;
        if self.heads == 0 && self.entries > 0 {
            writeln!(
                f,
                "  warning 警告: no signed tree head; only internal consistency was checked 无签名树头，仅校验了内部一致性"
            )?;
        } else if self.entries > self.signed_size && self.ok {
            writeln!(
                f,
                "  note 说明: entries {}..={} are not yet covered by a signed head 尚未被签名树头覆盖",
                self.signed_size + 1,
                self.entries
            )?;
        }
        if let Some(p) = &self.first_problem {
            writeln!(
                f,
                "  first problem 首个问题: seq {} — {} {}",
                p.seq,
                p.kind.code(),
                p.kind.name_zh()
            )?;
            if let Some((a, b)) = p.range {
                writeln!(f, "    range 范围: {a}..={b}")?;
            }
            writeln!(f, "    {}", p.detail_en)?;
            writeln!(f, "    {}", p.detail_zh)?;
            if self.problems.len() > 1 {
                writeln!(
                    f,
                    "  {} more problem(s) 另有 {} 个问题",
                    self.problems.len() - 1,
                    self.problems.len() - 1
                )?;
            }
        }
        Ok(())
    }
}

/// Verifies the log in the database at `url` with the heads' public key.
pub fn verify(url: &str, key: &dyn Verifier) -> Result<VerifyReport> {
    if let Some(path) = url.strip_prefix("sqlite://") {
        // Opening would create an empty database, which would then "verify".
        if !Path::new(path).exists() {
            return Err(Error::Io {
                path: path.into(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such database file"),
            });
        }
    }
    let mut store = open_existing(url)?;
    verify_store(store.as_mut(), key)
}

/// Entry point for `creditloop audit verify --db URL --key PATH`: loads the public key (or
/// derives it from the secret key file), verifies, prints the report to stdout and returns it.
/// The caller exits with [`VerifyReport::exit_code`].
pub fn run_verify_cli(url: &str, key_path: &Path) -> Result<VerifyReport> {
    let key = load_verifying_key(key_path)?;
    let report = verify(url, &key)?;
    print!("{report}");
    Ok(report)
}

/// What pass 1 keeps of each row: enough to localise any problem without keeping the entries.
struct Row {
    col: i64,
    text_seq: Option<i64>,
    leaf: Hash,
    stored_leaf: Option<Hash>,
    chain: Option<Hash>,
}

const PAGE: usize = 5000;

/// Verifies the log in `store`.
pub fn verify_store(store: &mut dyn AuditStore, key: &dyn Verifier) -> Result<VerifyReport> {
    let alg = stored_algorithm(store)?;
    // Heads first: a head is only ever published over committed entries, so every head read
    // now covers at most the rows read next, even while the log keeps growing.
    let heads = store.heads()?;
    let mut rows: Vec<Row> = Vec::new();
    let mut from = i64::MIN;
    loop {
        let page = store.rows(from, PAGE)?;
        let len = page.len();
        for r in page {
            let text_seq = serde_json::from_str::<AuditEntry>(&r.entry)
                .ok()
                .and_then(|e| i64::try_from(e.seq).ok());
            from = r.seq.saturating_add(1);
            rows.push(Row {
                col: r.seq,
                text_seq,
                leaf: alg.leaf_hash(r.entry.as_bytes()),
                stored_leaf: parse_hash(&r.leaf_hash),
                chain: parse_hash(&r.chain_hash),
            });
        }
        if len < PAGE || from == i64::MAX {
            break;
        }
    }
    let mut problems = Vec::new();
    if let Some(p) = row_problem(store, alg, &rows)? {
        problems.push(p);
    }
    let (head_problems, heads_verified, signed_size) = check_heads(alg, &rows, &heads, key);
    problems.extend(head_problems);
    Ok(VerifyReport {
        ok: problems.is_empty(),
        hash_algorithm: alg,
        entries: rows.len() as u64,
        heads: heads.len() as u64,
        heads_verified,
        signed_size,
        first_problem: problems.first().cloned(),
        problems,
    })
}

fn problem(
    seq: i64,
    kind: ProblemKind,
    range: Option<(i64, i64)>,
    en: String,
    zh: String,
) -> Option<Problem> {
    Some(Problem {
        seq,
        kind,
        range,
        head_size: None,
        detail_en: en,
        detail_zh: zh,
    })
}

/// Layers 1 and 2: the first row that is not where, or what, the log wrote.
fn row_problem(
    store: &mut dyn AuditStore,
    alg: HashAlgorithm,
    rows: &[Row],
) -> Result<Option<Problem>> {
    let mut by_text_seq: Option<HashMap<i64, Vec<usize>>> = None;
    let chain_before = |i: usize| -> Option<Hash> {
        if i == 0 {
            Some(CHAIN_START)
        } else {
            rows.get(i - 1).and_then(|r| r.chain)
        }
    };
    let mut prev_chain = CHAIN_START;
    for (i, r) in rows.iter().enumerate() {
        let p = i as i64 + 1;
        let links_to_prev = r.chain == Some(chain_next(alg, &prev_chain, &r.leaf));
        if r.col < 1 {
            return Ok(problem(
                r.col,
                ProblemKind::Inserted,
                None,
                format!(
                    "an entry with seq {} (outside 1..) was added to the table",
                    r.col
                ),
                format!("表中被加入了序号为 {} 的条目（序号应从 1 开始）", r.col),
            ));
        }
        if r.col != p {
            // A gap. If the row still chains straight onto its predecessor, nothing was taken out
            // between them: the row itself was added with a seq past the end.
            if links_to_prev && r.text_seq == Some(r.col) {
                return Ok(problem(
                    r.col,
                    ProblemKind::Inserted,
                    None,
                    format!(
                        "entry {} was inserted with a seq beyond the end (after {})",
                        r.col,
                        p - 1
                    ),
                    format!(
                        "条目 {} 以越过末尾的序号被插入（紧接在 {} 之后）",
                        r.col,
                        p - 1
                    ),
                ));
            }
            return Ok(problem(
                p,
                ProblemKind::Removed,
                Some((p, r.col - 1)),
                format!("entries {p}..={} are missing", r.col - 1),
                format!("条目 {p} 至 {} 缺失（被删除）", r.col - 1),
            ));
        }
        let Some(ts) = r.text_seq else {
            return Ok(problem(
                p,
                ProblemKind::Altered,
                None,
                format!("entry {p} is no longer a valid entry"),
                format!("条目 {p} 的内容已不是有效的审计记录（被篡改）"),
            ));
        };
        if ts != p {
            let map = by_text_seq.get_or_insert_with(|| {
                let mut m: HashMap<i64, Vec<usize>> = HashMap::new();
                for (j, row) in rows.iter().enumerate() {
                    if let Some(s) = row.text_seq {
                        m.entry(s).or_default().push(j);
                    }
                }
                m
            });
            let elsewhere = map
                .get(&p)
                .and_then(|v| v.iter().copied().find(|&j| j != i));
            // A number seen twice, the earlier copy already checked: something was inserted in
            // front (later rows are shifted by one, which also looks like a move).
            let repeated = ts < p && map.get(&ts).is_some_and(|v| v.len() > 1);
            if let (Some(j), false) = (elsewhere, repeated) {
                let at = rows[j].col;
                return Ok(problem(
                    p,
                    ProblemKind::Reordered,
                    None,
                    format!(
                        "seq {p} holds the entry written as seq {ts}; the entry written as seq {p} is stored at seq {at}"
                    ),
                    format!(
                        "序号 {p} 处存放的是原序号 {ts} 的条目，原序号 {p} 的条目被移到了序号 {at}（顺序被调换）"
                    ),
                ));
            }
            if ts > p {
                return Ok(problem(
                    p,
                    ProblemKind::Removed,
                    Some((p, ts - 1)),
                    format!(
                        "seq {p} holds the entry written as seq {ts}: entries {p}..={} were removed and later entries renumbered",
                        ts - 1
                    ),
                    format!(
                        "序号 {p} 处存放的是原序号 {ts} 的条目：条目 {p} 至 {} 被删除，其后条目被重新编号",
                        ts - 1
                    ),
                ));
            }
            // ts < p: the number ts appears twice. The genuine entry ts still chains onto the row
            // before position ts; if this row does, the rows from position ts up to here were
            // inserted in front of it.
            let genuine = ts >= 1
                && chain_before(ts as usize - 1)
                    .is_some_and(|b| r.chain == Some(chain_next(alg, &b, &r.leaf)));
            if genuine {
                return Ok(problem(
                    ts,
                    ProblemKind::Inserted,
                    Some((ts, p - 1)),
                    format!(
                        "entries at seq {ts}..={} were inserted: the entry written as seq {ts} is now at seq {p}",
                        p - 1
                    ),
                    format!(
                        "序号 {ts} 至 {} 的条目是被插入的：原序号 {ts} 的条目现位于序号 {p}",
                        p - 1
                    ),
                ));
            }
            return Ok(problem(
                p,
                ProblemKind::Inserted,
                None,
                format!("seq {p} is a second copy of entry {ts}: it was inserted"),
                format!("序号 {p} 是条目 {ts} 的重复副本（被插入）"),
            ));
        }
        if r.stored_leaf != Some(r.leaf) {
            return Ok(problem(
                p,
                ProblemKind::Altered,
                None,
                format!("entry {p}'s content no longer matches its leaf hash"),
                format!("条目 {p} 的内容与其叶子哈希不符（内容被篡改）"),
            ));
        }
        if !links_to_prev {
            if let Some(q) = original_position(store, alg, rows, i, &chain_before)? {
                return Ok(problem(
                    p,
                    ProblemKind::Reordered,
                    None,
                    format!(
                        "seq {p} holds the entry originally at seq {q}, renumbered and rehashed: the hash chain breaks here"
                    ),
                    format!(
                        "序号 {p} 处存放的是原序号 {q} 的条目（被重新编号并重算哈希），哈希链在此断开"
                    ),
                ));
            }
            return Ok(problem(
                p,
                ProblemKind::Altered,
                None,
                format!(
                    "entry {p}'s content and leaf hash were rewritten: the hash chain breaks here"
                ),
                format!("条目 {p} 的内容和叶子哈希被改写：哈希链在此断开"),
            ));
        }
        prev_chain = r.chain.unwrap_or(CHAIN_START);
    }
    Ok(None)
}

/// If row `i`'s content, renumbered to some other seq `q`, fits the hash chain at position `q`,
/// the row is the original entry `q` moved here.
fn original_position(
    store: &mut dyn AuditStore,
    alg: HashAlgorithm,
    rows: &[Row],
    i: usize,
    chain_before: &dyn Fn(usize) -> Option<Hash>,
) -> Result<Option<i64>> {
    let Some(raw) = store.row(rows[i].col)? else {
        return Ok(None);
    };
    let Ok(mut entry) = serde_json::from_str::<AuditEntry>(&raw.entry) else {
        return Ok(None);
    };
    for (j, row) in rows.iter().enumerate() {
        if j == i {
            continue;
        }
        entry.seq = j as u64 + 1;
        let leaf = alg.leaf_hash(&entry.canonical_bytes());
        if let (Some(b), Some(c)) = (chain_before(j), row.chain)
            && chain_next(alg, &b, &leaf) == c
        {
            return Ok(Some(j as i64 + 1));
        }
    }
    Ok(None)
}

/// Layer 3: every head's signature, and its root recomputed from the entries' contents.
fn check_heads(
    alg: HashAlgorithm,
    rows: &[Row],
    heads: &[TreeHead],
    key: &dyn Verifier,
) -> (Vec<Problem>, u64, u64) {
    let mut heads: Vec<&TreeHead> = heads.iter().collect();
    heads.sort_by_key(|h| (h.size, h.at));
    let n = rows.len() as u64;
    let mut frontier = Frontier::new();
    let mut problems = Vec::new();
    let mut verified = 0;
    let mut signed_size = 0u64;
    for h in heads {
        let size = h.size as i64;
        let head_problem = |seq: i64, kind, range, en: String, zh: String| Problem {
            seq,
            kind,
            range,
            head_size: Some(h.size),
            detail_en: en,
            detail_zh: zh,
        };
        if !h.verify_signature(key) {
            let why = if h.key_id != key.key_id() {
                format!("signed by key {} , not by {}", h.key_id, key.key_id())
            } else {
                "the signature does not verify".to_string()
            };
            problems.push(head_problem(
                size,
                ProblemKind::BadSignature,
                None,
                format!("the tree head of size {} at {}: {why}", h.size, h.at_text()),
                format!("规模为 {} 的签名树头（{}）签名无效", h.size, h.at_text()),
            ));
            continue;
        }
        if h.hash_algorithm != alg {
            problems.push(head_problem(
                size,
                ProblemKind::RootMismatch,
                None,
                format!(
                    "the tree head of size {} uses {}, the log {}",
                    h.size,
                    h.hash_algorithm.code(),
                    alg.code()
                ),
                format!("规模为 {} 的签名树头的杂凑算法与日志不一致", h.size),
            ));
            continue;
        }
        if h.size > n {
            problems.push(head_problem(
                n as i64 + 1,
                ProblemKind::Removed,
                Some((n as i64 + 1, size)),
                format!(
                    "a signed tree head covers {} entries but only {n} exist: entries {}..={} were removed",
                    h.size,
                    n + 1,
                    h.size
                ),
                format!("签名树头覆盖 {} 条，但只有 {n} 条：条目 {} 至 {} 被删除", h.size, n + 1, h.size),
            ));
            continue;
        }
        while frontier.size() < h.size {
            frontier.push(alg, rows[frontier.size() as usize].leaf);
        }
        let root = hex::encode(frontier.root(alg));
        if root != h.root {
            let first = signed_size as i64 + 1;
            problems.push(head_problem(
                first,
                ProblemKind::RootMismatch,
                Some((first, size)),
                format!(
                    "entries no longer hash to the root signed at size {} ({}): something in {first}..={size} was changed",
                    h.size,
                    h.at_text()
                ),
                format!("条目已不能算出规模为 {} 的签名树头中的根哈希：序号 {first} 至 {size} 之间有内容被改动", h.size),
            ));
            continue;
        }
        verified += 1;
        signed_size = signed_size.max(h.size);
    }
    (problems, verified, signed_size)
}
