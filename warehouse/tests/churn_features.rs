//! The churn-risk features (`sql/churn_features.sql`) on a hand-built lake
//! whose answers are worked out by hand below. Day d is T0 + d days; the
//! snapshot is the end of day 9 (T = day 10, 00:00 UTC).
//!
//! - `a` pays for basic from day 1 10:00, a payment fails on day 4, opts
//!   out of pushes on day 6, gets and opens a push on day 7, cancels on
//!   day 25: churned. Four views: day 2 (movie m1, startup 1 s, completes
//!   after 60 s of play), day 5 (episode e1 of series s1, startup 3 s, a
//!   2 s stall, exits at 63 s), day 9 20:00 (episode e2 of s1, a fatal
//!   error before the first frame), day 9 21:00 (m1 again, an exit before
//!   start).
//! - `b` starts a standard trial on day 8 (no views) and converts on day
//!   15: not churned.
//! - `c` canceled on day 5 and `d` starts on day 12: not subscribers at T
//!   (`d` is at day 40).
//! - `b` renews on day 45: the lake's latest event, so T + 30 d (day 40)
//!   is known; a second snapshot at day 40 has no label yet.

mod common;

use common::{event, write};
use serde_json::{Value, json};
use showrunner_events::{Family, WireEvent};
use showrunner_warehouse::churn::{DAY_MS, features};
use showrunner_warehouse::{Lake, output};

const T0: i64 = 1_772_409_600_000; // 2026-03-02T00:00:00Z
const H: i64 = 3_600_000;

#[derive(Default)]
struct Fixture {
    n: u128,
    by_family: std::collections::BTreeMap<&'static str, (Family, Vec<WireEvent>)>,
}

impl Fixture {
    fn add(&mut self, family: Family, ty: &str, t: i64, ids: Value, extra: Value) {
        self.n += 1;
        let mut v = json!({
            "event_id": uuid::Uuid::from_u128(0x0195_0000_0000_7000_8000_0000_0000_0000 | self.n).to_string(),
            "event_type": ty, "schema_version": 1,
            "occurred_at": showrunner_events::Timestamp(T0 + t).to_string(),
            "received_at": showrunner_events::Timestamp(T0 + t + 100).to_string(),
        });
        for (k, x) in ids
            .as_object()
            .expect("ids")
            .iter()
            .chain(extra.as_object().expect("extra"))
        {
            v[k] = x.clone();
        }
        self.by_family
            .entry(family.as_str())
            .or_insert((family, Vec::new()))
            .1
            .push(event(&v));
    }

    fn bill(&mut self, user: &str, ty: &str, t: i64, extra: Value) {
        self.add(Family::Billing, ty, t, json!({"user_id": user}), extra);
    }

    fn player(&mut self, view: &str, title: &str, ty: &str, t: i64, extra: Value) {
        let ids = json!({"user_id": "a", "view_id": view, "title_id": title});
        self.add(Family::Player, ty, t, ids, extra);
    }

    fn play(&mut self, view: &str, title: &str, t: i64) {
        self.player(view, title, "play_requested", t, json!({
            "device_type": "tv", "os": "tizen", "player_name": "shaka", "player_version": "4",
            "app_version": "5.12.0", "cdn": "a", "country": "FR", "isp": "Orange", "network_type": "wifi"
        }));
    }
}

fn day(d: i64) -> i64 {
    d * DAY_MS
}

