//! `creditloop import`: collection (归集) of a file into the store.

use std::io::{IsTerminal, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use chrono::NaiveDate;
use creditloop_domain::record::Category;
use creditloop_ingest::{
    ImportOptions, ImportReport, ReadOptions, RejectSink, RejectsWriter, StandardVersion,
    Validator, ValidatorConfig,
};
use indicatif::{ProgressBar, ProgressStyle};

use crate::{DB_ENV, DEFAULT_DB, parse_date};

#[derive(clap::Args)]
pub struct Args {
    /// Store URL: sqlite://PATH or postgres://…
    #[arg(long, env = DB_ENV, default_value = DEFAULT_DB)]
    pub db: String,
    /// The file: .csv/.txt, .xlsx/.xlsm, .jsonl/.ndjson or .json.
    pub file: PathBuf,
    /// Category of every row when the file does not say (penalty, licence, …, or the Chinese name).
    #[arg(long, value_parser = parse_category)]
    pub category: Option<Category>,
    /// CSV encoding: utf-8, gbk or gb18030 (detected when absent).
    #[arg(long)]
    pub encoding: Option<String>,
    /// Sheet of a workbook (the first when absent).
    #[arg(long)]
    pub sheet: Option<String>,
    /// 双公示 standard version of the columns, 1.0 or 2.0 (detected when absent).
    #[arg(long)]
    pub standard_version: Option<String>,
    /// Print exactly one JSON object (the report) on standard output.
    #[arg(long)]
    pub json: bool,
    /// Write the rejected rows to this CSV, to correct and import again.
    #[arg(long)]
    pub rejects: Option<PathBuf>,
    /// One transaction for the whole file: if any row is rejected, no record is stored.
    #[arg(long)]
    pub all_or_nothing: bool,
    /// Rows per batch (each acknowledged once durable; a whole-file import commits several whole
    /// batches per transaction).
    #[arg(long, default_value_t = 20_000)]
    pub batch_size: usize,
    /// Rows per transaction of a whole-file import: whole batches are committed together up to it
    /// (fewer commits are faster; another writer waits at most one transaction).
    #[arg(long, default_value_t = creditloop_ingest::pipeline::BULK_GROUP_ROWS)]
    pub group_rows: usize,
    /// The submitting agency's unified code (数据来源单位 of rows that name none).
    #[arg(long)]
    pub agency: Option<String>,
    /// Working days allowed from decision to submission.
    #[arg(long, default_value_t = 7)]
    pub deadline_working_days: u32,
    /// Take this day as today (replaying history); the real date in China when absent.
    #[arg(long, value_parser = parse_date)]
    pub today: Option<NaiveDate>,
    #[command(flatten)]
    pub pii: crate::pii_cmd::PiiArgs,
}

fn parse_category(s: &str) -> Result<Category, String> {
    Category::parse(s).ok_or_else(|| {
        let all: Vec<&str> = Category::ALL.iter().map(|c| c.code()).collect();
        format!("unknown category `{s}`; use one of {}", all.join(", "))
    })
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let store = creditloop_store::open(&args.db).with_context(|| format!("opening {}", args.db))?;
    let report = import_file(&*store, &args)?;
    // Every push is audited; the server's publisher signs heads over these entries.
    let audit =
        creditloop_server::audit::open_appending(&creditloop_server::audit::audit_url(&args.db))
            .context("opening the audit log")?;
    creditloop_server::audit::append_blocking(
        &audit,
        creditloop_server::intake::submission_entry(&report, args.agency.as_deref()),
    )
    .map_err(|e| anyhow::anyhow!(e))?;
    let out = if args.json {
        let v = creditloop_server::intake::report_json(&report);
        eprint!("{}", summary(&report, &args));
        format!("{}\n", serde_json::to_string(&v)?)
    } else {
        summary(&report, &args)
    };
    // The records are stored by now: a reader that closed the pipe early (`| head`) loses the
    // report, not the import, so that ends quietly instead of in a panic.
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            return Err(anyhow::Error::new(e).context("writing the report"));
        }
        _ => {}
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads, validates and stores one file; shows a progress bar on a terminal.
pub fn import_file(
    store: &dyn creditloop_store::Store,
    args: &Args,
) -> anyhow::Result<ImportReport> {
    let today = args.today.unwrap_or_else(crate::today);
    let mut cfg = ValidatorConfig::new(today, args.pii.load(&args.db, true)?);
    cfg.category = args.category;
    cfg.deadline_working_days = args.deadline_working_days;
    if let Some(v) = &args.standard_version {
        cfg.standard_version = Some(
            StandardVersion::parse(v)
                .with_context(|| format!("unknown standard version `{v}`: use 1.0 or 2.0"))?,
        );
    }
    if let Some(code) = &args.agency {
        cfg.default_source_unit = Some(
            creditloop_server::intake::agency_ref(store, code)
                .map_err(|(zh, en)| anyhow::anyhow!("--agency: {en} / {zh}"))?,
        );
    }
    let validator = Validator::new(cfg);

    let mut read = ReadOptions::default();
    if let Some(enc) = &args.encoding {
        read = read.with_encoding_name(enc)?;
    }
    read.sheet = args.sheet.clone();
    let digest = creditloop_ingest::sha256_file(&args.file)
        .with_context(|| format!("reading {}", args.file.display()))?;
    let rows = creditloop_ingest::read_path(&args.file, None, &read)?;
    let opts = ImportOptions {
        batch_size: args.batch_size,
        all_or_nothing: args.all_or_nothing,
        source_name: args
            .file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        source_digest: digest,
        agency: args.agency.clone(),
        bulk: true,
        group_rows: args.group_rows.max(1),
        encoders: None,
    };

    let bar = if std::io::stderr().is_terminal() {
        let b = ProgressBar::new_spinner();
        b.set_style(
            ProgressStyle::with_template(
                "{spinner} {elapsed_precise} 已读 {pos} 行 rows read ({per_sec}) {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        b.enable_steady_tick(Duration::from_millis(200));
        b
    } else {
        ProgressBar::hidden()
    };
    let mut on_progress = |p: creditloop_ingest::Progress| {
        bar.set_position(p.rows_read);
        bar.set_message(format!(
            "入库 accepted {} · 重复 duplicates {} · 拒收 rejected {}",
            p.written.accepted, p.written.duplicates, p.rejected
        ));
    };
    let mut writer = match &args.rejects {
        Some(path) => Some(RejectsWriter::create(path)?),
        None => None,
    };
    let report = creditloop_ingest::import_with_rejects(
        rows,
        &validator,
        store,
        &opts,
        writer.as_mut().map(|w| w as &mut dyn RejectSink),
        &mut on_progress,
    );
    bar.finish_and_clear();
    if let Some(w) = writer {
        w.finish()?;
    }
    Ok(report?)
}

fn summary(r: &ImportReport, args: &Args) -> String {
    let secs = r.elapsed.as_secs_f64().max(1e-9);
    let mut s = format!(
        "{file}: 读取 {read} 行 rows read in {secs:.1}s ({rate:.0} rows/s)\n\
         入库 accepted {acc} (其中更正版本 new versions {nv}) · 重复 duplicates {dup} · \
         拒收 rejected {rej} · 逾期 late {late}\n",
        file = args.file.display(),
        read = r.rows_read,
        rate = r.rows_read as f64 / secs,
        acc = r.counts.accepted,
        nv = r.counts.new_versions,
        dup = r.counts.duplicates,
        rej = r.counts.rejected,
        late = r.counts.late,
    );
    if !r.stored {
        s.push_str(
            "全部或全不：有拒收行，未入库任何记录 all-or-nothing: rows were rejected, nothing stored\n",
        );
    }
    if !r.unknown_columns.is_empty() {
        s.push_str(&format!(
            "未识别的列（已忽略） unknown columns (ignored): {}\n",
            r.unknown_columns.join(", ")
        ));
    }
    for rej in r.first_rejects.iter().take(10) {
        for e in &rej.errors {
            s.push_str(&format!(
                "  第 {} 行 row {}: {} = “{}”: {} / {}\n",
                e.row, e.row, e.field, e.value, e.reason_zh, e.reason_en
            ));
        }
    }
    if r.counts.rejected > 10 {
        s.push_str(&format!(
            "  … 共 {} 行拒收 rejected rows in all{}\n",
            r.counts.rejected,
            match &args.rejects {
                Some(p) => format!("; 见 see {}", p.display()),
                None => "; 用 --rejects FILE 导出 write them with --rejects FILE".into(),
            }
        ));
    }
    s
}
