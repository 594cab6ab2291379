//! Benchmark of the read index at province scale: build, memory, check latency, apply latency.
//!
//! ```text
//! cargo run --release -p creditloop-index --example check_bench            # Tianjin scale
//! cargo run --release -p creditloop-index --example check_bench -- --scale 0.25
//! ```
//! Options: `--scale F` (of 1 047 800 subjects and 12 670 000 records), `--checks N` (1 000 000),
//! `--batches N` (1 000), `--batch-size N` (1 000), `--seed N`, `--no-dry` (skip the generation-only
//! pass that separates generation time from build time).
//!
//! Data is synthetic and generated in memory, deterministically from the seed: 92 % organisations
//! (`U:` + a valid-looking unified code) and 8 % natural persons (`P:` + a valid-looking resident
//! number); one registration record per organisation; the other records spread over categories roughly
//! as in real 双公示 data (licences 40 %, penalties 30 %, …) and over subjects with a long tail (a few
//! subjects hold thousands); ≈30 % of organisations have 1–3 linked persons; half have a registration
//! number as a secondary code; about 1 % share their name with another subject.

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use creditloop_domain::catalogue::{
    Catalogue, CompiledCatalogue, Decision, FactRecord, Scenario, ScenarioRegistry, SubjectFacts,
    decide,
};
use creditloop_domain::ids::{USCC_CHARSET, resident_id_check_char, uscc_check_char};
use creditloop_domain::record::{Category, Nature, RecordKey, RecordStatus, Severity};
use creditloop_domain::subject::{PersonRole, SubjectKey};
use creditloop_index::{CheckAnswer, IndexBuilder, IndexItem, Resolved, SharedIndex};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const FULL_SUBJECTS: f64 = 1_047_800.0;
const FULL_RECORDS: f64 = 12_670_000.0;

struct Opts {
    scale: f64,
    checks: usize,
    batches: usize,
    batch_size: usize,
    seed: u64,
    dry: bool,
}

fn opts() -> Result<Opts, String> {
    let mut o = Opts {
        scale: 1.0,
        checks: 1_000_000,
        batches: 1_000,
        batch_size: 1_000,
        seed: 20_240_601,
        dry: true,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match a.as_str() {
            "--scale" => o.scale = val("--scale")?.parse().map_err(|e| format!("{e}"))?,
            "--checks" => o.checks = val("--checks")?.parse().map_err(|e| format!("{e}"))?,
            "--batches" => o.batches = val("--batches")?.parse().map_err(|e| format!("{e}"))?,
            "--batch-size" => {
                o.batch_size = val("--batch-size")?.parse().map_err(|e| format!("{e}"))?
            }
            "--seed" => o.seed = val("--seed")?.parse().map_err(|e| format!("{e}"))?,
            "--no-dry" => o.dry = false,
            other => return Err(format!("unknown option {other}")),
        }
    }
    if o.scale.is_nan() || o.scale <= 0.0 {
        return Err("--scale must be positive".into());
    }
    Ok(o)
}

/// VmRSS and VmHWM (peak) in MiB.
fn rss() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

/// The synthetic population: everything is a function of the subject or record number, so checks and
/// updates can name existing subjects without keeping a list.
struct World {
    subjects: usize,
    orgs: usize,
    records: usize,
    agencies: Vec<String>,
}

const SURNAMES: [&str; 20] = [
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高", "林",
    "何", "郭", "马", "罗",
];
const GIVEN: [&str; 24] = [
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀英", "霞", "平", "刚", "桂英", "建华", "志强",
];
const TRADES: [&str; 12] = [
    "科技",
    "商贸",
    "建筑工程",
    "餐饮管理",
    "物流",
    "医药",
    "环保科技",
    "食品",
    "机械制造",
    "信息技术",
    "房地产开发",
    "劳务派遣",
];
const SERIOUS_LISTS: [&str; 6] = [
    "重大税收违法失信主体名单",
    "安全生产严重失信主体名单",
    "环境违法企业严重失信名单",
    "拖欠农民工工资失信联合惩戒对象名单",
    "海关失信企业名单",
    "严重违法失信名单",
];
const RED_LISTS: [&str; 3] = [
    "纳税信用A级纳税人名单",
    "海关高级认证企业名单",
    "守信激励对象名单",
];

