//! The audit log against a real SQLite file and, when reachable, a real PostgreSQL (a fresh
//! database per test on `CREDITLOOP_TEST_PG`, default `postgres://postgres@127.0.0.1:5432/test`).
//! The same suite runs on both. Tamper tests change the tables with plain SQL, as an intruder
//! with the database password would, and check that verification names the right first entry.

use std::sync::Arc;
use std::time::Duration;

use creditloop_audit::{
    Action, AuditLog, HashAlgorithm, LogOptions, NewEntry, ProblemKind, SignatureAlgorithm,
    SigningKey, VerifyReport, generate_key_file, run_verify_cli, verify,
};

// ---------------------------------------------------------------------------------------------
// Contexts: where the database is, and a raw connection for tampering.
// ---------------------------------------------------------------------------------------------

struct Ctx {
    url: String,
    key: SigningKey,
    _guard: Guard,
}

enum Guard {
    Dir(#[allow(dead_code)] tempfile::TempDir),
    Pg(#[allow(dead_code)] PgDatabase),
}

enum Raw {
    Sqlite(rusqlite::Connection),
    Pg(::postgres::Client),
}

impl Raw {
    fn exec(&mut self, sql: &str) {
        match self {
            Raw::Sqlite(c) => c.execute_batch(sql).unwrap(),
            Raw::Pg(c) => c.batch_execute(sql).unwrap(),
        }
    }

    /// `(leaf_hash, chain_hash, entry)` of the row at `seq`.
    fn row(&mut self, seq: i64) -> (String, String, String) {
        let sql =
            format!("SELECT leaf_hash, chain_hash, entry FROM audit_entries WHERE seq = {seq}");
        match self {
            Raw::Sqlite(c) => c
                .query_row(&sql, [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .unwrap(),
            Raw::Pg(c) => {
                let r = c.query_one(sql.as_str(), &[]).unwrap();
                (r.get(0), r.get(1), r.get(2))
            }
        }
    }

    fn set(&mut self, seq: i64, leaf: Option<&str>, chain: Option<&str>, entry: Option<&str>) {
        let mut sets = Vec::new();
        if let Some(l) = leaf {
            sets.push(format!("leaf_hash = '{l}'"));
        }
        if let Some(c) = chain {
            sets.push(format!("chain_hash = '{c}'"));
        }
        if let Some(e) = entry {
            sets.push(format!("entry = '{}'", e.replace('\'', "''")));
        }
        self.exec(&format!(
            "UPDATE audit_entries SET {} WHERE seq = {seq}",
            sets.join(", ")
        ));
    }

    fn insert(&mut self, seq: i64, leaf: &str, chain: &str, entry: &str) {
        self.exec(&format!(
            "INSERT INTO audit_entries (seq, leaf_hash, chain_hash, entry) VALUES ({seq}, '{leaf}', '{chain}', '{}')",
            entry.replace('\'', "''")
        ));
    }
}

impl Ctx {
    fn open(&self) -> AuditLog {
        AuditLog::open(
            &self.url,
            LogOptions::with_signer(Arc::new(self.key.clone())),
        )
        .unwrap()
    }

    fn raw(&self) -> Raw {
        if let Some(path) = self.url.strip_prefix("sqlite://") {
            Raw::Sqlite(rusqlite::Connection::open(path).unwrap())
        } else {
            Raw::Pg(::postgres::Client::connect(&self.url, ::postgres::NoTls).unwrap())
        }
    }

    fn verify(&self) -> VerifyReport {
        verify(&self.url, &self.key.verifying_key()).unwrap()
    }
}

fn sqlite_ctx() -> Ctx {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("creditloop.db").display());
    Ctx {
        url,
        key: SigningKey::generate(SignatureAlgorithm::Ed25519).unwrap(),
        _guard: Guard::Dir(dir),
    }
}

/// A fresh PostgreSQL database, dropped at the end of the test.
struct PgDatabase {
    admin_url: String,
    name: String,
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        if let Ok(mut c) = ::postgres::Client::connect(&self.admin_url, ::postgres::NoTls) {
            let _ = c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_part = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{host_part}/{name}?{q}"),
        None => format!("{host_part}/{name}"),
    }
}

fn pg_ctx() -> Option<Ctx> {
    let admin_url = std::env::var("CREDITLOOP_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let mut admin = match ::postgres::Client::connect(&admin_url, ::postgres::NoTls) {
        Ok(c) => c,
        Err(e) => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("PostgreSQL not reachable at {admin_url} (CI must run these tests): {e}");
            }
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED: PostgreSQL not reachable at {admin_url}: {e}"
            );
            return None;
        }
    };
    let mut suffix = [0u8; 8];
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut suffix);
    let name = format!("cl_audit_test_{}", hex::encode(suffix));
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    Some(Ctx {
        url: with_database(&admin_url, &name),
        key: SigningKey::generate(SignatureAlgorithm::Ed25519).unwrap(),
        _guard: Guard::Pg(PgDatabase { admin_url, name }),
    })
}

