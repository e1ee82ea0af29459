//! A second engine on the same definitions: `showrunner-bench metrics`
//! simulates an audience into a lake, runs the suite on DataFusion and the
//! very same SQL files on DuckDB (`benches/duckdb_metrics.py` at the
//! repository root, found from this crate's manifest directory), and
//! compares every row (counts exactly, doubles to 1e-9 relative). The test
//! command installs DuckDB (PyPI); without it this test fails, loudly.

use std::process::Command;

#[test]
fn every_metric_agrees_with_duckdb() {
    let dir = tempfile::tempdir().expect("tempdir");
    let lake = dir.path().join("lake");
    let out = Command::new(env!("CARGO_BIN_EXE_showrunner-bench"))
        .env("SHOWRUNNER_LOG", "warn")
        .args(["metrics", "--events", "60000", "--lake"])
        .arg(&lake)
        .output()
        .expect("run showrunner-bench metrics");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(report["events"], 60_000);
    assert_eq!(report["agree"], true, "{}", report["disagreements"]);
    // every metric ran on both engines, and most have rows
    let df = report["datafusion"]["per_metric"]
        .as_object()
        .expect("per metric");
    let duck = report["duckdb"]["per_metric"]
        .as_object()
        .expect("per metric");
    assert_eq!(df.len(), 24);
    assert_eq!(duck.len(), 24);
    let with_rows = df.values().filter(|m| m["rows"].as_u64() > Some(0)).count();
    assert!(with_rows >= 18, "{df:?}");
}
