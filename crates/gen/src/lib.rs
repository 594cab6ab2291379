//! Deterministic generator of demo and benchmark data for creditloop (DESIGN.md §6): the agencies of
//! a Tianjin-like municipality, subjects with valid codes and realistic Chinese names, and 双公示
//! record files in the columns the importer accepts (docs/fields.md), from a few thousand rows to
//! the full Tianjin figures (1,047,800 subjects, 12.67 million records).
//!
//! The same [`GenConfig`] always writes byte-identical files: every random choice comes from a
//! ChaCha8 stream derived from the seed and the file, subject or person it is for; `today` is a
//! parameter, never the clock. Files are written as rows are made, on one thread per file, and
//! subjects are regenerated from their index when a record needs them, so memory stays small
//! whatever the size.
//!
//! Files written into [`GenConfig::out_dir`] (extension `.csv`, `.xlsx` or `.jsonl`):
//!
//! - `agencies` — `code, name, level, region, parent` of the 44 agencies;
//! - `penalties` — 行政处罚 with every 双公示 column;
//! - `licences` — 行政许可;
//! - `dishonest_debtors` — 失信被执行人;
//! - `lists` — 严重违法失信名单, 经营异常名录 and 红名单 mixed, told apart by 名单类别;
//! - `others` — 登记注册 (with 关联人员), 信用承诺, 检查结果 and 其他, told apart by 信息类别.
//!
//! Measured (release build, 2 cores, CSV UTF-8): the Tianjin preset (12,670,000 records, 5.5 GB)
//! in 58 s, about 219,000 rows/s, with 9 MB resident memory; its penalties alone (3,801,000 rows,
//! one thread) in 12 s, about 316,000 rows/s. `cargo run --release -p creditloop-gen --example
//! gen_demo -- OUT_DIR tianjin` repeats the measurement.
//!
//! Every record file carries 报送日期 (submitted_on). A share of rows ([`GenConfig::bad_share`]) is
//! bad on purpose with exactly one defect each, and [`GenReport`] counts them per file, so a test
//! can check that the importer rejects exactly those.

mod agencies;
mod catalog;
mod rng;
mod rows;
mod schema;
mod sink;
mod subjects;
mod text;
mod words;

use std::io;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{Datelike, NaiveDate};

pub use agencies::agencies;
pub use creditloop_domain::record::Category;
pub use schema::{Column, FileKind};
pub use sink::XLSX_MAX_DATA_ROWS;

use rng::{Deck, Purpose, Quota, share_of};
use rows::{RowGen, World};
use schema::quirky_header;
use sink::Sink;

/// File format of the generated files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated values with the Chinese headers.
    Csv,
    /// One XLSX workbook per file (one sheet, at most [`XLSX_MAX_DATA_ROWS`] data rows).
    Xlsx,
    /// JSON Lines with the English keys.
    JsonLines,
}

impl Format {
    /// File extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
            Format::JsonLines => "jsonl",
        }
    }
}

impl FromStr for Format {
    type Err = String;

    /// `csv`, `xlsx`, `jsonl` (also `json`, `jsonlines`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "csv" => Ok(Format::Csv),
            "xlsx" | "excel" => Ok(Format::Xlsx),
            "jsonl" | "json" | "jsonlines" | "json-lines" => Ok(Format::JsonLines),
            other => Err(format!("unknown format {other:?}: use csv, xlsx or jsonl")),
        }
    }
}

/// Text encoding of CSV files (XLSX and JSON Lines are always UTF-8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8, LF line ends.
    Utf8,
    /// UTF-8 with a byte-order mark and CRLF line ends, as Excel writes "CSV UTF-8".
    Utf8Bom,
    /// GBK with CRLF line ends, as Excel writes CSV on a Chinese system.
    Gbk,
}

impl FromStr for Encoding {
    type Err = String;