fn base31(mut n: u64, width: usize) -> String {
    let cs: Vec<char> = USCC_CHARSET.chars().collect();
    let mut out = vec!['0'; width];
    for slot in out.iter_mut().rev() {
        *slot = cs[(n % 31) as usize];
        n /= 31;
    }
    out.into_iter().collect()
}

impl World {
    fn new(o: &Opts) -> Self {
        let subjects = ((FULL_SUBJECTS * o.scale) as usize).max(100);
        let orgs = subjects * 92 / 100;
        let records = ((FULL_RECORDS * o.scale) as usize).max(subjects);
        let agencies = (0..800u64)
            .map(|i| {
                let body = format!("11120{:03}{}", i % 17, base31(i, 9));
                let check = uscc_check_char(&body).unwrap_or('0');
                format!("{body}{check}")
            })
            .collect();
        World {
            subjects,
            orgs,
            records,
            agencies,
        }
    }

    /// The code of subject `i` as a user would type it (no prefix).
    fn code(&self, i: usize) -> String {
        if i < self.orgs {
            let kind = ["91", "91", "91", "92", "93", "12", "52"][i % 7];
            let body = format!("{kind}1201{:02}{}", (i / 7) % 17, base31(i as u64, 9));
            let check = uscc_check_char(&body).unwrap_or('0');
            format!("{body}{check}")
        } else {
            let p = (i - self.orgs) as i64;
            let born = date(1955, 1, 1) + chrono::Duration::days(p / 800);
            let body = format!("120101{}{:03}", born.format("%Y%m%d"), p % 800 + 100);
            let check = resident_id_check_char(&body).unwrap_or('0');
            format!("{body}{check}")
        }
    }

    fn key(&self, i: usize) -> SubjectKey {
        let prefix = if i < self.orgs { "U:" } else { "P:" };
        SubjectKey(format!("{prefix}{}", self.code(i)))
    }

    /// Registration number (secondary code) of half the organisations.
    fn reg_no(&self, i: usize) -> Option<String> {
        (i < self.orgs && i.is_multiple_of(2)).then(|| format!("120000{:09}", i))
    }

    fn name(&self, i: usize) -> String {
        if i < self.orgs {
            // ≈1 % of names are shared with the next subject: exact-name checks are then ambiguous.
            let n = if i % 100 == 1 { i - 1 } else { i };
            format!("天津{}{}有限公司{}", SURNAMES[n % 20], TRADES[n % 12], n)
        } else {
            let p = i - self.orgs;
            format!("{}{}", SURNAMES[p % 20], GIVEN[(p / 20) % 24])
        }
    }

    fn random_org(&self, rng: &mut ChaCha8Rng) -> usize {
        // Long tail: density ∝ x^(-1/3); the first subjects hold thousands of records.
        let u: f64 = rng.r#gen();
        ((u.powf(1.5) * self.orgs as f64) as usize).min(self.orgs - 1)
    }

    fn random_person(&self, rng: &mut ChaCha8Rng) -> usize {
        rng.gen_range(self.orgs..self.subjects)
    }

