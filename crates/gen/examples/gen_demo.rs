//! Writes a data set: `cargo run --release -p creditloop-gen --example gen_demo -- OUT_DIR
//! [demo|tianjin] [csv|xlsx|jsonl] [utf8|utf8bom|gbk] [quirks] [CATEGORY…]` and prints the report and
//! the rate.

use std::time::Instant;

use creditloop_gen::{Category, GenConfig, generate};

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut cfg = GenConfig::demo();
    let mut cats = Vec::new();
    for (i, a) in args.iter().enumerate() {
        if i == 0 {
            cfg.out_dir = a.into();
        } else if a == "tianjin" {
            let out = cfg.out_dir.clone();
            cfg = GenConfig {
                out_dir: out,
                ..GenConfig::tianjin()
            };
        } else if a == "quirks" {
            cfg.quirks = true;
        } else if let Ok(f) = a.parse() {
            cfg.format = f;
        } else if let Ok(e) = a.parse() {
            cfg.encoding = e;
        } else if let Some(c) = Category::parse(a) {
            cats.push(c);
        } else if let Some(n) = a.strip_prefix("records=") {
            cfg.records = n.parse().unwrap_or(cfg.records);
        }
    }
    if !cats.is_empty() {
        cfg.categories = Some(cats);
    }
    let t = Instant::now();
    let report = generate(&cfg, &mut |n| eprint!("\r{n} rows"))?;
    let secs = t.elapsed().as_secs_f64();
    eprintln!();
    for (p, rows, bad) in &report.files {
        println!("{}\t{rows} rows\t{bad} bad", p.display());
    }
    println!(
        "{} records ({} bad, {} late) in {secs:.1} s: {:.0} rows/s",
        report.records,
        report.bad_rows,
        report.late_rows,
        report.records as f64 / secs
    );
    Ok(())
}