macro_rules! suite {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $name() {
                    super::$name(&super::sqlite_ctx());
                }
            )*
        }
        mod postgres {
            $(
                #[test]
                fn $name() {
                    let Some(ctx) = super::pg_ctx() else { return };
                    super::$name(&ctx);
                }
            )*
        }
    };
}

suite!(
    untampered_log_verifies_and_proves,
    reopen_continues_the_log,
    a_content_changed,
    b_content_and_leaf_hash_changed,
    c_entry_deleted,
    c_last_entry_deleted_under_a_head,
    d_entry_deleted_and_renumbered,
    e_entry_inserted_and_renumbered,
    e_entry_inserted_out_of_range,
    e_entry_appended_after_last_head_is_only_unsigned,
    f_two_entries_swapped,
    f_two_entries_swapped_renumbered_and_rehashed,
    g_everything_rewritten_consistently,
    forged_head_is_bad_signature,
    wrong_key_is_bad_signature,
    concurrent_appends_are_distinct_durable_and_batched,
    head_publisher_publishes_on_a_timer,
    sm3_and_sm2_log,
    async_style_submit,
    cli_entry_point,
);

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

const N: u64 = 20;

fn sample(i: u64) -> NewEntry {
    let action = Action::ALL[(i as usize) % Action::ALL.len()];
    NewEntry::new(format!("user-{i}"), action)
        .agency(format!("A{:03}", i % 7))
        .subject(format!("9112000{i:011}"))
        .object(format!("receipt-{i}"))
        .result(format!("answer {i}").as_bytes())
        .catalogue_version("2024.1")
        .data_version(i * 3)
        .detail(serde_json::json!({"note": format!("entry {i}"), "n": i}))
}

/// Appends `N` entries, publishing heads at 5, 10 and 20; returns after closing the log.
fn fill(ctx: &Ctx) {
    let log = ctx.open();
    for i in 1..=N {
        let a = log.append(sample(i)).unwrap();
        assert_eq!(a.seq, i);
        if i == 5 || i == 10 || i == N {
            assert_eq!(log.publish_head().unwrap().size, i);
        }
    }
    log.close().unwrap();
}

fn chain(prev: &str, leaf: &str) -> String {
    let p = hex::decode(prev).unwrap();
    let l = hex::decode(leaf).unwrap();
    hex::encode(HashAlgorithm::Sha256.digest(&[&p, &l]))
}

fn leaf(text: &str) -> String {
    hex::encode(HashAlgorithm::Sha256.leaf_hash(text.as_bytes()))
}

/// Sets the `seq` inside an entry's text.
fn with_seq(text: &str, seq: u64) -> String {
    let mut e: creditloop_audit::AuditEntry = serde_json::from_str(text).unwrap();
    e.seq = seq;
    String::from_utf8(e.canonical_bytes()).unwrap()
}

