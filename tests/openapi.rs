//! The API against its own description, over a real socket: schemathesis
//! (PyPI, installed by the test command) generates requests for every
//! operation of `/openapi.json` — valid and invalid parameters and bodies —
//! with a real key (made by `showrunner keys new`, holding every role, its
//! hash in the config file) against `showrunner serve` over a small
//! simulated lake with a trained model, and checks that no answer is a
//! server error, an undocumented status, a content type or header the
//! description does not give, or a body its schema refuses.
//!
//! A missing `st` fails the test (the test command installs it).

mod common;

use std::process::Command;

use common::{Harness, bin, ingest_drain, publish, serve_process, sim_events, train};

/// Makes a key holding every role; (key, its `[[http.keys]]` lines).
fn every_role_key() -> (String, String) {
    let out = bin()
        .args([
            "keys",
            "new",
            "--role",
            "ingest,app,analyst,marketing,admin",
            "--id",
            "schemathesis",
        ])
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let err = String::from_utf8_lossy(&out.stderr);
    let lines = &err[err.find("[[http.keys]]").expect("config lines")..];
    (key, lines.to_owned())
}

#[tokio::test]
async fn schemathesis_finds_no_server_error_and_no_schema_violation() {
    let h = Harness::new();
    // a small audience in the lake, and a model, so the 200s carry data
    let (_client, js) = h.js().await;
    publish(&js, &sim_events(40, 4, 7)).await;
    ingest_drain(&h.url(), &h.lake(), &[]);
    train(&h.lake());
    // and churn scores, so churn-risk answers from a table (its 503 is
    // for a lake `churn score` never ran on)
    let scores: Vec<showrunner_churn::Score> = (1..=40)
        .map(|i| showrunner_churn::Score {
            user_id: format!("u{i:06}"),
            snapshot: 1_772_323_200_000,
            score: f64::from(i) / 41.0,
            model: "logistic".into(),
            reasons: Vec::new(),
        })
        .collect();
    showrunner_churn::served::write_scores(&showrunner_lake::Store::dir(h.lake()), &scores)
        .await
        .expect("scores");

    let (key, lines) = every_role_key();
    let dir = tempfile::tempdir().expect("tmp");
    let config = dir.path().join("showrunner.toml");
    let limits: String = ["ingest", "app", "analyst", "marketing", "admin"]
        .iter()
        .map(|r| format!("[http.rate_limits.{r}]\nper_second = 100000.0\nburst = 100000\n"))
        .collect();
    std::fs::write(&config, format!("{lines}\n{limits}")).expect("config");
    let config = config.to_str().expect("utf-8 path").to_owned();
    let server = serve_process(&h.url(), &h.lake(), &[("SHOWRUNNER_CONFIG", &config)]).await;

    let described: serde_json::Value = reqwest::get(format!("{}/openapi.json", server.base))
        .await
        .expect("description")
        .json()
        .await
        .expect("json");
    for route in showrunner_dashboard::access::ROUTES
        .iter()
        .filter(|r| !r.page)
    {
        assert!(
            described["paths"][route.path][route.method.as_str().to_lowercase()].is_object(),
            "{} {} described by the live server",
            route.method,
            route.path
        );
    }
    let report = dir.path().join("events.ndjson");
    let out = Command::new("st")
        .args([
            "run",
            &format!("{}/openapi.json", server.base),
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,\
             response_headers_conformance,response_schema_conformance",
            "--header",
            &format!("Authorization: Bearer {key}"),
            "--max-examples",
            "40",
            "--seed",
            "42",
            "--workers",
            "2",
            "--request-timeout",
            "30",
            // an event stream never ends: tests/live.rs reads it
            "--exclude-path",
            "/v1/live",
            "--no-color",
            "--report",
            "ndjson",
            "--report-ndjson-path",
        ])
        .arg(&report)
        .current_dir(dir.path()) // its caches stay out of the checkout
        .output()
        .expect("schemathesis (`st`) must be installed: the test command installs it");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "schemathesis found problems:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // every operation was called, and answered more than the gate's refusals
    let mut answered: std::collections::BTreeMap<String, std::collections::BTreeSet<u64>> =
        Default::default();
    let events = std::fs::read_to_string(&report).expect("schemathesis's ndjson report");
    for line in events.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("ndjson");
        let rec = &v["ScenarioFinished"]["recorder"];
        let Some(label) = rec["label"].as_str() else {
            continue;
        };
        for inter in rec["interactions"]
            .as_object()
            .into_iter()
            .flat_map(|o| o.values())
        {
            if let Some(status) = inter["response"]["status_code"].as_u64() {
                answered.entry(label.to_owned()).or_default().insert(status);
            }
        }
    }
    for route in showrunner_dashboard::access::ROUTES
        .iter()
        .filter(|r| !r.page && r.path != "/v1/live")
    {
        if route.path == "/openapi.json" {
            // schemathesis leaves out the operation it loaded the
            // description from (it counts 13 of the 14); the dashboard's
            // oneshot test and the fetch above call it
            continue;
        }
        let label = format!("{} {}", route.method, route.path);
        let statuses = answered
            .get(&label)
            .unwrap_or_else(|| panic!("{label} was not called: {answered:?}"));
        assert!(
            statuses.iter().any(|s| ![401, 403, 405, 429].contains(s)),
            "{label} only reached the gate: {statuses:?}"
        );
    }
}
