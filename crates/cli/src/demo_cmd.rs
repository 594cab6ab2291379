//! `creditloop demo`: the first command a new user runs. Generates demo data into a SQLite file
//! (once), imports it through the normal collection path, and serves it.

use crate::out::noticeln;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use creditloop_domain::agency::{Agency, AgencyLevel};
use creditloop_gen::GenConfig;

use crate::import_cmd;

#[derive(clap::Args)]
pub struct Args {
    /// Store URL; the demo uses its own SQLite file by default.
    #[arg(long, default_value = "sqlite://creditloop-demo.db")]
    pub db: String,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Subjects in the demo data.
    #[arg(long, default_value_t = 1_000)]
    pub subjects: u64,
    /// Records in the demo data.
    #[arg(long, default_value_t = 8_000)]
    pub records: u64,
    /// Load the data and exit without serving (for scripts and tests).
    #[arg(long)]
    pub no_serve: bool,
    /// Require tokens as `creditloop serve` does, instead of open access (anonymous callers acting
    /// as the credit office administrator, the demo's default on its loopback address).
    #[arg(long)]
    pub no_open_access: bool,
    #[command(flatten)]
    pub net: crate::serve_cmd::NetArgs,
    #[command(flatten)]
    pub pii: crate::pii_cmd::PiiArgs,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let store: Arc<dyn creditloop_store::Store> = Arc::from(
        creditloop_store::open(&args.db).with_context(|| format!("opening {}", args.db))?,
    );
    let totals = store.totals()?;
    if totals.records == 0 {
        let dir = tempdir()?;
        let mut cfg = GenConfig::demo();
        cfg.out_dir = dir.clone();
        cfg.subjects = args.subjects;
        cfg.records = args.records;
        cfg.today = crate::today();
        noticeln!(
            "生成演示数据 generating demo data: {} subjects, {} records …",
            cfg.subjects,
            cfg.records
        );
        let report = crate::generate_cmd::generate(&cfg)?;
        let audit = creditloop_server::audit::open_appending(
            &creditloop_server::audit::audit_url(&args.db),
        )?;
        let agencies = read_agencies(&dir.join("agencies.csv"))?;
        store.put_agencies(&agencies)?;
        for (path, _, _) in &report.files {
            if path.file_name().is_some_and(|n| n == "agencies.csv") {
                continue;
            }
            let a = import_cmd::Args {
                db: args.db.clone(),
                file: path.clone(),
                category: None,
                encoding: None,
                sheet: None,
                standard_version: None,
                json: false,
                rejects: None,
                all_or_nothing: false,
                batch_size: 20_000,
                group_rows: creditloop_ingest::pipeline::BULK_GROUP_ROWS,
                agency: None,
                deadline_working_days: 7,
                today: Some(cfg.today),
                pii: args.pii.clone(),
            };
            let r = import_cmd::import_file(&*store, &a)?;
            creditloop_server::audit::append_blocking(
                &audit,
                creditloop_server::intake::submission_entry(&r, None),
            )
            .map_err(|e| anyhow::anyhow!(e))?;
            noticeln!(
                "  {}: 入库 accepted {}, 拒收 rejected {} (deliberately bad rows), 逾期 late {}",
                path.file_name()
                    .map(|n| n.to_string_lossy())
                    .unwrap_or_default(),
                r.counts.accepted,
                r.counts.rejected,
                r.counts.late
            );
        }
        let _ = std::fs::remove_dir_all(&dir);
    } else {
        noticeln!(
            "使用已有数据 using existing data: {} subjects, {} records",
            totals.subjects,
            totals.records
        );
    }
    if args.no_serve {
        return Ok(ExitCode::SUCCESS);
    }
    crate::serve_cmd::serve(
        store,
        &args.db,
        &crate::serve_cmd::AuditArgs {
            audit_head_every: 60,
            ..Default::default()
        },
        args.pii.load(&args.db, true)?,
        args.listen,
        !args.no_open_access,
        &args.net,
    )?;
    Ok(ExitCode::SUCCESS)
}

fn tempdir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("creditloop-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Reads the generator's `agencies.csv` (code, name, level, region, parent).
pub fn read_agencies(path: &Path) -> anyhow::Result<Vec<Agency>> {
    let mut r =
        csv::Reader::from_path(path).with_context(|| format!("reading {}", path.display()))?;
    let mut out = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let rec = rec?;
        let get = |n: usize| rec.get(n).unwrap_or("").trim().to_string();
        let level = AgencyLevel::from_code(&get(2)).with_context(|| {
            format!(
                "{} row {}: unknown level `{}`",
                path.display(),
                i + 2,
                get(2)
            )
        })?;
        let parent = get(4);
        let code = creditloop_domain::ids::normalize(&get(0));
        if let Err(e) = creditloop_domain::ids::Uscc::parse(&code) {
            anyhow::bail!(
                "{} 第 {} 行 row {}: code `{code}`: {} / {e}",
                path.display(),
                i + 2,
                i + 2,
                e.zh()
            );
        }
        out.push(Agency {
            code,
            name: get(1),
            level,
            region: get(3),
            parent: (!parent.is_empty()).then_some(parent),
        });
    }
    Ok(out)
}
