//! Authentication and authorization of every northbound call, as a tower
//! layer in front of all the services of the port (so a service added later
//! is covered without a line of its own): who is calling (a bearer token, or
//! the client certificate of an mTLS connection), and may they call this.
//! The principal rides on the request's extensions for the handlers.

use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};

use super::principals::{Principal, PrincipalsFile};
use super::roles::{required, Access};

/// Where callers are looked up; `Open` makes everyone an anonymous admin
/// (only with `--insecure` and no principals file).
#[derive(Clone)]
pub enum Authenticator {
    Open,
    File(Arc<PrincipalsFile>),
}

impl Authenticator {
    /// The caller of `req`, or why it is not let in.
    fn authenticate<B>(&self, req: &http::Request<B>) -> Result<Principal, tonic::Status> {
        let file = match self {
            Authenticator::Open => return Ok(Principal::anonymous_admin()),
            Authenticator::File(file) => file,
        };
        let principals = file.current();
        if let Some(value) = req.headers().get(http::header::AUTHORIZATION) {
            let token = value
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::trim)
                .ok_or_else(|| {
                    tonic::Status::unauthenticated(
                        "authorization metadata must be \"Bearer <token>\"",
                    )
                })?;
            // A wrong token is refused even over a good certificate: the
            // caller meant to be someone in particular.
            return principals
                .by_token(token)
                .cloned()
                .ok_or_else(|| tonic::Status::unauthenticated("unknown or revoked token"));
        }
        let certs = req
            .extensions()
            .get::<TlsConnectInfo<TcpConnectInfo>>()
            .and_then(|info| info.peer_certs());
        if let Some(leaf) = certs.as_ref().and_then(|c| c.first()) {
            return principals.by_certificate(leaf).cloned().ok_or_else(|| {
                tonic::Status::unauthenticated(
                    "the client certificate is valid but maps to no principal",
                )
            });
        }
        Err(tonic::Status::unauthenticated(
            "no credentials: send \"authorization: Bearer <token>\" metadata or a client certificate",
        ))
    }
}

#[derive(Clone)]
pub struct AuthLayer {
    auth: Authenticator,
}

impl AuthLayer {
    pub fn new(auth: Authenticator) -> Self {
        AuthLayer { auth }
    }
}

impl<S> tower::Layer<S> for AuthLayer {
    type Service = Authorize<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Authorize {
            inner,
            auth: self.auth.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Authorize<S> {
    inner: S,
    auth: Authenticator,
}

impl<S, B> tower::Service<http::Request<B>> for Authorize<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<tonic::body::Body>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: http::Request<B>) -> Self::Future {
        let method = req.uri().path().to_string();
        let verdict = match required(&method) {
            Access::Open => Ok(None),
            Access::Needs(role) => self.auth.authenticate(&req).and_then(|p| {
                if p.role >= role {
                    Ok(Some(p))
                } else {
                    Err(tonic::Status::permission_denied(format!(
                        "{} is a {}; {method} needs {role}",
                        p.name, p.role
                    )))
                }
            }),
        };
        match verdict {
            Ok(principal) => {
                if let Some(p) = principal {
                    req.extensions_mut().insert(p);
                }
                // The clone serves this call; `self.inner` was the one made
                // ready, so swap them (tower's rule for cloned services).
                let clone = self.inner.clone();
                let mut ready = std::mem::replace(&mut self.inner, clone);
                Box::pin(async move { ready.call(req).await })
            }
            Err(status) => {
                tracing::debug!(%method, code = ?status.code(), "northbound call refused");
                Box::pin(async move { Ok(status.into_http()) })
            }
        }
    }
}

/// The principal a handler is serving (set by [`Authorize`]).
pub fn principal<T>(req: &tonic::Request<T>) -> Option<&Principal> {
    req.extensions().get::<Principal>()
}
