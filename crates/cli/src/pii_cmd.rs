//! The personal data key (个人信息密钥) options every command that touches persons shares, and
//! `creditloop pii`: make a key file, reveal one person's resident number (audited).

use crate::out::outln;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use creditloop_audit::{Action, NewEntry};
use creditloop_domain::subject::SubjectKey;
use creditloop_pii::{Cipher, PiiKey};

use crate::{DB_ENV, DEFAULT_DB};

/// Where the personal data key comes from. Never from the database.
#[derive(clap::Args, Clone, Default)]
pub struct PiiArgs {
    /// Key file: 64 hex digits (default: `X.db.pii-key` beside a SQLite store, created 0600 on first
    /// use; `creditloop-pii.key` in the working directory for PostgreSQL).
    #[arg(long, env = "CREDITLOOP_PII_KEY_FILE")]
    pub pii_key_file: Option<PathBuf>,
    /// Cipher that seals new resident numbers: aes-256-gcm (default) or sm4-gcm. Numbers already
    /// sealed keep theirs (recorded per row).
    #[arg(long, env = "CREDITLOOP_PII_CIPHER", default_value = "aes-256-gcm")]
    pub pii_cipher: String,
}

impl PiiArgs {
    /// The key for a store: `--pii-key-file`, else `CREDITLOOP_PII_KEY` (hex), else the default
    /// file, created when `create`.
    pub fn load(&self, db: &str, create: bool) -> anyhow::Result<Arc<PiiKey>> {
        let cipher = Cipher::parse(&self.pii_cipher)?;
        let env = std::env::var("CREDITLOOP_PII_KEY").ok();
        let key = creditloop_pii::resolve_key(
            self.pii_key_file.as_deref(),
            env.as_deref(),
            db,
            cipher,
            create,
        )
        .context("loading the personal data key")?;
        Ok(Arc::new(key))
    }
}

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: PiiCommand,
}

#[derive(clap::Subcommand)]
pub enum PiiCommand {
    /// Write a new random key file (mode 0600); refuses to overwrite one.
    Keygen {
        /// Where to write it.
        path: PathBuf,
    },
    /// Print a person's resident number unmasked: recorded in the audit log first.
    Reveal {
        #[arg(long, env = DB_ENV, default_value = DEFAULT_DB)]
        db: String,
        /// The subject key (`P:…`) or the resident number.
        subject: String,
        /// Who asks (the audit log's actor).
        #[arg(long)]
        by: String,
        #[command(flatten)]
        pii: PiiArgs,
    },
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        PiiCommand::Keygen { path } => {
            creditloop_pii::generate_key_file(&path)?;
            outln!("wrote a new personal data key to {}", path.display());
            Ok(ExitCode::SUCCESS)
        }
        PiiCommand::Reveal {
            db,
            subject,
            by,
            pii,
        } => reveal(&db, &subject, &by, &pii),
    }
}

fn reveal(db: &str, subject: &str, by: &str, pii: &PiiArgs) -> anyhow::Result<ExitCode> {
    let store = creditloop_store::open(db).with_context(|| format!("opening {db}"))?;
    let key = pii.load(db, false)?;
    store.check_pii_key(&key.check_value())?;
    let subject_key = if subject.trim().starts_with("P:") {
        Some(SubjectKey(subject.trim().to_string()))
    } else if let Some(p) = creditloop_server::pseudonym_of(&key, subject) {
        Some(SubjectKey(format!("P:{p}")))
    } else {
        creditloop_server::find_subject(&*store, &key, subject)?
    };
    let sealed = match subject_key {
        Some(k) => store.sealed_identity(&k)?,
        None => None,
    };
    let Some(sealed) = sealed else {
        eprintln!("未找到该自然人的身份证号码 / no resident number is held for this subject");
        return Ok(ExitCode::FAILURE);
    };
    let id = key.open(&sealed)?;
    let audit = creditloop_server::audit::open_appending(&creditloop_server::audit::audit_url(db))?;
    let entry = NewEntry::new(by, Action::UnmaskedRead)
        .object(sealed.key.0.clone())
        .subject(sealed.key.0.clone())
        .detail(serde_json::json!({"field": "resident_id", "via": "cli"}));
    creditloop_server::audit::append_blocking(&audit, entry).map_err(|e| anyhow::anyhow!(e))?;
    outln!("{}\t{}", sealed.key, id.as_str());
    Ok(ExitCode::SUCCESS)
}
