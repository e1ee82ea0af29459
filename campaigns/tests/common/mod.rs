//! What the campaigns tests share: five profiles (all opted in but u3):
//! u1 Europe/Paris, u2 America/New_York, u3 America/New_York, u4 no zone
//! and country ZZ (UTC), u5 Asia/Tokyo.
//!
//! Each test crate uses some of them.
#![allow(dead_code)]

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::{Value, json};
use showrunner_events::Event;
use showrunner_web::{Principal, Role};
use tower::ServiceExt;

/// A NATS server of the test's own under `dir`, a JetStream context on
/// it, and the event streams created.
pub async fn bus(
    dir: &std::path::Path,
) -> (
    showrunner_bus::server::LocalNatsServer,
    async_nats::jetstream::Context,
    showrunner_bus::StreamSettings,
) {
    let server =
        showrunner_bus::server::LocalNatsServer::start(&dir.join("nats"), 0).expect("nats-server");
    let client = showrunner_bus::connect(&server.url(), std::time::Duration::from_secs(10))
        .await
        .expect("connect");
    let js = showrunner_bus::context(client, std::time::Duration::from_secs(5), 64);
    let streams = showrunner_bus::StreamSettings::default();
    showrunner_bus::ensure_streams(&js, &streams)
        .await
        .expect("streams");
    (server, js, streams)
}

/// Calls `router` as the marketing key `mk-ada`: the status and the JSON
/// answer (`null` when empty).
pub async fn request(
    router: &Router,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
        .expect("request");
    req.extensions_mut().insert(Principal {
        id: "mk-ada".into(),
        roles: [Role::Marketing].into_iter().collect(),
    });
    let res = router.clone().oneshot(req).await.expect("answer");
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), 16 << 20)
        .await
        .expect("body");
    let v = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).expect("json")
    };
    (status, v)
}

pub fn event(n: u128, v: Value) -> Event {
    let mut base = json!({
        "event_id": uuid::Uuid::from_u128(0x0196_0000_0000_7000_8000_0000_0000_0000 | n).to_string(),
        "schema_version": 1,
        "occurred_at": "2026-06-01T10:00:00Z", "received_at": "2026-06-01T10:00:00Z",
    });
    for (k, x) in v.as_object().expect("object") {
        base[k] = x.clone();
    }
    serde_json::from_value(base).expect("event")
}

pub fn profiles() -> Vec<Event> {
    let users = [
        ("u1", "FR", Some("Europe/Paris"), true),
        ("u2", "US", Some("America/New_York"), true),
        ("u3", "US", Some("America/New_York"), false),
        ("u4", "ZZ", None, true),
        ("u5", "JP", Some("Asia/Tokyo"), true),
    ];
    let mut out = Vec::new();
    for (i, (u, country, tz, opt_in)) in users.into_iter().enumerate() {
        let mut signed = json!({"event_type": "signed_up", "user_id": u, "country": country});
        if let Some(tz) = tz {
            signed["time_zone"] = json!(tz);
        }
        out.push(event(2 * i as u128 + 1, signed));
        out.push(event(
            2 * i as u128 + 2,
            json!({"event_type": "profile_updated", "user_id": u, "push_opt_in": opt_in}),
        ));
    }
    out
}
