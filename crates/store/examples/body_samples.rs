//! Writes the JSON of every `N`th record body of a SQLite store as one file each, the samples
//! `scripts/train-body-dict.sh` trains a body dictionary on (see `src/body.rs`).
//!
//! ```text
//! cargo run --release -p creditloop-store --example body_samples -- DB OUT_DIR [N]
//! ```

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(db), Some(out)) = (args.first(), args.get(1)) else {
        eprintln!("usage: body_samples DB OUT_DIR [N]");
        return ExitCode::from(2);
    };
    let every: i64 = match args.get(2).map(|n| n.parse()) {
        None => 7,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("N must be a positive whole number");
            return ExitCode::from(2);
        }
    };
    match run(db, out, every) {
        Ok(n) => {
            println!("{n} samples in {out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

fn run(db: &str, out: &str, every: i64) -> Result<usize, Box<dyn std::error::Error>> {
    std::fs::create_dir_all(out)?;
    let c = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let mut st = c.prepare("SELECT id, body FROM records WHERE id % ?1 = 0")?;
    let mut rows = st.query([every])?;
    let mut n = 0;
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        let stored = match r.get_ref(1)? {
            rusqlite::types::ValueRef::Text(b) | rusqlite::types::ValueRef::Blob(b) => b,
            _ => continue,
        };
        let json = creditloop_store::body::body_json(stored)?;
        std::fs::write(format!("{out}/{id}.json"), &*json)?;
        n += 1;
    }
    Ok(n)
}
