//! `creditloop catalogue`: the measures catalogue (联合奖惩措施目录) as data — export a version as JSON,
//! CSV or XLSX; import one (every row validated, every error named, nothing stored unless the whole
//! file is valid); list the versions; publish a draft. The newest published version answers checks.

use crate::out::outln;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use chrono::Utc;
use creditloop_domain::catalogue::{
    COLUMNS, Catalogue, CatalogueError, MeasureRow, ScenarioRegistry, VersionStatus,
};
use creditloop_store::{Store, StoredCatalogue};

use crate::{DB_ENV, DEFAULT_DB};

#[derive(clap::Args)]
pub struct Args {
    /// Store URL: sqlite://PATH or postgres://…
    #[arg(long, env = DB_ENV, default_value = DEFAULT_DB, global = true)]
    pub db: String,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(clap::Subcommand)]
pub enum Command {
    /// Write a version (default: the one answering checks) as .json, .csv or .xlsx.
    Export {
        #[arg(long)]
        out: PathBuf,
        /// A stored version number.
        #[arg(long)]
        version: Option<u32>,
    },
    /// Validate a catalogue file (.json, .csv, .xlsx) and store it as the next version.
    Import {
        file: PathBuf,
        /// Publish it at once (otherwise it is stored as a draft).
        #[arg(long)]
        publish: bool,
        /// Print one JSON object: `stored`, `number`, `digest`, `measures`, `errors`.
        #[arg(long)]
        json: bool,
    },
    /// List the stored versions.
    List,
    /// Publish a stored draft: from then on it answers checks.
    Publish { number: u32 },
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let store = creditloop_store::open(&args.db).with_context(|| format!("opening {}", args.db))?;
    match args.command {
        Command::Export { out, version } => export(&*store, &out, version),
        Command::Import {
            file,
            publish,
            json,
        } => import(&*store, &args.db, &file, publish, json),
        Command::List => {
            let list = store.catalogues()?;
            if list.is_empty() {
                outln!(
                    "未导入目录，查询使用内置默认目录 / no stored version: checks use the shipped default"
                );
            }
            for c in list {
                outln!(
                    "v{}\t{}\t{}\t{}",
                    c.number,
                    c.status,
                    &c.digest[..c.digest.len().min(16)],
                    c.created_at.format("%Y-%m-%d %H:%M:%S")
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Publish { number } => {
            if !store.publish_catalogue(number, Utc::now())? {
                bail!("没有第 {number} 版目录 / no catalogue version {number}");
            }
            let digest = store
                .catalogues()?
                .into_iter()
                .find(|c| c.number == number)
                .map(|c| c.digest)
                .unwrap_or_default();
            audit_change(&args.db, "published", number, &digest)?;
            outln!("v{number} 已发布 / published; restart or reload servers to answer with it");
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Appends the 目录变更 entry of a stored or published version (the server's publisher signs it
/// into the next tree head). A failure is an error of the command: the change must not go unaudited.
fn audit_change(db: &str, change: &str, number: u32, digest: &str) -> anyhow::Result<()> {
    use creditloop_audit::{Action, NewEntry};
    let url = creditloop_server::audit::audit_url(db);
    let audit = creditloop_server::audit::open_appending(&url)
        .with_context(|| format!("opening the audit log {url}"))?;
    let entry = NewEntry::new("cli", Action::CatalogueChange)
        .object(format!("catalogue:v{number}"))
        .detail(serde_json::json!({"change": change, "number": number, "digest": digest}));
    creditloop_server::audit::append_blocking(&audit, entry).map_err(|e| anyhow::anyhow!(e))?;
    Ok(())
}

fn extension(path: &Path) -> String {
    path.extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase()
}

fn export(store: &dyn Store, out: &Path, version: Option<u32>) -> anyhow::Result<ExitCode> {
    let catalogue = match version {
        None => creditloop_server::active_catalogue(store)?,
        Some(n) => {
            let Some(c) = store.catalogues()?.into_iter().find(|c| c.number == n) else {
                bail!("没有第 {n} 版目录 / no catalogue version {n}");
            };
            let status = VersionStatus::parse(&c.status).unwrap_or(VersionStatus::Draft);
            Catalogue::from_json(&c.body)
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .with_version(n, status)
        }
    };
    let headers: Vec<&str> = COLUMNS.iter().map(|(zh, _)| *zh).collect();
    match extension(out).as_str() {
        "json" => std::fs::write(out, catalogue.to_json())?,
        "csv" => {
            let mut w = csv::Writer::from_path(out)?;
            w.write_record(&headers)?;
            for row in catalogue.to_rows() {
                w.write_record(row.iter().map(|(_, v)| v.as_str()))?;
            }
            w.flush()?;
        }
        "xlsx" => {
            let mut book = rust_xlsxwriter::Workbook::new();
            let sheet = book.add_worksheet();
            sheet.set_name("联合奖惩措施目录")?;
            for (c, h) in headers.iter().enumerate() {
                sheet.write_string(0, c as u16, *h)?;
            }
            for (r, row) in catalogue.to_rows().iter().enumerate() {
                for (c, (_, v)) in row.iter().enumerate() {
                    sheet.write_string(r as u32 + 1, c as u16, v.as_str())?;
                }
            }
            book.save(out)?;
        }
        other => {
            bail!("不支持的格式 .{other}：应为 .json、.csv 或 .xlsx / use .json, .csv or .xlsx")
        }
    }
    eprintln!(
        "{} 项措施 measures, {} → {}",
        catalogue.measures().len(),
        catalogue.version().label_zh(),
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn read_catalogue(
    path: &Path,
    number: u32,
    status: VersionStatus,
) -> anyhow::Result<Result<Catalogue, CatalogueError>> {
    if extension(path) == "json" {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        return Ok(Catalogue::from_json(&text).map(|c| c.with_version(number, status)));
    }
    let rows = creditloop_ingest::read_path(path, None, &creditloop_ingest::ReadOptions::default())
        .with_context(|| format!("reading {}", path.display()))?;
    let mut measure_rows = Vec::new();
    let mut n = 0;
    for r in rows {
        n += 1;
        match r {
            Ok(raw) => measure_rows.push(MeasureRow {
                row: n,
                fields: raw
                    .fields
                    .into_iter()
                    .map(|(h, v)| (h.to_string(), v))
                    .collect(),
            }),
            Err(creditloop_ingest::ReadError::Row(e)) => {
                return Ok(Err(CatalogueError::Rows(vec![
                    creditloop_domain::catalogue::CatalogueRowError::new(
                        n,
                        "行",
                        &e.value,
                        e.reason_zh,
                        e.reason_en,
                    ),
                ])));
            }
            Err(creditloop_ingest::ReadError::Fatal(e)) => return Err(e.into()),
        }
    }
    Ok(Catalogue::from_rows(
        number,
        status,
        &measure_rows,
        ScenarioRegistry::builtin(),
    ))
}

fn import(
    store: &dyn Store,
    db: &str,
    file: &Path,
    publish: bool,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let number = store.catalogues()?.last().map_or(1, |c| c.number + 1);
    let status = if publish {
        VersionStatus::Published
    } else {
        VersionStatus::Draft
    };
    match read_catalogue(file, number, status)? {
        Ok(catalogue) => {
            let now = Utc::now();
            let stored = StoredCatalogue {
                number,
                status: status.code().to_string(),
                digest: catalogue.version().digest.clone(),
                created_at: now,
                published_at: publish.then_some(now),
                body: catalogue.to_json(),
            };
            if !store.put_catalogue(&stored)? {
                bail!(
                    "第 {number} 版目录已存在（另一进程同时导入？）/ version {number} exists already"
                );
            }
            let change = if publish {
                "imported_published"
            } else {
                "imported_draft"
            };
            audit_change(db, change, number, &stored.digest)?;
            if json {
                outln!(
                    "{}",
                    serde_json::json!({
                        "stored": true, "number": number, "status": status.code(),
                        "digest": stored.digest, "measures": catalogue.measures().len(), "errors": [],
                    })
                );
            } else {
                outln!(
                    "已导入 {} 项措施为 {} / stored {} measures",
                    catalogue.measures().len(),
                    catalogue.version().label_zh(),
                    catalogue.measures().len()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            let errors = e.rows();
            if json {
                outln!(
                    "{}",
                    serde_json::json!({ "stored": false, "error": e.to_string(), "errors": errors })
                );
            } else {
                eprintln!("目录未导入 / not stored: {e}");
                for r in errors {
                    eprintln!(
                        "  第{}行 row {} · {} = “{}”: {} / {}",
                        r.row, r.row, r.field, r.value, r.reason_zh, r.reason_en
                    );
                }
            }
            Ok(ExitCode::FAILURE)
        }
    }
}
