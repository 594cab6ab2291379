//! `creditloop check`: 事前信用查询 of one subject in one scenario, or a batch file of subjects.
//!
//! Every check is stored with a receipt id, as over HTTP. A single check reads the store directly
//! (no index to build); a batch builds the in-memory index once and streams the file through it.

use crate::out::outln;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use chrono::NaiveDate;
use creditloop_domain::catalogue::CompiledCatalogue;
use creditloop_server::AppState;
use creditloop_server::batch_check::{CsvSink, OutFormat, ResultSink, XlsxSink};
use creditloop_server::checks::CheckRequest;

use crate::{DB_ENV, DEFAULT_DB, parse_date};

#[derive(clap::Args)]
pub struct Args {
    /// Store URL: sqlite://PATH or postgres://…
    #[arg(long, env = DB_ENV, default_value = DEFAULT_DB)]
    pub db: String,
    /// Unified code, resident number, another code, or the exact name.
    #[arg(long, required_unless_present = "batch")]
    pub subject: Option<String>,
    /// Scenario code (government_procurement, public_bidding, administrative_licence, …).
    #[arg(long)]
    pub scenario: String,
    /// The acting agency's unified code.
    #[arg(long)]
    pub agency: Option<String>,
    /// The acting agency's case reference (办件编号).
    #[arg(long)]
    pub case_ref: Option<String>,
    /// Check as of this day (default: today in China).
    #[arg(long, value_parser = parse_date)]
    pub on: Option<NaiveDate>,
    /// Print one JSON object with `decision`, `measures` and `receipt`.
    #[arg(long)]
    pub json: bool,
    /// A CSV or XLSX of subjects (a column 统一社会信用代码 / 证件号码 / 名称 …, else the first).
    #[arg(long, conflicts_with = "subject")]
    pub batch: Option<PathBuf>,
    /// Where the batch results go (.csv or .xlsx); standard output (CSV) when absent.
    #[arg(long, requires = "batch")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub pii: crate::pii_cmd::PiiArgs,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let store = creditloop_store::open(&args.db).with_context(|| format!("opening {}", args.db))?;
    let on = args.on.unwrap_or_else(crate::today);
    // Persons are looked up by pseudonym: a key other than the one the store was imported with
    // is refused (a missing default key file is created, and binds a store that holds no persons).
    let pii = args.pii.load(&args.db, true)?;
    store.check_pii_key(&pii.check_value())?;
    if let Some(path) = &args.batch {
        return batch(Arc::from(store), &args, path, on, pii);
    }
    let catalogue = CompiledCatalogue::compile(&creditloop_server::active_catalogue(&*store)?);
    let req = CheckRequest {
        subject: args.subject.clone().unwrap_or_default(),
        scenario: args.scenario.clone(),
        agency: args.agency.clone(),
        case_ref: args.case_ref.clone(),
    };
    let (mut answer, row) =
        creditloop_server::checks::check_and_store(&*store, &pii, &catalogue, &req, on)
            .map_err(|e| anyhow::anyhow!("{e} / {}", e.zh()))?;
    let audit =
        creditloop_server::audit::open_appending(&creditloop_server::audit::audit_url(&args.db))?;
    creditloop_server::audit::append_blocking(&audit, creditloop_server::checks::audit_entry(&row))
        .map_err(|e| anyhow::anyhow!(e))?;
    if args.json {
        creditloop_server::mask::mask_json(&mut answer);
        outln!("{}", serde_json::to_string(&answer)?);
        return Ok(ExitCode::SUCCESS);
    }
    let outcome: creditloop_domain::catalogue::CheckOutcome = serde_json::from_str(&row.answer)?;
    outln!("{}", outcome.summary_zh());
    outln!(
        "decision: {} · scenario: {} · catalogue: {} · receipt: {}",
        outcome.decision.code(),
        outcome.scenario.as_str(),
        outcome.catalogue_version.label_zh(),
        row.id
    );
    for m in &outcome.measures {
        outln!(
            "  {} [{}] {} — 实施部门 {} — 依据 {} {}",
            m.code,
            m.action.zh(),
            m.content,
            m.implementing_agency,
            m.legal_basis.document,
            m.legal_basis.article
        );
        for k in &m.triggering {
            outln!(
                "      触发记录 {} {} {}",
                k.category.zh(),
                k.source,
                k.doc_no
            );
        }
    }
    for d in &outcome.disregarded {
        outln!(
            "  未予考虑 disregarded: {} {} ({})",
            d.key.category.zh(),
            d.key.doc_no,
            d.reason_zh
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn batch(
    store: Arc<dyn creditloop_store::Store>,
    args: &Args,
    path: &std::path::Path,
    on: NaiveDate,
    pii: Arc<creditloop_pii::PiiKey>,
) -> anyhow::Result<ExitCode> {
    let scenario = creditloop_server::checks::scenario(&args.scenario)
        .map_err(|e| anyhow::anyhow!("{e} / {}", e.zh()))?;
    let started = std::time::Instant::now();
    let audit =
        creditloop_server::audit::open_appending(&creditloop_server::audit::audit_url(&args.db))?;
    let state = AppState::new(store, Arc::new(audit), pii)?;
    eprintln!(
        "check index built in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let rows = creditloop_ingest::read_path(path, None, &creditloop_ingest::ReadOptions::default())
        .with_context(|| format!("reading {}", path.display()))?;
    let format = match &args.out {
        Some(p) => {
            let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("csv");
            OutFormat::parse(ext).ok_or_else(|| {
                anyhow::anyhow!("不支持的结果格式 .{ext}：应为 .csv 或 .xlsx / use .csv or .xlsx")
            })?
        }
        None => OutFormat::Csv,
    };
    let mut sink: Box<dyn ResultSink> = match (&args.out, format) {
        (Some(p), OutFormat::Xlsx) => Box::new(XlsxSink::create(p)?),
        (Some(p), OutFormat::Csv) => Box::new(CsvSink::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?,
        ))?),
        (None, _) => Box::new(CsvSink::new(std::io::BufWriter::new(std::io::stdout()))?),
    };
    let batch_id = format!("B{}", creditloop_store::new_check_id(chrono::Utc::now()));
    let summary = creditloop_server::check_api_run_batch(
        &state,
        &scenario,
        on,
        args.agency
            .as_deref()
            .map(creditloop_domain::ids::normalize),
        batch_id,
        rows,
        &mut *sink,
    )
    .map_err(|e| anyhow::anyhow!(e))?;
    sink.finish()?;
    eprintln!(
        "batch {}: {} rows in {:.1} s; {}",
        summary.batch_id,
        summary.rows,
        started.elapsed().as_secs_f64(),
        serde_json::to_string(&summary.by_decision)?
    );
    Ok(ExitCode::SUCCESS)
}
