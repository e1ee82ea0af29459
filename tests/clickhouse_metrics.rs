//! The metric suite on ClickHouse agrees with DataFusion over the lake: a
//! simulated audience goes through NATS into both sinks (with every 40th
//! event delivered twice, merges stopped so the copies stay apart), and
//! every metric under several buckets, windows and breakdowns must match:
//! counts and percentiles exactly, ratios and money to 1e-9 relative. The
//! CLI computes the suite in one session over temporary tables, the API one
//! query per metric with the projections inlined: both paths are compared.

mod common;

use std::collections::BTreeMap;

use common::*;
use serde_json::Value;
use showrunner_ingest::publish::{Outgoing, publish_all};
use showrunner_testkit::rows;

/// Parameter sets: default, hourly window, weekly by two dimensions,
/// monthly by plan, daily by title in a window, monthly in a window that
/// cuts months, daily filtered on two CDNs and an app version by device in
/// a window, weekly filtered on two plans by CDN (the view metrics only:
/// the others take no filters and are left out of the last two).
const PARAMS: &[&[&str]] = &[
    &[],
    &[
        "--bucket",
        "hour",
        "--from",
        "2026-04-10",
        "--to",
        "2026-04-12",
    ],
    &["--bucket", "week", "--by", "country", "--by", "device"],
    &["--bucket", "month", "--by", "plan"],
    &[
        "--bucket",
        "day",
        "--by",
        "title",
        "--from",
        "2026-05-01",
        "--to",
        "2026-05-08",
    ],
    &[
        "--bucket",
        "month",
        "--from",
        "2026-04-15",
        "--to",
        "2026-06-20",
    ],
    &[
        "--bucket",
        "day",
        "--from",
        "2026-04-01",
        "--to",
        "2026-04-15",
        "--where",
        "cdn=fastpath,cloudreach",
        "--where",
        "app_version=5.12.0",
        "--by",
        "device",
    ],
    &[
        "--bucket",
        "week",
        "--where",
        "plan=premium,standard",
        "--by",
        "cdn",
    ],
    // the views' bands, as a filter and as a breakdown
    &[
        "--bucket",
        "week",
        "--where",
        "startup=1_2s,2_4s",
        "--by",
        "rebuffering",
    ],
];

