//! The collector: `POST /v1/events` takes a JSON array or NDJSON of events,
//! validates each, assigns `event_id` where missing and `received_at`
//! (the server's clock) always,
//! publishes the valid ones with `Nats-Msg-Id = event_id` and answers only
//! after JetStream acked them. Status codes:
//! 200 all accepted, 207 some refused, 400 none accepted or unparseable,
//! 413 over the size limits, 503 (+ `Retry-After`) when
//! the stream cannot be reached — never a 2xx for an unstored event.
//! Keys (role `ingest`), rate limits and CORS are the composed app's
//! (`dashboard`): its gate answers 401/403/429 before the collector sees
//! the request.

pub mod response;

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use showrunner_events::batch::parse_body;
use showrunner_events::{SCHEMA_VERSION, Timestamp, Validator};

use self::response::{BadBatch, BatchAnswer, EventResult, Refused, results_response};
use crate::metrics::Metrics;
use crate::publish::{Outgoing, publish_each};
use showrunner_bus::StreamSettings;
use showrunner_web::ErrorBody;

/// What the collector needs.
#[derive(Clone)]
pub struct CollectorState {
    /// NATS client (connection state for fast 503s).
    pub client: async_nats::Client,
    /// JetStream context used to publish.
    pub js: jetstream::Context,
    /// Event rules.
    pub validator: Arc<Validator>,
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// Stream names.
    pub streams: StreamSettings,
}

/// The collector's routes (no keys: the app's gate checks them).
pub fn router(state: CollectorState) -> Router {
    let limit = state.validator.limits.max_batch_bytes;
    Router::new()
        .route("/v1/events", post(post_events))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

/// Stores a batch of events (a JSON array, or one JSON object a line).
#[utoipa::path(post, path = "/v1/events", tag = "ingest",
    request_body(description = "events as a JSON array (or NDJSON, one event a line); see docs/events.md",
        content((Vec<Object> = "application/json"), (String = "application/x-ndjson"))),
    responses(
        (status = 200, description = "every event stored", body = BatchAnswer),
        (status = 207, description = "some events stored, some refused (each result says which and why)", body = BatchAnswer),
        (status = 400, description = "no event stored: each refused, or the body unreadable", body = BadBatch),
        (status = 413, description = "too many events or bytes (code `payload_too_large`)", body = ErrorBody),
        (status = 503, description = "the event stream is unreachable: nothing stored, retry with the same event ids",
            body = BatchAnswer, headers(("Retry-After" = u64, description = "seconds"))),
    ))]
async fn post_events(
    State(st): State<CollectorState>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    let body = match body {
        Ok(b) => b,
        Err(r) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return Refused::TooLarge(r.body_text()).into_response();
        }
        Err(r) => {
            let (status, message) = (r.status(), r.body_text());
            return Refused::Unreadable { status, message }.into_response();
        }
    };
    let elements = match parse_body(&body, &st.validator.limits) {
        Ok(e) => e,
        Err(showrunner_events::Error::BatchTooLarge(m)) => {
            return Refused::TooLarge(m).into_response();
        }
        Err(e) => return Refused::BadBody(e.to_string()).into_response(),
    };
    let now = Timestamp::now();
    let mut results: Vec<EventResult> = Vec::with_capacity(elements.len());
    let mut outgoing = Vec::new();
    let mut slots = Vec::new();
    for (index, el) in elements.into_iter().enumerate() {
        let checked = el.and_then(|mut w| {
            w.event_id
                .get_or_insert_with(|| uuid::Uuid::now_v7().to_string());
            w.received_at = Some(now); // the server's clock, always
            w.schema_version.get_or_insert(SCHEMA_VERSION);
            let event = st.validator.validate(&w)?;
            let out = Outgoing::event(&event);
            // the size as stored, with the fields added here
            st.validator.check_size(out.payload.len())?;
            Ok((event, out))
        });
        match checked {
            Ok((event, out)) => {
                results.push(EventResult::accepted(
                    index,
                    event.envelope.event_id.to_string(),
                ));
                slots.push(index);
                outgoing.push(out);
            }
            Err(e) => results.push(EventResult::rejected(index, e)),
        }
    }
    if !outgoing.is_empty() {
        if st.client.connection_state() != async_nats::connection::State::Connected {
            for &i in &slots {
                results[i].unavailable();
            }
            return results_response(
                StatusCode::SERVICE_UNAVAILABLE,
                results,
                Some(Duration::from_secs(1)),
            );
        }
        let acks = publish_each(&st.js, outgoing).await;
        let mut failed = false;
        for (slot, ack) in slots.iter().zip(acks) {
            if let Err(e) = ack {
                tracing::warn!(error = %e, "publish failed");
                results[*slot].unavailable();
                failed = true;
            }
        }
        if failed {
            return results_response(
                StatusCode::SERVICE_UNAVAILABLE,
                results,
                Some(Duration::from_secs(1)),
            );
        }
    }
    let accepted = results.iter().filter(|r| r.is_accepted()).count() as u64;
    let rejected = results.len() as u64 - accepted;
    Metrics::add(&st.metrics.events_accepted, accepted);
    Metrics::add(&st.metrics.events_rejected, rejected);
    let status = match (accepted, rejected) {
        (_, 0) => StatusCode::OK,
        (0, _) => StatusCode::BAD_REQUEST,
        _ => StatusCode::MULTI_STATUS,
    };
    results_response(status, results, None)
}

