//! One analyst cannot take the server down, on the composed app: while an
//! analyst's cross join of the player family runs in `showrunner serve`
//! (collector, API and recommendations in one process), `/healthz`, the
//! collector and the recommendations are answered; the join gets its 408
//! at the time limit; and the server process then goes back to idle.
//!
//! Latencies are printed (before and during the join), not asserted: each
//! request only has to be answered while the join is still running, within
//! a liveness bound far above any normal answer.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};

const ANALYST: &str = "dev-analyst-key";
const APP: &str = "dev-app-key";
const INGEST: &str = "dev-ingest-key";

/// The three everyday requests, each answered 2xx within `bound`: their
/// latencies in ms (healthz, collector, recommendations).
async fn everyday(
    http: &reqwest::Client,
    base: &str,
    user: &str,
    n: usize,
    bound: Duration,
) -> [f64; 3] {
    let timed = async |req: reqwest::RequestBuilder, what: &str| {
        let t = Instant::now();
        let r = req
            .timeout(bound)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{what} not answered within {bound:?}: {e}"));
        let status = r.status();
        let body = r.text().await.expect("body");
        assert!(status.is_success(), "{what}: {status} {body}");
        (t.elapsed().as_secs_f64() * 1e3, body)
    };
    let (recs_ms, recs) = timed(
        http.get(format!("{base}/v1/users/{user}/recommendations?k=10"))
            .bearer_auth(APP),
        "the recommendations",
    )
    .await;
    let recs: Value = serde_json::from_str(&recs).expect("json");
    assert_eq!(recs["items"].as_array().map(Vec::len), Some(10), "{recs}");
    [
        timed(http.get(format!("{base}/healthz")), "/healthz")
            .await
            .0,
        timed(
            http.post(format!("{base}/v1/events"))
                .bearer_auth(INGEST)
                .json(&json!([fresh_heartbeat(n)])),
            "the collector",
        )
        .await
        .0,
        recs_ms,
    ]
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runaway_query_leaves_the_rest_of_the_app_answering() {
    let h = Harness::new();
    let (_client, js) = h.js().await;
    let events = sim_events(40, 20, 11);
    let user = events
        .iter()
        .find_map(|e| e.envelope.user_id.clone())
        .expect("a user");
    publish(&js, &events).await;
    ingest_drain(&h.url(), &h.lake(), &[]);
    train(&h.lake());
    let server = serve_process(
        &h.url(),
        &h.lake(),
        &[("SHOWRUNNER_WAREHOUSE_QUERY_TIMEOUT_SECS", "8")],
    )
    .await;
    let base = server.base.clone();
    let pid = server.child.id();
    let http = reqwest::Client::new();
    let bound = Duration::from_secs(5);

    // usual latencies, with the projections already computed
    let r = http
        .get(format!("{base}/v1/metrics/active_users"))
        .bearer_auth(ANALYST)
        .send()
        .await
        .expect("metric");
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    let mut before = Vec::new();
    for n in 0..10 {
        before.push(everyday(&http, &base, &user, n, bound).await);
    }

    let runaway = {
        let (http, base) = (http.clone(), base.clone());
        tokio::spawn(async move {
            let r = http
                .post(format!("{base}/v1/sql"))
                .bearer_auth(ANALYST)
                .json(&json!({"sql": "SELECT count(*) FROM player a, player b, player c"}))
                .send()
                .await
                .expect("the runaway query is answered");
            let status = r.status();
            (status, r.text().await.unwrap_or_default(), Instant::now())
        })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut during = Vec::new();
    for n in 10..20 {
        during.push(everyday(&http, &base, &user, n, bound).await);
    }
    assert!(
        !runaway.is_finished(),
        "the everyday requests were answered while the runaway query still ran"
    );
    let (status, body, refused_at) = runaway.await.expect("runaway task");
    assert_eq!(status, 408, "{body}");
    let pick = |xs: &[[f64; 3]], i: usize| median(xs.iter().map(|x| x[i]).collect());
    println!(
        "{}",
        json!({
            "median_ms_before": {"healthz": pick(&before, 0), "collector": pick(&before, 1), "recommendations": pick(&before, 2)},
            "median_ms_during": {"healthz": pick(&during, 0), "collector": pick(&during, 1), "recommendations": pick(&during, 2)},
        })
    );

    // the server stops working on it: over a window starting a second after
    // the refusal, it is about idle
    tokio::time::sleep_until((refused_at + Duration::from_secs(1)).into()).await;
    let (cpu, wall) = (
        showrunner_testkit::proc::cpu_seconds(Some(pid)),
        Instant::now(),
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    let used = showrunner_testkit::proc::cpu_seconds(Some(pid)) - cpu;
    let window = wall.elapsed().as_secs_f64();
    assert!(
        used < 0.25 * window,
        "the server spent {used:.2} CPU seconds in the {window:.1} s after the query was refused"
    );
}
