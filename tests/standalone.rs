//! `showrunner standalone` end to end: starts its own nats-server,
//! simulates on first run, ingests, serves, stops cleanly; a second run on
//! the same data directory does not simulate again.

mod common;

use common::*;
use showrunner_ingest::sinks::parquet::reader::{lake_files, read_lake};

#[test]
fn standalone_first_and_second_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let run = || {
        bin()
            .args(["standalone", "--data"])
            .arg(&data)
            .args([
                "--port",
                "0",
                "--users",
                "60",
                "--days",
                "7",
                "--exit-when-ingested",
            ])
            .output()
            .expect("standalone")
    };
    let first = run();
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert!(first.status.success(), "{stderr}");
    assert!(
        stderr.contains("first run: simulating 60 users over 7 days"),
        "{stderr}"
    );
    assert!(stderr.contains("open        http://127.0.0.1:"), "{stderr}");
    assert!(stderr.contains("stopped cleanly"), "{stderr}");
    let n = read_lake(&data.join("lake")).expect("lake").len();
    assert!(n > 1_000, "only {n} events in the lake");
    let files = lake_files(&data.join("lake")).expect("files");

    // the warehouse reads the lake the standalone run wrote
    let lake = data.join("lake");
    let out = bin()
        .args(["metrics", "--lake"])
        .arg(&lake)
        .args([
            "--metric",
            "video_startup_time",
            "--metric",
            "active_users",
            "--bucket",
            "week",
            "--format",
            "json",
        ])
        .output()
        .expect("metrics");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["metric"], "video_startup_time");
    assert_eq!(lines[0]["params"]["bucket"], "week");
    let views: i64 = lines[0]["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r[4].as_i64().expect("views"))
        .sum();
    assert!(views > 10, "{}", lines[0]);
    let out = bin()
        .args(["metrics", "--lake"])
        .arg(&lake)
        .args(["--by", "planet"])
        .output()
        .expect("metrics");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown dimension `planet`"));
    let out = bin()
        .args(["sql", "--lake"])
        .arg(&lake)
        .args([
            "--format",
            "csv",
            "SELECT count(*) AS n FROM views WHERE ff_ms IS NOT NULL",
        ])
        .output()
        .expect("sql");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = String::from_utf8_lossy(&out.stdout);
    assert_eq!(csv.lines().next(), Some("n"));
    assert_eq!(
        csv.lines().nth(1).and_then(|n| n.parse::<i64>().ok()),
        Some(views)
    );
    let out = bin()
        .args(["sql", "--lake"])
        .arg(&lake)
        .arg("DROP VIEW views")
        .output()
        .expect("sql");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("refused"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let second = run();
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(second.status.success(), "{stderr}");
    assert!(stderr.contains("not simulating"), "{stderr}");
    assert_eq!(read_lake(&data.join("lake")).expect("lake").len(), n);
    assert_eq!(lake_files(&data.join("lake")).expect("files"), files);
}

#[test]
fn standalone_names_the_install_command_when_nats_is_missing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = bin()
        .env("SHOWRUNNER_NATS_SERVER", "/nonexistent/nats-server")
        .args(["standalone", "--data"])
        .arg(dir.path())
        .args(["--port", "0", "--exit-when-ingested"])
        .output()
        .expect("standalone");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("apt-get install -y nats-server"),
        "{stderr}"
    );
}