    fn record(&self, rng: &mut ChaCha8Rng, n: u64, category: Category) -> FactRecord {
        let decided = date(2015, 1, 1) + chrono::Duration::days(rng.gen_range(0..3800));
        let nature = category.default_nature();
        let severity = if nature == Nature::Negative {
            match rng.gen_range(0..100) {
                0..30 => Severity::Slight,
                30..85 => Severity::General,
                _ => Severity::Serious,
            }
        } else {
            Severity::None
        };
        let forever = date(2099, 12, 31);
        let publicity_until = match category {
            Category::Penalty => decided + chrono::Duration::days(365 * rng.gen_range(1..4)),
            Category::Licence | Category::Inspection | Category::Commitment => {
                decided + chrono::Duration::days(365 * 5)
            }
            _ => forever,
        };
        let status = match rng.gen_range(0..100) {
            0..90 => RecordStatus::Active,
            90..94 => RecordStatus::Repaired,
            94..96 => RecordStatus::Revoked,
            96..98 => RecordStatus::UnderObjection,
            _ => RecordStatus::Expired,
        };
        let list_name = match category {
            Category::SeriousDishonestList => Some(SERIOUS_LISTS[rng.gen_range(0..6)]),
            Category::RedList => Some(RED_LISTS[rng.gen_range(0..3)]),
            Category::DishonestDebtor => Some("失信被执行人名单"),
            Category::AbnormalOperation => Some("经营异常名录"),
            _ => None,
        };
        let prefix = match category {
            Category::Penalty => "市监罚",
            Category::Licence => "审批许",
            Category::DishonestDebtor => "0101执",
            Category::Registration => "市监登",
            _ => "信用",
        };
        let year = decided.format("%Y");
        FactRecord {
            key: RecordKey {
                source: self.agencies[rng.gen_range(0..self.agencies.len())].clone(),
                category,
                doc_no: format!("津{prefix}〔{year}〕{n}号"),
            },
            category,
            nature,
            severity,
            decision_date: decided,
            publicity_until,
            status,
            list_name: list_name.map(str::to_string),
        }
    }

    fn category(rng: &mut ChaCha8Rng) -> Category {
        match rng.gen_range(0..1000) {
            0..400 => Category::Licence,
            400..700 => Category::Penalty,
            700..730 => Category::DishonestDebtor,
            730..740 => Category::SeriousDishonestList,
            740..800 => Category::AbnormalOperation,
            800..820 => Category::RedList,
            820..900 => Category::Commitment,
            900..970 => Category::Inspection,
            _ => Category::Other,
        }
    }

    /// Streams the whole population into `sink`.
    fn generate(&self, seed: u64, mut sink: impl FnMut(IndexItem)) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut n: u64 = 0;
        let roles = [PersonRole::Shareholder, PersonRole::SeniorManager];
        for i in 0..self.subjects {
            let subject = self.key(i);
            let name = self.name(i);
            let category = if i < self.orgs {
                Category::Registration
            } else if rng.gen_bool(0.3) {
                Category::DishonestDebtor
            } else {
                Category::Penalty
            };
            let record = self.record(&mut rng, n, category);
            n += 1;
            if i < self.orgs && rng.gen_bool(0.3) {
                let links = rng.gen_range(1..4);
                for l in 0..links {
                    let role = if l == 0 {
                        PersonRole::LegalRepresentative
                    } else {
                        roles[rng.gen_range(0..2)]
                    };
                    sink(IndexItem::Person {
                        subject: subject.clone(),
                        role,
                        person: self.key(self.random_person(&mut rng)),
                    });
                }
            }
            if let Some(code) = self.reg_no(i) {
                sink(IndexItem::Code {
                    code,
                    subject: subject.clone(),
                });
            }
            sink(IndexItem::Record {
                subject,
                subject_name: name,
                record,
                version: 1,
            });
        }
        while (n as usize) < self.records {
            let i = self.random_org(&mut rng);
            let category = World::category(&mut rng);
            let record = self.record(&mut rng, n, category);
            n += 1;
            sink(IndexItem::Record {
                subject: self.key(i),
                subject_name: self.name(i),
                record,
                version: 1,
            });
        }
    }
}

