//! `creditloop token` (API tokens of agency systems) and `creditloop user` (web users): the credit
//! office's administration of who may log in. Every grant and revocation is audited (权限变更).

use crate::out::outln;
use std::io::BufRead;
use std::process::ExitCode;

use anyhow::{Context, bail};
use chrono::Utc;
use creditloop_audit::{Action, NewEntry};
use creditloop_domain::access::Role;
use creditloop_server::credentials::{self, TokenRequest};
use creditloop_store::StoredUser;
use serde_json::json;

use crate::{DB_ENV, DEFAULT_DB};

/// The actor of changes made from the command line (whoever can run it holds the database).
const CLI_ACTOR: &str = "cli";

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| {
        let all: Vec<&str> = Role::ALL.iter().map(|r| r.code()).collect();
        format!("未知角色 unknown role `{s}`: use one of {}", all.join(", "))
    })
}

#[derive(clap::Args)]
pub struct TokenArgs {
    /// Store URL: sqlite://PATH or postgres://…
    #[arg(long, env = DB_ENV, default_value = DEFAULT_DB, global = true)]
    pub db: String,
    #[command(subcommand)]
    pub command: TokenCommand,
}

#[derive(clap::Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it once (it is stored only as a hash).
    Create {
        /// Unique name, e.g. the calling system (`tj-scjg-approvals`).
        #[arg(long)]
        name: String,
        /// credit_office_admin, agency_admin, agency_officer, agency_system, auditor, enterprise, public.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// The agency's unified code (agency roles).
        #[arg(long)]
        agency: Option<String>,
        /// The subject key (enterprise role).
        #[arg(long)]
        subject: Option<String>,
        /// Days until it expires.
        #[arg(long, default_value_t = 90)]
        days: u32,
        /// Never expires (not recommended).
        #[arg(long, conflicts_with = "days")]
        no_expiry: bool,
    },
    /// List tokens (never the tokens themselves).
    List,
    /// Revoke a token by name.
    Revoke { name: String },
}

