//! The collector over a real socket (`showrunner serve` as a process):
//! auth, size limits, unparseable bodies, mixed batches, health, metrics,
//! and a NATS outage: 503 while down, nothing published before it lost.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::*;
use serde_json::{Value, json};
use showrunner_bus::server::free_port;

const KEY: &str = "test-ingest-key-1";
const ANALYST: &str = "test-analyst-key-1";

/// `serve` with keys of its own (hashed in its config file), not the
/// development ones.
async fn serve(h: &Harness) -> Server {
    let config = h.config_with_keys(
        &[("player", "ingest", KEY), ("analyst", "analyst", ANALYST)],
        "",
    );
    serve_process(&h.url(), &h.lake(), &[("SHOWRUNNER_CONFIG", &config)]).await
}

async fn post(
    base: &str,
    key: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> (u16, Option<String>, Value) {
    let mut r = reqwest::Client::new()
        .post(format!("{base}/v1/events"))
        .body(body);
    if let Some(k) = key {
        r = r.bearer_auth(k);
    }
    let resp = r.send().await.expect("request");
    let status = resp.status().as_u16();
    let retry = resp
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().expect("ascii").to_owned());
    let body = resp.json().await.unwrap_or(Value::Null);
    (status, retry, body)
}

fn lake_ids(lake: &std::path::Path) -> HashSet<String> {
    showrunner_lake::read::read_lake(lake)
        .expect("lake")
        .into_iter()
        .map(|w| w.event_id.expect("id"))
        .collect()
}

