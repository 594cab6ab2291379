//! The real creditloop server (router, check path, check log, audit log) over a synthetic
//! province-scale index, for the HTTP benchmarks of BENCHMARKS.md.
//!
//! ```text
//! cargo run --release -p creditloop-bench --bin http_server -- --scale 1 --listen 127.0.0.1:8090 \
//!     --dir /tmp/creditloop-http --codes 200000
//! wrk -t1 -c64 -d30s -s crates/bench/wrk/checks.lua http://127.0.0.1:8090   # codes from --dir
//! ```
//!
//! The index is built from [`creditloop_bench::synth::World`] (the population of the check
//! benchmark and the yardsticks) instead of being read from a store holding 12.67 M records: the
//! check path and what it serves are the same, and the start takes a minute instead of an import.
//! Checks are stored in a fresh SQLite file and audited in a fresh audit log under `--dir`, exactly
//! as `creditloop serve` does. `--codes N` writes N subject codes (and a batch file of
//! `--batch-rows` codes) for the load generators. `--no-audit` answers single checks without
//! auditing them (still storing them), only to measure what the audit log costs the check path.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use creditloop_bench::synth::{DEFAULT_SEED, World};
use creditloop_index::IndexBuilder;
use creditloop_server::AppState;
use creditloop_server::readpath::ReadPath;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The allocator `creditloop serve` uses.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Opts {
    scale: f64,
    listen: SocketAddr,
    dir: PathBuf,
    codes: usize,
    batch_rows: usize,
    today: Option<chrono::NaiveDate>,
    /// Answer checks without auditing them, to measure what the audit log costs (issue 4).
    no_audit: bool,
}

fn opts() -> Result<Opts, String> {
    let mut o = Opts {
        scale: 1.0,
        listen: "127.0.0.1:8090".parse().map_err(|e| format!("{e}"))?,
        dir: PathBuf::from("/tmp/creditloop-http"),
        codes: 200_000,
        batch_rows: 2_540_000,
        today: chrono::NaiveDate::from_ymd_opt(2025, 6, 30),
        no_audit: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match a.as_str() {
            "--scale" => o.scale = val("--scale")?.parse().map_err(|e| format!("{e}"))?,
            "--listen" => o.listen = val("--listen")?.parse().map_err(|e| format!("{e}"))?,
            "--dir" => o.dir = PathBuf::from(val("--dir")?),
            "--codes" => o.codes = val("--codes")?.parse().map_err(|e| format!("{e}"))?,
            "--batch-rows" => {
                o.batch_rows = val("--batch-rows")?.parse().map_err(|e| format!("{e}"))?
            }
            "--no-audit" => o.no_audit = true,
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(o)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let o = opts()?;
    std::fs::create_dir_all(&o.dir)?;
    for f in [
        "checks.db",
        "checks.db-wal",
        "checks.db-shm",
        "checks.checks.db",
        "checks.checks.db-wal",
        "checks.checks.db-shm",
        "checks.audit.db",
        "checks.audit.db-wal",
        "checks.audit.db-shm",
    ] {
        let _ = std::fs::remove_file(o.dir.join(f));
    }
    let world = World::new(o.scale);
    let t = Instant::now();
    let mut builder = IndexBuilder::new().with_version(1);
    world.generate(DEFAULT_SEED, |item| builder.push(item));
    let index = builder.build();
    eprintln!(
        "index: {} subjects, {} records in {:.1}s",
        index.subject_count(),
        index.record_count(),
        t.elapsed().as_secs_f64()
    );

    // Codes for wrk (one a line) and a batch file (a CSV with a header) for the batch benchmark.
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut w = std::io::BufWriter::new(std::fs::File::create(o.dir.join("codes.txt"))?);
    for _ in 0..o.codes {
        writeln!(w, "{}", world.code(rng.gen_range(0..world.subjects)))?;
    }
    w.flush()?;
    let mut w = std::io::BufWriter::new(std::fs::File::create(o.dir.join("batch.csv"))?);
    writeln!(w, "统一社会信用代码")?;
    for _ in 0..o.batch_rows {
        writeln!(w, "{}", world.code(rng.gen_range(0..world.subjects)))?;
    }
    w.flush()?;

    let url = format!("sqlite://{}", o.dir.join("checks.db").display());
    let store: Arc<dyn creditloop_store::Store> = Arc::from(creditloop_store::open(&url)?);
    let audit = creditloop_server::audit::open_signing(
        &creditloop_server::audit::audit_url(&url),
        &o.dir.join("audit.key"),
        true,
    )?;
    // The synthetic index never passed through ingest (its persons keep plain synthetic keys), so
    // any key serves; the fixed test key keeps runs comparable.
    let mut state = AppState::with_read_path(
        store,
        Arc::new(audit),
        ReadPath::from_index(index, 0),
        Arc::new(creditloop_pii::test_key()),
    )?;
    state.today = o.today;
    state.audit_checks = !o.no_audit;
    // The load generator calls without a token, as the demo does.
    state.open_access = true;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(o.listen).await?;
        println!(
            "serving on http://{}/ (codes in {})",
            o.listen,
            o.dir.display()
        );
        creditloop_server::serve(listener, state).await
    })?;
    Ok(())
}
