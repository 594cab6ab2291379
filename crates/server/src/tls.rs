//! HTTPS with optional client certificates (客户端证书): the server's certificate and key, and the
//! CA that issues the certificates agencies log in with. A certificate that CA signed reaches the
//! request as a [`PeerCertificate`]; which user it stands for is the store's to say (by its SHA-256
//! fingerprint, see [`crate::auth`]). Connections without a certificate are still served, as
//! anonymous callers, so that the public pages work in any browser.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rustls::RootCertStore;
use rustls::server::WebPkiClientVerifier;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {path}: {source}")]
    Pem {
        path: String,
        source: rustls_pki_types::pem::Error,
    },
    #[error("{0} holds no certificate")]
    NoCertificate(String),
    #[error("the client CA {path}: {reason}")]
    ClientCa { path: String, reason: String },
    #[error("TLS configuration: {0}")]
    Config(#[from] rustls::Error),
}

/// The client certificate of a connection, verified against the client CA.
#[derive(Debug, Clone)]
pub struct PeerCertificate {
    /// SHA-256 of the certificate's DER, lower-case hex: what a user is bound to.
    pub fingerprint: String,
    /// Set once the connection's first authenticated request has been audited as a login.
    login_audited: Arc<AtomicBool>,
}

impl PeerCertificate {
    pub fn from_der(der: &[u8]) -> Self {
        PeerCertificate {
            fingerprint: fingerprint(der),
            login_audited: Arc::new(AtomicBool::new(false)),
        }
    }

    /// True the first time it is asked on this connection: that request is audited as the login.
    pub fn first_login(&self) -> bool {
        !self.login_audited.swap(true, Ordering::SeqCst)
    }
}

/// SHA-256 of a certificate's DER, lower-case hex.
pub fn fingerprint(der: &[u8]) -> String {
    hex::encode(Sha256::digest(der))
}

/// The fingerprint of the first certificate in a PEM file (`creditloop user bind-cert`).
pub fn pem_fingerprint(pem: &[u8]) -> Result<String, TlsError> {
    let cert = CertificateDer::pem_slice_iter(pem)
        .next()
        .ok_or_else(|| TlsError::NoCertificate("the PEM".into()))?
        .map_err(|source| TlsError::Pem {
            path: "the PEM".into(),
            source,
        })?;
    Ok(fingerprint(&cert))
}

fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let shown = path.display().to_string();
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|source| TlsError::Pem {
            path: shown.clone(),
            source,
        })?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate(shown));
    }
    Ok(certs)
}

/// The server's TLS configuration: its certificate chain and key, and, with `client_ca`, client
/// certificates verified against that CA but not required.
pub fn server_config(
    cert: &Path,
    key: &Path,
    client_ca: Option<&Path>,
) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    // The ring provider named explicitly, so that no other provider in the build can be picked.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let chain = certificates(cert)?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|source| TlsError::Pem {
        path: key.display().to_string(),
        source,
    })?;
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?;
    let builder = match client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = RootCertStore::empty();
            for c in certificates(ca)? {
                roots.add(c).map_err(|e| TlsError::ClientCa {
                    path: ca.display().to_string(),
                    reason: e.to_string(),
                })?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .allow_unauthenticated()
                .build()
                .map_err(|e| TlsError::ClientCa {
                    path: ca.display().to_string(),
                    reason: e.to_string(),
                })?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder.with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
