//! `GET /v1/live`: the last minutes of the stream as server-sent events —
//! a [`Snapshot`] of the pulse (`showrunner_projections::pulse`) when the
//! client connects, then every [`EVERY`]. The fold is followed from the
//! bus by the process (`node`), so nothing here waits for the lake.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use showrunner_projections::live::Live;
use showrunner_projections::pulse::{MAX_MINUTES, Pulse, Snapshot};
use showrunner_web::{ErrorBody, Query, QueryFields, Refusal};
use utoipa::{IntoParams, OpenApi};

/// How often a snapshot is sent.
pub const EVERY: Duration = Duration::from_secs(2);

/// The pulse a process follows.
pub type SharedPulse = Arc<Live<Pulse>>;

/// Query of `GET /v1/live`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LiveQuery {
    /// The window, in minutes (default 15, at most 60), the current one
    /// included.
    minutes: Option<usize>,
}

impl QueryFields for LiveQuery {
    const FIELDS: &'static [&'static str] = &["minutes"];
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn event(pulse: &Live<Pulse>, minutes: usize) -> Event {
    let snap: Snapshot = pulse.read().snapshot(now_ms(), minutes);
    Event::default()
        .event("pulse")
        .json_data(&snap)
        .unwrap_or_else(|e| Event::default().event("error").data(e.to_string()))
}

/// The last minutes of the player events: concurrent viewers, plays and
/// fatal failures per minute, startup time and rebuffering by CDN — a
/// `pulse` event when connecting, then every 2 s.
#[utoipa::path(get, path = "/v1/live", tag = "analysts", params(LiveQuery),
    responses(
        (status = 200, description = "server-sent events, each `event: pulse` with a JSON snapshot: `now`, `concurrent`, `minutes` [{`t`, `concurrent`, `plays`, `failures`}], `cdns` [{`cdn`, `plays`, `started`, `startup_p50_ms`, `startup_p95_ms`, `stall_ms`, `playing_ms`, `rebuffering`}], `views`, `latest`", body = String, content_type = "text/event-stream"),
        (status = 400, description = "a bad parameter (`field` names it)", body = ErrorBody),
    ))]
pub async fn stream(State(pulse): State<SharedPulse>, Query(q): Query<LiveQuery>) -> Response {
    let minutes = q.minutes.unwrap_or(15);
    if !(1..=MAX_MINUTES).contains(&minutes) {
        return Refusal::bad_request(
            "bad_parameter",
            Some("minutes"),
            format!("`minutes` must be within 1..={MAX_MINUTES}"),
        )
        .into_response();
    }
    let snapshots = futures::stream::unfold(true, move |first| {
        let pulse = pulse.clone();
        async move {
            if !first {
                tokio::time::sleep(EVERY).await;
            }
            Some((Ok::<_, Infallible>(event(&pulse, minutes)), false))
        }
    });
    let mut r = Sse::new(snapshots)
        .keep_alive(KeepAlive::default())
        .into_response();
    // proxies must pass each event on at once
    r.headers_mut().insert(
        "x-accel-buffering",
        axum::http::HeaderValue::from_static("no"),
    );
    r
}

/// The route, described.
#[derive(OpenApi)]
#[openapi(paths(stream))]
pub struct LiveApi;
