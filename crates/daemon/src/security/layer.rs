//! Authentication and authorization of every northbound call, as a tower
//! layer in front of all the services of the port (so a service added later
//! is covered without a line of its own): who is calling (a bearer token, or
//! the client certificate of an mTLS connection), may they call this, and
//! what the audit trail records of it.

use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};

use super::principals::{Principal, Principals, PrincipalsFile};
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
        // A wrong token is refused even over a good certificate: the caller
        // meant to be someone in particular.
        if let Some(by_token) = bearer(&principals, req.headers()) {
            return by_token.map_err(tonic::Status::unauthenticated);
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

/// The principal an `authorization: Bearer <token>` header names: `None`
/// without such a header; an error for a malformed one or a token nobody
/// holds. The API and the web view both let callers in this way.
pub fn bearer(
    principals: &Principals,
    headers: &http::HeaderMap,
) -> Option<Result<Principal, &'static str>> {
    let value = headers.get(http::header::AUTHORIZATION)?;
    let Some(token) = value.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")) else {
        return Some(Err("authorization must be \"Bearer <token>\""));
    };
    Some(
        principals
            .by_token(token.trim())
            .cloned()
            .ok_or("unknown or revoked token"),
    )
}

#[derive(Clone)]
pub struct AuthLayer {
    auth: Authenticator,
    audit: Arc<AuditLog>,
    gate: Option<Arc<crate::replica::Gate>>,
}

impl AuthLayer {
    /// Lets in whom `auth` knows, and records in `audit` every call that
    /// changes something and every call refused.
    pub fn new(auth: Authenticator, audit: Arc<AuditLog>) -> Self {
        AuthLayer {
            auth,
            audit,
            gate: None,
        }
    }

    /// A replica's API: changes pass only while `gate` leads (followers
    /// answer UNAVAILABLE naming the leader). Checked after authorization,
    /// so a caller who may not make the change hears that first.
    pub fn gated(mut self, gate: Option<Arc<crate::replica::Gate>>) -> Self {
        self.gate = gate;
        self
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
            gate: self.gate.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Authorize<S> {
    inner: S,
    auth: Authenticator,
    audit: Arc<AuditLog>,
    gate: Option<Arc<crate::replica::Gate>>,
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

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
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
        let verdict = match (verdict, &self.gate) {
            (Ok(()), Some(gate)) if !is_read(&method) => match gate.refusal(&method) {
                Some(refused) => Err(refused),
                None => Ok(()),
            },
            (v, _) => v,
        };
        // Reads that succeed are not audited: the trail is of changes and
        // of who was turned away.
        let audited = !is_read(&method) || verdict.is_err();
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
    match tonic::Status::from_header_map(response.headers()) {
        None => (tonic::Code::Ok, String::new()),
        Some(s) => (s.code(), s.message().to_string()),
    }
}

fn peer<B>(req: &http::Request<B>) -> String {
    let ext = req.extensions();
    ext.get::<TlsConnectInfo<TcpConnectInfo>>()
        .and_then(|i| i.get_ref().remote_addr())
        .or_else(|| ext.get::<TcpConnectInfo>().and_then(|i| i.remote_addr()))
        .map(|a| a.to_string())
        .unwrap_or_default()
}
