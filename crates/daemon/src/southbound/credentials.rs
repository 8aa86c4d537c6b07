//! How the controller proves itself to devices and checks them: gNMI over
//! TLS, each device's certificate verified against the operator's CA under
//! the device's own name, and the username/password metadata the gNMI
//! specification's authentication section describes (`username`,
//! `password`), sent with every RPC.

use std::sync::Arc;

use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

/// What every device session uses; plaintext and no login when empty.
#[derive(Clone, Default)]
pub struct DeviceCredentials {
    pub tls: Option<DeviceTls>,
    pub login: Option<Login>,
    /// Where the CA and the password came from: read again at every
    /// connect, so a renewed CA or a rotated password takes effect on the
    /// next session without a restart.
    pub files: DeviceFiles,
}

#[derive(Clone, Debug, Default)]
pub struct DeviceFiles {
    pub ca: Option<std::path::PathBuf>,
    pub password: Option<std::path::PathBuf>,
}

/// A certificate chain and its private key, PEM.
pub type PemIdentity = (Arc<Vec<u8>>, Arc<Vec<u8>>);

#[derive(Clone)]
pub struct DeviceTls {
    /// CA certificates (PEM) a device's certificate must chain to.
    pub ca_pem: Arc<Vec<u8>>,
    /// A client certificate and key (PEM) for devices that ask for one.
    pub identity: Option<PemIdentity>,
}

#[derive(Clone, PartialEq, Eq)]
pub struct Login {
    pub username: String,
    pub password: String,
}

// Never print a password, not even in a debug dump of the configuration.
impl std::fmt::Debug for DeviceCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceCredentials")
            .field("tls", &self.tls.is_some())
            .field(
                "username",
                &self.login.as_ref().map(|l| l.username.as_str()),
            )
            .finish()
    }
}

impl DeviceCredentials {
    /// These credentials with the CA and password as their files hold them
    /// now. A file that cannot be read leaves what was read before (and
    /// says so): a session keeps working through a botched rotation.
    pub fn fresh(&self) -> DeviceCredentials {
        let mut out = self.clone();
        if let (Some(path), Some(tls)) = (&self.files.ca, out.tls.as_mut()) {
            match std::fs::read(path) {
                Ok(pem) if pem.as_slice() != tls.ca_pem.as_slice() => {
                    tracing::info!(ca = %path.display(), "gNMI CA re-read");
                    tls.ca_pem = Arc::new(pem);
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(ca = %path.display(), error = %e, "gNMI CA not re-read; using the one read before")
                }
            }
        }
        if let (Some(path), Some(login)) = (&self.files.password, out.login.as_mut()) {
            match std::fs::read_to_string(path) {
                Ok(p) => login.password = p.trim_end_matches(['\r', '\n']).to_string(),
                Err(e) => {
                    tracing::warn!(file = %path.display(), error = %e, "gNMI password not re-read; using the one read before")
                }
            }
        }
        out
    }

    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// The endpoint of the device `name` at `addr`, with TLS verifying the
    /// device under its own name when configured.
    pub fn endpoint(&self, name: &str, addr: std::net::SocketAddr) -> Result<Endpoint, String> {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        let endpoint =
            Endpoint::from_shared(format!("{scheme}://{addr}")).map_err(|e| e.to_string())?;
        let Some(tls) = &self.tls else {
            return Ok(endpoint);
        };
        let mut config = ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(tls.ca_pem.as_slice()))
            .domain_name(name);
        if let Some((cert, key)) = &tls.identity {
            config = config.identity(Identity::from_pem(cert.as_slice(), key.as_slice()));
        }
        endpoint
            .tls_config(config)
            .map_err(|e| format!("TLS configuration for {name}: {e}"))
    }

    pub fn metadata(&self) -> Result<LoginMetadata, String> {
        let Some(login) = &self.login else {
            return Ok(LoginMetadata(None));
        };
        let value = |v: &str, what: &str| {
            v.parse::<MetadataValue<Ascii>>()
                .map_err(|_| format!("the gNMI {what} is not valid metadata (visible ASCII only)"))
        };
        Ok(LoginMetadata(Some((
            value(&login.username, "username")?,
            value(&login.password, "password")?,
        ))))
    }
}

/// Adds the login to every request on a device channel.
#[derive(Clone)]
pub struct LoginMetadata(Option<(MetadataValue<Ascii>, MetadataValue<Ascii>)>);

impl tonic::service::Interceptor for LoginMetadata {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some((user, password)) = &self.0 {
            req.metadata_mut().insert("username", user.clone());
            req.metadata_mut().insert("password", password.clone());
        }
        Ok(req)
    }
}

/// A connection to one device, presenting the login with every RPC.
pub type DeviceChannel = InterceptedService<Channel, LoginMetadata>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_renewed_ca_and_a_rotated_password_are_read_at_the_next_connect() {
        let dir = tempfile::tempdir().unwrap();
        let (ca, pw) = (dir.path().join("ca.pem"), dir.path().join("pw"));
        std::fs::write(&ca, "old CA").unwrap();
        std::fs::write(&pw, "old\n").unwrap();
        let c = DeviceCredentials {
            tls: Some(DeviceTls {
                ca_pem: Arc::new(b"old CA".to_vec()),
                identity: None,
            }),
            login: Some(Login {
                username: "strata".into(),
                password: "old".into(),
            }),
            files: DeviceFiles {
                ca: Some(ca.clone()),
                password: Some(pw.clone()),
            },
        };
        std::fs::write(&ca, "new CA").unwrap();
        std::fs::write(&pw, "new\n").unwrap();
        let f = c.fresh();
        assert_eq!(f.tls.unwrap().ca_pem.as_slice(), b"new CA");
        assert_eq!(f.login.unwrap().password, "new");
        std::fs::remove_file(&ca).unwrap();
        let kept = c.fresh();
        assert_eq!(
            kept.tls.unwrap().ca_pem.as_slice(),
            b"old CA",
            "a vanished file keeps what was read"
        );
    }

    #[test]
    fn the_password_never_shows_in_debug_output() {
        let c = DeviceCredentials {
            tls: None,
            login: Some(Login {
                username: "strata".into(),
                password: "hunter2".into(),
            }),
            files: DeviceFiles::default(),
        };
        let shown = format!("{c:?}");
        assert!(
            shown.contains("strata") && !shown.contains("hunter2"),
            "{shown}"
        );
    }

    #[test]
    fn a_login_that_cannot_be_metadata_is_refused_not_mangled() {
        let c = DeviceCredentials {
            tls: None,
            login: Some(Login {
                username: "strata".into(),
                password: "line\nbreak".into(),
            }),
            files: DeviceFiles::default(),
        };
        assert!(c.metadata().err().unwrap().contains("password"));
    }
}
