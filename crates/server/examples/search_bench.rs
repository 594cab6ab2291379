//! Name search over the in-memory name index at province scale: builds the index over 1.05 million
//! generated subject names (the Tianjin figure, DESIGN.md §4) and times partial-name queries.
//!
//! ```sh
//! cargo run --release -p creditloop-server --example search_bench [-- SUBJECTS [QUERIES]]
//! ```
//!
//! Queries are substrings of generated names (2 to 6 characters, from random positions, so
//! common bigrams such as 有限 and 公司 are drawn as often as they occur), plus whole names and a
//! share of one-character queries; each answers with the best 50. Prints build time, memory
//! estimate and p50 / p90 / p99 / max latency.

use std::time::Instant;

use chrono::NaiveDate;
use creditloop_domain::subject::{SubjectKey, SubjectKind};
use creditloop_server::names::NameIndex;
use creditloop_store::SubjectName;
use rand::{Rng, SeedableRng};

fn main() {
    let mut args = std::env::args().skip(1);
    let n: u64 = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_050_000);
    let queries: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let today = NaiveDate::from_ymd_opt(2024, 6, 28).unwrap_or_default();

    let t = Instant::now();
    let names: Vec<SubjectName> = creditloop_gen::subject_names(1, n, today)
        .map(|(key, name)| SubjectName {
            kind: if key.starts_with("P:") {
                SubjectKind::NaturalPerson
            } else {
                SubjectKind::Enterprise
            },
            key: SubjectKey(key),
            name,
            masked: None,
        })
        .collect();
    println!("generated {} names in {:.1?}", names.len(), t.elapsed());
    let sample: Vec<Vec<char>> = names
        .iter()
        .step_by(7)
        .map(|s| s.name.chars().collect())
        .collect();

    let t = Instant::now();
    let index = NameIndex::from_names(names);
    println!(
        "built the name index of {} subjects in {:.1?}",
        index.snapshot().len(),
        t.elapsed()
    );

    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let mut qs: Vec<String> = Vec::with_capacity(queries);
    for i in 0..queries {
        let name = &sample[rng.gen_range(0..sample.len())];
        let q: String = match i % 20 {
            // 5 %: one character.
            0 => name[rng.gen_range(0..name.len())].to_string(),
            // 5 %: the whole name.
            1 => name.iter().collect(),
            _ => {
                let len = rng.gen_range(2..=6).min(name.len());
                let start = rng.gen_range(0..=name.len() - len);
                name[start..start + len].iter().collect()
            }
        };
        qs.push(q);
    }
    // Warm-up, then timed.
    for q in qs.iter().take(500) {
        std::hint::black_box(index.search(q, 50));
    }
    let mut lat: Vec<f64> = Vec::with_capacity(qs.len());
    let mut hits = 0usize;
    let all = Instant::now();
    for q in &qs {
        let t = Instant::now();
        let r = index.search(q, 50);
        lat.push(t.elapsed().as_secs_f64() * 1e3);
        hits += r.len();
    }
    let total = all.elapsed();
    lat.sort_by(f64::total_cmp);
    let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
    println!(
        "{} queries in {:.2?} ({:.0} queries/s on one thread), {:.1} hits on average",
        lat.len(),
        total,
        lat.len() as f64 / total.as_secs_f64(),
        hits as f64 / lat.len() as f64
    );
    println!(
        "latency ms: p50 {:.3}  p90 {:.3}  p99 {:.3}  max {:.3}",
        pct(0.50),
        pct(0.90),
        pct(0.99),
        lat[lat.len() - 1]
    );
}
