//! One analyst cannot take the server down: a query that would run for
//! hours (a three-way cross join of the player family) gets its 408 at the
//! time limit (8 s: room for the metric below on a loaded machine), other
//! requests are answered while it runs, and once it is
//! refused the process stops spending CPU on it.

mod common;

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::json;
use showrunner_warehouse::api::{self, ApiState, QueryLimits};
use tower::ServiceExt;

async fn status(app: &axum::Router, req: Request<Body>) -> (StatusCode, String) {
    let r = app.clone().oneshot(req).await.expect("response");
    let s = r.status();
    let body = axum::body::to_bytes(r.into_body(), usize::MAX)
        .await
        .expect("body");
    (s, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runaway_query_is_refused_and_stops_costing_cpu() {
    let start = chrono::NaiveDate::from_ymd_opt(2026, 1, 20).expect("date");
    let dir = common::simulated_lake(40, 20, 3, start, 300);
    let app = api::router(ApiState::new(
        dir.path().to_path_buf(),
        QueryLimits {
            memory_bytes: 1 << 30,
            timeout: Duration::from_secs(8),
            ..QueryLimits::default()
        },
    ));
    // the projections computed before, as on a server already in use
    let metric = "/v1/metrics/active_users?from=2026-01-25&to=2026-01-26";
    let (s, b) = status(&app, Request::get(metric).body(Body::empty()).expect("req")).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let runaway = {
        let app = app.clone();
        tokio::spawn(async move {
            let req = Request::post("/v1/sql")
                .header("content-type", "application/json")
                .body(Body::from(
                    json!({"sql": "SELECT count(*) FROM player a, player b, player c"}).to_string(),
                ))
                .expect("req");
            let answer = status(&app, req).await;
            (answer, Instant::now())
        })
    };
    // while it runs, the metric list and a metric are answered
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (s, b) = status(&app, Request::get(metric).body(Body::empty()).expect("req")).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert!(
        !runaway.is_finished(),
        "the metric was answered while the runaway query still ran"
    );
    let ((s, b), refused_at) = runaway.await.expect("runaway task");
    assert_eq!(s, StatusCode::REQUEST_TIMEOUT, "{b}");
    // the work stops with the refusal: over a window starting a second
    // after it, the process is about idle
    tokio::time::sleep_until((refused_at + Duration::from_secs(1)).into()).await;
    let (cpu, wall) = (showrunner_testkit::proc::cpu_seconds(None), Instant::now());
    tokio::time::sleep(Duration::from_secs(3)).await;
    let used = showrunner_testkit::proc::cpu_seconds(None) - cpu;
    let window = wall.elapsed().as_secs_f64();
    assert!(
        used < 0.25 * window,
        "{used:.2} CPU seconds spent in the {window:.1} s after the query was refused"
    );
}
