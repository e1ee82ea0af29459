//! Exactly-once in the lake's files: ingest processes are SIGKILLed at
//! random moments while events stream in, crash deterministically between
//! commit and ack, and run side by side on one durable consumer — and the
//! Parquet files still hold every published event exactly once.

mod common;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use common::*;
use rand::{Rng, SeedableRng};
use showrunner_lake::read::{lake_files, read_lake};

fn count_by_id(lake: &std::path::Path) -> HashMap<String, usize> {
    let mut m = HashMap::new();
    for w in read_lake(lake).expect("lake") {
        *m.entry(w.event_id.expect("id")).or_insert(0) += 1;
    }
    m
}

/// Rows and distinct event ids as DuckDB, an outside reader, sees the lake.
fn duckdb_counts(lake: &std::path::Path) -> (u64, u64) {
    let glob = lake.join("events/*/*/*.parquet");
    let script = format!(
        "import duckdb; print(*duckdb.sql(\"select count(*), count(distinct event_id) from read_parquet('{}', union_by_name=true)\").fetchall()[0])",
        glob.display()
    );
    let out = std::process::Command::new("python3")
        .args(["-c", &script])
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "duckdb (python3 -m pip install duckdb): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let mut it = text
        .split_whitespace()
        .map(|n| n.parse::<u64>().expect("count"));
    (it.next().expect("rows"), it.next().expect("ids"))
}

