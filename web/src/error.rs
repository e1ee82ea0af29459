//! One error model for every router: an error type implements [`ApiError`]
//! (a stable `code` clients switch on, and the status, each in one match),
//! and every error answers the same body:
//!
//! ```json
//! {"error": {"code": "unknown_metric", "message": "unknown metric `x`", "field": "name"}}
//! ```
//!
//! (`field` only when one request field is at fault). A 401 also carries
//! `WWW-Authenticate: Bearer`; an error that says how long to wait carries
//! `Retry-After`.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

/// An error a router answers with.
pub trait ApiError: std::fmt::Display {
    /// Its stable code, `snake_case`: what clients switch on.
    fn code(&self) -> &'static str;
    /// Its HTTP status.
    fn status(&self) -> StatusCode;
    /// The request field at fault, when one is.
    fn field(&self) -> Option<&str> {
        None
    }
    /// Seconds to wait before trying again (`Retry-After`), when waiting
    /// helps.
    fn retry_after(&self) -> Option<u64> {
        None
    }
}

/// The body of every error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// The stable code ([`ApiError::code`]).
    pub code: String,
    /// For people.
    pub message: String,
    /// The request field at fault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl ErrorBody {
    /// The body of `e`.
    pub fn of<E: ApiError + ?Sized>(e: &E) -> Self {
        ErrorBody {
            error: ErrorDetail {
                code: e.code().to_owned(),
                message: e.to_string(),
                field: e.field().map(str::to_owned),
            },
        }
    }
}

/// The response of an error: its status, the one body.
pub fn error_response<E: ApiError + ?Sized>(e: &E) -> Response {
    let status = e.status();
    let mut r = (status, Json(ErrorBody::of(e))).into_response();
    if status == StatusCode::UNAUTHORIZED {
        r.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    if let Some(secs) = e.retry_after() {
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    r
}

/// A refusal a handler makes itself (an extractor's, a check of its own):
/// status, code, message and field given where it happens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Its status.
    pub status: StatusCode,
    /// Its code.
    pub code: &'static str,
    /// Its message.
    pub message: String,
    /// The field at fault.
    pub field: Option<String>,
}

impl Refusal {
    /// A 400 about `field`.
    pub fn bad_request(
        code: &'static str,
        field: Option<&str>,
        message: impl Into<String>,
    ) -> Self {
        Refusal {
            status: StatusCode::BAD_REQUEST,
            code,
            message: message.into(),
            field: field.map(str::to_owned),
        }
    }

    /// A refusal with any status.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Refusal {
            status,
            code,
            message: message.into(),
            field: None,
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl ApiError for Refusal {
    fn code(&self) -> &'static str {
        self.code
    }

    fn status(&self) -> StatusCode {
        self.status
    }

    fn field(&self) -> Option<&str> {
        self.field.as_deref()
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        error_response(&self)
    }
}
