//! `creditloop agencies`: the agencies table (code, name, level, region, parent) as data.

use crate::out::outln;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use crate::{DB_ENV, DEFAULT_DB};

#[derive(clap::Args)]
pub struct Args {
    /// Store URL: sqlite://PATH or postgres://…
    #[arg(long, env = DB_ENV, default_value = DEFAULT_DB, global = true)]
    pub db: String,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(clap::Subcommand)]
enum Cmd {
    /// Insert or update agencies from a CSV with columns code, name, level, region, parent.
    Import { file: PathBuf },
    /// List the agencies as CSV.
    List,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let store = creditloop_store::open(&args.db).with_context(|| format!("opening {}", args.db))?;
    match args.command {
        Cmd::Import { file } => {
            let agencies = crate::demo_cmd::read_agencies(&file)?;
            store.put_agencies(&agencies)?;
            outln!("{} 个部门 agencies stored", agencies.len());
        }
        Cmd::List => {
            let mut w = csv::Writer::from_writer(std::io::stdout().lock());
            w.write_record(["code", "name", "level", "region", "parent"])?;
            for a in store.agencies()? {
                w.write_record([
                    a.code.as_str(),
                    a.name.as_str(),
                    a.level.code(),
                    a.region.as_str(),
                    a.parent.as_deref().unwrap_or(""),
                ])?;
            }
            w.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
