//! QoE and engagement metrics on a small hand-built lake whose answers are
//! worked out by hand below (not by running the same SQL): a view with
//! stalls, a seek stall and a pause; a startup stall and a stall with no
//! end; an exit before start; a start failure; a mid-play fatal error; a
//! duplicated event row in a second file; a second day. The API's filters
//! and comparison periods are worked out over the same lake, through the
//! router.

mod common;

use common::{close, run, write};
use serde_json::{Value, json};
use showrunner_events::{Family, WireEvent};
use showrunner_warehouse::metrics::{self, Bucket, Params};
use showrunner_warehouse::{Lake, output};

const T0: i64 = 1_772_445_600_000; // 2026-03-02T10:00:00Z, a Monday

struct Fixture {
    events: Vec<WireEvent>,
    n: u128,
}

impl Fixture {
    fn add(
        &mut self,
        view: &str,
        user: &str,
        title: &str,
        ty: &str,
        t: i64,
        extra: Value,
    ) -> WireEvent {
        self.n += 1;
        let mut v = json!({
            "event_id": uuid::Uuid::from_u128(0x0195_0000_0000_7000_8000_0000_0000_0000 | self.n).to_string(),
            "event_type": ty, "schema_version": 1,
            "occurred_at": showrunner_events::Timestamp(T0 + t).to_string(),
            "received_at": showrunner_events::Timestamp(T0 + t + 100).to_string(),
            "user_id": user, "view_id": view, "title_id": title,
        });
        for (k, x) in extra.as_object().expect("object") {
            v[k] = x.clone();
        }
        let w = common::event(&v);
        self.events.push(w.clone());
        w
    }

    fn play(&mut self, view: &str, user: &str, title: &str, cdn: &str, t: i64) {
        self.add(view, user, title, "play_requested", t, json!({
            "device_type": "tv", "os": "tizen", "player_name": "shaka", "player_version": "4",
            "app_version": "5.12.0", "cdn": cdn, "country": "FR", "isp": "Orange", "network_type": "wifi"
        }));
    }
}

async fn lake() -> (tempfile::TempDir, Lake) {
    let mut f = Fixture {
        events: Vec::new(),
        n: 0,
    };
    // A: startup 1,000; stall 2,000; seek stall 500; pause 10,000; bitrate 3,000 then 6,000; completed at 61,000
    f.play("A", "u1", "t1", "a", 0);
    f.add("A", "u1", "t1", "first_frame", 1_000, json!({}));
    f.add(
        "A",
        "u1",
        "t1",
        "bitrate_changed",
        1_000,
        json!({"bitrate_kbps": 3000}),
    );
    let dup = f.add("A", "u1", "t1", "rebuffer_start", 10_000, json!({}));
    f.add("A", "u1", "t1", "rebuffer_end", 12_000, json!({}));
    f.add(
        "A",
        "u1",
        "t1",
        "seek",
        20_000,
        json!({"from_ms": 100, "to_ms": 900_000}),
    );
    f.add("A", "u1", "t1", "rebuffer_start", 21_000, json!({}));
    f.add("A", "u1", "t1", "rebuffer_end", 21_500, json!({}));
    f.add(
        "A",
        "u1",
        "t1",
        "bitrate_changed",
        30_000,
        json!({"bitrate_kbps": 6000}),
    );
    f.add("A", "u1", "t1", "pause", 40_000, json!({}));
    f.add("A", "u1", "t1", "resume", 50_000, json!({}));
    f.add(
        "A",
        "u1",
        "t1",
        "view_ended",
        61_000,
        json!({"reason": "completed"}),
    );
    // B: startup stall (excluded), startup 3,000, bitrate 1,500 set before ff, a stall that never ends; no view_ended
    f.play("B", "u2", "t1", "b", 100_000);
    f.add("B", "u2", "t1", "rebuffer_start", 100_500, json!({}));
    f.add("B", "u2", "t1", "rebuffer_end", 101_500, json!({}));
    f.add(
        "B",
        "u2",
        "t1",
        "bitrate_changed",
        102_000,
        json!({"bitrate_kbps": 1500}),
    );
    f.add("B", "u2", "t1", "first_frame", 103_000, json!({}));
    f.add("B", "u2", "t1", "rebuffer_start", 110_000, json!({}));
    f.add(
        "B",
        "u2",
        "t1",
        "heartbeat",
        130_000,
        json!({"position_ms": 27_000, "bitrate_kbps": 1500}),
    );
    // C: exit before video start
    f.play("C", "u1", "t2", "a", 200_000);
    f.add(
        "C",
        "u1",
        "t2",
        "view_ended",
        205_000,
        json!({"reason": "user_exit"}),
    );
    // D: start failure
    f.play("D", "u3", "t2", "b", 300_000);
    f.add(
        "D",
        "u3",
        "t2",
        "error",
        302_000,
        json!({"code": "X", "fatal": true}),
    );
    f.add(
        "D",
        "u3",
        "t2",
        "view_ended",
        302_100,
        json!({"reason": "error"}),
    );
    // E: startup 500, fatal error mid-play, ended at 460,500
    f.play("E", "u3", "t1", "a", 400_000);
    f.add("E", "u3", "t1", "first_frame", 400_500, json!({}));
    f.add(
        "E",
        "u3",
        "t1",
        "error",
        459_000,
        json!({"code": "Y", "fatal": false}),
    );
    f.add(
        "E",
        "u3",
        "t1",
        "error",
        460_000,
        json!({"code": "Z", "fatal": true}),
    );
    f.add(
        "E",
        "u3",
        "t1",
        "view_ended",
        460_500,
        json!({"reason": "error"}),
    );
    // F: the next day, startup 2,000, 30,000 played
    let day = 86_400_000;
    f.play("F", "u4", "t2", "a", day);
    f.add("F", "u4", "t2", "first_frame", day + 2_000, json!({}));
    f.add(
        "F",
        "u4",
        "t2",
        "view_ended",
        day + 32_000,
        json!({"reason": "completed"}),
    );

    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), Family::Player, &f.events, 1);
    write(dir.path(), Family::Player, &[dup], 2); // a redelivered duplicate in another file
    let lake = Lake::open(dir.path()).await.expect("lake");
    (dir, lake)
}

