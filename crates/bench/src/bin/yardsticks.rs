//! The credit check's yardsticks, in one run over one sample of the same synthetic data: the
//! in-memory index (`CheckIndex::check`), the default catalogue as a Rego policy under regorus, and
//! the same question as one plain SQL statement of SQLite and of PostgreSQL.
//!
//! ```text
//! cargo run --release -p creditloop-bench --bin yardsticks                   # Tianjin scale
//! cargo run --release -p creditloop-bench --bin yardsticks -- --scale 0.25 --skip-pg
//! ```
//! Options: `--scale F` (of 1 047 800 subjects and 12 670 000 records; 1.0), `--sample N` (checks
//! measured per method; 10 000), `--warmup N` (unmeasured checks of other subjects first; 1 000),
//! `--seed N`, `--skip-rego`, `--skip-sql` (both databases), `--skip-pg`, `--sqlite PATH`
//! (`/tmp/creditloop_yardstick.sqlite`). PostgreSQL: `CREDITLOOP_BENCH_PG` (default
//! `postgres://postgres@127.0.0.1:5432`); database `creditloop_yardstick` is dropped and recreated.
//!
//! Every method answers the same checks (uniform subjects, uniform scenarios, date 2025-06-30), one
//! at a time on one thread; latency is per check, and checks/s is the sample size over the wall time
//! of the measured loop. Each answer (decision and applying measures) is compared with `decide`'s
//! on the facts the index gathers. The Rego figures cover `set_input` + `eval_rule` on an input
//! prepared beforehand (its preparation is reported apart); the SQL figures cover the statement over
//! the client library, the decision computed from its rows. The index is asked by the code a user
//! types, the databases by subject key.

use std::time::Instant;

use creditloop_bench::BoxError;
use creditloop_bench::rego::{self, RegoChecker};
use creditloop_bench::sample::{Agreement, Answer, Case, draw};
use creditloop_bench::sql::{self, Postgres, Sqlite};
use creditloop_bench::stats::{Latencies, rss};
use creditloop_bench::synth::{DEFAULT_SEED, World, date};
use creditloop_domain::catalogue::{Catalogue, CompiledCatalogue, Scenario, ScenarioRegistry};
use creditloop_index::{CheckAnswer, IndexBuilder};

/// The allocator `creditloop serve` uses, so in-process figures match the server's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Command-line options; see the module documentation.
struct Opts {
    scale: f64,
    sample: usize,
    warmup: usize,
    seed: u64,
    rego: bool,
    sqlite: bool,
    pg: bool,
    sqlite_path: std::path::PathBuf,
}

