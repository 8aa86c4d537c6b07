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
    fn the_password_never_shows_in_debug_output() {
        let c = DeviceCredentials {
            tls: None,
            login: Some(Login {
                username: "strata".into(),
                password: "hunter2".into(),
            }),
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
        };
        assert!(c.metadata().err().unwrap().contains("password"));
    }
}
