//! HTTP conventions every Showrunner router shares. Depends on no
//! Showrunner crate, so every crate with a router can use it.
//!
//! - [`error`] — [`ApiError`]: each crate's error type says its stable
//!   `code` and its status in one match; one body for every error,
//!   `{"error": {"code", "message", "field"}}` ([`ErrorBody`]); [`Refusal`]
//!   for a handler's own refusals;
//! - [`query`] — [`Query`]: query parameters into a typed struct; an
//!   unknown parameter or a bad value is a 400 naming it;
//! - [`cors`] — CORS for the routes browsers call from other origins, by
//!   configured origins.

pub mod cors;
pub mod error;
pub mod query;

pub use error::{ApiError, ErrorBody, ErrorDetail, Refusal, error_response};
pub use query::{Query, QueryFields};