async fn lake() -> (tempfile::TempDir, Lake) {
    let mut f = Fixture::default();
    let basic = json!({"plan": "basic", "price_minor": 999, "currency": "EUR", "trial": false});
    f.bill("a", "subscription_started", day(1) + 10 * H, basic);
    f.bill(
        "a",
        "payment_failed",
        day(4),
        json!({"amount_minor": 999, "currency": "EUR"}),
    );
    f.bill("a", "canceled", day(25), json!({"reason": "too_expensive"}));
    let trial = json!({"plan": "standard", "price_minor": 1299, "currency": "EUR", "trial": true});
    f.bill("b", "subscription_started", day(8), trial);
    let standard = json!({"plan": "standard", "price_minor": 1299, "currency": "EUR"});
    f.bill("b", "renewed", day(15), standard.clone());
    f.bill("b", "renewed", day(45), standard);
    let c = json!({"plan": "basic", "price_minor": 999, "currency": "EUR", "trial": false});
    f.bill("c", "subscription_started", day(1), c.clone());
    f.bill("c", "canceled", day(5), json!({}));
    f.bill("d", "subscription_started", day(12), c);
    f.add(
        Family::User,
        "profile_updated",
        day(6),
        json!({"user_id": "a"}),
        json!({"push_opt_in": false}),
    );
    f.add(
        Family::Notification,
        "push_sent",
        day(7),
        json!({"user_id": "a"}),
        json!({"campaign_id": "c1"}),
    );
    f.add(
        Family::Notification,
        "push_opened",
        day(7) + H,
        json!({"user_id": "a"}),
        json!({"campaign_id": "c1"}),
    );
    for (ep, n) in [("e1", 1), ("e2", 2)] {
        f.add(
            Family::Catalog,
            "episode_added",
            0,
            json!({"title_id": ep}),
            json!({"series_id": "s1", "season": 1, "episode": n, "duration_ms": 2_400_000}),
        );
    }
    // day 2: startup 1 s, 60 s of play, completed
    let t = day(2) + 20 * H;
    f.play("v1", "m1", t);
    f.player("v1", "m1", "first_frame", t + 1_000, json!({}));
    f.player(
        "v1",
        "m1",
        "view_ended",
        t + 61_000,
        json!({"reason": "completed"}),
    );
    // day 5: startup 3 s, a 2 s stall, exit at 63 s: 58 s of play
    let t = day(5) + 20 * H;
    f.play("v2", "e1", t);
    f.player("v2", "e1", "first_frame", t + 3_000, json!({}));
    f.player("v2", "e1", "rebuffer_start", t + 20_000, json!({}));
    f.player("v2", "e1", "rebuffer_end", t + 22_000, json!({}));
    f.player(
        "v2",
        "e1",
        "view_ended",
        t + 63_000,
        json!({"reason": "user_exit"}),
    );
    // day 9 20:00: a fatal error before the first frame
    let t = day(9) + 20 * H;
    f.play("v3", "e2", t);
    f.player(
        "v3",
        "e2",
        "error",
        t + 4_000,
        json!({"code": "E1", "fatal": true}),
    );
    f.player(
        "v3",
        "e2",
        "view_ended",
        t + 4_000,
        json!({"reason": "error"}),
    );
    // day 9 21:00: an exit before start
    let t = day(9) + 21 * H;
    f.play("v4", "m1", t);
    f.player(
        "v4",
        "m1",
        "view_ended",
        t + 9_000,
        json!({"reason": "user_exit"}),
    );
    let dir = tempfile::tempdir().expect("tmp");
    for (i, (family, events)) in f.by_family.values().enumerate() {
        write(dir.path(), *family, events, i as u64 + 1);
    }
    let lake = Lake::open(dir.path()).await.expect("lake");
    (dir, lake)
}

fn num(row: &serde_json::Map<String, Value>, k: &str) -> f64 {
    row[k]
        .as_f64()
        .unwrap_or_else(|| panic!("{k} = {}", row[k]))
}

fn close(row: &serde_json::Map<String, Value>, k: &str, want: f64) {
    let got = num(row, k);
    assert!(
        (got - want).abs() <= 1e-9 * want.abs().max(1.0),
        "{k}: got {got}, want {want}"
    );
}

