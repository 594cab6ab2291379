//! The yardsticks must answer the question `decide` answers: on a small synthetic population, for
//! every scenario and on dates that exercise month-end clamping of the look-back windows, the Rego
//! policy and the SQLite statement give `decide`'s decision and measures. Also: the generator is
//! deterministic.

use creditloop_bench::rego::{self, RegoChecker};
use creditloop_bench::sample::{Answer, Case};
use creditloop_bench::sql::Sqlite;
use creditloop_bench::synth::{World, date};
use creditloop_domain::catalogue::{
    Catalogue, CompiledCatalogue, Scenario, ScenarioRegistry, decide,
};
use creditloop_index::{IndexBuilder, IndexItem};

const SEED: u64 = 7;

#[test]
fn same_seed_same_items() {
    let world = World::new(0.0005);
    let collect = |seed| {
        let mut v: Vec<IndexItem> = Vec::new();
        world.generate(seed, |i| v.push(i));
        v
    };
    let a = collect(SEED);
    assert_eq!(a, collect(SEED));
    assert_ne!(a, collect(SEED + 1));
    let records = a
        .iter()
        .filter(|i| matches!(i, IndexItem::Record { .. }))
        .count();
    assert_eq!(records, world.records);
}

#[test]
fn rego_and_sqlite_agree_with_decide() {
    let world = World::new(0.0005);
    let catalogue = Catalogue::default_catalogue().expect("the shipped catalogue loads");
    let compiled = CompiledCatalogue::compile(&catalogue);
    let scenarios: Vec<Scenario> = ScenarioRegistry::builtin().scenarios().collect();
    let mut builder = IndexBuilder::new().with_version(1);
    world.generate(SEED, |i| builder.push(i));
    let index = builder.build();

    let path = std::env::temp_dir().join(format!(
        "creditloop_bench_agreement_{}.sqlite",
        std::process::id()
    ));
    let (db, report) = Sqlite::load(&path, &world, SEED, &catalogue).expect("sqlite loads");
    assert_eq!(report.records as usize, world.records);
    let mut rego = RegoChecker::new(&catalogue).expect("the policy compiles");

    let mut checked = 0;
    let mut non_normal = 0;
    // Month ends (leap and non-leap) where `on - N months` is clamped, and an ordinary day.
    for on in [date(2024, 2, 29), date(2025, 3, 31), date(2025, 6, 30)] {
        let on_iso = on.format("%Y-%m-%d").to_string();
        for subject in (0..world.subjects).step_by(7) {
            let key = world.key(subject);
            let facts = index.facts(&key).expect("generated subjects are indexed");
            for scenario in &scenarios {
                let expected = Answer::of(&decide(&compiled, scenario, &facts, on));
                let case = Case {
                    subject,
                    key: key.clone(),
                    code: world.code(subject),
                    scenario: scenario.clone(),
                    facts: facts.clone(),
                    expected: expected.clone(),
                };
                let input = rego::input(&case, on).expect("facts serialise");
                let got = rego::answer(&rego.eval(input).expect("the policy evaluates"))
                    .expect("the policy answers");
                assert_eq!(
                    got,
                    expected,
                    "rego, {} in {scenario} on {on}",
                    key.as_str()
                );
                let got = db
                    .check(key.as_str(), scenario.as_str(), &on_iso)
                    .expect("the statement runs");
                assert_eq!(
                    got,
                    expected,
                    "sqlite, {} in {scenario} on {on}",
                    key.as_str()
                );
                checked += 1;
                if expected.decision != creditloop_domain::catalogue::Decision::Normal {
                    non_normal += 1;
                }
            }
        }
    }
    drop(db);
    let _ = std::fs::remove_file(&path);
    assert!(
        checked > 1000 && non_normal > 100,
        "{checked} checks, {non_normal} not normal"
    );
}
