//! Helpers of the warehouse tests: hand-built events written as lake files,
//! and metric rows as JSON.

#![allow(dead_code)] // each test binary uses its own subset

use serde_json::Value;
use showrunner_events::{Family, Validator, WireEvent};
use showrunner_simulator::{SimConfig, Simulator};
use showrunner_testkit::rows;
use showrunner_warehouse::metrics::{self, Bucket, Params};
use showrunner_warehouse::{Lake, output};

/// Parses and validates one event of a fixture.
pub fn event(v: &Value) -> WireEvent {
    let w = WireEvent::from_json(v.to_string().as_bytes()).expect("json");
    Validator::default()
        .validate(&w)
        .expect("valid fixture event");
    w
}

/// Writes `rows` (all of `family`) as one committed file per event date,
/// named after `part`, as the Parquet sink would.
pub fn write(lake: &std::path::Path, family: Family, rows: &[WireEvent], part: u64) {
    showrunner_testkit::lake::write_events(lake, family, rows, part);
}

/// A metric's column names and rows as JSON values.
pub async fn run(lake: &Lake, name: &str, p: &Params) -> (Vec<String>, Vec<Vec<Value>>) {
    let m = metrics::find(name).expect("metric");
    let (cols, batches) = metrics::compute(lake, m, p).await.expect("computes");
    (cols, output::rows(&batches).expect("rows"))
}

/// Asserts `v` is `want` to 1e-12 relative.
pub fn close(v: &Value, want: f64) {
    let got = v.as_f64().unwrap_or(f64::NAN);
    assert!(
        (got - want).abs() <= 1e-12 * want.abs().max(1.0),
        "got {got}, want {want}"
    );
}

/// Asserts two JSON row sets are equal, in order, numbers to 1e-12
/// relative (`testkit`'s comparator).
pub fn same_rows(a: &Value, b: &Value) {
    let (ra, rb) = (rows::of_json(a), rows::of_json(b));
    if let Some(d) = rows::first_difference(&ra, &rb, 1e-12) {
        panic!("{d}");
    }
}

/// A simulated audience's player and billing events written as a lake:
/// `users` users over `days` days from `start`, heartbeats every `heartbeat`
/// seconds.
pub fn simulated_lake(
    users: u32,
    days: u32,
    seed: u64,
    start: chrono::NaiveDate,
    heartbeat: u32,
) -> tempfile::TempDir {
    let mut c = SimConfig::new(users, days, seed, start);
    c.heartbeat_secs = heartbeat;
    let (mut player, mut billing) = (Vec::new(), Vec::new());
    for e in Simulator::new(c).flatten() {
        match e.family() {
            Family::Player => player.push(e.to_wire()),
            Family::Billing => billing.push(e.to_wire()),
            _ => {}
        }
    }
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), Family::Player, &player, 1);
    write(dir.path(), Family::Billing, &billing, 2);
    dir
}

/// Default parameters with month buckets.
pub fn monthly() -> Params {
    Params {
        bucket: Bucket::Month,
        ..Params::default()
    }
}

/// A valid `play_requested` (the context every breakdown reads) of `view`
/// by `user`, at `occurred` (RFC 3339), received at `received`.
pub fn play_requested(
    id: &str,
    view: &str,
    user: &str,
    occurred: &str,
    received: &str,
) -> WireEvent {
    event(&serde_json::json!({
        "event_id": id, "event_type": "play_requested", "schema_version": 1,
        "occurred_at": occurred, "received_at": received, "user_id": user,
        "view_id": view, "title_id": "t1", "device_type": "tv", "os": "tizen",
        "player_name": "shaka", "player_version": "4", "app_version": "5", "cdn": "a",
        "country": "FR", "isp": "Orange", "network_type": "wifi"
    }))
}