#[tokio::test]
async fn features_and_labels_worked_by_hand() {
    let (_dir, lake) = lake().await;
    let t = T0 + day(10);
    let batches = features(&lake, &[t, T0 + day(40)]).await.expect("features");
    let names: Vec<String> = batches
        .first()
        .expect("rows")
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let rows: Vec<serde_json::Map<String, Value>> = output::rows(&batches)
        .expect("rows")
        .into_iter()
        .map(|r| names.iter().cloned().zip(r).collect())
        .collect();
    let at = |snap: i64, user: &str| {
        rows.iter()
            .find(|r| r["snap_ms"] == json!(snap) && r["user_id"] == json!(user))
            .unwrap_or_else(|| panic!("no row for {user} at {snap}: {rows:?}"))
            .clone()
    };
    // at T: a and b only; at day 40: b and d (a canceled on day 25)
    let keys: Vec<(i64, String)> = rows
        .iter()
        .map(|r| {
            (
                r["snap_ms"].as_i64().expect("snap"),
                r["user_id"].as_str().expect("user").to_string(),
            )
        })
        .collect();
    assert_eq!(
        keys,
        vec![
            (t, "a".into()),
            (t, "b".into()),
            (T0 + day(40), "b".into()),
            (T0 + day(40), "d".into())
        ]
    );

    let a = at(t, "a");
    assert_eq!(a["churned"], json!(true));
    // latest view day 9 21:00: 3 h before T
    close(&a, "days_since_play", 3.0 / 24.0);
    // days with a view in (day 3, day 10]: 5 and 9; in the 28 days: 2, 5, 9
    close(&a, "active_days_7", 2.0);
    close(&a, "active_days_28", 3.0);
    close(&a, "views_28", 4.0);
    // last 7 days: v2's 58 s of play; the 21 before: v1's 60 s
    let (h7, h21) = (58_000.0 / 3_600_000.0, 60_000.0 / 3_600_000.0);
    close(&a, "watch_hours_7", h7);
    close(&a, "watch_trend", (h7 / 7.0 + 0.1) / (h21 / 21.0 + 0.1));
    close(&a, "completion_28", 0.25);
    // m1 and series s1 (e1, e2): two each of four views
    close(&a, "titles_28", 2.0);
    close(&a, "top_series_share", 0.5);
    // stall 2 s over (60 + 0) + (58 + 2) s of started views
    close(&a, "rebuffering_28", 2_000.0 / 120_000.0);
    close(&a, "failures_28", 0.25);
    close(&a, "exits_before_start_28", 0.25);
    // started views' startups 1,000 and 3,000: the ceil(0.9 × 2) = 2nd
    close(&a, "startup_p90_28", 3_000.0);
    assert_eq!(a["trial"], json!(false));
    assert_eq!(a["plan"], json!("basic"));
    close(&a, "price_minor", 999.0);
    // started day 1 10:00: 8 days 14 h before T
    close(&a, "tenure_days", 8.0 + 14.0 / 24.0);
    close(&a, "payment_failures_90", 1.0);
    close(&a, "plan_changes_90", 0.0);
    close(&a, "pushes_28", 1.0);
    close(&a, "push_opens_28", 1.0);
    assert_eq!(a["push_opt_out"], json!(true));

    let b = at(t, "b");
    assert_eq!(b["churned"], json!(false));
    assert_eq!(b["trial"], json!(true));
    assert_eq!(b["plan"], json!("standard"));
    close(&b, "price_minor", 0.0);
    assert_eq!(b["days_since_play"], Value::Null);
    close(&b, "views_28", 0.0);
    close(&b, "watch_trend", 1.0);
    for k in [
        "completion_28",
        "top_series_share",
        "rebuffering_28",
        "failures_28",
        "startup_p90_28",
    ] {
        assert_eq!(b[k], Value::Null, "{k}");
    }
    close(&b, "tenure_days", 2.0);
    assert_eq!(b["push_opt_out"], json!(false));

    // day 40 + 30 d is after the latest event (day 45): no label yet
    let later = at(T0 + day(40), "b");
    assert_eq!(later["churned"], Value::Null);
    assert_eq!(later["trial"], json!(false));
    close(&later, "price_minor", 1299.0);
}
