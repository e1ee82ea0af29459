//! The collector: `POST /v1/events` takes a JSON array or NDJSON of events,
//! validates each, assigns `event_id` where missing and `received_at`
//! (the server's clock) always,
//! publishes the valid ones with `Nats-Msg-Id = event_id` and answers only
//! after JetStream acked them. Status codes:
//! 200 all accepted, 207 some refused, 400 none accepted or unparseable,
//! 401 bad ingest key, 413 over the size limits, 503 (+ `Retry-After`) when
//! the stream cannot be reached — never a 2xx for an unstored event.

pub mod response;

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use showrunner_events::batch::parse_body;
use showrunner_events::{SCHEMA_VERSION, Timestamp, Validator};

use self::response::{EventResult, Refused, results_response};
use crate::metrics::Metrics;
use crate::publish::{Outgoing, publish_each};
use showrunner_bus::StreamSettings;

/// What the collector needs.
#[derive(Clone)]
pub struct CollectorState {
    /// NATS client (connection state for fast 503s).
    pub client: async_nats::Client,
    /// JetStream context used to publish.
    pub js: jetstream::Context,
    /// Event rules.
    pub validator: Arc<Validator>,
    /// Accepted ingest keys (`Authorization: Bearer <key>`).
    pub ingest_keys: Arc<Vec<String>>,
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// Stream names.
    pub streams: StreamSettings,
    /// Origins whose pages may post from a browser (CORS); empty: none.
    pub cors_origins: Arc<Vec<String>>,
}

/// The collector's routes (with CORS for the configured origins; an
/// origin that is not one was refused when the config was read).
pub fn router(state: CollectorState) -> Router {
    let limit = state.validator.limits.max_batch_bytes;
    let cors = showrunner_web::cors::layer(&state.cors_origins, &[axum::http::Method::POST]);
    let r = Router::new()
        .route("/v1/events", post(post_events))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state);
    match cors {
        Ok(Some(cors)) => r.layer(cors),
        Ok(None) => r,
        Err(e) => {
            tracing::error!(error = %e, "collector CORS origins refused; no origin allowed");
            r
        }
    }
}

/// Constant-time check of a bearer token against a set of keys.
pub fn bearer_ok(headers: &HeaderMap, keys: &[String]) -> bool {
    let Some(token) = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    keys.iter().any(|k| {
        k.len() == token.len()
            && k.bytes()
                .zip(token.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    })
}

async fn post_events(
    State(st): State<CollectorState>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    if !bearer_ok(&headers, &st.ingest_keys) {
        return Refused::Unauthorized.into_response();
    }
    let body = match body {
        Ok(b) => b,
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
            ingest_keys: Arc::new(vec!["unit-test-key".into()]),
            metrics: Arc::new(Metrics::default()),
            streams: StreamSettings::default(),
            cors_origins: Arc::new(vec!["https://watch.example.com".into()]),
        })
    }

    async fn post(
        app: Router,
        key: Option<&str>,
        body: &str,
    ) -> (StatusCode, serde_json::Value, Option<String>) {
        let mut req = Request::post("/v1/events");
        if let Some(k) = key {
            req = req.header("authorization", format!("Bearer {k}"));
        }
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
    async fn auth_is_checked_before_anything_else() {
        let (s, body, _) = post(offline().await, None, "not even json").await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        assert_eq!(body["error"]["code"], "unauthorized", "{body}");
        assert_eq!(
            post(offline().await, Some("unit-test-kez"), &valid())
                .await
                .0,
            StatusCode::UNAUTHORIZED
        );
    }

    #[tokio::test]
    async fn framing_and_validation_answer_without_nats() {
        assert_eq!(
            post(offline().await, Some("unit-test-key"), "nope").await.0,
            StatusCode::BAD_REQUEST
        );
        let (s, body, _) = post(
            offline().await,
            Some("unit-test-key"),
            r#"[{"event_type":"seek"}]"#,
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert_eq!(body["results"][0]["status"], "rejected");
        let big = format!("[{}]", vec![valid(); 1001].join(","));
        assert_eq!(
            post(offline().await, Some("unit-test-key"), &big).await.0,
            StatusCode::PAYLOAD_TOO_LARGE
        );
    }

    #[tokio::test]
    async fn valid_events_are_never_acknowledged_without_the_stream() {
        let (s, body, retry) = post(offline().await, Some("unit-test-key"), &valid()).await;
        assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(retry.as_deref(), Some("1"));
        assert_eq!(body["results"][0]["status"], "unavailable");
        assert_eq!(body["accepted"], 0);
    }

    #[tokio::test]
    async fn browsers_of_allowed_origins_pass_the_preflight_and_read_errors() {
        use axum::http::header;
        let preflight = |origin: &str| {
            Request::builder()
                .method("OPTIONS")
                .uri("/v1/events")
                .header(header::ORIGIN, origin)
                .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
                .header(
                    header::ACCESS_CONTROL_REQUEST_HEADERS,
                    "authorization,content-type",
                )
                .body(Body::empty())
                .expect("request")
        };
        let r = offline()
            .await
            .oneshot(preflight("https://watch.example.com"))
            .await
            .expect("answer");
        assert!(r.status().is_success(), "{}", r.status());
        let h = r.headers();
        assert_eq!(
            h[header::ACCESS_CONTROL_ALLOW_ORIGIN],
            "https://watch.example.com"
        );
        let methods = h[header::ACCESS_CONTROL_ALLOW_METHODS]
            .to_str()
            .expect("ascii");
        assert!(methods.contains("POST"), "{methods}");
        let allowed = h[header::ACCESS_CONTROL_ALLOW_HEADERS]
            .to_str()
            .expect("ascii")
            .to_ascii_lowercase();
        assert!(allowed.contains("authorization") && allowed.contains("content-type"));
        // another origin gets no CORS header: the browser refuses it
        let r = offline()
            .await
            .oneshot(preflight("https://evil.example.net"))
            .await
            .expect("answer");
        assert!(
            r.headers()
                .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
                .is_none()
        );
        // the page can read the error of a refused post
        let req = Request::post("/v1/events")
            .header(header::ORIGIN, "https://watch.example.com")
            .body(Body::from("[]"))
            .expect("request");
        let r = offline().await.oneshot(req).await.expect("answer");
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            r.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN],
            "https://watch.example.com"
        );
    }
}