fn accepted_ids(body: &Value) -> Vec<String> {
    body["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter(|r| r["status"] == "accepted")
        .map(|r| r["event_id"].as_str().expect("id").to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn collector_contract_over_a_real_socket() {
    let mut h = Harness::new();
    let s = serve(&h).await;
    let base = s.base.clone();
    let http = reqwest::Client::new();
    assert_eq!(
        http.get(format!("{base}/healthz"))
            .send()
            .await
            .expect("h")
            .status(),
        200
    );

    let one = json!([fresh_heartbeat(1)]).to_string();
    // auth
    let (st, _, body) = post(&base, None, one.clone()).await;
    assert_eq!(st, 401);
    assert_eq!(body["error"]["code"], "unauthorized", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .expect("error")
            .contains("role ingest")
    );
    assert_eq!(post(&base, Some("wrong-key-123"), one.clone()).await.0, 401);
    // the analyst's key holds no ingest role
    let (st, _, body) = post(&base, Some(ANALYST), one.clone()).await;
    assert_eq!(st, 403);
    assert_eq!(body["error"]["code"], "forbidden", "{body}");
    // sizes
    assert_eq!(
        post(&base, Some(KEY), vec![b' '; 1024 * 1024 + 10]).await.0,
        413
    );
    let many = Value::Array((0..1001).map(fresh_heartbeat).collect()).to_string();
    assert_eq!(post(&base, Some(KEY), many).await.0, 413);
    // unparseable
    let (st, _, body) = post(&base, Some(KEY), "{{{ not json").await;
    assert_eq!(st, 400);
    assert_eq!(body["error"]["code"], "bad_body", "{body}");
    // mixed batch: per-event results naming the field
    let mut bad = fresh_heartbeat(2);
    bad["bitrate_kbps"] = json!(-5);
    let mut unknown = fresh_heartbeat(3);
    unknown["event_type"] = json!("teleport");
    let (st, _, body) = post(
        &base,
        Some(KEY),
        json!([fresh_heartbeat(4), bad, unknown, fresh_heartbeat(5)]).to_string(),
    )
    .await;
    assert_eq!(st, 207, "{body}");
    assert_eq!(body["accepted"], 2);
    assert_eq!(body["rejected"], 2);
    assert_eq!(body["results"][1]["field"], "bitrate_kbps");
    assert_eq!(body["results"][2]["field"], "event_type");
    let mut stored: Vec<String> = accepted_ids(&body);
    // all invalid → 400 with results
    let mut bad = fresh_heartbeat(6);
    bad.as_object_mut().expect("o").remove("position_ms");
    let (st, _, body) = post(&base, Some(KEY), json!([bad]).to_string()).await;
    assert_eq!(st, 400);
    assert_eq!(body["results"][0]["field"], "position_ms");
    // NDJSON, all valid → 200, ids assigned
    let nd = (10..20)
        .map(|i| fresh_heartbeat(i).to_string())
        .collect::<Vec<_>>()
        .join("\n");
    let (st, _, body) = post(&base, Some(KEY), nd).await;
    assert_eq!(st, 200, "{body}");
    stored.extend(accepted_ids(&body));
    assert_eq!(stored.len(), 12);
    // metrics
    let m = get_text(&format!("{base}/metrics")).await;
    let parsed = parse_metrics(&m);
    assert_eq!(parsed["showrunner_events_accepted_total"], 12.0, "{m}");
    assert_eq!(parsed["showrunner_events_rejected_total"], 3.0, "{m}");
    assert_eq!(parsed["showrunner_nats_up"], 1.0, "{m}");
    // every request so far, by declared route and status: 12 stored in
    // posts that all answered 200 or 207, each counted and timed
    let posts: f64 = parsed
        .iter()
        .filter(|(k, _)| {
            k.starts_with("showrunner_http_requests_total{") && k.contains(r#"route="/v1/events""#)
        })
        .map(|(_, v)| v)
        .sum();
    assert!(posts >= 2.0, "{m}");
    let timed: f64 = parsed
        .iter()
        .filter(|(k, _)| {
            k.starts_with("showrunner_http_request_duration_seconds_count{")
                && k.contains(r#"route="/v1/events""#)
        })
        .map(|(_, v)| v)
        .sum();
    assert_eq!(timed, posts, "every counted request is timed");

    // an ingest worker runs through the outage
    let metrics_port = free_port().expect("port").to_string();
    let metrics_bind = format!("127.0.0.1:{metrics_port}");
    let mut worker = spawn_ingest(&h.url(), &h.lake(), &["--metrics-bind", &metrics_bind]);
    let lake = h.lake();
    eventually(30, "the worker to ingest the first events", async || {
        lake_ids(&lake).len() == stored.len()
    })
    .await;

    // NATS down: 503 + Retry-After, readiness fails
    h.server.stop();
    let (st, retry, body) = post(&base, Some(KEY), json!([fresh_heartbeat(30)]).to_string()).await;
    assert_eq!(st, 503, "{body}");
    assert_eq!(retry.as_deref(), Some("1"));
    assert_eq!(body["results"][0]["status"], "unavailable");
    // (an answer of /readyz is reused for a second)
    eventually(10, "readiness to fail", async || {
        http.get(format!("{base}/readyz"))
            .send()
            .await
            .expect("r")
            .status()
            == 503
    })
    .await;

    // NATS back: the same client reconnects and publishing works again
    h.server.restart().expect("restart");
    let mut after = Vec::new();
    eventually(30, "the collector to accept again", async || {
        let (st, _, body) = post(&base, Some(KEY), json!([fresh_heartbeat(40)]).to_string()).await;
        if st == 200 {
            after.extend(accepted_ids(&body));
        }
        st == 200
    })
    .await;
    stored.extend(after);

    // the same worker resumes: everything acknowledged before and after the
    // outage reaches the lake, once
    let want: HashSet<String> = stored.iter().cloned().collect();
    eventually(60, "the worker to resume after the outage", async || {
        lake_ids(&lake) == want
    })
    .await;
    let rows = showrunner_lake::read::read_lake(&h.lake())
        .expect("lake")
        .len();
    assert_eq!(rows, stored.len(), "no duplicates");

    // the query API reads the same lake, behind the analyst key
    let sql = json!({"sql": "SELECT count(*) AS n FROM player"}).to_string();
    for (key, status) in [
        (None, 401),
        (Some("wrong-analyst-key"), 401),
        (Some(KEY), 403), // a known key without the analyst role
    ] {
        let mut req = http.post(format!("{base}/v1/sql")).body(sql.clone());
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        let r = req.send().await.expect("sql");
        assert_eq!(r.status(), status, "{key:?}");
    }
    let r = http
        .post(format!("{base}/v1/sql"))
        .bearer_auth(ANALYST)
        .body(sql)
        .send()
        .await
        .expect("sql");
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["rows"][0][0], json!(stored.len()), "{v}");
    let r = http
        .get(format!("{base}/v1/metrics/playback_failures"))
        .bearer_auth(ANALYST)
        .send()
        .await
        .expect("metric");
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.expect("json");
    assert_eq!(
        v["columns"],
        json!(["bucket", "failed_views", "views", "failure_rate"])
    );
    assert_eq!(
        http.get(format!("{base}/v1/metrics"))
            .send()
            .await
            .expect("list")
            .status(),
        401
    );
    let worker_metrics = get_text(&format!("http://{metrics_bind}/metrics")).await;
    let parsed = parse_metrics(&worker_metrics);
    assert_eq!(
        parsed["showrunner_events_ingested_total"],
        stored.len() as f64,
        "{worker_metrics}"
    );
    // the worker reports its own lag (asked from NATS every second):
    // nothing left once it ingested all
    eventually(10, "the worker's lag to reach 0", async || {
        let m = get_text(&format!("http://{metrics_bind}/metrics")).await;
        parse_metrics(&m)["showrunner_ingest_lag_messages"] == 0.0
    })
    .await;
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &worker.id().to_string()])
        .status();
    assert!(
        worker.wait().expect("exit").success(),
        "the worker exits cleanly on SIGTERM"
    );
    drop(s);
    tokio::time::sleep(Duration::from_millis(10)).await;
}
