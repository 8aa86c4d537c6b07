//! Security of the northbound API: TLS (optionally mutual), authentication
//! of every call (bearer tokens, client certificates) and roles. Off only
//! when asked for by name: [`Security::insecure`].

pub mod client;
pub mod layer;
pub mod pki;
pub mod principals;
pub mod roles;

use std::path::PathBuf;

pub use layer::{principal, AuthLayer, Authenticator};
pub use principals::{Principal, PrincipalsFile};
pub use roles::Role;

/// The server's certificate and key (PEM), and the CA client certificates
/// must chain to when mTLS is wanted.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub client_ca: Option<PathBuf>,
}

/// How the northbound API is secured.
#[derive(Debug, Clone)]
pub struct Security {
    /// TLS material; `None` serves plaintext (only with `insecure`).
    pub tls: Option<TlsFiles>,
    /// Who may call, as what (see [`principals`]); re-read when it changes.
    pub principals: Option<PathBuf>,
    /// Allows plaintext, and with no principals file lets every caller in
    /// as an anonymous admin. Tests of API semantics and trusted networks.
    pub insecure: bool,
}

impl Security {
    pub fn insecure() -> Self {
        Security {
            tls: None,
            principals: None,
            insecure: true,
        }
    }

    /// Refuses what would leave the API open without having been asked to.
    pub fn check(&self) -> anyhow::Result<()> {
        if self.insecure {
            return Ok(());
        }
        let Some(tls) = &self.tls else {
            anyhow::bail!(
                "the northbound API needs TLS: give --tls-cert FILE and --tls-key FILE \
                 (or --insecure to serve plaintext on a network you trust)"
            );
        };
        if self.principals.is_none() {
            anyhow::bail!(
                "nobody could authenticate to the northbound API: give --principals FILE \
                 (its bearer tokens and client certificates, with their roles){}",
                if tls.client_ca.is_some() {
                    "; --client-ca alone verifies certificates but grants them no role"
                } else {
                    ""
                }
            );
        }
        Ok(())
    }

    /// The TLS configuration tonic serves with, read from the files now.
    pub fn server_tls(&self) -> anyhow::Result<Option<tonic::transport::ServerTlsConfig>> {
        let Some(tls) = &self.tls else {
            return Ok(None);
        };
        let read = |p: &PathBuf, what: &str| {
            std::fs::read(p)
                .map_err(|e| anyhow::anyhow!("cannot read the {what} {}: {e}", p.display()))
        };
        let identity = tonic::transport::Identity::from_pem(
            read(&tls.cert, "TLS certificate")?,
            read(&tls.key, "TLS key")?,
        );
        let mut config = tonic::transport::ServerTlsConfig::new().identity(identity);
        if let Some(ca) = &tls.client_ca {
            // Optional: token-only clients connect too; a certificate, when
            // presented, must chain to this CA.
            config = config
                .client_ca_root(tonic::transport::Certificate::from_pem(read(
                    ca,
                    "client CA",
                )?))
                .client_auth_optional(true);
        }
        Ok(Some(config))
    }

    /// Who the API lets in.
    pub fn authenticator(&self) -> anyhow::Result<Authenticator> {
        match &self.principals {
            Some(path) => Ok(Authenticator::File(
                PrincipalsFile::open(path).map_err(|e| anyhow::anyhow!("{e}"))?,
            )),
            // Reached only with `insecure` (see `check`).
            None => Ok(Authenticator::Open),
        }
    }
}
