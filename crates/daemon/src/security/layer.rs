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
use super::roles::{is_read, required, Access};
use crate::audit::{AuditEntry, AuditLog};

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
    audit: Arc<AuditLog>,
}

impl AuthLayer {
    /// Lets in whom `auth` knows, and records in `audit` every call that
    /// changes something and every call refused.
    pub fn new(auth: Authenticator, audit: Arc<AuditLog>) -> Self {
        AuthLayer { auth, audit }
    }
}

/// What a handler changed, for the audit record (set on the response).
#[derive(Debug, Clone)]
pub struct AuditObject(pub String);

impl<S> tower::Layer<S> for AuthLayer {
    type Service = Authorize<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Authorize {
            inner,
            auth: self.auth.clone(),
            audit: self.audit.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Authorize<S> {
    inner: S,
    auth: Authenticator,
    audit: Arc<AuditLog>,
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
        let started = std::time::Instant::now();
        let method = req.uri().path().to_string();
        let peer = peer(&req);
        let need = required(&method);
        let (principal, verdict) = match need {
            Access::Open => (None, Ok(())),
            Access::Needs(role) => match self.auth.authenticate(&req) {
                Err(status) => (None, Err(status)),
                Ok(p) if p.role >= role => (Some(p), Ok(())),
                Ok(p) => {
                    let denied = tonic::Status::permission_denied(format!(
                        "{} is a {}; {method} needs {role}",
                        p.name, p.role
                    ));
                    (Some(p), Err(denied))
                }
            },
        };
        // Reads that succeed are not audited: the trail is of changes and
        // of who was turned away.
        let audited = !is_read(&method) || verdict.is_err();
        let handed = principal.clone();
        let entry = move |code: tonic::Code, message: String, object: String| AuditEntry {
            principal: principal
                .as_ref()
                .map_or_else(|| "unauthenticated".to_string(), |p| p.name.clone()),
            role: principal
                .as_ref()
                .map_or_else(String::new, |p| p.role.to_string()),
            method,
            object,
            code,
            message,
            peer,
            duration_us: started.elapsed().as_micros() as u64,
        };
        let audit = self.audit.clone();
        match verdict {
            Ok(()) => {
                if let Some(p) = handed {
                    req.extensions_mut().insert(p);
                }
                // The clone serves this call; `self.inner` was the one made
                // ready, so swap them (tower's rule for cloned services).
                let clone = self.inner.clone();
                let mut ready = std::mem::replace(&mut self.inner, clone);
                Box::pin(async move {
                    let response = ready.call(req).await?;
                    if audited {
                        let (code, message) = outcome(&response);
                        let object = response
                            .extensions()
                            .get::<AuditObject>()
                            .map(|o| o.0.clone())
                            .unwrap_or_default();
                        audit.record(entry(code, message, object)).await;
                    }
                    Ok(response)
                })
            }
            Err(status) => {
                tracing::debug!(code = ?status.code(), "northbound call refused");
                audit.record_refusal(entry(
                    status.code(),
                    status.message().to_string(),
                    String::new(),
                ));
                Box::pin(async move { Ok(status.into_http()) })
            }
        }
    }
}

/// A unary call's status: in the headers when the handler failed
/// (trailers-only), otherwise OK (the trailers follow the body).
fn outcome<B>(response: &http::Response<B>) -> (tonic::Code, String) {
    let header = |k: &str| response.headers().get(k).and_then(|v| v.to_str().ok());
    match header("grpc-status").and_then(|c| c.parse::<i32>().ok()) {
        None => (tonic::Code::Ok, String::new()),
        Some(code) => (
            tonic::Code::from_i32(code),
            header("grpc-message")
                .map(percent_decode)
                .unwrap_or_default(),
        ),
    }
}

/// grpc-message is percent-encoded (the gRPC HTTP/2 spec).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            if let Some(Ok(b)) = s.get(i + 1..i + 3).map(|h| u8::from_str_radix(h, 16)) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn peer<B>(req: &http::Request<B>) -> String {
    let ext = req.extensions();
    ext.get::<TlsConnectInfo<TcpConnectInfo>>()
        .and_then(|i| i.get_ref().remote_addr())
        .or_else(|| ext.get::<TcpConnectInfo>().and_then(|i| i.remote_addr()))
        .map(|a| a.to_string())
        .unwrap_or_default()
}

/// The principal a handler is serving (set by [`Authorize`]).
pub fn principal<T>(req: &tonic::Request<T>) -> Option<&Principal> {
    req.extensions().get::<Principal>()
}