#[track_caller]
fn assert_first(report: &VerifyReport, seq: i64, kind: ProblemKind) {
    assert!(!report.ok, "tampering not detected:\n{report}");
    let p = report.first_problem.as_ref().unwrap();
    assert_eq!((p.seq, p.kind), (seq, kind), "wrong finding:\n{report}");
    // The report prints in both languages.
    let text = report.to_string();
    assert!(
        text.contains(kind.code()) && text.contains(kind.name_zh()),
        "{text}"
    );
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

fn untampered_log_verifies_and_proves(ctx: &Ctx) {
    fill(ctx);
    let r = ctx.verify();
    assert!(r.ok, "{r}");
    assert_eq!(
        (r.entries, r.heads, r.heads_verified, r.signed_size),
        (N, 3, 3, N)
    );
    assert!(r.first_problem.is_none());

    let log = ctx.open();
    let heads = log.heads().unwrap();
    assert_eq!(
        heads.iter().map(|h| h.size).collect::<Vec<_>>(),
        [5, 10, 20]
    );
    let latest = log.latest_head().unwrap().unwrap();
    assert_eq!(latest.size, N);
    assert!(latest.verify_signature(&ctx.key.verifying_key()));
    assert_eq!(log.root().unwrap(), latest.root);

    for h in &heads {
        for seq in 1..=h.size {
            let p = log.inclusion_proof(seq, h.size).unwrap();
            assert_eq!(p.root, h.root, "proof root is the signed root");
            assert!(p.verify());
            let mut bad = p.clone();
            bad.leaf_hash = leaf("not this");
            assert!(!bad.verify());
        }
    }
    for a in &heads {
        for b in &heads {
            if a.size <= b.size {
                let c = log.consistency_proof(a.size, b.size).unwrap();
                assert_eq!(
                    (c.first_root.as_str(), c.second_root.as_str()),
                    (a.root.as_str(), b.root.as_str())
                );
                assert!(c.verify());
            }
        }
    }
    assert!(log.inclusion_proof(21, 20).is_err());
    assert!(log.inclusion_proof(1, 21).is_err());
    assert!(log.consistency_proof(10, 5).is_err());

    let e = log.entry(7).unwrap().unwrap();
    assert_eq!(e.entry.seq, 7);
    assert_eq!(e.entry.actor, "user-7");
    assert_eq!(e.entry.action, Action::ALL[7 % Action::ALL.len()]);
    assert_eq!(e.entry.data_version, Some(21));
    assert_eq!(e.leaf_hash, log.inclusion_proof(7, 7).unwrap().leaf_hash);
    assert!(log.entry(99).unwrap().is_none());
    let page = log.entries(18, 10).unwrap();
    assert_eq!(
        page.iter().map(|e| e.entry.seq).collect::<Vec<_>>(),
        [18, 19, 20]
    );
}

fn reopen_continues_the_log(ctx: &Ctx) {
    fill(ctx);
    let log = ctx.open();
    assert_eq!(log.size(), N);
    assert_eq!(log.append(sample(21)).unwrap().seq, 21);
    log.publish_head().unwrap();
    drop(log);
    let r = ctx.verify();
    assert!(r.ok, "{r}");
    assert_eq!(r.signed_size, 21);
    // Opening with another hash function is refused: old heads would stop verifying.
    let other = LogOptions {
        hash: HashAlgorithm::Sm3,
        ..LogOptions::default()
    };
    assert!(AuditLog::open(&ctx.url, other).is_err());
}

fn a_content_changed(ctx: &Ctx) {
    fill(ctx);
    let mut raw = ctx.raw();
    let (_, _, text) = raw.row(7);
    raw.set(7, None, None, Some(&text.replace("user-7", "mallory")));
    let r = ctx.verify();
    assert_first(&r, 7, ProblemKind::Altered);
    assert!(r.first_problem.unwrap().detail_en.contains("leaf hash"));
}

fn b_content_and_leaf_hash_changed(ctx: &Ctx) {
    fill(ctx);
    let mut raw = ctx.raw();
    let (_, _, text) = raw.row(7);
    let forged = text.replace("user-7", "mallory");
    raw.set(7, Some(&leaf(&forged)), None, Some(&forged));
    let r = ctx.verify();
    assert_first(&r, 7, ProblemKind::Altered);
    assert!(
        r.first_problem
            .as_ref()
            .unwrap()
            .detail_en
            .contains("chain")
    );
    // The signed head over 6..=10 no longer matches either.
    assert!(
        r.problems
            .iter()
            .any(|p| p.kind == ProblemKind::RootMismatch && p.range == Some((6, 10)))
    );
}

fn c_entry_deleted(ctx: &Ctx) {
    fill(ctx);
    ctx.raw().exec("DELETE FROM audit_entries WHERE seq = 7");
    let r = ctx.verify();
    assert_first(&r, 7, ProblemKind::Removed);
    assert_eq!(r.first_problem.unwrap().range, Some((7, 7)));
}

fn c_last_entry_deleted_under_a_head(ctx: &Ctx) {
    fill(ctx);
    ctx.raw().exec("DELETE FROM audit_entries WHERE seq >= 19");
    let r = ctx.verify();
    // No gap in the rows: only the head of size 20 shows that 19 and 20 existed.
    assert_first(&r, 19, ProblemKind::Removed);
    assert_eq!(r.first_problem.unwrap().range, Some((19, 20)));
}

fn d_entry_deleted_and_renumbered(ctx: &Ctx) {
    fill(ctx);
    // Two steps through negative numbers, so that no intermediate row collides on the key.
    ctx.raw().exec(
        "DELETE FROM audit_entries WHERE seq = 7;
         UPDATE audit_entries SET seq = -(seq - 1) WHERE seq > 7;
         UPDATE audit_entries SET seq = -seq WHERE seq < 0;",
    );
    let r = ctx.verify();
    assert_first(&r, 7, ProblemKind::Removed);
    assert_eq!(r.entries, N - 1);
}

fn e_entry_inserted_and_renumbered(ctx: &Ctx) {
    fill(ctx);
    let mut raw = ctx.raw();
    let (_, chain6, text6) = raw.row(6);
    raw.exec(
        "UPDATE audit_entries SET seq = -(seq + 1) WHERE seq >= 7;
         UPDATE audit_entries SET seq = -seq WHERE seq < 0;",
    );
    // A well-formed fake entry 7, with a correct leaf hash and a correct chain value.
    let fake = with_seq(&text6.replace("user-6", "ghost"), 7);
    let fake_leaf = leaf(&fake);
    raw.insert(7, &fake_leaf, &chain(&chain6, &fake_leaf), &fake);
    let r = ctx.verify();
    assert_first(&r, 7, ProblemKind::Inserted);
}

fn e_entry_inserted_out_of_range(ctx: &Ctx) {
    fill(ctx);
    let mut raw = ctx.raw();
    let (l, c, t) = raw.row(3);
    raw.insert(0, &l, &c, &with_seq(&t, 0));
    assert_first(&ctx.verify(), 0, ProblemKind::Inserted);
}

fn e_entry_appended_after_last_head_is_only_unsigned(ctx: &Ctx) {
    // Appending a well-formed entry past the last signed head is indistinguishable from the log
    // having written it: the report says so (signed_size < entries) instead of failing. A head
    // published later by the real writer would cover it; a gap in seq would be caught.
    fill(ctx);
    let mut raw = ctx.raw();
    let (_, chain20, text20) = raw.row(20);
    let fake = with_seq(&text20, 21);
    let fake_leaf = leaf(&fake);
    raw.insert(21, &fake_leaf, &chain(&chain20, &fake_leaf), &fake);
    let r = ctx.verify();
    assert!(r.ok, "{r}");
    assert_eq!((r.entries, r.signed_size), (21, 20));
    assert!(r.to_string().contains("not yet covered"));
    // Jumping ahead with a gap, chained onto the last row, is named as an insertion.
    let fake30 = with_seq(&text20, 30);
    let l30 = leaf(&fake30);
    raw.insert(
        30,
        &l30,
        &chain(&chain(&chain20, &fake_leaf), &l30),
        &fake30,
    );
    let r = ctx.verify();
    assert_first(&r, 30, ProblemKind::Inserted);
}

fn f_two_entries_swapped(ctx: &Ctx) {
    fill(ctx);
    let mut raw = ctx.raw();
    let (l5, _, t5) = raw.row(5);
    let (l9, _, t9) = raw.row(9);
    raw.set(5, Some(&l9), None, Some(&t9));
    raw.set(9, Some(&l5), None, Some(&t5));
    let r = ctx.verify();
    assert_first(&r, 5, ProblemKind::Reordered);
    assert!(
        r.first_problem
            .unwrap()
            .detail_en
            .contains("stored at seq 9")
    );
}

fn f_two_entries_swapped_renumbered_and_rehashed(ctx: &Ctx) {
    fill(ctx);
    let mut raw = ctx.raw();
    let (_, _, t5) = raw.row(5);
    let (_, _, t9) = raw.row(9);
    let (n5, n9) = (with_seq(&t9, 5), with_seq(&t5, 9));
    raw.set(5, Some(&leaf(&n5)), None, Some(&n5));
    raw.set(9, Some(&leaf(&n9)), None, Some(&n9));
    let r = ctx.verify();
    assert_first(&r, 5, ProblemKind::Reordered);
    assert!(
        r.first_problem
            .unwrap()
            .detail_en
            .contains("originally at seq 9")
    );
}

fn g_everything_rewritten_consistently(ctx: &Ctx) {
    fill(ctx);
    let mut raw = ctx.raw();
    let (_, mut prev, _) = raw.row(6);
    for seq in 7..=N as i64 {
        let (_, _, text) = raw.row(seq);
        let text = if seq == 7 {
            text.replace("user-7", "mallory")
        } else {
            text
        };
        let l = leaf(&text);
        let c = chain(&prev, &l);
        raw.set(seq, Some(&l), Some(&c), Some(&text));
        prev = c;
    }
    let r = ctx.verify();
    // Rows and chain are self-consistent; only the signed heads, made with a key outside the
    // database, show it: the first failing head covers 6..=10, after the head of size 5.
    assert_first(&r, 6, ProblemKind::RootMismatch);
    let p = r.first_problem.as_ref().unwrap();
    assert_eq!((p.range, p.head_size), (Some((6, 10)), Some(10)));
    assert_eq!(r.signed_size, 5);
}

fn forged_head_is_bad_signature(ctx: &Ctx) {
    fill(ctx);
    ctx.raw().exec(&format!(
        "UPDATE audit_tree_heads SET root = '{}' WHERE size = 10",
        "ab".repeat(32)
    ));
    let r = ctx.verify();
    assert_first(&r, 10, ProblemKind::BadSignature);
    assert_eq!(r.heads_verified, 2);
}

fn wrong_key_is_bad_signature(ctx: &Ctx) {
    fill(ctx);
    let other = SigningKey::generate(SignatureAlgorithm::Ed25519).unwrap();
    let r = verify(&ctx.url, &other.verifying_key()).unwrap();
    assert_first(&r, 5, ProblemKind::BadSignature);
    assert_eq!(r.problems.len(), 3);
}

fn concurrent_appends_are_distinct_durable_and_batched(ctx: &Ctx) {
    const THREADS: u64 = 16;
    const EACH: u64 = 40;
    let log = Arc::new(ctx.open());
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let log = log.clone();
            std::thread::spawn(move || {
                (0..EACH)
                    .map(|i| log.append(sample(t * 1000 + i)).unwrap().seq)
                    .collect::<Vec<u64>>()
            })
        })
        .collect();
    let mut seqs: Vec<u64> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    seqs.sort_unstable();
    let total = THREADS * EACH;
    assert_eq!(
        seqs,
        (1..=total).collect::<Vec<_>>(),
        "distinct seqs without gaps"
    );
    let stats = log.stats();
    assert_eq!(stats.entries, total);
    assert!(
        stats.commits < total,
        "group commit did not batch: {} commits for {total} entries",
        stats.commits
    );
    eprintln!("{total} entries in {} commits", stats.commits);
    log.publish_head().unwrap();
    drop(log);
    let reopened = ctx.open();
    assert_eq!(
        reopened.size(),
        total,
        "every acknowledged entry is durable"
    );
    drop(reopened);
    let r = ctx.verify();
    assert!(r.ok, "{r}");
    assert_eq!(r.entries, total);
}

