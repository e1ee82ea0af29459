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
