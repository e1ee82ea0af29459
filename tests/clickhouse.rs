//! `showrunner clickhouse migrate` against a real clickhouse-server
//! (Debian's 18.16 in CI): creation, idempotence, upgrade of an older
//! schema, and refusal of a newer one.

mod common;

use common::*;
use serde_json::Value;
use showrunner_events::Family;

fn migrate(ch: &ClickHouse, db: &str) -> (bool, Value, String) {
    let out = bin()
        .args([
            "clickhouse",
            "migrate",
            "--clickhouse",
            &ch.url(),
            "--database",
            db,
        ])
        .output()
        .expect("run migrate");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let ok = out.status.success();
    let report = if ok {
        json_lines(&out).pop().unwrap_or(Value::Null)
    } else {
        Value::Null
    };
    (ok, report, stderr)
}

async fn schema(ch: &ClickHouse, db: &str) -> String {
    let cols = ch
        .query(&format!(
            "SELECT table, name, type FROM system.columns WHERE database = '{db}' \
             ORDER BY table, name FORMAT TSV"
        ))
        .await;
    let engines = ch
        .query(&format!(
            "SELECT name, engine_full FROM system.tables WHERE database = '{db}' ORDER BY name FORMAT TSV"
        ))
        .await;
    format!("{cols}\n{engines}")
}

#[tokio::test(flavor = "multi_thread")]
async fn migrate_creates_is_idempotent_and_upgrades() {
    let ch = ClickHouse::start().await;
    let (ok, first, err) = migrate(&ch, "sr");
    assert!(ok, "{err}");
    assert_eq!(first["from_version"], 0);
    assert_eq!(first["version"], 1);
    // 18.16 takes LowCardinality only as an experimental setting: plain
    // strings (a current server gets LowCardinality columns)
    assert_eq!(first["low_cardinality"], false);
    assert_eq!(first["modified_columns"], Value::Array(vec![]));
    let created: Vec<&str> = first["created"]
        .as_array()
        .expect("created")
        .iter()
        .map(|v| v.as_str().expect("name"))
        .collect();
    assert_eq!(
        created,
        [
            "player",
            "watch",
            "billing",
            "catalog",
            "user",
            "notification",
            "campaign"
        ]
    );
    let engine = ch
        .query("SELECT engine_full FROM system.tables WHERE database = 'sr' AND name = 'player' FORMAT TSV")
        .await;
    assert!(engine.starts_with("ReplacingMergeTree"), "{engine}");
    assert!(
        engine.contains("ORDER BY (event_type, occurred_at, event_id)"),
        "{engine}"
    );
    // every lake column of every family is a column of its table
    for family in showrunner_events::Family::ALL {
        let cols = ch
            .query(&format!(
                "SELECT name FROM system.columns WHERE database = 'sr' AND table = '{}' FORMAT TSV",
                family.as_str()
            ))
            .await;
        let cols: Vec<&str> = cols.lines().collect();
        for f in showrunner_events::arrow::columns(*family) {
            assert!(cols.contains(&f.name()), "{family:?} lacks {}", f.name());
        }
    }
    let before = schema(&ch, "sr").await;

    // again: nothing to do, the same schema, one version row
    let (ok, again, err) = migrate(&ch, "sr");
    assert!(ok, "{err}");
    assert_eq!(again["from_version"], 1);
    assert_eq!(again["created"], Value::Array(vec![]));
    assert_eq!(again["added_columns"], Value::Array(vec![]));
    assert_eq!(schema(&ch, "sr").await, before);
    let versions = ch
        .query("SELECT version FROM sr.showrunner_schema_versions FORMAT TSV")
        .await;
    assert_eq!(versions.trim(), "1");

    // an older schema (a table without columns the contract has since
    // gained) is upgraded in place, keeping its rows
    ch.query("ALTER TABLE sr.player DROP COLUMN cdn").await;
    ch.query("ALTER TABLE sr.watch DROP COLUMN duration_ms")
        .await;
    ch.query(
        "INSERT INTO sr.watch (event_id, event_type, schema_version, occurred_at, received_at) \
         VALUES ('e1', 'progress', 1, 1767225600000, 1767225600000)",
    )
    .await;
    let (ok, up, err) = migrate(&ch, "sr");
    assert!(ok, "{err}");
    let mut added: Vec<&str> = up["added_columns"]
        .as_array()
        .expect("added")
        .iter()
        .map(|v| v.as_str().expect("col"))
        .collect();
    added.sort();
    assert_eq!(added, ["player.cdn", "watch.duration_ms"]);
    assert_eq!(
        ch.query("SELECT count(), any(duration_ms) FROM sr.watch FORMAT TSV")
            .await
            .trim(),
        "1\t\\N"
    );
    // every column and type is back (the re-added ones at the end)
    assert_eq!(schema(&ch, "sr").await, before);

    // a database from a newer build is refused
    ch.query(
        "INSERT INTO sr.showrunner_schema_versions (version, description) VALUES (99, 'future')",
    )
    .await;
    let (ok, _, err) = migrate(&ch, "sr");
    assert!(!ok);
    assert!(err.contains("schema version 99"), "{err}");
}

