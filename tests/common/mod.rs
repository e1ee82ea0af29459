//! The end-to-end tests' harness: a real nats-server per test (on a free
//! loopback port, store in a temp dir), the `showrunner` binary and its
//! processes, and lake readers; servers, fixtures and the row comparator
//! are `showrunner-testkit`'s. A missing nats-server fails the test loudly.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use showrunner_bus::{self as nats, StreamSettings, server::LocalNatsServer};
use showrunner_events::{Event, WireEvent};
use showrunner_ingest::publish::{Outgoing, publish_all};
use showrunner_testkit::clickhouse::LocalClickHouse;
use tempfile::TempDir;

/// A running nats-server and the temp dir holding its store and a lake.
pub struct Harness {
    pub server: LocalNatsServer,
    pub dir: TempDir,
}

impl Harness {
    pub fn new() -> Harness {
        let dir = tempfile::tempdir().expect("tempdir");
        let server = LocalNatsServer::start(&dir.path().join("nats"), 0).unwrap_or_else(|e| {
            panic!("the tests need a real nats-server (apt-get install -y nats-server): {e}")
        });
        Harness { server, dir }
    }

    pub fn url(&self) -> String {
        self.server.url()
    }

    pub fn lake(&self) -> PathBuf {
        self.dir.path().join("lake")
    }

    /// A configuration file in the harness's dir holding these keys
    /// (id, role, key) as the configuration holds them — their hashes —
    /// and `extra` TOML; its path, for `SHOWRUNNER_CONFIG`.
    pub fn config_with_keys(&self, keys: &[(&str, &str, &str)], extra: &str) -> String {
        let mut text = String::new();
        for (id, role, key) in keys {
            text.push_str(&format!(
                "[[http.keys]]\nid = \"{id}\"\nroles = [\"{role}\"]\nhash = \"{}\"\n\n",
                showrunner_web::keys::hash_key(key)
            ));
        }
        text.push_str(extra);
        let path = self.dir.path().join("showrunner.toml");
        std::fs::write(&path, text).expect("config");
        path.to_str().expect("utf-8 path").to_owned()
    }

    pub async fn js(&self) -> (async_nats::Client, async_nats::jetstream::Context) {
        let client = nats::connect(&self.url(), Duration::from_secs(10))
            .await
            .expect("connect");
        let js = nats::context(client.clone(), Duration::from_secs(10), 4_096);
        nats::ensure_streams(&js, &StreamSettings::default())
            .await
            .expect("streams");
        (client, js)
    }
}

/// Simulated events (valid, deterministic): `testkit`'s audience.
pub fn sim_events(users: u32, days: u32, seed: u64) -> Vec<Event> {
    showrunner_testkit::fixtures::audience(users, days, seed)
}

/// Publishes events and waits for every ack.
pub async fn publish(js: &async_nats::jetstream::Context, events: &[Event]) {
    publish_all(js, events.iter().map(Outgoing::event), 2_048, |_| {})
        .await
        .expect("publish");
}

/// Asserts `counts` (copies per event id, as read from a lake) holds
/// every published id exactly once, and nothing else.
pub fn assert_each_once(
    counts: std::collections::HashMap<String, usize>,
    published: &std::collections::HashSet<String>,
) {
    let dupes: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).take(5).collect();
    assert!(dupes.is_empty(), "duplicated in the lake: {dupes:?}");
    let stored: std::collections::HashSet<String> = counts.into_keys().collect();
    let missing = published.difference(&stored).count();
    let extra = stored.difference(published).count();
    assert_eq!(
        (missing, extra),
        (0, 0),
        "missing {missing}, unexpected {extra}"
    );
}

/// The event ids of `events`.
pub fn event_ids(events: &[Event]) -> std::collections::HashSet<String> {
    events
        .iter()
        .map(|e| e.envelope.event_id.to_string())
        .collect()
}