    /// `utf8`, `utf8bom` (also `utf-8`, `utf-8-bom`, `utf8-bom`), `gbk`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s
            .trim()
            .to_ascii_lowercase()
            .replace(['-', '_'], "")
            .as_str()
        {
            "utf8" => Ok(Encoding::Utf8),
            "utf8bom" | "utf8sig" => Ok(Encoding::Utf8Bom),
            "gbk" | "gb2312" | "cp936" => Ok(Encoding::Gbk),
            other => Err(format!(
                "unknown encoding {other:?}: use utf8, utf8bom or gbk"
            )),
        }
    }
}

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct GenConfig {
    /// Seed of every random choice: the same configuration writes the same bytes.
    pub seed: u64,
    /// Number of subjects records are about (subject `i` is always the same subject).
    pub subjects: u64,
    /// Number of records over all categories (before [`GenConfig::categories`] selects).
    pub records: u64,
    /// Share (0.0..=1.0) of each file's rows made bad on purpose, one defect per bad row.
    pub bad_share: f64,
    /// Share (0.0..=1.0) of each file's valid rows submitted after 7 working days.
    pub late_share: f64,
    /// Directory the files are written to (created when missing).
    pub out_dir: PathBuf,
    pub format: Format,
    /// Encoding of CSV files.
    pub encoding: Encoding,
    /// Categories to write; `None` for all. The counts per category do not change with the
    /// selection: `[Penalty]` writes the penalties of the full data set.
    pub categories: Option<Vec<Category>>,
    /// The day the data set is generated on: no date is after it (bar deliberate defects).
    pub today: NaiveDate,
    /// Add the harmless quirks of real files: full-width, lower-case or space-padded codes, `无`/`-`
    /// in empty optional fields, dates in other forms, a title line above the header, brackets of
    /// the other width in headers, line breaks inside quoted fields.
    pub quirks: bool,
}

/// The day the presets are generated for; the CLI replaces it with the actual date.
fn preset_today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 6, 30).unwrap_or_default()
}

impl GenConfig {
    /// A demo data set: 1,000 subjects, 8,000 records, 2% bad rows, 5% late, CSV in UTF-8 into
    /// `demo-data`.
    pub fn demo() -> Self {
        GenConfig {
            seed: 1,
            subjects: 1_000,
            records: 8_000,
            bad_share: 0.02,
            late_share: 0.05,
            out_dir: PathBuf::from("demo-data"),
            format: Format::Csv,
            encoding: Encoding::Utf8,
            categories: None,
            today: preset_today(),
            quirks: false,
        }
    }

    /// The Tianjin figures of DESIGN.md §4: 1,047,800 subjects and 12,670,000 records, 1% bad rows,
    /// 5% late, CSV in UTF-8 into `tianjin-data`.
    pub fn tianjin() -> Self {
        GenConfig {
            subjects: 1_047_800,
            records: 12_670_000,
            bad_share: 0.01,
            out_dir: PathBuf::from("tianjin-data"),
            ..GenConfig::demo()
        }
    }

    /// Whether records of `c` are written.
    fn selects(&self, c: Category) -> bool {
        self.categories.as_ref().is_none_or(|cs| cs.contains(&c))
    }

    /// The number of records of each category that [`generate`] writes, in [`Category::ALL`]
    /// order (0 for categories not selected). Penalties are 30% of the records and licences 40%;
    /// of the rest, registrations are one per subject that is not a natural person (at most two
    /// thirds of the rest), and what remains is spread over debtors, lists, commitments,
    /// inspections and others.
    pub fn planned_counts(&self) -> io::Result<Vec<(Category, u64)>> {
        self.validate()?;
        let keys = rng::Keys::new(self.seed);
        let r = self.records;
        let penalties = share_of(r, 0.30);
        let licences = share_of(r, 0.40);
        let rem = r - penalties - licences;
        let organisations = (0..self.subjects)
            .filter(|&i| subjects::kind_of(&keys, i) != subjects::Kind::NaturalPerson)
            .count() as u64;
        let registrations = organisations.min(rem * 2 / 3);
        let rest = rem - registrations;
        const REST: [(Category, u64); 7] = [
            (Category::DishonestDebtor, 15),
            (Category::SeriousDishonestList, 5),
            (Category::AbnormalOperation, 20),
            (Category::RedList, 10),
            (Category::Commitment, 20),
            (Category::Inspection, 25),
            (Category::Other, 5),
        ];
        // Largest-remainder split of `rest` by the weights (sum 100), ties to the earlier category.
        let mut split: Vec<(Category, u64, u64)> = REST
            .iter()
            .map(|&(c, w)| (c, rest * w / 100, rest * w % 100))
            .collect();
        let mut left = rest - split.iter().map(|s| s.1).sum::<u64>();
        let mut order: Vec<usize> = (0..split.len()).collect();
        order.sort_by(|&a, &b| split[b].2.cmp(&split[a].2).then(a.cmp(&b)));
        for i in order {
            if left == 0 {
                break;
            }
            split[i].1 += 1;
            left -= 1;
        }
        let count = |c: Category| -> u64 {
            match c {
                Category::Penalty => penalties,
                Category::Licence => licences,
                Category::Registration => registrations,
                _ => split.iter().find(|s| s.0 == c).map_or(0, |s| s.1),
            }
        };
        Ok(Category::ALL
            .into_iter()
            .map(|c| (c, if self.selects(c) { count(c) } else { 0 }))
            .collect())
    }