fn opts() -> Result<Opts, String> {
    let mut o = Opts {
        scale: 1.0,
        sample: 10_000,
        warmup: 1_000,
        seed: DEFAULT_SEED,
        rego: true,
        sqlite: true,
        pg: true,
        sqlite_path: "/tmp/creditloop_yardstick.sqlite".into(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match a.as_str() {
            "--scale" => o.scale = val("--scale")?.parse().map_err(|e| format!("{e}"))?,
            "--sample" => o.sample = val("--sample")?.parse().map_err(|e| format!("{e}"))?,
            "--warmup" => o.warmup = val("--warmup")?.parse().map_err(|e| format!("{e}"))?,
            "--seed" => o.seed = val("--seed")?.parse().map_err(|e| format!("{e}"))?,
            "--sqlite" => o.sqlite_path = val("--sqlite")?.into(),
            "--skip-rego" => o.rego = false,
            "--skip-sql" => {
                o.sqlite = false;
                o.pg = false;
            }
            "--skip-pg" => o.pg = false,
            "--help" | "-h" => {
                return Err(
                    "options: --scale F --sample N --warmup N --seed N --sqlite PATH \
                     --skip-rego --skip-sql --skip-pg (see the source's header)"
                        .into(),
                );
            }
            other => return Err(format!("unknown option {other}")),
        }
    }
    if o.scale.is_nan() || o.scale <= 0.0 {
        return Err("--scale must be positive".into());
    }
    if o.sample == 0 {
        return Err("--sample must be at least 1".into());
    }
    Ok(o)
}

/// One row of the final table.
struct Row {
    method: String,
    lat: Latencies,
    per_sec: f64,
    agreement: Agreement,
}

/// Runs `check` over the warm-up cases unmeasured, then over the sample measuring each call, and
/// compares every answer with `decide`'s.
fn measure(
    method: &str,
    warm: &[Case],
    sample: &[Case],
    mut check: impl FnMut(usize, &Case, bool) -> Result<Answer, BoxError>,
) -> Result<Row, BoxError> {
    for (i, c) in warm.iter().enumerate() {
        std::hint::black_box(check(i, c, true)?);
    }
    let mut ns = Vec::with_capacity(sample.len());
    let mut answers = Vec::with_capacity(sample.len());
    let t_all = Instant::now();
    for (i, c) in sample.iter().enumerate() {
        let t = Instant::now();
        let a = check(i, c, false)?;
        ns.push(t.elapsed().as_nanos() as u64);
        answers.push(a);
    }
    let wall = t_all.elapsed();
    let mut agreement = Agreement::default();
    for (i, (c, a)) in sample.iter().zip(&answers).enumerate() {
        agreement.record(i, &c.expected, a);
    }
    let row = Row {
        method: method.to_string(),
        lat: Latencies::new(ns),
        per_sec: sample.len() as f64 / wall.as_secs_f64(),
        agreement,
    };
    println!(
        "{method}: p50 {:.1}µs p99 {:.1}µs max {:.1}µs, {:.0} checks/s; agrees with decide on {}/{} decisions, {}/{} decisions+measures",
        row.lat.pct_us(0.5),
        row.lat.pct_us(0.99),
        row.lat.max_us(),
        row.per_sec,
        row.agreement.decision,
        row.agreement.checked,
        row.agreement.full,
        row.agreement.checked
    );
    for (i, want, got) in &row.agreement.examples {
        let c = &sample[*i];
        println!(
            "  disagreement on {} in {}: decide {:?} {:?}, {method} {:?} {:?}",
            c.key.as_str(),
            c.scenario,
            want.decision,
            want.measures,
            got.decision,
            got.measures
        );
    }
    Ok(row)
}

fn main() -> Result<(), BoxError> {
    let o = opts()?;
    let world = World::new(o.scale);
    let on = date(2025, 6, 30);
    let on_iso = on.format("%Y-%m-%d").to_string();
    println!(
        "scale {}: {} subjects ({} organisations), {} records; sample {} checks (+{} warm-up) on {on}",
        o.scale, world.subjects, world.orgs, world.records, o.sample, o.warmup
    );
    let catalogue = Catalogue::default_catalogue()?;
    let compiled = CompiledCatalogue::compile(&catalogue);
    let scenarios: Vec<Scenario> = ScenarioRegistry::builtin().scenarios().collect();

    let t = Instant::now();
    let mut builder = IndexBuilder::new().with_version(1);
    world.generate(o.seed, |item| builder.push(item));
    let index = builder.build();
    println!(
        "index: built in {:.1}s (generation included); {} subjects, {} records; RSS {:.0} MiB",
        t.elapsed().as_secs_f64(),
        index.subject_count(),
        index.record_count(),
        rss().0
    );
    let sample = draw(&world, &index, &compiled, &scenarios, o.sample, o.seed, on);
    let warm = draw(
        &world,
        &index,
        &compiled,
        &scenarios,
        o.warmup,
        o.seed.wrapping_add(1),
        on,
    );
    let mut by_decision = std::collections::BTreeMap::new();
    for c in &sample {
        *by_decision
            .entry(c.expected.decision.code())
            .or_insert(0usize) += 1;
    }
    let held: usize = sample
        .iter()
        .map(|c| c.facts.records.len() + c.facts.persons.iter().map(|p| p.1.len()).sum::<usize>())
        .sum();
    println!(
        "sample: decide's decisions {by_decision:?}; {:.1} records per check (subject + linked persons), max {}",
        held as f64 / sample.len() as f64,
        sample
            .iter()
            .map(|c| c.facts.records.len())
            .max()
            .unwrap_or(0)
    );

    let mut rows = Vec::new();
    rows.push(measure(
        "CheckIndex::check (in process)",
        &warm,
        &sample,
        |_, c, _| match index.check(&compiled, &c.scenario, &c.code, on).0 {
            CheckAnswer::Outcome(out) => Ok(Answer::of(&out)),
            CheckAnswer::Ambiguous { count } => {
                Err(format!("code {} matched {count} subjects", c.code).into())
            }
        },
    )?);

    if o.rego {
        let mut checker = RegoChecker::new(&catalogue)?;
        let t = Instant::now();
        let inputs = sample
            .iter()
            .map(|c| rego::input(c, on))
            .collect::<Result<Vec<_>, _>>()?;
        let warm_inputs = warm
            .iter()
            .map(|c| rego::input(c, on))
            .collect::<Result<Vec<_>, _>>()?;
        println!(
            "rego: input documents prepared in {:.1}µs per check (facts → JSON → regorus Value; not in the figures below)",
            t.elapsed().as_secs_f64() * 1e6 / (inputs.len() + warm_inputs.len()) as f64
        );
        rows.push(measure(
            "Rego policy (regorus interpreter)",
            &warm,
            &sample,
            |i, _, warming| {
                let input = if warming { &warm_inputs[i] } else { &inputs[i] };
                rego::answer(&checker.eval(input.clone())?)
            },
        )?);
    }
    drop(index);

    if o.sqlite {
        let (db, report) = Sqlite::load(&o.sqlite_path, &world, o.seed, &catalogue)?;
        let size = std::fs::metadata(&o.sqlite_path).map_or(0, |m| m.len());
        println!(
            "{}; file {} ({:.0} MiB)",
            sql::describe_load("sqlite", &report),
            o.sqlite_path.display(),
            size as f64 / 1048576.0
        );
        rows.push(measure(
            "SQL: SQLite (rusqlite, file)",
            &warm,
            &sample,
            |_, c, _| db.check(c.key.as_str(), c.scenario.as_str(), &on_iso),
        )?);
    }

    if o.pg {
        let url = std::env::var("CREDITLOOP_BENCH_PG")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_string());
        let (mut db, report) =
            Postgres::load(&url, "creditloop_yardstick", &world, o.seed, &catalogue)?;
        println!("{}", sql::describe_load("postgresql", &report));
        rows.push(measure(
            "SQL: PostgreSQL (postgres crate, localhost TCP)",
            &warm,
            &sample,
            |_, c, _| db.check(c.key.as_str(), c.scenario.as_str(), on),
        )?);
    }

    println!();
    println!(
        "| method | checks measured | p50 µs | p99 µs | checks/s (1 thread) | same decision as decide | same decision + measures |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for r in &rows {
        println!(
            "| {} | {} | {:.1} | {:.1} | {:.0} | {}/{} | {}/{} |",
            r.method,
            r.lat.len(),
            r.lat.pct_us(0.5),
            r.lat.pct_us(0.99),
            r.per_sec,
            r.agreement.decision,
            r.agreement.checked,
            r.agreement.full,
            r.agreement.checked
        );
    }
    let (now, peak) = rss();
    println!("RSS {now:.0} MiB, peak {peak:.0} MiB");
    Ok(())
}
