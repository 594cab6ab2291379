//! The accept loop: hyper connections over TCP or TLS, with a header read timeout (a client that
//! never finishes its request headers is cut off), the peer address and client certificate put on
//! every request, and a graceful shutdown that finishes the requests under way.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tower::ServiceExt;

use crate::tls::PeerCertificate;

/// Time a client has to send its request headers (and, with TLS, to finish the handshake).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Time the requests under way have to finish after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// How the server listens.
#[derive(Clone)]
pub struct ServeOptions {
    /// Time to send the request headers; an idle keep-alive connection is closed after it too.
    pub header_read_timeout: Duration,
    /// HTTPS (and client certificates) when set.
    pub tls: Option<Arc<rustls::ServerConfig>>,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            header_read_timeout: HEADER_READ_TIMEOUT,
            tls: None,
        }
    }
}

/// Serves `router` on `listener` until `shutdown` completes, then stops accepting and lets the
/// requests under way finish.
pub async fn serve_router(
    listener: TcpListener,
    router: Router,
    options: ServeOptions,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(options.header_read_timeout);
    builder.http2().timer(TokioTimer::new());
    let acceptor = options.tls.clone().map(tokio_rustls::TlsAcceptor::from);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let router = router.clone();
        let builder = builder.clone();
        let acceptor = acceptor.clone();
        let watcher = graceful.watcher();
        let timeout = options.header_read_timeout;
        tokio::spawn(async move {
            let _ = stream.set_nodelay(true);
            match acceptor {
                // Plain HTTP is HTTP/1 only: the version sniffing of `auto` has no timeout.
                None => serve_io(builder.http1_only(), stream, router, peer, None, watcher).await,
                Some(acceptor) => {
                    let tls = match tokio::time::timeout(timeout, acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => tls,
                        Ok(Err(e)) => {
                            tracing::debug!(%peer, error = %e, "TLS handshake refused");
                            return;
                        }
                        Err(_) => {
                            tracing::debug!(%peer, "TLS handshake timed out");
                            return;
                        }
                    };
                    let (_, session) = tls.get_ref();
                    let cert = session
                        .peer_certificates()
                        .and_then(|c| c.first())
                        .map(|c| PeerCertificate::from_der(c));
                    let h2 = session.alpn_protocol() == Some(b"h2");
                    let builder = if h2 {
                        builder.http2_only()
                    } else {
                        builder.http1_only()
                    };
                    serve_io(builder, tls, router, peer, cert, watcher).await;
                }
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still under way after the shutdown grace period");
    }
    Ok(())
}

async fn serve_io<I>(
    builder: Builder<TokioExecutor>,
    io: I,
    router: Router,
    peer: SocketAddr,
    cert: Option<PeerCertificate>,
    watcher: hyper_util::server::graceful::Watcher,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        if let Some(c) = &cert {
            req.extensions_mut().insert(c.clone());
        }
        router.clone().oneshot(req.map(axum::body::Body::new))
    });
    let conn = builder.serve_connection(TokioIo::new(io), service);
    let _ = watcher.watch(conn.into_owned()).await;
}
