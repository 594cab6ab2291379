//! `creditloop serve`.

use crate::out::noticeln;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use creditloop_server::AppState;

use crate::{DB_ENV, DEFAULT_DB};

#[derive(clap::Args)]
pub struct Args {
    /// Store URL: sqlite://PATH or postgres://…
    #[arg(long, env = DB_ENV, default_value = DEFAULT_DB)]
    pub db: String,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub audit: AuditArgs,
    #[command(flatten)]
    pub pii: crate::pii_cmd::PiiArgs,
    /// Development only: anonymous callers act as the credit office administrator (no token, no
    /// login). Never on a server others can reach.
    #[arg(long)]
    pub open_access: bool,
    #[command(flatten)]
    pub net: NetArgs,
}

/// How the server meets the network: abuse limits and TLS.
#[derive(clap::Args, Clone)]
pub struct NetArgs {
    /// Requests per minute an anonymous client IP may make (限流); callers with a token, a login
    /// or a client certificate are not limited. 0: no limit.
    #[arg(long, default_value_t = creditloop_server::limits::DEFAULT_PUBLIC_PER_MINUTE)]
    pub public_rate_limit: u32,
    /// Requests an anonymous client IP may make at once, within its per-minute limit.
    #[arg(long, default_value_t = creditloop_server::limits::DEFAULT_PUBLIC_BURST)]
    pub public_rate_burst: u32,
    /// Seconds a client has to send its request headers (and to finish the TLS handshake); an idle
    /// keep-alive connection is closed after it too.
    #[arg(long, default_value_t = creditloop_server::listen::HEADER_READ_TIMEOUT.as_secs())]
    pub header_timeout: u64,
    /// Serve HTTPS with this certificate chain (PEM); needs --tls-key.
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM).
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Verify client certificates against this CA (PEM; the CA that issues the agencies' login
    /// certificates). A certificate bound to a user (`creditloop user bind-cert`) logs that user
    /// in; connections without one are served as anonymous. Needs --tls-cert.
    #[arg(long, requires = "tls_cert")]
    pub client_ca: Option<PathBuf>,
    /// Mark the session cookie `Secure` although this server speaks plain HTTP: it sits behind a
    /// proxy that terminates HTTPS. (With --tls-cert it is marked so anyway.)
    #[arg(long)]
    pub secure_cookies: bool,
}

impl Default for NetArgs {
    fn default() -> Self {
        NetArgs {
            public_rate_limit: creditloop_server::limits::DEFAULT_PUBLIC_PER_MINUTE,
            public_rate_burst: creditloop_server::limits::DEFAULT_PUBLIC_BURST,
            header_timeout: creditloop_server::listen::HEADER_READ_TIMEOUT.as_secs(),
            tls_cert: None,
            tls_key: None,
            client_ca: None,
            secure_cookies: false,
        }
    }
}

impl NetArgs {
    /// The listening options, with the TLS configuration read from the files.
    pub fn options(&self) -> anyhow::Result<creditloop_server::ServeOptions> {
        let tls = match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Some(
                creditloop_server::tls::server_config(cert, key, self.client_ca.as_deref())
                    .context("setting up TLS")?,
            ),
            _ => None,
        };
        Ok(creditloop_server::ServeOptions {
            header_read_timeout: std::time::Duration::from_secs(self.header_timeout.max(1)),
            tls,
        })
    }
}

/// Where the audit log and its signing key are.
#[derive(clap::Args, Clone, Default)]
pub struct AuditArgs {
    /// Audit log URL (default: `X.audit.db` beside a SQLite store, the same PostgreSQL database).
    #[arg(long, env = "CREDITLOOP_AUDIT_DB")]
    pub audit_db: Option<String>,
    /// Key file that signs tree heads, outside the database (created when missing).
    #[arg(long, env = "CREDITLOOP_AUDIT_KEY")]
    pub audit_key: Option<PathBuf>,
    /// Seconds between signed tree heads (when the log grew).
    #[arg(long, default_value_t = 60)]
    pub audit_head_every: u64,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let store = creditloop_store::open(&args.db).with_context(|| format!("opening {}", args.db))?;
    let pii = args.pii.load(&args.db, true)?;
    serve(
        Arc::from(store),
        &args.db,
        &args.audit,
        pii,
        args.listen,
        args.open_access,
        &args.net,
    )?;
    Ok(ExitCode::SUCCESS)
}

/// Opens the signing audit log for a store URL.
pub fn open_audit(db: &str, a: &AuditArgs) -> anyhow::Result<creditloop_audit::AuditLog> {
    let url = a
        .audit_db
        .clone()
        .unwrap_or_else(|| creditloop_server::audit::audit_url(db));
    let key = a
        .audit_key
        .clone()
        .unwrap_or_else(|| creditloop_server::audit::default_key_path(db));
    creditloop_server::audit::open_signing(&url, &key, true)
        .with_context(|| format!("opening the audit log {url} with key {}", key.display()))
}

/// Runs the server on a multi-threaded runtime until Ctrl-C; prints the address it listens on.
pub fn serve(
    store: Arc<dyn creditloop_store::Store>,
    db: &str,
    audit_args: &AuditArgs,
    pii: Arc<creditloop_pii::PiiKey>,
    listen: SocketAddr,
    open_access: bool,
    net: &NetArgs,
) -> anyhow::Result<()> {
    let options = net.options()?;
    let audit = Arc::new(open_audit(db, audit_args)?);
    let _heads = audit
        .spawn_head_publisher(std::time::Duration::from_secs(
            audit_args.audit_head_every.max(1),
        ))
        .context("starting the tree head publisher")?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let addr = listener.local_addr()?;
        let backend = store.backend();
        eprintln!("building the check index from {backend}…");
        // The check index is built before the first request is accepted.
        let mut state = tokio::task::spawn_blocking(move || AppState::new(store, audit, pii)).await??;
        state.open_access = open_access;
        state.public_rate = creditloop_server::limits::PublicRateLimit::new(
            net.public_rate_limit,
            net.public_rate_burst,
        )
        .map(Arc::new);
        // Cookies over HTTPS are marked Secure.
        state.secure_cookies = options.tls.is_some() || net.secure_cookies;
        let scheme = if options.tls.is_some() { "https" } else { "http" };
        noticeln!("creditloop serving {backend} on {scheme}://{addr}/");
        if net.client_ca.is_some() {
            noticeln!(
                "client certificates of the CA {} log in their bound users \
                 (客户端证书登录：creditloop user bind-cert)",
                net.client_ca.as_deref().map(|p| p.display().to_string()).unwrap_or_default()
            );
        }
        if open_access {
            noticeln!(
                "注意 WARNING: open access — anonymous callers act as the credit office administrator \
                 (开放访问：匿名调用者视为信用办管理员). For development and the demo only."
            );
        } else {
            noticeln!(
                "API calls need `Authorization: Bearer clt_…` (creditloop token create); \
                 public pages and subject search are open"
            );
        }
        creditloop_server::serve_with(
            listener,
            state,
            options,
            creditloop_server::shutdown_signal(),
        )
        .await?;
        Ok(())
    })
}
