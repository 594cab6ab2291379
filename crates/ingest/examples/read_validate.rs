//! Measures what the import's reading thread does, alone and on one thread: reads a file as the
//! import does (`read_path`) and validates every row, without storing anything. Prints rows/s and
//! µs/row; under `valgrind --tool=callgrind` it gives instruction counts that repeat run to run.
//!
//! `cargo run --release -p creditloop-ingest --example read_validate -- FILE [TODAY]`
//! (TODAY as `YYYY-MM-DD`, default 2026-06-30, the benchmark file's day).

use std::path::PathBuf;
use std::time::Instant;

use chrono::NaiveDate;
use creditloop_ingest::{ReadOptions, Validator, ValidatorConfig, read_path};

/// The binary's allocator, so that the figures are the import's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let Some(path) = std::env::args().nth(1).map(PathBuf::from) else {
        eprintln!("usage: read_validate FILE [TODAY]");
        std::process::exit(2);
    };
    let today = std::env::args()
        .nth(2)
        .and_then(|s| NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok())
        .or_else(|| NaiveDate::from_ymd_opt(2026, 6, 30))
        .unwrap_or_default();
    let validator = Validator::new(ValidatorConfig::new(
        today,
        std::sync::Arc::new(creditloop_pii::test_key()),
    ));
    let start = Instant::now();
    let rows = match read_path(&path, None, &ReadOptions::default()) {
        Ok(rows) => rows,
        Err(e) => {
            eprintln!("cannot read {}: {e}", path.display());
            std::process::exit(1);
        }
    };
    let (mut read, mut accepted, mut unreadable) = (0u64, 0u64, 0u64);
    for row in rows {
        read += 1;
        match row {
            Ok(raw) => {
                if validator.validate(&raw).is_ok() {
                    accepted += 1;
                }
            }
            Err(_) => unreadable += 1,
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{read} rows ({accepted} accepted, {unreadable} unreadable) in {secs:.3} s: {:.0} rows/s, {:.2} µs/row",
        read as f64 / secs,
        secs * 1e6 / read.max(1) as f64
    );
}
