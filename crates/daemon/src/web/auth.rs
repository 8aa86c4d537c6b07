//! The web view behind the API's authentication: the same principals file,
//! the same tokens. A browser signs in once (with a token, or the one-time
//! link a lab prints) and gets a session cookie; scripts send the token as
//! `Authorization: Bearer`. A session dies with its token: revoking the
//! token in the principals file ends the sessions opened with it.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Form, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::security::principals::{sha256, Principal};
use crate::security::Authenticator;

const COOKIE: &str = "strata_session";
/// Sessions held at once; the oldest goes first when a new one would pass it.
const MAX_SESSIONS: usize = 4096;
const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);

pub struct WebAuth {
    auth: Authenticator,
    sessions: Mutex<Sessions>,
    /// Digest of the one-time sign-in code, while it is unused.
    once: Mutex<Option<[u8; 32]>>,
}

#[derive(Default)]
struct Sessions {
    by_id: HashMap<[u8; 32], Session>,
    order: VecDeque<[u8; 32]>,
}

struct Session {
    principal: Principal,
    /// The token it was opened with, re-checked on every request.
    token: Option<[u8; 32]>,
    expires: Instant,
}

impl WebAuth {
    pub fn new(auth: Authenticator) -> Arc<WebAuth> {
        Arc::new(WebAuth {
            auth,
            sessions: Mutex::default(),
            once: Mutex::new(None),
        })
    }

    pub fn is_open(&self) -> bool {
        matches!(self.auth, Authenticator::Open)
    }

    /// A sign-in path valid for one use (replacing an unused earlier one),
    /// for a lab to print; `None` when the view is open anyway.
    pub fn one_time_sign_in(&self) -> Option<String> {
        if self.is_open() {
            return None;
        }
        let code = crate::security::pki::new_token();
        *self.once.lock().unwrap_or_else(|e| e.into_inner()) = Some(sha256(code.as_bytes()));
        Some(format!("/login?once={code}"))
    }

    /// Who is asking, by session cookie or bearer token.
    fn check(&self, headers: &HeaderMap) -> Result<Principal, &'static str> {
        let file = match &self.auth {
            Authenticator::Open => return Ok(Principal::anonymous_admin()),
            Authenticator::File(file) => file,
        };
        let principals = file.current();
        if let Some(by_token) = crate::security::layer::bearer(&principals, headers) {
            return by_token;
        }
        let id = session_cookie(headers).ok_or("not signed in")?;
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        let key = sha256(id.as_bytes());
        let live = match sessions.by_id.get(&key) {
            None => return Err("session unknown or expired"),
            Some(s) => {
                s.expires > Instant::now()
                    && s.token
                        .as_ref()
                        .is_none_or(|t| principals.by_token_digest(t).is_some())
            }
        };
        if !live {
            sessions.by_id.remove(&key);
            return Err("session expired or its token was revoked");
        }
        Ok(sessions.by_id[&key].principal.clone())
    }

    /// A new session for `principal`; the cookie value to hand the browser.
    fn open_session(&self, principal: Principal, token: Option<[u8; 32]>) -> String {
        let id = crate::security::pki::new_token();
        let key = sha256(id.as_bytes());
        let mut s = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        s.by_id.retain(|_, v| v.expires > now);
        while s.by_id.len() >= MAX_SESSIONS {
            match s.order.pop_front() {
                Some(old) => {
                    s.by_id.remove(&old);
                }
                None => break,
            }
        }
        let Sessions { by_id, order } = &mut *s;
        order.retain(|k| by_id.contains_key(k));
        by_id.insert(
            key,
            Session {
                principal,
                token,
                expires: now + SESSION_TTL,
            },
        );
        order.push_back(key);
        id
    }

    fn sign_in_with_token(&self, token: &str) -> Option<String> {
        let Authenticator::File(file) = &self.auth else {
            return None;
        };
        let principal = file.current().by_token(token.trim())?.clone();
        Some(self.open_session(principal, Some(sha256(token.trim().as_bytes()))))
    }

    fn redeem(&self, code: &str) -> Option<String> {
        let mut once = self.once.lock().unwrap_or_else(|e| e.into_inner());
        if once.as_ref() != Some(&sha256(code.as_bytes())) {
            return None;
        }
        *once = None;
        drop(once);
        Some(self.open_session(
            Principal {
                name: "lab sign-in link".into(),
                role: crate::security::Role::Admin,
                via: crate::security::principals::Via::Token,
            },
            None,
        ))
    }
}

fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v)
}

/// Lets signed-in callers through; the page sends others to sign in, the
/// JSON endpoints answer 401.
pub async fn require(State(auth): State<Arc<WebAuth>>, req: Request, next: Next) -> Response {
    match auth.check(req.headers()) {
        Ok(_) => next.run(req).await,
        Err(why) if req.uri().path().starts_with("/api/") => (
            StatusCode::UNAUTHORIZED,
            axum::Json(serde_json::json!({ "error": why })),
        )
            .into_response(),
        Err(_) => Redirect::to("/login").into_response(),
    }
}

#[derive(Deserialize)]
pub struct Once {
    once: Option<String>,
}

#[derive(Deserialize)]
pub struct TokenForm {
    token: String,
}

pub async fn login_page(State(auth): State<Arc<WebAuth>>, Query(q): Query<Once>) -> Response {
    match q.once {
        Some(code) => match auth.redeem(&code) {
            Some(session) => signed_in(&session),
            None => login_form(
                StatusCode::UNAUTHORIZED,
                "That sign-in link was used already or is not this run's. Sign in with a token.",
            ),
        },
        None => login_form(StatusCode::OK, ""),
    }
}

pub async fn login_post(State(auth): State<Arc<WebAuth>>, Form(form): Form<TokenForm>) -> Response {
    if form.token.len() > crate::security::principals::MAX_TOKEN_BYTES {
        return login_form(StatusCode::UNAUTHORIZED, "Unknown or revoked token.");
    }
    match auth.sign_in_with_token(&form.token) {
        Some(session) => signed_in(&session),
        None => login_form(StatusCode::UNAUTHORIZED, "Unknown or revoked token."),
    }
}

fn signed_in(session: &str) -> Response {
    (
        [(
            header::SET_COOKIE,
            format!(
                "{COOKIE}={session}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}",
                SESSION_TTL.as_secs()
            ),
        )],
        Redirect::to("/"),
    )
        .into_response()
}

fn login_form(status: StatusCode, message: &str) -> Response {
    let message = if message.is_empty() {
        String::new()
    } else {
        format!("<p class=\"error\">{message}</p>")
    };
    (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        Html(format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>Strata: sign in</title>\
             <link rel=\"stylesheet\" href=\"/style.css\"></head><body class=\"login\">\
             <h1>Strata</h1>{message}<form method=\"post\" action=\"/login\">\
             <label>Token <input type=\"password\" name=\"token\" autocomplete=\"off\" autofocus></label>\
             <button type=\"submit\">Sign in</button></form>\
             <p>A token from the principals file's owner (<code>strata token NAME --role viewer</code>), \
             or the lab's <code>admin.token</code>.</p></body></html>"
        )),
    )
        .into_response()
}
