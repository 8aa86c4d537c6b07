//! The client side of the northbound API's security, for Strata's own
//! clients (`strata watch`, `strata fault`, the benches and tests): where the
//! CA and the token come from, and a channel that presents them.

use std::path::{Path, PathBuf};

use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

use super::pki::{ADMIN_TOKEN_FILE, CA_FILE};

/// How to reach the API: TLS verified against `ca` (the system's roots are
/// not consulted: a controller's CA is its operator's), a bearer token, and
/// optionally a client certificate; or plaintext when `insecure`.
#[derive(Debug, Clone, Default)]
pub struct ClientCredentials {
    pub ca: Option<PathBuf>,
    pub token: Option<String>,
    /// Client certificate and key (PEM files) for mTLS.
    pub identity: Option<(PathBuf, PathBuf)>,
    pub insecure: bool,
    /// Where the credentials were found, for error messages.
    pub source: String,
}

/// What a command line said about credentials (every field optional).
#[derive(Debug, Clone, Default)]
pub struct ClientFlags {
    pub ca: Option<PathBuf>,
    pub token_file: Option<PathBuf>,
    pub credentials_dir: Option<PathBuf>,
    pub insecure: bool,
}

/// The directory `strata lab` writes its credentials to, and its clients
/// read them from: `$STRATA_CREDENTIALS`, else `lab-credentials` in the
/// default data directory.
pub fn lab_credentials_dir() -> PathBuf {
    match std::env::var_os("STRATA_CREDENTIALS") {
        Some(d) => PathBuf::from(d),
        None => crate::daemon::default_data_dir().join("lab-credentials"),
    }
}

impl ClientCredentials {
    pub fn insecure() -> Self {
        ClientCredentials {
            insecure: true,
            source: "--insecure".into(),
            ..Default::default()
        }
    }

    /// Credentials from a lab's directory: its CA and its admin token.
    pub fn from_dir(dir: &Path) -> anyhow::Result<Self> {
        let token = read_token(&dir.join(ADMIN_TOKEN_FILE))?;
        Ok(ClientCredentials {
            ca: Some(dir.join(CA_FILE)),
            token: Some(token),
            identity: None,
            insecure: false,
            source: dir.display().to_string(),
        })
    }

    /// Flags first, then `$STRATA_CA` / `$STRATA_TOKEN_FILE`, then the lab's
    /// credentials directory.
    pub fn discover(flags: &ClientFlags) -> anyhow::Result<Self> {
        if flags.insecure {
            return Ok(Self::insecure());
        }
        let dir = flags
            .credentials_dir
            .clone()
            .unwrap_or_else(lab_credentials_dir);
        let env = |k: &str| std::env::var_os(k).map(PathBuf::from);
        let ca = flags.ca.clone().or_else(|| env("STRATA_CA"));
        let token_file = flags
            .token_file
            .clone()
            .or_else(|| env("STRATA_TOKEN_FILE"));
        let mut creds = match (&ca, &token_file) {
            (Some(_), Some(_)) => ClientCredentials::default(),
            _ if dir.join(ADMIN_TOKEN_FILE).exists() => Self::from_dir(&dir)?,
            _ => anyhow::bail!(
                "no credentials for the Strata API: none in {} (where `strata lab` writes them), \
                 and no --ca/--token-file (or $STRATA_CA/$STRATA_TOKEN_FILE); \
                 --insecure for a plaintext API",
                dir.display()
            ),
        };
        if let Some(ca) = ca {
            creds.ca = Some(ca.clone());
            creds.source = ca.display().to_string();
        }
        if let Some(t) = token_file {
            creds.token = Some(read_token(&t)?);
        }
        Ok(creds)
    }

    /// A channel to `addr` (`host:port`), connected.
    pub async fn connect(&self, addr: &str) -> anyhow::Result<Authed> {
        let channel = self.endpoint(addr)?.connect().await.map_err(|e| {
            anyhow::anyhow!(
                "cannot reach the Strata API at {addr} ({}): {e}{}",
                if self.insecure { "plaintext" } else { "TLS" },
                crate::net::causes(&e)
            )
        })?;
        Ok(InterceptedService::new(channel, self.bearer()?))
    }

    /// Makes a change through `call` on `addr`; when a replica follower
    /// answers UNAVAILABLE naming the leader (`strata-leader`), makes it once
    /// more on the leader. Once only: a leader that itself points elsewhere
    /// is mid-election, and the caller hears that rather than a loop.
    pub async fn follow_leader<T, F, Fut>(
        &self,
        addr: &str,
        mut call: F,
    ) -> anyhow::Result<Result<T, tonic::Status>>
    where
        F: FnMut(Authed) -> Fut,
        Fut: std::future::Future<Output = Result<T, tonic::Status>>,
    {
        let first = call(self.connect(addr).await?).await;
        match first.as_ref().err().and_then(crate::replica::leader_of) {
            Some(leader) if leader != addr => {
                tracing::info!(%leader, "following the replica's leader");
                Ok(call(self.connect(&leader).await?).await)
            }
            _ => Ok(first),
        }
    }

    /// The endpoint, with TLS configured (not yet connected).
    pub fn endpoint(&self, addr: &str) -> anyhow::Result<Endpoint> {
        let scheme = if self.insecure { "http" } else { "https" };
        let mut endpoint = Endpoint::from_shared(format!("{scheme}://{addr}"))?;
        if !self.insecure {
            let mut tls = ClientTlsConfig::new();
            if let Some(ca) = &self.ca {
                let pem = std::fs::read(ca)
                    .map_err(|e| anyhow::anyhow!("cannot read the CA {}: {e}", ca.display()))?;
                tls = tls.ca_certificate(Certificate::from_pem(pem));
            }
            if let Some((cert, key)) = &self.identity {
                let read = |p: &PathBuf| {
                    std::fs::read(p)
                        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", p.display()))
                };
                tls = tls.identity(Identity::from_pem(read(cert)?, read(key)?));
            }
            endpoint = endpoint.tls_config(tls)?;
        }
        Ok(endpoint)
    }

    pub fn bearer(&self) -> anyhow::Result<Bearer> {
        Ok(Bearer(match &self.token {
            None => None,
            Some(t) => Some(
                format!("Bearer {t}")
                    .parse()
                    .map_err(|_| anyhow::anyhow!("the token is not valid metadata"))?,
            ),
        }))
    }
}

/// A channel that sends the bearer token with every call.
pub type Authed = InterceptedService<Channel, Bearer>;

#[derive(Clone)]
pub struct Bearer(Option<MetadataValue<Ascii>>);

impl tonic::service::Interceptor for Bearer {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(v) = &self.0 {
            req.metadata_mut().insert("authorization", v.clone());
        }
        Ok(req)
    }
}

fn read_token(path: &Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read the token {}: {e}", path.display()))?;
    let token = text.trim();
    if token.is_empty() || token.len() > super::principals::MAX_TOKEN_BYTES {
        anyhow::bail!("{}: not a token", path.display());
    }
    Ok(token.to_string())
}