fn day() -> Params {
    Params::default()
}

#[tokio::test]
async fn startup_time_percentiles_are_nearest_rank() {
    let (_d, lake) = lake().await;
    let (cols, rows) = run(&lake, "video_startup_time", &day()).await;
    assert_eq!(
        cols,
        ["bucket", "p50_ms", "p90_ms", "p95_ms", "p99_ms", "views"]
    );
    // 2026-03-02: [500, 1000, 3000] → p50 = v[2], p90 = p95 = p99 = v[3]; 2026-03-03: [2000]
    assert_eq!(
        rows,
        vec![
            vec![
                json!("2026-03-02"),
                json!(1000),
                json!(3000),
                json!(3000),
                json!(3000),
                json!(3)
            ],
            vec![
                json!("2026-03-03"),
                json!(2000),
                json!(2000),
                json!(2000),
                json!(2000),
                json!(1)
            ],
        ]
    );
    let by = Params {
        by: vec!["cdn".into()],
        ..day()
    };
    let (cols, rows) = run(&lake, "video_startup_time", &by).await;
    assert_eq!(
        cols,
        [
            "bucket", "cdn", "p50_ms", "p90_ms", "p95_ms", "p99_ms", "views"
        ]
    );
    // cdn a on day 1: [500, 1000] → p50 = v[1] = 500, p90 = v[2] = 1000
    assert_eq!(
        rows[0],
        vec![
            json!("2026-03-02"),
            json!("a"),
            json!(500),
            json!(1000),
            json!(1000),
            json!(1000),
            json!(2)
        ]
    );
    assert_eq!(
        rows[1],
        vec![
            json!("2026-03-02"),
            json!("b"),
            json!(3000),
            json!(3000),
            json!(3000),
            json!(3000),
            json!(1)
        ]
    );
}

#[tokio::test]
async fn start_outcomes() {
    let (_d, lake) = lake().await;
    let (_, rows) = run(&lake, "exits_before_video_start", &day()).await;
    assert_eq!(&rows[0][..3], &[json!("2026-03-02"), json!(1), json!(5)]); // C only
    close(&rows[0][3], 0.2);
    let (_, rows) = run(&lake, "video_start_failures", &day()).await;
    assert_eq!(&rows[0][..3], &[json!("2026-03-02"), json!(1), json!(5)]); // D
    let (_, rows) = run(&lake, "playback_failures", &day()).await;
    assert_eq!(&rows[0][..3], &[json!("2026-03-02"), json!(2), json!(5)]); // D and E
    close(&rows[0][3], 0.4);
}

#[tokio::test]
async fn stalls_exclude_startup_and_seek_and_close_at_the_end() {
    let (_d, lake) = lake().await;
    // A: 2,000 stalled, 60,000 − 10,000 − 2,000 − 500 = 47,500 played; B: 20,000 / 7,000; E: 0 / 60,000
    let (cols, rows) = run(&lake, "rebuffering_ratio", &day()).await;
    assert_eq!(cols, ["bucket", "stall_ms", "playing_ms", "ratio"]);
    assert_eq!(
        &rows[0][..3],
        &[json!("2026-03-02"), json!(22_000), json!(114_500)]
    );
    close(&rows[0][3], 22_000.0 / 136_500.0);
    let (_, rows) = run(&lake, "rebuffer_frequency", &day()).await;
    assert_eq!(
        &rows[0][..3],
        &[json!("2026-03-02"), json!(2), json!(114_500)]
    );
    close(&rows[0][3], 2.0 / (114_500.0 / 60_000.0));
    let (_, rows) = run(&lake, "watch_hours", &day()).await;
    close(&rows[0][1], 114_500.0 / 3_600_000.0);
    close(&rows[1][1], 30_000.0 / 3_600_000.0);
}

#[tokio::test]
async fn bitrate_is_time_weighted_from_first_frame() {
    let (_d, lake) = lake().await;
    // A: 3,000 × 29,000 + 6,000 × 31,000; B: 1,500 × 27,000 (clipped to ff)
    let (_, rows) = run(&lake, "average_bitrate", &day()).await;
    close(
        &rows[0][1],
        (3_000.0 * 29_000.0 + 6_000.0 * 31_000.0 + 1_500.0 * 27_000.0) / 87_000.0,
    );
    assert_eq!(rows[1][1], Value::Null, "F has no bitrate events");
}

#[tokio::test]
async fn engagement() {
    let (_d, lake) = lake().await;
    let (_, rows) = run(&lake, "active_users", &day()).await;
    assert_eq!(
        rows,
        vec![
            vec![json!("2026-03-02"), json!(3)],
            vec![json!("2026-03-03"), json!(1)]
        ]
    );
    let month = Params {
        bucket: Bucket::Month,
        ..day()
    };
    let (_, rows) = run(&lake, "active_users", &month).await;
    assert_eq!(rows, vec![vec![json!("2026-03-01"), json!(4)]]);
    let (cols, rows) = run(&lake, "title_engagement", &month).await;
    assert_eq!(
        cols,
        [
            "bucket",
            "title_id",
            "starts",
            "completions",
            "completion_rate",
            "watch_hours"
        ]
    );
    assert_eq!(
        &rows[0][..4],
        &[json!("2026-03-01"), json!("t1"), json!(3), json!(1)]
    );
    close(&rows[0][4], 1.0 / 3.0);
    close(&rows[0][5], 114_500.0 / 3_600_000.0);
    // t2: C (no start), D (failed), F (started, completed)
    assert_eq!(
        &rows[1][..4],
        &[json!("2026-03-01"), json!("t2"), json!(1), json!(1)]
    );
    close(&rows[1][4], 1.0);
}