fn head_publisher_publishes_on_a_timer(ctx: &Ctx) {
    let log = ctx.open();
    let publisher = log.spawn_head_publisher(Duration::from_millis(30)).unwrap();
    log.append(sample(1)).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while log.stats().heads == 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(log.stats().heads >= 1);
    // Nothing new: no new head.
    std::thread::sleep(Duration::from_millis(150));
    let heads = log.stats().heads;
    assert_eq!(heads, 1, "heads are published only when the log grew");
    publisher.stop();
    assert_eq!(log.latest_head().unwrap().unwrap().size, 1);
}

fn sm3_and_sm2_log(ctx: &Ctx) {
    let key = SigningKey::generate(SignatureAlgorithm::Sm2).unwrap();
    let opts = LogOptions {
        hash: HashAlgorithm::Sm3,
        signer: Some(Arc::new(key.clone())),
        ..LogOptions::default()
    };
    let log = AuditLog::open(&ctx.url, opts).unwrap();
    for i in 1..=9 {
        log.append(sample(i)).unwrap();
    }
    let head = log.publish_head().unwrap();
    assert_eq!(
        (head.hash_algorithm, head.algorithm),
        (HashAlgorithm::Sm3, SignatureAlgorithm::Sm2)
    );
    let p = log.inclusion_proof(4, 9).unwrap();
    assert!(p.verify() && p.root == head.root);
    drop(log);
    let r = verify(&ctx.url, &key.verifying_key()).unwrap();
    assert!(r.ok, "{r}");
    assert_eq!(r.hash_algorithm, HashAlgorithm::Sm3);
    // SHA-256 opening of an SM3 log is refused.
    assert!(AuditLog::open(&ctx.url, LogOptions::default()).is_err());
}

