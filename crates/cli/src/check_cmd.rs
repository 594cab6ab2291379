//! `creditloop check`: 事前信用查询 of one subject in one scenario.

use std::process::ExitCode;

use anyhow::Context;
use chrono::NaiveDate;
use creditloop_domain::catalogue::CompiledCatalogue;

use crate::{DB_ENV, DEFAULT_DB, parse_date};

#[derive(clap::Args)]
pub struct Args {
    /// Store URL: sqlite://PATH or postgres://…
    #[arg(long, env = DB_ENV, default_value = DEFAULT_DB)]
    pub db: String,
    /// Unified code, resident number, another code, or the exact name.
    #[arg(long)]
    pub subject: String,
    /// Scenario code (government_procurement, public_bidding, administrative_licence, …).
    #[arg(long)]
    pub scenario: String,
    /// Check as of this day (default: today in China).
    #[arg(long, value_parser = parse_date)]
    pub on: Option<NaiveDate>,
    /// Print one JSON object with `decision` and `measures`.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let store = creditloop_store::open(&args.db).with_context(|| format!("opening {}", args.db))?;
    let catalogue = CompiledCatalogue::compile(&creditloop_server::default_catalogue());
    let on = args.on.unwrap_or_else(crate::today);
    let outcome =
        creditloop_server::checks::check(&*store, &catalogue, &args.subject, &args.scenario, on)
            .map_err(|e| anyhow::anyhow!("{e} / {}", e.zh()))?;
    if args.json {
        let mut v = serde_json::to_value(&outcome)?;
        v["summary_zh"] = serde_json::Value::String(outcome.summary_zh());
        creditloop_server::mask::mask_json(&mut v);
        println!("{}", serde_json::to_string(&v)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("{}", outcome.summary_zh());
    println!(
        "decision: {} · scenario: {} · catalogue: {}",
        outcome.decision.code(),
        outcome.scenario.as_str(),
        outcome.catalogue_version.label_zh()
    );
    for m in &outcome.measures {
        println!(
            "  {} [{}] {} — 实施部门 {} — 依据 {} {}",
            m.code,
            m.action.zh(),
            m.content,
            m.implementing_agency,
            m.legal_basis.document,
            m.legal_basis.article
        );
        for k in &m.triggering {
            println!(
                "      触发记录 {} {} {}",
                k.category.zh(),
                k.source,
                k.doc_no
            );
        }
    }
    for d in &outcome.disregarded {
        println!(
            "  未予考虑 disregarded: {} {} ({})",
            d.key.category.zh(),
            d.key.doc_no,
            d.reason_zh
        );
    }
    Ok(ExitCode::SUCCESS)
}
