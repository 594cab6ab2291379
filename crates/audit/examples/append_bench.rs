//! Group-commit throughput of the audit log.
//!
//! `cargo run --release -p creditloop-audit --example append_bench -- [THREADS] [PER_THREAD]`
//!
//! THREADS threads each append PER_THREAD entries (blocking until durable) to a fresh SQLite file
//! and, when reachable, a fresh PostgreSQL database on `CREDITLOOP_TEST_PG` (default
//! `postgres://postgres@127.0.0.1:5432/test`), then print entries/s, commits, entries per commit
//! and the p50/p99 latency of one append.

use std::sync::Arc;
use std::time::{Duration, Instant};

use creditloop_audit::{
    Action, AuditLog, LogOptions, NewEntry, SignatureAlgorithm, SigningKey, verify,
};

fn entry(t: usize, i: usize) -> NewEntry {
    NewEntry::new(format!("user-{t}"), Action::Check)
        .agency(format!("A{:03}", t % 50))
        .subject(format!("91120000{i:010}"))
        .object(format!("receipt-{t}-{i}"))
        .result(format!("answer {t} {i}").as_bytes())
        .catalogue_version("2024.1")
        .data_version(42)
        .detail(serde_json::json!({"measures": ["m1", "m7"], "class": "良好"}))
}

fn run(label: &str, url: &str, threads: usize, per_thread: usize) -> Result<(), String> {
    let key = SigningKey::generate(SignatureAlgorithm::Ed25519).map_err(|e| e.to_string())?;
    let public = key.verifying_key();
    let log = Arc::new(
        AuditLog::open(url, LogOptions::with_signer(Arc::new(key))).map_err(|e| e.to_string())?,
    );
    let start = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let log = log.clone();
            std::thread::spawn(move || -> Result<Vec<Duration>, String> {
                let mut lat = Vec::with_capacity(per_thread);
                for i in 0..per_thread {
                    let t0 = Instant::now();
                    log.append(entry(t, i)).map_err(|e| e.to_string())?;
                    lat.push(t0.elapsed());
                }
                Ok(lat)
            })
        })
        .collect();
    let mut lat = Vec::new();
    for h in handles {
        lat.extend(h.join().map_err(|_| "thread panicked".to_string())??);
    }
    let elapsed = start.elapsed();
    let t0 = Instant::now();
    let head = log.publish_head().map_err(|e| e.to_string())?;
    let head_time = t0.elapsed();
    let stats = log.stats();
    drop(log);
    let t0 = Instant::now();
    let report = verify(url, &public).map_err(|e| e.to_string())?;
    let verify_time = t0.elapsed();
    if !report.ok {
        return Err(format!("the benchmark log does not verify:\n{report}"));
    }
    lat.sort_unstable();
    let total = lat.len();
    let pct = |p: f64| lat[((total as f64 * p) as usize).min(total - 1)];
    println!(
        "{label:<10} {threads:>3} threads x {per_thread:>5}: {total} entries in {:.2} s = {:>8.0} entries/s; \
         {} commits, {:.1} entries/commit; append latency p50 {:.2} ms, p99 {:.2} ms; \
         tree head of {} signed and stored in {:.2} ms; full verify {:.2} s",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64(),
        stats.commits,
        total as f64 / stats.commits.max(1) as f64,
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        head.size,
        head_time.as_secs_f64() * 1e3,
        verify_time.as_secs_f64(),
    );
    Ok(())
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let threads = args.first().copied().unwrap_or(16).max(1);
    let per_thread = args.get(1).copied().unwrap_or(1000).max(1);

    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("no temp dir: {e}");
            std::process::exit(1);
        }
    };
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    for t in [1, threads] {
        let db = dir.path().join(format!("bench-{t}.db"));
        let url = format!("sqlite://{}", db.display());
        if let Err(e) = run("sqlite", &url, t, per_thread) {
            eprintln!("sqlite: {e}");
        }
    }
    drop(url);

    let admin = std::env::var("CREDITLOOP_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    match postgres::Client::connect(&admin, postgres::NoTls) {
        Err(e) => println!("postgres   SKIPPED: not reachable at {admin}: {e}"),
        Ok(mut c) => {
            for t in [1, threads] {
                let name = format!("cl_audit_bench_{}_{t}", std::process::id());
                if let Err(e) = c.batch_execute(&format!("CREATE DATABASE {name}")) {
                    eprintln!("postgres: {e}");
                    break;
                }
                let url = match admin.rsplit_once('/') {
                    Some((base, _)) => format!("{base}/{name}"),
                    None => admin.clone(),
                };
                if let Err(e) = run("postgres", &url, t, per_thread) {
                    eprintln!("postgres: {e}");
                }
                let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}