fn stats(label: &str, mut ns: Vec<u64>) {
    if ns.is_empty() {
        return;
    }
    ns.sort_unstable();
    let pct = |p: f64| ns[((ns.len() as f64 - 1.0) * p) as usize] as f64 / 1000.0;
    let mean = ns.iter().sum::<u64>() as f64 / ns.len() as f64 / 1000.0;
    println!(
        "{label}: n={} mean={mean:.2}µs p50={:.2}µs p90={:.2}µs p99={:.2}µs p99.9={:.2}µs max={:.2}µs",
        ns.len(),
        pct(0.5),
        pct(0.9),
        pct(0.99),
        pct(0.999),
        ns.last().copied().unwrap_or(0) as f64 / 1000.0
    );
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let o = opts()?;
    let world = World::new(&o);
    println!(
        "scale {}: {} subjects ({} organisations), {} records; checks {}; {} batches × {}",
        o.scale, world.subjects, world.orgs, world.records, o.checks, o.batches, o.batch_size
    );
    let (rss0, _) = rss();
    println!("RSS at start: {rss0:.0} MiB");

    let mut gen_time = Duration::ZERO;
    if o.dry {
        let t = Instant::now();
        let mut count = 0usize;
        world.generate(o.seed, |item| {
            count += 1;
            std::hint::black_box(item);
        });
        gen_time = t.elapsed();
        println!(
            "generation only: {count} items in {:.1}s",
            gen_time.as_secs_f64()
        );
    }

    let t = Instant::now();
    let mut builder = IndexBuilder::new().with_version(1);
    world.generate(o.seed, |item| builder.push(item));
    let fed = t.elapsed();
    let index = builder.build();
    let total = t.elapsed();
    let (rss1, hwm1) = rss();
    println!(
        "build: {:.1}s total (feeding {:.1}s, freezing {:.1}s){}; {} subjects, {} records",
        total.as_secs_f64(),
        fed.as_secs_f64(),
        (total - fed).as_secs_f64(),
        if o.dry {
            format!(
                "; ≈{:.1}s without generation",
                (total.saturating_sub(gen_time)).as_secs_f64()
            )
        } else {
            String::new()
        },
        index.subject_count(),
        index.record_count()
    );
    println!(
        "RSS after build: {rss1:.0} MiB (index ≈ {:.0} MiB; peak during build {hwm1:.0} MiB)",
        rss1 - rss0
    );

    let shared = SharedIndex::new(index);
    let catalogue = CompiledCatalogue::compile(&Catalogue::default_catalogue()?);
    let scenarios: Vec<Scenario> = ScenarioRegistry::builtin().scenarios().collect();
    let on = date(2025, 6, 30);
    let mut rng = ChaCha8Rng::seed_from_u64(o.seed ^ 0x5eed);

    // Queries are prepared first so the timing covers only the check.
    let queries: Vec<(String, usize)> = (0..o.checks)
        .map(|_| {
            let i = rng.gen_range(0..world.subjects);
            let q = match rng.gen_range(0..10) {
                0 => world.name(i),
                1 => world.reg_no(i).unwrap_or_else(|| world.code(i)),
                _ => world.code(i),
            };
            (q, rng.gen_range(0..scenarios.len()))
        })
        .collect();
    let mut lat = Vec::with_capacity(o.checks);
    let mut by_decision = [0usize; 5];
    let mut ambiguous = 0usize;
    let mut unknown = 0usize;
    let snap = shared.snapshot();
    let t_all = Instant::now();
    for (q, s) in &queries {
        let t = Instant::now();
        let (answer, version) = snap.check(&catalogue, &scenarios[*s], q, on);
        let el = t.elapsed();
        lat.push(el.as_nanos() as u64);
        std::hint::black_box(version);
        match answer {
            CheckAnswer::Outcome(o) => {
                if !o.subject_known {
                    unknown += 1;
                }
                let slot = match o.decision {
                    Decision::Priority => 0,
                    Decision::Normal => 1,
                    Decision::Strict => 2,
                    Decision::Restrict => 3,
                    Decision::Prohibit => 4,
                };
                by_decision[slot] += 1;
            }
            CheckAnswer::Ambiguous { .. } => ambiguous += 1,
        }
    }
    let wall = t_all.elapsed();
    drop(snap);
    println!(
        "checks: {} in {:.1}s ({:.0}/s on one thread); decisions priority/normal/strict/restrict/prohibit = {:?}; ambiguous {ambiguous}; unknown {unknown}",
        o.checks,
        wall.as_secs_f64(),
        o.checks as f64 / wall.as_secs_f64(),
        by_decision
    );
    stats("check (resolve + facts + decide)", lat);

    // Where a check's time goes, over the first 200 000 queries.
    let snap = shared.snapshot();
    let (mut t_resolve, mut t_facts, mut t_decide) =
        (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let mut held_records = 0usize;
    let part = queries.len().min(200_000);
    for (q, s) in queries.iter().take(part) {
        let t = Instant::now();
        let resolved = snap.resolve(q);
        let t1 = Instant::now();
        let facts = match resolved {
            Resolved::Key(k) => snap.facts(&k).unwrap_or_default(),
            _ => SubjectFacts::unknown(),
        };
        let t2 = Instant::now();
        let out = decide(&catalogue, &scenarios[*s], &facts, on);
        let t3 = Instant::now();
        std::hint::black_box(out);
        held_records +=
            facts.records.len() + facts.persons.iter().map(|p| p.1.len()).sum::<usize>();
        t_resolve += t1 - t;
        t_facts += t2 - t1;
        t_decide += t3 - t2;
    }
    drop(snap);
    let per = |d: Duration| d.as_secs_f64() * 1e6 / part.max(1) as f64;
    println!(
        "check breakdown (mean over {part}): resolve {:.2}µs, facts {:.2}µs, decide {:.2}µs; {:.1} records per check",
        per(t_resolve),
        per(t_facts),
        per(t_decide),
        held_records as f64 / part.max(1) as f64
    );

    // Updates: new records (70 %), new versions of held records (15 %: repaired), person links (10 %),
    // codes (5 %).
    let mut apply_lat = Vec::with_capacity(o.batches);
    let mut n = world.records as u64 + 1;
    let mut held_version = 0;
    for b in 0..o.batches {
        let snap = shared.snapshot();
        let mut batch = Vec::with_capacity(o.batch_size);
        while batch.len() < o.batch_size {
            let i = rng.gen_range(0..world.orgs);
            let subject = world.key(i);
            match rng.gen_range(0..100) {
                0..70 => {
                    let category = World::category(&mut rng);
                    let record = world.record(&mut rng, n, category);
                    n += 1;
                    batch.push(IndexItem::Record {
                        subject,
                        subject_name: world.name(i),
                        record,
                        version: 1,
                    });
                }
                70..85 => {
                    if let Some(mut record) =
                        snap.records(&subject).and_then(|r| r.first().cloned())
                    {
                        record.status = RecordStatus::Repaired;
                        batch.push(IndexItem::Record {
                            subject,
                            subject_name: world.name(i),
                            record,
                            version: 2,
                        });
                    }
                }
                85..95 => batch.push(IndexItem::Person {
                    subject,
                    role: PersonRole::SeniorManager,
                    person: world.key(world.random_person(&mut rng)),
                }),
                _ => batch.push(IndexItem::Code {
                    code: format!("1200009{:08}", rng.gen_range(0..100_000_000u32)),
                    subject,
                }),
            }
        }
        // Every 10th batch a reader still holds the previous snapshot during the apply.
        let reader = b.is_multiple_of(10).then(|| snap.clone());
        drop(snap);
        let t = Instant::now();
        held_version = shared.apply(&batch);
        apply_lat.push(t.elapsed().as_nanos() as u64);
        drop(reader);
    }
    stats(&format!("apply ({}-item batch)", o.batch_size), apply_lat);

    // Fixed cost of a commit: one-item batches.
    let mut single = Vec::with_capacity(1000);
    for _ in 0..1000 {
        let i = rng.gen_range(0..world.orgs);
        let category = World::category(&mut rng);
        let record = world.record(&mut rng, n, category);
        n += 1;
        let item = IndexItem::Record {
            subject: world.key(i),
            subject_name: world.name(i),
            record,
            version: 1,
        };
        let t = Instant::now();
        held_version = shared.apply(std::slice::from_ref(&item));
        single.push(t.elapsed().as_nanos() as u64);
    }
    stats("apply (1-item batch)", single);
    let (rss2, hwm2) = rss();
    let snap = shared.snapshot();
    println!(
        "after applies: version {held_version}, {} subjects, {} records; RSS {rss2:.0} MiB, peak {hwm2:.0} MiB",
        snap.subject_count(),
        snap.record_count()
    );
    Ok(())
}