pub fn run_token(args: TokenArgs) -> anyhow::Result<ExitCode> {
    let store = creditloop_store::open(&args.db).with_context(|| format!("opening {}", args.db))?;
    match args.command {
        TokenCommand::Create {
            name,
            role,
            agency,
            subject,
            days,
            no_expiry,
        } => {
            let audit = open_audit(&args.db)?;
            let (token, row) = credentials::issue_token(
                &*store,
                &audit,
                &TokenRequest {
                    name: &name,
                    role,
                    agency: agency.as_deref(),
                    subject: subject.as_deref(),
                    days: (!no_expiry).then_some(days),
                    created_by: CLI_ACTOR,
                },
            )
            .map_err(|e| anyhow::anyhow!("{} / {}", e.zh, e.en))?;
            eprintln!(
                "已创建令牌 token created: {} ({} {}), expires {}",
                row.name,
                row.role.code(),
                row.agency.as_deref().unwrap_or("-"),
                row.expires_at
                    .map_or("never".to_string(), |e| e.to_rfc3339())
            );
            eprintln!("请妥善保存，令牌只显示这一次 keep it safe: it is shown only once");
            outln!("{token}");
        }
        TokenCommand::List => {
            let now = Utc::now();
            outln!("name\trole\tagency\tstatus\texpires_at\tlast_used_at");
            for t in store.tokens()? {
                let status = if t.revoked_at.is_some() {
                    "revoked"
                } else if !t.is_valid_at(now) {
                    "expired"
                } else {
                    "active"
                };
                outln!(
                    "{}\t{}\t{}\t{status}\t{}\t{}",
                    t.name,
                    t.role.code(),
                    t.agency.as_deref().unwrap_or("-"),
                    t.expires_at.map_or("never".into(), |e| e.to_rfc3339()),
                    t.last_used_at.map_or("-".into(), |e| e.to_rfc3339()),
                );
            }
        }
        TokenCommand::Revoke { name } => {
            let audit = open_audit(&args.db)?;
            if !credentials::revoke_token(&*store, &audit, &name, CLI_ACTOR)
                .map_err(|e| anyhow::anyhow!("{} / {}", e.zh, e.en))?
            {
                bail!("没有名为“{name}”的有效令牌 no live token named `{name}`");
            }
            outln!("已吊销 revoked: {name}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args)]
pub struct UserArgs {
    /// Store URL: sqlite://PATH or postgres://…
    #[arg(long, env = DB_ENV, default_value = DEFAULT_DB, global = true)]
    pub db: String,
    #[command(subcommand)]
    pub command: UserCommand,
}

#[derive(clap::Subcommand)]
pub enum UserCommand {
    /// Add a web user. The password is read from the first line of standard input; administrators
    /// get a TOTP secret, printed once with its otpauth:// URI for an authenticator app.
    Add {
        username: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
        #[arg(long)]
        agency: Option<String>,
        #[arg(long)]
        subject: Option<String>,
        /// Display name (姓名).
        #[arg(long)]
        name: Option<String>,
        /// Give a TOTP second factor to a non-administrator too.
        #[arg(long)]
        totp: bool,
    },
    /// List users.
    List,
    /// Set a user's password (read from the first line of standard input).
    Passwd {
        username: String,
        /// Also make a new TOTP secret (printed once).
        #[arg(long)]
        reset_totp: bool,
    },
    /// Disable a user: its sessions and certificate stop working at once (they are checked against
    /// the user on every request); nothing of what it did is removed.
    Disable { username: String },
    /// Enable a disabled user again.
    Enable { username: String },
    /// Bind a client certificate (客户端证书, PEM) to a user: over HTTPS with `serve --client-ca`,
    /// a connection presenting it acts as that user. The certificate is known by its SHA-256
    /// fingerprint; it is not stored.
    BindCert {
        #[arg(long)]
        username: String,
        /// The certificate, PEM (its first certificate is bound).
        #[arg(long)]
        cert: std::path::PathBuf,
    },
    /// Remove the binding of a client certificate, by its file or its fingerprint.
    UnbindCert {
        #[arg(
            long,
            required_unless_present = "fingerprint",
            conflicts_with = "fingerprint"
        )]
        cert: Option<std::path::PathBuf>,
        /// SHA-256 of the certificate (hex, as `user certs` lists it).
        #[arg(long)]
        fingerprint: Option<String>,
    },
    /// List the bound client certificates.
    Certs,
}

fn read_password() -> anyhow::Result<String> {
    eprintln!("口令（从标准输入读取一行）password (one line from standard input):");
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let password = line.trim_end_matches(['\r', '\n']).to_string();
    credentials::check_password_strength(&password)
        .map_err(|e| anyhow::anyhow!("{} / {}", e.zh, e.en))?;
    Ok(password)
}

fn print_totp(username: &str, secret: &str) {
    outln!("TOTP secret (shown once): {secret}");
    outln!("{}", credentials::totp_uri(username, secret));
}

pub fn run_user(args: UserArgs) -> anyhow::Result<ExitCode> {
    let store = creditloop_store::open(&args.db).with_context(|| format!("opening {}", args.db))?;
    match args.command {
        UserCommand::Add {
            username,
            role,
            agency,
            subject,
            name,
            totp,
        } => {
            let username = username.trim().to_string();
            if username.is_empty() || username.len() > 64 || username.starts_with("token:") {
                bail!("用户名须为 1 到 64 个字符 a user name has 1 to 64 characters");
            }
            let (agency, subject) =
                credentials::fit_role(role, agency.as_deref(), subject.as_deref())
                    .map_err(|e| anyhow::anyhow!("{} / {}", e.zh, e.en))?;
            let password = read_password()?;
            let secret = (totp || role.is_administrator()).then(credentials::new_totp_secret);
            let now = Utc::now();
            let user = StoredUser {
                display_name: name.unwrap_or_else(|| username.clone()),
                username: username.clone(),
                role,
                agency,
                subject,
                password_hash: credentials::hash_password(&password)
                    .map_err(|e| anyhow::anyhow!("{} / {}", e.zh, e.en))?,
                totp_secret: secret.clone(),
                disabled: false,
                created_at: now,
                updated_at: now,
            };
            if !store.put_user(&user)? {
                bail!("用户名“{username}”已存在 the user `{username}` exists already");
            }
            audit_change(&args.db, &user, "user_created")?;
            outln!("已添加用户 user added: {username} ({})", role.code());
            if let Some(s) = secret {
                print_totp(&username, &s);
            }
        }
        UserCommand::List => {
            outln!("username\trole\tagency\ttotp\tdisabled");
            for u in store.users()? {
                outln!(
                    "{}\t{}\t{}\t{}\t{}",
                    u.username,
                    u.role.code(),
                    u.agency.as_deref().unwrap_or("-"),
                    u.totp_secret.is_some(),
                    u.disabled
                );
            }
        }
        UserCommand::Passwd {
            username,
            reset_totp,
        } => {
            let Some(mut user) = store.user(&username)? else {
                bail!("没有用户“{username}” no user `{username}`");
            };
            let password = read_password()?;
            user.password_hash = credentials::hash_password(&password)
                .map_err(|e| anyhow::anyhow!("{} / {}", e.zh, e.en))?;
            let secret = reset_totp.then(credentials::new_totp_secret);
            if secret.is_some() {
                user.totp_secret = secret.clone();
            }
            user.updated_at = Utc::now();
            store.update_user(&user)?;
            audit_change(&args.db, &user, "password_changed")?;
            outln!("已更新口令 password changed: {username}");
            if let Some(s) = secret {
                print_totp(&username, &s);
            }
        }
        UserCommand::Disable { username } => set_disabled(&*store, &args.db, &username, true)?,
        UserCommand::Enable { username } => set_disabled(&*store, &args.db, &username, false)?,
        UserCommand::BindCert { username, cert } => {
            let pem =
                std::fs::read(&cert).with_context(|| format!("reading {}", cert.display()))?;
            let audit = open_audit(&args.db)?;
            let bound = credentials::bind_certificate(&*store, &audit, &username, &pem, CLI_ACTOR)
                .map_err(|e| anyhow::anyhow!("{} / {}", e.zh, e.en))?;
            outln!(
                "已绑定证书 certificate bound: {} → {username}",
                bound.fingerprint
            );
        }
        UserCommand::UnbindCert { cert, fingerprint } => {
            let fingerprint = match (cert, fingerprint) {
                (_, Some(f)) => f,
                (Some(path), None) => {
                    let pem = std::fs::read(&path)
                        .with_context(|| format!("reading {}", path.display()))?;
                    creditloop_server::tls::pem_fingerprint(&pem)?
                }
                (None, None) => bail!("--cert 或 --fingerprint give --cert or --fingerprint"),
            };
            let audit = open_audit(&args.db)?;
            match credentials::unbind_certificate(&*store, &audit, &fingerprint, CLI_ACTOR)
                .map_err(|e| anyhow::anyhow!("{} / {}", e.zh, e.en))?
            {
                Some(c) => outln!(
                    "已解除绑定 certificate unbound: {} (was {})",
                    c.fingerprint,
                    c.username
                ),
                None => bail!("该证书未绑定 the certificate {fingerprint} is not bound"),
            }
        }
        UserCommand::Certs => {
            outln!("fingerprint\tusername\tbound_by\tbound_at");
            for c in store.certificates()? {
                outln!(
                    "{}\t{}\t{}\t{}",
                    c.fingerprint,
                    c.username,
                    c.bound_by,
                    c.bound_at.to_rfc3339()
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Disables or enables a user, audited as a permission change.
fn set_disabled(
    store: &dyn creditloop_store::Store,
    db: &str,
    username: &str,
    disable: bool,
) -> anyhow::Result<()> {
    let Some(mut user) = store.user(username)? else {
        bail!("没有用户“{username}” no user `{username}`");
    };
    if user.disabled == disable {
        outln!(
            "用户“{username}”已是{} / the user is {} already",
            if disable {
                "停用状态"
            } else {
                "启用状态"
            },
            if disable { "disabled" } else { "enabled" }
        );
        return Ok(());
    }
    user.disabled = disable;
    user.updated_at = Utc::now();
    store.update_user(&user)?;
    let change = if disable {
        "user_disabled"
    } else {
        "user_enabled"
    };
    audit_change(db, &user, change)?;
    outln!(
        "{} {username}",
        if disable {
            "已停用 disabled:"
        } else {
            "已启用 enabled:"
        }
    );
    Ok(())
}

fn open_audit(db: &str) -> anyhow::Result<creditloop_audit::AuditLog> {
    let url = creditloop_server::audit::audit_url(db);
    creditloop_server::audit::open_appending(&url)
        .with_context(|| format!("opening the audit log {url}"))
}

fn audit_change(db: &str, user: &StoredUser, change: &str) -> anyhow::Result<()> {
    let audit = open_audit(db)?;
    let mut entry = NewEntry::new(CLI_ACTOR, Action::PermissionChange)
        .object(user.username.clone())
        .detail(json!({"change": change, "role": user.role.code()}));
    if let Some(a) = &user.agency {
        entry = entry.agency(a.clone());
    }
    creditloop_server::audit::append_blocking(&audit, entry).map_err(|e| anyhow::anyhow!(e))?;
    Ok(())
}
