//! HTTP conventions every Showrunner router shares. Depends on no
//! Showrunner crate, so every crate with a router can use it.
//!
//! - [`error`] — [`ApiError`]: each crate's error type says its stable
//!   `code` and its status in one match; one body for every error,
//!   `{"error": {"code", "message", "field"}}` ([`ErrorBody`]); [`Refusal`]
//!   for a handler's own refusals;
//! - [`query`] — [`Query`]: query parameters into a typed struct; an
//!   unknown parameter or a bad value is a 400 naming it; [`path`] —
//!   [`Path`]: path parameters refused with the same body;
//! - [`keys`] — [`Role`]s, keys stored as hashes ([`KeyEntry`]), the
//!   constant-time [`Keyring`], [`Keys`] (swapped whole on rotation), the
//!   development keys (loopback only);
//! - [`session`] — browser sessions: sign in with a key once, then an
//!   `HttpOnly`, `SameSite=Strict` cookie with a CSRF token;
//! - [`limit`] — token buckets per key and role ([`RateLimits`]);
//! - [`access`] — the gate: a table of (method, route) → [`Access`],
//!   401 / 403 / 429 by it, closed for routes it does not list;
//! - [`cors`] — CORS for the routes browsers call from other origins, by
//!   configured origins;
//! - [`telemetry`] — [`Telemetry`]: the process's Prometheus registry,
//!   HTTP requests and latency by route and status ([`telemetry::track`]),
//!   [`telemetry::Durations`] of named work;
//! - [`openapi`] — the gate's rules added to the API's description
//!   (bearer security, the role, 401/403/429), held against the route table;
//! - [`ops`] — `/healthz`, `/readyz` (readiness checks), `/metrics`: the
//!   operator routes every process serves.

pub mod access;
pub mod cors;
pub mod error;
pub mod keys;
pub mod limit;
pub mod openapi;
pub mod ops;
pub mod path;
pub mod query;
pub mod session;
pub mod telemetry;

pub use access::{Access, Gate, Route};
pub use keys::{KeyEntry, Keyring, Keys, Principal, Role};
pub use limit::{Rate, RateLimits};
pub use ops::Ops;
pub use telemetry::Telemetry;

pub use error::{ApiError, ErrorBody, ErrorDetail, Refusal, error_response};
pub use path::Path;
pub use query::{Query, QueryFields};
