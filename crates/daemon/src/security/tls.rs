//! The API's TLS acceptor. tonic's own TLS settings are fixed when the
//! server starts; this one reads the certificate, key and client CA again
//! when they change on disk (a renewed certificate takes effect without a
//! restart, for new connections), and does handshakes beside the accept
//! loop, each with a deadline, so a client that stalls its handshake holds
//! up nobody else.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rustls::server::WebPkiClientVerifier;
use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;
use tokio_stream::wrappers::ReceiverStream;

use super::reload::Reloading;
use super::TlsFiles;

/// A handshake not done by then is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

pub struct ReloadingTls {
    files: TlsFiles,
    current: Reloading<ServerConfig>,
}

impl ReloadingTls {
    pub fn open(files: &TlsFiles) -> anyhow::Result<Arc<ReloadingTls>> {
        let mut paths = vec![files.cert.clone(), files.key.clone()];
        paths.extend(files.client_ca.clone());
        Ok(Arc::new(ReloadingTls {
            files: files.clone(),
            current: Reloading::load(paths, || build(files))?,
        }))
    }

    pub fn current(&self) -> Arc<ServerConfig> {
        self.current.current()
    }

    /// Re-reads the files if any changed; `Ok(true)` when new material is in
    /// force. Material that does not load leaves the old in force.
    pub fn reload(&self) -> anyhow::Result<bool> {
        self.current.reload(|| build(&self.files))
    }

    /// Polls the files every `every` until `halt` turns true.
    pub fn watch(
        self: &Arc<Self>,
        every: Duration,
        halt: tokio::sync::watch::Receiver<bool>,
    ) -> tokio::task::JoinHandle<()> {
        let tls = self.clone();
        let what = format!("TLS certificate {}", self.files.cert.display());
        super::reload::poll(every, halt, what, move || {
            tls.reload().map_err(|e| format!("{e:#}"))
        })
    }
}

fn build(files: &TlsFiles) -> anyhow::Result<ServerConfig> {
    let at = |p: &PathBuf, what: &str, e: &dyn std::fmt::Display| {
        anyhow::anyhow!("cannot read the {what} {}: {e}", p.display())
    };
    let certs = CertificateDer::pem_file_iter(&files.cert)
        .map_err(|e| at(&files.cert, "TLS certificate", &e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| at(&files.cert, "TLS certificate", &e))?;
    if certs.is_empty() {
        anyhow::bail!("{}: no certificate in it", files.cert.display());
    }
    let key =
        PrivateKeyDer::from_pem_file(&files.key).map_err(|e| at(&files.key, "TLS key", &e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?;
    let builder = match &files.client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for cert in CertificateDer::pem_file_iter(ca).map_err(|e| at(ca, "client CA", &e))? {
                roots
                    .add(cert.map_err(|e| at(ca, "client CA", &e))?)
                    .map_err(|e| at(ca, "client CA", &e))?;
            }
            // Optional: token-only clients connect too; a certificate, when
            // presented, must chain to this CA.
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .allow_unauthenticated()
                .build()?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder.with_single_cert(certs, key)?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(config)
}

/// TLS connections accepted on `listener`, handshaken with the material in
/// force when each arrived. Ends when the server stops taking them.
pub fn incoming(
    listener: TcpListener,
    tls: Arc<ReloadingTls>,
) -> ReceiverStream<Result<TlsStream<TcpStream>, std::io::Error>> {
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(async move {
        loop {
            let (tcp, peer) = tokio::select! {
                _ = tx.closed() => return,
                accepted = listener.accept() => match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        // Out of descriptors and the like: pause, do not spin.
                        tracing::warn!(error = %e, "accepting an API connection failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            let _ = tcp.set_nodelay(true);
            let acceptor = TlsAcceptor::from(tls.current());
            let tx = tx.clone();
            tokio::spawn(async move {
                match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                    Ok(Ok(stream)) => {
                        let _ = tx.send(Ok(stream)).await;
                    }
                    Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                    Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                }
            });
        }
    });
    ReceiverStream::new(rx)
}