/// Publishes `events` in `chunks` parts, 150 ms apart, in the background
/// (events keep arriving while workers are killed).
pub fn publish_over_time(
    js: &async_nats::jetstream::Context,
    events: &[Event],
    chunks: usize,
) -> tokio::task::JoinHandle<()> {
    let parts: Vec<Vec<Event>> = events
        .chunks(events.len() / chunks.max(1) + 1)
        .map(<[_]>::to_vec)
        .collect();
    let js = js.clone();
    tokio::spawn(async move {
        for p in parts {
            publish(&js, &p).await;
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    })
}

/// Canonical JSON of a wire event (for multiset comparisons).
pub fn canonical(w: &WireEvent) -> String {
    String::from_utf8(w.to_json()).expect("utf8")
}

/// Sorted canonical JSON of events.
pub fn canonical_events(events: &[Event]) -> Vec<String> {
    let mut v: Vec<String> = events.iter().map(|e| canonical(&e.to_wire())).collect();
    v.sort();
    v
}

/// Sorted canonical JSON of every event in the lake.
pub fn lake_canonical(lake: &Path) -> Vec<String> {
    let mut v: Vec<String> = showrunner_lake::read::read_lake(lake)
        .expect("lake reads")
        .iter()
        .map(canonical)
        .collect();
    v.sort();
    v
}

/// The `showrunner` binary built for these tests.
pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_showrunner"));
    c.env("SHOWRUNNER_LOG", "warn")
        .env_remove("SHOWRUNNER_CONFIG");
    c
}