#[tokio::test]
async fn play_time_by_startup_and_rebuffering_band() {
    let (_d, lake) = lake().await;
    let month = |by: &str| Params {
        bucket: Bucket::Month,
        by: vec![by.to_owned()],
        ..day()
    };
    // startups: A 1,000 (1_2s: 1,000 is not under 1 s), B 3,000 and F 2,000
    // (2_4s), E 500 (under_1s); C and D never started. Played: A 47,500,
    // B 7,000, E 60,000, F 30,000.
    let (cols, rows) = run(&lake, "play_time", &month("startup")).await;
    assert_eq!(
        cols,
        [
            "bucket",
            "startup_band",
            "views",
            "started_views",
            "playing_ms",
            "avg_playing_ms"
        ]
    );
    // (band, views, started views, playing ms, average): a row of the month
    let month_rows = |want: &[(&str, i64, i64, i64, Option<f64>)]| -> Vec<Vec<Value>> {
        want.iter()
            .map(|(band, n, started, played, avg)| {
                vec![
                    json!("2026-03-01"),
                    json!(band),
                    json!(n),
                    json!(started),
                    json!(played),
                    json!(avg),
                ]
            })
            .collect()
    };
    assert_eq!(
        rows,
        month_rows(&[
            ("1_2s", 1, 1, 47_500, Some(47_500.0)),
            ("2_4s", 2, 2, 37_000, Some(18_500.0)),
            ("not_started", 2, 0, 0, None),
            ("under_1s", 1, 1, 60_000, Some(60_000.0)),
        ])
    );
    // rebuffering: A 2,000 ÷ 49,500 = 4.04 % (2_5pct), B 20,000 ÷ 27,000
    // (over_5pct), E and F no stall (none)
    let (_, rows) = run(&lake, "play_time", &month("rebuffering")).await;
    assert_eq!(
        rows,
        month_rows(&[
            ("2_5pct", 1, 1, 47_500, Some(47_500.0)),
            ("none", 2, 2, 90_000, Some(45_000.0)),
            ("not_started", 2, 0, 0, None),
            ("over_5pct", 1, 1, 7_000, Some(7_000.0)),
        ])
    );
    // a band is a filter like any dimension: B on the first day, F on the second
    let p = Params {
        filters: vec![metrics::Filter::parse("startup", "2_4s").expect("filter")],
        ..day()
    };
    let (_, rows) = run(&lake, "watch_hours", &p).await;
    assert_eq!(rows.len(), 2);
    close(&rows[0][1], 7_000.0 / 3_600_000.0);
    close(&rows[1][1], 30_000.0 / 3_600_000.0);
}

#[tokio::test]
async fn sessions_split_on_thirty_minute_gaps_after_the_latest_end() {
    let mut f = Fixture {
        events: Vec::new(),
        n: 0,
    };
    let min = 60_000;
    // (view, user, start, end); each view's first frame 1,000 after its start
    let views = [
        // u1: b starts exactly 30 minutes after a ends (joins); c 30 min and 1 ms after b (opens)
        ("a", "u1", 0, min),
        ("b", "u1", min + 30 * min, 2 * min + 30 * min),
        ("c", "u1", 2 * min + 60 * min + 1, 3 * min + 60 * min + 1),
        // u2: e inside d; f 35 min after e's end but 18.3 min after d's: it
        // joins (f alone on CDN b: by CDN, it is a session of its own)
        ("d", "u2", 0, 1_000_000),
        ("e", "u2", 100_000, 200_000),
        ("f", "u2", 2_100_000, 2_160_000),
        // u3: from 23:50 to 00:20 UTC (T0 is 10:00): one session, of 2026-03-02
        ("g", "u3", 830 * min, 840 * min),
        ("h", "u3", 850 * min, 860 * min),
    ];
    for (view, user, start, end) in views {
        f.play(view, user, "t1", if view == "f" { "b" } else { "a" }, start);
        f.add(view, user, "t1", "first_frame", start + 1_000, json!({}));
        f.add(
            view,
            user,
            "t1",
            "view_ended",
            end,
            json!({"reason": "user_exit"}),
        );
    }
    // an anonymous view has no session
    f.add(
        "z",
        "",
        "t1",
        "play_requested",
        0,
        json!({
            "user_id": null, "device_type": "tv", "os": "tizen", "player_name": "shaka",
            "player_version": "4", "app_version": "5.12.0", "cdn": "a", "country": "FR",
            "isp": "Orange", "network_type": "wifi"
        }),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), Family::Player, &f.events, 1);
    let lake = Lake::open(dir.path()).await.expect("lake");
    let (cols, rows) = run(&lake, "sessions", &day()).await;
    assert_eq!(
        cols,
        [
            "bucket",
            "sessions",
            "users",
            "views",
            "playing_ms",
            "avg_playing_ms",
            "views_per_session"
        ]
    );
    // u1 {a, b} and {c}, u2 {d, e, f}, u3 {g, h}: 4 sessions of 8 views;
    // played (end − start − 1,000): a, b, c, f 59,000; d 999,000; e 99,000;
    // g, h 599,000
    let played = 4 * 59_000 + 999_000 + 99_000 + 2 * 599_000;
    assert_eq!(
        rows,
        vec![vec![
            json!("2026-03-02"),
            json!(4),
            json!(3),
            json!(8),
            json!(played),
            json!(f64::from(played) / 4.0),
            json!(2.0)
        ]]
    );
    // the same from a window that begins with them (the look-back is empty)
    let p = Params {
        from: Some(metrics::date("2026-03-02").expect("date")),
        to: Some(metrics::date("2026-03-03").expect("date")),
        ..day()
    };
    assert_eq!(run(&lake, "sessions", &p).await.1, rows);
    // windowed by the session's start: u3's session began on March 2
    let p = Params {
        from: Some(metrics::date("2026-03-03").expect("date")),
        to: Some(metrics::date("2026-03-04").expect("date")),
        ..day()
    };
    let (_, rows) = run(&lake, "sessions", &p).await;
    assert!(rows.is_empty(), "{rows:?}");
    // by device (all tv here: sessions are made within each device); a
    // filter keeps views before sessions are made
    let p = Params {
        by: vec!["device".into()],
        filters: vec![metrics::Filter::parse("title", "t1").expect("filter")],
        ..day()
    };
    let (_, rows) = run(&lake, "sessions", &p).await;
    assert_eq!(
        rows[0][..4],
        [json!("2026-03-02"), json!("tv"), json!(4), json!(3)]
    );
    // by CDN, sessions are made within each CDN: u2's f (CDN b) no longer
    // joins d and e (CDN a)
    let p = Params {
        by: vec!["cdn".into()],
        ..day()
    };
    let (_, rows) = run(&lake, "sessions", &p).await;
    let heads: Vec<&[Value]> = rows.iter().map(|r| &r[..5]).collect();
    assert_eq!(
        heads,
        [
            &[
                json!("2026-03-02"),
                json!("a"),
                json!(4),
                json!(3),
                json!(7)
            ][..],
            &[
                json!("2026-03-02"),
                json!("b"),
                json!(1),
                json!(1),
                json!(1)
            ][..],
        ]
    );
}

