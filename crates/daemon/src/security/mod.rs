//! Security of the northbound API: TLS (optionally mutual), authentication
//! of every call (bearer tokens, client certificates) and roles. Off only
//! when asked for by name: [`Security::insecure`].

pub mod client;
pub mod layer;
pub mod pki;
pub mod principals;
pub mod reload;
pub mod roles;
pub mod tls;

use std::path::PathBuf;

pub use layer::{AuthLayer, Authenticator};
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

    /// The TLS acceptor's material, read from the files now (and again
    /// whenever they change, once watched).
    pub fn server_tls(&self) -> anyhow::Result<Option<std::sync::Arc<tls::ReloadingTls>>> {
        self.tls.as_ref().map(tls::ReloadingTls::open).transpose()
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
