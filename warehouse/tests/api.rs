//! The query API through its router (`tower::ServiceExt::oneshot`, no
//! socket): the same rows as the library, the JSON errors, CSV, and the
//! per-query memory and time limits of `POST /v1/sql`.

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use showrunner_warehouse::api::{self, ApiState, QueryLimits};
use showrunner_warehouse::metrics::{self, Bucket, Params};
use showrunner_warehouse::{Lake, output};
use showrunner_web::ErrorBody;
use tower::ServiceExt;

fn lake() -> tempfile::TempDir {
    let start = chrono::NaiveDate::from_ymd_opt(2026, 1, 20).expect("date");
    common::simulated_lake(40, 20, 3, start, 300)
}

fn limits() -> QueryLimits {
    QueryLimits {
        memory_bytes: 256 << 20,
        timeout: Duration::from_secs(60),
        ..QueryLimits::default()
    }
}

async fn call(app: &axum::Router, req: Request<Body>) -> (StatusCode, String, String) {
    let r = app.clone().oneshot(req).await.expect("response");
    let status = r.status();
    let ctype = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap_or("").to_owned())
        .unwrap_or_default();
    let body = axum::body::to_bytes(r.into_body(), usize::MAX)
        .await
        .expect("body");
    (status, ctype, String::from_utf8_lossy(&body).into_owned())
}

async fn get(app: &axum::Router, uri: &str) -> (StatusCode, Value) {
    let (s, _, body) = call(app, Request::get(uri).body(Body::empty()).expect("req")).await;
    (
        s,
        serde_json::from_str(&body).unwrap_or_else(|_| panic!("json body: {body}")),
    )
}