    /// The record files written, with their row counts.
    fn planned_files(&self, counts: &[(Category, u64)]) -> Vec<(FileKind, u64)> {
        FileKind::ALL
            .into_iter()
            .filter(|f| f.categories().iter().any(|&c| self.selects(c)))
            .map(|f| {
                let n = counts
                    .iter()
                    .filter(|(c, _)| f.categories().contains(c))
                    .map(|(_, n)| n)
                    .sum();
                (f, n)
            })
            .collect()
    }

    fn validate(&self) -> io::Result<()> {
        let invalid = |m: String| Err(io::Error::new(io::ErrorKind::InvalidInput, m));
        for (name, v) in [
            ("bad_share", self.bad_share),
            ("late_share", self.late_share),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return invalid(format!("{name} must be between 0.0 and 1.0, not {v}"));
            }
        }
        if self.records > 0 && self.subjects == 0 {
            return invalid("records need at least one subject".into());
        }
        if self.categories.as_ref().is_some_and(Vec::is_empty) {
            return invalid("no category selected".into());
        }
        Ok(())
    }

    fn path(&self, stem: &str) -> PathBuf {
        self.out_dir
            .join(format!("{stem}.{}", self.format.extension()))
    }
}

/// What [`generate`] wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct GenReport {
    /// Every file written, in order (`agencies` first): path, data rows, bad rows.
    pub files: Vec<(PathBuf, u64, u64)>,
    /// Number of agencies (44).
    pub agencies: u64,
    /// Number of subjects records may be about.
    pub subjects: u64,
    /// Number of record rows written, bad ones included.
    pub records: u64,
    /// Bad rows over all files.
    pub bad_rows: u64,
    /// Valid rows submitted after the deadline (7 working days after the decision).
    pub late_rows: u64,
    /// Rows written per category, in [`Category::ALL`] order.
    pub categories: Vec<(Category, u64)>,
}

/// One record file's outcome.
struct Written {
    path: PathBuf,
    rows: u64,
    bad: u64,
    late: u64,
}

/// Generates the data set `cfg` describes into `cfg.out_dir`. `progress` is called from the calling
/// thread now and then with the number of record rows written so far, and once at the end.
///
/// Fails with [`io::ErrorKind::InvalidInput`] before writing anything when the configuration is
/// invalid (shares outside 0..=1, records without subjects, an empty category selection, or an
/// XLSX file that would exceed [`XLSX_MAX_DATA_ROWS`]); otherwise with the I/O error met.
pub fn generate(cfg: &GenConfig, progress: &mut dyn FnMut(u64)) -> io::Result<GenReport> {
    let counts = cfg.planned_counts()?;
    let files = cfg.planned_files(&counts);
    if cfg.format == Format::Xlsx {
        let limit = XLSX_MAX_DATA_ROWS - u64::from(cfg.quirks);
        if let Some((f, n)) = files.iter().find(|(_, n)| *n > limit) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "{}.xlsx would hold {n} rows, but an XLSX sheet holds at most {limit}: \
                     choose CSV or JSON Lines, fewer records, or fewer categories",
                    f.stem()
                ),
            ));
        }
    }
    std::fs::create_dir_all(&cfg.out_dir)?;
    let world = World::new(
        cfg.seed,
        cfg.subjects,
        cfg.today,
        cfg.quirks,
        cfg.encoding == Encoding::Gbk && cfg.format == Format::Csv,
        cfg.format == Format::JsonLines,
    );

    let mut report = GenReport {
        files: Vec::new(),
        agencies: 0,
        subjects: cfg.subjects,
        records: 0,
        bad_rows: 0,
        late_rows: 0,
        categories: counts.clone(),
    };
    let agency_path = cfg.path("agencies");
    report.agencies = write_agencies(cfg, &agency_path)?;
    report.files.push((agency_path, report.agencies, 0));

    let written = AtomicU64::new(0);
    let results: Vec<io::Result<Written>> = std::thread::scope(|scope| {
        let handles: Vec<_> = files
            .iter()
            .map(|&(file, _)| {
                let (world, counts, written) = (&world, &counts, &written);
                scope.spawn(move || write_records(cfg, world, file, counts, written))
            })
            .collect();
        let mut last = u64::MAX;
        while !handles.iter().all(|h| h.is_finished()) {
            std::thread::sleep(Duration::from_millis(50));
            let now = written.load(Ordering::Relaxed);
            if now != last {
                progress(now);
                last = now;
            }
        }
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(io::Error::other("a generator thread panicked")))
            })
            .collect()
    });
    for r in results {
        let w = r?;
        report.records += w.rows;
        report.bad_rows += w.bad;
        report.late_rows += w.late;
        report.files.push((w.path, w.rows, w.bad));
    }
    progress(report.records);
    Ok(report)
}

