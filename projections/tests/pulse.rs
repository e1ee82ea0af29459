//! The Live page's fold on three views whose figures are worked out by
//! hand (times from T0 = 10:00:00, a minute boundary; now = T0 + 4 min 30 s;
//! a five-minute window, T0 … T0 + 5 min).
//!
//! - A (alpha): play 0:10, first frame 0:12 (startup 2 s), heartbeats
//!   1:00 @ 48 s, 2:00 @ 100 s, 3:00 @ 150 s (playing 52 s + 50 s; the
//!   first has no predecessor), a stall 2:10–2:15 (5 s); never ends; its
//!   latest event 3:00.
//! - B (beta): play 1:10, first frame 1:14 (4 s), fatal error and end 1:40.
//! - C (alpha): play 3:20, first frame 3:21 (1 s), a stall from 4:22 with
//!   no end (closes at its latest event, the heartbeat 4:26: 4 s), its
//!   first heartbeat 4:26 (no playing time yet).
//!
//! Concurrent at each minute start: 0:00 none; 1:00 A; 2:00 A (B ended);
//! 3:00 A; 4:00 A and C (A's latest event, 3:00, within 150 s); now 2.
//! Plays per minute: 1, 1, 0, 1, 0; failures: 0, 1, 0, 0, 0.
//! alpha: 2 plays, startups [1000, 2000] → p50 1000, p95 2000; stall
//! 5000 + 4000; playing 102,000; ratio 9000 ÷ 111,000. beta: 1 play,
//! startup 4000, no playing time → no ratio.

use serde_json::{Value, json};
use showrunner_events::{Event, Timestamp};
use showrunner_projections::Fold;
use showrunner_projections::pulse::{Minute, Pulse};

const T0: i64 = 10 * 3_600_000;
const S: i64 = 1_000;

fn ev(n: u128, at: i64, view: &str, ty: &str, extra: Value) -> Event {
    let t = Timestamp(T0 + at).to_string();
    let mut v = json!({
        "event_id": uuid::Uuid::from_u128(0x0196_0000_0000_7000_8000_0000_0000_0000 | n).to_string(),
        "event_type": ty, "schema_version": 1, "occurred_at": t, "received_at": t,
        "view_id": view, "title_id": "t1",
    });
    for (k, x) in extra.as_object().expect("object") {
        v[k] = x.clone();
    }
    serde_json::from_value(v).unwrap_or_else(|e| panic!("{ty}: {e}"))
}

fn play(cdn: &str) -> Value {
    json!({
        "device_type": "tv", "os": "tizen", "player_name": "shaka", "player_version": "4",
        "app_version": "1", "cdn": cdn, "country": "FR", "isp": "Orange", "network_type": "wifi",
    })
}

fn hb(pos: i64) -> Value {
    json!({ "position_ms": pos, "bitrate_kbps": 3000 })
}

fn events() -> Vec<Event> {
    let none = json!({});
    vec![
        ev(1, 10 * S, "A", "play_requested", play("alpha")),
        ev(2, 12 * S, "A", "first_frame", none.clone()),
        ev(3, 60 * S, "A", "heartbeat", hb(48_000)),
        ev(4, 120 * S, "A", "heartbeat", hb(100_000)),
        ev(5, 130 * S, "A", "rebuffer_start", none.clone()),
        ev(6, 135 * S, "A", "rebuffer_end", none.clone()),
        ev(7, 180 * S, "A", "heartbeat", hb(150_000)),
        ev(8, 70 * S, "B", "play_requested", play("beta")),
        ev(9, 74 * S, "B", "first_frame", none.clone()),
        ev(
            10,
            100 * S,
            "B",
            "error",
            json!({ "code": "E1", "fatal": true }),
        ),
        ev(11, 100 * S, "B", "view_ended", json!({ "reason": "error" })),
        ev(12, 200 * S, "C", "play_requested", play("alpha")),
        ev(13, 201 * S, "C", "first_frame", none.clone()),
        ev(14, 262 * S, "C", "rebuffer_start", none),
        ev(15, 266 * S, "C", "heartbeat", hb(59_000)),
    ]
}

#[test]
fn the_last_minutes_worked_by_hand() {
    let mut p = Pulse::default();
    for e in events() {
        assert!(p.apply(&e));
    }
    let s = p.snapshot(T0 + 270 * S, 5);
    let minutes: Vec<(i64, usize, usize, usize)> = s
        .minutes
        .iter()
        .map(|m: &Minute| ((m.t - T0) / 60_000, m.concurrent, m.plays, m.failures))
        .collect();
    assert_eq!(
        minutes,
        [
            (0, 0, 1, 0),
            (1, 1, 1, 1),
            (2, 1, 0, 0),
            (3, 1, 1, 0),
            (4, 2, 0, 0)
        ]
    );
    assert_eq!(s.concurrent, 2);
    assert_eq!(s.cdns.len(), 2);
    let alpha = &s.cdns[0];
    assert_eq!(alpha.cdn, "alpha");
    assert_eq!((alpha.plays, alpha.started), (2, 2));
    assert_eq!(
        (alpha.startup_p50_ms, alpha.startup_p95_ms),
        (Some(1000), Some(2000))
    );
    assert_eq!((alpha.stall_ms, alpha.playing_ms), (9_000, 102_000));
    assert_eq!(alpha.rebuffering, Some(9_000.0 / 111_000.0));
    let beta = &s.cdns[1];
    assert_eq!(beta.cdn, "beta");
    assert_eq!((beta.plays, beta.startup_p50_ms), (1, Some(4000)));
    assert_eq!(beta.rebuffering, None);

    // twice, in reverse order: the same figures
    let mut again = Pulse::default();
    for e in events().iter().rev().chain(events().iter()) {
        again.apply(e);
    }
    assert_eq!(again.snapshot(T0 + 270 * S, 5), s);

    // a window starting later leaves the early minutes out
    let later = p.snapshot(T0 + 270 * S, 2);
    assert_eq!(later.minutes.len(), 2);
    assert_eq!(later.minutes[0].t, T0 + 180 * S);
    assert_eq!(
        later.cdns[0].plays, 1,
        "only C's play is in the last two minutes"
    );
}

#[test]
fn views_long_past_are_dropped() {
    let mut p = Pulse::default();
    for e in events() {
        p.apply(&e);
    }
    assert_eq!(p.snapshot(T0, 1).views, 3);
    // an event three hours on: the views idle for over two hours go
    p.apply(&ev(99, 3 * 3_600_000, "D", "play_requested", play("gamma")));
    assert_eq!(p.snapshot(T0 + 3 * 3_600_000, 1).views, 1);
}