/// The collector's route, described.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(post_events),
    components(schemas(BatchAnswer, EventResult, BadBatch))
)]
pub struct CollectorApi;

/// `showrunner_nats_up`: 1 while the collector's client is connected to
/// NATS, read at each scrape.
#[derive(Debug)]
pub struct NatsUp(pub async_nats::Client);

impl showrunner_web::telemetry::Collector for NatsUp {
    fn encode(&self, mut e: showrunner_web::telemetry::DescriptorEncoder) -> std::fmt::Result {
        let up = self.0.connection_state() == async_nats::connection::State::Connected;
        showrunner_web::telemetry::gauge(
            &mut e,
            "showrunner_nats_up",
            "1 when connected to NATS",
            f64::from(u8::from(up)),
        )
    }
}

/// True when NATS is connected and the event stream answers.
pub async fn ready(st: &CollectorState) -> bool {
    if st.client.connection_state() != async_nats::connection::State::Connected {
        return false;
    }
    let probe = st.js.get_stream(&st.streams.events);
    matches!(
        tokio::time::timeout(Duration::from_secs(2), probe).await,
        Ok(Ok(_))
    )
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    use super::*;

    /// A collector whose NATS is unreachable (nothing listens on port 1).
    async fn offline() -> Router {
        let client = showrunner_bus::connect_lazy("nats://127.0.0.1:1")
            .await
            .expect("lazy client");
        let js = showrunner_bus::context(client.clone(), Duration::from_secs(1), 16);
        router(CollectorState {
            client,
            js,
            validator: Arc::new(Validator::default()),
            metrics: Arc::new(Metrics::default()),
            streams: StreamSettings::default(),
        })
    }

    async fn post(app: Router, body: &str) -> (StatusCode, serde_json::Value, Option<String>) {
        let req = Request::post("/v1/events");
        let resp = app
            .oneshot(req.body(Body::from(body.to_owned())).expect("request"))
            .await
            .expect("response");
        let status = resp.status();
        let retry = resp
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap_or_default().to_owned());
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .expect("body");
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or_default(),
            retry,
        )
    }

    fn valid() -> String {
        let mut e = showrunner_events::examples::examples().remove(1);
        e.envelope.occurred_at = Timestamp::now();
        e.envelope.received_at = e.envelope.occurred_at;
        serde_json::to_string(&e).expect("json")
    }

    #[tokio::test]
    async fn framing_and_validation_answer_without_nats() {
        assert_eq!(
            post(offline().await, "nope").await.0,
            StatusCode::BAD_REQUEST
        );
        let (s, body, _) = post(offline().await, r#"[{"event_type":"seek"}]"#).await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert_eq!(body["results"][0]["status"], "rejected");
        let big = format!("[{}]", vec![valid(); 1001].join(","));
        assert_eq!(
            post(offline().await, &big).await.0,
            StatusCode::PAYLOAD_TOO_LARGE
        );
    }

    #[tokio::test]
    async fn valid_events_are_never_acknowledged_without_the_stream() {
        let (s, body, retry) = post(offline().await, &valid()).await;
        assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(retry.as_deref(), Some("1"));
        assert_eq!(body["results"][0]["status"], "unavailable");
        assert_eq!(body["accepted"], 0);
    }
}