fn assert_exactly_once(lake: &std::path::Path, published: &HashSet<String>) {
    let (rows, ids) = duckdb_counts(lake);
    // on failure, which files hold the copies (their names carry the
    // sequence span and the writer)
    let copies = if rows != ids {
        let glob = lake.join("events/*/*/*.parquet");
        let script = format!(
            "import duckdb; print(duckdb.sql(\"select event_id, filename from read_parquet('{g}', union_by_name=true, filename=true) where event_id in (select event_id from read_parquet('{g}', union_by_name=true) group by 1 having count(*) > 1) limit 10\").fetchall())",
            g = glob.display()
        );
        let out = std::process::Command::new("python3")
            .args(["-c", &script])
            .output()
            .expect("python3");
        String::from_utf8_lossy(&out.stdout).into_owned()
    } else {
        String::new()
    };
    assert_eq!(
        (rows, ids),
        (published.len() as u64, published.len() as u64),
        "as DuckDB reads the files; copies: {copies}"
    );
    assert_each_once(count_by_id(lake), published);
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_at_random_moments_loses_and_duplicates_nothing() {
    let h = Harness::new();
    let (_c, js) = h.js().await;
    let events = sim_events(150, 14, 21);
    let ids = event_ids(&events);
    let publisher = publish_over_time(&js, &events, 20);
    let mut rng = rand::rngs::StdRng::seed_from_u64(42);
    let url = h.url();
    for round in 0..6 {
        let mut child = spawn_ingest(&url, &h.lake(), &["--batch-max", "700"]);
        tokio::time::sleep(Duration::from_millis(rng.random_range(250..1_200))).await;
        child.kill().expect("SIGKILL");
        child.wait().expect("reaped");
        eprintln!(
            "round {round}: killed; {} files so far",
            lake_files(&h.lake()).expect("files").len()
        );
    }
    publisher.await.expect("publisher");
    let report = ingest_drain(&url, &h.lake(), &["--batch-max", "700"]);
    eprintln!("final drain: {report}");
    assert!(!lake_files(&h.lake()).expect("files").is_empty());
    assert_exactly_once(&h.lake(), &ids);
}

/// An ingest that aborts (failpoint) once `files` files are committed,
/// before acking them, with a 3 s ack wait; its output.
fn ingest_crashing_after_commit(h: &Harness, files: u32, batch_max: u32) -> std::process::Output {
    let out = bin()
        .env("SHOWRUNNER_FAILPOINT", format!("after-commit:{files}"))
        .args(["ingest", "--nats", &h.url(), "--lake"])
        .arg(h.lake())
        .args(["--batch-max", &batch_max.to_string()])
        .args(["--batch-wait-ms", "100", "--ack-wait-secs", "3"])
        .output()
        .expect("run");
    assert!(
        !out.status.success(),
        "the failpoint must abort the process"
    );
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn crash_between_commit_and_ack_is_not_written_twice() {
    let h = Harness::new();
    let (_c, js) = h.js().await;
    let events = sim_events(60, 6, 4);
    let ids = event_ids(&events);
    publish(&js, &events).await;
    let out = ingest_crashing_after_commit(&h, 3, 500);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("failpoint after-commit"), "{stderr}");
    let committed = lake_files(&h.lake()).expect("files").len();
    assert!(committed >= 3, "{committed} files before the crash");
    // the committed batches are redelivered after the ack wait and must be skipped
    let report = ingest_drain(&h.url(), &h.lake(), &["--batch-max", "500"]);
    assert!(
        report["duplicates"].as_u64().expect("n") > 0,
        "nothing was redelivered: {report}"
    );
    assert_exactly_once(&h.lake(), &ids);
}

#[tokio::test(flavor = "multi_thread")]
async fn two_workers_on_one_durable_consumer_share_the_work() {
    let h = Harness::new();
    let (_c, js) = h.js().await;
    let events = sim_events(100, 8, 9);
    let ids = event_ids(&events);
    let url = h.url();
    let mut a = spawn_ingest(&url, &h.lake(), &["--batch-max", "400"]);
    let mut b = spawn_ingest(&url, &h.lake(), &["--batch-max", "400"]);
    publish(&js, &events).await;
    let lake = h.lake();
    eventually(60, "both workers to ingest everything", async || {
        count_by_id(&lake).len() == ids.len()
    })
    .await;
    for c in [&mut a, &mut b] {
        // SIGTERM: flush and exit cleanly
        let status = std::process::Command::new("kill")
            .args(["-TERM", &c.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        let exit = c.wait().expect("exit");
        assert!(exit.success(), "worker exited with {exit}");
    }
    assert_exactly_once(&h.lake(), &ids);
    let writers: HashSet<String> = lake_files(&h.lake())
        .expect("files")
        .iter()
        .filter_map(|p| {
            p.file_name()?
                .to_str()?
                .rsplit('-')
                .next()
                .map(|s| s[..8].to_owned())
        })
        .collect();
    assert!(
        writers.len() >= 2,
        "only one worker wrote files: {writers:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_worker_frozen_past_the_ack_wait_does_not_commit_what_was_redelivered() {
    let h = Harness::new();
    let (_c, js) = h.js().await;
    let events = sim_events(40, 4, 13);
    let ids = event_ids(&events);
    publish(&js, &events).await;
    // A takes a first batch and holds it for 5 s; the ack wait is 3 s, so the
    // server redelivers that batch to B, which commits it. A must then hand
    // its stale batch back instead of writing it a second time.
    let mut a = bin()
        .env("SHOWRUNNER_FAILPOINT", "stall-before-commit:5000")
        .args(["ingest", "--nats", &h.url(), "--lake"])
        .arg(h.lake())
        .args([
            "--batch-max",
            "2000",
            "--batch-wait-ms",
            "100",
            "--ack-wait-secs",
            "3",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn A");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut b = spawn_ingest(&h.url(), &h.lake(), &["--batch-max", "2000"]);
    tokio::time::sleep(Duration::from_millis(7_000)).await;
    for c in [&mut a, &mut b] {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &c.id().to_string()])
            .status();
    }
    let out = a.wait_with_output().expect("A exits");
    assert!(out.status.success(), "A exits cleanly");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("A's report");
    b.wait().expect("B exits");
    let final_report = ingest_drain(&h.url(), &h.lake(), &["--batch-max", "2000"]);
    eprintln!("A: {report}; final: {final_report}");
    assert_exactly_once(&h.lake(), &ids);
    assert!(
        report["expired"].as_u64().expect("n") > 0,
        "A did not hand its stale batch back: {report}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn batches_too_slow_for_the_ack_wait_shrink_until_they_commit() {
    let h = Harness::new();
    let (_c, js) = h.js().await;
    let events = sim_events(40, 4, 17);
    let ids = event_ids(&events);
    publish(&js, &events).await;
    // 600 µs per event: a 4,000-event batch takes 2.4 s to commit, past
    // half the 3 s ack wait, so it expires; at a constant batch size every
    // batch would expire again and the drain would never end. Halved to
    // 2,000 (1.2 s) batches commit.
    let mut child = bin()
        .env("SHOWRUNNER_FAILPOINT", "slow-commit-us-per-event:600")
        .args(["ingest", "--nats", &h.url(), "--lake"])
        .arg(h.lake())
        .args([
            "--drain",
            "--batch-max",
            "4000",
            "--batch-wait-ms",
            "500",
            "--ack-wait-secs",
            "3",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn ingest");
    // a livelock never ends: fail instead of hanging
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while child.try_wait().expect("wait").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("ingest did not drain in 120 s: batches keep expiring");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let out = child.wait_with_output().expect("output");
    assert!(out.status.success());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("report");
    assert!(report["expired"].as_u64().expect("n") > 0, "{report}");
    assert_eq!(
        report["ingested"].as_u64(),
        Some(ids.len() as u64),
        "{report}"
    );
    assert_exactly_once(&h.lake(), &ids);
}

/// `showrunner lake compact` over every partition (closed: before today),
/// with a failpoint; its output.
fn compact(lake: &std::path::Path, failpoint: Option<&str>) -> std::process::Output {
    let mut c = bin();
    if let Some(fp) = failpoint {
        c.env("SHOWRUNNER_FAILPOINT", fp);
    }
    c.args(["lake", "compact", "--closed-after-days", "0", "--lake"])
        .arg(lake)
        .output()
        .expect("run lake compact")
}

/// Distinct (family, date) partitions among the lake's files.
fn partitions(lake: &std::path::Path) -> HashSet<std::path::PathBuf> {
    lake_files(lake)
        .expect("files")
        .iter()
        .filter_map(|p| p.parent().map(std::path::Path::to_path_buf))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn compaction_between_commit_and_redelivery_is_not_written_twice() {
    let h = Harness::new();
    let (_c, js) = h.js().await;
    let events = sim_events(60, 6, 5);
    let ids = event_ids(&events);
    publish(&js, &events).await;
    ingest_crashing_after_commit(&h, 12, 300);
    let before = lake_files(&h.lake()).expect("files").len();
    // the committed but unacked batches are now inside compacted files
    let out = compact(&h.lake(), None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(report["files_in"].as_u64() > Some(0), "{report}");
    let after = lake_files(&h.lake()).expect("files").len();
    assert!(after < before, "{before} files before, {after} after");
    assert_eq!(after, partitions(&h.lake()).len(), "one file per partition");
    // their redelivery is found in the compacted files' footers
    let report = ingest_drain(&h.url(), &h.lake(), &["--batch-max", "300"]);
    assert!(
        report["duplicates"].as_u64().expect("n") > 0,
        "nothing was redelivered: {report}"
    );
    assert_exactly_once(&h.lake(), &ids);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_crash_at_any_point_of_compaction_keeps_every_event_once() {
    for failpoint in [
        "compact-after-commit",
        "compact-after-remove:1",
        "compact-after-remove:2",
    ] {
        let h = Harness::new();
        let (_c, js) = h.js().await;
        let events = sim_events(40, 4, 6);
        let ids = event_ids(&events);
        publish(&js, &events).await;
        ingest_drain(&h.url(), &h.lake(), &["--batch-max", "200"]);
        assert!(lake_files(&h.lake()).expect("files").len() > 2 * partitions(&h.lake()).len());
        let out = compact(&h.lake(), Some(failpoint));
        assert!(!out.status.success(), "{failpoint} must abort compaction");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("failpoint compact-after"), "{stderr}");
        // the next run finishes the job first
        let out = compact(&h.lake(), None);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            lake_files(&h.lake()).expect("files").len(),
            partitions(&h.lake()).len(),
            "{failpoint}: one file per partition"
        );
        assert_exactly_once(&h.lake(), &ids);
        // and ingest still skips what the lake holds
        let report = ingest_drain(&h.url(), &h.lake(), &["--batch-max", "200"]);
        assert_eq!(
            report["ingested"].as_u64(),
            Some(0),
            "{failpoint}: {report}"
        );
        assert_exactly_once(&h.lake(), &ids);
    }
}