/// Runs `showrunner ingest --drain` to completion; returns its JSON report.
pub fn ingest_drain(url: &str, lake: &Path, extra: &[&str]) -> serde_json::Value {
    let out = bin()
        .args(["ingest", "--nats", url, "--lake"])
        .arg(lake)
        .args(["--drain", "--batch-wait-ms", "100", "--ack-wait-secs", "3"])
        .args(extra)
        .output()
        .expect("run ingest");
    assert!(
        out.status.success(),
        "ingest failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // the Parquet report first (then the ClickHouse sink's, with --clickhouse)
    json_lines(&out)
        .into_iter()
        .next()
        .expect("ingest prints a JSON report")
}

/// Spawns `showrunner ingest` (not draining).
pub fn spawn_ingest(url: &str, lake: &Path, extra: &[&str]) -> Child {
    spawn_ingest_logged(url, lake, extra, Stdio::null())
}

/// [`spawn_ingest`] with its log (stderr) going to `log`.
pub fn spawn_ingest_logged(url: &str, lake: &Path, extra: &[&str], log: Stdio) -> Child {
    bin()
        .args(["ingest", "--nats", url, "--lake"])
        .arg(lake)
        .args(["--batch-wait-ms", "100", "--ack-wait-secs", "3"])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("spawn ingest")
}

/// Waits until `f` is true or panics after `secs`.
pub async fn eventually(secs: u64, what: &str, mut f: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if f().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

/// The JSON lines a successful command printed.
pub fn json_lines(out: &std::process::Output) -> Vec<serde_json::Value> {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect()
}

/// `showrunner serve` as a process on a free port (killed on drop).
pub struct Server {
    pub child: Child,
    pub base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `showrunner serve` over `url` and `lake` with these environment
/// overrides; returns once `/readyz` answers 200.
pub async fn serve_process(url: &str, lake: &Path, env: &[(&str, &str)]) -> Server {
    serve_roles(url, lake, "collector,api", env).await
}

/// `serve_process` with these `--roles` (an HTTP role among them).
pub async fn serve_roles(url: &str, lake: &Path, roles: &str, env: &[(&str, &str)]) -> Server {
    let port = nats::server::free_port().expect("port");
    let mut cmd = bin();
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = cmd
        .args([
            "serve",
            "--roles",
            roles,
            "--nats",
            url,
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--lake",
        ])
        .arg(lake)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn serve");
    let s = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    let http = reqwest::Client::new();
    eventually(30, "the server to answer", async || {
        http.get(format!("{}/readyz", s.base))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
    })
    .await;
    s
}

/// A clickhouse-server process on free loopback ports, data in a temp dir
/// (`testkit`'s, killed on drop; `stop` and `restart` keep data and
/// ports; queries over HTTP through `Deref`). A missing binary fails loudly.
pub struct ClickHouse {
    server: LocalClickHouse,
    _dir: TempDir,
}

impl ClickHouse {
    /// Starts a new server and waits until `/ping` answers.
    pub async fn start() -> ClickHouse {
        let dir = tempfile::tempdir().expect("tmp");
        let server = LocalClickHouse::start(dir.path())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        ClickHouse { server, _dir: dir }
    }

    /// Starts the (stopped) server again on its data and ports.
    pub async fn restart(&mut self) {
        self.server
            .restart()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
}

impl std::ops::Deref for ClickHouse {
    type Target = LocalClickHouse;

    fn deref(&self) -> &LocalClickHouse {
        &self.server
    }
}

impl std::ops::DerefMut for ClickHouse {
    fn deref_mut(&mut self) -> &mut LocalClickHouse {
        &mut self.server
    }
}

/// A `/metrics` text parsed by the Prometheus client library's OpenMetrics
/// parser (Python `prometheus_client`, installed by the test command; it
/// refuses any text that breaks the format): each sample as
/// `name{label="value",…}` (labels sorted; bare `name` without labels) →
/// its value.
pub fn parse_metrics(text: &str) -> std::collections::BTreeMap<String, f64> {
    use std::io::Write;
    const PARSE: &str = r#"
import json, sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
out = []
for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        out.append([s.name, s.labels, s.value])
print(json.dumps(out))
"#;
    let mut child = Command::new("python3")
        .args(["-c", PARSE])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("parser");
    assert!(
        out.status.success(),
        "the OpenMetrics parser refused /metrics (pip install prometheus-client==0.26.0): {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    let samples: Vec<(String, std::collections::BTreeMap<String, String>, f64)> =
        serde_json::from_slice(&out.stdout).expect("json");
    samples
        .into_iter()
        .map(|(name, labels, value)| {
            let key = if labels.is_empty() {
                name
            } else {
                let l: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
                format!("{name}{{{}}}", l.join(","))
            };
            (key, value)
        })
        .collect()
}

/// `GET url`'s body as text (a `/metrics` page, say).
pub async fn get_text(url: &str) -> String {
    reqwest::get(url)
        .await
        .expect("get")
        .text()
        .await
        .expect("text")
}

/// `showrunner recommend train --lake LAKE`; its manifest (last JSON line).
pub fn train(lake: &Path) -> serde_json::Value {
    let out = bin()
        .args(["recommend", "train", "--lake"])
        .arg(lake)
        .output()
        .expect("run train");
    assert!(
        out.status.success(),
        "train failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    json_lines(&out).pop().expect("manifest line")
}

/// A valid heartbeat as JSON, without id or received_at (the collector
/// assigns them): `n` ms old, at position `n`.
pub fn fresh_heartbeat(n: usize) -> serde_json::Value {
    let mut e = showrunner_events::examples::examples()
        .into_iter()
        .find(|e| e.event_type() == "heartbeat")
        .expect("example");
    e.envelope.occurred_at = showrunner_events::Timestamp::now().plus_ms(-(n as i64));
    let mut v = serde_json::to_value(&e).expect("json");
    let o = v.as_object_mut().expect("object");
    o.remove("event_id");
    o.remove("received_at");
    o.insert("position_ms".into(), serde_json::json!(n));
    v
}

/// Where a test leaves what a person looks at afterwards (screenshots,
/// executed notebooks): `artefacts/<kind>` in the clone, or under
/// `$SHOWRUNNER_ARTEFACTS`.
pub fn artefacts(kind: &str) -> PathBuf {
    std::env::var_os("SHOWRUNNER_ARTEFACTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("artefacts"))
        .join(kind)
}