fn async_style_submit(ctx: &Ctx) {
    let log = ctx.open();
    let pending: Vec<_> = (1..=10).map(|i| log.submit(sample(i))).collect();
    let (tx, rx) = std::sync::mpsc::channel();
    log.submit_with(sample(11), move |r| {
        let _ = tx.send(r.map(|a| a.seq));
    });
    let seqs: Vec<u64> = pending.into_iter().map(|p| p.wait().unwrap().seq).collect();
    assert_eq!(seqs, (1..=10).collect::<Vec<_>>());
    assert_eq!(rx.recv().unwrap().unwrap(), 11);
    // Without a signer a head cannot be published, and says why.
    let unsigned = AuditLog::open(&ctx.url, LogOptions::default()).unwrap();
    assert!(matches!(
        unsigned.publish_head(),
        Err(creditloop_audit::Error::NoSigner)
    ));
}

fn cli_entry_point(ctx: &Ctx) {
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("audit.key");
    generate_key_file(&key_path, SignatureAlgorithm::Ed25519).unwrap();
    let key = creditloop_audit::load_signing_key(&key_path).unwrap();
    let log = AuditLog::open(&ctx.url, LogOptions::with_signer(Arc::new(key))).unwrap();
    for i in 1..=5 {
        log.append(sample(i)).unwrap();
    }
    log.publish_head().unwrap();
    drop(log);
    let pub_path = creditloop_audit::public_key_path(&key_path);
    let r = run_verify_cli(&ctx.url, &pub_path).unwrap();
    assert_eq!(r.exit_code(), 0, "{r}");
    ctx.raw().exec("DELETE FROM audit_entries WHERE seq = 2");
    let r = run_verify_cli(&ctx.url, &pub_path).unwrap();
    assert_eq!(r.exit_code(), 1);
    assert_first(&r, 2, ProblemKind::Removed);
}

#[test]
fn verify_refuses_a_missing_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("nope.db").display());
    let key = SigningKey::generate(SignatureAlgorithm::Ed25519).unwrap();
    assert!(verify(&url, &key.verifying_key()).is_err());
    assert!(!dir.path().join("nope.db").exists());
    assert!(AuditLog::open("mysql://x", LogOptions::default()).is_err());
}
