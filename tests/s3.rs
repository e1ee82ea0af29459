//! The lake on a real S3-compatible server (SeaweedFS's `weed mini` on
//! loopback, started per test): the conditional create refuses a second
//! write of a name, `showrunner ingest` round-trips every published event,
//! and exactly-once holds through SIGKILLs, a crash between commit and
//! ack, and compaction crashed after its commit, as on a directory
//! (`tests/exactly_once.rs`); training on the S3 lake gives the model a
//! directory lake of the same stream gives.

mod common;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use bytes::Bytes;
use common::*;
use rand::{Rng, SeedableRng};
use showrunner_events::Event;
use showrunner_events::examples::examples;
use showrunner_lake::format::read_provenance_bytes;
use showrunner_lake::store::{NewFile, Store};
use showrunner_lake::{Error, layout};
use showrunner_testkit::s3::LocalS3;

/// `showrunner` with its lake under `prefix` on `s3`.
fn on_s3(s3: &LocalS3, prefix: &str) -> std::process::Command {
    let mut c = bin();
    c.envs(s3.env(prefix));
    c
}

fn drain(h: &Harness, s3: &LocalS3, prefix: &str, extra: &[&str]) -> serde_json::Value {
    let out = on_s3(s3, prefix)
        .args(["ingest", "--nats", &h.url()])
        .args(["--drain", "--batch-wait-ms", "100", "--ack-wait-secs", "3"])
        .args(extra)
        .output()
        .expect("run ingest");
    json_lines(&out)
        .into_iter()
        .next()
        .expect("ingest prints a JSON report")
}

fn got_rows(bytes: &Bytes) -> u64 {
    showrunner_lake::read::read_bytes(bytes.clone())
        .expect("reads")
        .len() as u64
}

async fn keys(store: &Store) -> Vec<String> {
    store
        .list_committed(layout::EVENTS)
        .await
        .expect("list")
        .into_iter()
        .map(|e| e.key)
        .collect()
}

async fn count_by_id(store: &Store) -> HashMap<String, usize> {
    let mut m = HashMap::new();
    for w in showrunner_lake::read::read_store(store)
        .await
        .expect("lake reads")
    {
        *m.entry(w.event_id.expect("id")).or_insert(0) += 1;
    }
    m
}