/// Distinct event ids per family table, and rows (empty while the tables
/// do not exist).
async fn counts(ch: &ClickHouse, db: &str) -> Vec<(String, u64, u64)> {
    let mut out = Vec::new();
    for family in showrunner_events::Family::ALL {
        let t = family.as_str();
        let Ok(r) = ch
            .try_query(&format!(
                "SELECT uniqExact(event_id), count() FROM `{db}`.`{t}` FORMAT TSV"
            ))
            .await
        else {
            return Vec::new();
        };
        let mut it = r
            .trim()
            .split('\t')
            .map(|x| x.parse::<u64>().expect("count"));
        out.push((t.to_owned(), it.next().expect("u"), it.next().expect("n")));
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sink_catches_up_after_an_outage_and_stores_each_event_once() {
    let h = Harness::new();
    // no `clickhouse migrate`: the sink creates the schema it needs (in
    // the default database, config `clickhouse.database`)
    let mut ch = ClickHouse::start().await;
    let (_client, js) = h.js().await;
    let events = sim_events(60, 6, 3);
    let mut per_family: std::collections::BTreeMap<&str, u64> = Default::default();
    for e in &events {
        *per_family.entry(e.family().as_str()).or_default() += 1;
    }
    let progress_sum: i64 = events
        .iter()
        .filter_map(|e| match &e.payload {
            showrunner_events::Payload::Watch(showrunner_events::types::WatchEvent::Progress(
                p,
            )) => Some(p.position_ms),
            _ => None,
        })
        .sum();

    // ClickHouse is down: the Parquet ingest goes on regardless; three
    // bad messages in the middle of the stream poison nothing: not JSON, a
    // negative value, and a valid event with an oversize value (70 KB, over
    // the 64 KiB event limit)
    ch.stop();
    let (first, rest) = events.split_at(events.len() / 2);
    publish(&js, first).await;
    // (a play request: it carries the viewer's `isp`)
    let request = events
        .iter()
        .find(|e| e.family() == Family::Player && e.event_type() == "play_requested")
        .expect("a play request");
    let mut oversize: serde_json::Value =
        serde_json::from_slice(&request.to_wire().to_json()).expect("json");
    oversize["event_id"] = serde_json::json!(uuid::Uuid::now_v7().to_string());
    oversize["isp"] = serde_json::json!("x".repeat(70_000));
    let oversize = serde_json::to_vec(&oversize).expect("json");
    // (the same play request at its normal size is valid: only the size
    // refuses it)
    let mut normal: serde_json::Value =
        serde_json::from_slice(&request.to_wire().to_json()).expect("json");
    normal["isp"] = serde_json::json!("x".repeat(100));
    showrunner_events::WireEvent::from_json(&serde_json::to_vec(&normal).expect("json"))
        .ok()
        .and_then(|w| showrunner_events::Validator::default().check(&w).ok())
        .expect("a valid play request");
    for (subject, bad) in [
        ("events.player.heartbeat", &b"{not json"[..]),
        (
            "events.player.heartbeat",
            br#"{"event_type":"heartbeat","position_ms":-5}"#,
        ),
        ("events.player.play_requested", &oversize),
    ] {
        js.publish(subject, bad.to_vec().into())
            .await
            .expect("publish")
            .await
            .expect("ack");
    }
    publish(&js, rest).await;
    // killed on drop too, so a failing assertion leaves no process behind;
    // the worker reports its own figures on --metrics-bind
    let metrics_bind = format!(
        "127.0.0.1:{}",
        showrunner_bus::server::free_port().expect("port")
    );
    let mut ingest = Server {
        base: format!("http://{metrics_bind}"),
        child: spawn_ingest(
            &h.url(),
            &h.lake(),
            &[
                "--clickhouse",
                &ch.url(),
                "--batch-max",
                "5000",
                "--metrics-bind",
                &metrics_bind,
            ],
        ),
    };
    eventually(120, "the lake to hold every event", async || {
        lake_canonical(&h.lake()).len() == events.len()
    })
    .await;
    // messages in a stream
    let stored = async |name: &str| {
        js.get_stream(name)
            .await
            .expect("stream")
            .info()
            .await
            .expect("info")
            .state
            .messages
    };
    // the three bad messages went to the dead letters
    eventually(30, "three dead letters", async || {
        stored("DEADLETTER").await == 3
    })
    .await;

    // the sink's lag shows on its worker's /metrics
    let lag = async || -> f64 {
        let m = reqwest::get(format!("{}/metrics", ingest.base))
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text");
        m.lines()
            .find_map(|l| l.strip_prefix("showrunner_clickhouse_lag_messages "))
            .map_or(-1.0, |v| v.parse().expect("number"))
    };
    let in_stream = stored("EVENTS").await;
    assert_eq!(in_stream, events.len() as u64 + 3);
    assert_eq!(
        lag().await,
        in_stream as f64,
        "the whole stream is pending for ClickHouse while it is down"
    );

    // back up: the sink catches up from its own durable consumer
    ch.restart().await;
    let want: Vec<(String, u64)> = showrunner_events::Family::ALL
        .iter()
        .map(|f| {
            (
                f.as_str().to_owned(),
                per_family.get(f.as_str()).copied().unwrap_or(0),
            )
        })
        .collect();
    let mut last = Vec::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while last != want {
        assert!(
            std::time::Instant::now() < deadline,
            "ClickHouse holds {last:?}, want {want:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        last = counts(&ch, "showrunner")
            .await
            .into_iter()
            .map(|(t, u, _)| (t, u))
            .collect();
    }
    eventually(30, "the lag to drop to 0", async || lag().await == 0.0).await;
    let _ = ingest.child.kill();
    let _ = ingest.child.wait();
    // each event once after merges (redelivered copies collapse)
    for f in showrunner_events::Family::ALL {
        ch.query(&format!("OPTIMIZE TABLE showrunner.`{}` FINAL", f.as_str()))
            .await;
    }
    for (t, u, n) in counts(&ch, "showrunner").await {
        assert_eq!(u, n, "{t}: {n} rows for {u} events");
    }
    // values arrive intact
    let sum = ch
        .query("SELECT sum(position_ms) FROM showrunner.watch WHERE event_type = 'progress' FORMAT TSV")
        .await;
    assert_eq!(sum.trim().parse::<i64>().expect("sum"), progress_sum);
}

#[tokio::test(flavor = "multi_thread")]
async fn standalone_feeds_clickhouse_when_enabled() {
    let ch = ClickHouse::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let out = bin()
        .env("SHOWRUNNER_CLICKHOUSE_ENABLED", "true")
        .env("SHOWRUNNER_CLICKHOUSE_URL", ch.url())
        .env("SHOWRUNNER_CLICKHOUSE_DATABASE", "sa")
        .args(["standalone", "--data"])
        .arg(&data)
        .args([
            "--port",
            "0",
            "--users",
            "60",
            "--days",
            "20",
            "--exit-when-ingested",
        ])
        .output()
        .expect("standalone");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("clickhouse  http://127.0.0.1:"), "{stderr}");
    // every event of the lake reached ClickHouse, once
    let lake = data.join("lake");
    let in_lake = lake_canonical(&lake).len() as u64;
    let in_ch: u64 = counts(&ch, "sa").await.iter().map(|(_, u, _)| u).sum();
    assert!(in_lake > 1_000, "{in_lake}");
    assert_eq!(in_ch, in_lake);
    // and both engines answer alike over them
    let metric = |engine: &[&str]| {
        let out = bin()
            .args(["metrics", "--format", "json", "--metric", "watch_hours"])
            .args(["--metric", "mrr", "--lake"])
            .arg(&lake)
            .args(engine)
            .output()
            .expect("metrics");
        json_lines(&out)
    };
    let url = ch.url();
    let on_ch = metric(&[
        "--engine",
        "clickhouse",
        "--clickhouse",
        &url,
        "--database",
        "sa",
    ]);
    let on_lake = metric(&[]);
    assert_eq!(on_ch.len(), 2);
    for (a, b) in on_lake.iter().zip(&on_ch) {
        assert_eq!(a["columns"], b["columns"]);
        let (ra, rb) = (
            a["rows"].as_array().expect("rows"),
            b["rows"].as_array().expect("rows"),
        );
        assert!(!ra.is_empty(), "{a}");
        assert_eq!(ra.len(), rb.len(), "{a} vs {b}");
        for (x, y) in ra.iter().zip(rb) {
            for (p, q) in x
                .as_array()
                .expect("row")
                .iter()
                .zip(y.as_array().expect("row"))
            {
                match (p.as_f64(), q.as_f64()) {
                    (Some(p), Some(q)) => {
                        assert!((p - q).abs() <= 1e-9 * p.abs().max(q.abs()), "{x} vs {y}")
                    }
                    _ => assert_eq!(p, q),
                }
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_event_clickhouse_refuses_is_dead_lettered_and_the_rest_inserted() {
    let h = Harness::new();
    let ch = ClickHouse::start().await;
    let (_client, js) = h.js().await;
    let out = bin()
        .args(["clickhouse", "migrate", "--clickhouse", &ch.url()])
        .output()
        .expect("migrate");
    assert!(out.status.success());
    // the server refuses any insert holding a player event from ISP `poison`
    ch.query(
        "ALTER TABLE showrunner.player ADD COLUMN _guard UInt8 \
         MATERIALIZED throwIf(ifNull(isp, '') = 'poison')",
    )
    .await;
    let events = sim_events(40, 3, 9);
    let players = events
        .iter()
        .filter(|e| e.family() == showrunner_events::Family::Player)
        .count() as u64;
    // (a play request: it carries the viewer's `isp`)
    let request = events
        .iter()
        .find(|e| e.family() == Family::Player && e.event_type() == "play_requested")
        .expect("a play request");
    let mut poison: serde_json::Value =
        serde_json::from_slice(&request.to_wire().to_json()).expect("json");
    let poison_id = uuid::Uuid::now_v7().to_string();
    poison["event_id"] = serde_json::json!(poison_id);
    poison["isp"] = serde_json::json!("poison");
    let (first, rest) = events.split_at(events.len() / 2);
    publish(&js, first).await;
    js.publish(
        "events.player.play_requested",
        serde_json::to_vec(&poison).expect("json").into(),
    )
    .await
    .expect("publish")
    .await
    .expect("ack");
    publish(&js, rest).await;

    let out = bin()
        .args(["ingest", "--nats", &h.url(), "--lake"])
        .arg(h.lake())
        .args(["--drain", "--clickhouse", &ch.url()])
        .output()
        .expect("ingest");
    let reports = json_lines(&out);
    assert_eq!(reports[1]["clickhouse"]["rejected"], 1, "{reports:?}");
    // the lake has every event, the refused one included
    assert_eq!(lake_canonical(&h.lake()).len(), events.len() + 1);
    // ClickHouse every player event but that one, in the same batch
    let got = ch
        .query(
            "SELECT uniqExact(event_id), countIf(isp = 'poison') FROM showrunner.player FORMAT TSV",
        )
        .await;
    assert_eq!(got.trim(), format!("{players}\t0"));

    // the refused event is a dead letter of the ClickHouse sink, with the
    // server's reason and the original payload
    let out = bin()
        .args(["deadletter", "list", "--nats", &h.url()])
        .output()
        .expect("list");
    assert!(out.status.success(), "{out:?}");
    let letters = json_lines(&out);
    assert_eq!(letters.len(), 1, "{letters:?}");
    let l = &letters[0];
    assert_eq!(l["sink"], "clickhouse", "{l}");
    assert_eq!(l["source_subject"], "events.player.play_requested");
    assert_eq!(l["payload"]["event_id"], poison_id.as_str());
    let reason = l["reason"].as_str().expect("reason");
    assert!(
        reason.starts_with("clickhouse refused the row:") && reason.contains("throwIf"),
        "{reason}"
    );

    // without a ClickHouse server, replay keeps it (it is never re-published:
    // the lake has it)
    let replay = |extra: &[&str]| {
        let mut c = bin();
        c.args(["deadletter", "replay", "--nats", &h.url()])
            .args(extra)
            .env_remove("SHOWRUNNER_CLICKHOUSE_ENABLED");
        json_lines(&c.output().expect("replay"))
    };
    assert_eq!(replay(&[])[0]["status"], "needs_clickhouse");
    // still refused while the guard is there; reinserted once it is gone
    let url = ch.url();
    assert_eq!(
        replay(&["--clickhouse", &url])[0]["status"],
        "still_refused"
    );
    ch.query("ALTER TABLE showrunner.player DROP COLUMN _guard")
        .await;
    assert_eq!(replay(&["--clickhouse", &url])[0]["status"], "reinserted");
    let got = ch
        .query(
            "SELECT uniqExact(event_id), countIf(isp = 'poison') FROM showrunner.player FORMAT TSV",
        )
        .await;
    assert_eq!(got.trim(), format!("{}\t1", players + 1));
    let out = bin()
        .args(["deadletter", "list", "--nats", &h.url()])
        .output()
        .expect("list");
    assert!(
        json_lines(&out).is_empty(),
        "the letter is deleted once reinserted"
    );
    // the event stream got nothing new: the lake still holds it once
    let (_c, js) = h.js().await;
    let mut stream = js.get_stream("EVENTS").await.expect("stream");
    let info = stream.info().await.expect("info");
    assert_eq!(info.state.messages as usize, events.len() + 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn ingest_flags_choose_the_clickhouse_database_and_credentials() {
    let h = Harness::new();
    let ch = ClickHouse::start().await;
    let (_client, js) = h.js().await;
    let events = sim_events(10, 2, 4);
    publish(&js, &events).await;
    let out = bin()
        .args(["ingest", "--nats", &h.url(), "--lake"])
        .arg(h.lake())
        .args(["--drain", "--clickhouse", &ch.url()])
        .args(["--clickhouse-database", "elsewhere"])
        .args(["--clickhouse-user", "default", "--clickhouse-password", ""])
        .output()
        .expect("ingest");
    let reports = json_lines(&out);
    assert_eq!(
        reports[1]["clickhouse"]["inserted"],
        events.len(),
        "{reports:?}"
    );
    // the sink created the schema in that database, and only there
    let got = ch
        .query(
            "SELECT sum(n) FROM (SELECT uniqExact(event_id) AS n FROM elsewhere.player \
             UNION ALL SELECT uniqExact(event_id) AS n FROM elsewhere.watch \
             UNION ALL SELECT uniqExact(event_id) AS n FROM elsewhere.billing \
             UNION ALL SELECT uniqExact(event_id) AS n FROM elsewhere.catalog \
             UNION ALL SELECT uniqExact(event_id) AS n FROM elsewhere.user \
             UNION ALL SELECT uniqExact(event_id) AS n FROM elsewhere.notification) FORMAT TSV",
        )
        .await;
    assert_eq!(got.trim(), events.len().to_string());
    let dbs = ch
        .query("SELECT count() FROM system.databases WHERE name = 'showrunner' FORMAT TSV")
        .await;
    assert_eq!(dbs.trim(), "0");

    // the password flag reaches the server: a wrong one inserts nothing,
    // and, being no refusal of the rows, dead-letters nothing either (the
    // sink retries until stopped)
    let more = sim_events(5, 1, 9);
    publish(&js, &more).await;
    let url = ch.url();
    let flags = [
        "--clickhouse",
        &url,
        "--clickhouse-database",
        "elsewhere",
        "--clickhouse-password",
        "wrong",
    ];
    let mut wrong = spawn_ingest_logged(&h.url(), &h.lake(), &flags, std::process::Stdio::piped());
    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    wrong.kill().expect("kill");
    let out = wrong.wait_with_output().expect("wait");
    let log = String::from_utf8_lossy(&out.stderr).to_lowercase();
    assert!(
        log.contains("password") && log.contains("retrying"),
        "{log}"
    );
    let after = ch
        .query("SELECT count() FROM elsewhere.player FORMAT TSV")
        .await;
    let before = events
        .iter()
        .filter(|e| e.family() == showrunner_events::Family::Player)
        .count();
    assert_eq!(after.trim(), before.to_string());
    let letters = bin()
        .args(["deadletter", "list", "--nats", &h.url()])
        .output()
        .expect("list");
    assert!(json_lines(&letters).is_empty(), "nothing dead-lettered");
}
