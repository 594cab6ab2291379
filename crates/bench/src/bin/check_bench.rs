//! Benchmark of the read index at province scale: build, memory, check latency, apply latency.
//!
//! ```text
//! cargo run --release -p creditloop-bench --bin check_bench            # Tianjin scale
//! cargo run --release -p creditloop-bench --bin check_bench -- --scale 0.25
//! ```
//! Options: `--scale F` (of 1 047 800 subjects and 12 670 000 records), `--checks N` (1 000 000),
//! `--batches N` (1 000), `--batch-size N` (1 000), `--seed N`, `--no-dry` (skip the generation-only
//! pass that separates generation time from build time).
//!
//! Data is synthetic and generated in memory, deterministically from the seed, by
//! [`creditloop_bench::synth::World`] (the same population the yardsticks binary loads into SQLite,
//! PostgreSQL and Rego).

use std::time::{Duration, Instant};

use creditloop_bench::stats::{print_stats as stats, rss};
use creditloop_bench::synth::{DEFAULT_SEED, World, date};
use creditloop_domain::catalogue::{
    Catalogue, CompiledCatalogue, Decision, Scenario, ScenarioRegistry, SubjectFacts, decide,
};
use creditloop_domain::record::RecordStatus;
use creditloop_domain::subject::PersonRole;
use creditloop_index::{CheckAnswer, IndexBuilder, IndexItem, Resolved, SharedIndex};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The allocator `creditloop serve` uses, so in-process figures match the server's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Command-line options; see the module documentation.
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
        seed: DEFAULT_SEED,
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

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let o = opts()?;
    let world = World::new(o.scale);
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