#[tokio::test]
async fn window_and_buckets() {
    let (_d, lake) = lake().await;
    let p = Params {
        from: Some(metrics::date("2026-03-03").expect("date")),
        to: Some(metrics::date("2026-03-04").expect("date")),
        ..day()
    };
    let (_, rows) = run(&lake, "video_startup_time", &p).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][0], json!("2026-03-03"));
    let week = Params {
        bucket: Bucket::Week,
        ..day()
    };
    let (_, rows) = run(&lake, "active_users", &week).await;
    assert_eq!(
        rows,
        vec![vec![json!("2026-03-02"), json!(4)]],
        "ISO weeks start on Monday"
    );
    let hour = Params {
        bucket: Bucket::Hour,
        ..day()
    };
    let (_, rows) = run(&lake, "active_users", &hour).await;
    assert_eq!(rows[0][0], json!("2026-03-02T10:00:00Z"));
}

#[tokio::test]
async fn the_lake_keeps_one_row_per_event_id() {
    let (_d, lake) = lake().await;
    let (_, b) = showrunner_warehouse::query::run(&lake, "SELECT count(*) FROM player_raw")
        .await
        .expect("q");
    let (_, d) = showrunner_warehouse::query::run(&lake, "SELECT count(*) FROM player")
        .await
        .expect("q");
    let raw = output::rows(&b).expect("rows")[0][0].as_i64().expect("n");
    let dedup = output::rows(&d).expect("rows")[0][0].as_i64().expect("n");
    assert_eq!(raw, dedup + 1);
}

#[tokio::test]
async fn sql_is_read_only() {
    let (_d, lake) = lake().await;
    for bad in [
        "CREATE TABLE x AS SELECT 1",
        "DROP VIEW views",
        "INSERT INTO player_raw SELECT * FROM player_raw",
        "COPY (SELECT 1) TO '/tmp/showrunner-should-not-exist.csv'",
        "SET datafusion.execution.batch_size = 1",
    ] {
        let e = showrunner_warehouse::query::run(&lake, bad)
            .await
            .expect_err(bad);
        assert!(
            matches!(e, showrunner_warehouse::Error::Refused(_)),
            "{bad}: {e}"
        );
    }
    assert!(!std::path::Path::new("/tmp/showrunner-should-not-exist.csv").exists());
    let (cols, _) =
        showrunner_warehouse::query::run(&lake, "SELECT view_id, startup_ms FROM views ORDER BY 1")
            .await
            .expect("select");
    assert_eq!(cols, ["view_id", "startup_ms"]);
}

/// The API over the hand-built lake (its temp dir kept alive).
async fn api() -> (tempfile::TempDir, axum::Router) {
    use showrunner_warehouse::api::{self, ApiState, QueryLimits};
    let (d, _lake) = lake().await;
    let app = api::router(ApiState::new(
        d.path().to_path_buf(),
        QueryLimits::default(),
    ));
    (d, app)
}

async fn get(app: &axum::Router, uri: &str) -> (u16, String) {
    use tower::ServiceExt;
    let r = app
        .clone()
        .oneshot(
            axum::http::Request::get(uri)
                .body(axum::body::Body::empty())
                .expect("req"),
        )
        .await
        .expect("response");
    let status = r.status().as_u16();
    let body = axum::body::to_bytes(r.into_body(), usize::MAX)
        .await
        .expect("body");
    (status, String::from_utf8_lossy(&body).into_owned())
}

async fn get_json(app: &axum::Router, uri: &str) -> Value {
    let (s, body) = get(app, uri).await;
    assert_eq!(s, 200, "{uri}: {body}");
    serde_json::from_str(&body).expect("json")
}

