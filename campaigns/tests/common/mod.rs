//! What the campaigns tests share: five profiles (all opted in but u3):
//! u1 Europe/Paris, u2 America/New_York, u3 America/New_York, u4 no zone
//! and country ZZ (UTC), u5 Asia/Tokyo.

use serde_json::{Value, json};
use showrunner_events::Event;

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
