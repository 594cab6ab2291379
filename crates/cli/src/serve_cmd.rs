//! `creditloop serve`.

use std::net::SocketAddr;
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
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let store = creditloop_store::open(&args.db).with_context(|| format!("opening {}", args.db))?;
    serve(Arc::from(store), args.listen)?;
    Ok(ExitCode::SUCCESS)
}

/// Runs the server on a multi-threaded runtime until Ctrl-C; prints the address it listens on.
pub fn serve(store: Arc<dyn creditloop_store::Store>, listen: SocketAddr) -> anyhow::Result<()> {
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
        let state = tokio::task::spawn_blocking(move || AppState::new(store)).await??;
        println!("creditloop serving {backend} on http://{addr}/");
        creditloop_server::serve(listener, state).await?;
        Ok(())
    })
}
