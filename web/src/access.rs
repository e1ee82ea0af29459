//! The gate in front of every route: a table says which role each
//! (method, route) needs ([`Route`]); [`guard`] puts the gate on a router.
//! For a request the gate finds its route's row (by axum's matched path,
//! `HEAD` as `GET`), then
//!
//! - a public route passes;
//! - the caller is the key of `Authorization: Bearer`, else the session
//!   of the session cookie ([`crate::session`]); a request with the
//!   cookie whose method changes state must carry the session's CSRF
//!   token and not come from another site → else 403 `csrf_failed`;
//! - no key, or an unknown one → 401 `unauthorized` — on a page
//!   ([`Route::page`]), a `303 See Other` to `/signin?next=…` instead;
//! - a key without the route's role → 403 `forbidden`;
//! - the key's bucket for that role empty → 429 `rate_limited` with
//!   `Retry-After` (whole seconds, at least 1);
//! - a method the table does not list for a listed path → 405
//!   `method_not_allowed` with `Allow` (the table's methods of that path);
//! - a route missing from the table → 403 `no_access_rule` (closed by
//!   default: a route nobody classified serves nobody).
//!
//! A request let through carries its [`Principal`] as an extension, and,
//! when it came with the session cookie, the session's
//! [`SessionCsrf`].

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};

use crate::error::{ApiError, error_response};
use crate::keys::{Keys, Principal, Role, bearer};
use crate::limit::Limiter;
use crate::session::{self, SessionCsrf, Sessions};

/// Who a request comes from, and its session's CSRF token when it came
/// with the session cookie.
type Caller = (Principal, Option<SessionCsrf>);

/// How long a browser session lasts unless configured otherwise.
pub const SESSION_TTL: Duration = Duration::from_secs(8 * 3600);

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone (health, readiness, metrics, the API's description).
    Public,
    /// Keys holding this role.
    Role(Role),
}

/// One row of the route table.
#[derive(Debug, Clone)]
pub struct Route {
    /// Its method.
    pub method: Method,
    /// Its path as the router declares it (`/v1/metrics/{name}`).
    pub path: &'static str,
    /// Who may call it.
    pub access: Access,
    /// An HTML page for browsers, not an API operation: not in the API's
    /// description, and a caller without a key is sent to sign in.
    pub page: bool,
}

impl Route {
    /// A row of the API.
    pub const fn new(method: Method, path: &'static str, access: Access) -> Self {
        Route {
            method,
            path,
            access,
            page: false,
        }
    }

    /// A row of a page.
    pub const fn page(method: Method, path: &'static str, access: Access) -> Self {
        Route {
            method,
            path,
            access,
            page: true,
        }
    }
}

/// What the gate needs: the table, the keys, the buckets.
#[derive(Debug)]
pub struct Gate {
    table: &'static [Route],
    keys: Keys,
    limiter: Limiter,
    sessions: Sessions,
}

impl Gate {
    /// A gate over `table`; browser sessions last [`SESSION_TTL`].
    pub fn new(table: &'static [Route], keys: Keys, limiter: Limiter) -> Self {
        Gate {
            table,
            keys,
            limiter,
            sessions: Sessions::new(SESSION_TTL),
        }
    }

    /// The same gate with sessions lasting `ttl`.
    pub fn with_session_ttl(mut self, ttl: Duration) -> Self {
        self.sessions = Sessions::new(ttl);
        self
    }

    /// The keys it checks (rotation replaces them).
    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    /// The browser sessions it accepts.
    pub fn sessions(&self) -> &Sessions {
        &self.sessions
    }

    /// The caller of a request: the bearer key, else the session cookie's
    /// with its CSRF token (a request changing state with a cookie must
    /// pass the CSRF checks).
    fn caller(&self, method: &Method, headers: &HeaderMap) -> Result<Option<Caller>, Denied> {
        if let Some(token) = bearer(headers) {
            return Ok(self.keys.current().authenticate(token).map(|p| (p, None)));
        }
        let Some(token) = session::cookie(headers) else {
            return Ok(None);
        };
        let Some(s) = self.sessions.find(&self.keys.current(), token) else {
            return Ok(None);
        };
        if !method.is_safe() {
            let presented = headers
                .get(session::CSRF_HEADER)
                .and_then(|v| v.to_str().ok());
            if session::cross_site(headers) || !session::csrf_matches(&s, presented) {
                return Err(Denied::Csrf);
            }
        }
        Ok(Some((s.principal, Some(SessionCsrf(s.csrf)))))
    }

    fn row(&self, method: &Method, path: &str) -> Option<&Route> {
        let method = if method == Method::HEAD {
            &Method::GET
        } else {
            method
        };
        self.table
            .iter()
            .find(|r| r.path == path && r.method == method)
    }