async fn assert_exactly_once(store: &Store, published: &HashSet<String>) {
    assert_each_once(count_by_id(store).await, published);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_name_is_created_once_and_read_back_whole() {
    let s3 = LocalS3::start().unwrap_or_else(|e| panic!("{e}"));
    let store = s3.store("create-once");
    let key = "events/watch/date=2026-03-01/part-1-2-a0001.parquet".to_owned();
    store
        .commit(&[
            NewFile {
                key: key.clone(),
                bytes: Bytes::from_static(b"first"),
            },
            NewFile {
                key: "events/watch/date=2026-03-01/.hidden.parquet".into(),
                bytes: Bytes::from_static(b"x"),
            },
        ])
        .await
        .expect("commit");
    let again = store
        .commit(&[NewFile {
            key: key.clone(),
            bytes: Bytes::from_static(b"second"),
        }])
        .await;
    assert!(matches!(again, Err(Error::Exists(_))), "{again:?}");
    assert_eq!(&store.get(&key).await.expect("get")[..], b"first");
    assert_eq!(
        keys(&store).await,
        std::slice::from_ref(&key),
        "hidden names are not committed files"
    );
    // another prefix of the bucket is another lake
    assert!(keys(&s3.store("elsewhere")).await.is_empty());
    store.delete(&key).await.expect("delete");
    assert!(keys(&store).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn derived_data_is_replaced_whole_on_s3_and_on_a_directory() {
    let s3 = LocalS3::start().unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().expect("tmp");
    for store in [s3.store("derived"), Store::dir(dir.path())] {
        let key = layout::keys::metric_month("mrr", "2026-03");
        assert_eq!(store.get_opt(&key).await.expect("get"), None, "{store}");
        for content in [&b"first"[..], b"second, longer"] {
            store
                .replace(&key, Bytes::copy_from_slice(content))
                .await
                .expect("replace");
            let got = store.get_opt(&key).await.expect("get");
            assert_eq!(got.as_deref(), Some(content), "{store}");
        }
        assert!(
            store.delete_if_exists(&key).await.expect("delete"),
            "{store}"
        );
        assert!(
            !store.delete_if_exists(&key).await.expect("again"),
            "{store}"
        );
        assert_eq!(store.get_opt(&key).await.expect("get"), None, "{store}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn ingest_round_trips_every_event_through_s3() {
    let s3 = LocalS3::start().unwrap_or_else(|e| panic!("{e}"));
    let h = Harness::new();
    let (_c, js) = h.js().await;
    let mut events: Vec<Event> = sim_events(100, 10, 5);
    events.extend(examples());
    publish(&js, &events).await;

    let report = drain(&h, &s3, "roundtrip", &["--batch-max", "3000"]);
    assert_eq!(report["ingested"], events.len() as u64, "{report}");
    assert_eq!(report["deadlettered"], 0);

    let store = s3.store("roundtrip");
    let mut got: Vec<String> = showrunner_lake::read::read_store(&store)
        .await
        .expect("reads")
        .iter()
        .map(canonical)
        .collect();
    got.sort();
    assert_eq!(got, canonical_events(&events));
    let files = keys(&store).await;
    assert!(files.len() > 6, "only {} files", files.len());
    for entry in store.list_committed(layout::EVENTS).await.expect("list") {
        let key = &entry.key;
        let (family, date, _) = layout::keys::parse(key).expect("an event file key");
        let bytes = store.get(key).await.expect("get");
        for w in showrunner_lake::read::read_bytes(bytes.clone()).expect("reads") {
            let e = Event::from_wire(&w).expect("valid");
            assert_eq!(
                (e.family(), e.envelope.occurred_at.date_string()),
                (family, date.to_owned())
            );
        }
        let p = read_provenance_bytes(bytes.clone(), key)
            .expect("footer")
            .expect("provenance");
        assert_eq!(p.stream, "EVENTS");
        assert_eq!(p.seqs.len(), got_rows(&bytes));
        // the ranged footer read the sink's look-ups use finds the same
        let ranged = store
            .provenance(&entry)
            .await
            .expect("footer")
            .expect("provenance");
        assert_eq!(ranged, p);
    }
    // the read models load from the same objects: the catalog folded from
    // S3 is the one folded from the published events
    let mut from_s3 = showrunner_projections::CatalogFold::default();
    let stats = showrunner_projections::load::from_store(&store, &mut from_s3)
        .await
        .expect("load");
    let mut direct = showrunner_projections::CatalogFold::default();
    let catalog_events: Vec<&Event> = events
        .iter()
        .filter(|e| e.family() == showrunner_events::Family::Catalog)
        .collect();
    for e in &catalog_events {
        showrunner_projections::Fold::apply(&mut direct, e);
    }
    assert_eq!(stats.events, catalog_events.len());
    assert!(!direct.is_empty());
    assert_eq!(from_s3.catalog(), direct.catalog());
    // nothing was written to a local directory
    assert!(!std::path::Path::new("s3:").exists());

    // the command-line SQL reads the same objects through DataFusion
    let out = on_s3(&s3, "roundtrip")
        .args(["sql", "--format", "json", "SELECT count(*) AS n FROM watch"])
        .output()
        .expect("run sql");
    let lines = json_lines(&out);
    let watch = events
        .iter()
        .filter(|e| e.family() == showrunner_events::Family::Watch)
        .count();
    assert!(watch > 0);
    assert_eq!(lines[0]["rows"][0][0], watch as u64, "{lines:?}");

    let again = drain(&h, &s3, "roundtrip", &[]);
    assert_eq!(again["messages"], 0, "{again}");
    assert_eq!(keys(&store).await, files);
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_on_s3_loses_and_duplicates_nothing() {
    let s3 = LocalS3::start().unwrap_or_else(|e| panic!("{e}"));
    let h = Harness::new();
    let (_c, js) = h.js().await;
    let events = sim_events(120, 12, 21);
    let ids = event_ids(&events);
    let publisher = publish_over_time(&js, &events, 15);
    let store = s3.store("sigkill");
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    for round in 0..5 {
        let mut child = on_s3(&s3, "sigkill")
            .args(["ingest", "--nats", &h.url()])
            .args([
                "--batch-max",
                "700",
                "--batch-wait-ms",
                "100",
                "--ack-wait-secs",
                "3",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn ingest");
        tokio::time::sleep(Duration::from_millis(rng.random_range(500..2_500))).await;
        child.kill().expect("SIGKILL");
        child.wait().expect("reaped");
        eprintln!(
            "round {round}: killed; {} objects so far",
            keys(&store).await.len()
        );
    }
    publisher.await.expect("publisher");
    let report = drain(&h, &s3, "sigkill", &["--batch-max", "700"]);
    eprintln!("final drain: {report}");
    assert!(!keys(&store).await.is_empty());
    assert_exactly_once(&store, &ids).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn crash_between_commit_and_ack_on_s3_is_not_written_twice() {
    let s3 = LocalS3::start().unwrap_or_else(|e| panic!("{e}"));
    let h = Harness::new();
    let (_c, js) = h.js().await;
    let events = sim_events(60, 6, 4);
    let ids = event_ids(&events);
    publish(&js, &events).await;
    let out = on_s3(&s3, "crash")
        .env("SHOWRUNNER_FAILPOINT", "after-commit:3")
        .args(["ingest", "--nats", &h.url()])
        .args([
            "--batch-max",
            "500",
            "--batch-wait-ms",
            "100",
            "--ack-wait-secs",
            "3",
        ])
        .output()
        .expect("run");
    assert!(
        !out.status.success(),
        "the failpoint must abort the process"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("failpoint after-commit"), "{stderr}");
    let store = s3.store("crash");
    assert!(keys(&store).await.len() >= 3);
    let report = drain(&h, &s3, "crash", &["--batch-max", "500"]);
    assert!(
        report["duplicates"].as_u64().expect("n") > 0,
        "nothing was redelivered: {report}"
    );
    assert_exactly_once(&store, &ids).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_api_and_the_trainer_serve_an_s3_lake() {
    let s3 = LocalS3::start().unwrap_or_else(|e| panic!("{e}"));
    let h = Harness::new();
    let (_c, js) = h.js().await;
    publish(&js, &sim_events(80, 10, 5)).await;
    drain(&h, &s3, "api", &[]);
    ingest_drain(&h.url(), &h.lake(), &["--durable", "dir"]);
    let port = showrunner_bus::server::free_port().expect("port");
    let serve = |models: Option<&std::path::Path>| {
        let mut c = on_s3(&s3, "api");
        if let Some(m) = models {
            c.env("SHOWRUNNER_RECOMMENDER_MODELS_DIR", m)
                .env("SHOWRUNNER_RECOMMENDER_RETRAIN_EVERY_SECS", "1");
        }
        c.args(["serve", "--roles", "api,trainer", "--nats", &h.url()])
            .args(["--bind", &format!("127.0.0.1:{port}")]);
        c
    };

    // the model versions need a directory, which an S3 lake is not
    let out = serve(None).output().expect("run serve");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("recommender.models_dir"), "{stderr}");

    let models = tempfile::tempdir().expect("tmp");
    let child = serve(Some(models.path()))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn serve");
    let server = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    let http = reqwest::Client::new();
    let get = async |path: &str, key: &str| {
        http.get(format!("{}{path}", server.base))
            .bearer_auth(key)
            .send()
            .await
    };
    eventually(120, "the trainer's first model to be served", async || {
        get("/v1/models/current", "dev-app-key")
            .await
            .is_ok_and(|r| r.status() == 200)
    })
    .await;
    // readiness reads the object store
    let ready: serde_json::Value = get("/readyz", "")
        .await
        .expect("readyz")
        .json()
        .await
        .expect("json");
    assert_eq!(ready["ready"], true, "{ready}");
    let lake = ready["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["name"] == "lake")
        .expect("a lake check");
    assert!(
        lake["detail"]
            .as_str()
            .expect("detail")
            .starts_with("s3://"),
        "{ready}"
    );
    // a metric from the S3 lake is the one the directory lake gives
    let answer: serde_json::Value = get("/v1/metrics/active_users", "dev-analyst-key")
        .await
        .expect("metric")
        .json()
        .await
        .expect("json");
    let dir = bin()
        .args([
            "metrics",
            "--metric",
            "active_users",
            "--format",
            "json",
            "--lake",
        ])
        .arg(h.lake())
        .output()
        .expect("metrics on the directory");
    let from_dir = json_lines(&dir).into_iter().next().expect("a line");
    assert!(
        !answer["rows"].as_array().expect("rows").is_empty(),
        "{answer}"
    );
    assert_eq!(
        answer["rows"], from_dir["rows"],
        "S3 {answer} vs directory {from_dir}"
    );
    // and recommendations for a user the S3 lake knows
    let user = sim_events(80, 10, 5)
        .into_iter()
        .find_map(|e| e.envelope.user_id.clone())
        .expect("a user");
    let r = get(
        &format!("/v1/users/{user}/recommendations?k=5"),
        "dev-app-key",
    )
    .await
    .expect("recommendations");
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.expect("json");
    assert_eq!(v["known_user"], true, "{v}");
    assert!(
        models.path().join("CURRENT").exists(),
        "the versions are in the configured directory"
    );
}

/// `showrunner lake compact` on the S3 lake under `prefix` (every
/// partition closed), with a failpoint; its output.
fn compact_on_s3(s3: &LocalS3, prefix: &str, failpoint: Option<&str>) -> std::process::Output {
    let mut c = on_s3(s3, prefix);
    if let Some(fp) = failpoint {
        c.env("SHOWRUNNER_FAILPOINT", fp);
    }
    c.args(["lake", "compact", "--closed-after-days", "0"])
        .output()
        .expect("run lake compact")
}

/// Distinct partitions (key prefixes) among the keys.
fn partitions_of(keys: &[String]) -> HashSet<String> {
    keys.iter()
        .filter_map(|k| k.rsplit_once('/').map(|(p, _)| p.to_owned()))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn compaction_on_s3_through_a_crash_keeps_every_event_once() {
    let s3 = LocalS3::start().unwrap_or_else(|e| panic!("{e}"));
    let h = Harness::new();
    let (_c, js) = h.js().await;
    let events = sim_events(60, 6, 5);
    let ids = event_ids(&events);
    publish(&js, &events).await;
    // committed, the last batch unacked: its redelivery must be found in
    // the compacted objects' footers
    let out = on_s3(&s3, "compact")
        .env("SHOWRUNNER_FAILPOINT", "after-commit:12")
        .args(["ingest", "--nats", &h.url()])
        .args(["--batch-max", "300", "--batch-wait-ms", "100"])
        .args(["--ack-wait-secs", "3"])
        .output()
        .expect("run");
    assert!(!out.status.success(), "the failpoint must abort ingest");
    let store = s3.store("compact");
    let before = keys(&store).await;
    assert!(before.len() > partitions_of(&before).len(), "{before:?}");

    // a crash right after the compacted object is created…
    let out = compact_on_s3(&s3, "compact", Some("compact-after-commit"));
    assert!(!out.status.success(), "the failpoint must abort compaction");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("failpoint compact-after-commit"),
        "{stderr}"
    );
    assert!(
        keys(&store).await.len() > before.len(),
        "inputs and output side by side"
    );
    // …and the next run finishes the job first
    let out = compact_on_s3(&s3, "compact", None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(
        report["partitions_compacted"].as_u64() > Some(0),
        "{report}"
    );
    let after = keys(&store).await;
    assert_eq!(
        after.len(),
        partitions_of(&after).len(),
        "one object per partition"
    );
    assert!(
        after
            .iter()
            .any(|k| layout::is_compacted(k.rsplit('/').next().unwrap_or(k)))
    );

    let report = drain(&h, &s3, "compact", &["--batch-max", "300"]);
    assert!(
        report["duplicates"].as_u64().expect("n") > 0,
        "nothing was redelivered: {report}"
    );
    assert_exactly_once(&store, &ids).await;
}

/// `c` (`showrunner` with its environment) running `recommend train
/// --seed 7` with `flags`; its manifest.
fn train(mut c: std::process::Command, flags: &[&std::ffi::OsStr]) -> serde_json::Value {
    let out = c
        .args(["recommend", "train", "--seed", "7"])
        .args(flags)
        .output()
        .expect("run recommend train");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    json_lines(&out).into_iter().next().expect("a manifest")
}

/// The served version's weights under a models directory.
fn current_weights(models: &std::path::Path) -> Vec<u8> {
    let version = std::fs::read_to_string(models.join("CURRENT")).expect("CURRENT");
    std::fs::read(models.join(version.trim()).join("weights.f32")).expect("weights")
}

#[tokio::test(flavor = "multi_thread")]
async fn training_on_s3_learns_what_a_directory_lake_teaches() {
    let s3 = LocalS3::start().unwrap_or_else(|e| panic!("{e}"));
    let h = Harness::new();
    let (_c, js) = h.js().await;
    publish(&js, &sim_events(150, 20, 9)).await;
    // the same stream into both lakes, batched differently
    drain(&h, &s3, "train", &["--batch-max", "700"]);
    ingest_drain(
        &h.url(),
        &h.lake(),
        &["--durable", "dir", "--batch-max", "3000"],
    );

    // an object-store lake's models need a directory
    let refused = on_s3(&s3, "train")
        .args(["recommend", "train"])
        .output()
        .expect("run");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--models"));

    let models = tempfile::tempdir().expect("tmp");
    let from_s3 = train(
        on_s3(&s3, "train"),
        &["--models".as_ref(), models.path().as_os_str()],
    );
    let lake = h.lake();
    let from_dir = train(bin(), &["--lake".as_ref(), lake.as_os_str()]);
    assert!(
        from_dir["data"]["interactions"].as_u64() > Some(100),
        "{from_dir}"
    );
    for k in ["model", "params", "data", "holdout", "blend"] {
        assert_eq!(from_s3[k], from_dir[k], "{k}");
    }
    assert_eq!(
        current_weights(models.path()),
        current_weights(&h.lake().join("models")),
        "the same weights"
    );
}
