//! `showrunner serve --roles`: a process serves only the routes of its
//! HTTP roles, and the periodic roles (materializer, compactor) run outside
//! `standalone` — here beside the ingest role, with no HTTP at all.

mod common;

use std::process::Stdio;

use common::{Harness, bin, eventually, publish, serve_roles, sim_events};
use showrunner_lake::{Layout, listing};

const INGEST: &str = "Bearer dev-ingest-key";
const ANALYST: &str = "Bearer dev-analyst-key";

/// An event the collector takes: the contract's heartbeat example, now.
fn body() -> String {
    let mut e = showrunner_events::examples::examples()
        .into_iter()
        .find(|e| e.event_type() == "heartbeat")
        .expect("example");
    e.envelope.occurred_at = showrunner_events::Timestamp::now();
    serde_json::to_string(&[e]).expect("json")
}

#[tokio::test]
async fn http_roles_serve_only_their_routes() {
    let h = Harness::new();
    let http = reqwest::Client::new();
    let post = |base: String| {
        http.post(format!("{base}/v1/events"))
            .header("Authorization", INGEST)
            .body(body())
            .send()
    };
    let mrr = |base: String| {
        http.get(format!("{base}/v1/metrics/mrr"))
            .header("Authorization", ANALYST)
            .send()
    };

    let collector = serve_roles(&h.url(), &h.lake(), "collector", &[]).await;
    let r = post(collector.base.clone()).await.expect("post");
    assert!(
        r.status().is_success(),
        "collector takes events: {}",
        r.status()
    );
    let r = mrr(collector.base.clone()).await.expect("get");
    assert_eq!(r.status(), 404, "no analysts' API on a collector");
    drop(collector);

    let api = serve_roles(&h.url(), &h.lake(), "api", &[]).await;
    let r = post(api.base.clone()).await.expect("post");
    assert!(
        r.status() == 404 || r.status() == 405,
        "no collector on an api node: {}",
        r.status()
    );
    let r = mrr(api.base.clone()).await.expect("get");
    assert_eq!(r.status(), 200, "the analysts' API answers");
    for path in ["/healthz", "/readyz", "/metrics"] {
        let r = http
            .get(format!("{}{path}", api.base))
            .send()
            .await
            .expect("ops");
        assert_eq!(r.status(), 200, "{path} on every HTTP node");
    }

    let bad = bin()
        .args(["serve", "--roles", "collector,cook"])
        .output()
        .expect("runs");
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("unknown role `cook`"), "{err}");
}

#[tokio::test]
async fn periodic_roles_run_outside_standalone() {
    let h = Harness::new();
    let (_c, js) = h.js().await;
    publish(&js, &sim_events(30, 20, 5)).await;
    let lake = h.lake();
    let mut child = bin()
        .env("SHOWRUNNER_WAREHOUSE_MATERIALIZE_EVERY_SECS", "1")
        .env("SHOWRUNNER_LAKE_COMPACT_EVERY_SECS", "1")
        .args([
            "serve",
            "--roles",
            "ingest,materializer,compactor",
            "--nats",
            &h.url(),
            "--lake",
        ])
        .arg(&lake)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let layout = Layout::new(&lake);
    // the metric tables appear without standalone (or `metrics
    // materialize`) ever running
    let (dir, name) = layout.materialize_state();
    eventually(120, "the materializer to write metric tables", async || {
        dir.join(name).exists()
    })
    .await;
    // the simulated days are long closed: each partition ends as one file
    eventually(
        120,
        "the compactor to compact the closed partitions",
        async || {
            let files = listing::event_files(&layout).expect("list");
            let mut per: std::collections::BTreeMap<(String, String), usize> = Default::default();
            for f in &files {
                *per.entry((f.family.to_string(), f.date.clone()))
                    .or_default() += 1;
            }
            !files.is_empty() && per.values().all(|&n| n == 1)
        },
    )
    .await;
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn the_development_keys_are_refused_off_loopback() {
    // refused before the listener is bound: nothing listens on 0.0.0.0
    let out = bin()
        .args([
            "serve",
            "--roles",
            "collector",
            "--nats",
            "nats://127.0.0.1:1",
            "--bind",
            "0.0.0.0:0",
        ])
        .output()
        .expect("runs");
    assert!(
        !out.status.success(),
        "serve must refuse the public dev keys"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("dev-ingest") && err.contains("showrunner keys new"),
        "{err}"
    );
}

#[test]
fn logs_are_json_lines_when_asked() {
    use std::io::BufRead;
    let h = Harness::new();
    let port = showrunner_bus::server::free_port().expect("port");
    let mut child = bin()
        .env("SHOWRUNNER_LOG_FORMAT", "json")
        .env("SHOWRUNNER_LOG", "info")
        .args([
            "serve",
            "--roles",
            "collector",
            "--nats",
            &h.url(),
            "--bind",
        ])
        .arg(format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let mut seen = Vec::new();
    let started = loop {
        let line = rx
            .recv_timeout(std::time::Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("no `http roles started` log line: {seen:?}"));
        let v: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"));
        assert!(v["level"].is_string() && v["timestamp"].is_string(), "{v}");
        seen.push(line);
        if v["message"] == "http roles started" {
            break v;
        }
    };
    assert_eq!(started["roles"], "collector", "{started}");
    let _ = child.kill();
    let _ = child.wait();
}
