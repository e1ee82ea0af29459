//! `showrunner standalone` end to end: starts its own nats-server,
//! simulates on first run, ingests, serves, stops cleanly; a second run on
//! the same data directory does not simulate again.

mod common;

use common::*;
use showrunner_lake::read::{lake_files, read_lake};

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
    assert!(stderr.contains("dashboard   http://127.0.0.1:"), "{stderr}");
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
    let at = lines[0]["columns"]
        .as_array()
        .expect("columns")
        .iter()
        .position(|c| c == "views")
        .expect("a views column");
    let views: i64 = lines[0]["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r[at].as_i64().expect("views"))
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
        String::from_utf8_lossy(&out.stderr).contains("read-only"),
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

#[test]
fn standalone_retrains_on_its_timer_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let child = bin()
        .env("SHOWRUNNER_RECOMMENDER_RETRAIN_EVERY_SECS", "1")
        .args(["standalone", "--data"])
        .arg(&data)
        .args(["--port", "0", "--users", "40", "--days", "7"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("standalone");
    // killed on drop if an assertion fails first
    let mut server = Server {
        child,
        base: String::new(),
    };
    let models = showrunner_lake::Layout::new(data.join("lake")).models();
    let current = || std::fs::read_to_string(models.join("CURRENT")).unwrap_or_default();
    // the first model comes after ingest; the timer publishes more, each
    // becoming current (three versions are kept)
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let mut seen = std::collections::BTreeSet::new();
    while seen.len() < 3 {
        if std::time::Instant::now() >= deadline {
            // what the process said explains the timeout
            let _ = server.child.kill();
            let mut stderr = String::new();
            if let Some(mut e) = server.child.stderr.take() {
                use std::io::Read;
                let _ = e.read_to_string(&mut stderr);
            }
            panic!("versions seen: {seen:?}; standalone said:\n{stderr}");
        }
        let c = current();
        if !c.trim().is_empty() {
            seen.insert(c.trim().to_owned());
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let kept = showrunner_recommender::artifact::versions(&models).expect("versions");
    assert!((2..=3).contains(&kept.len()), "{kept:?}");
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status();
    let status = server.child.wait().expect("exit");
    let mut stderr = String::new();
    if let Some(mut e) = server.child.stderr.take() {
        use std::io::Read;
        let _ = e.read_to_string(&mut stderr);
    }
    assert!(status.success(), "{stderr}");
    assert!(stderr.contains("stopped cleanly"), "{stderr}");
}
