//! `creditloop audit`: verify the tamper-evident log, publish a signed tree head, make a key.

use crate::out::outln;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use creditloop_audit::SignatureAlgorithm;

use crate::serve_cmd::AuditArgs;
use crate::{DB_ENV, DEFAULT_DB};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(clap::Subcommand)]
pub enum Command {
    /// Recompute the whole log and check every signed head; exits non-zero and names the first
    /// entry altered, removed, inserted or reordered.
    Verify {
        /// Store URL (the audit log lives beside it).
        #[arg(long, env = DB_ENV, default_value = DEFAULT_DB)]
        db: String,
        /// Audit log URL, when not the default beside the store.
        #[arg(long, env = "CREDITLOOP_AUDIT_DB")]
        audit_db: Option<String>,
        /// The public key file (`KEY.pub`) or the key file itself.
        #[arg(long, env = "CREDITLOOP_AUDIT_KEY")]
        key: Option<PathBuf>,
    },
    /// Sign and publish a tree head over everything committed now.
    Head {
        #[arg(long, env = DB_ENV, default_value = DEFAULT_DB)]
        db: String,
        #[command(flatten)]
        audit: AuditArgs,
    },
    /// Create a signing key file (mode 0600) and its public half `PATH.pub`.
    Keygen {
        #[arg(long)]
        out: PathBuf,
        /// ed25519 (default) or sm2.
        #[arg(long, default_value = "ed25519")]
        algorithm: String,
    },
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Command::Verify { db, audit_db, key } => {
            let url = audit_db.unwrap_or_else(|| creditloop_server::audit::audit_url(&db));
            let key = key.unwrap_or_else(|| {
                let k = creditloop_server::audit::default_key_path(&db);
                let public = creditloop_audit::public_key_path(&k);
                if public.exists() { public } else { k }
            });
            let report = creditloop_audit::run_verify_cli(&url, &key)
                .with_context(|| format!("verifying {url} with {}", key.display()))?;
            Ok(if report.exit_code() == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Head { db, audit } => {
            let log = crate::serve_cmd::open_audit(&db, &audit)?;
            let head = log.publish_head()?;
            outln!("{}", serde_json::to_string(&head)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Keygen { out, algorithm } => {
            let alg = SignatureAlgorithm::from_code(&algorithm).ok_or_else(|| {
                anyhow::anyhow!("未知算法 {algorithm}：应为 ed25519 或 sm2 / use ed25519 or sm2")
            })?;
            let public = creditloop_audit::generate_key_file(&out, alg)?;
            outln!(
                "{} key {} → {} (public: {})",
                alg.code(),
                public.key_id(),
                out.display(),
                creditloop_audit::public_key_path(&out).display()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