/// Writes the agencies file; returns the number of agencies.
fn write_agencies(cfg: &GenConfig, path: &Path) -> io::Result<u64> {
    let all = agencies();
    let headers = ["code", "name", "level", "region", "parent"];
    let mut sink = Sink::create(
        path,
        cfg.format,
        cfg.encoding,
        headers.iter().map(|h| h.to_string()).collect(),
        None,
        ymd(cfg.today),
    )?;
    for a in &all {
        let parent = a.parent.clone().unwrap_or_default();
        sink.plain_row(&[&a.code, &a.name, a.level.code(), &a.region, &parent])?;
    }
    sink.finish()?;
    Ok(all.len() as u64)
}

fn ymd(d: NaiveDate) -> (i32, u32, u32) {
    (d.year(), d.month(), d.day())
}

/// Writes one record file. Categories are mixed in random order with exact counts; exactly
/// `round(rows × bad_share)` rows are bad and `round(valid rows × late_share)` valid rows late.
fn write_records(
    cfg: &GenConfig,
    world: &World,
    file: FileKind,
    counts: &[(Category, u64)],
    written: &AtomicU64,
) -> io::Result<Written> {
    let cats = file.categories();
    let per_cat: Vec<u64> = cats
        .iter()
        .map(|c| counts.iter().find(|(x, _)| x == c).map_or(0, |x| x.1))
        .collect();
    let n: u64 = per_cat.iter().sum();
    let bad_k = share_of(n, cfg.bad_share);
    let late_k = share_of(n - bad_k, cfg.late_share);
    let file_id = file as u64;
    let mut plan_rng = world.keys.stream(Purpose::File, file_id * 2);
    let row_rng = world.keys.stream(Purpose::File, file_id * 2 + 1);
    let mut deck = Deck::new(per_cat);
    let mut bad_q = Quota::new(n, bad_k);
    let mut late_q = Quota::new(n - bad_k, late_k);

    let cols = file.columns();
    let json = cfg.format == Format::JsonLines;
    let headers: Vec<String> = cols
        .iter()
        .map(|c| {
            if json {
                c.en.to_string()
            } else if cfg.quirks {
                quirky_header(c.zh)
            } else {
                c.zh.to_string()
            }
        })
        .collect();
    let title = (cfg.quirks && !json).then(|| format!("{}年{}", cfg.today.year(), file.title()));
    let path = cfg.path(file.stem());
    let mut sink = Sink::create(
        &path,
        cfg.format,
        cfg.encoding,
        headers,
        title,
        ymd(cfg.today),
    )?;
    let fixed: Vec<(&str, &str)> = match file.json_category() {
        Some(c) if json => vec![("category", c.code())],
        _ => Vec::new(),
    };

    let mut rows_gen = RowGen::new(world, file, row_rng);
    let (mut rows, mut bad_rows, mut late_rows, mut pending) = (0u64, 0u64, 0u64, 0u64);
    while let Some(ci) = deck.deal(&mut plan_rng) {
        let bad = bad_q.take(&mut plan_rng);
        let late = !bad && late_q.take(&mut plan_rng);
        let cat = cats.get(ci).copied().unwrap_or(Category::Other);
        rows_gen.fill(cat, bad, late);
        sink.row(rows_gen.row(), &cols, &fixed)?;
        rows += 1;
        bad_rows += u64::from(bad);
        late_rows += u64::from(late);
        pending += 1;
        if pending == 4096 {
            written.fetch_add(pending, Ordering::Relaxed);
            pending = 0;
        }
    }
    written.fetch_add(pending, Ordering::Relaxed);
    sink.finish()?;
    Ok(Written {
        path,
        rows,
        bad: bad_rows,
        late: late_rows,
    })
}

/// The key (`U:` unified code, `P:` resident number, `R:` registration number, else `N:` index) and
/// name of the first `n` subjects (for the name search benchmark only: a store files persons under
/// `P:` and a keyed pseudonym, not the number) of the generator seeded with `seed`: the same subjects
/// `generate` writes, without their records (benchmarks of name search over realistic names).
pub fn subject_names(
    seed: u64,
    n: u64,
    today: chrono::NaiveDate,
) -> impl Iterator<Item = (String, String)> {
    let keys = rng::Keys::new(seed);
    (0..n).map(move |index| {
        let s = subjects::subject(&keys, index, today);
        let key = match (&s.uscc, &s.person, &s.reg_no) {
            (Some(u), _, _) => format!("U:{u}"),
            (None, Some(p), _) => format!("P:{}", p.id),
            (None, None, Some(r)) => format!("R:{r}"),
            _ => format!("N:{index}"),
        };
        (key, s.name)
    })
}