/// A refusal's status, code and field.
async fn refused(app: &axum::Router, uri: &str) -> (u16, String, String) {
    let (s, body) = get(app, uri).await;
    let v: Value = serde_json::from_str(&body).expect("json error");
    (
        s,
        v["error"]["code"].as_str().unwrap_or_default().to_owned(),
        v["error"]["field"].as_str().unwrap_or_default().to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn filters_keep_only_the_views_they_name() {
    let (_d, app) = api().await;
    // cdn b: B (startup 3,000) and D (never started) on the first day, nothing on the second
    let v = get_json(&app, "/v1/metrics/video_startup_time?cdn=b").await;
    assert_eq!(
        v["rows"],
        json!([["2026-03-02", 3000, 3000, 3000, 3000, 1]]),
        "{v}"
    );
    assert_eq!(
        v["params"]["filters"],
        json!([{"dimension": "cdn", "values": ["b"]}])
    );
    // cdn a: A (1,000) and E (500) then F (2,000): nearest rank over [500, 1000]
    let v = get_json(&app, "/v1/metrics/video_startup_time?cdn=a").await;
    assert_eq!(
        v["rows"],
        json!([
            ["2026-03-02", 500, 1000, 1000, 1000, 2],
            ["2026-03-03", 2000, 2000, 2000, 2000, 1]
        ])
    );
    // title t2: C (exit) and D (failure) the first day, F the second
    let v = get_json(&app, "/v1/metrics/playback_failures?title=t2").await;
    assert_eq!(
        &v["rows"][0].as_array().expect("row")[..3],
        &[json!("2026-03-02"), json!(1), json!(2)]
    );
    close(&v["rows"][0][3], 0.5);
    assert_eq!(
        &v["rows"][1].as_array().expect("row")[..3],
        &[json!("2026-03-03"), json!(0), json!(1)]
    );
    close(&v["rows"][1][3], 0.0);
    // two filters: cdn a and title t2 keep C (an exit before start) and F
    let v = get_json(&app, "/v1/metrics/exits_before_video_start?cdn=a&title=t2").await;
    assert_eq!(
        &v["rows"][0].as_array().expect("row")[..3],
        &[json!("2026-03-02"), json!(1), json!(1)]
    );
    close(&v["rows"][0][3], 1.0);
    assert_eq!(
        &v["rows"][1].as_array().expect("row")[..3],
        &[json!("2026-03-03"), json!(0), json!(1)]
    );
    // several values: every cdn is no filter at all
    let all = get_json(&app, "/v1/metrics/watch_hours").await;
    let both = get_json(&app, "/v1/metrics/watch_hours?cdn=a,b").await;
    assert_eq!(all["rows"], both["rows"]);
    // a filter with a breakdown; the views of t1 on cdn a: A and E (60,000 played)
    let v = get_json(&app, "/v1/metrics/watch_hours?by=cdn&title=t1&cdn=a").await;
    assert_eq!(v["rows"].as_array().expect("rows").len(), 1, "{v}");
    assert_eq!(
        &v["rows"][0].as_array().expect("row")[..2],
        &[json!("2026-03-02"), json!("a")]
    );
    close(&v["rows"][0][2], (47_500.0 + 60_000.0) / 3_600_000.0);
    // concurrent viewers, at whole minutes: t1 on cdn a is A at 10:01 and E
    // at 10:07, one viewer each (average over the day's 1,440 minutes);
    // F's 30 s of t2 hold no whole minute
    let v = get_json(&app, "/v1/metrics/concurrent_viewers?title=t1&cdn=a").await;
    assert_eq!(
        &v["rows"][0].as_array().expect("row")[..2],
        &[json!("2026-03-02"), json!(1)],
        "{v}"
    );
    close(&v["rows"][0][2], 2.0 / 1_440.0);
    assert_eq!(v["rows"].as_array().expect("rows").len(), 1, "{v}");
    let v = get_json(&app, "/v1/metrics/concurrent_viewers?title=t2").await;
    assert_eq!(v["rows"], json!([]), "{v}");
    // a value that matches nothing: no rows
    let v = get_json(&app, "/v1/metrics/active_users?country=DE").await;
    assert_eq!(v["rows"], json!([]));
    // refusals name the filter
    for (uri, code, field) in [
        (
            "/v1/metrics/mrr?country=FR",
            "unsupported_filter",
            "country",
        ),
        (
            "/v1/metrics/customer_churn?plan=basic",
            "unsupported_filter",
            "plan",
        ),
        ("/v1/metrics/watch_hours?cdn=a%27b", "bad_filter", "cdn"),
        ("/v1/metrics/watch_hours?isp=a%5Cb", "bad_filter", "isp"),
        ("/v1/metrics/watch_hours?cdn=", "bad_filter", "cdn"),
    ] {
        assert_eq!(
            refused(&app, uri).await,
            (400, code.to_owned(), field.to_owned()),
            "{uri}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_metric_is_compared_with_a_previous_period() {
    let (_d, app) = api().await;
    // the second day (u4), compared with the day before (u1, u2, u3)
    let v = get_json(
        &app,
        "/v1/metrics/active_users?from=2026-03-03&to=2026-03-04&compare=previous",
    )
    .await;
    assert_eq!(v["rows"], json!([["2026-03-03", 1]]));
    assert_eq!(v["compare"]["kind"], "previous");
    assert_eq!(v["compare"]["params"]["from"], "2026-03-02");
    assert_eq!(v["compare"]["params"]["to"], "2026-03-03");
    assert_eq!(v["compare"]["rows"], json!([["2026-03-02", 3]]));
    // the same weekday a week later has nobody; a week before it is the first day
    let v = get_json(
        &app,
        "/v1/metrics/active_users?from=2026-03-09&to=2026-03-10&compare=week",
    )
    .await;
    assert_eq!(v["rows"], json!([]));
    assert_eq!(v["compare"]["kind"], "week");
    assert_eq!(v["compare"]["rows"], json!([["2026-03-02", 3]]));
    // filters apply to both periods: cdn b was only seen the first day
    let v = get_json(
        &app,
        "/v1/metrics/active_users?from=2026-03-03&to=2026-03-04&compare=previous&cdn=b",
    )
    .await;
    assert_eq!(v["rows"], json!([]));
    assert_eq!(
        v["compare"]["rows"],
        json!([["2026-03-02", 2]]),
        "u2 (B) and u3 (D)"
    );
    // without compare, no compare field
    let v = get_json(&app, "/v1/metrics/active_users").await;
    assert!(v.get("compare").is_none(), "{v}");
    // CSV: a first column says which period
    let (s, csv) = get(
        &app,
        "/v1/metrics/active_users?from=2026-03-03&to=2026-03-04&compare=previous&format=csv",
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        csv,
        "period,bucket,users\ncurrent,2026-03-03,1\nprevious,2026-03-02,3\n"
    );
    for uri in [
        "/v1/metrics/active_users?compare=previous",
        "/v1/metrics/active_users?from=2026-03-03&compare=previous",
        "/v1/metrics/active_users?from=2026-03-03&to=2026-03-03&compare=previous",
        "/v1/metrics/active_users?from=2026-03-02&to=2026-03-04&compare=month",
        "/v1/metrics/mrr?from=2026-03-01&to=2026-04-01&compare=week",
        "/v1/metrics/mrr?from=2026-03-02&to=2026-04-01&compare=previous",
    ] {
        assert_eq!(
            refused(&app, uri).await,
            (400, "bad_compare".to_owned(), "compare".to_owned()),
            "{uri}"
        );
    }
}

/// Views on chosen days (offsets from 2026-03-02): (day, user, view).
async fn days_lake(plan: &[(i64, &str, &str)]) -> (tempfile::TempDir, Lake) {
    let mut f = Fixture {
        events: Vec::new(),
        n: 0,
    };
    for (day, user, view) in plan {
        f.play(view, user, "t1", "a", day * 86_400_000);
    }
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), Family::Player, &f.events, 1);
    let lake = Lake::open(dir.path()).await.expect("lake");
    (dir, lake)
}

#[tokio::test]
async fn rolling_active_users_look_back_7_and_28_days() {
    let (_d, lake) = days_lake(&[
        (0, "u1", "a"),
        (6, "u2", "b"),
        (7, "u1", "c"),
        (27, "u3", "d"),
        (28, "u2", "e"),
        (35, "u4", "f"),
    ])
    .await;
    let (cols, rows) = run(&lake, "rolling_active_users", &day()).await;
    assert_eq!(cols, ["bucket", "dau", "wau_7d", "mau_28d"]);
    // day 6: u1 (day 0) is within 0..6; day 7: u1 again, u2 of day 6 kept;
    // day 27: days 21..27 hold u3 only, days 0..27 all three; day 28: u1's
    // day 0 has left the 28 days but day 7 keeps him; day 35: days 8..35
    // hold u3, u2 and u4. Days without a view have no row.
    assert_eq!(
        rows,
        vec![
            vec![json!("2026-03-02"), json!(1), json!(1), json!(1)],
            vec![json!("2026-03-08"), json!(1), json!(2), json!(2)],
            vec![json!("2026-03-09"), json!(1), json!(2), json!(2)],
            vec![json!("2026-03-29"), json!(1), json!(1), json!(3)],
            vec![json!("2026-03-30"), json!(1), json!(2), json!(3)],
            vec![json!("2026-04-06"), json!(1), json!(1), json!(3)],
        ]
    );
    // a window starts the rows, not the look-back; the bucket is always a day
    let p = Params {
        from: Some(metrics::date("2026-03-29").expect("date")),
        to: Some(metrics::date("2026-03-31").expect("date")),
        bucket: Bucket::Month,
        ..day()
    };
    let (_, rows) = run(&lake, "rolling_active_users", &p).await;
    assert_eq!(
        rows,
        vec![
            vec![json!("2026-03-29"), json!(1), json!(1), json!(3)],
            vec![json!("2026-03-30"), json!(1), json!(2), json!(3)],
        ]
    );
    assert_eq!(
        metrics::find("rolling_active_users")
            .expect("metric")
            .effective(&p)
            .bucket,
        Bucket::Day
    );
}

/// The first `n` columns of each row of a view list.
fn heads(v: &Value, n: usize) -> Vec<Vec<Value>> {
    v["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r.as_array().expect("row")[..n].to_vec())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_views_behind_a_cell_and_their_timelines() {
    let (_d, app) = api().await;
    let all = get_json(&app, "/v1/views").await;
    assert_eq!(
        all["columns"],
        json!(showrunner_warehouse::drill::COLUMNS),
        "{all}"
    );
    // latest start first
    let ids: Vec<&str> = all["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r[0].as_str().expect("id"))
        .collect();
    assert_eq!(ids, ["F", "E", "D", "C", "B", "A"]);
    assert_eq!(all["more"], false);
    // A in full: completed; 47,500 played, one stall of 2,000, a seek
    // stall of 500, 10,000 paused; bitrate 3,000 for 29 s then 6,000 for 31 s
    let a = all["rows"][5].as_array().expect("A");
    assert_eq!(
        a[..11],
        [
            json!("A"),
            json!("2026-03-02T10:00:00.000Z"),
            json!("u1"),
            json!("t1"),
            json!("completed"),
            json!(1000),
            json!(47_500),
            json!(2000),
            json!(1),
            json!(500),
            json!(10_000)
        ]
    );
    close(&a[11], (3_000.0 * 29_000.0 + 6_000.0 * 31_000.0) / 60_000.0);
    assert_eq!(
        a[12..],
        [
            json!("tv"),
            json!("tizen"),
            json!("shaka"),
            json!("4"),
            json!("5.12.0"),
            json!("a"),
            json!("FR"),
            json!("Orange"),
            json!("wifi")
        ]
    );
    // a cell: cdn b holds B (started, never ended: played) and D (failed to start)
    let v = get_json(&app, "/v1/views?cdn=b").await;
    assert_eq!(
        heads(&v, 6),
        vec![
            vec![
                json!("D"),
                json!("2026-03-02T10:05:00.000Z"),
                json!("u3"),
                json!("t2"),
                json!("start_failure"),
                Value::Null
            ],
            vec![
                json!("B"),
                json!("2026-03-02T10:01:40.000Z"),
                json!("u2"),
                json!("t1"),
                json!("played"),
                json!(3000)
            ],
        ]
    );
    // the cell's count is the metric's
    let m = get_json(&app, "/v1/metrics/video_start_failures?cdn=b").await;
    let v = get_json(&app, "/v1/views?cdn=b&outcome=start_failure").await;
    assert_eq!(
        m["rows"][0][1],
        json!(v["rows"].as_array().expect("rows").len())
    );
    let v = get_json(&app, "/v1/views?outcome=start_failure,exit_before_start").await;
    assert_eq!(heads(&v, 1), vec![vec![json!("D")], vec![json!("C")]]);
    // the slowest starts first, in pages; views that never started last
    let v = get_json(&app, "/v1/views?sort=startup&limit=2").await;
    assert_eq!(heads(&v, 1), vec![vec![json!("B")], vec![json!("F")]]);
    assert_eq!(v["more"], true);
    let v = get_json(&app, "/v1/views?sort=startup&limit=2&offset=2").await;
    assert_eq!(heads(&v, 1), vec![vec![json!("A")], vec![json!("E")]]);
    assert_eq!(v["more"], true);
    let v = get_json(&app, "/v1/views?sort=startup&limit=2&offset=4").await;
    assert_eq!(heads(&v, 1), vec![vec![json!("C")], vec![json!("D")]]);
    assert_eq!(v["more"], false);
    // a window: the second day is F
    let v = get_json(&app, "/v1/views?from=2026-03-03&to=2026-03-04").await;
    assert_eq!(
        heads(&v, 7),
        vec![vec![
            json!("F"),
            json!("2026-03-03T10:00:00.000Z"),
            json!("u4"),
            json!("t2"),
            json!("completed"),
            json!(2000),
            json!(30_000)
        ]]
    );
    // in CSV, the header says more follow
    let r = tower::ServiceExt::oneshot(
        app.clone(),
        axum::http::Request::get("/v1/views?sort=stall&limit=1&format=csv")
            .body(axum::body::Body::empty())
            .expect("req"),
    )
    .await
    .expect("response");
    assert_eq!(
        r.headers()
            .get(showrunner_warehouse::api::MORE_HEADER)
            .map(|v| v.as_bytes()),
        Some(&b"true"[..])
    );
    let (s, csv) = get(&app, "/v1/views?sort=stall&limit=1&format=csv").await;
    assert_eq!(s, 200);
    let mut lines = csv.lines();
    assert!(
        lines
            .next()
            .expect("header")
            .starts_with("view_id,start,user_id,title_id,outcome,")
    );
    // B: a stall from 110,000 left open until its last event at 130,000
    assert!(
        lines
            .next()
            .expect("B")
            .starts_with("B,2026-03-02T10:01:40.000Z,u2,t1,played,3000,7000,20000,1,"),
        "{csv}"
    );
    for (uri, field) in [
        ("/v1/views?limit=1001", "limit"),
        ("/v1/views?offset=-1", "offset"),
        ("/v1/views?outcome=lost", "outcome"),
        ("/v1/views?sort=title", "sort"),
        ("/v1/views?cdn=a%27", "cdn"),
    ] {
        let (s, code, f) = refused(&app, uri).await;
        assert_eq!((s, f.as_str()), (400, field), "{uri}: {code}");
    }

    // A's timeline: every event once (the duplicate in the second file
    // too), by time, with its own fields
    let t = get_json(&app, "/v1/views/A/timeline").await;
    assert_eq!(t["view"]["view_id"], "A");
    assert_eq!(t["view"]["outcome"], "completed");
    let events = t["events"].as_array().expect("events");
    let steps: Vec<(&str, i64)> = events
        .iter()
        .map(|e| {
            (
                e["event_type"].as_str().expect("type"),
                e["offset_ms"].as_i64().expect("offset"),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("play_requested", 0),
            ("first_frame", 1_000),
            ("bitrate_changed", 1_000),
            ("rebuffer_start", 10_000),
            ("rebuffer_end", 12_000),
            ("seek", 20_000),
            ("rebuffer_start", 21_000),
            ("rebuffer_end", 21_500),
            ("bitrate_changed", 30_000),
            ("pause", 40_000),
            ("resume", 50_000),
            ("view_ended", 61_000),
        ]
    );
    assert_eq!(events[0]["at"], "2026-03-02T10:00:00.000Z");
    // a play request carries the view's context; other events their own fields
    assert_eq!(events[0]["fields"]["cdn"], "a");
    assert_eq!(events[0]["fields"]["network_type"], "wifi");
    assert_eq!(events[1]["fields"], json!({}));
    assert_eq!(events[2]["fields"], json!({"bitrate_kbps": 3000}));
    assert_eq!(
        events[5]["fields"],
        json!({"from_ms": 100, "to_ms": 900_000})
    );
    assert_eq!(events[11]["fields"], json!({"reason": "completed"}));
    // E's errors: one not fatal, then a fatal one
    let t = get_json(&app, "/v1/views/E/timeline").await;
    let errors: Vec<&Value> = t["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["event_type"] == "error")
        .map(|e| &e["fields"])
        .collect();
    assert_eq!(
        errors,
        [
            &json!({"code": "Y", "fatal": false}),
            &json!({"code": "Z", "fatal": true})
        ]
    );
    for uri in [
        "/v1/views/nope/timeline",
        "/v1/views/A%27%20OR%201=1/timeline",
    ] {
        assert_eq!(
            refused(&app, uri).await,
            (404, "unknown_view".to_owned(), "view".to_owned()),
            "{uri}"
        );
    }
}

#[tokio::test]
async fn a_repeated_event_keeps_its_earliest_received_copy() {
    // one play request stored twice, the copies told apart by their CDN
    let copy = |cdn: &str, occurred_after: i64, received_after: i64| {
        common::event(&json!({
            "event_id": "0195a000-0000-7000-8000-0000000c0b1e",
            "event_type": "play_requested", "schema_version": 1,
            "occurred_at": showrunner_events::Timestamp(T0 + occurred_after).to_string(),
            "received_at": showrunner_events::Timestamp(T0 + received_after).to_string(),
            "user_id": "u1", "view_id": "X", "title_id": "t1",
            "device_type": "tv", "os": "tizen", "player_name": "shaka", "player_version": "4",
            "app_version": "5.12.0", "cdn": cdn, "country": "FR", "isp": "Orange",
            "network_type": "wifi"
        }))
    };
    let cdn = async |lake: &Lake| {
        let (_, b) = showrunner_warehouse::query::run(lake, "SELECT cdn FROM views")
            .await
            .expect("views");
        output::rows(&b).expect("rows")
    };
    // the earliest received wins, whichever file holds it; on a tie of
    // received_at, the earliest occurred
    for (first, second) in [
        (copy("late", 0, 9_000), copy("early", 0, 200)),
        (copy("early", 0, 200), copy("late", 0, 9_000)),
        (copy("late", 50, 200), copy("early", 0, 200)),
        (copy("early", 0, 200), copy("late", 50, 200)),
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        write(dir.path(), Family::Player, &[first], 1);
        write(dir.path(), Family::Player, &[second], 2);
        // through the `player` view's window, and through the prepared
        // projections (the raw files read once, copies chosen in one pass)
        let plain = Lake::open(dir.path()).await.expect("lake");
        assert_eq!(cdn(&plain).await, vec![vec![json!("early")]]);
        let prepared = Lake::open(dir.path()).await.expect("lake");
        let all: Vec<_> = metrics::METRICS.iter().collect();
        prepared.prepare(&all).await.expect("prepare");
        assert_eq!(cdn(&prepared).await, vec![vec![json!("early")]]);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn segments_are_ranked_by_their_negative_impact() {
    let (_d, app) = api().await;
    // day 1: 2 failures in 5 views (0.4); cdn a 1 in 3, cdn b 1 in 2
    let v = get_json(&app, "/v1/metrics/playback_failures?by=cdn&impact=true").await;
    assert_eq!(
        v["columns"],
        json!([
            "bucket",
            "cdn",
            "failed_views",
            "views",
            "failure_rate",
            "impact"
        ])
    );
    close(&v["rows"][0][5], (1.0 / 3.0 - 0.4) * 3.0 / 5.0);
    close(&v["rows"][1][5], (0.5 - 0.4) * 2.0 / 5.0);
    close(&v["rows"][2][5], 0.0); // day 2: F alone is the total
    // the median start: day 1 [500, 1000, 3000] → 1000; cdn a [500, 1000] → 500, cdn b 3000
    let v = get_json(&app, "/v1/metrics/video_startup_time?by=cdn&impact=true").await;
    close(&v["rows"][0][7], (500.0 - 1000.0) * 2.0 / 3.0);
    close(&v["rows"][1][7], (3000.0 - 1000.0) / 3.0);
    // the rebuffering ratio is weighed by stalled + played time, and a
    // bucket's impacts sum to 0: a (A, E) 2,000 / 109,500; b (B) 20,000 / 27,000
    let v = get_json(&app, "/v1/metrics/rebuffering_ratio?by=cdn&impact=true").await;
    let total = 22_000.0 / 136_500.0;
    let (ia, ib) = (
        (2_000.0 / 109_500.0 - total) * 109_500.0 / 136_500.0,
        (20_000.0 / 27_000.0 - total) * 27_000.0 / 136_500.0,
    );
    close(&v["rows"][0][5], ia);
    close(&v["rows"][1][5], ib);
    assert!((ia + ib).abs() < 1e-12);
    assert!(ib > 0.0, "cdn b worsens the total");
    for uri in [
        "/v1/metrics/watch_hours?by=cdn&impact=true",
        "/v1/metrics/playback_failures?impact=true",
        "/v1/metrics/playback_failures?by=cdn&impact=yes",
    ] {
        assert_eq!(
            refused(&app, uri).await,
            (400, "bad_parameter".to_owned(), "impact".to_owned()),
            "{uri}"
        );
    }
    // impact=false is the plain answer
    let plain = get_json(&app, "/v1/metrics/playback_failures?by=cdn").await;
    let off = get_json(&app, "/v1/metrics/playback_failures?by=cdn&impact=false").await;
    assert_eq!(plain, off);
}