async fn sql(app: &axum::Router, body: Value) -> (StatusCode, String) {
    let req = Request::post("/v1/sql")
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .expect("req");
    let (s, _, b) = call(app, req).await;
    (s, b)
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_over_http_are_the_library_rows() {
    let dir = lake();
    let app = api::router(ApiState::new(dir.path().to_path_buf(), limits()));
    let (s, list) = get(&app, "/v1/metrics").await;
    assert_eq!(s, StatusCode::OK);
    let names: Vec<&str> = list["metrics"]
        .as_array()
        .expect("list")
        .iter()
        .map(|m| m["name"].as_str().expect("name"))
        .collect();
    let want: Vec<&str> = metrics::METRICS.iter().map(|m| m.name).collect();
    assert_eq!(names, want);
    assert_eq!(list["metrics"][14]["name"], "mrr");
    assert_eq!(list["metrics"][14]["monthly_only"], true);
    assert_eq!(list["metrics"][14]["daily_only"], false);
    assert_eq!(list["metrics"][9]["name"], "active_users");
    assert_eq!(list["metrics"][10]["name"], "rolling_active_users");
    assert_eq!(list["metrics"][10]["daily_only"], true);

    let lib = Lake::open(dir.path()).await.expect("lake");
    for (uri, name, p) in [
        (
            "/v1/metrics/video_startup_time?bucket=week&by=cdn,device",
            "video_startup_time",
            Params {
                bucket: Bucket::Week,
                by: vec!["cdn".into(), "device".into()],
                ..Params::default()
            },
        ),
        (
            "/v1/metrics/watch_hours?from=2026-01-25&to=2026-02-03",
            "watch_hours",
            Params {
                from: Some(metrics::date("2026-01-25").expect("d")),
                to: Some(metrics::date("2026-02-03").expect("d")),
                ..Params::default()
            },
        ),
        (
            "/v1/metrics/mrr?by=plan",
            "mrr",
            Params {
                by: vec!["plan".into()],
                ..Params::default()
            },
        ),
    ] {
        let (s, got) = get(&app, uri).await;
        assert_eq!(s, StatusCode::OK, "{uri}: {got}");
        let m = metrics::find(name).expect("metric");
        let (cols, batches) = metrics::compute(&lib, m, &p).await.expect("computes");
        let rows = output::rows(&batches).expect("rows");
        assert!(!rows.is_empty(), "{uri}");
        assert_eq!(got["metric"], name);
        assert_eq!(got["columns"], json!(cols), "{uri}");
        // the library run plans without the prepared projections: doubles
        // may differ in the last bit
        common::same_rows(&got["rows"], &json!(rows));
        assert_eq!(
            got["params"],
            serde_json::to_value(m.effective(&p)).expect("params")
        );
    }
    assert_eq!(
        get(&app, "/v1/metrics/mrr?bucket=day").await.1["params"]["bucket"],
        "month",
        "monthly metrics say so"
    );

    let (s, _, csv) = call(
        &app,
        Request::get("/v1/metrics/active_users?format=csv")
            .body(Body::empty())
            .expect("req"),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(csv.starts_with("bucket,users\n2026-01-"), "{csv}");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_requests_are_4xx_json_with_a_code_and_the_reason() {
    let dir = lake();
    let app = api::router(ApiState::new(dir.path().to_path_buf(), limits()));
    let nf = StatusCode::NOT_FOUND;
    let bad = StatusCode::BAD_REQUEST;
    for (uri, status, code, field, reason) in [
        (
            "/v1/metrics/nope",
            nf,
            "unknown_metric",
            Some("name"),
            "unknown metric `nope`",
        ),
        (
            "/v1/metrics/watch_hours?by=colour",
            bad,
            "unknown_dimension",
            Some("by"),
            "unknown dimension `colour`",
        ),
        (
            "/v1/metrics/mrr?by=cdn",
            bad,
            "unsupported_dimension",
            Some("by"),
            "does not break down by `cdn`",
        ),
        (
            "/v1/metrics/watch_hours?from=2026-13-01",
            bad,
            "bad_date",
            None,
            "bad date `2026-13-01`",
        ),
        (
            "/v1/metrics/watch_hours?bucket=year",
            bad,
            "unknown_bucket",
            Some("bucket"),
            "unknown bucket `year`",
        ),
        (
            "/v1/metrics/watch_hours?format=xml",
            bad,
            "bad_request",
            None,
            "unknown format `xml`",
        ),
        (
            "/v1/metrics/watch_hours?engine=clickhouse",
            bad,
            "bad_request",
            None,
            "engine `clickhouse` is not configured",
        ),
        (
            "/v1/metrics/watch_hours?engine=spark",
            bad,
            "bad_request",
            None,
            "unknown engine `spark`",
        ),
        (
            "/v1/metrics/watch_hours?colour=red",
            bad,
            "unknown_parameter",
            Some("colour"),
            "unknown parameter `colour`",
        ),
    ] {
        let (s, body) = get(&app, uri).await;
        assert_eq!(s, status, "{uri}: {body}");
        let e: ErrorBody =
            serde_json::from_value(body.clone()).unwrap_or_else(|_| panic!("{uri}: {body}"));
        assert_eq!(
            (e.error.code.as_str(), e.error.field.as_deref()),
            (code, field),
            "{uri}: {body}"
        );
        assert!(e.error.message.contains(reason), "{uri}: {body}");
    }
    for (body, code, reason) in [
        (json!({"sql": "DROP VIEW views"}), "refused", "read-only"),
        (
            json!({"sql": "COPY (SELECT 1) TO '/tmp/x.csv'"}),
            "refused",
            "read-only",
        ),
        (json!({"sql": "SELEKT 1"}), "bad_query", "query"),
        (
            json!({"sql": "SELECT nope FROM player"}),
            "bad_query",
            "nope",
        ),
        (json!({"query": "SELECT 1"}), "bad_request", "bad request"),
    ] {
        let (s, b) = sql(&app, body.clone()).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body}: {b}");
        let e: ErrorBody = serde_json::from_str(&b).expect("the one error body");
        assert_eq!(e.error.code, code, "{body}: {b}");
        assert!(e.error.message.contains(reason), "{body}: {b}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sql_answers_json_or_csv_within_its_limits() {
    let dir = lake();
    let app = api::router(ApiState::new(dir.path().to_path_buf(), limits()));
    let (s, b) = sql(
        &app,
        json!({"sql": "SELECT count(*) AS n, count(DISTINCT event_id) AS ids FROM player"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let v: Value = serde_json::from_str(&b).expect("json");
    assert_eq!(v["columns"], json!(["n", "ids"]));
    assert!(v["rows"][0][0].as_i64().expect("n") > 1_000);
    assert_eq!(v["rows"][0][0], v["rows"][0][1]);
    let (s, b) = sql(
        &app,
        json!({"sql": "SELECT 1 AS a, 'x,y' AS b", "format": "csv"}),
    )
    .await;
    assert_eq!((s, b.as_str()), (StatusCode::OK, "a,b\n1,\"x,y\"\n"));

    // a hash join cannot spill its build side: over a tiny budget it fails
    let tight = api::router(ApiState::new(
        dir.path().to_path_buf(),
        QueryLimits {
            memory_bytes: 64 << 10,
            timeout: Duration::from_secs(60),
            ..QueryLimits::default()
        },
    ));
    let (s, b) = sql(
        &tight,
        json!({"sql": "SELECT count(*) FROM player a JOIN player b ON a.event_id = b.event_id"}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert!(b.contains("memory limit"), "{b}");

    // a query far longer than the limit is stopped
    let quick = api::router(ApiState::new(
        dir.path().to_path_buf(),
        QueryLimits {
            memory_bytes: 256 << 20,
            timeout: Duration::from_millis(200),
            ..QueryLimits::default()
        },
    ));
    let (s, b) = sql(
        &quick,
        json!({"sql": "SELECT sum(value % 7) FROM range(100000000000)"}),
    )
    .await;
    assert_eq!(s, StatusCode::REQUEST_TIMEOUT, "{b}");
    assert!(b.contains("time limit"), "{b}");
}

/// The active users of 2026-01-25, through an API allowing `staleness`:
/// the lake's dir, the router, the URI asked and its first answer's count
/// — then a new viewer on that day lands in a new file.
async fn new_viewer_after_a_first_answer(
    staleness: Duration,
) -> (tempfile::TempDir, axum::Router, &'static str, i64) {
    let dir = lake();
    let app = api::router(ApiState::new(
        dir.path().to_path_buf(),
        QueryLimits {
            max_staleness: staleness,
            ..limits()
        },
    ));
    let uri = "/v1/metrics/active_users?from=2026-01-25&to=2026-01-26";
    let (s, before) = get(&app, uri).await;
    assert_eq!(s, StatusCode::OK, "{before}");
    let users = before["rows"][0][1].as_i64().expect("users");
    let play = common::play_requested(
        "0195a000-0000-7000-8000-00000000f00d",
        "fresh-view",
        "someone-new",
        "2026-01-25T12:00:00.000Z",
        "2026-01-25T12:00:00.100Z",
    );
    common::write(dir.path(), showrunner_events::Family::Player, &[play], 99);
    (dir, app, uri, users)
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_see_files_committed_after_the_first_request() {
    // no staleness allowed: the next request waits for fresh projections
    let (_dir, app, uri, users) = new_viewer_after_a_first_answer(Duration::ZERO).await;
    let (_, after) = get(&app, uri).await;
    assert_eq!(after["rows"][0][1], json!(users + 1), "{after}");
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_answer_from_the_last_projections_while_fresh_ones_are_computed() {
    let (_dir, app, uri, users) = new_viewer_after_a_first_answer(Duration::from_secs(600)).await;
    // the next answer does not wait for the new file's projections…
    let (s, stale) = get(&app, uri).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(stale["rows"][0][1], json!(users), "{stale}");
    // …which the background refresh then brings in
    let t = std::time::Instant::now();
    loop {
        let (_, now) = get(&app, uri).await;
        if now["rows"][0][1] == json!(users + 1) {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "the new viewer never showed: {now}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A request as the gate passes it on: with the caller's key.
fn as_caller(mut req: Request<Body>, id: &str) -> Request<Body> {
    req.extensions_mut().insert(showrunner_web::Principal {
        id: id.into(),
        roles: [showrunner_web::Role::Analyst].into_iter().collect(),
    });
    req
}

fn sql_request(body: Value) -> Request<Body> {
    Request::post("/v1/sql")
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .expect("req")
}

#[tokio::test(flavor = "multi_thread")]
async fn sql_answers_are_cut_at_the_row_cap_and_say_so() {
    let dir = lake();
    let app = api::router(ApiState::new(
        dir.path().to_path_buf(),
        QueryLimits {
            max_rows: 5,
            ..limits()
        },
    ));
    // ten rows: the first five, marked
    let r = app
        .clone()
        .oneshot(sql_request(
            json!({"sql": "SELECT value FROM range(10) ORDER BY value"}),
        ))
        .await
        .expect("answer");
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()[api::TRUNCATED_HEADER], "true");
    let body = axum::body::to_bytes(r.into_body(), usize::MAX)
        .await
        .expect("body");
    let v: Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(v["rows"], json!([[0], [1], [2], [3], [4]]));
    assert_eq!(v["truncated"], true);
    // exactly five: whole, not marked
    let (s, b) = sql(
        &app,
        json!({"sql": "SELECT value FROM range(5) ORDER BY value"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let v: Value = serde_json::from_str(&b).expect("json");
    assert_eq!(v["rows"].as_array().map(Vec::len), Some(5));
    assert_eq!(v["truncated"], false);
    // CSV: five lines under the header, the mark in the header
    let r = app
        .clone()
        .oneshot(sql_request(
            json!({"sql": "SELECT value FROM range(7) ORDER BY value", "format": "csv"}),
        ))
        .await
        .expect("answer");
    assert_eq!(r.headers()[api::TRUNCATED_HEADER], "true");
    let body = axum::body::to_bytes(r.into_body(), usize::MAX)
        .await
        .expect("body");
    assert_eq!(
        String::from_utf8_lossy(&body),
        "value\n0\n1\n2\n3\n4\n",
        "CSV cut at five rows"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_key_runs_at_most_its_share_of_queries_at_once() {
    let dir = lake();
    let state = ApiState::new(
        dir.path().to_path_buf(),
        QueryLimits {
            per_key: 1,
            timeout: Duration::from_secs(6),
            ..limits()
        },
    );
    let app = api::router(state.clone());
    // key a's first query runs until its time limit
    let long = {
        let app = app.clone();
        tokio::spawn(async move {
            app.oneshot(as_caller(
                sql_request(json!({"sql": "SELECT sum(value % 7) FROM range(100000000000)"})),
                "a",
            ))
            .await
            .expect("answer")
            .status()
        })
    };
    // once it holds a's place (a moment on a loaded machine), a second
    // query of key a is refused at once, a metric too
    for _ in 0..200 {
        if state.running("a") == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(state.running("a"), 1, "the long query holds key a's place");
    assert!(!long.is_finished(), "the long query still runs");
    for req in [
        sql_request(json!({"sql": "SELECT 1"})),
        Request::get("/v1/metrics/active_users")
            .body(Body::empty())
            .expect("req"),
    ] {
        let r = app
            .clone()
            .oneshot(as_caller(req, "a"))
            .await
            .expect("answer");
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.headers()["retry-after"], "1");
        let body = axum::body::to_bytes(r.into_body(), usize::MAX)
            .await
            .expect("body");
        let e: ErrorBody = serde_json::from_slice(&body).expect("error body");
        assert_eq!(e.error.code, "too_many_queries");
    }
    // key b is not held up by a's query
    let r = app
        .clone()
        .oneshot(as_caller(sql_request(json!({"sql": "SELECT 1"})), "b"))
        .await
        .expect("answer");
    assert_eq!(r.status(), StatusCode::OK);
    // once a's query has its 408, a may query again
    assert_eq!(long.await.expect("task"), StatusCode::REQUEST_TIMEOUT);
    // its place comes back when its task ends (a moment after the 408)
    for _ in 0..200 {
        if state.running("a") == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(
        state.running("a"),
        0,
        "the aborted query gave its place back"
    );
    let r = app
        .clone()
        .oneshot(as_caller(sql_request(json!({"sql": "SELECT 1"})), "a"))
        .await
        .expect("answer");
    assert_eq!(r.status(), StatusCode::OK);
}
