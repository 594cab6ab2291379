//! `creditloop generate`: deterministic demo and benchmark data files.

use crate::out::outln;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use chrono::NaiveDate;
use creditloop_domain::record::Category;
use creditloop_gen::{Encoding, Format, GenConfig, GenReport};
use indicatif::{ProgressBar, ProgressStyle};

use crate::parse_date;

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Preset {
    /// 1,000 subjects, 8,000 records.
    Demo,
    /// 1,047,800 subjects, 12,670,000 records (DESIGN.md §4).
    Tianjin,
}

#[derive(clap::Args)]
pub struct Args {
    /// Directory to write the files into.
    #[arg(long, default_value = "demo-data")]
    pub out: PathBuf,
    /// Starting sizes; --subjects and --records override them.
    #[arg(long, value_enum, default_value = "demo")]
    pub preset: Preset,
    #[arg(long)]
    pub subjects: Option<u64>,
    #[arg(long)]
    pub records: Option<u64>,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Share of rows made bad on purpose (0.0–1.0).
    #[arg(long)]
    pub bad_share: Option<f64>,
    /// Share of valid rows submitted late (0.0–1.0).
    #[arg(long)]
    pub late_share: Option<f64>,
    /// csv, xlsx or jsonl.
    #[arg(long, default_value = "csv")]
    pub format: Format,
    /// CSV encoding: utf8, utf8bom or gbk.
    #[arg(long, default_value = "utf8")]
    pub encoding: Encoding,
    /// Only these categories (comma-separated codes, e.g. penalty,licence).
    #[arg(long, value_delimiter = ',', value_parser = parse_category)]
    pub categories: Option<Vec<Category>>,
    /// Add the harmless quirks of real files (full-width codes, title lines, …).
    #[arg(long)]
    pub quirks: bool,
    /// The day the data is generated for (default: today in China). Fix it for byte-identical output.
    #[arg(long, value_parser = parse_date)]
    pub today: Option<NaiveDate>,
}

fn parse_category(s: &str) -> Result<Category, String> {
    Category::parse(s).ok_or_else(|| format!("unknown category `{s}`"))
}

impl Args {
    pub fn config(&self) -> GenConfig {
        let mut cfg = match self.preset {
            Preset::Demo => GenConfig::demo(),
            Preset::Tianjin => GenConfig::tianjin(),
        };
        cfg.out_dir = self.out.clone();
        cfg.seed = self.seed;
        if let Some(n) = self.subjects {
            cfg.subjects = n;
        }
        if let Some(n) = self.records {
            cfg.records = n;
        }
        if let Some(b) = self.bad_share {
            cfg.bad_share = b;
        }
        if let Some(l) = self.late_share {
            cfg.late_share = l;
        }
        cfg.format = self.format;
        cfg.encoding = self.encoding;
        cfg.categories = self.categories.clone();
        cfg.quirks = self.quirks;
        cfg.today = self.today.unwrap_or_else(crate::today);
        cfg
    }
}

/// Generates with a progress bar on a terminal.
pub fn generate(cfg: &GenConfig) -> anyhow::Result<GenReport> {
    let bar = if std::io::stderr().is_terminal() {
        let b = ProgressBar::new(cfg.records);
        b.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} 行 rows ({per_sec}, {eta})")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        b
    } else {
        ProgressBar::hidden()
    };
    let report = creditloop_gen::generate(cfg, &mut |n| bar.set_position(n))?;
    bar.finish_and_clear();
    Ok(report)
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let cfg = args.config();
    let report = generate(&cfg)?;
    outln!(
        "{} 个主体 subjects, {} 条记录 records, {} 个部门 agencies; 故意错误行 bad rows {}, 逾期 late {}",
        report.subjects,
        report.records,
        report.agencies,
        report.bad_rows,
        report.late_rows
    );
    for (path, rows, bad) in &report.files {
        outln!("  {} — {rows} rows, {bad} bad", path.display());
    }
    Ok(ExitCode::SUCCESS)
}