    /// The gate's decision for a request to `path` with `headers`.
    fn decide(
        &self,
        method: &Method,
        path: &str,
        headers: &HeaderMap,
    ) -> Result<Option<Caller>, Denied> {
        let row = self.row(method, path);
        let page = row.is_some_and(|r| r.page);
        let role = match row.map(|r| r.access) {
            None => {
                let mut allow: Vec<Method> = self
                    .table
                    .iter()
                    .filter(|r| r.path == path)
                    .map(|r| r.method.clone())
                    .collect();
                if allow.contains(&Method::GET) {
                    allow.push(Method::HEAD); // served as GET
                }
                if !allow.is_empty() {
                    return Err(Denied::Method {
                        method: method.clone(),
                        allow,
                    });
                }
                return Err(Denied::NoRule {
                    method: method.clone(),
                    path: path.to_owned(),
                });
            }
            Some(Access::Public) => return Ok(None),
            Some(Access::Role(role)) => role,
        };
        let (principal, csrf) = self.caller(method, headers)?.ok_or(if page {
            Denied::SignIn
        } else {
            Denied::Unauthorized(role)
        })?;
        if !principal.roles.contains(role) {
            return Err(Denied::Forbidden {
                id: principal.id.to_string(),
                role,
            });
        }
        self.limiter
            .take(&principal.id, role)
            .map_err(|wait| Denied::RateLimited {
                id: principal.id.to_string(),
                role,
                wait,
            })?;
        Ok(Some((principal, csrf)))
    }
}

/// Why the gate refused a request.
#[derive(Debug, Clone, PartialEq)]
pub enum Denied {
    /// No key or an unknown one.
    Unauthorized(Role),
    /// No key or session on a page: sign in first.
    SignIn,
    /// A request with the session cookie changing state without the
    /// session's CSRF token, or from another site.
    Csrf,
    /// The key lacks the role.
    Forbidden {
        /// The key.
        id: String,
        /// The role the route needs.
        role: Role,
    },
    /// The key's bucket is empty.
    RateLimited {
        /// The key.
        id: String,
        /// The route's role.
        role: Role,
        /// Until the next token.
        wait: Duration,
    },
    /// The path is in the table, not with this method.
    Method {
        /// The method asked.
        method: Method,
        /// The table's methods of the path.
        allow: Vec<Method>,
    },
    /// The route is not in the table.
    NoRule {
        /// Its method.
        method: Method,
        /// Its path.
        path: String,
    },
}

impl std::fmt::Display for Denied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Denied::Unauthorized(role) => write!(
                f,
                "missing or unknown key (Authorization: Bearer <key with role {role}>)"
            ),
            Denied::SignIn => f.write_str("sign in first (/signin)"),
            Denied::Csrf => f.write_str(
                "a request with the session cookie must carry its CSRF token (X-CSRF-Token) and come from this site",
            ),
            Denied::Forbidden { id, role } => {
                write!(f, "key `{id}` does not hold role `{role}`")
            }
            Denied::RateLimited { id, role, .. } => write!(
                f,
                "key `{id}` is over its {role} rate limit; retry after {} s",
                self.retry_after().unwrap_or(1)
            ),
            Denied::Method { method, allow } => {
                let allow: Vec<&str> = allow.iter().map(Method::as_str).collect();
                write!(
                    f,
                    "method {method} not allowed here (allowed: {})",
                    allow.join(", ")
                )
            }
            Denied::NoRule { method, path } => {
                write!(f, "{method} {path} has no access rule")
            }
        }
    }
}

impl ApiError for Denied {
    /// In whole seconds (at least 1), for a rate limit.
    fn retry_after(&self) -> Option<u64> {
        match self {
            Denied::RateLimited { wait, .. } => Some(wait.as_secs_f64().ceil().max(1.0) as u64),
            _ => None,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Denied::Unauthorized(_) | Denied::SignIn => "unauthorized",
            Denied::Csrf => "csrf_failed",
            Denied::Forbidden { .. } => "forbidden",
            Denied::RateLimited { .. } => "rate_limited",
            Denied::Method { .. } => "method_not_allowed",
            Denied::NoRule { .. } => "no_access_rule",
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            Denied::Unauthorized(_) | Denied::SignIn => StatusCode::UNAUTHORIZED,
            Denied::Forbidden { .. } | Denied::NoRule { .. } | Denied::Csrf => {
                StatusCode::FORBIDDEN
            }
            Denied::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Denied::Method { .. } => StatusCode::METHOD_NOT_ALLOWED,
        }
    }
}

/// `router` with the gate on every route it has now (merge the routes
/// first, then guard).
pub fn guard<S: Clone + Send + Sync + 'static>(router: Router<S>, gate: Arc<Gate>) -> Router<S> {
    router.route_layer(middleware::from_fn_with_state(gate, check))
}

async fn check(State(gate): State<Arc<Gate>>, mut req: Request, next: Next) -> Response {
    let path = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| req.uri().path().to_owned());
    match gate.decide(req.method(), &path, req.headers()) {
        Ok(caller) => {
            if let Some((p, csrf)) = caller {
                req.extensions_mut().insert(p);
                if let Some(c) = csrf {
                    req.extensions_mut().insert(c);
                }
            }
            next.run(req).await
        }
        Err(Denied::SignIn) => {
            let next = req
                .uri()
                .path_and_query()
                .map_or("/", |p| p.as_str())
                .to_owned();
            let next: String = form_urlencoded::byte_serialize(next.as_bytes()).collect();
            Redirect::to(&format!("/signin?next={next}")).into_response()
        }
        Err(denied) => {
            let mut r = error_response(&denied);
            if let Denied::Method { allow, .. } = &denied {
                let allow: Vec<&str> = allow.iter().map(Method::as_str).collect();
                if let Ok(v) = HeaderValue::from_str(&allow.join(", ")) {
                    r.headers_mut().insert(header::ALLOW, v);
                }
            }
            r
        }
    }
}
