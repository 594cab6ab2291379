//! `creditloop`: the one binary. It only wires the crates together: domain, store, ingest, server, gen.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc rather than the system allocator: the server allocates per request on several threads,
/// where glibc's malloc spent a sixth of the check path's time (measured with perf, BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod access_cmd;
mod agencies_cmd;
mod audit_cmd;
mod calendar_cmd;
mod catalogue_cmd;
mod check_cmd;
mod demo_cmd;
mod generate_cmd;
mod import_cmd;
mod out;
mod pii_cmd;
mod serve_cmd;

/// The default store: a SQLite file in the working directory.
pub const DEFAULT_DB: &str = "sqlite://creditloop.db";

#[derive(Parser)]
#[command(
    name = "creditloop",
    version,
    about = "信用联合奖惩监管平台 — credit records collected, checked and published"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API and pages.
    Serve(serve_cmd::Args),
    /// Import credit records from CSV, XLSX or JSON Lines (归集).
    Import(import_cmd::Args),
    /// Write deterministic demo or benchmark data files.
    Generate(generate_cmd::Args),
    /// Generate demo data into a SQLite file and serve it: the one command to try creditloop.
    Demo(demo_cmd::Args),
    /// Working-day calendar (工作日): deadlines and counts.
    Calendar(calendar_cmd::Args),
    /// Credit check before an administrative action (事前信用查询).
    Check(check_cmd::Args),
    /// The agencies table (部门): import and list.
    Agencies(agencies_cmd::Args),
    /// The measures catalogue (联合奖惩措施目录): export, import, list, publish.
    Catalogue(catalogue_cmd::Args),
    /// The tamper-evident audit log (审计日志): verify, publish a signed head, make a key.
    Audit(audit_cmd::Args),
    /// API tokens (接口令牌) of agency systems: create (shown once), list, revoke.
    Token(access_cmd::TokenArgs),
    /// Web users (用户) with argon2 passwords and TOTP for administrators: add, list, passwd.
    User(access_cmd::UserArgs),
    /// Personal data (个人信息): make a key file, reveal a resident number (audited).
    Pii(pii_cmd::Args),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CREDITLOOP_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(a) => serve_cmd::run(a),
        Command::Import(a) => import_cmd::run(a),
        Command::Generate(a) => generate_cmd::run(a),
        Command::Demo(a) => demo_cmd::run(a),
        Command::Calendar(a) => calendar_cmd::run(a),
        Command::Agencies(a) => agencies_cmd::run(a),
        Command::Check(a) => check_cmd::run(a),
        Command::Catalogue(a) => catalogue_cmd::run(a),
        Command::Audit(a) => audit_cmd::run(a),
        Command::Token(a) => access_cmd::run_token(a),
        Command::User(a) => access_cmd::run_user(a),
        Command::Pii(a) => pii_cmd::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("错误 error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Parses a date given on the command line (YYYY-MM-DD).
pub fn parse_date(s: &str) -> Result<chrono::NaiveDate, String> {
    chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|e| format!("`{s}` is not a date YYYY-MM-DD: {e}"))
}

/// Today in China Standard Time.
pub fn today() -> chrono::NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive()
}

/// Where the store URL may also come from.
pub const DB_ENV: &str = "CREDITLOOP_DB";
