//! JSON bodies of the collector's answers.

use std::time::Duration;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use showrunner_events::FieldError;

/// The outcome of one event of a request.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct EventResult {
    /// Position in the request.
    pub index: usize,
    /// `accepted`, `rejected`, or `unavailable` (not stored: retry).
    pub status: &'static str,
    /// The event id (assigned when the client sent none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    /// The field at fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl EventResult {
    /// Stored.
    pub fn accepted(index: usize, event_id: String) -> Self {
        Self {
            index,
            status: "accepted",
            event_id: Some(event_id),
            field: None,
            reason: None,
        }
    }

    /// Refused for a rule.
    pub fn rejected(index: usize, e: FieldError) -> Self {
        Self {
            index,
            status: "rejected",
            event_id: None,
            field: Some(e.field),
            reason: Some(e.reason),
        }
    }

    /// Valid but not stored: the stream was unreachable.
    pub fn unavailable(&mut self) {
        self.status = "unavailable";
        self.reason = Some("event stream unavailable; retry with the same event_id".into());
    }

    /// True when stored.
    pub fn is_accepted(&self) -> bool {
        self.status == "accepted"
    }
}

/// The answer of `POST /v1/events`: counts, and each event's outcome.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BatchAnswer {
    /// Events stored.
    pub accepted: usize,
    /// Events refused for a rule.
    pub rejected: usize,
    /// Each event's outcome, in the request's order.
    pub results: Vec<EventResult>,
}

/// The two bodies of a 400 (documentation only): every event refused
/// ([`BatchAnswer`]), or a body that could not be read at all.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum BadBatch {
    /// Every event was refused.
    Refused(BatchAnswer),
    /// The body was not a batch.
    Unreadable(showrunner_web::ErrorBody),
}

/// A response listing per-event results.
pub fn results_response(
    status: StatusCode,
    results: Vec<EventResult>,
    retry_after: Option<Duration>,
) -> Response {
    let accepted = results.iter().filter(|r| r.is_accepted()).count();
    let rejected = results.iter().filter(|r| r.status == "rejected").count();
    let mut r = (
        status,
        Json(BatchAnswer {
            accepted,
            rejected,
            results,
        }),
    )
        .into_response();
    if let Some(d) = retry_after {
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(d.as_secs().max(1)));
    }
    r
}

/// A request the collector refuses whole (per-event refusals are
/// [`EventResult`]s): its code and status in one match, the one error body
/// of `showrunner_web`.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    /// Too many events or bytes for one request.
    #[error("{0}")]
    TooLarge(String),
    /// The body could not be read (axum's status and reason).
    #[error("{message}")]
    Unreadable {
        /// axum's status for it.
        status: StatusCode,
        /// Why.
        message: String,
    },
    /// Not a JSON event or array of events.
    #[error("{0}")]
    BadBody(String),
}

impl showrunner_web::ApiError for Refused {
    fn code(&self) -> &'static str {
        match self {
            Refused::TooLarge(_) => "payload_too_large",
            Refused::Unreadable { .. } => "unreadable_body",
            Refused::BadBody(_) => "bad_body",
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            Refused::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Refused::Unreadable { status, .. } => *status,
            Refused::BadBody(_) => StatusCode::BAD_REQUEST,
        }
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        showrunner_web::error_response(&self)
    }
}