/// Every metric's JSON object (`columns`, `rows`), by name.
fn metrics(engine_args: &[&str], params: &[&str]) -> BTreeMap<String, Value> {
    let out = bin()
        .args(["metrics", "--format", "json"])
        .args(engine_args)
        .args(params)
        .output()
        .expect("run metrics");
    assert!(
        out.status.success(),
        "metrics {engine_args:?} {params:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    json_lines(&out)
        .into_iter()
        .map(|m| (m["metric"].as_str().expect("metric").to_owned(), m))
        .collect()
}

fn compare(what: &str, a: &BTreeMap<String, Value>, b: &BTreeMap<String, Value>) {
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        b.keys().collect::<Vec<_>>(),
        "{what}: metrics"
    );
    for (name, x) in a {
        let y = &b[name];
        assert_eq!(x["columns"], y["columns"], "{what} {name}: columns");
        assert_eq!(x["params"], y["params"], "{what} {name}: params");
        let (rx, ry) = (rows::of_json(&x["rows"]), rows::of_json(&y["rows"]));
        if let Some(d) = rows::first_difference(&rx, &ry, 1e-9) {
            panic!("{what} {name}: DataFusion vs ClickHouse: {d}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_metric_agrees_between_datafusion_and_clickhouse() {
    let h = Harness::new();
    let ch = ClickHouse::start().await;
    let (_client, js) = h.js().await;
    let lake = h.lake();
    let lake_s = lake.to_str().expect("utf8 path");
    let ch_url = ch.url();
    let on_ch = ["--engine", "clickhouse", "--clickhouse", &ch_url];

    // three and a half months of an audience (March to mid-June)
    let t = std::time::Instant::now();
    let mut events = sim_events(120, 105, 21);
    // and the player events of every 50th view again, as another view
    // without a viewer (anonymous views count as views, never as users)
    let anonymous: std::collections::HashSet<String> = events
        .iter()
        .filter_map(|e| e.envelope.view_id.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .step_by(50)
        .collect();
    let copies: Vec<_> = events
        .iter()
        .filter(|e| {
            matches!(e.payload, showrunner_events::types::Payload::Player(_))
                && e.envelope
                    .view_id
                    .as_ref()
                    .is_some_and(|v| anonymous.contains(v))
        })
        .map(|e| {
            let mut a = e.clone();
            a.envelope.event_id = uuid::Uuid::from_u128(e.envelope.event_id.as_u128() ^ 1);
            a.envelope.user_id = None;
            a.envelope.view_id = a.envelope.view_id.map(|v| format!("{v}-anon"));
            a
        })
        .collect();
    assert!(copies.len() > 50, "{} anonymous events", copies.len());
    events.extend(copies);
    publish(&js, &events).await;
    eprintln!("{} events published at {:?}", events.len(), t.elapsed());
    ingest_drain(
        &h.url(),
        &lake,
        &["--clickhouse", &ch_url, "--batch-max", "5000"],
    );
    eprintln!("ingested at {:?}", t.elapsed());
    let clean: Vec<BTreeMap<String, Value>> = PARAMS.iter().map(|p| metrics(&on_ch, p)).collect();

    // every metric has rows by default, so the comparisons below bite
    for (name, m) in &clean[0] {
        assert!(
            !m["rows"].as_array().expect("rows").is_empty(),
            "{name} has no rows"
        );
    }
    assert_eq!(clean[0].len(), 24);
    // the filtered sets keep some views, and only the view metrics
    for filtered in &clean[6..] {
        assert_eq!(filtered.len(), 14, "{:?}", filtered.keys());
        for name in [
            "watch_hours",
            "video_startup_time",
            "concurrent_viewers",
            "rolling_active_users",
        ] {
            assert!(
                !filtered[name]["rows"].as_array().expect("rows").is_empty(),
                "{name} filtered has no rows"
            );
        }
    }
    eprintln!("ClickHouse metrics at {:?}", t.elapsed());

    // the same events delivered again (a new message id, so the stream
    // stores them): both stores hold two rows of each
    ch.query("SYSTEM STOP MERGES").await;
    let again: Vec<Outgoing> = events
        .iter()
        .step_by(40)
        .map(|e| {
            let mut m = Outgoing::event(e);
            m.msg_id.push_str("-again");
            m
        })
        .collect();
    let n_again = again.len() as u64;
    publish_all(&js, again.into_iter(), 1_024, |_| {})
        .await
        .expect("publish again");
    ingest_drain(
        &h.url(),
        &lake,
        &["--clickhouse", &ch_url, "--batch-max", "5000"],
    );
    let copies = ch
        .query(
            "SELECT (SELECT count() - uniqExact(event_id) FROM showrunner.player) + \
             (SELECT count() - uniqExact(event_id) FROM showrunner.billing) + \
             (SELECT count() - uniqExact(event_id) FROM showrunner.watch) + \
             (SELECT count() - uniqExact(event_id) FROM showrunner.user) + \
             (SELECT count() - uniqExact(event_id) FROM showrunner.catalog) + \
             (SELECT count() - uniqExact(event_id) FROM showrunner.notification) FORMAT TSV",
        )
        .await;
    assert_eq!(copies.trim().parse::<u64>().expect("count"), n_again);

    // the HTTP API answers the same on either engine
    let server = serve_process(
        &h.url(),
        &lake,
        &[
            ("SHOWRUNNER_CLICKHOUSE_ENABLED", "true"),
            ("SHOWRUNNER_CLICKHOUSE_URL", &ch_url),
        ],
    )
    .await;
    let http = reqwest::Client::new();
    let get = async |q: &str| {
        let r = http
            .get(format!("{}/v1/metrics/{q}", server.base))
            .bearer_auth("dev-analyst-key")
            .send()
            .await
            .expect("get");
        let status = r.status().as_u16();
        (status, r.json::<Value>().await.expect("json"))
    };
    // the API runs one query per metric, projections inlined; the CLI runs
    // the suite in one session over temporary tables: the same rows
    for (name, want) in &clean[0] {
        let (status, via_ch) = get(&format!("{name}?engine=clickhouse")).await;
        assert_eq!(status, 200, "{via_ch}");
        assert_eq!(&via_ch, want, "{name}: API vs CLI");
    }
    let q = "mrr_movements?bucket=month";
    let (status, via_ch) = get(&format!("{q}&engine=clickhouse")).await;
    assert_eq!(status, 200, "{via_ch}");
    let (status, via_df) = get(&format!("{q}&engine=datafusion")).await;
    assert_eq!(status, 200, "{via_df}");
    compare(
        "API",
        &BTreeMap::from([("mrr_movements".to_owned(), via_df)]),
        &BTreeMap::from([("mrr_movements".to_owned(), via_ch)]),
    );
    // a filtered metric compared with the week before, on either engine
    let q = "watch_hours?from=2026-04-08&to=2026-04-15&compare=week&cdn=fastpath&by=device";
    let (status, via_ch) = get(&format!("{q}&engine=clickhouse")).await;
    assert_eq!(status, 200, "{via_ch}");
    let (status, via_df) = get(&format!("{q}&engine=datafusion")).await;
    assert_eq!(status, 200, "{via_df}");
    for part in [&via_df, &via_df["compare"]] {
        assert!(!part["rows"].as_array().expect("rows").is_empty(), "{part}");
    }
    for (x, y) in [(&via_df, &via_ch), (&via_df["compare"], &via_ch["compare"])] {
        let (rx, ry) = (rows::of_json(&x["rows"]), rows::of_json(&y["rows"]));
        if let Some(d) = rows::first_difference(&rx, &ry, 1e-9) {
            panic!("{q}: DataFusion vs ClickHouse: {d}");
        }
    }
    // segments ranked by their impact, on either engine
    let q = "playback_failures?by=cdn&impact=true";
    let (status, via_ch) = get(&format!("{q}&engine=clickhouse")).await;
    assert_eq!(status, 200, "{via_ch}");
    let (status, via_df) = get(&format!("{q}&engine=datafusion")).await;
    assert_eq!(status, 200, "{via_df}");
    assert_eq!(
        via_df["columns"].as_array().and_then(|c| c.last()),
        Some(&"impact".into())
    );
    let (rx, ry) = (
        rows::of_json(&via_df["rows"]),
        rows::of_json(&via_ch["rows"]),
    );
    if let Some(d) = rows::first_difference(&rx, &ry, 1e-9) {
        panic!("{q}: DataFusion vs ClickHouse: {d}");
    }
    let (status, err) = get("mrr?engine=duckdb").await;
    assert_eq!(status, 400, "{err}");
    drop(server);

    for (p, before) in PARAMS.iter().zip(&clean) {
        let on_clickhouse = metrics(&on_ch, p);
        // the copies change nothing on ClickHouse…
        assert_eq!(&on_clickhouse, before, "ClickHouse {p:?}: copies counted");
        // …and DataFusion over the lake (copies included) agrees with it
        let on_lake = metrics(&["--lake", lake_s], p);
        compare(&format!("{p:?}"), &on_lake, &on_clickhouse);
    }
}
